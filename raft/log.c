/* log.c - the in-memory Raft log (part of the persistent state of Figure 2).
 * A flat array indexed from 1: term lookups are O(1); a term's boundaries are found by bisection.
 */
#include "raft/log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

void raft_log_init(struct raft_log *log)
{
    memset(log, 0, sizeof *log);
}

void raft_log_close(struct raft_log *log)
{
    raft_log_truncate(log, 1);
    free(log->entries);
    memset(log, 0, sizeof *log);
}

uint64_t raft_log_last_index(const struct raft_log *log)
{
    return log->len;
}

uint64_t raft_log_last_term(const struct raft_log *log)
{
    return log->len == 0 ? 0 : log->entries[log->len - 1].term;
}

uint64_t raft_log_term_at(const struct raft_log *log, uint64_t index)
{
    assert(index <= log->len);
    return index == 0 ? 0 : log->entries[index - 1].term;
}

const struct raft_entry *raft_log_get(const struct raft_log *log, uint64_t index)
{
    if (index == 0 || index > log->len)
        return NULL;
    return &log->entries[index - 1];
}

void raft_log_append(struct raft_log *log, uint64_t term, enum raft_entry_type type,
                     const void *data, uint32_t len)
{
    assert(term >= 1);
    assert(term >= raft_log_last_term(log));
    assert(type == RAFT_ENTRY_NOOP || type == RAFT_ENTRY_COMMAND);
    if (log->len == log->cap) {
        log->cap = log->cap ? log->cap * 2 : 64;
        log->entries = xreallocarray(log->entries, log->cap, sizeof *log->entries);
    }
    struct raft_entry *e = &log->entries[log->len++];
    e->term = term;
    e->type = type;
    e->len = len;
    e->data = NULL;
    if (len > 0) {
        e->data = xmalloc(len);
        memcpy(e->data, data, len);
    }
}

void raft_log_truncate(struct raft_log *log, uint64_t from)
{
    assert(from >= 1 && from <= log->len + 1);
    for (uint64_t i = from; i <= log->len; i++)
        free(log->entries[i - 1].data);
    log->len = from - 1;
}

uint64_t raft_log_term_first_index(const struct raft_log *log, uint64_t index)
{
    assert(index >= 1 && index <= log->len);
    uint64_t term = log->entries[index - 1].term;
    /* Terms are non-decreasing: bisect for the first index whose term is >= term. */
    uint64_t lo = 1, hi = index;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (log->entries[mid - 1].term < term)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t raft_log_last_index_of_term(const struct raft_log *log, uint64_t term, uint64_t at_most)
{
    if (at_most > log->len)
        at_most = log->len;
    /* Bisect for the last index <= at_most whose term is <= term, then check it equals term. */
    uint64_t lo = 0, hi = at_most;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        if (log->entries[mid - 1].term <= term)
            lo = mid;
        else
            hi = mid - 1;
    }
    if (lo == 0 || log->entries[lo - 1].term != term)
        return 0;
    return lo;
}
