/* serve.c - `raft_kv serve --node ID [--join] CONFIG`: one node per process. The node actor of the
 * in-process run (actors/node.c) on its files, and beside it the network actor (net/loop.c) in
 * every peer slot of its directory, carrying its messages over TCP and its clients' requests
 * over HTTP. main only starts them, waits for SIGTERM or SIGINT, and stops them in order.
 */
#include "net/serve.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actors/node.h"
#include "common/alloc.h"
#include "config/config.h"
#include "host/network.h"
#include "host/node_storage.h"
#include "host/node_trace.h"
#include "net/loop.h"
#include "runtime/directory.h"
#include "runtime/signals.h"
#include "runtime/trace.h"
#include "scenario/params.h"

/* Limits of the TCP peers and the HTTP API (documented in README, "Networked mode"). */
enum {
    PEER_QUEUE_BYTES_MAX = 16u << 20, /* unwritten bytes to one peer before messages drop */
    PEER_BACKOFF_MIN_MS = 20,
    PEER_BACKOFF_MAX_MS = 1000,
    HTTP_MAX_HEADER_BYTES = 8192,
    HTTP_MAX_BODY_BYTES = 1u << 20, /* KV_MAX_VALUE */
    HTTP_MAX_CONNECTIONS = 1024,
    STOP_POLL_MS = 20,
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: raft_kv serve --node ID [--join] [--set KEY=VALUE]... CONFIG\n"
            "  runs node ID of the cluster that CONFIG's [[node]] tables list, in the "
            "foreground, until SIGTERM or SIGINT\n"
            "  --join  start as a joining server: it never campaigns before the leader adds it\n"
            "          (POST /admin/add?id=ID) and its log gives it a configuration. Required for\n"
            "          a node whose table says join = true; allowed for any node (a fresh machine\n"
            "          added back under an old id)\n");
}

/* 64-bit FNV-1a over each node's id, raft address and join flag: two processes agree on it
 * exactly when their configurations list the same cluster with the same initial voters, which
 * the peers' handshake checks. A table without join hashes as it did before join existed. */
static uint64_t cluster_id_of(const struct cfg *cfg)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < cfg->n_nodes; i++) {
        char text[320];
        int n = snprintf(text, sizeof text, "%" PRIu32 "=%s%s;", cfg->nodes[i].id,
                         cfg->nodes[i].raft, cfg->nodes[i].join ? "+join" : "");
        for (int k = 0; k < n && k < (int)sizeof text; k++) {
            h ^= (uint8_t)text[k];
            h *= 1099511628211ull;
        }
    }
    return h;
}

static uint64_t random_u64(void)
{
    uint64_t v = 0;
    size_t got = 0;
    while (got < sizeof v) {
        ssize_t n = getrandom((char *)&v + got, sizeof v - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (errno != EINTR)
            return (uint64_t)time(NULL) ^ (uint64_t)clock();
    }
    return v;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void stop_actor(struct actor *a)
{
    if (a == NULL)
        return;
    actor_stop(a);
    actor_join(a);
    actor_unref(a);
}

/* Takes the data directory for this process: made if missing, then its LOCK file locked
 * (flock, released when the process ends however it ends), so that a second process started
 * with the same directory stops before it reads or writes a byte of the first one's files.
 * The lock's fd, or -1 with err. */
static int lock_data_dir(const char *dir, char *err, size_t err_len)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create the data directory %.900s: %s", dir, strerror(errno));
        return -1;
    }
    char path[CFG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, err_len, "cannot use the data directory %.900s: %s", dir,
                 errno == ENOTDIR ? "it is not a directory" : strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, err_len,
                 "the data directory %.900s is in use by another process (its LOCK "
                 "file is locked)",
                 dir);
        close(fd);
        return -1;
    }
    return fd;
}

/* The parsed command line. */
struct serve_args {
    uint32_t node;
    bool join; /* --join */
    const char *config;
    struct cfg_override *sets;
    size_t n_sets;
};

static int parse_args(int argc, char **argv, struct serve_args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--node") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (errno != 0 || end == argv[i] || *end != '\0' || v == 0 || v > CFG_NODES_MAX ||
                argv[i][0] == '-' || argv[i][0] == '+') {
                fprintf(stderr, "raft_kv serve: --node '%s': expected a node id 1..%d\n", argv[i],
                        CFG_NODES_MAX);
                return -1;
            }
            a->node = (uint32_t)v;
        } else if (strcmp(arg, "--join") == 0) {
            a->join = true;
        } else if (strcmp(arg, "--set") == 0 && i + 1 < argc) {
            a->sets = xreallocarray(a->sets, a->n_sets + 1, sizeof *a->sets);
            a->sets[a->n_sets++] =
                (struct cfg_override){.origin = argv[i + 1], .toml = argv[i + 1]};
            i++;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "raft_kv serve: unknown option or missing value: '%s'\n", arg);
            return -1;
        } else if (a->config == NULL) {
            a->config = arg;
        } else {
            fprintf(stderr, "raft_kv serve: one CONFIG only ('%s' and '%s')\n", a->config, arg);
            return -1;
        }
    }
    if (a->node == 0 || a->config == NULL) {
        fprintf(stderr, "raft_kv serve: %s is missing\n", a->node == 0 ? "--node ID" : "CONFIG");
        return -1;
    }
    return 0;
}

/* The running node and its network. */
struct server {
    const struct cfg *cfg;
    uint32_t id;
    bool join; /* started with --join */
    struct actor_dir *dir;
    struct netem *net;
    struct actor *loop;
    struct actor *node;
    const char **raft_addrs, **http_addrs;
    int lock_fd;
};

static void server_close(struct server *s)
{
    /* The network first: no request arrives at a stopping node, and waiting clients hear 503. */
    stop_actor(s->loop);
    stop_actor(s->node);
    actor_dir_free(s->dir);
    netem_free(s->net);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->raft_addrs);
    free(s->http_addrs);
}

/* Starts node s->id and its network. 0, or -1 with err (nothing left running). */
static int server_start(struct server *s, char *err, size_t err_len)
{
    const struct cfg *cfg = s->cfg;
    const struct cfg_node *me = &cfg->nodes[s->id - 1];
    /* Every table is a node id the core, the peers and the HTTP front end know: the joining ones
     * (ids num_nodes+1..n) are the core's ids up to max_nodes (config/config.h). */
    uint32_t n = (uint32_t)cfg->n_nodes;
    assert(cfg_max_nodes(cfg) == n);
    s->lock_fd = lock_data_dir(me->data_dir, err, err_len);
    if (s->lock_fd < 0)
        return -1;
    s->raft_addrs = xcalloc(n, sizeof *s->raft_addrs);
    s->http_addrs = xcalloc(n, sizeof *s->http_addrs);
    for (uint32_t i = 0; i < n; i++) {
        s->raft_addrs[i] = cfg->nodes[i].raft;
        s->http_addrs[i] = cfg->nodes[i].http;
    }
    int rc = net_loop_spawn(s->id, &s->loop);
    if (rc != ACTOR_OK) {
        snprintf(err, err_len, "cannot start the network actor: %s", actor_strerror(rc));
        return -1;
    }
    s->dir = actor_dir_new(n);
    for (uint32_t i = 0; i < n; i++)
        if (i + 1 != s->id)
            actor_dir_set(s->dir, i, s->loop); /* every peer is reached through the network */
    /* [network]'s emulated faults, if any, sit in front of TCP as in front of any transport. */
    const struct cfg_network *nw = &cfg->network;
    if (nw->drop > 0 || nw->delay_ms_max > 0 || nw->duplicate > 0) {
        struct netem_options no;
        host_netem_options(cfg, &no);
        s->net = netem_new(n, &no);
    }
    uint64_t incarnation_seed = random_u64();
    struct storage_report recovered;
    struct node_options o = {
        .data_dir = me->data_dir,
        .recovered = &recovered,
        .peers = s->dir,
        .net = s->net,
        .net_seed = incarnation_seed,
        .incarnation = (uint32_t)(incarnation_seed >> 40), /* a process start: unknown, drawn */
        .epoch_ns = actor_now_ns(),
    };
    /* A process start is a new incarnation: its election timeouts and read request ids are
     * drawn afresh (unique across restarts, as the core's follower reads require). */
    struct cfg drawn = *cfg;
    drawn.seed = incarnation_seed & CFG_SEED_MAX;
    scenario_raft_options(&drawn, s->id, 0, &o.raft);
    o.raft.join = s->join; /* the command line says, not the id: see net_serve_command */
    storage_options_default(&o.storage, s->id);
    o.storage.segment_bytes = cfg->storage.segment_bytes;
    o.storage.fsync = cfg->storage.fsync;
    const char *why = NULL;
    if (raft_options_validate(&o.raft, &why) != RAFT_OK) {
        snprintf(err, err_len, "invalid Raft options: %s", why);
        return -1;
    }
    char storage_err[1024];
    rc = node_spawn(&o, &s->node, storage_err, sizeof storage_err);
    if (rc != ACTOR_OK) {
        s->node = NULL;
        snprintf(err, err_len, "%s", rc == NODE_ESTORAGE ? storage_err : actor_strerror(rc));
        return -1;
    }
    char described[512];
    node_storage_describe(&recovered, described, sizeof described);
    fprintf(stderr, "raft_kv: node %u recovered %s: %s\n", s->id, me->data_dir, described);
    struct net_peers_options po = {
        .self = s->id,
        .n_nodes = n,
        .raft_addrs = s->raft_addrs,
        .cluster_id = cluster_id_of(cfg),
        .queue_bytes_max = PEER_QUEUE_BYTES_MAX,
        .backoff_min_ms = PEER_BACKOFF_MIN_MS,
        .backoff_max_ms = PEER_BACKOFF_MAX_MS,
        .seed = incarnation_seed ^ 0x5045455253ull,
    };
    struct net_http_options ho = {
        .self = s->id,
        .n_nodes = n,
        .http_addrs = s->http_addrs,
        .request_timeout_ms = scenario_request_deadline_ms(cfg),
        .max_header_bytes = HTTP_MAX_HEADER_BYTES,
        .max_body_bytes = HTTP_MAX_BODY_BYTES,
        .max_connections = HTTP_MAX_CONNECTIONS,
    };
    return net_loop_open(s->loop, s->node, &po, &ho, err, err_len);
}

int net_serve_command(int argc, char **argv)
{
    struct serve_args a = {0};
    if (parse_args(argc, argv, &a) != 0) {
        usage(stderr);
        free(a.sets);
        return 2;
    }
    struct cfg cfg;
    struct cfg_error cerr;
    int rc = cfg_load(&cfg, a.config, a.sets, a.n_sets, &cerr);
    free(a.sets);
    if (rc != 0) {
        fprintf(stderr, "raft_kv: %s\n", cerr.msg);
        return 1;
    }
    if (cfg.n_nodes == 0) {
        fprintf(stderr,
                "raft_kv: %s lists no [[node]] tables: serve needs each node's raft and "
                "http addresses and data_dir (see ../shared/http-api.md)\n",
                a.config);
        cfg_close(&cfg);
        return 1;
    }
    if (a.node > cfg.n_nodes) {
        fprintf(stderr, "raft_kv serve: --node %u: %s lists nodes 1..%zu\n", a.node, a.config,
                cfg.n_nodes);
        cfg_close(&cfg);
        return 2;
    }
    /* A node outside the initial configuration must know it, or with an empty log it would
     * campaign among voters 1..num_nodes as if it were one of them. */
    if (cfg.nodes[a.node - 1].join && !a.join) {
        fprintf(stderr,
                "raft_kv serve: node %u's table in %s says join = true: start it with --join "
                "(it then waits until the leader adds it: POST /admin/add?id=%u)\n",
                a.node, a.config, a.node);
        usage(stderr);
        cfg_close(&cfg);
        return 2;
    }
    /* A peer or client that closes before a write of ours ends makes the write fail with EPIPE,
     * and with SIGPIPE, which would end the process: libevent writes with writev, which cannot
     * be told MSG_NOSIGNAL. Ignored, the write just fails and the connection is closed. */
    signal(SIGPIPE, SIG_IGN);
    char err[1024];
    if (signal_watch_start(err, sizeof err) != 0) {
        fprintf(stderr, "raft_kv: %s\n", err);
        cfg_close(&cfg);
        return 1;
    }
    host_trace_open(&cfg.trace);
    struct server s = {.cfg = &cfg, .id = a.node, .join = a.join, .lock_fd = -1};
    if (server_start(&s, err, sizeof err) != 0) {
        server_close(&s);
        signal_watch_stop();
        trace_close();
        fprintf(stderr, "raft_kv: node %u: %s\n", a.node, err);
        cfg_close(&cfg);
        return 1;
    }
    const struct cfg_node *me = &cfg.nodes[a.node - 1];
    fprintf(stderr, "raft_kv: node %u of %zu serving%s: raft %s, http http://%s, data %s\n", a.node,
            cfg.n_nodes, a.join ? " (joining: it waits to be added)" : "", me->raft, me->http,
            me->data_dir);
    while (signal_watch_caught() == 0)
        sleep_ms(STOP_POLL_MS);
    int sig = signal_watch_caught();
    fprintf(stderr, "raft_kv: node %u: %s, stopping\n", a.node, signal_name(sig));
    server_close(&s);
    fprintf(stderr, "raft_kv: node %u stopped cleanly\n", a.node);
    signal_watch_stop();
    trace_close();
    cfg_close(&cfg);
    return 0;
}
