/* test_kv_session.c - exactly-once sessions (Raft thesis 6.3) through kv_store_apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kv/kv.h"

static struct kv_command cmd(enum kv_op op, uint64_t client, uint64_t seq, const char *key,
                             const char *value)
{
    struct kv_command c = {.op = op, .client_id = client, .seq = seq};
    c.key = (const uint8_t *)key;
    c.key_len = (uint32_t)strlen(key);
    if (value != NULL) {
        c.value = (const uint8_t *)value;
        c.value_len = (uint32_t)strlen(value);
    }
    return c;
}

/* A retried put returns the original OK (not "exists") and is applied once. */
static void retried_put_returns_original_result(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    struct kv_result r;
    struct kv_command c = cmd(KV_OP_PUT, 1, 1, "a", "1");
    kv_store_apply(&s, &c, &r);
    assert_int_equal(r.status, KV_OK);
    kv_store_apply(&s, &c, &r);
    assert_int_equal(r.status, KV_OK);
    assert_int_equal(s.applied, 1);
    assert_int_equal(kv_store_count(&s), 1);
    kv_store_close(&s);
}

/* A retried delete returns the original OK, not "not found". */
static void retried_delete_returns_original_result(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    struct kv_result r;
    struct kv_command p = cmd(KV_OP_PUT, 1, 1, "a", "1");
    struct kv_command d = cmd(KV_OP_DELETE, 1, 2, "a", NULL);
    kv_store_apply(&s, &p, &r);
    kv_store_apply(&s, &d, &r);
    kv_store_apply(&s, &d, &r);
    assert_int_equal(r.status, KV_OK);
    assert_int_equal(s.applied, 2);
    kv_store_close(&s);
}

/* A retried get returns the value it read originally, even after another client changed it. */
static void retried_get_returns_original_value(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    struct kv_result r;
    struct kv_command p = cmd(KV_OP_PUT, 2, 1, "a", "old");
    struct kv_command g = cmd(KV_OP_GET, 1, 1, "a", NULL);
    struct kv_command d = cmd(KV_OP_DELETE, 2, 2, "a", NULL);
    struct kv_command p2 = cmd(KV_OP_PUT, 2, 3, "a", "new");
    kv_store_apply(&s, &p, &r);
    kv_store_apply(&s, &g, &r);
    kv_store_apply(&s, &d, &r);
    kv_store_apply(&s, &p2, &r);
    kv_store_apply(&s, &g, &r);
    assert_int_equal(r.status, KV_OK);
    assert_int_equal(r.value_len, 3);
    assert_memory_equal(r.value, "old", 3);
    kv_store_close(&s);
}

/* A seq older than the session's last is refused as stale and not applied. */
static void older_seq_is_stale(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    struct kv_result r;
    struct kv_command c2 = cmd(KV_OP_PUT, 1, 2, "a", "1");
    struct kv_command c1 = cmd(KV_OP_PUT, 1, 1, "b", "1");
    kv_store_apply(&s, &c2, &r);
    kv_store_apply(&s, &c1, &r);
    assert_int_equal(r.status, KV_STALE);
    assert_int_equal(kv_store_count(&s), 1);
    kv_store_close(&s);
}

/* Sessions are per client: the same seq from another client is a new command. */
static void sessions_are_per_client(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    struct kv_result r;
    struct kv_command a = cmd(KV_OP_PUT, 1, 1, "a", "1");
    struct kv_command b = cmd(KV_OP_PUT, 2, 1, "a", "2");
    kv_store_apply(&s, &a, &r);
    kv_store_apply(&s, &b, &r);
    assert_int_equal(r.status, KV_EXISTS);
    assert_int_equal(s.applied, 2);
    kv_store_close(&s);
}

/* The session table is part of the digest: same data, different sessions, different digest. */
static void sessions_in_digest(void **state)
{
    (void)state;
    struct kv_store a, b;
    kv_store_init(&a);
    kv_store_init(&b);
    struct kv_result r;
    struct kv_command ca = cmd(KV_OP_PUT, 1, 1, "k", "v");
    struct kv_command cb = cmd(KV_OP_PUT, 2, 1, "k", "v");
    kv_store_apply(&a, &ca, &r);
    kv_store_apply(&b, &cb, &r);
    assert_true(kv_store_digest(&a) != kv_store_digest(&b));
    kv_store_close(&a);
    kv_store_close(&b);
}

/* Many clients (table growth): each client's retry still returns its own saved result. */
static void many_clients_keep_their_results(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    struct kv_result r;
    for (uint64_t c = 1; c <= 1000; c++) {
        struct kv_command p = cmd(KV_OP_PUT, c, 1, "same", "v");
        kv_store_apply(&s, &p, &r);
        assert_int_equal(r.status, c == 1 ? KV_OK : KV_EXISTS);
    }
    for (uint64_t c = 1; c <= 1000; c++) {
        struct kv_command p = cmd(KV_OP_PUT, c, 1, "same", "v");
        kv_store_apply(&s, &p, &r);
        assert_int_equal(r.status, c == 1 ? KV_OK : KV_EXISTS);
    }
    assert_int_equal(s.applied, 1000);
    kv_store_close(&s);
}

/* The saved result answers only the client's last applied seq, and reads without changing
 * anything (a node answers a retry of an applied command from it). */
static void saved_result_is_the_last_seq_only(void **state)
{
    (void)state;
    struct kv_store s;
    kv_store_init(&s);
    struct kv_result r;
    assert_false(kv_store_saved_result(&s, 1, 1, &r)); /* no session yet */
    struct kv_command p = cmd(KV_OP_PUT, 1, 1, "a", "1");
    struct kv_command g = cmd(KV_OP_GET, 1, 2, "a", NULL);
    kv_store_apply(&s, &p, &r);
    assert_true(kv_store_saved_result(&s, 1, 1, &r));
    assert_int_equal(r.status, KV_OK);
    assert_int_equal(r.seq, 1);
    kv_store_apply(&s, &g, &r);
    assert_false(kv_store_saved_result(&s, 1, 1, &r)); /* no longer the last */
    assert_false(kv_store_saved_result(&s, 1, 3, &r)); /* not applied yet */
    assert_false(kv_store_saved_result(&s, 2, 2, &r)); /* another client */
    assert_false(kv_store_saved_result(&s, 0, 2, &r)); /* no session */
    assert_true(kv_store_saved_result(&s, 1, 2, &r));
    assert_int_equal(r.status, KV_OK);
    assert_int_equal(r.value_len, 1);
    assert_memory_equal(r.value, "1", 1);
    assert_int_equal(s.applied, 2);
    kv_store_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retried_put_returns_original_result),
        cmocka_unit_test(retried_delete_returns_original_result),
        cmocka_unit_test(retried_get_returns_original_value),
        cmocka_unit_test(older_seq_is_stale),
        cmocka_unit_test(sessions_are_per_client),
        cmocka_unit_test(sessions_in_digest),
        cmocka_unit_test(many_clients_keep_their_results),
        cmocka_unit_test(saved_result_is_the_last_seq_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
