/* timer.h - a per-actor min-heap of timers with generation-tagged ids.
 *
 * Owned by one actor and used only from its thread, so it takes no lock. An id names a slot and
 * the generation of that slot when the timer was armed: once a timer fired or was cancelled its
 * id is stale forever, so cancelling it again, or late, can never touch a newer timer.
 */
#ifndef RAFT_KV_RUNTIME_TIMER_H
#define RAFT_KV_RUNTIME_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0 is never a valid id. */
typedef uint64_t timer_id;

struct timer_entry {
    uint64_t deadline_ns;
    uint64_t seq;      /* arming order: equal deadlines fire first-armed first */
    void *target;      /* opaque to the heap */
    void *payload;     /* opaque to the heap */
    uint32_t gen;      /* bumped every time the slot is freed */
    uint32_t heap_pos; /* index in heap[], or TIMER_FREE when the slot is unused */
    uint32_t next_free;
};

struct timer_heap {
    struct timer_entry *slots;
    uint32_t *heap; /* slot indices; heap order on (deadline_ns, seq) */
    uint32_t len;   /* armed timers; Invariant: len <= n_slots */
    uint32_t n_slots, cap;
    uint32_t free_head; /* first unused slot, or TIMER_FREE */
    uint64_t next_seq;
};

void timer_heap_init(struct timer_heap *h);
/* Frees the heap's memory. The payloads of armed timers are not touched: pop them first. */
void timer_heap_close(struct timer_heap *h);

/* Arms a timer; returns its id (never 0). */
timer_id timer_heap_add(struct timer_heap *h, uint64_t deadline_ns, void *target, void *payload);

/* Disarms the timer named by id if it is still armed: stores its target and payload and returns
 * true. Returns false for a timer that already fired, was cancelled, or never existed. */
bool timer_heap_cancel(struct timer_heap *h, timer_id id, void **target, void **payload);

/* The earliest deadline, if any timer is armed. */
bool timer_heap_next_deadline(const struct timer_heap *h, uint64_t *deadline_ns);

/* Removes the earliest timer if its deadline is <= now_ns (or any timer when now_ns is
 * UINT64_MAX) and returns true with its target and payload. */
bool timer_heap_pop_due(struct timer_heap *h, uint64_t now_ns, void **target, void **payload);

size_t timer_heap_len(const struct timer_heap *h);

#endif
