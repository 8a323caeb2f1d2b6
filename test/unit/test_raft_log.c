/* test_raft_log.c - the log's indices: a first index in front of the entries it holds (1 today;
 * a snapshot moves it on), and the term of the index just before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_log_starts_at_one),
        cmocka_unit_test(log_counts_from_its_first_index),
        cmocka_unit_test(core_refuses_compacted_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
