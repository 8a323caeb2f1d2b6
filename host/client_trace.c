/* client_trace.c - client records as history lines and trace lines: one wording for the
 * threaded client actor and the simulator.
 */
#include "host/client_trace.h"

#include <stdio.h>

#include "runtime/trace.h"

const char *client_send_reason_text(enum client_send_reason reason)
{
    switch (reason) {
    case CLIENT_SEND_FIRST:
        return "";
    case CLIENT_SEND_REDIRECT:
        return " (redirected: not leader)";
    case CLIENT_SEND_NEXT_NODE:
        return " (trying the next node)";
    case CLIENT_SEND_RETRY:
        return " (retry, same sequence number)";
    }
    return "";
}

void client_record_write(struct history *history, uint32_t client_id, const char *who,
                         const struct client_record *r)
{
    if (history != NULL) {
        struct history_line line = {
            .process = client_id,
            .type = client_record_type_name(r->type),
            .f = kv_op_name(r->op),
            .key = r->key,
            .value = r->value,
            .value_len = r->value_len,
            .result = r->result,
            .error = r->error,
            .seq = r->seq,
            .node = r->type == CLIENT_RECORD_OK ? r->node : 0,
            .read = r->op == KV_OP_GET ? kv_read_policy_name(r->read) : NULL,
            .stale = r->op == KV_OP_GET && r->read == KV_READ_STALE,
        };
        history_write(history, &line);
    }
    if (!trace_on(TRACE_INFO))
        return;
    char what[96];
    if (r->op == KV_OP_PUT)
        snprintf(what, sizeof what, "put(%s, %.*s)", r->key,
                 r->value_len > 24 ? 24 : (int)r->value_len, r->value);
    else if (r->op == KV_OP_GET && r->read != KV_READ_LINEARIZABLE)
        snprintf(what, sizeof what, "get(%s) [%s]", r->key, kv_read_policy_name(r->read));
    else
        snprintf(what, sizeof what, "%s(%s)", kv_op_name(r->op), r->key);
    unsigned long long seq = r->seq;
    switch (r->type) {
    case CLIENT_RECORD_INVOKE:
        trace_log(TRACE_INFO, who, "client", "request #%llu: %s", seq, what);
        break;
    case CLIENT_RECORD_OK:
        if (r->op == KV_OP_GET && r->value != NULL)
            trace_log(TRACE_INFO, who, "client", "result #%llu: %s -> found %.*s (node %u)", seq,
                      what, (int)r->value_len, r->value, r->node);
        else
            trace_log(TRACE_INFO, who, "client", "result #%llu: %s -> %s (node %u)", seq, what,
                      r->result, r->node);
        break;
    case CLIENT_RECORD_FAIL:
    case CLIENT_RECORD_INFO:
        trace_log(TRACE_INFO, who, "client", "result #%llu: %s -> %s: %s after %u attempts", seq,
                  what, client_record_type_name(r->type), r->error, r->attempts);
        break;
    }
}
