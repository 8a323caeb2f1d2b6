/* replica.h - one Raft node as one pure unit: the Raft core, the key-value state machine, the
 * clients waiting for their entries and the apply bookkeeping. Events in, actions out.
 *
 * Design: every host (the actor host in actors/node.c, the simulator in sim/, a networked server)
 * owns a struct replica and feeds it events; replica_step() fills a struct replica_output with
 * what to do, and host/host.h's one action routine carries it out in the order the core's
 * persistence contract requires: persist, send, answer, arm the timer (raft/raft.h). No thread,
 * clock, I/O or trace here: what a person should read about a step is returned (the core's
 * notes, the applied commands, what became of a client request) and the host traces it.
 *
 * Clients are answered from the apply path: a proposal accepted at (index, term) waits in a
 * queue in index order and is answered when that index is applied, if the entry there still has
 * its term; otherwise, or if this node stops leading first, it hears that the outcome is unknown
 * (the next leader may still commit it), never that it failed. A retry of a command this node
 * has already applied is answered from the session's saved result, and a retry of one this
 * leader is still replicating waits for the same entry instead of appending it again.
 */
#ifndef RAFT_KV_REPLICA_REPLICA_H
#define RAFT_KV_REPLICA_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "kv/kv.h"
#include "raft/raft.h"

/* The host's handle on a client waiting for an answer: opaque to the replica, handed back in
 * the answer. The actor host fills `call`, the simulator `client` and `token`. */
struct replica_caller {
    void *call;
    uint32_t client;
    uint64_t token;
};

/* One answer to a client. result (OK only) points into the output's buffer: valid until the
 * next replica_step on the same output. */
struct replica_answer {
    struct replica_caller to;
    enum client_reply_status status;
    uint32_t leader_hint;  /* OK: the leader as this node knows it; NOT_LEADER, UNKNOWN: the same */
    uint64_t index, term;  /* OK from the apply path: where the command sits in the log */
    const uint8_t *result; /* OK: the encoded kv_result */
    size_t result_len;
    size_t result_at; /* private: result's offset in the output's buffer */
};

/* A committed entry the step applied, for the trace and the invariant checks. */
struct replica_applied {
    uint64_t index;
    const struct raft_entry *entry; /* into the core's log: valid until the next step */
    bool command;                   /* false: a no-op, or (a bug) a command that does not decode */
    enum kv_op op;
    enum kv_status status; /* command: its result */
};

/* What became of a client request (REPLICA_EVENT_REQUEST). */
enum replica_request_fate {
    REPLICA_REQUEST_NONE = 0,   /* the event was not a request */
    REPLICA_REQUEST_APPENDED,   /* proposed: waits at index for its entry to apply */
    REPLICA_REQUEST_APPLIED,    /* a retry of a command applied here: answered at once */
    REPLICA_REQUEST_WAITS,      /* a retry of a command this leader is replicating: waits at
                                   index for the same entry */
    REPLICA_REQUEST_NOT_LEADER, /* answered NOT_LEADER */
    REPLICA_REQUEST_MALFORMED,  /* answered REJECTED: the bytes are not a command */
    REPLICA_REQUEST_NOOP,       /* answered REJECTED: a no-op is not a client command */
    REPLICA_REQUEST_TOO_LARGE,  /* answered REJECTED: longer than an entry may be */
    REPLICA_REQUEST_READ,       /* a get not through the log (read): waits for its read index */
    REPLICA_REQUEST_STALE_READ, /* a stale get: answered at once from this node's store */
};

struct replica_request_note {
    enum replica_request_fate fate;
    uint64_t client_id, seq;  /* the command's session (APPENDED, APPLIED, WAITS, READ) */
    uint64_t index;           /* APPENDED, WAITS */
    int decode_error;         /* MALFORMED: the kv_command_decode code */
    uint64_t read_id;         /* READ: the read's id in the core's notes */
    enum kv_read_policy read; /* READ, STALE_READ */
};

/* A read served in this step (not through the log), for the trace. */
struct replica_served {
    uint64_t read_id; /* 0 for a stale read */
    enum kv_read_policy policy;
    uint64_t index;     /* the read index (stale: this node's applied index) */
    uint64_t applied;   /* this node's applied index when it served */
    const uint8_t *key; /* into the output's buffer */
    uint32_t key_len;
    bool found;
    size_t key_at; /* private: key's offset in the output's buffer */
};

/* Caller-owned, reused across steps (replica_output_init / _close). */
struct replica_output {
    struct raft_update up; /* the core's update: persist, msgs, notes, next_wake_ms (and the
                              raw apply range, already applied: see applied) */
    struct replica_answer *answers;
    size_t n_answers, cap_answers;
    struct replica_applied *applied;
    size_t n_applied, cap_applied;
    struct replica_request_note request;
    struct replica_served *served; /* reads answered in this step; keys valid until the next */
    size_t n_served, cap_served;
    bool became_leader; /* the step made this node leader (it still leads) */
    bool stopped_leading;
    uint8_t *bytes; /* the answers' encoded results */
    size_t n_bytes, cap_bytes;
};
void replica_output_init(struct replica_output *out);
void replica_output_close(struct replica_output *out);

/* A client waiting for its entry. Invariant: items[head..len) have non-decreasing indices. */
struct replica_waiter {
    uint64_t index, term;  /* where the proposal was appended */
    uint64_t session, seq; /* the command's client id and sequence number */
    struct replica_caller caller;
};

/* A get waiting for its read index (READY) and for this node to apply that far. */
struct replica_read {
    uint64_t id;    /* given to the core (RAFT_EVENT_READ) */
    uint64_t index; /* READY: serve once last_applied >= index */
    bool ready;
    enum kv_read_policy policy;
    uint64_t client_id, seq; /* echoed in the result */
    uint8_t *key;            /* owned copy */
    uint32_t key_len;
    struct replica_caller caller;
};

struct replica {
    struct raft raft;
    struct kv_store store;          /* volatile, like struct raft: rebuilt by replaying the log */
    struct replica_waiter *waiting; /* only while this node leads */
    size_t head, len, cap;
    struct replica_read *reads; /* gets waiting, in arrival order */
    size_t n_reads, cap_reads;
    uint64_t next_read_id;
};

enum replica_event_type {
    REPLICA_EVENT_RAFT = 1,    /* an event of the core (tick, message, campaign, persisted) */
    REPLICA_EVENT_REQUEST = 2, /* a client request: an encoded kv command */
};

struct replica_event {
    enum replica_event_type type;
    struct raft_event raft; /* RAFT: the core's event; REQUEST: its now_ms and more apply */
    const void *data;       /* REQUEST: the command bytes (borrowed) */
    size_t len;
    /* REQUEST, a get: how to read it (KV_READ_LINEARIZABLE, the zero value, is ReadIndex;
     * KV_READ_LOG appends it to the log like a write). Ignored for other commands. */
    enum kv_read_policy read;
    struct replica_caller from; /* REQUEST: who is waiting for the answer */
};

/* Starts a replica from what the storage loaded (see raft_init); the store starts as the loaded
 * snapshot holds it (empty without one). 0 or RAFT_EINVAL (also for snapshot bytes that are not
 * a store's). Snapshots: when the core asks (update.snapshot_wanted), a step encodes the store
 * and hands it to the core; a snapshot installed from the leader (update.restore) replaces the
 * store before the step applies anything. */
int replica_init(struct replica *r, const struct raft_options *opt, const struct raft_disk *loaded,
                 uint64_t now_ms);
/* A crash: the volatile state is gone and the waiting clients hear nothing (their timeouts
 * fire). */
void replica_close(struct replica *r);

/* A crash of a replica whose storage is the core's own memory: the persistent state moves to
 * disk (raft_close_keep), the rest is gone as in replica_close. */
void replica_close_keep(struct replica *r, struct raft_disk *disk);

/* THE entry point: one event, and out filled with what to do. Returns 0, or the core's error for
 * a refused event (RAFT_EMALFORMED, RAFT_EINVAL; nothing changed then). */
int replica_step(struct replica *r, const struct replica_event *ev, struct replica_output *out);

#endif
