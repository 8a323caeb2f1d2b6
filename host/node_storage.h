/* node_storage.h - one node's files, for a host: the file storage (storage/) over the POSIX port
 * (host/file_fs.c) in DATA_DIR/node<ID>, with errors as one line a person can act on. Shared by
 * the actor host (actors/node.c) and the networked server.
 */
#ifndef RAFT_KV_HOST_NODE_STORAGE_H
#define RAFT_KV_HOST_NODE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/file_fs.h"
#include "raft/raft.h"
#include "storage/storage.h"

struct node_storage {
    struct file_fs fs;
    struct storage_fs port;
    struct storage st;
    bool open;
};

/* The directory of node id under data_dir: "DATA_DIR/node<ID>" into buf. */
void node_storage_dir(const char *data_dir, uint32_t id, char *buf, size_t len);

/* Opens (making it if missing) and recovers dir: *loaded is the durable state to start from
 * (the caller closes it with raft_disk_close), *report what was found. 0, or -1 with err set to
 * "DIR/FILE: offset N: problem" (the node must not start). */
int node_storage_open(struct node_storage *ns, const char *dir, const struct storage_options *o,
                      struct raft_disk *loaded, struct storage_report *report, char *err,
                      size_t err_len);
/* storage_write with the error as text; -1 is fatal (exit, never retry). */
int node_storage_write(struct node_storage *ns, const struct raft_persist *p, char *err,
                       size_t err_len);

/* storage_sync_begin / storage_sync_end (storage.h), for a host that makes the segment's
 * fdatasync on another thread: *fd is -1 when nothing is left to sync, or a duplicate of the
 * newest segment's descriptor (the host closes it with node_storage_sync_fd_close), and file
 * names it (for an error). -1 with err is fatal (exit, never retry). */
int node_storage_sync_begin(struct node_storage *ns, int *fd, char *file, size_t file_len,
                            char *err, size_t err_len);
void node_storage_sync_end(struct node_storage *ns);
/* fdatasync(fd), from any thread: 0 or the errno. */
int node_storage_sync_fd(int fd);
void node_storage_sync_fd_close(int fd);
/* A crash: nothing more is written or synced. */
void node_storage_close(struct node_storage *ns);

/* "new node" or "term 5, vote 2, snapshot at 1200 (term 4, 3512 bytes), log 1201..1530, 2
 * segments; cut 37 torn bytes at the end of wal-..." into buf. */
void node_storage_describe(const struct storage_report *r, char *buf, size_t len);

/* Ends the process after a failed write or sync: the message, then exit status 1. A failed
 * fdatasync is never retried (the kernel may have dropped the data it could not write). */
__attribute__((noreturn)) void node_storage_fatal(uint32_t id, const char *what);

#endif
