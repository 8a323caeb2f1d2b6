/* client_cli.c - `raft_kv put|get|delete`: one request to a networked cluster over HTTP (libevent's
 * evhttp client, jansson), finding the leader by its redirects and retrying with the same
 * (client_id, seq) until an answer is final, so a write is applied at most once however often
 * it is sent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "common/alloc.h"
#include "config/config.h"
#include "net/serve.h"

enum {
    EXIT_DONE = 0,
    EXIT_NO = 1, /* not found, or exists */
    EXIT_USAGE = 2,
    EXIT_UNKNOWN = 3,
    ATTEMPT_TIMEOUT_S = 5,
    RETRY_PAUSE_MS = 100,
};

struct client_args {
    const char *verb; /* put, get, delete */
    const char *key, *value;
    const char *cluster;
    const char *consistency;
    uint32_t node; /* the node asked first; 0: node 1 */
    uint64_t client_id, seq;
    uint32_t timeout_ms;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: raft_kv put KEY VALUE [options]\n"
            "       raft_kv get KEY [--consistency linearizable|lease|stale] [options]\n"
            "       raft_kv delete KEY [options]\n"
            "options: --cluster CONFIG (the [[node]] list; default config.toml), --node ID (ask "
            "it first),\n"
            "         --timeout-ms N (give up after N ms; default 10000), --client-id N --seq M "
            "(exactly-once\n"
            "         identity; default a fresh random client, seq 1)\n"
            "exit: 0 done, 1 not found / exists, 2 usage, 3 outcome unknown\n");
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (s[0] < '0' || s[0] > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, struct client_args *a)
{
    a->verb = argv[0];
    a->cluster = CFG_DEFAULT_PATH;
    a->timeout_ms = 10000;
    int positional = 0;
    bool id_given = false, seq_given = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v = 0;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(arg, "--cluster") == 0 && next != NULL) {
            a->cluster = argv[++i];
        } else if (strcmp(arg, "--consistency") == 0 && next != NULL &&
                   strcmp(a->verb, "get") == 0) {
            a->consistency = argv[++i];
            if (strcmp(a->consistency, "linearizable") != 0 &&
                strcmp(a->consistency, "lease") != 0 && strcmp(a->consistency, "stale") != 0) {
                fprintf(stderr,
                        "raft_kv %s: --consistency '%s': expected linearizable, lease or "
                        "stale\n",
                        a->verb, a->consistency);
                return -1;
            }
        } else if (strcmp(arg, "--node") == 0 && next != NULL) {
            if (!parse_u64(argv[++i], 1, CFG_NODES_MAX, &v)) {
                fprintf(stderr, "raft_kv %s: --node '%s': expected 1..%d\n", a->verb, argv[i],
                        CFG_NODES_MAX);
                return -1;
            }
            a->node = (uint32_t)v;
        } else if (strcmp(arg, "--timeout-ms") == 0 && next != NULL) {
            if (!parse_u64(argv[++i], 1, 3600000, &v)) {
                fprintf(stderr, "raft_kv %s: --timeout-ms '%s': expected 1..3600000\n", a->verb,
                        argv[i]);
                return -1;
            }
            a->timeout_ms = (uint32_t)v;
        } else if ((strcmp(arg, "--client-id") == 0 || strcmp(arg, "--seq") == 0) && next != NULL) {
            bool is_id = arg[2] == 'c';
            if (!parse_u64(argv[++i], 1, INT64_MAX, is_id ? &a->client_id : &a->seq)) {
                fprintf(stderr, "raft_kv %s: %s '%s': expected a positive integer\n", a->verb, arg,
                        argv[i]);
                return -1;
            }
            *(is_id ? &id_given : &seq_given) = true;
        } else if (arg[0] == '-' && arg[1] == '-') {
            fprintf(stderr, "raft_kv %s: unknown option or missing value: '%s'\n", a->verb, arg);
            return -1;
        } else if (positional == 0) {
            a->key = arg;
            positional++;
        } else if (positional == 1 && strcmp(a->verb, "put") == 0) {
            a->value = arg;
            positional++;
        } else {
            fprintf(stderr, "raft_kv %s: unexpected argument '%s'\n", a->verb, arg);
            return -1;
        }
    }
    bool is_put = strcmp(a->verb, "put") == 0;
    if (a->key == NULL || (is_put && a->value == NULL)) {
        fprintf(stderr, "raft_kv %s: %s\n", a->verb,
                a->key == NULL ? "KEY is missing" : "VALUE is missing");
        return -1;
    }
    size_t key_len = strlen(a->key);
    if (key_len == 0 || key_len > CFG_KEY_LEN_MAX) {
        fprintf(stderr, "raft_kv %s: a key is 1..%d bytes\n", a->verb, CFG_KEY_LEN_MAX);
        return -1;
    }
    if (id_given != seq_given) {
        fprintf(stderr, "raft_kv %s: --client-id and --seq go together\n", a->verb);
        return -1;
    }
    return 0;
}

/* One HTTP exchange's outcome. */
struct exchange {
    int code; /* 0: no answer (connection refused, reset, timed out) */
    char location[512];
    json_t *body; /* NULL if the body is not JSON */
    bool done;
};

static void on_response(struct evhttp_request *req, void *arg)
{
    struct exchange *x = arg;
    x->done = true;
    if (req == NULL)
        return;
    x->code = evhttp_request_get_response_code(req);
    const char *loc = evhttp_find_header(evhttp_request_get_input_headers(req), "Location");
    if (loc != NULL)
        snprintf(x->location, sizeof x->location, "%s", loc);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
    if (data != NULL || len == 0)
        x->body = json_loadb(data != NULL ? data : "", len, 0, NULL);
}

/* Sends one request to host:port and waits for its answer (at most ATTEMPT_TIMEOUT_S). */
static void exchange(struct event_base *base, const char *host, uint16_t port,
                     enum evhttp_cmd_type method, const char *uri, const char *body,
                     struct exchange *x)
{
    memset(x, 0, sizeof *x);
    struct evhttp_connection *conn = evhttp_connection_base_new(base, NULL, host, port);
    if (conn == NULL)
        return;
    evhttp_connection_set_timeout(conn, ATTEMPT_TIMEOUT_S);
    struct evhttp_request *req = evhttp_request_new(on_response, x);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char host_header[300];
    snprintf(host_header, sizeof host_header, "%s:%u", host, port);
    evhttp_add_header(h, "Host", host_header);
    evhttp_add_header(h, "Connection", "close");
    if (body != NULL)
        evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    if (evhttp_make_request(conn, req, method, uri) == 0) {
        while (!x->done)
            event_base_loop(base, EVLOOP_ONCE);
    }
    evhttp_connection_free(conn);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The node whose http address the Location URL names, or 0. */
static uint32_t node_of_location(const struct cfg *cfg, const char *location)
{
    struct evhttp_uri *u = evhttp_uri_parse(location);
    if (u == NULL)
        return 0;
    uint32_t found = 0;
    const char *host = evhttp_uri_get_host(u);
    int port = evhttp_uri_get_port(u);
    for (size_t i = 0; host != NULL && i < cfg->n_nodes; i++)
        if (strcmp(cfg->nodes[i].http_host, host) == 0 && cfg->nodes[i].http_port == port)
            found = cfg->nodes[i].id;
    evhttp_uri_free(u);
    return found;
}

/* Prints a final answer and returns its exit status. */
static int final_answer(const struct client_args *a, const struct exchange *x)
{
    const char *result = json_string_value(json_object_get(x->body, "result"));
    if (result == NULL)
        result = "?";
    if (strcmp(a->verb, "get") == 0 && x->code == 200) {
        const char *value = json_string_value(json_object_get(x->body, "value"));
        printf("%s\n", value != NULL ? value : "");
        return EXIT_DONE;
    }
    printf("%s\n", result);
    return x->code == 200 ? EXIT_DONE : EXIT_NO;
}

static int run(const struct client_args *a, const struct cfg *cfg)
{
    char *key = evhttp_uriencode(a->key, -1, 0);
    char uri[1200];
    int n = snprintf(uri, sizeof uri, "/kv/%s", key);
    free(key);
    if (strcmp(a->verb, "get") != 0)
        n += snprintf(uri + n, sizeof uri - (size_t)n, "?client_id=%" PRIu64 "&seq=%" PRIu64,
                      a->client_id, a->seq);
    else if (a->consistency != NULL)
        snprintf(uri + n, sizeof uri - (size_t)n, "?consistency=%s", a->consistency);
    enum evhttp_cmd_type method = strcmp(a->verb, "put") == 0   ? EVHTTP_REQ_PUT
                                  : strcmp(a->verb, "get") == 0 ? EVHTTP_REQ_GET
                                                                : EVHTTP_REQ_DELETE;
    struct event_base *base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "raft_kv %s: cannot start an event loop\n", a->verb);
        return EXIT_UNKNOWN;
    }
    uint32_t node = a->node != 0 && a->node <= cfg->n_nodes ? a->node : 1;
    uint64_t deadline = now_ms() + a->timeout_ms;
    bool maybe_applied = false; /* a write was sent and its fate is unknown */
    int rc = EXIT_UNKNOWN;
    char last[256] = "no node answered";
    for (;;) {
        const struct cfg_node *nd = &cfg->nodes[node - 1];
        struct exchange x;
        exchange(base, nd->http_host, nd->http_port, method, uri, a->value, &x);
        bool redirected = false;
        if (x.code == 200 || x.code == 404 || x.code == 409) {
            if (x.body != NULL && json_object_get(x.body, "result") != NULL) {
                rc = final_answer(a, &x);
                json_decref(x.body);
                break;
            }
        }
        if (x.code == 307) {
            uint32_t to = node_of_location(cfg, x.location);
            snprintf(last, sizeof last, "node %u redirected to %.200s", node, x.location);
            if (to != 0) {
                node = to;
                redirected = true;
            }
        } else if (x.code == 400 || x.code == 404 || x.code == 405 || x.code == 413) {
            const char *e = json_string_value(json_object_get(x.body, "error"));
            fprintf(stderr, "raft_kv %s: node %u refused the request (%d): %s\n", a->verb, node,
                    x.code, e != NULL ? e : "?");
            json_decref(x.body);
            rc = EXIT_USAGE;
            break;
        } else if (x.code == 0) {
            snprintf(last, sizeof last, "node %u (%s) did not answer", node, nd->http);
            maybe_applied = true; /* the request may have reached it before the connection broke */
        } else {
            const char *e = json_string_value(json_object_get(x.body, "error"));
            snprintf(last, sizeof last, "node %u answered %d %s", node, x.code, e != NULL ? e : "");
            if (x.code == 504)
                maybe_applied = true;
        }
        json_decref(x.body);
        if (now_ms() >= deadline) {
            fprintf(stderr, "raft_kv %s: no final answer within %u ms (last: %s)%s\n", a->verb,
                    a->timeout_ms, last,
                    maybe_applied && method != EVHTTP_REQ_GET
                        ? "; the request may or may not have been applied"
                        : "");
            rc = EXIT_UNKNOWN;
            break;
        }
        if (!redirected) {
            node = node % (uint32_t)cfg->n_nodes + 1; /* try the next node */
            sleep_ms(RETRY_PAUSE_MS);
        }
    }
    event_base_free(base);
    return rc;
}

int net_client_command(int argc, char **argv)
{
    struct client_args a = {0};
    if (parse_args(argc, argv, &a) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct cfg cfg;
    struct cfg_error err;
    if (cfg_load(&cfg, a.cluster, NULL, 0, &err) != 0) {
        fprintf(stderr, "raft_kv: %s\n", err.msg);
        return EXIT_USAGE;
    }
    if (cfg.n_nodes == 0) {
        fprintf(stderr,
                "raft_kv %s: %s lists no [[node]] tables (--cluster names the cluster's "
                "configuration)\n",
                a.verb, a.cluster);
        cfg_close(&cfg);
        return EXIT_USAGE;
    }
    if (a.client_id == 0) {
        /* A fresh session: a random client id below 2^63, and its first request. */
        while (a.client_id == 0) {
            if (getrandom(&a.client_id, sizeof a.client_id, 0) != sizeof a.client_id)
                a.client_id = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
            a.client_id &= INT64_MAX;
        }
        a.seq = 1;
    }
    int rc = run(&a, &cfg);
    cfg_close(&cfg);
    return rc;
}
