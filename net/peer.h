/* peer.h - the TCP transport of raft_kv serve: one connection per pair of nodes, carrying the wire
 * codec's checksummed frames (docs/wire.md) after a handshake, on the event loop of the node's
 * network actor (net/loop.c).
 *
 * The node of lower id dials, the other accepts, so a pair shares one connection. A dialler
 * that fails or loses its connection tries again after a capped exponential backoff with jitter.
 * Sending never blocks the node: a message for a peer without a connection, or whose queue of
 * bytes not yet written is over its limit, is dropped and counted (Raft retries what matters).
 * A malformed or unexpected frame closes that connection with a log line, never the node.
 * Everything here runs on the loop's thread.
 */
#ifndef RAFT_KV_NET_PEER_H
#define RAFT_KV_NET_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

struct event_base;
struct net_peers;

struct net_peers_options {
    uint32_t self;                 /* this node's id */
    uint32_t n_nodes;              /* ids are 1..n_nodes: every [[node]] table (raft max_nodes) */
    const char *const *raft_addrs; /* borrowed: node i+1's raft address "host:port" at [i] */
    uint64_t cluster_id;           /* both ends of a connection must agree (net/serve.c) */
    size_t queue_bytes_max;        /* per peer: unwritten bytes beyond which a message is dropped */
    uint32_t backoff_min_ms, backoff_max_ms; /* redial delays: doubling, capped, with jitter */
    uint64_t seed;                           /* the jitter's */
    /* A message received from a peer, well formed for this node, with from == that peer;
     * deliver takes what it owns. */
    void (*deliver)(void *ctx, struct raft_message *m);
    void *ctx;
};

struct net_peers_stats {
    uint64_t frames_sent, frames_received;
    uint64_t dropped_unconnected, dropped_queue_full;
    uint64_t connections, disconnections; /* handshakes completed; connections lost or closed */
    uint64_t bad_frames, bad_handshakes;  /* connections closed for what they sent */
};

/* Listens on this node's raft address and starts dialling the peers of higher id. 0, or -1
 * with err saying what failed (an address in use names the address). */
int net_peers_open(struct net_peers **out, struct event_base *base,
                   const struct net_peers_options *opt, char *err, size_t err_len);
/* Queues m for m->to (encoded now; m is not taken) or drops it, as above. */
void net_peers_send(struct net_peers *p, const struct raft_message *m);
void net_peers_get_stats(const struct net_peers *p, struct net_peers_stats *out);
/* Closes every connection and the listener. NULL is allowed. */
void net_peers_close(struct net_peers *p);

#endif
