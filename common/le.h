/* le.h - little-endian integers and byte strings, written into a buffer the caller has sized and
 * read through a bounded reader whose first failure sticks: the one implementation behind the
 * command codec (kv/command.c) and the wire codec (wire/).
 */
#ifndef RAFT_KV_COMMON_LE_H
#define RAFT_KV_COMMON_LE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Writes v as n little-endian bytes at p (n <= 8); returns p + n. */
static inline uint8_t *le_put(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + n;
}

/* Copies n bytes (data may be NULL when n is 0); returns p + n. */
static inline uint8_t *le_put_bytes(uint8_t *p, const uint8_t *data, size_t n)
{
    if (n > 0)
        memcpy(p, data, n);
    return p + n;
}

/* A reader over len bytes. Every read checks the bytes left first; a read that does not fit sets
 * err to the code its caller names, and from then on every read returns 0 (NULL). */
struct le_reader {
    const uint8_t *p;
    size_t left;
    int err; /* 0 until a read fails */
};

/* Reads an n-byte little-endian unsigned integer (n <= 8); short: the code if it does not fit. */
static inline uint64_t le_get(struct le_reader *r, size_t n, int short_code)
{
    if (r->err != 0)
        return 0;
    if (r->left < n) {
        r->err = short_code;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    r->left -= n;
    return v;
}

/* Steps over n bytes and returns where they start (NULL if n is 0 or they are not all there). */
static inline const uint8_t *le_get_bytes(struct le_reader *r, size_t n, int short_code)
{
    if (r->err != 0)
        return NULL;
    if (r->left < n) {
        r->err = short_code;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return n > 0 ? p : NULL;
}

#endif
