/* client_payload.c - the payloads of WIRE_KIND_CLIENT_REQUEST and WIRE_KIND_CLIENT_REPLY frames
 * (docs/wire.md): fixed fields, then one opaque byte string (the command, the result) that the
 * decoded value owns as its own copy, so it outlives the stream buffer.
 */
#include <string.h>

#include "common/alloc.h"
#include "wire/internal.h"

/* request_id u64, read u8, command_len u32 */
#define REQUEST_HEAD_BYTES 13u
/* status u8, leader_hint u32, index u64, term u64, request_id u64, result_len u32 */
#define REPLY_HEAD_BYTES 33u

/* A fresh copy of n bytes (NULL when n is 0), owned by the decoded value. */
static const uint8_t *bytes_copy(const uint8_t *p, size_t n)
{
    if (n == 0)
        return NULL;
    uint8_t *copy = xmalloc(n);
    memcpy(copy, p, n);
    return copy;
}

int wire_request_payload_size(const struct wire_client_request *req, uint64_t *bytes)
{
    if (req->read >= WIRE_READ_POLICIES)
        return WIRE_EREAD;
    if (req->command_len > 0 && req->command == NULL)
        return WIRE_EINVAL;
    *bytes = REQUEST_HEAD_BYTES + (uint64_t)req->command_len;
    return WIRE_OK;
}

uint8_t *wire_request_payload_write(const struct wire_client_request *req, uint8_t *p)
{
    p = le_put(p, req->request_id, 8);
    p = le_put(p, req->read, 1);
    p = le_put(p, req->command_len, 4);
    return le_put_bytes(p, req->command, req->command_len);
}

int wire_request_payload_read(const uint8_t *p, size_t len, struct wire_client_request *out)
{
    struct le_reader r = {.p = p, .left = len, .err = 0};
    memset(out, 0, sizeof *out);
    uint64_t request_id = wire_get(&r, 8);
    uint8_t read = (uint8_t)wire_get_range(&r, 1, 0, WIRE_READ_POLICIES - 1, WIRE_EREAD);
    uint32_t command_len = (uint32_t)wire_get(&r, 4);
    const uint8_t *command = wire_get_bytes(&r, command_len);
    int rc = wire_reader_end(&r);
    if (rc != WIRE_OK)
        return rc;
    out->request_id = request_id;
    out->read = read;
    out->command_len = command_len;
    out->command = bytes_copy(command, command_len);
    return WIRE_OK;
}

int wire_reply_payload_size(const struct wire_client_reply *rep, uint64_t *bytes)
{
    if (rep->status > WIRE_REPLY_REJECTED)
        return WIRE_ESTATUS;
    if (rep->leader_hint > RAFT_MAX_NODES)
        return WIRE_ENODE;
    if (rep->result_len > 0 && rep->result == NULL)
        return WIRE_EINVAL;
    *bytes = REPLY_HEAD_BYTES + (uint64_t)rep->result_len;
    return WIRE_OK;
}

uint8_t *wire_reply_payload_write(const struct wire_client_reply *rep, uint8_t *p)
{
    p = le_put(p, (uint64_t)rep->status, 1);
    p = le_put(p, rep->leader_hint, 4);
    p = le_put(p, rep->index, 8);
    p = le_put(p, rep->term, 8);
    p = le_put(p, rep->request_id, 8);
    p = le_put(p, rep->result_len, 4);
    return le_put_bytes(p, rep->result, rep->result_len);
}

int wire_reply_payload_read(const uint8_t *p, size_t len, struct wire_client_reply *out)
{
    struct le_reader r = {.p = p, .left = len, .err = 0};
    struct wire_client_reply rep = {0};
    rep.status = (enum wire_reply_status)wire_get_range(&r, 1, WIRE_REPLY_OK, WIRE_REPLY_REJECTED,
                                                        WIRE_ESTATUS);
    rep.leader_hint = (uint32_t)wire_get_range(&r, 4, 0, RAFT_MAX_NODES, WIRE_ENODE);
    rep.index = wire_get(&r, 8);
    rep.term = wire_get(&r, 8);
    rep.request_id = wire_get(&r, 8);
    rep.result_len = (uint32_t)wire_get(&r, 4);
    const uint8_t *result = wire_get_bytes(&r, rep.result_len);
    int rc = wire_reader_end(&r);
    memset(out, 0, sizeof *out);
    if (rc != WIRE_OK)
        return rc;
    *out = rep;
    out->result = bytes_copy(result, rep.result_len);
    return WIRE_OK;
}
