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

/* MESSAGES adds to DEBUG one line per message sent, received, dropped or duplicated and one per
 * change of a node's state: what the timeline (timeline/) draws. */
enum trace_level { TRACE_QUIET = 0, TRACE_INFO = 1, TRACE_DEBUG = 2, TRACE_MESSAGES = 3 };
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

/* Writes one line: level (INFO, DEBUG or MESSAGES), actor name (NULL: the running actor's, or
 * "main"), event (a short machine word such as "role", "vote", "append", "commit", "apply",
 * "client"; shown in JSON only) and a printf-style message. Thread-safe. The text form escapes the
 * actor name and the message C style, so a line never splits and never carries a terminal control
 * sequence: a backslash as \\, newline, carriage return and tab as \n \r \t, every other byte
 * below 0x20 and DEL as \xNN; other bytes (UTF-8) as they are. JSON Lines escapes as JSON does. */
void trace_log(enum trace_level level, const char *actor, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A structured field of a trace line: the JSON Lines form writes it as "key":value after "msg";
 * the text form leaves it out (the message says it for people). */
enum trace_field_kind {
    TRACE_FIELD_U64,  /* u */
    TRACE_FIELD_STR,  /* s, a string (escaped) */
    TRACE_FIELD_BOOL, /* u != 0 */
    TRACE_FIELD_JSON, /* s, written as it is: a JSON value the caller formatted */
};
struct trace_field {
    const char *key;
    enum trace_field_kind kind;
    uint64_t u;
    const char *s;
};
#define TRACE_U64(k, v)  ((struct trace_field){.key = (k), .kind = TRACE_FIELD_U64, .u = (v)})
#define TRACE_STR(k, v)  ((struct trace_field){.key = (k), .kind = TRACE_FIELD_STR, .s = (v)})
#define TRACE_BOOL(k, v) ((struct trace_field){.key = (k), .kind = TRACE_FIELD_BOOL, .u = (v)})
#define TRACE_JSON(k, v) ((struct trace_field){.key = (k), .kind = TRACE_FIELD_JSON, .s = (v)})

/* trace_log with n structured fields (fields may be NULL when n is 0). */
void trace_log_fields(enum trace_level level, const char *actor, const char *event,
                      const struct trace_field *fields, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* A second sink, for tools: every line of every level up to MESSAGES, whatever the main sink's
 * level, as JSON Lines with its fields, to out (NULL: none). Call, like trace_open, before actors
 * run; trace_record_close flushes it and stops. */
void trace_record_open(FILE *out);
void trace_record_close(void);

/* Nanoseconds since the trace's time zero, on its clock. */
uint64_t trace_elapsed_ns(void);

/* Replaces the clock (nanoseconds; the first reading after trace_open is time zero). NULL
 * restores the monotonic clock. */
void trace_set_clock(uint64_t (*now_ns)(void *ctx), void *ctx);

/* Writes text[0..len) as the body of a JSON string (no quotes) to out, escaping as JSON requires.
 */
void trace_json_escape(FILE *out, const char *text, size_t len);

#endif
