/* shrink.c - the shortest fault schedule that still fails: a failing run's injected faults are
 * replayed as a [[fault]] schedule with the nemesis off; then the shortest failing prefix is
 * found by bisection (faults after the trigger are bystanders), and chunks of the rest are
 * dropped while the failure stays (delta debugging after Zeller's ddmin). Every attempt is a
 * full deterministic simulation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "sim/internal.h"

struct shrinker {
    struct cfg *cfg;
    const struct sim_options *opt;
    enum sim_check check; /* the failure to keep */
    uint32_t runs, max_runs;
};

/* Runs the schedule faults[0..n) with no nemesis: true if it fails the same check. Counts the
 * run against the budget. */
static bool fails(struct shrinker *sh, struct cfg_fault *faults, size_t n)
{
    sh->runs++;
    sh->cfg->faults = faults;
    sh->cfg->n_faults = n;
    sh->cfg->nemesis.interval_ms = 0;
    struct sim_report rep;
    char err[256];
    if (sim_run(sh->cfg, sh->opt, &rep, err, sizeof err) != 0)
        return false;
    bool failed = !rep.consistent && rep.failed_check == sh->check;
    sim_report_close(&rep);
    return failed;
}

/* The shortest prefix of cand[0..n) that fails, by bisection (n itself is known to fail). A
 * failure need not be monotonic in the prefix length, so this finds a short one, not
 * necessarily the shortest. */
static size_t shortest_failing_prefix(struct shrinker *sh, struct cfg_fault *cand, size_t n)
{
    size_t lo = 0, hi = n; /* invariant: hi fails; prefixes of lo or fewer were not seen to */
    if (sh->runs < sh->max_runs && fails(sh, cand, 0))
        return 0;
    while (hi - lo > 1 && sh->runs < sh->max_runs) {
        size_t mid = lo + (hi - lo) / 2;
        if (fails(sh, cand, mid))
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* Drops chunks of n/2, n/4, ..., 1 faults, last first (a late fault is more often a bystander
 * of the trigger than an early one); a chunk whose removal keeps the failure stays removed.
 * Returns the new length of cand. */
static size_t drop_chunks(struct shrinker *sh, struct cfg_fault *cand, size_t n)
{
    struct cfg_fault *trial = xcalloc(n ? n : 1, sizeof *trial);
    for (size_t chunk = n > 1 ? n / 2 : 1; chunk >= 1 && sh->runs < sh->max_runs; chunk /= 2) {
        for (size_t end = n; end > 0 && sh->runs < sh->max_runs;) {
            size_t start = end > chunk ? end - chunk : 0;
            memcpy(trial, cand, start * sizeof *trial);
            memcpy(trial + start, cand + end, (n - end) * sizeof *trial);
            if (fails(sh, trial, n - (end - start))) {
                n -= end - start;
                memcpy(cand, trial, n * sizeof *cand);
            }
            end = start;
        }
    }
    free(trial);
    return n;
}

int sim_shrink(struct cfg *cfg, const struct sim_options *opt, uint32_t max_runs,
               struct cfg_fault **faults, size_t *n_faults, size_t *n_before)
{
    struct cfg_fault *saved_faults = cfg->faults;
    size_t saved_n = cfg->n_faults;
    struct cfg_nemesis saved_nemesis = cfg->nemesis;
    struct sim_report rep;
    char err[256];
    if (sim_run(cfg, opt, &rep, err, sizeof err) != 0)
        return -1;
    struct shrinker sh = {
        .cfg = cfg, .opt = opt, .check = rep.failed_check, .runs = 1, .max_runs = max_runs};
    size_t n = rep.n_injected;
    struct cfg_fault *cand = rep.injected;
    rep.injected = NULL;
    bool failing = !rep.consistent;
    sim_report_close(&rep);
    int rc = -1;
    if (!failing || !fails(&sh, cand, n))
        goto out;
    *n_before = n;
    n = shortest_failing_prefix(&sh, cand, n);
    n = drop_chunks(&sh, cand, n);
    *faults = cand;
    *n_faults = n;
    cand = NULL;
    rc = 0;
out:
    free(cand);
    cfg->faults = saved_faults;
    cfg->n_faults = saved_n;
    cfg->nemesis = saved_nemesis;
    return rc;
}

int sim_write_replay(const struct cfg *cfg, const struct cfg_fault *faults, size_t n,
                     const char *note, const char *path, char *err, size_t err_len)
{
    if (n > CFG_FAULTS_MAX) {
        snprintf(err, err_len, "%s: not written: %zu faults, more than a configuration holds (%d)",
                 path, n, CFG_FAULTS_MAX);
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    struct cfg replay = *cfg; /* a shallow copy: only the faults and the nemesis differ */
    replay.faults = (struct cfg_fault *)faults; /* cfg_print only reads them */
    replay.n_faults = n;
    replay.nemesis.interval_ms = 0;
    replay.history_path = NULL;
    if (note != NULL)
        fprintf(f, "# %s\n", note);
    fprintf(f, "# replay: raft_kv --simulate %s\n\n", path);
    cfg_print(f, &replay, false);
    bool failed = ferror(f) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !failed) {
        failed = true;
        saved = errno;
    }
    if (failed) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(saved));
        unlink(path);
        return -1;
    }
    return 0;
}
