/* hash.c - 64-bit FNV-1a (Fowler, Noll, Vo): byte at a time, xor then multiply. */
#include "common/hash.h"

uint64_t hash_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}
