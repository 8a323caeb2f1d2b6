/* mailbox.c - a Treiber stack with batch pop and reversal on C11 atomics, parked on a ck_ec
 * event count.
 *
 * Why not ck_fifo/ck_stack: ck's atomics are inline assembly that ThreadSanitizer cannot see, so a
 * ck structure carrying a message between threads makes TSan report races on the payload. The
 * publish/consume edge is therefore written with <stdatomic.h> (release when a producer's CAS
 * publishes a node, acquire when the consumer's exchange takes the stack), which TSan
 * understands; ck_ec only decides who sleeps and who wakes, and carries no payload ordering.
 *
 * Why a stack rather than Vyukov's queue (the first version): per message the consumer takes
 * the head line once per batch and never re-pushes a stub, so a hand-off between two spinning
 * threads moves fewer cache lines (pingpong: about 950 -> see README, Benchmarks). The consumer
 * takes the whole stack at once, so there is no ABA: no node is ever popped by a CAS.
 */
#define _GNU_SOURCE /* syscall(), sched_getaffinity */
#include "runtime/mailbox.h"

#include <assert.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ck_pr.h>

#include "runtime/counters.h"

/* --- ck_ec operations: CLOCK_MONOTONIC and private futexes ---------------------------------- */

static int ec_gettime(const struct ck_ec_ops *ops, struct timespec *out)
{
    (void)ops;
    return clock_gettime(CLOCK_MONOTONIC, out);
}

/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, which is what ck_ec passes. */
static void futex_wait_abs(const uint32_t *address, uint32_t expected,
                           const struct timespec *deadline)
{
    rt_count_sleep();
    syscall(SYS_futex, address, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, deadline, NULL,
            FUTEX_BITSET_MATCH_ANY);
}

static void ec_wait32(const struct ck_ec_wait_state *state, const uint32_t *address,
                      uint32_t expected, const struct timespec *deadline)
{
    (void)state;
    futex_wait_abs(address, expected, deadline);
}

static void ec_wait64(const struct ck_ec_wait_state *state, const uint64_t *address,
                      uint64_t expected, const struct timespec *deadline)
{
    /* Only the low half is a futex word (little-endian x86-64 / aarch64). */
    (void)state;
    futex_wait_abs((const uint32_t *)address, (uint32_t)expected, deadline);
}

static void ec_wake32(const struct ck_ec_ops *ops, const uint32_t *address)
{
    (void)ops;
    rt_count_wakeup();
    syscall(SYS_futex, address, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT_MAX, NULL, NULL, 0);
}

static void ec_wake64(const struct ck_ec_ops *ops, const uint64_t *address)
{
    ec_wake32(ops, (const uint32_t *)address);
}

static const struct ck_ec_ops ec_ops = {
    .gettime = ec_gettime,
    .wait32 = ec_wait32,
    .wait64 = ec_wait64,
    .wake32 = ec_wake32,
    .wake64 = ec_wake64,
    /* ck_ec busy-waits before it sleeps (100 pauses by default, 0 means that default): several
     * microseconds of a core on every sleep, a tenth of the store's CPU time at 64 clients
     * (perf, issue 15). The runtime spins already, for as long as its waits have shown is worth
     * it (mbox_wait, mbox_spin_*), so ck_ec's own loop only costs: one iteration, the least it
     * takes. */
    .busy_loop_iter = 1,
    /* Multi-producer mode updates the counter with atomic read-modify-writes, so the waiter
     * flag cannot be lost and ck_ec's defensive re-check sleeps (meant for its single-producer
     * mode) can be long: the first after 1 s, then none. */
    .initial_wait_ns = 1000000000u,
};

const struct ck_ec_mode mbox_ec_mode = {
    .ops = &ec_ops,
    .single_producer = false,
};

uint64_t mbox_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void mbox_cpu_relax(void)
{
    ck_pr_stall();
}

/* --- who may spin -------------------------------------------------------------------------- */

/* Actor threads that are awake (registered, and not asleep in mbox_event_wait). Touched once per
 * sleep and wake-up, not per message. */
static _Atomic int awake_threads;
static int n_cores = 1;
static _Thread_local bool counted; /* this thread is registered */

/* Before main: the cores this process may run on (its affinity mask: taskset, a cgroup's cpuset),
 * read once. */
__attribute__((constructor)) static void count_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        n_cores = CPU_COUNT(&set);
    else if (sysconf(_SC_NPROCESSORS_ONLN) > 0)
        n_cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
}

void mbox_thread_begin(void)
{
    counted = true;
    atomic_fetch_add_explicit(&awake_threads, 1, memory_order_relaxed);
}

void mbox_thread_end(void)
{
    counted = false;
    atomic_fetch_sub_explicit(&awake_threads, 1, memory_order_relaxed);
}

int mbox_awake_threads(void)
{
    return atomic_load_explicit(&awake_threads, memory_order_relaxed);
}

bool mbox_spin_allowed(void)
{
    /* relaxed: a hint about the machine, not a synchronisation; a stale count costs one spin
     * too many or too few. */
    int awake = atomic_load_explicit(&awake_threads, memory_order_relaxed);
    return awake + (counted ? 0 : 1) <= n_cores;
}

/* --- the queue ------------------------------------------------------------------------------ */

void mbox_init(struct mailbox *mb)
{
    atomic_init(&mb->head, NULL);
    mb->batch = NULL;
    mbox_event_init(&mb->ev);
}

bool mbox_push(struct mailbox *mb, struct mbox_node *n)
{
    struct mbox_node *old = atomic_load_explicit(&mb->head, memory_order_relaxed);
    do
        atomic_store_explicit(&n->next, old, memory_order_relaxed);
    /* Success is seq_cst: a release that publishes the message's contents (and n->next) to the
     * consumer's acquire exchange, and the push half of the stop handshake (actor.c), which
     * wants this push ordered before the sender's later seq_cst load of "closed". */
    while (!atomic_compare_exchange_weak_explicit(&mb->head, &old, n, memory_order_seq_cst,
                                                  memory_order_relaxed));
    /* ck_ec_inc is a release; it makes a futex call only if the consumer set the waiter flag. */
    mbox_event_signal(&mb->ev);
    return old == NULL;
}

struct mbox_node *mbox_try_pop(struct mailbox *mb)
{
    if (mb->batch == NULL) {
        if (atomic_load_explicit(&mb->head, memory_order_relaxed) == NULL)
            return NULL;
        /* acquire: pairs with the producers' release CAS (the payload edge). */
        struct mbox_node *list = atomic_exchange_explicit(&mb->head, NULL, memory_order_acquire);
        /* The stack is newest first; reversed, it is in the order of the producers' CASes,
         * which keeps each producer's messages in the order it sent them. */
        struct mbox_node *oldest_first = NULL;
        while (list != NULL) {
            struct mbox_node *next = atomic_load_explicit(&list->next, memory_order_relaxed);
            atomic_store_explicit(&list->next, oldest_first, memory_order_relaxed);
            oldest_first = list;
            list = next;
        }
        mb->batch = oldest_first;
        if (mb->batch == NULL)
            return NULL;
    }
    struct mbox_node *n = mb->batch;
    mb->batch = atomic_load_explicit(&n->next, memory_order_relaxed);
    return n;
}

bool mbox_is_empty(struct mailbox *mb)
{
    return mb->batch == NULL && atomic_load_explicit(&mb->head, memory_order_acquire) == NULL;
}

/* ck_ec's backoff sleeps until its own partial deadlines, which can lie past the caller's;
 * the predicate is the documented place to shorten them. */
static int clamp_to_deadline(const struct ck_ec_wait_state *state, struct timespec *partial)
{
    const struct timespec *deadline = state->data;
    if (partial->tv_sec > deadline->tv_sec ||
        (partial->tv_sec == deadline->tv_sec && partial->tv_nsec > deadline->tv_nsec))
        *partial = *deadline;
    return 0;
}

void mbox_event_init(struct mbox_event *e)
{
    ck_ec32_init(&e->ec, 0);
    atomic_init(&e->asleep, false);
}

uint32_t mbox_event_value(const struct mbox_event *e)
{
    return ck_ec32_value(&e->ec);
}

/* Counts a sleeper of e awake again, once: whoever takes the flag (the signaller, or the sleeper
 * itself after a timeout) adds it back. */
static void claim_sleeper(struct mbox_event *e)
{
    if (atomic_exchange_explicit(&e->asleep, false, memory_order_relaxed))
        atomic_fetch_add_explicit(&awake_threads, 1, memory_order_relaxed);
}

void mbox_event_signal(struct mbox_event *e)
{
    ck_ec32_inc(&e->ec, &mbox_ec_mode);
    /* relaxed: the flag only steers spinning; the message's edge is ck_ec's. */
    if (atomic_load_explicit(&e->asleep, memory_order_relaxed))
        claim_sleeper(e);
}

void mbox_event_wait(struct mbox_event *e, uint32_t snapshot, uint64_t deadline_ns)
{
    if (counted) {
        atomic_fetch_sub_explicit(&awake_threads, 1, memory_order_relaxed);
        atomic_store_explicit(&e->asleep, true, memory_order_relaxed);
    }
    if (deadline_ns == 0) {
        ck_ec32_wait(&e->ec, &mbox_ec_mode, snapshot, NULL);
    } else {
        struct timespec deadline = {
            .tv_sec = (time_t)(deadline_ns / 1000000000u),
            .tv_nsec = (long)(deadline_ns % 1000000000u),
        };
        ck_ec32_wait_pred(&e->ec, &mbox_ec_mode, snapshot, clamp_to_deadline, &deadline, &deadline);
    }
    if (counted)
        claim_sleeper(e); /* not signalled (a timeout, a spurious return): counts itself */
}

uint64_t mbox_spin_budget(struct mbox_spin *s, uint64_t max_ns)
{
    s->waits++;
    if (s->spin_ns == 0 && s->waits % MBOX_SPIN_PROBE_EVERY == 0)
        return max_ns;
    return s->spin_ns < max_ns ? s->spin_ns : max_ns;
}

void mbox_spin_update(struct mbox_spin *s, uint64_t waited_ns, bool got_event, uint64_t max_ns)
{
    if (got_event && waited_ns <= max_ns) {
        /* Worth spinning for: cover twice the wait just seen, and at least double. */
        uint64_t grown = 2 * s->spin_ns + 1000u;
        if (grown < 2 * waited_ns + 1000u)
            grown = 2 * waited_ns + 1000u;
        s->spin_ns = grown < max_ns ? grown : max_ns;
    } else {
        s->spin_ns /= 2;
        if (s->spin_ns < 500u)
            s->spin_ns = 0;
    }
}

/* Spin iterations between two clock reads while spinning. */
enum { SPIN_CLOCK_EVERY = 32 };

uint64_t mbox_wait(struct mailbox *mb, uint64_t spin_ns, uint64_t deadline_ns)
{
    if (mb->batch != NULL)
        return 0;
    /* The clock is first read after SPIN_CLOCK_EVERY spins: a partner that answers within a
     * few pauses (the common case when spinning pays) costs no clock read at all. */
    uint64_t start = 0;
    if (spin_ns > 0) {
        uint64_t spin_until = UINT64_MAX;
        for (unsigned i = 1;; i++) {
            if (atomic_load_explicit(&mb->head, memory_order_relaxed) != NULL)
                return start ? mbox_now_ns() - start : 0;
            mbox_cpu_relax();
            if (i % SPIN_CLOCK_EVERY == 0) {
                uint64_t now = mbox_now_ns();
                if (start == 0) {
                    start = now;
                    spin_until = now + spin_ns;
                    if (deadline_ns != 0 && deadline_ns < spin_until)
                        spin_until = deadline_ns;
                }
                if (now >= spin_until || !mbox_spin_allowed())
                    break;
            }
        }
    } else {
        start = mbox_now_ns();
    }

    /* Lost-wakeup freedom: mbox_event_value (ck_ec32_value) is an acquire and a producer's
     * ck_ec32_inc a release that follows its push. If the snapshot already includes a producer's
     * increment, the emptiness check below sees that producer's node; if it does not, the increment
     * changes the counter after our snapshot and ck_ec32_wait returns (or is woken) instead of
     * sleeping.
     */
    uint32_t snapshot = mbox_event_value(&mb->ev);
    if (mbox_is_empty(mb))
        mbox_event_wait(&mb->ev, snapshot, deadline_ns);
    return mbox_now_ns() - start;
}
