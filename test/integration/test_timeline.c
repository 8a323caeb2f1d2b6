/* test_timeline.c - the timeline renderer (timeline/): what it draws matches what the trace and
 * the history hold (arrows, drops, duplicates, role changes, commits, client operations,
 * membership changes as the scenario host words them, configurations and leadership transfers),
 * bad input is an error naming its line, the output is the same byte for byte (and a run without
 * membership changes is drawn as before), and the Perfetto file is well-formed: every flow start
 * has its end, and slices nest on each track.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check/linearize.h"
#include "common/alloc.h"
#include "host/scenario_host.h"
#include "runtime/trace.h"
#include "timeline/model.h"
#include "timeline/timeline.h"

#define GOLDEN "test/golden/timeline/"

static char tmp_dir[] = "/tmp/test_timeline.XXXXXX";

static const char *tmp_path(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 256, "%s/%s", tmp_dir, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 4096;
            buf = xrealloc(buf, cap);
        }
        buf[n++] = (char)c;
    }
    fclose(f);
    if (buf == NULL)
        buf = xmalloc(1);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Lines of path that contain every one of the NULL-ended needles. */
static size_t count_lines(const char *path, ...)
{
    size_t len;
    char *text = read_all(path, &len);
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        va_list ap;
        va_start(ap, path);
        bool all = true;
        for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
            all = all && strstr(line, s) != NULL;
        va_end(ap);
        n += all;
    }
    free(text);
    return n;
}

/* Files a and b hold the same bytes. */
static void assert_same_bytes(const char *a, const char *b)
{
    size_t n1, n2;
    char *x = read_all(a, &n1), *y = read_all(b, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(x, y, n1);
    free(x);
    free(y);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Renders trace and hist and checks that every count the renderer reports equals the count of
 * the lines that carry it in the input. */
static struct timeline_stats check_counts(const char *trace, const char *hist)
{
    struct timeline_stats st;
    char err[256];
    if (timeline_render(trace, hist, NULL, NULL, &st, err, sizeof err) != 0)
        fail_msg("%s", err);
    size_t recv = count_lines(trace, "\"dir\":\"recv\"", NULL);
    assert_int_equal(st.arrows + st.orphans, recv);
    assert_int_equal(st.orphans, 0);
    assert_int_equal(st.drops, count_lines(trace, "\"dir\":\"drop\"", NULL));
    assert_int_equal(st.duplicates, count_lines(trace, "\"dir\":\"dup\"", NULL));
    assert_int_equal(st.messages, count_lines(trace, "\"dir\":\"send\"", NULL));
    assert_int_equal(st.role_changes, count_lines(trace, "\"event\":\"role\"", NULL));
    assert_int_equal(st.term_changes, count_lines(trace, "\"event\":\"term\"", NULL));
    assert_int_equal(st.commits, count_lines(trace, "\"event\":\"commit\"", "\"index\"", NULL));
    assert_int_equal(st.applies, count_lines(trace, "\"event\":\"apply\"", "\"index\"", NULL));
    assert_int_equal(st.snapshots, count_lines(trace, "\"event\":\"snapshot\"", "\"index\"", NULL));
    assert_int_equal(st.states, count_lines(trace, "\"event\":\"state\"", NULL));
    assert_int_equal(st.faults, count_lines(trace, "\"event\":\"fault\"", NULL));
    assert_int_equal(st.ops, count_lines(hist, "\"invoke\"", NULL));
    assert_int_equal(st.ops_ok, count_lines(hist, "\"type\":\"ok\"", NULL));
    assert_int_equal(st.ops_fail, count_lines(hist, "\"type\":\"fail\"", NULL));
    /* info: the completions, and the invokes never completed */
    assert_int_equal(st.ops_ok + st.ops_fail + st.ops_info, st.ops);
    assert_true(st.ops_info >= count_lines(hist, "\"type\":\"info\"", NULL));
    return st;
}

/* The hand-written scene: the counts, and what it was written to hold. */
static void counts_match_the_hand_written_scene(void **state)
{
    (void)state;
    const char *trace = GOLDEN "hand_basic.trace.jsonl", *hist = GOLDEN "hand_basic.history.jsonl";
    struct timeline_stats st = check_counts(trace, hist);
    assert_int_equal(st.heartbeat_msgs,
                     count_lines(trace, "\"dir\":\"recv\"", "\"heartbeat\":true", NULL) +
                         count_lines(trace, "\"dir\":\"drop\"", "\"heartbeat\":true", NULL));
    assert_int_equal(st.ops_info, count_lines(hist, "\"type\":\"info\"", NULL) + 1);
    assert_int_equal(st.nodes, 3);
    assert_int_equal(st.clients, 2);
    assert_int_equal(st.lost, 1); /* the last AppendEntries, in flight at the end */
    assert_int_equal(st.ops_linked, 1);
    assert_int_equal(st.verdict, CHECK_LINEARIZABLE);
    assert_int_equal(st.ops_bad, 0);
    assert_true(st.heartbeat_runs >= 1);
}

/* Simulated runs (the seeded scenes of test/golden/timeline/): the same counts; every client
 * command that was applied is linked to its entry; a partition's drops and duplicates are there. */
static void counts_match_simulated_runs(void **state)
{
    (void)state;
    static const char *const scenes[] = {"sim_election", "sim_leader_crash", "sim_partition"};
    for (size_t i = 0; i < sizeof scenes / sizeof scenes[0]; i++) {
        char trace[256], hist[256];
        snprintf(trace, sizeof trace, GOLDEN "%s.trace.jsonl", scenes[i]);
        snprintf(hist, sizeof hist, GOLDEN "%s.history.jsonl", scenes[i]);
        struct timeline_stats st = check_counts(trace, hist);
        assert_int_equal(st.verdict, CHECK_LINEARIZABLE);
        assert_true(st.ops_linked > 0);
        assert_true(st.heartbeat_msgs > 0 && st.heartbeat_runs > 0);
        assert_true(st.role_changes >= 3);
        if (i == 2)
            assert_true(st.drops > 0 && st.duplicates > 0 && st.faults >= 4);
    }
}

/* The layout: node 1's role over time is follower, pre-candidate, candidate, leader; node 3's
 * lane is cut from its crash to its restart; term 1 is led by node 1. */
static void roles_terms_and_crashes_are_laid_out(void **state)
{
    (void)state;
    struct tl_model m;
    memset(&m, 0, sizeof m);
    char err[256];
    assert_int_equal(tl_read_trace(&m, GOLDEN "hand_basic.trace.jsonl", err, sizeof err), 0);
    tl_layout(&m);
    enum tl_role want[] = {TL_ROLE_FOLLOWER, TL_ROLE_PRECANDIDATE, TL_ROLE_CANDIDATE,
                           TL_ROLE_LEADER};
    size_t k = 0;
    int64_t crash = -1, restart = -1;
    for (size_t i = 0; i < m.faults.n; i++) {
        if (m.faults.v[i].kind == TL_F_CRASH)
            crash = m.faults.v[i].t0_ns;
        if (m.faults.v[i].kind == TL_F_RESTART)
            restart = m.faults.v[i].t0_ns;
    }
    assert_true(crash > 0 && restart > crash);
    for (size_t i = 0; i < m.spans.n; i++) {
        const struct tl_span *s = &m.spans.v[i];
        if (s->node == 1) {
            assert_true(k < 4);
            assert_int_equal(s->role, want[k++]);
        }
        if (s->node == 3) /* no span of node 3 overlaps its time down */
            assert_true(s->t1_ns <= crash || s->t0_ns >= restart);
    }
    assert_int_equal(k, 4);
    assert_int_equal(m.terms.n, 1);
    assert_int_equal(m.terms.v[0].term, 1);
    assert_int_equal(m.terms.v[0].leader, 1);
    assert_true(m.px_per_ms > 0 && m.width > 0 && m.lanes.n == 3);
    tl_model_free(&m);
}

/* A non-linearizable history: the ops the checker names are marked, and the page has the
 * "jump to the first error" control and the red ops. */
static void checker_failures_are_red(void **state)
{
    (void)state;
    struct timeline_stats st;
    char err[256];
    const char *html = tmp_path("nl.html");
    assert_int_equal(timeline_render(GOLDEN "hand_nonlinear.trace.jsonl",
                                     GOLDEN "hand_nonlinear.history.jsonl", html, NULL, &st, err,
                                     sizeof err),
                     0);
    assert_int_equal(st.verdict, CHECK_NOT_LINEARIZABLE);
    assert_int_equal(st.ops_bad, 3);
    size_t len;
    char *page = read_all(html, &len);
    assert_non_null(strstr(page, "id=\"jump\""));
    assert_non_null(strstr(page, "id=\"firstbad\""));
    assert_non_null(strstr(page, " bad stuck"));
    assert_null(strstr(page, "http://ex")); /* nothing fetched: no external address */
    assert_null(strstr(page, "<script src"));
    assert_null(strstr(page, "<link"));
    free(page);
}

/* The simulated run with one read changed to miss a write: not linearizable, the read named. */
static void a_simulated_stale_read_is_red(void **state)
{
    (void)state;
    struct timeline_stats st;
    char err[256];
    assert_int_equal(timeline_render(GOLDEN "sim_nonlinear.trace.jsonl",
                                     GOLDEN "sim_nonlinear.history.jsonl", NULL, NULL, &st, err,
                                     sizeof err),
                     0);
    assert_int_equal(st.verdict, CHECK_NOT_LINEARIZABLE);
    assert_true(st.ops_bad >= 2);
}

/* Renders twice: the same bytes. */
static void output_is_deterministic(void **state)
{
    (void)state;
    char err[256];
    const char *h1 = tmp_path("a.html"), *h2 = tmp_path("b.html");
    const char *p1 = tmp_path("a.json"), *p2 = tmp_path("b.json");
    assert_int_equal(timeline_render(GOLDEN "hand_basic.trace.jsonl",
                                     GOLDEN "hand_basic.history.jsonl", h1, p1, NULL, err,
                                     sizeof err),
                     0);
    assert_int_equal(timeline_render(GOLDEN "hand_basic.trace.jsonl",
                                     GOLDEN "hand_basic.history.jsonl", h2, p2, NULL, err,
                                     sizeof err),
                     0);
    assert_same_bytes(h1, h2);
    assert_same_bytes(p1, p2);
}

static const char good1[] =
    "{\"t_ms\":0.5,\"level\":\"info\",\"actor\":\"node 1\",\"event\":\"role\","
    "\"msg\":\"x\",\"role\":\"leader\",\"term\":1}\n";

/* Each bad line gives an error naming the file and that line, never a crash. */
static void bad_lines_are_errors_naming_the_line(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"t_ms\":1,\"actor\":\"node 1\",\"event\":\"role\"", /* cut short */
        "[1,2,3]",                                             /* not an object */
        "{\"actor\":\"node 1\",\"event\":\"role\"}",           /* no time */
        "{\"t_ms\":\"1\",\"event\":\"role\"}",                 /* time not a number */
        "{\"t_ms\":1,\"actor\":\"node 1\",\"event\":\"term\",\"term\":\"x\"}",
        "{\"t_ms\":1,\"actor\":\"node 1\",\"event\":\"commit\",\"index\":-3}",
        "{\"t_ms\":1,\"event\":\"msg\",\"dir\":\"sideways\",\"id\":\"m1\"}",
        "{\"t_ms\":1,\"event\":\"msg\",\"dir\":\"send\",\"id\":\"m1\",\"from\":\"a\"}",
        "{\"t_ms\":1,\"event\":\"msg\",\"dir\":\"send\",\"id\":\"m1\",\"heartbeat\":1}",
        "{\"t_ms\":1,\"event\":\"fault\",\"fault\":\"partition\",\"groups\":[1,2]}",
        "{\"t_ms\":1,\"event\":\"fault\",\"fault\":\"partition\",\"groups\":[[1],[\"x\"]]}",
        "{\"t_ms\":1,\"event\":\"fault\",\"fault\":\"crash\",\"node\":99999999999}",
        "{\"t_ms\":1e300,\"event\":\"x\"}",
        "{\"t_ms\":1,\"t_ms\":2,\"event\":\"x\"}", /* duplicate key */
        "{\"t_ms\":1,\"event\":\"history\",\"t0_ms\":\"zero\"}",
        "not json at all",
    };
    char path[256];
    snprintf(path, sizeof path, "%s", tmp_path("bad.jsonl"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s\n%s%s\n%s", good1, "\n", bad[i], good1);
        write_text(path, text);
        char err[512] = "";
        struct timeline_stats st;
        int rc = timeline_render(path, NULL, tmp_path("bad.html"), NULL, &st, err, sizeof err);
        char want[300];
        snprintf(want, sizeof want, "%s:4: ", path);
        if (rc != -1 || strncmp(err, want, strlen(want)) != 0)
            fail_msg("bad line %zu (%s): rc %d, err \"%s\"", i, bad[i], rc, err);
    }
    /* Missing fields are not errors: the line only draws less. */
    write_text(path, "{\"t_ms\":1,\"event\":\"msg\",\"dir\":\"send\"}\n"
                     "{\"t_ms\":2,\"actor\":\"node 2\",\"event\":\"commit\"}\n"
                     "{\"t_ms\":3,\"actor\":\"node 2\",\"event\":\"role\"}\n"
                     "{\"t_ms\":4,\"actor\":\"client 1\",\"event\":\"msg\",\"dir\":\"recv\","
                     "\"id\":\"zz\"}\n"
                     "{\"t_ms\":5,\"event\":\"fault\"}\n{\"t_ms\":6}\n");
    char err[512];
    struct timeline_stats st;
    assert_int_equal(
        timeline_render(path, NULL, tmp_path("ok.html"), tmp_path("ok.json"), &st, err, sizeof err),
        0);
    assert_int_equal(st.orphans, 1);
    assert_int_equal(st.commits, 0);
    assert_int_equal(st.role_changes, 1);
}

/* A bad history line names the history file and line; a missing file names the file. */
static void bad_history_and_missing_files_are_errors(void **state)
{
    (void)state;
    char hist[256];
    snprintf(hist, sizeof hist, "%s", tmp_path("h.jsonl"));
    write_text(hist, "{\"process\":1,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"a\",\"value\":"
                     "\"v\",\"time\":1}\n{\"process\":1,\"type\":\"ok\",\"f\":\"put\"\n");
    char err[512];
    assert_int_equal(
        timeline_render(GOLDEN "hand_basic.trace.jsonl", hist, NULL, NULL, NULL, err, sizeof err),
        -1);
    char want[300];
    snprintf(want, sizeof want, "%s:2: ", hist);
    assert_memory_equal(err, want, strlen(want));
    assert_int_equal(
        timeline_render(tmp_path("absent.jsonl"), NULL, NULL, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "absent.jsonl"));
    assert_int_equal(timeline_render(GOLDEN "hand_basic.trace.jsonl", NULL,
                                     tmp_path("no/such/dir/x.html"), NULL, NULL, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "x.html"));
}

/* Every line of the scene cut at every length: an error or a page, never a crash (the sanitizer
 * builds check the memory). */
static void truncated_lines_never_crash(void **state)
{
    (void)state;
    size_t len;
    char *text = read_all(GOLDEN "hand_basic.trace.jsonl", &len);
    char path[256];
    snprintf(path, sizeof path, "%s", tmp_path("cut.jsonl"));
    size_t tried = 0;
    for (size_t cut = 1; cut < len; cut += 37) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fwrite(text, 1, cut, f);
        fputs("\n", f);
        fwrite(text + cut, 1, len - cut, f);
        fclose(f);
        char err[512];
        int rc = timeline_render(path, NULL, tmp_path("cut.html"), tmp_path("cut.json"), NULL, err,
                                 sizeof err);
        assert_true(rc == 0 || rc == -1);
        tried++;
    }
    assert_true(tried > 50);
    free(text);
}

struct slice {
    int64_t pid, tid;
    double ts, end;
};

static int slice_cmp(const void *a, const void *b)
{
    const struct slice *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->tid != y->tid)
        return x->tid < y->tid ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->end > y->end ? -1 : x->end < y->end; /* the longer first: it is the parent */
}

/* The Perfetto file: JSON with traceEvents; every flow start ("s") has one end ("f") with its id;
 * complete slices ("X") nest on each track (pid, tid): any two are disjoint or one holds the
 * other; the counters and the tracks are there. */
static void check_perfetto(const char *trace, const char *hist)
{
    const char *out = tmp_path("p.json");
    char err[256];
    assert_int_equal(timeline_render(trace, hist, NULL, out, NULL, err, sizeof err), 0);
    json_error_t jerr;
    json_t *root = json_load_file(out, 0, &jerr);
    if (root == NULL)
        fail_msg("%s:%d: %s", out, jerr.line, jerr.text);
    json_t *events = json_object_get(root, "traceEvents");
    assert_true(json_is_array(events));
    size_t n = json_array_size(events), n_s = 0, n_f = 0, n_x = 0, n_c = 0, n_m = 0;
    int64_t *starts = xcalloc(n + 1, sizeof *starts), *ends = xcalloc(n + 1, sizeof *ends);
    struct slice *sl = xcalloc(n + 1, sizeof *sl);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(events, i);
        const char *ph = json_string_value(json_object_get(e, "ph"));
        assert_non_null(ph);
        if (strcmp(ph, "M") != 0) {
            assert_true(json_is_number(json_object_get(e, "ts")));
            assert_true(json_number_value(json_object_get(e, "ts")) >= 0);
        }
        if (strcmp(ph, "s") == 0)
            starts[n_s++] = json_integer_value(json_object_get(e, "id"));
        else if (strcmp(ph, "f") == 0)
            ends[n_f++] = json_integer_value(json_object_get(e, "id"));
        else if (strcmp(ph, "C") == 0)
            n_c++;
        else if (strcmp(ph, "M") == 0)
            n_m++;
        else if (strcmp(ph, "X") == 0) {
            double ts = json_number_value(json_object_get(e, "ts"));
            double dur = json_number_value(json_object_get(e, "dur"));
            assert_true(dur >= 0);
            sl[n_x++] = (struct slice){json_integer_value(json_object_get(e, "pid")),
                                       json_integer_value(json_object_get(e, "tid")), ts, ts + dur};
        }
    }
    /* flows: the same multiset of ids (each id once in each) */
    assert_int_equal(n_s, n_f);
    assert_true(n_s > 0);
    for (size_t i = 0; i < n_s; i++) {
        size_t found = 0;
        for (size_t j = 0; j < n_f; j++)
            found += ends[j] == starts[i];
        assert_int_equal(found, 1);
    }
    /* nesting per track: a stack of open slices */
    qsort(sl, n_x, sizeof *sl, slice_cmp);
    struct slice *stack = xcalloc(n_x + 1, sizeof *stack);
    size_t depth = 0;
    for (size_t i = 0; i < n_x; i++) {
        while (depth > 0 && (stack[depth - 1].pid != sl[i].pid ||
                             stack[depth - 1].tid != sl[i].tid || stack[depth - 1].end <= sl[i].ts))
            depth--;
        if (depth > 0 && sl[i].end > stack[depth - 1].end)
            fail_msg("slices overlap on pid %lld tid %lld: [%f, %f] and [%f, %f]",
                     (long long)sl[i].pid, (long long)sl[i].tid, stack[depth - 1].ts,
                     stack[depth - 1].end, sl[i].ts, sl[i].end);
        stack[depth++] = sl[i];
    }
    assert_true(n_x > 0 && n_c > 0 && n_m > 0);
    free(stack);
    free(sl);
    free(starts);
    free(ends);
    json_decref(root);
}

/* Writes the four membership faults of the scene below to path in format. */
static void trace_membership_faults(const char *path, enum trace_format format)
{
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    struct trace_options opt = {.level = TRACE_INFO, .format = format, .out = out};
    trace_open(&opt);
    static const struct {
        const char *who;
        enum cfg_fault_kind kind;
        uint32_t node;
        enum scenario_outcome outcome;
        const char *err;
    } scene[] = {
        {"faults", CFG_FAULT_ADD, 4, SCENARIO_APPLIED, ""},
        {"nemesis", CFG_FAULT_TRANSFER, 2, SCENARIO_APPLIED, ""},
        {"faults", CFG_FAULT_REMOVE, 3, SCENARIO_APPLIED, ""},
        {"nemesis", CFG_FAULT_ADD, 5, SCENARIO_FAILED, "no leader \"known\""},
    };
    for (size_t i = 0; i < 4; i++) {
        struct cfg_fault f = {.kind = scene[i].kind, .node = scene[i].node};
        struct scenario_applied a = {.who = scene[i].who,
                                     .fault = &f,
                                     .at_ms = 10 * i,
                                     .n_nodes = 5,
                                     .outcome = scene[i].outcome,
                                     .err = scene[i].err};
        scenario_trace_fault(&a);
    }
    trace_close();
    struct trace_options quiet = {.level = TRACE_QUIET, .format = TRACE_TEXT, .out = stderr};
    trace_open(&quiet);
    assert_int_equal(fclose(out), 0);
}

/* Membership changes (issue 16) are worded for people in the text trace, carry their kind and
 * node (and a refusal its reason) in the JSON one, and are drawn as fault flags on their node's
 * lane, a refused one saying why. */
static void membership_faults_are_traced_and_drawn(void **state)
{
    (void)state;
    const char *text = tmp_path("membership.txt");
    trace_membership_faults(text, TRACE_TEXT);
    assert_int_equal(count_lines(text, "faults",
                                 "asks the leader to add node 4 (a learner until it has caught up)",
                                 NULL),
                     1);
    assert_int_equal(
        count_lines(text, "nemesis", "asks the leader to hand leadership to node 2", NULL), 1);
    assert_int_equal(count_lines(text, "asks the leader to remove node 3", NULL), 1);
    assert_int_equal(
        count_lines(text, "asks the leader to add node 5: refused: no leader \"known\"", NULL), 1);
    const char *trace = tmp_path("membership.jsonl");
    trace_membership_faults(trace, TRACE_JSONL);
    assert_int_equal(
        count_lines(trace, "\"event\":\"fault\"", "\"fault\":\"add\"", "\"node\":4", NULL), 1);
    assert_int_equal(count_lines(trace, "\"fault\":\"transfer\"", "\"node\":2", NULL), 1);
    assert_int_equal(count_lines(trace, "\"fault\":\"remove\"", "\"node\":3", NULL), 1);
    assert_int_equal(count_lines(trace, "\"fault\":\"add\"", "\"node\":5",
                                 "\"refused\":\"no leader \\\"known\\\"\"", NULL),
                     1);
    assert_int_equal(count_lines(trace, "\"refused\"", NULL), 1);
    const char *html = tmp_path("membership.html");
    struct timeline_stats st;
    char err[256];
    if (timeline_render(trace, NULL, html, tmp_path("membership.json"), &st, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(st.faults, 4);
    assert_int_equal(st.nodes, 4); /* the lanes of nodes 2, 3, 4 and 5 */
    size_t len;
    char *page = read_all(html, &len);
    assert_non_null(strstr(page, "<title>add node 4 at "));
    assert_non_null(strstr(page, "<title>transfer node 2 at "));
    assert_non_null(strstr(page, "<title>remove node 3 at "));
    assert_non_null(strstr(page, ", refused: no leader &quot;known&quot; (line 4)</title>"));
    free(page);
}

/* A run that grows from 3 nodes to 4, hands its leadership to the new node, whose own transfer
 * then gives up, and removes and retires node 1; node 5 is a spare id that is never added. The
 * comments number the lines. */
/* clang-format off */
#define L(t, actor, event, rest) \
    "{\"t_ms\":" #t ",\"level\":\"info\",\"actor\":\"" actor "\",\"event\":\"" event "\"" rest "}\n"
#define CONFIG(t, node, entry, member, change) \
    L(t, node, "config", ",\"msg\":\"configuration of entry " #entry " in effect\",\"config\":" \
      #entry ",\"member\":" #member ",\"change\":\"" change "\"")
#define COMMITTED(t, node, entry) \
    L(t, node, "config", ",\"msg\":\"configuration entry " #entry " committed\"," \
      "\"config_committed\":" #entry)
#define TRANSFER(t, node, to, msg) L(t, node, "transfer", ",\"msg\":\"" msg "\",\"transfer\":" #to)
#define STATE0 ",\"term\":0,\"role\":\"follower\",\"last_index\":0,\"commit\":0,\"applied\":0"
static const char membership_scene[] =
    L(0, "node 4", "state", STATE0)                                                          /* 1 */
    L(0, "node 5", "state", STATE0)                                                          /* 2 */
    L(1, "node 1", "role", ",\"role\":\"leader\",\"term\":1")                                /* 3 */
    L(1, "node 2", "term", ",\"term\":1")                                                    /* 4 */
    L(1, "node 3", "term", ",\"term\":1")                                                    /* 5 */
    CONFIG(10, "node 1", 4, 4, "added as learner")                                           /* 6 */
    L(10.5, "node 1", "msg", ",\"dir\":\"send\",\"id\":\"1.0.1\",\"from\":1,\"to\":4,"
      "\"type\":\"AppendEntries\",\"term\":1,\"entries\":4")                                 /* 7 */
    CONFIG(11, "node 2", 4, 4, "added as learner")                                           /* 8 */
    L(11.5, "node 4", "msg", ",\"dir\":\"recv\",\"id\":\"1.0.1\",\"from\":1,\"to\":4")       /* 9 */
    CONFIG(12, "node 4", 4, 4, "added as learner")                                          /* 10 */
    L(12, "node 1", "config", ",\"msg\":\"learner node 4 finished catch-up round 1 in 2 ms\"")
    COMMITTED(13, "node 1", 4)                                                              /* 12 */
    CONFIG(14, "node 1", 5, 4, "promoted to voter")                                         /* 13 */
    COMMITTED(15, "node 1", 5)                                                              /* 14 */
    TRANSFER(20, "node 1", 4, "hands leadership to node 4: no new entries meanwhile")       /* 15 */
    TRANSFER(21, "node 1", 4, "node 4 has the whole log: tells it to campaign now")         /* 16 */
    L(21, "node 1", "transfer", ",\"msg\":\"-> node 4: TimeoutNow term 1\"")                /* 17 */
    L(22, "node 4", "transfer", ",\"msg\":\"node 1 hands leadership over: campaigns now\"")
    L(23, "node 4", "role", ",\"role\":\"candidate\",\"term\":2")                           /* 19 */
    L(24, "node 1", "role", ",\"role\":\"follower\",\"term\":2")                            /* 20 */
    L(25, "node 4", "role", ",\"role\":\"leader\",\"term\":2")                              /* 21 */
    TRANSFER(30, "node 4", 2, "hands leadership to node 2: no new entries meanwhile")       /* 22 */
    TRANSFER(40, "node 4", 2, "gives up handing leadership to node 2: timed out; leads on")
    CONFIG(50, "node 4", 7, 1, "removed")                                                   /* 24 */
    CONFIG(51, "node 2", 7, 1, "removed")                                                   /* 25 */
    COMMITTED(52, "node 4", 7)                                                              /* 26 */
    L(53, "main", "config", ",\"msg\":\"node 1 retired: removed from the cluster\",\"retired\":1")
    L(60, "node 2", "commit", ",\"index\":8");                                              /* 28 */
/* clang-format on */

/* Configurations and transfers: a diamond on each node's band where a configuration took effect
 * there (hollow) and where it committed (filled), crowns for a leader's transfer steps and its
 * target told to run, the leader outlined for the transfer's length; a node outside the cluster
 * (not yet added, removed, or never named) has its lane shaded and no band, a learner's band is
 * outlined. The Perfetto file has them as instants and slices, and stays well-formed. */
static void configurations_and_transfers_are_drawn(void **state)
{
    (void)state;
    const char *trace = tmp_path("config.jsonl"), *html = tmp_path("config.html");
    const char *json = tmp_path("config.json");
    write_text(trace, membership_scene);
    struct timeline_stats st;
    char err[256];
    if (timeline_render(trace, NULL, html, json, &st, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(st.configs, count_lines(trace, "\"event\":\"config\"", "\"config\":", NULL));
    assert_int_equal(st.configs, 6);
    assert_int_equal(st.config_commits, count_lines(trace, "\"config_committed\"", NULL));
    assert_int_equal(st.transfers, 5); /* not the TimeoutNow sent: the message draws it */
    assert_int_equal(st.nodes, 5);
    size_t len;
    char *page = read_all(html, &len);
    static const char *const want[] = {
        "<use href=\"#cfg\" class=\"cfe\" x=",
        "<title>node 2: configuration of entry 4 in effect: node 4 added as learner at 11 ms "
        "(line 8)</title>",
        "<title>node 1: configuration of entry 5 in effect: node 4 promoted to voter at 14 ms "
        "(line 13)</title>",
        "<use href=\"#cfg\" class=\"cfc\" x=",
        "<title>node 4: configuration entry 7 committed at 52 ms (line 26)</title>",
        "<use href=\"#crown\" class=\"xf\" x=",
        "<title>node 1: hands leadership to node 4: no new entries meanwhile at 20 ms (line "
        "15)</title>",
        "<use href=\"#crown\" class=\"xf now\" x=",
        "<title>node 1: node 4 has the whole log: tells it to campaign now at 21 ms (line 16)",
        "<title>node 4: node 1 hands leadership over: campaigns now at 22 ms (line 18)</title>",
        "<use href=\"#crown\" class=\"xf gu\" x=",
        "<title>node 1: retired: removed from the cluster, the host stops it at 53 ms (line 27)",
        /* the transfer until node 1 steps down; the one that gave up */
        "<title>node 1 hands leadership to node 4, 20..24 ms: no new entries meanwhile (line "
        "15)</title>",
        "<title>node 4 hands leadership to node 2, 30..40 ms: no new entries meanwhile; gave up "
        "(line 22)</title>",
        /* membership: from the first line that shows each change */
        "<rect class=\"nm\"",
        "<title>node 4: not a member of the cluster yet, 0..10 ms</title>",
        "<title>node 4: a learner (gets the log, does not vote yet), 10..14 ms (configuration of "
        "entry 4, first in effect at line 6)</title>",
        "<title>node 1: not a member of the cluster: removed, 50..60 ms (configuration of entry "
        "7, first in effect at line 24)</title>",
        "<title>node 5: not a member of the cluster: no configuration names it, 0..60 ms</title>",
        "<pattern id=\"nmp\"",
        ".cfe{",
        "configuration <b class=\"cfcol\">",
        "6 configurations taking effect and 3 committing on their nodes, 5 leadership transfer "
        "steps",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(page, want[i]) == NULL)
            fail_msg("the page lacks: %s", want[i]);
    size_t crowns = 0;
    for (const char *p = page; (p = strstr(p, "href=\"#crown\"")) != NULL; p++)
        crowns++;
    assert_int_equal(crowns, 5);
    free(page);

    /* The bands: node 4's from the configuration that adds it, none for node 5, none for node 1
     * after its retirement. */
    struct tl_model m;
    memset(&m, 0, sizeof m);
    assert_int_equal(tl_read_trace(&m, trace, err, sizeof err), 0);
    tl_layout(&m);
    size_t spans4 = 0;
    for (size_t i = 0; i < m.spans.n; i++) {
        const struct tl_span *s = &m.spans.v[i];
        assert_true(s->node != 5);
        if (s->node == 4) {
            assert_true(s->t0_ns >= 10000000);
            spans4++;
        }
        if (s->node == 1)
            assert_true(s->t1_ns <= 53000000);
    }
    assert_true(spans4 >= 3); /* follower, candidate, leader */
    tl_model_free(&m);

    check_perfetto(trace, NULL);
    static const char *const want_json[] = {
        "\"name\":\"configuration of entry 4 in effect: node 4 added as "
        "learner\",\"cat\":\"config\"",
        "\"name\":\"configuration entry 7 committed\",\"cat\":\"config\"",
        "\"name\":\"hands leadership to node 4: no new entries meanwhile\",\"cat\":\"transfer\"",
        "\"name\":\"transfer to node 2 (gave up)\",\"cat\":\"transfer\"",
        "\"name\":\"learner\",\"cat\":\"membership\"",
        "\"name\":\"not a member\",\"cat\":\"membership\"",
        "\"args\":{\"name\":\"membership\"}",
    };
    char *pf = read_all(json, &len);
    for (size_t i = 0; i < sizeof want_json / sizeof want_json[0]; i++)
        if (strstr(pf, want_json[i]) == NULL)
            fail_msg("the Perfetto file lacks: %s", want_json[i]);
    free(pf);
}

/* A run without configuration or transfer lines is drawn as before: its page and Perfetto file
 * are the golden ones, with none of the membership marks, styles or legend. */
static void a_run_without_membership_changes_is_drawn_as_before(void **state)
{
    (void)state;
    static const char *const scenes[] = {"hand_basic", "sim_partition"};
    for (size_t i = 0; i < sizeof scenes / sizeof scenes[0]; i++) {
        char trace[256], hist[256], golden_html[256], golden_json[256];
        snprintf(trace, sizeof trace, GOLDEN "%s.trace.jsonl", scenes[i]);
        snprintf(hist, sizeof hist, GOLDEN "%s.history.jsonl", scenes[i]);
        snprintf(golden_html, sizeof golden_html, GOLDEN "%s.html", scenes[i]);
        snprintf(golden_json, sizeof golden_json, GOLDEN "%s.perfetto.json", scenes[i]);
        const char *html = tmp_path("plain.html"), *json = tmp_path("plain.json");
        struct timeline_stats st;
        char err[256];
        assert_int_equal(timeline_render(trace, hist, html, json, &st, err, sizeof err), 0);
        assert_int_equal(st.configs + st.config_commits + st.transfers, 0);
        assert_same_bytes(html, golden_html);
        assert_same_bytes(json, golden_json);
        size_t len;
        char *page = read_all(html, &len);
        assert_null(strstr(page, "href=\"#cfg\""));
        assert_null(strstr(page, "class=\"nm\""));
        assert_null(strstr(page, ".cfe{"));
        assert_null(strstr(page, "leadership transfer"));
        free(page);
        page = read_all(json, &len);
        assert_null(strstr(page, "membership"));
        free(page);
    }
}

static void perfetto_file_is_well_formed(void **state)
{
    (void)state;
    check_perfetto(GOLDEN "hand_basic.trace.jsonl", GOLDEN "hand_basic.history.jsonl");
    check_perfetto(GOLDEN "sim_partition.trace.jsonl", GOLDEN "sim_partition.history.jsonl");
    check_perfetto(GOLDEN "sim_leader_crash.trace.jsonl", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_match_the_hand_written_scene),
        cmocka_unit_test(counts_match_simulated_runs),
        cmocka_unit_test(roles_terms_and_crashes_are_laid_out),
        cmocka_unit_test(checker_failures_are_red),
        cmocka_unit_test(a_simulated_stale_read_is_red),
        cmocka_unit_test(output_is_deterministic),
        cmocka_unit_test(bad_lines_are_errors_naming_the_line),
        cmocka_unit_test(bad_history_and_missing_files_are_errors),
        cmocka_unit_test(truncated_lines_never_crash),
        cmocka_unit_test(perfetto_file_is_well_formed),
        cmocka_unit_test(membership_faults_are_traced_and_drawn),
        cmocka_unit_test(configurations_and_transfers_are_drawn),
        cmocka_unit_test(a_run_without_membership_changes_is_drawn_as_before),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
