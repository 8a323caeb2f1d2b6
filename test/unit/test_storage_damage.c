/* test_storage_damage.c - recovery from damage built by hand on real files: a torn tail of the
 * newest segment is cut and reported; every other damage refuses to start, naming the file, the
 * offset and the problem; inspect reports damage and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_storage_dir.h"

/* A directory of node 1 with n entries of term 1 in segments of segment_bytes, closed. */
static void build(struct tdir *t, size_t n, uint64_t segment_bytes)
{
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(segment_bytes);
    open_ok(t, &o, &st, &d, &rep);
    append(t, &st, n, 1);
    storage_close(&st);
    raft_disk_close(&d);
}

/* Opens with segments of 256 bytes; returns the report; the loaded log must end at last. */
static struct storage_report reopen_expect_last(struct tdir *t, uint64_t last)
{
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(t, &o, &st, &d, &rep);
    assert_int_equal(raft_log_last_index(&d.log), last);
    assert_int_equal(rep.log_last, last);
    storage_close(&st);
    raft_disk_close(&d);
    return rep;
}

/* A last record cut short is a torn write: cut off, the bytes reported, the file truncated; the
 * log goes on from there. */
static void truncated_last_record_is_cut(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 10, 1u << 20);
    char seg[4][STORAGE_NAME_BYTES];
    assert_int_equal(names(&t, "wal-", seg), 1);
    long size = file_size(&t, seg[0]);
    long rec10 = rec_offset(1, 10);
    assert_int_equal(size, rec_offset(1, 11));
    file_cut(&t, seg[0], size - 5);
    struct storage_report rep = reopen_expect_last(&t, 9);
    assert_int_equal(rep.torn_bytes_cut, size - 5 - rec10);
    assert_string_equal(rep.torn_file, seg[0]);
    assert_int_equal(file_size(&t, seg[0]), rec10);
    /* The next open finds nothing to cut. */
    rep = reopen_expect_last(&t, 9);
    assert_int_equal(rep.torn_bytes_cut, 0);
    tdir_remove(&t);
}

/* A last record zeroed and zeros after it (space the file system allocated): cut. */
static void zeroed_tail_is_cut(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 10, 1u << 20);
    char seg[4][STORAGE_NAME_BYTES];
    names(&t, "wal-", seg);
    long rec10 = rec_offset(1, 10);
    uint8_t zeros[4096] = {0};
    file_poke(&t, seg[0], rec10, zeros, sizeof zeros);
    struct storage_report rep = reopen_expect_last(&t, 9);
    assert_int_equal(rep.torn_bytes_cut, 4096);
    assert_int_equal(file_size(&t, seg[0]), rec10);
    tdir_remove(&t);
}

/* A record whose checksum fails with only zeros after it (a torn write into allocated space). */
static void bad_last_record_then_zeros_is_cut(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 10, 1u << 20);
    char seg[4][STORAGE_NAME_BYTES];
    names(&t, "wal-", seg);
    long rec10 = rec_offset(1, 10);
    flip_bit(&t, seg[0], rec10 + 20); /* in its index field */
    uint8_t zeros[100] = {0};
    file_poke(&t, seg[0], file_size(&t, seg[0]), zeros, sizeof zeros);
    reopen_expect_last(&t, 9);
    tdir_remove(&t);
}

/* A flipped bit in an older segment refuses, naming the segment and the record's offset. */
static void flipped_bit_in_older_segment_refuses(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 40, 256);
    char seg[64][STORAGE_NAME_BYTES];
    assert_true(names(&t, "wal-", seg) >= 3);
    uint64_t first = strtoull(seg[1] + 21, NULL, 16);
    long at = rec_offset(first, first + 1);
    flip_bit(&t, seg[1], at + 33); /* a data byte of its second record */
    open_refused(&t, seg[1], true, (uint64_t)at, "record: bad checksum");
    tdir_remove(&t);
}

/* A flipped bit in the middle of the newest segment, valid records after it: refused. */
static void flipped_bit_mid_newest_refuses(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 10, 1u << 20);
    char seg[4][STORAGE_NAME_BYTES];
    names(&t, "wal-", seg);
    long at = rec_offset(1, 5);
    flip_bit(&t, seg[0], at + 8); /* the checksum field */
    open_refused(&t, seg[0], true, (uint64_t)at, "record: bad checksum");
    /* A damaged length field there cannot be a torn write either. */
    flip_bit(&t, seg[0], at + 8);
    flip_bit(&t, seg[0], at + 1);
    open_refused(&t, seg[0], true, (uint64_t)at, "record length damaged");
    tdir_remove(&t);
}

/* A missing middle segment leaves a hole in the indices: refused at the next segment. */
static void missing_middle_segment_refuses(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 40, 256);
    char seg[64][STORAGE_NAME_BYTES];
    assert_true(names(&t, "wal-", seg) >= 3);
    assert_int_equal(unlink(file_path(&t, seg[1])), 0);
    open_refused(&t, seg[2], true, 16, "entries missing before this segment (a segment is gone)");
    tdir_remove(&t);
}

/* Wrong magic and an unknown version in a segment's header are refused. */
static void wrong_magic_or_version_refuses(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 40, 256);
    char seg[64][STORAGE_NAME_BYTES];
    names(&t, "wal-", seg);
    file_poke(&t, seg[0], 0, "X", 1);
    open_refused(&t, seg[0], true, 0, "segment header: wrong magic");
    file_poke(&t, seg[0], 0, "R", 1);
    uint8_t v2 = 2;
    file_poke(&t, seg[0], 8, &v2, 1);
    open_refused(&t, seg[0], true, 0, "segment header: unknown format version");
    tdir_remove(&t);
}

/* Another node's directory is refused. */
static void other_node_refuses(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 5, 256);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_error err;
    struct storage_options o = topt(256);
    o.node_id = 2;
    assert_int_equal(storage_open(&st, &t.port, &o, &d, &rep, &err), STORAGE_ECORRUPT);
    assert_string_equal(err.file, "hardstate");
    assert_string_equal(err.problem, "written by another node (node id differs)");
    tdir_remove(&t);
}

/* Builds a hard state of (1, 0) in slot 0 and (2, 3) in slot 1. */
static void two_slots(struct tdir *t)
{
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(t, &o, &st, &d, &rep);
    struct raft_persist p = {.save_hard_state = true, .term = 1};
    put(t, &st, &p);
    p = (struct raft_persist){.save_hard_state = true, .term = 2, .vote = 3};
    put(t, &st, &p);
    storage_close(&st);
    raft_disk_close(&d);
}

/* A slot torn by a crash: the other one is used. */
static void torn_slot_uses_the_other(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    two_slots(&t);
    flip_bit(&t, "hardstate", 512 + 30);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.term, 1);
    assert_int_equal(rep.vote, 0);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* Both slots damaged: refused. */
static void both_slots_bad_refuses(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    two_slots(&t);
    flip_bit(&t, "hardstate", 30);
    flip_bit(&t, "hardstate", 512 + 30);
    open_refused(&t, "hardstate", false, 0, "no valid hard state slot");
    tdir_remove(&t);
}

/* A snapshot whose checksum fails is refused (offset 40: the checksum field). */
static void snapshot_checksum_bad_refuses(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    append(&t, &st, 10, 1);
    uint8_t data[64] = {1, 2, 3};
    struct raft_snapshot s = {.index = 8, .term = 1, .data = data, .len = sizeof data};
    struct raft_persist p = {.snapshot = &s};
    put(&t, &st, &p);
    storage_close(&st);
    raft_disk_close(&d);
    char snap[4][STORAGE_NAME_BYTES];
    assert_int_equal(names(&t, "snap-", snap), 1);
    flip_bit(&t, snap[0], STORAGE_SNAP_HEADER_BYTES + 10);
    open_refused(&t, snap[0], true, 40, "snapshot: bad checksum");
    tdir_remove(&t);
}

/* A temporary snapshot file left by a crash is removed at open, and reported. */
static void leftover_temp_snapshot_removed(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 5, 256);
    const char *tmp = "snap-0000000000000004-0000000000000001.tmp";
    file_poke(&t, tmp, 0, "half a snapshot", 15);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    assert_int_equal(rep.temp_files_removed, 1);
    assert_int_equal(file_size(&t, tmp), -1);
    assert_int_equal(rep.log_last, 5);
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* Every file's name and bytes, to compare a directory before and after. */
static size_t dir_bytes(const struct tdir *t, uint8_t *out, size_t cap)
{
    char all[64][STORAGE_NAME_BYTES];
    size_t n = names(t, "", all), used = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(all[i]);
        assert_true(used + len + 1 <= cap);
        memcpy(out + used, all[i], len + 1);
        used += len + 1;
        FILE *f = fopen(file_path(t, all[i]), "rb");
        assert_non_null(f);
        used += fread(out + used, 1, cap - used, f);
        fclose(f);
    }
    return used;
}

/* Inspect on a damaged directory reports the damage (file and offset), the torn tail and the
 * temporary file, and changes no byte and no name. */
static void inspect_reports_and_changes_nothing(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 40, 256);
    char seg[64][STORAGE_NAME_BYTES];
    size_t n = names(&t, "wal-", seg);
    uint64_t first = strtoull(seg[0] + 21, NULL, 16);
    long at = rec_offset(first, first + 2);
    flip_bit(&t, seg[0], at + 32); /* its first data byte */
    file_cut(&t, seg[n - 1], file_size(&t, seg[n - 1]) - 3);
    file_poke(&t, "snap-0000000000000004-0000000000000001.tmp", 0, "x", 1);
    static uint8_t before[1 << 20], after[1 << 20];
    size_t len = dir_bytes(&t, before, sizeof before);
    struct file_fs ro;
    char msg[256];
    assert_int_equal(file_fs_open(&ro, t.path, false, true, msg, sizeof msg), 0);
    struct storage_fs port;
    file_fs_port(&ro, &port);
    struct storage_inspect in;
    struct storage_error err;
    assert_int_equal(storage_inspect(&port, 0, &in, &err), 0);
    assert_int_equal(in.node_id, 1);
    assert_true(in.hard_state_found);
    assert_int_equal(in.slot_used, 0);
    assert_int_equal(in.slots[0].value.term, 1);
    assert_int_equal(in.n_segments, n);
    assert_int_equal(in.n_temps, 1);
    assert_true(in.n_damage >= 1);
    assert_string_equal(in.damage[0].file, seg[0]);
    assert_int_equal(in.damage[0].offset, at);
    assert_string_equal(in.damage[0].problem, "record: bad checksum");
    assert_true(in.segments[n - 1].torn_bytes > 0);
    storage_inspect_free(&in);
    file_fs_close(&ro);
    assert_int_equal(dir_bytes(&t, after, sizeof after), len);
    assert_memory_equal(before, after, len);
    tdir_remove(&t);
}

/* Inspect on a sound directory: no damage, segments joined up from index 1. */
static void inspect_sound_directory(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 40, 256);
    struct storage_inspect in;
    struct storage_error err;
    assert_int_equal(storage_inspect(&t.port, 1, &in, &err), 0);
    assert_int_equal(in.n_damage, 0);
    assert_int_equal(in.segments[0].first, 1);
    assert_int_equal(in.segments[in.n_segments - 1].last, 40);
    for (size_t i = 1; i < in.n_segments; i++)
        assert_int_equal(in.segments[i].first, in.segments[i - 1].last + 1);
    storage_inspect_free(&in);
    tdir_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(truncated_last_record_is_cut),
        cmocka_unit_test(zeroed_tail_is_cut),
        cmocka_unit_test(bad_last_record_then_zeros_is_cut),
        cmocka_unit_test(flipped_bit_in_older_segment_refuses),
        cmocka_unit_test(flipped_bit_mid_newest_refuses),
        cmocka_unit_test(missing_middle_segment_refuses),
        cmocka_unit_test(wrong_magic_or_version_refuses),
        cmocka_unit_test(other_node_refuses),
        cmocka_unit_test(torn_slot_uses_the_other),
        cmocka_unit_test(both_slots_bad_refuses),
        cmocka_unit_test(snapshot_checksum_bad_refuses),
        cmocka_unit_test(leftover_temp_snapshot_removed),
        cmocka_unit_test(inspect_reports_and_changes_nothing),
        cmocka_unit_test(inspect_sound_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
