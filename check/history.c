/* history.c - reads a client history: a strict JSON Lines parser for flat objects, then pairing of
 * invokes with completions by process. Every string lives in one chunked arena owned by the
 * history.
 */
#include "check/history.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hash.h"

#define CHUNK_BYTES    (64u * 1024u)
#define JSON_MAX_DEPTH 64 /* nesting allowed inside the value of an unknown field */
#define MSG_BYTES      256

/* --- string arena: strings never move once stored ---------------------------------------- */

struct check_history_chunk {
    struct check_history_chunk *next;
    size_t used;
    size_t cap;
    char bytes[];
};

static const char *arena_copy(struct check_history *h, const char *s, size_t len)
{
    struct check_history_chunk *c = h->chunks;
    if (c == NULL || c->cap - c->used < len) {
        size_t cap = len > CHUNK_BYTES ? len : CHUNK_BYTES;
        c = xmalloc(sizeof *c + cap);
        c->used = 0;
        c->cap = cap;
        c->next = h->chunks;
        h->chunks = c;
    }
    char *dst = c->bytes + c->used;
    if (len > 0)
        memcpy(dst, s, len);
    c->used += len;
    return dst;
}

/* --- names --------------------------------------------------------------------------------- */

const char *check_strerror(int rc)
{
    switch (rc) {
    case 0:
        return "ok";
    case CHECK_EIO:
        return "cannot read the history";
    case CHECK_ESYNTAX:
        return "malformed history line";
    case CHECK_EHISTORY:
        return "history breaks the format contract";
    default:
        return "unknown error";
    }
}

const char *check_f_name(enum check_f f)
{
    switch (f) {
    case CHECK_F_PUT:
        return "put";
    case CHECK_F_GET:
        return "get";
    case CHECK_F_DELETE:
        return "delete";
    }
    return "?";
}

const char *check_type_name(enum check_type type)
{
    switch (type) {
    case CHECK_OK:
        return "ok";
    case CHECK_FAIL:
        return "fail";
    case CHECK_INFO:
        return "info";
    }
    return "?";
}

const char *check_res_name(enum check_res res)
{
    switch (res) {
    case CHECK_RES_NONE:
        return "none";
    case CHECK_RES_OK:
        return "ok";
    case CHECK_RES_EXISTS:
        return "exists";
    case CHECK_RES_FOUND:
        return "found";
    case CHECK_RES_NOT_FOUND:
        return "not_found";
    }
    return "?";
}

/* --- one JSON object per line ---------------------------------------------------------------- */

/* A known field of a line. Strings are decoded into the line's scratch buffer. */
struct field {
    bool present;
    bool is_string;
    const char *s;
    size_t len;
    uint64_t u; /* integers only */
};

enum field_id {
    F_PROCESS,
    F_TYPE,
    F_F,
    F_KEY,
    F_VALUE,
    F_RESULT,
    F_TIME,
    F_ERROR,
    F_STALE,
    F_COUNT
};
static const char *const field_names[F_COUNT] = {"process", "type", "f",     "key",  "value",
                                                 "result",  "time", "error", "stale"};
enum field_kind { K_UINT, K_STRING, K_BOOL };
static const enum field_kind field_kind[F_COUNT] = {
    K_UINT, K_STRING, K_STRING, K_STRING, K_STRING, K_STRING, K_UINT, K_STRING, K_BOOL};

struct lexer {
    const char *p;
    const char *start;
    const char *end;
    char *scratch; /* at least end - start bytes: a decoded string is never longer than its text */
    size_t scratch_used;
    char msg[MSG_BYTES];
};

static int lex_error(struct lexer *lx, const char *fmt, ...)
{
    char text[MSG_BYTES - 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(lx->msg, sizeof lx->msg, "column %zu: %s", (size_t)(lx->p - lx->start) + 1, text);
    return -1;
}

static void skip_ws(struct lexer *lx)
{
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
        lx->p++;
}

static int hex4(struct lexer *lx, unsigned *out)
{
    if (lx->end - lx->p < 4)
        return lex_error(lx, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = lx->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return lex_error(lx, "bad hex digit in \\u escape");
    }
    lx->p += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xc0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xe0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        dst[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    dst[0] = (char)(0xf0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    dst[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A JSON string at lx->p (the opening quote); decoded into scratch. Raw bytes >= 0x20 pass
 * through unvalidated (the writer copies values byte for byte). */
static int lex_string(struct lexer *lx, const char **out, size_t *out_len)
{
    assert(lx->p < lx->end && *lx->p == '"');
    lx->p++;
    char *dst = lx->scratch + lx->scratch_used;
    size_t n = 0;
    for (;;) {
        if (lx->p >= lx->end)
            return lex_error(lx, "unterminated string");
        unsigned char c = (unsigned char)*lx->p;
        if (c == '"') {
            lx->p++;
            break;
        }
        if (c < 0x20)
            return lex_error(lx, "control character 0x%02x in a string", c);
        if (c != '\\') {
            dst[n++] = (char)c;
            lx->p++;
            continue;
        }
        const char *esc = lx->p; /* errors point at the backslash */
        lx->p++;
        if (lx->p >= lx->end)
            return lex_error(lx, "unterminated escape");
        char e = *lx->p++;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            dst[n++] = e;
            break;
        case 'b':
            dst[n++] = '\b';
            break;
        case 'f':
            dst[n++] = '\f';
            break;
        case 'n':
            dst[n++] = '\n';
            break;
        case 'r':
            dst[n++] = '\r';
            break;
        case 't':
            dst[n++] = '\t';
            break;
        case 'u': {
            unsigned cp;
            if (hex4(lx, &cp) != 0)
                return -1;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                lx->p = esc;
                return lex_error(lx, "lone low surrogate in \\u escape");
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo;
                if (lx->end - lx->p < 2 || lx->p[0] != '\\' || lx->p[1] != 'u') {
                    lx->p = esc;
                    return lex_error(lx, "high surrogate without a low one");
                }
                lx->p += 2;
                if (hex4(lx, &lo) != 0)
                    return -1;
                if (lo < 0xdc00 || lo > 0xdfff) {
                    lx->p = esc;
                    return lex_error(lx, "high surrogate without a low one");
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            /* 6 escape bytes decode to at most 3 (4 from 12): never longer than the text */
            n += put_utf8(dst + n, cp);
            break;
        }
        default:
            lx->p = esc;
            return lex_error(lx, "unknown escape \\%c", e);
        }
    }
    lx->scratch_used += n;
    *out = dst;
    *out_len = n;
    return 0;
}

/* A JSON number. Sets *is_uint and *u when it is a non-negative integer that fits in 64 bits. */
static int lex_number(struct lexer *lx, bool *is_uint, uint64_t *u, bool *overflow)
{
    bool neg = false, frac = false;
    uint64_t v = 0;
    *overflow = false;
    if (*lx->p == '-') {
        neg = true;
        lx->p++;
    }
    if (lx->p >= lx->end || *lx->p < '0' || *lx->p > '9')
        return lex_error(lx, "malformed number");
    if (*lx->p == '0' && lx->end - lx->p > 1 && lx->p[1] >= '0' && lx->p[1] <= '9')
        return lex_error(lx, "number with a leading zero");
    while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9') {
        unsigned d = (unsigned)(*lx->p - '0');
        if (v > (UINT64_MAX - d) / 10)
            *overflow = true;
        else
            v = v * 10 + d;
        lx->p++;
    }
    if (lx->p < lx->end && *lx->p == '.') {
        frac = true;
        lx->p++;
        if (lx->p >= lx->end || *lx->p < '0' || *lx->p > '9')
            return lex_error(lx, "malformed number");
        while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9')
            lx->p++;
    }
    if (lx->p < lx->end && (*lx->p == 'e' || *lx->p == 'E')) {
        frac = true;
        lx->p++;
        if (lx->p < lx->end && (*lx->p == '+' || *lx->p == '-'))
            lx->p++;
        if (lx->p >= lx->end || *lx->p < '0' || *lx->p > '9')
            return lex_error(lx, "malformed number");
        while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9')
            lx->p++;
    }
    *is_uint = !neg && !frac && !*overflow;
    *u = v;
    return 0;
}

static int lex_literal(struct lexer *lx, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, word, n) != 0)
        return lex_error(lx, "unexpected character '%c'", *lx->p);
    lx->p += n;
    return 0;
}

/* Skips any JSON value (the value of a field the checker does not use). */
static int skip_value(struct lexer *lx, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return lex_error(lx, "nesting deeper than %d", JSON_MAX_DEPTH);
    skip_ws(lx);
    if (lx->p >= lx->end)
        return lex_error(lx, "expected a value");
    char c = *lx->p;
    if (c == '"') {
        const char *s;
        size_t len;
        size_t mark = lx->scratch_used;
        int rc = lex_string(lx, &s, &len);
        lx->scratch_used = mark;
        return rc;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        bool is_uint, overflow;
        uint64_t u;
        return lex_number(lx, &is_uint, &u, &overflow);
    }
    if (c == 't')
        return lex_literal(lx, "true");
    if (c == 'f')
        return lex_literal(lx, "false");
    if (c == 'n')
        return lex_literal(lx, "null");
    if (c != '[' && c != '{')
        return lex_error(lx, "unexpected character '%c'", c);
    char close = c == '[' ? ']' : '}';
    lx->p++;
    skip_ws(lx);
    if (lx->p < lx->end && *lx->p == close) {
        lx->p++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            skip_ws(lx);
            if (lx->p >= lx->end || *lx->p != '"')
                return lex_error(lx, "expected a member name");
            if (skip_value(lx, depth + 1) != 0)
                return -1;
            skip_ws(lx);
            if (lx->p >= lx->end || *lx->p != ':')
                return lex_error(lx, "expected ':'");
            lx->p++;
        }
        if (skip_value(lx, depth + 1) != 0)
            return -1;
        skip_ws(lx);
        if (lx->p < lx->end && *lx->p == ',') {
            lx->p++;
            continue;
        }
        if (lx->p < lx->end && *lx->p == close) {
            lx->p++;
            return 0;
        }
        return lex_error(lx, "expected ',' or '%c'", close);
    }
}

static int known_field(const char *name, size_t len)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strlen(field_names[i]) == len && memcmp(field_names[i], name, len) == 0)
            return i;
    return -1;
}

/* One line: a JSON object whose known fields go to f[]; unknown fields may hold any value. */
static int parse_object(struct lexer *lx, struct field f[F_COUNT])
{
    memset(f, 0, sizeof(struct field) * F_COUNT);
    skip_ws(lx);
    if (lx->p >= lx->end || *lx->p != '{')
        return lex_error(lx, "expected a JSON object '{'");
    lx->p++;
    skip_ws(lx);
    if (lx->p < lx->end && *lx->p == '}') {
        lx->p++;
        goto done;
    }
    for (;;) {
        skip_ws(lx);
        if (lx->p >= lx->end || *lx->p != '"')
            return lex_error(lx, "expected a member name in quotes");
        const char *name_at = lx->p; /* errors about a field point at its name or value */
        const char *name;
        size_t name_len;
        size_t mark = lx->scratch_used;
        if (lex_string(lx, &name, &name_len) != 0)
            return -1;
        int id = known_field(name, name_len);
        lx->scratch_used = mark;
        skip_ws(lx);
        if (lx->p >= lx->end || *lx->p != ':')
            return lex_error(lx, "expected ':'");
        lx->p++;
        skip_ws(lx);
        if (id < 0) {
            if (skip_value(lx, 1) != 0)
                return -1;
        } else {
            struct field *fd = &f[id];
            const char *value_at = lx->p;
            if (fd->present) {
                lx->p = name_at;
                return lex_error(lx, "duplicate field \"%s\"", field_names[id]);
            }
            fd->present = true;
            if (field_kind[id] == K_BOOL) {
                size_t left = (size_t)(lx->end - lx->p);
                if (left >= 4 && memcmp(lx->p, "true", 4) == 0) {
                    fd->u = 1;
                    lx->p += 4;
                } else if (left >= 5 && memcmp(lx->p, "false", 5) == 0) {
                    lx->p += 5;
                } else {
                    return lex_error(lx, "\"%s\" must be true or false", field_names[id]);
                }
            } else if (field_kind[id] == K_STRING) {
                if (lx->p >= lx->end || *lx->p != '"')
                    return lex_error(lx, "\"%s\" must be a string", field_names[id]);
                fd->is_string = true;
                if (lex_string(lx, &fd->s, &fd->len) != 0)
                    return -1;
            } else {
                bool is_uint = false, overflow = false;
                if (lx->p >= lx->end || (*lx->p != '-' && (*lx->p < '0' || *lx->p > '9')))
                    return lex_error(lx, "\"%s\" must be an integer", field_names[id]);
                if (lex_number(lx, &is_uint, &fd->u, &overflow) != 0)
                    return -1;
                if (!is_uint) {
                    lx->p = value_at;
                    return lex_error(lx, "\"%s\" must be an integer in 0..2^64-1", field_names[id]);
                }
            }
        }
        skip_ws(lx);
        if (lx->p < lx->end && *lx->p == ',') {
            lx->p++;
            continue;
        }
        if (lx->p < lx->end && *lx->p == '}') {
            lx->p++;
            break;
        }
        return lex_error(lx, "expected ',' or '}'");
    }
done:
    skip_ws(lx);
    if (lx->p != lx->end)
        return lex_error(lx, "trailing characters after the object");
    return 0;
}

/* --- pairing ---------------------------------------------------------------------------------- */

/* process id -> the op it has in flight; open addressing, never shrinks (few processes). */
struct proc_slot {
    uint64_t process;
    bool used;
    bool in_flight;
    size_t op;
};

struct key_slot {
    uint64_t hash;
    uint32_t key; /* index + 1; 0 = empty */
};

struct parser {
    struct check_history *h;
    const char *name;
    uint32_t line;
    size_t ops_cap;
    size_t keys_cap;
    struct proc_slot *procs;
    size_t procs_cap; /* power of two */
    size_t n_procs;
    struct key_slot *key_tab;
    size_t key_tab_cap; /* power of two */
    char *err;
    size_t err_len;
};

static int perr(struct parser *ps, int rc, const char *fmt, ...)
{
    char text[MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (ps->err_len > 0)
        snprintf(ps->err, ps->err_len, "%s:%u: %s", ps->name, ps->line, text);
    return rc;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    return mix64(hash_fnv1a(HASH_FNV1A_START, s, len));
}

static struct proc_slot *proc_find(struct parser *ps, uint64_t process)
{
    if (2 * (ps->n_procs + 1) > ps->procs_cap) {
        size_t cap = ps->procs_cap ? 2 * ps->procs_cap : 64;
        struct proc_slot *tab = xcalloc(cap, sizeof *tab);
        for (size_t i = 0; i < ps->procs_cap; i++) {
            if (!ps->procs[i].used)
                continue;
            size_t j = mix64(ps->procs[i].process) & (cap - 1);
            while (tab[j].used)
                j = (j + 1) & (cap - 1);
            tab[j] = ps->procs[i];
        }
        free(ps->procs);
        ps->procs = tab;
        ps->procs_cap = cap;
    }
    size_t j = mix64(process) & (ps->procs_cap - 1);
    while (ps->procs[j].used && ps->procs[j].process != process)
        j = (j + 1) & (ps->procs_cap - 1);
    if (!ps->procs[j].used) {
        ps->procs[j].used = true;
        ps->procs[j].process = process;
        ps->n_procs++;
    }
    return &ps->procs[j];
}

static uint32_t key_intern(struct parser *ps, const char *s, size_t len)
{
    struct check_history *h = ps->h;
    if (2 * (h->n_keys + 1) > ps->key_tab_cap) {
        size_t cap = ps->key_tab_cap ? 2 * ps->key_tab_cap : 64;
        struct key_slot *tab = xcalloc(cap, sizeof *tab);
        for (size_t i = 0; i < ps->key_tab_cap; i++) {
            if (ps->key_tab[i].key == 0)
                continue;
            size_t j = ps->key_tab[i].hash & (cap - 1);
            while (tab[j].key != 0)
                j = (j + 1) & (cap - 1);
            tab[j] = ps->key_tab[i];
        }
        free(ps->key_tab);
        ps->key_tab = tab;
        ps->key_tab_cap = cap;
    }
    uint64_t hash = hash_bytes(s, len);
    size_t j = hash & (ps->key_tab_cap - 1);
    while (ps->key_tab[j].key != 0) {
        const struct check_key *k = &h->keys[ps->key_tab[j].key - 1];
        if (ps->key_tab[j].hash == hash && k->len == len && memcmp(k->bytes, s, len) == 0)
            return ps->key_tab[j].key - 1;
        j = (j + 1) & (ps->key_tab_cap - 1);
    }
    if (h->n_keys == ps->keys_cap) {
        ps->keys_cap = ps->keys_cap ? 2 * ps->keys_cap : 16;
        h->keys = xreallocarray(h->keys, ps->keys_cap, sizeof *h->keys);
    }
    assert(h->n_keys < UINT32_MAX);
    uint32_t idx = (uint32_t)h->n_keys++;
    h->keys[idx].bytes = arena_copy(h, s, len);
    h->keys[idx].len = len;
    ps->key_tab[j].hash = hash;
    ps->key_tab[j].key = idx + 1;
    return idx;
}

static bool str_is(const struct field *fd, const char *word)
{
    return fd->len == strlen(word) && memcmp(fd->s, word, fd->len) == 0;
}

/* Prints at most 40 bytes of a field's string for a message, escaping what is not printable. */
static const char *shown(const struct field *fd, char buf[64])
{
    size_t n = 0;
    for (size_t i = 0; i < fd->len && n < 40; i++) {
        unsigned char c = (unsigned char)fd->s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            buf[n++] = (char)c;
        } else {
            snprintf(buf + n, 5, "\\x%02x", c);
            n += 4;
        }
    }
    if (n >= 40 && fd->len > 40) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static bool same_key(const struct check_history *h, uint32_t key, const struct field *fd)
{
    const struct check_key *k = &h->keys[key];
    return k->len == fd->len && memcmp(k->bytes, fd->s, fd->len) == 0;
}

static int parse_result(struct parser *ps, enum check_f f, const struct field *fd,
                        enum check_res *out)
{
    char b[64];
    static const char *const names[] = {"ok", "exists", "found", "not_found"};
    static const enum check_res codes[] = {CHECK_RES_OK, CHECK_RES_EXISTS, CHECK_RES_FOUND,
                                           CHECK_RES_NOT_FOUND};
    for (size_t i = 0; i < 4; i++) {
        if (!str_is(fd, names[i]))
            continue;
        enum check_res r = codes[i];
        bool fits = (f == CHECK_F_PUT && (r == CHECK_RES_OK || r == CHECK_RES_EXISTS)) ||
                    (f == CHECK_F_GET && (r == CHECK_RES_FOUND || r == CHECK_RES_NOT_FOUND)) ||
                    (f == CHECK_F_DELETE && (r == CHECK_RES_OK || r == CHECK_RES_NOT_FOUND));
        if (!fits)
            return perr(ps, CHECK_EHISTORY, "result \"%s\" is not a result of %s", names[i],
                        check_f_name(f));
        *out = r;
        return 0;
    }
    return perr(ps, CHECK_EHISTORY, "unknown result \"%s\"", shown(fd, b));
}

static int on_invoke(struct parser *ps, const struct field *f, enum check_f fn, uint64_t process)
{
    struct check_history *h = ps->h;
    struct proc_slot *slot = proc_find(ps, process);
    if (slot->in_flight)
        return perr(ps, CHECK_EHISTORY,
                    "process %llu invokes while its %s from line %u is still in flight",
                    (unsigned long long)process, check_f_name(h->ops[slot->op].f),
                    h->ops[slot->op].invoke_line);
    if (f[F_RESULT].present)
        return perr(ps, CHECK_EHISTORY, "an invoke has no \"result\"");
    if (fn == CHECK_F_PUT && !f[F_VALUE].present)
        return perr(ps, CHECK_EHISTORY, "missing field \"value\" (put invoke)");
    if (fn != CHECK_F_PUT && f[F_VALUE].present)
        return perr(ps, CHECK_EHISTORY, "a %s invoke has no \"value\"", check_f_name(fn));
    if (h->n_ops >= UINT32_MAX - 1)
        return perr(ps, CHECK_EHISTORY, "more than 2^32-2 operations");
    if (h->n_ops == ps->ops_cap) {
        ps->ops_cap = ps->ops_cap ? 2 * ps->ops_cap : 1024;
        h->ops = xreallocarray(h->ops, ps->ops_cap, sizeof *h->ops);
    }
    struct check_op *op = &h->ops[h->n_ops];
    memset(op, 0, sizeof *op);
    op->process = process;
    op->f = fn;
    op->type = CHECK_INFO; /* until a completion says otherwise */
    op->key = key_intern(ps, f[F_KEY].s, f[F_KEY].len);
    if (fn == CHECK_F_PUT) {
        op->value = arena_copy(h, f[F_VALUE].s, f[F_VALUE].len);
        op->value_len = f[F_VALUE].len;
    }
    op->invoke_ns = f[F_TIME].u;
    op->complete_ns = UINT64_MAX;
    op->invoke_line = ps->line;
    op->stale = f[F_STALE].u != 0;
    slot->in_flight = true;
    slot->op = h->n_ops++;
    return 0;
}

static int on_completion(struct parser *ps, const struct field *f, enum check_type type,
                         enum check_f fn, uint64_t process)
{
    struct check_history *h = ps->h;
    char b[64];
    struct proc_slot *slot = proc_find(ps, process);
    if (!slot->in_flight)
        return perr(ps, CHECK_EHISTORY, "%s for process %llu without an invoke",
                    check_type_name(type), (unsigned long long)process);
    struct check_op *op = &h->ops[slot->op];
    if (op->f != fn)
        return perr(ps, CHECK_EHISTORY, "%s is a %s but the invoke on line %u is a %s",
                    check_type_name(type), check_f_name(fn), op->invoke_line, check_f_name(op->f));
    if (!same_key(h, op->key, &f[F_KEY]))
        return perr(ps, CHECK_EHISTORY, "key \"%s\" differs from the invoke's on line %u",
                    shown(&f[F_KEY], b), op->invoke_line);
    if (f[F_TIME].u < op->invoke_ns)
        return perr(ps, CHECK_EHISTORY, "time %llu is before its invoke's time %llu (line %u)",
                    (unsigned long long)f[F_TIME].u, (unsigned long long)op->invoke_ns,
                    op->invoke_line);
    if (type == CHECK_OK) {
        if (!f[F_RESULT].present)
            return perr(ps, CHECK_EHISTORY, "missing field \"result\" (ok line)");
        enum check_res res = CHECK_RES_NONE;
        int rc = parse_result(ps, fn, &f[F_RESULT], &res);
        if (rc != 0)
            return rc;
        const struct field *v = &f[F_VALUE];
        if (fn == CHECK_F_PUT) {
            if (!v->present)
                return perr(ps, CHECK_EHISTORY, "missing field \"value\" (put ok)");
            if (v->len != op->value_len || memcmp(v->s, op->value, v->len) != 0)
                return perr(ps, CHECK_EHISTORY, "value \"%s\" differs from the invoke's on line %u",
                            shown(v, b), op->invoke_line);
        } else if (fn == CHECK_F_GET && res == CHECK_RES_FOUND) {
            if (!v->present)
                return perr(ps, CHECK_EHISTORY, "missing field \"value\" (get found)");
            op->value = arena_copy(h, v->s, v->len);
            op->value_len = v->len;
        } else if (v->present) {
            return perr(ps, CHECK_EHISTORY, "a %s %s has no \"value\"", check_f_name(fn),
                        check_res_name(res));
        }
        op->result = res;
    } else if (f[F_RESULT].present) {
        return perr(ps, CHECK_EHISTORY, "\"result\" is only allowed on ok lines");
    }
    /* A value on fail/info lines is allowed and ignored: the outcome is not a read. */
    op->type = type;
    op->stale = op->stale || f[F_STALE].u != 0;
    op->complete_ns = f[F_TIME].u;
    op->complete_line = ps->line;
    slot->in_flight = false;
    return 0;
}

static int on_line(struct parser *ps, const struct field *f)
{
    char b[64];
    for (int i = 0; i < F_COUNT; i++) {
        if (i == F_VALUE || i == F_RESULT || i == F_ERROR || i == F_STALE)
            continue;
        if (!f[i].present)
            return perr(ps, CHECK_EHISTORY, "missing field \"%s\"", field_names[i]);
    }
    enum check_f fn;
    if (str_is(&f[F_F], "put"))
        fn = CHECK_F_PUT;
    else if (str_is(&f[F_F], "get"))
        fn = CHECK_F_GET;
    else if (str_is(&f[F_F], "delete"))
        fn = CHECK_F_DELETE;
    else
        return perr(ps, CHECK_EHISTORY, "unknown f \"%s\" (put, get or delete)", shown(&f[F_F], b));
    if (f[F_STALE].u != 0 && fn != CHECK_F_GET)
        return perr(ps, CHECK_EHISTORY, "only a get can be \"stale\"");
    uint64_t process = f[F_PROCESS].u;
    if (str_is(&f[F_TYPE], "invoke"))
        return on_invoke(ps, f, fn, process);
    if (str_is(&f[F_TYPE], "ok"))
        return on_completion(ps, f, CHECK_OK, fn, process);
    if (str_is(&f[F_TYPE], "fail"))
        return on_completion(ps, f, CHECK_FAIL, fn, process);
    if (str_is(&f[F_TYPE], "info"))
        return on_completion(ps, f, CHECK_INFO, fn, process);
    return perr(ps, CHECK_EHISTORY, "unknown type \"%s\" (invoke, ok, fail or info)",
                shown(&f[F_TYPE], b));
}

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

int check_history_parse(const char *buf, size_t len, const char *name, struct check_history *out,
                        char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (err_len > 0)
        err[0] = '\0';
    struct parser ps = {.h = out, .name = name ? name : "history", .err = err, .err_len = err_len};
    char *scratch = NULL;
    size_t scratch_cap = 0;
    int rc = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (ps.line == UINT32_MAX) {
            rc = perr(&ps, CHECK_ESYNTAX, "too many lines");
            goto err;
        }
        ps.line++;
        if (blank(line, n))
            continue;
        if (n > scratch_cap) {
            free(scratch);
            scratch_cap = n;
            scratch = xmalloc(scratch_cap);
        }
        struct lexer lx = {.p = line, .start = line, .end = line + n, .scratch = scratch};
        struct field f[F_COUNT];
        if (parse_object(&lx, f) != 0) {
            rc = perr(&ps, CHECK_ESYNTAX, "%s", lx.msg);
            goto err;
        }
        out->n_lines++;
        rc = on_line(&ps, f);
        if (rc != 0)
            goto err;
    }
    /* Invokes still in flight stay CHECK_INFO with complete_ns = UINT64_MAX (outcome unknown). */
    free(scratch);
    free(ps.procs);
    free(ps.key_tab);
    return 0;
err:
    free(scratch);
    free(ps.procs);
    free(ps.key_tab);
    check_history_free(out);
    return rc;
}

int check_history_load(const char *path, struct check_history *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return CHECK_EIO;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    int read_error = ferror(fp) ? errno : 0;
    fclose(fp);
    if (read_error != 0) {
        snprintf(err, err_len, "%s: read failed: %s", path, strerror(read_error));
        free(buf);
        return CHECK_EIO;
    }
    int rc = check_history_parse(buf, len, path, out, err, err_len);
    free(buf);
    return rc;
}

void check_history_free(struct check_history *h)
{
    struct check_history_chunk *c = h->chunks;
    while (c != NULL) {
        struct check_history_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(h->ops);
    free(h->keys);
    memset(h, 0, sizeof *h);
}
