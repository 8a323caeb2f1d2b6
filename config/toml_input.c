/* toml_input.c - the first pass over a TOML document: encoding and control characters.
 * Checking UTF-8 and control characters once, up front, lets the grammar ignore them; the copy it
 * makes turns CRLF into LF and ends in NUL, so the parser can look ahead without length checks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "config/toml_internal.h"

void toml_set_error(struct toml_error *err, const char *filename, int line, int col,
                    const char *fmt, va_list ap)
{
    if (err == NULL)
        return;
    err->line = line;
    err->col = col;
    int n = snprintf(err->msg, sizeof err->msg, "%s:%d:%d: ", filename ? filename : "<input>", line,
                     col);
    if (n < 0 || (size_t)n >= sizeof err->msg)
        return;
    vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int
input_error(struct toml_error *err, const char *filename, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    toml_set_error(err, filename, line, col, fmt, ap);
    va_end(ap);
    return TOML_ESYNTAX;
}

/* Length of the valid UTF-8 sequence at s (at most 4 bytes of room in n), or 0. Rejects
 * overlong forms, surrogates and code points past U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Checks that buf is UTF-8 with no control character but tab and newline (CR only before LF),
 * and returns a NUL-terminated copy with each CRLF turned into LF and a leading BOM dropped. */
int toml_normalise_input(const char *buf, size_t len, const char *filename, char **out,
                         struct toml_error *err)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
        i = 3;
    char *copy = xmalloc(len - i + 1);
    size_t k = 0;
    int line = 1;
    size_t line_start = 0;
    while (i < len) {
        unsigned char c = s[i];
        int col = (int)(i - line_start) + 1;
        if (c == '\n') {
            copy[k++] = '\n';
            i++;
            line++;
            line_start = i;
        } else if (c == '\r') {
            if (i + 1 >= len || s[i + 1] != '\n') {
                input_error(err, filename, line, col, "carriage return not followed by a newline");
                goto err;
            }
            i++;
        } else if (c < 0x20 && c != '\t') {
            input_error(err, filename, line, col, "control character U+%04X is not allowed", c);
            goto err;
        } else if (c == 0x7f) {
            input_error(err, filename, line, col, "control character U+007F is not allowed");
            goto err;
        } else if (c < 0x80) {
            copy[k++] = (char)c;
            i++;
        } else {
            size_t n = utf8_len(s + i, len - i);
            if (n == 0) {
                input_error(err, filename, line, col, "invalid UTF-8 byte 0x%02X", c);
                goto err;
            }
            memcpy(copy + k, s + i, n);
            k += n;
            i += n;
        }
    }
    copy[k] = '\0';
    *out = copy;
    return 0;
err:
    free(copy);
    return TOML_ESYNTAX;
}
