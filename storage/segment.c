/* segment.c - the write-ahead log's segment files: append (batched into one write per segment),
 * roll, truncate and remove. Design (after etcd's wal/): a segment is sealed by an fdatasync
 * before the next one is created, so only the newest can end in a torn write; a truncation is
 * made durable before anything is appended after it, so files never overlap after a crash.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "storage/internal.h"

/* Records are gathered into st->buf and written once this much is waiting (or at the end). */
#define FLUSH_BYTES (1u << 20)

static struct storage_segment *newest(struct storage *st)
{
    return st->n_segs > 0 ? &st->segs[st->n_segs - 1] : NULL;
}

static uint64_t seg_last(const struct storage_segment *s)
{
    return s->first + s->n - 1;
}

uint64_t storage_next_index(const struct storage *st)
{
    if (st->n_segs == 0)
        return st->snap_index + 1;
    return seg_last(&st->segs[st->n_segs - 1]) + 1;
}

/* Opens the newest segment for writing if it is not open. */
static int open_newest(struct storage *st, struct storage_error *err)
{
    if (st->seg_handle >= 0)
        return 0;
    struct storage_segment *s = newest(st);
    int rc = st->fs.open(st->fs.ctx, s->name, 0, &st->seg_handle);
    if (rc != 0) {
        st->seg_handle = -1;
        return storage_io_fail(st, err, STORAGE_EIO, s->name, "cannot open the segment", rc);
    }
    return 0;
}

static void close_newest(struct storage *st)
{
    if (st->seg_handle >= 0)
        st->fs.close(st->fs.ctx, st->seg_handle);
    st->seg_handle = -1;
    st->seg_dirty = false;
    st->seg_handed_out = false;
}

/* Writes the records gathered in st->buf (they start at offset at of the newest segment). */
static int flush(struct storage *st, uint64_t at, size_t *pending, struct storage_error *err)
{
    if (*pending == 0)
        return 0;
    struct storage_segment *s = newest(st);
    if (open_newest(st, err) != 0)
        return st->failed;
    int rc = st->fs.write(st->fs.ctx, st->seg_handle, at, st->buf, *pending);
    if (rc != 0)
        return storage_io_fail(st, err, STORAGE_EIO, s->name, "cannot write the segment", rc);
    st->seg_dirty = true;
    *pending = 0;
    return 0;
}

/* Seals the newest segment (synced, closed) and creates the next, starting at index first. */
static int roll(struct storage *st, uint64_t first, struct storage_error *err)
{
    struct storage_segment *old = newest(st);
    /* (A segment handed out to storage_sync_begin may not be synced yet: sealed here too.) */
    if (old != NULL && (st->seg_dirty || st->seg_handed_out) && st->seg_handle >= 0 &&
        storage_sync_handle(st, st->seg_handle, old->name, err) != 0)
        return st->failed;
    close_newest(st);
    struct storage_segment s = {.seq = st->next_seq++, .first = first};
    storage_fmt_segment_name(s.name, s.seq, first);
    int rc = st->fs.open(st->fs.ctx, s.name, STORAGE_FS_CREATE | STORAGE_FS_EXCL, &st->seg_handle);
    if (rc != 0) {
        st->seg_handle = -1;
        return storage_io_fail(st, err, STORAGE_EIO, s.name, "cannot create the segment", rc);
    }
    uint8_t header[STORAGE_SEG_HEADER_BYTES];
    struct storage_fmt_seg_header h = {.node_id = st->opt.node_id, .first_index = first};
    storage_fmt_seg_encode(header, &h);
    rc = st->fs.write(st->fs.ctx, st->seg_handle, 0, header, sizeof header);
    if (rc != 0)
        return storage_io_fail(st, err, STORAGE_EIO, s.name, "cannot write the segment", rc);
    s.end = STORAGE_SEG_HEADER_BYTES;
    st->segs = xreallocarray(st->segs, st->n_segs + 1, sizeof *st->segs);
    st->segs[st->n_segs++] = s;
    st->seg_dirty = true;
    st->dir_dirty = true;
    return 0;
}

static void reserve(struct storage *st, size_t need)
{
    if (need <= st->buf_cap)
        return;
    size_t cap = st->buf_cap ? st->buf_cap : 4096;
    while (cap < need)
        cap *= 2;
    st->buf = xrealloc(st->buf, cap);
    st->buf_cap = cap;
}

int storage_log_append(struct storage *st, uint64_t first, const struct raft_entry *entries,
                       size_t n, struct storage_error *err)
{
    /* The request writes the index after the last one held; anything else is a host bug. */
    assert(n == 0 || first == storage_next_index(st));
    size_t pending = 0;
    uint64_t at = 0; /* where st->buf goes in the newest segment */
    for (size_t i = 0; i < n; i++) {
        struct storage_segment *s = newest(st);
        if (s == NULL || s->end >= st->opt.segment_bytes) {
            if (s != NULL && flush(st, at, &pending, err) != 0)
                return st->failed;
            if (roll(st, first + i, err) != 0)
                return st->failed;
            s = newest(st);
        }
        if (pending == 0)
            at = s->end;
        uint64_t bytes = storage_fmt_rec_bytes(entries[i].len);
        reserve(st, pending + (size_t)bytes);
        storage_fmt_rec_encode(st->buf + pending, first + i, &entries[i]);
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 64;
            s->offsets = xreallocarray(s->offsets, (size_t)s->cap, sizeof *s->offsets);
        }
        s->offsets[s->n++] = s->end;
        s->end += bytes;
        pending += (size_t)bytes;
        if (pending >= FLUSH_BYTES && flush(st, at, &pending, err) != 0)
            return st->failed;
    }
    return flush(st, at, &pending, err);
}

/* Removes the newest segment file (closing it first). */
static int remove_newest(struct storage *st, struct storage_error *err)
{
    struct storage_segment *s = newest(st);
    close_newest(st);
    if (storage_remove(st, s->name, err) != 0)
        return st->failed;
    storage_segment_free(s);
    st->n_segs--;
    return 0;
}

int storage_log_truncate(struct storage *st, uint64_t from, struct storage_error *err)
{
    if (st->n_segs == 0 || from >= storage_next_index(st))
        return 0;
    /* Later segments go newest first, each removal durable before the next: a crash leaves the
     * log a prefix of what it was, never one with a hole. */
    while (st->n_segs > 0 && newest(st)->first >= from) {
        if (remove_newest(st, err) != 0 || storage_sync_dir(st, err) != 0)
            return st->failed;
    }
    if (st->n_segs == 0 || from > seg_last(newest(st)))
        return 0;
    struct storage_segment *s = newest(st);
    uint64_t at = s->offsets[from - s->first];
    if (open_newest(st, err) != 0)
        return st->failed;
    int rc = st->fs.truncate(st->fs.ctx, st->seg_handle, at);
    if (rc != 0)
        return storage_io_fail(st, err, STORAGE_EIO, s->name, "cannot truncate the segment", rc);
    s->n = from - s->first;
    s->end = at;
    if (storage_sync_handle(st, st->seg_handle, s->name, err) != 0)
        return st->failed;
    st->seg_dirty = false;
    st->seg_handed_out = false;
    return 0;
}

int storage_log_drop_stale(struct storage *st, uint32_t *removed, struct storage_error *err)
{
    if (st->n_segs == 0 || seg_last(newest(st)) >= st->snap_index)
        return 0;
    /* Every record is in the snapshot and the log goes on after it: a hole would follow them. */
    while (st->n_segs > 0) {
        if (remove_newest(st, err) != 0)
            return st->failed;
        if (removed != NULL)
            (*removed)++;
    }
    return 0;
}

int storage_log_compact(struct storage *st, uint64_t before, struct storage_error *err)
{
    size_t drop = 0;
    while (drop + 1 < st->n_segs && seg_last(&st->segs[drop]) < before) {
        /* Not synced here: after a crash any of these may be back, but they all lie before the
         * snapshot, where recovery allows holes between segments. */
        if (storage_remove(st, st->segs[drop].name, err) != 0)
            return st->failed;
        storage_segment_free(&st->segs[drop]);
        drop++;
    }
    if (drop > 0) {
        memmove(st->segs, st->segs + drop, (st->n_segs - drop) * sizeof *st->segs);
        st->n_segs -= drop;
    }
    return 0;
}
