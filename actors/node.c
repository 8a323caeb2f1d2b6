/* node.c - the actor host of a replica: mailbox messages become replica events, and
 * host/host.h's action routine carries out each step through this host's ports: the in-memory
 * disk (durable at once), casts to the peer actors through the emulated network, deferred
 * replies to clients, and an actor timer.
 *
 * Clients are answered from the apply path (replica/replica.h): a request is deferred, and
 * answered when its entry is applied, or at once when the replica can say more now (not leader,
 * rejected, already applied).
 */
#include "actors/node.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "kv/kv.h"
#include "actors/monitor.h"
#include "host/host.h"
#include "host/network.h"
#include "replica/replica.h"
#include "host/node_storage.h"
#include "host/node_trace.h"
#include "runtime/trace.h"

struct node_raft_msg {
    struct actor_msg hdr;
    struct raft_message m;
    uint64_t msg_id; /* its trace id (host_trace_message); 0 from outside the process */
};

struct node_index_msg {
    struct actor_msg hdr;
    uint64_t index;
};

/* NODE_MSG_PEEK: the key (the call), and the answer. */
struct node_peek_msg {
    struct actor_msg hdr;
    bool found;
    uint32_t len;
    uint8_t data[]; /* the call: the key; the reply: the value */
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
    struct host_network net;     /* the emulated network in front of the casts */
    struct host_transport transport;
    struct replica rep;
    struct replica_output out;
    struct host_ports ports;
    struct host_trace_memo memo;
    timer_id wake_timer; /* 0 when no tick is armed */
    uint64_t wake_ms;    /* deadline of the armed tick */
    bool became_leader;  /* a step since the last look made this node leader */
    /* Steps taken with `more` (raft.h) since the last that was not: the leader holds its
     * AppendEntries while the mailbox has more for it, and sends them once it runs dry
     * (node_idle, if raft_flush_held) or after NODE_HOLD_MAX such steps. */
    uint32_t held_steps;
    uint64_t now_ms; /* the clock, read once as each message (or idle call) begins */
    struct actor_call **leader_waiters;
    size_t n_leader_waiters;
    struct applied_waiter *applied_waiters;
    size_t n_applied_waiters;
    struct node_status stats; /* the counters; the rest is filled on demand */
    /* Disk storage (opt.data_dir): writes since the last sync, up to persist request
     * unsynced_seq, are made durable by one sync when a NODE_MSG_SYNC this node cast to itself
     * comes round (group commit: every message already queued is handled first). If writes
     * came in while it went round, it goes round again (sync_writes), so that one sync covers a
     * whole burst of client requests. */
    bool on_disk;
    struct node_storage files;
    uint64_t unsynced_seq;
    bool sync_queued;
    uint64_t sync_cast_seq; /* unsynced_seq when the queued NODE_MSG_SYNC was cast */
    uint32_t sync_passes;   /* times it went round again since the last sync */
    /* The segment's fdatasync runs on the syncer, an actor of this node's own, so that this
     * thread goes on with messages meanwhile: a follower answers a read round, a leader takes
     * acknowledgements and requests. One sync at a time: syncing_seq (0: none) is the last
     * persist request it makes durable, sync_fd the duplicate descriptor it syncs (ours to
     * close), sync_file its name for an error. Writes made meanwhile wait for the next. */
    struct actor *syncer;
    uint64_t syncing_seq;
    int sync_fd;
    char sync_file[512];
};

/* The syncer's one message (a call): fdatasync of fd, answered with the errno (0: done). */
struct node_fdatasync_msg {
    struct actor_msg hdr;
    int fd;
    int rc;
};
enum { NODE_MSG_FDATASYNC = 0x1ff, NODE_SYNC_TAG = 1 };

/* How many times in a row a NODE_MSG_SYNC may go round again before the sync is made anyway:
 * each time costs one pass over the mailbox, so a steady stream of writes still reaches the disk
 * after at most this many passes. */
enum { NODE_SYNC_PASSES_MAX = 8 };

/* At most this many steps in a row hold the leader's messages (raft_event.more): a mailbox that
 * never runs dry still sends at least every NODE_HOLD_MAX messages. A burst of requests that
 * arrive together goes out in one AppendEntries per peer, instead of the first of them going
 * alone and the rest waiting for its acknowledgement (max_inflight 1). */
enum { NODE_HOLD_MAX = 64 };

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
    host_status_fill(&n->rep, &r->status);
    return &r->hdr;
}

/* A reply to a client request carrying result (len bytes, the encoded kv_result; OK only). */
static struct actor_msg *client_reply(enum client_reply_status status, uint32_t leader_hint,
                                      const uint8_t *result, size_t len, uint64_t index,
                                      uint64_t term)
{
    struct node_reply *r = (struct node_reply *)actor_msg_new(sizeof *r + len, NODE_MSG_REQUEST);
    r->status = status;
    r->leader_hint = leader_hint;
    r->index = index;
    r->term = term;
    if (len > 0)
        memcpy(r->data, result, len);
    r->len = (uint32_t)len;
    return &r->hdr;
}

static void answer_applied_waiters(struct node *n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n->n_applied_waiters; i++) {
        if (n->applied_waiters[i].index <= raft_last_applied(&n->rep.raft))
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

/* Transport: a peer is reachable while its actor is in the directory. */
static bool transport_reachable(void *ctx, uint32_t to)
{
    struct node *n = ctx;
    return actor_dir_view_get(&n->peers, to - 1) != NULL;
}

/* Transport: a cast to the peer's actor, or a timer of this node's that casts it later. */
static void transport_deliver(void *ctx, struct raft_message *m, uint32_t delay_ms, uint64_t msg_id)
{
    struct node *n = ctx;
    struct node_raft_msg *out = wrap(m);
    out->msg_id = msg_id;
    struct actor *peer = actor_dir_view_get(&n->peers, out->m.to - 1);
    if (peer == NULL) /* gone since it was found reachable: lost, as on a network */
        actor_msg_free(&out->hdr);
    else if (delay_ms == 0)
        actor_cast(peer, &out->hdr);
    else
        actor_send_after(n->self, peer, &out->hdr, delay_ms);
}

/* Transport port: through the emulated network, then the actor runtime. */
static void port_send(void *ctx, struct raft_message *m)
{
    struct node *n = ctx;
    host_network_send(&n->net, &n->transport, m, n->now_ms, &n->stats, NULL);
}

/* Storage port: the disk is memory, and the core's own copy of its persistent state is that
 * memory: a write is durable as soon as it is asked for, with nothing to copy. node_stop hands the
 * state to the owner's struct raft_disk, which outlives the node (a crash keeps it). */
static bool port_persist(void *ctx, const struct raft_persist *p)
{
    struct node *n = ctx;
    if (!n->on_disk)
        return true;
    /* Files: written now, durable at the next sync (NODE_MSG_SYNC), reported then. */
    char err[1024];
    if (node_storage_write(&n->files, p, err, sizeof err) != 0)
        node_storage_fatal(n->opt.raft.id, err);
    n->stats.persist_writes++;
    n->unsynced_seq = p->seq;
    if (!n->sync_queued && n->syncing_seq == 0) {
        actor_cast(n->self, actor_msg_new(sizeof(struct actor_msg), NODE_MSG_SYNC));
        n->sync_queued = true;
        n->sync_cast_seq = p->seq;
    }
    return false;
}

static void step(struct node *n, const struct raft_event *ev);
static void start_sync(struct node *n);

/* The core hears that the persist requests up to seq are durable. */
static void persisted(struct node *n, uint64_t seq)
{
    struct raft_event ev = {
        .type = RAFT_EVENT_PERSISTED, .now_ms = n->now_ms, .persisted_seq = seq};
    step(n, &ev);
}

/* A TICK step at n->now_ms: it arms the core's timer, and sends what the leader held; it does
 * nothing else unless a deadline has passed. */
static void tick(struct node *n)
{
    struct raft_event ev = {.type = RAFT_EVENT_TICK, .now_ms = n->now_ms};
    step(n, &ev);
}

/* NODE_MSG_SYNC: one sync for every write since the last, then the core hears they are
 * durable. If writes came in since the SYNC was cast (the leader is appending
 * client requests that arrive one by one), it goes round once more, behind them, so that the sync
 * waits for the burst to end rather than split it: fewer syncs, and a leader blocked less often
 * in one while acknowledgements wait. A node whose writes stopped (a follower's one
 * AppendEntries, a single client) syncs at once, as before. */
static void sync_writes(struct node *n)
{
    n->sync_queued = false;
    /* What the leader held goes out first: the followers write and sync the same entries
     * while this node syncs them, rather than after (the SYNC going round keeps the mailbox from
     * running dry, so on_idle would come only after the sync). */
    if (raft_flush_held(&n->rep.raft))
        tick(n);
    if (n->unsynced_seq == 0 || n->syncing_seq != 0)
        return; /* (the sync under way starts the next when it ends) */
    if (n->unsynced_seq != n->sync_cast_seq && n->sync_passes < NODE_SYNC_PASSES_MAX) {
        actor_cast(n->self, actor_msg_new(sizeof(struct actor_msg), NODE_MSG_SYNC));
        n->sync_queued = true;
        n->sync_cast_seq = n->unsynced_seq;
        n->sync_passes++;
        return;
    }
    n->sync_passes = 0;
    start_sync(n);
}

/* Every write so far (up to unsynced_seq) becomes durable: the hard state's and the directory's
 * syncs here, the segment's on the syncer (answered by sync_done); the core hears of it then. */
static void start_sync(struct node *n)
{
    char err[1024];
    int fd;
    if (node_storage_sync_begin(&n->files, &fd, n->sync_file, sizeof n->sync_file, err,
                                sizeof err) != 0)
        node_storage_fatal(n->opt.raft.id, err);
    n->now_ms = now_ms(n); /* the hard state's or the directory's sync may have taken time */
    n->stats.persist_syncs++;
    uint64_t seq = n->unsynced_seq;
    n->unsynced_seq = 0;
    if (fd < 0) { /* nothing for the syncer: durable now */
        node_storage_sync_end(&n->files);
        persisted(n, seq);
        return;
    }
    n->syncing_seq = seq;
    n->sync_fd = fd;
    struct node_fdatasync_msg *q =
        (struct node_fdatasync_msg *)actor_msg_new(sizeof *q, NODE_MSG_FDATASYNC);
    q->fd = fd;
    actor_call_async(n->syncer, &q->hdr, n->self, NODE_SYNC_TAG);
}

/* The syncer's answer: the requests up to syncing_seq are durable (or the node stops). Writes
 * made meanwhile start the next sync at once: they waited as long as this one took. */
static void sync_done(struct node *n, struct actor_answer *a)
{
    int rc = a->status != ACTOR_OK ? EIO : ((const struct node_fdatasync_msg *)a->reply)->rc;
    node_storage_sync_fd_close(n->sync_fd);
    n->sync_fd = -1;
    if (rc != 0) {
        char err[1024];
        snprintf(err, sizeof err, "%s: fdatasync failed: %s", n->sync_file,
                 a->status != ACTOR_OK ? "the sync thread stopped" : strerror(rc));
        node_storage_fatal(n->opt.raft.id, err);
    }
    node_storage_sync_end(&n->files);
    uint64_t seq = n->syncing_seq;
    n->syncing_seq = 0;
    persisted(n, seq);
    if (n->unsynced_seq != 0 && !n->sync_queued) {
        if (raft_flush_held(&n->rep.raft))
            tick(n);
        start_sync(n);
    }
}

/* Ends the syncer (after the fdatasync it may be in) and closes the descriptor it had, which is
 * the node's. */
static void stop_syncer(struct node *n)
{
    actor_stop(n->syncer);
    actor_join(n->syncer);
    actor_unref(n->syncer);
    if (n->sync_fd >= 0)
        node_storage_sync_fd_close(n->sync_fd);
    n->sync_fd = -1;
}

/* The syncer's handler: one fdatasync per call. */
static enum actor_next syncer_handle(struct actor *self, void *state, struct actor_msg *msg)
{
    (void)self;
    (void)state;
    if (msg->type == NODE_MSG_FDATASYNC) {
        struct node_fdatasync_msg *q = (struct node_fdatasync_msg *)msg;
        struct node_fdatasync_msg *a =
            (struct node_fdatasync_msg *)actor_msg_new(sizeof *a, NODE_MSG_FDATASYNC);
        a->fd = q->fd;
        a->rc = node_storage_sync_fd(q->fd);
        actor_reply(msg, &a->hdr);
    }
    actor_msg_free(msg);
    return ACTOR_CONTINUE;
}

/* Client port: the deferred call's reply. */
static void port_answer(void *ctx, const struct replica_answer *a)
{
    struct node *n = ctx;
    if (a->to.call != NULL)
        actor_reply_call(
            n->self, a->to.call,
            client_reply(a->status, a->leader_hint, a->result, a->result_len, a->index, a->term));
}

/* Clock port: makes sure a tick comes no later than the core's next_wake_ms. A tick that is
 * already armed for no later than that stays: an early tick only lets the core see the time and
 * say when to wake next. So a follower, whose election deadline moves on with every
 * AppendEntries, re-arms once per timeout rather than once per message. */
static void port_arm(void *ctx, uint64_t want)
{
    struct node *n = ctx;
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

/* Observer: counters, and the invariant monitor's reports. */
static void port_observe(void *ctx, const struct replica *r, const struct replica_output *out)
{
    struct node *n = ctx;
    bool leading = raft_role(&r->raft) == RAFT_LEADER;
    if (out->request.fate == REPLICA_REQUEST_APPENDED)
        n->stats.proposals++;
    for (size_t i = 0; i < out->up.n_notes; i++) {
        const struct raft_note *note = &out->up.notes[i];
        if (note->kind == RAFT_NOTE_ELECTION_START && !note->pre_vote)
            n->stats.elections++;
        n->stats.snapshots_taken += note->kind == RAFT_NOTE_SNAPSHOT_TAKEN;
        n->stats.snapshots_installed += note->kind == RAFT_NOTE_SNAPSHOT_INSTALLED;
        if (note->kind == RAFT_NOTE_COMMIT_ADVANCED && leading && n->opt.monitor != NULL)
            monitor_report_commit(n->opt.monitor, &r->raft, note->a + 1, note->b);
    }
    if (out->became_leader) {
        n->became_leader = true;
        if (n->opt.monitor != NULL)
            monitor_report_leader(n->opt.monitor, &r->raft);
    }
    if (n->opt.monitor != NULL && out->up.n_apply > 0)
        monitor_report_applied(n->opt.monitor, raft_id(&r->raft), out->up.apply_first,
                               out->up.apply, out->up.n_apply);
}

/* One replica event carried out, then the owner's waiters that it satisfies. */
static void step_event(struct node *n, const struct replica_event *ev)
{
    host_step(&n->rep, &n->out, ev, &n->ports);
    n->held_steps = ev->raft.more ? n->held_steps + 1 : 0;
    if (n->became_leader && raft_role(&n->rep.raft) == RAFT_LEADER)
        answer_leader_waiters(n);
    n->became_leader = false;
    answer_applied_waiters(n);
}

static void step(struct node *n, const struct raft_event *ev)
{
    struct replica_event rev = {.type = REPLICA_EVENT_RAFT, .raft = *ev};
    step_event(n, &rev);
}

/* --- messages ------------------------------------------------------------------------------ */

/* Whether the step about to be taken may hold the leader's messages: more is queued, and the
 * run of held steps is not at its limit. */
static bool more_follow(struct node *n)
{
    return n->held_steps < NODE_HOLD_MAX && !actor_mailbox_empty(n->self);
}

static void on_raft_message(struct node *n, struct node_raft_msg *msg)
{
    const char *why = NULL;
    n->stats.msgs_received++;
    host_trace_message(NULL, "recv", &msg->m, msg->msg_id, NULL);
    if (raft_message_validate(&msg->m, raft_id(&n->rep.raft), n->opt.raft.max_nodes, &why) != 0) {
        n->stats.msgs_malformed++;
        trace_log(TRACE_INFO, NULL, "error", "drops a malformed message from node %u: %s",
                  msg->m.from, why);
        return;
    }
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE,
                            .now_ms = n->now_ms,
                            .receive = &msg->m,
                            .more = more_follow(n)};
    step(n, &ev);
}

static void on_request(struct node *n, struct node_request *req)
{
    struct replica_event ev = {
        .type = REPLICA_EVENT_REQUEST, .data = req->data, .len = req->len, .read = req->read};
    ev.raft.now_ms = n->now_ms;
    ev.raft.more = more_follow(n);
    /* Deferred now, answered by the replica's answer: at once, or when its entry applies. */
    ev.from.call = actor_defer(n->self, &req->hdr);
    step_event(n, &ev);
}

/* A membership change or a transfer, asked of this node as leader; answered at once. */
static void on_change(struct node *n, struct node_change_msg *q)
{
    struct raft_event ev = {.now_ms = n->now_ms};
    if (q->kind == NODE_CHANGE_TRANSFER) {
        ev.type = RAFT_EVENT_TRANSFER;
        ev.transfer_to = q->id;
    } else {
        ev.type = RAFT_EVENT_CHANGE;
        ev.change.op = q->kind == NODE_CHANGE_ADD ? RAFT_CHANGE_ADD : RAFT_CHANGE_REMOVE;
        ev.change.id = q->id;
    }
    step(n, &ev);
    struct node_change_reply *a =
        (struct node_change_reply *)actor_msg_new(sizeof *a, NODE_MSG_CHANGE);
    a->result = n->out.up.change;
    if (a->result.status == RAFT_CHANGE_NONE) { /* an unknown kind: the core refused the event */
        a->result.status = RAFT_CHANGE_REFUSED;
        a->result.why = RAFT_REFUSE_BAD_ID;
    }
    actor_reply(&q->hdr, &a->hdr);
}

static enum actor_next node_handle(struct actor *self, void *state, struct actor_msg *msg)
{
    struct node *n = state;
    n->now_ms = now_ms(n);
    switch (msg->type) {
    case NODE_MSG_RAFT:
        on_raft_message(n, (struct node_raft_msg *)msg);
        break;
    case NODE_MSG_REQUEST:
        on_request(n, (struct node_request *)msg);
        break;
    case NODE_MSG_TICK:
        n->wake_timer = 0;
        tick(n);
        break;
    case NODE_MSG_CAMPAIGN: {
        struct raft_event ev = {.type = RAFT_EVENT_CAMPAIGN, .now_ms = n->now_ms};
        step(n, &ev);
        break;
    }
    case NODE_MSG_SYNC:
        sync_writes(n);
        break;
    case ACTOR_MSG_ANSWER:
        if (((struct actor_answer *)msg)->tag == NODE_SYNC_TAG)
            sync_done(n, (struct actor_answer *)msg);
        break;
    case NODE_MSG_PEEK: {
        const struct node_peek_msg *q = (const struct node_peek_msg *)msg;
        const uint8_t *value = NULL;
        uint32_t len = 0;
        bool found = kv_store_get(&n->rep.store, q->data, q->len, &value, &len) == KV_OK;
        struct node_peek_msg *a =
            (struct node_peek_msg *)actor_msg_new(sizeof *a + (found ? len : 0), NODE_MSG_PEEK);
        a->found = found;
        a->len = found ? len : 0;
        if (a->len > 0)
            memcpy(a->data, value, a->len);
        actor_reply(msg, &a->hdr);
        break;
    }
    case NODE_MSG_STATUS:
        actor_reply(msg, status_reply(n));
        break;
    case NODE_MSG_CHANGE:
        on_change(n, (struct node_change_msg *)msg);
        break;
    case NODE_MSG_AWAIT_LEADER:
        if (raft_role(&n->rep.raft) == RAFT_LEADER) {
            actor_reply(msg, status_reply(n));
        } else if (actor_msg_is_call(msg)) {
            n->leader_waiters = xreallocarray(n->leader_waiters, n->n_leader_waiters + 1,
                                              sizeof *n->leader_waiters);
            n->leader_waiters[n->n_leader_waiters++] = actor_defer(self, msg);
        }
        break;
    case NODE_MSG_AWAIT_APPLIED: {
        uint64_t index = ((struct node_index_msg *)msg)->index;
        if (raft_last_applied(&n->rep.raft) >= index) {
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
    n->now_ms = now_ms(n);
    tick(n);
}

/* The mailbox ran dry: what steps held (raft_event.more) goes out with a TICK step, which does
 * nothing else unless a deadline has passed. */
static void node_idle(struct actor *self, void *state)
{
    (void)self;
    struct node *n = state;
    if (!raft_flush_held(&n->rep.raft))
        return;
    n->now_ms = now_ms(n);
    tick(n);
}

static void node_stop(struct actor *self, void *state)
{
    (void)self;
    struct node *n = state;
    /* Deferred calls (pending clients, waiters) are failed with ACTOR_ESTOPPED by the runtime
     * once this returns; only their bookkeeping is freed here. */
    free(n->leader_waiters);
    free(n->applied_waiters);
    actor_dir_view_close(&n->peers);
    host_network_close(&n->net);
    replica_output_close(&n->out);
    if (n->on_disk) {
        /* A crash: what was synced is on disk; the next start recovers it from the files. The
         * syncer ends first. */
        stop_syncer(n);
        replica_close(&n->rep);
        node_storage_close(&n->files);
    } else {
        replica_close_keep(&n->rep, n->opt.disk);
    }
    free(n);
}

/* Opens the node's files and starts the replica from what they hold. 0, or -1 with err. */
static int start_from_files(struct node *n, struct raft_options *ro, char *err, size_t err_len)
{
    struct raft_disk loaded;
    struct storage_report report;
    if (node_storage_open(&n->files, n->opt.data_dir, &n->opt.storage, &loaded, &report, err,
                          err_len) != 0)
        return -1;
    if (n->opt.recovered != NULL)
        *n->opt.recovered = report;
    ro->persist_sync = false; /* writes are durable at the sync that follows them */
    int rc = replica_init(&n->rep, ro, &loaded, now_ms(n));
    raft_disk_close(&loaded);
    if (rc != RAFT_OK) {
        snprintf(err, err_len, "%s: the recovered state cannot start a node: %s", n->opt.data_dir,
                 raft_strerror(rc));
        node_storage_close(&n->files);
        return -1;
    }
    char name[32];
    snprintf(name, sizeof name, "node %u sync", n->opt.raft.id);
    struct actor_spec spec = {.name = name, .handler = syncer_handle};
    if (actor_spawn(&spec, &n->syncer) != ACTOR_OK) {
        snprintf(err, err_len, "%s: cannot start the thread that syncs the files", n->opt.data_dir);
        replica_close(&n->rep);
        node_storage_close(&n->files);
        return -1;
    }
    n->sync_fd = -1;
    n->on_disk = true;
    return 0;
}

int node_spawn(const struct node_options *opt, struct actor **out, char *err, size_t err_len)
{
    struct node *n = xcalloc(1, sizeof *n);
    n->opt = *opt;
    struct raft_options ro = opt->raft;
    int rc;
    if (opt->data_dir != NULL) {
        if (start_from_files(n, &ro, err, err_len) != 0) {
            free(n);
            return NODE_ESTORAGE;
        }
    } else {
        /* The disk is the core's own memory (port_persist): every write is durable at once. */
        ro.persist_sync = true;
        rc = replica_init(&n->rep, &ro, opt->disk, now_ms(n));
        assert(rc == RAFT_OK); /* options are validated by the configuration */
        (void)rc;
    }
    replica_output_init(&n->out);
    n->ports = (struct host_ports){.ctx = n,
                                   .actor = NULL,
                                   .persist = port_persist,
                                   .send = port_send,
                                   .answer = port_answer,
                                   .arm = port_arm,
                                   .observe = port_observe,
                                   .memo = &n->memo};
    actor_dir_view_init(&n->peers, opt->peers);
    host_network_init(&n->net, opt->net, opt->net_seed, opt->raft.id, opt->raft.max_nodes,
                      opt->incarnation);
    n->transport = (struct host_transport){
        .ctx = n, .reachable = transport_reachable, .deliver = transport_deliver};
    char name[32];
    snprintf(name, sizeof name, "node %u", opt->raft.id);
    struct actor_spec spec = {.name = name,
                              .handler = node_handle,
                              .on_start = node_start,
                              .on_stop = node_stop,
                              .on_idle = node_idle,
                              .state = n};
    rc = actor_spawn(&spec, out);
    if (rc != ACTOR_OK) {
        if (n->on_disk)
            stop_syncer(n);
        replica_output_close(&n->out);
        replica_close(&n->rep);
        node_storage_close(&n->files);
        actor_dir_view_close(&n->peers);
        host_network_close(&n->net);
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

struct actor_msg *node_raft_msg_new(struct raft_message *m)
{
    return &wrap(m)->hdr;
}

struct raft_message *node_raft_msg_of(struct actor_msg *msg)
{
    assert(msg->type == NODE_MSG_RAFT);
    return &((struct node_raft_msg *)msg)->m;
}

struct actor_msg *node_request_new(const void *cmd, uint32_t len, enum kv_read_policy read)
{
    struct node_request *r =
        (struct node_request *)actor_msg_new(sizeof *r + len, NODE_MSG_REQUEST);
    r->read = read;
    r->len = len;
    memcpy(r->data, cmd, len);
    return &r->hdr;
}

struct actor_msg *node_change_new(enum node_change_kind kind, uint32_t id)
{
    struct node_change_msg *q = (struct node_change_msg *)actor_msg_new(sizeof *q, NODE_MSG_CHANGE);
    q->kind = kind;
    q->id = id;
    return &q->hdr;
}

int node_change(struct actor *node, enum node_change_kind kind, uint32_t id, uint32_t timeout_ms,
                struct raft_change_result *out)
{
    struct actor_msg *reply = NULL;
    int rc = actor_call(node, node_change_new(kind, id), timeout_ms, &reply);
    if (rc == ACTOR_OK) {
        *out = ((const struct node_change_reply *)reply)->result;
        actor_msg_free(reply);
    }
    return rc;
}

int node_peek(struct actor *node, const char *key, uint32_t timeout_ms, bool *found, char *value,
              size_t cap, size_t *len)
{
    size_t key_len = strlen(key);
    struct node_peek_msg *q =
        (struct node_peek_msg *)actor_msg_new(sizeof *q + key_len, NODE_MSG_PEEK);
    q->len = (uint32_t)key_len;
    memcpy(q->data, key, key_len);
    struct actor_msg *reply = NULL;
    int rc = actor_call(node, &q->hdr, timeout_ms, &reply);
    if (rc != ACTOR_OK)
        return rc;
    const struct node_peek_msg *a = (const struct node_peek_msg *)reply;
    *found = a->found;
    *len = a->len;
    if (cap > 0) {
        size_t n = a->len < cap ? a->len : cap;
        memcpy(value, a->data, n);
    }
    actor_msg_free(reply);
    return ACTOR_OK;
}
