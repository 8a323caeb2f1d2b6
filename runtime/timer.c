/* timer.c - binary min-heap of timer slots; each slot knows its heap position, so cancel is
 * O(log n) removal rather than a tombstone that would linger until its deadline.
 */
#include "runtime/timer.h"

#include <assert.h>
#include <stdlib.h>

#include "common/alloc.h"

#define TIMER_FREE UINT32_MAX

void timer_heap_init(struct timer_heap *h)
{
    *h = (struct timer_heap){.free_head = TIMER_FREE};
}

void timer_heap_close(struct timer_heap *h)
{
    free(h->slots);
    free(h->heap);
    timer_heap_init(h);
}

static bool earlier(const struct timer_heap *h, uint32_t a, uint32_t b)
{
    const struct timer_entry *x = &h->slots[h->heap[a]], *y = &h->slots[h->heap[b]];
    return x->deadline_ns < y->deadline_ns || (x->deadline_ns == y->deadline_ns && x->seq < y->seq);
}

static void swap_positions(struct timer_heap *h, uint32_t a, uint32_t b)
{
    uint32_t t = h->heap[a];
    h->heap[a] = h->heap[b];
    h->heap[b] = t;
    h->slots[h->heap[a]].heap_pos = a;
    h->slots[h->heap[b]].heap_pos = b;
}

static void sift_up(struct timer_heap *h, uint32_t pos)
{
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!earlier(h, pos, parent))
            break;
        swap_positions(h, pos, parent);
        pos = parent;
    }
}

static void sift_down(struct timer_heap *h, uint32_t pos)
{
    for (;;) {
        uint32_t left = 2 * pos + 1, right = left + 1, best = pos;
        if (left < h->len && earlier(h, left, best))
            best = left;
        if (right < h->len && earlier(h, right, best))
            best = right;
        if (best == pos)
            return;
        swap_positions(h, pos, best);
        pos = best;
    }
}

timer_id timer_heap_add(struct timer_heap *h, uint64_t deadline_ns, void *target, void *payload)
{
    uint32_t slot;
    if (h->free_head != TIMER_FREE) {
        slot = h->free_head;
        h->free_head = h->slots[slot].next_free;
    } else {
        if (h->n_slots == h->cap) {
            assert(h->cap < UINT32_MAX / 2);
            h->cap = h->cap ? 2 * h->cap : 8;
            h->slots = xreallocarray(h->slots, h->cap, sizeof *h->slots);
            h->heap = xreallocarray(h->heap, h->cap, sizeof *h->heap);
        }
        slot = h->n_slots++;
        h->slots[slot].gen = 1;
    }
    struct timer_entry *e = &h->slots[slot];
    e->deadline_ns = deadline_ns;
    e->seq = h->next_seq++;
    e->target = target;
    e->payload = payload;
    e->heap_pos = h->len;
    e->next_free = TIMER_FREE;
    h->heap[h->len++] = slot;
    sift_up(h, e->heap_pos);
    return ((uint64_t)e->gen << 32) | (uint64_t)(slot + 1);
}

/* Takes the timer at heap position pos out of the heap and frees its slot. */
static void remove_at(struct timer_heap *h, uint32_t pos, void **target, void **payload)
{
    assert(pos < h->len);
    uint32_t slot = h->heap[pos];
    struct timer_entry *e = &h->slots[slot];
    *target = e->target;
    *payload = e->payload;

    uint32_t last = --h->len;
    if (pos != last) {
        swap_positions(h, pos, last);
        sift_down(h, pos);
        sift_up(h, pos);
    }
    e->heap_pos = TIMER_FREE;
    e->target = e->payload = NULL;
    e->gen = e->gen == UINT32_MAX ? 1 : e->gen + 1; /* the old id is stale from now on */
    e->next_free = h->free_head;
    h->free_head = slot;
}

bool timer_heap_cancel(struct timer_heap *h, timer_id id, void **target, void **payload)
{
    uint64_t slot_plus_one = id & 0xffffffffu;
    uint32_t gen = (uint32_t)(id >> 32);
    if (slot_plus_one == 0 || slot_plus_one > h->n_slots)
        return false;
    struct timer_entry *e = &h->slots[slot_plus_one - 1];
    if (e->heap_pos == TIMER_FREE || e->gen != gen)
        return false;
    remove_at(h, e->heap_pos, target, payload);
    return true;
}

bool timer_heap_next_deadline(const struct timer_heap *h, uint64_t *deadline_ns)
{
    if (h->len == 0)
        return false;
    *deadline_ns = h->slots[h->heap[0]].deadline_ns;
    return true;
}

bool timer_heap_pop_due(struct timer_heap *h, uint64_t now_ns, void **target, void **payload)
{
    if (h->len == 0 || h->slots[h->heap[0]].deadline_ns > now_ns)
        return false;
    remove_at(h, 0, target, payload);
    return true;
}

size_t timer_heap_len(const struct timer_heap *h)
{
    return h->len;
}
