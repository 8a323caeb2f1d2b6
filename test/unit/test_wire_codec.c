/* test_wire_codec.c - the wire codec on good frames: every message kind round-trips, sizes are
 * exact, the bytes are docs/wire.md's, frames decode one after another from a stream, every
 * truncation asks for more bytes and every single flipped bit is refused. Malformed payloads are
 * in test_wire_malformed.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/client.h" /* constants only: the status numbers the wire mirrors */
#include "kv/kv.h"         /* constants only: the read policy numbers the wire mirrors */
#include "test/unit/test_membership.h"
#include "test/unit/test_wire.h"

_Static_assert(WIRE_REPLY_OK == (int)CLIENT_REPLY_OK, "status numbers mirror client.h");
_Static_assert(WIRE_REPLY_NOT_LEADER == (int)CLIENT_REPLY_NOT_LEADER, "mirror client.h");
_Static_assert(WIRE_REPLY_UNKNOWN == (int)CLIENT_REPLY_UNKNOWN, "mirror client.h");
_Static_assert(WIRE_REPLY_REJECTED == (int)CLIENT_REPLY_REJECTED, "mirror client.h");

_Static_assert(WIRE_READ_LINEARIZABLE == (int)KV_READ_LINEARIZABLE, "read policies mirror kv.h");
_Static_assert(WIRE_READ_LEASE == (int)KV_READ_LEASE, "mirror kv.h");
_Static_assert(WIRE_READ_FOLLOWER == (int)KV_READ_FOLLOWER, "mirror kv.h");
_Static_assert(WIRE_READ_STALE == (int)KV_READ_STALE, "mirror kv.h");
_Static_assert(WIRE_READ_LOG == (int)KV_READ_LOG, "mirror kv.h");
_Static_assert(WIRE_READ_POLICIES == KV_READ_POLICIES, "as many read policies as kv.h");

/* --- helpers --------------------------------------------------------------------------------- */

static struct raft_message msg_of(enum raft_msg_type type, uint64_t term, uint32_t from,
                                  uint32_t to)
{
    struct raft_message m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.term = term;
    m.from = from;
    m.to = to;
    return m;
}

/* An AppendEntries owning n entries (as raft_message_copy makes them): entry i has term
 * 3 + i / 7, is a no-op every fifth and otherwise carries (i * 13) % (max_len + 1) bytes. Its
 * read_round has a different value in each of its 8 bytes. */
static struct raft_message append_entries(uint32_t n, uint32_t max_len)
{
    struct raft_message m = msg_of(RAFT_MSG_APPEND_ENTRIES, UINT64_MAX, 255, 1);
    m.append_entries.prev_log_index = 41;
    m.append_entries.prev_log_term = 2;
    m.append_entries.leader_commit = 40;
    m.append_entries.read_round = 0x8877665544332211u;
    struct raft_entry *src = xcalloc(n > 0 ? n : 1, sizeof *src);
    uint8_t *bytes = xmalloc((size_t)max_len + 1);
    for (uint32_t i = 0; i <= max_len; i++)
        bytes[i] = (uint8_t)(i * 31 + 7);
    for (uint32_t i = 0; i < n; i++) {
        src[i].term = 3 + i / 7;
        src[i].type = i % 5 == 0 ? RAFT_ENTRY_NOOP : RAFT_ENTRY_COMMAND;
        src[i].len = i % 5 == 0 ? 0 : (uint32_t)(((uint64_t)i * 13) % ((uint64_t)max_len + 1));
        src[i].data = src[i].len > 0 ? bytes : NULL;
    }
    struct raft_message tmp = m;
    tmp.append_entries.n_entries = n;
    tmp.append_entries.entries = src;
    raft_message_copy(&m, &tmp);
    free(src);
    free(bytes);
    return m;
}

static void assert_raft_equal(const struct raft_message *a, const struct raft_message *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->term, b->term);
    assert_int_equal(a->from, b->from);
    assert_int_equal(a->to, b->to);
    switch (a->type) {
    case RAFT_MSG_REQUEST_VOTE:
        assert_int_equal(a->request_vote.last_log_index, b->request_vote.last_log_index);
        assert_int_equal(a->request_vote.last_log_term, b->request_vote.last_log_term);
        assert_int_equal(a->request_vote.pre_vote, b->request_vote.pre_vote);
        assert_int_equal(a->request_vote.transfer, b->request_vote.transfer);
        break;
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        assert_int_equal(a->request_vote_reply.vote_granted, b->request_vote_reply.vote_granted);
        assert_int_equal(a->request_vote_reply.pre_vote, b->request_vote_reply.pre_vote);
        break;
    case RAFT_MSG_APPEND_ENTRIES: {
        const struct raft_append_entries *x = &a->append_entries, *y = &b->append_entries;
        assert_int_equal(x->prev_log_index, y->prev_log_index);
        assert_int_equal(x->prev_log_term, y->prev_log_term);
        assert_int_equal(x->leader_commit, y->leader_commit);
        assert_int_equal(x->read_round, y->read_round);
        assert_int_equal(x->n_entries, y->n_entries);
        for (uint32_t i = 0; i < x->n_entries; i++) {
            assert_int_equal(x->entries[i].term, y->entries[i].term);
            assert_int_equal(x->entries[i].type, y->entries[i].type);
            assert_int_equal(x->entries[i].len, y->entries[i].len);
            assert_true((x->entries[i].data == NULL) == (y->entries[i].data == NULL));
            if (x->entries[i].len > 0)
                assert_memory_equal(x->entries[i].data, y->entries[i].data, x->entries[i].len);
        }
        break;
    }
    case RAFT_MSG_APPEND_ENTRIES_REPLY: {
        const struct raft_append_entries_reply *x = &a->append_entries_reply;
        const struct raft_append_entries_reply *y = &b->append_entries_reply;
        assert_int_equal(x->success, y->success);
        assert_int_equal(x->match_index, y->match_index);
        assert_int_equal(x->rejected_index, y->rejected_index);
        assert_int_equal(x->conflict_index, y->conflict_index);
        assert_int_equal(x->conflict_term, y->conflict_term);
        assert_int_equal(x->read_round, y->read_round);
        break;
    }
    case RAFT_MSG_COMMIT_NOTIFY:
        assert_int_equal(a->commit_notify.commit_index, b->commit_notify.commit_index);
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT: {
        const struct raft_install_snapshot *x = &a->install_snapshot, *y = &b->install_snapshot;
        assert_int_equal(x->last_index, y->last_index);
        assert_int_equal(x->last_term, y->last_term);
        assert_int_equal(x->total_len, y->total_len);
        assert_int_equal(x->offset, y->offset);
        assert_int_equal(x->len, y->len);
        assert_true((x->data == NULL) == (y->data == NULL));
        if (x->len > 0)
            assert_memory_equal(x->data, y->data, x->len);
        break;
    }
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
        assert_int_equal(a->install_snapshot_reply.last_index,
                         b->install_snapshot_reply.last_index);
        assert_int_equal(a->install_snapshot_reply.next_offset,
                         b->install_snapshot_reply.next_offset);
        assert_int_equal(a->install_snapshot_reply.done, b->install_snapshot_reply.done);
        break;
    case RAFT_MSG_READ_INDEX:
        assert_int_equal(a->read_index.id, b->read_index.id);
        break;
    case RAFT_MSG_READ_INDEX_REPLY:
        assert_int_equal(a->read_index_reply.id, b->read_index_reply.id);
        assert_int_equal(a->read_index_reply.index, b->read_index_reply.index);
        assert_int_equal(a->read_index_reply.ok, b->read_index_reply.ok);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        break;
    }
}

/* Encodes f into a fresh buffer of exactly wire_frame_size(f) bytes (checking that the size is
 * exact: one byte less is WIRE_ENOSPACE), returns it and its length. */
static uint8_t *encode(const struct wire_frame *f, size_t *len)
{
    size_t size = wire_frame_size(f);
    assert_true(size >= WIRE_HEADER_BYTES);
    uint8_t *buf = xmalloc(size);
    size_t n = 12345;
    assert_int_equal(wire_encode_frame(f, buf, size - 1, &n), WIRE_ENOSPACE);
    assert_int_equal(n, 12345);
    assert_int_equal(wire_encode_frame(f, buf, size, &n), WIRE_OK);
    assert_int_equal(n, size);
    *len = n;
    return buf;
}

/* Decodes a buffer holding exactly one frame, which must succeed and consume all of it. */
static void decode_one(const uint8_t *buf, size_t len, struct wire_frame *out)
{
    size_t consumed = 0, needed = 99;
    int rc = wire_decode(buf, len, out, &consumed, &needed);
    assert_int_equal(rc, WIRE_OK);
    assert_int_equal(consumed, len);
    assert_int_equal(needed, 0);
}

/* Encodes m, checks the size, decodes and compares, and re-encodes to the same bytes. */
static void round_trip_raft(const struct raft_message *m)
{
    size_t len;
    struct wire_frame in = {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = *m};
    uint8_t *buf = encode(&in, &len);
    assert_int_equal(len, wire_raft_message_size(m));
    size_t len2;
    uint8_t *buf2 = xmalloc(len);
    assert_int_equal(wire_encode_raft_message(m, buf2, len, &len2), WIRE_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(buf, buf2, len);
    struct wire_frame out;
    decode_one(buf, len, &out);
    assert_int_equal(out.kind, WIRE_KIND_RAFT_MESSAGE);
    assert_raft_equal(m, &out.raft);
    free(buf2);
    buf2 = encode(&out, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(buf, buf2, len);
    wire_frame_free(&out);
    free(buf);
    free(buf2);
}

/* Encodes f and checks the frame is, byte for byte, payload (built by hand from docs/wire.md) in
 * a frame of f's kind; then that the bytes decode and re-encode to themselves. */
static void assert_frame_is(const struct wire_frame *f, const struct tw_bytes *payload)
{
    size_t len;
    uint8_t *buf = encode(f, &len);
    struct tw_bytes want = {0};
    tw_frame(&want, (uint8_t)f->kind, payload->p, payload->len);
    assert_int_equal(len, want.len);
    assert_memory_equal(buf, want.p, len);
    struct wire_frame out;
    decode_one(buf, len, &out);
    size_t len2;
    uint8_t *again = encode(&out, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(again, buf, len);
    wire_frame_free(&out);
    free(again);
    free(want.p);
    free(buf);
}

/* The Raft message prefix, by hand: type, term, from, to. */
static void tw_raft_head(struct tw_bytes *p, const struct raft_message *m)
{
    tw_put(p, (uint64_t)m->type, 1);
    tw_put(p, m->term, 8);
    tw_put(p, m->from, 4);
    tw_put(p, m->to, 4);
}

/* --- round trips ----------------------------------------------------------------------------- */

/* RequestVote and its reply, as votes and as pre-votes, with and without the transfer flag
 * (the wire carries every pair; that a pre-vote is no transfer is raft_message_validate's rule),
 * with extreme field values. */
static void votes_round_trip(void **state)
{
    (void)state;
    for (int pre = 0; pre <= 1; pre++) {
        for (int transfer = 0; transfer <= 1; transfer++) {
            struct raft_message m = msg_of(RAFT_MSG_REQUEST_VOTE, 7, 1, 2);
            m.request_vote.last_log_index = UINT64_MAX;
            m.request_vote.last_log_term = 6;
            m.request_vote.pre_vote = pre;
            m.request_vote.transfer = transfer;
            round_trip_raft(&m);
        }
        for (int granted = 0; granted <= 1; granted++) {
            struct raft_message r = msg_of(RAFT_MSG_REQUEST_VOTE_REPLY, UINT64_MAX, 255, 254);
            r.request_vote_reply.vote_granted = granted;
            r.request_vote_reply.pre_vote = pre;
            round_trip_raft(&r);
        }
    }
}

/* AppendEntries replies (success and fast-backup rejection, each echoing a read round) and
 * CommitNotify. */
static void replies_and_notify_round_trip(void **state)
{
    (void)state;
    struct raft_message ok = msg_of(RAFT_MSG_APPEND_ENTRIES_REPLY, 3, 2, 1);
    ok.append_entries_reply.success = true;
    ok.append_entries_reply.match_index = 99;
    ok.append_entries_reply.read_round = 1;
    round_trip_raft(&ok);
    ok.append_entries_reply.read_round = UINT64_MAX;
    round_trip_raft(&ok);
    struct raft_message no = msg_of(RAFT_MSG_APPEND_ENTRIES_REPLY, 3, 2, 1);
    no.append_entries_reply.rejected_index = UINT64_MAX;
    no.append_entries_reply.conflict_index = 17;
    no.append_entries_reply.conflict_term = 2;
    no.append_entries_reply.read_round = 0x0102030405060708u;
    round_trip_raft(&no);
    struct raft_message cn = msg_of(RAFT_MSG_COMMIT_NOTIFY, 1, 1, 3);
    cn.commit_notify.commit_index = 0x0102030405060708u;
    round_trip_raft(&cn);
}

/* InstallSnapshot chunks (empty, small, the largest allowed) and both kinds of reply. */
static void install_snapshot_round_trip(void **state)
{
    (void)state;
    static const uint32_t lens[] = {0, 1, 1000, RAFT_MAX_SNAPSHOT_CHUNK};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct raft_message m = msg_of(RAFT_MSG_INSTALL_SNAPSHOT, 7, 1, 2);
        m.install_snapshot.last_index = 5000;
        m.install_snapshot.last_term = 6;
        m.install_snapshot.total_len = (uint64_t)lens[i] * 3;
        m.install_snapshot.offset = lens[i];
        m.install_snapshot.len = lens[i];
        if (lens[i] > 0) {
            m.install_snapshot.data = xmalloc(lens[i]);
            for (uint32_t b = 0; b < lens[i]; b++)
                m.install_snapshot.data[b] = (uint8_t)(b * 7 + i);
        }
        round_trip_raft(&m);
        raft_message_free(&m);
    }
    struct raft_message rep = msg_of(RAFT_MSG_INSTALL_SNAPSHOT_REPLY, 7, 2, 1);
    rep.install_snapshot_reply.last_index = 5000;
    rep.install_snapshot_reply.next_offset = 65536;
    round_trip_raft(&rep);
    rep.install_snapshot_reply.done = true;
    round_trip_raft(&rep);
}

/* AppendEntries with 0 entries (a heartbeat), 1, a few, and RAFT_MAX_BATCH_ENTRIES, each with a
 * read round and with none (0). */
static void append_entries_round_trip(void **state)
{
    (void)state;
    static const uint32_t counts[] = {0, 1, 2, 5, 64, RAFT_MAX_BATCH_ENTRIES};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        struct raft_message m = append_entries(counts[i], 300);
        round_trip_raft(&m);
        m.append_entries.read_round = 0;
        round_trip_raft(&m);
        raft_message_free(&m);
    }
}

/* ReadIndex requests and both answers of their replies, with extreme ids and indices. */
static void read_index_round_trip(void **state)
{
    (void)state;
    static const uint64_t values[] = {0, 1, 0x0102030405060708u, UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct raft_message m = msg_of(RAFT_MSG_READ_INDEX, 4, 3, 1);
        m.read_index.id = values[i];
        round_trip_raft(&m);
        for (int ok = 0; ok <= 1; ok++) {
            struct raft_message r = msg_of(RAFT_MSG_READ_INDEX_REPLY, UINT64_MAX, 1, 255);
            r.read_index_reply.id = values[i];
            r.read_index_reply.index = values[sizeof values / sizeof values[0] - 1 - i];
            r.read_index_reply.ok = ok;
            round_trip_raft(&r);
        }
    }
}

/* TimeoutNow, which has no body: the common 17 bytes alone, with extreme field values. */
static void timeout_now_round_trip(void **state)
{
    (void)state;
    static const uint64_t terms[] = {1, 0x0102030405060708u, UINT64_MAX};
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
        struct raft_message m = msg_of(RAFT_MSG_TIMEOUT_NOW, terms[i], 1, RAFT_MAX_NODES);
        round_trip_raft(&m);
        assert_int_equal(wire_raft_message_size(&m), WIRE_HEADER_BYTES + 17);
    }
}

/* A configuration entry (raft_config_encode's 64 bytes) between a no-op and a command
 * round-trips; decoded, its bytes give back the same configuration, and the message validates
 * at the learner it is sent to. */
static void config_entry_round_trip(void **state)
{
    (void)state;
    struct raft_config c = config_1235_7();
    uint8_t bytes[RAFT_CONFIG_BYTES];
    raft_config_encode(&c, bytes);
    static const uint8_t cmd[] = {9, 8, 7};
    struct raft_entry e[3] = {
        {.term = 4, .type = RAFT_ENTRY_NOOP, .len = 0, .data = NULL},
        {.term = 4, .type = RAFT_ENTRY_CONFIG, .len = sizeof bytes, .data = bytes},
        {.term = 4, .type = RAFT_ENTRY_COMMAND, .len = sizeof cmd, .data = (uint8_t *)cmd},
    };
    struct raft_message m = msg_of(RAFT_MSG_APPEND_ENTRIES, 4, 1, 7);
    m.append_entries.prev_log_index = 10;
    m.append_entries.prev_log_term = 3;
    m.append_entries.leader_commit = 10;
    m.append_entries.n_entries = 3;
    m.append_entries.entries = e;
    round_trip_raft(&m);
    size_t len;
    struct wire_frame in = {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = m};
    uint8_t *buf = encode(&in, &len);
    assert_int_equal(len, WIRE_HEADER_BYTES + 17 + 36 + 3 * 13 + RAFT_CONFIG_BYTES + sizeof cmd);
    struct wire_frame out;
    decode_one(buf, len, &out);
    const struct raft_entry *got = &out.raft.append_entries.entries[1];
    assert_int_equal(got->type, RAFT_ENTRY_CONFIG);
    struct raft_config back;
    const char *why = NULL;
    assert_int_equal(raft_config_decode(got->data, got->len, &back, &why), RAFT_OK);
    assert_true(raft_config_equal(&back, &c));
    assert_int_equal(raft_message_validate(&out.raft, 7, 7, &why), RAFT_OK);
    wire_frame_free(&out);
    free(buf);
}

/* One message of every type, 1 through RAFT_MSG_TIMEOUT_NOW, round-trips; a type added to
 * raft.h without a case here fails to compile (-Wswitch). */
static void every_message_type_round_trips(void **state)
{
    (void)state;
    for (int type = RAFT_MSG_REQUEST_VOTE; type <= RAFT_MSG_TIMEOUT_NOW; type++) {
        struct raft_message m = msg_of((enum raft_msg_type)type, 9, 2, 3);
        uint8_t chunk[5] = {1, 2, 3, 4, 5};
        switch (m.type) {
        case RAFT_MSG_REQUEST_VOTE:
            m.request_vote.last_log_index = 8;
            m.request_vote.last_log_term = 7;
            m.request_vote.transfer = true;
            break;
        case RAFT_MSG_REQUEST_VOTE_REPLY:
            m.request_vote_reply.vote_granted = true;
            break;
        case RAFT_MSG_APPEND_ENTRIES:
            m = append_entries(6, 40);
            break;
        case RAFT_MSG_APPEND_ENTRIES_REPLY:
            m.append_entries_reply.success = true;
            m.append_entries_reply.match_index = 12;
            m.append_entries_reply.read_round = 3;
            break;
        case RAFT_MSG_COMMIT_NOTIFY:
            m.commit_notify.commit_index = 12;
            break;
        case RAFT_MSG_INSTALL_SNAPSHOT:
            m.install_snapshot.last_index = 30;
            m.install_snapshot.last_term = 8;
            m.install_snapshot.total_len = 10;
            m.install_snapshot.offset = 5;
            m.install_snapshot.len = sizeof chunk;
            m.install_snapshot.data = chunk;
            break;
        case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
            m.install_snapshot_reply.last_index = 30;
            m.install_snapshot_reply.next_offset = 10;
            m.install_snapshot_reply.done = true;
            break;
        case RAFT_MSG_READ_INDEX:
            m.read_index.id = 77;
            break;
        case RAFT_MSG_READ_INDEX_REPLY:
            m.read_index_reply.id = 77;
            m.read_index_reply.index = 12;
            m.read_index_reply.ok = true;
            break;
        case RAFT_MSG_TIMEOUT_NOW:
            break;
        }
        assert_int_equal(m.type, type);
        round_trip_raft(&m);
        if (m.type == RAFT_MSG_APPEND_ENTRIES)
            raft_message_free(&m);
    }
}

/* The version 3 layouts of docs/wire.md, byte for byte: RequestVote with transfer after
 * pre_vote, TimeoutNow with no body, AppendEntries with read_round before n_entries and a
 * configuration entry (voter bits, then learner bits), its reply with read_round last, ReadIndex
 * and its reply, and a client request with its read policy between request_id and command_len. */
static void layouts_are_the_documented_ones(void **state)
{
    (void)state;
    struct tw_bytes p = {0};

    struct raft_message rv = msg_of(RAFT_MSG_REQUEST_VOTE, 6, 2, 1);
    rv.request_vote.last_log_index = 0x0102030405060708u;
    rv.request_vote.last_log_term = 5;
    rv.request_vote.transfer = true;
    tw_raft_head(&p, &rv);
    tw_put(&p, 0x0102030405060708u, 8); /* last_log_index, offset 17 */
    tw_put(&p, 5, 8);                   /* last_log_term, 25 */
    tw_put(&p, 0, 1);                   /* pre_vote, 33 */
    tw_put(&p, 1, 1);                   /* transfer, 34 */
    assert_int_equal(p.len, 17 + 18);
    assert_frame_is(&(struct wire_frame){.kind = WIRE_KIND_RAFT_MESSAGE, .raft = rv}, &p);

    struct raft_message tn = msg_of(RAFT_MSG_TIMEOUT_NOW, 6, 1, 2);
    p.len = 0;
    tw_raft_head(&p, &tn);
    assert_int_equal(p.len, 17);
    assert_frame_is(&(struct wire_frame){.kind = WIRE_KIND_RAFT_MESSAGE, .raft = tn}, &p);

    static const uint8_t data[] = {0xd0, 0xd1, 0xd2, 0xd3};
    struct raft_config c = config_1235_7();
    uint8_t config[RAFT_CONFIG_BYTES];
    raft_config_encode(&c, config);
    struct raft_entry entries[] = {
        {.term = 3, .type = RAFT_ENTRY_NOOP, .len = 0, .data = NULL},
        {.term = 4, .type = RAFT_ENTRY_COMMAND, .len = 4, .data = (uint8_t *)data},
        {.term = 4, .type = RAFT_ENTRY_CONFIG, .len = sizeof config, .data = config},
    };
    struct raft_message ae = msg_of(RAFT_MSG_APPEND_ENTRIES, 6, 1, 2);
    ae.append_entries.prev_log_index = 41;
    ae.append_entries.prev_log_term = 2;
    ae.append_entries.leader_commit = 40;
    ae.append_entries.read_round = 0x8877665544332211u;
    ae.append_entries.n_entries = 3;
    ae.append_entries.entries = entries;
    p.len = 0;
    tw_raft_head(&p, &ae);
    tw_put(&p, 41, 8);                  /* prev_log_index, offset 17 */
    tw_put(&p, 2, 8);                   /* prev_log_term, 25 */
    tw_put(&p, 40, 8);                  /* leader_commit, 33 */
    tw_put(&p, 0x8877665544332211u, 8); /* read_round, 41 */
    tw_put(&p, 3, 4);                   /* n_entries, 49 */
    tw_put(&p, 3, 8);                   /* the entries from 53: term, type, len, data */
    tw_put(&p, RAFT_ENTRY_NOOP, 1);
    tw_put(&p, 0, 4);
    tw_put(&p, 4, 8);
    tw_put(&p, RAFT_ENTRY_COMMAND, 1);
    tw_put(&p, 4, 4);
    tw_put_bytes(&p, data, 4);
    tw_put(&p, 4, 8);
    tw_put(&p, RAFT_ENTRY_CONFIG, 1);
    tw_put(&p, RAFT_CONFIG_BYTES, 4);
    tw_put(&p, 1u << 1 | 1u << 2 | 1u << 3 | 1u << 5, 8); /* voters, bit id % 64 of word id / 64 */
    for (int w = 1; w < 4; w++)
        tw_put(&p, 0, 8);
    tw_put(&p, 1u << 7, 8); /* learners, the same way */
    for (int w = 1; w < 4; w++)
        tw_put(&p, 0, 8);
    assert_int_equal(p.len, 17 + 36 + 3 * 13 + 4 + 64);
    assert_frame_is(&(struct wire_frame){.kind = WIRE_KIND_RAFT_MESSAGE, .raft = ae}, &p);

    /* Ids past 63 go to the later words: voters 1 and 200 (word 3, bit 8), learner 64 (word 1,
     * bit 0). */
    raft_config_initial(&c, 1);
    raft_config_set(&c, 200, true, false);
    raft_config_set(&c, 64, false, true);
    raft_config_encode(&c, config);
    p.len = 0;
    tw_put(&p, 1u << 1, 8);
    tw_put(&p, 0, 8);
    tw_put(&p, 0, 8);
    tw_put(&p, 1u << 8, 8);
    tw_put(&p, 0, 8);
    tw_put(&p, 1, 8);
    tw_put(&p, 0, 8);
    tw_put(&p, 0, 8);
    assert_int_equal(p.len, RAFT_CONFIG_BYTES);
    assert_memory_equal(config, p.p, RAFT_CONFIG_BYTES);

    struct raft_message aer = msg_of(RAFT_MSG_APPEND_ENTRIES_REPLY, 6, 2, 1);
    aer.append_entries_reply.rejected_index = 10;
    aer.append_entries_reply.conflict_index = 8;
    aer.append_entries_reply.conflict_term = 5;
    aer.append_entries_reply.read_round = 0x1122334455667788u;
    p.len = 0;
    tw_raft_head(&p, &aer);
    tw_put(&p, 0, 1);                   /* success, offset 17 */
    tw_put(&p, 0, 8);                   /* match_index, 18 */
    tw_put(&p, 10, 8);                  /* rejected_index, 26 */
    tw_put(&p, 8, 8);                   /* conflict_index, 34 */
    tw_put(&p, 5, 8);                   /* conflict_term, 42 */
    tw_put(&p, 0x1122334455667788u, 8); /* read_round, 50 */
    assert_int_equal(p.len, 17 + 41);
    assert_frame_is(&(struct wire_frame){.kind = WIRE_KIND_RAFT_MESSAGE, .raft = aer}, &p);

    struct raft_message ri = msg_of(RAFT_MSG_READ_INDEX, 6, 3, 1);
    ri.read_index.id = 0xa1a2a3a4a5a6a7a8u;
    p.len = 0;
    tw_raft_head(&p, &ri);
    tw_put(&p, 0xa1a2a3a4a5a6a7a8u, 8); /* id, offset 17 */
    assert_int_equal(p.len, 17 + 8);
    assert_frame_is(&(struct wire_frame){.kind = WIRE_KIND_RAFT_MESSAGE, .raft = ri}, &p);

    struct raft_message rir = msg_of(RAFT_MSG_READ_INDEX_REPLY, 6, 1, 3);
    rir.read_index_reply.id = 0xa1a2a3a4a5a6a7a8u;
    rir.read_index_reply.index = 1234;
    rir.read_index_reply.ok = true;
    p.len = 0;
    tw_raft_head(&p, &rir);
    tw_put(&p, 0xa1a2a3a4a5a6a7a8u, 8); /* id, offset 17 */
    tw_put(&p, 1234, 8);                /* index, 25 */
    tw_put(&p, 1, 1);                   /* ok, 33 */
    assert_int_equal(p.len, 17 + 17);
    assert_frame_is(&(struct wire_frame){.kind = WIRE_KIND_RAFT_MESSAGE, .raft = rir}, &p);

    static const uint8_t command[] = "get k";
    struct wire_client_request req = {
        .request_id = 0x0807060504030201u, .command = command, .command_len = 5, .read = 2};
    p.len = 0;
    tw_put(&p, 0x0807060504030201u, 8); /* request_id, offset 0 */
    tw_put(&p, WIRE_READ_FOLLOWER, 1);  /* read, 8 */
    tw_put(&p, 5, 4);                   /* command_len, 9 */
    tw_put_bytes(&p, command, 5);       /* command, 13 */
    assert_frame_is(&(struct wire_frame){.kind = WIRE_KIND_CLIENT_REQUEST, .client_request = req},
                    &p);
    free(p.p);
}

/* One entry of RAFT_MAX_ENTRY_BYTES, and one command entry of 0 bytes. */
static void large_and_empty_entries_round_trip(void **state)
{
    (void)state;
    struct raft_message m = msg_of(RAFT_MSG_APPEND_ENTRIES, 2, 1, 2);
    uint8_t *big = xmalloc(RAFT_MAX_ENTRY_BYTES);
    for (size_t i = 0; i < RAFT_MAX_ENTRY_BYTES; i++)
        big[i] = (uint8_t)(i ^ (i >> 8));
    struct raft_entry e[2] = {
        {.term = 2, .type = RAFT_ENTRY_COMMAND, .len = RAFT_MAX_ENTRY_BYTES, .data = big},
        {.term = 2, .type = RAFT_ENTRY_COMMAND, .len = 0, .data = NULL},
    };
    m.append_entries.n_entries = 2;
    m.append_entries.entries = e;
    assert_int_equal(wire_raft_message_size(&m),
                     WIRE_HEADER_BYTES + 17 + 36 + 2 * 13 + RAFT_MAX_ENTRY_BYTES);
    round_trip_raft(&m);
    free(big);
}

/* A decoded AppendEntries owns one block laid out as raft_message_copy() lays it out: the
 * entries, then each entry's data in order; raft_message_free() releases it. */
static void decoded_entries_are_one_block(void **state)
{
    (void)state;
    struct raft_message m = append_entries(9, 20);
    size_t len;
    struct wire_frame in = {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = m};
    uint8_t *buf = encode(&in, &len);
    struct wire_frame out;
    decode_one(buf, len, &out);
    const struct raft_append_entries *ae = &out.raft.append_entries;
    const uint8_t *data = (const uint8_t *)ae->entries + 9 * sizeof(struct raft_entry);
    for (uint32_t i = 0; i < ae->n_entries; i++) {
        if (ae->entries[i].len == 0) {
            assert_null(ae->entries[i].data);
            continue;
        }
        assert_ptr_equal(ae->entries[i].data, data);
        data += ae->entries[i].len;
    }
    struct raft_message moved = out.raft; /* moved out of the frame: the host's now */
    raft_message_free(&moved);
    assert_null(moved.append_entries.entries);
    raft_message_free(&m);
    free(buf);
}

/* A decoded, valid message is fit for raft_message_validate() and so for raft_step(). */
static void decoded_message_validates(void **state)
{
    (void)state;
    struct raft_message m = append_entries(3, 10);
    m.term = 5;
    size_t len;
    struct wire_frame in = {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = m};
    uint8_t *buf = encode(&in, &len);
    struct wire_frame out;
    decode_one(buf, len, &out);
    out.raft.from = 2;
    const char *why = NULL;
    assert_int_equal(raft_message_validate(&out.raft, 1, 3, &why), RAFT_OK);
    wire_frame_free(&out);
    raft_message_free(&m);
    free(buf);
}

/* Client requests with empty, short and large commands and every read policy round-trip,
 * re-encode to the same bytes and own their bytes. */
static void client_request_round_trip(void **state)
{
    (void)state;
    static const uint32_t lens[] = {0, 1, 77, 1u << 20};
    uint8_t *cmd = xmalloc(1u << 20);
    for (size_t i = 0; i < 1u << 20; i++)
        cmd[i] = (uint8_t)(i * 5);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        for (uint8_t read = 0; read < WIRE_READ_POLICIES; read++) {
            struct wire_client_request req = {.request_id = UINT64_MAX - i,
                                              .command = lens[i] ? cmd : NULL,
                                              .command_len = lens[i],
                                              .read = read};
            struct wire_frame in = {.kind = WIRE_KIND_CLIENT_REQUEST, .client_request = req};
            size_t len;
            uint8_t *buf = encode(&in, &len);
            assert_int_equal(len, wire_client_request_size(&req));
            assert_int_equal(len, WIRE_HEADER_BYTES + 13 + lens[i]);
            struct wire_frame out;
            decode_one(buf, len, &out);
            size_t len2;
            uint8_t *again = encode(&out, &len2);
            assert_int_equal(len2, len);
            assert_memory_equal(again, buf, len);
            memset(buf, 0, len); /* the decoded request does not point into the buffer */
            assert_int_equal(out.kind, WIRE_KIND_CLIENT_REQUEST);
            assert_int_equal(out.client_request.request_id, req.request_id);
            assert_int_equal(out.client_request.read, read);
            assert_int_equal(out.client_request.command_len, lens[i]);
            if (lens[i] > 0)
                assert_memory_equal(out.client_request.command, cmd, lens[i]);
            else
                assert_null(out.client_request.command);
            wire_frame_free(&out);
            free(again);
            free(buf);
        }
    free(cmd);
}

/* The read policies the wire accepts are exactly kv.h's: every value of the byte below
 * KV_READ_POLICIES encodes and decodes, every other is WIRE_EREAD both ways (sized 0). */
static void read_policies_are_kv_ones(void **state)
{
    (void)state;
    for (unsigned v = 0; v <= UINT8_MAX; v++) {
        bool known = v < KV_READ_POLICIES;
        struct wire_client_request req = {.request_id = 1, .read = (uint8_t)v};
        uint8_t buf[64];
        size_t len = 0;
        assert_int_equal(wire_encode_client_request(&req, buf, sizeof buf, &len),
                         known ? WIRE_OK : WIRE_EREAD);
        assert_int_equal(wire_client_request_size(&req), known ? WIRE_HEADER_BYTES + 13 : 0);
        struct tw_bytes p = {0};
        tw_put(&p, 1, 8);
        tw_put(&p, v, 1);
        tw_put(&p, 0, 4);
        struct tw_bytes frame = {0};
        tw_frame(&frame, WIRE_KIND_CLIENT_REQUEST, p.p, p.len);
        if (known) /* the encoder wrote exactly the hand-built frame */
            assert_memory_equal(buf, frame.p, frame.len);
        struct wire_frame out;
        size_t consumed;
        int rc = wire_decode(frame.p, frame.len, &out, &consumed, NULL);
        assert_int_equal(rc, known ? WIRE_OK : WIRE_EREAD);
        if (known) {
            assert_int_equal(out.client_request.read, v);
            wire_frame_free(&out);
        }
        free(frame.p);
        free(p.p);
    }
}

/* Client replies of every status, with and without a result and a leader hint. */
static void client_reply_round_trip(void **state)
{
    (void)state;
    static const uint8_t result[] = {1, 0, 0, 0, 9, 8, 7};
    for (int status = WIRE_REPLY_OK; status <= WIRE_REPLY_REJECTED; status++)
        for (uint32_t hint = 0; hint <= RAFT_MAX_NODES; hint += RAFT_MAX_NODES) {
            struct wire_client_reply rep = {
                .status = (enum wire_reply_status)status,
                .leader_hint = hint,
                .index = 12,
                .term = UINT64_MAX,
                .request_id = 0x1122334455667788u,
                .result = status == WIRE_REPLY_OK ? result : NULL,
                .result_len = status == WIRE_REPLY_OK ? sizeof result : 0,
            };
            struct wire_frame in = {.kind = WIRE_KIND_CLIENT_REPLY, .client_reply = rep};
            size_t len;
            uint8_t *buf = encode(&in, &len);
            assert_int_equal(len, wire_client_reply_size(&rep));
            struct wire_frame out;
            decode_one(buf, len, &out);
            assert_int_equal(out.kind, WIRE_KIND_CLIENT_REPLY);
            const struct wire_client_reply *got = &out.client_reply;
            assert_int_equal(got->status, rep.status);
            assert_int_equal(got->leader_hint, hint);
            assert_int_equal(got->index, rep.index);
            assert_int_equal(got->term, rep.term);
            assert_int_equal(got->request_id, rep.request_id);
            assert_int_equal(got->result_len, rep.result_len);
            if (rep.result_len > 0)
                assert_memory_equal(got->result, result, sizeof result);
            wire_frame_free(&out);
            free(buf);
        }
}

/* --- the encoder's refusals ------------------------------------------------------------------ */

/* The encoder refuses what the decoder would refuse, with the same code, and sizes it 0. */
static void encoder_refuses_what_decoder_refuses(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t len = 7;
    struct raft_message m = msg_of(RAFT_MSG_COMMIT_NOTIFY, 1, 0, 2);
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_ENODE);
    assert_int_equal(wire_raft_message_size(&m), 0);
    m = msg_of(RAFT_MSG_COMMIT_NOTIFY, 1, 1, RAFT_MAX_NODES + 1);
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_ENODE);
    m = msg_of((enum raft_msg_type)(RAFT_MSG_TIMEOUT_NOW + 1), 1, 1, 2);
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_EMSG_TYPE);
    assert_int_equal(wire_raft_message_size(&m), 0);
    m = msg_of(RAFT_MSG_INSTALL_SNAPSHOT, 1, 1, 2);
    m.install_snapshot.len = RAFT_MAX_SNAPSHOT_CHUNK + 1;
    m.install_snapshot.data = buf;
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_ECHUNK);
    m.install_snapshot.len = 1;
    m.install_snapshot.data = NULL;
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_EINVAL);
    m = msg_of((enum raft_msg_type)0, 1, 1, 2);
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_EMSG_TYPE);

    struct raft_entry e = {.term = 1, .type = RAFT_ENTRY_COMMAND, .len = 1, .data = buf};
    m = msg_of(RAFT_MSG_APPEND_ENTRIES, 1, 1, 2);
    m.append_entries.n_entries = 1;
    m.append_entries.entries = &e;
    e.type = (enum raft_entry_type)(RAFT_ENTRY_CONFIG + 1);
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_EENTRY_TYPE);
    e.type = RAFT_ENTRY_COMMAND;
    e.len = RAFT_MAX_ENTRY_BYTES + 1;
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_EENTRY_LEN);
    e.len = 1;
    e.data = NULL;
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_EINVAL);
    m.append_entries.entries = NULL;
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_EINVAL);
    m.append_entries.n_entries = RAFT_MAX_BATCH_ENTRIES + 1;
    assert_int_equal(wire_encode_raft_message(&m, buf, sizeof buf, &len), WIRE_ECOUNT);

    struct wire_client_reply rep = {.status = (enum wire_reply_status)4};
    assert_int_equal(wire_encode_client_reply(&rep, buf, sizeof buf, &len), WIRE_ESTATUS);
    rep.status = WIRE_REPLY_NOT_LEADER;
    rep.leader_hint = RAFT_MAX_NODES + 1;
    assert_int_equal(wire_encode_client_reply(&rep, buf, sizeof buf, &len), WIRE_ENODE);
    rep.leader_hint = 0;
    rep.result_len = 3;
    assert_int_equal(wire_encode_client_reply(&rep, buf, sizeof buf, &len), WIRE_EINVAL);
    struct wire_client_request req = {.command_len = 1};
    assert_int_equal(wire_encode_client_request(&req, buf, sizeof buf, &len), WIRE_EINVAL);
    req = (struct wire_client_request){.read = WIRE_READ_POLICIES};
    assert_int_equal(wire_encode_client_request(&req, buf, sizeof buf, &len), WIRE_EREAD);
    assert_int_equal(wire_client_request_size(&req), 0);
    req.read = UINT8_MAX;
    assert_int_equal(wire_encode_client_request(&req, buf, sizeof buf, &len), WIRE_EREAD);
    req.command_len = 1; /* the decoder's order: the read policy comes first */
    assert_int_equal(wire_encode_client_request(&req, buf, sizeof buf, &len), WIRE_EREAD);
    struct wire_frame f = {.kind = (enum wire_kind)4};
    assert_int_equal(wire_encode_frame(&f, buf, sizeof buf, &len), WIRE_EKIND);
    assert_int_equal(wire_frame_size(&f), 0);
    assert_int_equal(len, 7);
}

/* A message that would make a frame above WIRE_MAX_FRAME_BYTES is sized but not encoded. */
static void encoder_refuses_oversized_frame(void **state)
{
    (void)state;
    uint8_t *big = xcalloc(RAFT_MAX_ENTRY_BYTES, 1);
    struct raft_entry e[4];
    for (int i = 0; i < 4; i++)
        e[i] = (struct raft_entry){
            .term = 1, .type = RAFT_ENTRY_COMMAND, .len = RAFT_MAX_ENTRY_BYTES, .data = big};
    struct raft_message m = msg_of(RAFT_MSG_APPEND_ENTRIES, 1, 1, 2);
    m.append_entries.n_entries = 4;
    m.append_entries.entries = e;
    size_t size = wire_raft_message_size(&m);
    assert_int_equal(size, WIRE_HEADER_BYTES + 17 + 36 + 4 * (13 + (size_t)RAFT_MAX_ENTRY_BYTES));
    assert_true(size > WIRE_MAX_FRAME_BYTES);
    size_t len = 0;
    assert_int_equal(wire_encode_raft_message(&m, big, RAFT_MAX_ENTRY_BYTES, &len), WIRE_ETOOLARGE);
    free(big);
}

/* --- streams, truncation and flipped bits ---------------------------------------------------- */

/* The most frames sample_frames() returns. */
#define MAX_SAMPLES 9

/* A few frames of every kind, for the stream tests; *n (at most MAX_SAMPLES) is how many. */
static uint8_t **sample_frames(size_t *lens, size_t *n)
{
    static const uint8_t command[] = "put x 1";
    static const uint8_t result[] = {0, 1, 2};
    struct raft_message rv = msg_of(RAFT_MSG_REQUEST_VOTE, 4, 3, 1);
    rv.request_vote.last_log_index = 10;
    rv.request_vote.last_log_term = 3;
    rv.request_vote.transfer = true;
    struct raft_message tn = msg_of(RAFT_MSG_TIMEOUT_NOW, 4, 1, 3);
    struct raft_message ae = append_entries(3, 9);
    struct raft_message aer = msg_of(RAFT_MSG_APPEND_ENTRIES_REPLY, 4, 1, 3);
    aer.append_entries_reply.success = true;
    aer.append_entries_reply.match_index = 10;
    aer.append_entries_reply.read_round = 0x8877665544332211u;
    struct raft_message ri = msg_of(RAFT_MSG_READ_INDEX, 4, 2, 3);
    ri.read_index.id = 6;
    struct raft_message rir = msg_of(RAFT_MSG_READ_INDEX_REPLY, 4, 3, 2);
    rir.read_index_reply.id = 6;
    rir.read_index_reply.index = 10;
    rir.read_index_reply.ok = true;
    struct wire_frame frames[] = {
        {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = rv},
        {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = tn},
        {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = ae},
        {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = aer},
        {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = ri},
        {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = rir},
        {.kind = WIRE_KIND_CLIENT_REQUEST,
         .client_request = {.request_id = 5, .command = command, .command_len = 7}},
        {.kind = WIRE_KIND_CLIENT_REQUEST,
         .client_request =
             {.request_id = 6, .command = command, .command_len = 5, .read = WIRE_READ_LOG}},
        {.kind = WIRE_KIND_CLIENT_REPLY,
         .client_reply = {.status = WIRE_REPLY_OK,
                          .leader_hint = 1,
                          .index = 9,
                          .term = 4,
                          .request_id = 5,
                          .result = result,
                          .result_len = 3}},
    };
    *n = sizeof frames / sizeof frames[0];
    assert_true(*n <= MAX_SAMPLES);
    uint8_t **bufs = xcalloc(*n, sizeof *bufs);
    for (size_t i = 0; i < *n; i++)
        bufs[i] = encode(&frames[i], &lens[i]);
    raft_message_free(&ae);
    return bufs;
}

static void free_frames(uint8_t **bufs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
    free(bufs);
}

/* Every proper prefix of a frame (the empty one included) asks for more bytes, says how many
 * it needs at least (exactly the rest once the header is in), and yields no frame. */
static void every_truncation_needs_more(void **state)
{
    (void)state;
    size_t lens[MAX_SAMPLES], n;
    uint8_t **bufs = sample_frames(lens, &n);
    for (size_t f = 0; f < n; f++)
        for (size_t cut = 0; cut < lens[f]; cut++) {
            uint8_t *part = xmalloc(cut + 1); /* exactly cut bytes are readable under ASan */
            memcpy(part, bufs[f], cut);
            struct wire_frame out;
            size_t consumed = 99, needed = 0;
            assert_int_equal(wire_decode(part, cut, &out, &consumed, &needed), WIRE_EAGAIN);
            assert_int_equal(consumed, 0);
            assert_int_equal(out.kind, 0);
            size_t want = cut < WIRE_HEADER_BYTES ? WIRE_HEADER_BYTES - cut : lens[f] - cut;
            assert_int_equal(needed, want);
            assert_int_equal(wire_decode(part, cut, &out, &consumed, NULL), WIRE_EAGAIN);
            free(part);
        }
    struct wire_frame out;
    size_t consumed, needed;
    assert_int_equal(wire_decode(NULL, 0, &out, &consumed, &needed), WIRE_EAGAIN);
    assert_int_equal(needed, WIRE_HEADER_BYTES);
    free_frames(bufs, n);
}

/* Every single-bit flip of a frame is refused by a header or checksum check, never decoded and
 * never taken for a partial frame. */
static void every_bit_flip_refused(void **state)
{
    (void)state;
    size_t lens[MAX_SAMPLES], n;
    uint8_t **bufs = sample_frames(lens, &n);
    for (size_t f = 0; f < n; f++)
        for (size_t bit = 0; bit < 8 * lens[f]; bit++) {
            bufs[f][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            struct wire_frame out;
            size_t consumed = 99;
            int rc = wire_decode(bufs[f], lens[f], &out, &consumed, NULL);
            if (rc != WIRE_EVERSION && rc != WIRE_EHEADER_CRC && rc != WIRE_ECRC)
                fail_msg("frame %zu, bit %zu: %s", f, bit, wire_strerror(rc));
            assert_int_equal(consumed, 0);
            bufs[f][bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    free_frames(bufs, n);
}

/* Frames back to back in one buffer decode one after another, each consuming its own bytes,
 * and a partial frame at the end asks for more. */
static void back_to_back_frames(void **state)
{
    (void)state;
    size_t lens[MAX_SAMPLES], n;
    uint8_t **bufs = sample_frames(lens, &n);
    struct tw_bytes stream = {0};
    for (size_t f = 0; f < n; f++)
        tw_put_bytes(&stream, bufs[f], lens[f]);
    tw_put_bytes(&stream, bufs[0], lens[0] - 1);
    size_t at = 0;
    for (size_t f = 0; f < n; f++) {
        struct wire_frame out;
        size_t consumed = 0;
        assert_int_equal(wire_decode(stream.p + at, stream.len - at, &out, &consumed, NULL),
                         WIRE_OK);
        assert_int_equal(consumed, lens[f]);
        size_t len;
        uint8_t *again = encode(&out, &len); /* the same frame, byte for byte */
        assert_int_equal(len, lens[f]);
        assert_memory_equal(again, bufs[f], len);
        free(again);
        wire_frame_free(&out);
        at += consumed;
    }
    struct wire_frame out;
    size_t consumed = 9, needed = 0;
    assert_int_equal(wire_decode(stream.p + at, stream.len - at, &out, &consumed, &needed),
                     WIRE_EAGAIN);
    assert_int_equal(consumed, 0);
    assert_int_equal(needed, 1);
    free(stream.p);
    free_frames(bufs, n);
}

/* Every code has its own name; unknown codes have a generic one. */
static void every_error_has_a_name(void **state)
{
    (void)state;
    for (int a = WIRE_OK; a <= WIRE_EREAD; a++) {
        assert_string_not_equal(wire_strerror(a), "unknown wire error");
        for (int b = WIRE_OK; b < a; b++)
            assert_string_not_equal(wire_strerror(a), wire_strerror(b));
    }
    assert_string_equal(wire_strerror(WIRE_EREAD), "read policy out of range");
    assert_string_equal(wire_strerror(WIRE_EREAD + 1), "unknown wire error");
    assert_string_equal(wire_strerror(-1), "unknown wire error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(votes_round_trip),
        cmocka_unit_test(replies_and_notify_round_trip),
        cmocka_unit_test(append_entries_round_trip),
        cmocka_unit_test(read_index_round_trip),
        cmocka_unit_test(timeout_now_round_trip),
        cmocka_unit_test(config_entry_round_trip),
        cmocka_unit_test(every_message_type_round_trips),
        cmocka_unit_test(layouts_are_the_documented_ones),
        cmocka_unit_test(install_snapshot_round_trip),
        cmocka_unit_test(large_and_empty_entries_round_trip),
        cmocka_unit_test(decoded_entries_are_one_block),
        cmocka_unit_test(decoded_message_validates),
        cmocka_unit_test(client_request_round_trip),
        cmocka_unit_test(read_policies_are_kv_ones),
        cmocka_unit_test(client_reply_round_trip),
        cmocka_unit_test(encoder_refuses_what_decoder_refuses),
        cmocka_unit_test(encoder_refuses_oversized_frame),
        cmocka_unit_test(every_truncation_needs_more),
        cmocka_unit_test(every_bit_flip_refused),
        cmocka_unit_test(back_to_back_frames),
        cmocka_unit_test(every_error_has_a_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
