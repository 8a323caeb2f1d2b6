/* model.c - the key-value model of one key: a pure step function over (state, operation).
 * States are ints (absent, or an interned value id) so the search can memoise them cheaply.
 */
#include "check/model.h"

#include <assert.h>

bool check_model_step(const struct check_model_op *op, int32_t state, int32_t *next)
{
    bool any = op->result == CHECK_RES_NONE;
    switch ((enum check_f)op->f) {
    case CHECK_F_PUT:
        assert(op->value >= 0);
        if (state == CHECK_STATE_ABSENT) {
            *next = op->value;
            return any || op->result == CHECK_RES_OK;
        }
        *next = state;
        return any || op->result == CHECK_RES_EXISTS;
    case CHECK_F_GET:
        *next = state;
        if (any)
            return true;
        if (state == CHECK_STATE_ABSENT)
            return op->result == CHECK_RES_NOT_FOUND;
        return op->result == CHECK_RES_FOUND && op->value == state;
    case CHECK_F_DELETE:
        if (state != CHECK_STATE_ABSENT) {
            *next = CHECK_STATE_ABSENT;
            return any || op->result == CHECK_RES_OK;
        }
        *next = state;
        return any || op->result == CHECK_RES_NOT_FOUND;
    }
    assert(!"unknown operation");
    return false;
}
