/* cli.c - the raft_kv command line: a table of options, each a handler and a line of help; flags
 * that stand for a setting (--trace-format) become TOML overrides, validated like the file. At
 * most one action is taken, and an option the action would not read is refused, never ignored. */
#include "config/config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "config/toml.h"

struct option;
typedef int (*option_handler)(struct cfg_cli *cli, const struct option *opt, const char *value,
                              struct cfg_error *err);

struct option {
    const char *name; /* without the leading "--" */
    const char *arg;  /* the argument's name in the usage, NULL if the option takes none */
    option_handler handle;
    const char *setting;    /* opt_word: the enumerated setting it overrides */
    enum cfg_action action; /* the action it selects; CFG_ACTION_RUN if it selects none */
    const char *help;
};

__attribute__((format(printf, 2, 3))) static int usage_error(struct cfg_error *err, const char *fmt,
                                                             ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return CFG_EUSAGE;
}

/* Takes ownership of origin and toml. */
static void add_override(struct cfg_cli *cli, char *origin, char *toml)
{
    cli->overrides = xreallocarray(cli->overrides, cli->num_overrides + 1, sizeof *cli->overrides);
    cli->overrides[cli->num_overrides].origin = origin;
    cli->overrides[cli->num_overrides].toml = toml;
    cli->num_overrides++;
}

static char *format_string(const char *a, const char *b, const char *c)
{
    size_t len = strlen(a) + strlen(b) + strlen(c);
    char *s = xmalloc(len + 1);
    snprintf(s, len + 1, "%s%s%s", a, b, c);
    return s;
}

static int opt_set(struct cfg_cli *cli, const struct option *opt, const char *value,
                   struct cfg_error *err)
{
    const char *eq = strchr(value, '=');
    if (eq == NULL || eq == value)
        return usage_error(err, "--set '%s': expected KEY=VALUE, e.g. --set raft.heartbeat_ms=20",
                           value);
    add_override(cli, format_string("--set '", value, "'"), xstrdup(value));
    return 0;
}

static int opt_seed(struct cfg_cli *cli, const struct option *opt, const char *value,
                    struct cfg_error *err)
{
    uint64_t seed = 0;
    const char *p = value;
    if (*p == '\0')
        goto bad;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        unsigned digit = (unsigned)(*p - '0');
        if (seed > ((uint64_t)CFG_SEED_MAX - digit) / 10)
            goto bad;
        seed = seed * 10 + digit;
    }
    cli->seed = seed;
    cli->seed_given = true;
    return 0;
bad:
    return usage_error(err, "--seed '%s': expected a decimal number 0..%" PRId64, value,
                       (int64_t)CFG_SEED_MAX);
}

static int opt_history(struct cfg_cli *cli, const struct option *opt, const char *value,
                       struct cfg_error *err)
{
    if (*value == '\0')
        return usage_error(err, "--history: expected a file name");
    cli->history_path = value;
    return 0;
}

static int opt_timeline(struct cfg_cli *cli, const struct option *opt, const char *value,
                        struct cfg_error *err)
{
    bool html = strcmp(opt->name, "timeline") == 0;
    if (*value == '\0')
        return usage_error(err, "--%s: expected a file name", opt->name);
    *(html ? &cli->timeline_path : &cli->perfetto_path) = value;
    return 0;
}

static int opt_check_history(struct cfg_cli *cli, const struct option *opt, const char *value,
                             struct cfg_error *err)
{
    if (*value == '\0')
        return usage_error(err, "--check-history: expected a file name");
    cli->action = CFG_ACTION_CHECK_HISTORY;
    cli->check_history_path = value;
    return 0;
}

static int opt_sweep(struct cfg_cli *cli, const struct option *opt, const char *value,
                     struct cfg_error *err)
{
    uint64_t n = 0;
    const char *p = value;
    for (; *p >= '0' && *p <= '9' && n <= 1000000000; p++)
        n = n * 10 + (uint64_t)(*p - '0');
    if (*value == '\0' || *p != '\0' || n < 1 || n > 1000000000)
        return usage_error(err, "--sweep '%s': expected a number of seeds, 1..1000000000", value);
    cli->action = CFG_ACTION_SWEEP;
    cli->sweep_seeds = n;
    return 0;
}

/* A flag that sets an enumerated setting: checked here (a bad word is a usage error), then
 * applied as the override SETTING="WORD". */
static int opt_word(struct cfg_cli *cli, const struct option *opt, const char *value,
                    struct cfg_error *err)
{
    char words[256];
    if (!cfg_word_allowed(opt->setting, value, NULL, words, sizeof words))
        return usage_error(err, "--%s '%s': expected one of %s", opt->name, value, words);
    size_t origin_len = strlen(opt->name) + strlen(value) + 4;
    size_t toml_len = strlen(opt->setting) + strlen(value) + 8;
    char *origin = xmalloc(origin_len), *toml = xmalloc(toml_len);
    snprintf(origin, origin_len, "--%s=%s", opt->name, value);
    snprintf(toml, toml_len, "%s = \"%s\"", opt->setting, value);
    add_override(cli, origin, toml);
    return 0;
}

/* --data-dir DIR: the overrides storage.kind = "disk" and storage.data_dir = DIR, the path
 * written as a TOML basic string (backslash, quote and control characters escaped). */
static int opt_data_dir(struct cfg_cli *cli, const struct option *opt, const char *value,
                        struct cfg_error *err)
{
    if (*value == '\0')
        return usage_error(err, "--data-dir: expected a directory name");
    size_t len = strlen(value);
    size_t toml_len = 64 + 6 * len; /* the fixed text, and each byte escaped at worst */
    char *toml = xmalloc(toml_len);
    size_t n = (size_t)snprintf(toml, toml_len, "storage.kind = \"disk\"\nstorage.data_dir = \"");
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            n += (size_t)snprintf(toml + n, toml_len - n, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            n += (size_t)snprintf(toml + n, toml_len - n, "\\u%04x", *p);
        else
            toml[n++] = (char)*p;
    }
    snprintf(toml + n, toml_len - n, "\"");
    add_override(cli, format_string("--data-dir '", value, "'"), toml);
    cli->data_dir_given = true;
    return 0;
}

/* An action without an argument: --simulate, --print-config, --help-config, --help, --version */
static int opt_action(struct cfg_cli *cli, const struct option *opt, const char *value,
                      struct cfg_error *err)
{
    cli->action = opt->action;
    return 0;
}

/* The usage message is generated from this table; a new option is one row and a handler. */
static const struct option options[] = {
    {"set", "KEY=VALUE", opt_set, NULL, CFG_ACTION_RUN,
     "override a setting, VALUE in TOML syntax (repeatable), e.g.\n"
     "--set raft.heartbeat_ms=20 --set 'client.keys=[\"x\", \"y\"]'"},
    {"seed", "N", opt_seed, NULL, CFG_ACTION_RUN,
     "seed of the run (decimal, 0..2^63-1); overrides 'seed'"},
    {"history", "FILE", opt_history, NULL, CFG_ACTION_RUN, "write every client operation to FILE"},
    {"timeline", "FILE", opt_timeline, NULL, CFG_ACTION_RUN,
     "draw the run as one self-contained HTML file: every message, role, commit, fault and "
     "client operation on a time axis"},
    {"perfetto", "FILE", opt_timeline, NULL, CFG_ACTION_RUN,
     "write the run in Chrome's trace-event format, for Perfetto (ui.perfetto.dev)"},
    {"data-dir", "DIR", opt_data_dir, NULL, CFG_ACTION_RUN,
     "keep every node's files under DIR/nodeID (storage.kind = \"disk\"):\n"
     "a crashed node restarts from its files, and the same command again\n"
     "resumes the cluster"},
    {"check-history", "FILE", opt_check_history, NULL, CFG_ACTION_CHECK_HISTORY,
     "check the history in FILE for linearizability, print the verdict, exit\n"
     "(0 linearizable, 1 not linearizable or unreadable, 3 undecided)"},
    {"simulate", NULL, opt_action, NULL, CFG_ACTION_SIMULATE,
     "run CONFIG in the deterministic simulator (virtual time, one thread):\n"
     "the same seed gives the same trace and history"},
    {"sweep", "N", opt_sweep, NULL, CFG_ACTION_SWEEP,
     "simulate seeds S..S+N-1 (S = --seed, default 1; S+N-1 <= 2^63-1), each\n"
     "drawing its own cluster, clients, network and nemesis; print each\n"
     "failing seed's replay"},
    {"trace-format", "FORMAT", opt_word, "trace.format", CFG_ACTION_RUN,
     "text | jsonl (sets trace.format)"},
    {"trace-level", "LEVEL", opt_word, "trace.level", CFG_ACTION_RUN,
     "quiet | info | debug | messages (sets trace.level)"},
    {"color", "WHEN", opt_word, "trace.color", CFG_ACTION_RUN,
     "auto | always | never (sets trace.color)"},
    {"print-config", NULL, opt_action, NULL, CFG_ACTION_PRINT_CONFIG,
     "print the effective configuration as TOML, exit"},
    {"help-config", NULL, opt_action, NULL, CFG_ACTION_HELP_CONFIG,
     "list every setting with its default and range"},
    {"help", NULL, opt_action, NULL, CFG_ACTION_HELP, "print this message (also -h)"},
    {"version", NULL, opt_action, NULL, CFG_ACTION_VERSION, "print the version"},
};

static const struct option *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

/* Which settings one override sets, as the sweep reads them: the seed (read by every sweep),
 * trace.* (read by a sweep of one seed) or anything else (never read). An override that is not
 * valid TOML counts as the seed, so that cfg_load_cli reports its syntax error. */
enum override_scope { OVERRIDE_SEED, OVERRIDE_TRACE, OVERRIDE_OTHER };

static enum override_scope override_scope_of(const struct cfg_override *o)
{
    struct toml_table *root = NULL;
    struct toml_error terr;
    enum override_scope scope = OVERRIDE_SEED;
    if (toml_parse_buffer(o->toml, strlen(o->toml), o->origin, &root, &terr) != 0)
        return OVERRIDE_SEED;
    for (size_t i = 0; i < root->len; i++) {
        const char *key = root->items[i].key;
        if (strcmp(key, "trace") == 0 && scope == OVERRIDE_SEED)
            scope = OVERRIDE_TRACE;
        else if (strcmp(key, "seed") != 0 && strcmp(key, "trace") != 0)
            scope = OVERRIDE_OTHER;
    }
    toml_free(root);
    return scope;
}

/* --sweep draws each seed's configuration from the seed: it reads no config file and no setting
 * but the seed and trace.*; a sweep of several seeds prints no trace and writes no history, so
 * it reads no trace setting and no --history either. config_path is the CONFIG argument or
 * NULL. */
static int check_sweep(const struct cfg_cli *cli, const char *config_path, struct cfg_error *err)
{
    static const char *const why = "the sweep draws each configuration from its seed and takes "
                                   "only --seed, --set seed=N and the trace settings";
    char many[64];
    snprintf(many, sizeof many, "--sweep %llu", (unsigned long long)cli->sweep_seeds);
    if (config_path != NULL)
        return usage_error(err, "--sweep cannot be combined with the config file '%s': %s",
                           config_path, why);
    for (size_t i = 0; i < cli->num_overrides; i++) {
        enum override_scope scope = override_scope_of(&cli->overrides[i]);
        if (scope == OVERRIDE_OTHER)
            return usage_error(err, "--sweep cannot be combined with %s: %s",
                               cli->overrides[i].origin, why);
        if (scope == OVERRIDE_TRACE && cli->sweep_seeds > 1)
            return usage_error(err,
                               "%s cannot be combined with %s: a sweep of several seeds prints "
                               "no trace; replay one seed with --sweep 1 --seed S",
                               many, cli->overrides[i].origin);
    }
    if (cli->history_path != NULL && cli->sweep_seeds > 1)
        return usage_error(err,
                           "%s cannot be combined with --history: a sweep of several seeds "
                           "writes no history; replay one seed with --sweep 1 --seed S "
                           "--history FILE",
                           many);
    if ((cli->timeline_path != NULL || cli->perfetto_path != NULL) && cli->sweep_seeds > 1)
        return usage_error(err,
                           "%s cannot be combined with --%s: draw one seed with --sweep 1 "
                           "--seed S --%s FILE",
                           many, cli->timeline_path ? "timeline" : "perfetto",
                           cli->timeline_path ? "timeline" : "perfetto");
    return 0;
}

/* Refuses an option the chosen action would not read, naming both: --check-history reads only
 * its file and --help-config only the schema; the sweep is check_sweep's. The run, --simulate
 * and --print-config read every option. config_path is the CONFIG argument or NULL. */
static int check_unread(const struct cfg_cli *cli, const char *config_path, struct cfg_error *err)
{
    const char *action, *why;
    char other[600];
    switch (cli->action) {
    case CFG_ACTION_SWEEP:
        return check_sweep(cli, config_path, err);
    case CFG_ACTION_SIMULATE:
        if (cli->data_dir_given)
            return usage_error(err, "--simulate cannot be combined with --data-dir: the "
                                    "simulator keeps every node's files on its simulated disk");
        return 0;
    case CFG_ACTION_CHECK_HISTORY:
        action = "--check-history";
        why = "it reads only its history file";
        break;
    case CFG_ACTION_HELP_CONFIG:
        action = "--help-config";
        why = "it lists every setting at its default (--print-config shows the effective "
              "configuration)";
        break;
    default:
        return 0;
    }
    if (config_path != NULL)
        snprintf(other, sizeof other, "the config file '%s'", config_path);
    else if (cli->num_overrides > 0)
        snprintf(other, sizeof other, "%s", cli->overrides[0].origin);
    else if (cli->seed_given)
        snprintf(other, sizeof other, "--seed");
    else if (cli->history_path != NULL)
        snprintf(other, sizeof other, "--history");
    else if (cli->timeline_path != NULL)
        snprintf(other, sizeof other, "--timeline");
    else if (cli->perfetto_path != NULL)
        snprintf(other, sizeof other, "--perfetto");
    else
        return 0;
    return usage_error(err, "%s cannot be combined with %s: %s", action, other, why);
}

int cfg_cli_parse(struct cfg_cli *cli, int argc, char *const argv[], struct cfg_error *err)
{
    /* The first action option given, and a second one (refused once all are read, so that
     * --help and --version win wherever they stand). */
    const struct option *first_action = NULL, *second_action = NULL;
    bool options_done = false;
    memset(cli, 0, sizeof *cli);
    cli->action = CFG_ACTION_RUN;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || a[0] != '-' || a[1] == '\0') {
            if (cli->config_path != NULL)
                return usage_error(err, "more than one config file: '%s' and '%s'",
                                   cli->config_path, a);
            cli->config_path = a;
            continue;
        }
        if (strcmp(a, "-h") == 0) {
            cli->action = CFG_ACTION_HELP;
            return 0;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        const struct option *opt = NULL;
        if (a[1] == '-')
            opt = find_option(name, eq ? (size_t)(eq - name) : strlen(name));
        if (opt == NULL)
            return usage_error(err, "unknown option '%s'", a);
        const char *value = NULL;
        if (opt->arg != NULL) {
            if (eq != NULL)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return usage_error(err, "option '--%s' needs an argument (%s)", opt->name,
                                   opt->arg);
        } else if (eq != NULL) {
            return usage_error(err, "option '--%s' takes no argument", opt->name);
        }
        int rc = opt->handle(cli, opt, value, err);
        if (rc != 0)
            return rc;
        if (cli->action == CFG_ACTION_HELP || cli->action == CFG_ACTION_VERSION)
            return 0;
        if (opt->action != CFG_ACTION_RUN && first_action == NULL)
            first_action = opt;
        else if (opt->action != CFG_ACTION_RUN && second_action == NULL)
            second_action = opt;
    }
    if (second_action == first_action && first_action != NULL)
        return usage_error(err, "--%s is given twice; give it once", first_action->name);
    if (second_action != NULL)
        return usage_error(err, "--%s cannot be combined with --%s: they are two actions; give one",
                           first_action->name, second_action->name);
    int rc = check_unread(cli, cli->config_path, err);
    if (rc != 0)
        return rc;
    if (cli->config_path == NULL && cli->action != CFG_ACTION_SWEEP)
        cli->config_path = CFG_DEFAULT_PATH;
    return 0;
}

void cfg_cli_close(struct cfg_cli *cli)
{
    for (size_t i = 0; i < cli->num_overrides; i++) {
        free((char *)cli->overrides[i].origin);
        free((char *)cli->overrides[i].toml);
    }
    free(cli->overrides);
    memset(cli, 0, sizeof *cli);
}

int cfg_load_cli(struct cfg *cfg, const struct cfg_cli *cli, struct cfg_error *err)
{
    int rc;
    if (cli->config_path != NULL) {
        rc = cfg_load(cfg, cli->config_path, cli->overrides, cli->num_overrides, err);
    } else { /* no file to read (--sweep): the defaults and the overrides */
        rc = cfg_load_buffer(cfg, "", 0, "(defaults)", cli->overrides, cli->num_overrides, err);
        if (rc == 0) {
            free(cfg->path);
            cfg->path = NULL;
        }
    }
    if (rc != 0)
        return rc;
    if (cli->seed_given) {
        cfg->seed = cli->seed;
        cfg->seed_given = true;
    }
    if (cli->history_path != NULL)
        cfg->history_path = xstrdup(cli->history_path);
    /* Every seed of a sweep must be a seed: the replay line of each prints it as --seed N. */
    if (cli->action == CFG_ACTION_SWEEP && cfg->seed_given &&
        cfg->seed > (uint64_t)CFG_SEED_MAX - (cli->sweep_seeds - 1)) {
        usage_error(err,
                    "--sweep %" PRIu64 " from seed %" PRIu64 ": the seeds S..S+N-1 must be at most "
                    "%" PRId64 "; start at %" PRIu64 " or below",
                    cli->sweep_seeds, cfg->seed, (int64_t)CFG_SEED_MAX,
                    (uint64_t)CFG_SEED_MAX - (cli->sweep_seeds - 1));
        cfg_close(cfg);
        return CFG_EUSAGE;
    }
    return 0;
}

void cfg_usage(FILE *out)
{
    fputs(
        "usage: raft_kv [OPTIONS] [CONFIG]\n"
        "Runs a Raft-replicated key-value store as configured by CONFIG (default " CFG_DEFAULT_PATH
        ").\n\noptions:\n",
        out);
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        const struct option *o = &options[i];
        char head[64];
        snprintf(head, sizeof head, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(out, "  %-22s ", head);
        for (const char *h = o->help; *h != '\0'; h++) {
            fputc(*h, out);
            if (*h == '\n')
                fprintf(out, "  %-22s ", "");
        }
        fputc('\n', out);
    }
    fputs("\nSettings come from CONFIG, then each --set and flag in order, then --seed.\n"
          "At most one action: --check-history, --simulate, --sweep, --print-config or\n"
          "--help-config; without one, raft_kv runs CONFIG on threads. An option that the\n"
          "action would not read is refused, never ignored:\n"
          "  --check-history, --help-config  take no other option and no CONFIG\n"
          "  --sweep N   reads no CONFIG (needs no config.toml); takes only --seed,\n"
          "              --set seed=N and the trace settings; with N > 1, no trace\n"
          "              setting and no --history (replay one seed with --sweep 1)\n"
          "--help and --version win over every other option, conflicting or not (a\n"
          "malformed argument before them is still an error).\n"
          "Exit status: 0 consistent, 1 bad configuration or a safety failure (INCONSISTENT),\n"
          "2 bad command line, 4 a liveness failure (no leader, not converged, clients not\n"
          "done), 130/143 interrupted by SIGINT/SIGTERM (the summary is printed first).\n"
          "\n"
          "Subcommands (each says its usage with --help):\n"
          "  raft_kv serve --node ID [--join] CONFIG   one node of a networked cluster ([[node]]\n"
          "                                      tables; --join: a node that waits to be added)\n"
          "  raft_kv put|get|delete KEY [VALUE] --cluster CONFIG   a request to such a cluster\n"
          "  raft_kv timeline TRACE.jsonl [HISTORY.jsonl] -o FILE.html [--perfetto FILE.json]\n"
          "  raft_kv inspect DATA_DIR            what a node's storage directory holds\n",
          out);
}
