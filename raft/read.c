/* read.c - linearizable reads without log entries (Raft thesis 6.4): ReadIndex with heartbeat
 * rounds shared by every read waiting, lease reads (6.4.1) and follower reads.
 *
 * Design (after etcd-io/raft's read_only.go, with numbered rounds instead of a context per
 * read): the leader numbers its heartbeat rounds 1, 2, ... within its term and stamps every
 * AppendEntries with the latest (read_round); a follower's reply echoes the round of the request
 * it answers. A read arriving when the latest round is R needs round R + 1 or later, so its
 * confirmation comes from messages sent after it arrived: a majority that acknowledged such a
 * round was still in this leader's term after the read arrived, so no later leader had committed
 * anything yet. A duplicated or delayed reply confirms only the round it was sent for. Rounds
 * start with each heartbeat and, when reads wait, as soon as the round before them is confirmed,
 * so one round trip serves every read that arrived during the previous one.
 */
#include <string.h>

#include "common/alloc.h"
#include "raft/internal.h"

const char *raft_read_mode_name(enum raft_read_mode mode)
{
    switch (mode) {
    case RAFT_READ_INDEX:
        return "read-index";
    case RAFT_READ_LEASE:
        return "lease";
    case RAFT_READ_FOLLOWER:
        return "follower";
    }
    return "?";
}

static void read_out(struct raft *r, uint64_t id, enum raft_read_status status, uint64_t index)
{
    struct raft_update *u = r->out;
    if (u->n_reads == u->cap_reads) {
        u->cap_reads = u->cap_reads ? 2 * u->cap_reads : 16;
        u->reads = xreallocarray(u->reads, u->cap_reads, sizeof *u->reads);
    }
    /* A leader losing its reads is stepping down: it names no leader. */
    uint32_t hint = r->leader_id == r->opt.id ? 0 : r->leader_id;
    u->reads[u->n_reads++] =
        (struct raft_read){.id = id, .status = status, .index = index, .leader_hint = hint};
}

/* Section 8 / thesis 6.4 step 1: a leader knows the latest committed index only once an entry of
 * its own term has committed (its no-op). */
static bool committed_in_term(const struct raft *r)
{
    if (RAFT_PLANTED(r, RAFT_BUG_READ_BEFORE_TERM_COMMIT))
        return true;
    return raft_log_term_at(&r->state.log, r->commit_index) == r->state.current_term;
}

/* Leader: the lease holds now (thesis 6.4.1). */
static bool lease_holds(const struct raft *r)
{
    if (r->role != RAFT_LEADER)
        return false;
    if (RAFT_PLANTED(r, RAFT_BUG_LEASE_NO_CHECK_QUORUM))
        return true; /* the role taken for the lease */
    /* Not across a transfer (its election skips the voters' lease: lease_off). */
    return r->opt.lease_ms > 0 && r->lease_valid && !r->lease_off &&
           r->now_ms < r->lease_start_ms + r->opt.lease_ms;
}

/* --- the leader ------------------------------------------------------------------------------ */

void raft_reads_leader_start(struct raft *r)
{
    r->read_round = 0;
    r->read_confirmed = 0;
    r->read_round_busy = 0;
    r->lease_valid = false;
    r->head_reads = r->n_pending_reads = 0;
}

static void confirm(struct raft *r);

void raft_read_round_start(struct raft *r)
{
    r->read_round++;
    r->round_start_ms[r->read_round % RAFT_READ_ROUND_RING] = r->now_ms;
    size_t waiting = r->n_pending_reads - r->head_reads;
    if (waiting > 0) {
        struct raft_note *n = raft_note(r, RAFT_NOTE_READ_ROUND);
        n->a = r->read_round;
        n->b = waiting;
    }
    confirm(r); /* alone in the cluster, the leader is its own majority */
}

/* Queues a read at the leader (from: the follower that asked, 0 for a local one). False if the
 * queue is full. */
static bool leader_queue(struct raft *r, uint64_t id, uint32_t from)
{
    if (r->n_pending_reads - r->head_reads >= RAFT_MAX_PENDING_READS)
        return false;
    if (r->n_pending_reads == r->cap_pending_reads && r->head_reads > 0) {
        memmove(r->pending_reads, r->pending_reads + r->head_reads,
                (r->n_pending_reads - r->head_reads) * sizeof *r->pending_reads);
        r->n_pending_reads -= r->head_reads;
        r->head_reads = 0;
    }
    if (r->n_pending_reads == r->cap_pending_reads) {
        r->cap_pending_reads = r->cap_pending_reads ? 2 * r->cap_pending_reads : 64;
        r->pending_reads =
            xreallocarray(r->pending_reads, r->cap_pending_reads, sizeof *r->pending_reads);
    }
    struct raft_pending_read *p = &r->pending_reads[r->n_pending_reads++];
    *p = (struct raft_pending_read){.id = id, .from = from};
    /* Step 1: the read index is the commit index, once the term's first entry has committed;
     * until then the read waits (round 0) and gets its index when that happens. */
    if (committed_in_term(r)) {
        p->index = r->commit_index;
        p->round = r->read_round + 1;
    }
    struct raft_note *n = raft_note(r, RAFT_NOTE_READ_INDEX);
    n->peer = from;
    n->a = id;
    n->b = p->index;
    return true;
}

static void ready(struct raft *r, const struct raft_pending_read *p)
{
    if (p->from == 0) {
        read_out(r, p->id, RAFT_READ_READY, p->index);
        return;
    }
    struct raft_message *m = raft_send(r, RAFT_MSG_READ_INDEX_REPLY, p->from);
    m->read_index_reply.id = p->id;
    m->read_index_reply.index = p->index;
    m->read_index_reply.ok = true;
}

static void refuse_remote(struct raft *r, uint32_t to, uint64_t id)
{
    struct raft_message *m = raft_send(r, RAFT_MSG_READ_INDEX_REPLY, to);
    m->read_index_reply.id = id;
    m->read_index_reply.ok = false;
}

/* The highest round a majority acknowledged (the leader counts for its latest). */
static uint64_t quorum_round(const struct raft *r)
{
    uint64_t acked[RAFT_MAX_NODES];
    uint32_t n = 0;
    if (raft_is_voter(r, r->opt.id))
        acked[n++] = r->read_round;
    RAFT_FOR_EACH_PEER(r, peer)
    {
        if (raft_is_voter(r, peer))
            acked[n++] = r->progress[peer - 1].read_acked;
    }
    return raft_quorum_value(acked, n);
}

static void confirm(struct raft *r)
{
    uint64_t c = quorum_round(r);
    if (c <= r->read_confirmed)
        return;
    r->read_confirmed = c;
    /* The lease runs from the start of the round: every acknowledgement came after it. */
    if (r->read_round - c < RAFT_READ_ROUND_RING && c >= r->lease_min_round && !r->lease_off) {
        r->lease_start_ms = r->round_start_ms[c % RAFT_READ_ROUND_RING];
        r->lease_valid = true;
    }
}

void raft_read_acked(struct raft *r, uint32_t peer, uint64_t round)
{
    struct raft_progress *pr = &r->progress[peer - 1];
    if (round <= pr->read_acked || round > r->read_round)
        return; /* older than what we know, or never sent in this term */
    pr->read_acked = round;
    confirm(r);
}

void raft_reads_flush(struct raft *r)
{
    if (r->head_reads == r->n_pending_reads)
        return;
    if (committed_in_term(r)) {
        /* Reads that waited for the term's first commit get their index now. */
        for (size_t i = r->head_reads; i < r->n_pending_reads; i++) {
            struct raft_pending_read *p = &r->pending_reads[i];
            if (p->round != 0)
                break; /* they come first: the rest arrived after the commit */
            p->index = r->commit_index;
            p->round = r->read_round + 1;
            struct raft_note *n = raft_note(r, RAFT_NOTE_READ_INDEX);
            n->peer = p->from;
            n->a = p->id;
            n->b = p->index;
        }
    }
    /* One round with reads in flight at a time: the next starts when it is confirmed (or with
     * the next heartbeat, which also covers a round whose messages were lost). */
    const struct raft_pending_read *last = &r->pending_reads[r->n_pending_reads - 1];
    if (last->round > r->read_round && r->read_round_busy <= r->read_confirmed &&
        !RAFT_PLANTED(r, RAFT_BUG_READ_WITHOUT_ROUND)) {
        /* The round rides on the AppendEntries each peer gets anyway (raft_leader_flush: a
         * busy pipeline's next one, a heartbeat for an idle pipeline). */
        raft_read_round_start(r);
        r->read_round_unsent = true;
        r->read_round_busy = r->read_round;
    }
    size_t released = 0;
    while (r->head_reads < r->n_pending_reads) {
        const struct raft_pending_read *p = &r->pending_reads[r->head_reads];
        if (p->round == 0 ||
            (p->round > r->read_confirmed && !RAFT_PLANTED(r, RAFT_BUG_READ_WITHOUT_ROUND)))
            break;
        ready(r, p);
        r->head_reads++;
        released++;
    }
    if (released > 0) {
        struct raft_note *n = raft_note(r, RAFT_NOTE_READ_CONFIRMED);
        n->a = r->read_confirmed;
        n->b = released;
    }
    if (r->head_reads == r->n_pending_reads)
        r->head_reads = r->n_pending_reads = 0;
}

void raft_reads_stop_leading(struct raft *r)
{
    for (size_t i = r->head_reads; i < r->n_pending_reads; i++) {
        const struct raft_pending_read *p = &r->pending_reads[i];
        if (p->from == 0)
            read_out(r, p->id, RAFT_READ_LOST, 0);
        else
            refuse_remote(r, p->from, p->id);
    }
    r->head_reads = r->n_pending_reads = 0;
    r->lease_valid = false;
}

void raft_recv_read_index(struct raft *r, const struct raft_message *m)
{
    if (r->role != RAFT_LEADER || m->term != r->state.current_term ||
        !leader_queue(r, m->read_index.id, m->from))
        refuse_remote(r, m->from, m->read_index.id);
}

/* --- a follower's reads ---------------------------------------------------------------------- */

/* A follower keeps one READ_INDEX request in flight to its leader: the reads that arrive
 * meanwhile are asked for together by the next one. forwarded[] holds the reads in arrival
 * order: those of the request in flight (wire_id == forward_inflight) first, then those not yet
 * asked for (wire_id 0). An answer's index serves every read of its request: each arrived here
 * before the request left, so before the leader took the index. */

/* Loses the first n reads. */
static void lose_forwarded(struct raft *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        read_out(r, r->forwarded[i].id, RAFT_READ_LOST, 0);
    memmove(r->forwarded, r->forwarded + n, (r->n_forwarded - n) * sizeof *r->forwarded);
    r->n_forwarded -= n;
}

/* The reads of the request in flight: a prefix of forwarded[]. */
static size_t inflight_count(const struct raft *r)
{
    size_t n = 0;
    while (n < r->n_forwarded && r->forward_inflight != 0 &&
           r->forwarded[n].wire_id == r->forward_inflight)
        n++;
    return n;
}

/* Asks the leader for a read index for every read not yet asked for, if any. */
static void ask_leader(struct raft *r)
{
    if (r->forward_inflight != 0 || r->n_forwarded == 0)
        return;
    uint64_t wire_id = r->forward_next++;
    for (size_t i = 0; i < r->n_forwarded; i++) {
        r->forwarded[i].wire_id = wire_id;
        r->forwarded[i].sent_ms = r->now_ms;
    }
    r->forward_inflight = wire_id;
    struct raft_message *m = raft_send(r, RAFT_MSG_READ_INDEX, r->forwarded_to);
    m->read_index.id = wire_id;
}

static void forward(struct raft *r, uint64_t id)
{
    if (r->leader_id == 0) {
        read_out(r, id, RAFT_READ_NOT_LEADER, 0);
        return;
    }
    if (r->n_forwarded > 0 &&
        (r->forwarded_to != r->leader_id || r->forwarded_term != r->state.current_term)) {
        lose_forwarded(r, r->n_forwarded);
        r->forward_inflight = 0;
    }
    if (r->n_forwarded >= RAFT_MAX_PENDING_READS) {
        read_out(r, id, RAFT_READ_LOST, 0);
        return;
    }
    if (r->n_forwarded == r->cap_forwarded) {
        r->cap_forwarded = r->cap_forwarded ? 2 * r->cap_forwarded : 64;
        r->forwarded = xreallocarray(r->forwarded, r->cap_forwarded, sizeof *r->forwarded);
    }
    r->forwarded[r->n_forwarded++] = (struct raft_forwarded_read){.id = id};
    r->forwarded_to = r->leader_id;
    r->forwarded_term = r->state.current_term;
    struct raft_note *n = raft_note(r, RAFT_NOTE_READ_FORWARD);
    n->peer = r->leader_id;
    n->a = id;
    n->b = r->forward_inflight != 0; /* waits for the request in flight to be answered */
    ask_leader(r);
}

void raft_recv_read_index_reply(struct raft *r, const struct raft_message *m)
{
    const struct raft_read_index_reply *rep = &m->read_index_reply;
    if (m->from != r->forwarded_to || m->term != r->forwarded_term || rep->id == 0 ||
        rep->id != r->forward_inflight)
        return; /* not the answer to the request in flight: stale or duplicated */
    size_t n = inflight_count(r);
    for (size_t i = 0; i < n; i++)
        read_out(r, r->forwarded[i].id, rep->ok ? RAFT_READ_READY : RAFT_READ_NOT_LEADER,
                 rep->index);
    memmove(r->forwarded, r->forwarded + n, (r->n_forwarded - n) * sizeof *r->forwarded);
    r->n_forwarded -= n;
    r->forward_inflight = 0;
    if (rep->ok)
        ask_leader(r); /* the reads that arrived meanwhile */
    else
        lose_forwarded(r, r->n_forwarded); /* the leader is not: they would be refused too */
}

void raft_reads_follower_check(struct raft *r)
{
    if (r->n_forwarded == 0)
        return;
    /* The leader they went to is gone (a new term, another leader, or we campaign): lost. */
    if (r->role != RAFT_FOLLOWER || r->leader_id != r->forwarded_to ||
        r->state.current_term != r->forwarded_term) {
        lose_forwarded(r, r->n_forwarded);
        r->forward_inflight = 0;
        return;
    }
    /* No answer for a whole election timeout: the request or its answer was lost. */
    size_t n = inflight_count(r);
    if (n > 0 && r->now_ms - r->forwarded[0].sent_ms >= r->opt.election_timeout_ms_max) {
        lose_forwarded(r, n);
        r->forward_inflight = 0;
        ask_leader(r);
    }
}

/* --- the event ------------------------------------------------------------------------------- */

void raft_read(struct raft *r, uint64_t id, enum raft_read_mode mode)
{
    if (r->role != RAFT_LEADER) {
        if (mode == RAFT_READ_FOLLOWER)
            forward(r, id);
        else
            read_out(r, id, RAFT_READ_NOT_LEADER, 0);
        return;
    }
    if (mode == RAFT_READ_LEASE && committed_in_term(r) && lease_holds(r)) {
        struct raft_note *n = raft_note(r, RAFT_NOTE_READ_LEASE);
        n->a = id;
        n->b = r->commit_index;
        read_out(r, id, RAFT_READ_READY, r->commit_index);
        return;
    }
    if (!leader_queue(r, id, 0))
        read_out(r, id, RAFT_READ_LOST, 0);
}
