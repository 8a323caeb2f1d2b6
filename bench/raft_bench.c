/* raft_bench.c - the replicated store under closed-loop load: a 5-node cluster, trace off, and
 * 1, 16 and 64 clients that each send their next request as soon as the last is answered, first
 * with memory storage, then with disk storage and fsync on, in a fresh temporary directory.
 * Reports committed ops/s (answered by the leader after commit and apply) and client latency
 * p50/p99 per client count; for disk also syncs per committed op (group commit) and, measured
 * in the same directory, the raw cost of one 4 KiB append + fdatasync. Clients are plain threads
 * calling the leader, so the figures are the cluster's, not the client logic's.
 *
 * Then the read-heavy phase, memory storage, 64 clients: 90% gets of keys that exist and 10%
 * writes (through the log, at the leader), once per read policy: through the log (the path before
 * ReadIndex, the reference), ReadIndex, lease, follower reads (each client's gets at one of the
 * followers, asked again at the leader when it answers NOT_LEADER); ops/s, and p50/p99 of the
 * gets and of the writes apart, per policy. Its clients are 64 logical clients of one load
 * generator actor with asynchronous calls (struct load), not 64 threads.
 *
 * Usage: raft_bench [OPS [NODES [DISK_OPS [READ_OPS]]]]   (defaults 200000 operations per client
 * count for memory, 5 nodes, 100000 for disk, one client doing a tenth; 200000 per read policy).
 * OPS 0 skips the memory runs, DISK_OPS 0 the disk runs, READ_OPS 0 the read-heavy phase.
 * The temporary directory is made in $RAFT_BENCH_TMPDIR, else $TMPDIR, else /tmp, and removed on
 * every exit (SIGINT, SIGTERM and SIGHUP included) but a node's fatal storage error, which ends
 * the process at once (bench/run.sh removes its RAFT_BENCH_TMPDIR then). RAFT_BENCH_MONITOR=1
 * runs with the invariant monitor on; RAFT_BENCH_CLIENTS=N runs only the N-client measurements.
 */
#define _DEFAULT_SOURCE /* mkdtemp, getmntent */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <mntent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "common/alloc.h"
#include "kv/kv.h"
#include "runtime/counters.h"
#include "runtime/trace.h"

/* One request: cmd sent to node as a call (a get read as `read` says), waiting up to 10 s. The
 * reply's status (enum client_reply_status), or -1 when the call itself failed (timed out, node
 * stopped). On OK, *kv (if not NULL) is the result's status (a get: KV_OK when found). */
static int call_node(struct actor *node, const struct kv_command *cmd, enum kv_read_policy read,
                     enum kv_status *kv)
{
    uint8_t buf[128];
    size_t len;
    if (kv_command_encode(cmd, buf, sizeof buf, &len) != 0)
        abort();
    struct actor_msg *reply = NULL;
    if (actor_call(node, node_request_new(buf, (uint32_t)len, read), 10000, &reply) != ACTOR_OK) {
        actor_msg_free(reply);
        return -1;
    }
    const struct node_reply *r = (const struct node_reply *)reply;
    int status = (int)r->status;
    struct kv_result res;
    if (kv != NULL && status == CLIENT_REPLY_OK)
        *kv = kv_result_decode(r->data, r->len, &res) == 0 ? res.status : KV_NOT_FOUND;
    actor_msg_free(reply);
    return status;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* --- the temporary directory ---------------------------------------------------------------- */

/* "" if none; made before the signal thread starts, emptied once removed. */
static char bench_dir[PATH_MAX];

/* Removes path and everything under it (files, directories; symlinks are not followed). 0, or
 * -1 with errno. */
static int remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode))
        return unlink(path);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[PATH_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= sizeof sub) {
            errno = ENAMETOOLONG;
            rc = -1;
            continue;
        }
        if (remove_tree(sub) != 0)
            rc = -1;
    }
    closedir(d);
    return rmdir(path) == 0 ? rc : -1;
}

/* Removes the bench directory, if made; says so when it cannot. */
static void remove_bench_dir(void)
{
    if (bench_dir[0] == '\0')
        return;
    /* A node may still be creating a file while a signal ends the run: try again. */
    for (int attempt = 0; attempt < 5; attempt++)
        if (remove_tree(bench_dir) == 0) {
            bench_dir[0] = '\0';
            return;
        }
    fprintf(stderr, "raft_bench: cannot remove %s: %s\n", bench_dir, strerror(errno));
}

/* The thread that waits for SIGINT, SIGTERM or SIGHUP (blocked in every other thread), removes
 * the directory and ends the process by the signal. */
static void *signal_thread(void *arg)
{
    sigset_t *set = arg;
    int sig = 0;
    if (sigwait(set, &sig) != 0)
        return NULL;
    fprintf(stderr, "raft_bench: stopped by signal %d; removing %s\n", sig, bench_dir);
    remove_bench_dir();
    /* Die of the signal itself, so that a shell running this stops too. */
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    _exit(128 + sig);
}

/* Makes the bench directory (mkdtemp) in $RAFT_BENCH_TMPDIR, $TMPDIR or /tmp. 0, or -1. */
static int make_bench_dir(void)
{
    const char *parent = getenv("RAFT_BENCH_TMPDIR");
    if (parent == NULL || parent[0] == '\0')
        parent = getenv("TMPDIR");
    if (parent == NULL || parent[0] == '\0')
        parent = "/tmp";
    char templ[PATH_MAX];
    if ((size_t)snprintf(templ, sizeof templ, "%s/raft_bench.XXXXXX", parent) >= sizeof templ) {
        fprintf(stderr, "raft_bench: %s: path too long\n", parent);
        return -1;
    }
    if (mkdtemp(templ) == NULL) {
        fprintf(stderr, "raft_bench: cannot make a directory in %s: %s\n", parent, strerror(errno));
        return -1;
    }
    memcpy(bench_dir, templ, sizeof templ);
    return 0;
}

/* The type of the filesystem holding path, from the mount table (the longest mount point that
 * contains it), or "unknown". */
static void filesystem_type(const char *path, char *out, size_t len)
{
    snprintf(out, len, "unknown");
    char real[PATH_MAX];
    if (realpath(path, real) == NULL)
        return;
    FILE *f = setmntent("/proc/self/mounts", "r");
    if (f == NULL)
        return;
    size_t best = 0;
    struct mntent *m;
    while ((m = getmntent(f)) != NULL) {
        size_t n = strlen(m->mnt_dir);
        bool inside = strncmp(real, m->mnt_dir, n) == 0 &&
                      (real[n] == '/' || real[n] == '\0' || strcmp(m->mnt_dir, "/") == 0);
        if (inside && n >= best) { /* >=: the last of two mounts on one point is the one seen */
            best = n;
            snprintf(out, len, "%s (%s)", m->mnt_type, m->mnt_fsname);
        }
    }
    endmntent(f);
}

/* The raw cost of durability in dir: n appends of 4 KiB to a new file, each followed by
 * fdatasync, timed one by one. Prints p50 and p99 in µs. 0, or -1. */
static int fdatasync_probe(const char *dir, uint32_t n)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/fdatasync-probe", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0600);
    if (fd < 0) {
        fprintf(stderr, "raft_bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    static uint8_t block[4096];
    memset(block, 0x5a, sizeof block);
    uint64_t *ns = xcalloc(n, sizeof *ns);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        uint64_t t0 = actor_now_ns();
        if (write(fd, block, sizeof block) != (ssize_t)sizeof block || fdatasync(fd) != 0) {
            fprintf(stderr, "raft_bench: %s: %s\n", path, strerror(errno));
            rc = -1;
        }
        ns[i] = actor_now_ns() - t0;
    }
    close(fd);
    unlink(path);
    if (rc == 0) {
        qsort(ns, n, sizeof *ns, cmp_u64);
        printf("fdatasync_4k_p50_us %.1f\n", (double)ns[n / 2] / 1e3);
        printf("fdatasync_4k_p99_us %.1f\n", (double)ns[(uint64_t)n * 99 / 100] / 1e3);
        printf("fdatasync_4k_max_us %.1f\n", (double)ns[n - 1] / 1e3);
        fflush(stdout);
    }
    free(ns);
    return rc;
}

/* --- one measurement ------------------------------------------------------------------------ */

/* Counters summed over the running nodes, and the leader's own: the persist counters (disk
 * storage) and the messages sent. */
struct node_counts {
    uint64_t writes, syncs, leader_syncs;
    uint64_t msgs, leader_msgs;
};

static struct node_counts node_counters(struct cluster *c)
{
    struct node_counts k = {0};
    for (uint32_t i = 0; i < c->n_nodes; i++) {
        struct node_status s;
        if (c->nodes[i] != NULL && node_get_status(c->nodes[i], 5000, &s) == ACTOR_OK) {
            k.writes += s.persist_writes;
            k.syncs += s.persist_syncs;
            k.msgs += s.msgs_sent;
            if (i + 1 == c->leader) {
                k.leader_syncs = s.persist_syncs;
                k.leader_msgs = s.msgs_sent;
            }
        }
    }
    return k;
}

/* Starts a cluster of `nodes` for a measurement (seed 1, no clients of its own, the monitor
 * only with RAFT_BENCH_MONITOR), with memory storage (data_dir NULL) or disk storage in data_dir
 * (fresh; fsync on). 0 with *c running (cluster_stop, cluster_close, then cfg_close(cfg)), or -1
 * with nothing left to release. */
static int bench_cluster_start(struct cluster *c, struct cfg *cfg, uint32_t nodes,
                               const char *data_dir)
{
    cfg_init(cfg);
    cfg->num_nodes = nodes;
    cfg->num_clients = 0;
    cfg->seed = 1;
    cfg->seed_given = true;
    /* Like the trace, the invariant monitor is a checking aid, not the store: it is measured
     * apart (RAFT_BENCH_MONITOR=1 turns it on). */
    cfg->check.invariants = getenv("RAFT_BENCH_MONITOR") != NULL;
    if (data_dir != NULL) {
        cfg->storage.kind = CFG_STORAGE_DISK;
        free(cfg->storage.data_dir);
        cfg->storage.data_dir = xstrdup(data_dir);
        cfg->storage.fsync = true;
    }
    char err[256];
    if (cluster_start(c, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "raft_bench: %s\n", err);
        cfg_close(cfg);
        return -1;
    }
    return 0;
}

/* Sorts the n latencies at ns and prints "<name>_p50_us" and "<name>_p99_us" (0 when n is 0). */
static void print_percentiles(const char *name, uint64_t *ns, uint64_t n)
{
    qsort(ns, n, sizeof *ns, cmp_u64);
    printf("%s_p50_us %.1f\n", name, n > 0 ? (double)ns[n / 2] / 1e3 : 0.0);
    printf("%s_p99_us %.1f\n", name, n > 0 ? (double)ns[n * 99 / 100] / 1e3 : 0.0);
}

/* --- the load generator ------------------------------------------------------------------- */

static double tv_us(const struct timeval *tv)
{
    return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

/* Keys every read-heavy get reads: put before the clients start, never deleted, so every get
 * finds one. */
enum { READ_KEYS = 256 };
/* Read-heavy: every READ_WRITE_EVERY-th operation of a client is a write (10%), the rest gets. */
enum { READ_WRITE_EVERY = 10 };

enum workload {
    /* Each client cycles over its own 16 keys: put, get, delete, put, ... (a third of each; the
     * gets read as the run's policy). Every operation succeeds. */
    WORKLOAD_MIXED,
    /* 90% gets of READ_KEYS shared keys (read as the run's policy; follower reads at a
     * follower), 10% writes of the client's own keys. */
    WORKLOAD_READ90,
};

/* The clients are logical clients of one load-generator actor (as wrk keeps many connections
 * on a few threads): each has one request in flight, sent with actor_call_async, and sends its
 * next when the answer comes back. A thread blocked per client would make every request cost a
 * thread wake-up and a context switch, more than the store's own work for an operation: the
 * figures would be the scheduler's. A client's request and its answer are two mailbox messages. */
struct load_client {
    struct actor *reader; /* where its gets go: the leader, or a follower for follower reads */
    uint32_t id, done;    /* operations completed */
    uint64_t t0;          /* when the operation in flight was first sent */
    bool write;           /* the operation in flight is a write (put, delete) */
    bool redirected;      /* ...a get a follower refused, now asked at the leader */
};

struct load {
    struct actor *self, *leader;
    enum workload workload;
    enum kv_read_policy policy;
    uint32_t clients, per;
    struct load_client *c;
    uint64_t *get_ns, *write_ns; /* latencies */
    uint64_t n_gets, n_writes;
    uint32_t failed;    /* answered otherwise than OK (after a redirect, for a get) */
    uint32_t redirects; /* gets a follower answered NOT_LEADER, asked again at the leader */
    uint32_t missing;   /* read-heavy gets that did not find their key */
    uint32_t finished;  /* clients done */
    uint64_t start_ns, end_ns;
    struct actor_call *waiter; /* the LOAD_MSG_RUN call, answered when every client is done */
    /* The keys, written once before the run (a snprintf per operation was a tenth of the
     * process's CPU time at 64 clients): client c's own keys at own[c * 16 ..], and the shared
     * read-heavy keys. */
    char (*own)[16];
    char (*shared)[16];
};

enum { LOAD_MSG_RUN = 0x5200 }; /* call: start every client; answered when all are done */

/* Writes the keys of a run: "k<client>-<j>" (mixed) or "w<client>-<j>" (read-heavy writes) for
 * each client's 16, and "r<k>" for the READ_KEYS shared ones. */
static void load_keys(struct load *l)
{
    l->own = xcalloc((size_t)l->clients * 16, sizeof *l->own);
    l->shared = xcalloc(READ_KEYS, sizeof *l->shared);
    for (uint32_t c = 0; c < l->clients; c++)
        for (uint32_t j = 0; j < 16; j++)
            snprintf(l->own[c * 16 + j], sizeof l->own[0], "%c%u-%u",
                     l->workload == WORKLOAD_MIXED ? 'k' : 'w', c + 1, j);
    for (uint32_t k = 0; k < READ_KEYS; k++)
        snprintf(l->shared[k], sizeof l->shared[0], "r%u", k);
}

/* The next operation of client c as a command, and whether it is a write. */
static bool load_command(const struct load *l, const struct load_client *c, struct kv_command *cmd)
{
    uint32_t i = c->done;
    const char *key;
    *cmd = (struct kv_command){.op = KV_OP_GET, .client_id = c->id, .seq = (uint64_t)i + 1};
    if (l->workload == WORKLOAD_MIXED) {
        static const enum kv_op ops[] = {KV_OP_PUT, KV_OP_GET, KV_OP_DELETE};
        cmd->op = ops[(i / 16) % 3];
        key = l->own[(c->id - 1) * 16 + i % 16];
    } else if (i % READ_WRITE_EVERY == READ_WRITE_EVERY - 1) {
        uint32_t w = i / READ_WRITE_EVERY;
        cmd->op = w % 2 == 0 ? KV_OP_PUT : KV_OP_DELETE;
        key = l->own[(c->id - 1) * 16 + (w / 2) % 16];
    } else {
        key = l->shared[(c->id * 37 + i) % READ_KEYS];
    }
    if (cmd->op == KV_OP_PUT) {
        cmd->value = (const uint8_t *)"value-01";
        cmd->value_len = 8;
    }
    cmd->key = (const uint8_t *)key;
    cmd->key_len = (uint32_t)strlen(key);
    return cmd->op != KV_OP_GET;
}

/* Sends client ci's operation in flight to `to`: writes through the log, gets as l->policy. */
static void load_send(struct load *l, uint32_t ci, struct actor *to)
{
    struct load_client *c = &l->c[ci];
    struct kv_command cmd;
    load_command(l, c, &cmd);
    uint8_t buf[128];
    size_t len;
    if (kv_command_encode(&cmd, buf, sizeof buf, &len) != 0)
        abort();
    enum kv_read_policy read = c->write ? KV_READ_LOG : l->policy;
    actor_call_async(to, node_request_new(buf, (uint32_t)len, read), l->self, ci);
}

static void load_next(struct load *l, uint32_t ci)
{
    struct load_client *c = &l->c[ci];
    if (c->done == l->per) {
        if (++l->finished == l->clients) {
            l->end_ns = actor_now_ns();
            actor_reply_call(l->self, l->waiter, actor_msg_new(sizeof(struct actor_msg), 0));
            l->waiter = NULL;
        }
        return;
    }
    struct kv_command cmd;
    c->write = load_command(l, c, &cmd);
    c->redirected = false;
    c->t0 = actor_now_ns();
    load_send(l, ci, c->write ? l->leader : c->reader);
}

static void load_answer(struct load *l, struct actor_answer *a)
{
    uint32_t ci = (uint32_t)a->tag;
    struct load_client *c = &l->c[ci];
    int status = -1;
    enum kv_status kv = KV_NOT_FOUND;
    if (a->status == ACTOR_OK) {
        const struct node_reply *r = (const struct node_reply *)a->reply;
        struct kv_result res;
        status = (int)r->status;
        if (status == CLIENT_REPLY_OK && kv_result_decode(r->data, r->len, &res) == 0)
            kv = res.status;
    }
    if (!c->write && status == CLIENT_REPLY_NOT_LEADER && !c->redirected &&
        c->reader != l->leader) {
        l->redirects++;
        c->redirected = true;
        load_send(l, ci, l->leader);
        return;
    }
    uint64_t ns = actor_now_ns() - c->t0;
    if (c->write)
        l->write_ns[l->n_writes++] = ns;
    else
        l->get_ns[l->n_gets++] = ns;
    if (status != CLIENT_REPLY_OK)
        l->failed++;
    else if (l->workload == WORKLOAD_READ90 && !c->write && kv != KV_OK)
        l->missing++;
    c->done++;
    load_next(l, ci);
}

static enum actor_next load_handle(struct actor *self, void *state, struct actor_msg *m)
{
    struct load *l = state;
    if (m->type == ACTOR_MSG_ANSWER) {
        load_answer(l, (struct actor_answer *)m);
    } else if (m->type == LOAD_MSG_RUN) {
        l->self = self;
        l->waiter = actor_defer(self, m);
        l->start_ns = actor_now_ns();
        for (uint32_t i = 0; i < l->clients; i++)
            load_next(l, i);
    }
    actor_msg_free(m);
    return ACTOR_CONTINUE;
}

/* Puts the READ_KEYS shared keys through the leader, then waits until every node has applied
 * them. 0, or -1. */
static int read_prefill(struct cluster *c)
{
    struct actor *leader = c->nodes[c->leader - 1];
    char key[32], value[32];
    for (uint32_t k = 0; k < READ_KEYS; k++) {
        snprintf(key, sizeof key, "r%u", k);
        snprintf(value, sizeof value, "value-%04u", k);
        struct kv_command cmd = {.op = KV_OP_PUT,
                                 .key = (const uint8_t *)key,
                                 .key_len = (uint32_t)strlen(key),
                                 .value = (const uint8_t *)value,
                                 .value_len = (uint32_t)strlen(value)};
        enum kv_status kv = KV_EXISTS;
        if (call_node(leader, &cmd, KV_READ_LOG, &kv) != CLIENT_REPLY_OK || kv != KV_OK) {
            fprintf(stderr, "raft_bench: prefill: put %s failed\n", key);
            return -1;
        }
    }
    struct node_status st;
    if (node_get_status(leader, 5000, &st) != ACTOR_OK)
        return -1;
    for (uint32_t i = 0; i < c->n_nodes; i++) {
        struct node_status s;
        if (node_await_applied(c->nodes[i], st.commit_index, 10000, &s) != ACTOR_OK) {
            fprintf(stderr, "raft_bench: prefill: node %u did not apply it\n", i + 1);
            return -1;
        }
    }
    return 0;
}

/* Prints the work per operation: the process's CPU time (user + system, every thread, from
 * getrusage), the runtime's mailbox messages, wake-ups of a sleeping thread, sleeps and
 * allocations (runtime/counters.h), messages between nodes (all nodes, then the leader's),
 * context switches (voluntary: a thread parked; involuntary: preempted) and log entries. */
static void print_work(const char *name, double ops, const struct rusage *ru0,
                       const struct rusage *ru1, const struct rt_counts *rt,
                       const struct node_counts *nodes, uint64_t entries)
{
    printf("%s_cpu_us_per_op %.2f\n", name,
           (tv_us(&ru1->ru_utime) - tv_us(&ru0->ru_utime) + tv_us(&ru1->ru_stime) -
            tv_us(&ru0->ru_stime)) /
               ops);
    printf("%s_mbox_msgs_per_op %.3f\n", name, (double)rt->msgs / ops);
    printf("%s_wakeups_per_op %.3f\n", name, (double)rt->wakeups / ops);
    printf("%s_sleeps_per_op %.3f\n", name, (double)rt->sleeps / ops);
    printf("%s_allocs_per_op %.2f\n", name, (double)rt->allocs / ops);
    printf("%s_msgs_per_op %.3f\n", name, (double)nodes->msgs / ops);
    printf("%s_leader_msgs_per_op %.3f\n", name, (double)nodes->leader_msgs / ops);
    printf("%s_vcsw_per_op %.3f\n", name, (double)(ru1->ru_nvcsw - ru0->ru_nvcsw) / ops);
    printf("%s_ivcsw_per_op %.3f\n", name, (double)(ru1->ru_nivcsw - ru0->ru_nivcsw) / ops);
    printf("%s_entries_per_op %.3f\n", name, (double)entries / ops);
}

/* One measurement on a fresh cluster, memory storage (data_dir NULL) or disk storage in
 * data_dir (fresh; fsync on): `clients` clients doing total_ops operations between them, the
 * workload with its gets read as `policy` (follower reads: client i sends its gets to the
 * (i mod nodes-1)-th node that is not the leader). Prints "<name>_ops_per_s", p50/p99 of all
 * operations ("<name>_p50_us"), of the gets and of the writes apart ("<name>_get_p50_us",
 * "<name>_write_p99_us"), the work per operation and, on disk, the syncs per operation.
 * Returns 0, or -1 (a failed request included). */
static int run_load(uint32_t nodes, uint32_t clients, uint32_t total_ops, enum workload workload,
                    enum kv_read_policy policy, const char *name, const char *data_dir)
{
    struct cfg cfg;
    struct cluster c;
    if (bench_cluster_start(&c, &cfg, nodes, data_dir) != 0)
        return -1;
    if (workload == WORKLOAD_READ90 && read_prefill(&c) != 0) {
        cluster_stop(&c);
        cluster_close(&c);
        cfg_close(&cfg);
        return -1;
    }
    struct actor *leader = c.nodes[c.leader - 1];
    struct actor *followers[256];
    uint32_t n_followers = 0;
    for (uint32_t i = 0; i < nodes; i++)
        if (i + 1 != c.leader)
            followers[n_followers++] = c.nodes[i];
    struct node_status st0 = {0}, st1 = {0};
    node_get_status(leader, 5000, &st0);
    struct node_counts before = node_counters(&c);
    uint32_t per = total_ops / clients;
    struct load l = {
        .leader = leader,
        .workload = workload,
        .policy = policy,
        .clients = clients,
        .per = per,
        .c = xcalloc(clients, sizeof *l.c),
        .get_ns = xcalloc((size_t)per * clients, sizeof(uint64_t)),
        .write_ns = xcalloc((size_t)per * clients, sizeof(uint64_t)),
    };
    load_keys(&l);
    for (uint32_t i = 0; i < clients; i++)
        l.c[i] = (struct load_client){
            .reader =
                policy == KV_READ_FOLLOWER && n_followers > 0 ? followers[i % n_followers] : leader,
            .id = i + 1,
        };
    struct actor *gen;
    struct actor_spec spec = {.name = "load", .handler = load_handle, .state = &l};
    if (actor_spawn(&spec, &gen) != ACTOR_OK)
        abort();
    struct rusage ru0, ru1;
    struct rt_counts rt0, rt1;
    getrusage(RUSAGE_SELF, &ru0);
    rt_counts_read(&rt0);
    struct actor_msg *done = NULL;
    int run_rc =
        actor_call(gen, actor_msg_new(sizeof(struct actor_msg), LOAD_MSG_RUN), 600000, &done);
    /* The run's own call and its answer are counted too: two messages in the whole run. */
    rt_counts_read(&rt1);
    getrusage(RUSAGE_SELF, &ru1);
    actor_msg_free(done);
    actor_stop(gen);
    actor_join(gen);
    actor_unref(gen);
    double wall_s = (double)(l.end_ns - l.start_ns) / 1e9;
    struct node_counts after = node_counters(&c);
    node_get_status(leader, 5000, &st1);
    cluster_stop(&c);
    cluster_close(&c);
    if (run_rc != ACTOR_OK) {
        fprintf(stderr, "raft_bench: %s: the load did not finish: %s\n", name,
                actor_strerror(run_rc));
        wall_s = 1;
        l.failed = l.clients * per;
    }
    uint64_t n = (uint64_t)per * clients;
    double d = (double)(n > 0 ? n : 1);
    printf("%s_ops_per_s %.0f\n", name, (double)(n - l.failed) / wall_s);
    uint64_t *all = xcalloc(n > 0 ? n : 1, sizeof *all);
    memcpy(all, l.get_ns, l.n_gets * sizeof *all);
    memcpy(all + l.n_gets, l.write_ns, l.n_writes * sizeof *all);
    print_percentiles(name, all, l.n_gets + l.n_writes);
    free(all);
    char kind[96];
    snprintf(kind, sizeof kind, "%s_get", name);
    print_percentiles(kind, l.get_ns, l.n_gets);
    snprintf(kind, sizeof kind, "%s_write", name);
    print_percentiles(kind, l.write_ns, l.n_writes);
    printf("%s_failed %u\n", name, l.failed);
    if (policy == KV_READ_FOLLOWER)
        printf("%s_redirects %u\n", name, l.redirects);
    if (workload == WORKLOAD_READ90)
        printf("%s_get_missing %u\n", name, l.missing);
    struct rt_counts rt = rt_counts_diff(&rt1, &rt0);
    struct node_counts k = {.msgs = after.msgs - before.msgs,
                            .leader_msgs = after.leader_msgs - before.leader_msgs};
    print_work(name, d, &ru0, &ru1, &rt, &k, st1.last_index - st0.last_index);
    if (data_dir != NULL) {
        /* Summed over the nodes: each op is written by every node, a follower's write holding
         * a whole AppendEntries; a sync (one group commit) makes every write since the last
         * durable. Then the leader's syncs alone. */
        printf("%s_writes_per_op %.3f\n", name, (double)(after.writes - before.writes) / d);
        printf("%s_syncs_per_op %.3f\n", name, (double)(after.syncs - before.syncs) / d);
        printf("%s_leader_syncs_per_op %.3f\n", name,
               (double)(after.leader_syncs - before.leader_syncs) / d);
    }
    fflush(stdout);
    uint32_t failed = l.failed;
    free(l.get_ns);
    free(l.write_ns);
    free(l.c);
    free(l.own);
    free(l.shared);
    cfg_close(&cfg);
    return failed == 0 ? 0 : -1;
}

/* --- the phases ------------------------------------------------------------------------------ */

/* Round trips of one cache line between two threads, each waiting for the other's write: what a
 * hand-off between two cores costs on this machine (it moves with where the hypervisor puts the
 * cores). Prints "bounce_ns", the median of 5 runs of 200000 round trips. */
struct bounce {
    _Atomic uint64_t line __attribute__((aligned(64)));
    uint64_t rounds;
};

static void *bounce_partner(void *p)
{
    struct bounce *b = p;
    for (uint64_t i = 1; i <= b->rounds; i++) {
        while (atomic_load_explicit(&b->line, memory_order_acquire) != 2 * i - 1)
            ;
        atomic_store_explicit(&b->line, 2 * i, memory_order_release);
    }
    return NULL;
}

static void measure_bounce(void)
{
    double runs[5];
    for (int r = 0; r < 5; r++) {
        struct bounce b = {.rounds = 200000};
        atomic_init(&b.line, 0);
        pthread_t t;
        if (pthread_create(&t, NULL, bounce_partner, &b) != 0)
            abort();
        uint64_t t0 = actor_now_ns();
        for (uint64_t i = 1; i <= b.rounds; i++) {
            atomic_store_explicit(&b.line, 2 * i - 1, memory_order_release);
            while (atomic_load_explicit(&b.line, memory_order_acquire) != 2 * i)
                ;
        }
        runs[r] = (double)(actor_now_ns() - t0) / (double)b.rounds;
        pthread_join(t, NULL);
    }
    for (int i = 1; i < 5; i++) /* insertion sort of five */
        for (int j = i; j > 0 && runs[j] < runs[j - 1]; j--) {
            double t = runs[j];
            runs[j] = runs[j - 1];
            runs[j - 1] = t;
        }
    printf("bounce_ns %.0f\n", runs[2]);
    fflush(stdout);
}

static const uint32_t client_counts[] = {1, 16, 64};
enum { N_COUNTS = sizeof client_counts / sizeof client_counts[0] };

/* RAFT_BENCH_CLIENTS=N runs only the measurements with N clients (to profile one). */
static bool count_wanted(uint32_t n)
{
    const char *only = getenv("RAFT_BENCH_CLIENTS");
    return only == NULL || only[0] == '\0' || strtoul(only, NULL, 10) == n;
}

/* The store with memory storage, 1, 16 and 64 clients (one doing a tenth): the mixed workload,
 * gets through the log ("raft_<n>c_...") and read with ReadIndex ("raft_<n>c_readindex_..."). */
static int run_memory(uint32_t nodes, uint32_t ops)
{
    int rc = 0;
    for (size_t i = 0; i < N_COUNTS; i++) {
        uint32_t n = client_counts[i];
        if (!count_wanted(n))
            continue;
        char name[64];
        snprintf(name, sizeof name, "raft_%uc", n);
        rc |= run_load(nodes, n, n == 1 ? ops / 10 : ops, WORKLOAD_MIXED, KV_READ_LOG, name, NULL);
        snprintf(name, sizeof name, "raft_%uc_readindex", n);
        rc |= run_load(nodes, n, n == 1 ? ops / 10 : ops, WORKLOAD_MIXED, KV_READ_LINEARIZABLE,
                       name, NULL);
    }
    return rc;
}

/* The read-heavy phase: 64 clients, each read policy in turn (the log first, the reference),
 * with memory storage, then (with a bench directory) on disk with fsync on, each policy in a
 * fresh directory removed after it. */
static int run_read_heavy(uint32_t nodes, uint32_t read_ops, bool disk)
{
    static const struct {
        enum kv_read_policy policy;
        const char *tag;
    } policies[] = {
        {KV_READ_LOG, "log"},
        {KV_READ_LINEARIZABLE, "readindex"},
        {KV_READ_LEASE, "lease"},
        {KV_READ_FOLLOWER, "follower"},
    };
    printf("read_ops %u\n", read_ops);
    int rc = 0;
    char name[64];
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
        snprintf(name, sizeof name, "raft_read90_%s", policies[i].tag);
        rc |= run_load(nodes, 64, read_ops, WORKLOAD_READ90, policies[i].policy, name, NULL);
    }
    for (size_t i = 0; disk && i < sizeof policies / sizeof policies[0]; i++) {
        char dir[PATH_MAX + 32];
        snprintf(dir, sizeof dir, "%s/read-%s", bench_dir, policies[i].tag);
        snprintf(name, sizeof name, "raft_read90_disk_%s", policies[i].tag);
        rc |= run_load(nodes, 64, read_ops / 4, WORKLOAD_READ90, policies[i].policy, name, dir);
        if (remove_tree(dir) != 0) {
            fprintf(stderr, "raft_bench: cannot remove %s: %s\n", dir, strerror(errno));
            rc = -1;
        }
    }
    return rc;
}

/* The disk measurements: the fdatasync probe, then each client count in its own fresh
 * directory under the bench directory, removed after it: the mixed workload, gets through the
 * log ("raft_<n>c_disk_...") and with ReadIndex ("raft_<n>c_disk_readindex_..."). */
static int run_disk(uint32_t nodes, uint32_t disk_ops)
{
    char fs[PATH_MAX + 64];
    filesystem_type(bench_dir, fs, sizeof fs);
    printf("disk_dir %s\n", bench_dir);
    printf("disk_fs %s\n", fs);
    printf("disk_ops %u\n", disk_ops);
    fflush(stdout);
    int rc = fdatasync_probe(bench_dir, 1000);
    for (size_t i = 0; i < 2 * N_COUNTS && rc == 0; i++) {
        uint32_t n = client_counts[i / 2];
        bool readindex = i % 2 == 1;
        if (!count_wanted(n))
            continue;
        char dir[PATH_MAX + 32], name[64];
        snprintf(dir, sizeof dir, "%s/%uc%s", bench_dir, n, readindex ? "-readindex" : "");
        snprintf(name, sizeof name, "raft_%uc_disk%s", n, readindex ? "_readindex" : "");
        rc = run_load(nodes, n, n == 1 ? disk_ops / 10 : disk_ops, WORKLOAD_MIXED,
                      readindex ? KV_READ_LINEARIZABLE : KV_READ_LOG, name, dir);
        if (remove_tree(dir) != 0) {
            fprintf(stderr, "raft_bench: cannot remove %s: %s\n", dir, strerror(errno));
            rc = -1;
        }
    }
    return rc;
}

int main(int argc, char **argv)
{
    uint32_t ops = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 200000;
    uint32_t nodes = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 5;
    uint32_t disk_ops = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 100000;
    uint32_t read_ops = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 200000;
    if ((ops != 0 && ops < 640) || nodes < 1 || nodes > 255 || (disk_ops != 0 && disk_ops < 640) ||
        (read_ops != 0 && read_ops < 640)) {
        fprintf(stderr, "usage: raft_bench [OPS 0 or >= 640 [NODES 1..255 [DISK_OPS 0 or >= 640 "
                        "[READ_OPS 0 or >= 640]]]]\n");
        return 2;
    }
    if (disk_ops > 0 && make_bench_dir() != 0)
        return 1;
    /* Blocked here, so in every thread started later; the signal thread takes them. */
    static sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    pthread_t sig_thread;
    if (pthread_create(&sig_thread, NULL, signal_thread, &stop_signals) != 0) {
        fprintf(stderr, "raft_bench: cannot start the signal thread\n");
        remove_bench_dir();
        return 1;
    }
    pthread_detach(sig_thread);
    struct trace_options quiet = {.level = TRACE_QUIET};
    trace_open(&quiet);
    measure_bounce();
    int rc = 0;
    if (ops > 0)
        rc |= run_memory(nodes, ops);
    if (read_ops > 0)
        rc |= run_read_heavy(nodes, read_ops, disk_ops > 0);
    if (disk_ops > 0)
        rc |= run_disk(nodes, disk_ops);
    remove_bench_dir();
    return rc ? 1 : 0;
}
