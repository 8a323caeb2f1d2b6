/* test_raft_durable.c - the persistence contract of the core (issue 10): nothing that promises
 * durable state leaves before the host reports it durable, and a leader counts itself toward a
 * commit only for entries on its own disk. Nodes with cl.slow_disk[id] set report their writes
 * only when the test calls cl_sync. */
#include "test_raft_cluster.h"

/* A vote granted waits for the vote to be durable (Figure 2: "respond to RPCs only after
 * updating stable storage"); then it leaves. */
static void vote_waits_until_durable(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    c.slow_disk[2] = true;
    cl_campaign(&c, 1);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 2));
    assert_int_equal(raft_voted_for(&c.raft[2]), 1);
    assert_int_equal(c.up[2].persist.seq, 1);
    assert_true(c.up[2].persist.save_hard_state);
    assert_int_equal(c.up[2].persist.term, 1);
    assert_int_equal(c.up[2].persist.vote, 1);
    assert_int_equal(cl_count(&c, RAFT_MSG_REQUEST_VOTE_REPLY, 2, 1), 0);
    assert_true(cl_sync(&c, 2));
    assert_int_equal(cl_count(&c, RAFT_MSG_REQUEST_VOTE_REPLY, 2, 1), 1);
    cl_close(&c);
}

/* A candidate asks for votes only once its own term and vote are durable; a pre-vote (which
 * changes nothing) leaves at once. */
static void request_vote_waits_for_own_vote(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    c.slow_disk[1] = true;
    cl_campaign(&c, 1);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_CANDIDATE);
    assert_int_equal(cl_count(&c, RAFT_MSG_REQUEST_VOTE, 1, 0), 0);
    assert_true(cl_sync(&c, 1));
    assert_int_equal(cl_count(&c, RAFT_MSG_REQUEST_VOTE, 1, 0), 2);
    cl_close(&c);

    cl_init_opts(&c, 3, true, false);
    cl_start_all(&c);
    c.slow_disk[1] = true;
    cl_campaign(&c, 1);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_PRE_CANDIDATE);
    assert_int_equal(cl_count(&c, RAFT_MSG_REQUEST_VOTE, 1, 0), 2); /* pre-votes */
    assert_int_equal(c.up[1].persist.seq, 0);
    cl_close(&c);
}

/* A follower acknowledges entries only once they are durable; a rejection that changed only
 * the term waits for the term too. */
static void append_reply_waits_until_entries_durable(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    c.slow_disk[2] = true;
    cl_propose(&c, 1, "x");
    assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2));
    assert_int_equal(raft_last_index(&c.raft[2]), 2);
    assert_int_equal(raft_durable_index(&c.raft[2]), 1);
    assert_int_equal(c.up[2].persist.append_first, 2);
    assert_int_equal(c.up[2].persist.n_append, 1);
    assert_int_equal(cl_count(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 2, 1), 0);
    assert_true(cl_sync(&c, 2));
    assert_int_equal(raft_durable_index(&c.raft[2]), 2);
    long i = cl_find(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 2, 1);
    assert_true(i >= 0);
    assert_true(c.q[i].append_entries_reply.success);
    assert_int_equal(c.q[i].append_entries_reply.match_index, 2);
    cl_close(&c);
}

/* With two nodes a commit needs both: the follower's durable ack alone does not commit the
 * leader's entry until the leader's own write is reported (thesis 10.2.1), though the leader
 * sent its AppendEntries before its write completed. */
static void leader_counts_itself_only_when_durable(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 2);
    cl_elect(&c, 1);
    uint64_t commit = raft_commit_index(&c.raft[1]);
    c.slow_disk[1] = true;
    struct raft_proposal p = cl_propose(&c, 1, "x");
    assert_int_equal(p.status, RAFT_PROPOSAL_ACCEPTED);
    assert_int_equal(cl_count(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2), 1); /* sent before durable */
    cl_deliver_all(&c);
    assert_int_equal(raft_peer_match(&c.raft[1], 2), p.index);
    assert_int_equal(raft_commit_index(&c.raft[1]), commit);
    assert_true(cl_sync(&c, 1));
    assert_int_equal(raft_durable_index(&c.raft[1]), p.index);
    assert_int_equal(raft_commit_index(&c.raft[1]), p.index);
    cl_close(&c);
}

/* Entries a later step truncates are never reported durable by an earlier request's report:
 * the disk may still hold the old ones. */
static void truncation_lowers_what_counts_as_durable(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    cl_start_all(&c);
    c.slow_disk[2] = true;
    /* Node 2 is sent two entries of term 1, then told by a leader of term 2 that index 2 holds
     * term 2: the second write truncates what the first wrote. */
    struct raft_entry e1[2] = {{.term = 1, .type = RAFT_ENTRY_NOOP},
                               {.term = 1, .type = RAFT_ENTRY_NOOP}};
    struct raft_message m = {.type = RAFT_MSG_APPEND_ENTRIES, .term = 1, .from = 1, .to = 2};
    m.append_entries = (struct raft_append_entries){.n_entries = 2, .entries = e1};
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &m};
    assert_int_equal(cl_step(&c, 2, &ev), RAFT_OK);
    uint64_t first_seq = c.unsynced[2];
    assert_int_equal(first_seq, 1);
    struct raft_entry e2[1] = {{.term = 2, .type = RAFT_ENTRY_NOOP}};
    struct raft_message m2 = {.type = RAFT_MSG_APPEND_ENTRIES, .term = 2, .from = 3, .to = 2};
    m2.append_entries = (struct raft_append_entries){
        .prev_log_index = 1, .prev_log_term = 1, .n_entries = 1, .entries = e2};
    ev.receive = &m2;
    assert_int_equal(cl_step(&c, 2, &ev), RAFT_OK);
    assert_int_equal(c.up[2].persist.truncate_from, 2);
    /* Report only the first request: index 2 on disk is still term 1's; only index 1 counts. */
    struct raft_event done = {.type = RAFT_EVENT_PERSISTED, .persisted_seq = first_seq};
    assert_int_equal(raft_step(&c.raft[2], &done, &c.up[2]), RAFT_OK);
    assert_int_equal(raft_durable_index(&c.raft[2]), 1);
    /* A report for a request not made, or made and reported already, is refused. */
    done.persisted_seq = 9;
    assert_int_equal(raft_step(&c.raft[2], &done, &c.up[2]), RAFT_EINVAL);
    done.persisted_seq = first_seq;
    assert_int_equal(raft_step(&c.raft[2], &done, &c.up[2]), RAFT_EINVAL);
    done.persisted_seq = 2;
    assert_int_equal(raft_step(&c.raft[2], &done, &c.up[2]), RAFT_OK);
    assert_int_equal(raft_durable_index(&c.raft[2]), 2);
    c.unsynced[2] = 0;
    cl_close(&c);
}

/* With persist_sync the host makes each write durable before it carries out the update: the
 * core counts it durable at the end of the step, holds nothing, and expects no report. */
static void persist_sync_counts_the_write_at_once(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 2, false, false);
    for (uint32_t id = 1; id <= 2; id++)
        c.opt[id].persist_sync = true;
    cl_start_all(&c);
    c.slow_disk[1] = c.slow_disk[2] = true; /* would wait for cl_sync, were it not sync */
    cl_campaign(&c, 1);
    assert_int_equal(cl_count(&c, RAFT_MSG_REQUEST_VOTE, 1, 2), 1); /* not held */
    assert_false(raft_persist_waiting(&c.raft[1]));
    cl_deliver_all(&c);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    struct raft_proposal p = cl_propose(&c, 1, "x");
    assert_int_equal(raft_durable_index(&c.raft[1]), p.index);
    cl_deliver_all(&c);
    assert_int_equal(raft_commit_index(&c.raft[1]), p.index);
    /* No report is expected: one would be refused. */
    struct raft_event done = {.type = RAFT_EVENT_PERSISTED, .persisted_seq = c.unsynced[1]};
    assert_int_equal(raft_step(&c.raft[1], &done, &c.up[1]), RAFT_EINVAL);
    c.unsynced[1] = c.unsynced[2] = 0;
    cl_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vote_waits_until_durable),
        cmocka_unit_test(request_vote_waits_for_own_vote),
        cmocka_unit_test(append_reply_waits_until_entries_durable),
        cmocka_unit_test(leader_counts_itself_only_when_durable),
        cmocka_unit_test(truncation_lowers_what_counts_as_durable),
        cmocka_unit_test(persist_sync_counts_the_write_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
