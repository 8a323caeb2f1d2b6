/* history.c - a mutex-guarded JSON Lines writer whose clock is read inside the lock, so lines
 * are written in timestamp order (linearizability checkers read the order and the times).
 */
#include "runtime/history.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "runtime/actor.h"
#include "runtime/trace.h"

struct history {
    pthread_mutex_t lock;
    FILE *out;
    char *path;
    uint64_t (*clock)(void *ctx);
    void *clock_ctx;
    uint64_t start_ns;
    int write_errno; /* first write error, 0 if none */
};

static uint64_t monotonic_ns(void *ctx)
{
    (void)ctx;
    return actor_now_ns();
}

int history_open(struct history **out, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, err_len, "cannot create history file '%s': %s", path, strerror(errno));
        return -1;
    }
    struct history *h = xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    h->out = f;
    h->path = xstrdup(path);
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
}

int history_close(struct history *h, char *err, size_t err_len)
{
    if (h == NULL)
        return 0;
    int rc = 0;
    if (fclose(h->out) != 0 && h->write_errno == 0)
        h->write_errno = errno;
    if (h->write_errno != 0) {
        snprintf(err, err_len, "writing history file '%s' failed: %s", h->path,
                 strerror(h->write_errno));
        rc = -1;
    }
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
    FILE *out = h->out;
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
    fprintf(out, ",\"time\":%llu}\n", (unsigned long long)t);
    if (ferror(out) && h->write_errno == 0)
        h->write_errno = errno ? errno : EIO;
    pthread_mutex_unlock(&h->lock);
    return t;
}
