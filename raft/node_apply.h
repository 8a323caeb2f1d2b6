/* node_apply.h - applying committed entries to the store and answering the clients who proposed
 * them, shared by the threaded node (raft/node.c) and the deterministic simulator (sim/), so
 * that both runtimes apply and answer alike.
 *
 * A leader keeps the clients whose proposals it appended in a FIFO, in index order. When an
 * entry is applied, every client waiting at that index or below is answered: with the result if
 * the applied entry is its own (same index and term), otherwise "unknown" (its entry was
 * overwritten, so it may or may not have taken effect through a retry elsewhere).
 */
#ifndef RAFT_KV_RAFT_NODE_APPLY_H
#define RAFT_KV_RAFT_NODE_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "kv/kv.h"
#include "raft/raft.h"

struct actor_call;

/* A client waiting for its entry. Each driver fills the fields it answers with. */
struct node_pending {
    uint64_t index, term;    /* where the proposal was appended */
    uint64_t session, seq;   /* the command's client id and sequence number (a retry of it
                                waits for the same entry: node_find_retry) */
    struct actor_call *call; /* raft/node.c: the deferred call to answer */
    uint32_t client;         /* sim/: the client and the attempt to answer */
    uint64_t token;
};

/* Invariant: items[head..len) have non-decreasing indices (several attempts of one command may
 * wait for the same entry). */
struct node_pending_queue {
    struct node_pending *items;
    size_t head, len, cap;
};

/* Answers one waiting client: res is its entry's result, or NULL if the outcome is unknown. p
 * points into the queue: the function must not push to or release that queue. */
typedef void node_answer_fn(void *ctx, const struct node_pending *p, const struct kv_result *res);

/* Adds p, whose index must be above every index already waiting. */
void node_pending_push(struct node_pending_queue *q, const struct node_pending *p);
/* Adds p at its place in index order, after any waiter of the same index: a retry waiting for
 * an entry already appended (node_find_retry). */
void node_pending_join(struct node_pending_queue *q, const struct node_pending *p);

/* What a node does with a client command before proposing it. A client that timed out retries
 * with the same (client, seq); appending it again would only add a duplicate that the session
 * skips at apply, and a client whose timeout is shorter than a commit round trip would append
 * one entry per attempt forever (issue 17). */
enum node_retry {
    NODE_RETRY_NEW = 0, /* not seen here: propose it */
    NODE_RETRY_APPLIED, /* already applied here: answer with the saved result in *saved */
    NODE_RETRY_WAITING, /* already appended by this leader and waiting: *at is that entry
                           (index, term, session, seq); wait for it with node_pending_join */
};
/* Looks cmd up in store's sessions, then in q (the waiting proposals of this leader, all of its
 * current term: q is released when leadership is lost), and traces what it found as actor (NULL:
 * the running actor). *saved->value is valid until the store next changes. */
enum node_retry node_find_retry(const struct kv_store *store, const struct node_pending_queue *q,
                                const struct kv_command *cmd, const char *actor,
                                struct kv_result *saved, struct node_pending *at);

/* Every client still waiting is answered "unknown" (leadership was lost); q is emptied. */
void node_pending_release(struct node_pending_queue *q, node_answer_fn *answer, void *ctx);
/* Forgets every waiting client without an answer (a crash: their timeouts will fire). */
void node_pending_drop(struct node_pending_queue *q);
void node_pending_close(struct node_pending_queue *q);

/* Applies up's entries to store in index order, tracing each as actor (NULL: the running
 * actor), and answers (through answer) the waiting clients they reach. */
void node_apply(const struct raft_update *up, struct kv_store *store, const char *actor,
                struct node_pending_queue *q, node_answer_fn *answer, void *ctx);

#endif
