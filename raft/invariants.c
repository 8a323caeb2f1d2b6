/* invariants.c - the Raft safety properties as bookkeeping over reports (paper, Figure 3).
 * Tables indexed by term and by log index grow on demand; every check compares a report with
 * what earlier reports established, so it needs no global snapshot of the cluster.
 */
#include "raft/invariants.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hash.h"

const char *raft_invariant_name(enum raft_invariant inv)
{
    switch (inv) {
    case RAFT_INV_NONE:
        return "none";
    case RAFT_INV_ELECTION_SAFETY:
        return "election safety";
    case RAFT_INV_LEADER_COMPLETENESS:
        return "leader completeness";
    case RAFT_INV_STATE_MACHINE_SAFETY:
        return "state machine safety";
    case RAFT_INV_LOG_MATCHING:
        return "log matching";
    }
    return "?";
}

size_t raft_term_runs(const struct raft_log *log, uint64_t from, uint64_t to,
                      struct raft_term_run *runs, size_t cap)
{
    size_t n = 0;
    uint64_t last_term = 0;
    for (uint64_t i = from; i <= to && i <= raft_log_last_index(log); i++) {
        uint64_t t = raft_log_term_at(log, i);
        if (n == 0 || t != last_term) {
            if (n < cap)
                runs[n] = (struct raft_term_run){.first = i, .term = t};
            n++;
            last_term = t;
        }
    }
    return n;
}

uint64_t raft_entry_hash(const struct raft_entry *e)
{
    const uint8_t type = (uint8_t)e->type;
    uint64_t h = hash_fnv1a(HASH_FNV1A_START, &e->term, sizeof e->term);
    h = hash_fnv1a(h, &type, 1);
    return hash_fnv1a(h, e->data, e->len);
}

uint64_t raft_chain_hash(uint64_t prev, const struct raft_entry *e)
{
    uint64_t entry = raft_entry_hash(e);
    uint64_t h = hash_fnv1a(HASH_FNV1A_START, &prev, sizeof prev);
    return hash_fnv1a(h, &entry, sizeof entry);
}

void raft_invariants_init(struct raft_invariants *inv)
{
    memset(inv, 0, sizeof *inv);
}

void raft_invariants_close(struct raft_invariants *inv)
{
    free(inv->leader_of_term);
    free(inv->committed);
    free(inv->applied);
    free(inv->written);
    memset(inv, 0, sizeof *inv);
}

static enum raft_invariant violated(struct raft_invariants *inv, struct raft_violation v)
{
    if (inv->violations++ == 0)
        inv->first = v;
    return v.invariant;
}

/* Grows a table of `size`-byte elements, *cap of them, to hold at least `need` (new ones
 * zeroed). */
static void *grow(void *table, uint64_t *cap, uint64_t need, size_t size)
{
    if (need <= *cap)
        return table;
    uint64_t bigger = *cap ? *cap : 64;
    while (bigger < need)
        bigger *= 2;
    table = xreallocarray(table, bigger, size);
    memset((char *)table + *cap * size, 0, (bigger - *cap) * size);
    *cap = bigger;
    return table;
}

/* The term of index in a log described by runs ending at last_index (0 past the end). */
static uint64_t term_in_runs(const struct raft_term_run *runs, size_t n_runs, uint64_t last_index,
                             uint64_t index)
{
    if (index == 0 || index > last_index)
        return 0;
    uint64_t term = 0;
    for (size_t r = 0; r < n_runs && runs[r].first <= index; r++)
        term = runs[r].term;
    return term;
}

enum raft_invariant raft_invariants_leader(struct raft_invariants *inv, uint32_t node,
                                           uint64_t term, const struct raft_term_run *runs,
                                           size_t n_runs, uint64_t first_index, uint64_t last_index)
{
    inv->leader_of_term = grow(inv->leader_of_term, &inv->cap_terms, term + 1, sizeof(uint32_t));
    uint32_t other = inv->leader_of_term[term];
    if (other != 0 && other != node)
        return violated(inv, (struct raft_violation){.invariant = RAFT_INV_ELECTION_SAFETY,
                                                     .node = node,
                                                     .other = other,
                                                     .term = term});
    inv->leader_of_term[term] = node;
    /* Every entry committed in an earlier term must be in this leader's log, unchanged. */
    for (uint64_t i = first_index > 1 ? first_index : 1; i <= inv->n_committed; i++) {
        const struct committed *c = &inv->committed[i - 1];
        if (c->term == 0 || c->commit_term >= term)
            continue;
        uint64_t have = term_in_runs(runs, n_runs, last_index, i);
        if (have != c->term)
            return violated(inv, (struct raft_violation){.invariant = RAFT_INV_LEADER_COMPLETENESS,
                                                         .node = node,
                                                         .index = i,
                                                         .term = term,
                                                         .other_term = c->term});
    }
    return RAFT_INV_NONE;
}

enum raft_invariant raft_invariants_commit(struct raft_invariants *inv, uint32_t node,
                                           uint64_t commit_term, uint64_t from, uint64_t to,
                                           const struct raft_term_run *runs, size_t n_runs)
{
    inv->committed = grow(inv->committed, &inv->cap_committed, to, sizeof *inv->committed);
    for (uint64_t i = from; i <= to; i++) {
        uint64_t t = term_in_runs(runs, n_runs, to, i);
        struct committed *c = &inv->committed[i - 1];
        if (c->term == 0) {
            *c = (struct committed){.term = t, .commit_term = commit_term};
        } else if (c->term != t) {
            return violated(inv, (struct raft_violation){.invariant = RAFT_INV_STATE_MACHINE_SAFETY,
                                                         .node = node,
                                                         .index = i,
                                                         .term = t,
                                                         .other_term = c->term});
        } else if (commit_term < c->commit_term) {
            c->commit_term = commit_term; /* committed earlier than first reported */
        }
    }
    if (to > inv->n_committed)
        inv->n_committed = to;
    return RAFT_INV_NONE;
}

enum raft_invariant raft_invariants_applied(struct raft_invariants *inv, uint32_t node,
                                            uint64_t index, uint64_t term, uint64_t hash)
{
    assert(index >= 1);
    inv->applied = grow(inv->applied, &inv->cap_applied, index, sizeof *inv->applied);
    struct applied *a = &inv->applied[index - 1];
    if (a->node == 0) {
        *a = (struct applied){.term = term, .hash = hash, .node = node};
    } else if (a->hash != hash || a->term != term) {
        return violated(inv, (struct raft_violation){.invariant = RAFT_INV_STATE_MACHINE_SAFETY,
                                                     .node = node,
                                                     .other = a->node,
                                                     .index = index,
                                                     .term = term,
                                                     .other_term = a->term});
    }
    if (index > inv->n_applied)
        inv->n_applied = index;
    return RAFT_INV_NONE;
}

/* The slot of (index, term) in the written table: its entry, or the empty slot to fill. */
static struct written *written_slot(struct written *table, uint64_t cap, uint64_t index,
                                    uint64_t term)
{
    uint64_t key[2] = {index, term};
    uint64_t i = hash_fnv1a(HASH_FNV1A_START, key, sizeof key) & (cap - 1); /* cap: 2^k */
    while (table[i].term != 0 && (table[i].index != index || table[i].term != term))
        i = (i + 1) & (cap - 1);
    return &table[i];
}

enum raft_invariant raft_invariants_written(struct raft_invariants *inv, uint32_t node,
                                            uint64_t index, uint64_t term, uint64_t chain)
{
    assert(index >= 1 && term >= 1);
    if (2 * (inv->n_written + 1) > inv->cap_written) {
        uint64_t cap = inv->cap_written ? 2 * inv->cap_written : 1024;
        struct written *table = xcalloc(cap, sizeof *table);
        for (uint64_t i = 0; i < inv->cap_written; i++)
            if (inv->written[i].term != 0)
                *written_slot(table, cap, inv->written[i].index, inv->written[i].term) =
                    inv->written[i];
        free(inv->written);
        inv->written = table;
        inv->cap_written = cap;
    }
    struct written *w = written_slot(inv->written, inv->cap_written, index, term);
    if (w->term == 0) {
        *w = (struct written){.index = index, .term = term, .chain = chain, .node = node};
        inv->n_written++;
    } else if (w->chain != chain) {
        /* other_term 0: the logs differ somewhere before index, not at it. */
        return violated(inv, (struct raft_violation){.invariant = RAFT_INV_LOG_MATCHING,
                                                     .node = node,
                                                     .other = w->node,
                                                     .index = index,
                                                     .term = term});
    }
    return RAFT_INV_NONE;
}

bool raft_invariants_chain_at(const struct raft_invariants *inv, uint64_t index, uint64_t term,
                              uint64_t *chain)
{
    if (inv->cap_written == 0)
        return false;
    const struct written *w = written_slot(inv->written, inv->cap_written, index, term);
    if (w->term == 0)
        return false;
    *chain = w->chain;
    return true;
}

enum raft_invariant raft_invariants_logs(struct raft_invariants *inv,
                                         const struct raft_log *const *logs, uint32_t n)
{
    for (uint32_t a = 0; a < n; a++) {
        for (uint32_t b = a + 1; b < n; b++) {
            uint64_t len = raft_log_last_index(logs[a]);
            if (raft_log_last_index(logs[b]) < len)
                len = raft_log_last_index(logs[b]);
            uint64_t lo = raft_log_first_index(logs[a]);
            if (raft_log_first_index(logs[b]) > lo)
                lo = raft_log_first_index(logs[b]);
            /* Find the last index where the terms agree; everything before it must match. */
            uint64_t agree = 0;
            for (uint64_t i = len; i >= lo && agree == 0; i--)
                if (raft_log_term_at(logs[a], i) == raft_log_term_at(logs[b], i))
                    agree = i;
            for (uint64_t i = lo; i <= agree; i++) {
                const struct raft_entry *x = raft_log_get(logs[a], i);
                const struct raft_entry *y = raft_log_get(logs[b], i);
                if (x->term != y->term || raft_entry_hash(x) != raft_entry_hash(y))
                    return violated(inv, (struct raft_violation){.invariant = RAFT_INV_LOG_MATCHING,
                                                                 .node = a + 1,
                                                                 .other = b + 1,
                                                                 .index = i,
                                                                 .term = x->term,
                                                                 .other_term = y->term});
            }
        }
    }
    return RAFT_INV_NONE;
}
