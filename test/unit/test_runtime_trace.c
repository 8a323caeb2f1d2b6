/* test_runtime_trace.c - the trace sink: whole lines under concurrency, levels, JSON escaping,
 * control characters escaped in the text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "runtime/trace.h"

/* Reads the whole stream back from the start into a NUL-terminated buffer. */
static char *slurp(FILE *f)
{
    fflush(f);
    long len = ftell(f);
    assert_true(len >= 0);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    return buf;
}

static void open_sink(FILE *f, enum trace_level level, enum trace_format format)
{
    struct trace_options opt = {
        .level = level, .format = format, .color = TRACE_COLOR_NEVER, .out = f};
    trace_open(&opt);
}

enum { WRITERS = 4, LINES_EACH = 2000 };

static void *write_lines(void *p)
{
    int id = (int)(intptr_t)p;
    char name[16];
    snprintf(name, sizeof name, "writer %d", id);
    /* Long lines (over the 512-byte stack buffer) and short ones, alternating. */
    char filler[700];
    memset(filler, 'a' + id, sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    for (int i = 0; i < LINES_EACH; i++)
        trace_log(TRACE_INFO, name, "test", "line %d %s end", i, i % 2 ? filler : "x");
    return NULL;
}

/* Lines written by 4 threads at once come out whole: never two interleaved in one line. */
static void concurrent_lines_never_interleave(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    open_sink(f, TRACE_INFO, TRACE_TEXT);
    pthread_t threads[WRITERS];
    for (intptr_t i = 0; i < WRITERS; i++)
        pthread_create(&threads[i], NULL, write_lines, (void *)i);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(threads[i], NULL);
    trace_close();
    char *text = slurp(f);
    int next[WRITERS] = {0};
    int lines = 0;
    for (char *save, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned long ms;
        unsigned us;
        int id, n, consumed = 0;
        assert_int_equal(
            sscanf(line, "%lu.%ums writer %d line %d %n", &ms, &us, &id, &n, &consumed), 4);
        assert_true(id >= 0 && id < WRITERS);
        assert_int_equal(n, next[id]); /* one writer's lines stay in its order */
        next[id]++;
        const char *body = line + consumed;
        if (n % 2) {
            assert_int_equal(strlen(body), 699 + strlen(" end"));
            for (int k = 0; k < 699; k++)
                assert_int_equal(body[k], 'a' + id);
        } else {
            assert_string_equal(body, "x end");
        }
        lines++;
    }
    assert_int_equal(lines, WRITERS * LINES_EACH);
    free(text);
    fclose(f);
}

/* Debug lines are dropped at level info; nothing but the summary is written at quiet. */
static void levels_filter_lines(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    open_sink(f, TRACE_INFO, TRACE_TEXT);
    assert_true(trace_on(TRACE_INFO));
    assert_false(trace_on(TRACE_DEBUG));
    trace_log(TRACE_DEBUG, "node 1", "x", "hidden");
    trace_log(TRACE_INFO, "node 1", "x", "shown");
    open_sink(f, TRACE_QUIET, TRACE_TEXT);
    assert_false(trace_on(TRACE_INFO));
    trace_log(TRACE_INFO, "node 1", "x", "quiet");
    trace_close();
    char *text = slurp(f);
    assert_non_null(strstr(text, "shown"));
    assert_null(strstr(text, "hidden"));
    assert_null(strstr(text, "quiet"));
    assert_non_null(strstr(text, "node 1"));
    free(text);
    fclose(f);
}

/* The JSON Lines form escapes quotes, backslashes and control characters. */
static void jsonl_escapes_text(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    open_sink(f, TRACE_DEBUG, TRACE_JSONL);
    trace_log(TRACE_DEBUG, "client \"7\"", "client", "put k=\"a\\b\"\x01\ttab");
    trace_close();
    char *text = slurp(f);
    assert_non_null(strstr(text, "\"level\":\"debug\""));
    assert_non_null(strstr(text, "\"actor\":\"client \\\"7\\\"\""));
    assert_non_null(strstr(text, "\"event\":\"client\""));
    assert_non_null(strstr(text, "\"msg\":\"put k=\\\"a\\\\b\\\"\\u0001\\ttab\"}\n"));
    assert_non_null(strstr(text, "{\"t_ms\":"));
    free(text);
    fclose(f);
}

/* The text form escapes every control byte, so a message never splits a line: \n, \r and \t by
 * name, the others (and DEL) as \xNN; short lines and long ones (past the stack buffer). */
static void text_escapes_control_bytes(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    open_sink(f, TRACE_INFO, TRACE_TEXT);
    trace_log(TRACE_INFO, "client 1", "client", "put(%s)", "nl\n cr\r tab\t esc\x1b del\x7f \x01");
    char filler[600];
    memset(filler, 'x', sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    trace_log(TRACE_INFO, "client 1", "client", "%s\n%s", filler, filler);
    trace_close();
    char *text = slurp(f);
    /* The first line ends at its closing parenthesis; the next starts with its time stamp
     * (whatever it reads: the test asserts no timing). */
    assert_non_null(strstr(text, "ms client 1  put(nl\\n cr\\r tab\\t esc\\x1b del\\x7f \\x01)\n"));
    char *second = strstr(text, ")\n") + 2;
    assert_true(strspn(second, " ") > 0 && strspn(second + strspn(second, " "), "0123456789.") > 0);
    char *body = strstr(second, "ms client 1  ") + strlen("ms client 1  ");
    assert_int_equal(strlen(body), 599 + 2 + 599 + 1);
    assert_memory_equal(body + 599, "\\n", 2);
    assert_string_equal(body + 599 + 2 + 599, "\n");
    free(text);
    fclose(f);
}

/* A backslash is written as \\, so a key holding a backslash and an n reads differently from a
 * key holding a newline: every backslash in a text line starts an escape. */
static void text_escapes_backslash(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    open_sink(f, TRACE_INFO, TRACE_TEXT);
    trace_log(TRACE_INFO, "client 1", "client", "get(%s) get(%s)", "a\\n", "a\n");
    trace_close();
    char *text = slurp(f);
    assert_non_null(strstr(text, "ms client 1  get(a\\\\n) get(a\\n)\n"));
    free(text);
    fclose(f);
}

/* The actor's name is escaped the same way, in colour too: no caller can split a line. */
static void text_escapes_actor_name(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    struct trace_options opt = {
        .level = TRACE_INFO, .format = TRACE_TEXT, .color = TRACE_COLOR_ALWAYS, .out = f};
    trace_open(&opt);
    trace_log(TRACE_INFO, "odd\nname", "x", "hello");
    trace_close();
    char *text = slurp(f);
    assert_non_null(strstr(text, "odd\\nname"));
    assert_non_null(strstr(text, " hello\n"));
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
    free(text);
    fclose(f);
}

static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

/* A replaced clock stamps lines with its time, relative to its first reading. */
static void replaced_clock_stamps_lines(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    open_sink(f, TRACE_INFO, TRACE_TEXT);
    trace_set_clock(fake_clock, NULL);
    fake_now = 5000000000u;
    trace_log(TRACE_INFO, "sim", "t", "first");
    fake_now += 12345678u; /* 12.345678 ms later */
    trace_log(TRACE_INFO, "sim", "t", "second");
    trace_set_clock(NULL, NULL);
    trace_close();
    char *text = slurp(f);
    assert_non_null(strstr(text, "     0.000ms sim       first\n"));
    assert_non_null(strstr(text, "    12.345ms sim       second\n"));
    free(text);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrent_lines_never_interleave),
        cmocka_unit_test(levels_filter_lines),
        cmocka_unit_test(jsonl_escapes_text),
        cmocka_unit_test(text_escapes_control_bytes),
        cmocka_unit_test(text_escapes_backslash),
        cmocka_unit_test(text_escapes_actor_name),
        cmocka_unit_test(replaced_clock_stamps_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
