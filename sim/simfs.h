/* simfs.h - the simulator's disk: one directory of files in memory behind the storage port
 * (storage/fs.h), which keeps apart what was written and what was made durable, so that a crash
 * can lose, keep or tear exactly what the port's contract allows, and faults can damage what the
 * contract does not (a flipped bit, a write that landed elsewhere, a failing fdatasync).
 *
 * Each file (an inode) holds its current bytes, its durable bytes (as of its last sync) and the
 * writes and truncations made since, in order. The directory holds its current names, its
 * durable names (as of the last sync_dir) and the creates, renames and removes made since, in
 * order. A crash (simfs_crash) keeps, per file, a random prefix of the unsynced operations, the
 * last one kept possibly torn (a prefix of its bytes, the rest left as they were), and a random
 * prefix of the unsynced name operations; then every handle is gone. That is a strict case of
 * what fs.h allows, drawn from the caller's PRNG, so a seed replays it.
 *
 * Pure: no I/O, no clock; deterministic given the PRNG.
 */
#ifndef RAFT_KV_SIM_SIMFS_H
#define RAFT_KV_SIM_SIMFS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/prng.h"
#include "storage/fs.h"

struct simfs;

struct simfs *simfs_new(void);
void simfs_free(struct simfs *fs);
/* The port over fs (fs must outlive every use of it). */
void simfs_port(struct simfs *fs, struct storage_fs *port);

/* A crash of the machine: every handle is closed; per file, a prefix of the writes and
 * truncations since its last sync survives (each length drawn from rng), the last one kept torn
 * with probability 1/2 if tear is set; a prefix of the name operations since the last sync_dir
 * survives. What survived is durable from then on. */
void simfs_crash(struct simfs *fs, struct prng *rng, bool tear);

/* --- faults ---------------------------------------------------------------------------------- */

/* The next sync() or sync_dir() fails with EIO and makes nothing durable. */
void simfs_fail_next_sync(struct simfs *fs);
/* A write that landed in the wrong place, found at rest: the durable bytes [from, from + len) of
 * name are copied over [to, to + len) and their own place zeroed (as if the write of them had
 * gone to `to`). Returns 0, or ENOENT if name has no such durable bytes. */
int simfs_misplace(struct simfs *fs, const char *name, uint64_t from, uint64_t len, uint64_t to);
/* Flips bit (0..7) of byte offset of name, in its durable and its current bytes (damage at rest).
 * Returns 0, or ENOENT if there is no such durable file or byte. */
int simfs_flip_bit(struct simfs *fs, const char *name, uint64_t offset, unsigned bit);

/* The durable size of name (0 if it has no durable name). */
uint64_t simfs_durable_size(const struct simfs *fs, const char *name);
/* Writes, syncs, and faults applied so far (for the report). */
struct simfs_counts {
    uint64_t writes, syncs, crashes, torn, lost_ops, misdirected, flips, sync_errors;
};
void simfs_counts(const struct simfs *fs, struct simfs_counts *out);
/* Adds c to *sum, field by field. */
void simfs_counts_add(struct simfs_counts *sum, const struct simfs_counts *c);

#endif
