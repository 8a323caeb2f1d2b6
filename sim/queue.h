/* queue.h - the simulator's event queue: a binary min-heap of events ordered by virtual time,
 * then by a tie-break drawn from a seeded PRNG, then by insertion order.
 *
 * Events due at the same millisecond run in an order chosen by the seed (the "seeded scheduler"
 * of FoundationDB's simulation and TigerBeetle's VOPR), so one seed explores one interleaving
 * and another seed another, and the same seed always the same one. A caller that needs two
 * events of one channel to keep their order (a link that does not reorder) sets the tie itself.
 */
#ifndef RAFT_KV_SIM_QUEUE_H
#define RAFT_KV_SIM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "common/prng.h"
#include "config/config.h"
#include "raft/raft.h"

/* Bound on events waiting at once (TIGER_STYLE: every queue is bounded); pushing past it is a
 * programming error of the simulator (asserted). */
#define SIM_QUEUE_MAX (1u << 22)

enum sim_event_type {
    SIM_EV_TICK = 1,       /* node: the core asked to be woken (token = wake generation) */
    SIM_EV_CAMPAIGN,       /* node: start an election now (node 1 at time 0) */
    SIM_EV_DELIVER,        /* node: a Raft message arrives (data = its wire frame) */
    SIM_EV_REQUEST,        /* node: a client request arrives (data = encoded command) */
    SIM_EV_REPLY,          /* client: a node's answer arrives (token = attempt) */
    SIM_EV_CLIENT_TIMEOUT, /* client: the attempt `token` timed out */
    SIM_EV_CLIENT_WAKE,    /* client: a WAIT is over */
    SIM_EV_CLIENT_START,   /* client: begin (once the first leader is known) */
    SIM_EV_FAULT,          /* the schedule or the nemesis has something due */
    SIM_EV_DISK_DONE,      /* node: its writes so far are synced (token = incarnation) */
    SIM_EV_DISK_FAILED,    /* node: its storage failed (token = incarnation): it stops */
    SIM_EV_RESTART,        /* node: restarts after its storage failed (token = incarnation) */
};

struct sim_event {
    uint64_t at_ms;
    uint64_t tie; /* same-time order; drawn by the queue unless the pusher set `own_tie` */
    uint64_t seq; /* insertion number: makes the order total */
    bool own_tie;
    enum sim_event_type type;
    uint32_t node;   /* target node (node events), or the node that answered (REPLY) */
    uint32_t client; /* 1..num_clients (client events and REQUEST) */
    uint64_t token;
    enum client_reply_status status;
    uint32_t leader_hint;
    uint8_t *data; /* DELIVER: the wire frame; REQUEST: the command; REPLY (OK): the encoded
                      result; owned, may be NULL */
    size_t len;
};

struct sim_queue {
    struct sim_event **heap; /* Invariant: heap[(i-1)/2] precedes heap[i] */
    size_t len, cap;
    uint64_t next_seq;
    struct prng rng; /* the tie-breaks */
};

void sim_queue_init(struct sim_queue *q, uint64_t seed);
/* Frees every event still queued (and what it owns). */
void sim_queue_close(struct sim_queue *q);
/* A zeroed event (heap); the queue owns it once pushed. */
struct sim_event *sim_event_new(enum sim_event_type type, uint64_t at_ms);
/* Frees ev and what it owns. */
void sim_event_free(struct sim_event *ev);
/* A tie-break value from the queue's PRNG (below 2^62, so a caller may add to it). */
uint64_t sim_queue_draw_tie(struct sim_queue *q);
/* Takes ownership of ev. */
void sim_queue_push(struct sim_queue *q, struct sim_event *ev);
/* The first event (ownership passes to the caller), or NULL if the queue is empty. */
struct sim_event *sim_queue_pop(struct sim_queue *q);
/* The first event, still queued (NULL if the queue is empty). */
const struct sim_event *sim_queue_peek(const struct sim_queue *q);
/* When the first event is due; UINT64_MAX if the queue is empty. */
uint64_t sim_queue_next_ms(const struct sim_queue *q);

#endif
