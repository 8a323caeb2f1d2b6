/* queue.c - the simulator's event heap: (time, seeded tie-break, insertion order) in a binary
 * heap of event pointers; O(log n) push and pop, one allocation per event.
 */
#include "sim/queue.h"

#include <assert.h>
#include <stdlib.h>

#include "common/alloc.h"

void sim_queue_init(struct sim_queue *q, uint64_t seed)
{
    *q = (struct sim_queue){.cap = 0};
    prng_seed(&q->rng, seed);
}

void sim_queue_close(struct sim_queue *q)
{
    for (size_t i = 0; i < q->len; i++)
        sim_event_free(q->heap[i]);
    free(q->heap);
    *q = (struct sim_queue){.cap = 0};
}

struct sim_event *sim_event_new(enum sim_event_type type, uint64_t at_ms)
{
    struct sim_event *ev = xcalloc(1, sizeof *ev);
    ev->type = type;
    ev->at_ms = at_ms;
    return ev;
}

void sim_event_free(struct sim_event *ev)
{
    if (ev == NULL)
        return;
    free(ev->data);
    free(ev);
}

uint64_t sim_queue_draw_tie(struct sim_queue *q)
{
    return prng_next(&q->rng) >> 2;
}

static bool before(const struct sim_event *a, const struct sim_event *b)
{
    if (a->at_ms != b->at_ms)
        return a->at_ms < b->at_ms;
    if (a->tie != b->tie)
        return a->tie < b->tie;
    return a->seq < b->seq;
}

void sim_queue_push(struct sim_queue *q, struct sim_event *ev)
{
    assert(q->len < SIM_QUEUE_MAX);
    if (!ev->own_tie)
        ev->tie = sim_queue_draw_tie(q);
    ev->seq = q->next_seq++;
    if (q->len == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 256;
        q->heap = xreallocarray(q->heap, q->cap, sizeof *q->heap);
    }
    size_t i = q->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(ev, q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = ev;
}

struct sim_event *sim_queue_pop(struct sim_queue *q)
{
    if (q->len == 0)
        return NULL;
    struct sim_event *top = q->heap[0];
    struct sim_event *last = q->heap[--q->len];
    size_t i = 0;
    /* Sift `last` down from the root; the loop descends one level per turn (bounded by log n). */
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= q->len)
            break;
        if (child + 1 < q->len && before(q->heap[child + 1], q->heap[child]))
            child++;
        if (!before(q->heap[child], last))
            break;
        q->heap[i] = q->heap[child];
        i = child;
    }
    if (q->len > 0)
        q->heap[i] = last;
    return top;
}

const struct sim_event *sim_queue_peek(const struct sim_queue *q)
{
    return q->len > 0 ? q->heap[0] : NULL;
}

uint64_t sim_queue_next_ms(const struct sim_queue *q)
{
    return q->len ? q->heap[0]->at_ms : UINT64_MAX;
}
