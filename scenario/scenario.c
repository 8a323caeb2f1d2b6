/* scenario.c - the [[fault]] schedule in time order, the book of what is in force, and the one
 * routine that carries a fault out through the host's callbacks: the same code for the threaded
 * run and the simulator, so that a rule fixed here holds in both.
 */
#include "scenario/scenario.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

void scenario_init(struct scenario *sc, const struct cfg *cfg, uint64_t nemesis_seed)
{
    uint32_t max_nodes = cfg_max_nodes(cfg);
    assert(cfg->num_nodes >= 1 && max_nodes <= CFG_NODES_MAX);
    memset(sc, 0, sizeof *sc);
    sc->n_nodes = max_nodes;
    sc->num_nodes = cfg->num_nodes;
    sc->book.n_nodes = max_nodes;
    sc->book.num_nodes = cfg->num_nodes;
    sc->n_plan = cfg->n_faults;
    sc->plan = xcalloc(sc->n_plan ? sc->n_plan : 1, sizeof *sc->plan);
    /* Insertion sort by time: stable, so faults at the same time keep their file order; linear
     * on a schedule already in order, as a configuration file's must be. */
    for (size_t i = 0; i < sc->n_plan; i++) {
        size_t j = i;
        while (j > 0 && sc->plan[j - 1].at_ms > cfg->faults[i].at_ms) {
            sc->plan[j] = sc->plan[j - 1];
            j--;
        }
        sc->plan[j] = cfg->faults[i];
    }
    sc->nemesis = cfg->nemesis;
    prng_seed(&sc->rng, nemesis_seed);
    /* The nemesis runs while clients do: a run without clients has none. */
    sc->nemesis_on =
        cfg->nemesis.interval_ms > 0 && cfg->nemesis.kinds != 0 && cfg->num_clients > 0;
}

void scenario_close(struct scenario *sc)
{
    free(sc->plan);
    memset(sc, 0, sizeof *sc);
}

void scenario_start(struct scenario *sc, uint64_t now_ms)
{
    assert(!sc->started);
    sc->started = true;
    if (sc->nemesis_on)
        sc->nemesis_next_ms = now_ms + sc->nemesis.interval_ms;
}

void scenario_clients_done(struct scenario *sc)
{
    sc->nemesis_on = false;
}

uint64_t scenario_next_ms(const struct scenario *sc)
{
    if (!sc->started)
        return UINT64_MAX;
    uint64_t next = UINT64_MAX;
    if (sc->next < sc->n_plan)
        next = sc->plan[sc->next].at_ms;
    if (sc->nemesis_on && sc->nemesis_next_ms < next)
        next = sc->nemesis_next_ms;
    return next;
}

bool scenario_plan_done(const struct scenario *sc)
{
    return sc->next >= sc->n_plan;
}

/* One nemesis move: with membership kinds allowed and a host that can do them, planned with the
 * configuration the host reports; otherwise without one (and the same draws as before issue 16). */
static void nemesis_move(struct scenario *sc, uint64_t now_ms, const struct scenario_host *host)
{
    bool voter[CFG_NODES_MAX] = {false}, learner[CFG_NODES_MAX] = {false};
    bool members = (sc->nemesis.kinds & SCENARIO_MEMBERSHIP_KINDS) != 0 &&
                   host->membership != NULL && host->config != NULL;
    if (members)
        host->config(host->ctx, voter, learner);
    struct cfg_fault move;
    if (scenario_nemesis_choose(&sc->rng, &sc->nemesis, &sc->book, members ? voter : NULL,
                                members ? learner : NULL, &move))
        scenario_apply(sc, &move, "nemesis", now_ms, host);
}

void scenario_run_due(struct scenario *sc, uint64_t now_ms, const struct scenario_host *host)
{
    if (!sc->started)
        return;
    /* Bounded: each turn applies one planned fault. */
    while (sc->next < sc->n_plan && sc->plan[sc->next].at_ms <= now_ms) {
        const struct cfg_fault *fault = &sc->plan[sc->next++];
        scenario_apply(sc, fault, "faults", now_ms, host);
    }
    if (sc->nemesis_on && sc->nemesis_next_ms <= now_ms) {
        nemesis_move(sc, now_ms, host);
        uint32_t interval = sc->nemesis.interval_ms;
        /* "About this often": uniform in [interval/2, 3*interval/2]; time moves between moves. */
        uint64_t wait = prng_range(&sc->rng, interval / 2, interval + interval / 2);
        sc->nemesis_next_ms = now_ms + (wait ? wait : 1);
    }
}

/* --- the book ------------------------------------------------------------------------------ */

static void count_net(struct scenario_book *b)
{
    b->n_net = b->partitioned;
    for (uint32_t i = 0; i < b->n_nodes; i++)
        b->n_net += (uint32_t)b->isolated[i] + (b->slow_ms[i] > 0);
}

static void clear_net(struct scenario_book *b)
{
    b->partitioned = false;
    memset(b->isolated, 0, sizeof b->isolated);
    memset(b->slow_ms, 0, sizeof b->slow_ms);
    b->n_net = 0;
}

static void set_down(struct scenario_book *b, uint32_t node, bool down)
{
    assert(b->down[node - 1] != down);
    b->down[node - 1] = down;
    if (down)
        b->n_down++;
    else
        b->n_down--;
}

enum scenario_outcome scenario_apply(struct scenario *sc, const struct cfg_fault *fault,
                                     const char *who, uint64_t now_ms,
                                     const struct scenario_host *host)
{
    struct scenario_book *b = &sc->book;
    uint32_t node = fault->node;
    bool is_node = node >= 1 && node <= sc->n_nodes;
    char err[256] = "";
    enum scenario_outcome outcome = SCENARIO_APPLIED;
    switch (fault->kind) {
    case CFG_FAULT_CRASH:
        if (!is_node || b->down[node - 1]) {
            outcome = SCENARIO_ALREADY_DOWN;
            break;
        }
        host->crash(host->ctx, node);
        set_down(b, node, true);
        sc->faults++;
        break;
    case CFG_FAULT_RESTART:
        if (!is_node || !b->down[node - 1]) {
            outcome = SCENARIO_NOT_DOWN;
        } else if (host->restart(host->ctx, node, err, sizeof err) != 0) {
            outcome = SCENARIO_FAILED;
        } else {
            set_down(b, node, false);
        }
        break;
    case CFG_FAULT_PARTITION:
        host->partition(host->net, fault->group);
        b->partitioned = true;
        memset(b->isolated, 0, sizeof b->isolated); /* every link was set anew */
        sc->faults++;
        break;
    case CFG_FAULT_HEAL:
        host->heal(host->net);
        clear_net(b);
        break;
    case CFG_FAULT_ISOLATE:
        assert(is_node); /* validated by the configuration, or chosen by the nemesis */
        host->isolate(host->net, node);
        b->isolated[node - 1] = true;
        sc->faults++;
        break;
    case CFG_FAULT_SLOW:
        assert(is_node && fault->slow_ms > 0);
        host->slow(host->net, node, fault->slow_ms);
        b->slow_ms[node - 1] = fault->slow_ms;
        sc->faults++;
        break;
    case CFG_FAULT_TRANSFER:
    case CFG_FAULT_ADD:
    case CFG_FAULT_REMOVE:
        assert(is_node);
        if (host->membership == NULL) {
            static const char unsupported[] = "membership changes are not supported here";
            _Static_assert(sizeof unsupported <= sizeof err, "the message fits");
            memcpy(err, unsupported, sizeof unsupported);
            outcome = SCENARIO_FAILED;
        } else if (host->membership(host->ctx, fault->kind, node, err, sizeof err) != 0) {
            outcome = SCENARIO_FAILED;
        } else {
            sc->faults++;
        }
        break;
    case CFG_FAULT_KINDS:
        assert(!"not a fault kind");
        break;
    }
    count_net(b);
    struct scenario_applied a = {
        .who = who,
        .fault = fault,
        .at_ms = now_ms,
        .n_nodes = sc->n_nodes,
        .outcome = outcome,
        .err = err,
    };
    if (host->applied != NULL)
        host->applied(host->ctx, &a);
    return outcome;
}

int scenario_heal_all(struct scenario *sc, const struct scenario_host *host, char *err,
                      size_t err_len)
{
    sc->nemesis_on = false;
    for (uint32_t node = 1; node <= sc->n_nodes; node++) {
        if (!sc->book.down[node - 1])
            continue;
        if (host->restart(host->ctx, node, err, err_len) != 0)
            return -1;
        set_down(&sc->book, node, false);
    }
    if (sc->book.n_net > 0) {
        host->heal(host->net);
        clear_net(&sc->book);
    }
    return 0;
}
