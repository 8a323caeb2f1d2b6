/* crc32c.h - CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4,
 * etcd's WAL and SSE 4.2's crc32 instruction. Detects every burst of up to 32 flipped bits.
 *
 * Convention (the usual one): the register starts at 0xFFFFFFFF and the result is xored with
 * 0xFFFFFFFF; both are done inside crc32c(), so callers start with 0 and feed each result back:
 *     crc32c(0, "123456789", 9) == 0xE3069283            (the standard check value)
 *     crc32c(crc32c(0, a, n), b, m) == crc32c(0, a || b, n + m)   (incremental use)
 */
#ifndef RAFT_KV_COMMON_CRC32C_H
#define RAFT_KV_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC32C of the len bytes at buf, continuing from crc (0 to start; the previous result to
 * continue). buf may be NULL when len is 0. Pure and thread-safe: the tables are constants. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
