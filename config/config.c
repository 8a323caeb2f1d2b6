/* config.c - typed, validated configuration: a TOML tree checked against one schema table whose
 * rows (name, kind, field, default, range, doc) drive defaults, checks and suggestions.
 *
 * The schema types are in config_schema.h; printing (--print-config, --help-config, the summary)
 * is in config_print.c. Adding a setting = a field in config.h + a row here. A new value type is
 * a new kind: one case each in apply_value, set_defaults, close_table and config_print.c.
 */
#include "config/config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "config/config_schema.h"
#include "config/toml.h"

/* --- errors and places -------------------------------------------------------------------- */

/* Where a value came from: FILE:LINE:COL, or an override's origin alone (line 0). */
struct place {
    const char *origin;
    int line, col;
};

/* The place each field was last set, for checks that involve two settings. */
struct where {
    const void *field;
    struct place place;
};

/* The places of one fault's node ids, for the check against max_nodes once it is final. */
struct fault_where {
    struct place node; /* of node = N, if given */
    uint32_t max_node; /* the largest id in groups, 0 if none */
    struct place max_place;
    size_t max_i, max_j; /* groups[max_i][max_j] is max_node */
};

struct loader {
    const char *origin; /* the file name or the override's origin */
    bool positions;     /* whether line:col mean something (a file) */
    bool override;      /* applying a --set (which cannot set [[fault]] or [[node]]) */
    struct where *wheres;
    size_t num_wheres, cap_wheres;
    struct fault_where *fault_wheres; /* one per cfg->faults[i] */
    struct fault_where *cur_fault;    /* the fault being applied, or NULL */
};

__attribute__((format(printf, 4, 5))) static int fail(struct cfg_error *err, int code,
                                                      const struct place *p, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (p == NULL || p->origin == NULL)
        snprintf(err->msg, sizeof err->msg, "%s", what);
    else if (p->line > 0)
        snprintf(err->msg, sizeof err->msg, "%s:%d:%d: %s", p->origin, p->line, p->col, what);
    else
        snprintf(err->msg, sizeof err->msg, "%s: %s", p->origin, what);
    return code;
}

static struct place place_at(const struct loader *ld, int line, int col)
{
    struct place p = {ld->origin, ld->positions ? line : 0, ld->positions ? col : 0};
    return p;
}

static void remember(struct loader *ld, const void *field, struct place p)
{
    if (ld->num_wheres == ld->cap_wheres) {
        ld->cap_wheres = ld->cap_wheres ? 2 * ld->cap_wheres : 16;
        ld->wheres = xreallocarray(ld->wheres, ld->cap_wheres, sizeof *ld->wheres);
    }
    ld->wheres[ld->num_wheres].field = field;
    ld->wheres[ld->num_wheres].place = p;
    ld->num_wheres++;
}

/* Index + 1 of the last record of field, 0 if it kept its default. */
static size_t last_set(const struct loader *ld, const void *field)
{
    for (size_t i = ld->num_wheres; i > 0; i--)
        if (ld->wheres[i - 1].field == field)
            return i;
    return 0;
}

static const char *article(const char *noun)
{
    return strchr("aeiou", noun[0]) != NULL ? "an" : "a";
}

/* The len bytes of s as a quoted string for a message: '"' and '\\' escaped, control bytes as
 * \xNN (so a message stays one line), cut with "..." to fit out_len. */
static void quote(const char *s, size_t len, char *out, size_t out_len)
{
    size_t used = 0;
    assert(out_len >= 16);
    out[used++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (used + 9 > out_len) { /* room for one escape (4) and `..."` with its NUL (5) */
            memcpy(out + used, "...", 3);
            used += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[used++] = '\\';
            out[used++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            used += (size_t)snprintf(out + used, out_len - used, "\\x%02x", c);
        } else {
            out[used++] = (char)c;
        }
    }
    out[used++] = '"';
    out[used] = '\0';
}

static int type_error(struct cfg_error *err, const struct place *p, const char *path,
                      const char *want, const struct toml_value *v)
{
    const char *got = toml_type_name(v->type);
    return fail(err, CFG_ETYPE, p, "%s must be %s %s, not %s %s", path, article(want), want,
                article(got), got);
}

/* --- suggestions -------------------------------------------------------------------------- */

#define NAME_MAX_LEN 128

/* Levenshtein distance; SIZE_MAX if either string is longer than NAME_MAX_LEN. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t prev[NAME_MAX_LEN + 1], cur[NAME_MAX_LEN + 1];
    if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

static const char *leaf_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

struct suggestion {
    const char *path, *leaf; /* the unknown key */
    size_t best_score;
    char best[NAME_MAX_LEN + 1];
    /* The same among the keys of the unknown key's own table, which win when near enough:
     * check.linearizable is check.linearizability, not client.read_mix.linearizable. */
    size_t local_score;
    char local[NAME_MAX_LEN + 1];
};

/* True if path's table (all before its last '.') is prefix. */
static bool in_table(const char *path, const char *prefix)
{
    const char *dot = strrchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : 0;
    return strlen(prefix) == len && strncmp(path, prefix, len) == 0;
}

/* Scores every setting and table: the distance between whole paths, or between last segments
 * plus one (a known key written in the wrong table). Keeps the first best, overall and in the
 * unknown key's own table. */
static void suggest_in(const struct cfg_schema *sc, const char *prefix, struct suggestion *s)
{
    for (size_t i = 0; i < sc->len; i++) {
        const struct cfg_setting *row = &sc->rows[i];
        char path[NAME_MAX_LEN + 1];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", row->name);
        size_t whole = edit_distance(s->path, path);
        size_t leaf = edit_distance(s->leaf, row->name);
        if (leaf != SIZE_MAX)
            leaf++;
        size_t score = whole < leaf ? whole : leaf;
        if (score < s->best_score) {
            s->best_score = score;
            memcpy(s->best, path, sizeof path);
        }
        if (in_table(s->path, prefix) && score < s->local_score) {
            s->local_score = score;
            memcpy(s->local, path, sizeof path);
        }
        if (row->kind == KIND_TABLE || cfg_kind_is_array(row->kind))
            suggest_in(row->sub, path, s);
    }
}

/* An unknown key, with the nearest known one suggested. Inside an array of tables ("fault[2].x")
 * the index is left out for scoring and put back into the suggestion ("fault[2].node"). */
static int unknown(struct cfg_error *err, const struct place *p, const char *path, bool is_table)
{
    char plain[NAME_MAX_LEN + 1], index[32] = "";
    size_t array_len = 0; /* length of "fault" in "fault[2].x" */
    const char *open = strchr(path, '[');
    const char *close = open ? strchr(open, ']') : NULL;
    if (close != NULL && (size_t)(close + 1 - open) < sizeof index) {
        array_len = (size_t)(open - path);
        memcpy(index, open, (size_t)(close + 1 - open));
        index[close + 1 - open] = '\0';
        snprintf(plain, sizeof plain, "%.*s%s", (int)array_len, path, close + 1);
    } else {
        snprintf(plain, sizeof plain, "%s", path);
    }
    struct suggestion s = {plain, leaf_of(plain), SIZE_MAX, "", SIZE_MAX, ""};
    suggest_in(&cfg_root_schema, "", &s);
    size_t leaf_len = strlen(s.leaf);
    size_t threshold = leaf_len / 3 > 2 ? leaf_len / 3 : 2;
    if (s.local_score <= threshold) {
        s.best_score = s.local_score;
        memcpy(s.best, s.local, sizeof s.best);
    }
    const char *what = is_table ? "table" : "key";
    if (s.best_score <= threshold) {
        char best[NAME_MAX_LEN + 40];
        if (array_len > 0 && strncmp(s.best, plain, array_len) == 0 && s.best[array_len] == '.')
            snprintf(best, sizeof best, "%.*s%s%s", (int)array_len, s.best, index,
                     s.best + array_len);
        else
            snprintf(best, sizeof best, "%s", s.best);
        return fail(err, CFG_EUNKNOWN, p, "unknown %s '%s'; did you mean '%s'?", what, path, best);
    }
    return fail(err, CFG_EUNKNOWN, p, "unknown %s '%s' (raft_kv --help-config lists them all)",
                what, path);
}

/* A table, or an array of tables ([[name]]). */
static bool is_table_like(const struct toml_value *v)
{
    if (v->type == TOML_TABLE)
        return true;
    if (v->type != TOML_ARRAY || v->u.array->len == 0)
        return false;
    for (size_t i = 0; i < v->u.array->len; i++)
        if (v->u.array->items[i].type != TOML_TABLE)
            return false;
    return true;
}

/* --- applying a TOML tree ----------------------------------------------------------------- */

static void strings_close(struct cfg_strings *list)
{
    for (size_t i = 0; i < list->len; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->len = 0;
}

static int apply_strings(struct loader *ld, const struct cfg_setting *row, const char *path,
                         const struct toml_value *v, struct cfg_strings *out, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    struct cfg_strings list = {NULL, 0};
    int rc;
    if (v->type != TOML_ARRAY)
        return type_error(err, &p, path, "array", v);
    const struct toml_array *a = v->u.array;
    if (a->len < (size_t)row->min) {
        rc = fail(err, CFG_ERANGE, &p, "%s must not be empty", path);
        goto err;
    }
    if (a->len > (size_t)row->max) {
        rc = fail(err, CFG_ERANGE, &p, "%s has %zu items; at most %" PRId64 " are allowed", path,
                  a->len, row->max);
        goto err;
    }
    list.items = xcalloc(a->len, sizeof *list.items);
    for (size_t i = 0; i < a->len; i++) {
        const struct toml_value *item = &a->items[i];
        struct place ip = place_at(ld, item->line, item->col);
        char item_path[NAME_MAX_LEN + 32];
        snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
        if (item->type != TOML_STRING) {
            rc = type_error(err, &ip, item_path, "string", item);
            goto err;
        }
        const char *s = item->u.str.ptr;
        size_t len = item->u.str.len;
        if (len == 0) {
            rc = fail(err, CFG_ERANGE, &ip, "%s must not be an empty string", item_path);
            goto err;
        }
        if (len > CFG_KEY_LEN_MAX) {
            rc = fail(err, CFG_ERANGE, &ip, "%s is %zu bytes long; at most %d are allowed",
                      item_path, len, CFG_KEY_LEN_MAX);
            goto err;
        }
        if (strlen(s) != len) {
            rc = fail(err, CFG_ERANGE, &ip, "%s must not contain a NUL character", item_path);
            goto err;
        }
        for (size_t j = 0; j < list.len; j++) {
            if (strcmp(list.items[j], s) == 0) {
                rc = fail(err, CFG_ERANGE, &ip, "%s = \"%s\" repeats %s[%zu]", item_path, s, path,
                          j);
                goto err;
            }
        }
        list.items[list.len++] = xstrndup(s, len);
    }
    strings_close(out);
    *out = list;
    remember(ld, out, p);
    return 0;
err:
    strings_close(&list);
    return rc;
}

/* An integer in min..max at v, named path; the common check of KIND_UINT32 and the items of
 * KIND_RANGE and KIND_GROUPS. */
static int check_integer(const struct loader *ld, const char *path, const struct toml_value *v,
                         int64_t min, int64_t max, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    if (v->type != TOML_INTEGER)
        return type_error(err, &p, path, "integer", v);
    if (v->u.integer < min || v->u.integer > max)
        return fail(err, CFG_ERANGE, &p,
                    "%s = %" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", path,
                    v->u.integer, min, max);
    return 0;
}

/* A probability: a float or an integer in 0..1; nan and the infinities are out of range. */
static int apply_prob(struct loader *ld, const char *path, const struct toml_value *v, double *out,
                      struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    double x;
    if (v->type == TOML_INTEGER) {
        if (v->u.integer < 0 || v->u.integer > 1)
            return fail(err, CFG_ERANGE, &p, "%s = %" PRId64 " is out of range (0..1)", path,
                        v->u.integer);
        x = (double)v->u.integer;
    } else if (v->type == TOML_FLOAT) {
        x = v->u.flt;
        if (isnan(x))
            return fail(err, CFG_ERANGE, &p, "%s = nan is out of range (0..1)", path);
        if (!(x >= 0.0 && x <= 1.0))
            return fail(err, CFG_ERANGE, &p, "%s = %g is out of range (0..1)", path, x);
        x += 0.0; /* -0.0 becomes 0.0 */
    } else {
        return type_error(err, &p, path, "number", v);
    }
    *out = x;
    remember(ld, out, p);
    return 0;
}

/* [lo, hi]: exactly two integers in min..max with lo <= hi. */
static int apply_range(struct loader *ld, const struct cfg_setting *row, const char *path,
                       const struct toml_value *v, void *base, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    if (v->type != TOML_ARRAY)
        return type_error(err, &p, path, "array", v);
    const struct toml_array *a = v->u.array;
    if (a->len != 2)
        return fail(err, CFG_ERANGE, &p, "%s must be [min, max], two integers, not %zu items", path,
                    a->len);
    for (size_t i = 0; i < 2; i++) {
        char item_path[NAME_MAX_LEN + 32];
        snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
        int rc = check_integer(ld, item_path, &a->items[i], row->min, row->max, err);
        if (rc != 0)
            return rc;
    }
    int64_t lo = a->items[0].u.integer, hi = a->items[1].u.integer;
    if (lo > hi)
        return fail(err, CFG_ERANGE, &p,
                    "%s = [%" PRId64 ", %" PRId64 "]: min must not be above max", path, lo, hi);
    uint32_t *lo_field = (uint32_t *)((char *)base + row->offset);
    *lo_field = (uint32_t)lo;
    *(uint32_t *)((char *)base + row->offset_b) = (uint32_t)hi;
    remember(ld, lo_field, p);
    return 0;
}

/* A set of words as a bitmask: a non-empty array of distinct words whose bits are in row->max. */
static int apply_kinds(struct loader *ld, const struct cfg_setting *row, const char *path,
                       const struct toml_value *v, uint32_t *out, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    uint32_t mask = 0;
    size_t first[32] = {0}; /* the item that named each word */
    if (v->type != TOML_ARRAY)
        return type_error(err, &p, path, "array", v);
    const struct toml_array *a = v->u.array;
    if (a->len == 0)
        return fail(err, CFG_ERANGE, &p, "%s must not be empty", path);
    for (size_t i = 0; i < a->len; i++) {
        const struct toml_value *item = &a->items[i];
        struct place ip = place_at(ld, item->line, item->col);
        char item_path[NAME_MAX_LEN + 32];
        snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
        if (item->type != TOML_STRING)
            return type_error(err, &ip, item_path, "string", item);
        int word = -1;
        for (int w = 0; w < 32 && row->words[w] != NULL; w++)
            if (strlen(row->words[w]) == item->u.str.len &&
                strcmp(row->words[w], item->u.str.ptr) == 0)
                word = w;
        if (word < 0 || ((uint32_t)row->max & (1u << word)) == 0) {
            char list[256];
            cfg_join_words(row->words, (uint32_t)row->max, list, sizeof list);
            return fail(err, CFG_ERANGE, &ip, "%s = \"%.64s\" is not one of %s%s", item_path,
                        item->u.str.ptr, list,
                        word >= 0 ? " (the nemesis restarts and heals by itself)" : "");
        }
        if (mask & (1u << word))
            return fail(err, CFG_ERANGE, &ip, "%s = \"%s\" repeats %s[%zu]", item_path,
                        row->words[word], path, first[word]);
        mask |= 1u << word;
        first[word] = i;
    }
    *out = mask;
    remember(ld, out, p);
    return 0;
}

/* A partition: groups = [[ids], ...], at least one group, none empty, each id 1..CFG_NODES_MAX
 * and listed at most once overall (the check against max_nodes waits for check_faults). Group
 * g (0-based in the array) becomes number g + 1 in group[]. */
static int apply_groups(struct loader *ld, const struct cfg_setting *row, const char *path,
                        const struct toml_value *v, void *base, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    uint8_t group[CFG_NODES_MAX] = {0};
    uint16_t first_i[CFG_NODES_MAX], first_j[CFG_NODES_MAX]; /* where each id was listed */
    struct fault_where *fw = ld->cur_fault;
    if (v->type != TOML_ARRAY)
        return type_error(err, &p, path, "array", v);
    const struct toml_array *a = v->u.array;
    if (a->len == 0)
        return fail(err, CFG_ERANGE, &p, "%s must not be empty", path);
    for (size_t i = 0; i < a->len; i++) {
        const struct toml_value *g = &a->items[i];
        struct place gp = place_at(ld, g->line, g->col);
        char g_path[NAME_MAX_LEN + 32];
        snprintf(g_path, sizeof g_path, "%s[%zu]", path, i);
        if (g->type != TOML_ARRAY)
            return type_error(err, &gp, g_path, "array", g);
        if (g->u.array->len == 0)
            return fail(err, CFG_ERANGE, &gp, "%s must not be empty", g_path);
        /* Every group so far is non-empty and every id distinct: i < CFG_NODES_MAX. */
        for (size_t j = 0; j < g->u.array->len; j++) {
            const struct toml_value *item = &g->u.array->items[j];
            char item_path[NAME_MAX_LEN + 64];
            snprintf(item_path, sizeof item_path, "%s[%zu][%zu]", path, i, j);
            int rc = check_integer(ld, item_path, item, 1, CFG_NODES_MAX, err);
            if (rc != 0)
                return rc;
            size_t id = (size_t)item->u.integer;
            if (group[id - 1] != 0) {
                struct place ip = place_at(ld, item->line, item->col);
                return fail(err, CFG_ERANGE, &ip, "%s = %zu repeats %s[%u][%u]", item_path, id,
                            path, first_i[id - 1], first_j[id - 1]);
            }
            group[id - 1] = (uint8_t)(i + 1);
            first_i[id - 1] = (uint16_t)i;
            first_j[id - 1] = (uint16_t)j;
            if (fw != NULL && id > fw->max_node) {
                fw->max_node = (uint32_t)id;
                fw->max_place = place_at(ld, item->line, item->col);
                fw->max_i = i;
                fw->max_j = j;
            }
        }
    }
    uint32_t *n_groups = (uint32_t *)((char *)base + row->offset);
    *n_groups = (uint32_t)a->len;
    memcpy((char *)base + row->offset_b, group, sizeof group);
    remember(ld, n_groups, p);
    return 0;
}

static int apply_table(struct loader *ld, const struct cfg_schema *sc, const char *prefix,
                       const struct toml_table *t, void *base, struct cfg_error *err);
static void close_table(const struct cfg_schema *sc, void *base);

/* The keys a kind cannot do without, besides at_ms and kind. */
static uint32_t fault_required_keys(enum cfg_fault_kind kind)
{
    return cfg_fault_keys_of(kind) & ~(1u << CFG_FAULT_ROW_SLOW_MS);
}

/* The row index of key in the fault schema, or -1. */
static int fault_row(const char *key)
{
    for (int i = 0; i < CFG_FAULT_ROWS; i++)
        if (strcmp(cfg_fault_rows[i].name, key) == 0)
            return i;
    return -1;
}

/* One [[fault]] element into *f (zeroed): its keys as the schema says, then the rules of its
 * kind: at_ms and kind required; node, groups, slow_ms only for the kinds that take them. */
static int apply_fault(struct loader *ld, const char *path, const struct toml_value *v,
                       struct cfg_fault *f, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    if (v->type != TOML_TABLE)
        return type_error(err, &p, path, "table", v);
    const struct toml_table *t = v->u.table;
    int rc = apply_table(ld, &cfg_fault_schema, path, t, f, err);
    if (rc != 0)
        return rc;
    uint32_t given = 0;
    for (size_t i = 0; i < t->len; i++)
        given |= 1u << fault_row(t->items[i].key); /* apply_table refused unknown keys */
    char words[256];
    if ((given & (1u << CFG_FAULT_ROW_KIND)) == 0) {
        cfg_join_words(cfg_fault_kind_words, UINT32_MAX, words, sizeof words);
        return fail(err, CFG_ERANGE, &p, "%s has no kind (one of %s)", path, words);
    }
    const char *kind = cfg_fault_kind_words[f->kind];
    if ((given & (1u << CFG_FAULT_ROW_AT_MS)) == 0)
        return fail(err, CFG_ERANGE, &p, "%s (%s) has no at_ms", path, kind);
    uint32_t allowed = cfg_fault_keys_of(f->kind);
    for (size_t i = 0; i < t->len; i++) {
        int r = fault_row(t->items[i].key);
        if (r == CFG_FAULT_ROW_AT_MS || r == CFG_FAULT_ROW_KIND || (allowed & (1u << r)))
            continue;
        struct place kp = place_at(ld, t->items[i].line, t->items[i].col);
        char takes[128] = "";
        for (int k = 0; k < CFG_FAULT_ROWS; k++)
            if (allowed & (1u << k))
                snprintf(takes + strlen(takes), sizeof takes - strlen(takes), ", %s",
                         cfg_fault_rows[k].name);
        return fail(err, CFG_ERANGE, &kp,
                    "%s.%s is not a key of %s %s fault (it takes at_ms, kind%s)", path,
                    t->items[i].key, article(kind), kind, takes);
    }
    uint32_t missing = fault_required_keys(f->kind) & ~given;
    for (int k = 0; k < CFG_FAULT_ROWS; k++)
        if (missing & (1u << k))
            return fail(err, CFG_ERANGE, &p, "%s (%s) has no %s", path, kind,
                        cfg_fault_rows[k].name);
    if (f->kind == CFG_FAULT_SLOW && (given & (1u << CFG_FAULT_ROW_SLOW_MS)) == 0)
        f->slow_ms = CFG_FAULT_SLOW_MS_DEFAULT;
    if (given & (1u << CFG_FAULT_ROW_NODE)) {
        const struct toml_value *node = toml_table_get(t, "node");
        ld->cur_fault->node = place_at(ld, node->line, node->col);
    }
    return 0;
}

/* The [[fault]] array: replaces cfg->faults. Entries must be in time order (non-decreasing
 * at_ms), so that file order is the order the cluster applies them in. */
static int apply_faults(struct loader *ld, const struct cfg_setting *row, const char *path,
                        const struct toml_value *v, void *base, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    struct cfg_fault **out = (struct cfg_fault **)((char *)base + row->offset);
    size_t *out_len = (size_t *)((char *)base + row->offset_b);
    if (ld->override)
        return fail(err, CFG_EUNKNOWN, &p,
                    "%s cannot be set with --set: write [[%s]] entries in the config file", path,
                    path);
    if (v->type != TOML_ARRAY)
        return type_error(err, &p, path, "array of tables", v);
    const struct toml_array *a = v->u.array;
    if (a->len > (size_t)row->max)
        return fail(err, CFG_ERANGE, &p, "%s has %zu entries; at most %" PRId64 " are allowed",
                    path, a->len, row->max);
    struct cfg_fault *faults = xcalloc(a->len, sizeof *faults);
    struct fault_where *wheres = xcalloc(a->len, sizeof *wheres);
    int rc = 0;
    for (size_t i = 0; i < a->len; i++) {
        char item_path[NAME_MAX_LEN + 32];
        snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
        ld->cur_fault = &wheres[i];
        rc = apply_fault(ld, item_path, &a->items[i], &faults[i], err);
        ld->cur_fault = NULL;
        if (rc != 0)
            goto err;
        if (i > 0 && faults[i].at_ms < faults[i - 1].at_ms) {
            const struct toml_value *at = toml_table_get(a->items[i].u.table, "at_ms");
            struct place ap = place_at(ld, at->line, at->col);
            rc = fail(err, CFG_ERANGE, &ap,
                      "%s.at_ms = %" PRIu32 " is before %s[%zu].at_ms = %" PRIu32
                      "; list [[%s]] entries in time order",
                      item_path, faults[i].at_ms, path, i - 1, faults[i - 1].at_ms, path);
            goto err;
        }
    }
    free(*out);
    free(ld->fault_wheres);
    *out = faults;
    *out_len = a->len;
    ld->fault_wheres = wheres;
    remember(ld, out, p);
    return 0;
err:
    free(faults);
    free(wheres);
    return rc;
}

/* "host:port" (cfg_split_address): the string and its split. */
static int apply_address(struct loader *ld, const struct cfg_setting *row, const char *path,
                         const struct toml_value *v, void *base, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    char host[CFG_HOST_LEN_MAX + 1];
    uint16_t port;
    if (v->type != TOML_STRING)
        return type_error(err, &p, path, "string", v);
    if (strlen(v->u.str.ptr) != v->u.str.len ||
        cfg_split_address(v->u.str.ptr, host, sizeof host, &port) != 0) {
        char shown[96];
        quote(v->u.str.ptr, v->u.str.len, shown, sizeof shown);
        return fail(err, CFG_ERANGE, &p,
                    "%s = %s is not host:port (a host name or IPv4 address, or an IPv6 address in "
                    "brackets as in \"[::1]:7001\"; a port 1..65535)",
                    path, shown);
    }
    char **field = (char **)((char *)base + row->offset);
    free(*field);
    *field = xstrndup(v->u.str.ptr, v->u.str.len);
    memcpy((char *)base + row->offset_b, host, sizeof host);
    *(uint16_t *)((char *)base + row->offset_c) = port;
    remember(ld, field, p);
    return 0;
}

/* One [[node]] element into *node (zeroed): its keys as the schema says, every one required. */
static int apply_node(struct loader *ld, const char *path, const struct toml_value *v,
                      struct cfg_node *node, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    if (v->type != TOML_TABLE)
        return type_error(err, &p, path, "table", v);
    const struct toml_table *t = v->u.table;
    int rc = apply_table(ld, &cfg_node_schema, path, t, node, err);
    if (rc != 0)
        return rc;
    for (int k = 0; k < CFG_NODE_ROWS_REQUIRED; k++) {
        if (toml_table_get(t, cfg_node_rows[k].name) != NULL)
            continue;
        char id[32] = ""; /* the id is the first row: given if another is missing */
        if (k != CFG_NODE_ROW_ID)
            snprintf(id, sizeof id, " (id = %" PRIu32 ")", node->id);
        return fail(err, CFG_ERANGE, &p,
                    "%s%s has no %s; each [[node]] needs id, raft, http and data_dir", path, id,
                    cfg_node_rows[k].name);
    }
    return 0;
}

/* The place of key's value in the node table t (which has it). */
static struct place node_key_place(const struct loader *ld, const struct toml_value *t,
                                   const char *key)
{
    const struct toml_value *v = toml_table_get(t->u.table, key);
    return place_at(ld, v->line, v->col);
}

/* Node i's address at row r (raft or http) against those before it: every raft and http address
 * of node j < i, and node i's raft for its http. Hosts compare without case, ports as numbers;
 * nothing is resolved ("localhost" and "127.0.0.1" differ). */
static int check_node_address(const struct loader *ld, const char *path, const struct toml_array *a,
                              const struct cfg_node *nodes, size_t i, int r, struct cfg_error *err)
{
    static const int rows[] = {CFG_NODE_ROW_RAFT, CFG_NODE_ROW_HTTP};
    const struct cfg_setting *row = &cfg_node_rows[r];
    const char *host = (const char *)&nodes[i] + row->offset_b;
    uint16_t port = *(const uint16_t *)((const char *)&nodes[i] + row->offset_c);
    for (size_t j = 0; j <= i; j++) {
        for (size_t k = 0; k < 2; k++) {
            if (j == i && rows[k] >= r)
                break;
            const struct cfg_setting *other = &cfg_node_rows[rows[k]];
            const char *base = (const char *)&nodes[j];
            if (*(const uint16_t *)(base + other->offset_c) != port ||
                strcasecmp(base + other->offset_b, host) != 0)
                continue;
            struct place vp = node_key_place(ld, &a->items[i], row->name);
            return fail(err, CFG_ERANGE, &vp,
                        "%s[%zu].%s = \"%s\" is also %s[%zu].%s = \"%s\": every raft and http "
                        "address must be different",
                        path, i, row->name, *(char *const *)((const char *)&nodes[i] + row->offset),
                        path, j, other->name, *(char *const *)(base + other->offset));
        }
    }
    return 0;
}

/* Node i (file order) against the nodes before it: ids 1..n each once, no address used twice,
 * no data_dir shared. */
static int check_node(const struct loader *ld, const char *path, const struct toml_array *a,
                      const struct cfg_node *nodes, size_t i, struct cfg_error *err)
{
    const struct cfg_node *n = &nodes[i];
    struct place ip = node_key_place(ld, &a->items[i], "id");
    if (n->id > a->len)
        return fail(err, CFG_ERANGE, &ip,
                    "%s[%zu].id = %" PRIu32 ": the [[%s]] ids must be 1..%zu, each once", path, i,
                    n->id, path, a->len);
    for (size_t j = 0; j < i; j++)
        if (nodes[j].id == n->id)
            return fail(err, CFG_ERANGE, &ip,
                        "%s[%zu].id = %" PRIu32
                        " repeats %s[%zu].id: the [[%s]] ids must be 1..%zu, each once",
                        path, i, n->id, path, j, path, a->len);
    int rc = check_node_address(ld, path, a, nodes, i, CFG_NODE_ROW_RAFT, err);
    if (rc == 0)
        rc = check_node_address(ld, path, a, nodes, i, CFG_NODE_ROW_HTTP, err);
    if (rc != 0)
        return rc;
    for (size_t j = 0; j < i; j++) {
        if (!cfg_same_dir(nodes[j].data_dir, n->data_dir))
            continue;
        struct place dp = node_key_place(ld, &a->items[i], "data_dir");
        char mine[96], theirs[96];
        quote(n->data_dir, strlen(n->data_dir), mine, sizeof mine);
        quote(nodes[j].data_dir, strlen(nodes[j].data_dir), theirs, sizeof theirs);
        return fail(err, CFG_ERANGE, &dp,
                    "%s[%zu].data_dir = %s is also %s[%zu].data_dir = %s: every node needs a "
                    "data_dir of its own",
                    path, i, mine, path, j, theirs);
    }
    return 0;
}

/* The joining tables (join = true) against the others, once every table is read (file order in
 * read): at least one table has no join, and the tables without join have the lowest ids, 1..k,
 * so that the initial configuration is voters 1..k as the core starts it (raft_options.n_nodes).
 * Reported at the join of the lowest joining id that some initial table is above. */
static int check_joins(const struct loader *ld, const char *path, const struct toml_value *v,
                       const struct cfg_node *read, struct cfg_error *err)
{
    const struct toml_array *a = v->u.array;
    size_t join_min = a->len, initial_max = a->len; /* file indexes, a->len: none */
    for (size_t i = 0; i < a->len; i++) {
        if (read[i].join && (join_min == a->len || read[i].id < read[join_min].id))
            join_min = i;
        if (!read[i].join && (initial_max == a->len || read[i].id > read[initial_max].id))
            initial_max = i;
    }
    if (a->len > 0 && initial_max == a->len) {
        struct place p = place_at(ld, v->line, v->col);
        return fail(err, CFG_ERANGE, &p,
                    "every [[%s]] table has join = true: at least one node must start the "
                    "cluster (leave join out of its table)",
                    path);
    }
    if (join_min == a->len || read[join_min].id > read[initial_max].id)
        return 0;
    struct place jp = node_key_place(ld, &a->items[join_min], "join");
    return fail(err, CFG_ERANGE, &jp,
                "%s[%zu] (id = %" PRIu32 ") has join = true but %s[%zu] (id = %" PRIu32
                ") has not: the tables without join are the initial voters and must have the "
                "lowest ids (1..k), the joining ones the ids above them",
                path, join_min, read[join_min].id, path, initial_max, read[initial_max].id);
}

static void nodes_free(struct cfg_node *nodes, size_t n)
{
    for (size_t i = 0; nodes != NULL && i < n; i++)
        close_table(&cfg_node_schema, &nodes[i]);
    free(nodes);
}

/* The [[node]] array: replaces cfg->nodes, sorted by id (nodes[i].id == i + 1) once every table
 * is checked, alone and against the ones before it. num_nodes is matched in check_nodes. */
static int apply_nodes(struct loader *ld, const struct cfg_setting *row, const char *path,
                       const struct toml_value *v, void *base, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    struct cfg_node **out = (struct cfg_node **)((char *)base + row->offset);
    size_t *out_len = (size_t *)((char *)base + row->offset_b);
    if (ld->override)
        return fail(err, CFG_EUNKNOWN, &p,
                    "%s cannot be set with --set: write [[%s]] tables in the config file", path,
                    path);
    if (v->type != TOML_ARRAY)
        return type_error(err, &p, path, "array of tables", v);
    const struct toml_array *a = v->u.array;
    if (a->len > (size_t)row->max)
        return fail(err, CFG_ERANGE, &p, "%s has %zu tables; at most %" PRId64 " are allowed", path,
                    a->len, row->max);
    struct cfg_node *read = xcalloc(a->len, sizeof *read); /* file order */
    struct cfg_node *sorted = NULL;
    int rc = 0;
    for (size_t i = 0; i < a->len; i++) {
        char item_path[NAME_MAX_LEN + 32];
        snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
        rc = apply_node(ld, item_path, &a->items[i], &read[i], err);
        if (rc == 0)
            rc = check_node(ld, path, a, read, i, err);
        if (rc != 0)
            goto err;
    }
    rc = check_joins(ld, path, v, read, err);
    if (rc != 0)
        goto err;
    if (a->len > 0) {
        sorted = xcalloc(a->len, sizeof *sorted);
        for (size_t i = 0; i < a->len; i++)
            sorted[read[i].id - 1] = read[i]; /* ids are 1..len, each once: a permutation */
    }
    free(read);
    nodes_free(*out, *out_len);
    *out = sorted;
    *out_len = a->len;
    remember(ld, out, p);
    return 0;
err:
    nodes_free(read, a->len);
    return rc;
}

static int apply_value(struct loader *ld, const struct cfg_setting *row, const char *path,
                       const struct toml_value *v, void *base, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    void *field = (char *)base + row->offset;
    int rc;
    switch (row->kind) {
    case KIND_TABLE:
        if (v->type != TOML_TABLE)
            return type_error(err, &p, path, "table", v);
        return apply_table(ld, row->sub, path, v->u.table, field, err);
    case KIND_UINT32:
    case KIND_SEED:
        if ((rc = check_integer(ld, path, v, row->min, row->max, err)) != 0)
            return rc;
        if (row->kind == KIND_UINT32) {
            *(uint32_t *)field = (uint32_t)v->u.integer;
        } else {
            *(uint64_t *)field = (uint64_t)v->u.integer;
            *(bool *)((char *)base + row->offset_b) = true;
        }
        remember(ld, field, p);
        return 0;
    case KIND_WORD: {
        if (v->type != TOML_STRING)
            return type_error(err, &p, path, "string", v);
        for (int i = 0; row->words[i] != NULL; i++) {
            if (strlen(row->words[i]) == v->u.str.len && strcmp(row->words[i], v->u.str.ptr) == 0) {
                *(int *)field = i;
                remember(ld, field, p);
                return 0;
            }
        }
        char list[256];
        cfg_join_words(row->words, UINT32_MAX, list, sizeof list);
        return fail(err, CFG_ERANGE, &p, "%s = \"%.64s\" is not one of %s", path, v->u.str.ptr,
                    list);
    }
    case KIND_STRINGS:
        return apply_strings(ld, row, path, v, field, err);
    case KIND_BOOL:
        if (v->type != TOML_BOOL)
            return type_error(err, &p, path, "boolean", v);
        *(bool *)field = v->u.boolean;
        remember(ld, field, p);
        return 0;
    case KIND_PROB:
        return apply_prob(ld, path, v, field, err);
    case KIND_RANGE:
        return apply_range(ld, row, path, v, base, err);
    case KIND_KINDS:
        return apply_kinds(ld, row, path, v, field, err);
    case KIND_FAULTS:
        return apply_faults(ld, row, path, v, base, err);
    case KIND_GROUPS:
        return apply_groups(ld, row, path, v, base, err);
    case KIND_NODES:
        return apply_nodes(ld, row, path, v, base, err);
    case KIND_ADDRESS:
        return apply_address(ld, row, path, v, base, err);
    case KIND_PATH:
        if (v->type != TOML_STRING)
            return type_error(err, &p, path, "string", v);
        if (v->u.str.len == 0 || v->u.str.len > CFG_PATH_MAX ||
            memchr(v->u.str.ptr, '\0', v->u.str.len) != NULL)
            return fail(err, CFG_ERANGE, &p,
                        "%s must be a non-empty path of at most %d bytes without NUL", path,
                        CFG_PATH_MAX);
        free(*(char **)field);
        *(char **)field = xstrndup(v->u.str.ptr, v->u.str.len);
        remember(ld, field, p);
        return 0;
    }
    abort(); /* every kind is handled above */
}

const struct cfg_setting *cfg_find_row(const struct cfg_schema *sc, const char *key, size_t len)
{
    for (size_t i = 0; i < sc->len; i++)
        if (strlen(sc->rows[i].name) == len && memcmp(sc->rows[i].name, key, len) == 0)
            return &sc->rows[i];
    return NULL;
}

/* Applies every key of t, in definition order, to the struct at base described by sc. The first
 * unknown key, wrong type or out-of-range value stops it. */
static int apply_table(struct loader *ld, const struct cfg_schema *sc, const char *prefix,
                       const struct toml_table *t, void *base, struct cfg_error *err)
{
    for (size_t i = 0; i < t->len; i++) {
        const struct toml_key_value *kv = &t->items[i];
        char path[NAME_MAX_LEN + 1];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", kv->key);
        const struct cfg_setting *row = cfg_find_row(sc, kv->key, kv->key_len);
        if (row == NULL) {
            struct place p = place_at(ld, kv->line, kv->col);
            return unknown(err, &p, path, is_table_like(&kv->value));
        }
        int rc = apply_value(ld, row, path, &kv->value, base, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* --- defaults, cross checks, loading ------------------------------------------------------ */

static void set_defaults(const struct cfg_schema *sc, void *base)
{
    for (size_t i = 0; i < sc->len; i++) {
        const struct cfg_setting *row = &sc->rows[i];
        void *field = (char *)base + row->offset;
        switch (row->kind) {
        case KIND_TABLE:
            set_defaults(row->sub, field);
            break;
        case KIND_UINT32:
        case KIND_KINDS:
            *(uint32_t *)field = (uint32_t)row->def;
            break;
        case KIND_SEED:
            *(uint64_t *)field = 0;
            *(bool *)((char *)base + row->offset_b) = false;
            break;
        case KIND_WORD:
            *(int *)field = (int)row->def;
            break;
        case KIND_STRINGS: {
            struct cfg_strings *list = field;
            size_t n = 0;
            while (row->words[n] != NULL)
                n++;
            list->items = xcalloc(n, sizeof *list->items);
            for (list->len = 0; list->len < n; list->len++)
                list->items[list->len] = xstrdup(row->words[list->len]);
            break;
        }
        case KIND_BOOL:
            *(bool *)field = row->def != 0;
            break;
        case KIND_PROB:
            *(double *)field = row->def_prob;
            break;
        case KIND_RANGE:
            *(uint32_t *)field = (uint32_t)row->def;
            *(uint32_t *)((char *)base + row->offset_b) = (uint32_t)row->def;
            break;
        case KIND_FAULTS:
            *(struct cfg_fault **)field = NULL;
            *(size_t *)((char *)base + row->offset_b) = 0;
            break;
        case KIND_NODES:
            *(struct cfg_node **)field = NULL;
            *(size_t *)((char *)base + row->offset_b) = 0;
            break;
        case KIND_GROUPS:  /* only inside a fault, which starts zeroed */
        case KIND_ADDRESS: /* only inside a node, which starts zeroed */
            break;
        case KIND_PATH:
            *(char **)field = xstrdup(row->words[0]);
            break;
        }
    }
}

static void close_table(const struct cfg_schema *sc, void *base)
{
    for (size_t i = 0; i < sc->len; i++) {
        const struct cfg_setting *row = &sc->rows[i];
        void *field = (char *)base + row->offset;
        if (row->kind == KIND_TABLE) {
            close_table(row->sub, field);
        } else if (row->kind == KIND_STRINGS) {
            strings_close(field);
        } else if (row->kind == KIND_PATH || row->kind == KIND_ADDRESS) {
            free(*(char **)field);
            *(char **)field = NULL;
        } else if (row->kind == KIND_FAULTS) {
            free(*(struct cfg_fault **)field);
            *(struct cfg_fault **)field = NULL;
            *(size_t *)((char *)base + row->offset_b) = 0;
        } else if (row->kind == KIND_NODES) {
            size_t *n = (size_t *)((char *)base + row->offset_b);
            nodes_free(*(struct cfg_node **)field, *n);
            *(struct cfg_node **)field = NULL;
            *n = 0;
        }
    }
}

void cfg_init(struct cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    set_defaults(&cfg_root_schema, cfg);
}

void cfg_close(struct cfg *cfg)
{
    close_table(&cfg_root_schema, cfg);
    free(cfg->history_path);
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
}

/* With [[node]] tables, num_nodes is the number of tables without join (the initial voters) and
 * max_nodes the number of tables: one given in the file or by --set must agree (reported at the
 * last one set, naming where the tables are). */
static int check_nodes(const struct loader *ld, struct cfg *cfg, struct cfg_error *err)
{
    if (cfg->n_nodes == 0)
        return 0;
    uint32_t initial = 0;
    for (size_t i = 0; i < cfg->n_nodes; i++)
        initial += cfg->nodes[i].join ? 0 : 1;
    size_t wn = last_set(ld, &cfg->nodes);
    assert(wn > 0); /* n_nodes > 0: apply_nodes recorded where the tables are */
    const struct place *np = &ld->wheres[wn - 1].place;
    size_t w = last_set(ld, &cfg->num_nodes);
    if (w > 0 && cfg->num_nodes != initial && initial == cfg->n_nodes)
        return fail(err, CFG_ERANGE, &ld->wheres[w - 1].place,
                    "num_nodes = %" PRIu32
                    " but %zu [[node]] tables are listed (from %s:%d:%d): leave num_nodes out or "
                    "make it %zu",
                    cfg->num_nodes, cfg->n_nodes, np->origin, np->line, np->col, cfg->n_nodes);
    if (w > 0 && cfg->num_nodes != initial)
        return fail(err, CFG_ERANGE, &ld->wheres[w - 1].place,
                    "num_nodes = %" PRIu32 " but %" PRIu32
                    " of the %zu [[node]] tables (from %s:%d:%d) have no join: leave num_nodes "
                    "out or make it %" PRIu32,
                    cfg->num_nodes, initial, cfg->n_nodes, np->origin, np->line, np->col, initial);
    size_t wm = last_set(ld, &cfg->max_nodes);
    if (wm > 0 && cfg->max_nodes != 0 && cfg->max_nodes != cfg->n_nodes)
        return fail(err, CFG_ERANGE, &ld->wheres[wm - 1].place,
                    "max_nodes = %" PRIu32
                    " but %zu [[node]] tables are listed (from %s:%d:%d): leave max_nodes out or "
                    "make it %zu",
                    cfg->max_nodes, cfg->n_nodes, np->origin, np->line, np->col, cfg->n_nodes);
    cfg->num_nodes = initial;
    cfg->max_nodes = (uint32_t)cfg->n_nodes;
    return 0;
}

/* "a must be less than b", reported at the place of whichever of the two was set last. */
static int check_less(const struct loader *ld, const uint32_t *a, const char *a_name,
                      const uint32_t *b, const char *b_name, struct cfg_error *err)
{
    if (*a < *b)
        return 0;
    size_t ia = last_set(ld, a), ib = last_set(ld, b);
    if (ia >= ib && ia > 0)
        return fail(err, CFG_ERANGE, &ld->wheres[ia - 1].place,
                    "%s = %" PRIu32 " must be less than %s = %" PRIu32, a_name, *a, b_name, *b);
    return fail(err, CFG_ERANGE, ib > 0 ? &ld->wheres[ib - 1].place : NULL,
                "%s = %" PRIu32 " must be greater than %s = %" PRIu32, b_name, *b, a_name, *a);
}

/* max_nodes: 0 (the default) becomes num_nodes; any other value must be at least num_nodes,
 * reported at whichever of the two was set last. */
static int check_max_nodes(const struct loader *ld, struct cfg *cfg, struct cfg_error *err)
{
    if (cfg->max_nodes == 0)
        cfg->max_nodes = cfg->num_nodes;
    if (cfg->max_nodes >= cfg->num_nodes)
        return 0;
    size_t wm = last_set(ld, &cfg->max_nodes), wn = last_set(ld, &cfg->num_nodes);
    assert(wm > 0); /* not its default, 0 */
    if (wm >= wn)
        return fail(err, CFG_ERANGE, &ld->wheres[wm - 1].place,
                    "max_nodes = %" PRIu32
                    " must be 0 (num_nodes) or at least num_nodes = %" PRIu32,
                    cfg->max_nodes, cfg->num_nodes);
    return fail(err, CFG_ERANGE, &ld->wheres[wn - 1].place,
                "num_nodes = %" PRIu32 " must not be above max_nodes = %" PRIu32, cfg->num_nodes,
                cfg->max_nodes);
}

/* Every node a fault names must be one of the run's ids: checked once num_nodes and max_nodes
 * are final (the file may set them after the faults, a --set may lower them). Reported at the
 * fault's node id against the bound, max_nodes where it is above num_nodes, saying where the
 * bound came from when it is not the default. */
static int check_faults(const struct loader *ld, const struct cfg *cfg, struct cfg_error *err)
{
    char from[600] = "";
    bool by_max = cfg->max_nodes > cfg->num_nodes;
    const uint32_t *bound = by_max ? &cfg->max_nodes : &cfg->num_nodes;
    const char *name = by_max ? "max_nodes" : "num_nodes";
    size_t nw = last_set(ld, bound);
    if (nw > 0) {
        const struct place *np = &ld->wheres[nw - 1].place;
        if (np->line > 0)
            snprintf(from, sizeof from, ", from %s:%d:%d", np->origin, np->line, np->col);
        else
            snprintf(from, sizeof from, ", from %s", np->origin);
    }
    for (size_t i = 0; i < cfg->n_faults; i++) {
        const struct cfg_fault *f = &cfg->faults[i];
        const struct fault_where *fw = &ld->fault_wheres[i];
        if (f->node > *bound)
            return fail(err, CFG_ERANGE, &fw->node,
                        "fault[%zu].node = %" PRIu32 " is out of range (1..%s = %" PRIu32 "%s)", i,
                        f->node, name, *bound, from);
        if (fw->max_node > *bound)
            return fail(err, CFG_ERANGE, &fw->max_place,
                        "fault[%zu].groups[%zu][%zu] = %" PRIu32
                        " is out of range (1..%s = %" PRIu32 "%s)",
                        i, fw->max_i, fw->max_j, fw->max_node, name, *bound, from);
    }
    return 0;
}

/* The place of the last of fields a, b, c that was set (NULL if none was). */
static const struct place *place_of_last(const struct loader *ld, const void *a, const void *b,
                                         const void *c)
{
    size_t w = last_set(ld, a), wb = last_set(ld, b), wc = last_set(ld, c);
    if (wb > w)
        w = wb;
    if (wc > w)
        w = wc;
    return w > 0 ? &ld->wheres[w - 1].place : NULL;
}

/* [client]: a mix with some weight, and lease reads only with check-quorum. */
static int check_client(const struct loader *ld, const struct cfg *cfg, struct cfg_error *err)
{
    const struct cfg_client *c = &cfg->client;
    if (c->put_weight == 0 && c->get_weight == 0 && c->delete_weight == 0)
        return fail(err, CFG_ERANGE,
                    place_of_last(ld, &c->put_weight, &c->get_weight, &c->delete_weight),
                    "client.put_weight, get_weight and delete_weight are all 0: at least one must "
                    "be above 0");
    const struct cfg_read_mix *m = &c->read_mix;
    if (c->read == CFG_READ_MIX &&
        m->linearizable + (uint64_t)m->lease + m->follower + m->stale + m->log == 0)
        return fail(err, CFG_ERANGE, place_of_last(ld, &c->read, &m->linearizable, &m->log),
                    "client.read = \"mix\" but every weight of [client.read_mix] is 0");
    bool lease = c->read == CFG_READ_LEASE || (c->read == CFG_READ_MIX && m->lease > 0);
    if (lease && !cfg->raft.check_quorum)
        return fail(
            err, CFG_ERANGE, place_of_last(ld, &c->read, &m->lease, &cfg->raft.check_quorum),
            "lease reads (client.read = \"%s\"%s) need raft.check_quorum = true: a lease "
            "is safe only while followers refuse to vote for a new leader soon after "
            "hearing from theirs",
            cfg_read_words[c->read], c->read == CFG_READ_MIX ? " with read_mix.lease > 0" : "");
    return 0;
}

static int check_cross(const struct loader *ld, const struct cfg *cfg, struct cfg_error *err)
{
    const struct cfg_raft *r = &cfg->raft;
    int rc = check_less(ld, &r->election_timeout_ms_min, "raft.election_timeout_ms_min",
                        &r->election_timeout_ms_max, "raft.election_timeout_ms_max", err);
    if (rc == 0)
        rc = check_less(ld, &r->heartbeat_ms, "raft.heartbeat_ms", &r->election_timeout_ms_min,
                        "raft.election_timeout_ms_min", err);
    if (rc == 0)
        rc = check_faults(ld, cfg, err);
    if (rc == 0)
        rc = check_client(ld, cfg, err);
    if (rc == 0 && cfg->disk.damaged_nodes > (cfg->num_nodes - 1) / 2) {
        size_t w = last_set(ld, &cfg->disk.damaged_nodes);
        rc = fail(err, CFG_ERANGE, w > 0 ? &ld->wheres[w - 1].place : NULL,
                  "disk.damaged_nodes = %" PRIu32
                  " must be at most a minority of num_nodes = %" PRIu32
                  ", (num_nodes - 1) / 2 = %" PRIu32,
                  cfg->disk.damaged_nodes, cfg->num_nodes, (cfg->num_nodes - 1) / 2);
    }
    return rc;
}

/* toml_parse_buffer's message starts "NAME:LINE:COL: "; for an override, say "ORIGIN: what (at
 * column N)" instead, since the override is one line of the command line. */
static int override_syntax_error(const struct cfg_override *o, const struct toml_error *terr,
                                 struct cfg_error *err)
{
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s:%d:%d: ", o->origin, terr->line, terr->col);
    size_t n = strlen(prefix);
    if (terr->line == 1 && strncmp(terr->msg, prefix, n) == 0)
        return fail(err, CFG_ESYNTAX, NULL, "%s: %s (at column %d)", o->origin, terr->msg + n,
                    terr->col);
    return fail(err, CFG_ESYNTAX, NULL, "%s", terr->msg);
}

int cfg_load_buffer(struct cfg *cfg, const char *buf, size_t len, const char *name,
                    const struct cfg_override *overrides, size_t n, struct cfg_error *err)
{
    struct loader ld = {.origin = name, .positions = true};
    struct toml_table *root = NULL;
    struct toml_error terr;
    int rc;

    cfg_init(cfg);
    cfg->path = xstrdup(name);
    if (toml_parse_buffer(buf, len, name, &root, &terr) != 0) {
        rc = fail(err, CFG_ESYNTAX, NULL, "%s", terr.msg);
        goto err;
    }
    rc = apply_table(&ld, &cfg_root_schema, "", root, cfg, err);
    if (rc != 0)
        goto err;
    for (size_t i = 0; i < n; i++) {
        toml_free(root);
        root = NULL;
        ld.origin = overrides[i].origin;
        ld.positions = false;
        ld.override = true;
        const char *text = overrides[i].toml;
        if (toml_parse_buffer(text, strlen(text), overrides[i].origin, &root, &terr) != 0) {
            rc = override_syntax_error(&overrides[i], &terr, err);
            goto err;
        }
        rc = apply_table(&ld, &cfg_root_schema, "", root, cfg, err);
        if (rc != 0)
            goto err;
    }
    rc = check_nodes(&ld, cfg, err);
    if (rc == 0)
        rc = check_max_nodes(&ld, cfg, err);
    if (rc == 0)
        rc = check_cross(&ld, cfg, err);
    if (rc != 0)
        goto err;
    toml_free(root);
    free(ld.wheres);
    free(ld.fault_wheres);
    return 0;
err:
    toml_free(root);
    free(ld.wheres);
    free(ld.fault_wheres);
    cfg_close(cfg);
    return rc;
}

int cfg_load(struct cfg *cfg, const char *path, const struct cfg_override *overrides, size_t n,
             struct cfg_error *err)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;
    FILE *f = fopen(path, "rb");
    memset(cfg, 0, sizeof *cfg);
    if (f == NULL) {
        rc = fail(err, CFG_EIO, NULL, "cannot open '%s': %s", path, strerror(errno));
        goto err;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= CFG_FILE_SIZE_MAX) {
                rc = fail(err, CFG_EIO, NULL, "cannot read '%s': larger than %d bytes", path,
                          CFG_FILE_SIZE_MAX);
                goto err;
            }
            cap = cap ? 2 * cap : 4096;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = fail(err, CFG_EIO, NULL, "cannot read '%s': %s", path, strerror(errno));
                goto err;
            }
            break;
        }
    }
    fclose(f);
    f = NULL;
    rc = cfg_load_buffer(cfg, buf, len, path, overrides, n, err);
    free(buf);
    return rc;
err:
    if (f != NULL)
        fclose(f);
    free(buf);
    return rc;
}

const char *cfg_strerror(int status)
{
    switch (status) {
    case CFG_OK:
        return "ok";
    case CFG_EIO:
        return "cannot read the configuration file";
    case CFG_ESYNTAX:
        return "the configuration is not valid TOML";
    case CFG_ETYPE:
        return "a setting has the wrong type";
    case CFG_ERANGE:
        return "a setting has a value out of range";
    case CFG_EUNKNOWN:
        return "unknown setting";
    case CFG_EUSAGE:
        return "bad command line";
    default:
        return "unknown cfg status";
    }
}
