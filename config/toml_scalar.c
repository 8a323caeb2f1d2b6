/* toml_scalar.c - TOML numbers, booleans, dates and times, scanned by hand from the text.
 * Each value is first delimited, then checked against the exact 1.0.0 grammar, then converted:
 * integers with explicit overflow checks, floats through strtod on an underscore-free copy.
 */
#include "config/toml_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

/* The result of one scan: where it failed and why. */
struct scan {
    const char *why;
    const char *at;
};

static int fail(struct scan *sc, const char *at, const char *why)
{
    sc->at = at;
    sc->why = why;
    return TOML_ESYNTAX;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

/* Characters that can belong to a number or boolean token. */
static bool is_token_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '+' || c == '-' || c == '.';
}

/* Reads exactly n decimal digits at s into *out. */
static bool fixed_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* YYYY-MM-DD at s; year 0001-9999, real calendar days (leap years included). */
static int scan_date(const char *s, struct toml_datetime *dt, struct scan *sc)
{
    if (!fixed_digits(s, 4, &dt->year) || s[4] != '-')
        return fail(sc, s, "invalid date (expected YYYY-MM-DD)");
    if (!fixed_digits(s + 5, 2, &dt->month) || s[7] != '-')
        return fail(sc, s + 5, "invalid date: month must be two digits (YYYY-MM-DD)");
    if (!fixed_digits(s + 8, 2, &dt->day))
        return fail(sc, s + 8, "invalid date: day must be two digits (YYYY-MM-DD)");
    if (dt->year < 1)
        return fail(sc, s, "invalid date: year must be 0001..9999");
    if (dt->month < 1 || dt->month > 12)
        return fail(sc, s + 5, "invalid date: month must be 01..12");
    if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
        return fail(sc, s + 8, "invalid date: no such day in that month");
    dt->has_date = true;
    return 0;
}

/* HH:MM:SS[.fraction] at s; seconds may be 60 (an RFC 3339 leap second). Sets *end. */
static int scan_time(const char *s, struct toml_datetime *dt, const char **end, struct scan *sc)
{
    if (!fixed_digits(s, 2, &dt->hour) || s[2] != ':')
        return fail(sc, s, "invalid time (expected HH:MM:SS)");
    if (!fixed_digits(s + 3, 2, &dt->minute))
        return fail(sc, s + 3, "invalid time: minutes must be two digits (HH:MM:SS)");
    if (s[5] != ':' || !fixed_digits(s + 6, 2, &dt->second))
        return fail(sc, s + 5, "invalid time: seconds are required (HH:MM:SS)");
    if (dt->hour > 23)
        return fail(sc, s, "invalid time: hour must be 00..23");
    if (dt->minute > 59)
        return fail(sc, s + 3, "invalid time: minute must be 00..59");
    if (dt->second > 60)
        return fail(sc, s + 6, "invalid time: second must be 00..60");
    const char *p = s + 8;
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return fail(sc, p, "invalid time: expected digits after '.'");
        int scale = 100000000;
        while (is_digit(*p)) {
            if (scale > 0) {
                dt->nanosecond += (*p - '0') * scale;
                scale /= 10;
            }
            if (dt->frac_digits < 1000000)
                dt->frac_digits++;
            p++;
        }
    }
    dt->has_time = true;
    *end = p;
    return 0;
}

/* Z, z or +HH:MM / -HH:MM at s; sets *end. */
static int scan_offset(const char *s, struct toml_datetime *dt, const char **end, struct scan *sc)
{
    if (*s == 'Z' || *s == 'z') {
        dt->has_offset = true;
        dt->offset_is_z = true;
        *end = s + 1;
        return 0;
    }
    if (*s != '+' && *s != '-') {
        *end = s;
        return 0;
    }
    int h, m;
    if (!fixed_digits(s + 1, 2, &h) || s[3] != ':' || !fixed_digits(s + 4, 2, &m))
        return fail(sc, s, "invalid time offset (expected Z or +HH:MM)");
    if (h > 23 || m > 59)
        return fail(sc, s, "invalid time offset: out of range");
    dt->has_offset = true;
    dt->offset_minutes = (*s == '-' ? -1 : 1) * (h * 60 + m);
    *end = s + 6;
    return 0;
}

/* A date, date-time or time starting at s (the caller saw its shape). */
static int scan_datetime(const char *s, struct toml_value *v, const char **end, struct scan *sc)
{
    struct toml_datetime *dt = &v->u.dt;
    memset(dt, 0, sizeof *dt);
    int rc;
    if (s[2] == ':') {
        if ((rc = scan_time(s, dt, end, sc)) != 0)
            return rc;
        v->type = TOML_TIME_LOCAL;
        return 0;
    }
    if ((rc = scan_date(s, dt, sc)) != 0)
        return rc;
    const char *p = s + 10;
    bool has_time = *p == 'T' || *p == 't';
    /* A space separates date and time only when a time follows; else the date ends here. */
    if (*p == ' ' && is_digit(p[1]) && is_digit(p[2]) && p[3] == ':')
        has_time = true;
    if (!has_time) {
        v->type = TOML_DATE_LOCAL;
        *end = p;
        return 0;
    }
    if ((rc = scan_time(p + 1, dt, &p, sc)) != 0)
        return rc;
    if ((rc = scan_offset(p, dt, end, sc)) != 0)
        return rc;
    v->type = dt->has_offset ? TOML_DATETIME : TOML_DATETIME_LOCAL;
    return 0;
}

/* Digits of the given base with '_' allowed only between two digits; at least one digit.
 * Sets *end past them. */
static int scan_digits(const char *s, const char *lim, int base, const char **end, struct scan *sc)
{
    const char *p = s;
    if (p >= lim || digit_value(*p) >= base)
        return fail(sc, p,
                    p < lim && *p == '_' ? "'_' must be between digits" : "expected a digit");
    while (p < lim) {
        if (*p == '_') {
            if (p + 1 >= lim || digit_value(p[1]) >= base)
                return fail(sc, p, "'_' must be between digits");
            p++;
        } else if (digit_value(*p) >= base) {
            break;
        }
        p++;
    }
    *end = p;
    return 0;
}

/* 0x, 0o or 0b integer digits in [s, lim): no sign, at most INT64_MAX. */
static int convert_radix(const char *s, const char *lim, int base, struct toml_value *v,
                         struct scan *sc)
{
    const char *p;
    int rc = scan_digits(s, lim, base, &p, sc);
    if (rc != 0)
        return rc;
    if (p != lim)
        return fail(sc, p,
                    base == 16  ? "invalid hexadecimal digit"
                    : base == 8 ? "invalid octal digit"
                                : "invalid binary digit");
    uint64_t u = 0;
    for (p = s; p < lim; p++) {
        if (*p == '_')
            continue;
        uint64_t d = (uint64_t)digit_value(*p);
        if (u > ((uint64_t)INT64_MAX - d) / (uint64_t)base)
            return fail(sc, s, "integer out of range (must fit in 64 bits signed)");
        u = u * (uint64_t)base + d;
    }
    v->type = TOML_INTEGER;
    v->u.integer = (int64_t)u;
    return 0;
}

/* Decimal integer digits in [s, lim) (already validated), with the sign, into v. */
static int convert_decimal(const char *s, const char *lim, bool negative, struct toml_value *v,
                           struct scan *sc)
{
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t u = 0;
    for (const char *p = s; p < lim; p++) {
        if (*p == '_')
            continue;
        uint64_t d = (uint64_t)(*p - '0');
        if (u > (limit - d) / 10)
            return fail(sc, s, "integer out of range (must fit in 64 bits signed)");
        u = u * 10 + d;
    }
    v->type = TOML_INTEGER;
    if (negative)
        v->u.integer = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    else
        v->u.integer = (int64_t)u;
    return 0;
}

/* A validated float token in [s, lim): strtod on a copy without underscores. */
static int convert_float(const char *s, const char *lim, struct toml_value *v, struct scan *sc)
{
    size_t n = (size_t)(lim - s);
    char *copy = xmalloc(n + 1);
    size_t k = 0;
    for (const char *p = s; p < lim; p++)
        if (*p != '_')
            copy[k++] = *p;
    copy[k] = '\0';
    errno = 0;
    char *endp;
    double d = strtod(copy, &endp);
    int overflow = errno == ERANGE && isinf(d);
    bool whole = *endp == '\0';
    free(copy);
    if (!whole)
        return fail(sc, s, "invalid float");
    if (overflow)
        return fail(sc, s, "float out of range");
    v->type = TOML_FLOAT;
    v->u.flt = d;
    return 0;
}

/* A number or boolean token in [s, lim). */
static int scan_number(const char *s, const char *lim, struct toml_value *v, struct scan *sc)
{
    size_t n = (size_t)(lim - s);
    if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0)) {
        v->type = TOML_BOOL;
        v->u.boolean = n == 4;
        return 0;
    }
    const char *p = s;
    bool negative = false, sign = false;
    if (*p == '+' || *p == '-') {
        negative = *p == '-';
        sign = true;
        p++;
    }
    size_t rest = (size_t)(lim - p);
    if (rest == 3 && (memcmp(p, "inf", 3) == 0 || memcmp(p, "nan", 3) == 0)) {
        v->type = TOML_FLOAT;
        if (p[0] == 'i')
            v->u.flt = negative ? -INFINITY : INFINITY;
        else
            v->u.flt = negative ? -NAN : NAN;
        return 0;
    }
    if (rest >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b')) {
        if (sign)
            return fail(sc, s, "a sign is only allowed on decimal integers");
        int base = p[1] == 'x' ? 16 : p[1] == 'o' ? 8 : 2;
        return convert_radix(p + 2, lim, base, v, sc);
    }
    if (p >= lim || !is_digit(*p))
        return fail(sc, s,
                    "invalid value (expected a string, number, boolean, date, array or "
                    "inline table)");
    const char *int_end;
    int rc = scan_digits(p, lim, 10, &int_end, sc);
    if (rc != 0)
        return rc;
    if (*p == '0' && int_end - p > 1)
        return fail(sc, p, "leading zeros are not allowed");
    const char *q = int_end;
    bool is_float = false;
    if (q < lim && *q == '.') {
        is_float = true;
        if ((rc = scan_digits(q + 1, lim, 10, &q, sc)) != 0)
            return rc;
    }
    if (q < lim && (*q == 'e' || *q == 'E')) {
        is_float = true;
        q++;
        if (q < lim && (*q == '+' || *q == '-'))
            q++;
        if ((rc = scan_digits(q, lim, 10, &q, sc)) != 0)
            return rc;
    }
    if (q != lim)
        return fail(sc, q, "invalid number");
    if (is_float)
        return convert_float(s, lim, v, sc);
    return convert_decimal(p, int_end, negative, v, sc);
}

int toml_scan_scalar(const char *s, struct toml_value *v, const char **end, const char **why,
                     const char **why_at)
{
    struct scan sc = {0};
    int rc;
    bool date_shape =
        is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && s[4] == '-';
    bool time_shape = is_digit(s[0]) && is_digit(s[1]) && s[2] == ':';
    if (date_shape || time_shape) {
        rc = scan_datetime(s, v, end, &sc);
    } else {
        const char *lim = s;
        while (is_token_char(*lim))
            lim++;
        if (lim == s)
            rc = fail(&sc, s, "expected a value");
        else
            rc = scan_number(s, lim, v, &sc);
        *end = lim;
    }
    if (rc != 0) {
        *why = sc.why;
        *why_at = sc.at;
    }
    return rc;
}
