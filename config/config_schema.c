/* config_schema.c - the schema of raft_kv's configuration: one row per setting (name, kind,
 * field, default, range or words, documentation), from which config.c loads and checks.
 */
#include "config/config_schema.h"

#include <string.h>

/* --- the schema --------------------------------------------------------------------------- */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define UINT32(type, field, d, lo, hi, text)                                                       \
    {                                                                                              \
        .name = #field, .kind = KIND_UINT32, .offset = offsetof(type, field), .def = (d),          \
        .min = (lo), .max = (hi), .doc = (text)                                                    \
    }
#define WORD(type, field, d, list, text)                                                           \
    {                                                                                              \
        .name = #field, .kind = KIND_WORD, .offset = offsetof(type, field), .def = (d),            \
        .words = (list), .doc = (text)                                                             \
    }
#define BOOL(type, field, d, text)                                                                 \
    {                                                                                              \
        .name = #field, .kind = KIND_BOOL, .offset = offsetof(type, field), .def = (d),            \
        .doc = (text)                                                                              \
    }
#define PROB(type, field, d, text)                                                                 \
    {                                                                                              \
        .name = #field, .kind = KIND_PROB, .offset = offsetof(type, field), .def_prob = (d),       \
        .doc = (text)                                                                              \
    }
#define TABLE(type, field, schema, text)                                                           \
    {                                                                                              \
        .name = #field, .kind = KIND_TABLE, .offset = offsetof(type, field), .sub = &(schema),     \
        .doc = (text)                                                                              \
    }

/* The enum fields are written through int *: they must be int-sized. */
_Static_assert(sizeof(enum cfg_trace_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_trace_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_color) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_fault_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_storage_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_read) == sizeof(int), "enum size");
/* A partition's group numbers (1..n_groups <= CFG_NODES_MAX) fit cfg_fault.group[]'s bytes. */
_Static_assert(CFG_NODES_MAX <= UINT8_MAX, "group numbers fit a byte");

/* In the order of the enums in config.h. */
const char *const cfg_level_words[] = {"quiet", "info", "debug", "messages", NULL};
const char *const cfg_format_words[] = {"text", "jsonl", NULL};
const char *const cfg_color_words[] = {"auto", "always", "never", NULL};
const char *const cfg_fault_kind_words[] = {"crash", "restart",  "partition", "heal",   "isolate",
                                            "slow",  "transfer", "add",       "remove", NULL};
_Static_assert(COUNT(cfg_fault_kind_words) == CFG_FAULT_KINDS + 1, "a word per fault kind");
static const char *const default_keys[] = {"a", "b", "c", "d", "e", NULL};

/* The kinds the nemesis starts by default (it chooses their ends, restart and heal, itself). */
#define NEMESIS_KINDS                                                                              \
    ((1u << CFG_FAULT_CRASH) | (1u << CFG_FAULT_PARTITION) | (1u << CFG_FAULT_ISOLATE) |           \
     (1u << CFG_FAULT_SLOW))
/* ... and those it may be given: membership moves too, only when asked for. */
#define NEMESIS_KINDS_ALLOWED                                                                      \
    (NEMESIS_KINDS | (1u << CFG_FAULT_TRANSFER) | (1u << CFG_FAULT_ADD) | (1u << CFG_FAULT_REMOVE))

const char *const cfg_read_words[] = {"linearizable", "lease", "follower", "stale",
                                      "log",          "mix",   NULL};

static const struct cfg_setting read_mix_rows[] = {
    UINT32(struct cfg_read_mix, linearizable, 1, 0, 1000000, "weight of ReadIndex reads"),
    UINT32(struct cfg_read_mix, lease, 1, 0, 1000000,
           "weight of lease reads (needs raft.check_quorum)"),
    UINT32(struct cfg_read_mix, follower, 1, 0, 1000000, "weight of follower reads"),
    UINT32(struct cfg_read_mix, stale, 1, 0, 1000000,
           "weight of stale reads (left out of the linearizability check)"),
    UINT32(struct cfg_read_mix, log, 1, 0, 1000000, "weight of reads through the log"),
};
static const struct cfg_schema read_mix_schema = {read_mix_rows, COUNT(read_mix_rows)};

static const struct cfg_setting client_rows[] = {
    UINT32(struct cfg_client, requests, 5, 0, 1000000, "requests each client sends"),
    {.name = "keys",
     .kind = KIND_STRINGS,
     .offset = offsetof(struct cfg_client, keys),
     .min = 1,
     .max = CFG_KEYS_MAX,
     .words = default_keys,
     .doc = "keys the clients pick from at random: distinct, non-empty strings"},
    UINT32(struct cfg_client, value_size, 8, 1, 65536, "bytes of each random value put"),
    UINT32(struct cfg_client, timeout_ms, 1000, 1, 3600000,
           "how long a client waits for one reply"),
    UINT32(struct cfg_client, put_weight, 1, 0, 1000000,
           "relative weight of puts among the requests (put, get and delete weights: 1, 8, 1 "
           "is 80% gets)"),
    UINT32(struct cfg_client, get_weight, 1, 0, 1000000, "relative weight of gets"),
    UINT32(struct cfg_client, delete_weight, 1, 0, 1000000, "relative weight of deletes"),
    WORD(struct cfg_client, read, CFG_READ_LINEARIZABLE, cfg_read_words,
         "how a get is read: linearizable (ReadIndex: the leader confirms its leadership with one "
         "heartbeat round, no log entry), lease (the leader answers at once while its lease "
         "holds; needs raft.check_quorum), follower (any node, with a read index from the "
         "leader), stale (any node's store at once: may be old, left out of the linearizability "
         "check), log (through the log like a write), or mix (each get drawn from "
         "[client.read_mix])"),
    TABLE(struct cfg_client, read_mix, read_mix_schema,
          "with read = \"mix\": relative weights of each kind of read"),
};
static const struct cfg_schema client_schema = {client_rows, COUNT(client_rows)};

static const struct cfg_setting raft_rows[] = {
    UINT32(struct cfg_raft, election_timeout_ms_min, 150, 1, 60000,
           "a follower hearing no leader for a random time in [min, max) campaigns"),
    UINT32(struct cfg_raft, election_timeout_ms_max, 300, 1, 60000,
           "upper end of the election timeout; must be above the minimum"),
    UINT32(struct cfg_raft, heartbeat_ms, 50, 1, 60000,
           "a leader sends AppendEntries at least this often; must be below the minimum timeout"),
    UINT32(struct cfg_raft, max_inflight, 1, 1, 64,
           "AppendEntries a leader keeps in flight per follower; 1 batches what arrives meanwhile"),
    UINT32(struct cfg_raft, max_entries_per_append, 64, 1, 4096,
           "most log entries one AppendEntries carries"),
    BOOL(struct cfg_raft, pre_vote, 1,
         "a node asks for a pre-vote before raising its term, so a rejoining node does not "
         "depose a healthy leader (Raft thesis 9.6)"),
    BOOL(struct cfg_raft, check_quorum, 1,
         "a leader that hears from no majority for an election timeout steps down, and "
         "followers ignore votes while they hear from a leader (Raft thesis 6.2)"),
    PROB(struct cfg_raft, clock_drift, 0.1,
         "lease reads: how far apart the nodes' clocks may run, as a fraction (0..1); a "
         "leader's lease lasts election_timeout_ms_min * (1 - clock_drift) from the start of "
         "the last heartbeat round a majority acknowledged (Raft thesis 6.4.1)"),
};
static const struct cfg_schema raft_schema = {raft_rows, COUNT(raft_rows)};

static const struct cfg_setting trace_rows[] = {
    WORD(struct cfg_trace, level, CFG_TRACE_INFO, cfg_level_words,
         "quiet: the summary only; info: every Raft and client event; debug: more; messages: "
         "also every message and node state change (what the timeline draws)"),
    WORD(struct cfg_trace, format, CFG_FORMAT_TEXT, cfg_format_words,
         "text for people, jsonl (one JSON object per line) for programs"),
    WORD(struct cfg_trace, color, CFG_COLOR_AUTO, cfg_color_words,
         "colour per node: auto (when the output is a terminal), always or never"),
};
static const struct cfg_schema trace_schema = {trace_rows, COUNT(trace_rows)};

static const struct cfg_setting network_rows[] = {
    PROB(struct cfg_network, drop, 0.0, "probability that a node-to-node message is lost"),
    {.name = "delay_ms",
     .kind = KIND_RANGE,
     .offset = offsetof(struct cfg_network, delay_ms_min),
     .offset_b = offsetof(struct cfg_network, delay_ms_max),
     .def = 0,
     .min = 0,
     .max = 60000,
     .doc = "[min, max]: each message is delayed by a uniform random time in this range"},
    PROB(struct cfg_network, duplicate, 0.0,
         "probability that a node-to-node message is delivered twice"),
    BOOL(struct cfg_network, reorder, 0,
         "delayed messages may overtake each other; false keeps each link in order"),
};
static const struct cfg_schema network_schema = {network_rows, COUNT(network_rows)};

static const struct cfg_setting disk_rows[] = {
    {.name = "write_ms",
     .kind = KIND_RANGE,
     .offset = offsetof(struct cfg_disk, write_ms_min),
     .offset_b = offsetof(struct cfg_disk, write_ms_max),
     .def = 0,
     .min = 0,
     .max = 60000,
     .doc = "[min, max]: in the simulator, the writes of a node's step become durable (one "
            "fdatasync) after a uniform random time in this range; a crash keeps a random prefix "
            "of each file's writes not yet synced, the rest lost"},
    BOOL(struct cfg_disk, torn_writes, 1,
         "a crash may tear the last unsynced write it keeps (a prefix of its bytes survives)"),
    UINT32(struct cfg_disk, damaged_nodes, 0, 0, CFG_NODES_MAX,
           "the disks of the last this many nodes go bad (bit_flip, misdirect); at most a "
           "minority, (num_nodes - 1) / 2"),
    PROB(struct cfg_disk, bit_flip, 0.0,
         "chance, each time a damaged node restarts, that a bit of its synced files flipped "
         "while it was down: it must refuse to start"),
    PROB(struct cfg_disk, misdirect, 0.0,
         "chance, per log write of a damaged node, that the write lands on its older records "
         "instead: found, and refused, at its next start"),
    PROB(struct cfg_disk, sync_error, 0.0,
         "chance that an fdatasync fails (any node): the node stops at once, never retrying, and "
         "restarts from what its disk kept after 100..1000 ms"),
};
static const struct cfg_schema disk_schema = {disk_rows, COUNT(disk_rows)};

const char *const cfg_storage_kind_words[] = {"memory", "disk", NULL};
static const char *const default_data_dir[] = {"data", NULL};
static const struct cfg_setting storage_rows[] = {
    WORD(struct cfg_storage, kind, CFG_STORAGE_MEMORY, cfg_storage_kind_words,
         "memory: each node's durable state lives in the process (it survives crash faults, not "
         "the end of the run); disk: in files under data_dir, recovered when the node restarts "
         "and when raft_kv runs again (--data-dir DIR sets disk and the directory)"),
    {.name = "data_dir",
     .kind = KIND_PATH,
     .offset = offsetof(struct cfg_storage, data_dir),
     .words = default_data_dir,
     .doc = "with kind = \"disk\": node ID keeps its files in DATA_DIR/nodeID (made if missing)"},
    BOOL(struct cfg_storage, fsync, 1,
         "fdatasync each batch of log writes before it counts as durable (group commit); false "
         "is faster and loses acknowledged writes when the machine crashes"),
    UINT32(struct cfg_storage, segment_bytes, 8u << 20, 1u << 12, 1u << 30,
           "a log segment file is closed and a new one started past this many bytes"),
    UINT32(struct cfg_storage, snapshot_threshold, 10000, 0, 1u << 30,
           "a node snapshots its store once this many entries were applied since its last "
           "snapshot, and compacts its log; 0: never (the log grows without bound)"),
    UINT32(struct cfg_storage, snapshot_trailing, 1000, 0, 1u << 30,
           "entries kept before each snapshot, so a follower a little behind still gets "
           "AppendEntries rather than the whole snapshot"),
    UINT32(struct cfg_storage, snapshot_chunk_bytes, 64u << 10, 1, 4u << 20,
           "bytes of snapshot per InstallSnapshot message"),
};
static const struct cfg_schema storage_schema = {storage_rows, COUNT(storage_rows)};

const struct cfg_setting cfg_fault_rows[] = {
    [CFG_FAULT_ROW_AT_MS] =
        UINT32(struct cfg_fault, at_ms, 0, 0, 86400000,
               "required: when the fault happens, in ms since the start of the run; "
               "entries must be in time order"),
    [CFG_FAULT_ROW_KIND] = WORD(struct cfg_fault, kind, 0, cfg_fault_kind_words,
                                "required: what happens (restart undoes a crash of that node, heal "
                                "undoes every partition, isolate and slow; transfer, add and "
                                "remove ask the leader to change the cluster)"),
    [CFG_FAULT_ROW_NODE] =
        UINT32(struct cfg_fault, node, 0, 1, CFG_NODES_MAX,
               "crash, restart, isolate, slow, transfer (to it), add, remove (required): the "
               "node, 1..max_nodes"),
    [CFG_FAULT_ROW_GROUPS] =
        {.name = "groups",
         .kind = KIND_GROUPS,
         .offset = offsetof(struct cfg_fault, n_groups),
         .offset_b = offsetof(struct cfg_fault, group),
         .doc = "partition (required): arrays of node ids that can talk only among "
                "themselves, e.g. [[1, 2], [3, 4, 5]]; nodes left out form one more "
                "group"},
    [CFG_FAULT_ROW_SLOW_MS] =
        UINT32(struct cfg_fault, slow_ms, CFG_FAULT_SLOW_MS_DEFAULT, 1, 60000,
               "slow (optional, default 100): extra delay on each message to or from the node"),
};
_Static_assert(COUNT(cfg_fault_rows) == CFG_FAULT_ROWS, "a row per fault key");
const struct cfg_schema cfg_fault_schema = {cfg_fault_rows, COUNT(cfg_fault_rows)};

uint32_t cfg_fault_keys_of(enum cfg_fault_kind kind)
{
    switch (kind) {
    case CFG_FAULT_CRASH:
    case CFG_FAULT_RESTART:
    case CFG_FAULT_ISOLATE:
    case CFG_FAULT_TRANSFER:
    case CFG_FAULT_ADD:
    case CFG_FAULT_REMOVE:
        return 1u << CFG_FAULT_ROW_NODE;
    case CFG_FAULT_SLOW:
        return (1u << CFG_FAULT_ROW_NODE) | (1u << CFG_FAULT_ROW_SLOW_MS);
    case CFG_FAULT_PARTITION:
        return 1u << CFG_FAULT_ROW_GROUPS;
    case CFG_FAULT_HEAL:
    case CFG_FAULT_KINDS:
        break;
    }
    return 0;
}

#define ADDRESS(field, text)                                                                       \
    {                                                                                              \
        .name = #field, .kind = KIND_ADDRESS, .offset = offsetof(struct cfg_node, field),          \
        .offset_b = offsetof(struct cfg_node, field##_host),                                       \
        .offset_c = offsetof(struct cfg_node, field##_port), .doc = (text)                         \
    }

const struct cfg_setting cfg_node_rows[] = {
    [CFG_NODE_ROW_ID] = UINT32(struct cfg_node, id, 0, 1, CFG_NODES_MAX,
                               "required: the node's id; n tables have the ids 1..n, each once, "
                               "in any order (raft_kv serve --node ID picks one)"),
    [CFG_NODE_ROW_RAFT] = ADDRESS(raft, "required: host:port where the node takes Raft messages "
                                        "from the other nodes"),
    [CFG_NODE_ROW_HTTP] = ADDRESS(http, "required: host:port of the node's HTTP client API; "
                                        "every raft and http address is different"),
    [CFG_NODE_ROW_DATA_DIR] = {.name = "data_dir",
                               .kind = KIND_PATH,
                               .offset = offsetof(struct cfg_node, data_dir),
                               .doc = "required: the node's own directory for its term, vote, log "
                                      "and snapshots, made if missing"},
    [CFG_NODE_ROW_JOIN] = BOOL(struct cfg_node, join, 0,
                               "optional, default false: true for a node outside the initial "
                               "cluster, which joins when the leader adds it (raft_kv serve "
                               "--join); the tables without join are the initial voters, ids "
                               "1..k, and those with join take the ids above them"),
};
_Static_assert(COUNT(cfg_node_rows) == CFG_NODE_ROWS, "a row per node key");
const struct cfg_schema cfg_node_schema = {cfg_node_rows, COUNT(cfg_node_rows)};
/* The port of an address is written through uint16_t *, its host into CFG_HOST_LEN_MAX + 1 bytes.
 */
_Static_assert(sizeof((struct cfg_node *)0)->raft_host == CFG_HOST_LEN_MAX + 1, "host size");
_Static_assert(sizeof((struct cfg_node *)0)->http_host == CFG_HOST_LEN_MAX + 1, "host size");
_Static_assert(_Generic(((struct cfg_node *)0)->raft_port, uint16_t : 1, default : 0), "port type");
_Static_assert(_Generic(((struct cfg_node *)0)->http_port, uint16_t : 1, default : 0), "port type");

static const struct cfg_setting nemesis_rows[] = {
    UINT32(struct cfg_nemesis, interval_ms, 0, 0, 3600000,
           "a random fault starts or ends about this often, chosen from the seed; 0: no nemesis"),
    {.name = "kinds",
     .kind = KIND_KINDS,
     .offset = offsetof(struct cfg_nemesis, kinds),
     .def = NEMESIS_KINDS,
     .max = NEMESIS_KINDS_ALLOWED,
     .words = cfg_fault_kind_words,
     .doc = "the faults the nemesis picks from (it restarts and heals by itself); transfer, add "
            "and remove change the cluster (nodes up to max_nodes join and leave, always at "
            "least num_nodes voters), only when listed"},
};
static const struct cfg_schema nemesis_schema = {nemesis_rows, COUNT(nemesis_rows)};

static const struct cfg_setting check_rows[] = {
    BOOL(struct cfg_check, invariants, 1,
         "Raft invariant monitors: election safety, log matching, leader completeness, state "
         "machine safety; a violation stops the run"),
    BOOL(struct cfg_check, linearizability, 1,
         "check the client history for linearizability at the end of the run"),
    UINT32(struct cfg_check, converge_ms, 5000, 1, 600000,
           "after the clients finish and every fault is healed, how long the cluster may take "
           "to converge"),
};
static const struct cfg_schema check_schema = {check_rows, COUNT(check_rows)};

static const struct cfg_setting root_rows[] = {
    UINT32(struct cfg, num_nodes, 5, 1, CFG_NODES_MAX, "Raft nodes in the cluster"),
    UINT32(struct cfg, max_nodes, 0, 0, CFG_NODES_MAX,
           "how many node ids a run may use: nodes num_nodes+1..max_nodes start outside the "
           "cluster and join when a fault adds them; 0: num_nodes, else at least num_nodes"),
    UINT32(struct cfg, num_clients, 3, 0, CFG_CLIENTS_MAX, "clients sending requests"),
    {.name = "seed",
     .kind = KIND_SEED,
     .offset = offsetof(struct cfg, seed),
     .offset_b = offsetof(struct cfg, seed_given),
     .min = 0,
     .max = CFG_SEED_MAX,
     .doc =
         "seed of every random choice; unset: a random seed, printed so the run can be repeated"},
    TABLE(struct cfg, client, client_schema, "what the clients do"),
    TABLE(struct cfg, raft, raft_schema, "Raft timing (Raft paper, section 5.2)"),
    TABLE(struct cfg, trace, trace_schema, "what the run prints"),
    TABLE(struct cfg, network, network_schema,
          "the emulated network between nodes; all zero: a perfect network"),
    TABLE(struct cfg, disk, disk_schema,
          "the simulated disk of every node (--simulate and --sweep only): latency and faults"),
    TABLE(struct cfg, storage, storage_schema,
          "where each node keeps its term, vote, log and snapshots (docs/storage.md)"),
    TABLE(struct cfg, nemesis, nemesis_schema, "random faults chosen from the seed"),
    TABLE(struct cfg, check, check_schema, "what the run verifies"),
    {.name = "node",
     .kind = KIND_NODES,
     .offset = offsetof(struct cfg, nodes),
     .offset_b = offsetof(struct cfg, n_nodes),
     .max = CFG_NODES_MAX,
     .sub = &cfg_node_schema,
     .doc = "[[node]]: one node of a networked cluster (raft_kv serve --node ID CONFIG), one table "
            "each; num_nodes becomes the number of tables without join (the initial voters) and "
            "max_nodes the number of tables (file only, not --set)"},
    {.name = "fault",
     .kind = KIND_FAULTS,
     .offset = offsetof(struct cfg, faults),
     .offset_b = offsetof(struct cfg, n_faults),
     .max = CFG_FAULTS_MAX,
     .sub = &cfg_fault_schema,
     .doc = "[[fault]]: a fault on a schedule, one table each, in time order (file only, not "
            "--set)"},
};
const struct cfg_schema cfg_root_schema = {root_rows, COUNT(root_rows)};

/* --- lookups ------------------------------------------------------------------------------ */

const struct cfg_setting *cfg_find_path(const char *path)
{
    const struct cfg_schema *sc = &cfg_root_schema;
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        const struct cfg_setting *row = cfg_find_row(sc, path, len);
        if (row == NULL || dot == NULL)
            return row;
        if (row->kind != KIND_TABLE && !cfg_kind_is_array(row->kind))
            return NULL;
        sc = row->sub;
        path = dot + 1;
    }
}

void cfg_join_words(const char *const *words, uint32_t mask, char *out, size_t out_len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; words[i] != NULL && used < out_len; i++) {
        if (i < 32 && (mask & (1u << i)) == 0)
            continue;
        int w = snprintf(out + used, out_len - used, "%s%s", used ? ", " : "", words[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

bool cfg_word_allowed(const char *path, const char *word, int *index, char *list, size_t list_len)
{
    const struct cfg_setting *row = cfg_find_path(path);
    if (row == NULL || row->kind != KIND_WORD)
        return false;
    for (int i = 0; row->words[i] != NULL; i++) {
        if (strcmp(row->words[i], word) == 0) {
            if (index != NULL)
                *index = i;
            return true;
        }
    }
    if (list != NULL && list_len > 0)
        cfg_join_words(row->words, UINT32_MAX, list, list_len);
    return false;
}
