/* replica.c - the Raft core, the store and the waiting clients as one pure unit (replica.h):
 * each step runs the core, applies what it committed, and answers the clients it reaches.
 */
#include "replica/replica.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

void replica_output_init(struct replica_output *out)
{
    memset(out, 0, sizeof *out);
    raft_update_init(&out->up);
}

void replica_output_close(struct replica_output *out)
{
    raft_update_close(&out->up);
    free(out->answers);
    free(out->applied);
    free(out->bytes);
    memset(out, 0, sizeof *out);
}

int replica_init(struct replica *r, const struct raft_options *opt, const struct raft_disk *loaded,
                 uint64_t now_ms)
{
    memset(r, 0, sizeof *r);
    int rc = raft_init(&r->raft, opt, loaded, now_ms);
    if (rc != RAFT_OK)
        return rc;
    kv_store_init(&r->store);
    /* The store starts as the snapshot left it; the core replays the log after it. */
    if (loaded->snapshot.index > 0 &&
        kv_store_decode(&r->store, loaded->snapshot.data, loaded->snapshot.len) != 0) {
        replica_close(r);
        return RAFT_EINVAL;
    }
    return RAFT_OK;
}

void replica_close(struct replica *r)
{
    raft_close(&r->raft);
    kv_store_close(&r->store);
    free(r->waiting);
    memset(r, 0, sizeof *r);
}

void replica_close_keep(struct replica *r, struct raft_disk *disk)
{
    raft_close_keep(&r->raft, disk);
    kv_store_close(&r->store);
    free(r->waiting);
    memset(r, 0, sizeof *r);
}

/* --- the waiting clients ------------------------------------------------------------------- */

/* Room for one more waiter at waiting[len]. */
static void waiting_reserve(struct replica *r)
{
    if (r->len == r->cap && r->head > 0) {
        /* Reclaim the answered prefix before growing. */
        memmove(r->waiting, r->waiting + r->head, (r->len - r->head) * sizeof *r->waiting);
        r->len -= r->head;
        r->head = 0;
    }
    if (r->len == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->waiting = xreallocarray(r->waiting, r->cap, sizeof *r->waiting);
    }
}

/* Adds w at its place in index order, after any waiter of the same index (a retry waiting for
 * an entry already appended joins the attempt that appended it). */
static void waiting_add(struct replica *r, const struct replica_waiter *w)
{
    waiting_reserve(r);
    size_t at = r->len++;
    while (at > r->head && r->waiting[at - 1].index > w->index) {
        r->waiting[at] = r->waiting[at - 1];
        at--;
    }
    r->waiting[at] = *w;
}

/* --- answers -------------------------------------------------------------------------------- */

static struct replica_answer *answer(struct replica_output *out, const struct replica_caller *to,
                                     enum client_reply_status status, uint32_t leader_hint)
{
    if (out->n_answers == out->cap_answers) {
        out->cap_answers = out->cap_answers ? 2 * out->cap_answers : 16;
        out->answers = xreallocarray(out->answers, out->cap_answers, sizeof *out->answers);
    }
    struct replica_answer *a = &out->answers[out->n_answers++];
    *a = (struct replica_answer){.to = *to, .status = status, .leader_hint = leader_hint};
    return a;
}

/* Encodes res into the output's buffer as a's result (a result's value lives in the store, which
 * the next applied entry may change: the answer keeps its own bytes). */
static void attach_result(struct replica_output *out, struct replica_answer *a,
                          const struct kv_result *res)
{
    size_t len = kv_result_size(res);
    if (out->n_bytes + len > out->cap_bytes) {
        size_t cap = out->cap_bytes ? out->cap_bytes : 256;
        while (cap < out->n_bytes + len)
            cap *= 2;
        out->bytes = xrealloc(out->bytes, cap);
        out->cap_bytes = cap;
    }
    size_t written;
    int rc = kv_result_encode(res, out->bytes + out->n_bytes, len, &written);
    assert(rc == 0 && written == len);
    (void)rc;
    a->result_at = out->n_bytes;
    a->result_len = len;
    out->n_bytes += len;
}

/* --- applying ------------------------------------------------------------------------------- */

/* Applies the step's committed entries to the store, in index order, answering the clients
 * waiting at each index: their result if the entry is theirs (same index and term), otherwise
 * "unknown" (their entry was overwritten; a retry elsewhere may still have applied it). */
static void apply_committed(struct replica *r, struct replica_output *out)
{
    const struct raft_update *up = &out->up;
    if (up->restore != NULL) {
        /* A snapshot from the leader replaces the store. Its bytes were made by a store's
         * kv_store_encode and crossed the network under a checksum: bytes that do not decode
         * are a bug, not bad input. */
        int rc = kv_store_decode(&r->store, up->restore->data, up->restore->len);
        assert(rc == 0);
        (void)rc;
    }
    if (up->n_apply > out->cap_applied) {
        out->cap_applied = up->n_apply;
        out->applied = xreallocarray(out->applied, out->cap_applied, sizeof *out->applied);
    }
    for (size_t i = 0; i < up->n_apply; i++) {
        uint64_t index = up->apply_first + i;
        const struct raft_entry *e = &up->apply[i];
        struct replica_applied *ap = &out->applied[out->n_applied++];
        *ap = (struct replica_applied){.index = index, .entry = e};
        struct kv_result res = {0};
        struct kv_command cmd;
        /* Only validated commands enter the log; one that does not decode is a bug, skipped. */
        if (e->type == RAFT_ENTRY_COMMAND && kv_command_decode(e->data, e->len, &cmd) == 0) {
            kv_store_apply(&r->store, &cmd, &res);
            ap->command = true;
            ap->op = cmd.op;
            ap->status = res.status;
        }
        while (r->head < r->len && r->waiting[r->head].index <= index) {
            const struct replica_waiter *w = &r->waiting[r->head++];
            if (w->index == index && w->term == e->term && ap->command) {
                struct replica_answer *a =
                    answer(out, &w->caller, CLIENT_REPLY_OK, raft_id(&r->raft));
                a->index = w->index;
                a->term = w->term;
                attach_result(out, a, &res);
            } else {
                answer(out, &w->caller, CLIENT_REPLY_UNKNOWN, raft_leader_id(&r->raft));
            }
        }
    }
}

/* --- client requests ------------------------------------------------------------------------ */

/* Before proposing cmd: a retry this node can answer or attach to? true if handled. */
static bool take_retry(struct replica *r, const struct replica_event *ev,
                       const struct kv_command *cmd, struct replica_output *out)
{
    if (cmd->client_id == 0)
        return false;
    struct kv_result saved;
    if (kv_store_saved_result(&r->store, cmd->client_id, cmd->seq, &saved)) {
        /* The result of a committed command is final: answered here, with the leader named
         * for the next request. */
        struct replica_answer *a =
            answer(out, &ev->from, CLIENT_REPLY_OK, raft_leader_id(&r->raft));
        attach_result(out, a, &saved);
        out->request.fate = REPLICA_REQUEST_APPLIED;
        return true;
    }
    for (size_t i = r->len; i > r->head; i--) {
        const struct replica_waiter *w = &r->waiting[i - 1];
        if (w->session == cmd->client_id && w->seq == cmd->seq) {
            struct replica_waiter joined = *w;
            joined.caller = ev->from;
            waiting_add(r, &joined);
            out->request.fate = REPLICA_REQUEST_WAITS;
            out->request.index = joined.index;
            return true;
        }
    }
    return false;
}

/* A client request: answered at once, attached to an entry already appended, or proposed.
 * Returns the core's code (0 unless the proposal was refused as an event). */
static int request(struct replica *r, const struct replica_event *ev, struct replica_output *out)
{
    struct kv_command cmd;
    int drc = kv_command_decode(ev->data, ev->len, &cmd);
    if (drc != 0 || cmd.op == KV_OP_NOOP) {
        raft_update_clear(&out->up);
        out->request.fate = drc != 0 ? REPLICA_REQUEST_MALFORMED : REPLICA_REQUEST_NOOP;
        out->request.decode_error = drc;
        answer(out, &ev->from, CLIENT_REPLY_REJECTED, 0);
        return RAFT_OK;
    }
    out->request.client_id = cmd.client_id;
    out->request.seq = cmd.seq;
    if (take_retry(r, ev, &cmd, out)) {
        raft_update_clear(&out->up);
        return RAFT_OK;
    }
    struct raft_event pe = {.type = RAFT_EVENT_PROPOSE, .now_ms = ev->raft.now_ms};
    pe.propose.data = ev->data;
    /* Longer than UINT32_MAX is longer than an entry may be: the core says TOO_LARGE. */
    pe.propose.len = ev->len > UINT32_MAX ? UINT32_MAX : (uint32_t)ev->len;
    int rc = raft_step(&r->raft, &pe, &out->up);
    const struct raft_proposal *p = &out->up.proposal;
    if (rc == RAFT_OK && p->status == RAFT_PROPOSAL_ACCEPTED) {
        /* Waits before the step's entries are applied (a one-node cluster may commit at once). */
        waiting_add(r, &(struct replica_waiter){.index = p->index,
                                                .term = p->term,
                                                .session = cmd.client_id,
                                                .seq = cmd.seq,
                                                .caller = ev->from});
        out->request.fate = REPLICA_REQUEST_APPENDED;
        out->request.index = p->index;
    } else if (rc == RAFT_OK && p->status == RAFT_PROPOSAL_NOT_LEADER) {
        out->request.fate = REPLICA_REQUEST_NOT_LEADER;
        answer(out, &ev->from, CLIENT_REPLY_NOT_LEADER, p->leader_hint);
    } else {
        out->request.fate = REPLICA_REQUEST_TOO_LARGE;
        answer(out, &ev->from, CLIENT_REPLY_REJECTED, 0);
    }
    return rc;
}

/* --- the step ------------------------------------------------------------------------------- */

int replica_step(struct replica *r, const struct replica_event *ev, struct replica_output *out)
{
    out->n_answers = 0;
    out->n_applied = 0;
    out->n_bytes = 0;
    memset(&out->request, 0, sizeof out->request);
    out->became_leader = false;
    out->stopped_leading = false;
    bool leading = raft_role(&r->raft) == RAFT_LEADER;
    int rc;
    if (ev->type == REPLICA_EVENT_REQUEST)
        rc = request(r, ev, out);
    else
        rc = raft_step(&r->raft, &ev->raft, &out->up);
    apply_committed(r, out);
    if (out->up.snapshot_wanted) {
        /* Section 7: the state machine through last_applied, for the core to keep and send. */
        uint8_t *data;
        size_t len;
        kv_store_encode(&r->store, &data, &len);
        raft_snapshot_take(&r->raft, raft_last_applied(&r->raft), data, len);
    }
    bool leads = raft_role(&r->raft) == RAFT_LEADER;
    out->became_leader = leads && !leading;
    out->stopped_leading = leading && !leads;
    if (out->stopped_leading) {
        /* Leadership lost: nobody here will answer them; the outcome is unknown. */
        for (size_t i = r->head; i < r->len; i++)
            answer(out, &r->waiting[i].caller, CLIENT_REPLY_UNKNOWN, raft_leader_id(&r->raft));
        r->head = r->len = 0;
    }
    for (size_t i = 0; i < out->n_answers; i++) {
        struct replica_answer *a = &out->answers[i];
        a->result = a->result_len > 0 ? out->bytes + a->result_at : NULL;
    }
    return rc;
}
