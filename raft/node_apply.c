/* node_apply.c - committed entries into the store, and the answers to the clients waiting for
 * them (see node_apply.h).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "common/alloc.h"
#include "raft/node_apply.h"
#include "raft/node_trace.h"
#include "runtime/trace.h"

/* Room for one more waiter at items[len]. */
static void pending_reserve(struct node_pending_queue *q)
{
    if (q->len == q->cap && q->head > 0) {
        /* Reclaim the answered prefix before growing. */
        memmove(q->items, q->items + q->head, (q->len - q->head) * sizeof *q->items);
        q->len -= q->head;
        q->head = 0;
    }
    if (q->len == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 64;
        q->items = xreallocarray(q->items, q->cap, sizeof *q->items);
    }
}

void node_pending_push(struct node_pending_queue *q, const struct node_pending *p)
{
    assert(q->head == q->len || q->items[q->len - 1].index < p->index);
    pending_reserve(q);
    q->items[q->len++] = *p;
}

void node_pending_join(struct node_pending_queue *q, const struct node_pending *p)
{
    pending_reserve(q);
    size_t at = q->len++;
    while (at > q->head && q->items[at - 1].index > p->index) {
        q->items[at] = q->items[at - 1];
        at--;
    }
    q->items[at] = *p;
}

enum node_retry node_find_retry(const struct kv_store *store, const struct node_pending_queue *q,
                                const struct kv_command *cmd, const char *actor,
                                struct kv_result *saved, struct node_pending *at)
{
    if (cmd->client_id == 0)
        return NODE_RETRY_NEW;
    if (kv_store_saved_result(store, cmd->client_id, cmd->seq, saved)) {
        trace_log(TRACE_INFO, actor, "client",
                  "request #%llu of client %llu is already applied: answers with its result",
                  (unsigned long long)cmd->seq, (unsigned long long)cmd->client_id);
        return NODE_RETRY_APPLIED;
    }
    for (size_t i = q->len; i > q->head; i--) {
        const struct node_pending *p = &q->items[i - 1];
        if (p->session == cmd->client_id && p->seq == cmd->seq) {
            *at = *p;
            trace_log(TRACE_INFO, actor, "client",
                      "request #%llu of client %llu is already at index %llu: waits for it",
                      (unsigned long long)cmd->seq, (unsigned long long)cmd->client_id,
                      (unsigned long long)p->index);
            return NODE_RETRY_WAITING;
        }
    }
    return NODE_RETRY_NEW;
}

void node_pending_release(struct node_pending_queue *q, node_answer_fn *answer, void *ctx)
{
    for (size_t i = q->head; i < q->len; i++)
        answer(ctx, &q->items[i], NULL);
    q->head = q->len = 0;
}

void node_pending_drop(struct node_pending_queue *q)
{
    q->head = q->len = 0;
}

void node_pending_close(struct node_pending_queue *q)
{
    free(q->items);
    memset(q, 0, sizeof *q);
}

/* Applies one entry; true with *res filled if it was a command (a no-op has no result). */
static bool apply_one(struct kv_store *store, const char *actor, uint64_t index,
                      const struct raft_entry *e, struct kv_result *res)
{
    if (e->type == RAFT_ENTRY_NOOP) {
        trace_log(TRACE_DEBUG, actor, "apply", "applies %llu: noop of term %llu",
                  (unsigned long long)index, (unsigned long long)e->term);
        return false;
    }
    struct kv_command cmd;
    if (kv_command_decode(e->data, e->len, &cmd) != 0) {
        /* Only validated commands enter the log, so this is a bug, not bad input. */
        trace_log(TRACE_INFO, actor, "apply", "applies %llu: <malformed command ignored>",
                  (unsigned long long)index);
        return false;
    }
    kv_store_apply(store, &cmd, res);
    if (trace_on(TRACE_INFO)) {
        char what[160];
        node_trace_describe_command(e->data, e->len, what, sizeof what);
        trace_log(TRACE_INFO, actor, "apply", "applies %llu: %s -> %s", (unsigned long long)index,
                  what, client_result_name(cmd.op, res->status));
    }
    return true;
}

void node_apply(const struct raft_update *up, struct kv_store *store, const char *actor,
                struct node_pending_queue *q, node_answer_fn *answer, void *ctx)
{
    for (size_t i = 0; i < up->n_apply; i++) {
        uint64_t index = up->apply_first + i;
        const struct raft_entry *e = &up->apply[i];
        struct kv_result res = {0};
        bool have_result = apply_one(store, actor, index, e, &res);
        /* Answer the client whose entry this is; an older waiting entry was overwritten. */
        while (q->head < q->len && q->items[q->head].index <= index) {
            const struct node_pending *p = &q->items[q->head++];
            bool ours = p->index == index && p->term == e->term && have_result;
            answer(ctx, p, ours ? &res : NULL);
        }
    }
}
