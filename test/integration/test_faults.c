/* test_faults.c - whole runs under faults, each reading like a scene from the Raft paper: the
 * leader crashes, a partition isolates the leader, the network loses, delays, duplicates and
 * reorders messages, a nemesis strikes at random. Every run must heal, converge and end with
 * all stores identical and every client result consistent with the committed log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cluster/cluster.h"
#include "config/config.h"
#include "runtime/trace.h"

static int quiet_trace(void **state)
{
    (void)state;
    struct trace_options opt = {.level = TRACE_QUIET, .format = TRACE_TEXT};
    const char *level = getenv("RAFT_KV_TEST_TRACE");
    if (level != NULL)
        opt.level = TRACE_DEBUG;
    trace_open(&opt);
    return 0;
}

static struct cfg base_cfg(uint32_t nodes, uint32_t clients, uint32_t requests, uint64_t seed)
{
    struct cfg cfg;
    cfg_init(&cfg);
    cfg.num_nodes = nodes;
    cfg.num_clients = clients;
    cfg.client.requests = requests;
    cfg.client.timeout_ms = 200;
    cfg.seed = seed;
    cfg.seed_given = true;
    cfg.raft.pre_vote = true;
    cfg.raft.check_quorum = true;
    cfg.check.converge_ms = 10000;
    cfg.check.invariants = true;
    return cfg;
}

/* Runs cfg (whose faults array the test owns) and checks the run came out consistent. */
static struct cluster_report run_consistent(struct cfg *cfg)
{
    struct cluster_report rep;
    char err[512] = "";
    if (cluster_run(cfg, &rep, err, sizeof err) != 0)
        fail_msg("seed %llu: run failed: %s", (unsigned long long)cfg->seed, err);
    if (!cluster_consistent(&rep)) {
        cluster_report_print(stderr, &rep);
        fail_msg("seed %llu: %s", (unsigned long long)cfg->seed, rep.problem);
    }
    assert_int_equal(rep.counts.requests, (uint64_t)cfg->num_clients * cfg->client.requests);
    assert_true(rep.invariants_checked);
    assert_false(rep.invariant_violated);
    assert_true(rep.invariant_reports > 0);
    return rep;
}

static void close_cfg(struct cfg *cfg)
{
    cfg->faults = NULL; /* the test's own array */
    cfg->n_faults = 0;
    cfg_close(cfg);
}

/* The leader crashes while clients work: a new leader is elected, the clients follow it, the
 * crashed node restarts from its persistent state and catches up. */
static void reelection_after_leader_crash(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(5, 3, 40, 21);
    struct cfg_fault faults[] = {
        {.at_ms = 30, .kind = CFG_FAULT_CRASH, .node = 1},
        {.at_ms = 600, .kind = CFG_FAULT_RESTART, .node = 1},
    };
    cfg.faults = faults;
    cfg.n_faults = 2;
    struct cluster_report rep = run_consistent(&cfg);
    assert_true(rep.faults >= 1);
    assert_true(rep.leader_term >= 2); /* someone won a later term */
    cluster_report_close(&rep);
    close_cfg(&cfg);
}

/* The leader is cut off in a minority; the majority elects a new leader; on healing the old
 * leader steps down and its uncommitted entries are overwritten. */
static void partitioned_leader_rejoins(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(5, 3, 30, 22);
    struct cfg_fault faults[] = {
        {.at_ms = 20, .kind = CFG_FAULT_PARTITION, .n_groups = 2, .group = {1, 1, 2, 2, 2}},
        {.at_ms = 700, .kind = CFG_FAULT_HEAL},
    };
    cfg.faults = faults;
    cfg.n_faults = 2;
    struct cluster_report rep = run_consistent(&cfg);
    assert_true(rep.leader_term >= 2);
    cluster_report_close(&rep);
    close_cfg(&cfg);
}

/* A network that loses 10% of messages, delays them 0-20 ms, duplicates 5% and reorders. */
static void lossy_network(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(5, 3, 20, 23);
    cfg.network.drop = 0.10;
    cfg.network.delay_ms_min = 0;
    cfg.network.delay_ms_max = 20;
    cfg.network.duplicate = 0.05;
    cfg.network.reorder = true;
    struct cluster_report rep = run_consistent(&cfg);
    assert_true(rep.msgs_dropped > 0);
    cluster_report_close(&rep);
    close_cfg(&cfg);
}

/* A random nemesis crashes, partitions, isolates and slows nodes while clients work. */
static void nemesis_run(void **state)
{
    (void)state;
    for (uint64_t seed = 31; seed < 34; seed++) {
        struct cfg cfg = base_cfg(5, 4, 25, seed);
        cfg.nemesis.interval_ms = 60;
        cfg.nemesis.kinds = (1u << CFG_FAULT_CRASH) | (1u << CFG_FAULT_PARTITION) |
                            (1u << CFG_FAULT_ISOLATE) | (1u << CFG_FAULT_SLOW);
        cfg.network.delay_ms_max = 2;
        struct cluster_report rep = run_consistent(&cfg);
        cluster_report_close(&rep);
        close_cfg(&cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reelection_after_leader_crash),
        cmocka_unit_test(partitioned_leader_rejoins),
        cmocka_unit_test(lossy_network),
        cmocka_unit_test(nemesis_run),
    };
    return cmocka_run_group_tests(tests, quiet_trace, NULL);
}
