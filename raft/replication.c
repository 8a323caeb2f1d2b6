/* replication.c - log replication and commitment (Raft paper 5.3, 5.4.2, Figure 2).
 * Design: per-peer probe/replicate flow control with pipelining (up to max_inflight batches of up
 * to max_entries_per_append entries), fast backup by conflict term, and a CommitNotify cast.
 */
#include <assert.h>
#include <string.h>

#include "raft/internal.h"

static void log_append(struct raft *r, uint64_t term, enum raft_entry_type type, const void *data,
                       uint32_t len)
{
    struct raft_log *log = raft_log_of(r);
    raft_log_append(log, term, type, data, len);
    raft_log_changed_from(r, raft_log_last_index(log));
    if (type == RAFT_ENTRY_CONFIG) /* thesis 4.1: in effect once in the log */
        raft_config_appended(r, raft_log_last_index(log));
}

void raft_commit_to(struct raft *r, uint64_t index)
{
    if (index <= r->commit_index)
        return; /* Figure 2: commitIndex only increases */
    assert(index <= raft_log_last_index(raft_log_of(r)));
    struct raft_note *n = raft_note(r, RAFT_NOTE_COMMIT_ADVANCED);
    n->a = r->commit_index;
    n->b = index;
    r->commit_index = index;
}

/* Figure 2, Leaders: "If there exists an N such that N > commitIndex, a majority of
 * matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex = N" (5.3, 5.4). Only an
 * entry of the current term is committed by counting replicas (5.4.2, Figure 8); earlier ones
 * commit indirectly with it. */
static void leader_maybe_commit(struct raft *r)
{
    uint64_t match[RAFT_MAX_NODES];
    uint32_t n = 0;
    /* The leader counts itself only for what it has made durable (thesis 10.2.1), and only
     * while it is a voter (a leader being removed does not, thesis 4.2.2). */
    if (raft_is_voter(r, r->opt.id))
        match[n++] = r->durable_index;
    RAFT_FOR_EACH_PEER(r, peer)
    {
        if (raft_is_voter(r, peer))
            match[n++] = r->progress[peer - 1].match_index;
    }
    uint64_t candidate = raft_quorum_value(match, n); /* replicated on a majority */
    if (candidate > r->commit_index &&
        (raft_log_term_at(raft_log_of(r), candidate) == r->state.current_term ||
         RAFT_PLANTED(r, RAFT_BUG_COMMIT_OLD_TERM)))
        raft_commit_to(r, candidate);
}

void raft_leader_durable(struct raft *r)
{
    leader_maybe_commit(r);
}

/* Sends peer one AppendEntries with up to max_entries_per_append entries starting at next. */
static uint64_t send_append(struct raft *r, uint32_t peer, uint64_t next)
{
    const struct raft_log *log = raft_log_of(r);
    struct raft_progress *pr = &r->progress[peer - 1];
    uint64_t last = raft_log_last_index(log);
    assert(next >= 1 && next <= last + 1);
    uint64_t n = last + 1 - next;
    if (n > r->opt.max_entries_per_append)
        n = r->opt.max_entries_per_append;
    struct raft_message *m = raft_send(r, RAFT_MSG_APPEND_ENTRIES, peer);
    struct raft_append_entries *ae = &m->append_entries;
    ae->prev_log_index = next - 1;
    ae->prev_log_term = raft_log_term_at(log, next - 1);
    ae->leader_commit = r->commit_index;
    ae->n_entries = (uint32_t)n;
    ae->entries = raft_entries_copy(raft_log_get(log, next), (uint32_t)n);
    pr->round_sent = r->read_round;
    pr->round_answered = false;
    pr->commit_sent = r->commit_index;
    pr->sent_this_step = true;
    return next - 1 + n;
}

/* What flow control allows: one probe at a time in PROBE, a window of batches in REPLICATE, one
 * snapshot chunk at a time in SNAPSHOT (section 7: the entries the peer needs are compacted). */
static void send_appends(struct raft *r, uint32_t peer)
{
    struct raft_progress *pr = &r->progress[peer - 1];
    uint64_t last = raft_log_last_index(raft_log_of(r));
    if (pr->state != RAFT_PROGRESS_SNAPSHOT &&
        pr->next_index < raft_log_first_index(raft_log_of(r)))
        raft_progress_become_snapshot(pr, 0, r->now_ms); /* the chunk sender notes it */
    if (pr->state == RAFT_PROGRESS_SNAPSHOT) {
        raft_send_snapshot_chunk(r, peer);
        return;
    }
    if (pr->state == RAFT_PROGRESS_PROBE) {
        if (!pr->probe_sent) {
            send_append(r, peer, pr->next_index);
            pr->probe_sent = true;
        }
        return;
    }
    for (uint32_t i = 0; i < r->opt.max_inflight; i++) { /* bounded by the window */
        if (pr->next_index > last || raft_progress_inflight_full(pr, r->opt.max_inflight))
            break;
        uint64_t sent_to = send_append(r, peer, pr->next_index);
        raft_progress_inflight_add(pr, sent_to);
        pr->next_index = sent_to + 1;
    }
}

/* A heartbeat to peer: an AppendEntries at match_index, which is known to match, so it can
 * never be refused for a missing prev entry, even while later batches are still in flight. */
static void send_heartbeat(struct raft *r, uint32_t peer)
{
    struct raft_progress *pr = &r->progress[peer - 1];
    const struct raft_log *log = raft_log_of(r);
    struct raft_message *m = raft_send(r, RAFT_MSG_APPEND_ENTRIES, peer);
    m->append_entries.prev_log_index = pr->match_index;
    m->append_entries.prev_log_term = raft_log_term_at(log, pr->match_index);
    m->append_entries.leader_commit = r->commit_index;
    pr->round_sent = r->read_round;
    pr->round_answered = false;
    pr->commit_sent = r->commit_index;
    pr->sent_this_step = true;
}

void raft_leader_flush(struct raft *r)
{
    assert(r->role == RAFT_LEADER);
    /* A read round started for waiting reads goes to every peer on the AppendEntries it gets
     * anyway: a probe is sent again; a pipeline in flight carries it on the AppendEntries sent
     * when acknowledged; an idle pipeline gets a heartbeat. So reads and writes share one message
     * per peer and round trip, as reads through the log did. A pipeline that waits on the peer's
     * disk (round_answered) gets a heartbeat too: the round would otherwise wait for an fdatasync
     * it has nothing to do with. */
    bool round = r->read_round_unsent;
    r->read_round_unsent = false;
    RAFT_FOR_EACH_PEER(r, peer)
    {
        struct raft_progress *pr = &r->progress[peer - 1];
        if (round && pr->state == RAFT_PROGRESS_PROBE)
            pr->probe_sent = false;
        send_appends(r, peer);
        if (pr->state == RAFT_PROGRESS_REPLICATE && !pr->sent_this_step &&
            (pr->n_inflight == 0 || pr->round_answered) && pr->round_sent < r->read_round_busy &&
            pr->match_index + 1 >= raft_log_first_index(raft_log_of(r)))
            send_heartbeat(r, peer);
        /* The commit notification: only when the pipeline to the peer is idle (otherwise the
         * next AppendEntries carries leaderCommit anyway), so a busy leader sends none. */
        if (!pr->sent_this_step && pr->state == RAFT_PROGRESS_REPLICATE && pr->n_inflight == 0 &&
            r->commit_index > pr->commit_sent) {
            struct raft_message *m = raft_send(r, RAFT_MSG_COMMIT_NOTIFY, peer);
            m->commit_notify.commit_index = r->commit_index;
            pr->commit_sent = r->commit_index;
        }
        pr->sent_this_step = false;
    }
}

/* Section 8: "each leader commit a blank no-op entry into the log at the start of its term".
 * Figure 2: nextIndex initialized to leader last log index + 1, matchIndex to 0. */
void raft_leader_start(struct raft *r)
{
    assert(r->role == RAFT_LEADER);
    uint64_t next = raft_log_last_index(raft_log_of(r)) + 1;
    for (uint32_t i = 0; i < r->opt.max_nodes; i++)
        raft_progress_reset(&r->progress[i], next, r->now_ms);
    r->lease_off = false;
    r->lease_min_round = 0;
    log_append(r, r->state.current_term, RAFT_ENTRY_NOOP, NULL, 0);
    RAFT_FOR_EACH_PEER(r, peer)
    {
        if (raft_config_is_learner(&r->config, peer))
            raft_catchup_start(r, peer); /* a learner of an earlier leader's goes on */
    }
    r->heartbeat_deadline_ms = r->now_ms + r->opt.heartbeat_ms;
    r->quorum_deadline_ms = r->now_ms + r->opt.election_timeout_ms_min;
    raft_reads_leader_start(r);
    leader_maybe_commit(r); /* a single-node cluster commits at once */
}

void raft_propose(struct raft *r, const void *data, uint32_t len)
{
    struct raft_proposal *p = &r->out->proposal;
    if (r->role != RAFT_LEADER) {
        p->status = RAFT_PROPOSAL_NOT_LEADER;
        p->leader_hint = r->leader_id;
        return;
    }
    if (r->transfer_to != 0) {
        /* Thesis 3.10: no new entries while leadership is handed over; the client tries the
         * target, which leads soon (or names this leader again if the transfer fails). */
        p->status = RAFT_PROPOSAL_NOT_LEADER;
        p->leader_hint = r->transfer_to;
        return;
    }
    /* Figure 2, Leaders: "If command received from client: append entry to local log". */
    log_append(r, r->state.current_term, RAFT_ENTRY_COMMAND, data, len);
    p->status = RAFT_PROPOSAL_ACCEPTED;
    p->index = raft_log_last_index(raft_log_of(r));
    p->term = r->state.current_term;
    p->leader_hint = r->opt.id;
    leader_maybe_commit(r);
}

/* Every heartbeat starts a read round: it renews the lease, and confirms reads whose round's
 * messages were lost. */
static void leader_heartbeat(struct raft *r)
{
    r->heartbeat_deadline_ms = r->now_ms + r->opt.heartbeat_ms;
    raft_read_round_start(r);
    const struct raft_log *log = raft_log_of(r);
    RAFT_FOR_EACH_PEER(r, peer)
    {
        struct raft_progress *pr = &r->progress[peer - 1];
        if (pr->state == RAFT_PROGRESS_SNAPSHOT) {
            /* No AppendEntries while a snapshot is on its way; a chunk unanswered for a
             * heartbeat may be lost: flush sends it again (and it keeps the peer's timer). */
            if (r->now_ms - pr->last_ack_ms >= r->opt.heartbeat_ms)
                pr->chunk_sent = false;
            continue;
        }
        if (pr->state == RAFT_PROGRESS_PROBE || pr->match_index + 1 < raft_log_first_index(log)) {
            /* The probe may be lost: flush re-sends it (a heartbeat), or a snapshot when the
             * peer needs entries compacted away. */
            if (pr->state != RAFT_PROGRESS_PROBE)
                raft_progress_become_probe(pr, pr->match_index + 1, r->now_ms);
            pr->probe_sent = false;
            continue;
        }
        if (pr->n_inflight > 0 && r->now_ms - pr->last_ack_ms >= 2 * r->opt.heartbeat_ms) {
            /* No progress for two heartbeats with batches outstanding: assume a loss. */
            raft_progress_become_probe(pr, pr->match_index + 1, r->now_ms);
            continue;
        }
        send_heartbeat(r, peer);
    }
}

/* Heartbeats (5.2: "Leaders send periodic heartbeats ... to maintain their authority"), recovery
 * of stalled pipelines (lost AppendEntries), and check-quorum (thesis 6.2). */
void raft_leader_tick(struct raft *r)
{
    if (r->opt.check_quorum && r->now_ms >= r->quorum_deadline_ms) {
        uint32_t active = raft_is_voter(r, r->opt.id) ? 1 : 0;
        RAFT_FOR_EACH_PEER(r, peer)
        {
            if (raft_is_voter(r, peer) && r->progress[peer - 1].recent_active)
                active++;
            r->progress[peer - 1].recent_active = false;
        }
        if (active < raft_quorum(r) && !RAFT_PLANTED(r, RAFT_BUG_LEASE_NO_CHECK_QUORUM)) {
            raft_become_follower(r, r->state.current_term, 0, RAFT_REASON_QUORUM_LOST);
            return;
        }
        r->quorum_deadline_ms = r->now_ms + r->opt.election_timeout_ms_min;
    }
    if (r->now_ms >= r->heartbeat_deadline_ms)
        leader_heartbeat(r);
}

/* Fast backup hint (5.3 end, thesis 3.5): the first index of the conflicting term, or the end of
 * a short log; the leader skips a whole term per round trip. */
static void reject(struct raft *r, const struct raft_message *m, struct raft_message *reply,
                   enum raft_reason why)
{
    const struct raft_log *log = raft_log_of(r);
    uint64_t prev = m->append_entries.prev_log_index;
    struct raft_append_entries_reply *rep = &reply->append_entries_reply;
    rep->success = false;
    rep->rejected_index = prev;
    if (why == RAFT_REASON_PREV_MISSING) {
        rep->conflict_index = raft_log_last_index(log) + 1;
        rep->conflict_term = 0;
    } else if (why == RAFT_REASON_PREV_MISMATCH) {
        rep->conflict_term = raft_log_term_at(log, prev);
        rep->conflict_index = prev >= log->first ? raft_log_term_first_index(log, prev) : prev;
    }
    struct raft_note *n = raft_note(r, RAFT_NOTE_APPEND_REJECTED);
    n->peer = m->from;
    n->reason = why;
    n->a = prev;
    n->b = rep->conflict_index;
}

/* Figure 2, AppendEntries receiver:
 * "1. Reply false if term < currentTerm (5.1)
 *  2. Reply false if log doesn't contain an entry at prevLogIndex whose term matches prevLogTerm
 *  3. If an existing entry conflicts with a new one (same index but different terms), delete the
 *     existing entry and all that follow it (5.3)
 *  4. Append any new entries not already in the log
 *  5. If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new entry)"
 * Step 3 only ever removes a conflicting suffix: a stale or duplicate AppendEntries whose entries
 * all match changes nothing, so redelivery is idempotent. */
/* m comes from the leader of our current term (5.2): a candidate returns to follower, and the
 * follower notes its leader and restarts its election timer. */
void raft_heard_from_leader(struct raft *r, const struct raft_message *m)
{
    assert(m->term == r->state.current_term);
    raft_become_follower(r, m->term, m->from, RAFT_REASON_LEADER_FOUND);
    raft_reset_election_deadline(r);
}

void raft_recv_append_entries(struct raft *r, const struct raft_message *m)
{
    const struct raft_append_entries *ae = &m->append_entries;
    struct raft_log *log = raft_log_of(r);
    if (m->term == r->state.current_term && r->role == RAFT_LEADER)
        return; /* a second leader in our term: impossible (election safety); drop it */
    struct raft_message *reply = raft_send(r, RAFT_MSG_APPEND_ENTRIES_REPLY, m->from);
    reply->append_entries_reply.read_round = ae->read_round;
    if (m->term < r->state.current_term) {
        reject(r, m, reply, RAFT_REASON_STALE_TERM);
        return;
    }
    raft_heard_from_leader(r, m);

    uint64_t prev = ae->prev_log_index;
    if (prev > raft_log_last_index(log)) {
        reject(r, m, reply, RAFT_REASON_PREV_MISSING);
        return;
    }
    /* Entries up to the snapshot are compacted here; they are committed, so they match the
     * leader's (Leader Completeness, 5.4): only the entries after them are compared. */
    uint32_t skip = 0;
    if (prev + 1 < log->first) {
        uint64_t compacted = log->first - 1 - prev;
        skip = compacted < ae->n_entries ? (uint32_t)compacted : ae->n_entries;
    } else if (raft_log_term_at(log, prev) != ae->prev_log_term) {
        reject(r, m, reply, RAFT_REASON_PREV_MISMATCH);
        return;
    }
    for (uint32_t i = skip; i < ae->n_entries; i++) {
        const struct raft_entry *e = &ae->entries[i];
        uint64_t index = prev + 1 + i;
        uint64_t last = raft_log_last_index(log);
        if (index <= last) {
            if (raft_log_term_at(log, index) == e->term)
                continue; /* already have it */
            /* Leader Completeness (5.4): a committed entry never conflicts. */
            assert(index > r->commit_index);
            struct raft_note *n = raft_note(r, RAFT_NOTE_TRUNCATED);
            n->a = index;
            n->b = last;
            raft_log_truncate(log, index);
            raft_log_changed_from(r, index);
            raft_config_truncated(r, index);
        }
        log_append(r, e->term, e->type, e->data, e->len);
    }
    uint64_t match = prev + ae->n_entries;
    if (match > r->leader_match)
        r->leader_match = match;
    /* Step 5; leader_match >= match is also known to match this leader's log in this term. */
    if (ae->leader_commit > r->commit_index)
        raft_commit_to(r,
                       ae->leader_commit < r->leader_match ? ae->leader_commit : r->leader_match);
    reply->append_entries_reply.success = true;
    reply->append_entries_reply.match_index = match;
    struct raft_note *n = raft_note(r, RAFT_NOTE_APPEND_ACCEPTED);
    n->peer = m->from;
    n->a = prev;
    n->b = ae->n_entries;
}

/* The leader's next_index for a peer after a rejection, from the hint (paper 5.3 end, thesis 3.5):
 * if the leader has entries of conflict_term, continue after its last one; otherwise skip the whole
 * conflicting term (conflict_index). Clamped to (match_index, rejected_index]. */
static uint64_t backup_next(const struct raft *r, const struct raft_progress *pr,
                            const struct raft_append_entries_reply *rep)
{
    uint64_t next = rep->conflict_index;
    if (rep->conflict_term != 0) {
        uint64_t at =
            raft_log_last_index_of_term(&r->state.log, rep->conflict_term, rep->rejected_index);
        if (at != 0 && at < rep->rejected_index)
            next = at + 1;
    }
    if (next > rep->rejected_index)
        next = rep->rejected_index;
    if (next <= pr->match_index)
        next = pr->match_index + 1;
    return next;
}

/* Figure 2, Leaders: "If successful: update nextIndex and matchIndex for follower (5.3). If
 * AppendEntries fails because of log inconsistency: decrement nextIndex and retry (5.3)". */
void raft_recv_append_entries_reply(struct raft *r, const struct raft_message *m)
{
    if (r->role != RAFT_LEADER)
        return;
    const struct raft_append_entries_reply *rep = &m->append_entries_reply;
    struct raft_progress *pr = &r->progress[m->from - 1];
    pr->recent_active = true;
    pr->last_heard_ms = r->now_ms;
    raft_read_acked(r, m->from, rep->read_round);
    if (rep->success) {
        if (rep->match_index > raft_log_last_index(raft_log_of(r)))
            return; /* cannot be: we never sent it; ignore */
        raft_progress_maybe_update(pr, rep->match_index, r->now_ms);
        if (pr->state == RAFT_PROGRESS_PROBE)
            raft_progress_become_replicate(pr, r->now_ms);
        pr->round_answered =
            pr->n_inflight > 0 && rep->read_round != 0 && rep->read_round == pr->round_sent;
        leader_maybe_commit(r);
        return;
    }
    if (rep->rejected_index <= pr->match_index || pr->state == RAFT_PROGRESS_SNAPSHOT)
        return; /* stale: we already know a later match, or a snapshot is on its way */
    if (pr->state == RAFT_PROGRESS_PROBE && rep->rejected_index + 1 != pr->next_index)
        return; /* stale: not the reply to the outstanding probe */
    if (rep->rejected_index > raft_log_last_index(raft_log_of(r)))
        return; /* cannot be: we never sent it */
    uint64_t next = backup_next(r, pr, rep);
    struct raft_note *n = raft_note(r, RAFT_NOTE_PEER_BACKUP);
    n->peer = m->from;
    n->a = pr->next_index;
    n->b = next;
    raft_progress_become_probe(pr, next, r->now_ms);
}

/* The original design's commit notification, under the same rule as leaderCommit: a follower
 * advances only to min(commit_index, last index known to match this leader). */
void raft_recv_commit_notify(struct raft *r, const struct raft_message *m)
{
    if (r->role == RAFT_LEADER)
        return;
    raft_heard_from_leader(r, m);
    uint64_t n = m->commit_notify.commit_index;
    raft_commit_to(r, n < r->leader_match ? n : r->leader_match);
}
