/* client.c - client decisions as a pure state machine (see client.h): one request in flight,
 * retried with the same sequence number until its outcome is known or its time is up.
 *
 * The retry rules are chosen so the history stays honest: only an answer proves an outcome;
 * "not leader" and "rejected" prove the attempt was not applied; silence and lost leadership
 * prove nothing, so after them a give-up is recorded as info, never as fail.
 */
#include "client/client.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

const char *client_record_type_name(enum client_record_type type)
{
    switch (type) {
    case CLIENT_RECORD_INVOKE:
        return "invoke";
    case CLIENT_RECORD_OK:
        return "ok";
    case CLIENT_RECORD_FAIL:
        return "fail";
    case CLIENT_RECORD_INFO:
        return "info";
    }
    return "?";
}

const char *client_result_name(enum kv_op op, enum kv_status status)
{
    switch (status) {
    case KV_OK:
        return op == KV_OP_GET ? "found" : "ok";
    case KV_EXISTS:
        return "exists";
    case KV_NOT_FOUND:
        return "not_found";
    case KV_STALE:
        return "stale";
    }
    return "?";
}

int client_init(struct client *c, const struct client_options *opt)
{
    if (opt->id == 0 || opt->n_nodes == 0 || opt->first_node == 0 ||
        opt->first_node > opt->n_nodes || opt->n_keys == 0 || opt->value_size == 0 ||
        opt->timeout_ms == 0 || opt->backoff_ms_min == 0 ||
        opt->backoff_ms_max < opt->backoff_ms_min)
        return -1;
    memset(c, 0, sizeof *c);
    c->opt = *opt;
    prng_seed(&c->prng, opt->seed);
    c->leader = opt->first_node;
    c->timeout_ms = opt->timeout_ms;
    c->cap_outcomes = opt->requests ? opt->requests : 1;
    if (opt->keep_outcomes != 0 && opt->keep_outcomes < c->cap_outcomes)
        c->cap_outcomes = opt->keep_outcomes;
    c->outcomes = xcalloc(c->cap_outcomes, sizeof *c->outcomes);
    return 0;
}

uint32_t client_outcomes_kept(const struct client *c)
{
    return c->done < c->cap_outcomes ? c->done : c->cap_outcomes;
}

const struct client_outcome *client_outcome(const struct client *c, uint32_t k)
{
    assert(k < client_outcomes_kept(c));
    return &c->outcomes[(c->done - client_outcomes_kept(c) + k) % c->cap_outcomes];
}

void client_close(struct client *c)
{
    for (uint32_t i = 0; i < client_outcomes_kept(c); i++)
        free(c->outcomes[i].value);
    free(c->outcomes);
    free(c->value);
    free(c->prev_value);
    free(c->request);
    free(c->read_value);
    memset(c, 0, sizeof *c);
}

/* Characters of generated values: readable in the trace, nothing to escape in JSON. */
static const char value_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

/* Index drawn from weights (n of them, total > 0), each in proportion to its weight. */
static uint32_t draw_weighted(struct prng *rng, const uint32_t *weights, uint32_t n, uint64_t total)
{
    uint64_t x = prng_range(rng, 0, total - 1);
    for (uint32_t i = 0; i < n; i++) {
        if (x < weights[i])
            return i;
        x -= weights[i];
    }
    return n - 1; /* not reached: x < total */
}

/* A get's read policy: the only one with a weight, or one drawn from the mix. */
static enum kv_read_policy draw_read(struct client *c)
{
    uint64_t total = 0;
    uint32_t nonzero = 0, last = 0;
    for (uint32_t i = 0; i < KV_READ_POLICIES; i++) {
        total += c->opt.read_weights[i];
        if (c->opt.read_weights[i] > 0) {
            nonzero++;
            last = i;
        }
    }
    if (nonzero == 0)
        return KV_READ_LINEARIZABLE;
    if (nonzero == 1)
        return (enum kv_read_policy)last;
    return (enum kv_read_policy)draw_weighted(&c->prng, c->opt.read_weights, KV_READ_POLICIES,
                                              total);
}

/* Draws the next request (operation, key, value) and encodes it. */
static void new_request(struct client *c, uint64_t now_ms)
{
    static const enum kv_op ops[] = {KV_OP_PUT, KV_OP_GET, KV_OP_DELETE};
    c->seq++;
    const uint32_t *w = c->opt.op_weights;
    uint64_t total = (uint64_t)w[0] + w[1] + w[2];
    /* All zero: a third each, drawn as before the mix existed (the same seed, the same run). */
    c->op = ops[total == 0 ? prng_range(&c->prng, 0, 2) : draw_weighted(&c->prng, w, 3, total)];
    /* Only a get has a read policy; other commands carry the zero value (docs/wire.md). */
    c->read = c->op == KV_OP_GET ? draw_read(c) : KV_READ_LINEARIZABLE;
    c->key = c->opt.keys[prng_range(&c->prng, 0, c->opt.n_keys - 1)];
    free(c->value);
    c->value = NULL;
    if (c->op == KV_OP_PUT) {
        c->value = xmalloc(c->opt.value_size + 1);
        for (uint32_t i = 0; i < c->opt.value_size; i++)
            c->value[i] = value_alphabet[prng_range(&c->prng, 0, sizeof value_alphabet - 2)];
        c->value[c->opt.value_size] = '\0';
    }
    struct kv_command cmd = {
        .op = c->op,
        .client_id = c->opt.session_base + c->opt.id,
        .seq = c->seq,
        .key = (const uint8_t *)c->key,
        .key_len = (uint32_t)strlen(c->key),
        .value = (const uint8_t *)c->value,
        .value_len = c->value ? c->opt.value_size : 0,
    };
    free(c->request);
    c->request_len = kv_command_size(&cmd);
    c->request = xmalloc(c->request_len);
    size_t written;
    int rc = kv_command_encode(&cmd, c->request, c->request_len, &written);
    assert(rc == 0 && written == c->request_len);
    (void)rc;
    c->attempts = 0;
    c->redirects_in_row = 0;
    c->uncertain = false;
    c->backoff_ms = c->opt.backoff_ms_min;
    c->started_ms = now_ms;
}

static struct client_record *add_record(struct client_action *act, enum client_record_type type,
                                        const struct client *c)
{
    assert(act->n_records < sizeof act->records / sizeof act->records[0]);
    struct client_record *r = &act->records[act->n_records++];
    *r = (struct client_record){
        .type = type,
        .op = c->op,
        .seq = c->seq,
        .key = c->key,
        .node = c->node,
        .attempts = c->attempts,
        .read = c->read,
    };
    if (c->op == KV_OP_PUT && (type == CLIENT_RECORD_INVOKE || type == CLIENT_RECORD_OK)) {
        r->value = c->value;
        r->value_len = c->opt.value_size;
    }
    return r;
}

/* An attempt timed out: the next one waits twice as long, up to the cap. */
static void grow_timeout(struct client *c)
{
    uint32_t cap =
        c->opt.backoff_ms_max > c->opt.timeout_ms ? c->opt.backoff_ms_max : c->opt.timeout_ms;
    c->timeout_ms = c->timeout_ms > cap / 2 ? cap : 2 * c->timeout_ms;
}

/* A request answered at its first attempt within a quarter of the timeout: relax the timeout
 * toward the configured one. Only first attempts count (Karn's rule for TCP's retransmission
 * timer): a retry can be answered at once from an entry the first attempt already committed,
 * which says nothing about how long a commit takes. */
static void maybe_shrink_timeout(struct client *c, uint64_t now_ms)
{
    if (c->attempts == 1 && (now_ms - c->sent_ms) * 4 < c->timeout_ms)
        c->timeout_ms =
            c->timeout_ms / 2 > c->opt.timeout_ms ? c->timeout_ms / 2 : c->opt.timeout_ms;
}

static void send_to(struct client *c, struct client_action *act, uint32_t node,
                    enum client_send_reason reason, uint64_t now_ms)
{
    assert(node >= 1 && node <= c->opt.n_nodes);
    c->node = node;
    c->sent_ms = now_ms;
    c->attempts++;
    c->stats.attempts++;
    if (reason == CLIENT_SEND_RETRY || reason == CLIENT_SEND_NEXT_NODE)
        c->stats.retries++;
    act->type = CLIENT_ACTION_SEND;
    act->node = node;
    act->reason = reason;
    act->request = c->request;
    act->request_len = c->request_len;
    act->read = c->read;
    act->timeout_ms = c->timeout_ms;
    c->last_action = CLIENT_ACTION_SEND;
}

/* Starts the next request, or finishes. */
static void next_request(struct client *c, struct client_action *act, uint64_t now_ms)
{
    if (c->done == c->opt.requests || c->interrupted) {
        act->type = CLIENT_ACTION_DONE;
        c->last_action = CLIENT_ACTION_DONE;
        return;
    }
    new_request(c, now_ms);
    /* Follower and stale reads are for any node: spread them over the cluster. */
    uint32_t first = c->leader;
    if (c->op == KV_OP_GET && (c->read == KV_READ_FOLLOWER || c->read == KV_READ_STALE))
        first = (uint32_t)prng_range(&c->prng, 1, c->opt.n_nodes);
    c->node = first;
    add_record(act, CLIENT_RECORD_INVOKE, c);
    send_to(c, act, first, CLIENT_SEND_FIRST, now_ms);
}

/* Records the outcome of the request in flight and moves on. */
static void complete(struct client *c, struct client_action *act, enum client_record_type type,
                     enum kv_status status, const char *error, uint64_t now_ms)
{
    struct client_outcome *o = &c->outcomes[c->done % c->cap_outcomes];
    free(o->value); /* the oldest outcome kept, once the ring is full */
    *o = (struct client_outcome){
        .seq = c->seq, .op = c->op, .type = type, .status = status, .read = c->read};
    struct client_record *r = add_record(act, type, c);
    if (type == CLIENT_RECORD_OK) {
        c->stats.ok++;
        bool yes = status == KV_OK;
        switch (c->op) {
        case KV_OP_PUT:
            *(yes ? &c->stats.put_ok : &c->stats.put_exists) += 1;
            break;
        case KV_OP_GET:
            *(yes ? &c->stats.get_found : &c->stats.get_not_found) += 1;
            c->stats.reads[c->read]++;
            break;
        case KV_OP_DELETE:
            *(yes ? &c->stats.delete_ok : &c->stats.delete_not_found) += 1;
            break;
        case KV_OP_NOOP:
            break;
        }
        r->result = client_result_name(c->op, status);
        if (c->op == KV_OP_GET && status == KV_OK) {
            o->value = xstrndup(c->read_value, strlen(c->read_value));
            o->value_len = (uint32_t)strlen(c->read_value);
            r->value = c->read_value;
            r->value_len = o->value_len;
        }
    } else {
        r->error = error;
        if (type == CLIENT_RECORD_FAIL)
            c->stats.fail++;
        else
            c->stats.info++;
    }
    c->done++;
    /* The record may point at the value; keep it past the next request's draw. */
    free(c->prev_value);
    c->prev_value = c->value;
    c->value = NULL;
    next_request(c, act, now_ms);
}

/* Gives up on the request in flight: fail only if no attempt can have been applied. */
static void give_up(struct client *c, struct client_action *act, const char *error, uint64_t now_ms)
{
    if (c->interrupted && strcmp(error, "rejected") != 0)
        error = "interrupted";
    complete(c, act, c->uncertain ? CLIENT_RECORD_INFO : CLIENT_RECORD_FAIL, KV_OK,
             c->uncertain ? (strcmp(error, "not_leader") == 0 ? "unknown" : error) : error, now_ms);
}

void client_interrupt(struct client *c)
{
    c->interrupted = true;
}

static bool out_of_time(const struct client *c, uint64_t now_ms)
{
    /* An interrupted client is out of time for everything but the answer it is waiting for. */
    if (c->interrupted)
        return true;
    return now_ms - c->started_ms >= c->opt.request_deadline_ms;
}

/* Waits a backoff (doubling, with jitter in [b/2, b]) before the next attempt. */
static void back_off(struct client *c, struct client_action *act)
{
    uint32_t b = c->backoff_ms;
    act->type = CLIENT_ACTION_WAIT;
    act->wait_ms = (uint32_t)prng_range(&c->prng, b / 2 ? b / 2 : 1, b);
    c->backoff_ms = b * 2 < c->opt.backoff_ms_max ? b * 2 : c->opt.backoff_ms_max;
    c->redirects_in_row = 0;
    c->last_action = CLIENT_ACTION_WAIT;
}

static uint32_t next_node(const struct client *c, uint32_t node)
{
    return node % c->opt.n_nodes + 1;
}

/* An OK reply: decode the result and check it answers our request. */
static bool take_result(struct client *c, const struct client_event *ev, enum kv_status *status)
{
    struct kv_result res;
    if (ev->result == NULL || kv_result_decode(ev->result, ev->result_len, &res) != 0)
        return false;
    if (res.client_id != c->opt.session_base + c->opt.id || res.seq != c->seq ||
        res.status == KV_STALE)
        return false;
    *status = res.status;
    free(c->read_value);
    c->read_value = xstrndup((const char *)res.value, res.value ? res.value_len : 0);
    return true;
}

static void on_reply(struct client *c, const struct client_event *ev, struct client_action *act)
{
    enum kv_status status;
    switch (ev->status) {
    case CLIENT_REPLY_OK:
        if (take_result(c, ev, &status)) {
            /* The node that answered, or the leader it names (a follower answers a retry of a
             * command it has applied, and names the leader for the next request). A follower or
             * stale read may be answered by any node: only the leader it names counts. */
            bool any_node =
                c->op == KV_OP_GET && (c->read == KV_READ_FOLLOWER || c->read == KV_READ_STALE);
            if (ev->leader_hint >= 1 && ev->leader_hint <= c->opt.n_nodes)
                c->leader = ev->leader_hint;
            else if (!any_node)
                c->leader = c->node;
            maybe_shrink_timeout(c, ev->now_ms);
            complete(c, act, CLIENT_RECORD_OK, status, NULL, ev->now_ms);
            return;
        }
        /* An answer we cannot read proves nothing. */
        c->uncertain = true;
        break;
    case CLIENT_REPLY_NOT_LEADER:
        c->stats.redirects++;
        if (out_of_time(c, ev->now_ms)) {
            give_up(c, act, "not_leader", ev->now_ms);
            return;
        }
        /* Follow a hint at once, but not around in circles: at most n_nodes redirects in a
         * row before waiting for an election to settle. */
        if (ev->leader_hint >= 1 && ev->leader_hint <= c->opt.n_nodes &&
            ev->leader_hint != c->node && c->redirects_in_row < c->opt.n_nodes) {
            c->redirects_in_row++;
            c->leader = ev->leader_hint;
            send_to(c, act, ev->leader_hint, CLIENT_SEND_REDIRECT, ev->now_ms);
            return;
        }
        c->leader = next_node(c, c->node);
        back_off(c, act);
        return;
    case CLIENT_REPLY_UNKNOWN:
        c->uncertain = true;
        break;
    case CLIENT_REPLY_REJECTED:
        give_up(c, act, "rejected", ev->now_ms);
        return;
    }
    /* Unknown fate: retry with the same sequence number after a backoff. */
    if (out_of_time(c, ev->now_ms)) {
        give_up(c, act, "unknown", ev->now_ms);
        return;
    }
    c->leader = next_node(c, c->node);
    back_off(c, act);
}

int client_step(struct client *c, const struct client_event *ev, struct client_action *act)
{
    memset(act, 0, sizeof *act);
    switch (ev->type) {
    case CLIENT_EVENT_START:
        if (c->started)
            return -1;
        c->started = true;
        next_request(c, act, ev->now_ms);
        return 0;
    case CLIENT_EVENT_REPLY:
        if (c->last_action != CLIENT_ACTION_SEND)
            return -1;
        on_reply(c, ev, act);
        return 0;
    case CLIENT_EVENT_NO_ANSWER:
        if (c->last_action != CLIENT_ACTION_SEND)
            return -1;
        c->uncertain = true;
        grow_timeout(c);
        if (out_of_time(c, ev->now_ms)) {
            give_up(c, act, "timeout", ev->now_ms);
            return 0;
        }
        c->leader = next_node(c, c->node);
        back_off(c, act);
        return 0;
    case CLIENT_EVENT_WAKE:
        if (c->last_action != CLIENT_ACTION_WAIT)
            return -1;
        if (out_of_time(c, ev->now_ms)) {
            give_up(c, act, c->uncertain ? "timeout" : "not_leader", ev->now_ms);
            return 0;
        }
        send_to(c, act, c->leader, c->uncertain ? CLIENT_SEND_RETRY : CLIENT_SEND_NEXT_NODE,
                ev->now_ms);
        return 0;
    }
    return -1;
}
