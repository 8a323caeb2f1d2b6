/* counters.c - the runtime's event counters (counters.h): one cache line per slot, a thread's
 * slot picked round robin on its first count, relaxed atomic adds (two threads that share a slot
 * stay exact).
 */
#include "runtime/counters.h"

#include <stdatomic.h>

#include "common/alloc.h"

enum { RT_COUNTER_SLOTS = 64 };

struct rt_slot {
    _Atomic uint64_t msgs, wakeups, sleeps, allocs;
} __attribute__((aligned(64)));

static struct rt_slot slots[RT_COUNTER_SLOTS];
static _Atomic unsigned next_slot;
static _Thread_local struct rt_slot *mine;

static struct rt_slot *my_slot(void)
{
    if (mine == NULL)
        mine = &slots[atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed) %
                      RT_COUNTER_SLOTS];
    return mine;
}

void rt_count_msg(void)
{
    atomic_fetch_add_explicit(&my_slot()->msgs, 1, memory_order_relaxed);
}

void rt_count_wakeup(void)
{
    atomic_fetch_add_explicit(&my_slot()->wakeups, 1, memory_order_relaxed);
}

void rt_count_sleep(void)
{
    atomic_fetch_add_explicit(&my_slot()->sleeps, 1, memory_order_relaxed);
}

static void count_alloc(void)
{
    atomic_fetch_add_explicit(&my_slot()->allocs, 1, memory_order_relaxed);
}

/* Before main, so before any thread: common/alloc.c reads the hook without a lock. */
__attribute__((constructor)) static void install_alloc_counter(void)
{
    xalloc_set_counter(count_alloc);
}

void rt_counts_read(struct rt_counts *out)
{
    *out = (struct rt_counts){0};
    for (unsigned i = 0; i < RT_COUNTER_SLOTS; i++) {
        out->msgs += atomic_load_explicit(&slots[i].msgs, memory_order_relaxed);
        out->wakeups += atomic_load_explicit(&slots[i].wakeups, memory_order_relaxed);
        out->sleeps += atomic_load_explicit(&slots[i].sleeps, memory_order_relaxed);
        out->allocs += atomic_load_explicit(&slots[i].allocs, memory_order_relaxed);
    }
}

struct rt_counts rt_counts_diff(const struct rt_counts *b, const struct rt_counts *a)
{
    return (struct rt_counts){.msgs = b->msgs - a->msgs,
                              .wakeups = b->wakeups - a->wakeups,
                              .sleeps = b->sleeps - a->sleeps,
                              .allocs = b->allocs - a->allocs};
}
