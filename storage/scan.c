/* scan.c - reading a storage directory without changing it: the hard state slots, the snapshots
 * and every record of every segment, checked against the format and against each other. The one
 * reader behind storage_open (which then repairs and loads) and storage_inspect (which reports).
 * Design: collect every damage rather than stop at the first, and decide in one place (here)
 * what is a torn tail a crash may leave and what is damage.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "storage/internal.h"

struct name_entry {
    char name[STORAGE_NAME_BYTES];
    enum storage_fmt_kind kind;
    uint64_t a, b;
};

struct listing {
    struct name_entry *names;
    size_t n, cap;
};

/* The log as read so far: what the loaded log must continue with. */
struct chain {
    uint64_t snap_index, snap_term;
    uint64_t next;      /* the index the loaded log needs next (snapshot.index + 1 at first) */
    uint64_t prev_term; /* the term of next - 1 */
    bool conflict;      /* the record at snap_index has another term than the snapshot */
    uint32_t node_id;   /* expected in every file; 0 until one is found (inspect) */
};

static int collect(void *arg, const char *name)
{
    struct listing *l = arg;
    if (l->n == STORAGE_MAX_FILES)
        return E2BIG;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->names = xreallocarray(l->names, l->cap, sizeof *l->names);
    }
    struct name_entry *e = &l->names[l->n++];
    memset(e, 0, sizeof *e);
    size_t len = strnlen(name, STORAGE_FS_NAME_MAX);
    memcpy(e->name, name, len);
    e->kind = storage_fmt_parse_name(e->name, &e->a, &e->b);
    return 0;
}

static void damage(struct storage_scan *sc, const char *file, bool has_offset, uint64_t offset,
                   const char *problem)
{
    struct storage_inspect *v = &sc->view;
    if (v->n_damage == STORAGE_MAX_DAMAGE)
        return;
    if (v->damage == NULL)
        v->damage = xcalloc(STORAGE_MAX_DAMAGE, sizeof *v->damage);
    struct storage_damage *d = &v->damage[v->n_damage++];
    memset(d->file, 0, sizeof d->file);
    memcpy(d->file, file, strnlen(file, STORAGE_FS_NAME_MAX));
    d->has_offset = has_offset;
    d->offset = offset;
    d->problem = problem;
}

/* False (and damage recorded) if found is not the node the directory belongs to. */
static bool node_ok(struct storage_scan *sc, struct chain *ch, uint32_t found, const char *file,
                    uint64_t offset)
{
    if (ch->node_id == 0) {
        ch->node_id = found;
        sc->view.node_id = found;
    }
    if (found == ch->node_id)
        return true;
    damage(sc, file, true, offset, "written by another node (node id differs)");
    return false;
}

static bool all_zero(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* Reads the whole file name (at most max bytes) into a new *buf. 0, or -1 with *problem. */
static int read_whole(const struct storage_fs *fs, const char *name, uint64_t max, uint8_t **buf,
                      uint64_t *size, const char **problem)
{
    int h;
    *buf = NULL;
    if (fs->open(fs->ctx, name, 0, &h) != 0) {
        *problem = "cannot open the file";
        return -1;
    }
    int rc = fs->size(fs->ctx, h, size);
    if (rc != 0) {
        *problem = "cannot read the file's size";
    } else if (*size > max) {
        *problem = "file too large";
        rc = -1;
    } else {
        *buf = xmalloc((size_t)*size);
        if (fs->read(fs->ctx, h, 0, *buf, (size_t)*size) != 0) {
            *problem = "cannot read the file";
            rc = -1;
        }
    }
    fs->close(fs->ctx, h);
    if (rc != 0) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    return 0;
}

static void scan_hard_state(const struct storage_fs *fs, struct storage_scan *sc, struct chain *ch)
{
    struct storage_inspect *v = &sc->view;
    uint8_t *buf;
    uint64_t size;
    const char *problem;
    if (read_whole(fs, STORAGE_HS_NAME, STORAGE_HS_FILE_BYTES, &buf, &size, &problem) != 0) {
        damage(sc, STORAGE_HS_NAME, false, 0, problem);
        return;
    }
    /* A file shorter than two slots was cut by a crash while it was created: zeros. */
    uint8_t whole[STORAGE_HS_FILE_BYTES] = {0};
    if (size > 0)
        memcpy(whole, buf, (size_t)size);
    free(buf);
    bool any_bad = false;
    for (int i = 0; i < 2; i++) {
        struct storage_inspect_slot *s = &v->slots[i];
        uint64_t at = (uint64_t)i * STORAGE_HS_SLOT1_OFFSET;
        s->state = storage_fmt_hs_decode(whole + at, &s->value, &s->problem);
        if (s->state == STORAGE_SLOT_VALID && !node_ok(sc, ch, s->value.node_id, "hardstate", at))
            s->state = STORAGE_SLOT_BAD, s->problem = "hard state slot: another node's";
        any_bad |= s->state == STORAGE_SLOT_BAD;
        if (s->state == STORAGE_SLOT_VALID &&
            (v->slot_used < 0 || s->value.seq > v->slots[v->slot_used].value.seq))
            v->slot_used = i;
    }
    if (v->slot_used >= 0) {
        sc->hs_valid = true;
        sc->hs = v->slots[v->slot_used].value;
        sc->hs_seq_max = sc->hs.seq;
    } else if (any_bad && !(v->slots[0].state == STORAGE_SLOT_BAD &&
                            v->slots[1].state == STORAGE_SLOT_EMPTY)) {
        /* Slot 0 damaged beside an empty slot 1 is the very first write torn by a crash (the
         * first goes to slot 0): the empty state, term 0, is the last synced one. */
        damage(sc, STORAGE_HS_NAME, false, 0, "no valid hard state slot");
    }
}

/* Checks snapshot file s (its name already parsed into index and term); if load is not NULL,
 * keeps its data, length and configuration there. Records damage if it is the one in use
 * (in_use). */
static void check_snapshot(const struct storage_fs *fs, struct storage_scan *sc, struct chain *ch,
                           struct storage_inspect_snapshot *s, bool in_use,
                           struct raft_snapshot *load)
{
    uint8_t *buf;
    uint64_t size;
    const char *problem = NULL;
    uint64_t at = 0;
    struct storage_fmt_snap_header h;
    if (read_whole(fs, s->name, STORAGE_MAX_FILE_BYTES, &buf, &size, &problem) != 0)
        goto bad;
    s->bytes = size;
    if (storage_fmt_snap_decode(buf, size, &h, &problem) != 0) {
        /* problem set */
    } else if (h.index != s->index || h.term != s->term || h.index == 0 || h.term == 0) {
        problem = "snapshot: index or term differs from its name";
        at = 16;
    } else if (h.data_len != size - h.header_bytes) {
        problem = "snapshot: data length differs from the file's size";
        at = 32;
    } else if (!storage_fmt_snap_check(buf, &h, buf + h.header_bytes)) {
        problem = "snapshot: bad checksum";
        at = h.header_bytes - 8;
    } else if (storage_fmt_snap_config(buf, &h, &problem) != 0) {
        at = STORAGE_SNAP_CONFIG_OFFSET;
    } else if (!in_use || node_ok(sc, ch, h.node_id, s->name, 12)) {
        s->ok = true;
        s->version = h.version;
        s->config = h.config;
        if (load != NULL) {
            load->config = h.config;
            load->len = (size_t)h.data_len;
            if (h.data_len > 0) {
                load->data = xmalloc((size_t)h.data_len);
                memcpy(load->data, buf + h.header_bytes, (size_t)h.data_len);
            }
        }
        free(buf);
        return;
    } else {
        free(buf);
        return; /* node_ok recorded it */
    }
    free(buf);
bad:
    if (in_use)
        damage(sc, s->name, problem != NULL && at != 0, at, problem);
}

static void scan_snapshots(const struct storage_fs *fs, struct storage_scan *sc, struct chain *ch,
                           const struct listing *l, bool load)
{
    struct storage_inspect *v = &sc->view;
    for (size_t i = 0; i < l->n; i++) {
        if (l->names[i].kind != STORAGE_FILE_SNAPSHOT)
            continue;
        if (v->snapshots == NULL)
            v->snapshots = xcalloc(l->n, sizeof *v->snapshots);
        struct storage_inspect_snapshot *s = &v->snapshots[v->n_snapshots++];
        memcpy(s->name, l->names[i].name, sizeof s->name);
        s->index = l->names[i].a;
        s->term = l->names[i].b;
    }
    /* By index then term: the last one is in use. */
    for (size_t i = 1; i < v->n_snapshots; i++)
        for (size_t j = i; j > 0; j--) {
            struct storage_inspect_snapshot *a = &v->snapshots[j - 1], *b = &v->snapshots[j];
            if (a->index < b->index || (a->index == b->index && a->term <= b->term))
                break;
            struct storage_inspect_snapshot t = *a;
            *a = *b;
            *b = t;
        }
    if (v->n_snapshots == 0)
        return;
    sc->snap = (int)v->n_snapshots - 1;
    struct storage_inspect_snapshot *use = &v->snapshots[sc->snap];
    struct raft_snapshot loaded = {0};
    check_snapshot(fs, sc, ch, use, true, load ? &loaded : NULL);
    if (use->ok) {
        ch->snap_index = use->index;
        ch->snap_term = use->term;
        loaded.index = use->index;
        loaded.term = use->term;
        sc->snapshot = loaded; /* its data, length and configuration only if load */
    }
    if (!load) /* inspect: verify the older ones too (storage_open removes them unread) */
        for (size_t i = 0; i + 1 < v->n_snapshots; i++)
            check_snapshot(fs, sc, ch, &v->snapshots[i], false, NULL);
}

/* Follows one sound record into the chain; false (damage recorded) if it breaks the log. */
static bool chain_record(struct storage_scan *sc, struct chain *ch, struct raft_log *log,
                         const char *file, uint64_t offset, const struct storage_fmt_rec_view *r)
{
    if (r->index == ch->snap_index && ch->snap_index != 0 && r->term != ch->snap_term)
        ch->conflict = true;
    if (r->index <= ch->snap_index || ch->conflict)
        return true;
    if (r->index > ch->next && sc->view.n_damage > 0) {
        ch->next = r->index; /* after damage: follow on, to describe the rest (refused anyway) */
    } else if (r->index > ch->next) {
        damage(sc, file, true, offset, "entries missing before this record (a segment is gone)");
        return false;
    }
    if (r->index < ch->next) {
        damage(sc, file, true, offset, "record overlaps an earlier segment");
        return false;
    }
    if (r->term < ch->prev_term) {
        damage(sc, file, true, offset, "record: term lower than the entry before it");
        return false;
    }
    if (log != NULL)
        raft_log_append(log, r->term, r->type, r->data, r->len);
    ch->next++;
    ch->prev_term = r->term;
    return true;
}

static void push_segment(struct storage_scan *sc, const struct storage_segment *seg)
{
    sc->segs = xreallocarray(sc->segs, sc->n_segs + 1, sizeof *sc->segs);
    sc->segs[sc->n_segs++] = *seg;
}

static void note_torn(struct storage_scan *sc, const char *name, uint64_t at, uint64_t bytes)
{
    sc->torn = true;
    memcpy(sc->torn_name, name, sizeof sc->torn_name);
    sc->torn_at = at;
    sc->torn_bytes = bytes;
}

/* Reads the records of segment e, the newest if newest. */
static void scan_segment(const struct storage_fs *fs, struct storage_scan *sc, struct chain *ch,
                         const struct name_entry *e, bool newest, struct raft_log *log,
                         struct storage_inspect_segment *out)
{
    uint8_t *buf;
    uint64_t size;
    const char *problem;
    if (read_whole(fs, e->name, STORAGE_MAX_FILE_BYTES, &buf, &size, &problem) != 0) {
        damage(sc, e->name, false, 0, problem);
        return;
    }
    out->bytes = size;
    struct storage_fmt_seg_header h;
    if (size < STORAGE_SEG_HEADER_BYTES || storage_fmt_seg_decode(buf, &h, &problem) != 0) {
        /* A new segment whose header a crash tore: it never held a record. */
        bool no_records = size <= STORAGE_SEG_HEADER_BYTES ||
                          all_zero(buf + STORAGE_SEG_HEADER_BYTES, size - STORAGE_SEG_HEADER_BYTES);
        if (newest && no_records) {
            note_torn(sc, e->name, 0, size);
            sc->torn_whole = true;
            out->torn_bytes = size;
        } else {
            damage(sc, e->name, true, 0,
                   size < STORAGE_SEG_HEADER_BYTES ? "segment header: cut short" : problem);
        }
        free(buf);
        return;
    }
    if (!node_ok(sc, ch, h.node_id, e->name, 12)) {
        free(buf);
        return;
    }
    if (h.first_index != e->b) {
        damage(sc, e->name, true, 16, "segment header: first index differs from its name");
        free(buf);
        return;
    }
    struct storage_segment seg = {.seq = e->a, .first = h.first_index};
    memcpy(seg.name, e->name, sizeof seg.name);
    out->first = seg.first;
    /* A segment that starts after the snapshot continues the loaded log exactly. */
    if (seg.first > ch->next && sc->view.n_damage > 0)
        ch->next = seg.first; /* after damage: follow on, to describe the rest */
    if (seg.first > ch->snap_index && !ch->conflict && seg.first != ch->next) {
        damage(sc, e->name, true, 16,
               seg.first > ch->next ? "entries missing before this segment (a segment is gone)"
                                    : "segment overlaps an earlier segment");
        free(buf);
        return;
    }
    uint64_t off = STORAGE_SEG_HEADER_BYTES;
    bool ok = true;
    while (off < size && ok) {
        struct storage_fmt_rec_view r;
        enum storage_fmt_rec kind = storage_fmt_rec_decode(buf + off, size - off, &r, &problem);
        if (kind == STORAGE_REC_OK) {
            if (r.index != seg.first + seg.n) {
                damage(sc, e->name, true, off, "record index out of sequence");
                break;
            }
            /* Sound bytes (the checksum holds) that raft_init would refuse: say which record. */
            if (r.type == RAFT_ENTRY_CONFIG &&
                raft_config_decode(r.data, r.len, NULL, NULL) != RAFT_OK) {
                damage(sc, e->name, true, off, "record: malformed configuration");
                break;
            }
            if (!chain_record(sc, ch, log, e->name, off, &r))
                break;
            if (seg.n == seg.cap) {
                seg.cap = seg.cap ? 2 * seg.cap : 64;
                seg.offsets = xreallocarray(seg.offsets, (size_t)seg.cap, sizeof *seg.offsets);
            }
            seg.offsets[seg.n++] = off;
            sc->last_term = r.term;
            off += r.bytes;
            continue;
        }
        /* The end of what was written: a torn tail only at the end of the newest segment, with
         * nothing but zeros after what the record could have covered. */
        uint64_t claimed = kind == STORAGE_REC_SHORT ? size - off
                           : kind == STORAGE_REC_BAD
                               ? storage_fmt_rec_claimed_bytes(buf + off, size - off)
                               : 0;
        bool zeros_after = all_zero(buf + off + claimed, size - off - claimed);
#ifdef RAFT_PLANTED_BUGS
        if (sc->planted_bugs & RAFT_BUG_CUT_ON_BAD_CHECKSUM)
            zeros_after = true; /* the bug: any damage is taken for a torn write */
#endif
        if (newest && zeros_after) {
            note_torn(sc, e->name, off, size - off);
            out->torn_bytes = size - off;
        } else if (kind == STORAGE_REC_ZERO) {
            damage(sc, e->name, true, off,
                   newest ? "zeroed bytes in the middle of the segment"
                          : "zeroed bytes at the end of an older segment");
        } else if (kind == STORAGE_REC_SHORT) {
            damage(sc, e->name, true, off, "record cut short in an older segment");
        } else {
            damage(sc, e->name, true, off, problem);
        }
        ok = false;
    }
    seg.end = off;
    out->records = seg.n;
    out->last = seg.first + seg.n - 1;
    push_segment(sc, &seg);
    free(buf);
}

static void scan_segments(const struct storage_fs *fs, struct storage_scan *sc, struct chain *ch,
                          struct listing *l, struct raft_log *log)
{
    struct storage_inspect *v = &sc->view;
    /* Segments sort by their seq (in the name): the order they were created. */
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->names[i].kind == STORAGE_FILE_SEGMENT)
            l->names[n++] = l->names[i];
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && l->names[j - 1].a > l->names[j].a; j--) {
            struct name_entry t = l->names[j - 1];
            l->names[j - 1] = l->names[j];
            l->names[j] = t;
        }
    l->n = n;
    if (n == 0)
        return;
    v->segments = xcalloc(n, sizeof *v->segments);
    for (size_t i = 0; i < n; i++) {
        const struct name_entry *e = &l->names[i];
        struct storage_inspect_segment *out = &v->segments[v->n_segments++];
        memcpy(out->name, e->name, sizeof out->name);
        out->seq = e->a;
        out->first = e->b;
        out->last = e->b - 1;
        if (e->a > sc->max_seq)
            sc->max_seq = e->a;
        if (i > 0 && e->a == l->names[i - 1].a) {
            damage(sc, e->name, false, 0, "two segments with the same sequence number");
            continue;
        }
        scan_segment(fs, sc, ch, e, i + 1 == n, log, out);
    }
    /* The chain: the newest segments that join up, index after index. */
    size_t k = sc->n_segs;
    while (k > 1 && sc->segs[k - 1].first == sc->segs[k - 2].first + sc->segs[k - 2].n)
        k--;
    sc->chain_start = k > 0 ? k - 1 : 0;
}

int storage_scan(const struct storage_fs *fs, uint32_t node_id, struct raft_log *log,
                 struct storage_scan *sc, struct storage_error *err)
{
#ifdef RAFT_PLANTED_BUGS
    uint32_t planted_bugs = sc->planted_bugs;
#endif
    memset(sc, 0, sizeof *sc);
#ifdef RAFT_PLANTED_BUGS
    sc->planted_bugs = planted_bugs;
#endif
    sc->view.slot_used = -1;
    sc->snap = -1;
    struct listing l = {0};
    int rc = fs->list(fs->ctx, collect, &l);
    if (rc != 0) {
        free(l.names);
        return storage_fail(err, STORAGE_EIO, "",
                            rc == E2BIG ? "too many files in the directory"
                                        : "cannot list the directory",
                            rc == E2BIG ? 0 : rc);
    }
    struct chain ch = {.node_id = node_id};
    sc->view.node_id = node_id;
    bool hs_found = false, other_state = false;
    for (size_t i = 0; i < l.n; i++) {
        struct name_entry *e = &l.names[i];
        struct storage_inspect *v = &sc->view;
        if (e->kind == STORAGE_FILE_HARD_STATE)
            hs_found = true;
        other_state |= e->kind == STORAGE_FILE_SEGMENT || e->kind == STORAGE_FILE_SNAPSHOT;
        if (e->kind == STORAGE_FILE_TEMP || e->kind == STORAGE_FILE_OTHER) {
            size_t *count = e->kind == STORAGE_FILE_TEMP ? &v->n_temps : &v->n_others;
            char(**names)[STORAGE_NAME_BYTES] =
                e->kind == STORAGE_FILE_TEMP ? &v->temps : &v->others;
            *names = xreallocarray(*names, *count + 1, sizeof **names);
            memcpy((*names)[(*count)++], e->name, STORAGE_NAME_BYTES);
        }
    }
    sc->view.hard_state_found = hs_found;
    if (hs_found)
        scan_hard_state(fs, sc, &ch);
    else if (other_state)
        damage(sc, STORAGE_HS_NAME, false, 0, "hard state file missing beside the log");
    scan_snapshots(fs, sc, &ch, &l, log != NULL);
    ch.next = ch.snap_index + 1;
    ch.prev_term = ch.snap_term;
    if (log != NULL)
        raft_log_reset(log, ch.snap_index, ch.snap_term);
    scan_segments(fs, sc, &ch, &l, log);
    if (ch.conflict) {
        sc->conflict_from = ch.snap_index + 1;
        if (log != NULL)
            raft_log_reset(log, ch.snap_index, ch.snap_term);
    }
    free(l.names);
    return STORAGE_OK;
}

void storage_segment_free(struct storage_segment *seg)
{
    free(seg->offsets);
    seg->offsets = NULL;
    seg->n = seg->cap = 0;
}

void storage_scan_free(struct storage_scan *sc)
{
    for (size_t i = 0; i < sc->n_segs; i++)
        storage_segment_free(&sc->segs[i]);
    free(sc->segs);
    free(sc->snapshot.data);
    storage_inspect_free(&sc->view);
    memset(sc, 0, sizeof *sc);
}

void storage_inspect_free(struct storage_inspect *in)
{
    free(in->segments);
    free(in->snapshots);
    free(in->temps);
    free(in->others);
    free(in->damage);
    memset(in, 0, sizeof *in);
}

int storage_inspect(const struct storage_fs *fs, uint32_t node_id, struct storage_inspect *out,
                    struct storage_error *err)
{
    struct storage_scan sc;
    memset(&sc, 0, sizeof sc); /* (the test build reads sc.planted_bugs: none) */
    memset(out, 0, sizeof *out);
    int rc = storage_scan(fs, node_id, NULL, &sc, err);
    if (rc != 0) {
        storage_scan_free(&sc);
        return rc;
    }
    *out = sc.view; /* moved */
    memset(&sc.view, 0, sizeof sc.view);
    storage_scan_free(&sc);
    return STORAGE_OK;
}

int storage_fail(struct storage_error *err, int code, const char *file, const char *problem,
                 int sys_errno)
{
    memset(err, 0, sizeof *err);
    err->code = code;
    memcpy(err->file, file, strnlen(file, STORAGE_FS_NAME_MAX));
    err->problem = problem;
    err->sys_errno = sys_errno;
    return code;
}

int storage_fail_at(struct storage_error *err, int code, const char *file, uint64_t offset,
                    const char *problem)
{
    storage_fail(err, code, file, problem, 0);
    err->has_offset = true;
    err->offset = offset;
    return code;
}
