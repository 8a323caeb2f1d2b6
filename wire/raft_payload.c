/* raft_payload.c - the payload of a WIRE_KIND_RAFT_MESSAGE frame (docs/wire.md): a struct
 * raft_message field by field, AppendEntries entries inline. Decoding reads the payload twice:
 * once to check every field and add up the entries' data, once to fill the one allocation that
 * raft_message_copy() would make, so a refused payload allocates nothing.
 */
#include <assert.h>
#include <string.h>

#include "common/alloc.h"
#include "wire/internal.h"

/* type u8, term u64, from u32, to u32 */
#define COMMON_BYTES 17u
/* per entry: term u64, type u8, len u32, then len bytes of data */
#define ENTRY_HEAD_BYTES 13u

static bool node_ok(uint32_t id)
{
    return id >= 1 && id <= RAFT_MAX_NODES;
}

static bool entry_type_ok(enum raft_entry_type type)
{
    return type == RAFT_ENTRY_NOOP || type == RAFT_ENTRY_COMMAND || type == RAFT_ENTRY_CONFIG;
}

/* The entries' part of an AppendEntries payload, or the decoder's code for what it refuses. */
static int entries_size(const struct raft_append_entries *ae, uint64_t *bytes)
{
    if (ae->n_entries > RAFT_MAX_BATCH_ENTRIES)
        return WIRE_ECOUNT;
    if (ae->n_entries > 0 && ae->entries == NULL)
        return WIRE_EINVAL;
    uint64_t sum = 0; /* at most 4096 * (13 + 16 MiB): no overflow */
    for (uint32_t i = 0; i < ae->n_entries; i++) {
        const struct raft_entry *e = &ae->entries[i];
        if (!entry_type_ok(e->type))
            return WIRE_EENTRY_TYPE;
        if (e->len > RAFT_MAX_ENTRY_BYTES)
            return WIRE_EENTRY_LEN;
        if (e->len > 0 && e->data == NULL)
            return WIRE_EINVAL;
        sum += ENTRY_HEAD_BYTES + e->len;
    }
    /* prev_log_index, prev_log_term, leader_commit, read_round, n_entries, the entries */
    *bytes = 8 + 8 + 8 + 8 + 4 + sum;
    return WIRE_OK;
}

int wire_raft_payload_size(const struct raft_message *m, uint64_t *bytes)
{
    /* The decoder's order: type, then the node ids, then the body. */
    if (m->type < RAFT_MSG_REQUEST_VOTE || m->type > RAFT_MSG_TIMEOUT_NOW)
        return WIRE_EMSG_TYPE;
    if (!node_ok(m->from) || !node_ok(m->to))
        return WIRE_ENODE;
    uint64_t body = 0;
    switch (m->type) {
    case RAFT_MSG_REQUEST_VOTE:
        body = 8 + 8 + 1 + 1;
        break;
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        body = 1 + 1;
        break;
    case RAFT_MSG_APPEND_ENTRIES: {
        int rc = entries_size(&m->append_entries, &body);
        if (rc != WIRE_OK)
            return rc;
        break;
    }
    case RAFT_MSG_APPEND_ENTRIES_REPLY:
        body = 1 + 8 + 8 + 8 + 8 + 8;
        break;
    case RAFT_MSG_COMMIT_NOTIFY:
        body = 8;
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT:
        if (m->install_snapshot.len > RAFT_MAX_SNAPSHOT_CHUNK)
            return WIRE_ECHUNK;
        if (m->install_snapshot.len > 0 && m->install_snapshot.data == NULL)
            return WIRE_EINVAL;
        body = 8 + 8 + 8 + 8 + 4 + (uint64_t)m->install_snapshot.len;
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
        body = 8 + 8 + 1;
        break;
    case RAFT_MSG_READ_INDEX:
        body = 8;
        break;
    case RAFT_MSG_READ_INDEX_REPLY:
        body = 8 + 8 + 1;
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        body = 0;
        break;
    }
    *bytes = COMMON_BYTES + body;
    return WIRE_OK;
}

uint8_t *wire_raft_payload_write(const struct raft_message *m, uint8_t *p)
{
    p = le_put(p, (uint64_t)m->type, 1);
    p = le_put(p, m->term, 8);
    p = le_put(p, m->from, 4);
    p = le_put(p, m->to, 4);
    switch (m->type) {
    case RAFT_MSG_REQUEST_VOTE:
        p = le_put(p, m->request_vote.last_log_index, 8);
        p = le_put(p, m->request_vote.last_log_term, 8);
        p = le_put(p, m->request_vote.pre_vote, 1);
        p = le_put(p, m->request_vote.transfer, 1);
        break;
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        p = le_put(p, m->request_vote_reply.vote_granted, 1);
        p = le_put(p, m->request_vote_reply.pre_vote, 1);
        break;
    case RAFT_MSG_APPEND_ENTRIES: {
        const struct raft_append_entries *ae = &m->append_entries;
        p = le_put(p, ae->prev_log_index, 8);
        p = le_put(p, ae->prev_log_term, 8);
        p = le_put(p, ae->leader_commit, 8);
        p = le_put(p, ae->read_round, 8);
        p = le_put(p, ae->n_entries, 4);
        for (uint32_t i = 0; i < ae->n_entries; i++) {
            p = le_put(p, ae->entries[i].term, 8);
            p = le_put(p, (uint64_t)ae->entries[i].type, 1);
            p = le_put(p, ae->entries[i].len, 4);
            p = le_put_bytes(p, ae->entries[i].data, ae->entries[i].len);
        }
        break;
    }
    case RAFT_MSG_APPEND_ENTRIES_REPLY:
        p = le_put(p, m->append_entries_reply.success, 1);
        p = le_put(p, m->append_entries_reply.match_index, 8);
        p = le_put(p, m->append_entries_reply.rejected_index, 8);
        p = le_put(p, m->append_entries_reply.conflict_index, 8);
        p = le_put(p, m->append_entries_reply.conflict_term, 8);
        p = le_put(p, m->append_entries_reply.read_round, 8);
        break;
    case RAFT_MSG_COMMIT_NOTIFY:
        p = le_put(p, m->commit_notify.commit_index, 8);
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT: {
        const struct raft_install_snapshot *is = &m->install_snapshot;
        p = le_put(p, is->last_index, 8);
        p = le_put(p, is->last_term, 8);
        p = le_put(p, is->total_len, 8);
        p = le_put(p, is->offset, 8);
        p = le_put(p, is->len, 4);
        p = le_put_bytes(p, is->data, is->len);
        break;
    }
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
        p = le_put(p, m->install_snapshot_reply.last_index, 8);
        p = le_put(p, m->install_snapshot_reply.next_offset, 8);
        p = le_put(p, m->install_snapshot_reply.done, 1);
        break;
    case RAFT_MSG_READ_INDEX:
        p = le_put(p, m->read_index.id, 8);
        break;
    case RAFT_MSG_READ_INDEX_REPLY:
        p = le_put(p, m->read_index_reply.id, 8);
        p = le_put(p, m->read_index_reply.index, 8);
        p = le_put(p, m->read_index_reply.ok, 1);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        break;
    }
    return p;
}

/* First pass over the entries: checks each one and adds up their data. */
static void entries_check(struct le_reader *r, uint32_t n, size_t *data_len)
{
    size_t sum = 0; /* each len is at most RAFT_MAX_ENTRY_BYTES and inside the payload */
    for (uint32_t i = 0; i < n && r->err == WIRE_OK; i++) {
        wire_get(r, 8);
        wire_get_range(r, 1, RAFT_ENTRY_NOOP, RAFT_ENTRY_CONFIG, WIRE_EENTRY_TYPE);
        uint32_t len = (uint32_t)wire_get_range(r, 4, 0, RAFT_MAX_ENTRY_BYTES, WIRE_EENTRY_LEN);
        wire_get_bytes(r, len);
        sum += len;
    }
    *data_len = sum;
}

/* Second pass, over entries the first pass accepted: fills the block that raft_message_copy()
 * would make (the entries, then their data). */
static struct raft_entry *entries_fill(struct le_reader *r, uint32_t n, size_t data_len)
{
    uint8_t *data;
    struct raft_entry *block = raft_entries_block_new(n, data_len, &data);
    for (uint32_t i = 0; i < n; i++) {
        struct raft_entry *e = &block[i];
        e->term = wire_get(r, 8);
        e->type = (enum raft_entry_type)wire_get(r, 1);
        e->len = (uint32_t)wire_get(r, 4);
        e->data = NULL;
        if (e->len > 0) {
            memcpy(data, wire_get_bytes(r, e->len), e->len);
            e->data = data;
            data += e->len;
        }
    }
    assert(r->err == WIRE_OK);
    return block;
}

static void read_append_entries(struct le_reader *r, struct raft_append_entries *ae)
{
    ae->prev_log_index = wire_get(r, 8);
    ae->prev_log_term = wire_get(r, 8);
    ae->leader_commit = wire_get(r, 8);
    ae->read_round = wire_get(r, 8);
    uint32_t n = (uint32_t)wire_get_range(r, 4, 0, RAFT_MAX_BATCH_ENTRIES, WIRE_ECOUNT);
    struct le_reader entries = *r;
    size_t data_len;
    entries_check(r, n, &data_len);
    if (wire_reader_end(r) != WIRE_OK)
        return; /* nothing allocated */
    ae->n_entries = n;
    ae->entries = entries_fill(&entries, n, data_len);
}

/* The chunk is copied only once the whole payload is known to be good. */
static void read_install_snapshot(struct le_reader *r, struct raft_install_snapshot *is)
{
    is->last_index = wire_get(r, 8);
    is->last_term = wire_get(r, 8);
    is->total_len = wire_get(r, 8);
    is->offset = wire_get(r, 8);
    uint32_t len = (uint32_t)wire_get_range(r, 4, 0, RAFT_MAX_SNAPSHOT_CHUNK, WIRE_ECHUNK);
    const uint8_t *data = wire_get_bytes(r, len);
    if (wire_reader_end(r) != WIRE_OK || len == 0)
        return; /* nothing allocated */
    is->len = len;
    is->data = xmalloc(len);
    memcpy(is->data, data, len);
}

int wire_raft_payload_read(const uint8_t *p, size_t len, struct raft_message *out)
{
    struct le_reader r = {.p = p, .left = len, .err = 0};
    memset(out, 0, sizeof *out);
    uint64_t type =
        wire_get_range(&r, 1, RAFT_MSG_REQUEST_VOTE, RAFT_MSG_TIMEOUT_NOW, WIRE_EMSG_TYPE);
    out->type = (enum raft_msg_type)type;
    out->term = wire_get(&r, 8);
    out->from = (uint32_t)wire_get_range(&r, 4, 1, RAFT_MAX_NODES, WIRE_ENODE);
    out->to = (uint32_t)wire_get_range(&r, 4, 1, RAFT_MAX_NODES, WIRE_ENODE);
    if (r.err != WIRE_OK) {
        memset(out, 0, sizeof *out);
        return r.err;
    }
    switch (out->type) {
    case RAFT_MSG_REQUEST_VOTE:
        out->request_vote.last_log_index = wire_get(&r, 8);
        out->request_vote.last_log_term = wire_get(&r, 8);
        out->request_vote.pre_vote = wire_get_bool(&r);
        out->request_vote.transfer = wire_get_bool(&r);
        break;
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        out->request_vote_reply.vote_granted = wire_get_bool(&r);
        out->request_vote_reply.pre_vote = wire_get_bool(&r);
        break;
    case RAFT_MSG_APPEND_ENTRIES:
        read_append_entries(&r, &out->append_entries);
        break;
    case RAFT_MSG_APPEND_ENTRIES_REPLY:
        out->append_entries_reply.success = wire_get_bool(&r);
        out->append_entries_reply.match_index = wire_get(&r, 8);
        out->append_entries_reply.rejected_index = wire_get(&r, 8);
        out->append_entries_reply.conflict_index = wire_get(&r, 8);
        out->append_entries_reply.conflict_term = wire_get(&r, 8);
        out->append_entries_reply.read_round = wire_get(&r, 8);
        break;
    case RAFT_MSG_COMMIT_NOTIFY:
        out->commit_notify.commit_index = wire_get(&r, 8);
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT:
        read_install_snapshot(&r, &out->install_snapshot);
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
        out->install_snapshot_reply.last_index = wire_get(&r, 8);
        out->install_snapshot_reply.next_offset = wire_get(&r, 8);
        out->install_snapshot_reply.done = wire_get_bool(&r);
        break;
    case RAFT_MSG_READ_INDEX:
        out->read_index.id = wire_get(&r, 8);
        break;
    case RAFT_MSG_READ_INDEX_REPLY:
        out->read_index_reply.id = wire_get(&r, 8);
        out->read_index_reply.index = wire_get(&r, 8);
        out->read_index_reply.ok = wire_get_bool(&r);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        break;
    }
    int rc = wire_reader_end(&r);
    if (rc != WIRE_OK) {
        raft_message_free(out); /* an AppendEntries allocates only once it is whole */
        memset(out, 0, sizeof *out);
    }
    return rc;
}
