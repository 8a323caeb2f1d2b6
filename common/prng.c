/* prng.c - xoshiro256** (Blackman & Vigna) seeded by splitmix64: fast, tiny, reproducible.
 * Not for cryptography; it spreads election timeouts and picks client operations.
 */
#include "common/prng.h"

#include <assert.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void prng_seed(struct prng *p, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        p->s[i] = splitmix64(&seed);
}

uint64_t prng_next(struct prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t prng_range(struct prng *p, uint64_t lo, uint64_t hi)
{
    assert(lo <= hi);
    uint64_t span = hi - lo + 1;
    if (span == 0) /* the full 64-bit range */
        return prng_next(p);
    /* Rejection sampling removes modulo bias; the loop ends with probability 1 (>= 1/2 each). */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % span);
    uint64_t x;
    do {
        x = prng_next(p);
    } while (x >= limit);
    return lo + x % span;
}

uint64_t prng_derive(uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);
    splitmix64(&x);
    return splitmix64(&x);
}
