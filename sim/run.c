/* run.c - one simulated run from start to verdict: the phases of cluster_run (elect, clients and
 * faults, heal, converge) on virtual time, then the same checks and summary plus liveness.
 * Liveness is judged on virtual time only, so a verdict never depends on the machine's speed.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/linearize.h"
#include "cluster/results.h"
#include "common/alloc.h"
#include "actors/monitor.h"
#include "runtime/signals.h"
#include "runtime/trace.h"
#include "sim/internal.h"

/* Once every fault is healed, a leader must be known within this many (maximal) election
 * timeouts: the "bounded number of election timeouts". */
#define SIM_LIVENESS_ELECTION_TIMEOUTS 10

const char *sim_check_name(enum sim_check check)
{
    switch (check) {
    case SIM_CHECK_NONE:
        return "none";
    case SIM_CHECK_INVARIANT:
        return "invariant";
    case SIM_CHECK_LINEARIZABILITY:
        return "linearizability";
    case SIM_CHECK_LIVENESS:
        return "liveness";
    case SIM_CHECK_STORES:
        return "stores";
    case SIM_CHECK_RESULTS:
        return "results";
    }
    return "?";
}

bool sim_check_is_safety(enum sim_check check)
{
    switch (check) {
    case SIM_CHECK_INVARIANT:
    case SIM_CHECK_LINEARIZABILITY:
    case SIM_CHECK_STORES:
    case SIM_CHECK_RESULTS:
        return true;
    case SIM_CHECK_NONE:
    case SIM_CHECK_LIVENESS:
        return false;
    }
    return false;
}

/* A safety problem found by check; the first is kept, and a safety check takes the place of a
 * liveness one as the run's failed_check (the more serious finding names the run). */
static void problem(struct sim_report *rep, enum sim_check check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(struct sim_report *rep, enum sim_check check, const char *fmt, ...)
{
    assert(check != SIM_CHECK_LIVENESS && check != SIM_CHECK_NONE);
    if (rep->run.problem[0] != '\0')
        return; /* keep the first */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->run.problem, sizeof rep->run.problem, fmt, ap);
    va_end(ap);
    rep->failed_check = check;
}

/* A liveness problem (a bound ran out); what: "no leader", "not converged", "clients not done". */
static void not_live(struct sim_report *rep, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void not_live(struct sim_report *rep, const char *what, const char *fmt, ...)
{
    if (rep->run.liveness[0] != '\0')
        return; /* keep the first */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->run.liveness, sizeof rep->run.liveness, fmt, ap);
    va_end(ap);
    rep->run.liveness_what = what;
    if (rep->failed_check == SIM_CHECK_NONE)
        rep->failed_check = SIM_CHECK_LIVENESS;
}

double sim_wall_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Node id is one of the cluster's: a member of the leader's configuration (the others, removed
 * or never added, are not expected to follow it). */
static bool in_cluster(const struct sim *s, uint32_t leader, uint32_t id)
{
    return raft_config_is_member(raft_config(&s->nodes[leader - 1].rep.raft), id);
}

/* A leader that has applied its whole log, and every member applied exactly as far. */
static bool converged(const struct sim *s)
{
    uint32_t leader = sim_leader(s);
    if (leader == 0)
        return false;
    const struct raft *l = &s->nodes[leader - 1].rep.raft;
    if (raft_last_applied(l) != raft_last_index(l) || raft_config_learners(raft_config(l)) > 0 ||
        raft_config_index(l) > raft_commit_index(l))
        return false; /* (a learner still catching up, or a change not yet committed) */
    /* ... and every write has reached its disk, which the end-of-run checks read. */
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        const struct sim_node *n = &s->nodes[i];
        if (n->refused || !in_cluster(s, leader, i + 1)) /* its disk is damaged: it stays */
            continue;                                    /* down, reported */
        if (!n->up || raft_last_applied(&n->rep.raft) != raft_last_applied(l) ||
            n->synced_seq != n->written_seq)
            return false;
    }
    return true;
}

/* Phase 1: elect, then run the clients and the faults until both are done (bounded). */
static void run_clients(struct sim *s, struct sim_report *rep)
{
    const struct cfg *cfg = s->cfg;
    uint64_t elect_bound_ms = 20 * (uint64_t)cfg->raft.election_timeout_ms_max;
    uint64_t per_request_ms =
        s->request_deadline_ms + cfg->client.timeout_ms + cfg->raft.election_timeout_ms_max;
    while (!s->violated) {
        /* A signal (SIGINT, SIGTERM): the clients end their requests in flight and start no
         * other, as in a threaded run; looked at every 1024 events, which costs nothing. */
        if (rep->run.interrupted == 0 && (s->events & 1023) == 0 && signal_watch_caught() != 0) {
            rep->run.interrupted = signal_watch_caught();
            for (uint32_t i = 0; i < s->n_clients; i++)
                client_interrupt(&s->clients[i].logic);
        }
        if (rep->run.interrupted != 0 && (s->first_leader == 0 || s->clients_done == s->n_clients))
            return;
        if (s->first_leader == 0 && s->now_ms >= elect_bound_ms) {
            not_live(rep, "no leader", "no leader was elected within %llu ms",
                     (unsigned long long)elect_bound_ms);
            return;
        }
        if (s->first_leader != 0) {
            if (s->clients_done == s->n_clients && scenario_plan_done(&s->scenario))
                return;
            uint64_t give_up_ms =
                s->first_leader_ms + per_request_ms * cfg->client.requests + 10000;
            if (s->now_ms >= give_up_ms) {
                for (uint32_t i = 0; i < s->n_clients; i++)
                    if (!s->clients[i].done) {
                        not_live(rep, "clients not done",
                                 "client %u did not finish within its time bound", i + 1);
                        return;
                    }
                return; /* only scheduled faults are left, and they are late: heal now */
            }
        }
        if (s->events >= s->max_events) {
            not_live(rep, "not converged", "the run took more than %llu events",
                     (unsigned long long)s->max_events);
            return;
        }
        if (!sim_step(s))
            return;
    }
}

/* Phases 2 and 3: heal everything, then give the cluster converge_ms to converge. */
static void heal_and_converge(struct sim *s, struct sim_report *rep)
{
    const struct cfg *cfg = s->cfg;
    sim_faults_heal_all(s);
    rep->heal_ms = s->now_ms;
    rep->leader_after_heal_ms = UINT64_MAX;
    uint64_t deadline_ms = s->now_ms + cfg->check.converge_ms;
    while (!s->violated && s->events < s->max_events) {
        if (rep->leader_after_heal_ms == UINT64_MAX && sim_leader(s) != 0)
            rep->leader_after_heal_ms = s->now_ms - rep->heal_ms;
        if (converged(s)) {
            rep->converged = true;
            break;
        }
        if (s->now_ms >= deadline_ms || !sim_step(s))
            break;
    }
    if (s->violated)
        return;
    uint64_t bound_ms =
        SIM_LIVENESS_ELECTION_TIMEOUTS * (uint64_t)cfg->raft.election_timeout_ms_max;
    if (rep->leader_after_heal_ms == UINT64_MAX || rep->leader_after_heal_ms > bound_ms)
        not_live(rep, "no leader",
                 "no leader within %u election timeouts (%llu ms) after every fault was healed",
                 SIM_LIVENESS_ELECTION_TIMEOUTS, (unsigned long long)bound_ms);
    else if (!rep->converged)
        not_live(rep, "not converged",
                 "the nodes did not converge within %u ms after every fault was healed",
                 cfg->check.converge_ms);
}

static void node_status_of(const struct sim *s, uint32_t i, struct node_status *st)
{
    const struct sim_node *n = &s->nodes[i];
    *st = n->stats;
    st->id = n->id;
    if (n->up)
        host_status_fill(&n->rep, st);
}

/* The started clients' results as the shared checks (cluster/results.c) take them: each one's
 * outcomes kept, oldest first, in an array of its own (*lin, freed by the caller; the values
 * stay the client's). */
static uint32_t client_results(const struct sim *s, struct cluster_client_results *cr,
                               struct client_outcome **lin)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n_clients; i++) {
        const struct client *cl = &s->clients[i].logic;
        if (!s->clients[i].started)
            continue;
        uint32_t kept = client_outcomes_kept(cl);
        lin[n] = xcalloc(kept ? kept : 1, sizeof *lin[n]);
        for (uint32_t k = 0; k < kept; k++)
            lin[n][k] = *client_outcome(cl, k);
        cr[n] = (struct cluster_client_results){
            .id = i + 1, .stats = &cl->stats, .outcomes = lin[n], .n_outcomes = kept};
        n++;
    }
    return n;
}

/* Everything the world knows at the end goes into the report; then the end-of-run checks. */
static void fill_report(struct sim *s, struct sim_report *rep)
{
    struct cluster_report *run = &rep->run;
    const struct cfg *cfg = s->cfg;
    if (s->violated)
        problem(rep, SIM_CHECK_INVARIANT, "%s", s->violation);
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        node_status_of(s, i, &run->nodes[i]);
        run->elections += s->nodes[i].stats.elections;
        run->msgs_dropped += s->nodes[i].stats.msgs_dropped;
        run->msgs_duplicated += s->nodes[i].stats.msgs_duplicated;
        run->snapshots_taken += s->nodes[i].stats.snapshots_taken;
        run->snapshots_installed += s->nodes[i].stats.snapshots_installed;
    }
    run->first_leader_us = s->first_leader_ms * 1000;
    run->elected = s->first_leader != 0;
    run->faults = s->scenario.faults;
    rep->clients_done = s->clients_done == s->n_clients;
    uint32_t leader = sim_leader(s);
    if (leader != 0 && (rep->converged || run->interrupted != 0)) {
        /* An interrupted run names its leader as it was; only a converged one is compared. */
        run->leader = leader;
        run->leader_term = run->nodes[leader - 1].term;
        run->commit_index = run->nodes[leader - 1].commit_index;
    }
    if (leader != 0 && rep->converged) {
        run->all_applied = true;
        run->stores_identical = true;
        const struct node_status *l = &run->nodes[leader - 1];
        for (uint32_t i = 0; i < s->n_nodes; i++)
            if (!s->nodes[i].refused && in_cluster(s, leader, i + 1) &&
                run->nodes[i].digest != l->digest) {
                run->stores_identical = false;
                problem(rep, SIM_CHECK_STORES,
                        "the stores differ: node %u (the leader) has digest %016llx, node %u "
                        "%016llx",
                        leader, (unsigned long long)l->digest, i + 1,
                        (unsigned long long)run->nodes[i].digest);
                break;
            }
    }
    if (cfg->check.invariants) {
        run->invariants_checked = true;
        if (!s->violated) {
            const struct raft_log **logs = xcalloc(s->n_nodes, sizeof *logs);
            for (uint32_t i = 0; i < s->n_nodes; i++)
                logs[i] = &s->disks[i].log;
            s->inv_reports++;
            if (raft_invariants_logs(&s->inv, logs, s->n_nodes) != RAFT_INV_NONE) {
                s->violated = true;
                monitor_describe(&s->inv.first, s->violation, sizeof s->violation);
                problem(rep, SIM_CHECK_INVARIANT, "%s", s->violation);
            }
            free(logs);
        }
        run->invariant_violated = s->violated;
        run->invariant_reports = s->inv_reports;
    }
    run->data_dir = "a simulated disk";
    run->fsync = true;
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        const struct sim_node *n = &s->nodes[i];
        struct simfs_counts c;
        simfs_counts(n->fs, &c);
        simfs_counts_add(&rep->disk, &c);
        if (n->refused) {
            size_t used = strlen(rep->refused_why);
            snprintf(rep->refused_why + used, sizeof rep->refused_why - used, "%s%s: %s",
                     rep->refused ? "; " : "", n->name, n->refused_why);
            rep->refused++;
        }
    }
    run->persist_writes = rep->disk.writes;
    run->persist_syncs = rep->disk.syncs;
    struct cluster_client_results *cr = xcalloc(s->n_clients + 1, sizeof *cr);
    struct client_outcome **lin = xcalloc(s->n_clients + 1, sizeof *lin);
    uint32_t n_cr = client_results(s, cr, lin);
    cluster_count_results(cr, n_cr, &run->counts);
    if (run->leader != 0 && s->opt.check_results) {
        char text[512];
        run->results_consistent = cluster_check_results(
            &s->disks[run->leader - 1], run->commit_index, cfg->num_clients, cfg->client.requests,
            0, cr, n_cr, &run->replayed, text, sizeof text);
        if (!run->results_consistent)
            problem(rep, SIM_CHECK_RESULTS, "%s", text);
    } else if (run->leader != 0) {
        run->results_consistent = true; /* result checks switched off (planted-bug hunts) */
    }
    for (uint32_t i = 0; i < n_cr; i++)
        free(lin[i]);
    free(lin);
    free(cr);
}

static void check_history(struct sim_report *rep, const char *path)
{
    char text[512];
    if (!cluster_check_history(path, &rep->run, text, sizeof text))
        problem(rep, SIM_CHECK_LINEARIZABILITY, "%s", text);
}

int sim_run(const struct cfg *cfg, const struct sim_options *opt, struct sim_report *rep, char *err,
            size_t err_len)
{
    memset(rep, 0, sizeof *rep);
    double wall_start = sim_wall_now_s();
    rep->seed = cfg->seed;
    rep->run.n_nodes = cfg_max_nodes(cfg);
    rep->run.nodes = xcalloc(cfg_max_nodes(cfg), sizeof *rep->run.nodes);
    /* The checker reads the history from a file: the user's, or a temporary one. */
    const char *history_path = cfg->history_path;
    char temp_path[] = "/tmp/raft_kv_sim_history_XXXXXX";
    if (history_path == NULL && cfg->check.linearizability && cfg->num_clients > 0) {
        int fd = mkstemp(temp_path);
        if (fd < 0) {
            snprintf(err, err_len, "cannot create a temporary history file: %s", strerror(errno));
            sim_report_close(rep);
            return -1;
        }
        close(fd);
        history_path = temp_path;
    }
    struct history *history = NULL;
    if (history_path != NULL && history_open(&history, history_path, err, err_len) != 0) {
        if (history_path == temp_path)
            unlink(temp_path);
        sim_report_close(rep);
        return -1;
    }
    struct sim *s = sim_new(cfg, opt);
    if (history != NULL)
        sim_attach_history(s, history);
    run_clients(s, rep);
    /* A run that never elected a leader ends there, as the threaded run does; one whose clients
     * ran late is still healed, so that its data can be checked once the cluster catches up. */
    if (rep->run.problem[0] == '\0' && !s->violated && s->first_leader != 0 &&
        rep->run.interrupted == 0)
        heal_and_converge(s, rep);
    fill_report(s, rep);
    rep->virtual_ms = s->now_ms;
    rep->events = s->events;
    rep->injected = s->injected; /* moved into the report */
    rep->n_injected = s->n_injected;
    s->injected = NULL;
    rep->run.elapsed_s = (double)s->now_ms / 1000.0;
    sim_free(s);
    int rc = 0;
    char history_err[256];
    if (history_close(history, history_err, sizeof history_err) != 0) {
        snprintf(err, err_len, "%s", history_err);
        rc = -1;
    }
    /* A run already found wrong is not searched further: the first problem is its verdict. */
    if (rc == 0 && history != NULL && cfg->check.linearizability && rep->run.problem[0] == '\0')
        check_history(rep, history_path);
    if (history_path == temp_path)
        unlink(temp_path);
    if (rep->run.problem[0] == '\0' && rep->run.interrupted == 0 &&
        (!rep->clients_done || !rep->converged))
        not_live(rep, "not converged", "the run did not come to a verdict");
    rep->consistent = cluster_consistent(&rep->run);
    if (!rep->consistent && rep->failed_check == SIM_CHECK_NONE && rep->run.interrupted == 0)
        problem(rep, SIM_CHECK_RESULTS, "a check did not run to the end");
    rep->wall_s = sim_wall_now_s() - wall_start;
    if (rc != 0)
        sim_report_close(rep);
    return rc;
}

void sim_report_print(FILE *out, const struct sim_report *rep)
{
    cluster_report_print(out, &rep->run);
    fprintf(out, "  simulated: %.3f virtual s, %llu events\n", (double)rep->virtual_ms / 1000.0,
            (unsigned long long)rep->events);
    if (rep->leader_after_heal_ms != UINT64_MAX && rep->converged)
        fprintf(out, "  liveness: clients %s; healed at %.3f s, leader %llu ms later, converged\n",
                rep->clients_done ? "all done" : "NOT all done", (double)rep->heal_ms / 1000.0,
                (unsigned long long)rep->leader_after_heal_ms);
    else
        fprintf(out, "  liveness: clients %s; NOT converged\n",
                rep->clients_done ? "all done" : "NOT all done");
    fprintf(out,
            "  disk: %llu crashes tore %llu writes and lost %llu unsynced operations; faults: "
            "%llu bits flipped, %llu writes misplaced, %llu fdatasync errors\n",
            (unsigned long long)rep->disk.crashes, (unsigned long long)rep->disk.torn,
            (unsigned long long)rep->disk.lost_ops, (unsigned long long)rep->disk.flips,
            (unsigned long long)rep->disk.misdirected, (unsigned long long)rep->disk.sync_errors);
    if (rep->refused > 0)
        fprintf(out, "  refused to start (disk damaged): %s\n", rep->refused_why);
    if (rep->failed_check != SIM_CHECK_NONE)
        fprintf(out, "  failed check: %s\n", sim_check_name(rep->failed_check));
}

void sim_report_close(struct sim_report *rep)
{
    cluster_report_close(&rep->run);
    free(rep->injected);
    rep->injected = NULL;
    rep->n_injected = 0;
}

void sim_report_print_speed(FILE *out, const struct sim_report *rep)
{
    double ratio = rep->wall_s > 0 ? (double)rep->virtual_ms / 1000.0 / rep->wall_s : 0;
    fprintf(out, "speed: %.3f virtual s in %.3f wall s (%.0fx real time)\n",
            (double)rep->virtual_ms / 1000.0, rep->wall_s, ratio);
}
