/* faults.c - the simulator's faults: the [[fault]] schedule in time order and the random nemesis,
 * with the rules of cluster/faults.c (never a majority down, one network fault at a time), acting
 * on simulated nodes and the simulated network instead of threads; one SIM_EV_FAULT is queued
 * for whatever is due next.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/nemesis.h"
#include "cluster/params.h"
#include "common/alloc.h"
#include "runtime/trace.h"
#include "sim/internal.h"

/* [[fault]] at_ms is 0..86400000 (config/config_schema.c). */
#define CFG_FAULT_AT_MS_MAX 86400000u

void sim_faults_init(struct sim *s)
{
    const struct cfg *cfg = s->cfg;
    s->n_plan = cfg->n_faults;
    s->plan = xcalloc(s->n_plan ? s->n_plan : 1, sizeof *s->plan);
    /* Insertion sort by time: stable, so faults at the same time keep their file order. */
    for (size_t i = 0; i < s->n_plan; i++) {
        size_t j = i;
        while (j > 0 && s->plan[j - 1].at_ms > cfg->faults[i].at_ms) {
            s->plan[j] = s->plan[j - 1];
            j--;
        }
        s->plan[j] = cfg->faults[i];
    }
    prng_seed(&s->nemesis_rng, prng_derive(cfg->seed, CLUSTER_NEMESIS_STREAM));
    s->nemesis_net = CFG_FAULT_KINDS; /* none */
}

void sim_faults_close(struct sim *s)
{
    free(s->plan);
    s->plan = NULL;
    free(s->injected);
    s->injected = NULL;
}

static uint64_t next_due_ms(const struct sim *s)
{
    uint64_t next = UINT64_MAX;
    if (s->next_fault < s->n_plan)
        next = s->plan[s->next_fault].at_ms;
    if (s->nemesis_on && s->nemesis_next_ms < next)
        next = s->nemesis_next_ms;
    return next;
}

/* Queues one SIM_EV_FAULT for the next thing due (at most one is queued at a time). */
static void arm(struct sim *s)
{
    uint64_t next = next_due_ms(s);
    if (s->fault_event_armed || next == UINT64_MAX)
        return;
    s->fault_event_armed = true;
    sim_queue_push(&s->q, sim_event_new(SIM_EV_FAULT, next > s->now_ms ? next : s->now_ms));
}

void sim_faults_start(struct sim *s)
{
    assert(!s->faults_started);
    s->faults_started = true;
    const struct cfg_nemesis *nem = &s->cfg->nemesis;
    s->nemesis_on = nem->interval_ms > 0 && nem->kinds != 0 && s->clients_done < s->n_clients;
    if (s->nemesis_on)
        s->nemesis_next_ms = s->now_ms + nem->interval_ms;
    arm(s);
}

bool sim_faults_plan_done(const struct sim *s)
{
    return s->next_fault >= s->n_plan;
}

static void record(struct sim *s, const struct cfg_fault *fault)
{
    if (s->n_injected == s->cap_injected) {
        s->cap_injected = s->cap_injected ? 2 * s->cap_injected : 16;
        s->injected = xreallocarray(s->injected, s->cap_injected, sizeof *s->injected);
    }
    struct cfg_fault *f = &s->injected[s->n_injected++];
    *f = *fault;
    f->at_ms = s->now_ms > CFG_FAULT_AT_MS_MAX ? CFG_FAULT_AT_MS_MAX : (uint32_t)s->now_ms;
}

void sim_faults_apply(struct sim *s, const struct cfg_fault *fault, const char *who)
{
    uint32_t node = fault->node;
    if (s->n_injected < SIM_INJECTED_MAX)
        record(s, fault);
    bool node_ok = node >= 1 && node <= s->n_nodes;
    switch (fault->kind) {
    case CFG_FAULT_CRASH:
        if (node_ok && s->nodes[node - 1].up) {
            sim_node_crash(s, node);
            s->faults++;
            trace_log(TRACE_INFO, who, "fault", "crashes node %u", node);
        } else {
            trace_log(TRACE_INFO, who, "fault", "node %u is already down", node);
        }
        return;
    case CFG_FAULT_RESTART:
        if (node_ok && !s->nodes[node - 1].up) {
            trace_log(TRACE_INFO, who, "fault", "restarts node %u from its persistent state", node);
            sim_node_start(s, node);
        } else {
            trace_log(TRACE_INFO, who, "fault", "cannot restart: node %u is not down", node);
        }
        return;
    case CFG_FAULT_PARTITION: {
        char text[512];
        cluster_fault_groups_text(fault->group, s->n_nodes, text, sizeof text);
        netem_partition(s->net, fault->group);
        s->faults++;
        trace_log(TRACE_INFO, who, "fault", "partitions the network: %s", text);
        return;
    }
    case CFG_FAULT_HEAL:
        netem_heal(s->net);
        trace_log(TRACE_INFO, who, "fault", "heals the network (partitions, isolation, slowness)");
        return;
    case CFG_FAULT_ISOLATE:
        netem_isolate(s->net, node);
        s->faults++;
        trace_log(TRACE_INFO, who, "fault", "isolates node %u", node);
        return;
    case CFG_FAULT_SLOW:
        netem_slow(s->net, node, fault->slow_ms);
        s->faults++;
        trace_log(TRACE_INFO, who, "fault", "slows node %u's links by %u ms", node, fault->slow_ms);
        return;
    case CFG_FAULT_KINDS:
        break;
    }
}

/* One nemesis move: cluster/nemesis.c decides, as in the threaded run; this applies it. */
static void nemesis_move(struct sim *s)
{
    bool up[CFG_NODES_MAX];
    for (uint32_t i = 0; i < s->n_nodes; i++)
        up[i] = s->nodes[i].up;
    struct cfg_fault fault;
    if (cluster_nemesis_choose(&s->nemesis_rng, &s->cfg->nemesis, s->n_nodes, up, &s->nemesis_net,
                               &fault))
        sim_faults_apply(s, &fault, "nemesis");
}

void sim_faults_run_due(struct sim *s)
{
    s->fault_event_armed = false;
    /* Bounded: each turn consumes one planned fault. */
    while (s->next_fault < s->n_plan && s->plan[s->next_fault].at_ms <= s->now_ms)
        sim_faults_apply(s, &s->plan[s->next_fault++], "faults");
    if (s->nemesis_on && s->nemesis_next_ms <= s->now_ms) {
        nemesis_move(s);
        uint32_t interval = s->cfg->nemesis.interval_ms;
        /* "About this often": uniform in [interval/2, 3*interval/2]. */
        uint64_t wait = prng_range(&s->nemesis_rng, interval / 2, interval + interval / 2);
        s->nemesis_next_ms = s->now_ms + (wait ? wait : 1); /* time moves between moves */
    }
    arm(s);
}

void sim_faults_heal_all(struct sim *s)
{
    sim_next_stamp(s); /* between queued events: an event of its own */
    s->nemesis_on = false;
    s->nemesis_net = CFG_FAULT_KINDS;
    for (uint32_t id = 1; id <= s->n_nodes; id++)
        if (!s->nodes[id - 1].up)
            sim_node_start(s, id);
    netem_make_reliable(s->net);
    trace_log(TRACE_INFO, "main", "fault",
              "clients done: every fault healed, nodes restarted, the network made reliable");
}
