/* network.c - the emulated network in front of any transport (network.h): one decision per
 * message, from the sender's own seeded PRNG, so the emulation takes no lock and adds no thread.
 */
#include "host/network.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "runtime/trace.h"
#include "scenario/params.h"

void host_network_init(struct host_network *hn, struct netem *net, uint64_t seed, uint32_t self,
                       uint32_t n_nodes, uint32_t incarnation)
{
    hn->incarnation = incarnation;
    hn->next_seq = 0;
    hn->net = net;
    prng_seed(&hn->rng, seed);
    hn->last_delivery_ms = xcalloc(n_nodes, sizeof *hn->last_delivery_ms);
    hn->n_nodes = n_nodes;
    hn->self = self;
}

void host_network_close(struct host_network *hn)
{
    free(hn->last_delivery_ms);
    hn->last_delivery_ms = NULL;
}

/* Set by host_step while it sends what a step that received a heartbeat asked for: the
 * AppendEntries replies among them answer that heartbeat (a heartbeat carries nothing to persist,
 * so its reply leaves in the same step). Per thread: each node steps on one thread at a time. */
static _Thread_local bool replying_to_heartbeat;

void host_trace_heartbeat_replies(bool on)
{
    replying_to_heartbeat = on;
}

void host_trace_message(const char *actor, const char *dir, const struct raft_message *m,
                        uint64_t msg_id, const char *why)
{
    if (!trace_on(TRACE_MESSAGES))
        return;
    char id[48];
    snprintf(id, sizeof id, "%u.%u.%u", (unsigned)(msg_id >> 56),
             (unsigned)(msg_id >> 32 & 0xffffffu), (unsigned)(msg_id & 0xffffffffu));
    struct trace_field f[12];
    size_t n = 0;
    f[n++] = TRACE_STR("dir", dir);
    f[n++] = TRACE_STR("id", id);
    f[n++] = TRACE_U64("from", m->from);
    f[n++] = TRACE_U64("to", m->to);
    f[n++] = TRACE_STR("type", raft_msg_type_name(m->type));
    f[n++] = TRACE_U64("term", m->term);
    switch (m->type) {
    case RAFT_MSG_REQUEST_VOTE:
        if (m->request_vote.pre_vote)
            f[n++] = TRACE_BOOL("pre_vote", true);
        break;
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        if (m->request_vote_reply.pre_vote)
            f[n++] = TRACE_BOOL("pre_vote", true);
        f[n++] = TRACE_BOOL("ok", m->request_vote_reply.vote_granted);
        break;
    case RAFT_MSG_APPEND_ENTRIES:
        f[n++] = TRACE_U64("entries", m->append_entries.n_entries);
        if (m->append_entries.n_entries == 0)
            f[n++] = TRACE_BOOL("heartbeat", true);
        break;
    case RAFT_MSG_APPEND_ENTRIES_REPLY:
        f[n++] = TRACE_BOOL("ok", m->append_entries_reply.success);
        f[n++] = TRACE_U64("match", m->append_entries_reply.match_index);
        if (replying_to_heartbeat && strcmp(dir, "recv") != 0)
            f[n++] = TRACE_BOOL("heartbeat", true);
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
        f[n++] = TRACE_BOOL("ok", m->install_snapshot_reply.done);
        break;
    case RAFT_MSG_READ_INDEX_REPLY:
        f[n++] = TRACE_BOOL("ok", m->read_index_reply.ok);
        break;
    default:
        break;
    }
    if (why != NULL)
        f[n++] = TRACE_STR("why", why);
    bool recv = strcmp(dir, "recv") == 0;
    trace_log_fields(TRACE_MESSAGES, actor, "msg", f, n, "%s %s node %u: %s term %llu #%s%s%s", dir,
                     recv ? "from" : "to", recv ? m->from : m->to, raft_msg_type_name(m->type),
                     (unsigned long long)m->term, id, why != NULL ? ": " : "",
                     why != NULL ? why : "");
}

void host_network_send(struct host_network *hn, const struct host_transport *t,
                       struct raft_message *m, uint64_t now_ms, struct node_status *stats,
                       const char *actor)
{
    uint32_t to = m->to;
    uint64_t id = (uint64_t)(hn->self & 0xffu) << 56 |
                  (uint64_t)(hn->incarnation & 0xffffffu) << 32 | hn->next_seq++;
    host_trace_message(actor, "send", m, id, NULL);
    if (to == hn->self || to < 1 || to > hn->n_nodes || !t->reachable(t->ctx, to)) {
        stats->msgs_dropped++; /* the node is down: as good as lost, and Raft retries */
        host_trace_message(actor, "drop", m, id, "node down");
        raft_message_free(m);
        return;
    }
    if (hn->net == NULL) {
        stats->msgs_sent++;
        t->deliver(t->ctx, m, 0, id);
        return;
    }
    struct netem_fate fate;
    netem_decide(hn->net, &hn->rng, hn->self, to, now_ms, &hn->last_delivery_ms[to - 1], &fate);
    if (fate.dropped) {
        stats->msgs_dropped++;
        trace_log(TRACE_INFO, actor, "network", "-> node %u: %s %s by the network", to,
                  raft_msg_type_name(m->type), fate.why);
        host_trace_message(actor, "drop", m, id, fate.why);
        raft_message_free(m);
        return;
    }
    struct raft_message copies[2];
    copies[0] = *m;
    if (fate.copies == 2) {
        raft_message_copy(&copies[1], m);
        stats->msgs_duplicated++;
        trace_log(TRACE_DEBUG, actor, "network", "-> node %u: %s duplicated by the network", to,
                  raft_msg_type_name(m->type));
        host_trace_message(actor, "dup", m, id, NULL);
    }
    for (uint32_t c = 0; c < fate.copies; c++) {
        stats->msgs_sent++;
        if (fate.delay_ms[c] != 0)
            trace_log(TRACE_DEBUG, actor, "network", "-> node %u: %s delayed %u ms", to,
                      raft_msg_type_name(copies[c].type), fate.delay_ms[c]);
        t->deliver(t->ctx, &copies[c], fate.delay_ms[c], id);
    }
}

void host_netem_options(const struct cfg *cfg, struct netem_options *o)
{
    *o = (struct netem_options){
        .drop = cfg->network.drop,
        .duplicate = cfg->network.duplicate,
        .delay_ms_min = cfg->network.delay_ms_min,
        .delay_ms_max = cfg->network.delay_ms_max,
        .reorder = cfg->network.reorder,
    };
}
