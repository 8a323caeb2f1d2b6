/* network.c - the emulated network in front of any transport (network.h): one decision per
 * message, from the sender's own seeded PRNG, so the emulation takes no lock and adds no thread.
 */
#include "host/network.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "runtime/trace.h"
#include "scenario/params.h"

void host_network_init(struct host_network *hn, struct netem *net, uint64_t seed, uint32_t self,
                       uint32_t n_nodes)
{
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

void host_network_send(struct host_network *hn, const struct host_transport *t,
                       struct raft_message *m, uint64_t now_ms, struct node_status *stats,
                       const char *actor)
{
    uint32_t to = m->to;
    if (to == hn->self || to < 1 || to > hn->n_nodes || !t->reachable(t->ctx, to)) {
        stats->msgs_dropped++; /* the node is down: as good as lost, and Raft retries */
        raft_message_free(m);
        return;
    }
    if (hn->net == NULL) {
        stats->msgs_sent++;
        t->deliver(t->ctx, m, 0);
        return;
    }
    struct netem_fate fate;
    netem_decide(hn->net, &hn->rng, hn->self, to, now_ms, &hn->last_delivery_ms[to - 1], &fate);
    if (fate.dropped) {
        stats->msgs_dropped++;
        trace_log(TRACE_INFO, actor, "network", "-> node %u: %s %s by the network", to,
                  raft_msg_type_name(m->type), fate.why);
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
    }
    for (uint32_t c = 0; c < fate.copies; c++) {
        stats->msgs_sent++;
        if (fate.delay_ms[c] != 0)
            trace_log(TRACE_DEBUG, actor, "network", "-> node %u: %s delayed %u ms", to,
                      raft_msg_type_name(copies[c].type), fate.delay_ms[c]);
        t->deliver(t->ctx, &copies[c], fate.delay_ms[c]);
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
