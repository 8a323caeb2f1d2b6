/* test_client_logic.c - the client's decisions, driven event by event with no threads: what it
 * sends where, how it retries, and that the history it records is honest (fail only when no
 * attempt can have been applied). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <string.h>

#include "client/client.h"

static const char *const keys[] = {"a", "b", "c"};

static struct client_options options(uint32_t requests)
{
    return (struct client_options){
        .id = 7,
        .n_nodes = 3,
        .first_node = 1,
        .requests = requests,
        .keys = keys,
        .n_keys = 3,
        .value_size = 6,
        .seed = 99,
        .timeout_ms = 100,
        .request_deadline_ms = 1000,
        .backoff_ms_min = 10,
        .backoff_ms_max = 80,
    };
}

static struct client_event ev_of(enum client_event_type type, uint64_t now_ms)
{
    return (struct client_event){.type = type, .now_ms = now_ms};
}

/* A reply event for the request in flight with the given status; the result buffer lives in
 * the caller's `buf`. */
static struct client_event ok_reply(const struct client *c, enum kv_status status,
                                    const char *value, uint8_t *buf, size_t cap, uint64_t now)
{
    struct kv_result res = {.status = status, .client_id = c->opt.id, .seq = c->seq};
    if (value != NULL) {
        res.value = (const uint8_t *)value;
        res.value_len = (uint32_t)strlen(value);
    }
    size_t len;
    assert_int_equal(kv_result_encode(&res, buf, cap, &len), 0);
    struct client_event ev = ev_of(CLIENT_EVENT_REPLY, now);
    ev.status = CLIENT_REPLY_OK;
    ev.result = buf;
    ev.result_len = len;
    return ev;
}

static struct client_event status_reply(enum client_reply_status status, uint32_t hint,
                                        uint64_t now)
{
    struct client_event ev = ev_of(CLIENT_EVENT_REPLY, now);
    ev.status = status;
    ev.leader_hint = hint;
    return ev;
}

/* A client with nothing to do is done at once and records nothing. */
static void zero_requests_done_at_start(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(0);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_DONE);
    assert_int_equal(act.n_records, 0);
    client_close(&c);
}

/* The first request is recorded as invoked and sent to the first node, carrying the client's
 * id and sequence number 1. */
static void first_request_invoked_and_sent(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(2);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 5);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_SEND);
    assert_int_equal(act.node, 1);
    assert_int_equal(act.reason, CLIENT_SEND_FIRST);
    assert_int_equal(act.timeout_ms, 100);
    assert_int_equal(act.n_records, 1);
    assert_int_equal(act.records[0].type, CLIENT_RECORD_INVOKE);
    struct kv_command cmd;
    assert_int_equal(kv_command_decode(act.request, act.request_len, &cmd), 0);
    assert_int_equal(cmd.client_id, 7);
    assert_int_equal(cmd.seq, 1);
    assert_int_equal(cmd.op, act.records[0].op);
    assert_memory_equal(cmd.key, act.records[0].key, cmd.key_len);
    if (cmd.op == KV_OP_PUT) {
        assert_int_equal(cmd.value_len, 6);
        assert_memory_equal(cmd.value, act.records[0].value, 6);
    }
    client_close(&c);
}

/* An ok answer completes the request with its result and the next one starts at once. */
static void ok_reply_completes_and_starts_next(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(2);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    enum kv_op op = c.op;
    uint8_t buf[128];
    ev = ok_reply(&c, KV_NOT_FOUND, NULL, buf, sizeof buf, 3);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.n_records, 2);
    assert_int_equal(act.records[0].type, CLIENT_RECORD_OK);
    assert_int_equal(act.records[0].seq, 1);
    assert_string_equal(act.records[0].result, client_result_name(op, KV_NOT_FOUND));
    assert_int_equal(act.records[1].type, CLIENT_RECORD_INVOKE);
    assert_int_equal(act.records[1].seq, 2);
    assert_int_equal(act.type, CLIENT_ACTION_SEND);
    assert_int_equal(c.stats.ok, 1);
    assert_int_equal(client_outcomes_kept(&c), 1);
    assert_int_equal(client_outcome(&c, 0)->type, CLIENT_RECORD_OK);
    assert_int_equal(client_outcome(&c, 0)->status, KV_NOT_FOUND);
    client_close(&c);
}

/* With keep_outcomes, a client keeps only its last outcomes (a long run's memory stays
 * bounded), oldest first, while its statistics count every request by result. */
static void keeps_only_the_last_outcomes(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(7);
    o.keep_outcomes = 3;
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    uint8_t buf[128];
    uint64_t found = 0;
    for (uint64_t now = 1; c.done < 7; now++) {
        bool get = c.op == KV_OP_GET;
        found += get;
        ev = ok_reply(&c, KV_OK, get ? "v" : NULL, buf, sizeof buf, now);
        assert_int_equal(client_step(&c, &ev, &act), 0);
    }
    assert_int_equal(client_outcomes_kept(&c), 3);
    for (uint32_t k = 0; k < 3; k++)
        assert_int_equal(client_outcome(&c, k)->seq, 5 + k);
    assert_int_equal(c.stats.ok, 7);
    assert_int_equal(c.stats.put_ok + c.stats.get_found + c.stats.delete_ok, 7);
    assert_int_equal(c.stats.get_found, found);
    client_close(&c); /* frees the values kept, none twice (ASan) */
}

/* "Not leader" with a hint is followed at once, to the named node, without a record. */
static void not_leader_hint_redirects(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    ev = status_reply(CLIENT_REPLY_NOT_LEADER, 3, 1);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_SEND);
    assert_int_equal(act.node, 3);
    assert_int_equal(act.reason, CLIENT_SEND_REDIRECT);
    assert_int_equal(act.n_records, 0);
    client_close(&c);
}

/* "Not leader" without a hint waits a backoff, then tries the next node in turn. */
static void not_leader_without_hint_tries_next_node(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    ev = status_reply(CLIENT_REPLY_NOT_LEADER, 0, 1);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_WAIT);
    assert_true(act.wait_ms >= 5 && act.wait_ms <= 10); /* jitter in [b/2, b], b = 10 */
    ev = ev_of(CLIENT_EVENT_WAKE, 12);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_SEND);
    assert_int_equal(act.node, 2);
    assert_int_equal(act.reason, CLIENT_SEND_NEXT_NODE);
    client_close(&c);
}

/* After no answer the same request (same sequence number, same bytes) is retried, and the
 * backoff doubles up to its maximum. */
static void no_answer_retries_same_request_with_growing_backoff(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    uint8_t first[256];
    size_t first_len = act.request_len;
    memcpy(first, act.request, first_len);
    uint64_t now = 0;
    uint32_t expected_max[] = {10, 20, 40, 80, 80};
    for (int i = 0; i < 5; i++) {
        now += 100;
        ev = ev_of(CLIENT_EVENT_NO_ANSWER, now);
        assert_int_equal(client_step(&c, &ev, &act), 0);
        assert_int_equal(act.type, CLIENT_ACTION_WAIT);
        assert_true(act.wait_ms <= expected_max[i] && act.wait_ms >= expected_max[i] / 2);
        now += act.wait_ms;
        ev = ev_of(CLIENT_EVENT_WAKE, now);
        assert_int_equal(client_step(&c, &ev, &act), 0);
        assert_int_equal(act.type, CLIENT_ACTION_SEND);
        assert_int_equal(act.reason, CLIENT_SEND_RETRY);
        assert_int_equal(act.request_len, first_len);
        assert_memory_equal(act.request, first, first_len);
    }
    assert_int_equal(c.stats.retries, 5);
    client_close(&c);
}

/* A request that saw no answer and runs out of time is recorded as info, never fail. */
static void timeout_after_no_answer_is_info(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    ev = ev_of(CLIENT_EVENT_NO_ANSWER, 1000); /* at the deadline */
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.n_records, 1);
    assert_int_equal(act.records[0].type, CLIENT_RECORD_INFO);
    assert_string_equal(act.records[0].error, "timeout");
    assert_int_equal(act.type, CLIENT_ACTION_DONE);
    assert_int_equal(c.stats.info, 1);
    assert_int_equal(c.stats.fail, 0);
    client_close(&c);
}

/* A request that only ever heard "not leader" and runs out of time is a definite fail. */
static void only_not_leader_until_deadline_is_fail(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    ev = status_reply(CLIENT_REPLY_NOT_LEADER, 0, 1000);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.records[0].type, CLIENT_RECORD_FAIL);
    assert_string_equal(act.records[0].error, "not_leader");
    client_close(&c);
}

/* Once an attempt's fate was unknown, even a later definite refusal cannot make it a fail. */
static void unknown_then_rejected_is_info(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    ev = status_reply(CLIENT_REPLY_UNKNOWN, 0, 1);
    client_step(&c, &ev, &act);
    assert_int_equal(act.type, CLIENT_ACTION_WAIT);
    ev = ev_of(CLIENT_EVENT_WAKE, 20);
    client_step(&c, &ev, &act);
    ev = status_reply(CLIENT_REPLY_REJECTED, 0, 21);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.records[0].type, CLIENT_RECORD_INFO);
    assert_string_equal(act.records[0].error, "rejected");
    client_close(&c);
}

/* A first-attempt rejection proves the command never entered the log: fail. */
static void rejected_first_attempt_is_fail(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    ev = status_reply(CLIENT_REPLY_REJECTED, 0, 1);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.records[0].type, CLIENT_RECORD_FAIL);
    client_close(&c);
}

/* An answer for another request (wrong sequence number) is not taken as this one's result. */
static void mismatched_result_is_not_accepted(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    c.seq++; /* forge a result for seq 2 */
    uint8_t buf[128];
    ev = ok_reply(&c, KV_OK, NULL, buf, sizeof buf, 1);
    c.seq--;
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_WAIT);
    assert_int_equal(act.n_records, 0);
    assert_int_equal(c.stats.ok, 0);
    client_close(&c);
}

/* Events that do not answer the last action are refused and change nothing. */
static void out_of_order_events_refused(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_WAKE, 0);
    assert_int_equal(client_step(&c, &ev, &act), -1); /* nothing started */
    ev = ev_of(CLIENT_EVENT_START, 0);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(client_step(&c, &ev, &act), -1); /* started twice */
    ev = ev_of(CLIENT_EVENT_WAKE, 1);
    assert_int_equal(client_step(&c, &ev, &act), -1); /* no wait pending */
    client_close(&c);
}

/* Hints that send the client round in circles are followed at most n_nodes times in a row. */
static void redirect_loops_are_bounded(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    int redirects = 0;
    for (int i = 0; i < 10; i++) {
        ev = status_reply(CLIENT_REPLY_NOT_LEADER, act.node % 3 + 1, (uint64_t)i + 1);
        client_step(&c, &ev, &act);
        if (act.type == CLIENT_ACTION_WAIT)
            break;
        redirects++;
    }
    assert_int_equal(redirects, 3);
    assert_int_equal(act.type, CLIENT_ACTION_WAIT);
    client_close(&c);
}

/* The same seed gives the same requests; another client id with another seed differs. */
static void same_seed_same_workload(void **state)
{
    (void)state;
    uint8_t first[2][4096];
    size_t len[2] = {0, 0};
    for (int run = 0; run < 2; run++) {
        struct client c;
        struct client_options o = options(20);
        assert_int_equal(client_init(&c, &o), 0);
        struct client_action act;
        struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
        client_step(&c, &ev, &act);
        uint8_t buf[128];
        for (int i = 0; i < 20; i++) {
            memcpy(first[run] + len[run], act.request, act.request_len);
            len[run] += act.request_len;
            ev = ok_reply(&c, KV_NOT_FOUND, NULL, buf, sizeof buf, (uint64_t)i);
            client_step(&c, &ev, &act);
        }
        assert_int_equal(act.type, CLIENT_ACTION_DONE);
        client_close(&c);
    }
    assert_int_equal(len[0], len[1]);
    assert_memory_equal(first[0], first[1], len[0]);
}

/* A get that finds a value records the value it read. */
static void found_get_records_value(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(50);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    uint8_t buf[128];
    /* Answer until a get comes up, then answer it with a value. */
    for (int i = 0; i < 50 && c.op != KV_OP_GET; i++) {
        ev = ok_reply(&c, KV_NOT_FOUND, NULL, buf, sizeof buf, (uint64_t)i);
        client_step(&c, &ev, &act);
    }
    assert_int_equal(c.op, KV_OP_GET);
    ev = ok_reply(&c, KV_OK, "hello", buf, sizeof buf, 100);
    client_step(&c, &ev, &act);
    assert_int_equal(act.records[0].type, CLIENT_RECORD_OK);
    assert_string_equal(act.records[0].result, "found");
    assert_int_equal(act.records[0].value_len, 5);
    assert_memory_equal(act.records[0].value, "hello", 5);
    client_close(&c);
}

/* Options out of range are refused. */
static void bad_options_refused(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(1);
    o.first_node = 4; /* only 3 nodes */
    assert_int_equal(client_init(&c, &o), -1);
    o = options(1);
    o.backoff_ms_max = 1; /* below the minimum */
    assert_int_equal(client_init(&c, &o), -1);
    o = options(1);
    o.n_keys = 0;
    assert_int_equal(client_init(&c, &o), -1);
}

/* Each attempt that times out doubles the next attempt's timeout, up to the backoff cap; the
 * grown timeout carries over to the next request (issue 17: a timeout below a commit round trip
 * must not starve every request). */
static void timeouts_grow_the_attempt_timeout(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(2);
    o.timeout_ms = 10; /* backoff_ms_max is 80: the cap */
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.timeout_ms, 10);
    uint64_t now = 0;
    uint32_t want[] = {20, 40, 80, 80};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        now += act.timeout_ms;
        ev = ev_of(CLIENT_EVENT_NO_ANSWER, now);
        assert_int_equal(client_step(&c, &ev, &act), 0);
        assert_int_equal(act.type, CLIENT_ACTION_WAIT);
        now += act.wait_ms;
        ev = ev_of(CLIENT_EVENT_WAKE, now);
        assert_int_equal(client_step(&c, &ev, &act), 0);
        assert_int_equal(act.type, CLIENT_ACTION_SEND);
        assert_int_equal(act.timeout_ms, want[i]);
    }
    /* A retry answered at once proves nothing about commit time: the timeout stays. */
    uint8_t buf[64];
    ev = ok_reply(&c, KV_OK, NULL, buf, sizeof buf, now + 1);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_SEND); /* request #2 */
    assert_int_equal(act.timeout_ms, 80);
    client_close(&c);
}

/* A first attempt answered within a quarter of the timeout halves it, never below the
 * configured one. */
static void fast_first_answers_shrink_the_timeout(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(4);
    o.timeout_ms = 10;
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    uint64_t now = 0;
    for (int i = 0; i < 3; i++) { /* 10 -> 20 -> 40 -> 80 */
        now += act.timeout_ms;
        ev = ev_of(CLIENT_EVENT_NO_ANSWER, now);
        assert_int_equal(client_step(&c, &ev, &act), 0);
        now += act.wait_ms;
        ev = ev_of(CLIENT_EVENT_WAKE, now);
        assert_int_equal(client_step(&c, &ev, &act), 0);
    }
    assert_int_equal(act.timeout_ms, 80);
    uint8_t buf[64];
    ev = ok_reply(&c, KV_OK, NULL, buf, sizeof buf, now + 1);
    assert_int_equal(client_step(&c, &ev, &act), 0); /* a retry: no change */
    assert_int_equal(act.timeout_ms, 80);
    uint32_t want[] = {40, 20, 10};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        now += 2; /* well within a quarter */
        ev = ok_reply(&c, KV_OK, NULL, buf, sizeof buf, now);
        assert_int_equal(client_step(&c, &ev, &act), 0);
        if (act.type == CLIENT_ACTION_SEND)
            assert_int_equal(act.timeout_ms, want[i]);
    }
    assert_int_equal(c.timeout_ms, 10);
    client_close(&c);
}

/* An interrupted client ends the request in flight as info (it may have been applied) and
 * starts no other. */
static void interrupt_ends_request_in_flight_as_info(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(5);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_SEND);
    client_interrupt(&c);
    ev = ev_of(CLIENT_EVENT_NO_ANSWER, 100);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_DONE);
    assert_int_equal(act.n_records, 1);
    assert_int_equal(act.records[0].type, CLIENT_RECORD_INFO);
    assert_string_equal(act.records[0].error, "interrupted");
    assert_int_equal(c.done, 1);
    assert_int_equal(c.stats.info, 1);
    client_close(&c);
}

/* An answer that arrives after the interrupt still completes its request as ok; then the
 * client stops. A client waiting out a backoff after "not leader" only (nothing can have been
 * applied) ends it as fail. */
static void interrupt_keeps_answers_and_fails_unsent(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(5);
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    uint8_t buf[64];
    client_interrupt(&c);
    ev = ok_reply(&c, KV_OK, NULL, buf, sizeof buf, 5);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_DONE);
    assert_int_equal(act.n_records, 1);
    assert_int_equal(act.records[0].type, CLIENT_RECORD_OK);
    client_close(&c);

    assert_int_equal(client_init(&c, &o), 0);
    ev = ev_of(CLIENT_EVENT_START, 0);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    ev = status_reply(CLIENT_REPLY_NOT_LEADER, 0, 1);
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_WAIT);
    client_interrupt(&c);
    ev = ev_of(CLIENT_EVENT_WAKE, 2); /* the driver cuts the wait short */
    assert_int_equal(client_step(&c, &ev, &act), 0);
    assert_int_equal(act.type, CLIENT_ACTION_DONE);
    assert_int_equal(act.n_records, 1);
    assert_int_equal(act.records[0].type, CLIENT_RECORD_FAIL);
    assert_string_equal(act.records[0].error, "interrupted");
    client_close(&c);
}

/* The mix (issue 12): op weights pick the operations; a get's read policy is drawn from the
 * read weights and goes with every send and record; follower and stale reads go first to a
 * node drawn at random, the others to the leader; ok gets are counted by policy. */
static void request_and_read_mix(void **state)
{
    (void)state;
    struct client c;
    struct client_options o = options(400);
    o.op_weights[1] = 1; /* gets only */
    o.read_weights[KV_READ_LEASE] = 1;
    o.read_weights[KV_READ_FOLLOWER] = 1;
    o.read_weights[KV_READ_STALE] = 2;
    assert_int_equal(client_init(&c, &o), 0);
    struct client_action act;
    struct client_event ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    uint32_t policies[KV_READ_POLICIES] = {0}, away_from_leader = 0;
    uint8_t buf[128];
    for (uint64_t t = 1; act.type == CLIENT_ACTION_SEND; t++) {
        assert_int_equal(c.op, KV_OP_GET);
        assert_int_equal(act.read, c.read);
        const struct client_record *inv = &act.records[act.n_records - 1];
        assert_int_equal(inv->type, CLIENT_RECORD_INVOKE);
        assert_int_equal(inv->read, c.read);
        policies[c.read]++;
        if (c.read == KV_READ_LEASE)
            assert_int_equal(act.node, 1); /* the leader the client knows */
        else
            away_from_leader += act.node != 1;
        ev = ok_reply(&c, KV_NOT_FOUND, NULL, buf, sizeof buf, t);
        assert_int_equal(client_step(&c, &ev, &act), 0);
    }
    assert_int_equal(policies[KV_READ_LINEARIZABLE] + policies[KV_READ_LOG], 0);
    /* 400 draws of weights 1:1:2 (binomial; each bound is > 6 standard deviations away). */
    assert_in_range(policies[KV_READ_LEASE], 50, 150);
    assert_in_range(policies[KV_READ_FOLLOWER], 50, 150);
    assert_in_range(policies[KV_READ_STALE], 140, 260);
    assert_true(away_from_leader > 100); /* two thirds of the random picks miss node 1 */
    for (int k = 0; k < KV_READ_POLICIES; k++)
        assert_int_equal(c.stats.reads[k], policies[k]);
    client_close(&c);
    /* No weights: every get is linearizable (ReadIndex), sent to the leader. */
    o = options(50);
    assert_int_equal(client_init(&c, &o), 0);
    ev = ev_of(CLIENT_EVENT_START, 0);
    client_step(&c, &ev, &act);
    for (uint64_t t = 1; act.type == CLIENT_ACTION_SEND; t++) {
        if (c.op == KV_OP_GET)
            assert_int_equal(act.read, KV_READ_LINEARIZABLE);
        assert_int_equal(act.node, 1);
        ev = ok_reply(&c, KV_NOT_FOUND, NULL, buf, sizeof buf, t);
        client_step(&c, &ev, &act);
    }
    client_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_requests_done_at_start),
        cmocka_unit_test(first_request_invoked_and_sent),
        cmocka_unit_test(ok_reply_completes_and_starts_next),
        cmocka_unit_test(keeps_only_the_last_outcomes),
        cmocka_unit_test(not_leader_hint_redirects),
        cmocka_unit_test(not_leader_without_hint_tries_next_node),
        cmocka_unit_test(no_answer_retries_same_request_with_growing_backoff),
        cmocka_unit_test(timeout_after_no_answer_is_info),
        cmocka_unit_test(only_not_leader_until_deadline_is_fail),
        cmocka_unit_test(unknown_then_rejected_is_info),
        cmocka_unit_test(rejected_first_attempt_is_fail),
        cmocka_unit_test(mismatched_result_is_not_accepted),
        cmocka_unit_test(out_of_order_events_refused),
        cmocka_unit_test(redirect_loops_are_bounded),
        cmocka_unit_test(request_and_read_mix),
        cmocka_unit_test(same_seed_same_workload),
        cmocka_unit_test(found_get_records_value),
        cmocka_unit_test(bad_options_refused),
        cmocka_unit_test(timeouts_grow_the_attempt_timeout),
        cmocka_unit_test(fast_first_answers_shrink_the_timeout),
        cmocka_unit_test(interrupt_ends_request_in_flight_as_info),
        cmocka_unit_test(interrupt_keeps_answers_and_fails_unsent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
