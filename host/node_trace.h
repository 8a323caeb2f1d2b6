/* node_trace.h - the trace wording of a Raft node, shared by the threaded node (actors/node.c) and
 * the deterministic simulator (sim/), so that both runtimes describe the same step alike.
 *
 * actor names the trace line's actor ("node 3"); NULL means the running actor's name (node.c).
 * Each function writes nothing when the trace level leaves its line out.
 */
#ifndef RAFT_KV_HOST_NODE_TRACE_H
#define RAFT_KV_HOST_NODE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "raft/raft.h"

/* "put(a, v17) [client 1 #3]", "get(a) [...]", "noop"; or "<malformed command>". */
void node_trace_describe_command(const void *data, uint32_t len, char *buf, size_t cap);
/* One line for a message the core asked to send (vote replies are said by the vote notes). */
void node_trace_sent(const char *actor, const struct raft_message *m);
/* One line for a note of the core (role change, vote, append, commit, ...). */
void node_trace_note(const char *actor, const struct raft_note *note);

/* Opens the trace as [trace] configures it (level, format, colour). */
void host_trace_open(const struct cfg_trace *t);

#endif
