/* config_address.c - the addresses and directories of [[node]] tables, read as text: "host:port"
 * split and checked, directories compared by segments. Nothing is resolved (no socket here).
 */
#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "config/config.h"
#include "config/config_schema.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A host name or IPv4 address: letters, digits, '-', '.', '_' (no ':', so an IPv6 address
 * must come in brackets). */
static bool name_ok(const char *h, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(h[i]) && h[i] != '-' && h[i] != '.' && h[i] != '_')
            return false;
    return true;
}

/* The inside of "[...]": hex digits, ':' (two at least) and '.' (an IPv4 tail), then maybe
 * "%zone" (letters, digits, '-', '.', '_'). */
static bool ipv6_ok(const char *h, size_t len)
{
    size_t i = 0, colons = 0;
    for (; i < len && h[i] != '%'; i++) {
        if (h[i] == ':')
            colons++;
        else if (!is_hex(h[i]) && h[i] != '.')
            return false;
    }
    if (colons < 2)
        return false;
    if (i == len)
        return true;
    return len - i - 1 > 0 && name_ok(h + i + 1, len - i - 1);
}

/* Decimal 1..65535, digits only, no leading zero, the whole of s. */
static bool port_ok(const char *s, uint16_t *port)
{
    uint32_t value = 0;
    size_t n = 0;
    if (s[0] == '0')
        return false;
    for (; is_digit(s[n]); n++) {
        if (n == 5)
            return false; /* six digits or more: above 65535 */
        value = value * 10 + (uint32_t)(s[n] - '0');
    }
    if (n == 0 || s[n] != '\0' || value > UINT16_MAX)
        return false;
    *port = (uint16_t)value;
    return true;
}

int cfg_split_address(const char *addr, char *host, size_t host_len, uint16_t *port)
{
    assert(addr != NULL && host != NULL && port != NULL);
    const char *h, *colon;
    size_t len;
    uint16_t p;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        h = addr + 1;
        len = (size_t)(close - h);
        if (!ipv6_ok(h, len))
            return -1;
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL)
            return -1;
        h = addr;
        len = (size_t)(colon - addr);
        if (!name_ok(h, len))
            return -1;
    }
    if (len == 0 || len > CFG_HOST_LEN_MAX || len >= host_len || !port_ok(colon + 1, &p))
        return -1;
    memcpy(host, h, len);
    host[len] = '\0';
    *port = p;
    return 0;
}

/* The next segment of a path at s: skips '/' and "." segments; *len is 0 at the end. */
static const char *next_segment(const char *s, size_t *len)
{
    for (;;) {
        while (*s == '/')
            s++;
        size_t n = strcspn(s, "/");
        if (n == 1 && s[0] == '.') {
            s++;
            continue;
        }
        *len = n;
        return s;
    }
}

bool cfg_same_dir(const char *a, const char *b)
{
    if ((a[0] == '/') != (b[0] == '/'))
        return false;
    for (;;) {
        size_t la, lb;
        a = next_segment(a, &la);
        b = next_segment(b, &lb);
        if (la == 0 || lb == 0)
            return la == lb;
        if (la != lb || memcmp(a, b, la) != 0)
            return false;
        a += la;
        b += lb;
    }
}
