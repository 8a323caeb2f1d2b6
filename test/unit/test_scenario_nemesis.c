/* test_scenario_nemesis.c - the nemesis's guarantees (never a majority down, one network fault at
 * a time, only allowed kinds, never a refused move), its timing (start, spacing, stop) and its
 * reproducibility, against a fake host.
 */
#include "test_scenario_host.h"

#define ALL_KINDS                                                                                  \
    ((1u << CFG_FAULT_CRASH) | (1u << CFG_FAULT_PARTITION) | (1u << CFG_FAULT_ISOLATE) |           \
     (1u << CFG_FAULT_SLOW))

static struct cfg nemesis_cfg(uint32_t n_nodes, uint32_t interval_ms, uint32_t kinds)
{
    struct cfg cfg = scenario_cfg(n_nodes, 1, 1);
    cfg.nemesis.interval_ms = interval_ms;
    cfg.nemesis.kinds = kinds;
    return cfg;
}

/* Runs sc from its start until until_ms, applying whatever falls due; after every step the book
 * must agree with the fake host and at most max_down nodes (and max_net network faults) may be
 * in force. Bounded by the number of steps. */
static void drive(struct scenario *sc, struct fake *f, uint64_t until_ms, uint32_t max_down,
                  uint32_t max_net)
{
    uint64_t now = 0;
    for (int turns = 0; turns < 100000; turns++) {
        uint64_t next = scenario_next_ms(sc);
        if (next > until_ms)
            return;
        now = next > now ? next : now;
        scenario_run_due(sc, now, &f->host);
        assert_book_matches(sc, f);
        assert_true(sc->book.n_down <= max_down);
        assert_true(sc->book.n_net <= max_net);
    }
    fail_msg("the scenario did not reach %llu ms", (unsigned long long)until_ms);
}

/* Over many seeds and cluster sizes, the nemesis never has more than (n-1)/2 nodes down, keeps
 * at most one network fault, and every move it makes takes effect (it restarts only a node that
 * is down, crashes only one that runs). */
static void nemesis_keeps_a_majority_up_and_one_network_fault(void **state)
{
    (void)state;
    for (uint32_t n = 1; n <= 7; n++) {
        for (uint64_t seed = 1; seed <= 20; seed++) {
            struct fake *f = fake_new(n);
            struct cfg cfg = nemesis_cfg(n, 10, seed % 2 ? ALL_KINDS : 1u << CFG_FAULT_CRASH);
            struct scenario sc;
            scenario_init(&sc, &cfg, seed);
            scenario_start(&sc, 0);
            drive(&sc, f, 3000, (n - 1) / 2, 1);
            for (size_t i = 0; i < f->n_log; i++) {
                assert_string_equal(f->log[i].who, "nemesis");
                assert_int_equal(f->log[i].outcome, SCENARIO_APPLIED);
            }
            if (n >= 3)
                assert_true(f->crashes > 0);
            scenario_close(&sc);
            free(f);
        }
    }
}

/* Crashes from the schedule count: with a minority already down, the nemesis crashes no more. */
static void nemesis_counts_scheduled_crashes(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct fake *f = fake_new(5);
        struct cfg_fault faults[] = {fault_at(0, CFG_FAULT_CRASH, 1),
                                     fault_at(0, CFG_FAULT_CRASH, 2)};
        struct cfg cfg = nemesis_cfg(5, 10, 1u << CFG_FAULT_CRASH);
        cfg.faults = faults;
        cfg.n_faults = 2;
        struct scenario sc;
        scenario_init(&sc, &cfg, seed);
        scenario_start(&sc, 0);
        drive(&sc, f, 2000, 2, 0);
        scenario_close(&sc);
        free(f);
    }
}

/* A network fault from the schedule counts: the nemesis starts none on top of it. */
static void nemesis_starts_no_network_fault_over_a_scheduled_one(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct fake *f = fake_new(5);
        struct cfg_fault faults[] = {fault_at(0, CFG_FAULT_ISOLATE, 3),
                                     fault_at(1000, CFG_FAULT_SLOW, 4)};
        struct cfg cfg = nemesis_cfg(5, 10, ALL_KINDS & ~(1u << CFG_FAULT_CRASH));
        cfg.faults = faults;
        cfg.n_faults = 2;
        struct scenario sc;
        scenario_init(&sc, &cfg, seed);
        scenario_start(&sc, 0);
        drive(&sc, f, 999, 0, 1);
        /* The schedule may add its own; the nemesis still adds none while one is in force. */
        drive(&sc, f, 2000, 0, 2);
        for (size_t i = 0; i < f->n_log; i++)
            if (strcmp(f->log[i].who, "nemesis") == 0 && f->log[i].fault.kind != CFG_FAULT_HEAL)
                assert_true(i == 0 || f->log[i - 1].fault.kind == CFG_FAULT_HEAL);
        scenario_close(&sc);
        free(f);
    }
}

/* The nemesis chooses only the kinds allowed, and their ends. */
static void nemesis_chooses_only_allowed_kinds(void **state)
{
    (void)state;
    static const enum cfg_fault_kind kinds[] = {CFG_FAULT_CRASH, CFG_FAULT_PARTITION,
                                                CFG_FAULT_ISOLATE, CFG_FAULT_SLOW};
    for (size_t k = 0; k < 4; k++) {
        struct fake *f = fake_new(5);
        struct cfg cfg = nemesis_cfg(5, 10, 1u << kinds[k]);
        struct scenario sc;
        scenario_init(&sc, &cfg, 7);
        scenario_start(&sc, 0);
        drive(&sc, f, 2000, 2, 1);
        enum cfg_fault_kind end = kinds[k] == CFG_FAULT_CRASH ? CFG_FAULT_RESTART : CFG_FAULT_HEAL;
        uint32_t started = 0;
        for (size_t i = 0; i < f->n_log; i++) {
            enum cfg_fault_kind got = f->log[i].fault.kind;
            assert_true(got == kinds[k] || got == end);
            started += got == kinds[k];
        }
        assert_true(started > 0);
        scenario_close(&sc);
        free(f);
    }
}

/* The first move comes one interval after the start, each next one interval/2..3*interval/2
 * later. */
static void nemesis_moves_about_every_interval(void **state)
{
    (void)state;
    struct fake *f = fake_new(5);
    struct cfg cfg = nemesis_cfg(5, 100, ALL_KINDS);
    struct scenario sc;
    scenario_init(&sc, &cfg, 3);
    scenario_start(&sc, 50);
    assert_int_equal(scenario_next_ms(&sc), 150);
    uint64_t last_ms = 150;
    for (int i = 0; i < 200; i++) {
        uint64_t next = scenario_next_ms(&sc);
        if (i > 0) {
            assert_true(next >= last_ms + 50);
            assert_true(next <= last_ms + 150);
        }
        last_ms = next;
        scenario_run_due(&sc, next, &f->host);
    }
    scenario_close(&sc);
    free(f);
}

/* With an interval of 1 ms a wait may draw 0: time still moves between two moves. */
static void nemesis_waits_at_least_one_ms(void **state)
{
    (void)state;
    struct fake *f = fake_new(3);
    struct cfg cfg = nemesis_cfg(3, 1, ALL_KINDS);
    struct scenario sc;
    scenario_init(&sc, &cfg, 5);
    scenario_start(&sc, 0);
    uint64_t last_ms = 0;
    for (int i = 0; i < 500; i++) {
        uint64_t next = scenario_next_ms(&sc);
        assert_true(next > last_ms);
        last_ms = next;
        scenario_run_due(&sc, next, &f->host);
    }
    scenario_close(&sc);
    free(f);
}

/* Once the clients are done the nemesis makes no more moves; the schedule goes on. */
static void nemesis_stops_when_clients_done(void **state)
{
    (void)state;
    struct fake *f = fake_new(5);
    struct cfg_fault faults[] = {fault_at(5000, CFG_FAULT_ISOLATE, 1)};
    struct cfg cfg = nemesis_cfg(5, 10, ALL_KINDS);
    cfg.faults = faults;
    cfg.n_faults = 1;
    struct scenario sc;
    scenario_init(&sc, &cfg, 9);
    scenario_start(&sc, 0);
    drive(&sc, f, 1000, 2, 1);
    size_t moves = f->n_log;
    assert_true(moves > 0);
    scenario_clients_done(&sc);
    assert_int_equal(scenario_next_ms(&sc), 5000);
    scenario_run_due(&sc, 6000, &f->host);
    assert_int_equal(f->n_log, moves + 1);
    assert_string_equal(f->log[moves].who, "faults");
    assert_true(scenario_next_ms(&sc) == UINT64_MAX);
    scenario_close(&sc);
    free(f);
}

/* A run without clients has no nemesis. */
static void no_nemesis_without_clients(void **state)
{
    (void)state;
    struct fake *f = fake_new(5);
    struct cfg cfg = nemesis_cfg(5, 10, ALL_KINDS);
    cfg.num_clients = 0;
    struct scenario sc;
    scenario_init(&sc, &cfg, 9);
    scenario_start(&sc, 0);
    assert_true(scenario_next_ms(&sc) == UINT64_MAX);
    scenario_run_due(&sc, 100000, &f->host);
    assert_int_equal(f->n_log, 0);
    scenario_close(&sc);
    free(f);
}

/* One node: nothing can start (a crash would take the majority, there is no link to cut); the
 * nemesis does nothing, and still moves on in time. */
static void nemesis_of_one_node_does_nothing(void **state)
{
    (void)state;
    struct fake *f = fake_new(1);
    struct cfg cfg = nemesis_cfg(1, 10, ALL_KINDS);
    struct scenario sc;
    scenario_init(&sc, &cfg, 2);
    scenario_start(&sc, 0);
    drive(&sc, f, 1000, 0, 0);
    assert_int_equal(f->n_log, 0);
    assert_true(scenario_next_ms(&sc) > 1000);
    scenario_close(&sc);
    free(f);
}

/* Runs the nemesis of seed over 5 nodes for 3 s into f. */
static void run_seed(struct fake *f, uint64_t seed)
{
    struct cfg cfg = nemesis_cfg(5, 20, ALL_KINDS);
    struct scenario sc;
    scenario_init(&sc, &cfg, seed);
    scenario_start(&sc, 0);
    drive(&sc, f, 3000, 2, 1);
    scenario_close(&sc);
}

static bool same_log(const struct fake *a, const struct fake *b)
{
    if (a->n_log != b->n_log)
        return false;
    for (size_t i = 0; i < a->n_log; i++)
        if (a->log[i].at_ms != b->log[i].at_ms ||
            memcmp(&a->log[i].fault, &b->log[i].fault, sizeof a->log[i].fault) != 0)
            return false;
    return true;
}

/* The same seed gives the same faults at the same times; another seed, others. */
static void same_seed_same_sequence(void **state)
{
    (void)state;
    struct fake *a = fake_new(5), *b = fake_new(5), *c = fake_new(5);
    run_seed(a, 42);
    run_seed(b, 42);
    run_seed(c, 43);
    assert_true(a->n_log > 50);
    assert_true(same_log(a, b));
    assert_false(same_log(a, c));
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nemesis_keeps_a_majority_up_and_one_network_fault),
        cmocka_unit_test(nemesis_counts_scheduled_crashes),
        cmocka_unit_test(nemesis_starts_no_network_fault_over_a_scheduled_one),
        cmocka_unit_test(nemesis_chooses_only_allowed_kinds),
        cmocka_unit_test(nemesis_moves_about_every_interval),
        cmocka_unit_test(nemesis_waits_at_least_one_ms),
        cmocka_unit_test(nemesis_stops_when_clients_done),
        cmocka_unit_test(no_nemesis_without_clients),
        cmocka_unit_test(nemesis_of_one_node_does_nothing),
        cmocka_unit_test(same_seed_same_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
