/* format.c - encoding and checking of every on-disk structure of storage/ (docs/storage.md).
 * Each structure carries a magic, the format version and a CRC32C; a record's length word is
 * stored with its complement, so a damaged length is told apart from a torn (short) record.
 */
#include "storage/format.h"

#include <assert.h>
#include <string.h>

#include "common/crc32c.h"
#include "common/le.h"
#include "raft/raft.h"

static const uint8_t hs_magic[8] = {'R', 'K', 'V', 'H', 'A', 'R', 'D', 'S'};
static const uint8_t seg_magic[8] = {'R', 'K', 'V', 'W', 'A', 'L', 'S', 'G'};
static const uint8_t snap_magic[8] = {'R', 'K', 'V', 'S', 'N', 'A', 'P', 'S'};

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static uint64_t get(const uint8_t *p, size_t n)
{
    struct le_reader r = {.p = p, .left = n};
    return le_get(&r, n, 1);
}

void storage_fmt_hs_encode(uint8_t out[STORAGE_HS_SLOT_BYTES],
                           const struct storage_fmt_hard_state *hs)
{
    memset(out, 0, STORAGE_HS_SLOT_BYTES);
    uint8_t *p = le_put_bytes(out, hs_magic, sizeof hs_magic);
    p = le_put(p, STORAGE_FORMAT_VERSION, 4);
    p = le_put(p, hs->node_id, 4);
    p = le_put(p, hs->seq, 8);
    p = le_put(p, hs->term, 8);
    le_put(p, hs->vote, 4);
    le_put(out + 40, crc32c(0, out, 40), 4);
}

enum storage_fmt_slot storage_fmt_hs_decode(const uint8_t in[STORAGE_HS_SLOT_BYTES],
                                            struct storage_fmt_hard_state *hs, const char **problem)
{
    memset(hs, 0, sizeof *hs);
    if (all_zero(in, STORAGE_HS_SLOT_BYTES))
        return STORAGE_SLOT_EMPTY;
    *problem = NULL;
    if (memcmp(in, hs_magic, sizeof hs_magic) != 0)
        *problem = "hard state slot: wrong magic";
    else if (get(in + 8, 4) != STORAGE_FORMAT_VERSION)
        *problem = "hard state slot: unknown format version";
    else if (get(in + 40, 4) != crc32c(0, in, 40))
        *problem = "hard state slot: bad checksum";
    else if (get(in + 16, 8) == 0 || !all_zero(in + 36, 4) || !all_zero(in + 44, 4))
        *problem = "hard state slot: malformed";
    if (*problem != NULL)
        return STORAGE_SLOT_BAD;
    hs->node_id = (uint32_t)get(in + 12, 4);
    hs->seq = get(in + 16, 8);
    hs->term = get(in + 24, 8);
    hs->vote = (uint32_t)get(in + 32, 4);
    return STORAGE_SLOT_VALID;
}

void storage_fmt_seg_encode(uint8_t out[STORAGE_SEG_HEADER_BYTES],
                            const struct storage_fmt_seg_header *h)
{
    memset(out, 0, STORAGE_SEG_HEADER_BYTES);
    uint8_t *p = le_put_bytes(out, seg_magic, sizeof seg_magic);
    p = le_put(p, STORAGE_FORMAT_VERSION, 4);
    p = le_put(p, h->node_id, 4);
    le_put(p, h->first_index, 8);
    le_put(out + 28, crc32c(0, out, 28), 4);
}

int storage_fmt_seg_decode(const uint8_t in[STORAGE_SEG_HEADER_BYTES],
                           struct storage_fmt_seg_header *h, const char **problem)
{
    if (memcmp(in, seg_magic, sizeof seg_magic) != 0)
        *problem = "segment header: wrong magic";
    else if (get(in + 8, 4) != STORAGE_FORMAT_VERSION)
        *problem = "segment header: unknown format version";
    else if (get(in + 28, 4) != crc32c(0, in, 28))
        *problem = "segment header: bad checksum";
    else if (get(in + 16, 8) == 0 || !all_zero(in + 24, 4))
        *problem = "segment header: malformed";
    else {
        h->node_id = (uint32_t)get(in + 12, 4);
        h->first_index = get(in + 16, 8);
        return 0;
    }
    return -1;
}

uint64_t storage_fmt_rec_bytes(uint32_t len)
{
    return STORAGE_REC_HEADER_BYTES + (((uint64_t)len + 7) & ~(uint64_t)7);
}

/* The record's checksum: over the length words and everything after the checksum field. */
static uint32_t rec_crc(const uint8_t *rec, uint64_t bytes)
{
    uint32_t crc = crc32c(0, rec, 8);
    return crc32c(crc, rec + 12, (size_t)(bytes - 12));
}

void storage_fmt_rec_encode(uint8_t *out, uint64_t index, const struct raft_entry *e)
{
    uint64_t bytes = storage_fmt_rec_bytes(e->len);
    memset(out, 0, (size_t)bytes);
    uint8_t *p = le_put(out, e->len, 4);
    p = le_put(p, ~e->len, 4);
    p = le_put(p, 0, 4); /* the checksum, below */
    p = le_put(p, (uint32_t)e->type, 4);
    p = le_put(p, index, 8);
    p = le_put(p, e->term, 8);
    le_put_bytes(p, e->data, e->len);
    le_put(out + 8, rec_crc(out, bytes), 4);
}

enum storage_fmt_rec storage_fmt_rec_decode(const uint8_t *in, uint64_t avail,
                                            struct storage_fmt_rec_view *v, const char **problem)
{
    if (avail < 8)
        return all_zero(in, (size_t)avail) ? STORAGE_REC_ZERO : STORAGE_REC_SHORT;
    uint32_t len = (uint32_t)get(in, 4);
    uint32_t check = (uint32_t)get(in + 4, 4);
    if (len == 0 && check == 0)
        return STORAGE_REC_ZERO;
    if (check != (uint32_t)~len) {
        *problem = "record length damaged";
        return STORAGE_REC_BAD;
    }
    if (len > RAFT_MAX_ENTRY_BYTES) {
        *problem = "record length out of range";
        return STORAGE_REC_BAD;
    }
    uint64_t bytes = storage_fmt_rec_bytes(len);
    if (bytes > avail)
        return STORAGE_REC_SHORT;
    if (get(in + 8, 4) != rec_crc(in, bytes)) {
        *problem = "record: bad checksum";
        return STORAGE_REC_BAD;
    }
    uint32_t type = (uint32_t)get(in + 12, 4);
    v->index = get(in + 16, 8);
    v->term = get(in + 24, 8);
    if ((type != RAFT_ENTRY_NOOP && type != RAFT_ENTRY_COMMAND && type != RAFT_ENTRY_CONFIG) ||
        v->term == 0 ||
        !all_zero(in + STORAGE_REC_HEADER_BYTES + len, (size_t)(bytes - len) - 32)) {
        *problem = "record: malformed (type, term or padding)";
        return STORAGE_REC_BAD;
    }
    v->type = (enum raft_entry_type)type;
    v->len = len;
    v->data = len > 0 ? in + STORAGE_REC_HEADER_BYTES : NULL;
    v->bytes = bytes;
    return STORAGE_REC_OK;
}

uint64_t storage_fmt_rec_claimed_bytes(const uint8_t *in, uint64_t avail)
{
    if (avail < 8)
        return avail;
    uint32_t len = (uint32_t)get(in, 4);
    if ((uint32_t)get(in + 4, 4) != (uint32_t)~len || len > RAFT_MAX_ENTRY_BYTES)
        return 8;
    uint64_t bytes = storage_fmt_rec_bytes(len);
    return bytes < avail ? bytes : avail;
}

/* Snapshot headers. Version 2: magic, version, node id, index, term, data length, the
 * configuration (STORAGE_SNAP_CONFIG_OFFSET, RAFT_CONFIG_BYTES), the checksum, 4 zero bytes.
 * Version 1 is the same without the configuration. Either way the checksum covers the header
 * up to it, then the data, and sits 8 bytes before the header's end. */

static uint32_t snap_crc(const uint8_t *header, uint32_t header_bytes, const uint8_t *data,
                         uint64_t len)
{
    return crc32c(crc32c(0, header, header_bytes - 8), data, (size_t)len);
}

void storage_fmt_snap_encode(uint8_t out[STORAGE_SNAP_HEADER_BYTES],
                             const struct storage_fmt_snap_header *h, const uint8_t *data)
{
    memset(out, 0, STORAGE_SNAP_HEADER_BYTES);
    uint8_t *p = le_put_bytes(out, snap_magic, sizeof snap_magic);
    p = le_put(p, STORAGE_SNAP_VERSION, 4);
    p = le_put(p, h->node_id, 4);
    p = le_put(p, h->index, 8);
    p = le_put(p, h->term, 8);
    p = le_put(p, h->data_len, 8);
    assert(p == out + STORAGE_SNAP_CONFIG_OFFSET);
    raft_config_encode(&h->config, p);
    le_put(out + STORAGE_SNAP_HEADER_BYTES - 8,
           snap_crc(out, STORAGE_SNAP_HEADER_BYTES, data, h->data_len), 4);
}

int storage_fmt_snap_decode(const uint8_t *in, uint64_t avail, struct storage_fmt_snap_header *h,
                            const char **problem)
{
    memset(h, 0, sizeof *h);
    *problem = NULL;
    if (avail < STORAGE_SNAP_V1_HEADER_BYTES) { /* the shorter header, of either version */
        *problem = "snapshot: shorter than its header";
    } else if (memcmp(in, snap_magic, sizeof snap_magic) != 0) {
        *problem = "snapshot header: wrong magic";
    } else {
        h->version = (uint32_t)get(in + 8, 4);
        h->header_bytes = h->version == STORAGE_SNAP_VERSION      ? STORAGE_SNAP_HEADER_BYTES
                          : h->version == STORAGE_SNAP_V1_VERSION ? STORAGE_SNAP_V1_HEADER_BYTES
                                                                  : 0;
        if (h->header_bytes == 0)
            *problem = "snapshot header: unknown format version";
        else if (avail < h->header_bytes)
            *problem = "snapshot: shorter than its header";
    }
    if (*problem != NULL)
        return -1;
    h->node_id = (uint32_t)get(in + 12, 4);
    h->index = get(in + 16, 8);
    h->term = get(in + 24, 8);
    h->data_len = get(in + 32, 8);
    h->crc = (uint32_t)get(in + h->header_bytes - 8, 4);
    return 0;
}

bool storage_fmt_snap_check(const uint8_t *in, const struct storage_fmt_snap_header *h,
                            const uint8_t *data)
{
    return all_zero(in + h->header_bytes - 4, 4) &&
           h->crc == snap_crc(in, h->header_bytes, data, h->data_len);
}

int storage_fmt_snap_config(const uint8_t *in, struct storage_fmt_snap_header *h,
                            const char **problem)
{
    memset(&h->config, 0, sizeof h->config);
    const uint8_t *c = in + STORAGE_SNAP_CONFIG_OFFSET;
    if (h->version == STORAGE_SNAP_V1_VERSION || all_zero(c, RAFT_CONFIG_BYTES))
        return 0;
    if (raft_config_decode(c, RAFT_CONFIG_BYTES, &h->config, NULL) != RAFT_OK) {
        *problem = "snapshot header: malformed configuration";
        return -1;
    }
    return 0;
}

/* --- names ---------------------------------------------------------------------------------- */

static char *put_hex(char *p, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--)
        *p++ = digits[(v >> (4 * i)) & 0xf];
    return p;
}

static bool get_hex(const char *p, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < 16; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return false;
        *v = (*v << 4) | d;
    }
    return true;
}

/* prefix, 16 hex digits, '-', 16 hex digits, NUL. */
static void pair_name(char out[STORAGE_NAME_BYTES], const char *prefix, uint64_t a, uint64_t b)
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    char *p = put_hex(out + n, a);
    *p++ = '-';
    p = put_hex(p, b);
    *p = '\0';
}

static bool parse_pair(const char *name, const char *prefix, uint64_t *a, uint64_t *b)
{
    size_t n = strlen(prefix);
    return strlen(name) == n + 33 && strncmp(name, prefix, n) == 0 && get_hex(name + n, a) &&
           name[n + 16] == '-' && get_hex(name + n + 17, b);
}

enum storage_fmt_kind storage_fmt_parse_name(const char *name, uint64_t *a, uint64_t *b)
{
    size_t n = strlen(name);
    if (strcmp(name, STORAGE_HS_NAME) == 0)
        return STORAGE_FILE_HARD_STATE;
    if (n > 4 && strcmp(name + n - 4, ".tmp") == 0)
        return STORAGE_FILE_TEMP;
    if (parse_pair(name, "wal-", a, b))
        return STORAGE_FILE_SEGMENT;
    if (parse_pair(name, "snap-", a, b))
        return STORAGE_FILE_SNAPSHOT;
    return STORAGE_FILE_OTHER;
}

void storage_fmt_segment_name(char out[STORAGE_NAME_BYTES], uint64_t seq, uint64_t first_index)
{
    pair_name(out, "wal-", seq, first_index);
}

void storage_fmt_snapshot_name(char out[STORAGE_NAME_BYTES], uint64_t index, uint64_t term)
{
    pair_name(out, "snap-", index, term);
}

void storage_fmt_temp_name(char out[STORAGE_NAME_BYTES], const char *name)
{
    size_t n = strlen(name);
    assert(n + 5 <= STORAGE_NAME_BYTES);
    memcpy(out, name, n);
    memcpy(out + n, ".tmp", 5);
}
