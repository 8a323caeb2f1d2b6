/* params.h - how a configuration becomes a run's parameters (Raft options, seed streams,
 * request deadlines): one definition for the threaded run and the simulator, so
 * that the simulator runs the program that people run.
 */
#ifndef RAFT_KV_SCENARIO_PARAMS_H
#define RAFT_KV_SCENARIO_PARAMS_H

#include <stdint.h>

#include "client/client.h"
#include "config/config.h"
#include "raft/raft.h"

/* Streams of the run's seed (prng_derive): client i uses SCENARIO_CLIENT_STREAM + i, node i's
 * network decisions SCENARIO_NET_STREAM + i, the nemesis SCENARIO_NEMESIS_STREAM; node i's
 * election timeouts use (incarnation << 32 | i), so that a restarted node draws anew. */
enum {
    SCENARIO_CLIENT_STREAM = 1u << 20,
    SCENARIO_NET_STREAM = 1u << 21,
    SCENARIO_NEMESIS_STREAM = 1u << 22,
};

/* The Raft options of node id (1..num_nodes) in its incarnation (0 for its first start). */
void scenario_raft_options(const struct cfg *cfg, uint32_t id, uint32_t incarnation,
                           struct raft_options *o);

/* How long a client keeps retrying one request before giving up (and recording info or fail):
 * five request timeouts, but at least twenty election timeouts, so a request outlives an
 * election. */
uint32_t scenario_request_deadline_ms(const struct cfg *cfg);
/* How many of its last outcomes a client keeps for the end-of-run results check
 * (client_options.keep_outcomes): the check compares only the commands the leader's log holds
 * after its snapshot, at most snapshot_threshold + snapshot_trailing of them, so a client's are
 * among its last that many (plus a margin for a request committed late). 0 (all) without
 * snapshots. A long run's memory then stays bounded. */
uint32_t scenario_keep_outcomes(const struct cfg *cfg);
/* The client's mix of requests and of reads (client_options.op_weights, read_weights). */
void scenario_client_mix(const struct cfg *cfg, struct client_options *o);

#endif
