/* client_trace.h - how a client's records read in the history and the trace, shared by the
 * client actor and the simulator so both runs print the same lines.
 */
#ifndef RAFT_KV_HOST_CLIENT_TRACE_H
#define RAFT_KV_HOST_CLIENT_TRACE_H

#include <stdint.h>

#include "client/client.h"
#include "runtime/history.h"

/* Writes r as a history line (when history is not NULL) and as a trace line from actor `who`
 * (NULL: the running actor). client_id is the history's process. */
void client_record_write(struct history *history, uint32_t client_id, const char *who,
                         const struct client_record *r);

/* " (redirected: not leader)" and the like, "" for a first attempt. */
const char *client_send_reason_text(enum client_send_reason reason);

#endif
