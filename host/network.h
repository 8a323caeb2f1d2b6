/* network.h - the transport port of a host, and the emulated network that wraps any transport.
 *
 * A transport delivers a Raft message to a peer after a delay: the actor runtime's casts and
 * timers, the simulator's event queue, and later a TCP connection. host_network_send puts the
 * emulated network (runtime/netem.h: loss, delay, duplication, reordering, partitions, slow
 * nodes) in front of it, so every transport gets the same faults, counted and traced alike.
 */
#ifndef RAFT_KV_HOST_NETWORK_H
#define RAFT_KV_HOST_NETWORK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/prng.h"
#include "config/config.h"
#include "host/status.h"
#include "raft/raft.h"
#include "runtime/netem.h"

struct host_transport {
    void *ctx;
    /* True if peer `to` can be reached now (it is up); a message to a peer that is down is lost,
     * as on a real network (Raft retries). */
    bool (*reachable)(void *ctx, uint32_t to);
    /* Delivers m to m->to after delay_ms (0: as soon as it can), taking what m owns. msg_id
     * names the message in the trace: the receiver traces it with host_trace_message. */
    void (*deliver)(void *ctx, struct raft_message *m, uint32_t delay_ms, uint64_t msg_id);
};

/* One sender's side of the emulated network. */
struct host_network {
    struct netem *net;          /* borrowed; NULL: a perfect network */
    struct prng rng;            /* this sender's fates */
    uint64_t *last_delivery_ms; /* per destination, for links that keep their order */
    uint32_t n_nodes;
    uint32_t self;
    uint32_t incarnation; /* with self and next_seq, makes each message's trace id */
    uint32_t next_seq;
};
/* net may be NULL. seed seeds the sender's fates. incarnation counts the sender's starts (0
 * first), so that its messages' trace ids are unique in a run. */
void host_network_init(struct host_network *hn, struct netem *net, uint64_t seed, uint32_t self,
                       uint32_t n_nodes, uint32_t incarnation);
void host_network_close(struct host_network *hn);

/* Sends m (taking its entries) through the emulated network and then the transport: lost,
 * delayed or duplicated as the network decides at now_ms; counted in stats (msgs_sent,
 * msgs_dropped, msgs_duplicated) and traced as actor (NULL: the running actor). */
void host_network_send(struct host_network *hn, const struct host_transport *t,
                       struct raft_message *m, uint64_t now_ms, struct node_status *stats,
                       const char *actor);

/* The trace line (level MESSAGES, event "msg") of a message event: dir is "send", "recv",
 * "drop" or "dup"; why says why a message was dropped (NULL otherwise). Fields: dir, id (the
 * string "from.incarnation.seq"), from, to, type, term, and by type pre_vote, entries,
 * heartbeat, ok, match. actor as trace_log's (NULL: the running actor). */
void host_trace_message(const char *actor, const char *dir, const struct raft_message *m,
                        uint64_t msg_id, const char *why);

/* While on (this thread), the AppendEntries replies host_trace_message traces as sent, dropped
 * or duplicated are marked "heartbeat": host_step turns it on while it sends what a step that
 * received a heartbeat asked for (the receive line is paired with the send line by id). */
void host_trace_heartbeat_replies(bool on);

/* The [network] settings as netem options. */
void host_netem_options(const struct cfg *cfg, struct netem_options *o);

#endif
