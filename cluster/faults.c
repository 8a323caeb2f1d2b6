/* faults.c - the threaded host of scenario/: a crash stops a node's actor, a restart starts a new
 * one on its disk, network faults go to runtime/netem. All from main's thread, the only one that
 * changes which nodes run, so a fault never races with another.
 */
#include "cluster/faults.h"

#include <assert.h>

#include <stdio.h>
#include <stdlib.h>

#include "actors/node.h"
#include "common/alloc.h"
#include "runtime/trace.h"
#include "scenario/params.h"
#include "host/scenario_host.h"

static uint64_t now_ms(const struct cluster_faults *f)
{
    return (actor_now_ns() - f->c->epoch_ns) / 1000000u;
}

static void host_crash(void *ctx, uint32_t node)
{
    struct cluster_faults *f = ctx;
    if (f->retired[node - 1])
        return; /* stopped already */
    int rc = cluster_crash(f->c, node);
    assert(rc == 0); /* the scenario's book says the node runs */
    (void)rc;
}

static int host_restart(void *ctx, uint32_t node, char *err, size_t err_len)
{
    struct cluster_faults *f = ctx;
    if (f->retired[node - 1])
        return 0; /* a retired node starts only when added again */
    return cluster_restart(f->c, node, err, err_len);
}

static int host_membership(void *ctx, enum cfg_fault_kind kind, uint32_t node, char *err,
                           size_t err_len)
{
    struct cluster_faults *f = ctx;
    struct cluster *c = f->c;
    struct node_status st;
    uint32_t leader = cluster_find_leader(c, &st);
    if (leader == 0) {
        snprintf(err, err_len, "no leader known");
        return -1;
    }
    if (kind == CFG_FAULT_ADD && f->retired[node - 1]) {
        f->retired[node - 1] = false; /* a retired machine comes back to join again */
        if (cluster_restart(c, node, err, err_len) != 0)
            return -1;
    }
    enum node_change_kind k = kind == CFG_FAULT_ADD      ? NODE_CHANGE_ADD
                              : kind == CFG_FAULT_REMOVE ? NODE_CHANGE_REMOVE
                                                         : NODE_CHANGE_TRANSFER;
    struct raft_change_result res;
    int rc = node_change(c->nodes[leader - 1], k, node, 5000, &res);
    if (rc != ACTOR_OK) {
        snprintf(err, err_len, "leader node %u did not answer: %s", leader, actor_strerror(rc));
        return -1;
    }
    if (res.status != RAFT_CHANGE_ACCEPTED) {
        snprintf(err, err_len, "leader node %u: %s", leader, raft_refusal_name(res.why));
        return -1;
    }
    f->retire_watch += kind == CFG_FAULT_REMOVE;
    if (kind == CFG_FAULT_ADD)
        f->joined[node - 1] = true;
    return 0;
}

static void host_config(void *ctx, bool *voter, bool *learner)
{
    struct cluster_faults *f = ctx;
    struct node_status st;
    struct raft_config initial;
    raft_config_initial(&initial, f->c->cfg->num_nodes);
    const struct raft_config *cfg = cluster_find_leader(f->c, &st) != 0 ? &st.config : &initial;
    for (uint32_t id = 1; id <= f->c->n_nodes; id++) {
        voter[id - 1] = raft_config_is_voter(cfg, id);
        learner[id - 1] = raft_config_is_learner(cfg, id);
    }
}

/* Stops every running node the leader's committed configuration no longer holds (as an operator
 * retires a removed machine), where removed servers could disrupt the others: neither pre-vote
 * nor check-quorum on (thesis 4.2.3). */
static void retire_removed(struct cluster_faults *f)
{
    struct cluster *c = f->c;
    if (f->retire_watch == 0 || c->cfg->raft.pre_vote || c->cfg->raft.check_quorum)
        return;
    struct node_status st;
    if (cluster_find_leader(c, &st) == 0)
        return;
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        bool was_member = f->joined[id - 1] || id <= c->cfg->num_nodes;
        if (c->nodes[id - 1] == NULL || !was_member ||
            raft_config_is_member(&st.config_committed, id))
            continue;
        struct trace_field retired = TRACE_U64("retired", id);
        trace_log_fields(TRACE_INFO, "main", "config", &retired, 1,
                         "node %u retired: removed from the cluster", id);
        cluster_crash(c, id);
        f->retired[id - 1] = true;
    }
}

static void host_applied(void *ctx, const struct scenario_applied *a)
{
    scenario_trace_fault(a);
}

void cluster_faults_init(struct cluster_faults *f, struct cluster *c)
{
    f->c = c;
    f->joined = xcalloc(c->n_nodes, sizeof *f->joined);
    f->retired = xcalloc(c->n_nodes, sizeof *f->retired);
    f->retire_watch = 0;
    scenario_init(&f->scenario, c->cfg, prng_derive(c->cfg->seed, SCENARIO_NEMESIS_STREAM));
    f->host = (struct scenario_host){
        .ctx = f,
        .crash = host_crash,
        .restart = host_restart,
        .membership = host_membership,
        .config = host_config,
        .applied = host_applied,
    };
    scenario_host_use_netem(&f->host, c->net); /* NULL: no fault is planned, none is called */
    scenario_start(&f->scenario, now_ms(f));
}

void cluster_faults_close(struct cluster_faults *f)
{
    scenario_close(&f->scenario);
    free(f->joined);
    free(f->retired);
    f->joined = f->retired = NULL;
}

void cluster_faults_run_due(struct cluster_faults *f)
{
    scenario_run_due(&f->scenario, now_ms(f), &f->host);
    retire_removed(f);
}

int cluster_faults_heal_all(struct cluster_faults *f, char *err, size_t err_len)
{
    struct cluster *c = f->c;
    retire_removed(f);
    if (c->net == NULL) /* a perfect network and no fault planned: nothing to heal */
        return 0;
    if (scenario_heal_all(&f->scenario, &f->host, err, err_len) != 0)
        return -1;
    netem_make_reliable(c->net);
    scenario_trace_heal_all();
    return 0;
}
