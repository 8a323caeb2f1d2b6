/* test_kv_store.c - KV semantics (issue 4), the hash table under growth, and the digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kv/kv.h"

#define S(x) (x), (uint32_t)strlen(x)

/* put stores a new key; get returns its value. */
static void put_then_get_returns_value(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    assert_int_equal(kv_store_put(&s, S("a"), S("1")), KV_OK);
    const uint8_t *v;
    uint32_t n;
    assert_int_equal(kv_store_get(&s, S("a"), &v, &n), KV_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(v, "1", 1);
    kv_store_close(&s);
}

/* put on a present key fails with "exists" and keeps the old value. */
static void put_existing_key_fails_exists(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    kv_store_put(&s, S("a"), S("1"));
    assert_int_equal(kv_store_put(&s, S("a"), S("2")), KV_EXISTS);
    const uint8_t *v;
    uint32_t n;
    kv_store_get(&s, S("a"), &v, &n);
    assert_memory_equal(v, "1", 1);
    assert_int_equal(kv_store_count(&s), 1);
    kv_store_close(&s);
}

/* get of a missing key is "not found". */
static void get_missing_not_found(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    const uint8_t *v;
    uint32_t n;
    assert_int_equal(kv_store_get(&s, S("zz"), &v, &n), KV_NOT_FOUND);
    kv_store_close(&s);
}

/* delete removes a key (then put works again); deleting a missing key is "not found". */
static void delete_semantics(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    kv_store_put(&s, S("a"), S("1"));
    assert_int_equal(kv_store_delete(&s, S("a")), KV_OK);
    assert_int_equal(kv_store_delete(&s, S("a")), KV_NOT_FOUND);
    assert_int_equal(kv_store_count(&s), 0);
    assert_int_equal(kv_store_put(&s, S("a"), S("3")), KV_OK);
    kv_store_close(&s);
}

/* Keys are byte strings: embedded NULs and prefixes are distinct keys. */
static void binary_keys_distinct(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    assert_int_equal(kv_store_put(&s, "a\0b", 3, "x", 1), KV_OK);
    assert_int_equal(kv_store_put(&s, "a", 1, "y", 1), KV_OK);
    assert_int_equal(kv_store_put(&s, "", 0, "", 0), KV_OK);
    assert_int_equal(kv_store_put(&s, "a\0c", 3, "z", 1), KV_OK);
    assert_int_equal(kv_store_count(&s), 4);
    const uint8_t *v;
    uint32_t n;
    assert_int_equal(kv_store_get(&s, "a\0b", 3, &v, &n), KV_OK);
    assert_memory_equal(v, "x", 1);
    kv_store_close(&s);
}

/* Many keys survive table growth; every one is found and deletable. */
static void table_growth_keeps_all_keys(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    char k[32];
    for (int i = 0; i < 20000; i++) {
        int len = snprintf(k, sizeof k, "key%d", i);
        assert_int_equal(kv_store_put(&s, k, (uint32_t)len, k, (uint32_t)len), KV_OK);
    }
    assert_int_equal(kv_store_count(&s), 20000);
    for (int i = 0; i < 20000; i++) {
        int len = snprintf(k, sizeof k, "key%d", i);
        const uint8_t *v;
        uint32_t n;
        assert_int_equal(kv_store_get(&s, k, (uint32_t)len, &v, &n), KV_OK);
        assert_memory_equal(v, k, (size_t)len);
        if (i % 2)
            assert_int_equal(kv_store_delete(&s, k, (uint32_t)len), KV_OK);
    }
    assert_int_equal(kv_store_count(&s), 10000);
    kv_store_close(&s);
}

/* The digest depends on content, not insertion order. */
static void digest_independent_of_insertion_order(void **state)
{
    (void)state;
    struct kv_store a, b;
    kv_store_init(&a);
    kv_store_init(&b);
    const char *keys[] = {"a", "bb", "c", "dd", "e"};
    for (int i = 0; i < 5; i++)
        kv_store_put(&a, S(keys[i]), S(keys[i]));
    for (int i = 4; i >= 0; i--)
        kv_store_put(&b, S(keys[i]), S(keys[i]));
    kv_store_put(&b, S("tmp"), S("x")); /* added and removed again */
    kv_store_delete(&b, S("tmp"));
    assert_true(kv_store_digest(&a) == kv_store_digest(&b));
    kv_store_close(&a);
    kv_store_close(&b);
}

/* Different contents give different digests (a value, or a key/value split). */
static void digest_differs_for_different_stores(void **state)
{
    (void)state;
    struct kv_store a, b, c;
    kv_store_init(&a);
    kv_store_init(&b);
    kv_store_init(&c);
    kv_store_put(&a, S("ab"), S("c"));
    kv_store_put(&b, S("ab"), S("d"));
    kv_store_put(&c, S("a"), S("bc"));
    assert_true(kv_store_digest(&a) != kv_store_digest(&b));
    assert_true(kv_store_digest(&a) != kv_store_digest(&c));
    kv_store_close(&a);
    kv_store_close(&b);
    kv_store_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_then_get_returns_value),
        cmocka_unit_test(put_existing_key_fails_exists),
        cmocka_unit_test(get_missing_not_found),
        cmocka_unit_test(delete_semantics),
        cmocka_unit_test(binary_keys_distinct),
        cmocka_unit_test(table_growth_keeps_all_keys),
        cmocka_unit_test(digest_independent_of_insertion_order),
        cmocka_unit_test(digest_differs_for_different_stores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
