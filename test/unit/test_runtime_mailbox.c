/* test_runtime_mailbox.c - the MPSC mailbox alone: order, emptiness, a multi-producer stress in
 * which every item must arrive exactly once and in its producer's order, and the count of awake
 * threads that decides who may spin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "common/alloc.h"
#include "runtime/mailbox.h"

struct item {
    struct mbox_node node; /* first: the mailbox hands back this pointer */
    uint32_t producer;
    uint32_t seq;
};

/* A fresh mailbox is empty and pops nothing. */
static void new_mailbox_is_empty(void **state)
{
    (void)state;
    struct mailbox *mb = xaligned_alloc(64, sizeof *mb);
    mbox_init(mb);
    assert_true(mbox_is_empty(mb));
    assert_null(mbox_try_pop(mb));
    free(mb);
}

/* Items from one thread come out in the order they went in, then the box is empty again. */
static void single_thread_fifo(void **state)
{
    (void)state;
    struct mailbox *mb = xaligned_alloc(64, sizeof *mb);
    mbox_init(mb);
    struct item items[100];
    for (uint32_t round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < 100; i++) {
            items[i].seq = i;
            mbox_push(mb, &items[i].node);
            assert_false(mbox_is_empty(mb));
        }
        for (uint32_t i = 0; i < 100; i++) {
            struct item *it = (struct item *)mbox_try_pop(mb);
            assert_non_null(it);
            assert_int_equal(it->seq, i);
        }
        assert_true(mbox_is_empty(mb));
    }
    free(mb);
}

enum { PRODUCERS = 4, PER_PRODUCER = 100000 };

struct producer_arg {
    struct mailbox *mb;
    uint32_t id;
};

static void *produce(void *p)
{
    struct producer_arg *arg = p;
    for (uint32_t i = 0; i < PER_PRODUCER; i++) {
        struct item *it = xmalloc(sizeof *it);
        it->producer = arg->id;
        it->seq = i;
        mbox_push(arg->mb, &it->node);
    }
    return NULL;
}

/* 4 producers x 100k items: none lost, none duplicated, each producer's order kept, and a
 * consumer that parks when empty is always woken. */
static void many_producers_no_loss_in_order(void **state)
{
    (void)state;
    struct mailbox *mb = xaligned_alloc(64, sizeof *mb);
    mbox_init(mb);
    pthread_t threads[PRODUCERS];
    struct producer_arg args[PRODUCERS];
    for (uint32_t p = 0; p < PRODUCERS; p++) {
        args[p] = (struct producer_arg){mb, p};
        assert_int_equal(pthread_create(&threads[p], NULL, produce, &args[p]), 0);
    }
    uint32_t next[PRODUCERS] = {0};
    uint64_t received = 0;
    while (received < (uint64_t)PRODUCERS * PER_PRODUCER) {
        struct item *it = (struct item *)mbox_try_pop(mb);
        if (it == NULL) {
            mbox_wait(mb, 1000, 0); /* short spin, then park until a push */
            continue;
        }
        assert_true(it->producer < PRODUCERS);
        assert_int_equal(it->seq, next[it->producer]);
        next[it->producer]++;
        received++;
        free(it);
    }
    for (uint32_t p = 0; p < PRODUCERS; p++) {
        pthread_join(threads[p], NULL);
        assert_int_equal(next[p], PER_PRODUCER);
    }
    assert_true(mbox_is_empty(mb));
    free(mb);
}

/* mbox_wait with a deadline and nothing pushed returns once the deadline passes. */
static void wait_returns_at_deadline(void **state)
{
    (void)state;
    struct mailbox *mb = xaligned_alloc(64, sizeof *mb);
    mbox_init(mb);
    uint64_t deadline = mbox_now_ns() + 5000000u; /* 5 ms */
    while (mbox_now_ns() < deadline)
        mbox_wait(mb, 0, deadline);
    assert_true(mbox_now_ns() >= deadline);
    assert_true(mbox_is_empty(mb));
    free(mb);
}

/* A registered consumer that sleeps whenever its mailbox is empty (no spin), takes ROUNDS items,
 * and unregisters. */
enum { SLEEPERS = 3, ROUNDS = 2000 };

struct sleeper {
    struct mailbox *mb;
    _Atomic uint32_t taken;
};

static void *sleep_consume(void *p)
{
    struct sleeper *s = p;
    mbox_thread_begin();
    while (atomic_load(&s->taken) < ROUNDS) {
        if (mbox_try_pop(s->mb) != NULL)
            atomic_fetch_add(&s->taken, 1);
        else
            mbox_wait(s->mb, 0, 0);
    }
    mbox_thread_end();
    return NULL;
}

/* Waits (at most 10 s) until the awake count is want; true if it got there. */
static bool awake_becomes(int want)
{
    for (int i = 0; i < 10000; i++) {
        if (mbox_awake_threads() == want)
            return true;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return false;
}

/* The count of awake threads that decides whether a waiter may spin: a registered thread asleep
 * is not counted, one signalled is counted again once (by its signaller or by itself), and
 * after thousands of sleeps and wake-ups the count comes back exactly to where it started: a drift
 * would turn spinning off for good, or on for good. */
static void awake_count_follows_sleep_and_wake(void **state)
{
    (void)state;
    int base = mbox_awake_threads();
    struct sleeper s[SLEEPERS];
    pthread_t t[SLEEPERS];
    struct item *items = calloc((size_t)SLEEPERS * ROUNDS, sizeof *items);
    assert_non_null(items);
    for (int i = 0; i < SLEEPERS; i++) {
        s[i].mb = xaligned_alloc(64, sizeof *s[i].mb);
        mbox_init(s[i].mb);
        atomic_init(&s[i].taken, 0);
        assert_int_equal(pthread_create(&t[i], NULL, sleep_consume, &s[i]), 0);
    }
    assert_true(awake_becomes(base)); /* all three asleep on empty mailboxes */
    for (uint32_t r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < SLEEPERS; i++)
            mbox_push(s[i].mb, &items[(size_t)i * ROUNDS + r].node);
        int awake = mbox_awake_threads();
        assert_true(awake >= base && awake <= base + SLEEPERS);
        if (r % 100 == 99) /* now and then, let them all fall asleep again */
            for (int i = 0; i < SLEEPERS; i++)
                while (atomic_load(&s[i].taken) < r + 1)
                    sched_yield();
    }
    for (int i = 0; i < SLEEPERS; i++) {
        pthread_join(t[i], NULL);
        free(s[i].mb);
    }
    assert_int_equal(mbox_awake_threads(), base);
    free(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_mailbox_is_empty),
        cmocka_unit_test(single_thread_fifo),
        cmocka_unit_test(many_producers_no_loss_in_order),
        cmocka_unit_test(wait_returns_at_deadline),
        cmocka_unit_test(awake_count_follows_sleep_and_wake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
