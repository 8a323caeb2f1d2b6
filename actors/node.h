/* node.h - a Raft node as an actor: the only place where mailbox messages become core events and
 * core outputs become messages, timers, applies, replies and trace lines.
 *
 * Node-to-node traffic is cast (a node never blocks on another node). A client's request is a
 * call that the leader answers with a deferred reply once the entry is applied. The node's
 * persistent state (struct raft_disk) is borrowed from its owner, so it outlives a crash.
 */
#ifndef RAFT_KV_ACTORS_NODE_H
#define RAFT_KV_ACTORS_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "client/client.h"
#include "raft/raft.h"
#include "runtime/actor.h"
#include "runtime/directory.h"
#include "runtime/netem.h"
#include "host/status.h"

enum node_msg_type {
    NODE_MSG_RAFT = 0x100,  /* cast, node to node: a struct raft_message */
    NODE_MSG_CAMPAIGN,      /* cast: start an election now */
    NODE_MSG_REQUEST,       /* call: a client's encoded kv command; answered with node_reply */
    NODE_MSG_STATUS,        /* call: answered with node_status_reply */
    NODE_MSG_AWAIT_LEADER,  /* call: answered (node_status_reply) once this node leads */
    NODE_MSG_AWAIT_APPLIED, /* call: answered (node_status_reply) once last_applied >= index */
    NODE_MSG_TICK,          /* timer to self: the core asked to be woken */
};

struct node_options {
    struct raft_options raft;
    struct raft_disk *disk;  /* borrowed: outlives the node */
    struct actor_dir *peers; /* borrowed: slot i is node i+1 (empty while it is down) */
    struct netem *net;       /* borrowed; NULL: a perfect network */
    uint64_t net_seed;       /* seeds this node's network decisions */
    struct actor *monitor;   /* borrowed; NULL: no invariant monitor */
    uint64_t epoch_ns;       /* the run's time zero (actor_now_ns) */
};

struct node_status_reply {
    struct actor_msg hdr;
    struct node_status status;
};

/* A client's request: the encoded kv command (one allocation). */
struct node_request {
    struct actor_msg hdr;
    uint32_t len;
    uint8_t data[];
};

/* The answer to a request: the encoded kv_result when status is CLIENT_REPLY_OK. */
struct node_reply {
    struct actor_msg hdr;
    enum client_reply_status status;
    uint32_t leader_hint;
    uint64_t index, term; /* where the command sits in the log (OK) */
    uint32_t len;
    uint8_t data[];
};

/* Spawns the actor "node <id>". Errors: those of actor_spawn. */
int node_spawn(const struct node_options *opt, struct actor **out);

/* Asks the node to start an election now (main asks node 1 at start). */
void node_campaign(struct actor *node);

/* Synchronous queries, for the owner. Each returns an actor status (ACTOR_OK ...). */
int node_get_status(struct actor *node, uint32_t timeout_ms, struct node_status *out);
int node_await_leader(struct actor *node, uint32_t timeout_ms, struct node_status *out);
int node_await_applied(struct actor *node, uint64_t index, uint32_t timeout_ms,
                       struct node_status *out);

/* A request message holding a copy of the len bytes at cmd. */
struct actor_msg *node_request_new(const void *cmd, uint32_t len);

#endif
