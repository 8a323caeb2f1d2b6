/* toml.c - a TOML 1.0.0 parser: recursive descent over a validated, normalised copy of the input.
 * The whole input is checked for UTF-8 and control characters up front and CRLF becomes LF, so
 * the grammar below sees one NUL-terminated string; every table remembers how it was defined so
 * that the redefinition rules of the spec can be enforced.
 *
 * Choices where the spec leaves room (tests pin each one):
 * - Columns count bytes from 1 (a tab or a multi-byte character advances it by its byte count).
 * - Seconds may be 60 (RFC 3339 leap second) on any date; years run 0001..9999 (0000 rejected,
 *   as toml-test does); fractional seconds keep 9 digits, more are accepted and truncated.
 * - CRLF inside multi-line strings becomes LF; a leading UTF-8 BOM is skipped.
 * - A float literal beyond the double range (1e400) is an error; one below it rounds to 0.
 * - A dotted key may add to a table that a header only created implicitly ([a.b.c] then, in
 *   [a], b.d = 1); that table then counts as defined by dotted keys, so [a.b] is an error later.
 *   Tables defined by their own header, and inline tables, never take dotted keys from outside.
 * - Arrays, inline tables and key segments nest at most TOML_MAX_DEPTH deep in total.
 * - Duplicate keys are found by a hash index once a table has more than 16 keys, so parsing
 *   stays linear in the document size.
 */
#include "config/toml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hash.h"
#include "config/toml_internal.h"

/* Arrays and inline tables nest at most this deep, counting dotted-key and header segments:
 * a bound on recursion for parsing, freeing and printing. */
#define TOML_MAX_DEPTH 128

/* How a table came to exist; decides what may later add to it. */
enum table_kind {
    TK_ROOT,
    TK_IMPLICIT, /* a super-table named by a header ([a] of [a.b]); [a] may still define it */
    TK_HEADER,   /* defined by its own [header], or an element of an array of tables */
    TK_DOTTED,   /* created by a dotted key; only dotted keys and sub-table headers may extend */
    TK_INLINE,   /* an inline table: complete when written, never extended */
};

/* The parser's view of a table: the public struct first, so a toml_table * is this too. */
struct ptable {
    struct toml_table pub;
    size_t cap;
    enum table_kind kind;
    /* Hash index of the keys once the table is large, so that the duplicate-key check stays
     * linear overall. Open addressing; slot = item index + 1, 0 = empty.
     * Invariant: index == NULL or index_cap is a power of two >= 2 * pub.len. */
    size_t *index;
    size_t index_cap;
};

/* Tables up to this many keys are searched linearly. */
#define TABLE_INDEX_MIN 16

struct parray {
    struct toml_array pub;
    size_t cap;
    bool of_tables; /* made by [[header]]: only [[header]] may append */
};

/* A growable byte string for unescaping. */
struct sbuf {
    char *ptr;
    size_t len, cap;
};

/* One segment of a (possibly dotted) key, with where it was written. */
struct key_seg {
    char *ptr;
    size_t len;
    const char *at;
    int line, col; /* of at */
};

struct key_path {
    struct key_seg seg[TOML_MAX_DEPTH];
    int n;
};

struct parser {
    const char *src; /* normalised copy: no CR, no NUL inside, NUL-terminated */
    const char *p;   /* cursor */
    const char *filename;
    struct toml_error *err;
    struct ptable *root;
    struct ptable *cur; /* the table that key/value pairs go into */
    int cur_depth;      /* its nesting below the root */
    /* Position cache: lc_line is the line of lc_at, lc_line_start the start of that line. */
    const char *lc_at, *lc_line_start;
    int lc_line;
};

/* --- errors and positions -------------------------------------------------------------- */

static void position(struct parser *ps, const char *at, int *line, int *col)
{
    if (at < ps->lc_at) {
        ps->lc_at = ps->src;
        ps->lc_line_start = ps->src;
        ps->lc_line = 1;
    }
    for (const char *q = ps->lc_at; q < at; q++) {
        if (*q == '\n') {
            ps->lc_line++;
            ps->lc_line_start = q + 1;
        }
    }
    ps->lc_at = at;
    *line = ps->lc_line;
    *col = (int)(at - ps->lc_line_start) + 1;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(struct parser *ps, const char *at, const char *fmt, ...)
{
    int line, col;
    position(ps, at, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    toml_set_error(ps->err, ps->filename, line, col, fmt, ap);
    va_end(ap);
    return TOML_ESYNTAX;
}

/* A key for messages: printable ASCII kept, the rest shown as '?', long keys shortened. */
static const char *show_key(const char *k, size_t len, char *buf, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < size; i++) {
        unsigned char c = (unsigned char)k[i];
        buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (n < len && n + 4 >= size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* --- tree building ---------------------------------------------------------------------- */

static struct ptable *table_new(enum table_kind kind)
{
    struct ptable *t = xcalloc(1, sizeof *t);
    t->kind = kind;
    return t;
}

static struct parray *array_new(bool of_tables)
{
    struct parray *a = xcalloc(1, sizeof *a);
    a->of_tables = of_tables;
    return a;
}

/* Frees what a value owns (not the value itself). Depth is bounded by TOML_MAX_DEPTH. */
static void value_clear(struct toml_value *v);

static void table_destroy(struct toml_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->len; i++) {
        free(t->items[i].key);
        value_clear(&t->items[i].value);
    }
    free(t->items);
    free(((struct ptable *)t)->index);
    free(t); /* the whole struct ptable: pub is its first member */
}

static void value_clear(struct toml_value *v)
{
    switch (v->type) {
    case TOML_STRING:
        free(v->u.str.ptr);
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < v->u.array->len; i++)
            value_clear(&v->u.array->items[i]);
        free(v->u.array->items);
        free(v->u.array); /* the whole struct parray */
        break;
    case TOML_TABLE:
        table_destroy(v->u.table);
        break;
    default:
        break;
    }
}

void toml_free(struct toml_table *root)
{
    table_destroy(root);
}

static size_t key_hash(const char *key, size_t len)
{
    return (size_t)hash_fnv1a(HASH_FNV1A_START, key, len);
}

/* Puts item i of t into the index (which has room). */
static void index_insert(struct ptable *t, size_t i)
{
    const struct toml_key_value *kv = &t->pub.items[i];
    size_t mask = t->index_cap - 1;
    size_t slot = key_hash(kv->key, kv->key_len) & mask;
    while (t->index[slot] != 0)
        slot = (slot + 1) & mask;
    t->index[slot] = i + 1;
}

/* Keeps the index at most half full, building it when the table outgrows linear search. */
static void index_reserve(struct ptable *t)
{
    if (t->pub.len < TABLE_INDEX_MIN || 2 * t->pub.len <= t->index_cap)
        return;
    t->index_cap = t->index_cap ? 2 * t->index_cap : 4 * TABLE_INDEX_MIN;
    free(t->index);
    t->index = xcalloc(t->index_cap, sizeof *t->index);
    for (size_t i = 0; i < t->pub.len; i++)
        index_insert(t, i);
}

static struct toml_value *table_find(struct ptable *t, const char *key, size_t len)
{
    if (t->index == NULL) {
        for (size_t i = 0; i < t->pub.len; i++) {
            struct toml_key_value *kv = &t->pub.items[i];
            if (kv->key_len == len && memcmp(kv->key, key, len) == 0)
                return &kv->value;
        }
        return NULL;
    }
    size_t mask = t->index_cap - 1;
    for (size_t slot = key_hash(key, len) & mask; t->index[slot] != 0; slot = (slot + 1) & mask) {
        struct toml_key_value *kv = &t->pub.items[t->index[slot] - 1];
        if (kv->key_len == len && memcmp(kv->key, key, len) == 0)
            return &kv->value;
    }
    return NULL;
}

/* Appends key = value to t, taking ownership of seg->ptr and of the value's contents. */
static struct toml_value *table_add(struct ptable *t, struct key_seg *seg,
                                    const struct toml_value *value)
{
    if (t->pub.len == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 4;
        t->pub.items = xreallocarray(t->pub.items, t->cap, sizeof *t->pub.items);
    }
    struct toml_key_value *kv = &t->pub.items[t->pub.len++];
    kv->key = seg->ptr;
    kv->key_len = seg->len;
    seg->ptr = NULL;
    kv->line = seg->line;
    kv->col = seg->col;
    kv->value = *value;
    if (t->index != NULL && 2 * t->pub.len <= t->index_cap)
        index_insert(t, t->pub.len - 1);
    else
        index_reserve(t);
    return &kv->value;
}

/* Adds a new empty sub-table named by seg to t. */
static struct ptable *table_add_table(struct ptable *t, struct key_seg *seg, enum table_kind kind)
{
    struct ptable *sub = table_new(kind);
    struct toml_value v = {.type = TOML_TABLE, .u.table = &sub->pub};
    v.line = seg->line;
    v.col = seg->col;
    table_add(t, seg, &v);
    return sub;
}

static struct toml_value *array_push(struct parray *a)
{
    if (a->pub.len == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 4;
        a->pub.items = xreallocarray(a->pub.items, a->cap, sizeof *a->pub.items);
    }
    struct toml_value *v = &a->pub.items[a->pub.len++];
    memset(v, 0, sizeof *v);
    return v;
}

/* --- lexical helpers --------------------------------------------------------------------- */

static void skip_ws(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t')
        ps->p++;
}

/* Skips whitespace, newlines and comments (inside arrays). */
static void skip_ws_nl_comments(struct parser *ps)
{
    for (;;) {
        skip_ws(ps);
        if (*ps->p == '#') {
            while (*ps->p != '\n' && *ps->p != '\0')
                ps->p++;
        }
        if (*ps->p != '\n')
            return;
        ps->p++;
    }
}

static bool is_bare_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static void sbuf_push(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->ptr = xrealloc(b->ptr, cap);
        b->cap = cap;
    }
    memcpy(b->ptr + b->len, s, n);
    b->len += n;
    b->ptr[b->len] = '\0';
}

static void sbuf_push_utf8(struct sbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    sbuf_push(b, u, n);
}

/* --- strings ------------------------------------------------------------------------------ */

/* One escape sequence after the backslash at ps->p; appends its character. */
static int parse_escape(struct parser *ps, struct sbuf *b)
{
    const char *start = ps->p;
    char c = ps->p[1];
    char out;
    switch (c) {
    case 'b':
        out = '\b';
        break;
    case 't':
        out = '\t';
        break;
    case 'n':
        out = '\n';
        break;
    case 'f':
        out = '\f';
        break;
    case 'r':
        out = '\r';
        break;
    case '"':
        out = '"';
        break;
    case '\\':
        out = '\\';
        break;
    case 'u':
    case 'U': {
        int digits = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int i = 0; i < digits; i++) {
            char h = ps->p[2 + i];
            int d = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                           : -1;
            if (d < 0)
                return fail(ps, start, "\\%c escape needs exactly %d hexadecimal digits", c,
                            digits);
            cp = cp * 16 + (uint32_t)d;
        }
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return fail(ps, start, "\\%c escape is not a Unicode scalar value (U+%X)", c,
                        (unsigned)cp);
        sbuf_push_utf8(b, cp);
        ps->p += 2 + digits;
        return 0;
    }
    default:
        if (c > 0x20 && c < 0x7f)
            return fail(ps, start, "invalid escape sequence \\%c", c);
        return fail(ps, start, "invalid escape sequence");
    }
    sbuf_push(b, &out, 1);
    ps->p += 2;
    return 0;
}

/* Counts the run of quote characters q at ps->p. */
static size_t quote_run(const char *s, char q)
{
    size_t n = 0;
    while (s[n] == q)
        n++;
    return n;
}

/* A string of any of the four kinds at ps->p into *out (owned by the caller on success).
 * allow_multiline is false for keys. */
static int parse_string(struct parser *ps, bool allow_multiline, char **out, size_t *out_len)
{
    const char *start = ps->p;
    char q = *ps->p;
    bool literal = q == '\'';
    bool multi = ps->p[1] == q && ps->p[2] == q;
    struct sbuf b = {0};
    int rc;
    sbuf_push(&b, "", 0);
    if (multi) {
        if (!allow_multiline) {
            rc = fail(ps, start, "a multi-line string cannot be a key");
            goto err;
        }
        ps->p += 3;
        if (*ps->p == '\n')
            ps->p++; /* a newline right after the opening delimiter is trimmed */
    } else {
        ps->p++;
    }
    for (;;) {
        const char *c = ps->p;
        if (*c == '\0' || (*c == '\n' && !multi)) {
            rc = fail(ps, start, "unterminated string");
            goto err;
        }
        if (*c == q) {
            if (!multi) {
                ps->p++;
                break;
            }
            size_t n = quote_run(c, q);
            if (n < 3) {
                sbuf_push(&b, c, n);
                ps->p += n;
                continue;
            }
            if (n > 5) {
                rc = fail(ps, c, "too many quotes at the end of a multi-line string");
                goto err;
            }
            sbuf_push(&b, c, n - 3); /* up to two quotes may precede the closing delimiter */
            ps->p += n;
            break;
        }
        if (*c == '\\' && !literal) {
            if (multi) {
                const char *w = c + 1;
                while (*w == ' ' || *w == '\t')
                    w++;
                if (*w == '\n') { /* line-ending backslash: drop all whitespace up to text */
                    while (*w == ' ' || *w == '\t' || *w == '\n')
                        w++;
                    ps->p = w;
                    continue;
                }
            }
            if ((rc = parse_escape(ps, &b)) != 0)
                goto err;
            continue;
        }
        sbuf_push(&b, c, 1);
        ps->p++;
    }
    *out = b.ptr;
    *out_len = b.len;
    return 0;
err:
    free(b.ptr);
    return rc;
}

/* --- keys --------------------------------------------------------------------------------- */

static void key_path_clear(struct key_path *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->seg[i].ptr);
    k->n = 0;
}

/* A simple or dotted key at ps->p. depth is the nesting of the table it is relative to. */
static int parse_key(struct parser *ps, struct key_path *k, int depth)
{
    int rc;
    k->n = 0;
    for (;;) {
        if (depth + k->n >= TOML_MAX_DEPTH) {
            rc = fail(ps, ps->p, "key nests too deeply (more than %d levels)", TOML_MAX_DEPTH);
            goto err;
        }
        struct key_seg *seg = &k->seg[k->n];
        seg->at = ps->p;
        position(ps, seg->at, &seg->line, &seg->col); /* now: positions are found in order */
        if (*ps->p == '"' || *ps->p == '\'') {
            if ((rc = parse_string(ps, false, &seg->ptr, &seg->len)) != 0)
                goto err;
        } else {
            const char *s = ps->p;
            while (is_bare_key_char(*ps->p))
                ps->p++;
            if (ps->p == s) {
                rc = fail(ps, s, "expected a key");
                goto err;
            }
            seg->len = (size_t)(ps->p - s);
            seg->ptr = xstrndup(s, seg->len);
        }
        k->n++;
        skip_ws(ps);
        if (*ps->p != '.')
            return 0;
        ps->p++;
        skip_ws(ps);
    }
err:
    key_path_clear(k);
    return rc;
}

/* --- values ------------------------------------------------------------------------------- */

static int parse_value(struct parser *ps, struct toml_value *v, int depth);
static int parse_keyval(struct parser *ps, struct ptable *t, int depth);

static int parse_array(struct parser *ps, struct toml_value *v, int depth)
{
    struct parray *a = array_new(false);
    v->type = TOML_ARRAY;
    v->u.array = &a->pub;
    ps->p++;
    for (;;) {
        skip_ws_nl_comments(ps);
        if (*ps->p == ']')
            break;
        if (*ps->p == '\0')
            return fail(ps, ps->p, "unterminated array");
        /* On failure the element stays in the array, which frees what it holds. */
        int rc = parse_value(ps, array_push(a), depth + 1);
        if (rc != 0)
            return rc;
        skip_ws_nl_comments(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == ']')
            break;
        return fail(ps, ps->p, *ps->p ? "expected ',' or ']' in array" : "unterminated array");
    }
    ps->p++;
    return 0;
}

static int parse_inline_table(struct parser *ps, struct toml_value *v, int depth)
{
    struct ptable *t = table_new(TK_DOTTED);
    v->type = TOML_TABLE;
    v->u.table = &t->pub;
    ps->p++;
    skip_ws(ps);
    if (*ps->p != '}') {
        for (;;) {
            if (*ps->p == '\n' || *ps->p == '\0')
                return fail(ps, ps->p, "inline table must end on the line it starts ('}')");
            int rc = parse_keyval(ps, t, depth);
            if (rc != 0)
                return rc;
            skip_ws(ps);
            if (*ps->p == ',') {
                ps->p++;
                skip_ws(ps);
                if (*ps->p == '}')
                    return fail(ps, ps->p, "trailing comma in inline table");
                continue;
            }
            if (*ps->p == '}')
                break;
            if (*ps->p == '\n' || *ps->p == '\0')
                return fail(ps, ps->p, "inline table must end on the line it starts ('}')");
            return fail(ps, ps->p, "expected ',' or '}' in inline table");
        }
    }
    ps->p++;
    t->kind = TK_INLINE;
    return 0;
}

/* What may follow a scalar value: whitespace, a comment, a line end or a separator. */
static bool ends_value(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\0' || c == '#' || c == ',' || c == ']' ||
           c == '}';
}

/* Any value at ps->p into *v (zeroed by the caller). On failure *v owns what it holds. */
static int parse_value(struct parser *ps, struct toml_value *v, int depth)
{
    position(ps, ps->p, &v->line, &v->col);
    if (depth >= TOML_MAX_DEPTH)
        return fail(ps, ps->p, "value nests too deeply (more than %d levels)", TOML_MAX_DEPTH);
    char c = *ps->p;
    if (c == '"' || c == '\'') {
        char *s;
        size_t len;
        int rc = parse_string(ps, true, &s, &len);
        if (rc != 0)
            return rc;
        v->type = TOML_STRING;
        v->u.str.ptr = s;
        v->u.str.len = len;
        return 0;
    }
    if (c == '[')
        return parse_array(ps, v, depth);
    if (c == '{')
        return parse_inline_table(ps, v, depth);
    if (c == '\n' || c == '\0' || c == '#')
        return fail(ps, ps->p, "expected a value");
    const char *end, *why, *why_at;
    struct toml_value tmp = {0};
    if (toml_scan_scalar(ps->p, &tmp, &end, &why, &why_at) != 0)
        return fail(ps, why_at, "%s", why);
    if (!ends_value(*end))
        return fail(ps, end, "unexpected character after value");
    v->type = tmp.type;
    v->u = tmp.u;
    ps->p = end;
    return 0;
}

/* --- tables ------------------------------------------------------------------------------- */

/* "a" or "an", for a type name in a message. */
static const char *article(const char *word)
{
    return strchr("aeiou", word[0]) != NULL ? "an" : "a";
}

static int not_a_table(struct parser *ps, struct key_seg *seg, const struct toml_value *v)
{
    char kb[80];
    const char *type = toml_type_name(v->type);
    return fail(ps, seg->at, "key '%s' is already defined as %s %s, not a table",
                show_key(seg->ptr, seg->len, kb, sizeof kb), article(type), type);
}

/* The table reached from t by one segment of a dotted key, created if missing. */
static int descend_dotted(struct parser *ps, struct ptable *t, struct key_seg *seg,
                          struct ptable **out)
{
    char kb[80];
    struct toml_value *v = table_find(t, seg->ptr, seg->len);
    if (v == NULL) {
        *out = table_add_table(t, seg, TK_DOTTED);
        return 0;
    }
    if (v->type != TOML_TABLE)
        return not_a_table(ps, seg, v);
    struct ptable *sub = (struct ptable *)v->u.table;
    switch (sub->kind) {
    case TK_DOTTED:
        break;
    case TK_IMPLICIT:
        sub->kind = TK_DOTTED; /* now defined here, by dotted keys; no header may define it */
        break;
    case TK_INLINE:
        return fail(ps, seg->at, "cannot add keys to inline table '%s'",
                    show_key(seg->ptr, seg->len, kb, sizeof kb));
    default:
        return fail(ps, seg->at,
                    "cannot add keys to table '%s' with a dotted key: it is defined "
                    "by a [header]",
                    show_key(seg->ptr, seg->len, kb, sizeof kb));
    }
    *out = sub;
    return 0;
}

/* key = value into t; depth is t's nesting. */
static int parse_keyval(struct parser *ps, struct ptable *t, int depth)
{
    struct key_path k;
    char kb[80];
    int rc = parse_key(ps, &k, depth);
    if (rc != 0)
        return rc;
    if (*ps->p != '=') {
        rc = fail(ps, ps->p, "expected '=' after the key");
        goto err;
    }
    ps->p++;
    skip_ws(ps);
    for (int i = 0; i + 1 < k.n; i++) {
        if ((rc = descend_dotted(ps, t, &k.seg[i], &t)) != 0)
            goto err;
    }
    struct key_seg *last = &k.seg[k.n - 1];
    if (table_find(t, last->ptr, last->len) != NULL) {
        rc =
            fail(ps, last->at, "duplicate key '%s'", show_key(last->ptr, last->len, kb, sizeof kb));
        goto err;
    }
    struct toml_value v = {0};
    if ((rc = parse_value(ps, &v, depth + k.n)) != 0) {
        value_clear(&v);
        goto err;
    }
    table_add(t, last, &v);
    key_path_clear(&k);
    return 0;
err:
    key_path_clear(&k);
    return rc;
}

/* The table reached from t by one segment of a header's key, created implicitly if missing. */
static int descend_header(struct parser *ps, struct ptable *t, struct key_seg *seg,
                          struct ptable **out)
{
    char kb[80];
    struct toml_value *v = table_find(t, seg->ptr, seg->len);
    if (v == NULL) {
        *out = table_add_table(t, seg, TK_IMPLICIT);
        return 0;
    }
    if (v->type == TOML_ARRAY) {
        struct parray *a = (struct parray *)v->u.array;
        if (!a->of_tables)
            return fail(ps, seg->at, "key '%s' is a static array, not a table or array of tables",
                        show_key(seg->ptr, seg->len, kb, sizeof kb));
        *out = (struct ptable *)a->pub.items[a->pub.len - 1].u.table; /* the latest element */
        return 0;
    }
    if (v->type != TOML_TABLE)
        return not_a_table(ps, seg, v);
    struct ptable *sub = (struct ptable *)v->u.table;
    if (sub->kind == TK_INLINE)
        return fail(ps, seg->at, "cannot extend inline table '%s'",
                    show_key(seg->ptr, seg->len, kb, sizeof kb));
    *out = sub;
    return 0;
}

/* [table] or [[array of tables]] at ps->p; makes it the current table. */
static int parse_header(struct parser *ps)
{
    const char *start = ps->p;
    int start_line, start_col;
    position(ps, start, &start_line, &start_col);
    bool aot = ps->p[1] == '[';
    struct key_path k;
    char kb[80];
    int rc;
    ps->p += aot ? 2 : 1;
    skip_ws(ps);
    if ((rc = parse_key(ps, &k, 0)) != 0)
        return rc;
    if (*ps->p != ']' || (aot && ps->p[1] != ']')) {
        rc = fail(ps, ps->p,
                  aot ? "expected ']]' to close the array of tables header"
                      : "expected ']' to close the table header");
        goto err;
    }
    ps->p += aot ? 2 : 1;
    ps->cur_depth = k.n;
    struct ptable *t = ps->root;
    for (int i = 0; i + 1 < k.n; i++) {
        if ((rc = descend_header(ps, t, &k.seg[i], &t)) != 0)
            goto err;
    }
    struct key_seg *last = &k.seg[k.n - 1];
    const char *name = show_key(last->ptr, last->len, kb, sizeof kb);
    struct toml_value *v = table_find(t, last->ptr, last->len);
    if (aot) {
        struct parray *a;
        if (v == NULL) {
            a = array_new(true);
            struct toml_value av = {.type = TOML_ARRAY, .u.array = &a->pub};
            av.line = start_line;
            av.col = start_col;
            table_add(t, last, &av);
        } else if (v->type == TOML_ARRAY && ((struct parray *)v->u.array)->of_tables) {
            a = (struct parray *)v->u.array;
        } else if (v->type == TOML_ARRAY) {
            rc = fail(ps, last->at, "cannot append to static array '%s' with [[%s]]", name, name);
            goto err;
        } else {
            const char *type = toml_type_name(v->type);
            rc = fail(ps, last->at, "'%s' is already defined as %s %s, not an array of tables",
                      name, article(type), type);
            goto err;
        }
        struct ptable *elem = table_new(TK_HEADER);
        struct toml_value *ev = array_push(a);
        ev->type = TOML_TABLE;
        ev->u.table = &elem->pub;
        ev->line = start_line;
        ev->col = start_col;
        ps->cur = elem;
    } else if (v == NULL) {
        ps->cur = table_add_table(t, last, TK_HEADER);
        struct toml_value *nv = &t->pub.items[t->pub.len - 1].value;
        nv->line = start_line;
        nv->col = start_col;
    } else if (v->type == TOML_TABLE) {
        struct ptable *sub = (struct ptable *)v->u.table;
        switch (sub->kind) {
        case TK_IMPLICIT:
            sub->kind = TK_HEADER; /* a super-table defined after its sub-tables */
            v->line = start_line;
            v->col = start_col;
            ps->cur = sub;
            break;
        case TK_DOTTED:
            rc = fail(ps, start, "table '%s' was already defined by dotted keys", name);
            goto err;
        case TK_INLINE:
            rc = fail(ps, start, "table '%s' was already defined as an inline table", name);
            goto err;
        default:
            rc = fail(ps, start, "table '%s' defined twice", name);
            goto err;
        }
    } else if (v->type == TOML_ARRAY) {
        rc = fail(ps, start, "'%s' is an array; [%s] cannot define it as a table", name, name);
        goto err;
    } else {
        rc = not_a_table(ps, last, v);
        goto err;
    }
    key_path_clear(&k);
    return 0;
err:
    key_path_clear(&k);
    return rc;
}

/* --- document ----------------------------------------------------------------------------- */

static int parse_document(struct parser *ps)
{
    for (;;) {
        skip_ws(ps);
        char c = *ps->p;
        if (c == '\0')
            return 0;
        if (c == '\n') {
            ps->p++;
            continue;
        }
        if (c != '#') {
            int rc = c == '[' ? parse_header(ps) : parse_keyval(ps, ps->cur, ps->cur_depth);
            if (rc != 0)
                return rc;
            skip_ws(ps);
        }
        if (*ps->p == '#') {
            while (*ps->p != '\n' && *ps->p != '\0')
                ps->p++;
        }
        if (*ps->p != '\n' && *ps->p != '\0')
            return fail(ps, ps->p, "expected a newline after %s",
                        c == '[' ? "the table header" : "the value");
    }
}

int toml_parse_buffer(const char *buf, size_t len, const char *filename, struct toml_table **out,
                      struct toml_error *err)
{
    char *src;
    *out = NULL;
    int rc = toml_normalise_input(buf, len, filename, &src, err);
    if (rc != 0)
        return rc;
    struct parser ps = {
        .src = src,
        .p = src,
        .filename = filename,
        .err = err,
        .root = table_new(TK_ROOT),
        .lc_at = src,
        .lc_line_start = src,
        .lc_line = 1,
    };
    ps.cur = ps.root;
    rc = parse_document(&ps);
    free(src);
    if (rc != 0) {
        toml_free(&ps.root->pub);
        return rc;
    }
    if (err != NULL) {
        err->line = 0;
        err->col = 0;
        err->msg[0] = '\0';
    }
    *out = &ps.root->pub;
    return 0;
}

int toml_parse_file(const char *path, struct toml_table **out, struct toml_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0, cap = 0;
    int rc;
    if (f == NULL)
        goto io_err;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            data = xrealloc(data, cap);
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f))
        goto io_err;
    fclose(f);
    rc = toml_parse_buffer(data, len, path, out, err);
    free(data);
    return rc;
io_err:;
    int e = errno;
    if (err != NULL) {
        char why[128];
        if (strerror_r(e, why, sizeof why) != 0)
            snprintf(why, sizeof why, "error %d", e);
        err->line = 0;
        err->col = 0;
        snprintf(err->msg, sizeof err->msg, "%s: cannot read: %s", path, why);
    }
    if (f != NULL)
        fclose(f);
    free(data);
    return TOML_EIO;
}
