/* progress.c - per-follower replication progress and flow control (etcd-style probe/replicate).
 * Bounded: at most RAFT_PROGRESS_MAX_INFLIGHT AppendEntries are tracked per peer.
 */
#include "raft/progress.h"

#include <assert.h>
#include <string.h>

void raft_progress_reset(struct raft_progress *p, uint64_t next_index, uint64_t now_ms)
{
    assert(next_index >= 1);
    memset(p, 0, sizeof *p);
    p->state = RAFT_PROGRESS_PROBE;
    p->next_index = next_index;
    p->last_ack_ms = now_ms;
}

void raft_progress_become_replicate(struct raft_progress *p, uint64_t now_ms)
{
    p->state = RAFT_PROGRESS_REPLICATE;
    p->next_index = p->match_index + 1;
    p->probe_sent = false;
    p->n_inflight = 0;
    p->inflight_head = 0;
    p->last_ack_ms = now_ms;
}

void raft_progress_become_probe(struct raft_progress *p, uint64_t next_index, uint64_t now_ms)
{
    assert(next_index > p->match_index);
    p->state = RAFT_PROGRESS_PROBE;
    p->next_index = next_index;
    p->probe_sent = false;
    p->n_inflight = 0;
    p->inflight_head = 0;
    p->last_ack_ms = now_ms;
}

void raft_progress_become_snapshot(struct raft_progress *p, uint64_t index, uint64_t now_ms)
{
    p->state = RAFT_PROGRESS_SNAPSHOT;
    p->probe_sent = false;
    p->n_inflight = 0;
    p->inflight_head = 0;
    p->snapshot_index = index;
    p->snapshot_offset = 0;
    p->chunk_sent = false;
    p->last_ack_ms = now_ms;
}

bool raft_progress_inflight_full(const struct raft_progress *p, uint32_t max_inflight)
{
    assert(max_inflight >= 1 && max_inflight <= RAFT_PROGRESS_MAX_INFLIGHT);
    return p->n_inflight >= max_inflight;
}

void raft_progress_inflight_add(struct raft_progress *p, uint64_t last_index)
{
    assert(p->n_inflight < RAFT_PROGRESS_MAX_INFLIGHT);
    uint32_t slot = (p->inflight_head + p->n_inflight) % RAFT_PROGRESS_MAX_INFLIGHT;
    p->inflight[slot] = last_index;
    p->n_inflight++;
}

void raft_progress_inflight_free_to(struct raft_progress *p, uint64_t index)
{
    while (p->n_inflight > 0 && p->inflight[p->inflight_head] <= index) {
        p->inflight_head = (p->inflight_head + 1) % RAFT_PROGRESS_MAX_INFLIGHT;
        p->n_inflight--;
    }
}

bool raft_progress_maybe_update(struct raft_progress *p, uint64_t index, uint64_t now_ms)
{
    bool advanced = false;
    if (index > p->match_index) {
        p->match_index = index;
        p->last_ack_ms = now_ms;
        advanced = true;
    }
    if (p->next_index < index + 1)
        p->next_index = index + 1;
    raft_progress_inflight_free_to(p, index);
    return advanced;
}
