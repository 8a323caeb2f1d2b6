/* serve.h - raft_kv's networked mode: `raft_kv serve --node ID [--join] CONFIG` runs one node of
 * the cluster that CONFIG's [[node]] tables list, and `raft_kv put|get|delete` is its command-line
 * client (../shared/http-api.md is the contract for both).
 */
#ifndef RAFT_KV_NET_SERVE_H
#define RAFT_KV_NET_SERVE_H

/* `raft_kv serve` with its arguments (argv[0] is the first after "serve"). Runs in the foreground
 * until SIGTERM or SIGINT. --join starts the node as a joining server (raft_options.join), which
 * waits to be added before it campaigns; a node whose table says join = true needs it. Exit
 * status: 0 after a clean stop, 1 for a bad configuration, a data directory it cannot use or an
 * address it cannot listen on, 2 for a bad command line (a join = true node without --join
 * included). */
int net_serve_command(int argc, char **argv);

/* `raft_kv put KEY VALUE`, `get KEY`, `delete KEY` (argv[0] is the verb) with --cluster CONFIG.
 * Exit status: 0 done (put stored, get found, delete removed), 1 not found / exists, 2 bad
 * command line or configuration, 3 the outcome is unknown (no answer in time). */
int net_client_command(int argc, char **argv);

#endif
