/* wire.h - the wire codec: Raft messages and client requests/replies as versioned,
 * length-prefixed, checksummed frames of bytes, so they can cross a socket and be fuzzed.
 *
 * Design: the byte layout is specified in docs/wire.md (format version 2); this module is its
 * one implementation. Pure: no thread, clock, stdio or socket; the caller owns every buffer.
 * Encoding writes into a caller buffer sized by the *_size() functions. Decoding reads a stream
 * buffer that may end inside a frame: wire_decode() says "need more bytes" (WIRE_EAGAIN) for a
 * partial frame and refuses a malformed one with an error value, never an assert, never reading
 * past the buffer's end, never allocating for a frame it refuses. A decoded frame owns copies of
 * everything it points to: a decoded struct raft_message owns its entries exactly as
 * raft_message_copy() makes them, so a host can pass it to raft_step() and release it with
 * raft_message_free() (or wire_frame_free()).
 *
 * The decoder refuses what is structurally impossible (an unknown message type, node id 0, too
 * many or too large entries, ...); whether a message makes sense to its receiver
 * (raft_message_validate()) is the host's check. Every frame the encoder writes decodes back to
 * an equal value, and re-encodes to the same bytes: the encoding is canonical.
 */
#ifndef RAFT_KV_WIRE_WIRE_H
#define RAFT_KV_WIRE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

/* The format version written into every frame; a frame of another version is refused. Version 2
 * added the read path: read_round on AppendEntries and its reply, the READ_INDEX messages and a
 * client request's read policy; version 3 membership: the configuration entry type, TimeoutNow
 * and RequestVote's transfer flag (docs/wire.md, "Changing the format"). */
#define WIRE_VERSION 3
/* The fixed frame header: length, version, kind, flags, payload CRC, header CRC (docs/wire.md). */
#define WIRE_HEADER_BYTES 16
/* The largest whole frame (header and payload) encoded or accepted: 64 MiB. A longer length
 * field is refused from the header alone, before any byte of the payload is read. */
#define WIRE_MAX_FRAME_BYTES (64u * 1024u * 1024u)

/* Return codes (0 = ok); wire_strerror() names each. */
enum {
    WIRE_OK = 0,
    WIRE_EAGAIN = 1,       /* decode: the buffer ends inside a frame; read more bytes */
    WIRE_ENOSPACE = 2,     /* encode: the buffer is smaller than the frame */
    WIRE_ETOOLARGE = 3,    /* the frame would exceed WIRE_MAX_FRAME_BYTES */
    WIRE_ELENGTH = 4,      /* the length field is smaller than the rest of the header */
    WIRE_EVERSION = 5,     /* the version byte is not WIRE_VERSION */
    WIRE_EHEADER_CRC = 6,  /* the header's checksum does not match */
    WIRE_EFLAGS = 7,       /* the flags field is not 0 */
    WIRE_EKIND = 8,        /* the kind byte names no known payload */
    WIRE_ECRC = 9,         /* the payload's checksum does not match */
    WIRE_ETRUNCATED = 10,  /* the payload ends inside a field */
    WIRE_ETRAILING = 11,   /* the payload has bytes after its last field */
    WIRE_EMSG_TYPE = 12,   /* a Raft message type out of range */
    WIRE_ENODE = 13,       /* a node id of 0 where one is needed, or above RAFT_MAX_NODES */
    WIRE_EBOOL = 14,       /* a boolean byte other than 0 or 1 */
    WIRE_ECOUNT = 15,      /* more than RAFT_MAX_BATCH_ENTRIES entries */
    WIRE_EENTRY_LEN = 16,  /* an entry longer than RAFT_MAX_ENTRY_BYTES */
    WIRE_EENTRY_TYPE = 17, /* an entry type other than RAFT_ENTRY_NOOP / _COMMAND / _CONFIG */
    WIRE_ESTATUS = 18,     /* a client reply status out of range */
    WIRE_EINVAL = 19,      /* encode: a count or length without its data (a NULL pointer) */
    WIRE_ECHUNK = 20,      /* a snapshot chunk longer than RAFT_MAX_SNAPSHOT_CHUNK */
    WIRE_EREAD = 21,       /* a client request's read policy of WIRE_READ_POLICIES or above */
};
/* A static, human-readable name for rc ("payload checksum mismatch", ...). */
const char *wire_strerror(int rc);

/* What a frame carries (the kind byte of the header). */
enum wire_kind {
    WIRE_KIND_RAFT_MESSAGE = 1,   /* a struct raft_message, node to node */
    WIRE_KIND_CLIENT_REQUEST = 2, /* a struct wire_client_request, client to node */
    WIRE_KIND_CLIENT_REPLY = 3,   /* a struct wire_client_reply, node to client */
};

/* A client reply's status. The numbers are those of client/client.h's enum client_reply_status
 * (the wire does not depend on the client module; the tests check they agree). */
enum wire_reply_status {
    WIRE_REPLY_OK = 0,         /* applied: the result is in the reply */
    WIRE_REPLY_NOT_LEADER = 1, /* not accepted; leader_hint names the leader if known */
    WIRE_REPLY_UNKNOWN = 2,    /* accepted, but leadership was lost before it committed */
    WIRE_REPLY_REJECTED = 3,   /* malformed or too large: it never entered the log */
};

/* How a get is served: a client request's read field. The numbers are those of kv/kv.h's enum
 * kv_read_policy (the wire does not depend on the kv module; the tests check they agree). */
enum wire_read_policy {
    WIRE_READ_LINEARIZABLE = 0, /* ReadIndex at the leader */
    WIRE_READ_LEASE = 1,        /* at the leader, on its lease */
    WIRE_READ_FOLLOWER = 2,     /* at any node, with a read index from the leader */
    WIRE_READ_STALE = 3,        /* at any node, from its store at once */
    WIRE_READ_LOG = 4,          /* through the log like a write */
};
/* How many read policies there are (kv/kv.h's KV_READ_POLICIES); read must be below it. */
#define WIRE_READ_POLICIES 5

/* A client's command for the replicated state machine. request_id matches the reply to the
 * request on one connection; it is not the state machine's (client id, sequence number), which
 * lives inside the opaque command. read is the read policy of a get (an enum wire_read_policy
 * number, below WIRE_READ_POLICIES, else WIRE_EREAD both ways); the wire does not look inside the
 * command, so another command carries one too, 0 by convention. command may be NULL when
 * command_len is 0. */
struct wire_client_request {
    uint64_t request_id;
    const uint8_t *command;
    uint32_t command_len;
    uint8_t read;
};

/* A node's answer to a request. On OK, (index, term) is where the command was applied and
 * result its opaque result (the encoded kv_result); leader_hint is a node id or 0 if unknown.
 * result may be NULL when result_len is 0. */
struct wire_client_reply {
    enum wire_reply_status status;
    uint32_t leader_hint;
    uint64_t index;
    uint64_t term;
    uint64_t request_id;
    const uint8_t *result;
    uint32_t result_len;
};

/* One decoded frame. It owns what it points to (the Raft message's entries, the command or
 * result bytes), independently of the buffer it was decoded from; wire_frame_free() releases it.
 * To keep the Raft message beyond the frame, move it out (copy the struct, then forget the
 * frame without freeing it) and later raft_message_free() it. */
struct wire_frame {
    enum wire_kind kind;
    union {
        struct raft_message raft;                  /* WIRE_KIND_RAFT_MESSAGE */
        struct wire_client_request client_request; /* WIRE_KIND_CLIENT_REQUEST */
        struct wire_client_reply client_reply;     /* WIRE_KIND_CLIENT_REPLY */
    };
};
/* Releases what a decoded frame owns; the struct itself is the caller's. */
void wire_frame_free(struct wire_frame *f);

/* --- encoding -------------------------------------------------------------------------------
 * Each *_size() returns the size in bytes of the whole frame that encoding the value writes, or
 * 0 if the value cannot be encoded (it breaks a rule the decoder checks, e.g. node id 0 or an
 * entry of an unknown type). The size may exceed WIRE_MAX_FRAME_BYTES; encoding then fails.
 *
 * Each wire_encode_*() writes one frame into buf[0..cap) and its size into *len, and returns
 * WIRE_OK; or WIRE_ENOSPACE if cap is too small, WIRE_ETOOLARGE if the frame would exceed
 * WIRE_MAX_FRAME_BYTES, WIRE_EINVAL for a length whose data pointer is NULL, or the decoder's
 * error code for a value it would refuse (WIRE_ENODE, WIRE_EMSG_TYPE, ...). On error nothing useful
 * is in buf and *len is untouched. */
size_t wire_raft_message_size(const struct raft_message *m);
int wire_encode_raft_message(const struct raft_message *m, uint8_t *buf, size_t cap, size_t *len);
size_t wire_client_request_size(const struct wire_client_request *req);
int wire_encode_client_request(const struct wire_client_request *req, uint8_t *buf, size_t cap,
                               size_t *len);
size_t wire_client_reply_size(const struct wire_client_reply *rep);
int wire_encode_client_reply(const struct wire_client_reply *rep, uint8_t *buf, size_t cap,
                             size_t *len);
/* The same for whichever value f holds (by f->kind); 0 / WIRE_EKIND for an unknown kind. */
size_t wire_frame_size(const struct wire_frame *f);
int wire_encode_frame(const struct wire_frame *f, uint8_t *buf, size_t cap, size_t *len);

/* --- decoding -------------------------------------------------------------------------------
 * Decodes the frame at the start of buf[0..len), a stream buffer that may hold less than one
 * frame or more than one. Returns:
 *   WIRE_OK: *out holds the frame (free it with wire_frame_free()), *consumed is the frame's
 *     size in bytes: the next frame starts at buf + *consumed.
 *   WIRE_EAGAIN: buf holds only the start of a frame (len may be 0). *needed (if needed is not
 *     NULL) is how many more bytes it takes at least: exactly the rest of the frame once the
 *     16-byte header is in and checked, else the rest of the header. Call again with more bytes.
 *   any other code: the frame is malformed (wire_strerror() says how); a stream carrying it is
 *     broken and should be dropped: there is no way to find the next frame.
 * On anything but WIRE_OK, *out holds nothing to free and *consumed is 0. The checks run in a
 * fixed order: header (version, header CRC, length, flags, kind), then the payload's CRC once the
 * whole frame is in, then the payload's fields in order; the first failing check is reported.
 * buf may be NULL when len is 0. Never reads outside buf[0..len). */
int wire_decode(const uint8_t *buf, size_t len, struct wire_frame *out, size_t *consumed,
                size_t *needed);

#endif
