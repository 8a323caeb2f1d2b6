/* sim.h - the deterministic simulator (issue 6): runs a configuration's nodes, clients, network,
 * faults and nemesis in one thread on a virtual clock, driving the very same pure cores as the
 * threaded program (raft_step, client_step, kv_store_apply, netem_decide).
 *
 * Design (after FoundationDB's simulation and TigerBeetle's VOPR): every happening is an event
 * in one queue (sim/queue.h) ordered by virtual time and a seeded tie-break; nothing sleeps,
 * nothing reads a wall clock except the report's wall_s. The same seed and configuration give a
 * byte-identical trace and history, both stamped in virtual nanoseconds: events are scheduled
 * on whole milliseconds, and each event and each history line takes a stamp above the last, so
 * the history keeps the real-time order of operations within a millisecond.
 *
 * What is simulated, and how it differs from the threaded run:
 *   - Node-to-node messages go through netem_decide with a per-node PRNG, as in actors/node.c.
 *   - Client<->node traffic is reliable (as in the threaded run, where a client calls the node
 *     directly and [network] does not apply), delayed 0..1 ms by the client's own PRNG. A
 *     request that reaches a crashed node is lost; the client's timeout event then fires.
 *   - Crash = raft_close + the node's store and waiting clients are dropped; its struct
 *     raft_disk survives. Restart = raft_init from that disk + a fresh store.
 *   - Every step feeds raft/invariants.h; the first violation stops the run.
 *
 * Seed streams follow cluster/cluster.c (node timeouts, clients, network, nemesis), so a seed
 * draws the same Raft timeouts, client operations and network fates in both runtimes.
 */
#ifndef RAFT_KV_SIM_SIM_H
#define RAFT_KV_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cluster/cluster.h"
#include "config/config.h"
#include "raft/raft.h"
#include "sim/simfs.h"

/* Hard bound on the events of one run: a run that needs more is reported as not live. */
#define SIM_MAX_EVENTS (UINT64_C(200) * 1000 * 1000)

struct sim_options {
#ifdef RAFT_PLANTED_BUGS
    uint32_t planted_bugs; /* RAFT_BUG_* given to every node; only in the test build of the
                              simulator, with the core's (raft.h) */
#endif
    bool check_results;     /* replay the committed log against the client results; default on
                               (sim_options_default) */
    const char *shrink_dir; /* sim_sweep: shrink each failing seed and write its replay
                               configuration in this directory; NULL (default): do not */
    uint64_t max_events;    /* the bound on a run's events; 0 (default): SIM_MAX_EVENTS. Tests
                               lower it to make runs fail liveness */
};
void sim_options_default(struct sim_options *o);

/* Which check found the first problem. */
enum sim_check {
    SIM_CHECK_NONE = 0,
    SIM_CHECK_INVARIANT,       /* a Raft invariant (election safety, ...) */
    SIM_CHECK_LINEARIZABILITY, /* the client history */
    SIM_CHECK_LIVENESS,        /* no leader / clients not done / no convergence in bound */
    SIM_CHECK_STORES,          /* the stores differ after convergence */
    SIM_CHECK_RESULTS,         /* a client result disagrees with the committed log */
};
const char *sim_check_name(enum sim_check check);
/* True if check finds a safety violation (invariant, linearizability, stores, results: something
 * wrong happened); false for liveness (something due did not happen) and for none. */
bool sim_check_is_safety(enum sim_check check);

struct sim_report {
    struct cluster_report run; /* the summary a threaded run prints (times are virtual) */
    uint64_t seed;
    uint64_t virtual_ms;           /* virtual duration of the whole run */
    double wall_s;                 /* wall-clock duration (the only wall-clock reading) */
    uint64_t events;               /* events processed */
    uint64_t heal_ms;              /* when every fault was healed (virtual ms) */
    uint64_t leader_after_heal_ms; /* first leader after healing, ms after heal_ms */
    bool clients_done;             /* every client finished within its bound */
    bool converged;
    bool consistent;             /* every check passed (cluster_consistent + liveness) */
    enum sim_check failed_check; /* the first check that failed, SIM_CHECK_NONE if none */
    struct cfg_fault *injected;  /* every fault applied, at_ms = when (heap; in time order) */
    size_t n_injected;
    /* The simulated disks, summed over the nodes: writes, syncs, what crashes tore and lost, and
     * the faults injected; the nodes that refused to start (their disks damaged), and why. */
    struct simfs_counts disk;
    uint32_t refused;
    char refused_why[1024]; /* "node 3: node 3/wal-...: offset N: problem; node 5: ..." */
};

/* Simulates cfg (seed must be given) to its verdict. The trace goes wherever trace_open sent it,
 * stamped with virtual time; the history to cfg->history_path, or to a temporary file when only
 * the linearizability check needs it. Returns 0 and fills *rep (release with sim_report_close)
 * whether or not the run came out consistent; -1 with err filled if it could not be carried out
 * (a temporary file could not be made). opt may be NULL (defaults). */
int sim_run(const struct cfg *cfg, const struct sim_options *opt, struct sim_report *rep, char *err,
            size_t err_len);

/* The threaded run's summary, then the simulator's lines (virtual time, events, liveness):
 * nothing in it depends on the wall clock, so one seed prints it byte for byte. */
void sim_report_print(FILE *out, const struct sim_report *rep);
/* One line: virtual time against wall-clock time (the only line that differs between runs). */
void sim_report_print_speed(FILE *out, const struct sim_report *rep);
void sim_report_close(struct sim_report *rep);

/* --- sweeps -------------------------------------------------------------------------------
 * Seeds S..S+N-1, each drawing its whole configuration from the seed (sim/sweep.c). */

/* Fills *out (uninitialised on entry; release with cfg_close) with the configuration seed
 * draws: 1-7 nodes, 0-5 clients of 5-50 requests, keys, timeouts, batching, pre-vote and
 * check-quorum, network loss, delay, duplication and reordering, and a nemesis; a tenth of the
 * seeds are Figure 8 storms. Valid by construction, and within Raft's timing requirement: the
 * election timeout's minimum is at least 50 ms and its spread (max - min) at least 20 ms above
 * two round trips of the network's largest delay (asserted; see sim/sweep.c). */
void sim_sweep_config(uint64_t seed, struct cfg *out);

struct sim_sweep_result {
    uint64_t seeds, failures;
    /* Invariant: failures == safety_failures + liveness_failures (sim_check_is_safety). */
    uint64_t safety_failures, liveness_failures;
    double virtual_s, wall_s; /* of the seeds' runs, shrinking left out */
    uint64_t events;
    uint64_t shrunk; /* failing seeds shrunk (at most SIM_SHRINK_SEEDS) */
    /* Disk faults over the sweep's runs (sim_report's, summed), and nodes that refused. */
    struct simfs_counts disk;
    uint64_t refused;
    double shrink_wall_s;
    uint64_t first_failing_seed; /* valid if failures > 0 */
    enum sim_check first_failed_check;
    char first_problem[512];
    int interrupted; /* the signal that stopped the sweep before its last seed, or 0 */
};

/* Runs seeds first..first+count-1 back to back (the trace as trace_open set it). For each
 * failing seed writes to out (NULL: nothing) one line naming the check, the problem and the
 * command that replays it, "<program> --sweep 1 --seed N"; with opt->shrink_dir, the first
 * SIM_SHRINK_SEEDS failing seeds' fault schedules are then shrunk (sim_shrink) and written as
 * configurations that "<program> --simulate <shrink_dir>/sweep-seed-N.toml" replays. Ends with
 * the summary line "N seeds, F failures (S safety, L liveness), X virtual hours, Y s (...)", and
 * a line for the time shrinking took if it did. Returns 0, or -1 with err if a run could not be
 * carried out. */
int sim_sweep(uint64_t first, uint64_t count, const struct sim_options *opt, const char *program,
              FILE *out, struct sim_sweep_result *res, char *err, size_t err_len);

/* Shrinks a failing run (after FoundationDB's and Jepsen's habit of minimising a failure): the
 * faults the run injected (schedule and nemesis) become a [[fault]] schedule with the nemesis
 * off; the shortest failing prefix of it is found by bisection, then chunks of faults (halves,
 * quarters, ... single faults, last first) are dropped while the run still fails the same check
 * (delta debugging). Each attempt is a full deterministic run, at most max_runs in all.
 * cfg's faults and nemesis are borrowed and restored before returning. On success returns 0
 * with *faults (heap, the caller frees it) holding the shortest failing schedule found and
 * *n_before the length it started from; -1 if cfg does not fail, its injected faults replayed
 * as a schedule do not fail the same check (the nemesis also shaped the run's order of
 * events), or a run could not be carried out (no temporary file for its history). */
int sim_shrink(struct cfg *cfg, const struct sim_options *opt, uint32_t max_runs,
               struct cfg_fault **faults, size_t *n_faults, size_t *n_before);

/* Runs a sweep shrinking takes per failing seed (each a full simulation), and the failing seeds
 * of one sweep it shrinks: a regression that fails many seeds costs at most
 * SIM_SHRINK_SEEDS x SIM_SHRINK_RUNS extra runs. */
#define SIM_SHRINK_RUNS  300
#define SIM_SHRINK_SEEDS 3

/* Writes cfg with the schedule faults[0..n) and the nemesis off to path, as a TOML
 * configuration that `raft_kv --simulate path` replays; note (may be NULL) becomes a comment at
 * the top. Returns 0, or -1 with err naming the path and the reason (a schedule longer than
 * CFG_FAULTS_MAX, or the file cannot be written; a partly written file is removed). */
int sim_write_replay(const struct cfg *cfg, const struct cfg_fault *faults, size_t n,
                     const char *note, const char *path, char *err, size_t err_len);

/* --- stepping (scenario tests) -----------------------------------------------------------
 * A struct sim runs the same events as sim_run but lets a test drive time and faults. */
struct sim;

/* A simulator of cfg (borrowed, must outlive it), at virtual time 0, node 1 about to campaign;
 * clients start when the first leader is known. opt may be NULL. */
struct sim *sim_new(const struct cfg *cfg, const struct sim_options *opt);
void sim_free(struct sim *s);
uint64_t sim_now_ms(const struct sim *s);
/* Processes every event due up to until_ms (then the clock reads until_ms), or until an
 * invariant is violated. Returns false if an invariant was violated. */
bool sim_run_until(struct sim *s, uint64_t until_ms);
/* Applies a fault now, as a [[fault]] entry would (crash, restart, partition, heal, isolate,
 * slow), traced as from "test". */
void sim_fault(struct sim *s, const struct cfg_fault *fault);
/* The live leader with the highest term, or 0. */
uint32_t sim_leader(const struct sim *s);
/* Node id's core, or NULL while it is down. */
const struct raft *sim_node(const struct sim *s, uint32_t id);
/* True once every client has finished. */
bool sim_clients_done(const struct sim *s);
/* Messages delivered node-to-node so far (every incarnation). */
uint64_t sim_messages_delivered(const struct sim *s);
/* Log entries carried by the AppendEntries delivered so far. */
uint64_t sim_entries_delivered(const struct sim *s);
/* AppendEntries replies delivered with success = false (a stale term or a log mismatch: the
 * round trips leaders spend finding where a follower's log matches theirs). */
uint64_t sim_appends_rejected(const struct sim *s);
/* The first invariant violation described, or NULL if none. */
const char *sim_violation(const struct sim *s);

#endif
