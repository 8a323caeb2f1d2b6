/* raft_bench.c - the replicated store under closed-loop load: a 5-node cluster, trace off, and
 * 1, 16 and 64 clients that each send their next request as soon as the last is answered.
 * Reports committed ops/s (answered by the leader after commit and apply) and client latency
 * p50/p99 per client count. Clients are plain threads calling the leader, so the figures are
 * the cluster's, not the client logic's.
 *
 * Usage: raft_bench [OPS [NODES]]   (defaults 200000 operations per client count, 5 nodes)
 * RAFT_BENCH_MONITOR=1 runs it with the invariant monitor on.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "common/alloc.h"
#include "kv/kv.h"
#include "runtime/trace.h"

struct bench_client {
    pthread_t thread;
    struct actor *leader;
    uint32_t id;
    uint32_t ops;
    uint64_t *latency_ns; /* ops entries */
    uint32_t failed;
    _Atomic int *go;
};

static void *client_loop(void *p)
{
    struct bench_client *c = p;
    while (!*c->go)
        ;
    char key[32];
    uint8_t buf[128];
    for (uint32_t i = 0; i < c->ops; i++) {
        /* Each client cycles over its own 16 keys: put, get, delete, put, ... */
        snprintf(key, sizeof key, "k%u-%u", c->id, i % 16);
        static const enum kv_op ops[] = {KV_OP_PUT, KV_OP_GET, KV_OP_DELETE};
        struct kv_command cmd = {
            .op = ops[(i / 16) % 3],
            .client_id = c->id,
            .seq = (uint64_t)i + 1,
            .key = (const uint8_t *)key,
            .key_len = (uint32_t)strlen(key),
            .value = (const uint8_t *)"value-01",
            .value_len = ops[(i / 16) % 3] == KV_OP_PUT ? 8 : 0,
        };
        size_t len;
        if (kv_command_encode(&cmd, buf, sizeof buf, &len) != 0)
            abort();
        uint64_t t0 = actor_now_ns();
        struct actor_msg *reply = NULL;
        int rc = actor_call(c->leader, node_request_new(buf, (uint32_t)len), 10000, &reply);
        c->latency_ns[i] = actor_now_ns() - t0;
        if (rc != ACTOR_OK || ((struct node_reply *)reply)->status != CLIENT_REPLY_OK)
            c->failed++;
        actor_msg_free(reply);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* One measurement: returns 0 and prints "raft_<clients>c_ops_per_s N", "..._p50_us", ... */
static int run(uint32_t nodes, uint32_t clients, uint32_t total_ops)
{
    struct cfg cfg;
    cfg_init(&cfg);
    cfg.num_nodes = nodes;
    cfg.num_clients = 0;
    cfg.seed = 1;
    cfg.seed_given = true;
    /* Like the trace, the invariant monitor is a checking aid, not the store: it is measured
     * apart (RAFT_BENCH_MONITOR=1 turns it on). */
    cfg.check.invariants = getenv("RAFT_BENCH_MONITOR") != NULL;
    struct cluster c;
    char err[256];
    if (cluster_start(&c, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "raft_bench: %s\n", err);
        cfg_close(&cfg);
        return -1;
    }
    uint32_t per = total_ops / clients;
    _Atomic int go = 0;
    struct bench_client *bc = xcalloc(clients, sizeof *bc);
    for (uint32_t i = 0; i < clients; i++) {
        bc[i] = (struct bench_client){.leader = c.nodes[c.leader - 1],
                                      .id = i + 1,
                                      .ops = per,
                                      .latency_ns = xcalloc(per, sizeof(uint64_t)),
                                      .go = &go};
        pthread_create(&bc[i].thread, NULL, client_loop, &bc[i]);
    }
    uint64_t t0 = actor_now_ns();
    go = 1;
    for (uint32_t i = 0; i < clients; i++)
        pthread_join(bc[i].thread, NULL);
    double wall_s = (double)(actor_now_ns() - t0) / 1e9;
    uint64_t n = (uint64_t)per * clients;
    uint64_t *all = xcalloc(n, sizeof *all);
    uint32_t failed = 0;
    for (uint32_t i = 0; i < clients; i++) {
        memcpy(all + (uint64_t)i * per, bc[i].latency_ns, per * sizeof(uint64_t));
        failed += bc[i].failed;
        free(bc[i].latency_ns);
    }
    qsort(all, n, sizeof *all, cmp_u64);
    struct node_status st;
    cluster_find_leader(&c, &st);
    cluster_stop(&c);
    cluster_close(&c);
    printf("raft_%uc_ops_per_s %.0f\n", clients, (double)(n - failed) / wall_s);
    printf("raft_%uc_p50_us %.1f\n", clients, (double)all[n / 2] / 1e3);
    printf("raft_%uc_p99_us %.1f\n", clients, (double)all[n * 99 / 100] / 1e3);
    printf("raft_%uc_failed %u\n", clients, failed);
    printf("raft_%uc_log_entries %" PRIu64 "\n", clients, st.last_index);
    fflush(stdout);
    free(all);
    free(bc);
    cfg_close(&cfg);
    return failed == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    uint32_t ops = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 200000;
    uint32_t nodes = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 5;
    if (ops < 64 || nodes < 1 || nodes > 255) {
        fprintf(stderr, "usage: raft_bench [OPS >= 64 [NODES 1..255]]\n");
        return 2;
    }
    struct trace_options quiet = {.level = TRACE_QUIET};
    trace_open(&quiet);
    static const uint32_t client_counts[] = {1, 16, 64};
    int rc = 0;
    for (size_t i = 0; i < sizeof client_counts / sizeof client_counts[0]; i++)
        rc |= run(nodes, client_counts[i], client_counts[i] == 1 ? ops / 10 : ops);
    return rc ? 1 : 0;
}
