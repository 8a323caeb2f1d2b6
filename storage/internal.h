/* internal.h - what the files of storage/ share: the scan of a directory (used by storage_open
 * and storage_inspect) and the error helpers. Not for other modules.
 */
#ifndef RAFT_KV_STORAGE_INTERNAL_H
#define RAFT_KV_STORAGE_INTERNAL_H

#include "storage/storage.h"

#define STORAGE_MAX_DAMAGE 64 /* damage entries an inspection records */

/* A read of a directory: the inspection a person sees, and what storage_open needs besides. */
struct storage_scan {
    struct storage_inspect view;
    bool hs_valid; /* view.slot_used >= 0: hs is the newer valid slot */
    struct storage_fmt_hard_state hs;
    uint64_t hs_seq_max;           /* the highest seq of any valid slot */
    int snap;                      /* view.snapshots[snap] is the one in use, or -1 */
    struct raft_snapshot snapshot; /* its data, if loading */
    /* Every segment whose header is sound, in order, with its records' offsets. */
    struct storage_segment *segs;
    size_t n_segs;
    size_t chain_start; /* segs[chain_start..] join up index after index */
    uint64_t max_seq;   /* the highest segment seq named in the directory */
    bool torn;          /* the newest segment ends in a torn write ... */
    bool torn_whole;    /* ... that is its whole file (no sound header): remove it */
    char torn_name[STORAGE_NAME_BYTES];
    uint64_t torn_at; /* ... or cut it here */
    uint64_t torn_bytes;
    uint64_t conflict_from; /* 0, or snapshot.index + 1: the log disagrees with the snapshot */
    uint64_t last_term;     /* the term of the last record of the log read */
#ifdef RAFT_PLANTED_BUGS
    uint32_t planted_bugs; /* set by the caller before storage_scan (which keeps it) */
#endif
};

/* Reads the directory of fs. node_id 0: any, as long as the files agree. load: also read the
 * snapshot in use into sc->snapshot and the records after it into *log (reset here to start
 * after the snapshot); else log is NULL and every snapshot is verified. Damage is recorded in
 * sc->view.damage; the return is 0, or STORAGE_EIO if the directory cannot be listed. */
int storage_scan(const struct storage_fs *fs, uint32_t node_id, struct raft_log *log,
                 struct storage_scan *sc, struct storage_error *err);
void storage_scan_free(struct storage_scan *sc);

void storage_segment_free(struct storage_segment *seg);

/* --- segment.c: the log's files ---------------------------------------------------------- */

/* The index the log continues with: after the newest segment's last record, or after the
 * snapshot if there is no segment. */
uint64_t storage_next_index(const struct storage *st);
/* Appends n entries from index first (== storage_next_index), rolling segments; not synced. */
int storage_log_append(struct storage *st, uint64_t first, const struct raft_entry *entries,
                       size_t n, struct storage_error *err);
/* Removes the records from index from on, durably before it returns. */
int storage_log_truncate(struct storage *st, uint64_t from, struct storage_error *err);
/* Removes every segment if the newest ends before the snapshot (none is needed any more);
 * counts them in *removed. The directory sync is left to the next sync. */
int storage_log_drop_stale(struct storage *st, uint32_t *removed, struct storage_error *err);
/* Removes the oldest segments whose records all lie before index before (never the newest). */
int storage_log_compact(struct storage *st, uint64_t before, struct storage_error *err);

/* --- storage.c: file operations that make a storage refuse after failing ------------------- */
int storage_sync_handle(struct storage *st, int handle, const char *name,
                        struct storage_error *err);
int storage_sync_dir(struct storage *st, struct storage_error *err);
int storage_remove(struct storage *st, const char *name, struct storage_error *err);
/* Records a failed file operation: st refuses every later call. Returns code. */
int storage_io_fail(struct storage *st, struct storage_error *err, int code, const char *file,
                    const char *problem, int sys_errno);

/* Fills *err and returns code. */
int storage_fail(struct storage_error *err, int code, const char *file, const char *problem,
                 int sys_errno);
int storage_fail_at(struct storage_error *err, int code, const char *file, uint64_t offset,
                    const char *problem);

#endif
