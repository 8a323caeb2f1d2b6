/* linearize.c - the linearizability checker: per key, Wing & Gong's search with Lowe's just-in-time
 * linearization over memoised (linearized set, state) pairs, bounded by a step and memory budget.
 */
#include "check/linearize.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "check/memo.h"
#include "check/model.h"
#include "common/alloc.h"
#include "common/hash.h"

#define DEFAULT_REPORT_OPS 64

/* --- one key's sub-history -------------------------------------------------------------------- */

/* Entries of the time line: a call per op, a return per ok op (info ops have none: return time
 * +infinity, so they never force a backtrack). The unlinearized ok ops' entries form a circular
 * doubly linked list through `next`/`prev` with entry 0 as its head, so linearizing an op unlinks
 * its call and return in O(1) (Lowe 2017, section 3; porcupine's lift/unlift) and backtracking
 * relinks them in reverse order. Info ops are reached through their classes (see classify). */
struct entry {
    uint64_t time;
    uint32_t op;    /* index into sub.ops */
    uint32_t match; /* call: its return entry, 0 if none (info); return: its call */
    uint8_t is_return;
};

struct sub {
    size_t n; /* ops searched */
    size_t n_ok;
    struct check_model_op *ops; /* ok ops first (indices < n_ok), then info ops */
    uint32_t *global;           /* sub index -> index into check_history.ops */
    struct entry *e;            /* e[0] is the list head; calls and returns from 1 */
    uint32_t *next;
    uint32_t *prev;
    size_t n_entries; /* including the head */
    /* interned values: id -> first op that names it (for printing) */
    uint32_t *value_op;
    size_t n_values;
    int32_t unread; /* the one id of every value no ok get returns */
    /* info ops in classes of interchangeable ones; the class members are linearized in order */
    uint32_t *info_class;  /* info op - n_ok -> class */
    uint32_t *class_ops;   /* members of each class, class after class, in invoke order */
    uint32_t *class_start; /* class c: class_ops[class_start[c] .. class_start[c + 1]) */
    uint32_t *class_next;  /* class c: members linearized so far (a prefix of the class) */
    size_t n_classes;
    uint32_t *info_classes; /* the classes with members: deletes, unread puts, then the rest */
    size_t n_info_classes;
    uint32_t *call_of; /* op -> its call entry */
};

/* Values of one key -> small ids, by open addressing over (bytes, length). */
struct value_tab {
    uint32_t *slot; /* op index + 1 of an op carrying the value, 0 = empty */
    int32_t *id;
    size_t cap;
};

static uint64_t hash_value(const char *s, size_t len)
{
    return check_mix64(hash_fnv1a(HASH_FNV1A_START, s, len));
}

static int32_t intern_value(struct sub *s, struct value_tab *t, const struct check_history *h,
                            uint32_t gop)
{
    const struct check_op *op = &h->ops[gop];
    size_t j = hash_value(op->value, op->value_len) & (t->cap - 1);
    while (t->slot[j] != 0) {
        const struct check_op *o = &h->ops[t->slot[j] - 1];
        if (o->value_len == op->value_len && memcmp(o->value, op->value, op->value_len) == 0)
            return t->id[j];
        j = (j + 1) & (t->cap - 1);
    }
    assert(s->n_values < INT32_MAX);
    t->slot[j] = gop + 1;
    t->id[j] = (int32_t)s->n_values;
    s->value_op[s->n_values] = gop;
    return (int32_t)s->n_values++;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    /* Equal times: calls first, so the two ops count as concurrent (the lenient reading). */
    if (x->is_return != y->is_return)
        return x->is_return ? 1 : -1;
    return x->op < y->op ? -1 : x->op > y->op;
}

static bool searched(const struct check_op *op)
{
    /* fail: not applied; an info get changes nothing and has no result to explain; a stale get
     * may return any older value, which no order need explain */
    return op->type != CHECK_FAIL && !(op->type == CHECK_INFO && op->f == CHECK_F_GET) &&
           !op->stale;
}

/* Two reductions that lose no behaviour of the model (it compares values only in gets):
 * - every value that no ok get returns becomes one value, `unread`: states that differ only in
 *   such values behave alike;
 * - info ops fall into classes of interchangeable ones: all deletes; all puts of unread values;
 *   the puts of each read value. Two pending members of a class have the same effect and no
 *   return time, so trying one is trying all (symmetry); the search linearizes a class's members
 *   in invoke order only. */
struct member {
    uint32_t class;
    uint32_t op;
    uint64_t invoke_ns;
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    if (x->class != y->class)
        return x->class < y->class ? -1 : 1;
    if (x->invoke_ns != y->invoke_ns)
        return x->invoke_ns < y->invoke_ns ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op;
}

static void classify(struct sub *s, const struct check_history *h)
{
    size_t n_info = s->n - s->n_ok;
    bool *read = xcalloc(s->n_values + 1, sizeof *read);
    for (size_t i = 0; i < s->n_ok; i++)
        if (s->ops[i].f == CHECK_F_GET && s->ops[i].value >= 0)
            read[s->ops[i].value] = true;
    assert(s->n_values < INT32_MAX);
    s->unread = (int32_t)s->n_values;
    for (size_t i = 0; i < s->n; i++)
        if (s->ops[i].f == CHECK_F_PUT && !read[s->ops[i].value])
            s->ops[i].value = s->unread;
    free(read);
    /* class 0: deletes; 1 + v: puts of value v (v = unread included) */
    s->n_classes = 2 + s->n_values;
    s->info_class = xcalloc(n_info ? n_info : 1, sizeof *s->info_class);
    s->class_start = xcalloc(s->n_classes + 1, sizeof *s->class_start);
    s->class_next = xcalloc(s->n_classes, sizeof *s->class_next);
    s->class_ops = xcalloc(n_info ? n_info : 1, sizeof *s->class_ops);
    for (size_t i = 0; i < n_info; i++) {
        const struct check_model_op *op = &s->ops[s->n_ok + i];
        assert(op->f != CHECK_F_GET);
        s->info_class[i] = op->f == CHECK_F_DELETE ? 0 : 1 + (uint32_t)op->value;
        s->class_start[s->info_class[i] + 1]++;
    }
    for (size_t c = 0; c < s->n_classes; c++)
        s->class_start[c + 1] += s->class_start[c];
    /* members by invoke time: a pending member in the window implies the class's next one is */
    struct member *mb = xcalloc(n_info ? n_info : 1, sizeof *mb);
    for (size_t i = 0; i < n_info; i++)
        mb[i] = (struct member){.class = s->info_class[i],
                                .op = (uint32_t)(s->n_ok + i),
                                .invoke_ns = h->ops[s->global[s->n_ok + i]].invoke_ns};
    qsort(mb, n_info, sizeof *mb, member_cmp);
    for (size_t i = 0; i < n_info; i++)
        s->class_ops[i] = mb[i].op;
    free(mb);
    s->info_classes = xcalloc(s->n_classes, sizeof *s->info_classes);
    uint32_t unread_class = 1 + (uint32_t)s->unread;
    if (s->class_start[1] > 0)
        s->info_classes[s->n_info_classes++] = 0;
    if (s->class_start[unread_class + 1] > s->class_start[unread_class])
        s->info_classes[s->n_info_classes++] = unread_class;
    for (uint32_t c = 1; c < s->n_classes; c++)
        if (c != unread_class && s->class_start[c + 1] > s->class_start[c])
            s->info_classes[s->n_info_classes++] = c;
}

/* The next member of class c to linearize, or UINT32_MAX when all are. */
static uint32_t class_head(const struct sub *s, uint32_t c)
{
    uint32_t k = s->class_start[c] + s->class_next[c];
    return k < s->class_start[c + 1] ? s->class_ops[k] : UINT32_MAX;
}

/* Builds the sub-history of the ops gops[0..n) (all of one key, in invoke order). */
static void sub_build(struct sub *s, const struct check_history *h, const uint32_t *gops, size_t n)
{
    memset(s, 0, sizeof *s);
    size_t m = 0, n_ok = 0;
    for (size_t i = 0; i < n; i++) {
        const struct check_op *op = &h->ops[gops[i]];
        if (searched(op)) {
            m++;
            n_ok += op->type == CHECK_OK;
        }
    }
    s->n = m;
    s->n_ok = n_ok;
    s->ops = xcalloc(m ? m : 1, sizeof *s->ops);
    s->global = xcalloc(m ? m : 1, sizeof *s->global);
    s->value_op = xcalloc(m ? m : 1, sizeof *s->value_op);
    struct value_tab vt = {.cap = 16};
    while (vt.cap < 2 * m)
        vt.cap *= 2;
    vt.slot = xcalloc(vt.cap, sizeof *vt.slot);
    vt.id = xcalloc(vt.cap, sizeof *vt.id);

    size_t k_ok = 0, k_info = n_ok;
    for (size_t i = 0; i < n; i++) {
        const struct check_op *op = &h->ops[gops[i]];
        if (!searched(op))
            continue;
        size_t k = op->type == CHECK_OK ? k_ok++ : k_info++;
        s->global[k] = gops[i];
        struct check_model_op *mo = &s->ops[k];
        mo->f = (uint8_t)op->f;
        mo->result = (uint8_t)(op->type == CHECK_OK ? op->result : CHECK_RES_NONE);
        mo->value = -1;
        if (op->f == CHECK_F_PUT || (op->f == CHECK_F_GET && op->result == CHECK_RES_FOUND))
            mo->value = intern_value(s, &vt, h, gops[i]);
    }
    assert(k_ok == n_ok && k_info == m);
    free(vt.slot);
    free(vt.id);

    s->n_entries = 1 + m + n_ok;
    s->e = xcalloc(s->n_entries, sizeof *s->e);
    size_t k = 1;
    for (size_t i = 0; i < m; i++) {
        const struct check_op *op = &h->ops[s->global[i]];
        s->e[k++] = (struct entry){.time = op->invoke_ns, .op = (uint32_t)i};
        if (i < n_ok)
            s->e[k++] = (struct entry){.time = op->complete_ns, .op = (uint32_t)i, .is_return = 1};
    }
    assert(k == s->n_entries);
    qsort(s->e + 1, s->n_entries - 1, sizeof *s->e, entry_cmp);
    uint32_t *call_of = xcalloc(m ? m : 1, sizeof *call_of);
    s->call_of = call_of;
    for (size_t i = 1; i < s->n_entries; i++)
        if (!s->e[i].is_return)
            call_of[s->e[i].op] = (uint32_t)i;
    for (size_t i = 1; i < s->n_entries; i++) {
        if (s->e[i].is_return) {
            uint32_t c = call_of[s->e[i].op];
            s->e[i].match = c;
            s->e[c].match = (uint32_t)i;
        }
    }
    /* the list holds the ok ops' calls and returns; info calls are reached through classes */
    s->next = xcalloc(s->n_entries, sizeof *s->next);
    s->prev = xcalloc(s->n_entries, sizeof *s->prev);
    uint32_t last = 0;
    for (size_t i = 1; i < s->n_entries; i++) {
        if (s->e[i].op >= n_ok)
            continue;
        s->next[last] = (uint32_t)i;
        s->prev[i] = last;
        last = (uint32_t)i;
    }
    s->next[last] = 0;
    s->prev[0] = last;
    classify(s, h);
}

static void sub_free(struct sub *s)
{
    free(s->call_of);
    free(s->info_classes);
    free(s->info_class);
    free(s->class_ops);
    free(s->class_start);
    free(s->class_next);
    free(s->ops);
    free(s->global);
    free(s->e);
    free(s->next);
    free(s->prev);
    free(s->value_op);
    memset(s, 0, sizeof *s);
}

static void unlink_entry(struct sub *s, uint32_t x)
{
    s->next[s->prev[x]] = s->next[x];
    s->prev[s->next[x]] = s->prev[x];
}

static void relink_entry(struct sub *s, uint32_t x)
{
    s->next[s->prev[x]] = x;
    s->prev[s->next[x]] = x;
}

/* Takes a call (and its return, if any) out of the list, or an info op out of its class;
 * lift/unlift must nest like a stack. */
static void lift(struct sub *s, uint32_t call)
{
    if (s->e[call].op >= s->n_ok) {
        s->class_next[s->info_class[s->e[call].op - s->n_ok]]++;
        return;
    }
    unlink_entry(s, call);
    if (s->e[call].match != 0)
        unlink_entry(s, s->e[call].match);
}

static void unlift(struct sub *s, uint32_t call)
{
    if (s->e[call].op >= s->n_ok) {
        s->class_next[s->info_class[s->e[call].op - s->n_ok]]--;
        return;
    }
    if (s->e[call].match != 0)
        relink_entry(s, s->e[call].match);
    relink_entry(s, call);
}

/* --- the search ------------------------------------------------------------------------------ */

enum key_verdict { KEY_OK, KEY_VIOLATION, KEY_BUDGET_STEPS, KEY_BUDGET_MEMORY };

/* The order in which the candidates of one configuration are tried. */
enum phase {
    PHASE_NEUTRAL = 0, /* an ok op the state accepts without changing: forced, never retried */
    PHASE_CHANGE = 1,  /* ok ops that change the state, in time order */
    PHASE_INFO = 2,    /* info ops that change the state, in time order: last resort */
};

struct frame {
    uint32_t call;  /* the call entry linearized */
    int32_t state;  /* the state before it */
    int32_t writer; /* the last state-changing op before it (sub index), -1 if none */
    uint8_t phase;  /* the phase it was chosen in; PHASE_NEUTRAL frames are never retried */
    uint32_t pos;   /* PHASE_INFO: the index in s->info_classes of its class */
};

struct key_outcome {
    enum key_verdict verdict;
    uint64_t steps;
    /* KEY_VIOLATION: the deepest point the search reached */
    size_t prefix_len;
    uint32_t stuck; /* sub index of the op whose return could not be passed */
    int32_t state;  /* state after the prefix */
    int32_t writer; /* sub index of the op that wrote it, -1 if none */
};

/* The first return entry in the list: the end of the current candidates. */
static uint32_t first_return(const struct sub *s)
{
    uint32_t e = s->next[0];
    while (!s->e[e].is_return) {
        e = s->next[e];
        assert(e != 0);
    }
    return e;
}

/* Lowe's just-in-time linearization (Testing for linearizability, 2017, Figure 3; porcupine's
 * checkSingle): the candidates of a configuration (linearized set L, state s) are the calls that
 * come before the first return of an unlinearized ok op in the time line; linearizing one whose
 * (L + op, next state) is not subsumed by a visited configuration moves there; when no candidate
 * is left the configuration fails: undo the last linearization and try the next candidate there.
 * Success when every ok op is linearized; a violation when the empty prefix fails.
 *
 * Refinements of our own keep the search near-linear on long histories (each is checked against
 * a brute-force search in test_check_linearize.c):
 * - A candidate ok op that leaves the state unchanged (a get, a put answered "exists", a delete
 *   answered "not_found": the result decides it) is linearized at once and never retried. Sound:
 *   it is invoked before every unlinearized op returns, so in any completion of (L, s) it can be
 *   moved to the front without breaking real-time order or the model: (L, s) completes iff
 *   (L + op, s) does. Without this a dead end is re-explored under every subset of the reads
 *   in the window.
 * - Info ops come last (PHASE_INFO), only when they change the state (one that does not is never
 *   needed), one class at a time (interchangeable ones, see classify), and the memo treats info
 *   ops as optional (see the memo).
 * Every loop iteration is one step of the budget; the memo's bytes are the memory budget. */
static void search_key(struct sub *s, uint64_t max_steps, size_t max_memory,
                       struct key_outcome *out)
{
    memset(out, 0, sizeof *out);
    size_t n_info = s->n - s->n_ok;
    struct check_bits b = {0};
    b.w_ok = (s->n_ok + 63) / 64;
    b.w_all = b.w_ok + (n_info + 63) / 64;
    b.w = xcalloc(b.w_all ? b.w_all : 1, sizeof *b.w);
    uint64_t *zob = xmalloc((s->n ? s->n : 1) * sizeof *zob);
    for (size_t i = 0; i < s->n; i++) /* info ops stay out of the hash: see the memo */
        zob[i] = i < s->n_ok ? check_mix64(0x5eed0000u + i) : 0;
    struct frame *stack = xmalloc((s->n ? s->n : 1) * sizeof *stack);
    size_t sp = 0;
    struct check_memo memo = {0};

    int32_t state = CHECK_STATE_ABSENT;
    int32_t writer = -1;
    size_t remaining_ok = s->n_ok;
    bool have_best = false;
    enum phase phase = PHASE_NEUTRAL;
    uint32_t entry = s->next[0]; /* PHASE_NEUTRAL, PHASE_CHANGE: the next entry to look at */
    uint32_t ret = 0;            /* PHASE_INFO: the first return; calls before it are candidates */
    uint32_t pos = 0;            /* PHASE_INFO: the next of s->info_classes to try */
    uint64_t steps = 0;
    out->verdict = KEY_OK;
    while (remaining_ok > 0) {
        if (steps++ >= max_steps) {
            out->verdict = KEY_BUDGET_STEPS;
            break;
        }
        bool fails = false; /* the configuration (L, state) has no completion */
        uint32_t call = 0;  /* a candidate to linearize */
        int32_t next = state;
        if (phase != PHASE_INFO) {
            /* a return of an unlinearized ok op is always ahead, so the walk never wraps */
            assert(entry != 0);
            const struct entry *e = &s->e[entry];
            if (e->is_return) {
                phase++;
                if (phase == PHASE_INFO) {
                    ret = entry;
                    pos = 0;
                } else {
                    entry = s->next[0];
                }
                continue;
            }
            if (check_model_step(&s->ops[e->op], state, &next) &&
                (next == state) == (phase == PHASE_NEUTRAL))
                call = entry;
            else
                entry = s->next[entry];
        } else if (pos < s->n_info_classes) {
            uint32_t op = class_head(s, s->info_classes[pos]);
            if (op != UINT32_MAX && s->call_of[op] < ret &&
                check_model_step(&s->ops[op], state, &next) && next != state)
                call = s->call_of[op];
            else
                pos++;
        } else {
            if (!have_best || sp > out->prefix_len) {
                have_best = true;
                out->prefix_len = sp;
                out->stuck = s->e[ret].op;
                out->state = state;
                out->writer = writer;
            }
            fails = true;
        }
        if (call != 0) {
            uint32_t op = s->e[call].op;
            check_bits_set(&b, check_bit_of(&b, s->n_ok, op), zob[op]);
            enum check_memo_outcome mo = check_memo_add(&memo, &b, next, max_memory);
            if (mo == CHECK_MEMO_NEW) {
                stack[sp++] = (struct frame){.call = call,
                                             .state = state,
                                             .writer = writer,
                                             .phase = (uint8_t)phase,
                                             .pos = pos};
                if (next != state)
                    writer = (int32_t)op;
                state = next;
                lift(s, call);
                if (op < s->n_ok)
                    remaining_ok--;
                phase = PHASE_NEUTRAL;
                entry = s->next[0];
                continue;
            }
            check_bits_clear(&b, check_bit_of(&b, s->n_ok, op), zob[op]);
            if (mo == CHECK_MEMO_FULL) {
                out->verdict = KEY_BUDGET_MEMORY;
                break;
            }
            /* (L + op, next) is subsumed by a configuration that failed (not one on the current
             * path: those have fewer ok ops or the same ones in another state); for a forced op
             * (L, state) fails too. Otherwise try the next candidate. */
            if (phase == PHASE_NEUTRAL)
                fails = true;
            else if (phase == PHASE_CHANGE)
                entry = s->next[call];
            else
                pos++;
        }
        if (!fails)
            continue;
        /* backtrack: undo linearizations until one that was a choice, then try the next */
        for (;;) {
            if (sp == 0) {
                out->verdict = KEY_VIOLATION;
                break;
            }
            struct frame f = stack[--sp];
            uint32_t op = s->e[f.call].op;
            state = f.state;
            writer = f.writer;
            check_bits_clear(&b, check_bit_of(&b, s->n_ok, op), zob[op]);
            unlift(s, f.call);
            if (op < s->n_ok)
                remaining_ok++;
            phase = (enum phase)f.phase;
            if (phase == PHASE_CHANGE) {
                entry = s->next[f.call];
                break;
            }
            if (phase == PHASE_INFO) {
                ret = first_return(s);
                pos = f.pos + 1;
                break;
            }
        }
        if (out->verdict == KEY_VIOLATION)
            break;
    }
    out->steps = steps;
    check_memo_free(&memo);
    free(stack);
    free(zob);
    free(b.w);
}

/* --- the report ------------------------------------------------------------------------------ */

static char *copy_bytes(const char *s, size_t len)
{
    char *c = xmalloc(len + 1);
    if (len > 0)
        memcpy(c, s, len);
    c[len] = '\0';
    return c;
}

static void report_op(struct check_report_op *r, const struct check_op *op, bool stuck)
{
    memset(r, 0, sizeof *r);
    r->process = op->process;
    r->f = op->f;
    r->type = op->type;
    r->result = op->result;
    if (op->value != NULL) {
        r->value = copy_bytes(op->value, op->value_len);
        r->value_len = op->value_len;
    }
    r->invoke_ns = op->invoke_ns;
    r->complete_ns = op->complete_ns;
    r->invoke_line = op->invoke_line;
    r->complete_line = op->complete_line;
    r->stuck = stuck;
}

struct pick {
    uint64_t distance;
    uint64_t invoke_ns;
    uint32_t sub;
    uint32_t line;
};

static int pick_by_distance(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    if (x->distance != y->distance)
        return x->distance < y->distance ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int pick_by_time(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    if (x->invoke_ns != y->invoke_ns)
        return x->invoke_ns < y->invoke_ns ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* The stuck op, the ops overlapping it in time, and the writer of the prefix's final state. */
static void build_report(struct check_result *r, const struct check_history *h, const struct sub *s,
                         const struct key_outcome *ko, size_t max_ops)
{
    const struct check_op *stuck = &h->ops[s->global[ko->stuck]];
    struct pick *picks = xcalloc(s->n ? s->n : 1, sizeof *picks);
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct check_op *op = &h->ops[s->global[i]];
        bool overlaps = op->invoke_ns <= stuck->complete_ns && op->complete_ns >= stuck->invoke_ns;
        bool forced = i == ko->stuck || (ko->writer >= 0 && i == (size_t)ko->writer);
        if (!overlaps && !forced) {
            /* an info op may take effect long after its info line: count, do not list */
            if (op->type == CHECK_INFO && op->invoke_ns <= stuck->complete_ns)
                r->n_pending_info++;
            continue;
        }
        uint64_t d = op->invoke_ns > stuck->invoke_ns ? op->invoke_ns - stuck->invoke_ns
                                                      : stuck->invoke_ns - op->invoke_ns;
        picks[n++] = (struct pick){.distance = forced ? 0 : d + 1,
                                   .invoke_ns = op->invoke_ns,
                                   .sub = (uint32_t)i,
                                   .line = op->invoke_line};
    }
    qsort(picks, n, sizeof *picks, pick_by_distance);
    size_t keep = n < max_ops ? n : max_ops;
    if (keep < 2 && n >= 2)
        keep = 2; /* the stuck op and the writer always */
    r->n_report_omitted = n - keep;
    qsort(picks, keep, sizeof *picks, pick_by_time);
    r->ops = xcalloc(keep ? keep : 1, sizeof *r->ops);
    r->n_report_ops = keep;
    for (size_t i = 0; i < keep; i++)
        report_op(&r->ops[i], &h->ops[s->global[picks[i].sub]], picks[i].sub == ko->stuck);
    free(picks);

    r->prefix_len = ko->prefix_len;
    r->state_present = ko->state != CHECK_STATE_ABSENT;
    r->state_unread = ko->state == s->unread;
    if (r->state_present && !r->state_unread) {
        const struct check_op *v = &h->ops[s->value_op[ko->state]];
        r->state_value = copy_bytes(v->value, v->value_len);
        r->state_value_len = v->value_len;
    }
}

static void set_key(struct check_result *r, const struct check_history *h, uint32_t key, size_t ops,
                    uint64_t steps)
{
    free(r->key);
    r->key = copy_bytes(h->keys[key].bytes, h->keys[key].len);
    r->key_len = h->keys[key].len;
    r->key_ops = ops;
    r->key_steps = steps;
}

static void clear_report(struct check_result *r)
{
    for (size_t i = 0; i < r->n_report_ops; i++)
        free(r->ops[i].value);
    free(r->ops);
    free(r->state_value);
    r->ops = NULL;
    r->n_report_ops = 0;
    r->n_report_omitted = 0;
    r->n_pending_info = 0;
    r->state_value = NULL;
    r->state_value_len = 0;
    r->state_present = false;
    r->state_unread = false;
    r->prefix_len = 0;
}

int check_linearizable(const struct check_history *h, const struct check_options *opt,
                       struct check_result *out)
{
    memset(out, 0, sizeof *out);
    uint64_t max_steps =
        opt && opt->max_steps_per_key ? opt->max_steps_per_key : CHECK_DEFAULT_MAX_STEPS_PER_KEY;
    size_t max_memory =
        opt && opt->max_memory_per_key ? opt->max_memory_per_key : CHECK_DEFAULT_MAX_MEMORY_PER_KEY;
    size_t max_report = opt && opt->max_report_ops ? opt->max_report_ops : DEFAULT_REPORT_OPS;
    out->n_ops = h->n_ops;
    out->n_keys = h->n_keys;
    for (size_t i = 0; i < h->n_ops; i++) {
        if (h->ops[i].type == CHECK_OK)
            out->n_ok++;
        else if (h->ops[i].type == CHECK_FAIL)
            out->n_fail++;
        else
            out->n_info++;
        if (h->ops[i].stale)
            out->n_stale++;
    }

    /* bucket the ops by key, keeping invoke order (a counting sort) */
    size_t *start = xcalloc(h->n_keys + 1, sizeof *start);
    for (size_t i = 0; i < h->n_ops; i++)
        start[h->ops[i].key + 1]++;
    for (size_t k = 0; k < h->n_keys; k++)
        start[k + 1] += start[k];
    uint32_t *by_key = xcalloc(h->n_ops ? h->n_ops : 1, sizeof *by_key);
    size_t *fill = xcalloc(h->n_keys ? h->n_keys : 1, sizeof *fill);
    for (size_t i = 0; i < h->n_ops; i++) {
        uint32_t k = h->ops[i].key;
        by_key[start[k] + fill[k]++] = (uint32_t)i;
    }
    free(fill);

    for (uint32_t k = 0; k < h->n_keys; k++) {
        struct sub s;
        sub_build(&s, h, by_key + start[k], start[k + 1] - start[k]);
        struct key_outcome ko;
        search_key(&s, max_steps, max_memory, &ko);
        out->steps += ko.steps;
        if (ko.verdict == KEY_VIOLATION) {
            out->n_failed_keys++;
            if (out->verdict != CHECK_NOT_LINEARIZABLE || s.n < out->key_ops) {
                out->verdict = CHECK_NOT_LINEARIZABLE;
                out->unknown_reason = NULL;
                clear_report(out);
                set_key(out, h, k, s.n, ko.steps);
                build_report(out, h, &s, &ko, max_report);
            }
        } else if (ko.verdict == KEY_BUDGET_STEPS || ko.verdict == KEY_BUDGET_MEMORY) {
            out->n_unknown_keys++;
            if (out->verdict == CHECK_LINEARIZABLE) {
                out->verdict = CHECK_UNKNOWN;
                out->unknown_reason = ko.verdict == KEY_BUDGET_STEPS ? "steps" : "memory";
                set_key(out, h, k, s.n, ko.steps);
            }
        }
        sub_free(&s);
    }
    free(start);
    free(by_key);
    return 0;
}

void check_result_free(struct check_result *r)
{
    clear_report(r);
    free(r->key);
    memset(r, 0, sizeof *r);
}
