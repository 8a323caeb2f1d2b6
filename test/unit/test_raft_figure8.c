/* test_raft_figure8.c - Raft paper Figure 8 / section 5.4.2: a leader never commits an entry of
 * an older term by counting replicas; it commits once an entry of its own term is on a majority.
 */
#include "test_raft_cluster.h"

/* Figure 8 (c): S1..S5 after terms 1-3. S1, S2 hold [1,2]; S3, S4 hold [1]; S5 holds [1,3]. */
static void setup_figure8(struct cluster *c)
{
    cl_init_opts(c, 5, false, false);
    for (uint32_t id = 1; id <= 5; id++) {
        c->opt[id].max_entries_per_append = 1; /* one entry per message: the steps stay visible */
        cl_disk_append(c, id, 1);
        c->disk[id].current_term = 3;
    }
    cl_disk_append(c, 1, 2);
    cl_disk_append(c, 2, 2);
    cl_disk_append(c, 5, 3);
    for (uint32_t id = 1; id <= 5; id++)
        c->disk[id].current_term = 3;
    cl_start_all(c);
}

/* Delivers every message between a and b (both ways) until none is left. */
static void exchange(struct cluster *c, uint32_t a, uint32_t b)
{
    for (int i = 0; i < 1000; i++)
        if (!cl_deliver(c, 0, a, b) && !cl_deliver(c, 0, b, a))
            return;
}

/* S1 leads term 4 and copies its term-2 entry to S3 and S4: a majority holds index 2, but it
 * is not committed, because its term is not the leader's (Figure 8 (c)). */
static void old_term_entry_not_committed_by_counting(void **state)
{
    (void)state;
    struct cluster c;
    setup_figure8(&c);
    cl_campaign(&c, 1);
    for (uint32_t id = 2; id <= 4; id++) {
        assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, id));
        assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE_REPLY, id, 1));
    }
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    assert_int_equal(raft_term(&c.raft[1]), 4);
    assert_int_equal(raft_entry_at(&c.raft[1], 3)->term, 4); /* the no-op of term 4 */
    /* S3 and S4: probe at 3 fails (too short), probe at 2 succeeds with the term-2 entry. */
    for (uint32_t id = 3; id <= 4; id++) {
        assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, id));
        assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, id, 1));
        assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, id));
        assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, id, 1));
        assert_int_equal(raft_last_index(&c.raft[id]), 2);
        assert_int_equal(raft_peer_match(&c.raft[1], id), 2);
    }
    assert_int_equal(raft_commit_index(&c.raft[1]), 0);
    cl_close(&c);
}

/* Once the term-4 no-op reaches a majority, index 3 commits and index 2 with it (Figure 8 (e)). */
static void old_term_entry_commits_with_current_term_entry(void **state)
{
    (void)state;
    struct cluster c;
    setup_figure8(&c);
    cl_campaign(&c, 1);
    for (uint32_t id = 2; id <= 4; id++) {
        assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, id));
        assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE_REPLY, id, 1));
    }
    exchange(&c, 1, 3);
    assert_int_equal(raft_commit_index(&c.raft[1]), 0); /* S1 and S3 only */
    exchange(&c, 1, 4);
    assert_int_equal(raft_commit_index(&c.raft[1]), 3);
    assert_int_equal(c.applied[1], 3);
    cl_close(&c);
}

/* Why the rule matters (Figure 8 (d)): S5 can still win term 5 and overwrite the uncommitted
 * term-2 entry on S3 and S4; had S1 committed it by counting, a committed entry would be lost. */
static void uncommitted_old_term_entry_may_be_overwritten(void **state)
{
    (void)state;
    struct cluster c;
    setup_figure8(&c);
    cl_campaign(&c, 1);
    for (uint32_t id = 2; id <= 4; id++) {
        cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, id);
        cl_deliver(&c, RAFT_MSG_REQUEST_VOTE_REPLY, id, 1);
    }
    for (uint32_t id = 3; id <= 4; id++)
        for (int k = 0; k < 2; k++) {
            cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, id);
            cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, id, 1);
        }
    cl_crash(&c, 1); /* S1 crashes before its no-op spreads */
    cl_drop_all(&c);
    cl_campaign(&c, 5); /* term 4: S2..S4 already voted for S1; this round is lost */
    cl_drop_all(&c);
    cl_campaign(&c, 5); /* term 5 */
    cl_isolate(&c, 1, true);
    cl_deliver_all(&c);
    assert_int_equal(raft_role(&c.raft[5]), RAFT_LEADER);
    assert_int_equal(raft_term(&c.raft[5]), 5);
    for (int i = 0; i < 10; i++) {
        cl_advance(&c, 50);
        cl_deliver_all(&c);
    }
    for (uint32_t id = 2; id <= 4; id++)
        assert_int_equal(raft_entry_at(&c.raft[id], 2)->term, 3);
    assert_int_equal(raft_commit_index(&c.raft[5]), 3);
    cl_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(old_term_entry_not_committed_by_counting),
        cmocka_unit_test(old_term_entry_commits_with_current_term_entry),
        cmocka_unit_test(uncommitted_old_term_entry_may_be_overwritten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
