/* raft_kv.c - main: command line -> configuration -> spawn nodes and clients -> summary.
 * Parsing and validation live in config/, the run in cluster/; main picks the seed, sets up the
 * trace and maps outcomes to exit codes: 0 consistent, 1 bad config or unsafe run, 2 bad command
 * line, 4 not live, 128 + the signal when interrupted (cluster_exit_status). `raft_kv inspect
 * DATA_DIR` describes a node's storage directory instead (0 sound, 1 damaged, 2 usage);
 * `raft_kv timeline TRACE [HISTORY] -o FILE.html` draws a recorded run (0, 1 bad input, 2 usage).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "check/linearize.h"
#include "cluster/cluster.h"
#include "common/alloc.h"
#include "config/config.h"
#include "host/file_fs.h"
#include "host/node_trace.h"
#include "net/serve.h"
#include "runtime/signals.h"
#include "runtime/trace.h"
#include "sim/sim.h"
#include "timeline/timeline.h"
#include "storage/storage.h"

/* A seed from the kernel, below 2^63 so that it can be written back as `seed = N` in TOML.
 * Returns 0 or -1 with errno set. */
static int random_seed(uint64_t *seed)
{
    size_t got = 0;
    unsigned char buf[sizeof *seed];
    while (got < sizeof buf) {
        ssize_t n = getrandom(buf + got, sizeof buf - got, 0);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0)
            got += (size_t)n;
    }
    memcpy(seed, buf, sizeof buf);
    *seed &= CFG_SEED_MAX;
    return 0;
}

/* --check-history FILE: the linearizability verdict on a history written by --history (or by
 * any tool that follows ../shared/history-format.md). Exit 0 linearizable, 1 not (or the file
 * cannot be read), 3 undecided (the search budget ran out). */
static int check_history_file(const char *path)
{
    struct check_history h;
    char err[512];
    if (check_history_load(path, &h, err, sizeof err) != 0) {
        fprintf(stderr, "raft_kv: %s\n", err);
        return 1;
    }
    struct check_result res;
    check_linearizable(&h, NULL, &res);
    check_result_print(stdout, &res);
    int rc = res.verdict == CHECK_LINEARIZABLE ? 0 : res.verdict == CHECK_NOT_LINEARIZABLE ? 1 : 3;
    check_result_free(&res);
    check_history_free(&h);
    return rc;
}

/* raft_kv inspect DATA_DIR: what a node's storage directory holds (storage_inspect), read
 * only. Exit 0 sound, 1 damaged or unreadable. */
static int inspect_dir(const char *dir)
{
    struct file_fs f;
    char msg[512];
    if (file_fs_open(&f, dir, false, true, msg, sizeof msg) != 0) {
        fprintf(stderr, "raft_kv: %s\n", msg);
        return 1;
    }
    struct storage_fs port;
    file_fs_port(&f, &port);
    struct storage_inspect in;
    struct storage_error err;
    if (storage_inspect(&port, 0, &in, &err) != 0) {
        file_fs_format_error(msg, sizeof msg, dir, &err);
        fprintf(stderr, "raft_kv: %s\n", msg);
        file_fs_close(&f);
        return 1;
    }
    if (in.node_id != 0)
        printf("%s: node %u\n", dir, in.node_id);
    else
        printf("%s: no node's state found\n", dir);
    if (!in.hard_state_found)
        printf("  hard state: none\n");
    for (int i = 0; i < 2 && in.hard_state_found; i++) {
        const struct storage_inspect_slot *s = &in.slots[i];
        printf("  hard state slot %d: ", i);
        if (s->state == STORAGE_SLOT_EMPTY)
            printf("empty\n");
        else if (s->state == STORAGE_SLOT_BAD)
            printf("bad (%s)\n", s->problem);
        else
            printf("seq %llu, term %llu, vote %u%s\n", (unsigned long long)s->value.seq,
                   (unsigned long long)s->value.term, s->value.vote,
                   in.slot_used == i ? " (in use)" : "");
    }
    for (size_t i = 0; i < in.n_snapshots; i++) {
        const struct storage_inspect_snapshot *s = &in.snapshots[i];
        printf("  snapshot %s: index %llu, term %llu, %llu bytes, %s", s->name,
               (unsigned long long)s->index, (unsigned long long)s->term,
               (unsigned long long)s->bytes, s->ok ? "checksum ok" : "NOT VERIFIED");
        if (s->ok && raft_config_voters(&s->config) > 0) {
            char config[1024];
            printf(", configuration %s", raft_config_format(&s->config, config, sizeof config));
        } else if (s->ok) { /* the core starts from its initial configuration */
            printf(", no configuration (the initial one)%s",
                   s->version == STORAGE_SNAP_V1_VERSION ? ", format version 1" : "");
        }
        printf("%s\n", i + 1 < in.n_snapshots ? " (superseded)" : "");
    }
    for (size_t i = 0; i < in.n_segments; i++) {
        const struct storage_inspect_segment *s = &in.segments[i];
        printf("  segment %s: ", s->name);
        if (s->records > 0)
            printf("entries %llu..%llu", (unsigned long long)s->first, (unsigned long long)s->last);
        else
            printf("no entries (starts at %llu)", (unsigned long long)s->first);
        printf(", %llu records, %llu bytes", (unsigned long long)s->records,
               (unsigned long long)s->bytes);
        if (s->torn_bytes > 0)
            printf(", torn tail of %llu bytes (cut at the next start)",
                   (unsigned long long)s->torn_bytes);
        printf("\n");
    }
    for (size_t i = 0; i < in.n_temps; i++)
        printf("  temporary file %s (removed at the next start)\n", in.temps[i]);
    for (size_t i = 0; i < in.n_others; i++)
        printf("  other file %s (ignored)\n", in.others[i]);
    for (size_t i = 0; i < in.n_damage; i++) {
        const struct storage_damage *d = &in.damage[i];
        struct storage_error e = {.code = STORAGE_ECORRUPT,
                                  .has_offset = d->has_offset,
                                  .offset = d->offset,
                                  .problem = d->problem};
        memcpy(e.file, d->file, sizeof e.file);
        file_fs_format_error(msg, sizeof msg, dir, &e);
        printf("  DAMAGE: %s\n", msg);
    }
    printf("%s\n", in.n_damage == 0 ? "sound" : "damaged: a node would refuse to start here");
    int rc = in.n_damage == 0 ? 0 : 1;
    storage_inspect_free(&in);
    file_fs_close(&f);
    return rc;
}

/* The `inspect` subcommand: `raft_kv inspect DATA_DIR`; 2 for any other shape. */
static int inspect_command(int argc, char **argv)
{
    if (argc != 3 || argv[2][0] == '\0' || argv[2][0] == '-') {
        fprintf(stderr, "raft_kv: usage: raft_kv inspect DATA_DIR\n"
                        "  prints a node's storage directory (hard state, segments, snapshots, "
                        "damage) without changing it; exit 0 sound, 1 damaged or unreadable\n");
        return 2;
    }
    return inspect_dir(argv[2]);
}

/* --simulate: the configured run in the deterministic simulator; the same summary and exit
 * status as a threaded run. Standard output (trace and summary) is byte-identical for one seed
 * and configuration; the wall-clock speed goes to standard error. */
static int simulate(const struct cfg *cfg, FILE *human, bool show_history)
{
    struct sim_report rep;
    char err[512];
    if (sim_run(cfg, NULL, &rep, err, sizeof err) != 0) {
        fprintf(stderr, "raft_kv: %s\n", err);
        return 1;
    }
    trace_close();
    sim_report_print(human, &rep);
    sim_report_print_speed(stderr, &rep); /* stdout stays the same for one seed, byte for byte */
    if (cfg->history_path != NULL && show_history)
        fprintf(human, "  history: %s\n", cfg->history_path);
    int rc = rep.consistent ? 0 : cluster_exit_status(&rep.run);
    if (rc == 0 && !rep.consistent)
        rc = 1; /* cannot happen: an inconsistent run has a verdict; never exit 0 for it */
    sim_report_close(&rep);
    return rc;
}

/* --timeline / --perfetto: every trace line of the run, whatever the trace level, is recorded
 * (trace_record_open) into a temporary file, and the history into one when --history names
 * none; after the run the timeline draws the two. */
struct drawing {
    const char *html, *perfetto; /* NULL: not asked for */
    char trace_path[64], history_path[64];
    FILE *record;
    bool own_history; /* history_path is ours (temporary) */
};

/* Starts recording for d (if it asks for a picture); cfg's history goes to a temporary file
 * when it has none. 0, or -1 with the reason printed. */
static int drawing_start(struct drawing *d, struct cfg *cfg)
{
    if (d->html == NULL && d->perfetto == NULL)
        return 0;
    snprintf(d->trace_path, sizeof d->trace_path, "/tmp/raft_kv-trace-XXXXXX");
    int fd = mkstemp(d->trace_path);
    d->record = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (d->record == NULL) {
        fprintf(stderr, "raft_kv: cannot create a temporary trace file: %s\n", strerror(errno));
        return -1;
    }
    if (cfg->history_path == NULL) {
        snprintf(d->history_path, sizeof d->history_path, "/tmp/raft_kv-history-XXXXXX");
        fd = mkstemp(d->history_path);
        if (fd < 0) {
            fprintf(stderr, "raft_kv: cannot create a temporary history file: %s\n",
                    strerror(errno));
            return -1;
        }
        close(fd);
        cfg->history_path = xstrdup(d->history_path);
        d->own_history = true;
    } else {
        snprintf(d->history_path, sizeof d->history_path, "%.63s", cfg->history_path);
    }
    trace_record_open(d->record);
    return 0;
}

/* Ends the recording and draws it; removes the temporary files. 0, or 1 with the reason
 * printed. */
static int drawing_finish(struct drawing *d, const struct cfg *cfg, FILE *human)
{
    if (d->record == NULL)
        return 0;
    trace_record_close();
    fclose(d->record);
    d->record = NULL;
    char err[512];
    const char *history = d->own_history ? d->history_path : cfg->history_path;
    int rc = timeline_render(d->trace_path, history, d->html, d->perfetto, NULL, err, sizeof err);
    unlink(d->trace_path);
    if (d->own_history)
        unlink(d->history_path);
    if (rc != 0) {
        fprintf(stderr, "raft_kv: cannot draw the run: %s\n", err);
        return 1;
    }
    if (d->html != NULL)
        fprintf(human, "  timeline: %s\n", d->html);
    if (d->perfetto != NULL)
        fprintf(human, "  perfetto: %s\n", d->perfetto);
    return 0;
}

/* --sweep N: seeds S..S+N-1 with configurations drawn from each seed. One seed (a replay) runs
 * with the configured trace and prints its full summary; more run quietly and exit 0 if every
 * seed passed, 1 if any failed a safety check, CLUSTER_EXIT_NOT_LIVE (4) if the failures were all
 * liveness failures. */
static int sweep(const struct cfg *cfg, uint64_t count, const char *argv0, struct drawing *drawing)
{
    uint64_t first = cfg->seed_given ? cfg->seed : 1;
    char err[512];
    if (count == 1) {
        struct cfg drawn;
        sim_sweep_config(first, &drawn);
        drawn.trace = cfg->trace;
        host_trace_open(&drawn.trace);
        if (cfg->history_path != NULL)
            drawn.history_path = xstrdup(cfg->history_path);
        FILE *human = cfg->trace.format == CFG_FORMAT_JSONL ? stderr : stdout;
        fprintf(human, "seed %llu, configuration drawn from the seed (--sweep):\n",
                (unsigned long long)first);
        cfg_print_summary(human, &drawn);
        fflush(human);
        if (drawing_start(drawing, &drawn) != 0) {
            cfg_close(&drawn);
            return 1;
        }
        int rc = simulate(&drawn, human, !drawing->own_history);
        if (drawing_finish(drawing, &drawn, human) != 0 && rc == 0)
            rc = 1;
        cfg_close(&drawn);
        return rc;
    }
    struct trace_options quiet = {.level = TRACE_QUIET, .format = TRACE_TEXT};
    trace_open(&quiet);
    struct sim_options opt;
    sim_options_default(&opt);
    opt.shrink_dir = "."; /* a failing seed's shrunk schedule: ./sweep-seed-N.toml */
    struct sim_sweep_result res;
    if (sim_sweep(first, count, &opt, argv0, stdout, &res, err, sizeof err) != 0) {
        fprintf(stderr, "raft_kv: %s\n", err);
        return 1;
    }
    if (res.safety_failures > 0)
        return 1;
    if (res.liveness_failures > 0)
        return CLUSTER_EXIT_NOT_LIVE;
    return res.interrupted != 0 ? signal_exit_status(res.interrupted) : 0;
}

int main(int argc, char **argv)
{
    struct cfg_cli cli;
    struct cfg cfg;
    struct cfg_error err;
    if (argc >= 2 && strcmp(argv[1], "inspect") == 0)
        return inspect_command(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "timeline") == 0)
        return timeline_command(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return net_serve_command(argc - 2, argv + 2);
    if (argc >= 2 && (strcmp(argv[1], "put") == 0 || strcmp(argv[1], "get") == 0 ||
                      strcmp(argv[1], "delete") == 0))
        return net_client_command(argc - 1, argv + 1);
    int rc = cfg_cli_parse(&cli, argc, argv, &err);
    if (rc != 0) {
        fprintf(stderr, "raft_kv: %s\n", err.msg);
        cfg_usage(stderr);
        cfg_cli_close(&cli);
        return 2;
    }
    switch (cli.action) {
    case CFG_ACTION_HELP:
        cfg_usage(stdout);
        cfg_cli_close(&cli);
        return 0;
    case CFG_ACTION_VERSION:
        printf("raft_kv " CFG_VERSION "\n");
        cfg_cli_close(&cli);
        return 0;
    case CFG_ACTION_HELP_CONFIG:
        cfg_init(&cfg);
        cfg_print(stdout, &cfg, true);
        cfg_close(&cfg);
        cfg_cli_close(&cli);
        return 0;
    case CFG_ACTION_CHECK_HISTORY:
        rc = check_history_file(cli.check_history_path);
        cfg_cli_close(&cli);
        return rc;
    case CFG_ACTION_RUN:
    case CFG_ACTION_PRINT_CONFIG:
    case CFG_ACTION_SIMULATE:
    case CFG_ACTION_SWEEP:
        break;
    }

    rc = cfg_load_cli(&cfg, &cli, &err);
    struct drawing drawing = {.html = cli.timeline_path, .perfetto = cli.perfetto_path};
    enum cfg_action action = cli.action;
    uint64_t sweep_seeds = cli.sweep_seeds;
    cfg_cli_close(&cli);
    if (rc != 0) {
        fprintf(stderr, "raft_kv: %s\n", err.msg);
        if (rc != CFG_EUSAGE)
            return 1;
        cfg_usage(stderr); /* the seed and --sweep N together run past the last seed */
        return 2;
    }
    if (action == CFG_ACTION_PRINT_CONFIG) {
        cfg_print(stdout, &cfg, false);
        cfg_close(&cfg);
        return 0;
    }
    /* From here on SIGINT and SIGTERM end a run, a simulation or a sweep early but in order:
     * clients stop, the history is completed and flushed, and the summary is printed (the runs
     * poll for them). Started before any thread, which inherits the blocked signals. */
    char run_err[512];
    if (signal_watch_start(run_err, sizeof run_err) != 0) {
        fprintf(stderr, "raft_kv: %s\n", run_err);
        cfg_close(&cfg);
        return 1;
    }
    if (action == CFG_ACTION_SWEEP) {
        rc = sweep(&cfg, sweep_seeds, argv[0], &drawing);
        signal_watch_stop();
        cfg_close(&cfg);
        return rc;
    }
    if (!cfg.seed_given) {
        if (random_seed(&cfg.seed) != 0) {
            fprintf(stderr, "raft_kv: cannot get a random seed: %s\n", strerror(errno));
            signal_watch_stop();
            cfg_close(&cfg);
            return 1;
        }
        cfg.seed_given = true;
    }
    host_trace_open(&cfg.trace);
    /* In JSON Lines mode stdout carries only trace objects; the summary then goes to stderr. */
    FILE *human = cfg.trace.format == CFG_FORMAT_JSONL ? stderr : stdout;
    fprintf(human, "seed %llu (repeat this run with --seed %llu)\n", (unsigned long long)cfg.seed,
            (unsigned long long)cfg.seed);
    cfg_print_summary(human, &cfg);
    fflush(human);

    if (drawing_start(&drawing, &cfg) != 0) {
        signal_watch_stop();
        cfg_close(&cfg);
        return 1;
    }
    if (action == CFG_ACTION_SIMULATE) {
        rc = simulate(&cfg, human, !drawing.own_history);
        signal_watch_stop();
        if (drawing_finish(&drawing, &cfg, human) != 0 && rc == 0)
            rc = 1;
        cfg_close(&cfg);
        return rc;
    }
    struct cluster_report rep;
    rc = cluster_run(&cfg, &rep, run_err, sizeof run_err);
    signal_watch_stop();
    trace_close();
    int drawn = drawing_finish(&drawing, &cfg, human);
    if (rc != 0) {
        fprintf(stderr, "raft_kv: %s\n", run_err);
        cfg_close(&cfg);
        return 1;
    }
    cluster_report_print(human, &rep);
    if (cfg.history_path != NULL && !drawing.own_history)
        fprintf(human, "  history: %s\n", cfg.history_path);
    rc = cluster_exit_status(&rep);
    if (rc == 0 && drawn != 0)
        rc = 1;
    cluster_report_close(&rep);
    cfg_close(&cfg);
    return rc;
}
