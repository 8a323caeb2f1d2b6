/* test_cluster.c - whole runs on real threads: clusters of 1, 3, 5 and 7 nodes with 0, 1, 3 and
 * 32 clients. Every run must end with a leader, every node caught up, all stores identical and
 * every client result equal to a sequential replay of the committed log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "config/config.h"
#include "runtime/trace.h"

static int quiet_trace(void **state)
{
    (void)state;
    struct trace_options opt = {.level = TRACE_QUIET, .format = TRACE_TEXT};
    trace_open(&opt);
    return 0;
}

/* Runs one cluster and checks everything the run can check about itself. */
static void run_and_check(uint32_t nodes, uint32_t clients, uint32_t requests, uint64_t seed,
                          const char *history)
{
    struct cfg cfg;
    cfg_init(&cfg);
    cfg.num_nodes = nodes;
    cfg.num_clients = clients;
    cfg.client.requests = requests;
    cfg.seed = seed;
    cfg.seed_given = true;
    if (history != NULL)
        cfg.history_path = strdup(history);
    struct cluster_report rep;
    char err[512] = "";
    int rc = cluster_run(&cfg, &rep, err, sizeof err);
    if (rc != 0)
        fail_msg("%u nodes, %u clients, seed %llu: run failed: %s", nodes, clients,
                 (unsigned long long)seed, err);
    if (!cluster_consistent(&rep)) {
        cluster_report_print(stderr, &rep);
        fail_msg("%u nodes, %u clients, seed %llu: %s", nodes, clients, (unsigned long long)seed,
                 rep.problem);
    }
    assert_true(rep.leader >= 1 && rep.leader <= nodes);
    assert_true(rep.all_applied);
    assert_true(rep.stores_identical);
    assert_true(rep.results_consistent);
    /* Every request ended, and with nothing going wrong every one of them succeeded. */
    assert_int_equal(rep.counts.requests, (uint64_t)clients * requests);
    assert_int_equal(rep.counts.ok, (uint64_t)clients * requests);
    /* The log holds a no-op per leader term and each request once (retries deduplicated). */
    assert_int_equal(rep.replayed, rep.counts.ok);
    assert_true(rep.commit_index >= rep.replayed + 1);
    for (uint32_t i = 0; i < nodes; i++) {
        assert_int_equal(rep.nodes[i].last_applied, rep.commit_index);
        assert_int_equal(rep.nodes[i].digest, rep.nodes[0].digest);
    }
    cluster_report_close(&rep);
    cfg_close(&cfg);
}

#define CLUSTER_TEST(nodes, clients)                                                               \
    static void cluster_##nodes##_nodes_##clients##_clients(void **state)                          \
    {                                                                                              \
        (void)state;                                                                               \
        run_and_check(nodes, clients, 5, 1000u * nodes + clients, NULL);                           \
    }

/* One test per cluster size and client count: each ends consistent. */
CLUSTER_TEST(1, 0)
CLUSTER_TEST(1, 1)
CLUSTER_TEST(1, 3)
CLUSTER_TEST(1, 32)
CLUSTER_TEST(3, 0)
CLUSTER_TEST(3, 1)
CLUSTER_TEST(3, 3)
CLUSTER_TEST(3, 32)
CLUSTER_TEST(5, 0)
CLUSTER_TEST(5, 1)
CLUSTER_TEST(5, 3)
CLUSTER_TEST(5, 32)
CLUSTER_TEST(7, 0)
CLUSTER_TEST(7, 1)
CLUSTER_TEST(7, 3)
CLUSTER_TEST(7, 32)

/* Many requests per client exercise pipelining and batching; the run stays consistent. */
static void many_requests_stay_consistent(void **state)
{
    (void)state;
    run_and_check(5, 8, 200, 77, NULL);
}

/* --history writes exactly one invoke and one completion per request, in time order. */
static void history_has_two_lines_per_request_in_time_order(void **state)
{
    (void)state;
    char path[] = "/tmp/raft_kv_history_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    run_and_check(3, 4, 10, 5, path);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    int invokes = 0, oks = 0, lines = 0;
    unsigned long long last_time = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lines++;
        invokes += strstr(line, "\"type\":\"invoke\"") != NULL;
        oks += strstr(line, "\"type\":\"ok\"") != NULL;
        assert_non_null(strstr(line, "\"process\":"));
        const char *t = strstr(line, "\"time\":");
        assert_non_null(t);
        unsigned long long time = strtoull(t + 7, NULL, 10);
        assert_true(time >= last_time);
        last_time = time;
    }
    fclose(f);
    unlink(path);
    assert_int_equal(invokes, 40);
    assert_int_equal(oks, 40);
    assert_int_equal(lines, 80);
}

/* A history file that cannot be created stops the run before it starts, with its name. */
static void unwritable_history_is_an_error(void **state)
{
    (void)state;
    struct cfg cfg;
    cfg_init(&cfg);
    cfg.seed_given = true;
    cfg.history_path = strdup("/nonexistent-dir/h.jsonl");
    struct cluster_report rep;
    char err[512] = "";
    assert_int_not_equal(cluster_run(&cfg, &rep, err, sizeof err), 0);
    assert_non_null(strstr(err, "/nonexistent-dir/h.jsonl"));
    cfg_close(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cluster_1_nodes_0_clients),
        cmocka_unit_test(cluster_1_nodes_1_clients),
        cmocka_unit_test(cluster_1_nodes_3_clients),
        cmocka_unit_test(cluster_1_nodes_32_clients),
        cmocka_unit_test(cluster_3_nodes_0_clients),
        cmocka_unit_test(cluster_3_nodes_1_clients),
        cmocka_unit_test(cluster_3_nodes_3_clients),
        cmocka_unit_test(cluster_3_nodes_32_clients),
        cmocka_unit_test(cluster_5_nodes_0_clients),
        cmocka_unit_test(cluster_5_nodes_1_clients),
        cmocka_unit_test(cluster_5_nodes_3_clients),
        cmocka_unit_test(cluster_5_nodes_32_clients),
        cmocka_unit_test(cluster_7_nodes_0_clients),
        cmocka_unit_test(cluster_7_nodes_1_clients),
        cmocka_unit_test(cluster_7_nodes_3_clients),
        cmocka_unit_test(cluster_7_nodes_32_clients),
        cmocka_unit_test(many_requests_stay_consistent),
        cmocka_unit_test(history_has_two_lines_per_request_in_time_order),
        cmocka_unit_test(unwritable_history_is_an_error),
    };
    return cmocka_run_group_tests(tests, quiet_trace, NULL);
}
