/* test_raft_pipeline.c - throughput mechanics: batching, pipelining (bounded in-flight window),
 * recovery from lost AppendEntries, and fast log backup by conflict term (paper 5.3 end).
 */
#include "test_raft_cluster.h"

static size_t count_rejections(const struct cluster *c, uint32_t from)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nq; i++)
        if (c->q[i].type == RAFT_MSG_APPEND_ENTRIES_REPLY && c->q[i].from == from &&
            !c->q[i].append_entries_reply.success)
            n++;
    return n;
}

/* The leader keeps accepting proposals while earlier ones replicate, up to max_inflight
 * AppendEntries per follower; the rest wait and go out batched. */
static void proposals_pipelined_within_window(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    c.opt[1].max_inflight = 4;
    cl_start_all(&c);
    cl_elect(&c, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(cl_propose(&c, 1, "cmd").status, RAFT_PROPOSAL_ACCEPTED);
    assert_int_equal(cl_count(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2), 4);
    assert_int_equal(raft_last_index(&c.raft[1]), 11);
    cl_deliver_all(&c);
    assert_int_equal(raft_commit_index(&c.raft[1]), 11);
    assert_int_equal(raft_commit_index(&c.raft[2]), 11);
    assert_int_equal(c.applied[3], 11);
    cl_close(&c);
}

/* Under a healthy network each entry goes to each follower once, in few messages. */
static void each_entry_sent_once_per_follower(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 5);
    cl_elect(&c, 1);
    uint64_t entries_before = c.entries_to[2];
    uint64_t appends_before = c.sent[RAFT_MSG_APPEND_ENTRIES];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 50; i++)
            cl_propose(&c, 1, "put k v");
        for (int i = 0; i < 5 && c.nq > 0; i++) /* partial delivery: keep the pipe busy */
            cl_deliver_at(&c, 0);
    }
    cl_deliver_all(&c);
    for (uint32_t id = 2; id <= 5; id++)
        assert_int_equal(c.entries_to[id] - (id == 2 ? entries_before : 1), 1000);
    assert_true(c.sent[RAFT_MSG_APPEND_ENTRIES] - appends_before < 4 * 1000 / 4);
    assert_int_equal(raft_commit_index(&c.raft[5]), 1001);
    cl_close(&c);
}

/* Proposals stepped with `more` are held: no AppendEntries leaves and the core says it owes a
 * flush (raft_flush_held); the next step without `more` sends them all in one AppendEntries per
 * follower and owes nothing. A follower's step with `more` owes nothing. */
static void held_proposals_leave_together(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    cl_deliver_all(&c);
    /* The leader's writes wait for cl_sync: a report made at once would be a step of its own,
     * without `more`, and send what the proposal held. */
    c.slow_disk[1] = true;
    size_t before = cl_count(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2);
    for (int i = 0; i < 5; i++) {
        struct raft_event ev = {.type = RAFT_EVENT_PROPOSE, .more = true};
        ev.propose.data = "cmd";
        ev.propose.len = 3;
        assert_int_equal(cl_step(&c, 1, &ev), RAFT_OK);
        assert_true(raft_flush_held(&c.raft[1]));
    }
    assert_int_equal(cl_count(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2), before);
    cl_tick(&c, 1);
    assert_false(raft_flush_held(&c.raft[1]));
    assert_int_equal(cl_count(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2), before + 1);
    assert_int_equal(cl_count(&c, RAFT_MSG_APPEND_ENTRIES, 1, 3), before + 1);
    long at = cl_find(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2);
    assert_true(at >= 0);
    assert_int_equal(c.q[at].append_entries.n_entries, 5);
    struct raft_event tick = {.type = RAFT_EVENT_TICK, .more = true};
    cl_step(&c, 2, &tick);
    assert_false(raft_flush_held(&c.raft[2]));
    cl_deliver_all(&c);
    cl_sync(&c, 1);
    cl_deliver_all(&c);
    assert_int_equal(raft_commit_index(&c.raft[1]), raft_last_index(&c.raft[1]));
    cl_close(&c);
}

/* A lost AppendEntries in the middle of the pipeline: the next one is refused, the leader
 * probes back and fills the gap. */
static void lost_append_recovered_by_rejection(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    cl_propose(&c, 1, "a");
    cl_propose(&c, 1, "b");
    cl_propose(&c, 1, "c");
    long i = cl_find(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2);
    assert_true(i >= 0);
    raft_message_free(&c.q[i]); /* drop the first one to node 2 */
    memmove(&c.q[i], &c.q[i + 1], (c.nq - (size_t)i - 1) * sizeof *c.q);
    c.nq--;
    assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2));
    assert_int_equal(count_rejections(&c, 2), 1);
    cl_deliver_all(&c);
    assert_int_equal(raft_last_index(&c.raft[2]), 4);
    assert_int_equal(raft_commit_index(&c.raft[2]), 4);
    cl_close(&c);
}

/* A lost last AppendEntries (nothing after it to be refused) is resent after heartbeats. */
static void lost_tail_append_resent_after_heartbeats(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    cl_propose(&c, 1, "a");
    while (cl_find(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2) >= 0) {
        long i = cl_find(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2);
        raft_message_free(&c.q[i]);
        memmove(&c.q[i], &c.q[i + 1], (c.nq - (size_t)i - 1) * sizeof *c.q);
        c.nq--;
    }
    cl_isolate(&c, 3, true); /* node 3 down too: no majority without node 2 */
    cl_deliver_all(&c);
    assert_int_equal(raft_last_index(&c.raft[2]), 1);
    cl_isolate(&c, 3, false);
    for (int k = 0; k < 4; k++) {
        cl_advance(&c, 50);
        cl_deliver_all(&c);
    }
    assert_int_equal(raft_last_index(&c.raft[2]), 2);
    assert_int_equal(raft_commit_index(&c.raft[1]), 2);
    cl_close(&c);
}

/* Fast backup: a follower with 90 divergent entries in 3 terms costs ~one round trip per term,
 * not one per entry. */
static void fast_backup_skips_a_term_per_round_trip(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    for (int i = 0; i < 10; i++)
        for (uint32_t id = 1; id <= 3; id++)
            cl_disk_append(&c, id, 1);
    for (int i = 0; i < 100; i++) {
        cl_disk_append(&c, 1, 5);
        cl_disk_append(&c, 3, 5);
    }
    for (uint64_t t = 2; t <= 4; t++)
        for (int i = 0; i < 30; i++)
            cl_disk_append(&c, 2, t);
    c.disk[2].current_term = 5;
    cl_start_all(&c);
    cl_campaign(&c, 1);
    size_t rejections = 0;
    for (int i = 0; i < 1000 && c.nq > 0; i++) {
        if (c.q[0].type == RAFT_MSG_APPEND_ENTRIES_REPLY && c.q[0].from == 2 &&
            !c.q[0].append_entries_reply.success)
            rejections++;
        cl_deliver_at(&c, 0);
    }
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    assert_true(rejections <= 4); /* log too short, then terms 4, 3, 2 */
    assert_true(rejections >= 2);
    assert_int_equal(raft_last_index(&c.raft[2]), 111);
    for (uint64_t i = 1; i <= 111; i++)
        assert_int_equal(raft_entry_at(&c.raft[2], i)->term, raft_entry_at(&c.raft[1], i)->term);
    assert_int_equal(raft_commit_index(&c.raft[2]), 111);
    cl_close(&c);
}

/* A stale rejection (for an index the leader already knows matches) does not reset progress. */
static void stale_rejection_ignored(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    cl_propose(&c, 1, "a");
    cl_deliver_all(&c);
    assert_int_equal(raft_peer_match(&c.raft[1], 2), 2);
    uint64_t next = raft_peer_next(&c.raft[1], 2);
    struct raft_message m = {.type = RAFT_MSG_APPEND_ENTRIES_REPLY, .term = 1, .from = 2, .to = 1};
    m.append_entries_reply.rejected_index = 1;
    m.append_entries_reply.conflict_index = 1;
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &m};
    cl_step(&c, 1, &ev);
    assert_int_equal(raft_peer_next(&c.raft[1], 2), next);
    assert_int_equal(raft_peer_match(&c.raft[1], 2), 2);
    assert_int_equal(c.up[1].n_msgs, 0);
    cl_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proposals_pipelined_within_window),
        cmocka_unit_test(each_entry_sent_once_per_follower),
        cmocka_unit_test(held_proposals_leave_together),
        cmocka_unit_test(lost_append_recovered_by_rejection),
        cmocka_unit_test(lost_tail_append_resent_after_heartbeats),
        cmocka_unit_test(fast_backup_skips_a_term_per_round_trip),
        cmocka_unit_test(stale_rejection_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
