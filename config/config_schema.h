/* config_schema.h - internal to config/: the schema that describes every setting, shared by the
 * loader (config.c) and the printer (config_print.c). Not part of the cfg contract.
 *
 * A schema is a table of rows; each row is one key of one TOML table: its name, its kind (which
 * says how a TOML value becomes a C field), where the field is, its default, range or words and
 * one line of documentation. config_schema.c holds the tables; config.c loads with them.
 */
#ifndef RAFT_KV_CONFIG_CONFIG_SCHEMA_H
#define RAFT_KV_CONFIG_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"

enum cfg_kind {
    KIND_TABLE,   /* a [section]: sub is its schema, offset the sub-struct in the parent */
    KIND_UINT32,  /* uint32_t field, integer in min..max */
    KIND_SEED,    /* uint64_t field + bool at offset_b; integer in min..max */
    KIND_WORD,    /* enum field (int-sized), a string among words[]; def is the index */
    KIND_STRINGS, /* struct cfg_strings: distinct non-empty strings, min..max of them */
    KIND_BOOL,    /* bool field; def is 0 or 1 */
    KIND_PROB,    /* double field, a probability 0..1 (an integer 0 or 1 is accepted); def_prob */
    KIND_RANGE,   /* uint32_t lo at offset, hi at offset_b: [lo, hi], each min..max, lo <= hi;
                     def is the default of both ends */
    KIND_KINDS,   /* uint32_t bitmask over words[]: an array of distinct words whose bit is in
                     max (the allowed ones); def is the default mask */
    KIND_FAULTS,  /* struct cfg_fault * at offset, size_t count at offset_b: an array of tables,
                     each checked against sub (the [[fault]] rows) */
    KIND_GROUPS,  /* a fault's partition: n_groups at offset, uint8_t group[] at offset_b */
    KIND_PATH,    /* char * field (heap): a non-empty string of at most CFG_PATH_MAX bytes with
                     no NUL; words[0] is the default (none inside [[node]]) */
    KIND_NODES,   /* struct cfg_node * at offset, size_t count at offset_b: an array of at most
                     max tables, each checked against sub (the [[node]] rows) */
    KIND_ADDRESS, /* "host:port" (cfg_split_address): char * (heap) at offset, its host in a
                     char[CFG_HOST_LEN_MAX + 1] at offset_b, its uint16_t port at offset_c */
};

struct cfg_schema;

struct cfg_setting {
    const char *name; /* one key segment */
    enum cfg_kind kind;
    size_t offset;   /* of the field in the struct of the table the row belongs to */
    size_t offset_b; /* the second field of KIND_SEED, KIND_RANGE, KIND_FAULTS, KIND_GROUPS,
                        KIND_NODES, KIND_ADDRESS */
    size_t offset_c; /* the third field of KIND_ADDRESS */
    int64_t def, min, max;
    double def_prob;              /* KIND_PROB */
    const char *const *words;     /* KIND_WORD, KIND_KINDS: words; KIND_STRINGS: defaults */
    const struct cfg_schema *sub; /* KIND_TABLE, KIND_FAULTS, KIND_NODES */
    const char *doc;              /* one line for --help-config and config.toml */
};

struct cfg_schema {
    const struct cfg_setting *rows;
    size_t len;
};

/* The whole configuration: the rows of struct cfg (config_schema.c). */
extern const struct cfg_schema cfg_root_schema;

/* The rows of one [[fault]] (struct cfg_fault), by index. */
enum {
    CFG_FAULT_ROW_AT_MS,
    CFG_FAULT_ROW_KIND,
    CFG_FAULT_ROW_NODE,
    CFG_FAULT_ROW_GROUPS,
    CFG_FAULT_ROW_SLOW_MS,
    CFG_FAULT_ROWS
};
#define CFG_FAULT_SLOW_MS_DEFAULT 100 /* slow_ms of a slow fault that does not say */
extern const struct cfg_setting cfg_fault_rows[];
extern const struct cfg_schema cfg_fault_schema;

/* The rows of one [[node]] (struct cfg_node), by index; every one before CFG_NODE_ROWS_REQUIRED
 * is required, join is optional. */
enum {
    CFG_NODE_ROW_ID,
    CFG_NODE_ROW_RAFT,
    CFG_NODE_ROW_HTTP,
    CFG_NODE_ROW_DATA_DIR,
    CFG_NODE_ROWS_REQUIRED,
    CFG_NODE_ROW_JOIN = CFG_NODE_ROWS_REQUIRED,
    CFG_NODE_ROWS
};
extern const struct cfg_setting cfg_node_rows[];
extern const struct cfg_schema cfg_node_schema;

/* An array of tables ([[fault]], [[node]]): printed last, entered by suggestions and paths. */
static inline bool cfg_kind_is_array(enum cfg_kind kind)
{
    return kind == KIND_FAULTS || kind == KIND_NODES;
}

/* Whether two data directories are the same as written: compared by their '/'-separated
 * segments, with empty and "." segments left out ("data/node1/" is "./data//node1"). Nothing is
 * resolved: "..", symbolic links and different spellings of one directory are not seen. */
bool cfg_same_dir(const char *a, const char *b);

/* Word lists, in the order of the enums of config.h; NULL-terminated. */
extern const char *const cfg_level_words[];
extern const char *const cfg_format_words[];
extern const char *const cfg_color_words[];
extern const char *const cfg_fault_kind_words[];
extern const char *const cfg_storage_kind_words[];
extern const char *const cfg_read_words[];

/* The [[fault]] keys kind takes besides at_ms and kind: bit (1u << CFG_FAULT_ROW_x) each. */
uint32_t cfg_fault_keys_of(enum cfg_fault_kind kind);

/* The row named by the len bytes of key in sc, or NULL. */
const struct cfg_setting *cfg_find_row(const struct cfg_schema *sc, const char *key, size_t len);

/* The row at a dotted path ("trace.format", "fault.kind"), or NULL. */
const struct cfg_setting *cfg_find_path(const char *path);

/* Writes words[i] for each i whose bit is in mask (all if mask is UINT32_MAX), joined by ", ". */
void cfg_join_words(const char *const *words, uint32_t mask, char *out, size_t out_len);

#endif
