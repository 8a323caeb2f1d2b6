/* log.h - the in-memory Raft log: a growable array of entries from a first index on (1 until
 * snapshots compact it), index i at entries[i - first].
 *
 * Part of struct raft_disk (persistent state, Figure 2). The log owns its entries' data, kept in
 * chunks of consecutive entries (struct raft_log_chunk) rather than one allocation each: an
 * append is a copy, and the chunks go when compaction, truncation or a reset has removed all
 * their entries (one allocation for many entries; issue 15 measured five per operation, one per
 * node, before). An entry's data stays where it is until the entry is removed. Terms are
 * non-decreasing along the log (a consequence of Figure 2; asserted on append).
 */
#ifndef RAFT_KV_RAFT_LOG_H
#define RAFT_KV_RAFT_LOG_H

#include <stdint.h>

enum raft_entry_type {
    RAFT_ENTRY_NOOP = 1,    /* appended by each new leader at the start of its term (section 8) */
    RAFT_ENTRY_COMMAND = 2, /* opaque client command bytes for the state machine */
    RAFT_ENTRY_CONFIG = 3,  /* a configuration (raft.h, raft_config_encode): membership.c */
};

struct raft_entry {
    uint64_t term; /* term when the entry was received by the leader; >= 1 */
    enum raft_entry_type type;
    uint32_t len;
    uint8_t *data; /* len bytes; NULL if len == 0 */
};

/* The entries first..first + n - 1. first is 1 until a snapshot compacts the log; then the
 * entries before first are gone and prev_term is the term of index first - 1 (0 while first is
 * 1: index 0 has term 0). */
/* The data of the entries first..last that have any, back to back (8-byte aligned). */
struct raft_log_chunk {
    struct raft_log_chunk *prev, *next; /* older, newer */
    uint64_t first, last;
    uint32_t used, cap;
    uint8_t bytes[];
};

struct raft_log {
    struct raft_entry *entries; /* entries[i] is index first + i */
    uint64_t first;
    uint64_t prev_term;
    uint64_t n; /* entries held */
    uint64_t cap;
    struct raft_log_chunk *oldest, *newest; /* the chunks, oldest first */
};

void raft_log_init(struct raft_log *log);
void raft_log_close(struct raft_log *log);
/* The first index held (1 until a snapshot compacts the log). */
uint64_t raft_log_first_index(const struct raft_log *log);
uint64_t raft_log_last_index(const struct raft_log *log);
uint64_t raft_log_last_term(const struct raft_log *log);
/* Term of the entry at index (0 for index 0; prev_term for first - 1). Precondition:
 * first - 1 <= index <= last index. */
uint64_t raft_log_term_at(const struct raft_log *log, uint64_t index);
/* The entry at index first..last, or NULL. */
const struct raft_entry *raft_log_get(const struct raft_log *log, uint64_t index);
/* Appends a copy of data (len bytes) as a new last entry. Precondition: term >= last term. */
void raft_log_append(struct raft_log *log, uint64_t term, enum raft_entry_type type,
                     const void *data, uint32_t len);
/* Removes entries from..last. Precondition: first <= from <= last + 1. */
void raft_log_truncate(struct raft_log *log, uint64_t from);
/* Empties the log and makes it start after index, whose term is term (a snapshot's last entry):
 * first = index + 1, prev_term = term. */
void raft_log_reset(struct raft_log *log, uint64_t index, uint64_t term);
/* Drops the entries before index (they are in a snapshot): first becomes index, prev_term the
 * term of index - 1. Precondition: first <= index <= last + 1. */
void raft_log_compact(struct raft_log *log, uint64_t index);
/* First index held of the run of entries with the same term as index (first <= index <= last). */
uint64_t raft_log_term_first_index(const struct raft_log *log, uint64_t index);
/* Last index <= at_most whose term is term, or 0 if there is none. */
uint64_t raft_log_last_index_of_term(const struct raft_log *log, uint64_t term, uint64_t at_most);

#endif
