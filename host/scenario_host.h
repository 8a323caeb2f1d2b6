/* host.h - the host half of the scenario module, shared by the threaded run and the simulator:
 * the network callbacks on the emulated network (runtime/netem.h) and the trace lines of faults,
 * so that both hosts carry out and word a fault alike. Not pure: it traces.
 */
#ifndef RAFT_KV_HOST_SCENARIO_HOST_H
#define RAFT_KV_HOST_SCENARIO_HOST_H

#include "runtime/netem.h"
#include "scenario/scenario.h"

/* Points host's network callbacks (partition, isolate, slow, heal) at net (borrowed). */
void scenario_host_use_netem(struct scenario_host *host, struct netem *net);

/* The trace line of one fault, from actor a->who: "crashes node 2", "partitions the network:
 * {1 2} {3 4 5}", "node 2 is already down", "cannot restart: ...", "asks the leader to remove
 * node 3", "asks the leader to add node 4: refused: ...". JSON fields: "fault" (the kind's word)
 * and "node", "groups" or "slow_ms" as the kind takes; a refused membership change also has
 * "refused" (the reason); other failures have none. */
void scenario_trace_fault(const struct scenario_applied *a);

/* The trace line of the heal at the end of the clients, from "main". */
void scenario_trace_heal_all(void);

#endif
