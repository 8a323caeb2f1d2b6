/* netem.h - the emulated network between nodes: loss, delay, duplication and reordering from
 * the configuration, plus the faults of the moment (cut links, slow nodes).
 *
 * Each sender decides the fate of its own messages with its own seeded PRNG (netem_decide), so
 * the emulation takes no lock and adds no thread: a delayed message is a timer of the sender's.
 * The fault state is shared and changed by the run's owner while nodes send: it is kept in
 * atomics, each read once per decision.
 */
#ifndef RAFT_KV_RUNTIME_NETEM_H
#define RAFT_KV_RUNTIME_NETEM_H

#include <stdbool.h>
#include <stdint.h>

#include "common/prng.h"

struct netem_options {
    double drop;           /* probability of loss, 0..1 */
    double duplicate;      /* probability of a second delivery, 0..1 */
    uint32_t delay_ms_min; /* uniform delay range, ms */
    uint32_t delay_ms_max;
    bool reorder; /* false: a link delivers in the order sent, whatever the delays */
};

struct netem;

/* A network between nodes 1..n_nodes. Never NULL. */
struct netem *netem_new(uint32_t n_nodes, const struct netem_options *opt);
void netem_free(struct netem *net);

/* Fault state (ids 1..n_nodes). Any thread; takes effect for messages sent afterwards. */
/* group[i] is node i+1's group: nodes talk only within their group. */
void netem_partition(struct netem *net, const uint8_t *group);
/* Cuts every link to and from node. */
void netem_isolate(struct netem *net, uint32_t node);
/* Adds extra_ms to every message to or from node (0 removes it). */
void netem_slow(struct netem *net, uint32_t node, uint32_t extra_ms);
/* Removes every cut and slow link. */
void netem_heal(struct netem *net);
/* Also turns loss, duplication and delay off: the network becomes perfect. */
void netem_make_reliable(struct netem *net);

/* What happens to one message. */
struct netem_fate {
    bool dropped;
    const char *why;      /* when dropped: "lost" or "cut off" */
    uint32_t copies;      /* 1 or 2 when not dropped */
    uint32_t delay_ms[2]; /* per copy, from now */
};

/* Decides the fate of a message from `from` to `to` sent at now_ms. rng is the sender's;
 * last_delivery_ms is the sender's record for this link (used when reorder is off). */
void netem_decide(const struct netem *net, struct prng *rng, uint32_t from, uint32_t to,
                  uint64_t now_ms, uint64_t *last_delivery_ms, struct netem_fate *fate);

#endif
