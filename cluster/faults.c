/* faults.c - the faults of a run: the [[fault]] schedule in time order, and a nemesis that
 * starts and ends random faults from the run's seed. Both act from main's thread, the only one
 * that changes which nodes run, so a fault never races with another.
 *
 * The nemesis never crashes a majority (at most (n-1)/2 nodes are down at once) and keeps at
 * most one network fault (partition, isolation or slow node) at a time, so that each of its
 * faults can be ended on its own and the cluster can make progress between them.
 */
#include "cluster/faults.h"

#include "cluster/nemesis.h"
#include "cluster/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "runtime/trace.h"

static uint64_t now_ms(const struct cluster_faults *f)
{
    return (actor_now_ns() - f->c->epoch_ns) / 1000000u;
}

void cluster_faults_init(struct cluster_faults *f, struct cluster *c)
{
    const struct cfg *cfg = c->cfg;
    memset(f, 0, sizeof *f);
    f->c = c;
    f->n_plan = cfg->n_faults;
    f->plan = xcalloc(f->n_plan ? f->n_plan : 1, sizeof *f->plan);
    /* Insertion sort by time: stable, so faults at the same time keep their file order. */
    for (size_t i = 0; i < f->n_plan; i++) {
        size_t j = i;
        while (j > 0 && f->plan[j - 1].at_ms > cfg->faults[i].at_ms) {
            f->plan[j] = f->plan[j - 1];
            j--;
        }
        f->plan[j] = cfg->faults[i];
    }
    prng_seed(&f->rng, prng_derive(cfg->seed, CLUSTER_NEMESIS_STREAM));
    f->nemesis_net = CFG_FAULT_KINDS; /* none */
    f->nemesis_on = cfg->nemesis.interval_ms > 0 && cfg->nemesis.kinds != 0 && c->net != NULL;
    if (f->nemesis_on)
        f->nemesis_next_ms = now_ms(f) + cfg->nemesis.interval_ms;
}

void cluster_faults_close(struct cluster_faults *f)
{
    free(f->plan);
    memset(f, 0, sizeof *f);
}

uint64_t cluster_faults_next_ms(const struct cluster_faults *f)
{
    uint64_t next = UINT64_MAX;
    if (f->next < f->n_plan)
        next = f->plan[f->next].at_ms;
    if (f->nemesis_on && f->nemesis_next_ms < next)
        next = f->nemesis_next_ms;
    return next;
}

bool cluster_faults_plan_done(const struct cluster_faults *f)
{
    return f->next >= f->n_plan;
}

void cluster_faults_stop_nemesis(struct cluster_faults *f)
{
    f->nemesis_on = false;
}

/* --- acting ---------------------------------------------------------------------------------- */

/* Applies one fault; who is "faults" (scheduled) or "nemesis". */
static void apply(struct cluster_faults *f, const struct cfg_fault *fault, const char *who)
{
    struct cluster *c = f->c;
    char err[256];
    switch (fault->kind) {
    case CFG_FAULT_CRASH:
        if (cluster_crash(c, fault->node) == 0)
            trace_log(TRACE_INFO, who, "fault", "crashes node %u", fault->node);
        else
            trace_log(TRACE_INFO, who, "fault", "node %u is already down", fault->node);
        return;
    case CFG_FAULT_RESTART:
        if (cluster_restart(c, fault->node, err, sizeof err) == 0)
            trace_log(TRACE_INFO, who, "fault", "restarts node %u from its persistent state",
                      fault->node);
        else
            trace_log(TRACE_INFO, who, "fault", "cannot restart: %s", err);
        return;
    case CFG_FAULT_PARTITION: {
        char text[512];
        cluster_fault_groups_text(fault->group, c->n_nodes, text, sizeof text);
        netem_partition(c->net, fault->group);
        c->faults++;
        trace_log(TRACE_INFO, who, "fault", "partitions the network: %s", text);
        return;
    }
    case CFG_FAULT_HEAL:
        netem_heal(c->net);
        trace_log(TRACE_INFO, who, "fault", "heals the network (partitions, isolation, slowness)");
        return;
    case CFG_FAULT_ISOLATE:
        netem_isolate(c->net, fault->node);
        c->faults++;
        trace_log(TRACE_INFO, who, "fault", "isolates node %u", fault->node);
        return;
    case CFG_FAULT_SLOW:
        netem_slow(c->net, fault->node, fault->slow_ms);
        c->faults++;
        trace_log(TRACE_INFO, who, "fault", "slows node %u's links by %u ms", fault->node,
                  fault->slow_ms);
        return;
    case CFG_FAULT_KINDS:
        break;
    }
}

/* One nemesis move (cluster/nemesis.c decides; this applies it). */
static void nemesis_move(struct cluster_faults *f)
{
    struct cluster *c = f->c;
    bool up[CFG_NODES_MAX];
    for (uint32_t i = 0; i < c->n_nodes; i++)
        up[i] = c->nodes[i] != NULL;
    struct cfg_fault fault;
    if (cluster_nemesis_choose(&f->rng, &c->cfg->nemesis, c->n_nodes, up, &f->nemesis_net, &fault))
        apply(f, &fault, "nemesis");
}

void cluster_faults_run_due(struct cluster_faults *f)
{
    uint64_t now = now_ms(f);
    while (f->next < f->n_plan && f->plan[f->next].at_ms <= now)
        apply(f, &f->plan[f->next++], "faults");
    if (f->nemesis_on && f->nemesis_next_ms <= now) {
        nemesis_move(f);
        uint32_t interval = f->c->cfg->nemesis.interval_ms;
        /* "About this often": uniform in [interval/2, 3*interval/2]. */
        f->nemesis_next_ms = now + prng_range(&f->rng, interval / 2, interval + interval / 2);
    }
}
