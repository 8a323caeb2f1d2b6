/* test_raft_cluster.h - an in-test "network" for the pure Raft core: nodes step on demand, their
 * outgoing messages wait in one queue, and each test delivers, drops or reorders them by hand.
 * Single-threaded and deterministic; included by the test_raft_*.c files.
 */
#ifndef RAFT_KV_TEST_RAFT_CLUSTER_H
#define RAFT_KV_TEST_RAFT_CLUSTER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/alloc.h"
#include "raft/raft.h"

#define CL_MAX   9
#define CL_READS 256

struct cluster {
    uint32_t n;
    uint64_t now_ms;
    struct raft_options opt[CL_MAX + 1];
    struct raft_disk disk[CL_MAX + 1];
    struct raft raft[CL_MAX + 1];
    struct raft_update up[CL_MAX + 1];
    struct raft_update up_done[CL_MAX + 1]; /* the update of each step's PERSISTED report */
    /* slow_disk[id]: node id's writes reach its disk at once but are reported durable only by
     * cl_sync (a test of the persistence contract); unsynced[id] is the last seq not reported. */
    bool slow_disk[CL_MAX + 1];
    uint64_t unsynced[CL_MAX + 1];
    bool alive[CL_MAX + 1];
    bool cut[CL_MAX + 1][CL_MAX + 1]; /* cut[a][b]: messages a -> b are dropped at delivery */
    struct raft_message *q;           /* messages in flight, oldest first */
    size_t nq, capq;
    /* Counters: messages emitted by type, and entries carried in AppendEntries to each node. */
    uint64_t sent[RAFT_MSG_TIMEOUT_NOW + 1];
    uint64_t entries_to[CL_MAX + 1];
    uint64_t applied[CL_MAX + 1];         /* last index applied as seen in updates */
    uint64_t apply_term[CL_MAX + 1][256]; /* term of the entry applied at index (index < 256) */
    struct raft_proposal last_proposal;
    /* Snapshots: the state machine's bytes are CL_SNAPSHOT_BYTES copies of the applied index's
     * low byte; restored[id] counts snapshots installed from a leader. */
    uint64_t snapshots_taken[CL_MAX + 1];
    uint64_t restored[CL_MAX + 1];
    /* Reads decided (update.reads), in order, per node (the first CL_READS of them). */
    struct raft_read reads[CL_MAX + 1][CL_READS];
    size_t n_reads[CL_MAX + 1];
};

#define CL_SNAPSHOT_BYTES 40

static inline void cl_collect(struct cluster *c, uint32_t id, struct raft_update *u)
{
    for (size_t i = 0; i < u->n_msgs; i++) {
        if (c->nq == c->capq) {
            c->capq = c->capq ? c->capq * 2 : 64;
            c->q = xreallocarray(c->q, c->capq, sizeof *c->q);
        }
        raft_update_take_message(u, i, &c->q[c->nq]);
        struct raft_message *m = &c->q[c->nq++];
        c->sent[m->type]++;
        if (m->type == RAFT_MSG_APPEND_ENTRIES)
            c->entries_to[m->to] += m->append_entries.n_entries;
    }
    for (size_t i = 0; i < u->n_reads; i++)
        if (c->n_reads[id] < CL_READS)
            c->reads[id][c->n_reads[id]++] = u->reads[i];
    if (u->restore != NULL) {
        /* The state machine is the snapshot's, which stands for every entry through it. */
        assert_true(u->restore->index > c->applied[id]);
        assert_int_equal(u->restore->len, CL_SNAPSHOT_BYTES);
        assert_int_equal(u->restore->data[0], (uint8_t)u->restore->index);
        c->applied[id] = u->restore->index;
        c->restored[id]++;
    }
    if (u->n_apply > 0) {
        /* Entries are applied in index order, each exactly once. */
        assert_int_equal(u->apply_first, c->applied[id] + 1);
        for (size_t i = 0; i < u->n_apply; i++) {
            uint64_t index = u->apply_first + i;
            if (index < 256)
                c->apply_term[id][index] = u->apply[i].term;
        }
        c->applied[id] += u->n_apply;
    }
    if (u->snapshot_wanted) {
        uint8_t *data = xmalloc(CL_SNAPSHOT_BYTES);
        memset(data, (uint8_t)c->applied[id], CL_SNAPSHOT_BYTES);
        raft_snapshot_take(&c->raft[id], c->applied[id], data, CL_SNAPSHOT_BYTES);
        c->snapshots_taken[id]++;
    }
}

/* Steps node id; its disk is memory, so a persist request is carried out at once and reported
 * durable with a second step (whose messages and applies are collected too). */
static inline int cl_step(struct cluster *c, uint32_t id, struct raft_event *ev)
{
    assert_true(c->alive[id]);
    ev->now_ms = c->now_ms;
    int rc = raft_step(&c->raft[id], ev, &c->up[id]);
    struct raft_update *u = &c->up[id];
    raft_disk_apply(&c->disk[id], &u->persist);
    cl_collect(c, id, u);
    if (u->persist.seq != 0 && c->slow_disk[id]) {
        c->unsynced[id] = u->persist.seq;
    } else if (u->persist.seq != 0) {
        /* The report's update is collected too, and its notes added to the step's, so a test
         * reads one step's notes (and persist request) in c->up[id] as before. */
        struct raft_update *d = &c->up_done[id];
        struct raft_event done = {
            .type = RAFT_EVENT_PERSISTED, .now_ms = c->now_ms, .persisted_seq = u->persist.seq};
        assert_int_equal(raft_step(&c->raft[id], &done, d), RAFT_OK);
        assert_int_equal(d->persist.seq, 0); /* a report asks for no write */
        cl_collect(c, id, d);
        if (u->n_notes + d->n_notes > u->cap_notes) {
            u->cap_notes = u->n_notes + d->n_notes;
            u->notes = xreallocarray(u->notes, u->cap_notes, sizeof *u->notes);
        }
        if (d->n_notes > 0) /* d->notes may be NULL */
            memcpy(u->notes + u->n_notes, d->notes, d->n_notes * sizeof *d->notes);
        u->n_notes += d->n_notes;
    }
    return rc;
}

static inline void cl_init_opts(struct cluster *c, uint32_t n, bool pre_vote, bool check_quorum)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    c->now_ms = 1000;
    for (uint32_t id = 1; id <= n; id++) {
        raft_options_default(&c->opt[id], id, n);
        c->opt[id].election_timeout_ms_min = 150;
        c->opt[id].election_timeout_ms_max = 300;
        c->opt[id].heartbeat_ms = 50;
        c->opt[id].seed = 42 + id;
        c->opt[id].pre_vote = pre_vote;
        c->opt[id].check_quorum = check_quorum;
        raft_disk_init(&c->disk[id]);
        raft_update_init(&c->up[id]);
        raft_update_init(&c->up_done[id]);
    }
}

static inline void cl_start(struct cluster *c, uint32_t id)
{
    assert_int_equal(raft_init(&c->raft[id], &c->opt[id], &c->disk[id], c->now_ms), 0);
    c->alive[id] = true;
    c->applied[id] = c->disk[id].snapshot.index; /* the state machine starts as its snapshot */
}

static inline void cl_start_all(struct cluster *c)
{
    for (uint32_t id = 1; id <= c->n; id++)
        cl_start(c, id);
}

static inline void cl_init(struct cluster *c, uint32_t n)
{
    cl_init_opts(c, n, false, false);
    cl_start_all(c);
}

static inline void cl_crash(struct cluster *c, uint32_t id)
{
    raft_close(&c->raft[id]);
    c->alive[id] = false;
}

static inline void cl_drop_all(struct cluster *c)
{
    for (size_t i = 0; i < c->nq; i++)
        raft_message_free(&c->q[i]);
    c->nq = 0;
}

static inline void cl_close(struct cluster *c)
{
    cl_drop_all(c);
    free(c->q);
    for (uint32_t id = 1; id <= c->n; id++) {
        if (c->alive[id])
            raft_close(&c->raft[id]);
        raft_update_close(&c->up[id]);
        raft_update_close(&c->up_done[id]);
        raft_disk_close(&c->disk[id]);
    }
}

/* Removes q[i] and delivers it (unless its link is cut or its target is down). */
static inline int cl_deliver_at(struct cluster *c, size_t i)
{
    assert_true(i < c->nq);
    struct raft_message m = c->q[i];
    memmove(&c->q[i], &c->q[i + 1], (c->nq - i - 1) * sizeof *c->q);
    c->nq--;
    int rc = 0;
    if (c->alive[m.to] && !c->cut[m.from][m.to]) {
        struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &m};
        rc = cl_step(c, m.to, &ev);
    }
    raft_message_free(&m);
    return rc;
}

/* Index in the queue of the first message matching (type, from, to); 0 fields match any. */
static inline long cl_find(const struct cluster *c, int type, uint32_t from, uint32_t to)
{
    for (size_t i = 0; i < c->nq; i++) {
        const struct raft_message *m = &c->q[i];
        if ((type == 0 || (int)m->type == type) && (from == 0 || m->from == from) &&
            (to == 0 || m->to == to))
            return (long)i;
    }
    return -1;
}

static inline size_t cl_count(const struct cluster *c, int type, uint32_t from, uint32_t to)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nq; i++) {
        const struct raft_message *m = &c->q[i];
        if ((type == 0 || (int)m->type == type) && (from == 0 || m->from == from) &&
            (to == 0 || m->to == to))
            n++;
    }
    return n;
}

/* Delivers the first matching message; false if there was none. */
static inline bool cl_deliver(struct cluster *c, int type, uint32_t from, uint32_t to)
{
    long i = cl_find(c, type, from, to);
    if (i < 0)
        return false;
    cl_deliver_at(c, (size_t)i);
    return true;
}

/* Delivers in FIFO order until the network is quiet (bounded). */
static inline void cl_deliver_all(struct cluster *c)
{
    for (int i = 0; i < 100000 && c->nq > 0; i++)
        cl_deliver_at(c, 0);
    assert_int_equal(c->nq, 0);
}

/* A slow disk reports every write so far durable (one PERSISTED event); false if there was
 * none to report. The update is in c->up[id]. */
static inline bool cl_sync(struct cluster *c, uint32_t id)
{
    if (c->unsynced[id] == 0)
        return false;
    struct raft_event done = {.type = RAFT_EVENT_PERSISTED, .persisted_seq = c->unsynced[id]};
    c->unsynced[id] = 0;
    assert_int_equal(cl_step(c, id, &done), RAFT_OK);
    return true;
}

static inline void cl_tick(struct cluster *c, uint32_t id)
{
    struct raft_event ev = {.type = RAFT_EVENT_TICK};
    cl_step(c, id, &ev);
}

/* Advances time by ms and ticks every live node. */
static inline void cl_advance(struct cluster *c, uint64_t ms)
{
    c->now_ms += ms;
    for (uint32_t id = 1; id <= c->n; id++)
        if (c->alive[id])
            cl_tick(c, id);
}

static inline void cl_campaign(struct cluster *c, uint32_t id)
{
    struct raft_event ev = {.type = RAFT_EVENT_CAMPAIGN};
    cl_step(c, id, &ev);
}

static inline struct raft_proposal cl_propose(struct cluster *c, uint32_t id, const char *cmd)
{
    struct raft_event ev = {.type = RAFT_EVENT_PROPOSE};
    ev.propose.data = cmd;
    ev.propose.len = (uint32_t)strlen(cmd);
    cl_step(c, id, &ev);
    c->last_proposal = c->up[id].proposal;
    return c->last_proposal;
}

/* Node id campaigns and every message is delivered: it wins. */
static inline void cl_elect(struct cluster *c, uint32_t id)
{
    cl_campaign(c, id);
    cl_deliver_all(c);
    assert_int_equal(raft_role(&c->raft[id]), RAFT_LEADER);
}

/* Isolates node id in both directions (or heals it). */
static inline void cl_isolate(struct cluster *c, uint32_t id, bool cut)
{
    for (uint32_t o = 1; o <= c->n; o++) {
        c->cut[id][o] = cut;
        c->cut[o][id] = cut;
    }
}

/* Counts live leaders in term. */
static inline uint32_t cl_leaders_in_term(const struct cluster *c, uint64_t term)
{
    uint32_t n = 0;
    for (uint32_t id = 1; id <= c->n; id++)
        if (c->alive[id] && raft_role(&c->raft[id]) == RAFT_LEADER &&
            raft_term(&c->raft[id]) == term)
            n++;
    return n;
}

/* Appends an entry straight to a node's disk (test setup of a given log). */
static inline void cl_disk_append(struct cluster *c, uint32_t id, uint64_t term)
{
    raft_log_append(&c->disk[id].log, term, RAFT_ENTRY_COMMAND, "x", 1);
    if (c->disk[id].current_term < term)
        c->disk[id].current_term = term;
}

/* True if the update of node id holds a note of kind (with reason, if not NONE). */
static inline bool cl_has_note(const struct cluster *c, uint32_t id, enum raft_note_kind kind,
                               enum raft_reason reason)
{
    const struct raft_update *u = &c->up[id];
    for (size_t i = 0; i < u->n_notes; i++)
        if (u->notes[i].kind == kind &&
            (reason == RAFT_REASON_NONE || u->notes[i].reason == reason))
            return true;
    return false;
}

#endif
