/* results.c - client results counted and checked against a replay of the committed log: the
 * one definition of "the client results are consistent" for threaded and simulated runs.
 */
#include "cluster/results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/linearize.h"
#include "cluster/cluster.h"
#include "common/alloc.h"
#include "kv/kv.h"

void cluster_count_results(const struct cluster_client_results *clients, uint32_t n,
                           struct cluster_counts *c)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct client_stats *st = clients[i].stats;
        c->attempts += st->attempts;
        c->retries += st->retries;
        c->redirects += st->redirects;
        c->requests += st->ok + st->fail + st->info;
        c->ok += st->ok;
        c->fail += st->fail;
        c->info += st->info;
        c->put_ok += st->put_ok;
        c->put_exists += st->put_exists;
        c->get_found += st->get_found;
        c->get_not_found += st->get_not_found;
        c->delete_ok += st->delete_ok;
        c->delete_not_found += st->delete_not_found;
        for (int k = 0; k < KV_READ_POLICIES; k++)
            c->reads[k] += st->reads[k];
    }
}

/* What the committed log says one request did. */
struct replayed {
    bool committed;
    enum kv_status status;
    char *value;
    uint32_t value_len;
};

/* Client id's requests first[id] .. first[id] + width - 1 have a slot each. */
struct window {
    uint64_t *first;
    uint32_t width;
};

static struct replayed *slot(struct replayed *seen, const struct window *w, uint32_t id,
                             uint64_t seq)
{
    if (seq < w->first[id] || seq - w->first[id] >= w->width)
        return NULL;
    return &seen[(size_t)(id - 1) * w->width + (size_t)(seq - w->first[id])];
}

bool cluster_check_results(const struct raft_disk *disk, uint64_t commit_index,
                           uint32_t num_clients, uint32_t requests, uint64_t session_base,
                           const struct cluster_client_results *clients, uint32_t n,
                           uint64_t *replayed, char *problem, size_t problem_len)
{
    bool consistent = true;
    /* Each client's window of request numbers that can be compared: from the first outcome it
     * kept, width of them (the most any client kept); a request before it has no outcome left
     * (a long run keeps only the last ones: client_options.keep_outcomes). */
    struct window win = {.first = xcalloc((size_t)num_clients + 1, sizeof *win.first), .width = 1};
    for (uint32_t id = 1; id <= num_clients; id++)
        win.first[id] = 1;
    for (uint32_t c = 0; c < n; c++) {
        uint32_t id = clients[c].id;
        if (id < 1 || id > num_clients || clients[c].n_outcomes == 0)
            continue;
        win.first[id] = clients[c].outcomes[0].seq;
        if (clients[c].n_outcomes > win.width)
            win.width = clients[c].n_outcomes;
    }
    size_t n_slots = (size_t)num_clients * win.width + 1;
    struct replayed *seen = xcalloc(n_slots, sizeof *seen);
    struct kv_store store;
    kv_store_init(&store);
    *replayed = 0;
    /* What the snapshot says: the store, and each client's last request in it. */
    const struct raft_log *log = &disk->log;
    uint64_t *snap_last = xcalloc((size_t)num_clients + 1, sizeof *snap_last);
    if (disk->snapshot.index > 0 &&
        kv_store_decode(&store, disk->snapshot.data, disk->snapshot.len) != 0) {
        snprintf(problem, problem_len, "the leader's snapshot at %llu does not decode",
                 (unsigned long long)disk->snapshot.index);
        consistent = false;
    }
    for (uint32_t id = 1; id <= num_clients; id++) {
        struct kv_result saved;
        uint64_t seq = kv_store_last_seq(&store, session_base + id);
        if (seq < 1 || seq > requests ||
            !kv_store_saved_result(&store, session_base + id, seq, &saved))
            continue;
        snap_last[id] = seq;
        struct replayed *r = slot(seen, &win, id, seq);
        if (r == NULL)
            continue;
        r->committed = true;
        r->status = saved.status;
        if (saved.value != NULL) {
            r->value = xstrndup((const char *)saved.value, saved.value_len);
            r->value_len = saved.value_len;
        }
    }
    for (uint64_t index = disk->snapshot.index + 1; index <= commit_index; index++) {
        const struct raft_entry *e = raft_log_get(log, index);
        struct kv_command cmd;
        if (e == NULL || e->type != RAFT_ENTRY_COMMAND ||
            kv_command_decode(e->data, e->len, &cmd) != 0)
            continue;
        struct kv_result res;
        kv_store_apply(&store, &cmd, &res);
        if (cmd.client_id <= session_base && cmd.client_id != 0)
            continue; /* a session of an earlier run (resumed from disk) */
        (*replayed)++;
        cmd.client_id -= session_base;
        if (cmd.client_id < 1 || cmd.client_id > num_clients || cmd.seq < 1 || cmd.seq > requests) {
            if (consistent)
                snprintf(problem, problem_len,
                         "committed entry %llu names client %llu request %llu, which was never "
                         "sent",
                         (unsigned long long)index, (unsigned long long)cmd.client_id,
                         (unsigned long long)cmd.seq);
            consistent = false;
            continue;
        }
        struct replayed *r = slot(seen, &win, (uint32_t)cmd.client_id, cmd.seq);
        if (r == NULL || r->committed)
            continue; /* no outcome kept to compare; or a retried duplicate (the session
                         returned the first result) */
        r->committed = true;
        r->status = res.status;
        if (res.value != NULL) {
            r->value = xstrndup((const char *)res.value, res.value_len);
            r->value_len = res.value_len;
        }
    }
    for (uint32_t c = 0; c < n; c++) {
        uint32_t id = clients[c].id;
        for (uint32_t k = 0; id >= 1 && id <= num_clients && k < clients[c].n_outcomes; k++) {
            const struct client_outcome *o = &clients[c].outcomes[k];
            if (o->op == KV_OP_GET && o->read != KV_READ_LOG)
                continue; /* read without the log: the linearizability check judges it */
            const struct replayed *r = slot(seen, &win, id, o->seq);
            bool ok = true;
            if (!r->committed && o->seq < snap_last[id])
                continue; /* compacted into the snapshot, or never committed: unknown */
            if (o->type == CLIENT_RECORD_OK)
                ok = r->committed && r->status == o->status &&
                     (o->op != KV_OP_GET || o->status != KV_OK ||
                      (r->value_len == o->value_len &&
                       memcmp(r->value, o->value, o->value_len) == 0));
            else if (o->type == CLIENT_RECORD_FAIL)
                ok = !r->committed;
            if (!ok && consistent)
                snprintf(problem, problem_len,
                         "client %u request %llu (%s) got %s %s, but the committed log %s", id,
                         (unsigned long long)o->seq, kv_op_name(o->op),
                         client_record_type_name(o->type),
                         o->type == CLIENT_RECORD_OK ? client_result_name(o->op, o->status) : "",
                         r->committed ? "gives another result" : "does not hold it");
            consistent = consistent && ok;
        }
    }
    for (size_t i = 0; i < n_slots; i++)
        free(seen[i].value);
    free(seen);
    free(snap_last);
    free(win.first);
    kv_store_close(&store);
    return consistent;
}

bool cluster_check_history(const char *path, struct cluster_report *rep, char *problem,
                           size_t problem_len)
{
    struct check_history h;
    char err[512];
    rep->linearizability_checked = true;
    if (check_history_load(path, &h, err, sizeof err) != 0) {
        rep->lin_verdict = CHECK_NOT_LINEARIZABLE;
        rep->lin_text = xstrdup(err);
        snprintf(problem, problem_len, "the history cannot be checked: %s", err);
        return false;
    }
    struct check_result res;
    check_linearizable(&h, NULL, &res);
    rep->lin_verdict = res.verdict;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem != NULL) {
        check_result_print(mem, &res);
        fclose(mem);
    }
    rep->lin_text = text;
    bool linearizable = res.verdict != CHECK_NOT_LINEARIZABLE;
    if (!linearizable)
        snprintf(problem, problem_len, "the history is not linearizable (key \"%.*s\")",
                 (int)res.key_len, res.key ? res.key : "");
    check_result_free(&res);
    check_history_free(&h);
    return linearizable;
}
