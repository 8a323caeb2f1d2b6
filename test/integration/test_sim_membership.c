/* test_sim_membership.c - membership changes and leadership transfer in the simulator, with
 * clients writing throughout: growing 3 to 5 and shrinking back, replacing every original node,
 * removing the leader, handing leadership to each node in turn, and a transfer to a node cut
 * off. Every run must pass the simulator's checks (invariants, identical stores of the members,
 * results against the committed log, a linearizable history).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "raft/raft.h"
#include "runtime/trace.h"
#include "sim/sim.h"

static int quiet_trace(void **state)
{
    (void)state;
    struct trace_options opt = {.level = TRACE_QUIET, .format = TRACE_TEXT};
    if (getenv("RAFT_KV_TEST_TRACE") != NULL)
        opt.level = TRACE_DEBUG;
    trace_open(&opt);
    return 0;
}

static struct cfg base_cfg(uint32_t nodes, uint32_t max_nodes, uint64_t seed)
{
    struct cfg cfg;
    cfg_init(&cfg);
    cfg.num_nodes = nodes;
    cfg.max_nodes = max_nodes;
    cfg.num_clients = 3;
    cfg.client.requests = 60;
    cfg.client.timeout_ms = 300;
    cfg.seed = seed;
    cfg.seed_given = true;
    cfg.check.converge_ms = 10000;
    cfg.raft.pre_vote = true;
    cfg.raft.check_quorum = true;
    return cfg;
}

/* The test owns cfg->faults. */
static void close_cfg(struct cfg *cfg)
{
    cfg->faults = NULL;
    cfg->n_faults = 0;
    cfg_close(cfg);
}

static void assert_config(const struct raft_config *c, const char *want)
{
    char got[256];
    raft_config_format(c, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("configuration \"%s\", expected \"%s\"", got, want);
}

/* Runs cfg to its end; every check passes, every request was answered, and the leader's
 * committed configuration is want. */
static void run_ends_with(const struct cfg *cfg, const char *want)
{
    struct sim_report rep;
    char err[512] = "";
    if (sim_run(cfg, NULL, &rep, err, sizeof err) != 0)
        fail_msg("seed %llu: run failed: %s", (unsigned long long)cfg->seed, err);
    if (!rep.consistent) {
        sim_report_print(stderr, &rep);
        fail_msg("seed %llu: %s", (unsigned long long)cfg->seed, cluster_report_problem(&rep.run));
    }
    assert_int_equal(rep.run.counts.requests, (uint64_t)cfg->num_clients * cfg->client.requests);
    assert_true(rep.run.stores_identical);
    assert_true(rep.run.leader != 0);
    /* Every scheduled change was accepted (a refusal is a fault that did not apply; a heal
     * is not counted). */
    uint64_t applied = 0;
    for (size_t i = 0; i < cfg->n_faults; i++)
        applied += cfg->faults[i].kind != CFG_FAULT_HEAL;
    assert_int_equal(rep.run.faults, applied);
    assert_config(&rep.run.nodes[rep.run.leader - 1].config_committed, want);
    sim_report_close(&rep);
}

static struct cfg_fault fault(uint32_t at_ms, enum cfg_fault_kind kind, uint32_t node)
{
    return (struct cfg_fault){.at_ms = at_ms, .kind = kind, .node = node};
}

/* 3 -> 5 -> 3 while three clients write: each addition catches up as a learner first. */
static void grow_three_to_five_and_shrink_back(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct cfg cfg = base_cfg(3, 5, seed);
        struct cfg_fault faults[] = {
            fault(20, CFG_FAULT_ADD, 4),
            fault(400, CFG_FAULT_ADD, 5),
            fault(900, CFG_FAULT_REMOVE, 4),
            fault(1300, CFG_FAULT_REMOVE, 5),
        };
        cfg.faults = faults;
        cfg.n_faults = sizeof faults / sizeof faults[0];
        /* Midway the cluster has five voters. */
        struct sim *s = sim_new(&cfg, NULL);
        assert_true(sim_run_until(s, 850));
        uint32_t leader = sim_leader(s);
        assert_true(leader != 0);
        assert_config(raft_config(sim_node(s, leader)), "1 2 3 4 5");
        sim_free(s);
        run_ends_with(&cfg, "1 2 3");
        close_cfg(&cfg);
    }
}

/* Every original node replaced, one at a time (the leader among them, which steps down once
 * its removal commits), while the clients write. */
static void replace_every_original_node(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct cfg cfg = base_cfg(3, 6, seed);
        cfg.client.requests = 100;
        struct cfg_fault faults[] = {
            fault(20, CFG_FAULT_ADD, 4),   fault(400, CFG_FAULT_REMOVE, 1),
            fault(800, CFG_FAULT_ADD, 5),  fault(1200, CFG_FAULT_REMOVE, 2),
            fault(1600, CFG_FAULT_ADD, 6), fault(2000, CFG_FAULT_REMOVE, 3),
        };
        cfg.faults = faults;
        cfg.n_faults = sizeof faults / sizeof faults[0];
        run_ends_with(&cfg, "4 5 6");
        close_cfg(&cfg);
    }
}

/* Leadership goes to each node in turn, at once (one election each), clients writing. */
static void transfer_to_each_node_in_turn(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(3, 3, 7);
    cfg.client.requests = 100;
    uint32_t order[] = {2, 3, 1, 3};
    struct cfg_fault faults[4];
    for (int i = 0; i < 4; i++)
        faults[i] = fault(200 + 300 * (uint32_t)i, CFG_FAULT_TRANSFER, order[i]);
    cfg.faults = faults;
    cfg.n_faults = 4;
    struct sim *s = sim_new(&cfg, NULL);
    for (int i = 0; i < 4; i++) {
        assert_true(sim_run_until(s, 200 + 300 * (uint64_t)i + 250));
        if (sim_leader(s) != order[i])
            fail_msg("after the transfer to node %u, node %u leads", order[i], sim_leader(s));
    }
    sim_free(s);
    run_ends_with(&cfg, "1 2 3");
    close_cfg(&cfg);
}

/* A transfer to a node cut off gives up after an election timeout: the leader leads on in its
 * term, and the clients' requests go on succeeding. */
static void transfer_to_a_cut_off_node_gives_up(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(3, 3, 9);
    struct cfg_fault faults[] = {
        {.at_ms = 20, .kind = CFG_FAULT_ISOLATE, .node = 3},
        fault(100, CFG_FAULT_TRANSFER, 3),
        {.at_ms = 1200, .kind = CFG_FAULT_HEAL},
    };
    cfg.faults = faults;
    cfg.n_faults = 3;
    struct sim *s = sim_new(&cfg, NULL);
    assert_true(sim_run_until(s, 90));
    uint32_t leader = sim_leader(s);
    assert_true(leader != 0 && leader != 3);
    uint64_t term = raft_term(sim_node(s, leader));
    assert_true(sim_run_until(s, 100 + cfg.raft.election_timeout_ms_max + 50));
    assert_int_equal(sim_leader(s), leader);
    assert_int_equal(raft_term(sim_node(s, leader)), term);
    assert_int_equal(raft_transfer_target(sim_node(s, leader)), 0);
    sim_free(s);
    run_ends_with(&cfg, "1 2 3");
    close_cfg(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grow_three_to_five_and_shrink_back),
        cmocka_unit_test(replace_every_original_node),
        cmocka_unit_test(transfer_to_each_node_in_turn),
        cmocka_unit_test(transfer_to_a_cut_off_node_gives_up),
    };
    return cmocka_run_group_tests(tests, quiet_trace, NULL);
}
