/* host.c - what both hosts of a scenario do alike: the network callbacks on runtime/netem and
 * one wording of every fault in the trace (the pure module decides, this carries out and says).
 */
#include "host/scenario_host.h"

#include <stdio.h>

#include "config/config_schema.h"
#include "runtime/trace.h"

static void net_partition(void *net, const uint8_t *group)
{
    netem_partition(net, group);
}

static void net_isolate(void *net, uint32_t node)
{
    netem_isolate(net, node);
}

static void net_slow(void *net, uint32_t node, uint32_t extra_ms)
{
    netem_slow(net, node, extra_ms);
}

static void net_heal(void *net)
{
    netem_heal(net);
}

void scenario_host_use_netem(struct scenario_host *host, struct netem *net)
{
    host->net = net;
    host->partition = net_partition;
    host->isolate = net_isolate;
    host->slow = net_slow;
    host->heal = net_heal;
}

/* "{1 2} {3 4 5}": a partition's groups (group 0, the nodes listed in none, first). */
static void groups_text(const uint8_t *group, uint32_t n_nodes, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (uint32_t g = 0; g <= n_nodes && used < cap; g++) {
        bool any = false;
        for (uint32_t i = 0; i < n_nodes && used < cap; i++) {
            if (group[i] != g)
                continue;
            const char *before = any ? " " : used > 0 ? " {" : "{"; /* in a group, or opening one */
            used += (size_t)snprintf(buf + used, cap - used, "%s%u", before, i + 1);
            any = true;
        }
        if (any && used < cap)
            used += (size_t)snprintf(buf + used, cap - used, "}");
    }
}

/* The partition's groups as a JSON array of arrays of node ids; nodes in no group form the last
 * group. */
static void groups_json(const uint8_t *group, uint32_t n_groups, uint32_t n_nodes, char *buf,
                        size_t cap)
{
    size_t used = (size_t)snprintf(buf, cap, "[");
    bool first_group = true;
    for (uint32_t g = 1; g <= n_groups + 1 && used < cap; g++) {
        uint32_t want = g <= n_groups ? g : 0;
        bool any = false;
        for (uint32_t i = 0; i < n_nodes && used < cap; i++) {
            if (group[i] != want)
                continue;
            used += (size_t)snprintf(buf + used, cap - used, "%s%s%u",
                                     any ? "" : (first_group ? "[" : ",["), any ? "," : "", i + 1);
            any = true;
        }
        if (any && used < cap) {
            used += (size_t)snprintf(buf + used, cap - used, "]");
            first_group = false;
        }
    }
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}

/* A membership fault: "asks the leader to add node 4 (a learner until it has caught up)", or
 * for a refusal "asks the leader to add node 4: refused: <why>" with the reason in the field
 * "refused" too. */
static void trace_membership(const struct scenario_applied *a)
{
    const struct cfg_fault *f = a->fault;
    bool refused = a->outcome == SCENARIO_FAILED;
    char what[64];
    if (f->kind == CFG_FAULT_ADD)
        snprintf(what, sizeof what, "add node %u%s", f->node,
                 refused ? "" : " (a learner until it has caught up)");
    else if (f->kind == CFG_FAULT_REMOVE)
        snprintf(what, sizeof what, "remove node %u", f->node);
    else
        snprintf(what, sizeof what, "hand leadership to node %u", f->node);
    struct trace_field fl[3] = {TRACE_STR("fault", cfg_fault_kind_words[f->kind]),
                                TRACE_U64("node", f->node), TRACE_STR("refused", a->err)};
    if (refused)
        trace_log_fields(TRACE_INFO, a->who, "fault", fl, 3, "asks the leader to %s: refused: %s",
                         what, a->err);
    else
        trace_log_fields(TRACE_INFO, a->who, "fault", fl, 2, "asks the leader to %s", what);
}

void scenario_trace_fault(const struct scenario_applied *a)
{
    const struct cfg_fault *f = a->fault;
    const char *who = a->who;
    if (SCENARIO_MEMBERSHIP_KINDS & (1u << f->kind)) {
        trace_membership(a);
        return;
    }
    switch (a->outcome) {
    case SCENARIO_ALREADY_DOWN:
        trace_log(TRACE_INFO, who, "fault", "node %u is already down", f->node);
        return;
    case SCENARIO_NOT_DOWN:
        trace_log(TRACE_INFO, who, "fault", "cannot restart: node %u is not down", f->node);
        return;
    case SCENARIO_FAILED:
        trace_log(TRACE_INFO, who, "fault", "cannot restart: %s", a->err);
        return;
    case SCENARIO_APPLIED:
        break;
    }
    struct trace_field fl[3] = {TRACE_STR("fault", cfg_fault_kind_words[f->kind]),
                                TRACE_U64("node", f->node)};
    switch (f->kind) {
    case CFG_FAULT_CRASH:
        trace_log_fields(TRACE_INFO, who, "fault", fl, 2, "crashes node %u", f->node);
        return;
    case CFG_FAULT_RESTART:
        trace_log_fields(TRACE_INFO, who, "fault", fl, 2,
                         "restarts node %u from its persistent state", f->node);
        return;
    case CFG_FAULT_PARTITION: {
        char text[1280]; /* 255 nodes of up to 3 digits, spaces and braces */
        groups_text(f->group, a->n_nodes, text, sizeof text);
        char json[1280];
        groups_json(f->group, f->n_groups, a->n_nodes, json, sizeof json);
        fl[1] = TRACE_JSON("groups", json);
        trace_log_fields(TRACE_INFO, who, "fault", fl, 2, "partitions the network: %s", text);
        return;
    }
    case CFG_FAULT_HEAL:
        trace_log_fields(TRACE_INFO, who, "fault", fl, 1,
                         "heals the network (partitions, isolation, slowness)");
        return;
    case CFG_FAULT_ISOLATE:
        trace_log_fields(TRACE_INFO, who, "fault", fl, 2, "isolates node %u", f->node);
        return;
    case CFG_FAULT_SLOW:
        fl[2] = TRACE_U64("slow_ms", f->slow_ms);
        trace_log_fields(TRACE_INFO, who, "fault", fl, 3, "slows node %u's links by %u ms", f->node,
                         f->slow_ms);
        return;
    case CFG_FAULT_TRANSFER: /* trace_membership */
    case CFG_FAULT_ADD:
    case CFG_FAULT_REMOVE:
    case CFG_FAULT_KINDS:
        break;
    }
}

void scenario_trace_heal_all(void)
{
    struct trace_field f[] = {TRACE_STR("fault", "heal"), TRACE_BOOL("all", true)};
    trace_log_fields(
        TRACE_INFO, "main", "fault", f, 2,
        "clients done: every fault healed, nodes restarted, the network made reliable");
}
