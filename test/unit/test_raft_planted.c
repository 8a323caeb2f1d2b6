/* test_raft_planted.c - the planted-bug switches (for the issue 6 simulator) really plant the
 * bug: each test shows the unsafe behaviour that the correct core refuses. Compiled with
 * -DRAFT_PLANTED_BUGS and linked with the test build of the core, libraft_planted.a (Makefile).
 */
#include "test_raft_cluster.h"

/* RAFT_BUG_COMMIT_OLD_TERM: Figure 8's old-term entry gets committed by counting replicas. */
static void commit_old_term_bug_commits_by_counting(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    c.opt[2].planted_bugs = RAFT_BUG_COMMIT_OLD_TERM;
    c.opt[2].max_entries_per_append = 1;
    cl_disk_append(&c, 2, 1);
    cl_disk_append(&c, 2, 2); /* node 2 holds [1, 2], node 3 holds [1] */
    cl_disk_append(&c, 3, 1);
    c.disk[3].current_term = 2;
    cl_start_all(&c);
    cl_campaign(&c, 2);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 2, 3));
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE_REPLY, 3, 2));
    assert_int_equal(raft_role(&c.raft[2]), RAFT_LEADER);
    for (int k = 0; k < 2; k++) { /* probe at 3 refused, probe at 2 carries the term-2 entry */
        assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 2, 3));
        assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 3, 2));
    }
    assert_int_equal(raft_commit_index(&c.raft[2]), 2); /* the correct core stays at 0 */
    cl_close(&c);
}

/* RAFT_BUG_DOUBLE_VOTE: a second candidate in the same term also gets the vote. */
static void double_vote_bug_grants_twice(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    c.opt[3].planted_bugs = RAFT_BUG_DOUBLE_VOTE;
    cl_start_all(&c);
    cl_campaign(&c, 1);
    cl_campaign(&c, 2);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 3));
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 2, 3));
    assert_true(cl_has_note(&c, 3, RAFT_NOTE_VOTE_GRANTED, RAFT_REASON_NONE));
    cl_close(&c);
}

/* RAFT_BUG_FORGET_VOTE: after a restart the node has lost its vote. */
static void forget_vote_bug_loses_vote_on_restart(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    c.opt[3].planted_bugs = RAFT_BUG_FORGET_VOTE;
    cl_start_all(&c);
    cl_campaign(&c, 1);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 3));
    assert_int_equal(raft_voted_for(&c.raft[3]), 1);
    cl_crash(&c, 3);
    cl_start(&c, 3);
    assert_int_equal(raft_voted_for(&c.raft[3]), 0);
    cl_close(&c);
}

/* RAFT_BUG_APPLY_BEFORE_COMMIT: a leader cut off from its followers hands out its proposal to
 * apply although nothing acknowledged it. */
static void apply_before_commit_bug_applies_uncommitted_entries(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    c.opt[1].planted_bugs = RAFT_BUG_APPLY_BEFORE_COMMIT;
    cl_start_all(&c);
    cl_elect(&c, 1);
    uint64_t commit = raft_commit_index(&c.raft[1]);
    uint64_t applied = c.applied[1];
    assert_int_equal(applied, commit); /* the no-op, committed */
    cl_isolate(&c, 1, true);
    assert_int_equal(cl_propose(&c, 1, "put k v").status, RAFT_PROPOSAL_ACCEPTED);
    cl_deliver_all(&c); /* dropped: the followers never see it */
    assert_int_equal(raft_commit_index(&c.raft[1]), commit);
    assert_int_equal(c.applied[1], applied + 1); /* the correct core applies nothing */
    assert_int_equal(raft_last_applied(&c.raft[1]), commit + 1);
    cl_close(&c);
}

/* RAFT_BUG_ACK_BEFORE_DURABLE: the acknowledgement leaves before the write is reported (the
 * simulator's disk model must catch what that breaks; test_raft_durable shows the correct core
 * waits). Nodes with cl.slow_disk[id] set report their writes only when the test calls cl_sync. */
static void ack_before_durable_bug_acks_early(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    c.opt[2].planted_bugs = RAFT_BUG_ACK_BEFORE_DURABLE;
    cl_start_all(&c);
    cl_elect(&c, 1);
    c.slow_disk[2] = true;
    cl_propose(&c, 1, "x");
    assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2));
    assert_int_equal(raft_durable_index(&c.raft[2]), 1);
    assert_int_equal(cl_count(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 2, 1), 1);
    cl_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_old_term_bug_commits_by_counting),
        cmocka_unit_test(double_vote_bug_grants_twice),
        cmocka_unit_test(forget_vote_bug_loses_vote_on_restart),
        cmocka_unit_test(apply_before_commit_bug_applies_uncommitted_entries),
        cmocka_unit_test(ack_before_durable_bug_acks_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
