/* internal.h - what the wire/ files share: little-endian writers, a bounded reader whose first
 * error sticks, and each payload's size, writer and reader. Not part of the API.
 */
#ifndef RAFT_KV_WIRE_INTERNAL_H
#define RAFT_KV_WIRE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire/wire.h"

/* --- writing: the caller has checked the room (the size functions come first) -------------- */

/* Writes v as n little-endian bytes at p; returns p + n. */
static inline uint8_t *wire_put(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + n;
}

/* Copies n bytes (data may be NULL when n is 0); returns p + n. */
static inline uint8_t *wire_put_bytes(uint8_t *p, const uint8_t *data, size_t n)
{
    if (n > 0)
        memcpy(p, data, n);
    return p + n;
}

/* --- reading --------------------------------------------------------------------------------- */

/* A reader over a payload. Every read checks the bytes left first; the first failure is kept in
 * err (WIRE_ETRUNCATED, or the code the failed check names) and every later read returns 0. */
struct wire_reader {
    const uint8_t *p;
    size_t left;
    int err; /* WIRE_OK until a read fails */
};

/* Reads an n-byte little-endian unsigned integer (n <= 8). */
static inline uint64_t wire_get(struct wire_reader *r, size_t n)
{
    if (r->err != WIRE_OK)
        return 0;
    if (r->left < n) {
        r->err = WIRE_ETRUNCATED;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    r->left -= n;
    return v;
}

/* Reads an n-byte integer that must lie in [lo, hi]; outside it, err becomes code. */
static inline uint64_t wire_get_range(struct wire_reader *r, size_t n, uint64_t lo, uint64_t hi,
                                      int code)
{
    uint64_t v = wire_get(r, n);
    if (r->err == WIRE_OK && (v < lo || v > hi)) {
        r->err = code;
        return 0;
    }
    return v;
}

/* Reads a boolean byte: 0 or 1, anything else is WIRE_EBOOL (one encoding per value). */
static inline bool wire_get_bool(struct wire_reader *r)
{
    return wire_get_range(r, 1, 0, 1, WIRE_EBOOL) != 0;
}

/* Steps over n bytes and returns where they start (NULL if n is 0 or they are not all there). */
static inline const uint8_t *wire_get_bytes(struct wire_reader *r, size_t n)
{
    if (r->err != WIRE_OK)
        return NULL;
    if (r->left < n) {
        r->err = WIRE_ETRUNCATED;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return n > 0 ? p : NULL;
}

/* The reader's verdict once every field is read: its first error, else WIRE_ETRAILING if bytes
 * are left over, else WIRE_OK. */
static inline int wire_reader_end(const struct wire_reader *r)
{
    if (r->err != WIRE_OK)
        return r->err;
    return r->left != 0 ? WIRE_ETRAILING : WIRE_OK;
}

/* --- payloads -------------------------------------------------------------------------------
 * For each kind: *_size() checks that the value can be encoded (WIRE_OK or the decoder's code
 * for what it would refuse) and sets *bytes to its payload size; *_write() writes the payload of
 * a value *_size() accepted at p and returns its end; *_read() decodes exactly len bytes into
 * *out, which then owns copies of all it points to (on error *out owns nothing). */

int wire_raft_payload_size(const struct raft_message *m, uint64_t *bytes);
uint8_t *wire_raft_payload_write(const struct raft_message *m, uint8_t *p);
int wire_raft_payload_read(const uint8_t *p, size_t len, struct raft_message *out);

int wire_request_payload_size(const struct wire_client_request *req, uint64_t *bytes);
uint8_t *wire_request_payload_write(const struct wire_client_request *req, uint8_t *p);
int wire_request_payload_read(const uint8_t *p, size_t len, struct wire_client_request *out);

int wire_reply_payload_size(const struct wire_client_reply *rep, uint64_t *bytes);
uint8_t *wire_reply_payload_write(const struct wire_client_reply *rep, uint8_t *p);
int wire_reply_payload_read(const uint8_t *p, size_t len, struct wire_client_reply *out);

#endif
