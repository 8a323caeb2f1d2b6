/* update.c - the output of one raft_step(): growable arrays owned by the caller's update, plus
 * the names used by traces. The update is reused across steps so a busy node allocates rarely.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "raft/internal.h"

void raft_update_init(struct raft_update *u)
{
    memset(u, 0, sizeof *u);
}

void raft_update_clear(struct raft_update *u)
{
    for (size_t i = 0; i < u->n_msgs; i++)
        raft_message_free(&u->msgs[i]);
    u->n_msgs = 0;
    u->n_notes = 0;
    memset(&u->persist, 0, sizeof u->persist);
    u->restore = NULL;
    u->apply_first = 0;
    u->apply = NULL;
    u->n_apply = 0;
    u->snapshot_wanted = false;
    memset(&u->proposal, 0, sizeof u->proposal);
    memset(&u->change, 0, sizeof u->change);
    u->n_reads = 0;
    u->next_wake_ms = 0;
}

void raft_update_close(struct raft_update *u)
{
    raft_update_clear(u);
    free(u->msgs);
    free(u->notes);
    free(u->reads);
    memset(u, 0, sizeof *u);
}

void raft_update_take_message(struct raft_update *u, size_t i, struct raft_message *dst)
{
    if (i >= u->n_msgs)
        return;
    *dst = u->msgs[i];
    if (u->msgs[i].type == RAFT_MSG_APPEND_ENTRIES) {
        u->msgs[i].append_entries.entries = NULL;
        u->msgs[i].append_entries.n_entries = 0;
    }
    if (u->msgs[i].type == RAFT_MSG_INSTALL_SNAPSHOT) {
        u->msgs[i].install_snapshot.data = NULL;
        u->msgs[i].install_snapshot.len = 0;
    }
}

struct raft_message *raft_send(struct raft *r, enum raft_msg_type type, uint32_t to)
{
    struct raft_update *u = r->out;
    assert(to >= 1 && to <= r->opt.max_nodes && to != r->opt.id);
    if (u->n_msgs == u->cap_msgs) {
        u->cap_msgs = u->cap_msgs ? u->cap_msgs * 2 : 16;
        u->msgs = xreallocarray(u->msgs, u->cap_msgs, sizeof *u->msgs);
    }
    struct raft_message *m = &u->msgs[u->n_msgs++];
    memset(m, 0, sizeof *m);
    m->type = type;
    m->term = r->state.current_term;
    m->from = r->opt.id;
    m->to = to;
    if (type == RAFT_MSG_APPEND_ENTRIES)
        m->append_entries.read_round = r->read_round; /* every AppendEntries serves reads */
    return m;
}

struct raft_note *raft_note(struct raft *r, enum raft_note_kind kind)
{
    struct raft_update *u = r->out;
    if (u->n_notes == u->cap_notes) {
        u->cap_notes = u->cap_notes ? u->cap_notes * 2 : 16;
        u->notes = xreallocarray(u->notes, u->cap_notes, sizeof *u->notes);
    }
    struct raft_note *n = &u->notes[u->n_notes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->term = r->state.current_term;
    return n;
}

const char *raft_strerror(int rc)
{
    switch (rc) {
    case RAFT_OK:
        return "ok";
    case RAFT_EMALFORMED:
        return "malformed message";
    case RAFT_EINVAL:
        return "invalid argument";
    }
    return "unknown raft error";
}

const char *raft_role_name(enum raft_role role)
{
    switch (role) {
    case RAFT_FOLLOWER:
        return "follower";
    case RAFT_PRE_CANDIDATE:
        return "pre-candidate";
    case RAFT_CANDIDATE:
        return "candidate";
    case RAFT_LEADER:
        return "leader";
    }
    return "?";
}

const char *raft_note_kind_name(enum raft_note_kind kind)
{
    switch (kind) {
    case RAFT_NOTE_ROLE_CHANGE:
        return "role-change";
    case RAFT_NOTE_ELECTION_START:
        return "election-start";
    case RAFT_NOTE_VOTE_GRANTED:
        return "vote-granted";
    case RAFT_NOTE_VOTE_REFUSED:
        return "vote-refused";
    case RAFT_NOTE_VOTE_RECEIVED:
        return "vote-received";
    case RAFT_NOTE_APPEND_ACCEPTED:
        return "append-accepted";
    case RAFT_NOTE_APPEND_REJECTED:
        return "append-rejected";
    case RAFT_NOTE_TRUNCATED:
        return "truncated";
    case RAFT_NOTE_COMMIT_ADVANCED:
        return "commit-advanced";
    case RAFT_NOTE_STEP_DOWN:
        return "step-down";
    case RAFT_NOTE_TERM_CHANGED:
        return "term-changed";
    case RAFT_NOTE_PEER_BACKUP:
        return "peer-backup";
    case RAFT_NOTE_SNAPSHOT_TAKEN:
        return "snapshot-taken";
    case RAFT_NOTE_SNAPSHOT_SEND:
        return "snapshot-send";
    case RAFT_NOTE_SNAPSHOT_SENT:
        return "snapshot-sent";
    case RAFT_NOTE_SNAPSHOT_INSTALLED:
        return "snapshot-installed";
    case RAFT_NOTE_READ_INDEX:
        return "read-index";
    case RAFT_NOTE_READ_ROUND:
        return "read-round";
    case RAFT_NOTE_READ_CONFIRMED:
        return "read-confirmed";
    case RAFT_NOTE_READ_LEASE:
        return "read-lease";
    case RAFT_NOTE_READ_FORWARD:
        return "read-forward";
    case RAFT_NOTE_CONFIG:
        return "config";
    case RAFT_NOTE_CONFIG_COMMITTED:
        return "config-committed";
    case RAFT_NOTE_CATCHUP_ROUND:
        return "catchup-round";
    case RAFT_NOTE_TRANSFER:
        return "transfer";
    case RAFT_NOTE_TIMEOUT_NOW:
        return "timeout-now";
    }
    return "?";
}

const char *raft_reason_name(enum raft_reason reason)
{
    switch (reason) {
    case RAFT_REASON_NONE:
        return "none";
    case RAFT_REASON_STALE_TERM:
        return "stale term";
    case RAFT_REASON_ALREADY_VOTED:
        return "already voted";
    case RAFT_REASON_LOG_NOT_UP_TO_DATE:
        return "log not up to date";
    case RAFT_REASON_LEADER_LEASE:
        return "leader lease";
    case RAFT_REASON_PREV_MISSING:
        return "prev index missing";
    case RAFT_REASON_PREV_MISMATCH:
        return "prev term mismatch";
    case RAFT_REASON_HIGHER_TERM:
        return "higher term";
    case RAFT_REASON_QUORUM_LOST:
        return "quorum lost";
    case RAFT_REASON_LEADER_FOUND:
        return "leader found";
    case RAFT_REASON_PRE_VOTE_LOST:
        return "pre-vote lost";
    case RAFT_REASON_ADDED:
        return "added as learner";
    case RAFT_REASON_PROMOTED:
        return "promoted to voter";
    case RAFT_REASON_REMOVED:
        return "removed";
    case RAFT_REASON_CATCHUP_FAILED:
        return "learner could not catch up";
    case RAFT_REASON_TRANSFER_TIMEOUT:
        return "transfer timed out";
    case RAFT_REASON_TRANSFERRED:
        return "leadership transfer";
    }
    return "?";
}

const char *raft_refusal_name(enum raft_refusal why)
{
    switch (why) {
    case RAFT_REFUSE_NONE:
        return "none";
    case RAFT_REFUSE_NOT_LEADER:
        return "not the leader";
    case RAFT_REFUSE_BAD_ID:
        return "no such server id";
    case RAFT_REFUSE_TERM_NOT_COMMITTED:
        return "the leader has not yet committed an entry of its term";
    case RAFT_REFUSE_CHANGE_PENDING:
        return "another membership change has not committed yet";
    case RAFT_REFUSE_CATCHING_UP:
        return "a new server is still catching up as a learner";
    case RAFT_REFUSE_TRANSFERRING:
        return "a leadership transfer is under way";
    case RAFT_REFUSE_ALREADY_MEMBER:
        return "the server is already a member";
    case RAFT_REFUSE_NOT_MEMBER:
        return "the server is not a member";
    case RAFT_REFUSE_LAST_VOTER:
        return "the server is the only voter";
    case RAFT_REFUSE_NOT_VOTER:
        return "the target is not a voter";
    case RAFT_REFUSE_SELF:
        return "the target already leads";
    case RAFT_REFUSE_NO_QUORUM:
        return "the servers left would not have a majority the leader hears from";
    }
    return "?";
}
