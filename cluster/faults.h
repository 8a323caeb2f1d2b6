/* faults.h - the threaded host of a run's faults: the schedule and the nemesis of scenario/
 * carried out on the running nodes and the emulated network, from main's thread.
 */
#ifndef RAFT_KV_CLUSTER_FAULTS_H
#define RAFT_KV_CLUSTER_FAULTS_H

#include <stddef.h>

#include "cluster/cluster.h"
#include "scenario/scenario.h"

struct cluster_faults {
    struct cluster *c;
    struct scenario scenario; /* what happens and when: read it with scenario_next_ms, ... */
    struct scenario_host host;
    /* Membership (issue 16): joined[i], an addition of node i+1 was accepted; retired[i], it was
     * removed and is stopped until added again; retire_watch, removals accepted so far. */
    bool *joined, *retired;
    uint32_t retire_watch;
};

/* The first leader is known: takes the schedule and the nemesis from c->cfg and starts them.
 * Faults are applied only by cluster_faults_run_due. A zeroed struct may be closed. */
void cluster_faults_init(struct cluster_faults *f, struct cluster *c);
void cluster_faults_close(struct cluster_faults *f);
/* Applies every scheduled fault that is due and, if it is time, one nemesis move. */
void cluster_faults_run_due(struct cluster_faults *f);
/* The clients are done: every fault ends (crashed nodes restart) and the network becomes
 * perfect. 0, or -1 with err if a node could not restart. */
int cluster_faults_heal_all(struct cluster_faults *f, char *err, size_t err_len);

#endif
