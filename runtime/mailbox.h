/* mailbox.h - an unbounded multi-producer single-consumer mailbox that parks its consumer.
 *
 * Senders never take a lock: a push is one compare-and-swap onto a Treiber stack; the consumer
 * takes the whole stack with one exchange and reverses it, so it pops in push order. It spins
 * briefly when it runs dry, then parks on a Concurrency Kit event count (ck_ec) whose waiter
 * flag makes a sender issue a futex wake only when the consumer is actually asleep.
 */
#ifndef RAFT_KV_RUNTIME_MAILBOX_H
#define RAFT_KV_RUNTIME_MAILBOX_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <ck_ec.h>

/* Where a thread sleeps until another signals it: a ck_ec event count, and whether an actor's
 * thread sleeps there (for the count of awake threads, see mbox_spin_allowed). */
struct mbox_event {
    struct ck_ec32 ec;
    _Atomic bool asleep; /* a registered thread sleeps here and is not counted awake */
};

void mbox_event_init(struct mbox_event *e);
/* The value to pass to mbox_event_wait (an acquire: whatever a signaller wrote before its
 * signal is visible once the value has moved past it). */
uint32_t mbox_event_value(const struct mbox_event *e);
/* Moves the count on (a release) and wakes a sleeper. A registered sleeper is counted awake from
 * here, before its thread runs again: a thread that just woke three others does not spin on the
 * belief that the cores are free. Any thread. */
void mbox_event_signal(struct mbox_event *e);

/* The link embedded at the start of every queued item. */
struct mbox_node {
    struct mbox_node *_Atomic next;
};

struct mailbox {
    /* Written by every producer: the newest node (a LIFO stack) and the event count. */
    alignas(64) struct mbox_node *_Atomic head;
    struct mbox_event ev;
    /* Consumer only: nodes taken from the stack, oldest first. */
    alignas(64) struct mbox_node *batch;
};

void mbox_init(struct mailbox *mb);

/* Appends n. Any thread; lock-free (a CAS loop), never blocks, wakes a parked consumer.
 * Items pushed by one thread are popped in the order they were pushed. Returns true if n went
 * onto an empty stack: the consumer had taken everything pushed before (or nothing was), so a
 * consumer that sleeps elsewhere than on the event count (an event loop) must be woken. */
bool mbox_push(struct mailbox *mb, struct mbox_node *n);

/* Consumer only. Returns the oldest item, or NULL if there is none. */
struct mbox_node *mbox_try_pop(struct mailbox *mb);

/* Consumer only: true when nothing is queued or being pushed. */
bool mbox_is_empty(struct mailbox *mb);

/* How long a waiter spins before it parks, adapted to what waiting has been worth.
 *
 * Spinning pays only when the awaited event comes within the spin budget and the spinner does
 * not hold a core that the sender needs. So after each wait the waiter reports how long it
 * waited: an event within max_ns sets the spin to twice that wait (at least doubling it, up to
 * max_ns), a longer wait halves it. Two
 * actors bouncing messages keep spinning (the ~100 ns cache-line hand-off); a ring of more
 * actors than cores, or an actor woken by 50 ms timers, stops spinning and parks at once. */
struct mbox_spin {
    uint64_t spin_ns;
    uint32_t waits; /* counts waits, to probe now and then while spinning is off */
};

/* The budget for the next wait, never above max_ns. While spinning is off, one wait in
 * MBOX_SPIN_PROBE_EVERY spins the full max_ns anyway: without that probe, waits that only end
 * by a futex wake-up (longer than any budget) would keep spinning off for good. */
uint64_t mbox_spin_budget(struct mbox_spin *s, uint64_t max_ns);
enum { MBOX_SPIN_PROBE_EVERY = 16 };
/* Records that a wait lasted waited_ns and ended with the event (got_event) or not. */
void mbox_spin_update(struct mbox_spin *s, uint64_t waited_ns, bool got_event, uint64_t max_ns);

/* Spinning only while every awake thread has a core. A thread that spins for a message whose
 * sender has no core to run on only delays it: on a 2-core machine running 5 nodes and a client,
 * spinning cost a third of the store's CPU time and made a single client's requests slower, not
 * faster (issue 15). So the runtime counts the awake threads it knows (the actors' threads,
 * registered by mbox_thread_begin, minus those asleep in mbox_event_wait), and a waiter spins only
 * while that count is at most the cores this process may run on, checking again as it spins. */
void mbox_thread_begin(void); /* the calling thread is an actor's: count it while it is awake */
void mbox_thread_end(void);
/* True if the calling thread may spin now: the awake threads (the caller too, counted or not) are
 * no more than the cores. */
bool mbox_spin_allowed(void);
/* The count itself (registered threads not asleep), for tests. */
int mbox_awake_threads(void);

/* Consumer only: spins for up to spin_ns (stopping early once mbox_spin_allowed says no), then
 * sleeps until an item is pushed or the absolute
 * CLOCK_MONOTONIC deadline deadline_ns passes (0 = no deadline). Returns about how long it
 * waited (0 when an item came within the first few spins). May return early; callers
 * re-check their conditions. Anything that must wake the consumer is pushed as an item: a flag
 * set beside the queue could be missed between the consumer's last check and its sleep. */
uint64_t mbox_wait(struct mailbox *mb, uint64_t spin_ns, uint64_t deadline_ns);

/* Sleeps on e while its value is still snapshot, until the absolute CLOCK_MONOTONIC deadline
 * deadline_ns (0 = none). Any thread. Returns early on any change or spuriously. */
void mbox_event_wait(struct mbox_event *e, uint32_t snapshot, uint64_t deadline_ns);

/* The ck_ec mode shared by every event count in the runtime (futex-backed, multi-producer). */
extern const struct ck_ec_mode mbox_ec_mode;

/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC). */
uint64_t mbox_now_ns(void);

/* One short CPU pause inside a spin loop. */
void mbox_cpu_relax(void);

#endif
