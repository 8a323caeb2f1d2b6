/* node_storage.c - a node's files for a host (node_storage.h): the storage module over the POSIX
 * port, with its errors turned into one line of text.
 */
#include "host/node_storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void node_storage_dir(const char *data_dir, uint32_t id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/node%u", data_dir, id);
}

int node_storage_open(struct node_storage *ns, const char *dir, const struct storage_options *o,
                      struct raft_disk *loaded, struct storage_report *report, char *err,
                      size_t err_len)
{
    memset(ns, 0, sizeof *ns);
    raft_disk_init(loaded);
    if (file_fs_open(&ns->fs, dir, true, false, err, err_len) != 0)
        return -1;
    file_fs_port(&ns->fs, &ns->port);
    struct storage_error e;
    if (storage_open(&ns->st, &ns->port, o, loaded, report, &e) != 0) {
        file_fs_format_error(err, err_len, dir, &e);
        file_fs_close(&ns->fs);
        return -1;
    }
    ns->open = true;
    return 0;
}

int node_storage_write(struct node_storage *ns, const struct raft_persist *p, char *err,
                       size_t err_len)
{
    struct storage_error e;
    if (storage_write(&ns->st, p, &e) == 0)
        return 0;
    file_fs_format_error(err, err_len, ns->fs.dir, &e);
    return -1;
}

int node_storage_sync_begin(struct node_storage *ns, int *fd, char *file, size_t file_len,
                            char *err, size_t err_len)
{
    struct storage_error e;
    int handle;
    *fd = -1;
    if (storage_sync_begin(&ns->st, &handle, &e) != 0) {
        file_fs_format_error(err, err_len, ns->fs.dir, &e);
        return -1;
    }
    if (handle < 0)
        return 0;
    /* The file port's handles are descriptors (host/file_fs.c). A duplicate, because a roll may
     * close the original while the other thread still has to sync it. */
    *fd = fcntl(handle, F_DUPFD_CLOEXEC, 0);
    if (*fd < 0) {
        snprintf(err, err_len, "%s: cannot duplicate a descriptor for fdatasync: %s", ns->fs.dir,
                 strerror(errno));
        return -1;
    }
    const struct storage_segment *segs;
    size_t n = storage_segments(&ns->st, &segs);
    snprintf(file, file_len, "%s/%s", ns->fs.dir, n > 0 ? segs[n - 1].name : "?");
    return 0;
}

void node_storage_sync_end(struct node_storage *ns)
{
    storage_sync_end(&ns->st);
}

int node_storage_sync_fd(int fd)
{
    return fdatasync(fd) != 0 ? errno : 0;
}

void node_storage_sync_fd_close(int fd)
{
    close(fd);
}

void node_storage_close(struct node_storage *ns)
{
    if (!ns->open)
        return;
    storage_close(&ns->st);
    file_fs_close(&ns->fs);
    ns->open = false;
}

void node_storage_describe(const struct storage_report *r, char *buf, size_t len)
{
    if (r->new_node) {
        snprintf(buf, len, "new node: no state on disk");
        return;
    }
    int n = snprintf(buf, len, "term %llu, vote %u%s", (unsigned long long)r->term, r->vote,
                     r->term_raised ? " (term raised to the log's)" : "");
    if (n >= 0 && (size_t)n < len && r->snapshot_index > 0)
        n += snprintf(buf + n, len - (size_t)n, ", snapshot at %llu (term %llu, %llu bytes)",
                      (unsigned long long)r->snapshot_index, (unsigned long long)r->snapshot_term,
                      (unsigned long long)r->snapshot_bytes);
    if (n >= 0 && (size_t)n < len) {
        if (r->log_last >= r->log_first)
            n += snprintf(buf + n, len - (size_t)n, ", log %llu..%llu in %u segment%s",
                          (unsigned long long)r->log_first, (unsigned long long)r->log_last,
                          r->segments, r->segments == 1 ? "" : "s");
        else
            n += snprintf(buf + n, len - (size_t)n, ", empty log");
    }
    if (n >= 0 && (size_t)n < len && r->torn_bytes_cut > 0)
        snprintf(buf + n, len - (size_t)n, "; cut %llu torn bytes at the end of %s",
                 (unsigned long long)r->torn_bytes_cut, r->torn_file);
}

void node_storage_fatal(uint32_t id, const char *what)
{
    fflush(stdout);
    fprintf(stderr,
            "raft_kv: node %u: %s; stopping the process (a failed write or fdatasync is never "
            "retried: the data it was writing may be gone)\n",
            id, what);
    _exit(1);
}
