/* mailbox.c - Vyukov's intrusive MPSC queue on C11 atomics, parked on a ck_ec event count.
 *
 * Why not ck_fifo/ck_stack: ck's atomics are inline assembly that ThreadSanitizer cannot see, so a
 * ck structure carrying a message between threads makes TSan report races on the payload. The
 * publish/consume edge is therefore written with <stdatomic.h> (release when a producer links a
 * node, acquire when the consumer reads the link), which TSan understands; ck_ec only decides
 * who sleeps and who wakes, and carries no payload ordering that TSan needs to see.
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
    atomic_init(&mb->stub.next, NULL);
    atomic_init(&mb->head, &mb->stub);
    mb->tail = &mb->stub;
    ck_ec32_init(&mb->ec, 0);
}

/* Links n after the previous newest node. */
static void link_node(struct mailbox *mb, struct mbox_node *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    /* acq_rel exchange: acquire orders our store to prev->next after the store of NULL into it
     * by the producer that pushed prev; release publishes n->next = NULL to the next producer.
     * seq_cst (the default) additionally orders this push before the caller's later seq_cst
     * load of the receiver's "closed" flag (see actor.c, the stop handshake). */
    struct mbox_node *prev = atomic_exchange(&mb->head, n);
    /* release: the message's contents, written before the push, happen-before the consumer's
     * acquire load of prev->next that finds n. This is the queue's publication edge. */
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

void mbox_push(struct mailbox *mb, struct mbox_node *n)
{
    link_node(mb, n);
    /* ck_ec_inc is a release; it makes a futex call only if the consumer set the waiter flag. */
    ck_ec32_inc(&mb->ec, &mbox_ec_mode);
}

struct mbox_node *mbox_try_pop(struct mailbox *mb, bool *busy)
{
    struct mbox_node *tail = mb->tail;
    /* acquire: pairs with the producer's release store of this link (the payload edge). */
    struct mbox_node *next = atomic_load_explicit(&tail->next, memory_order_acquire);

    *busy = false;
    if (tail == &mb->stub) {
        if (next == NULL) {
            *busy = atomic_load_explicit(&mb->head, memory_order_acquire) != &mb->stub;
            return NULL;
        }
        mb->tail = next;
        tail = next;
        next = atomic_load_explicit(&tail->next, memory_order_acquire);
    }
    if (next != NULL) {
        mb->tail = next;
        return tail;
    }
    if (atomic_load_explicit(&mb->head, memory_order_acquire) != tail) {
        /* A producer has exchanged the head but not yet linked its node behind tail. */
        *busy = true;
        return NULL;
    }
    /* tail is the last node: put the stub behind it so that tail can be handed out. */
    link_node(mb, &mb->stub);
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next != NULL) {
        mb->tail = next;
        return tail;
    }
    *busy = true; /* another producer slipped in before the stub and is still linking */
    return NULL;
}

bool mbox_is_empty(struct mailbox *mb)
{
    /* The queue is empty exactly when the stub is both the oldest and the newest node. */
    return mb->tail == &mb->stub &&
           atomic_load_explicit(&mb->head, memory_order_acquire) == &mb->stub;
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

void mbox_wait(struct mailbox *mb, uint64_t spin_ns, uint64_t deadline_ns)
{
    if (spin_ns > 0) {
        uint64_t start = mbox_now_ns();
        uint64_t spin_until = start + spin_ns;
        if (deadline_ns != 0 && deadline_ns < spin_until)
            spin_until = deadline_ns;
                /* Spin on the stub's link, which a producer writes once per push, rather than on the
         * head, which every push exchanges: the spinner then reads a line the producer
         * writes, not one it fights over. A producer caught between exchange and link is
         * seen by the parking check below (and increments the event count after linking). */
        if (mb->tail != &mb->stub)
            return;
        for (unsigned i = 1;; i++) {
            if (atomic_load_explicit(&mb->stub.next, memory_order_acquire) != NULL)
                return;
            mbox_cpu_relax();
            if (i % SPIN_CLOCK_EVERY == 0 && mbox_now_ns() >= spin_until)
                break;
        }
    }

    /* Lost-wakeup freedom: ck_ec32_value is an acquire and a producer's ck_ec32_inc a release
     * that follows its push. If the snapshot already includes a producer's increment, the
     * emptiness check below sees that producer's node; if it does not, the increment changes
     * the counter after our snapshot and ck_ec32_wait returns (or is woken) instead of sleeping.
     */
    uint32_t snapshot = ck_ec32_value(&mb->ec);
    if (!mbox_is_empty(mb))
        return;
    mbox_ec_wait(&mb->ec, snapshot, deadline_ns);
}
