/* history.c - a client history for the timeline: loaded and paired by check/ (the code behind
 * --check-history), checked for linearizability, and each operation linked to the apply lines of
 * the log entry that carried it (same client and seq). check/ keeps only what the checker needs,
 * so the extra fields (seq, node, index, error) are read again here, line by line, with jansson.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/history.h"
#include "check/linearize.h"
#include "common/alloc.h"
#include "timeline/model.h"

/* The extra fields of one history line. */
struct extra {
    bool has_seq, has_node, has_index;
    uint64_t seq, node, index;
    char *error;
};

static void take_u64(json_t *o, const char *name, bool *has, uint64_t *out)
{
    json_t *v = json_object_get(o, name);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *has = true;
        *out = (uint64_t)json_integer_value(v);
    }
}

/* Reads the extras of every line of path (1-based, [0] unused) into *out (n_out entries). The
 * file was just parsed by check/, so a line jansson cannot read only loses its extras. */
static int read_extras(const char *path, struct extra **out, size_t *n_out, char *err,
                       size_t err_len)
{
    FILE *in = fopen(path, "r");
    if (in == NULL) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct extra *x = NULL;
    size_t n = 1, cap = 0;
    tl_grow((void **)&x, &cap, 1, sizeof *x);
    memset(x, 0, sizeof *x);
    char *buf = NULL;
    size_t bcap = 0;
    ssize_t len;
    while ((len = getline(&buf, &bcap, in)) >= 0) {
        tl_grow((void **)&x, &cap, n + 1, sizeof *x);
        struct extra *e = &x[n++];
        memset(e, 0, sizeof *e);
        json_t *o = json_loadb(buf, (size_t)len, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            continue;
        }
        take_u64(o, "seq", &e->has_seq, &e->seq);
        take_u64(o, "node", &e->has_node, &e->node);
        take_u64(o, "index", &e->has_index, &e->index);
        json_t *er = json_object_get(o, "error");
        if (json_is_string(er))
            e->error = xstrdup(json_string_value(er));
        json_decref(o);
    }
    free(buf);
    fclose(in);
    *out = x;
    *n_out = n;
    return 0;
}

/* Fills the op's seq, node and index from its invoke line, then its completion line. */
static void apply_extras(struct tl_op *op, const struct extra *x, size_t n_x)
{
    uint32_t lines[2] = {op->invoke_line, op->complete_line};
    for (int i = 0; i < 2; i++) {
        if (lines[i] == 0 || lines[i] >= n_x)
            continue;
        const struct extra *e = &x[lines[i]];
        if (e->has_seq && !op->has_seq) {
            op->has_seq = true;
            op->seq = e->seq;
        }
        if (e->has_node) {
            op->has_node = true;
            op->node = e->node;
        }
        if (e->has_index) {
            op->has_index = true;
            op->index = e->index;
        }
        if (e->error != NULL && op->error == NULL)
            op->error = xstrdup(e->error);
    }
}

/* The op whose invoke is on line `line` (ops are in invoke order), TL_NONE if none. */
static uint32_t op_by_invoke_line(const struct tl_model *m, uint32_t line)
{
    size_t lo = 0, hi = m->ops.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ops.v[mid].invoke_line < line)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->ops.n && m->ops.v[lo].invoke_line == line ? (uint32_t)lo : TL_NONE;
}

struct seq_key {
    uint64_t process, seq;
    uint32_t op;
};

static int seq_key_cmp(const void *a, const void *b)
{
    const struct seq_key *x = a, *y = b;
    if (x->process != y->process)
        return x->process < y->process ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op;
}

/* Links every apply of a client command to its op, and each op to one apply: on the node that
 * answered it when the history names one, else the first. */
static void link_applies(struct tl_model *m)
{
    struct seq_key *keys = xcalloc(m->ops.n + 1, sizeof *keys);
    size_t n = 0;
    for (size_t i = 0; i < m->ops.n; i++)
        if (m->ops.v[i].has_seq)
            keys[n++] = (struct seq_key){m->ops.v[i].process, m->ops.v[i].seq, (uint32_t)i};
    qsort(keys, n, sizeof *keys, seq_key_cmp);
    for (size_t i = 0; i < m->ticks.n; i++) {
        struct tl_tick *k = &m->ticks.v[i];
        if (k->kind != TL_TICK_APPLY || !k->client_cmd)
            continue;
        struct seq_key want = {k->client, k->seq, 0};
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (seq_key_cmp(&keys[mid], &want) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo >= n || keys[lo].process != k->client || keys[lo].seq != k->seq)
            continue;
        k->op = keys[lo].op;
        struct tl_op *op = &m->ops.v[k->op];
        bool on_answerer = op->has_node && op->node == k->node;
        if (op->apply == TL_NONE ||
            (on_answerer && !(op->has_node && m->ticks.v[op->apply].node == op->node)))
            op->apply = (uint32_t)i;
        if (!op->has_index) {
            op->has_index = true;
            op->index = k->index;
        }
    }
    free(keys);
    for (size_t i = 0; i < m->ops.n; i++)
        if (m->ops.v[i].apply != TL_NONE)
            m->stats.ops_linked++;
}

int tl_read_history(struct tl_model *m, const char *path, char *err, size_t err_len)
{
    struct check_history h;
    if (check_history_load(path, &h, err, err_len) != 0) {
        check_history_free(&h);
        return -1;
    }
    struct extra *x = NULL;
    size_t n_x = 0;
    if (read_extras(path, &x, &n_x, err, err_len) != 0) {
        check_history_free(&h);
        return -1;
    }
    m->has_history = true;
    for (size_t i = 0; i < h.n_ops; i++) {
        const struct check_op *c = &h.ops[i];
        struct tl_op *op = TL_PUSH(m->ops);
        op->process = c->process;
        op->f = c->f;
        op->type = c->type;
        op->result = c->result;
        const struct check_key *key = &h.keys[c->key];
        op->key = xstrndup(key->bytes, key->len);
        op->value = c->value != NULL ? xstrndup(c->value, c->value_len) : NULL;
        op->t0_ns = m->history_t0_ns +
                    (int64_t)(c->invoke_ns > INT64_MAX / 2 ? INT64_MAX / 2 : c->invoke_ns);
        op->completed = c->complete_line != 0;
        op->t1_ns = op->completed ? m->history_t0_ns + (int64_t)(c->complete_ns > INT64_MAX / 2
                                                                     ? INT64_MAX / 2
                                                                     : c->complete_ns)
                                  : op->t0_ns;
        op->stale = c->stale;
        op->invoke_line = c->invoke_line;
        op->complete_line = c->complete_line;
        op->apply = TL_NONE;
        apply_extras(op, x, n_x);
        tl_ids_add(&m->client_ids, op->process);
        if (op->t0_ns < m->t_min_ns)
            m->t_min_ns = op->t0_ns;
        if (op->t1_ns > m->t_max_ns)
            m->t_max_ns = op->t1_ns;
        m->stats.ops++;
        if (op->type == CHECK_OK)
            m->stats.ops_ok++;
        else if (op->type == CHECK_FAIL)
            m->stats.ops_fail++;
        else
            m->stats.ops_info++;
    }
    for (size_t i = 0; i < n_x; i++)
        free(x[i].error);
    free(x);

    check_linearizable(&h, NULL, &m->check);
    m->has_check = true;
    check_history_free(&h);
    m->stats.verdict = (int)m->check.verdict;
    m->first_bad_op = TL_NONE;
    if (m->check.verdict == CHECK_NOT_LINEARIZABLE) {
        for (size_t i = 0; i < m->check.n_report_ops; i++) {
            uint32_t j = op_by_invoke_line(m, m->check.ops[i].invoke_line);
            if (j == TL_NONE)
                continue;
            m->ops.v[j].bad = true;
            m->ops.v[j].stuck = m->check.ops[i].stuck;
            if (m->first_bad_op == TL_NONE || j < m->first_bad_op)
                m->first_bad_op = j;
        }
    }
    for (size_t i = 0; i < m->ops.n; i++)
        if (m->ops.v[i].bad)
            m->stats.ops_bad++;
    link_applies(m);
    return 0;
}
