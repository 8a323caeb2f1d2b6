/* hash.h - 64-bit FNV-1a, the one byte-string hash of the project (store digests, hash tables,
 * entry hashes for the invariant checks). Not for anything adversarial.
 */
#ifndef RAFT_KV_COMMON_HASH_H
#define RAFT_KV_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The FNV-1a offset basis: the h to start a hash with. */
#define HASH_FNV1A_START UINT64_C(0xcbf29ce484222325)

/* Continues the FNV-1a hash h over len bytes of data (data may be NULL when len is 0). */
uint64_t hash_fnv1a(uint64_t h, const void *data, size_t len);

#endif
