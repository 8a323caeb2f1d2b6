/* snapshot.c - the whole replicated key-value state as bytes and back, for Raft snapshots
 * (section 7). Design: a flat, length-prefixed encoding (kv.h) read through the bounded reader
 * of common/le.h, so a damaged or hostile snapshot is refused, never trusted.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/le.h"
#include "kv/kv.h"

#define KV_SNAPSHOT_MAGIC 0x3153564bu /* "KVS1" */

uint8_t *kv_bytes_reserve(struct kv_bytes *b, size_t n)
{
    if (n > SIZE_MAX - b->len)
        xalloc_failed(SIZE_MAX);
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    uint8_t *at = b->p + b->len;
    b->len += n;
    return at;
}

void kv_store_encode(const struct kv_store *s, uint8_t **data, size_t *len)
{
    struct kv_bytes b = {0};
    uint8_t *p = kv_bytes_reserve(&b, 4 + 8);
    p = le_put(p, KV_SNAPSHOT_MAGIC, 4);
    le_put(p, s->applied, 8);
    kv_store_encode_pairs(s, &b);
    kv_sessions_encode(s, &b);
    *data = b.p;
    *len = b.len;
}

/* Reads the pairs and sessions into s; false at the first thing that is not as encoded. */
static bool decode_into(struct kv_store *s, struct le_reader *r)
{
    if (le_get(r, 4, KV_EMALFORMED) != KV_SNAPSHOT_MAGIC)
        return false;
    uint64_t applied = le_get(r, 8, KV_EMALFORMED);
    uint64_t pairs = le_get(r, 8, KV_EMALFORMED);
    /* Each pair takes at least 8 bytes: a count larger than the bytes left is a lie. */
    if (r->err != 0 || pairs > r->left / 8)
        return false;
    for (uint64_t i = 0; i < pairs; i++) {
        uint32_t key_len = (uint32_t)le_get(r, 4, KV_EMALFORMED);
        const uint8_t *key = le_get_bytes(r, key_len, KV_EMALFORMED);
        uint32_t value_len = (uint32_t)le_get(r, 4, KV_EMALFORMED);
        const uint8_t *value = le_get_bytes(r, value_len, KV_EMALFORMED);
        if (r->err != 0 || key_len > KV_MAX_KEY || value_len > KV_MAX_VALUE)
            return false;
        if (kv_store_put(s, key, key_len, value, value_len) != KV_OK)
            return false; /* a key twice */
    }
    uint64_t sessions = le_get(r, 8, KV_EMALFORMED);
    if (r->err != 0 || sessions > r->left / 21)
        return false;
    for (uint64_t i = 0; i < sessions; i++) {
        uint64_t client_id = le_get(r, 8, KV_EMALFORMED);
        uint64_t last_seq = le_get(r, 8, KV_EMALFORMED);
        uint64_t status = le_get(r, 1, KV_EMALFORMED);
        uint32_t value_len = (uint32_t)le_get(r, 4, KV_EMALFORMED);
        const uint8_t *value = le_get_bytes(r, value_len, KV_EMALFORMED);
        if (r->err != 0 || status > KV_STALE || value_len > KV_MAX_VALUE)
            return false;
        if (!kv_session_restore(s, client_id, last_seq, (enum kv_status)status, value, value_len))
            return false;
    }
    s->applied = applied;
    return r->err == 0 && r->left == 0;
}

int kv_store_decode(struct kv_store *s, const uint8_t *data, size_t len)
{
    kv_store_close(s);
    kv_store_init(s);
    struct le_reader r = {.p = data, .left = len, .err = 0};
    if (data == NULL && len > 0)
        return KV_EMALFORMED;
    if (decode_into(s, &r))
        return 0;
    kv_store_close(s);
    kv_store_init(s);
    return KV_EMALFORMED;
}
