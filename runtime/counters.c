/* counters.c - the runtime's event counters (counters.h): one cache line per slot, each slot
 * written by one thread at a time. A thread takes a free slot on its first count and gives it back
 * when it exits (a pthread key's destructor), so a count is a plain load and store, with no locked
 * instruction and no line shared between two busy threads; the next owner of a slot goes on from
 * its total. Past RT_COUNTER_SLOTS live threads, the rest share one slot with atomic adds.
 */
#include "runtime/counters.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/alloc.h"

enum { RT_COUNTER_SLOTS = 256 };

struct rt_slot {
    _Atomic uint64_t msgs, wakeups, sleeps, allocs;
    bool shared; /* the overflow slot: atomic adds */
} __attribute__((aligned(64)));

static struct rt_slot slots[RT_COUNTER_SLOTS + 1]; /* the last is the overflow slot */

/* The free slots (a stack of indices), guarded by free_lock: the lock also orders one owner's
 * last store to a slot before the next owner's first load. */
static pthread_mutex_t free_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t free_slots[RT_COUNTER_SLOTS];
static uint32_t n_free;
static pthread_key_t slot_key;

static _Thread_local struct rt_slot *mine;

static void give_back(void *slot)
{
    struct rt_slot *s = slot;
    if (s == NULL || s->shared)
        return;
    mine = NULL; /* a count after this (another key's destructor) takes a slot again */
    pthread_mutex_lock(&free_lock);
    free_slots[n_free++] = (uint32_t)(s - slots);
    pthread_mutex_unlock(&free_lock);
}

static struct rt_slot *take_slot(void)
{
    struct rt_slot *s = &slots[RT_COUNTER_SLOTS];
    pthread_mutex_lock(&free_lock);
    if (n_free > 0)
        s = &slots[free_slots[--n_free]];
    pthread_mutex_unlock(&free_lock);
    if (!s->shared)
        pthread_setspecific(slot_key, s); /* given back at the thread's exit */
    mine = s;
    return s;
}

static void add(_Atomic uint64_t *counter, const struct rt_slot *s)
{
    if (s->shared)
        atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
    else /* this thread is the slot's only writer */
        atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + 1,
                              memory_order_relaxed);
}

#define COUNT(field)                                                                               \
    do {                                                                                           \
        struct rt_slot *s = mine != NULL ? mine : take_slot();                                     \
        add(&s->field, s);                                                                         \
    } while (0)

void rt_count_msg(void)
{
    COUNT(msgs);
}

void rt_count_wakeup(void)
{
    COUNT(wakeups);
}

void rt_count_sleep(void)
{
    COUNT(sleeps);
}

static void count_alloc(void)
{
    COUNT(allocs);
}

/* Before main, so before any thread: the free list and key exist before the first count, and
 * common/alloc.c reads its hook without a lock. */
__attribute__((constructor)) static void counters_init(void)
{
    slots[RT_COUNTER_SLOTS].shared = true;
    for (uint32_t i = 0; i < RT_COUNTER_SLOTS; i++)
        free_slots[i] = RT_COUNTER_SLOTS - 1 - i;
    n_free = RT_COUNTER_SLOTS;
    if (pthread_key_create(&slot_key, give_back) != 0)
        n_free = 0; /* no key, no giving back: every thread shares the overflow slot */
    xalloc_set_counter(count_alloc);
}

void rt_counts_read(struct rt_counts *out)
{
    *out = (struct rt_counts){0};
    for (unsigned i = 0; i <= RT_COUNTER_SLOTS; i++) {
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
