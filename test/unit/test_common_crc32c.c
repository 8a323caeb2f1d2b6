/* test_common_crc32c.c - CRC32C: the standard check value, incremental use, and the
 * slicing-by-8 tables against a bit-at-a-time reference over every byte value and position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/crc32c.h"
#include "common/prng.h"

/* The definition, one bit at a time: reflected polynomial 0x82F63B78, init and final xor ~0. */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* The check value of the CRC catalogue: CRC32C("123456789") = 0xE3069283. */
static void check_value(void **state)
{
    (void)state;
    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c_bitwise(0, (const uint8_t *)"123456789", 9), 0xE3069283u);
}

/* The CRC of nothing is 0, with or without a buffer. */
static void empty_is_zero(void **state)
{
    (void)state;
    assert_int_equal(crc32c(0, NULL, 0), 0);
    assert_int_equal(crc32c(0x12345678u, "x", 0), 0x12345678u);
}

/* Feeding the bytes in two pieces, split anywhere, gives the CRC of the whole. */
static void incremental_equals_whole(void **state)
{
    (void)state;
    uint8_t buf[300];
    struct prng prng;
    prng_seed(&prng, 42);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)prng_next(&prng);
    uint32_t whole = crc32c(0, buf, sizeof buf);
    for (size_t split = 0; split <= sizeof buf; split++)
        assert_int_equal(crc32c(crc32c(0, buf, split), buf + split, sizeof buf - split), whole);
    uint32_t bytewise = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        bytewise = crc32c(bytewise, buf + i, 1);
    assert_int_equal(bytewise, whole);
}

/* Every entry of the eight tables: one nonzero byte at each position of an 8-byte block (and of
 * a 9-byte one, whose tail takes the byte-at-a-time path), at each start state. */
static void tables_match_bitwise(void **state)
{
    (void)state;
    static const uint32_t starts[] = {0, 0xFFFFFFFFu, 0x9A3C5E71u};
    for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++)
        for (size_t pos = 0; pos < 9; pos++)
            for (unsigned v = 0; v < 256; v++) {
                uint8_t block[9] = {0};
                block[pos] = (uint8_t)v;
                size_t len = pos < 8 ? 8 : 9;
                assert_int_equal(crc32c(starts[s], block, len),
                                 crc32c_bitwise(starts[s], block, len));
            }
}

/* Random buffers of every length up to 100 at every offset agree with the bitwise definition. */
static void random_buffers_match_bitwise(void **state)
{
    (void)state;
    uint8_t buf[128];
    struct prng prng;
    prng_seed(&prng, 7);
    for (size_t len = 0; len <= 100; len++)
        for (size_t off = 0; off < 8; off++) {
            for (size_t i = 0; i < len; i++)
                buf[off + i] = (uint8_t)prng_next(&prng);
            uint32_t start = (uint32_t)prng_next(&prng);
            assert_int_equal(crc32c(start, buf + off, len), crc32c_bitwise(start, buf + off, len));
        }
}

/* A single flipped bit anywhere in a buffer changes the CRC. */
static void single_bit_flips_change_crc(void **state)
{
    (void)state;
    uint8_t buf[64];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 37);
    uint32_t good = crc32c(0, buf, sizeof buf);
    for (size_t bit = 0; bit < 8 * sizeof buf; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(crc32c(0, buf, sizeof buf), good);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_value),
        cmocka_unit_test(empty_is_zero),
        cmocka_unit_test(incremental_equals_whole),
        cmocka_unit_test(tables_match_bitwise),
        cmocka_unit_test(random_buffers_match_bitwise),
        cmocka_unit_test(single_bit_flips_change_crc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
