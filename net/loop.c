/* loop.c - the network actor of raft_kv serve: libevent's loop on an event-loop actor's thread,
 * woken by its mailbox's fd, carrying node messages to TCP peers and HTTP answers to clients.
 * Everything libevent touches is touched on this thread only, so libevent needs no locking. */
#include "net/loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "actors/node.h"
#include "common/alloc.h"
#include "runtime/trace.h"

enum net_msg_type {
    NET_MSG_OPEN = 0x300, /* call: open the peers and the HTTP server */
    NET_MSG_STATS,        /* call: the peers' counters */
};

struct open_msg {
    struct actor_msg hdr;
    struct actor *node;
    struct net_peers_options peers;
    struct net_http_options http;
    int rc; /* the reply: 0 or -1 with err */
    char err[512];
};

struct stats_msg {
    struct actor_msg hdr;
    struct net_peers_stats stats;
};

struct net_loop {
    struct actor *self;
    struct actor *node; /* a reference, once open */
    struct event_base *base;
    struct event *wake;  /* the mailbox's fd */
    struct event *timer; /* the next actor timer */
    struct net_peers *peers;
    struct net_http *http;
    uint64_t dropped_before_open; /* node messages that came before the peers were open */
};

/* Peers: a message from a peer goes to the node. */
static void deliver_to_node(void *ctx, struct raft_message *m)
{
    struct net_loop *l = ctx;
    actor_cast(l->node, node_raft_msg_new(m));
}

static void on_open(struct net_loop *l, struct open_msg *q)
{
    struct open_msg *a = (struct open_msg *)actor_msg_new(sizeof *a, NET_MSG_OPEN);
    if (l->peers != NULL) {
        a->rc = -1;
        snprintf(a->err, sizeof a->err, "the network is open already");
        actor_reply(&q->hdr, &a->hdr);
        return;
    }
    l->node = actor_ref(q->node);
    q->peers.deliver = deliver_to_node;
    q->peers.ctx = l;
    q->http.node = q->node;
    q->http.loop = l->self;
    if (net_peers_open(&l->peers, l->base, &q->peers, a->err, sizeof a->err) != 0) {
        l->peers = NULL;
        a->rc = -1;
    } else if (net_http_open(&l->http, l->base, &q->http, a->err, sizeof a->err) != 0) {
        l->http = NULL;
        net_peers_close(l->peers);
        l->peers = NULL;
        a->rc = -1;
    }
    if (a->rc != 0) {
        actor_unref(l->node);
        l->node = NULL;
    }
    actor_reply(&q->hdr, &a->hdr);
}

static enum actor_next loop_handle(struct actor *self, void *state, struct actor_msg *msg)
{
    struct net_loop *l = state;
    switch (msg->type) {
    case NODE_MSG_RAFT:
        if (l->peers != NULL)
            net_peers_send(l->peers, node_raft_msg_of(msg));
        else
            l->dropped_before_open++;
        break;
    case ACTOR_MSG_ANSWER:
        if (l->http != NULL) {
            net_http_answer(l->http, (struct actor_answer *)msg);
            return ACTOR_CONTINUE; /* taken */
        }
        break;
    case NET_MSG_OPEN:
        on_open(l, (struct open_msg *)msg);
        break;
    case NET_MSG_STATS: {
        struct stats_msg *a = (struct stats_msg *)actor_msg_new(sizeof *a, NET_MSG_STATS);
        if (l->peers != NULL)
            net_peers_get_stats(l->peers, &a->stats);
        actor_reply(msg, &a->hdr);
        break;
    }
    default:
        trace_log(TRACE_INFO, NULL, "error", "drops a message of unknown type %u", msg->type);
        break;
    }
    (void)self;
    actor_msg_free(msg);
    return ACTOR_CONTINUE;
}

/* The mailbox's fd is readable (or a timer is due): run what is ready, then wait again. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct net_loop *l = arg;
    uint64_t next_ns = 0;
    if (actor_loop_run_ready(l->self, &next_ns) == ACTOR_STOP) {
        event_base_loopbreak(l->base);
        return;
    }
    evtimer_del(l->timer);
    if (next_ns != 0) {
        uint64_t now = actor_now_ns();
        uint64_t wait_us = next_ns > now ? (next_ns - now + 999) / 1000 : 0;
        struct timeval tv = {.tv_sec = (time_t)(wait_us / 1000000u),
                             .tv_usec = (suseconds_t)(wait_us % 1000000u)};
        evtimer_add(l->timer, &tv);
    }
}

static void loop_run(struct actor *self, void *state)
{
    struct net_loop *l = state;
    l->self = self;
    l->wake = event_new(l->base, actor_loop_fd(self), EV_READ | EV_PERSIST, on_wake, l);
    l->timer = evtimer_new(l->base, on_wake, l);
    if (l->wake == NULL || l->timer == NULL || event_add(l->wake, NULL) != 0) {
        fprintf(stderr, "raft_kv: the network loop cannot watch its mailbox\n");
        abort();
    }
    event_active(l->wake, EV_READ, 0); /* messages may have come before the loop started */
    event_base_dispatch(l->base);
}

static void loop_stop(struct actor *self, void *state)
{
    (void)self;
    struct net_loop *l = state;
    net_http_close(l->http);
    net_peers_close(l->peers);
    if (l->wake != NULL)
        event_free(l->wake);
    if (l->timer != NULL)
        event_free(l->timer);
    event_base_free(l->base);
    if (l->node != NULL)
        actor_unref(l->node);
    free(l);
}

int net_loop_spawn(uint32_t self, struct actor **out)
{
    struct net_loop *l = xcalloc(1, sizeof *l);
    l->base = event_base_new();
    if (l->base == NULL) {
        free(l);
        return ACTOR_ESPAWN;
    }
    char name[32];
    snprintf(name, sizeof name, "net %u", self);
    struct actor_spec spec = {
        .name = name, .handler = loop_handle, .loop = loop_run, .on_stop = loop_stop, .state = l};
    int rc = actor_spawn(&spec, out);
    if (rc != ACTOR_OK) {
        event_base_free(l->base);
        free(l);
    }
    return rc;
}

int net_loop_open(struct actor *loop, struct actor *node, const struct net_peers_options *peers,
                  const struct net_http_options *http, char *err, size_t err_len)
{
    struct open_msg *q = (struct open_msg *)actor_msg_new(sizeof *q, NET_MSG_OPEN);
    q->node = node;
    q->peers = *peers;
    q->http = *http;
    struct actor_msg *reply = NULL;
    int rc = actor_call(loop, &q->hdr, 30000, &reply);
    if (rc != ACTOR_OK) {
        snprintf(err, err_len, "the network actor did not answer: %s", actor_strerror(rc));
        return -1;
    }
    struct open_msg *a = (struct open_msg *)reply;
    rc = a->rc;
    if (rc != 0)
        snprintf(err, err_len, "%s", a->err);
    actor_msg_free(reply);
    return rc;
}

int net_loop_peer_stats(struct actor *loop, struct net_peers_stats *out)
{
    struct actor_msg *reply = NULL;
    int rc =
        actor_call(loop, actor_msg_new(sizeof(struct actor_msg), NET_MSG_STATS), 10000, &reply);
    if (rc == ACTOR_OK) {
        *out = ((struct stats_msg *)reply)->stats;
        actor_msg_free(reply);
    }
    return rc;
}
