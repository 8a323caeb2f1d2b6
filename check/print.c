/* print.c - the verdict for people: one line when linearizable, else the failing key, the state
 * the longest linearizable prefix left and the ops involved, one per line in invoke order.
 */
#include <stdio.h>

#include "check/linearize.h"

const char *check_verdict_name(enum check_verdict v)
{
    switch (v) {
    case CHECK_LINEARIZABLE:
        return "linearizable";
    case CHECK_NOT_LINEARIZABLE:
        return "not linearizable";
    case CHECK_UNKNOWN:
        return "unknown";
    }
    return "?";
}

static void print_bytes(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    size_t shown = len < 80 ? len : 80;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
    if (shown < len)
        fprintf(out, "...(%zu bytes)", len);
}

static void print_op(FILE *out, const struct check_report_op *op)
{
    fprintf(out, "  %s process %-4llu %-6s ", op->stuck ? "=>" : "  ",
            (unsigned long long)op->process, check_f_name(op->f));
    if (op->f == CHECK_F_PUT && op->value != NULL) {
        print_bytes(out, op->value, op->value_len);
        fputc(' ', out);
    }
    if (op->type == CHECK_OK) {
        fprintf(out, "-> %s", check_res_name(op->result));
        if (op->f == CHECK_F_GET && op->value != NULL) {
            fputc(' ', out);
            print_bytes(out, op->value, op->value_len);
        }
    } else {
        fprintf(out, "-> %s (outcome unknown)", check_type_name(op->type));
    }
    if (op->complete_line != 0)
        fprintf(out, "   [%llu .. %llu] ns, lines %u-%u\n", (unsigned long long)op->invoke_ns,
                (unsigned long long)op->complete_ns, op->invoke_line, op->complete_line);
    else
        fprintf(out, "   [%llu .. never] ns, line %u (no completion)\n",
                (unsigned long long)op->invoke_ns, op->invoke_line);
}

void check_result_print(FILE *out, const struct check_result *r)
{
    switch (r->verdict) {
    case CHECK_LINEARIZABLE:
        fprintf(out, "linearizable: %zu ops (%zu keys)", r->n_ops, r->n_keys);
        if (r->n_stale > 0)
            fprintf(out, "; %zu stale read%s left out", r->n_stale, r->n_stale == 1 ? "" : "s");
        fputc('\n', out);
        return;
    case CHECK_UNKNOWN:
        fprintf(out, "unknown: search budget exhausted on key ");
        print_bytes(out, r->key, r->key_len);
        fprintf(out, " (%zu ops, %llu steps, out of %s); %zu ops (%zu keys), %zu keys unknown",
                r->key_ops, (unsigned long long)r->key_steps, r->unknown_reason, r->n_ops,
                r->n_keys, r->n_unknown_keys);
        if (r->n_stale > 0)
            fprintf(out, "; %zu stale read%s left out", r->n_stale, r->n_stale == 1 ? "" : "s");
        fputc('\n', out);
        return;
    case CHECK_NOT_LINEARIZABLE:
        break;
    }
    fprintf(out, "NOT linearizable: key ");
    print_bytes(out, r->key, r->key_len);
    fprintf(out, ": no order of its %zu ops explains them all", r->key_ops);
    if (r->n_failed_keys > 1)
        fprintf(out, " (%zu keys fail; this one has the fewest ops)", r->n_failed_keys);
    fprintf(out, "\n  the longest linearizable prefix (%zu ops) leaves the key ", r->prefix_len);
    if (r->state_present) {
        fprintf(out, "present with ");
        if (r->state_unread)
            fprintf(out, "a value no read returned");
        else
            print_bytes(out, r->state_value, r->state_value_len);
    } else {
        fprintf(out, "absent");
    }
    fprintf(out, "; then the op marked => cannot take effect. Ops involved, by invoke time:\n");
    for (size_t i = 0; i < r->n_report_ops; i++)
        print_op(out, &r->ops[i]);
    if (r->n_report_omitted > 0)
        fprintf(out, "  ... and %zu more overlapping ops\n", r->n_report_omitted);
    if (r->n_pending_info > 0)
        fprintf(out, "  (and %zu earlier info ops, not listed, that may take effect at any time)\n",
                r->n_pending_info);
}
