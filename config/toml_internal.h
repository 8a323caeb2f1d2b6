/* toml_internal.h - internal to config/: the passes the TOML parser (toml.c) is made of.
 * Not part of the API: the input check (toml_input.c) and scalar scanning (toml_scalar.c).
 */
#ifndef RAFT_KV_CONFIG_TOML_INTERNAL_H
#define RAFT_KV_CONFIG_TOML_INTERNAL_H

#include <stdarg.h>

#include "config/toml.h"

/* Scans the integer, float, boolean or date/time that starts at s (s is NUL-terminated). On
 * success returns 0, fills v->type and v->u and sets *end past the value. On failure returns
 * TOML_ESYNTAX, sets *why to a static message and *why_at to the offending byte. The caller
 * checks what follows the value. Allocates nothing that outlives the call. */
/* Fills err (if not NULL) with "FILE:LINE:COL: " and the formatted message (FILE "<input>" if
 * filename is NULL). */
void toml_set_error(struct toml_error *err, const char *filename, int line, int col,
                    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

int toml_scan_scalar(const char *s, struct toml_value *v, const char **end, const char **why,
                     const char **why_at);

/* Checks that len bytes of buf are UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) with no control character but tab and LF (CR only in CRLF). On success returns 0 and
 * *out, a NUL-terminated copy the caller frees, with CRLF turned into LF and a leading UTF-8 BOM
 * dropped (line and column numbers in the copy match the original). On failure returns
 * TOML_ESYNTAX with err filled (err may be NULL) and allocates nothing. */
int toml_normalise_input(const char *buf, size_t len, const char *filename, char **out,
                         struct toml_error *err);

#endif
