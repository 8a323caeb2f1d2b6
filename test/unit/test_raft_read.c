/* test_raft_read.c - reads without log entries (Raft thesis 6.4) in the pure core, after etcd's
 * read-only tests (raft_test.go: TestReadOnlyOptionSafe, TestReadOnlyWithLearner,
 * TestReadOnlyForNewLeader, TestReadOnlyOptionLease): ReadIndex confirmed by a heartbeat round,
 * rounds shared by many reads, no read before the term's first commit, a minority leader that
 * serves none, duplicated and delayed acknowledgements that confirm nothing later, follower
 * reads, lease reads and their limits.
 */
#include "test_raft_cluster.h"

/* Node id asks for a read (id rid, mode). */
static void cl_read(struct cluster *c, uint32_t id, uint64_t rid, enum raft_read_mode mode)
{
    struct raft_event ev = {.type = RAFT_EVENT_READ};
    ev.read.id = rid;
    ev.read.mode = mode;
    assert_int_equal(cl_step(c, id, &ev), RAFT_OK);
}

/* The decision node id made on read rid, or NULL if none yet. */
static const struct raft_read *decided(const struct cluster *c, uint32_t id, uint64_t rid)
{
    for (size_t i = 0; i < c->n_reads[id]; i++)
        if (c->reads[id][i].id == rid)
            return &c->reads[id][i];
    return NULL;
}

/* The decision node id made on read rid, which must have status. */
static const struct raft_read *expect_read(const struct cluster *c, uint32_t id, uint64_t rid,
                                           enum raft_read_status status)
{
    const struct raft_read *d = decided(c, id, rid);
    assert_non_null(d);
    assert_int_equal(d->status, status);
    return d;
}

/* A 3-node cluster with node 1 leading and its no-op committed everywhere. */
static void elected(struct cluster *c, uint32_t n, bool check_quorum, uint64_t lease_ms)
{
    cl_init_opts(c, n, false, check_quorum);
    for (uint32_t id = 1; id <= n; id++)
        c->opt[id].lease_ms = lease_ms;
    cl_start_all(c);
    cl_elect(c, 1);
    cl_deliver_all(c);
    cl_advance(c, 50); /* a heartbeat carries the commit index to the followers */
    cl_deliver_all(c);
    assert_true(raft_commit_index(&c->raft[1]) >= 1);
}

/* ReadIndex: the read waits for a heartbeat round a majority acknowledged, then is ready at the
 * commit index it arrived with; no log entry is written for it. */
static void test_read_index_waits_for_round(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    cl_propose(&c, 1, "w");
    cl_deliver_all(&c);
    cl_advance(&c, 50);
    cl_deliver_all(&c);
    uint64_t commit = raft_commit_index(&c.raft[1]);
    uint64_t last = raft_last_index(&c.raft[1]);
    cl_read(&c, 1, 7, RAFT_READ_INDEX);
    assert_null(decided(&c, 1, 7));
    assert_int_equal(raft_last_index(&c.raft[1]), last); /* nothing appended */
    /* The round went out at once: one heartbeat to each follower. */
    assert_int_equal(cl_count(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2), 1);
    assert_int_equal(cl_count(&c, RAFT_MSG_APPEND_ENTRIES, 1, 3), 1);
    /* One follower's acknowledgement makes a majority with the leader. */
    assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2));
    assert_null(decided(&c, 1, 7));
    assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 2, 1));
    const struct raft_read *d = expect_read(&c, 1, 7, RAFT_READ_READY);
    assert_int_equal(d->index, commit);
    cl_close(&c);
}

/* Reads arriving while a round is in flight share the next one: ten reads, two rounds. */
static void test_reads_share_rounds(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    uint64_t before = c.sent[RAFT_MSG_APPEND_ENTRIES];
    cl_read(&c, 1, 1, RAFT_READ_INDEX); /* starts round 1 */
    for (uint64_t rid = 2; rid <= 10; rid++)
        cl_read(&c, 1, rid, RAFT_READ_INDEX);                      /* wait for the round after it */
    assert_int_equal(c.sent[RAFT_MSG_APPEND_ENTRIES] - before, 2); /* one per follower */
    cl_deliver_all(&c); /* round 1 confirmed: read 1 ready, round 2 starts for the other nine */
    for (uint64_t rid = 1; rid <= 10; rid++)
        expect_read(&c, 1, rid, RAFT_READ_READY);
    assert_int_equal(c.sent[RAFT_MSG_APPEND_ENTRIES] - before, 4); /* two rounds in all */
    cl_close(&c);
}

/* TestReadOnlyForNewLeader: a new leader serves no read before an entry of its term commits,
 * even when its commit index looks current. */
static void test_no_read_before_term_commit(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    cl_propose(&c, 1, "w");
    cl_deliver_all(&c);
    cl_advance(&c, 50);
    cl_deliver_all(&c);
    /* Node 2 takes over; its no-op's AppendEntries are held back. */
    cl_campaign(&c, 2);
    while (cl_find(&c, RAFT_MSG_APPEND_ENTRIES, 2, 0) < 0 && c.nq > 0)
        cl_deliver_at(&c, 0);
    assert_int_equal(raft_role(&c.raft[2]), RAFT_LEADER);
    cl_read(&c, 2, 5, RAFT_READ_INDEX);
    assert_null(decided(&c, 2, 5));
    /* Heartbeat replies alone do not serve it while the no-op is uncommitted. */
    for (long i; (i = cl_find(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 0, 2)) >= 0;)
        cl_deliver_at(&c, (size_t)i);
    assert_null(decided(&c, 2, 5));
    cl_deliver_all(&c);
    const struct raft_read *d = expect_read(&c, 2, 5, RAFT_READ_READY);
    /* Its index covers the no-op of the new term, and so everything committed before. */
    assert_true(d->index >= raft_last_index(&c.raft[2]));
    cl_close(&c);
}

/* A leader cut off from the majority confirms no round: its reads never become ready; with
 * check-quorum it steps down and they are lost. */
static void test_minority_leader_serves_nothing(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, true, 0);
    cl_isolate(&c, 1, true);
    cl_read(&c, 1, 9, RAFT_READ_INDEX);
    cl_deliver_all(&c);
    for (int i = 0; i < 3; i++) {
        cl_advance(&c, 50);
        cl_deliver_all(&c);
        const struct raft_read *d = decided(&c, 1, 9);
        assert_true(d == NULL || d->status != RAFT_READ_READY);
    }
    cl_advance(&c, 200); /* check-quorum: no majority heard from */
    cl_deliver_all(&c);
    assert_int_not_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    expect_read(&c, 1, 9, RAFT_READ_LOST);
    cl_close(&c);
}

/* An acknowledgement of a round sent before a read arrived, delivered late or twice, does not
 * confirm the read: it needs a round that started after it. */
static void test_duplicate_and_delayed_acks_confirm_nothing_later(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    cl_advance(&c, 50); /* a heartbeat round */
    assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2));
    assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, 3));
    long i = cl_find(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 2, 1);
    assert_true(i >= 0);
    struct raft_message old;
    raft_message_copy(&old, &c.q[i]);
    /* The read arrives while both acknowledgements of the earlier round are still on the way. */
    cl_read(&c, 1, 3, RAFT_READ_INDEX);
    cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 2, 1);
    cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 3, 1);
    assert_null(decided(&c, 1, 3));
    /* The same acknowledgement again (a duplicate) confirms nothing more. */
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &old};
    cl_step(&c, 1, &ev);
    assert_null(decided(&c, 1, 3));
    /* The round started for it does. */
    cl_deliver_all(&c);
    expect_read(&c, 1, 3, RAFT_READ_READY);
    raft_message_free(&old);
    cl_close(&c);
}

/* A reply echoing a round never sent in this term is ignored. */
static void test_ack_of_unsent_round_ignored(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    cl_read(&c, 1, 4, RAFT_READ_INDEX);
    long i = cl_find(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2);
    assert_true(i >= 0);
    struct raft_message forged = {
        .type = RAFT_MSG_APPEND_ENTRIES_REPLY, .term = raft_term(&c.raft[1]), .from = 2, .to = 1};
    forged.append_entries_reply.success = true;
    forged.append_entries_reply.match_index = raft_peer_match(&c.raft[1], 2);
    forged.append_entries_reply.read_round = c.q[i].append_entries.read_round + 100;
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &forged};
    cl_step(&c, 1, &ev);
    assert_null(decided(&c, 1, 4));
    cl_deliver_all(&c);
    assert_non_null(decided(&c, 1, 4));
    cl_close(&c);
}

/* A follower read: the follower asks the leader, which answers once its round is confirmed;
 * the follower serves at that index. */
static void test_follower_read(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    cl_propose(&c, 1, "w");
    cl_deliver_all(&c);
    uint64_t commit = raft_commit_index(&c.raft[1]);
    cl_read(&c, 2, 11, RAFT_READ_FOLLOWER);
    assert_null(decided(&c, 2, 11));
    assert_int_equal(cl_count(&c, RAFT_MSG_READ_INDEX, 2, 1), 1);
    cl_deliver_all(&c);
    const struct raft_read *d = expect_read(&c, 2, 11, RAFT_READ_READY);
    assert_int_equal(d->index, commit); /* the write it saw acknowledged is covered */
    assert_true(raft_commit_index(&c.raft[2]) >= d->index);
    /* Other modes at a follower are for the leader. */
    cl_read(&c, 2, 12, RAFT_READ_INDEX);
    d = expect_read(&c, 2, 12, RAFT_READ_NOT_LEADER);
    assert_int_equal(d->leader_hint, 1);
    cl_close(&c);
}

/* A follower keeps one request for a read index in flight: reads arriving meanwhile share the
 * next; an answer delivered twice serves nothing more. */
static void follower_reads_share_requests(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    cl_read(&c, 2, 1, RAFT_READ_FOLLOWER);
    cl_read(&c, 2, 2, RAFT_READ_FOLLOWER);
    cl_read(&c, 2, 3, RAFT_READ_FOLLOWER);
    assert_int_equal(cl_count(&c, RAFT_MSG_READ_INDEX, 2, 1), 1); /* for read 1 */
    while (cl_find(&c, RAFT_MSG_READ_INDEX_REPLY, 1, 2) < 0 && c.nq > 0)
        cl_deliver_at(&c, 0);
    long i = cl_find(&c, RAFT_MSG_READ_INDEX_REPLY, 1, 2);
    assert_true(i >= 0);
    struct raft_message answer;
    raft_message_copy(&answer, &c.q[i]);
    cl_deliver_at(&c, (size_t)i);
    expect_read(&c, 2, 1, RAFT_READ_READY);
    assert_null(decided(&c, 2, 2));
    assert_int_equal(cl_count(&c, RAFT_MSG_READ_INDEX, 2, 1), 1); /* for reads 2 and 3 */
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &answer};
    cl_step(&c, 2, &ev); /* the first answer again */
    raft_message_free(&answer);
    assert_null(decided(&c, 2, 2));
    cl_deliver_all(&c);
    expect_read(&c, 2, 2, RAFT_READ_READY);
    expect_read(&c, 2, 3, RAFT_READ_READY);
    assert_int_equal(c.n_reads[2], 3);
    assert_int_equal(c.sent[RAFT_MSG_READ_INDEX], 2);
    cl_close(&c);
}

/* A follower read whose leader goes away is lost; one without a leader is refused at once. */
static void test_follower_read_lost_with_leader(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    cl_read(&c, 3, 21, RAFT_READ_FOLLOWER);
    cl_drop_all(&c);    /* the request is lost */
    cl_campaign(&c, 2); /* node 3 hears of a new term */
    cl_deliver_all(&c);
    expect_read(&c, 3, 21, RAFT_READ_LOST);
    struct cluster fresh;
    cl_init(&fresh, 3);
    cl_read(&fresh, 2, 1, RAFT_READ_FOLLOWER);
    const struct raft_read *d = expect_read(&fresh, 2, 1, RAFT_READ_NOT_LEADER);
    assert_int_equal(d->leader_hint, 0);
    cl_close(&fresh);
    cl_close(&c);
}

/* A follower that crashes with a read on its way to the leader, restarts and asks again: the
 * leader's late answer to the earlier incarnation's read (whose index predates a write the new
 * read must see) does not serve the new read, whatever ids the two incarnations' reads had.
 * (Found by sweep seed 2061: the replica numbers its reads from 1 in every incarnation.) */
static void answer_to_earlier_incarnation_serves_nothing(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    cl_read(&c, 3, 1, RAFT_READ_FOLLOWER);
    assert_true(cl_deliver(&c, RAFT_MSG_READ_INDEX, 3, 1)); /* the leader takes its index */
    cl_crash(&c, 3);
    /* Node 2 confirms the round; the leader answers node 3, and the answer is held back. */
    assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2));
    assert_true(cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 2, 1));
    long old = cl_find(&c, RAFT_MSG_READ_INDEX_REPLY, 1, 3);
    assert_true(old >= 0);
    struct raft_message held;
    raft_message_copy(&held, &c.q[old]);
    assert_true(held.read_index_reply.ok);
    /* A write commits on nodes 1 and 2. */
    cl_propose(&c, 1, "w");
    uint64_t wrote = raft_last_index(&c.raft[1]);
    cl_deliver_all(&c); /* what goes to node 3 is lost: it is down */
    assert_true(raft_commit_index(&c.raft[1]) >= wrote);
    assert_true(held.read_index_reply.index < wrote);
    /* Node 3 comes back (a new incarnation, seeded anew as hosts do), hears its leader, and its
     * first read has the same caller id as the earlier incarnation's. */
    c.opt[3].seed += 1000;
    cl_start(&c, 3);
    cl_advance(&c, 50);
    cl_deliver_all(&c);
    cl_read(&c, 3, 1, RAFT_READ_FOLLOWER);
    /* The earlier incarnation's answer arrives first: it serves nothing. */
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &held};
    cl_step(&c, 3, &ev);
    raft_message_free(&held);
    assert_null(decided(&c, 3, 1));
    cl_deliver_all(&c);
    const struct raft_read *d = expect_read(&c, 3, 1, RAFT_READ_READY);
    assert_true(d->index >= wrote); /* it sees the write */
    cl_close(&c);
}

/* A follower whose disk is slow acknowledges a read round at once, while the entries that
 * rode with it wait for its sync: the read is ready, the write is not committed until the sync,
 * and the early acknowledgement vouches for nothing that is not durable. */
static void read_round_not_held_behind_a_slow_disk(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    c.slow_disk[2] = c.slow_disk[3] = true;
    cl_propose(&c, 1, "w1"); /* in flight to both followers */
    uint64_t commit = raft_commit_index(&c.raft[1]);
    cl_read(&c, 1, 41, RAFT_READ_INDEX); /* its round waits for the pipelines */
    cl_propose(&c, 1, "w2");
    uint64_t wrote = raft_last_index(&c.raft[1]);
    /* w1 is written and synced: its acknowledgements free the pipelines, and w2 goes out with
     * the read's round. */
    cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2);
    cl_deliver(&c, RAFT_MSG_APPEND_ENTRIES, 1, 3);
    assert_true(cl_sync(&c, 2));
    assert_true(cl_sync(&c, 3));
    for (long i; (i = cl_find(&c, RAFT_MSG_APPEND_ENTRIES_REPLY, 0, 1)) >= 0;)
        cl_deliver_at(&c, (size_t)i);
    assert_null(decided(&c, 1, 41));
    assert_true(cl_count(&c, RAFT_MSG_APPEND_ENTRIES, 1, 2) >= 1);
    /* w2 reaches the followers, whose disks do not sync: the round is confirmed anyway. */
    cl_deliver_all(&c);
    const struct raft_read *d = expect_read(&c, 1, 41, RAFT_READ_READY);
    assert_true(d->index >= commit);
    assert_true(raft_commit_index(&c.raft[1]) < wrote); /* nothing undurable vouched for */
    assert_true(raft_peer_match(&c.raft[1], 2) < wrote);
    assert_true(cl_sync(&c, 2));
    cl_deliver_all(&c);
    assert_true(raft_commit_index(&c.raft[1]) >= wrote);
    cl_close(&c);
}

/* A read arriving while every pipeline waits on a follower's disk (the followers answered the
 * round of the entries in flight early, and have not synced them) gets its round in a heartbeat at
 * once, not on the AppendEntries that follows the sync: it is ready with no disk synced. */
static void read_round_not_queued_behind_a_syncing_pipeline(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, false, 0);
    c.slow_disk[2] = c.slow_disk[3] = true;
    cl_propose(&c, 1, "w1");
    uint64_t wrote = raft_last_index(&c.raft[1]);
    cl_deliver_all(&c); /* written, answered early, not synced: the pipelines stay full */
    assert_true(raft_commit_index(&c.raft[1]) < wrote);
    uint64_t sent = c.sent[RAFT_MSG_APPEND_ENTRIES];
    cl_read(&c, 1, 51, RAFT_READ_INDEX);
    assert_int_equal(c.sent[RAFT_MSG_APPEND_ENTRIES] - sent, 2); /* a heartbeat to each */
    cl_deliver_all(&c);
    expect_read(&c, 1, 51, RAFT_READ_READY);
    assert_true(raft_commit_index(&c.raft[1]) < wrote); /* still nothing synced */
    assert_true(cl_sync(&c, 2));
    cl_deliver_all(&c);
    assert_true(raft_commit_index(&c.raft[1]) >= wrote);
    cl_close(&c);
}

/* TestReadOnlyOptionLease: inside its lease the leader answers at once; past it, a lease read
 * takes a heartbeat round like ReadIndex. */
static void test_lease_read(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, true, 120);
    cl_advance(&c, 50); /* a heartbeat round, acknowledged */
    cl_deliver_all(&c);
    uint64_t msgs = c.sent[RAFT_MSG_APPEND_ENTRIES];
    cl_read(&c, 1, 31, RAFT_READ_LEASE);
    expect_read(&c, 1, 31, RAFT_READ_READY);
    assert_int_equal(c.sent[RAFT_MSG_APPEND_ENTRIES], msgs); /* no round */
    /* Cut off: no round is acknowledged, the lease runs out 120 ms after the last one began. */
    cl_isolate(&c, 1, true);
    c.now_ms += 130;
    cl_read(&c, 1, 32, RAFT_READ_LEASE);
    assert_null(decided(&c, 1, 32));
    cl_deliver_all(&c);
    assert_null(decided(&c, 1, 32));
    cl_close(&c);
}

/* A lease without check-quorum is refused; so is one as long as the election timeout. */
static void test_lease_needs_check_quorum(void **state)
{
    (void)state;
    struct raft_options o;
    raft_options_default(&o, 1, 3);
    o.lease_ms = 100;
    const char *why = NULL;
    assert_int_equal(raft_options_validate(&o, &why), RAFT_EINVAL);
    assert_non_null(strstr(why, "check_quorum"));
    o.check_quorum = true;
    assert_int_equal(raft_options_validate(&o, &why), RAFT_OK);
    o.lease_ms = o.election_timeout_ms_min;
    assert_int_equal(raft_options_validate(&o, &why), RAFT_EINVAL);
}

/* A node restarted with lease reads on refuses votes for an election timeout: it may have
 * acknowledged a round of a leader whose lease still holds. */
static void test_restart_keeps_quiet(void **state)
{
    (void)state;
    struct cluster c;
    elected(&c, 3, true, 120);
    cl_crash(&c, 3);
    cl_start(&c, 3);
    struct raft_message rv = {
        .type = RAFT_MSG_REQUEST_VOTE, .term = raft_term(&c.raft[1]) + 1, .from = 2, .to = 3};
    rv.request_vote.last_log_index = raft_last_index(&c.raft[1]);
    rv.request_vote.last_log_term = raft_last_term(&c.raft[1]);
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &rv};
    uint64_t term = raft_term(&c.raft[3]);
    cl_step(&c, 3, &ev);
    assert_int_equal(raft_term(&c.raft[3]), term); /* refused inside the lease: term kept */
    assert_int_not_equal(raft_voted_for(&c.raft[3]), 2);
    c.now_ms += 150;
    cl_step(&c, 3, &ev);
    assert_int_equal(raft_voted_for(&c.raft[3]), 2);
    cl_close(&c);
}

/* Alone in the cluster, the leader is its own majority. */
static void test_single_node_read(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 1);
    cl_campaign(&c, 1);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    cl_read(&c, 1, 1, RAFT_READ_INDEX);
    const struct raft_read *d = expect_read(&c, 1, 1, RAFT_READ_READY);
    assert_int_equal(d->index, raft_commit_index(&c.raft[1]));
    cl_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_index_waits_for_round),
        cmocka_unit_test(test_reads_share_rounds),
        cmocka_unit_test(test_no_read_before_term_commit),
        cmocka_unit_test(test_minority_leader_serves_nothing),
        cmocka_unit_test(test_duplicate_and_delayed_acks_confirm_nothing_later),
        cmocka_unit_test(test_ack_of_unsent_round_ignored),
        cmocka_unit_test(test_follower_read),
        cmocka_unit_test(follower_reads_share_requests),
        cmocka_unit_test(test_follower_read_lost_with_leader),
        cmocka_unit_test(answer_to_earlier_incarnation_serves_nothing),
        cmocka_unit_test(read_round_not_held_behind_a_slow_disk),
        cmocka_unit_test(read_round_not_queued_behind_a_syncing_pipeline),
        cmocka_unit_test(test_lease_read),
        cmocka_unit_test(test_lease_needs_check_quorum),
        cmocka_unit_test(test_restart_keeps_quiet),
        cmocka_unit_test(test_single_node_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
