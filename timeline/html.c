/* html.c - the page: one self-contained HTML file with the run drawn as inline SVG by this
 * program (x in base pixels of a linear time axis), a JSON block of what the script needs (lanes,
 * folds, node states) and the script and style of assets.c. The script only moves what is drawn
 * here (zoom, pan, fold) and answers clicks; without it the SVG is still the whole picture.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/linearize.h"
#include "timeline/model.h"

#define BAND_H  14.0 /* the role band */
#define BAND_DY 30.0 /* its centre below the lane's top */

/* The many small things (messages, ticks, operations, their labels) go out in chunks of this
 * many, each a <g class="ck">: the script moves a chunk only when it is in view and hides the
 * others, so that zoom and pan cost what is on the screen, not the whole run. */
#define CHUNK_ITEMS 200

struct chunker {
    FILE *o;
    size_t n;
};

static void ck_item(struct chunker *c)
{
    if (c->n % CHUNK_ITEMS == 0)
        fputs(c->n ? "</g><g class=\"ck\">" : "<g class=\"ck\">", c->o);
    c->n++;
}

static void ck_close(struct chunker *c)
{
    if (c->n > 0)
        fputs("</g>", c->o);
    c->n = 0;
}

static double lane_mid(const struct tl_model *m, uint32_t lane)
{
    const struct tl_lane *l = &m->lanes.v[lane];
    return l->client ? (l->y0 + l->y1) / 2 : l->y0 + BAND_DY;
}

static double node_mid(const struct tl_model *m, uint64_t node)
{
    uint32_t lane = tl_lane_of_node(m, node);
    return lane == TL_NONE ? -1 : lane_mid(m, lane);
}

/* --- messages ----------------------------------------------------------------------------------
 */

/* A message's name as the picture shows it: a pre-vote's RequestVote is a PreVote. */
static void msg_name(FILE *o, const struct tl_msg *g)
{
    if (g->pre_vote && strcmp(g->type, "RequestVote") == 0)
        fputs("PreVote", o);
    else if (g->pre_vote && strcmp(g->type, "RequestVoteReply") == 0)
        fputs("PreVoteReply", o);
    else
        tl_json_str(o, g->type);
    if (g->heartbeat)
        fputs(" (heartbeat)", o);
}

/* The details of every message and end, for the hover box: an arrow carries only the indexes
 * (data-g, data-e), since a <title> per arrow would double the page of a large run.
 * msgs: [name, from, to, term, entries or -1, ok (1, 0 refused, -1 none), sent ms, id, line,
 * duplicated, a vote]; ends: [to, ms, 0 received / 1 dropped, a copy, line, why]. */
static void write_msg_data(FILE *o, const struct tl_model *m)
{
    char a[32];
    fputs(",\"msgs\":[", o);
    for (size_t i = 0; i < m->msgs.n; i++) {
        const struct tl_msg *g = &m->msgs.v[i];
        fputs(i ? ",[\"" : "[\"", o);
        msg_name(o, g);
        fprintf(o, "\",%" PRIu32 ",%" PRIu32 ",%" PRIu64 ",%" PRId64 ",%d,%s,\"", g->from, g->to,
                g->term, g->entries, g->has_ok ? (g->ok ? 1 : 0) : -1, tl_ms(a, g->send_ns));
        tl_json_str(o, g->id);
        fprintf(o, "\",%" PRIu32 ",%d,%d]", g->send_line, g->dup ? 1 : 0,
                g->cls == TL_C_VOTE || g->cls == TL_C_PREVOTE ? 1 : 0);
    }
    fputs("],\"ends\":[", o);
    for (size_t i = 0; i < m->ends.n; i++) {
        const struct tl_end *e = &m->ends.v[i];
        fprintf(o, "%s[%" PRIu32 ",%s,%d,%d,%" PRIu32 ",\"", i ? "," : "", e->to, tl_ms(a, e->t_ns),
                e->kind == TL_END_DROP ? 1 : 0, e->copy ? 1 : 0, e->line);
        if (e->why != NULL)
            tl_json_str(o, e->why);
        fputs("\"]", o);
    }
    fputs("]", o);
}

static void draw_msg(FILE *o, struct chunker *ck, const struct tl_model *m, const struct tl_msg *g)
{
    double ys = node_mid(m, g->from);
    if (!g->has_send || ys < 0)
        return;
    ck_item(ck);
    double xs = tl_x(m, g->send_ns);
    const char *cls = tl_class_name(g->cls);
    if (g->first_end == TL_NONE) {
        double yt = node_mid(m, g->to);
        double dy = yt < 0 || yt == ys ? -8 : (yt > ys ? 10 : -10);
        fprintf(o,
                "<line class=\"m m-%s lost\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "data-g=\"%zu\"/>\n",
                cls, xs, ys, xs + 14, ys + dy, (size_t)(g - m->msgs.v));
        return;
    }
    for (uint32_t i = g->first_end; i != TL_NONE; i = m->ends.v[i].next_end) {
        const struct tl_end *e = &m->ends.v[i];
        double yt = node_mid(m, e->to);
        if (yt < 0)
            continue;
        double xe = tl_x(m, e->t_ns);
        /* From the edge of the sender's band to the edge of the receiver's. */
        double y0 = ys, y1 = yt;
        if (yt != ys) {
            double dir = yt > ys ? 1 : -1;
            y0 = ys + dir * BAND_H / 2;
            y1 = yt - dir * BAND_H / 2;
        }
        const char *end_marker = g->reply ? (g->has_ok ? (g->ok ? "mok" : "mno") : "mr") : "ma";
        if (e->kind == TL_END_DROP) {
            /* The cross near the sender (at most 22 px out), so that a drop on its way past
             * another lane is not read as that lane's. */
            double dy = (y1 - y0) / 2;
            double ym = y0 + (dy > 22 ? 22 : dy < -22 ? -22 : dy);
            if (xe < xs + 6)
                xe = xs + 6;
            fprintf(o,
                    "<line class=\"m m-%s drop%s%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                    "y2=\"%.1f\" data-g=\"%zu\" data-e=\"%" PRIu32 "\"/>",
                    cls, g->reply ? " rep" : "", e->copy ? " dupc" : "", xs, y0, xe, ym,
                    (size_t)(g - m->msgs.v), i);
            fprintf(o, "<use href=\"#x\" class=\"xdrop\" x=\"%.1f\" y=\"%.1f\"/>\n", xe, ym);
        } else {
            fprintf(o,
                    "<line class=\"m m-%s%s%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "marker-end=\"url(#%s-%s)\"%s data-g=\"%zu\" data-e=\"%" PRIu32 "\"/>\n",
                    cls, g->reply ? " rep" : "", e->copy ? " dupc" : "", xs, y0, xe, y1, end_marker,
                    strcmp(end_marker, "ma") == 0 || strcmp(end_marker, "mr") == 0 ? cls : "x",
                    e->copy ? " marker-start=\"url(#mdup)\"" : "", (size_t)(g - m->msgs.v), i);
        }
    }
}

static void draw_hb_runs(FILE *o, const struct tl_model *m)
{
    char a[32], b[32];
    for (size_t i = 0; i < m->hb_runs.n; i++) {
        const struct tl_hb_run *r = &m->hb_runs.v[i];
        uint32_t lane = tl_lane_of_node(m, r->node);
        if (lane == TL_NONE)
            continue;
        double x0 = tl_x(m, r->t0_ns), x1 = tl_x(m, r->t1_ns);
        if (x1 < x0 + 2)
            x1 = x0 + 2;
        fprintf(o,
                "<rect class=\"hbr\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"4\"><title>%zu "
                "heartbeats and replies of node %" PRIu32 " (term %" PRIu64 "), %s..%s ms: %zu "
                "refused, %zu dropped (folded: tick \"heartbeats\" to see them)</title></rect>\n",
                x0, m->lanes.v[lane].y0 + 4, x1 - x0, r->n_msgs, r->node, r->term,
                tl_ms(a, r->t0_ns), tl_ms(b, r->t1_ns), r->n_refused, r->n_dropped);
    }
}

/* --- node lanes --------------------------------------------------------------------------------
 */

static void draw_spans(FILE *o, const struct tl_model *m)
{
    char a[32], b[32];
    fprintf(o, "<g id=\"bands\">\n");
    for (size_t i = 0; i < m->spans.n; i++) {
        const struct tl_span *s = &m->spans.v[i];
        double y = node_mid(m, s->node) - BAND_H / 2;
        double x0 = tl_x(m, s->t0_ns), x1 = tl_x(m, s->t1_ns);
        fprintf(o,
                "<rect class=\"r r-%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\">"
                "<title>node %" PRIu32 ": %s in term %" PRIu64 ", %s..%s ms</title></rect>\n",
                tl_role_name(s->role), x0, y, x1 - x0, BAND_H, s->node, tl_role_name(s->role),
                s->term, tl_ms(a, s->t0_ns), tl_ms(b, s->t1_ns));
    }
    /* Labels after the bands, per lane, in time order: the script hides those that collide. */
    for (size_t l = 0; l < m->node_ids.n; l++) {
        fprintf(o, "<g class=\"lbls\">");
        for (size_t i = 0; i < m->spans.n; i++) {
            const struct tl_span *s = &m->spans.v[i];
            if (s->node != m->node_ids.v[l])
                continue;
            fprintf(o, "<text class=\"bl%s\" x=\"%.1f\" y=\"%.1f\">%sT%" PRIu64 "</text>",
                    s->role == TL_ROLE_LEADER ? " lead" : "", tl_x(m, s->t0_ns) + 2,
                    node_mid(m, s->node) + 4,
                    s->role == TL_ROLE_LEADER         ? "leader "
                    : s->role == TL_ROLE_CANDIDATE    ? "cand "
                    : s->role == TL_ROLE_PRECANDIDATE ? "pre "
                                                      : "",
                    s->term);
        }
        fprintf(o, "</g>\n");
    }
    fprintf(o, "</g>\n");
}

static void draw_ticks(FILE *o, const struct tl_model *m)
{
    static const char *const glyph[] = {"tc", "ta", "ts", "tt"};
    static const double dy[] = {-13, 13, -13, 0};
    static const double label_dy[] = {-20, 28, -20, 0};
    char a[32];
    struct chunker ck = {o, 0};
    fprintf(o, "<g id=\"ticks\">\n");
    for (size_t i = 0; i < m->ticks.n; i++) {
        const struct tl_tick *k = &m->ticks.v[i];
        double y = node_mid(m, k->node);
        if (y < 0)
            continue;
        ck_item(&ck);
        fprintf(o, "<use href=\"#%s\" class=\"%s%s\" x=\"%.1f\" y=\"%.1f\"><title>", glyph[k->kind],
                glyph[k->kind], k->client_cmd ? " cc" : "", tl_x(m, k->t_ns), y + dy[k->kind]);
        switch (k->kind) {
        case TL_TICK_COMMIT:
            fprintf(o, "node %" PRIu32 " commits up to index %" PRIu64, k->node, k->index);
            break;
        case TL_TICK_APPLY:
            fprintf(o, "node %" PRIu32 " applies index %" PRIu64, k->node, k->index);
            if (k->client_cmd)
                fprintf(o, ": client %" PRIu64 " #%" PRIu64, k->client, k->seq);
            if (k->op != TL_NONE) {
                const struct tl_op *op = &m->ops.v[k->op];
                fprintf(o, " %s(", check_f_name(op->f));
                tl_html(o, op->key);
                fprintf(o, ")");
            }
            break;
        case TL_TICK_SNAPSHOT:
            fprintf(o, "node %" PRIu32 ": snapshot at index %" PRIu64, k->node, k->index);
            break;
        case TL_TICK_TERM:
            fprintf(o, "node %" PRIu32 " enters term %" PRIu64, k->node, k->index);
            break;
        }
        fprintf(o, " at %s ms (line %" PRIu32 ")</title></use>\n", tl_ms(a, k->t_ns), k->line);
    }
    ck_close(&ck);
    /* Index labels: one group per lane and kind, in time order. */
    for (size_t l = 0; l < m->node_ids.n; l++) {
        for (int kind = TL_TICK_COMMIT; kind <= TL_TICK_SNAPSHOT; kind++) {
            fprintf(o, "<g class=\"lbls\">");
            for (size_t i = 0; i < m->ticks.n; i++) {
                const struct tl_tick *k = &m->ticks.v[i];
                if (k->node != m->node_ids.v[l] || (int)k->kind != kind)
                    continue;
                ck_item(&ck);
                fprintf(o, "<text class=\"il il%d\" x=\"%.1f\" y=\"%.1f\">%s%" PRIu64 "</text>",
                        kind, tl_x(m, k->t_ns), node_mid(m, k->node) + label_dy[kind],
                        kind == TL_TICK_SNAPSHOT ? "s" : "", k->index);
            }
            ck_close(&ck);
            fprintf(o, "</g>\n");
        }
    }
    fprintf(o, "</g>\n");
}

static void lane_rect(FILE *o, const struct tl_model *m, const char *cls, uint32_t lane, double x0,
                      double x1, double inset)
{
    const struct tl_lane *l = &m->lanes.v[lane];
    fprintf(o, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">", cls, x0,
            l->y0 + inset, x1 - x0 < 1 ? 1 : x1 - x0, l->y1 - l->y0 - 2 * inset);
}

/* --- membership --------------------------------------------------------------------------------
 */

/* Whether the run changed its membership or moved its leadership: only then does the page carry
 * the marks, styles and legend for them (a run without is drawn as it always was). */
static bool has_membership(const struct tl_model *m)
{
    return m->mevs.n > 0 || m->mspans.n > 0;
}

static void mspan_title(FILE *o, const struct tl_mspan *s)
{
    char a[32], b[32];
    fprintf(o, "<title>node %" PRIu32 ": ", s->node);
    if (s->m == TL_M_LEARNER)
        fprintf(o, "a learner (gets the log, does not vote yet)");
    else if (s->never)
        fprintf(o, "not a member of the cluster: no configuration names it");
    else if (s->line == 0)
        fprintf(o, "not a member of the cluster yet");
    else
        fprintf(o, "not a member of the cluster: removed");
    fprintf(o, ", %s..%s ms", tl_ms(a, s->t0_ns), tl_ms(b, s->t1_ns));
    if (s->line != 0)
        fprintf(o, " (configuration of entry %" PRIu64 ", first in effect at line %" PRIu32 ")",
                s->index, s->line);
    fprintf(o, "</title>");
}

/* Under the bands: the lane of a node outside the cluster is shaded. */
static void draw_outside(FILE *o, const struct tl_model *m)
{
    for (size_t i = 0; i < m->mspans.n; i++) {
        const struct tl_mspan *s = &m->mspans.v[i];
        uint32_t lane = tl_lane_of_node(m, s->node);
        if (s->m != TL_M_OUTSIDE || lane == TL_NONE)
            continue;
        lane_rect(o, m, "nm", lane, tl_x(m, s->t0_ns), tl_x(m, s->t1_ns), 0);
        mspan_title(o, s);
        fprintf(o, "</rect>\n");
    }
}

/* Over the bands: a learner's band outlined dashed, a leader's transfer outlined in gold. */
static void draw_member_outlines(FILE *o, const struct tl_model *m)
{
    char a[32], b[32];
    if (!has_membership(m))
        return;
    fprintf(o, "<g id=\"members\">\n");
    for (size_t i = 0; i < m->mspans.n; i++) {
        const struct tl_mspan *s = &m->mspans.v[i];
        double y = node_mid(m, s->node);
        if (s->m != TL_M_LEARNER || y < 0)
            continue;
        double x0 = tl_x(m, s->t0_ns), x1 = tl_x(m, s->t1_ns);
        fprintf(o, "<rect class=\"lrn\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\">", x0,
                y - BAND_H / 2 - 1, x1 - x0 < 1 ? 1 : x1 - x0, BAND_H + 2);
        mspan_title(o, s);
        fprintf(o, "</rect>\n");
    }
    for (size_t i = 0; i < m->xfers.n; i++) {
        const struct tl_xfer *x = &m->xfers.v[i];
        double y = node_mid(m, x->node);
        if (y < 0)
            continue;
        double x0 = tl_x(m, x->t0_ns), x1 = tl_x(m, x->t1_ns);
        fprintf(o,
                "<rect class=\"xfs\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\">"
                "<title>node %" PRIu32 " hands leadership to node %" PRIu32
                ", %s..%s ms: no new entries meanwhile%s (line %" PRIu32 ")</title></rect>\n",
                x0, y - BAND_H / 2 - 3, x1 - x0 < 1 ? 1 : x1 - x0, BAND_H + 6, x->node, x->to,
                tl_ms(a, x->t0_ns), tl_ms(b, x->t1_ns), x->gave_up ? "; gave up" : "", x->line);
    }
    fprintf(o, "</g>\n");
}

/* On the band, like the ticks: a configuration taking effect on the node (a hollow diamond) and
 * committing there (filled), a leader's transfer steps and the target told to run (a crown:
 * hollow when it starts, filled when the target is told, red when the leader gives up), and the
 * host retiring a removed node. */
static void draw_member_marks(FILE *o, const struct tl_model *m)
{
    static const char *const glyph[] = {"cfg", "cfg", "rtd", "crown", "crown", "crown", "crown"};
    static const char *const cls[] = {"cfe", "cfc", "rtd", "xf", "xf now", "xf gu", "xf now"};
    char a[32];
    if (m->mevs.n == 0)
        return;
    struct chunker ck = {o, 0};
    fprintf(o, "<g id=\"cfgs\">\n");
    for (size_t i = 0; i < m->mevs.n; i++) {
        const struct tl_mev *v = &m->mevs.v[i];
        double y = node_mid(m, v->node);
        if (y < 0)
            continue;
        ck_item(&ck);
        fprintf(o, "<use href=\"#%s\" class=\"%s\" x=\"%.1f\" y=\"%.1f\"><title>node %" PRIu32 ": ",
                glyph[v->kind], cls[v->kind], tl_x(m, v->t_ns), y, v->node);
        tl_mev_describe(o, v, tl_html);
        fprintf(o, " at %s ms (line %" PRIu32 ")</title></use>\n", tl_ms(a, v->t_ns), v->line);
    }
    ck_close(&ck);
    fprintf(o, "</g>\n");
}

/* --- terms and faults --------------------------------------------------------------------------
 */

static void draw_terms(FILE *o, const struct tl_model *m)
{
    char a[32], b[32];
    fprintf(o, "<g id=\"terms\">\n");
    for (size_t i = 0; i < m->terms.n; i++) {
        const struct tl_term *t = &m->terms.v[i];
        double x0 = tl_x(m, t->t0_ns), x1 = tl_x(m, t->t1_ns);
        fprintf(o,
                "<rect class=\"term%s t%zu\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\"><title>term %" PRIu64 ", %s..%s ms: ",
                t->leader ? " led" : "", i % 2, x0, m->terms_y0, x1 - x0, m->terms_y1 - m->terms_y0,
                t->term, tl_ms(a, t->t0_ns), tl_ms(b, t->t1_ns));
        if (t->leader)
            fprintf(o, "node %" PRIu32 " leads", t->leader);
        else
            fprintf(o, "no leader");
        fprintf(o, "</title></rect>\n");
    }
    fprintf(o, "<g class=\"lbls\">");
    for (size_t i = 0; i < m->terms.n; i++) {
        const struct tl_term *t = &m->terms.v[i];
        fprintf(o, "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\">T%" PRIu64, tl_x(m, t->t0_ns) + 2,
                m->terms_y1 - 5, t->term);
        if (t->leader)
            fprintf(o, " \xc2\xb7 n%" PRIu32, t->leader);
        fprintf(o, "</text>");
    }
    fprintf(o, "</g>\n</g>\n");
}

static void fault_title(FILE *o, const struct tl_fault *f)
{
    char a[32], b[32];
    fprintf(o, "<title>");
    tl_html(o, f->name);
    if (f->node != 0)
        fprintf(o, " node %" PRIu32, f->node);
    for (uint32_t g = 0; g < f->n_groups; g++) {
        fprintf(o, g == 0 ? " {" : " | {");
        bool first = true;
        for (size_t k = 0; k < f->n_groups_nodes; k++) {
            if (f->group_of[k] != g)
                continue;
            fprintf(o, "%s%" PRIu32, first ? "" : ", ", f->groups[k]);
            first = false;
        }
        fprintf(o, "}");
    }
    if (f->kind == TL_F_SLOW)
        fprintf(o, " (+%" PRIu64 " ms)", f->slow_ms);
    fprintf(o, " at %s ms", tl_ms(a, f->t0_ns));
    if (f->refused != NULL) {
        fprintf(o, ", refused: ");
        tl_html(o, f->refused);
    }
    if (f->t1_ns > f->t0_ns || f->kind == TL_F_CRASH || f->kind == TL_F_PARTITION ||
        f->kind == TL_F_ISOLATE || f->kind == TL_F_SLOW)
        fprintf(o, f->open ? ", still in force at the end (%s ms)" : " until %s ms",
                tl_ms(b, f->t1_ns));
    fprintf(o, " (line %" PRIu32 ")</title>", f->line);
}

static void draw_faults(FILE *o, const struct tl_model *m)
{
    fprintf(o, "<g id=\"faults\">\n");
    for (size_t i = 0; i < m->faults.n; i++) {
        const struct tl_fault *f = &m->faults.v[i];
        double x0 = tl_x(m, f->t0_ns), x1 = tl_x(m, f->t1_ns);
        uint32_t lane = f->node != 0 ? tl_lane_of_node(m, f->node) : TL_NONE;
        char cls[32];
        switch (f->kind) {
        case TL_F_PARTITION:
            for (size_t k = 0; k < f->n_groups_nodes; k++) {
                uint32_t gl = tl_lane_of_node(m, f->groups[k]);
                if (gl == TL_NONE)
                    continue;
                snprintf(cls, sizeof cls, "pg pg%" PRIu32, f->group_of[k] % 6);
                lane_rect(o, m, cls, gl, x0, x1, 0);
                fault_title(o, f);
                fprintf(o, "</rect>\n");
            }
            break;
        case TL_F_ISOLATE:
        case TL_F_CRASH:
        case TL_F_SLOW:
            if (lane == TL_NONE)
                break;
            lane_rect(o, m,
                      f->kind == TL_F_ISOLATE ? "iso"
                      : f->kind == TL_F_CRASH ? "down"
                                              : "slow",
                      lane, x0, x1,
                      f->kind == TL_F_CRASH  ? 4
                      : f->kind == TL_F_SLOW ? 26
                                             : 0);
            fault_title(o, f);
            fprintf(o, "</rect>\n");
            break;
        default:
            break;
        }
    }
    draw_outside(o, m);
    fprintf(o, "</g>\n");
}

/* The instants, over the bands: a cross at a crash, a triangle at a restart, a flag at any other
 * fault (on the axis when it names no node). */
static void draw_fault_marks(FILE *o, const struct tl_model *m)
{
    fprintf(o, "<g id=\"fmarks\">\n");
    for (size_t i = 0; i < m->faults.n; i++) {
        const struct tl_fault *f = &m->faults.v[i];
        uint32_t lane = f->node != 0 ? tl_lane_of_node(m, f->node) : TL_NONE;
        double y = lane != TL_NONE ? lane_mid(m, lane) : m->terms_y0 - 6;
        const char *g = f->kind == TL_F_CRASH     ? "fcrash"
                        : f->kind == TL_F_RESTART ? "frestart"
                                                  : "fflag";
        fprintf(o, "<use href=\"#%s\" x=\"%.1f\" y=\"%.1f\">", g, tl_x(m, f->t0_ns), y);
        fault_title(o, f);
        fprintf(o, "</use>\n");
    }
    fprintf(o, "</g>\n");
}

/* --- clients -----------------------------------------------------------------------------------
 */

static void op_title(FILE *o, const struct tl_model *m, const struct tl_op *op)
{
    char a[32], b[32];
    fprintf(o, "<title>client %" PRIu64, op->process);
    if (op->has_seq)
        fprintf(o, " #%" PRIu64, op->seq);
    fprintf(o, ": %s(", check_f_name(op->f));
    tl_html(o, op->key);
    if (op->f == CHECK_F_PUT && op->value != NULL) {
        fprintf(o, ", \"");
        tl_html(o, op->value);
        fprintf(o, "\"");
    }
    fprintf(o, ") \xe2\x86\x92 %s", check_type_name(op->type));
    if (op->type == CHECK_OK) {
        fprintf(o, " %s", check_res_name(op->result));
        if (op->f == CHECK_F_GET && op->value != NULL) {
            fprintf(o, " \"");
            tl_html(o, op->value);
            fprintf(o, "\"");
        }
    }
    if (op->error != NULL) {
        fprintf(o, " (");
        tl_html(o, op->error);
        fprintf(o, ")");
    }
    if (op->stale)
        fprintf(o, " [stale read: not checked]");
    fprintf(o, "\n%s..%s ms", tl_ms(a, op->t0_ns), tl_ms(b, op->t1_ns));
    if (!op->completed)
        fprintf(o, " (never completed)");
    if (op->has_index)
        fprintf(o, "; log index %" PRIu64, op->index);
    if (op->has_node)
        fprintf(o, " (node %" PRIu64 ")", op->node);
    if (op->bad)
        fprintf(o, "\nNOT LINEARIZABLE: named by the checker%s",
                op->stuck ? " (no order lets this op take effect)" : "");
    fprintf(o, "\nhistory lines %" PRIu32 "-%" PRIu32 "</title>", op->invoke_line,
            op->complete_line);
}

static void draw_ops(FILE *o, const struct tl_model *m)
{
    struct chunker ck = {o, 0};
    fprintf(o, "<g id=\"ops\">\n");
    for (size_t i = 0; i < m->ops.n; i++) {
        const struct tl_op *op = &m->ops.v[i];
        uint32_t lane = tl_lane_of_client(m, op->process);
        if (lane == TL_NONE)
            continue;
        ck_item(&ck);
        double x0 = tl_x(m, op->t0_ns), x1 = tl_x(m, op->t1_ns);
        if (x1 < x0 + 2)
            x1 = x0 + 2;
        const struct tl_lane *l = &m->lanes.v[lane];
        fprintf(o,
                "<rect%s class=\"op %s%s%s%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\">",
                i == m->first_bad_op ? " id=\"firstbad\"" : "", check_type_name(op->type),
                op->bad ? " bad" : "", op->stuck ? " stuck" : "", op->stale ? " stale" : "", x0,
                l->y0 + 7, x1 - x0, l->y1 - l->y0 - 14);
        op_title(o, m, op);
        fprintf(o, "</rect>\n");
    }
    ck_close(&ck);
    for (size_t l = m->node_ids.n; l < m->lanes.n; l++) {
        fprintf(o, "<g class=\"lbls\">");
        for (size_t i = 0; i < m->ops.n; i++) {
            const struct tl_op *op = &m->ops.v[i];
            if (op->process != m->lanes.v[l].id)
                continue;
            ck_item(&ck);
            fprintf(o, "<text class=\"ol\" x=\"%.1f\" y=\"%.1f\">%s ", tl_x(m, op->t0_ns) + 2,
                    m->lanes.v[l].y1 - 11, check_f_name(op->f));
            tl_html(o, op->key);
            fprintf(o, "</text>");
        }
        ck_close(&ck);
        fprintf(o, "</g>\n");
    }
    fprintf(o, "</g>\n<g id=\"links\">\n");
    for (size_t i = 0; i < m->ops.n; i++) {
        const struct tl_op *op = &m->ops.v[i];
        uint32_t lane = tl_lane_of_client(m, op->process);
        if (lane == TL_NONE || op->apply == TL_NONE)
            continue;
        ck_item(&ck);
        const struct tl_tick *k = &m->ticks.v[op->apply];
        double xa = tl_x(m, k->t_ns), x0 = tl_x(m, op->t0_ns), x1 = tl_x(m, op->t1_ns);
        double xo = xa < x0 ? x0 : xa > x1 ? x1 : xa;
        fprintf(o,
                "<line class=\"lk\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"><title>client "
                "%" PRIu64 "'s %s carried by log index %" PRIu64 ", applied by node %" PRIu32
                "</title></line>\n",
                xa, node_mid(m, k->node) + 13, xo, m->lanes.v[lane].y0 + 7, op->process,
                check_f_name(op->f), k->index, k->node);
    }
    ck_close(&ck);
    fprintf(o, "</g>\n");
}

/* --- the page ----------------------------------------------------------------------------------
 */

static void write_data(FILE *o, const struct tl_model *m)
{
    char a[32];
    fprintf(o,
            "<script type=\"application/json\" id=\"tl-data\">{\"px_per_ms\":%g,\"x_left\":%.1f,"
            "\"t_min_ms\":%s,\"width\":%.1f,\"height\":%.1f,\"lanes\":[",
            m->px_per_ms, m->x_left, tl_ms(a, m->t_min_ns), m->width, m->height);
    for (size_t i = 0; i < m->lanes.n; i++)
        fprintf(o, "%s[%.1f,%.1f,%" PRIu64 ",%d]", i ? "," : "", m->lanes.v[i].y0, m->lanes.v[i].y1,
                m->lanes.v[i].id, m->lanes.v[i].client ? 1 : 0);
    fprintf(o, "],\"folds\":[");
    for (size_t i = 0; i < m->folds.n; i++)
        fprintf(o, "%s%.1f", i ? "," : "", m->folds.v[i]);
    fprintf(o, "],\"roles\":[\"follower\",\"pre-candidate\",\"candidate\",\"leader\",\"?\"],"
               "\"states\":{");
    /* Per node: [t_ms, term, role, last_index, commit, applied] flattened, in time order. */
    for (size_t l = 0; l < m->node_ids.n; l++) {
        fprintf(o, "%s\"%" PRIu64 "\":[", l ? "," : "", m->node_ids.v[l]);
        bool first = true;
        for (size_t i = 0; i < m->states.n; i++) {
            const struct tl_state *s = &m->states.v[i];
            if (s->node != m->node_ids.v[l])
                continue;
            fprintf(o, "%s%s,%" PRIu64 ",%d,%" PRIu64 ",%" PRIu64 ",%" PRIu64, first ? "" : ",",
                    tl_ms(a, s->t_ns), s->term, (int)s->role, s->last_index, s->commit, s->applied);
            first = false;
        }
        fprintf(o, "]");
    }
    fprintf(o, "},\"down\":[");
    bool first = true;
    for (size_t i = 0; i < m->faults.n; i++) {
        const struct tl_fault *f = &m->faults.v[i];
        if (f->kind != TL_F_CRASH)
            continue;
        char b[32];
        fprintf(o, "%s%" PRIu32 ",%s,%s", first ? "" : ",", f->node, tl_ms(a, f->t0_ns),
                tl_ms(b, f->t1_ns));
        first = false;
    }
    fputs("]", o);
    write_msg_data(o, m);
    fprintf(o, "}</script>\n");
}

static void write_summary(FILE *o, const struct tl_model *m)
{
    const struct timeline_stats *s = &m->stats;
    char a[32];
    fprintf(o,
            "<p class=\"sum\">%zu nodes, %zu clients, %s ms; %zu messages: %zu received, %zu "
            "dropped, %zu duplicated, %zu never received; %zu heartbeats folded into %zu marks; "
            "%zu role changes, %zu commits, %zu applies, %zu snapshots, %zu faults",
            s->nodes, s->clients, tl_ms(a, m->t_max_ns - m->t_min_ns), s->messages, s->arrows,
            s->drops, s->duplicates, s->lost, s->heartbeat_msgs, s->heartbeat_runs, s->role_changes,
            s->commits, s->applies, s->snapshots, s->faults);
    if (s->configs + s->config_commits + s->transfers > 0)
        fprintf(o,
                "; %zu configurations taking effect and %zu committing on their nodes, %zu "
                "leadership transfer steps",
                s->configs, s->config_commits, s->transfers);
    if (m->has_history)
        fprintf(o, "; %zu client ops: %zu ok, %zu fail, %zu info, %zu linked to their entry",
                s->ops, s->ops_ok, s->ops_fail, s->ops_info, s->ops_linked);
    fprintf(o, ".</p>\n");
    if (!m->has_check)
        return;
    const char *cls = m->check.verdict == CHECK_LINEARIZABLE       ? "good"
                      : m->check.verdict == CHECK_NOT_LINEARIZABLE ? "badv"
                                                                   : "unk";
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL)
        return;
    check_result_print(mem, &m->check);
    fclose(mem);
    fprintf(o, "<details class=\"verdict %s\"><summary>history: ", cls);
    char *nl = strchr(text, '\n');
    if (nl != NULL)
        *nl = '\0';
    tl_html(o, text);
    fprintf(o, "%s</summary><pre>", m->stats.ops_bad ? " (the operations named are red)" : "");
    if (nl != NULL)
        tl_html(o, nl + 1);
    fprintf(o, "</pre></details>\n");
    free(text);
}

static void write_defs(FILE *o, const struct tl_model *m)
{
    fprintf(o, "<defs>\n");
    for (int c = 0; c < TL_C_COUNT; c++) {
        const char *n = tl_class_name((enum tl_class)c);
        fprintf(o,
                "<marker id=\"ma-%s\" class=\"mk-%s\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" "
                "markerWidth=\"7\" markerHeight=\"7\" markerUnits=\"userSpaceOnUse\" "
                "orient=\"auto\"><path d=\"M0,0L8,4L0,8z\"/></marker>\n"
                "<marker id=\"mr-%s\" class=\"mk-%s rep\" viewBox=\"0 0 8 8\" refX=\"7\" "
                "refY=\"4\" markerWidth=\"6\" markerHeight=\"6\" markerUnits=\"userSpaceOnUse\" "
                "orient=\"auto\"><path d=\"M0,0L8,4L0,8z\"/></marker>\n",
                n, n, n, n);
    }
    fprintf(o, "<marker id=\"mok-x\" viewBox=\"0 0 8 8\" refX=\"4\" refY=\"4\" markerWidth=\"7\" "
               "markerHeight=\"7\" markerUnits=\"userSpaceOnUse\"><circle class=\"ok\" cx=\"4\" "
               "cy=\"4\" r=\"3.5\"/></marker>\n"
               "<marker id=\"mno-x\" viewBox=\"0 0 8 8\" refX=\"4\" refY=\"4\" markerWidth=\"8\" "
               "markerHeight=\"8\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path "
               "class=\"no\" d=\"M4,0V8\"/></marker>\n"
               "<marker id=\"mdup\" viewBox=\"0 0 8 8\" refX=\"4\" refY=\"4\" markerWidth=\"8\" "
               "markerHeight=\"8\" markerUnits=\"userSpaceOnUse\"><path class=\"dup\" "
               "d=\"M4,0L8,4L4,8L0,4z\"/></marker>\n"
               "<path id=\"x\" d=\"M-4,-4L4,4M-4,4L4,-4\"/>\n"
               "<path id=\"tc\" d=\"M0,-4V4\"/>\n<path id=\"ta\" d=\"M0,-4V4\"/>\n"
               "<rect id=\"ts\" x=\"-3\" y=\"-3\" width=\"6\" height=\"6\"/>\n"
               "<path id=\"tt\" d=\"M0,-7V7\"/>\n"
               "<path id=\"fcrash\" d=\"M-6,-6L6,6M-6,6L6,-6\"/>\n"
               "<path id=\"frestart\" d=\"M0,-7L7,0L0,7z\"/>\n"
               "<path id=\"fflag\" d=\"M0,6V-6L8,-3L0,0\"/>\n"
               "<pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
               "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fff\"/>"
               "<path d=\"M0,0V6\" stroke=\"#d33\" stroke-width=\"2\"/></pattern>\n"
               "<pattern id=\"slowp\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
               "patternTransform=\"rotate(-45)\"><path d=\"M0,0V6\" stroke=\"#e68a00\" "
               "stroke-width=\"2\"/></pattern>\n");
    if (has_membership(m))
        fprintf(o, "<path id=\"cfg\" d=\"M0,-5L5,0L0,5L-5,0z\"/>\n"
                   "<path id=\"crown\" d=\"M-5,4V-4L-2.5,-0.5L0,-5L2.5,-0.5L5,-4V4z\"/>\n"
                   "<path id=\"rtd\" d=\"M-3,-6V6M3,-6V6\"/>\n"
                   "<pattern id=\"nmp\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
                   "patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" "
                   "fill=\"#f2f2f2\"/><path d=\"M0,0V8\" stroke=\"#cfcfcf\" "
                   "stroke-width=\"3\"/></pattern>\n");
    fprintf(o, "</defs>\n");
}

static void write_names(FILE *o, const struct tl_model *m)
{
    fprintf(o,
            "<svg id=\"names\" width=\"84\" height=\"%.0f\"><text class=\"ln\" x=\"4\" "
            "y=\"%.1f\">terms</text>\n",
            m->height, m->terms_y1 - 5);
    for (size_t i = 0; i < m->lanes.n; i++) {
        const struct tl_lane *l = &m->lanes.v[i];
        fprintf(o, "<text class=\"ln%s\" x=\"4\" y=\"%.1f\">%s %" PRIu64 "</text>\n",
                l->client ? " cl" : "", lane_mid(m, (uint32_t)i) + 4, l->client ? "client" : "node",
                l->id);
    }
    fprintf(o, "</svg>\n");
}

/* The legend: message classes (coloured by the style sheet), then swatches. */
static const char legend[] =
    "<div id=\"legend\"><b class=\"lg m-prevote\">PreVote</b> <b class=\"lg m-vote\">RequestVote"
    "</b> <b class=\"lg m-append\">AppendEntries</b> <b class=\"lg m-hb\">heartbeat</b> <b "
    "class=\"lg m-snapshot\">InstallSnapshot</b> <b class=\"lg m-read\">ReadIndex</b> <b "
    "class=\"lg m-notify\">CommitNotify</b> &middot; replies lighter, ending in <b "
    "class=\"okc\">&#9679;</b> ok/granted or <b class=\"noc\">|</b> refused &middot; <b "
    "class=\"noc\">&#10005;</b> dropped &middot; <b class=\"dupcol\">&#9670;</b> duplicate "
    "&middot; <i class=\"sw\" style=\"background:#d5d5d5\"></i>follower <i class=\"sw\" "
    "style=\"background:#ffe08a\"></i>pre-candidate <i class=\"sw\" "
    "style=\"background:#f4a259\"></i>candidate <i class=\"sw\" "
    "style=\"background:#2e7d32\"></i>leader &middot; commit index above the band, applied "
    "below (&#9632; snapshot) &middot; ops <i class=\"sw\" style=\"background:#81c784\"></i>ok "
    "<i class=\"sw\" style=\"background:#bdbdbd\"></i>fail <i class=\"sw\" "
    "style=\"background:#ffd54f\"></i>info <i class=\"sw\" style=\"background:#e53935\"></i>not "
    "linearizable &middot; <i class=\"sw\" style=\"background:#f3b0b0\"></i>crashed <i "
    "class=\"sw\" style=\"background:#c5dcf5\"></i><i class=\"sw\" "
    "style=\"background:#e2c6ea\"></i>partition groups <i class=\"sw\" "
    "style=\"background:#dddddd\"></i>isolated <i class=\"sw\" "
    "style=\"background:#ffc766\"></i>slow";
/* The legend's end on the page of a run with membership changes or transfers. */
static const char legend_membership[] =
    " &middot; configuration <b class=\"cfcol\">&#9671;</b> in effect <b "
    "class=\"cfcol\">&#9670;</b> committed, <i class=\"sw\" style=\"border:1px dashed "
    "#c2185b\"></i>learner <i class=\"sw\" style=\"background:#e4e4e4\"></i>not a member "
    "&middot; leadership transfer <b class=\"xfcol\">&#9813;</b> starts (the leader outlined "
    "until it ends) <b class=\"xfcol\">&#9819;</b> TimeoutNow: the target campaigns <b "
    "class=\"noc\">&#9813;</b> given up";

void tl_write_html(const struct tl_model *m, FILE *o)
{
    fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>raft_kv timeline: ");
    tl_html(o, m->title != NULL ? m->title : "");
    fprintf(o, "</title>\n<style>\n%s%s</style></head>\n<body>\n<header><h1>", tl_css,
            has_membership(m) ? tl_css_membership : "");
    tl_html(o, m->title != NULL && m->title[0] ? m->title : "raft_kv run");
    fprintf(o, "</h1>\n");
    write_summary(o, m);
    fprintf(o,
            "<div id=\"ctl\"><button id=\"zin\" title=\"zoom in (or ctrl + wheel)\">+</button>"
            "<button id=\"zout\" title=\"zoom out\">&minus;</button><button id=\"zfit\" "
            "title=\"the whole run in the window\">fit</button>"
            "<label><input type=\"checkbox\" id=\"fold\"> fold idle stretches (%zu)</label>"
            "<label><input type=\"checkbox\" id=\"showhb\"> heartbeats (%zu)</label>"
            "<label><input type=\"checkbox\" id=\"showlk\" checked> op &#8594; log "
            "entry</label>",
            m->stats.idle_folds, m->stats.heartbeat_msgs);
    if (m->first_bad_op != TL_NONE)
        fprintf(o, "<button id=\"jump\" class=\"badb\">jump to the first error</button>");
    fprintf(o,
            "<span id=\"panel\">click a node's lane for its state at that time</span>"
            "</div>\n%s%s</div>\n</header>\n<div id=\"main\">",
            legend, has_membership(m) ? legend_membership : "");
    write_names(o, m);
    fprintf(o,
            "<div id=\"scroll\"><svg id=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%.0f\" height=\"%.0f\">\n",
            m->width, m->height);
    write_defs(o, m);
    fprintf(o, "<g id=\"bg\">");
    for (size_t i = 0; i < m->lanes.n; i++) {
        const struct tl_lane *l = &m->lanes.v[i];
        fprintf(o,
                "<rect class=\"full lane%zu\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\"/>"
                "<line class=\"full ax\" x1=\"0\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>",
                i % 2, l->y0, m->width, l->y1 - l->y0, lane_mid(m, (uint32_t)i), m->width,
                lane_mid(m, (uint32_t)i));
    }
    fprintf(o, "</g>\n<g id=\"axis\"></g>\n");
    draw_faults(o, m);
    draw_terms(o, m);
    draw_spans(o, m);
    draw_member_outlines(o, m);
    draw_ticks(o, m);
    draw_member_marks(o, m);
    draw_fault_marks(o, m);
    draw_ops(o, m);
    fprintf(o, "<g id=\"hbf\">\n");
    draw_hb_runs(o, m);
    fprintf(o, "</g>\n<g id=\"msgs\">\n");
    struct chunker ck = {o, 0};
    for (size_t i = 0; i < m->msgs.n; i++)
        if (!m->msgs.v[i].heartbeat)
            draw_msg(o, &ck, m, &m->msgs.v[i]);
    ck_close(&ck);
    fprintf(o,
            "</g>\n<g id=\"hb\" style=\"display:none\"></g>\n<line id=\"cursor\" x1=\"-10\" "
            "y1=\"0\" x2=\"-10\" y2=\"%.0f\"/>\n</svg></div></div>\n<div id=\"tip\"></div>"
            "<div id=\"jserr\"></div>\n",
            m->height);
    /* The heartbeats, drawn like every other message but kept as text until the page shows
     * them (the script moves them into <g id="hb">): the parser skips over them, so a run of
     * many heartbeats loads as fast as one without. Their markup holds no "<" but its tags'. */
    fprintf(o, "<script type=\"text/x-svg\" id=\"hb-src\">\n");
    for (size_t i = 0; i < m->msgs.n; i++)
        if (m->msgs.v[i].heartbeat)
            draw_msg(o, &ck, m, &m->msgs.v[i]);
    ck_close(&ck);
    fprintf(o, "</script>\n");
    write_data(o, m);
    fprintf(o, "<script>\n%s</script>\n</body></html>\n", tl_js);
}
