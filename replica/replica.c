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
    free(out->served);
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

static void reads_close(struct replica *r)
{
    for (size_t i = 0; i < r->n_reads; i++)
        free(r->reads[i].key);
    free(r->reads);
}

void replica_close(struct replica *r)
{
    raft_close(&r->raft);
    kv_store_close(&r->store);
    free(r->waiting);
    reads_close(r);
    memset(r, 0, sizeof *r);
}

void replica_close_keep(struct replica *r, struct raft_disk *disk)
{
    raft_close_keep(&r->raft, disk);
    kv_store_close(&r->store);
    free(r->waiting);
    reads_close(r);
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

/* Room for len more bytes in the output's buffer; returns where they go. */
static size_t reserve_bytes(struct replica_output *out, size_t len)
{
    if (out->n_bytes + len > out->cap_bytes) {
        size_t cap = out->cap_bytes ? out->cap_bytes : 256;
        while (cap < out->n_bytes + len)
            cap *= 2;
        out->bytes = xrealloc(out->bytes, cap);
        out->cap_bytes = cap;
    }
    return out->n_bytes;
}

/* Encodes res into the output's buffer as a's result (a result's value lives in the store, which
 * the next applied entry may change: the answer keeps its own bytes). */
static void attach_result(struct replica_output *out, struct replica_answer *a,
                          const struct kv_result *res)
{
    size_t len = kv_result_size(res);
    reserve_bytes(out, len);
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

/* --- reads without the log (thesis 6.4) ------------------------------------------------------ */

/* Answers a get from this node's store as it is now, and notes it for the trace. */
static void serve(struct replica *r, struct replica_output *out, const struct replica_caller *to,
                  uint64_t client_id, uint64_t seq, const uint8_t *key, uint32_t key_len,
                  enum kv_read_policy policy, uint64_t read_id, uint64_t index)
{
    struct kv_result res = {.client_id = client_id, .seq = seq};
    res.status = kv_store_get(&r->store, key, key_len, &res.value, &res.value_len);
    struct replica_answer *a = answer(out, to, CLIENT_REPLY_OK, raft_leader_id(&r->raft));
    a->index = index;
    attach_result(out, a, &res);
    if (out->n_served == out->cap_served) {
        out->cap_served = out->cap_served ? 2 * out->cap_served : 16;
        out->served = xreallocarray(out->served, out->cap_served, sizeof *out->served);
    }
    size_t key_at = reserve_bytes(out, key_len);
    if (key_len > 0)
        memcpy(out->bytes + key_at, key, key_len);
    out->n_bytes += key_len;
    out->served[out->n_served++] = (struct replica_served){
        .read_id = read_id,
        .policy = policy,
        .index = index,
        .applied = raft_last_applied(&r->raft),
        .key_len = key_len,
        .found = res.status == KV_OK,
        .key_at = key_at,
    };
}

static enum raft_read_mode read_mode(enum kv_read_policy p)
{
    switch (p) {
    case KV_READ_LEASE:
        return RAFT_READ_LEASE;
    case KV_READ_FOLLOWER:
        return RAFT_READ_FOLLOWER;
    case KV_READ_LINEARIZABLE:
    case KV_READ_STALE:
    case KV_READ_LOG:
        break;
    }
    return RAFT_READ_INDEX;
}

/* A get that does not go through the log: stale ones are answered now, the others wait for the
 * core to give them a read index (or say this node cannot serve them). */
static int read_request(struct replica *r, const struct replica_event *ev,
                        const struct kv_command *cmd, struct replica_output *out)
{
    out->request.read = ev->read;
    if (ev->read == KV_READ_STALE) {
        raft_update_clear(&out->up);
        out->request.fate = REPLICA_REQUEST_STALE_READ;
        serve(r, out, &ev->from, cmd->client_id, cmd->seq, cmd->key, cmd->key_len, KV_READ_STALE, 0,
              raft_last_applied(&r->raft));
        return RAFT_OK;
    }
    if (r->n_reads == r->cap_reads) {
        r->cap_reads = r->cap_reads ? 2 * r->cap_reads : 16;
        r->reads = xreallocarray(r->reads, r->cap_reads, sizeof *r->reads);
    }
    struct replica_read *rd = &r->reads[r->n_reads++];
    *rd = (struct replica_read){.id = ++r->next_read_id,
                                .policy = ev->read,
                                .client_id = cmd->client_id,
                                .seq = cmd->seq,
                                .key_len = cmd->key_len,
                                .caller = ev->from};
    rd->key = xmalloc(cmd->key_len ? cmd->key_len : 1);
    if (cmd->key_len > 0)
        memcpy(rd->key, cmd->key, cmd->key_len);
    out->request.fate = REPLICA_REQUEST_READ;
    out->request.read_id = rd->id;
    struct raft_event re = {
        .type = RAFT_EVENT_READ, .now_ms = ev->raft.now_ms, .more = ev->raft.more};
    re.read.id = rd->id;
    re.read.mode = read_mode(ev->read);
    return raft_step(&r->raft, &re, &out->up);
}

static struct replica_read *find_read(struct replica *r, uint64_t id)
{
    for (size_t i = 0; i < r->n_reads; i++)
        if (r->reads[i].id == id)
            return &r->reads[i];
    return NULL;
}

/* The core's word on reads (ready with an index, or not here), then every ready read this node
 * has applied far enough for is served, in arrival order. A read the core gave up on (not the
 * leader, leadership or leader lost) was never served: the client hears "not leader" and may
 * ask again elsewhere, as for a request that never entered the log. */
static void reads_settle(struct replica *r, struct replica_output *out)
{
    const struct raft_update *up = &out->up;
    for (size_t i = 0; i < up->n_reads; i++) {
        struct replica_read *rd = find_read(r, up->reads[i].id);
        if (rd == NULL)
            continue; /* cannot be: every id the core reports came from a waiting read */
        if (up->reads[i].status == RAFT_READ_READY) {
            rd->ready = true;
            rd->index = up->reads[i].index;
        } else {
            answer(out, &rd->caller, CLIENT_REPLY_NOT_LEADER, up->reads[i].leader_hint);
            free(rd->key);
            rd->key = NULL;
            rd->id = 0;
        }
    }
    uint64_t applied = raft_last_applied(&r->raft);
    size_t kept = 0;
    for (size_t i = 0; i < r->n_reads; i++) {
        struct replica_read *rd = &r->reads[i];
        if (rd->id != 0 && rd->ready && rd->index <= applied) {
            serve(r, out, &rd->caller, rd->client_id, rd->seq, rd->key, rd->key_len, rd->policy,
                  rd->id, rd->index);
            free(rd->key);
            continue;
        }
        if (rd->id != 0)
            r->reads[kept++] = *rd;
    }
    r->n_reads = kept;
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
    if (cmd.op == KV_OP_GET && ev->read != KV_READ_LOG) {
        if ((unsigned)ev->read >= KV_READ_POLICIES) {
            raft_update_clear(&out->up);
            out->request.fate = REPLICA_REQUEST_MALFORMED;
            out->request.decode_error = KV_EMALFORMED;
            answer(out, &ev->from, CLIENT_REPLY_REJECTED, 0);
            return RAFT_OK;
        }
        return read_request(r, ev, &cmd, out);
    }
    if (take_retry(r, ev, &cmd, out)) {
        raft_update_clear(&out->up);
        return RAFT_OK;
    }
    struct raft_event pe = {
        .type = RAFT_EVENT_PROPOSE, .now_ms = ev->raft.now_ms, .more = ev->raft.more};
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
    out->n_served = 0;
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
    reads_settle(r, out);
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
    for (size_t i = 0; i < out->n_served; i++)
        out->served[i].key = out->bytes + out->served[i].key_at;
    return rc;
}
