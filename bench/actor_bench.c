/* actor_bench.c - the runtime's benchmark: the workloads of ../shared/reference/actor_bench.erl
 * (pingpong, call, fan-in), plus a ring with more actors than cores and the CPU an idle actor
 * system burns. Prints "name value" lines; bench/run.sh puts them beside the BEAM's.
 *
 * Usage: actor_bench [ROUNDS [PRODUCERS [MESSAGES]]]   (defaults 1000000 4 1000000, as the .erl)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "runtime/actor.h"

enum {
    B_PING = 1,
    B_PONG,
    B_START,
    B_DATA,
    B_WAIT,
    B_TOKEN,
    B_DONE,
    B_TICK,
    B_ECHO,
};

struct bmsg {
    struct actor_msg hdr;
    uint64_t n;
    struct actor *reply_to;
};

static struct bmsg *bmsg_new(uint32_t type, uint64_t n)
{
    struct bmsg *m = (struct bmsg *)actor_msg_new(sizeof *m, type);
    m->n = n;
    return m;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "actor_bench: %s: %s\n", what, actor_strerror(rc));
    exit(1);
}

static struct actor *spawn(const char *name, actor_handler_fn handler, void *state)
{
    struct actor *a;
    struct actor_spec spec = {.name = name, .handler = handler, .state = state};
    int rc = actor_spawn(&spec, &a);
    if (rc != ACTOR_OK)
        die("spawn", rc);
    return a;
}

static void finish(struct actor *a)
{
    actor_stop(a);
    actor_join(a);
    actor_unref(a);
}

/* Calls `to` with a fresh message and returns the reply's n (the measured nanoseconds). */
static uint64_t call_n(struct actor *to, uint32_t type, uint64_t n)
{
    struct actor_msg *reply;
    int rc = actor_call(to, &bmsg_new(type, n)->hdr, 600000, &reply);
    if (rc != ACTOR_OK)
        die("call", rc);
    uint64_t v = ((struct bmsg *)reply)->n;
    actor_msg_free(reply);
    return v;
}

/* --- pingpong: cast + cast back, a fresh message each way ------------------------------------- */

struct pinger {
    struct actor *ponger;
    struct actor_call *caller;
    uint64_t left, start_ns;
};

static enum actor_next pinger_handle(struct actor *self, void *state, struct actor_msg *m)
{
    struct pinger *p = state;
    if (m->type == B_START) {
        p->left = ((struct bmsg *)m)->n;
        p->caller = actor_defer(self, m);
        p->start_ns = actor_now_ns();
    } else if (m->type == B_PONG) {
        if (--p->left == 0) {
            uint64_t elapsed = actor_now_ns() - p->start_ns;
            actor_reply_call(self, p->caller, &bmsg_new(B_DONE, elapsed)->hdr);
            actor_msg_free(m);
            return ACTOR_CONTINUE;
        }
    }
    actor_msg_free(m);
    struct bmsg *ping = bmsg_new(B_PING, 0);
    ping->reply_to = self;
    actor_cast(p->ponger, &ping->hdr);
    return ACTOR_CONTINUE;
}

static enum actor_next ponger_handle(struct actor *self, void *state, struct actor_msg *m)
{
    (void)self;
    (void)state;
    struct actor *back = ((struct bmsg *)m)->reply_to;
    actor_msg_free(m);
    actor_cast(back, &bmsg_new(B_PONG, 0)->hdr);
    return ACTOR_CONTINUE;
}

/* The same exchange, but each side sends back the message it received (the handler owns it and
 * may forward it): no allocation, so the difference to bench_pingpong is the allocator's. */
static enum actor_next forward_pong_handle(struct actor *self, void *state, struct actor_msg *m)
{
    (void)state;
    struct bmsg *b = (struct bmsg *)m;
    struct actor *back = b->reply_to;
    b->reply_to = self;
    actor_cast(back, m);
    return ACTOR_CONTINUE;
}

static enum actor_next forward_ping_handle(struct actor *self, void *state, struct actor_msg *m)
{
    struct pinger *p = state;
    struct bmsg *b = (struct bmsg *)m;
    if (m->type == B_START) {
        p->left = b->n;
        p->caller = actor_defer(self, m);
        p->start_ns = actor_now_ns();
        m->type = B_PING; /* the request becomes the ball */
    } else if (--p->left == 0) {
        actor_msg_free(m);
        actor_reply_call(self, p->caller, &bmsg_new(B_DONE, actor_now_ns() - p->start_ns)->hdr);
        return ACTOR_CONTINUE;
    }
    b->reply_to = self;
    actor_cast(p->ponger, m);
    return ACTOR_CONTINUE;
}

static double bench_pingpong_forward(uint64_t rounds)
{
    struct pinger p = {0};
    p.ponger = spawn("ponger", forward_pong_handle, NULL);
    struct actor *pinger = spawn("pinger", forward_ping_handle, &p);
    uint64_t ns = call_n(pinger, B_START, rounds);
    finish(pinger);
    finish(p.ponger);
    return (double)ns / (double)rounds;
}

static double bench_pingpong(uint64_t rounds)
{
    struct pinger p = {0};
    p.ponger = spawn("ponger", ponger_handle, NULL);
    struct actor *pinger = spawn("pinger", pinger_handle, &p);
    uint64_t ns = call_n(pinger, B_START, rounds);
    finish(pinger);
    finish(p.ponger);
    return (double)ns / (double)rounds;
}

/* --- call: a plain thread calling an actor, like gen_server:call from a process --------------- */

static enum actor_next echo_handle(struct actor *self, void *state, struct actor_msg *m)
{
    (void)self;
    (void)state;
    actor_reply(m, &bmsg_new(B_ECHO, 0)->hdr);
    actor_msg_free(m);
    return ACTOR_CONTINUE;
}

static double bench_call(uint64_t rounds)
{
    struct actor *server = spawn("server", echo_handle, NULL);
    uint64_t start = actor_now_ns();
    for (uint64_t i = 0; i < rounds; i++)
        call_n(server, B_ECHO, i);
    uint64_t ns = actor_now_ns() - start;
    finish(server);
    return (double)ns / (double)rounds;
}

/* --- fan-in: P producer actors cast M messages each to one consumer -----------------------------
 */

struct consumer {
    uint64_t expected, received;
    struct actor_call *waiter;
};

static enum actor_next consumer_handle(struct actor *self, void *state, struct actor_msg *m)
{
    struct consumer *c = state;
    if (m->type == B_DATA) {
        c->received++;
    } else if (m->type == B_WAIT) {
        c->waiter = actor_defer(self, m);
    }
    actor_msg_free(m);
    if (c->waiter != NULL && c->received == c->expected) {
        actor_reply_call(self, c->waiter, &bmsg_new(B_DONE, 0)->hdr);
        c->waiter = NULL;
    }
    return ACTOR_CONTINUE;
}

static enum actor_next producer_handle(struct actor *self, void *state, struct actor_msg *m)
{
    (void)self;
    struct actor *consumer = state;
    uint64_t n = ((struct bmsg *)m)->n;
    actor_msg_free(m);
    for (uint64_t i = 0; i < n; i++)
        actor_cast(consumer, &bmsg_new(B_DATA, i)->hdr);
    return ACTOR_CONTINUE;
}

static double bench_fanin(uint64_t producers, uint64_t messages)
{
    struct consumer c = {.expected = producers * messages};
    struct actor *consumer = spawn("consumer", consumer_handle, &c);
    struct actor **prod = malloc(producers * sizeof *prod);
    for (uint64_t i = 0; i < producers; i++)
        prod[i] = spawn("producer", producer_handle, consumer);
    uint64_t start = actor_now_ns();
    for (uint64_t i = 0; i < producers; i++)
        actor_cast(prod[i], &bmsg_new(B_START, messages)->hdr);
    call_n(consumer, B_WAIT, 0);
    uint64_t ns = actor_now_ns() - start;
    for (uint64_t i = 0; i < producers; i++)
        finish(prod[i]);
    free(prod);
    finish(consumer);
    return (double)(producers * messages) / ((double)ns / 1e9);
}

/* --- ring: a token passed around 16 actors (more actors than cores) -----------------------------
 */

enum { RING = 16 };

struct ring_node {
    struct actor *next;
    struct actor *first;
    struct actor_call *caller; /* first node only */
    uint64_t start_ns;
};

static enum actor_next ring_handle(struct actor *self, void *state, struct actor_msg *m)
{
    struct ring_node *r = state;
    struct bmsg *b = (struct bmsg *)m;
    switch (m->type) {
    case B_START:
        r->caller = actor_defer(self, m);
        r->start_ns = actor_now_ns();
        m->type = B_TOKEN; /* the request itself becomes the token */
        actor_cast(r->next, m);
        return ACTOR_CONTINUE;
    case B_TOKEN:
        if (--b->n == 0) {
            m->type = B_DONE;
            actor_cast(r->first, m);
        } else {
            actor_cast(r->next, m); /* forwarded: ownership moves on */
        }
        return ACTOR_CONTINUE;
    case B_DONE:
        actor_msg_free(m);
        actor_reply_call(self, r->caller, &bmsg_new(B_DONE, actor_now_ns() - r->start_ns)->hdr);
        return ACTOR_CONTINUE;
    }
    actor_msg_free(m);
    return ACTOR_CONTINUE;
}

static double bench_ring(uint64_t hops)
{
    struct ring_node nodes[RING] = {{0}};
    struct actor *actors[RING];
    for (int i = 0; i < RING; i++)
        actors[i] = spawn("ring", ring_handle, &nodes[i]);
    for (int i = 0; i < RING; i++) {
        nodes[i].next = actors[(i + 1) % RING];
        nodes[i].first = actors[0];
    }
    uint64_t ns = call_n(actors[0], B_START, hops);
    for (int i = 0; i < RING; i++)
        finish(actors[i]);
    return (double)ns / (double)hops;
}

/* --- idle: 10 actors with 50 ms timers for 5 s; CPU used as a percentage of one core -----------
 */

enum { IDLE_ACTORS = 10, IDLE_PERIOD_MS = 50, IDLE_SECONDS = 5 };

static void ticker_start(struct actor *self, void *state)
{
    (void)state;
    actor_send_after(self, self, &bmsg_new(B_TICK, 0)->hdr, IDLE_PERIOD_MS);
}

static enum actor_next ticker_handle(struct actor *self, void *state, struct actor_msg *m)
{
    uint64_t *ticks = state;
    (*ticks)++;
    actor_msg_free(m);
    actor_send_after(self, self, &bmsg_new(B_TICK, 0)->hdr, IDLE_PERIOD_MS);
    return ACTOR_CONTINUE;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double bench_idle(uint64_t *total_ticks)
{
    uint64_t ticks[IDLE_ACTORS] = {0};
    struct actor *actors[IDLE_ACTORS];
    for (int i = 0; i < IDLE_ACTORS; i++) {
        struct actor_spec spec = {.name = "ticker",
                                  .handler = ticker_handle,
                                  .on_start = ticker_start,
                                  .state = &ticks[i]};
        int rc = actor_spawn(&spec, &actors[i]);
        if (rc != ACTOR_OK)
            die("spawn", rc);
    }
    double cpu0 = cpu_seconds();
    uint64_t wall0 = actor_now_ns();
    struct timespec pause = {.tv_sec = IDLE_SECONDS};
    nanosleep(&pause, NULL);
    double cpu = cpu_seconds() - cpu0;
    double wall = (double)(actor_now_ns() - wall0) / 1e9;
    for (int i = 0; i < IDLE_ACTORS; i++)
        finish(actors[i]);
    *total_ticks = 0;
    for (int i = 0; i < IDLE_ACTORS; i++)
        *total_ticks += ticks[i];
    return 100.0 * cpu / wall;
}

static uint64_t arg_or(int argc, char **argv, int i, uint64_t dflt)
{
    if (argc <= i)
        return dflt;
    char *end;
    unsigned long long v = strtoull(argv[i], &end, 10);
    if (*end != '\0' || v == 0) {
        fprintf(stderr, "actor_bench: argument %d must be a positive integer, not '%s'\n", i,
                argv[i]);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    uint64_t rounds = arg_or(argc, argv, 1, 1000000);
    uint64_t producers = arg_or(argc, argv, 2, 4);
    uint64_t messages = arg_or(argc, argv, 3, 1000000);

    printf("pingpong_roundtrip_ns %.1f\n", bench_pingpong(rounds));
    fflush(stdout);
    printf("pingpong_forward_roundtrip_ns %.1f\n", bench_pingpong_forward(rounds));
    fflush(stdout);
    printf("call_roundtrip_ns %.1f\n", bench_call(rounds));
    fflush(stdout);
    printf("fanin_msgs_per_s %.1f\n", bench_fanin(producers, messages));
    fflush(stdout);
    printf("ring_hop_ns %.1f\n", bench_ring(rounds / 4));
    fflush(stdout);
    uint64_t ticks;
    double idle = bench_idle(&ticks);
    printf("idle_cpu_percent %.2f\n", idle);
    printf("idle_timer_ticks %" PRIu64 "\n", ticks);
    return 0;
}
