/* history.c - a mutex-guarded JSON Lines writer whose clock is read inside the lock, so lines
 * are written in timestamp order (linearizability checkers read the order and the times).
 */
#include "runtime/history.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "runtime/actor.h"
#include "runtime/trace.h"

/* Whole lines are kept here and written with write(2) once this much has gathered (and at
 * close): a run stopped at any moment leaves the file ending on a line's end, never inside one
 * (stdio would flush its buffer wherever it happens to fill). */
enum { HISTORY_PENDING_MAX = 64 * 1024 };

struct history {
    pthread_mutex_t lock;
    int fd;
    char *path;
    FILE *line;      /* formats one line into line_buf (open_memstream) */
    char *line_buf;  /* owned by the memstream until it is closed */
    size_t line_len; /* bytes of the line formatted last (updated by fflush) */
    char *pending;   /* whole lines not yet written */
    size_t pending_len;
    uint64_t (*clock)(void *ctx);
    void *clock_ctx;
    uint64_t start_ns;
    int write_errno;    /* first write error, 0 if none */
    bool write_through; /* history_write_through: each line written at once */
};

static uint64_t monotonic_ns(void *ctx)
{
    (void)ctx;
    return actor_now_ns();
}

void history_trace_time_zero(void)
{
    if (!trace_on(TRACE_MESSAGES))
        return;
    uint64_t t = trace_elapsed_ns();
    char t0[32];
    snprintf(t0, sizeof t0, "%llu.%06llu", (unsigned long long)(t / 1000000u),
             (unsigned long long)(t % 1000000u));
    struct trace_field f = TRACE_JSON("t0_ms", t0);
    trace_log_fields(TRACE_MESSAGES, "main", "history", &f, 1,
                     "the history's times count from here");
}

int history_open(struct history **out, const char *path, char *err, size_t err_len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, err_len, "cannot create history file '%s': %s", path, strerror(errno));
        return -1;
    }
    struct history *h = xcalloc(1, sizeof *h);
    h->line = open_memstream(&h->line_buf, &h->line_len);
    if (h->line == NULL)
        xalloc_failed(0); /* open_memstream fails only for lack of memory */
    pthread_mutex_init(&h->lock, NULL);
    h->fd = fd;
    h->path = xstrdup(path);
    h->pending = xmalloc(HISTORY_PENDING_MAX);
    h->clock = monotonic_ns;
    h->start_ns = actor_now_ns();
    *out = h;
    return 0;
}

void history_set_clock(struct history *h, uint64_t (*now_ns)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&h->lock);
    h->clock = now_ns ? now_ns : monotonic_ns;
    h->clock_ctx = ctx;
    h->start_ns = h->clock(ctx);
    pthread_mutex_unlock(&h->lock);
    if (now_ns != NULL)
        history_trace_time_zero(); /* a new clock (the simulator's): it holds from here */
}

/* Writes len bytes at fd, through short writes and EINTR; the first error is kept. */
static void write_all(struct history *h, const char *p, size_t len)
{
    while (len > 0 && h->write_errno == 0) {
        ssize_t n = write(h->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            h->write_errno = n < 0 ? errno : EIO;
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

static void flush_pending(struct history *h)
{
    write_all(h, h->pending, h->pending_len);
    h->pending_len = 0;
}

void history_write_through(struct history *h)
{
    pthread_mutex_lock(&h->lock);
    h->write_through = true;
    flush_pending(h);
    pthread_mutex_unlock(&h->lock);
}

int history_close(struct history *h, char *err, size_t err_len)
{
    if (h == NULL)
        return 0;
    int rc = 0;
    flush_pending(h);
    if (close(h->fd) != 0 && h->write_errno == 0)
        h->write_errno = errno;
    if (h->write_errno != 0) {
        snprintf(err, err_len, "writing history file '%s' failed: %s", h->path,
                 strerror(h->write_errno));
        rc = -1;
    }
    fclose(h->line);
    free(h->line_buf);
    free(h->pending);
    pthread_mutex_destroy(&h->lock);
    free(h->path);
    free(h);
    return rc;
}

static void write_string_field(FILE *out, const char *name, const char *text, size_t len)
{
    fprintf(out, ",\"%s\":\"", name);
    trace_json_escape(out, text, len);
    fputc('"', out);
}

uint64_t history_write(struct history *h, const struct history_line *l)
{
    pthread_mutex_lock(&h->lock);
    uint64_t t = h->clock(h->clock_ctx) - h->start_ns;
    FILE *out = h->line;
    rewind(out);
    fprintf(out, "{\"process\":%u", l->process);
    write_string_field(out, "type", l->type, strlen(l->type));
    write_string_field(out, "f", l->f, strlen(l->f));
    write_string_field(out, "key", l->key, strlen(l->key));
    if (l->value != NULL)
        write_string_field(out, "value", l->value, l->value_len);
    if (l->result != NULL)
        write_string_field(out, "result", l->result, strlen(l->result));
    if (l->error != NULL)
        write_string_field(out, "error", l->error, strlen(l->error));
    if (l->seq != 0)
        fprintf(out, ",\"seq\":%llu", (unsigned long long)l->seq);
    if (l->node != 0)
        fprintf(out, ",\"node\":%u", l->node);
    if (l->recovered)
        fprintf(out, ",\"recovered\":true");
    if (l->read != NULL)
        write_string_field(out, "read", l->read, strlen(l->read));
    if (l->stale)
        fprintf(out, ",\"stale\":true");
    fprintf(out, ",\"time\":%llu}\n", (unsigned long long)t);
    if (fflush(out) != 0 || ferror(out))
        xalloc_failed(h->line_len); /* a memory stream fails only for lack of memory */
    /* line_len is the position after the line just written (POSIX open_memstream). */
    if (h->pending_len + h->line_len > HISTORY_PENDING_MAX)
        flush_pending(h);
    if (h->line_len > HISTORY_PENDING_MAX) {
        write_all(h, h->line_buf, h->line_len);
    } else {
        memcpy(h->pending + h->pending_len, h->line_buf, h->line_len);
        h->pending_len += h->line_len;
    }
    if (h->write_through)
        flush_pending(h);
    pthread_mutex_unlock(&h->lock);
    return t;
}
