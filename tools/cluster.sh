#!/usr/bin/env bash
# cluster.sh - a local raft_kv cluster on loopback, one `raft_kv serve` process per node, for people
# and for tests: start, status, stop, and kill, pause, resume or restart one node; grow, shrink
# and move its leadership while it runs. Written against ../shared/http-api.md alone: it starts
# nodes as that file says, reads GET /status and changes the cluster with POST /admin/*.
#
# Usage: tools/cluster.sh [--dir DIR] [--bin PATH] [--set KEY=VALUE]... COMMAND [ARG]
#
#   start [N] [--spare K]
#                 N nodes (default 3, 1..255): writes DIR/cluster.toml (N [[node]] tables on
#                 127.0.0.1, free ports, data_dir DIR/nodeI), starts `raft_kv serve --node I
#                 DIR/cluster.toml` for each in the background (output to DIR/nodeI.log, pid in
#                 DIR/nodeI.pid) and waits until each answers GET /status. With --spare K, K more
#                 tables N+1..N+K with join = true: spare nodes, not started (add ID starts one).
#                 If DIR/cluster.toml is already there (a stopped cluster), it is started again
#                 as it was: same ports, same data, the nodes it had (those added since, not those
#                 removed). If a node fails to come up, the nodes just started are stopped again.
#   status        a table of the nodes: id, pid, alive/paused/down, member (voter, learner or
#                 out, as the leader sees it), and role, term, leader, commit_index, last_applied
#                 from each live node's GET /status
#   leader        waits until a node says it leads; prints "ID URL" (URL: http://host:port)
#   url ID        prints node ID's client URL
#   add ID        adds node ID to the running cluster: starts it with --join if it is not running,
#                 asks the leader (POST /admin/add?id=ID, following a 307), then waits until the
#                 leader lists ID among its committed voters (it joins as a learner and becomes
#                 a voter once caught up)
#   remove ID     removes node ID (POST /admin/remove?id=ID to the leader; ID may lead), waits
#                 until the leader's committed voters no longer list it, then stops its process
#                 as an operator retires a machine (SIGTERM; start leaves it out from then on)
#   transfer ID   moves leadership to voter ID (POST /admin/transfer?to=ID) and waits until ID
#                 says it leads (asked again if a transfer gives up meanwhile)
#   stop          SIGTERM to every node, then SIGKILL to any still running after the stop bound
#                 (exit 1 then, naming it: the contract says SIGTERM stops a node cleanly)
#   kill ID       SIGKILL to node ID          pause ID / resume ID   SIGSTOP / SIGCONT
#   restart ID    kills node ID if it runs (SIGKILL), starts it again on the same data directory
#                 (with --join if its table says join or add made it a member) and waits until it
#                 answers GET /status
#   logs [ID]     the last lines of node ID's log, or of every node's
#   clean         stop, then remove DIR (only a directory that holds a cluster.toml, or is empty)
#
# Options (anywhere on the line):
#   --dir DIR         the cluster's directory; default $RAFT_KV_CLUSTER_DIR, else ./cluster
#   --bin PATH        the raft_kv binary; default $RAFT_KV_BIN, else the one the cluster was
#                     started with (DIR/cluster.bin), else ./raft_kv
#   --set KEY=VALUE   with start only: a TOML line (e.g. --set 'trace.level="quiet"') written at
#                     the top of DIR/cluster.toml, before the [[node]] tables
#   --spare K         with a new start only: K spare nodes (0..254, N + K at most 255)
#   -h, --help        this text
# Environment:
#   RAFT_KV_PORT_BASE      node I gets raft port BASE+I and http port BASE+1000+I (BASE=7000
#                          gives the contract's 7001 and 8001); unset: a free BASE is probed for
#   RAFT_KV_START_TIMEOUT  seconds to wait for a node's first /status answer, for a leader, or
#                          for add, remove or transfer to take effect (10)
#   RAFT_KV_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL in stop (10)
#   RAFT_KV_LOG_LINES      lines shown per log by logs (40)
#
# Exit status: 0 done; 1 failed (a node did not start, no leader, no cluster in DIR, the leader
# refused a change, ...); 2 a bad command line. Every command is bounded in time. A pid is
# signalled only if /proc/PID/cmdline is still `... serve --node ID DIR/cluster.toml [--join]`,
# never a reused pid.
# Needs bash, curl, python3 (to probe for free ports) and Linux (/proc).
set -u

prog=tools/cluster.sh
usage() {
    sed -n '/^# Usage:/,/^# Needs/{s/^# \{0,1\}//;p}' "$0"
}
die_usage() { # die_usage MESSAGE: a bad command line
    echo "$prog: $*" >&2
    echo "usage: $prog [--dir DIR] [--bin PATH] [--set KEY=VALUE]... start [N] [--spare K] | status |" >&2
    echo "       leader | url ID | add ID | remove ID | transfer ID | stop | kill ID | pause ID |" >&2
    echo "       resume ID | restart ID | logs [ID] | clean" >&2
    echo "($prog --help says more)" >&2
    exit 2
}
die() {
    echo "$prog: $*" >&2
    exit 1
}

dir=${RAFT_KV_CLUSTER_DIR:-./cluster}
bin_opt=""
spare=""
sets=()
args=()
while [ "$#" -gt 0 ]; do
    case $1 in
    --dir) [ "$#" -ge 2 ] || die_usage "--dir needs a directory"; dir=$2; shift 2 ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    --bin) [ "$#" -ge 2 ] || die_usage "--bin needs a path"; bin_opt=$2; shift 2 ;;
    --bin=*) bin_opt=${1#--bin=}; shift ;;
    --set) [ "$#" -ge 2 ] || die_usage "--set needs KEY=VALUE"; sets+=("$2"); shift 2 ;;
    --set=*) sets+=("${1#--set=}"); shift ;;
    --spare) [ "$#" -ge 2 ] || die_usage "--spare needs a count"; spare=$2; shift 2 ;;
    --spare=*) spare=${1#--spare=}; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; args+=("$@"); break ;;
    -*) die_usage "unknown option '$1'" ;;
    *) args+=("$1"); shift ;;
    esac
done
[ "${#args[@]}" -ge 1 ] || die_usage "no command"
cmd=${args[0]}
arg=${args[1]:-}
[ "${#args[@]}" -le 2 ] || die_usage "too many arguments for '$cmd'"
[ -z "$dir" ] && die_usage "--dir is empty"
for s in "${sets[@]}"; do
    case $s in *=*) ;; *) die_usage "--set '$s' is not KEY=VALUE" ;; esac
done
if [ "${#sets[@]}" -gt 0 ] && [ "$cmd" != start ]; then
    die_usage "--set goes only with start"
fi
if [ -n "$spare" ] && [ "$cmd" != start ]; then
    die_usage "--spare goes only with start"
fi

number() { case $1 in '' | *[!0-9]*) return 1 ;; *) [ "${#1}" -le 6 ] ;; esac }
positive_env() { # positive_env NAME DEFAULT: a whole number >= 1 from the environment
    local v=${!1:-$2}
    if ! number "$v" || [ "$v" -lt 1 ]; then die_usage "$1='$v' must be a whole number >= 1"; fi
    echo "$v"
}
start_timeout=$(positive_env RAFT_KV_START_TIMEOUT 10) || exit 2
stop_timeout=$(positive_env RAFT_KV_STOP_TIMEOUT 10) || exit 2
log_lines=$(positive_env RAFT_KV_LOG_LINES 40) || exit 2

case $cmd in
start)
    if [ -n "$arg" ]; then
        if ! number "$arg" || [ "$arg" -lt 1 ] || [ "$arg" -gt 255 ]; then
            die_usage "start: N='$arg' must be 1..255"
        fi
    fi
    if [ -n "$spare" ]; then
        if ! number "$spare" || [ $((${arg:-3} + spare)) -gt 255 ]; then
            die_usage "start: --spare '$spare' must be 0..$((255 - ${arg:-3})) (N + K at most 255)"
        fi
    fi
    ;;
status | leader | stop | clean) [ -z "$arg" ] || die_usage "$cmd takes no argument" ;;
logs) [ -z "$arg" ] || number "$arg" || die_usage "logs: ID='$arg' is not a node id" ;;
url | kill | pause | resume | restart | add | remove | transfer)
    [ -n "$arg" ] || die_usage "$cmd needs a node ID"
    number "$arg" || die_usage "$cmd: ID='$arg' is not a node id"
    ;;
*) die_usage "unknown command '$cmd'" ;;
esac

mkdir_abs() { # the absolute form of directory $1 (made if missing)
    mkdir -p "$1" && (cd "$1" && pwd -P)
}
if [ -d "$dir" ]; then dir=$(cd "$dir" && pwd -P) || exit 1; fi
cfg=$dir/cluster.toml

# The binary: --bin, else RAFT_KV_BIN, else the one recorded at start, else ./raft_kv. Kept as an
# absolute path so that restart works from any directory.
resolve_bin() {
    local b=$bin_opt
    [ -z "$b" ] && b=${RAFT_KV_BIN:-}
    [ -z "$b" ] && [ -f "$dir/cluster.bin" ] && b=$(cat "$dir/cluster.bin")
    [ -z "$b" ] && b=./raft_kv
    case $b in
    */*) ;;
    *) b=$(command -v "$b") || die "no raft_kv binary '$b' in PATH (use --bin or RAFT_KV_BIN)" ;;
    esac
    if [ ! -f "$b" ] || [ ! -x "$b" ]; then
        die "no executable raft_kv at '$b' (use --bin or RAFT_KV_BIN; make builds ./raft_kv)"
    fi
    echo "$(cd "$(dirname "$b")" && pwd -P)/$(basename "$b")"
}

# --- the nodes of DIR/cluster.toml --------------------------------------------------------
# node_list: "ID HTTP JOIN" lines (JOIN 1 for a table with join = true, else 0), one per
# [[node]] table of the file this script wrote.
node_list() {
    awk '
        function flush() { if (id != "") print id, http, join; id = ""; http = ""; join = 0 }
        /^[ \t]*\[\[node\]\]/ { flush(); in_node = 1; next }
        /^[ \t]*\[/ { flush(); in_node = 0; next }
        in_node && /^[ \t]*id[ \t]*=/ { v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t#].*/, "", v); id = v }
        in_node && /^[ \t]*http[ \t]*=/ { v = $0; sub(/^[^"]*"/, "", v); sub(/".*/, "", v); http = v }
        in_node && /^[ \t]*join[ \t]*=[ \t]*true/ { join = 1 }
        END { flush() }' "$cfg"
}
need_cluster() {
    [ -f "$cfg" ] || die "no cluster in $dir (no cluster.toml); start one with: $prog --dir $dir start"
    nodes=$(node_list)
    [ -n "$nodes" ] || die "$cfg lists no [[node]] table"
}
ids() { printf '%s\n' "$nodes" | awk '{ print $1 }'; }
http_of() { printf '%s\n' "$nodes" | awk -v id="$1" '$1 == id { print $2 }'; }
joins() { [ "$(printf '%s\n' "$nodes" | awk -v id="$1" '$1 == id { print $3 }')" = 1 ]; }
# Node ID's membership as this script last changed it: DIR/nodeID.added once add made it a voter,
# DIR/nodeID.removed once remove took it out. start runs the initial nodes not removed and the
# nodes added; a node added runs with --join (its table may say join, or its old data be gone).
was_added() { [ -f "$dir/node$1.added" ]; }
was_removed() { [ -f "$dir/node$1.removed" ]; }
# members: the ids start runs, in order.
members() {
    local id
    for id in $(ids); do
        if was_added "$id" || { ! joins "$id" && ! was_removed "$id"; }; then echo "$id"; fi
    done
}
need_id() {
    [ -n "$(http_of "$1")" ] || die_usage "node $1 is not in $cfg (nodes: $(ids | tr '\n' ' '))"
}

# ours PID ID: PID is node ID of this cluster (its command line is `BIN serve --node ID CFG`).
ours() {
    local cmdline
    [ -r "/proc/$1/cmdline" ] || return 1
    cmdline=$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    printf '%s\n' "$cmdline" | awk -v id="$2" -v cfg="$cfg" '
        { a[NR] = $0 }
        END { for (i = 1; i + 3 <= NR; i++)
                  if (a[i] == "serve" && a[i+1] == "--node" && a[i+2] == id && a[i+3] == cfg) exit 0
              exit 1 }'
}
# proc_state PID: the kernel's one-letter state (R, S, D, T, t, Z, ...), empty if gone.
proc_state() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    s=${s##*) }
    echo "${s%% *}"
}
# node_pid ID: the pid of node ID if it is running (a zombie is not), else nothing.
node_pid() {
    local f=$dir/node$1.pid p st
    [ -f "$f" ] || return 0
    read -r p <"$f" 2>/dev/null || return 0
    number "$p" || return 0
    ours "$p" "$1" || return 0
    st=$(proc_state "$p")
    case $st in '' | Z | X) return 0 ;; esac
    echo "$p"
}
node_state() { # alive, paused or down
    local p
    p=$(node_pid "$1")
    if [ -z "$p" ]; then echo down; return; fi
    case $(proc_state "$p") in T | t) echo paused ;; *) echo alive ;; esac
}
# wait_gone PID ID SECONDS: until node ID's process is gone (or a zombie); 1 if the bound ran out.
wait_gone() {
    local i=0 n=$(($3 * 10)) st
    while [ "$i" -lt "$n" ]; do
        ours "$1" "$2" || return 0
        st=$(proc_state "$1")
        case $st in '' | Z | X) return 0 ;; esac
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
# get_status ID: node ID's GET /status body, if it answers 200 within a second.
get_status() {
    local out
    out=$(curl -sS -m 1 -w '\n%{http_code}' "http://$(http_of "$1")/status" 2>/dev/null) || return 1
    [ "${out##*$'\n'}" = 200 ] || return 1
    printf '%s\n' "${out%$'\n'*}"
}

# json_field NAME JSON: the value of a top-level string or number field of a flat JSON object
# (quotes dropped), "null" for null, nothing if absent. Enough for GET /status.
json_field() {
    printf '%s\n' "$2" | tr -d '\n' |
        sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"\{0,1\}\([^",}[:space:]]*\).*/\1/p'
}
# json_ids NAME JSON: the numbers of an array field ("voters":[1,2,3]) separated by spaces.
json_ids() {
    printf '%s\n' "$2" | tr -d '\n' |
        sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*\[\([0-9, ]*\)\].*/\1/p' | tr ',' ' '
}
# has_id ID LIST: ID is one of the space-separated LIST.
has_id() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

# --- starting -----------------------------------------------------------------------------
ports_free() { # ports_free PORT...: each port can be bound on 127.0.0.1 now
    python3 - "$@" <<'EOF'
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", int(p)))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
EOF
}
node_ports() { # node_ports BASE N: every raft and http port of N nodes from BASE
    local i
    for ((i = 1; i <= $2; i++)); do echo "$(($1 + i)) $(($1 + 1000 + i))"; done
}
pick_base() { # pick_base N: RAFT_KV_PORT_BASE checked, or a base whose ports are all free
    local n=$1 base tries=0
    command -v python3 >/dev/null || die "python3 is needed to probe for free ports (or set RAFT_KV_PORT_BASE)"
    if [ -n "${RAFT_KV_PORT_BASE:-}" ]; then
        base=$RAFT_KV_PORT_BASE
        if ! number "$base" || [ "$base" -lt 1024 ] || [ $((base + 1000 + n)) -gt 65535 ]; then
            die_usage "RAFT_KV_PORT_BASE='$base' must be 1024..$((65535 - 1000 - n))"
        fi
        # shellcheck disable=SC2046
        ports_free $(node_ports "$base" "$n") ||
            die "RAFT_KV_PORT_BASE=$base: a port of $((base + 1))..$((base + n)) or $((base + 1001))..$((base + 1000 + n)) is taken"
        echo "$base"
        return
    fi
    # Below the usual ephemeral range (32768..), so a client socket is unlikely to take one later.
    while [ "$tries" -lt 50 ]; do
        base=$((20000 + (RANDOM % 1000) * 10))
        # shellcheck disable=SC2046
        if ports_free $(node_ports "$base" "$n"); then
            echo "$base"
            return
        fi
        tries=$((tries + 1))
    done
    die "found no free ports for $n nodes in 50 tries (set RAFT_KV_PORT_BASE)"
}
write_config() { # write_config N K BASE: N initial nodes and K spares (join = true)
    local n=$1 k=$2 base=$3 i s tmp=$cfg.tmp
    {
        if [ "$k" -gt 0 ]; then
            echo "# cluster.toml - written by $prog start $n --spare $k on $(date '+%Y-%m-%d %H:%M:%S'):"
            echo "# $n raft_kv nodes on loopback and $k spare(s) that join when added ($prog add ID)."
            echo "# Node I runs as: raft_kv serve --node I $cfg (a spare with --join after it)"
        else
            echo "# cluster.toml - written by $prog start $n on $(date '+%Y-%m-%d %H:%M:%S'): $n raft_kv"
            echo "# nodes on loopback; node I runs as: raft_kv serve --node I $cfg"
        fi
        if [ "${#sets[@]}" -gt 0 ]; then
            echo "# from --set:"
            for s in "${sets[@]}"; do echo "$s"; done
        fi
        for ((i = 1; i <= n + k; i++)); do
            echo
            echo "[[node]]"
            echo "id = $i"
            echo "raft = \"127.0.0.1:$((base + i))\""
            echo "http = \"127.0.0.1:$((base + 1000 + i))\""
            echo "data_dir = \"$dir/node$i\""
            if [ "$i" -gt "$n" ]; then echo "join = true"; fi
        done
    } >"$tmp" && mv "$tmp" "$cfg"
}
# launch ID [--join]: starts node ID in the background, its output appended to DIR/nodeID.log;
# with --join also when its table says join = true or add made it a member.
launch() {
    local id=$1 log=$dir/node$1.log join=()
    if [ "${2:-}" = --join ] || joins "$id" || was_added "$id"; then join=(--join); fi
    echo "=== $(date '+%Y-%m-%d %H:%M:%S') $prog: $bin serve --node $id $cfg ${join[*]}" >>"$log"
    "$bin" serve --node "$id" "$cfg" "${join[@]+"${join[@]}"}" </dev/null >>"$log" 2>&1 &
    echo "$!" >"$dir/node$id.pid"
}
# last_output ID: the first lines node ID printed since it was last launched (its log's tail).
last_output() {
    awk '/^=== .* serve --node / { n = 0; delete l; next } { l[++n] = $0 }
         END { for (i = 1; i <= n && i <= 20; i++) print "  " l[i]; if (n > 20) print "  ..." }' \
        "$dir/node$1.log" >&2
}
# wait_up ID: until node ID answers GET /status (bounded); 1 with its log's tail if it exits
# or the bound runs out.
wait_up() {
    local id=$1 i=0 n=$((start_timeout * 10)) p exited
    p=$(cat "$dir/node$id.pid")
    while [ "$i" -lt "$n" ]; do
        # Our own child until this script exits, so the pid is not reused: gone or a zombie
        # means it exited (its command line is ours only once it has exec'd).
        case $(proc_state "$p") in '' | Z | X) exited=1 ;; *) exited=0 ;; esac
        if [ "$exited" = 1 ]; then
            echo "$prog: node $id (pid $p) exited while starting; it printed ($dir/node$id.log):" >&2
            last_output "$id"
            return 1
        fi
        get_status "$id" >/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "$prog: node $id (pid $p) did not answer GET http://$(http_of "$id")/status within ${start_timeout} s;" \
        "it printed ($dir/node$id.log):" >&2
    last_output "$id"
    return 1
}

# signal_stop PID ID: SIGTERM, then SIGCONT so a paused node sees it.
signal_stop() {
    kill -TERM "$1" 2>/dev/null
    kill -CONT "$1" 2>/dev/null
}
# stop_nodes ID...: SIGTERM each running node, SIGKILL those left after the bound. 1 if any needed it.
stop_nodes() {
    local id p e pids=() rc=0 i=0 n=$((stop_timeout * 10)) still
    for id in "$@"; do
        p=$(node_pid "$id")
        if [ -n "$p" ]; then
            signal_stop "$p" "$id"
            pids+=("$p:$id")
        fi
    done
    while [ "${#pids[@]}" -gt 0 ] && [ "$i" -lt "$n" ]; do
        still=()
        for e in "${pids[@]}"; do
            case $(proc_state "${e%%:*}") in '' | Z | X) ;; *) ours "${e%%:*}" "${e#*:}" && still+=("$e") ;; esac
        done
        pids=("${still[@]+"${still[@]}"}")
        [ "${#pids[@]}" -eq 0 ] && break
        sleep 0.1
        i=$((i + 1))
    done
    for e in "${pids[@]+"${pids[@]}"}"; do
        echo "$prog: node ${e#*:} (pid ${e%%:*}) still running ${stop_timeout} s after SIGTERM: SIGKILL" >&2
        kill -KILL "${e%%:*}" 2>/dev/null
        wait_gone "${e%%:*}" "${e#*:}" 5 || echo "$prog: node ${e#*:} (pid ${e%%:*}) survived SIGKILL for 5 s" >&2
        rc=1
    done
    for id in "$@"; do
        [ -z "$(node_pid "$id")" ] && rm -f "$dir/node$id.pid"
    done
    return "$rc"
}

# --- the commands -------------------------------------------------------------------------
cmd_start() {
    local n=${arg:-3} k=${spare:-0} id running="" base rc initial
    if [ -f "$cfg" ]; then
        nodes=$(node_list)
        [ -n "$nodes" ] || die "$cfg lists no [[node]] table"
        for id in $(ids); do
            [ -n "$(node_pid "$id")" ] && running="$running $id"
        done
        [ -z "$running" ] || die "nodes$running of $dir are running already (stop first, or restart ID)"
        initial=$(for id in $(ids); do joins "$id" || echo "$id"; done | wc -l)
        if [ -n "$arg" ] && [ "$arg" -ne "$initial" ]; then
            die "$cfg has $initial initial nodes, not $arg (clean it first for a new cluster)"
        fi
        [ "${#sets[@]}" -eq 0 ] || die "$cfg exists: --set would not reach it (clean it first for a new cluster)"
        [ -z "$spare" ] || die "$cfg exists: --spare would not reach it (clean it first for a new cluster)"
        [ -n "$(members)" ] || die "$cfg: every node was removed; nothing to start"
        bin=$(resolve_bin) || exit 1
        echo "$prog: starting the cluster of $cfg again (nodes $(members | tr '\n' ' ')- same ports and data)"
    else
        bin=$(resolve_bin) || exit 1
        dir=$(mkdir_abs "$dir") || die "cannot make directory $dir"
        cfg=$dir/cluster.toml
        if ! base=$(pick_base $((n + k))); then
            rc=$?
            rmdir "$dir" 2>/dev/null # only if empty: made just now
            exit "$rc"
        fi
        write_config "$n" "$k" "$base" || die "cannot write $cfg"
        nodes=$(node_list)
        echo "$prog: $n node(s) in $dir (raft ports $((base + 1))..$((base + n)), http $((base + 1001))..$((base + 1000 + n)))"
        [ "$k" -gt 0 ] && echo "$prog: $k spare node(s) $((n + 1))..$((n + k)), not started ($prog add ID starts one)"
    fi
    echo "$bin" >"$dir/cluster.bin"
    for id in $(members); do launch "$id"; done
    for id in $(members); do
        if ! wait_up "$id"; then
            echo "$prog: start failed; stopping the nodes it started" >&2
            # shellcheck disable=SC2046
            stop_nodes $(ids) >/dev/null 2>&1
            exit 1
        fi
    done
    for id in $(members); do
        echo "node $id: pid $(node_pid "$id"), http://$(http_of "$id"), log $dir/node$id.log"
    done
}

cmd_status() {
    local id p st body f v row voters="" learners="" lbody="" best=-1 t
    declare -A bodies=()
    need_cluster
    # Every live node's answer first: the member column is the leader's view (the latest term's).
    for id in $(ids); do
        [ "$(node_state "$id")" = alive ] || continue
        body=$(get_status "$id") || continue
        bodies[$id]=$body
        t=$(json_field term "$body")
        if [ "$(json_field role "$body")" = leader ] && [ "${t:-0}" -gt "$best" ]; then
            best=${t:-0}
            lbody=$body
        fi
    done
    if [ -n "$lbody" ]; then
        voters=$(json_ids voters "$lbody")
        learners=$(json_ids learners "$lbody")
    fi
    printf '%-4s %-8s %-7s %-8s %-10s %6s %7s %13s %13s\n' id pid state member role term leader commit_index last_applied
    for id in $(ids); do
        p=$(node_pid "$id")
        st=$(node_state "$id")
        row=()
        if [ -z "$lbody" ]; then
            row+=("?")
        elif has_id "$id" "$voters"; then
            row+=(voter)
        elif has_id "$id" "$learners"; then
            row+=(learner)
        else
            row+=(out)
        fi
        if [ "$st" = alive ] && [ -n "${bodies[$id]:-}" ]; then
            body=${bodies[$id]}
            for f in role term leader commit_index last_applied; do
                v=$(json_field "$f" "$body")
                row+=("${v:--}")
            done
        elif [ "$st" = alive ]; then
            row+=("no-answer" - - - -)
        else
            row+=(- - - - -)
        fi
        printf '%-4s %-8s %-7s %-8s %-10s %6s %7s %13s %13s\n' "$id" "${p:--}" "$st" "${row[@]}"
    done
}

# leader_now: the id of the live node that says it leads in the latest term, now; nothing if none.
leader_now() {
    local id body t
    for id in $(ids); do
        [ "$(node_state "$id")" = alive ] || continue
        body=$(get_status "$id") || continue
        [ "$(json_field role "$body")" = leader ] || continue
        t=$(json_field term "$body")
        echo "${t:-0} $id"
    done | sort -n -k1,1 | tail -n 1 | awk '{ print $2 }'
}

cmd_leader() {
    local i=0 n=$((start_timeout * 10)) id
    need_cluster
    while [ "$i" -lt "$n" ]; do
        id=$(leader_now)
        if [ -n "$id" ]; then
            echo "$id http://$(http_of "$id")"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    die "no node said it leads within ${start_timeout} s"
}

# --- changing the cluster -----------------------------------------------------------------
# admin OP PARAM ID: POST /admin/OP?PARAM=ID to the leader (or to any live node, following its
# 307), again after a moment while there is no leader, the answer is unknown (503, 504, no
# answer) or the leader refuses for a while only (term_not_committed, change_pending,
# catching_up, and transferring but to a transfer), until the start bound. Sets admin_code and admin_body to the last
# answer and admin_reason to a refusal's reason; 0 if the answer was 200.
admin() {
    local op=$1 param=$2 id=$3 i=0 n=$((start_timeout * 5)) url="" to out
    admin_code="" admin_body="" admin_reason=""
    while [ "$i" -lt "$n" ]; do
        if [ -z "$url" ]; then
            to=$(leader_now)
            [ -z "$to" ] && for to in $(ids); do [ "$(node_state "$to")" = alive ] && break; done
            url="http://$(http_of "$to")/admin/$op?$param=$id"
        fi
        out=$(curl -sS -m 5 -X POST -o "$dir/admin.out" -w '%{http_code} %{redirect_url}' "$url" 2>/dev/null)
        admin_code=${out%% *}
        admin_body=$(cat "$dir/admin.out" 2>/dev/null)
        rm -f "$dir/admin.out"
        admin_reason=$(json_field reason "$admin_body")
        url=""
        case $admin_code in
        200) return 0 ;;
        307) url=${out#* } ;; # at once, to the leader it names
        409)
            case $admin_reason in
            term_not_committed | change_pending | catching_up) ;;
            transferring) [ "$op" = transfer ] && return 1 ;;
            *) return 1 ;;
            esac
            ;;
        503 | 504 | 000) ;;
        *) return 1 ;;
        esac
        [ -z "$url" ] && sleep 0.2
        i=$((i + 1))
    done
    return 1
}
admin_failed() { # admin_failed WHAT: the last answer, as a message; exit 1
    die "$1: $([ "$admin_code" = 000 ] && echo "no answer" || echo "$admin_code $admin_body")"
}

# wait_for SECONDS CONDITION...: runs CONDITION every 0.1 s until it succeeds (0) or the bound
# runs out (1).
wait_for() {
    local i=0 n=$(($1 * 10))
    shift
    while [ "$i" -lt "$n" ]; do
        "$@" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
# leader_lists FIELD ID: the leader now lists ID in its array FIELD (voters, committed_voters, ...).
leader_lists() {
    local l body
    l=$(leader_now)
    [ -n "$l" ] && body=$(get_status "$l") && has_id "$2" "$(json_ids "$1" "$body")"
}
# leader_without ID: a leader whose committed voters and whose configuration leave ID out.
leader_without() {
    local l body
    l=$(leader_now)
    [ -n "$l" ] || return 1
    body=$(get_status "$l") || return 1
    ! has_id "$1" "$(json_ids committed_voters "$body") $(json_ids voters "$body") $(json_ids learners "$body")"
}
leads() { # leads ID: node ID says it leads
    local body
    body=$(get_status "$1") && [ "$(json_field role "$body")" = leader ]
}

cmd_add() {
    need_cluster
    need_id "$arg"
    if [ -z "$(node_pid "$arg")" ]; then
        bin=$(resolve_bin) || exit 1
        launch "$arg" --join
        wait_up "$arg" || exit 1
        echo "node $arg: started with --join, pid $(node_pid "$arg"), http://$(http_of "$arg")"
    fi
    if admin add id "$arg"; then
        echo "$prog: the leader added node $arg as a learner (entry $(json_field index "$admin_body"))"
        rm -f "$dir/node$arg.removed"
        : >"$dir/node$arg.added"
    elif [ "$admin_reason" = already_member ]; then
        echo "$prog: node $arg is a member already"
    else
        admin_failed "add $arg"
    fi
    wait_for "$start_timeout" leader_lists committed_voters "$arg" ||
        die "node $arg is not among the leader's committed voters ${start_timeout} s later (still a learner catching up? see $prog status)"
    echo "$prog: node $arg is a voter"
}

cmd_remove() {
    need_cluster
    need_id "$arg"
    if admin remove id "$arg"; then
        echo "$prog: the leader is removing node $arg (entry $(json_field index "$admin_body"))"
    elif [ "$admin_reason" = not_member ]; then
        echo "$prog: node $arg is not a member"
    else
        admin_failed "remove $arg"
    fi
    wait_for "$start_timeout" leader_without "$arg" ||
        die "the leader still lists node $arg ${start_timeout} s later (see $prog status)"
    echo "$prog: node $arg is out of the cluster; stopping it"
    rm -f "$dir/node$arg.added"
    : >"$dir/node$arg.removed"
    stop_nodes "$arg"
}

cmd_transfer() {
    local end=$((SECONDS + start_timeout))
    need_cluster
    need_id "$arg"
    # Asked again each second while it has not happened: a transfer the target could not finish
    # within an election timeout is given up by the leader, which goes on leading.
    while [ "$SECONDS" -lt "$end" ]; do
        leads "$arg" && { echo "$prog: node $arg leads"; return 0; }
        # transferring: the last one still runs; self: it has just taken over.
        if ! admin transfer to "$arg" && [ "$admin_reason" != self ] &&
            [ "$admin_reason" != transferring ]; then
            admin_failed "transfer to $arg"
        fi
        wait_for 1 leads "$arg" && { echo "$prog: node $arg leads"; return 0; }
    done
    die "node $arg does not lead ${start_timeout} s after the transfer was asked for"
}

cmd_stop() {
    need_cluster
    # shellcheck disable=SC2046
    stop_nodes $(ids)
}

cmd_kill() {
    local p
    need_cluster
    need_id "$arg"
    p=$(node_pid "$arg")
    if [ -z "$p" ]; then
        echo "$prog: node $arg is not running"
        rm -f "$dir/node$arg.pid"
        return 0
    fi
    kill -KILL "$p" 2>/dev/null
    wait_gone "$p" "$arg" 5 || die "node $arg (pid $p) survived SIGKILL for 5 s"
    rm -f "$dir/node$arg.pid"
}

cmd_pause() {
    local p
    need_cluster
    need_id "$arg"
    p=$(node_pid "$arg")
    [ -n "$p" ] || die "node $arg is not running"
    kill -STOP "$p" || die "cannot SIGSTOP node $arg (pid $p)"
    local i=0
    while [ "$i" -lt 50 ]; do # the state shows T once the stop is delivered
        case $(proc_state "$p") in T | t) return 0 ;; esac
        sleep 0.1
        i=$((i + 1))
    done
    die "node $arg (pid $p) not stopped 5 s after SIGSTOP"
}

cmd_resume() {
    local p
    need_cluster
    need_id "$arg"
    p=$(node_pid "$arg")
    [ -n "$p" ] || die "node $arg is not running"
    kill -CONT "$p" || die "cannot SIGCONT node $arg (pid $p)"
}

cmd_restart() {
    local p
    need_cluster
    need_id "$arg"
    bin=$(resolve_bin) || exit 1
    p=$(node_pid "$arg")
    if [ -n "$p" ]; then
        kill -KILL "$p" 2>/dev/null
        wait_gone "$p" "$arg" 5 || die "node $arg (pid $p) survived SIGKILL for 5 s"
    fi
    launch "$arg"
    wait_up "$arg" || exit 1
    echo "node $arg: pid $(node_pid "$arg"), http://$(http_of "$arg")"
}

cmd_logs() {
    local id files=()
    need_cluster
    if [ -n "$arg" ]; then
        need_id "$arg"
        [ -f "$dir/node$arg.log" ] || die "no log for node $arg ($dir/node$arg.log)"
        tail -n "$log_lines" "$dir/node$arg.log"
        return
    fi
    for id in $(ids); do
        [ -f "$dir/node$id.log" ] && files+=("$dir/node$id.log")
    done
    [ "${#files[@]}" -gt 0 ] || die "no logs in $dir"
    tail -n "$log_lines" "${files[@]}"
}

cmd_clean() {
    [ -e "$dir" ] || return 0
    if [ ! -f "$cfg" ]; then
        rmdir "$dir" 2>/dev/null && return 0 # an empty directory
        die "$dir holds no cluster.toml: not a cluster directory, nothing removed"
    fi
    nodes=$(node_list)
    # shellcheck disable=SC2046
    [ -n "$nodes" ] && stop_nodes $(ids)
    rm -rf "$dir" || die "cannot remove $dir"
}

case $cmd in
start) cmd_start ;;
status) cmd_status ;;
leader) cmd_leader ;;
url) need_cluster; need_id "$arg"; echo "http://$(http_of "$arg")" ;;
add) cmd_add ;;
remove) cmd_remove ;;
transfer) cmd_transfer ;;
stop) cmd_stop ;;
kill) cmd_kill ;;
pause) cmd_pause ;;
resume) cmd_resume ;;
restart) cmd_restart ;;
logs) cmd_logs ;;
clean) cmd_clean ;;
esac
