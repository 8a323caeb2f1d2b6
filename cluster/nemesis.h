/* nemesis.h - the nemesis's choices, shared by the threaded run (cluster/faults.c) and the
 * simulator (sim/faults.c): each drives it with its own view of which nodes are up and applies
 * the fault it returns in its own way.
 */
#ifndef RAFT_KV_CLUSTER_NEMESIS_H
#define RAFT_KV_CLUSTER_NEMESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/prng.h"
#include "config/config.h"

/* Chooses the nemesis's next move from rng: end one of its faults, or start a new one of an
 * allowed kind. Rules: never a majority down (at most (n_nodes-1)/2 crashed at once), and at
 * most one network fault (partition, isolation, slow node) at a time, *net_in_force, which
 * the call updates (CFG_FAULT_KINDS: none). up[i] tells whether node i+1 runs. Returns false
 * when there is nothing to do; otherwise *fault is the move (crash, restart, partition, heal,
 * isolate or slow). */
bool cluster_nemesis_choose(struct prng *rng, const struct cfg_nemesis *nem, uint32_t n_nodes,
                            const bool *up, enum cfg_fault_kind *net_in_force,
                            struct cfg_fault *fault);

/* "{1 2} {3 4 5}": a partition's groups, for the trace. */
void cluster_fault_groups_text(const uint8_t *group, uint32_t n_nodes, char *buf, size_t cap);

#endif
