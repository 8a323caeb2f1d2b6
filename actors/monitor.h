/* monitor.h - the invariant monitor as an actor: nodes cast what they did (became leader,
 * committed, applied) and it checks Raft's safety properties (raft/invariants.h) as it goes.
 */
#ifndef RAFT_KV_ACTORS_MONITOR_H
#define RAFT_KV_ACTORS_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "raft/invariants.h"
#include "raft/raft.h"
#include "runtime/actor.h"

struct monitor_status {
    uint64_t violations;
    struct raft_violation first;
    uint64_t reports; /* reports checked */
};

/* Spawns the actor "monitor". */
int monitor_spawn(struct actor **out);

/* From a node's thread: what it just did. r is the reporting node's core. */
void monitor_report_leader(struct actor *mon, const struct raft *r);
void monitor_report_commit(struct actor *mon, const struct raft *r, uint64_t from, uint64_t to);
void monitor_report_applied(struct actor *mon, uint32_t node, uint64_t first_index,
                            const struct raft_entry *entries, size_t n);

/* The monitor's findings so far (an actor status: ACTOR_OK ...). */
int monitor_get_status(struct actor *mon, uint32_t timeout_ms, struct monitor_status *out);

/* One sentence naming the invariant, the nodes, the index and the terms. */
void monitor_describe(const struct raft_violation *v, char *buf, size_t cap);

#endif
