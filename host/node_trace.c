/* node_trace.c - how a Raft node's messages and notes read in the trace; one wording for the
 * threaded node and the simulator, so a simulated trace reads like a real one.
 */
#include "host/node_trace.h"

#include <stdio.h>

#include "kv/kv.h"
#include "runtime/trace.h"

/* "put(a, v17)", "get(a)", "delete(a)", "noop"; or "<malformed command>". */
void node_trace_describe_command(const void *data, uint32_t len, char *buf, size_t cap)
{
    struct kv_command cmd;
    if (kv_command_decode(data, len, &cmd) != 0) {
        snprintf(buf, cap, "<malformed command>");
        return;
    }
    int key_len = cmd.key_len > 40 ? 40 : (int)cmd.key_len;
    switch (cmd.op) {
    case KV_OP_PUT:
        snprintf(buf, cap, "put(%.*s, %.*s) [client %llu #%llu]", key_len, (const char *)cmd.key,
                 cmd.value_len > 24 ? 24 : (int)cmd.value_len, (const char *)cmd.value,
                 (unsigned long long)cmd.client_id, (unsigned long long)cmd.seq);
        break;
    case KV_OP_GET:
    case KV_OP_DELETE:
        snprintf(buf, cap, "%s(%.*s) [client %llu #%llu]", kv_op_name(cmd.op), key_len,
                 (const char *)cmd.key, (unsigned long long)cmd.client_id,
                 (unsigned long long)cmd.seq);
        break;
    case KV_OP_NOOP:
        snprintf(buf, cap, "noop");
        break;
    }
}

void node_trace_sent(const char *actor, const struct raft_message *m)
{
    switch (m->type) {
    case RAFT_MSG_REQUEST_VOTE:
        trace_log(TRACE_INFO, actor, "vote", "-> node %u: %s term %llu, last log (%llu, %llu)%s",
                  m->to, m->request_vote.pre_vote ? "PreVote" : "RequestVote",
                  (unsigned long long)m->term, (unsigned long long)m->request_vote.last_log_index,
                  (unsigned long long)m->request_vote.last_log_term,
                  m->request_vote.transfer ? ", for a leadership transfer" : "");
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        trace_log(TRACE_INFO, actor, "transfer", "-> node %u: TimeoutNow term %llu", m->to,
                  (unsigned long long)m->term);
        break;
    case RAFT_MSG_APPEND_ENTRIES: {
        const struct raft_append_entries *ae = &m->append_entries;
        trace_log(ae->n_entries ? TRACE_INFO : TRACE_DEBUG, actor, "append",
                  "-> node %u: AppendEntries term %llu prev (%llu, %llu) entries %u commit %llu",
                  m->to, (unsigned long long)m->term, (unsigned long long)ae->prev_log_index,
                  (unsigned long long)ae->prev_log_term, ae->n_entries,
                  (unsigned long long)ae->leader_commit);
        break;
    }
    case RAFT_MSG_APPEND_ENTRIES_REPLY: {
        const struct raft_append_entries_reply *r = &m->append_entries_reply;
        if (r->success)
            trace_log(TRACE_DEBUG, actor, "append", "-> node %u: AppendEntries ok, match %llu",
                      m->to, (unsigned long long)r->match_index);
        else
            trace_log(TRACE_INFO, actor, "append",
                      "-> node %u: AppendEntries refused at %llu, hint: index %llu term %llu",
                      m->to, (unsigned long long)r->rejected_index,
                      (unsigned long long)r->conflict_index, (unsigned long long)r->conflict_term);
        break;
    }
    case RAFT_MSG_COMMIT_NOTIFY:
        trace_log(TRACE_DEBUG, actor, "commit", "-> node %u: commit index %llu", m->to,
                  (unsigned long long)m->commit_notify.commit_index);
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT: {
        const struct raft_install_snapshot *is = &m->install_snapshot;
        trace_log(
            TRACE_INFO, actor, "snapshot",
            "-> node %u: InstallSnapshot term %llu last (%llu, %llu) bytes %llu..%llu of %llu",
            m->to, (unsigned long long)m->term, (unsigned long long)is->last_index,
            (unsigned long long)is->last_term, (unsigned long long)is->offset,
            (unsigned long long)(is->offset + is->len), (unsigned long long)is->total_len);
        break;
    }
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY: {
        const struct raft_install_snapshot_reply *r = &m->install_snapshot_reply;
        trace_log(TRACE_DEBUG, actor, "snapshot", "-> node %u: InstallSnapshot %llu: %s %llu",
                  m->to, (unsigned long long)r->last_index,
                  r->done ? "installed, bytes" : "next byte", (unsigned long long)r->next_offset);
        break;
    }
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        break; /* the vote note says it */
    case RAFT_MSG_READ_INDEX:
        break; /* the read-forward note says it */
    case RAFT_MSG_READ_INDEX_REPLY: {
        const struct raft_read_index_reply *r = &m->read_index_reply;
        if (r->ok)
            trace_log(TRACE_INFO, actor, "read", "-> node %u: read %llu may read at index %llu",
                      m->to, (unsigned long long)r->id, (unsigned long long)r->index);
        else
            trace_log(TRACE_INFO, actor, "read", "-> node %u: read %llu refused: not leader", m->to,
                      (unsigned long long)r->id);
        break;
    }
    }
}

void node_trace_note(const char *actor, const struct raft_note *note)
{
    unsigned long long term = note->term, a = note->a, b = note->b;
    const char *vote = note->pre_vote ? "pre-vote" : "vote";
    switch (note->kind) {
    case RAFT_NOTE_ROLE_CHANGE: {
        struct trace_field f[] = {TRACE_STR("role", raft_role_name(note->to_role)),
                                  TRACE_U64("term", term)};
        trace_log_fields(TRACE_INFO, actor, "role", f, 2, "%s -> %s in term %llu",
                         raft_role_name(note->from_role), raft_role_name(note->to_role), term);
        break;
    }
    case RAFT_NOTE_ELECTION_START:
        trace_log(TRACE_INFO, actor, "election", "starts %s for term %llu",
                  note->pre_vote ? "a pre-vote" : "an election", term);
        break;
    case RAFT_NOTE_VOTE_GRANTED:
        trace_log(TRACE_INFO, actor, "vote", "grants its %s to node %u for term %llu", vote,
                  note->peer, term);
        break;
    case RAFT_NOTE_VOTE_REFUSED:
        trace_log(TRACE_INFO, actor, "vote", "refuses its %s to node %u for term %llu: %s", vote,
                  note->peer, term, raft_reason_name(note->reason));
        break;
    case RAFT_NOTE_VOTE_RECEIVED:
        trace_log(TRACE_INFO, actor, "vote", "got a %s from node %u for term %llu (%llu so far)",
                  vote, note->peer, term, a);
        break;
    case RAFT_NOTE_APPEND_ACCEPTED:
        trace_log(b ? TRACE_INFO : TRACE_DEBUG, actor, "append",
                  "<- node %u: AppendEntries prev index %llu, %llu entries: accepted", note->peer,
                  a, b);
        break;
    case RAFT_NOTE_APPEND_REJECTED:
        trace_log(TRACE_INFO, actor, "append",
                  "<- node %u: AppendEntries prev index %llu: refused (%s)", note->peer, a,
                  raft_reason_name(note->reason));
        break;
    case RAFT_NOTE_TRUNCATED:
        trace_log(TRACE_INFO, actor, "log", "truncates conflicting entries %llu..%llu", a, b);
        break;
    case RAFT_NOTE_COMMIT_ADVANCED: {
        struct trace_field f = TRACE_U64("index", b);
        trace_log_fields(TRACE_INFO, actor, "commit", &f, 1, "commit index %llu -> %llu", a, b);
        break;
    }
    case RAFT_NOTE_STEP_DOWN:
        trace_log(TRACE_INFO, actor, "role", "steps down in term %llu: %s", term,
                  raft_reason_name(note->reason));
        break;
    case RAFT_NOTE_TERM_CHANGED: {
        struct trace_field f = TRACE_U64("term", b);
        if (note->peer != 0)
            trace_log_fields(TRACE_INFO, actor, "term", &f, 1, "term %llu -> %llu, led by node %u",
                             a, b, note->peer);
        else
            trace_log_fields(TRACE_INFO, actor, "term", &f, 1, "term %llu -> %llu", a, b);
        break;
    }
    case RAFT_NOTE_PEER_BACKUP:
        trace_log(TRACE_INFO, actor, "append", "node %u refused: next index %llu -> %llu",
                  note->peer, a, b);
        break;
    case RAFT_NOTE_SNAPSHOT_TAKEN: {
        struct trace_field f[] = {TRACE_U64("index", a), TRACE_STR("snapshot", "taken")};
        trace_log_fields(TRACE_INFO, actor, "snapshot", f, 2,
                         "takes a snapshot at %llu; the log starts at %llu", a, b);
        break;
    }
    case RAFT_NOTE_SNAPSHOT_SEND:
        trace_log(TRACE_INFO, actor, "snapshot",
                  "node %u needs compacted entries: sends it the snapshot at %llu (%llu bytes)",
                  note->peer, a, b);
        break;
    case RAFT_NOTE_SNAPSHOT_SENT:
        trace_log(TRACE_INFO, actor, "snapshot", "node %u installed the snapshot at %llu",
                  note->peer, a);
        break;
    case RAFT_NOTE_SNAPSHOT_INSTALLED: {
        struct trace_field f[] = {TRACE_U64("index", a), TRACE_STR("snapshot", "installed")};
        trace_log_fields(TRACE_INFO, actor, "snapshot", f, 2,
                         "installs node %u's snapshot at %llu and %s the log after it", note->peer,
                         a, b ? "keeps" : "discards");
        break;
    }
    case RAFT_NOTE_READ_INDEX: {
        char whose[32] = "";
        if (note->peer != 0)
            snprintf(whose, sizeof whose, "node %u's ", note->peer);
        if (b == 0)
            trace_log(TRACE_INFO, actor, "read",
                      "%sread %llu waits for the first commit of term %llu", whose, a, term);
        else
            trace_log(TRACE_INFO, actor, "read",
                      "%sread %llu: read index %llu, waits for a heartbeat round", whose, a, b);
        break;
    }
    case RAFT_NOTE_READ_ROUND:
        trace_log(TRACE_INFO, actor, "read", "heartbeat round %llu for %llu waiting read%s", a, b,
                  b == 1 ? "" : "s");
        break;
    case RAFT_NOTE_READ_CONFIRMED:
        trace_log(TRACE_INFO, actor, "read",
                  "a majority acknowledged round %llu: %llu read%s ready", a, b, b == 1 ? "" : "s");
        break;
    case RAFT_NOTE_READ_LEASE:
        trace_log(TRACE_INFO, actor, "read", "read %llu under the lease: read index %llu", a, b);
        break;
    case RAFT_NOTE_READ_FORWARD:
        if (b == 0)
            trace_log(TRACE_INFO, actor, "read", "read %llu asks leader node %u for a read index",
                      a, note->peer);
        else
            trace_log(TRACE_INFO, actor, "read",
                      "read %llu will ask leader node %u with the next request (one is out)", a,
                      note->peer);
        break;
    case RAFT_NOTE_CONFIG: {
        struct trace_field f[] = {TRACE_U64("config", a), TRACE_U64("member", note->peer),
                                  TRACE_STR("change", raft_reason_name(note->reason))};
        if (note->peer != 0)
            trace_log_fields(TRACE_INFO, actor, "config", f, 3,
                             "configuration of entry %llu in effect: node %u %s (was entry %llu)",
                             a, note->peer, raft_reason_name(note->reason), b);
        else
            trace_log_fields(TRACE_INFO, actor, "config", f, 3,
                             "configuration of entry %llu in effect (was entry %llu)", a, b);
        break;
    }
    case RAFT_NOTE_CONFIG_COMMITTED: {
        struct trace_field f = TRACE_U64("config_committed", a);
        trace_log_fields(TRACE_INFO, actor, "config", &f, 1, "configuration entry %llu committed",
                         a);
        break;
    }
    case RAFT_NOTE_CATCHUP_ROUND:
        trace_log(TRACE_INFO, actor, "config",
                  "learner node %u finished catch-up round %llu in %llu ms", note->peer, a, b);
        break;
    case RAFT_NOTE_TRANSFER: {
        struct trace_field f = TRACE_U64("transfer", note->peer);
        if (note->reason != RAFT_REASON_NONE)
            trace_log_fields(TRACE_INFO, actor, "transfer", &f, 1,
                             "gives up handing leadership to node %u: %s; leads on", note->peer,
                             raft_reason_name(note->reason));
        else if (a != 0)
            trace_log_fields(TRACE_INFO, actor, "transfer", &f, 1,
                             "node %u has the whole log: tells it to campaign now", note->peer);
        else
            trace_log_fields(TRACE_INFO, actor, "transfer", &f, 1,
                             "hands leadership to node %u: no new entries meanwhile", note->peer);
        break;
    }
    case RAFT_NOTE_TIMEOUT_NOW:
        trace_log(TRACE_INFO, actor, "transfer", "node %u hands leadership over: campaigns now",
                  note->peer);
        break;
    }
}

/* The trace as [trace] configures it. */
void host_trace_open(const struct cfg_trace *t)
{
    static const enum trace_level levels[] = {[CFG_TRACE_QUIET] = TRACE_QUIET,
                                              [CFG_TRACE_INFO] = TRACE_INFO,
                                              [CFG_TRACE_DEBUG] = TRACE_DEBUG,
                                              [CFG_TRACE_MESSAGES] = TRACE_MESSAGES};
    static const enum trace_color colors[] = {[CFG_COLOR_AUTO] = TRACE_COLOR_AUTO,
                                              [CFG_COLOR_ALWAYS] = TRACE_COLOR_ALWAYS,
                                              [CFG_COLOR_NEVER] = TRACE_COLOR_NEVER};
    struct trace_options trace = {
        .level = levels[t->level],
        .format = t->format == CFG_FORMAT_JSONL ? TRACE_JSONL : TRACE_TEXT,
        .color = colors[t->color],
    };
    trace_open(&trace);
}
