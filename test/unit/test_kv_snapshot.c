/* test_kv_snapshot.c - the store as snapshot bytes and back (kv_store_encode/_decode). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kv/kv.h"

static struct kv_command cmd(enum kv_op op, uint64_t client, uint64_t seq, const char *key,
                             const char *value)
{
    struct kv_command c = {.op = op, .client_id = client, .seq = seq};
    c.key = (const uint8_t *)key;
    c.key_len = (uint32_t)strlen(key);
    if (value != NULL) {
        c.value = (const uint8_t *)value;
        c.value_len = (uint32_t)strlen(value);
    }
    return c;
}

/* A store with n keys, an empty key and value, deletes, and sessions whose saved results
 * include a get's value. */
static void fill(struct kv_store *s, int n)
{
    char key[32], value[32];
    struct kv_result res;
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i);
        snprintf(value, sizeof value, "v%d", i * 7);
        struct kv_command c = cmd(KV_OP_PUT, 1 + (uint64_t)i % 5, 1 + (uint64_t)i / 5, key, value);
        kv_store_apply(s, &c, &res);
    }
    for (int i = 0; i < n; i += 3) {
        snprintf(key, sizeof key, "k%d", i);
        struct kv_command c = cmd(KV_OP_DELETE, 0, 0, key, NULL);
        kv_store_apply(s, &c, &res);
    }
    struct kv_command g = cmd(KV_OP_GET, 9, 4, "k1", NULL);
    kv_store_apply(s, &g, &res);
    assert_int_equal(kv_store_put(s, "", 0, "", 0), KV_OK);
}

/* Encoding then decoding gives the same state (digest, count, applied, saved results). */
static void round_trip_keeps_everything(void **state)
{
    (void)state;
    static const int sizes[] = {0, 1, 100, 5000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct kv_store a, b;
        kv_store_init(&a);
        kv_store_init(&b);
        fill(&a, sizes[i]);
        uint8_t *data;
        size_t len;
        kv_store_encode(&a, &data, &len);
        assert_int_equal(kv_store_decode(&b, data, len), 0);
        assert_int_equal(kv_store_digest(&a), kv_store_digest(&b));
        assert_int_equal(kv_store_count(&a), kv_store_count(&b));
        assert_int_equal(a.applied, b.applied);
        struct kv_result res;
        assert_true(kv_store_saved_result(&b, 9, 4, &res));
        assert_int_equal(res.status, sizes[i] > 1 ? KV_OK : KV_NOT_FOUND);
        if (sizes[i] > 1)
            assert_memory_equal(res.value, "v7", 2);
        /* and the decoded store encodes to bytes that decode to the same state again */
        uint8_t *again;
        size_t again_len;
        kv_store_encode(&b, &again, &again_len);
        assert_int_equal(again_len, len);
        free(again);
        free(data);
        kv_store_close(&a);
        kv_store_close(&b);
    }
}

/* Decoding replaces what the store held before. */
static void decode_replaces_the_store(void **state)
{
    (void)state;
    struct kv_store a, b;
    kv_store_init(&a);
    kv_store_init(&b);
    fill(&a, 10);
    assert_int_equal(kv_store_put(&b, "old", 3, "x", 1), KV_OK);
    uint8_t *data;
    size_t len;
    kv_store_encode(&a, &data, &len);
    assert_int_equal(kv_store_decode(&b, data, len), 0);
    const uint8_t *v;
    uint32_t vlen;
    assert_int_equal(kv_store_get(&b, "old", 3, &v, &vlen), KV_NOT_FOUND);
    assert_int_equal(kv_store_digest(&a), kv_store_digest(&b));
    free(data);
    kv_store_close(&a);
    kv_store_close(&b);
}

/* Every proper prefix, one trailing byte, a wrong magic and a flipped count are refused, and
 * the store is left empty. */
static void damaged_bytes_are_refused(void **state)
{
    (void)state;
    struct kv_store a, b;
    kv_store_init(&a);
    kv_store_init(&b);
    fill(&a, 20);
    uint8_t *data;
    size_t len;
    kv_store_encode(&a, &data, &len);
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(kv_store_decode(&b, data, cut), KV_EMALFORMED);
        assert_int_equal(kv_store_count(&b), 0);
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, data, len);
    longer[len] = 0;
    assert_int_equal(kv_store_decode(&b, longer, len + 1), KV_EMALFORMED);
    longer[0] ^= 1; /* magic */
    assert_int_equal(kv_store_decode(&b, longer, len), KV_EMALFORMED);
    longer[0] ^= 1;
    longer[12 + 7] = 0xff; /* the pair count's top byte: far more pairs than bytes */
    assert_int_equal(kv_store_decode(&b, longer, len), KV_EMALFORMED);
    assert_int_equal(kv_store_decode(&b, NULL, 0), KV_EMALFORMED);
    assert_int_equal(kv_store_count(&b), 0);
    free(longer);
    free(data);
    kv_store_close(&a);
    kv_store_close(&b);
}

/* A key present twice, or a session twice, is refused. */
static void duplicates_are_refused(void **state)
{
    (void)state;
    /* magic, applied 0, 2 pairs ("a" -> "", twice), 0 sessions */
    static const uint8_t twice[] = {'K', 'V', 'S', '1', 0, 0, 0, 0, 0,   0, 0, 0, 2, 0, 0, 0,
                                    0,   0,   0,   0,   1, 0, 0, 0, 'a', 0, 0, 0, 0, 1, 0, 0,
                                    0,   'a', 0,   0,   0, 0, 0, 0, 0,   0, 0, 0, 0, 0};
    struct kv_store b;
    kv_store_init(&b);
    assert_int_equal(kv_store_decode(&b, twice, sizeof twice), KV_EMALFORMED);
    kv_store_close(&b);
}

/* Random bytes never crash the decoder (run under ASan in CI). */
static void random_bytes_never_crash(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    uint8_t buf[256];
    struct kv_store b;
    kv_store_init(&b);
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(x % sizeof buf);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        if (len >= 4)
            memcpy(buf, "KVS1", 4);
        int rc = kv_store_decode(&b, buf, len);
        assert_true(rc == 0 || rc == KV_EMALFORMED);
    }
    kv_store_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_keeps_everything), cmocka_unit_test(decode_replaces_the_store),
        cmocka_unit_test(damaged_bytes_are_refused),   cmocka_unit_test(duplicates_are_refused),
        cmocka_unit_test(random_bytes_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
