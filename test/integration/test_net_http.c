/* test_net_http.c - the HTTP client API (net/http.c) of a node run in process: a real node actor
 * and the network actor with its evhttp, spoken to over plain sockets as any client would.
 * Every malformed request is followed by a good one: the server must keep serving. */
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <jansson.h>

#include "actors/node.h"
#include "common/alloc.h"
#include "net/loop.h"
#include "runtime/actor.h"
#include "runtime/directory.h"
#include "runtime/trace.h"

/* --- a node and its network actor --------------------------------------------------------- */

/* An actor that keeps every call it gets unanswered until told to let them go (a node that
 * never answers, for timeouts and clients that leave while they wait). */
enum { HOLD_MSG_RELEASE = 0x900 };
struct hold {
    struct actor_msg **held;
    size_t n, cap;
};

static enum actor_next hold_handle(struct actor *self, void *state, struct actor_msg *msg)
{
    (void)self;
    struct hold *h = state;
    if (msg->type == HOLD_MSG_RELEASE) {
        for (size_t i = 0; i < h->n; i++)
            actor_msg_free(h->held[i]); /* each caller hears ACTOR_ENOREPLY */
        h->n = 0;
        actor_msg_free(msg);
    } else if (actor_msg_is_call(msg)) {
        if (h->n == h->cap) {
            h->cap = h->cap ? 2 * h->cap : 16;
            h->held = xreallocarray(h->held, h->cap, sizeof *h->held);
        }
        h->held[h->n++] = msg;
    } else {
        actor_msg_free(msg);
    }
    return ACTOR_CONTINUE;
}

static void hold_stop(struct actor *self, void *state)
{
    (void)self;
    struct hold *h = state;
    for (size_t i = 0; i < h->n; i++)
        actor_msg_free(h->held[i]);
    free(h->held);
    free(h);
}

struct server {
    uint32_t n_nodes;
    struct raft_disk disk;
    struct actor_dir *dir;
    struct actor *node; /* a node, or a holding actor */
    struct actor *loop;
    uint16_t port;
    char addr[64];
    char other[2][32];
    const char *addrs[3];
    char raft[3][32];
    const char *raft_addrs[3]; /* the peers' ports: free, nobody listens on 2 and 3 */
};

struct server_opts {
    uint32_t n_nodes;     /* voters: 1 (leads) or 3 (never leads alone) */
    uint32_t max_nodes;   /* ids 1..max_nodes (at most 3; 0: n_nodes): those past n_nodes are
                             servers the leader may add, which never answer */
    bool hold;            /* a holding actor instead of the node */
    const char *addr_fmt; /* the http address, "%u" standing for the port; NULL: 127.0.0.1 */
    uint16_t port;        /* 0: a free one */
    uint32_t request_timeout_ms, idle_timeout_ms, max_connections;
    size_t max_header_bytes, max_body_bytes;
};

static int quiet_trace(void **state)
{
    (void)state;
    struct trace_options opt = {.level = TRACE_QUIET, .format = TRACE_TEXT};
    trace_open(&opt);
    return 0;
}

/* A TCP port nobody listens on now (bound to port 0, read, closed). */
static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Starts a node (or a holding actor) and its network actor listening for HTTP; 0, or -1 with
 * err (then nothing is left running). */
static int server_try_start(struct server *s, const struct server_opts *so, char *err,
                            size_t err_len)
{
    memset(s, 0, sizeof *s);
    uint32_t voters = so->n_nodes ? so->n_nodes : 1;
    s->n_nodes = so->max_nodes > voters ? so->max_nodes : voters;
    assert_true(s->n_nodes <= 3);
    raft_disk_init(&s->disk);
    s->dir = actor_dir_new(s->n_nodes);
    assert_int_equal(net_loop_spawn(1, &s->loop), ACTOR_OK);
    if (so->hold) {
        struct actor_spec spec = {.name = "hold",
                                  .handler = hold_handle,
                                  .on_stop = hold_stop,
                                  .state = xcalloc(1, sizeof(struct hold))};
        assert_int_equal(actor_spawn(&spec, &s->node), ACTOR_OK);
    } else {
        struct node_options o = {.disk = &s->disk, .peers = s->dir, .epoch_ns = actor_now_ns()};
        raft_options_default(&o.raft, 1, voters);
        o.raft.max_nodes = s->n_nodes;
        if (s->n_nodes > voters) {
            /* A learner that never answers is dropped after four election timeouts: long ones
             * keep it a learner for the test's refusals, however slow the build. */
            o.raft.election_timeout_ms_min = 5000;
            o.raft.election_timeout_ms_max = 6000;
        }
        char why[256];
        assert_int_equal(node_spawn(&o, &s->node, why, sizeof why), ACTOR_OK);
        actor_dir_set(s->dir, 0, s->node);
        for (uint32_t i = 1; i < s->n_nodes; i++)
            actor_dir_set(s->dir, i, s->loop);
        if (voters == 1) {
            struct node_status st;
            node_campaign(s->node);
            assert_int_equal(node_await_leader(s->node, 10000, &st), ACTOR_OK);
        }
    }
    s->port = so->port ? so->port : free_port();
    /* The address: addr_fmt with "%u" replaced by the port. */
    const char *fmt = so->addr_fmt ? so->addr_fmt : "127.0.0.1:%u";
    const char *at = strstr(fmt, "%u");
    if (at == NULL)
        snprintf(s->addr, sizeof s->addr, "%s", fmt);
    else
        snprintf(s->addr, sizeof s->addr, "%.*s%u%s", (int)(at - fmt), fmt, (unsigned)s->port,
                 at + 2);
    s->addrs[0] = s->addr;
    for (uint32_t i = 1; i < s->n_nodes; i++) {
        snprintf(s->other[i - 1], sizeof s->other[i - 1], "127.0.0.1:%u", 1000u + i);
        s->addrs[i] = s->other[i - 1];
    }
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        snprintf(s->raft[i], sizeof s->raft[i], "127.0.0.1:%u", (unsigned)free_port());
        s->raft_addrs[i] = s->raft[i];
    }
    struct net_peers_options peers = {.self = 1,
                                      .n_nodes = s->n_nodes,
                                      .raft_addrs = s->raft_addrs,
                                      .cluster_id = 1,
                                      .queue_bytes_max = 1u << 20,
                                      .backoff_min_ms = 50,
                                      .backoff_max_ms = 500};
    struct net_http_options http = {
        .self = 1,
        .n_nodes = s->n_nodes,
        .http_addrs = s->addrs,
        .request_timeout_ms = so->request_timeout_ms ? so->request_timeout_ms : 5000,
        .idle_timeout_ms = so->idle_timeout_ms,
        .max_header_bytes = so->max_header_bytes ? so->max_header_bytes : 2048,
        .max_body_bytes = so->max_body_bytes ? so->max_body_bytes : 1024,
        .max_connections = so->max_connections,
    };
    int rc = net_loop_open(s->loop, s->node, &peers, &http, err, err_len);
    if (rc != 0) {
        actor_stop(s->loop);
        actor_join(s->loop);
        actor_stop(s->node);
        actor_join(s->node);
        actor_dir_free(s->dir);
        actor_unref(s->loop);
        actor_unref(s->node);
        raft_disk_close(&s->disk);
    }
    return rc;
}

static void server_start(struct server *s, const struct server_opts *so)
{
    char err[512] = "";
    if (server_try_start(s, so, err, sizeof err) != 0)
        fail_msg("the server does not start: %s", err);
}

static void server_stop(struct server *s)
{
    actor_stop(s->loop);
    actor_join(s->loop);
    actor_stop(s->node);
    actor_join(s->node);
    actor_dir_free(s->dir);
    actor_unref(s->loop);
    actor_unref(s->node);
    raft_disk_close(&s->disk);
}

/* --- a plain-socket HTTP client --------------------------------------------------------------- */

struct resp {
    int status; /* 0: no status line came (closed, reset or timed out) */
    char *head; /* status line and headers, NUL-terminated */
    char *body; /* NUL-terminated (body_len bytes before the NUL) */
    size_t body_len;
    json_t *json; /* the body parsed, or NULL */
};

static void resp_free(struct resp *r)
{
    free(r->head);
    free(r->body);
    if (r->json != NULL)
        json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static uint64_t now_ms(void)
{
    return actor_now_ns() / 1000000u;
}

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the server closed: the reply (or its absence) says the rest */
        p += n;
        len -= (size_t)n;
    }
}

/* Reads up to cap bytes into buf, waiting at most until deadline; the byte count, 0 at the end
 * of the stream (or a reset), -1 at the deadline. */
static ssize_t recv_until(int fd, char *buf, size_t cap, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)(deadline - now));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0)
            return -1;
        ssize_t n = recv(fd, buf, cap, 0);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? 0 : n;
    }
}

/* Reads one response from fd: headers, then Content-Length bytes (or up to the end of the
 * stream without one). Keeps the bytes past it in *extra (for pipelined responses). */
static void read_resp(int fd, struct resp *r, char **carry, size_t *carry_len)
{
    memset(r, 0, sizeof *r);
    size_t cap = 8192, len = 0;
    char *buf = xmalloc(cap);
    if (carry != NULL && *carry_len > 0) {
        if (*carry_len > cap) {
            cap = *carry_len;
            buf = xrealloc(buf, cap);
        }
        memcpy(buf, *carry, *carry_len);
        len = *carry_len;
        *carry_len = 0;
    }
    uint64_t deadline = now_ms() + 15000;
    size_t head_len = 0;
    long content_length = -1;
    bool eof = false;
    for (;;) {
        if (head_len == 0) {
            for (size_t i = 0; i + 3 < len; i++)
                if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
                    head_len = i + 4;
                    break;
                }
            if (head_len > 0) {
                r->head = xstrndup(buf, head_len);
                sscanf(r->head, "HTTP/1.%*d %d", &r->status);
                for (char *line = strstr(r->head, "\r\n"); line != NULL;
                     line = strstr(line + 2, "\r\n"))
                    if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
                        content_length = strtol(line + 17, NULL, 10);
            }
        }
        if (head_len > 0 && content_length >= 0 && len >= head_len + (size_t)content_length)
            break;
        if (eof)
            break;
        if (len == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t n = recv_until(fd, buf + len, cap - len, deadline);
        if (n <= 0)
            eof = true; /* end, reset or deadline */
        else
            len += (size_t)n;
    }
    if (head_len > 0) {
        size_t body_len = content_length >= 0 ? (size_t)content_length : len - head_len;
        if (head_len + body_len > len)
            body_len = len - head_len;
        r->body = xstrndup(buf + head_len, body_len);
        r->body_len = body_len;
        r->json = json_loadb(r->body, body_len, JSON_ALLOW_NUL, NULL);
        size_t used = head_len + body_len;
        if (carry != NULL && used < len) {
            *carry = xrealloc(*carry, len - used);
            memcpy(*carry, buf + used, len - used);
            *carry_len = len - used;
        }
    }
    free(buf);
}

/* Sends raw bytes on a new connection and reads one response (up to the connection's end). */
static void raw(uint16_t port, const void *data, size_t len, struct resp *r)
{
    int fd = connect_to(port);
    send_all(fd, data, len);
    read_resp(fd, r, NULL, NULL);
    close(fd);
}

/* Sends raw bytes, then ends the stream (a client that has said all it will), and reads what
 * comes back. */
static void raw_then_eof(uint16_t port, const void *data, size_t len, struct resp *r)
{
    int fd = connect_to(port);
    send_all(fd, data, len);
    shutdown(fd, SHUT_WR);
    read_resp(fd, r, NULL, NULL);
    close(fd);
}

/* One request with Connection: close; body may be NULL. */
static void req(uint16_t port, const char *method, const char *target, const char *body,
                size_t body_len, struct resp *r)
{
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     method, target, body != NULL ? body_len : (size_t)0);
    assert_true(n > 0 && (size_t)n < sizeof head);
    size_t total = (size_t)n + (body != NULL ? body_len : 0);
    char *msg = xmalloc(total);
    memcpy(msg, head, (size_t)n);
    if (body != NULL)
        memcpy(msg + n, body, body_len);
    raw(port, msg, total, r);
    free(msg);
}

static const char *jstr(const struct resp *r, const char *key)
{
    json_t *v = r->json != NULL ? json_object_get(r->json, key) : NULL;
    return v != NULL && json_is_string(v) ? json_string_value(v) : NULL;
}

static long long jint(const struct resp *r, const char *key)
{
    json_t *v = r->json != NULL ? json_object_get(r->json, key) : NULL;
    return v != NULL && json_is_integer(v) ? json_integer_value(v) : -1;
}

/* True if the response has the header line (its name in any case). */
static bool has_header(const struct resp *r, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = r->head; p != NULL && *p != '\0'; p++)
        if (strncasecmp(p, line, n) == 0)
            return true;
    return false;
}

/* Expects status and, if not NULL, the JSON string field key == value. */
static void expect(const struct resp *r, int status, const char *key, const char *value)
{
    if (r->status != status)
        fail_msg("expected %d, got %d: %s%s", status, r->status, r->head ? r->head : "(none)",
                 r->body ? r->body : "");
    if (key != NULL) {
        const char *got = jstr(r, key);
        if (got == NULL || strcmp(got, value) != 0)
            fail_msg("expected \"%s\":\"%s\" in %d %s", key, value, r->status,
                     r->body ? r->body : "(no body)");
    }
}

static void expect_json(const struct resp *r)
{
    assert_true(has_header(r, "Content-Type: application/json"));
    assert_non_null(r->json);
    assert_true(json_is_object(r->json));
}

/* One request, expecting status and key == value; frees the response. */
static void check(uint16_t port, const char *method, const char *target, const char *body,
                  int status, const char *key, const char *value)
{
    struct resp r;
    req(port, method, target, body, body != NULL ? strlen(body) : 0, &r);
    expect(&r, status, key, value);
    expect_json(&r);
    resp_free(&r);
}

/* The server still answers a good request. */
static void still_serves(uint16_t port)
{
    check(port, "GET", "/status", NULL, 200, "role", "leader");
}

/* --- the API ---------------------------------------------------------------------------- */

/* PUT, GET, DELETE, GET: ok, found, ok, not found, with index, term and node. */
static void put_get_delete_get(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    struct resp r;
    req(s.port, "PUT", "/kv/k1", "v1", 2, &r);
    expect(&r, 200, "result", "ok");
    expect_json(&r);
    assert_true(jint(&r, "index") > 0);
    assert_true(jint(&r, "term") > 0);
    assert_int_equal(jint(&r, "node"), 1);
    resp_free(&r);
    req(s.port, "GET", "/kv/k1", NULL, 0, &r);
    expect(&r, 200, "result", "found");
    expect(&r, 200, "value", "v1");
    resp_free(&r);
    check(s.port, "DELETE", "/kv/k1", NULL, 200, "result", "ok");
    check(s.port, "GET", "/kv/k1", NULL, 404, "result", "not_found");
    check(s.port, "DELETE", "/kv/k1", NULL, 404, "result", "not_found");
    /* An empty value is a value; UTF-8 beyond ASCII and a NUL come back as they went. */
    check(s.port, "PUT", "/kv/empty", "", 200, "result", "ok");
    check(s.port, "GET", "/kv/empty", NULL, 200, "value", "");
    check(s.port, "PUT", "/kv/utf8", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 200, "result",
          "ok");
    check(s.port, "GET", "/kv/utf8", NULL, 200, "value",
          "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
    req(s.port, "PUT", "/kv/nul", "a\0b", 3, &r);
    expect(&r, 200, "result", "ok");
    resp_free(&r);
    req(s.port, "GET", "/kv/nul", NULL, 0, &r);
    json_t *v = json_object_get(r.json, "value");
    assert_non_null(v);
    assert_int_equal(json_string_length(v), 3);
    assert_memory_equal(json_string_value(v), "a\0b", 3);
    resp_free(&r);
    server_stop(&s);
}

/* A PUT of a present key is 409 exists and changes nothing. */
static void put_existing_is_409(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    check(s.port, "PUT", "/kv/k", "first", 200, "result", "ok");
    check(s.port, "PUT", "/kv/k", "second", 409, "result", "exists");
    check(s.port, "GET", "/kv/k", NULL, 200, "value", "first");
    server_stop(&s);
}

/* The same client_id/seq twice: both 200 ok, applied once (a new seq then finds the key). */
static void exactly_once(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    check(s.port, "PUT", "/kv/e?client_id=7&seq=1", "a", 200, "result", "ok");
    check(s.port, "PUT", "/kv/e?client_id=7&seq=1", "a", 200, "result", "ok");
    check(s.port, "PUT", "/kv/e?client_id=7&seq=2", "b", 409, "result", "exists");
    check(s.port, "GET", "/kv/e", NULL, 200, "value", "a");
    /* An older seq than the session's last: its result is gone; 400 stale_seq. */
    check(s.port, "PUT", "/kv/e?client_id=7&seq=1", "a", 400, "error", "stale_seq");
    /* Another client's session is its own. */
    check(s.port, "DELETE", "/kv/e?client_id=8&seq=1", NULL, 200, "result", "ok");
    check(s.port, "DELETE", "/kv/e?client_id=8&seq=1", NULL, 200, "result", "ok");
    check(s.port, "GET", "/kv/e", NULL, 404, "result", "not_found");
    server_stop(&s);
}

/* Every consistency a GET may ask for reads the value. */
static void read_consistencies(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    check(s.port, "PUT", "/kv/r", "x", 200, "result", "ok");
    const char *levels[] = {"linearizable", "lease", "stale", "follower", "log"};
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        char target[64];
        snprintf(target, sizeof target, "/kv/r?consistency=%s", levels[i]);
        check(s.port, "GET", target, NULL, 200, "value", "x");
        snprintf(target, sizeof target, "/kv/missing?consistency=%s", levels[i]);
        check(s.port, "GET", target, NULL, 404, "result", "not_found");
    }
    server_stop(&s);
}

/* /status names the node, its role, term, leader and indexes. */
static void status_fields(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    check(s.port, "PUT", "/kv/a", "1", 200, "result", "ok");
    struct resp r;
    req(s.port, "GET", "/status", NULL, 0, &r);
    expect(&r, 200, "role", "leader");
    expect_json(&r);
    assert_int_equal(jint(&r, "id"), 1);
    assert_true(jint(&r, "term") >= 1);
    assert_int_equal(jint(&r, "leader"), 1);
    assert_true(jint(&r, "commit_index") >= 2); /* the leader's no-op and the put */
    assert_int_equal(jint(&r, "last_applied"), jint(&r, "commit_index"));
    assert_true(jint(&r, "last_index") >= jint(&r, "commit_index"));
    assert_int_equal(jint(&r, "snapshot_index"), 0);
    assert_int_equal(jint(&r, "n_keys"), 1);
    assert_non_null(jstr(&r, "digest"));
    assert_true(json_is_object(json_object_get(r.json, "http")));
    resp_free(&r);
    server_stop(&s);
}

/* Keys: percent-decoded, 1..256 bytes, one path segment. */
static void keys(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    char target[1024];
    char key[300];
    memset(key, 'k', sizeof key);
    snprintf(target, sizeof target, "/kv/%.256s", key);
    check(s.port, "PUT", target, "max", 200, "result", "ok");
    check(s.port, "GET", target, NULL, 200, "value", "max");
    snprintf(target, sizeof target, "/kv/%.257s", key);
    check(s.port, "PUT", target, "over", 400, "error", "bad_key");
    still_serves(s.port);
    check(s.port, "PUT", "/kv/", "empty", 400, "error", "bad_key");
    still_serves(s.port);
    check(s.port, "PUT", "/kv/a/b", "slash", 400, "error", "bad_key");
    still_serves(s.port);
    check(s.port, "PUT", "/kv/%zz", "escape", 400, "error", "bad_key");
    check(s.port, "PUT", "/kv/a%2", "escape", 400, "error", "bad_key");
    still_serves(s.port);
    /* An encoded slash, space and NUL are key bytes; '+' is a plus. */
    check(s.port, "PUT", "/kv/a%2Fb%20c%00d+e", "enc", 200, "result", "ok");
    check(s.port, "GET", "/kv/a%2fb%20c%00d%2Be", NULL, 200, "value", "enc");
    check(s.port, "GET", "/kv/a%2Fb%20c%00d%20e", NULL, 404, "result", "not_found");
    /* 256 bytes once decoded: 768 characters of escapes. */
    char *p = target + snprintf(target, sizeof target, "/kv/");
    for (int i = 0; i < 256; i++)
        p += sprintf(p, "%%%02x", (unsigned)i);
    check(s.port, "PUT", target, "all bytes", 200, "result", "ok");
    check(s.port, "GET", target, NULL, 200, "value", "all bytes");
    server_stop(&s);
}

/* Bad queries are 400 and change nothing. */
static void bad_queries(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    const char *bad[] = {
        "/kv/q?client_id=1",
        "/kv/q?seq=1",
        "/kv/q?client_id=1&seq=0",
        "/kv/q?client_id=0&seq=1",
        "/kv/q?client_id=x&seq=1",
        "/kv/q?client_id=1&seq=-1",
        "/kv/q?client_id=1&seq=1&seq=2",
        "/kv/q?client_id=99999999999999999999&seq=1",
        "/kv/q?bogus=1",
        "/kv/q?consistency",
        "/kv/q?consistency=stale",
        "/kv/q?client_id=1&seq=1%",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        check(s.port, "PUT", bad[i], "v", 400, "error", "bad_query");
        still_serves(s.port);
    }
    check(s.port, "GET", "/kv/q?consistency=bogus", NULL, 400, "error", "bad_query");
    check(s.port, "GET", "/kv/q?consistency=", NULL, 400, "error", "bad_query");
    check(s.port, "DELETE", "/kv/q?consistency=lease", NULL, 400, "error", "bad_query");
    check(s.port, "GET", "/kv/q?consistency=stale&consistency=lease", NULL, 400, "error",
          "bad_query");
    check(s.port, "GET", "/kv/q", NULL, 404, "result", "not_found");
    /* Empty parameters are nothing. */
    check(s.port, "PUT", "/kv/q?&client_id=3&&seq=1&", "v", 200, "result", "ok");
    server_stop(&s);
}

/* Unknown paths are 404, other methods 405 (with Allow), all JSON. */
static void paths_and_methods(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    check(s.port, "GET", "/", NULL, 404, "error", "unknown_path");
    check(s.port, "GET", "/kv", NULL, 404, "error", "unknown_path");
    check(s.port, "GET", "/status/x", NULL, 404, "error", "unknown_path");
    check(s.port, "GET", "/nope?x=1", NULL, 404, "error", "unknown_path");
    struct resp r;
    req(s.port, "POST", "/kv/a", "v", 1, &r);
    expect(&r, 405, "error", "method_not_allowed");
    expect_json(&r);
    assert_true(has_header(&r, "Allow: GET, PUT, DELETE"));
    resp_free(&r);
    check(s.port, "PATCH", "/kv/a", "v", 405, "error", "method_not_allowed");
    check(s.port, "OPTIONS", "/kv/a", NULL, 405, "error", "method_not_allowed");
    check(s.port, "PUT", "/status", "v", 405, "error", "method_not_allowed");
    check(s.port, "DELETE", "/status", NULL, 405, "error", "method_not_allowed");
    /* A method evhttp does not know reaches us too. */
    check(s.port, "BREW", "/kv/a", NULL, 405, "error", "method_not_allowed");
    /* HEAD: the status line of a 405, no body. */
    const char *head = "HEAD /status HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    raw(s.port, head, strlen(head), &r);
    assert_int_equal(r.status, 405);
    resp_free(&r);
    still_serves(s.port);
    server_stop(&s);
}

/* Values must be UTF-8; a body over the limit is refused. */
static void bad_bodies(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.max_body_bytes = 1024});
    const char *bad[] = {"\xff",         "a\x80",        "\xc0\xaf",
                         "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                         "\xc3",         "\xe2\x82",     "\xf0\x9f\x98"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        check(s.port, "PUT", "/kv/u", bad[i], 400, "error", "bad_utf8");
        still_serves(s.port);
    }
    check(s.port, "GET", "/kv/u", NULL, 404, "result", "not_found");
    char *big = xmalloc(4096);
    memset(big, 'b', 4096);
    struct resp r;
    req(s.port, "PUT", "/kv/big", big, 1024, &r);
    expect(&r, 200, "result", "ok");
    resp_free(&r);
    /* Over the limit, up to twice it: our 400 JSON. */
    req(s.port, "PUT", "/kv/big2", big, 1025, &r);
    expect(&r, 400, "error", "body_too_large");
    expect_json(&r);
    resp_free(&r);
    req(s.port, "PUT", "/kv/big2", big, 2048, &r);
    expect(&r, 400, "error", "body_too_large");
    resp_free(&r);
    still_serves(s.port);
    /* Past twice the limit libevent refuses it before we see it: 413, its HTML page (or, as it
     * closes with the body unread, a reset before the client reads it). */
    req(s.port, "PUT", "/kv/big3", big, 4096, &r);
    assert_true(r.status == 413 || r.status == 0);
    resp_free(&r);
    still_serves(s.port);
    check(s.port, "GET", "/kv/big2", NULL, 404, "result", "not_found");
    free(big);
    server_stop(&s);
}

/* Headers over the limit: our 400 JSON up to twice it, libevent's 400 past that. */
static void big_headers(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.max_header_bytes = 1024});
    char *msg = xmalloc(8192);
    char *filler = xmalloc(4096);
    memset(filler, 'h', 4095);
    filler[4095] = '\0';
    struct resp r;
    snprintf(msg, 8192,
             "GET /status HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Fill: %.900s\r\n\r\n",
             filler);
    raw(s.port, msg, strlen(msg), &r);
    expect(&r, 200, "role", "leader");
    resp_free(&r);
    snprintf(msg, 8192,
             "GET /status HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Fill: %.1500s\r\n\r\n",
             filler);
    raw(s.port, msg, strlen(msg), &r);
    expect(&r, 400, "error", "headers_too_large");
    expect_json(&r);
    resp_free(&r);
    still_serves(s.port);
    snprintf(msg, 8192,
             "GET /status HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Fill: %.4000s\r\n\r\n",
             filler);
    raw(s.port, msg, strlen(msg), &r);
    assert_true(r.status == 400 || r.status == 0);
    resp_free(&r);
    still_serves(s.port);
    /* A request line past twice the limit. */
    snprintf(msg, 8192, "GET /kv/%.4000s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", filler);
    raw(s.port, msg, strlen(msg), &r);
    assert_true(r.status == 400 || r.status == 0);
    resp_free(&r);
    still_serves(s.port);
    free(filler);
    free(msg);
    server_stop(&s);
}

/* Bytes that are not HTTP, or HTTP libevent cannot parse: answered or closed, never a crash. */
static void garbage(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    static const char *const inputs[] = {
        "\x01\x02\x03\xff\xfe garbage\r\n\r\n",
        "GET\r\n\r\n",
        "GET /status\r\n\r\n",
        "GET /status HTTP/9.9\r\n\r\n",
        "GET /status HTTP/1.1\r\nNo colon here\r\n\r\n",
        "PUT /kv/a HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "PUT /kv/a HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "PUT /kv/a HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "PUT /kv/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
        "PUT /kv/a HTTP/1.1\r\nExpect: something\r\nContent-Length: 1\r\n\r\nx",
        "GET /kv/a\rb HTTP/1.1\r\n\r\n",
        "GET /kv/a\x01 HTTP/1.1\r\n\r\n",
        "GET http://evil/kv/a HTTP/1.1\r\n\r\n",
        "CONNECT /kv/a HTTP/1.1\r\n\r\n",
        "GET /kv/%ff%fe HTTP/1.1\r\nConnection: close\r\n\r\n",
        "\r\n\r\n\r\n",
        "",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        struct resp r;
        raw_then_eof(s.port, inputs[i], strlen(inputs[i]), &r);
        if (getenv("TEST_NET_HTTP_VERBOSE") != NULL)
            fprintf(stderr, "garbage %zu: %d %.80s\n", i, r.status, r.body ? r.body : "");
        resp_free(&r);
        still_serves(s.port);
    }
    /* A chunked PUT is a PUT. */
    const char *chunked = "PUT /kv/ch HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close"
                          "\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    struct resp r;
    raw(s.port, chunked, strlen(chunked), &r);
    expect(&r, 200, "result", "ok");
    resp_free(&r);
    check(s.port, "GET", "/kv/ch", NULL, 200, "value", "abcde");
    /* Random bytes. */
    srand(12345);
    for (int i = 0; i < 50; i++) {
        char junk[512];
        size_t n = 1 + (size_t)rand() % sizeof junk;
        for (size_t k = 0; k < n; k++)
            junk[k] = (char)rand();
        if (i % 2 == 0)
            memcpy(junk, "PUT /kv/x HTTP/1.1\r\n", n < 20 ? n : 20);
        raw_then_eof(s.port, junk, n, &r);
        resp_free(&r);
    }
    still_serves(s.port);
    server_stop(&s);
}

/* Keep-alive: several requests on one connection, pipelined in one write, answered in order. */
static void keep_alive_and_pipelining(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    int fd = connect_to(s.port);
    const char *two = "PUT /kv/p HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nv1"
                      "GET /kv/p HTTP/1.1\r\nHost: t\r\n\r\n";
    send_all(fd, two, strlen(two));
    char *carry = NULL;
    size_t carry_len = 0;
    struct resp r;
    read_resp(fd, &r, &carry, &carry_len);
    expect(&r, 200, "result", "ok");
    resp_free(&r);
    read_resp(fd, &r, &carry, &carry_len);
    expect(&r, 200, "value", "v1");
    resp_free(&r);
    /* A third one later, while nothing waits. */
    const char *third = "DELETE /kv/p HTTP/1.1\r\nHost: t\r\n\r\n";
    send_all(fd, third, strlen(third));
    read_resp(fd, &r, &carry, &carry_len);
    expect(&r, 200, "result", "ok");
    resp_free(&r);
    /* HTTP/1.0 without keep-alive: answered, then closed. */
    const char *old = "GET /kv/p HTTP/1.0\r\n\r\n";
    send_all(fd, old, strlen(old));
    read_resp(fd, &r, &carry, &carry_len);
    expect(&r, 404, "result", "not_found");
    resp_free(&r);
    char c;
    assert_true(recv_until(fd, &c, 1, now_ms() + 5000) == 0);
    free(carry);
    close(fd);
    server_stop(&s);
}

/* Clients that close (or reset) right after sending, many times over: the node keeps serving. */
static void clients_that_leave(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){0});
    for (int i = 0; i < 300; i++) {
        int fd = connect_to(s.port);
        char msg[256];
        int n = snprintf(msg, sizeof msg,
                         i % 3 == 0   ? "PUT /kv/l%d HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"
                         : i % 3 == 1 ? "GET /kv/l%d HTTP/1.1\r\n\r\n"
                                      : "GET /status?%d HTTP/1.1\r\n\r\n",
                         i);
        send_all(fd, msg, (size_t)n);
        if (i % 2 == 0) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close with a reset */
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(fd);
    }
    still_serves(s.port);
    check(s.port, "PUT", "/kv/after", "x", 200, "result", "ok");
    server_stop(&s);
}

/* A node that cannot lead alone (3 nodes, no peers) and knows no leader: writes and
 * linearizable reads are 503 no_leader, a stale read is served here. */
static void no_leader(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.n_nodes = 3});
    check(s.port, "PUT", "/kv/a", "v", 503, "error", "no_leader");
    check(s.port, "DELETE", "/kv/a", NULL, 503, "error", "no_leader");
    check(s.port, "GET", "/kv/a", NULL, 503, "error", "no_leader");
    check(s.port, "GET", "/kv/a?consistency=stale", NULL, 404, "result", "not_found");
    struct resp r;
    req(s.port, "GET", "/status", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(&r, "leader"), 0);
    assert_true(strcmp(jstr(&r, "role"), "leader") != 0);
    resp_free(&r);
    server_stop(&s);
}

/* Node 2's heartbeat in term 5, as the TCP peers would hand it to node 1. */
static void heartbeat_from_2(struct actor *node)
{
    struct raft_message m = {.type = RAFT_MSG_APPEND_ENTRIES, .term = 5, .from = 2, .to = 1};
    actor_cast(node, node_raft_msg_new(&m));
}

/* Sends a request right after a heartbeat from node 2 until one finds node 1 its follower (the
 * heartbeat's word lasts an election timeout). */
static void req_following_2(struct server *s, const char *method, const char *target,
                            struct resp *r)
{
    for (int tries = 0; tries < 50; tries++) {
        heartbeat_from_2(s->node);
        req(s->port, method, target, method[0] == 'P' ? "v" : NULL, 1, r);
        if (r->status == 307)
            return;
        resp_free(r);
    }
    fail_msg("node 1 never named node 2 its leader");
}

/* A follower that knows its leader answers 307 to the leader's address, same path and query. */
static void not_leader_redirects(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.n_nodes = 3}); /* node 2 is at 127.0.0.1:1001 */
    struct resp r;
    req_following_2(&s, "PUT", "/kv/a%2Fb?client_id=3&seq=4", &r);
    expect(&r, 307, "error", "not_leader");
    expect_json(&r);
    assert_true(has_header(&r, "HTTP/1.1 307 Temporary Redirect\r\n"));
    assert_int_equal(jint(&r, "leader"), 2);
    assert_true(has_header(&r, "Location: http://127.0.0.1:1001/kv/a%2Fb?client_id=3&seq=4\r\n"));
    resp_free(&r);
    req_following_2(&s, "GET", "/kv/x", &r);
    assert_true(has_header(&r, "Location: http://127.0.0.1:1001/kv/x\r\n"));
    resp_free(&r);
    req_following_2(&s, "DELETE", "/kv/x?client_id=3&seq=5", &r);
    assert_true(has_header(&r, "Location: http://127.0.0.1:1001/kv/x?client_id=3&seq=5\r\n"));
    resp_free(&r);
    server_stop(&s);
}

/* --- the admin endpoints ------------------------------------------------------------------ */

/* The JSON array field key as ids, "1 2 3" (empty for []); "-" if it is not an array. */
static const char *jids(const struct resp *r, const char *key)
{
    static char out[128];
    json_t *a = r->json != NULL ? json_object_get(r->json, key) : NULL;
    if (a == NULL || !json_is_array(a))
        return "-";
    size_t used = 0, i;
    json_t *v;
    out[0] = '\0';
    json_array_foreach(a, i, v)
    {
        used += (size_t)snprintf(out + used, sizeof out - used, "%s%lld", used ? " " : "",
                                 (long long)json_integer_value(v));
    }
    return out;
}

/* An admin request refused by the leader: 409, reason the word, detail the core's text. */
static void check_refused(uint16_t port, const char *target, const char *reason,
                          enum raft_refusal why)
{
    struct resp r;
    req(port, "POST", target, NULL, 0, &r);
    expect(&r, 409, "error", "refused");
    expect(&r, 409, "reason", reason);
    expect(&r, 409, "detail", raft_refusal_name(why));
    expect_json(&r);
    assert_int_equal(jint(&r, "node"), 1);
    resp_free(&r);
}

/* /status's membership fields: voters, learners, committed voters, the entry, the leader's
 * transfer target. */
static void expect_members(uint16_t port, const char *voters, const char *learners,
                           const char *committed, long long config_index)
{
    struct resp r;
    req(port, "GET", "/status", NULL, 0, &r);
    expect(&r, 200, "member", "voter");
    assert_string_equal(jids(&r, "voters"), voters);
    assert_string_equal(jids(&r, "learners"), learners);
    assert_string_equal(jids(&r, "committed_voters"), committed);
    if (config_index >= 0)
        assert_int_equal(jint(&r, "config_index"), config_index);
    assert_int_equal(jint(&r, "transfer_to"), 0);
    resp_free(&r);
}

/* A leader alone (ids up to 3, voter 1) adds, refuses and removes as the core says: an addition
 * is accepted with its entry and shows in /status; a second one while the first learner (which
 * never answers) catches up is refused, as are the other impossible changes, each with its
 * reason; removing the learner is accepted. */
static void admin_changes_at_the_leader(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.max_nodes = 3});
    expect_members(s.port, "1", "", "1", 0);
    struct resp r;
    req(s.port, "POST", "/admin/add?id=2", NULL, 0, &r);
    expect(&r, 200, "result", "accepted");
    expect_json(&r);
    long long index = jint(&r, "index");
    assert_true(index >= 2); /* after the leader's no-op */
    assert_int_equal(jint(&r, "node"), 1);
    resp_free(&r);
    expect_members(s.port, "1", "2", "1", index);
    check_refused(s.port, "/admin/add?id=3", "catching_up", RAFT_REFUSE_CATCHING_UP);
    check_refused(s.port, "/admin/add?id=1", "already_member", RAFT_REFUSE_ALREADY_MEMBER);
    check_refused(s.port, "/admin/add?id=2", "already_member", RAFT_REFUSE_ALREADY_MEMBER);
    check_refused(s.port, "/admin/remove?id=3", "not_member", RAFT_REFUSE_NOT_MEMBER);
    check_refused(s.port, "/admin/remove?id=1", "last_voter", RAFT_REFUSE_LAST_VOTER);
    check_refused(s.port, "/admin/transfer?to=2", "not_voter", RAFT_REFUSE_NOT_VOTER);
    check_refused(s.port, "/admin/transfer?to=1", "self", RAFT_REFUSE_SELF);
    req(s.port, "POST", "/admin/remove?id=2", NULL, 0, &r);
    expect(&r, 200, "result", "accepted");
    long long removed = jint(&r, "index");
    assert_true(removed > index);
    resp_free(&r);
    expect_members(s.port, "1", "", "1", removed);
    /* The body of a POST is ignored; a percent-encoded id is an id. */
    req(s.port, "POST", "/admin/add?id=%33", "ignored", 7, &r);
    expect(&r, 200, "result", "accepted");
    resp_free(&r);
    expect_members(s.port, "1", "3", "1", -1);
    check_refused(s.port, "/admin/remove?id=2", "not_member", RAFT_REFUSE_NOT_MEMBER);
    still_serves(s.port);
    server_stop(&s);
}

/* A malformed admin request: 400 bad_query (missing, repeated, non-numeric or out-of-range id,
 * another parameter), 405 with Allow: POST for another method, 404 for another path; the
 * server keeps serving. */
static void admin_bad_requests(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.max_nodes = 3});
    static const char *const bad[] = {
        "/admin/add",
        "/admin/add?",
        "/admin/add?id",
        "/admin/add?id=",
        "/admin/add?id=0",
        "/admin/add?id=4",
        "/admin/add?id=x",
        "/admin/add?id=2x",
        "/admin/add?id=-2",
        "/admin/add?id=+2",
        "/admin/add?id=2&id=2",
        "/admin/add?id=2&to=2",
        "/admin/add?to=2",
        "/admin/remove?to=2",
        "/admin/transfer?id=2",
        "/admin/transfer?to=",
        "/admin/remove?id=99999999999999999999999",
        "/admin/add?id=%zz",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct resp r;
        req(s.port, "POST", bad[i], NULL, 0, &r);
        if (r.status != 400 || jstr(&r, "error") == NULL ||
            strcmp(jstr(&r, "error"), "bad_query") != 0)
            fail_msg("POST %s: expected 400 bad_query, got %d %s", bad[i], r.status,
                     r.body ? r.body : "");
        expect_json(&r);
        assert_true(has_header(&r, "Connection: close"));
        resp_free(&r);
    }
    static const char *const methods[] = {"GET", "PUT", "DELETE", "PATCH", "BREW"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        struct resp r;
        req(s.port, methods[i], "/admin/transfer?to=1", NULL, 0, &r);
        expect(&r, 405, "error", "method_not_allowed");
        expect_json(&r);
        assert_true(has_header(&r, "Allow: POST\r\n"));
        resp_free(&r);
    }
    check(s.port, "POST", "/admin/nope?id=2", NULL, 404, "error", "unknown_path");
    check(s.port, "POST", "/admin/", NULL, 404, "error", "unknown_path");
    check(s.port, "POST", "/admin/add/x?id=2", NULL, 404, "error", "unknown_path");
    check(s.port, "POST", "/admin", NULL, 404, "error", "unknown_path");
    expect_members(s.port, "1", "", "1", 0); /* nothing changed */
    still_serves(s.port);
    server_stop(&s);
}

/* A follower that knows its leader redirects an admin request there (307, same path and query);
 * one that knows none answers 503 no_leader. */
static void admin_not_leader(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.n_nodes = 3});
    check(s.port, "POST", "/admin/transfer?to=3", NULL, 503, "error", "no_leader");
    check(s.port, "POST", "/admin/add?id=3", NULL, 503, "error", "no_leader");
    struct resp r;
    req_following_2(&s, "POST", "/admin/remove?id=3", &r);
    expect(&r, 307, "error", "not_leader");
    assert_int_equal(jint(&r, "leader"), 2);
    assert_true(has_header(&r, "Location: http://127.0.0.1:1001/admin/remove?id=3\r\n"));
    resp_free(&r);
    req_following_2(&s, "POST", "/admin/transfer?to=1", &r);
    assert_true(has_header(&r, "Location: http://127.0.0.1:1001/admin/transfer?to=1\r\n"));
    resp_free(&r);
    /* A follower has no transfer_to in /status. */
    req(s.port, "GET", "/status", NULL, 0, &r);
    expect(&r, 200, "member", "voter");
    assert_int_equal(jint(&r, "transfer_to"), -1);
    assert_string_equal(jids(&r, "voters"), "1 2 3");
    resp_free(&r);
    server_stop(&s);
}

/* A node that does not answer an admin request in time: 504, outcome unknown (the change may
 * still be made when the node gets to it); one that drops it: 503 unavailable. */
static void admin_node_silent(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.hold = true, .request_timeout_ms = 200});
    struct resp r;
    req(s.port, "POST", "/admin/add?id=1", NULL, 0, &r);
    expect(&r, 504, "error", "timeout");
    expect(&r, 504, "outcome", "unknown");
    expect_json(&r);
    resp_free(&r);
    server_stop(&s);
    server_start(&s, &(struct server_opts){.hold = true, .request_timeout_ms = 10000});
    int fd = connect_to(s.port);
    const char *m = "POST /admin/transfer?to=1 HTTP/1.1\r\nConnection: close\r\n\r\n";
    send_all(fd, m, strlen(m));
    struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    actor_cast(s.node, actor_msg_new(sizeof(struct actor_msg), HOLD_MSG_RELEASE));
    read_resp(fd, &r, NULL, NULL);
    expect(&r, 503, "error", "unavailable");
    resp_free(&r);
    close(fd);
    server_stop(&s);
}

/* A node that never answers: 504 timeout, outcome unknown, after request_timeout_ms. */
static void request_timeout(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.hold = true, .request_timeout_ms = 200});
    uint64_t t0 = now_ms();
    struct resp r;
    req(s.port, "PUT", "/kv/a", "v", 1, &r);
    expect(&r, 504, "error", "timeout");
    expect(&r, 504, "outcome", "unknown");
    expect_json(&r);
    resp_free(&r);
    assert_true(now_ms() - t0 >= 190);
    check(s.port, "GET", "/kv/a", NULL, 504, "error", "timeout");
    check(s.port, "GET", "/status", NULL, 504, "error", "timeout");
    /* Clients that leave while they wait: their timeouts answer nobody. */
    for (int i = 0; i < 10; i++) {
        int fd = connect_to(s.port);
        const char *m = "PUT /kv/gone HTTP/1.1\r\nContent-Length: 1\r\n\r\nv";
        send_all(fd, m, strlen(m));
        close(fd);
    }
    struct timespec ts = {.tv_nsec = 400 * 1000 * 1000};
    nanosleep(&ts, NULL);
    /* The late answers (ENOREPLY as the held calls are let go) are dropped. */
    actor_cast(s.node, actor_msg_new(sizeof(struct actor_msg), HOLD_MSG_RELEASE));
    check(s.port, "DELETE", "/kv/a", NULL, 504, "error", "timeout");
    server_stop(&s);
}

/* An answer for a client that has gone, and a node that fails calls: the stopping answer is a
 * 504 for a write (it may still happen), a 503 for a read. */
static void answer_after_client_left(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.hold = true, .request_timeout_ms = 10000});
    for (int i = 0; i < 20; i++) {
        int fd = connect_to(s.port);
        const char *m = "PUT /kv/a HTTP/1.1\r\nContent-Length: 1\r\n\r\nv";
        send_all(fd, m, strlen(m));
        close(fd);
    }
    /* Let the server take them in, then let the node "answer" (ENOREPLY) them all. */
    struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    actor_cast(s.node, actor_msg_new(sizeof(struct actor_msg), HOLD_MSG_RELEASE));
    /* Now a waiting write and a waiting read, answered by the release. */
    int w = connect_to(s.port), rd = connect_to(s.port);
    const char *put = "PUT /kv/b HTTP/1.1\r\nConnection: close\r\nContent-Length: 1\r\n\r\nv";
    const char *get = "GET /kv/b HTTP/1.1\r\nConnection: close\r\n\r\n";
    send_all(w, put, strlen(put));
    send_all(rd, get, strlen(get));
    nanosleep(&ts, NULL);
    actor_cast(s.node, actor_msg_new(sizeof(struct actor_msg), HOLD_MSG_RELEASE));
    struct resp r;
    read_resp(w, &r, NULL, NULL);
    expect(&r, 504, "outcome", "unknown");
    resp_free(&r);
    read_resp(rd, &r, NULL, NULL);
    expect(&r, 503, "error", "unavailable");
    resp_free(&r);
    close(w);
    close(rd);
    /* Bytes that come while a request waits (a pipelined request, then garbage) wait for its
     * answer: evhttp reads nothing of a connection whose request is with us. */
    int pipe_fd = connect_to(s.port);
    const char *first = "GET /kv/c HTTP/1.1\r\n\r\n";
    send_all(pipe_fd, first, strlen(first));
    nanosleep(&ts, NULL);
    const char *second = "GET /kv/d HTTP/1.1\r\n\r\n\x01\x02 junk\r\n\r\n";
    send_all(pipe_fd, second, strlen(second));
    nanosleep(&ts, NULL);
    char *carry = NULL;
    size_t carry_len = 0;
    actor_cast(s.node, actor_msg_new(sizeof(struct actor_msg), HOLD_MSG_RELEASE));
    read_resp(pipe_fd, &r, &carry, &carry_len);
    expect(&r, 503, "error", "unavailable");
    resp_free(&r);
    nanosleep(&ts, NULL);
    actor_cast(s.node, actor_msg_new(sizeof(struct actor_msg), HOLD_MSG_RELEASE));
    read_resp(pipe_fd, &r, &carry, &carry_len);
    expect(&r, 503, "error", "unavailable");
    resp_free(&r);
    read_resp(pipe_fd, &r, &carry, &carry_len);
    assert_int_equal(r.status, 400); /* libevent's page for the junk */
    resp_free(&r);
    free(carry);
    close(pipe_fd);
    server_stop(&s);
}

/* Stopping the server answers the requests still waiting (504 for a write) before it closes. */
static void close_answers_waiting(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.hold = true, .request_timeout_ms = 30000});
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = connect_to(s.port);
        const char *m = i % 2 == 0 ? "PUT /kv/a HTTP/1.1\r\nContent-Length: 1\r\n\r\nv"
                                   : "GET /kv/a HTTP/1.1\r\n\r\n";
        send_all(fds[i], m, strlen(m));
    }
    /* One more that left before the end. */
    int gone = connect_to(s.port);
    send_all(gone, "GET /kv/z HTTP/1.1\r\n\r\n", 23);
    close(gone);
    struct timespec ts = {.tv_nsec = 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    actor_stop(s.loop);
    actor_join(s.loop);
    for (int i = 0; i < 4; i++) {
        struct resp r;
        read_resp(fds[i], &r, NULL, NULL);
        if (i % 2 == 0)
            expect(&r, 504, "outcome", "unknown");
        else
            expect(&r, 503, "error", "unavailable");
        resp_free(&r);
        close(fds[i]);
    }
    actor_stop(s.node);
    actor_join(s.node);
    actor_dir_free(s.dir);
    actor_unref(s.loop);
    actor_unref(s.node);
    raft_disk_close(&s.disk);
}

/* Connections over max_connections are answered 503 and closed; a freed slot is usable again. */
static void connection_limit(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.max_connections = 4});
    int fds[4];
    char *carry = NULL;
    size_t carry_len = 0;
    const char *status = "GET /status HTTP/1.1\r\nHost: t\r\n\r\n";
    for (int i = 0; i < 4; i++) {
        fds[i] = connect_to(s.port);
        send_all(fds[i], status, strlen(status));
        struct resp r;
        read_resp(fds[i], &r, &carry, &carry_len);
        expect(&r, 200, "role", "leader");
        resp_free(&r);
    }
    struct resp r;
    int extra = connect_to(s.port);
    read_resp(extra, &r, NULL, NULL);
    expect(&r, 503, "error", "too_many_connections");
    resp_free(&r);
    close(extra);
    send_all(fds[0], status, strlen(status));
    read_resp(fds[0], &r, &carry, &carry_len);
    expect(&r, 200, "role", "leader");
    json_t *http = json_object_get(r.json, "http");
    assert_int_equal(json_integer_value(json_object_get(http, "connections")), 4);
    assert_int_equal(json_integer_value(json_object_get(http, "refused")), 1);
    resp_free(&r);
    /* One leaves; soon a new connection is served. */
    close(fds[3]);
    bool served = false;
    for (int tries = 0; tries < 100 && !served; tries++) {
        req(s.port, "GET", "/status", NULL, 0, &r);
        served = r.status == 200;
        resp_free(&r);
        if (!served) {
            struct timespec ts = {.tv_nsec = 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(served);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    free(carry);
    server_stop(&s);
}

/* A connection that says nothing, or too little, is closed after the idle timeout. */
static void idle_timeout(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, &(struct server_opts){.idle_timeout_ms = 300});
    int quiet = connect_to(s.port);
    int slow = connect_to(s.port);
    send_all(slow, "GET /sta", 8);
    uint64_t t0 = now_ms();
    char buf[256];
    assert_true(recv_until(quiet, buf, sizeof buf, t0 + 5000) >= 0);
    ssize_t n = recv_until(slow, buf, sizeof buf, t0 + 5000);
    assert_true(n >= 0); /* closed (perhaps after a 400), not left open */
    uint64_t took = now_ms() - t0;
    assert_true(took >= 250 && took < 5000);
    close(quiet);
    close(slow);
    still_serves(s.port);
    server_stop(&s);
}

/* A port in use is an error naming the address; bad addresses too; localhost is resolved. */
static void addresses(void **state)
{
    (void)state;
    struct server a, b;
    server_start(&a, &(struct server_opts){0});
    char err[512] = "";
    assert_int_not_equal(
        server_try_start(&b, &(struct server_opts){.port = a.port}, err, sizeof err), 0);
    char want[128];
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%u: Address already in use",
             (unsigned)a.port);
    if (strstr(err, want) == NULL)
        fail_msg("error: %s", err);
    still_serves(a.port);
    server_stop(&a);
    const char *bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", ":80",
                         "[::1:80",   "::1:80",     "[]:%u",       "1.2.3.4:%u"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_not_equal(
            server_try_start(&b, &(struct server_opts){.addr_fmt = bad[i]}, err, sizeof err), 0);
        assert_true(strlen(err) > 0);
    }
    server_start(&a, &(struct server_opts){.addr_fmt = "localhost:%u"});
    check(a.port, "PUT", "/kv/l", "v", 200, "result", "ok");
    server_stop(&a);
}

/* An IPv6 address in brackets (skipped where the host has no IPv6 loopback). */
static void ipv6(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool have = probe >= 0 && bind(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (probe >= 0)
        close(probe);
    if (!have)
        skip();
    struct server s;
    server_start(&s, &(struct server_opts){.addr_fmt = "[::1]:%u"});
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    sa.sin6_port = htons(s.port);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char *m = "GET /status HTTP/1.1\r\nConnection: close\r\n\r\n";
    send_all(fd, m, strlen(m));
    struct resp r;
    read_resp(fd, &r, NULL, NULL);
    expect(&r, 200, "role", "leader");
    resp_free(&r);
    close(fd);
    server_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as raft_kv serve does: a closed peer fails a write */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_get_delete_get),
        cmocka_unit_test(put_existing_is_409),
        cmocka_unit_test(exactly_once),
        cmocka_unit_test(read_consistencies),
        cmocka_unit_test(status_fields),
        cmocka_unit_test(keys),
        cmocka_unit_test(bad_queries),
        cmocka_unit_test(paths_and_methods),
        cmocka_unit_test(bad_bodies),
        cmocka_unit_test(big_headers),
        cmocka_unit_test(garbage),
        cmocka_unit_test(keep_alive_and_pipelining),
        cmocka_unit_test(clients_that_leave),
        cmocka_unit_test(no_leader),
        cmocka_unit_test(not_leader_redirects),
        cmocka_unit_test(admin_changes_at_the_leader),
        cmocka_unit_test(admin_bad_requests),
        cmocka_unit_test(admin_not_leader),
        cmocka_unit_test(admin_node_silent),
        cmocka_unit_test(request_timeout),
        cmocka_unit_test(answer_after_client_left),
        cmocka_unit_test(close_answers_waiting),
        cmocka_unit_test(connection_limit),
        cmocka_unit_test(idle_timeout),
        cmocka_unit_test(addresses),
        cmocka_unit_test(ipv6),
    };
    return cmocka_run_group_tests(tests, quiet_trace, NULL);
}
