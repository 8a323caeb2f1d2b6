/* netem.c - network emulation as a decision per message, made by the sender: probabilities
 * are kept as parts per billion in atomics so that the owner can change them mid-run.
 */
#include "runtime/netem.h"

#include <assert.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/alloc.h"

struct netem {
    uint32_t n;
    bool reorder;
    _Atomic uint32_t drop_ppb, duplicate_ppb; /* probabilities x 1e9 */
    _Atomic uint32_t delay_ms_min, delay_ms_max;
    _Atomic uint8_t *cut;      /* cut[(from-1) * n + (to-1)]: messages from -> to are lost */
    _Atomic uint32_t *slow_ms; /* slow_ms[node-1]: extra delay to and from node */
};

static uint32_t to_ppb(double p)
{
    if (!(p > 0))
        return 0;
    return p >= 1 ? 1000000000u : (uint32_t)lround(p * 1e9);
}

struct netem *netem_new(uint32_t n_nodes, const struct netem_options *opt)
{
    struct netem *net = xcalloc(1, sizeof *net);
    net->n = n_nodes;
    net->reorder = opt->reorder;
    atomic_init(&net->drop_ppb, to_ppb(opt->drop));
    atomic_init(&net->duplicate_ppb, to_ppb(opt->duplicate));
    atomic_init(&net->delay_ms_min, opt->delay_ms_min);
    atomic_init(&net->delay_ms_max, opt->delay_ms_max);
    net->cut = xcalloc((size_t)n_nodes * n_nodes, sizeof *net->cut);
    net->slow_ms = xcalloc(n_nodes, sizeof *net->slow_ms);
    for (size_t i = 0; i < (size_t)n_nodes * n_nodes; i++)
        atomic_init(&net->cut[i], 0);
    for (uint32_t i = 0; i < n_nodes; i++)
        atomic_init(&net->slow_ms[i], 0);
    return net;
}

void netem_free(struct netem *net)
{
    if (net == NULL)
        return;
    free(net->cut);
    free(net->slow_ms);
    free(net);
}

static _Atomic uint8_t *link_of(const struct netem *net, uint32_t from, uint32_t to)
{
    assert(from >= 1 && from <= net->n && to >= 1 && to <= net->n);
    return &net->cut[(size_t)(from - 1) * net->n + (to - 1)];
}

void netem_partition(struct netem *net, const uint8_t *group)
{
    for (uint32_t a = 1; a <= net->n; a++)
        for (uint32_t b = 1; b <= net->n; b++)
            atomic_store_explicit(link_of(net, a, b), group[a - 1] != group[b - 1],
                                  memory_order_relaxed);
}

void netem_isolate(struct netem *net, uint32_t node)
{
    for (uint32_t other = 1; other <= net->n; other++) {
        if (other == node)
            continue;
        atomic_store_explicit(link_of(net, node, other), 1, memory_order_relaxed);
        atomic_store_explicit(link_of(net, other, node), 1, memory_order_relaxed);
    }
}

void netem_slow(struct netem *net, uint32_t node, uint32_t extra_ms)
{
    assert(node >= 1 && node <= net->n);
    atomic_store_explicit(&net->slow_ms[node - 1], extra_ms, memory_order_relaxed);
}

void netem_heal(struct netem *net)
{
    for (size_t i = 0; i < (size_t)net->n * net->n; i++)
        atomic_store_explicit(&net->cut[i], 0, memory_order_relaxed);
    for (uint32_t i = 0; i < net->n; i++)
        atomic_store_explicit(&net->slow_ms[i], 0, memory_order_relaxed);
}

void netem_make_reliable(struct netem *net)
{
    netem_heal(net);
    atomic_store_explicit(&net->drop_ppb, 0, memory_order_relaxed);
    atomic_store_explicit(&net->duplicate_ppb, 0, memory_order_relaxed);
    atomic_store_explicit(&net->delay_ms_min, 0, memory_order_relaxed);
    atomic_store_explicit(&net->delay_ms_max, 0, memory_order_relaxed);
}

static bool chance(struct prng *rng, uint32_t ppb)
{
    return ppb != 0 && prng_range(rng, 0, 999999999) < ppb;
}

void netem_decide(const struct netem *net, struct prng *rng, uint32_t from, uint32_t to,
                  uint64_t now_ms, uint64_t *last_delivery_ms, struct netem_fate *fate)
{
    *fate = (struct netem_fate){.copies = 1};
    if (atomic_load_explicit(link_of(net, from, to), memory_order_relaxed)) {
        fate->dropped = true;
        fate->why = "cut off";
        return;
    }
    if (chance(rng, atomic_load_explicit(&net->drop_ppb, memory_order_relaxed))) {
        fate->dropped = true;
        fate->why = "lost";
        return;
    }
    if (chance(rng, atomic_load_explicit(&net->duplicate_ppb, memory_order_relaxed)))
        fate->copies = 2;
    uint32_t lo = atomic_load_explicit(&net->delay_ms_min, memory_order_relaxed);
    uint32_t hi = atomic_load_explicit(&net->delay_ms_max, memory_order_relaxed);
    uint32_t extra = atomic_load_explicit(&net->slow_ms[from - 1], memory_order_relaxed) +
                     atomic_load_explicit(&net->slow_ms[to - 1], memory_order_relaxed);
    for (uint32_t c = 0; c < fate->copies; c++) {
        uint64_t delay = (hi > lo ? prng_range(rng, lo, hi) : lo) + extra;
        if (!net->reorder) {
            /* Keep the link's order: never deliver before the previous message on it. */
            if (now_ms + delay < *last_delivery_ms)
                delay = *last_delivery_ms - now_ms;
            *last_delivery_ms = now_ms + delay;
        }
        fate->delay_ms[c] = (uint32_t)delay;
    }
}
