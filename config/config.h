/* config.h - the typed, validated configuration of raft_kv and its command line.
 *
 * Contract: cfg_load() reads a TOML file (config/toml.h), applies --set overrides on top of it and
 * either fills a struct cfg in which every setting is present, typed and within its documented
 * range, or returns a nonzero cfg_status with one message a person can act on, naming the place
 * and the key ("config.toml:7:13: num_nodes = 0 is out of range (1..255)"). Only the first error
 * is reported. Every setting is described once, in a schema table in config_schema.c (path, type,
 * field, default, range or allowed words, one line of documentation); that table drives the
 * defaults, the type and range checks, the unknown-key check with its "did you mean" suggestion,
 * --print-config and --help-config.
 *
 * Adding a setting = a field here + a row in the schema. Adding a section = a struct here, a
 * schema of its rows and one KIND_TABLE row. New value types are new kinds (one case each in
 * apply_value, set_defaults and print_table): [network] wants a probability (float 0..1), a bool
 * and an integer pair; [[fault]] wants an array of tables whose row points at the element's
 * schema, and since apply_table() takes (schema, struct base) it runs once per element. [[node]]
 * (the networked cluster) is a second array of tables, whose addresses are a kind of their own.
 *
 * The module reads files and formats messages with stdio, and nothing else: no clocks, no
 * threads, no randomness (main picks a random seed when none is given).
 */
#ifndef RAFT_KV_CONFIG_CONFIG_H
#define RAFT_KV_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_VERSION       "0.1.0"
#define CFG_DEFAULT_PATH  "config.toml"
#define CFG_NODES_MAX     255       /* num_nodes is 1..CFG_NODES_MAX: node ids fit in a byte */
#define CFG_CLIENTS_MAX   1000      /* num_clients is 0..CFG_CLIENTS_MAX: one thread per client */
#define CFG_KEYS_MAX      1000      /* client.keys holds 1..CFG_KEYS_MAX keys */
#define CFG_KEY_LEN_MAX   256       /* each key is 1..CFG_KEY_LEN_MAX bytes */
#define CFG_FILE_SIZE_MAX (1 << 24) /* a config file larger than 16 MiB is refused */
#define CFG_PATH_MAX      4000      /* a path setting (storage.data_dir) is 1..CFG_PATH_MAX bytes */
#define CFG_HOST_LEN_MAX  255       /* the host of a "host:port" address is 1..255 bytes */
#define CFG_FAULTS_MAX                                                                             \
    100000 /* at most this many [[fault]] entries (a shrunk sweep seed can need over 10,000) */
#define CFG_SEED_MAX                                                                               \
    INT64_MAX /* seeds are 0..CFG_SEED_MAX (2^63-1) everywhere: `seed = N`                         \
                 is a TOML integer, which is signed 64-bit */

/* Status codes of the cfg_ functions; see cfg_strerror(). */
enum cfg_status {
    CFG_OK = 0,
    CFG_EIO,      /* the config file cannot be opened or read */
    CFG_ESYNTAX,  /* the file or a --set value is not valid TOML */
    CFG_ETYPE,    /* a setting has the wrong TOML type */
    CFG_ERANGE,   /* a value is out of range, not an allowed word, or inconsistent with another */
    CFG_EUNKNOWN, /* a key or table that is not a setting */
    CFG_EUSAGE,   /* a bad command line (exit status 2) */
};

enum cfg_trace_level { CFG_TRACE_QUIET, CFG_TRACE_INFO, CFG_TRACE_DEBUG, CFG_TRACE_MESSAGES };
enum cfg_trace_format { CFG_FORMAT_TEXT, CFG_FORMAT_JSONL };
enum cfg_color { CFG_COLOR_AUTO, CFG_COLOR_ALWAYS, CFG_COLOR_NEVER };

/* A list of distinct, non-empty strings, each a heap copy owned by the list. */
struct cfg_strings {
    char **items;
    size_t len;
};

/* [client] read: how gets are served. The first five have the numbers of kv/kv.h's enum
 * kv_read_policy (scenario/params.c checks it). */
enum cfg_read {
    CFG_READ_LINEARIZABLE, /* ReadIndex at the leader (Raft thesis 6.4) */
    CFG_READ_LEASE,        /* the leader's lease (6.4.1); needs raft.check_quorum */
    CFG_READ_FOLLOWER,     /* any node, with a read index from the leader */
    CFG_READ_STALE,        /* any node's store at once; left out of the linearizability check */
    CFG_READ_LOG,          /* through the log like a write */
    CFG_READ_MIX,          /* each get drawn from [client.read_mix] */
};

/* [client.read_mix]: relative weights of each read policy when read = "mix". */
struct cfg_read_mix {
    uint32_t linearizable, lease, follower, stale, log;
};

/* [client]: what every client does. */
struct cfg_client {
    uint32_t requests;       /* requests per client, 0..1000000 */
    struct cfg_strings keys; /* Invariant: 1..CFG_KEYS_MAX distinct keys, each non-empty */
    uint32_t value_size;     /* bytes of each random value, 1..65536 */
    uint32_t timeout_ms;     /* one request's timeout, 1..3600000 */
    /* Relative weights of put, get and delete; at least one is not 0. */
    uint32_t put_weight, get_weight, delete_weight;
    enum cfg_read read;
    struct cfg_read_mix read_mix; /* read = "mix": at least one is not 0 */
};

/* [raft]: timing of the Raft nodes (Raft paper, section 5.2). */
struct cfg_raft {
    bool pre_vote;     /* Raft thesis 9.6; default true */
    bool check_quorum; /* Raft thesis 6.2; default true */
    /* Invariant: heartbeat_ms < election_timeout_ms_min < election_timeout_ms_max */
    uint32_t election_timeout_ms_min;
    uint32_t election_timeout_ms_max;
    uint32_t heartbeat_ms;
    uint32_t max_inflight;           /* AppendEntries in flight per follower, 1..64 */
    uint32_t max_entries_per_append; /* 1..4096 */
    /* Lease reads: how far apart the nodes' clocks may run, as a fraction; a leader's lease
     * lasts election_timeout_ms_min * (1 - clock_drift) from the start of a heartbeat round a
     * majority acknowledged. 0..1 (1: no lease; lease reads then take a heartbeat round). */
    double clock_drift;
};

/* [trace]: what the run prints. */
struct cfg_trace {
    enum cfg_trace_level level;
    enum cfg_trace_format format;
    enum cfg_color color;
};

/* [network]: the emulated network between nodes (issue 5). All zero: a perfect network. */
struct cfg_network {
    double drop;           /* probability a node-to-node message is lost, 0..1 */
    uint32_t delay_ms_min; /* each message is delayed uniformly in [min, max] ms ... */
    uint32_t delay_ms_max; /* ... (delay_ms = [min, max] in TOML; 0..60000, min <= max) */
    double duplicate;      /* probability a message is delivered twice, 0..1 */
    bool reorder;          /* delayed messages may overtake each other; false keeps each
                              link's order */
};

/* [disk]: how the simulator's disk behaves (the threaded run keeps each node's durable state in
 * memory, where a write is durable at once). */
struct cfg_disk {
    uint32_t write_ms_min;  /* each write becomes durable after a uniform random time ... */
    uint32_t write_ms_max;  /* ... in [min, max] ms: the time a write waits for its fdatasync
                               (write_ms = [min, max]; 0..60000) */
    bool torn_writes;       /* a crash may tear the last unsynced write it keeps */
    uint32_t damaged_nodes; /* the disks of the last this many nodes (a minority) go bad: */
    double bit_flip;        /* chance, at each restart of such a node, that a bit of its synced
                               files flipped while it was down */
    double misdirect;       /* chance, per log write of such a node, that it lands elsewhere */
    double sync_error;      /* chance that an fdatasync fails (any node): the node stops and
                               restarts later from what its disk kept */
};

/* [storage]: where each node keeps its durable state, and its snapshots. */
enum cfg_storage_kind {
    CFG_STORAGE_MEMORY, /* in memory: survives a crash fault, not the end of the process */
    CFG_STORAGE_DISK,   /* files under data_dir/node<ID> (docs/storage.md) */
};

struct cfg_storage {
    enum cfg_storage_kind kind;
    char *data_dir;                /* heap; node ID's files go in data_dir/node<ID> */
    bool fsync;                    /* fdatasync each batch of writes (false: unsafe, faster) */
    uint32_t segment_bytes;        /* a log segment file is closed past this size */
    uint32_t snapshot_threshold;   /* snapshot after this many entries applied since the last;
                                      0: never */
    uint32_t snapshot_trailing;    /* entries kept before a snapshot for slow followers */
    uint32_t snapshot_chunk_bytes; /* InstallSnapshot chunk size */
};

enum cfg_fault_kind {
    CFG_FAULT_CRASH,     /* the node stops; its persistent state survives */
    CFG_FAULT_RESTART,   /* a crashed node comes back from its persistent state */
    CFG_FAULT_PARTITION, /* nodes talk only within their group */
    CFG_FAULT_HEAL,      /* every partition, isolation and slow link is removed */
    CFG_FAULT_ISOLATE,   /* one node is cut off from all others */
    CFG_FAULT_SLOW,      /* one node's links get slow_ms of extra delay */
    CFG_FAULT_TRANSFER,  /* the leader hands leadership to node (Raft thesis 3.10) */
    CFG_FAULT_ADD,       /* the leader adds node, a learner until it has caught up, then a voter
                            (Raft thesis 4.1, 4.2.1) */
    CFG_FAULT_REMOVE,    /* the leader removes node from the cluster (Raft thesis 4.1) */
    CFG_FAULT_KINDS      /* count */
};

/* One [[fault]] entry. */
struct cfg_fault {
    uint32_t at_ms; /* since the start of the run, 0..86400000 */
    enum cfg_fault_kind kind;
    uint32_t node; /* crash, restart, isolate, slow, transfer, add, remove: 1..max_nodes;
                      else 0 */
    /* partition: group[i] is node i+1's group, 1..n_groups; nodes listed in no group share
     * group 0 (they can talk among themselves). Invariant: each node listed at most once, and
     * only nodes 1..max_nodes. */
    uint32_t n_groups;
    uint8_t group[CFG_NODES_MAX];
    uint32_t slow_ms; /* slow: extra delay on every message to or from node, 1..60000 */
};

/* One [[node]] table: a node of a networked cluster (raft_kv serve, the command-line client). An
 * address is "host:port" as cfg_split_address() reads it; it is checked as text and never
 * resolved here (the server resolves it). */
struct cfg_node {
    uint32_t id;    /* 1..CFG_NODES_MAX; the tables' ids are exactly 1..n, in any order */
    char *raft;     /* "host:port" peers connect to (heap) */
    char *http;     /* "host:port" clients connect to (heap) */
    char *data_dir; /* this node's directory (heap), 1..CFG_PATH_MAX bytes */
    bool join;      /* not in the initial configuration: it joins when the leader adds it */
    /* raft split: the host without brackets ("::1" of "[::1]:7001"), and the port */
    char raft_host[CFG_HOST_LEN_MAX + 1];
    uint16_t raft_port;
    /* http split the same way */
    char http_host[CFG_HOST_LEN_MAX + 1];
    uint16_t http_port;
};

/* [nemesis]: random faults chosen from the run's seed (issue 5). */
struct cfg_nemesis {
    uint32_t interval_ms; /* a fault starts or ends about this often; 0 = no nemesis */
    uint32_t kinds;       /* bit (1u << cfg_fault_kind) for each kind it may choose: crash,
                             partition, isolate, slow (their ends are chosen too), transfer, add
                             and remove (default: the first four) */
};

/* [check]: what the run verifies as it goes. */
struct cfg_check {
    bool invariants;      /* Raft invariant monitors (election safety, log matching, leader
                             completeness, state machine safety); default true */
    bool linearizability; /* check the client history at the end (needs --history or keeps an
                             in-memory one); default true */
    uint32_t converge_ms; /* after the clients finish and faults are healed, how long the
                             cluster may take to converge, 1..600000; default 5000 */
};

struct cfg {
    uint32_t num_nodes; /* 1..CFG_NODES_MAX: the voters the cluster starts with */
    /* The node ids a run may use, 1..max_nodes: nodes num_nodes+1..max_nodes start outside the
     * cluster and join when a fault adds them. Invariant after cfg_load: num_nodes <= max_nodes
     * <= CFG_NODES_MAX (a file's 0, the default, becomes num_nodes). A cfg built by hand may
     * leave it 0: read it with cfg_max_nodes(). */
    uint32_t max_nodes;
    uint32_t num_clients; /* 0..CFG_CLIENTS_MAX */
    uint64_t seed;        /* meaningful only if seed_given */
    bool seed_given;      /* from the file, --set seed=N or --seed N */
    struct cfg_client client;
    struct cfg_raft raft;
    struct cfg_trace trace;
    struct cfg_network network;
    struct cfg_disk disk;
    struct cfg_storage storage;
    struct cfg_fault *faults; /* [[fault]] entries in file order (heap), n_faults of them */
    size_t n_faults;
    struct cfg_nemesis nemesis;
    struct cfg_check check;
    /* [[node]] tables (heap), sorted by id: nodes[i].id == i + 1. n_nodes is 0 when the file
     * lists none; otherwise num_nodes is the number of tables without join (the initial voters,
     * ids 1..num_nodes: the joining tables have the ids above) and max_nodes == n_nodes.
     * Invariant: no address appears twice among the raft and http addresses of all nodes, and
     * no two data_dirs are the same. */
    struct cfg_node *nodes;
    size_t n_nodes;
    char *history_path; /* --history FILE (heap copy), or NULL */
    char *path;         /* the config file that was read (heap copy), or NULL */
};

/* The node ids cfg's run may use, 1..cfg_max_nodes(cfg): max_nodes, or num_nodes where it is
 * below (a cfg filled by hand rather than loaded may leave max_nodes 0). */
static inline uint32_t cfg_max_nodes(const struct cfg *cfg)
{
    return cfg->max_nodes > cfg->num_nodes ? cfg->max_nodes : cfg->num_nodes;
}

/* One message, complete and ready to print after "raft_kv: ". */
struct cfg_error {
    char msg[768];
};

/* One override in TOML syntax, such as "raft.heartbeat_ms=20" (the text of --set KEY=VALUE).
 * origin names it in messages, e.g. "--set 'raft.heartbeat_ms=20'". Both are borrowed. */
struct cfg_override {
    const char *origin;
    const char *toml;
};

/* Fills cfg with every default (allocates the default keys). Release with cfg_close(). */
void cfg_init(struct cfg *cfg);

/* Frees what cfg owns and zeroes it; safe on a zeroed or already closed cfg. */
void cfg_close(struct cfg *cfg);

/* Reads the TOML file at path, then applies overrides[0..n) in order (later ones win), then
 * checks the settings against each other. On success cfg (uninitialised on entry) holds the
 * result and the caller must cfg_close() it. On error returns a cfg_status other than
 * CFG_EUSAGE with err filled; cfg is left zeroed and owns nothing. */
int cfg_load(struct cfg *cfg, const char *path, const struct cfg_override *overrides, size_t n,
             struct cfg_error *err);

/* The same for len bytes of TOML at buf; name stands for the file in messages. */
int cfg_load_buffer(struct cfg *cfg, const char *buf, size_t len, const char *name,
                    const struct cfg_override *overrides, size_t n, struct cfg_error *err);

/* Writes cfg as a TOML document that cfg_load() reads back to an equal cfg (the history path,
 * a command-line matter, is written as a comment, escaped as in cfg_print_summary). With docs, each
 * setting is preceded by its documentation, type, range and default. */
void cfg_print(FILE *out, const struct cfg *cfg, bool docs);

/* Writes a two-line human summary of cfg (sizes, timing, trace, history; a third line for the
 * network and faults when they are not the defaults). Keys and file names are escaped as in the
 * trace's text form (runtime/trace.h), so a control character never splits a line. */
void cfg_print_summary(FILE *out, const struct cfg *cfg);

/* The words of an enumerated setting ("trace.format"): true and *index set if word is one of
 * them. If not, and list is not NULL, writes the allowed words ("text, jsonl") to list. */
bool cfg_word_allowed(const char *path, const char *word, int *index, char *list, size_t list_len);

/* Splits addr, "host:port", into host (NUL-terminated, host_len bytes at most with the NUL) and
 * *port. host is a name or IPv4 address of letters, digits, '-', '.' and '_', or an IPv6 address
 * in brackets ("[::1]:7001", stored without them; an optional "%zone" suffix inside); 1..255
 * bytes. port is decimal 1..65535 without sign or leading zero. Nothing is resolved. Returns 0,
 * or -1 (host and *port untouched) when addr is not of that form or host does not fit host_len. */
int cfg_split_address(const char *addr, char *host, size_t host_len, uint16_t *port);

/* "ok", "cannot read the configuration", ... */
const char *cfg_strerror(int status);

/* --- command line (config/cli.c) ---------------------------------------------------------- */

enum cfg_action {
    CFG_ACTION_RUN,           /* load the config and run */
    CFG_ACTION_HELP,          /* --help: print usage, exit 0 */
    CFG_ACTION_VERSION,       /* --version: print "raft_kv 0.1.0", exit 0 */
    CFG_ACTION_PRINT_CONFIG,  /* --print-config: load, print the effective config, exit 0 */
    CFG_ACTION_HELP_CONFIG,   /* --help-config: print every setting documented, exit 0 */
    CFG_ACTION_CHECK_HISTORY, /* --check-history FILE: check a history, print the verdict */
    CFG_ACTION_SIMULATE,      /* --simulate: run the config in the deterministic simulator */
    CFG_ACTION_SWEEP,         /* --sweep N: simulate N seeds from --seed, configs drawn per seed */
};

/* The parsed command line. Strings point into argv unless stated. */
struct cfg_cli {
    enum cfg_action action;
    const char *config_path;        /* the CONFIG argument, or CFG_DEFAULT_PATH; NULL for
                                       --sweep, which reads no file */
    struct cfg_override *overrides; /* --set and the setting flags in command-line order; owned */
    size_t num_overrides;
    bool seed_given; /* --seed N (0..CFG_SEED_MAX): overrides any seed in the file or --set */
    uint64_t seed;
    const char *history_path;       /* --history FILE, or NULL */
    const char *check_history_path; /* --check-history FILE, or NULL */
    const char *timeline_path;      /* --timeline FILE (HTML), or NULL */
    const char *perfetto_path;      /* --perfetto FILE (Chrome trace events), or NULL */
    bool data_dir_given;            /* --data-dir DIR (an override of storage.*) */
    uint64_t sweep_seeds;           /* --sweep N: N >= 1 */
};

/* Parses argv[1..argc). Returns 0, or CFG_EUSAGE with err naming the bad argument ("unknown
 * option '--sed'"). Values of --set are only split at the first '='; they are checked by
 * cfg_load_cli. At most one action is allowed, and an option the action would not read is
 * refused, naming both ("--check-history cannot be combined with --seed: ..."): --check-history
 * and --help-config take nothing else; --sweep takes no CONFIG and no setting but seed and
 * trace.*, and with N > 1 no trace setting and no --history. --help and --version win over
 * every option after them and every conflict. The caller must cfg_cli_close() in both cases. */
int cfg_cli_parse(struct cfg_cli *cli, int argc, char *const argv[], struct cfg_error *err);

/* Frees what cli owns (it borrows argv, which must outlive it). */
void cfg_cli_close(struct cfg_cli *cli);

/* cfg_load() of cli's config file and overrides (without a file, config_path NULL: the
 * defaults and the overrides), then --seed and --history. Same contract, and one more error:
 * CFG_EUSAGE if --sweep N from the final seed S would pass CFG_SEED_MAX (S + N - 1). */
int cfg_load_cli(struct cfg *cfg, const struct cfg_cli *cli, struct cfg_error *err);

/* Writes the usage message, generated from the option table. */
void cfg_usage(FILE *out);

#endif
