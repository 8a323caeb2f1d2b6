/* linearize.h - the linearizability verdict on a client history (issue 5, "The verdict").
 *
 * Checks each key separately (P-compositionality: a history is linearizable iff each key's
 * sub-history is, Herlihy & Wing 1990), with the just-in-time linearization search of Wing & Gong
 * (1993) as refined by Lowe ("Testing for linearizability", 2017) and the porcupine checker
 * (github.com/anishathalye/porcupine): memoised (set of linearized ops, model state) pairs and
 * backtracking, plus reductions of our own that keep long histories near-linear (linearize.c).
 * `fail` ops are dropped; `info` ops may take effect at any time after their invoke (return time
 * +infinity) with whatever result the model gives, or never. Equal times count as concurrent.
 *
 * The search is bounded per key by a step and a memory budget; running out gives CHECK_UNKNOWN,
 * never an endless run. Pure: no I/O except check_result_print to the caller's FILE.
 */
#ifndef RAFT_KV_CHECK_LINEARIZE_H
#define RAFT_KV_CHECK_LINEARIZE_H

#include <stdint.h>
#include <stdio.h>

#include "check/history.h"

/* Defaults: 2^28 search steps and 1 GiB of memo per key. A step looks at one candidate or
 * undoes one linearization (~10-40 ns). A linearizable history takes 5-30 steps per op (20,000
 * ops per key, 13 in flight, 0-10% info ops: 0.1-1.5 million steps, well under 0.1 s); proving a
 * violation explores every alternative before it (a bad read planted midway through 20,000 ops:
 * ~1.5 million steps with no info ops, ~48 million and ~200 MB with 1%, ~240 million and
 * ~550 MB with 5%; with 10% the budget runs out: CHECK_UNKNOWN after ~4 s). */
#define CHECK_DEFAULT_MAX_STEPS_PER_KEY  (UINT64_C(1) << 28)
#define CHECK_DEFAULT_MAX_MEMORY_PER_KEY ((size_t)1 << 30)

struct check_options {
    uint64_t max_steps_per_key; /* 0: CHECK_DEFAULT_MAX_STEPS_PER_KEY */
    size_t max_memory_per_key;  /* bytes of memo table + its bitsets; 0: the default */
    size_t max_report_ops;      /* ops listed for a violation; 0: 64 */
};

enum check_verdict {
    CHECK_LINEARIZABLE = 0,
    CHECK_NOT_LINEARIZABLE = 1,
    CHECK_UNKNOWN = 2, /* no violation found, but the budget ran out on some key */
};
const char *check_verdict_name(enum check_verdict v);

/* One operation of a violation report: a copy, independent of the history. */
struct check_report_op {
    uint64_t process;
    enum check_f f;
    enum check_type type;
    enum check_res result;
    char *value; /* NUL-terminated copy (may hold NULs: use value_len); NULL if none */
    size_t value_len;
    uint64_t invoke_ns;
    uint64_t complete_ns; /* UINT64_MAX: never completed */
    uint32_t invoke_line;
    uint32_t complete_line;
    bool stuck; /* the op that no order of the earlier ones lets take effect */
};

struct check_result {
    enum check_verdict verdict;
    size_t n_ops; /* operations in the history (invokes) */
    size_t n_ok;
    size_t n_fail;
    size_t n_info;  /* including invokes never completed */
    size_t n_stale; /* stale gets ("stale":true), left out of the check */
    size_t n_keys;
    size_t n_failed_keys;
    size_t n_unknown_keys;
    uint64_t steps; /* search steps over all keys */

    /* NOT_LINEARIZABLE: the failing key with the fewest ops; UNKNOWN: the first key whose budget
     * ran out. NULL when LINEARIZABLE. */
    char *key; /* NUL-terminated copy; key_len bytes */
    size_t key_len;
    size_t key_ops;     /* ops of that key that were searched (fail ops and info gets dropped) */
    uint64_t key_steps; /* steps spent on that key */
    const char *unknown_reason; /* UNKNOWN: "steps" or "memory" */

    /* NOT_LINEARIZABLE: the longest linearizable prefix found ended in state `state_present`
     * (value `state_value`) and could not take the stuck op; `ops` lists the stuck op, the ops
     * overlapping it in time and the op that wrote that state, ordered by invoke time. */
    size_t prefix_len; /* ops linearized in that prefix */
    bool state_present;
    bool state_unread; /* present with a value that no ok get returned (any such value) */
    char *state_value; /* NULL when absent or unread */
    size_t state_value_len;
    struct check_report_op *ops;
    size_t n_report_ops;
    size_t n_report_omitted; /* overlapping ops left out past max_report_ops */
    size_t n_pending_info;   /* info ops invoked earlier, not overlapping, so not listed */
};

/* Checks h; fills *out (the caller frees it with check_result_free). opt may be NULL. Returns 0;
 * the verdict is in out->verdict. Does not keep pointers into h. */
int check_linearizable(const struct check_history *h, const struct check_options *opt,
                       struct check_result *out);
void check_result_free(struct check_result *r);

/* Prints "linearizable: N ops (K keys)", "unknown: search budget exhausted on key \"k\" ..." or
 * "NOT linearizable: key \"a\": ..." followed by the ops involved, one per line, in time order. */
void check_result_print(FILE *out, const struct check_result *r);

#endif
