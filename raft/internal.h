/* internal.h - what raft/core.c, election.c and replication.c share; not part of the API.
 * Every role change goes through raft_convert(), which asserts the legal transition table.
 */
#ifndef RAFT_KV_RAFT_INTERNAL_H
#define RAFT_KV_RAFT_INTERNAL_H

#include <assert.h>

#include "raft/raft.h"

/* Planted bugs (raft.h), in the test build only. RAFT_PLANTED(r, bug): is bug planted in r?
 * Without RAFT_PLANTED_BUGS it is 0, so a bug's branch is not compiled (nor its name read).
 * RAFT_ASSERT_UNLESS_PLANTED(r, bug, e) is assert(e), unconditional in production; in the test
 * build the planted bug may break e. */
#ifdef RAFT_PLANTED_BUGS
#define RAFT_PLANTED(r, bug)                  (((r)->opt.planted_bugs & (bug)) != 0)
#define RAFT_ASSERT_UNLESS_PLANTED(r, bug, e) assert((e) || RAFT_PLANTED(r, bug))
#else
#define RAFT_PLANTED(r, bug)                  0
#define RAFT_ASSERT_UNLESS_PLANTED(r, bug, e) assert(e)
#endif

/* Majority of the configuration's voters: the votes or replicas needed (section 5.2, 5.3). */
static inline uint32_t raft_quorum(const struct raft *r)
{
    return raft_config_voters(&r->config) / 2 + 1;
}

static inline bool raft_is_voter(const struct raft *r, uint32_t id)
{
    return raft_config_is_voter(&r->config, id);
}

/* This server may stand for election: a voter of its configuration, or of the one before while
 * the latest (which removes it) is not known committed here: thesis 4.2.2, "a server that is not
 * part of its own latest configuration should still start new elections, as it might still be
 * needed until the Cnew entry is committed" (it may hold the only copy of that entry, which the
 * others must then vote for); it does not count its own vote. Never a joining server still
 * waiting for its log to give it a configuration (raft_options.join). */
static inline bool raft_may_campaign(const struct raft *r)
{
    bool waiting = r->opt.join && r->config_index == 0 && r->state.snapshot.index == 0;
    bool leaving =
        r->config_index > r->commit_index && raft_config_is_voter(&r->config_prev, r->opt.id);
    return (raft_is_voter(r, r->opt.id) || leaving) && !waiting;
}

/* The next server above id that a leader talks to, or 0: the members of the configuration, and
 * while it has not committed those of the one before (a server being removed still gets the
 * entry that removes it, so it learns it and stops standing for election). */
static inline uint32_t raft_next_peer(const struct raft *r, uint32_t id)
{
    uint32_t a = raft_config_next(&r->config, id);
    uint32_t b = r->config_index > r->commit_index ? raft_config_next(&r->config_prev, id) : 0;
    return a == 0 ? b : b == 0 || a < b ? a : b;
}

/* Every such server but this one, in id order (counting loops take the voters of the
 * configuration in effect only: raft_is_voter). */
#define RAFT_FOR_EACH_PEER(r, peer)                                                                \
    for (uint32_t peer = raft_next_peer(r, 0); peer != 0; peer = raft_next_peer(r, peer))          \
        if (peer != (r)->opt.id)

/* values[0..n) are the voters' (n of them): the highest value a majority of them has reached
 * (the quorum-th largest; 0 if n is 0). Sorts values in place. */
uint64_t raft_quorum_value(uint64_t *values, uint32_t n);

static inline struct raft_log *raft_log_of(struct raft *r)
{
    return &r->state.log;
}

/* --- core.c -------------------------------------------------------------------------------- */
/* The one role-change function; asserts the transition is legal and adds a ROLE_CHANGE note. */
void raft_convert(struct raft *r, enum raft_role to);
/* Sets current_term = term (>= current) and voted_for = vote, to be persisted by this step's
 * request (Figure 2: before replying; messages that depend on it wait until it is durable). */
void raft_persist_term_vote(struct raft *r, uint64_t term, uint32_t vote);
/* The log changed from index on (appended or truncated): this step's request rewrites it. */
void raft_log_changed_from(struct raft *r, uint64_t index);
/* "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert to
 * follower" (Figure 2, All Servers). leader may be 0 (unknown). */
void raft_become_follower(struct raft *r, uint64_t term, uint32_t leader, enum raft_reason why);
/* A fresh randomized election deadline in [min, max] from now (section 5.2). */
void raft_reset_election_deadline(struct raft *r);
/* Drops the log before index (<= snapshot index + 1), for this step's request to drop too. */
void raft_compact_log(struct raft *r, uint64_t index);
/* Appends a zeroed message of type to peer in the current term; returns it. */
struct raft_message *raft_send(struct raft *r, enum raft_msg_type type, uint32_t to);
/* Appends a zeroed note of kind in the current term; returns it. */
struct raft_note *raft_note(struct raft *r, enum raft_note_kind kind);
/* Copies n entries into one block (see raft_message_free). NULL if n == 0. */
struct raft_entry *raft_entries_copy(const struct raft_entry *src, uint32_t n);

/* --- election.c ---------------------------------------------------------------------------- */
/* Election timeout or CAMPAIGN: start a pre-vote (if enabled) or an election; transfer: asked
 * by the leader's TimeoutNow (no pre-vote; the RequestVotes say so). */
void raft_election_start(struct raft *r, bool transfer);
void raft_recv_request_vote(struct raft *r, const struct raft_message *m);
void raft_recv_request_vote_reply(struct raft *r, const struct raft_message *m);
/* check-quorum lease: true if we heard from a live leader within the minimum election timeout. */
bool raft_in_leader_lease(const struct raft *r);

/* --- replication.c ------------------------------------------------------------------------- */
/* Just became leader: reset progress, append the no-op of the term, replicate. */
void raft_leader_start(struct raft *r);
/* Leader timers: heartbeats, stalled pipelines, check-quorum. */
void raft_leader_tick(struct raft *r);
/* m comes from the leader of our current term: follow it and restart the election timer. */
void raft_heard_from_leader(struct raft *r, const struct raft_message *m);
void raft_recv_append_entries(struct raft *r, const struct raft_message *m);
void raft_recv_append_entries_reply(struct raft *r, const struct raft_message *m);
void raft_recv_commit_notify(struct raft *r, const struct raft_message *m);
/* snapshot.c: InstallSnapshot, both sides (section 7). */
void raft_recv_install_snapshot(struct raft *r, const struct raft_message *m);
void raft_recv_install_snapshot_reply(struct raft *r, const struct raft_message *m);
/* Leader: sends peer (in SNAPSHOT) its next chunk, unless one is outstanding. */
void raft_send_snapshot_chunk(struct raft *r, uint32_t peer);
void raft_propose(struct raft *r, const void *data, uint32_t len);
/* Raises commit_index to index if higher (never lowers it; Figure 2 commitIndex monotonic). */
void raft_commit_to(struct raft *r, uint64_t index);
/* Leader: send what each peer's flow control allows, then CommitNotify where needed. */
void raft_leader_flush(struct raft *r);
/* Leader: more of its own log became durable; it may now count itself for those entries. */
void raft_leader_durable(struct raft *r);

/* --- membership.c ------------------------------------------------------------------------- */
/* The configuration in effect and the one before it, from the log and the snapshot. */
void raft_config_refresh(struct raft *r);
/* The configuration in effect at index (<= commit index), for a snapshot taken there. */
void raft_config_snapshot_at(const struct raft *r, uint64_t index, struct raft_config *c);
/* A configuration entry was appended at index: it is in effect now. */
void raft_config_appended(struct raft *r, uint64_t index);
/* The log or the snapshot changed under the configuration: it is found again (and noted if it
 * is another). */
void raft_config_reload(struct raft *r);
/* The log was truncated from `from` on: the configuration may go back to an earlier one. */
void raft_config_truncated(struct raft *r, uint64_t from);
/* End of a step: notes that the configuration in effect committed. */
void raft_config_check_committed(struct raft *r);
/* Leader: learner id begins its first catch-up round. */
void raft_catchup_start(struct raft *r, uint32_t id);
/* RAFT_EVENT_CHANGE and RAFT_EVENT_TRANSFER. */
void raft_change(struct raft *r, enum raft_change_op op, uint32_t id);
void raft_transfer(struct raft *r, uint32_t to);
void raft_recv_timeout_now(struct raft *r, const struct raft_message *m);
/* Leader, end of a step: a removed leader steps down once its removal commits; a transfer sends
 * TimeoutNow or gives up; learners caught up become voters, slow ones are removed. */
void raft_membership_leader_check(struct raft *r, bool may_write);
/* Leader: when a transfer gives up (UINT64_MAX: none under way). */
uint64_t raft_transfer_wake(const struct raft *r);

/* --- read.c -------------------------------------------------------------------------------- */
/* RAFT_EVENT_READ. */
void raft_read(struct raft *r, uint64_t id, enum raft_read_mode mode);
/* Leader: new term, no rounds, no reads, no lease. */
void raft_reads_leader_start(struct raft *r);
/* Leader: the next read round starts (with a heartbeat about to be sent). */
void raft_read_round_start(struct raft *r);
/* Leader: peer acknowledged read round `round` (an AppendEntries reply of this term). */
void raft_read_acked(struct raft *r, uint32_t peer, uint64_t round);
/* Leader, end of a step: reads get their index once the term's first entry commits, a round
 * starts for reads that need one, confirmed reads are ready. */
void raft_reads_flush(struct raft *r);
/* Leaving the leader role: waiting reads are lost (a follower's are refused). */
void raft_reads_stop_leading(struct raft *r);
void raft_recv_read_index(struct raft *r, const struct raft_message *m);
void raft_recv_read_index_reply(struct raft *r, const struct raft_message *m);
/* Not leader, end of a step: reads sent to a leader that is no longer ours, or unanswered for
 * an election timeout, are lost. */
void raft_reads_follower_check(struct raft *r);

#endif
