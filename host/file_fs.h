/* file_fs.h - the POSIX implementation of the storage port (storage/fs.h): one directory, files
 * reached with openat/pread/pwrite/fdatasync relative to it, the directory synced with fsync.
 * App-only (host/): it makes system calls and formats errors with stdio.
 */
#ifndef RAFT_KV_HOST_FILE_FS_H
#define RAFT_KV_HOST_FILE_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "storage/fs.h"
#include "storage/storage.h"

struct file_fs {
    char *dir;      /* the directory's path (owned) */
    int dir_fd;     /* open on it, for the *at() calls and the directory sync */
    bool read_only; /* every call that would change something fails with EROFS */
};

/* Opens dir; create: make it first, with its parents, as mkdir -p does (mode 0755). Returns 0,
 * or an errno value with a message "DIR: what failed: why" in err (errlen bytes). */
int file_fs_open(struct file_fs *f, const char *dir, bool create, bool read_only, char *err,
                 size_t errlen);
void file_fs_close(struct file_fs *f);
/* The port over f (f must outlive it). A handle is the file descriptor. */
void file_fs_port(struct file_fs *f, struct storage_fs *port);
/* Writes "DIR/FILE: offset N: problem: strerror(errno)" (the parts that apply) into buf. */
void file_fs_format_error(char *buf, size_t len, const char *dir, const struct storage_error *e);

#endif
