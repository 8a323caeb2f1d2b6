/* toml.h - a TOML 1.0.0 parser: a whole document into an immutable tree, or a precise error.
 *
 * Contract: toml_parse_* either returns 0 with a complete tree that the caller frees with
 * toml_free(), or a nonzero code with err filled ("FILE:LINE:COL: what is wrong") and nothing
 * allocated. Values keep the line and column where they were defined, so that the typed
 * configuration can name the place of a bad setting. Strings are UTF-8, NUL-terminated, and may
 * contain NUL bytes (\u0000), so their length is kept too.
 */
#ifndef RAFT_KV_CONFIG_TOML_H
#define RAFT_KV_CONFIG_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum toml_type {
    TOML_STRING,
    TOML_INTEGER,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_DATETIME,       /* offset date-time: 1979-05-27T07:32:00Z, ...-07:00 */
    TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
    TOML_DATE_LOCAL,     /* 1979-05-27 */
    TOML_TIME_LOCAL,     /* 07:32:00.999 */
    TOML_ARRAY,
    TOML_TABLE,
};

/* Error codes of toml_parse_* and the typed getters. */
enum toml_status {
    TOML_OK = 0,
    TOML_ESYNTAX,   /* the document is not valid TOML */
    TOML_EIO,       /* the file could not be opened or read */
    TOML_ENOTFOUND, /* lookup: no value at that path */
    TOML_ETYPE,     /* lookup: the value has another type */
};

/* A date, a time, or both. Fields not present for the type are zero. */
struct toml_datetime {
    int year, month, day;     /* has_date */
    int hour, minute, second; /* has_time */
    int nanosecond;           /* has_time; fractional seconds, truncated past 9 digits */
    int frac_digits;          /* digits written after '.', 0 if none (for faithful output) */
    int offset_minutes;       /* has_offset; 'Z' is 0 with offset_is_z */
    bool has_date, has_time, has_offset, offset_is_z;
};

struct toml_table;
struct toml_array;

struct toml_value {
    enum toml_type type;
    int line, col; /* 1-based position where the value starts */
    union {
        struct {
            char *ptr; /* NUL-terminated; may contain NUL bytes: use len */
            size_t len;
        } str;
        int64_t integer;
        double flt;
        bool boolean;
        struct toml_datetime dt;
        struct toml_array *array;
        struct toml_table *table;
    } u;
};

struct toml_key_value {
    char *key; /* one key segment (not dotted), unescaped, NUL-terminated */
    size_t key_len;
    int line, col; /* where the key was written */
    struct toml_value value;
};

struct toml_table {
    size_t len; /* entries in definition order */
    struct toml_key_value *items;
};

struct toml_array {
    size_t len;
    struct toml_value *items;
};

/* Error detail: the message already includes "FILE:LINE:COL: ". */
struct toml_error {
    int line, col; /* 0 when not about a position (e.g. an unreadable file) */
    char msg[512];
};

/* Parses len bytes of buf (need not be NUL-terminated). filename is used in messages only.
 * On success *out owns the whole tree (free with toml_free). Errors: TOML_ESYNTAX. */
int toml_parse_buffer(const char *buf, size_t len, const char *filename, struct toml_table **out,
                      struct toml_error *err);

/* Reads and parses a file. Errors: TOML_EIO (message names the file and the OS error),
 * TOML_ESYNTAX. */
int toml_parse_file(const char *path, struct toml_table **out, struct toml_error *err);

/* Frees a tree returned by toml_parse_*; NULL is allowed. */
void toml_free(struct toml_table *root);

/* The value of key (one segment, exact match) in table, or NULL. */
const struct toml_value *toml_table_get(const struct toml_table *table, const char *key);

/* The value at a dotted path of bare key segments ("raft.heartbeat_ms"), or NULL. Segments are
 * split at '.', so keys containing dots cannot be reached this way (use toml_table_get). */
const struct toml_value *toml_lookup(const struct toml_table *root, const char *path);

/* Typed getters by dotted path. Return TOML_OK and store the value; TOML_ENOTFOUND (out
 * untouched, err filled); TOML_ETYPE (err names the key, its position and both types, e.g.
 * "config.toml:3:13: raft.heartbeat_ms must be an integer, not a string"). filename may be NULL.
 * err may be NULL. */
int toml_get_int(const struct toml_table *root, const char *path, const char *filename,
                 int64_t *out, struct toml_error *err);
int toml_get_float(const struct toml_table *root, const char *path, const char *filename,
                   double *out, struct toml_error *err); /* integers are accepted as floats */
int toml_get_bool(const struct toml_table *root, const char *path, const char *filename, bool *out,
                  struct toml_error *err);
/* *out points into the tree (valid until toml_free). */
int toml_get_string(const struct toml_table *root, const char *path, const char *filename,
                    const char **out, struct toml_error *err);

/* "string", "integer", "float", "boolean", "offset date-time", "local date-time", "local date",
 * "local time", "array", "table". */
const char *toml_type_name(enum toml_type type);
const char *toml_strerror(int status);

#endif
