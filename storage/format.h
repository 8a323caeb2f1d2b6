/* format.h - the on-disk format of storage/ (docs/storage.md): file names, the hard state slots,
 * segment headers, log records and snapshot headers, encoded and checked here and nowhere else.
 * Every integer is little-endian; every checksum is CRC32C (common/crc32c.h).
 */
#ifndef RAFT_KV_STORAGE_FORMAT_H
#define RAFT_KV_STORAGE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/log.h"
#include "raft/raft.h"
#include "storage/fs.h"

/* The version of the hard state slots and segment headers. */
#define STORAGE_FORMAT_VERSION 1
/* The version of snapshot headers: 2 added the configuration. A version 1 header (48 bytes, no
 * configuration) is still read, with an all-zero configuration. */
#define STORAGE_SNAP_VERSION    2
#define STORAGE_SNAP_V1_VERSION 1

/* hardstate: two slots of STORAGE_HS_SLOT_BYTES, at 0 and at STORAGE_HS_SLOT1_OFFSET (another
 * 512-byte sector), in a file of STORAGE_HS_FILE_BYTES. */
#define STORAGE_HS_NAME              "hardstate"
#define STORAGE_HS_SLOT_BYTES        48
#define STORAGE_HS_SLOT1_OFFSET      512
#define STORAGE_HS_FILE_BYTES        1024
#define STORAGE_SEG_HEADER_BYTES     32
#define STORAGE_REC_HEADER_BYTES     32
#define STORAGE_SNAP_HEADER_BYTES    112 /* version 2 */
#define STORAGE_SNAP_V1_HEADER_BYTES 48
/* The largest record: header + the largest entry, padded to 8. */
#define STORAGE_REC_MAX_BYTES (STORAGE_REC_HEADER_BYTES + (16u * 1024u * 1024u))
/* File names: "wal-" seq "-" first index, "snap-" index "-" term (16 lowercase hex digits each),
 * and a snapshot being written: its name + ".tmp". */
#define STORAGE_NAME_BYTES (STORAGE_FS_NAME_MAX + 1)

struct storage_fmt_hard_state {
    uint64_t seq; /* >= 1; the slot with the higher seq is the newer */
    uint64_t term;
    uint32_t vote;
    uint32_t node_id;
};

enum storage_fmt_slot {
    STORAGE_SLOT_EMPTY = 0, /* all zero: never written */
    STORAGE_SLOT_VALID = 1,
    STORAGE_SLOT_BAD = 2, /* *problem says why */
};

void storage_fmt_hs_encode(uint8_t out[STORAGE_HS_SLOT_BYTES],
                           const struct storage_fmt_hard_state *hs);
enum storage_fmt_slot storage_fmt_hs_decode(const uint8_t in[STORAGE_HS_SLOT_BYTES],
                                            struct storage_fmt_hard_state *hs,
                                            const char **problem);

struct storage_fmt_seg_header {
    uint32_t node_id;
    uint64_t first_index;
};
void storage_fmt_seg_encode(uint8_t out[STORAGE_SEG_HEADER_BYTES],
                            const struct storage_fmt_seg_header *h);
/* 0, or -1 with *problem (wrong magic, bad checksum, unknown version). */
int storage_fmt_seg_decode(const uint8_t in[STORAGE_SEG_HEADER_BYTES],
                           struct storage_fmt_seg_header *h, const char **problem);

/* The bytes a record of an entry of len data bytes takes: header + data padded to 8. */
uint64_t storage_fmt_rec_bytes(uint32_t len);
/* Writes the record of entry e at index into out (storage_fmt_rec_bytes(e->len) bytes). */
void storage_fmt_rec_encode(uint8_t *out, uint64_t index, const struct raft_entry *e);

enum storage_fmt_rec {
    STORAGE_REC_OK = 0,
    STORAGE_REC_ZERO = 1,  /* the length word is zero: nothing was written here */
    STORAGE_REC_SHORT = 2, /* the record runs past the end of the bytes given */
    STORAGE_REC_BAD = 3,   /* damaged: *problem says how */
};
struct storage_fmt_rec_view {
    uint64_t index, term;
    enum raft_entry_type type;
    uint32_t len;
    const uint8_t *data; /* into the bytes given */
    uint64_t bytes;      /* the whole record, padding included */
};
/* Decodes the record at in (avail bytes to the end of the file). Never reads past avail. */
enum storage_fmt_rec storage_fmt_rec_decode(const uint8_t *in, uint64_t avail,
                                            struct storage_fmt_rec_view *v, const char **problem);

/* For a record that did not decode: the bytes it claims (its whole record if its length word is
 * sound, else the 8 bytes of that word), so that what follows it can be checked. */
uint64_t storage_fmt_rec_claimed_bytes(const uint8_t *in, uint64_t avail);

struct storage_fmt_snap_header {
    uint32_t version;      /* decode: STORAGE_SNAP_VERSION or STORAGE_SNAP_V1_VERSION */
    uint32_t header_bytes; /* decode: the header's size in that version (the data follows) */
    uint32_t node_id;
    uint64_t index, term;
    uint64_t data_len;
    /* The configuration at index (raft_config_encode). All zero: none recorded, which the core
     * reads as its initial one (a version 1 header, or a server that joined with none). Set by
     * encode's caller, and by storage_fmt_snap_config, not by decode. */
    struct raft_config config;
    uint32_t crc; /* over the header up to the checksum field, and the data */
};
/* Encodes the header (version STORAGE_SNAP_VERSION, STORAGE_SNAP_HEADER_BYTES) of a snapshot of
 * h->data_len bytes of data, with h->config, and its checksum. */
void storage_fmt_snap_encode(uint8_t out[STORAGE_SNAP_HEADER_BYTES],
                             const struct storage_fmt_snap_header *h, const uint8_t *data);
/* Checks magic and version of the header at in (avail bytes of file) and decodes its fields; 0,
 * or -1 with *problem (the header cut short, wrong magic, unknown version). The checksum is
 * checked by storage_fmt_snap_check, the configuration by storage_fmt_snap_config. */
int storage_fmt_snap_decode(const uint8_t *in, uint64_t avail, struct storage_fmt_snap_header *h,
                            const char **problem);
/* True if h->crc matches the header bytes in and the data (and the unused bytes are zero). */
bool storage_fmt_snap_check(const uint8_t *in, const struct storage_fmt_snap_header *h,
                            const uint8_t *data);
/* The offset of the configuration in a snapshot header. */
#define STORAGE_SNAP_CONFIG_OFFSET 40
/* Decodes the configuration of a checked header into h->config: all zero for version 1; 0, or
 * -1 with *problem if the bytes are not a configuration (raft_config_decode) nor all zero. */
int storage_fmt_snap_config(const uint8_t *in, struct storage_fmt_snap_header *h,
                            const char **problem);

/* Names. */
enum storage_fmt_kind {
    STORAGE_FILE_OTHER = 0,
    STORAGE_FILE_HARD_STATE = 1,
    STORAGE_FILE_SEGMENT = 2,  /* a = seq, b = first index */
    STORAGE_FILE_SNAPSHOT = 3, /* a = index, b = term */
    STORAGE_FILE_TEMP = 4,     /* any name ending in ".tmp" */
};
enum storage_fmt_kind storage_fmt_parse_name(const char *name, uint64_t *a, uint64_t *b);
void storage_fmt_segment_name(char out[STORAGE_NAME_BYTES], uint64_t seq, uint64_t first_index);
void storage_fmt_snapshot_name(char out[STORAGE_NAME_BYTES], uint64_t index, uint64_t term);
void storage_fmt_temp_name(char out[STORAGE_NAME_BYTES], const char *name);

#endif
