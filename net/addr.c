/* addr.c - host:port text to addresses: split by the configuration's own parser, then resolved by
 * getaddrinfo (blocking: called once per address when a node starts).
 */
#include "net/addr.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "config/config.h"

int net_resolve(const char *addr, int flags, struct addrinfo **res, const char **why)
{
    char host[CFG_HOST_LEN_MAX + 1], port[8];
    uint16_t port_number = 0;
    *res = NULL;
    if (cfg_split_address(addr, host, sizeof host, &port_number) != 0) {
        *why = "not a host:port address";
        return -1;
    }
    snprintf(port, sizeof port, "%u", port_number);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = flags | AI_NUMERICSERV};
    int rc = getaddrinfo(host, port, &hints, res);
    if (rc != 0 || *res == NULL) {
        if (rc == 0)
            freeaddrinfo(*res);
        *res = NULL;
        *why = rc != 0 ? gai_strerror(rc) : "no address";
        return -1;
    }
    return 0;
}
