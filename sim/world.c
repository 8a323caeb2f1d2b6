/* world.c - the simulated world: nodes, clients, the network and the disks as handlers of one
 * event queue. A node is a replica (replica/replica.h) stepped through the same action routine
 * as the threaded node (host/host.h), with this world's ports: a simulated disk, queued network
 * deliveries, queued client replies and queued ticks. A client steps the pure client logic.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/params.h"
#include "host/client_trace.h"
#include "common/alloc.h"
#include "actors/monitor.h"
#include "host/file_fs.h"
#include "host/host.h"
#include "host/node_storage.h"
#include "host/node_trace.h"
#include "runtime/trace.h"
#include "wire/wire.h"
#include "sim/internal.h"

/* --- invariants --------------------------------------------------------------------------- */

/* The term runs of node's log[from..to] into s->runs; returns how many. */
static size_t term_runs(struct sim *s, const struct raft *r, uint64_t from, uint64_t to)
{
    size_t n = raft_term_runs(&r->state.log, from, to, s->runs, s->cap_runs);
    if (n > s->cap_runs) {
        s->cap_runs = n;
        s->runs = xreallocarray(s->runs, s->cap_runs, sizeof *s->runs);
        n = raft_term_runs(&r->state.log, from, to, s->runs, s->cap_runs);
    }
    return n;
}

static void checked(struct sim *s, const char *who, enum raft_invariant found)
{
    s->inv_reports++;
    if (found == RAFT_INV_NONE || s->violated)
        return;
    s->violated = true;
    monitor_describe(&s->inv.first, s->violation, sizeof s->violation);
    trace_log(TRACE_INFO, who, "violation", "VIOLATION: %s", s->violation);
}

static void check_leader(struct sim *s, struct sim_node *n)
{
    if (!s->check_invariants)
        return;
    uint64_t first = raft_first_index(&n->rep.raft), last = raft_last_index(&n->rep.raft);
    size_t k = term_runs(s, &n->rep.raft, first, last);
    checked(
        s, n->name,
        raft_invariants_leader(&s->inv, n->id, raft_term(&n->rep.raft), s->runs, k, first, last));
}

static void check_commit(struct sim *s, struct sim_node *n, uint64_t from, uint64_t to)
{
    if (!s->check_invariants || from > to)
        return;
    size_t k = term_runs(s, &n->rep.raft, from, to);
    checked(s, n->name,
            raft_invariants_commit(&s->inv, n->id, raft_term(&n->rep.raft), from, to, s->runs, k));
}

/* Log matching at every step: each entry written this step (appended, or rewritten after a
 * truncation) is checked with the chain hash of the log up to it. */
static void check_written(struct sim *s, struct sim_node *n, const struct raft_persist *p)
{
    uint64_t from = p->seq != 0 ? p->truncate_from : 0;
    const struct raft_disk *disk = &s->disks[n->id - 1];
    const struct raft_log *log = &disk->log;
    uint64_t last = raft_log_last_index(log);
    if (!s->check_invariants || from == 0 || from > last)
        return;
    if (last + 1 > n->cap_chain) {
        uint64_t cap = n->cap_chain ? n->cap_chain : 256;
        while (cap < last + 1)
            cap *= 2;
        n->chain = xreallocarray(n->chain, cap, sizeof *n->chain);
        n->chain[0] = 0;
        n->cap_chain = cap;
    }
    if (from < raft_log_first_index(log)) {
        /* A snapshot from the leader replaced the log: the chain goes on from the snapshot's
         * last entry, as the node that wrote that entry had it. */
        const struct raft_snapshot *snap = &disk->snapshot;
        assert(raft_log_first_index(log) == snap->index + 1);
        if (!raft_invariants_chain_at(&s->inv, snap->index, snap->term, &n->chain[snap->index]))
            checked(s, n->name,
                    raft_invariants_written(&s->inv, n->id, snap->index, snap->term, 0));
        from = snap->index + 1;
    }
    for (uint64_t i = from; i <= last; i++) {
        const struct raft_entry *e = raft_log_get(log, i);
        n->chain[i] = raft_chain_hash(n->chain[i - 1], e);
        checked(s, n->name, raft_invariants_written(&s->inv, n->id, i, e->term, n->chain[i]));
    }
}

static void check_applied(struct sim *s, struct sim_node *n)
{
    if (!s->check_invariants)
        return;
    const struct raft_update *up = &n->out.up;
    for (size_t i = 0; i < up->n_apply; i++) {
        const struct raft_entry *e = &up->apply[i];
        checked(s, n->name,
                raft_invariants_applied(&s->inv, n->id, up->apply_first + i, e->term,
                                        raft_entry_hash(e)));
    }
}

/* --- clients ------------------------------------------------------------------------------ */

/* Delay of one client<->node hop: 0..1 ms, from the client's own stream (reliable link). */
static uint64_t client_hop_ms(struct sim_client *c)
{
    return prng_range(&c->net_rng, 0, 1);
}

/* Feeds ev to the client logic and performs the action it returns. */
static void client_feed(struct sim *s, struct sim_client *c, const struct client_event *ev)
{
    struct client_action act;
    int rc = client_step(&c->logic, ev, &act);
    assert(rc == 0); /* each event answers the action before it */
    (void)rc;
    for (size_t i = 0; i < act.n_records; i++) {
        sim_next_stamp(s); /* a completion, then the next invoke: two times, in that order */
        client_record_write(s->history, c->id, c->name, &act.records[i]);
    }
    switch (act.type) {
    case CLIENT_ACTION_SEND: {
        if (act.reason != CLIENT_SEND_FIRST)
            trace_log(TRACE_INFO, c->name, "client", "sends request #%llu to node %u%s",
                      (unsigned long long)c->logic.seq, act.node,
                      client_send_reason_text(act.reason));
        assert(act.node >= 1 && act.node <= s->n_nodes);
        c->token++;
        c->awaiting = true;
        c->node = act.node;
        struct sim_event *req = sim_event_new(SIM_EV_REQUEST, s->now_ms + client_hop_ms(c));
        req->node = act.node;
        req->client = c->id;
        req->token = c->token;
        /* As a wire frame, so the simulator exercises the client codec too. */
        struct wire_client_request wr = {.request_id = c->token,
                                         .command = act.request,
                                         .command_len = (uint32_t)act.request_len,
                                         .read = (uint8_t)act.read};
        req->len = wire_client_request_size(&wr);
        assert(req->len > 0); /* a command the client logic made always fits a frame */
        req->data = xmalloc(req->len);
        rc = wire_encode_client_request(&wr, req->data, req->len, &req->len);
        assert(rc == WIRE_OK);
        sim_queue_push(&s->q, req);
        struct sim_event *timeout =
            sim_event_new(SIM_EV_CLIENT_TIMEOUT, s->now_ms + act.timeout_ms);
        timeout->client = c->id;
        timeout->token = c->token;
        sim_queue_push(&s->q, timeout);
        break;
    }
    case CLIENT_ACTION_WAIT: {
        struct sim_event *wake = sim_event_new(SIM_EV_CLIENT_WAKE, s->now_ms + act.wait_ms);
        wake->client = c->id;
        sim_queue_push(&s->q, wake);
        break;
    }
    case CLIENT_ACTION_DONE:
        assert(!c->done);
        c->done = true;
        s->clients_done++;
        trace_log(TRACE_INFO, c->name, "client", "done: %llu ok, %llu fail, %llu info",
                  (unsigned long long)c->logic.stats.ok, (unsigned long long)c->logic.stats.fail,
                  (unsigned long long)c->logic.stats.info);
        if (s->clients_done == s->n_clients)
            scenario_clients_done(&s->scenario); /* the nemesis stops, as in a threaded run */
        break;
    }
}

static void client_start(struct sim *s, struct sim_client *c, uint32_t leader)
{
    const struct cfg *cfg = s->cfg;
    struct client_options o = {
        .id = c->id,
        .n_nodes = s->n_nodes,
        .first_node = leader,
        .requests = cfg->client.requests,
        .keys = (const char *const *)cfg->client.keys.items,
        .n_keys = cfg->client.keys.len,
        .value_size = cfg->client.value_size,
        .seed = prng_derive(cfg->seed, SCENARIO_CLIENT_STREAM + c->id),
        .timeout_ms = cfg->client.timeout_ms,
        .request_deadline_ms = (uint32_t)s->request_deadline_ms,
        .backoff_ms_min = 5,
        .backoff_ms_max = cfg->raft.election_timeout_ms_max,
        .keep_outcomes = scenario_keep_outcomes(cfg),
    };
    scenario_client_mix(cfg, &o);
    int rc = client_init(&c->logic, &o);
    assert(rc == 0); /* options come from a validated configuration */
    (void)rc;
    c->started = true;
    struct sim_event *ev = sim_event_new(SIM_EV_CLIENT_START, s->now_ms);
    ev->client = c->id;
    sim_queue_push(&s->q, ev);
}

/* The first leader is known: the clients start, then the faults (as cluster_run does). */
static void on_first_leader(struct sim *s, uint32_t leader)
{
    s->first_leader = leader;
    s->first_leader_ms = s->now_ms;
    trace_log(TRACE_INFO, "main", "leader", "node %u leads term %llu; starting %u client%s", leader,
              (unsigned long long)raft_term(&s->nodes[leader - 1].rep.raft), s->n_clients,
              s->n_clients == 1 ? "" : "s");
    for (uint32_t i = 0; i < s->n_clients; i++)
        client_start(s, &s->clients[i], leader);
    sim_faults_start(s);
}

/* A node answers client `client`'s attempt `token` (the reply travels back reliably). */
static void reply_to(struct sim *s, uint32_t node, uint32_t client, uint64_t token,
                     enum client_reply_status status, uint32_t hint, const uint8_t *result,
                     size_t result_len)
{
    assert(client >= 1 && client <= s->n_clients);
    struct sim_client *c = &s->clients[client - 1];
    struct sim_event *ev = sim_event_new(SIM_EV_REPLY, s->now_ms + client_hop_ms(c));
    ev->client = client;
    ev->node = node;
    ev->token = token;
    /* As a wire frame (the client decodes it), so the simulator exercises the codec. */
    struct wire_client_reply wr = {.status = (enum wire_reply_status)status,
                                   .leader_hint = hint,
                                   .request_id = token,
                                   .result = result,
                                   .result_len = (uint32_t)result_len};
    ev->len = wire_client_reply_size(&wr);
    assert(ev->len > 0);
    ev->data = xmalloc(ev->len);
    int rc = wire_encode_client_reply(&wr, ev->data, ev->len, &ev->len);
    assert(rc == WIRE_OK);
    (void)rc;
    sim_queue_push(&s->q, ev);
}

/* --- nodes -------------------------------------------------------------------------------- */

/* One copy of a message onto the queue, after delay_ms, as the bytes of a wire frame (so every
 * simulated delivery exercises the codec); takes m's entries. A link that keeps its order also
 * keeps it among deliveries due in the same millisecond. */
static void enqueue_delivery(struct sim *s, struct sim_node *n, struct raft_message *m,
                             uint32_t delay_ms, uint64_t msg_id)
{
    struct sim_event *ev = sim_event_new(SIM_EV_DELIVER, s->now_ms + delay_ms);
    ev->node = m->to;
    ev->token = msg_id; /* the message's trace id */
    size_t size = wire_raft_message_size(m);
    assert(size > 0); /* the core sends nothing the codec cannot carry */
    ev->data = xmalloc(size);
    int rc = wire_encode_raft_message(m, ev->data, size, &ev->len);
    assert(rc == WIRE_OK && ev->len == size);
    (void)rc;
    raft_message_free(m);
    if (!s->cfg->network.reorder) {
        uint64_t tie = sim_queue_draw_tie(&s->q);
        uint32_t to = m->to - 1;
        if (ev->at_ms == n->link_last_ms[to] && tie <= n->link_tie[to])
            tie = n->link_tie[to] + 1;
        if (ev->at_ms >= n->link_last_ms[to]) {
            n->link_last_ms[to] = ev->at_ms;
            n->link_tie[to] = tie;
        }
        ev->tie = tie;
        ev->own_tie = true;
    }
    sim_queue_push(&s->q, ev);
}

/* Clock port: a TICK no later than want. As in the threaded node, a tick already armed for no
 * later than that stays (an early tick only lets the core see the time); a later one is made
 * stale by the generation and a new one queued. */
static void arm_wake(struct sim *s, struct sim_node *n, uint64_t want)
{
    if (n->wake_armed && n->wake_ms <= want)
        return;
    n->wake_gen++; /* any TICK already queued is stale now */
    n->wake_armed = true;
    n->wake_ms = want;
    struct sim_event *ev = sim_event_new(SIM_EV_TICK, want > s->now_ms ? want : s->now_ms);
    ev->node = n->id;
    ev->token = n->wake_gen;
    sim_queue_push(&s->q, ev);
}

static void node_step(struct sim *s, struct sim_node *n, const struct raft_event *ev);

/* --- the disk ----------------------------------------------------------------------------- */

/* The request is written: the model applies it, and log matching is checked on what it wrote. */
static void disk_write(struct sim *s, struct sim_node *n, const struct raft_persist *p)
{
    raft_disk_apply(&s->disks[n->id - 1], p);
    check_written(s, n, p);
}

/* True with probability p (0..1), drawn from rng. */
static bool chance(struct prng *rng, double p)
{
    return p > 0 && (double)(prng_next(rng) >> 11) * 0x1.0p-53 < p;
}

static const char *disk_dir(const struct sim_node *n)
{
    return n->name; /* "node 3": error messages read "node 3/wal-...: offset N: problem" */
}

/* The node's storage failed (a write or a sync): it stops once the step under way is over, and
 * restarts later from what its disk kept (an operator's restart of a process that exited). */
static void disk_failed(struct sim *s, struct sim_node *n, const struct storage_error *err)
{
    char why[512];
    file_fs_format_error(why, sizeof why, disk_dir(n), err);
    trace_log(TRACE_INFO, n->name, "disk", "stops: %s (never retried)", why);
    n->failed = true;
    struct sim_event *ev = sim_event_new(SIM_EV_DISK_FAILED, s->now_ms);
    ev->node = n->id;
    ev->token = n->incarnations;
    sim_queue_push(&s->q, ev);
}

/* Everything written so far is durable: what a restart must give back. */
static void mark_durable(struct sim *s, struct sim_node *n)
{
    const struct raft_disk *d = &s->disks[n->id - 1];
    uint64_t last = raft_log_last_index(&d->log);
    n->durable_last = last > d->snapshot.index ? last : d->snapshot.index;
    n->durable_term = d->current_term;
    n->durable_vote = d->voted_for;
}

/* Syncs what was written; false if the sync failed (the node stops). */
static bool disk_sync(struct sim *s, struct sim_node *n)
{
    struct storage_error err;
    if (chance(&n->disk_rng, s->cfg->disk.sync_error))
        simfs_fail_next_sync(n->fs);
    if (storage_sync(&n->st, &err) != 0) {
        disk_failed(s, n, &err);
        return false;
    }
    mark_durable(s, n);
    n->synced_seq = n->written_seq;
    return true;
}

/* A persist request of the step just taken, written through the storage at once and applied to
 * the model; durable at once with a [0, 0] disk (true), else synced by a DISK_DONE after a random
 * time (false), together with every write made until then. */
static bool disk_submit(struct sim *s, struct sim_node *n, const struct raft_persist *p)
{
    const struct cfg_disk *d = &s->cfg->disk;
    if (p->seq == 0 || n->failed)
        return false;
    /* A truncation is durable before the request returns (storage.h): the entries it removes
     * need not come back. */
    if (p->truncate_from != 0 && p->truncate_from <= n->durable_last)
        n->durable_last = p->truncate_from - 1;
    struct storage_error err;
    int rc = storage_write(&n->st, p, &err);
    disk_write(s, n, p);
    if (rc != 0) {
        disk_failed(s, n, &err);
        return false;
    }
    if (p->snapshot != NULL && p->snapshot->index > n->durable_last)
        n->durable_last = p->snapshot->index; /* synced before storage_write returned */
    n->written_seq = p->seq;
    if (d->write_ms_max == 0)
        return disk_sync(s, n);
    if (!n->sync_armed) {
        n->sync_armed = true;
        struct sim_event *ev =
            sim_event_new(SIM_EV_DISK_DONE,
                          s->now_ms + prng_range(&n->disk_rng, d->write_ms_min, d->write_ms_max));
        ev->node = n->id;
        ev->token = n->incarnations;
        sim_queue_push(&s->q, ev);
    }
    return false;
}

/* SIM_EV_DISK_DONE: one sync makes every write so far durable; the core hears of it. */
static void disk_done(struct sim *s, struct sim_node *n)
{
    n->sync_armed = false;
    if (n->failed || n->written_seq == n->synced_seq || !disk_sync(s, n))
        return;
    struct raft_event ev = {
        .type = RAFT_EVENT_PERSISTED, .now_ms = s->now_ms, .persisted_seq = n->synced_seq};
    node_step(s, n, &ev);
}

/* --- a node's ports for the action routine (host/host.h) ---------------------------------- */

struct node_ctx {
    struct sim *s;
    struct sim_node *n;
};

static bool port_persist(void *ctx, const struct raft_persist *p)
{
    struct node_ctx *c = ctx;
    return disk_submit(c->s, c->n, p);
}

static bool transport_reachable(void *ctx, uint32_t to)
{
    struct node_ctx *c = ctx;
    return c->s->nodes[to - 1].up;
}

static void transport_deliver(void *ctx, struct raft_message *m, uint32_t delay_ms, uint64_t msg_id)
{
    struct node_ctx *c = ctx;
    enqueue_delivery(c->s, c->n, m, delay_ms, msg_id);
}

/* Transport port: through the emulated network onto the event queue. */
static void port_send(void *ctx, struct raft_message *m)
{
    struct node_ctx *c = ctx;
    struct host_transport t = {
        .ctx = ctx, .reachable = transport_reachable, .deliver = transport_deliver};
    host_network_send(&c->n->net, &t, m, c->s->now_ms, &c->n->stats, c->n->name);
}

static void port_answer(void *ctx, const struct replica_answer *a)
{
    struct node_ctx *c = ctx;
    reply_to(c->s, c->n->id, a->to.client, a->to.token, a->status, a->leader_hint, a->result,
             a->result_len);
}

static void port_arm(void *ctx, uint64_t want)
{
    struct node_ctx *c = ctx;
    arm_wake(c->s, c->n, want);
}

/* Observer: counters, and every invariant checked at every step. */
static void port_observe(void *ctx, const struct replica *r, const struct replica_output *out)
{
    struct node_ctx *c = ctx;
    struct sim *s = c->s;
    struct sim_node *n = c->n;
    bool leading = raft_role(&r->raft) == RAFT_LEADER;
    if (out->request.fate == REPLICA_REQUEST_APPENDED)
        n->stats.proposals++;
    if (out->became_leader)
        check_leader(s, n);
    for (size_t i = 0; i < out->up.n_notes; i++) {
        const struct raft_note *note = &out->up.notes[i];
        if (note->kind == RAFT_NOTE_COMMIT_ADVANCED && leading)
            check_commit(s, n, note->a + 1, note->b);
        if (note->kind == RAFT_NOTE_ELECTION_START && !note->pre_vote)
            n->stats.elections++;
        n->stats.snapshots_taken += note->kind == RAFT_NOTE_SNAPSHOT_TAKEN;
        n->stats.snapshots_installed += note->kind == RAFT_NOTE_SNAPSHOT_INSTALLED;
    }
    if (out->up.n_apply > 0)
        check_applied(s, n);
    if (out->became_leader && s->first_leader == 0)
        s->pending_first_leader = n->id;
}

/* True if the next event queued is a message or a request for node id at this same instant: a
 * step of id may then hold the leader's messages for it (raft_event.more), as the actor host
 * does while its mailbox is not empty. */
static bool more_follow(const struct sim *s, uint32_t id)
{
    const struct sim_event *next = sim_queue_peek(&s->q);
    return next != NULL && next->at_ms == s->now_ms && next->node == id &&
           (next->type == SIM_EV_DELIVER || next->type == SIM_EV_REQUEST);
}

/* One replica event of node n, carried out by the action routine; the first leader known
 * starts the clients and the faults once the step is done. */
static void node_event(struct sim *s, struct sim_node *n, const struct replica_event *ev)
{
    struct node_ctx ctx = {s, n};
    struct host_ports ports = {.ctx = &ctx,
                               .actor = n->name,
                               .persist = port_persist,
                               .send = port_send,
                               .answer = port_answer,
                               .arm = port_arm,
                               .observe = port_observe,
                               .memo = &n->memo};
    host_step(&n->rep, &n->out, ev, &ports);
    if (s->pending_first_leader != 0 && s->first_leader == 0) {
        uint32_t leader = s->pending_first_leader;
        s->pending_first_leader = 0;
        on_first_leader(s, leader);
    }
}

static void node_step(struct sim *s, struct sim_node *n, const struct raft_event *ev)
{
    struct replica_event rev = {.type = REPLICA_EVENT_RAFT, .raft = *ev};
    node_event(s, n, &rev);
}

static void node_receive(struct sim *s, struct sim_node *n, const struct raft_message *m,
                         uint64_t msg_id)
{
    const char *why = NULL;
    host_trace_message(n->name, "recv", m, msg_id, NULL);
    n->stats.msgs_received++;
    s->delivered++;
    if (m->type == RAFT_MSG_APPEND_ENTRIES)
        s->entries_delivered += m->append_entries.n_entries;
    if (m->type == RAFT_MSG_APPEND_ENTRIES_REPLY && !m->append_entries_reply.success)
        s->appends_rejected++;
    if (raft_message_validate(m, n->id, s->n_nodes, &why) != 0) {
        n->stats.msgs_malformed++;
        trace_log(TRACE_INFO, n->name, "error", "drops a malformed message from node %u: %s",
                  m->from, why);
        return;
    }
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE,
                            .now_ms = s->now_ms,
                            .receive = m,
                            .more = more_follow(s, n->id)};
    node_step(s, n, &ev);
}

/* A client's request arrives at node n as a wire frame: decoded, then stepped. A frame that does
 * not decode is dropped (the client's timeout fires; the simulator never makes one). */
static void node_request(struct sim *s, struct sim_node *n, const struct sim_event *req)
{
    struct wire_frame f;
    size_t used = 0;
    int rc = wire_decode(req->data, req->len, &f, &used, NULL);
    if (rc != WIRE_OK || used != req->len || f.kind != WIRE_KIND_CLIENT_REQUEST) {
        n->stats.msgs_malformed++;
        trace_log(TRACE_INFO, n->name, "error", "drops a request that does not decode: %s",
                  rc != WIRE_OK ? wire_strerror(rc) : "not one client request");
        if (rc == WIRE_OK)
            wire_frame_free(&f);
        return;
    }
    struct replica_event ev = {.type = REPLICA_EVENT_REQUEST,
                               .data = f.client_request.command,
                               .len = f.client_request.command_len,
                               .read = (enum kv_read_policy)f.client_request.read,
                               .from = {.client = req->client, .token = req->token}};
    ev.raft.now_ms = s->now_ms;
    ev.raft.more = more_follow(s, n->id);
    node_event(s, n, &ev);
    wire_frame_free(&f);
}

/* Damage at rest on a damaged node's disk, drawn at its restart (the storage reads its files
 * only when it starts, so damage done while it ran shows first here): a bit flipped in a synced
 * record or snapshot, or the last log record found written over older records, its own place
 * zeros. Aimed only where the storage can tell damage from a torn write: never at the last
 * record of the newest segment, which a crash may have torn (docs/storage.md). st is open.
 * True if it damaged anything. */
static bool damage_at_rest(struct sim *s, struct sim_node *n)
{
    const struct cfg_disk *d = &s->cfg->disk;
    bool damaged = false;
    /* (the last of the initial nodes: spare ids that join later keep sound disks) */
    if (n->id + d->damaged_nodes <= s->cfg->num_nodes || n->id > s->cfg->num_nodes ||
        n->incarnations == 0)
        return false;
    const struct storage_segment *segs;
    size_t n_segs = storage_segments(&n->st, &segs);
    uint64_t records = 0;
    for (size_t k = 0; k < n_segs; k++)
        records += segs[k].n;
    if (chance(&n->disk_rng, d->bit_flip) && records >= 2) {
        uint64_t r = prng_range(&n->disk_rng, 0, records - 2); /* not the very last */
        size_t k = 0;
        while (r >= segs[k].n)
            r -= segs[k++].n;
        uint64_t from = segs[k].offsets[r];
        uint64_t to = r + 1 < segs[k].n ? segs[k].offsets[r + 1] : segs[k].end;
        uint64_t at = prng_range(&n->disk_rng, from, to - 1);
        unsigned bit = (unsigned)prng_range(&n->disk_rng, 0, 7);
        damaged = simfs_flip_bit(n->fs, segs[k].name, at, bit) == 0;
        if (damaged)
            trace_log(TRACE_INFO, n->name, "disk", "fault: bit %u of %s at offset %llu flipped",
                      bit, segs[k].name, (unsigned long long)at);
    }
    if (n_segs > 0 && chance(&n->disk_rng, d->misdirect)) {
        const struct storage_segment *seg = &segs[n_segs - 1];
        if (seg->n >= 3) { /* the last record lands on the records before the one before it */
            uint64_t from = seg->offsets[seg->n - 1], len = seg->end - from;
            uint64_t limit = seg->offsets[seg->n - 2];
            if (limit >= seg->offsets[0] + len) {
                uint64_t to = prng_range(&n->disk_rng, seg->offsets[0], limit - len);
                if (simfs_misplace(n->fs, seg->name, from, len, to) == 0) {
                    damaged = true;
                    trace_log(TRACE_INFO, n->name, "disk",
                              "fault: the write of %s at offset %llu (%llu bytes) had landed at "
                              "offset %llu",
                              seg->name, (unsigned long long)from, (unsigned long long)len,
                              (unsigned long long)to);
                }
            }
        }
    }
    return damaged;
}

/* Opens node n's disk: the durable state to start from in *loaded, or false with n refused. */
static bool disk_open(struct sim *s, struct sim_node *n, struct raft_disk *loaded,
                      struct storage_report *report)
{
    struct storage_fs port;
    simfs_port(n->fs, &port);
    struct storage_options so;
    storage_options_default(&so, n->id);
    so.segment_bytes = s->cfg->storage.segment_bytes;
#ifdef RAFT_PLANTED_BUGS
    so.planted_bugs = s->opt.planted_bugs;
#endif
    struct storage_error err;
    int rc = storage_open(&n->st, &port, &so, loaded, report, &err);
    if (rc == 0 && damage_at_rest(s, n)) { /* read the disk again, as the restart would */
        storage_close(&n->st);
        raft_disk_close(loaded);
        rc = storage_open(&n->st, &port, &so, loaded, report, &err);
    }
    if (rc == 0)
        return true;
    n->refused = true;
    file_fs_format_error(n->refused_why, sizeof n->refused_why, disk_dir(n), &err);
    trace_log(TRACE_INFO, n->name, "disk", "refuses to start: %s", n->refused_why);
    return false;
}

static bool same_entry(const struct raft_entry *a, const struct raft_entry *b)
{
    return a->term == b->term && a->type == b->type && a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* What the disk gave back at a start must hold everything made durable before: the model's
 * entries up to durable_last (in the log loaded, or in its snapshot), the term and the vote. A
 * loss is a violation: it is what lets a voter forget what it acknowledged. Returns the first
 * index of the loaded log that differs from the model's (past its last if none): log matching's
 * chain is computed afresh from there. */
static uint64_t check_durable(struct sim *s, struct sim_node *n, const struct raft_disk *loaded)
{
    const struct raft_disk *model = &s->disks[n->id - 1];
    char what[256] = "";
    if (loaded->current_term < n->durable_term ||
        (loaded->current_term == n->durable_term && n->durable_vote != 0 &&
         loaded->voted_for != n->durable_vote))
        snprintf(what, sizeof what, "term %llu vote %u, after term %llu vote %u were durable",
                 (unsigned long long)loaded->current_term, loaded->voted_for,
                 (unsigned long long)n->durable_term, n->durable_vote);
    uint64_t i = raft_log_first_index(&loaded->log), last = raft_log_last_index(&loaded->log);
    while (i <= last) {
        const struct raft_entry *want = raft_log_get(&model->log, i);
        if (want == NULL || !same_entry(raft_log_get(&loaded->log, i), want))
            break;
        i++;
    }
    uint64_t durable_from = loaded->snapshot.index + 1;
    if (what[0] == '\0' && i <= n->durable_last && n->durable_last >= durable_from) {
        if (i > last)
            snprintf(what, sizeof what, "entry %llu is missing, though it was durable",
                     (unsigned long long)i);
        else if (raft_log_get(&model->log, i) != NULL)
            snprintf(what, sizeof what, "entry %llu differs from the one made durable",
                     (unsigned long long)i);
    }
    if (what[0] == '\0' || s->violated)
        return i;
    s->violated = true;
    snprintf(s->violation, sizeof s->violation, "durability violated: %s restarted with %s",
             n->name, what);
    trace_log(TRACE_INFO, n->name, "violation", "%s", s->violation);
    return i;
}

void sim_node_start(struct sim *s, uint32_t id)
{
    assert(id >= 1 && id <= s->n_nodes);
    struct sim_node *n = &s->nodes[id - 1];
    if (n->up)
        return; /* already restarted after its storage failed */
    if (n->refused) {
        trace_log(TRACE_INFO, n->name, "disk", "stays down: its disk refused to start");
        return;
    }
    const struct cfg *cfg = s->cfg;
    struct raft_disk loaded;
    struct storage_report report;
    if (!disk_open(s, n, &loaded, &report))
        return;
    if (n->incarnations > 0) {
        char what[512];
        node_storage_describe(&report, what, sizeof what);
        trace_log(TRACE_INFO, n->name, "disk", "restarts from its disk: %s", what);
    }
    uint64_t differs = check_durable(s, n, &loaded);
    raft_disk_close(&s->disks[id - 1]);
    s->disks[id - 1] = loaded;
    /* Log matching goes on from the log loaded: past what was durable it may hold entries the
     * model had replaced (a truncation whose sync failed), so its chain is computed afresh
     * from the first entry that differs. */
    struct raft_persist reread = {.seq = 1, .truncate_from = differs};
    check_written(s, n, &reread);
    n->written_seq = n->synced_seq = 0;
    n->failed = false;
    n->sync_armed = false;
    struct raft_options o;
    scenario_raft_options(cfg, id, n->incarnations, &o);
#ifdef RAFT_PLANTED_BUGS
    o.planted_bugs = s->opt.planted_bugs;
#endif
    int rc = replica_init(&n->rep, &o, &s->disks[id - 1], s->now_ms);
    assert(rc == RAFT_OK); /* options are validated by the configuration */
    (void)rc;
    host_network_close(&n->net);
    host_network_init(&n->net, s->net, prng_derive(cfg->seed, SCENARIO_NET_STREAM + id), id,
                      s->n_nodes, n->incarnations);
    n->memo.valid = false; /* a restarted node's state is traced afresh */
    memset(n->link_last_ms, 0, s->n_nodes * sizeof *n->link_last_ms);
    memset(n->link_tie, 0, s->n_nodes * sizeof *n->link_tie);
    n->wake_armed = false;
    n->up = true;
    n->incarnations++;
    /* Arm the first election timeout, as actors/node.c does when its actor starts. */
    struct raft_event ev = {.type = RAFT_EVENT_TICK, .now_ms = s->now_ms};
    node_step(s, n, &ev);
}

void sim_node_crash(struct sim *s, uint32_t id)
{
    assert(id >= 1 && id <= s->n_nodes);
    struct sim_node *n = &s->nodes[id - 1];
    if (!n->up)
        return; /* stopped already, its storage having failed */
    n->up = false;
    n->wake_gen++;
    n->wake_armed = false;
    replica_close(&n->rep); /* its clients hear nothing: their timeouts fire */
    storage_close(&n->st);
    simfs_crash(n->fs, &n->disk_rng, s->cfg->disk.torn_writes);
}

/* SIM_EV_DISK_FAILED: the node whose storage failed stops, and restarts 100..1000 ms later. */
static void disk_failed_stop(struct sim *s, struct sim_node *n)
{
    sim_node_crash(s, n->id);
    struct sim_event *ev =
        sim_event_new(SIM_EV_RESTART, s->now_ms + prng_range(&n->disk_rng, 100, 1000));
    ev->node = n->id;
    ev->token = n->incarnations;
    sim_queue_push(&s->q, ev);
}

/* A wire frame arrives at node n: decoded, then received; a frame that does not decode to one
 * whole Raft message is dropped and counted as malformed (the simulator never makes one). */
static void node_deliver_frame(struct sim *s, struct sim_node *n, const uint8_t *data, size_t len,
                               uint64_t msg_id)
{
    struct wire_frame f;
    size_t used = 0;
    int rc = wire_decode(data, len, &f, &used, NULL);
    if (rc != WIRE_OK || used != len || f.kind != WIRE_KIND_RAFT_MESSAGE) {
        n->stats.msgs_malformed++;
        trace_log(TRACE_INFO, n->name, "error", "drops a frame that does not decode: %s",
                  rc != WIRE_OK ? wire_strerror(rc) : "not one Raft message");
        if (rc == WIRE_OK)
            wire_frame_free(&f);
        return;
    }
    node_receive(s, n, &f.raft, msg_id);
    wire_frame_free(&f);
}

/* --- the event loop ----------------------------------------------------------------------- */

static void client_event(struct sim *s, const struct sim_event *ev)
{
    assert(ev->client >= 1 && ev->client <= s->n_clients);
    struct sim_client *c = &s->clients[ev->client - 1];
    struct client_event ce = {.now_ms = s->now_ms};
    struct wire_frame reply;
    size_t used = 0;
    bool decoded = false;
    switch (ev->type) {
    case SIM_EV_CLIENT_START:
        ce.type = CLIENT_EVENT_START;
        break;
    case SIM_EV_CLIENT_WAKE:
        ce.type = CLIENT_EVENT_WAKE;
        break;
    case SIM_EV_CLIENT_TIMEOUT:
        if (!c->awaiting || ev->token != c->token)
            return; /* answered already */
        c->awaiting = false;
        trace_log(TRACE_INFO, c->name, "client", "no answer from node %u: timed out", c->node);
        ce.type = CLIENT_EVENT_NO_ANSWER;
        break;
    case SIM_EV_REPLY:
        if (!c->awaiting || ev->token != c->token)
            return; /* a late answer to an attempt that timed out */
        if (wire_decode(ev->data, ev->len, &reply, &used, NULL) != WIRE_OK ||
            reply.kind != WIRE_KIND_CLIENT_REPLY || used != ev->len ||
            reply.client_reply.request_id != ev->token) {
            if (used != 0)
                wire_frame_free(&reply);
            trace_log(TRACE_INFO, c->name, "error", "drops a reply that does not decode");
            return; /* its timeout fires (the simulator never makes such a reply) */
        }
        c->awaiting = false;
        ce.type = CLIENT_EVENT_REPLY;
        ce.status = (enum client_reply_status)reply.client_reply.status;
        ce.leader_hint = reply.client_reply.leader_hint;
        ce.result = reply.client_reply.result;
        ce.result_len = reply.client_reply.result_len;
        decoded = true;
        break;
    default:
        assert(0 && "not a client event");
        return;
    }
    client_feed(s, c, &ce);
    if (decoded)
        wire_frame_free(&reply);
}

bool sim_step(struct sim *s)
{
    struct sim_event *ev = sim_queue_pop(&s->q);
    if (ev == NULL)
        return false;
    assert(ev->at_ms >= s->now_ms); /* virtual time never goes back */
    s->now_ms = ev->at_ms;
    s->events++;
    sim_next_stamp(s);
    struct sim_node *n = ev->node >= 1 && ev->node <= s->n_nodes ? &s->nodes[ev->node - 1] : NULL;
    switch (ev->type) {
    case SIM_EV_TICK:
        if (n->up && ev->token == n->wake_gen) {
            n->wake_armed = false;
            struct raft_event re = {.type = RAFT_EVENT_TICK, .now_ms = s->now_ms};
            node_step(s, n, &re);
        }
        break;
    case SIM_EV_CAMPAIGN:
        if (n->up) {
            struct raft_event re = {.type = RAFT_EVENT_CAMPAIGN, .now_ms = s->now_ms};
            node_step(s, n, &re);
        }
        break;
    case SIM_EV_DELIVER:
        if (n->up) /* a message to a crashed node is lost */
            node_deliver_frame(s, n, ev->data, ev->len, ev->token);
        break;
    case SIM_EV_REQUEST:
        if (n->up)
            node_request(s, n, ev); /* lost at a crashed node: the client times out */
        break;
    case SIM_EV_REPLY:
    case SIM_EV_CLIENT_TIMEOUT:
    case SIM_EV_CLIENT_WAKE:
    case SIM_EV_CLIENT_START:
        client_event(s, ev);
        break;
    case SIM_EV_FAULT:
        sim_faults_run_due(s);
        break;
    case SIM_EV_DISK_DONE:
        if (n->up && ev->token == n->incarnations)
            disk_done(s, n);
        break;
    case SIM_EV_DISK_FAILED:
        if (n->up && ev->token == n->incarnations)
            disk_failed_stop(s, n);
        break;
    case SIM_EV_RESTART:
        if (!n->up && ev->token == n->incarnations)
            sim_node_start(s, n->id);
        break;
    }
    sim_retire_removed(s);
    /* What the node held goes out once no step of it follows at this instant (the actor host's
     * on_idle): a TICK step, which does nothing else unless a deadline has passed. */
    if (n != NULL && n->up && raft_flush_held(&n->rep.raft) && !more_follow(s, n->id)) {
        struct raft_event re = {.type = RAFT_EVENT_TICK, .now_ms = s->now_ms};
        node_step(s, n, &re);
    }
    sim_event_free(ev);
    return true;
}

/* --- the world's life --------------------------------------------------------------------- */

void sim_next_stamp(struct sim *s)
{
    uint64_t floor_ns = s->now_ms * UINT64_C(1000000);
    s->stamp_ns = s->stamp_ns + 1 > floor_ns ? s->stamp_ns + 1 : floor_ns;
}

/* The trace's and the history's clock: the current stamp (reading it does not move it, so the
 * trace level changes no time). */
static uint64_t virtual_ns(void *ctx)
{
    const struct sim *s = ctx;
    return s->stamp_ns;
}

void sim_options_default(struct sim_options *o)
{
    *o = (struct sim_options){.check_results = true, .shrink_dir = NULL, .max_events = 0};
}

struct sim *sim_new(const struct cfg *cfg, const struct sim_options *opt)
{
    struct sim *s = xcalloc(1, sizeof *s);
    s->cfg = cfg;
    if (opt != NULL)
        s->opt = *opt;
    else
        sim_options_default(&s->opt);
    s->max_events = s->opt.max_events != 0 ? s->opt.max_events : SIM_MAX_EVENTS;
    s->n_nodes = cfg_max_nodes(cfg);
    raft_config_initial(&s->initial, cfg->num_nodes);
    s->n_clients = cfg->num_clients;
    sim_queue_init(&s->q, prng_derive(cfg->seed, SIM_QUEUE_STREAM));
    s->disks = xcalloc(s->n_nodes, sizeof *s->disks);
    s->nodes = xcalloc(s->n_nodes, sizeof *s->nodes);
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        struct sim_node *n = &s->nodes[i];
        raft_disk_init(&s->disks[i]);
        n->fs = simfs_new();
        prng_seed(&n->disk_rng, prng_derive(cfg->seed, SIM_DISK_STREAM + i + 1));
        n->id = i + 1;
        snprintf(n->name, sizeof n->name, "node %u", i + 1);
        replica_output_init(&n->out);
        n->link_last_ms = xcalloc(s->n_nodes, sizeof *n->link_last_ms);
        n->link_tie = xcalloc(s->n_nodes, sizeof *n->link_tie);
    }
    s->clients = xcalloc(s->n_clients ? s->n_clients : 1, sizeof *s->clients);
    for (uint32_t i = 0; i < s->n_clients; i++) {
        struct sim_client *c = &s->clients[i];
        c->id = i + 1;
        snprintf(c->name, sizeof c->name, "client %u", i + 1);
        prng_seed(&c->net_rng, prng_derive(cfg->seed, SIM_CLIENT_NET_STREAM + i + 1));
    }
    /* A request gives up after trying for this long, so a client always finishes (as in
     * cluster/cluster.c). */
    s->request_deadline_ms = scenario_request_deadline_ms(cfg);
    struct netem_options no;
    host_netem_options(cfg, &no);
    s->net = netem_new(s->n_nodes, &no);
    s->check_invariants = cfg->check.invariants;
    raft_invariants_init(&s->inv);
    sim_faults_init(s);
    /* Virtual time in the trace; the first line (time zero) is this one. */
    trace_set_clock(virtual_ns, s);
    trace_log(TRACE_INFO, "sim", "start", "simulating %u node%s and %u client%s, seed %llu",
              s->n_nodes, s->n_nodes == 1 ? "" : "s", s->n_clients, s->n_clients == 1 ? "" : "s",
              (unsigned long long)cfg->seed);
    for (uint32_t id = 1; id <= s->n_nodes; id++)
        sim_node_start(s, id);
    /* Node 1 campaigns first, as in a threaded run. */
    struct sim_event *ev = sim_event_new(SIM_EV_CAMPAIGN, 0);
    ev->node = 1;
    sim_queue_push(&s->q, ev);
    return s;
}

/* Attaches the history sink (before any client starts) and stamps it with virtual time. */
void sim_attach_history(struct sim *s, struct history *h)
{
    assert(s->clients_done == 0 && s->first_leader == 0);
    s->history = h;
    history_set_clock(h, virtual_ns, s);
}

void sim_free(struct sim *s)
{
    if (s == NULL)
        return;
    trace_set_clock(NULL, NULL);
    if (s->history != NULL)
        history_set_clock(s->history, NULL, NULL);
    sim_queue_close(&s->q);
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        struct sim_node *n = &s->nodes[i];
        if (n->up)
            sim_node_crash(s, n->id);
        replica_output_close(&n->out);
        simfs_free(n->fs);
        free(n->chain);
        host_network_close(&n->net);
        free(n->link_last_ms);
        free(n->link_tie);
        raft_disk_close(&s->disks[i]);
    }
    for (uint32_t i = 0; i < s->n_clients; i++)
        if (s->clients[i].started)
            client_close(&s->clients[i].logic);
    free(s->clients);
    free(s->nodes);
    free(s->disks);
    free(s->runs);
    netem_free(s->net);
    raft_invariants_close(&s->inv);
    sim_faults_close(s);
    free(s);
}

uint64_t sim_now_ms(const struct sim *s)
{
    return s->now_ms;
}

bool sim_run_until(struct sim *s, uint64_t until_ms)
{
    while (!s->violated && sim_queue_next_ms(&s->q) <= until_ms && s->events < s->max_events)
        sim_step(s);
    if (!s->violated && s->now_ms < until_ms)
        s->now_ms = until_ms;
    return !s->violated;
}

void sim_fault(struct sim *s, const struct cfg_fault *fault)
{
    sim_next_stamp(s); /* an event of its own, at the time the test has run to */
    scenario_apply(&s->scenario, fault, "test", s->now_ms, &s->fault_host);
}

int sim_membership(struct sim *s, enum cfg_fault_kind kind, uint32_t node, char *err,
                   size_t err_len)
{
    uint32_t leader = sim_leader(s);
    if (leader == 0) {
        snprintf(err, err_len, "no leader known");
        return -1;
    }
    if (kind == CFG_FAULT_ADD && node >= 1 && node <= s->n_nodes && s->nodes[node - 1].retired) {
        s->nodes[node - 1].retired = false;
        sim_node_start(s, node); /* a retired machine comes back to join again */
    }
    struct sim_node *n = &s->nodes[leader - 1];
    struct raft_event ev = {.now_ms = s->now_ms};
    if (kind == CFG_FAULT_TRANSFER) {
        ev.type = RAFT_EVENT_TRANSFER;
        ev.transfer_to = node;
    } else {
        ev.type = RAFT_EVENT_CHANGE;
        ev.change.op = kind == CFG_FAULT_ADD ? RAFT_CHANGE_ADD : RAFT_CHANGE_REMOVE;
        ev.change.id = node;
    }
    node_step(s, n, &ev);
    const struct raft_change_result *c = &n->out.up.change;
    if (c->status == RAFT_CHANGE_ACCEPTED) {
        if (kind == CFG_FAULT_REMOVE)
            s->retire_watch++;
        if (kind == CFG_FAULT_ADD)
            s->nodes[node - 1].joined = true;
        return 0;
    }
    snprintf(err, err_len, "leader node %u: %s", leader,
             c->status == RAFT_CHANGE_REFUSED ? raft_refusal_name(c->why) : "it stopped");
    return -1;
}

const struct raft_config *sim_config(const struct sim *s)
{
    uint32_t leader = sim_leader(s);
    return leader != 0 ? raft_config(&s->nodes[leader - 1].rep.raft) : &s->initial;
}

void sim_retire_removed(struct sim *s)
{
    const struct cfg *cfg = s->cfg;
    if (s->retire_watch == 0 || cfg->raft.pre_vote || cfg->raft.check_quorum)
        return;
    uint32_t leader = sim_leader(s);
    if (leader == 0)
        return;
    const struct raft_config *c = raft_config_committed(&s->nodes[leader - 1].rep.raft);
    for (uint32_t id = 1; id <= s->n_nodes; id++) {
        struct sim_node *n = &s->nodes[id - 1];
        bool was_member = n->joined || raft_config_is_member(&s->initial, id);
        if (!n->up || !was_member || raft_config_is_member(c, id))
            continue; /* (a node yet to join is not retired before it was ever added) */
        struct trace_field retired = TRACE_U64("retired", id);
        trace_log_fields(TRACE_INFO, n->name, "config", &retired, 1,
                         "retired: removed from the cluster");
        sim_node_crash(s, id);
        n->retired = true;
    }
}

uint32_t sim_leader(const struct sim *s)
{
    uint32_t leader = 0;
    uint64_t term = 0;
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        const struct sim_node *n = &s->nodes[i];
        if (n->up && raft_role(&n->rep.raft) == RAFT_LEADER && raft_term(&n->rep.raft) >= term) {
            leader = n->id;
            term = raft_term(&n->rep.raft);
        }
    }
    return leader;
}

const struct raft *sim_node(const struct sim *s, uint32_t id)
{
    if (id < 1 || id > s->n_nodes || !s->nodes[id - 1].up)
        return NULL;
    return &s->nodes[id - 1].rep.raft;
}

bool sim_clients_done(const struct sim *s)
{
    return s->clients_done == s->n_clients;
}

uint64_t sim_messages_delivered(const struct sim *s)
{
    return s->delivered;
}

uint64_t sim_entries_delivered(const struct sim *s)
{
    return s->entries_delivered;
}

uint64_t sim_appends_rejected(const struct sim *s)
{
    return s->appends_rejected;
}

const char *sim_violation(const struct sim *s)
{
    return s->violated ? s->violation : NULL;
}
