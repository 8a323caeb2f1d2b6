/* test_config_cfg_cli.c - the command line: options, their values, usage errors, and how
 * cfg_load_cli combines the file, --set, the setting flags, --seed and --history.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"

#define ARGV(...)            ((char *const[]){"raft_kv", __VA_ARGS__, NULL})
#define ARGC(...)            ((int)(sizeof((const char *[]){"raft_kv", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(cli, err, ...) cfg_cli_parse((cli), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (err))

/* Parsing must fail as a usage error with exactly msg. */
#define EXPECT_USAGE(want, ...)                                                                    \
    do {                                                                                           \
        struct cfg_cli cli_;                                                                       \
        struct cfg_error err_ = {""};                                                              \
        int rc_ = PARSE(&cli_, &err_, __VA_ARGS__);                                                \
        assert_string_equal(err_.msg, (want));                                                     \
        assert_int_equal(rc_, CFG_EUSAGE);                                                         \
        cfg_cli_close(&cli_);                                                                      \
    } while (0)

/* No argument: run with config.toml, no overrides. */
static void no_arguments(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg_error err;
    char *const argv[] = {"raft_kv", NULL};
    assert_int_equal(cfg_cli_parse(&cli, 1, argv, &err), 0);
    assert_int_equal(cli.action, CFG_ACTION_RUN);
    assert_string_equal(cli.config_path, "config.toml");
    assert_int_equal(cli.num_overrides, 0);
    assert_false(cli.seed_given);
    assert_null(cli.history_path);
    cfg_cli_close(&cli);
}

/* The one positional argument is the config file, wherever it stands. */
static void config_path_positional(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, "--seed", "3", "my.toml", "--set", "num_nodes=3"), 0);
    assert_string_equal(cli.config_path, "my.toml");
    cfg_cli_close(&cli);
}

/* Two config files are a usage error naming both. */
static void two_config_files(void **state)
{
    (void)state;
    EXPECT_USAGE("more than one config file: 'a.toml' and 'b.toml'", "a.toml", "b.toml");
}

/* After "--" an argument starting with '-' is the config file. */
static void double_dash_ends_options(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, "--", "-odd.toml"), 0);
    assert_string_equal(cli.config_path, "-odd.toml");
    cfg_cli_close(&cli);
}

/* --set KEY=VALUE and --set=KEY=VALUE both make an override named by its argument. */
static void set_both_spellings(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, "--set", "raft.heartbeat_ms=20", "--set=num_nodes=3"), 0);
    assert_int_equal(cli.num_overrides, 2);
    assert_string_equal(cli.overrides[0].toml, "raft.heartbeat_ms=20");
    assert_string_equal(cli.overrides[0].origin, "--set 'raft.heartbeat_ms=20'");
    assert_string_equal(cli.overrides[1].toml, "num_nodes=3");
    assert_string_equal(cli.overrides[1].origin, "--set 'num_nodes=3'");
    cfg_cli_close(&cli);
}

/* --set without '=' is a usage error with an example. */
static void set_without_equals(void **state)
{
    (void)state;
    EXPECT_USAGE("--set 'num_nodes': expected KEY=VALUE, e.g. --set raft.heartbeat_ms=20", "--set",
                 "num_nodes");
}

/* --set with no key before '=' is a usage error. */
static void set_without_key(void **state)
{
    (void)state;
    EXPECT_USAGE("--set '=3': expected KEY=VALUE, e.g. --set raft.heartbeat_ms=20", "--set==3");
}

/* An option that needs a value and is last says so. */
static void set_missing_argument(void **state)
{
    (void)state;
    EXPECT_USAGE("option '--set' needs an argument (KEY=VALUE)", "--set");
}

/* --seed takes 0..2^63-1, the range of the seed setting (a TOML integer is signed 64-bit). */
static void seed_full_range(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, "--seed=9223372036854775807"), 0);
    assert_true(cli.seed_given);
    assert_true(cli.seed == INT64_MAX);
    cfg_cli_close(&cli);
    assert_int_equal(PARSE(&cli, &err, "--seed", "0"), 0);
    assert_true(cli.seed_given);
    assert_true(cli.seed == 0);
    cfg_cli_close(&cli);
}

/* --seed past 2^63-1 is refused with the range, not wrapped and not printed as a seed that
 * would not read back. */
static void seed_overflow(void **state)
{
    (void)state;
    EXPECT_USAGE("--seed '9223372036854775808': expected a decimal number 0..9223372036854775807",
                 "--seed", "9223372036854775808");
    EXPECT_USAGE("--seed '18446744073709551615': expected a decimal number 0..9223372036854775807",
                 "--seed", "18446744073709551615");
    EXPECT_USAGE("--seed '18446744073709551616': expected a decimal number 0..9223372036854775807",
                 "--seed", "18446744073709551616");
}

/* --seed must be decimal digits only. */
static void seed_not_a_number(void **state)
{
    (void)state;
    EXPECT_USAGE("--seed '12x': expected a decimal number 0..9223372036854775807", "--seed", "12x");
    EXPECT_USAGE("--seed '-1': expected a decimal number 0..9223372036854775807", "--seed", "-1");
    EXPECT_USAGE("--seed '': expected a decimal number 0..9223372036854775807", "--seed=");
}

/* --history FILE is kept. */
static void history_path(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, "--history", "h.jsonl"), 0);
    assert_string_equal(cli.history_path, "h.jsonl");
    cfg_cli_close(&cli);
}

/* --history with an empty name is refused. */
static void history_empty(void **state)
{
    (void)state;
    EXPECT_USAGE("--history: expected a file name", "--history=");
}

/* --trace-format=jsonl and --trace-format jsonl become the override trace.format = "jsonl". */
static void trace_format_flag(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, "--trace-format=jsonl", "--trace-format", "text"), 0);
    assert_int_equal(cli.num_overrides, 2);
    assert_string_equal(cli.overrides[0].origin, "--trace-format=jsonl");
    assert_string_equal(cli.overrides[0].toml, "trace.format = \"jsonl\"");
    assert_string_equal(cli.overrides[1].toml, "trace.format = \"text\"");
    cfg_cli_close(&cli);
}

/* A word the setting does not know is a usage error listing the words. */
static void trace_format_bad_word(void **state)
{
    (void)state;
    EXPECT_USAGE("--trace-format 'xml': expected one of text, jsonl", "--trace-format=xml");
    EXPECT_USAGE("--trace-level 'loud': expected one of quiet, info, debug, messages",
                 "--trace-level", "loud");
    EXPECT_USAGE("--color 'sometimes': expected one of auto, always, never", "--color=sometimes");
}

/* An unknown long or short option is named. */
static void unknown_option(void **state)
{
    (void)state;
    EXPECT_USAGE("unknown option '--sed'", "--sed", "3");
    EXPECT_USAGE("unknown option '-x'", "-x");
}

/* A flag given a value is refused. */
static void flag_with_value(void **state)
{
    (void)state;
    EXPECT_USAGE("option '--version' takes no argument", "--version=2");
}

/* --help wins over whatever follows, even bad arguments; -h too. */
static void help_stops_parsing(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, "--help", "--bogus"), 0);
    assert_int_equal(cli.action, CFG_ACTION_HELP);
    cfg_cli_close(&cli);
    assert_int_equal(PARSE(&cli, &err, "-h"), 0);
    assert_int_equal(cli.action, CFG_ACTION_HELP);
    cfg_cli_close(&cli);
}

/* --version, --print-config and --help-config select their actions. */
static void actions(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, "--version"), 0);
    assert_int_equal(cli.action, CFG_ACTION_VERSION);
    cfg_cli_close(&cli);
    assert_int_equal(PARSE(&cli, &err, "--print-config", "x.toml"), 0);
    assert_int_equal(cli.action, CFG_ACTION_PRINT_CONFIG);
    assert_string_equal(cli.config_path, "x.toml");
    cfg_cli_close(&cli);
    assert_int_equal(PARSE(&cli, &err, "--help-config"), 0);
    assert_int_equal(cli.action, CFG_ACTION_HELP_CONFIG);
    cfg_cli_close(&cli);
}

/* The actions, each with its argument if it takes one. */
static const char *const action_args[][2] = {
    {"--check-history", "h.jsonl"}, {"--simulate", NULL},    {"--sweep", "3"},
    {"--print-config", NULL},       {"--help-config", NULL},
};
enum { ACTIONS = sizeof action_args / sizeof action_args[0] };

/* Any two actions together are a usage error naming both, in either order. */
static void two_actions_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < ACTIONS; i++) {
        for (size_t j = 0; j < ACTIONS; j++) {
            if (i == j)
                continue;
            char *argv[6] = {"raft_kv"};
            int argc = 1;
            for (size_t k = 0; k < 2; k++) {
                const char *const *a = action_args[k == 0 ? i : j];
                argv[argc++] = (char *)a[0];
                if (a[1] != NULL)
                    argv[argc++] = (char *)a[1];
            }
            struct cfg_cli cli;
            struct cfg_error err = {""};
            assert_int_equal(cfg_cli_parse(&cli, argc, argv, &err), CFG_EUSAGE);
            char want[128];
            snprintf(want, sizeof want, "%s cannot be combined with %s: they are two actions",
                     action_args[i][0], action_args[j][0]);
            if (strstr(err.msg, want) == NULL)
                fail_msg("'%s' lacks '%s'", err.msg, want);
            cfg_cli_close(&cli);
        }
    }
    EXPECT_USAGE("--check-history cannot be combined with --simulate: they are two actions; give "
                 "one",
                 "--check-history", "h.jsonl", "--simulate");
}

/* One action given twice is refused: only one of the two would be done. */
static void action_twice_refused(void **state)
{
    (void)state;
    EXPECT_USAGE("--sweep is given twice; give it once", "--sweep", "3", "--sweep", "5");
    EXPECT_USAGE("--check-history is given twice; give it once", "--check-history", "a",
                 "--check-history", "b");
}

/* --help and --version win over conflicting actions, before or after them. */
static void help_wins_over_conflicts(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, "--check-history", "h", "--simulate", "--help"), 0);
    assert_int_equal(cli.action, CFG_ACTION_HELP);
    cfg_cli_close(&cli);
    assert_int_equal(PARSE(&cli, &err, "--sweep", "3", "--history", "h", "--version"), 0);
    assert_int_equal(cli.action, CFG_ACTION_VERSION);
    cfg_cli_close(&cli);
}

/* --check-history reads only its file: a config file, a setting, a seed or a history is refused,
 * named as it was given. */
static void check_history_takes_nothing_else(void **state)
{
    (void)state;
    const char *why = ": it reads only its history file";
    char want[256];
#define CHECK_HISTORY_REFUSES(other, ...)                                                          \
    snprintf(want, sizeof want, "--check-history cannot be combined with %s%s", (other), why);     \
    EXPECT_USAGE(want, "--check-history", "h.jsonl", __VA_ARGS__)
    CHECK_HISTORY_REFUSES("--seed", "--seed", "3");
    CHECK_HISTORY_REFUSES("--history", "--history", "out.jsonl");
    CHECK_HISTORY_REFUSES("--set 'num_nodes=3'", "--set", "num_nodes=3");
    CHECK_HISTORY_REFUSES("the config file 'x.toml'", "x.toml");
    CHECK_HISTORY_REFUSES("--trace-format=jsonl", "--trace-format", "jsonl");
    CHECK_HISTORY_REFUSES("--trace-level=debug", "--trace-level=debug");
    CHECK_HISTORY_REFUSES("--color=never", "--color=never");
#undef CHECK_HISTORY_REFUSES
}

/* --help-config lists the defaults: it reads no configuration, so any is refused. */
static void help_config_takes_nothing_else(void **state)
{
    (void)state;
    const char *why = ": it lists every setting at its default (--print-config shows the "
                      "effective configuration)";
    char want[256];
    snprintf(want, sizeof want, "--help-config cannot be combined with --seed%s", why);
    EXPECT_USAGE(want, "--help-config", "--seed", "3");
    snprintf(want, sizeof want, "--help-config cannot be combined with the config file 'x.toml'%s",
             why);
    EXPECT_USAGE(want, "x.toml", "--help-config");
    snprintf(want, sizeof want, "--help-config cannot be combined with --set 'num_nodes=3'%s", why);
    EXPECT_USAGE(want, "--help-config", "--set", "num_nodes=3");
    snprintf(want, sizeof want, "--help-config cannot be combined with --history%s", why);
    EXPECT_USAGE(want, "--help-config", "--history", "h");
}

/* The sweep draws each configuration from its seed: a config file would be ignored. */
static void sweep_refuses_config_file(void **state)
{
    (void)state;
    EXPECT_USAGE("--sweep cannot be combined with the config file 'x.toml': the sweep draws each "
                 "configuration from its seed and takes only --seed, --set seed=N and the trace "
                 "settings",
                 "--sweep", "3", "x.toml");
}

/* The sweep takes --set seed=N and trace settings; any other setting is refused. */
static void sweep_refuses_other_settings(void **state)
{
    (void)state;
    EXPECT_USAGE("--sweep cannot be combined with --set 'num_nodes=3': the sweep draws each "
                 "configuration from its seed and takes only --seed, --set seed=N and the trace "
                 "settings",
                 "--sweep", "1", "--set", "num_nodes=3");
    EXPECT_USAGE("--sweep cannot be combined with --set 'raft.heartbeat_ms=20': the sweep draws "
                 "each configuration from its seed and takes only --seed, --set seed=N and the "
                 "trace settings",
                 "--sweep", "5", "--set", "raft.heartbeat_ms=20");
    struct cfg_cli cli;
    struct cfg_error err = {""};
    assert_int_equal(PARSE(&cli, &err, "--sweep", "1", "--set", "seed=5", "--set",
                           "trace.level=\"debug\"", "--set", "trace={color=\"never\"}",
                           "--trace-format=jsonl", "--history", "h.jsonl"),
                     0);
    assert_int_equal(cli.action, CFG_ACTION_SWEEP);
    cfg_cli_close(&cli);
}

/* A sweep of several seeds prints no trace and writes no history: both are refused (one seed,
 * a replay, takes them). */
static void sweep_of_many_refuses_trace_and_history(void **state)
{
    (void)state;
    EXPECT_USAGE("--sweep 3 cannot be combined with --history: a sweep of several seeds writes no "
                 "history; replay one seed with --sweep 1 --seed S --history FILE",
                 "--sweep", "3", "--history", "F");
    EXPECT_USAGE("--sweep 3 cannot be combined with --trace-level=debug: a sweep of several seeds "
                 "prints no trace; replay one seed with --sweep 1 --seed S",
                 "--trace-level=debug", "--sweep", "3");
    EXPECT_USAGE("--sweep 2 cannot be combined with --set 'trace.format=\"jsonl\"': a sweep of "
                 "several seeds prints no trace; replay one seed with --sweep 1 --seed S",
                 "--sweep", "2", "--set", "trace.format=\"jsonl\"");
    struct cfg_cli cli;
    struct cfg_error err = {""};
    assert_int_equal(PARSE(&cli, &err, "--sweep", "3", "--seed", "7", "--set", "seed=9"), 0);
    cfg_cli_close(&cli);
}

/* The threaded run, --simulate and --print-config read every option. */
static void run_simulate_print_take_everything(void **state)
{
    (void)state;
    const char *actions[] = {"--simulate", "--print-config", NULL};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        struct cfg_cli cli;
        struct cfg_error err = {""};
        char *argv[] = {"raft_kv", "--seed",      "3",      "--history",     "h",
                        "--set",   "num_nodes=3", "x.toml", "--color=never", (char *)actions[i],
                        NULL};
        int argc = actions[i] ? 10 : 9;
        assert_int_equal(cfg_cli_parse(&cli, argc, argv, &err), 0);
        cfg_cli_close(&cli);
    }
}

/* The sweep reads no config file: it loads the defaults and its overrides, even where no
 * config.toml is. */
static void sweep_needs_no_config_file(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg cfg;
    struct cfg_error err = {""};
    assert_int_equal(PARSE(&cli, &err, "--sweep", "1", "--trace-level=quiet", "--seed", "4"), 0);
    assert_null(cli.config_path);
    char dir[] = "/tmp/test_config_cli_dir.XXXXXX", cwd[4096];
    assert_non_null(mkdtemp(dir));
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    int rc = cfg_load_cli(&cfg, &cli, &err);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rmdir(dir), 0);
    assert_string_equal(err.msg, "");
    assert_int_equal(rc, 0);
    assert_int_equal(cfg.trace.level, CFG_TRACE_QUIET);
    assert_true(cfg.seed_given && cfg.seed == 4);
    assert_null(cfg.path);
    cfg_close(&cfg);
    cfg_cli_close(&cli);
}

/* The usage lists every option with its argument. */
static void usage_lists_options(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cfg_usage(out);
    fclose(out);
    const char *want[] = {"usage: raft_kv [OPTIONS] [CONFIG]",
                          "--set KEY=VALUE",
                          "--seed N",
                          "0..2^63-1",
                          "--history FILE",
                          "--trace-format FORMAT",
                          "--trace-level LEVEL",
                          "--color WHEN",
                          "--print-config",
                          "--help-config",
                          "--help",
                          "--version",
                          "2 bad command line",
                          "At most one action",
                          "--help and --version win"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(text, want[i]) == NULL)
            fail_msg("usage lacks '%s'", want[i]);
    free(text);
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/test_config_cli.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* cfg_load_cli: file < --set and flags in order < --seed; --history copied. */
static void load_cli_precedence(void **state)
{
    (void)state;
    char *path = write_temp("seed = 1\nnum_nodes = 3\n[trace]\nformat = \"text\"\n");
    struct cfg_cli cli;
    struct cfg cfg;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, path, "--seed", "77", "--set", "seed=2", "--set",
                           "num_nodes=4", "--trace-format=jsonl", "--history", "h.txt"),
                     0);
    assert_int_equal(cfg_load_cli(&cfg, &cli, &err), 0);
    cfg_cli_close(&cli);
    assert_int_equal(cfg.seed, 77);
    assert_true(cfg.seed_given);
    assert_int_equal(cfg.num_nodes, 4);
    assert_int_equal(cfg.trace.format, CFG_FORMAT_JSONL);
    assert_string_equal(cfg.history_path, "h.txt");
    assert_string_equal(cfg.path, path);
    cfg_close(&cfg);
    unlink(path);
    free(path);
}

/* A later flag overrides an earlier --set of the same setting, and the other way round. */
static void load_cli_flag_order(void **state)
{
    (void)state;
    char *path = write_temp("");
    struct cfg_cli cli;
    struct cfg cfg;
    struct cfg_error err;
    assert_int_equal(
        PARSE(&cli, &err, path, "--trace-level=debug", "--set", "trace.level=\"quiet\""), 0);
    assert_int_equal(cfg_load_cli(&cfg, &cli, &err), 0);
    assert_int_equal(cfg.trace.level, CFG_TRACE_QUIET);
    cfg_close(&cfg);
    cfg_cli_close(&cli);
    unlink(path);
    free(path);
}

/* The largest --seed prints as a configuration that reads back to the same seed. */
static void seed_max_prints_and_reads_back(void **state)
{
    (void)state;
    char *path = write_temp("");
    struct cfg_cli cli;
    struct cfg cfg, back;
    struct cfg_error err = {""};
    assert_int_equal(PARSE(&cli, &err, "--print-config", "--seed", "9223372036854775807", path), 0);
    assert_int_equal(cfg_load_cli(&cfg, &cli, &err), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cfg_print(out, &cfg, false);
    fclose(out);
    assert_non_null(strstr(text, "\nseed = 9223372036854775807\n"));
    assert_int_equal(cfg_load_buffer(&back, text, len, "printed", NULL, 0, &err), 0);
    assert_true(back.seed_given);
    assert_true(back.seed == INT64_MAX);
    cfg_close(&back);
    cfg_close(&cfg);
    cfg_cli_close(&cli);
    free(text);
    unlink(path);
    free(path);
}

/* A sweep's seeds S..S+N-1 stay within 0..2^63-1: a sweep that would pass it is a usage error,
 * whether the seed comes from --seed or --set seed=N. */
static void sweep_seeds_stay_in_range(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg cfg;
    struct cfg_error err = {""};
    assert_int_equal(PARSE(&cli, &err, "--sweep", "2", "--seed", "9223372036854775807"), 0);
    assert_int_equal(cfg_load_cli(&cfg, &cli, &err), CFG_EUSAGE);
    assert_string_equal(err.msg, "--sweep 2 from seed 9223372036854775807: the seeds S..S+N-1 "
                                 "must be at most 9223372036854775807; start at "
                                 "9223372036854775806 or below");
    assert_null(cfg.path);
    cfg_cli_close(&cli);
    assert_int_equal(PARSE(&cli, &err, "--sweep", "1000", "--set", "seed=9223372036854775000"), 0);
    assert_int_equal(cfg_load_cli(&cfg, &cli, &err), CFG_EUSAGE);
    assert_non_null(strstr(err.msg, "start at 9223372036854774808 or below"));
    cfg_cli_close(&cli);
    assert_int_equal(PARSE(&cli, &err, "--sweep", "2", "--seed", "9223372036854775806"), 0);
    assert_int_equal(cfg_load_cli(&cfg, &cli, &err), 0);
    cfg_close(&cfg);
    cfg_cli_close(&cli);
    assert_int_equal(PARSE(&cli, &err, "--sweep", "1", "--seed", "9223372036854775807"), 0);
    assert_int_equal(cfg_load_cli(&cfg, &cli, &err), 0);
    cfg_close(&cfg);
    cfg_cli_close(&cli);
}

/* A bad --set value surfaces from cfg_load_cli as a config error naming the argument. */
static void load_cli_bad_set(void **state)
{
    (void)state;
    char *path = write_temp("");
    struct cfg_cli cli;
    struct cfg cfg;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, path, "--set", "num_clients=-1"), 0);
    assert_int_equal(cfg_load_cli(&cfg, &cli, &err), CFG_ERANGE);
    assert_string_equal(err.msg,
                        "--set 'num_clients=-1': num_clients = -1 is out of range (0..1000)");
    assert_null(cfg.history_path);
    cfg_cli_close(&cli);
    unlink(path);
    free(path);
}

/* A missing config file surfaces from cfg_load_cli and nothing stays allocated. */
static void load_cli_missing_file(void **state)
{
    (void)state;
    struct cfg_cli cli;
    struct cfg cfg;
    struct cfg_error err;
    assert_int_equal(PARSE(&cli, &err, "/nonexistent.toml", "--history", "h"), 0);
    assert_int_equal(cfg_load_cli(&cfg, &cli, &err), CFG_EIO);
    assert_string_equal(err.msg, "cannot open '/nonexistent.toml': No such file or directory");
    assert_null(cfg.history_path);
    cfg_cli_close(&cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_arguments),
        cmocka_unit_test(config_path_positional),
        cmocka_unit_test(two_config_files),
        cmocka_unit_test(double_dash_ends_options),
        cmocka_unit_test(set_both_spellings),
        cmocka_unit_test(set_without_equals),
        cmocka_unit_test(set_without_key),
        cmocka_unit_test(set_missing_argument),
        cmocka_unit_test(seed_full_range),
        cmocka_unit_test(seed_overflow),
        cmocka_unit_test(seed_not_a_number),
        cmocka_unit_test(history_path),
        cmocka_unit_test(history_empty),
        cmocka_unit_test(trace_format_flag),
        cmocka_unit_test(trace_format_bad_word),
        cmocka_unit_test(unknown_option),
        cmocka_unit_test(flag_with_value),
        cmocka_unit_test(help_stops_parsing),
        cmocka_unit_test(actions),
        cmocka_unit_test(two_actions_refused),
        cmocka_unit_test(action_twice_refused),
        cmocka_unit_test(help_wins_over_conflicts),
        cmocka_unit_test(check_history_takes_nothing_else),
        cmocka_unit_test(help_config_takes_nothing_else),
        cmocka_unit_test(sweep_refuses_config_file),
        cmocka_unit_test(sweep_refuses_other_settings),
        cmocka_unit_test(sweep_of_many_refuses_trace_and_history),
        cmocka_unit_test(run_simulate_print_take_everything),
        cmocka_unit_test(sweep_needs_no_config_file),
        cmocka_unit_test(usage_lists_options),
        cmocka_unit_test(load_cli_precedence),
        cmocka_unit_test(load_cli_flag_order),
        cmocka_unit_test(seed_max_prints_and_reads_back),
        cmocka_unit_test(sweep_seeds_stay_in_range),
        cmocka_unit_test(load_cli_bad_set),
        cmocka_unit_test(load_cli_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
