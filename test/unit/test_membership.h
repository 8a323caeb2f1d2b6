/* test_membership.h - a sample configuration for the tests of the modules that carry or keep one
 * (wire/, storage/): voters and a learner, so both halves of its 64 bytes are exercised.
 */
#ifndef RAFT_KV_TEST_MEMBERSHIP_H
#define RAFT_KV_TEST_MEMBERSHIP_H

#include "raft/raft.h"

/* Voters 1 2 3 5, learner 7: the words 0x2e, 0, 0, 0 then 0x80, 0, 0, 0 (docs/wire.md). */
static inline struct raft_config config_1235_7(void)
{
    struct raft_config c;
    raft_config_initial(&c, 3);
    raft_config_set(&c, 5, true, false);
    raft_config_set(&c, 7, false, true);
    return c;
}

#endif
