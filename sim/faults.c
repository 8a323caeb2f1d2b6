/* faults.c - the simulator's host of scenario/: the schedule and the nemesis carried out on
 * simulated nodes and the simulated network, with one SIM_EV_FAULT queued for whatever is due
 * next, and every fault recorded with its time so that sim_shrink can replay a failing run.
 */
#include <assert.h>
#include <stdlib.h>

#include "scenario/params.h"
#include "common/alloc.h"
#include "host/scenario_host.h"
#include "sim/internal.h"

/* [[fault]] at_ms is 0..86400000 (config/config_schema.c). */
#define CFG_FAULT_AT_MS_MAX 86400000u

static void host_crash(void *ctx, uint32_t node)
{
    sim_node_crash(ctx, node);
}

static int host_restart(void *ctx, uint32_t node, char *err, size_t err_len)
{
    struct sim *s = ctx;
    if (!s->nodes[node - 1].retired) /* a retired node starts only when added again */
        sim_node_start(s, node);     /* cannot fail: its options were validated */
    return 0;
}

static int host_membership(void *ctx, enum cfg_fault_kind kind, uint32_t node, char *err,
                           size_t err_len)
{
    return sim_membership(ctx, kind, node, err, err_len);
}

static void host_config(void *ctx, bool *voter, bool *learner)
{
    struct sim *s = ctx;
    const struct raft_config *c = sim_config(s);
    for (uint32_t id = 1; id <= s->n_nodes; id++) {
        voter[id - 1] = raft_config_is_voter(c, id);
        learner[id - 1] = raft_config_is_learner(c, id);
    }
}

static void record(struct sim *s, const struct cfg_fault *fault, uint64_t at_ms)
{
    if (s->n_injected == s->cap_injected) {
        s->cap_injected = s->cap_injected ? 2 * s->cap_injected : 16;
        s->injected = xreallocarray(s->injected, s->cap_injected, sizeof *s->injected);
    }
    struct cfg_fault *f = &s->injected[s->n_injected++];
    *f = *fault;
    f->at_ms = at_ms > CFG_FAULT_AT_MS_MAX ? CFG_FAULT_AT_MS_MAX : (uint32_t)at_ms;
}

static void host_applied(void *ctx, const struct scenario_applied *a)
{
    struct sim *s = ctx;
    if (s->n_injected < SIM_INJECTED_MAX)
        record(s, a->fault, a->at_ms);
    scenario_trace_fault(a);
}

void sim_faults_init(struct sim *s)
{
    scenario_init(&s->scenario, s->cfg, prng_derive(s->cfg->seed, SCENARIO_NEMESIS_STREAM));
    s->fault_host = (struct scenario_host){
        .ctx = s,
        .crash = host_crash,
        .restart = host_restart,
        .membership = host_membership,
        .config = host_config,
        .applied = host_applied,
    };
    scenario_host_use_netem(&s->fault_host, s->net);
}

void sim_faults_close(struct sim *s)
{
    scenario_close(&s->scenario);
    free(s->injected);
    s->injected = NULL;
}

/* Queues one SIM_EV_FAULT for the next thing due (at most one is queued at a time). */
static void arm(struct sim *s)
{
    uint64_t next = scenario_next_ms(&s->scenario);
    if (s->fault_event_armed || next == UINT64_MAX)
        return;
    s->fault_event_armed = true;
    sim_queue_push(&s->q, sim_event_new(SIM_EV_FAULT, next > s->now_ms ? next : s->now_ms));
}

void sim_faults_start(struct sim *s)
{
    scenario_start(&s->scenario, s->now_ms);
    arm(s);
}

void sim_faults_run_due(struct sim *s)
{
    s->fault_event_armed = false;
    scenario_run_due(&s->scenario, s->now_ms, &s->fault_host);
    arm(s);
}

void sim_faults_heal_all(struct sim *s)
{
    sim_next_stamp(s); /* between queued events: an event of its own */
    char err[256];
    int rc = scenario_heal_all(&s->scenario, &s->fault_host, err, sizeof err);
    assert(rc == 0); /* a simulated node always restarts */
    (void)rc;
    netem_make_reliable(s->net);
    scenario_trace_heal_all();
}
