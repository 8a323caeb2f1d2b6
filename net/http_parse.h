/* http_parse.h - the parts of an HTTP request read strictly, for net/http.c: percent-decoded
 * keys, the query's options, an admin request's node id, UTF-8 values and host:port addresses.
 * Pure: bytes in, values out; never reads past what it is given and never asserts on input.
 */
#ifndef RAFT_KV_NET_HTTP_PARSE_H
#define RAFT_KV_NET_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/kv.h"

/* Percent-decodes the len bytes at s into out (room for len bytes); '+' stays '+'. The decoded
 * length, or -1 if a '%' is not followed by two hex digits. */
long net_http_percent_decode(const char *s, size_t len, uint8_t *out);

/* True if the len bytes at s are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF). */
bool net_http_utf8_valid(const uint8_t *s, size_t len);

/* True if every byte of s is printable ASCII (what a request target may hold unencoded). */
bool net_http_printable(const char *s);

/* The query's options (../shared/http-api.md). */
struct net_http_query {
    bool has_client_id, has_seq, has_consistency;
    uint64_t client_id, seq;  /* both 0 unless given (then both > 0) */
    enum kv_read_policy read; /* KV_READ_LINEARIZABLE unless given */
};

/* Parses a query string (NULL: none) of name=value pairs split on '&' (empty pairs ignored,
 * values percent-decoded): client_id and seq, both or neither, positive integers below 2^64;
 * consistency, one of kv_read_policy_name's names. 0, or -1 with why (why_len bytes) saying what
 * is wrong: a parameter given twice, unknown, without a value, or out of its range. */
int net_http_parse_query(const char *query, struct net_http_query *q, char *why, size_t why_len);

/* Parses the query of an admin request (NULL: none): exactly one parameter, name, a node id
 * 1..max_id, into *id. 0, or -1 with why saying what is wrong: missing, given twice, not a
 * decimal integer in range, without a value, or another parameter beside it. */
int net_http_parse_node_id(const char *query, const char *name, uint32_t max_id, uint32_t *id,
                           char *why, size_t why_len);

#endif
