/* config.c - typed, validated configuration: a TOML tree checked against one schema table whose
 * rows (name, kind, field, default, range, doc) drive defaults, checks, suggestions and printing.
 */
#include "config/config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "config/toml.h"

/* --- the schema --------------------------------------------------------------------------- */

enum kind {
    KIND_TABLE,   /* a [section]: sub is its schema, offset the sub-struct in the parent */
    KIND_UINT32,  /* uint32_t field, integer in min..max */
    KIND_SEED,    /* uint64_t field + bool at given_offset; integer in min..max */
    KIND_WORD,    /* enum field (int-sized), a string among words[]; def is the index */
    KIND_STRINGS, /* struct cfg_strings: distinct non-empty strings, min..max of them */
};

struct schema;

struct setting {
    const char *name; /* one key segment */
    enum kind kind;
    size_t offset;       /* of the field in the struct of the table the row belongs to */
    size_t given_offset; /* KIND_SEED: the bool that says the seed was given */
    int64_t def, min, max;
    const char *const *words; /* KIND_WORD: allowed words; KIND_STRINGS: the default items */
    const struct schema *sub; /* KIND_TABLE */
    const char *doc;          /* one line for --help-config and config.toml */
};

struct schema {
    const struct setting *rows;
    size_t len;
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define UINT32(type, field, d, lo, hi, text)                                                       \
    {                                                                                              \
        .name = #field, .kind = KIND_UINT32, .offset = offsetof(type, field), .def = (d),          \
        .min = (lo), .max = (hi), .doc = (text)                                                    \
    }
#define WORD(type, field, d, list, text)                                                           \
    {                                                                                              \
        .name = #field, .kind = KIND_WORD, .offset = offsetof(type, field), .def = (d),            \
        .words = (list), .doc = (text)                                                             \
    }
#define TABLE(type, field, schema, text)                                                           \
    {                                                                                              \
        .name = #field, .kind = KIND_TABLE, .offset = offsetof(type, field), .sub = &(schema),     \
        .doc = (text)                                                                              \
    }

/* The enum fields are written through int *: they must be int-sized. */
_Static_assert(sizeof(enum cfg_trace_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_trace_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_color) == sizeof(int), "enum size");

/* In the order of the enums in config.h. */
static const char *const level_words[] = {"quiet", "info", "debug", NULL};
static const char *const format_words[] = {"text", "jsonl", NULL};
static const char *const color_words[] = {"auto", "always", "never", NULL};
static const char *const default_keys[] = {"a", "b", "c", "d", "e", NULL};

static const struct setting client_rows[] = {
    UINT32(struct cfg_client, requests, 5, 0, 1000000, "requests each client sends"),
    {.name = "keys",
     .kind = KIND_STRINGS,
     .offset = offsetof(struct cfg_client, keys),
     .min = 1,
     .max = CFG_KEYS_MAX,
     .words = default_keys,
     .doc = "keys the clients pick from at random: distinct, non-empty strings"},
    UINT32(struct cfg_client, value_size, 8, 1, 65536, "bytes of each random value put"),
    UINT32(struct cfg_client, timeout_ms, 1000, 1, 3600000,
           "how long a client waits for one reply"),
};
static const struct schema client_schema = {client_rows, COUNT(client_rows)};

static const struct setting raft_rows[] = {
    UINT32(struct cfg_raft, election_timeout_ms_min, 150, 1, 60000,
           "a follower hearing no leader for a random time in [min, max) campaigns"),
    UINT32(struct cfg_raft, election_timeout_ms_max, 300, 1, 60000,
           "upper end of the election timeout; must be above the minimum"),
    UINT32(struct cfg_raft, heartbeat_ms, 50, 1, 60000,
           "a leader sends AppendEntries at least this often; must be below the minimum timeout"),
    UINT32(struct cfg_raft, max_inflight, 1, 1, 64,
           "AppendEntries a leader keeps in flight per follower; 1 batches what arrives meanwhile"),
    UINT32(struct cfg_raft, max_entries_per_append, 64, 1, 4096,
           "most log entries one AppendEntries carries"),
};
static const struct schema raft_schema = {raft_rows, COUNT(raft_rows)};

static const struct setting trace_rows[] = {
    WORD(struct cfg_trace, level, CFG_TRACE_INFO, level_words,
         "quiet: the summary only; info: every Raft and client event; debug: more"),
    WORD(struct cfg_trace, format, CFG_FORMAT_TEXT, format_words,
         "text for people, jsonl (one JSON object per line) for programs"),
    WORD(struct cfg_trace, color, CFG_COLOR_AUTO, color_words,
         "colour per node: auto (when the output is a terminal), always or never"),
};
static const struct schema trace_schema = {trace_rows, COUNT(trace_rows)};

static const struct setting root_rows[] = {
    UINT32(struct cfg, num_nodes, 5, 1, CFG_NODES_MAX, "Raft nodes in the cluster"),
    UINT32(struct cfg, num_clients, 3, 0, CFG_CLIENTS_MAX, "clients sending requests"),
    {.name = "seed",
     .kind = KIND_SEED,
     .offset = offsetof(struct cfg, seed),
     .given_offset = offsetof(struct cfg, seed_given),
     .min = 0,
     .max = INT64_MAX,
     .doc =
         "seed of every random choice; unset: a random seed, printed so the run can be repeated"},
    TABLE(struct cfg, client, client_schema, "what the clients do"),
    TABLE(struct cfg, raft, raft_schema, "Raft timing (Raft paper, section 5.2)"),
    TABLE(struct cfg, trace, trace_schema, "what the run prints"),
};
static const struct schema root_schema = {root_rows, COUNT(root_rows)};

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

struct loader {
    const char *origin; /* the file name or the override's origin */
    bool positions;     /* whether line:col mean something (a file) */
    struct where *wheres;
    size_t num_wheres, cap_wheres;
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
};

/* Scores every setting and table: the distance between whole paths, or between last segments
 * plus one (a known key written in the wrong table). Keeps the first best. */
static void suggest_in(const struct schema *sc, const char *prefix, struct suggestion *s)
{
    for (size_t i = 0; i < sc->len; i++) {
        const struct setting *row = &sc->rows[i];
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
        if (row->kind == KIND_TABLE)
            suggest_in(row->sub, path, s);
    }
}

static int unknown(struct cfg_error *err, const struct place *p, const char *path, bool is_table)
{
    struct suggestion s = {path, leaf_of(path), SIZE_MAX, ""};
    suggest_in(&root_schema, "", &s);
    size_t leaf_len = strlen(s.leaf);
    size_t threshold = leaf_len / 3 > 2 ? leaf_len / 3 : 2;
    const char *what = is_table ? "table" : "key";
    if (s.best_score <= threshold)
        return fail(err, CFG_EUNKNOWN, p, "unknown %s '%s'; did you mean '%s'?", what, path,
                    s.best);
    return fail(err, CFG_EUNKNOWN, p, "unknown %s '%s' (raft_kv --help-config lists them all)",
                what, path);
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

static int apply_strings(struct loader *ld, const struct setting *row, const char *path,
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

static int apply_table(struct loader *ld, const struct schema *sc, const char *prefix,
                       const struct toml_table *t, void *base, struct cfg_error *err);
static void join_words(const char *const *words, char *out, size_t out_len);

static int apply_value(struct loader *ld, const struct setting *row, const char *path,
                       const struct toml_value *v, void *base, struct cfg_error *err)
{
    struct place p = place_at(ld, v->line, v->col);
    void *field = (char *)base + row->offset;
    switch (row->kind) {
    case KIND_TABLE:
        if (v->type != TOML_TABLE)
            return type_error(err, &p, path, "table", v);
        return apply_table(ld, row->sub, path, v->u.table, field, err);
    case KIND_UINT32:
    case KIND_SEED:
        if (v->type != TOML_INTEGER)
            return type_error(err, &p, path, "integer", v);
        if (v->u.integer < row->min || v->u.integer > row->max)
            return fail(err, CFG_ERANGE, &p,
                        "%s = %" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", path,
                        v->u.integer, row->min, row->max);
        if (row->kind == KIND_UINT32) {
            *(uint32_t *)field = (uint32_t)v->u.integer;
        } else {
            *(uint64_t *)field = (uint64_t)v->u.integer;
            *(bool *)((char *)base + row->given_offset) = true;
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
        join_words(row->words, list, sizeof list);
        return fail(err, CFG_ERANGE, &p, "%s = \"%.64s\" is not one of %s", path, v->u.str.ptr,
                    list);
    }
    case KIND_STRINGS:
        return apply_strings(ld, row, path, v, field, err);
    }
    abort(); /* every kind is handled above */
}

static const struct setting *find_row(const struct schema *sc, const char *key, size_t len)
{
    for (size_t i = 0; i < sc->len; i++)
        if (strlen(sc->rows[i].name) == len && memcmp(sc->rows[i].name, key, len) == 0)
            return &sc->rows[i];
    return NULL;
}

/* Applies every key of t, in definition order, to the struct at base described by sc. The first
 * unknown key, wrong type or out-of-range value stops it. */
static int apply_table(struct loader *ld, const struct schema *sc, const char *prefix,
                       const struct toml_table *t, void *base, struct cfg_error *err)
{
    for (size_t i = 0; i < t->len; i++) {
        const struct toml_key_value *kv = &t->items[i];
        char path[NAME_MAX_LEN + 1];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", kv->key);
        const struct setting *row = find_row(sc, kv->key, kv->key_len);
        if (row == NULL) {
            struct place p = place_at(ld, kv->line, kv->col);
            return unknown(err, &p, path, kv->value.type == TOML_TABLE);
        }
        int rc = apply_value(ld, row, path, &kv->value, base, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* --- defaults, cross checks, loading ------------------------------------------------------ */

static void set_defaults(const struct schema *sc, void *base)
{
    for (size_t i = 0; i < sc->len; i++) {
        const struct setting *row = &sc->rows[i];
        void *field = (char *)base + row->offset;
        switch (row->kind) {
        case KIND_TABLE:
            set_defaults(row->sub, field);
            break;
        case KIND_UINT32:
            *(uint32_t *)field = (uint32_t)row->def;
            break;
        case KIND_SEED:
            *(uint64_t *)field = 0;
            *(bool *)((char *)base + row->given_offset) = false;
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
        }
    }
}

static void close_table(const struct schema *sc, void *base)
{
    for (size_t i = 0; i < sc->len; i++) {
        const struct setting *row = &sc->rows[i];
        void *field = (char *)base + row->offset;
        if (row->kind == KIND_TABLE)
            close_table(row->sub, field);
        else if (row->kind == KIND_STRINGS)
            strings_close(field);
    }
}

void cfg_init(struct cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    set_defaults(&root_schema, cfg);
}

void cfg_close(struct cfg *cfg)
{
    close_table(&root_schema, cfg);
    free(cfg->history_path);
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
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

static int check_cross(const struct loader *ld, const struct cfg *cfg, struct cfg_error *err)
{
    const struct cfg_raft *r = &cfg->raft;
    int rc = check_less(ld, &r->election_timeout_ms_min, "raft.election_timeout_ms_min",
                        &r->election_timeout_ms_max, "raft.election_timeout_ms_max", err);
    if (rc == 0)
        rc = check_less(ld, &r->heartbeat_ms, "raft.heartbeat_ms", &r->election_timeout_ms_min,
                        "raft.election_timeout_ms_min", err);
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
    struct loader ld = {name, true, NULL, 0, 0};
    struct toml_table *root = NULL;
    struct toml_error terr;
    int rc;

    cfg_init(cfg);
    cfg->path = xstrdup(name);
    if (toml_parse_buffer(buf, len, name, &root, &terr) != 0) {
        rc = fail(err, CFG_ESYNTAX, NULL, "%s", terr.msg);
        goto err;
    }
    rc = apply_table(&ld, &root_schema, "", root, cfg, err);
    if (rc != 0)
        goto err;
    for (size_t i = 0; i < n; i++) {
        toml_free(root);
        root = NULL;
        ld.origin = overrides[i].origin;
        ld.positions = false;
        const char *text = overrides[i].toml;
        if (toml_parse_buffer(text, strlen(text), overrides[i].origin, &root, &terr) != 0) {
            rc = override_syntax_error(&overrides[i], &terr, err);
            goto err;
        }
        rc = apply_table(&ld, &root_schema, "", root, cfg, err);
        if (rc != 0)
            goto err;
    }
    rc = check_cross(&ld, cfg, err);
    if (rc != 0)
        goto err;
    toml_free(root);
    free(ld.wheres);
    return 0;
err:
    toml_free(root);
    free(ld.wheres);
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

/* --- lookups and printing ----------------------------------------------------------------- */

/* The row at a dotted path, or NULL. */
static const struct setting *find_path(const char *path)
{
    const struct schema *sc = &root_schema;
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        const struct setting *row = find_row(sc, path, len);
        if (row == NULL || dot == NULL)
            return row;
        if (row->kind != KIND_TABLE)
            return NULL;
        sc = row->sub;
        path = dot + 1;
    }
}

static void join_words(const char *const *words, char *out, size_t out_len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; words[i] != NULL && used < out_len; i++) {
        int w = snprintf(out + used, out_len - used, "%s%s", i ? ", " : "", words[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

bool cfg_word_allowed(const char *path, const char *word, int *index, char *list, size_t list_len)
{
    const struct setting *row = find_path(path);
    if (row == NULL || row->kind != KIND_WORD)
        return false;
    for (int i = 0; row->words[i] != NULL; i++) {
        if (strcmp(row->words[i], word) == 0) {
            if (index != NULL)
                *index = i;
            return true;
        }
    }
    if (list != NULL && list_len > 0)
        join_words(row->words, list, list_len);
    return false;
}

/* A TOML basic string: quotes, backslashes and control characters escaped. */
static void print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_doc(FILE *out, const struct setting *row)
{
    char words[256];
    fprintf(out, "# %s\n", row->doc);
    switch (row->kind) {
    case KIND_UINT32:
        fprintf(out, "# integer %" PRId64 "..%" PRId64 ", default %" PRId64 "\n", row->min,
                row->max, row->def);
        break;
    case KIND_SEED:
        fprintf(out, "# integer %" PRId64 "..%" PRId64 ", default: none\n", row->min, row->max);
        break;
    case KIND_WORD:
        join_words(row->words, words, sizeof words);
        fprintf(out, "# one of %s, default \"%s\"\n", words, row->words[row->def]);
        break;
    case KIND_STRINGS:
        fprintf(out, "# array of %" PRId64 "..%" PRId64 " strings of 1..%d bytes\n", row->min,
                row->max, CFG_KEY_LEN_MAX);
        break;
    case KIND_TABLE:
        break;
    }
}

static void print_table(FILE *out, const struct schema *sc, const char *prefix, const void *base,
                        bool docs)
{
    for (size_t i = 0; i < sc->len; i++) {
        const struct setting *row = &sc->rows[i];
        const void *field = (const char *)base + row->offset;
        if (row->kind == KIND_TABLE)
            continue;
        if (docs)
            print_doc(out, row);
        switch (row->kind) {
        case KIND_UINT32:
            fprintf(out, "%s = %" PRIu32 "\n", row->name, *(const uint32_t *)field);
            break;
        case KIND_SEED:
            if (*(const bool *)((const char *)base + row->given_offset))
                fprintf(out, "%s = %" PRIu64 "\n", row->name, *(const uint64_t *)field);
            else
                fprintf(out, "# %s = (not set: a random seed per run)\n", row->name);
            break;
        case KIND_WORD:
            fprintf(out, "%s = \"%s\"\n", row->name, row->words[*(const int *)field]);
            break;
        case KIND_STRINGS: {
            const struct cfg_strings *list = field;
            fprintf(out, "%s = [", row->name);
            for (size_t j = 0; j < list->len; j++) {
                fputs(j ? ", " : "", out);
                print_string(out, list->items[j]);
            }
            fputs("]\n", out);
            break;
        }
        case KIND_TABLE:
            break;
        }
        if (docs)
            fputc('\n', out);
    }
    for (size_t i = 0; i < sc->len; i++) {
        const struct setting *row = &sc->rows[i];
        if (row->kind != KIND_TABLE)
            continue;
        char path[NAME_MAX_LEN + 1];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", row->name);
        if (docs)
            fprintf(out, "# %s\n", row->doc);
        else
            fputc('\n', out);
        fprintf(out, "[%s]\n", path);
        print_table(out, row->sub, path, (const char *)base + row->offset, docs);
    }
}

void cfg_print(FILE *out, const struct cfg *cfg, bool docs)
{
    print_table(out, &root_schema, "", cfg, docs);
    if (cfg->history_path != NULL)
        fprintf(out, "\n# history: %s (from --history)\n", cfg->history_path);
}

void cfg_print_summary(FILE *out, const struct cfg *cfg)
{
    const struct cfg_client *c = &cfg->client;
    const struct cfg_raft *r = &cfg->raft;
    fprintf(out,
            "config %s: %" PRIu32 " nodes, %" PRIu32 " clients x %" PRIu32 " requests, %zu keys (",
            cfg->path ? cfg->path : "(defaults)", cfg->num_nodes, cfg->num_clients, c->requests,
            c->keys.len);
    for (size_t i = 0; i < c->keys.len && i < 8; i++)
        fprintf(out, "%s%s", i ? " " : "", c->keys.items[i]);
    fprintf(out, "%s), values of %" PRIu32 " bytes, request timeout %" PRIu32 " ms\n",
            c->keys.len > 8 ? " ..." : "", c->value_size, c->timeout_ms);
    fprintf(out,
            "raft: election timeout %" PRIu32 "..%" PRIu32 " ms, heartbeat %" PRIu32
            " ms; trace: %s, %s, color %s; history: %s\n",
            r->election_timeout_ms_min, r->election_timeout_ms_max, r->heartbeat_ms,
            level_words[cfg->trace.level], format_words[cfg->trace.format],
            color_words[cfg->trace.color], cfg->history_path ? cfg->history_path : "none");
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
