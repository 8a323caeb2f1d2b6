/* toml_decode.c - the toml-test decoder: TOML on stdin, toml-test's tagged JSON on stdout.
 * Exits 0 with the JSON for a valid document, 1 with the parser's error on stderr otherwise.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "config/toml.h"

static void print_json_string(const char *s, size_t len)
{
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            putchar('\\');
            putchar(c);
        } else if (c == '\n') {
            fputs("\\n", stdout);
        } else if (c == '\t') {
            fputs("\\t", stdout);
        } else if (c < 0x20 || c == 0x7f) {
            printf("\\u%04x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

static void print_datetime(const struct toml_datetime *dt)
{
    if (dt->has_date)
        printf("%04d-%02d-%02d", dt->year, dt->month, dt->day);
    if (dt->has_date && dt->has_time)
        putchar('T');
    if (dt->has_time) {
        printf("%02d:%02d:%02d", dt->hour, dt->minute, dt->second);
        if (dt->frac_digits > 0) {
            int digits = dt->frac_digits < 9 ? dt->frac_digits : 9;
            int ns = dt->nanosecond;
            for (int i = digits; i < 9; i++)
                ns /= 10;
            printf(".%0*d", digits, ns);
        }
    }
    if (dt->has_offset) {
        if (dt->offset_is_z) {
            putchar('Z');
        } else {
            int m = dt->offset_minutes < 0 ? -dt->offset_minutes : dt->offset_minutes;
            printf("%c%02d:%02d", dt->offset_minutes < 0 ? '-' : '+', m / 60, m % 60);
        }
    }
}

/* The shortest %g form that reads back as the same double. */
static void format_double(double d, char *buf, size_t size)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

static void print_tagged(const char *type, const char *value)
{
    printf("{\"type\": \"%s\", \"value\": \"%s\"}", type, value);
}

static void print_table(const struct toml_table *t);

static void print_value(const struct toml_value *v)
{
    char buf[64];
    switch (v->type) {
    case TOML_STRING:
        printf("{\"type\": \"string\", \"value\": ");
        print_json_string(v->u.str.ptr, v->u.str.len);
        putchar('}');
        break;
    case TOML_INTEGER:
        snprintf(buf, sizeof buf, "%" PRId64, v->u.integer);
        print_tagged("integer", buf);
        break;
    case TOML_FLOAT:
        if (isnan(v->u.flt))
            snprintf(buf, sizeof buf, "nan");
        else if (isinf(v->u.flt))
            snprintf(buf, sizeof buf, "%sinf", v->u.flt < 0 ? "-" : "");
        else
            format_double(v->u.flt, buf, sizeof buf);
        print_tagged("float", buf);
        break;
    case TOML_BOOL:
        print_tagged("bool", v->u.boolean ? "true" : "false");
        break;
    case TOML_DATETIME:
    case TOML_DATETIME_LOCAL:
    case TOML_DATE_LOCAL:
    case TOML_TIME_LOCAL:
        printf("{\"type\": \"%s\", \"value\": \"", v->type == TOML_DATETIME ? "datetime"
                                                   : v->type == TOML_DATETIME_LOCAL
                                                       ? "datetime-local"
                                                   : v->type == TOML_DATE_LOCAL ? "date-local"
                                                                                : "time-local");
        print_datetime(&v->u.dt);
        printf("\"}");
        break;
    case TOML_ARRAY:
        putchar('[');
        for (size_t i = 0; i < v->u.array->len; i++) {
            if (i > 0)
                putchar(',');
            print_value(&v->u.array->items[i]);
        }
        putchar(']');
        break;
    case TOML_TABLE:
        print_table(v->u.table);
        break;
    }
}

static void print_table(const struct toml_table *t)
{
    putchar('{');
    for (size_t i = 0; i < t->len; i++) {
        if (i > 0)
            putchar(',');
        print_json_string(t->items[i].key, t->items[i].key_len);
        putchar(':');
        print_value(&t->items[i].value);
    }
    putchar('}');
}

int main(void)
{
    size_t len = 0, cap = 4096;
    char *data = xmalloc(cap);
    size_t n;
    while ((n = fread(data + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            data = xrealloc(data, cap);
        }
    }
    if (ferror(stdin)) {
        fprintf(stderr, "toml_decode: cannot read stdin\n");
        free(data);
        return 1;
    }
    struct toml_table *root;
    struct toml_error err;
    int rc = toml_parse_buffer(data, len, "<stdin>", &root, &err);
    free(data);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    print_table(root);
    putchar('\n');
    toml_free(root);
    return 0;
}
