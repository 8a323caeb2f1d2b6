/* peak_rss.c - runs a command and reports its peak resident set size, as the kernel counted it
 * (getrusage(RUSAGE_CHILDREN) after the child is waited for: exact, with no polling and no GNU
 * time). bench/rss.sh uses it on raft_kv.
 *
 * Usage: peak_rss COMMAND [ARG...]   prints "peak_rss_kb N" on stderr after the command ends and
 * exits with its status (or dies of the signal that ended it; 127 if it could not be run).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: peak_rss COMMAND [ARG...]\n");
        return 2;
    }
    /* The command gets SIGINT and SIGTERM from the terminal or the script and ends on its own
     * terms; this process waits for it and reports what it used. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "peak_rss: fork: %s\n", strerror(errno));
        return 127;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "peak_rss: %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "peak_rss: waitpid: %s\n", strerror(errno));
            return 127;
        }
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
        fprintf(stderr, "peak_rss_kb %ld\n", ru.ru_maxrss); /* Linux: kilobytes */
    if (WIFSIGNALED(status)) { /* die of it too, so that a shell running this stops */
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}
