/* snapshot.c - InstallSnapshot (Raft paper section 7, Figure 13), both sides.
 * Design: the leader sends its latest snapshot to a follower that needs compacted entries, one
 * chunk at a time, each acknowledged with the bytes received so far (a lost chunk is sent again
 * after a heartbeat); the follower assembles it in memory, growing its buffer only as bytes
 * arrive, and installs it whole. Its reply for the last chunk waits, like an AppendEntries reply,
 * until the installed snapshot is durable. The bytes sent are the snapshot's configuration
 * followed by its data (raft.h, struct raft_install_snapshot).
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "raft/internal.h"

void raft_send_snapshot_chunk(struct raft *r, uint32_t peer)
{
    struct raft_progress *pr = &r->progress[peer - 1];
    const struct raft_snapshot *snap = &r->state.snapshot;
    assert(pr->state == RAFT_PROGRESS_SNAPSHOT && snap->index >= 1);
    if (pr->snapshot_index != snap->index) { /* a newer snapshot replaced it: send that one */
        raft_progress_become_snapshot(pr, snap->index, r->now_ms);
        struct raft_note *n = raft_note(r, RAFT_NOTE_SNAPSHOT_SEND);
        n->peer = peer;
        n->a = snap->index;
        n->b = snap->len;
    }
    if (pr->chunk_sent)
        return;
    uint64_t total = RAFT_CONFIG_BYTES + snap->len;
    uint64_t left = total - pr->snapshot_offset;
    uint32_t len =
        left < r->opt.snapshot_chunk_bytes ? (uint32_t)left : r->opt.snapshot_chunk_bytes;
    struct raft_message *m = raft_send(r, RAFT_MSG_INSTALL_SNAPSHOT, peer);
    struct raft_install_snapshot *is = &m->install_snapshot;
    is->last_index = snap->index;
    is->last_term = snap->term;
    is->total_len = total;
    is->offset = pr->snapshot_offset;
    is->len = len;
    if (len > 0) {
        uint8_t config[RAFT_CONFIG_BYTES];
        raft_config_encode(&snap->config, config);
        is->data = xmalloc(len);
        for (uint32_t done = 0; done < len;) { /* the configuration's bytes, then the data's */
            uint64_t at = pr->snapshot_offset + done;
            const uint8_t *from =
                at < RAFT_CONFIG_BYTES ? config + at : snap->data + (at - RAFT_CONFIG_BYTES);
            uint64_t run = at < RAFT_CONFIG_BYTES ? RAFT_CONFIG_BYTES - at : len - done;
            if (run > len - done)
                run = len - done;
            memcpy(is->data + done, from, (size_t)run);
            done += (uint32_t)run;
        }
    }
    pr->chunk_sent = true;
    pr->sent_this_step = true;
    pr->commit_sent = r->commit_index;
}

void raft_recv_install_snapshot_reply(struct raft *r, const struct raft_message *m)
{
    if (r->role != RAFT_LEADER)
        return;
    const struct raft_install_snapshot_reply *rep = &m->install_snapshot_reply;
    struct raft_progress *pr = &r->progress[m->from - 1];
    pr->recent_active = true;
    pr->last_heard_ms = r->now_ms;
    if (rep->done) {
        /* The follower's log matches ours through last_index (a snapshot of committed
         * entries, or entries it had committed already). */
        if (rep->last_index > raft_log_last_index(raft_log_of(r)))
            return; /* cannot be: we never sent it */
        raft_progress_maybe_update(pr, rep->last_index, r->now_ms);
        if (pr->state == RAFT_PROGRESS_SNAPSHOT && rep->last_index >= pr->snapshot_index) {
            struct raft_note *n = raft_note(r, RAFT_NOTE_SNAPSHOT_SENT);
            n->peer = m->from;
            n->a = rep->last_index;
            raft_progress_become_replicate(pr, r->now_ms);
        }
        raft_leader_durable(r); /* counts the new match toward a commit */
        return;
    }
    if (pr->state != RAFT_PROGRESS_SNAPSHOT || rep->last_index != pr->snapshot_index ||
        rep->next_offset > RAFT_CONFIG_BYTES + r->state.snapshot.len)
        return; /* stale, or about a snapshot we no longer send */
    pr->snapshot_offset = rep->next_offset;
    pr->chunk_sent = false; /* the leader's flush sends the next chunk */
    pr->last_ack_ms = r->now_ms;
}

static void drop_incoming(struct raft *r)
{
    free(r->incoming.data);
    memset(&r->incoming, 0, sizeof r->incoming);
    r->incoming_total = 0;
    r->incoming_cap = 0;
}

/* The whole snapshot has arrived: it replaces the state machine, and the log unless the log
 * already holds its last entry (section 7: "If existing log entry has same index and term as
 * snapshot's last included entry, retain log entries following it"). */
static void install(struct raft *r, uint32_t leader)
{
    struct raft_log *log = raft_log_of(r);
    uint64_t index = r->incoming.index, term = r->incoming.term;
    /* The configuration first, then the state machine's bytes (checked when the last chunk
     * arrived: raft_recv_install_snapshot). */
    int rc = raft_config_decode(r->incoming.data, RAFT_CONFIG_BYTES, &r->incoming.config, NULL);
    assert(rc == RAFT_OK);
    (void)rc;
    r->incoming.len -= RAFT_CONFIG_BYTES;
    memmove(r->incoming.data, r->incoming.data + RAFT_CONFIG_BYTES, r->incoming.len);
    if (r->incoming.len == 0) {
        free(r->incoming.data);
        r->incoming.data = NULL;
    }
    bool keep = index <= raft_log_last_index(log) && raft_log_term_at(log, index) == term;
    free(r->state.snapshot.data);
    r->state.snapshot = r->incoming;
    memset(&r->incoming, 0, sizeof r->incoming);
    r->incoming_total = 0;
    r->incoming_cap = 0;
    r->step_snapshot = true;
    if (keep) {
        raft_compact_log(r, index + 1);
    } else {
        uint64_t old_first = raft_log_first_index(log);
        raft_log_reset(log, index, term);
        raft_log_changed_from(r, old_first); /* the storage removes the whole old log */
    }
    raft_config_reload(r);
    raft_commit_to(r, index);
    if (r->last_applied < index) {
        r->last_applied = index;
        r->out->restore = &r->state.snapshot;
    }
    if (r->leader_match < index)
        r->leader_match = index;
    struct raft_note *n = raft_note(r, RAFT_NOTE_SNAPSHOT_INSTALLED);
    n->peer = leader;
    n->a = index;
    n->b = keep;
}

/* Figure 13, InstallSnapshot receiver: "1. Reply immediately if term < currentTerm; 2. Create
 * new snapshot file if first chunk (offset is 0); 3. Write data into snapshot file at given
 * offset; 4. Reply and wait for more data chunks if done is false; 5. Save snapshot file, discard
 * any existing or partial snapshot with a smaller index; 6. If existing log entry has same index
 * and term as snapshot's last included entry, retain log entries following it and reply; 7.
 * Discard the entire log; 8. Reset state machine using snapshot contents". */
void raft_recv_install_snapshot(struct raft *r, const struct raft_message *m)
{
    const struct raft_install_snapshot *is = &m->install_snapshot;
    if (m->term == r->state.current_term && r->role == RAFT_LEADER)
        return; /* a second leader in our term: impossible (election safety); drop it */
    struct raft_message *reply = raft_send(r, RAFT_MSG_INSTALL_SNAPSHOT_REPLY, m->from);
    struct raft_install_snapshot_reply *rep = &reply->install_snapshot_reply;
    rep->last_index = is->last_index;
    if (m->term < r->state.current_term)
        return; /* 1: the reply's term tells the old leader */
    raft_heard_from_leader(r, m);
    if (is->last_index <= r->commit_index) {
        /* Committed here already, so our log matches the leader's through it. */
        drop_incoming(r);
        if (r->leader_match < is->last_index)
            r->leader_match = is->last_index;
        rep->done = true;
        rep->next_offset = is->total_len;
        return;
    }
    struct raft_snapshot *in = &r->incoming;
    bool same = in->index == is->last_index && in->term == is->last_term &&
                r->incoming_total == is->total_len;
    if (is->offset == 0 && !(same && in->len > 0)) { /* 2: a new snapshot (or a restart) */
        drop_incoming(r);
        *in = (struct raft_snapshot){.index = is->last_index, .term = is->last_term};
        r->incoming_total = is->total_len;
        same = true;
    }
    if (!same || is->offset != in->len) { /* out of order: say what we have */
        rep->next_offset = same ? in->len : 0;
        return;
    }
    if (is->len > 0) { /* 3: grow with what arrives, never to a size only claimed */
        size_t want = in->len + is->len; /* <= total_len <= RAFT_MAX_SNAPSHOT_BYTES */
        if (want > r->incoming_cap) {
            size_t cap = r->incoming_cap ? r->incoming_cap : 64 * 1024;
            while (cap < want)
                cap *= 2;
            if (cap > r->incoming_total)
                cap = (size_t)r->incoming_total;
            in->data = xrealloc(in->data, cap);
            r->incoming_cap = cap;
        }
        memcpy(in->data + in->len, is->data, is->len);
        in->len = want;
    }
    rep->next_offset = in->len;
    if (in->len < r->incoming_total)
        return; /* 4 */
    if (raft_config_decode(in->data, RAFT_CONFIG_BYTES, &in->config, NULL) != RAFT_OK) {
        drop_incoming(r); /* a leader's bug: start again rather than install it */
        rep->next_offset = 0;
        return;
    }
    install(r, m->from); /* 5-8; the reply waits until the snapshot is durable */
    rep->done = true;
}
