/* test_sim_fs.c - the simulator's disk (sim/simfs.h): what survives a crash is exactly what the
 * storage port's contract allows (synced bytes and names; a prefix of the rest, the last write
 * possibly torn), a failed sync makes nothing durable, and the damage faults change the bytes
 * they name. Then the file storage over it, crashed at random points of random workloads over
 * many seeds: it always reopens, with every synced entry and the synced term and vote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/prng.h"
#include "raft/log.h"
#include "raft/raft.h"
#include "sim/simfs.h"
#include "storage/storage.h"

struct file {
    uint8_t bytes[256];
    uint64_t size;
    bool exists;
};

/* Reads name's current bytes through the port. */
static struct file read_file(struct storage_fs *port, const char *name)
{
    struct file f = {.exists = false};
    int h;
    if (port->open(port->ctx, name, 0, &h) != 0)
        return f;
    f.exists = true;
    assert_int_equal(port->size(port->ctx, h, &f.size), 0);
    assert_true(f.size <= sizeof f.bytes);
    assert_int_equal(port->read(port->ctx, h, 0, f.bytes, (size_t)f.size), 0);
    port->close(port->ctx, h);
    return f;
}

/* Synced bytes survive every crash; unsynced writes survive as a prefix in order, the last kept
 * one possibly torn (a prefix of its bytes). Over many seeds every outcome shows up. */
static void crash_keeps_a_prefix_of_unsynced_writes(void **state)
{
    (void)state;
    bool seen_none = false, seen_all = false, seen_torn = false;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        struct simfs *fs = simfs_new();
        struct storage_fs port;
        simfs_port(fs, &port);
        int h;
        assert_int_equal(port.open(port.ctx, "f", STORAGE_FS_CREATE, &h), 0);
        assert_int_equal(port.write(port.ctx, h, 0, "AAAA", 4), 0);
        assert_int_equal(port.sync(port.ctx, h), 0);
        assert_int_equal(port.sync_dir(port.ctx), 0);
        assert_int_equal(port.write(port.ctx, h, 4, "BBBB", 4), 0);
        assert_int_equal(port.write(port.ctx, h, 8, "CCCC", 4), 0);
        struct prng rng;
        prng_seed(&rng, seed);
        simfs_crash(fs, &rng, true);
        struct file f = read_file(&port, "f");
        assert_true(f.exists);
        assert_true(f.size >= 4 && f.size <= 12);
        assert_memory_equal(f.bytes, "AAAABBBBCCCC", (size_t)f.size);
        seen_none |= f.size == 4;
        seen_all |= f.size == 12;
        seen_torn |= f.size % 4 != 0;
        simfs_free(fs);
    }
    assert_true(seen_none && seen_all && seen_torn);
}

/* A created name is durable only after sync_dir; a rename leaves one name or the other. */
static void names_need_a_directory_sync(void **state)
{
    (void)state;
    bool lost = false, kept = false;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        struct simfs *fs = simfs_new();
        struct storage_fs port;
        simfs_port(fs, &port);
        int h;
        assert_int_equal(port.open(port.ctx, "old", STORAGE_FS_CREATE, &h), 0);
        assert_int_equal(port.write(port.ctx, h, 0, "x", 1), 0);
        assert_int_equal(port.sync(port.ctx, h), 0);
        port.close(port.ctx, h);
        assert_int_equal(port.sync_dir(port.ctx), 0);
        assert_int_equal(port.open(port.ctx, "new", STORAGE_FS_CREATE | STORAGE_FS_EXCL, &h), 0);
        port.close(port.ctx, h);
        assert_int_equal(port.open(port.ctx, "new", STORAGE_FS_CREATE | STORAGE_FS_EXCL, &h),
                         EEXIST);
        assert_int_equal(port.rename(port.ctx, "old", "moved"), 0);
        struct prng rng;
        prng_seed(&rng, seed);
        simfs_crash(fs, &rng, true);
        bool old = read_file(&port, "old").exists, moved = read_file(&port, "moved").exists;
        assert_true(old != moved); /* atomic: exactly one of the two */
        assert_memory_equal(read_file(&port, old ? "old" : "moved").bytes, "x", 1);
        bool created = read_file(&port, "new").exists;
        assert_false(moved && !created); /* a prefix of the name operations, in order */
        lost |= !created;
        kept |= created;
        simfs_free(fs);
    }
    assert_true(lost && kept);
}

/* A failed fdatasync returns EIO and makes nothing durable; the next one works again. */
static void failed_sync_makes_nothing_durable(void **state)
{
    (void)state;
    struct simfs *fs = simfs_new();
    struct storage_fs port;
    simfs_port(fs, &port);
    int h;
    assert_int_equal(port.open(port.ctx, "f", STORAGE_FS_CREATE, &h), 0);
    assert_int_equal(port.sync_dir(port.ctx), 0);
    assert_int_equal(port.write(port.ctx, h, 0, "data", 4), 0);
    simfs_fail_next_sync(fs);
    assert_int_equal(port.sync(port.ctx, h), EIO);
    assert_int_equal(simfs_durable_size(fs, "f"), 0);
    assert_int_equal(port.sync(port.ctx, h), 0);
    assert_int_equal(simfs_durable_size(fs, "f"), 4);
    struct simfs_counts c;
    simfs_counts(fs, &c);
    assert_int_equal(c.sync_errors, 1);
    simfs_free(fs);
}

/* A flipped bit and a misplaced write change the durable bytes they name, and nothing else. */
static void damage_changes_durable_bytes(void **state)
{
    (void)state;
    struct simfs *fs = simfs_new();
    struct storage_fs port;
    simfs_port(fs, &port);
    int h;
    assert_int_equal(port.open(port.ctx, "f", STORAGE_FS_CREATE, &h), 0);
    assert_int_equal(port.write(port.ctx, h, 0, "0123456789", 10), 0);
    assert_int_equal(port.sync(port.ctx, h), 0);
    port.close(port.ctx, h);
    assert_int_equal(simfs_flip_bit(fs, "f", 3, 0), ENOENT); /* its name is not durable yet */
    assert_int_equal(port.sync_dir(port.ctx), 0);
    assert_int_equal(simfs_flip_bit(fs, "f", 10, 0), ENOENT); /* past the end */
    assert_int_equal(simfs_flip_bit(fs, "f", 3, 0), 0);
    assert_memory_equal(read_file(&port, "f").bytes, "0122456789", 10);
    assert_int_equal(simfs_misplace(fs, "f", 8, 2, 1), 0);
    assert_memory_equal(read_file(&port, "f").bytes, "08924567\0\0", 10);
    simfs_free(fs);
}

/* What a crash test knows to be durable: the last entry synced, each entry's term as synced, and
 * the term. */
struct durable {
    uint64_t last, term;
    uint64_t terms[200];
};

/* Everything in model is durable now (a sync covered it). */
static void durable_all(struct durable *d, const struct raft_disk *model)
{
    d->last = raft_log_last_index(&model->log);
    d->term = model->current_term;
    for (uint64_t i = 1; i <= d->last; i++)
        d->terms[i] = raft_log_get(&model->log, i)->term;
}

/* Opens the storage over port after a crash: it must open, and hold at least what d says is
 * durable. What it loaded becomes *model. */
static void reopen(struct storage *st, struct storage_fs *port, const struct storage_options *so,
                   const struct durable *d, struct raft_disk *model, struct storage_report *rep,
                   uint64_t seed, int round)
{
    struct raft_disk loaded;
    struct storage_error err;
    if (storage_open(st, port, so, &loaded, rep, &err) != 0)
        fail_msg("seed %llu round %d: %s: offset %llu: %s", (unsigned long long)seed, round,
                 err.file, (unsigned long long)err.offset, err.problem ? err.problem : "");
    if (loaded.current_term < d->term)
        fail_msg("seed %llu round %d: term %llu, %llu was durable", (unsigned long long)seed, round,
                 (unsigned long long)loaded.current_term, (unsigned long long)d->term);
    assert_true(raft_log_last_index(&loaded.log) >= d->last);
    for (uint64_t i = 1; i <= d->last; i++)
        assert_int_equal(raft_log_get(&loaded.log, i)->term, d->terms[i]);
    raft_disk_close(model);
    *model = loaded;
}

/* The entries of one random request. */
struct request {
    struct raft_persist p;
    struct raft_entry e[3];
    uint8_t data[3][8];
};

/* A random request after model, numbered seq, into *q: one to three entries appended, after a
 * truncation one time in trunc_odds, in a new term one time in term_odds. False once the log
 * reaches index 190 (d->terms' size). */
static bool random_request(struct prng *rng, const struct raft_disk *model, uint64_t seq,
                           uint64_t term_odds, uint64_t trunc_odds, struct request *q)
{
    uint64_t last = raft_log_last_index(&model->log);
    uint64_t term = model->current_term + (prng_range(rng, 0, term_odds - 1) == 0);
    if (term == 0)
        term = 1;
    q->p = (struct raft_persist){
        .seq = seq, .save_hard_state = term != model->current_term, .term = term, .vote = 1};
    if (last > 0 && prng_range(rng, 0, trunc_odds - 1) == 0) /* truncate, then append */
        q->p.truncate_from = prng_range(rng, 1, last);
    uint64_t first = q->p.truncate_from ? q->p.truncate_from : last + 1;
    if (first >= 190)
        return false;
    q->p.append_first = first;
    q->p.n_append = (size_t)prng_range(rng, 1, 3);
    for (size_t j = 0; j < q->p.n_append; j++) {
        memset(q->data[j], (int)('a' + j), sizeof q->data[j]);
        q->e[j] = (struct raft_entry){
            .term = term, .type = RAFT_ENTRY_COMMAND, .len = 8, .data = q->data[j]};
    }
    q->p.append = q->e;
    return true;
}

/* One seed of a crash test: the simulated disk, the storage's options (segments of 64 bytes times
 * 2..1 + max_segment_units, so that they roll often), the model of every request written, what
 * is known durable, and the requests' numbers. */
struct crash_run {
    struct prng rng;
    struct simfs *fs;
    struct storage_fs port;
    struct storage_options so;
    struct raft_disk model;
    struct durable d;
    uint64_t seq;
};

static void crash_run_start(struct crash_run *c, uint64_t seed, uint64_t max_segment_units)
{
    memset(c, 0, sizeof *c);
    prng_seed(&c->rng, seed);
    c->fs = simfs_new();
    simfs_port(c->fs, &c->port);
    storage_options_default(&c->so, 1);
    c->so.segment_bytes = 64 * (1 + prng_range(&c->rng, 1, max_segment_units));
    raft_disk_init(&c->model);
}

static void crash_run_end(struct crash_run *c)
{
    raft_disk_close(&c->model);
    simfs_free(c->fs);
}

/* The file storage over the simulated disk, crashed at a random point of a random workload
 * (appends, truncations, term changes, syncs), over many seeds: it reopens every time, and the
 * log loaded holds every entry synced, with its term; the term and vote are at least the synced
 * ones. */
static void storage_survives_random_crashes(void **state)
{
    (void)state;
    uint64_t reopened = 0, torn_seen = 0;
    for (uint64_t seed = 1; seed <= 400; seed++) {
        struct crash_run c;
        crash_run_start(&c, seed, 8);
        for (int round = 0; round < 3; round++) {
            struct storage st;
            struct storage_report rep;
            reopen(&st, &c.port, &c.so, &c.d, &c.model, &rep, seed, round);
            reopened++;
            torn_seen += rep.torn_bytes_cut > 0;
            uint64_t steps = prng_range(&c.rng, 1, 30);
            struct request q;
            for (uint64_t k = 0; k < steps && random_request(&c.rng, &c.model, ++c.seq, 2, 5, &q);
                 k++) {
                if (q.p.truncate_from != 0 && q.p.truncate_from <= c.d.last)
                    c.d.last = q.p.truncate_from - 1; /* a truncation is durable at once */
                struct storage_error err;
                assert_int_equal(storage_write(&st, &q.p, &err), 0);
                raft_disk_apply(&c.model, &q.p);
                if (prng_range(&c.rng, 0, 2) == 0) {
                    assert_int_equal(storage_sync(&st, &err), 0);
                    durable_all(&c.d, &c.model);
                }
            }
            storage_close(&st);
            simfs_crash(c.fs, &c.rng, true);
        }
        crash_run_end(&c);
    }
    assert_int_equal(reopened, 1200);
    assert_true(torn_seen > 0); /* the crashes did tear records that the storage then cut */
}

/* The same, with the segment's sync made the way the threaded node makes it (storage_sync_begin,
 * the sync done elsewhere later, storage_sync_end) while writes go on: what was written before a
 * begin whose sync completed survives any crash, even when the segment rolled or was truncated
 * meanwhile (its handle closed: the node syncs a duplicate, which a roll makes needless by
 * sealing the segment itself). A begin left unfinished at the crash promises nothing. */
static void storage_survives_crashes_with_syncs_elsewhere(void **state)
{
    (void)state;
    uint64_t completed = 0, rolled_meanwhile = 0;
    for (uint64_t seed = 1; seed <= 400; seed++) {
        struct crash_run c;
        crash_run_start(&c, seed, 4);
        struct durable *d = &c.d;
        for (int round = 0; round < 3; round++) {
            struct storage st;
            struct storage_report rep;
            reopen(&st, &c.port, &c.so, d, &c.model, &rep, seed, round);
            /* The last term written to the hard state: a loaded term may be raised from the
             * log's, and that one is not in the hard state. */
            uint64_t hs_term = d->term;
            /* The sync under way: the handle given out, the segment it was, and what it makes
             * durable (clamped by the truncations made since). */
            bool busy = false;
            int handle = -1;
            char seg[STORAGE_NAME_BYTES] = "";
            struct durable pending = {0};
            uint64_t steps = prng_range(&c.rng, 1, 40);
            struct request q;
            for (uint64_t k = 0; k < steps && random_request(&c.rng, &c.model, ++c.seq, 6, 6, &q);
                 k++) {
                if (q.p.truncate_from != 0 && q.p.truncate_from <= d->last)
                    d->last = q.p.truncate_from - 1;
                if (busy && q.p.truncate_from != 0 && q.p.truncate_from <= pending.last)
                    pending.last = q.p.truncate_from - 1;
                struct storage_error err;
                assert_int_equal(storage_write(&st, &q.p, &err), 0);
                raft_disk_apply(&c.model, &q.p);
                if (q.p.save_hard_state)
                    hs_term = q.p.term;
                const struct storage_segment *segs;
                size_t n = storage_segments(&st, &segs);
                if (!busy && prng_range(&c.rng, 0, 2) == 0) {
                    assert_int_equal(storage_sync_begin(&st, &handle, &err), 0);
                    if (hs_term > d->term)
                        d->term = hs_term; /* the hard state is synced in begin */
                    busy = true;
                    durable_all(&pending, &c.model);
                    snprintf(seg, sizeof seg, "%s", n > 0 ? segs[n - 1].name : "");
                } else if (busy && prng_range(&c.rng, 0, 2) == 0) {
                    /* The sync elsewhere ends: it synced its duplicate of the handle, which is
                     * the same file only if the segment is still the newest. */
                    if (handle >= 0 && n > 0 && strcmp(segs[n - 1].name, seg) == 0)
                        assert_int_equal(c.port.sync(c.port.ctx, handle), 0);
                    else
                        rolled_meanwhile += handle >= 0;
                    storage_sync_end(&st);
                    busy = false;
                    completed++;
                    if (pending.last > d->last) {
                        for (uint64_t i = d->last + 1; i <= pending.last; i++)
                            d->terms[i] = pending.terms[i];
                        d->last = pending.last;
                    }
                }
            }
            storage_close(&st);
            simfs_crash(c.fs, &c.rng, true);
        }
        crash_run_end(&c);
    }
    assert_true(completed > 100);
    assert_true(rolled_meanwhile > 10); /* the case a roll must seal did come up */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crash_keeps_a_prefix_of_unsynced_writes),
        cmocka_unit_test(names_need_a_directory_sync),
        cmocka_unit_test(failed_sync_makes_nothing_durable),
        cmocka_unit_test(damage_changes_durable_bytes),
        cmocka_unit_test(storage_survives_random_crashes),
        cmocka_unit_test(storage_survives_crashes_with_syncs_elsewhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
