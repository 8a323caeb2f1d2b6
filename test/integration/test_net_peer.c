/* test_net_peer.c - the TCP transport of raft_kv serve on loopback, three nodes' transports on one
 * event loop: handshakes, messages both ways with their entries intact, redialling after a peer
 * comes back, and refusal of what is not a well-formed frame from the right peer (garbage, a
 * foreign cluster) while the listener keeps serving. Waits are bounded loops, never timings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/peer.h"
#include "runtime/trace.h"

enum { N = 3, WAIT_MS = 10000 };

/* What one node's transport received. */
struct inbox {
    uint32_t count;
    uint64_t term_sum;
    uint64_t entry_bytes;
    uint32_t last_from;
};

static void deliver(void *ctx, struct raft_message *m)
{
    struct inbox *in = ctx;
    in->count++;
    in->term_sum += m->term;
    in->last_from = m->from;
    if (m->type == RAFT_MSG_APPEND_ENTRIES)
        for (uint32_t i = 0; i < m->append_entries.n_entries; i++)
            in->entry_bytes += m->append_entries.entries[i].len;
    raft_message_free(m);
}

/* A free loopback port: bind port 0, read it, close (the kernel does not hand it out again at
 * once). */
static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

struct world {
    struct event_base *base;
    char addr_text[N][32];
    const char *addrs[N];
    struct net_peers *peers[N + 1];
    struct inbox inbox[N + 1];
};

static struct net_peers_options options(struct world *w, uint32_t id, uint64_t cluster)
{
    return (struct net_peers_options){.self = id,
                                      .n_nodes = N,
                                      .raft_addrs = w->addrs,
                                      .cluster_id = cluster,
                                      .queue_bytes_max = 1u << 20,
                                      .backoff_min_ms = 5,
                                      .backoff_max_ms = 50,
                                      .seed = id,
                                      .deliver = deliver,
                                      .ctx = &w->inbox[id]};
}

static void open_node(struct world *w, uint32_t id)
{
    char err[256];
    struct net_peers_options o = options(w, id, 42);
    int rc = net_peers_open(&w->peers[id], w->base, &o, err, sizeof err);
    if (rc != 0)
        fail_msg("open node %u: %s", id, err);
}

static struct world *world_new(void)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->base = event_base_new();
    assert_non_null(w->base);
    for (int i = 0; i < N; i++) {
        snprintf(w->addr_text[i], sizeof w->addr_text[i], "127.0.0.1:%u", free_port());
        w->addrs[i] = w->addr_text[i];
    }
    for (uint32_t id = 1; id <= N; id++)
        open_node(w, id);
    return w;
}

static void world_free(struct world *w)
{
    for (uint32_t id = 1; id <= N; id++)
        net_peers_close(w->peers[id]);
    event_base_free(w->base);
    free(w);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Runs the loop until cond(w, arg) holds or WAIT_MS pass; returns whether it held. */
static bool run_until(struct world *w, bool (*cond)(struct world *, uintptr_t), uintptr_t arg)
{
    uint64_t deadline = now_ms() + WAIT_MS;
    while (!cond(w, arg)) {
        if (now_ms() > deadline)
            return false;
        struct timeval tv = {.tv_usec = 2000};
        event_base_loopexit(w->base, &tv);
        event_base_dispatch(w->base);
    }
    return true;
}

/* Every node has at least min_each connections up (handshakes completed, less those lost). */
static bool all_connected(struct world *w, uintptr_t min_each)
{
    for (uint32_t id = 1; id <= N; id++) {
        struct net_peers_stats s;
        net_peers_get_stats(w->peers[id], &s);
        if (s.connections - s.disconnections < min_each)
            return false;
    }
    return true;
}

static bool received(struct world *w, uintptr_t want_total)
{
    uint64_t total = 0;
    for (uint32_t id = 1; id <= N; id++)
        total += w->inbox[id].count;
    return total >= want_total;
}

static struct raft_message heartbeat(uint32_t from, uint32_t to, uint64_t term)
{
    struct raft_message m = {.type = RAFT_MSG_APPEND_ENTRIES, .term = term, .from = from, .to = to};
    return m;
}

/* Every node connects to every other; messages go both ways, one connection per pair, and an
 * AppendEntries keeps its entries. */
static void messages_flow_between_every_pair(void **state)
{
    (void)state;
    struct world *w = world_new();
    assert_true(run_until(w, all_connected, N - 1));
    uint32_t sent = 0;
    for (uint32_t from = 1; from <= N; from++) {
        for (uint32_t to = 1; to <= N; to++) {
            if (from == to)
                continue;
            for (uint64_t k = 0; k < 50; k++) {
                struct raft_message m = heartbeat(from, to, 1 + k);
                net_peers_send(w->peers[from], &m);
                sent++;
            }
        }
    }
    /* One AppendEntries with entries, 1 -> 3. */
    static uint8_t data[3][1000];
    struct raft_entry entries[3];
    for (int i = 0; i < 3; i++) {
        memset(data[i], 'a' + i, sizeof data[i]);
        entries[i] = (struct raft_entry){
            .term = 1, .type = RAFT_ENTRY_COMMAND, .data = data[i], .len = sizeof data[i]};
    }
    struct raft_message ae = heartbeat(1, 3, 1);
    ae.append_entries.entries = entries;
    ae.append_entries.n_entries = 3;
    ae.append_entries.prev_log_index = 0;
    net_peers_send(w->peers[1], &ae);
    sent++;
    assert_true(run_until(w, received, sent));
    for (uint32_t id = 1; id <= N; id++) {
        assert_int_equal(w->inbox[id].count, (N - 1) * 50 + (id == 3));
        struct net_peers_stats s;
        net_peers_get_stats(w->peers[id], &s);
        assert_int_equal(s.connections, N - 1); /* one per peer */
        assert_int_equal(s.bad_frames, 0);
        assert_int_equal(s.dropped_unconnected + s.dropped_queue_full, 0);
    }
    assert_int_equal(w->inbox[3].entry_bytes, 3000);
    world_free(w);
}

/* A node that goes away and comes back (a restart) is dialled again and messages flow again;
 * meanwhile messages to it are dropped and counted, never queued without bound. */
static void a_restarted_peer_is_dialled_again(void **state)
{
    (void)state;
    struct world *w = world_new();
    assert_true(run_until(w, all_connected, N - 1));
    net_peers_close(w->peers[3]);
    w->peers[3] = NULL;
    /* Node 1 notices (EOF) and node 1's send to 3 is dropped once it has. */
    uint64_t deadline = now_ms() + WAIT_MS;
    struct net_peers_stats s1;
    do {
        struct timeval tv = {.tv_usec = 2000};
        event_base_loopexit(w->base, &tv);
        event_base_dispatch(w->base);
        net_peers_get_stats(w->peers[1], &s1);
    } while (s1.disconnections == 0 && now_ms() < deadline);
    assert_int_equal(s1.disconnections, 1);
    struct raft_message m = heartbeat(1, 3, 7);
    net_peers_send(w->peers[1], &m);
    net_peers_get_stats(w->peers[1], &s1);
    assert_int_equal(s1.dropped_unconnected, 1);
    open_node(w, 3);
    assert_true(run_until(w, all_connected, N - 1));
    uint32_t before = w->inbox[3].count;
    net_peers_send(w->peers[1], &m);
    net_peers_send(
        w->peers[2],
        &(struct raft_message){.type = RAFT_MSG_APPEND_ENTRIES, .term = 7, .from = 2, .to = 3});
    assert_true(run_until(w, received, w->inbox[1].count + w->inbox[2].count + before + 2));
    assert_int_equal(w->inbox[3].count, before + 2);
    world_free(w);
}

/* Connects to node `id`'s raft port and writes len bytes; returns the socket. */
static int connect_and_write(struct world *w, uint32_t id, const void *bytes, size_t len)
{
    const char *colon = strrchr(w->addrs[id - 1], ':');
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)atoi(colon + 1)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    return fd;
}

static bool bad_handshakes_at_2(struct world *w, uintptr_t want)
{
    struct net_peers_stats s;
    net_peers_get_stats(w->peers[2], &s);
    return s.bad_handshakes >= want;
}

/* Garbage on the peer port, and a hello from another cluster, close those connections with a
 * count; the node keeps its real peers and keeps accepting. */
static void garbage_and_foreign_clusters_are_refused(void **state)
{
    (void)state;
    struct world *w = world_new();
    assert_true(run_until(w, all_connected, N - 1));
    char garbage[64];
    memset(garbage, 'G', sizeof garbage);
    int g = connect_and_write(w, 2, garbage, sizeof garbage);
    assert_true(run_until(w, bad_handshakes_at_2, 1));
    /* A well-formed hello of another cluster: a transport of cluster 43 dials node 2. */
    struct inbox ignored = {0};
    struct net_peers_options o = options(w, 1, 43);
    o.ctx = &ignored;
    /* Its own listen address must differ: give it a fresh one, keep node 2's. */
    char own[32];
    snprintf(own, sizeof own, "127.0.0.1:%u", free_port());
    const char *addrs[N] = {own, w->addrs[1], w->addrs[2]};
    o.raft_addrs = addrs;
    struct net_peers *alien = NULL;
    char err[256];
    assert_int_equal(net_peers_open(&alien, w->base, &o, err, sizeof err), 0);
    assert_true(run_until(w, bad_handshakes_at_2, 2));
    net_peers_close(alien);
    /* Node 2 still talks to its real peers. */
    uint32_t before = w->inbox[2].count;
    struct raft_message m = heartbeat(1, 2, 9);
    net_peers_send(w->peers[1], &m);
    assert_true(run_until(w, received, w->inbox[1].count + w->inbox[3].count + before + 1));
    assert_int_equal(w->inbox[2].last_from, 1);
    close(g);
    world_free(w);
}

/* The listener reports an address in use by name. */
static void an_address_in_use_is_a_clear_error(void **state)
{
    (void)state;
    struct world *w = world_new();
    struct net_peers *again = NULL;
    char err[256] = "";
    struct net_peers_options o = options(w, 2, 42);
    assert_int_not_equal(net_peers_open(&again, w->base, &o, err, sizeof err), 0);
    assert_non_null(strstr(err, w->addrs[1]));
    assert_non_null(strstr(err, "in use"));
    world_free(w);
}

int main(void)
{
    struct trace_options quiet = {.level = getenv("NET_TRACE") ? TRACE_INFO : TRACE_QUIET,
                                  .format = TRACE_TEXT};
    trace_open(&quiet);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_flow_between_every_pair),
        cmocka_unit_test(a_restarted_peer_is_dialled_again),
        cmocka_unit_test(garbage_and_foreign_clusters_are_refused),
        cmocka_unit_test(an_address_in_use_is_a_clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
