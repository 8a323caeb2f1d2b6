/* loop.h - the network actor of raft_kv serve: an event-loop actor (runtime/actor.h) whose
 * thread runs libevent, serving the node's TCP peers (net/peer.h) and its HTTP clients
 * (net/http.h) beside its mailbox.
 *
 * It stands in every peer slot of the node's actor directory, so the node sends to it exactly
 * as it casts to a peer actor in the in-process run (actors/node.c): each NODE_MSG_RAFT it
 * receives goes out on the peer's connection. Messages from peers are cast to the node; HTTP
 * requests are asynchronous calls to the node whose answers come back here.
 */
#ifndef RAFT_KV_NET_LOOP_H
#define RAFT_KV_NET_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "net/http.h"
#include "net/peer.h"
#include "runtime/actor.h"

/* Spawns the network actor "net <self>" with its event base; it serves nothing until
 * net_loop_open. An actor status. */
int net_loop_spawn(uint32_t self, struct actor **out);

/* Opens the peer listener and connections and the HTTP server on the loop's thread (a call),
 * with requests going to node. peers.deliver and http.node/loop are filled in here. 0, or -1
 * with err saying what failed (a port in use, ...): nothing is open then. */
int net_loop_open(struct actor *loop, struct actor *node, const struct net_peers_options *peers,
                  const struct net_http_options *http, char *err, size_t err_len);

/* The peers' counters, asked of the loop (a call). An actor status. */
int net_loop_peer_stats(struct actor *loop, struct net_peers_stats *out);

#endif
