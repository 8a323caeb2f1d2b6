/* test_raft_invariants.c - each safety check fires on a report that breaks it, stays quiet on
 * one that does not, and never mistakes a late report for a violation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "raft/invariants.h"

/* Two different leaders in one term break election safety; the same leader twice does not. */
static void two_leaders_in_a_term(void **state)
{
    (void)state;
    struct raft_invariants inv;
    raft_invariants_init(&inv);
    struct raft_term_run runs[] = {{1, 1}};
    assert_int_equal(raft_invariants_leader(&inv, 1, 1, runs, 1, 1, 1), RAFT_INV_NONE);
    assert_int_equal(raft_invariants_leader(&inv, 1, 1, runs, 1, 1, 1), RAFT_INV_NONE);
    assert_int_equal(raft_invariants_leader(&inv, 2, 2, runs, 1, 1, 1), RAFT_INV_NONE);
    assert_int_equal(raft_invariants_leader(&inv, 3, 2, runs, 1, 1, 1), RAFT_INV_ELECTION_SAFETY);
    assert_int_equal(inv.first.invariant, RAFT_INV_ELECTION_SAFETY);
    assert_int_equal(inv.first.node, 3);
    assert_int_equal(inv.first.other, 2);
    assert_int_equal(inv.first.term, 2);
    raft_invariants_close(&inv);
}

/* A leader of a later term missing an entry committed earlier breaks leader completeness. */
static void leader_missing_committed_entry(void **state)
{
    (void)state;
    struct raft_invariants inv;
    raft_invariants_init(&inv);
    struct raft_term_run committed[] = {{1, 1}};
    assert_int_equal(raft_invariants_commit(&inv, 1, 1, 1, 3, committed, 1), RAFT_INV_NONE);
    /* Node 2 has entries 1..3 of term 1 and one of its own: fine. */
    struct raft_term_run full[] = {{1, 1}, {4, 2}};
    assert_int_equal(raft_invariants_leader(&inv, 2, 2, full, 2, 1, 4), RAFT_INV_NONE);
    /* Node 3 leads term 3 with only entries 1..2: entry 3 is missing. */
    struct raft_term_run shorter[] = {{1, 1}};
    assert_int_equal(raft_invariants_leader(&inv, 3, 3, shorter, 1, 1, 2),
                     RAFT_INV_LEADER_COMPLETENESS);
    assert_int_equal(inv.first.index, 3);
    assert_int_equal(inv.first.other_term, 1);
    raft_invariants_close(&inv);
}

/* Entries committed in a later term than a leader's are not required of it (a late report). */
static void later_commits_not_required_of_earlier_leaders(void **state)
{
    (void)state;
    struct raft_invariants inv;
    raft_invariants_init(&inv);
    struct raft_term_run runs[] = {{1, 1}, {2, 3}};
    assert_int_equal(raft_invariants_commit(&inv, 1, 3, 1, 2, runs, 2), RAFT_INV_NONE);
    struct raft_term_run mine[] = {{1, 1}};
    assert_int_equal(raft_invariants_leader(&inv, 2, 2, mine, 1, 1, 1), RAFT_INV_NONE);
    assert_int_equal(inv.violations, 0);
    raft_invariants_close(&inv);
}

/* Two nodes applying different entries at one index break state machine safety. */
static void different_entries_applied_at_one_index(void **state)
{
    (void)state;
    struct raft_invariants inv;
    raft_invariants_init(&inv);
    assert_int_equal(raft_invariants_applied(&inv, 1, 5, 2, 0xaaaa), RAFT_INV_NONE);
    assert_int_equal(raft_invariants_applied(&inv, 2, 5, 2, 0xaaaa), RAFT_INV_NONE);
    assert_int_equal(raft_invariants_applied(&inv, 3, 5, 2, 0xbbbb), RAFT_INV_STATE_MACHINE_SAFETY);
    assert_int_equal(inv.first.node, 3);
    assert_int_equal(inv.first.other, 1);
    assert_int_equal(inv.first.index, 5);
    raft_invariants_close(&inv);
}

/* Committing another term at an index already committed breaks state machine safety. */
static void recommitting_an_index_with_another_term(void **state)
{
    (void)state;
    struct raft_invariants inv;
    raft_invariants_init(&inv);
    struct raft_term_run t1[] = {{1, 1}}, t2[] = {{1, 2}};
    assert_int_equal(raft_invariants_commit(&inv, 1, 1, 1, 1, t1, 1), RAFT_INV_NONE);
    assert_int_equal(raft_invariants_commit(&inv, 2, 2, 1, 1, t2, 1),
                     RAFT_INV_STATE_MACHINE_SAFETY);
    raft_invariants_close(&inv);
}

static void append(struct raft_log *log, uint64_t term, const char *data)
{
    raft_log_append(log, term, RAFT_ENTRY_COMMAND, data, 1);
}

/* Two logs that agree at index 1 and diverge at 2: [x@1, y@1] and [x@1, z@2]. */
static void diverged_logs(struct raft_log *a, struct raft_log *b)
{
    raft_log_init(a);
    raft_log_init(b);
    append(a, 1, "x");
    append(b, 1, "x");
    append(a, 1, "y");
    append(b, 2, "z");
}

/* Logs that agree on a later entry but differ before it break log matching; logs that only
 * diverge at their ends do not. */
static void log_matching_over_whole_logs(void **state)
{
    (void)state;
    struct raft_log a, b;
    diverged_logs(&a, &b);
    const struct raft_log *logs[] = {&a, &b};
    struct raft_invariants inv;
    raft_invariants_init(&inv);
    assert_int_equal(raft_invariants_logs(&inv, logs, 2), RAFT_INV_NONE);
    /* Now they agree again at index 3 (term 2) although index 2 differs. */
    append(&a, 2, "w");
    append(&b, 2, "w");
    assert_int_equal(raft_invariants_logs(&inv, logs, 2), RAFT_INV_LOG_MATCHING);
    assert_int_equal(inv.first.index, 2);
    raft_invariants_close(&inv);
    raft_log_close(&a);
    raft_log_close(&b);
}

/* Same index and term but different data also breaks log matching. */
static void same_term_different_data(void **state)
{
    (void)state;
    struct raft_log a, b;
    raft_log_init(&a);
    raft_log_init(&b);
    append(&a, 1, "x");
    append(&b, 1, "q");
    const struct raft_log *logs[] = {&a, &b};
    struct raft_invariants inv;
    raft_invariants_init(&inv);
    assert_int_equal(raft_invariants_logs(&inv, logs, 2), RAFT_INV_LOG_MATCHING);
    raft_invariants_close(&inv);
    raft_log_close(&a);
    raft_log_close(&b);
}

/* Reports every entry of log as node writes it (chain hashes from index 1); the first
 * violation found, or RAFT_INV_NONE. */
static enum raft_invariant write_log(struct raft_invariants *inv, uint32_t node,
                                     const struct raft_log *log)
{
    uint64_t chain = 0;
    for (uint64_t i = 1; i <= raft_log_last_index(log); i++) {
        const struct raft_entry *e = raft_log_get(log, i);
        chain = raft_chain_hash(chain, e);
        enum raft_invariant found = raft_invariants_written(inv, node, i, e->term, chain);
        if (found != RAFT_INV_NONE)
            return found;
    }
    return RAFT_INV_NONE;
}

/* Log matching as entries are written (the simulator's per-step check): logs that only diverge
 * at their ends pass; an entry of the same index and term over a different prefix is caught at
 * once, naming both nodes; thousands of equal entries (the table grows) pass. */
static void log_matching_as_entries_are_written(void **state)
{
    (void)state;
    struct raft_log a, b;
    diverged_logs(&a, &b);
    struct raft_invariants inv;
    raft_invariants_init(&inv);
    assert_int_equal(write_log(&inv, 1, &a), RAFT_INV_NONE);
    assert_int_equal(write_log(&inv, 2, &b), RAFT_INV_NONE);
    append(&a, 2, "w");
    append(&b, 2, "w"); /* same index 3 and term 2, over different entries at 2 */
    assert_int_equal(write_log(&inv, 1, &a), RAFT_INV_NONE);
    assert_int_equal(write_log(&inv, 2, &b), RAFT_INV_LOG_MATCHING);
    assert_int_equal(inv.first.node, 2);
    assert_int_equal(inv.first.other, 1);
    assert_int_equal(inv.first.index, 3);
    assert_int_equal(inv.first.term, 2);
    raft_invariants_close(&inv);
    raft_log_close(&a);
    raft_log_close(&b);

    raft_log_init(&a);
    for (int i = 0; i < 5000; i++)
        append(&a, 1 + (uint64_t)i / 700, i % 2 ? "p" : "q");
    raft_invariants_init(&inv);
    for (uint32_t node = 1; node <= 3; node++)
        assert_int_equal(write_log(&inv, node, &a), RAFT_INV_NONE);
    assert_int_equal(inv.n_written, 5000);
    assert_true(inv.cap_written >= 2 * inv.n_written);
    raft_invariants_close(&inv);
    raft_log_close(&a);
}

/* Term runs describe a log compactly and exactly. */
static void term_runs_describe_a_log(void **state)
{
    (void)state;
    struct raft_log log;
    raft_log_init(&log);
    uint64_t terms[] = {1, 1, 2, 2, 2, 5};
    for (size_t i = 0; i < 6; i++)
        append(&log, terms[i], "e");
    struct raft_term_run runs[4];
    assert_int_equal(raft_term_runs(&log, 1, 6, runs, 4), 3);
    assert_int_equal(runs[0].first, 1);
    assert_int_equal(runs[0].term, 1);
    assert_int_equal(runs[1].first, 3);
    assert_int_equal(runs[1].term, 2);
    assert_int_equal(runs[2].first, 6);
    assert_int_equal(runs[2].term, 5);
    assert_int_equal(raft_term_runs(&log, 4, 5, runs, 4), 1);
    assert_int_equal(runs[0].first, 4);
    assert_int_equal(raft_term_runs(&log, 1, 6, NULL, 0), 3); /* count only */
    raft_log_close(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_leaders_in_a_term),
        cmocka_unit_test(leader_missing_committed_entry),
        cmocka_unit_test(later_commits_not_required_of_earlier_leaders),
        cmocka_unit_test(different_entries_applied_at_one_index),
        cmocka_unit_test(recommitting_an_index_with_another_term),
        cmocka_unit_test(log_matching_over_whole_logs),
        cmocka_unit_test(same_term_different_data),
        cmocka_unit_test(log_matching_as_entries_are_written),
        cmocka_unit_test(term_runs_describe_a_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
