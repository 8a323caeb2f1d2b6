/* internal.h - the simulator's state, shared by its files (world.c: nodes, clients, network;
 * faults.c: schedule and nemesis; run.c: phases, checks and report). Private to sim/.
 */
#ifndef RAFT_KV_SIM_INTERNAL_H
#define RAFT_KV_SIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "client/client.h"
#include "config/config.h"
#include "kv/kv.h"
#include "raft/invariants.h"
#include "actors/node.h"
#include "raft/raft.h"
#include "host/host.h"
#include "host/network.h"
#include "replica/replica.h"
#include "runtime/history.h"
#include "runtime/netem.h"
#include "scenario/scenario.h"
#include "sim/queue.h"
#include "sim/sim.h"
#include "sim/simfs.h"
#include "storage/storage.h"

/* Seed streams: the run's own are scenario/params.h's (shared with the threaded run); the
 * simulator's own draws (same-time order, client link delays) use streams the threaded run
 * does not have. */
/* Faults recorded per run (beyond it sim_shrink cannot replay the run). */
#define SIM_INJECTED_MAX (1u << 20)

enum {
    SIM_QUEUE_STREAM = 1u << 24,
    SIM_CLIENT_NET_STREAM = 1u << 25,
    SIM_DISK_STREAM = 1u << 27, /* + node id: each disk's write times */
};

struct sim_node {
    uint32_t id;
    char name[24]; /* "node 3": the trace's actor */
    bool up;
    uint32_t incarnations;       /* times started */
    struct host_trace_memo memo; /* the state last traced (host_step) */
    struct replica rep;          /* valid while up: the core, the store, the waiting clients */
    struct replica_output out;
    struct host_network net; /* the emulated network in front of the event queue */
    uint64_t *link_last_ms;  /* per destination: the latest delivery time queued ... */
    uint64_t *link_tie;      /* ... and its tie, so same-ms deliveries keep their order */
    uint64_t wake_gen;       /* only the TICK carrying this generation counts */
    /* The disk: a simulated directory (sim/simfs.h) that survives crashes, written through the
     * file storage (storage/) while the node is up. Writes are synced ([disk] write_ms) after
     * they are made, every write so far by one sync (group commit). */
    struct simfs *fs;
    struct storage st;                /* open while up */
    uint64_t written_seq, synced_seq; /* persist requests written, and synced */
    bool sync_armed;                  /* a DISK_DONE is queued */
    bool failed;                      /* a write or sync failed: the node stops, then restarts */
    bool refused;                     /* its disk is damaged: it refused to start, for good */
    bool joined;  /* an addition of it was accepted (it was a member at some time) */
    bool retired; /* removed and stopped (sim_retire_removed) until it is added again */
    char refused_why[512];
    /* What the disk must give back at a restart: the model (sim->disks) entries up to
     * durable_last, and at least this term and vote (checked at every start). */
    uint64_t durable_last, durable_term;
    uint32_t durable_vote;
    struct prng disk_rng;
    uint64_t wake_ms;
    bool wake_armed;
    /* chain[i]: raft_chain_hash of the node's log up to index i (chain[0] = 0), kept as the log
     * is written; like the disk, it survives crashes. */
    uint64_t *chain;
    uint64_t cap_chain;
    struct node_status stats; /* counters over every incarnation */
};

struct sim_client {
    uint32_t id;
    char name[24];
    struct client logic; /* initialised when the first leader is known */
    bool started, done;
    struct prng net_rng; /* delays of this client's requests and replies */
    uint64_t token;      /* the current attempt */
    bool awaiting;       /* a SEND is out: the REPLY or TIMEOUT carrying token answers it */
    uint32_t node;       /* where it went */
};

struct sim {
    const struct cfg *cfg;
    struct sim_options opt;
    uint64_t now_ms;
    /* The stamp of the trace and the history: virtual nanoseconds, strictly increasing.
     * Scheduling keeps whole milliseconds (now_ms); each event, and each history line, takes
     * the next stamp (sim_next_stamp), so real-time order survives within one millisecond.
     * Invariant: stamp_ns >= now_ms * 1000000 while an event is handled. */
    uint64_t stamp_ns;
    struct sim_queue q;
    uint32_t n_nodes;
    struct sim_node *nodes;     /* nodes[i] is node i+1; ids num_nodes+1.. join when added */
    struct raft_config initial; /* voters 1..num_nodes */
    uint32_t retire_watch;      /* removals accepted: sim_retire_removed has work to look at */
    /* disks[i]: the model of node i+1's disk, every persist request applied as it is written
     * (what log matching and the results check read); replaced at each start by what the
     * storage loaded, after checking that it lost nothing durable. */
    struct raft_disk *disks;
    uint32_t n_clients;
    struct sim_client *clients;
    uint32_t clients_done;
    struct netem *net;
    struct history *history; /* borrowed; NULL: no history */
    /* Invariants, fed on every step. */
    bool check_invariants;
    struct raft_invariants inv;
    uint64_t inv_reports;
    bool violated;
    char violation[512];
    struct raft_term_run *runs; /* scratch for term runs */
    size_t cap_runs;
    /* Faults (faults.c): what happens and when is the scenario's; this host carries it out. */
    struct scenario scenario;
    struct scenario_host fault_host;
    bool fault_event_armed;
    /* Every fault applied (schedule, nemesis, test), stamped with its time: a failing run's
     * schedule, for sim_shrink. */
    struct cfg_fault *injected;
    size_t n_injected, cap_injected;
    /* Progress. */
    uint32_t pending_first_leader; /* a step just made this node the first leader */
    uint32_t first_leader;
    uint64_t first_leader_ms;
    uint64_t request_deadline_ms;
    uint64_t events;
    uint64_t max_events; /* opt.max_events, or SIM_MAX_EVENTS */
    uint64_t delivered;
    uint64_t entries_delivered; /* log entries carried by delivered AppendEntries */
    uint64_t appends_rejected;  /* AppendEntries replies with success = false delivered */
};

/* world.c */
/* Pops and handles the next event; false if the queue is empty. */
bool sim_step(struct sim *s);
/* Moves the stamp on: to max(now_ms * 1000000, stamp_ns + 1). Called as each event begins
 * (queued or not: a test's fault, the final heal) and before each history line. */
void sim_next_stamp(struct sim *s);
void sim_node_start(struct sim *s, uint32_t id);
void sim_node_crash(struct sim *s, uint32_t id);
/* Membership (issue 16): asks the leader to add or remove node, or to hand it leadership
 * (kind CFG_FAULT_ADD, _REMOVE, _TRANSFER). 0 if it accepted; -1 with err filled. A retired
 * node that is added again is started first. */
int sim_membership(struct sim *s, enum cfg_fault_kind kind, uint32_t node, char *err,
                   size_t err_len);
/* The configuration as the leader has it (the latest); without a leader, the initial one. */
const struct raft_config *sim_config(const struct sim *s);
/* Stops every up node that the leader's committed configuration no longer holds, as an
 * operator retires a removed machine; only where removed servers could disrupt the others
 * (neither pre-vote nor check-quorum on, thesis 4.2.3). */
void sim_retire_removed(struct sim *s);

void sim_attach_history(struct sim *s, struct history *h);

/* faults.c */
/* After s->net exists. */
void sim_faults_init(struct sim *s);
void sim_faults_close(struct sim *s);
/* The schedule and the nemesis begin (when the first leader is known, as in a threaded run). */
void sim_faults_start(struct sim *s);
/* SIM_EV_FAULT: applies what is due, arms the next. */
void sim_faults_run_due(struct sim *s);
/* Restarts every crashed node and makes the network perfect. */
void sim_faults_heal_all(struct sim *s);

/* Seconds on a monotonic wall clock: for reports of speed only, never for a verdict. */
double sim_wall_now_s(void);

#endif
