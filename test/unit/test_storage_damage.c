/* test_storage_damage.c - recovery from damage built by hand on real files: a torn tail of the
 * newest segment is cut and reported; every other damage refuses to start, naming the file, the
 * offset and the problem; inspect reports damage and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/crc32c.h"
#include "common/le.h"
#include "test_membership.h"
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

/* A directory of node 1 with 10 entries of term 1 and, after them, snapshot s, closed; the
 * snapshot file's name in name. */
static void build_with_snapshot(struct tdir *t, const struct raft_snapshot *s,
                                char name[STORAGE_NAME_BYTES])
{
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(t, &o, &st, &d, &rep);
    append(t, &st, 10, 1);
    struct raft_persist p = {.snapshot = s};
    put(t, &st, &p);
    storage_close(&st);
    raft_disk_close(&d);
    char snaps[4][STORAGE_NAME_BYTES];
    assert_int_equal(names(t, "snap-", snaps), 1);
    memcpy(name, snaps[0], STORAGE_NAME_BYTES);
}

/* A snapshot whose checksum fails is refused (offset 104: the checksum field). */
static void snapshot_checksum_bad_refuses(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    uint8_t data[64] = {1, 2, 3};
    struct raft_snapshot s = {.index = 8, .term = 1, .data = data, .len = sizeof data};
    char snap[STORAGE_NAME_BYTES];
    build_with_snapshot(&t, &s, snap);
    flip_bit(&t, snap, STORAGE_SNAP_HEADER_BYTES + 10);
    open_refused(&t, snap, true, STORAGE_SNAP_HEADER_BYTES - 8, "snapshot: bad checksum");
    tdir_remove(&t);
}

/* The whole of file name (at most cap bytes); returns its size. */
static size_t file_read(const struct tdir *t, const char *name, uint8_t *out, size_t cap)
{
    FILE *f = fopen(file_path(t, name), "rb");
    assert_non_null(f);
    size_t n = fread(out, 1, cap, f);
    assert_true(n < cap);
    fclose(f);
    return n;
}

/* Sets bytes [at, at + n) of a version 2 snapshot file to bytes and writes the checksum those
 * bytes make, so the header checks and only what they mean is wrong. */
static void snapshot_rewrite(const struct tdir *t, const char *name, long at, const uint8_t *bytes,
                             size_t n)
{
    static uint8_t file[4096];
    size_t size = file_read(t, name, file, sizeof file);
    memcpy(file + at, bytes, n);
    uint8_t crc[4];
    uint32_t c = crc32c(0, file, STORAGE_SNAP_HEADER_BYTES - 8);
    le_put(crc, crc32c(c, file + STORAGE_SNAP_HEADER_BYTES, size - STORAGE_SNAP_HEADER_BYTES), 4);
    file_poke(t, name, at, bytes, n);
    file_poke(t, name, STORAGE_SNAP_HEADER_BYTES - 8, crc, sizeof crc);
}

/* A snapshot's configuration damaged is refused, naming the file: a flipped bit is caught by the
 * checksum; bytes whose checksum holds but that are no configuration (server 2 both voter and
 * learner; a learner without any voter) are refused at offset 40, where the configuration is. */
static void snapshot_configuration_damaged_refuses(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    uint8_t data[16] = {1, 2, 3};
    struct raft_snapshot s = {
        .index = 8, .term = 1, .config = config_1235_7(), .data = data, .len = sizeof data};
    char snap[STORAGE_NAME_BYTES];
    build_with_snapshot(&t, &s, snap);
    flip_bit(&t, snap, STORAGE_SNAP_CONFIG_OFFSET + 3);
    open_refused(&t, snap, true, STORAGE_SNAP_HEADER_BYTES - 8, "snapshot: bad checksum");
    flip_bit(&t, snap, STORAGE_SNAP_CONFIG_OFFSET + 3);
    uint8_t both = 1u << 2 | 1u << 7; /* learners of word 0: 2 (also a voter) and 7 */
    snapshot_rewrite(&t, snap, STORAGE_SNAP_CONFIG_OFFSET + 32, &both, 1);
    open_refused(&t, snap, true, STORAGE_SNAP_CONFIG_OFFSET,
                 "snapshot header: malformed configuration");
    uint8_t no_voters[32] = {0};
    snapshot_rewrite(&t, snap, STORAGE_SNAP_CONFIG_OFFSET, no_voters, sizeof no_voters);
    open_refused(&t, snap, true, STORAGE_SNAP_CONFIG_OFFSET,
                 "snapshot header: malformed configuration");
    tdir_remove(&t);
}

/* A snapshot header of an unknown version (0, 3) is refused; a version 2 file cut inside its
 * header, though longer than a version 1 header, is cut short. */
static void snapshot_version_and_length_refused(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct raft_snapshot s = {.index = 8, .term = 1, .config = config_1235_7()};
    char snap[STORAGE_NAME_BYTES];
    build_with_snapshot(&t, &s, snap);
    assert_int_equal(file_peek(&t, snap, 8), STORAGE_SNAP_VERSION);
    static const uint8_t versions[] = {0, 3};
    for (size_t i = 0; i < sizeof versions; i++) {
        file_poke(&t, snap, 8, &versions[i], 1);
        open_refused(&t, snap, false, 0, "snapshot header: unknown format version");
    }
    uint8_t v2 = STORAGE_SNAP_VERSION;
    file_poke(&t, snap, 8, &v2, 1);
    file_cut(&t, snap, STORAGE_SNAP_HEADER_BYTES - 1);
    open_refused(&t, snap, false, 0, "snapshot: shorter than its header");
    tdir_remove(&t);
}

/* A snapshot file of header version 1 (48 bytes, no configuration; built here as that version
 * wrote it) still loads, with its index, term and data, and no configuration (all zero: the core
 * starts from its initial one, exact since version 1 had no membership changes); inspect says
 * version 1. The next snapshot is written in version 2, with its configuration. */
static void version_1_snapshot_loads_without_configuration(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    build(&t, 10, 256);
    static const uint8_t data[5] = {'s', 'n', 'a', 'p', '!'};
    uint8_t h[STORAGE_SNAP_V1_HEADER_BYTES] = {0};
    static const uint8_t magic[8] = {'R', 'K', 'V', 'S', 'N', 'A', 'P', 'S'};
    uint8_t *at = le_put_bytes(h, magic, sizeof magic);
    at = le_put(at, 1, 4); /* version */
    at = le_put(at, 1, 4); /* node id */
    at = le_put(at, 8, 8); /* index */
    at = le_put(at, 1, 8); /* term */
    le_put(at, sizeof data, 8);
    le_put(h + 40, crc32c(crc32c(0, h, 40), data, sizeof data), 4);
    const char *name = "snap-0000000000000008-0000000000000001";
    file_poke(&t, name, 0, h, sizeof h);
    file_poke(&t, name, sizeof h, data, sizeof data);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(256);
    open_ok(&t, &o, &st, &d, &rep);
    assert_int_equal(d.snapshot.index, 8);
    assert_int_equal(d.snapshot.term, 1);
    assert_int_equal(d.snapshot.len, sizeof data);
    assert_memory_equal(d.snapshot.data, data, sizeof data);
    struct raft_config none;
    memset(&none, 0, sizeof none);
    assert_true(raft_config_equal(&d.snapshot.config, &none));
    assert_int_equal(rep.log_first, 9);
    assert_int_equal(rep.log_last, 10);
    struct storage_inspect in;
    struct storage_error err;
    assert_int_equal(storage_inspect(&t.port, 1, &in, &err), 0);
    assert_int_equal(in.n_damage, 0);
    assert_true(in.snapshots[0].ok);
    assert_int_equal(in.snapshots[0].version, STORAGE_SNAP_V1_VERSION);
    storage_inspect_free(&in);
    struct raft_snapshot s = {.index = 10, .term = 1, .config = config_1235_7()};
    struct raft_persist p = {.snapshot = &s};
    put(&t, &st, &p);
    storage_close(&st);
    raft_disk_close(&d);
    assert_int_equal(file_size(&t, name), -1);
    open_ok(&t, &o, &st, &d, &rep);
    assert_int_equal(d.snapshot.index, 10);
    assert_true(raft_config_equal(&d.snapshot.config, &s.config));
    storage_close(&st);
    raft_disk_close(&d);
    tdir_remove(&t);
}

/* A configuration record whose checksum holds but whose bytes are no configuration is refused,
 * naming the segment and the record's offset (raft_init would refuse the log), never cut as a
 * torn write. */
static void malformed_configuration_record_refuses(void **state)
{
    (void)state;
    struct tdir t;
    tdir_make(&t);
    struct storage st;
    struct raft_disk d;
    struct storage_report rep;
    struct storage_options o = topt(1u << 20);
    open_ok(&t, &o, &st, &d, &rep);
    append(&t, &st, 3, 1);
    struct raft_config c = config_1235_7();
    uint8_t bytes[RAFT_CONFIG_BYTES];
    raft_config_encode(&c, bytes);
    bytes[32] |= 1u << 2; /* server 2 a learner as well as a voter */
    struct raft_entry e = {
        .term = 1, .type = RAFT_ENTRY_CONFIG, .len = sizeof bytes, .data = bytes};
    struct raft_persist p = {.append_first = 4, .append = &e, .n_append = 1};
    put(&t, &st, &p);
    storage_close(&st);
    raft_disk_close(&d);
    char seg[4][STORAGE_NAME_BYTES];
    assert_int_equal(names(&t, "wal-", seg), 1);
    open_refused(&t, seg[0], true, (uint64_t)rec_offset(1, 4), "record: malformed configuration");
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
        cmocka_unit_test(snapshot_configuration_damaged_refuses),
        cmocka_unit_test(snapshot_version_and_length_refused),
        cmocka_unit_test(version_1_snapshot_loads_without_configuration),
        cmocka_unit_test(malformed_configuration_record_refuses),
        cmocka_unit_test(leftover_temp_snapshot_removed),
        cmocka_unit_test(inspect_reports_and_changes_nothing),
        cmocka_unit_test(inspect_sound_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
