/* test_wire_malformed.c - every refusal of the wire decoder, each reached by a frame built by
 * hand with correct checksums (test_wire.h), so the header and payload checks themselves are
 * tested, not the CRC in front of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test/unit/test_wire.h"

_Static_assert(WIRE_VERSION == 3, "these frames are built by hand from docs/wire.md, version 3");

/* Decodes the whole of b, expecting code; checks that nothing is returned with a refusal (and
 * that WIRE_OK consumes all of b). */
static void expect(const struct tw_bytes *b, int code)
{
    struct wire_frame out;
    size_t consumed = 99, needed = 99;
    int rc = wire_decode(b->p, b->len, &out, &consumed, &needed);
    if (rc != code)
        fail_msg("expected \"%s\", got \"%s\"", wire_strerror(code), wire_strerror(rc));
    if (code == WIRE_OK) {
        assert_int_equal(consumed, b->len);
        wire_frame_free(&out);
        return;
    }
    assert_int_equal(consumed, 0);
    assert_int_equal(needed, 0);
    assert_int_equal(out.kind, 0);
}

/* Wraps payload p in a well-checksummed frame of kind and expects code. */
static void expect_payload(uint8_t kind, const struct tw_bytes *p, int code)
{
    struct tw_bytes frame = {0};
    tw_frame(&frame, kind, p->p, p->len);
    expect(&frame, code);
    free(frame.p);
}

/* The Raft message prefix: type, term, from, to. */
static void raft_head(struct tw_bytes *p, uint64_t type, uint64_t from, uint64_t to)
{
    tw_put(p, type, 1);
    tw_put(p, 7, 8);
    tw_put(p, from, 4);
    tw_put(p, to, 4);
}

/* An AppendEntries up to and including its entry count. */
static void append_entries_head(struct tw_bytes *p, uint64_t n_entries)
{
    raft_head(p, RAFT_MSG_APPEND_ENTRIES, 1, 2);
    tw_put(p, 5, 8);
    tw_put(p, 4, 8);
    tw_put(p, 3, 8);
    tw_put(p, 2, 8); /* read_round */
    tw_put(p, n_entries, 4);
}

static void entry(struct tw_bytes *p, uint64_t type, uint64_t len, size_t data_bytes)
{
    tw_put(p, 4, 8);
    tw_put(p, type, 1);
    tw_put(p, len, 4);
    for (size_t i = 0; i < data_bytes; i++)
        tw_put(p, i, 1);
}

/* --- the header ------------------------------------------------------------------------------ */

/* A length field shorter than the rest of the header is refused. */
static void length_below_header_refused(void **state)
{
    (void)state;
    for (uint32_t length = 0; length < 12; length++) {
        struct tw_bytes b = {0};
        tw_header(&b, length, WIRE_VERSION, WIRE_KIND_CLIENT_REQUEST, 0, 0);
        expect(&b, WIRE_ELENGTH);
        free(b.p);
    }
}

/* A length above the maximum is refused from the 16 header bytes alone: the decoder has no
 * payload to read and allocates nothing; exactly the maximum is a frame to wait for. */
static void length_above_maximum_refused(void **state)
{
    (void)state;
    static const uint32_t lengths[] = {WIRE_MAX_FRAME_BYTES - 4 + 1, WIRE_MAX_FRAME_BYTES,
                                       UINT32_MAX};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        struct tw_bytes b = {0};
        tw_header(&b, lengths[i], WIRE_VERSION, WIRE_KIND_RAFT_MESSAGE, 0, 0);
        expect(&b, WIRE_ETOOLARGE);
        free(b.p);
    }
    struct tw_bytes b = {0};
    tw_header(&b, WIRE_MAX_FRAME_BYTES - 4, WIRE_VERSION, WIRE_KIND_RAFT_MESSAGE, 0, 0);
    struct wire_frame out;
    size_t consumed, needed;
    assert_int_equal(wire_decode(b.p, b.len, &out, &consumed, &needed), WIRE_EAGAIN);
    assert_int_equal(needed, WIRE_MAX_FRAME_BYTES - WIRE_HEADER_BYTES);
    free(b.p);
}

/* A version other than 3 is refused, whatever its header CRC. */
static void unknown_version_refused(void **state)
{
    (void)state;
    static const uint8_t versions[] = {0, 1, 2, 4, 255};
    for (size_t i = 0; i < sizeof versions; i++) {
        struct tw_bytes b = {0};
        tw_header(&b, 12, versions[i], WIRE_KIND_CLIENT_REQUEST, 0, 0);
        expect(&b, WIRE_EVERSION);
        free(b.p);
    }
}

/* A whole, well-checksummed version 1 frame (a version 1 AppendEntries, without read_round) is
 * refused at its version byte, as soon as its header is in; and its payload, sealed in a version 3
 * frame, does not pass for a version 3 one (read_round is missing). */
static void version_1_frame_refused(void **state)
{
    (void)state;
    struct tw_bytes p = {0};
    raft_head(&p, RAFT_MSG_APPEND_ENTRIES, 1, 2);
    tw_put(&p, 5, 8); /* prev_log_index */
    tw_put(&p, 4, 8); /* prev_log_term */
    tw_put(&p, 3, 8); /* leader_commit */
    tw_put(&p, 0, 4); /* n_entries: a heartbeat */
    struct tw_bytes b = {0};
    tw_header(&b, (uint32_t)(12 + p.len), 1, WIRE_KIND_RAFT_MESSAGE, 0, crc32c(0, p.p, p.len));
    expect(&b, WIRE_EVERSION); /* the header alone */
    tw_put_bytes(&b, p.p, p.len);
    expect(&b, WIRE_EVERSION); /* the whole frame */
    expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_ETRUNCATED);
    free(b.p);
    free(p.p);
}

/* A whole, well-checksummed version 2 frame (a RequestVote without the transfer byte) is refused
 * at its version byte, as soon as its header is in; its payload, sealed in a version 3 frame, is
 * one byte short. */
static void version_2_frame_refused(void **state)
{
    (void)state;
    struct tw_bytes p = {0};
    raft_head(&p, RAFT_MSG_REQUEST_VOTE, 1, 2);
    tw_put(&p, 5, 8); /* last_log_index */
    tw_put(&p, 4, 8); /* last_log_term */
    tw_put(&p, 0, 1); /* pre_vote, and no transfer after it */
    struct tw_bytes b = {0};
    tw_header(&b, (uint32_t)(12 + p.len), 2, WIRE_KIND_RAFT_MESSAGE, 0, crc32c(0, p.p, p.len));
    expect(&b, WIRE_EVERSION); /* the header alone */
    tw_put_bytes(&b, p.p, p.len);
    expect(&b, WIRE_EVERSION); /* the whole frame */
    expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_ETRUNCATED);
    tw_put(&p, 0, 1); /* transfer: now a version 3 RequestVote */
    expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_OK);
    free(b.p);
    free(p.p);
}

/* A header whose checksum does not match is refused before its length is believed. */
static void header_crc_mismatch_refused(void **state)
{
    (void)state;
    struct tw_bytes b = {0};
    tw_header(&b, UINT32_MAX, WIRE_VERSION, WIRE_KIND_CLIENT_REQUEST, 0, 0);
    b.p[12] ^= 1;
    expect(&b, WIRE_EHEADER_CRC);
    free(b.p);
}

/* Any nonzero flags are refused. */
static void nonzero_flags_refused(void **state)
{
    (void)state;
    static const uint16_t flags[] = {1, 0x8000, 0xffff};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        struct tw_bytes b = {0};
        tw_header(&b, 12, WIRE_VERSION, WIRE_KIND_CLIENT_REQUEST, flags[i], 0);
        expect(&b, WIRE_EFLAGS);
        free(b.p);
    }
}

/* A kind other than 1..3 is refused. */
static void unknown_kind_refused(void **state)
{
    (void)state;
    static const uint8_t kinds[] = {0, 4, 255};
    for (size_t i = 0; i < sizeof kinds; i++) {
        struct tw_bytes b = {0};
        tw_header(&b, 12, WIRE_VERSION, kinds[i], 0, 0);
        expect(&b, WIRE_EKIND);
        free(b.p);
    }
}

/* A payload whose checksum does not match is refused. */
static void payload_crc_mismatch_refused(void **state)
{
    (void)state;
    struct tw_bytes b = {0};
    tw_header(&b, 12 + 12, WIRE_VERSION, WIRE_KIND_CLIENT_REQUEST, 0, 0x12345678);
    tw_put(&b, 1, 8);
    tw_put(&b, 0, 4);
    expect(&b, WIRE_ECRC);
    free(b.p);
}

/* --- Raft message payloads ------------------------------------------------------------------- */

/* Message types other than 1..10 are refused. */
static void raft_type_out_of_range_refused(void **state)
{
    (void)state;
    static const uint8_t types[] = {0, 11, 255};
    for (size_t i = 0; i < sizeof types; i++) {
        struct tw_bytes p = {0};
        raft_head(&p, types[i], 1, 2);
        tw_put(&p, 0, 8);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_EMSG_TYPE);
        free(p.p);
    }
}

/* A sender or receiver of 0, or above RAFT_MAX_NODES, is refused. */
static void raft_node_id_out_of_range_refused(void **state)
{
    (void)state;
    static const uint32_t ids[][2] = {{0, 1}, {1, 0}, {0, 0}, {256, 1}, {1, UINT32_MAX}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct tw_bytes p = {0};
        raft_head(&p, RAFT_MSG_COMMIT_NOTIFY, ids[i][0], ids[i][1]);
        tw_put(&p, 3, 8);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_ENODE);
        free(p.p);
    }
}

/* The well-formed payload of each message type. */
static void raft_payload_of_type(struct tw_bytes *p, enum raft_msg_type type)
{
    raft_head(p, type, 1, 2);
    switch (type) {
    case RAFT_MSG_REQUEST_VOTE:
        tw_put(p, 1, 8);
        tw_put(p, 1, 8);
        tw_put(p, 0, 1);
        tw_put(p, 1, 1); /* transfer */
        break;
    case RAFT_MSG_REQUEST_VOTE_REPLY:
        tw_put(p, 1, 1);
        tw_put(p, 1, 1);
        break;
    case RAFT_MSG_APPEND_ENTRIES:
        tw_put(p, 2, 8);
        tw_put(p, 1, 8);
        tw_put(p, 2, 8);
        tw_put(p, 7, 8); /* read_round */
        tw_put(p, 1, 4);
        entry(p, RAFT_ENTRY_COMMAND, 3, 3);
        break;
    case RAFT_MSG_APPEND_ENTRIES_REPLY:
        tw_put(p, 1, 1);
        tw_put(p, 9, 8);
        tw_put(p, 0, 8);
        tw_put(p, 0, 8);
        tw_put(p, 0, 8);
        tw_put(p, 7, 8); /* read_round */
        break;
    case RAFT_MSG_COMMIT_NOTIFY:
        tw_put(p, 9, 8);
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT:
        tw_put(p, 9, 8);
        tw_put(p, 1, 8);
        tw_put(p, 10, 8);
        tw_put(p, 4, 8);
        tw_put(p, 2, 4);
        tw_put(p, 0xabcd, 2);
        break;
    case RAFT_MSG_INSTALL_SNAPSHOT_REPLY:
        tw_put(p, 9, 8);
        tw_put(p, 6, 8);
        tw_put(p, 1, 1);
        break;
    case RAFT_MSG_READ_INDEX:
        tw_put(p, 5, 8);
        break;
    case RAFT_MSG_READ_INDEX_REPLY:
        tw_put(p, 5, 8);
        tw_put(p, 9, 8);
        tw_put(p, 1, 1);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        break;
    }
}

/* Each type's payload (TimeoutNow's, with no body, RequestVote's transfer byte, ReadIndex and its
 * reply, and the read_round of AppendEntries and its reply included) decodes whole, is refused as
 * truncated one byte (or any number of bytes) short, and as trailing one byte long. */
static void raft_truncated_and_trailing_refused(void **state)
{
    (void)state;
    for (int type = RAFT_MSG_REQUEST_VOTE; type <= RAFT_MSG_TIMEOUT_NOW; type++) {
        struct tw_bytes p = {0};
        raft_payload_of_type(&p, (enum raft_msg_type)type);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_OK);
        size_t whole = p.len;
        for (size_t cut = 1; cut <= whole; cut++) {
            p.len = whole - cut;
            /* an empty payload has no type byte: truncated too */
            expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_ETRUNCATED);
        }
        p.len = whole;
        tw_put(&p, 0, 1);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_ETRAILING);
        free(p.p);
    }
}

/* A boolean byte of 2 (or 255) is refused in each message that has one. */
static void raft_bool_not_0_or_1_refused(void **state)
{
    (void)state;
    static const uint8_t bad[] = {2, 255};
    for (size_t i = 0; i < sizeof bad; i++) {
        struct tw_bytes p = {0};
        raft_head(&p, RAFT_MSG_REQUEST_VOTE, 1, 2);
        tw_put(&p, 1, 8);
        tw_put(&p, 1, 8);
        tw_put(&p, bad[i], 1); /* pre_vote */
        tw_put(&p, 0, 1);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_EBOOL);
        p.len -= 2;
        tw_put(&p, 0, 1);
        tw_put(&p, bad[i], 1); /* transfer */
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_EBOOL);
        p.len = 0;
        raft_head(&p, RAFT_MSG_REQUEST_VOTE_REPLY, 1, 2);
        tw_put(&p, 1, 1);
        tw_put(&p, bad[i], 1);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_EBOOL);
        p.len = 0;
        raft_head(&p, RAFT_MSG_APPEND_ENTRIES_REPLY, 1, 2);
        tw_put(&p, bad[i], 1);
        for (int k = 0; k < 5; k++)
            tw_put(&p, 0, 8);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_EBOOL);
        p.len = 0;
        raft_head(&p, RAFT_MSG_INSTALL_SNAPSHOT_REPLY, 1, 2);
        tw_put(&p, 9, 8);
        tw_put(&p, 6, 8);
        tw_put(&p, bad[i], 1);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_EBOOL);
        p.len = 0;
        raft_head(&p, RAFT_MSG_READ_INDEX_REPLY, 1, 2);
        tw_put(&p, 5, 8);
        tw_put(&p, 9, 8);
        tw_put(&p, bad[i], 1);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_EBOOL);
        free(p.p);
    }
}

/* An entry count above RAFT_MAX_BATCH_ENTRIES is refused before any entry is read. */
static void entry_count_above_maximum_refused(void **state)
{
    (void)state;
    static const uint32_t counts[] = {RAFT_MAX_BATCH_ENTRIES + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        struct tw_bytes p = {0};
        append_entries_head(&p, counts[i]);
        entry(&p, RAFT_ENTRY_NOOP, 0, 0);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_ECOUNT);
        free(p.p);
    }
}

/* An entry longer than RAFT_MAX_ENTRY_BYTES is refused before its data is looked for. */
static void entry_len_above_maximum_refused(void **state)
{
    (void)state;
    static const uint32_t lens[] = {RAFT_MAX_ENTRY_BYTES + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct tw_bytes p = {0};
        append_entries_head(&p, 2);
        entry(&p, RAFT_ENTRY_COMMAND, 2, 2);
        entry(&p, RAFT_ENTRY_COMMAND, lens[i], 4);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_EENTRY_LEN);
        free(p.p);
    }
}

/* A snapshot chunk longer than RAFT_MAX_SNAPSHOT_CHUNK is refused before its data is looked
 * for (WIRE_ECHUNK, not a truncation). */
static void snapshot_chunk_above_maximum_refused(void **state)
{
    (void)state;
    static const uint32_t lens[] = {RAFT_MAX_SNAPSHOT_CHUNK + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct tw_bytes p = {0};
        raft_head(&p, RAFT_MSG_INSTALL_SNAPSHOT, 1, 2);
        tw_put(&p, 9, 8);
        tw_put(&p, 1, 8);
        tw_put(&p, UINT64_MAX, 8);
        tw_put(&p, 0, 8);
        tw_put(&p, lens[i], 4);
        tw_put(&p, 0, 8);
        expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_ECHUNK);
        free(p.p);
    }
}

/* An entry type other than NOOP (1), COMMAND (2) or CONFIG (3) is refused, in any position. */
static void entry_type_unknown_refused(void **state)
{
    (void)state;
    static const uint8_t types[] = {0, 4, 255};
    for (size_t i = 0; i < sizeof types; i++)
        for (size_t pos = 0; pos < 3; pos++) {
            struct tw_bytes p = {0};
            append_entries_head(&p, 3);
            for (size_t j = 0; j < 3; j++)
                entry(&p, j == pos ? types[i] : RAFT_ENTRY_COMMAND, 1, 1);
            expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_EENTRY_TYPE);
            free(p.p);
        }
}

/* Entries of each known type, a configuration among them, decode; the codec does not look inside
 * an entry's data (a configuration's 64 bytes are raft_message_validate's to check). */
static void entry_types_1_to_3_accepted(void **state)
{
    (void)state;
    struct tw_bytes p = {0};
    append_entries_head(&p, 4);
    entry(&p, RAFT_ENTRY_NOOP, 0, 0);
    entry(&p, RAFT_ENTRY_COMMAND, 5, 5);
    entry(&p, RAFT_ENTRY_CONFIG, 64, 64);
    entry(&p, RAFT_ENTRY_CONFIG, 3, 3);
    expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_OK);
    free(p.p);
}

/* Fewer entries than counted, data shorter than an entry's len, and bytes after the last entry
 * are refused (and leave nothing allocated: the sanitizer runs check it). */
static void entries_truncated_or_trailing_refused(void **state)
{
    (void)state;
    struct tw_bytes p = {0};
    append_entries_head(&p, 3);
    entry(&p, RAFT_ENTRY_COMMAND, 4, 4);
    entry(&p, RAFT_ENTRY_NOOP, 0, 0);
    expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_ETRUNCATED);
    entry(&p, RAFT_ENTRY_COMMAND, 10, 9);
    expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_ETRUNCATED);
    tw_put(&p, 9, 1);
    expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_OK);
    tw_put(&p, 0, 1);
    expect_payload(WIRE_KIND_RAFT_MESSAGE, &p, WIRE_ETRAILING);
    free(p.p);
}

/* --- client payloads ------------------------------------------------------------------------- */

/* A request shorter than its fields or its command, or longer, is refused. */
static void client_request_truncated_or_trailing_refused(void **state)
{
    (void)state;
    struct tw_bytes p = {0};
    tw_put(&p, 42, 8);
    expect_payload(WIRE_KIND_CLIENT_REQUEST, &p, WIRE_ETRUNCATED);
    tw_put(&p, WIRE_READ_STALE, 1);
    expect_payload(WIRE_KIND_CLIENT_REQUEST, &p, WIRE_ETRUNCATED);
    tw_put(&p, 5, 2);
    expect_payload(WIRE_KIND_CLIENT_REQUEST, &p, WIRE_ETRUNCATED);
    p.len -= 2;
    tw_put(&p, 5, 4);
    tw_put_bytes(&p, "abcd", 4);
    expect_payload(WIRE_KIND_CLIENT_REQUEST, &p, WIRE_ETRUNCATED);
    tw_put_bytes(&p, "e", 1);
    expect_payload(WIRE_KIND_CLIENT_REQUEST, &p, WIRE_OK);
    tw_put_bytes(&p, "f", 1);
    expect_payload(WIRE_KIND_CLIENT_REQUEST, &p, WIRE_ETRAILING);
    free(p.p);
}

/* A read policy of 5 (KV_READ_POLICIES) or above is refused, before the command is looked at;
 * 0..4 are accepted. */
static void client_request_read_policy_out_of_range_refused(void **state)
{
    (void)state;
    static const uint8_t bad[] = {WIRE_READ_POLICIES, 6, 128, 255};
    for (size_t i = 0; i < sizeof bad; i++) {
        struct tw_bytes p = {0};
        tw_put(&p, 42, 8);
        tw_put(&p, bad[i], 1);
        expect_payload(WIRE_KIND_CLIENT_REQUEST, &p, WIRE_EREAD); /* no command_len yet */
        tw_put(&p, 3, 4);
        tw_put_bytes(&p, "get", 3);
        expect_payload(WIRE_KIND_CLIENT_REQUEST, &p, WIRE_EREAD);
        free(p.p);
    }
    for (uint8_t read = 0; read < WIRE_READ_POLICIES; read++) {
        struct tw_bytes p = {0};
        tw_put(&p, 42, 8);
        tw_put(&p, read, 1);
        tw_put(&p, 0, 4);
        expect_payload(WIRE_KIND_CLIENT_REQUEST, &p, WIRE_OK);
        free(p.p);
    }
}

/* A reply with fields for status, leader hint and result of the given length. */
static void reply_payload(struct tw_bytes *p, uint64_t status, uint64_t hint, uint64_t result_len,
                          size_t result_bytes)
{
    tw_put(p, status, 1);
    tw_put(p, hint, 4);
    tw_put(p, 3, 8);
    tw_put(p, 2, 8);
    tw_put(p, 1, 8);
    tw_put(p, result_len, 4);
    for (size_t i = 0; i < result_bytes; i++)
        tw_put(p, i, 1);
}

/* A reply status above 3 or a leader hint above RAFT_MAX_NODES is refused. */
static void client_reply_status_and_hint_refused(void **state)
{
    (void)state;
    struct tw_bytes p = {0};
    reply_payload(&p, 4, 1, 0, 0);
    expect_payload(WIRE_KIND_CLIENT_REPLY, &p, WIRE_ESTATUS);
    p.len = 0;
    reply_payload(&p, 255, 1, 0, 0);
    expect_payload(WIRE_KIND_CLIENT_REPLY, &p, WIRE_ESTATUS);
    p.len = 0;
    reply_payload(&p, WIRE_REPLY_NOT_LEADER, RAFT_MAX_NODES + 1, 0, 0);
    expect_payload(WIRE_KIND_CLIENT_REPLY, &p, WIRE_ENODE);
    p.len = 0;
    reply_payload(&p, WIRE_REPLY_NOT_LEADER, RAFT_MAX_NODES, 0, 0);
    expect_payload(WIRE_KIND_CLIENT_REPLY, &p, WIRE_OK);
    free(p.p);
}

/* A reply shorter than its fields or its result, or longer, is refused. */
static void client_reply_truncated_or_trailing_refused(void **state)
{
    (void)state;
    struct tw_bytes p = {0};
    reply_payload(&p, WIRE_REPLY_OK, 1, 3, 2);
    expect_payload(WIRE_KIND_CLIENT_REPLY, &p, WIRE_ETRUNCATED);
    p.len -= 2 + 4;
    expect_payload(WIRE_KIND_CLIENT_REPLY, &p, WIRE_ETRUNCATED);
    p.len = 0;
    reply_payload(&p, WIRE_REPLY_OK, 1, 3, 4);
    expect_payload(WIRE_KIND_CLIENT_REPLY, &p, WIRE_ETRAILING);
    free(p.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(length_below_header_refused),
        cmocka_unit_test(length_above_maximum_refused),
        cmocka_unit_test(unknown_version_refused),
        cmocka_unit_test(version_1_frame_refused),
        cmocka_unit_test(version_2_frame_refused),
        cmocka_unit_test(header_crc_mismatch_refused),
        cmocka_unit_test(nonzero_flags_refused),
        cmocka_unit_test(unknown_kind_refused),
        cmocka_unit_test(payload_crc_mismatch_refused),
        cmocka_unit_test(raft_type_out_of_range_refused),
        cmocka_unit_test(raft_node_id_out_of_range_refused),
        cmocka_unit_test(raft_truncated_and_trailing_refused),
        cmocka_unit_test(raft_bool_not_0_or_1_refused),
        cmocka_unit_test(entry_count_above_maximum_refused),
        cmocka_unit_test(entry_len_above_maximum_refused),
        cmocka_unit_test(snapshot_chunk_above_maximum_refused),
        cmocka_unit_test(entry_type_unknown_refused),
        cmocka_unit_test(entry_types_1_to_3_accepted),
        cmocka_unit_test(entries_truncated_or_trailing_refused),
        cmocka_unit_test(client_request_truncated_or_trailing_refused),
        cmocka_unit_test(client_request_read_policy_out_of_range_refused),
        cmocka_unit_test(client_reply_status_and_hint_refused),
        cmocka_unit_test(client_reply_truncated_or_trailing_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
