/* message.c - Raft messages: deep copy, free and validation of received messages.
 * A message's entries are ONE allocation (array + data) so a network emulator can copy, delay and
 * free messages cheaply; validation turns bad network input into an error, never an assert.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "raft/internal.h"

const char *raft_msg_type_name(enum raft_msg_type type)
{
    switch (type) {
    case RAFT_MSG_REQUEST_VOTE:
        return "RequestVote";
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        return "RequestVoteReply";
    case RAFT_MSG_APPEND_ENTRIES:
        return "AppendEntries";
    case RAFT_MSG_APPEND_ENTRIES_REPLY:
        return "AppendEntriesReply";
    case RAFT_MSG_COMMIT_NOTIFY:
        return "CommitNotify";
    case RAFT_MSG_INSTALL_SNAPSHOT:
        return "InstallSnapshot";
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
        return "InstallSnapshotReply";
    case RAFT_MSG_READ_INDEX:
        return "ReadIndex";
    case RAFT_MSG_READ_INDEX_REPLY:
        return "ReadIndexReply";
    case RAFT_MSG_TIMEOUT_NOW:
        return "TimeoutNow";
    }
    return "?";
}

struct raft_entry *raft_entries_block_new(uint32_t n, size_t data_len, uint8_t **data)
{
    assert(n > 0 || data_len == 0);
    if (n == 0) {
        *data = NULL;
        return NULL;
    }
    size_t head = (size_t)n * sizeof(struct raft_entry);
    if (data_len > SIZE_MAX - head)
        xalloc_failed(SIZE_MAX);
    struct raft_entry *block = xmalloc(head + data_len);
    *data = (uint8_t *)block + head;
    return block;
}

/* One block holding n entries followed by their data (raft_entries_block_new). */
static struct raft_entry *entries_block_new(const struct raft_entry *src, uint32_t n)
{
    size_t data_len = 0;
    for (uint32_t i = 0; i < n; i++)
        data_len += src[i].len;
    uint8_t *data;
    struct raft_entry *block = raft_entries_block_new(n, data_len, &data);
    for (uint32_t i = 0; i < n; i++) {
        block[i] = src[i];
        block[i].data = NULL;
        if (src[i].len > 0) {
            memcpy(data, src[i].data, src[i].len);
            block[i].data = data;
            data += src[i].len;
        }
    }
    return block;
}

struct raft_entry *raft_entries_copy(const struct raft_entry *src, uint32_t n)
{
    return n == 0 ? NULL : entries_block_new(src, n);
}

void raft_message_copy(struct raft_message *dst, const struct raft_message *src)
{
    *dst = *src;
    if (src->type == RAFT_MSG_APPEND_ENTRIES)
        dst->append_entries.entries =
            raft_entries_copy(src->append_entries.entries, src->append_entries.n_entries);
    if (src->type == RAFT_MSG_INSTALL_SNAPSHOT && src->install_snapshot.len > 0) {
        dst->install_snapshot.data = xmalloc(src->install_snapshot.len);
        memcpy(dst->install_snapshot.data, src->install_snapshot.data, src->install_snapshot.len);
    }
}

void raft_message_free(struct raft_message *msg)
{
    if (msg->type == RAFT_MSG_APPEND_ENTRIES) {
        free(msg->append_entries.entries);
        msg->append_entries.entries = NULL;
        msg->append_entries.n_entries = 0;
    }
    if (msg->type == RAFT_MSG_INSTALL_SNAPSHOT) {
        free(msg->install_snapshot.data);
        msg->install_snapshot.data = NULL;
        msg->install_snapshot.len = 0;
    }
}

static int bad(const char **why, const char *what)
{
    if (why != NULL)
        *why = what;
    return RAFT_EMALFORMED;
}

static int validate_append_entries(const struct raft_message *m, const char **why)
{
    const struct raft_append_entries *ae = &m->append_entries;
    if (ae->prev_log_index == 0 && ae->prev_log_term != 0)
        return bad(why, "prev_log_term must be 0 when prev_log_index is 0");
    if (ae->prev_log_index > 0 && ae->prev_log_term == 0)
        return bad(why, "prev_log_term must be >= 1 when prev_log_index >= 1");
    if (ae->prev_log_term > m->term)
        return bad(why, "prev_log_term exceeds the message term");
    if (ae->n_entries > RAFT_MAX_BATCH_ENTRIES)
        return bad(why, "too many entries");
    if (ae->n_entries > 0 && ae->entries == NULL)
        return bad(why, "n_entries > 0 but no entries");
    if (ae->prev_log_index > UINT64_MAX - RAFT_MAX_BATCH_ENTRIES)
        return bad(why, "prev_log_index too large");
    uint64_t prev_term = ae->prev_log_term;
    for (uint32_t i = 0; i < ae->n_entries; i++) {
        const struct raft_entry *e = &ae->entries[i];
        if (e->term < prev_term || e->term > m->term)
            return bad(why, "entry terms must be non-decreasing and <= the message term");
        if (e->type != RAFT_ENTRY_NOOP && e->type != RAFT_ENTRY_COMMAND &&
            e->type != RAFT_ENTRY_CONFIG)
            return bad(why, "unknown entry type");
        if (e->type == RAFT_ENTRY_CONFIG && raft_config_decode(e->data, e->len, NULL, why) != 0)
            return RAFT_EMALFORMED;
        if (e->len > RAFT_MAX_ENTRY_BYTES)
            return bad(why, "entry too large");
        if (e->len > 0 && e->data == NULL)
            return bad(why, "entry len > 0 but no data");
        prev_term = e->term;
    }
    return RAFT_OK;
}

static int validate_install_snapshot(const struct raft_message *m, const char **why)
{
    const struct raft_install_snapshot *is = &m->install_snapshot;
    if (is->last_index == 0 || is->last_term == 0)
        return bad(why, "a snapshot's last_index and last_term must be >= 1");
    if (is->last_term > m->term)
        return bad(why, "last_term exceeds the message term");
    if (is->total_len > RAFT_CONFIG_BYTES + RAFT_MAX_SNAPSHOT_BYTES)
        return bad(why, "snapshot too large");
    if (is->total_len < RAFT_CONFIG_BYTES)
        return bad(why, "a snapshot starts with its configuration (64 bytes)");
    if (is->len > RAFT_MAX_SNAPSHOT_CHUNK)
        return bad(why, "snapshot chunk too large");
    if (is->offset > is->total_len || is->len > is->total_len - is->offset)
        return bad(why, "snapshot chunk beyond total_len");
    if (is->len > 0 && is->data == NULL)
        return bad(why, "chunk len > 0 but no data");
    return RAFT_OK;
}

int raft_message_validate(const struct raft_message *m, uint32_t self, uint32_t max_nodes,
                          const char **why)
{
    if (m == NULL)
        return bad(why, "no message");
    if (m->from < 1 || m->from > max_nodes)
        return bad(why, "sender id out of range");
    if (m->to != self)
        return bad(why, "message addressed to another node");
    if (m->from == self)
        return bad(why, "message from self");
    if (m->term == 0)
        return bad(why, "term must be >= 1");
    switch (m->type) {
    case RAFT_MSG_REQUEST_VOTE:
        if (m->request_vote.pre_vote && m->request_vote.transfer)
            return bad(why, "a transfer's election has no pre-vote");
        if ((m->request_vote.last_log_index == 0) != (m->request_vote.last_log_term == 0))
            return bad(why, "last_log_index and last_log_term must both be 0 or both >= 1");
        if (m->request_vote.last_log_term > m->term)
            return bad(why, "last_log_term exceeds the message term");
        return RAFT_OK;
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        return RAFT_OK;
    case RAFT_MSG_APPEND_ENTRIES:
        return validate_append_entries(m, why);
    case RAFT_MSG_APPEND_ENTRIES_REPLY:
        if (m->append_entries_reply.success && m->append_entries_reply.conflict_term != 0)
            return bad(why, "a successful reply carries no conflict hint");
        if (!m->append_entries_reply.success &&
            m->append_entries_reply.conflict_index > m->append_entries_reply.rejected_index + 1)
            return bad(why, "conflict_index beyond rejected_index + 1");
        return RAFT_OK;
    case RAFT_MSG_COMMIT_NOTIFY:
        return RAFT_OK;
    case RAFT_MSG_INSTALL_SNAPSHOT:
        return validate_install_snapshot(m, why);
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
        if (m->install_snapshot_reply.last_index == 0)
            return bad(why, "a snapshot reply's last_index must be >= 1");
        return RAFT_OK;
    case RAFT_MSG_READ_INDEX:
        return RAFT_OK;
    case RAFT_MSG_READ_INDEX_REPLY:
        if (!m->read_index_reply.ok && m->read_index_reply.index != 0)
            return bad(why, "a refused read index reply carries no index");
        return RAFT_OK;
    case RAFT_MSG_TIMEOUT_NOW:
        return RAFT_OK;
    }
    return bad(why, "unknown message type");
}
