/* http_parse.c - the parts of an HTTP request read strictly (http_parse.h): nothing libevent
 * decodes leniently ("%zz" kept as is, "+" as a space) reaches a kv command.
 */
#include "net/http_parse.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes the len bytes at s into out (room for len bytes); '+' stays '+'. The decoded
 * length, or -1 if a '%' is not followed by two hex digits. */
long net_http_percent_decode(const char *s, size_t len, uint8_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[n++] = (uint8_t)s[i];
            continue;
        }
        if (i + 2 >= len)
            return -1;
        int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
        if (hi < 0 || lo < 0)
            return -1;
        out[n++] = (uint8_t)(hi * 16 + lo);
        i += 2;
    }
    return (long)n;
}

/* True if the len bytes at s are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF). */
bool net_http_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* True if every byte of s is printable ASCII (what a request target may hold unencoded). */
bool net_http_printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* A positive decimal integer that fits 64 bits. */
static bool parse_positive(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return v > 0;
}

static bool name_is(const char *s, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(s, name, len) == 0;
}

/* One name=value pair of a query, its value percent-decoded into value[] (NUL-terminated). */
struct param {
    const char *name;
    size_t name_len;
    char value[64];
    size_t value_len;
};

/* The next non-empty pair of the query at *s, which moves past it: 1, or 0 at the end, or -1
 * with why when the pair has no value or a value that does not decode (or is 64 bytes or more:
 * no parameter here takes one that long). */
static int next_param(const char **s, struct param *p, char *why, size_t why_len)
{
    for (;;) {
        if (**s == '\0')
            return 0;
        const char *at = *s;
        const char *end = strchr(at, '&');
        size_t len = end != NULL ? (size_t)(end - at) : strlen(at);
        *s = end != NULL ? end + 1 : at + len;
        if (len == 0)
            continue;
        const char *eq = memchr(at, '=', len);
        if (eq == NULL) {
            snprintf(why, why_len, "query parameter '%.*s' has no value", (int)len, at);
            return -1;
        }
        p->name = at;
        p->name_len = (size_t)(eq - at);
        size_t raw_len = len - p->name_len - 1;
        long vlen = raw_len < sizeof p->value
                        ? net_http_percent_decode(eq + 1, raw_len, (uint8_t *)p->value)
                        : -1;
        if (vlen < 0) {
            snprintf(why, why_len, "query parameter '%.*s' has a bad value", (int)p->name_len, at);
            return -1;
        }
        p->value[vlen] = '\0';
        p->value_len = (size_t)vlen;
        return 1;
    }
}

static int unknown_param(const struct param *p, char *why, size_t why_len)
{
    snprintf(why, why_len, "unknown query parameter '%.*s'",
             (int)(p->name_len < 64 ? p->name_len : 64), p->name);
    return -1;
}

/* Parses query (may be NULL) into q. 0, or -1 with why (why_len bytes) saying what is wrong. */
int net_http_parse_query(const char *query, struct net_http_query *q, char *why, size_t why_len)
{
    memset(q, 0, sizeof *q);
    q->read = KV_READ_LINEARIZABLE;
    const char *s = query != NULL ? query : "";
    struct param p;
    int rc;
    while ((rc = next_param(&s, &p, why, why_len)) > 0) {
        if (name_is(p.name, p.name_len, "client_id") || name_is(p.name, p.name_len, "seq")) {
            bool is_seq = name_is(p.name, p.name_len, "seq");
            bool *has = is_seq ? &q->has_seq : &q->has_client_id;
            uint64_t *v = is_seq ? &q->seq : &q->client_id;
            if (*has) {
                snprintf(why, why_len, "%s is given twice", is_seq ? "seq" : "client_id");
                return -1;
            }
            if (!parse_positive(p.value, p.value_len, v)) {
                snprintf(why, why_len, "%s must be a positive integer",
                         is_seq ? "seq" : "client_id");
                return -1;
            }
            *has = true;
        } else if (name_is(p.name, p.name_len, "consistency")) {
            if (q->has_consistency) {
                snprintf(why, why_len, "consistency is given twice");
                return -1;
            }
            bool found = false;
            for (int k = 0; k < KV_READ_POLICIES && !found; k++) {
                if (name_is(p.value, p.value_len, kv_read_policy_name((enum kv_read_policy)k))) {
                    q->read = (enum kv_read_policy)k;
                    found = true;
                }
            }
            if (!found) {
                snprintf(why, why_len,
                         "consistency must be linearizable, lease, stale, follower or log");
                return -1;
            }
            q->has_consistency = true;
        } else {
            return unknown_param(&p, why, why_len);
        }
    }
    if (rc < 0)
        return -1;
    if (q->has_client_id != q->has_seq) {
        snprintf(why, why_len, "client_id and seq go together");
        return -1;
    }
    return 0;
}

int net_http_parse_node_id(const char *query, const char *name, uint32_t max_id, uint32_t *id,
                           char *why, size_t why_len)
{
    const char *s = query != NULL ? query : "";
    struct param p;
    bool has = false;
    int rc;
    while ((rc = next_param(&s, &p, why, why_len)) > 0) {
        if (!name_is(p.name, p.name_len, name))
            return unknown_param(&p, why, why_len);
        uint64_t v = 0;
        if (has) {
            snprintf(why, why_len, "%s is given twice", name);
            return -1;
        }
        if (!parse_positive(p.value, p.value_len, &v) || v > max_id) {
            snprintf(why, why_len, "%s must be a node id 1..%" PRIu32, name, max_id);
            return -1;
        }
        *id = (uint32_t)v;
        has = true;
    }
    if (rc < 0)
        return -1;
    if (!has) {
        snprintf(why, why_len, "%s=ID is missing (a node id 1..%" PRIu32 ")", name, max_id);
        return -1;
    }
    return 0;
}
