/* test_runtime_timer.c - the timer heap alone: deadline order, ties in arming order, cancel,
 * and stale ids that must never touch a newer timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "runtime/timer.h"

static uintptr_t pop_payload(struct timer_heap *h, uint64_t now)
{
    void *target, *payload;
    if (!timer_heap_pop_due(h, now, &target, &payload))
        return 0;
    return (uintptr_t)payload;
}

/* Timers come out by deadline, not by arming order; none comes out before it is due. */
static void pops_in_deadline_order(void **state)
{
    (void)state;
    struct timer_heap h;
    timer_heap_init(&h);
    timer_heap_add(&h, 30, NULL, (void *)3);
    timer_heap_add(&h, 10, NULL, (void *)1);
    timer_heap_add(&h, 20, NULL, (void *)2);
    uint64_t next;
    assert_true(timer_heap_next_deadline(&h, &next));
    assert_int_equal(next, 10);
    assert_int_equal(pop_payload(&h, 9), 0);
    assert_int_equal(pop_payload(&h, 25), 1);
    assert_int_equal(pop_payload(&h, 25), 2);
    assert_int_equal(pop_payload(&h, 25), 0);
    assert_int_equal(pop_payload(&h, 30), 3);
    assert_false(timer_heap_next_deadline(&h, &next));
    timer_heap_close(&h);
}

/* Timers with the same deadline fire in the order they were armed. */
static void equal_deadlines_fire_in_arming_order(void **state)
{
    (void)state;
    struct timer_heap h;
    timer_heap_init(&h);
    for (uintptr_t i = 1; i <= 50; i++)
        timer_heap_add(&h, 7, NULL, (void *)i);
    for (uintptr_t i = 1; i <= 50; i++)
        assert_int_equal(pop_payload(&h, 7), i);
    timer_heap_close(&h);
}

/* Cancel removes exactly the named timer and hands back its payload; a second cancel fails. */
static void cancel_removes_one_timer(void **state)
{
    (void)state;
    struct timer_heap h;
    timer_heap_init(&h);
    timer_heap_add(&h, 10, NULL, (void *)1);
    timer_id two = timer_heap_add(&h, 20, NULL, (void *)2);
    timer_heap_add(&h, 30, NULL, (void *)3);
    void *target, *payload;
    assert_true(timer_heap_cancel(&h, two, &target, &payload));
    assert_int_equal((uintptr_t)payload, 2);
    assert_false(timer_heap_cancel(&h, two, &target, &payload));
    assert_int_equal(timer_heap_len(&h), 2);
    assert_int_equal(pop_payload(&h, 100), 1);
    assert_int_equal(pop_payload(&h, 100), 3);
    timer_heap_close(&h);
}

/* The id of a fired or cancelled timer stays stale when its slot is reused by a new timer. */
static void stale_id_never_cancels_newer_timer(void **state)
{
    (void)state;
    struct timer_heap h;
    timer_heap_init(&h);
    timer_id old = timer_heap_add(&h, 5, NULL, (void *)1);
    assert_int_equal(pop_payload(&h, 5), 1); /* fired */
    timer_id fresh = timer_heap_add(&h, 6, NULL, (void *)2);
    assert_true(fresh != old);
    void *target, *payload;
    assert_false(timer_heap_cancel(&h, old, &target, &payload));
    assert_false(timer_heap_cancel(&h, 0, &target, &payload));
    assert_false(timer_heap_cancel(&h, (timer_id)0xffffffffu, &target, &payload));
    assert_int_equal(pop_payload(&h, 6), 2);
    timer_heap_close(&h);
}

/* Random arming and cancelling agrees with a plain sorted model. */
static void random_operations_match_model(void **state)
{
    (void)state;
    enum { N = 2000 };
    struct timer_heap h;
    timer_heap_init(&h);
    timer_id ids[N];
    uint64_t deadline[N];
    bool armed[N] = {false};
    uint64_t rng = 12345;
    for (uintptr_t i = 0; i < N; i++) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        deadline[i] = (rng >> 33) % 500;
        ids[i] = timer_heap_add(&h, deadline[i], NULL, (void *)(i + 1));
        armed[i] = true;
        if (i % 3 == 2) { /* cancel an earlier one, chosen at random */
            uintptr_t victim = (uintptr_t)((rng >> 17) % (i + 1));
            void *t, *p;
            bool ok = timer_heap_cancel(&h, ids[victim], &t, &p);
            assert_int_equal(ok, armed[victim]);
            if (ok)
                assert_int_equal((uintptr_t)p, victim + 1);
            armed[victim] = false;
        }
    }
    uint64_t last = 0;
    size_t popped = 0, expected = 0;
    for (size_t i = 0; i < N; i++)
        expected += armed[i];
    uintptr_t p;
    while ((p = pop_payload(&h, UINT64_MAX)) != 0) {
        assert_true(armed[p - 1]);
        armed[p - 1] = false;
        assert_true(deadline[p - 1] >= last);
        last = deadline[p - 1];
        popped++;
    }
    assert_int_equal(popped, expected);
    timer_heap_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pops_in_deadline_order),
        cmocka_unit_test(equal_deadlines_fire_in_arming_order),
        cmocka_unit_test(cancel_removes_one_timer),
        cmocka_unit_test(stale_id_never_cancels_newer_timer),
        cmocka_unit_test(random_operations_match_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
