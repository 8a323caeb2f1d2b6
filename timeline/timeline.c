/* timeline.c - `raft_kv timeline`: read the trace and the history into the model, lay it out,
 * hand it to the writers; plus the escaping and number formats every writer shares (fixed, so
 * that one input gives one output byte for byte).
 */
#include "timeline/timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeline/model.h"

void tl_html(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\x%02x", *p);
            else
                fputc(*p, out);
        }
    }
}

void tl_json_str(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
}

void tl_mev_describe(FILE *out, const struct tl_mev *v, void (*text)(FILE *, const char *))
{
    switch (v->kind) {
    case TL_MEV_CONFIG:
        fprintf(out, "configuration of entry %" PRIu64 " in effect", v->index);
        if (v->peer != 0 && v->change != TL_CH_NONE) {
            fprintf(out, ": node %" PRIu32 " ", v->peer);
            text(out, v->change == TL_CH_OTHER ? v->text : tl_change_name(v->change));
        }
        break;
    case TL_MEV_COMMITTED:
        fprintf(out, "configuration entry %" PRIu64 " committed", v->index);
        break;
    case TL_MEV_RETIRED:
        fprintf(out, "retired: removed from the cluster, the host stops it");
        break;
    default: /* a transfer step: the line's own words */
        text(out, v->text != NULL ? v->text : "");
        break;
    }
}

const char *tl_ms(char buf[32], int64_t t_ns)
{
    uint64_t a = t_ns < 0 ? (uint64_t)0 - (uint64_t)t_ns : (uint64_t)t_ns;
    int n = snprintf(buf, 32, "%s%" PRIu64 ".%06" PRIu64, t_ns < 0 ? "-" : "", a / 1000000,
                     a % 1000000);
    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
    return buf;
}

/* Writes the output at path with writer w; 0 or -1 with err naming the file. */
static int write_file(const char *path, const struct tl_model *m,
                      void (*w)(const struct tl_model *, FILE *), char *err, size_t err_len)
{
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    w(m, out);
    int bad = ferror(out);
    if (fclose(out) != 0 || bad) {
        snprintf(err, err_len, "%s: write error", path);
        return -1;
    }
    return 0;
}

int timeline_render(const char *trace_path, const char *history_path, const char *html_path,
                    const char *perfetto_path, struct timeline_stats *stats, char *err,
                    size_t err_len)
{
    struct tl_model m;
    memset(&m, 0, sizeof m);
    m.trace_path = trace_path;
    m.history_path = history_path;
    m.first_bad_op = TL_NONE;
    int rc = tl_read_trace(&m, trace_path, err, err_len);
    if (rc == 0 && history_path != NULL)
        rc = tl_read_history(&m, history_path, err, err_len);
    if (rc == 0) {
        tl_layout(&m);
        if (html_path != NULL)
            rc = write_file(html_path, &m, tl_write_html, err, err_len);
        if (rc == 0 && perfetto_path != NULL)
            rc = write_file(perfetto_path, &m, tl_write_perfetto, err, err_len);
        if (stats != NULL)
            *stats = m.stats;
    }
    tl_model_free(&m);
    return rc;
}

static int usage(void)
{
    fprintf(
        stderr,
        "raft_kv: usage: raft_kv timeline TRACE.jsonl [HISTORY.jsonl] -o FILE.html "
        "[--perfetto FILE.json]\n"
        "  draws a run from its JSON Lines trace (--trace-format=jsonl --trace-level=messages)\n"
        "  and its client history (--history) as one self-contained HTML page, and/or as a\n"
        "  Chrome trace-event file for ui.perfetto.dev; exit 0 written, 1 bad input\n");
    return 2;
}

int timeline_command(int argc, char **argv)
{
    const char *in[2] = {NULL, NULL}, *html = NULL, *perfetto = NULL;
    int n_in = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 || strcmp(a, "--perfetto") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0')
                return usage();
            const char **slot = a[1] == 'o' ? &html : &perfetto;
            if (*slot != NULL)
                return usage();
            *slot = argv[++i];
        } else if (a[0] == '-' || a[0] == '\0' || n_in == 2) {
            return usage();
        } else {
            in[n_in++] = a;
        }
    }
    if (n_in == 0 || (html == NULL && perfetto == NULL))
        return usage();
    struct timeline_stats st;
    char err[512];
    if (timeline_render(in[0], in[1], html, perfetto, &st, err, sizeof err) != 0) {
        fprintf(stderr, "raft_kv: %s\n", err);
        return 1;
    }
    fprintf(stderr,
            "timeline: %zu nodes, %zu clients; %zu messages (%zu arrows, %zu drops, %zu "
            "duplicates, %zu heartbeats folded); %zu role changes, %zu commits, %zu applies, "
            "%zu faults; %zu client ops\n",
            st.nodes, st.clients, st.messages, st.arrows, st.drops, st.duplicates,
            st.heartbeat_msgs, st.role_changes, st.commits, st.applies, st.faults, st.ops);
    if (st.configs + st.config_commits + st.transfers > 0)
        fprintf(stderr,
                "timeline: membership: %zu configurations taking effect, %zu committing, %zu "
                "transfer steps\n",
                st.configs, st.config_commits, st.transfers);
    return 0;
}
