/* raft_bench.c - the replicated store under closed-loop load: a 5-node cluster, trace off, and
 * 1, 16 and 64 clients that each send their next request as soon as the last is answered, first
 * with memory storage, then with disk storage and fsync on, in a fresh temporary directory.
 * Reports committed ops/s (answered by the leader after commit and apply) and client latency
 * p50/p99 per client count; for disk also syncs per committed op (group commit) and, measured
 * in the same directory, the raw cost of one 4 KiB append + fdatasync. Clients are plain threads
 * calling the leader, so the figures are the cluster's, not the client logic's.
 *
 * Usage: raft_bench [OPS [NODES [DISK_OPS]]]   (defaults 200000 operations per client count for
 * memory, 5 nodes, 100000 for disk; one client does a tenth). DISK_OPS 0 skips the disk runs.
 * The temporary directory is made in $RAFT_BENCH_TMPDIR, else $TMPDIR, else /tmp, and removed on
 * every exit (SIGINT, SIGTERM and SIGHUP included) but a node's fatal storage error, which ends
 * the process at once (bench/run.sh removes its RAFT_BENCH_TMPDIR then). RAFT_BENCH_MONITOR=1
 * runs with the invariant monitor on.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "common/alloc.h"
#include "kv/kv.h"
#include "runtime/trace.h"

struct bench_client {
    pthread_t thread;
    struct actor *leader;
    uint32_t id;
    uint32_t ops;
    uint64_t *latency_ns; /* ops entries */
    uint32_t failed;
    _Atomic int *go;
};

static void *client_loop(void *p)
{
    struct bench_client *c = p;
    while (!*c->go)
        ;
    char key[32];
    uint8_t buf[128];
    for (uint32_t i = 0; i < c->ops; i++) {
        /* Each client cycles over its own 16 keys: put, get, delete, put, ... */
        snprintf(key, sizeof key, "k%u-%u", c->id, i % 16);
        static const enum kv_op ops[] = {KV_OP_PUT, KV_OP_GET, KV_OP_DELETE};
        struct kv_command cmd = {
            .op = ops[(i / 16) % 3],
            .client_id = c->id,
            .seq = (uint64_t)i + 1,
            .key = (const uint8_t *)key,
            .key_len = (uint32_t)strlen(key),
            .value = (const uint8_t *)"value-01",
            .value_len = ops[(i / 16) % 3] == KV_OP_PUT ? 8 : 0,
        };
        size_t len;
        if (kv_command_encode(&cmd, buf, sizeof buf, &len) != 0)
            abort();
        uint64_t t0 = actor_now_ns();
        struct actor_msg *reply = NULL;
        int rc =
            actor_call(c->leader, node_request_new(buf, (uint32_t)len, KV_READ_LOG), 10000, &reply);
        c->latency_ns[i] = actor_now_ns() - t0;
        if (rc != ACTOR_OK || ((struct node_reply *)reply)->status != CLIENT_REPLY_OK)
            c->failed++;
        actor_msg_free(reply);
    }
    return NULL;
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

/* The persist counters: summed over the running nodes, and the leader's syncs. */
struct persist_counts {
    uint64_t writes, syncs, leader_syncs;
};

static struct persist_counts persist_counters(struct cluster *c)
{
    struct persist_counts k = {0};
    for (uint32_t i = 0; i < c->n_nodes; i++) {
        struct node_status s;
        if (c->nodes[i] != NULL && node_get_status(c->nodes[i], 5000, &s) == ACTOR_OK) {
            k.writes += s.persist_writes;
            k.syncs += s.persist_syncs;
            if (i + 1 == c->leader)
                k.leader_syncs = s.persist_syncs;
        }
    }
    return k;
}

/* One measurement, with memory storage (data_dir NULL) or disk storage in data_dir (fresh; fsync
 * on). Prints "raft_<clients>c<tag>_ops_per_s N", "..._p50_us", ... Returns 0, or -1. */
static int run(uint32_t nodes, uint32_t clients, uint32_t total_ops, const char *data_dir,
               const char *tag)
{
    struct cfg cfg;
    cfg_init(&cfg);
    cfg.num_nodes = nodes;
    cfg.num_clients = 0;
    cfg.seed = 1;
    cfg.seed_given = true;
    /* Like the trace, the invariant monitor is a checking aid, not the store: it is measured
     * apart (RAFT_BENCH_MONITOR=1 turns it on). */
    cfg.check.invariants = getenv("RAFT_BENCH_MONITOR") != NULL;
    if (data_dir != NULL) {
        cfg.storage.kind = CFG_STORAGE_DISK;
        free(cfg.storage.data_dir);
        cfg.storage.data_dir = xstrdup(data_dir);
        cfg.storage.fsync = true;
    }
    struct cluster c;
    char err[256];
    if (cluster_start(&c, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "raft_bench: %s\n", err);
        cfg_close(&cfg);
        return -1;
    }
    struct persist_counts before = persist_counters(&c);
    uint32_t per = total_ops / clients;
    _Atomic int go = 0;
    struct bench_client *bc = xcalloc(clients, sizeof *bc);
    for (uint32_t i = 0; i < clients; i++) {
        bc[i] = (struct bench_client){.leader = c.nodes[c.leader - 1],
                                      .id = i + 1,
                                      .ops = per,
                                      .latency_ns = xcalloc(per, sizeof(uint64_t)),
                                      .go = &go};
        pthread_create(&bc[i].thread, NULL, client_loop, &bc[i]);
    }
    uint64_t t0 = actor_now_ns();
    go = 1;
    for (uint32_t i = 0; i < clients; i++)
        pthread_join(bc[i].thread, NULL);
    double wall_s = (double)(actor_now_ns() - t0) / 1e9;
    struct persist_counts after = persist_counters(&c);
    uint64_t n = (uint64_t)per * clients;
    uint64_t *all = xcalloc(n, sizeof *all);
    uint32_t failed = 0;
    for (uint32_t i = 0; i < clients; i++) {
        memcpy(all + (uint64_t)i * per, bc[i].latency_ns, per * sizeof(uint64_t));
        failed += bc[i].failed;
        free(bc[i].latency_ns);
    }
    qsort(all, n, sizeof *all, cmp_u64);
    struct node_status st;
    cluster_find_leader(&c, &st);
    cluster_stop(&c);
    cluster_close(&c);
    uint64_t done = n - failed;
    printf("raft_%uc%s_ops_per_s %.0f\n", clients, tag, (double)done / wall_s);
    printf("raft_%uc%s_p50_us %.1f\n", clients, tag, (double)all[n / 2] / 1e3);
    printf("raft_%uc%s_p99_us %.1f\n", clients, tag, (double)all[n * 99 / 100] / 1e3);
    printf("raft_%uc%s_failed %u\n", clients, tag, failed);
    printf("raft_%uc%s_log_entries %" PRIu64 "\n", clients, tag, st.last_index);
    if (data_dir != NULL && done > 0) {
        /* Summed over the nodes: each op is written by every node, a follower's write holding
         * a whole AppendEntries; a sync (one group commit) makes every write since the last
         * durable. Then the leader's syncs alone. */
        double d = (double)done;
        printf("raft_%uc%s_writes_per_op %.3f\n", clients, tag,
               (double)(after.writes - before.writes) / d);
        printf("raft_%uc%s_syncs_per_op %.3f\n", clients, tag,
               (double)(after.syncs - before.syncs) / d);
        printf("raft_%uc%s_leader_syncs_per_op %.3f\n", clients, tag,
               (double)(after.leader_syncs - before.leader_syncs) / d);
    }
    fflush(stdout);
    free(all);
    free(bc);
    cfg_close(&cfg);
    return failed == 0 ? 0 : -1;
}

/* The disk measurements: the fdatasync probe, then each client count in its own fresh
 * directory under the bench directory, removed after it. */
static int run_disk(uint32_t nodes, uint32_t disk_ops, const uint32_t *counts, size_t n_counts)
{
    char fs[PATH_MAX + 64];
    filesystem_type(bench_dir, fs, sizeof fs);
    printf("disk_dir %s\n", bench_dir);
    printf("disk_fs %s\n", fs);
    printf("disk_ops %u\n", disk_ops);
    fflush(stdout);
    int rc = fdatasync_probe(bench_dir, 1000);
    for (size_t i = 0; i < n_counts && rc == 0; i++) {
        char dir[PATH_MAX + 32];
        snprintf(dir, sizeof dir, "%s/%uc", bench_dir, counts[i]);
        rc = run(nodes, counts[i], counts[i] == 1 ? disk_ops / 10 : disk_ops, dir, "_disk");
        if (remove_tree(dir) != 0) {
            fprintf(stderr, "raft_bench: cannot remove %s: %s\n", dir, strerror(errno));
            rc = -1;
        }
    }
    remove_bench_dir();
    return rc;
}

int main(int argc, char **argv)
{
    uint32_t ops = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 200000;
    uint32_t nodes = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 5;
    uint32_t disk_ops = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 100000;
    if (ops < 640 || nodes < 1 || nodes > 255 || (disk_ops != 0 && disk_ops < 640)) {
        fprintf(stderr, "usage: raft_bench [OPS >= 640 [NODES 1..255 [DISK_OPS 0 or >= 640]]]\n");
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
    static const uint32_t client_counts[] = {1, 16, 64};
    const size_t n_counts = sizeof client_counts / sizeof client_counts[0];
    int rc = 0;
    for (size_t i = 0; i < n_counts; i++)
        rc |= run(nodes, client_counts[i], client_counts[i] == 1 ? ops / 10 : ops, NULL, "");
    if (disk_ops > 0)
        rc |= run_disk(nodes, disk_ops, client_counts, n_counts);
    return rc ? 1 : 0;
}
