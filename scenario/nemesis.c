/* nemesis.c - the nemesis's rules as a pure choice from a PRNG, the book of what is in force and
 * the configuration, so that every host makes the same move for the same seed and state (rules:
 * scenario.h). Membership moves only add to the kinds drawn from, so without them the draws are
 * those of before.
 */
#include "scenario/scenario.h"

#include <assert.h>
#include <string.h>

/* A random node that is up (live) or down (!live), or 0 if there is none. */
static uint32_t random_node(struct prng *rng, const struct scenario_book *book, bool live)
{
    uint32_t candidates[CFG_NODES_MAX], n = 0;
    for (uint32_t i = 0; i < book->n_nodes; i++)
        if (book->down[i] != live)
            candidates[n++] = i + 1;
    return n ? candidates[prng_range(rng, 0, n - 1)] : 0;
}

/* Two groups: a random nonempty proper subset against the rest (Fisher-Yates). */
static void random_split(struct prng *rng, uint32_t n_nodes, struct cfg_fault *fault)
{
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
}

static bool allowed(const struct cfg_nemesis *nem, enum cfg_fault_kind kind)
{
    return (nem->kinds & (1u << kind)) != 0;
}

/* The candidates of each membership move in a configuration. */
struct members {
    uint32_t voters[CFG_NODES_MAX], n_voters;       /* transfer to one */
    uint32_t outsiders[CFG_NODES_MAX], n_outsiders; /* neither voter nor learner: add one */
    uint32_t removable[CFG_NODES_MAX], n_removable; /* learners, and voters above num_nodes */
};

static void sort_members(const struct scenario_book *book, const bool *voter, const bool *learner,
                         struct members *m)
{
    uint32_t n_learners = 0;
    m->n_voters = m->n_outsiders = m->n_removable = 0;
    for (uint32_t i = 0; i < book->n_nodes; i++) {
        if (voter[i]) {
            m->voters[m->n_voters++] = i + 1;
        } else if (learner[i]) {
            m->removable[m->n_removable++] = i + 1;
            n_learners++;
        } else {
            m->outsiders[m->n_outsiders++] = i + 1;
        }
    }
    if (n_learners > 0) /* one addition at a time: none while one is under way */
        m->n_outsiders = 0;
    if (m->n_voters > book->num_nodes) /* never fewer than num_nodes voters */
        for (uint32_t i = 0; i < m->n_voters; i++)
            m->removable[m->n_removable++] = m->voters[i];
}

static uint32_t pick(struct prng *rng, const uint32_t *nodes, uint32_t n)
{
    return nodes[prng_range(rng, 0, n - 1)];
}

bool scenario_nemesis_choose(struct prng *rng, const struct cfg_nemesis *nem,
                             const struct scenario_book *book, const bool *voter,
                             const bool *learner, struct cfg_fault *fault)
{
    uint32_t n_nodes = book->n_nodes, down = book->n_down;
    assert((voter == NULL) == (learner == NULL));
    bool net_on = book->n_net > 0;
    memset(fault, 0, sizeof *fault);
    /* End a fault in force, on a coin flip: the network's first, then a crash. */
    bool end_net = net_on && prng_range(rng, 0, 1) == 0;
    bool end_crash = !end_net && down > 0 && prng_range(rng, 0, 1) == 0;
    if (end_net) {
        fault->kind = CFG_FAULT_HEAL;
        return true;
    }
    if (end_crash) {
        fault->kind = CFG_FAULT_RESTART;
        fault->node = random_node(rng, book, false);
        return true;
    }
    /* Start a fault: draw among the allowed kinds that can start now. */
    enum cfg_fault_kind choices[CFG_FAULT_KINDS];
    uint32_t n = 0;
    if (allowed(nem, CFG_FAULT_CRASH) && down + 1 <= (book->num_nodes - 1) / 2)
        choices[n++] = CFG_FAULT_CRASH;
    if (!net_on && n_nodes > 1) {
        if (allowed(nem, CFG_FAULT_PARTITION))
            choices[n++] = CFG_FAULT_PARTITION;
        if (allowed(nem, CFG_FAULT_ISOLATE))
            choices[n++] = CFG_FAULT_ISOLATE;
        if (allowed(nem, CFG_FAULT_SLOW))
            choices[n++] = CFG_FAULT_SLOW;
    }
    struct members m = {.n_voters = 0};
    if (voter != NULL) {
        sort_members(book, voter, learner, &m);
        if (allowed(nem, CFG_FAULT_TRANSFER) && m.n_voters >= 2)
            choices[n++] = CFG_FAULT_TRANSFER;
        if (allowed(nem, CFG_FAULT_ADD) && m.n_outsiders > 0)
            choices[n++] = CFG_FAULT_ADD;
        if (allowed(nem, CFG_FAULT_REMOVE) && m.n_removable > 0)
            choices[n++] = CFG_FAULT_REMOVE;
    }
    if (n == 0) {
        /* Nothing can start (e.g. a minority is already down): end something instead. */
        if (down > 0) {
            fault->kind = CFG_FAULT_RESTART;
            fault->node = random_node(rng, book, false);
            return true;
        }
        if (net_on) {
            fault->kind = CFG_FAULT_HEAL;
            return true;
        }
        return false;
    }
    fault->kind = choices[prng_range(rng, 0, n - 1)];
    switch (fault->kind) {
    case CFG_FAULT_CRASH:
        fault->node = random_node(rng, book, true);
        break;
    case CFG_FAULT_PARTITION:
        random_split(rng, n_nodes, fault);
        break;
    case CFG_FAULT_ISOLATE:
        fault->node = (uint32_t)prng_range(rng, 1, n_nodes);
        break;
    case CFG_FAULT_SLOW:
        fault->node = (uint32_t)prng_range(rng, 1, n_nodes);
        fault->slow_ms = (uint32_t)prng_range(rng, 20, 200);
        break;
    case CFG_FAULT_TRANSFER:
        fault->node = pick(rng, m.voters, m.n_voters);
        break;
    case CFG_FAULT_ADD:
        fault->node = pick(rng, m.outsiders, m.n_outsiders);
        break;
    case CFG_FAULT_REMOVE:
        fault->node = pick(rng, m.removable, m.n_removable);
        break;
    default:
        return false;
    }
    return true;
}
