/* log.c - the in-memory Raft log (part of the persistent state of Figure 2).
 * A flat array from the first index held (1 until snapshots compact the log): term lookups are
 * O(1); a term's boundaries are found by bisection. The entries' data live in chunks (log.h).
 */
#include "raft/log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

void raft_log_init(struct raft_log *log)
{
    memset(log, 0, sizeof *log);
    log->first = 1;
}

/* A chunk's usual size: entries longer than a quarter of it get a chunk of their own size. */
enum { CHUNK_BYTES = 64 * 1024 };

static void free_chunks(struct raft_log *log)
{
    struct raft_log_chunk *c = log->oldest;
    while (c != NULL) {
        struct raft_log_chunk *next = c->next;
        free(c);
        c = next;
    }
    log->oldest = log->newest = NULL;
}

/* Room for len bytes of index's data: the newest chunk's end, or a new chunk. */
static uint8_t *chunk_room(struct raft_log *log, uint64_t index, uint32_t len)
{
    uint32_t need = (len + 7u) & ~7u; /* keeps every entry's data 8-byte aligned */
    struct raft_log_chunk *c = log->newest;
    if (c == NULL || c->cap - c->used < need) {
        uint32_t cap = need > CHUNK_BYTES / 4 ? need : CHUNK_BYTES;
        c = xmalloc(sizeof *c + cap);
        *c = (struct raft_log_chunk){.prev = log->newest, .first = index, .cap = cap};
        if (log->newest != NULL)
            log->newest->next = c;
        else
            log->oldest = c;
        log->newest = c;
    }
    uint8_t *at = c->bytes + c->used;
    c->used += need;
    c->last = index;
    return at;
}

void raft_log_close(struct raft_log *log)
{
    free_chunks(log);
    free(log->entries);
    memset(log, 0, sizeof *log);
}

uint64_t raft_log_first_index(const struct raft_log *log)
{
    return log->first;
}

uint64_t raft_log_last_index(const struct raft_log *log)
{
    return log->first + log->n - 1;
}

uint64_t raft_log_last_term(const struct raft_log *log)
{
    return log->n == 0 ? log->prev_term : log->entries[log->n - 1].term;
}

uint64_t raft_log_term_at(const struct raft_log *log, uint64_t index)
{
    assert(index + 1 >= log->first && index <= raft_log_last_index(log));
    if (index + 1 == log->first)
        return log->prev_term;
    return log->entries[index - log->first].term;
}

const struct raft_entry *raft_log_get(const struct raft_log *log, uint64_t index)
{
    if (index < log->first || index > raft_log_last_index(log))
        return NULL;
    return &log->entries[index - log->first];
}

void raft_log_append(struct raft_log *log, uint64_t term, enum raft_entry_type type,
                     const void *data, uint32_t len)
{
    assert(term >= 1);
    assert(term >= raft_log_last_term(log));
    assert(type == RAFT_ENTRY_NOOP || type == RAFT_ENTRY_COMMAND || type == RAFT_ENTRY_CONFIG);
    if (log->n == log->cap) {
        log->cap = log->cap ? log->cap * 2 : 64;
        log->entries = xreallocarray(log->entries, log->cap, sizeof *log->entries);
    }
    struct raft_entry *e = &log->entries[log->n++];
    e->term = term;
    e->type = type;
    e->len = len;
    e->data = NULL;
    if (len > 0) {
        e->data = chunk_room(log, raft_log_last_index(log), len);
        memcpy(e->data, data, len);
    }
}

void raft_log_truncate(struct raft_log *log, uint64_t from)
{
    assert(from >= log->first && from <= raft_log_last_index(log) + 1);
    /* Chunks holding only removed entries go; the newest left gives back the room of the
     * removed entries it holds (theirs is its tail: data is laid out in index order). */
    while (log->newest != NULL && log->newest->first >= from) {
        struct raft_log_chunk *c = log->newest;
        log->newest = c->prev;
        free(c);
    }
    if (log->newest == NULL) {
        log->oldest = NULL;
    } else {
        struct raft_log_chunk *c = log->newest;
        c->next = NULL;
        for (uint64_t i = from; i <= c->last; i++) {
            const struct raft_entry *e = &log->entries[i - log->first];
            if (e->len > 0) {
                c->used = (uint32_t)(e->data - c->bytes);
                break;
            }
        }
        if (c->last >= from)
            c->last = from - 1;
    }
    log->n = from - log->first;
}

void raft_log_reset(struct raft_log *log, uint64_t index, uint64_t term)
{
    free_chunks(log);
    log->n = 0;
    log->first = index + 1;
    log->prev_term = term;
}

void raft_log_compact(struct raft_log *log, uint64_t index)
{
    assert(index >= log->first && index <= raft_log_last_index(log) + 1);
    uint64_t drop = index - log->first;
    if (drop == 0)
        return;
    log->prev_term = log->entries[drop - 1].term;
    /* Chunks whose every entry is before index go. */
    while (log->oldest != NULL && log->oldest->last < index) {
        struct raft_log_chunk *c = log->oldest;
        log->oldest = c->next;
        free(c);
    }
    if (log->oldest == NULL)
        log->newest = NULL;
    else
        log->oldest->prev = NULL;
    memmove(log->entries, log->entries + drop, (size_t)(log->n - drop) * sizeof *log->entries);
    log->n -= drop;
    log->first = index;
}

uint64_t raft_log_term_first_index(const struct raft_log *log, uint64_t index)
{
    assert(index >= log->first && index <= raft_log_last_index(log));
    uint64_t term = raft_log_term_at(log, index);
    /* Terms are non-decreasing: bisect for the first index held whose term is >= term. */
    uint64_t lo = log->first, hi = index;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (raft_log_term_at(log, mid) < term)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t raft_log_last_index_of_term(const struct raft_log *log, uint64_t term, uint64_t at_most)
{
    uint64_t last = raft_log_last_index(log);
    if (at_most > last)
        at_most = last;
    /* Bisect for the last index in [first - 1, at_most] whose term is <= term, then check it
     * equals term (index first - 1 stands for everything compacted before it). */
    uint64_t lo = log->first - 1, hi = at_most;
    if (hi < lo)
        return 0;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        if (raft_log_term_at(log, mid) <= term)
            lo = mid;
        else
            hi = mid - 1;
    }
    if (lo == 0 || lo < log->first || raft_log_term_at(log, lo) != term)
        return 0;
    return lo;
}
