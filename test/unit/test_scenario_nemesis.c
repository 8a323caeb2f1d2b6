/* test_scenario_nemesis.c - the nemesis's guarantees (never a majority down, one network fault at
 * a time, only allowed kinds, never a refused move, only legal membership changes), its timing
 * (start, spacing, stop), its reproducibility and its draws, which membership changes left as
 * they were, against a fake host.
 */
#include "test_scenario_host.h"

#define ALL_KINDS                                                                                  \
    ((1u << CFG_FAULT_CRASH) | (1u << CFG_FAULT_PARTITION) | (1u << CFG_FAULT_ISOLATE) |           \
     (1u << CFG_FAULT_SLOW))
#define MEMBERSHIP_KINDS SCENARIO_MEMBERSHIP_KINDS

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
        if (f->host.config != NULL) {
            /* num_nodes..max_nodes voters, a majority of them up */
            uint32_t voters = fake_voters(f), up = 0;
            for (uint32_t i = 0; i < f->n_nodes; i++)
                up += f->voter[i] && !f->down[i];
            assert_true(voters >= f->num_nodes);
            assert_true(2 * up > voters);
        }
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

/* --- membership changes (issue 16) ---------------------------------------------------------- */

/* With membership kinds allowed, over many seeds and sizes, every membership move is legal (the
 * strict fake asserts it: an add only of an outsider and only with no learner, a remove only of
 * a learner or of a voter above num_nodes, a transfer only to a voter), crashes keep at most
 * (num_nodes-1)/2 nodes down so that a majority of the voters stays up, and each kind of move
 * is chosen sometimes. */
static void nemesis_membership_moves_are_legal(void **state)
{
    (void)state;
    static const uint32_t sizes[][2] = {{1, 1}, {1, 3}, {3, 3}, {3, 5}, {3, 7}, {5, 5}, {5, 9}};
    uint32_t granted[CFG_FAULT_KINDS] = {0}, removed_voters = 0, removed_learners = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint32_t num = sizes[k][0], max = sizes[k][1];
        for (uint64_t seed = 1; seed <= 20; seed++) {
            struct fake *f = fake_new_members(num, max);
            f->strict = true;
            struct cfg cfg = nemesis_cfg(num, 10, ALL_KINDS | MEMBERSHIP_KINDS);
            cfg.max_nodes = max;
            struct scenario sc;
            scenario_init(&sc, &cfg, seed);
            scenario_start(&sc, 0);
            drive(&sc, f, 3000, (num - 1) / 2, 1);
            for (size_t i = 0; i < f->n_log; i++)
                assert_int_equal(f->log[i].outcome, SCENARIO_APPLIED);
            for (int kind = 0; kind < CFG_FAULT_KINDS; kind++)
                granted[kind] += f->granted[kind];
            removed_voters += f->removed_voters;
            removed_learners += f->removed_learners;
            if (max > num)
                assert_true(f->granted[CFG_FAULT_ADD] > 0);
            scenario_close(&sc);
            free(f);
        }
    }
    assert_true(granted[CFG_FAULT_TRANSFER] > 0);
    assert_true(granted[CFG_FAULT_ADD] > 0);
    assert_true(granted[CFG_FAULT_REMOVE] > 0);
    assert_true(removed_voters > 0);
    assert_true(removed_learners > 0);
}

/* scenario_nemesis_choose against fixed configurations of 5 ids, 3 initial voters: with a
 * learner, no add, and only the learner removed (3 voters); with 5 voters, no add and any voter
 * removed; with 3 voters and no learner, an add of node 4 or 5 and no remove. Transfers go to
 * voters. Every membership move shows up over the draws. */
static void nemesis_choose_follows_the_configuration(void **state)
{
    (void)state;
    struct scenario_book book;
    memset(&book, 0, sizeof book);
    book.n_nodes = 5;
    book.num_nodes = 3;
    struct cfg_nemesis nem = {.interval_ms = 10, .kinds = MEMBERSHIP_KINDS};
    static const bool voters[3][5] = {{true, true, true, false, false},
                                      {true, true, true, true, true},
                                      {true, true, true, false, false}};
    static const bool learners[3][5] = {{false, false, false, true, false}, {false}, {false}};
    struct prng rng;
    prng_seed(&rng, 11);
    for (size_t c = 0; c < 3; c++) {
        uint32_t seen[CFG_FAULT_KINDS] = {0};
        for (int draw = 0; draw < 1000; draw++) {
            struct cfg_fault move;
            assert_true(scenario_nemesis_choose(&rng, &nem, &book, voters[c], learners[c], &move));
            assert_true(move.node >= 1 && move.node <= 5);
            bool voter = voters[c][move.node - 1], learner = learners[c][move.node - 1];
            seen[move.kind]++;
            switch (move.kind) {
            case CFG_FAULT_TRANSFER:
                assert_true(voter);
                break;
            case CFG_FAULT_ADD:
                assert_int_equal(c, 2);
                assert_false(voter || learner);
                break;
            case CFG_FAULT_REMOVE:
                assert_true(c == 0 ? learner : voter);
                assert_true(c != 2);
                break;
            default:
                fail_msg("case %zu chose kind %d", c, move.kind);
            }
        }
        assert_true(seen[CFG_FAULT_TRANSFER] > 0);
        assert_true(seen[c == 2 ? CFG_FAULT_ADD : CFG_FAULT_REMOVE] > 0);
    }
}

/* Without a configuration from the host, the nemesis never chooses a membership move, even when
 * its kinds allow only those: it has nothing to do. */
static void nemesis_choose_without_configuration(void **state)
{
    (void)state;
    struct scenario_book book;
    memset(&book, 0, sizeof book);
    book.n_nodes = book.num_nodes = 5;
    struct cfg_nemesis nem = {.interval_ms = 10, .kinds = MEMBERSHIP_KINDS};
    struct prng rng;
    prng_seed(&rng, 11);
    struct cfg_fault move;
    assert_false(scenario_nemesis_choose(&rng, &nem, &book, NULL, NULL, &move));
}

/* Runs the nemesis of seed over f for 3 s with kinds, f's nodes and num_nodes initial voters. */
static void run_kinds(struct fake *f, uint32_t num_nodes, uint32_t kinds, uint64_t seed)
{
    struct cfg cfg = nemesis_cfg(num_nodes, 20, kinds);
    cfg.max_nodes = f->n_nodes;
    struct scenario sc;
    scenario_init(&sc, &cfg, seed);
    scenario_start(&sc, 0);
    drive(&sc, f, 3000, (num_nodes - 1) / 2, 1);
    scenario_close(&sc);
}

static bool same_log(const struct fake *a, const struct fake *b);

/* A host with membership does not change the nemesis's moves unless its kinds ask for membership
 * (the host's configuration is then not even asked for); a host without membership gets the same
 * moves whether or not the kinds list them. */
static void membership_moves_only_when_asked_and_possible(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        struct fake *plain = fake_new(5), *members = fake_new_members(5, 5);
        run_kinds(plain, 5, ALL_KINDS, seed);
        run_kinds(members, 5, ALL_KINDS, seed);
        assert_true(same_log(plain, members));
        assert_int_equal(members->config_calls, 0);
        assert_int_equal(members->membership_calls, 0);
        struct fake *unable = fake_new(5);
        run_kinds(unable, 5, ALL_KINDS | MEMBERSHIP_KINDS, seed);
        assert_true(same_log(plain, unable));
        free(plain);
        free(members);
        free(unable);
    }
}

/* Nemesis network faults reach every id up to max_nodes, never beyond; crashes keep to the
 * minority of num_nodes (drive checks it). */
static void nemesis_network_faults_reach_max_nodes(void **state)
{
    (void)state;
    bool hit[8] = {false};
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct fake *f = fake_new(7);
        run_kinds(f, 3, (1u << CFG_FAULT_ISOLATE) | (1u << CFG_FAULT_CRASH), seed);
        for (size_t i = 0; i < f->n_log; i++) {
            uint32_t node = f->log[i].fault.node;
            assert_true(node <= 7);
            if (f->log[i].fault.kind == CFG_FAULT_ISOLATE)
                hit[node] = true;
        }
        free(f);
    }
    for (uint32_t node = 1; node <= 7; node++)
        assert_true(hit[node]);
}

/* --- the draws of before --------------------------------------------------------------------- */

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 1099511628211ull;
    }
    return h;
}

/* The first 16 moves of seed 3 over 5 nodes, every 10 ms, as the nemesis drew them before
 * membership changes existed: at_ms, kind, node, n_groups, slow_ms, group. */
static const struct {
    uint64_t at_ms;
    enum cfg_fault_kind kind;
    uint32_t node, n_groups, slow_ms;
    uint8_t group[5];
} seed3_moves[16] = {
    {10, CFG_FAULT_CRASH, 1, 0, 0, {0}},
    {25, CFG_FAULT_RESTART, 1, 0, 0, {0}},
    {39, CFG_FAULT_ISOLATE, 4, 0, 0, {0}},
    {51, CFG_FAULT_HEAL, 0, 0, 0, {0}},
    {65, CFG_FAULT_PARTITION, 0, 2, 0, {1, 1, 1, 2, 1}},
    {74, CFG_FAULT_HEAL, 0, 0, 0, {0}},
    {85, CFG_FAULT_PARTITION, 0, 2, 0, {1, 1, 2, 1, 2}},
    {98, CFG_FAULT_HEAL, 0, 0, 0, {0}},
    {105, CFG_FAULT_ISOLATE, 5, 0, 0, {0}},
    {119, CFG_FAULT_CRASH, 4, 0, 0, {0}},
    {130, CFG_FAULT_HEAL, 0, 0, 0, {0}},
    {135, CFG_FAULT_ISOLATE, 2, 0, 0, {0}},
    {140, CFG_FAULT_CRASH, 2, 0, 0, {0}},
    {150, CFG_FAULT_RESTART, 2, 0, 0, {0}},
    {162, CFG_FAULT_HEAL, 0, 0, 0, {0}},
    {167, CFG_FAULT_RESTART, 4, 0, 0, {0}},
};

/* FNV-1a of every move (time, kind, node, groups, slow_ms) of 10 seeds x 4 sets of kinds over n
 * nodes, 3 s every 10 ms, recorded with the nemesis of before membership changes (n = 1..7). */
static const struct {
    size_t moves;
    uint64_t hash;
} before[7] = {
    {0, 0xcbf29ce484222325ull},     {8962, 0xbb028c07663d1602ull},  {11906, 0xa1391f469b24ec72ull},
    {11906, 0xd1c6be9d0243385full}, {11911, 0x3e464751c5533558ull}, {11924, 0x947a6efabc95ba07ull},
    {11899, 0x5a9b23abc2e28b71ull},
};

/* With max_nodes == num_nodes and no membership kind, the nemesis draws exactly the moves it drew
 * before issue 16, so the simulator's seeds keep their runs. */
static void nemesis_draws_as_before(void **state)
{
    (void)state;
    static const uint32_t kindsets[] = {ALL_KINDS, 1u << CFG_FAULT_CRASH,
                                        (1u << CFG_FAULT_PARTITION) | (1u << CFG_FAULT_ISOLATE),
                                        (1u << CFG_FAULT_SLOW) | (1u << CFG_FAULT_CRASH)};
    for (uint32_t n = 1; n <= 7; n++) {
        uint64_t h = 14695981039346656037ull;
        size_t moves = 0;
        for (size_t k = 0; k < 4; k++) {
            for (uint64_t seed = 1; seed <= 10; seed++) {
                struct fake *f = fake_new(n);
                struct cfg cfg = nemesis_cfg(n, 10, kindsets[k]);
                cfg.max_nodes = n;
                struct scenario sc;
                scenario_init(&sc, &cfg, seed);
                scenario_start(&sc, 0);
                drive(&sc, f, 3000, (n - 1) / 2, 1);
                for (size_t i = 0; i < f->n_log; i++) {
                    const struct cfg_fault *x = &f->log[i].fault;
                    h = fnv_u64(h, f->log[i].at_ms);
                    h = fnv_u64(h, (uint64_t)x->kind);
                    h = fnv_u64(h, x->node);
                    h = fnv_u64(h, x->n_groups);
                    h = fnv_u64(h, x->slow_ms);
                    for (uint32_t j = 0; j < n; j++)
                        h = fnv_u64(h, x->group[j]);
                }
                moves += f->n_log;
                if (n == 5 && k == 0 && seed == 3) {
                    for (size_t i = 0; i < 16; i++) {
                        const struct cfg_fault *x = &f->log[i].fault;
                        assert_int_equal(f->log[i].at_ms, seed3_moves[i].at_ms);
                        assert_int_equal(x->kind, seed3_moves[i].kind);
                        assert_int_equal(x->node, seed3_moves[i].node);
                        assert_int_equal(x->n_groups, seed3_moves[i].n_groups);
                        assert_int_equal(x->slow_ms, seed3_moves[i].slow_ms);
                        assert_memory_equal(x->group, seed3_moves[i].group, 5);
                    }
                }
                scenario_close(&sc);
                free(f);
            }
        }
        assert_int_equal(moves, before[n - 1].moves);
        assert_true(h == before[n - 1].hash);
    }
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
        cmocka_unit_test(nemesis_membership_moves_are_legal),
        cmocka_unit_test(nemesis_choose_follows_the_configuration),
        cmocka_unit_test(nemesis_choose_without_configuration),
        cmocka_unit_test(membership_moves_only_when_asked_and_possible),
        cmocka_unit_test(nemesis_network_faults_reach_max_nodes),
        cmocka_unit_test(nemesis_draws_as_before),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
