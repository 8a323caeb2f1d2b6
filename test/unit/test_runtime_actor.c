/* test_runtime_actor.c - actors end to end on real threads: ordering, calls, timeouts and late
 * replies, deferred replies, timers, stop with work pending, and many actors with no leak.
 * Synchronisation is by calls and bounded polling, never by asserting how long something took. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "runtime/actor.h"
#include "runtime/counters.h"

enum msg_type {
    MSG_SEQ = 1, /* cast: {sender, seq} */
    MSG_REPORT,  /* call: reply with the collector's counters */
    MSG_ECHO,    /* call: reply value + 1 */
    MSG_SLOW,    /* call: deferred, answered by a timer 50 ms later */
    MSG_ANSWER,  /* timer: answer the deferred call */
    MSG_BUMP,    /* cast: counter++ */
    MSG_RELEASE, /* cast: answer the deferred call with the counter */
    MSG_BLOCK,   /* cast: block the handler until released */
    MSG_TIMER,   /* timer: record value */
    MSG_DROP,    /* call: freed without an answer */
    MSG_QUIT,    /* cast: the handler asks to stop */
    MSG_HOLD,    /* call: deferred until MSG_RELEASE */
};

struct msg {
    struct actor_msg hdr;
    uint64_t a, b;
};

static struct msg *new_msg(uint32_t type, uint64_t a, uint64_t b)
{
    struct msg *m = (struct msg *)actor_msg_new(sizeof *m, type);
    m->a = a;
    m->b = b;
    return m;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Counts destructor runs, to prove what the runtime freed. */
static _Atomic int dtor_runs;
static void counting_dtor(struct actor_msg *m)
{
    (void)m;
    atomic_fetch_add(&dtor_runs, 1);
}

static void stop_join_unref(struct actor *a)
{
    actor_stop(a);
    actor_join(a);
    actor_unref(a);
}

/* Sends a call and returns the reply's `a` field; fails the test on any error. */
static uint64_t call_value(struct actor *to, uint32_t type, uint64_t a)
{
    struct actor_msg *reply = NULL;
    int rc = actor_call(to, &new_msg(type, a, 0)->hdr, 5000, &reply);
    assert_int_equal(rc, ACTOR_OK);
    uint64_t v = ((struct msg *)reply)->a;
    actor_msg_free(reply);
    return v;
}

/* --- the collector: checks per-sender order of MSG_SEQ ------------------------------------- */

enum { SENDERS = 4, PER_SENDER = 20000 };

struct collector {
    uint64_t next[SENDERS];
    uint64_t received, out_of_order;
};

static enum actor_next collector_handle(struct actor *self, void *state, struct actor_msg *m)
{
    (void)self;
    struct collector *c = state;
    struct msg *msg = (struct msg *)m;
    if (m->type == MSG_SEQ) {
        if (msg->a >= SENDERS || msg->b != c->next[msg->a])
            c->out_of_order++;
        else
            c->next[msg->a]++;
        c->received++;
        actor_msg_free(m);
    } else if (m->type == MSG_REPORT) {
        actor_reply(m, &new_msg(MSG_REPORT, c->received, c->out_of_order)->hdr);
        actor_msg_free(m);
    } else {
        actor_msg_free(m);
    }
    return ACTOR_CONTINUE;
}

struct sender_arg {
    struct actor *to;
    uint64_t id;
    int failed_sends; /* checked by the test thread: cmocka asserts only work there */
};

static void *send_sequence(void *p)
{
    struct sender_arg *arg = p;
    for (uint64_t i = 0; i < PER_SENDER; i++)
        if (actor_cast(arg->to, &new_msg(MSG_SEQ, arg->id, i)->hdr) != ACTOR_OK)
            arg->failed_sends++;
    return NULL;
}

/* 4 senders x 20000 casts: every message arrives once, each sender's in the order sent. */
static void casts_arrive_once_in_per_sender_order(void **state)
{
    (void)state;
    struct collector c = {0};
    struct actor *a;
    struct actor_spec spec = {.name = "collector", .handler = collector_handle, .state = &c};
    assert_int_equal(actor_spawn(&spec, &a), ACTOR_OK);

    pthread_t threads[SENDERS];
    struct sender_arg args[SENDERS];
    for (uint64_t s = 0; s < SENDERS; s++) {
        args[s] = (struct sender_arg){a, s, 0};
        pthread_create(&threads[s], NULL, send_sequence, &args[s]);
    }
    for (int s = 0; s < SENDERS; s++) {
        pthread_join(threads[s], NULL);
        assert_int_equal(args[s].failed_sends, 0);
    }
    /* A call from this thread is queued behind this thread's casts only, so poll until all
     * senders' messages are in. */
    struct actor_msg *reply = NULL;
    uint64_t received = 0;
    for (int tries = 0; tries < 10000 && received < SENDERS * PER_SENDER; tries++) {
        assert_int_equal(actor_call(a, &new_msg(MSG_REPORT, 0, 0)->hdr, 5000, &reply), ACTOR_OK);
        received = ((struct msg *)reply)->a;
        assert_int_equal(((struct msg *)reply)->b, 0); /* nothing out of order */
        actor_msg_free(reply);
        if (received < SENDERS * PER_SENDER)
            sleep_ms(1);
    }
    assert_int_equal(received, SENDERS * PER_SENDER);
    stop_join_unref(a);
    for (int s = 0; s < SENDERS; s++)
        assert_int_equal(c.next[s], PER_SENDER);
    assert_int_equal(c.out_of_order, 0);
}

/* --- echo, slow and deferring server --------------------------------------------------------- */

struct server {
    struct actor_call *deferred;
    uint64_t counter;
    uint64_t late_answers;
    _Atomic int pending; /* deferred calls held, visible to the test thread */
};

static enum actor_next server_handle(struct actor *self, void *state, struct actor_msg *m)
{
    struct server *s = state;
    struct msg *msg = (struct msg *)m;
    switch (m->type) {
    case MSG_ECHO:
        actor_reply(m, &new_msg(MSG_ECHO, msg->a + 1, 0)->hdr);
        break;
    case MSG_SLOW:
    case MSG_HOLD:
        assert_null(s->deferred);
        s->deferred = actor_defer(self, m);
        assert_non_null(s->deferred);
        atomic_fetch_add(&s->pending, 1);
        if (m->type == MSG_SLOW)
            actor_send_after(self, self, &new_msg(MSG_ANSWER, msg->a, 0)->hdr, 50);
        break;
    case MSG_ANSWER: {
        struct msg *reply = new_msg(MSG_SLOW, msg->a, 0);
        reply->hdr.dtor = counting_dtor; /* the caller gave up: the runtime must free this */
        actor_reply_call(self, s->deferred, &reply->hdr);
        s->deferred = NULL;
        s->late_answers++;
        break;
    }
    case MSG_BUMP:
        s->counter++;
        break;
    case MSG_RELEASE:
        actor_reply_call(self, s->deferred, &new_msg(MSG_RELEASE, s->counter, 0)->hdr);
        s->deferred = NULL;
        break;
    case MSG_REPORT:
        actor_reply(m, &new_msg(MSG_REPORT, s->late_answers, s->counter)->hdr);
        break;
    case MSG_DROP:
        break; /* freed below without an answer */
    case MSG_QUIT:
        actor_msg_free(m);
        return ACTOR_STOP;
    }
    actor_msg_free(m);
    return ACTOR_CONTINUE;
}

static struct actor *spawn_server(struct server *s)
{
    struct actor *a;
    struct actor_spec spec = {.name = "server", .handler = server_handle, .state = s};
    assert_int_equal(actor_spawn(&spec, &a), ACTOR_OK);
    return a;
}

/* A call gets its own answer, 1000 times in a row. */
static void call_gets_its_reply(void **state)
{
    (void)state;
    struct server s = {0};
    struct actor *a = spawn_server(&s);
    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(call_value(a, MSG_ECHO, i), i + 1);
    stop_join_unref(a);
}

/* The runtime's counters see what a run did: 1000 calls to a server are 1000 requests pushed
 * onto its mailbox and 1000 allocations at least (a request, a reply and a call apiece), read
 * after the calls returned. */
static void counters_count_messages_and_allocations(void **state)
{
    (void)state;
    struct server s = {0};
    struct actor *a = spawn_server(&s);
    struct rt_counts before, after;
    rt_counts_read(&before);
    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(call_value(a, MSG_ECHO, i), i + 1);
    rt_counts_read(&after);
    struct rt_counts d = rt_counts_diff(&after, &before);
    assert_true(d.msgs >= 1000);
    assert_true(d.allocs >= 1000);
    stop_join_unref(a);
}

/* A call that times out is not confused with the next call, and its late reply is freed. */
static void timed_out_call_late_reply_is_dropped(void **state)
{
    (void)state;
    atomic_store(&dtor_runs, 0);
    struct server s = {0};
    struct actor *a = spawn_server(&s);
    struct actor_msg *reply = NULL;
    assert_int_equal(actor_call(a, &new_msg(MSG_SLOW, 7, 0)->hdr, 5, &reply), ACTOR_ETIMEDOUT);
    assert_null(reply);
    /* The next call is answered with its own value even though the late answer is pending. */
    assert_int_equal(call_value(a, MSG_ECHO, 41), 42);
    /* Wait (bounded) until the server has sent its late answer, then check it was freed. */
    for (int tries = 0; tries < 5000 && call_value(a, MSG_REPORT, 0) == 0; tries++)
        sleep_ms(1);
    assert_int_equal(call_value(a, MSG_REPORT, 0), 1);
    assert_int_equal(atomic_load(&dtor_runs), 1);
    stop_join_unref(a);
}

struct caller_arg {
    struct actor *to;
    uint32_t type;
    uint32_t timeout_ms;
    int status;
    uint64_t value;
};

static void *make_call(void *p)
{
    struct caller_arg *arg = p;
    struct actor_msg *reply = NULL;
    arg->status = actor_call(arg->to, &new_msg(arg->type, 0, 0)->hdr, arg->timeout_ms, &reply);
    if (arg->status == ACTOR_OK) {
        arg->value = ((struct msg *)reply)->a;
        actor_msg_free(reply);
    }
    return NULL;
}

/* A deferred call is answered after the actor handled other messages (gen_server:reply). */
static void deferred_reply_after_other_messages(void **state)
{
    (void)state;
    struct server s = {0};
    struct actor *a = spawn_server(&s);
    struct caller_arg arg = {.to = a, .type = MSG_HOLD, .timeout_ms = 10000};
    pthread_t caller;
    pthread_create(&caller, NULL, make_call, &arg);
    for (int tries = 0; tries < 5000 && atomic_load(&s.pending) == 0; tries++)
        sleep_ms(1);
    assert_int_equal(atomic_load(&s.pending), 1);
    for (int i = 0; i < 10; i++)
        actor_cast(a, &new_msg(MSG_BUMP, 0, 0)->hdr);
    actor_cast(a, &new_msg(MSG_RELEASE, 0, 0)->hdr);
    pthread_join(caller, NULL);
    assert_int_equal(arg.status, ACTOR_OK);
    assert_int_equal(arg.value, 10);
    stop_join_unref(a);
}

/* A request freed without an answer fails its caller with ACTOR_ENOREPLY. */
static void unanswered_request_fails_caller(void **state)
{
    (void)state;
    struct server s = {0};
    struct actor *a = spawn_server(&s);
    struct actor_msg *reply = NULL;
    assert_int_equal(actor_call(a, &new_msg(MSG_DROP, 0, 0)->hdr, 10000, &reply), ACTOR_ENOREPLY);
    stop_join_unref(a);
}

/* A handler that returns ACTOR_STOP ends its actor; later sends fail with ACTOR_ESTOPPED. */
static void handler_can_stop_its_actor(void **state)
{
    (void)state;
    atomic_store(&dtor_runs, 0);
    struct server s = {0};
    struct actor *a = spawn_server(&s);
    actor_cast(a, &new_msg(MSG_QUIT, 0, 0)->hdr);
    actor_join(a);
    assert_true(actor_is_stopped(a));
    struct msg *late = new_msg(MSG_BUMP, 0, 0);
    late->hdr.dtor = counting_dtor;
    assert_int_equal(actor_cast(a, &late->hdr), ACTOR_ESTOPPED);
    assert_int_equal(atomic_load(&dtor_runs), 1); /* the refused message was freed */
    struct actor_msg *reply = NULL;
    assert_int_equal(actor_call(a, &new_msg(MSG_ECHO, 1, 0)->hdr, 10000, &reply), ACTOR_ESTOPPED);
    actor_unref(a);
}

/* --- timers --------------------------------------------------------------------------------- */

struct timekeeper {
    struct actor *peer;
    uint64_t fired[8];
    _Atomic int n_fired;
    bool cancel_ok, cancel_again_ok, stale_cancel_ok;
};

static void timekeeper_start(struct actor *self, void *state)
{
    struct timekeeper *t = state;
    actor_send_after(self, self, &new_msg(MSG_TIMER, 30, 0)->hdr, 30);
    actor_send_after(self, self, &new_msg(MSG_TIMER, 10, 0)->hdr, 10);
    actor_send_after(self, self, &new_msg(MSG_TIMER, 20, 0)->hdr, 20);
    timer_id doomed = actor_send_after(self, self, &new_msg(MSG_TIMER, 15, 0)->hdr, 15);
    t->cancel_ok = actor_cancel_timer(self, doomed);
    t->cancel_again_ok = actor_cancel_timer(self, doomed);
    /* The freed slot is reused by the next timer; the old id must stay powerless. */
    actor_send_after(self, self, &new_msg(MSG_TIMER, 25, 0)->hdr, 25);
    t->stale_cancel_ok = actor_cancel_timer(self, doomed);
    /* A timer for another actor is cast to it when due. */
    actor_send_after(self, t->peer, &new_msg(MSG_BUMP, 0, 0)->hdr, 5);
}

static enum actor_next timekeeper_handle(struct actor *self, void *state, struct actor_msg *m)
{
    (void)self;
    struct timekeeper *t = state;
    if (m->type == MSG_TIMER) {
        int n = atomic_load(&t->n_fired);
        if (n < 8)
            t->fired[n] = ((struct msg *)m)->a;
        atomic_store(&t->n_fired, n + 1);
    }
    actor_msg_free(m);
    return ACTOR_CONTINUE;
}

/* Timers fire in deadline order; a cancelled one never fires; a stale id cancels nothing. */
static void timers_fire_in_order_cancel_and_stale(void **state)
{
    (void)state;
    struct server peer_state = {0};
    struct actor *peer = spawn_server(&peer_state);
    struct timekeeper t = {.peer = peer};
    struct actor *a;
    struct actor_spec spec = {.name = "timekeeper",
                              .handler = timekeeper_handle,
                              .on_start = timekeeper_start,
                              .state = &t};
    assert_int_equal(actor_spawn(&spec, &a), ACTOR_OK);
    for (int tries = 0; tries < 5000 && atomic_load(&t.n_fired) < 4; tries++)
        sleep_ms(1);
    sleep_ms(30); /* room for a wrongly fired cancelled timer to show up */
    stop_join_unref(a);
    assert_int_equal(atomic_load(&t.n_fired), 4);
    assert_int_equal(t.fired[0], 10);
    assert_int_equal(t.fired[1], 20);
    assert_int_equal(t.fired[2], 25);
    assert_int_equal(t.fired[3], 30);
    assert_true(t.cancel_ok);
    assert_false(t.cancel_again_ok);
    assert_false(t.stale_cancel_ok);
    /* The peer got the timer cast to it (its counter is the report's second field). */
    uint64_t bumps = 0;
    for (int tries = 0; tries < 5000 && bumps == 0; tries++) {
        struct actor_msg *reply = NULL;
        assert_int_equal(actor_call(peer, &new_msg(MSG_REPORT, 0, 0)->hdr, 5000, &reply), ACTOR_OK);
        bumps = ((struct msg *)reply)->b;
        actor_msg_free(reply);
        if (bumps == 0)
            sleep_ms(1);
    }
    assert_int_equal(bumps, 1);
    stop_join_unref(peer);
}

/* Timers still armed when an actor stops are freed, never delivered. */
static void armed_timers_freed_on_stop(void **state)
{
    (void)state;
    struct server peer_state = {0};
    struct actor *peer = spawn_server(&peer_state);
    struct timekeeper t = {.peer = peer};
    struct actor *a;
    struct actor_spec spec = {.name = "timekeeper",
                              .handler = timekeeper_handle,
                              .on_start = timekeeper_start,
                              .state = &t};
    assert_int_equal(actor_spawn(&spec, &a), ACTOR_OK);
    stop_join_unref(a); /* at once: most timers are still armed (LeakSanitizer checks) */
    assert_true(atomic_load(&t.n_fired) <= 4);
    stop_join_unref(peer);
}

/* --- stop with work pending ------------------------------------------------------------------ */

struct blocker {
    _Atomic int blocked;
    _Atomic int release;
    struct actor_call *deferred;
    int stops;
};

static enum actor_next blocker_handle(struct actor *self, void *state, struct actor_msg *m)
{
    struct blocker *b = state;
    if (m->type == MSG_HOLD) {
        b->deferred = actor_defer(self, m); /* held, never answered by the handler */
    } else if (m->type == MSG_BLOCK) {
        atomic_store(&b->blocked, 1);
        for (int i = 0; i < 10000 && !atomic_load(&b->release); i++)
            sleep_ms(1);
    }
    actor_msg_free(m);
    return ACTOR_CONTINUE;
}

static void blocker_stop(struct actor *self, void *state)
{
    (void)self;
    struct blocker *b = state;
    b->stops++;
}

enum { PENDING_CALLERS = 3, QUEUED_CASTS = 100 };

/* Stopping an actor frees its queued messages and fails every pending call at once, deferred
 * calls included, rather than leaving callers to their timeouts. */
static void stop_frees_queue_and_fails_pending_calls(void **state)
{
    (void)state;
    atomic_store(&dtor_runs, 0);
    struct blocker b = {0};
    struct actor *a;
    struct actor_spec spec = {
        .name = "blocker", .handler = blocker_handle, .on_stop = blocker_stop, .state = &b};
    assert_int_equal(actor_spawn(&spec, &a), ACTOR_OK);

    struct caller_arg deferred_arg = {.to = a, .type = MSG_HOLD, .timeout_ms = 60000};
    pthread_t deferred_caller;
    pthread_create(&deferred_caller, NULL, make_call, &deferred_arg);
    actor_cast(a, &new_msg(MSG_BLOCK, 0, 0)->hdr);
    for (int tries = 0; tries < 5000 && !atomic_load(&b.blocked); tries++)
        sleep_ms(1);
    assert_true(atomic_load(&b.blocked));

    for (int i = 0; i < QUEUED_CASTS; i++) {
        struct msg *m = new_msg(MSG_BUMP, 0, 0);
        m->hdr.dtor = counting_dtor;
        assert_int_equal(actor_cast(a, &m->hdr), ACTOR_OK);
    }
    pthread_t callers[PENDING_CALLERS];
    struct caller_arg args[PENDING_CALLERS];
    for (int i = 0; i < PENDING_CALLERS; i++) {
        args[i] = (struct caller_arg){.to = a, .type = MSG_ECHO, .timeout_ms = 60000};
        pthread_create(&callers[i], NULL, make_call, &args[i]);
    }
    sleep_ms(20); /* let the callers queue their requests (either way they must fail) */
    actor_stop(a);
    atomic_store(&b.release, 1);
    actor_join(a);
    for (int i = 0; i < PENDING_CALLERS; i++) {
        pthread_join(callers[i], NULL);
        assert_int_equal(args[i].status, ACTOR_ESTOPPED);
    }
    pthread_join(deferred_caller, NULL);
    assert_int_equal(deferred_arg.status, ACTOR_ESTOPPED);
    assert_int_equal(atomic_load(&dtor_runs), QUEUED_CASTS);
    assert_int_equal(b.stops, 1);
    actor_unref(a);
}

/* --- many actors ---------------------------------------------------------------------------- */

/* --- asynchronous calls ------------------------------------------------------------------------
 */

enum { ASYNC_ECHOES = 1000, ASYNC_DROPS = 10, ASYNC_TAGS = 2100 };

/* Collects the answers of asynchronous calls by tag; MSG_REPORT (a call) says how many came. */
struct answers {
    uint32_t count[ASYNC_TAGS];
    int status[ASYNC_TAGS];
    uint64_t value[ASYNC_TAGS];
    uint64_t total;
};

static enum actor_next answers_handle(struct actor *self, void *state, struct actor_msg *m)
{
    (void)self;
    struct answers *s = state;
    if (m->type == ACTOR_MSG_ANSWER) {
        struct actor_answer *a = (struct actor_answer *)m;
        if (a->tag < ASYNC_TAGS) {
            s->count[a->tag]++;
            s->status[a->tag] = a->status;
            s->value[a->tag] = a->reply != NULL ? ((struct msg *)a->reply)->a : 0;
        }
        s->total++;
    } else if (m->type == MSG_REPORT) {
        actor_reply(m, &new_msg(MSG_REPORT, s->total, 0)->hdr);
    }
    actor_msg_free(m); /* an answer frees the reply it still holds */
    return ACTOR_CONTINUE;
}

/* Waits (bounded) until the collector has n answers. */
static void await_answers(struct actor *collector, uint64_t n)
{
    for (int i = 0; i < 5000 && call_value(collector, MSG_REPORT, 0) < n; i++)
        sleep_ms(1);
    assert_int_equal(call_value(collector, MSG_REPORT, 0), n);
}

/* actor_call_async: many calls in flight from one thread, each answered exactly once to the
 * collector with its tag: replies, requests freed unanswered (ENOREPLY), a deferred call whose
 * server stops (ESTOPPED), a call to a stopped server (ESTOPPED); and an answer to a stopped
 * collector is freed (LeakSanitizer would say otherwise). */
static void async_calls_answered_once_by_tag(void **state)
{
    (void)state;
    struct server s = {0};
    struct actor *server = spawn_server(&s);
    struct answers *ans = calloc(1, sizeof *ans);
    assert_non_null(ans);
    struct actor *collector;
    struct actor_spec spec = {.name = "answers", .handler = answers_handle, .state = ans};
    assert_int_equal(actor_spawn(&spec, &collector), ACTOR_OK);
    for (uint64_t t = 0; t < ASYNC_ECHOES; t++)
        actor_call_async(server, &new_msg(MSG_ECHO, t, 0)->hdr, collector, t);
    for (uint64_t t = ASYNC_ECHOES; t < ASYNC_ECHOES + ASYNC_DROPS; t++)
        actor_call_async(server, &new_msg(MSG_DROP, 0, 0)->hdr, collector, t);
    await_answers(collector, ASYNC_ECHOES + ASYNC_DROPS);
    actor_call_async(server, &new_msg(MSG_HOLD, 0, 0)->hdr, collector, 2000);
    for (int i = 0; i < 5000 && atomic_load(&s.pending) == 0; i++)
        sleep_ms(1);
    stop_join_unref(server); /* fails the held call */
    struct server s2 = {0};
    struct actor *stopped = spawn_server(&s2);
    actor_stop(stopped);
    actor_join(stopped);
    actor_call_async(stopped, &new_msg(MSG_ECHO, 7, 0)->hdr, collector, 2001);
    await_answers(collector, ASYNC_ECHOES + ASYNC_DROPS + 2);
    /* What the test thread reads was written before the collector's last REPORT reply. */
    for (uint64_t t = 0; t < ASYNC_ECHOES; t++) {
        assert_int_equal(ans->count[t], 1);
        assert_int_equal(ans->status[t], ACTOR_OK);
        assert_int_equal(ans->value[t], t + 1);
    }
    for (uint64_t t = ASYNC_ECHOES; t < ASYNC_ECHOES + ASYNC_DROPS; t++) {
        assert_int_equal(ans->count[t], 1);
        assert_int_equal(ans->status[t], ACTOR_ENOREPLY);
    }
    assert_int_equal(ans->count[2000], 1);
    assert_int_equal(ans->status[2000], ACTOR_ESTOPPED);
    assert_int_equal(ans->count[2001], 1);
    assert_int_equal(ans->status[2001], ACTOR_ESTOPPED);
    /* The collector stops: an answer sent to it now is freed with its reply. */
    actor_stop(collector);
    actor_join(collector);
    struct server s3 = {0};
    struct actor *server3 = spawn_server(&s3);
    actor_call_async(server3, &new_msg(MSG_ECHO, 1, 0)->hdr, collector, 1);
    assert_int_equal(call_value(server3, MSG_ECHO, 5), 6); /* the async one was handled first */
    stop_join_unref(server3);
    actor_unref(stopped);
    actor_unref(collector);
    free(ans);
}

/* --- an event-loop actor ------------------------------------------------------------------- */

/* The loop of an event-loop actor as a network front end would write it, with poll(2) in place
 * of libevent: wait for the wake fd or the next timer, then run what is ready. */
static void poll_loop(struct actor *self, void *state)
{
    (void)state;
    uint64_t next_timer_ns = 0;
    for (;;) {
        int timeout_ms = -1;
        if (next_timer_ns != 0) {
            uint64_t now = actor_now_ns();
            timeout_ms = next_timer_ns > now ? (int)((next_timer_ns - now) / 1000000u) + 1 : 0;
        }
        struct pollfd pfd = {.fd = actor_loop_fd(self), .events = POLLIN};
        (void)poll(&pfd, 1, timeout_ms);
        if (actor_loop_run_ready(self, &next_timer_ns) == ACTOR_STOP)
            return;
    }
}

/* What the loop actor saw: answers by tag (struct answers), and timers it armed on request
 * (MSG_BUMP: a timer of `a` ms; MSG_TIMER, when it fires, counts in `timers`). */
struct loop_state {
    struct answers ans;
    uint64_t timers;
};

static enum actor_next loop_handle(struct actor *self, void *state, struct actor_msg *m)
{
    struct loop_state *s = state;
    if (m->type == MSG_BUMP) {
        actor_send_after(self, self, &new_msg(MSG_TIMER, 0, 0)->hdr,
                         (uint32_t)((struct msg *)m)->a);
    } else if (m->type == MSG_TIMER) {
        s->timers++;
    } else if (m->type == MSG_REPORT && ((struct msg *)m)->a == 1) {
        actor_reply(m, &new_msg(MSG_REPORT, s->timers, 0)->hdr);
    } else {
        return answers_handle(self, &s->ans, m);
    }
    actor_msg_free(m);
    return ACTOR_CONTINUE;
}

/* An actor run by its own event loop (actor_spec.loop) gets every answer of many asynchronous
 * calls and casts from other threads, answers calls, fires its timers in a quiet mailbox, and
 * stops when asked: the wake fd misses no message. */
static void event_loop_actor_misses_nothing(void **state)
{
    (void)state;
    struct server s = {0};
    struct actor *server = spawn_server(&s);
    struct loop_state *ls = calloc(1, sizeof *ls);
    assert_non_null(ls);
    struct actor *looped;
    struct actor_spec spec = {
        .name = "looped", .handler = loop_handle, .loop = poll_loop, .state = ls};
    assert_int_equal(actor_spawn(&spec, &looped), ACTOR_OK);
    assert_true(actor_loop_fd(looped) >= 0);
    for (int round = 0; round < 20; round++) {
        for (uint64_t t = 0; t < ASYNC_ECHOES / 20; t++) {
            uint64_t tag = (uint64_t)round * (ASYNC_ECHOES / 20) + t;
            actor_call_async(server, &new_msg(MSG_ECHO, tag, 0)->hdr, looped, tag);
        }
        if (round % 4 == 0)
            sleep_ms(2); /* let the mailbox run dry now and then: wake-ups from empty */
    }
    await_answers(looped, ASYNC_ECHOES);
    for (uint64_t t = 0; t < ASYNC_ECHOES; t++) {
        assert_int_equal(ls->ans.count[t], 1);
        assert_int_equal(ls->ans.value[t], t + 1);
    }
    for (uint64_t i = 0; i < 5; i++)
        actor_cast(looped, &new_msg(MSG_BUMP, 5 + 10 * i, 0)->hdr);
    for (int i = 0; i < 5000 && call_value(looped, MSG_REPORT, 1) < 5; i++)
        sleep_ms(1);
    assert_int_equal(call_value(looped, MSG_REPORT, 1), 5);
    /* A timer still armed when it stops is freed (LeakSanitizer would say otherwise). */
    actor_cast(looped, &new_msg(MSG_BUMP, 60000, 0)->hdr);
    stop_join_unref(looped);
    stop_join_unref(server);
    free(ls);
}

static _Atomic int started, stopped;

static void counted_start(struct actor *self, void *state)
{
    (void)self;
    (void)state;
    atomic_fetch_add(&started, 1);
}

static void counted_stop(struct actor *self, void *state)
{
    (void)self;
    free(state);
    atomic_fetch_add(&stopped, 1);
}

enum { MANY = 200 };

/* 200 actors start, each answers a call and takes casts, and all stop with nothing leaked. */
static void many_actors_start_and_stop(void **state)
{
    (void)state;
    atomic_store(&started, 0);
    atomic_store(&stopped, 0);
    struct actor *actors[MANY];
    for (int i = 0; i < MANY; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker %d", i);
        struct server *s = calloc(1, sizeof *s);
        struct actor_spec spec = {.name = name,
                                  .handler = server_handle,
                                  .on_start = counted_start,
                                  .on_stop = counted_stop,
                                  .state = s};
        assert_int_equal(actor_spawn(&spec, &actors[i]), ACTOR_OK);
        assert_string_equal(actor_name(actors[i]), name);
    }
    for (int i = 0; i < MANY; i++) {
        actor_cast(actors[i], &new_msg(MSG_BUMP, 0, 0)->hdr);
        assert_int_equal(call_value(actors[(i + 1) % MANY], MSG_ECHO, (uint64_t)i), i + 1);
        actor_cast(actors[i], &new_msg(MSG_BUMP, 0, 0)->hdr); /* maybe still queued at stop */
    }
    for (int i = 0; i < MANY; i++)
        actor_stop(actors[i]);
    for (int i = 0; i < MANY; i++) {
        actor_join(actors[i]);
        actor_unref(actors[i]);
    }
    assert_int_equal(atomic_load(&started), MANY);
    assert_int_equal(atomic_load(&stopped), MANY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(casts_arrive_once_in_per_sender_order),
        cmocka_unit_test(call_gets_its_reply),
        cmocka_unit_test(counters_count_messages_and_allocations),
        cmocka_unit_test(timed_out_call_late_reply_is_dropped),
        cmocka_unit_test(deferred_reply_after_other_messages),
        cmocka_unit_test(unanswered_request_fails_caller),
        cmocka_unit_test(handler_can_stop_its_actor),
        cmocka_unit_test(timers_fire_in_order_cancel_and_stale),
        cmocka_unit_test(armed_timers_freed_on_stop),
        cmocka_unit_test(stop_frees_queue_and_fails_pending_calls),
        cmocka_unit_test(async_calls_answered_once_by_tag),
        cmocka_unit_test(event_loop_actor_misses_nothing),
        cmocka_unit_test(many_actors_start_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
