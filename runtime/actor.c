/* actor.c - thread-per-actor runtime: receive loop, cast/call/deferred reply, timers, stop.
 *
 * Design: an actor owns its thread, mailbox and timer heap; the only shared state is the mailbox
 * (lock-free), a call's answer slot (one CAS decides between "answered" and "caller gave up"),
 * reference counts, and the stop/closed flags. Every path that could leave a message or a
 * waiting caller behind (stop, timeout, late reply) is resolved by that one CAS or by the final
 * drain when the last reference goes.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "runtime/actor.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "runtime/counters.h"

/* --- calls ---------------------------------------------------------------------------------- */

/* The state word of a call: waiting, abandoned by the caller, an error, or the reply pointer. */
enum {
    CALL_WAITING = 0,
    CALL_ABANDONED = 1,
    CALL_ERROR_BASE = 2, /* CALL_ERROR_BASE + status */
    CALL_STATE_LIMIT = 64,
};

struct actor_call {
    /* One reference for the caller, one for whoever holds the duty to answer. */
    _Atomic int refs;
    /* Written once from CALL_WAITING, by a CAS: the answerer stores the reply (or an error),
     * or the caller stores CALL_ABANDONED when it gives up. Whoever loses the race knows it:
     * a late answerer frees its reply, a timed-out caller takes the reply that won. */
    _Atomic uintptr_t state;
    struct mbox_event ev; /* the caller parks here */
    /* The receiving actor's list of deferred calls (touched only by that actor's thread). */
    struct actor_call *prev, *next;
    struct actor *owner;
    /* An asynchronous call (actor_call_async, inside a struct async_call): the answer goes to
     * reply_to (a reference) as the struct actor_answer beside it, with tag; nobody waits on ev,
     * and only the answerer holds a ref, which the answer takes over. */
    struct actor *reply_to;
    uint64_t tag;
};

struct actor {
    struct mailbox mbox;
    struct mbox_node stop_node; /* pushed once by actor_stop: a wake-up the loop cannot miss */
    _Atomic bool stop_requested;
    _Atomic bool closed; /* set by the actor's thread as it stops; sends fail from then on */
    _Atomic bool joined;
    _Atomic int refs;
    pthread_t thread;
    char name[32];
    actor_handler_fn handler;
    actor_start_fn on_start;
    actor_stop_fn on_stop;
    actor_loop_fn loop;
    actor_stop_fn on_idle;
    void *state;
    /* An actor run by an event loop (spec.loop): an eventfd that a push onto its empty mailbox
     * makes readable; -1 for an actor of the runtime's own receive loop. */
    int wake_fd;
    /* Actor thread only. */
    struct mbox_spin spin;
    struct timer_heap timers;
    struct actor_call deferred; /* sentinel of a circular list of deferred calls */
};

static _Thread_local struct actor *current_actor;
/* How long this thread spins for a call's answer before parking. */
static _Thread_local struct mbox_spin call_spin;

const char *actor_strerror(int status)
{
    switch (status) {
    case ACTOR_OK:
        return "ok";
    case ACTOR_ETIMEDOUT:
        return "call timed out";
    case ACTOR_ESTOPPED:
        return "actor is stopped";
    case ACTOR_ENOREPLY:
        return "request was dropped without a reply";
    case ACTOR_ESPAWN:
        return "could not start the actor's thread";
    default:
        return "unknown actor status";
    }
}

uint64_t actor_now_ns(void)
{
    return mbox_now_ns();
}

/* The most an idle actor or a waiting caller spins before parking (adapted below it). */
enum { SPIN_MAX_NS = 20000 };

static void call_unref(struct actor_call *call)
{
    /* acq_rel: the last owner sees every write the other owner made before letting go. */
    if (atomic_fetch_sub_explicit(&call->refs, 1, memory_order_acq_rel) == 1)
        free(call);
}

static int push_msg(struct actor *to, struct actor_msg *msg);

static void answer_dtor(struct actor_msg *msg)
{
    struct actor_answer *a = (struct actor_answer *)msg;
    actor_msg_free(a->reply);
    a->reply = NULL;
}

/* An asynchronous call and the answer it becomes, in one allocation: the answer (first, so that
 * freeing the answer frees both) is cast to reply_to when the call is resolved, and from then on
 * the memory is the answer's. */
struct async_call {
    struct actor_answer answer;
    struct actor_call call;
};

/* An asynchronous call resolved with value: its answer is cast to its reply_to. The call is gone
 * once this returns (the answer's receiver may have freed it). */
static void send_answer(struct actor_call *call, uintptr_t value)
{
    struct async_call *ac = (struct async_call *)((char *)call - offsetof(struct async_call, call));
    struct actor_answer *a = &ac->answer;
    a->tag = call->tag;
    if (value >= CALL_STATE_LIMIT) {
        a->status = ACTOR_OK;
        a->reply = (struct actor_msg *)value;
    } else {
        assert(value >= CALL_ERROR_BASE);
        a->status = (int)(value - CALL_ERROR_BASE);
    }
    struct actor *to = call->reply_to;
    call->reply_to = NULL;
    push_msg(to, &a->hdr); /* frees the answer if `to` is stopped */
    actor_unref(to);
}

/* Resolves a call with value (a reply pointer or CALL_ERROR_BASE + status) and drops the
 * answerer's reference. */
static void complete_call(struct actor_call *call, uintptr_t value)
{
    if (call->reply_to != NULL) {
        send_answer(call, value); /* the answerer's reference (the only one) goes with it */
        return;
    }
    uintptr_t expected = CALL_WAITING;
    /* release: the reply's contents happen-before the caller's acquire load of the state. */
    if (atomic_compare_exchange_strong_explicit(&call->state, &expected, value,
                                                memory_order_acq_rel, memory_order_acquire)) {
        mbox_event_signal(&call->ev);
    } else {
        assert(expected == CALL_ABANDONED);
        if (value >= CALL_STATE_LIMIT)
            actor_msg_free((struct actor_msg *)value); /* a late reply: nobody will read it */
    }
    call_unref(call);
}

/* --- messages ------------------------------------------------------------------------------- */

/* Small messages come in three sizes, 48, 96 and 128 bytes (a tick or a cast of a word; a
 * client's request and its reply; an asynchronous call and its answer), and a thread keeps up to
 * SMALL_CACHE_MAX of each size that it frees for its next ones. Messages flow one way and are freed
 * at the other end: a leader frees the requests its clients allocated and allocates the replies
 * they free. glibc keeps only 7 freed blocks of a size per thread and sends the rest back to the
 * arena they came from, so at 64 clients a fifth of the leader's time went to malloc and free
 * (perf, issue 15); with one size for both, the requests a thread frees become the replies it
 * sends. Several sizes rather than one: 128 bytes for every message made a fan-in of tiny messages
 * a third slower (more memory per message). Under AddressSanitizer every message is malloc'd and
 * freed, so that a use after free is still caught. */
enum { SMALL_CLASSES = 3, SMALL_CACHE_MAX = 512 };
static const size_t small_bytes[SMALL_CLASSES] = {48, 96, 128};

#if defined(__SANITIZE_ADDRESS__)
#define SMALL_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SMALL_CACHE 0
#endif
#endif
#ifndef SMALL_CACHE
#define SMALL_CACHE 1
#endif

struct small_block {
    struct small_block *next;
};

static _Thread_local struct small_block *small_cache[SMALL_CLASSES];
static _Thread_local unsigned small_cached[SMALL_CLASSES];
static _Thread_local bool small_registered; /* small_key is set for this thread */
static pthread_key_t small_key;             /* its destructor empties an exiting thread's caches */
static pthread_once_t small_once = PTHREAD_ONCE_INIT;

static void small_drain(void *unused)
{
    (void)unused;
    small_registered = false;
    for (int c = 0; c < SMALL_CLASSES; c++) {
        while (small_cache[c] != NULL) {
            struct small_block *b = small_cache[c];
            small_cache[c] = b->next;
            free(b);
        }
        small_cached[c] = 0;
    }
}

static void small_key_create(void)
{
    if (pthread_key_create(&small_key, small_drain) != 0)
        abort(); /* only for lack of keys, at the first message: nothing can run without it */
}

/* The size class of a message of size bytes, or -1 for one malloc'd as it is. */
static int small_class(size_t size)
{
    if (!SMALL_CACHE)
        return -1;
    for (int c = 0; c < SMALL_CLASSES; c++)
        if (size <= small_bytes[c])
            return c;
    return -1;
}

/* A block for a message of size bytes (uninitialised). */
static void *msg_alloc(size_t size)
{
    int c = small_class(size);
    if (c < 0)
        return xmalloc(size);
    if (small_cache[c] != NULL) {
        struct small_block *b = small_cache[c];
        small_cache[c] = b->next;
        small_cached[c]--;
        return b;
    }
    return xmalloc(small_bytes[c]);
}

/* Frees a block of msg_alloc(size). */
static void msg_release(void *p, size_t size)
{
    int c = small_class(size);
    if (c < 0 || small_cached[c] >= SMALL_CACHE_MAX) {
        free(p);
        return;
    }
    if (!small_registered) {
        pthread_once(&small_once, small_key_create);
        pthread_setspecific(small_key, small_cache); /* non-NULL: the destructor runs */
        small_registered = true;
    }
    struct small_block *b = p;
    b->next = small_cache[c];
    small_cache[c] = b;
    small_cached[c]++;
}

struct actor_msg *actor_msg_new(size_t size, uint32_t type)
{
    assert(size >= sizeof(struct actor_msg) && size <= UINT32_MAX);
    /* malloc + memset: glibc's calloc skips the per-thread cache (about 5 ns more a message). */
    struct actor_msg *msg = msg_alloc(size);
    memset(msg, 0, size);
    msg->type = type;
    msg->size = (uint32_t)size;
    return msg;
}

/* Frees msg; a call request in it is answered with status. */
static void discard(struct actor_msg *msg, int status)
{
    if (msg == NULL)
        return;
    if (msg->call != NULL) {
        struct actor_call *call = msg->call;
        msg->call = NULL;
        complete_call(call, CALL_ERROR_BASE + (uintptr_t)status);
    }
    if (msg->dtor != NULL)
        msg->dtor(msg);
    msg_release(msg, msg->size);
}

void actor_msg_free(struct actor_msg *msg)
{
    discard(msg, ACTOR_ENOREPLY);
}

bool actor_msg_is_call(const struct actor_msg *msg)
{
    return msg->call != NULL;
}

/* --- references and identity ---------------------------------------------------------------- */

static void drain_mailbox(struct actor *a)
{
    struct mbox_node *n;
    while ((n = mbox_try_pop(&a->mbox)) != NULL)
        if (n != &a->stop_node)
            discard((struct actor_msg *)n, ACTOR_ESTOPPED);
}

static void actor_free(struct actor *a)
{
    /* The spawner joins before its last unref, so the thread's own reference is never last. */
    assert(atomic_load(&a->joined));
    /* Messages sent in the instant the actor was closing are still here. */
    drain_mailbox(a);
    assert(timer_heap_len(&a->timers) == 0);
    timer_heap_close(&a->timers);
    if (a->wake_fd >= 0)
        close(a->wake_fd);
    free(a);
}

struct actor *actor_ref(struct actor *a)
{
    int old = atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
    assert(old > 0);
    (void)old;
    return a;
}

void actor_unref(struct actor *a)
{
    if (a != NULL && atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1)
        actor_free(a);
}

const char *actor_name(const struct actor *a)
{
    return a->name;
}

struct actor *actor_self(void)
{
    return current_actor;
}

bool actor_is_stopped(const struct actor *a)
{
    return atomic_load_explicit(&a->closed, memory_order_acquire);
}

/* --- sending -------------------------------------------------------------------------------- */

/* Makes an event-loop actor's wake_fd readable (see actor_loop_run_ready). */
static void wake_loop(struct actor *a)
{
    uint64_t one = 1;
    rt_count_wakeup();
    /* Only EAGAIN can fail it (the counter is at its maximum): readable already. */
    ssize_t n = write(a->wake_fd, &one, sizeof one);
    (void)n;
}

/* Pushes n to a's mailbox, and wakes a's event loop if it may be waiting for it. */
static void push_node(struct actor *a, struct mbox_node *n)
{
    rt_count_msg();
    if (mbox_push(&a->mbox, n) && a->wake_fd >= 0)
        wake_loop(a);
}

static int push_msg(struct actor *to, struct actor_msg *msg)
{
    if (atomic_load(&to->closed)) {
        discard(msg, ACTOR_ESTOPPED);
        return ACTOR_ESTOPPED;
    }
    push_node(to, &msg->node);
    return ACTOR_OK;
}

int actor_cast(struct actor *to, struct actor_msg *msg)
{
    return push_msg(to, msg);
}

bool actor_mailbox_empty(struct actor *self)
{
    assert(self == current_actor);
    return mbox_is_empty(&self->mbox);
}

/* Gives up on a call: true if the caller won (no answer will be read), false if an answer is
 * already in *value. */
static bool abandon(struct actor_call *call, uintptr_t *value)
{
    uintptr_t expected = CALL_WAITING;
    if (atomic_compare_exchange_strong_explicit(&call->state, &expected, CALL_ABANDONED,
                                                memory_order_acq_rel, memory_order_acquire))
        return true;
    *value = expected;
    return false;
}

/* Spins until the call is answered or spin_until_ns passes; returns the state word. */
static uintptr_t spin_for_answer(struct actor_call *call, uint64_t spin_until_ns)
{
    for (unsigned i = 1;; i++) {
        uintptr_t v = atomic_load_explicit(&call->state, memory_order_acquire);
        if (v != CALL_WAITING ||
            (i % 32 == 0 && (actor_now_ns() >= spin_until_ns || !mbox_spin_allowed())))
            return v;
        mbox_cpu_relax();
    }
}

/* Sleeps until the call is answered or deadline_ns passes (then gives up on it); returns the
 * final state word. */
static uintptr_t park_for_answer(struct actor_call *call, uint64_t deadline_ns)
{
    for (;;) {
        /* Same lost-wakeup argument as mbox_wait: snapshot (acquire), re-check, sleep. */
        uint32_t snapshot = mbox_event_value(&call->ev);
        uintptr_t v = atomic_load_explicit(&call->state, memory_order_acquire);
        if (v != CALL_WAITING)
            return v;
        if (actor_now_ns() >= deadline_ns) {
            if (abandon(call, &v))
                return CALL_ABANDONED;
            return v;
        }
        mbox_event_wait(&call->ev, snapshot, deadline_ns);
    }
}

/* Waits for the answer: a spin adapted to how long this thread's calls take, then a sleep. */
static uintptr_t await_answer(struct actor_call *call, uint64_t deadline_ns)
{
    uint64_t max_ns = SPIN_MAX_NS;
    uint64_t start_ns = actor_now_ns();
    uint64_t budget = mbox_spin_budget(&call_spin, max_ns);
    uintptr_t v = spin_for_answer(call, start_ns + (mbox_spin_allowed() ? budget : 0));
    if (v == CALL_WAITING)
        v = park_for_answer(call, deadline_ns);
    mbox_spin_update(&call_spin, actor_now_ns() - start_ns, v != CALL_ABANDONED, max_ns);
    return v;
}

int actor_call(struct actor *to, struct actor_msg *req, uint32_t timeout_ms,
               struct actor_msg **reply)
{
    assert(req->call == NULL);
    struct actor_call *call = xmalloc(sizeof *call);
    atomic_init(&call->refs, 2);
    atomic_init(&call->state, CALL_WAITING);
    mbox_event_init(&call->ev);
    call->prev = call->next = NULL;
    call->owner = NULL;
    call->reply_to = NULL;
    call->tag = 0;
    req->call = call;

    uint64_t deadline_ns = actor_now_ns() + (uint64_t)timeout_ms * 1000000u;
    uintptr_t v = CALL_WAITING;
    push_msg(to, req); /* if `to` is stopped, this already failed the call */
    /* Stop handshake (see shut_down): this seq_cst load follows the push's seq_cst exchange.
     * Either the stopping actor's final drain sees our request and fails it, or we see `closed`
     * here and stop waiting; a request is never left unanswered in a dead mailbox. */
    if (atomic_load(&to->closed) && abandon(call, &v))
        v = CALL_ERROR_BASE + ACTOR_ESTOPPED;
    else
        v = await_answer(call, deadline_ns);

    int status;
    if (v >= CALL_STATE_LIMIT) {
        *reply = (struct actor_msg *)v;
        status = ACTOR_OK;
    } else if (v == CALL_ABANDONED) {
        status = ACTOR_ETIMEDOUT;
    } else {
        assert(v >= CALL_ERROR_BASE);
        status = (int)(v - CALL_ERROR_BASE);
    }
    call_unref(call);
    return status;
}

void actor_call_async(struct actor *to, struct actor_msg *req, struct actor *reply_to, uint64_t tag)
{
    assert(req->call == NULL);
    struct async_call *ac = msg_alloc(sizeof *ac);
    memset(&ac->answer, 0, sizeof ac->answer);
    ac->answer.hdr.type = ACTOR_MSG_ANSWER;
    ac->answer.hdr.size = (uint32_t)sizeof *ac;
    ac->answer.hdr.dtor = answer_dtor;
    struct actor_call *call = &ac->call;
    atomic_init(&call->refs, 1); /* the answerer's only: nobody waits */
    atomic_init(&call->state, CALL_WAITING);
    mbox_event_init(&call->ev);
    call->prev = call->next = NULL;
    call->owner = NULL;
    call->reply_to = actor_ref(reply_to);
    call->tag = tag;
    req->call = call;
    /* A stopped `to` fails the call now; one stopping meanwhile fails it from its last drain
     * (shut_down, or actor_free's): every request in a mailbox is answered or failed. */
    push_msg(to, req);
}

/* --- answering ------------------------------------------------------------------------------ */

bool actor_reply(struct actor_msg *req, struct actor_msg *reply)
{
    if (req->call == NULL) {
        actor_msg_free(reply);
        return false;
    }
    struct actor_call *call = req->call;
    req->call = NULL;
    complete_call(call, (uintptr_t)reply);
    return true;
}

struct actor_call *actor_defer(struct actor *self, struct actor_msg *req)
{
    assert(self == current_actor);
    struct actor_call *call = req->call;
    if (call == NULL)
        return NULL;
    req->call = NULL;
    call->owner = self;
    call->next = self->deferred.next;
    call->prev = &self->deferred;
    call->next->prev = call;
    self->deferred.next = call;
    return call;
}

static void undefer(struct actor *self, struct actor_call *call)
{
    assert(self == current_actor && call->owner == self);
    call->prev->next = call->next;
    call->next->prev = call->prev;
    call->prev = call->next = NULL;
    call->owner = NULL;
}

void actor_reply_call(struct actor *self, struct actor_call *call, struct actor_msg *reply)
{
    undefer(self, call);
    complete_call(call, (uintptr_t)reply);
}

void actor_fail_call(struct actor *self, struct actor_call *call, int status)
{
    assert(status != ACTOR_OK);
    undefer(self, call);
    complete_call(call, CALL_ERROR_BASE + (uintptr_t)status);
}

/* --- timers --------------------------------------------------------------------------------- */

timer_id actor_send_after(struct actor *self, struct actor *to, struct actor_msg *msg,
                          uint32_t delay_ms)
{
    assert(self == current_actor);
    /* A timer for another actor keeps it alive; one for self does not (no self-cycle). */
    void *target = to == self ? (void *)self : (void *)actor_ref(to);
    return timer_heap_add(&self->timers, actor_now_ns() + (uint64_t)delay_ms * 1000000u, target,
                          msg);
}

static void drop_timer(struct actor *self, void *target, void *payload)
{
    actor_msg_free(payload);
    if (target != self)
        actor_unref(target);
}

bool actor_cancel_timer(struct actor *self, timer_id id)
{
    assert(self == current_actor);
    void *target, *payload;
    if (!timer_heap_cancel(&self->timers, id, &target, &payload))
        return false;
    drop_timer(self, target, payload);
    return true;
}

/* Delivers every timer due now, in deadline order. */
static enum actor_next fire_due_timers(struct actor *a)
{
    if (timer_heap_len(&a->timers) == 0)
        return ACTOR_CONTINUE; /* no clock read for actors without timers */
    uint64_t now = actor_now_ns();
    void *target, *payload;
    while (timer_heap_pop_due(&a->timers, now, &target, &payload)) {
        if (target == a) {
            if (a->handler(a, a->state, payload) == ACTOR_STOP)
                return ACTOR_STOP;
        } else {
            actor_cast(target, payload);
            actor_unref(target);
        }
    }
    return ACTOR_CONTINUE;
}

/* --- the receive loop ----------------------------------------------------------------------- */

/* Messages handled between two looks at the clock for due timers while messages keep coming. */
enum { TIMER_CHECK_EVERY = 16 };

static void run_loop(struct actor *a)
{
    unsigned since_timer_check = 0;
    while (!atomic_load_explicit(&a->stop_requested, memory_order_acquire)) {
        struct mbox_node *n = mbox_try_pop(&a->mbox);
        if (n == &a->stop_node)
            continue;
        if (n != NULL) {
            if (a->handler(a, a->state, (struct actor_msg *)n) == ACTOR_STOP)
                return;
            if (timer_heap_len(&a->timers) == 0 || ++since_timer_check < TIMER_CHECK_EVERY)
                continue;
        }
        since_timer_check = 0;
        if (fire_due_timers(a) == ACTOR_STOP)
            return;
        if (n != NULL)
            continue;
        if (a->on_idle != NULL) {
            a->on_idle(a, a->state);
            if (!mbox_is_empty(&a->mbox))
                continue;
        }
        uint64_t deadline_ns = 0;
        timer_heap_next_deadline(&a->timers, &deadline_ns);
        uint64_t max_ns = SPIN_MAX_NS;
        uint64_t budget = mbox_spin_budget(&a->spin, max_ns);
        uint64_t waited_ns = mbox_wait(&a->mbox, mbox_spin_allowed() ? budget : 0, deadline_ns);
        mbox_spin_update(&a->spin, waited_ns, !mbox_is_empty(&a->mbox), max_ns);
    }
}

/* Messages an event-loop actor handles in one actor_loop_run_ready before its loop gets a turn
 * at its sockets. */
enum { LOOP_BATCH = 256 };

int actor_loop_fd(const struct actor *self)
{
    return self->wake_fd;
}

enum actor_next actor_loop_run_ready(struct actor *self, uint64_t *next_timer_ns)
{
    assert(self == current_actor && self->wake_fd >= 0);
    /* Reset the fd before looking at the mailbox: a push after the last look below finds the
     * stack empty and makes the fd readable again, so no message waits unseen (mbox_push). */
    uint64_t count;
    ssize_t got = read(self->wake_fd, &count, sizeof count);
    (void)got; /* EAGAIN: nothing was signalled; the mailbox is looked at anyway */
    *next_timer_ns = 0;
    bool idled = false;
    for (unsigned handled = 0;; handled++) {
        if (atomic_load_explicit(&self->stop_requested, memory_order_acquire))
            return ACTOR_STOP;
        if (handled == LOOP_BATCH) {
            wake_loop(self); /* more may be queued: come back after the loop's other work */
            break;
        }
        struct mbox_node *n = mbox_try_pop(&self->mbox);
        if (n == &self->stop_node)
            continue;
        if (n == NULL && self->on_idle != NULL && !idled) {
            idled = true; /* once a call: what it casts to self is handled, then the loop runs */
            self->on_idle(self, self->state);
            continue;
        }
        if (n == NULL)
            break;
        if (self->handler(self, self->state, (struct actor_msg *)n) == ACTOR_STOP)
            return ACTOR_STOP;
    }
    if (fire_due_timers(self) == ACTOR_STOP)
        return ACTOR_STOP;
    timer_heap_next_deadline(&self->timers, next_timer_ns);
    return ACTOR_CONTINUE;
}

static void shut_down(struct actor *a)
{
    /* seq_cst: one half of the stop handshake with actor_call (see below). */
    atomic_exchange(&a->closed, true);
    if (a->on_stop != NULL)
        a->on_stop(a, a->state);
    while (a->deferred.next != &a->deferred)
        actor_fail_call(a, a->deferred.next, ACTOR_ESTOPPED);
    void *target, *payload;
    while (timer_heap_pop_due(&a->timers, UINT64_MAX, &target, &payload))
        drop_timer(a, target, payload);
    /* The stop handshake (a Dekker pair): a caller does [push: seq_cst exchange of head] then
     * [seq_cst load of closed]; we did [seq_cst exchange of closed] above and now [seq_cst load
     * of head]. In the single total order of seq_cst operations, either the caller's load of
     * closed comes after our exchange (it sees true and stops waiting), or its push comes before
     * this load, which then sees that node (and so does the drain, by coherence) and fails it.
     * (A fence would say the same, but ThreadSanitizer does not model fences.) */
    (void)atomic_load(&a->mbox.head);
    drain_mailbox(a);
}

static void *actor_main(void *arg)
{
    struct actor *a = arg;
    current_actor = a;
    /* An event loop sleeps in its poller, where it cannot say it sleeps: left uncounted. */
    if (a->loop == NULL)
        mbox_thread_begin();
    if (a->on_start != NULL)
        a->on_start(a, a->state);
    if (a->loop != NULL)
        a->loop(a, a->state);
    else
        run_loop(a);
    shut_down(a);
    if (a->loop == NULL)
        mbox_thread_end();
    current_actor = NULL;
    actor_unref(a); /* the thread's reference */
    return NULL;
}

int actor_spawn(const struct actor_spec *spec, struct actor **out)
{
    assert(spec->handler != NULL);
    struct actor *a = xaligned_alloc(64, sizeof *a);
    memset(a, 0, sizeof *a);
    mbox_init(&a->mbox);
    atomic_init(&a->stop_node.next, NULL);
    atomic_init(&a->stop_requested, false);
    atomic_init(&a->closed, false);
    atomic_init(&a->joined, false);
    atomic_init(&a->refs, 2); /* the caller's and the thread's */
    snprintf(a->name, sizeof a->name, "%.31s", spec->name ? spec->name : "actor");
    a->handler = spec->handler;
    a->on_start = spec->on_start;
    a->on_stop = spec->on_stop;
    a->loop = spec->loop;
    a->on_idle = spec->on_idle;
    a->state = spec->state;
    a->wake_fd = -1;
    if (spec->loop != NULL) {
        a->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (a->wake_fd < 0) {
            free(a);
            return ACTOR_ESPAWN;
        }
    }
    timer_heap_init(&a->timers);
    a->deferred.next = a->deferred.prev = &a->deferred;

    if (pthread_create(&a->thread, NULL, actor_main, a) != 0) {
        timer_heap_close(&a->timers);
        if (a->wake_fd >= 0)
            close(a->wake_fd);
        free(a);
        return ACTOR_ESPAWN;
    }
    char short_name[16];
    snprintf(short_name, sizeof short_name, "%.15s", a->name);
    pthread_setname_np(a->thread, short_name);
    *out = a;
    return ACTOR_OK;
}

void actor_stop(struct actor *a)
{
    if (!atomic_exchange(&a->stop_requested, true))
        push_node(a, &a->stop_node);
}

void actor_join(struct actor *a)
{
    assert(a != current_actor);
    bool was_joined = atomic_exchange(&a->joined, true);
    assert(!was_joined);
    (void)was_joined;
    pthread_join(a->thread, NULL);
}
