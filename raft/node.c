/* node.c - the Raft node actor: mailbox messages in, raft_step(), then the update used in the
 * order the core prescribes: (already persisted) -> send -> apply -> reply, then the timer.
 *
 * Clients are answered from the apply path: a proposal accepted at (index, term) waits in a FIFO
 * (entries are applied in index order) and is answered when that index is applied, if the entry
 * there still has its term. If this node stops leading first, its waiting clients hear that the
 * outcome is unknown (the next leader may still commit their entries), never that they failed.
 */
#include "raft/node.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "kv/kv.h"
#include "raft/monitor.h"
#include "raft/node_apply.h"
#include "raft/node_trace.h"
#include "runtime/trace.h"

struct node_raft_msg {
    struct actor_msg hdr;
    struct raft_message m;
};

struct node_index_msg {
    struct actor_msg hdr;
    uint64_t index;
};

/* A caller of AWAIT_APPLIED. */
struct applied_waiter {
    uint64_t index;
    struct actor_call *call;
};

struct node {
    struct node_options opt;
    struct actor *self;
    struct actor_dir_view peers; /* slot i is node i+1 */
    struct prng net_rng;         /* this sender's network decisions */
    uint64_t *last_delivery_ms;  /* per destination, for links that keep their order */
    struct raft raft;
    struct raft_update up;
    struct kv_store store;
    timer_id wake_timer; /* 0 when no tick is armed */
    uint64_t wake_ms;    /* deadline of the armed tick */
    /* Invariant: the waiting clients' indices are strictly increasing, all greater than
     * raft_last_applied() (RAFT_BUG_APPLY_BEFORE_COMMIT aside), and exist only while this node
     * leads. */
    struct node_pending_queue pending;
    struct actor_call **leader_waiters;
    size_t n_leader_waiters;
    struct applied_waiter *applied_waiters;
    size_t n_applied_waiters;
    struct node_status stats; /* the counters; the rest is filled on demand */
};

static uint64_t now_ms(const struct node *n)
{
    return (actor_now_ns() - n->opt.epoch_ns) / 1000000u;
}

/* --- answering ---------------------------------------------------------------------------- */

static struct actor_msg *status_reply(struct node *n)
{
    struct node_status_reply *r =
        (struct node_status_reply *)actor_msg_new(sizeof *r, NODE_MSG_STATUS);
    r->status = n->stats;
    r->status.id = raft_id(&n->raft);
    r->status.role = raft_role(&n->raft);
    r->status.term = raft_term(&n->raft);
    r->status.leader = raft_leader_id(&n->raft);
    r->status.commit_index = raft_commit_index(&n->raft);
    r->status.last_applied = raft_last_applied(&n->raft);
    r->status.last_index = raft_last_index(&n->raft);
    r->status.digest = kv_store_digest(&n->store);
    r->status.n_keys = kv_store_count(&n->store);
    return &r->hdr;
}

static struct actor_msg *client_reply(enum client_reply_status status, uint32_t leader_hint,
                                      const struct kv_result *res, uint64_t index, uint64_t term)
{
    size_t len = res ? kv_result_size(res) : 0;
    struct node_reply *r = (struct node_reply *)actor_msg_new(sizeof *r + len, NODE_MSG_REQUEST);
    r->status = status;
    r->leader_hint = leader_hint;
    r->index = index;
    r->term = term;
    if (res != NULL) {
        size_t written;
        int rc = kv_result_encode(res, r->data, len, &written);
        assert(rc == 0 && written == len);
        (void)rc;
        r->len = (uint32_t)written;
    }
    return &r->hdr;
}

/* Answers a client waiting for its entry (node_apply.h): the result, or "unknown". */
static void answer_client(void *ctx, const struct node_pending *p, const struct kv_result *res)
{
    struct node *n = ctx;
    actor_reply_call(n->self, p->call,
                     res != NULL
                         ? client_reply(CLIENT_REPLY_OK, raft_id(&n->raft), res, p->index, p->term)
                         : client_reply(CLIENT_REPLY_UNKNOWN, raft_leader_id(&n->raft), NULL,
                                        p->index, p->term));
}

static void answer_applied_waiters(struct node *n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n->n_applied_waiters; i++) {
        if (n->applied_waiters[i].index <= raft_last_applied(&n->raft))
            actor_reply_call(n->self, n->applied_waiters[i].call, status_reply(n));
        else
            n->applied_waiters[kept++] = n->applied_waiters[i];
    }
    n->n_applied_waiters = kept;
}

static void answer_leader_waiters(struct node *n)
{
    for (size_t i = 0; i < n->n_leader_waiters; i++)
        actor_reply_call(n->self, n->leader_waiters[i], status_reply(n));
    n->n_leader_waiters = 0;
}

/* --- using an update ----------------------------------------------------------------------- */

static void free_raft_msg(struct actor_msg *msg)
{
    raft_message_free(&((struct node_raft_msg *)msg)->m);
}

static struct node_raft_msg *wrap(struct raft_message *m)
{
    struct node_raft_msg *out = (struct node_raft_msg *)actor_msg_new(sizeof *out, NODE_MSG_RAFT);
    out->m = *m;
    out->hdr.dtor = free_raft_msg;
    return out;
}

/* Sends one message through the emulated network: lost, delayed, or delivered twice. */
static void send_through_network(struct node *n, struct actor *peer, struct node_raft_msg *out)
{
    struct netem_fate fate;
    uint32_t to = out->m.to;
    netem_decide(n->opt.net, &n->net_rng, raft_id(&n->raft), to, now_ms(n),
                 &n->last_delivery_ms[to - 1], &fate);
    if (fate.dropped) {
        n->stats.msgs_dropped++;
        trace_log(TRACE_INFO, NULL, "network", "-> node %u: %s %s by the network", to,
                  raft_msg_type_name(out->m.type), fate.why);
        actor_msg_free(&out->hdr);
        return;
    }
    struct node_raft_msg *copies[2] = {out, NULL};
    if (fate.copies == 2) {
        struct raft_message dup;
        raft_message_copy(&dup, &out->m);
        copies[1] = wrap(&dup);
        n->stats.msgs_duplicated++;
        trace_log(TRACE_DEBUG, NULL, "network", "-> node %u: %s duplicated by the network", to,
                  raft_msg_type_name(out->m.type));
    }
    for (uint32_t c = 0; c < fate.copies; c++) {
        n->stats.msgs_sent++;
        if (fate.delay_ms[c] == 0) {
            actor_cast(peer, &copies[c]->hdr);
        } else {
            trace_log(TRACE_DEBUG, NULL, "network", "-> node %u: %s delayed %u ms", to,
                      raft_msg_type_name(copies[c]->m.type), fate.delay_ms[c]);
            actor_send_after(n->self, peer, &copies[c]->hdr, fate.delay_ms[c]);
        }
    }
}

static void send_messages(struct node *n)
{
    for (size_t i = 0; i < n->up.n_msgs; i++) {
        struct raft_message m;
        raft_update_take_message(&n->up, i, &m);
        struct node_raft_msg *out = wrap(&m);
        node_trace_sent(NULL, &out->m);
        uint32_t to = out->m.to;
        struct actor *peer = to != raft_id(&n->raft) ? actor_dir_view_get(&n->peers, to - 1) : NULL;
        if (peer == NULL) {
            n->stats.msgs_dropped++; /* the node is down: as good as lost, and Raft retries */
            actor_msg_free(&out->hdr);
            continue;
        }
        if (n->opt.net != NULL) {
            send_through_network(n, peer, out);
            continue;
        }
        n->stats.msgs_sent++;
        actor_cast(peer, &out->hdr);
    }
}

/* Makes sure a tick comes no later than the core's next_wake_ms. A tick that is already armed
 * for no later than that stays: an early tick only lets the core see the time and say when to
 * wake next. So a follower, whose election deadline moves on with every AppendEntries, re-arms
 * once per timeout rather than once per message. */
static void arm_wake(struct node *n)
{
    uint64_t want = n->up.next_wake_ms;
    if (n->wake_timer != 0 && n->wake_ms <= want)
        return;
    if (n->wake_timer != 0)
        actor_cancel_timer(n->self, n->wake_timer);
    uint64_t now = now_ms(n);
    uint32_t delay = want > now ? (uint32_t)(want - now) : 0;
    n->wake_timer = actor_send_after(n->self, n->self,
                                     actor_msg_new(sizeof(struct actor_msg), NODE_MSG_TICK), delay);
    n->wake_ms = want;
}

/* Uses the update of the step just taken: persist (done by the core) -> send -> apply ->
 * answer, then the role's consequences and the next wake-up. */
static void step(struct node *n, const struct raft_event *ev);

static void use_update(struct node *n)
{
    /* The disk is memory: the write is durable at once, and reported once the rest of the
     * update is carried out. */
    uint64_t persisted_seq = n->up.persist.seq;
    raft_disk_apply(n->opt.disk, &n->up.persist);
    bool was_leader = false, is_leader = false;
    bool leading = raft_role(&n->raft) == RAFT_LEADER;
    for (size_t i = 0; i < n->up.n_notes; i++) {
        const struct raft_note *note = &n->up.notes[i];
        if (trace_on(TRACE_INFO))
            node_trace_note(NULL, note);
        if (note->kind == RAFT_NOTE_ROLE_CHANGE) {
            was_leader = was_leader || note->from_role == RAFT_LEADER;
            is_leader = note->to_role == RAFT_LEADER;
            if (is_leader && leading && n->opt.monitor != NULL)
                monitor_report_leader(n->opt.monitor, &n->raft);
        }
        if (note->kind == RAFT_NOTE_COMMIT_ADVANCED && leading && n->opt.monitor != NULL)
            monitor_report_commit(n->opt.monitor, &n->raft, note->a + 1, note->b);
        if (note->kind == RAFT_NOTE_ELECTION_START && !note->pre_vote)
            n->stats.elections++;
    }
    send_messages(n);
    if (n->opt.monitor != NULL && n->up.n_apply > 0)
        monitor_report_applied(n->opt.monitor, raft_id(&n->raft), n->up.apply_first, n->up.apply,
                               n->up.n_apply);
    node_apply(&n->up, &n->store, NULL, &n->pending, answer_client, n);
    if (was_leader && raft_role(&n->raft) != RAFT_LEADER)
        node_pending_release(&n->pending, answer_client, n);
    if (is_leader && raft_role(&n->raft) == RAFT_LEADER)
        answer_leader_waiters(n);
    answer_applied_waiters(n);
    arm_wake(n);
    if (persisted_seq != 0) {
        struct raft_event ev = {
            .type = RAFT_EVENT_PERSISTED, .now_ms = now_ms(n), .persisted_seq = persisted_seq};
        step(n, &ev);
    }
}

static void step(struct node *n, const struct raft_event *ev)
{
    int rc = raft_step(&n->raft, ev, &n->up);
    if (rc != RAFT_OK)
        trace_log(TRACE_INFO, NULL, "error", "event refused: %s", raft_strerror(rc));
    use_update(n);
}

/* --- messages ------------------------------------------------------------------------------ */

static void on_raft_message(struct node *n, struct node_raft_msg *msg)
{
    const char *why = NULL;
    n->stats.msgs_received++;
    if (raft_message_validate(&msg->m, raft_id(&n->raft), n->opt.raft.n_nodes, &why) != 0) {
        n->stats.msgs_malformed++;
        trace_log(TRACE_INFO, NULL, "error", "drops a malformed message from node %u: %s",
                  msg->m.from, why);
        return;
    }
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .now_ms = now_ms(n), .receive = &msg->m};
    step(n, &ev);
}

static void on_request(struct node *n, struct node_request *req)
{
    struct kv_command cmd;
    int rc = kv_command_decode(req->data, req->len, &cmd);
    if (rc != 0 || cmd.op == KV_OP_NOOP) {
        trace_log(TRACE_INFO, NULL, "client", "rejects a request: %s",
                  rc ? kv_strerror(rc) : "noop is not a client command");
        actor_reply(&req->hdr, client_reply(CLIENT_REPLY_REJECTED, 0, NULL, 0, 0));
        return;
    }
    struct kv_result saved;
    struct node_pending at;
    switch (node_find_retry(&n->store, &n->pending, &cmd, NULL, &saved, &at)) {
    case NODE_RETRY_APPLIED:
        actor_reply(&req->hdr,
                    client_reply(CLIENT_REPLY_OK, raft_leader_id(&n->raft), &saved, 0, 0));
        return;
    case NODE_RETRY_WAITING:
        at.call = actor_defer(n->self, &req->hdr);
        if (at.call != NULL)
            node_pending_join(&n->pending, &at);
        return;
    case NODE_RETRY_NEW:
        break;
    }
    struct raft_event ev = {.type = RAFT_EVENT_PROPOSE, .now_ms = now_ms(n)};
    ev.propose.data = req->data;
    ev.propose.len = req->len;
    rc = raft_step(&n->raft, &ev, &n->up);
    const struct raft_proposal *p = &n->up.proposal;
    if (rc == RAFT_OK && p->status == RAFT_PROPOSAL_ACCEPTED) {
        n->stats.proposals++;
        if (trace_on(TRACE_DEBUG)) {
            char what[160];
            node_trace_describe_command(req->data, req->len, what, sizeof what);
            trace_log(TRACE_DEBUG, NULL, "client", "appends %s at index %llu", what,
                      (unsigned long long)p->index);
        }
        struct actor_call *call = actor_defer(n->self, &req->hdr);
        if (call != NULL) /* registered before the update applies it (one-node clusters) */
            node_pending_push(&n->pending, &(struct node_pending){.index = p->index,
                                                                  .term = p->term,
                                                                  .session = cmd.client_id,
                                                                  .seq = cmd.seq,
                                                                  .call = call});
    } else if (rc == RAFT_OK && p->status == RAFT_PROPOSAL_NOT_LEADER) {
        actor_reply(&req->hdr, client_reply(CLIENT_REPLY_NOT_LEADER, p->leader_hint, NULL, 0, 0));
    } else {
        actor_reply(&req->hdr, client_reply(CLIENT_REPLY_REJECTED, 0, NULL, 0, 0));
    }
    use_update(n);
}

static enum actor_next node_handle(struct actor *self, void *state, struct actor_msg *msg)
{
    struct node *n = state;
    struct raft_event ev = {.now_ms = now_ms(n)};
    switch (msg->type) {
    case NODE_MSG_RAFT:
        on_raft_message(n, (struct node_raft_msg *)msg);
        break;
    case NODE_MSG_REQUEST:
        on_request(n, (struct node_request *)msg);
        break;
    case NODE_MSG_TICK:
        n->wake_timer = 0;
        ev.type = RAFT_EVENT_TICK;
        step(n, &ev);
        break;
    case NODE_MSG_CAMPAIGN:
        ev.type = RAFT_EVENT_CAMPAIGN;
        step(n, &ev);
        break;
    case NODE_MSG_STATUS:
        actor_reply(msg, status_reply(n));
        break;
    case NODE_MSG_AWAIT_LEADER:
        if (raft_role(&n->raft) == RAFT_LEADER) {
            actor_reply(msg, status_reply(n));
        } else if (actor_msg_is_call(msg)) {
            n->leader_waiters = xreallocarray(n->leader_waiters, n->n_leader_waiters + 1,
                                              sizeof *n->leader_waiters);
            n->leader_waiters[n->n_leader_waiters++] = actor_defer(self, msg);
        }
        break;
    case NODE_MSG_AWAIT_APPLIED: {
        uint64_t index = ((struct node_index_msg *)msg)->index;
        if (raft_last_applied(&n->raft) >= index) {
            actor_reply(msg, status_reply(n));
        } else if (actor_msg_is_call(msg)) {
            n->applied_waiters = xreallocarray(n->applied_waiters, n->n_applied_waiters + 1,
                                               sizeof *n->applied_waiters);
            n->applied_waiters[n->n_applied_waiters++] =
                (struct applied_waiter){index, actor_defer(self, msg)};
        }
        break;
    }
    default:
        trace_log(TRACE_INFO, NULL, "error", "drops a message of unknown type %u", msg->type);
        break;
    }
    actor_msg_free(msg);
    return ACTOR_CONTINUE;
}

static void node_start(struct actor *self, void *state)
{
    struct node *n = state;
    n->self = self;
    /* Arm the first election timeout. */
    struct raft_event ev = {.type = RAFT_EVENT_TICK, .now_ms = now_ms(n)};
    step(n, &ev);
}

static void node_stop(struct actor *self, void *state)
{
    (void)self;
    struct node *n = state;
    /* Deferred calls (pending clients, waiters) are failed with ACTOR_ESTOPPED by the runtime
     * once this returns; only their bookkeeping is freed here. */
    node_pending_close(&n->pending);
    free(n->leader_waiters);
    free(n->applied_waiters);
    actor_dir_view_close(&n->peers);
    free(n->last_delivery_ms);
    raft_update_close(&n->up);
    raft_close(&n->raft);
    kv_store_close(&n->store);
    free(n);
}

int node_spawn(const struct node_options *opt, struct actor **out)
{
    struct node *n = xcalloc(1, sizeof *n);
    n->opt = *opt;
    int rc = raft_init(&n->raft, &opt->raft, opt->disk, now_ms(n));
    assert(rc == RAFT_OK); /* options are validated by the configuration */
    (void)rc;
    raft_update_init(&n->up);
    kv_store_init(&n->store);
    actor_dir_view_init(&n->peers, opt->peers);
    prng_seed(&n->net_rng, opt->net_seed);
    n->last_delivery_ms = xcalloc(opt->raft.n_nodes, sizeof *n->last_delivery_ms);
    char name[32];
    snprintf(name, sizeof name, "node %u", opt->raft.id);
    struct actor_spec spec = {.name = name,
                              .handler = node_handle,
                              .on_start = node_start,
                              .on_stop = node_stop,
                              .state = n};
    rc = actor_spawn(&spec, out);
    if (rc != ACTOR_OK) {
        raft_update_close(&n->up);
        raft_close(&n->raft);
        kv_store_close(&n->store);
        actor_dir_view_close(&n->peers);
        free(n->last_delivery_ms);
        free(n);
    }
    return rc;
}

void node_campaign(struct actor *node)
{
    actor_cast(node, actor_msg_new(sizeof(struct actor_msg), NODE_MSG_CAMPAIGN));
}

static int query(struct actor *node, struct actor_msg *req, uint32_t timeout_ms,
                 struct node_status *out)
{
    struct actor_msg *reply = NULL;
    int rc = actor_call(node, req, timeout_ms, &reply);
    if (rc == ACTOR_OK) {
        *out = ((struct node_status_reply *)reply)->status;
        actor_msg_free(reply);
    }
    return rc;
}

int node_get_status(struct actor *node, uint32_t timeout_ms, struct node_status *out)
{
    return query(node, actor_msg_new(sizeof(struct actor_msg), NODE_MSG_STATUS), timeout_ms, out);
}

int node_await_leader(struct actor *node, uint32_t timeout_ms, struct node_status *out)
{
    return query(node, actor_msg_new(sizeof(struct actor_msg), NODE_MSG_AWAIT_LEADER), timeout_ms,
                 out);
}

int node_await_applied(struct actor *node, uint64_t index, uint32_t timeout_ms,
                       struct node_status *out)
{
    struct node_index_msg *m =
        (struct node_index_msg *)actor_msg_new(sizeof *m, NODE_MSG_AWAIT_APPLIED);
    m->index = index;
    return query(node, &m->hdr, timeout_ms, out);
}

struct actor_msg *node_request_new(const void *cmd, uint32_t len)
{
    struct node_request *r =
        (struct node_request *)actor_msg_new(sizeof *r + len, NODE_MSG_REQUEST);
    r->len = len;
    memcpy(r->data, cmd, len);
    return &r->hdr;
}
