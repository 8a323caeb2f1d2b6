/* progress.h - the leader's view of one follower (Figure 2 nextIndex/matchIndex, plus flow
 * control): PROBE sends one AppendEntries at a time until a match is found; REPLICATE streams
 * optimistically with at most max_inflight AppendEntries outstanding (pipelining); SNAPSHOT
 * sends the leader's snapshot one chunk at a time and no AppendEntries (section 7).
 */
#ifndef RAFT_KV_RAFT_PROGRESS_H
#define RAFT_KV_RAFT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#define RAFT_PROGRESS_MAX_INFLIGHT 64

enum raft_progress_state {
    RAFT_PROGRESS_PROBE = 0,
    RAFT_PROGRESS_REPLICATE = 1,
    RAFT_PROGRESS_SNAPSHOT = 2,
};

struct raft_progress {
    enum raft_progress_state state;
    uint64_t match_index; /* highest index known replicated on the peer; monotonic in a term */
    uint64_t next_index;  /* next index to send. Invariant: match_index < next_index */
    bool probe_sent;      /* PROBE: an AppendEntries is outstanding; wait for reply/heartbeat */
    /* REPLICATE: last index of each outstanding AppendEntries, oldest first (a ring). */
    uint64_t inflight[RAFT_PROGRESS_MAX_INFLIGHT];
    uint32_t inflight_head, n_inflight;
    uint64_t last_ack_ms;   /* last time match_index advanced or the state was reset */
    uint64_t last_heard_ms; /* last reply of any kind from the peer in this term (0: none) */
    bool recent_active;     /* check-quorum: heard from the peer since the last check */
    uint64_t commit_sent;   /* highest commit index sent to the peer in this term */
    bool sent_this_step;    /* an AppendEntries went to the peer since the last flush */
    /* SNAPSHOT: the snapshot being sent (its index), the bytes the peer has acknowledged, and
     * whether a chunk is outstanding. */
    uint64_t snapshot_index;
    uint64_t snapshot_offset;
    bool chunk_sent;
    uint64_t read_acked; /* the highest read round the peer acknowledged in this term */
    uint64_t round_sent; /* the read round of the last AppendEntries sent to the peer */
    /* The peer answered round_sent while its pipeline stays full: mostly a follower that has the
     * entries of the last AppendEntries but not yet on disk (core.c, the early reply), or the
     * reply to a heartbeat of the same round. A new read round then goes in a heartbeat at once
     * instead of waiting for the pipeline, which may wait on that disk. */
    bool round_answered;
    /* A learner catching up (thesis 4.2.1): the round replicates the leader's log up to
     * catchup_index, started at catchup_start_ms; catchup_rounds so far. */
    uint64_t catchup_index, catchup_start_ms;
    uint32_t catchup_rounds;
};

/* Resets for a new leader term: PROBE at next_index with nothing matched. */
void raft_progress_reset(struct raft_progress *p, uint64_t next_index, uint64_t now_ms);
/* PROBE -> REPLICATE after a success: next = match + 1, no inflight. */
void raft_progress_become_replicate(struct raft_progress *p, uint64_t now_ms);
/* -> PROBE at next_index (> match_index). */
void raft_progress_become_probe(struct raft_progress *p, uint64_t next_index, uint64_t now_ms);
/* -> SNAPSHOT: send the snapshot at index from its first byte. */
void raft_progress_become_snapshot(struct raft_progress *p, uint64_t index, uint64_t now_ms);
bool raft_progress_inflight_full(const struct raft_progress *p, uint32_t max_inflight);
/* Records an AppendEntries whose last index is last_index as outstanding. */
void raft_progress_inflight_add(struct raft_progress *p, uint64_t last_index);
/* Acknowledges every outstanding AppendEntries with last index <= index. */
void raft_progress_inflight_free_to(struct raft_progress *p, uint64_t index);
/* A success reply up to index: raises match/next; true if match_index advanced. */
bool raft_progress_maybe_update(struct raft_progress *p, uint64_t index, uint64_t now_ms);

#endif
