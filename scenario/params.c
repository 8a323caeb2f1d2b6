/* params.c - the run's parameters derived from the configuration, in one place (see params.h).
 */
#include "scenario/params.h"

#include "common/prng.h"

void scenario_raft_options(const struct cfg *cfg, uint32_t id, uint32_t incarnation,
                           struct raft_options *o)
{
    raft_options_default(o, id, cfg->num_nodes);
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
    o->seed = prng_derive(cfg->seed, (uint64_t)incarnation << 32 | id);
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
