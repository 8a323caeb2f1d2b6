/* core.c - raft_step() dispatch, role transitions, persistence and accessors.
 * Design: one entry point; every role change goes through raft_convert(), which asserts the legal
 * transition table; invariants are checked at the end of every step (asserts stay on).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "raft/internal.h"

void raft_disk_init(struct raft_disk *disk)
{
    disk->current_term = 0;
    disk->voted_for = 0;
    raft_log_init(&disk->log);
    memset(&disk->snapshot, 0, sizeof disk->snapshot);
}

void raft_disk_close(struct raft_disk *disk)
{
    raft_log_close(&disk->log);
    free(disk->snapshot.data);
    memset(&disk->snapshot, 0, sizeof disk->snapshot);
}

void raft_snapshot_copy(struct raft_snapshot *dst, const struct raft_snapshot *src)
{
    free(dst->data);
    *dst = *src;
    dst->data = NULL;
    if (src->len > 0) {
        dst->data = xmalloc(src->len);
        memcpy(dst->data, src->data, src->len);
    }
}

void raft_options_default(struct raft_options *o, uint32_t id, uint32_t n_nodes)
{
    memset(o, 0, sizeof *o);
    o->id = id;
    o->n_nodes = n_nodes;
    o->max_nodes = n_nodes;
    o->election_timeout_ms_min = 150;
    o->election_timeout_ms_max = 300;
    o->heartbeat_ms = 50;
    o->seed = id;
    o->pre_vote = false;
    o->check_quorum = false;
    o->max_entries_per_append = 64;
    o->max_inflight = 8;
    o->snapshot_threshold = 0;
    o->snapshot_trailing = 0;
    o->snapshot_chunk_bytes = 64 * 1024;
}

static int invalid(const char **why, const char *what)
{
    if (why != NULL)
        *why = what;
    return RAFT_EINVAL;
}

int raft_options_validate(const struct raft_options *o, const char **why)
{
    if (o->n_nodes < 1 || o->n_nodes > RAFT_MAX_NODES)
        return invalid(why, "n_nodes must be 1..255");
    if (o->max_nodes != 0 && (o->max_nodes < o->n_nodes || o->max_nodes > RAFT_MAX_NODES))
        return invalid(why, "max_nodes must be n_nodes..255 (or 0: n_nodes)");
    uint32_t max = o->max_nodes != 0 ? o->max_nodes : o->n_nodes;
    if (o->id < 1 || o->id > max)
        return invalid(why, "id must be 1..max_nodes");
    if (o->election_timeout_ms_min < 1 || o->election_timeout_ms_max < o->election_timeout_ms_min)
        return invalid(why, "need 1 <= election_timeout_ms_min <= election_timeout_ms_max");
    if (o->heartbeat_ms < 1 || o->heartbeat_ms >= o->election_timeout_ms_min)
        return invalid(why, "need 1 <= heartbeat_ms < election_timeout_ms_min");
    if (o->max_entries_per_append < 1 || o->max_entries_per_append > RAFT_MAX_BATCH_ENTRIES)
        return invalid(why, "max_entries_per_append must be 1..4096");
    if (o->max_inflight < 1 || o->max_inflight > RAFT_MAX_INFLIGHT)
        return invalid(why, "max_inflight must be 1..64");
    if (o->snapshot_chunk_bytes < 1 || o->snapshot_chunk_bytes > RAFT_MAX_SNAPSHOT_CHUNK)
        return invalid(why, "snapshot_chunk_bytes must be 1..4194304");
    if (o->lease_ms >= o->election_timeout_ms_min)
        return invalid(why, "lease_ms must be below election_timeout_ms_min");
    if (o->lease_ms > 0 && !o->check_quorum)
        return invalid(why, "lease reads need check_quorum");
    return RAFT_OK;
}

int raft_init(struct raft *r, const struct raft_options *opt, const struct raft_disk *loaded,
              uint64_t now_ms)
{
    if (raft_options_validate(opt, NULL) != RAFT_OK)
        return RAFT_EINVAL;
    const struct raft_log *log = &loaded->log;
    const struct raft_snapshot *snap = &loaded->snapshot;
    uint32_t max_nodes = opt->max_nodes != 0 ? opt->max_nodes : opt->n_nodes;
    if (loaded->voted_for > max_nodes || raft_log_last_term(log) > loaded->current_term)
        return RAFT_EINVAL;
    /* The log holds every entry after the snapshot, and agrees with it where they meet. */
    uint64_t first = raft_log_first_index(log);
    if (first - 1 > snap->index || raft_log_last_index(log) < snap->index)
        return RAFT_EINVAL;
    if ((snap->index == 0) != (snap->term == 0) || snap->term > loaded->current_term ||
        raft_log_term_at(log, snap->index) != snap->term)
        return RAFT_EINVAL;
    for (uint64_t i = first; i <= raft_log_last_index(log); i++) {
        const struct raft_entry *e = raft_log_get(log, i);
        if (e->type == RAFT_ENTRY_CONFIG && raft_config_decode(e->data, e->len, NULL, NULL) != 0)
            return RAFT_EINVAL;
    }
    memset(r, 0, sizeof *r);
    r->opt = *opt;
    r->opt.max_nodes = max_nodes;
    r->state.current_term = loaded->current_term;
    r->state.voted_for = loaded->voted_for;
    raft_log_init(&r->state.log);
    raft_log_reset(&r->state.log, first - 1, log->prev_term);
    for (uint64_t i = first; i <= raft_log_last_index(log); i++) {
        const struct raft_entry *e = raft_log_get(log, i);
        raft_log_append(&r->state.log, e->term, e->type, e->data, e->len);
    }
    raft_snapshot_copy(&r->state.snapshot, snap);
    /* No snapshot, or one written before configurations were kept (storage format 1, when
     * clusters never changed): the initial configuration. */
    if (snap->index == 0 || raft_config_voters(&snap->config) == 0)
        raft_config_initial(&r->state.snapshot.config, opt->n_nodes);
    raft_config_refresh(r);
    /* The snapshot is the state machine through its index: committed and applied (the caller
     * restores its state machine from it). */
    r->commit_index = r->last_applied = snap->index;
    r->durable_index = raft_log_last_index(&r->state.log);
    if (RAFT_PLANTED(r, RAFT_BUG_FORGET_VOTE))
        r->state.voted_for = 0;
    prng_seed(&r->prng, opt->seed);
    r->role = RAFT_FOLLOWER; /* section 5.2: "When servers start up, they begin as followers" */
    r->now_ms = now_ms;
    r->progress = xcalloc(max_nodes, sizeof *r->progress);
    raft_reset_election_deadline(r);
    r->forward_next = prng_derive(opt->seed, UINT64_C(0x52454144)); /* "READ" */
    if (opt->lease_ms > 0 && loaded->current_term > 0)
        r->restart_quiet_until_ms = now_ms + opt->election_timeout_ms_min;
    return RAFT_OK;
}

void raft_close(struct raft *r)
{
    for (size_t i = 0; i < r->n_held; i++)
        raft_message_free(&r->held[i].m);
    free(r->held);
    free(r->inflight);
    free(r->take.data);
    free(r->incoming.data);
    free(r->pending_reads);
    free(r->forwarded);
    raft_disk_close(&r->state);
    free(r->progress);
    memset(r, 0, sizeof *r);
}

void raft_close_keep(struct raft *r, struct raft_disk *disk)
{
    assert(r->persisted_seq == r->persist_seq); /* nothing written is still on its way */
    raft_disk_close(disk);
    *disk = r->state; /* moved: the entries' data now belong to disk */
    raft_disk_init(&r->state);
    raft_close(r);
}

void raft_disk_apply(struct raft_disk *disk, const struct raft_persist *p)
{
    if (p->seq == 0)
        return;
    if (p->save_hard_state) {
        disk->current_term = p->term;
        disk->voted_for = p->vote;
    }
    struct raft_log *log = &disk->log;
    if (p->snapshot != NULL)
        raft_snapshot_copy(&disk->snapshot, p->snapshot);
    if (p->truncate_from != 0 && p->truncate_from <= raft_log_last_index(log)) {
        if (p->truncate_from <= log->first)
            raft_log_reset(log, disk->snapshot.index, disk->snapshot.term);
        else
            raft_log_truncate(log, p->truncate_from);
    }
    /* A log that ends before the snapshot starts after it. */
    if (raft_log_last_index(log) < disk->snapshot.index)
        raft_log_reset(log, disk->snapshot.index, disk->snapshot.term);
    for (size_t i = 0; i < p->n_append; i++) {
        const struct raft_entry *e = &p->append[i];
        /* The request writes index append_first + i; anything else is a host bug. */
        assert(raft_log_last_index(log) == p->append_first + i - 1);
        raft_log_append(log, e->term, e->type, e->data, e->len);
    }
    if (p->compact_before > log->first) {
        uint64_t upto = p->compact_before;
        if (upto > raft_log_last_index(log) + 1)
            upto = raft_log_last_index(log) + 1;
        raft_log_compact(log, upto);
    }
}

uint64_t raft_quorum_value(uint64_t *values, uint32_t n)
{
    if (n == 0)
        return 0;
    for (uint32_t i = 1; i < n; i++) { /* insertion sort, descending; n <= 255 */
        uint64_t v = values[i];
        uint32_t j = i;
        for (; j > 0 && values[j - 1] < v; j--)
            values[j] = values[j - 1];
        values[j] = v;
    }
    return values[n / 2];
}

void raft_reset_election_deadline(struct raft *r)
{
    r->election_deadline_ms = r->now_ms + prng_range(&r->prng, r->opt.election_timeout_ms_min,
                                                     r->opt.election_timeout_ms_max);
}

/* The legal role transitions. Pre-candidate -> pre-candidate and candidate -> candidate restart
 * an election round after a timeout; nothing becomes leader except a candidate. */
static bool transition_legal(enum raft_role from, enum raft_role to)
{
    static const bool table[4][4] = {
        /*                  F      PC     C      L */
        [RAFT_FOLLOWER] = {false, true, true, false},
        [RAFT_PRE_CANDIDATE] = {true, true, true, false},
        [RAFT_CANDIDATE] = {true, true, true, true},
        [RAFT_LEADER] = {true, false, false, false},
    };
    return table[from][to];
}

void raft_convert(struct raft *r, enum raft_role to)
{
    enum raft_role from = r->role;
    assert(transition_legal(from, to));
    if (from != to) { /* a restarted election round is noted as ELECTION_START only */
        struct raft_note *n = raft_note(r, RAFT_NOTE_ROLE_CHANGE);
        n->from_role = from;
        n->to_role = to;
    }
    if (from == RAFT_LEADER && to != RAFT_LEADER) {
        raft_reads_stop_leading(r);
        r->transfer_to = 0;
    }
    if (to == RAFT_FOLLOWER || to == RAFT_LEADER)
        r->transfer_campaign = false;
    r->role = to;
    r->n_votes = 0;
    memset(r->votes, 0, sizeof r->votes);
    if (to == RAFT_LEADER) {
        r->leader_id = r->opt.id;
    } else {
        r->leader_id = 0;
        r->leader_match = 0;
        raft_reset_election_deadline(r);
    }
}

void raft_persist_term_vote(struct raft *r, uint64_t term, uint32_t vote)
{
    assert(term >= r->state.current_term);
    assert(vote <= r->opt.max_nodes);
    /* Figure 2: at most one vote per term. */
    RAFT_ASSERT_UNLESS_PLANTED(r, RAFT_BUG_DOUBLE_VOTE,
                               term > r->state.current_term || r->state.voted_for == 0 ||
                                   r->state.voted_for == vote);
    r->state.current_term = term;
    r->state.voted_for = vote;
    r->step_hard_state = true;
}

void raft_log_changed_from(struct raft *r, uint64_t index)
{
    if (r->step_dirty_from == 0 || index < r->step_dirty_from)
        r->step_dirty_from = index;
}

/* End of a step: this step's changes become one persist request, numbered persist_seq. */
static void finish_persist(struct raft *r)
{
    struct raft_persist *p = &r->out->persist;
    if (!r->step_hard_state && r->step_dirty_from == 0 && !r->step_snapshot &&
        r->step_compact_before == 0)
        return;
    const struct raft_log *log = &r->state.log;
    uint64_t last = raft_log_last_index(log);
    p->seq = ++r->persist_seq;
    if (r->step_hard_state) {
        r->hard_state_seq = p->seq;
        p->save_hard_state = true;
        p->term = r->state.current_term;
        p->vote = r->state.voted_for;
    }
    if (r->step_snapshot)
        p->snapshot = &r->state.snapshot;
    p->compact_before = r->step_compact_before;
    uint64_t from = r->step_dirty_from;
    if (from != 0) {
        p->truncate_from = from;
        /* (from is below the log's first index when an installed snapshot replaced the log) */
        uint64_t write_from = from > log->first ? from : log->first;
        if (write_from <= last) {
            p->append_first = write_from;
            p->append = raft_log_get(log, write_from);
            p->n_append = (size_t)(last - write_from + 1);
        }
        /* What earlier requests wrote from `from` on is no longer in the log. */
        if (r->durable_index >= from)
            r->durable_index = from - 1;
        for (size_t i = 0; i < r->n_inflight; i++)
            if (r->inflight[i].last_index >= from)
                r->inflight[i].last_index = from - 1;
    }
    if (r->n_inflight == r->cap_inflight) {
        r->cap_inflight = r->cap_inflight ? 2 * r->cap_inflight : 8;
        r->inflight = xreallocarray(r->inflight, r->cap_inflight, sizeof *r->inflight);
    }
    r->inflight[r->n_inflight++] =
        (struct raft_inflight_persist){.seq = p->seq, .last_index = last};
    r->step_hard_state = false;
    r->step_dirty_from = 0;
    r->step_snapshot = false;
    r->step_compact_before = 0;
}

/* Drops the entries before index from the core's log (they are in the snapshot), for this
 * step's request to drop from the storage too. */
void raft_compact_log(struct raft *r, uint64_t index)
{
    struct raft_log *log = raft_log_of(r);
    if (index <= log->first)
        return;
    assert(index <= r->state.snapshot.index + 1);
    raft_log_compact(log, index);
    r->step_compact_before = index;
}

/* The snapshot handed in by raft_snapshot_take() becomes the node's (section 7: "each server
 * takes snapshots independently, covering just the committed entries in its log"). */
static void take_snapshot(struct raft *r)
{
    struct raft_snapshot t = r->take;
    memset(&r->take, 0, sizeof r->take);
    if (t.index <= r->state.snapshot.index) { /* overtaken by one installed from the leader */
        free(t.data);
        return;
    }
    assert(t.index <= r->last_applied);
    t.term = raft_log_term_at(raft_log_of(r), t.index);
    raft_config_snapshot_at(r, t.index, &t.config);
    free(r->state.snapshot.data);
    r->state.snapshot = t;
    r->step_snapshot = true;
    uint64_t trailing = r->opt.snapshot_trailing;
    raft_compact_log(r, t.index >= trailing ? t.index - trailing + 1 : 1);
    struct raft_note *n = raft_note(r, RAFT_NOTE_SNAPSHOT_TAKEN);
    n->a = t.index;
    n->b = raft_log_first_index(raft_log_of(r));
}

void raft_snapshot_take(struct raft *r, uint64_t index, uint8_t *data, size_t len)
{
    assert(index == r->last_applied && index > r->state.snapshot.index);
    free(r->take.data);
    r->take = (struct raft_snapshot){.index = index, .data = data, .len = len};
}

/* True if m may leave before the writes requested so far are durable: a leader's AppendEntries
 * and CommitNotify (thesis 10.2.1: the leader writes its log in parallel with replication) and a
 * pre-vote request (it changes nothing). Everything else promises durable state: a vote, a
 * candidate's own vote, acknowledged entries, or at least the term it carries. */
static bool may_leave_before_durable(const struct raft *r, const struct raft_message *m)
{
    switch (m->type) {
    case RAFT_MSG_APPEND_ENTRIES:
    case RAFT_MSG_COMMIT_NOTIFY:
    case RAFT_MSG_INSTALL_SNAPSHOT:
        return true;
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
        return false;
    case RAFT_MSG_READ_INDEX:
    case RAFT_MSG_READ_INDEX_REPLY: /* a read index is committed: nothing of ours to wait for */
        return true;
    case RAFT_MSG_TIMEOUT_NOW: /* a leader's, like its AppendEntries */
        return true;
    case RAFT_MSG_REQUEST_VOTE:
        return m->request_vote.pre_vote;
    case RAFT_MSG_APPEND_ENTRIES_REPLY:
        return RAFT_PLANTED(r, RAFT_BUG_ACK_BEFORE_DURABLE);
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        return false;
    }
    return false;
}

/* End of a step: the messages from out->msgs[first] on that must wait for the writes requested
 * so far are moved, in order, to the held queue. */
static void hold_messages(struct raft *r, size_t first)
{
    struct raft_update *u = r->out;
    if (r->persisted_seq == r->persist_seq)
        return; /* everything asked is durable: nothing to wait for */
    size_t kept = first;
    for (size_t i = first; i < u->n_msgs; i++) {
        if (may_leave_before_durable(r, &u->msgs[i])) {
            u->msgs[kept++] = u->msgs[i];
            continue;
        }
        struct raft_message m = u->msgs[i]; /* moved to the held queue below */
        const struct raft_append_entries_reply *rep = &m.append_entries_reply;
        if (m.type == RAFT_MSG_APPEND_ENTRIES_REPLY && rep->success && rep->read_round != 0 &&
            r->persisted_seq >= r->hard_state_seq &&
            (m.term != r->early_ack_term || rep->read_round > r->early_ack_round)) {
            r->early_ack_term = m.term;
            r->early_ack_round = rep->read_round;
            /* A read round is not a write: it is confirmed by a reply that leaves now, in a
             * term already durable, and acknowledges only entries durable here; the full reply
             * follows once the writes are. (Otherwise a read waits for the followers' fsync of
             * the writes its round rode with.) */
            struct raft_message early = m; /* a reply owns nothing */
            if (early.append_entries_reply.match_index > r->durable_index)
                early.append_entries_reply.match_index = r->durable_index;
            u->msgs[kept++] = early;
        }
        if (r->n_held == r->cap_held) {
            r->cap_held = r->cap_held ? 2 * r->cap_held : 16;
            r->held = xreallocarray(r->held, r->cap_held, sizeof *r->held);
        }
        r->held[r->n_held++] = (struct raft_held_message){.after_seq = r->persist_seq, .m = m};
    }
    u->n_msgs = kept;
}

/* RAFT_EVENT_PERSISTED: requests up to seq are durable. Their entries count as durable, the
 * messages that waited for them leave, and a leader may count itself toward a commit. */
static int persisted(struct raft *r, uint64_t seq)
{
    if (seq <= r->persisted_seq || seq > r->persist_seq)
        return RAFT_EINVAL;
    r->persisted_seq = seq;
    size_t done = 0;
    while (done < r->n_inflight && r->inflight[done].seq <= seq) {
        if (r->inflight[done].last_index > r->durable_index)
            r->durable_index = r->inflight[done].last_index;
        done++;
    }
    if (done > 0) /* (memmove with a NULL array is undefined even for 0 bytes) */
        memmove(r->inflight, r->inflight + done, (r->n_inflight - done) * sizeof *r->inflight);
    r->n_inflight -= done;
    size_t released = 0;
    while (released < r->n_held && r->held[released].after_seq <= seq) {
        struct raft_message *m = raft_send(r, r->held[released].m.type, r->held[released].m.to);
        *m = r->held[released].m; /* moved: the held copy owns nothing any more */
        released++;
    }
    if (released > 0) /* r->held may be NULL: nothing was ever held */
        memmove(r->held, r->held + released, (r->n_held - released) * sizeof *r->held);
    r->n_held -= released;
    if (r->role == RAFT_LEADER)
        raft_leader_durable(r);
    return RAFT_OK;
}

void raft_become_follower(struct raft *r, uint64_t term, uint32_t leader, enum raft_reason why)
{
    assert(term >= r->state.current_term);
    if (term > r->state.current_term) {
        struct raft_note *n = raft_note(r, RAFT_NOTE_TERM_CHANGED);
        n->a = r->state.current_term;
        n->b = term;
        n->peer = leader;
        raft_persist_term_vote(r, term, 0);
        r->leader_match = 0;
        r->leader_id = 0;
    }
    if (r->role != RAFT_FOLLOWER) {
        struct raft_note *n = raft_note(r, RAFT_NOTE_STEP_DOWN);
        n->reason = why;
        n->from_role = r->role;
        raft_convert(r, RAFT_FOLLOWER);
    }
    if (leader != 0) {
        r->leader_id = leader;
        r->leader_contact_ms = r->now_ms;
    }
}

/* Figure 2, All Servers: "If RPC request or response contains term T > currentTerm: set
 * currentTerm = T, convert to follower (5.1)". Exceptions: a pre-vote request, or a granted
 * pre-vote reply, carries a prospective term and changes nothing (thesis 9.6); and with
 * check-quorum, a server that heard from a leader within the minimum election timeout keeps its
 * term on a RequestVote (thesis 4.2.3, 6.2), which raft_recv_request_vote() then refuses. */
static void observe_term(struct raft *r, const struct raft_message *m)
{
    if (m->term <= r->state.current_term)
        return;
    if (m->type == RAFT_MSG_REQUEST_VOTE &&
        (m->request_vote.pre_vote || (raft_in_leader_lease(r) && !m->request_vote.transfer)))
        return;
    if (m->type == RAFT_MSG_REQUEST_VOTE_REPLY && m->request_vote_reply.pre_vote &&
        m->request_vote_reply.vote_granted)
        return;
    bool from_leader = m->type == RAFT_MSG_APPEND_ENTRIES || m->type == RAFT_MSG_COMMIT_NOTIFY ||
                       m->type == RAFT_MSG_INSTALL_SNAPSHOT || m->type == RAFT_MSG_TIMEOUT_NOW;
    raft_become_follower(r, m->term, from_leader ? m->from : 0, RAFT_REASON_HIGHER_TERM);
}

static void receive(struct raft *r, const struct raft_message *m)
{
    observe_term(r, m);
    switch (m->type) {
    case RAFT_MSG_REQUEST_VOTE:
        raft_recv_request_vote(r, m);
        break;
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        raft_recv_request_vote_reply(r, m);
        break;
    case RAFT_MSG_APPEND_ENTRIES:
        raft_recv_append_entries(r, m);
        break;
    case RAFT_MSG_APPEND_ENTRIES_REPLY:
        if (m->term == r->state.current_term) /* a reply from an older term is stale */
            raft_recv_append_entries_reply(r, m);
        break;
    case RAFT_MSG_COMMIT_NOTIFY:
        if (m->term == r->state.current_term)
            raft_recv_commit_notify(r, m);
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT:
        raft_recv_install_snapshot(r, m);
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
        if (m->term == r->state.current_term)
            raft_recv_install_snapshot_reply(r, m);
        break;
    case RAFT_MSG_READ_INDEX:
        raft_recv_read_index(r, m);
        break;
    case RAFT_MSG_READ_INDEX_REPLY:
        raft_recv_read_index_reply(r, m);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        raft_recv_timeout_now(r, m);
        break;
    }
}

static void tick(struct raft *r)
{
    if (r->role == RAFT_LEADER) {
        raft_leader_tick(r);
    } else if (r->now_ms >= r->election_deadline_ms) {
        if (raft_may_campaign(r))
            raft_election_start(r, false); /* section 5.2: election timeout elapsed */
        else
            raft_reset_election_deadline(r); /* a learner, not a member, or joining */
    }
}

/* Figure 2, All Servers: "If commitIndex > lastApplied: increment lastApplied, apply
 * log[lastApplied] to state machine" - handed to the caller as one in-order range. */
static void hand_out_apply(struct raft *r)
{
    struct raft_update *u = r->out;
    uint64_t upto = r->commit_index;
    if (RAFT_PLANTED(r, RAFT_BUG_APPLY_BEFORE_COMMIT))
        upto = raft_log_last_index(raft_log_of(r));
    if (upto <= r->last_applied)
        return;
    u->apply_first = r->last_applied + 1;
    u->apply = raft_log_get(raft_log_of(r), u->apply_first);
    u->n_apply = (size_t)(upto - r->last_applied);
    r->last_applied = upto;
}

/* Section 7: a snapshot when the log has grown snapshot_threshold entries past the last one;
 * the caller makes it (raft_snapshot_take) from its state machine after applying. */
static bool snapshot_due(const struct raft *r)
{
    uint64_t threshold = r->opt.snapshot_threshold;
    /* A store that applied uncommitted entries (the test build's planted bug) would make a
     * snapshot of them, and compacting them away breaks the log's own asserts before a check
     * can catch the bug: that bug runs without snapshots. */
    if (RAFT_PLANTED(r, RAFT_BUG_APPLY_BEFORE_COMMIT))
        return false;
    return threshold != 0 && r->take.index == 0 &&
           r->last_applied - r->state.snapshot.index >= threshold;
}

static uint64_t next_wake(const struct raft *r)
{
    if (r->role != RAFT_LEADER)
        return r->election_deadline_ms;
    uint64_t t = r->heartbeat_deadline_ms;
    if (r->opt.check_quorum && r->quorum_deadline_ms < t)
        t = r->quorum_deadline_ms;
    if (raft_transfer_wake(r) < t)
        t = raft_transfer_wake(r);
    return t;
}

static void check_invariants(const struct raft *r, uint64_t commit_before)
{
    uint64_t last = raft_log_last_index(&r->state.log);
    assert(r->durable_index <= last);
    assert(r->persisted_seq <= r->persist_seq);
    assert(r->n_inflight == r->persist_seq - r->persisted_seq);
    RAFT_ASSERT_UNLESS_PLANTED(r, RAFT_BUG_APPLY_BEFORE_COMMIT, r->last_applied <= r->commit_index);
    assert(r->commit_index <= last);
    assert(r->commit_index >= commit_before); /* commitIndex is monotonic */
    assert(raft_log_last_term(&r->state.log) <= r->state.current_term);
    assert(r->state.voted_for <= r->opt.max_nodes);
    /* (Every configuration entry but the last in a log is committed, but not necessarily known
     * committed here yet: a follower's commit index lags.) */
    assert(r->config_prev_index <= r->config_index && r->config_index <= last);
    assert(r->role != RAFT_LEADER || r->leader_id == r->opt.id);
    RAFT_ASSERT_UNLESS_PLANTED(r, RAFT_BUG_DOUBLE_VOTE,
                               r->role != RAFT_LEADER || r->state.voted_for == r->opt.id);
    assert(r->leader_match <= last);
    /* The log holds every entry after the snapshot, which is committed and applied. */
    const struct raft_snapshot *snap = &r->state.snapshot;
    assert(raft_log_first_index(&r->state.log) - 1 <= snap->index && snap->index <= last);
    assert(raft_log_term_at(&r->state.log, snap->index) == snap->term);
    assert(snap->index <= r->commit_index && snap->index <= r->last_applied);
    (void)last;
    (void)snap;
}

int raft_step(struct raft *r, const struct raft_event *ev, struct raft_update *out)
{
    raft_update_clear(out);
    r->out = out;
    if (ev->now_ms > r->now_ms)
        r->now_ms = ev->now_ms;
    uint64_t commit_before = r->commit_index;
    int rc = RAFT_OK;
    /* Not on a PERSISTED report: a report never asks for another write (hosts rely on it). */
    if (r->take.index != 0 && ev->type != RAFT_EVENT_PERSISTED)
        take_snapshot(r);
    size_t first_new_msg = 0; /* messages released by PERSISTED wait for nothing more */
    switch (ev->type) {
    case RAFT_EVENT_PERSISTED:
        rc = persisted(r, ev->persisted_seq);
        first_new_msg = out->n_msgs;
        break;
    case RAFT_EVENT_TICK:
        tick(r);
        break;
    case RAFT_EVENT_RECEIVE:
        rc = raft_message_validate(ev->receive, r->opt.id, r->opt.max_nodes, NULL);
        if (rc == RAFT_OK)
            receive(r, ev->receive);
        break;
    case RAFT_EVENT_PROPOSE:
        if (ev->propose.len > 0 && ev->propose.data == NULL)
            rc = RAFT_EINVAL;
        else if (ev->propose.len > RAFT_MAX_ENTRY_BYTES)
            out->proposal.status = RAFT_PROPOSAL_TOO_LARGE;
        else
            raft_propose(r, ev->propose.data, ev->propose.len);
        break;
    case RAFT_EVENT_CAMPAIGN:
        if (r->role != RAFT_LEADER && raft_may_campaign(r))
            raft_election_start(r, false);
        break;
    case RAFT_EVENT_CHANGE:
        if (ev->change.op != RAFT_CHANGE_ADD && ev->change.op != RAFT_CHANGE_REMOVE)
            rc = RAFT_EINVAL;
        else
            raft_change(r, ev->change.op, ev->change.id);
        break;
    case RAFT_EVENT_TRANSFER:
        raft_transfer(r, ev->transfer_to);
        break;
    case RAFT_EVENT_READ:
        if ((unsigned)ev->read.mode > RAFT_READ_FOLLOWER)
            rc = RAFT_EINVAL;
        else
            raft_read(r, ev->read.id, ev->read.mode);
        break;
    default:
        rc = RAFT_EINVAL;
        break;
    }
    /* (Not on a PERSISTED report, which asks for no write, a learner's promotion waits.) */
    if (r->role == RAFT_LEADER)
        raft_membership_leader_check(r, ev->type != RAFT_EVENT_PERSISTED);
    finish_persist(r);
    /* A synchronous storage makes the write durable before anything else of the update is
     * carried out: it counts as durable at the end of the step, as a PERSISTED report would. */
    if (r->opt.persist_sync && r->persisted_seq < r->persist_seq)
        persisted(r, r->persist_seq);
    raft_config_check_committed(r);
    r->flush_held = r->role == RAFT_LEADER && ev->more;
    if (r->role == RAFT_LEADER) {
        raft_reads_flush(r);
        if (!ev->more)
            raft_leader_flush(r);
    } else {
        raft_reads_follower_check(r);
    }
    hold_messages(r, first_new_msg);
    hand_out_apply(r);
    out->snapshot_wanted = snapshot_due(r);
    out->next_wake_ms = next_wake(r);
    check_invariants(r, commit_before);
    r->out = NULL;
    return rc;
}

uint32_t raft_id(const struct raft *r)
{
    return r->opt.id;
}

enum raft_role raft_role(const struct raft *r)
{
    return r->role;
}

uint64_t raft_term(const struct raft *r)
{
    return r->state.current_term;
}

uint32_t raft_voted_for(const struct raft *r)
{
    return r->state.voted_for;
}

uint32_t raft_leader_id(const struct raft *r)
{
    return r->leader_id;
}

uint64_t raft_commit_index(const struct raft *r)
{
    return r->commit_index;
}

uint64_t raft_last_applied(const struct raft *r)
{
    return r->last_applied;
}

uint64_t raft_last_index(const struct raft *r)
{
    return raft_log_last_index(&r->state.log);
}

bool raft_persist_waiting(const struct raft *r)
{
    return r->persisted_seq < r->persist_seq;
}

bool raft_flush_held(const struct raft *r)
{
    return r->flush_held;
}

uint64_t raft_durable_index(const struct raft *r)
{
    return r->durable_index;
}

uint64_t raft_snapshot_index(const struct raft *r)
{
    return r->state.snapshot.index;
}

uint64_t raft_first_index(const struct raft *r)
{
    return raft_log_first_index(&r->state.log);
}

uint64_t raft_last_term(const struct raft *r)
{
    return raft_log_last_term(&r->state.log);
}

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
    return raft_log_get(&r->state.log, index);
}

uint64_t raft_peer_match(const struct raft *r, uint32_t peer)
{
    if (r->role != RAFT_LEADER || peer < 1 || peer > r->opt.max_nodes || peer == r->opt.id)
        return 0;
    return r->progress[peer - 1].match_index;
}

uint64_t raft_peer_next(const struct raft *r, uint32_t peer)
{
    if (r->role != RAFT_LEADER || peer < 1 || peer > r->opt.max_nodes || peer == r->opt.id)
        return 0;
    return r->progress[peer - 1].next_index;
}

const struct raft_config *raft_config(const struct raft *r)
{
    return &r->config;
}

uint64_t raft_config_index(const struct raft *r)
{
    return r->config_index;
}

const struct raft_config *raft_config_committed(const struct raft *r)
{
    return r->config_index <= r->commit_index ? &r->config : &r->config_prev;
}

uint32_t raft_transfer_target(const struct raft *r)
{
    return r->role == RAFT_LEADER ? r->transfer_to : 0;
}
