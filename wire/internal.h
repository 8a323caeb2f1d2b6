/* internal.h - what the wire/ files share: the bounded reader's checks (common/le.h does the
 * bytes) and each payload's size, writer and reader. Not part of the API.
 */
#ifndef RAFT_KV_WIRE_INTERNAL_H
#define RAFT_KV_WIRE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/le.h"
#include "wire/wire.h"

/* Writing (common/le.h's le_put, le_put_bytes): the caller has checked the room first (the size
 * functions come first). Reading: a struct le_reader over a payload whose every read checks the
 * bytes left first; a read that does not fit sets err to WIRE_ETRUNCATED (or the code the failed
 * check names) and every later read returns 0. */

static inline uint64_t wire_get(struct le_reader *r, size_t n)
{
    return le_get(r, n, WIRE_ETRUNCATED);
}

static inline const uint8_t *wire_get_bytes(struct le_reader *r, size_t n)
{
    return le_get_bytes(r, n, WIRE_ETRUNCATED);
}

/* Reads an n-byte integer that must lie in [lo, hi]; outside it, err becomes code. */
static inline uint64_t wire_get_range(struct le_reader *r, size_t n, uint64_t lo, uint64_t hi,
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
static inline bool wire_get_bool(struct le_reader *r)
{
    return wire_get_range(r, 1, 0, 1, WIRE_EBOOL) != 0;
}

/* The reader's verdict once every field is read: its first error, else WIRE_ETRAILING if bytes
 * are left over, else WIRE_OK. */
static inline int wire_reader_end(const struct le_reader *r)
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
