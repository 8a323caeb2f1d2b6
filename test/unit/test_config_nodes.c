/* test_config_nodes.c - [[node]] tables (the networked cluster): a good cluster loaded and
 * sorted, every rule's message, num_nodes and max_nodes against the tables, joining tables
 * (join = true), printing back, cfg_split_address.
 */
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

/* One [[node]] table in five lines: header, id, raft, http, data_dir. */
#define NODE(id, raft, http, dir)                                                                  \
    "[[node]]\nid = " #id "\nraft = \"" raft "\"\nhttp = \"" http "\"\ndata_dir = \"" dir "\"\n"

/* Three good tables, out of id order, on lines 1-15. */
#define GOOD3                                                                                      \
    NODE(3, "10.0.0.3:7003", "10.0.0.3:8003", "data/node3")                                        \
    NODE(1, "[::1]:7001", "localhost:8001", "/var/lib/raft_kv/node1")                              \
    NODE(2, "node-2.example_net:7002", "[fe80::1%eth0]:8002", "data/node2")

/* Loading fails with code, a message that starts with place (FILE:LINE:COL or the --set) and
 * holds what, and leaves nothing allocated in cfg. */
static void expect_node_error(const char *doc, const char *const *sets, int code, const char *place,
                              const char *what)
{
    struct cfg cfg;
    struct cfg_error err = {""};
    int rc = load_set(&cfg, doc, sets, &err);
    if (strncmp(err.msg, place, strlen(place)) != 0 || strstr(err.msg, what) == NULL)
        fail_msg("message '%s' does not start with '%s' or lacks '%s'", err.msg, place, what);
    assert_int_equal(rc, code);
    assert_null(cfg.nodes);
    assert_int_equal(cfg.n_nodes, 0);
    assert_null(cfg.faults);
    assert_null(cfg.client.keys.items);
    assert_null(cfg.path);
}

static void assert_same_nodes(const struct cfg *a, const struct cfg *b)
{
    assert_int_equal(a->n_nodes, b->n_nodes);
    assert_int_equal(a->num_nodes, b->num_nodes);
    assert_int_equal(a->max_nodes, b->max_nodes);
    for (size_t i = 0; i < a->n_nodes; i++) {
        const struct cfg_node *x = &a->nodes[i], *y = &b->nodes[i];
        assert_int_equal(x->id, y->id);
        assert_string_equal(x->raft, y->raft);
        assert_string_equal(x->http, y->http);
        assert_string_equal(x->data_dir, y->data_dir);
        assert_int_equal(x->join, y->join);
        assert_string_equal(x->raft_host, y->raft_host);
        assert_int_equal(x->raft_port, y->raft_port);
        assert_string_equal(x->http_host, y->http_host);
        assert_int_equal(x->http_port, y->http_port);
    }
}

/* --- good tables -------------------------------------------------------------------------- */

/* Three tables load with every field, sorted by id, and num_nodes becomes 3. */
static void good_cluster_loads_sorted(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, GOOD3);
    assert_int_equal(cfg.n_nodes, 3);
    assert_int_equal(cfg.num_nodes, 3);
    const struct cfg_node *n = cfg.nodes;
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(n[i].id, i + 1);
    assert_string_equal(n[0].raft, "[::1]:7001");
    assert_string_equal(n[0].raft_host, "::1");
    assert_int_equal(n[0].raft_port, 7001);
    assert_string_equal(n[0].http, "localhost:8001");
    assert_string_equal(n[0].http_host, "localhost");
    assert_int_equal(n[0].http_port, 8001);
    assert_string_equal(n[0].data_dir, "/var/lib/raft_kv/node1");
    assert_string_equal(n[1].raft_host, "node-2.example_net");
    assert_int_equal(n[1].raft_port, 7002);
    assert_string_equal(n[1].http, "[fe80::1%eth0]:8002");
    assert_string_equal(n[1].http_host, "fe80::1%eth0");
    assert_int_equal(n[1].http_port, 8002);
    assert_string_equal(n[1].data_dir, "data/node2");
    assert_string_equal(n[2].raft, "10.0.0.3:7003");
    assert_string_equal(n[2].raft_host, "10.0.0.3");
    assert_int_equal(n[2].raft_port, 7003);
    assert_string_equal(n[2].http_host, "10.0.0.3");
    assert_int_equal(n[2].http_port, 8003);
    assert_string_equal(n[2].data_dir, "data/node3");
    cfg_close(&cfg);
}

/* The other settings keep their meaning beside the tables; an inline array works as well. */
static void nodes_beside_other_settings(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "num_clients = 2\n"
                  "node = [{id = 2, raft = \"h:2\", http = \"h:3\", data_dir = \"b\"},\n"
                  "        {id = 1, raft = \"h:1\", http = \"h:4\", data_dir = \"a\"}]\n"
                  "[raft]\nheartbeat_ms = 20\n");
    assert_int_equal(cfg.num_clients, 2);
    assert_int_equal(cfg.raft.heartbeat_ms, 20);
    assert_int_equal(cfg.n_nodes, 2);
    assert_int_equal(cfg.num_nodes, 2);
    assert_string_equal(cfg.nodes[0].data_dir, "a");
    assert_int_equal(cfg.nodes[1].raft_port, 2);
    cfg_close(&cfg);
}

/* A file without [[node]] is as before: no tables, num_nodes its own; an empty array is none. */
static void no_nodes_as_before(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "");
    assert_null(cfg.nodes);
    assert_int_equal(cfg.n_nodes, 0);
    assert_int_equal(cfg.num_nodes, 5);
    cfg_close(&cfg);
    load_ok(&cfg, "num_nodes = 7\nnode = []\n");
    assert_null(cfg.nodes);
    assert_int_equal(cfg.n_nodes, 0);
    assert_int_equal(cfg.num_nodes, 7);
    cfg_close(&cfg);
    cfg_init(&cfg);
    assert_null(cfg.nodes);
    assert_int_equal(cfg.n_nodes, 0);
    cfg_close(&cfg);
}

/* num_nodes equal to the number of tables is accepted, from the file or --set. */
static void num_nodes_equal_accepted(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "num_nodes = 3\n" GOOD3);
    assert_int_equal(cfg.num_nodes, 3);
    cfg_close(&cfg);
    const char *sets[] = {"num_nodes=3", NULL};
    load_ok_set(&cfg, "num_nodes = 9\n" GOOD3, sets); /* the --set wins, and agrees */
    assert_int_equal(cfg.num_nodes, 3);
    cfg_close(&cfg);
}

/* The number of tables is the num_nodes the other checks see (here a fault's node). */
static void num_nodes_from_tables_bounds_faults(void **state)
{
    (void)state;
    expect_node_error("[[fault]]\nat_ms = 1\nkind = \"crash\"\nnode = 4\n" GOOD3, NULL, CFG_ERANGE,
                      "config.toml:4:8: ", "fault[0].node = 4 is out of range (1..num_nodes = 3)");
}

/* CFG_NODES_MAX tables are accepted. */
static void nodes_at_most_max(void **state)
{
    (void)state;
    size_t cap = 128 * (CFG_NODES_MAX + 1);
    char *doc = malloc(cap);
    size_t used = 0;
    for (int i = CFG_NODES_MAX; i >= 1; i--)
        used += (size_t)snprintf(doc + used, cap - used,
                                 "[[node]]\nid = %d\nraft = \"h:%d\"\nhttp = \"h:%d\"\n"
                                 "data_dir = \"d%d\"\n",
                                 i, 10000 + i, 20000 + i, i);
    struct cfg cfg;
    load_ok(&cfg, doc);
    assert_int_equal(cfg.n_nodes, CFG_NODES_MAX);
    assert_int_equal(cfg.num_nodes, CFG_NODES_MAX);
    assert_int_equal(cfg.nodes[CFG_NODES_MAX - 1].id, CFG_NODES_MAX);
    assert_int_equal(cfg.nodes[CFG_NODES_MAX - 1].http_port, 20000 + CFG_NODES_MAX);
    cfg_close(&cfg);
    free(doc);
}

/* --- num_nodes against the tables --------------------------------------------------------- */

/* num_nodes in the file that differs is refused at num_nodes, naming both. */
static void num_nodes_differs_in_file(void **state)
{
    (void)state;
    expect_node_error("num_nodes = 5\n" GOOD3, NULL, CFG_ERANGE, "config.toml:1:13: ",
                      "num_nodes = 5 but 3 [[node]] tables are listed (from config.toml:2:1)");
}

/* ... and so is one from --set. */
static void num_nodes_differs_in_set(void **state)
{
    (void)state;
    const char *sets[] = {"num_nodes=4", NULL};
    expect_node_error(GOOD3, sets, CFG_ERANGE,
                      "--set 'num_nodes=4': ", "num_nodes = 4 but 3 [[node]] tables are listed");
}

/* --- joining tables (join = true) ---------------------------------------------------------- */

/* One more line after a NODE: the table joins later. */
#define JOIN "join = true\n"

/* Three initial tables and two joining ones, in any order: num_nodes 3 (the initial voters),
 * max_nodes 5 (every id); join = false is an initial table. */
static void join_tables_load(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, NODE(5, "h:5", "h:15", "e") JOIN GOOD3 NODE(4, "h:4", "h:14", "d") JOIN);
    assert_int_equal(cfg.n_nodes, 5);
    assert_int_equal(cfg.num_nodes, 3);
    assert_int_equal(cfg.max_nodes, 5);
    assert_int_equal(cfg_max_nodes(&cfg), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(cfg.nodes[i].id, i + 1);
        assert_int_equal(cfg.nodes[i].join, i >= 3);
    }
    assert_string_equal(cfg.nodes[3].data_dir, "d");
    cfg_close(&cfg);
    load_ok(&cfg, GOOD3 NODE(4, "h:4", "h:14", "d") "join = false\n");
    assert_int_equal(cfg.num_nodes, 4);
    assert_int_equal(cfg.max_nodes, 4);
    assert_false(cfg.nodes[3].join);
    cfg_close(&cfg);
}

/* Without join anywhere, max_nodes is the number of tables, as num_nodes is. */
static void no_join_max_nodes_is_tables(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, GOOD3);
    assert_int_equal(cfg.num_nodes, 3);
    assert_int_equal(cfg.max_nodes, 3);
    cfg_close(&cfg);
}

/* A joining table below an initial one is refused at its join, naming both tables. */
static void join_below_initial_refused(void **state)
{
    (void)state;
    expect_node_error(NODE(1, "h:1", "h:11", "a") NODE(2, "h:2", "h:12", "b")
                          NODE(3, "h:3", "h:13", "c") JOIN NODE(4, "h:4", "h:14", "d"),
                      NULL, CFG_ERANGE, "config.toml:16:8: ",
                      "node[2] (id = 3) has join = true but node[3] (id = 4) has not: the tables "
                      "without join are the initial voters and must have the lowest ids (1..k), "
                      "the joining ones the ids above them");
    /* Node 1 joining is refused too (the initial voters are 1..k). */
    expect_node_error(
        NODE(2, "h:2", "h:12", "b") NODE(1, "h:1", "h:11", "a") JOIN, NULL, CFG_ERANGE,
        "config.toml:11:8: ", "node[1] (id = 1) has join = true but node[0] (id = 2) has not");
}

/* At least one table has no join: someone must start the cluster. */
static void all_join_refused(void **state)
{
    (void)state;
    expect_node_error(NODE(1, "h:1", "h:11", "a") JOIN NODE(2, "h:2", "h:12", "b") JOIN, NULL,
                      CFG_ERANGE, "config.toml:1:1: ",
                      "every [[node]] table has join = true: at least one node must start the "
                      "cluster");
}

/* join is a boolean. */
static void join_wrong_type(void **state)
{
    (void)state;
    expect_node_error(NODE(1, "h:1", "h:11", "a") "join = 1\n", NULL, CFG_ETYPE,
                      "config.toml:6:8: ", "node[0].join must be a boolean, not an integer");
}

/* num_nodes, if given, must be the number of initial tables; max_nodes the number of tables. */
static void join_num_and_max_nodes(void **state)
{
    (void)state;
    static const char doc5[] =
        GOOD3 NODE(4, "h:4", "h:14", "d") JOIN NODE(5, "h:5", "h:15", "e") JOIN;
    struct cfg cfg;
    load_ok(&cfg, "num_nodes = 3\nmax_nodes = 5\n" GOOD3 NODE(4, "h:4", "h:14", "d")
                      JOIN NODE(5, "h:5", "h:15", "e") JOIN);
    assert_int_equal(cfg.num_nodes, 3);
    assert_int_equal(cfg.max_nodes, 5);
    cfg_close(&cfg);
    const char *num5[] = {"num_nodes=5", NULL};
    expect_node_error(doc5, num5, CFG_ERANGE, "--set 'num_nodes=5': ",
                      "num_nodes = 5 but 3 of the 5 [[node]] tables (from config.toml:1:1) have "
                      "no join: leave num_nodes out or make it 3");
    const char *max4[] = {"max_nodes=4", NULL};
    expect_node_error(doc5, max4, CFG_ERANGE, "--set 'max_nodes=4': ",
                      "max_nodes = 4 but 5 [[node]] tables are listed (from config.toml:1:1): "
                      "leave max_nodes out or make it 5");
    expect_node_error("max_nodes = 9\n" GOOD3, NULL, CFG_ERANGE,
                      "config.toml:1:13: ", "max_nodes = 9 but 3 [[node]] tables are listed");
}

/* A fault may name a joining node (ids up to max_nodes), not one past the tables. */
static void join_ids_bound_faults(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, "[[fault]]\nat_ms = 1\nkind = \"add\"\nnode = 4\n" GOOD3 NODE(4, "h:4", "h:14",
                                                                                "d") JOIN);
    assert_int_equal(cfg.faults[0].node, 4);
    cfg_close(&cfg);
    expect_node_error(
        "[[fault]]\nat_ms = 1\nkind = \"add\"\nnode = 5\n" GOOD3 NODE(4, "h:4", "h:14", "d") JOIN,
        NULL, CFG_ERANGE,
        "config.toml:4:8: ", "fault[0].node = 5 is out of range (1..max_nodes = 4");
}

/* join is printed where it is true only, and the print loads back to the same cluster. */
static void join_print_round_trips(void **state)
{
    (void)state;
    for (int docs = 0; docs <= 1; docs++) {
        struct cfg a, b;
        load_ok(&a, GOOD3 NODE(4, "h:4", "h:14", "d") JOIN);
        char *text = print_to_string(&a, docs);
        assert_non_null(strstr(text, "data_dir = \"d\"\njoin = true\n"));
        assert_null(strstr(text, "join = false"));
        load_ok(&b, text);
        assert_same_nodes(&a, &b);
        assert_int_equal(b.max_nodes, 4);
        assert_true(b.nodes[3].join);
        assert_false(b.nodes[2].join);
        if (docs)
            assert_non_null(strstr(text, "\n#   join: optional, default false: "));
        free(text);
        cfg_close(&a);
        cfg_close(&b);
    }
}

/* --- each table's keys -------------------------------------------------------------------- */

/* Every key is required; the message names the missing one (and the id when it is known). */
static void missing_key_named(void **state)
{
    (void)state;
    expect_node_error(NODE(1, "h:1", "h:2", "a") "[[node]]\nraft = \"h:3\"\nhttp = \"h:4\"\n"
                                                 "data_dir = \"b\"\n",
                      NULL, CFG_ERANGE, "config.toml:6:1: ",
                      "node[1] has no id; each [[node]] needs id, raft, http and data_dir");
    expect_node_error("[[node]]\nid = 1\nhttp = \"h:2\"\ndata_dir = \"a\"\n", NULL, CFG_ERANGE,
                      "config.toml:1:1: ", "node[0] (id = 1) has no raft");
    expect_node_error("[[node]]\nid = 1\nraft = \"h:2\"\ndata_dir = \"a\"\n", NULL, CFG_ERANGE,
                      "config.toml:1:1: ", "node[0] (id = 1) has no http");
    expect_node_error("[[node]]\nid = 1\nraft = \"h:1\"\nhttp = \"h:2\"\n", NULL, CFG_ERANGE,
                      "config.toml:1:1: ", "node[0] (id = 1) has no data_dir");
}

/* An unknown key gets a suggestion that keeps the table's index; so does a misspelt table. */
static void unknown_key_suggested(void **state)
{
    (void)state;
    expect_node_error(NODE(1, "h:1", "h:2", "a") "[[node]]\nid = 2\nraft = \"h:3\"\n"
                                                 "htp = \"h:4\"\n",
                      NULL, CFG_EUNKNOWN, "config.toml:9:1: ",
                      "unknown key 'node[1].htp'; did you mean 'node[1].http'?");
    expect_node_error("[[node]]\nid = 1\nport = 7\n", NULL, CFG_EUNKNOWN, "config.toml:3:1: ",
                      "unknown key 'node[0].port' (raft_kv --help-config lists them all)");
    expect_node_error("[[nodes]]\nid = 1\n", NULL, CFG_EUNKNOWN,
                      "config.toml:1:3: ", "unknown table 'nodes'; did you mean 'node'?");
}

/* Wrong types: an id that is not an integer, an address or data_dir that is not a string. */
static void wrong_types(void **state)
{
    (void)state;
    expect_node_error("[[node]]\nid = \"1\"\n", NULL, CFG_ETYPE,
                      "config.toml:2:6: ", "node[0].id must be an integer, not a string");
    expect_node_error("[[node]]\nid = 1\nraft = 7001\n", NULL, CFG_ETYPE,
                      "config.toml:3:8: ", "node[0].raft must be a string, not an integer");
    expect_node_error("[[node]]\nid = 1\ndata_dir = [\"a\"]\n", NULL, CFG_ETYPE,
                      "config.toml:3:12: ", "node[0].data_dir must be a string, not an array");
}

/* An id is 1..CFG_NODES_MAX before anything else. */
static void id_out_of_range(void **state)
{
    (void)state;
    expect_node_error("[[node]]\nid = 0\n", NULL, CFG_ERANGE,
                      "config.toml:2:6: ", "node[0].id = 0 is out of range (1..255)");
    expect_node_error("[[node]]\nid = 256\n", NULL, CFG_ERANGE,
                      "config.toml:2:6: ", "node[0].id = 256 is out of range (1..255)");
}

/* A malformed raft or http address is refused at its value. */
static void bad_address(void **state)
{
    (void)state;
    expect_node_error("[[node]]\nid = 1\nraft = \"127.0.0.1\"\n", NULL, CFG_ERANGE,
                      "config.toml:3:8: ", "node[0].raft = \"127.0.0.1\" is not host:port");
    expect_node_error("[[node]]\nid = 1\nraft = \"h:1\"\nhttp = \"::1:8001\"\n", NULL, CFG_ERANGE,
                      "config.toml:4:8: ", "node[0].http = \"::1:8001\" is not host:port");
    expect_node_error("[[node]]\nid = 1\nraft = \"h:70000\"\n", NULL, CFG_ERANGE,
                      "config.toml:3:8: ", "node[0].raft = \"h:70000\" is not host:port");
    /* A control character is shown escaped, so the message stays one line. */
    expect_node_error("[[node]]\nid = 1\nraft = \"h\\n:1\"\n", NULL, CFG_ERANGE,
                      "config.toml:3:8: ", "node[0].raft = \"h\\x0a:1\" is not host:port");
    expect_node_error("[[node]]\nid = 1\nraft = \"h:1\\u0000\"\n", NULL, CFG_ERANGE,
                      "config.toml:3:8: ", "node[0].raft = \"h:1\\x00\" is not host:port");
}

/* An empty data_dir is refused like any path. */
static void empty_data_dir(void **state)
{
    (void)state;
    expect_node_error(
        "[[node]]\nid = 1\nraft = \"h:1\"\nhttp = \"h:2\"\ndata_dir = \"\"\n", NULL, CFG_ERANGE,
        "config.toml:5:12: ", "node[0].data_dir must be a non-empty path of at most 4000 bytes");
}

/* --- the tables together ------------------------------------------------------------------ */

/* An id above the number of tables is refused at the id. */
static void id_above_count(void **state)
{
    (void)state;
    expect_node_error(
        NODE(1, "h:1", "h:2", "a") NODE(2, "h:3", "h:4", "b") NODE(5, "h:5", "h:6", "c"), NULL,
        CFG_ERANGE,
        "config.toml:12:6: ", "node[2].id = 5: the [[node]] ids must be 1..3, each once");
}

/* A repeated id is refused at the second, naming the first. */
static void id_repeated(void **state)
{
    (void)state;
    expect_node_error(NODE(2, "h:1", "h:2", "a") NODE(1, "h:3", "h:4", "b")
                          NODE(2, "h:5", "h:6", "c"),
                      NULL, CFG_ERANGE, "config.toml:12:6: ",
                      "node[2].id = 2 repeats node[0].id: the [[node]] ids must be 1..3, each "
                      "once");
}

/* No address twice: raft against raft, http against raft, and within one table. */
static void address_used_twice(void **state)
{
    (void)state;
    expect_node_error(NODE(1, "h:1", "h:2", "a") NODE(2, "h:1", "h:4", "b"), NULL, CFG_ERANGE,
                      "config.toml:8:8: ",
                      "node[1].raft = \"h:1\" is also node[0].raft = \"h:1\": every raft and "
                      "http address must be different");
    expect_node_error(NODE(1, "h:1", "h:2", "a") NODE(2, "h:3", "h:1", "b"), NULL, CFG_ERANGE,
                      "config.toml:9:8: ", "node[1].http = \"h:1\" is also node[0].raft = \"h:1\"");
    expect_node_error(NODE(1, "h:1", "h:2", "a") NODE(2, "h:2", "h:4", "b"), NULL, CFG_ERANGE,
                      "config.toml:8:8: ", "node[1].raft = \"h:2\" is also node[0].http = \"h:2\"");
    expect_node_error(NODE(1, "h:7", "h:7", "a"), NULL, CFG_ERANGE,
                      "config.toml:4:8: ", "node[0].http = \"h:7\" is also node[0].raft = \"h:7\"");
}

/* Hosts compare without case: LOCALHOST is localhost. Different hosts or ports are different. */
static void address_host_case_ignored(void **state)
{
    (void)state;
    expect_node_error(NODE(1, "localhost:1", "h:2", "a") NODE(2, "LOCALHOST:1", "h:4", "b"), NULL,
                      CFG_ERANGE, "config.toml:8:8: ",
                      "node[1].raft = \"LOCALHOST:1\" is also node[0].raft = \"localhost:1\"");
    struct cfg cfg;
    load_ok(&cfg,
            NODE(1, "localhost:1", "127.0.0.1:1", "a") NODE(2, "localhost:2", "[::1]:1", "b"));
    assert_int_equal(cfg.n_nodes, 2);
    cfg_close(&cfg);
}

/* No data_dir twice, also when written differently ("a/b/" is "./a//b"). */
static void data_dir_shared(void **state)
{
    (void)state;
    expect_node_error(NODE(1, "h:1", "h:2", "data/n") NODE(2, "h:3", "h:4", "data/n"), NULL,
                      CFG_ERANGE, "config.toml:10:12: ",
                      "node[1].data_dir = \"data/n\" is also node[0].data_dir = \"data/n\": every "
                      "node needs a data_dir of its own");
    expect_node_error(
        NODE(1, "h:1", "h:2", "a/b/") NODE(2, "h:3", "h:4", "x") NODE(3, "h:5", "h:6", "./a//b"),
        NULL, CFG_ERANGE,
        "config.toml:15:12: ", "node[2].data_dir = \"./a//b\" is also node[0].data_dir = \"a/b/\"");
    expect_node_error(NODE(1, "h:1", "h:2", "t\\tx") NODE(2, "h:3", "h:4", "t\\tx"), NULL,
                      CFG_ERANGE, "config.toml:10:12: ",
                      "node[1].data_dir = \"t\\x09x\" is also node[0].data_dir = \"t\\x09x\"");
    /* An absolute and a relative path, or a parent and its child, are different. */
    struct cfg cfg;
    load_ok(&cfg,
            NODE(1, "h:1", "h:2", "/a") NODE(2, "h:3", "h:4", "a") NODE(3, "h:5", "h:6", "a/b"));
    assert_int_equal(cfg.n_nodes, 3);
    cfg_close(&cfg);
}

/* More than CFG_NODES_MAX tables are refused. */
static void nodes_too_many(void **state)
{
    (void)state;
    size_t cap = 64 * (CFG_NODES_MAX + 2);
    char *doc = malloc(cap);
    size_t used = (size_t)snprintf(doc, cap, "node = [");
    for (int i = 1; i <= CFG_NODES_MAX + 1; i++)
        used += (size_t)snprintf(doc + used, cap - used, "%s{id=%d}", i > 1 ? "," : "", i);
    snprintf(doc + used, cap - used, "]");
    expect_node_error(doc, NULL, CFG_ERANGE,
                      "config.toml:1:8: ", "node has 256 tables; at most 255 are allowed");
    free(doc);
}

/* node must be an array of tables. */
static void not_array_of_tables(void **state)
{
    (void)state;
    expect_node_error("node = 1\n", NULL, CFG_ETYPE,
                      "config.toml:1:8: ", "node must be an array of tables, not an integer");
    expect_node_error("[node]\nid = 1\n", NULL, CFG_ETYPE,
                      "config.toml:1:1: ", "node must be an array of tables, not a table");
    expect_node_error("node = [{id = 1, raft = \"h:1\", http = \"h:2\", data_dir = \"a\"}, 2]\n",
                      NULL, CFG_ETYPE,
                      "config.toml:1:63: ", "node[1] must be a table, not an integer");
}

/* [[node]] tables cannot come from the command line, in either shape. */
static void set_node_refused(void **state)
{
    (void)state;
    const char *dotted[] = {"node.id=1", NULL};
    expect_node_error("", dotted, CFG_EUNKNOWN, "--set 'node.id=1': ",
                      "node cannot be set with --set: write [[node]] tables in the config file");
    const char *whole[] = {"node=[{id=1,raft=\"h:1\",http=\"h:2\",data_dir=\"a\"}]", NULL};
    expect_node_error(GOOD3, whole, CFG_EUNKNOWN, "--set 'node=[", "node cannot be set with --set");
}

/* --- printing ----------------------------------------------------------------------------- */

/* cfg_print, with and without docs, loads back to equal tables (in id order, with num_nodes),
 * and printing the reloaded cfg gives the same text. */
static void print_round_trips_nodes(void **state)
{
    (void)state;
    static const char doc[] =
        GOOD3 NODE(4, "h:1", "h:2", "q\\\"uote\\\\d \\u00e9") "[[fault]]\nat_ms = 1\n"
                                                              "kind = \"crash\"\nnode = 4\n";
    for (int docs = 0; docs <= 1; docs++) {
        struct cfg a, b;
        load_ok(&a, doc);
        assert_string_equal(a.nodes[3].data_dir, "q\"uote\\d \xc3\xa9");
        char *text = print_to_string(&a, docs);
        load_ok(&b, text);
        assert_same_nodes(&a, &b);
        assert_int_equal(b.num_nodes, 4);
        assert_int_equal(b.n_faults, 1);
        char *again = print_to_string(&b, docs);
        assert_string_equal(text, again);
        free(text);
        free(again);
        cfg_close(&a);
        cfg_close(&b);
    }
}

/* Each table is printed with every key, in id order. */
static void print_node_tables(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, GOOD3);
    char *text = print_to_string(&cfg, false);
    assert_non_null(strstr(text, "num_nodes = 3\n"));
    assert_non_null(strstr(text,
                           "\n[[node]]\nid = 1\nraft = \"[::1]:7001\"\n"
                           "http = \"localhost:8001\"\ndata_dir = \"/var/lib/raft_kv/node1\"\n"
                           "\n[[node]]\nid = 2\n"));
    assert_non_null(strstr(text, "\n[[node]]\nid = 3\nraft = \"10.0.0.3:7003\"\n"));
    free(text);
    cfg_close(&cfg);
}

/* --help-config documents every node key; the defaults list none and load back to none. */
static void help_config_documents_nodes(void **state)
{
    (void)state;
    struct cfg a, b;
    cfg_init(&a);
    char *text = print_to_string(&a, true);
    assert_non_null(strstr(text, "# [[node]]: one node of a networked cluster"));
    assert_non_null(strstr(text, "\n#   id: required: "));
    assert_non_null(strstr(text, "\n#   raft: required: "));
    assert_non_null(strstr(text, "\n#   http: required: "));
    assert_non_null(strstr(text, "\n#   data_dir: required: "));
    assert_non_null(strstr(text, "# (no [[node]] entries)\n"));
    assert_null(strstr(text, "\n[[node]]"));
    load_ok(&b, text);
    assert_int_equal(b.n_nodes, 0);
    assert_int_equal(b.num_nodes, 5);
    free(text);
    cfg_close(&a);
    cfg_close(&b);
}

/* cfg_close frees the tables and may run twice. */
static void close_frees_nodes(void **state)
{
    (void)state;
    struct cfg cfg;
    load_ok(&cfg, GOOD3);
    cfg_close(&cfg);
    assert_null(cfg.nodes);
    assert_int_equal(cfg.n_nodes, 0);
    cfg_close(&cfg);
}

/* --- cfg_split_address -------------------------------------------------------------------- */

static void expect_split(const char *addr, const char *host, uint16_t port)
{
    char h[CFG_HOST_LEN_MAX + 1];
    uint16_t p = 0;
    if (cfg_split_address(addr, h, sizeof h, &p) != 0)
        fail_msg("'%s' refused", addr);
    assert_string_equal(h, host);
    assert_int_equal(p, port);
}

static void expect_no_split(const char *addr)
{
    char h[CFG_HOST_LEN_MAX + 1] = "untouched";
    uint16_t p = 42;
    if (cfg_split_address(addr, h, sizeof h, &p) != -1)
        fail_msg("'%s' accepted as '%s' port %u", addr, h, (unsigned)p);
    assert_string_equal(h, "untouched");
    assert_int_equal(p, 42);
}

/* Names, IPv4 and bracketed IPv6 addresses split into host and port. */
static void split_good(void **state)
{
    (void)state;
    expect_split("127.0.0.1:7001", "127.0.0.1", 7001);
    expect_split("localhost:80", "localhost", 80);
    expect_split("[::1]:7001", "::1", 7001);
    expect_split("[::]:1", "::", 1);
    expect_split("[fe80::1%eth0]:9", "fe80::1%eth0", 9);
    expect_split("[::ffff:10.0.0.1]:65535", "::ffff:10.0.0.1", 65535);
    expect_split("My-Host_1.example.org:8080", "My-Host_1.example.org", 8080);
    char addr[CFG_HOST_LEN_MAX + 8], host[CFG_HOST_LEN_MAX + 1];
    memset(host, 'a', CFG_HOST_LEN_MAX);
    host[CFG_HOST_LEN_MAX] = '\0';
    snprintf(addr, sizeof addr, "%s:1", host);
    expect_split(addr, host, 1); /* 255 bytes of host */
}

/* Anything else is refused, leaving host and port untouched. */
static void split_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        ":80",      "host:",       "host:0", "host:65536", "host:+1",    "host:-1",   "host:12x",
        "::1:80",   "a b:1",       "",       "host",       "host:1:2",   "host: 1",   "host:1 ",
        "host:080", "host:999999", "[::1]",  "[::1]7001",  "[]:1",       "[::1:1",    "[1.2.3.4]:1",
        "[::1%]:1", "[::g]:1",     "h\tx:1", "h/x:1",      "http://h:1", "[[::1]]:1", "[::1]:1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_no_split(bad[i]);
    char addr[CFG_HOST_LEN_MAX + 8];
    memset(addr, 'a', CFG_HOST_LEN_MAX + 1);
    snprintf(addr + CFG_HOST_LEN_MAX + 1, 4, ":1");
    expect_no_split(addr); /* 256 bytes of host */
}

/* A host that does not fit host_len is refused. */
static void split_host_too_long_for_buffer(void **state)
{
    (void)state;
    char h[5] = "xxxx";
    uint16_t p = 0;
    assert_int_equal(cfg_split_address("abcde:1", h, sizeof h, &p), -1);
    assert_int_equal(cfg_split_address("abcd:1", h, sizeof h, &p), 0);
    assert_string_equal(h, "abcd");
    assert_int_equal(p, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_cluster_loads_sorted),
        cmocka_unit_test(nodes_beside_other_settings),
        cmocka_unit_test(no_nodes_as_before),
        cmocka_unit_test(num_nodes_equal_accepted),
        cmocka_unit_test(num_nodes_from_tables_bounds_faults),
        cmocka_unit_test(nodes_at_most_max),
        cmocka_unit_test(num_nodes_differs_in_file),
        cmocka_unit_test(num_nodes_differs_in_set),
        cmocka_unit_test(join_tables_load),
        cmocka_unit_test(no_join_max_nodes_is_tables),
        cmocka_unit_test(join_below_initial_refused),
        cmocka_unit_test(all_join_refused),
        cmocka_unit_test(join_wrong_type),
        cmocka_unit_test(join_num_and_max_nodes),
        cmocka_unit_test(join_ids_bound_faults),
        cmocka_unit_test(join_print_round_trips),
        cmocka_unit_test(missing_key_named),
        cmocka_unit_test(unknown_key_suggested),
        cmocka_unit_test(wrong_types),
        cmocka_unit_test(id_out_of_range),
        cmocka_unit_test(bad_address),
        cmocka_unit_test(empty_data_dir),
        cmocka_unit_test(id_above_count),
        cmocka_unit_test(id_repeated),
        cmocka_unit_test(address_used_twice),
        cmocka_unit_test(address_host_case_ignored),
        cmocka_unit_test(data_dir_shared),
        cmocka_unit_test(nodes_too_many),
        cmocka_unit_test(not_array_of_tables),
        cmocka_unit_test(set_node_refused),
        cmocka_unit_test(print_round_trips_nodes),
        cmocka_unit_test(print_node_tables),
        cmocka_unit_test(help_config_documents_nodes),
        cmocka_unit_test(close_frees_nodes),
        cmocka_unit_test(split_good),
        cmocka_unit_test(split_bad),
        cmocka_unit_test(split_host_too_long_for_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
