/* results.h - the end-of-run check of client results, shared by the threaded run (cluster.c)
 * and the simulator (sim/): count the outcomes, and replay the committed log through a fresh
 * state machine to check every client result against it.
 */
#ifndef RAFT_KV_CLUSTER_RESULTS_H
#define RAFT_KV_CLUSTER_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "raft/raft.h"

struct cluster_counts;

/* One client's results as the checks need them (borrowed). */
struct cluster_client_results {
    uint32_t id; /* 1..num_clients */
    const struct client_stats *stats;
    const struct client_outcome *outcomes;
    uint32_t n_outcomes;
};

/* Adds the clients' statistics and outcomes to *counts. */
void cluster_count_results(const struct cluster_client_results *clients, uint32_t n,
                           struct cluster_counts *counts);

/* Replays the committed log (disk's snapshot, then its log through commit_index) and checks every
 * client result: an ok must equal the replayed result, a fail must not be committed, and every
 * committed command must name a request some client could have sent (ids 1..num_clients, seq
 * 1..requests; session ids are session_base + client id, and sessions at or below session_base
 * are an earlier run's, resumed from disk, and not checked). A request compacted into the snapshot
 * is known only through its client's session there: the last one is checked against the saved
 * result, earlier ones are not checked. Returns true if all agree; otherwise false with the first
 * disagreement described in problem. *replayed counts the committed client commands replayed from
 * the log. */
bool cluster_check_results(const struct raft_disk *disk, uint64_t commit_index,
                           uint32_t num_clients, uint32_t requests, uint64_t session_base,
                           const struct cluster_client_results *clients, uint32_t n,
                           uint64_t *replayed, char *problem, size_t problem_len);

struct cluster_report;

/* The linearizability verdict on the history file at path (check/linearize.h): fills the
 * report's linearizability_checked, lin_verdict and lin_text (the checker's printout, heap).
 * Returns false, with problem filled, if the file cannot be checked or is not linearizable. */
bool cluster_check_history(const char *path, struct cluster_report *rep, char *problem,
                           size_t problem_len);

#endif
