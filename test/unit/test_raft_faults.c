/* test_raft_faults.c - crash/restart from the persistent disk, pre-vote (thesis 9.6) and
 * check-quorum (thesis 6.2), driven message by message.
 */
#include "test_raft_cluster.h"

/* Runs the cluster for ms milliseconds in 10 ms steps, delivering everything. */
static void run_for(struct cluster *c, uint64_t ms)
{
    for (uint64_t t = 0; t < ms; t += 10) {
        cl_advance(c, 10);
        cl_deliver_all(c);
    }
}

static uint32_t find_leader(const struct cluster *c)
{
    uint32_t leader = 0;
    uint64_t best = 0;
    for (uint32_t id = 1; id <= c->n; id++)
        if (c->alive[id] && raft_role(&c->raft[id]) == RAFT_LEADER &&
            raft_term(&c->raft[id]) >= best) {
            leader = id;
            best = raft_term(&c->raft[id]);
        }
    return leader;
}

/* A restarted node comes back as a follower with its term, vote and log; commit starts at 0. */
static void restart_restores_persistent_state(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    cl_propose(&c, 1, "x");
    cl_deliver_all(&c);
    cl_crash(&c, 1);
    cl_start(&c, 1);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_FOLLOWER);
    assert_int_equal(raft_term(&c.raft[1]), 1);
    assert_int_equal(raft_voted_for(&c.raft[1]), 1);
    assert_int_equal(raft_last_index(&c.raft[1]), 2);
    assert_int_equal(raft_commit_index(&c.raft[1]), 0);
    cl_close(&c);
}

/* The leader crashes; a new leader is elected; the old one restarts, catches up and re-applies
 * the committed log from index 1. */
static void crashed_leader_rejoins_and_catches_up(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    cl_propose(&c, 1, "x");
    cl_deliver_all(&c);
    cl_crash(&c, 1);
    run_for(&c, 400);
    uint32_t leader = find_leader(&c);
    assert_true(leader == 2 || leader == 3);
    cl_propose(&c, leader, "y");
    cl_start(&c, 1);
    run_for(&c, 200);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_FOLLOWER);
    assert_int_equal(raft_last_index(&c.raft[1]), 4);
    assert_int_equal(raft_commit_index(&c.raft[1]), 4);
    assert_int_equal(c.applied[1], 4);
    cl_close(&c);
}

/* A partitioned leader's uncommitted entries are overwritten when it rejoins. */
static void partitioned_leader_uncommitted_entries_overwritten(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    cl_isolate(&c, 1, true);
    cl_propose(&c, 1, "lost");
    run_for(&c, 400);
    uint32_t leader = find_leader(&c);
    assert_true(leader == 2 || leader == 3);
    cl_propose(&c, leader, "kept");
    run_for(&c, 50);
    cl_isolate(&c, 1, false);
    run_for(&c, 200);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_FOLLOWER);
    assert_int_equal(raft_entry_at(&c.raft[1], 2)->type, RAFT_ENTRY_NOOP); /* new leader's no-op */
    assert_int_equal(raft_entry_at(&c.raft[1], 3)->len, 4);
    assert_memory_equal(raft_entry_at(&c.raft[1], 3)->data, "kept", 4);
    assert_int_equal(raft_commit_index(&c.raft[1]), 3);
    cl_close(&c);
}

/* Every node crashes and restarts: the committed log survives and the cluster goes on. */
static void whole_cluster_restart_keeps_committed_log(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    cl_propose(&c, 1, "x");
    cl_deliver_all(&c);
    for (uint32_t id = 1; id <= 3; id++)
        cl_crash(&c, id);
    for (uint32_t id = 1; id <= 3; id++)
        cl_start(&c, id);
    run_for(&c, 500);
    uint32_t leader = find_leader(&c);
    assert_true(leader != 0);
    assert_true(raft_term(&c.raft[leader]) >= 2);
    for (uint32_t id = 1; id <= 3; id++) {
        assert_int_equal(raft_last_index(&c.raft[id]), 3);
        assert_int_equal(raft_commit_index(&c.raft[id]), 3);
        assert_memory_equal(raft_entry_at(&c.raft[id], 2)->data, "x", 1);
    }
    cl_close(&c);
}

/* A minority never commits. */
static void minority_cannot_commit(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 5);
    cl_elect(&c, 1);
    for (uint32_t id = 3; id <= 5; id++)
        cl_isolate(&c, id, true);
    cl_propose(&c, 1, "x");
    run_for(&c, 100);
    assert_int_equal(raft_commit_index(&c.raft[1]), 1);
    assert_int_equal(raft_last_index(&c.raft[2]), 2);
    cl_close(&c);
}

/* Pre-vote: an isolated node times out again and again without raising its term. */
static void pre_vote_keeps_term_when_isolated(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, true, false);
    cl_start_all(&c);
    cl_elect(&c, 1);
    cl_isolate(&c, 3, true);
    run_for(&c, 2000);
    assert_int_equal(raft_term(&c.raft[3]), 1);
    assert_int_equal(raft_role(&c.raft[3]), RAFT_PRE_CANDIDATE);
    cl_close(&c);
}

/* Pre-vote: a campaign is a pre-vote round first, then a real election one term up. */
static void pre_vote_then_election(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, true, false);
    cl_start_all(&c);
    cl_campaign(&c, 1);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_PRE_CANDIDATE);
    assert_int_equal(raft_term(&c.raft[1]), 0);
    assert_true(c.q[0].request_vote.pre_vote);
    assert_int_equal(c.q[0].term, 1);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 1, 2));
    assert_int_equal(raft_term(&c.raft[2]), 0); /* a pre-vote changes nothing at the voter */
    assert_int_equal(raft_voted_for(&c.raft[2]), 0);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE_REPLY, 2, 1));
    assert_int_equal(raft_role(&c.raft[1]), RAFT_CANDIDATE);
    assert_int_equal(raft_term(&c.raft[1]), 1);
    cl_deliver_all(&c);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    cl_close(&c);
}

/* Pre-vote: a node rejoining after isolation does not depose a healthy leader. */
static void pre_vote_rejoining_node_does_not_disrupt(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, true, false);
    cl_start_all(&c);
    cl_elect(&c, 1);
    cl_isolate(&c, 3, true);
    run_for(&c, 1000);
    cl_isolate(&c, 3, false);
    run_for(&c, 1000);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    assert_int_equal(raft_term(&c.raft[1]), 1);
    assert_int_equal(raft_term(&c.raft[3]), 1);
    assert_int_equal(raft_leader_id(&c.raft[3]), 1);
    cl_close(&c);
}

/* Pre-vote: a follower that heard from its leader recently refuses a pre-vote. */
static void pre_vote_refused_while_leader_alive(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, true, false);
    cl_start_all(&c);
    cl_elect(&c, 1);
    cl_campaign(&c, 3);
    assert_true(cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 3, 2));
    assert_true(cl_has_note(&c, 2, RAFT_NOTE_VOTE_REFUSED, RAFT_REASON_LEADER_LEASE));
    cl_close(&c);
}

/* Without pre-vote, a rejoining node with a higher term does depose the leader (the problem
 * pre-vote solves): the control for the test above. */
static void without_pre_vote_rejoining_node_disrupts(void **state)
{
    (void)state;
    struct cluster c;
    cl_init(&c, 3);
    cl_elect(&c, 1);
    cl_isolate(&c, 3, true);
    run_for(&c, 1000);
    assert_true(raft_term(&c.raft[3]) > 1);
    cl_isolate(&c, 3, false);
    run_for(&c, 1000);
    assert_true(raft_term(&c.raft[1]) > 1);
    cl_close(&c);
}

/* Check-quorum: a leader cut off from the majority steps down within an election timeout. */
static void check_quorum_isolated_leader_steps_down(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, true);
    cl_start_all(&c);
    cl_elect(&c, 1);
    run_for(&c, 200);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    cl_isolate(&c, 1, true);
    run_for(&c, 310);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_FOLLOWER);
    assert_int_equal(raft_term(&c.raft[1]), 1);
    cl_close(&c);
}

/* Check-quorum: a leader that hears from a majority stays leader. */
static void check_quorum_connected_leader_stays(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 5, false, true);
    cl_start_all(&c);
    cl_elect(&c, 1);
    cl_isolate(&c, 5, true);
    cl_isolate(&c, 4, true);
    run_for(&c, 2000);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    assert_int_equal(raft_term(&c.raft[1]), 1);
    cl_close(&c);
}

/* Check-quorum lease: a follower that heard from its leader ignores a higher-term RequestVote
 * and keeps its term. */
static void check_quorum_follower_ignores_vote_in_lease(void **state)
{
    (void)state;
    struct cluster c;
    cl_init_opts(&c, 3, false, true);
    cl_start_all(&c);
    cl_elect(&c, 1);
    struct raft_message rv = {.type = RAFT_MSG_REQUEST_VOTE, .term = 9, .from = 3, .to = 2};
    rv.request_vote.last_log_index = 1;
    rv.request_vote.last_log_term = 1;
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &rv};
    cl_step(&c, 2, &ev);
    assert_int_equal(raft_term(&c.raft[2]), 1);
    assert_int_equal(raft_voted_for(&c.raft[2]), 1);
    assert_true(cl_has_note(&c, 2, RAFT_NOTE_VOTE_REFUSED, RAFT_REASON_LEADER_LEASE));
    cl_close(&c);
}

/* Invariants of the Raft paper (Figure 3), checked after every step of a random run. */
struct monitor {
    uint64_t seed;
    uint32_t leader_of_term[4096]; /* election safety */
    uint64_t applied_term[256];    /* state machine safety: term of the entry applied at i */
    uint64_t applied_at_term[256]; /* lowest current term of a node seen applying index i */
};

#define CHECK(mon, cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_message("invariant failed: %s (replay with seed %llu)\n", #cond,                 \
                          (unsigned long long)(mon)->seed);                                        \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static void monitor_check(struct monitor *mon, const struct cluster *c)
{
    for (uint32_t n = 1; n <= c->n; n++) {
        if (!c->alive[n])
            continue;
        const struct raft *r = &c->raft[n];
        uint64_t term = raft_term(r);
        CHECK(mon, term < 4096);
        if (raft_role(r) == RAFT_LEADER) { /* election safety: one leader per term */
            CHECK(mon, mon->leader_of_term[term] == 0 || mon->leader_of_term[term] == n);
            mon->leader_of_term[term] = n;
        }
        for (uint64_t i = 1; i <= c->applied[n] && i < 256; i++) { /* state machine safety */
            if (mon->applied_term[i] == 0) {
                mon->applied_term[i] = c->apply_term[n][i];
                mon->applied_at_term[i] = term;
            }
            CHECK(mon, c->apply_term[n][i] == mon->applied_term[i]);
            if (term < mon->applied_at_term[i])
                mon->applied_at_term[i] = term;
        }
    }
    for (uint32_t n = 1; n <= c->n; n++) { /* leader completeness */
        if (!c->alive[n] || raft_role(&c->raft[n]) != RAFT_LEADER)
            continue;
        const struct raft *r = &c->raft[n];
        for (uint64_t i = 1; i < 256 && mon->applied_term[i] != 0; i++) {
            if (raft_term(r) <= mon->applied_at_term[i])
                continue; /* only leaders of later terms are bound to hold it */
            CHECK(mon, raft_last_index(r) >= i);
            CHECK(mon, raft_entry_at(r, i)->term == mon->applied_term[i]);
        }
    }
    for (uint32_t a = 1; a <= c->n; a++) /* log matching on committed prefixes */
        for (uint32_t b = a + 1; b <= c->n; b++) {
            if (!c->alive[a] || !c->alive[b])
                continue;
            uint64_t ca = raft_commit_index(&c->raft[a]), cb = raft_commit_index(&c->raft[b]);
            uint64_t upto = ca < cb ? ca : cb;
            for (uint64_t i = 1; i <= upto; i++)
                CHECK(mon,
                      raft_entry_at(&c->raft[a], i)->term == raft_entry_at(&c->raft[b], i)->term);
        }
}

/* One random run: crashes, restarts, proposals, loss, duplication and reordering. */
static void run_churn(uint64_t seed, uint32_t n, bool pre_vote, bool check_quorum)
{
    struct cluster c;
    struct monitor mon;
    memset(&mon, 0, sizeof mon);
    mon.seed = seed;
    cl_init_opts(&c, n, pre_vote, check_quorum);
    for (uint32_t id = 1; id <= n; id++)
        c.opt[id].seed = seed * 100 + id;
    cl_start_all(&c);
    struct prng prng;
    prng_seed(&prng, seed);
    for (int step = 0; step < 3000; step++) {
        uint64_t r = prng_range(&prng, 0, 99);
        uint32_t id = (uint32_t)prng_range(&prng, 1, n);
        if (r < 2 && c.alive[id]) {
            cl_crash(&c, id);
        } else if (r < 6 && !c.alive[id]) {
            cl_start(&c, id);
        } else if (r < 25 && c.alive[id]) {
            cl_propose(&c, id, "v");
        } else if (r < 60 && c.nq > 0) {
            size_t i = (size_t)prng_range(&prng, 0, c.nq - 1); /* any order */
            uint64_t fate = prng_range(&prng, 0, 19);
            if (fate == 0) { /* lose it */
                raft_message_free(&c.q[i]);
                memmove(&c.q[i], &c.q[i + 1], (c.nq - i - 1) * sizeof *c.q);
                c.nq--;
            } else if (fate == 1 && c.nq < 10000) { /* duplicate it */
                if (c.nq == c.capq) {
                    c.capq *= 2;
                    c.q = xreallocarray(c.q, c.capq, sizeof *c.q);
                }
                raft_message_copy(&c.q[c.nq++], &c.q[i]);
            } else {
                cl_deliver_at(&c, i);
            }
        } else {
            cl_advance(&c, 5);
        }
        monitor_check(&mon, &c);
    }
    for (uint32_t id = 1; id <= n; id++) /* heal: everyone up, reliable network */
        if (!c.alive[id])
            cl_start(&c, id);
    run_for(&c, 3000);
    monitor_check(&mon, &c);
    uint32_t leader = find_leader(&c);
    CHECK(&mon, leader != 0);
    struct raft_proposal p = cl_propose(&c, leader, "final"); /* liveness: it commits everywhere */
    CHECK(&mon, p.status == RAFT_PROPOSAL_ACCEPTED);
    run_for(&c, 500);
    monitor_check(&mon, &c);
    for (uint32_t id = 1; id <= n; id++)
        CHECK(&mon, raft_commit_index(&c.raft[id]) >= p.index);
    cl_close(&c);
}

/* Many random runs (3, 5 and 7 nodes; pre-vote and check-quorum on and off): election safety,
 * state machine safety, leader completeness and log matching hold after every step, and the
 * healed cluster converges. A failure prints the seed. */
static void churn_keeps_safety(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 64; seed++) {
        uint32_t n = 3 + 2 * (uint32_t)(seed % 3);
        run_churn(seed, n, seed % 2 == 0, seed % 4 < 2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(restart_restores_persistent_state),
        cmocka_unit_test(crashed_leader_rejoins_and_catches_up),
        cmocka_unit_test(partitioned_leader_uncommitted_entries_overwritten),
        cmocka_unit_test(whole_cluster_restart_keeps_committed_log),
        cmocka_unit_test(minority_cannot_commit),
        cmocka_unit_test(pre_vote_keeps_term_when_isolated),
        cmocka_unit_test(pre_vote_then_election),
        cmocka_unit_test(pre_vote_rejoining_node_does_not_disrupt),
        cmocka_unit_test(pre_vote_refused_while_leader_alive),
        cmocka_unit_test(without_pre_vote_rejoining_node_disrupts),
        cmocka_unit_test(check_quorum_isolated_leader_steps_down),
        cmocka_unit_test(check_quorum_connected_leader_stays),
        cmocka_unit_test(check_quorum_follower_ignores_vote_in_lease),
        cmocka_unit_test(churn_keeps_safety),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
