/* trace.c - reads a JSON Lines trace into the timeline's model, one line at a time with jansson.
 * A field that is missing is tolerated (the line draws less); a field of the wrong type, a line
 * that is not a JSON object or a time that is not a number is an error naming the line.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hash.h"
#include "timeline/model.h"

#define T_MS_MAX 1e12 /* a time past ~31 years is not a trace's */

struct reader {
    struct tl_model *m;
    const char *path;
    uint32_t line;
    char *err;
    size_t err_len;
};

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct reader *r, const char *fmt, ...)
{
    int n = snprintf(r->err, r->err_len, "%s:%u: ", r->path, r->line);
    if (n < 0 || (size_t)n >= r->err_len)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->err_len - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

void tl_grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    *v = xreallocarray(*v, c, elem);
    *cap = c;
}

bool tl_ids_has(const struct tl_ids *s, uint64_t id)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->v[lo] == id;
}

void tl_ids_add(struct tl_ids *s, uint64_t id)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n && s->v[lo] == id)
        return;
    tl_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v);
    memmove(&s->v[lo + 1], &s->v[lo], (s->n - lo) * sizeof *s->v);
    s->v[lo] = id;
    s->n++;
}

/* --- fields: missing is fine (*has = false), the wrong type is an error -------------------- */

static int get_u64(struct reader *r, json_t *o, const char *name, bool *has, uint64_t *out)
{
    json_t *v = json_object_get(o, name);
    *has = false;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fail(r, "\"%s\" must be a non-negative integer", name);
    *has = true;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_node(struct reader *r, json_t *o, const char *name, uint32_t *out)
{
    bool has;
    uint64_t v = 0;
    if (get_u64(r, o, name, &has, &v) != 0)
        return -1;
    if (has && v > UINT32_MAX)
        return fail(r, "\"%s\" is not a node id: %llu", name, (unsigned long long)v);
    if (has)
        *out = (uint32_t)v;
    return 0;
}

static int get_str(struct reader *r, json_t *o, const char *name, const char **out)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fail(r, "\"%s\" must be a string", name);
    *out = json_string_value(v);
    return 0;
}

static int get_bool(struct reader *r, json_t *o, const char *name, bool *has, bool *out)
{
    json_t *v = json_object_get(o, name);
    *has = false;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return fail(r, "\"%s\" must be true or false", name);
    *has = true;
    *out = json_is_true(v);
    return 0;
}

static int get_ms(struct reader *r, json_t *o, const char *name, bool *has, int64_t *out_ns)
{
    json_t *v = json_object_get(o, name);
    *has = false;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return fail(r, "\"%s\" must be a number of milliseconds", name);
    double ms = json_number_value(v);
    if (!(ms >= -T_MS_MAX && ms <= T_MS_MAX))
        return fail(r, "\"%s\" is out of range: %g", name, ms);
    *has = true;
    *out_ns = (int64_t)llround(ms * 1e6);
    return 0;
}

/* "node 3" -> 3; "client 7" -> 7 with *client; false for any other actor. */
static bool actor_id(const char *actor, bool *client, uint64_t *id)
{
    const char *digits;
    if (actor == NULL)
        return false;
    if (strncmp(actor, "node ", 5) == 0) {
        digits = actor + 5;
        *client = false;
    } else if (strncmp(actor, "client ", 7) == 0) {
        digits = actor + 7;
        *client = true;
    } else {
        return false;
    }
    if (*digits < '0' || *digits > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, 10);
    if (*end != '\0' || errno != 0 || (!*client && v > UINT32_MAX))
        return false;
    *id = v;
    return true;
}

enum tl_role tl_role_parse(const char *s)
{
    if (s == NULL)
        return TL_ROLE_UNKNOWN;
    if (strcmp(s, "follower") == 0)
        return TL_ROLE_FOLLOWER;
    if (strcmp(s, "pre-candidate") == 0 || strcmp(s, "precandidate") == 0)
        return TL_ROLE_PRECANDIDATE;
    if (strcmp(s, "candidate") == 0)
        return TL_ROLE_CANDIDATE;
    if (strcmp(s, "leader") == 0)
        return TL_ROLE_LEADER;
    return TL_ROLE_UNKNOWN;
}

/* --- messages -------------------------------------------------------------------------------- */

static uint32_t *id_slot(struct tl_model *m, const char *id)
{
    if (m->msgs.n + 1 > m->id_cap / 2) {
        size_t cap = m->id_cap ? m->id_cap * 2 : 1024;
        uint32_t *t = xcalloc(cap, sizeof *t);
        for (size_t i = 0; i < m->id_cap; i++) {
            if (m->id_table[i] == 0)
                continue;
            const char *k = m->msgs.v[m->id_table[i] - 1].id;
            size_t j = hash_fnv1a(HASH_FNV1A_START, k, strlen(k)) & (cap - 1);
            while (t[j] != 0)
                j = (j + 1) & (cap - 1);
            t[j] = m->id_table[i];
        }
        free(m->id_table);
        m->id_table = t;
        m->id_cap = cap;
    }
    size_t j = hash_fnv1a(HASH_FNV1A_START, id, strlen(id)) & (m->id_cap - 1);
    while (m->id_table[j] != 0 && strcmp(m->msgs.v[m->id_table[j] - 1].id, id) != 0)
        j = (j + 1) & (m->id_cap - 1);
    return &m->id_table[j];
}

static enum tl_class class_of(const char *type, bool pre_vote, bool heartbeat, bool *reply)
{
    static const struct {
        const char *name;
        enum tl_class cls;
        bool reply;
    } types[] = {
        {"AppendEntries", TL_C_APPEND, false},
        {"AppendEntriesReply", TL_C_APPEND, true},
        {"RequestVote", TL_C_VOTE, false},
        {"RequestVoteReply", TL_C_VOTE, true},
        {"PreVote", TL_C_PREVOTE, false},
        {"PreVoteReply", TL_C_PREVOTE, true},
        {"CommitNotify", TL_C_NOTIFY, false},
        {"InstallSnapshot", TL_C_SNAPSHOT, false},
        {"InstallSnapshotReply", TL_C_SNAPSHOT, true},
        {"ReadIndex", TL_C_READ, false},
        {"ReadIndexReply", TL_C_READ, true},
    };
    *reply = false;
    enum tl_class cls = TL_C_OTHER;
    for (size_t i = 0; type != NULL && i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(type, types[i].name) == 0) {
            cls = types[i].cls;
            *reply = types[i].reply;
        }
    }
    if (cls == TL_C_VOTE && pre_vote)
        cls = TL_C_PREVOTE;
    if (cls == TL_C_APPEND && heartbeat)
        cls = TL_C_HEARTBEAT;
    return cls;
}

static int on_msg(struct reader *r, json_t *o, const char *actor, int64_t t_ns)
{
    struct tl_model *m = r->m;
    const char *dir, *id, *type, *why;
    if (get_str(r, o, "dir", &dir) != 0 || get_str(r, o, "id", &id) != 0 ||
        get_str(r, o, "type", &type) != 0 || get_str(r, o, "why", &why) != 0)
        return -1;
    uint32_t from = 0, to = 0;
    uint64_t term = 0, entries = 0;
    bool has_term, has_entries, has_pv, pv = false, has_hb, hb = false, has_ok, ok = false;
    if (get_node(r, o, "from", &from) != 0 || get_node(r, o, "to", &to) != 0 ||
        get_u64(r, o, "term", &has_term, &term) != 0 ||
        get_u64(r, o, "entries", &has_entries, &entries) != 0 ||
        get_bool(r, o, "pre_vote", &has_pv, &pv) != 0 ||
        get_bool(r, o, "heartbeat", &has_hb, &hb) != 0 || get_bool(r, o, "ok", &has_ok, &ok) != 0)
        return -1;
    int kind;
    if (dir == NULL || id == NULL)
        return 0; /* nothing to pair it by: not drawn */
    if (strcmp(dir, "send") == 0)
        kind = 0;
    else if (strcmp(dir, "recv") == 0)
        kind = 1;
    else if (strcmp(dir, "drop") == 0)
        kind = 2;
    else if (strcmp(dir, "dup") == 0)
        kind = 3;
    else
        return fail(r, "\"dir\" must be send, recv, drop or dup, not \"%s\"", dir);
    bool is_client;
    uint64_t actor_node = 0;
    if (!actor_id(actor, &is_client, &actor_node) || is_client)
        actor_node = 0;
    if (kind == 0 && from == 0)
        from = (uint32_t)actor_node;
    if (kind == 1 && to == 0)
        to = (uint32_t)actor_node;

    uint32_t *slot = id_slot(m, id);
    struct tl_msg *msg;
    if (*slot == 0) {
        msg = TL_PUSH(m->msgs);
        msg->id = xstrdup(id);
        msg->entries = -1;
        msg->first_end = TL_NONE;
        *slot = (uint32_t)m->msgs.n;
    } else {
        msg = &m->msgs.v[*slot - 1];
    }
    uint32_t mi = *slot - 1;
    /* Fields merge over the lines of one id; the first value given wins. */
    if (msg->type == NULL && type != NULL)
        msg->type = xstrdup(type);
    if (msg->from == 0)
        msg->from = from;
    if (msg->to == 0)
        msg->to = to;
    if (has_term && msg->term == 0)
        msg->term = term;
    if (has_entries && msg->entries < 0)
        msg->entries = (int64_t)(entries > INT64_MAX ? INT64_MAX : entries);
    msg->pre_vote = msg->pre_vote || (has_pv && pv);
    msg->heartbeat = msg->heartbeat || (has_hb && hb);
    if (has_ok && !msg->has_ok) {
        msg->has_ok = true;
        msg->ok = ok;
    }
    if (from != 0)
        tl_ids_add(&m->node_ids, from);
    if (to != 0)
        tl_ids_add(&m->node_ids, to);

    if (kind == 0) {
        if (!msg->has_send) { /* a second send of one id is ignored: the first one is drawn */
            msg->has_send = true;
            msg->send_ns = t_ns;
            msg->send_line = r->line;
        }
    } else if (kind == 3) {
        msg->dup = true;
        m->stats.duplicates++;
    } else {
        struct tl_end *e = TL_PUSH(m->ends);
        e->msg = mi;
        e->kind = kind == 1 ? TL_END_RECV : TL_END_DROP;
        e->t_ns = t_ns;
        e->line = r->line;
        e->to = to != 0 ? to : msg->to;
        e->why = why != NULL ? xstrdup(why) : NULL;
        e->next_end = TL_NONE;
        uint32_t ei = (uint32_t)(m->ends.n - 1);
        if (msg->first_end == TL_NONE) {
            msg->first_end = ei;
        } else {
            uint32_t j = msg->first_end;
            while (m->ends.v[j].next_end != TL_NONE)
                j = m->ends.v[j].next_end;
            m->ends.v[j].next_end = ei;
            e->copy = true;
        }
    }
    return 0;
}

/* --- node lines --------------------------------------------------------------------------------
 */

/* A line that changes node's band (role, term, crash, restart, join, retire), at this line. */
static struct tl_nev *push_nev(struct reader *r, enum tl_nev_kind kind, uint32_t node, int64_t t_ns)
{
    struct tl_nev *e = TL_PUSH(r->m->nevs);
    e->node = node;
    e->kind = kind;
    e->role = TL_ROLE_UNKNOWN;
    e->t_ns = t_ns;
    e->line = r->line;
    return e;
}

static int on_fault(struct reader *r, json_t *o, int64_t t_ns)
{
    struct tl_model *m = r->m;
    const char *name, *refused;
    uint32_t node = 0;
    bool has_slow;
    uint64_t slow_ms = 0;
    if (get_str(r, o, "fault", &name) != 0 || get_node(r, o, "node", &node) != 0 ||
        get_u64(r, o, "slow_ms", &has_slow, &slow_ms) != 0 ||
        get_str(r, o, "refused", &refused) != 0)
        return -1;
    json_t *groups = json_object_get(o, "groups");
    if (groups != NULL && !json_is_null(groups) && !json_is_array(groups))
        return fail(r, "\"groups\" must be an array of arrays of node ids");
    if (name == NULL)
        return 0;
    struct tl_fault *f = TL_PUSH(m->faults);
    static const char *const kinds[] = {"crash", "restart", "partition", "heal", "isolate", "slow"};
    f->kind = TL_F_OTHER;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(name, kinds[i]) == 0)
            f->kind = (enum tl_fault_kind)i;
    f->name = xstrdup(name);
    f->t0_ns = f->t1_ns = t_ns;
    f->line = r->line;
    f->node = node;
    f->slow_ms = slow_ms;
    f->refused = refused != NULL ? xstrdup(refused) : NULL;
    if (node != 0)
        tl_ids_add(&m->node_ids, node);
    size_t n = 0;
    for (size_t g = 0; groups != NULL && g < json_array_size(groups); g++) {
        json_t *grp = json_array_get(groups, g);
        if (!json_is_array(grp))
            return fail(r, "\"groups\" must be an array of arrays of node ids");
        n += json_array_size(grp);
    }
    if (n > 0) {
        f->groups = xcalloc(n, sizeof *f->groups);
        f->group_of = xcalloc(n, sizeof *f->group_of);
    }
    for (size_t g = 0; groups != NULL && g < json_array_size(groups); g++) {
        json_t *grp = json_array_get(groups, g);
        for (size_t k = 0; k < json_array_size(grp); k++) {
            json_t *v = json_array_get(grp, k);
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > (json_int_t)UINT32_MAX)
                return fail(r, "\"groups\" must be an array of arrays of node ids");
            f->groups[f->n_groups_nodes] = (uint32_t)json_integer_value(v);
            f->group_of[f->n_groups_nodes++] = (uint32_t)g;
            tl_ids_add(&m->node_ids, (uint64_t)json_integer_value(v));
        }
        f->n_groups = (uint32_t)(g + 1);
    }
    m->stats.faults++;
    if (f->kind == TL_F_CRASH || f->kind == TL_F_RESTART) {
        if (node == 0)
            return 0;
        push_nev(r, f->kind == TL_F_CRASH ? TL_NEV_CRASH : TL_NEV_RESTART, node, t_ns);
    }
    return 0;
}

/* --- membership: configurations and leadership transfers ------------------------------------- */

static enum tl_change change_parse(const char *s)
{
    if (s == NULL || strcmp(s, "none") == 0)
        return TL_CH_NONE;
    for (int c = TL_CH_ADDED; c < TL_CH_OTHER; c++)
        if (strcmp(s, tl_change_name((enum tl_change)c)) == 0)
            return (enum tl_change)c;
    return TL_CH_OTHER;
}

static struct tl_mev *push_mev(struct reader *r, enum tl_mev_kind kind, uint32_t node, int64_t t_ns)
{
    struct tl_mev *v = TL_PUSH(r->m->mevs);
    v->kind = kind;
    v->node = node;
    v->t_ns = t_ns;
    v->line = r->line;
    tl_ids_add(&r->m->node_ids, node);
    return v;
}

/* A "config" line: node's configuration in effect ("config", with "member" and "change") or
 * committed ("config_committed"), or the host retiring a removed node ("retired", any actor).
 * node is 0 when the actor is no node. Other config lines (a learner's catch-up rounds) draw
 * nothing. */
static int on_config(struct reader *r, json_t *o, uint32_t node, int64_t t_ns)
{
    bool has_config, has_committed;
    uint64_t config = 0, committed = 0;
    uint32_t member = 0, retired = 0;
    const char *change;
    if (get_u64(r, o, "config", &has_config, &config) != 0 ||
        get_u64(r, o, "config_committed", &has_committed, &committed) != 0 ||
        get_node(r, o, "member", &member) != 0 || get_str(r, o, "change", &change) != 0 ||
        get_node(r, o, "retired", &retired) != 0)
        return -1;
    if (has_config && node != 0) {
        struct tl_mev *v = push_mev(r, TL_MEV_CONFIG, node, t_ns);
        v->index = config;
        v->peer = member;
        v->change = change_parse(change);
        if (v->change == TL_CH_OTHER)
            v->text = xstrdup(change);
        if (member != 0) {
            tl_ids_add(&r->m->node_ids, member);
            if (v->change == TL_CH_ADDED)
                push_nev(r, TL_NEV_JOIN, member, t_ns);
        }
        r->m->stats.configs++;
    } else if (has_committed && node != 0) {
        push_mev(r, TL_MEV_COMMITTED, node, t_ns)->index = committed;
        r->m->stats.config_commits++;
    } else if (retired != 0) {
        push_mev(r, TL_MEV_RETIRED, retired, t_ns);
        push_nev(r, TL_NEV_RETIRE, retired, t_ns);
    }
    return 0;
}

/* A "transfer" line of node. The leader's steps carry the target in "transfer" and differ only in
 * their words ("hands leadership to node 4", "... tells it to campaign now", "gives up ..."); the
 * target's own line ("node 1 hands leadership over: campaigns now") has no field. The TimeoutNow
 * sent ("-> node 4: TimeoutNow") is the message itself: not drawn here. */
static int on_transfer(struct reader *r, json_t *o, uint32_t node, const char *msg, int64_t t_ns)
{
    bool has_to;
    uint64_t to = 0;
    if (get_u64(r, o, "transfer", &has_to, &to) != 0)
        return -1;
    if (has_to && to > UINT32_MAX)
        return fail(r, "\"transfer\" is not a node id: %llu", (unsigned long long)to);
    const char *text = msg != NULL ? msg : "";
    enum tl_mev_kind kind;
    if (has_to)
        kind = strstr(text, "gives up") != NULL       ? TL_MEV_GAVE_UP
               : strstr(text, "campaign now") != NULL ? TL_MEV_TIMEOUT_NOW
                                                      : TL_MEV_TRANSFER;
    else if (strstr(text, "campaigns now") != NULL)
        kind = TL_MEV_CAMPAIGN;
    else
        return 0;
    struct tl_mev *v = push_mev(r, kind, node, t_ns);
    if (has_to)
        v->peer = (uint32_t)to;
    else if (strncmp(text, "node ", 5) == 0 && text[5] >= '0' && text[5] <= '9') {
        errno = 0; /* the leader that told it */
        unsigned long long from = strtoull(text + 5, NULL, 10);
        v->peer = errno == 0 && from <= UINT32_MAX ? (uint32_t)from : 0;
    }
    if (v->peer != 0)
        tl_ids_add(&r->m->node_ids, v->peer);
    v->text = xstrdup(text);
    r->m->stats.transfers++;
    return 0;
}

static int on_node_line(struct reader *r, json_t *o, const char *event, uint32_t node, int64_t t_ns)
{
    struct tl_model *m = r->m;
    bool has_index, has_term, has_client, has_seq;
    uint64_t index = 0, term = 0, client = 0, seq = 0;
    const char *role;
    if (get_u64(r, o, "index", &has_index, &index) != 0 ||
        get_u64(r, o, "term", &has_term, &term) != 0 || get_str(r, o, "role", &role) != 0)
        return -1;
    if (strcmp(event, "role") == 0) {
        struct tl_nev *e = push_nev(r, TL_NEV_ROLE, node, t_ns);
        e->role = tl_role_parse(role);
        e->has_term = has_term;
        e->term = term;
        m->stats.role_changes++;
    } else if (strcmp(event, "term") == 0 && has_term) {
        struct tl_nev *e = push_nev(r, TL_NEV_TERM, node, t_ns);
        e->has_term = true;
        e->term = term;
        m->stats.term_changes++;
        struct tl_tick *k = TL_PUSH(m->ticks);
        k->node = node;
        k->kind = TL_TICK_TERM;
        k->t_ns = t_ns;
        k->index = term;
        k->line = r->line;
        k->op = TL_NONE;
    } else if ((strcmp(event, "commit") == 0 || strcmp(event, "apply") == 0 ||
                strcmp(event, "snapshot") == 0) &&
               has_index) {
        if (get_u64(r, o, "client", &has_client, &client) != 0 ||
            get_u64(r, o, "seq", &has_seq, &seq) != 0)
            return -1;
        struct tl_tick *k = TL_PUSH(m->ticks);
        k->node = node;
        k->kind = event[0] == 'c'   ? TL_TICK_COMMIT
                  : event[0] == 'a' ? TL_TICK_APPLY
                                    : TL_TICK_SNAPSHOT;
        k->t_ns = t_ns;
        k->index = index;
        k->line = r->line;
        k->op = TL_NONE;
        k->client_cmd = k->kind == TL_TICK_APPLY && has_client && has_seq;
        k->client = client;
        k->seq = seq;
        if (k->kind == TL_TICK_COMMIT)
            m->stats.commits++;
        else if (k->kind == TL_TICK_APPLY)
            m->stats.applies++;
        else
            m->stats.snapshots++;
    } else if (strcmp(event, "state") == 0) {
        bool h1, h2, h3;
        struct tl_state *s = TL_PUSH(m->states);
        s->node = node;
        s->t_ns = t_ns;
        s->term = term;
        s->role = tl_role_parse(role);
        if (get_u64(r, o, "last_index", &h1, &s->last_index) != 0 ||
            get_u64(r, o, "commit", &h2, &s->commit) != 0 ||
            get_u64(r, o, "applied", &h3, &s->applied) != 0)
            return -1;
        m->stats.states++;
    }
    return 0;
}

static int on_line(struct reader *r, json_t *o)
{
    struct tl_model *m = r->m;
    bool has_t;
    int64_t t_ns = 0;
    const char *actor, *event, *msg;
    if (get_ms(r, o, "t_ms", &has_t, &t_ns) != 0 || get_str(r, o, "actor", &actor) != 0 ||
        get_str(r, o, "event", &event) != 0 || get_str(r, o, "msg", &msg) != 0)
        return -1;
    if (!has_t)
        return fail(r, "no \"t_ms\": every trace line has its time");
    /* The run's name: the first line's message, unless a later "start" line names it. */
    if (m->title == NULL || (!m->title_from_start && event != NULL && !strcmp(event, "start"))) {
        free(m->title);
        m->title = xstrdup(msg != NULL ? msg : "");
        m->title_from_start = event != NULL && strcmp(event, "start") == 0;
    }
    if (t_ns < m->t_min_ns)
        m->t_min_ns = t_ns;
    if (t_ns > m->t_max_ns)
        m->t_max_ns = t_ns;
    bool client = false;
    uint64_t id = 0;
    bool has_actor = actor_id(actor, &client, &id);
    if (has_actor)
        tl_ids_add(client ? &m->client_ids : &m->node_ids, id);
    if (event == NULL)
        return 0;
    if (strcmp(event, "msg") == 0)
        return on_msg(r, o, actor, t_ns);
    if (strcmp(event, "fault") == 0)
        return on_fault(r, o, t_ns);
    if (strcmp(event, "history") == 0) {
        bool has;
        int64_t t0 = 0;
        if (get_ms(r, o, "t0_ms", &has, &t0) != 0)
            return -1;
        if (has)
            m->history_t0_ns = t0;
        return 0;
    }
    uint32_t node = has_actor && !client ? (uint32_t)id : 0;
    if (strcmp(event, "config") == 0)
        return on_config(r, o, node, t_ns);
    if (strcmp(event, "transfer") == 0 && node != 0)
        return on_transfer(r, o, node, msg, t_ns);
    if (node != 0)
        return on_node_line(r, o, event, node, t_ns);
    return 0;
}

/* An AppendEntries received: who from, who by, when, and whether it was a heartbeat. */
struct ae_recv {
    uint32_t by, from;
    int64_t t_ns;
    bool heartbeat;
    size_t order; /* file order, so that the sort is total */
};

static int ae_recv_cmp(const void *a, const void *b)
{
    const struct ae_recv *x = a, *y = b;
    if (x->by != y->by)
        return x->by < y->by ? -1 : 1;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->t_ns != y->t_ns)
        return x->t_ns < y->t_ns ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* A trace whose AppendEntries replies never say "heartbeat" (the producer marks only the
 * requests): a reply answers the last AppendEntries its sender received from its receiver at or
 * before the time it was sent, so it is a heartbeat's reply when that one was a heartbeat.
 * Nothing changes when any reply says "heartbeat" itself. */
static void infer_heartbeat_replies(struct tl_model *m)
{
    for (size_t i = 0; i < m->msgs.n; i++)
        if (m->msgs.v[i].reply && m->msgs.v[i].heartbeat)
            return;
    struct ae_recv *r = xcalloc(m->ends.n + 1, sizeof *r);
    size_t n = 0;
    for (size_t i = 0; i < m->ends.n; i++) {
        const struct tl_end *e = &m->ends.v[i];
        const struct tl_msg *g = &m->msgs.v[e->msg];
        if (e->kind == TL_END_RECV && !g->reply && strcmp(g->type, "AppendEntries") == 0)
            r[n++] = (struct ae_recv){e->to, g->from, e->t_ns, g->heartbeat, i};
    }
    qsort(r, n, sizeof *r, ae_recv_cmp);
    for (size_t i = 0; i < m->msgs.n; i++) {
        struct tl_msg *g = &m->msgs.v[i];
        if (!g->reply || !g->has_send || strcmp(g->type, "AppendEntriesReply") != 0)
            continue;
        struct ae_recv want = {g->from, g->to, g->send_ns, false, SIZE_MAX};
        size_t lo = 0, hi = n; /* the first recv after `want` */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ae_recv_cmp(&r[mid], &want) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0 && r[lo - 1].by == g->from && r[lo - 1].from == g->to && r[lo - 1].heartbeat) {
            g->heartbeat = true;
            g->cls = TL_C_HEARTBEAT;
        }
    }
    free(r);
}

int tl_read_trace(struct tl_model *m, const char *path, char *err, size_t err_len)
{
    struct reader r = {.m = m, .path = path, .err = err, .err_len = err_len};
    FILE *in = fopen(path, "r");
    if (in == NULL) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&buf, &cap, in)) >= 0) {
        if (r.line == UINT32_MAX) {
            rc = fail(&r, "too many lines");
            break;
        }
        r.line++;
        size_t n = (size_t)len;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
                         buf[n - 1] == '\t'))
            n--;
        size_t skip = 0;
        while (skip < n && (buf[skip] == ' ' || buf[skip] == '\t'))
            skip++;
        if (skip == n)
            continue;
        json_error_t jerr;
        json_t *o = json_loadb(buf + skip, n - skip, JSON_REJECT_DUPLICATES, &jerr);
        if (o == NULL) {
            rc = fail(&r, "not a JSON object: %s", jerr.text);
            break;
        }
        if (!json_is_object(o))
            rc = fail(&r, "not a JSON object");
        else
            rc = on_line(&r, o);
        json_decref(o);
        m->n_lines++;
    }
    if (rc == 0 && ferror(in)) {
        snprintf(err, err_len, "%s: read error", path);
        rc = -1;
    }
    free(buf);
    fclose(in);
    m->stats.lines = m->n_lines;
    for (size_t i = 0; i < m->msgs.n; i++) { /* fields merged over all lines of an id */
        struct tl_msg *g = &m->msgs.v[i];
        g->cls = class_of(g->type, g->pre_vote, g->heartbeat, &g->reply);
        if (g->type == NULL)
            g->type = xstrdup("?");
    }
    if (rc == 0)
        infer_heartbeat_replies(m);
    return rc;
}
