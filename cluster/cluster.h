/* cluster.h - one run of raft_kv: spawn the nodes, elect a leader, run the clients, wait until
 * every node has applied the leader's commit index, check the outcome, report.
 *
 * Used by main and by the integration tests, so that what the tests check is what people run.
 */
#ifndef RAFT_KV_CLUSTER_CLUSTER_H
#define RAFT_KV_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "actors/client_actor.h"
#include "config/config.h"
#include "actors/monitor.h"
#include "actors/node.h"
#include "runtime/directory.h"
#include "runtime/netem.h"

/* Results of the client requests, by operation and outcome. */
struct cluster_counts {
    uint64_t requests, ok, fail, info;
    uint64_t put_ok, put_exists, get_found, get_not_found, delete_ok, delete_not_found;
    uint64_t reads[KV_READ_POLICIES]; /* ok gets by how they were read */
    uint64_t attempts, retries, redirects;
};

struct cluster_report {
    uint32_t n_nodes;
    struct node_status *nodes; /* nodes[i] is node i+1, as it was at the end */
    uint32_t leader;           /* the leader at the end (0 if none) */
    uint64_t leader_term;
    uint64_t commit_index;    /* the leader's commit index at the end */
    uint64_t first_leader_us; /* when the first leader was known, since the start */
    bool elected;             /* a first leader was known (else the run ended without one) */
    bool all_applied;         /* every node applied up to commit_index in time */
    bool stores_identical;    /* every node's store digest is the same */
    bool results_consistent;  /* client results agree with a replay of the committed log */
    uint64_t replayed;        /* committed client commands replayed for that check */
    struct cluster_counts counts;
    uint64_t faults;          /* faults injected */
    uint64_t elections;       /* elections started, over every node incarnation */
    uint64_t msgs_dropped;    /* by the emulated network (or sent to a node that was down) */
    uint64_t msgs_duplicated; /* by the emulated network */
    bool invariants_checked;  /* the monitor ran (and log matching was checked at the end) */
    bool invariant_violated;  /* problem names the first violation */
    bool linearizability_checked;
    int lin_verdict;            /* enum check_verdict, when checked */
    char *lin_text;             /* the checker's report (heap), NULL if not checked */
    uint64_t invariant_reports; /* reports the monitor checked */
    double elapsed_s;
    char problem[512];  /* the first safety problem (a check found the data wrong), or empty */
    char liveness[512]; /* the first liveness problem (a bound ran out: no leader, nodes not
                           caught up, clients not done), or empty */
    const char *liveness_what; /* with liveness: "no leader", "not converged" or "clients not
                                  done" (a static string) */
    int interrupted;           /* the signal that stopped the run early (SIGINT, SIGTERM), or 0 */
    /* Disk storage: where, and what the first start of each node recovered from its files
     * (recovered[i] for node i+1; resumed: some node had state from an earlier run). */
    const char *data_dir;
    struct storage_report *recovered;
    bool resumed;
    bool fsync;
    uint64_t persist_writes, persist_syncs;        /* over every node incarnation */
    uint64_t snapshots_taken, snapshots_installed; /* likewise */
};

/* A run's verdict, most serious first: a safety problem outweighs a liveness one, which
 * outweighs an interruption (what ran before it is still checked). */
enum cluster_verdict {
    CLUSTER_CONSISTENT = 0, /* every check passed and every bound was met */
    CLUSTER_UNSAFE,         /* a safety check failed: problem says which */
    CLUSTER_NOT_LIVE,       /* no safety problem, but a liveness bound ran out: liveness says */
    CLUSTER_INTERRUPTED,    /* stopped by a signal; no problem found in what ran */
};

/* Exit statuses of a run (README, --help): 0 consistent, 1 unsafe (or a bad configuration), 4
 * not live, 128 + the signal when interrupted. */
enum { CLUSTER_EXIT_NOT_LIVE = 4 };

/* The running nodes of one cluster (what a run or a benchmark builds on). Only the thread
 * that started it changes it (crash, restart, heal). */
struct cluster {
    const struct cfg *cfg;    /* borrowed */
    uint64_t epoch_ns;        /* the run's time zero */
    struct raft_disk *disks;  /* disks[i] is node i+1's persistent state; outlives the nodes */
    struct actor **nodes;     /* nodes[i] is node i+1, NULL while it is down */
    uint32_t n_nodes;         /* cfg->num_nodes */
    uint32_t *incarnations;   /* times node i+1 was started */
    struct node_status *kept; /* counters of node i+1's earlier incarnations */
    struct actor_dir *dir;    /* what nodes and clients read to find a node */
    struct netem *net;        /* NULL when the network is perfect and no fault is planned */
    struct actor *monitor;    /* the invariant monitor, NULL when [check] invariants is off */
    struct monitor_status monitor_status; /* its findings, taken by cluster_stop */
    /* Disk storage ([storage] kind = "disk"): node i+1's directory, and what its last start
     * recovered from it; NULL with memory storage. */
    char **node_dirs;
    struct storage_report *recovered;
    struct storage_report *first_recovered; /* what each node's first start recovered */
    uint32_t leader;                        /* the first leader */
    uint64_t leader_term;
    uint64_t first_leader_us; /* when it was known, since epoch_ns */
};

/* Starts cfg->num_nodes nodes, asks node 1 to campaign and waits (bounded) until a leader is
 * known. 0, or -1 with err filled and everything started stopped again. */
int cluster_start(struct cluster *c, const struct cfg *cfg, char *err, size_t err_len);
/* The leader with the highest term among the nodes' own views, or 0; *st is its status. */
uint32_t cluster_find_leader(struct cluster *c, struct node_status *st);
/* cluster_find_leader, retried for up to bound_ms. */
uint32_t cluster_await_leader(struct cluster *c, uint32_t bound_ms, struct node_status *st);
/* Crashes node (1..n): its thread stops and its volatile state is lost; its disk stays.
 * -1 if it is already down. */
int cluster_crash(struct cluster *c, uint32_t node);
/* Restarts a crashed node from its disk, as a follower. -1 with err if it is not down or cannot
 * start. */
int cluster_restart(struct cluster *c, uint32_t node, char *err, size_t err_len);
uint32_t cluster_nodes_down(const struct cluster *c);
/* Restarts every crashed node and makes the network perfect. */
int cluster_heal(struct cluster *c, char *err, size_t err_len);
/* Stops and joins the nodes, then the monitor (keeping its findings in monitor_status); their
 * disks stay readable until cluster_close. */
void cluster_stop(struct cluster *c);
void cluster_close(struct cluster *c);

/* Runs the configured cluster to completion (the trace goes wherever trace_open sent it).
 * Returns 0 and fills *rep (release with cluster_report_close) when the run could be carried
 * out, whatever its verdict (no leader elected is a liveness verdict, not an error); -1 with err
 * filled when it could not (a thread could not start, the history file could not be made).
 * Polls signal_watch_caught (runtime/signals.h): after SIGINT or SIGTERM the clients end their
 * requests in flight as info, faults stop, nothing is healed, and what ran is checked. */
int cluster_run(const struct cfg *cfg, struct cluster_report *rep, char *err, size_t err_len);

enum cluster_verdict cluster_verdict(const struct cluster_report *rep);
/* True if every check of the run passed (cluster_verdict is CLUSTER_CONSISTENT). */
bool cluster_consistent(const struct cluster_report *rep);
/* What the verdict names: the safety problem if there is one, else the liveness problem, else
 * "" (points into rep). */
const char *cluster_report_problem(const struct cluster_report *rep);
/* The process exit status for the verdict (see CLUSTER_EXIT_NOT_LIVE). */
int cluster_exit_status(const struct cluster_report *rep);

/* The end-of-run summary: per node role, term, log, commit, applied and digest; whether the
 * stores are identical; the client results; the verdict. */
void cluster_report_print(FILE *out, const struct cluster_report *rep);

void cluster_report_close(struct cluster_report *rep);

#endif
