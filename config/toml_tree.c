/* toml_tree.c - read access to a parsed TOML tree: lookups by key and dotted path, typed getters.
 * Lookups are linear scans in definition order: configuration tables are small.
 */
#include "config/toml.h"

#include <stdio.h>
#include <string.h>

const char *toml_type_name(enum toml_type type)
{
    switch (type) {
    case TOML_STRING:
        return "string";
    case TOML_INTEGER:
        return "integer";
    case TOML_FLOAT:
        return "float";
    case TOML_BOOL:
        return "boolean";
    case TOML_DATETIME:
        return "offset date-time";
    case TOML_DATETIME_LOCAL:
        return "local date-time";
    case TOML_DATE_LOCAL:
        return "local date";
    case TOML_TIME_LOCAL:
        return "local time";
    case TOML_ARRAY:
        return "array";
    case TOML_TABLE:
        return "table";
    }
    return "unknown";
}

const char *toml_strerror(int status)
{
    switch (status) {
    case TOML_OK:
        return "success";
    case TOML_ESYNTAX:
        return "invalid TOML";
    case TOML_EIO:
        return "cannot read file";
    case TOML_ENOTFOUND:
        return "no such key";
    case TOML_ETYPE:
        return "value has the wrong type";
    }
    return "unknown error";
}

static const struct toml_value *table_get_n(const struct toml_table *table, const char *key,
                                            size_t len)
{
    if (table == NULL)
        return NULL;
    for (size_t i = 0; i < table->len; i++) {
        const struct toml_key_value *kv = &table->items[i];
        if (kv->key_len == len && memcmp(kv->key, key, len) == 0)
            return &kv->value;
    }
    return NULL;
}

const struct toml_value *toml_table_get(const struct toml_table *table, const char *key)
{
    return table_get_n(table, key, strlen(key));
}

const struct toml_value *toml_lookup(const struct toml_table *root, const char *path)
{
    const struct toml_table *t = root;
    const char *seg = path;
    for (;;) {
        const char *dot = strchr(seg, '.');
        size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
        const struct toml_value *v = table_get_n(t, seg, len);
        if (v == NULL || dot == NULL)
            return v;
        if (v->type != TOML_TABLE)
            return NULL;
        t = v->u.table;
        seg = dot + 1;
    }
}

/* Looks path up and checks its type (integers pass as floats when int_ok). Fills err. */
static int get_typed(const struct toml_table *root, const char *path, const char *filename,
                     enum toml_type want, bool int_ok, const struct toml_value **out,
                     struct toml_error *err)
{
    const struct toml_value *v = toml_lookup(root, path);
    if (v == NULL) {
        if (err != NULL) {
            err->line = 0;
            err->col = 0;
            snprintf(err->msg, sizeof err->msg, "%s%s%s is not set", filename ? filename : "",
                     filename ? ": " : "", path);
        }
        return TOML_ENOTFOUND;
    }
    if (v->type != want && !(int_ok && v->type == TOML_INTEGER)) {
        if (err != NULL) {
            const char *wn = toml_type_name(want);
            const char *hn = toml_type_name(v->type);
            err->line = v->line;
            err->col = v->col;
            snprintf(err->msg, sizeof err->msg, "%s:%d:%d: %s must be %s %s, not %s %s",
                     filename ? filename : "<input>", v->line, v->col, path,
                     strchr("aeiou", wn[0]) ? "an" : "a", wn, strchr("aeiou", hn[0]) ? "an" : "a",
                     hn);
        }
        return TOML_ETYPE;
    }
    *out = v;
    return TOML_OK;
}

int toml_get_int(const struct toml_table *root, const char *path, const char *filename,
                 int64_t *out, struct toml_error *err)
{
    const struct toml_value *v;
    int rc = get_typed(root, path, filename, TOML_INTEGER, false, &v, err);
    if (rc == TOML_OK)
        *out = v->u.integer;
    return rc;
}

int toml_get_float(const struct toml_table *root, const char *path, const char *filename,
                   double *out, struct toml_error *err)
{
    const struct toml_value *v;
    int rc = get_typed(root, path, filename, TOML_FLOAT, true, &v, err);
    if (rc == TOML_OK)
        *out = v->type == TOML_INTEGER ? (double)v->u.integer : v->u.flt;
    return rc;
}

int toml_get_bool(const struct toml_table *root, const char *path, const char *filename, bool *out,
                  struct toml_error *err)
{
    const struct toml_value *v;
    int rc = get_typed(root, path, filename, TOML_BOOL, false, &v, err);
    if (rc == TOML_OK)
        *out = v->u.boolean;
    return rc;
}

int toml_get_string(const struct toml_table *root, const char *path, const char *filename,
                    const char **out, struct toml_error *err)
{
    const struct toml_value *v;
    int rc = get_typed(root, path, filename, TOML_STRING, false, &v, err);
    if (rc == TOML_OK)
        *out = v->u.str.ptr;
    return rc;
}
