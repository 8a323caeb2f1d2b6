/* test_scenario_host.h - a fake host for the scenario module: it keeps its own view of the nodes
 * and the network, checks every call against it, and logs every fault it is told of. Included by
 * the test_scenario_*.c files.
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

static uint32_t fake_down(const struct fake *f)
{
    uint32_t down = 0;
    for (uint32_t i = 0; i < f->n_nodes; i++)
        down += f->down[i];
    return down;
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
