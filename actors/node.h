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
#include "storage/storage.h"

enum node_msg_type {
    NODE_MSG_RAFT = 0x100,  /* cast, node to node: a struct raft_message */
    NODE_MSG_CAMPAIGN,      /* cast: start an election now */
    NODE_MSG_REQUEST,       /* call: a client's encoded kv command; answered with node_reply */
    NODE_MSG_STATUS,        /* call: answered with node_status_reply */
    NODE_MSG_AWAIT_LEADER,  /* call: answered (node_status_reply) once this node leads */
    NODE_MSG_AWAIT_APPLIED, /* call: answered (node_status_reply) once last_applied >= index */
    NODE_MSG_TICK,          /* timer to self: the core asked to be woken */
    NODE_MSG_SYNC,          /* cast to self: sync the writes made since the last sync */
    NODE_MSG_PEEK,          /* call: a key's value in this node's store (node_peek) */
    NODE_MSG_CHANGE,        /* call: a membership change or a transfer (node_change_new);
                               answered at once with node_change_reply */
};

/* What NODE_MSG_CHANGE asks of the node, which must lead (raft.h, RAFT_EVENT_CHANGE and
 * RAFT_EVENT_TRANSFER). */
enum node_change_kind {
    NODE_CHANGE_ADD = 1,
    NODE_CHANGE_REMOVE = 2,
    NODE_CHANGE_TRANSFER = 3,
};

struct node_change_msg {
    struct actor_msg hdr;
    enum node_change_kind kind;
    uint32_t id; /* the server to add or remove, or the transfer's target */
};

/* The leader's answer: accepted (the change's entry index; an addition completes when the
 * learner is made a voter), or refused and why (not the leader: result.leader_hint). */
struct node_change_reply {
    struct actor_msg hdr;
    struct raft_change_result result;
};

struct node_options {
    struct raft_options raft;
    /* Where the durable state lives. data_dir NULL: in memory, in *disk, which outlives the
     * node (a crash keeps it). Otherwise in files in data_dir (this node's directory, made if
     * missing) with the storage options: node_spawn recovers them (the real recovery path, at
     * the first start and after every crash) and describes what it found in *recovered (if not
     * NULL); disk is not used. */
    struct raft_disk *disk; /* borrowed */
    const char *data_dir;   /* borrowed */
    struct storage_options storage;
    struct storage_report *recovered; /* borrowed; may be NULL */
    struct actor_dir *peers;          /* borrowed: slot i is node i+1 (empty while it is down) */
    struct netem *net;                /* borrowed; NULL: a perfect network */
    uint64_t net_seed;                /* seeds this node's network decisions */
    uint32_t incarnation;             /* the node's starts before this one (trace ids) */
    struct actor *monitor;            /* borrowed; NULL: no invariant monitor */
    uint64_t epoch_ns;                /* the run's time zero (actor_now_ns) */
};

struct node_status_reply {
    struct actor_msg hdr;
    struct node_status status;
};

/* A client's request: the encoded kv command (one allocation). */
struct node_request {
    struct actor_msg hdr;
    enum kv_read_policy read; /* a get: how to read it */
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

/* Spawns the actor "node <id>". Errors: those of actor_spawn, or NODE_ESTORAGE when its files
 * cannot be used (damaged, unreadable): then err (err_len bytes) says which file and why. */
enum { NODE_ESTORAGE = -1000 };
int node_spawn(const struct node_options *opt, struct actor **out, char *err, size_t err_len);

/* Asks the node to start an election now (main asks node 1 at start). */
void node_campaign(struct actor *node);

/* Synchronous queries, for the owner. Each returns an actor status (ACTOR_OK ...). */
int node_get_status(struct actor *node, uint32_t timeout_ms, struct node_status *out);
int node_await_leader(struct actor *node, uint32_t timeout_ms, struct node_status *out);
int node_await_applied(struct actor *node, uint64_t index, uint32_t timeout_ms,
                       struct node_status *out);

/* The value of key in the node's store as it is now, for the owner (the initial state of a run
 * resumed from disk): a local read, not a linearizable one. *found says whether the key is
 * there; the value (up to cap bytes; *len is its whole length) goes to value. An actor status. */
int node_peek(struct actor *node, const char *key, uint32_t timeout_ms, bool *found, char *value,
              size_t cap, size_t *len);

/* A NODE_MSG_RAFT message carrying m, taking what m owns (its entries): how a transport that
 * receives messages from outside the process (raft_kv serve's TCP peers) hands one to its node. */
struct actor_msg *node_raft_msg_new(struct raft_message *m);
/* The Raft message inside a NODE_MSG_RAFT message, which a node casts to the actor in a peer's
 * directory slot: a transport actor standing there sends it on (and may move its entries out). */
struct raft_message *node_raft_msg_of(struct actor_msg *msg);

/* A request message holding a copy of the len bytes at cmd; a get is read as `read` says. */
struct actor_msg *node_request_new(const void *cmd, uint32_t len, enum kv_read_policy read);
/* A NODE_MSG_CHANGE call message, and the synchronous call for an owner: an actor status, and
 * the leader's answer in *out when ACTOR_OK. */
struct actor_msg *node_change_new(enum node_change_kind kind, uint32_t id);
int node_change(struct actor *node, enum node_change_kind kind, uint32_t id, uint32_t timeout_ms,
                struct raft_change_result *out);

#endif
