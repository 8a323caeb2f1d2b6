/* config_print.c - the configuration as text: TOML that loads back to an equal cfg (with or
 * without documentation, generated from the schema rows) and the human summary of a run.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_schema.h"

/* A TOML basic string: quotes, backslashes and control characters escaped. */
static void print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* s as a line of the summary shows it, in the convention of the trace's text form
 * (runtime/trace.h): a backslash as \\, newline, carriage return and tab as \n \r \t, every
 * other control byte and DEL as \xNN. So a key or a file name never splits a line. */
static void print_escaped(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\')
            fputs("\\\\", out);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\r')
            fputs("\\r", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
}

/* The shortest of %.15g..%.17g that reads back to x, written as a TOML float ("0.0", "0.05",
 * "1e-05"). x is finite (a probability). */
static void format_float(double x, char *out, size_t out_len)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, out_len, "%.*g", digits, x);
        if (strtod(out, NULL) == x)
            break;
    }
    if (strpbrk(out, ".e") == NULL) {
        size_t len = strlen(out);
        snprintf(out + len, out_len - len, ".0");
    }
}

/* The words whose bits are in mask as a TOML array: ["crash", "slow"]. */
static void print_word_set(FILE *out, const char *const *words, uint32_t mask)
{
    bool first = true;
    fputc('[', out);
    for (int i = 0; words[i] != NULL && i < 32; i++) {
        if ((mask & (1u << i)) == 0)
            continue;
        fputs(first ? "" : ", ", out);
        print_string(out, words[i]);
        first = false;
    }
    fputc(']', out);
}

/* The type, range and default of row, one line without "# ". element: a [[fault]] or [[node]]
 * key, whose rules (required or not, the default) are in its documentation. */
static void print_type(FILE *out, const struct cfg_setting *row, bool element)
{
    char words[256], num[64];
    switch (row->kind) {
    case KIND_UINT32:
        fprintf(out, "integer %" PRId64 "..%" PRId64, row->min, row->max);
        if (!element)
            fprintf(out, ", default %" PRId64, row->def);
        break;
    case KIND_SEED:
        fprintf(out, "integer %" PRId64 "..%" PRId64 ", default: none", row->min, row->max);
        break;
    case KIND_WORD:
        cfg_join_words(row->words, UINT32_MAX, words, sizeof words);
        fprintf(out, "one of %s", words);
        if (!element)
            fprintf(out, ", default \"%s\"", row->words[row->def]);
        break;
    case KIND_STRINGS:
        fprintf(out, "array of %" PRId64 "..%" PRId64 " strings of 1..%d bytes", row->min, row->max,
                CFG_KEY_LEN_MAX);
        break;
    case KIND_BOOL:
        fprintf(out, "true or false, default %s", row->def ? "true" : "false");
        break;
    case KIND_PROB:
        format_float(row->def_prob, num, sizeof num);
        fprintf(out, "probability 0..1 (a float, or the integer 0 or 1), default %s", num);
        break;
    case KIND_RANGE:
        fprintf(out,
                "[min, max], integers %" PRId64 "..%" PRId64 " with min <= max, default [%" PRId64
                ", %" PRId64 "]",
                row->min, row->max, row->def, row->def);
        break;
    case KIND_KINDS:
        cfg_join_words(row->words, (uint32_t)row->max, words, sizeof words);
        fprintf(out, "array of distinct words among %s, not empty; default ", words);
        print_word_set(out, row->words, (uint32_t)row->def);
        break;
    case KIND_GROUPS:
        fprintf(out, "array of non-empty arrays of node ids 1..max_nodes, each node at most once");
        break;
    case KIND_PATH:
        fprintf(out, "a path (string of 1..%d bytes)", CFG_PATH_MAX);
        if (!element)
            fprintf(out, ", default \"%s\"", row->words[0]);
        break;
    case KIND_ADDRESS:
        fprintf(out, "string \"host:port\": a host name or IPv4 address, or an IPv6 address in "
                     "brackets as in \"[::1]:7001\"; port 1..65535");
        break;
    case KIND_FAULTS:
    case KIND_NODES:
    case KIND_TABLE:
        break;
    }
}

static void print_doc(FILE *out, const struct cfg_setting *row)
{
    fprintf(out, "# %s\n# ", row->doc);
    print_type(out, row, false);
    fputc('\n', out);
}

/* One scalar-like row (not a table, not [[fault]]) as "name = value". */
static void print_row(FILE *out, const struct cfg_setting *row, const void *base)
{
    const void *field = (const char *)base + row->offset;
    const void *field_b = (const char *)base + row->offset_b;
    char num[64];
    switch (row->kind) {
    case KIND_UINT32:
        fprintf(out, "%s = %" PRIu32 "\n", row->name, *(const uint32_t *)field);
        break;
    case KIND_SEED:
        if (*(const bool *)field_b)
            fprintf(out, "%s = %" PRIu64 "\n", row->name, *(const uint64_t *)field);
        else
            fprintf(out, "# %s = (not set: a random seed per run)\n", row->name);
        break;
    case KIND_WORD:
        fprintf(out, "%s = \"%s\"\n", row->name, row->words[*(const int *)field]);
        break;
    case KIND_STRINGS: {
        const struct cfg_strings *list = field;
        fprintf(out, "%s = [", row->name);
        for (size_t j = 0; j < list->len; j++) {
            fputs(j ? ", " : "", out);
            print_string(out, list->items[j]);
        }
        fputs("]\n", out);
        break;
    }
    case KIND_BOOL:
        fprintf(out, "%s = %s\n", row->name, *(const bool *)field ? "true" : "false");
        break;
    case KIND_PATH:
    case KIND_ADDRESS:
        fprintf(out, "%s = ", row->name);
        print_string(out, *(char *const *)field);
        fputc('\n', out);
        break;
    case KIND_PROB:
        format_float(*(const double *)field, num, sizeof num);
        fprintf(out, "%s = %s\n", row->name, num);
        break;
    case KIND_RANGE:
        fprintf(out, "%s = [%" PRIu32 ", %" PRIu32 "]\n", row->name, *(const uint32_t *)field,
                *(const uint32_t *)field_b);
        break;
    case KIND_KINDS:
        fprintf(out, "%s = ", row->name);
        print_word_set(out, row->words, *(const uint32_t *)field);
        fputc('\n', out);
        break;
    case KIND_GROUPS: {
        uint32_t n_groups = *(const uint32_t *)field;
        const uint8_t *group = field_b;
        fprintf(out, "%s = [", row->name);
        for (uint32_t g = 1; g <= n_groups; g++) {
            bool first = true;
            fputs(g > 1 ? ", [" : "[", out);
            for (size_t id = 1; id <= CFG_NODES_MAX; id++) {
                if (group[id - 1] != g)
                    continue;
                fprintf(out, "%s%zu", first ? "" : ", ", id);
                first = false;
            }
            fputc(']', out);
        }
        fputs("]\n", out);
        break;
    }
    case KIND_FAULTS:
    case KIND_NODES:
    case KIND_TABLE:
        break;
    }
}

/* The documentation of an array of tables (row) with n elements: the keys each element takes. */
static void print_array_doc(FILE *out, const struct cfg_setting *row, size_t n)
{
    const struct cfg_schema *sc = row->sub;
    fprintf(out, "# %s\n# Each entry takes:\n", row->doc);
    for (size_t k = 0; k < sc->len; k++) {
        fprintf(out, "#   %s: %s (", sc->rows[k].name, sc->rows[k].doc);
        print_type(out, &sc->rows[k], true);
        fputs(")\n", out);
    }
    if (n == 0)
        fprintf(out, "# (no [[%s]] entries)\n", row->name);
}

/* [[fault]] entries, each with the keys its kind takes. With docs, first the keys' rules. */
static void print_faults(FILE *out, const struct cfg_setting *row, const void *base, bool docs)
{
    const struct cfg_fault *faults = *(struct cfg_fault *const *)((const char *)base + row->offset);
    size_t n = *(const size_t *)((const char *)base + row->offset_b);
    const struct cfg_schema *sc = row->sub;
    if (docs)
        print_array_doc(out, row, n);
    for (size_t i = 0; i < n; i++) {
        const struct cfg_fault *f = &faults[i];
        uint32_t keys =
            cfg_fault_keys_of(f->kind) | (1u << CFG_FAULT_ROW_AT_MS) | (1u << CFG_FAULT_ROW_KIND);
        fprintf(out, "\n[[%s]]\n", row->name);
        for (size_t k = 0; k < sc->len; k++)
            if (keys & (1u << k))
                print_row(out, &sc->rows[k], f);
    }
}

/* [[node]] tables in id order, every key (join only where it is true). With docs, first the keys'
 * rules. */
static void print_nodes(FILE *out, const struct cfg_setting *row, const void *base, bool docs)
{
    const struct cfg_node *nodes = *(struct cfg_node *const *)((const char *)base + row->offset);
    size_t n = *(const size_t *)((const char *)base + row->offset_b);
    const struct cfg_schema *sc = row->sub;
    if (docs)
        print_array_doc(out, row, n);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "\n[[%s]]\n", row->name);
        for (size_t k = 0; k < sc->len; k++)
            if (k != CFG_NODE_ROW_JOIN || nodes[i].join) /* join only when true */
                print_row(out, &sc->rows[k], &nodes[i]);
    }
}

static void print_table(FILE *out, const struct cfg_schema *sc, const char *prefix,
                        const void *base, bool docs)
{
    for (size_t i = 0; i < sc->len; i++) {
        const struct cfg_setting *row = &sc->rows[i];
        if (row->kind == KIND_TABLE || cfg_kind_is_array(row->kind))
            continue;
        if (docs)
            print_doc(out, row);
        print_row(out, row, base);
        if (docs)
            fputc('\n', out);
    }
    for (size_t i = 0; i < sc->len; i++) {
        const struct cfg_setting *row = &sc->rows[i];
        if (row->kind != KIND_TABLE)
            continue;
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", row->name);
        if (docs)
            fprintf(out, "# %s\n", row->doc);
        else
            fputc('\n', out);
        fprintf(out, "[%s]\n", path);
        print_table(out, row->sub, path, (const char *)base + row->offset, docs);
    }
    /* Arrays of tables last: a [table] header after them would be read as part of the last. */
    bool first = true;
    for (size_t i = 0; i < sc->len; i++) {
        if (!cfg_kind_is_array(sc->rows[i].kind))
            continue;
        if (docs && !first)
            fputc('\n', out); /* a blank line between one array's entries and the next's doc */
        first = false;
        if (sc->rows[i].kind == KIND_NODES)
            print_nodes(out, &sc->rows[i], base, docs);
        else
            print_faults(out, &sc->rows[i], base, docs);
    }
}

void cfg_print(FILE *out, const struct cfg *cfg, bool docs)
{
    print_table(out, &cfg_root_schema, "", cfg, docs);
    if (cfg->history_path != NULL) {
        fputs("\n# history: ", out);
        print_escaped(out, cfg->history_path); /* a newline in it would end the comment */
        fputs(" (from --history)\n", out);
    }
}

/* The third summary line, only when the network, disk, faults or nemesis are not the defaults. */
static void print_fault_summary(FILE *out, const struct cfg *cfg)
{
    const struct cfg_network *n = &cfg->network;
    bool network = n->drop > 0 || n->duplicate > 0 || n->delay_ms_max > 0 || n->reorder;
    const struct cfg_disk *d = &cfg->disk;
    bool slow_disk = d->write_ms_max > 0;
    bool bad_disk =
        (d->damaged_nodes > 0 && (d->bit_flip > 0 || d->misdirect > 0)) || d->sync_error > 0;
    if (!network && !slow_disk && !bad_disk && cfg->n_faults == 0 && cfg->nemesis.interval_ms == 0)
        return;
    char drop[64], dup[64];
    format_float(n->drop, drop, sizeof drop);
    format_float(n->duplicate, dup, sizeof dup);
    if (network)
        fprintf(out,
                "network: drop %s, delay %" PRIu32 "..%" PRIu32 " ms, duplicate %s, reorder %s",
                drop, n->delay_ms_min, n->delay_ms_max, dup, n->reorder ? "on" : "off");
    else
        fputs("network: reliable", out);
    if (slow_disk)
        fprintf(out, "; disk: writes durable after %" PRIu32 "..%" PRIu32 " ms",
                cfg->disk.write_ms_min, cfg->disk.write_ms_max);
    if (bad_disk) {
        char flip[64], mis[64], sync[64];
        format_float(d->bit_flip, flip, sizeof flip);
        format_float(d->misdirect, mis, sizeof mis);
        format_float(d->sync_error, sync, sizeof sync);
        fprintf(out,
                "; disk faults: %" PRIu32 " damaged node%s (bit flip %s, misdirect %s), fdatasync "
                "error %s",
                d->damaged_nodes, d->damaged_nodes == 1 ? "" : "s", flip, mis, sync);
    }
    fprintf(out, "; faults: %zu scheduled; nemesis: ", cfg->n_faults);
    if (cfg->nemesis.interval_ms == 0) {
        fputs("off\n", out);
    } else {
        char words[256];
        cfg_join_words(cfg_fault_kind_words, cfg->nemesis.kinds, words, sizeof words);
        fprintf(out, "every %" PRIu32 " ms (%s)\n", cfg->nemesis.interval_ms, words);
    }
}

void cfg_print_summary(FILE *out, const struct cfg *cfg)
{
    const struct cfg_client *c = &cfg->client;
    const struct cfg_raft *r = &cfg->raft;
    fputs("config ", out);
    print_escaped(out, cfg->path ? cfg->path : "(defaults)");
    fprintf(out, ": %" PRIu32 " nodes", cfg->num_nodes);
    if (cfg_max_nodes(cfg) > cfg->num_nodes)
        fprintf(out, " (ids up to %" PRIu32 ")", cfg_max_nodes(cfg));
    fprintf(out, ", %" PRIu32 " clients x %" PRIu32 " requests, %zu keys (", cfg->num_clients,
            c->requests, c->keys.len);
    for (size_t i = 0; i < c->keys.len && i < 8; i++) {
        fputs(i ? " " : "", out);
        print_escaped(out, c->keys.items[i]);
    }
    fprintf(out, "%s), values of %" PRIu32 " bytes, request timeout %" PRIu32 " ms\n",
            c->keys.len > 8 ? " ..." : "", c->value_size, c->timeout_ms);
    fprintf(out,
            "raft: election timeout %" PRIu32 "..%" PRIu32 " ms, heartbeat %" PRIu32
            " ms; trace: %s, %s, color %s; history: ",
            r->election_timeout_ms_min, r->election_timeout_ms_max, r->heartbeat_ms,
            cfg_level_words[cfg->trace.level], cfg_format_words[cfg->trace.format],
            cfg_color_words[cfg->trace.color]);
    print_escaped(out, cfg->history_path ? cfg->history_path : "none");
    fputc('\n', out);
    print_fault_summary(out, cfg);
}
