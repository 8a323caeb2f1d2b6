/* scenario.h - the faults of a run, one definition for every host: the [[fault]] schedule in
 * time order, the random nemesis, and the book of what is in force (nodes down, network faults).
 * The threaded run (cluster/faults.c) and the simulator (sim/faults.c) each drive one struct
 * scenario, so the same seed and the same state give the same faults under both.
 *
 * Pure: no threads, clock, stdio or runtime. Time comes in as an argument (ms since the run's
 * start), randomness from a PRNG seeded at init. The module decides what happens and when; the
 * host carries it out through the callbacks of struct scenario_host, in the order the module
 * calls them, and is told of every fault afterwards (applied), which it writes to the trace with
 * scenario_trace_fault (host/scenario_host.h, the host half) so both hosts word faults alike.
 *
 * The rules:
 * - The schedule and the nemesis begin at scenario_start, which a host calls when the first
 *   leader is known; a scheduled fault whose time has passed by then is due at once. Scheduled
 *   faults at one time keep their file order.
 * - The nemesis runs while the clients do: its first move comes interval_ms after the start, each
 *   next one uniform in [interval_ms/2, 3*interval_ms/2] later (at least 1 ms); it never starts
 *   in a run without clients and stops at scenario_clients_done and at scenario_heal_all.
 * - Node ids are 1..max_nodes (n_nodes here); the cluster starts with voters 1..num_nodes, and
 *   nodes num_nodes+1..max_nodes join when added (issue 16). With max_nodes == num_nodes (the
 *   default) the nemesis draws exactly what it drew before membership changes existed.
 * - The nemesis never crashes a majority: it crashes a node only if at most (num_nodes-1)/2 nodes
 *   are down afterwards, counting every crash (scheduled ones too). Every configuration it builds
 *   keeps at least num_nodes voters (below), so a majority of the voters stays up. It starts a
 *   network fault (partition, isolation, slow node; any node 1..max_nodes) only when none is in
 *   force, whoever started it, so it keeps at most one at a time and each of its faults can end
 *   on its own.
 * - Membership moves (transfer, add, remove) are asked of the leader through the host; nothing
 *   stays in force and nothing is ended later. The nemesis chooses them only when its kinds list
 *   them and the host has both membership callbacks, planning with the configuration the host
 *   reports: it adds a node that is neither voter nor learner, and only when there is no learner
 *   (no addition under way); it removes a learner (a stuck addition) or a voter while there are
 *   more than num_nodes voters (the leader too); it hands leadership to a random voter. So the
 *   cluster keeps between num_nodes and max_nodes voters, as far as the nemesis is concerned (a
 *   schedule may do what it likes).
 */
#ifndef RAFT_KV_SCENARIO_SCENARIO_H
#define RAFT_KV_SCENARIO_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/prng.h"
#include "config/config.h" /* struct cfg_fault, struct cfg_nemesis: types only */

/* The membership kinds (transfer, add, remove) as a mask of (1u << kind): faults asked of the
 * leader, which leave nothing in force. */
#define SCENARIO_MEMBERSHIP_KINDS                                                                  \
    ((1u << CFG_FAULT_TRANSFER) | (1u << CFG_FAULT_ADD) | (1u << CFG_FAULT_REMOVE))

/* What is in force. Invariant: n_down is the number of true down[i]. */
struct scenario_book {
    uint32_t n_nodes;   /* max_nodes: every id a fault may name */
    uint32_t num_nodes; /* the initial voters, 1..n_nodes: the fewest voters the nemesis leaves */
    bool down[CFG_NODES_MAX]; /* down[i]: node i+1 is crashed */
    uint32_t n_down;
    bool partitioned;                /* a partition cuts links */
    bool isolated[CFG_NODES_MAX];    /* node i+1's links are cut */
    uint32_t slow_ms[CFG_NODES_MAX]; /* extra delay on node i+1's links, 0 if none */
    uint32_t n_net;                  /* partitions, isolated nodes and slow nodes in force */
};

/* How a fault went. */
enum scenario_outcome {
    SCENARIO_APPLIED,      /* it took effect */
    SCENARIO_ALREADY_DOWN, /* a crash of a node that is down (or is no node): nothing done */
    SCENARIO_NOT_DOWN,     /* a restart of a node that is up (or is no node): nothing done */
    SCENARIO_FAILED,       /* the host could not carry it out (a restart), or the leader refused a
                              membership change (or there is none): err says why */
};

/* One fault, as the host is told of it after the fact. */
struct scenario_applied {
    const char *who;               /* "faults" (the schedule), "nemesis", or apply's caller */
    const struct cfg_fault *fault; /* borrowed for the call */
    uint64_t at_ms;                /* when (the time given to run_due or apply) */
    uint32_t n_nodes;
    enum scenario_outcome outcome;
    const char *err; /* SCENARIO_FAILED: the host's words; else "" */
};

/* What a host does for the scenario. Nodes are 1..n_nodes. Called only from the scenario
 * functions that take the host, on the caller's thread, one at a time. */
struct scenario_host {
    void *ctx; /* given to crash, restart, membership, config and applied */
    /* Node is up (the book says so): stop it, losing its volatile state; its disk stays. */
    void (*crash)(void *ctx, uint32_t node);
    /* Node is down: start it again from its disk. 0, or -1 with err filled. */
    int (*restart)(void *ctx, uint32_t node, char *err, size_t err_len);
    void *net; /* given to the network calls */
    /* Nodes talk only within their group (group[i] is node i+1's); replaces every cut link, an
     * isolation's included; slow links stay. */
    void (*partition)(void *net, const uint8_t *group);
    /* Cuts every link to and from node. */
    void (*isolate)(void *net, uint32_t node);
    /* Adds extra_ms (>= 1) to every message to or from node. */
    void (*slow)(void *net, uint32_t node, uint32_t extra_ms);
    /* Ends every partition, isolation and slow link. */
    void (*heal)(void *net);
    /* Membership (issue 16): asks the cluster's leader to add node (kind CFG_FAULT_ADD), remove it
     * (CFG_FAULT_REMOVE) or hand it leadership (CFG_FAULT_TRANSFER). 0 if the leader accepted it;
     * -1 with err filled (no leader known, or the leader's refusal and its reason). */
    int (*membership)(void *ctx, enum cfg_fault_kind kind, uint32_t node, char *err,
                      size_t err_len);
    /* The configuration the nemesis plans with, as the host knows it (the leader's latest, or
     * the initial one): voter[i] and learner[i] for node i+1, i < n_nodes. */
    void (*config)(void *ctx, bool *voter, bool *learner);
    /* Every fault apply or run_due handled, whatever its outcome, after it was carried out. */
    void (*applied)(void *ctx, const struct scenario_applied *a);
};
/* A host without membership leaves membership and config NULL: a membership fault is then
 * SCENARIO_FAILED ("membership changes are not supported here"), and the nemesis never chooses
 * one. A scheduled fault needs membership only; the nemesis needs both. */

struct scenario {
    uint32_t n_nodes;       /* max_nodes: node ids are 1..n_nodes */
    uint32_t num_nodes;     /* the voters the cluster starts with, 1..n_nodes */
    struct cfg_fault *plan; /* the schedule sorted by time, stable (heap) */
    size_t n_plan, next;    /* Invariant: plan[0..next) have been applied */
    struct cfg_nemesis nemesis;
    struct prng rng; /* the nemesis's choices and waits */
    bool started;
    bool nemesis_on;
    uint64_t nemesis_next_ms; /* while nemesis_on */
    struct scenario_book book;
    uint64_t faults; /* injected: crashes, partitions, isolations, slow nodes that took effect, and
                        membership changes the leader accepted */
};

/* Takes the schedule (copied), the nemesis settings and the sizes (num_nodes, and max_nodes as
 * cfg_max_nodes reads it) from cfg; nemesis_seed seeds
 * the nemesis's PRNG (hosts pass the run seed's nemesis stream). Nothing is due before
 * scenario_start. A zeroed struct scenario may be closed. */
void scenario_init(struct scenario *sc, const struct cfg *cfg, uint64_t nemesis_seed);
void scenario_close(struct scenario *sc);

/* The first leader is known at now_ms: the schedule and the nemesis begin. Once only. */
void scenario_start(struct scenario *sc, uint64_t now_ms);
/* The clients are done: the nemesis makes no more moves. The schedule goes on. */
void scenario_clients_done(struct scenario *sc);

/* When the next fault is due (ms since the run's start), UINT64_MAX if none is (or before
 * scenario_start). */
uint64_t scenario_next_ms(const struct scenario *sc);
/* Applies every scheduled fault due at now_ms, then, if it is due, one nemesis move. */
void scenario_run_due(struct scenario *sc, uint64_t now_ms, const struct scenario_host *host);
/* True once every scheduled fault has been applied. */
bool scenario_plan_done(const struct scenario *sc);

/* Carries out one fault now (the schedule's, the nemesis's, or a test's, named by who): checks
 * it against the book (a crash of a down node, a restart of an up one, does nothing), calls the
 * host, updates the book and the count, and tells the host through applied. A membership fault
 * changes nothing in the book: it is APPLIED if host->membership accepted it, else FAILED with
 * the host's words. */
enum scenario_outcome scenario_apply(struct scenario *sc, const struct cfg_fault *fault,
                                     const char *who, uint64_t now_ms,
                                     const struct scenario_host *host);

/* Ends everything in force: the nemesis stops, every crashed node restarts, and the network is
 * healed if a network fault is in force. Not told through applied (the host says it once). 0, or
 * -1 with err filled if a node could not restart (the book keeps it down). */
int scenario_heal_all(struct scenario *sc, const struct scenario_host *host, char *err,
                      size_t err_len);

/* The nemesis's next move from rng, the book and the configuration: end one fault in force (a
 * heal if a network fault is in force, else a restart of a random down node, each on a coin
 * flip) or start a fault of an allowed kind that can start now (the rules above); when none can
 * start, end one. voter and learner (book->n_nodes entries each: node i+1 is a voter, a learner)
 * are the configuration the membership moves are planned with; both NULL when the host gives
 * none, and then no membership move is chosen. Without a membership kind in nem->kinds, the
 * draws are the same whatever voter and learner are. False if there is nothing to do; else
 * *fault is the move, not yet applied. */
bool scenario_nemesis_choose(struct prng *rng, const struct cfg_nemesis *nem,
                             const struct scenario_book *book, const bool *voter,
                             const bool *learner, struct cfg_fault *fault);

#endif
