/* storage.h - a node's durable Raft state in files: the hard state (term, vote), a write-ahead
 * log in segments, and snapshots, in one directory reached through the port of storage/fs.h.
 * The format and the recovery rules are in docs/storage.md.
 *
 * Use (a host, per node):
 *   storage_open()   once: recovers the directory and loads the durable state (struct raft_disk)
 *                    that raft_init starts from, with a report of what was found and repaired;
 *   storage_write()  for each step's persist request, in seq order: writes it without syncing
 *                    (except a snapshot, and a truncation of the log, which are durable at once);
 *   storage_sync()   once per batch of steps (group commit): one fdatasync per file written since
 *                    the last sync, then a directory sync if names changed. Every request written
 *                    before a successful sync is durable: report them with RAFT_EVENT_PERSISTED.
 *   storage_close()  releases everything (nothing is synced: a close is a crash).
 * After a crash and storage_open(), the loaded state is what raft_disk_apply() would hold after
 * the same durable requests, except that the loaded log starts at snapshot.index + 1 (entries the
 * snapshot covers are not loaded) and that the term may be raised (report.term_raised).
 *
 * Errors: every call returns 0 or a STORAGE_E* code with *err naming the file, the offset and
 * the problem. A failed write or sync is fatal: the storage refuses every later call
 * (STORAGE_EFAILED) and a host must exit, never retry (a retried fdatasync can "succeed" with the
 * data gone). Damage found by storage_open is STORAGE_ECORRUPT: the node must not start.
 */
#ifndef RAFT_KV_STORAGE_STORAGE_H
#define RAFT_KV_STORAGE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"
#include "storage/format.h"
#include "storage/fs.h"

enum {
    STORAGE_OK = 0,
    STORAGE_EIO = 1,      /* a file operation failed: err->sys_errno */
    STORAGE_ESYNC = 2,    /* an fdatasync or directory sync failed: fatal, never retried */
    STORAGE_ECORRUPT = 3, /* damage: err->file, err->offset, err->problem */
    STORAGE_EFAILED = 4,  /* an earlier write or sync failed: this storage refuses every call */
    STORAGE_EINVAL = 5,   /* bad options */
};
const char *storage_strerror(int code);

struct storage_error {
    int code;                      /* STORAGE_E* */
    char file[STORAGE_NAME_BYTES]; /* the file in the directory, "" if none */
    bool has_offset;
    uint64_t offset;     /* byte offset in file, if has_offset */
    const char *problem; /* static text: what is wrong or what failed */
    int sys_errno;       /* the port's errno for EIO and ESYNC, else 0 */
};

/* Upper bounds (TIGER_STYLE): every count and length read from disk is checked against them. */
#define STORAGE_SEGMENT_BYTES_DEFAULT (8u * 1024u * 1024u)
#define STORAGE_SEGMENT_BYTES_MAX     (512u * 1024u * 1024u)
#define STORAGE_MAX_FILE_BYTES        (1024u * 1024u * 1024u) /* a segment or snapshot file */
#define STORAGE_MAX_FILES             100000                  /* names in the directory */

struct storage_options {
    uint32_t node_id;       /* 1..RAFT_MAX_NODES; written into every file and checked */
    uint64_t segment_bytes; /* roll to a new segment once one holds this many bytes; 64..MAX */
    bool fsync;             /* false: no fdatasync and no directory sync at all (UNSAFE: a crash
                               of the machine loses acknowledged writes; for speed runs only) */
#ifdef RAFT_PLANTED_BUGS
    uint32_t planted_bugs; /* RAFT_BUG_CUT_ON_BAD_CHECKSUM (raft/raft.h); the test build only */
#endif
};
void storage_options_default(struct storage_options *o, uint32_t node_id);

/* What storage_open found and repaired. */
struct storage_report {
    bool new_node; /* the directory held no state: a node that never wrote anything */
    uint64_t term; /* loaded (term, vote) */
    uint32_t vote;
    bool term_raised;        /* the log or snapshot had a higher term than the hard state: the
                                term was raised to it, with no vote (docs/storage.md) */
    uint64_t snapshot_index; /* 0: none */
    uint64_t snapshot_term;
    uint64_t snapshot_bytes;
    uint64_t log_first; /* the loaded log: entries log_first..log_last (none if first > last) */
    uint64_t log_last;
    uint64_t records_loaded;
    uint32_t segments;       /* segment files in use after recovery */
    uint64_t torn_bytes_cut; /* bytes cut from the end of the newest segment (a torn write) */
    char torn_file[STORAGE_NAME_BYTES];
    uint64_t conflict_dropped_from; /* 0, or: the log from here on disagreed with the snapshot
                                       and was dropped */
    uint32_t temp_files_removed;    /* snapshots left half-written by a crash */
    uint32_t snapshots_removed;     /* older snapshots a crash left behind */
    uint32_t segments_removed;      /* segments wholly covered by the snapshot and cut off from
                                       the log (a compaction a crash interrupted) */
};

/* One segment file as this storage keeps it in memory. */
struct storage_segment {
    char name[STORAGE_NAME_BYTES];
    uint64_t seq;   /* its place in the order of segments (the name sorts by it) */
    uint64_t first; /* records first..first + n - 1 */
    uint64_t n;
    uint64_t end;      /* bytes: header + whole records; where the next record goes */
    uint64_t *offsets; /* offsets[k]: record first + k (n of cap) */
    uint64_t cap;
};

/* Caller-owned; fields are private to storage/. */
struct storage {
    struct storage_fs fs;
    struct storage_options opt;
    int failed;                   /* 0, or the code of the write/sync that failed: sticky */
    struct storage_segment *segs; /* in order; segs[n_segs - 1] is the one appended to */
    size_t n_segs, cap_segs;
    int seg_handle;      /* the newest segment's handle, or -1 */
    bool seg_dirty;      /* written since its last sync */
    bool seg_handed_out; /* storage_sync_begin gave it out and storage_sync_end has not come */
    uint64_t next_seq;   /* the seq of the next segment created */
    int hs_handle;       /* the hard state file, always open */
    uint64_t hs_seq;     /* the seq of the newest slot written */
    int hs_durable_slot; /* the slot holding the last synced value; writes go to the other */
    bool hs_dirty;
    bool dir_dirty;                 /* names changed since the last directory sync */
    uint64_t snap_index, snap_term; /* the durable snapshot; index 0: none */
    uint8_t *buf;                   /* encoding buffer */
    size_t buf_cap;
};

/* Recovers dir (fs) and loads its durable state into *loaded (raft_disk_init'ed here; the caller
 * raft_disk_close()s it, on success only). A directory without any of the storage's files is a
 * new node: the hard state file is created (empty, synced) and everything else waits for the
 * first request. Repairs, each made durable and reported: a torn tail of the newest segment is
 * cut; *.tmp files are removed; snapshots older than the newest and segments before a gap that
 * the snapshot covers are removed; a log that disagrees with the snapshot at its index is cut
 * after it. Anything else is STORAGE_ECORRUPT naming the file, offset and problem, with the
 * directory unchanged. fs is copied; its ctx must outlive st. */
int storage_open(struct storage *st, const struct storage_fs *fs, const struct storage_options *opt,
                 struct raft_disk *loaded, struct storage_report *report,
                 struct storage_error *err);

/* Carries out persist request p (raft/raft.h, in its order) without syncing the hard state or
 * the appended records; a snapshot is written to a temporary file, synced, renamed and the
 * directory synced before this returns (the hard state written before it is synced first), and a
 * truncation of the log is durable before anything is appended. p->seq == 0: nothing. */
int storage_write(struct storage *st, const struct raft_persist *p, struct storage_error *err);

/* Makes every request written so far durable: fdatasync of the hard state if written, of the
 * newest segment if written, then a directory sync if files were created or removed. A failure is
 * STORAGE_ESYNC and fatal. A no-op with opt.fsync false. */
int storage_sync(struct storage *st, struct storage_error *err);

/* storage_sync in two halves, for a host that makes the segment's fdatasync on another thread
 * (the node's thread then goes on with messages while the disk works). storage_sync_begin does
 * everything storage_sync does but that: the hard state's and the directory's syncs (rare: a new
 * term or vote, a new segment) are made here; if the newest segment was written since its last
 * sync, *handle is set to it (else -1). The host syncs a duplicate of that handle elsewhere (a
 * roll may close the original) and then calls storage_sync_end: every request written before
 * storage_sync_begin is durable once that sync succeeded. Until storage_sync_end, the segment
 * counts as unsynced: a roll seals it with a sync of its own (a segment is synced before the next
 * is created) and a storage_sync syncs it. One begin at a time. 0, or STORAGE_ESYNC (fatal). */
int storage_sync_begin(struct storage *st, int *handle, struct storage_error *err);
void storage_sync_end(struct storage *st);

/* Closes the files and frees what st holds. Syncs nothing. */
void storage_close(struct storage *st);

/* The segments as st keeps them, oldest first, with their records' offsets (for the simulator's
 * faults, which aim at records): returns how many; *segs is valid until the next call on st. */
size_t storage_segments(const struct storage *st, const struct storage_segment **segs);

/* --- inspect: a read-only description of a directory (raft_kv inspect DATA_DIR) -------------- */

struct storage_inspect_slot {
    enum storage_fmt_slot state;         /* empty, valid or bad */
    struct storage_fmt_hard_state value; /* if valid */
    const char *problem;                 /* if bad */
};

struct storage_inspect_segment {
    char name[STORAGE_NAME_BYTES];
    uint64_t seq, first, last; /* records first..last (none if last < first) */
    uint64_t records;
    uint64_t bytes;      /* the file's size */
    uint64_t torn_bytes; /* newest only: a torn tail that storage_open would cut */
};

struct storage_inspect_snapshot {
    char name[STORAGE_NAME_BYTES];
    uint64_t index, term;
    uint64_t bytes;            /* the file's size */
    bool ok;                   /* header, node id, checksum and configuration verified; then: */
    uint32_t version;          /* the header's format version (1: before configurations) */
    struct raft_config config; /* the configuration at index; all zero: none recorded */
};

struct storage_damage {
    char file[STORAGE_NAME_BYTES];
    bool has_offset;
    uint64_t offset;
    const char *problem;
};

struct storage_inspect {
    uint32_t node_id;      /* found in the files; 0 if none */
    bool hard_state_found; /* the file exists */
    struct storage_inspect_slot slots[2];
    int slot_used;                            /* the slot storage_open would use, or -1 */
    struct storage_inspect_segment *segments; /* in order */
    size_t n_segments;
    struct storage_inspect_snapshot *snapshots; /* by index */
    size_t n_snapshots;
    char (*temps)[STORAGE_NAME_BYTES]; /* *.tmp files storage_open would remove */
    size_t n_temps;
    char (*others)[STORAGE_NAME_BYTES]; /* files that are not the storage's (ignored) */
    size_t n_others;
    struct storage_damage *damage; /* damage that makes storage_open refuse, in order found */
    size_t n_damage;
};

/* Describes the directory of fs without writing anything (only list, open without CREATE,
 * size, read and close are called). node_id 0: any, as long as the files agree. Returns 0 with
 * *out filled (free it with storage_inspect_free), or STORAGE_EIO if the directory cannot be
 * listed. A file that cannot be read is recorded as damage. */
int storage_inspect(const struct storage_fs *fs, uint32_t node_id, struct storage_inspect *out,
                    struct storage_error *err);
void storage_inspect_free(struct storage_inspect *in);

#endif
