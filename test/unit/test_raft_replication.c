/* test_raft_replication.c - AppendEntries and commitment, Raft paper Figure 2 and 5.3. */
#include "test_raft_cluster.h"

/* Delivers a hand-built message to node id and returns raft_step's code. */
static int deliver_msg(struct cluster *c, uint32_t id, struct raft_message *m)
{
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = m};
    return cl_step(c, id, &ev);
}

/* An AppendEntries from node 1 in term with prev (index, term) and entries of the given terms. */
static struct raft_message make_ae(uint32_t to, uint64_t term, uint64_t prev_index,
                                   uint64_t prev_term, const uint64_t *terms, uint32_t n,
                                   uint64_t commit, struct raft_entry *storage)
{
    struct raft_message m = {.type = RAFT_MSG_APPEND_ENTRIES, .term = term, .from = 1, .to = to};
    for (uint32_t i = 0; i < n; i++)
        storage[i] = (struct raft_entry){.term = terms[i], .type = RAFT_ENTRY_NOOP};
    m.append_entries.prev_log_index = prev_index;
    m.append_entries.prev_log_term = prev_term;
    m.append_entries.leader_commit = commit;
    m.append_entries.n_entries = n;
    m.append_entries.entries = n ? storage : NULL;
    return m;
}

/* The reply node id just produced (the last message in the queue). */
static const struct raft_append_entries_reply *last_reply(const struct cluster *c)
{
    assert_true(c->nq > 0);
    assert_int_equal(c->q[c->nq - 1].type, RAFT_MSG_APPEND_ENTRIES_REPLY);
    return &c->q[c->nq - 1].append_entries_reply;
}

/* Section 8: a new leader's first entry in its term is a no-op, replicated and committed. */
static void leader_commits_noop_at_term_start(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    for (uint32_t id = 1; id <= 3; id++) {
        assert_int_equal(raft_last_index(&c.raft[id]), 1);
        assert_int_equal(raft_entry_at(&c.raft[id], 1)->type, RAFT_ENTRY_NOOP);
        assert_int_equal(raft_entry_at(&c.raft[id], 1)->term, 1);
    }
    assert_int_equal(raft_commit_index(&c.raft[1]), 1);
    cl_close(&c);
}

/* A follower answers a proposal with "not leader" and the leader's id. */
static void follower_refuses_proposal_with_hint(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    struct raft_proposal p = cl_propose(&c, 2, "put a 1");
    assert_int_equal(p.status, RAFT_PROPOSAL_NOT_LEADER);
    assert_int_equal(p.leader_hint, 1);
    assert_int_equal(raft_last_index(&c.raft[2]), 1);
    cl_close(&c);
}

/* A proposal is accepted at the next index, committed on a majority and applied everywhere. */
static void proposal_commits_and_applies_everywhere(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    struct raft_proposal p = cl_propose(&c, 1, "put a 1");
    assert_int_equal(p.status, RAFT_PROPOSAL_ACCEPTED);
    assert_int_equal(p.index, 2);
    assert_int_equal(p.term, 1);
    assert_int_equal(raft_commit_index(&c.raft[1]), 1); /* not before a majority has it */
    cl_deliver_all(&c);
    assert_int_equal(raft_commit_index(&c.raft[1]), 2);
    assert_int_equal(c.applied[1], 2);
    for (uint32_t id = 2; id <= 3; id++) {
        assert_int_equal(raft_commit_index(&c.raft[id]), 2); /* via the commit notification */
        assert_int_equal(c.applied[id], 2);
        const struct raft_entry *e = raft_entry_at(&c.raft[id], 2);
        assert_int_equal(e->len, 7);
        assert_memory_equal(e->data, "put a 1", 7);
    }
    cl_close(&c);
}

/* Figure 2 step 2: a missing prev entry is refused with hint "conflict_index = my last + 1". */
static void prev_missing_refused_with_length_hint(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    cl_disk_append(&c, 2, 1);
    cl_disk_append(&c, 2, 1);
    cl_start_all(&c);
    struct raft_entry st[1];
    struct raft_message m = make_ae(2, 2, 5, 2, NULL, 0, 0, st);
    assert_int_equal(deliver_msg(&c, 2, &m), 0);
    const struct raft_append_entries_reply *r = last_reply(&c);
    assert_false(r->success);
    assert_int_equal(r->rejected_index, 5);
    assert_int_equal(r->conflict_index, 3);
    assert_int_equal(r->conflict_term, 0);
    assert_true(cl_has_note(&c, 2, RAFT_NOTE_APPEND_REJECTED, RAFT_REASON_PREV_MISSING));
    cl_close(&c);
}

/* Figure 2 step 2: a prev term mismatch is refused with the conflicting term and its start. */
static void prev_mismatch_refused_with_term_hint(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    const uint64_t terms[] = {1, 1, 2, 2, 2};
    for (int i = 0; i < 5; i++)
        cl_disk_append(&c, 2, terms[i]);
    cl_start_all(&c);
    struct raft_entry st[1];
    struct raft_message m = make_ae(2, 3, 5, 3, NULL, 0, 0, st);
    deliver_msg(&c, 2, &m);
    const struct raft_append_entries_reply *r = last_reply(&c);
    assert_false(r->success);
    assert_int_equal(r->conflict_term, 2);
    assert_int_equal(r->conflict_index, 3);
    assert_int_equal(raft_last_index(&c.raft[2]), 5); /* nothing removed on a refusal */
    cl_close(&c);
}

/* Figure 2 step 1: an AppendEntries from an older term is refused with our term. */
static void stale_term_append_refused(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    c.disk[2].current_term = 4;
    cl_start_all(&c);
    struct raft_entry st[1];
    const uint64_t t[] = {3};
    struct raft_message m = make_ae(2, 3, 0, 0, t, 1, 0, st);
    deliver_msg(&c, 2, &m);
    const struct raft_append_entries_reply *r = last_reply(&c);
    assert_false(r->success);
    assert_int_equal(c.q[c.nq - 1].term, 4);
    assert_int_equal(raft_last_index(&c.raft[2]), 0);
    assert_int_equal(raft_leader_id(&c.raft[2]), 0);
    cl_close(&c);
}

/* Figure 2 step 3: a conflicting suffix is removed and replaced by the leader's entries. */
static void conflicting_suffix_truncated(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    const uint64_t terms[] = {1, 1, 2, 2};
    for (int i = 0; i < 4; i++)
        cl_disk_append(&c, 2, terms[i]);
    cl_start_all(&c);
    struct raft_entry st[1];
    const uint64_t t[] = {3};
    struct raft_message m = make_ae(2, 3, 2, 1, t, 1, 0, st);
    deliver_msg(&c, 2, &m);
    assert_true(last_reply(&c)->success);
    assert_int_equal(last_reply(&c)->match_index, 3);
    assert_int_equal(raft_last_index(&c.raft[2]), 3);
    assert_int_equal(raft_entry_at(&c.raft[2], 3)->term, 3);
    assert_true(cl_has_note(&c, 2, RAFT_NOTE_TRUNCATED, RAFT_REASON_NONE));
    assert_int_equal(c.up[2].persist.truncate_from, 3);
    assert_int_equal(c.up[2].persist.n_append, 1);
    cl_close(&c);
}

/* A stale AppendEntries whose entries all match truncates nothing (idempotent redelivery). */
static void stale_matching_append_does_not_truncate(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    for (int i = 0; i < 4; i++)
        cl_disk_append(&c, 2, 1);
    cl_start_all(&c);
    struct raft_entry st[1];
    const uint64_t t[] = {1};
    struct raft_message m = make_ae(2, 1, 1, 1, t, 1, 0, st);
    deliver_msg(&c, 2, &m);
    assert_true(last_reply(&c)->success);
    assert_int_equal(last_reply(&c)->match_index, 2);
    assert_int_equal(raft_last_index(&c.raft[2]), 4);
    assert_false(cl_has_note(&c, 2, RAFT_NOTE_TRUNCATED, RAFT_REASON_NONE));
    cl_close(&c);
}

/* Figure 2 step 5: commit follows leaderCommit only up to the last new entry. */
static void follower_commit_bounded_by_last_new_entry(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, false);
    for (int i = 0; i < 4; i++)
        cl_disk_append(&c, 2, 1); /* entries 2..4 may not match the leader's */
    cl_start_all(&c);
    struct raft_entry st[1];
    const uint64_t t[] = {1};
    struct raft_message m = make_ae(2, 1, 0, 0, t, 1, 9, st);
    deliver_msg(&c, 2, &m);
    assert_int_equal(raft_commit_index(&c.raft[2]), 1);
    cl_close(&c);
}

/* commitIndex never decreases, even when a reordered AppendEntries carries an older one. */
static void commit_never_goes_backwards(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    struct raft_entry st[3];
    const uint64_t t[] = {1, 1, 1};
    struct raft_message m = make_ae(2, 1, 0, 0, t, 3, 3, st);
    deliver_msg(&c, 2, &m);
    assert_int_equal(raft_commit_index(&c.raft[2]), 3);
    struct raft_message old = make_ae(2, 1, 0, 0, t, 1, 1, st);
    deliver_msg(&c, 2, &old);
    assert_int_equal(raft_commit_index(&c.raft[2]), 3);
    assert_int_equal(raft_last_index(&c.raft[2]), 3);
    cl_close(&c);
}

/* CommitNotify advances a follower only up to the index it is known to share with the leader. */
static void commit_notify_bounded_by_matched_index(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    struct raft_entry st[2];
    const uint64_t t[] = {1, 1};
    struct raft_message m = make_ae(2, 1, 0, 0, t, 2, 0, st);
    deliver_msg(&c, 2, &m);
    cl_disk_append(&c, 2, 1); /* an entry the leader never confirmed */
    struct raft_message cn = {.type = RAFT_MSG_COMMIT_NOTIFY, .term = 1, .from = 1, .to = 2};
    cn.commit_notify.commit_index = 3;
    deliver_msg(&c, 2, &cn);
    assert_int_equal(raft_commit_index(&c.raft[2]), 2);
    cl_close(&c);
}

/* A CommitNotify from an older term is ignored. */
static void commit_notify_from_old_term_ignored(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    struct raft_entry st[2];
    const uint64_t t[] = {1, 1};
    struct raft_message m = make_ae(2, 2, 0, 0, t, 2, 0, st);
    deliver_msg(&c, 2, &m);
    struct raft_message cn = {.type = RAFT_MSG_COMMIT_NOTIFY, .term = 1, .from = 3, .to = 2};
    cn.commit_notify.commit_index = 2;
    deliver_msg(&c, 2, &cn);
    assert_int_equal(raft_commit_index(&c.raft[2]), 0);
    assert_int_equal(raft_leader_id(&c.raft[2]), 1);
    cl_close(&c);
}

/* Every message duplicated and delivered in reverse order: logs and commits still agree. */
static void duplicated_reordered_delivery_harmless(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    for (int round = 0; round < 5; round++) {
        cl_propose(&c, 1, "cmd");
        cl_propose(&c, 1, "cmd2");
        size_t n = c.nq;
        for (size_t i = 0; i < n; i++) { /* duplicate everything */
            if (c.nq == c.capq) {
                c.capq *= 2;
                c.q = xreallocarray(c.q, c.capq, sizeof *c.q);
            }
            raft_message_copy(&c.q[c.nq++], &c.q[i]);
        }
        while (c.nq > 0) /* newest first */
            cl_deliver_at(&c, c.nq - 1);
        cl_advance(&c, 60);
        cl_deliver_all(&c);
    }
    assert_int_equal(raft_last_index(&c.raft[1]), 11);
    assert_int_equal(raft_commit_index(&c.raft[1]), 11);
    for (uint32_t id = 2; id <= 3; id++) {
        assert_int_equal(raft_last_index(&c.raft[id]), 11);
        assert_int_equal(raft_commit_index(&c.raft[id]), 11);
        for (uint64_t i = 1; i <= 11; i++)
            assert_int_equal(raft_entry_at(&c.raft[id], i)->term,
                             raft_entry_at(&c.raft[1], i)->term);
    }
    cl_close(&c);
}

/* Malformed messages are refused with an error code and change nothing. */
static void malformed_messages_rejected(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    struct raft_entry st[2];
    const uint64_t good[] = {1, 1};
    const uint64_t decreasing[] = {2, 1};
    const uint64_t too_new[] = {5, 5};
    struct raft_message bad[10];
    bad[0] = make_ae(2, 1, 0, 0, good, 2, 0, st);
    bad[0].from = 0; /* sender out of range */
    bad[1] = make_ae(2, 1, 0, 0, good, 2, 0, st);
    bad[1].from = 4;
    bad[2] = make_ae(3, 1, 0, 0, good, 2, 0, st); /* addressed to node 3 */
    bad[3] = make_ae(2, 1, 0, 0, good, 2, 0, st);
    bad[3].from = 2;                              /* from self */
    bad[4] = make_ae(2, 0, 0, 0, NULL, 0, 0, st); /* term 0 */
    bad[5] = make_ae(2, 1, 0, 0, good, 2, 0, st);
    bad[5].append_entries.entries = NULL; /* count without entries */
    bad[6] = make_ae(2, 2, 0, 0, decreasing, 2, 0, st);
    bad[7] = make_ae(2, 2, 0, 0, too_new, 2, 0, st);
    bad[8] = make_ae(2, 1, 0, 1, NULL, 0, 0, st); /* prev term without prev index */
    bad[9] = make_ae(2, 1, 0, 0, NULL, 0, 0, st);
    bad[9].type = (enum raft_msg_type)42;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(deliver_msg(&c, 2, &bad[i]), RAFT_EMALFORMED);
        assert_int_equal(c.up[2].n_msgs, 0);
    }
    assert_int_equal(raft_term(&c.raft[2]), 0);
    assert_int_equal(raft_last_index(&c.raft[2]), 0);
    struct raft_message rv = {.type = RAFT_MSG_REQUEST_VOTE, .term = 1, .from = 1, .to = 2};
    rv.request_vote.last_log_index = 3; /* index without term */
    assert_int_equal(deliver_msg(&c, 2, &rv), RAFT_EMALFORMED);
    assert_int_equal(raft_voted_for(&c.raft[2]), 0);
    cl_close(&c);
}

/* A message copy is independent of its original (entries deep-copied into one block). */
static void message_copy_is_deep(void **state)
{
    (void)state;
    uint8_t d1[] = {1, 2, 3};
    struct raft_entry e[2] = {{.term = 1, .type = RAFT_ENTRY_COMMAND, .len = 3, .data = d1},
                              {.term = 1, .type = RAFT_ENTRY_NOOP}};
    struct raft_message m = {.type = RAFT_MSG_APPEND_ENTRIES, .term = 1, .from = 1, .to = 2};
    m.append_entries.n_entries = 2;
    m.append_entries.entries = e;
    struct raft_message copy;
    raft_message_copy(&copy, &m);
    d1[0] = 9;
    assert_ptr_not_equal(copy.append_entries.entries, e);
    assert_int_equal(copy.append_entries.entries[0].data[0], 1);
    assert_null(copy.append_entries.entries[1].data);
    raft_message_free(&copy);
    assert_null(copy.append_entries.entries);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leader_commits_noop_at_term_start),
        cmocka_unit_test(follower_refuses_proposal_with_hint),
        cmocka_unit_test(proposal_commits_and_applies_everywhere),
        cmocka_unit_test(prev_missing_refused_with_length_hint),
        cmocka_unit_test(prev_mismatch_refused_with_term_hint),
        cmocka_unit_test(stale_term_append_refused),
        cmocka_unit_test(conflicting_suffix_truncated),
        cmocka_unit_test(stale_matching_append_does_not_truncate),
        cmocka_unit_test(follower_commit_bounded_by_last_new_entry),
        cmocka_unit_test(commit_never_goes_backwards),
        cmocka_unit_test(commit_notify_bounded_by_matched_index),
        cmocka_unit_test(commit_notify_from_old_term_ignored),
        cmocka_unit_test(duplicated_reordered_delivery_harmless),
        cmocka_unit_test(malformed_messages_rejected),
        cmocka_unit_test(message_copy_is_deep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
