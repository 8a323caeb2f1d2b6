/* timeline.h - a run drawn: a JSON Lines trace (README, "The trace as data") and optionally its
 * client history (../shared/history-format.md) rendered as one self-contained HTML page (inline
 * SVG, a little plain JavaScript, nothing fetched) and/or a Chrome trace-event file for Perfetto.
 *
 * One lane per node and per client on a real time axis: message arrows from send to receive,
 * roles and terms as bands, commits, applies and snapshots as ticks, faults, configuration
 * changes and leadership transfers, client operations linked to their log entries, and the
 * linearizability checker's verdict (check/) on the history.
 * The same input gives byte-identical output: no clock, no randomness, fixed number formats.
 */
#ifndef RAFT_KV_TIMELINE_TIMELINE_H
#define RAFT_KV_TIMELINE_TIMELINE_H

#include <stddef.h>

/* What the renderer read and drew, for tests and the command's summary line. */
struct timeline_stats {
    size_t lines;          /* non-empty trace lines read */
    size_t nodes, clients; /* lanes */
    size_t messages;       /* distinct message ids with a send line */
    size_t arrows;         /* receives drawn as arrows from their send (a duplicate adds one) */
    size_t drops;          /* drops drawn as arrows ending in a cross */
    size_t duplicates;     /* "dup" lines: copies the network made */
    size_t lost;           /* sends with no receive and no drop (crash, or in flight at the end) */
    size_t orphans;        /* receives and drops whose send is not in the trace: not drawn */
    size_t heartbeat_msgs; /* arrows and drops of heartbeats and their replies */
    size_t heartbeat_runs; /* the marks that stand for them while they are folded (default) */
    size_t role_changes;   /* "role" lines */
    size_t term_changes;   /* "term" lines */
    size_t commits;        /* commit-index advances */
    size_t applies;        /* applied entries */
    size_t snapshots;      /* snapshots taken or installed */
    size_t states;         /* "state" lines (the click-a-node panel) */
    size_t faults;         /* fault lines */
    size_t configs;        /* "config" lines: a configuration in effect on a node */
    size_t config_commits; /* "config" lines: a configuration entry committed on a node */
    size_t transfers;      /* "transfer" lines drawn: a leader's steps, a target told to run */
    size_t ops;            /* client operations of the history */
    size_t ops_ok, ops_fail, ops_info;
    size_t ops_linked; /* operations linked to the apply of their log entry */
    size_t ops_bad;    /* operations the checker names (red) */
    int verdict;       /* -1 without a history; else enum check_verdict (check/linearize.h) */
    size_t idle_folds; /* idle stretches the "fold idle" toggle compresses */
};

/* Reads trace_path (and history_path, unless NULL), writes the page to html_path and the
 * Perfetto file to perfetto_path (each unless NULL; both NULL only reads and counts), and fills
 * *stats (unless NULL). Returns 0, or -1 with err naming the file and line of the bad input
 * ("run.jsonl:17: \"term\" must be a non-negative integer") or the file that cannot be read or
 * written. Any input is safe: bad input is an error, never a crash. */
int timeline_render(const char *trace_path, const char *history_path, const char *html_path,
                    const char *perfetto_path, struct timeline_stats *stats, char *err,
                    size_t err_len);

/* The `raft_kv timeline TRACE.jsonl [HISTORY.jsonl] -o FILE.html [--perfetto FILE.json]`
 * subcommand; argv[0] is "timeline". Exit status: 0 written, 1 bad or unreadable input or an
 * unwritable output, 2 usage. */
int timeline_command(int argc, char **argv);

#endif
