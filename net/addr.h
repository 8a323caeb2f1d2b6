/* addr.h - a node's "host:port" address (a [[node]] table's raft or http) to socket addresses:
 * the one place where the peers (net/peer.c) and the HTTP server (net/http.c) resolve theirs.
 */
#ifndef RAFT_KV_NET_ADDR_H
#define RAFT_KV_NET_ADDR_H

#include <netdb.h>

/* The stream addresses of addr ("host:port", "[v6]:port": cfg_split_address's form), found by
 * getaddrinfo with ai_flags flags (AI_PASSIVE to listen; AI_NUMERICSERV is always added). 0 with
 * *res (freeaddrinfo it; never empty), or -1 with *why a static reason: EAI_NONAME-like text from
 * gai_strerror, or "not a host:port address". */
int net_resolve(const char *addr, int flags, struct addrinfo **res, const char **why);

#endif
