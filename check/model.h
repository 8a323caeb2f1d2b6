/* model.h - the sequential specification of one key, as the checker sees it (internal to check/).
 *
 * State: absent, or present(value) with the value interned as a small integer per key. The
 * semantics are the store's (kv/kv.h, ../shared/history-format.md): put succeeds only on an absent
 * key (else "exists"), delete only on a present one (else "not_found"), get returns the value or
 * "not_found". Only the key's own operations matter: keys are checked one at a time.
 */
#ifndef RAFT_KV_CHECK_MODEL_H
#define RAFT_KV_CHECK_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "check/history.h"

#define CHECK_STATE_ABSENT (-1) /* states >= 0 are present(value id) */

/* One operation reduced to what the model needs. */
struct check_model_op {
    uint8_t f;      /* enum check_f */
    uint8_t result; /* enum check_res; CHECK_RES_NONE for an info op (any result goes) */
    int32_t value;  /* put: the value written; get found: the value read; else -1 */
};

/* Whether op may take effect in `state` with its recorded result; if so *next is the state after
 * it. An info op (result CHECK_RES_NONE) always may: it takes whatever result the model gives. */
bool check_model_step(const struct check_model_op *op, int32_t state, int32_t *next);

#endif
