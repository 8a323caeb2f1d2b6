/* test_config_cfg_faults.c - [[fault]] entries: every kind, the rules of each kind, node ids
 * against num_nodes and max_nodes, time order; printing them back; the summary line about faults.
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

/* A document with every fault kind and every issue 5 setting away from its default. */
static const char every_fault_doc[] =
    "num_nodes = 7\n"
    "[raft]\npre_vote = false\ncheck_quorum = false\n"
    "[network]\ndrop = 0.1\ndelay_ms = [3, 40]\n"
    "duplicate = 0.30000000000000004\nreorder = true\n"
    "[nemesis]\ninterval_ms = 250\nkinds = [\"slow\", \"crash\"]\n"
    "[check]\ninvariants = false\nlinearizability = false\n"
    "converge_ms = 600000\n"
    "[[fault]]\nat_ms = 0\nkind = \"crash\"\nnode = 7\n"
    "[[fault]]\nat_ms = 10\nkind = \"restart\"\nnode = 7\n"
    "[[fault]]\nat_ms = 10\nkind = \"partition\"\n"
    "groups = [[6, 2], [1], [7, 3]]\n"
    "[[fault]]\nat_ms = 20\nkind = \"isolate\"\nnode = 1\n"
    "[[fault]]\nat_ms = 30\nkind = \"slow\"\nnode = 2\n"
    "[[fault]]\nat_ms = 31\nkind = \"slow\"\nnode = 3\n"
    "slow_ms = 60000\n"
    "[[fault]]\nat_ms = 86400000\nkind = \"heal\"\n";

/* Membership faults (issue 16) over nodes 1..3 growing to 1..5. */
static const char membership_doc[] = "num_nodes = 3\n"
                                     "max_nodes = 5\n"
                                     "[[fault]]\nat_ms = 10\nkind = \"transfer\"\nnode = 2\n"
                                     "[[fault]]\nat_ms = 20\nkind = \"add\"\nnode = 4\n"
                                     "[[fault]]\nat_ms = 30\nkind = \"add\"\nnode = 5\n"
                                     "[[fault]]\nat_ms = 40\nkind = \"remove\"\nnode = 1\n"
                                     "[[fault]]\nat_ms = 50\nkind = \"partition\"\n"
                                     "groups = [[5, 2], [4]]\n"
                                     "[[fault]]\nat_ms = 60\nkind = \"crash\"\nnode = 5\n";

/* --- good values -------------------------------------------------------------------------- */

/* Every issue 5 setting and every fault kind is read from the file, faults in file order. */
static void file_sets_every_fault_setting(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, every_fault_doc);
    assert_false(cfg.raft.pre_vote);
    assert_false(cfg.raft.check_quorum);
    assert_true(cfg.network.drop == 0.1);
    assert_int_equal(cfg.network.delay_ms_min, 3);
    assert_int_equal(cfg.network.delay_ms_max, 40);
    assert_true(cfg.network.duplicate == 0.30000000000000004);
    assert_true(cfg.network.reorder);
    assert_int_equal(cfg.nemesis.interval_ms, 250);
    assert_int_equal(cfg.nemesis.kinds, BIT(CFG_FAULT_SLOW) | BIT(CFG_FAULT_CRASH));
    assert_false(cfg.check.invariants);
    assert_false(cfg.check.linearizability);
    assert_int_equal(cfg.check.converge_ms, 600000);
    assert_int_equal(cfg.n_faults, 7);
    const struct cfg_fault *f = cfg.faults;
    assert_int_equal(f[0].at_ms, 0);
    assert_int_equal(f[0].kind, CFG_FAULT_CRASH);
    assert_int_equal(f[0].node, 7);
    assert_int_equal(f[0].n_groups, 0);
    assert_int_equal(f[0].slow_ms, 0);
    assert_int_equal(f[1].kind, CFG_FAULT_RESTART);
    assert_int_equal(f[1].node, 7);
    assert_int_equal(f[2].at_ms, 10);
    assert_int_equal(f[2].kind, CFG_FAULT_PARTITION);
    assert_int_equal(f[2].node, 0);
    assert_int_equal(f[3].kind, CFG_FAULT_ISOLATE);
    assert_int_equal(f[3].node, 1);
    assert_int_equal(f[4].kind, CFG_FAULT_SLOW);
    assert_int_equal(f[4].node, 2);
    assert_int_equal(f[4].slow_ms, 100); /* the default of a slow fault */
    assert_int_equal(f[5].slow_ms, 60000);
    assert_int_equal(f[6].at_ms, 86400000);
    assert_int_equal(f[6].kind, CFG_FAULT_HEAL);
    assert_int_equal(f[6].node, 0);
    assert_int_equal(f[6].slow_ms, 0);
    cfg_close(&cfg);
}

/* groups fill group[]: node i+1's group number, 1.. in the order written; unlisted nodes 0. */
static void partition_groups_numbered_in_order(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, every_fault_doc);
    const struct cfg_fault *f = &cfg.faults[2];
    assert_int_equal(f->n_groups, 3);
    const uint8_t want[7] = {2, 1, 3, 0, 0, 1, 3};
    assert_memory_equal(f->group, want, sizeof want);
    for (size_t i = 7; i < CFG_NODES_MAX; i++)
        assert_int_equal(f->group[i], 0);
    cfg_close(&cfg);
}

/* transfer, add and remove each take a node, which may be any of 1..max_nodes, as may the
 * nodes of every other fault. */
static void membership_faults_read(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, membership_doc);
    assert_int_equal(cfg.num_nodes, 3);
    assert_int_equal(cfg.max_nodes, 5);
    assert_int_equal(cfg.n_faults, 6);
    static const struct {
        enum cfg_fault_kind kind;
        uint32_t node;
    } want_faults[4] = {
        {CFG_FAULT_TRANSFER, 2}, {CFG_FAULT_ADD, 4}, {CFG_FAULT_ADD, 5}, {CFG_FAULT_REMOVE, 1}};
    const struct cfg_fault *f = cfg.faults;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(f[i].kind, want_faults[i].kind);
        assert_int_equal(f[i].node, want_faults[i].node);
        assert_int_equal(f[i].n_groups, 0);
        assert_int_equal(f[i].slow_ms, 0);
    }
    const uint8_t want[5] = {0, 1, 0, 2, 1};
    assert_memory_equal(f[4].group, want, sizeof want);
    assert_int_equal(f[5].node, 5);
    cfg_close(&cfg);
}

/* One group is a partition too: the listed nodes against the rest. */
static void partition_single_group(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "[[fault]]\nat_ms = 1\nkind = \"partition\"\ngroups = [[3]]\n");
    assert_int_equal(cfg.faults[0].n_groups, 1);
    const uint8_t want[5] = {0, 0, 1, 0, 0};
    assert_memory_equal(cfg.faults[0].group, want, sizeof want);
    cfg_close(&cfg);
}

/* Faults at the same time keep their file order. */
static void faults_same_time_keep_order(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "[[fault]]\nat_ms = 5\nkind = \"heal\"\n"
                  "[[fault]]\nat_ms = 5\nkind = \"crash\"\nnode = 2\n"
                  "[[fault]]\nat_ms = 5\nkind = \"isolate\"\nnode = 1\n");
    assert_int_equal(cfg.n_faults, 3);
    assert_int_equal(cfg.faults[0].kind, CFG_FAULT_HEAL);
    assert_int_equal(cfg.faults[1].kind, CFG_FAULT_CRASH);
    assert_int_equal(cfg.faults[2].kind, CFG_FAULT_ISOLATE);
    cfg_close(&cfg);
}

/* An inline array of inline tables is the same as [[fault]] headers; an empty one is no
 * faults. */
static void faults_inline_array(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg,
            "fault = [{at_ms = 1, kind = \"crash\", node = 3}, {at_ms = 2, kind = \"heal\"}]\n");
    assert_int_equal(cfg.n_faults, 2);
    assert_int_equal(cfg.faults[0].node, 3);
    assert_int_equal(cfg.faults[1].kind, CFG_FAULT_HEAL);
    cfg_close(&cfg);
    load_ok(&cfg, "fault = []\n");
    assert_int_equal(cfg.n_faults, 0);
    cfg_close(&cfg);
}

/* A fault's node is checked against the final num_nodes: one written after the faults... */
static void fault_node_checked_against_later_num_nodes(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "fault = [{at_ms = 1, kind = \"crash\", node = 9}]\nnum_nodes = 9\n");
    assert_int_equal(cfg.faults[0].node, 9);
    cfg_close(&cfg);
}

/* ... or one given by --set. */
static void fault_node_checked_against_set_num_nodes(void **state)
{
    (void)state;
    struct cfg cfg;
    const char *sets[] = {"num_nodes=8", NULL};
    load_ok_set(&cfg,
                "[[fault]]\nat_ms = 1\nkind = \"partition\"\ngroups = [[1, 8]]\n"
                "[[fault]]\nat_ms = 2\nkind = \"slow\"\nnode = 8\n",
                sets);
    assert_int_equal(cfg.num_nodes, 8);
    assert_int_equal(cfg.faults[0].group[7], 1);
    assert_int_equal(cfg.faults[1].node, 8);
    cfg_close(&cfg);
}

/* CFG_FAULTS_MAX entries are accepted. */
static void faults_at_most_max(void **state)
{
    (void)state;
    size_t cap = 32 + 32 * (CFG_FAULTS_MAX + 1);
    char *doc = malloc(cap);
    size_t used = (size_t)snprintf(doc, cap, "fault = [");
    for (int i = 0; i < CFG_FAULTS_MAX; i++)
        used +=
            (size_t)snprintf(doc + used, cap - used, "%s{at_ms=%d,kind=\"heal\"}", i ? "," : "", i);
    snprintf(doc + used, cap - used, "]");
    struct cfg cfg;
    load_ok(&cfg, doc);
    assert_int_equal(cfg.n_faults, CFG_FAULTS_MAX);
    assert_int_equal(cfg.faults[CFG_FAULTS_MAX - 1].at_ms, CFG_FAULTS_MAX - 1);
    cfg_close(&cfg);
    free(doc);
}

/* --- --set -------------------------------------------------------------------------------- */

/* [[fault]] entries cannot be set from the command line, in either shape. */
static void set_fault_refused(void **state)
{
    (void)state;
    const char *dotted[] = {"fault.at_ms=5", NULL};
    expect_set_error("", dotted, CFG_EUNKNOWN,
                     "--set 'fault.at_ms=5': fault cannot be set with --set: write [[fault]] "
                     "entries in the config file");
    const char *whole[] = {"fault=[{at_ms=1,kind=\"heal\"}]", NULL};
    expect_set_error("[[fault]]\nat_ms = 1\nkind = \"heal\"\n", whole, CFG_EUNKNOWN,
                     "--set 'fault=[{at_ms=1,kind=\"heal\"}]': fault cannot be set with --set: "
                     "write [[fault]] entries in the config file");
}

/* --- [[fault]] errors --------------------------------------------------------------------- */

/* at_ms is required. */
static void fault_missing_at_ms(void **state)
{
    (void)state;
    expect_error("[[fault]]\nkind = \"crash\"\nnode = 1\n", CFG_ERANGE,
                 "config.toml:1:1: fault[0] (crash) has no at_ms");
}

/* kind is required; the message lists the kinds. */
static void fault_missing_kind(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 1\nkind = \"heal\"\n\n[[fault]]\nat_ms = 2\n", CFG_ERANGE,
                 "config.toml:5:1: fault[1] has no kind (one of crash, restart, partition, heal, "
                 "isolate, slow, transfer, add, remove)");
}

/* crash, restart, isolate, slow, transfer, add and remove need a node. */
static void fault_missing_node(void **state)
{
    (void)state;
    const char *kinds[] = {"crash", "restart", "isolate", "slow", "transfer", "add", "remove"};
    for (size_t i = 0; i < 7; i++) {
        char doc[128], want[128];
        snprintf(doc, sizeof doc, "[[fault]]\nat_ms = 1\nkind = \"%s\"\n", kinds[i]);
        snprintf(want, sizeof want, "config.toml:1:1: fault[0] (%s) has no node", kinds[i]);
        expect_error(doc, CFG_ERANGE, want);
    }
}

/* A partition needs groups. */
static void fault_missing_groups(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 1\nkind = \"partition\"\n", CFG_ERANGE,
                 "config.toml:1:1: fault[0] (partition) has no groups");
}

/* A key that the kind does not take is refused at the key, listing the keys it takes. */
static void fault_key_not_for_kind(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 1\nkind = \"crash\"\nnode = 1\ngroups = [[1]]\n", CFG_ERANGE,
                 "config.toml:5:1: fault[0].groups is not a key of a crash fault (it takes at_ms, "
                 "kind, node)");
    expect_error("[[fault]]\nat_ms = 1\nkind = \"partition\"\nnode = 1\ngroups = [[1]]\n",
                 CFG_ERANGE,
                 "config.toml:4:1: fault[0].node is not a key of a partition fault (it takes "
                 "at_ms, kind, groups)");
    expect_error("[[fault]]\nat_ms = 1\nkind = \"isolate\"\nnode = 1\nslow_ms = 5\n", CFG_ERANGE,
                 "config.toml:5:1: fault[0].slow_ms is not a key of an isolate fault (it takes "
                 "at_ms, kind, node)");
    expect_error("[[fault]]\nat_ms = 1\nkind = \"heal\"\nnode = 1\n", CFG_ERANGE,
                 "config.toml:4:1: fault[0].node is not a key of a heal fault (it takes at_ms, "
                 "kind)");
    expect_error("[[fault]]\nat_ms = 1\nkind = \"add\"\nnode = 1\nslow_ms = 5\n", CFG_ERANGE,
                 "config.toml:5:1: fault[0].slow_ms is not a key of an add fault (it takes at_ms, "
                 "kind, node)");
    expect_error("[[fault]]\nat_ms = 1\nkind = \"transfer\"\ngroups = [[1]]\nnode = 1\n",
                 CFG_ERANGE,
                 "config.toml:4:1: fault[0].groups is not a key of a transfer fault (it takes "
                 "at_ms, kind, node)");
}

/* An unknown key in a fault gets a suggestion that keeps the entry's index. */
static void fault_unknown_key_suggested(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 1\nkind = \"heal\"\n[[fault]]\nat_ms = 2\nkind = \"crash\"\n"
                 "nod = 1\n",
                 CFG_EUNKNOWN,
                 "config.toml:7:1: unknown key 'fault[1].nod'; did you mean 'fault[1].node'?");
    expect_error("[[fault]]\nat_ms = 1\nkind = \"heal\"\nzzz = 1\n", CFG_EUNKNOWN,
                 "config.toml:4:1: unknown key 'fault[0].zzz' (raft_kv --help-config lists them "
                 "all)");
}

/* A kind that does not exist, or is not a string. */
static void fault_bad_kind(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 1\nkind = \"explode\"\n", CFG_ERANGE,
                 "config.toml:3:8: fault[0].kind = \"explode\" is not one of crash, restart, "
                 "partition, heal, isolate, slow, transfer, add, remove");
    expect_error("[[fault]]\nat_ms = 1\nkind = 3\n", CFG_ETYPE,
                 "config.toml:3:8: fault[0].kind must be a string, not an integer");
}

/* at_ms is 0..86400000 and an integer. */
static void fault_at_ms_out_of_range(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 86400001\nkind = \"heal\"\n", CFG_ERANGE,
                 "config.toml:2:9: fault[0].at_ms = 86400001 is out of range (0..86400000)");
    expect_error("[[fault]]\nat_ms = 1.5\nkind = \"heal\"\n", CFG_ETYPE,
                 "config.toml:2:9: fault[0].at_ms must be an integer, not a float");
}

/* Faults must be listed in time order. */
static void fault_at_ms_decreasing(void **state)
{
    (void)state;
    expect_error(
        "[[fault]]\nat_ms = 500\nkind = \"heal\"\n[[fault]]\nat_ms = 499\nkind = \"heal\"\n",
        CFG_ERANGE,
        "config.toml:5:9: fault[1].at_ms = 499 is before fault[0].at_ms = 500; list "
        "[[fault]] entries in time order");
}

/* A node id is at least 1 and at most CFG_NODES_MAX even before num_nodes is known. */
static void fault_node_out_of_range(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 1\nkind = \"crash\"\nnode = 0\n", CFG_ERANGE,
                 "config.toml:4:8: fault[0].node = 0 is out of range (1..255)");
    expect_error("[[fault]]\nat_ms = 1\nkind = \"crash\"\nnode = 256\n", CFG_ERANGE,
                 "config.toml:4:8: fault[0].node = 256 is out of range (1..255)");
}

/* A node above the default num_nodes is refused at the node. */
static void fault_node_above_num_nodes(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 1\nkind = \"heal\"\n[[fault]]\nat_ms = 1\nkind = \"crash\"\n"
                 "node = 6\n",
                 CFG_ERANGE,
                 "config.toml:7:8: fault[1].node = 6 is out of range (1..num_nodes = 5)");
}

/* A --set num_nodes that leaves a fault's node out is reported at the node, naming the --set. */
static void fault_node_above_set_num_nodes(void **state)
{
    (void)state;
    const char *sets[] = {"num_nodes=3", NULL};
    expect_set_error("[[fault]]\nat_ms = 1\nkind = \"isolate\"\nnode = 4\n", sets, CFG_ERANGE,
                     "config.toml:4:8: fault[0].node = 4 is out of range (1..num_nodes = 3, "
                     "from --set 'num_nodes=3')");
}

/* num_nodes written after the faults is used, and named when it is too small. */
static void fault_node_above_later_num_nodes(void **state)
{
    (void)state;
    expect_error("fault = [{at_ms = 1, kind = \"restart\", node = 4}]\nnum_nodes = 3\n", CFG_ERANGE,
                 "config.toml:1:47: fault[0].node = 4 is out of range (1..num_nodes = 3, from "
                 "config.toml:2:13)");
}

/* With max_nodes above num_nodes, a node above max_nodes is refused at the node, naming
 * max_nodes and where it was set; so is a group member. */
static void fault_node_above_max_nodes(void **state)
{
    (void)state;
    expect_error("num_nodes = 3\nmax_nodes = 5\n"
                 "[[fault]]\nat_ms = 1\nkind = \"add\"\nnode = 5\n"
                 "[[fault]]\nat_ms = 1\nkind = \"add\"\nnode = 6\n",
                 CFG_ERANGE,
                 "config.toml:10:8: fault[1].node = 6 is out of range (1..max_nodes = 5, from "
                 "config.toml:2:13)");
    const char *sets[] = {"max_nodes=6", NULL};
    expect_set_error("[[fault]]\nat_ms = 1\nkind = \"partition\"\ngroups = [[1], [7, 6]]\n", sets,
                     CFG_ERANGE,
                     "config.toml:4:17: fault[0].groups[1][0] = 7 is out of range (1..max_nodes "
                     "= 6, from --set 'max_nodes=6')");
}

/* max_nodes written after the faults, or given by --set, lets them name nodes up to it. */
static void fault_node_checked_against_later_max_nodes(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "fault = [{at_ms = 1, kind = \"remove\", node = 9}]\nmax_nodes = 9\n");
    assert_int_equal(cfg.faults[0].node, 9);
    cfg_close(&cfg);
    const char *sets[] = {"max_nodes=8", NULL};
    load_ok_set(&cfg, "[[fault]]\nat_ms = 1\nkind = \"isolate\"\nnode = 8\n", sets);
    assert_int_equal(cfg.faults[0].node, 8);
    cfg_close(&cfg);
}

/* max_nodes = 0 is num_nodes, for faults too. */
static void fault_node_above_zero_max_nodes(void **state)
{
    (void)state;
    expect_error("max_nodes = 0\n[[fault]]\nat_ms = 1\nkind = \"transfer\"\nnode = 6\n", CFG_ERANGE,
                 "config.toml:5:8: fault[0].node = 6 is out of range (1..num_nodes = 5)");
}

/* A group member above num_nodes is reported at that member. */
static void fault_group_above_num_nodes(void **state)
{
    (void)state;
    const char *sets[] = {"num_nodes=4", NULL};
    expect_set_error("[[fault]]\nat_ms = 1\nkind = \"partition\"\ngroups = [[1, 2], [5, 3]]\n",
                     sets, CFG_ERANGE,
                     "config.toml:4:20: fault[0].groups[1][0] = 5 is out of range (1..num_nodes "
                     "= 4, from --set 'num_nodes=4')");
}

/* groups must be a non-empty array of non-empty arrays of integers. */
static void fault_groups_shape(void **state)
{
    (void)state;
    const char *head = "[[fault]]\nat_ms = 1\nkind = \"partition\"\n";
    char doc[256];
    snprintf(doc, sizeof doc, "%sgroups = \"1,2\"\n", head);
    expect_error(doc, CFG_ETYPE,
                 "config.toml:4:10: fault[0].groups must be an array, not a string");
    snprintf(doc, sizeof doc, "%sgroups = []\n", head);
    expect_error(doc, CFG_ERANGE, "config.toml:4:10: fault[0].groups must not be empty");
    snprintf(doc, sizeof doc, "%sgroups = [1, 2]\n", head);
    expect_error(doc, CFG_ETYPE,
                 "config.toml:4:11: fault[0].groups[0] must be an array, not an integer");
    snprintf(doc, sizeof doc, "%sgroups = [[1], []]\n", head);
    expect_error(doc, CFG_ERANGE, "config.toml:4:16: fault[0].groups[1] must not be empty");
    snprintf(doc, sizeof doc, "%sgroups = [[1, \"2\"]]\n", head);
    expect_error(doc, CFG_ETYPE,
                 "config.toml:4:15: fault[0].groups[0][1] must be an integer, not a string");
}

/* A group member is 1..CFG_NODES_MAX. */
static void fault_groups_id_out_of_range(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 1\nkind = \"partition\"\ngroups = [[1], [0]]\n", CFG_ERANGE,
                 "config.toml:4:17: fault[0].groups[1][0] = 0 is out of range (1..255)");
}

/* A node in two groups (or twice in one) is refused, naming where it was first. */
static void fault_groups_duplicate_node(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 1\nkind = \"partition\"\ngroups = [[1, 2], [3, 2]]\n",
                 CFG_ERANGE,
                 "config.toml:4:23: fault[0].groups[1][1] = 2 repeats fault[0].groups[0][1]");
    expect_error("[[fault]]\nat_ms = 1\nkind = \"partition\"\ngroups = [[4, 4]]\n", CFG_ERANGE,
                 "config.toml:4:15: fault[0].groups[0][1] = 4 repeats fault[0].groups[0][0]");
}

/* slow_ms is 1..60000. */
static void fault_slow_ms_out_of_range(void **state)
{
    (void)state;
    expect_error("[[fault]]\nat_ms = 1\nkind = \"slow\"\nnode = 1\nslow_ms = 0\n", CFG_ERANGE,
                 "config.toml:5:11: fault[0].slow_ms = 0 is out of range (1..60000)");
}

/* fault must be an array of tables. */
static void fault_not_array_of_tables(void **state)
{
    (void)state;
    expect_error("fault = 1\n", CFG_ETYPE,
                 "config.toml:1:9: fault must be an array of tables, not an integer");
    expect_error("[fault]\nat_ms = 1\n", CFG_ETYPE,
                 "config.toml:1:1: fault must be an array of tables, not a table");
    expect_error("fault = [{at_ms = 1, kind = \"heal\"}, 2]\n", CFG_ETYPE,
                 "config.toml:1:38: fault[1] must be a table, not an integer");
}

/* More than CFG_FAULTS_MAX entries are refused. */
static void faults_too_many(void **state)
{
    (void)state;
    size_t cap = 32 + 32 * (CFG_FAULTS_MAX + 2);
    char *doc = malloc(cap);
    size_t used = (size_t)snprintf(doc, cap, "fault = [");
    for (int i = 0; i <= CFG_FAULTS_MAX; i++)
        used += (size_t)snprintf(doc + used, cap - used, "%s{at_ms=1,kind=\"heal\"}", i ? "," : "");
    snprintf(doc + used, cap - used, "]");
    char want[128];
    snprintf(want, sizeof want, "config.toml:1:9: fault has %d entries; at most %d are allowed",
             CFG_FAULTS_MAX + 1, CFG_FAULTS_MAX);
    expect_error(doc, CFG_ERANGE, want);
    free(doc);
}

/* --- printing ----------------------------------------------------------------------------- */

/* cfg_print, with and without docs, loads back to equal settings, faults (membership ones too)
 * and max_nodes included; printing the reloaded cfg gives the same text. */
static void print_round_trips_faults(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        bool docs = i % 2;
        struct cfg a, b;
        load_ok(&a, i < 2 ? every_fault_doc : membership_doc);
        char *text = print_to_string(&a, docs);
        load_ok(&b, text);
        assert_same_fault_settings(&a, &b);
        assert_int_equal(b.num_nodes, a.num_nodes);
        assert_int_equal(b.max_nodes, a.max_nodes);
        char *again = print_to_string(&b, docs);
        assert_string_equal(text, again);
        free(text);
        free(again);
        cfg_close(&a);
        cfg_close(&b);
    }
}

/* Membership faults are printed with their node, and max_nodes as it is. */
static void print_membership_faults(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, membership_doc);
    char *text = print_to_string(&cfg, false);
    assert_non_null(strstr(text, "\nmax_nodes = 5\n"));
    assert_non_null(strstr(text, "\n[[fault]]\nat_ms = 10\nkind = \"transfer\"\nnode = 2\n\n"));
    assert_non_null(strstr(text, "\n[[fault]]\nat_ms = 20\nkind = \"add\"\nnode = 4\n\n"));
    assert_non_null(strstr(text, "\n[[fault]]\nat_ms = 40\nkind = \"remove\"\nnode = 1\n\n"));
    free(text);
    cfg_close(&cfg);
}

/* Each fault is printed with the keys of its kind only. */
static void print_fault_keys_of_kind(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, every_fault_doc);
    char *text = print_to_string(&cfg, false);
    assert_non_null(strstr(text, "\n[[fault]]\nat_ms = 0\nkind = \"crash\"\nnode = 7\n\n"));
    assert_non_null(strstr(text, "\n[[fault]]\nat_ms = 10\nkind = \"partition\"\n"
                                 "groups = [[2, 6], [1], [3, 7]]\n\n"));
    assert_non_null(
        strstr(text, "\n[[fault]]\nat_ms = 30\nkind = \"slow\"\nnode = 2\nslow_ms = 100\n\n"));
    assert_non_null(strstr(text, "\n[[fault]]\nat_ms = 86400000\nkind = \"heal\"\n"));
    assert_non_null(strstr(text, "\n[network]\ndrop = 0.1\ndelay_ms = [3, 40]\n"
                                 "duplicate = 0.30000000000000004\nreorder = true\n"));
    assert_non_null(strstr(text, "kinds = [\"crash\", \"slow\"]\n"));
    free(text);
    cfg_close(&cfg);
}

/* --- summary and helpers ------------------------------------------------------------------ */

/* An unreliable network, faults and a nemesis add a third line naming them. */
static void summary_names_faults(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, every_fault_doc);
    char *text = summary_of(&cfg);
    assert_non_null(strstr(text, "\nnetwork: drop 0.1, delay 3..40 ms, duplicate "
                                 "0.30000000000000004, reorder on; faults: 7 scheduled; nemesis: "
                                 "every 250 ms (crash, slow)\n"));
    assert_non_null(strstr(text, "raft: election timeout 150..300 ms, heartbeat 50 ms;"));
    free(text);
    cfg_close(&cfg);
}

/* Scheduled faults alone: the network is reliable and the nemesis off. */
static void summary_faults_only(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "[[fault]]\nat_ms = 1\nkind = \"heal\"\n");
    char *text = summary_of(&cfg);
    assert_non_null(strstr(text, "\nnetwork: reliable; faults: 1 scheduled; nemesis: off\n"));
    free(text);
    cfg_close(&cfg);
}

/* fault.kind is an enumerated setting for cfg_word_allowed. */
static void word_allowed_fault_kind(void **state)
{
    (void)state;
    int index = -1;
    char list[128];
    assert_true(cfg_word_allowed("fault.kind", "partition", &index, list, sizeof list));
    assert_int_equal(index, CFG_FAULT_PARTITION);
    assert_false(cfg_word_allowed("fault.kind", "boom", &index, list, sizeof list));
    assert_string_equal(list, "crash, restart, partition, heal, isolate, slow, transfer, add, "
                              "remove");
}

/* cfg_close frees the faults and may run twice. */
static void close_frees_faults(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, every_fault_doc);
    cfg_close(&cfg);
    assert_null(cfg.faults);
    assert_int_equal(cfg.n_faults, 0);
    cfg_close(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_sets_every_fault_setting),
        cmocka_unit_test(partition_groups_numbered_in_order),
        cmocka_unit_test(membership_faults_read),
        cmocka_unit_test(partition_single_group),
        cmocka_unit_test(faults_same_time_keep_order),
        cmocka_unit_test(faults_inline_array),
        cmocka_unit_test(fault_node_checked_against_later_num_nodes),
        cmocka_unit_test(fault_node_checked_against_set_num_nodes),
        cmocka_unit_test(faults_at_most_max),
        cmocka_unit_test(set_fault_refused),
        cmocka_unit_test(fault_missing_at_ms),
        cmocka_unit_test(fault_missing_kind),
        cmocka_unit_test(fault_missing_node),
        cmocka_unit_test(fault_missing_groups),
        cmocka_unit_test(fault_key_not_for_kind),
        cmocka_unit_test(fault_unknown_key_suggested),
        cmocka_unit_test(fault_bad_kind),
        cmocka_unit_test(fault_at_ms_out_of_range),
        cmocka_unit_test(fault_at_ms_decreasing),
        cmocka_unit_test(fault_node_out_of_range),
        cmocka_unit_test(fault_node_above_num_nodes),
        cmocka_unit_test(fault_node_above_set_num_nodes),
        cmocka_unit_test(fault_node_above_later_num_nodes),
        cmocka_unit_test(fault_node_above_max_nodes),
        cmocka_unit_test(fault_node_checked_against_later_max_nodes),
        cmocka_unit_test(fault_node_above_zero_max_nodes),
        cmocka_unit_test(fault_group_above_num_nodes),
        cmocka_unit_test(fault_groups_shape),
        cmocka_unit_test(fault_groups_id_out_of_range),
        cmocka_unit_test(fault_groups_duplicate_node),
        cmocka_unit_test(fault_slow_ms_out_of_range),
        cmocka_unit_test(fault_not_array_of_tables),
        cmocka_unit_test(faults_too_many),
        cmocka_unit_test(print_round_trips_faults),
        cmocka_unit_test(print_membership_faults),
        cmocka_unit_test(print_fault_keys_of_kind),
        cmocka_unit_test(summary_names_faults),
        cmocka_unit_test(summary_faults_only),
        cmocka_unit_test(word_allowed_fault_kind),
        cmocka_unit_test(close_frees_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
