/* host.c - the one action routine (host.h): a replica step carried out in the contract's order,
 * with the trace of what it did, for every host alike.
 */
#include "host/host.h"

#include "client/client.h"
#include "host/network.h"
#include "host/node_trace.h"
#include "runtime/trace.h"

/* What became of a client request, in words. */
static void trace_request(const char *actor, const struct replica_event *ev,
                          const struct replica_request_note *n)
{
    switch (n->fate) {
    case REPLICA_REQUEST_NONE:
    case REPLICA_REQUEST_NOT_LEADER:
        break;
    case REPLICA_REQUEST_APPENDED:
        if (trace_on(TRACE_DEBUG)) {
            char what[160];
            node_trace_describe_command(ev->data, (uint32_t)ev->len, what, sizeof what);
            trace_log(TRACE_DEBUG, actor, "client", "appends %s at index %llu", what,
                      (unsigned long long)n->index);
        }
        break;
    case REPLICA_REQUEST_APPLIED:
        trace_log(TRACE_INFO, actor, "client",
                  "request #%llu of client %llu is already applied: answers with its result",
                  (unsigned long long)n->seq, (unsigned long long)n->client_id);
        break;
    case REPLICA_REQUEST_WAITS:
        trace_log(TRACE_INFO, actor, "client",
                  "request #%llu of client %llu is already at index %llu: waits for it",
                  (unsigned long long)n->seq, (unsigned long long)n->client_id,
                  (unsigned long long)n->index);
        break;
    case REPLICA_REQUEST_MALFORMED:
        trace_log(TRACE_INFO, actor, "client", "rejects a request: %s",
                  kv_strerror(n->decode_error));
        break;
    case REPLICA_REQUEST_NOOP:
        trace_log(TRACE_INFO, actor, "client", "rejects a request: noop is not a client command");
        break;
    case REPLICA_REQUEST_TOO_LARGE:
        trace_log(TRACE_INFO, actor, "client", "rejects a request: longer than an entry may be");
        break;
    case REPLICA_REQUEST_READ:
        trace_log(TRACE_INFO, actor, "read", "read %llu: %s get #%llu of client %llu",
                  (unsigned long long)n->read_id, kv_read_policy_name(n->read),
                  (unsigned long long)n->seq, (unsigned long long)n->client_id);
        break;
    case REPLICA_REQUEST_STALE_READ:
        break; /* the served line says it */
    }
}

/* A read answered without the log: which, at what index, and what it found. */
static void trace_served(const char *actor, const struct replica_served *s)
{
    int key_len = s->key_len > 40 ? 40 : (int)s->key_len;
    if (s->read_id == 0)
        trace_log(TRACE_INFO, actor, "read", "stale get(%.*s) served from applied index %llu: %s",
                  key_len, (const char *)s->key, (unsigned long long)s->applied,
                  s->found ? "found" : "not_found");
    else
        trace_log(TRACE_INFO, actor, "read",
                  "read %llu served: get(%.*s) at read index %llu (applied %llu): %s",
                  (unsigned long long)s->read_id, key_len, (const char *)s->key,
                  (unsigned long long)s->index, (unsigned long long)s->applied,
                  s->found ? "found" : "not_found");
}

static void trace_applied(const char *actor, const struct replica_applied *a)
{
    struct trace_field f[3] = {TRACE_U64("index", a->index)};
    if (a->entry->type == RAFT_ENTRY_NOOP) {
        trace_log_fields(TRACE_DEBUG, actor, "apply", f, 1, "applies %llu: noop of term %llu",
                         (unsigned long long)a->index, (unsigned long long)a->entry->term);
    } else if (a->entry->type == RAFT_ENTRY_CONFIG) {
        struct raft_config c;
        char text[1024] = "?";
        if (raft_config_decode(a->entry->data, a->entry->len, &c, NULL) == RAFT_OK)
            raft_config_format(&c, text, sizeof text);
        trace_log_fields(TRACE_DEBUG, actor, "apply", f, 1, "applies %llu: configuration %s",
                         (unsigned long long)a->index, text);
    } else if (!a->command) {
        /* Only validated commands enter the log, so this is a bug, not bad input. */
        trace_log_fields(TRACE_INFO, actor, "apply", f, 1,
                         "applies %llu: <malformed command ignored>", (unsigned long long)a->index);
    } else if (trace_on(TRACE_INFO)) {
        char what[160];
        node_trace_describe_command(a->entry->data, a->entry->len, what, sizeof what);
        struct kv_command cmd;
        size_t n = 1;
        if (kv_command_decode(a->entry->data, a->entry->len, &cmd) == 0 && cmd.client_id != 0) {
            f[n++] = TRACE_U64("client", cmd.client_id);
            f[n++] = TRACE_U64("seq", cmd.seq);
        }
        trace_log_fields(TRACE_INFO, actor, "apply", f, n, "applies %llu: %s -> %s",
                         (unsigned long long)a->index, what, client_result_name(a->op, a->status));
    }
}

/* The node's state as the timeline's click-a-node panel shows it, traced (level MESSAGES) when a
 * step changed it since the last line. */
static void trace_state(const char *actor, const struct replica *r, struct host_trace_memo *memo)
{
    struct host_trace_memo now = {
        .valid = true,
        .role = raft_role(&r->raft),
        .term = raft_term(&r->raft),
        .last_index = raft_last_index(&r->raft),
        .commit = raft_commit_index(&r->raft),
        .applied = raft_last_applied(&r->raft),
    };
    if (memo->valid && memo->role == now.role && memo->term == now.term &&
        memo->last_index == now.last_index && memo->commit == now.commit &&
        memo->applied == now.applied)
        return;
    *memo = now;
    struct trace_field f[] = {
        TRACE_U64("term", now.term),
        TRACE_STR("role", raft_role_name(now.role)),
        TRACE_U64("last_index", now.last_index),
        TRACE_U64("commit", now.commit),
        TRACE_U64("applied", now.applied),
    };
    trace_log_fields(TRACE_MESSAGES, actor, "state", f, 5,
                     "%s in term %llu, log to %llu, commit %llu, applied %llu",
                     raft_role_name(now.role), (unsigned long long)now.term,
                     (unsigned long long)now.last_index, (unsigned long long)now.commit,
                     (unsigned long long)now.applied);
}

int host_step(struct replica *r, struct replica_output *out, const struct replica_event *ev,
              const struct host_ports *ports)
{
    int first_rc = 0;
    struct raft_change_result change = {.status = RAFT_CHANGE_NONE};
    struct replica_event next = *ev;
    /* Bounded: a PERSISTED report never asks for another write, so this runs at most twice. */
    for (int round = 0; round < 2; round++) {
        int rc = replica_step(r, &next, out);
        if (round == 0) {
            first_rc = rc;
            change = out->up.change;
        }
        if (rc != 0)
            trace_log(TRACE_INFO, ports->actor, "error", "event refused: %s", raft_strerror(rc));
        /* 1. persist */
        uint64_t seq = out->up.persist.seq;
        bool durable = seq != 0 && ports->persist(ports->ctx, &out->up.persist);
        if (round == 0 && next.type == REPLICA_EVENT_REQUEST)
            trace_request(ports->actor, &next, &out->request);
        if (trace_on(TRACE_INFO))
            for (size_t i = 0; i < out->up.n_notes; i++)
                node_trace_note(ports->actor, &out->up.notes[i]);
        if (ports->observe != NULL)
            ports->observe(ports->ctx, r, out);
        /* 2. send */
        const struct raft_message *got =
            next.type == REPLICA_EVENT_RAFT && next.raft.type == RAFT_EVENT_RECEIVE
                ? next.raft.receive
                : NULL;
        host_trace_heartbeat_replies(got != NULL && got->type == RAFT_MSG_APPEND_ENTRIES &&
                                     got->append_entries.n_entries == 0);
        for (size_t i = 0; i < out->up.n_msgs; i++) {
            struct raft_message m;
            raft_update_take_message(&out->up, i, &m);
            node_trace_sent(ports->actor, &m);
            ports->send(ports->ctx, &m);
        }
        host_trace_heartbeat_replies(false);
        /* 3. apply (done by the step) and answer */
        for (size_t i = 0; i < out->n_applied; i++)
            trace_applied(ports->actor, &out->applied[i]);
        if (trace_on(TRACE_INFO))
            for (size_t i = 0; i < out->n_served; i++)
                trace_served(ports->actor, &out->served[i]);
        for (size_t i = 0; i < out->n_answers; i++)
            ports->answer(ports->ctx, &out->answers[i]);
        /* 4. the timer */
        if (out->up.next_wake_ms != 0)
            ports->arm(ports->ctx, out->up.next_wake_ms);
        /* Durable at once: report it, unless the core counted it already (persist_sync). */
        if (!durable || !raft_persist_waiting(&r->raft))
            break;
        next = (struct replica_event){.type = REPLICA_EVENT_RAFT};
        next.raft = (struct raft_event){
            .type = RAFT_EVENT_PERSISTED, .now_ms = ev->raft.now_ms, .persisted_seq = seq};
    }
    if (ports->memo != NULL && trace_on(TRACE_MESSAGES))
        trace_state(ports->actor, r, ports->memo);
    /* What the event's own step said of a change or a transfer, not the PERSISTED report's. */
    out->up.change = change;
    return first_rc;
}

void host_status_fill(const struct replica *r, struct node_status *st)
{
    const struct raft *raft = &r->raft;
    st->id = raft_id(raft);
    st->role = raft_role(raft);
    st->term = raft_term(raft);
    st->leader = raft_leader_id(raft);
    st->commit_index = raft_commit_index(raft);
    st->last_applied = raft_last_applied(raft);
    st->last_index = raft_last_index(raft);
    st->digest = kv_store_digest(&r->store);
    st->n_keys = kv_store_count(&r->store);
    st->snapshot_index = raft_snapshot_index(raft);
    st->first_index = raft_first_index(raft);
    st->config = *raft_config(raft);
    st->config_committed = *raft_config_committed(raft);
    st->config_index = raft_config_index(raft);
    st->transfer_to = raft_transfer_target(raft);
}
