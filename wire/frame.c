/* frame.c - the frame around every payload (docs/wire.md): a 16-byte header holding the length,
 * version, kind, flags and two CRC32Cs, one over the payload and one over the header itself, so
 * that a damaged length is refused as soon as the header is in instead of stalling a stream.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "wire/internal.h"

/* Header offsets (docs/wire.md). */
enum {
    OFF_LENGTH = 0,      /* u32: bytes after this field, WIRE_HEADER_BYTES - 4 + payload */
    OFF_VERSION = 4,     /* u8: WIRE_VERSION */
    OFF_KIND = 5,        /* u8: enum wire_kind */
    OFF_FLAGS = 6,       /* u16: 0 */
    OFF_PAYLOAD_CRC = 8, /* u32: CRC32C of the payload */
    OFF_HEADER_CRC = 12, /* u32: CRC32C of header bytes 0..11 */
};
/* The length field counts everything after itself. */
#define LENGTH_FIELD_BYTES 4u

const char *wire_strerror(int rc)
{
    switch (rc) {
    case WIRE_OK:
        return "ok";
    case WIRE_EAGAIN:
        return "incomplete frame: need more bytes";
    case WIRE_ENOSPACE:
        return "buffer too small for the frame";
    case WIRE_ETOOLARGE:
        return "frame larger than the 64 MiB maximum";
    case WIRE_ELENGTH:
        return "frame length shorter than its header";
    case WIRE_EVERSION:
        return "unknown frame format version";
    case WIRE_EHEADER_CRC:
        return "frame header checksum mismatch";
    case WIRE_EFLAGS:
        return "unknown frame flags";
    case WIRE_EKIND:
        return "unknown frame kind";
    case WIRE_ECRC:
        return "payload checksum mismatch";
    case WIRE_ETRUNCATED:
        return "payload ends inside a field";
    case WIRE_ETRAILING:
        return "bytes after the end of the payload";
    case WIRE_EMSG_TYPE:
        return "unknown Raft message type";
    case WIRE_ENODE:
        return "node id out of range";
    case WIRE_EBOOL:
        return "boolean field neither 0 nor 1";
    case WIRE_ECOUNT:
        return "too many entries in AppendEntries";
    case WIRE_EENTRY_LEN:
        return "entry larger than the maximum entry size";
    case WIRE_EENTRY_TYPE:
        return "unknown entry type";
    case WIRE_ESTATUS:
        return "unknown client reply status";
    case WIRE_EINVAL:
        return "length without data to encode";
    case WIRE_ECHUNK:
        return "snapshot chunk too long";
    case WIRE_EREAD:
        return "read policy out of range";
    }
    return "unknown wire error";
}

void wire_frame_free(struct wire_frame *f)
{
    switch (f->kind) {
    case WIRE_KIND_RAFT_MESSAGE:
        raft_message_free(&f->raft);
        break;
    case WIRE_KIND_CLIENT_REQUEST:
        free((void *)f->client_request.command); /* the decoder's own copy */
        f->client_request.command = NULL;
        f->client_request.command_len = 0;
        break;
    case WIRE_KIND_CLIENT_REPLY:
        free((void *)f->client_reply.result); /* the decoder's own copy */
        f->client_reply.result = NULL;
        f->client_reply.result_len = 0;
        break;
    }
}

/* --- encoding -------------------------------------------------------------------------------- */

/* The payload size of the value f holds, or the code for why it cannot be encoded. */
static int payload_size(const struct wire_frame *f, uint64_t *bytes)
{
    switch (f->kind) {
    case WIRE_KIND_RAFT_MESSAGE:
        return wire_raft_payload_size(&f->raft, bytes);
    case WIRE_KIND_CLIENT_REQUEST:
        return wire_request_payload_size(&f->client_request, bytes);
    case WIRE_KIND_CLIENT_REPLY:
        return wire_reply_payload_size(&f->client_reply, bytes);
    }
    return WIRE_EKIND;
}

static uint8_t *payload_write(const struct wire_frame *f, uint8_t *p)
{
    switch (f->kind) {
    case WIRE_KIND_RAFT_MESSAGE:
        return wire_raft_payload_write(&f->raft, p);
    case WIRE_KIND_CLIENT_REQUEST:
        return wire_request_payload_write(&f->client_request, p);
    case WIRE_KIND_CLIENT_REPLY:
        return wire_reply_payload_write(&f->client_reply, p);
    }
    return p;
}

size_t wire_frame_size(const struct wire_frame *f)
{
    uint64_t payload;
    if (payload_size(f, &payload) != WIRE_OK)
        return 0;
    uint64_t frame = WIRE_HEADER_BYTES + payload; /* payload < 2^37: no overflow */
    return frame > SIZE_MAX ? SIZE_MAX : (size_t)frame;
}

int wire_encode_frame(const struct wire_frame *f, uint8_t *buf, size_t cap, size_t *len)
{
    uint64_t payload;
    int rc = payload_size(f, &payload);
    if (rc != WIRE_OK)
        return rc;
    if (payload > WIRE_MAX_FRAME_BYTES - WIRE_HEADER_BYTES)
        return WIRE_ETOOLARGE;
    size_t frame = WIRE_HEADER_BYTES + (size_t)payload;
    if (cap < frame)
        return WIRE_ENOSPACE;
    uint8_t *end = payload_write(f, buf + WIRE_HEADER_BYTES);
    assert(end == buf + frame); /* the size and the writer agree */
    (void)end;
    le_put(buf + OFF_LENGTH, frame - LENGTH_FIELD_BYTES, 4);
    le_put(buf + OFF_VERSION, WIRE_VERSION, 1);
    le_put(buf + OFF_KIND, (uint64_t)f->kind, 1);
    le_put(buf + OFF_FLAGS, 0, 2);
    le_put(buf + OFF_PAYLOAD_CRC, crc32c(0, buf + WIRE_HEADER_BYTES, (size_t)payload), 4);
    le_put(buf + OFF_HEADER_CRC, crc32c(0, buf, OFF_HEADER_CRC), 4);
    *len = frame;
    return WIRE_OK;
}

size_t wire_raft_message_size(const struct raft_message *m)
{
    struct wire_frame f = {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = *m};
    return wire_frame_size(&f);
}

int wire_encode_raft_message(const struct raft_message *m, uint8_t *buf, size_t cap, size_t *len)
{
    struct wire_frame f = {.kind = WIRE_KIND_RAFT_MESSAGE, .raft = *m};
    return wire_encode_frame(&f, buf, cap, len);
}

size_t wire_client_request_size(const struct wire_client_request *req)
{
    struct wire_frame f = {.kind = WIRE_KIND_CLIENT_REQUEST, .client_request = *req};
    return wire_frame_size(&f);
}

int wire_encode_client_request(const struct wire_client_request *req, uint8_t *buf, size_t cap,
                               size_t *len)
{
    struct wire_frame f = {.kind = WIRE_KIND_CLIENT_REQUEST, .client_request = *req};
    return wire_encode_frame(&f, buf, cap, len);
}

size_t wire_client_reply_size(const struct wire_client_reply *rep)
{
    struct wire_frame f = {.kind = WIRE_KIND_CLIENT_REPLY, .client_reply = *rep};
    return wire_frame_size(&f);
}

int wire_encode_client_reply(const struct wire_client_reply *rep, uint8_t *buf, size_t cap,
                             size_t *len)
{
    struct wire_frame f = {.kind = WIRE_KIND_CLIENT_REPLY, .client_reply = *rep};
    return wire_encode_frame(&f, buf, cap, len);
}

/* --- decoding -------------------------------------------------------------------------------- */

/* Checks the header at buf (WIRE_HEADER_BYTES of it are there) and sets *frame to the frame's
 * size and *payload_crc to the payload's checksum; WIRE_OK or the first failing check. */
static int header_check(const uint8_t *buf, size_t *frame, uint32_t *payload_crc)
{
    struct le_reader r = {.p = buf, .left = WIRE_HEADER_BYTES, .err = 0};
    uint64_t length = wire_get(&r, 4);
    uint64_t version = wire_get(&r, 1);
    uint64_t kind = wire_get(&r, 1);
    uint64_t flags = wire_get(&r, 2);
    uint64_t crc = wire_get(&r, 4); /* checked once the payload is in */
    uint64_t header_crc = wire_get(&r, 4);
    assert(wire_reader_end(&r) == WIRE_OK);
    /* The version first: another version may lay out the rest of its header differently. */
    if (version != WIRE_VERSION)
        return WIRE_EVERSION;
    if (header_crc != crc32c(0, buf, OFF_HEADER_CRC))
        return WIRE_EHEADER_CRC;
    if (length < WIRE_HEADER_BYTES - LENGTH_FIELD_BYTES)
        return WIRE_ELENGTH;
    if (length > WIRE_MAX_FRAME_BYTES - LENGTH_FIELD_BYTES)
        return WIRE_ETOOLARGE;
    if (flags != 0)
        return WIRE_EFLAGS;
    if (kind < WIRE_KIND_RAFT_MESSAGE || kind > WIRE_KIND_CLIENT_REPLY)
        return WIRE_EKIND;
    *frame = LENGTH_FIELD_BYTES + (size_t)length;
    *payload_crc = (uint32_t)crc;
    return WIRE_OK;
}

static int payload_read(enum wire_kind kind, const uint8_t *p, size_t len, struct wire_frame *out)
{
    out->kind = kind;
    switch (kind) {
    case WIRE_KIND_RAFT_MESSAGE:
        return wire_raft_payload_read(p, len, &out->raft);
    case WIRE_KIND_CLIENT_REQUEST:
        return wire_request_payload_read(p, len, &out->client_request);
    case WIRE_KIND_CLIENT_REPLY:
        return wire_reply_payload_read(p, len, &out->client_reply);
    }
    return WIRE_EKIND;
}

int wire_decode(const uint8_t *buf, size_t len, struct wire_frame *out, size_t *consumed,
                size_t *needed)
{
    assert(out != NULL && consumed != NULL && (buf != NULL || len == 0));
    memset(out, 0, sizeof *out);
    *consumed = 0;
    if (needed != NULL)
        *needed = 0;
    if (len < WIRE_HEADER_BYTES) {
        if (needed != NULL)
            *needed = WIRE_HEADER_BYTES - len;
        return WIRE_EAGAIN;
    }
    size_t frame;
    uint32_t payload_crc;
    int rc = header_check(buf, &frame, &payload_crc);
    if (rc != WIRE_OK)
        return rc;
    if (len < frame) {
        if (needed != NULL)
            *needed = frame - len;
        return WIRE_EAGAIN;
    }
    const uint8_t *payload = buf + WIRE_HEADER_BYTES;
    size_t payload_len = frame - WIRE_HEADER_BYTES;
    if (payload_crc != crc32c(0, payload, payload_len))
        return WIRE_ECRC;
    rc = payload_read((enum wire_kind)buf[OFF_KIND], payload, payload_len, out);
    if (rc != WIRE_OK) {
        memset(out, 0, sizeof *out); /* the payload reader left nothing allocated */
        return rc;
    }
    *consumed = frame;
    return WIRE_OK;
}
