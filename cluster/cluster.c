/* cluster.c - one run, start to verdict: nodes, election, clients, catch-up, checks, summary.
 *
 * main never sleeps to let something happen: it waits on deferred replies (the node that
 * becomes leader, each client finishing, each node applying up to the leader's commit index),
 * each bounded by a timeout derived from the configuration. It sleeps only until the next
 * scheduled fault is due. The consistency check replays the
 * committed log through a fresh state machine after every actor has stopped, so it reads the
 * nodes' persistent state with no thread still writing it.
 */
#include "cluster/cluster.h"

#include <time.h>

#include "check/linearize.h"
#include "cluster/faults.h"
#include "host/network.h"
#include "host/node_storage.h"
#include "scenario/params.h"
#include "cluster/results.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/prng.h"
#include "kv/kv.h"
#include "runtime/history.h"
#include "runtime/signals.h"
#include "runtime/trace.h"

struct run {
    const struct cfg *cfg;
    struct cluster_report *rep;
    struct cluster c;
    struct cluster_faults faults;
    struct actor **clients;
    uint32_t n_spawned_clients;
    struct client_report *reports;
    struct history *history;
    /* Clients' session ids start past this (0 unless the run resumed state from disk). */
    uint64_t session_base;
};

static uint64_t ms_since(const struct cluster *c)
{
    return (actor_now_ns() - c->epoch_ns) / 1000000u;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Keeps the first message of its kind in buf (rep->problem: safety; rep->liveness). */
static void note_first(char *buf, size_t len, const char *fmt, va_list ap)
{
    if (buf[0] == '\0')
        vsnprintf(buf, len, fmt, ap);
}

/* A safety problem: a check found the data wrong. */
static void problem(struct cluster_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(struct cluster_report *rep, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note_first(rep->problem, sizeof rep->problem, fmt, ap);
    va_end(ap);
}

/* A liveness problem: a bound ran out. what: "no leader", "not converged", "clients not done". */
static void not_live(struct cluster_report *rep, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void not_live(struct cluster_report *rep, const char *what, const char *fmt, ...)
{
    if (rep->liveness[0] == '\0')
        rep->liveness_what = what;
    va_list ap;
    va_start(ap, fmt);
    note_first(rep->liveness, sizeof rep->liveness, fmt, ap);
    va_end(ap);
}

/* Node options, derived once from the configuration and kept to restart a crashed node. */
/* Node id's storage options from [storage]. */
static void storage_options_of(const struct cfg *cfg, uint32_t id, struct storage_options *o)
{
    storage_options_default(o, id);
    o->segment_bytes = cfg->storage.segment_bytes;
    o->fsync = cfg->storage.fsync;
}

static int node_options_of(struct cluster *c, uint32_t i, struct node_options *o, char *err,
                           size_t err_len)
{
    const struct cfg *cfg = c->cfg;
    *o = (struct node_options){
        .disk = &c->disks[i],
        .peers = c->dir,
        .net = c->net,
        .net_seed = prng_derive(cfg->seed, SCENARIO_NET_STREAM + i + 1),
        .incarnation = c->incarnations[i],
        .monitor = c->monitor,
        .epoch_ns = c->epoch_ns,
    };
    scenario_raft_options(cfg, i + 1, c->incarnations[i], &o->raft);
    if (c->node_dirs != NULL) {
        o->data_dir = c->node_dirs[i];
        storage_options_of(cfg, i + 1, &o->storage);
        o->recovered = &c->recovered[i];
    }
    const char *why = NULL;
    if (raft_options_validate(&o->raft, &why) != RAFT_OK) {
        snprintf(err, err_len, "invalid Raft options for node %u: %s", i + 1, why);
        return -1;
    }
    return 0;
}

/* Starts node i+1 from its disk (first start or restart) and publishes it. */
static int start_node(struct cluster *c, uint32_t i, char *err, size_t err_len)
{
    assert(c->nodes[i] == NULL);
    struct node_options o;
    if (node_options_of(c, i, &o, err, err_len) != 0)
        return -1;
    char why[1024];
    int rc = node_spawn(&o, &c->nodes[i], why, sizeof why);
    if (rc != ACTOR_OK) {
        c->nodes[i] = NULL;
        snprintf(err, err_len, "cannot start node %u: %s", i + 1,
                 rc == NODE_ESTORAGE ? why : actor_strerror(rc));
        return -1;
    }
    if (o.data_dir != NULL) {
        char name[32], what[512];
        snprintf(name, sizeof name, "node %u", i + 1);
        node_storage_describe(o.recovered, what, sizeof what);
        trace_log(TRACE_INFO, name, "storage", "%s %s: %s",
                  c->incarnations[i] == 0 ? "starts from" : "restarts from", o.data_dir, what);
        if (c->incarnations[i] == 0)
            c->first_recovered[i] = c->recovered[i];
    }
    c->incarnations[i]++;
    actor_dir_set(c->dir, i, c->nodes[i]);
    return 0;
}

/* Adds the counters of a node incarnation that is about to go to the run's totals. */
static void keep_counters(struct cluster *c, uint32_t i)
{
    struct node_status s;
    if (node_get_status(c->nodes[i], 5000, &s) != ACTOR_OK)
        return;
    struct node_status *k = &c->kept[i];
    k->elections += s.elections;
    k->msgs_sent += s.msgs_sent;
    k->msgs_received += s.msgs_received;
    k->msgs_malformed += s.msgs_malformed;
    k->msgs_dropped += s.msgs_dropped;
    k->msgs_duplicated += s.msgs_duplicated;
    k->proposals += s.proposals;
    k->persist_writes += s.persist_writes;
    k->persist_syncs += s.persist_syncs;
    k->snapshots_taken += s.snapshots_taken;
    k->snapshots_installed += s.snapshots_installed;
}

static bool needs_network(const struct cfg *cfg)
{
    const struct cfg_network *n = &cfg->network;
    return n->drop > 0 || n->duplicate > 0 || n->delay_ms_max > 0 || cfg->n_faults > 0 ||
           cfg->nemesis.interval_ms > 0;
}

static int spawn_nodes(struct cluster *c, char *err, size_t err_len)
{
    const struct cfg *cfg = c->cfg;
    uint32_t n = cfg_max_nodes(cfg); /* nodes past num_nodes start outside, waiting to be added */
    c->n_nodes = n;
    c->disks = xcalloc(n, sizeof *c->disks);
    c->nodes = xcalloc(n, sizeof *c->nodes);
    c->incarnations = xcalloc(n, sizeof *c->incarnations);
    c->kept = xcalloc(n, sizeof *c->kept);
    c->dir = actor_dir_new(n);
    if (needs_network(cfg)) {
        struct netem_options no;
        host_netem_options(cfg, &no);
        c->net = netem_new(n, &no);
    }
    for (uint32_t i = 0; i < n; i++)
        raft_disk_init(&c->disks[i]);
    if (cfg->storage.kind == CFG_STORAGE_DISK) {
        c->node_dirs = xcalloc(n, sizeof *c->node_dirs);
        c->recovered = xcalloc(n, sizeof *c->recovered);
        c->first_recovered = xcalloc(n, sizeof *c->first_recovered);
        for (uint32_t i = 0; i < n; i++) {
            char dir[CFG_PATH_MAX + 32];
            node_storage_dir(cfg->storage.data_dir, i + 1, dir, sizeof dir);
            c->node_dirs[i] = xstrdup(dir);
        }
    }
    if (cfg->check.invariants) {
        int rc = monitor_spawn(&c->monitor);
        if (rc != ACTOR_OK) {
            c->monitor = NULL;
            snprintf(err, err_len, "cannot start the invariant monitor: %s", actor_strerror(rc));
            return -1;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        if (start_node(c, i, err, err_len) != 0)
            return -1;
    return 0;
}

int cluster_crash(struct cluster *c, uint32_t node)
{
    uint32_t i = node - 1;
    if (node < 1 || node > c->n_nodes || c->nodes[i] == NULL)
        return -1;
    keep_counters(c, i);
    actor_dir_set(c->dir, i, NULL); /* from now on, messages to it are lost */
    actor_stop(c->nodes[i]);
    actor_join(c->nodes[i]);
    actor_unref(c->nodes[i]);
    c->nodes[i] = NULL;
    return 0;
}

int cluster_restart(struct cluster *c, uint32_t node, char *err, size_t err_len)
{
    if (node < 1 || node > c->n_nodes || c->nodes[node - 1] != NULL) {
        snprintf(err, err_len, "node %u is not down", node);
        return -1;
    }
    return start_node(c, node - 1, err, err_len);
}

uint32_t cluster_nodes_down(const struct cluster *c)
{
    uint32_t down = 0;
    for (uint32_t i = 0; i < c->n_nodes; i++)
        down += c->nodes[i] == NULL;
    return down;
}

int cluster_heal(struct cluster *c, char *err, size_t err_len)
{
    for (uint32_t node = 1; node <= c->n_nodes; node++)
        if (c->nodes[node - 1] == NULL && cluster_restart(c, node, err, err_len) != 0)
            return -1;
    if (c->net != NULL)
        netem_make_reliable(c->net);
    return 0;
}

uint32_t cluster_find_leader(struct cluster *c, struct node_status *st)
{
    uint32_t leader = 0;
    uint64_t term = 0;
    for (uint32_t i = 0; i < c->n_nodes; i++) {
        struct node_status s;
        if (c->nodes[i] == NULL || node_get_status(c->nodes[i], 5000, &s) != ACTOR_OK)
            continue;
        if (s.role == RAFT_LEADER && s.term >= term) {
            leader = s.id;
            term = s.term;
            *st = s;
        }
    }
    return leader;
}

uint32_t cluster_await_leader(struct cluster *c, uint32_t bound_ms, struct node_status *st)
{
    uint64_t give_up_ms = ms_since(c) + bound_ms;
    uint32_t leader = 0;
    while ((leader = cluster_find_leader(c, st)) == 0 && ms_since(c) < give_up_ms &&
           signal_watch_caught() == 0) {
        /* Sleep on a deferred reply rather than a fixed pause: wakes as soon as node 1 (or the
         * first live node) leads, else after a short while to look at the others. */
        for (uint32_t i = 0; i < c->n_nodes; i++) {
            if (c->nodes[i] != NULL) {
                node_await_leader(c->nodes[i], c->cfg->raft.election_timeout_ms_min / 4 + 1, st);
                break;
            }
        }
    }
    return leader;
}

/* Node 1 is asked to campaign; usually it wins and answers the deferred AWAIT_LEADER. If some
 * other node won instead, polling finds it. 0, or -1 with err if no leader was known in time
 * (or a signal came first); the nodes keep running. */
static int elect(struct cluster *c, char *err, size_t err_len)
{
    const struct cfg *cfg = c->cfg;
    uint32_t bound_ms = 20 * cfg->raft.election_timeout_ms_max;
    struct node_status st;
    node_campaign(c->nodes[0]);
    int rc = node_await_leader(c->nodes[0], 2 * cfg->raft.election_timeout_ms_max, &st);
    uint32_t leader = rc == ACTOR_OK ? st.id : cluster_await_leader(c, bound_ms, &st);
    if (leader == 0) {
        if (signal_watch_caught() == 0)
            snprintf(err, err_len, "no leader was elected within %u ms", bound_ms);
        else
            snprintf(err, err_len, "no leader was elected before %s",
                     signal_name(signal_watch_caught()));
        return -1;
    }
    c->first_leader_us = (actor_now_ns() - c->epoch_ns) / 1000u;
    c->leader = leader;
    c->leader_term = st.term;
    trace_log(TRACE_INFO, "main", "leader", "node %u leads term %llu; starting %u client%s", leader,
              (unsigned long long)st.term, cfg->num_clients, cfg->num_clients == 1 ? "" : "s");
    return 0;
}

static void stop_all(struct actor **actors, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (actors[i] != NULL)
            actor_stop(actors[i]);
    for (uint32_t i = 0; i < n; i++) {
        if (actors[i] == NULL)
            continue;
        actor_join(actors[i]);
        actor_unref(actors[i]);
        actors[i] = NULL;
    }
}

int cluster_start(struct cluster *c, const struct cfg *cfg, char *err, size_t err_len)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->epoch_ns = actor_now_ns();
    if (spawn_nodes(c, err, err_len) == 0 && elect(c, err, err_len) == 0)
        return 0;
    cluster_stop(c);
    cluster_close(c);
    return -1;
}

void cluster_stop(struct cluster *c)
{
    for (uint32_t i = 0; c->nodes != NULL && i < c->n_nodes; i++)
        if (c->nodes[i] != NULL)
            keep_counters(c, i);
    if (c->nodes != NULL)
        stop_all(c->nodes, c->n_nodes);
    /* The nodes are stopped: every report they cast is in the monitor's mailbox, ahead of
     * this status call. */
    if (c->monitor != NULL) {
        monitor_get_status(c->monitor, 60000, &c->monitor_status);
        stop_all(&c->monitor, 1);
    }
    /* Timers of stopped nodes held the last references to some actors: all gone now. */
    actor_dir_free(c->dir);
    c->dir = NULL;
}

void cluster_close(struct cluster *c)
{
    for (uint32_t i = 0; c->disks != NULL && i < c->n_nodes; i++)
        raft_disk_close(&c->disks[i]);
    free(c->disks);
    for (uint32_t i = 0; c->node_dirs != NULL && i < c->n_nodes; i++)
        free(c->node_dirs[i]);
    free(c->node_dirs);
    free(c->recovered);
    free(c->first_recovered);
    free(c->nodes);
    free(c->incarnations);
    free(c->kept);
    netem_free(c->net);
    memset(c, 0, sizeof *c);
}

/* How often main looks at the monitor (has an invariant broken?) and for a signal, while it
 * waits for clients, a leader or catch-up. */
enum { POLL_MS = 100 };

static bool violation_seen(struct run *r)
{
    struct monitor_status st;
    return monitor_get_status(r->c.monitor, 10000, &st) == ACTOR_OK && st.violations > 0;
}

/* How run_clients ended. */
enum clients_end {
    CLIENTS_DONE = 0,         /* every client finished; the fault schedule was played */
    CLIENTS_ERROR = -1,       /* the run could not go on (err says why) */
    CLIENTS_VIOLATION = -2,   /* the monitor saw an invariant break: stop, then report */
    CLIENTS_INTERRUPTED = -3, /* a signal came */
    CLIENTS_LATE = -4,        /* a client did not finish within its bound (liveness) */
};

/* Interrupts the clients from `from` on, which have not reported yet, and collects their
 * reports: each ends its request in flight once its current attempt is answered or times out.
 * A client that does not report in time keeps an empty report and is named as a liveness
 * problem. */
static void stop_clients(struct run *r, uint32_t from)
{
    const struct cfg *cfg = r->cfg;
    for (uint32_t i = from; i < r->n_spawned_clients; i++)
        client_actor_interrupt(r->clients[i]);
    /* The longest an attempt can last (a timeout grows up to the backoff cap), then a margin. */
    uint32_t bound_ms = cfg->client.timeout_ms + cfg->raft.election_timeout_ms_max + 5000;
    for (uint32_t i = from; i < r->n_spawned_clients; i++) {
        int rc = client_actor_await_done(r->clients[i], bound_ms, &r->reports[i]);
        if (rc != ACTOR_OK)
            not_live(r->rep, "clients not done",
                     "client %u did not stop within %u ms of being asked (%s)", i + 1, bound_ms,
                     actor_strerror(rc));
    }
}

static enum clients_end run_clients(struct run *r, char *err, size_t err_len)
{
    const struct cfg *cfg = r->cfg;
    uint32_t n = cfg->num_clients;
    r->clients = xcalloc(n ? n : 1, sizeof *r->clients);
    r->reports = xcalloc(n ? n : 1, sizeof *r->reports);
    /* A request gives up after trying for this long, so a client always finishes. */
    uint32_t deadline_ms = scenario_request_deadline_ms(cfg);
    for (uint32_t i = 0; i < n; i++) {
        struct client_actor_options o = {
            .client =
                {
                    .id = i + 1,
                    .session_base = r->session_base,
                    .n_nodes = cfg->num_nodes,
                    .first_node = r->c.leader,
                    .requests = cfg->client.requests,
                    .keys = (const char *const *)cfg->client.keys.items,
                    .n_keys = cfg->client.keys.len,
                    .value_size = cfg->client.value_size,
                    .seed = prng_derive(cfg->seed, SCENARIO_CLIENT_STREAM + i + 1),
                    .timeout_ms = cfg->client.timeout_ms,
                    .request_deadline_ms = deadline_ms,
                    .backoff_ms_min = 5,
                    .backoff_ms_max = cfg->raft.election_timeout_ms_max,
                    .keep_outcomes = scenario_keep_outcomes(cfg),
                },
            .nodes = r->c.dir,
            .n_nodes = cfg->num_nodes,
            .history = r->history,
            .epoch_ns = r->c.epoch_ns,
        };
        scenario_client_mix(cfg, &o.client);
        int rc = client_actor_spawn(&o, &r->clients[i]);
        if (rc != ACTOR_OK) {
            snprintf(err, err_len, "cannot start client %u: %s", i + 1, actor_strerror(rc));
            return CLIENTS_ERROR;
        }
        r->n_spawned_clients++;
    }
    /* Each request ends within its deadline plus one attempt and one backoff. */
    uint64_t per_request =
        (uint64_t)deadline_ms + cfg->client.timeout_ms + cfg->raft.election_timeout_ms_max;
    uint64_t give_up_ms = ms_since(&r->c) + per_request * cfg->client.requests + 10000;
    /* Wait for each client in turn, waking for every fault that falls due meanwhile; then play
     * the rest of the schedule (a run with no clients can still be a run of faults). */
    uint32_t i = 0;
    while (i < n || !scenario_plan_done(&r->faults.scenario)) {
        if (i == n)
            scenario_clients_done(&r->faults.scenario);
        if (signal_watch_caught() != 0) {
            stop_clients(r, i);
            return CLIENTS_INTERRUPTED;
        }
        uint64_t now = ms_since(&r->c);
        uint64_t next = scenario_next_ms(&r->faults.scenario);
        if (next <= now) {
            cluster_faults_run_due(&r->faults);
            continue;
        }
        if (now >= give_up_ms) {
            if (i == n)
                break; /* only scheduled faults are left, and they are late: heal now */
            not_live(r->rep, "clients not done",
                     "client %u did not finish within its time bound (%llu ms)", i + 1,
                     (unsigned long long)(per_request * cfg->client.requests + 10000));
            stop_clients(r, i);
            return CLIENTS_LATE;
        }
        if (r->c.monitor != NULL && violation_seen(r)) {
            stop_clients(r, i);
            return CLIENTS_VIOLATION;
        }
        uint64_t wait = (next < give_up_ms ? next : give_up_ms) - now;
        if (wait > POLL_MS)
            wait = POLL_MS;
        if (i == n) { /* only scheduled faults left: sleep until the next one is due */
            sleep_ms(wait);
            continue;
        }
        int rc = client_actor_await_done(r->clients[i], (uint32_t)wait, &r->reports[i]);
        if (rc == ACTOR_OK) {
            i++;
        } else if (rc != ACTOR_ETIMEDOUT) {
            snprintf(err, err_len, "client %u did not finish: %s", i + 1, actor_strerror(rc));
            return CLIENTS_ERROR;
        }
    }
    scenario_clients_done(&r->faults.scenario);
    return CLIENTS_DONE;
}

/* node_await_applied for node i+1 until give_up_ms (since the epoch), in slices of POLL_MS so
 * that a signal is noticed. */
static int await_applied(struct cluster *c, uint32_t i, uint64_t index, uint64_t give_up_ms,
                         struct node_status *st)
{
    for (;;) {
        uint64_t now = ms_since(c);
        uint64_t left = give_up_ms > now ? give_up_ms - now : 1;
        int rc =
            node_await_applied(c->nodes[i], index, (uint32_t)(left < POLL_MS ? left : POLL_MS), st);
        if (rc != ACTOR_ETIMEDOUT || ms_since(c) >= give_up_ms || signal_watch_caught() != 0)
            return rc;
    }
}

/* The nodes as they are now, for a run that ends without catching up (interrupted, or stopped
 * by a broken invariant); the leader is the one with the highest term, if any. */
static void take_status(struct run *r)
{
    struct cluster_report *rep = r->rep;
    for (uint32_t i = 0; i < r->c.n_nodes; i++)
        if (r->c.nodes[i] != NULL)
            node_get_status(r->c.nodes[i], 5000, &rep->nodes[i]);
        else
            rep->nodes[i] = (struct node_status){.id = i + 1};
    struct node_status st;
    rep->leader = cluster_find_leader(&r->c, &st);
    if (rep->leader != 0) {
        rep->leader_term = st.term;
        rep->commit_index = st.commit_index;
    }
}

/* Waits (at most converge_ms) for a leader, for it to apply everything it appended, and for
 * every node to apply up to that index; then takes their status. A signal cuts it short (the
 * caller then reports the run as interrupted, not as a liveness failure). */
static void catch_up(struct run *r)
{
    struct cluster_report *rep = r->rep;
    uint64_t converge_ms = r->cfg->check.converge_ms ? r->cfg->check.converge_ms : 5000;
    uint64_t give_up_ms = ms_since(&r->c) + converge_ms;
    struct node_status st;
    uint32_t leader = cluster_await_leader(&r->c, (uint32_t)converge_ms, &st);
    if (signal_watch_caught() != 0)
        return;
    if (leader == 0) {
        not_live(rep, "no leader", "no leader within %llu ms after the faults were healed",
                 (unsigned long long)converge_ms);
        take_status(r);
        return;
    }
    /* Settle: the leader commits and applies everything it has appended (at least its term's
     * no-op), so the run ends with no entry in flight. */
    struct node_status settled;
    if (await_applied(&r->c, leader - 1, st.last_index, give_up_ms, &settled) == ACTOR_OK &&
        settled.role == RAFT_LEADER)
        st = settled;
    if (signal_watch_caught() != 0)
        return;
    rep->leader = leader;
    rep->leader_term = st.term;
    rep->commit_index = st.commit_index;
    rep->all_applied = true;
    for (uint32_t i = 0; i < r->c.n_nodes; i++) {
        /* Only the cluster's members follow the leader: a node removed (or never added) is
         * not expected to, and may be stopped. */
        if (!raft_config_is_member(&st.config, i + 1)) {
            if (r->c.nodes[i] != NULL)
                node_get_status(r->c.nodes[i], 5000, &rep->nodes[i]);
            else
                rep->nodes[i] = (struct node_status){.id = i + 1};
            continue;
        }
        int rc = await_applied(&r->c, i, rep->commit_index, give_up_ms, &rep->nodes[i]);
        if (signal_watch_caught() != 0)
            return;
        if (rc != ACTOR_OK) {
            rep->all_applied = false;
            node_get_status(r->c.nodes[i], 5000, &rep->nodes[i]);
            not_live(rep, "not converged",
                     "node %u did not apply up to index %llu within %llu ms of healing (%s)", i + 1,
                     (unsigned long long)rep->commit_index, (unsigned long long)converge_ms,
                     actor_strerror(rc));
        }
    }
    if (!rep->all_applied)
        return; /* the stores are compared only once every node has caught up */
    rep->stores_identical = true;
    const struct node_status *l = &rep->nodes[leader - 1];
    for (uint32_t i = 0; i < r->c.n_nodes; i++) {
        if (raft_config_is_member(&st.config, i + 1) && rep->nodes[i].digest != l->digest) {
            rep->stores_identical = false;
            problem(rep,
                    "the stores differ: node %u (the leader) has digest %016llx, node %u %016llx",
                    leader, (unsigned long long)l->digest, i + 1,
                    (unsigned long long)rep->nodes[i].digest);
        }
    }
}

/* The clients' reports as the shared checks (cluster/results.c) take them. */
static struct cluster_client_results *client_results(const struct run *r)
{
    struct cluster_client_results *cr = xcalloc(r->n_spawned_clients + 1, sizeof *cr);
    for (uint32_t i = 0; i < r->n_spawned_clients; i++)
        cr[i] = (struct cluster_client_results){.id = r->reports[i].id,
                                                .stats = &r->reports[i].stats,
                                                .outcomes = r->reports[i].outcomes,
                                                .n_outcomes = r->reports[i].n_outcomes};
    return cr;
}

/* Counts the results, and checks them against a replay of the leader's committed log once every
 * node has caught up to it. */
static void check_results(struct run *r)
{
    struct cluster_report *rep = r->rep;
    struct cluster_client_results *cr = client_results(r);
    cluster_count_results(cr, r->n_spawned_clients, &rep->counts);
    if (rep->leader != 0 && rep->all_applied) {
        char text[512];
        rep->results_consistent =
            cluster_check_results(&r->c.disks[rep->leader - 1], rep->commit_index,
                                  r->cfg->num_clients, r->cfg->client.requests, r->session_base, cr,
                                  r->n_spawned_clients, &rep->replayed, text, sizeof text);
        if (!rep->results_consistent)
            problem(rep, "%s", text);
    }
    free(cr);
}

/* The linearizability verdict on the history the clients wrote (Wing & Gong / Lowe search, per
 * key: check/linearize.h). */
static void check_history(struct cluster_report *rep, const char *path)
{
    char text[512];
    if (!cluster_check_history(path, rep, text, sizeof text))
        problem(rep, "%s", text);
}

/* Disk storage, once every node has stopped: each node's durable state as its files give it
 * back (the recovery a restart would run), for the checks that read the nodes' logs. False,
 * with the problem noted, if a node's files do not recover. */
static bool reload_from_files(struct run *r)
{
    struct cluster *c = &r->c;
    for (uint32_t i = 0; c->node_dirs != NULL && i < c->n_nodes; i++) {
        struct node_storage ns;
        struct raft_disk loaded;
        struct storage_report report;
        struct storage_options o;
        char err[1024];
        storage_options_of(r->cfg, i + 1, &o);
        if (node_storage_open(&ns, c->node_dirs[i], &o, &loaded, &report, err, sizeof err) != 0) {
            problem(r->rep, "node %u's files do not recover after the run: %s", i + 1, err);
            return false;
        }
        node_storage_close(&ns);
        raft_disk_close(&c->disks[i]);
        c->disks[i] = loaded;
    }
    return true;
}

/* Log matching over the nodes' whole logs, once every node has stopped. */
static void check_logs(struct run *r)
{
    const struct raft_log **logs = xcalloc(r->c.n_nodes, sizeof *logs);
    for (uint32_t i = 0; i < r->c.n_nodes; i++)
        logs[i] = &r->c.disks[i].log;
    struct raft_invariants inv;
    raft_invariants_init(&inv);
    if (raft_invariants_logs(&inv, logs, r->c.n_nodes) != RAFT_INV_NONE) {
        r->c.monitor_status.violations++;
        r->c.monitor_status.first = inv.first;
    }
    raft_invariants_close(&inv);
    free(logs);
}

/* True if some node started from state an earlier run left on disk; *term is then the highest
 * term they recovered. */
static bool resumed_from_disk(const struct cluster *c, uint64_t *term)
{
    bool resumed = false;
    *term = 0;
    for (uint32_t i = 0; c->first_recovered != NULL && i < c->n_nodes; i++) {
        resumed |= !c->first_recovered[i].new_node;
        if (c->first_recovered[i].term > *term)
            *term = c->first_recovered[i].term;
    }
    return resumed;
}

/* A run resumed from disk: its clients take session ids past every earlier run's, and the
 * history starts with the store as the leader has it once it applied everything committed
 * before (its no-op), as puts of process 0 marked "recovered", so that the linearizability
 * check starts from that state. Terms only grow and every run elects a leader, so (the highest
 * recovered term + 1) << 20 is above every session id an earlier run used. 0, or -1 with err. */
static int take_recovered_state(struct run *r, char *err, size_t err_len)
{
    struct cluster *c = &r->c;
    uint64_t term;
    if (!resumed_from_disk(c, &term))
        return 0;
    r->session_base = (term + 1) << 20;
    struct node_status st;
    uint32_t leader = cluster_await_leader(c, 10000, &st);
    if (leader == 0 ||
        node_await_applied(c->nodes[leader - 1], st.last_index, 10000, &st) != ACTOR_OK) {
        snprintf(err, err_len, "the resumed cluster's leader did not apply its log in 10 s");
        return -1;
    }
    const struct cfg_strings *keys = &r->cfg->client.keys;
    size_t held = 0;
    for (size_t k = 0; r->history != NULL && k < keys->len; k++) {
        bool found = false;
        size_t len = 0;
        char *value = xmalloc(KV_MAX_VALUE);
        if (node_peek(c->nodes[leader - 1], keys->items[k], 10000, &found, value, KV_MAX_VALUE,
                      &len) != ACTOR_OK) {
            free(value);
            snprintf(err, err_len, "cannot read the resumed store's key \"%s\"", keys->items[k]);
            return -1;
        }
        if (found) {
            held++;
            struct history_line l = {.process = 0,
                                     .f = "put",
                                     .key = keys->items[k],
                                     .value = value,
                                     .value_len = len,
                                     .recovered = true};
            l.type = "invoke";
            history_write(r->history, &l);
            l.type = "ok";
            l.result = "ok";
            history_write(r->history, &l);
        }
        free(value);
    }
    if (r->history != NULL)
        trace_log(TRACE_INFO, NULL, "recovered",
                  "the resumed store holds %zu of the %zu client keys: the history starts with "
                  "them as recovered puts",
                  held, keys->len);
    return 0;
}

/* The phases while the cluster runs: elect, clients and faults, then heal and catch up unless
 * the run was stopped early. Returns 0 (whatever was found: it is in rep), or -1 with err. */
static int run_phases(struct run *r, char *err, size_t err_len)
{
    struct cluster_report *rep = r->rep;
    char why[256];
    if (elect(&r->c, why, sizeof why) != 0) {
        if (signal_watch_caught() == 0)
            not_live(rep, "no leader", "%s", why);
        take_status(r);
        return 0;
    }
    rep->first_leader_us = r->c.first_leader_us;
    rep->elected = true;
    if (take_recovered_state(r, err, err_len) != 0)
        return -1;
    cluster_faults_init(&r->faults, &r->c);
    switch (run_clients(r, err, err_len)) {
    case CLIENTS_ERROR:
        return -1;
    case CLIENTS_VIOLATION: /* the monitor's finding is the verdict */
    case CLIENTS_INTERRUPTED:
        take_status(r);
        return 0;
    case CLIENTS_DONE:
    case CLIENTS_LATE: /* noted; the data is still checked once the cluster catches up */
        break;
    }
    if (cluster_faults_heal_all(&r->faults, err, err_len) != 0)
        return -1;
    catch_up(r);
    if (signal_watch_caught() != 0)
        take_status(r);
    return 0;
}

int cluster_run(const struct cfg *cfg, struct cluster_report *rep, char *err, size_t err_len)
{
    memset(rep, 0, sizeof *rep);
    struct run r = {.cfg = cfg, .rep = rep};
    rep->n_nodes = cfg_max_nodes(cfg);
    rep->nodes = xcalloc(cfg_max_nodes(cfg), sizeof *rep->nodes);
    uint64_t start_ns = actor_now_ns();
    int rc = -1;
    /* The checker reads the history from a file: the user's, or a temporary one. */
    const char *history_path = cfg->history_path;
    char temp_path[] = "/tmp/raft_kv_history_XXXXXX";
    if (history_path == NULL && cfg->check.linearizability) {
        int fd = mkstemp(temp_path);
        if (fd < 0) {
            snprintf(err, err_len, "cannot create a temporary history file: %s", strerror(errno));
            goto out;
        }
        close(fd);
        history_path = temp_path;
    }
    if (history_path != NULL && history_open(&r.history, history_path, err, err_len) != 0)
        goto out;
    if (r.history != NULL)
        history_trace_time_zero();
    /* A history the user asked for is the record of a run that may end with kill -9: nothing
     * of it may wait in memory. The checker's temporary file is read only after a clean end. */
    if (cfg->history_path != NULL)
        history_write_through(r.history);
    memset(&r.c, 0, sizeof r.c);
    r.c.cfg = cfg;
    r.c.epoch_ns = actor_now_ns();
    if (spawn_nodes(&r.c, err, err_len) == 0)
        rc = run_phases(&r, err, err_len);
out:
    rep->interrupted = signal_watch_caught();
    rep->faults = r.faults.scenario.faults;
    cluster_faults_close(&r.faults);
    stop_all(r.clients, r.n_spawned_clients);
    cluster_stop(&r.c); /* adds the last incarnations' counters to c.kept */
    bool files_ok = reload_from_files(&r);
    if (r.c.monitor_status.violations == 0 && r.c.disks != NULL && cfg->check.invariants &&
        files_ok)
        check_logs(&r);
    if (cfg->check.invariants) {
        rep->invariants_checked = true;
        rep->invariant_reports = r.c.monitor_status.reports;
        if (r.c.monitor_status.violations > 0) {
            char text[512];
            monitor_describe(&r.c.monitor_status.first, text, sizeof text);
            rep->invariant_violated = true;
            problem(rep, "%s", text);
        }
    }
    for (uint32_t i = 0; r.c.kept != NULL && i < r.c.n_nodes; i++) {
        rep->elections += r.c.kept[i].elections;
        rep->msgs_dropped += r.c.kept[i].msgs_dropped;
        rep->msgs_duplicated += r.c.kept[i].msgs_duplicated;
        rep->persist_writes += r.c.kept[i].persist_writes;
        rep->persist_syncs += r.c.kept[i].persist_syncs;
        rep->snapshots_taken += r.c.kept[i].snapshots_taken;
        rep->snapshots_installed += r.c.kept[i].snapshots_installed;
    }
    if (rc == 0 && files_ok)
        check_results(&r);
    if (r.c.recovered != NULL) {
        rep->data_dir = cfg->storage.data_dir;
        rep->fsync = cfg->storage.fsync;
        rep->recovered = xcalloc(r.c.n_nodes, sizeof *rep->recovered);
        memcpy(rep->recovered, r.c.first_recovered, r.c.n_nodes * sizeof *rep->recovered);
        uint64_t term;
        rep->resumed = resumed_from_disk(&r.c, &term);
    }
    rep->elapsed_s = (double)(actor_now_ns() - start_ns) / 1e9;
    for (uint32_t i = 0; i < r.n_spawned_clients; i++)
        client_report_close(&r.reports[i]);
    free(r.reports);
    free(r.clients);
    cluster_close(&r.c);
    char history_err[256];
    if (history_close(r.history, history_err, sizeof history_err) != 0 && rc == 0) {
        snprintf(err, err_len, "%s", history_err);
        rc = -1;
    }
    if (rc == 0 && r.history != NULL && cfg->check.linearizability)
        check_history(rep, history_path);
    if (history_path == temp_path)
        unlink(temp_path);
    if (rc != 0)
        cluster_report_close(rep);
    return rc;
}

enum cluster_verdict cluster_verdict(const struct cluster_report *rep)
{
    if (rep->problem[0] != '\0' || rep->invariant_violated ||
        (rep->linearizability_checked && rep->lin_verdict == CHECK_NOT_LINEARIZABLE))
        return CLUSTER_UNSAFE;
    if (rep->liveness[0] != '\0')
        return CLUSTER_NOT_LIVE;
    if (rep->interrupted != 0)
        return CLUSTER_INTERRUPTED;
    /* A run that went to the end passed every check only if each of them ran; one that did not
     * run without a problem being named is a bug in the run, so it is not called consistent. */
    if (rep->leader == 0 || !rep->all_applied || !rep->stores_identical || !rep->results_consistent)
        return CLUSTER_UNSAFE;
    return CLUSTER_CONSISTENT;
}

bool cluster_consistent(const struct cluster_report *rep)
{
    return cluster_verdict(rep) == CLUSTER_CONSISTENT;
}

const char *cluster_report_problem(const struct cluster_report *rep)
{
    return rep->problem[0] != '\0' ? rep->problem : rep->liveness;
}

int cluster_exit_status(const struct cluster_report *rep)
{
    switch (cluster_verdict(rep)) {
    case CLUSTER_CONSISTENT:
        return 0;
    case CLUSTER_UNSAFE:
        return 1;
    case CLUSTER_NOT_LIVE:
        return CLUSTER_EXIT_NOT_LIVE;
    case CLUSTER_INTERRUPTED:
        return signal_exit_status(rep->interrupted);
    }
    return 1;
}

/* Where the nodes kept their state, what they recovered, and their latest snapshots. */
static void print_storage(FILE *out, const struct cluster_report *rep)
{
    if (rep->data_dir != NULL)
        fprintf(out, "  storage: disk in %s (fsync %s): %llu writes made durable by %llu syncs\n",
                rep->data_dir, rep->fsync ? "on" : "OFF", (unsigned long long)rep->persist_writes,
                (unsigned long long)rep->persist_syncs);
    else
        fprintf(out, "  storage: memory\n");
    for (uint32_t i = 0; rep->resumed && i < rep->n_nodes; i++) {
        char what[512];
        node_storage_describe(&rep->recovered[i], what, sizeof what);
        fprintf(out, "    node %u recovered %s\n", i + 1, what);
    }
    bool any = rep->snapshots_taken + rep->snapshots_installed > 0;
    for (uint32_t i = 0; i < rep->n_nodes; i++)
        any |= rep->nodes[i].snapshot_index > 0;
    if (!any)
        return;
    fprintf(out, "  snapshots: %llu taken, %llu installed from a leader;",
            (unsigned long long)rep->snapshots_taken, (unsigned long long)rep->snapshots_installed);
    for (uint32_t i = 0; i < rep->n_nodes; i++)
        fprintf(out, "%s node %u at %llu (log from %llu)", i ? "," : "", i + 1,
                (unsigned long long)rep->nodes[i].snapshot_index,
                (unsigned long long)rep->nodes[i].first_index);
    fputc('\n', out);
}

void cluster_report_print(FILE *out, const struct cluster_report *rep)
{
    if (rep->elected)
        fprintf(out, "\nsummary after %.3f s (first leader after %.3f ms)\n", rep->elapsed_s,
                (double)rep->first_leader_us / 1000.0);
    else
        fprintf(out, "\nsummary after %.3f s (no leader was elected)\n", rep->elapsed_s);
    if (rep->interrupted != 0)
        fprintf(out,
                "  interrupted by %s: clients stopped, their requests in flight recorded as "
                "info; nothing healed\n",
                signal_name(rep->interrupted));
    for (uint32_t i = 0; i < rep->n_nodes; i++) {
        const struct node_status *s = &rep->nodes[i];
        fprintf(out,
                "  node %-3u %-13s term %-3llu log %-6llu commit %-6llu applied %-6llu keys %-4llu "
                "digest %016llx\n",
                i + 1, raft_role_name(s->role), (unsigned long long)s->term,
                (unsigned long long)s->last_index, (unsigned long long)s->commit_index,
                (unsigned long long)s->last_applied, (unsigned long long)s->n_keys,
                (unsigned long long)s->digest);
    }
    /* The members the stores are compared over: the leader's configuration (issue 16). */
    const struct node_status *l = rep->leader != 0 ? &rep->nodes[rep->leader - 1] : NULL;
    uint32_t members = rep->n_nodes;
    if (l != NULL && l->config_index != 0) {
        char text[1024];
        raft_config_format(&l->config_committed, text, sizeof text);
        fprintf(out, "  configuration: %s (entry %llu; learners marked +)\n", text,
                (unsigned long long)l->config_index);
        members = raft_config_voters(&l->config) + raft_config_learners(&l->config);
    }
    print_storage(out, rep);
    if (rep->stores_identical)
        fprintf(out, "  stores: all %u identical (digest %016llx)\n", members,
                (unsigned long long)(l != NULL ? l->digest : 0));
    else if (rep->all_applied)
        fprintf(out, "  stores: NOT identical\n");
    else
        fprintf(out, "  stores: not compared (the nodes did not all catch up)\n");
    const struct cluster_counts *c = &rep->counts;
    fprintf(out,
            "  clients: %llu requests: %llu ok, %llu fail, %llu info (%llu attempts, %llu "
            "retries, %llu redirects)\n",
            (unsigned long long)c->requests, (unsigned long long)c->ok, (unsigned long long)c->fail,
            (unsigned long long)c->info, (unsigned long long)c->attempts,
            (unsigned long long)c->retries, (unsigned long long)c->redirects);
    if (c->requests > 0 && c->ok == 0)
        fprintf(out, "  clients: NO request succeeded (0 of %llu ok)\n",
                (unsigned long long)c->requests);
    fprintf(out,
            "    put: %llu ok, %llu exists; get: %llu found, %llu not_found; delete: %llu ok, "
            "%llu not_found\n",
            (unsigned long long)c->put_ok, (unsigned long long)c->put_exists,
            (unsigned long long)c->get_found, (unsigned long long)c->get_not_found,
            (unsigned long long)c->delete_ok, (unsigned long long)c->delete_not_found);
    uint64_t gets = c->get_found + c->get_not_found;
    if (gets > 0) {
        static const char *const how[KV_READ_POLICIES] = {
            [KV_READ_LINEARIZABLE] = "ReadIndex", [KV_READ_LEASE] = "lease",
            [KV_READ_FOLLOWER] = "follower",      [KV_READ_STALE] = "stale",
            [KV_READ_LOG] = "through the log",
        };
        fprintf(out, "    reads (ok gets by how they were read):");
        const char *sep = " ";
        for (int k = 0; k < KV_READ_POLICIES; k++) {
            if (c->reads[k] == 0)
                continue;
            fprintf(out, "%s%llu %s", sep, (unsigned long long)c->reads[k], how[k]);
            sep = ", ";
        }
        fprintf(out, "%s\n",
                c->reads[KV_READ_STALE] > 0 ? "; stale reads are left out of the linearizability "
                                              "check"
                                            : "");
    }
    fprintf(out,
            "  faults: %llu injected; %llu elections; network: %llu messages dropped, %llu "
            "duplicated\n",
            (unsigned long long)rep->faults, (unsigned long long)rep->elections,
            (unsigned long long)rep->msgs_dropped, (unsigned long long)rep->msgs_duplicated);
    if (rep->invariants_checked)
        fprintf(out, "  invariants: %s (%llu reports checked, log matching over every log)\n",
                rep->invariant_violated ? "VIOLATED" : "held",
                (unsigned long long)rep->invariant_reports);
    if (rep->leader != 0 && rep->all_applied)
        fprintf(out,
                "  log: leader node %u, term %llu, commit index %llu; %llu committed client "
                "commands replayed: results %s\n",
                rep->leader, (unsigned long long)rep->leader_term,
                (unsigned long long)rep->commit_index, (unsigned long long)rep->replayed,
                rep->results_consistent ? "consistent" : "INCONSISTENT");
    else if (rep->leader != 0)
        fprintf(out,
                "  log: leader node %u, term %llu, commit index %llu; not replayed (the run did "
                "not catch up)\n",
                rep->leader, (unsigned long long)rep->leader_term,
                (unsigned long long)rep->commit_index);
    else
        fprintf(out, "  log: no leader at the end; not replayed\n");
    if (rep->linearizability_checked && rep->lin_text != NULL) {
        /* The checker's report: its first line, then any ops it lists, indented. */
        fprintf(out, "  history: ");
        for (const char *p = rep->lin_text; *p; p++) {
            fputc(*p, out);
            if (*p == '\n' && p[1] != '\0')
                fputs("    ", out);
        }
        if (rep->lin_text[0] != '\0' && rep->lin_text[strlen(rep->lin_text) - 1] != '\n')
            fputc('\n', out);
    }
    switch (cluster_verdict(rep)) {
    case CLUSTER_CONSISTENT:
        fprintf(out, "  verdict: consistent\n");
        break;
    case CLUSTER_UNSAFE:
        fprintf(out, "  verdict: INCONSISTENT (safety): %s\n",
                rep->problem[0] ? rep->problem : "a check did not run to the end");
        break;
    case CLUSTER_NOT_LIVE:
        fprintf(out, "  verdict: %s (liveness): %s; no safety problem found\n", rep->liveness_what,
                rep->liveness);
        break;
    case CLUSTER_INTERRUPTED:
        fprintf(out, "  verdict: interrupted by %s; no safety problem found in what ran\n",
                signal_name(rep->interrupted));
        break;
    }
}

void cluster_report_close(struct cluster_report *rep)
{
    free(rep->nodes);
    rep->nodes = NULL;
    free(rep->lin_text);
    rep->lin_text = NULL;
    free(rep->recovered);
    rep->recovered = NULL;
}
