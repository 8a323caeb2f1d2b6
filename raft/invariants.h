/* invariants.h - Raft's safety properties (paper, Figure 3) checked from what nodes report:
 * election safety, leader completeness, state machine safety, log matching.
 *
 * Pure bookkeeping: the threaded program feeds it through a monitor actor, a simulator can
 * feed it directly. Reports may arrive late or out of order; each check is written so that a
 * late report can only make it miss a violation, never invent one.
 */
#ifndef RAFT_KV_RAFT_INVARIANTS_H
#define RAFT_KV_RAFT_INVARIANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

enum raft_invariant {
    RAFT_INV_NONE = 0,
    RAFT_INV_ELECTION_SAFETY,      /* at most one leader per term */
    RAFT_INV_LEADER_COMPLETENESS,  /* a leader holds every entry committed in earlier terms */
    RAFT_INV_STATE_MACHINE_SAFETY, /* no two nodes apply different entries at one index */
    RAFT_INV_LOG_MATCHING,         /* same index and term => same entries up to there */
};
const char *raft_invariant_name(enum raft_invariant inv);

/* A run of log entries with one term: indices first .. next run's first - 1. */
struct raft_term_run {
    uint64_t first;
    uint64_t term;
};

/* Describes log[from..to] as term runs into runs (at most cap; returns how many were needed,
 * which may exceed cap). */
size_t raft_term_runs(const struct raft_log *log, uint64_t from, uint64_t to,
                      struct raft_term_run *runs, size_t cap);

/* A hash of an entry's term, type and data (FNV-1a), for state machine safety. */
uint64_t raft_entry_hash(const struct raft_entry *e);
/* The hash of a log up to and including e, from the hash of the log before it (0 for none):
 * two logs with equal chains at an index are, up to FNV-1a's collisions, equal up to there. */
uint64_t raft_chain_hash(uint64_t prev, const struct raft_entry *e);

/* What was violated, where, by whom. */
struct raft_violation {
    enum raft_invariant invariant;
    uint32_t node, other; /* the reporting node and the node it contradicts (0: none) */
    uint64_t index;       /* log index, 0 if not about an entry */
    uint64_t term;        /* the term at issue (of the leader, or of the entry) */
    uint64_t other_term;  /* the other node's (or the committed) term, where it differs */
};

struct raft_invariants {
    uint32_t *leader_of_term; /* [term]: the node that led it, 0 if none known */
    uint64_t cap_terms;
    /* Committed entries: [index-1] = entry term and the leader term that committed it. */
    struct committed {
        uint64_t term, commit_term;
    } * committed;
    uint64_t n_committed, cap_committed; /* Invariant: n_committed <= cap_committed */
    /* Applied entries: [index-1] = hash and the first node that reported it. */
    struct applied {
        uint64_t term, hash;
        uint32_t node;
    } * applied;
    uint64_t n_applied, cap_applied; /* Invariant: n_applied <= cap_applied */
    /* Entries written to logs, for log matching as they are written: (index, term) -> the
     * chain hash of the log up to that entry and the first node that held it. Open
     * addressing; a slot with term 0 is empty. */
    struct written {
        uint64_t index, term, chain;
        uint32_t node;
    } * written;
    uint64_t n_written, cap_written; /* Invariant: 2 * n_written <= cap_written */
    struct raft_violation first;     /* the first violation found */
    uint64_t violations;
};

void raft_invariants_init(struct raft_invariants *inv);
void raft_invariants_close(struct raft_invariants *inv);

/* Each returns the violation found (RAFT_INV_NONE if none); the first is kept in `first`. */

/* node leads term, with a log of n_runs term runs from first_index to last_index; the entries
 * before first_index are in its snapshot (committed, so not compared). */
enum raft_invariant raft_invariants_leader(struct raft_invariants *inv, uint32_t node,
                                           uint64_t term, const struct raft_term_run *runs,
                                           size_t n_runs, uint64_t first_index,
                                           uint64_t last_index);
/* node, leading commit_term, committed entries from..to, whose terms are the runs. */
enum raft_invariant raft_invariants_commit(struct raft_invariants *inv, uint32_t node,
                                           uint64_t commit_term, uint64_t from, uint64_t to,
                                           const struct raft_term_run *runs, size_t n_runs);
/* node applied the entry with this term and hash at index. */
enum raft_invariant raft_invariants_applied(struct raft_invariants *inv, uint32_t node,
                                            uint64_t index, uint64_t term, uint64_t hash);
/* Log matching as logs are written (a simulator, which sees every write): node now holds at
 * index an entry of term, and its log up to there hashes to chain (raft_chain_hash). Another
 * node that held an entry of that index and term must have held the same log up to it. */
enum raft_invariant raft_invariants_written(struct raft_invariants *inv, uint32_t node,
                                            uint64_t index, uint64_t term, uint64_t chain);
/* The chain hash some node's log had at (index, term) when it wrote that entry: true with *chain
 * set, false if no node reported one. A node that installs a snapshot ending at (index, term)
 * continues its chain from there. */
bool raft_invariants_chain_at(const struct raft_invariants *inv, uint64_t index, uint64_t term,
                              uint64_t *chain);
/* Log matching over whole logs (logs[i] is node i+1's), e.g. once every node has stopped; where
 * a log was compacted, over the indices both logs still hold. */
enum raft_invariant raft_invariants_logs(struct raft_invariants *inv,
                                         const struct raft_log *const *logs, uint32_t n);

#endif
