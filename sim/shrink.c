/* shrink.c - the shortest fault schedule that still fails: a failing run's injected faults are
 * replayed as a [[fault]] schedule, then dropped one at a time while the failure stays (greedy
 * delta debugging after Zeller's ddmin), every attempt a full deterministic simulation.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "sim/internal.h"

/* Runs cfg with the schedule faults[0..n) and no nemesis: true if it fails `check`. */
static bool fails(struct cfg *cfg, const struct sim_options *opt, struct cfg_fault *faults,
                  size_t n, enum sim_check check)
{
    cfg->faults = faults;
    cfg->n_faults = n;
    cfg->nemesis.interval_ms = 0;
    struct sim_report rep;
    char err[256];
    if (sim_run(cfg, opt, &rep, err, sizeof err) != 0)
        return false;
    bool failed = !rep.consistent && rep.failed_check == check;
    sim_report_close(&rep);
    return failed;
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
    enum sim_check check = rep.failed_check;
    size_t n = rep.n_injected;
    struct cfg_fault *cand = rep.injected;
    rep.injected = NULL;
    bool failing = !rep.consistent;
    sim_report_close(&rep);
    int rc = -1;
    uint32_t runs = 1;
    if (!failing || !fails(cfg, opt, cand, n, check))
        goto out;
    *n_before = n;
    struct cfg_fault *trial = xcalloc(n ? n : 1, sizeof *trial);
    /* Chunks of n/2, n/4, ..., 1 faults, last first (a late fault is more often a bystander of
     * the trigger than an early one); a chunk whose removal keeps the failure stays removed. */
    for (size_t chunk = n > 1 ? n / 2 : 1; chunk >= 1 && runs < max_runs; chunk /= 2) {
        for (size_t end = n; end > 0 && runs < max_runs; runs++) {
            size_t start = end > chunk ? end - chunk : 0;
            memcpy(trial, cand, start * sizeof *trial);
            memcpy(trial + start, cand + end, (n - end) * sizeof *trial);
            if (fails(cfg, opt, trial, n - (end - start), check)) {
                n -= end - start;
                memcpy(cand, trial, n * sizeof *cand);
            }
            end = start;
        }
    }
    free(trial);
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
