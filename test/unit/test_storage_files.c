/* test_storage_files.c - the file storage's round trips on real files: what storage_open loads
 * back after each kind of request is what raft_disk_apply holds after the same requests. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_membership.h"
#include "test_storage_dir.h"

/* A new directory is a new node: only an empty hard state file is written; it loads nothing. */
static void new_directory_is_a_new_node(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    assert_true(rep.new_node);
    assert_int_equal(rep.term, 0);
    assert_int_equal(rep.log_first, 1);
    assert_int_equal(rep.log_last, 0);
    assert_int_equal(file_size(&t, "hardstate"), STORAGE_HS_FILE_BYTES);
    char seg[4][STORAGE_NAME_BYTES];
    assert_int_equal(names(&t, "wal-", seg), 0);
    reopen_check(&t, &o, &st, &d, &rep);
    assert_true(rep.new_node);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* The hard state alternates between its two slots; two writes before a sync go to the same slot,
 * so the last synced value is never overwritten; reopening takes the newer valid slot. */
static void hard_state_alternates_slots(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    struct raft_persist p = {.save_hard_state = true, .term = 1, .vote = 0};
    put(&t, &st, &p); /* seq 1 -> slot 0 */
    p = (struct raft_persist){.save_hard_state = true, .term = 2, .vote = 3};
    put(&t, &st, &p); /* seq 2 -> slot 1 */
    assert_int_equal(file_peek(&t, "hardstate", 16), 1);
    assert_int_equal(file_peek(&t, "hardstate", 512 + 16), 2);
    assert_int_equal(file_peek(&t, "hardstate", 512 + 24), 2);
    /* Two writes without a sync: both into slot 0; slot 1 (synced: term 2) untouched. */
    struct storage_error err;
    p = (struct raft_persist){.seq = 10, .save_hard_state = true, .term = 3, .vote = 1};
    assert_int_equal(storage_write(&st, &p, &err), 0);
    p = (struct raft_persist){.seq = 11, .save_hard_state = true, .term = 4, .vote = 2};
    assert_int_equal(storage_write(&st, &p, &err), 0);
    assert_int_equal(file_peek(&t, "hardstate", 16), 4);
    assert_int_equal(file_peek(&t, "hardstate", 24), 4);
    assert_int_equal(file_peek(&t, "hardstate", 512 + 24), 2);
    assert_int_equal(storage_sync(&st, &err), 0);
    t.model.current_term = 4;
    t.model.voted_for = 2;
    reopen_check(&t, &o, &st, &d, &rep);
    assert_false(rep.new_node);
    assert_int_equal(rep.term, 4);
    assert_int_equal(rep.vote, 2);
    /* The next write goes to slot 1 (slot 0 now holds the synced value). */
    p = (struct raft_persist){.save_hard_state = true, .term = 5, .vote = 0};
    put(&t, &st, &p);
    assert_int_equal(file_peek(&t, "hardstate", 512 + 24), 5);
    reopen_check(&t, &o, &st, &d, &rep);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* Many entries in batches across many tiny segments come back exactly, and keep coming back
 * after more appends to the reopened log. */
static void entries_round_trip_across_segments(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    for (int b = 0; b < 15; b++)
        append(&t, &st, 7, 1 + (uint64_t)b / 5);
    reopen_check(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.records_loaded, 105);
    assert_int_equal(rep.log_first, 1);
    assert_int_equal(rep.log_last, 105);
    assert_int_equal(rep.term, 3);
    char seg[64][STORAGE_NAME_BYTES];
    size_t n = names(&t, "wal-", seg);
    assert_true(n >= 8);
    assert_int_equal(rep.segments, n);
    append(&t, &st, 30, 4);
    reopen_check(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.log_last, 135);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* A truncation inside an older segment removes the later segments and cuts that one; entries
 * appended after it (another term) come back, and segment names stay unique and in order. */
static void truncate_in_older_segment_then_append(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    append(&t, &st, 60, 1);
    char before[64][STORAGE_NAME_BYTES];
    size_t n_before = names(&t, "wal-", before);
    assert_true(n_before >= 5);
    struct raft_entry *e = entries(3, 25, 2);
    struct raft_persist p = {.save_hard_state = true,
                             .term = 2,
                             .truncate_from = 3,
                             .append_first = 3,
                             .append = e,
                             .n_append = 25};
    put(&t, &st, &p);
    entries_free(e, 25);
    reopen_check(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.log_last, 27);
    char after[64][STORAGE_NAME_BYTES];
    size_t n_after = names(&t, "wal-", after);
    assert_string_equal(after[0], before[0]); /* the cut segment stays, shorter */
    for (size_t i = 1; i < n_after; i++) {
        assert_true(strcmp(after[i - 1], after[i]) < 0);
        for (size_t k = 1; k < n_before; k++)
            assert_string_not_equal(after[i], before[k]);
    }
    /* A truncation at a segment's first index removes that segment whole. */
    uint64_t seg_first = strtoull(after[n_after - 1] + 21, NULL, 16);
    p = (struct raft_persist){.truncate_from = seg_first};
    e = entries(seg_first, 3, 2);
    p.append_first = seg_first;
    p.append = e;
    p.n_append = 3;
    put(&t, &st, &p);
    entries_free(e, 3);
    reopen_check(&t, &o, &st, &d, &rep);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

static struct raft_snapshot snap_of(uint64_t index, uint64_t term, size_t len)
{
    struct raft_snapshot s = {.index = index, .term = term, .len = len};
    s.data = len ? xmalloc(len) : NULL;
    for (size_t i = 0; i < len; i++)
        s.data[i] = (uint8_t)(i * 7 + index);
    return s;
}

/* A snapshot and compact_before remove the segments wholly before it; the log loads from the
 * snapshot on; a newer snapshot replaces the older file. */
static void snapshot_and_compaction(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    append(&t, &st, 80, 1);
    char segs[64][STORAGE_NAME_BYTES];
    size_t n0 = names(&t, "wal-", segs);
    struct raft_snapshot s = snap_of(50, 1, 300);
    struct raft_persist p = {.snapshot = &s, .compact_before = 41};
    put(&t, &st, &p);
    free(s.data);
    char snaps[4][STORAGE_NAME_BYTES];
    assert_int_equal(names(&t, "snap-", snaps), 1);
    assert_string_equal(snaps[0], "snap-0000000000000032-0000000000000001");
    size_t n1 = names(&t, "wal-", segs);
    assert_true(n1 < n0);
    /* The oldest segment left holds index 40 or later. */
    uint64_t first = strtoull(segs[0] + 21, NULL, 16);
    assert_true(first <= 41);
    reopen_check(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.snapshot_index, 50);
    assert_int_equal(rep.snapshot_bytes, 300);
    assert_int_equal(rep.log_first, 51);
    assert_int_equal(rep.log_last, 80);
    append(&t, &st, 5, 2);
    s = snap_of(70, 1, 10);
    p = (struct raft_persist){.snapshot = &s, .compact_before = 61};
    put(&t, &st, &p);
    free(s.data);
    assert_int_equal(names(&t, "snap-", snaps), 1);
    assert_string_equal(snaps[0], "snap-0000000000000046-0000000000000001");
    reopen_check(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.log_first, 71);
    assert_int_equal(rep.log_last, 85);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* InstallSnapshot that conflicts with the log: with the truncation, the log restarts after the
 * snapshot; if only the snapshot became durable (the truncation lost in a crash), recovery finds
 * the log's entry at the snapshot's index with another term and drops the log after it. */
static void snapshot_install_conflicting_with_log(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    append(&t, &st, 40, 1);
    /* The snapshot alone, as if the truncation that came with it had been lost. */
    struct raft_snapshot s = snap_of(30, 2, 20);
    struct raft_persist p = {.save_hard_state = true, .term = 3, .snapshot = &s};
    struct storage_error err;
    p.seq = ++t.seq;
    assert_int_equal(storage_write(&st, &p, &err), 0);
    assert_int_equal(storage_sync(&st, &err), 0);
    storage_close(&st);
    raft_disk_close(&d);
    open_ok(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.conflict_dropped_from, 31);
    assert_int_equal(rep.snapshot_index, 30);
    assert_int_equal(rep.log_first, 31);
    assert_int_equal(rep.log_last, 30);
    assert_int_equal(d.log.prev_term, 2);
    /* What the core asks: the snapshot with a truncation of the whole log, then entries. */
    p.truncate_from = 1;
    raft_disk_apply(&t.model, &p);
    free(s.data);
    append(&t, &st, 5, 3);
    reopen_check(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.conflict_dropped_from, 0);
    assert_int_equal(rep.log_last, 35);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* InstallSnapshot as the core asks it, in one request: the snapshot, a truncation of the whole
 * log and the entries after the snapshot. */
static void snapshot_install_in_one_request(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    append(&t, &st, 40, 1);
    struct raft_snapshot s = snap_of(30, 2, 16);
    struct raft_entry *e = entries(31, 5, 3);
    struct raft_persist p = {.save_hard_state = true,
                             .term = 3,
                             .snapshot = &s,
                             .truncate_from = 1,
                             .append_first = 31,
                             .append = e,
                             .n_append = 5};
    put(&t, &st, &p);
    entries_free(e, 5);
    free(s.data);
    reopen_check(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.conflict_dropped_from, 0);
    assert_int_equal(rep.log_first, 31);
    assert_int_equal(rep.log_last, 35);
    char segs[64][STORAGE_NAME_BYTES];
    assert_int_equal(names(&t, "wal-", segs), 1);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* A snapshot past the end of the log: the old segments go, the log continues after it. */
static void snapshot_past_the_log(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    append(&t, &st, 20, 1);
    struct raft_snapshot s = snap_of(50, 2, 0);
    struct raft_persist p = {.save_hard_state = true, .term = 2, .snapshot = &s};
    put(&t, &st, &p);
    char segs[64][STORAGE_NAME_BYTES];
    assert_int_equal(names(&t, "wal-", segs), 0);
    append(&t, &st, 10, 2);
    reopen_check(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.log_first, 51);
    assert_int_equal(rep.log_last, 60);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* A snapshot's configuration (voters 1 2 3 5, learner 7) survives its write and a reload exactly,
 * and inspect shows it; a later snapshot with none recorded (all zero, as a server that joined
 * with an empty configuration may take one) loads as none. */
static void snapshot_keeps_its_configuration(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    append(&t, &st, 20, 1);
    struct raft_config want = config_1235_7();
    struct raft_snapshot s = snap_of(15, 1, 40);
    s.config = want;
    struct raft_persist p = {.snapshot = &s, .compact_before = 10};
    put(&t, &st, &p);
    free(s.data);
    reopen_check(&t, &o, &st, &d, &rep); /* the configuration too */
    assert_true(raft_config_equal(&d.snapshot.config, &want));
    char snaps[4][STORAGE_NAME_BYTES];
    assert_int_equal(names(&t, "snap-", snaps), 1);
    assert_int_equal(file_size(&t, snaps[0]), STORAGE_SNAP_HEADER_BYTES + 40);
    struct storage_inspect in;
    struct storage_error err;
    assert_int_equal(storage_inspect(&t.port, 1, &in, &err), 0);
    assert_int_equal(in.n_damage, 0);
    assert_int_equal(in.n_snapshots, 1);
    assert_true(in.snapshots[0].ok);
    assert_int_equal(in.snapshots[0].version, STORAGE_SNAP_VERSION);
    assert_true(raft_config_equal(&in.snapshots[0].config, &want));
    storage_inspect_free(&in);
    s = snap_of(18, 1, 0);
    p = (struct raft_persist){.snapshot = &s};
    put(&t, &st, &p);
    reopen_check(&t, &o, &st, &d, &rep);
    assert_int_equal(d.snapshot.index, 18);
    assert_int_equal(raft_config_voters(&d.snapshot.config), 0);
    assert_int_equal(raft_config_learners(&d.snapshot.config), 0);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* A configuration entry in the log comes back from a reload: its type and its 64 bytes. */
static void config_entry_round_trip(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    append(&t, &st, 3, 1);
    struct raft_config want = config_1235_7();
    uint8_t bytes[RAFT_CONFIG_BYTES];
    raft_config_encode(&want, bytes);
    uint8_t cmd[3] = {'a', 'b', 'c'};
    struct raft_entry e[2] = {
        {.term = 1, .type = RAFT_ENTRY_CONFIG, .len = sizeof bytes, .data = bytes},
        {.term = 1, .type = RAFT_ENTRY_COMMAND, .len = sizeof cmd, .data = cmd},
    };
    struct raft_persist p = {.append_first = 4, .append = e, .n_append = 2};
    put(&t, &st, &p);
    reopen_check(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.log_last, 5);
    const struct raft_entry *got = raft_log_get(&d.log, 4);
    assert_int_equal(got->type, RAFT_ENTRY_CONFIG);
    struct raft_config back;
    assert_int_equal(raft_config_decode(got->data, got->len, &back, NULL), RAFT_OK);
    assert_true(raft_config_equal(&back, &want));
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* A port whose fdatasync fails. */
static int failing_sync(void *ctx, int handle)
{
    (void)ctx;
    (void)handle;
    return EIO;
}

/* A failed fdatasync is STORAGE_ESYNC, and from then on every call is refused. */
static void failed_sync_is_final(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    st.fs.sync = failing_sync;
    struct storage_error err;
    struct raft_persist p = {.seq = 1, .save_hard_state = true, .term = 1};
    assert_int_equal(storage_write(&st, &p, &err), 0);
    assert_int_equal(storage_sync(&st, &err), STORAGE_ESYNC);
    assert_string_equal(err.file, "hardstate");
    assert_int_equal(err.sys_errno, EIO);
    p.seq = 2;
    assert_int_equal(storage_write(&st, &p, &err), STORAGE_EFAILED);
    assert_int_equal(storage_sync(&st, &err), STORAGE_EFAILED);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_directory_is_a_new_node),
        cmocka_unit_test(hard_state_alternates_slots),
        cmocka_unit_test(entries_round_trip_across_segments),
        cmocka_unit_test(truncate_in_older_segment_then_append),
        cmocka_unit_test(snapshot_and_compaction),
        cmocka_unit_test(snapshot_install_conflicting_with_log),
        cmocka_unit_test(snapshot_install_in_one_request),
        cmocka_unit_test(snapshot_past_the_log),
        cmocka_unit_test(snapshot_keeps_its_configuration),
        cmocka_unit_test(config_entry_round_trip),
        cmocka_unit_test(failed_sync_is_final),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
