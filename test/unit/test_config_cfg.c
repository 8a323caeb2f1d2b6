/* test_config_cfg.c - the typed configuration: defaults, file values, --set overrides, and every
 * validation error with its exact message. Documents are parsed from strings as "config.toml".
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

/* Loads doc as "config.toml" with the given --set arguments (NULL-terminated, may be NULL). */
static int load_set(struct cfg *cfg, const char *doc, const char *const *sets,
                    struct cfg_error *err)
{
    struct cfg_override ovr[8] = {{NULL, NULL}};
    char origins[8][128];
    size_t n = 0;
    for (; sets != NULL && sets[n] != NULL; n++) {
        assert_true(n < 8);
        snprintf(origins[n], sizeof origins[n], "--set '%s'", sets[n]);
        ovr[n].origin = origins[n];
        ovr[n].toml = sets[n];
    }
    return cfg_load_buffer(cfg, doc, strlen(doc), "config.toml", ovr, n, err);
}

static void load_ok(struct cfg *cfg, const char *doc)
{
    struct cfg_error err = {""};
    int rc = load_set(cfg, doc, NULL, &err);
    if (rc != 0)
        fail_msg("unexpected error: %s", err.msg);
}

/* Loading fails with code and exactly msg, and leaves nothing allocated in cfg. */
static void expect_set_error(const char *doc, const char *const *sets, int code, const char *msg)
{
    struct cfg cfg;
    struct cfg_error err = {""};
    int rc = load_set(&cfg, doc, sets, &err);
    assert_string_equal(err.msg, msg);
    assert_int_equal(rc, code);
    assert_null(cfg.client.keys.items);
    assert_null(cfg.path);
}

static void expect_error(const char *doc, int code, const char *msg)
{
    expect_set_error(doc, NULL, code, msg);
}

/* --- defaults and values ------------------------------------------------------------------ */

/* An empty file gives every default of the original design. */
static void empty_file_gives_defaults(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "");
    assert_int_equal(cfg.num_nodes, 5);
    assert_int_equal(cfg.num_clients, 3);
    assert_false(cfg.seed_given);
    assert_int_equal(cfg.client.requests, 5);
    assert_int_equal(cfg.client.keys.len, 5);
    const char *want[] = {"a", "b", "c", "d", "e"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(cfg.client.keys.items[i], want[i]);
    assert_int_equal(cfg.client.value_size, 8);
    assert_int_equal(cfg.client.timeout_ms, 1000);
    assert_int_equal(cfg.raft.election_timeout_ms_min, 150);
    assert_int_equal(cfg.raft.election_timeout_ms_max, 300);
    assert_int_equal(cfg.raft.heartbeat_ms, 50);
    assert_int_equal(cfg.trace.level, CFG_TRACE_INFO);
    assert_int_equal(cfg.trace.format, CFG_FORMAT_TEXT);
    assert_int_equal(cfg.trace.color, CFG_COLOR_AUTO);
    assert_null(cfg.history_path);
    assert_string_equal(cfg.path, "config.toml");
    cfg_close(&cfg);
}

/* cfg_init alone gives the same defaults (used for --help-config). */
static void init_gives_defaults(void **state)
{
    (void)state;
    struct cfg cfg;
    cfg_init(&cfg);
    assert_int_equal(cfg.num_nodes, 5);
    assert_int_equal(cfg.client.keys.len, 5);
    assert_int_equal(cfg.raft.heartbeat_ms, 50);
    assert_null(cfg.path);
    cfg_close(&cfg);
}

/* Every setting written in the file is taken. */
static void file_sets_every_setting(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "num_nodes = 7\nnum_clients = 0\nseed = 99\n"
                  "[client]\nrequests = 11\nkeys = [\"x\", \"y\"]\nvalue_size = 3\n"
                  "timeout_ms = 250\n"
                  "[raft]\nelection_timeout_ms_min = 100\nelection_timeout_ms_max = 101\n"
                  "heartbeat_ms = 99\n"
                  "[trace]\nlevel = \"debug\"\nformat = \"jsonl\"\ncolor = \"never\"\n");
    assert_int_equal(cfg.num_nodes, 7);
    assert_int_equal(cfg.num_clients, 0);
    assert_true(cfg.seed_given);
    assert_int_equal(cfg.seed, 99);
    assert_int_equal(cfg.client.requests, 11);
    assert_int_equal(cfg.client.keys.len, 2);
    assert_string_equal(cfg.client.keys.items[0], "x");
    assert_string_equal(cfg.client.keys.items[1], "y");
    assert_int_equal(cfg.client.value_size, 3);
    assert_int_equal(cfg.client.timeout_ms, 250);
    assert_int_equal(cfg.raft.election_timeout_ms_min, 100);
    assert_int_equal(cfg.raft.election_timeout_ms_max, 101);
    assert_int_equal(cfg.raft.heartbeat_ms, 99);
    assert_int_equal(cfg.trace.level, CFG_TRACE_DEBUG);
    assert_int_equal(cfg.trace.format, CFG_FORMAT_JSONL);
    assert_int_equal(cfg.trace.color, CFG_COLOR_NEVER);
    cfg_close(&cfg);
}

/* max_nodes left out, or 0, is num_nodes once loaded, whichever way num_nodes was set; a cfg
 * filled by cfg_init alone keeps 0, which cfg_max_nodes reads as num_nodes. */
static void max_nodes_defaults_to_num_nodes(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "");
    assert_int_equal(cfg.max_nodes, 5);
    cfg_close(&cfg);
    load_ok(&cfg, "max_nodes = 0\nnum_nodes = 7\n");
    assert_int_equal(cfg.max_nodes, 7);
    cfg_close(&cfg);
    const char *sets[] = {"num_nodes=2", NULL};
    assert_int_equal(load_set(&cfg, "", sets, &(struct cfg_error){""}), 0);
    assert_int_equal(cfg.max_nodes, 2);
    cfg_close(&cfg);
    cfg_init(&cfg);
    assert_int_equal(cfg.max_nodes, 0);
    assert_int_equal(cfg_max_nodes(&cfg), 5);
    cfg_close(&cfg);
}

/* max_nodes from num_nodes up to CFG_NODES_MAX is taken as written, before or after num_nodes. */
static void max_nodes_read(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "max_nodes = 255\nnum_nodes = 3\n");
    assert_int_equal(cfg.num_nodes, 3);
    assert_int_equal(cfg.max_nodes, 255);
    assert_int_equal(cfg_max_nodes(&cfg), 255);
    cfg_close(&cfg);
    load_ok(&cfg, "num_nodes = 4\nmax_nodes = 4\n");
    assert_int_equal(cfg.max_nodes, 4);
    cfg_close(&cfg);
}

/* max_nodes is 0..CFG_NODES_MAX. */
static void max_nodes_out_of_range(void **state)
{
    (void)state;
    expect_error("max_nodes = 256\n", CFG_ERANGE,
                 "config.toml:1:13: max_nodes = 256 is out of range (0..255)");
    expect_error("max_nodes = -1\n", CFG_ERANGE,
                 "config.toml:1:13: max_nodes = -1 is out of range (0..255)");
}

/* max_nodes other than 0 below num_nodes is refused at max_nodes, the default num_nodes too. */
static void max_nodes_below_num_nodes(void **state)
{
    (void)state;
    expect_error("num_nodes = 5\nmax_nodes = 3\n", CFG_ERANGE,
                 "config.toml:2:13: max_nodes = 3 must be 0 (num_nodes) or at least num_nodes = 5");
    expect_error("max_nodes = 4\n", CFG_ERANGE,
                 "config.toml:1:13: max_nodes = 4 must be 0 (num_nodes) or at least num_nodes = 5");
}

/* A num_nodes raised above max_nodes after it is refused where it was raised. */
static void num_nodes_above_max_nodes(void **state)
{
    (void)state;
    const char *sets[] = {"num_nodes=7", NULL};
    expect_set_error("max_nodes = 6\n", sets, CFG_ERANGE,
                     "--set 'num_nodes=7': num_nodes = 7 must not be above max_nodes = 6");
    const char *both[] = {"max_nodes=8", "num_nodes=7", NULL};
    struct cfg cfg;
    assert_int_equal(load_set(&cfg, "max_nodes = 6\n", both, &(struct cfg_error){""}), 0);
    assert_int_equal(cfg.max_nodes, 8);
    cfg_close(&cfg);
}

/* The range limits themselves are accepted. */
static void range_limits_accepted(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "num_nodes = 255\nnum_clients = 1000\nseed = 9223372036854775807\n");
    assert_int_equal(cfg.num_nodes, 255);
    assert_int_equal(cfg.num_clients, 1000);
    assert_true(cfg.seed == INT64_MAX);
    cfg_close(&cfg);
    load_ok(&cfg, "num_nodes = 1\nseed = 0\n");
    assert_int_equal(cfg.num_nodes, 1);
    assert_true(cfg.seed_given);
    assert_true(cfg.seed == 0);
    cfg_close(&cfg);
}

/* Dotted keys and inline tables reach the same settings as [table] headers. */
static void dotted_keys_and_inline_tables(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "raft.heartbeat_ms = 20\nclient = {requests = 7, keys = [\"k\"]}\n");
    assert_int_equal(cfg.raft.heartbeat_ms, 20);
    assert_int_equal(cfg.raft.election_timeout_ms_min, 150);
    assert_int_equal(cfg.client.requests, 7);
    assert_int_equal(cfg.client.keys.len, 1);
    assert_string_equal(cfg.client.keys.items[0], "k");
    cfg_close(&cfg);
}

/* --set replaces the file's value of that setting and leaves its neighbours alone. */
static void set_overrides_file(void **state)
{
    (void)state;
    struct cfg cfg;
    struct cfg_error err;
    const char *sets[] = {"raft.heartbeat_ms=20", NULL};
    assert_int_equal(
        load_set(&cfg, "[raft]\nheartbeat_ms = 60\nelection_timeout_ms_min = 200\n", sets, &err),
        0);
    assert_int_equal(cfg.raft.heartbeat_ms, 20);
    assert_int_equal(cfg.raft.election_timeout_ms_min, 200);
    assert_int_equal(cfg.raft.election_timeout_ms_max, 300);
    cfg_close(&cfg);
}

/* Of two --set of one key, the later wins. */
static void later_set_wins(void **state)
{
    (void)state;
    struct cfg cfg;
    struct cfg_error err;
    const char *sets[] = {"num_nodes=3", "num_nodes = 9", NULL};
    assert_int_equal(load_set(&cfg, "num_nodes = 1\n", sets, &err), 0);
    assert_int_equal(cfg.num_nodes, 9);
    cfg_close(&cfg);
}

/* --set takes any TOML value: an array replaces the keys, a string an enumerated setting. */
static void set_takes_toml_values(void **state)
{
    (void)state;
    struct cfg cfg;
    struct cfg_error err;
    const char *sets[] = {"client.keys=[\"x\",\"y\",'z']", "trace.format=\"jsonl\"", "seed=5",
                          NULL};
    assert_int_equal(load_set(&cfg, "", sets, &err), 0);
    assert_int_equal(cfg.client.keys.len, 3);
    assert_string_equal(cfg.client.keys.items[2], "z");
    assert_int_equal(cfg.trace.format, CFG_FORMAT_JSONL);
    assert_true(cfg.seed_given);
    assert_int_equal(cfg.seed, 5);
    cfg_close(&cfg);
}

/* --- type and range errors ---------------------------------------------------------------- */

/* num_nodes 0 is out of range, reported at the value. */
static void num_nodes_zero(void **state)
{
    (void)state;
    expect_error("num_clients = 2\nnum_nodes = 0\n", CFG_ERANGE,
                 "config.toml:2:13: num_nodes = 0 is out of range (1..255)");
}

/* num_nodes above the documented maximum. */
static void num_nodes_too_many(void **state)
{
    (void)state;
    expect_error("num_nodes = 256", CFG_ERANGE,
                 "config.toml:1:13: num_nodes = 256 is out of range (1..255)");
}

/* A huge integer is reported as written. */
static void num_nodes_int64_max(void **state)
{
    (void)state;
    expect_error("num_nodes = 9223372036854775807", CFG_ERANGE,
                 "config.toml:1:13: num_nodes = 9223372036854775807 is out of range (1..255)");
}

/* num_clients above the documented maximum. */
static void num_clients_too_many(void **state)
{
    (void)state;
    expect_error("num_clients = 1001", CFG_ERANGE,
                 "config.toml:1:15: num_clients = 1001 is out of range (0..1000)");
}

/* A negative seed is out of range. */
static void seed_negative(void **state)
{
    (void)state;
    expect_error("seed = -1", CFG_ERANGE,
                 "config.toml:1:8: seed = -1 is out of range (0..9223372036854775807)");
}

/* Timeouts must be positive. */
static void heartbeat_zero(void **state)
{
    (void)state;
    expect_error("[raft]\nheartbeat_ms = 0", CFG_ERANGE,
                 "config.toml:2:16: raft.heartbeat_ms = 0 is out of range (1..60000)");
}

/* A client request timeout of 0 is refused. */
static void client_timeout_zero(void **state)
{
    (void)state;
    expect_error("[client]\ntimeout_ms = 0", CFG_ERANGE,
                 "config.toml:2:14: client.timeout_ms = 0 is out of range (1..3600000)");
}

/* A value size of 0 is refused. */
static void value_size_zero(void **state)
{
    (void)state;
    expect_error("[client]\nvalue_size = 0", CFG_ERANGE,
                 "config.toml:2:14: client.value_size = 0 is out of range (1..65536)");
}

/* A string where an integer belongs. */
static void heartbeat_string(void **state)
{
    (void)state;
    expect_error("[raft]\nheartbeat_ms = \"50\"", CFG_ETYPE,
                 "config.toml:2:16: raft.heartbeat_ms must be an integer, not a string");
}

/* A float where an integer belongs: no silent truncation. */
static void num_nodes_float(void **state)
{
    (void)state;
    expect_error("num_nodes = 5.0", CFG_ETYPE,
                 "config.toml:1:13: num_nodes must be an integer, not a float");
}

/* A boolean where an integer belongs. */
static void requests_bool(void **state)
{
    (void)state;
    expect_error("client.requests = true", CFG_ETYPE,
                 "config.toml:1:19: client.requests must be an integer, not a boolean");
}

/* A section given as a scalar. */
static void section_not_table(void **state)
{
    (void)state;
    expect_error("raft = 5", CFG_ETYPE, "config.toml:1:8: raft must be a table, not an integer");
}

/* A section given as an array of tables. */
static void section_array_of_tables(void **state)
{
    (void)state;
    struct cfg cfg;
    struct cfg_error err;
    assert_int_equal(load_set(&cfg, "[[trace]]\nlevel = \"info\"\n", NULL, &err), CFG_ETYPE);
    const char *want = ": trace must be a table, not an array";
    assert_non_null(strstr(err.msg, want));
    assert_memory_equal(err.msg, "config.toml:1:", 14);
}

/* An enumerated setting given a word it does not know lists the words it does. */
static void trace_level_unknown_word(void **state)
{
    (void)state;
    expect_error(
        "[trace]\nlevel = \"loud\"", CFG_ERANGE,
        "config.toml:2:9: trace.level = \"loud\" is not one of quiet, info, debug, messages");
}

/* The word check is exact: case matters. */
static void trace_format_wrong_case(void **state)
{
    (void)state;
    expect_error("trace.format = \"JSONL\"", CFG_ERANGE,
                 "config.toml:1:16: trace.format = \"JSONL\" is not one of text, jsonl");
}

/* An enumerated setting given a number. */
static void trace_color_integer(void **state)
{
    (void)state;
    expect_error("[trace]\ncolor = 1", CFG_ETYPE,
                 "config.toml:2:9: trace.color must be a string, not an integer");
}

/* --- client.keys -------------------------------------------------------------------------- */

/* keys must be an array. */
static void keys_not_array(void **state)
{
    (void)state;
    expect_error("[client]\nkeys = \"a\"", CFG_ETYPE,
                 "config.toml:2:8: client.keys must be an array, not a string");
}

/* keys must not be empty. */
static void keys_empty(void **state)
{
    (void)state;
    expect_error("[client]\nkeys = []", CFG_ERANGE,
                 "config.toml:2:8: client.keys must not be empty");
}

/* Every key must be a string; the message names the item and its place. */
static void keys_item_not_string(void **state)
{
    (void)state;
    expect_error("[client]\nkeys = [\"a\", 1]", CFG_ETYPE,
                 "config.toml:2:14: client.keys[1] must be a string, not an integer");
}

/* An empty key is refused. */
static void keys_item_empty(void **state)
{
    (void)state;
    expect_error("[client]\nkeys = [\"a\", \"\"]", CFG_ERANGE,
                 "config.toml:2:14: client.keys[1] must not be an empty string");
}

/* A repeated key is refused, naming both items. */
static void keys_duplicate(void **state)
{
    (void)state;
    expect_error("[client]\nkeys = [\"a\", \"b\", \"a\"]", CFG_ERANGE,
                 "config.toml:2:19: client.keys[2] = \"a\" repeats client.keys[0]");
}

/* A key with a NUL byte is refused (the store's keys are C strings). */
static void keys_item_nul(void **state)
{
    (void)state;
    expect_error("[client]\nkeys = [\"a\\u0000b\"]", CFG_ERANGE,
                 "config.toml:2:9: client.keys[0] must not contain a NUL character");
}

/* A key longer than CFG_KEY_LEN_MAX bytes is refused. */
static void keys_item_too_long(void **state)
{
    (void)state;
    char doc[400];
    int n = snprintf(doc, sizeof doc, "client.keys = [\"");
    memset(doc + n, 'k', 257);
    snprintf(doc + n + 257, sizeof doc - (size_t)n - 257, "\"]");
    expect_error(doc, CFG_ERANGE,
                 "config.toml:1:16: client.keys[0] is 257 bytes long; at most 256 are allowed");
}

/* More than CFG_KEYS_MAX keys are refused. */
static void keys_too_many(void **state)
{
    (void)state;
    size_t cap = 16 + 10 * (CFG_KEYS_MAX + 1);
    char *doc = malloc(cap);
    size_t used = (size_t)snprintf(doc, cap, "client.keys = [");
    for (int i = 0; i <= CFG_KEYS_MAX; i++)
        used += (size_t)snprintf(doc + used, cap - used, "%s\"%d\"", i ? "," : "", i);
    snprintf(doc + used, cap - used, "]");
    expect_error(doc, CFG_ERANGE,
                 "config.toml:1:15: client.keys has 1001 items; at most 1000 are allowed");
    free(doc);
}

/* --- unknown keys ------------------------------------------------------------------------- */

/* A misspelt key gets the nearest known key suggested, at the key's place. */
static void unknown_key_suggested(void **state)
{
    (void)state;
    expect_error("num_clients = 2\n\nnum_node = 3\n", CFG_EUNKNOWN,
                 "config.toml:3:1: unknown key 'num_node'; did you mean 'num_nodes'?");
}

/* A misspelt key in a table is named by its full path. */
static void unknown_key_in_table(void **state)
{
    (void)state;
    expect_error(
        "[raft]\nheartbeat = 5\n", CFG_EUNKNOWN,
        "config.toml:2:1: unknown key 'raft.heartbeat'; did you mean 'raft.heartbeat_ms'?");
}

/* A known key written outside its table is pointed to its table. */
static void known_key_in_wrong_table(void **state)
{
    (void)state;
    expect_error("heartbeat_ms = 20\n", CFG_EUNKNOWN,
                 "config.toml:1:1: unknown key 'heartbeat_ms'; did you mean 'raft.heartbeat_ms'?");
}

/* A key far from every known key gets no guess. */
static void unknown_key_without_suggestion(void **state)
{
    (void)state;
    expect_error("[client]\nzzz = 1\n", CFG_EUNKNOWN,
                 "config.toml:2:1: unknown key 'client.zzz' (raft_kv --help-config lists them "
                 "all)");
}

/* A misspelt table is reported as a table. */
static void unknown_table_suggested(void **state)
{
    (void)state;
    expect_error("[rafts]\nheartbeat_ms = 5\n", CFG_EUNKNOWN,
                 "config.toml:1:2: unknown table 'rafts'; did you mean 'raft'?");
}

/* A section that does not exist is unknown (the message names it); [storage] exists now, and a
 * misspelt key in it gets a suggestion; its data_dir must be a non-empty string. */
static void unknown_table_storage(void **state)
{
    (void)state;
    expect_error("[storej]\nsync = true\n", CFG_EUNKNOWN,
                 "config.toml:1:2: unknown table 'storej' (raft_kv --help-config lists them "
                 "all)");
    expect_error("[storage]\nsync = true\n", CFG_EUNKNOWN,
                 "config.toml:2:1: unknown key 'storage.sync'; did you mean 'storage.fsync'?");
    struct cfg cfg;
    load_ok(&cfg, "[storage]\nkind = \"disk\"\ndata_dir = \"/tmp/x y\"\nfsync = false\n");
    assert_int_equal(cfg.storage.kind, CFG_STORAGE_DISK);
    assert_string_equal(cfg.storage.data_dir, "/tmp/x y");
    assert_false(cfg.storage.fsync);
    assert_int_equal(cfg.storage.snapshot_threshold, 10000);
    cfg_close(&cfg);
    load_ok(&cfg, "");
    assert_int_equal(cfg.storage.kind, CFG_STORAGE_MEMORY);
    assert_string_equal(cfg.storage.data_dir, "data");
    cfg_close(&cfg);
    expect_error("[storage]\ndata_dir = \"\"\n", CFG_ERANGE,
                 "config.toml:2:12: storage.data_dir must be a non-empty path of at most 4000 "
                 "bytes without NUL");
    expect_error("[storage]\ndata_dir = 3\n", CFG_ETYPE,
                 "config.toml:2:12: storage.data_dir must be a string, not an integer");
}

/* Only the first error is reported, in file order. */
static void first_error_reported(void **state)
{
    (void)state;
    expect_error("num_nodes = 0\nnum_node = 1\n", CFG_ERANGE,
                 "config.toml:1:13: num_nodes = 0 is out of range (1..255)");
}

/* --- settings checked against each other ------------------------------------------------- */

/* The election timeout range must not be empty: reported at the minimum. */
static void election_min_not_below_max(void **state)
{
    (void)state;
    expect_error("[raft]\nelection_timeout_ms_min = 300\n", CFG_ERANGE,
                 "config.toml:2:27: raft.election_timeout_ms_min = 300 must be less than "
                 "raft.election_timeout_ms_max = 300");
}

/* A maximum lowered below the default minimum is reported at the maximum. */
static void election_max_below_default_min(void **state)
{
    (void)state;
    expect_error("num_nodes = 3\n[raft]\nelection_timeout_ms_max = 100\n", CFG_ERANGE,
                 "config.toml:3:27: raft.election_timeout_ms_max = 100 must be greater than "
                 "raft.election_timeout_ms_min = 150");
}

/* The heartbeat must be below the minimum election timeout. */
static void heartbeat_not_below_election_min(void **state)
{
    (void)state;
    expect_error("[raft]\nheartbeat_ms = 150\n", CFG_ERANGE,
                 "config.toml:2:16: raft.heartbeat_ms = 150 must be less than "
                 "raft.election_timeout_ms_min = 150");
}

/* A minimum lowered below the default heartbeat is reported at the minimum. */
static void election_min_below_heartbeat(void **state)
{
    (void)state;
    expect_error("[raft]\nelection_timeout_ms_min = 40\n", CFG_ERANGE,
                 "config.toml:2:27: raft.election_timeout_ms_min = 40 must be greater than "
                 "raft.heartbeat_ms = 50");
}

/* A cross check is reported at the --set that broke it, not at the file. */
static void cross_check_names_set(void **state)
{
    (void)state;
    const char *sets[] = {"raft.election_timeout_ms_min=400", NULL};
    expect_set_error("[raft]\nelection_timeout_ms_min = 150\n", sets, CFG_ERANGE,
                     "--set 'raft.election_timeout_ms_min=400': raft.election_timeout_ms_min = "
                     "400 must be less than raft.election_timeout_ms_max = 300");
}

/* When both ends were set, the one set last is blamed: here the --set of the maximum. */
static void cross_check_blames_last_set(void **state)
{
    (void)state;
    const char *sets[] = {"raft.election_timeout_ms_max=100", NULL};
    expect_set_error("[raft]\nelection_timeout_ms_min = 120\nheartbeat_ms = 10\n", sets, CFG_ERANGE,
                     "--set 'raft.election_timeout_ms_max=100': raft.election_timeout_ms_max = "
                     "100 must be greater than raft.election_timeout_ms_min = 120");
}

/* A --set may repair what the file got wrong: checks run on the final values. */
static void set_repairs_cross_check(void **state)
{
    (void)state;
    struct cfg cfg;
    struct cfg_error err;
    const char *sets[] = {"raft.election_timeout_ms_max=500", NULL};
    assert_int_equal(load_set(&cfg, "[raft]\nelection_timeout_ms_min = 400\n", sets, &err), 0);
    assert_int_equal(cfg.raft.election_timeout_ms_max, 500);
    cfg_close(&cfg);
}

/* --- errors from --set -------------------------------------------------------------------- */

/* A --set of the wrong type is named by its argument. */
static void set_wrong_type(void **state)
{
    (void)state;
    const char *sets[] = {"raft.heartbeat_ms=\"x\"", NULL};
    expect_set_error("", sets, CFG_ETYPE,
                     "--set 'raft.heartbeat_ms=\"x\"': raft.heartbeat_ms must be an integer, not "
                     "a string");
}

/* A --set out of range. */
static void set_out_of_range(void **state)
{
    (void)state;
    const char *sets[] = {"num_nodes=300", NULL};
    expect_set_error("", sets, CFG_ERANGE,
                     "--set 'num_nodes=300': num_nodes = 300 is out of range (1..255)");
}

/* A --set of an unknown key gets a suggestion too. */
static void set_unknown_key(void **state)
{
    (void)state;
    const char *sets[] = {"client.request=3", NULL};
    expect_set_error("", sets, CFG_EUNKNOWN,
                     "--set 'client.request=3': unknown key 'client.request'; did you mean "
                     "'client.requests'?");
}

/* A --set that is not TOML is a syntax error naming the argument and the column. */
static void set_syntax_error(void **state)
{
    (void)state;
    struct cfg cfg;
    struct cfg_error err;
    const char *sets[] = {"num_nodes=", NULL};
    assert_int_equal(load_set(&cfg, "", sets, &err), CFG_ESYNTAX);
    assert_memory_equal(err.msg, "--set 'num_nodes=': ", 20);
    assert_non_null(strstr(err.msg, "(at column 11)"));
    assert_null(cfg.path);
}

/* The file's errors come before the overrides are looked at. */
static void file_error_before_set(void **state)
{
    (void)state;
    const char *sets[] = {"num_nodes=3", NULL};
    expect_set_error("num_nodes = 0\n", sets, CFG_ERANGE,
                     "config.toml:1:13: num_nodes = 0 is out of range (1..255)");
}

/* --- files -------------------------------------------------------------------------------- */

/* A TOML syntax error is passed through with its FILE:LINE:COL. */
static void syntax_error_passed_through(void **state)
{
    (void)state;
    struct cfg cfg;
    struct cfg_error err;
    assert_int_equal(load_set(&cfg, "num_nodes = 3\nnum_clients = = 2\n", NULL, &err), CFG_ESYNTAX);
    assert_memory_equal(err.msg, "config.toml:2:", 14);
    assert_null(cfg.path);
}

/* A missing file names the file and the OS error. */
static void missing_file(void **state)
{
    (void)state;
    struct cfg cfg;
    struct cfg_error err;
    assert_int_equal(cfg_load(&cfg, "/nonexistent/raft_kv.toml", NULL, 0, &err), CFG_EIO);
    assert_string_equal(err.msg,
                        "cannot open '/nonexistent/raft_kv.toml': No such file or directory");
    assert_null(cfg.path);
}

/* A directory opens but cannot be read. */
static void directory_unreadable(void **state)
{
    (void)state;
    struct cfg cfg;
    struct cfg_error err;
    assert_int_equal(cfg_load(&cfg, "/", NULL, 0, &err), CFG_EIO);
    assert_string_equal(err.msg, "cannot read '/': Is a directory");
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/test_config_cfg.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* A real file is read, and its name is used in messages. */
static void file_loaded_and_named(void **state)
{
    (void)state;
    char *path = write_temp("num_nodes = 3\n[raft]\nheartbeat_ms = 0\n");
    struct cfg cfg;
    struct cfg_error err;
    char want[256];
    assert_int_equal(cfg_load(&cfg, path, NULL, 0, &err), CFG_ERANGE);
    snprintf(want, sizeof want, "%s:3:16: raft.heartbeat_ms = 0 is out of range (1..60000)", path);
    assert_string_equal(err.msg, want);
    unlink(path);
    free(path);
}

/* A file larger than 4 KiB (the first read) is read whole. */
static void large_file_read_whole(void **state)
{
    (void)state;
    size_t cap = 20000;
    char *text = malloc(cap);
    size_t used = 0;
    for (int i = 0; i < 500; i++)
        used += (size_t)snprintf(text + used, cap - used, "# comment line %d\n", i);
    snprintf(text + used, cap - used, "num_nodes = 7\n");
    char *path = write_temp(text);
    struct cfg cfg;
    struct cfg_error err;
    assert_int_equal(cfg_load(&cfg, path, NULL, 0, &err), 0);
    assert_int_equal(cfg.num_nodes, 7);
    assert_string_equal(cfg.path, path);
    cfg_close(&cfg);
    unlink(path);
    free(path);
    free(text);
}

/* --- printing and helpers ----------------------------------------------------------------- */

/* cfg_print writes TOML that loads back to the same settings. */
static void print_round_trips(void **state)
{
    (void)state;
    struct cfg a, b;
    load_ok(&a, "num_nodes = 7\nmax_nodes = 9\nseed = 12\n"
                "[client]\nkeys = [\"q\\\"uote\", \"b\\\\s\", \"t\\tab\"]\n"
                "[raft]\nheartbeat_ms = 10\n[trace]\nformat = \"jsonl\"\ncolor = \"always\"\n");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cfg_print(out, &a, true);
    fclose(out);
    load_ok(&b, text);
    assert_int_equal(b.num_nodes, 7);
    assert_int_equal(b.max_nodes, 9);
    assert_true(b.seed_given);
    assert_int_equal(b.seed, 12);
    assert_int_equal(b.client.keys.len, 3);
    assert_string_equal(b.client.keys.items[0], "q\"uote");
    assert_string_equal(b.client.keys.items[1], "b\\s");
    assert_string_equal(b.client.keys.items[2], "t\tab");
    assert_int_equal(b.raft.heartbeat_ms, 10);
    assert_int_equal(b.trace.format, CFG_FORMAT_JSONL);
    assert_int_equal(b.trace.color, CFG_COLOR_ALWAYS);
    free(text);
    cfg_close(&a);
    cfg_close(&b);
}

/* cfg_print_summary of doc into a heap string. */
static char *summary_of_doc(const char *doc)
{
    struct cfg cfg;
    load_ok(&cfg, doc);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    cfg_print_summary(out, &cfg);
    fclose(out);
    cfg_close(&cfg);
    return text;
}

/* The summary names the sizes, the timing and the trace settings. */
static void summary_names_settings(void **state)
{
    (void)state;
    char *text = summary_of_doc("num_nodes = 3\n[trace]\nformat = \"jsonl\"\n");
    assert_non_null(strstr(text, "3 nodes, 3 clients x 5 requests, 5 keys (a b c d e)"));
    assert_non_null(strstr(text, "election timeout 150..300 ms, heartbeat 50 ms"));
    assert_non_null(strstr(text, "jsonl"));
    free(text);
}

/* Node ids beyond num_nodes are named in the summary. */
static void summary_names_max_nodes(void **state)
{
    (void)state;
    char *text = summary_of_doc("num_nodes = 3\nmax_nodes = 5\n");
    assert_non_null(strstr(text, ": 3 nodes (ids up to 5), 3 clients x 5 requests"));
    free(text);
}

/* cfg_word_allowed knows the words of enumerated settings and lists them on a miss. */
static void word_allowed(void **state)
{
    (void)state;
    int index = -1;
    char list[64];
    assert_true(cfg_word_allowed("trace.format", "jsonl", &index, list, sizeof list));
    assert_int_equal(index, CFG_FORMAT_JSONL);
    assert_false(cfg_word_allowed("trace.level", "loud", &index, list, sizeof list));
    assert_string_equal(list, "quiet, info, debug, messages");
    assert_false(cfg_word_allowed("num_nodes", "5", &index, NULL, 0));
    assert_false(cfg_word_allowed("nope.none", "x", &index, NULL, 0));
}

/* cfg_close may run twice. */
static void close_twice(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "");
    cfg_close(&cfg);
    cfg_close(&cfg);
    assert_null(cfg.client.keys.items);
}

/* Every status has a message. */
static void strerror_covers_codes(void **state)
{
    (void)state;
    assert_string_equal(cfg_strerror(CFG_OK), "ok");
    for (int code = CFG_EIO; code <= CFG_EUSAGE; code++)
        assert_string_not_equal(cfg_strerror(code), "unknown cfg status");
    assert_string_equal(cfg_strerror(99), "unknown cfg status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_file_gives_defaults),
        cmocka_unit_test(init_gives_defaults),
        cmocka_unit_test(file_sets_every_setting),
        cmocka_unit_test(max_nodes_defaults_to_num_nodes),
        cmocka_unit_test(max_nodes_read),
        cmocka_unit_test(max_nodes_out_of_range),
        cmocka_unit_test(max_nodes_below_num_nodes),
        cmocka_unit_test(num_nodes_above_max_nodes),
        cmocka_unit_test(range_limits_accepted),
        cmocka_unit_test(dotted_keys_and_inline_tables),
        cmocka_unit_test(set_overrides_file),
        cmocka_unit_test(later_set_wins),
        cmocka_unit_test(set_takes_toml_values),
        cmocka_unit_test(num_nodes_zero),
        cmocka_unit_test(num_nodes_too_many),
        cmocka_unit_test(num_nodes_int64_max),
        cmocka_unit_test(num_clients_too_many),
        cmocka_unit_test(seed_negative),
        cmocka_unit_test(heartbeat_zero),
        cmocka_unit_test(client_timeout_zero),
        cmocka_unit_test(value_size_zero),
        cmocka_unit_test(heartbeat_string),
        cmocka_unit_test(num_nodes_float),
        cmocka_unit_test(requests_bool),
        cmocka_unit_test(section_not_table),
        cmocka_unit_test(section_array_of_tables),
        cmocka_unit_test(trace_level_unknown_word),
        cmocka_unit_test(trace_format_wrong_case),
        cmocka_unit_test(trace_color_integer),
        cmocka_unit_test(keys_not_array),
        cmocka_unit_test(keys_empty),
        cmocka_unit_test(keys_item_not_string),
        cmocka_unit_test(keys_item_empty),
        cmocka_unit_test(keys_duplicate),
        cmocka_unit_test(keys_item_nul),
        cmocka_unit_test(keys_item_too_long),
        cmocka_unit_test(keys_too_many),
        cmocka_unit_test(unknown_key_suggested),
        cmocka_unit_test(unknown_key_in_table),
        cmocka_unit_test(known_key_in_wrong_table),
        cmocka_unit_test(unknown_key_without_suggestion),
        cmocka_unit_test(unknown_table_suggested),
        cmocka_unit_test(unknown_table_storage),
        cmocka_unit_test(first_error_reported),
        cmocka_unit_test(election_min_not_below_max),
        cmocka_unit_test(election_max_below_default_min),
        cmocka_unit_test(heartbeat_not_below_election_min),
        cmocka_unit_test(election_min_below_heartbeat),
        cmocka_unit_test(cross_check_names_set),
        cmocka_unit_test(cross_check_blames_last_set),
        cmocka_unit_test(set_repairs_cross_check),
        cmocka_unit_test(set_wrong_type),
        cmocka_unit_test(set_out_of_range),
        cmocka_unit_test(set_unknown_key),
        cmocka_unit_test(set_syntax_error),
        cmocka_unit_test(file_error_before_set),
        cmocka_unit_test(syntax_error_passed_through),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(directory_unreadable),
        cmocka_unit_test(file_loaded_and_named),
        cmocka_unit_test(large_file_read_whole),
        cmocka_unit_test(print_round_trips),
        cmocka_unit_test(summary_names_settings),
        cmocka_unit_test(summary_names_max_nodes),
        cmocka_unit_test(word_allowed),
        cmocka_unit_test(close_twice),
        cmocka_unit_test(strerror_covers_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
