/* http.h - the HTTP client API of raft_kv serve (../shared/http-api.md): libevent's evhttp on the
 * event loop of the node's network actor (net/loop.c), JSON by jansson.
 *
 * A request becomes a kv command sent to the node actor with actor_call_async; the HTTP reply is
 * sent when the answer comes back to the network actor (net_http_answer), so no thread ever
 * blocks on a client: a write is answered once its entry is applied, a read once it is served.
 * The admin endpoints (POST /admin/add, /admin/remove, /admin/transfer) are NODE_MSG_CHANGE calls
 * on the same path, answered as soon as the leader has taken or refused the change.
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
    uint32_t n_nodes;              /* ids are 1..n_nodes: every [[node]] table, joining ones too */
    const char *const *http_addrs; /* node i+1's http address "host:port" at [i] (copied) */
    struct actor *node;            /* borrowed: the node actor that requests go to */
    struct actor *loop;            /* borrowed: the network actor whose thread runs the base;
                                      the answers of the calls come back to it */
    /* Limits; each 0 takes the default in brackets. */
    uint32_t request_timeout_ms; /* an answer not back by then: 504, outcome unknown [5000] */
    uint32_t idle_timeout_ms;    /* a connection silent this long while it is read or written
                                    is closed [30000] */
    size_t max_header_bytes;     /* request line and headers [8192] */
    size_t max_body_bytes;       /* a PUT's value [KV_MAX_VALUE] */
    uint32_t max_connections;    /* more are answered 503 and closed at once [1024] */
};

/* Listens on this node's http address (on every address a host name resolves to), on the
 * loop's thread, whose SIGPIPE it blocks: a client that leaves before its answer must not end
 * the process. The options are copied, the addresses too. 0, or -1 with err saying what failed
 * ("cannot listen on 127.0.0.1:8001: Address already in use"). How requests are read and
 * answered, beyond the contract: docs/http.md. */
int net_http_open(struct net_http **out, struct event_base *base,
                  const struct net_http_options *opt, char *err, size_t err_len);
/* An answer to one of the front end's asynchronous calls (the network actor hands it every
 * ACTOR_MSG_ANSWER); takes it. */
void net_http_answer(struct net_http *h, struct actor_answer *a);
/* Stops listening and closes every connection. Requests still waiting are answered first (a
 * write 504 with outcome unknown, since it may still commit; a read 503), written out as far as
 * the sockets take them without waiting. NULL is allowed. */
void net_http_close(struct net_http *h);

#endif
