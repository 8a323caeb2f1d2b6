/* election.c - leader election (Raft paper 5.2, 5.4.1) with optional pre-vote (thesis 9.6)
 * and the check-quorum leader lease (thesis 4.2.3, 6.2). Votes are persisted before the reply.
 */
#include <assert.h>
#include <string.h>

#include "raft/internal.h"

/* True if we lead, or heard from the leader within the minimum election timeout. */
static bool heard_from_leader_recently(const struct raft *r)
{
    if (r->role == RAFT_LEADER)
        return true;
    /* A node restarted with lease reads on may have acknowledged a leader's round just before it
     * crashed: it keeps quiet for an election timeout, as if it had heard from that leader. */
    if (r->now_ms < r->restart_quiet_until_ms)
        return true;
    return r->leader_id != 0 && r->now_ms - r->leader_contact_ms < r->opt.election_timeout_ms_min;
}

bool raft_in_leader_lease(const struct raft *r)
{
    return r->opt.check_quorum && !RAFT_PLANTED(r, RAFT_BUG_LEASE_NO_CHECK_QUORUM) &&
           heard_from_leader_recently(r);
}

/* Section 5.4.1: "If the logs have last entries with different terms, then the log with the
 * later term is more up-to-date. If the logs end with the same term, then whichever log is
 * longer is more up-to-date." */
static bool log_up_to_date(const struct raft *r, uint64_t last_index, uint64_t last_term)
{
    const struct raft_log *log = &r->state.log;
    uint64_t my_term = raft_log_last_term(log);
    return last_term > my_term || (last_term == my_term && last_index >= raft_log_last_index(log));
}

static void start_round(struct raft *r, bool pre_vote);

/* A majority granted: a pre-candidate runs the real election, a candidate becomes leader. */
static void won(struct raft *r, bool pre_vote)
{
    if (pre_vote) {
        start_round(r, false);
        return;
    }
    bool voted[RAFT_MAX_NODES];
    memcpy(voted, r->votes, sizeof voted);
    raft_convert(r, RAFT_LEADER);
    raft_leader_start(r);
    /* The voters just heard from are known to be up (membership.c counts on it). */
    for (uint32_t i = 0; i < r->opt.max_nodes; i++)
        if (voted[i] && i + 1 != r->opt.id)
            r->progress[i].last_heard_ms = r->now_ms;
}

/* Section 5.2: "To begin an election, a follower increments its current term and transitions to
 * candidate state. It then votes for itself and issues RequestVote RPCs in parallel to each of the
 * other servers". A pre-vote round does the same without touching the term or the vote. */
static void start_round(struct raft *r, bool pre_vote)
{
    uint64_t term;
    if (pre_vote) {
        raft_convert(r, RAFT_PRE_CANDIDATE);
        term = r->state.current_term + 1;
    } else {
        /* Persist the new term and the self-vote before any RequestVote leaves. */
        raft_persist_term_vote(r, r->state.current_term + 1, r->opt.id);
        raft_convert(r, RAFT_CANDIDATE);
        term = r->state.current_term;
    }
    struct raft_note *n = raft_note(r, RAFT_NOTE_ELECTION_START);
    n->term = term;
    n->pre_vote = pre_vote;
    n->reason = r->transfer_campaign ? RAFT_REASON_TRANSFERRED : RAFT_REASON_NONE;
    assert(raft_may_campaign(r));
    r->votes[r->opt.id - 1] = true;
    r->n_votes = raft_is_voter(r, r->opt.id) ? 1 : 0; /* a leaving server's own vote counts not */
    if (r->n_votes >= raft_quorum(r)) {
        won(r, pre_vote);
        return;
    }
    const struct raft_log *log = &r->state.log;
    /* Thesis 4.2.1: votes are asked of (and counted from) the voters of our configuration;
     * learners get no RequestVote. */
    RAFT_FOR_EACH_PEER(r, peer)
    {
        if (!raft_is_voter(r, peer))
            continue;
        struct raft_message *m = raft_send(r, RAFT_MSG_REQUEST_VOTE, peer);
        m->term = term;
        m->request_vote.last_log_index = raft_log_last_index(log);
        m->request_vote.last_log_term = raft_log_last_term(log);
        m->request_vote.pre_vote = pre_vote;
        m->request_vote.transfer = r->transfer_campaign && !pre_vote;
    }
}

void raft_election_start(struct raft *r, bool transfer)
{
    assert(r->role != RAFT_LEADER);
    r->transfer_campaign = transfer;
    start_round(r, r->opt.pre_vote && !transfer);
}

static void refuse_note(struct raft *r, const struct raft_message *m, enum raft_reason why)
{
    struct raft_note *n = raft_note(r, RAFT_NOTE_VOTE_REFUSED);
    n->peer = m->from;
    n->term = m->term;
    n->reason = why;
    n->pre_vote = m->request_vote.pre_vote;
}

/* Figure 2, RequestVote receiver: "1. Reply false if term < currentTerm. 2. If votedFor is null
 * or candidateId, and candidate's log is at least as up-to-date as receiver's log, grant vote".
 * Runs after observe_term(): a real request with a higher term got here only inside a lease. */
void raft_recv_request_vote(struct raft *r, const struct raft_message *m)
{
    const struct raft_request_vote *rv = &m->request_vote;
    uint64_t current = r->state.current_term;
    enum raft_reason why = RAFT_REASON_NONE;
    if (m->term < current)
        why = RAFT_REASON_STALE_TERM;
    else if (rv->pre_vote ? heard_from_leader_recently(r)
                          : m->term > current && raft_in_leader_lease(r) && !rv->transfer)
        why = RAFT_REASON_LEADER_LEASE; /* thesis 9.6 (pre-vote) and 4.2.3 (check-quorum); a
                                           transfer's election is the leader's wish (3.10) */
    else if (!(rv->pre_vote && m->term > current) && r->state.voted_for != 0 &&
             r->state.voted_for != m->from && !RAFT_PLANTED(r, RAFT_BUG_DOUBLE_VOTE))
        why = RAFT_REASON_ALREADY_VOTED;
    else if (!log_up_to_date(r, rv->last_log_index, rv->last_log_term))
        why = RAFT_REASON_LOG_NOT_UP_TO_DATE;

    if (why == RAFT_REASON_NONE && !rv->pre_vote) {
        assert(m->term == current);
        raft_persist_term_vote(r, current, m->from); /* persist before the reply leaves */
        raft_reset_election_deadline(r); /* Figure 2, Followers: granting a vote resets the timer */
    }
    struct raft_message *reply = raft_send(r, RAFT_MSG_REQUEST_VOTE_REPLY, m->from);
    reply->request_vote_reply.pre_vote = rv->pre_vote;
    reply->request_vote_reply.vote_granted = why == RAFT_REASON_NONE;
    if (why == RAFT_REASON_NONE && rv->pre_vote)
        reply->term = m->term; /* thesis 9.6: a granted pre-vote echoes the prospective term */
    if (why == RAFT_REASON_NONE) {
        struct raft_note *n = raft_note(r, RAFT_NOTE_VOTE_GRANTED);
        n->peer = m->from;
        n->term = m->term;
        n->pre_vote = rv->pre_vote;
    } else {
        refuse_note(r, m, why);
    }
}

/* Section 5.2: "A candidate wins an election if it receives votes from a majority of the servers
 * in the full cluster for the same term." */
void raft_recv_request_vote_reply(struct raft *r, const struct raft_message *m)
{
    const struct raft_request_vote_reply *rep = &m->request_vote_reply;
    if (!rep->vote_granted)
        return; /* a refusal with a higher term already made us follower in observe_term() */
    if (rep->pre_vote) {
        if (r->role != RAFT_PRE_CANDIDATE || m->term != r->state.current_term + 1)
            return; /* stale pre-vote */
    } else {
        if (r->role != RAFT_CANDIDATE || m->term != r->state.current_term)
            return; /* stale vote */
    }
    if (r->votes[m->from - 1])
        return; /* duplicate delivery */
    if (!raft_is_voter(r, m->from))
        return; /* not a voter of our configuration: its vote does not count */
    r->votes[m->from - 1] = true;
    r->n_votes++;
    struct raft_note *n = raft_note(r, RAFT_NOTE_VOTE_RECEIVED);
    n->peer = m->from;
    n->term = m->term;
    n->pre_vote = rep->pre_vote;
    n->a = r->n_votes;
    if (r->n_votes >= raft_quorum(r))
        won(r, rep->pre_vote);
}
