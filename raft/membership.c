/* membership.c - configurations and how they change (Raft thesis 4.1-4.3), and leadership
 * transfer (thesis 3.10).
 *
 * Design: one server at a time. A configuration is a log entry holding the whole new
 * configuration, in effect on a server as soon as it is in its log. Two majorities of
 * configurations that differ by one server overlap, so no two leaders can be elected for one
 * term however the servers are split between them; this holds only if a leader starts a change
 * when the previous one has committed and an entry of its own term has committed (the thesis's
 * published erratum: a new leader may hold an uncommitted configuration of an earlier term that
 * another leader's change would not overlap). A server is added as a learner, which gets the log
 * but neither votes nor counts; the leader makes it a voter once a catch-up round (the log as it
 * was when the round began) takes less than an election timeout (thesis 4.2.1), and removes it
 * again when it is too slow or silent. Every configuration entry in a log but the last is
 * committed, so a server knows its committed configuration from the last two.
 */
#include <string.h>

#include "common/le.h"
#include "raft/internal.h"

/* A learner that needs more rounds than this, or makes no progress for this many maximum
 * election timeouts, is removed again (thesis 4.2.1: "abort the change"). */
#define CATCHUP_MAX_ROUNDS       10
#define CATCHUP_SILENT_ELECTIONS 4

/* --- the configuration as a value ------------------------------------------------------------ */

static bool bit(const uint64_t *words, uint32_t id)
{
    return id >= 1 && id <= RAFT_MAX_NODES && (words[id / 64] >> (id % 64) & 1) != 0;
}

static void set_bit(uint64_t *words, uint32_t id, bool on)
{
    uint64_t mask = UINT64_C(1) << (id % 64);
    if (on)
        words[id / 64] |= mask;
    else
        words[id / 64] &= ~mask;
}

static uint64_t word_at(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t count(const uint64_t *words)
{
    uint32_t n = 0;
    for (int i = 0; i < RAFT_CONFIG_WORDS; i++)
        n += (uint32_t)__builtin_popcountll(words[i]);
    return n;
}

void raft_config_initial(struct raft_config *c, uint32_t n_voters)
{
    memset(c, 0, sizeof *c);
    for (uint32_t id = 1; id <= n_voters && id <= RAFT_MAX_NODES; id++)
        set_bit(c->voters, id, true);
}

bool raft_config_is_voter(const struct raft_config *c, uint32_t id)
{
    return bit(c->voters, id);
}

bool raft_config_is_learner(const struct raft_config *c, uint32_t id)
{
    return bit(c->learners, id);
}

bool raft_config_is_member(const struct raft_config *c, uint32_t id)
{
    return bit(c->voters, id) || bit(c->learners, id);
}

uint32_t raft_config_voters(const struct raft_config *c)
{
    return count(c->voters);
}

uint32_t raft_config_learners(const struct raft_config *c)
{
    return count(c->learners);
}

uint32_t raft_config_next(const struct raft_config *c, uint32_t id)
{
    for (uint32_t w = (id + 1) / 64; w < RAFT_CONFIG_WORDS; w++) {
        uint64_t bits = c->voters[w] | c->learners[w];
        if (w == (id + 1) / 64)
            bits &= ~UINT64_C(0) << ((id + 1) % 64);
        if (bits != 0)
            return w * 64 + (uint32_t)__builtin_ctzll(bits);
    }
    return 0;
}

void raft_config_set(struct raft_config *c, uint32_t id, bool voter, bool learner)
{
    assert(id >= 1 && id <= RAFT_MAX_NODES && !(voter && learner));
    set_bit(c->voters, id, voter);
    set_bit(c->learners, id, learner);
}

bool raft_config_equal(const struct raft_config *a, const struct raft_config *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

void raft_config_encode(const struct raft_config *c, uint8_t out[RAFT_CONFIG_BYTES])
{
    uint8_t *p = out;
    for (int i = 0; i < RAFT_CONFIG_WORDS; i++)
        p = le_put(p, c->voters[i], 8);
    for (int i = 0; i < RAFT_CONFIG_WORDS; i++)
        p = le_put(p, c->learners[i], 8);
}

int raft_config_decode(const uint8_t *in, size_t len, struct raft_config *c, const char **why)
{
    const char *problem = NULL;
    struct raft_config d;
    if (len != RAFT_CONFIG_BYTES) {
        problem = "a configuration is 64 bytes";
    } else {
        for (int i = 0; i < RAFT_CONFIG_WORDS; i++) {
            d.voters[i] = word_at(in + 8 * i);
            d.learners[i] = word_at(in + 8 * (RAFT_CONFIG_WORDS + i));
            if ((d.voters[i] & d.learners[i]) != 0)
                problem = "a server is both voter and learner";
        }
        if (problem == NULL && ((d.voters[0] | d.learners[0]) & 1) != 0)
            problem = "server id 0 in a configuration";
        else if (problem == NULL && count(d.voters) == 0)
            problem = "a configuration without voters";
    }
    if (problem != NULL) {
        if (why != NULL)
            *why = problem;
        return RAFT_EMALFORMED;
    }
    if (c != NULL)
        *c = d;
    return RAFT_OK;
}

/* Appends text (len bytes) at out[*at], keeping room for the NUL; false if it does not fit. */
static bool put_text(char *out, size_t cap, size_t *at, const char *text, size_t len)
{
    if (*at + len + 1 > cap)
        return false;
    memcpy(out + *at, text, len);
    *at += len;
    out[*at] = '\0';
    return true;
}

char *raft_config_format(const struct raft_config *c, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        const uint64_t *words = pass == 0 ? c->voters : c->learners;
        for (uint32_t id = 1; id <= RAFT_MAX_NODES; id++) {
            if (!bit(words, id))
                continue;
            char item[8]; /* " +255" */
            size_t n = 0;
            if (at > 0)
                item[n++] = ' ';
            if (pass == 1)
                item[n++] = '+';
            if (id >= 100)
                item[n++] = (char)('0' + id / 100);
            if (id >= 10)
                item[n++] = (char)('0' + id / 10 % 10);
            item[n++] = (char)('0' + id % 10);
            if (!put_text(out, cap, &at, item, n)) {
                if (cap >= 4)
                    memcpy(out + cap - 4, "...", 4);
                return out;
            }
        }
    }
    return out;
}

/* --- the configuration of a server ----------------------------------------------------------- */

/* The latest configuration in the log at or before index upto, and its entry; the snapshot's
 * (entry 0) if the log holds none there. */
static void config_at(const struct raft *r, uint64_t upto, struct raft_config *c, uint64_t *at)
{
    const struct raft_log *log = &r->state.log;
    if (upto > raft_log_last_index(log))
        upto = raft_log_last_index(log);
    for (uint64_t i = upto; i >= log->first && i > 0; i--) {
        const struct raft_entry *e = raft_log_get(log, i);
        if (e->type != RAFT_ENTRY_CONFIG)
            continue;
        int rc = raft_config_decode(e->data, e->len, c, NULL);
        assert(rc == RAFT_OK); /* checked when it arrived (raft_message_validate, raft_init) */
        (void)rc;
        *at = i;
        return;
    }
    *c = r->state.snapshot.config;
    *at = 0;
}

void raft_config_refresh(struct raft *r)
{
    config_at(r, UINT64_MAX, &r->config, &r->config_index);
    if (r->config_index == 0) {
        r->config_prev = r->config;
        r->config_prev_index = 0;
    } else {
        config_at(r, r->config_index - 1, &r->config_prev, &r->config_prev_index);
    }
}

void raft_config_snapshot_at(const struct raft *r, uint64_t index, struct raft_config *c)
{
    uint64_t at;
    if (r->config_index <= index)
        *c = r->config;
    else if (r->config_prev_index <= index)
        *c = r->config_prev;
    else
        config_at(r, index, c, &at);
}

/* A change went from `from` to `to`: which server and how, for the note. */
static void describe(const struct raft_config *from, const struct raft_config *to, uint32_t *who,
                     enum raft_reason *how)
{
    *who = 0;
    *how = RAFT_REASON_NONE;
    for (uint32_t id = 1; id <= RAFT_MAX_NODES; id++) {
        bool was = raft_config_is_member(from, id), is = raft_config_is_member(to, id);
        if (!was && is)
            *how = RAFT_REASON_ADDED;
        else if (was && !is)
            *how = RAFT_REASON_REMOVED;
        else if (raft_config_is_learner(from, id) && raft_config_is_voter(to, id))
            *how = RAFT_REASON_PROMOTED;
        else
            continue;
        *who = id;
        return;
    }
}

/* why: RAFT_REASON_NONE to say what changed, or the reason to give instead. */
static void note_config(struct raft *r, const struct raft_config *before, uint64_t before_index,
                        enum raft_reason why)
{
    struct raft_note *n = raft_note(r, RAFT_NOTE_CONFIG);
    n->a = r->config_index;
    n->b = before_index;
    describe(before, &r->config, &n->peer, &n->reason);
    if (why != RAFT_REASON_NONE)
        n->reason = why;
}

/* A leader's own progress toward a member it did not have: probe from its log's end; a learner
 * starts its first catch-up round. */
static void leader_meets(struct raft *r, const struct raft_config *before)
{
    uint64_t last = raft_log_last_index(raft_log_of(r));
    for (uint32_t id = raft_config_next(&r->config, 0); id != 0;
         id = raft_config_next(&r->config, id)) {
        if (id == r->opt.id || raft_config_is_member(before, id))
            continue;
        raft_progress_reset(&r->progress[id - 1], last, r->now_ms);
        raft_catchup_start(r, id);
    }
}

static void appended(struct raft *r, uint64_t index, enum raft_reason why)
{
    const struct raft_entry *e = raft_log_get(raft_log_of(r), index);
    assert(e != NULL && e->type == RAFT_ENTRY_CONFIG);
    struct raft_config before = r->config;
    uint64_t before_index = r->config_index;
    r->config_prev = r->config;
    r->config_prev_index = r->config_index;
    int rc = raft_config_decode(e->data, e->len, &r->config, NULL);
    assert(rc == RAFT_OK);
    (void)rc;
    r->config_index = index;
    note_config(r, &before, before_index, why);
    if (r->role == RAFT_LEADER) {
        leader_meets(r, &before);
        /* A lease rests on the promises of the old configuration's majority: only a round of
         * the new one renews it. */
        r->lease_min_round = r->read_round + 1;
        r->lease_valid = false;
    }
}

void raft_config_appended(struct raft *r, uint64_t index)
{
    appended(r, index, RAFT_REASON_NONE);
}

void raft_config_reload(struct raft *r)
{
    struct raft_config before = r->config;
    uint64_t before_index = r->config_index;
    raft_config_refresh(r);
    if (before_index != r->config_index || !raft_config_equal(&before, &r->config))
        note_config(r, &before, before_index, RAFT_REASON_NONE);
}

void raft_config_truncated(struct raft *r, uint64_t from)
{
    if (r->config_index >= from)
        raft_config_reload(r);
}

void raft_config_check_committed(struct raft *r)
{
    if (r->config_index == 0 || r->config_index <= r->config_noted ||
        r->config_index > r->commit_index)
        return;
    r->config_noted = r->config_index;
    struct raft_note *n = raft_note(r, RAFT_NOTE_CONFIG_COMMITTED);
    n->a = r->config_index;
}

/* --- changes at the leader ------------------------------------------------------------------- */

static void refuse(struct raft *r, enum raft_refusal why)
{
    struct raft_change_result *c = &r->out->change;
    c->status = RAFT_CHANGE_REFUSED;
    c->why = why;
    c->leader_hint = r->role == RAFT_LEADER ? r->opt.id : r->leader_id;
}

/* Why the leader may not start a change now, or RAFT_REFUSE_NONE. */
static enum raft_refusal change_blocked(const struct raft *r)
{
    if (r->transfer_to != 0)
        return RAFT_REFUSE_TRANSFERRING;
    if (raft_log_term_at(&r->state.log, r->commit_index) != r->state.current_term &&
        !RAFT_PLANTED(r, RAFT_BUG_CHANGE_BEFORE_TERM_COMMIT))
        return RAFT_REFUSE_TERM_NOT_COMMITTED;
    if (r->config_index > r->commit_index && !RAFT_PLANTED(r, RAFT_BUG_TWO_CHANGES))
        return RAFT_REFUSE_CHANGE_PENDING;
    return RAFT_REFUSE_NONE;
}

/* Appends configuration c as a new entry of the leader's term (why: for the note, as in
 * note_config). */
static uint64_t append_config(struct raft *r, const struct raft_config *c, enum raft_reason why)
{
    uint8_t bytes[RAFT_CONFIG_BYTES];
    raft_config_encode(c, bytes);
    struct raft_log *log = raft_log_of(r);
    raft_log_append(log, r->state.current_term, RAFT_ENTRY_CONFIG, bytes, sizeof bytes);
    uint64_t index = raft_log_last_index(log);
    raft_log_changed_from(r, index);
    appended(r, index, why);
    return index;
}

/* Leader: the voters of c include a majority that are up as far as it knows: itself, and those
 * it heard from within the last election timeout. A change to a configuration without one
 * would stop the cluster until the servers missing come back (or for good). */
static bool quorum_alive(const struct raft *r, const struct raft_config *c)
{
    uint32_t alive = 0;
    for (uint32_t id = raft_config_next(c, 0); id != 0; id = raft_config_next(c, id)) {
        if (!raft_config_is_voter(c, id))
            continue;
        const struct raft_progress *pr = &r->progress[id - 1];
        if (id == r->opt.id || (pr->last_heard_ms != 0 &&
                                r->now_ms - pr->last_heard_ms < r->opt.election_timeout_ms_max))
            alive++;
    }
    return alive >= raft_config_voters(c) / 2 + 1;
}

void raft_change(struct raft *r, enum raft_change_op op, uint32_t id)
{
    if (r->role != RAFT_LEADER) {
        refuse(r, RAFT_REFUSE_NOT_LEADER);
        return;
    }
    if (id < 1 || id > r->opt.max_nodes) {
        refuse(r, RAFT_REFUSE_BAD_ID);
        return;
    }
    enum raft_refusal why = change_blocked(r);
    struct raft_config next = r->config;
    if (why == RAFT_REFUSE_NONE && op == RAFT_CHANGE_ADD) {
        if (raft_config_is_member(&r->config, id))
            why = RAFT_REFUSE_ALREADY_MEMBER;
        else if (raft_config_learners(&r->config) > 0 && !RAFT_PLANTED(r, RAFT_BUG_TWO_CHANGES))
            why = RAFT_REFUSE_CATCHING_UP;
        raft_config_set(&next, id, false, true);
    } else if (why == RAFT_REFUSE_NONE) {
        if (!raft_config_is_member(&r->config, id))
            why = RAFT_REFUSE_NOT_MEMBER;
        else if (raft_config_is_voter(&r->config, id) && raft_config_voters(&r->config) == 1)
            why = RAFT_REFUSE_LAST_VOTER;
        raft_config_set(&next, id, false, false);
        if (why == RAFT_REFUSE_NONE && raft_config_is_voter(&r->config, id) &&
            !quorum_alive(r, &next))
            why = RAFT_REFUSE_NO_QUORUM;
    }
    if (why != RAFT_REFUSE_NONE) {
        refuse(r, why);
        return;
    }
    struct raft_change_result *c = &r->out->change;
    c->status = RAFT_CHANGE_ACCEPTED;
    c->index = append_config(r, &next, RAFT_REASON_NONE);
    c->leader_hint = r->opt.id;
    raft_leader_durable(r); /* alone, the leader commits it at once */
}

void raft_catchup_start(struct raft *r, uint32_t id)
{
    struct raft_progress *pr = &r->progress[id - 1];
    pr->catchup_index = raft_log_last_index(raft_log_of(r));
    pr->catchup_start_ms = r->now_ms;
    pr->catchup_rounds = 1;
}

/* Leader: a learner's catch-up (thesis 4.2.1). A round ends when the learner has what the
 * leader's log held when it began; a round shorter than an election timeout makes the learner
 * a voter, a longer one starts the next. A learner that needs too many rounds or goes silent is
 * removed. Either change waits until changes are allowed. */
static void catchup_check(struct raft *r)
{
    if (raft_config_learners(&r->config) == 0 || change_blocked(r) != RAFT_REFUSE_NONE)
        return;
    for (uint32_t id = raft_config_next(&r->config, 0); id != 0;
         id = raft_config_next(&r->config, id)) {
        if (!raft_config_is_learner(&r->config, id))
            continue;
        struct raft_progress *pr = &r->progress[id - 1];
        struct raft_config next = r->config;
        if (pr->match_index >= pr->catchup_index) {
            uint64_t took = r->now_ms - pr->catchup_start_ms;
            struct raft_note *n = raft_note(r, RAFT_NOTE_CATCHUP_ROUND);
            n->peer = id;
            n->a = pr->catchup_rounds;
            n->b = took;
            if (took < r->opt.election_timeout_ms_min) {
                raft_config_set(&next, id, true, false);
                append_config(r, &next, RAFT_REASON_NONE);
                return;
            }
            if (pr->catchup_rounds < CATCHUP_MAX_ROUNDS) {
                pr->catchup_index = raft_log_last_index(raft_log_of(r));
                pr->catchup_start_ms = r->now_ms;
                pr->catchup_rounds++;
                continue;
            }
        } else if (r->now_ms - pr->last_ack_ms <
                   CATCHUP_SILENT_ELECTIONS * r->opt.election_timeout_ms_max) {
            continue;
        }
        raft_config_set(&next, id, false, false);
        append_config(r, &next, RAFT_REASON_CATCHUP_FAILED);
        return;
    }
}

/* --- leadership transfer --------------------------------------------------------------------- */

void raft_transfer(struct raft *r, uint32_t to)
{
    enum raft_refusal why = RAFT_REFUSE_NONE;
    if (r->role != RAFT_LEADER)
        why = RAFT_REFUSE_NOT_LEADER;
    else if (to < 1 || to > r->opt.max_nodes)
        why = RAFT_REFUSE_BAD_ID;
    else if (to == r->opt.id)
        why = RAFT_REFUSE_SELF;
    else if (!raft_config_is_voter(&r->config, to))
        why = RAFT_REFUSE_NOT_VOTER;
    else if (r->transfer_to != 0)
        why = RAFT_REFUSE_TRANSFERRING;
    if (why != RAFT_REFUSE_NONE) {
        refuse(r, why);
        return;
    }
    r->transfer_to = to;
    r->transfer_deadline_ms = r->now_ms + r->opt.election_timeout_ms_min;
    r->transfer_sent = false;
    struct raft_note *n = raft_note(r, RAFT_NOTE_TRANSFER);
    n->peer = to;
    struct raft_change_result *c = &r->out->change;
    c->status = RAFT_CHANGE_ACCEPTED;
    c->leader_hint = r->opt.id;
}

/* Leader: once the target has the whole log it is told to campaign; an election timeout after
 * the transfer began, the leader gives up and goes on leading. */
static void transfer_check(struct raft *r)
{
    uint32_t to = r->transfer_to;
    if (to == 0)
        return;
    if (r->now_ms >= r->transfer_deadline_ms || !raft_config_is_voter(&r->config, to)) {
        r->transfer_to = 0;
        struct raft_note *n = raft_note(r, RAFT_NOTE_TRANSFER);
        n->peer = to;
        n->reason = RAFT_REASON_TRANSFER_TIMEOUT;
        return;
    }
    if (r->transfer_sent || r->progress[to - 1].match_index < raft_log_last_index(raft_log_of(r)))
        return;
    raft_send(r, RAFT_MSG_TIMEOUT_NOW, to);
    r->transfer_sent = true;
    /* Its election skips the voters' lease: no lease read for the rest of this term. */
    r->lease_off = true;
    r->lease_valid = false;
    struct raft_note *n = raft_note(r, RAFT_NOTE_TRANSFER);
    n->peer = to;
    n->a = 1;
}

uint64_t raft_transfer_wake(const struct raft *r)
{
    return r->transfer_to != 0 ? r->transfer_deadline_ms : UINT64_MAX;
}

void raft_recv_timeout_now(struct raft *r, const struct raft_message *m)
{
    if (m->term != r->state.current_term || r->role == RAFT_LEADER || !raft_may_campaign(r))
        return; /* stale, or not ours to act on */
    raft_heard_from_leader(r, m);
    struct raft_note *n = raft_note(r, RAFT_NOTE_TIMEOUT_NOW);
    n->peer = m->from;
    raft_election_start(r, true);
}

/* --- end of a leader's step ------------------------------------------------------------------ */

void raft_membership_leader_check(struct raft *r, bool may_write)
{
    assert(r->role == RAFT_LEADER);
    /* Thesis 4.2.2: a leader removed from the configuration leads until that configuration
     * commits, without counting itself, then steps down. */
    if (!raft_config_is_voter(&r->config, r->opt.id) && r->config_index <= r->commit_index) {
        raft_become_follower(r, r->state.current_term, 0, RAFT_REASON_REMOVED);
        return;
    }
    transfer_check(r);
    if (r->transfer_to == 0 && may_write)
        catchup_check(r);
}
