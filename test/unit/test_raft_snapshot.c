/* test_raft_snapshot.c - snapshots, log compaction and InstallSnapshot (Raft paper section 7),
 * driven message by message through the in-test network (test_raft_cluster.h). */
#include "test_raft_cluster.h"

/* Three nodes that snapshot every `threshold` applied entries, keep `trailing` before each, and
 * send snapshots in chunks of `chunk` bytes; node 1 leads. */
static void start(struct cluster *c, uint64_t threshold, uint64_t trailing, uint32_t chunk)
{
    cl_init_opts(c, 3, true, true);
    for (uint32_t id = 1; id <= 3; id++) {
        c->opt[id].snapshot_threshold = threshold;
        c->opt[id].snapshot_trailing = trailing;
        c->opt[id].snapshot_chunk_bytes = chunk;
    }
    cl_start_all(c);
    cl_elect(c, 1);
}

/* Proposes n commands at node 1 and delivers everything, one heartbeat apart, so each node
 * also takes the snapshots it was asked for (a snapshot is taken by the next step). */
static void write_n(struct cluster *c, int n)
{
    for (int i = 0; i < n; i++) {
        cl_propose(c, 1, "cmd");
        cl_deliver_all(c);
    }
    cl_advance(c, 50);
    cl_deliver_all(c);
}

/* Past the threshold a node snapshots its applied state and keeps `trailing` entries before it,
 * in memory and in what it asks the storage to keep. */
static void snapshot_compacts_log_keeping_trailing(void **state)
{
    (void)state;
    struct cluster c;
    start(&c, 10, 3, 64);
    write_n(&c, 12); /* the no-op and 12 commands: 13 entries */
    for (uint32_t id = 1; id <= 3; id++) {
        const struct raft *r = &c.raft[id];
        assert_true(c.snapshots_taken[id] >= 1);
        uint64_t snap = raft_snapshot_index(r);
        assert_true(snap >= 10 && snap <= raft_last_applied(r));
        assert_int_equal(raft_first_index(r), snap - 3 + 1);
        assert_null(raft_entry_at(r, snap - 3));
        assert_non_null(raft_entry_at(r, snap - 2));
        /* the storage (here raft_disk_apply) holds the same snapshot and log start */
        assert_int_equal(c.disk[id].snapshot.index, snap);
        assert_int_equal(c.disk[id].snapshot.len, CL_SNAPSHOT_BYTES);
        assert_int_equal(raft_log_first_index(&c.disk[id].log), snap - 3 + 1);
        assert_int_equal(raft_log_last_index(&c.disk[id].log), raft_last_index(r));
    }
    cl_close(&c);
}

/* A follower cut off while the others compact is caught up by InstallSnapshot, chunk by chunk,
 * with no AppendEntries to it while the snapshot is on its way; then replication resumes. */
static void lagging_follower_catches_up_by_snapshot(void **state)
{
    (void)state;
    struct cluster c;
    start(&c, 10, 2, 7); /* 40-byte snapshots in chunks of 7: 6 chunks */
    cl_isolate(&c, 3, true);
    write_n(&c, 30);
    cl_deliver_all(&c);
    assert_true(raft_first_index(&c.raft[1]) > raft_last_index(&c.raft[3]) + 1);
    cl_isolate(&c, 3, false);
    uint64_t chunks = 0, appends_during = 0;
    for (int round = 0; round < 200 && c.restored[3] == 0; round++) {
        cl_advance(&c, 50);
        for (int i = 0; i < 1000 && c.nq > 0; i++) {
            if (c.q[0].to == 3 && c.q[0].type == RAFT_MSG_INSTALL_SNAPSHOT)
                chunks++;
            if (c.q[0].to == 3 && c.q[0].type == RAFT_MSG_APPEND_ENTRIES && c.restored[3] == 0 &&
                chunks > 0)
                appends_during++;
            cl_deliver_at(&c, 0);
        }
    }
    assert_int_equal(c.restored[3], 1);
    /* (the configuration's 64 bytes travel in front of the state machine's) */
    assert_int_equal(chunks, (RAFT_CONFIG_BYTES + CL_SNAPSHOT_BYTES + 6) / 7);
    assert_int_equal(appends_during, 0);
    assert_int_equal(raft_snapshot_index(&c.raft[3]), raft_snapshot_index(&c.raft[1]));
    assert_true(raft_commit_index(&c.raft[3]) >= raft_snapshot_index(&c.raft[3]));
    /* and AppendEntries bring it the rest */
    write_n(&c, 1);
    cl_advance(&c, 50);
    cl_deliver_all(&c);
    assert_int_equal(raft_last_index(&c.raft[3]), raft_last_index(&c.raft[1]));
    assert_int_equal(raft_commit_index(&c.raft[3]), raft_commit_index(&c.raft[1]));
    assert_int_equal(c.applied[3], c.applied[1]);
    cl_close(&c);
}

/* The bytes of a snapshot at index as the leader sends them: the configuration (voters 1 2 3),
 * then CL_SNAPSHOT_BYTES of the state machine's (the index's low byte, as test_raft_cluster.h
 * makes them). */
#define STREAM_BYTES (RAFT_CONFIG_BYTES + CL_SNAPSHOT_BYTES)

/* An InstallSnapshot chunk from node 1 to node 2 in node 1's term: bytes offset.. of the
 * stream above. */
static struct raft_message chunk_msg(const struct cluster *c, uint64_t index, uint64_t term,
                                     uint64_t total, uint64_t offset, uint32_t len)
{
    uint8_t stream[STREAM_BYTES];
    struct raft_config config;
    raft_config_initial(&config, 3);
    raft_config_encode(&config, stream);
    memset(stream + RAFT_CONFIG_BYTES, (uint8_t)index, CL_SNAPSHOT_BYTES);
    assert_true(offset + len <= STREAM_BYTES);
    struct raft_message m = {
        .type = RAFT_MSG_INSTALL_SNAPSHOT, .term = raft_term(&c->raft[1]), .from = 1, .to = 2};
    m.install_snapshot = (struct raft_install_snapshot){
        .last_index = index, .last_term = term, .total_len = total, .offset = offset, .len = len};
    m.install_snapshot.data = xmalloc(len > 0 ? len : 1);
    memcpy(m.install_snapshot.data, stream + offset, len);
    return m;
}

/* Delivers m to node 2 and returns its reply (removed from the queue). */
static struct raft_install_snapshot_reply send_to_2(struct cluster *c, struct raft_message *m)
{
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = m};
    assert_int_equal(cl_step(c, 2, &ev), RAFT_OK);
    raft_message_free(m);
    long i = cl_find(c, RAFT_MSG_INSTALL_SNAPSHOT_REPLY, 2, 1);
    assert_true(i >= 0);
    struct raft_install_snapshot_reply rep = c->q[i].install_snapshot_reply;
    cl_deliver_at(c, (size_t)i);
    return rep;
}

/* Node 2's log holds 1..n in term t, and node 1 leads term t + 2. */
static void follower_with_log(struct cluster *c, uint64_t n, uint64_t t)
{
    cl_init_opts(c, 3, false, false);
    for (uint64_t i = 0; i < n; i++)
        cl_disk_append(c, 2, t);
    c->disk[1].current_term = c->disk[3].current_term = t + 1;
    cl_start_all(c);
    cl_campaign(c, 1);
    cl_deliver(c, RAFT_MSG_REQUEST_VOTE, 1, 3);
    cl_deliver(c, RAFT_MSG_REQUEST_VOTE_REPLY, 3, 1);
    assert_int_equal(raft_role(&c->raft[1]), RAFT_LEADER);
    cl_drop_all(c);
}

/* Figure 13 rule 6: a snapshot whose last entry the log already holds (same index and term)
 * keeps the entries after it. */
static void install_keeps_matching_suffix(void **state)
{
    (void)state;
    struct cluster c;
    follower_with_log(&c, 8, 1);
    struct raft_message m = chunk_msg(&c, 5, 1, STREAM_BYTES, 0, STREAM_BYTES);
    struct raft_install_snapshot_reply rep = send_to_2(&c, &m);
    assert_true(rep.done);
    assert_int_equal(rep.last_index, 5);
    const struct raft *r = &c.raft[2];
    assert_int_equal(raft_snapshot_index(r), 5);
    assert_int_equal(raft_first_index(r), 6);
    assert_int_equal(raft_last_index(r), 8); /* 6..8 kept */
    assert_int_equal(raft_commit_index(r), 5);
    assert_int_equal(c.restored[2], 1);
    assert_true(cl_has_note(&c, 2, RAFT_NOTE_SNAPSHOT_INSTALLED, RAFT_REASON_NONE));
    assert_int_equal(c.disk[2].snapshot.index, 5);
    assert_int_equal(raft_log_last_index(&c.disk[2].log), 8);
    cl_close(&c);
}

/* Figure 13 rule 7: a snapshot that conflicts with the log (another term at its index)
 * replaces the whole log, and the storage is asked to remove it all. */
static void install_discards_conflicting_log(void **state)
{
    (void)state;
    struct cluster c;
    follower_with_log(&c, 8, 1);
    raft_disk_close(&c.disk[3]); /* (node 3's log is not needed) */
    raft_disk_init(&c.disk[3]);
    struct raft_message m = chunk_msg(&c, 6, 2, STREAM_BYTES, 0, STREAM_BYTES);
    struct raft_install_snapshot_reply rep = send_to_2(&c, &m);
    assert_true(rep.done);
    const struct raft *r = &c.raft[2];
    assert_int_equal(raft_snapshot_index(r), 6);
    assert_int_equal(raft_first_index(r), 7);
    assert_int_equal(raft_last_index(r), 6);
    assert_int_equal(raft_last_term(r), 2);
    assert_int_equal(c.up[2].persist.truncate_from, 1);
    assert_int_equal(c.up[2].persist.n_append, 0);
    assert_non_null(c.up[2].persist.snapshot);
    assert_int_equal(raft_log_last_index(&c.disk[2].log), 6);
    assert_int_equal(raft_log_first_index(&c.disk[2].log), 7);
    cl_close(&c);
}

/* Chunks are taken in order only: a chunk past what arrived is answered with the offset wanted,
 * and a repeated chunk changes nothing. */
static void out_of_order_chunk_asks_for_the_right_offset(void **state)
{
    (void)state;
    struct cluster c;
    follower_with_log(&c, 2, 1);
    struct raft_message m = chunk_msg(&c, 9, 1, STREAM_BYTES, 0, 10);
    struct raft_install_snapshot_reply rep = send_to_2(&c, &m);
    assert_false(rep.done);
    assert_int_equal(rep.next_offset, 10);
    m = chunk_msg(&c, 9, 1, STREAM_BYTES, 20, 10); /* skips 10..19 */
    rep = send_to_2(&c, &m);
    assert_int_equal(rep.next_offset, 10);
    m = chunk_msg(&c, 9, 1, STREAM_BYTES, 10, 10);
    rep = send_to_2(&c, &m);
    assert_int_equal(rep.next_offset, 20);
    m = chunk_msg(&c, 9, 1, STREAM_BYTES, 10, 10); /* a duplicate */
    rep = send_to_2(&c, &m);
    assert_int_equal(rep.next_offset, 20);
    assert_int_equal(c.restored[2], 0);
    m = chunk_msg(&c, 9, 1, STREAM_BYTES, 20, STREAM_BYTES - 20);
    rep = send_to_2(&c, &m);
    assert_true(rep.done);
    assert_int_equal(raft_snapshot_index(&c.raft[2]), 9);
    assert_int_equal(c.restored[2], 1);
    cl_close(&c);
}

/* A snapshot the follower has already committed is acknowledged at once and installs
 * nothing. */
static void snapshot_already_committed_is_acknowledged(void **state)
{
    (void)state;
    struct cluster c;
    start(&c, 0, 0, 64);
    write_n(&c, 5);
    uint64_t commit = raft_commit_index(&c.raft[2]);
    assert_true(commit >= 4);
    struct raft_message m = chunk_msg(&c, 3, 1, STREAM_BYTES, 0, 8);
    struct raft_install_snapshot_reply rep = send_to_2(&c, &m);
    assert_true(rep.done);
    assert_int_equal(raft_snapshot_index(&c.raft[2]), 0);
    assert_int_equal(raft_first_index(&c.raft[2]), 1);
    assert_int_equal(c.restored[2], 0);
    cl_close(&c);
}

/* The acknowledgement of an installed snapshot waits until the snapshot is durable. */
static void install_reply_waits_for_durability(void **state)
{
    (void)state;
    struct cluster c;
    follower_with_log(&c, 2, 1);
    c.slow_disk[2] = true;
    struct raft_message m = chunk_msg(&c, 7, 1, STREAM_BYTES, 0, STREAM_BYTES);
    struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .receive = &m};
    assert_int_equal(cl_step(&c, 2, &ev), RAFT_OK);
    raft_message_free(&m);
    assert_int_equal(cl_count(&c, RAFT_MSG_INSTALL_SNAPSHOT_REPLY, 2, 1), 0);
    assert_true(cl_sync(&c, 2));
    long i = cl_find(&c, RAFT_MSG_INSTALL_SNAPSHOT_REPLY, 2, 1);
    assert_true(i >= 0);
    assert_true(c.q[i].install_snapshot_reply.done);
    cl_close(&c);
}

/* A node restarted from a storage with a snapshot starts with it committed and applied, and
 * its log after it. */
static void restart_from_snapshot(void **state)
{
    (void)state;
    struct cluster c;
    start(&c, 10, 2, 64);
    write_n(&c, 14);
    uint64_t snap = raft_snapshot_index(&c.raft[2]), last = raft_last_index(&c.raft[2]);
    assert_true(snap >= 10);
    cl_crash(&c, 2);
    cl_start(&c, 2);
    const struct raft *r = &c.raft[2];
    assert_int_equal(raft_snapshot_index(r), snap);
    assert_int_equal(raft_commit_index(r), snap);
    assert_int_equal(raft_last_applied(r), snap);
    assert_int_equal(raft_last_index(r), last);
    /* it catches up with the leader from there */
    cl_advance(&c, 50);
    cl_deliver_all(&c);
    assert_int_equal(raft_commit_index(&c.raft[2]), raft_commit_index(&c.raft[1]));
    cl_close(&c);
}

/* raft_init refuses a stored state whose log does not follow its snapshot. */
static void init_refuses_log_not_following_snapshot(void **state)
{
    (void)state;
    struct raft_options o;
    raft_options_default(&o, 1, 3);
    struct raft_disk d;
    raft_disk_init(&d);
    d.current_term = 3;
    raft_log_reset(&d.log, 10, 2); /* the log starts at 11 ... */
    struct raft r;
    assert_int_equal(raft_init(&r, &o, &d, 0), RAFT_EINVAL); /* ... with no snapshot */
    d.snapshot = (struct raft_snapshot){.index = 8, .term = 2};
    assert_int_equal(raft_init(&r, &o, &d, 0), RAFT_EINVAL); /* a gap: 9..10 are missing */
    d.snapshot = (struct raft_snapshot){.index = 10, .term = 1};
    assert_int_equal(raft_init(&r, &o, &d, 0), RAFT_EINVAL); /* terms disagree at 10 */
    d.snapshot = (struct raft_snapshot){.index = 10, .term = 2};
    assert_int_equal(raft_init(&r, &o, &d, 0), RAFT_OK);
    assert_int_equal(raft_commit_index(&r), 10);
    raft_close(&r);
    raft_disk_close(&d);
}

/* Malformed InstallSnapshot messages are refused by validation, never trusted. */
static void malformed_install_snapshot_refused(void **state)
{
    (void)state;
    struct raft_message m = {.type = RAFT_MSG_INSTALL_SNAPSHOT, .term = 3, .from = 1, .to = 2};
    uint8_t byte = 0;
    const char *why;
    m.install_snapshot = (struct raft_install_snapshot){
        .last_index = 5, .last_term = 3, .total_len = RAFT_CONFIG_BYTES};
    assert_int_equal(raft_message_validate(&m, 2, 3, &why), RAFT_OK);
    m.install_snapshot.last_term = 4;
    assert_int_equal(raft_message_validate(&m, 2, 3, &why), RAFT_EMALFORMED);
    m.install_snapshot.last_term = 3;
    m.install_snapshot.total_len = 100;
    m.install_snapshot.offset = 100;
    m.install_snapshot.len = 1;
    m.install_snapshot.data = &byte;
    assert_int_equal(raft_message_validate(&m, 2, 3, &why), RAFT_EMALFORMED);
    m.install_snapshot.offset = 99;
    assert_int_equal(raft_message_validate(&m, 2, 3, &why), RAFT_OK);
    m.install_snapshot.total_len = RAFT_CONFIG_BYTES + RAFT_MAX_SNAPSHOT_BYTES + 1;
    assert_int_equal(raft_message_validate(&m, 2, 3, &why), RAFT_EMALFORMED);
    m.install_snapshot.total_len = 10; /* shorter than the configuration in front */
    m.install_snapshot.offset = 9;
    assert_int_equal(raft_message_validate(&m, 2, 3, &why), RAFT_EMALFORMED);
    m.install_snapshot.total_len = 100;
    m.install_snapshot.last_index = 0;
    assert_int_equal(raft_message_validate(&m, 2, 3, &why), RAFT_EMALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(snapshot_compacts_log_keeping_trailing),
        cmocka_unit_test(lagging_follower_catches_up_by_snapshot),
        cmocka_unit_test(install_keeps_matching_suffix),
        cmocka_unit_test(install_discards_conflicting_log),
        cmocka_unit_test(out_of_order_chunk_asks_for_the_right_offset),
        cmocka_unit_test(snapshot_already_committed_is_acknowledged),
        cmocka_unit_test(install_reply_waits_for_durability),
        cmocka_unit_test(restart_from_snapshot),
        cmocka_unit_test(init_refuses_log_not_following_snapshot),
        cmocka_unit_test(malformed_install_snapshot_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
