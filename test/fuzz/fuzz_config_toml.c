/* fuzz_config_toml.c - libFuzzer target for the TOML parser: any bytes must parse or fail cleanly.
 * On success it walks the whole tree and exercises the lookups and typed getters, then frees.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every value so that a malformed tree shows up under the sanitizers. */
static size_t walk_value(const struct toml_value *v)
{
    size_t n = 1;
    switch (v->type) {
    case TOML_STRING:
        n += v->u.str.len + (size_t)(v->u.str.ptr[v->u.str.len] == '\0');
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < v->u.array->len; i++)
            n += walk_value(&v->u.array->items[i]);
        break;
    case TOML_TABLE:
        for (size_t i = 0; i < v->u.table->len; i++) {
            const struct toml_key_value *kv = &v->u.table->items[i];
            n += strlen(kv->key) <= kv->key_len;
            n += walk_value(&kv->value);
        }
        break;
    default:
        break;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"a", "a.b", "num_nodes", "raft.heartbeat_ms",
                                        "",  ".",   "a..b"};
    struct toml_table *root;
    struct toml_error err;
    int rc = toml_parse_buffer((const char *)data, size, "fuzz.toml", &root, &err);
    if (rc != 0) {
        /* A rejected document always carries a positioned message. */
        if (strncmp(err.msg, "fuzz.toml:", 10) != 0 || err.line < 1 || err.col < 1)
            __builtin_trap();
        return 0;
    }
    struct toml_value top = {.type = TOML_TABLE, .u.table = root};
    volatile size_t sink = walk_value(&top);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int64_t iv;
        double d;
        bool b;
        const char *s;
        sink += toml_lookup(root, paths[i]) != NULL;
        sink += (size_t)toml_get_int(root, paths[i], "fuzz.toml", &iv, &err);
        sink += (size_t)toml_get_float(root, paths[i], NULL, &d, &err);
        sink += (size_t)toml_get_bool(root, paths[i], "fuzz.toml", &b, NULL);
        sink += (size_t)toml_get_string(root, paths[i], "fuzz.toml", &s, &err);
    }
    if (root->len > 0)
        sink += toml_table_get(root, root->items[0].key) == &root->items[0].value;
    (void)sink;
    toml_free(root);
    return 0;
}
