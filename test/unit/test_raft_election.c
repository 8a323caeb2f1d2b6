/* test_raft_election.c - leader election, Raft paper 5.2 and 5.4.1, driven message by message. */
#include "test_raft_cluster.h"

/* A single-node cluster elects itself and commits its term's no-op at once. */
static void single_node_elects_itself_and_commits_noop(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 1);
    cl_campaign(&c, 1);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    assert_int_equal(raft_term(&c.raft[1]), 1);
    assert_int_equal(raft_commit_index(&c.raft[1]), 1);
    assert_int_equal(raft_entry_at(&c.raft[1], 1)->type, RAFT_ENTRY_NOOP);
    assert_int_equal(c.applied[1], 1);
    cl_close(&c);
}

/* A campaign with every message delivered yields exactly one leader, known to all. */
static void campaign_elects_single_leader(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 5);
    cl_elect(&c, 1);
    assert_int_equal(cl_leaders_in_term(&c, 1), 1);
    for (uint32_t id = 2; id <= 5; id++) {
        assert_int_equal(raft_role(&c.raft[id]), RAFT_FOLLOWER);
        assert_int_equal(raft_term(&c.raft[id]), 1);
        assert_int_equal(raft_leader_id(&c.raft[id]), 1);
        assert_int_equal(raft_voted_for(&c.raft[id]), 1);
    }
    cl_close(&c);
}

/* Without a leader, the randomized election timeout makes some node campaign on its own. */
static void election_timeout_starts_election(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_advance(&c, 100); /* below election_timeout_ms_min: nothing */
    assert_int_equal(c.nq, 0);
    for (int i = 0; i < 10 && cl_leaders_in_term(&c, 1) == 0; i++) {
        cl_advance(&c, 50);
        cl_deliver_all(&c);
    }
    assert_int_equal(cl_leaders_in_term(&c, 1), 1);
    cl_close(&c);
}

/* A leader's heartbeats keep followers from campaigning. */
static void heartbeats_suppress_elections(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    for (int i = 0; i < 100; i++) {
        cl_advance(&c, 10);
        cl_deliver_all(&c);
    }
    assert_int_equal(raft_term(&c.raft[2]), 1);
    assert_int_equal(raft_term(&c.raft[3]), 1);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    cl_close(&c);
}

/* Two candidates split a 4-node vote; a later timeout resolves it with one leader. */
static void split_vote_resolved_by_later_timeout(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 4);
    cl_campaign(&c, 1);
    cl_campaign(&c, 2);
    /* 3 votes for 1, 4 votes for 2; 1 and 2 refuse each other. */
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 3));
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 2, 4));
    cl_deliver_all(&c);
    assert_int_equal(cl_leaders_in_term(&c, 1), 0);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_CANDIDATE);
    assert_int_equal(raft_role(&c.raft[2]), RAFT_CANDIDATE);
    uint64_t term = 0;
    for (int i = 0; i < 40 && term == 0; i++) {
        cl_advance(&c, 10);
        cl_deliver_all(&c);
        for (uint32_t id = 1; id <= 4; id++)
            if (raft_role(&c.raft[id]) == RAFT_LEADER)
                term = raft_term(&c.raft[id]);
    }
    assert_true(term >= 2);
    assert_int_equal(cl_leaders_in_term(&c, term), 1);
    cl_close(&c);
}

/* A candidate whose term is stale is refused, and adopts the higher term from the reply. */
static void stale_term_candidate_refused(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    c.disk[2].current_term = 5;
    cl_start_all(&c);
    cl_campaign(&c, 1);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 2));
    assert_true(cl_has_note(&c, 2, RAFT_NOTE_VOTE_REFUSED, RAFT_REASON_STALE_TERM));
    assert_int_equal(raft_voted_for(&c.raft[2]), 0);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE_REPLY, 2, 1));
    assert_int_equal(raft_role(&c.raft[1]), RAFT_FOLLOWER);
    assert_int_equal(raft_term(&c.raft[1]), 5);
    cl_close(&c);
}

/* Section 5.4.1: a candidate with a shorter log (same last term) is refused. */
static void shorter_log_refused(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    cl_disk_append(&c, 1, 1);
    cl_disk_append(&c, 2, 1);
    cl_disk_append(&c, 2, 1);
    cl_start_all(&c);
    cl_campaign(&c, 1);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 2));
    assert_true(cl_has_note(&c, 2, RAFT_NOTE_VOTE_REFUSED, RAFT_REASON_LOG_NOT_UP_TO_DATE));
    assert_int_equal(raft_term(&c.raft[2]), 2); /* term adopted, vote withheld */
    assert_int_equal(raft_voted_for(&c.raft[2]), 0);
    cl_close(&c);
}

/* Section 5.4.1: a longer log whose last term is older is less up to date. */
static void older_last_term_refused_despite_longer_log(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    for (int i = 0; i < 3; i++)
        cl_disk_append(&c, 1, 1);
    cl_disk_append(&c, 2, 1);
    cl_disk_append(&c, 2, 2);
    cl_start_all(&c);
    cl_campaign(&c, 1);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 2));
    assert_true(cl_has_note(&c, 2, RAFT_NOTE_VOTE_REFUSED, RAFT_REASON_LOG_NOT_UP_TO_DATE));
    cl_close(&c);
}

/* Figure 2: one vote per term; a second candidate in the same term is refused. */
static void one_vote_per_term(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_campaign(&c, 1);
    cl_campaign(&c, 2);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 3));
    assert_true(cl_has_note(&c, 3, RAFT_NOTE_VOTE_GRANTED, RAFT_REASON_NONE));
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 2, 3));
    assert_true(cl_has_note(&c, 3, RAFT_NOTE_VOTE_REFUSED, RAFT_REASON_ALREADY_VOTED));
    assert_int_equal(raft_voted_for(&c.raft[3]), 1);
    cl_close(&c);
}

/* The vote is persisted: after a crash and restart the node still refuses a second candidate. */
static void vote_survives_restart(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_campaign(&c, 1);
    cl_campaign(&c, 2);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 3));
    cl_crash(&c, 3);
    assert_int_equal(c.disk[3].voted_for, 1);
    cl_start(&c, 3);
    assert_int_equal(raft_role(&c.raft[3]), RAFT_FOLLOWER);
    assert_int_equal(raft_term(&c.raft[3]), 1);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 2, 3));
    assert_true(cl_has_note(&c, 3, RAFT_NOTE_VOTE_REFUSED, RAFT_REASON_ALREADY_VOTED));
    cl_close(&c);
}

/* A duplicated vote is counted once: one real grant plus its copy is no majority of 5. */
static void duplicate_vote_counted_once(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 5);
    cl_campaign(&c, 1);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 2));
    long i = cl_find(&c, RAFT_MSG_REQUEST_VOTE_REPLY, 2, 1);
    assert_true(i >= 0);
    struct raft_message copy;
    raft_message_copy(&copy, &c.q[i]);
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &copy};
    cl_step(&c, 1, &ev);
    cl_step(&c, 1, &ev);
    raft_message_free(&copy);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_CANDIDATE);
    cl_close(&c);
}

/* Figure 2: a leader that sees a higher term in any message steps down. */
static void leader_steps_down_on_higher_term(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    struct raft_message m = {.type = RAFT_MSG_APPEND_ENTRIES_REPLY, .term = 7, .from = 2, .to = 1};
    m.append_entries_reply.success = false;
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &m};
    assert_int_equal(cl_step(&c, 1, &ev), 0);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_FOLLOWER);
    assert_int_equal(raft_term(&c.raft[1]), 7);
    assert_int_equal(c.disk[1].current_term, 7);
    assert_true(cl_has_note(&c, 1, RAFT_NOTE_STEP_DOWN, RAFT_REASON_HIGHER_TERM));
    cl_close(&c);
}

/* Section 5.2: a candidate that receives AppendEntries from a leader of its term steps down. */
static void candidate_yields_to_leader_of_same_term(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_campaign(&c, 1);
    cl_campaign(&c, 2); /* both in term 1 */
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 3));
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE_REPLY, 3, 1));
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2));
    assert_int_equal(raft_role(&c.raft[2]), RAFT_FOLLOWER);
    assert_int_equal(raft_leader_id(&c.raft[2]), 1);
    assert_true(cl_has_note(&c, 2, RAFT_NOTE_STEP_DOWN, RAFT_REASON_LEADER_FOUND));
    cl_close(&c);
}

/* Same seed, same events: the same election timeouts (the core is deterministic). */
static void same_seed_same_timeouts(void **state)
{
    (void)state;
    struct cluster a, b;
    cl_init(&a, 3);
    cl_init(&b, 3);
    for (uint32_t id = 1; id <= 3; id++)
        assert_int_equal(a.up[id].next_wake_ms, b.up[id].next_wake_ms);
    cl_advance(&a, 10);
    cl_advance(&b, 10);
    for (uint32_t id = 1; id <= 3; id++) {
        assert_int_equal(a.up[id].next_wake_ms, b.up[id].next_wake_ms);
        assert_true(a.up[id].next_wake_ms >= 1150 && a.up[id].next_wake_ms <= 1300);
    }
    cl_close(&a);
    cl_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_node_elects_itself_and_commits_noop),
        cmocka_unit_test(campaign_elects_single_leader),
        cmocka_unit_test(election_timeout_starts_election),
        cmocka_unit_test(heartbeats_suppress_elections),
        cmocka_unit_test(split_vote_resolved_by_later_timeout),
        cmocka_unit_test(stale_term_candidate_refused),
        cmocka_unit_test(shorter_log_refused),
        cmocka_unit_test(older_last_term_refused_despite_longer_log),
        cmocka_unit_test(one_vote_per_term),
        cmocka_unit_test(vote_survives_restart),
        cmocka_unit_test(duplicate_vote_counted_once),
        cmocka_unit_test(leader_steps_down_on_higher_term),
        cmocka_unit_test(candidate_yields_to_leader_of_same_term),
        cmocka_unit_test(same_seed_same_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
