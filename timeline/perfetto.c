/* perfetto.c - the run in the Chrome trace-event format (a JSON object with "traceEvents"), which
 * ui.perfetto.dev opens: for runs too large for the page. One process per node and per client;
 * a node has a "role" track (role slices, crashes, leadership transfers, commit/apply and
 * configuration instants), a "messages" track (a zero-length slice per send, receive and drop,
 * joined by flow events), a "membership" track when it was a learner or outside the cluster, and
 * counters for its term and commit index; a client has one track of operation slices. One event
 * per line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check/linearize.h"
#include "timeline/model.h"

#define TID_ROLE 1
#define TID_MSGS 2
#define TID_MEMBERS                                                                                \
    3 /* a node's stretches as a learner or outside the cluster, when it has any                   \
       */

/* Trace-event times are microseconds: "%d.%03d" from nanoseconds, exact. */
static const char *us(char buf[32], const struct tl_model *m, int64_t t_ns)
{
    int64_t d = t_ns - m->t_min_ns;
    if (d < 0)
        d = 0;
    snprintf(buf, 32, "%" PRId64 ".%03" PRId64, d / 1000, d % 1000);
    return buf;
}

static const char *dur(char buf[32], int64_t d_ns)
{
    if (d_ns < 0)
        d_ns = 0;
    snprintf(buf, 32, "%" PRId64 ".%03" PRId64, d_ns / 1000, d_ns % 1000);
    return buf;
}

static uint32_t pid_of_node(const struct tl_model *m, uint64_t node)
{
    uint32_t lane = tl_lane_of_node(m, node);
    return lane == TL_NONE ? 0 : lane + 1;
}

static void sep(FILE *o, bool *first)
{
    fputs(*first ? "\n" : ",\n", o);
    *first = false;
}

static void metadata(FILE *o, const struct tl_model *m, bool *first)
{
    for (size_t i = 0; i < m->lanes.n; i++) {
        const struct tl_lane *l = &m->lanes.v[i];
        uint32_t pid = (uint32_t)i + 1;
        sep(o, first);
        fprintf(o,
                "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%" PRIu32
                ",\"tid\":0,\"args\":{\"name\":\"%s %" PRIu64 "\"}},\n"
                "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":%" PRIu32
                ",\"tid\":0,\"args\":{\"sort_index\":%zu}},\n"
                "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%" PRIu32
                ",\"tid\":%d,\"args\":{\"name\":\"%s\"}}",
                pid, l->client ? "client" : "node", l->id, pid, i, pid, TID_ROLE,
                l->client ? "operations" : "role");
        if (!l->client)
            fprintf(o,
                    ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%" PRIu32
                    ",\"tid\":%d,\"args\":{\"name\":\"messages\"}}",
                    pid, TID_MSGS);
        bool members = false;
        for (size_t k = 0; !l->client && k < m->mspans.n; k++)
            members = members || m->mspans.v[k].node == l->id;
        if (members)
            fprintf(o,
                    ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%" PRIu32
                    ",\"tid\":%d,\"args\":{\"name\":\"membership\"}}",
                    pid, TID_MEMBERS);
    }
}

static void roles(FILE *o, const struct tl_model *m, bool *first)
{
    char a[32], b[32];
    for (size_t i = 0; i < m->spans.n; i++) {
        const struct tl_span *s = &m->spans.v[i];
        sep(o, first);
        fprintf(o,
                "{\"ph\":\"X\",\"name\":\"%s T%" PRIu64 "\",\"cat\":\"role\",\"pid\":%" PRIu32
                ",\"tid\":%d,\"ts\":%s,\"dur\":%s,\"args\":{\"role\":\"%s\",\"term\":%" PRIu64 "}}",
                tl_role_name(s->role), s->term, pid_of_node(m, s->node), TID_ROLE,
                us(a, m, s->t0_ns), dur(b, s->t1_ns - s->t0_ns), tl_role_name(s->role), s->term);
    }
    /* Terms as counters, from the lines that set them. */
    for (size_t i = 0; i < m->nevs.n; i++) {
        const struct tl_nev *e = &m->nevs.v[i];
        if (!e->has_term)
            continue;
        sep(o, first);
        fprintf(o,
                "{\"ph\":\"C\",\"name\":\"term\",\"pid\":%" PRIu32 ",\"tid\":0,\"ts\":%s,"
                "\"args\":{\"term\":%" PRIu64 "}}",
                pid_of_node(m, e->node), us(a, m, e->t_ns), e->term);
    }
    for (size_t i = 0; i < m->ticks.n; i++) {
        const struct tl_tick *k = &m->ticks.v[i];
        uint32_t pid = pid_of_node(m, k->node);
        sep(o, first);
        if (k->kind == TL_TICK_COMMIT)
            fprintf(o,
                    "{\"ph\":\"C\",\"name\":\"commit index\",\"pid\":%" PRIu32
                    ",\"tid\":0,\"ts\":%s,\"args\":{\"index\":%" PRIu64 "}}",
                    pid, us(a, m, k->t_ns), k->index);
        else if (k->kind == TL_TICK_TERM)
            fprintf(o,
                    "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"term %" PRIu64 "\",\"cat\":\"term\","
                    "\"pid\":%" PRIu32 ",\"tid\":%d,\"ts\":%s}",
                    k->index, pid, TID_ROLE, us(a, m, k->t_ns));
        else
            fprintf(o,
                    "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"%s %" PRIu64 "\",\"cat\":\"%s\","
                    "\"pid\":%" PRIu32 ",\"tid\":%d,\"ts\":%s,\"args\":{\"index\":%" PRIu64
                    ",\"client\":%" PRIu64 ",\"seq\":%" PRIu64 "}}",
                    k->kind == TL_TICK_APPLY ? "apply" : "snapshot", k->index,
                    k->kind == TL_TICK_APPLY ? "apply" : "snapshot", pid, TID_ROLE,
                    us(a, m, k->t_ns), k->index, k->client, k->seq);
    }
}

static void faults(FILE *o, const struct tl_model *m, bool *first)
{
    char a[32], b[32];
    for (size_t i = 0; i < m->faults.n; i++) {
        const struct tl_fault *f = &m->faults.v[i];
        uint32_t pid = f->node != 0 ? pid_of_node(m, f->node) : 0;
        sep(o, first);
        fprintf(o, "{\"ph\":\"i\",\"s\":\"%s\",\"name\":\"", pid != 0 ? "p" : "g");
        tl_json_str(o, f->name);
        if (f->node != 0)
            fprintf(o, " node %" PRIu32, f->node);
        for (uint32_t g = 0; g < f->n_groups; g++) {
            fputs(g == 0 ? " {" : " | {", o);
            bool one = true;
            for (size_t k = 0; k < f->n_groups_nodes; k++)
                if (f->group_of[k] == g) {
                    fprintf(o, "%s%" PRIu32, one ? "" : ",", f->groups[k]);
                    one = false;
                }
            fputs("}", o);
        }
        if (f->refused != NULL) {
            fputs(" refused: ", o);
            tl_json_str(o, f->refused);
        }
        fprintf(o, "\",\"cat\":\"fault\",\"pid\":%" PRIu32 ",\"tid\":%d,\"ts\":%s}", pid,
                pid != 0 ? TID_ROLE : 0, us(a, m, f->t0_ns));
        if (f->kind == TL_F_CRASH && pid != 0 && f->t1_ns > f->t0_ns) {
            sep(o, first);
            fprintf(o,
                    "{\"ph\":\"X\",\"name\":\"DOWN\",\"cat\":\"fault\",\"pid\":%" PRIu32
                    ",\"tid\":%d,\"ts\":%s,\"dur\":%s}",
                    pid, TID_ROLE, us(a, m, f->t0_ns), dur(b, f->t1_ns - f->t0_ns));
        }
    }
}

/* Membership: a node's stretches as a learner or outside the cluster (slices of their own track),
 * its leader's transfers (slices on its role track, inside its leader span), and an instant on
 * the role track for every configuration taking effect or committing, transfer step and
 * retirement. */
static void membership(FILE *o, const struct tl_model *m, bool *first)
{
    char a[32], b[32];
    for (size_t i = 0; i < m->mspans.n; i++) {
        const struct tl_mspan *s = &m->mspans.v[i];
        sep(o, first);
        fprintf(o,
                "{\"ph\":\"X\",\"name\":\"%s\",\"cat\":\"membership\",\"pid\":%" PRIu32
                ",\"tid\":%d,\"ts\":%s,\"dur\":%s",
                s->m == TL_M_LEARNER ? "learner" : "not a member", pid_of_node(m, s->node),
                TID_MEMBERS, us(a, m, s->t0_ns), dur(b, s->t1_ns - s->t0_ns));
        if (s->line != 0) /* begun by a configuration, not the start of the trace */
            fprintf(o, ",\"args\":{\"config\":%" PRIu64 ",\"line\":%" PRIu32 "}", s->index,
                    s->line);
        fputs("}", o);
    }
    for (size_t i = 0; i < m->xfers.n; i++) {
        const struct tl_xfer *x = &m->xfers.v[i];
        sep(o, first);
        fprintf(o,
                "{\"ph\":\"X\",\"name\":\"transfer to node %" PRIu32 "%s\",\"cat\":\"transfer\","
                "\"pid\":%" PRIu32 ",\"tid\":%d,\"ts\":%s,\"dur\":%s}",
                x->to, x->gave_up ? " (gave up)" : "", pid_of_node(m, x->node), TID_ROLE,
                us(a, m, x->t0_ns), dur(b, x->t1_ns - x->t0_ns));
    }
    for (size_t i = 0; i < m->mevs.n; i++) {
        const struct tl_mev *v = &m->mevs.v[i];
        sep(o, first);
        fprintf(o, "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"");
        tl_mev_describe(o, v, tl_json_str);
        fprintf(o,
                "\",\"cat\":\"%s\",\"pid\":%" PRIu32 ",\"tid\":%d,\"ts\":%s,\"args\":{"
                "\"line\":%" PRIu32,
                v->kind <= TL_MEV_RETIRED ? "config" : "transfer", pid_of_node(m, v->node),
                TID_ROLE, us(a, m, v->t_ns), v->line);
        if (v->kind == TL_MEV_CONFIG || v->kind == TL_MEV_COMMITTED)
            fprintf(o, ",\"config\":%" PRIu64, v->index);
        if (v->peer != 0)
            fprintf(o, ",\"%s\":%" PRIu32, v->kind == TL_MEV_CONFIG ? "member" : "peer", v->peer);
        fprintf(o, "}}");
    }
}

static void msg_name(FILE *o, const struct tl_msg *g)
{
    if (g->pre_vote && strncmp(g->type, "RequestVote", 11) == 0)
        fprintf(o, "PreVote%s", g->reply ? "Reply" : "");
    else
        tl_json_str(o, g->type);
    if (g->heartbeat)
        fputs(" (heartbeat)", o);
}

static void messages(FILE *o, const struct tl_model *m, bool *first)
{
    char a[32];
    uint64_t flow = 0;
    for (size_t i = 0; i < m->msgs.n; i++) {
        const struct tl_msg *g = &m->msgs.v[i];
        uint32_t spid = pid_of_node(m, g->from);
        if (!g->has_send || spid == 0)
            continue;
        sep(o, first);
        fprintf(o, "{\"ph\":\"X\",\"name\":\"");
        msg_name(o, g);
        fprintf(o,
                " \\u2192 %" PRIu32 "\",\"cat\":\"send\",\"pid\":%" PRIu32
                ",\"tid\":%d,\"ts\":%s,\"dur\":0,\"args\":{\"id\":\"",
                g->to, spid, TID_MSGS, us(a, m, g->send_ns));
        tl_json_str(o, g->id);
        fprintf(o, "\",\"term\":%" PRIu64, g->term);
        if (g->entries >= 0)
            fprintf(o, ",\"entries\":%" PRId64, g->entries);
        if (g->has_ok)
            fprintf(o, ",\"ok\":%s", g->ok ? "true" : "false");
        if (g->first_end == TL_NONE)
            fprintf(o, ",\"lost\":true");
        fprintf(o, "}}");
        for (uint32_t e = g->first_end; e != TL_NONE; e = m->ends.v[e].next_end) {
            const struct tl_end *end = &m->ends.v[e];
            uint32_t rpid = pid_of_node(m, end->to);
            if (rpid == 0)
                rpid = spid;
            flow++;
            sep(o, first);
            fprintf(o, "{\"ph\":\"s\",\"id\":%" PRIu64 ",\"name\":\"", flow);
            msg_name(o, g);
            fprintf(o, "\",\"cat\":\"msg\",\"pid\":%" PRIu32 ",\"tid\":%d,\"ts\":%s}", spid,
                    TID_MSGS, us(a, m, g->send_ns));
            sep(o, first);
            fprintf(o, "{\"ph\":\"X\",\"name\":\"%s", end->kind == TL_END_DROP ? "DROPPED " : "");
            msg_name(o, g);
            fprintf(o,
                    " \\u2190 %" PRIu32 "%s\",\"cat\":\"%s\",\"pid\":%" PRIu32
                    ",\"tid\":%d,\"ts\":%s,\"dur\":0,\"args\":{\"id\":\"",
                    g->from, end->copy ? " (duplicate)" : "",
                    end->kind == TL_END_DROP ? "drop" : "recv", rpid, TID_MSGS,
                    us(a, m, end->t_ns));
            tl_json_str(o, g->id);
            fputs("\"", o);
            if (end->why != NULL) {
                fputs(",\"why\":\"", o);
                tl_json_str(o, end->why);
                fputs("\"", o);
            }
            fprintf(o, "}}");
            sep(o, first);
            fprintf(o, "{\"ph\":\"f\",\"bp\":\"e\",\"id\":%" PRIu64 ",\"name\":\"", flow);
            msg_name(o, g);
            fprintf(o, "\",\"cat\":\"msg\",\"pid\":%" PRIu32 ",\"tid\":%d,\"ts\":%s}", rpid,
                    TID_MSGS, us(a, m, end->t_ns));
        }
    }
}

static void ops(FILE *o, const struct tl_model *m, bool *first)
{
    char a[32], b[32];
    for (size_t i = 0; i < m->ops.n; i++) {
        const struct tl_op *op = &m->ops.v[i];
        uint32_t lane = tl_lane_of_client(m, op->process);
        if (lane == TL_NONE)
            continue;
        sep(o, first);
        fprintf(o, "{\"ph\":\"X\",\"name\":\"%s%s ", op->bad ? "NOT LINEARIZABLE " : "",
                check_f_name(op->f));
        tl_json_str(o, op->key);
        fprintf(o,
                "\",\"cat\":\"%s\",\"pid\":%" PRIu32 ",\"tid\":%d,\"ts\":%s,\"dur\":%s,"
                "\"args\":{\"key\":\"",
                check_type_name(op->type), lane + 1, TID_ROLE, us(a, m, op->t0_ns),
                dur(b, op->t1_ns - op->t0_ns));
        tl_json_str(o, op->key);
        fputs("\"", o);
        if (op->value != NULL) {
            fputs(",\"value\":\"", o);
            tl_json_str(o, op->value);
            fputs("\"", o);
        }
        fprintf(o, ",\"type\":\"%s\"", check_type_name(op->type));
        if (op->type == CHECK_OK)
            fprintf(o, ",\"result\":\"%s\"", check_res_name(op->result));
        if (op->has_seq)
            fprintf(o, ",\"seq\":%" PRIu64, op->seq);
        if (op->has_index)
            fprintf(o, ",\"index\":%" PRIu64, op->index);
        if (op->bad)
            fprintf(o, ",\"linearizable\":false");
        fprintf(o, "}}");
    }
}

void tl_write_perfetto(const struct tl_model *m, FILE *o)
{
    bool first = true;
    fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"title\":\"", o);
    tl_json_str(o, m->title != NULL ? m->title : "");
    fputs("\"},\"traceEvents\":[", o);
    metadata(o, m, &first);
    roles(o, m, &first);
    faults(o, m, &first);
    membership(o, m, &first);
    messages(o, m, &first);
    ops(o, m, &first);
    fputs("\n]}\n", o);
}
