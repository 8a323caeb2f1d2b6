/* host.h - the one action routine every host of a replica uses (the actor host in actors/node.c,
 * the simulator in sim/, a networked server): feed an event to the replica, then carry out what
 * it asks in the order the core's persistence contract requires (raft/raft.h):
 *   persist -> send -> answer -> arm the timer, then report a write the storage made durable at
 *   once and carry out that step too.
 * The trace of a step is written here, once, so every host describes a step alike.
 *
 * A host plugs in its world through ports: a storage (persist), a transport (send), its clients
 * (answer), its clock (arm) and, optionally, observers (invariant checks, monitors, counters).
 */
#ifndef RAFT_KV_HOST_HOST_H
#define RAFT_KV_HOST_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/raft.h"
#include "replica/replica.h"
#include "host/status.h"

/* The node state last traced (host_step, level MESSAGES), kept by the host per node. */
struct host_trace_memo {
    bool valid;
    enum raft_role role;
    uint64_t term, last_index, commit, applied;
};

struct host_ports {
    void *ctx;
    const char *actor; /* the trace's actor name; NULL: the running actor's */
    /* Storage port: starts making p (p->seq != 0) durable. Returns true if it is durable
     * already (an in-memory disk), false if the host will report it later with a
     * RAFT_EVENT_PERSISTED event (in seq order). */
    bool (*persist)(void *ctx, const struct raft_persist *p);
    /* Transport port: sends m to m->to, taking what it owns (its entries). */
    void (*send)(void *ctx, struct raft_message *m);
    /* Answers the client a->to (a's result is valid during the call only). */
    void (*answer)(void *ctx, const struct replica_answer *a);
    /* Arms a tick for no later than wake_ms (the core's next_wake_ms; never 0). */
    void (*arm)(void *ctx, uint64_t wake_ms);
    /* Optional: sees each step's output before it is carried out (counters, invariant
     * monitors); the replica is as the step left it. */
    void (*observe)(void *ctx, const struct replica *r, const struct replica_output *out);
    /* Optional: where the node's last traced state is kept; NULL: no "state" lines. */
    struct host_trace_memo *memo;
};

/* Feeds ev to r and carries out the output (out is the caller's, reused). Returns the first
 * step's code: 0, or the core's refusal of the event (traced; nothing changed). */
int host_step(struct replica *r, struct replica_output *out, const struct replica_event *ev,
              const struct host_ports *ports);

/* The state part of a node's status (role, term, indices, store digest, configuration) from its
 * replica; the counters are the host's own. */
void host_status_fill(const struct replica *r, struct node_status *st);

#endif
