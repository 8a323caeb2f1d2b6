/* test_sim_planted.c - proof that the simulator can fail: with each known bug planted in the Raft
 * core (raft_options.planted_bugs), a sweep of random seeds must catch it, and the test names the
 * seed and the check that did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "raft/raft.h"
#include "runtime/trace.h"
#include "sim/sim.h"

/* Seeds each planted bug may take to be caught. */
#define PLANTED_SEEDS 2000

static int quiet_trace(void **state)
{
    (void)state;
    struct trace_options opt = {.level = TRACE_QUIET, .format = TRACE_TEXT};
    trace_open(&opt);
    return 0;
}

enum profile { PROFILE_SWEEP, PROFILE_FIGURE8 };
static const char *const profile_names[] = {"", " (Figure 8 profile)"};

/* The sweep's configuration of seed, or for PROFILE_FIGURE8 bent towards Figure 8: one entry per
 * AppendEntries and one in flight (the leader's no-op travels after the old-term entry), 3 or 5
 * nodes, busy clients, a crash/partition storm. */
static void config_of(uint64_t seed, enum profile profile, struct cfg *cfg)
{
    sim_sweep_config(seed, cfg);
    if (profile == PROFILE_SWEEP)
        return;
    cfg->num_nodes = seed % 2 ? 3 : 5;
    cfg->num_clients = 4;
    cfg->raft.max_entries_per_append = 1;
    cfg->raft.max_inflight = 1;
    cfg->nemesis.interval_ms = 10 + (uint32_t)(seed % 50);
    cfg->nemesis.kinds =
        (1u << CFG_FAULT_CRASH) | (1u << CFG_FAULT_PARTITION) | (1u << CFG_FAULT_ISOLATE);
}

/* A sweep seed's failure shrunk and written by sim_sweep itself into dir, as `raft_kv --sweep`
 * does: its report names the replay file. Returns false if it could not shrink. */
static bool sweep_shrinks(uint64_t seed, const struct sim_options *bug, const char *dir, char *path,
                          size_t path_len)
{
    struct sim_options opt = *bug;
    opt.shrink_dir = dir;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    struct sim_sweep_result res;
    char err[512];
    assert_int_equal(sim_sweep(seed, 1, &opt, "./raft_kv", out, &res, err, sizeof err), 0);
    fclose(out);
    fputs(text, stderr);
    assert_int_equal(res.failures, 1);
    snprintf(path, path_len, "%s/sweep-seed-%llu.toml", dir, (unsigned long long)seed);
    bool shrunk =
        strstr(text, "  shrunk: ") != NULL || strstr(text, "  fails without faults") != NULL;
    if (shrunk)
        assert_non_null(strstr(text, path));
    free(text);
    return shrunk;
}

/* Any other profile: sim_shrink, then sim_write_replay into dir. */
static bool profile_shrinks(uint64_t seed, enum profile profile, const struct sim_options *bug,
                            const char *dir, char *path, size_t path_len)
{
    struct cfg cfg;
    config_of(seed, profile, &cfg);
    struct cfg_fault *faults = NULL;
    size_t n = 0, before = 0;
    bool shrunk = sim_shrink(&cfg, bug, SIM_SHRINK_RUNS, &faults, &n, &before) == 0;
    if (shrunk) {
        assert_true(n <= before);
        fprintf(stderr, "  shrunk: %zu of %zu faults still fail\n", n, before);
        snprintf(path, path_len, "%s/seed-%llu.toml", dir, (unsigned long long)seed);
        char err[512];
        if (sim_write_replay(&cfg, faults, n, "shrunk by test_sim_planted", path, err,
                             sizeof err) != 0)
            fail_msg("%s", err);
        free(faults);
    }
    cfg_close(&cfg);
    return shrunk;
}

/* Shrinks seed's failure and requires the written replay configuration, loaded back from its
 * file, to fail the same check: what `raft_kv --sweep` hands a user replays the bug. */
static void shrink(uint64_t seed, enum profile profile, const struct sim_options *bug,
                   enum sim_check check)
{
    char dir[] = "/tmp/test_sim_planted_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    bool shrunk = profile == PROFILE_SWEEP
                      ? sweep_shrinks(seed, bug, dir, path, sizeof path)
                      : profile_shrinks(seed, profile, bug, dir, path, sizeof path);
    if (!shrunk) {
        fprintf(stderr, "  (its faults replayed as a schedule do not fail: not shrunk)\n");
        rmdir(dir);
        return;
    }
    struct cfg cfg;
    struct cfg_error cerr;
    int rc = cfg_load(&cfg, path, NULL, 0, &cerr);
    unlink(path);
    rmdir(dir);
    if (rc != 0)
        fail_msg("the replay configuration does not load: %s", cerr.msg);
    assert_int_equal(cfg.nemesis.interval_ms, 0);
    struct sim_report rep;
    char err[512];
    assert_int_equal(sim_run(&cfg, bug, &rep, err, sizeof err), 0);
    cfg_close(&cfg);
    fprintf(stderr, "  its replay configuration fails: %s\n",
            rep.consistent ? "nothing" : sim_check_name(rep.failed_check));
    assert_false(rep.consistent);
    assert_int_equal(rep.failed_check, check);
    sim_report_close(&rep);
}

/* Sweeps with bug planted until a seed fails; returns the check that caught it. */
static enum sim_check caught(uint32_t bug, const char *name, enum profile profile)
{
    struct sim_options opt;
    sim_options_default(&opt);
    opt.planted_bugs = bug;
    char err[512];
    for (uint64_t seed = 1; seed <= PLANTED_SEEDS; seed++) {
        struct cfg cfg;
        config_of(seed, profile, &cfg);
        struct sim_report rep;
        assert_int_equal(sim_run(&cfg, &opt, &rep, err, sizeof err), 0);
        cfg_close(&cfg);
        bool found = !rep.consistent;
        if (found)
            fprintf(stderr, "planted %s: caught by seed %llu%s (%s): %s\n", name,
                    (unsigned long long)seed, profile_names[profile],
                    sim_check_name(rep.failed_check), rep.run.problem);
        enum sim_check check = rep.failed_check;
        sim_report_close(&rep);
        if (found) {
            /* The control: the same seed without the bug comes out consistent. */
            config_of(seed, profile, &cfg);
            assert_int_equal(sim_run(&cfg, NULL, &rep, err, sizeof err), 0);
            cfg_close(&cfg);
            if (!rep.consistent)
                fail_msg("seed %llu also fails without the bug: %s", (unsigned long long)seed,
                         rep.run.problem);
            sim_report_close(&rep);
            shrink(seed, profile, &opt, check);
            return check;
        }
    }
    fail_msg("planted %s: not caught in %d seeds", name, PLANTED_SEEDS);
    return SIM_CHECK_NONE;
}

/* Figure 8: committing an old-term entry by counting replicas. */
static void commit_old_term_is_caught(void **state)
{
    (void)state;
    assert_int_not_equal(caught(RAFT_BUG_COMMIT_OLD_TERM, "commit-old-term", PROFILE_FIGURE8),
                         SIM_CHECK_NONE);
}

/* Two votes in one term: two leaders of one term (election safety). */
static void double_vote_is_caught(void **state)
{
    (void)state;
    assert_int_not_equal(caught(RAFT_BUG_DOUBLE_VOTE, "double-vote", PROFILE_SWEEP),
                         SIM_CHECK_NONE);
}

/* The vote is not persisted across a restart. */
static void forget_vote_is_caught(void **state)
{
    (void)state;
    assert_int_not_equal(caught(RAFT_BUG_FORGET_VOTE, "forget-vote", PROFILE_SWEEP),
                         SIM_CHECK_NONE);
}

/* Entries applied (and clients answered) before they commit: a leader that loses its term
 * has answered for entries a later leader overwrites (the result check, or state machine safety
 * when another node applies the later entry at that index). */
static void apply_before_commit_is_caught(void **state)
{
    (void)state;
    assert_int_not_equal(caught(RAFT_BUG_APPLY_BEFORE_COMMIT, "apply-before-commit", PROFILE_SWEEP),
                         SIM_CHECK_NONE);
}

/* Without a planted bug, the Figure 8 profile finds nothing in many seeds: what it catches is
 * the bug, not a profile that breaks the cluster's assumptions. */
static void figure8_profile_finds_nothing_without_bugs(void **state)
{
    (void)state;
    char err[512];
    for (uint64_t seed = 1; seed <= 150; seed++) {
        struct cfg cfg;
        config_of(seed, PROFILE_FIGURE8, &cfg);
        struct sim_report rep;
        assert_int_equal(sim_run(&cfg, NULL, &rep, err, sizeof err), 0);
        cfg_close(&cfg);
        if (!rep.consistent)
            fail_msg("seed %llu (Figure 8 profile) failed (%s): %s", (unsigned long long)seed,
                     sim_check_name(rep.failed_check), rep.run.problem);
        sim_report_close(&rep);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_old_term_is_caught),
        cmocka_unit_test(double_vote_is_caught),
        cmocka_unit_test(forget_vote_is_caught),
        cmocka_unit_test(apply_before_commit_is_caught),
        cmocka_unit_test(figure8_profile_finds_nothing_without_bugs),
    };
    return cmocka_run_group_tests(tests, quiet_trace, NULL);
}
