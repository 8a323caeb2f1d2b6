/* test_raft_membership.c - membership changes (thesis 4.1-4.3) and leadership transfer (3.10)
 * at the core, in the hand-driven network of test_raft_cluster.h: growing and shrinking while
 * entries commit, replacing every server, removing the leader, transfers to each node and to a
 * node cut off, changes refused with their reasons, configurations kept across a restart and in
 * snapshots, and removed servers that cannot disrupt the cluster.
 */
#include "test_raft_cluster.h"

/* n_total nodes of which 1..n_initial form the initial configuration; the others join (they
 * wait for the log to give them a configuration before they would campaign). */
static void grow_opts(struct cluster *c, uint32_t n_initial, uint32_t n_total, bool pre_vote,
                      bool check_quorum)
{
    cl_init_opts(c, n_total, pre_vote, check_quorum);
    for (uint32_t id = 1; id <= n_total; id++) {
        c->opt[id].n_nodes = n_initial;
        c->opt[id].max_nodes = n_total;
        c->opt[id].join = id > n_initial;
    }
}

static struct raft_change_result change(struct cluster *c, uint32_t at, enum raft_change_op op,
                                        uint32_t id)
{
    struct raft_event ev = {.type = RAFT_EVENT_CHANGE};
    ev.change.op = op;
    ev.change.id = id;
    assert_int_equal(cl_step(c, at, &ev), RAFT_OK);
    return c->up[at].change;
}

static struct raft_change_result transfer(struct cluster *c, uint32_t at, uint32_t to)
{
    struct raft_event ev = {.type = RAFT_EVENT_TRANSFER, .transfer_to = to};
    assert_int_equal(cl_step(c, at, &ev), RAFT_OK);
    return c->up[at].change;
}

/* Delivers everything and lets time pass in small steps (heartbeats, no election timeouts for
 * a node that hears from its leader). */
static void settle(struct cluster *c, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        cl_deliver_all(c);
        cl_advance(c, 10);
    }
    cl_deliver_all(c);
}

static void assert_config(const struct raft_config *cfg, const char *want)
{
    char got[256];
    raft_config_format(cfg, got, sizeof got);
    assert_string_equal(got, want);
}

static uint32_t leader_of(const struct cluster *c)
{
    for (uint32_t id = 1; id <= c->n; id++)
        if (c->alive[id] && raft_role(&c->raft[id]) == RAFT_LEADER)
            return id;
    return 0;
}

/* Adds id at the leader and lets it catch up: accepted, then a voter everywhere it matters. */
static void add_voter(struct cluster *c, uint32_t leader, uint32_t id)
{
    struct raft_change_result r = change(c, leader, RAFT_CHANGE_ADD, id);
    assert_int_equal(r.status, RAFT_CHANGE_ACCEPTED);
    assert_true(raft_config_is_learner(raft_config(&c->raft[leader]), id));
    settle(c, 5);
    assert_true(raft_config_is_voter(raft_config_committed(&c->raft[leader]), id));
}

static void remove_server(struct cluster *c, uint32_t leader, uint32_t id)
{
    struct raft_change_result r = change(c, leader, RAFT_CHANGE_REMOVE, id);
    assert_int_equal(r.status, RAFT_CHANGE_ACCEPTED);
    settle(c, 5);
}

/* Every live member's log agrees with the leader's through its commit index. */
static void assert_committed_everywhere(const struct cluster *c, uint32_t leader, uint64_t index)
{
    const struct raft_config *cfg = raft_config(&c->raft[leader]);
    for (uint32_t id = 1; id <= c->n; id++)
        if (c->alive[id] && raft_config_is_member(cfg, id))
            assert_true(raft_commit_index(&c->raft[id]) >= index);
}

static void grow_three_to_five_while_writing(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 3, 5, false, false);
    cl_start_all(&c);
    /* A joining server starts from the initial configuration, which does not hold it. */
    assert_config(raft_config(&c.raft[4]), "1 2 3");
    cl_elect(&c, 1);
    settle(&c, 2);
    assert_int_equal(cl_propose(&c, 1, "a").status, RAFT_PROPOSAL_ACCEPTED);
    add_voter(&c, 1, 4);
    assert_config(raft_config(&c.raft[1]), "1 2 3 4");
    assert_config(raft_config(&c.raft[4]), "1 2 3 4"); /* the joiner learned it from the log */
    cl_tick(&c, 1); /* a step that is no change reports none (not the last one's) */
    assert_int_equal(c.up[1].change.status, RAFT_CHANGE_NONE);
    assert_int_equal(c.up[1].change.index, 0);
    assert_int_equal(cl_propose(&c, 1, "b").status, RAFT_PROPOSAL_ACCEPTED);
    add_voter(&c, 1, 5);
    struct raft_proposal p = cl_propose(&c, 1, "c");
    settle(&c, 2);
    assert_committed_everywhere(&c, 1, p.index);
    assert_config(raft_config(&c.raft[5]), "1 2 3 4 5");
    /* Five voters: two down still commit, three down do not. */
    cl_isolate(&c, 4, true);
    cl_isolate(&c, 5, true);
    p = cl_propose(&c, 1, "d");
    settle(&c, 2);
    assert_true(raft_commit_index(&c.raft[1]) >= p.index);
    cl_isolate(&c, 3, true);
    p = cl_propose(&c, 1, "e");
    settle(&c, 2);
    assert_true(raft_commit_index(&c.raft[1]) < p.index);
    cl_close(&c);
}

static void shrink_five_to_three_and_remove_the_leader(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 5, 5, false, false);
    cl_start_all(&c);
    cl_elect(&c, 1);
    settle(&c, 2);
    remove_server(&c, 1, 5);
    remove_server(&c, 1, 4);
    assert_config(raft_config_committed(&c.raft[1]), "1 2 3");
    /* Three voters: one of 4, 5 being down no longer matters, but 2 and 3 both are needed. */
    cl_isolate(&c, 4, true);
    cl_isolate(&c, 5, true);
    struct raft_proposal p = cl_propose(&c, 1, "x");
    settle(&c, 2);
    assert_true(raft_commit_index(&c.raft[1]) >= p.index);
    cl_drop_all(&c);
    /* Remove the leader: it leads until the change commits (without counting itself), then
     * steps down and never campaigns again; 2 and 3 elect a leader of their own. */
    struct raft_change_result r = change(&c, 1, RAFT_CHANGE_REMOVE, 1);
    assert_int_equal(r.status, RAFT_CHANGE_ACCEPTED);
    cl_deliver_all(&c);
    cl_advance(&c, 10);
    cl_deliver_all(&c);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_FOLLOWER);
    bool stepped = false;
    for (int i = 0; i < 40 && !stepped; i++) {
        cl_advance(&c, 20);
        cl_deliver_all(&c);
        uint32_t l = leader_of(&c);
        stepped = l == 2 || l == 3;
    }
    assert_true(stepped);
    uint32_t l = leader_of(&c);
    assert_config(raft_config(&c.raft[l]), "2 3");
    p = cl_propose(&c, l, "y");
    settle(&c, 2);
    assert_true(raft_commit_index(&c.raft[l]) >= p.index);
    assert_int_not_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    cl_close(&c);
}

static void replace_every_original_node(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 3, 6, true, true);
    cl_start_all(&c);
    cl_elect(&c, 1);
    settle(&c, 2);
    uint32_t leader = 1;
    for (uint32_t old = 1; old <= 3; old++) {
        add_voter(&c, leader, old + 3);
        /* The node to go may be the leader: hand leadership to the newcomer first. */
        if (old == leader) {
            assert_int_equal(transfer(&c, leader, old + 3).status, RAFT_CHANGE_ACCEPTED);
            settle(&c, 3);
            leader = leader_of(&c);
            assert_int_equal(leader, old + 3);
            settle(&c, 2); /* its no-op commits: changes are allowed again */
        }
        remove_server(&c, leader, old);
        struct raft_proposal p = cl_propose(&c, leader, "w");
        settle(&c, 2);
        assert_committed_everywhere(&c, leader, p.index);
    }
    assert_config(raft_config_committed(&c.raft[leader]), "4 5 6");
    for (uint32_t id = 4; id <= 6; id++)
        assert_config(raft_config(&c.raft[id]), "4 5 6");
    /* The old nodes are gone: the new ones commit alone. */
    for (uint32_t id = 1; id <= 3; id++)
        cl_isolate(&c, id, true);
    struct raft_proposal p = cl_propose(&c, leader, "z");
    settle(&c, 2);
    assert_true(raft_commit_index(&c.raft[leader]) >= p.index);
    cl_close(&c);
}

static void transfer_to_each_node_in_turn(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 3, 3, true, true); /* pre-vote and check-quorum: the target must skip both */
    cl_start_all(&c);
    cl_elect(&c, 1);
    settle(&c, 2);
    uint32_t order[] = {2, 3, 1, 3};
    uint32_t from = 1;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        uint64_t term = raft_term(&c.raft[from]);
        assert_int_equal(transfer(&c, from, order[i]).status, RAFT_CHANGE_ACCEPTED);
        /* No new entries while the transfer is under way: clients are sent to the target. */
        struct raft_proposal p = cl_propose(&c, from, "t");
        assert_int_equal(p.status, RAFT_PROPOSAL_NOT_LEADER);
        assert_int_equal(p.leader_hint, order[i]);
        settle(&c, 2);
        assert_int_equal(leader_of(&c), order[i]);
        assert_int_equal(raft_term(&c.raft[order[i]]), term + 1); /* one election, at once */
        from = order[i];
    }
    /* A transfer to itself, or to no voter, is refused. */
    assert_int_equal(transfer(&c, from, from).why, RAFT_REFUSE_SELF);
    assert_int_equal(transfer(&c, from, 7).why, RAFT_REFUSE_BAD_ID);
    cl_close(&c);
}

static void transfer_to_a_node_cut_off_gives_up(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 3, 3, false, true);
    cl_start_all(&c);
    cl_elect(&c, 1);
    settle(&c, 2);
    cl_isolate(&c, 3, true);
    uint64_t term = raft_term(&c.raft[1]);
    assert_int_equal(transfer(&c, 1, 3).status, RAFT_CHANGE_ACCEPTED);
    assert_int_equal(transfer(&c, 1, 2).why, RAFT_REFUSE_TRANSFERRING);
    assert_int_equal(change(&c, 1, RAFT_CHANGE_REMOVE, 2).why, RAFT_REFUSE_TRANSFERRING);
    cl_propose(&c, 1, "t");
    assert_int_equal(c.last_proposal.status, RAFT_PROPOSAL_NOT_LEADER);
    /* An election timeout (150 ms) later the leader gives up and leads on, in its term. */
    bool gave_up = false;
    for (int i = 0; i < 20 && !gave_up; i++) {
        cl_advance(&c, 10);
        cl_deliver_all(&c);
        gave_up = raft_transfer_target(&c.raft[1]) == 0;
    }
    assert_true(gave_up);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    assert_int_equal(raft_term(&c.raft[1]), term);
    struct raft_proposal p = cl_propose(&c, 1, "after");
    assert_int_equal(p.status, RAFT_PROPOSAL_ACCEPTED);
    settle(&c, 2);
    assert_true(raft_commit_index(&c.raft[1]) >= p.index);
    cl_close(&c);
}

static void a_change_during_another_is_refused(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 3, 5, false, false);
    cl_start_all(&c);
    cl_campaign(&c, 1);
    /* Elected, but its no-op has not committed: no change yet (the erratum of thesis 4.1). */
    for (int i = 0; i < 10 && raft_role(&c.raft[1]) != RAFT_LEADER; i++)
        if (!cl_deliver(&c, RAFT_MSG_REQUEST_VOTE, 0, 0))
            cl_deliver(&c, RAFT_MSG_REQUEST_VOTE_REPLY, 0, 1);
    assert_int_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    struct raft_change_result r = change(&c, 1, RAFT_CHANGE_ADD, 4);
    assert_int_equal(r.status, RAFT_CHANGE_REFUSED);
    assert_int_equal(r.why, RAFT_REFUSE_TERM_NOT_COMMITTED);
    settle(&c, 1);
    /* The first change is accepted; a second before it commits is refused. */
    cl_isolate(&c, 2, true);
    cl_isolate(&c, 3, true);
    assert_int_equal(change(&c, 1, RAFT_CHANGE_REMOVE, 3).status, RAFT_CHANGE_ACCEPTED);
    r = change(&c, 1, RAFT_CHANGE_ADD, 4);
    assert_int_equal(r.why, RAFT_REFUSE_CHANGE_PENDING);
    assert_string_equal(raft_refusal_name(r.why),
                        "another membership change has not committed yet");
    cl_isolate(&c, 2, false);
    cl_isolate(&c, 3, true); /* removed unawares, without pre-vote it would disrupt: */
    settle(&c, 3);           /* removed_server_does_not_disrupt shows the cure */
    assert_config(raft_config_committed(&c.raft[1]), "1 2");
    /* One addition at a time: a second waits while the first learner catches up. */
    cl_isolate(&c, 4, true);
    assert_int_equal(change(&c, 1, RAFT_CHANGE_ADD, 4).status, RAFT_CHANGE_ACCEPTED);
    settle(&c, 1);
    assert_int_equal(change(&c, 1, RAFT_CHANGE_ADD, 5).why, RAFT_REFUSE_CATCHING_UP);
    assert_int_equal(change(&c, 1, RAFT_CHANGE_ADD, 2).why, RAFT_REFUSE_ALREADY_MEMBER);
    assert_int_equal(change(&c, 1, RAFT_CHANGE_REMOVE, 3).why, RAFT_REFUSE_NOT_MEMBER);
    assert_int_equal(change(&c, 1, RAFT_CHANGE_ADD, 9).why, RAFT_REFUSE_BAD_ID);
    assert_int_equal(change(&c, 2, RAFT_CHANGE_ADD, 5).why, RAFT_REFUSE_NOT_LEADER);
    assert_int_equal(c.up[2].change.leader_hint, 1);
    /* A learner that stays silent is removed again (thesis 4.2.1: the change is abandoned). */
    bool removed = false;
    for (int i = 0; i < 200 && !removed; i++) {
        cl_advance(&c, 10);
        cl_deliver_all(&c);
        removed = !raft_config_is_member(raft_config(&c.raft[1]), 4);
    }
    assert_true(removed);
    settle(&c, 2);
    assert_config(raft_config_committed(&c.raft[1]), "1 2");
    cl_close(&c);
}

static void configuration_survives_restart_and_snapshot(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 3, 5, false, false);
    for (uint32_t id = 1; id <= 5; id++) {
        c.opt[id].snapshot_threshold = 4;
        c.opt[id].snapshot_trailing = 0;
    }
    cl_start_all(&c);
    cl_elect(&c, 1);
    settle(&c, 2);
    add_voter(&c, 1, 4);
    for (int i = 0; i < 12; i++)
        cl_propose(&c, 1, "s");
    settle(&c, 3);
    /* The configuration entry is compacted away: the snapshot carries it. */
    assert_true(raft_snapshot_index(&c.raft[2]) > raft_config_index(&c.raft[2]));
    assert_config(&c.disk[2].snapshot.config, "1 2 3 4");
    cl_crash(&c, 2);
    cl_start(&c, 2);
    assert_config(raft_config(&c.raft[2]), "1 2 3 4");
    /* A joiner that needs the compacted entries gets the configuration with the snapshot. */
    add_voter(&c, 1, 5);
    assert_true(c.restored[5] > 0);
    assert_config(raft_config(&c.raft[5]), "1 2 3 4 5");
    cl_crash(&c, 5);
    cl_start(&c, 5);
    assert_config(raft_config(&c.raft[5]), "1 2 3 4 5");
    cl_close(&c);
}

/* Thesis 4.2.3: a server removed without hearing of it times out and campaigns; the others
 * refuse it while they hear from their leader, so the leader keeps its term. */
static void removed_server_does_not_disrupt(void **state)
{
    (void)state;
    for (int pre_vote = 0; pre_vote <= 1; pre_vote++) {
        struct cluster c;
        grow_opts(&c, 4, 4, pre_vote, !pre_vote);
        cl_start_all(&c);
        cl_elect(&c, 1);
        settle(&c, 2);
        cl_isolate(&c, 4, true);
        remove_server(&c, 1, 4);
        assert_config(raft_config(&c.raft[4]), "1 2 3 4"); /* it never heard */
        uint64_t term = raft_term(&c.raft[1]);
        cl_isolate(&c, 4, false);
        for (int i = 0; i < 100; i++) {
            cl_advance(&c, 10);
            cl_deliver_all(&c);
        }
        assert_true(cl_leaders_in_term(&c, term) == 1);
        assert_int_equal(leader_of(&c), 1);
        assert_int_equal(raft_term(&c.raft[1]), term);
        assert_int_equal(raft_term(&c.raft[2]), term);
        cl_close(&c);
    }
}

/* Removing a live voter while another is down would leave a configuration without a live
 * majority: refused (the cluster would stop); removing the dead one is fine. */
static void removal_that_would_lose_the_quorum_is_refused(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 3, 3, false, false);
    cl_start_all(&c);
    cl_elect(&c, 1);
    settle(&c, 2);
    cl_isolate(&c, 3, true);
    for (int i = 0; i < 40; i++) { /* longer than an election timeout (300 ms) */
        cl_advance(&c, 10);
        cl_deliver_all(&c);
    }
    struct raft_change_result r = change(&c, 1, RAFT_CHANGE_REMOVE, 2);
    assert_int_equal(r.why, RAFT_REFUSE_NO_QUORUM);
    r = change(&c, 1, RAFT_CHANGE_REMOVE, 1);
    assert_int_equal(r.why, RAFT_REFUSE_NO_QUORUM);
    remove_server(&c, 1, 3);
    assert_config(raft_config_committed(&c.raft[1]), "1 2");
    cl_close(&c);
}

/* Thesis 4.2.2: a server removed by an entry only it holds must still stand for election (not
 * counting its own vote). Here node 3 is down for good, node 1 leads {1 2 3 4} and appends its
 * own removal, which nobody receives, then loses its term to node 2's election. 2 and 4 cannot
 * win without 1's vote, and 1 refuses them: its log is longer. Only 1 can end this: it is
 * elected by 2 and 4 (a majority of {2 3 4}), commits its removal, and steps down; then 2 or 4
 * leads {2 3 4}. */
static void leaving_server_with_the_only_copy_stands(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 4, 4, false, false);
    cl_start_all(&c);
    cl_elect(&c, 1);
    settle(&c, 2);
    cl_crash(&c, 3);
    assert_int_equal(change(&c, 1, RAFT_CHANGE_REMOVE, 1).status, RAFT_CHANGE_ACCEPTED);
    cl_drop_all(&c); /* the entry reaches nobody */
    cl_campaign(&c, 2);
    cl_deliver_all(&c);
    assert_int_not_equal(raft_role(&c.raft[1]), RAFT_LEADER);
    assert_int_not_equal(raft_role(&c.raft[2]), RAFT_LEADER);
    uint32_t leader = 0;
    for (int i = 0; i < 200 && (leader == 0 || leader == 1); i++) {
        cl_advance(&c, 10);
        cl_deliver_all(&c);
        leader = leader_of(&c);
    }
    assert_true(leader == 2 || leader == 4);
    assert_config(raft_config_committed(&c.raft[leader]), "2 3 4");
    cl_close(&c);
}

/* A fresh server started to join under an id that was once a voter (node 3 removed, then
 * added back with an empty disk) does not stand for election on the initial configuration
 * before its log gives it one; once the leader's log reaches it, it follows that. */
static void fresh_joiner_waits_for_its_configuration(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 3, 3, false, false);
    c.opt[3].join = true;
    cl_start_all(&c);
    cl_isolate(&c, 3, true);
    cl_elect(&c, 1);
    for (int i = 0; i < 50; i++) {
        cl_advance(&c, 20);
        cl_deliver_all(&c);
        assert_int_equal(raft_role(&c.raft[3]), RAFT_FOLLOWER);
    }
    assert_int_equal(raft_term(&c.raft[3]), 0);
    /* The operator removes the old node 3 and adds the fresh one back. */
    remove_server(&c, 1, 3);
    cl_isolate(&c, 3, false);
    add_voter(&c, 1, 3);
    assert_true(raft_config_index(&c.raft[3]) > 0);
    assert_config(raft_config(&c.raft[3]), "1 2 3");
    /* Now a voter that knows it: it stands when its leader goes quiet. */
    cl_isolate(&c, 1, true);
    bool stood = false;
    for (int i = 0; i < 50 && !stood; i++) {
        cl_advance(&c, 20);
        cl_deliver_all(&c);
        stood = raft_term(&c.raft[3]) > raft_term(&c.raft[1]);
    }
    assert_true(stood);
    cl_close(&c);
}

/* The transfer's election skips the voters' lease: the old leader serves no lease read once it
 * has sent TimeoutNow. */
static void no_lease_read_across_a_transfer(void **state)
{
    (void)state;
    struct cluster c;
    grow_opts(&c, 3, 3, false, true);
    for (uint32_t id = 1; id <= 3; id++)
        c.opt[id].lease_ms = 100;
    cl_start_all(&c);
    cl_elect(&c, 1);
    settle(&c, 6);
    struct raft_event read = {.type = RAFT_EVENT_READ};
    read.read.id = 1;
    read.read.mode = RAFT_READ_LEASE;
    cl_step(&c, 1, &read);
    assert_true(cl_has_note(&c, 1, RAFT_NOTE_READ_LEASE, RAFT_REASON_NONE));
    assert_int_equal(transfer(&c, 1, 2).status, RAFT_CHANGE_ACCEPTED);
    assert_int_equal(cl_count(&c, RAFT_MSG_TIMEOUT_NOW, 1, 2), 1);
    read.read.id = 2;
    cl_step(&c, 1, &read);
    assert_false(cl_has_note(&c, 1, RAFT_NOTE_READ_LEASE, RAFT_REASON_NONE));
    cl_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grow_three_to_five_while_writing),
        cmocka_unit_test(shrink_five_to_three_and_remove_the_leader),
        cmocka_unit_test(replace_every_original_node),
        cmocka_unit_test(transfer_to_each_node_in_turn),
        cmocka_unit_test(transfer_to_a_node_cut_off_gives_up),
        cmocka_unit_test(a_change_during_another_is_refused),
        cmocka_unit_test(configuration_survives_restart_and_snapshot),
        cmocka_unit_test(removed_server_does_not_disrupt),
        cmocka_unit_test(no_lease_read_across_a_transfer),
        cmocka_unit_test(fresh_joiner_waits_for_its_configuration),
        cmocka_unit_test(removal_that_would_lose_the_quorum_is_refused),
        cmocka_unit_test(leaving_server_with_the_only_copy_stands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
