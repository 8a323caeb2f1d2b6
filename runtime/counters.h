/* counters.h - what the runtime did, counted for the benchmarks: mailbox messages, futex
 * wake-ups and sleeps, and allocations (every one made through common/alloc.h).
 *
 * Design: counters sharded by thread (a thread counts in a cache line of its own, taken
 * when it first counts and given back at its exit), a plain load and store an event, and no line
 * written by two busy threads; reading sums the slots, so a reader sees every count a thread
 * made before something that happens-before the read (a join, a reply). Always on: the cost is
 * below the noise of a run, and a benchmark never measures a different build.
 */
#ifndef RAFT_KV_RUNTIME_COUNTERS_H
#define RAFT_KV_RUNTIME_COUNTERS_H

#include <stdint.h>

struct rt_counts {
    uint64_t msgs;    /* messages pushed onto a mailbox (casts, call requests, answers, timers) */
    uint64_t wakeups; /* a sleeping thread woken: FUTEX_WAKE calls, eventfd writes to a loop */
    uint64_t sleeps;  /* FUTEX_WAIT calls: a thread that found nothing to do and parked */
    uint64_t allocs;  /* allocations through common/alloc.h (xmalloc, xcalloc, xrealloc, ...) */
};

void rt_count_msg(void);
void rt_count_wakeup(void);
void rt_count_sleep(void);

/* The totals since the process started, over every thread. */
void rt_counts_read(struct rt_counts *out);
/* b - a, field by field. */
struct rt_counts rt_counts_diff(const struct rt_counts *b, const struct rt_counts *a);

#endif
