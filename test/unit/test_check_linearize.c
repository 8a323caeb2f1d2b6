/* test_check_linearize.c - the linearizability verdict: hand-written linearizable and
 * non-linearizable histories (info and fail ops included), the report, the budget, and large
 * synthetic histories (100,000 ops over 5 keys, 64 clients) with and without a planted violation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "check/history.h"
#include "check/linearize.h"
#include "common/alloc.h"
#include "common/prng.h"

/* One history line, JSON by hand: keeps the histories below readable. */
#define INV(p, f, k, t)                                                                            \
    "{\"process\":" #p ",\"type\":\"invoke\",\"f\":\"" f "\",\"key\":\"" k "\",\"time\":" #t "}\n"
#define INVP(p, k, v, t)                                                                           \
    "{\"process\":" #p ",\"type\":\"invoke\",\"f\":\"put\",\"key\":\"" k "\",\"value\":\"" v       \
    "\",\"time\":" #t "}\n"
#define OKP(p, k, v, r, t)                                                                         \
    "{\"process\":" #p ",\"type\":\"ok\",\"f\":\"put\",\"key\":\"" k "\",\"value\":\"" v           \
    "\",\"result\":\"" r "\",\"time\":" #t "}\n"
#define OKG(p, k, v, t)                                                                            \
    "{\"process\":" #p ",\"type\":\"ok\",\"f\":\"get\",\"key\":\"" k                               \
    "\",\"result\":\"found\",\"value\":\"" v "\",\"time\":" #t "}\n"
#define OKGN(p, k, t)                                                                              \
    "{\"process\":" #p ",\"type\":\"ok\",\"f\":\"get\",\"key\":\"" k                               \
    "\",\"result\":\"not_found\",\"time\":" #t "}\n"
#define OKD(p, k, r, t)                                                                            \
    "{\"process\":" #p ",\"type\":\"ok\",\"f\":\"delete\",\"key\":\"" k "\",\"result\":\"" r       \
    "\",\"time\":" #t "}\n"
#define END(p, ty, f, k, t)                                                                        \
    "{\"process\":" #p ",\"type\":\"" ty "\",\"f\":\"" f "\",\"key\":\"" k                         \
    "\",\"error\":\"timeout\",\"time\":" #t "}\n"

static enum check_verdict verdict_opt(const char *text, const struct check_options *opt,
                                      struct check_result *keep)
{
    struct check_history h;
    char err[256];
    int rc = check_history_parse(text, strlen(text), "t.jsonl", &h, err, sizeof err);
    if (rc != 0)
        fail_msg("parse: %s", err);
    struct check_result r;
    assert_int_equal(check_linearizable(&h, opt, &r), 0);
    enum check_verdict v = r.verdict;
    if (keep != NULL)
        *keep = r;
    else
        check_result_free(&r);
    check_history_free(&h);
    return v;
}

static enum check_verdict verdict(const char *text)
{
    return verdict_opt(text, NULL, NULL);
}

/* ---- linearizable ---------------------------------------------------------------------------- */

/* A sequential history that follows the model is linearizable. */
static void sequential_history_linearizable(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "v1", 10) OKP(1, "a", "v1", "ok", 20) INV(1, "get", "a", 30)
        OKG(1, "a", "v1", 40) INVP(2, "a", "v2", 50) OKP(2, "a", "v2", "exists", 60)
            INV(2, "delete", "a", 70) OKD(2, "a", "ok", 80) INV(1, "get", "a", 90) OKGN(1, "a", 100)
                INV(1, "delete", "a", 110) OKD(1, "a", "not_found", 120);
    assert_int_equal(verdict(h), CHECK_LINEARIZABLE);
}

/* Two overlapping puts on an absent key: one ok, one exists, in either file order. */
static void concurrent_puts_one_wins(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) INVP(2, "a", "y", 11) OKP(2, "a", "y", "exists", 30)
        OKP(1, "a", "x", "ok", 31) INV(3, "get", "a", 40) OKG(3, "a", "x", 50);
    assert_int_equal(verdict(h), CHECK_LINEARIZABLE);
    /* the put that completes first may still be the one that lost */
    const char *h2 = INVP(1, "a", "x", 10) INVP(2, "a", "y", 11) OKP(1, "a", "x", "exists", 30)
        OKP(2, "a", "y", "ok", 31);
    assert_int_equal(verdict(h2), CHECK_LINEARIZABLE);
}

/* A get that overlaps a put may see the new value before the put completes. */
static void get_sees_concurrent_put(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) INV(2, "get", "a", 12) OKG(2, "a", "x", 15)
        INV(3, "get", "a", 16) OKG(3, "a", "x", 18) OKP(1, "a", "x", "ok", 20);
    assert_int_equal(verdict(h), CHECK_LINEARIZABLE);
    /* ... or the old state */
    const char *h2 =
        INVP(1, "a", "x", 10) INV(2, "get", "a", 12) OKGN(2, "a", 15) OKP(1, "a", "x", "ok", 20);
    assert_int_equal(verdict(h2), CHECK_LINEARIZABLE);
}

/* An info put that took effect, even long after its info line, explains a later read. */
static void info_put_that_took_effect(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) END(1, "info", "put", "a", 20) INV(2, "get", "a", 30)
        OKGN(2, "a", 40) INV(2, "get", "a", 50) OKG(2, "a", "x", 60);
    assert_int_equal(verdict(h), CHECK_LINEARIZABLE);
}

/* An info put that never took effect is fine too, and so is an info delete after it. */
static void info_ops_that_did_not_take_effect(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) END(1, "info", "put", "a", 20) INV(2, "get", "a", 30)
        OKGN(2, "a", 40) INVP(2, "a", "y", 50) OKP(2, "a", "y", "ok", 60) INV(1, "delete", "a", 70)
            END(1, "info", "delete", "a", 80) INV(2, "get", "a", 90) OKG(2, "a", "y", 100);
    assert_int_equal(verdict(h), CHECK_LINEARIZABLE);
}

/* An invoke with no completion at the end of the file may have taken effect. */
static void unfinished_invoke_may_take_effect(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) INV(2, "get", "a", 30) OKG(2, "a", "x", 40);
    assert_int_equal(verdict(h), CHECK_LINEARIZABLE);
}

/* Fail ops are dropped: a failed put neither needs nor may explain anything. */
static void fail_ops_ignored(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) END(1, "fail", "put", "a", 20) INV(2, "get", "a", 30)
        OKGN(2, "a", 40) INV(1, "delete", "a", 50) END(1, "fail", "delete", "a", 60);
    assert_int_equal(verdict(h), CHECK_LINEARIZABLE);
}

/* An empty history is linearizable with 0 ops. */
static void empty_history_linearizable(void **state)
{
    (void)state;
    assert_int_equal(verdict(""), CHECK_LINEARIZABLE);
}

/* ---- not linearizable ---------------------------------------------------------------------- */

/* A read after a completed put, delete and put returns the first, stale value. */
static void stale_read_after_completed_put(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "v1", 10) OKP(1, "a", "v1", "ok", 20) INV(1, "delete", "a", 30)
        OKD(1, "a", "ok", 40) INVP(1, "a", "v2", 50) OKP(1, "a", "v2", "ok", 60)
            INV(2, "get", "a", 70) OKG(2, "a", "v1", 80);
    assert_int_equal(verdict(h), CHECK_NOT_LINEARIZABLE);
    /* and a read that misses a completed put */
    const char *h2 =
        INVP(1, "a", "v1", 10) OKP(1, "a", "v1", "ok", 20) INV(2, "get", "a", 30) OKGN(2, "a", 40);
    assert_int_equal(verdict(h2), CHECK_NOT_LINEARIZABLE);
}

/* Issue 12: the same stale read marked "stale":true (on its invoke, or on its completion) is
 * left out of the check, which counts it; "stale" on anything but a get is refused. */
static void stale_marked_reads_left_out(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "v1", 10) OKP(1, "a", "v1", "ok", 20) INV(1, "delete", "a", 30)
        OKD(1, "a", "ok", 40) INVP(1, "a", "v2", 50) OKP(
            1, "a", "v2", "ok",
            60) "{\"process\":2,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\",\"read\":\"stale\","
                "\"stale\":true,\"time\":70}\n" OKG(2, "a", "v1", 80)
                    INV(3, "get", "a", 90) "{\"process\":3,\"type\":\"ok\",\"f\":\"get\",\"key\":"
                                           "\"a\",\"result\":\"not_found\","
                                           "\"stale\":true,\"time\":95}\n";
    struct check_result r;
    assert_int_equal(verdict_opt(h, NULL, &r), CHECK_LINEARIZABLE);
    assert_int_equal(r.n_stale, 2);
    assert_int_equal(r.n_ops, 5);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    check_result_print(out, &r);
    fclose(out);
    assert_non_null(strstr(text, "2 stale reads left out"));
    free(text);
    check_result_free(&r);
    /* "stale":false is an ordinary read, and is checked */
    const char *h2 = INVP(1, "a", "v1", 10)
        OKP(1, "a", "v1", "ok",
            20) "{\"process\":2,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\",\"stale\":false,"
                "\"time\":30}\n" OKGN(2, "a", 40);
    assert_int_equal(verdict(h2), CHECK_NOT_LINEARIZABLE);
    struct check_history hist;
    char err[256];
    const char *bad = "{\"process\":1,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"a\","
                      "\"value\":\"x\",\"stale\":true,\"time\":1}\n";
    assert_int_equal(check_history_parse(bad, strlen(bad), "t.jsonl", &hist, err, sizeof err),
                     CHECK_EHISTORY);
    assert_non_null(strstr(err, "only a get can be \"stale\""));
    check_history_free(&hist);
    const char *notbool = "{\"process\":1,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\","
                          "\"stale\":1,\"time\":1}\n";
    assert_int_equal(
        check_history_parse(notbool, strlen(notbool), "t.jsonl", &hist, err, sizeof err),
        CHECK_ESYNTAX);
    assert_non_null(strstr(err, "\"stale\" must be true or false"));
    check_history_free(&hist);
}

/* A get returns a value nobody wrote. */
static void read_of_value_never_written(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "v1", 10) OKP(1, "a", "v1", "ok", 20) INV(2, "get", "a", 15)
        OKG(2, "a", "v9", 40);
    assert_int_equal(verdict(h), CHECK_NOT_LINEARIZABLE);
}

/* Two puts on an absent key both succeed with no delete between, concurrent or not. */
static void two_puts_both_ok(void **state)
{
    (void)state;
    const char *seq = INVP(1, "a", "x", 10) OKP(1, "a", "x", "ok", 20) INVP(2, "a", "y", 30)
        OKP(2, "a", "y", "ok", 40);
    assert_int_equal(verdict(seq), CHECK_NOT_LINEARIZABLE);
    const char *conc = INVP(1, "a", "x", 10) INVP(2, "a", "y", 11) OKP(1, "a", "x", "ok", 20)
        OKP(2, "a", "y", "ok", 21);
    assert_int_equal(verdict(conc), CHECK_NOT_LINEARIZABLE);
}

/* A delete reports ok on a key that was never present. */
static void delete_ok_on_never_present_key(void **state)
{
    (void)state;
    const char *h = INV(1, "delete", "a", 10) OKD(1, "a", "ok", 20);
    assert_int_equal(verdict(h), CHECK_NOT_LINEARIZABLE);
}

/* Once a read saw the new value, a later read must not see the old one. */
static void read_goes_back_in_time(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) INV(2, "get", "a", 20) OKG(2, "a", "x", 30)
        INV(3, "get", "a", 40) OKGN(3, "a", 50) OKP(1, "a", "x", "ok", 100);
    assert_int_equal(verdict(h), CHECK_NOT_LINEARIZABLE);
}

/* A fail op is definitely not applied: a read of its value is a violation. */
static void failed_put_observed(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) END(1, "fail", "put", "a", 20) INV(2, "get", "a", 30)
        OKG(2, "a", "x", 40);
    assert_int_equal(verdict(h), CHECK_NOT_LINEARIZABLE);
}

/* An info op takes effect after its invoke, never before. */
static void info_op_cannot_act_before_invoke(void **state)
{
    (void)state;
    const char *h = INV(2, "get", "a", 10) OKG(2, "a", "x", 20) INVP(1, "a", "x", 30)
        END(1, "info", "put", "a", 40);
    assert_int_equal(verdict(h), CHECK_NOT_LINEARIZABLE);
}

/* An info put on a present key changes nothing, so it cannot explain a later read. */
static void info_put_on_present_key_changes_nothing(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) OKP(1, "a", "x", "ok", 20) INVP(2, "a", "y", 30)
        END(2, "info", "put", "a", 40) INV(3, "get", "a", 50) OKG(3, "a", "y", 60);
    assert_int_equal(verdict(h), CHECK_NOT_LINEARIZABLE);
}

/* Keys are checked apart: a value written to "a" does not explain a read of "b". */
static void keys_checked_separately(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) OKP(1, "a", "x", "ok", 20) INV(2, "get", "b", 30)
        OKG(2, "b", "x", 40);
    struct check_result r;
    assert_int_equal(verdict_opt(h, NULL, &r), CHECK_NOT_LINEARIZABLE);
    assert_string_equal(r.key, "b");
    assert_int_equal(r.n_failed_keys, 1);
    check_result_free(&r);
}

/* Of two failing keys the one with fewer ops is reported. */
static void smallest_failing_key_reported(void **state)
{
    (void)state;
    const char *h = INVP(1, "big", "x", 10) OKP(1, "big", "x", "ok", 20) INV(1, "get", "big", 30)
        OKG(1, "big", "x", 40) INV(1, "delete", "big", 50) OKD(1, "big", "not_found", 60)
            INV(2, "delete", "small", 10) OKD(2, "small", "ok", 20);
    struct check_result r;
    assert_int_equal(verdict_opt(h, NULL, &r), CHECK_NOT_LINEARIZABLE);
    assert_string_equal(r.key, "small");
    assert_int_equal(r.key_ops, 1);
    assert_int_equal(r.n_failed_keys, 2);
    check_result_free(&r);
}

/* The report names the stuck read, the put that wrote the state and the final state. */
static void violation_report_names_the_ops(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "v1", 10) OKP(1, "a", "v1", "ok", 20) INV(3, "get", "a", 25)
        OKG(3, "a", "v1", 28) INV(2, "get", "a", 30) OKG(2, "a", "v9", 40);
    struct check_result r;
    assert_int_equal(verdict_opt(h, NULL, &r), CHECK_NOT_LINEARIZABLE);
    assert_int_equal(r.key_ops, 3);
    assert_int_equal(r.prefix_len, 2);
    assert_true(r.state_present);
    assert_string_equal(r.state_value, "v1");
    assert_int_equal(r.n_report_ops, 2); /* the stuck get and the put that wrote "v1" */
    assert_int_equal(r.ops[0].f, CHECK_F_PUT);
    assert_false(r.ops[0].stuck);
    assert_int_equal(r.ops[1].process, 2);
    assert_true(r.ops[1].stuck);
    assert_string_equal(r.ops[1].value, "v9");
    assert_int_equal(r.ops[1].invoke_line, 5);
    assert_int_equal(r.ops[1].complete_line, 6);

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    check_result_print(out, &r);
    fclose(out);
    print_message("%s", text);
    assert_non_null(strstr(text, "NOT linearizable: key \"a\""));
    assert_non_null(strstr(text, "process 2    get    -> found \"v9\""));
    assert_non_null(strstr(text, "lines 5-6"));
    free(text);
    check_result_free(&r);
}

/* The linearizable summary line has the agreed shape. */
static void linearizable_summary_line(void **state)
{
    (void)state;
    const char *h = INVP(1, "a", "x", 10) OKP(1, "a", "x", "ok", 20) INV(1, "get", "b", 30)
        OKGN(1, "b", 40) INV(1, "get", "b", 50) END(1, "fail", "get", "b", 60);
    struct check_result r;
    assert_int_equal(verdict_opt(h, NULL, &r), CHECK_LINEARIZABLE);
    assert_int_equal(r.n_ok, 2);
    assert_int_equal(r.n_fail, 1);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    check_result_print(out, &r);
    fclose(out);
    assert_string_equal(text, "linearizable: 3 ops (2 keys)\n");
    free(text);
    check_result_free(&r);
}

/* The sample files under test/check/ give their verdicts (skipped outside the repository root). */
static void sample_files_give_their_verdicts(void **state)
{
    (void)state;
    struct check_history h;
    char err[256];
    if (check_history_load("test/check/linearizable.jsonl", &h, err, sizeof err) == CHECK_EIO) {
        print_message("not run from the repository root: %s\n", err);
        skip();
    }
    struct check_result r;
    check_linearizable(&h, NULL, &r);
    assert_int_equal(r.verdict, CHECK_LINEARIZABLE);
    assert_int_equal(r.n_ops, 8);
    assert_int_equal(r.n_info, 3);
    check_result_free(&r);
    check_history_free(&h);

    assert_int_equal(check_history_load("test/check/stale_read.jsonl", &h, err, sizeof err), 0);
    check_linearizable(&h, NULL, &r);
    assert_int_equal(r.verdict, CHECK_NOT_LINEARIZABLE);
    assert_string_equal(r.key, "a");
    check_result_print(stdout, &r);
    check_result_free(&r);
    check_history_free(&h);

    assert_int_equal(check_history_load("test/check/malformed.jsonl", &h, err, sizeof err),
                     CHECK_EHISTORY);
    assert_string_equal(err, "test/check/malformed.jsonl:2: process 1 invokes while its put from "
                             "line 1 is still in flight");
    check_history_free(&h);
}

/* ---- synthetic histories ----------------------------------------------------------------------
 */

struct gen_op {
    uint32_t process;
    uint32_t key;
    int f;    /* 0 put, 1 get, 2 delete */
    int type; /* 0 ok, 1 fail, 2 info */
    bool applied;
    int result;     /* put/delete: 0 ok, 1 exists/not_found; get: 0 found, 1 not_found */
    uint64_t value; /* put: value number; get found: the value read */
    uint64_t invoke, lin, complete;
};

struct gen_event {
    uint64_t time;
    uint32_t op;
    bool completion;
};

static int by_lin(const void *a, const void *b)
{
    const struct gen_op *const *x = a, *const *y = b;
    return (*x)->lin < (*y)->lin ? -1 : (*x)->lin > (*y)->lin;
}

static int by_event_time(const void *a, const void *b)
{
    const struct gen_event *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op;
}

struct buf {
    char *p;
    size_t len, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap ? 2 * b->cap : 1 << 20;
        b->p = xrealloc(b->p, b->cap);
    }
}

/* Simulates n_ops operations of n_clients clients on a sequential store of n_keys keys: each op
 * takes effect at a random point inside its interval (info ops: with probability 1/2, fail ops:
 * never), results come from the store, so the history is linearizable by construction. With
 * plant_key >= 0, one successful get on that key midway reads a value never written to it. */
static char *generate(uint64_t seed, size_t n_ops, uint32_t n_keys, uint32_t n_clients,
                      unsigned info_permille, unsigned fail_permille, int plant_key, size_t *len)
{
    struct prng rng;
    prng_seed(&rng, seed);
    struct gen_op *ops = xcalloc(n_ops, sizeof *ops);
    uint64_t *t = xcalloc(n_clients, sizeof *t);
    for (uint32_t c = 0; c < n_clients; c++)
        t[c] = prng_range(&rng, 0, 2000);
    for (size_t i = 0; i < n_ops; i++) {
        struct gen_op *o = &ops[i];
        uint32_t c = (uint32_t)(i % n_clients);
        o->process = c + 1;
        o->key = (uint32_t)prng_range(&rng, 0, n_keys - 1);
        uint64_t r = prng_range(&rng, 0, 99);
        o->f = r < 40 ? 0 : r < 75 ? 1 : 2;
        o->value = i;
        o->invoke = t[c] + prng_range(&rng, 1, 2000);
        o->lin = o->invoke + prng_range(&rng, 1, 5000);
        o->complete = o->lin + prng_range(&rng, 1, 5000);
        t[c] = o->complete;
        uint64_t k = prng_range(&rng, 0, 999);
        o->type = k < info_permille ? 2 : k < info_permille + fail_permille ? 1 : 0;
        o->applied = o->type == 0 || (o->type == 2 && prng_range(&rng, 0, 1) == 1);
    }
    /* apply in linearization order */
    struct gen_op **order = xcalloc(n_ops, sizeof *order);
    for (size_t i = 0; i < n_ops; i++)
        order[i] = &ops[i];
    qsort(order, n_ops, sizeof *order, by_lin);
    int64_t *store = xcalloc(n_keys, sizeof *store); /* -1 absent, else value number */
    for (uint32_t k = 0; k < n_keys; k++)
        store[k] = -1;
    for (size_t i = 0; i < n_ops; i++) {
        struct gen_op *o = order[i];
        if (!o->applied)
            continue;
        int64_t *s = &store[o->key];
        if (o->f == 0) {
            o->result = *s < 0 ? 0 : 1;
            if (*s < 0)
                *s = (int64_t)o->value;
        } else if (o->f == 1) {
            o->result = *s < 0 ? 1 : 0;
            if (*s >= 0)
                o->value = (uint64_t)*s;
        } else {
            o->result = *s < 0 ? 1 : 0;
            *s = -1;
        }
    }
    free(order);
    free(store);
    if (plant_key >= 0) {
        for (size_t i = n_ops / 2; i < n_ops; i++) {
            struct gen_op *o = &ops[i];
            if (o->key == (uint32_t)plant_key && o->f == 1 && o->type == 0 && o->result == 0) {
                o->value = UINT64_MAX; /* printed as "planted": never written */
                break;
            }
        }
    }
    struct gen_event *ev = xcalloc(2 * n_ops, sizeof *ev);
    for (size_t i = 0; i < n_ops; i++) {
        ev[2 * i] = (struct gen_event){.time = ops[i].invoke, .op = (uint32_t)i};
        ev[2 * i + 1] =
            (struct gen_event){.time = ops[i].complete, .op = (uint32_t)i, .completion = true};
    }
    qsort(ev, 2 * n_ops, sizeof *ev, by_event_time);
    static const char *const fname[] = {"put", "get", "delete"};
    static const char *const tname[] = {"ok", "fail", "info"};
    struct buf b = {0};
    for (size_t i = 0; i < 2 * n_ops; i++) {
        const struct gen_op *o = &ops[ev[i].op];
        bprintf(&b, "{\"process\":%u,\"type\":\"%s\",\"f\":\"%s\",\"key\":\"k%u\"", o->process,
                ev[i].completion ? tname[o->type] : "invoke", fname[o->f], o->key);
        bool has_value = o->f == 0 && (!ev[i].completion || o->type == 0);
        if (ev[i].completion && o->type == 0) {
            static const char *const rname[3][2] = {
                {"ok", "exists"}, {"found", "not_found"}, {"ok", "not_found"}};
            bprintf(&b, ",\"result\":\"%s\"", rname[o->f][o->result]);
            has_value = has_value || (o->f == 1 && o->result == 0);
        }
        if (has_value && o->value == UINT64_MAX)
            bprintf(&b, ",\"value\":\"planted\"");
        else if (has_value)
            bprintf(&b, ",\"value\":\"v%llu\"", (unsigned long long)o->value);
        bprintf(&b, ",\"seq\":%zu,\"time\":%llu}\n", i, (unsigned long long)ev[i].time);
    }
    free(ev);
    free(ops);
    free(t);
    *len = b.len;
    return b.p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check_generated(uint64_t seed, size_t n_ops, unsigned info_permille,
                            unsigned fail_permille, int plant_key, struct check_result *r)
{
    size_t len;
    char *text = generate(seed, n_ops, 5, 64, info_permille, fail_permille, plant_key, &len);
    struct check_history h;
    char err[256];
    double t0 = now_s();
    int rc = check_history_parse(text, len, "synthetic.jsonl", &h, err, sizeof err);
    if (rc != 0)
        fail_msg("parse: %s", err);
    double t1 = now_s();
    assert_int_equal(h.n_ops, n_ops);
    assert_int_equal(check_linearizable(&h, NULL, r), 0);
    double t2 = now_s();
    print_message("seed %llu: %zu ops, %zu keys, 64 clients, info %u/1000, fail %u/1000: %s; "
                  "parse %.2fs, check %.2fs, %llu steps\n",
                  (unsigned long long)seed, n_ops, h.n_keys, info_permille, fail_permille,
                  check_verdict_name(r->verdict), t1 - t0, t2 - t1, (unsigned long long)r->steps);
    if (r->verdict != CHECK_LINEARIZABLE)
        check_result_print(stdout, r);
    check_history_free(&h);
    free(text);
}

/* 100,000 ops over 5 keys from 64 clients, linearizable by construction, are found so. */
static void large_linearizable_history(void **state)
{
    (void)state;
    struct check_result r;
    check_generated(1, 100000, 0, 0, -1, &r);
    assert_int_equal(r.verdict, CHECK_LINEARIZABLE);
    assert_int_equal(r.n_ok, 100000);
    check_result_free(&r);
}

/* The same with 1% info and 1% fail ops (info ops took effect or not at random). */
static void large_history_with_info_and_fail(void **state)
{
    (void)state;
    struct check_result r;
    check_generated(2, 100000, 10, 10, -1, &r);
    assert_int_equal(r.verdict, CHECK_LINEARIZABLE);
    assert_true(r.n_info > 0 && r.n_fail > 0);
    check_result_free(&r);
}

/* One read of a never-written value planted midway in 100,000 ops is found, on the right key. */
static void large_history_planted_violation(void **state)
{
    (void)state;
    for (int key = 1; key < 5; key += 3) {
        struct check_result r;
        check_generated(3 + (uint64_t)key, 100000, 10, 10, key, &r);
        assert_int_equal(r.verdict, CHECK_NOT_LINEARIZABLE);
        char want[16];
        snprintf(want, sizeof want, "k%d", key);
        assert_string_equal(r.key, want);
        assert_int_equal(r.n_failed_keys, 1);
        bool planted_is_stuck = false;
        for (size_t i = 0; i < r.n_report_ops; i++)
            if (r.ops[i].stuck && r.ops[i].value && strcmp(r.ops[i].value, "planted") == 0)
                planted_is_stuck = true;
        assert_true(planted_is_stuck);
        check_result_free(&r);
    }
}

/* A search that exceeds its step budget says unknown and names the key, never loops on. */
static void step_budget_gives_unknown(void **state)
{
    (void)state;
    size_t len;
    char *text = generate(7, 2000, 1, 16, 0, 0, -1, &len);
    struct check_options opt = {.max_steps_per_key = 100};
    struct check_result r;
    assert_int_equal(verdict_opt(text, &opt, &r), CHECK_UNKNOWN);
    assert_string_equal(r.key, "k0");
    assert_string_equal(r.unknown_reason, "steps");
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    check_result_print(f, &r);
    fclose(f);
    assert_non_null(strstr(out, "unknown: search budget exhausted on key \"k0\""));
    free(out);
    check_result_free(&r);
    free(text);
}

/* A memo that would outgrow its memory budget says unknown as well. */
static void memory_budget_gives_unknown(void **state)
{
    (void)state;
    size_t len;
    char *text = generate(8, 2000, 1, 16, 0, 0, -1, &len);
    struct check_options opt = {.max_memory_per_key = 4096};
    struct check_result r;
    assert_int_equal(verdict_opt(text, &opt, &r), CHECK_UNKNOWN);
    assert_string_equal(r.unknown_reason, "memory");
    check_result_free(&r);
    free(text);
}

/* One history line with optional value and result (NULL: left out). */
static void jline(char *buf, size_t cap, unsigned p, const char *type, const char *f,
                  const char *key, const char *value, const char *result, unsigned long long t)
{
    int n = snprintf(buf, cap, "{\"process\":%u,\"type\":\"%s\",\"f\":\"%s\",\"key\":\"%s\"", p,
                     type, f, key);
    if (value != NULL)
        n += snprintf(buf + n, cap - (size_t)n, ",\"value\":\"%s\"", value);
    if (result != NULL)
        n += snprintf(buf + n, cap - (size_t)n, ",\"result\":\"%s\"", result);
    snprintf(buf + n, cap - (size_t)n, ",\"time\":%llu}\n", t);
}

/* A violation on one key outranks budget exhaustion on another. */
static void violation_outranks_unknown(void **state)
{
    (void)state;
    struct buf text = {0};
    /* key a: two puts both ok, a violation found in 10 steps */
    bprintf(&text, "%s",
            INVP(1, "a", "x", 10) OKP(1, "a", "x", "ok", 20) INVP(1, "a", "y", 30)
                OKP(1, "a", "y", "ok", 40));
    /* key b: 30 reads, linearizable in 30 steps */
    for (int i = 0; i < 30; i++) {
        char line[160];
        jline(line, sizeof line, 2, "invoke", "get", "b", NULL, NULL, 100 + 10 * (unsigned)i);
        bprintf(&text, "%s", line);
        jline(line, sizeof line, 2, "ok", "get", "b", NULL, "not_found", 105 + 10 * (unsigned)i);
        bprintf(&text, "%s", line);
    }
    struct check_options opt = {.max_steps_per_key = 20};
    struct check_result r;
    assert_int_equal(verdict_opt(text.p, &opt, &r), CHECK_NOT_LINEARIZABLE);
    assert_string_equal(r.key, "a");
    assert_int_equal(r.n_unknown_keys, 1);
    check_result_free(&r);
    free(text.p);
}

/* Many small random histories, linearizable by construction, are all found linearizable; each
 * with one read changed to a never-written value is not (the seed is printed on failure). */
static void random_small_histories(void **state)
{
    (void)state;
    for (uint64_t seed = 100; seed < 400; seed++) {
        size_t len;
        char *text = generate(seed, 60, 2, 6, 100, 50, -1, &len);
        struct check_result r;
        enum check_verdict v = verdict_opt(text, NULL, &r);
        if (v != CHECK_LINEARIZABLE) {
            check_result_print(stdout, &r);
            fail_msg("seed %llu: expected linearizable", (unsigned long long)seed);
        }
        check_result_free(&r);
        free(text);
        text = generate(seed, 60, 2, 6, 100, 50, 0, &len);
        if (strstr(text, "planted") != NULL) {
            v = verdict_opt(text, NULL, NULL);
            if (v != CHECK_NOT_LINEARIZABLE)
                fail_msg("seed %llu: planted read not found", (unsigned long long)seed);
        }
        free(text);
    }
}

/* ---- differential test against a brute-force checker --------------------------------------------
 */

struct brute {
    const struct check_history *h;
    size_t n;
    const struct check_op *ops[16];
    bool done[16];
};

static bool same_value(const struct check_op *a, const struct check_op *b)
{
    return a->value_len == b->value_len && memcmp(a->value, b->value, a->value_len) == 0;
}

/* Every order of every subset of the info ops with all the ok ops, in real-time order. */
static bool brute_search(struct brute *b, const struct check_op *state)
{
    bool all_ok = true;
    for (size_t i = 0; i < b->n; i++)
        if (!b->done[i] && b->ops[i]->type == CHECK_OK)
            all_ok = false;
    if (all_ok)
        return true;
    for (size_t i = 0; i < b->n; i++) {
        const struct check_op *o = b->ops[i];
        if (b->done[i])
            continue;
        bool blocked = false;
        for (size_t j = 0; j < b->n; j++)
            if (!b->done[j] && j != i && b->ops[j]->type == CHECK_OK &&
                b->ops[j]->complete_ns < o->invoke_ns)
                blocked = true;
        if (blocked)
            continue;
        bool any = o->type == CHECK_INFO;
        const struct check_op *next = state;
        bool ok;
        if (o->f == CHECK_F_PUT) {
            ok = any || o->result == (state ? CHECK_RES_EXISTS : CHECK_RES_OK);
            next = state ? state : o;
        } else if (o->f == CHECK_F_GET) {
            ok = any || (state ? o->result == CHECK_RES_FOUND && same_value(o, state)
                               : o->result == CHECK_RES_NOT_FOUND);
        } else {
            ok = any || o->result == (state ? CHECK_RES_OK : CHECK_RES_NOT_FOUND);
            next = NULL;
        }
        if (!ok)
            continue;
        b->done[i] = true;
        bool found = brute_search(b, next);
        b->done[i] = false;
        if (found)
            return true;
    }
    return false;
}

static enum check_verdict brute_verdict(const struct check_history *h)
{
    struct brute b = {.h = h};
    for (size_t i = 0; i < h->n_ops; i++) {
        if (h->ops[i].type == CHECK_FAIL)
            continue;
        assert_true(b.n < 16);
        b.ops[b.n++] = &h->ops[i];
    }
    return brute_search(&b, NULL) ? CHECK_LINEARIZABLE : CHECK_NOT_LINEARIZABLE;
}

struct rev {
    uint64_t time;
    uint32_t order;
    char line[160];
};

static int rev_cmp(const void *a, const void *b)
{
    const struct rev *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Random tiny histories with random results (so both verdicts occur), info, fail and unfinished
 * ops, ties in time: the checker agrees with the brute force on every one (seed printed). */
static void agrees_with_brute_force(void **state)
{
    (void)state;
    static const char *const fname[] = {"put", "get", "delete"};
    static const char *const vals[] = {"a", "b", "c"};
    size_t yes = 0, no = 0;
    for (uint64_t seed = 1; seed <= 50000; seed++) {
        struct prng rng;
        prng_seed(&rng, seed);
        struct rev ev[32];
        size_t n_ev = 0;
        uint32_t order = 0;
        size_t n_ops = 0;
        for (uint32_t p = 1; p <= 3; p++) {
            uint64_t t = prng_range(&rng, 0, 4);
            size_t k = prng_range(&rng, 0, 3);
            for (size_t i = 0; i < k && n_ops < 8; i++, n_ops++) {
                int f = (int)prng_range(&rng, 0, 2);
                const char *v = vals[prng_range(&rng, 0, 2)];
                uint64_t inv = t + prng_range(&rng, 0, 3);
                uint64_t cmp = inv + prng_range(&rng, 0, 6);
                t = cmp;
                uint64_t kind = prng_range(&rng, 0, 19);
                const char *type = kind < 11 ? "ok" : kind < 17 ? "info" : "fail";
                bool last = i + 1 == k;
                bool unfinished = last && kind == 19;
                struct rev *e = &ev[n_ev++];
                e->time = inv;
                e->order = order++;
                jline(e->line, sizeof e->line, p, "invoke", fname[f], "x", f == 0 ? v : NULL, NULL,
                      inv);
                if (unfinished)
                    continue;
                e = &ev[n_ev++];
                e->time = cmp;
                e->order = order++;
                const char *value = NULL, *result = NULL;
                if (strcmp(type, "ok") == 0) {
                    uint64_t coin = prng_range(&rng, 0, 1);
                    if (f == 0) {
                        value = v;
                        result = coin ? "ok" : "exists";
                    } else if (f == 1) {
                        result = coin ? "found" : "not_found";
                        value = coin ? vals[prng_range(&rng, 0, 2)] : NULL;
                    } else {
                        result = coin ? "ok" : "not_found";
                    }
                }
                jline(e->line, sizeof e->line, p, type, fname[f], "x", value, result, cmp);
            }
        }
        qsort(ev, n_ev, sizeof *ev, rev_cmp);
        struct buf text = {0};
        bprintf(&text, "%s", "");
        for (size_t i = 0; i < n_ev; i++)
            bprintf(&text, "%s", ev[i].line);
        struct check_history h;
        char err[256];
        if (check_history_parse(text.p, text.len, "r.jsonl", &h, err, sizeof err) != 0)
            fail_msg("seed %llu: %s\n%s", (unsigned long long)seed, err, text.p);
        struct check_result r;
        check_linearizable(&h, NULL, &r);
        enum check_verdict want = brute_verdict(&h);
        if (r.verdict != want) {
            check_result_print(stdout, &r);
            fail_msg("seed %llu: checker says %s, brute force %s:\n%s", (unsigned long long)seed,
                     check_verdict_name(r.verdict), check_verdict_name(want), text.p);
        }
        yes += want == CHECK_LINEARIZABLE;
        no += want != CHECK_LINEARIZABLE;
        check_result_free(&r);
        check_history_free(&h);
        free(text.p);
    }
    print_message("%zu linearizable, %zu not\n", yes, no);
    assert_true(yes > 1000 && no > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sequential_history_linearizable),
        cmocka_unit_test(concurrent_puts_one_wins),
        cmocka_unit_test(get_sees_concurrent_put),
        cmocka_unit_test(info_put_that_took_effect),
        cmocka_unit_test(info_ops_that_did_not_take_effect),
        cmocka_unit_test(unfinished_invoke_may_take_effect),
        cmocka_unit_test(fail_ops_ignored),
        cmocka_unit_test(empty_history_linearizable),
        cmocka_unit_test(stale_read_after_completed_put),
        cmocka_unit_test(stale_marked_reads_left_out),
        cmocka_unit_test(read_of_value_never_written),
        cmocka_unit_test(two_puts_both_ok),
        cmocka_unit_test(delete_ok_on_never_present_key),
        cmocka_unit_test(read_goes_back_in_time),
        cmocka_unit_test(failed_put_observed),
        cmocka_unit_test(info_op_cannot_act_before_invoke),
        cmocka_unit_test(info_put_on_present_key_changes_nothing),
        cmocka_unit_test(keys_checked_separately),
        cmocka_unit_test(smallest_failing_key_reported),
        cmocka_unit_test(violation_report_names_the_ops),
        cmocka_unit_test(linearizable_summary_line),
        cmocka_unit_test(sample_files_give_their_verdicts),
        cmocka_unit_test(step_budget_gives_unknown),
        cmocka_unit_test(memory_budget_gives_unknown),
        cmocka_unit_test(violation_outranks_unknown),
        cmocka_unit_test(random_small_histories),
        cmocka_unit_test(agrees_with_brute_force),
        cmocka_unit_test(large_linearizable_history),
        cmocka_unit_test(large_history_with_info_and_fail),
        cmocka_unit_test(large_history_planted_violation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
