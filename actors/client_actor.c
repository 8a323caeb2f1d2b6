/* client_actor.c - the threaded driver of the client logic: each step performs one action (a
 * call with a timeout, or a timer for a backoff) and queues the next step to itself, so the
 * mailbox stays responsive between attempts.
 */
#include "actors/client_actor.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "host/client_trace.h"
#include "actors/node.h"
#include "runtime/trace.h"

enum client_msg_type {
    CLIENT_MSG_STEP = 0x200, /* to self: feed `next` to the logic */
    CLIENT_MSG_WAKE,         /* timer to self: a backoff is over */
    CLIENT_MSG_AWAIT_DONE,   /* call: answered with a client_done_reply when done */
    CLIENT_MSG_INTERRUPT,    /* cast: end the request in flight and stop (client_interrupt) */
};

struct client_done_reply {
    struct actor_msg hdr;
    struct client_report report;
};

struct client_state {
    struct client_actor_options opt;
    struct actor_dir_view nodes;
    struct actor *self;
    struct client logic;
    struct client_event next; /* the event the next STEP feeds */
    struct actor_msg *reply;  /* the node_reply that `next` points into, or NULL */
    bool done;
    timer_id wake_timer; /* the backoff being waited out, 0 if none */
    struct actor_call *done_waiter;
};

static uint64_t now_ms(const struct client_state *s)
{
    return (actor_now_ns() - s->opt.epoch_ns) / 1000000u;
}

static void free_done_reply(struct actor_msg *msg)
{
    client_report_close(&((struct client_done_reply *)msg)->report);
}

/* The report, with its own copy of the outcomes (the reply may outlive this client). */
static struct actor_msg *done_reply(struct client_state *s)
{
    struct client_done_reply *r =
        (struct client_done_reply *)actor_msg_new(sizeof *r, CLIENT_MSG_AWAIT_DONE);
    r->hdr.dtor = free_done_reply;
    r->report.id = s->opt.client.id;
    r->report.stats = s->logic.stats;
    uint32_t kept = client_outcomes_kept(&s->logic);
    r->report.n_outcomes = kept;
    r->report.outcomes = xcalloc(kept ? kept : 1, sizeof *r->report.outcomes);
    for (uint32_t i = 0; i < kept; i++) {
        struct client_outcome *o = &r->report.outcomes[i];
        *o = *client_outcome(&s->logic, i);
        if (o->value != NULL)
            o->value = xstrndup(o->value, o->value_len);
    }
    return &r->hdr;
}

/* Performs a SEND: one call, whose outcome becomes the next event. */
static void perform_send(struct client_state *s, const struct client_action *act)
{
    if (act->reason != CLIENT_SEND_FIRST)
        trace_log(TRACE_INFO, NULL, "client", "sends request #%llu to node %u%s",
                  (unsigned long long)s->logic.seq, act->node,
                  client_send_reason_text(act->reason));
    struct actor_msg *reply = NULL;
    struct actor *node = actor_dir_view_get(&s->nodes, act->node - 1);
    int rc = node == NULL
                 ? ACTOR_ESTOPPED /* the node is down */
                 : actor_call(node,
                              node_request_new(act->request, (uint32_t)act->request_len, act->read),
                              act->timeout_ms, &reply);
    s->next = (struct client_event){.now_ms = now_ms(s)};
    if (rc != ACTOR_OK) {
        s->next.type = CLIENT_EVENT_NO_ANSWER;
        trace_log(TRACE_INFO, NULL, "client", "no answer from node %u: %s", act->node,
                  actor_strerror(rc));
    } else {
        const struct node_reply *r = (const struct node_reply *)reply;
        s->reply = reply;
        s->next.type = CLIENT_EVENT_REPLY;
        s->next.status = r->status;
        s->next.leader_hint = r->leader_hint;
        s->next.result = r->data;
        s->next.result_len = r->len;
    }
    actor_cast(s->self, actor_msg_new(sizeof(struct actor_msg), CLIENT_MSG_STEP));
}

static void take_step(struct client_state *s)
{
    struct client_action act;
    int rc = client_step(&s->logic, &s->next, &act);
    assert(rc == 0); /* the driver feeds each event after the action it answers */
    (void)rc;
    actor_msg_free(s->reply);
    s->reply = NULL;
    for (size_t i = 0; i < act.n_records; i++)
        client_record_write(s->opt.history, s->opt.client.id, NULL, &act.records[i]);
    switch (act.type) {
    case CLIENT_ACTION_SEND:
        perform_send(s, &act);
        break;
    case CLIENT_ACTION_WAIT:
        s->wake_timer =
            actor_send_after(s->self, s->self,
                             actor_msg_new(sizeof(struct actor_msg), CLIENT_MSG_WAKE), act.wait_ms);
        break;
    case CLIENT_ACTION_DONE:
        s->done = true;
        trace_log(TRACE_INFO, NULL, "client", "done: %llu ok, %llu fail, %llu info",
                  (unsigned long long)s->logic.stats.ok, (unsigned long long)s->logic.stats.fail,
                  (unsigned long long)s->logic.stats.info);
        if (s->done_waiter != NULL) {
            actor_reply_call(s->self, s->done_waiter, done_reply(s));
            s->done_waiter = NULL;
        }
        break;
    }
}

static enum actor_next client_handle(struct actor *self, void *state, struct actor_msg *msg)
{
    struct client_state *s = state;
    switch (msg->type) {
    case CLIENT_MSG_STEP:
        take_step(s);
        break;
    case CLIENT_MSG_WAKE:
        s->wake_timer = 0;
        s->next = (struct client_event){.type = CLIENT_EVENT_WAKE, .now_ms = now_ms(s)};
        take_step(s);
        break;
    case CLIENT_MSG_INTERRUPT:
        client_interrupt(&s->logic);
        /* Waiting out a backoff: wake now. Otherwise a STEP is queued (or the client is done),
         * and the logic ends the request at that step. */
        if (s->wake_timer != 0 && actor_cancel_timer(self, s->wake_timer)) {
            s->wake_timer = 0;
            s->next = (struct client_event){.type = CLIENT_EVENT_WAKE, .now_ms = now_ms(s)};
            take_step(s);
        }
        break;
    case CLIENT_MSG_AWAIT_DONE:
        if (s->done) {
            actor_reply(msg, done_reply(s));
        } else {
            /* A newer waiter replaces an older one, whose caller has given up (timed out). */
            if (s->done_waiter != NULL)
                actor_fail_call(self, s->done_waiter, ACTOR_ENOREPLY);
            s->done_waiter = actor_defer(self, msg);
        }
        break;
    }
    actor_msg_free(msg);
    return ACTOR_CONTINUE;
}

static void client_start(struct actor *self, void *state)
{
    struct client_state *s = state;
    s->self = self;
    s->next = (struct client_event){.type = CLIENT_EVENT_START, .now_ms = now_ms(s)};
    actor_cast(self, actor_msg_new(sizeof(struct actor_msg), CLIENT_MSG_STEP));
}

static void client_stop(struct actor *self, void *state)
{
    (void)self;
    struct client_state *s = state;
    actor_msg_free(s->reply);
    actor_dir_view_close(&s->nodes);
    client_close(&s->logic);
    free(s);
}

int client_actor_spawn(const struct client_actor_options *opt, struct actor **out)
{
    struct client_state *s = xcalloc(1, sizeof *s);
    s->opt = *opt;
    if (client_init(&s->logic, &opt->client) != 0) {
        free(s);
        return ACTOR_ESPAWN;
    }
    actor_dir_view_init(&s->nodes, opt->nodes);
    char name[32];
    snprintf(name, sizeof name, "client %u", opt->client.id);
    struct actor_spec spec = {.name = name,
                              .handler = client_handle,
                              .on_start = client_start,
                              .on_stop = client_stop,
                              .state = s};
    int rc = actor_spawn(&spec, out);
    if (rc != ACTOR_OK)
        client_stop(NULL, s);
    return rc;
}

void client_actor_interrupt(struct actor *client)
{
    actor_cast(client, actor_msg_new(sizeof(struct actor_msg), CLIENT_MSG_INTERRUPT));
}

int client_actor_await_done(struct actor *client, uint32_t timeout_ms, struct client_report *out)
{
    struct actor_msg *reply = NULL;
    int rc = actor_call(client, actor_msg_new(sizeof(struct actor_msg), CLIENT_MSG_AWAIT_DONE),
                        timeout_ms, &reply);
    if (rc != ACTOR_OK)
        return rc;
    struct client_done_reply *r = (struct client_done_reply *)reply;
    *out = r->report;
    memset(&r->report, 0, sizeof r->report); /* moved into *out */
    actor_msg_free(reply);
    return ACTOR_OK;
}

void client_report_close(struct client_report *r)
{
    for (uint32_t i = 0; i < r->n_outcomes; i++)
        free(r->outcomes[i].value);
    free(r->outcomes);
    memset(r, 0, sizeof *r);
}
