/* test_kv_command.c - command/result encoding round trips and strict rejection of bad bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kv/kv.h"

static size_t encode_put(uint8_t *buf, size_t cap)
{
    struct kv_command c = {.op = KV_OP_PUT, .client_id = 7, .seq = 42};
    c.key = (const uint8_t *)"key";
    c.key_len = 3;
    c.value = (const uint8_t *)"value";
    c.value_len = 5;
    size_t len = 0;
    assert_int_equal(kv_command_encode(&c, buf, cap, &len), 0);
    return len;
}

/* A command decodes to exactly what was encoded. */
static void command_round_trip(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = encode_put(buf, sizeof buf);
    assert_int_equal(len, 1 + 8 + 8 + 4 + 3 + 4 + 5);
    struct kv_command d;
    assert_int_equal(kv_command_decode(buf, len, &d), 0);
    assert_int_equal(d.op, KV_OP_PUT);
    assert_int_equal(d.client_id, 7);
    assert_int_equal(d.seq, 42);
    assert_int_equal(d.key_len, 3);
    assert_memory_equal(d.key, "key", 3);
    assert_int_equal(d.value_len, 5);
    assert_memory_equal(d.value, "value", 5);
}

/* Every truncation and one trailing byte are refused. */
static void truncated_or_trailing_bytes_refused(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = encode_put(buf, sizeof buf);
    struct kv_command d;
    for (size_t n = 0; n < len; n++)
        assert_int_equal(kv_command_decode(buf, n, &d), KV_EMALFORMED);
    assert_int_equal(kv_command_decode(buf, len + 1, &d), KV_EMALFORMED);
    assert_int_equal(kv_command_decode(NULL, 10, &d), KV_EMALFORMED);
}

/* An unknown op, a get with a value and an oversized length field are refused. */
static void bad_fields_refused(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = encode_put(buf, sizeof buf);
    struct kv_command d;
    buf[0] = 9;
    assert_int_equal(kv_command_decode(buf, len, &d), KV_EMALFORMED);
    buf[0] = KV_OP_GET; /* get carrying a value */
    assert_int_equal(kv_command_decode(buf, len, &d), KV_EMALFORMED);
    buf[0] = KV_OP_PUT;
    memset(buf + 17, 0xff, 4); /* key_len = 4 GiB */
    assert_int_equal(kv_command_decode(buf, len, &d), KV_ETOOLARGE);
    buf[17] = 200; /* key_len beyond the buffer, below the limit */
    buf[18] = buf[19] = buf[20] = 0;
    assert_int_equal(kv_command_decode(buf, len, &d), KV_EMALFORMED);
}

/* Randomly mutated encodings never crash the decoder; whatever decodes re-encodes identically. */
static void mutated_bytes_never_crash(void **state)
{
    (void)state;
    uint64_t x = 12345;
    uint8_t valid[128], buf[160], again[160];
    size_t valid_len = encode_put(valid, sizeof valid);
    int ok = 0, refused = 0;
    for (int i = 0; i < 100000; i++) {
        memcpy(buf, valid, valid_len);
        memset(buf + valid_len, 0, sizeof buf - valid_len);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = valid_len + (x % 9) - 4; /* up to 4 bytes shorter or longer */
        for (uint64_t k = 0; k < 1 + (x >> 8) % 3; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[x % len] = (uint8_t)(x >> 32);
        }
        struct kv_command d;
        if (kv_command_decode(buf, len, &d) == 0) {
            size_t n = 0;
            assert_int_equal(kv_command_encode(&d, again, sizeof again, &n), 0);
            assert_int_equal(n, len);
            assert_memory_equal(again, buf, len);
            ok++;
        } else {
            refused++;
        }
    }
    assert_true(ok > 0);
    assert_true(refused > 0);
}

/* Encoding refuses a too-small buffer and an oversized value. */
static void encode_checks_space_and_size(void **state)
{
    (void)state;
    uint8_t buf[16];
    struct kv_command c = {.op = KV_OP_GET, .key = (const uint8_t *)"k", .key_len = 1};
    size_t len;
    assert_int_equal(kv_command_encode(&c, buf, sizeof buf, &len), KV_ENOSPACE);
    c.op = KV_OP_PUT;
    c.value_len = KV_MAX_VALUE + 1;
    assert_int_equal(kv_command_encode(&c, buf, sizeof buf, &len), KV_ETOOLARGE);
}

/* Results round-trip and bad result bytes are refused. */
static void result_round_trip_and_malformed(void **state)
{
    (void)state;
    struct kv_result r = {.status = KV_OK, .client_id = 3, .seq = 9};
    r.value = (const uint8_t *)"v1";
    r.value_len = 2;
    uint8_t buf[64];
    size_t len;
    assert_int_equal(kv_result_encode(&r, buf, sizeof buf, &len), 0);
    struct kv_result d;
    assert_int_equal(kv_result_decode(buf, len, &d), 0);
    assert_int_equal(d.status, KV_OK);
    assert_int_equal(d.client_id, 3);
    assert_int_equal(d.seq, 9);
    assert_memory_equal(d.value, "v1", 2);
    for (size_t n = 0; n < len; n++)
        assert_int_equal(kv_result_decode(buf, n, &d), KV_EMALFORMED);
    buf[0] = 77;
    assert_int_equal(kv_result_decode(buf, len, &d), KV_EMALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(command_round_trip),
        cmocka_unit_test(truncated_or_trailing_bytes_refused),
        cmocka_unit_test(bad_fields_refused),
        cmocka_unit_test(mutated_bytes_never_crash),
        cmocka_unit_test(encode_checks_space_and_size),
        cmocka_unit_test(result_round_trip_and_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
