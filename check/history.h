/* history.h - a client history (../shared/history-format.md) read into paired operations.
 *
 * The file is JSON Lines: per operation an `invoke` and one completion (`ok`, `fail`, `info`)
 * from the same `process`. Parsing pairs them by process and validates the contract; an error is
 * a message naming the line ("history.jsonl:17: ok for process 3 without an invoke"), never a
 * crash and never a verdict. An invoke still in flight at the end of the file becomes `info`.
 *
 * Pure apart from check_history_load reading a file: no threads, no clock, no runtime.
 */
#ifndef RAFT_KV_CHECK_HISTORY_H
#define RAFT_KV_CHECK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Return codes (0 = ok); check_strerror() names them. */
enum {
    CHECK_EIO = 1,      /* the file cannot be opened or read */
    CHECK_ESYNTAX = 2,  /* a line is not a JSON object of the expected shape */
    CHECK_EHISTORY = 3, /* well-formed lines that break the contract (pairing, fields, times) */
};
const char *check_strerror(int rc);

enum check_f {
    CHECK_F_PUT = 0,
    CHECK_F_GET = 1,
    CHECK_F_DELETE = 2,
};
const char *check_f_name(enum check_f f);

/* How an operation ended: the type of its completion line. */
enum check_type {
    CHECK_OK = 0,   /* took effect between invoke and completion, with `result` */
    CHECK_FAIL = 1, /* definitely not applied */
    CHECK_INFO = 2, /* unknown: may take effect at any time after its invoke, or never */
};
const char *check_type_name(enum check_type type);

enum check_res {
    CHECK_RES_NONE = 0, /* fail / info: no result */
    CHECK_RES_OK = 1,   /* put, delete */
    CHECK_RES_EXISTS = 2,
    CHECK_RES_FOUND = 3,
    CHECK_RES_NOT_FOUND = 4,
};
const char *check_res_name(enum check_res res);

/* One operation: an invoke paired with its completion. Strings point into the history and are
 * not NUL-terminated in general (JSON allows \u0000); use the lengths. */
struct check_op {
    uint64_t process;
    enum check_f f;
    enum check_type type;
    enum check_res result; /* CHECK_RES_NONE unless type == CHECK_OK */
    uint32_t key;          /* index into check_history.keys */
    /* put: the value written (from the invoke); get ok found: the value read; else NULL/0 */
    const char *value;
    size_t value_len;
    uint64_t invoke_ns;
    uint64_t complete_ns;   /* UINT64_MAX when there was no completion line */
    uint32_t invoke_line;   /* 1-based line numbers, for messages */
    uint32_t complete_line; /* 0 when there was no completion line */
    bool stale; /* a get with "stale":true on its invoke or completion: may return an old value,
                   so the linearizability check leaves it out */
};
/* Invariant: invoke_ns <= complete_ns; complete_line == 0 implies type == CHECK_INFO. */

struct check_key {
    const char *bytes;
    size_t len;
};

struct check_history_chunk;

struct check_history {
    struct check_op *ops; /* in invoke order (file order of the invoke lines) */
    size_t n_ops;
    struct check_key *keys; /* distinct keys, in order of first appearance */
    size_t n_keys;
    size_t n_lines;                     /* non-empty lines read */
    struct check_history_chunk *chunks; /* owns every string above */
};

/* Parses len bytes of JSON Lines named `name` (for messages) into *out, which the caller frees
 * with check_history_free (also after an error; *out is then empty). Returns 0, CHECK_ESYNTAX or
 * CHECK_EHISTORY with "name:line: what is wrong" in err (err_len bytes, truncated, NUL-ended).
 * Never reads past len; any input is safe. Empty lines are skipped; a trailing \r is ignored. */
int check_history_parse(const char *buf, size_t len, const char *name, struct check_history *out,
                        char *err, size_t err_len);
/* Reads the file at path and parses it as above (name = path). CHECK_EIO if it cannot be read. */
int check_history_load(const char *path, struct check_history *out, char *err, size_t err_len);
/* Frees what a parse or load allocated; leaves *h empty. Safe on an empty history. */
void check_history_free(struct check_history *h);

#endif
