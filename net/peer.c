/* peer.c - raft_kv serve's TCP transport: libevent bufferevents, one connection per pair of nodes
 * (the lower id dials), a checksummed hello each way, then the wire codec's frames.
 *
 * Sending encodes straight into the connection's output buffer and never waits: without a
 * connection, or with more than queue_bytes_max unwritten, the message is dropped (counted), as a
 * lossy network would, and Raft's retries recover. Whatever a peer sends that is not a well-formed
 * frame from that peer to this node closes the connection (logged); the dialling side tries again
 * after a backoff that doubles up to a cap, with jitter so that peers do not redial in step.
 */
#include "net/peer.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "common/alloc.h"
#include "net/addr.h"
#include "common/crc32c.h"
#include "common/le.h"
#include "common/prng.h"
#include "runtime/trace.h"
#include "wire/wire.h"

/* The hello each side sends first (docs/wire.md, "Peer connections"), 32 bytes, little-endian:
 * "RKVP", the wire format version (u8), a kind (u8: 0 from the dialler, 1 the acceptor's
 * answer), two zero bytes, from (u32), to (u32), the cluster id (u64), four zero bytes, and the
 * CRC32C of the 28 bytes before it (u32). */
enum {
    HELLO_BYTES = 32,
    HELLO_DIAL = 0,
    HELLO_ACCEPT = 1,
    HANDSHAKE_TIMEOUT_S = 5, /* a connection that has not said hello by then is closed */
    PENDING_MAX = 64,        /* accepted connections still in their handshake */
};
static const uint8_t hello_magic[4] = {'R', 'K', 'V', 'P'};

struct conn {
    struct net_peers *p;
    struct bufferevent *bev;
    uint32_t peer; /* the peer's id: known from the start when dialling, from its hello else */
    bool dialler;  /* this side dialled */
    bool ready;    /* the hellos are exchanged: frames flow */
    struct conn *next_pending; /* accepted, before its hello */
};

struct slot {
    struct net_peers *owner;
    uint32_t id;
    struct conn *conn;    /* the connection frames go on (ready), or NULL */
    struct conn *dialing; /* a dial in progress (this side dials this peer) */
    struct event *redial;
    uint32_t backoff_ms; /* the next redial's delay before jitter */
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

struct net_peers {
    struct event_base *base;
    struct net_peers_options opt;
    struct evconnlistener *listener;
    struct slot *slots; /* slots[id], 1..n_nodes; slots[self] unused */
    struct conn *pending;
    uint32_t n_pending;
    struct prng rng;
    struct net_peers_stats stats;
};

static void conn_close(struct conn *c, const char *why);
static void schedule_redial(struct net_peers *p, uint32_t id);

/* --- addresses ------------------------------------------------------------------------------ */

/* The first stream address of "host:port" ("[v6]:port" too). 0, or -1 with err. */
static int resolve(const char *text, struct sockaddr_storage *out, socklen_t *out_len, char *err,
                   size_t err_len)
{
    struct addrinfo *res = NULL;
    const char *why = NULL;
    if (net_resolve(text, AI_ADDRCONFIG, &res, &why) != 0) {
        snprintf(err, err_len, "cannot resolve '%s': %s", text, why);
        return -1;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *out_len = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void set_nodelay(struct bufferevent *bev)
{
    evutil_socket_t fd = bufferevent_getfd(bev);
    int one = 1;
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* --- the hello ------------------------------------------------------------------------------ */

static void hello_encode(const struct net_peers *p, uint8_t kind, uint32_t to, uint8_t *buf)
{
    uint8_t *q = le_put_bytes(buf, hello_magic, sizeof hello_magic);
    q = le_put(q, WIRE_VERSION, 1);
    q = le_put(q, kind, 1);
    q = le_put(q, 0, 2);
    q = le_put(q, p->opt.self, 4);
    q = le_put(q, to, 4);
    q = le_put(q, p->opt.cluster_id, 8);
    q = le_put(q, 0, 4);
    le_put(q, crc32c(0, buf, HELLO_BYTES - 4), 4);
}

/* Checks a hello of kind from a peer to this node; its sender in *from. NULL if good, else why. */
static const char *hello_check(const struct net_peers *p, const uint8_t *buf, uint8_t kind,
                               uint32_t *from)
{
    struct le_reader r = {.p = buf, .left = HELLO_BYTES};
    const uint8_t *magic = le_get_bytes(&r, sizeof hello_magic, 1);
    uint64_t version = le_get(&r, 1, 1);
    uint64_t got_kind = le_get(&r, 1, 1);
    uint64_t zero = le_get(&r, 2, 1);
    uint64_t sender = le_get(&r, 4, 1);
    uint64_t to = le_get(&r, 4, 1);
    uint64_t cluster = le_get(&r, 8, 1);
    zero |= le_get(&r, 4, 1);
    uint64_t crc = le_get(&r, 4, 1);
    if (memcmp(magic, hello_magic, sizeof hello_magic) != 0)
        return "not a raft_kv peer (bad magic)";
    if (crc != crc32c(0, buf, HELLO_BYTES - 4))
        return "hello checksum mismatch";
    if (version != WIRE_VERSION)
        return "another wire format version";
    if (got_kind != kind || zero != 0)
        return "unexpected hello";
    if (cluster != p->opt.cluster_id)
        return "another cluster (cluster id differs: not the same [[node]] list)";
    if (to != p->opt.self)
        return "hello meant for another node id";
    if (sender == 0 || sender > p->opt.n_nodes || sender == p->opt.self)
        return "hello from a node id outside the cluster";
    /* The lower id dials: an accepted hello comes from below, an answer from above. */
    if ((kind == HELLO_DIAL) != (sender < p->opt.self))
        return "hello from a node that should not dial this one";
    *from = (uint32_t)sender;
    return NULL;
}

/* --- connections ---------------------------------------------------------------------------- */

static void unlink_pending(struct net_peers *p, struct conn *c)
{
    for (struct conn **at = &p->pending; *at != NULL; at = &(*at)->next_pending) {
        if (*at == c) {
            *at = c->next_pending;
            p->n_pending--;
            return;
        }
    }
}

/* Frees c, detaching it from wherever it is; logs why unless why is NULL. A lost dial or
 * connection of this side's is redialled. */
static void conn_close(struct conn *c, const char *why)
{
    struct net_peers *p = c->p;
    uint32_t peer = c->peer;
    bool redial = false;
    if (why != NULL && peer == 0)
        trace_log(TRACE_INFO, NULL, "peer", "closes an incoming connection before its hello: %s",
                  why);
    else if (why != NULL)
        trace_log(TRACE_INFO, NULL, "peer", "closes the connection %s node %u: %s",
                  c->dialler ? "to" : "from", peer, why);
    if (peer != 0 && p->slots[peer].conn == c) {
        p->slots[peer].conn = NULL;
        p->stats.disconnections++;
        redial = c->dialler;
    } else if (peer != 0 && p->slots[peer].dialing == c) {
        p->slots[peer].dialing = NULL;
        redial = true;
    } else {
        unlink_pending(p, c);
    }
    bufferevent_free(c->bev);
    free(c);
    if (redial)
        schedule_redial(p, peer);
}

/* c has exchanged hellos with peer: frames flow on it from now on. An older connection with that
 * peer (from before the peer restarted) is closed. */
static void conn_ready(struct conn *c)
{
    struct net_peers *p = c->p;
    struct slot *s = &p->slots[c->peer];
    if (s->conn != NULL && s->conn != c)
        conn_close(s->conn, "replaced by a new connection");
    if (s->dialing == c)
        s->dialing = NULL;
    s->conn = c;
    s->backoff_ms = p->opt.backoff_min_ms;
    c->ready = true;
    p->stats.connections++;
    bufferevent_set_timeouts(c->bev, NULL, NULL);
    trace_log(TRACE_INFO, NULL, "peer", "connected with node %u", c->peer);
}

/* Decodes and delivers every whole frame in c's input; false if c was closed. */
static bool read_frames(struct conn *c)
{
    struct net_peers *p = c->p;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    for (;;) {
        size_t len = evbuffer_get_length(in);
        if (len == 0)
            return true;
        size_t want = len < WIRE_HEADER_BYTES ? len : WIRE_HEADER_BYTES;
        struct wire_frame f;
        size_t consumed = 0, needed = 0;
        int rc = wire_decode(evbuffer_pullup(in, (ev_ssize_t)want), want, &f, &consumed, &needed);
        if (rc == WIRE_EAGAIN && want == WIRE_HEADER_BYTES) {
            size_t whole = want + needed;
            if (len < whole)
                return true; /* the rest of the frame is still on its way */
            rc = wire_decode(evbuffer_pullup(in, (ev_ssize_t)whole), whole, &f, &consumed, &needed);
        }
        if (rc == WIRE_EAGAIN)
            return true;
        char why[160];
        if (rc != WIRE_OK) {
            p->stats.bad_frames++;
            snprintf(why, sizeof why, "malformed frame: %s", wire_strerror(rc));
            conn_close(c, why);
            return false;
        }
        evbuffer_drain(in, consumed);
        const char *bad = NULL;
        if (f.kind != WIRE_KIND_RAFT_MESSAGE)
            bad = "a frame that is not a Raft message";
        else if (f.raft.from != c->peer || f.raft.to != p->opt.self)
            bad = "a message whose sender or receiver is not this connection's";
        else if (raft_message_validate(&f.raft, p->opt.self, p->opt.n_nodes, &bad) == 0)
            bad = NULL; /* else bad says why */
        if (bad != NULL) {
            wire_frame_free(&f);
            p->stats.bad_frames++;
            snprintf(why, sizeof why, "unexpected frame: %s", bad);
            conn_close(c, why);
            return false;
        }
        p->stats.frames_received++;
        p->opt.deliver(p->opt.ctx, &f.raft); /* takes what the message owns */
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct net_peers *p = c->p;
    if (!c->ready) {
        struct evbuffer *in = bufferevent_get_input(bev);
        if (evbuffer_get_length(in) < HELLO_BYTES)
            return;
        uint32_t from = 0;
        const char *bad = hello_check(p, evbuffer_pullup(in, HELLO_BYTES),
                                      c->dialler ? HELLO_ACCEPT : HELLO_DIAL, &from);
        if (bad == NULL && c->dialler && from != c->peer)
            bad = "the node at that address has another id";
        if (bad != NULL) {
            p->stats.bad_handshakes++;
            conn_close(c, bad);
            return;
        }
        evbuffer_drain(in, HELLO_BYTES);
        if (!c->dialler) {
            unlink_pending(p, c);
            c->peer = from;
            uint8_t hello[HELLO_BYTES];
            hello_encode(p, HELLO_ACCEPT, from, hello);
            bufferevent_write(bev, hello, sizeof hello);
        }
        conn_ready(c);
    }
    read_frames(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        set_nodelay(c->bev);
        uint8_t hello[HELLO_BYTES];
        hello_encode(c->p, HELLO_DIAL, c->peer, hello);
        bufferevent_write(c->bev, hello, sizeof hello);
        return;
    }
    char why[160];
    if (what & BEV_EVENT_TIMEOUT)
        snprintf(why, sizeof why, "no hello within %d s", HANDSHAKE_TIMEOUT_S);
    else if (what & BEV_EVENT_EOF)
        snprintf(why, sizeof why, "closed by the peer");
    else
        snprintf(why, sizeof why, "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    /* A dial that never connected is not worth a line each time: the peer is down. */
    bool quiet = c->dialler && !c->ready && (what & BEV_EVENT_ERROR);
    conn_close(c, quiet ? NULL : why);
}

static struct conn *conn_new(struct net_peers *p, struct bufferevent *bev, uint32_t peer,
                             bool dialler)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->bev = bev;
    c->peer = peer;
    c->dialler = dialler;
    bufferevent_setcb(bev, on_read, NULL, on_event, c);
    struct timeval handshake = {.tv_sec = HANDSHAKE_TIMEOUT_S};
    bufferevent_set_timeouts(bev, &handshake, &handshake);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    return c;
}

/* --- dialling and accepting ----------------------------------------------------------------- */

static void dial(struct net_peers *p, uint32_t id)
{
    struct slot *s = &p->slots[id];
    if (s->dialing != NULL || s->conn != NULL)
        return;
    struct bufferevent *bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        schedule_redial(p, id);
        return;
    }
    s->dialing = conn_new(p, bev, id, true);
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&s->addr, (int)s->addr_len) != 0)
        conn_close(s->dialing, NULL); /* redials */
}

static void on_redial(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct slot *s = arg;
    dial(s->owner, s->id);
}

static void schedule_redial(struct net_peers *p, uint32_t id)
{
    struct slot *s = &p->slots[id];
    if (s->redial == NULL)
        return; /* closing */
    uint32_t base_ms = s->backoff_ms;
    uint64_t delay_ms = base_ms / 2 + prng_range(&p->rng, 0, base_ms / 2 + 1);
    uint64_t next = (uint64_t)base_ms * 2;
    s->backoff_ms = next > p->opt.backoff_max_ms ? p->opt.backoff_max_ms : (uint32_t)next;
    struct timeval tv = {.tv_sec = (time_t)(delay_ms / 1000),
                         .tv_usec = (suseconds_t)(delay_ms % 1000 * 1000)};
    evtimer_add(s->redial, &tv);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int len,
                      void *arg)
{
    (void)l;
    (void)addr;
    (void)len;
    struct net_peers *p = arg;
    if (p->n_pending >= PENDING_MAX) {
        evutil_closesocket(fd);
        return;
    }
    struct bufferevent *bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        evutil_closesocket(fd);
        return;
    }
    set_nodelay(bev);
    struct conn *c = conn_new(p, bev, 0, false);
    c->next_pending = p->pending;
    p->pending = c;
    p->n_pending++;
}

/* --- the transport -------------------------------------------------------------------------- */

int net_peers_open(struct net_peers **out, struct event_base *base,
                   const struct net_peers_options *opt, char *err, size_t err_len)
{
    struct net_peers *p = xcalloc(1, sizeof *p);
    p->base = base;
    p->opt = *opt;
    if (p->opt.backoff_min_ms == 0)
        p->opt.backoff_min_ms = 1;
    if (p->opt.backoff_max_ms < p->opt.backoff_min_ms)
        p->opt.backoff_max_ms = p->opt.backoff_min_ms;
    prng_seed(&p->rng, opt->seed);
    p->slots = xcalloc((size_t)opt->n_nodes + 1, sizeof *p->slots);
    for (uint32_t id = 1; id <= opt->n_nodes; id++) {
        struct slot *s = &p->slots[id];
        s->owner = p;
        s->id = id;
        s->backoff_ms = p->opt.backoff_min_ms;
        if (resolve(opt->raft_addrs[id - 1], &s->addr, &s->addr_len, err, err_len) != 0)
            goto fail;
        s->redial = evtimer_new(base, on_redial, s);
    }
    struct slot *me = &p->slots[opt->self];
    p->listener = evconnlistener_new_bind(
        base, on_accept, p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 64,
        (struct sockaddr *)&me->addr, (int)me->addr_len);
    if (p->listener == NULL) {
        snprintf(err, err_len, "cannot listen on %s: %s", opt->raft_addrs[opt->self - 1],
                 strerror(errno));
        goto fail;
    }
    for (uint32_t id = opt->self + 1; id <= opt->n_nodes; id++)
        dial(p, id);
    *out = p;
    return 0;
fail:
    net_peers_close(p);
    return -1;
}

void net_peers_send(struct net_peers *p, const struct raft_message *m)
{
    if (m->to == 0 || m->to > p->opt.n_nodes || m->to == p->opt.self)
        return;
    struct conn *c = p->slots[m->to].conn;
    if (c == NULL) {
        p->stats.dropped_unconnected++;
        return;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) > p->opt.queue_bytes_max) {
        p->stats.dropped_queue_full++;
        return;
    }
    size_t size = wire_raft_message_size(m);
    struct evbuffer_iovec vec;
    if (size == 0 || evbuffer_reserve_space(out, (ev_ssize_t)size, &vec, 1) != 1 ||
        vec.iov_len < size) {
        p->stats.dropped_queue_full++;
        return;
    }
    size_t len = 0;
    if (wire_encode_raft_message(m, vec.iov_base, vec.iov_len, &len) != WIRE_OK) {
        trace_log(TRACE_INFO, NULL, "error", "cannot encode a message to node %u", m->to);
        return; /* nothing committed: the reserved space is given back */
    }
    vec.iov_len = len;
    evbuffer_commit_space(out, &vec, 1);
    p->stats.frames_sent++;
}

void net_peers_get_stats(const struct net_peers *p, struct net_peers_stats *out)
{
    *out = p->stats;
}

void net_peers_close(struct net_peers *p)
{
    if (p == NULL)
        return;
    if (p->listener != NULL)
        evconnlistener_free(p->listener);
    while (p->pending != NULL)
        conn_close(p->pending, NULL);
    for (uint32_t id = 1; id <= p->opt.n_nodes; id++) {
        struct slot *s = &p->slots[id];
        if (s->redial != NULL) {
            evtimer_del(s->redial);
            event_free(s->redial);
            s->redial = NULL; /* conn_close below must not redial */
        }
    }
    for (uint32_t id = 1; id <= p->opt.n_nodes; id++) {
        struct slot *s = &p->slots[id];
        struct conn *cs[2] = {s->conn, s->dialing};
        s->conn = s->dialing = NULL;
        for (int i = 0; i < 2; i++) {
            if (cs[i] != NULL) {
                bufferevent_free(cs[i]->bev);
                free(cs[i]);
            }
        }
    }
    free(p->slots);
    free(p);
}
