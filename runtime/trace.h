/* trace.h - the thread-safe trace sink: one line per event, never two lines interleaved.
 *
 * Each line carries the time since trace_open (milliseconds), the actor that emitted it and the
 * text. Text form is for people (the actor's name coloured when the output is a terminal and
 * NO_COLOR is unset); JSON Lines form is for machines. The clock is replaceable so that a
 * simulator can stamp virtual time.
 */
#ifndef RAFT_KV_RUNTIME_TRACE_H
#define RAFT_KV_RUNTIME_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum trace_level { TRACE_QUIET = 0, TRACE_INFO = 1, TRACE_DEBUG = 2 };
enum trace_format { TRACE_TEXT, TRACE_JSONL };
enum trace_color { TRACE_COLOR_AUTO, TRACE_COLOR_ALWAYS, TRACE_COLOR_NEVER };

struct trace_options {
    enum trace_level level; /* lines above this level are dropped */
    enum trace_format format;
    enum trace_color color; /* AUTO: colour when out is a terminal and NO_COLOR is unset */
    FILE *out;              /* NULL means stdout; not closed by trace_close */
};

/* Configures the sink and starts its clock (time zero is this call). Before any trace_open, lines
 * go to stdout as text at level info. Not thread-safe against concurrent trace_log: call before
 * spawning actors. */
void trace_open(const struct trace_options *options);
/* Flushes the output. */
void trace_close(void);

/* True if a line at this level would be written (cheap: test before formatting). */
bool trace_on(enum trace_level level);

/* Writes one line: level (INFO or DEBUG), actor name (NULL: the running actor's, or "main"),
 * event (a short machine word such as "role", "vote", "append", "commit", "apply", "client";
 * shown in JSON only) and a printf-style message. Thread-safe. The text form escapes the actor
 * name and the message C style, so a line never splits and never carries a terminal control
 * sequence: a backslash as \\, newline, carriage return and tab as \n \r \t, every other byte
 * below 0x20 and DEL as \xNN; other bytes (UTF-8) as they are. JSON Lines escapes as JSON does. */
void trace_log(enum trace_level level, const char *actor, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Replaces the clock (nanoseconds; the first reading after trace_open is time zero). NULL
 * restores the monotonic clock. */
void trace_set_clock(uint64_t (*now_ns)(void *ctx), void *ctx);

/* Writes text[0..len) as the body of a JSON string (no quotes) to out, escaping as JSON requires.
 */
void trace_json_escape(FILE *out, const char *text, size_t len);

#endif
