/* session.c - exactly-once client sessions (Raft thesis 6.3) and command application.
 * Per client id: the last seq applied and its result, kept in the replicated state itself, so a
 * retried command returns the original result on every replica and is never applied twice.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hash.h"
#include "common/le.h"
#include "kv/kv.h"

struct kv_session {
    struct kv_session *next;
    uint64_t client_id;
    uint64_t last_seq;
    enum kv_status status; /* result of last_seq */
    uint8_t *value;        /* result value of last_seq (a get), owned */
    uint32_t value_len;
};

static size_t bucket_of(const struct kv_store *s, uint64_t client_id)
{
    uint64_t h = client_id * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 32) & (s->n_session_buckets - 1);
}

static void sessions_grow(struct kv_store *s)
{
    size_t old_n = s->n_session_buckets;
    struct kv_session **old = s->sessions;
    s->n_session_buckets = old_n ? old_n * 2 : 64;
    s->sessions = xcalloc(s->n_session_buckets, sizeof *s->sessions);
    for (size_t i = 0; i < old_n; i++) {
        struct kv_session *e = old[i];
        while (e != NULL) {
            struct kv_session *next = e->next;
            size_t b = bucket_of(s, e->client_id);
            e->next = s->sessions[b];
            s->sessions[b] = e;
            e = next;
        }
    }
    free(old);
}

static struct kv_session *session_get(struct kv_store *s, uint64_t client_id)
{
    if (s->n_session_buckets == 0)
        sessions_grow(s);
    size_t b = bucket_of(s, client_id);
    for (struct kv_session *e = s->sessions[b]; e != NULL; e = e->next)
        if (e->client_id == client_id)
            return e;
    struct kv_session *e = xcalloc(1, sizeof *e);
    e->client_id = client_id;
    e->next = s->sessions[b];
    s->sessions[b] = e;
    s->n_sessions++;
    if (s->n_sessions > s->n_session_buckets)
        sessions_grow(s);
    return e;
}

void kv_sessions_close(struct kv_store *s)
{
    for (size_t i = 0; i < s->n_session_buckets; i++) {
        struct kv_session *e = s->sessions[i];
        while (e != NULL) {
            struct kv_session *next = e->next;
            free(e->value);
            free(e);
            e = next;
        }
    }
    free(s->sessions);
    s->sessions = NULL;
    s->n_session_buckets = 0;
    s->n_sessions = 0;
}

static void execute(struct kv_store *s, const struct kv_command *cmd, struct kv_result *res)
{
    switch (cmd->op) {
    case KV_OP_PUT:
        res->status = kv_store_put(s, cmd->key, cmd->key_len, cmd->value, cmd->value_len);
        break;
    case KV_OP_GET:
        res->status = kv_store_get(s, cmd->key, cmd->key_len, &res->value, &res->value_len);
        break;
    case KV_OP_DELETE:
        res->status = kv_store_delete(s, cmd->key, cmd->key_len);
        break;
    case KV_OP_NOOP:
        res->status = KV_OK;
        break;
    }
    s->applied++;
}

void kv_store_apply(struct kv_store *s, const struct kv_command *cmd, struct kv_result *res)
{
    memset(res, 0, sizeof *res);
    res->client_id = cmd->client_id;
    res->seq = cmd->seq;
    if (cmd->client_id == 0) {
        execute(s, cmd, res);
        return;
    }
    struct kv_session *ss = session_get(s, cmd->client_id);
    if (cmd->seq == ss->last_seq && ss->last_seq != 0) {
        /* A retry of the last command: the saved result, not a second application. */
        res->status = ss->status;
        res->value = ss->value;
        res->value_len = ss->value_len;
        return;
    }
    if (cmd->seq < ss->last_seq || cmd->seq == 0) {
        res->status = KV_STALE;
        return;
    }
    execute(s, cmd, res);
    ss->last_seq = cmd->seq;
    ss->status = res->status;
    free(ss->value);
    ss->value = NULL;
    ss->value_len = res->value_len;
    if (res->value_len > 0) {
        ss->value = xmalloc(res->value_len);
        memcpy(ss->value, res->value, res->value_len);
    }
    res->value = ss->value; /* stable across later deletes of the key */
}

bool kv_store_saved_result(const struct kv_store *s, uint64_t client_id, uint64_t seq,
                           struct kv_result *res)
{
    if (client_id == 0 || seq == 0 || s->n_session_buckets == 0)
        return false;
    for (const struct kv_session *e = s->sessions[bucket_of(s, client_id)]; e != NULL;
         e = e->next) {
        if (e->client_id != client_id)
            continue;
        if (e->last_seq != seq)
            return false;
        *res = (struct kv_result){.status = e->status,
                                  .client_id = client_id,
                                  .seq = seq,
                                  .value = e->value,
                                  .value_len = e->value_len};
        return true;
    }
    return false;
}

uint64_t kv_store_last_seq(const struct kv_store *s, uint64_t client_id)
{
    if (client_id == 0 || s->n_session_buckets == 0)
        return 0;
    for (const struct kv_session *e = s->sessions[bucket_of(s, client_id)]; e != NULL; e = e->next)
        if (e->client_id == client_id)
            return e->last_seq;
    return 0;
}

static int compare_ids(const void *a, const void *b)
{
    uint64_t x = (*(const struct kv_session *const *)a)->client_id;
    uint64_t y = (*(const struct kv_session *const *)b)->client_id;
    return (x > y) - (x < y);
}

uint64_t kv_sessions_digest(const struct kv_store *s, uint64_t h)
{
    if (s->n_sessions == 0)
        return h;
    struct kv_session **all = xcalloc(s->n_sessions, sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < s->n_session_buckets; i++)
        for (struct kv_session *e = s->sessions[i]; e != NULL; e = e->next)
            all[n++] = e;
    assert(n == s->n_sessions);
    qsort(all, n, sizeof *all, compare_ids);
    for (size_t i = 0; i < n; i++) {
        uint64_t fields[3] = {all[i]->client_id, all[i]->last_seq, (uint64_t)all[i]->status};
        for (int k = 0; k < 3; k++) {
            uint8_t b[8];
            for (int j = 0; j < 8; j++)
                b[j] = (uint8_t)(fields[k] >> (8 * j));
            h = hash_fnv1a(h, b, 8);
        }
        h = hash_fnv1a(h, all[i]->value, all[i]->value_len);
    }
    free(all);
    return h;
}

void kv_sessions_encode(const struct kv_store *s, struct kv_bytes *b)
{
    le_put(kv_bytes_reserve(b, 8), s->n_sessions, 8);
    for (size_t i = 0; i < s->n_session_buckets; i++)
        for (const struct kv_session *e = s->sessions[i]; e != NULL; e = e->next) {
            uint8_t *p = kv_bytes_reserve(b, 8 + 8 + 1 + 4 + (size_t)e->value_len);
            p = le_put(p, e->client_id, 8);
            p = le_put(p, e->last_seq, 8);
            p = le_put(p, (uint64_t)e->status, 1);
            p = le_put(p, e->value_len, 4);
            le_put_bytes(p, e->value, e->value_len);
        }
}

bool kv_session_restore(struct kv_store *s, uint64_t client_id, uint64_t last_seq,
                        enum kv_status status, const uint8_t *value, uint32_t value_len)
{
    if (client_id == 0)
        return false;
    size_t before = s->n_sessions;
    struct kv_session *e = session_get(s, client_id);
    if (s->n_sessions == before)
        return false; /* a second session for one client */
    e->last_seq = last_seq;
    e->status = status;
    e->value_len = value_len;
    if (value_len > 0) {
        e->value = xmalloc(value_len);
        memcpy(e->value, value, value_len);
    }
    return true;
}
