/* layout.c - what the writers draw, derived from what was read: role spans, terms and their
 * leaders, fault stretches, membership stretches and leadership transfers, heartbeat runs, lanes,
 * a base time scale and the idle stretches the page can fold. Everything here is a pure function of
 * the model, built in a fixed order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "timeline/model.h"

/* Lane geometry (pixels). A node lane: commit ticks above a role band, apply ticks below. */
#define AXIS_H        30.0
#define TERMS_H       22.0
#define NODE_LANE_H   64.0
#define CLIENT_LANE_H 30.0
#define X_LEFT        12.0
#define X_RIGHT       60.0
/* Base scale: the median message latency spans this many pixels, the plot is at least
 * MIN_WIDTH and at most MAX_WIDTH pixels wide. */
#define LATENCY_PX 36.0
#define MIN_WIDTH  1200.0
#define MAX_WIDTH  400000.0
/* Idle stretches: a gap between interesting events wider than FOLD_MIN_PX keeps FOLD_KEEP_PX on
 * each side and the page folds the rest. */
#define FOLD_MIN_PX  200.0
#define FOLD_KEEP_PX 50.0

const char *tl_class_name(enum tl_class c)
{
    static const char *const names[TL_C_COUNT] = {"prevote",  "vote", "append", "hb",
                                                  "snapshot", "read", "notify", "other"};
    return c < TL_C_COUNT ? names[c] : "other";
}

const char *tl_role_name(enum tl_role r)
{
    switch (r) {
    case TL_ROLE_FOLLOWER:
        return "follower";
    case TL_ROLE_PRECANDIDATE:
        return "pre-candidate";
    case TL_ROLE_CANDIDATE:
        return "candidate";
    case TL_ROLE_LEADER:
        return "leader";
    case TL_ROLE_DOWN:
        return "down";
    case TL_ROLE_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *tl_change_name(enum tl_change c)
{
    switch (c) {
    case TL_CH_ADDED:
        return "added as learner";
    case TL_CH_PROMOTED:
        return "promoted to voter";
    case TL_CH_REMOVED:
        return "removed";
    case TL_CH_CATCHUP_FAILED:
        return "learner could not catch up";
    case TL_CH_NONE:
    case TL_CH_OTHER:
        break;
    }
    return "none";
}

uint32_t tl_lane_of_node(const struct tl_model *m, uint64_t id)
{
    for (size_t i = 0; i < m->node_ids.n; i++) /* few nodes */
        if (m->node_ids.v[i] == id)
            return (uint32_t)i;
    return TL_NONE;
}

uint32_t tl_lane_of_client(const struct tl_model *m, uint64_t id)
{
    size_t lo = 0, hi = m->client_ids.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->client_ids.v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->client_ids.n && m->client_ids.v[lo] == id)
        return (uint32_t)(m->node_ids.n + lo);
    return TL_NONE;
}

double tl_x(const struct tl_model *m, int64_t t_ns)
{
    return m->x_left + (double)(t_ns - m->t_min_ns) / 1e6 * m->px_per_ms;
}

/* --- spans and terms ---------------------------------------------------------------------------
 */

struct node_now {
    bool open, down;
    enum tl_role role;
    uint64_t term;
    int64_t since_ns;
};

static void close_span(struct tl_model *m, uint32_t node, struct node_now *s, int64_t t_ns)
{
    if (s->open && t_ns > s->since_ns) {
        struct tl_span *sp = TL_PUSH(m->spans);
        sp->node = node;
        sp->role = s->role;
        sp->term = s->term;
        sp->t0_ns = s->since_ns;
        sp->t1_ns = t_ns;
    }
    s->open = false;
}

/* Whether node starts outside the cluster: its first membership stretch is one from the start. */
static bool outside_at_start(const struct tl_model *m, uint64_t node)
{
    for (size_t i = 0; i < m->mspans.n; i++)
        if (m->mspans.v[i].node == node)
            return m->mspans.v[i].m == TL_M_OUTSIDE && m->mspans.v[i].line == 0;
    return false;
}

static void build_spans(struct tl_model *m)
{
    size_t n = m->node_ids.n;
    struct node_now *now = xcalloc(n + 1, sizeof *now);
    for (size_t i = 0; i < n; i++) /* a node yet to join has no band until it is heard from */
        now[i] = (struct node_now){.open = !outside_at_start(m, m->node_ids.v[i]),
                                   .role = TL_ROLE_FOLLOWER,
                                   .since_ns = m->t_min_ns};
    for (size_t i = 0; i < m->nevs.n; i++) {
        const struct tl_nev *e = &m->nevs.v[i];
        uint32_t lane = tl_lane_of_node(m, e->node);
        struct node_now *s = &now[lane];
        if (e->kind == TL_NEV_JOIN && (s->open || s->down))
            continue; /* already drawn, or down until its restart */
        close_span(m, e->node, s, e->t_ns);
        switch (e->kind) {
        case TL_NEV_ROLE:
            s->role = e->role;
            break;
        case TL_NEV_TERM:
            break;
        case TL_NEV_CRASH:
            s->down = true;
            continue; /* no span until the restart */
        case TL_NEV_RETIRE:
            continue; /* stopped: no span until it is added again or heard from */
        case TL_NEV_RESTART:
        case TL_NEV_JOIN:
            s->role = TL_ROLE_FOLLOWER;
            break;
        }
        if (e->has_term)
            s->term = e->term;
        s->down = false;
        s->open = true;
        s->since_ns = e->t_ns;
    }
    for (size_t i = 0; i < n; i++)
        close_span(m, (uint32_t)m->node_ids.v[i], &now[i], m->t_max_ns);
    free(now);
}

static int term_cmp(const void *a, const void *b)
{
    const struct tl_term *x = a, *y = b;
    if (x->term != y->term)
        return x->term < y->term ? -1 : 1;
    return x->t0_ns < y->t0_ns ? -1 : x->t0_ns > y->t0_ns;
}

/* Each term from the first node to reach it to the first to reach a later one, and its leader. */
static void build_terms(struct tl_model *m)
{
    for (size_t i = 0; i < m->nevs.n; i++) {
        const struct tl_nev *e = &m->nevs.v[i];
        if (!e->has_term || e->term == 0)
            continue;
        struct tl_term *t = TL_PUSH(m->terms);
        t->term = e->term;
        t->t0_ns = e->t_ns;
    }
    if (m->terms.n > 1)
        qsort(m->terms.v, m->terms.n, sizeof *m->terms.v, term_cmp);
    size_t k = 0; /* keep the first of each term: the earliest, by the sort */
    for (size_t i = 0; i < m->terms.n; i++)
        if (k == 0 || m->terms.v[k - 1].term != m->terms.v[i].term)
            m->terms.v[k++] = m->terms.v[i];
    m->terms.n = k;
    int64_t later = m->t_max_ns; /* the earliest start of any later term */
    for (size_t i = k; i-- > 0;) {
        struct tl_term *t = &m->terms.v[i];
        t->t1_ns = later > t->t0_ns ? later : t->t0_ns;
        if (t->t0_ns < later)
            later = t->t0_ns;
    }
    for (size_t i = 0; i < m->spans.n; i++) {
        const struct tl_span *s = &m->spans.v[i];
        if (s->role != TL_ROLE_LEADER)
            continue;
        for (size_t j = 0; j < m->terms.n; j++)
            if (m->terms.v[j].term == s->term && m->terms.v[j].leader == 0)
                m->terms.v[j].leader = s->node;
    }
}

/* --- faults ---------------------------------------------------------------------------------- */

static void build_fault_stretches(struct tl_model *m)
{
    for (size_t i = 0; i < m->faults.n; i++) {
        struct tl_fault *f = &m->faults.v[i];
        f->open = f->kind == TL_F_CRASH || f->kind == TL_F_PARTITION || f->kind == TL_F_ISOLATE ||
                  f->kind == TL_F_SLOW;
        f->t1_ns = f->t0_ns;
        if (!f->open)
            continue;
        for (size_t j = i + 1; j < m->faults.n && f->open; j++) {
            const struct tl_fault *g = &m->faults.v[j];
            bool ends = false;
            if (f->kind == TL_F_CRASH)
                ends = g->kind == TL_F_RESTART && g->node == f->node;
            else
                ends = g->kind == TL_F_HEAL || (f->kind == TL_F_PARTITION && g->kind == f->kind);
            if (ends) {
                f->t1_ns = g->t0_ns;
                f->open = false;
            }
        }
        if (f->open)
            f->t1_ns = m->t_max_ns;
    }
}

/* --- membership ----------------------------------------------------------------------------- */

/* A configuration's change to one member, as first seen (mevs index). */
struct member_change {
    uint32_t peer;
    uint64_t index;
    enum tl_change how;
    size_t at;
};

/* By member, entry and change, then file order: the first line of each change first. */
static int change_key_cmp(const void *a, const void *b)
{
    const struct member_change *x = a, *y = b;
    if (x->peer != y->peer)
        return x->peer < y->peer ? -1 : 1;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    if (x->how != y->how)
        return x->how < y->how ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* By member, then file order. */
static int change_at_cmp(const void *a, const void *b)
{
    const struct member_change *x = a, *y = b;
    if (x->peer != y->peer)
        return x->peer < y->peer ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

static void mark_heard(const struct tl_model *m, bool *heard, uint64_t node)
{
    uint32_t lane = tl_lane_of_node(m, node);
    if (lane != TL_NONE)
        heard[lane] = true;
}

/* Which nodes took part in the run, by lane: a band, tick, message or membership line of their
 * own (a configuration adding one does not count). The caller frees it. */
static bool *heard_from(const struct tl_model *m)
{
    bool *heard = xcalloc(m->node_ids.n + 1, sizeof *heard);
    for (size_t i = 0; i < m->nevs.n; i++)
        if (m->nevs.v[i].kind != TL_NEV_JOIN)
            mark_heard(m, heard, m->nevs.v[i].node);
    for (size_t i = 0; i < m->ticks.n; i++)
        mark_heard(m, heard, m->ticks.v[i].node);
    for (size_t i = 0; i < m->msgs.n; i++) {
        mark_heard(m, heard, m->msgs.v[i].from);
        mark_heard(m, heard, m->msgs.v[i].to);
    }
    for (size_t i = 0; i < m->mevs.n; i++) {
        mark_heard(m, heard, m->mevs.v[i].node);
        mark_heard(m, heard, m->mevs.v[i].peer);
    }
    return heard;
}

static void push_mspan(struct tl_model *m, uint32_t node, enum tl_membership how, int64_t t0_ns,
                       int64_t t1_ns, const struct tl_mev *from)
{
    if (how == TL_M_VOTER)
        return;
    struct tl_mspan *s = TL_PUSH(m->mspans);
    s->node = node;
    s->m = how;
    s->t0_ns = t0_ns;
    s->t1_ns = t1_ns > t0_ns ? t1_ns : t0_ns;
    s->index = from != NULL ? from->index : 0;
    s->line = from != NULL ? from->line : 0;
}

/* Each node's membership from the configurations of the trace, the cluster's view: a change to a
 * member (entry, member, change) counts from the first line that shows it, wherever it is (the
 * leader's append, in practice). A node whose first change adds it was outside until then; in a
 * trace with membership changes, a node never named by one and never heard from was outside
 * throughout (a spare id never added). Without changes, every node is a voter: no stretches. */
static void build_membership(struct tl_model *m)
{
    struct member_change *c = xcalloc(m->mevs.n + 1, sizeof *c);
    size_t n = 0;
    for (size_t i = 0; i < m->mevs.n; i++) {
        const struct tl_mev *v = &m->mevs.v[i];
        if (v->kind == TL_MEV_CONFIG && v->peer != 0 && v->change != TL_CH_NONE &&
            v->change != TL_CH_OTHER)
            c[n++] = (struct member_change){v->peer, v->index, v->change, i};
    }
    qsort(c, n, sizeof *c, change_key_cmp);
    size_t k = 0; /* the first line of each change */
    for (size_t i = 0; i < n; i++)
        if (k == 0 || c[k - 1].peer != c[i].peer || c[k - 1].index != c[i].index ||
            c[k - 1].how != c[i].how)
            c[k++] = c[i];
    n = k;
    qsort(c, n, sizeof *c, change_at_cmp);
    bool *heard = heard_from(m);
    for (size_t l = 0; l < m->node_ids.n; l++) {
        uint32_t node = (uint32_t)m->node_ids.v[l];
        size_t i = 0;
        while (i < n && c[i].peer < node)
            i++;
        bool named = i < n && c[i].peer == node;
        enum tl_membership now = TL_M_VOTER;
        if ((named && c[i].how == TL_CH_ADDED) || (!named && n > 0 && !heard[l]))
            now = TL_M_OUTSIDE;
        bool never = now == TL_M_OUTSIDE && !named;
        int64_t since = m->t_min_ns;
        const struct tl_mev *from = NULL;
        for (; i < n && c[i].peer == node; i++) {
            const struct tl_mev *v = &m->mevs.v[c[i].at];
            enum tl_membership next = c[i].how == TL_CH_ADDED      ? TL_M_LEARNER
                                      : c[i].how == TL_CH_PROMOTED ? TL_M_VOTER
                                                                   : TL_M_OUTSIDE;
            if (next == now)
                continue;
            push_mspan(m, node, now, since, v->t_ns, from);
            now = next;
            since = v->t_ns;
            from = v;
        }
        push_mspan(m, node, now, since, m->t_max_ns, from);
        if (never)
            m->mspans.v[m->mspans.n - 1].never = true;
    }
    free(heard);
    free(c);
}

/* Each leader's transfer, from its "hands leadership" line to the first later line of that
 * leader that ends it: it gives up, starts another, or its band changes (role, term, crash,
 * retirement); else the end of the trace. It so lies within one of the leader's spans. */
static void build_transfers(struct tl_model *m)
{
    for (size_t i = 0; i < m->mevs.n; i++) {
        const struct tl_mev *v = &m->mevs.v[i];
        if (v->kind != TL_MEV_TRANSFER)
            continue;
        struct tl_xfer *x = TL_PUSH(m->xfers);
        x->node = v->node;
        x->to = v->peer;
        x->t0_ns = v->t_ns;
        x->t1_ns = m->t_max_ns;
        x->line = v->line;
        for (size_t j = i + 1; j < m->mevs.n; j++) {
            const struct tl_mev *w = &m->mevs.v[j];
            if (w->node == v->node && (w->kind == TL_MEV_GAVE_UP || w->kind == TL_MEV_TRANSFER)) {
                x->t1_ns = w->t_ns;
                x->gave_up = w->kind == TL_MEV_GAVE_UP;
                break;
            }
        }
        for (size_t j = 0; j < m->nevs.n; j++) {
            const struct tl_nev *e = &m->nevs.v[j];
            if (e->node != v->node || e->line <= v->line || e->kind == TL_NEV_JOIN)
                continue;
            if (e->t_ns < x->t1_ns) {
                x->t1_ns = e->t_ns;
                x->gave_up = false;
            }
            break;
        }
        if (x->t1_ns < x->t0_ns)
            x->t1_ns = x->t0_ns;
    }
}

/* --- heartbeats --------------------------------------------------------------------------------
 */

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void build_hb_runs(struct tl_model *m)
{
    /* The fold gap: four times the median interval between one leader's heartbeats. */
    int64_t *gaps = xcalloc(m->msgs.n + 1, sizeof *gaps);
    int64_t *last = xcalloc(m->node_ids.n + 1, sizeof *last);
    bool *seen = xcalloc(m->node_ids.n + 1, sizeof *seen);
    size_t n_gaps = 0;
    for (size_t i = 0; i < m->msgs.n; i++) {
        const struct tl_msg *g = &m->msgs.v[i];
        if (!g->has_send || !g->heartbeat || g->reply)
            continue;
        uint32_t lane = tl_lane_of_node(m, g->from);
        if (lane == TL_NONE)
            continue;
        if (seen[lane] && g->send_ns > last[lane])
            gaps[n_gaps++] = g->send_ns - last[lane];
        seen[lane] = true;
        last[lane] = g->send_ns;
    }
    qsort(gaps, n_gaps, sizeof *gaps, i64_cmp);
    int64_t gap_ns = n_gaps > 0 ? 4 * gaps[n_gaps / 2] : 0;
    if (gap_ns < 1000000)
        gap_ns = 1000000;
    free(gaps);
    free(last);
    free(seen);

    uint32_t *cur = xcalloc(m->node_ids.n + 1, sizeof *cur); /* run index + 1 per leader lane */
    for (size_t i = 0; i < m->msgs.n; i++) {
        const struct tl_msg *g = &m->msgs.v[i];
        if (!g->has_send || !g->heartbeat)
            continue;
        uint32_t leader = g->reply ? g->to : g->from;
        uint32_t lane = tl_lane_of_node(m, leader);
        if (lane == TL_NONE)
            continue;
        struct tl_hb_run *r = cur[lane] ? &m->hb_runs.v[cur[lane] - 1] : NULL;
        int64_t t_end = g->send_ns;
        for (uint32_t e = g->first_end; e != TL_NONE; e = m->ends.v[e].next_end)
            if (m->ends.v[e].t_ns > t_end)
                t_end = m->ends.v[e].t_ns;
        bool same =
            r != NULL && (g->reply || r->term == g->term) && g->send_ns <= r->t1_ns + gap_ns;
        if (!same && g->reply && r != NULL && g->send_ns <= r->t1_ns + gap_ns)
            same = true;
        if (!same) {
            r = TL_PUSH(m->hb_runs);
            r->node = leader;
            r->term = g->term;
            r->t0_ns = g->send_ns;
            r->t1_ns = t_end;
            cur[lane] = (uint32_t)m->hb_runs.n;
        }
        if (t_end > r->t1_ns)
            r->t1_ns = t_end;
        for (uint32_t e = g->first_end; e != TL_NONE; e = m->ends.v[e].next_end) {
            r->n_msgs++;
            if (m->ends.v[e].kind == TL_END_DROP)
                r->n_dropped++;
        }
        if (g->reply && g->has_ok && !g->ok)
            r->n_refused++;
    }
    free(cur);
}

/* --- scale and idle stretches ------------------------------------------------------------------
 */

/* The largest of 1, 2, 5 x 10^k not above v (v > 0): a scale that prints exactly. */
static double ladder_floor(double v)
{
    double p = pow(10.0, floor(log10(v)));
    double best = p;
    if (2 * p <= v)
        best = 2 * p;
    if (5 * p <= v)
        best = 5 * p;
    return best;
}

static void choose_scale(struct tl_model *m)
{
    double dur_ms = (double)(m->t_max_ns - m->t_min_ns) / 1e6;
    if (dur_ms < 1e-3)
        dur_ms = 1e-3;
    int64_t *lat = xcalloc(m->ends.n + 1, sizeof *lat);
    size_t n = 0;
    for (size_t i = 0; i < m->ends.n; i++) {
        const struct tl_end *e = &m->ends.v[i];
        const struct tl_msg *g = &m->msgs.v[e->msg];
        if (g->has_send && !g->heartbeat && e->t_ns > g->send_ns)
            lat[n++] = e->t_ns - g->send_ns;
    }
    qsort(lat, n, sizeof *lat, i64_cmp);
    double pp = n > 0 ? LATENCY_PX / ((double)lat[n / 2] / 1e6) : MIN_WIDTH / dur_ms;
    free(lat);
    if (pp * dur_ms > MAX_WIDTH)
        pp = MAX_WIDTH / dur_ms;
    if (pp * dur_ms < MIN_WIDTH)
        pp = MIN_WIDTH / dur_ms;
    if (pp > 1e6)
        pp = 1e6;
    m->px_per_ms = ladder_floor(pp);
    m->x_left = X_LEFT;
    m->width = ceil(X_LEFT + dur_ms * m->px_per_ms + X_RIGHT);
}

static void add_time(int64_t **v, size_t *n, size_t *cap, int64_t t)
{
    tl_grow((void **)v, cap, *n + 1, sizeof **v);
    (*v)[(*n)++] = t;
}

static void build_folds(struct tl_model *m)
{
    int64_t *t = NULL;
    size_t n = 0, cap = 0;
    add_time(&t, &n, &cap, m->t_min_ns);
    add_time(&t, &n, &cap, m->t_max_ns);
    for (size_t i = 0; i < m->msgs.n; i++)
        if (m->msgs.v[i].has_send && !m->msgs.v[i].heartbeat)
            add_time(&t, &n, &cap, m->msgs.v[i].send_ns);
    for (size_t i = 0; i < m->ends.n; i++)
        if (!m->msgs.v[m->ends.v[i].msg].heartbeat)
            add_time(&t, &n, &cap, m->ends.v[i].t_ns);
    for (size_t i = 0; i < m->nevs.n; i++)
        add_time(&t, &n, &cap, m->nevs.v[i].t_ns);
    for (size_t i = 0; i < m->ticks.n; i++)
        add_time(&t, &n, &cap, m->ticks.v[i].t_ns);
    for (size_t i = 0; i < m->mevs.n; i++)
        add_time(&t, &n, &cap, m->mevs.v[i].t_ns);
    for (size_t i = 0; i < m->faults.n; i++) {
        add_time(&t, &n, &cap, m->faults.v[i].t0_ns);
        add_time(&t, &n, &cap, m->faults.v[i].t1_ns);
    }
    for (size_t i = 0; i < m->ops.n; i++) {
        add_time(&t, &n, &cap, m->ops.v[i].t0_ns);
        add_time(&t, &n, &cap, m->ops.v[i].t1_ns);
    }
    qsort(t, n, sizeof *t, i64_cmp);
    for (size_t i = 1; i < n; i++) {
        double a = tl_x(m, t[i - 1]), b = tl_x(m, t[i]);
        if (b - a <= FOLD_MIN_PX)
            continue;
        double *p = TL_PUSH(m->folds);
        *p = a + FOLD_KEEP_PX;
        p = TL_PUSH(m->folds);
        *p = b - FOLD_KEEP_PX;
        m->stats.idle_folds++;
    }
    free(t);
}

/* --- lanes and counts --------------------------------------------------------------------------
 */

static void build_lanes(struct tl_model *m)
{
    double y = AXIS_H;
    m->terms_y0 = y;
    m->terms_y1 = y + TERMS_H - 4;
    y += TERMS_H;
    for (size_t i = 0; i < m->node_ids.n; i++) {
        struct tl_lane *l = TL_PUSH(m->lanes);
        l->id = m->node_ids.v[i];
        l->y0 = y;
        l->y1 = y + NODE_LANE_H;
        y += NODE_LANE_H;
    }
    for (size_t i = 0; i < m->client_ids.n; i++) {
        struct tl_lane *l = TL_PUSH(m->lanes);
        l->client = true;
        l->id = m->client_ids.v[i];
        l->y0 = y;
        l->y1 = y + CLIENT_LANE_H;
        y += CLIENT_LANE_H;
    }
    m->height = y + 10;
}

static void count(struct tl_model *m)
{
    struct timeline_stats *s = &m->stats;
    s->nodes = m->node_ids.n;
    s->clients = m->client_ids.n;
    for (size_t i = 0; i < m->msgs.n; i++) {
        const struct tl_msg *g = &m->msgs.v[i];
        if (g->has_send) {
            s->messages++;
            if (g->first_end == TL_NONE)
                s->lost++;
        }
    }
    for (size_t i = 0; i < m->ends.n; i++) {
        const struct tl_end *e = &m->ends.v[i];
        const struct tl_msg *g = &m->msgs.v[e->msg];
        if (!g->has_send) {
            s->orphans++;
            continue;
        }
        if (e->kind == TL_END_RECV)
            s->arrows++;
        else
            s->drops++;
        if (g->heartbeat)
            s->heartbeat_msgs++;
    }
    s->heartbeat_runs = m->hb_runs.n;
    if (!m->has_history)
        s->verdict = -1;
}

void tl_layout(struct tl_model *m)
{
    if (m->t_max_ns < m->t_min_ns)
        m->t_max_ns = m->t_min_ns;
    for (size_t i = 0; i < m->ops.n; i++)
        if (!m->ops.v[i].completed)
            m->ops.v[i].t1_ns = m->t_max_ns;
    build_membership(m);
    build_spans(m);
    build_terms(m);
    build_transfers(m);
    build_fault_stretches(m);
    build_hb_runs(m);
    choose_scale(m);
    build_folds(m);
    build_lanes(m);
    count(m);
}

void tl_model_free(struct tl_model *m)
{
    free(m->title);
    for (size_t i = 0; i < m->msgs.n; i++) {
        free(m->msgs.v[i].id);
        free(m->msgs.v[i].type);
    }
    for (size_t i = 0; i < m->ends.n; i++)
        free(m->ends.v[i].why);
    for (size_t i = 0; i < m->faults.n; i++) {
        free(m->faults.v[i].name);
        free(m->faults.v[i].groups);
        free(m->faults.v[i].group_of);
        free(m->faults.v[i].refused);
    }
    for (size_t i = 0; i < m->mevs.n; i++)
        free(m->mevs.v[i].text);
    for (size_t i = 0; i < m->ops.n; i++) {
        free(m->ops.v[i].key);
        free(m->ops.v[i].value);
        free(m->ops.v[i].error);
    }
    free(m->msgs.v);
    free(m->ends.v);
    free(m->nevs.v);
    free(m->spans.v);
    free(m->ticks.v);
    free(m->mevs.v);
    free(m->mspans.v);
    free(m->xfers.v);
    free(m->states.v);
    free(m->faults.v);
    free(m->ops.v);
    free(m->hb_runs.v);
    free(m->terms.v);
    free(m->lanes.v);
    free(m->node_ids.v);
    free(m->client_ids.v);
    free(m->id_table);
    free(m->folds.v);
    if (m->has_check)
        check_result_free(&m->check);
    memset(m, 0, sizeof *m);
}
