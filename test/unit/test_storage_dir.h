/* test_storage_dir.h - what the storage tests share: a temporary directory under /tmp (removed at
 * the end of every test) reached through the POSIX port, a model of the durable state kept with
 * raft_disk_apply, and helpers that read, damage and list the files by hand.
 */
#ifndef RAFT_KV_TEST_STORAGE_DIR_H
#define RAFT_KV_TEST_STORAGE_DIR_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "host/file_fs.h"
#include "storage/storage.h"

struct tdir {
    char path[64];
    struct file_fs f;
    struct storage_fs port;
    struct raft_disk model; /* what raft_disk_apply holds after every request written */
    uint64_t seq;
};

static inline void tdir_make(struct tdir *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "/tmp/raft_kv_storage_XXXXXX");
    assert_non_null(mkdtemp(t->path));
    char err[256];
    assert_int_equal(file_fs_open(&t->f, t->path, false, false, err, sizeof err), 0);
    file_fs_port(&t->f, &t->port);
    raft_disk_init(&t->model);
}

static inline void tdir_remove(struct tdir *t)
{
    DIR *d = opendir(t->path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            assert_int_equal(unlinkat(dirfd(d), e->d_name, 0), 0);
    closedir(d);
    assert_int_equal(rmdir(t->path), 0);
    file_fs_close(&t->f);
    raft_disk_close(&t->model);
}

static inline struct storage_options topt(uint64_t segment_bytes)
{
    struct storage_options o;
    storage_options_default(&o, 1);
    o.segment_bytes = segment_bytes;
    return o;
}

static inline void open_ok(struct tdir *t, const struct storage_options *o, struct storage *st,
                           struct raft_disk *d, struct storage_report *rep)
{
    struct storage_error err;
    int rc = storage_open(st, &t->port, o, d, rep, &err);
    if (rc != 0)
        fail_msg("storage_open: %s: %s at %llu", err.file, err.problem,
                 (unsigned long long)err.offset);
}

/* storage_open must refuse with ECORRUPT naming file (a prefix of it) and problem. */
static inline void open_refused(struct tdir *t, const char *file, bool has_offset, uint64_t offset,
                                const char *problem)
{
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_error err;
    struct storage_options o = topt(256);
    int rc = storage_open(&st, &t->port, &o, &d, &rep, &err);
    if (rc != STORAGE_ECORRUPT)
        fail_msg("expected ECORRUPT, got %d (%s)", rc, err.problem ? err.problem : "");
    assert_string_equal(err.file, file);
    assert_int_equal(err.has_offset, has_offset);
    if (has_offset)
        assert_int_equal(err.offset, offset);
    assert_string_equal(err.problem, problem);
}

/* Writes p and syncs it, and applies it to the model. */
static inline void put(struct tdir *t, struct storage *st, struct raft_persist *p)
{
    struct storage_error err;
    p->seq = ++t->seq;
    int rc = storage_write(st, p, &err);
    if (rc == 0)
        rc = storage_sync(st, &err);
    if (rc != 0)
        fail_msg("write/sync: %s: %s", err.file, err.problem);
    raft_disk_apply(&t->model, p);
}

/* n entries of term, the data "e<index>" repeated to a length that varies with the index. */
static inline struct raft_entry *entries(uint64_t first, size_t n, uint64_t term)
{
    struct raft_entry *e = xcalloc(n, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)((first + i) % 23);
        e[i].term = term;
        e[i].type = len == 0 ? RAFT_ENTRY_NOOP : RAFT_ENTRY_COMMAND;
        e[i].len = len;
        e[i].data = len ? xmalloc(len) : NULL;
        for (uint32_t k = 0; k < len; k++)
            e[i].data[k] = (uint8_t)(first + i + k);
    }
    return e;
}

static inline void entries_free(struct raft_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].data);
    free(e);
}

/* Appends n entries of term at the model's next index (hard state term saved with them). */
static inline void append(struct tdir *t, struct storage *st, size_t n, uint64_t term)
{
    uint64_t first = raft_log_last_index(&t->model.log) + 1;
    struct raft_entry *e = entries(first, n, term);
    struct raft_persist p = {.save_hard_state = term != t->model.current_term,
                             .term = term,
                             .append_first = first,
                             .append = e,
                             .n_append = n};
    put(t, st, &p);
    entries_free(e, n);
}

/* The loaded state is the model's: term, vote, snapshot (its configuration included), and every
 * entry from the loaded log's first index (snapshot.index + 1) to the model's last. */
static inline void assert_matches_model(const struct tdir *t, const struct raft_disk *d)
{
    const struct raft_disk *m = &t->model;
    assert_int_equal(d->current_term, m->current_term);
    assert_int_equal(d->voted_for, m->voted_for);
    assert_int_equal(d->snapshot.index, m->snapshot.index);
    assert_int_equal(d->snapshot.term, m->snapshot.term);
    assert_true(raft_config_equal(&d->snapshot.config, &m->snapshot.config));
    assert_int_equal(d->snapshot.len, m->snapshot.len);
    if (d->snapshot.len > 0)
        assert_memory_equal(d->snapshot.data, m->snapshot.data, d->snapshot.len);
    assert_int_equal(raft_log_first_index(&d->log), m->snapshot.index + 1);
    assert_int_equal(raft_log_last_index(&d->log), raft_log_last_index(&m->log));
    assert_int_equal(d->log.prev_term, m->snapshot.term);
    for (uint64_t i = raft_log_first_index(&d->log); i <= raft_log_last_index(&d->log); i++) {
        const struct raft_entry *a = raft_log_get(&d->log, i), *b = raft_log_get(&m->log, i);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(a->term, b->term);
        assert_int_equal(a->type, b->type);
        assert_int_equal(a->len, b->len);
        if (a->len > 0)
            assert_memory_equal(a->data, b->data, a->len);
    }
}

/* Closes st and d, reopens the directory and checks it against the model. */
static inline void reopen_check(struct tdir *t, const struct storage_options *o, struct storage *st,
                                struct raft_disk *d, struct storage_report *rep)
{
    storage_close(st);
    raft_disk_close(d);
    open_ok(t, o, st, d, rep);
    assert_matches_model(t, d);
}

/* --- the files by hand ------------------------------------------------------------------------ */

static inline int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names starting with prefix, sorted (at most 64); returns how many. */
static inline size_t names(const struct tdir *t, const char *prefix, char out[][STORAGE_NAME_BYTES])
{
    DIR *d = opendir(t->path);
    assert_non_null(d);
    char *list[64];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && n < 64)
            list[n++] = xstrdup(e->d_name);
    closedir(d);
    qsort(list, n, sizeof *list, name_cmp);
    for (size_t i = 0; i < n; i++) {
        snprintf(out[i], STORAGE_NAME_BYTES, "%s", list[i]);
        free(list[i]);
    }
    return n;
}

static inline char *file_path(const struct tdir *t, const char *name)
{
    static char buf[sizeof t->path + STORAGE_NAME_BYTES + 1];
    int n = snprintf(buf, sizeof buf, "%s/%s", t->path, name);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    return buf;
}

static inline long file_size(const struct tdir *t, const char *name)
{
    struct stat sb;
    if (stat(file_path(t, name), &sb) != 0)
        return -1;
    return (long)sb.st_size;
}

static inline void file_poke(const struct tdir *t, const char *name, long offset, const void *bytes,
                             size_t n)
{
    int fd = open(file_path(t, name), O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, offset), (ssize_t)n);
    close(fd);
}

static inline uint8_t file_peek(const struct tdir *t, const char *name, long offset)
{
    int fd = open(file_path(t, name), O_RDONLY);
    assert_true(fd >= 0);
    uint8_t b = 0;
    assert_int_equal(pread(fd, &b, 1, offset), 1);
    close(fd);
    return b;
}

static inline void flip_bit(const struct tdir *t, const char *name, long offset)
{
    uint8_t b = file_peek(t, name, offset) ^ 0x10;
    file_poke(t, name, offset, &b, 1);
}

/* The offset of the record of index in a segment starting at first (entries() sizes). */
static inline long rec_offset(uint64_t first, uint64_t index)
{
    uint64_t off = STORAGE_SEG_HEADER_BYTES;
    for (uint64_t i = first; i < index; i++)
        off += storage_fmt_rec_bytes((uint32_t)(i % 23));
    return (long)off;
}

static inline void file_cut(const struct tdir *t, const char *name, long size)
{
    assert_int_equal(truncate(file_path(t, name), size), 0);
}

#endif
