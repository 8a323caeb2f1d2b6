/* fs.h - the file-system port of storage/: one directory of flat files, reached only through
 * these function pointers, so the storage stays pure (no syscalls) and runs on real files
 * (host/file_fs.c) or on a simulated disk that loses, tears and flips what was not synced.
 *
 * Names are 1..STORAGE_FS_NAME_MAX bytes of [A-Za-z0-9._-], never "." or "..". Every call returns
 * 0 or an errno value (EIO, ENOSPC, ENOENT, EEXIST, ...); a handle is a small int >= 0 that the
 * port gives out on open and takes back on close.
 *
 * What is durable (survives a crash), exactly:
 *   - a file's bytes and size: what it held when sync(h) last returned 0. Bytes written or a size
 *     set by truncate() after that may survive whole, in part (a write torn anywhere, the size
 *     anywhere between old and new, a gap read back as zeros) or not at all;
 *   - a directory's names: what they were when sync_dir() last returned 0. Each create, rename
 *     and remove since then may or may not have happened (each one atomically: a rename leaves
 *     the old name or the new one, never both nor neither); a file's bytes do not make its name
 *     durable, nor does a name make its bytes durable.
 * A sync() or sync_dir() that fails leaves unknown what is durable: the caller never retries it.
 *
 * storage/ recovers from every crash in which each file's unsynced writes survive as a prefix in
 * the order they were made (the last one surviving possibly torn: a prefix of its bytes, the rest
 * zeros or cut) and the names as above. Anything else (a bit flipped in synced bytes, a write
 * landing elsewhere, unsynced bytes surviving past a lost earlier write) is damage: the storage
 * refuses to start rather than guess (docs/storage.md).
 */
#ifndef RAFT_KV_STORAGE_FS_H
#define RAFT_KV_STORAGE_FS_H

#include <stddef.h>
#include <stdint.h>

#define STORAGE_FS_NAME_MAX 64

enum {
    STORAGE_FS_CREATE = 1u << 0, /* open: create the file, empty, if it does not exist */
    STORAGE_FS_EXCL = 1u << 1,   /* with CREATE: EEXIST if it exists */
};

struct storage_fs {
    void *ctx;
    /* Calls each(arg, name) once per regular file of the directory, in no particular order; stops
     * and returns what each returned if that is not 0. */
    int (*list)(void *ctx, int (*each)(void *arg, const char *name), void *arg);
    /* Opens name for reading and writing (flags: STORAGE_FS_*); ENOENT if it does not exist and
     * CREATE is not set. */
    int (*open)(void *ctx, const char *name, unsigned flags, int *handle);
    /* The file's size in bytes now (durable or not). */
    int (*size)(void *ctx, int handle, uint64_t *size);
    /* Reads exactly len bytes at offset; ENODATA if the file ends before offset + len. */
    int (*read)(void *ctx, int handle, uint64_t offset, void *buf, size_t len);
    /* Writes all len bytes at offset, extending the file if needed (a gap reads as zeros). */
    int (*write)(void *ctx, int handle, uint64_t offset, const void *buf, size_t len);
    /* Sets the size (cuts or extends with zeros). */
    int (*truncate)(void *ctx, int handle, uint64_t size);
    /* fdatasync: makes this file's bytes and size durable (not its name: see sync_dir). */
    int (*sync)(void *ctx, int handle);
    /* Releases the handle; what was written stays written (durable only if synced). */
    void (*close)(void *ctx, int handle);
    /* Atomically renames from to to, replacing to if it exists. */
    int (*rename)(void *ctx, const char *from, const char *to);
    /* Removes the name (ENOENT if it does not exist). Not with an open handle on it. */
    int (*remove)(void *ctx, const char *name);
    /* Makes every create, rename and remove done so far in the directory durable. */
    int (*sync_dir)(void *ctx);
};

#endif
