/* sweep.c - many simulated runs back to back, each configuration drawn from its seed (cluster
 * size, clients, timeouts, network, nemesis), in the manner of TigerBeetle's VOPR: a failing
 * seed is a complete, replayable bug report.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/signals.h"
#include "sim/internal.h"

/* The sweep's draws use their own stream of the seed. */
enum { SWEEP_STREAM = 1u << 26 };

static bool coin(struct prng *r, uint32_t percent)
{
    return prng_range(r, 0, 99) < percent;
}

/* The least election-timeout spread (max - min) the sweep draws over a network delaying
 * messages up to delay_ms_max: 20 ms plus two round trips (see sim_sweep_config). */
static uint32_t sweep_spread_ms_min(uint32_t delay_ms_max)
{
    return 20 + 4 * delay_ms_max;
}

void sim_sweep_config(uint64_t seed, struct cfg *out)
{
    struct prng r;
    prng_seed(&r, prng_derive(seed, SWEEP_STREAM));
    cfg_init(out);
    out->seed = seed;
    out->seed_given = true;
    out->num_nodes = (uint32_t)prng_range(&r, 1, 7);
    out->num_clients = coin(&r, 95) ? (uint32_t)prng_range(&r, 1, 5) : 0;
    out->client.requests = (uint32_t)prng_range(&r, 5, 50);
    /* Fewer keys, more contention: keep the first 1..5 of the default keys. */
    size_t keys = (size_t)prng_range(&r, 1, out->client.keys.len);
    for (size_t i = keys; i < out->client.keys.len; i++)
        free(out->client.keys.items[i]);
    out->client.keys.len = keys;
    out->client.value_size = (uint32_t)prng_range(&r, 4, 8);
    out->client.timeout_ms = (uint32_t)prng_range(&r, 50, 1000);
    struct cfg_network *net = &out->network;
    if (coin(&r, 70)) {
        net->drop = coin(&r, 50) ? (double)prng_range(&r, 0, 200) / 1000.0 : 0.0;
        net->delay_ms_min = (uint32_t)prng_range(&r, 0, 20);
        net->delay_ms_max = net->delay_ms_min + (uint32_t)prng_range(&r, 0, 50);
        net->duplicate = coin(&r, 30) ? (double)prng_range(&r, 0, 50) / 1000.0 : 0.0;
        net->reorder = coin(&r, 50);
    }
    struct cfg_raft *raft = &out->raft;
    /* Raft needs broadcast time << election timeout (paper 5.6), and the timeouts' randomized
     * spread must let one node win before another wakes (5.2): the node that times out first
     * needs its RequestVote to reach the others before they stand themselves (with pre-vote
     * both first spend a PreVote round trip, so the margin is the same), or they split the
     * votes of one term. Two nodes' timeouts, uniform over a spread S, are more than a delay d
     * apart with probability (1 - d/S)^2: above 0.56 with S >= 4d, and 0 with S <= d, as seed
     * 2025980 once drew (a 20 ms spread over 19..34 ms delays: 20 split votes, no leader).
     * So the minimum stays above two round trips plus 50 ms, and the spread above two round
     * trips plus 20 ms (sweep_spread_ms_min). The spread is drawn as it always was and raised
     * to that floor: a seed whose draw met it keeps its configuration, and the floor, the
     * tightest timing allowed, is drawn often. */
    uint32_t delay_ms_max = out->network.delay_ms_max;
    raft->election_timeout_ms_min = (uint32_t)prng_range(&r, 50, 300) + 4 * delay_ms_max;
    uint32_t spread_ms = (uint32_t)prng_range(&r, 20, 300);
    if (spread_ms < sweep_spread_ms_min(delay_ms_max))
        spread_ms = sweep_spread_ms_min(delay_ms_max);
    raft->election_timeout_ms_max = raft->election_timeout_ms_min + spread_ms;
    raft->heartbeat_ms = (uint32_t)prng_range(&r, 10, raft->election_timeout_ms_min / 2);
    raft->max_inflight = (uint32_t)prng_range(&r, 1, 8);
    /* One entry per AppendEntries is where Figure 8 and divergent-suffix bugs show (the
     * leader's no-op does not travel with the old-term entry): drawn a quarter of the time. */
    raft->max_entries_per_append = coin(&r, 25) ? 1 : (uint32_t)prng_range(&r, 1, 64);
    raft->pre_vote = coin(&r, 80);
    raft->check_quorum = coin(&r, 80);
    if (coin(&r, 75)) {
        /* Swarm testing (Groce et al., 2012): a third of the nemesis runs are storms, faults
         * every few tens of ms, so crashes land mid-election and mid-replication. */
        out->nemesis.interval_ms =
            coin(&r, 33) ? (uint32_t)prng_range(&r, 5, 60) : (uint32_t)prng_range(&r, 50, 1000);
        uint32_t kinds = (uint32_t)prng_range(&r, 1, 15); /* a nonempty subset */
        static const enum cfg_fault_kind bits[4] = {CFG_FAULT_CRASH, CFG_FAULT_PARTITION,
                                                    CFG_FAULT_ISOLATE, CFG_FAULT_SLOW};
        out->nemesis.kinds = 0;
        for (int i = 0; i < 4; i++)
            if (kinds & (1u << i))
                out->nemesis.kinds |= 1u << bits[i];
    } else {
        out->nemesis.interval_ms = 0;
    }
    /* Figure 8 storms, a tenth of the seeds (drawn last, so the other seeds keep every earlier
     * draw): one entry per AppendEntries and one in flight, so an older term's entry can reach a
     * majority before the new leader's no-op does (batched, the no-op travels with it and
     * hides an unsafe commit), busy clients, and a crash or cut every few tens of ms. */
    if (coin(&r, 10)) {
        out->num_nodes = coin(&r, 50) ? 3 : 5;
        out->num_clients = 4;
        raft->max_entries_per_append = 1;
        raft->max_inflight = 1;
        out->nemesis.interval_ms = (uint32_t)prng_range(&r, 10, 60);
        out->nemesis.kinds =
            (1u << CFG_FAULT_CRASH) | (1u << CFG_FAULT_PARTITION) | (1u << CFG_FAULT_ISOLATE);
    }
    /* A slow disk, a third of the seeds (drawn last, so the other seeds keep every earlier
     * draw): each write becomes durable after a few ms and a crash loses what is not, so a vote
     * or an acknowledgement sent before its write completes (RAFT_BUG_ACK_BEFORE_DURABLE) can
     * be forgotten. A vote and an acknowledgement wait for a write on each side, so the timing
     * floors count a write like a network delay. */
    uint32_t lag_ms = out->network.delay_ms_max;
    if (coin(&r, 33)) {
        out->disk.write_ms_min = (uint32_t)prng_range(&r, 0, 2);
        out->disk.write_ms_max = out->disk.write_ms_min + (uint32_t)prng_range(&r, 0, 10);
        lag_ms += out->disk.write_ms_max;
        if (raft->election_timeout_ms_min < 50 + 4 * lag_ms) {
            uint32_t spread = raft->election_timeout_ms_max - raft->election_timeout_ms_min;
            raft->election_timeout_ms_min = 50 + 4 * lag_ms;
            raft->election_timeout_ms_max = raft->election_timeout_ms_min + spread;
        }
        if (raft->election_timeout_ms_max - raft->election_timeout_ms_min <
            sweep_spread_ms_min(lag_ms))
            raft->election_timeout_ms_max =
                raft->election_timeout_ms_min + sweep_spread_ms_min(lag_ms);
    }
    /* Snapshots, half the seeds (drawn last, so the other seeds keep every earlier draw): a
     * threshold of a few entries compacts the log many times a run, so crashed, cut-off and
     * slow followers catch up by InstallSnapshot, in chunks small enough to need many. */
    if (coin(&r, 50)) {
        out->storage.snapshot_threshold = (uint32_t)prng_range(&r, 2, 40);
        out->storage.snapshot_trailing = (uint32_t)prng_range(&r, 0, 10);
        out->storage.snapshot_chunk_bytes = (uint32_t)prng_range(&r, 1, 512);
    }
    /* Disk faults, two fifths of the seeds (drawn last, so the other seeds keep every earlier
     * draw): small segments, so logs roll over and compact file by file; crashes that tear
     * their last write or not; up to a minority of nodes whose disks flip bits or misplace a
     * write (they must refuse to start); and fdatasync errors that stop a node. */
    if (coin(&r, 40)) {
        out->storage.segment_bytes = (uint32_t)prng_range(&r, 4096, 16384);
        out->disk.torn_writes = coin(&r, 75);
        out->disk.damaged_nodes = (uint32_t)prng_range(&r, 0, (out->num_nodes - 1) / 2);
        out->disk.bit_flip = coin(&r, 50) ? 0.5 : 0.0;
        out->disk.misdirect = coin(&r, 50) ? 0.5 : 0.0;
        out->disk.sync_error = coin(&r, 30) ? 0.01 : 0.0;
    }
    /* Reads (issue 12), every seed (drawn last, so the other seeds keep every earlier draw):
     * two fifths one policy for every get, the rest a mix of random weights; lease reads only
     * with check-quorum, as the configuration requires; a third of the seeds read-heavy, so
     * many reads wait on one heartbeat round; a clock-drift margin of 5..30%. */
    struct cfg_client *cl = &out->client;
    if (coin(&r, 40)) {
        cl->read = (enum cfg_read)prng_range(&r, CFG_READ_LINEARIZABLE, CFG_READ_LOG);
        if (cl->read == CFG_READ_LEASE && !raft->check_quorum)
            cl->read = CFG_READ_LINEARIZABLE;
    } else {
        cl->read = CFG_READ_MIX;
        struct cfg_read_mix *m = &cl->read_mix;
        m->linearizable = (uint32_t)prng_range(&r, 0, 3);
        m->lease = raft->check_quorum ? (uint32_t)prng_range(&r, 0, 3) : 0;
        m->follower = (uint32_t)prng_range(&r, 0, 3);
        m->stale = (uint32_t)prng_range(&r, 0, 1);
        m->log = (uint32_t)prng_range(&r, 0, 1);
        if (m->linearizable + m->lease + m->follower + m->stale + m->log == 0)
            m->linearizable = 1;
    }
    if (coin(&r, 33)) {
        cl->put_weight = 1;
        cl->get_weight = (uint32_t)prng_range(&r, 3, 9);
        cl->delete_weight = 1;
    }
    raft->clock_drift = (double)prng_range(&r, 5, 30) / 100.0;
    /* Read storms, a tenth of the seeds (drawn last, so the other seeds keep every earlier
     * draw): long read-heavy runs under partitions and isolations, most reads served by
     * followers or under the lease, so that a leader cut off from the majority meets reads:
     * its clients', those its followers on the minority side forward to it, and those of clients
     * these followers send its way (a stale read there names the old leader as leader).
     * A read served there without the heartbeat round, or under a lease nothing bounds, returns
     * a value a write on the majority side has already replaced. The network gets what delay
     * the election timing allows (up to 10 ms), so a run lasts long enough for faults. */
    if (coin(&r, 10)) {
        out->num_nodes = coin(&r, 33) ? 3 : 5;
        if (out->disk.damaged_nodes > (out->num_nodes - 1) / 2)
            out->disk.damaged_nodes = (out->num_nodes - 1) / 2; /* a minority, as drawn */
        out->num_clients = 5;
        cl->requests = (uint32_t)prng_range(&r, 400, 800);
        cl->put_weight = 1;
        cl->get_weight = 8;
        cl->delete_weight = 1;
        cl->read = CFG_READ_MIX;
        cl->read_mix = (struct cfg_read_mix){.linearizable = 1,
                                             .lease = raft->check_quorum ? 6 : 0,
                                             .follower = 3,
                                             .stale = 3,
                                             .log = 1};
        uint32_t spread = raft->election_timeout_ms_max - raft->election_timeout_ms_min;
        uint32_t room_min = (raft->election_timeout_ms_min - 50 - 4 * lag_ms) / 4;
        uint32_t room_spread = (spread - sweep_spread_ms_min(lag_ms)) / 4;
        uint32_t extra = room_min < room_spread ? room_min : room_spread;
        extra = extra < 10 ? extra : 10;
        net->delay_ms_max += extra;
        lag_ms += extra;
        out->nemesis.interval_ms = (uint32_t)prng_range(&r, 200, 500);
        out->nemesis.kinds = (1u << CFG_FAULT_PARTITION) | (1u << CFG_FAULT_ISOLATE);
    }
    /* Membership (issue 16), a fifth of the seeds (drawn last, so the other seeds keep every
     * earlier draw): one or two spare node ids that join when added, and a nemesis that adds,
     * removes and transfers leadership among its other faults (on its own, when it was off). */
    if (coin(&r, 20)) {
        out->max_nodes = out->num_nodes + (uint32_t)prng_range(&r, 1, 2);
        if (out->nemesis.interval_ms == 0) {
            out->nemesis.interval_ms = (uint32_t)prng_range(&r, 20, 500);
            out->nemesis.kinds = 0;
        }
        out->nemesis.kinds |=
            (1u << CFG_FAULT_TRANSFER) | (1u << CFG_FAULT_ADD) | (1u << CFG_FAULT_REMOVE);
        /* A third of them storms, like Figure 8's: one entry per AppendEntries and one in
         * flight, so configuration entries stay uncommitted long enough for the next leader to
         * meet them, and a move every few ms, so changes land right after elections (the
         * unsafe orders of thesis 4.1's erratum need both). */
        if (coin(&r, 33)) {
            out->num_nodes = coin(&r, 50) ? 3 : 4;
            out->max_nodes = out->num_nodes + 2;
            if (out->disk.damaged_nodes > (out->num_nodes - 1) / 2)
                out->disk.damaged_nodes = (out->num_nodes - 1) / 2;
            out->num_clients = 4;
            cl->requests = (uint32_t)prng_range(&r, 10, 40); /* (not a read storm's hundreds) */
            raft->max_entries_per_append = 1;
            raft->max_inflight = 1;
            out->nemesis.interval_ms = (uint32_t)prng_range(&r, 5, 40);
            /* Half without pre-vote and check-quorum, which otherwise keep a removed or stale
             * server from getting the votes that would show an unsafe change. */
            if (coin(&r, 50)) {
                raft->pre_vote = raft->check_quorum = false;
                if (cl->read == CFG_READ_LEASE) /* lease reads need check-quorum */
                    cl->read = CFG_READ_LINEARIZABLE;
                cl->read_mix.linearizable += cl->read_mix.lease;
                cl->read_mix.lease = 0;
            }
            out->nemesis.kinds = (1u << CFG_FAULT_CRASH) | (1u << CFG_FAULT_PARTITION) |
                                 (1u << CFG_FAULT_ISOLATE) | (1u << CFG_FAULT_TRANSFER) |
                                 (1u << CFG_FAULT_ADD) | (1u << CFG_FAULT_REMOVE);
        }
    } else {
        out->max_nodes = out->num_nodes;
    }
    out->check.invariants = true;
    out->check.linearizability = true;
    out->check.converge_ms = 30000;
    assert(raft->heartbeat_ms < raft->election_timeout_ms_min);
    assert(raft->election_timeout_ms_min >= 50 + 4 * lag_ms);
    assert(raft->election_timeout_ms_max - raft->election_timeout_ms_min >=
           sweep_spread_ms_min(lag_ms));
}

/* Shrinks failing seed's fault schedule and writes the replay configuration
 * <shrink_dir>/sweep-seed-<seed>.toml; says what came of it on out. */
static void shrink_seed(uint64_t seed, const struct sim_options *opt, const char *program,
                        FILE *out)
{
    struct cfg cfg;
    sim_sweep_config(seed, &cfg);
    struct cfg_fault *faults = NULL;
    size_t n = 0, before = 0;
    if (sim_shrink(&cfg, opt, SIM_SHRINK_RUNS, &faults, &n, &before) != 0) {
        if (out != NULL)
            fprintf(out, "  not shrunk: its faults replayed as a schedule do not fail the same "
                         "check\n");
        cfg_close(&cfg);
        return;
    }
    char path[4096], note[256], err[4200];
    snprintf(path, sizeof path, "%s/sweep-seed-%llu.toml", opt->shrink_dir,
             (unsigned long long)seed);
    snprintf(note, sizeof note,
             "raft_kv --sweep 1 --seed %llu, shrunk: %zu of its %zu faults still fail the same "
             "check",
             (unsigned long long)seed, n, before);
    int rc = sim_write_replay(&cfg, faults, n, note, path, err, sizeof err);
    if (out != NULL) {
        if (rc == 0 && before == 0)
            fprintf(out, "  fails without faults; configuration: %s --simulate %s\n", program,
                    path);
        else if (rc == 0)
            fprintf(out, "  shrunk: %zu of %zu faults still fail; replay: %s --simulate %s\n", n,
                    before, program, path);
        else
            fprintf(out, "  shrunk to %zu of %zu faults, but %s\n", n, before, err);
        fflush(out);
    }
    free(faults);
    cfg_close(&cfg);
}

int sim_sweep(uint64_t first, uint64_t count, const struct sim_options *opt, const char *program,
              FILE *out, struct sim_sweep_result *res, char *err, size_t err_len)
{
    memset(res, 0, sizeof *res);
    for (uint64_t i = 0; i < count && res->interrupted == 0; i++) {
        uint64_t seed = first + i;
        struct cfg cfg;
        sim_sweep_config(seed, &cfg);
        struct sim_report rep;
        int rc = sim_run(&cfg, opt, &rep, err, err_len);
        cfg_close(&cfg);
        if (rc != 0)
            return -1;
        if (rep.run.interrupted != 0) { /* a signal: this seed did not run to its end */
            res->interrupted = rep.run.interrupted;
            sim_report_close(&rep);
            break;
        }
        res->seeds++;
        res->virtual_s += (double)rep.virtual_ms / 1000.0;
        res->wall_s += rep.wall_s;
        res->events += rep.events;
        simfs_counts_add(&res->disk, &rep.disk);
        res->refused += rep.refused;
        if (!rep.consistent) {
            if (res->failures == 0) {
                res->first_failing_seed = seed;
                res->first_failed_check = rep.failed_check;
                snprintf(res->first_problem, sizeof res->first_problem, "%s",
                         cluster_report_problem(&rep.run));
            }
            res->failures++;
            if (sim_check_is_safety(rep.failed_check))
                res->safety_failures++;
            else
                res->liveness_failures++;
            if (out != NULL) {
                fprintf(out, "seed %llu: FAILED (%s): %s; replay: %s --sweep 1 --seed %llu\n",
                        (unsigned long long)seed, sim_check_name(rep.failed_check),
                        cluster_report_problem(&rep.run), program, (unsigned long long)seed);
                fflush(out);
            }
        }
        bool shrink = !rep.consistent && opt != NULL && opt->shrink_dir != NULL;
        sim_report_close(&rep);
        if (shrink && res->shrunk < SIM_SHRINK_SEEDS) {
            double start = sim_wall_now_s();
            shrink_seed(seed, opt, program, out);
            res->shrink_wall_s += sim_wall_now_s() - start;
            res->shrunk++;
        } else if (shrink && out != NULL) {
            fprintf(out, "  not shrunk: only the first %d failing seeds of a sweep are\n",
                    SIM_SHRINK_SEEDS);
        }
    }
    if (out != NULL)
        fprintf(out,
                "%llu seeds, %llu failures (%llu safety, %llu liveness), %.2f virtual hours, "
                "%.1f s (%.0f seeds/s, %.0fx real time)\n",
                (unsigned long long)res->seeds, (unsigned long long)res->failures,
                (unsigned long long)res->safety_failures,
                (unsigned long long)res->liveness_failures, res->virtual_s / 3600.0, res->wall_s,
                res->wall_s > 0 ? (double)res->seeds / res->wall_s : 0.0,
                res->wall_s > 0 ? res->virtual_s / res->wall_s : 0.0);
    if (out != NULL)
        fprintf(out,
                "disk faults: %llu torn writes, %llu unsynced operations lost at crashes, %llu "
                "bits flipped, %llu writes misplaced, %llu fdatasync errors; %llu nodes refused "
                "to start\n",
                (unsigned long long)res->disk.torn, (unsigned long long)res->disk.lost_ops,
                (unsigned long long)res->disk.flips, (unsigned long long)res->disk.misdirected,
                (unsigned long long)res->disk.sync_errors, (unsigned long long)res->refused);
    if (out != NULL && res->interrupted != 0)
        fprintf(out, "interrupted by %s after %llu of %llu seeds\n", signal_name(res->interrupted),
                (unsigned long long)res->seeds, (unsigned long long)count);
    if (out != NULL && res->shrunk > 0)
        fprintf(out, "shrinking (%llu failing seed%s) took %.1f s more\n",
                (unsigned long long)res->shrunk, res->shrunk == 1 ? "" : "s", res->shrink_wall_s);
    return 0;
}
