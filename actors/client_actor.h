/* client_actor.h - a client as an actor: drives the pure client logic (client.h) with real
 * calls to the nodes, writes its history lines and trace, and reports when it is done.
 */
#ifndef RAFT_KV_ACTORS_CLIENT_ACTOR_H
#define RAFT_KV_ACTORS_CLIENT_ACTOR_H

#include <stdint.h>

#include "client/client.h"
#include "runtime/actor.h"
#include "runtime/directory.h"
#include "runtime/history.h"

struct client_actor_options {
    struct client_options client;
    struct actor_dir *nodes; /* slot i is node i+1 (empty while down); borrowed */
    uint32_t n_nodes;
    struct history *history; /* NULL: no history; borrowed, must outlive the client */
    uint64_t epoch_ns;       /* the run's time zero */
};

/* What a finished client reports. The report owns outcomes (and their values): the ones the
 * client kept, oldest first. */
struct client_report {
    uint32_t id;
    struct client_stats stats;
    struct client_outcome *outcomes;
    uint32_t n_outcomes;
};
void client_report_close(struct client_report *r);

/* Spawns the actor "client <id>", which starts its requests at once. */
int client_actor_spawn(const struct client_actor_options *opt, struct actor **out);

/* Asks the client to stop early (client_interrupt): its request in flight ends as info (fail if
 * no attempt can have been applied) once its current attempt is answered or times out, and it
 * starts no other; then it is done (client_actor_await_done answers). */
void client_actor_interrupt(struct actor *client);

/* Waits until the client has completed every request and moves its report into *out.
 * Returns an actor status (ACTOR_OK, ACTOR_ETIMEDOUT, ...). May be called again after a
 * timeout: the newest waiter is the one answered. */
int client_actor_await_done(struct actor *client, uint32_t timeout_ms, struct client_report *out);

#endif
