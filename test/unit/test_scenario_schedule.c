/* test_scenario_schedule.c - the [[fault]] schedule (order, due-ness, the end of the plan), the
 * book of what is in force (refused faults, counting, heal all) and membership changes asked of
 * the host, against a fake host.
 */
#include "test_scenario_host.h"

/* A partition of nodes 1..split against the rest. */
static struct cfg_fault split_at(uint32_t at_ms, uint32_t n_nodes, uint32_t split)
{
    struct cfg_fault f = fault_at(at_ms, CFG_FAULT_PARTITION, 0);
    f.n_groups = 2;
    for (uint32_t i = 0; i < n_nodes; i++)
        f.group[i] = i < split ? 1 : 2;
    return f;
}

/* The plan is sorted by time, and faults of one time keep their file order. */
static void schedule_sorted_stably_by_time(void **state)
{
    (void)state;
    struct cfg_fault faults[] = {
        fault_at(300, CFG_FAULT_CRASH, 1),   fault_at(100, CFG_FAULT_ISOLATE, 2),
        fault_at(300, CFG_FAULT_RESTART, 1), fault_at(100, CFG_FAULT_SLOW, 3),
        fault_at(0, CFG_FAULT_HEAL, 0),      fault_at(100, CFG_FAULT_HEAL, 0),
    };
    struct cfg cfg = scenario_cfg(3, 1, 1);
    cfg.faults = faults;
    cfg.n_faults = 6;
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    static const uint32_t at[] = {0, 100, 100, 100, 300, 300};
    static const enum cfg_fault_kind kind[] = {CFG_FAULT_HEAL,  CFG_FAULT_ISOLATE,
                                               CFG_FAULT_SLOW,  CFG_FAULT_HEAL,
                                               CFG_FAULT_CRASH, CFG_FAULT_RESTART};
    assert_int_equal(sc.n_plan, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(sc.plan[i].at_ms, at[i]);
        assert_int_equal(sc.plan[i].kind, kind[i]);
    }
    scenario_close(&sc);
}

/* Before scenario_start nothing is due, whatever the time. */
static void nothing_due_before_start(void **state)
{
    (void)state;
    struct fake *f = fake_new(3);
    struct cfg_fault faults[] = {fault_at(0, CFG_FAULT_CRASH, 1)};
    struct cfg cfg = scenario_cfg(3, 1, 1);
    cfg.faults = faults;
    cfg.n_faults = 1;
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    assert_true(scenario_next_ms(&sc) == UINT64_MAX);
    scenario_run_due(&sc, 1000, &f->host);
    assert_int_equal(f->n_log, 0);
    assert_false(scenario_plan_done(&sc));
    scenario_close(&sc);
    free(f);
}

/* Scheduled faults come due at their time, in order, and not before; then the plan is done. */
static void faults_due_at_their_time(void **state)
{
    (void)state;
    struct fake *f = fake_new(5);
    struct cfg_fault faults[] = {
        fault_at(100, CFG_FAULT_CRASH, 2),
        split_at(100, 5, 2),
        fault_at(250, CFG_FAULT_HEAL, 0),
        fault_at(400, CFG_FAULT_RESTART, 2),
    };
    struct cfg cfg = scenario_cfg(5, 1, 1);
    cfg.faults = faults;
    cfg.n_faults = 4;
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    scenario_start(&sc, 10);
    assert_int_equal(scenario_next_ms(&sc), 100);
    scenario_run_due(&sc, 99, &f->host);
    assert_int_equal(f->n_log, 0);
    scenario_run_due(&sc, 100, &f->host);
    assert_int_equal(f->n_log, 2);
    assert_int_equal(f->log[0].fault.kind, CFG_FAULT_CRASH);
    assert_int_equal(f->log[1].fault.kind, CFG_FAULT_PARTITION);
    assert_string_equal(f->log[0].who, "faults");
    assert_int_equal(f->log[1].at_ms, 100);
    assert_int_equal(scenario_next_ms(&sc), 250);
    assert_false(scenario_plan_done(&sc));
    scenario_run_due(&sc, 399, &f->host);
    assert_int_equal(f->n_log, 3);
    assert_int_equal(f->heals, 1);
    scenario_run_due(&sc, 400, &f->host);
    assert_int_equal(f->n_log, 4);
    assert_true(scenario_plan_done(&sc));
    assert_true(scenario_next_ms(&sc) == UINT64_MAX);
    assert_book_matches(&sc, f);
    scenario_close(&sc);
    free(f);
}

/* Faults whose time passed before the start (no leader yet) are all due at the start. */
static void late_faults_due_at_start(void **state)
{
    (void)state;
    struct fake *f = fake_new(3);
    struct cfg_fault faults[] = {fault_at(10, CFG_FAULT_ISOLATE, 1),
                                 fault_at(20, CFG_FAULT_HEAL, 0)};
    struct cfg cfg = scenario_cfg(3, 1, 1);
    cfg.faults = faults;
    cfg.n_faults = 2;
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    scenario_start(&sc, 500);
    assert_int_equal(scenario_next_ms(&sc), 10);
    scenario_run_due(&sc, 500, &f->host);
    assert_int_equal(f->n_log, 2);
    assert_true(scenario_plan_done(&sc));
    scenario_close(&sc);
    free(f);
}

/* A crash of a node that is down, or a restart of one that runs, is refused: the host is not
 * called, but it is told. */
static void refused_faults_leave_the_host_alone(void **state)
{
    (void)state;
    struct fake *f = fake_new(3);
    struct cfg cfg = scenario_cfg(3, 1, 1);
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    struct cfg_fault restart = fault_at(0, CFG_FAULT_RESTART, 2);
    assert_int_equal(scenario_apply(&sc, &restart, "test", 5, &f->host), SCENARIO_NOT_DOWN);
    struct cfg_fault crash = fault_at(0, CFG_FAULT_CRASH, 2);
    assert_int_equal(scenario_apply(&sc, &crash, "test", 6, &f->host), SCENARIO_APPLIED);
    assert_int_equal(scenario_apply(&sc, &crash, "test", 7, &f->host), SCENARIO_ALREADY_DOWN);
    struct cfg_fault no_node = fault_at(0, CFG_FAULT_CRASH, 9);
    assert_int_equal(scenario_apply(&sc, &no_node, "test", 8, &f->host), SCENARIO_ALREADY_DOWN);
    assert_int_equal(f->crashes, 1);
    assert_int_equal(f->restarts, 0);
    assert_int_equal(f->n_log, 4);
    assert_int_equal(f->log[0].outcome, SCENARIO_NOT_DOWN);
    assert_int_equal(f->log[2].outcome, SCENARIO_ALREADY_DOWN);
    assert_string_equal(f->log[2].who, "test");
    assert_int_equal(f->log[2].at_ms, 7);
    assert_book_matches(&sc, f);
    scenario_close(&sc);
    free(f);
}

/* A restart the host cannot carry out is reported with its reason; the node stays down. */
static void failed_restart_keeps_node_down(void **state)
{
    (void)state;
    struct fake *f = fake_new(3);
    f->fail_restart = 3;
    struct cfg cfg = scenario_cfg(3, 1, 1);
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    struct cfg_fault crash = fault_at(0, CFG_FAULT_CRASH, 3);
    struct cfg_fault restart = fault_at(0, CFG_FAULT_RESTART, 3);
    scenario_apply(&sc, &crash, "test", 0, &f->host);
    assert_int_equal(scenario_apply(&sc, &restart, "test", 1, &f->host), SCENARIO_FAILED);
    assert_string_equal(f->log[1].err, "node 3 will not start");
    assert_true(sc.book.down[2]);
    assert_book_matches(&sc, f);
    char err[128];
    assert_int_equal(scenario_heal_all(&sc, &f->host, err, sizeof err), -1);
    assert_string_equal(err, "node 3 will not start");
    assert_true(sc.book.down[2]);
    scenario_close(&sc);
    free(f);
}

/* Crashes, partitions, isolations and slow nodes that take effect are counted; restarts, heals
 * and refused faults are not. */
static void injected_faults_counted(void **state)
{
    (void)state;
    struct fake *f = fake_new(5);
    struct cfg cfg = scenario_cfg(5, 1, 1);
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    struct cfg_fault faults[] = {
        fault_at(0, CFG_FAULT_CRASH, 1),   fault_at(0, CFG_FAULT_CRASH, 1),
        fault_at(0, CFG_FAULT_RESTART, 1), split_at(0, 5, 3),
        fault_at(0, CFG_FAULT_ISOLATE, 4), fault_at(0, CFG_FAULT_SLOW, 5),
        fault_at(0, CFG_FAULT_HEAL, 0),    fault_at(0, CFG_FAULT_RESTART, 2),
    };
    for (size_t i = 0; i < 8; i++)
        scenario_apply(&sc, &faults[i], "test", 0, &f->host);
    assert_int_equal(sc.faults, 4);
    scenario_close(&sc);
    free(f);
}

/* A partition sets every link anew, so an isolation before it is no longer in force; slowness
 * stays. */
static void partition_replaces_isolation(void **state)
{
    (void)state;
    struct fake *f = fake_new(5);
    struct cfg cfg = scenario_cfg(5, 1, 1);
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    struct cfg_fault isolate = fault_at(0, CFG_FAULT_ISOLATE, 1);
    struct cfg_fault slow = fault_at(0, CFG_FAULT_SLOW, 2);
    struct cfg_fault split = split_at(0, 5, 2);
    scenario_apply(&sc, &isolate, "test", 0, &f->host);
    scenario_apply(&sc, &slow, "test", 0, &f->host);
    assert_int_equal(sc.book.n_net, 2);
    scenario_apply(&sc, &split, "test", 0, &f->host);
    assert_false(sc.book.isolated[0]);
    assert_true(sc.book.partitioned);
    assert_int_equal(sc.book.n_net, 2); /* the partition and the slow node */
    assert_book_matches(&sc, f);
    scenario_close(&sc);
    free(f);
}

/* Heal all restarts every crashed node, heals the network and stops the nemesis: nothing is in
 * force afterwards, in the book or at the host. */
static void heal_all_undoes_everything(void **state)
{
    (void)state;
    struct fake *f = fake_new(7);
    struct cfg cfg = scenario_cfg(7, 1, 1);
    cfg.nemesis.interval_ms = 100;
    cfg.nemesis.kinds = 1u << CFG_FAULT_CRASH;
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    scenario_start(&sc, 0);
    struct cfg_fault faults[] = {
        fault_at(0, CFG_FAULT_CRASH, 2),
        fault_at(0, CFG_FAULT_CRASH, 6),
        split_at(0, 7, 3),
        fault_at(0, CFG_FAULT_ISOLATE, 4),
        fault_at(0, CFG_FAULT_SLOW, 5),
        fault_at(0, CFG_FAULT_SLOW, 1),
    };
    for (size_t i = 0; i < 6; i++)
        scenario_apply(&sc, &faults[i], "test", 0, &f->host);
    assert_book_matches(&sc, f);
    assert_int_equal(sc.book.n_down, 2);
    assert_int_equal(sc.book.n_net, 4);
    char err[128];
    assert_int_equal(scenario_heal_all(&sc, &f->host, err, sizeof err), 0);
    assert_int_equal(f->restarts, 2);
    assert_int_equal(f->heals, 1);
    assert_int_equal(sc.book.n_down, 0);
    assert_int_equal(sc.book.n_net, 0);
    assert_false(sc.book.partitioned);
    assert_int_equal(fake_down(f), 0);
    assert_true(fake_net_clean(f));
    assert_book_matches(&sc, f);
    assert_true(scenario_next_ms(&sc) == UINT64_MAX); /* the nemesis stopped */
    assert_int_equal(f->n_log, 6);                    /* heal all is not told fault by fault */
    scenario_close(&sc);
    free(f);
}

/* With nothing in force, heal all calls nothing at the host. */
static void heal_all_with_nothing_in_force_calls_nothing(void **state)
{
    (void)state;
    struct fake *f = fake_new(3);
    struct cfg cfg = scenario_cfg(3, 1, 1);
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    char err[128];
    assert_int_equal(scenario_heal_all(&sc, &f->host, err, sizeof err), 0);
    assert_int_equal(f->restarts + f->net_calls, 0);
    scenario_close(&sc);
    free(f);
}

/* --- membership changes (issue 16) ---------------------------------------------------------- */

/* The sizes: ids 1..max_nodes in the book, num_nodes initial voters; a max_nodes left 0 (a cfg
 * filled by hand) is num_nodes. */
static void sizes_from_num_and_max_nodes(void **state)
{
    (void)state;
    struct cfg cfg = scenario_cfg(3, 1, 1);
    cfg.max_nodes = 7;
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    assert_int_equal(sc.n_nodes, 7);
    assert_int_equal(sc.num_nodes, 3);
    assert_int_equal(sc.book.n_nodes, 7);
    assert_int_equal(sc.book.num_nodes, 3);
    scenario_close(&sc);
    cfg.max_nodes = 0;
    scenario_init(&sc, &cfg, 1);
    assert_int_equal(sc.n_nodes, 3);
    assert_int_equal(sc.book.n_nodes, 3);
    assert_int_equal(sc.book.num_nodes, 3);
    scenario_close(&sc);
}

/* Scheduled transfer, add and remove ask the host's membership callback, with their kind and
 * node, at their time; each is APPLIED when the leader accepts it, FAILED with its reason when it
 * refuses; only accepted ones count, and nothing goes into the book (nothing to end later). */
static void scheduled_membership_asks_the_host(void **state)
{
    (void)state;
    struct fake *f = fake_new_members(3, 5);
    struct cfg_fault faults[] = {
        fault_at(10, CFG_FAULT_TRANSFER, 2),
        fault_at(20, CFG_FAULT_ADD, 4),
        fault_at(30, CFG_FAULT_REMOVE, 5),
    };
    struct cfg cfg = scenario_cfg(3, 1, 1);
    cfg.max_nodes = 5;
    cfg.faults = faults;
    cfg.n_faults = 3;
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    scenario_start(&sc, 0);
    scenario_run_due(&sc, 10, &f->host);
    assert_int_equal(f->membership_calls, 1);
    assert_int_equal(f->last_kind, CFG_FAULT_TRANSFER);
    assert_int_equal(f->last_node, 2);
    scenario_run_due(&sc, 20, &f->host);
    assert_int_equal(f->membership_calls, 2);
    assert_int_equal(f->last_kind, CFG_FAULT_ADD);
    assert_int_equal(f->last_node, 4);
    assert_true(f->learner[3]);
    f->refuse = "a configuration change is already under way";
    scenario_run_due(&sc, 30, &f->host);
    assert_int_equal(f->membership_calls, 3);
    assert_int_equal(f->last_kind, CFG_FAULT_REMOVE);
    assert_int_equal(f->last_node, 5);
    assert_int_equal(f->n_log, 3);
    assert_int_equal(f->log[0].outcome, SCENARIO_APPLIED);
    assert_int_equal(f->log[1].outcome, SCENARIO_APPLIED);
    assert_int_equal(f->log[2].outcome, SCENARIO_FAILED);
    assert_string_equal(f->log[0].err, "");
    assert_string_equal(f->log[2].err, "a configuration change is already under way");
    assert_string_equal(f->log[2].who, "faults");
    assert_int_equal(f->log[2].fault.node, 5);
    assert_int_equal(sc.faults, 2);
    assert_int_equal(sc.book.n_down, 0);
    assert_int_equal(sc.book.n_net, 0);
    assert_book_matches(&sc, f);
    assert_int_equal(f->config_calls, 0); /* no nemesis: the configuration is not asked for */
    assert_int_equal(f->crashes + f->restarts + f->net_calls, 0);
    char err[128];
    assert_int_equal(scenario_heal_all(&sc, &f->host, err, sizeof err), 0);
    assert_int_equal(f->restarts + f->net_calls, 0);
    scenario_close(&sc);
    free(f);
}

/* A host without membership callbacks: every membership fault fails with the same reason and
 * counts for nothing. */
static void membership_without_host_support_fails(void **state)
{
    (void)state;
    struct fake *f = fake_new(3);
    struct cfg cfg = scenario_cfg(3, 1, 1);
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    static const enum cfg_fault_kind kinds[] = {CFG_FAULT_TRANSFER, CFG_FAULT_ADD,
                                                CFG_FAULT_REMOVE};
    for (size_t i = 0; i < 3; i++) {
        struct cfg_fault fault = fault_at(0, kinds[i], 2);
        assert_int_equal(scenario_apply(&sc, &fault, "test", 5, &f->host), SCENARIO_FAILED);
        assert_int_equal(f->log[i].outcome, SCENARIO_FAILED);
        assert_int_equal(f->log[i].fault.kind, kinds[i]);
        assert_string_equal(f->log[i].err, "membership changes are not supported here");
    }
    assert_int_equal(sc.faults, 0);
    assert_book_matches(&sc, f);
    scenario_close(&sc);
    free(f);
}

/* A host that has membership but no configuration still carries out scheduled changes (only the
 * nemesis plans with the configuration). */
static void membership_without_configuration_is_scheduled(void **state)
{
    (void)state;
    struct fake *f = fake_new_members(3, 4);
    f->host.config = NULL;
    struct cfg cfg = scenario_cfg(3, 1, 1);
    cfg.max_nodes = 4;
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    struct cfg_fault add = fault_at(0, CFG_FAULT_ADD, 4);
    assert_int_equal(scenario_apply(&sc, &add, "test", 0, &f->host), SCENARIO_APPLIED);
    assert_int_equal(f->granted[CFG_FAULT_ADD], 1);
    assert_int_equal(sc.faults, 1);
    scenario_close(&sc);
    free(f);
}

/* Node faults may name ids above num_nodes, up to max_nodes: a node that has not joined yet can
 * crash, restart and be cut off like any other. */
static void node_faults_reach_max_nodes(void **state)
{
    (void)state;
    struct fake *f = fake_new_members(3, 5);
    struct cfg cfg = scenario_cfg(3, 1, 1);
    cfg.max_nodes = 5;
    struct scenario sc;
    scenario_init(&sc, &cfg, 1);
    struct cfg_fault faults[] = {fault_at(0, CFG_FAULT_CRASH, 5), fault_at(0, CFG_FAULT_ISOLATE, 4),
                                 fault_at(0, CFG_FAULT_RESTART, 5), split_at(0, 5, 4)};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(scenario_apply(&sc, &faults[i], "test", 0, &f->host), SCENARIO_APPLIED);
    assert_int_equal(f->group[4], 2);
    assert_book_matches(&sc, f);
    scenario_close(&sc);
    free(f);
}

/* A zeroed scenario (a run that never started its faults) closes. */
static void zeroed_scenario_closes(void **state)
{
    (void)state;
    struct scenario sc;
    memset(&sc, 0, sizeof sc);
    scenario_close(&sc);
    assert_null(sc.plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedule_sorted_stably_by_time),
        cmocka_unit_test(nothing_due_before_start),
        cmocka_unit_test(faults_due_at_their_time),
        cmocka_unit_test(late_faults_due_at_start),
        cmocka_unit_test(refused_faults_leave_the_host_alone),
        cmocka_unit_test(failed_restart_keeps_node_down),
        cmocka_unit_test(injected_faults_counted),
        cmocka_unit_test(partition_replaces_isolation),
        cmocka_unit_test(heal_all_undoes_everything),
        cmocka_unit_test(heal_all_with_nothing_in_force_calls_nothing),
        cmocka_unit_test(sizes_from_num_and_max_nodes),
        cmocka_unit_test(scheduled_membership_asks_the_host),
        cmocka_unit_test(membership_without_host_support_fails),
        cmocka_unit_test(membership_without_configuration_is_scheduled),
        cmocka_unit_test(node_faults_reach_max_nodes),
        cmocka_unit_test(zeroed_scenario_closes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
