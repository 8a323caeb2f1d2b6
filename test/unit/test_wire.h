/* test_wire.h - hand-built frames for the wire tests and the wire fuzz target: a byte builder and
 * a frame header written straight from docs/wire.md, independently of wire/frame.c, so a test can
 * give any payload (or any header field) a correct checksum and reach the check it means.
 * No cmocka here: test/fuzz/fuzz_wire_decode.c includes it too.
 */
#ifndef RAFT_KV_TEST_WIRE_H
#define RAFT_KV_TEST_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crc32c.h"
#include "wire/wire.h"

/* A growable byte string; start with {0}, release with free(b.p). */
struct tw_bytes {
    uint8_t *p;
    size_t len, cap;
};

static inline void tw_put_bytes(struct tw_bytes *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = 2 * (b->len + n) + 64;
        b->p = xrealloc(b->p, b->cap);
    }
    if (n > 0)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

/* Appends v as n little-endian bytes (n <= 8). */
static inline void tw_put(struct tw_bytes *b, uint64_t v, size_t n)
{
    uint8_t le[8];
    if (n > sizeof le)
        abort(); /* a test's own mistake */
    for (size_t i = 0; i < n; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    tw_put_bytes(b, le, n);
}

/* Appends a 16-byte header with these fields (any version byte) and a correct header CRC. */
static inline void tw_header(struct tw_bytes *b, uint32_t length, uint8_t version, uint8_t kind,
                             uint16_t flags, uint32_t payload_crc)
{
    size_t start = b->len;
    tw_put(b, length, 4);
    tw_put(b, version, 1);
    tw_put(b, kind, 1);
    tw_put(b, flags, 2);
    tw_put(b, payload_crc, 4);
    tw_put(b, crc32c(0, b->p + start, 12), 4);
}

/* Appends a whole, well-checksummed frame of the given kind around n payload bytes. */
static inline void tw_frame(struct tw_bytes *b, uint8_t kind, const uint8_t *payload, size_t n)
{
    tw_header(b, (uint32_t)(12 + n), WIRE_VERSION, kind, 0, crc32c(0, payload, n));
    tw_put_bytes(b, payload, n);
}

#endif
