/* nemesis.c - the nemesis's rules as a pure choice from a PRNG and a view of the cluster, so
 * the threaded run and the simulator make the same moves for the same seed and state.
 */
#include "cluster/nemesis.h"

#include <stdio.h>
#include <string.h>

/* A random node that is up (live) or down (!live), or 0 if there is none. */
static uint32_t random_node(struct prng *rng, uint32_t n_nodes, const bool *up, bool live)
{
    uint32_t candidates[CFG_NODES_MAX], n = 0;
    for (uint32_t i = 0; i < n_nodes; i++)
        if (up[i] == live)
            candidates[n++] = i + 1;
    return n ? candidates[prng_range(rng, 0, n - 1)] : 0;
}

bool cluster_nemesis_choose(struct prng *rng, const struct cfg_nemesis *nem, uint32_t n_nodes,
                            const bool *up, enum cfg_fault_kind *net_in_force,
                            struct cfg_fault *fault)
{
    uint32_t down = 0;
    for (uint32_t i = 0; i < n_nodes; i++)
        down += !up[i];
    memset(fault, 0, sizeof *fault);
    bool end_net = *net_in_force != CFG_FAULT_KINDS && prng_range(rng, 0, 1) == 0;
    bool end_crash = !end_net && down > 0 && prng_range(rng, 0, 1) == 0;
    if (end_net) {
        fault->kind = CFG_FAULT_HEAL;
        *net_in_force = CFG_FAULT_KINDS;
        return true;
    }
    if (end_crash) {
        fault->kind = CFG_FAULT_RESTART;
        fault->node = random_node(rng, n_nodes, up, false);
        return true;
    }
    /* Start a fault: draw among the allowed kinds that can start now. */
    enum cfg_fault_kind choices[CFG_FAULT_KINDS];
    uint32_t n = 0;
    if ((nem->kinds & (1u << CFG_FAULT_CRASH)) && down + 1 <= (n_nodes - 1) / 2)
        choices[n++] = CFG_FAULT_CRASH;
    if (*net_in_force == CFG_FAULT_KINDS && n_nodes > 1) {
        if (nem->kinds & (1u << CFG_FAULT_PARTITION))
            choices[n++] = CFG_FAULT_PARTITION;
        if (nem->kinds & (1u << CFG_FAULT_ISOLATE))
            choices[n++] = CFG_FAULT_ISOLATE;
        if (nem->kinds & (1u << CFG_FAULT_SLOW))
            choices[n++] = CFG_FAULT_SLOW;
    }
    if (n == 0) {
        /* Nothing can start (e.g. a minority is already down): end something instead. */
        if (down > 0) {
            fault->kind = CFG_FAULT_RESTART;
            fault->node = random_node(rng, n_nodes, up, false);
            return true;
        }
        if (*net_in_force != CFG_FAULT_KINDS) {
            fault->kind = CFG_FAULT_HEAL;
            *net_in_force = CFG_FAULT_KINDS;
            return true;
        }
        return false;
    }
    fault->kind = choices[prng_range(rng, 0, n - 1)];
    switch (fault->kind) {
    case CFG_FAULT_CRASH:
        fault->node = random_node(rng, n_nodes, up, true);
        break;
    case CFG_FAULT_PARTITION: {
        /* Two groups: a random nonempty proper subset against the rest (Fisher-Yates). */
        uint32_t cut = (uint32_t)prng_range(rng, 1, n_nodes - 1);
        uint32_t order[CFG_NODES_MAX];
        for (uint32_t i = 0; i < n_nodes; i++)
            order[i] = i;
        for (uint32_t i = n_nodes - 1; i > 0; i--) {
            uint32_t j = (uint32_t)prng_range(rng, 0, i);
            uint32_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (uint32_t i = 0; i < n_nodes; i++)
            fault->group[order[i]] = i < cut ? 1 : 2;
        fault->n_groups = 2;
        break;
    }
    case CFG_FAULT_ISOLATE:
        fault->node = (uint32_t)prng_range(rng, 1, n_nodes);
        break;
    case CFG_FAULT_SLOW:
        fault->node = (uint32_t)prng_range(rng, 1, n_nodes);
        fault->slow_ms = (uint32_t)prng_range(rng, 20, 200);
        break;
    default:
        return false;
    }
    if (fault->kind != CFG_FAULT_CRASH)
        *net_in_force = fault->kind;
    return true;
}

void cluster_fault_groups_text(const uint8_t *group, uint32_t n_nodes, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (uint32_t g = 0; g <= n_nodes && used < cap; g++) {
        bool any = false;
        for (uint32_t i = 0; i < n_nodes && used < cap; i++) {
            if (group[i] != g)
                continue;
            used += (size_t)snprintf(buf + used, cap - used, "%s%u", any ? " " : "{", i + 1);
            any = true;
        }
        if (any && used < cap)
            used += (size_t)snprintf(buf + used, cap - used, "} ");
    }
}
