/* http.c - the HTTP client API of raft_kv serve (../shared/http-api.md) and its admin endpoints:
 * libevent 2.1's evhttp on the network actor's loop, every request an asynchronous call to the
 * node, answered as JSON.
 *
 * Design: a request that needs the node takes a slot in a table of waiting requests; the slot's
 * tag travels with the call (actor_call_async) and finds the request again when the answer comes
 * back, unless the slot's timer fired first (504) or its connection went away (the answer is then
 * simply freed). Only this file's own checks turn client bytes into kv commands: a key, a query or
 * a value that is not well formed is a 400, never an assert.
 *
 * libevent 2.1.12, which this is written against, shapes a few things (docs/http.md):
 * - evhttp stops reading a connection while its request is with us, so a client that closes
 *   meanwhile is noticed only when the answer is written; the request object stays valid until we
 *   answer it. A connection can still be freed under a waiting request (evhttp_free): its close
 *   callback, set on every connection, forgets the request first.
 * - evhttp has no connection limit (evhttp_set_max_connections is 2.2's): every connection's
 *   bufferevent is made here (evhttp_set_bevcb) and adopted right after the accept, which counts
 *   it and refuses those over the limit with a 503 written straight to the socket.
 * - evhttp answers what it rejects itself with an HTML page: a method it does not allow (501),
 *   a request line or headers it cannot parse or over its limit (400), a body over its limit (413).
 *   So every method is let through and refused here with a 405 JSON, and evhttp's limits are set
 *   to twice ours: a request up to twice a limit gets our 400 JSON, only a longer one libevent's
 *   page.
 */
#include "net/http.h"

#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "actors/node.h"
#include "common/alloc.h"
#include "kv/kv.h"
#include "net/addr.h"
#include "net/http_parse.h"
#include "raft/raft.h"

/* The contract's key length, 1..256 bytes once percent-decoded. */
#define HTTP_KEY_MAX 256u

/* Defaults for the options left 0. */
enum {
    HTTP_DEFAULT_REQUEST_TIMEOUT_MS = 5000,
    HTTP_DEFAULT_IDLE_TIMEOUT_MS = 30000,
    HTTP_DEFAULT_MAX_HEADER_BYTES = 8192,
    HTTP_DEFAULT_MAX_CONNECTIONS = 1024,
};

/* What a waiting request asked for. */
enum route {
    ROUTE_STATUS,
    ROUTE_PUT,
    ROUTE_GET,
    ROUTE_DELETE,
    ROUTE_ADMIN, /* POST /admin/{add,remove,transfer}: a NODE_MSG_CHANGE call */
};

/* One slot of the table of waiting requests. Invariant: req != NULL exactly while the slot is
 * taken; then tag is the tag of its call and timer is pending. */
struct pending {
    struct net_http *h;
    uint32_t slot;
    uint64_t tag; /* (generation << 32) | slot; 0 while free */
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    enum route route;
    struct event *timer;
};

/* One accepted connection, counted against max_connections until its close callback. */
struct conn {
    struct net_http *h;
    struct evhttp_connection *evcon;
    struct conn *prev, *next;
};

struct net_http {
    struct net_http_options opt; /* http_addrs points at addrs */
    char **addrs;                /* copies of the nodes' http addresses */
    struct event_base *base;
    struct evhttp *http;
    /* Connections accepted since the last adoption: bufferevents made for evhttp, each with a
     * reference of ours until adopt runs (right after the accept callback). */
    struct event *adopt;
    struct bufferevent **fresh;
    size_t n_fresh, cap_fresh;
    struct conn *conns;
    uint32_t n_conns;
    /* The table of waiting requests. */
    struct pending **slots;
    uint32_t n_slots, n_waiting;
    uint32_t *free_slots; /* a stack of free slot numbers */
    uint32_t n_free;
    uint32_t generation;
    /* Counters for /status. */
    uint64_t requests, refused, timeouts;
};

/* --- JSON answers -------------------------------------------------------------------------- */

static json_t *jcheck(json_t *j)
{
    if (j == NULL)
        xalloc_failed(0);
    return j;
}

static void jset(json_t *obj, const char *key, json_t *value)
{
    if (json_object_set_new(obj, key, jcheck(value)) != 0)
        xalloc_failed(0);
}

/* s as a JSON string; never fails on its bytes (text that is not UTF-8 is replaced). */
static void jset_str(json_t *obj, const char *key, const char *s)
{
    json_t *v = json_string(s);
    jset(obj, key, v != NULL ? v : json_string("(not UTF-8)"));
}

static void jset_int(json_t *obj, const char *key, uint64_t v)
{
    jset(obj, key, json_integer((json_int_t)v));
}

/* The reason phrase of each code we answer with (libevent's table says "Redirection" for 307). */
static const char *reason_phrase(int code)
{
    switch (code) {
    case 200:
        return "OK";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return NULL; /* libevent's */
    }
}

/* Sends obj (taken) as the answer to req with status code; close: ask for the connection to be
 * closed after it (the request may have left bytes evhttp did not read). req is gone after. */
static void send_json(struct evhttp_request *req, int code, json_t *obj, bool close)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (text == NULL)
        xalloc_failed(0);
    struct evbuffer *body = evbuffer_new();
    if (body == NULL || evbuffer_add(body, text, strlen(text)) != 0 ||
        evbuffer_add(body, "\n", 1) != 0)
        xalloc_failed(strlen(text));
    free(text);
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", "application/json");
    if (close)
        evhttp_add_header(headers, "Connection", "close");
    evhttp_send_reply(req, code, reason_phrase(code), body);
    evbuffer_free(body);
}

/* {"error":token,"detail":detail} (detail may be NULL). */
static json_t *error_obj(const char *token, const char *detail)
{
    json_t *o = jcheck(json_object());
    jset_str(o, "error", token);
    if (detail != NULL)
        jset_str(o, "detail", detail);
    return o;
}

static void send_error(struct evhttp_request *req, int code, const char *token, const char *detail)
{
    send_json(req, code, error_obj(token, detail), code == 400 || code == 405);
}

/* 400 {"error":token,"detail":...} with a formatted detail. */
static void bad_request(struct evhttp_request *req, const char *token, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bad_request(struct evhttp_request *req, const char *token, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    send_error(req, 400, token, detail);
}

/* --- the table of waiting requests ------------------------------------------------------- */

static void on_request_timeout(evutil_socket_t fd, short what, void *arg);

/* A free slot for req, its tag fresh: a late answer to the slot's previous call does not match. */
static struct pending *pending_take(struct net_http *h, struct evhttp_request *req,
                                    enum route route)
{
    if (h->n_free == 0) {
        uint32_t n = h->n_slots == 0 ? 16 : 2 * h->n_slots;
        h->slots = xreallocarray(h->slots, n, sizeof *h->slots);
        h->free_slots = xreallocarray(h->free_slots, n, sizeof *h->free_slots);
        for (uint32_t i = n; i > h->n_slots; i--) {
            struct pending *p = xcalloc(1, sizeof *p);
            p->h = h;
            p->slot = i - 1;
            p->timer = evtimer_new(h->base, on_request_timeout, p);
            if (p->timer == NULL)
                xalloc_failed(sizeof(struct event *));
            h->slots[i - 1] = p;
            h->free_slots[h->n_free++] = i - 1;
        }
        h->n_slots = n;
    }
    struct pending *p = h->slots[h->free_slots[--h->n_free]];
    if (++h->generation == 0)
        h->generation = 1;
    p->tag = ((uint64_t)h->generation << 32) | p->slot;
    p->req = req;
    p->evcon = evhttp_request_get_connection(req);
    p->route = route;
    h->n_waiting++;
    uint32_t ms = h->opt.request_timeout_ms;
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
    return p;
}

/* Frees the slot; its request must have been answered or be gone. */
static void pending_release(struct pending *p)
{
    struct net_http *h = p->h;
    assert(p->req != NULL && h->n_waiting > 0 && h->n_free < h->n_slots);
    evtimer_del(p->timer);
    p->req = NULL;
    p->evcon = NULL;
    p->tag = 0;
    h->n_waiting--;
    h->free_slots[h->n_free++] = p->slot;
}

static struct pending *pending_find(struct net_http *h, uint64_t tag)
{
    uint32_t slot = (uint32_t)(tag & UINT32_MAX);
    if (slot >= h->n_slots)
        return NULL;
    struct pending *p = h->slots[slot];
    return p->req != NULL && p->tag == tag ? p : NULL;
}

static bool is_write(enum route r)
{
    return r == ROUTE_PUT || r == ROUTE_DELETE;
}

/* The request's fate is unknown to us (timeout, node stopping): a write may still take effect,
 * so it is a 504 with outcome unknown; a read or a status is a 504 after a timeout, else a 503. */
static void answer_unknown(struct pending *p, bool timed_out, const char *reason)
{
    json_t *o;
    int code;
    if (timed_out || is_write(p->route)) {
        code = 504;
        o = error_obj("timeout", reason);
        jset_str(o, "outcome", "unknown");
    } else {
        code = 503;
        o = error_obj("unavailable", reason);
    }
    if (p->route != ROUTE_STATUS)
        jset_int(o, "node", p->h->opt.self);
    send_json(p->req, code, o, false);
}

static void on_request_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pending *p = arg;
    p->h->timeouts++;
    answer_unknown(p, true, "no answer from the node in time");
    pending_release(p);
}

/* --- connections ------------------------------------------------------------------------- */

/* evhttp frees a connection: any request of it still waiting is forgotten (its answer will be
 * freed). A request still attached to the connection is freed by libevent right after this; one
 * it detached (req's connection NULL: a timeout or end of file while it was with us) is ours to
 * free. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    struct conn *c = arg;
    struct net_http *h = c->h;
    for (uint32_t i = 0; i < h->n_slots && h->n_waiting > 0; i++) {
        struct pending *p = h->slots[i];
        if (p->req == NULL || p->evcon != evcon)
            continue;
        if (evhttp_request_get_connection(p->req) == NULL)
            evhttp_request_free(p->req);
        pending_release(p);
    }
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    h->n_conns--;
    free(c);
}

/* What a connection over the limit is told before it is closed. */
#define REFUSAL_BODY "{\"error\":\"too_many_connections\",\"detail\":\"try again later\"}\n"
static const char REFUSAL[] = "HTTP/1.1 503 Service Unavailable\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: 60\r\n"
                              "Connection: close\r\n\r\n" REFUSAL_BODY;
_Static_assert(sizeof REFUSAL_BODY - 1 == 60, "REFUSAL's Content-Length");

/* evhttp accepted a connection and asks for its bufferevent: made here and kept with a reference
 * until adopt runs, right after this accept callback and before any of the connection's input is
 * read. BEV_OPT_CLOSE_ON_FREE, unlike evhttp's own: evhttp_connection_free closes the socket
 * itself unless its bufferevent will, and from inside a bufferevent callback (a client's end of
 * file, an answer written with Connection: close) the bufferevent is still referenced then, so
 * its events leave epoll only later, by number, after the close: by then another thread (the
 * node, opening a file) may hold that number. The bufferevent closes the socket after its events
 * are gone. */
static struct bufferevent *on_new_bev(struct event_base *base, void *arg)
{
    struct net_http *h = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        return NULL; /* evhttp tries its own; that connection goes uncounted */
    bufferevent_incref(bev);
    if (h->n_fresh == h->cap_fresh) {
        h->cap_fresh = h->cap_fresh == 0 ? 16 : 2 * h->cap_fresh;
        h->fresh = xreallocarray(h->fresh, h->cap_fresh, sizeof *h->fresh);
    }
    h->fresh[h->n_fresh++] = bev;
    event_active(h->adopt, EV_TIMEOUT, 0);
    return bev;
}

/* Counts the connections just accepted, watching each for its close; refuses those over the
 * limit. A bufferevent evhttp has let go of already has no callbacks (bufferevent_free). */
static void on_adopt(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct net_http *h = arg;
    for (size_t i = 0; i < h->n_fresh; i++) {
        struct bufferevent *bev = h->fresh[i];
        bufferevent_data_cb readcb = NULL;
        void *cbarg = NULL;
        bufferevent_getcb(bev, &readcb, NULL, NULL, &cbarg);
        if (readcb != NULL && cbarg != NULL) {
            /* evhttp's callbacks on a connection's bufferevent have the connection as their
             * argument (http.c, evhttp_connection_base_bufferevent_new). */
            struct evhttp_connection *evcon = cbarg;
            if (h->n_conns >= h->opt.max_connections) {
                h->refused++;
                ssize_t n = send(bufferevent_getfd(bev), REFUSAL, sizeof REFUSAL - 1,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                (void)n; /* best effort: the connection is closed either way */
                evhttp_connection_free(evcon);
            } else {
                struct conn *c = xcalloc(1, sizeof *c);
                c->h = h;
                c->evcon = evcon;
                c->next = h->conns;
                if (h->conns != NULL)
                    h->conns->prev = c;
                h->conns = c;
                h->n_conns++;
                evhttp_connection_set_closecb(evcon, on_conn_close, c);
            }
        }
        bufferevent_decref(bev);
    }
    h->n_fresh = 0;
}

/* --- requests ----------------------------------------------------------------------------- */

/* The bytes of the request line and headers, about as evhttp counts them. */
static size_t header_bytes(struct evhttp_request *req)
{
    const char *uri = evhttp_request_get_uri(req);
    size_t n = (uri != NULL ? strlen(uri) : 0) + 16;
    const struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
    for (const struct evkeyval *kv = headers->tqh_first; kv != NULL; kv = kv->next.tqe_next)
        n += strlen(kv->key) + strlen(kv->value) + 4;
    return n;
}

static void start_call(struct net_http *h, struct evhttp_request *req, enum route route,
                       struct actor_msg *msg)
{
    struct pending *p = pending_take(h, req, route);
    actor_call_async(h->opt.node, msg, h->opt.loop, p->tag);
}

static void kv_request(struct net_http *h, struct evhttp_request *req, enum route route,
                       const char *raw_key, const char *query)
{
    if (strchr(raw_key, '/') != NULL) {
        bad_request(req, "bad_key", "a key is one path segment: encode '/' as %%2F");
        return;
    }
    size_t raw_len = strlen(raw_key);
    if (raw_len > 3 * HTTP_KEY_MAX) {
        bad_request(req, "bad_key", "a key is 1..%u bytes", HTTP_KEY_MAX);
        return;
    }
    uint8_t key[3 * HTTP_KEY_MAX];
    long key_len = net_http_percent_decode(raw_key, raw_len, key);
    if (key_len < 0) {
        bad_request(req, "bad_key", "a '%%' in the key is not followed by two hex digits");
        return;
    }
    if (key_len == 0 || key_len > (long)HTTP_KEY_MAX) {
        bad_request(req, "bad_key", "a key is 1..%u bytes (percent-decoded), not %ld", HTTP_KEY_MAX,
                    key_len);
        return;
    }
    struct net_http_query q;
    char why[160];
    if (net_http_parse_query(query, &q, why, sizeof why) != 0) {
        bad_request(req, "bad_query", "%s", why);
        return;
    }
    if (q.has_consistency && route != ROUTE_GET) {
        bad_request(req, "bad_query", "consistency is for GET only");
        return;
    }
    struct kv_command cmd = {
        .op = route == ROUTE_PUT   ? KV_OP_PUT
              : route == ROUTE_GET ? KV_OP_GET
                                   : KV_OP_DELETE,
        .client_id = q.client_id,
        .seq = q.seq,
        .key = key,
        .key_len = (uint32_t)key_len,
    };
    if (route == ROUTE_PUT) {
        struct evbuffer *body = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(body);
        if (len > h->opt.max_body_bytes || len > KV_MAX_VALUE) {
            bad_request(req, "body_too_large", "a value is at most %zu bytes, not %zu",
                        h->opt.max_body_bytes < KV_MAX_VALUE ? h->opt.max_body_bytes
                                                             : (size_t)KV_MAX_VALUE,
                        len);
            return;
        }
        const uint8_t *value = len > 0 ? evbuffer_pullup(body, -1) : (const uint8_t *)"";
        if (value == NULL)
            xalloc_failed(len);
        if (!net_http_utf8_valid(value, len)) {
            bad_request(req, "bad_utf8", "the value (the request body) is not valid UTF-8");
            return;
        }
        cmd.value = value;
        cmd.value_len = (uint32_t)len;
    }
    size_t size = kv_command_size(&cmd);
    uint8_t *buf = xmalloc(size);
    size_t len = 0;
    int rc = kv_command_encode(&cmd, buf, size, &len);
    if (rc != 0) {
        free(buf);
        bad_request(req, "bad_request", "the command cannot be encoded: %s", kv_strerror(rc));
        return;
    }
    struct actor_msg *msg = node_request_new(buf, (uint32_t)len, q.read);
    free(buf);
    start_call(h, req, route, msg);
}

static const char *method_name(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "this method";
}

static void not_allowed(struct evhttp_request *req, const char *allow)
{
    char detail[96];
    snprintf(detail, sizeof detail, "%s is not allowed here; allowed: %s",
             method_name(evhttp_request_get_command(req)), allow);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    send_error(req, 405, "method_not_allowed", detail);
}

/* The admin endpoints: each a NODE_MSG_CHANGE call with the node id its one parameter names. */
static const struct admin_op {
    const char *path; /* after /admin/ */
    const char *param;
    enum node_change_kind kind;
} admin_ops[] = {
    {"add", "id", NODE_CHANGE_ADD},
    {"remove", "id", NODE_CHANGE_REMOVE},
    {"transfer", "to", NODE_CHANGE_TRANSFER},
};

static void admin_request(struct net_http *h, struct evhttp_request *req, const char *op,
                          const char *query)
{
    const struct admin_op *a = NULL;
    for (size_t i = 0; i < sizeof admin_ops / sizeof admin_ops[0]; i++)
        if (strcmp(op, admin_ops[i].path) == 0)
            a = &admin_ops[i];
    if (a == NULL) {
        send_error(req, 404, "unknown_path",
                   "the admin API is POST /admin/add?id=ID, /admin/remove?id=ID and "
                   "/admin/transfer?to=ID");
        return;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        not_allowed(req, "POST");
        return;
    }
    uint32_t id = 0;
    char why[160];
    if (net_http_parse_node_id(query, a->param, h->opt.n_nodes, &id, why, sizeof why) != 0) {
        bad_request(req, "bad_query", "%s", why);
        return;
    }
    start_call(h, req, ROUTE_ADMIN, node_change_new(a->kind, id));
}

/* evhttp's callback for every request it parsed. */
static void on_request(struct evhttp_request *req, void *arg)
{
    struct net_http *h = arg;
    h->requests++;
    if (header_bytes(req) > h->opt.max_header_bytes) {
        bad_request(req, "headers_too_large", "the request line and headers exceed %zu bytes",
                    h->opt.max_header_bytes);
        return;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
    if (path == NULL || !net_http_printable(path) ||
        (query != NULL && !net_http_printable(query))) {
        bad_request(req, "bad_request",
                    "the request target is not a path and query of printable ASCII: encode "
                    "other bytes as %%XX");
        return;
    }
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    if (strcmp(path, "/status") == 0) {
        if (m != EVHTTP_REQ_GET) {
            not_allowed(req, "GET");
            return;
        }
        start_call(h, req, ROUTE_STATUS, actor_msg_new(sizeof(struct actor_msg), NODE_MSG_STATUS));
        return;
    }
    if (strncmp(path, "/kv/", 4) == 0) {
        if (m == EVHTTP_REQ_PUT)
            kv_request(h, req, ROUTE_PUT, path + 4, query);
        else if (m == EVHTTP_REQ_GET)
            kv_request(h, req, ROUTE_GET, path + 4, query);
        else if (m == EVHTTP_REQ_DELETE)
            kv_request(h, req, ROUTE_DELETE, path + 4, query);
        else
            not_allowed(req, "GET, PUT, DELETE");
        return;
    }
    if (strncmp(path, "/admin/", 7) == 0) {
        admin_request(h, req, path + 7, query);
        return;
    }
    send_error(req, 404, "unknown_path", "the API is /kv/{key}, /status and /admin/");
}

/* --- answers ------------------------------------------------------------------------------ */

/* The voters (or the learners) of c as a JSON array of ids, in order. */
static json_t *ids_json(const struct raft_config *c, bool voters)
{
    json_t *a = jcheck(json_array());
    for (uint32_t id = raft_config_next(c, 0); id != 0; id = raft_config_next(c, id))
        if (raft_config_is_voter(c, id) == voters &&
            json_array_append_new(a, jcheck(json_integer(id))) != 0)
            xalloc_failed(0);
    return a;
}

static void answer_status(struct pending *p, const struct node_status *s)
{
    struct net_http *h = p->h;
    json_t *o = jcheck(json_object());
    jset_int(o, "id", s->id);
    jset_str(o, "role", raft_role_name(s->role));
    jset_int(o, "term", s->term);
    jset_int(o, "leader", s->leader);
    jset_int(o, "commit_index", s->commit_index);
    jset_int(o, "last_applied", s->last_applied);
    jset_int(o, "last_index", s->last_index);
    jset_int(o, "snapshot_index", s->snapshot_index);
    jset_int(o, "first_index", s->first_index);
    jset_int(o, "n_keys", s->n_keys);
    char digest[17];
    snprintf(digest, sizeof digest, "%016llx", (unsigned long long)s->digest);
    jset_str(o, "digest", digest);
    jset_int(o, "elections", s->elections);
    jset_int(o, "proposals", s->proposals);
    jset_int(o, "snapshots_taken", s->snapshots_taken);
    jset_int(o, "snapshots_installed", s->snapshots_installed);
    /* Membership: the configuration in effect (the latest in the log) and the committed one. */
    const char *member = raft_config_is_voter(&s->config, s->id)     ? "voter"
                         : raft_config_is_learner(&s->config, s->id) ? "learner"
                                                                     : "none";
    jset_str(o, "member", member);
    jset(o, "voters", ids_json(&s->config, true));
    jset(o, "learners", ids_json(&s->config, false));
    jset_int(o, "config_index", s->config_index);
    jset(o, "committed_voters", ids_json(&s->config_committed, true));
    if (s->role == RAFT_LEADER)
        jset_int(o, "transfer_to", s->transfer_to);
    json_t *http = jcheck(json_object());
    jset_int(http, "connections", h->n_conns);
    jset_int(http, "waiting", h->n_waiting);
    jset_int(http, "requests", h->requests);
    jset_int(http, "refused", h->refused);
    jset_int(http, "timeouts", h->timeouts);
    jset(o, "http", http);
    send_json(p->req, 200, o, false);
}

/* 307 to the leader's address for the same path and query, or 503 if the leader is not known. */
static void answer_not_leader(struct pending *p, uint32_t leader)
{
    struct net_http *h = p->h;
    if (leader == 0 || leader > h->opt.n_nodes || leader == h->opt.self ||
        h->addrs[leader - 1][0] == '\0') {
        json_t *o = error_obj("no_leader", "this node does not know a leader; try again soon");
        jset_int(o, "node", h->opt.self);
        send_json(p->req, 503, o, false);
        return;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(p->req);
    const char *path = evhttp_uri_get_path(uri);
    const char *query = evhttp_uri_get_query(uri);
    size_t n = strlen(h->addrs[leader - 1]) + strlen(path) + (query ? strlen(query) : 0) + 16;
    char *location = xmalloc(n);
    snprintf(location, n, "http://%s%s%s%s", h->addrs[leader - 1], path, query ? "?" : "",
             query ? query : "");
    json_t *o = error_obj("not_leader", NULL);
    jset_int(o, "leader", leader);
    jset_str(o, "location", location);
    jset_int(o, "node", h->opt.self);
    evhttp_add_header(evhttp_request_get_output_headers(p->req), "Location", location);
    free(location);
    send_json(p->req, 307, o, false);
}

static void answer_kv(struct pending *p, const struct node_reply *r)
{
    struct net_http *h = p->h;
    switch (r->status) {
    case CLIENT_REPLY_OK:
        break;
    case CLIENT_REPLY_NOT_LEADER:
        answer_not_leader(p, r->leader_hint);
        return;
    case CLIENT_REPLY_UNKNOWN:
        answer_unknown(p, true, "leadership was lost before the command committed");
        return;
    case CLIENT_REPLY_REJECTED:
    default: {
        json_t *o = error_obj("rejected", "the node refused the command (malformed or too large)");
        jset_int(o, "node", h->opt.self);
        send_json(p->req, 400, o, false);
        return;
    }
    }
    struct kv_result res;
    if (kv_result_decode(r->data, r->len, &res) != 0) {
        json_t *o = error_obj("internal", "the node's result does not decode");
        jset_str(o, "outcome", "unknown");
        send_json(p->req, 500, o, false);
        return;
    }
    json_t *o = jcheck(json_object());
    int code = 200;
    if (res.status == KV_STALE) {
        /* Not 409: a 409 is final (http-api.md), and the result of an older seq is gone. */
        code = 400;
        jset_str(o, "error", "stale_seq");
        jset_str(o, "detail", "seq is older than this client's last request; its result is gone");
    } else if (p->route == ROUTE_PUT) {
        code = res.status == KV_OK ? 200 : 409;
        jset_str(o, "result", res.status == KV_OK ? "ok" : "exists");
    } else if (p->route == ROUTE_DELETE || res.status == KV_NOT_FOUND) {
        code = res.status == KV_OK ? 200 : 404;
        jset_str(o, "result", res.status == KV_OK ? "ok" : "not_found");
    } else {
        json_t *value =
            json_stringn(res.value_len > 0 ? (const char *)res.value : "", res.value_len);
        if (value == NULL) {
            /* Only through a writer that skipped the UTF-8 check: not through this API. */
            json_decref(o);
            send_json(p->req, 500, error_obj("internal", "the stored value is not UTF-8"), false);
            return;
        }
        jset_str(o, "result", "found");
        jset(o, "value", value);
    }
    jset_int(o, "index", r->index);
    jset_int(o, "term", r->term);
    jset_int(o, "node", h->opt.self);
    send_json(p->req, code, o, false);
}

/* The machine word of a leader's refusal (docs/http.md lists them). */
static const char *refusal_word(enum raft_refusal why)
{
    switch (why) {
    case RAFT_REFUSE_NONE:
        return "none";
    case RAFT_REFUSE_NOT_LEADER:
        return "not_leader";
    case RAFT_REFUSE_BAD_ID:
        return "bad_id";
    case RAFT_REFUSE_TERM_NOT_COMMITTED:
        return "term_not_committed";
    case RAFT_REFUSE_CHANGE_PENDING:
        return "change_pending";
    case RAFT_REFUSE_CATCHING_UP:
        return "catching_up";
    case RAFT_REFUSE_TRANSFERRING:
        return "transferring";
    case RAFT_REFUSE_ALREADY_MEMBER:
        return "already_member";
    case RAFT_REFUSE_NOT_MEMBER:
        return "not_member";
    case RAFT_REFUSE_LAST_VOTER:
        return "last_voter";
    case RAFT_REFUSE_NOT_VOTER:
        return "not_voter";
    case RAFT_REFUSE_SELF:
        return "self";
    case RAFT_REFUSE_NO_QUORUM:
        return "no_quorum";
    }
    return "unknown";
}

/* A membership change or transfer answered by the node: accepted (200), a follower's redirect
 * (307, or 503 without a leader), or the leader's refusal (409, with its reason). */
static void answer_change(struct pending *p, const struct raft_change_result *r)
{
    struct net_http *h = p->h;
    json_t *o;
    int code;
    if (r->status == RAFT_CHANGE_ACCEPTED) {
        code = 200;
        o = jcheck(json_object());
        jset_str(o, "result", "accepted");
        if (r->index != 0) /* a change's entry; a transfer has none */
            jset_int(o, "index", r->index);
    } else if (r->status == RAFT_CHANGE_REFUSED && r->why == RAFT_REFUSE_NOT_LEADER) {
        answer_not_leader(p, r->leader_hint);
        return;
    } else if (r->status == RAFT_CHANGE_REFUSED && r->why != RAFT_REFUSE_BAD_ID) {
        code = 409;
        o = error_obj("refused", raft_refusal_name(r->why));
        jset_str(o, "reason", refusal_word(r->why));
    } else { /* the id was checked against the same bound: not expected */
        code = r->status == RAFT_CHANGE_REFUSED ? 400 : 500;
        o = error_obj(code == 400 ? "bad_query" : "internal",
                      r->status == RAFT_CHANGE_REFUSED ? raft_refusal_name(r->why)
                                                       : "the node did not take the change");
    }
    jset_int(o, "node", h->opt.self);
    send_json(p->req, code, o, code == 400);
}

void net_http_answer(struct net_http *h, struct actor_answer *a)
{
    struct pending *p = pending_find(h, a->tag);
    if (p == NULL) {
        actor_msg_free(&a->hdr); /* late: timed out, or its client went away */
        return;
    }
    if (a->status != ACTOR_OK || a->reply == NULL) {
        answer_unknown(p, false, "the node is stopping");
    } else if (p->route == ROUTE_STATUS) {
        answer_status(p, &((const struct node_status_reply *)a->reply)->status);
    } else if (p->route == ROUTE_ADMIN) {
        answer_change(p, &((const struct node_change_reply *)a->reply)->result);
    } else {
        answer_kv(p, (const struct node_reply *)a->reply);
    }
    pending_release(p);
    actor_msg_free(&a->hdr);
}

/* --- opening and closing -------------------------------------------------------------------- */

/* Binds and listens on every address addr resolves to, each handed to evhttp. 0, or -1 with err.
 * An address that cannot be had is an error only if it is in use or nothing at all was bound. */
static int listen_on(struct net_http *h, const char *addr, char *err, size_t err_len)
{
    struct addrinfo *res = NULL;
    const char *why = NULL;
    if (net_resolve(addr, AI_PASSIVE, &res, &why) != 0) {
        snprintf(err, err_len, "cannot listen on %s: %s", addr, why);
        return -1;
    }
    int bound = 0, first_errno = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        int on = 1;
        if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
            (ai->ai_family != AF_INET6 ||
             setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0) &&
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) {
            if (evhttp_accept_socket_with_handle(h->http, fd) == NULL) {
                close(fd);
                snprintf(err, err_len, "cannot listen on %s: libevent refused the socket", addr);
                freeaddrinfo(res);
                return -1;
            }
            bound++;
            continue;
        }
        int e = errno;
        if (fd >= 0)
            close(fd);
        if (first_errno == 0 || e == EADDRINUSE)
            first_errno = e;
    }
    freeaddrinfo(res);
    if (bound == 0 || first_errno == EADDRINUSE) {
        snprintf(err, err_len, "cannot listen on %s: %s", addr, strerror(first_errno));
        return -1;
    }
    return 0;
}

static size_t twice(size_t n)
{
    return n > SIZE_MAX / 4 ? SIZE_MAX / 2 : 2 * n;
}

int net_http_open(struct net_http **out, struct event_base *base,
                  const struct net_http_options *opt, char *err, size_t err_len)
{
    *out = NULL;
    if (opt->self < 1 || opt->self > opt->n_nodes || opt->http_addrs == NULL ||
        opt->http_addrs[opt->self - 1] == NULL || opt->node == NULL || opt->loop == NULL) {
        snprintf(err, err_len, "the HTTP server's options are incomplete");
        return -1;
    }
    struct net_http *h = xcalloc(1, sizeof *h);
    h->opt = *opt;
    h->base = base;
    if (h->opt.request_timeout_ms == 0)
        h->opt.request_timeout_ms = HTTP_DEFAULT_REQUEST_TIMEOUT_MS;
    if (h->opt.idle_timeout_ms == 0)
        h->opt.idle_timeout_ms = HTTP_DEFAULT_IDLE_TIMEOUT_MS;
    if (h->opt.max_header_bytes == 0)
        h->opt.max_header_bytes = HTTP_DEFAULT_MAX_HEADER_BYTES;
    if (h->opt.max_body_bytes == 0)
        h->opt.max_body_bytes = KV_MAX_VALUE;
    if (h->opt.max_connections == 0)
        h->opt.max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
    h->addrs = xcalloc(opt->n_nodes, sizeof *h->addrs);
    for (uint32_t i = 0; i < opt->n_nodes; i++)
        h->addrs[i] = xstrdup(opt->http_addrs[i] != NULL ? opt->http_addrs[i] : "");
    h->opt.http_addrs = (const char *const *)h->addrs;

    h->http = evhttp_new(base);
    h->adopt = event_new(base, -1, 0, on_adopt, h);
    if (h->http == NULL || h->adopt == NULL) {
        snprintf(err, err_len, "libevent cannot make an HTTP server");
        goto err;
    }
    evhttp_set_gencb(h->http, on_request, h);
    evhttp_set_bevcb(h->http, on_new_bev, h);
    evhttp_set_default_content_type(h->http, "application/json");
    /* Every method, unknown ones included (evhttp's own refusal is an HTML 501): ours is 405. */
    evhttp_set_allowed_methods(h->http, UINT16_MAX);
    evhttp_set_max_headers_size(h->http, (ev_ssize_t)twice(h->opt.max_header_bytes));
    evhttp_set_max_body_size(h->http, (ev_ssize_t)twice(h->opt.max_body_bytes));
    struct timeval idle = {.tv_sec = (time_t)(h->opt.idle_timeout_ms / 1000),
                           .tv_usec = (suseconds_t)(h->opt.idle_timeout_ms % 1000) * 1000};
    evhttp_set_timeout_tv(h->http, &idle);
    if (listen_on(h, opt->http_addrs[opt->self - 1], err, err_len) != 0)
        goto err;
    *out = h;
    return 0;
err:
    net_http_close(h);
    return -1;
}

/* Writes what evhttp has queued on c's socket now, as far as the socket takes it without
 * waiting: the answers of net_http_close, which frees the connections at once. */
static void flush_now(struct conn *c)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
    struct evbuffer *out = bufferevent_get_output(bev);
    struct evbuffer_iovec vec[16];
    int n = evbuffer_peek(out, -1, NULL, vec, 16);
    if (n <= 0)
        return;
    struct iovec iov[16];
    for (int i = 0; i < n && i < 16; i++)
        iov[i] = (struct iovec){.iov_base = vec[i].iov_base, .iov_len = vec[i].iov_len};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)(n < 16 ? n : 16)};
    ssize_t rc = sendmsg(bufferevent_getfd(bev), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)rc; /* best effort: the connection is closed next */
}

void net_http_close(struct net_http *h)
{
    if (h == NULL)
        return;
    for (uint32_t i = 0; i < h->n_slots; i++) {
        struct pending *p = h->slots[i];
        if (p->req == NULL)
            continue;
        evhttp_add_header(evhttp_request_get_output_headers(p->req), "Connection", "close");
        answer_unknown(p, false, "the node is stopping");
        pending_release(p);
    }
    for (struct conn *c = h->conns; c != NULL; c = c->next)
        flush_now(c);
    /* Frees every connection; each close callback frees its struct conn. */
    if (h->http != NULL)
        evhttp_free(h->http);
    while (h->conns != NULL) { /* a connection evhttp freed without its close callback */
        struct conn *c = h->conns;
        h->conns = c->next;
        free(c);
    }
    for (size_t i = 0; i < h->n_fresh; i++)
        bufferevent_decref(h->fresh[i]);
    free(h->fresh);
    if (h->adopt != NULL)
        event_free(h->adopt);
    for (uint32_t i = 0; i < h->n_slots; i++) {
        event_free(h->slots[i]->timer);
        free(h->slots[i]);
    }
    free(h->slots);
    free(h->free_slots);
    for (uint32_t i = 0; h->addrs != NULL && i < h->opt.n_nodes; i++)
        free(h->addrs[i]);
    free(h->addrs);
    free(h);
}
