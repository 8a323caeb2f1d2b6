/* kv.h - the replicated key-value state machine: a byte-string hash table with exactly-once
 * client sessions (Raft thesis 6.3), its command/result wire encoding, and a store digest.
 *
 * Pure: no I/O, clock or threads. Semantics (issue 4): put fails with KV_EXISTS if the key is
 * present; get returns the value or KV_NOT_FOUND; delete fails with KV_NOT_FOUND if missing.
 */
#ifndef RAFT_KV_KV_KV_H
#define RAFT_KV_KV_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KV_MAX_KEY   (64u * 1024u)
#define KV_MAX_VALUE (1024u * 1024u)

/* Return codes of the fallible functions (0 = ok); kv_strerror() names them. */
enum {
    KV_EMALFORMED = 1, /* bytes do not decode: truncated, trailing, bad op/status, bad lengths */
    KV_ETOOLARGE = 2,  /* key or value exceeds KV_MAX_KEY / KV_MAX_VALUE */
    KV_ENOSPACE = 3,   /* encode buffer too small */
};
const char *kv_strerror(int rc);

enum kv_op {
    KV_OP_PUT = 1,
    KV_OP_GET = 2,
    KV_OP_DELETE = 3,
    KV_OP_NOOP = 4,
};
const char *kv_op_name(enum kv_op op);

/* How a get is served (issue 12); the numbers are the wire's (docs/wire.md, client request). */
enum kv_read_policy {
    KV_READ_LINEARIZABLE = 0, /* ReadIndex at the leader: a heartbeat round, no log entry */
    KV_READ_LEASE = 1,        /* at the leader, without the round while its lease holds */
    KV_READ_FOLLOWER = 2,     /* at any node: a read index from the leader, served locally */
    KV_READ_STALE = 3,        /* at any node, from its store at once: may be old */
    KV_READ_LOG = 4,          /* through the log like a write (the path before ReadIndex) */
};
#define KV_READ_POLICIES 5
/* "linearizable", "lease", "follower", "stale", "log"; "?" out of range. */
const char *kv_read_policy_name(enum kv_read_policy p);

/* The outcome of a command: what a client sees. */
enum kv_status {
    KV_OK = 0,
    KV_EXISTS = 1,    /* put: the key is present */
    KV_NOT_FOUND = 2, /* get/delete: the key is missing */
    KV_STALE = 3,     /* seq older than the session's last applied one: the result is gone */
};
const char *kv_status_name(enum kv_status status);

/* A decoded command; key/value point into the decoded buffer (no copy). client_id 0 means "no
 * session" (applied every time). */
struct kv_command {
    enum kv_op op;
    uint64_t client_id;
    uint64_t seq;
    const uint8_t *key;
    uint32_t key_len;
    const uint8_t *value; /* put only */
    uint32_t value_len;
};

struct kv_result {
    enum kv_status status;
    uint64_t client_id;
    uint64_t seq;
    const uint8_t *value; /* get + KV_OK only; valid until the store changes */
    uint32_t value_len;
};

/* --- encoding (kv/command.c) --------------------------------------------------------------
 * Little-endian. Command: u8 op, u64 client_id, u64 seq, u32 key_len, key, u32 value_len, value.
 * Result: u8 status, u64 client_id, u64 seq, u32 value_len, value. Exact length, no trailer. */
size_t kv_command_size(const struct kv_command *cmd);
/* Writes cmd into buf (cap bytes); *len = bytes written. 0, KV_ETOOLARGE or KV_ENOSPACE. */
int kv_command_encode(const struct kv_command *cmd, uint8_t *buf, size_t cap, size_t *len);
/* Parses len bytes; out points into buf. 0 or KV_EMALFORMED/KV_ETOOLARGE; never reads past
 * len, never crashes on any input. */
int kv_command_decode(const void *buf, size_t len, struct kv_command *out);
size_t kv_result_size(const struct kv_result *res);
int kv_result_encode(const struct kv_result *res, uint8_t *buf, size_t cap, size_t *len);
int kv_result_decode(const void *buf, size_t len, struct kv_result *out);

/* --- the store (kv/store.c, kv/session.c) ------------------------------------------------- */
struct kv_entry;
struct kv_session;

struct kv_store {
    struct kv_entry **buckets; /* chained hash table; n_buckets is a power of two */
    size_t n_buckets;
    size_t count;                 /* keys present */
    struct kv_session **sessions; /* chained by client id */
    size_t n_session_buckets;
    size_t n_sessions;
    uint64_t applied; /* commands applied through kv_store_apply (duplicates excluded) */
};

void kv_store_init(struct kv_store *s);
void kv_store_close(struct kv_store *s);
/* KV_OK, or KV_EXISTS (store unchanged). Copies key and value. */
enum kv_status kv_store_put(struct kv_store *s, const void *key, uint32_t key_len,
                            const void *value, uint32_t value_len);
/* KV_OK with *value and *value_len set (valid until the store changes), or KV_NOT_FOUND. */
enum kv_status kv_store_get(const struct kv_store *s, const void *key, uint32_t key_len,
                            const uint8_t **value, uint32_t *value_len);
/* KV_OK, or KV_NOT_FOUND. */
enum kv_status kv_store_delete(struct kv_store *s, const void *key, uint32_t key_len);
size_t kv_store_count(const struct kv_store *s);

/* Applies a replicated command with exactly-once sessions (thesis 6.3): per client id the last
 * seq applied and its result are kept (part of the replicated state); a command whose seq equals
 * the last one returns the saved result without re-applying; an older seq returns KV_STALE.
 * res->value stays valid until the store next changes. */
void kv_store_apply(struct kv_store *s, const struct kv_command *cmd, struct kv_result *res);

/* The saved result of client_id's command seq, if seq is the last one the store applied for
 * that client: true with *res filled (res->value valid until the store next changes), false
 * otherwise (no session, another seq, or client_id 0). Lets a node answer a retry of a command
 * it has already applied without appending it again: the result of a committed command is
 * final. */
bool kv_store_saved_result(const struct kv_store *s, uint64_t client_id, uint64_t seq,
                           struct kv_result *res);

/* The last seq the store applied for client_id (0: none). */
uint64_t kv_store_last_seq(const struct kv_store *s, uint64_t client_id);

/* 64-bit FNV-1a over the key/value pairs sorted by key, then the sessions sorted by client id:
 * equal replicated states give equal digests whatever the insertion order. */
uint64_t kv_store_digest(const struct kv_store *s);

/* --- snapshots (kv/snapshot.c) ------------------------------------------------------------
 * The whole replicated state (pairs, sessions with their saved results, the applied count) as
 * bytes, for a Raft snapshot (section 7). Layout, little-endian: u32 magic "KVS1", u64 applied,
 * u64 pair count, each pair u32 key_len, key, u32 value_len, value; u64 session count, each u64
 * client_id, u64 last_seq, u8 status, u32 value_len, value. */
/* Encodes s into one new allocation (*data, *len bytes; free() it). Never fails. */
void kv_store_encode(const struct kv_store *s, uint8_t **data, size_t *len);
/* Replaces s (initialised) with the state in data. 0, or KV_EMALFORMED (s is then empty): never
 * reads past len, never crashes on any input. */
int kv_store_decode(struct kv_store *s, const uint8_t *data, size_t len);

/* internal to kv/: the data-only part of the digest, session teardown, and the snapshot's
 * pieces (a growable byte buffer each part appends to) */

struct kv_bytes {
    uint8_t *p;
    size_t len, cap;
};
/* Room for n more bytes; returns where they go (len grows by n). */
uint8_t *kv_bytes_reserve(struct kv_bytes *b, size_t n);
void kv_store_encode_pairs(const struct kv_store *s, struct kv_bytes *b);
void kv_sessions_encode(const struct kv_store *s, struct kv_bytes *b);
/* Adds a session as a snapshot holds it; false if client_id is 0 or already present. */
bool kv_session_restore(struct kv_store *s, uint64_t client_id, uint64_t last_seq,
                        enum kv_status status, const uint8_t *value, uint32_t value_len);

void kv_sessions_close(struct kv_store *s);
uint64_t kv_sessions_digest(const struct kv_store *s, uint64_t h);

#endif
