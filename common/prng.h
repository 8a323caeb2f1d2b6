/* prng.h - a small seeded PRNG (xoshiro256** seeded through splitmix64) for the pure cores.
 * Same seed, same sequence, on every machine: election timeouts and client workloads stay
 * reproducible from the run's seed.
 */
#ifndef RAFT_KV_COMMON_PRNG_H
#define RAFT_KV_COMMON_PRNG_H

#include <stdint.h>

struct prng {
    uint64_t s[4];
};

void prng_seed(struct prng *p, uint64_t seed);
uint64_t prng_next(struct prng *p);
/* Uniform in [lo, hi]; precondition lo <= hi. */
uint64_t prng_range(struct prng *p, uint64_t lo, uint64_t hi);
/* Derives an independent seed for stream number `stream` of a run seeded with `seed` (e.g. one
 * per node and one per client), so that adding a client does not change the nodes' timeouts. */
uint64_t prng_derive(uint64_t seed, uint64_t stream);

#endif
