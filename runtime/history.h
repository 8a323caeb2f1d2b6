/* history.h - the client history sink: one JSON object per line, in the order events happen.
 *
 * Writes the format of ../shared/history-format.md (a fixed contract read by tools outside the
 * project). Each line's time is read under the sink's lock, just before the line is written, so
 * the file is in time order by construction and an invoke is stamped before its request leaves.
 */
#ifndef RAFT_KV_RUNTIME_HISTORY_H
#define RAFT_KV_RUNTIME_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct history;

/* One history line; strings are borrowed. NULL fields are left out of the line. */
struct history_line {
    uint32_t process; /* client id */
    const char *type; /* "invoke", "ok", "fail", "info" */
    const char *f;    /* "put", "get", "delete" */
    const char *key;
    const char *value; /* put invoke/ok; get ok when found */
    size_t value_len;
    const char *result; /* ok only */
    const char *error;  /* fail/info, optional */
    uint64_t seq;       /* extra field: the request's sequence number (0: left out) */
    uint32_t node;      /* extra field: the node that answered (0: left out) */
    bool recovered;     /* extra field "recovered":true: process 0's put of a value the store
                           held when the run started (a run resumed from disk) */
    const char *read;   /* extra field: how a get is read ("linearizable", "lease", ...); NULL:
                           left out */
    bool stale;         /* extra field "stale":true: a stale get, which may return an old value
                           and is left out of the linearizability check */
};

/* Creates (truncates) the file at path. 0, or -1 with a message naming the file in err. */
int history_open(struct history **out, const char *path, char *err, size_t err_len);
/* Flushes and closes; 0, or -1 if a write failed along the way (err says why). NULL is allowed. */
int history_close(struct history *h, char *err, size_t err_len);
/* Stamps and writes one line; returns the time written (ns since the sink opened). Thread-safe. */
uint64_t history_write(struct history *h, const struct history_line *line);
/* Writes every line to the file as it is made, not in 64 KiB batches: a process killed at any
 * moment (kill -9) leaves every line written before it, at one write(2) per line. */
void history_write_through(struct history *h);
/* Replaces the clock (nanoseconds); NULL restores the monotonic clock. Call before writing. */
void history_set_clock(struct history *h, uint64_t (*now_ns)(void *ctx), void *ctx);
/* Says in the trace (level MESSAGES, event "history", field t0_ms) where a history opened just
 * now has its time zero on the trace's clock, so a tool can draw both on one axis (timeline/).
 * The owner calls it once the history's clock is the run's: after history_open in a threaded run;
 * history_set_clock calls it for the simulator's clock. The last such line holds. */
void history_trace_time_zero(void);

#endif
