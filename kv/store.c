/* store.c - the key-value table: chained hashing (FNV-1a) over byte-string keys, one allocation
 * per pair, doubling when the load factor passes 1; plus the order-independent store digest.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hash.h"
#include "common/le.h"
#include "kv/kv.h"

struct kv_entry {
    struct kv_entry *next;
    uint64_t hash;
    uint32_t key_len;
    uint32_t value_len;
    uint8_t bytes[]; /* key, then value */
};

static uint64_t hash_key(const void *key, uint32_t len)
{
    uint64_t h = hash_fnv1a(HASH_FNV1A_START, key, len);
    return h ^ (h >> 29); /* the low bits pick the bucket: mix the high ones in */
}

void kv_store_init(struct kv_store *s)
{
    memset(s, 0, sizeof *s);
    s->n_buckets = 64;
    s->buckets = xcalloc(s->n_buckets, sizeof *s->buckets);
}

void kv_store_close(struct kv_store *s)
{
    for (size_t i = 0; i < s->n_buckets; i++) {
        struct kv_entry *e = s->buckets[i];
        while (e != NULL) {
            struct kv_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(s->buckets);
    kv_sessions_close(s);
    memset(s, 0, sizeof *s);
}

static struct kv_entry **find_slot(const struct kv_store *s, const void *key, uint32_t key_len,
                                   uint64_t hash)
{
    struct kv_entry **slot = &s->buckets[hash & (s->n_buckets - 1)];
    for (; *slot != NULL; slot = &(*slot)->next) {
        struct kv_entry *e = *slot;
        if (e->hash == hash && e->key_len == key_len &&
            (key_len == 0 || memcmp(e->bytes, key, key_len) == 0))
            break;
    }
    return slot;
}

static void grow(struct kv_store *s)
{
    size_t n = s->n_buckets * 2;
    struct kv_entry **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < s->n_buckets; i++) {
        struct kv_entry *e = s->buckets[i];
        while (e != NULL) {
            struct kv_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->n_buckets = n;
}

enum kv_status kv_store_put(struct kv_store *s, const void *key, uint32_t key_len,
                            const void *value, uint32_t value_len)
{
    uint64_t h = hash_key(key, key_len);
    struct kv_entry **slot = find_slot(s, key, key_len, h);
    if (*slot != NULL)
        return KV_EXISTS;
    struct kv_entry *e = xmalloc(sizeof *e + (size_t)key_len + value_len);
    e->next = NULL;
    e->hash = h;
    e->key_len = key_len;
    e->value_len = value_len;
    if (key_len)
        memcpy(e->bytes, key, key_len);
    if (value_len)
        memcpy(e->bytes + key_len, value, value_len);
    *slot = e;
    s->count++;
    if (s->count > s->n_buckets)
        grow(s);
    return KV_OK;
}

enum kv_status kv_store_get(const struct kv_store *s, const void *key, uint32_t key_len,
                            const uint8_t **value, uint32_t *value_len)
{
    struct kv_entry *e = *find_slot(s, key, key_len, hash_key(key, key_len));
    if (e == NULL)
        return KV_NOT_FOUND;
    *value = e->bytes + e->key_len;
    *value_len = e->value_len;
    return KV_OK;
}

enum kv_status kv_store_delete(struct kv_store *s, const void *key, uint32_t key_len)
{
    struct kv_entry **slot = find_slot(s, key, key_len, hash_key(key, key_len));
    struct kv_entry *e = *slot;
    if (e == NULL)
        return KV_NOT_FOUND;
    *slot = e->next;
    free(e);
    assert(s->count > 0);
    s->count--;
    return KV_OK;
}

size_t kv_store_count(const struct kv_store *s)
{
    return s->count;
}

static int compare_entries(const void *a, const void *b)
{
    const struct kv_entry *x = *(const struct kv_entry *const *)a;
    const struct kv_entry *y = *(const struct kv_entry *const *)b;
    uint32_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = n ? memcmp(x->bytes, y->bytes, n) : 0;
    if (c != 0)
        return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static uint64_t hash_u64(uint64_t h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return hash_fnv1a(h, b, 8);
}

uint64_t kv_store_digest(const struct kv_store *s)
{
    struct kv_entry **all = xcalloc(s->count ? s->count : 1, sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < s->n_buckets; i++)
        for (struct kv_entry *e = s->buckets[i]; e != NULL; e = e->next)
            all[n++] = e;
    assert(n == s->count);
    qsort(all, n, sizeof *all, compare_entries);
    uint64_t h = HASH_FNV1A_START;
    for (size_t i = 0; i < n; i++) {
        h = hash_u64(h, all[i]->key_len);
        h = hash_fnv1a(h, all[i]->bytes, all[i]->key_len);
        h = hash_u64(h, all[i]->value_len);
        h = hash_fnv1a(h, all[i]->bytes + all[i]->key_len, all[i]->value_len);
    }
    free(all);
    return kv_sessions_digest(s, h);
}

void kv_store_encode_pairs(const struct kv_store *s, struct kv_bytes *b)
{
    le_put(kv_bytes_reserve(b, 8), s->count, 8);
    for (size_t i = 0; i < s->n_buckets; i++)
        for (const struct kv_entry *e = s->buckets[i]; e != NULL; e = e->next) {
            uint8_t *p = kv_bytes_reserve(b, 8 + (size_t)e->key_len + e->value_len);
            p = le_put(p, e->key_len, 4);
            p = le_put_bytes(p, e->bytes, e->key_len);
            p = le_put(p, e->value_len, 4);
            le_put_bytes(p, e->bytes + e->key_len, e->value_len);
        }
}
