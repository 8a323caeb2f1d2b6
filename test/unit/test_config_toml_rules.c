/* test_config_toml_rules.c - the TOML table-definition rules: which documents may define, extend
 * or append to a table, checked case by case with the reason for each rejection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/toml.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct rule_case {
    const char *src;
    const char *path; /* valid: a path that must hold an integer */
    int64_t want;     /* valid: its value */
    const char *why;  /* invalid: the whole message after "t.toml:" */
};

/* Documents the rules allow, each with one value that proves where things went. */
static const struct rule_case allowed[] = {
    {"[a.b]\nx = 1\n[a]\ny = 2\n", "a.b.x", 1, NULL},       /* super-table after sub-table */
    {"[a.b.c]\n[a.b]\nx = 3\n", "a.b.x", 3, NULL},          /* implicit middle defined later */
    {"a.b.c = 1\na.b.d = 2\n", "a.b.d", 2, NULL},           /* dotted keys share a table */
    {"a.b = 1\n[a.c]\nx = 4\n", "a.c.x", 4, NULL},          /* header below a dotted table */
    {"[t]\nu.v = 1\n[t.u.w]\nx = 5\n", "t.u.w.x", 5, NULL}, /* same, one level down */
    {"[a.b.c]\n[a]\nb.d = 6\n", "a.b.d", 6, NULL},          /* dotted key into an implicit table */
    {"[[a]]\n[a.b]\nx = 7\n", "a", 0, NULL},                /* sub-table of an array element */
    {"[[a]]\n[[a.b]]\n[[a]]\n[[a.b]]\n", "a", 0, NULL},     /* nested arrays of tables */
    {"[[a]]\nb.c = 1\n[[a]]\nb.c = 2\n", "a", 0, NULL},     /* dotted keys per element */
    {"x = {a = 1, b.c = 8}\n", "x.b.c", 8, NULL},           /* dotted keys inside inline */
    {"a = [{b = 1}, {b = 2}]\n", "a", 0, NULL},             /* static array of inline tables */
    {"[a]\n[b]\n[a.c]\nx = 9\n", "a.c.x", 9, NULL},         /* tables in any order */
    {"\"a\".'b' = 10\n", "a.b", 10, NULL},                  /* quoted segments */
    {"[a.\"b\"]\nx = 11\n", "a.b.x", 11, NULL},             /* quoted header segment */
    {"a = 1\n[t]\na = 12\n", "t.a", 12, NULL},              /* same key, other table */
};

/* Each allowed document parses, and its probe value sits where the rules put it. */
static void allowed_definitions_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(allowed); i++) {
        struct toml_table *root;
        struct toml_error err;
        int rc = toml_parse_buffer(allowed[i].src, strlen(allowed[i].src), "t.toml", &root, &err);
        if (rc != 0)
            fail_msg("case %zu <<%s>> rejected: %s", i, allowed[i].src, err.msg);
        if (allowed[i].want != 0) {
            int64_t v = 0;
            assert_int_equal(toml_get_int(root, allowed[i].path, NULL, &v, NULL), TOML_OK);
            assert_int_equal(v, allowed[i].want);
        } else {
            assert_non_null(toml_lookup(root, allowed[i].path));
        }
        toml_free(root);
    }
}

/* Documents the rules forbid, with the exact reason. */
static const struct rule_case forbidden[] = {
    {"[a]\n[a]\n", NULL, 0, "2:1: table 'a' defined twice"},
    {"[a.b]\n[a.b]\n", NULL, 0, "2:1: table 'b' defined twice"},
    {"[a.b]\n[a]\n[a]\n", NULL, 0, "3:1: table 'a' defined twice"},
    {"a.b = 1\n[a]\n", NULL, 0, "2:1: table 'a' was already defined by dotted keys"},
    {"[x]\na.b = 1\n[x.a]\n", NULL, 0, "3:1: table 'a' was already defined by dotted keys"},
    {"[a.b.c]\n[a]\nb.c.t = 1\n", NULL, 0,
     "3:3: cannot add keys to table 'c' with a dotted key: it is defined by a [header]"},
    {"[a.b]\n[a]\nb.x = 1\n", NULL, 0,
     "3:1: cannot add keys to table 'b' with a dotted key: it is defined by a [header]"},
    {"[a.b.c]\n[a]\nb.d = 1\n[a.b]\n", NULL, 0,
     "4:1: table 'b' was already defined by dotted keys"},
    {"a = {}\n[a]\n", NULL, 0, "2:1: table 'a' was already defined as an inline table"},
    {"a = {b = {}}\na.b.c = 1\n", NULL, 0, "2:1: cannot add keys to inline table 'a'"},
    {"a = {b.c = 1}\n[a.b]\n", NULL, 0, "2:2: cannot extend inline table 'a'"},
    {"a = {x = 1, x.y = 2}\n", NULL, 0,
     "1:13: key 'x' is already defined as an integer, not a table"},
    {"a = []\n[[a]]\n", NULL, 0, "2:3: cannot append to static array 'a' with [[a]]"},
    {"a = [{}]\n[a.b]\n", NULL, 0,
     "2:2: key 'a' is a static array, not a table or array of tables"},
    {"[a]\n[[a]]\n", NULL, 0, "2:3: 'a' is already defined as a table, not an array of tables"},
    {"[[a]]\n[a]\n", NULL, 0, "2:1: 'a' is an array; [a] cannot define it as a table"},
    {"a = 1\n[[a]]\n", NULL, 0,
     "2:3: 'a' is already defined as an integer, not an array of tables"},
    {"[[a]]\n[a.b]\n[a.b]\n", NULL, 0, "3:1: table 'b' defined twice"},
    {"[[a]]\nx = 1\nx = 2\n", NULL, 0, "3:1: duplicate key 'x'"},
    {"[a]\nb = 1\n[a.b]\n", NULL, 0, "3:4: key 'b' is already defined as an integer, not a table"},
    {"[a.b]\n[a]\nb = 1\n", NULL, 0, "3:1: duplicate key 'b'"},
    {"a.b = 1\na = 2\n", NULL, 0, "2:1: duplicate key 'a'"},
    {"a = 1\n'a' = 2\n", NULL, 0, "2:1: duplicate key 'a'"},
    {"s = 'x'\ns.t = 1\n", NULL, 0, "2:1: key 's' is already defined as a string, not a table"},
    {"d = 2000-01-01T00:00:00Z\n[d.e]\n", NULL, 0,
     "2:2: key 'd' is already defined as an offset date-time, not a table"},
};

/* Each forbidden document is rejected with the exact position and reason. */
static void forbidden_definitions_fail(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(forbidden); i++) {
        struct toml_table *root = NULL;
        struct toml_error err;
        int rc =
            toml_parse_buffer(forbidden[i].src, strlen(forbidden[i].src), "t.toml", &root, &err);
        if (rc != TOML_ESYNTAX)
            fail_msg("case %zu <<%s>> accepted", i, forbidden[i].src);
        assert_null(root);
        char want[600];
        snprintf(want, sizeof want, "t.toml:%s", forbidden[i].why);
        if (strcmp(err.msg, want) != 0)
            fail_msg("case %zu <<%s>>:\n  got  %s\n  want %s", i, forbidden[i].src, err.msg, want);
    }
}

/* Builds "k0 = 0\nk1 = 1\n..." with n keys, then extra; the caller frees it. */
static char *many_keys(int n, const char *extra)
{
    size_t cap = (size_t)n * 24 + strlen(extra) + 1;
    char *s = malloc(cap);
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "k%d = %d\n", i, i);
    snprintf(s + len, cap - len, "%s", extra);
    return s;
}

/* In a large (hash-indexed) table every key is found and a late duplicate is still caught. */
static void large_table_keys_are_unique(void **state)
{
    (void)state;
    char *src = many_keys(5000, "");
    struct toml_table *root;
    struct toml_error err;
    assert_int_equal(toml_parse_buffer(src, strlen(src), "t.toml", &root, &err), TOML_OK);
    assert_int_equal(root->len, 5000);
    assert_int_equal(toml_table_get(root, "k4321")->u.integer, 4321);
    toml_free(root);
    free(src);
    src = many_keys(5000, "k17 = 1\n");
    assert_int_equal(toml_parse_buffer(src, strlen(src), "t.toml", &root, &err), TOML_ESYNTAX);
    assert_string_equal(err.msg, "t.toml:5001:1: duplicate key 'k17'");
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allowed_definitions_parse),
        cmocka_unit_test(forbidden_definitions_fail),
        cmocka_unit_test(large_table_keys_are_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
