/* test_scenario_host.h - a fake host for the scenario module: it keeps its own view of the nodes
 * and the network (and, with membership, of the cluster's configuration, as its leader would),
 * checks every call against it, and logs every fault it is told of. Included by the
 * test_scenario_*.c files.
 */
#ifndef RAFT_KV_TEST_SCENARIO_HOST_H
#define RAFT_KV_TEST_SCENARIO_HOST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scenario/scenario.h"

#define FAKE_LOG_MAX 4096

struct fake_entry {
    struct cfg_fault fault;
    const char *who;
    uint64_t at_ms;
    enum scenario_outcome outcome;
    char err[64];
};

struct fake {
    uint32_t n_nodes;
    bool down[CFG_NODES_MAX];
    uint8_t group[CFG_NODES_MAX]; /* the partition in force (all 0: none) */
    bool isolated[CFG_NODES_MAX];
    uint32_t slow_ms[CFG_NODES_MAX];
    uint32_t fail_restart; /* a node whose restart fails, or 0 */
    uint32_t crashes, restarts, heals, net_calls;
    struct fake_entry log[FAKE_LOG_MAX];
    size_t n_log;
    /* Membership (fake_new_members): the configuration, changed as a leader would on each request
     * it grants; a learner that is up catches up, becoming a voter, at the second config call
     * after its addition (a learner that is down stays one: a stuck addition). */
    bool voter[CFG_NODES_MAX], learner[CFG_NODES_MAX];
    uint32_t learner_age[CFG_NODES_MAX]; /* config calls since its addition */
    uint32_t num_nodes;                  /* the initial voters */
    bool strict;                         /* every request must follow the nemesis's rules */
    const char *refuse;                  /* refuse every request with this reason, or NULL */
    uint32_t config_calls, membership_calls;
    enum cfg_fault_kind last_kind; /* of the last request */
    uint32_t last_node;
    uint32_t granted[CFG_FAULT_KINDS]; /* requests granted, by kind */
    uint32_t removed_voters, removed_learners;
    struct scenario_host host;
};

static void fake_crash(void *ctx, uint32_t node)
{
    struct fake *f = ctx;
    assert_true(node >= 1 && node <= f->n_nodes);
    assert_false(f->down[node - 1]); /* the scenario crashes only a node that runs */
    f->down[node - 1] = true;
    f->crashes++;
}

static int fake_restart(void *ctx, uint32_t node, char *err, size_t err_len)
{
    struct fake *f = ctx;
    assert_true(node >= 1 && node <= f->n_nodes);
    assert_true(f->down[node - 1]); /* ... and restarts only one that is down */
    if (node == f->fail_restart) {
        snprintf(err, err_len, "node %u will not start", node);
        return -1;
    }
    f->down[node - 1] = false;
    f->restarts++;
    return 0;
}

static void fake_partition(void *net, const uint8_t *group)
{
    struct fake *f = net;
    memcpy(f->group, group, f->n_nodes);
    memset(f->isolated, 0, sizeof f->isolated);
    f->net_calls++;
}

static void fake_isolate(void *net, uint32_t node)
{
    struct fake *f = net;
    assert_true(node >= 1 && node <= f->n_nodes);
    f->isolated[node - 1] = true;
    f->net_calls++;
}

static void fake_slow(void *net, uint32_t node, uint32_t extra_ms)
{
    struct fake *f = net;
    assert_true(node >= 1 && node <= f->n_nodes);
    f->slow_ms[node - 1] = extra_ms;
    f->net_calls++;
}

static void fake_heal(void *net)
{
    struct fake *f = net;
    memset(f->group, 0, sizeof f->group);
    memset(f->isolated, 0, sizeof f->isolated);
    memset(f->slow_ms, 0, sizeof f->slow_ms);
    f->heals++;
    f->net_calls++;
}

static void fake_applied(void *ctx, const struct scenario_applied *a)
{
    struct fake *f = ctx;
    assert_true(f->n_log < FAKE_LOG_MAX);
    struct fake_entry *e = &f->log[f->n_log++];
    e->fault = *a->fault;
    e->who = a->who;
    e->at_ms = a->at_ms;
    e->outcome = a->outcome;
    snprintf(e->err, sizeof e->err, "%s", a->err);
}

/* How many of flag[0..n) are true. */
static uint32_t count_true(const bool *flag, uint32_t n)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++)
        count += flag[i];
    return count;
}

static uint32_t fake_voters(const struct fake *f)
{
    return count_true(f->voter, f->n_nodes);
}

static int fake_membership(void *ctx, enum cfg_fault_kind kind, uint32_t node, char *err,
                           size_t err_len)
{
    struct fake *f = ctx;
    assert_true(node >= 1 && node <= f->n_nodes);
    uint32_t i = node - 1;
    f->membership_calls++;
    f->last_kind = kind;
    f->last_node = node;
    if (f->strict) {
        switch (kind) {
        case CFG_FAULT_ADD: /* an outsider, one addition at a time */
            assert_false(f->voter[i] || f->learner[i]);
            assert_int_equal(count_true(f->learner, f->n_nodes), 0);
            break;
        case CFG_FAULT_REMOVE: /* a learner, or a voter above num_nodes of them */
            assert_true(f->learner[i] || (f->voter[i] && fake_voters(f) > f->num_nodes));
            break;
        case CFG_FAULT_TRANSFER:
            assert_true(f->voter[i]);
            break;
        default:
            fail_msg("membership asked for kind %d", kind);
        }
    }
    if (f->refuse != NULL) {
        snprintf(err, err_len, "%s", f->refuse);
        return -1;
    }
    if (kind == CFG_FAULT_ADD) {
        f->learner[i] = true;
        f->learner_age[i] = 0;
    } else if (kind == CFG_FAULT_REMOVE) {
        f->removed_voters += f->voter[i];
        f->removed_learners += f->learner[i];
        f->voter[i] = f->learner[i] = false;
    }
    f->granted[kind]++;
    return 0;
}

static void fake_config(void *ctx, bool *voter, bool *learner)
{
    struct fake *f = ctx;
    f->config_calls++;
    for (uint32_t i = 0; i < f->n_nodes; i++) {
        if (f->learner[i] && !f->down[i] && ++f->learner_age[i] >= 2) {
            f->learner[i] = false;
            f->voter[i] = true;
        }
    }
    memcpy(voter, f->voter, f->n_nodes * sizeof *voter);
    memcpy(learner, f->learner, f->n_nodes * sizeof *learner);
}

/* A fake host of n_nodes nodes, all up, on a network with no fault (heap; free()). */
static struct fake *fake_new(uint32_t n_nodes)
{
    struct fake *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->n_nodes = n_nodes;
    f->host = (struct scenario_host){
        .ctx = f,
        .crash = fake_crash,
        .restart = fake_restart,
        .net = f,
        .partition = fake_partition,
        .isolate = fake_isolate,
        .slow = fake_slow,
        .heal = fake_heal,
        .applied = fake_applied,
    };
    return f;
}

/* A fake host of max_nodes nodes, all up, whose cluster starts with voters 1..num_nodes, and
 * which carries out membership changes (heap; free()). */
static struct fake *fake_new_members(uint32_t num_nodes, uint32_t max_nodes)
{
    struct fake *f = fake_new(max_nodes);
    f->num_nodes = num_nodes;
    for (uint32_t i = 0; i < num_nodes; i++)
        f->voter[i] = true;
    f->host.membership = fake_membership;
    f->host.config = fake_config;
    return f;
}

static uint32_t fake_down(const struct fake *f)
{
    return count_true(f->down, f->n_nodes);
}

/* True if the fake's network has no fault in force. */
static bool fake_net_clean(const struct fake *f)
{
    for (uint32_t i = 0; i < f->n_nodes; i++)
        if (f->group[i] != 0 || f->isolated[i] || f->slow_ms[i] != 0)
            return false;
    return true;
}

/* The scenario's book agrees with the fake's view. */
static void assert_book_matches(const struct scenario *sc, const struct fake *f)
{
    assert_int_equal(sc->book.n_down, fake_down(f));
    for (uint32_t i = 0; i < f->n_nodes; i++) {
        assert_int_equal(sc->book.down[i], f->down[i]);
        assert_int_equal(sc->book.isolated[i], f->isolated[i]);
        assert_int_equal(sc->book.slow_ms[i], f->slow_ms[i]);
    }
    assert_int_equal(sc->book.n_net == 0, fake_net_clean(f));
}

/* A configuration for the scenario alone: n_nodes nodes, n_clients clients, no faults, no
 * nemesis (only what scenario_init reads is set). */
static struct cfg scenario_cfg(uint32_t n_nodes, uint32_t n_clients, uint64_t seed)
{
    struct cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.num_nodes = n_nodes;
    cfg.num_clients = n_clients;
    cfg.seed = seed;
    return cfg;
}

static struct cfg_fault fault_at(uint32_t at_ms, enum cfg_fault_kind kind, uint32_t node)
{
    struct cfg_fault f;
    memset(&f, 0, sizeof f);
    f.at_ms = at_ms;
    f.kind = kind;
    f.node = node;
    if (kind == CFG_FAULT_SLOW)
        f.slow_ms = 50;
    return f;
}

#endif
