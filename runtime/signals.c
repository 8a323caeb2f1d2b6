/* signals.c - SIGINT and SIGTERM taken by a watcher thread with sigwait (see signals.h): the run
 * polls a flag at its own safe points instead of doing work inside a signal handler.
 */
#include "runtime/signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_t watcher;
static bool running;           /* only the thread that starts and stops the watcher reads it */
static atomic_int caught;      /* the first signal taken, 0 if none */
static atomic_bool stopping;   /* set before signal_watch_stop wakes the watcher */
static sigset_t watched;       /* SIGINT, SIGTERM */
static sigset_t previous_mask; /* the starting thread's mask before signal_watch_start */

static void *watch(void *arg)
{
    (void)arg;
    for (;;) {
        int sig = 0;
        if (sigwait(&watched, &sig) != 0)
            continue;
        /* Relaxed loads and stores would do for the flags themselves; seq_cst keeps the
         * stop handshake below obviously right: stopping is stored before the wake-up signal
         * is sent, and read after it is taken. */
        if (atomic_load(&stopping))
            return NULL;
        int expected = 0;
        if (atomic_compare_exchange_strong(&caught, &expected, sig))
            continue; /* the first: the run stops at its next safe point */
        /* A second signal: the person insists. Only async-signal-safe calls from here. */
        static const char msg[] = "raft_kv: second signal: stopping at once\n";
        ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)n;
        _exit(signal_exit_status(sig));
    }
}

int signal_watch_start(char *err, size_t err_len)
{
    if (running) {
        snprintf(err, err_len, "the signal watcher is already running");
        return -1;
    }
    sigemptyset(&watched);
    sigaddset(&watched, SIGINT);
    sigaddset(&watched, SIGTERM);
    int rc = pthread_sigmask(SIG_BLOCK, &watched, &previous_mask);
    if (rc != 0) {
        snprintf(err, err_len, "cannot block SIGINT and SIGTERM: %s", strerror(rc));
        return -1;
    }
    atomic_store(&caught, 0);
    atomic_store(&stopping, false);
    rc = pthread_create(&watcher, NULL, watch, NULL);
    if (rc != 0) {
        pthread_sigmask(SIG_SETMASK, &previous_mask, NULL);
        snprintf(err, err_len, "cannot start the signal watcher: %s", strerror(rc));
        return -1;
    }
    running = true;
    return 0;
}

int signal_watch_caught(void)
{
    return atomic_load(&caught);
}

void signal_watch_stop(void)
{
    if (!running)
        return;
    atomic_store(&stopping, true);
    /* Wakes the watcher with a signal it waits for; it sees `stopping` and returns. A real
     * SIGTERM arriving in this instant is taken as the wake-up: the run is over anyway. */
    pthread_kill(watcher, SIGTERM);
    pthread_join(watcher, NULL);
    running = false;
    pthread_sigmask(SIG_SETMASK, &previous_mask, NULL);
}

int signal_exit_status(int sig)
{
    return 128 + sig;
}

const char *signal_name(int sig)
{
    switch (sig) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    default:
        return "a signal";
    }
}
