/* model.h - the timeline's model (internal to timeline/): a JSON Lines trace and a client history
 * read into messages, role spans, ticks, membership lines, node states, faults and client
 * operations, then laid out (lanes, time scale, idle stretches, heartbeat runs, membership
 * stretches, transfers) for the writers.
 *
 * Times are nanoseconds since the trace's time zero (int64: a history may start before it).
 * Everything is kept in input order, and every derived list is built in a fixed order, so that
 * one input always gives one output, byte for byte.
 */
#ifndef RAFT_KV_TIMELINE_MODEL_H
#define RAFT_KV_TIMELINE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h> /* memset, for TL_PUSH */

#include "check/linearize.h"
#include "timeline/timeline.h"

#define TL_NONE UINT32_MAX /* "no index" in the uint32_t links below */

/* How a message is drawn: its colour class. Replies share the class of their request. */
enum tl_class {
    TL_C_PREVOTE = 0,
    TL_C_VOTE,
    TL_C_APPEND,
    TL_C_HEARTBEAT,
    TL_C_SNAPSHOT,
    TL_C_READ,
    TL_C_NOTIFY,
    TL_C_OTHER,
    TL_C_COUNT
};
const char *tl_class_name(enum tl_class c); /* a CSS-safe word: "prevote", "append", ... */

enum tl_role {
    TL_ROLE_FOLLOWER = 0,
    TL_ROLE_PRECANDIDATE,
    TL_ROLE_CANDIDATE,
    TL_ROLE_LEADER,
    TL_ROLE_UNKNOWN, /* a role word this reader does not know, or a lane before its first role */
    TL_ROLE_DOWN,    /* crashed: only in the node state panel */
};
const char *tl_role_name(enum tl_role r);

/* One message, by id: its send and the ends (receives, drops) that share the id. */
struct tl_msg {
    char *id;   /* owned */
    char *type; /* owned: the trace's word, "AppendEntries" (or "?" if none was given) */
    enum tl_class cls;
    bool reply;
    bool pre_vote, heartbeat;
    bool has_ok, ok; /* replies: success / vote granted */
    bool has_send;
    bool dup;          /* a "dup" line named it */
    uint32_t from, to; /* node ids; 0 when not given */
    uint64_t term;
    int64_t entries; /* -1 when not given */
    int64_t send_ns;
    uint32_t send_line;
    uint32_t first_end; /* index into model.ends, TL_NONE if none */
};

enum tl_end_kind { TL_END_RECV = 0, TL_END_DROP = 1 };

/* A receive or a drop of a message; a duplicated message has two receives (or a receive and a
 * drop). ends are in file order; next_end chains those of one message. */
struct tl_end {
    uint32_t msg;
    enum tl_end_kind kind;
    bool copy; /* not the message's first end: the network's duplicate */
    int64_t t_ns;
    uint32_t line;
    uint32_t to; /* the receiving node (the line's "to", else the actor's node id) */
    char *why;   /* drops: owned, or NULL */
    uint32_t next_end;
};

/* A line that changes a node's role or term, or cuts its lane: the input of the spans. */
enum tl_nev_kind {
    TL_NEV_ROLE = 0,
    TL_NEV_TERM,
    TL_NEV_CRASH,
    TL_NEV_RESTART,
    TL_NEV_JOIN,   /* a configuration adds the node: its lane has a band from here if none yet */
    TL_NEV_RETIRE, /* the host stopped the removed node: no band until it is heard from again */
};
struct tl_nev {
    uint32_t node;
    enum tl_nev_kind kind;
    enum tl_role role; /* TL_NEV_ROLE */
    bool has_term;
    uint64_t term;
    int64_t t_ns;
    uint32_t line;
};

/* A stretch of one node's role and term: from a role/term/restart line to the next, a crash or
 * the end of the trace. */
struct tl_span {
    uint32_t node;
    enum tl_role role;
    uint64_t term;
    int64_t t0_ns, t1_ns;
};

enum tl_tick_kind { TL_TICK_COMMIT = 0, TL_TICK_APPLY, TL_TICK_SNAPSHOT, TL_TICK_TERM };

struct tl_tick {
    uint32_t node;
    enum tl_tick_kind kind;
    bool client_cmd; /* apply of a client command: has client and seq */
    int64_t t_ns;
    uint64_t index; /* TL_TICK_TERM: the new term */
    uint64_t client, seq;
    uint32_t line;
    uint32_t op; /* apply of a client command: the history op it carried, TL_NONE if none */
};

/* A membership line of a node ("config" and "transfer" events): a configuration taking effect or
 * committing there, the host retiring it, or a step of a leadership transfer. */
enum tl_mev_kind {
    TL_MEV_CONFIG = 0,  /* the configuration of entry `index` is in effect on node */
    TL_MEV_COMMITTED,   /* that configuration entry committed on node */
    TL_MEV_RETIRED,     /* the host stopped node: removed from the cluster */
    TL_MEV_TRANSFER,    /* leader node hands leadership to peer: no new entries meanwhile */
    TL_MEV_TIMEOUT_NOW, /* leader node: peer has the whole log, told to campaign now */
    TL_MEV_GAVE_UP,     /* leader node gives up the transfer to peer and leads on */
    TL_MEV_CAMPAIGN,    /* node was told by its leader to campaign now */
};

/* What a configuration did to its member: the trace's "change" words. */
enum tl_change {
    TL_CH_NONE = 0,
    TL_CH_ADDED,          /* "added as learner" */
    TL_CH_PROMOTED,       /* "promoted to voter" */
    TL_CH_REMOVED,        /* "removed" */
    TL_CH_CATCHUP_FAILED, /* "learner could not catch up": removed as well */
    TL_CH_OTHER,          /* a word this reader does not know (kept in text) */
};

const char *tl_change_name(enum tl_change c); /* the trace's word; "none" for NONE and OTHER */

struct tl_mev {
    uint32_t node;
    enum tl_mev_kind kind;
    enum tl_change change; /* TL_MEV_CONFIG */
    uint32_t peer;         /* config: the member added, promoted or removed (0 unknown); a
                              transfer's target (0 unknown) */
    uint64_t index;        /* config, committed: the configuration entry */
    int64_t t_ns;
    uint32_t line;
    char *text; /* owned: the change word (TL_CH_OTHER), or a transfer line's msg; or NULL */
};

/* A node's place in the cluster, by the configurations of the trace: a stretch as a learner or
 * outside the cluster (not yet added, or removed); a voter elsewhere. */
enum tl_membership { TL_M_VOTER = 0, TL_M_LEARNER, TL_M_OUTSIDE };
struct tl_mspan {
    uint32_t node;
    enum tl_membership m;
    int64_t t0_ns, t1_ns;
    uint64_t index; /* the configuration entry that began it; 0: the start of the trace */
    uint32_t line;  /* the line that began it; 0: the start of the trace */
    bool never;     /* outside: never named by a configuration and never heard from */
};

/* A leadership transfer on its leader's lane: from "hands leadership" to the leader giving up,
 * leaving its role, or the end of the trace. */
struct tl_xfer {
    uint32_t node, to;
    int64_t t0_ns, t1_ns;
    uint32_t line;
    bool gave_up;
};

/* A "state" line: a node's state after one step, for the click-a-node panel. */
struct tl_state {
    uint32_t node;
    int64_t t_ns;
    uint64_t term, last_index, commit, applied;
    enum tl_role role;
};

enum tl_fault_kind {
    TL_F_CRASH = 0,
    TL_F_RESTART,
    TL_F_PARTITION,
    TL_F_HEAL,
    TL_F_ISOLATE,
    TL_F_SLOW,
    TL_F_OTHER
};

/* A fault line as read, and the stretch it lasted (t1_ns: its restart or heal, or the end). */
struct tl_fault {
    enum tl_fault_kind kind;
    char *name; /* owned: the trace's word */
    int64_t t0_ns, t1_ns;
    uint32_t line;
    uint32_t node;      /* crash, restart, isolate, slow, transfer, add, remove; 0 otherwise */
    uint64_t slow_ms;   /* slow */
    uint32_t *groups;   /* partition: owned; node ids, group after group */
    uint32_t *group_of; /* partition: owned, parallel to groups: the group number of each */
    size_t n_groups_nodes;
    uint32_t n_groups;
    char *refused; /* owned: a membership change the leader refused, and why; NULL otherwise */
    bool open;     /* nothing ended it before the end of the trace */
};

/* A client operation of the history, in trace time. */
struct tl_op {
    uint64_t process;
    enum check_f f;
    enum check_type type;
    enum check_res result;
    char *key, *value, *error; /* owned, NUL-ended, escaped of nothing (writers escape); or NULL */
    int64_t t0_ns, t1_ns;
    bool completed; /* false: no completion line (t1_ns is the end of the trace) */
    bool has_seq, has_index, has_node;
    uint64_t seq, index, node;
    bool stale;
    bool bad, stuck; /* named by the checker */
    uint32_t invoke_line, complete_line;
    uint32_t apply; /* the linked apply tick (on the answering node if known), TL_NONE if none */
};

/* A run of one leader's heartbeats (and their replies) in one term, drawn as one mark while the
 * heartbeats are folded. */
struct tl_hb_run {
    uint32_t node;
    uint64_t term;
    int64_t t0_ns, t1_ns;
    size_t n_msgs, n_refused, n_dropped;
};

/* A term as seen across the cluster: from the first node to enter it to the first node to enter
 * a later one; its leader (0 if none was seen). */
struct tl_term {
    uint64_t term;
    int64_t t0_ns, t1_ns;
    uint32_t leader;
};

/* A lane: nodes first (by id), then clients (by id). */
struct tl_lane {
    bool client;
    uint64_t id;
    double y0, y1; /* top and bottom in pixels */
};

#define TL_VEC(T)                                                                                  \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

struct tl_ids {
    uint64_t *v;
    size_t n, cap;
};

struct tl_model {
    const char *trace_path, *history_path; /* borrowed, for messages */
    char *title; /* owned: the first "start" line's msg, else the first line's, or "" */
    bool title_from_start;
    size_t n_lines;
    int64_t t_min_ns, t_max_ns; /* over everything drawn */
    int64_t history_t0_ns;

    TL_VEC(struct tl_msg) msgs;
    TL_VEC(struct tl_end) ends;
    TL_VEC(struct tl_nev) nevs; /* in file order */
    TL_VEC(struct tl_span) spans;
    TL_VEC(struct tl_tick) ticks;
    TL_VEC(struct tl_mev) mevs;     /* in file order */
    TL_VEC(struct tl_mspan) mspans; /* by node, then time */
    TL_VEC(struct tl_xfer) xfers;   /* in file order */
    TL_VEC(struct tl_state) states;
    TL_VEC(struct tl_fault) faults;
    TL_VEC(struct tl_op) ops;
    TL_VEC(struct tl_hb_run) hb_runs;
    TL_VEC(struct tl_term) terms;
    TL_VEC(struct tl_lane) lanes;
    struct tl_ids node_ids; /* sorted, distinct */
    struct tl_ids client_ids;

    /* message id -> index into msgs; open addressing, power-of-two capacity */
    uint32_t *id_table;
    size_t id_cap;

    /* the history's verdict */
    bool has_history;
    struct check_result check;
    bool has_check;
    uint32_t first_bad_op; /* earliest invoke among the ops the checker names; TL_NONE if none */

    /* layout */
    double px_per_ms;     /* base scale: pixels per millisecond */
    double x_left;        /* pixel x of t_min_ns */
    double width, height; /* of the plot */
    double terms_y0, terms_y1;
    TL_VEC(double) folds; /* idle stretches [x0, x1) in base pixels, pairs */

    struct timeline_stats stats;
};

/* Appends one zeroed element to vector vec (a TL_VEC) and returns a pointer to it. */
#define TL_PUSH(vec)                                                                               \
    (tl_grow((void **)&(vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v),                         \
     memset(&(vec).v[(vec).n], 0, sizeof *(vec).v), &(vec).v[(vec).n++])
void tl_grow(void **v, size_t *cap, size_t need, size_t elem);

/* Reads the trace at path into m (which must be zeroed). 0, or -1 with "path:line: what" in err.
 * trace.c. */
int tl_read_trace(struct tl_model *m, const char *path, char *err, size_t err_len);
/* Reads the history at path (check_history_load, as --check-history does), runs the
 * linearizability check, and links operations to the applies that carried them. history.c. */
int tl_read_history(struct tl_model *m, const char *path, char *err, size_t err_len);
/* Derives spans, terms, fault stretches and heartbeat runs, lanes and the time scale; fills
 * m->stats. layout.c. */
void tl_layout(struct tl_model *m);
void tl_model_free(struct tl_model *m);
/* The writers: the page (html.c, with assets.c) and the Perfetto file (perfetto.c). They only
 * write; the caller checks the stream for errors. */
void tl_write_html(const struct tl_model *m, FILE *out);
void tl_write_perfetto(const struct tl_model *m, FILE *out);
extern const char tl_css[];
extern const char tl_css_membership[]; /* only on the page of a run with membership changes */
extern const char tl_js[];

/* Lane index of node id / client id, TL_NONE if it has none. */
uint32_t tl_lane_of_node(const struct tl_model *m, uint64_t id);
uint32_t tl_lane_of_client(const struct tl_model *m, uint64_t id);
/* Base pixel x of time t. */
double tl_x(const struct tl_model *m, int64_t t_ns);
/* The role word of a trace line ("follower", "pre-candidate", "candidate", "leader"). trace.c */
enum tl_role tl_role_parse(const char *s);

/* Output helpers (timeline.c). Text for HTML (escapes & < > " ' and shows control bytes as \xNN),
 * the body of a JSON string (escapes as JSON does, and < as \u003c so that it can sit in a
 * <script>), and a time in milliseconds from nanoseconds ("12.345678", trailing zeros cut). */
void tl_html(FILE *out, const char *s);
void tl_json_str(FILE *out, const char *s);
const char *tl_ms(char buf[32], int64_t t_ns);
/* What a membership line says ("configuration of entry 26 in effect: node 4 promoted to voter",
 * a transfer line's own words), its strings written through text (tl_html or tl_json_str). */
void tl_mev_describe(FILE *out, const struct tl_mev *v, void (*text)(FILE *, const char *));

/* Adds id to the sorted set s (no-op if present); whether it is there. */
void tl_ids_add(struct tl_ids *s, uint64_t id);
bool tl_ids_has(const struct tl_ids *s, uint64_t id);

#endif
