/* raft.h - the pure Raft core: one entry point, raft_step(), events in and actions out.
 *
 * Design (after etcd-io/raft and cowsql/raft): the core owns no thread, clock, disk or socket.
 * Time arrives in every event; randomness comes from a PRNG seeded by the options. The core keeps
 * its own copy of the persistent state (currentTerm, votedFor, log: Raft paper Figure 2
 * "Persistent state on all servers") and never writes a disk: each step that changes it asks the
 * host to persist the change (update->persist, numbered by seq), and the host reports back with a
 * RAFT_EVENT_PERSISTED event once that request, and every one before it, is durable. Until then:
 *   - a message that promises durable state waits inside the core: a vote granted, a RequestVote
 *     (the candidate's own vote), an AppendEntries reply (the entries it acknowledges);
 *   - a leader counts itself toward a commit only for entries it has made durable, though it
 *     sends AppendEntries to followers before its own write completes (thesis 10.2.1).
 * Each step fills a caller-owned struct raft_update that the caller uses in this order:
 *   1. persist: what to make durable (hard state, then a truncation and entries to write);
 *      report completion, in order, with RAFT_EVENT_PERSISTED{seq},
 *   2. msgs: messages to send (each self-contained; the update owns them until taken),
 *   3. apply: committed entries to apply to the state machine, in index order,
 *   4. proposal: the result of a PROPOSE event,
 *   5. notes: trace notes for a human-readable trace (the core never prints),
 * and next_wake_ms: when the core next wants a RAFT_EVENT_TICK.
 *
 * Node ids are 1..max_nodes; 0 means "none". Which of them take part is the configuration
 * (struct raft_config): voters 1..n_nodes at first, changed one server at a time by
 * configuration entries in the log (thesis 4.1; membership.c). Log indices start at 1; index 0
 * has term 0.
 *
 * Driving it (actors/node.c, a simulator, a test): keep each node's durable state in a storage
 * that outlives a crash; raft_init() from what the storage loads at start and after each
 * restart; call raft_step() for every timer expiry (TICK at or after next_wake_ms), received
 * message, client proposal, CAMPAIGN and completed persist; carry out the update as above, and
 * answer proposals: PROPOSE gives (index, term); when index is applied, the client wins if the
 * applied entry's term equals that term, and its proposal was lost otherwise. After a restart
 * commit_index starts at 0 and the log is applied again from index 1, so the state machine is
 * rebuilt from scratch (it is volatile, like struct raft).
 */
#ifndef RAFT_KV_RAFT_RAFT_H
#define RAFT_KV_RAFT_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/log.h"
#include "common/prng.h"
#include "raft/progress.h"

/* Error codes of raft_step() and friends; raft_strerror() names them. */
enum {
    RAFT_OK = 0,
    RAFT_EMALFORMED = 1, /* a received message is inconsistent (ids, counts, terms) */
    RAFT_EINVAL = 2,     /* an event or option is out of range */
};
const char *raft_strerror(int rc);

/* Upper bounds: every queue and loop in the core is bounded (TIGER_STYLE). */
#define RAFT_MAX_NODES         255
#define RAFT_MAX_INFLIGHT      RAFT_PROGRESS_MAX_INFLIGHT
#define RAFT_MAX_ENTRY_BYTES   (16u * 1024u * 1024u)
#define RAFT_MAX_BATCH_ENTRIES 4096
/* InstallSnapshot: the largest chunk a message carries, and the largest snapshot. */
#define RAFT_MAX_SNAPSHOT_CHUNK (4u * 1024u * 1024u)
#define RAFT_MAX_SNAPSHOT_BYTES (1ull << 40)

enum raft_role {
    RAFT_FOLLOWER = 0,
    RAFT_PRE_CANDIDATE = 1, /* thesis 9.6: asking for pre-votes; term not yet incremented */
    RAFT_CANDIDATE = 2,
    RAFT_LEADER = 3,
};
const char *raft_role_name(enum raft_role role);

/* --- configuration ------------------------------------------------------------------------- */

/* The servers of a cluster (thesis 4.1): voters, who elect leaders and make up the majorities
 * that commit entries, and learners, non-voting members that receive the log while they catch
 * up before becoming voters (thesis 4.2.1). Bit id % 64 of word id / 64; id 0 is never set, and
 * no id is both. A configuration is a log entry (RAFT_ENTRY_CONFIG, data raft_config_encode) and
 * takes effect on a server as soon as it is in its log, committed or not. */
#define RAFT_CONFIG_WORDS 4
#define RAFT_CONFIG_BYTES (2 * RAFT_CONFIG_WORDS * 8)
struct raft_config {
    uint64_t voters[RAFT_CONFIG_WORDS];
    uint64_t learners[RAFT_CONFIG_WORDS];
};
/* Voters 1..n_voters, no learners (n_voters 0: empty, which no log entry may hold). */
void raft_config_initial(struct raft_config *c, uint32_t n_voters);
bool raft_config_is_voter(const struct raft_config *c, uint32_t id);
bool raft_config_is_learner(const struct raft_config *c, uint32_t id);
bool raft_config_is_member(const struct raft_config *c, uint32_t id); /* voter or learner */
uint32_t raft_config_voters(const struct raft_config *c);
uint32_t raft_config_learners(const struct raft_config *c);
/* The next member (voter or learner) above id, or 0 if none: for (id = next(c, 0); id; ...). */
uint32_t raft_config_next(const struct raft_config *c, uint32_t id);
/* Makes id a voter, a learner, or (neither) not a member. */
void raft_config_set(struct raft_config *c, uint32_t id, bool voter, bool learner);
bool raft_config_equal(const struct raft_config *a, const struct raft_config *b);
/* RAFT_CONFIG_BYTES bytes, little-endian words: voters then learners. */
void raft_config_encode(const struct raft_config *c, uint8_t out[RAFT_CONFIG_BYTES]);
/* 0, or RAFT_EMALFORMED with *why set: a wrong length, id 0 set, an id both voter and learner,
 * or no voter at all. */
int raft_config_decode(const uint8_t *in, size_t len, struct raft_config *c, const char **why);
/* "1 2 3 +4" (voters, then learners marked +) into out (cap bytes, NUL-terminated, cut short
 * with "..." if too small); returns out. */
char *raft_config_format(const struct raft_config *c, char *out, size_t cap);

/* --- persistent state ---------------------------------------------------------------------- */

/* The node's persistent state (Figure 2). The core keeps its own copy (struct raft.state, ahead
 * of the disk while writes are in flight); a storage keeps the durable one, which raft_init
 * starts from. Crash = raft_close() the struct raft and keep the storage; restart = raft_init()
 * from what the storage loads. */
/* A snapshot of the state machine (Raft paper section 7): its bytes stand for every entry up to
 * index, whose term is term. index 0: none. The bytes are the state machine's own encoding
 * (kv_store_encode); the core only stores and sends them. */
struct raft_snapshot {
    uint64_t index;
    uint64_t term;
    /* The configuration in effect at index (the latest in the log up to it); meaningless while
     * index is 0 (raft_init then starts from the options' initial one). */
    struct raft_config config;
    uint8_t *data; /* len bytes, owned (one allocation); NULL if len == 0 */
    size_t len;
};

/* Invariant: the log holds every entry after the snapshot: log.first - 1 <= snapshot.index, and
 * if the log is empty log.first - 1 == snapshot.index (log.prev_term == snapshot.term). Entries
 * at and before snapshot.index that the log still holds (kept for slow followers) match it. */
struct raft_disk {
    uint64_t current_term;         /* latest term this server has seen; monotonic */
    uint32_t voted_for;            /* candidate that received our vote in current_term, or 0 */
    struct raft_log log;           /* the log: entries log.first .. */
    struct raft_snapshot snapshot; /* the latest snapshot; index 0 if none */
};
void raft_disk_init(struct raft_disk *disk);
/* Frees the log and the snapshot. */
void raft_disk_close(struct raft_disk *disk);
/* Replaces *dst (freeing its data) with a copy of src. */
void raft_snapshot_copy(struct raft_snapshot *dst, const struct raft_snapshot *src);

/* --- messages ------------------------------------------------------------------------------ */

enum raft_msg_type {
    RAFT_MSG_REQUEST_VOTE = 1,
    RAFT_MSG_REQUEST_VOTE_REPLY = 2,
    RAFT_MSG_APPEND_ENTRIES = 3,
    RAFT_MSG_APPEND_ENTRIES_REPLY = 4,
    RAFT_MSG_COMMIT_NOTIFY = 5,
    RAFT_MSG_INSTALL_SNAPSHOT = 6,
    RAFT_MSG_INSTALL_SNAPSHOT_REPLY = 7,
    RAFT_MSG_READ_INDEX = 8,       /* follower -> leader: a read index for a follower read */
    RAFT_MSG_READ_INDEX_REPLY = 9, /* leader -> follower: the read index, once confirmed */
    RAFT_MSG_TIMEOUT_NOW = 10,     /* leader -> transfer target: campaign now (thesis 3.10) */
};
const char *raft_msg_type_name(enum raft_msg_type type);

struct raft_request_vote {
    uint64_t last_log_index; /* index of candidate's last log entry (section 5.4.1) */
    uint64_t last_log_term;  /* term of candidate's last log entry */
    bool pre_vote;           /* thesis 9.6: a pre-vote; term is the one the sender would use */
    /* The candidate campaigns because its leader handed leadership over (TimeoutNow): voters
     * grant it despite having heard from that leader recently (thesis 3.10, 4.2.3). */
    bool transfer;
};

struct raft_request_vote_reply {
    bool vote_granted;
    bool pre_vote; /* echoes the request */
};

/* entries is one allocation (the entry array followed by the data bytes), owned by the message
 * and released by raft_message_free(); entry data points inside that block. */
struct raft_append_entries {
    uint64_t prev_log_index; /* index of log entry immediately preceding new ones */
    uint64_t prev_log_term;  /* term of prev_log_index entry */
    uint64_t leader_commit;  /* leader's commitIndex */
    uint32_t n_entries;      /* 0 for a heartbeat */
    struct raft_entry *entries;
    /* The leader's latest read round (thesis 6.4: the heartbeat round that confirms a read
     * index); echoed by the reply. Rounds count up from 1 within one leader's term; 0: none. */
    uint64_t read_round;
};

struct raft_append_entries_reply {
    bool success;
    uint64_t match_index;    /* success: prev_log_index + n_entries of the request */
    uint64_t rejected_index; /* failure: prev_log_index of the rejected request */
    /* failure, fast backup hint (paper 5.3 end): if the follower's log is too short,
     * conflict_term = 0 and conflict_index = its last index + 1; otherwise conflict_term is the
     * term of its entry at rejected_index and conflict_index the first index of that term. */
    uint64_t conflict_index;
    uint64_t conflict_term;
    uint64_t read_round; /* the request's read_round, echoed (a refusal echoes it too) */
};

/* Leader -> follower: "commit index is now commit_index" (the original design's cast). */
struct raft_commit_notify {
    uint64_t commit_index;
};

/* Leader -> follower (Raft paper section 7, Figure 13): one chunk of the leader's snapshot, for a
 * follower that needs entries the leader has compacted away. Chunks go in order, one at a time;
 * data is one allocation owned by the message (raft_message_free). The bytes sent are the
 * snapshot's configuration (RAFT_CONFIG_BYTES, raft_config_encode) followed by its data, so
 * total_len is RAFT_CONFIG_BYTES more than the data's length. */
struct raft_install_snapshot {
    uint64_t last_index; /* the snapshot replaces all entries up through this index */
    uint64_t last_term;  /* term of last_index */
    uint64_t total_len;  /* bytes of the whole snapshot, <= RAFT_MAX_SNAPSHOT_BYTES */
    uint64_t offset;     /* where this chunk starts */
    uint32_t len;        /* chunk bytes, <= RAFT_MAX_SNAPSHOT_CHUNK; offset + len <= total_len */
    uint8_t *data;       /* NULL if len == 0 */
};

/* Follower -> leader: how far the snapshot last_index has come. */
struct raft_install_snapshot_reply {
    uint64_t last_index;  /* echoes the request */
    uint64_t next_offset; /* bytes received in order so far: the chunk wanted next */
    bool done; /* installed and durable (or not needed: the follower had it committed); the
                  follower's log now matches the leader's through last_index */
};

/* Follower -> leader: "give me a read index for my read id" (a follower read, thesis 6.4). */
struct raft_read_index {
    uint64_t id; /* the follower's read id, echoed */
};

/* Leader -> follower: ok: index is a read index confirmed by a heartbeat round after the request
 * arrived (serve the read once applied up to it); !ok: refused (not leader any more). */
struct raft_read_index_reply {
    uint64_t id;
    uint64_t index;
    bool ok;
};

struct raft_message {
    enum raft_msg_type type;
    uint64_t term; /* sender's current term (pre-vote request: the term it would campaign in) */
    uint32_t from; /* 1..max_nodes */
    uint32_t to;   /* 1..max_nodes */
    union {
        struct raft_request_vote request_vote;
        struct raft_request_vote_reply request_vote_reply;
        struct raft_append_entries append_entries;
        struct raft_append_entries_reply append_entries_reply;
        struct raft_commit_notify commit_notify;
        struct raft_install_snapshot install_snapshot;
        struct raft_install_snapshot_reply install_snapshot_reply;
        struct raft_read_index read_index;
        struct raft_read_index_reply read_index_reply;
    };
};
/* Deep copy of src into *dst (one allocation for the entries or the chunk); never fails. */
void raft_message_copy(struct raft_message *dst, const struct raft_message *src);
/* The block an AppendEntries message owns, as raft_message_copy() makes it: n entries followed
 * by data_len bytes for their data, in one allocation that raft_message_free() (free()) releases.
 * *data points at the data area, after the entries; both are uninitialised. NULL with *data NULL
 * if n is 0 (then data_len must be 0). Never fails (aborts when out of memory). For decoders
 * (wire/) that fill a message of their own. */
struct raft_entry *raft_entries_block_new(uint32_t n, size_t data_len, uint8_t **data);
/* Frees what the message owns (its entries or its chunk) and zeroes the count; the struct itself
 * is the caller's. Safe on a message that owns nothing. */
void raft_message_free(struct raft_message *msg);
/* 0 if msg is well formed for a cluster of ids 1..max_nodes received by node self, else
 * RAFT_EMALFORMED with *why set to a static explanation. */
int raft_message_validate(const struct raft_message *msg, uint32_t self, uint32_t max_nodes,
                          const char **why);

/* --- events -------------------------------------------------------------------------------- */

enum raft_event_type {
    RAFT_EVENT_TICK = 1,      /* only time passes */
    RAFT_EVENT_RECEIVE = 2,   /* a message arrived; the core copies what it keeps */
    RAFT_EVENT_PROPOSE = 3,   /* a client command; the core copies the bytes */
    RAFT_EVENT_CAMPAIGN = 4,  /* act as on an election timeout, now (pre-vote first if enabled) */
    RAFT_EVENT_PERSISTED = 5, /* persist request `persisted_seq`, and all before it, are durable */
    RAFT_EVENT_READ = 6,      /* a linearizable read asks for a read index (thesis 6.4) */
    RAFT_EVENT_CHANGE = 7,    /* add or remove a server (thesis 4.1); answered in update.change */
    RAFT_EVENT_TRANSFER = 8,  /* hand leadership to a voter (thesis 3.10); update.change */
};

/* RAFT_EVENT_CHANGE: add a server (it joins as a learner and the leader makes it a voter once
 * it has caught up, thesis 4.2.1), or remove one (a voter or a learner). */
enum raft_change_op {
    RAFT_CHANGE_ADD = 1,
    RAFT_CHANGE_REMOVE = 2,
};

/* How a read gets its read index (RAFT_EVENT_READ). */
enum raft_read_mode {
    /* ReadIndex (thesis 6.4), at the leader: its commit index, once an entry of its term has
     * committed, confirmed by a heartbeat round a majority acknowledged after the read arrived.
     * Many reads share one round. Elsewhere: NOT_LEADER. */
    RAFT_READ_INDEX = 0,
    /* Lease (thesis 6.4.1), at the leader: its commit index at once while its lease holds
     * (options.lease_ms from the start of the last round a majority acknowledged); otherwise as
     * RAFT_READ_INDEX. Elsewhere: NOT_LEADER. */
    RAFT_READ_LEASE = 1,
    /* Follower read: a follower asks the leader for a read index (RAFT_MSG_READ_INDEX) and
     * serves the read itself once it has applied that far; at the leader, as RAFT_READ_INDEX. */
    RAFT_READ_FOLLOWER = 2,
};
const char *raft_read_mode_name(enum raft_read_mode mode);

struct raft_event {
    enum raft_event_type type;
    uint64_t now_ms; /* monotonic; a value earlier than a previous event's counts as that one */
    /* More events follow at once (the host's queue is not empty): a leader may hold the
     * AppendEntries, heartbeats and commit notifications it owes its peers for a later step, so
     * that requests arriving together go out in one AppendEntries per peer. A host that sets it
     * must step an event without it before it waits for anything, while raft_flush_held says so
     * (a TICK will do): what was held goes out then. Deferring only delays messages, which the
     * protocol allows. */
    bool more;
    union {
        const struct raft_message *receive;
        struct {
            const void *data;
            uint32_t len;
        } propose;
        /* PERSISTED: the seq of a persist request not reported before (reports come in seq
         * order; one report may cover several requests); anything else is RAFT_EINVAL. */
        uint64_t persisted_seq;
        /* READ: the caller's id for the read (echoed in update.reads), and how. */
        struct {
            uint64_t id;
            enum raft_read_mode mode;
        } read;
        /* CHANGE: what to do to server id (1..max_nodes). */
        struct {
            enum raft_change_op op;
            uint32_t id;
        } change;
        /* TRANSFER: the voter to hand leadership to. */
        uint32_t transfer_to;
    };
};

/* --- the update ---------------------------------------------------------------------------- */

/* What to make durable, in this order: the hard state; the snapshot; then remove the entries
 * from truncate_from on (none if there are none there); then write entries append_first..
 * append_first + n_append - 1; then, if compact_before is set, the entries before it may go (a
 * storage may keep them longer, as whole files are easier to drop). One request per step at
 * most; seq numbers them 1, 2, ... and a storage completes them in seq order.
 *
 * A snapshot received from the leader (InstallSnapshot) that conflicts with the log comes with
 * truncate_from set to remove the whole log; a storage that finds after a crash a durable
 * snapshot at index S and a log entry at S of another term must drop the log after S too (the
 * truncation may not have been durable). */
struct raft_persist {
    uint64_t seq;         /* 0: nothing to persist in this update */
    bool save_hard_state; /* write (term, vote) */
    uint64_t term;
    uint32_t vote;
    /* The snapshot to make durable (replacing older ones), or NULL; into the core's state, valid
     * until the next step. */
    const struct raft_snapshot *snapshot;
    uint64_t truncate_from;          /* 0, or the first index to remove */
    uint64_t append_first;           /* first index written (valid if n_append > 0) */
    const struct raft_entry *append; /* into the core's log; valid until the next step */
    size_t n_append;
    uint64_t compact_before; /* 0, or: entries before this index are no longer needed */
};

enum raft_proposal_status {
    RAFT_PROPOSAL_NONE = 0,       /* the event was not a proposal */
    RAFT_PROPOSAL_ACCEPTED = 1,   /* appended at (index, term); committed later, or lost */
    RAFT_PROPOSAL_NOT_LEADER = 2, /* leader_hint is the leader's id if known, else 0 */
    RAFT_PROPOSAL_TOO_LARGE = 3,  /* len > RAFT_MAX_ENTRY_BYTES */
};

/* What became of a read (RAFT_EVENT_READ), reported in the step that decides it: at once, or in
 * a later step (a heartbeat round confirmed, a leader's reply arrived). */
enum raft_read_status {
    RAFT_READ_READY = 1,      /* serve it from the state machine once applied through index */
    RAFT_READ_NOT_LEADER = 2, /* cannot be served here; leader_hint names the leader if known */
    RAFT_READ_LOST = 3,       /* leadership (or the leader) was lost while it waited */
};

struct raft_read {
    uint64_t id; /* the event's */
    enum raft_read_status status;
    uint64_t index; /* READY: the read index */
    uint32_t leader_hint;
};

struct raft_proposal {
    enum raft_proposal_status status;
    uint64_t index;
    uint64_t term;
    uint32_t leader_hint;
};

/* Why a leader refuses a membership change or a transfer. */
enum raft_refusal {
    RAFT_REFUSE_NONE = 0,
    RAFT_REFUSE_NOT_LEADER = 1,         /* leader_hint names the leader if known */
    RAFT_REFUSE_BAD_ID = 2,             /* not a server id (1..max_nodes) */
    RAFT_REFUSE_TERM_NOT_COMMITTED = 3, /* no entry of the leader's term has committed yet (the
                                           published erratum of thesis 4.1) */
    RAFT_REFUSE_CHANGE_PENDING = 4,     /* the last configuration entry has not committed yet */
    RAFT_REFUSE_CATCHING_UP = 5,        /* a learner is still catching up: one addition at a time */
    RAFT_REFUSE_TRANSFERRING = 6,       /* a leadership transfer is under way */
    RAFT_REFUSE_ALREADY_MEMBER = 7,     /* add: the server is already a voter or learner */
    RAFT_REFUSE_NOT_MEMBER = 8,         /* remove: the server is not in the configuration */
    RAFT_REFUSE_LAST_VOTER = 9,         /* remove: the only voter would be gone */
    RAFT_REFUSE_NOT_VOTER = 10,         /* transfer: the target is not a voter */
    RAFT_REFUSE_SELF = 11,              /* transfer: the target already leads */
    RAFT_REFUSE_NO_QUORUM = 12,         /* remove: the voters left would not include a majority
                                           the leader heard from within an election timeout (the
                                           cluster would stop; etcd's strict reconfig check) */
};
const char *raft_refusal_name(enum raft_refusal why);

enum raft_change_status {
    RAFT_CHANGE_NONE = 0,     /* the event was neither a change nor a transfer */
    RAFT_CHANGE_ACCEPTED = 1, /* change: the entry at index (an addition: the learner's; it
                                 becomes a voter by a later entry); transfer: under way */
    RAFT_CHANGE_REFUSED = 2,  /* why says why; nothing changed */
};

struct raft_change_result {
    enum raft_change_status status;
    enum raft_refusal why;
    uint64_t index;
    uint32_t leader_hint;
};

enum raft_note_kind {
    RAFT_NOTE_ROLE_CHANGE = 1,         /* from_role -> to_role in term */
    RAFT_NOTE_ELECTION_START = 2,      /* term (pre-vote: the prospective term), pre_vote */
    RAFT_NOTE_VOTE_GRANTED = 3,        /* we granted our (pre-)vote to peer for term */
    RAFT_NOTE_VOTE_REFUSED = 4,        /* we refused peer, reason */
    RAFT_NOTE_VOTE_RECEIVED = 5,       /* peer granted us a (pre-)vote; a = votes so far */
    RAFT_NOTE_APPEND_ACCEPTED = 6,     /* from peer: a = prev_log_index, b = entry count */
    RAFT_NOTE_APPEND_REJECTED = 7,     /* from peer, reason; a = prev_log_index */
    RAFT_NOTE_TRUNCATED = 8,           /* removed entries a..b (conflicting suffix) */
    RAFT_NOTE_COMMIT_ADVANCED = 9,     /* commit index a -> b */
    RAFT_NOTE_STEP_DOWN = 10,          /* leader/candidate gave up, reason; term */
    RAFT_NOTE_TERM_CHANGED = 11,       /* a -> b because of a message from peer */
    RAFT_NOTE_PEER_BACKUP = 12,        /* leader: peer's next_index a -> b after a rejection */
    RAFT_NOTE_SNAPSHOT_TAKEN = 13,     /* snapshot at index a; the log now starts at b */
    RAFT_NOTE_SNAPSHOT_SEND = 14,      /* leader: sends peer its snapshot at a (b bytes) */
    RAFT_NOTE_SNAPSHOT_SENT = 15,      /* leader: peer installed the snapshot at a */
    RAFT_NOTE_SNAPSHOT_INSTALLED = 16, /* installed peer's snapshot at a; b = 1 if the log
                                          after it was kept, 0 if discarded */
    RAFT_NOTE_READ_INDEX = 17,       /* leader: read a (peer: a follower's, else 0) gets read index
                                        b; waits for a heartbeat round (b = 0: for the term's first
                                        commit first) */
    RAFT_NOTE_READ_ROUND = 18,       /* leader: heartbeat round a starts for b waiting reads */
    RAFT_NOTE_READ_CONFIRMED = 19,   /* leader: a majority acknowledged round a; b reads ready */
    RAFT_NOTE_READ_LEASE = 20,       /* leader: read a served under the lease at read index b */
    RAFT_NOTE_READ_FORWARD = 21,     /* follower: read a asks leader peer for a read index (b = 1:
                                        with the next request, one being in flight) */
    RAFT_NOTE_CONFIG = 22,           /* the configuration of entry a is now in effect here (b: the
                                        entry of the one it replaces, 0 for the initial one); peer:
                                        the server it adds, promotes or removes (reason says which) */
    RAFT_NOTE_CONFIG_COMMITTED = 23, /* the configuration entry a committed */
    RAFT_NOTE_CATCHUP_ROUND = 24,    /* leader: learner peer finished catch-up round a in b ms */
    RAFT_NOTE_TRANSFER = 25,         /* leader: hands leadership to peer (reason NONE), sends it
                                        TimeoutNow (a = 1), or gives up (reason TRANSFER_TIMEOUT) */
    RAFT_NOTE_TIMEOUT_NOW = 26,      /* peer (our leader) asked us to campaign now */
};
const char *raft_note_kind_name(enum raft_note_kind kind);

enum raft_reason {
    RAFT_REASON_NONE = 0,
    RAFT_REASON_STALE_TERM = 1,    /* message term < current term */
    RAFT_REASON_ALREADY_VOTED = 2, /* voted for another candidate in this term */
    RAFT_REASON_LOG_NOT_UP_TO_DATE = 3,
    RAFT_REASON_LEADER_LEASE = 4,      /* check-quorum: we heard from a leader recently */
    RAFT_REASON_PREV_MISSING = 5,      /* AppendEntries prev_log_index beyond our log */
    RAFT_REASON_PREV_MISMATCH = 6,     /* AppendEntries prev_log_term differs */
    RAFT_REASON_HIGHER_TERM = 7,       /* stepped down: saw a higher term */
    RAFT_REASON_QUORUM_LOST = 8,       /* stepped down: check-quorum failed */
    RAFT_REASON_LEADER_FOUND = 9,      /* candidate stepped down: a leader exists in this term */
    RAFT_REASON_PRE_VOTE_LOST = 10,    /* pre-candidate: a peer has a higher term */
    RAFT_REASON_ADDED = 11,            /* config: a server joins as a learner */
    RAFT_REASON_PROMOTED = 12,         /* config: a learner becomes a voter */
    RAFT_REASON_REMOVED = 13,          /* config: a server leaves; step-down: we were removed */
    RAFT_REASON_CATCHUP_FAILED = 14,   /* config: a learner too slow or silent is removed */
    RAFT_REASON_TRANSFER_TIMEOUT = 15, /* a transfer did not finish within an election timeout */
    RAFT_REASON_TRANSFERRED = 16,      /* vote: granted inside the lease for a transfer */
};
const char *raft_reason_name(enum raft_reason reason);

struct raft_note {
    enum raft_note_kind kind;
    uint64_t term;
    uint32_t peer;
    enum raft_role from_role, to_role;
    enum raft_reason reason;
    bool pre_vote;
    uint64_t a, b;
};

/* Caller-owned, reused across steps; raft_step() clears it first (freeing messages still in it).
 * Arrays grow as needed and are released by raft_update_close(). */
struct raft_update {
    struct raft_persist persist;
    /* A snapshot installed from the leader: the caller replaces its state machine with this
     * snapshot's before applying anything (apply then starts after restore->index). Into the
     * core's state; valid until the next step. NULL: none. */
    const struct raft_snapshot *restore;
    struct raft_message *msgs; /* msgs[0..n_msgs) */
    size_t n_msgs, cap_msgs;
    /* Committed entries to apply, indices apply_first .. apply_first + n_apply - 1. The pointer
     * is into the core's log and valid until the next raft_step()/raft_close(). The core has
     * already advanced last_applied past them: the caller must apply them before the next step. */
    uint64_t apply_first;
    const struct raft_entry *apply;
    size_t n_apply;
    struct raft_proposal proposal;
    struct raft_change_result change; /* CHANGE, TRANSFER */
    /* Reads decided in this step (RAFT_EVENT_READ), in the order decided. */
    struct raft_read *reads;
    size_t n_reads, cap_reads;
    /* The log has grown snapshot_threshold entries past the last snapshot: the caller should
     * hand the core a snapshot of its state machine (raft_snapshot_take) before the next step. */
    bool snapshot_wanted;
    struct raft_note *notes;
    size_t n_notes, cap_notes;
    uint64_t next_wake_ms; /* send a TICK no later than this */
};
void raft_update_init(struct raft_update *u);
void raft_update_close(struct raft_update *u);
/* Frees the messages still in u and empties it, keeping its arrays (raft_step does this first):
 * for a host step that does not reach the core. next_wake_ms is 0 then: no new wish. */
void raft_update_clear(struct raft_update *u);
/* Moves msgs[i] into *dst (dst then owns its entries); msgs[i] keeps no entries. */
void raft_update_take_message(struct raft_update *u, size_t i, struct raft_message *dst);

/* --- the node ------------------------------------------------------------------------------ */

struct raft_options {
    uint32_t id;      /* 1..max_nodes */
    uint32_t n_nodes; /* 1..max_nodes: the initial configuration's voters are 1..n_nodes */
    /* Ids are 1..max_nodes (n_nodes..RAFT_MAX_NODES; 0: n_nodes): how far the cluster may grow. */
    uint32_t max_nodes;
    /* A server that joins a running cluster: it never campaigns before its log (or a snapshot)
     * gives it a configuration; until then it only follows (a fresh server whose id is among the
     * initial voters, added back after a removal, would otherwise stand for election with an
     * empty log). Its configuration starts as everyone's, voters 1..n_nodes, which is what the
     * entries before the first change were made under. */
    bool join;
    uint64_t election_timeout_ms_min;
    uint64_t election_timeout_ms_max; /* >= min; each timeout is uniform in [min, max] */
    uint64_t heartbeat_ms;            /* > 0, < election_timeout_ms_min */
    uint64_t seed; /* seeds the PRNG (election timeouts) and the ids of follower reads: give each
                      incarnation of a node its own (hosts derive it from the incarnation) */
    bool pre_vote; /* thesis 9.6 */
    bool check_quorum;               /* thesis 6.2 (with leader lease for votes, 4.2.3) */
    uint32_t max_entries_per_append; /* 1..RAFT_MAX_BATCH_ENTRIES */
    uint32_t max_inflight;           /* AppendEntries in flight per peer, 1..RAFT_MAX_INFLIGHT */
    /* Snapshots (section 7): ask for one when this many entries were applied since the last
     * (0: never); keep this many entries before it for followers a little behind; send it in
     * chunks of this many bytes (1..RAFT_MAX_SNAPSHOT_CHUNK). */
    uint64_t snapshot_threshold;
    uint64_t snapshot_trailing;
    uint32_t snapshot_chunk_bytes;
    /* Lease reads (thesis 6.4.1): how long a leader's lease lasts from the start of a heartbeat
     * round a majority acknowledged; the election timeout's minimum less a clock-drift margin.
     * 0: no lease (RAFT_READ_LEASE reads take a heartbeat round). Needs check_quorum: followers
     * then refuse to vote for anyone else that long after hearing from their leader, which is
     * what makes the lease safe. Must be < election_timeout_ms_min. */
    uint64_t lease_ms;
    /* The host's storage is synchronous: it makes each step's persist request durable before it
     * carries out anything else of the update (an in-memory disk; a write and fsync in the
     * node's own thread). The core then counts the request durable at the end of the step, as
     * a PERSISTED report would, and holds no message for it; no report is expected. Off: the
     * host reports each request with RAFT_EVENT_PERSISTED when it is durable. */
    bool persist_sync;
#ifdef RAFT_PLANTED_BUGS
    uint32_t planted_bugs; /* RAFT_BUG_* flags; 0: none (test build only, below) */
#endif
};

#ifdef RAFT_PLANTED_BUGS
/* Known bugs a test can plant (issue 6: a simulator must be shown to catch them). Core asserts
 * may catch some first (e.g. truncating below commit_index). They exist only in the test build
 * of the core, compiled with -DRAFT_PLANTED_BUGS (build/MODE/libraft_planted.a): production has
 * neither the planted_bugs field nor the bug branches. The two builds' structs differ, so the
 * test build renames raft_init: an object compiled for one does not link with the other. */
#define raft_init raft_init_planted
enum {
    RAFT_BUG_COMMIT_OLD_TERM = 1u << 0,         /* leader commits old-term entries by counting */
    RAFT_BUG_DOUBLE_VOTE = 1u << 1,             /* grant a vote despite having voted in the term */
    RAFT_BUG_FORGET_VOTE = 1u << 2,             /* raft_init forgets the persisted vote */
    RAFT_BUG_APPLY_BEFORE_COMMIT = 1u << 3,     /* hand out entries to apply as soon as appended */
    RAFT_BUG_ACK_BEFORE_DURABLE = 1u << 4,      /* acknowledge AppendEntries before the entries are
                                                   durable */
    RAFT_BUG_CUT_ON_BAD_CHECKSUM = 1u << 5,     /* storage/ (not the core): a damaged record in the
                                                   newest segment is cut off with everything after
                                                   it, like a torn write, and the node carries on */
    RAFT_BUG_READ_WITHOUT_ROUND = 1u << 6,      /* serve a ReadIndex read at once, without the
                                                   heartbeat round that confirms leadership */
    RAFT_BUG_READ_BEFORE_TERM_COMMIT = 1u << 7, /* a new leader serves reads before an entry of
                                                   its term has committed */
    RAFT_BUG_LEASE_NO_CHECK_QUORUM = 1u << 8,   /* lease reads with check-quorum off: the leader
                                                   takes its role for its lease (as etcd's
                                                   lease-based reads do, which only check-quorum
                                                   makes sound) while no leader steps down for
                                                   want of a quorum and followers vote freely */
    RAFT_BUG_TWO_CHANGES = 1u << 9,             /* start a membership change while the previous
                                                   one has not committed (and promote a learner
                                                   at once, without catching it up) */
    RAFT_BUG_CHANGE_BEFORE_TERM_COMMIT = 1u << 10, /* start a membership change before an entry
                                                   of the leader's term has committed */
};
#endif
/* Sensible defaults for a cluster of n_nodes with the given id. */
void raft_options_default(struct raft_options *o, uint32_t id, uint32_t n_nodes);
/* 0 or RAFT_EINVAL with *why set. */
int raft_options_validate(const struct raft_options *o, const char **why);

/* A persist request not yet reported durable. */
struct raft_inflight_persist {
    uint64_t seq;
    uint64_t last_index; /* entries up to here are durable once seq is (lowered when a later
                            step removes some of them from the core's log) */
};

/* A read waiting at the leader: for the term's first commit (round 0), then for a majority to
 * acknowledge heartbeat round `round`. from: the follower that asked, or 0 for a local read. */
struct raft_pending_read {
    uint64_t id;
    uint64_t index;
    uint64_t round;
    uint32_t from;
};

/* A follower read waiting for its leader's read index (or lost with the term). id is the
 * caller's; wire_id the request's that asked for it (0: not yet asked), unique across this
 * node's incarnations (an answer to a request of an earlier incarnation, which may have asked
 * before a write that a read of this one must see, matches nothing). */
struct raft_forwarded_read {
    uint64_t id;
    uint64_t wire_id;
    uint64_t sent_ms;
};

/* Reads waiting, and round start times remembered for the lease: bounded. */
#define RAFT_MAX_PENDING_READS 65536
#define RAFT_READ_ROUND_RING   64

/* A message waiting for persist request after_seq to be durable. */
struct raft_held_message {
    uint64_t after_seq;
    struct raft_message m;
};

/* Volatile state. Fields are private to raft/; read them through the accessors below. */
struct raft {
    struct raft_options opt;
    /* The core's copy of the persistent state: what it has asked to persist, durable or not. */
    struct raft_disk state;
    /* Invariant: entries 1..durable_index are durable exactly as they are in state.log. */
    uint64_t durable_index;
    uint64_t persist_seq;    /* the last persist request issued */
    uint64_t persisted_seq;  /* the last one reported durable; Invariant: <= persist_seq */
    uint64_t hard_state_seq; /* the last request that saved the hard state (term, vote) */
    /* Follower: the read round of the last early acknowledgement sent (hold_messages), and its
     * term: one per round suffices. */
    uint64_t early_ack_round, early_ack_term;
    struct raft_inflight_persist *inflight; /* requests persisted_seq+1..persist_seq, in order */
    size_t n_inflight, cap_inflight;
    struct raft_held_message *held; /* in the order they were sent */
    size_t n_held, cap_held;
    /* This step's changes to persist: the hard state, and the first log index that changed. */
    bool step_hard_state;
    uint64_t step_dirty_from;
    bool step_snapshot;           /* state.snapshot changed */
    uint64_t step_compact_before; /* the log was compacted up to here */
    struct prng prng;
    enum raft_role role;
    uint32_t leader_id;             /* leader of current_term if known, else 0 */
    uint64_t commit_index;          /* Invariant: last_applied <= commit_index <= last log index;
                                       monotonic while this struct lives (Figure 2) */
    uint64_t last_applied;          /* Invariant: last_applied <= commit_index (the test
                                       build's RAFT_BUG_APPLY_BEFORE_COMMIT aside) */
    uint64_t now_ms;                /* latest time seen; monotonic */
    uint64_t election_deadline_ms;  /* follower/candidate: campaign when now >= this */
    uint64_t heartbeat_deadline_ms; /* leader: heartbeat when now >= this */
    uint64_t quorum_deadline_ms;    /* leader with check_quorum: check contacts at this time */
    uint64_t leader_contact_ms;     /* follower: last AppendEntries/notify from leader_id */
    /* Follower: highest index known to match leader_id's log in current_term (from accepted
     * AppendEntries); a CommitNotify may advance commit_index only up to it. Reset with term. */
    uint64_t leader_match;
    /* (Pre-)candidate: votes[i] is true if node i+1 granted us a (pre-)vote this round. */
    bool votes[RAFT_MAX_NODES];
    uint32_t n_votes;
    /* Leader: progress[i] for node i+1 (own entry unused). */
    struct raft_progress *progress;
    /* A snapshot handed in by raft_snapshot_take(), taken by the next step (data owned). */
    struct raft_snapshot take;
    /* Follower: the leader's snapshot being received (incoming.len bytes of incoming_total so
     * far, in incoming.data of capacity incoming_cap); incoming.index 0: none. */
    struct raft_snapshot incoming;
    uint64_t incoming_total;
    size_t incoming_cap;
    /* Leader reads (thesis 6.4): rounds started in this term (read_round, the latest; each
     * peer's highest acknowledged is in progress[].read_acked), the highest a majority
     * acknowledged, and when recent rounds started (round_start_ms[round % RING]); the lease
     * runs from lease_start_ms, the start of the last round a majority acknowledged. */
    uint64_t read_round;
    uint64_t read_confirmed;
    uint64_t read_round_busy; /* the last round started for waiting reads */
    bool read_round_unsent;   /* a round started this step: flush sends probes again with it */
    bool flush_held;          /* a leader's step with `more` held its messages (raft_flush_held) */
    uint64_t round_start_ms[RAFT_READ_ROUND_RING];
    uint64_t lease_start_ms;
    bool lease_valid; /* a round of this term was confirmed: lease_start_ms means something */
    struct raft_pending_read *pending_reads; /* in arrival order; rounds non-decreasing */
    size_t head_reads, n_pending_reads, cap_pending_reads;
    struct raft_forwarded_read *forwarded; /* follower reads sent to leader_id, oldest first */
    size_t n_forwarded, cap_forwarded;
    uint32_t forwarded_to; /* the leader they went to, in forwarded_term */
    uint64_t forwarded_term;
    /* The next wire id: counts up from a start drawn from the options' seed, which hosts derive
     * from the incarnation, so two incarnations' ids collide with negligible probability. */
    uint64_t forward_next;
    uint64_t forward_inflight; /* the wire id of the READ_INDEX request in flight; 0: none */
    /* With lease_ms: a restarted node refuses votes until this time (it may have acknowledged
     * a leader's round just before its crash and forgotten it). */
    uint64_t restart_quiet_until_ms;
    /* Membership (membership.c): the configuration in effect (the latest in the log, or the
     * snapshot's, or the initial one) and the entry it came from (0: not from the log), and the
     * one before it. Every configuration entry in a log but the last is committed (a leader
     * starts a change only once the last has committed), so the committed configuration is
     * config, or config_prev while config_index > commit_index. */
    struct raft_config config, config_prev;
    uint64_t config_index, config_prev_index;
    uint64_t config_noted; /* the last configuration entry noted committed */
    /* Leader: the voter leadership is being handed to (0: none), until when, and whether it was
     * sent TimeoutNow (then no lease read in this term: its election may skip the lease). */
    uint32_t transfer_to;
    uint64_t transfer_deadline_ms;
    bool transfer_sent;
    bool lease_off;
    uint64_t lease_min_round; /* only a round from here on makes a lease (config changed) */
    /* Candidate: this election was asked for by TimeoutNow (RequestVote.transfer). */
    bool transfer_campaign;
    struct raft_update *out; /* the update being filled during raft_step() */
};

/* Initialises r from opt and a copy of the durable state loaded (all of it counts as durable;
 * the caller keeps loaded): a follower in loaded->current_term, commit_index = last_applied = 0
 * (the log is replayed to the state machine as entries commit again). 0, or RAFT_EINVAL for
 * bad options or a loaded state that cannot be (a vote for no node, a log term above the term,
 * a log that starts past index 1: a snapshot's, which this core cannot load yet). */
int raft_init(struct raft *r, const struct raft_options *opt, const struct raft_disk *loaded,
              uint64_t now_ms);
/* Releases volatile state (the core's copy of the persistent state included: a "crash"; the
 * storage keeps what was durable). */
void raft_close(struct raft *r);

/* A crash for a host whose storage is the core's own memory (every request durable as soon as it
 * is made, all reported): hands the persistent state to disk, replacing what disk held, without
 * copying it, then closes r as raft_close does. Precondition: no persist request unreported. */
void raft_close_keep(struct raft *r, struct raft_disk *disk);

/* The in-memory storage's write: carries out persist request p on disk (hard state, truncation,
 * entries copied). A host that keeps its durable state in memory applies each update's request
 * with it and reports it durable at once; a simulated disk applies it when its write completes. */
void raft_disk_apply(struct raft_disk *disk, const struct raft_persist *p);

/* Hands the core a snapshot of the state machine as it is after applying through index, which
 * must be raft_last_applied(r) (and above the current snapshot's index): data (len bytes, one
 * allocation) becomes the core's. The next raft_step() that is not a PERSISTED report takes it: it
 * becomes the snapshot to persist and send to followers, and the log before index -
 * snapshot_trailing + 1 is dropped. A second call before that step replaces the first. */
void raft_snapshot_take(struct raft *r, uint64_t index, uint8_t *data, size_t len);

/* THE entry point. Clears *out, processes ev, fills *out. Returns 0, or RAFT_EMALFORMED for a
 * malformed received message / RAFT_EINVAL for a bad event; on error nothing changed except
 * out->next_wake_ms. */
int raft_step(struct raft *r, const struct raft_event *ev, struct raft_update *out);

/* --- accessors (for node.c, invariant monitors and summaries) ------------------------------ */
uint32_t raft_id(const struct raft *r);
enum raft_role raft_role(const struct raft *r);
uint64_t raft_term(const struct raft *r);
uint32_t raft_voted_for(const struct raft *r);
uint32_t raft_leader_id(const struct raft *r); /* 0 if unknown; own id when leader */
uint64_t raft_commit_index(const struct raft *r);
uint64_t raft_last_applied(const struct raft *r);
uint64_t raft_last_index(const struct raft *r);
uint64_t raft_last_term(const struct raft *r);
/* The latest snapshot's index (0 if none) and the first index the log holds. */
uint64_t raft_snapshot_index(const struct raft *r);
uint64_t raft_first_index(const struct raft *r);
/* True while a persist request has not been reported durable (never with persist_sync). */
bool raft_persist_waiting(const struct raft *r);
/* True if a step with raft_event.more held messages of a leader's that no step without it has
 * sent since: the host owes a step without `more` (a TICK) before it waits. */
bool raft_flush_held(const struct raft *r);
/* The highest index whose entry is durable here as it is in the log (0 if none). */
uint64_t raft_durable_index(const struct raft *r);
/* The entry at index 1..raft_last_index(), or NULL if out of range; valid until the next step. */
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);
/* Leader: what it knows of peer's log (match_index, next_index); 0 otherwise. */
uint64_t raft_peer_match(const struct raft *r, uint32_t peer);
uint64_t raft_peer_next(const struct raft *r, uint32_t peer);
/* The configuration in effect here (the latest this node has), the index of its entry (0: the
 * initial configuration or a snapshot's), and the latest committed one. */
const struct raft_config *raft_config(const struct raft *r);
uint64_t raft_config_index(const struct raft *r);
const struct raft_config *raft_config_committed(const struct raft *r);
/* Leader: the voter leadership is being handed to, or 0. */
uint32_t raft_transfer_target(const struct raft *r);

#endif
