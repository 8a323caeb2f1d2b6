/* command.c - the byte encoding of KV commands and results carried in the Raft log and back to
 * clients. Strict: every length is checked against the remaining bytes before it is used.
 */
#include <string.h>

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

/* A bounded reader: every get fails (and stays failed) once the bytes run out. */
struct reader {
    const uint8_t *p;
    size_t left;
    bool bad;
};

static uint64_t get_uint(struct reader *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    r->left -= n;
    return v;
}

static const uint8_t *get_bytes(struct reader *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return n ? p : NULL;
}

static uint8_t *put_uint(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + n;
}

static uint8_t *put_bytes(uint8_t *p, const uint8_t *data, size_t n)
{
    if (n)
        memcpy(p, data, n);
    return p + n;
}

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
    p = put_uint(p, (uint64_t)cmd->op, 1);
    p = put_uint(p, cmd->client_id, 8);
    p = put_uint(p, cmd->seq, 8);
    p = put_uint(p, cmd->key_len, 4);
    p = put_bytes(p, cmd->key, cmd->key_len);
    p = put_uint(p, cmd->value_len, 4);
    p = put_bytes(p, cmd->value, cmd->value_len);
    *len = (size_t)(p - buf);
    return 0;
}

int kv_command_decode(const void *buf, size_t len, struct kv_command *out)
{
    struct reader r = {.p = buf, .left = buf ? len : 0, .bad = false};
    memset(out, 0, sizeof *out);
    uint64_t op = get_uint(&r, 1);
    out->client_id = get_uint(&r, 8);
    out->seq = get_uint(&r, 8);
    uint64_t key_len = get_uint(&r, 4);
    if (r.bad)
        return KV_EMALFORMED;
    if (key_len > KV_MAX_KEY)
        return KV_ETOOLARGE;
    out->key = get_bytes(&r, key_len);
    uint64_t value_len = get_uint(&r, 4);
    if (r.bad)
        return KV_EMALFORMED;
    if (value_len > KV_MAX_VALUE)
        return KV_ETOOLARGE;
    out->value = get_bytes(&r, value_len);
    if (r.bad || r.left != 0)
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
    p = put_uint(p, (uint64_t)res->status, 1);
    p = put_uint(p, res->client_id, 8);
    p = put_uint(p, res->seq, 8);
    p = put_uint(p, res->value_len, 4);
    p = put_bytes(p, res->value, res->value_len);
    *len = (size_t)(p - buf);
    return 0;
}

int kv_result_decode(const void *buf, size_t len, struct kv_result *out)
{
    struct reader r = {.p = buf, .left = buf ? len : 0, .bad = false};
    memset(out, 0, sizeof *out);
    uint64_t status = get_uint(&r, 1);
    out->client_id = get_uint(&r, 8);
    out->seq = get_uint(&r, 8);
    uint64_t value_len = get_uint(&r, 4);
    if (r.bad)
        return KV_EMALFORMED;
    if (value_len > KV_MAX_VALUE)
        return KV_ETOOLARGE;
    out->value = get_bytes(&r, value_len);
    if (r.bad || r.left != 0 || status > KV_STALE)
        return KV_EMALFORMED;
    out->status = (enum kv_status)status;
    out->value_len = (uint32_t)value_len;
    return 0;
}
