/* test_config_cfg_network.c - the issue 5 scalar settings: [raft] pre_vote/check_quorum,
 * [network], [nemesis], [check]: defaults, values, --set, every error message, printing.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "test/unit/test_config_cfg_load.h"

/* --- defaults ----------------------------------------------------------------------------- */

/* An empty file: pre-vote and check-quorum on, a perfect network, no faults, no nemesis (but
 * all four kinds chosen), every check on, 5 s to converge. */
static void empty_file_gives_fault_defaults(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "");
    assert_true(cfg.raft.pre_vote);
    assert_true(cfg.raft.check_quorum);
    assert_true(cfg.network.drop == 0.0);
    assert_int_equal(cfg.network.delay_ms_min, 0);
    assert_int_equal(cfg.network.delay_ms_max, 0);
    assert_true(cfg.network.duplicate == 0.0);
    assert_false(cfg.network.reorder);
    assert_null(cfg.faults);
    assert_int_equal(cfg.n_faults, 0);
    assert_int_equal(cfg.nemesis.interval_ms, 0);
    assert_int_equal(cfg.nemesis.kinds, NEMESIS_ALL);
    assert_true(cfg.check.invariants);
    assert_true(cfg.check.linearizability);
    assert_int_equal(cfg.check.converge_ms, 5000);
    cfg_close(&cfg);
}

/* cfg_init gives the same defaults. */
static void init_gives_fault_defaults(void **state)
{
    (void)state;
    struct cfg cfg;
    cfg_init(&cfg);
    assert_true(cfg.raft.pre_vote);
    assert_true(cfg.raft.check_quorum);
    assert_true(cfg.network.drop == 0.0 && cfg.network.duplicate == 0.0);
    assert_int_equal(cfg.n_faults, 0);
    assert_int_equal(cfg.nemesis.kinds, NEMESIS_ALL);
    assert_int_equal(cfg.check.converge_ms, 5000);
    cfg_close(&cfg);
}

/* --- good values -------------------------------------------------------------------------- */

/* Integers are probabilities too (0 and 1); the ends are included. */
static void probability_integers_and_limits(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "[network]\ndrop = 1\nduplicate = 0\n");
    assert_true(cfg.network.drop == 1.0);
    assert_true(cfg.network.duplicate == 0.0);
    cfg_close(&cfg);
    load_ok(&cfg, "[network]\ndrop = 0.0\nduplicate = 1.0\n");
    assert_true(cfg.network.drop == 0.0);
    assert_true(cfg.network.duplicate == 1.0);
    cfg_close(&cfg);
}

/* -0.0 is the probability 0, stored and printed without its sign. */
static void probability_negative_zero(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "network.drop = -0.0\n");
    assert_true(cfg.network.drop == 0.0);
    assert_false(signbit(cfg.network.drop));
    char *text = print_to_string(&cfg, false);
    assert_non_null(strstr(text, "\ndrop = 0.0\n"));
    free(text);
    cfg_close(&cfg);
}

/* A delay range may be a single value, and spans 0..60000. */
static void delay_range_limits(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "network.delay_ms = [7, 7]\n");
    assert_int_equal(cfg.network.delay_ms_min, 7);
    assert_int_equal(cfg.network.delay_ms_max, 7);
    cfg_close(&cfg);
    load_ok(&cfg, "network.delay_ms = [0, 60000]\n");
    assert_int_equal(cfg.network.delay_ms_min, 0);
    assert_int_equal(cfg.network.delay_ms_max, 60000);
    cfg_close(&cfg);
}

/* The nemesis may be limited to one kind. */
static void nemesis_single_kind(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "[nemesis]\ninterval_ms = 3600000\nkinds = [\"isolate\"]\n");
    assert_int_equal(cfg.nemesis.interval_ms, 3600000);
    assert_int_equal(cfg.nemesis.kinds, BIT(CFG_FAULT_ISOLATE));
    cfg_close(&cfg);
}

/* The nemesis may be given the membership moves, which it never takes by default. */
static void nemesis_membership_kinds(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "[nemesis]\ninterval_ms = 100\nkinds = [\"remove\", \"crash\", \"add\", "
                  "\"transfer\"]\n");
    assert_int_equal(cfg.nemesis.kinds, BIT(CFG_FAULT_CRASH) | BIT(CFG_FAULT_TRANSFER) |
                                            BIT(CFG_FAULT_ADD) | BIT(CFG_FAULT_REMOVE));
    cfg_close(&cfg);
    load_ok(&cfg, "");
    assert_int_equal(cfg.nemesis.kinds &
                         (BIT(CFG_FAULT_TRANSFER) | BIT(CFG_FAULT_ADD) | BIT(CFG_FAULT_REMOVE)),
                     0);
    cfg_close(&cfg);
}

/* --- --set -------------------------------------------------------------------------------- */

/* --set reaches every new scalar setting, with TOML values. */
static void set_new_scalars(void **state)
{
    (void)state;
    struct cfg cfg;
    const char *sets[] = {
        "network.drop=0.1",     "network.delay_ms=[0,20]", "network.duplicate=1",
        "network.reorder=true", "nemesis.interval_ms=200", "nemesis.kinds=[\"crash\"]",
        "raft.pre_vote=false",  "check.converge_ms=1",     NULL};
    load_ok_set(&cfg, "", sets);
    assert_true(cfg.network.drop == 0.1);
    assert_int_equal(cfg.network.delay_ms_min, 0);
    assert_int_equal(cfg.network.delay_ms_max, 20);
    assert_true(cfg.network.duplicate == 1.0);
    assert_true(cfg.network.reorder);
    assert_int_equal(cfg.nemesis.interval_ms, 200);
    assert_int_equal(cfg.nemesis.kinds, BIT(CFG_FAULT_CRASH));
    assert_false(cfg.raft.pre_vote);
    assert_true(cfg.raft.check_quorum);
    assert_int_equal(cfg.check.converge_ms, 1);
    cfg_close(&cfg);
}

/* --set replaces the file's value and leaves the rest of the section and the faults alone. */
static void set_overrides_file_network(void **state)
{
    (void)state;
    struct cfg cfg;
    const char *sets[] = {"network.delay_ms = [5, 6]", "check.invariants=false", NULL};
    load_ok_set(&cfg,
                "[network]\ndrop = 0.5\ndelay_ms = [1, 2]\n"
                "[[fault]]\nat_ms = 1\nkind = \"heal\"\n",
                sets);
    assert_true(cfg.network.drop == 0.5);
    assert_int_equal(cfg.network.delay_ms_min, 5);
    assert_int_equal(cfg.network.delay_ms_max, 6);
    assert_false(cfg.check.invariants);
    assert_int_equal(cfg.n_faults, 1);
    cfg_close(&cfg);
}

/* A bad --set of a new setting is named by its argument. */
static void set_new_scalar_errors(void **state)
{
    (void)state;
    const char *drop[] = {"network.drop=2", NULL};
    expect_set_error("", drop, CFG_ERANGE,
                     "--set 'network.drop=2': network.drop = 2 is out of range (0..1)");
    const char *kinds[] = {"nemesis.kinds=[]", NULL};
    expect_set_error("", kinds, CFG_ERANGE,
                     "--set 'nemesis.kinds=[]': nemesis.kinds must not be empty");
    const char *typo[] = {"network.dorp=0.1", NULL};
    expect_set_error("", typo, CFG_EUNKNOWN,
                     "--set 'network.dorp=0.1': unknown key 'network.dorp'; did you mean "
                     "'network.drop'?");
}

/* --- [raft], [network], [nemesis], [check] errors ----------------------------------------- */

/* The Raft switches are booleans. */
static void raft_bools_type(void **state)
{
    (void)state;
    expect_error("[raft]\npre_vote = \"yes\"\n", CFG_ETYPE,
                 "config.toml:2:12: raft.pre_vote must be a boolean, not a string");
    expect_error("raft.check_quorum = 1\n", CFG_ETYPE,
                 "config.toml:1:21: raft.check_quorum must be a boolean, not an integer");
}

/* A probability above 1 or below 0 is refused, float or integer. */
static void probability_out_of_range(void **state)
{
    (void)state;
    expect_error("[network]\ndrop = 1.5\n", CFG_ERANGE,
                 "config.toml:2:8: network.drop = 1.5 is out of range (0..1)");
    expect_error("[network]\nduplicate = -0.01\n", CFG_ERANGE,
                 "config.toml:2:13: network.duplicate = -0.01 is out of range (0..1)");
    expect_error("network.drop = 2\n", CFG_ERANGE,
                 "config.toml:1:16: network.drop = 2 is out of range (0..1)");
    expect_error("network.duplicate = -1\n", CFG_ERANGE,
                 "config.toml:1:21: network.duplicate = -1 is out of range (0..1)");
}

/* nan and the infinities are not probabilities. */
static void probability_nan_inf(void **state)
{
    (void)state;
    expect_error("network.drop = nan\n", CFG_ERANGE,
                 "config.toml:1:16: network.drop = nan is out of range (0..1)");
    expect_error("network.drop = -nan\n", CFG_ERANGE,
                 "config.toml:1:16: network.drop = nan is out of range (0..1)");
    expect_error("network.duplicate = inf\n", CFG_ERANGE,
                 "config.toml:1:21: network.duplicate = inf is out of range (0..1)");
    expect_error("network.duplicate = -inf\n", CFG_ERANGE,
                 "config.toml:1:21: network.duplicate = -inf is out of range (0..1)");
}

/* A probability must be a number. */
static void probability_type(void **state)
{
    (void)state;
    expect_error("network.drop = \"0.1\"\n", CFG_ETYPE,
                 "config.toml:1:16: network.drop must be a number, not a string");
    expect_error("network.drop = true\n", CFG_ETYPE,
                 "config.toml:1:16: network.drop must be a number, not a boolean");
}

/* delay_ms must be an array of exactly two integers. */
static void delay_shape(void **state)
{
    (void)state;
    expect_error("network.delay_ms = 20\n", CFG_ETYPE,
                 "config.toml:1:20: network.delay_ms must be an array, not an integer");
    expect_error("network.delay_ms = [20]\n", CFG_ERANGE,
                 "config.toml:1:20: network.delay_ms must be [min, max], two integers, not 1 "
                 "items");
    expect_error("network.delay_ms = [1, 2, 3]\n", CFG_ERANGE,
                 "config.toml:1:20: network.delay_ms must be [min, max], two integers, not 3 "
                 "items");
    expect_error("network.delay_ms = [1, 2.5]\n", CFG_ETYPE,
                 "config.toml:1:24: network.delay_ms[1] must be an integer, not a float");
}

/* Each end is 0..60000. */
static void delay_out_of_range(void **state)
{
    (void)state;
    expect_error("network.delay_ms = [0, 60001]\n", CFG_ERANGE,
                 "config.toml:1:24: network.delay_ms[1] = 60001 is out of range (0..60000)");
    expect_error("network.delay_ms = [-1, 5]\n", CFG_ERANGE,
                 "config.toml:1:21: network.delay_ms[0] = -1 is out of range (0..60000)");
}

/* The minimum must not be above the maximum. */
static void delay_min_above_max(void **state)
{
    (void)state;
    expect_error("[network]\ndelay_ms = [20, 10]\n", CFG_ERANGE,
                 "config.toml:2:12: network.delay_ms = [20, 10]: min must not be above max");
}

/* reorder is a boolean. */
static void reorder_type(void **state)
{
    (void)state;
    expect_error("network.reorder = \"yes\"\n", CFG_ETYPE,
                 "config.toml:1:19: network.reorder must be a boolean, not a string");
}

/* The nemesis interval is 0..3600000. */
static void nemesis_interval_out_of_range(void **state)
{
    (void)state;
    expect_error("[nemesis]\ninterval_ms = 3600001\n", CFG_ERANGE,
                 "config.toml:2:15: nemesis.interval_ms = 3600001 is out of range (0..3600000)");
}

/* kinds must be a non-empty array of strings. */
static void nemesis_kinds_shape(void **state)
{
    (void)state;
    expect_error("nemesis.kinds = []\n", CFG_ERANGE,
                 "config.toml:1:17: nemesis.kinds must not be empty");
    expect_error("nemesis.kinds = \"crash\"\n", CFG_ETYPE,
                 "config.toml:1:17: nemesis.kinds must be an array, not a string");
    expect_error("nemesis.kinds = [\"crash\", 2]\n", CFG_ETYPE,
                 "config.toml:1:27: nemesis.kinds[1] must be a string, not an integer");
}

/* A word that is no fault kind is refused with the list. */
static void nemesis_kinds_bad_word(void **state)
{
    (void)state;
    expect_error("nemesis.kinds = [\"crash\", \"explode\"]\n", CFG_ERANGE,
                 "config.toml:1:27: nemesis.kinds[1] = \"explode\" is not one of crash, "
                 "partition, isolate, slow, transfer, add, remove");
}

/* restart and heal are fault kinds the nemesis chooses by itself: refused with the reason. */
static void nemesis_kinds_restart_heal(void **state)
{
    (void)state;
    expect_error("nemesis.kinds = [\"restart\"]\n", CFG_ERANGE,
                 "config.toml:1:18: nemesis.kinds[0] = \"restart\" is not one of crash, "
                 "partition, isolate, slow, transfer, add, remove (the nemesis restarts and "
                 "heals by itself)");
    expect_error("nemesis.kinds = [\"slow\", \"heal\"]\n", CFG_ERANGE,
                 "config.toml:1:26: nemesis.kinds[1] = \"heal\" is not one of crash, "
                 "partition, isolate, slow, transfer, add, remove (the nemesis restarts and "
                 "heals by itself)");
}

/* A kind listed twice is refused, naming both items. */
static void nemesis_kinds_duplicate(void **state)
{
    (void)state;
    expect_error("nemesis.kinds = [\"crash\", \"slow\", \"crash\"]\n", CFG_ERANGE,
                 "config.toml:1:35: nemesis.kinds[2] = \"crash\" repeats nemesis.kinds[0]");
}

/* converge_ms is 1..600000. */
static void converge_out_of_range(void **state)
{
    (void)state;
    expect_error("[check]\nconverge_ms = 0\n", CFG_ERANGE,
                 "config.toml:2:15: check.converge_ms = 0 is out of range (1..600000)");
    expect_error("check.converge_ms = 600001\n", CFG_ERANGE,
                 "config.toml:1:21: check.converge_ms = 600001 is out of range (1..600000)");
}

/* The check switches are booleans; a misspelt one gets a suggestion. */
static void check_keys(void **state)
{
    (void)state;
    expect_error("check.invariants = 0\n", CFG_ETYPE,
                 "config.toml:1:20: check.invariants must be a boolean, not an integer");
    expect_error("[check]\nlinearizable = true\n", CFG_EUNKNOWN,
                 "config.toml:2:1: unknown key 'check.linearizable'; did you mean "
                 "'check.linearizability'?");
}

/* A misspelt new section is suggested. */
static void unknown_section_suggested(void **state)
{
    (void)state;
    expect_error("[nemisis]\ninterval_ms = 1\n", CFG_EUNKNOWN,
                 "config.toml:1:2: unknown table 'nemisis'; did you mean 'nemesis'?");
    expect_error("[[faults]]\nat_ms = 1\n", CFG_EUNKNOWN,
                 "config.toml:1:3: unknown table 'faults'; did you mean 'fault'?");
}

/* --- printing ----------------------------------------------------------------------------- */

/* Probabilities print in their shortest exact form and read back to the same double. */
static void print_probability_exact(void **state)
{
    (void)state;
    const char *values[] = {"0.05", "1e-05", "0.123456789012345", "0.30000000000000004", "1.0"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char doc[64], want[64];
        snprintf(doc, sizeof doc, "network.drop = %s\n", values[i]);
        snprintf(want, sizeof want, "\ndrop = %s\n", values[i]);
        struct cfg a, b;
        load_ok(&a, doc);
        char *text = print_to_string(&a, false);
        assert_non_null(strstr(text, want));
        load_ok(&b, text);
        assert_true(a.network.drop == b.network.drop);
        free(text);
        cfg_close(&a);
        cfg_close(&b);
    }
}

/* The defaults print every new setting, and no [[fault]] when there is none; --help-config's
 * documented defaults load back to the defaults. */
static void print_defaults(void **state)
{
    (void)state;
    struct cfg a, b;
    cfg_init(&a);
    char *text = print_to_string(&a, false);
    assert_non_null(strstr(text, "pre_vote = true\ncheck_quorum = true\n"));
    assert_non_null(strstr(text, "\n[network]\ndrop = 0.0\ndelay_ms = [0, 0]\nduplicate = 0.0\n"
                                 "reorder = false\n"));
    assert_non_null(strstr(text, "\n[nemesis]\ninterval_ms = 0\n"
                                 "kinds = [\"crash\", \"partition\", \"isolate\", \"slow\"]\n"));
    assert_non_null(strstr(text, "\n[check]\ninvariants = true\nlinearizability = true\n"
                                 "converge_ms = 5000\n"));
    assert_null(strstr(text, "[[fault]]"));
    free(text);
    text = print_to_string(&a, true);
    assert_non_null(strstr(text, "# (no [[fault]] entries)\n"));
    load_ok(&b, text);
    assert_same_fault_settings(&a, &b);
    free(text);
    cfg_close(&a);
    cfg_close(&b);
}

/* --- summary and helpers ------------------------------------------------------------------ */

/* The default summary keeps its two lines: no network/fault line. */
static void summary_default_two_lines(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "");
    char *text = summary_of(&cfg);
    size_t lines = 0;
    for (const char *p = text; *p != '\0'; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    assert_null(strstr(text, "network"));
    free(text);
    cfg_close(&cfg);
}

/* [client] reads (issue 12): the words, the mix, and lease reads refused without check-quorum
 * at the place that asked for them. */
static void read_policies(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "");
    assert_int_equal(cfg.client.read, CFG_READ_LINEARIZABLE);
    assert_int_equal(cfg.client.get_weight, 1);
    assert_true(cfg.raft.clock_drift > 0.09 && cfg.raft.clock_drift < 0.11);
    cfg_close(&cfg);
    load_ok(&cfg, "[client]\nread = \"mix\"\nget_weight = 8\n[client.read_mix]\nstale = 0\n");
    assert_int_equal(cfg.client.read, CFG_READ_MIX);
    assert_int_equal(cfg.client.get_weight, 8);
    assert_int_equal(cfg.client.read_mix.stale, 0);
    assert_int_equal(cfg.client.read_mix.follower, 1);
    cfg_close(&cfg);
    expect_error("[client]\nread = \"fast\"\n", CFG_ERANGE,
                 "config.toml:2:8: client.read = \"fast\" is not one of linearizable, lease, "
                 "follower, stale, log, mix");
    expect_error("[raft]\ncheck_quorum = false\n[client]\nread = \"lease\"\n", CFG_ERANGE,
                 "config.toml:4:8: lease reads (client.read = \"lease\") need raft.check_quorum = "
                 "true: a lease is safe only while followers refuse to vote for a new leader soon "
                 "after hearing from theirs");
    expect_error(
        "[raft]\ncheck_quorum = false\n[client]\nread = \"mix\"\n", CFG_ERANGE,
        "config.toml:4:8: lease reads (client.read = \"mix\" with read_mix.lease > 0) need "
        "raft.check_quorum = true: a lease is safe only while followers refuse to vote for "
        "a new leader soon after hearing from theirs");
    load_ok(&cfg, "[raft]\ncheck_quorum = false\n[client]\nread = \"mix\"\n"
                  "[client.read_mix]\nlease = 0\n");
    cfg_close(&cfg);
    expect_error(
        "[client]\nread = \"mix\"\n[client.read_mix]\nlinearizable = 0\nlease = 0\n"
        "follower = 0\nstale = 0\nlog = 0\n",
        CFG_ERANGE,
        "config.toml:8:7: client.read = \"mix\" but every weight of [client.read_mix] is 0");
    expect_error("[client]\nput_weight = 0\nget_weight = 0\ndelete_weight = 0\n", CFG_ERANGE,
                 "config.toml:4:17: client.put_weight, get_weight and delete_weight are all 0: at "
                 "least one must be above 0");
    /* A key near one of its own table's is suggested before a same-named key elsewhere. */
    expect_error("[check]\nlinearizable = true\n", CFG_EUNKNOWN,
                 "config.toml:2:1: unknown key 'check.linearizable'; did you mean "
                 "'check.linearizability'?");
    expect_error("[client]\nlinearizable = 1\n", CFG_EUNKNOWN,
                 "config.toml:2:1: unknown key 'client.linearizable'; did you mean "
                 "'client.read_mix.linearizable'?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_file_gives_fault_defaults),
        cmocka_unit_test(init_gives_fault_defaults),
        cmocka_unit_test(probability_integers_and_limits),
        cmocka_unit_test(probability_negative_zero),
        cmocka_unit_test(delay_range_limits),
        cmocka_unit_test(nemesis_single_kind),
        cmocka_unit_test(set_new_scalars),
        cmocka_unit_test(set_overrides_file_network),
        cmocka_unit_test(set_new_scalar_errors),
        cmocka_unit_test(raft_bools_type),
        cmocka_unit_test(probability_out_of_range),
        cmocka_unit_test(probability_nan_inf),
        cmocka_unit_test(probability_type),
        cmocka_unit_test(delay_shape),
        cmocka_unit_test(delay_out_of_range),
        cmocka_unit_test(delay_min_above_max),
        cmocka_unit_test(reorder_type),
        cmocka_unit_test(nemesis_interval_out_of_range),
        cmocka_unit_test(nemesis_kinds_shape),
        cmocka_unit_test(nemesis_membership_kinds),
        cmocka_unit_test(nemesis_kinds_bad_word),
        cmocka_unit_test(nemesis_kinds_restart_heal),
        cmocka_unit_test(nemesis_kinds_duplicate),
        cmocka_unit_test(converge_out_of_range),
        cmocka_unit_test(check_keys),
        cmocka_unit_test(unknown_section_suggested),
        cmocka_unit_test(print_probability_exact),
        cmocka_unit_test(print_defaults),
        cmocka_unit_test(summary_default_two_lines),
        cmocka_unit_test(read_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
