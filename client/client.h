/* client.h - one client's decisions as a pure state machine: which request to send to which
 * node, when to retry, and what to record in the history, driven by replies and timeouts.
 *
 * The client actor (actors/client_actor.c) and a simulator are two drivers of the same logic: the
 * driver performs the action (a call with a timeout, or a wait), then feeds the outcome back as
 * the next event. No thread, clock or I/O here; time arrives in events, randomness from a PRNG
 * seeded by the options.
 *
 * Requests carry (client id, sequence number): a retried request keeps its number, so the
 * replicated state machine applies it once (Raft thesis 6.3). A request whose fate is unknown
 * is recorded as "info", never as "fail" (../shared/history-format.md).
 */
#ifndef RAFT_KV_CLIENT_CLIENT_H
#define RAFT_KV_CLIENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/prng.h"
#include "kv/kv.h"

/* What a node answered to a request (the server side is replica/replica.c). */
enum client_reply_status {
    CLIENT_REPLY_OK = 0,         /* applied: the result is in the reply */
    CLIENT_REPLY_NOT_LEADER = 1, /* not accepted; leader_hint names the leader if known */
    CLIENT_REPLY_UNKNOWN = 2,    /* accepted, but leadership was lost before it committed */
    CLIENT_REPLY_REJECTED = 3,   /* malformed or too large: it never entered the log */
};

enum client_event_type {
    CLIENT_EVENT_START = 1,     /* begin the first request */
    CLIENT_EVENT_REPLY = 2,     /* the node answered the last SEND */
    CLIENT_EVENT_NO_ANSWER = 3, /* the last SEND timed out or its node was down: fate unknown */
    CLIENT_EVENT_WAKE = 4,      /* the last WAIT is over */
};

struct client_event {
    enum client_event_type type;
    uint64_t now_ms;
    /* REPLY only: */
    enum client_reply_status status;
    uint32_t leader_hint;  /* 0 if unknown */
    const uint8_t *result; /* OK: the encoded kv_result */
    size_t result_len;
};

enum client_record_type {
    CLIENT_RECORD_INVOKE = 1,
    CLIENT_RECORD_OK = 2,   /* completed, result known */
    CLIENT_RECORD_FAIL = 3, /* definitely not applied */
    CLIENT_RECORD_INFO = 4, /* outcome unknown */
};

/* One history line without its time (the driver stamps it when it writes it). Strings point
 * into the client and stay valid until the next client_step. */
struct client_record {
    enum client_record_type type;
    enum kv_op op;
    uint64_t seq;
    const char *key;
    const char *value; /* put: the value written; get ok + found: the value read; else NULL */
    uint32_t value_len;
    const char *result;       /* ok only: "ok", "exists", "found", "not_found" */
    const char *error;        /* fail/info only: "not_leader", "timeout", "rejected", ... */
    uint32_t node;            /* the node that answered (ok) or was last asked */
    uint32_t attempts;        /* sends made for this request */
    enum kv_read_policy read; /* get: how it is read (stale: left out of the linearizability
                                 check) */
};

enum client_action_type {
    CLIENT_ACTION_SEND = 1, /* call `node` with request, waiting at most timeout_ms */
    CLIENT_ACTION_WAIT = 2, /* come back with WAKE after wait_ms */
    CLIENT_ACTION_DONE = 3, /* every request is complete */
};

/* Why a SEND goes where it goes (for the trace). */
enum client_send_reason {
    CLIENT_SEND_FIRST = 1,     /* first attempt, at the node believed to lead */
    CLIENT_SEND_REDIRECT = 2,  /* "not leader", to the leader it named */
    CLIENT_SEND_NEXT_NODE = 3, /* "not leader" without a hint: the next node in turn */
    CLIENT_SEND_RETRY = 4,     /* after no answer / unknown fate, same sequence number */
};

struct client_action {
    enum client_action_type type;
    uint32_t node; /* SEND: 1..n_nodes */
    enum client_send_reason reason;
    const uint8_t *request; /* SEND: the encoded kv command; valid until the next step */
    size_t request_len;
    enum kv_read_policy read; /* SEND of a get: how the node reads it */
    uint32_t timeout_ms;      /* SEND */
    uint32_t wait_ms;         /* WAIT */
    /* History lines to write, in order, before performing the action (a completion, then the
     * next request's invoke). */
    struct client_record records[2];
    size_t n_records;
};

struct client_options {
    uint32_t id;           /* process id in the history; >= 1 */
    uint64_t session_base; /* the session id is session_base + id: a run resumed from disk starts
                              past the sessions of earlier runs (0 for a fresh store) */
    uint32_t n_nodes;      /* node ids are 1..n_nodes */
    uint32_t first_node;
    uint32_t requests;
    const char *const *keys; /* borrowed; n_keys >= 1 */
    size_t n_keys;
    uint32_t value_size; /* bytes, >= 1 */
    uint64_t seed;
    uint32_t timeout_ms;          /* one attempt, at first (see struct client) */
    uint32_t request_deadline_ms; /* all attempts of one request; then give up (info/fail) */
    uint32_t backoff_ms_min;      /* first retry wait; doubled per retry, with jitter */
    uint32_t backoff_ms_max;
    uint32_t keep_outcomes; /* outcomes kept for the end-of-run check: the last this many (0:
                               all), so a long run's memory stays bounded */
    /* The mix of requests: relative weights of put, get and delete (all 0: a third each). */
    uint32_t op_weights[3];
    /* How gets are read: relative weights of each enum kv_read_policy (all 0: linearizable).
     * Follower and stale reads go first to a node drawn at random, the others to the leader. */
    uint32_t read_weights[KV_READ_POLICIES];
};

/* Outcome of one request, kept for the end-of-run consistency check. */
struct client_outcome {
    uint64_t seq;
    enum kv_op op;
    enum client_record_type type; /* OK, FAIL or INFO */
    enum kv_status status;        /* OK only */
    char *value;                  /* get + found: the value read (heap) */
    uint32_t value_len;
    enum kv_read_policy read; /* get: how it was read (only KV_READ_LOG gets are in the log) */
};

struct client_stats {
    uint64_t ok, fail, info;
    uint64_t attempts, retries, redirects;
    /* The ok ones by result. */
    uint64_t put_ok, put_exists, get_found, get_not_found, delete_ok, delete_not_found;
    /* The ok gets by how they were read (enum kv_read_policy). */
    uint64_t reads[KV_READ_POLICIES];
};

struct client {
    struct client_options opt;
    struct prng prng;
    uint32_t done;   /* requests completed; Invariant: done <= opt.requests */
    uint32_t leader; /* where the next request goes first */
    bool started;
    /* The request in flight. */
    uint64_t seq;
    enum kv_op op;
    enum kv_read_policy read; /* get */
    const char *key;
    char *value;      /* put: value_size random characters */
    char *prev_value; /* the completed request's value: records may point at it until the
                         next step */
    uint8_t *request;
    size_t request_len;
    uint32_t node;             /* last node asked */
    uint32_t attempts;         /* sends for this request */
    uint32_t redirects_in_row; /* "not leader" hints followed since the last wait */
    uint32_t backoff_ms;       /* next wait */
    /* One attempt's timeout: opt.timeout_ms, doubled after each attempt that timed out (up to
     * max(opt.timeout_ms, opt.backoff_ms_max)) and halved after a first attempt answered within a
     * quarter of it, so a timeout set below a commit round trip cannot starve every request.
     * Kept from one request to the next. Invariant: opt.timeout_ms <= timeout_ms. */
    uint32_t timeout_ms;
    uint64_t sent_ms;    /* the last SEND */
    uint64_t started_ms; /* first send of this request */
    bool uncertain;      /* some attempt may have been applied */
    bool interrupted;    /* client_interrupt: start nothing new */
    enum client_action_type last_action;
    /* Results. */
    struct client_outcome *outcomes; /* a ring of cap_outcomes: the last ones (client_outcome) */
    uint32_t cap_outcomes;
    struct client_stats stats;
    char *read_value; /* get: the value in the last OK record */
};

/* The outcomes kept (the last min(done, keep_outcomes)), and the k-th of them, oldest first. */
uint32_t client_outcomes_kept(const struct client *c);
const struct client_outcome *client_outcome(const struct client *c, uint32_t k);

/* 0, or -1 if the options are out of range (see client_options). */
int client_init(struct client *c, const struct client_options *opt);
void client_close(struct client *c);

/* Feeds one event and fills *act with what to do next. Returns 0, or -1 if the event does
 * not fit the last action (a programming error in the driver; nothing changes). */
int client_step(struct client *c, const struct client_event *ev, struct client_action *act);

/* The run is being stopped (a signal): from the next step on, the client starts no request and
 * no new attempt. The request in flight still takes the answer its current attempt brings; any
 * step that would send or wait ends it instead, as info "interrupted" if an attempt may have been
 * applied, else fail, and the action is DONE. A driver waiting out a backoff delivers its WAKE at
 * once. */
void client_interrupt(struct client *c);

const char *client_record_type_name(enum client_record_type type);
/* The history's result word for an applied command: put ok/exists, get found/not_found,
 * delete ok/not_found. */
const char *client_result_name(enum kv_op op, enum kv_status status);

#endif
