/* test_sim.c - the deterministic simulator: a seed replays byte for byte, the classic Raft scenes
 * play out on virtual time (election, re-election, a failed follower, a lost majority, every
 * node restarted), a sweep of random configurations finds nothing, and its speed is printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
    cfg.check.converge_ms = 10000;
    return cfg;
}

/* The test owns cfg->faults. */
static void close_cfg(struct cfg *cfg)
{
    cfg->faults = NULL;
    cfg->n_faults = 0;
    cfg_close(cfg);
}

static struct sim_report run_consistent(const struct cfg *cfg)
{
    struct sim_report rep;
    char err[512] = "";
    if (sim_run(cfg, NULL, &rep, err, sizeof err) != 0)
        fail_msg("seed %llu: run failed: %s", (unsigned long long)cfg->seed, err);
    if (!rep.consistent) {
        sim_report_print(stderr, &rep);
        fail_msg("seed %llu: %s", (unsigned long long)cfg->seed, rep.run.problem);
    }
    assert_int_equal(rep.run.counts.requests, (uint64_t)cfg->num_clients * cfg->client.requests);
    return rep;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

/* One run of cfg with the trace (info, text) and the history captured; caller frees both. */
static void traced_run(struct cfg *cfg, char **trace, size_t *trace_len, char **history,
                       size_t *history_len)
{
    char history_path[] = "/tmp/test_sim_history_XXXXXX";
    int fd = mkstemp(history_path);
    assert_true(fd >= 0);
    close(fd);
    cfg->history_path = history_path;
    FILE *mem = open_memstream(trace, trace_len);
    assert_non_null(mem);
    struct trace_options opt = {
        .level = TRACE_DEBUG, .format = TRACE_TEXT, .color = TRACE_COLOR_NEVER, .out = mem};
    trace_open(&opt);
    struct sim_report rep;
    char err[512];
    assert_int_equal(sim_run(cfg, NULL, &rep, err, sizeof err), 0);
    trace_close();
    quiet_trace(NULL);
    fclose(mem);
    cfg->history_path = NULL;
    if (!rep.consistent)
        fail_msg("seed %llu: %s", (unsigned long long)cfg->seed, rep.run.problem);
    sim_report_close(&rep);
    *history = read_file(history_path, history_len);
    unlink(history_path);
}

static struct cfg faulty_cfg(uint64_t seed)
{
    struct cfg cfg = base_cfg(5, 3, 30, seed);
    cfg.network.drop = 0.05;
    cfg.network.delay_ms_min = 1;
    cfg.network.delay_ms_max = 20;
    cfg.network.duplicate = 0.02;
    cfg.network.reorder = true;
    cfg.nemesis.interval_ms = 150;
    cfg.nemesis.kinds = (1u << CFG_FAULT_CRASH) | (1u << CFG_FAULT_PARTITION) |
                        (1u << CFG_FAULT_ISOLATE) | (1u << CFG_FAULT_SLOW);
    return cfg;
}

/* The same seed and configuration give a byte-identical trace and history; another seed does
 * not (so the comparison can fail). */
static void same_seed_same_trace_and_history(void **state)
{
    (void)state;
    struct cfg cfg = faulty_cfg(42);
    char *t1, *t2, *h1, *h2;
    size_t tl1, tl2, hl1, hl2;
    traced_run(&cfg, &t1, &tl1, &h1, &hl1);
    traced_run(&cfg, &t2, &tl2, &h2, &hl2);
    assert_true(tl1 > 10000);
    assert_true(hl1 > 1000);
    assert_int_equal(tl1, tl2);
    assert_memory_equal(t1, t2, tl1);
    assert_int_equal(hl1, hl2);
    assert_memory_equal(h1, h2, hl1);
    assert_non_null(strstr(t1, "nemesis"));
    cfg.seed = 43;
    char *t3, *h3;
    size_t tl3, hl3;
    traced_run(&cfg, &t3, &tl3, &h3, &hl3);
    assert_true(tl3 != tl1 || memcmp(t1, t3, tl1) != 0);
    free(t1), free(t2), free(t3), free(h1), free(h2), free(h3);
    close_cfg(&cfg);
}

/* Figure 2 "Rules for Servers": node 1 campaigns at time 0 and wins; every node follows it in
 * one term. */
static void initial_election(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(3, 0, 0, 1);
    struct sim *s = sim_new(&cfg, NULL);
    assert_true(sim_run_until(s, 2 * cfg.raft.election_timeout_ms_max));
    assert_int_equal(sim_leader(s), 1);
    uint64_t term = raft_term(sim_node(s, 1));
    assert_true(term >= 1);
    for (uint32_t id = 1; id <= 3; id++) {
        assert_int_equal(raft_term(sim_node(s, id)), term);
        assert_int_equal(raft_leader_id(sim_node(s, id)), 1);
    }
    /* Heartbeats keep it: no new election for many timeouts. */
    assert_true(sim_run_until(s, 20 * cfg.raft.election_timeout_ms_max));
    assert_int_equal(sim_leader(s), 1);
    assert_int_equal(raft_term(sim_node(s, 1)), term);
    sim_free(s);
    close_cfg(&cfg);
}

/* Section 5.2: the leader is cut off; the others elect a new one in a higher term; when the old
 * leader rejoins it steps down (check-quorum made it step down already). */
static void reelection_after_leader_cut_off(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(5, 0, 0, 2);
    uint64_t eto = cfg.raft.election_timeout_ms_max;
    struct sim *s = sim_new(&cfg, NULL);
    assert_true(sim_run_until(s, 2 * eto));
    uint32_t old = sim_leader(s);
    assert_true(old != 0);
    uint64_t old_term = raft_term(sim_node(s, old));
    sim_fault(s, &(struct cfg_fault){.kind = CFG_FAULT_ISOLATE, .node = old});
    assert_true(sim_run_until(s, sim_now_ms(s) + 10 * eto));
    uint32_t leader = sim_leader(s);
    assert_true(leader != 0 && leader != old);
    assert_true(raft_term(sim_node(s, leader)) > old_term);
    assert_int_not_equal(raft_role(sim_node(s, old)), RAFT_LEADER); /* check-quorum */
    sim_fault(s, &(struct cfg_fault){.kind = CFG_FAULT_HEAL});
    assert_true(sim_run_until(s, sim_now_ms(s) + 10 * eto));
    leader = sim_leader(s);
    assert_true(leader != 0 && leader != old);
    assert_int_equal(raft_term(sim_node(s, old)), raft_term(sim_node(s, leader)));
    assert_int_equal(raft_leader_id(sim_node(s, old)), leader);
    sim_free(s);
    close_cfg(&cfg);
}

/* Agreement despite failed followers: two of five crash before the clients start; every
 * request still succeeds, and the restarted followers catch up at the end. */
static void agreement_despite_failed_followers(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(5, 3, 20, 3);
    struct cfg_fault faults[] = {
        {.at_ms = 0, .kind = CFG_FAULT_CRASH, .node = 4},
        {.at_ms = 0, .kind = CFG_FAULT_CRASH, .node = 5},
    };
    cfg.faults = faults;
    cfg.n_faults = 2;
    struct sim_report rep = run_consistent(&cfg);
    assert_int_equal(rep.run.counts.ok, 60);
    assert_true(rep.run.stores_identical);
    assert_int_equal(rep.run.faults, 2);
    sim_report_close(&rep);
    close_cfg(&cfg);
}

static uint64_t max_commit(const struct sim *s, uint32_t n)
{
    uint64_t commit = 0;
    for (uint32_t id = 1; id <= n; id++)
        if (sim_node(s, id) != NULL && raft_commit_index(sim_node(s, id)) > commit)
            commit = raft_commit_index(sim_node(s, id));
    return commit;
}

/* No agreement without a majority: with three of five down nothing more commits however long
 * clients try; once they are back, the clients finish. */
static void no_agreement_without_majority(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(5, 2, 30, 4);
    cfg.client.timeout_ms = 100;
    uint64_t eto = cfg.raft.election_timeout_ms_max;
    struct sim *s = sim_new(&cfg, NULL);
    assert_true(sim_run_until(s, 2 * eto));
    uint32_t leader = sim_leader(s);
    assert_true(leader != 0);
    uint64_t before = max_commit(s, 5);
    assert_true(before > 1); /* the clients got going */
    uint32_t crashed[3], n = 0;
    for (uint32_t id = 1; id <= 5 && n < 3; id++)
        if (id != leader)
            crashed[n++] = id;
    for (uint32_t i = 0; i < 3; i++)
        sim_fault(s, &(struct cfg_fault){.kind = CFG_FAULT_CRASH, .node = crashed[i]});
    uint64_t at_crash = max_commit(s, 5);
    assert_true(sim_run_until(s, sim_now_ms(s) + 30 * eto));
    assert_int_equal(max_commit(s, 5), at_crash);
    assert_int_equal(sim_leader(s), 0); /* check-quorum: the lone leader stepped down */
    for (uint32_t i = 0; i < 3; i++)
        sim_fault(s, &(struct cfg_fault){.kind = CFG_FAULT_RESTART, .node = crashed[i]});
    assert_true(sim_run_until(s, sim_now_ms(s) + 200 * eto));
    assert_true(sim_clients_done(s));
    assert_true(max_commit(s, 5) > at_crash);
    sim_free(s);
    close_cfg(&cfg);
}

/* Every node crashes mid-run and restarts from its persistent state (term, vote, log): nothing
 * acknowledged is lost, and the run is linearizable. */
static void crash_and_restart_all_nodes(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(5, 3, 30, 5);
    struct cfg_fault faults[10];
    for (uint32_t i = 0; i < 5; i++) {
        faults[i] = (struct cfg_fault){.at_ms = 20, .kind = CFG_FAULT_CRASH, .node = i + 1};
        faults[5 + i] = (struct cfg_fault){.at_ms = 400, .kind = CFG_FAULT_RESTART, .node = i + 1};
    }
    cfg.faults = faults;
    cfg.n_faults = 10;
    struct sim_report rep = run_consistent(&cfg);
    assert_true(rep.run.linearizability_checked);
    assert_true(rep.run.elections >= 2);
    assert_true(rep.run.counts.ok > 0);
    sim_report_close(&rep);
    close_cfg(&cfg);
}

/* A partitioned leader rejoins (5.4.1, thesis 9.6): the majority elects a new leader and goes
 * on; the old leader's uncommitted entries are overwritten when the partition heals. */
static void partitioned_leader_rejoins(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(5, 3, 40, 6);
    struct cfg_fault faults[2] = {
        {.at_ms = 30, .kind = CFG_FAULT_PARTITION, .n_groups = 2},
        {.at_ms = 1500, .kind = CFG_FAULT_HEAL},
    };
    faults[0].group[0] = 1; /* node 1, the first leader, alone */
    for (int i = 1; i < 5; i++)
        faults[0].group[i] = 2;
    cfg.faults = faults;
    cfg.n_faults = 2;
    struct sim_report rep = run_consistent(&cfg);
    assert_true(rep.run.elections >= 2);
    assert_true(rep.run.leader_term > 1);
    sim_report_close(&rep);
    close_cfg(&cfg);
}

/* Many elections with random disconnections in 7 nodes: isolations and partitions every few
 * tens of ms, a lossy network, and still a consistent, linearizable run. */
static void many_elections_with_random_disconnections_7_nodes(void **state)
{
    (void)state;
    for (uint64_t seed = 10; seed < 20; seed++) {
        struct cfg cfg = base_cfg(7, 3, 30, seed);
        cfg.network.drop = 0.05;
        cfg.network.delay_ms_max = 10;
        cfg.nemesis.interval_ms = 40;
        cfg.nemesis.kinds = (1u << CFG_FAULT_ISOLATE) | (1u << CFG_FAULT_PARTITION);
        struct sim_report rep = run_consistent(&cfg);
        assert_true(rep.run.faults > 5);
        sim_report_close(&rep);
        close_cfg(&cfg);
    }
}

/* Churn: nodes crash and restart every few tens of ms, over a reliable and an unreliable
 * network; persistent state carries every acknowledged write through. */
static void churn_reliable_and_unreliable(void **state)
{
    (void)state;
    for (int unreliable = 0; unreliable <= 1; unreliable++) {
        for (uint64_t seed = 20; seed < 25; seed++) {
            struct cfg cfg = base_cfg(5, 4, 100, seed);
            cfg.nemesis.interval_ms = 20;
            cfg.nemesis.kinds = 1u << CFG_FAULT_CRASH;
            cfg.network.delay_ms_min = 1; /* reliable, not instantaneous */
            cfg.network.delay_ms_max = 5;
            if (unreliable) {
                cfg.network.drop = 0.1;
                cfg.network.delay_ms_max = 15;
                cfg.network.duplicate = 0.05;
                cfg.network.reorder = true;
            }
            struct sim_report rep = run_consistent(&cfg);
            fprintf(stderr, "churn seed %llu%s: %llu crashes in %.3f virtual s\n",
                    (unsigned long long)seed, unreliable ? " (unreliable)" : "",
                    (unsigned long long)rep.run.faults, (double)rep.virtual_ms / 1000.0);
            assert_true(rep.run.faults >= 5);
            sim_report_close(&rep);
            close_cfg(&cfg);
        }
    }
}

/* On a healthy network each entry reaches each follower about once: with one client (no
 * batching to hide behind) the AppendEntries deliver at most 1.2 x entries x followers. */
static void each_entry_sent_to_each_follower_about_once(void **state)
{
    (void)state;
    struct cfg cfg = base_cfg(5, 1, 50, 8);
    struct sim *s = sim_new(&cfg, NULL);
    assert_true(sim_run_until(s, 60000));
    assert_true(sim_clients_done(s));
    uint32_t leader = sim_leader(s);
    assert_int_equal(leader, 1);
    uint64_t entries = raft_last_index(sim_node(s, leader)); /* 50 commands + the no-op */
    uint64_t sent = sim_entries_delivered(s);
    fprintf(stderr, "agreement: %llu entries, %llu entry deliveries to 4 followers (%.2f each)\n",
            (unsigned long long)entries, (unsigned long long)sent,
            (double)sent / (double)(entries * 4));
    assert_true(entries >= 51);
    assert_true(sent >= entries * 4);
    assert_true(sent * 10 <= entries * 4 * 12);
    sim_free(s);
    close_cfg(&cfg);
}

/* A short sweep of random configurations (sizes 1-7, loss, delay, duplication, reordering,
 * nemesis) finds nothing; prints its speed. */
static void short_sweep_finds_nothing(void **state)
{
    (void)state;
    struct sim_sweep_result res;
    char err[512];
    assert_int_equal(sim_sweep(1, 100, NULL, "./raft_kv --sweep 1", stderr, &res, err, sizeof err),
                     0);
    if (res.failures != 0)
        fail_msg("seed %llu failed (%s): %s", (unsigned long long)res.first_failing_seed,
                 sim_check_name(res.first_failed_check), res.first_problem);
    assert_int_equal(res.seeds, 100);
}

/* The speed case: 5 nodes, 3 clients, faults. Measured and printed, never asserted. */
static void speed_five_nodes_three_clients_with_faults(void **state)
{
    (void)state;
    struct cfg cfg = faulty_cfg(7);
    cfg.client.requests = 200;
    struct sim_report rep = run_consistent(&cfg);
    assert_true(rep.run.faults > 0);
    fprintf(stderr,
            "speed: 5 nodes, 3 clients x 200 requests, nemesis every 150 ms: %.1f virtual s in "
            "%.3f wall s = %.0fx real time (%llu events)\n",
            (double)rep.virtual_ms / 1000.0, rep.wall_s,
            rep.wall_s > 0 ? (double)rep.virtual_ms / 1000.0 / rep.wall_s : 0.0,
            (unsigned long long)rep.events);
    sim_report_close(&rep);
    close_cfg(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_trace_and_history),
        cmocka_unit_test(initial_election),
        cmocka_unit_test(reelection_after_leader_cut_off),
        cmocka_unit_test(agreement_despite_failed_followers),
        cmocka_unit_test(no_agreement_without_majority),
        cmocka_unit_test(crash_and_restart_all_nodes),
        cmocka_unit_test(partitioned_leader_rejoins),
        cmocka_unit_test(many_elections_with_random_disconnections_7_nodes),
        cmocka_unit_test(churn_reliable_and_unreliable),
        cmocka_unit_test(each_entry_sent_to_each_follower_about_once),
        cmocka_unit_test(short_sweep_finds_nothing),
        cmocka_unit_test(speed_five_nodes_three_clients_with_faults),
    };
    return cmocka_run_group_tests(tests, quiet_trace, NULL);
}
