/* monitor.c - invariant checking off the nodes' threads: reports are casts (a node never waits
 * for the monitor), checked in arrival order. A late report can only hide a violation from a
 * check, never fake one (see raft/invariants.h).
 */
#include "actors/monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "runtime/trace.h"

enum monitor_msg_type {
    MONITOR_MSG_LEADER = 0x300,
    MONITOR_MSG_COMMIT,
    MONITOR_MSG_APPLIED,
    MONITOR_MSG_STATUS,
};

struct monitor_runs_msg {
    struct actor_msg hdr;
    uint32_t node;
    uint64_t term;     /* the node's term when it reported */
    uint64_t from, to; /* LEADER: 1..last_index; COMMIT: the newly committed range */
    size_t n_runs;
    struct raft_term_run runs[];
};

struct applied_item {
    uint64_t term, hash;
};

struct monitor_applied_msg {
    struct actor_msg hdr;
    uint32_t node;
    uint64_t first_index;
    size_t n;
    struct applied_item items[];
};

struct monitor_status_reply {
    struct actor_msg hdr;
    struct monitor_status status;
};

struct monitor {
    struct raft_invariants inv;
    uint64_t reports;
};

void monitor_describe(const struct raft_violation *v, char *buf, size_t cap)
{
    unsigned long long index = v->index, term = v->term, other_term = v->other_term;
    switch (v->invariant) {
    case RAFT_INV_ELECTION_SAFETY:
        snprintf(buf, cap, "election safety violated: nodes %u and %u both lead term %llu",
                 v->other, v->node, term);
        break;
    case RAFT_INV_LEADER_COMPLETENESS:
        snprintf(buf, cap,
                 "leader completeness violated: node %u leads term %llu, but its log does not "
                 "hold entry %llu (term %llu) committed in an earlier term",
                 v->node, term, index, other_term);
        break;
    case RAFT_INV_STATE_MACHINE_SAFETY:
        if (v->other != 0)
            snprintf(buf, cap,
                     "state machine safety violated: at index %llu node %u applied an entry of "
                     "term %llu, node %u a different one (term %llu)",
                     index, v->node, term, v->other, other_term);
        else
            snprintf(buf, cap,
                     "state machine safety violated: node %u committed index %llu with term %llu, "
                     "but term %llu was committed there before",
                     v->node, index, term, other_term);
        break;
    case RAFT_INV_LOG_MATCHING:
        if (v->other_term == 0) { /* from raft_invariants_written */
            snprintf(buf, cap,
                     "log matching violated: nodes %u and %u both hold an entry of term %llu at "
                     "index %llu, but their logs before it differ",
                     v->node, v->other, term, index);
            break;
        }
        snprintf(buf, cap,
                 "log matching violated: nodes %u and %u agree on a later entry but differ at "
                 "index %llu (terms %llu and %llu)",
                 v->node, v->other, index, term, other_term);
        break;
    case RAFT_INV_NONE:
        snprintf(buf, cap, "no violation");
        break;
    }
}

static void check(struct monitor *m, enum raft_invariant found)
{
    m->reports++;
    if (found == RAFT_INV_NONE || m->inv.violations != 1)
        return; /* trace the first violation; the rest follow from it */
    char text[512];
    monitor_describe(&m->inv.first, text, sizeof text);
    trace_log(TRACE_INFO, NULL, "violation", "VIOLATION: %s", text);
}

static enum actor_next monitor_handle(struct actor *self, void *state, struct actor_msg *msg)
{
    (void)self;
    struct monitor *m = state;
    switch (msg->type) {
    case MONITOR_MSG_LEADER: {
        struct monitor_runs_msg *r = (struct monitor_runs_msg *)msg;
        check(m, raft_invariants_leader(&m->inv, r->node, r->term, r->runs, r->n_runs, r->from,
                                        r->to));
        break;
    }
    case MONITOR_MSG_COMMIT: {
        struct monitor_runs_msg *r = (struct monitor_runs_msg *)msg;
        check(m, raft_invariants_commit(&m->inv, r->node, r->term, r->from, r->to, r->runs,
                                        r->n_runs));
        break;
    }
    case MONITOR_MSG_APPLIED: {
        struct monitor_applied_msg *a = (struct monitor_applied_msg *)msg;
        for (size_t i = 0; i < a->n; i++)
            check(m, raft_invariants_applied(&m->inv, a->node, a->first_index + i, a->items[i].term,
                                             a->items[i].hash));
        break;
    }
    case MONITOR_MSG_STATUS: {
        struct monitor_status_reply *r =
            (struct monitor_status_reply *)actor_msg_new(sizeof *r, MONITOR_MSG_STATUS);
        r->status = (struct monitor_status){
            .violations = m->inv.violations, .first = m->inv.first, .reports = m->reports};
        actor_reply(msg, &r->hdr);
        break;
    }
    }
    actor_msg_free(msg);
    return ACTOR_CONTINUE;
}

static void monitor_stop(struct actor *self, void *state)
{
    (void)self;
    struct monitor *m = state;
    raft_invariants_close(&m->inv);
    free(m);
}

int monitor_spawn(struct actor **out)
{
    struct monitor *m = xcalloc(1, sizeof *m);
    raft_invariants_init(&m->inv);
    struct actor_spec spec = {
        .name = "monitor", .handler = monitor_handle, .on_stop = monitor_stop, .state = m};
    int rc = actor_spawn(&spec, out);
    if (rc != ACTOR_OK)
        monitor_stop(NULL, m);
    return rc;
}

/* A runs message describing r's log[from..to]. */
static struct monitor_runs_msg *runs_msg(uint32_t type, const struct raft *r, uint64_t from,
                                         uint64_t to)
{
    size_t n = raft_term_runs(&r->state.log, from, to, NULL, 0);
    struct monitor_runs_msg *m =
        (struct monitor_runs_msg *)actor_msg_new(sizeof *m + n * sizeof m->runs[0], type);
    m->n_runs = raft_term_runs(&r->state.log, from, to, m->runs, n);
    m->node = raft_id(r);
    m->term = raft_term(r);
    m->from = from;
    m->to = to;
    return m;
}

void monitor_report_leader(struct actor *mon, const struct raft *r)
{
    actor_cast(mon, &runs_msg(MONITOR_MSG_LEADER, r, raft_first_index(r), raft_last_index(r))->hdr);
}

void monitor_report_commit(struct actor *mon, const struct raft *r, uint64_t from, uint64_t to)
{
    actor_cast(mon, &runs_msg(MONITOR_MSG_COMMIT, r, from, to)->hdr);
}

void monitor_report_applied(struct actor *mon, uint32_t node, uint64_t first_index,
                            const struct raft_entry *entries, size_t n)
{
    struct monitor_applied_msg *m = (struct monitor_applied_msg *)actor_msg_new(
        sizeof *m + n * sizeof m->items[0], MONITOR_MSG_APPLIED);
    m->node = node;
    m->first_index = first_index;
    m->n = n;
    for (size_t i = 0; i < n; i++)
        m->items[i] = (struct applied_item){entries[i].term, raft_entry_hash(&entries[i])};
    actor_cast(mon, &m->hdr);
}

int monitor_get_status(struct actor *mon, uint32_t timeout_ms, struct monitor_status *out)
{
    struct actor_msg *reply = NULL;
    int rc = actor_call(mon, actor_msg_new(sizeof(struct actor_msg), MONITOR_MSG_STATUS),
                        timeout_ms, &reply);
    if (rc == ACTOR_OK) {
        *out = ((struct monitor_status_reply *)reply)->status;
        actor_msg_free(reply);
    }
    return rc;
}
