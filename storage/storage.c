/* storage.c - a node's durable Raft state in files: open (recover, repair, load), write (one
 * persist request, unsynced), sync (group commit), the hard state's two slots and snapshots.
 * Design (after cowsql/raft's uv*.c): the hard state alternates between two slots so the last
 * synced value is never overwritten; a snapshot goes to a temporary file that is synced, renamed
 * and its directory synced; any failed write or sync makes the storage refuse from then on.
 */
#include <assert.h>
#include <string.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "storage/internal.h"

const char *storage_strerror(int code)
{
    switch (code) {
    case STORAGE_OK:
        return "ok";
    case STORAGE_EIO:
        return "file operation failed";
    case STORAGE_ESYNC:
        return "sync failed (fatal: never retried)";
    case STORAGE_ECORRUPT:
        return "damaged";
    case STORAGE_EFAILED:
        return "storage failed earlier and refuses every call";
    case STORAGE_EINVAL:
        return "invalid options";
    default:
        return "unknown storage error";
    }
}

void storage_options_default(struct storage_options *o, uint32_t node_id)
{
    memset(o, 0, sizeof *o);
    o->node_id = node_id;
    o->segment_bytes = STORAGE_SEGMENT_BYTES_DEFAULT;
    o->fsync = true;
}

int storage_io_fail(struct storage *st, struct storage_error *err, int code, const char *file,
                    const char *problem, int sys_errno)
{
    st->failed = code;
    return storage_fail(err, code, file, problem, sys_errno);
}

int storage_sync_handle(struct storage *st, int handle, const char *name, struct storage_error *err)
{
    if (!st->opt.fsync)
        return 0;
    int rc = st->fs.sync(st->fs.ctx, handle);
    if (rc != 0)
        return storage_io_fail(st, err, STORAGE_ESYNC, name, "fdatasync failed", rc);
    return 0;
}

int storage_sync_dir(struct storage *st, struct storage_error *err)
{
    st->dir_dirty = false;
    if (!st->opt.fsync)
        return 0;
    int rc = st->fs.sync_dir(st->fs.ctx);
    if (rc != 0)
        return storage_io_fail(st, err, STORAGE_ESYNC, "", "directory sync failed", rc);
    return 0;
}

int storage_remove(struct storage *st, const char *name, struct storage_error *err)
{
    int rc = st->fs.remove(st->fs.ctx, name);
    if (rc != 0)
        return storage_io_fail(st, err, STORAGE_EIO, name, "cannot remove the file", rc);
    st->dir_dirty = true;
    return 0;
}

/* --- hard state ------------------------------------------------------------------------------ */

/* Writes (term, vote) into the slot that does not hold the last synced value. */
static int hs_write(struct storage *st, uint64_t term, uint32_t vote, struct storage_error *err)
{
    uint8_t slot[STORAGE_HS_SLOT_BYTES];
    struct storage_fmt_hard_state hs = {
        .seq = ++st->hs_seq, .term = term, .vote = vote, .node_id = st->opt.node_id};
    storage_fmt_hs_encode(slot, &hs);
    uint64_t at = (uint64_t)(1 - st->hs_durable_slot) * STORAGE_HS_SLOT1_OFFSET;
    int rc = st->fs.write(st->fs.ctx, st->hs_handle, at, slot, sizeof slot);
    if (rc != 0)
        return storage_io_fail(st, err, STORAGE_EIO, STORAGE_HS_NAME, "cannot write the hard state",
                               rc);
    st->hs_dirty = true;
    return 0;
}

static int hs_sync(struct storage *st, struct storage_error *err)
{
    if (!st->hs_dirty)
        return 0;
    if (storage_sync_handle(st, st->hs_handle, STORAGE_HS_NAME, err) != 0)
        return st->failed;
    st->hs_durable_slot = 1 - st->hs_durable_slot;
    st->hs_dirty = false;
    return 0;
}

/* Creates the hard state file of a new node: two empty slots, synced, its name synced. */
static int hs_create(struct storage *st, struct storage_error *err)
{
    int rc = st->fs.open(st->fs.ctx, STORAGE_HS_NAME, STORAGE_FS_CREATE, &st->hs_handle);
    if (rc != 0) {
        st->hs_handle = -1;
        return storage_io_fail(st, err, STORAGE_EIO, STORAGE_HS_NAME,
                               "cannot create the hard state", rc);
    }
    uint8_t zeros[STORAGE_HS_FILE_BYTES] = {0};
    rc = st->fs.write(st->fs.ctx, st->hs_handle, 0, zeros, sizeof zeros);
    if (rc != 0)
        return storage_io_fail(st, err, STORAGE_EIO, STORAGE_HS_NAME, "cannot write the hard state",
                               rc);
    if (storage_sync_handle(st, st->hs_handle, STORAGE_HS_NAME, err) != 0)
        return st->failed;
    return storage_sync_dir(st, err);
}

/* --- snapshots ---------------------------------------------------------------------------------
 */

/* Writes snap durably under its final name, then removes the one it replaces. */
static int snapshot_write(struct storage *st, const struct raft_snapshot *snap,
                          struct storage_error *err)
{
    assert(snap->index > 0 && snap->term > 0 && snap->index >= st->snap_index);
    /* The term the snapshot's leader made us take is durable before the snapshot is. */
    if (hs_sync(st, err) != 0)
        return st->failed;
    char name[STORAGE_NAME_BYTES], tmp[STORAGE_NAME_BYTES], old[STORAGE_NAME_BYTES];
    storage_fmt_snapshot_name(name, snap->index, snap->term);
    storage_fmt_temp_name(tmp, name);
    storage_fmt_snapshot_name(old, st->snap_index, st->snap_term);
    uint8_t header[STORAGE_SNAP_HEADER_BYTES];
    struct storage_fmt_snap_header h = {.node_id = st->opt.node_id,
                                        .index = snap->index,
                                        .term = snap->term,
                                        .data_len = snap->len,
                                        .config = snap->config};
    storage_fmt_snap_encode(header, &h, snap->data);
    /* The core hands over a configuration it could decode, or none (all zero): what is written
     * here is read back (storage_fmt_snap_config). */
    struct storage_fmt_snap_header back = {.version = STORAGE_SNAP_VERSION};
    const char *problem = NULL;
    int readable = storage_fmt_snap_config(header, &back, &problem) == 0 &&
                   raft_config_equal(&back.config, &snap->config);
    assert(readable);
    (void)readable;
    int handle;
    int rc = st->fs.open(st->fs.ctx, tmp, STORAGE_FS_CREATE, &handle);
    if (rc != 0)
        return storage_io_fail(st, err, STORAGE_EIO, tmp, "cannot create the snapshot", rc);
    rc = st->fs.truncate(st->fs.ctx, handle, 0);
    if (rc == 0)
        rc = st->fs.write(st->fs.ctx, handle, 0, header, sizeof header);
    if (rc == 0 && snap->len > 0)
        rc = st->fs.write(st->fs.ctx, handle, sizeof header, snap->data, snap->len);
    if (rc != 0) {
        st->fs.close(st->fs.ctx, handle);
        return storage_io_fail(st, err, STORAGE_EIO, tmp, "cannot write the snapshot", rc);
    }
    rc = storage_sync_handle(st, handle, tmp, err);
    st->fs.close(st->fs.ctx, handle);
    if (rc != 0)
        return st->failed;
    rc = st->fs.rename(st->fs.ctx, tmp, name);
    if (rc != 0)
        return storage_io_fail(st, err, STORAGE_EIO, tmp, "cannot rename the snapshot", rc);
    if (storage_sync_dir(st, err) != 0)
        return st->failed;
    /* The older one is not needed now; if its removal is lost, storage_open removes it. */
    if (st->snap_index != 0 && strcmp(old, name) != 0 && storage_remove(st, old, err) != 0)
        return st->failed;
    st->snap_index = snap->index;
    st->snap_term = snap->term;
    return 0;
}

/* --- write and sync -----------------------------------------------------------------------------
 */

int storage_write(struct storage *st, const struct raft_persist *p, struct storage_error *err)
{
    if (st->failed != 0)
        return storage_fail(err, STORAGE_EFAILED, "", "an earlier write or sync failed", 0);
    if (p->seq == 0)
        return 0;
    if (p->save_hard_state && hs_write(st, p->term, p->vote, err) != 0)
        return st->failed;
    if (p->snapshot != NULL && snapshot_write(st, p->snapshot, err) != 0)
        return st->failed;
    if (p->truncate_from != 0 && storage_log_truncate(st, p->truncate_from, err) != 0)
        return st->failed;
    if (storage_log_drop_stale(st, NULL, err) != 0)
        return st->failed;
    if (p->n_append > 0 &&
        storage_log_append(st, p->append_first, p->append, p->n_append, err) != 0)
        return st->failed;
    if (p->compact_before != 0 && storage_log_compact(st, p->compact_before, err) != 0)
        return st->failed;
    return 0;
}

int storage_sync(struct storage *st, struct storage_error *err)
{
    if (st->failed != 0)
        return storage_fail(err, STORAGE_EFAILED, "", "an earlier write or sync failed", 0);
    if (hs_sync(st, err) != 0)
        return st->failed;
    if ((st->seg_dirty || st->seg_handed_out) && st->seg_handle >= 0) {
        if (storage_sync_handle(st, st->seg_handle, st->segs[st->n_segs - 1].name, err) != 0)
            return st->failed;
        st->seg_dirty = false;
        st->seg_handed_out = false;
    }
    if (st->dir_dirty && storage_sync_dir(st, err) != 0)
        return st->failed;
    return 0;
}

int storage_sync_begin(struct storage *st, int *handle, struct storage_error *err)
{
    *handle = -1;
    if (st->failed != 0)
        return storage_fail(err, STORAGE_EFAILED, "", "an earlier write or sync failed", 0);
    if (hs_sync(st, err) != 0)
        return st->failed;
    /* The directory first: a new segment's name is durable before its records can be. */
    if (st->dir_dirty && storage_sync_dir(st, err) != 0)
        return st->failed;
    if ((st->seg_dirty || st->seg_handed_out) && st->seg_handle >= 0 && st->opt.fsync) {
        *handle = st->seg_handle;
        st->seg_dirty = false;
        st->seg_handed_out = true;
    }
    return 0;
}

void storage_sync_end(struct storage *st)
{
    st->seg_handed_out = false;
}

size_t storage_segments(const struct storage *st, const struct storage_segment **segs)
{
    *segs = st->segs;
    return st->n_segs;
}

void storage_close(struct storage *st)
{
    if (st->seg_handle >= 0)
        st->fs.close(st->fs.ctx, st->seg_handle);
    if (st->hs_handle >= 0)
        st->fs.close(st->fs.ctx, st->hs_handle);
    for (size_t i = 0; i < st->n_segs; i++)
        storage_segment_free(&st->segs[i]);
    free(st->segs);
    free(st->buf);
    memset(st, 0, sizeof *st);
    st->seg_handle = st->hs_handle = -1;
}

/* --- open ---------------------------------------------------------------------------------------
 */

/* The repairs a crash may call for (storage.h, docs/storage.md), each durable when done. */
static int repair(struct storage *st, struct storage_scan *sc, struct storage_report *rep,
                  struct storage_error *err)
{
    const struct storage_inspect *v = &sc->view;
    for (size_t i = 0; i < v->n_temps; i++) {
        if (storage_remove(st, v->temps[i], err) != 0)
            return st->failed;
        rep->temp_files_removed++;
    }
    for (size_t i = 0; i + 1 < v->n_snapshots; i++) {
        if (storage_remove(st, v->snapshots[i].name, err) != 0)
            return st->failed;
        rep->snapshots_removed++;
    }
    if (sc->torn) {
        memcpy(rep->torn_file, sc->torn_name, sizeof rep->torn_file);
        rep->torn_bytes_cut = sc->torn_bytes;
        if (sc->torn_whole) {
            if (storage_remove(st, sc->torn_name, err) != 0)
                return st->failed;
        } else {
            int h, rc = st->fs.open(st->fs.ctx, sc->torn_name, 0, &h);
            if (rc != 0)
                return storage_io_fail(st, err, STORAGE_EIO, sc->torn_name,
                                       "cannot open the segment", rc);
            rc = st->fs.truncate(st->fs.ctx, h, sc->torn_at);
            if (rc != 0) {
                st->fs.close(st->fs.ctx, h);
                return storage_io_fail(st, err, STORAGE_EIO, sc->torn_name,
                                       "cannot truncate the segment", rc);
            }
            rc = storage_sync_handle(st, h, sc->torn_name, err);
            st->fs.close(st->fs.ctx, h);
            if (rc != 0)
                return st->failed;
        }
    }
    /* Segments before a hole the snapshot covers: left by a compaction a crash interrupted. */
    for (size_t i = 0; i < sc->chain_start; i++) {
        if (storage_remove(st, sc->segs[i].name, err) != 0)
            return st->failed;
        rep->segments_removed++;
    }
    /* The rest become the storage's log. */
    st->n_segs = sc->n_segs - sc->chain_start;
    st->segs = xcalloc(st->n_segs + 1, sizeof *st->segs);
    if (st->n_segs > 0)
        memcpy(st->segs, sc->segs + sc->chain_start, st->n_segs * sizeof *st->segs);
    for (size_t i = sc->chain_start; i < sc->n_segs; i++)
        sc->segs[i].offsets = NULL;
    if (sc->conflict_from != 0) {
        rep->conflict_dropped_from = sc->conflict_from;
        /* From the disagreeing record at the snapshot's index on: what is left then ends before
         * the snapshot and goes below, so no record of the other history stays. */
        if (storage_log_truncate(st, sc->conflict_from - 1, err) != 0)
            return st->failed;
    }
    if (storage_log_drop_stale(st, &rep->segments_removed, err) != 0)
        return st->failed;
    if (st->dir_dirty && storage_sync_dir(st, err) != 0)
        return st->failed;
    return 0;
}

static void report_loaded(const struct storage *st, const struct raft_disk *d,
                          struct storage_report *rep)
{
    rep->term = d->current_term;
    rep->vote = d->voted_for;
    rep->snapshot_index = d->snapshot.index;
    rep->snapshot_term = d->snapshot.term;
    rep->snapshot_bytes = d->snapshot.len;
    rep->log_first = raft_log_first_index(&d->log);
    rep->log_last = raft_log_last_index(&d->log);
    rep->records_loaded = d->log.n;
    rep->segments = (uint32_t)st->n_segs;
}

int storage_open(struct storage *st, const struct storage_fs *fs, const struct storage_options *opt,
                 struct raft_disk *loaded, struct storage_report *report, struct storage_error *err)
{
    memset(st, 0, sizeof *st);
    memset(report, 0, sizeof *report);
    memset(err, 0, sizeof *err);
    st->seg_handle = st->hs_handle = -1;
    raft_disk_init(loaded);
    if (opt->node_id < 1 || opt->node_id > RAFT_MAX_NODES || opt->segment_bytes < 64 ||
        opt->segment_bytes > STORAGE_SEGMENT_BYTES_MAX)
        return storage_fail(err, STORAGE_EINVAL, "",
                            "need node_id 1..255 and segment_bytes 64..512 MiB", 0);
    st->fs = *fs;
    st->opt = *opt;
    struct storage_scan sc;
#ifdef RAFT_PLANTED_BUGS
    sc.planted_bugs = opt->planted_bugs;
#endif
    int rc = storage_scan(fs, opt->node_id, &loaded->log, &sc, err);
    if (rc != 0)
        goto fail;
    if (sc.view.n_damage > 0) {
        const struct storage_damage *d = &sc.view.damage[0];
        rc = storage_fail(err, STORAGE_ECORRUPT, d->file, d->problem, 0);
        err->has_offset = d->has_offset;
        err->offset = d->offset;
        goto fail;
    }
    report->new_node = !sc.hs_valid && sc.n_segs == 0 && sc.view.n_snapshots == 0;
    if (!sc.view.hard_state_found) {
        if ((rc = hs_create(st, err)) != 0)
            goto fail;
    } else if ((rc = st->fs.open(fs->ctx, STORAGE_HS_NAME, 0, &st->hs_handle)) != 0) {
        st->hs_handle = -1;
        rc = storage_fail(err, STORAGE_EIO, STORAGE_HS_NAME, "cannot open the hard state", rc);
        goto fail;
    }
    st->hs_seq = sc.hs_seq_max;
    st->hs_durable_slot = sc.view.slot_used >= 0 ? sc.view.slot_used : 1;
    st->snap_index = sc.snapshot.index;
    st->snap_term = sc.snapshot.term;
    st->next_seq = sc.max_seq + 1;
    if ((rc = repair(st, &sc, report, err)) != 0)
        goto fail;
    loaded->snapshot = sc.snapshot; /* moved */
    memset(&sc.snapshot, 0, sizeof sc.snapshot);
    loaded->current_term = sc.hs.term;
    loaded->voted_for = sc.hs.vote;
    /* Log pages the kernel wrote back before a crash cut a sync short can hold a term the hard
     * state never reached; none of them was acknowledged, nor a vote in that term (votes wait
     * for their sync), so the term is raised with no vote. */
    uint64_t log_term = raft_log_last_term(&loaded->log);
    if (log_term > loaded->current_term) {
        loaded->current_term = log_term;
        loaded->voted_for = 0;
        report->term_raised = true;
    }
    report_loaded(st, loaded, report);
    storage_scan_free(&sc);
    return 0;
fail:
    storage_scan_free(&sc);
    storage_close(st);
    raft_disk_close(loaded);
    return rc;
}
