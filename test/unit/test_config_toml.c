/* test_config_toml.c - the TOML parser, value by value: every scalar form of the spec with its
 * exact value, and every way to get one wrong with its exact position and message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/toml.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Parses src (which must be valid) and returns the tree. */
static struct toml_table *parse_ok(const char *src)
{
    struct toml_table *root = NULL;
    struct toml_error err;
    int rc = toml_parse_buffer(src, strlen(src), "t.toml", &root, &err);
    if (rc != 0)
        print_error("unexpected error for <<%s>>: %s\n", src, err.msg);
    assert_int_equal(rc, TOML_OK);
    assert_non_null(root);
    return root;
}

/* Parses src (which must be invalid); returns the error. */
static struct toml_error parse_err(const char *src, size_t len)
{
    struct toml_table *root = (struct toml_table *)&root; /* must be reset to NULL */
    struct toml_error err;
    memset(&err, 0, sizeof err);
    int rc = toml_parse_buffer(src, len, "t.toml", &root, &err);
    if (rc == 0)
        print_error("accepted invalid <<%s>>\n", src);
    assert_int_equal(rc, TOML_ESYNTAX);
    assert_null(root);
    return err;
}

/* --- integers ------------------------------------------------------------------------------ */

static const struct {
    const char *src;
    int64_t want;
} int_cases[] = {
    {"v = 42", 42},
    {"v = +99", 99},
    {"v = -17", -17},
    {"v = 0", 0},
    {"v = -0", 0},
    {"v = 1_000_000", 1000000},
    {"v = 9223372036854775807", INT64_MAX},
    {"v = -9223372036854775808", INT64_MIN},
    {"v = 0xDEAD_beef", 0xdeadbeef},
    {"v = 0x7fffffffffffffff", INT64_MAX},
    {"v = 0o755", 0755},
    {"v = 0o0_1", 1},
    {"v = 0b1101_0110", 0xd6},
    {"v = 0x00", 0},
};

/* Every integer form decodes to its exact 64-bit value. */
static void integers_decode_exactly(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(int_cases); i++) {
        struct toml_table *root = parse_ok(int_cases[i].src);
        const struct toml_value *v = toml_table_get(root, "v");
        assert_non_null(v);
        assert_int_equal(v->type, TOML_INTEGER);
        if (v->u.integer != int_cases[i].want)
            fail_msg("%s: got %lld", int_cases[i].src, (long long)v->u.integer);
        toml_free(root);
    }
}

/* --- floats -------------------------------------------------------------------------------- */

static const struct {
    const char *src;
    double want;
} float_cases[] = {
    {"v = 1.0", 1.0},
    {"v = +3.1415", 3.1415},
    {"v = -0.01", -0.01},
    {"v = 5e+22", 5e22},
    {"v = 1e06", 1e6},
    {"v = -2E-2", -2e-2},
    {"v = 6.626e-34", 6.626e-34},
    {"v = 224_617.445_991_228", 224617.445991228},
    {"v = 1e1_0", 1e10},
    {"v = 0e0", 0.0},
    {"v = 1.7976931348623157e308", 1.7976931348623157e308},
    {"v = 5e-324", 5e-324},
};

/* Decimal floats with fractions, exponents and underscores decode to the nearest double. */
static void floats_decode_exactly(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(float_cases); i++) {
        struct toml_table *root = parse_ok(float_cases[i].src);
        const struct toml_value *v = toml_table_get(root, "v");
        assert_int_equal(v->type, TOML_FLOAT);
        if (v->u.flt != float_cases[i].want)
            fail_msg("%s: got %.17g", float_cases[i].src, v->u.flt);
        toml_free(root);
    }
}

/* inf and nan take an optional sign, which is kept. */
static void float_specials_keep_sign(void **state)
{
    (void)state;
    struct toml_table *root =
        parse_ok("a = inf\nb = +inf\nc = -inf\nd = nan\ne = -nan\nf = -0.0\n");
    const struct toml_value *a = toml_table_get(root, "a"), *b = toml_table_get(root, "b");
    const struct toml_value *c = toml_table_get(root, "c"), *d = toml_table_get(root, "d");
    const struct toml_value *e = toml_table_get(root, "e"), *f = toml_table_get(root, "f");
    assert_true(isinf(a->u.flt) && a->u.flt > 0);
    assert_true(isinf(b->u.flt) && b->u.flt > 0);
    assert_true(isinf(c->u.flt) && c->u.flt < 0);
    assert_true(isnan(d->u.flt) && !signbit(d->u.flt));
    assert_true(isnan(e->u.flt) && signbit(e->u.flt));
    assert_true(f->u.flt == 0.0 && signbit(f->u.flt));
    assert_int_equal(d->type, TOML_FLOAT);
    toml_free(root);
}

/* --- booleans ---------------------------------------------------------------------------- */

/* true and false are booleans. */
static void booleans_decode(void **state)
{
    (void)state;
    struct toml_table *root = parse_ok("t = true\nf = false");
    assert_int_equal(toml_table_get(root, "t")->type, TOML_BOOL);
    assert_true(toml_table_get(root, "t")->u.boolean);
    assert_false(toml_table_get(root, "f")->u.boolean);
    toml_free(root);
}

/* --- strings ------------------------------------------------------------------------------ */

static const struct {
    const char *src;
    const char *want;
    size_t want_len;
} string_cases[] = {
    {"v = \"plain\"", "plain", 5},
    {"v = \"\\b\\t\\n\\f\\r\\\"\\\\\"", "\b\t\n\f\r\"\\", 7},
    {"v = \"\\u00e9\\u20AC\"", "\xc3\xa9\xe2\x82\xac", 5},
    {"v = \"\\U0001F600\"", "\xf0\x9f\x98\x80", 4},
    {"v = \"\\U0010FFFF\"", "\xf4\x8f\xbf\xbf", 4},
    {"v = \"a\\u0000b\"", "a\0b", 3},
    {"v = \"tab\there\"", "tab\there", 8},
    {"v = 'C:\\path\\n'", "C:\\path\\n", 9},
    {"v = ''", "", 0},
    {"v = \"\"\"\none\ntwo\"\"\"", "one\ntwo", 7},
    {"v = \"\"\"one\r\ntwo\"\"\"", "one\ntwo", 7},
    {"v = \"\"\"a \\\n   \n  b\"\"\"", "a b", 3},
    {"v = \"\"\"a \\  \t\n  b\"\"\"", "a b", 3},
    {"v = \"\"\"x\"\"\"\"\"", "x\"\"", 3},
    {"v = \"\"\"\"x\"\"\"", "\"x", 2},
    {"v = '''\nraw \\n\n'''", "raw \\n\n", 7},
    {"v = '''it's''''", "it's'", 5},
    {"v = \"\xe6\x97\xa5\xe6\x9c\xac\"", "\xe6\x97\xa5\xe6\x9c\xac", 6},
};

/* Each string kind unescapes (or not) to the exact bytes, NUL included, with its length. */
static void strings_decode_exactly(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(string_cases); i++) {
        struct toml_table *root = parse_ok(string_cases[i].src);
        const struct toml_value *v = toml_table_get(root, "v");
        assert_int_equal(v->type, TOML_STRING);
        if (v->u.str.len != string_cases[i].want_len ||
            memcmp(v->u.str.ptr, string_cases[i].want, v->u.str.len) != 0)
            fail_msg("%s: got %zu bytes <<%s>>", string_cases[i].src, v->u.str.len, v->u.str.ptr);
        assert_int_equal(v->u.str.ptr[v->u.str.len], '\0');
        toml_free(root);
    }
}

/* --- dates and times ---------------------------------------------------------------------- */

static const struct {
    const char *src;
    enum toml_type type;
    int year, month, day, hour, minute, second, nanosecond, frac_digits, offset_minutes;
    bool offset_is_z;
} dt_cases[] = {
    {"v = 1979-05-27T07:32:00Z", TOML_DATETIME, 1979, 5, 27, 7, 32, 0, 0, 0, 0, true},
    {"v = 1979-05-27t07:32:00z", TOML_DATETIME, 1979, 5, 27, 7, 32, 0, 0, 0, 0, true},
    {"v = 1979-05-27 00:32:00-07:00", TOML_DATETIME, 1979, 5, 27, 0, 32, 0, 0, 0, -420, false},
    {"v = 1979-05-27T00:32:00.999999+05:30", TOML_DATETIME, 1979, 5, 27, 0, 32, 0, 999999000, 6,
     330, false},
    {"v = 1979-05-27T07:32:00", TOML_DATETIME_LOCAL, 1979, 5, 27, 7, 32, 0, 0, 0, 0, false},
    {"v = 2000-02-29", TOML_DATE_LOCAL, 2000, 2, 29, 0, 0, 0, 0, 0, 0, false},
    {"v = 07:32:00", TOML_TIME_LOCAL, 0, 0, 0, 7, 32, 0, 0, 0, 0, false},
    {"v = 23:59:60.5", TOML_TIME_LOCAL, 0, 0, 0, 23, 59, 60, 500000000, 1, 0, false},
    {"v = 00:00:00.1234567891", TOML_TIME_LOCAL, 0, 0, 0, 0, 0, 0, 123456789, 10, 0, false},
};

/* Each of the four date/time types keeps its fields, fraction and offset. */
static void datetimes_decode_exactly(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(dt_cases); i++) {
        struct toml_table *root = parse_ok(dt_cases[i].src);
        const struct toml_value *v = toml_table_get(root, "v");
        const struct toml_datetime *dt = &v->u.dt;
        bool same = v->type == dt_cases[i].type && dt->year == dt_cases[i].year &&
                    dt->month == dt_cases[i].month && dt->day == dt_cases[i].day &&
                    dt->hour == dt_cases[i].hour && dt->minute == dt_cases[i].minute &&
                    dt->second == dt_cases[i].second && dt->nanosecond == dt_cases[i].nanosecond &&
                    dt->frac_digits == dt_cases[i].frac_digits &&
                    dt->offset_minutes == dt_cases[i].offset_minutes &&
                    dt->offset_is_z == dt_cases[i].offset_is_z &&
                    dt->has_date == (dt_cases[i].type != TOML_TIME_LOCAL) &&
                    dt->has_time == (dt_cases[i].type != TOML_DATE_LOCAL) &&
                    dt->has_offset == (dt_cases[i].type == TOML_DATETIME);
        if (!same)
            fail_msg("%s: got type %d %04d-%02d-%02d %02d:%02d:%02d.%09d (%d digits) %+d min z=%d",
                     dt_cases[i].src, (int)v->type, dt->year, dt->month, dt->day, dt->hour,
                     dt->minute, dt->second, dt->nanosecond, dt->frac_digits, dt->offset_minutes,
                     (int)dt->offset_is_z);
        toml_free(root);
    }
}

/* --- errors: exact position and message ---------------------------------------------------- */

static const struct {
    const char *src;
    const char *msg; /* the whole message */
} error_cases[] = {
    /* keys and structure */
    {"a = 1\na = 2\n", "t.toml:2:1: duplicate key 'a'"},
    {"= 1\n", "t.toml:1:1: expected a key"},
    {"a\n", "t.toml:1:2: expected '=' after the key"},
    {"a = \n", "t.toml:1:5: expected a value"},
    {"a = 1 b = 2\n", "t.toml:1:7: expected a newline after the value"},
    {"\"\"\"k\"\"\" = 1\n", "t.toml:1:1: a multi-line string cannot be a key"},
    {"a = 1\na.b = 2\n", "t.toml:2:1: key 'a' is already defined as an integer, not a table"},
    /* strings */
    {"s = \"\\q\"\n", "t.toml:1:6: invalid escape sequence \\q"},
    {"s = \"\\uD800\"\n", "t.toml:1:6: \\u escape is not a Unicode scalar value (U+D800)"},
    {"s = \"\\U00110000\"\n", "t.toml:1:6: \\U escape is not a Unicode scalar value (U+110000)"},
    {"s = \"\\u12\"\n", "t.toml:1:6: \\u escape needs exactly 4 hexadecimal digits"},
    {"s = \"abc\n", "t.toml:1:5: unterminated string"},
    {"s = \"\"\"x\"\"\"\"\"\"\n", "t.toml:1:9: too many quotes at the end of a multi-line string"},
    {"s = \"\"\"a\\ b\"\"\"\n", "t.toml:1:9: invalid escape sequence"},
    {"s = \"\xc3\xa9\\q\"\n", "t.toml:1:8: invalid escape sequence \\q"}, /* columns are bytes */
    /* encoding and control characters */
    {"a = \"\xff\"\n", "t.toml:1:6: invalid UTF-8 byte 0xFF"},
    {"a = \"\xed\xa0\x80\"\n", "t.toml:1:6: invalid UTF-8 byte 0xED"},
    {"# \x01\n", "t.toml:1:3: control character U+0001 is not allowed"},
    {"a = 1\rb = 2\n", "t.toml:1:6: carriage return not followed by a newline"},
    {"a = 1\r\nb = \"\x7f\"\n", "t.toml:2:6: control character U+007F is not allowed"},
    /* numbers */
    {"n = 01\n", "t.toml:1:5: leading zeros are not allowed"},
    {"n = 1__0\n", "t.toml:1:6: '_' must be between digits"},
    {"n = 9223372036854775808\n", "t.toml:1:5: integer out of range (must fit in 64 bits signed)"},
    {"n = -9223372036854775809\n", "t.toml:1:6: integer out of range (must fit in 64 bits signed)"},
    {"n = 0x8000000000000000\n", "t.toml:1:7: integer out of range (must fit in 64 bits signed)"},
    {"n = +0x10\n", "t.toml:1:5: a sign is only allowed on decimal integers"},
    {"n = 0o8\n", "t.toml:1:7: expected a digit"},
    {"n = 1.\n", "t.toml:1:7: expected a digit"},
    {"n = .1\n",
     "t.toml:1:5: invalid value (expected a string, number, boolean, date, array or inline "
     "table)"},
    {"n = 1e400\n", "t.toml:1:5: float out of range"},
    {"n = 1.2.3\n", "t.toml:1:8: invalid number"},
    /* dates */
    {"d = 2021-02-29\n", "t.toml:1:13: invalid date: no such day in that month"},
    {"d = 1900-02-29\n", "t.toml:1:13: invalid date: no such day in that month"},
    {"d = 2021-04-31\n", "t.toml:1:13: invalid date: no such day in that month"},
    {"d = 2021-13-01\n", "t.toml:1:10: invalid date: month must be 01..12"},
    {"d = 0000-01-01\n", "t.toml:1:5: invalid date: year must be 0001..9999"},
    {"t = 24:00:00\n", "t.toml:1:5: invalid time: hour must be 00..23"},
    {"t = 12:00:61\n", "t.toml:1:11: invalid time: second must be 00..60"},
    {"t = 12:00\n", "t.toml:1:10: invalid time: seconds are required (HH:MM:SS)"},
    {"t = 1979-05-27T07:32:00+25:00\n", "t.toml:1:24: invalid time offset: out of range"},
    {"t = 07:32:00Z\n", "t.toml:1:13: unexpected character after value"},
    /* arrays and inline tables */
    {"a = [1 2]\n", "t.toml:1:8: expected ',' or ']' in array"},
    {"a = [1,,2]\n", "t.toml:1:8: expected a value"},
    {"a = [1,\n", "t.toml:2:1: unterminated array"},
    {"a = {b = 1,}\n", "t.toml:1:12: trailing comma in inline table"},
    {"a = {b = 1\n}\n", "t.toml:1:11: inline table must end on the line it starts ('}')"},
    {"a = {b = 1, b = 2}\n", "t.toml:1:13: duplicate key 'b'"},
    {"a = {b = 1}\na.c = 2\n", "t.toml:2:1: cannot add keys to inline table 'a'"},
    {"a = {b = 1}\n[a]\n", "t.toml:2:1: table 'a' was already defined as an inline table"},
    {"a = {b = {}}\n[a.b.c]\n", "t.toml:2:2: cannot extend inline table 'a'"},
    /* tables and arrays of tables */
    {"[a]\n[a]\n", "t.toml:2:1: table 'a' defined twice"},
    {"[a]\n[a.b]\n[a]\n", "t.toml:3:1: table 'a' defined twice"},
    {"a.b = 1\n[a]\n", "t.toml:2:1: table 'a' was already defined by dotted keys"},
    {"[a.b.c]\n[a]\nb.c.d = 1\n",
     "t.toml:3:3: cannot add keys to table 'c' with a dotted key: it is defined by a [header]"},
    {"a = []\n[[a]]\n", "t.toml:2:3: cannot append to static array 'a' with [[a]]"},
    {"[a]\n[[a]]\n", "t.toml:2:3: 'a' is already defined as a table, not an array of tables"},
    {"[[a]]\n[a]\n", "t.toml:2:1: 'a' is an array; [a] cannot define it as a table"},
    {"a = [{}]\n[a.b]\n", "t.toml:2:2: key 'a' is a static array, not a table or array of tables"},
    {"[a\n", "t.toml:1:3: expected ']' to close the table header"},
    {"[[a] ]\n", "t.toml:1:4: expected ']]' to close the array of tables header"},
    {"[]\n", "t.toml:1:2: expected a key"},
    {"[a] x\n", "t.toml:1:5: expected a newline after the table header"},
};

/* Each invalid document fails with the exact FILE:LINE:COL message, and err->line/col match. */
static void errors_have_exact_position_and_message(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(error_cases); i++) {
        struct toml_error err = parse_err(error_cases[i].src, strlen(error_cases[i].src));
        if (strcmp(err.msg, error_cases[i].msg) != 0)
            fail_msg("case %zu <<%s>>:\n  got  %s\n  want %s", i, error_cases[i].src, err.msg,
                     error_cases[i].msg);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "t.toml:%d:%d: ", err.line, err.col);
        assert_memory_equal(err.msg, prefix, strlen(prefix));
    }
}

/* A NUL byte in the input is a control character, not the end of the document. */
static void nul_byte_in_input_is_rejected(void **state)
{
    (void)state;
    struct toml_error err = parse_err("a = 1\n\0b = 2\n", 13);
    assert_string_equal(err.msg, "t.toml:2:1: control character U+0000 is not allowed");
}

/* Only len bytes are read: the buffer need not be NUL-terminated. */
static void buffer_length_is_respected(void **state)
{
    (void)state;
    const char src[] = "a = 12345 garbage";
    struct toml_table *root;
    struct toml_error err;
    assert_int_equal(toml_parse_buffer(src, 7, "t.toml", &root, &err), TOML_OK);
    assert_int_equal(toml_table_get(root, "a")->u.integer, 123);
    toml_free(root);
}

/* Nesting past the bound is a clear error, not a stack overflow; just below it is accepted. */
static void nesting_depth_is_bounded(void **state)
{
    (void)state;
    size_t n = 100000;
    char *deep = malloc(n + 8);
    memcpy(deep, "a = ", 4);
    memset(deep + 4, '[', n);
    struct toml_error err = parse_err(deep, n + 4);
    assert_non_null(strstr(err.msg, "nests too deeply"));
    char ok[512];
    int k = snprintf(ok, sizeof ok, "a = ");
    for (int i = 0; i < 120; i++)
        ok[k++] = '[';
    for (int i = 0; i < 120; i++)
        ok[k++] = ']';
    ok[k] = '\0';
    toml_free(parse_ok(ok));
    free(deep);
}

/* --- structure ----------------------------------------------------------------------------- */

/* Dotted keys, headers and a super-table defined after its sub-table build the same tree. */
static void tables_and_dotted_keys_nest(void **state)
{
    (void)state;
    struct toml_table *root = parse_ok("x.y = 1\n[a.b]\nc = 2\n[a]\nd.e = 3\n[a.d.f]\ng = 4\n");
    int64_t v;
    assert_int_equal(toml_get_int(root, "x.y", NULL, &v, NULL), TOML_OK);
    assert_int_equal(v, 1);
    assert_int_equal(toml_get_int(root, "a.b.c", NULL, &v, NULL), TOML_OK);
    assert_int_equal(v, 2);
    assert_int_equal(toml_get_int(root, "a.d.e", NULL, &v, NULL), TOML_OK);
    assert_int_equal(v, 3);
    assert_int_equal(toml_get_int(root, "a.d.f.g", NULL, &v, NULL), TOML_OK);
    assert_int_equal(v, 4);
    toml_free(root);
}

/* [[x]] appends a fresh table each time; sub-tables go into the latest element. */
static void array_of_tables_appends(void **state)
{
    (void)state;
    struct toml_table *root =
        parse_ok("[[p]]\nn = 1\n[p.q]\nm = 1\n[[p]]\nn = 2\n[[p.r]]\nk = 1\n[[p.r]]\nk = 2\n");
    const struct toml_value *p = toml_lookup(root, "p");
    assert_int_equal(p->type, TOML_ARRAY);
    assert_int_equal(p->u.array->len, 2);
    const struct toml_table *e0 = p->u.array->items[0].u.table;
    const struct toml_table *e1 = p->u.array->items[1].u.table;
    assert_int_equal(toml_lookup(e0, "n")->u.integer, 1);
    assert_int_equal(toml_lookup(e0, "q.m")->u.integer, 1);
    assert_null(toml_lookup(e0, "r"));
    assert_int_equal(toml_lookup(e1, "n")->u.integer, 2);
    assert_int_equal(toml_lookup(e1, "r")->u.array->len, 2);
    assert_int_equal(toml_lookup(e1, "r")->u.array->items[1].u.table->items[0].value.u.integer, 2);
    toml_free(root);
}

/* Arrays may mix types and span lines with comments and a trailing comma. */
static void arrays_mix_types_across_lines(void **state)
{
    (void)state;
    struct toml_table *root = parse_ok("a = [ # c\n 1,\n 'x', # c\n [2], {b = 3},\n]\n");
    const struct toml_array *a = toml_lookup(root, "a")->u.array;
    assert_int_equal(a->len, 4);
    assert_int_equal(a->items[0].type, TOML_INTEGER);
    assert_int_equal(a->items[1].type, TOML_STRING);
    assert_int_equal(a->items[2].type, TOML_ARRAY);
    assert_int_equal(a->items[3].type, TOML_TABLE);
    assert_int_equal(toml_lookup(a->items[3].u.table, "b")->u.integer, 3);
    toml_free(root);
}

/* Keys keep definition order; keys and values keep their 1-based line and byte column. */
static void keys_keep_order_and_positions(void **state)
{
    (void)state;
    struct toml_table *root = parse_ok("z = 1\r\n  [t]\n  b  =  \"x\"\n\ta = [1, 2]\n");
    assert_int_equal(root->len, 2);
    assert_string_equal(root->items[0].key, "z");
    assert_string_equal(root->items[1].key, "t");
    const struct toml_table *t = toml_lookup(root, "t")->u.table;
    assert_string_equal(t->items[0].key, "b");
    assert_int_equal(t->items[0].line, 3);
    assert_int_equal(t->items[0].col, 3);
    assert_int_equal(t->items[0].value.line, 3);
    assert_int_equal(t->items[0].value.col, 9);
    assert_string_equal(t->items[1].key, "a");
    assert_int_equal(t->items[1].value.line, 4);
    assert_int_equal(t->items[1].value.col, 6);
    assert_int_equal(t->items[1].value.u.array->items[1].col, 10);
    toml_free(root);
}

/* Quoted keys may hold dots and escapes; toml_table_get reaches them, toml_lookup splits. */
static void quoted_keys_are_single_segments(void **state)
{
    (void)state;
    struct toml_table *root = parse_ok("\"a.b\" = 1\n'' = 2\n\"\\u00e9\" = 3\na.b = 4\n");
    assert_int_equal(toml_table_get(root, "a.b")->u.integer, 1);
    assert_int_equal(toml_table_get(root, "")->u.integer, 2);
    assert_int_equal(toml_table_get(root, "\xc3\xa9")->u.integer, 3);
    assert_int_equal(toml_lookup(root, "a.b")->u.integer, 4);
    toml_free(root);
}

/* A header may add a sub-table inside a table made by dotted keys (spec example). */
static void header_may_extend_dotted_subtable(void **state)
{
    (void)state;
    struct toml_table *root = parse_ok(
        "[fruit]\napple.color = 'red'\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth "
        "= true\n");
    bool b;
    assert_int_equal(toml_get_bool(root, "fruit.apple.texture.smooth", NULL, &b, NULL), TOML_OK);
    assert_true(b);
    assert_int_equal(toml_get_bool(root, "fruit.apple.taste.sweet", NULL, &b, NULL), TOML_OK);
    toml_free(root);
}

/* An empty document is an empty root table. */
static void empty_document_is_empty_table(void **state)
{
    (void)state;
    struct toml_table *root = parse_ok("");
    assert_int_equal(root->len, 0);
    toml_free(root);
    root = parse_ok("\xef\xbb\xbf# only a BOM and a comment\n");
    assert_int_equal(root->len, 0);
    toml_free(root);
}

/* --- lookups and typed getters -------------------------------------------------------------- */

/* A missing key or a path through a non-table is NULL / TOML_ENOTFOUND with out untouched. */
static void lookup_missing_is_not_found(void **state)
{
    (void)state;
    struct toml_table *root = parse_ok("a = 1\n[t]\nb = 2\n");
    assert_null(toml_lookup(root, "nope"));
    assert_null(toml_lookup(root, "a.b"));
    assert_null(toml_lookup(root, "t.c"));
    assert_null(toml_lookup(root, "t."));
    int64_t v = 77;
    struct toml_error err;
    assert_int_equal(toml_get_int(root, "t.c", "c.toml", &v, &err), TOML_ENOTFOUND);
    assert_int_equal(v, 77);
    assert_string_equal(err.msg, "c.toml: t.c is not set");
    assert_int_equal(err.line, 0);
    toml_free(root);
}

/* A wrong type names the key, its position and both types. */
static void getter_wrong_type_names_key_and_types(void **state)
{
    (void)state;
    struct toml_table *root = parse_ok("[raft]\nheartbeat_ms = \"50\"\nratio = 1.5\n");
    int64_t v;
    struct toml_error err;
    assert_int_equal(toml_get_int(root, "raft.heartbeat_ms", "config.toml", &v, &err), TOML_ETYPE);
    assert_string_equal(err.msg,
                        "config.toml:2:16: raft.heartbeat_ms must be an integer, not a string");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 16);
    const char *s;
    assert_int_equal(toml_get_string(root, "raft.ratio", NULL, &s, &err), TOML_ETYPE);
    assert_string_equal(err.msg, "<input>:3:9: raft.ratio must be a string, not a float");
    bool b;
    assert_int_equal(toml_get_bool(root, "raft", NULL, &b, NULL), TOML_ETYPE);
    toml_free(root);
}

/* Typed getters return the stored values; integers are accepted as floats. */
static void getters_return_values(void **state)
{
    (void)state;
    struct toml_table *root = parse_ok("i = -5\nf = 2.5\nb = true\ns = \"hi\"\n");
    int64_t i;
    double f;
    bool b;
    const char *s;
    assert_int_equal(toml_get_int(root, "i", NULL, &i, NULL), TOML_OK);
    assert_int_equal(i, -5);
    assert_int_equal(toml_get_float(root, "f", NULL, &f, NULL), TOML_OK);
    assert_true(f == 2.5);
    assert_int_equal(toml_get_float(root, "i", NULL, &f, NULL), TOML_OK);
    assert_true(f == -5.0);
    assert_int_equal(toml_get_int(root, "f", NULL, &i, NULL), TOML_ETYPE);
    assert_int_equal(toml_get_bool(root, "b", NULL, &b, NULL), TOML_OK);
    assert_true(b);
    assert_int_equal(toml_get_string(root, "s", NULL, &s, NULL), TOML_OK);
    assert_string_equal(s, "hi");
    toml_free(root);
}

/* Type names and status strings are the documented ones. */
static void names_are_documented(void **state)
{
    (void)state;
    assert_string_equal(toml_type_name(TOML_DATETIME), "offset date-time");
    assert_string_equal(toml_type_name(TOML_TIME_LOCAL), "local time");
    assert_string_equal(toml_type_name(TOML_BOOL), "boolean");
    assert_string_equal(toml_strerror(TOML_ESYNTAX), "invalid TOML");
    assert_string_equal(toml_strerror(TOML_OK), "success");
}

/* --- files ---------------------------------------------------------------------------------- */

/* A missing file is TOML_EIO naming the file and the OS error, with nothing allocated. */
static void missing_file_is_eio(void **state)
{
    (void)state;
    struct toml_table *root = (struct toml_table *)&root;
    struct toml_error err;
    assert_int_equal(toml_parse_file("/nonexistent/raft_kv.toml", &root, &err), TOML_EIO);
    assert_null(root);
    assert_string_equal(err.msg,
                        "/nonexistent/raft_kv.toml: cannot read: No such file or directory");
}

/* A directory opens but cannot be read: TOML_EIO with the OS reason. */
static void directory_is_eio(void **state)
{
    (void)state;
    struct toml_table *root;
    struct toml_error err;
    assert_int_equal(toml_parse_file("/tmp", &root, &err), TOML_EIO);
    assert_null(root);
    assert_string_equal(err.msg, "/tmp: cannot read: Is a directory");
}

/* A file parses like a buffer, and its errors carry its name. */
static void file_parses_and_names_itself(void **state)
{
    (void)state;
    char path[] = "/tmp/test_config_toml_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[raft]\nheartbeat_ms = 50\nheartbeat_ms = 60\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct toml_table *root;
    struct toml_error err;
    assert_int_equal(toml_parse_file(path, &root, &err), TOML_ESYNTAX);
    char want[128];
    snprintf(want, sizeof want, "%s:3:1: duplicate key 'heartbeat_ms'", path);
    assert_string_equal(err.msg, want);
    unlink(path);
}

/* toml_free accepts NULL. */
static void free_null_is_noop(void **state)
{
    (void)state;
    toml_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integers_decode_exactly),
        cmocka_unit_test(floats_decode_exactly),
        cmocka_unit_test(float_specials_keep_sign),
        cmocka_unit_test(booleans_decode),
        cmocka_unit_test(strings_decode_exactly),
        cmocka_unit_test(datetimes_decode_exactly),
        cmocka_unit_test(errors_have_exact_position_and_message),
        cmocka_unit_test(nul_byte_in_input_is_rejected),
        cmocka_unit_test(buffer_length_is_respected),
        cmocka_unit_test(nesting_depth_is_bounded),
        cmocka_unit_test(tables_and_dotted_keys_nest),
        cmocka_unit_test(array_of_tables_appends),
        cmocka_unit_test(arrays_mix_types_across_lines),
        cmocka_unit_test(keys_keep_order_and_positions),
        cmocka_unit_test(quoted_keys_are_single_segments),
        cmocka_unit_test(header_may_extend_dotted_subtable),
        cmocka_unit_test(empty_document_is_empty_table),
        cmocka_unit_test(lookup_missing_is_not_found),
        cmocka_unit_test(getter_wrong_type_names_key_and_types),
        cmocka_unit_test(getters_return_values),
        cmocka_unit_test(names_are_documented),
        cmocka_unit_test(missing_file_is_eio),
        cmocka_unit_test(directory_is_eio),
        cmocka_unit_test(file_parses_and_names_itself),
        cmocka_unit_test(free_null_is_noop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
