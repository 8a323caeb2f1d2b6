/* test_check_history.c - reading a client history: pairing, decoding, and a clear message naming
 * the line for every way a history can break the contract (../shared/history-format.md).
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

#include "check/history.h"
#include "common/prng.h"

/* The example of the contract, verbatim. */
static const char example[] =
    "{\"process\":2,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"a\",\"value\":\"v17\","
    "\"time\":1200345}\n"
    "{\"process\":2,\"type\":\"ok\",\"f\":\"put\",\"key\":\"a\",\"value\":\"v17\",\"result\":"
    "\"ok\",\"time\":1260002}\n"
    "{\"process\":3,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\",\"time\":1300000}\n"
    "{\"process\":3,\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\",\"result\":\"found\",\"value\":"
    "\"v17\",\"time\":1350000}\n"
    "{\"process\":1,\"type\":\"invoke\",\"f\":\"delete\",\"key\":\"b\",\"time\":1400000}\n"
    "{\"process\":1,\"type\":\"info\",\"f\":\"delete\",\"key\":\"b\",\"error\":\"timeout\","
    "\"time\":2400000}\n";

static void parse_ok(const char *text, struct check_history *h)
{
    char err[256];
    int rc = check_history_parse(text, strlen(text), "t.jsonl", h, err, sizeof err);
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
}

/* Parsing text fails with exactly code rc and message want. */
static void expect_error(const char *text, int rc, const char *want)
{
    struct check_history h;
    char err[256];
    int got = check_history_parse(text, strlen(text), "t.jsonl", &h, err, sizeof err);
    if (got != rc || strcmp(err, want) != 0)
        fail_msg("input:\n%s\nwant %d \"%s\"\ngot  %d \"%s\"", text, rc, want, got, err);
    assert_int_equal(h.n_ops, 0); /* emptied on error */
    check_history_free(&h);
}

#define LINE(body) "{\"process\":1," body "}\n"
#define PUT_INV    LINE("\"type\":\"invoke\",\"f\":\"put\",\"key\":\"a\",\"value\":\"x\",\"time\":1")
#define GET_INV    LINE("\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\",\"time\":1")

/* The contract's example pairs into three ops with every field in place. */
static void example_pairs_into_ops(void **state)
{
    (void)state;
    struct check_history h;
    parse_ok(example, &h);
    assert_int_equal(h.n_ops, 3);
    assert_int_equal(h.n_keys, 2);
    assert_int_equal(h.n_lines, 6);
    const struct check_op *put = &h.ops[0], *get = &h.ops[1], *del = &h.ops[2];
    assert_int_equal(put->process, 2);
    assert_int_equal(put->f, CHECK_F_PUT);
    assert_int_equal(put->type, CHECK_OK);
    assert_int_equal(put->result, CHECK_RES_OK);
    assert_int_equal(put->value_len, 3);
    assert_memory_equal(put->value, "v17", 3);
    assert_int_equal(put->invoke_ns, 1200345);
    assert_int_equal(put->complete_ns, 1260002);
    assert_int_equal(put->invoke_line, 1);
    assert_int_equal(put->complete_line, 2);
    assert_int_equal(get->result, CHECK_RES_FOUND);
    assert_memory_equal(get->value, "v17", 3);
    assert_int_equal(get->key, put->key);
    assert_int_equal(del->type, CHECK_INFO);
    assert_int_equal(del->result, CHECK_RES_NONE);
    assert_int_equal(del->complete_ns, 2400000);
    assert_int_equal(h.keys[del->key].len, 1);
    assert_memory_equal(h.keys[del->key].bytes, "b", 1);
    check_history_free(&h);
}

/* An invoke with no completion by the end of the file is info with no completion time. */
static void unfinished_invoke_is_info(void **state)
{
    (void)state;
    struct check_history h;
    parse_ok(PUT_INV, &h);
    assert_int_equal(h.n_ops, 1);
    assert_int_equal(h.ops[0].type, CHECK_INFO);
    assert_int_equal(h.ops[0].complete_ns, UINT64_MAX);
    assert_int_equal(h.ops[0].complete_line, 0);
    check_history_free(&h);
}

/* Extra fields may hold any JSON value; field order and spacing are free. */
static void extra_fields_and_spacing_accepted(void **state)
{
    (void)state;
    const char *text =
        " { \"seq\" : 7, \"time\":5, \"node\":{\"id\":[1,2.5e3,-3,true,false,null,{}]} ,"
        "\"key\":\"a\",\"f\":\"get\",\"type\":\"invoke\",\"process\":9,\"x\":[] }\t\n"
        "{\"time\":6,\"process\":9,\"type\":\"fail\",\"f\":\"get\",\"key\":\"a\","
        "\"error\":\"not_leader\",\"index\":-1}\n";
    struct check_history h;
    parse_ok(text, &h);
    assert_int_equal(h.n_ops, 1);
    assert_int_equal(h.ops[0].process, 9);
    assert_int_equal(h.ops[0].type, CHECK_FAIL);
    check_history_free(&h);
}

/* String escapes decode to bytes: quotes, backslash, control, \u (surrogate pairs), NUL. */
static void escapes_decoded(void **state)
{
    (void)state;
    const char *text = "{\"process\":1,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"k\\u0000z\","
                       "\"value\":\"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\",\"time\":1}\n";
    struct check_history h;
    parse_ok(text, &h);
    const struct check_op *op = &h.ops[0];
    const char want[] = "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80";
    assert_int_equal(op->value_len, sizeof want - 1);
    assert_memory_equal(op->value, want, sizeof want - 1);
    assert_int_equal(h.keys[op->key].len, 3);
    assert_memory_equal(h.keys[op->key].bytes, "k\0z", 3);
    check_history_free(&h);
}

/* Blank lines, CRLF line ends and a missing final newline are accepted. */
static void blank_lines_and_crlf_accepted(void **state)
{
    (void)state;
    const char *text = "\n" GET_INV "\r\n  \n"
                       "{\"process\":1,\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\","
                       "\"result\":\"not_found\",\"time\":2}\r";
    struct check_history h;
    parse_ok(text, &h);
    assert_int_equal(h.n_ops, 1);
    assert_int_equal(h.ops[0].invoke_line, 2);
    assert_int_equal(h.ops[0].complete_line, 5);
    assert_int_equal(h.ops[0].result, CHECK_RES_NOT_FOUND);
    check_history_free(&h);
}

/* Pairing errors: completion without invoke, two in flight, f or key or value mismatch, time. */
static void pairing_errors_named(void **state)
{
    (void)state;
    expect_error(
        LINE("\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\",\"result\":\"not_found\",\"time\":1"),
        CHECK_EHISTORY, "t.jsonl:1: ok for process 1 without an invoke");
    expect_error(PUT_INV GET_INV, CHECK_EHISTORY,
                 "t.jsonl:2: process 1 invokes while its put from line 1 is still in flight");
    expect_error(PUT_INV LINE("\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\",\"result\":"
                              "\"not_found\",\"time\":2"),
                 CHECK_EHISTORY, "t.jsonl:2: ok is a get but the invoke on line 1 is a put");
    expect_error(PUT_INV LINE("\"type\":\"info\",\"f\":\"put\",\"key\":\"b\",\"time\":2"),
                 CHECK_EHISTORY, "t.jsonl:2: key \"b\" differs from the invoke's on line 1");
    expect_error(PUT_INV LINE("\"type\":\"ok\",\"f\":\"put\",\"key\":\"a\",\"value\":\"y\","
                              "\"result\":\"ok\",\"time\":2"),
                 CHECK_EHISTORY, "t.jsonl:2: value \"y\" differs from the invoke's on line 1");
    expect_error(LINE("\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\",\"time\":9")
                     LINE("\"type\":\"fail\",\"f\":\"get\",\"key\":\"a\",\"time\":8"),
                 CHECK_EHISTORY, "t.jsonl:2: time 8 is before its invoke's time 9 (line 1)");
}

/* Field errors: unknown type, f or result, a result of another f, missing or stray fields. */
static void field_errors_named(void **state)
{
    (void)state;
    expect_error(LINE("\"type\":\"done\",\"f\":\"get\",\"key\":\"a\",\"time\":1"), CHECK_EHISTORY,
                 "t.jsonl:1: unknown type \"done\" (invoke, ok, fail or info)");
    expect_error(LINE("\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"a\",\"time\":1"), CHECK_EHISTORY,
                 "t.jsonl:1: unknown f \"cas\" (put, get or delete)");
    expect_error(GET_INV LINE("\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\",\"result\":\"yes\","
                              "\"time\":2"),
                 CHECK_EHISTORY, "t.jsonl:2: unknown result \"yes\"");
    expect_error(GET_INV LINE("\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\",\"result\":\"exists\","
                              "\"time\":2"),
                 CHECK_EHISTORY, "t.jsonl:2: result \"exists\" is not a result of get");
    expect_error("{\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\",\"time\":1}\n", CHECK_EHISTORY,
                 "t.jsonl:1: missing field \"process\"");
    expect_error(LINE("\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\""), CHECK_EHISTORY,
                 "t.jsonl:1: missing field \"time\"");
    expect_error(LINE("\"type\":\"invoke\",\"f\":\"get\",\"time\":1"), CHECK_EHISTORY,
                 "t.jsonl:1: missing field \"key\"");
    expect_error(LINE("\"type\":\"invoke\",\"f\":\"put\",\"key\":\"a\",\"time\":1"), CHECK_EHISTORY,
                 "t.jsonl:1: missing field \"value\" (put invoke)");
    expect_error(GET_INV LINE("\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\",\"time\":2"),
                 CHECK_EHISTORY, "t.jsonl:2: missing field \"result\" (ok line)");
    expect_error(GET_INV LINE("\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\",\"result\":\"found\","
                              "\"time\":2"),
                 CHECK_EHISTORY, "t.jsonl:2: missing field \"value\" (get found)");
    expect_error(GET_INV LINE("\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\",\"result\":"
                              "\"not_found\",\"value\":\"x\",\"time\":2"),
                 CHECK_EHISTORY, "t.jsonl:2: a get not_found has no \"value\"");
    expect_error(GET_INV LINE("\"type\":\"info\",\"f\":\"get\",\"key\":\"a\",\"result\":\"found\","
                              "\"time\":2"),
                 CHECK_EHISTORY, "t.jsonl:2: \"result\" is only allowed on ok lines");
    expect_error(LINE("\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\",\"value\":\"x\",\"time\":1"),
                 CHECK_EHISTORY, "t.jsonl:1: a get invoke has no \"value\"");
}

/* Syntax errors name the line and the column. */
static void syntax_errors_named(void **state)
{
    (void)state;
    expect_error("[1]\n", CHECK_ESYNTAX, "t.jsonl:1: column 1: expected a JSON object '{'");
    expect_error(GET_INV "{\"process\":1} x\n", CHECK_ESYNTAX,
                 "t.jsonl:2: column 15: trailing characters after the object");
    expect_error("{\"process\":1,\"key\":\"a\n", CHECK_ESYNTAX,
                 "t.jsonl:1: column 22: unterminated string");
    expect_error("{\"key\":\"a\\q\"}\n", CHECK_ESYNTAX, "t.jsonl:1: column 10: unknown escape \\q");
    expect_error("{\"key\":\"\\ud800x\"}\n", CHECK_ESYNTAX,
                 "t.jsonl:1: column 9: high surrogate without a low one");
    expect_error("{\"key\":\"a\tb\"}\n", CHECK_ESYNTAX,
                 "t.jsonl:1: column 10: control character 0x09 in a string");
    expect_error("{\"time\":1,\"time\":2}\n", CHECK_ESYNTAX,
                 "t.jsonl:1: column 11: duplicate field \"time\"");
    expect_error("{\"time\":-5}\n", CHECK_ESYNTAX,
                 "t.jsonl:1: column 9: \"time\" must be an integer in 0..2^64-1");
    expect_error("{\"time\":1.5}\n", CHECK_ESYNTAX,
                 "t.jsonl:1: column 9: \"time\" must be an integer in 0..2^64-1");
    expect_error("{\"time\":18446744073709551616}\n", CHECK_ESYNTAX,
                 "t.jsonl:1: column 9: \"time\" must be an integer in 0..2^64-1");
    expect_error("{\"process\":\"1\"}\n", CHECK_ESYNTAX,
                 "t.jsonl:1: column 12: \"process\" must be an integer");
    expect_error("{\"key\":7}\n", CHECK_ESYNTAX, "t.jsonl:1: column 8: \"key\" must be a string");
    expect_error("{\"time\":01}\n", CHECK_ESYNTAX,
                 "t.jsonl:1: column 9: number with a leading zero");
    expect_error("{\"x\":[1,}\n", CHECK_ESYNTAX, "t.jsonl:1: column 9: unexpected character '}'");
    expect_error("{\"process\":1,}\n", CHECK_ESYNTAX,
                 "t.jsonl:1: column 14: expected a member name in quotes");
}

/* The largest time is accepted; a history of 2^64-1 ns is fine. */
static void max_time_accepted(void **state)
{
    (void)state;
    struct check_history h;
    parse_ok("{\"process\":18446744073709551615,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\","
             "\"time\":18446744073709551615}\n",
             &h);
    assert_int_equal(h.ops[0].invoke_ns, UINT64_MAX);
    assert_int_equal(h.ops[0].process, UINT64_MAX);
    check_history_free(&h);
}

/* Loading reads a file; a missing one is CHECK_EIO with the path in the message. */
static void load_reads_a_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_check_history_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(example, f);
    fclose(f);
    struct check_history h;
    char err[256];
    assert_int_equal(check_history_load(path, &h, err, sizeof err), 0);
    assert_int_equal(h.n_ops, 3);
    check_history_free(&h);
    unlink(path);
    assert_int_equal(check_history_load(path, &h, err, sizeof err), CHECK_EIO);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cannot open"));
    check_history_free(&h);
}

/* Randomly mutated and truncated histories never crash the parser; errors name the file. */
static void mutated_input_never_crashes(void **state)
{
    (void)state;
    struct prng rng;
    prng_seed(&rng, 42);
    size_t len = sizeof example - 1;
    char buf[sizeof example];
    static const char alphabet[] = "{}[]\":,\\u0123456789-.eE \n\ttrufalsn\x01\xff";
    size_t errors = 0;
    for (int i = 0; i < 20000; i++) {
        memcpy(buf, example, len);
        size_t n = len - prng_range(&rng, 0, len / 4);
        int flips = (int)prng_range(&rng, 1, 4);
        for (int k = 0; k < flips; k++)
            buf[prng_range(&rng, 0, n - 1)] = alphabet[prng_range(&rng, 0, sizeof alphabet - 2)];
        struct check_history h;
        char err[256];
        int rc = check_history_parse(buf, n, "m.jsonl", &h, err, sizeof err);
        if (rc != 0) {
            errors++;
            assert_true(strncmp(err, "m.jsonl:", 8) == 0);
            assert_int_equal(h.n_ops, 0);
        }
        check_history_free(&h);
    }
    assert_true(errors > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_pairs_into_ops),
        cmocka_unit_test(unfinished_invoke_is_info),
        cmocka_unit_test(extra_fields_and_spacing_accepted),
        cmocka_unit_test(escapes_decoded),
        cmocka_unit_test(blank_lines_and_crlf_accepted),
        cmocka_unit_test(pairing_errors_named),
        cmocka_unit_test(field_errors_named),
        cmocka_unit_test(syntax_errors_named),
        cmocka_unit_test(max_time_accepted),
        cmocka_unit_test(load_reads_a_file),
        cmocka_unit_test(mutated_input_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
