/* http.h - the HTTP client API of raft_kv serve (../shared/http-api.md): libevent's evhttp on the
 * event loop of the node's network actor (net/loop.c), JSON by jansson.
 *
 * A request becomes a kv command sent to the node actor with actor_call_async; the HTTP reply is
 * sent when the answer comes back to the network actor (net_http_answer), so no thread ever
 * blocks on a client: a write is answered once its entry is applied, a read once it is served.
 */
#ifndef RAFT_KV_NET_HTTP_H
#define RAFT_KV_NET_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/actor.h"

struct event_base;
struct net_http;

struct net_http_options {
    uint32_t self;                 /* this node's id */
    uint32_t n_nodes;              /* ids are 1..n_nodes */
    const char *const *http_addrs; /* borrowed: node i+1's http address "host:port" at [i] */
    struct actor *node;            /* borrowed: the node actor that requests go to */
    struct actor *loop;            /* borrowed: the network actor whose thread runs the base;
                                      the answers of the calls come back to it */
    uint32_t request_timeout_ms;   /* an answer not back by then: 504, outcome unknown */
    size_t max_header_bytes, max_body_bytes;
    uint32_t max_connections;
};

/* Listens on this node's http address. 0, or -1 with err saying what failed. */
int net_http_open(struct net_http **out, struct event_base *base,
                  const struct net_http_options *opt, char *err, size_t err_len);
/* An answer to one of the front end's asynchronous calls (the network actor hands it every
 * ACTOR_MSG_ANSWER); takes it. */
void net_http_answer(struct net_http *h, struct actor_answer *a);
/* Stops listening; requests still waiting are answered 503 and connections closed. NULL is
 * allowed. */
void net_http_close(struct net_http *h);

#endif
