/* command.c - the byte encoding of KV commands and results carried in the Raft log and back to
 * clients. Strict: every length is checked against the remaining bytes before it is used.
 */
#include <string.h>

#include "common/le.h"
#include "kv/kv.h"

const char *kv_strerror(int rc)
{
    switch (rc) {
    case 0:
        return "ok";
    case KV_EMALFORMED:
        return "malformed encoding";
    case KV_ETOOLARGE:
        return "key or value too large";
    case KV_ENOSPACE:
        return "buffer too small";
    }
    return "unknown kv error";
}

const char *kv_op_name(enum kv_op op)
{
    switch (op) {
    case KV_OP_PUT:
        return "put";
    case KV_OP_GET:
        return "get";
    case KV_OP_DELETE:
        return "delete";
    case KV_OP_NOOP:
        return "noop";
    }
    return "?";
}

const char *kv_read_policy_name(enum kv_read_policy p)
{
    switch (p) {
    case KV_READ_LINEARIZABLE:
        return "linearizable";
    case KV_READ_LEASE:
        return "lease";
    case KV_READ_FOLLOWER:
        return "follower";
    case KV_READ_STALE:
        return "stale";
    case KV_READ_LOG:
        return "log";
    }
    return "?";
}

const char *kv_status_name(enum kv_status status)
{
    switch (status) {
    case KV_OK:
        return "ok";
    case KV_EXISTS:
        return "key exists";
    case KV_NOT_FOUND:
        return "not found";
    case KV_STALE:
        return "stale request";
    }
    return "?";
}

/* A read past the end of the bytes: le_reader's error code here (kv_command_decode and
 * kv_result_decode both answer KV_EMALFORMED for it). */
enum { SHORT = KV_EMALFORMED };

size_t kv_command_size(const struct kv_command *cmd)
{
    return 1 + 8 + 8 + 4 + (size_t)cmd->key_len + 4 + (size_t)cmd->value_len;
}

static bool command_shape_ok(enum kv_op op, uint32_t key_len, uint32_t value_len)
{
    switch (op) {
    case KV_OP_PUT:
        return true;
    case KV_OP_GET:
    case KV_OP_DELETE:
        return value_len == 0;
    case KV_OP_NOOP:
        return key_len == 0 && value_len == 0;
    }
    return false;
}

int kv_command_encode(const struct kv_command *cmd, uint8_t *buf, size_t cap, size_t *len)
{
    if (cmd->key_len > KV_MAX_KEY || cmd->value_len > KV_MAX_VALUE)
        return KV_ETOOLARGE;
    if (!command_shape_ok(cmd->op, cmd->key_len, cmd->value_len))
        return KV_EMALFORMED;
    size_t size = kv_command_size(cmd);
    if (cap < size)
        return KV_ENOSPACE;
    uint8_t *p = buf;
    p = le_put(p, (uint64_t)cmd->op, 1);
    p = le_put(p, cmd->client_id, 8);
    p = le_put(p, cmd->seq, 8);
    p = le_put(p, cmd->key_len, 4);
    p = le_put_bytes(p, cmd->key, cmd->key_len);
    p = le_put(p, cmd->value_len, 4);
    p = le_put_bytes(p, cmd->value, cmd->value_len);
    *len = (size_t)(p - buf);
    return 0;
}

int kv_command_decode(const void *buf, size_t len, struct kv_command *out)
{
    struct le_reader r = {.p = buf, .left = buf ? len : 0, .err = 0};
    memset(out, 0, sizeof *out);
    uint64_t op = le_get(&r, 1, SHORT);
    out->client_id = le_get(&r, 8, SHORT);
    out->seq = le_get(&r, 8, SHORT);
    uint64_t key_len = le_get(&r, 4, SHORT);
    if (r.err != 0)
        return KV_EMALFORMED;
    if (key_len > KV_MAX_KEY)
        return KV_ETOOLARGE;
    out->key = le_get_bytes(&r, key_len, SHORT);
    uint64_t value_len = le_get(&r, 4, SHORT);
    if (r.err != 0)
        return KV_EMALFORMED;
    if (value_len > KV_MAX_VALUE)
        return KV_ETOOLARGE;
    out->value = le_get_bytes(&r, value_len, SHORT);
    if (r.err != 0 || r.left != 0)
        return KV_EMALFORMED;
    if (op < KV_OP_PUT || op > KV_OP_NOOP ||
        !command_shape_ok((enum kv_op)op, (uint32_t)key_len, (uint32_t)value_len))
        return KV_EMALFORMED;
    out->op = (enum kv_op)op;
    out->key_len = (uint32_t)key_len;
    out->value_len = (uint32_t)value_len;
    return 0;
}

size_t kv_result_size(const struct kv_result *res)
{
    return 1 + 8 + 8 + 4 + (size_t)res->value_len;
}

int kv_result_encode(const struct kv_result *res, uint8_t *buf, size_t cap, size_t *len)
{
    if (res->value_len > KV_MAX_VALUE)
        return KV_ETOOLARGE;
    if ((unsigned)res->status > KV_STALE)
        return KV_EMALFORMED;
    size_t size = kv_result_size(res);
    if (cap < size)
        return KV_ENOSPACE;
    uint8_t *p = buf;
    p = le_put(p, (uint64_t)res->status, 1);
    p = le_put(p, res->client_id, 8);
    p = le_put(p, res->seq, 8);
    p = le_put(p, res->value_len, 4);
    p = le_put_bytes(p, res->value, res->value_len);
    *len = (size_t)(p - buf);
    return 0;
}

int kv_result_decode(const void *buf, size_t len, struct kv_result *out)
{
    struct le_reader r = {.p = buf, .left = buf ? len : 0, .err = 0};
    memset(out, 0, sizeof *out);
    uint64_t status = le_get(&r, 1, SHORT);
    out->client_id = le_get(&r, 8, SHORT);
    out->seq = le_get(&r, 8, SHORT);
    uint64_t value_len = le_get(&r, 4, SHORT);
    if (r.err != 0)
        return KV_EMALFORMED;
    if (value_len > KV_MAX_VALUE)
        return KV_ETOOLARGE;
    out->value = le_get_bytes(&r, value_len, SHORT);
    if (r.err != 0 || r.left != 0 || status > KV_STALE)
        return KV_EMALFORMED;
    out->status = (enum kv_status)status;
    out->value_len = (uint32_t)value_len;
    return 0;
}
