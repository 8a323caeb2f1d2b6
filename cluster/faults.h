/* faults.h - the faults of a run: the [[fault]] schedule and the random nemesis (issue 5). */
#ifndef RAFT_KV_CLUSTER_FAULTS_H
#define RAFT_KV_CLUSTER_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/cluster.h"
#include "common/prng.h"

struct cluster_faults {
    struct cluster *c;
    struct cfg_fault *plan; /* the scheduled faults, sorted by time (stable) */
    size_t n_plan, next;    /* Invariant: plan[0..next) have been applied */
    struct prng rng;        /* the nemesis's choices */
    bool nemesis_on;
    uint64_t nemesis_next_ms;
    enum cfg_fault_kind nemesis_net; /* its network fault in force, CFG_FAULT_KINDS if none */
};

/* Takes the schedule from c->cfg. Faults are applied only by cluster_faults_run_due. */
void cluster_faults_init(struct cluster_faults *f, struct cluster *c);
void cluster_faults_close(struct cluster_faults *f);
/* When the next fault is due (ms since the run's start), UINT64_MAX if none is planned. */
uint64_t cluster_faults_next_ms(const struct cluster_faults *f);
/* Applies every scheduled fault that is due and, if it is time, one nemesis move. */
void cluster_faults_run_due(struct cluster_faults *f);
/* True once every scheduled fault has been applied. */
bool cluster_faults_plan_done(const struct cluster_faults *f);
/* No more nemesis moves (the clients are done). */
void cluster_faults_stop_nemesis(struct cluster_faults *f);

#endif
