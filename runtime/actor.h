/* actor.h - actors: one POSIX thread, one lock-free mailbox and one timer heap each.
 *
 * The model is Erlang/OTP's gen_server: cast (asynchronous send), call (request/reply with a
 * timeout), deferred replies (answer a call later, like gen_server:reply/2), send_after timers,
 * and stop. Messages are single allocations that start with a struct actor_msg; a successful
 * send moves ownership to the receiver, which frees the message with actor_msg_free().
 *
 * Lifetime: actor_spawn returns a reference; every holder of a struct actor pointer holds a
 * reference (actor_ref/actor_unref). A stopped actor's memory stays valid until its last
 * reference is dropped, so sending to a stopped actor is safe: it fails with ACTOR_ESTOPPED.
 * The spawner stops and joins the thread (actor_stop + actor_join) before its final unref.
 */
#ifndef RAFT_KV_RUNTIME_ACTOR_H
#define RAFT_KV_RUNTIME_ACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/mailbox.h"
#include "runtime/timer.h"

enum actor_status {
    ACTOR_OK = 0,
    ACTOR_ETIMEDOUT, /* call: no reply within the timeout */
    ACTOR_ESTOPPED,  /* the receiver is stopped (or stopped before answering) */
    ACTOR_ENOREPLY,  /* call: the receiver freed the request without answering it */
    ACTOR_ESPAWN,    /* spawn: the thread could not be created */
};
const char *actor_strerror(int status);

struct actor;
struct actor_call; /* the duty to answer one call; see actor_defer */
struct actor_msg;

/* Optional destructor for what a message owns besides itself (called before it is freed). */
typedef void (*actor_msg_dtor)(struct actor_msg *msg);

/* The header every message starts with. Fields marked runtime are not for handlers. */
struct actor_msg {
    struct mbox_node node;   /* runtime: mailbox link */
    struct actor_call *call; /* runtime: set while this request awaits an answer */
    actor_msg_dtor dtor;     /* NULL when the message owns nothing else */
    uint32_t type;           /* application-defined */
    uint32_t size;           /* bytes allocated, header included */
};

/* Allocates a zeroed message of size bytes (>= sizeof(struct actor_msg)). Never NULL. */
struct actor_msg *actor_msg_new(size_t size, uint32_t type);
/* Runs the destructor and frees. A call request freed unanswered fails its caller with
 * ACTOR_ENOREPLY at once. NULL is allowed. */
void actor_msg_free(struct actor_msg *msg);
/* True if msg is a call request that still awaits an answer. */
bool actor_msg_is_call(const struct actor_msg *msg);

/* What a handler tells its actor's loop. */
enum actor_next { ACTOR_CONTINUE, ACTOR_STOP };

/* Handles one message; owns msg (free it, forward it, or keep it). */
typedef enum actor_next (*actor_handler_fn)(struct actor *self, void *state, struct actor_msg *msg);
/* Called on the actor's thread before the first message; may arm timers, send, call. */
typedef void (*actor_start_fn)(struct actor *self, void *state);
/* Called on the actor's thread when it stops, to free its state. Calls it deferred and did not
 * answer are failed with ACTOR_ESTOPPED right after it returns. */
typedef void (*actor_stop_fn)(struct actor *self, void *state);

/* Runs an event-loop actor's loop (below) on its thread, after on_start; returns when
 * actor_loop_run_ready says ACTOR_STOP. */
typedef void (*actor_loop_fn)(struct actor *self, void *state);

struct actor_spec {
    const char *name;         /* e.g. "node 3"; copied (at most 31 bytes kept) */
    actor_handler_fn handler; /* required */
    actor_start_fn on_start;  /* optional */
    actor_stop_fn on_stop;    /* optional */
    actor_loop_fn loop;       /* optional: an event-loop actor (below) */
    /* Optional: called on the actor's thread each time its mailbox runs dry, before it waits
     * (or, for an event-loop actor, before its loop goes back to its sockets): the place to
     * finish what the messages just handled began together (a leader's AppendEntries for a
     * burst of requests). It may send; messages it casts to itself are handled before any wait. */
    actor_stop_fn on_idle;
    void *state; /* handed to the callbacks */
};

/* Starts an actor on its own thread. On success *out is a reference owned by the caller.
 * Errors: ACTOR_ESPAWN (the thread could not be created; nothing is left behind and on_stop is
 * not called). */
int actor_spawn(const struct actor_spec *spec, struct actor **out);

/* True when nothing waits in self's mailbox now (self's thread only): a handler can tell
 * whether more messages follow the one it handles. */
bool actor_mailbox_empty(struct actor *self);

/* Asks the actor to stop after the message it is handling; from any thread, idempotent, never
 * blocks. Messages still queued are freed; calls among them fail with ACTOR_ESTOPPED. */
void actor_stop(struct actor *a);
/* Waits for the actor's thread to end. Call once, from a thread other than the actor's. */
void actor_join(struct actor *a);

struct actor *actor_ref(struct actor *a);
void actor_unref(struct actor *a);

const char *actor_name(const struct actor *a);
/* The actor whose thread is running, or NULL on a thread that is not an actor. */
struct actor *actor_self(void);
/* True once the actor has stopped accepting messages. */
bool actor_is_stopped(const struct actor *a);

/* Sends msg to `to` without blocking. Always takes ownership of msg: on ACTOR_ESTOPPED the
 * message is freed (a call request in it fails). Messages from one sender arrive in order. */
int actor_cast(struct actor *to, struct actor_msg *msg);

/* Sends the request req to `to` and waits up to timeout_ms for the answer, which is stored in
 * *reply (owned by the caller) on ACTOR_OK. Takes ownership of req. Errors: ACTOR_ETIMEDOUT
 * (an answer arriving later is freed by the runtime), ACTOR_ESTOPPED (returned promptly if the
 * receiver is or becomes stopped), ACTOR_ENOREPLY. Blocks the calling thread, actor or not. */
int actor_call(struct actor *to, struct actor_msg *req, uint32_t timeout_ms,
               struct actor_msg **reply);

/* The answer to an asynchronous call (actor_call_async), cast to the actor named there. */
#define ACTOR_MSG_ANSWER UINT32_C(0xffffff01) /* a type no application uses */
struct actor_answer {
    struct actor_msg hdr; /* type ACTOR_MSG_ANSWER */
    uint64_t tag;         /* the caller's, from actor_call_async */
    int status;           /* ACTOR_OK, ACTOR_ESTOPPED or ACTOR_ENOREPLY */
    /* ACTOR_OK: the reply, owned by the answer: take it (set it to NULL) to keep it past
     * actor_msg_free of the answer, which frees it otherwise. */
    struct actor_msg *reply;
};

/* Sends the request req to `to` without waiting: the answer comes back later as a struct
 * actor_answer cast to reply_to, with tag, whatever becomes of the request (answered, freed
 * unanswered, or `to` stopped); exactly one answer per call, unless reply_to is stopped by then
 * (the answer is freed). Takes ownership of req. There is no timeout: a caller that wants one
 * arms its own timer and ignores a late answer. Lets one actor (or a thread with an event loop)
 * keep many calls in flight, as a load generator or a network front end must. */
void actor_call_async(struct actor *to, struct actor_msg *req, struct actor *reply_to,
                      uint64_t tag);

/* Answers the call request req now (handler of the receiving actor). Takes ownership of reply,
 * not of req. A no-op returning false if req is not an unanswered call (reply is freed). */
bool actor_reply(struct actor_msg *req, struct actor_msg *reply);

/* Takes the duty to answer req out of the message, so the handler can free req and answer
 * later with actor_reply_call (like gen_server:reply/2). Returns NULL if req is not a call.
 * Only the actor that received req may defer it and must answer on its own thread. */
struct actor_call *actor_defer(struct actor *self, struct actor_msg *req);
/* Answers a deferred call; takes ownership of reply (freed if the caller gave up). */
void actor_reply_call(struct actor *self, struct actor_call *call, struct actor_msg *reply);
/* Fails a deferred call with status (ACTOR_ESTOPPED or ACTOR_ENOREPLY). */
void actor_fail_call(struct actor *self, struct actor_call *call, int status);

/* Arms a timer on the calling actor (self must be the running actor): after delay_ms, msg is
 * delivered to `to` (handled directly when to == self, cast otherwise). Takes ownership of msg.
 * Returns an id for actor_cancel_timer. */
timer_id actor_send_after(struct actor *self, struct actor *to, struct actor_msg *msg,
                          uint32_t delay_ms);
/* Disarms a timer armed by self and frees its message. False if it already fired, was
 * cancelled, or the id is stale: a cancelled or fired timer never delivers afterwards. */
bool actor_cancel_timer(struct actor *self, timer_id id);

/* --- event-loop actors ----------------------------------------------------------------------
 * An actor whose thread waits in an event loop of its own (epoll, libevent) instead of on its
 * mailbox, so that one thread serves sockets and messages alike: a network front end answers
 * HTTP requests and receives the answers of its asynchronous calls on the same thread. Its
 * spec names a loop function, which waits for actor_loop_fd() to become readable (it does when
 * a message arrives in the empty mailbox, or the actor is asked to stop), then calls
 * actor_loop_run_ready(), and wakes itself for the next timer. Everything else (cast, call,
 * defer, timers, stop) works as for any actor; the handler runs inside actor_loop_run_ready. */

/* The file descriptor the loop waits on (readable: call actor_loop_run_ready). */
int actor_loop_fd(const struct actor *self);
/* On the actor's thread: handles the messages queued now (at most a few hundred, then the fd is
 * left readable for the rest) and the timers due; returns ACTOR_STOP when the actor must stop
 * (the loop function then returns), ACTOR_CONTINUE otherwise, with *next_timer_ns the
 * CLOCK_MONOTONIC deadline of the next timer (actor_now_ns), 0 when none is armed. */
enum actor_next actor_loop_run_ready(struct actor *self, uint64_t *next_timer_ns);

/* Monotonic clock in nanoseconds, shared by all actors. */
uint64_t actor_now_ns(void);

#endif
