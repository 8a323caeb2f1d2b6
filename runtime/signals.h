/* signals.h - SIGINT and SIGTERM turned into a flag that a long run polls, so that a person who
 * stops a run still gets its summary and a history every line of which is whole.
 *
 * Design: the signals are blocked in every thread (the mask is set before any thread starts, and
 * threads inherit it) and taken by one watcher thread with sigwait, so no handler ever runs
 * inside a thread that holds a lock, and the program decides at its own safe points what to do.
 * A second signal means the person insists: the process ends at once with 128 + the signal.
 */
#ifndef RAFT_KV_RUNTIME_SIGNALS_H
#define RAFT_KV_RUNTIME_SIGNALS_H

#include <stddef.h>

/* Blocks SIGINT and SIGTERM in the calling thread and starts the watcher. Call from the main
 * thread before any other thread is started (threads started later inherit the mask). Returns
 * 0, or -1 with err saying why (then nothing is changed). At most one watcher at a time. */
int signal_watch_start(char *err, size_t err_len);

/* The first signal taken since the watcher started (SIGINT or SIGTERM), or 0. Thread-safe;
 * cheap enough to poll. */
int signal_watch_caught(void);

/* Stops the watcher and unblocks the signals in the calling thread: a signal that arrives from
 * now on acts as it would without the watcher. A signal already caught stays readable through
 * signal_watch_caught. No-op if the watcher is not running. */
void signal_watch_stop(void);

/* The exit status of a process ended by signal sig: 128 + sig (130 for SIGINT, 143 for SIGTERM). */
int signal_exit_status(int sig);

/* The signal's name ("SIGINT", "SIGTERM", ...). */
const char *signal_name(int sig);

#endif
