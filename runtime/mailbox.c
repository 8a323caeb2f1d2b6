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
#define _DEFAULT_SOURCE /* syscall() */
#include "runtime/mailbox.h"

#include <assert.h>
#include <limits.h>
#include <linux/futex.h>
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

/* --- the queue ------------------------------------------------------------------------------ */

void mbox_init(struct mailbox *mb)
{
    atomic_init(&mb->head, NULL);
    mb->batch = NULL;
    ck_ec32_init(&mb->ec, 0);
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
    ck_ec32_inc(&mb->ec, &mbox_ec_mode);
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

void mbox_ec_wait(struct ck_ec32 *ec, uint32_t snapshot, uint64_t deadline_ns)
{
    if (deadline_ns == 0) {
        ck_ec32_wait(ec, &mbox_ec_mode, snapshot, NULL);
        return;
    }
    struct timespec deadline = {
        .tv_sec = (time_t)(deadline_ns / 1000000000u),
        .tv_nsec = (long)(deadline_ns % 1000000000u),
    };
    ck_ec32_wait_pred(ec, &mbox_ec_mode, snapshot, clamp_to_deadline, &deadline, &deadline);
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
                if (now >= spin_until)
                    break;
            }
        }
    } else {
        start = mbox_now_ns();
    }

    /* Lost-wakeup freedom: ck_ec32_value is an acquire and a producer's ck_ec32_inc a release
     * that follows its push. If the snapshot already includes a producer's increment, the
     * emptiness check below sees that producer's node; if it does not, the increment changes
     * the counter after our snapshot and ck_ec32_wait returns (or is woken) instead of sleeping.
     */
    uint32_t snapshot = ck_ec32_value(&mb->ec);
    if (mbox_is_empty(mb))
        mbox_ec_wait(&mb->ec, snapshot, deadline_ns);
    return mbox_now_ns() - start;
}
