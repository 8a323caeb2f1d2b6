/* status.h - a node's state and counters as a host reports them to its owner (the threaded run's
 * main, the simulator's report): the same struct for every host, so one summary prints them.
 */
#ifndef RAFT_KV_HOST_STATUS_H
#define RAFT_KV_HOST_STATUS_H

#include <stdint.h>

#include "raft/raft.h"

/* A node's state as reported to its owner. */
struct node_status {
    uint32_t id;
    enum raft_role role;
    uint64_t term;
    uint32_t leader; /* 0 if unknown */
    uint64_t commit_index, last_applied, last_index;
    uint64_t digest; /* kv_store_digest of the node's store */
    uint64_t n_keys;
    uint64_t elections; /* elections this node started */
    uint64_t msgs_sent, msgs_received, msgs_malformed;
    uint64_t msgs_dropped, msgs_duplicated; /* by the emulated network, at this sender */
    uint64_t proposals;                     /* client requests accepted into the log */
    uint64_t snapshot_index, first_index;   /* the latest snapshot (0: none); the log's start */
    uint64_t snapshots_taken;               /* of its own store */
    uint64_t snapshots_installed;           /* received from a leader (InstallSnapshot) */
    uint64_t persist_writes, persist_syncs; /* disk storage: requests written, and the syncs
                                               that made them durable (group commit) */
    /* Membership: the configuration in effect (the latest in the log), its entry (0: the
     * initial one or a snapshot's), the latest committed one, and a leader's transfer target. */
    struct raft_config config, config_committed;
    uint64_t config_index;
    uint32_t transfer_to;
};

#endif
