/* test_raft_log.c - the log's indices: a first index in front of the entries it holds (1 today;
 * a snapshot moves it on), and the term of the index just before it; and the entries' data,
 * kept in chunks, against a model through appends, truncations, compactions and resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/prng.h"
#include "raft/raft.h"

/* A new log holds nothing, starts at index 1, and index 0 has term 0. */
static void new_log_starts_at_one(void **state)
{
    (void)state;
    struct raft_log log;
    raft_log_init(&log);
    assert_int_equal(raft_log_first_index(&log), 1);
    assert_int_equal(raft_log_last_index(&log), 0);
    assert_int_equal(raft_log_term_at(&log, 0), 0);
    assert_int_equal(raft_log_last_term(&log), 0);
    assert_null(raft_log_get(&log, 1));
    raft_log_append(&log, 2, RAFT_ENTRY_NOOP, NULL, 0);
    assert_int_equal(raft_log_last_index(&log), 1);
    assert_int_equal(raft_log_get(&log, 1)->term, 2);
    raft_log_close(&log);
}

/* A log whose first index is 11 (the entries before it compacted): indices, terms, truncation
 * and the term searches all count from there; index 10 has the compacted term. */
static void log_counts_from_its_first_index(void **state)
{
    (void)state;
    struct raft_log log;
    raft_log_init(&log);
    log.first = 11;
    log.prev_term = 3;
    assert_int_equal(raft_log_last_index(&log), 10);
    assert_int_equal(raft_log_last_term(&log), 3);
    raft_log_append(&log, 3, RAFT_ENTRY_COMMAND, "a", 1);
    raft_log_append(&log, 4, RAFT_ENTRY_COMMAND, "b", 1);
    raft_log_append(&log, 4, RAFT_ENTRY_NOOP, NULL, 0);
    assert_int_equal(raft_log_last_index(&log), 13);
    assert_null(raft_log_get(&log, 10));
    assert_int_equal(raft_log_get(&log, 11)->term, 3);
    assert_int_equal(raft_log_term_at(&log, 10), 3);
    assert_int_equal(raft_log_term_at(&log, 12), 4);
    assert_int_equal(raft_log_term_first_index(&log, 13), 12);
    assert_int_equal(raft_log_term_first_index(&log, 11), 11);
    assert_int_equal(raft_log_last_index_of_term(&log, 4, 13), 13);
    assert_int_equal(raft_log_last_index_of_term(&log, 3, 13), 11);
    assert_int_equal(raft_log_last_index_of_term(&log, 2, 13), 0);
    raft_log_truncate(&log, 12);
    assert_int_equal(raft_log_last_index(&log), 11);
    assert_int_equal(raft_log_last_index_of_term(&log, 4, 13), 0);
    raft_log_close(&log);
}

/* The core refuses to start from a compacted log: it cannot load the snapshot before it. */
static void core_refuses_compacted_log(void **state)
{
    (void)state;
    struct raft_disk disk;
    raft_disk_init(&disk);
    disk.current_term = 3;
    disk.log.first = 11;
    disk.log.prev_term = 3;
    struct raft_options o;
    raft_options_default(&o, 1, 3);
    struct raft r;
    assert_int_equal(raft_init(&r, &o, &disk, 0), RAFT_EINVAL);
    disk.log.first = 1;
    disk.log.prev_term = 0;
    assert_int_equal(raft_init(&r, &o, &disk, 0), RAFT_OK);
    raft_close(&r);
    raft_disk_close(&disk);
}

/* The model: each entry's term, length and the byte its data is filled with. */
struct model_entry {
    uint64_t term;
    uint32_t len;
    uint8_t fill;
};

/* Every entry the log holds has the model's term, length and bytes (neighbours have different
 * bytes, so data overwritten by another entry's shows), and data that is not empty is 8-byte
 * aligned. */
static void check_against(const struct raft_log *log, const struct model_entry *m, uint64_t first,
                          uint64_t last)
{
    assert_int_equal(raft_log_first_index(log), first);
    assert_int_equal(raft_log_last_index(log), last);
    for (uint64_t i = first; i <= last; i++) {
        const struct raft_entry *e = raft_log_get(log, i);
        assert_non_null(e);
        assert_int_equal(e->term, m[i].term);
        assert_int_equal(e->len, m[i].len);
        if (e->len == 0) {
            assert_null(e->data);
            continue;
        }
        assert_int_equal((uintptr_t)e->data % 8, 0);
        for (uint32_t b = 0; b < e->len; b++)
            if (e->data[b] != m[i].fill)
                fail_msg("index %llu byte %u: %u, want %u", (unsigned long long)i, b, e->data[b],
                         m[i].fill);
    }
}

/* Random appends (empty, small, and longer than a quarter of a chunk), truncations, compactions
 * and resets, checked against the model after each: no data is lost, moved or overwritten. */
static void chunked_data_survives_every_change(void **state)
{
    (void)state;
    enum { MAX_ENTRIES = 4000 };
    struct model_entry *m = calloc(MAX_ENTRIES + 2, sizeof *m);
    uint8_t *buf = malloc(70000);
    assert_non_null(m);
    assert_non_null(buf);
    struct prng r;
    prng_seed(&r, 15);
    struct raft_log log;
    raft_log_init(&log);
    uint64_t first = 1, last = 0, term = 1;
    for (int step = 0; step < 6000; step++) {
        uint64_t pick = prng_range(&r, 0, 99);
        if (pick < 80 && last < MAX_ENTRIES) {
            uint64_t k = prng_range(&r, 0, 99);
            uint32_t len = k < 10   ? 0
                           : k < 97 ? (uint32_t)prng_range(&r, 1, 300)
                                    : (uint32_t)prng_range(&r, 16000, 70000);
            if (prng_range(&r, 0, 49) == 0)
                term++;
            last++;
            m[last] = (struct model_entry){.term = term, .len = len, .fill = (uint8_t)(last * 7)};
            memset(buf, m[last].fill, len);
            raft_log_append(&log, term, len ? RAFT_ENTRY_COMMAND : RAFT_ENTRY_NOOP,
                            len ? buf : NULL, len);
        } else if (pick < 90 && last >= first) {
            uint64_t from = prng_range(&r, first, last + 1);
            raft_log_truncate(&log, from);
            last = from - 1;
        } else if (pick < 99 && last >= first) {
            uint64_t to = prng_range(&r, first, last + 1);
            raft_log_compact(&log, to);
            first = to;
        } else {
            uint64_t at = last + prng_range(&r, 0, 5);
            raft_log_reset(&log, at, term);
            first = at + 1;
            last = at;
        }
        if (last > MAX_ENTRIES) { /* indices past the model's room: start again lower */
            raft_log_close(&log);
            raft_log_init(&log);
            first = 1;
            last = 0;
            term = 1;
        }
        check_against(&log, m, first, last);
    }
    raft_log_close(&log);
    free(buf);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_log_starts_at_one),
        cmocka_unit_test(log_counts_from_its_first_index),
        cmocka_unit_test(core_refuses_compacted_log),
        cmocka_unit_test(chunked_data_survives_every_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
