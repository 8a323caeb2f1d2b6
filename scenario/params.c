/* params.c - the run's parameters derived from the configuration, in one place (see params.h).
 */
#include "scenario/params.h"

#include <string.h>

#include "common/prng.h"

void scenario_raft_options(const struct cfg *cfg, uint32_t id, uint32_t incarnation,
                           struct raft_options *o)
{
    raft_options_default(o, id, cfg->num_nodes);
    /* Nodes past num_nodes start outside the cluster and wait to be added (issue 16). */
    o->max_nodes = cfg_max_nodes(cfg);
    o->join = id > cfg->num_nodes;
    o->election_timeout_ms_min = cfg->raft.election_timeout_ms_min;
    o->election_timeout_ms_max = cfg->raft.election_timeout_ms_max;
    o->heartbeat_ms = cfg->raft.heartbeat_ms;
    o->max_inflight = cfg->raft.max_inflight;
    o->max_entries_per_append = cfg->raft.max_entries_per_append;
    o->pre_vote = cfg->raft.pre_vote;
    o->check_quorum = cfg->raft.check_quorum;
    o->snapshot_threshold = cfg->storage.snapshot_threshold;
    o->snapshot_trailing = cfg->storage.snapshot_trailing;
    o->snapshot_chunk_bytes = cfg->storage.snapshot_chunk_bytes;
    /* Thesis 6.4.1: the lease is the minimum election timeout less the clock drift; it needs
     * check-quorum, which makes followers refuse votes that long after hearing their leader. */
    if (cfg->raft.check_quorum) {
        double lease = (double)cfg->raft.election_timeout_ms_min * (1.0 - cfg->raft.clock_drift);
        o->lease_ms = lease < 1.0 ? 0 : (uint64_t)lease;
        if (o->lease_ms >= o->election_timeout_ms_min)
            o->lease_ms = o->election_timeout_ms_min - 1;
    }
    o->seed = prng_derive(cfg->seed, (uint64_t)incarnation << 32 | id);
}

_Static_assert((int)CFG_READ_LINEARIZABLE == (int)KV_READ_LINEARIZABLE &&
                   (int)CFG_READ_LEASE == (int)KV_READ_LEASE &&
                   (int)CFG_READ_FOLLOWER == (int)KV_READ_FOLLOWER &&
                   (int)CFG_READ_STALE == (int)KV_READ_STALE &&
                   (int)CFG_READ_LOG == (int)KV_READ_LOG,
               "config's read words are kv's read policies");

void scenario_client_mix(const struct cfg *cfg, struct client_options *o)
{
    const struct cfg_client *c = &cfg->client;
    o->op_weights[0] = c->put_weight;
    o->op_weights[1] = c->get_weight;
    o->op_weights[2] = c->delete_weight;
    memset(o->read_weights, 0, sizeof o->read_weights);
    if (c->read != CFG_READ_MIX) {
        o->read_weights[c->read] = 1;
        return;
    }
    o->read_weights[KV_READ_LINEARIZABLE] = c->read_mix.linearizable;
    o->read_weights[KV_READ_LEASE] = c->read_mix.lease;
    o->read_weights[KV_READ_FOLLOWER] = c->read_mix.follower;
    o->read_weights[KV_READ_STALE] = c->read_mix.stale;
    o->read_weights[KV_READ_LOG] = c->read_mix.log;
}

uint32_t scenario_keep_outcomes(const struct cfg *cfg)
{
    const struct cfg_storage *st = &cfg->storage;
    if (st->snapshot_threshold == 0)
        return 0;
    uint64_t keep = (uint64_t)st->snapshot_threshold + st->snapshot_trailing + 1024;
    return keep > UINT32_MAX ? 0 : (uint32_t)keep;
}

uint32_t scenario_request_deadline_ms(const struct cfg *cfg)
{
    uint64_t deadline = 5 * (uint64_t)cfg->client.timeout_ms;
    if (deadline < 20 * (uint64_t)cfg->raft.election_timeout_ms_max)
        deadline = 20 * (uint64_t)cfg->raft.election_timeout_ms_max;
    return deadline > UINT32_MAX ? UINT32_MAX : (uint32_t)deadline;
}
