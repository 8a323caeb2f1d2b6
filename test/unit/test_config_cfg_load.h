/* test_config_cfg_load.h - helpers shared by the typed-configuration tests: load a document as
 * "config.toml" with --set overrides, expect an exact error, print to a string, compare cfgs.
 * Include after <cmocka.h>.
 */
#ifndef RAFT_KV_TEST_CONFIG_CFG_LOAD_H
#define RAFT_KV_TEST_CONFIG_CFG_LOAD_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define BIT(kind) (1u << (kind))
#define NEMESIS_ALL                                                                                \
    (BIT(CFG_FAULT_CRASH) | BIT(CFG_FAULT_PARTITION) | BIT(CFG_FAULT_ISOLATE) | BIT(CFG_FAULT_SLOW))

/* Loads doc as "config.toml" with the given --set arguments (NULL-terminated, may be NULL). */
static inline int load_set(struct cfg *cfg, const char *doc, const char *const *sets,
                           struct cfg_error *err)
{
    struct cfg_override ovr[8] = {{NULL, NULL}};
    char origins[8][128];
    size_t n = 0;
    for (; sets != NULL && sets[n] != NULL; n++) {
        assert_true(n < 8);
        snprintf(origins[n], sizeof origins[n], "--set '%s'", sets[n]);
        ovr[n].origin = origins[n];
        ovr[n].toml = sets[n];
    }
    return cfg_load_buffer(cfg, doc, strlen(doc), "config.toml", ovr, n, err);
}

static inline void load_ok_set(struct cfg *cfg, const char *doc, const char *const *sets)
{
    struct cfg_error err = {""};
    int rc = load_set(cfg, doc, sets, &err);
    if (rc != 0)
        fail_msg("unexpected error: %s", err.msg);
}

static inline void load_ok(struct cfg *cfg, const char *doc)
{
    load_ok_set(cfg, doc, NULL);
}

/* Loading fails with code and exactly msg, and leaves nothing allocated in cfg. */
static inline void expect_set_error(const char *doc, const char *const *sets, int code,
                                    const char *msg)
{
    struct cfg cfg;
    struct cfg_error err = {""};
    int rc = load_set(&cfg, doc, sets, &err);
    assert_string_equal(err.msg, msg);
    assert_int_equal(rc, code);
    assert_null(cfg.client.keys.items);
    assert_null(cfg.faults);
    assert_int_equal(cfg.n_faults, 0);
    assert_null(cfg.path);
}

static inline void expect_error(const char *doc, int code, const char *msg)
{
    expect_set_error(doc, NULL, code, msg);
}

/* cfg_print (with or without docs) into a heap string. */
static inline char *print_to_string(const struct cfg *cfg, bool docs)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    cfg_print(out, cfg, docs);
    fclose(out);
    return text;
}

static inline char *summary_of(const struct cfg *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    cfg_print_summary(out, cfg);
    fclose(out);
    return text;
}

/* Asserts that every issue 5 setting of a and b is equal. */
static inline void assert_same_fault_settings(const struct cfg *a, const struct cfg *b)
{
    assert_int_equal(a->raft.pre_vote, b->raft.pre_vote);
    assert_int_equal(a->raft.check_quorum, b->raft.check_quorum);
    assert_true(a->network.drop == b->network.drop);
    assert_true(a->network.duplicate == b->network.duplicate);
    assert_int_equal(a->network.delay_ms_min, b->network.delay_ms_min);
    assert_int_equal(a->network.delay_ms_max, b->network.delay_ms_max);
    assert_int_equal(a->network.reorder, b->network.reorder);
    assert_int_equal(a->nemesis.interval_ms, b->nemesis.interval_ms);
    assert_int_equal(a->nemesis.kinds, b->nemesis.kinds);
    assert_int_equal(a->check.invariants, b->check.invariants);
    assert_int_equal(a->check.linearizability, b->check.linearizability);
    assert_int_equal(a->check.converge_ms, b->check.converge_ms);
    assert_int_equal(a->n_faults, b->n_faults);
    for (size_t i = 0; i < a->n_faults; i++) {
        const struct cfg_fault *x = &a->faults[i], *y = &b->faults[i];
        assert_int_equal(x->at_ms, y->at_ms);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->node, y->node);
        assert_int_equal(x->n_groups, y->n_groups);
        assert_memory_equal(x->group, y->group, sizeof x->group);
        assert_int_equal(x->slow_ms, y->slow_ms);
    }
}

#endif
