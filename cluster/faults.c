/* faults.c - the threaded host of scenario/: a crash stops a node's actor, a restart starts a new
 * one on its disk, network faults go to runtime/netem. All from main's thread, the only one that
 * changes which nodes run, so a fault never races with another.
 */
#include "cluster/faults.h"

#include <assert.h>

#include "scenario/params.h"
#include "host/scenario_host.h"

static uint64_t now_ms(const struct cluster_faults *f)
{
    return (actor_now_ns() - f->c->epoch_ns) / 1000000u;
}

static void host_crash(void *ctx, uint32_t node)
{
    int rc = cluster_crash(ctx, node);
    assert(rc == 0); /* the scenario's book says the node runs */
    (void)rc;
}

static int host_restart(void *ctx, uint32_t node, char *err, size_t err_len)
{
    return cluster_restart(ctx, node, err, err_len);
}

static void host_applied(void *ctx, const struct scenario_applied *a)
{
    scenario_trace_fault(a);
}

void cluster_faults_init(struct cluster_faults *f, struct cluster *c)
{
    f->c = c;
    scenario_init(&f->scenario, c->cfg, prng_derive(c->cfg->seed, SCENARIO_NEMESIS_STREAM));
    f->host = (struct scenario_host){
        .ctx = c,
        .crash = host_crash,
        .restart = host_restart,
        .applied = host_applied,
    };
    scenario_host_use_netem(&f->host, c->net); /* NULL: no fault is planned, none is called */
    scenario_start(&f->scenario, now_ms(f));
}

void cluster_faults_close(struct cluster_faults *f)
{
    scenario_close(&f->scenario);
}

void cluster_faults_run_due(struct cluster_faults *f)
{
    scenario_run_due(&f->scenario, now_ms(f), &f->host);
}

int cluster_faults_heal_all(struct cluster_faults *f, char *err, size_t err_len)
{
    struct cluster *c = f->c;
    if (c->net == NULL) /* a perfect network and no fault planned: nothing to heal */
        return 0;
    if (scenario_heal_all(&f->scenario, &f->host, err, err_len) != 0)
        return -1;
    netem_make_reliable(c->net);
    scenario_trace_heal_all();
    return 0;
}
