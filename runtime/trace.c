/* trace.c - a mutex-guarded line sink: each line is formatted on the caller's stack and written
 * under the lock, so lines never interleave and appear in timestamp order. The text form escapes
 * control bytes and backslashes, so no message (a key with a newline) can split a line.
 */
#include "runtime/trace.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "runtime/actor.h"

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int sink_level = TRACE_INFO;
/* Guarded by sink_lock (set up by trace_open before any actor runs). */
static enum trace_format sink_format = TRACE_TEXT;
static bool sink_color;
static FILE *sink_out;
static FILE *record_out; /* trace_record_open's sink, or NULL */
static _Atomic bool record_on;
static uint64_t (*clock_fn)(void *ctx);
static void *clock_ctx;
static uint64_t start_ns;
static bool started;

static uint64_t monotonic_ns(void *ctx)
{
    (void)ctx;
    return actor_now_ns();
}

void trace_open(const struct trace_options *options)
{
    pthread_mutex_lock(&sink_lock);
    atomic_store(&sink_level, (int)options->level);
    sink_format = options->format;
    sink_out = options->out ? options->out : stdout;
    const char *no_color = getenv("NO_COLOR");
    switch (options->color) {
    case TRACE_COLOR_ALWAYS:
        sink_color = true;
        break;
    case TRACE_COLOR_NEVER:
        sink_color = false;
        break;
    case TRACE_COLOR_AUTO:
        sink_color = isatty(fileno(sink_out)) && (no_color == NULL || no_color[0] == '\0');
        break;
    }
    sink_color = sink_color && sink_format == TRACE_TEXT;
    /* Time zero is now, so that lines show time since the run began, not since the first. */
    start_ns = (clock_fn ? clock_fn : monotonic_ns)(clock_ctx);
    started = true;
    pthread_mutex_unlock(&sink_lock);
}

void trace_close(void)
{
    pthread_mutex_lock(&sink_lock);
    fflush(sink_out ? sink_out : stdout);
    pthread_mutex_unlock(&sink_lock);
}

void trace_set_clock(uint64_t (*now_ns)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&sink_lock);
    clock_fn = now_ns;
    clock_ctx = ctx;
    started = false;
    pthread_mutex_unlock(&sink_lock);
}

bool trace_on(enum trace_level level)
{
    return level != TRACE_QUIET &&
           ((int)level <= atomic_load_explicit(&sink_level, memory_order_relaxed) ||
            atomic_load_explicit(&record_on, memory_order_relaxed));
}

void trace_record_open(FILE *out)
{
    pthread_mutex_lock(&sink_lock);
    record_out = out;
    atomic_store(&record_on, out != NULL);
    pthread_mutex_unlock(&sink_lock);
}

void trace_record_close(void)
{
    pthread_mutex_lock(&sink_lock);
    if (record_out != NULL)
        fflush(record_out);
    record_out = NULL;
    atomic_store(&record_on, false);
    pthread_mutex_unlock(&sink_lock);
}

/* The clock's reading now, starting it if it has not started (sink_lock held). */
static uint64_t clock_now_locked(void)
{
    uint64_t (*now)(void *) = clock_fn ? clock_fn : monotonic_ns;
    uint64_t t = now(clock_ctx);
    if (!started) {
        started = true;
        start_ns = t;
    }
    return t;
}

uint64_t trace_elapsed_ns(void)
{
    pthread_mutex_lock(&sink_lock);
    uint64_t t = clock_now_locked() - start_ns;
    pthread_mutex_unlock(&sink_lock);
    return t;
}

/* A stable colour per actor name, from the six bright ANSI colours (no black or white). */
static int color_of(const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    static const int palette[] = {31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96};
    /* "node 3" and "client 3" differ mostly in the digit: mix the last character in again. */
    size_t len = strlen(name);
    if (len > 0)
        h += (unsigned char)name[len - 1] * 7u;
    return palette[h % (sizeof palette / sizeof palette[0])];
}

void trace_json_escape(FILE *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        default:
            if (c < 0x20)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
    }
}

/* Whether c is written escaped in the text form: a control byte, DEL or the backslash. */
static bool text_escaped(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '\\';
}

/* text[0..len) as the text form shows it: itself if no byte needs escaping, else an escaped copy
 * in *copy (heap; the caller frees it). Escapes are C's: \\ for a backslash, \n \r \t, and \xNN
 * (two lower-case hex digits) for every other byte below 0x20 and for DEL; every other byte,
 * UTF-8 included, is written as it is. So a backslash in a text line always starts an escape. */
static const char *text_escape(const char *text, size_t len, char **copy)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < len && !text_escaped((unsigned char)text[i]))
        i++;
    *copy = NULL;
    if (i == len)
        return text;
    char *out = xmalloc(4 * len + 1), *o = out;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!text_escaped(c)) {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0xf];
        }
    }
    *o = '\0';
    *copy = out;
    return out;
}

static const char *level_name(enum trace_level level)
{
    return level == TRACE_MESSAGES ? "messages" : level == TRACE_DEBUG ? "debug" : "info";
}

/* One JSON Lines object. */
static void write_jsonl(FILE *out, unsigned long ms, unsigned us, enum trace_level level,
                        const char *actor, const char *event, const char *text, size_t len,
                        const struct trace_field *fields, size_t n_fields)
{
    fprintf(out, "{\"t_ms\":%lu.%03u,\"level\":\"%s\",\"actor\":\"", ms, us, level_name(level));
    trace_json_escape(out, actor, strlen(actor));
    fputs("\",\"event\":\"", out);
    trace_json_escape(out, event ? event : "", event ? strlen(event) : 0);
    fputs("\",\"msg\":\"", out);
    trace_json_escape(out, text, len);
    fputc('"', out);
    for (size_t i = 0; i < n_fields; i++) {
        const struct trace_field *f = &fields[i];
        fputs(",\"", out);
        trace_json_escape(out, f->key, strlen(f->key));
        fputs("\":", out);
        switch (f->kind) {
        case TRACE_FIELD_U64:
            fprintf(out, "%llu", (unsigned long long)f->u);
            break;
        case TRACE_FIELD_BOOL:
            fputs(f->u ? "true" : "false", out);
            break;
        case TRACE_FIELD_STR:
            fputc('"', out);
            trace_json_escape(out, f->s ? f->s : "", f->s ? strlen(f->s) : 0);
            fputc('"', out);
            break;
        case TRACE_FIELD_JSON:
            fputs(f->s ? f->s : "null", out);
            break;
        }
    }
    fputs("}\n", out);
}

static void log_line(enum trace_level level, const char *actor, const char *event,
                     const struct trace_field *fields, size_t n_fields, const char *fmt, va_list ap)
{
    if (!trace_on(level))
        return;
    if (actor == NULL) {
        struct actor *self = actor_self();
        actor = self ? actor_name(self) : "main";
    }

    char stack_buf[512];
    char *text = stack_buf;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(stack_buf, sizeof stack_buf, fmt, ap);
    if (n >= 0 && (size_t)n >= sizeof stack_buf) {
        text = xmalloc((size_t)n + 1);
        vsnprintf(text, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    if (n < 0)
        return;
    bool to_sink = (int)level <= atomic_load_explicit(&sink_level, memory_order_relaxed);
    /* The text form, escaped before taking the lock; JSON Lines escapes as it writes. */
    char *actor_copy = NULL, *text_copy = NULL;
    const char *shown_actor = actor, *shown_text = text;
    if (to_sink) {
        shown_actor = text_escape(actor, strlen(actor), &actor_copy);
        shown_text = text_escape(text, (size_t)n, &text_copy);
    }

    pthread_mutex_lock(&sink_lock);
    FILE *out = sink_out ? sink_out : stdout;
    uint64_t since = clock_now_locked() - start_ns;
    unsigned long ms = (unsigned long)(since / 1000000u);
    unsigned us = (unsigned)(since % 1000000u / 1000u);
    if (to_sink) {
        flockfile(out);
        if (sink_format == TRACE_JSONL)
            write_jsonl(out, ms, us, level, actor, event, text, (size_t)n, fields, n_fields);
        else if (sink_color)
            fprintf(out, "%6lu.%03ums \x1b[%dm%-9s\x1b[0m %s\n", ms, us, color_of(actor),
                    shown_actor, shown_text);
        else
            fprintf(out, "%6lu.%03ums %-9s %s\n", ms, us, shown_actor, shown_text);
        funlockfile(out);
    }
    if (record_out != NULL)
        write_jsonl(record_out, ms, us, level, actor, event, text, (size_t)n, fields, n_fields);
    pthread_mutex_unlock(&sink_lock);
    free(actor_copy);
    free(text_copy);
    if (text != stack_buf)
        free(text);
}

void trace_log(enum trace_level level, const char *actor, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, actor, event, NULL, 0, fmt, ap);
    va_end(ap);
}

void trace_log_fields(enum trace_level level, const char *actor, const char *event,
                      const struct trace_field *fields, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, actor, event, fields, n, fmt, ap);
    va_end(ap);
}
