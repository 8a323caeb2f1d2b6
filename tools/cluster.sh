#!/usr/bin/env bash
# cluster.sh - a local raft_kv cluster on loopback, one `raft_kv serve` process per node, for people
# and for tests: start, status, stop, and kill, pause, resume or restart one node. Written against
# ../shared/http-api.md alone: it starts nodes as that file says and reads only GET /status.
#
# Usage: tools/cluster.sh [--dir DIR] [--bin PATH] [--set KEY=VALUE]... COMMAND [ARG]
#
#   start [N]     N nodes (default 3, 1..255): writes DIR/cluster.toml (N [[node]] tables on
#                 127.0.0.1, free ports, data_dir DIR/nodeI), starts `raft_kv serve --node I
#                 DIR/cluster.toml` for each in the background (output to DIR/nodeI.log, pid in
#                 DIR/nodeI.pid) and waits until each answers GET /status. If DIR/cluster.toml is
#                 already there (a stopped cluster), it is started again as it was: same ports, same
#                 data. If a node fails to come up, the nodes just started are stopped again.
#   status        a table of the nodes: id, pid, alive/paused/down, and role, term, leader,
#                 commit_index, last_applied from each live node's GET /status
#   leader        waits until a node says it leads; prints "ID URL" (URL: http://host:port)
#   url ID        prints node ID's client URL
#   stop          SIGTERM to every node, then SIGKILL to any still running after the stop bound
#                 (exit 1 then, naming it: the contract says SIGTERM stops a node cleanly)
#   kill ID       SIGKILL to node ID          pause ID / resume ID   SIGSTOP / SIGCONT
#   restart ID    kills node ID if it runs (SIGKILL), starts it again on the same data directory
#                 and waits until it answers GET /status
#   logs [ID]     the last lines of node ID's log, or of every node's
#   clean         stop, then remove DIR (only a directory that holds a cluster.toml, or is empty)
#
# Options (anywhere on the line):
#   --dir DIR         the cluster's directory; default $RAFT_KV_CLUSTER_DIR, else ./cluster
#   --bin PATH        the raft_kv binary; default $RAFT_KV_BIN, else the one the cluster was
#                     started with (DIR/cluster.bin), else ./raft_kv
#   --set KEY=VALUE   with start only: a TOML line (e.g. --set 'trace.level="quiet"') written at
#                     the top of DIR/cluster.toml, before the [[node]] tables
#   -h, --help        this text
# Environment:
#   RAFT_KV_PORT_BASE      node I gets raft port BASE+I and http port BASE+1000+I (BASE=7000
#                          gives the contract's 7001 and 8001); unset: a free BASE is probed for
#   RAFT_KV_START_TIMEOUT  seconds to wait for a node's first /status answer, or for a leader (10)
#   RAFT_KV_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL in stop (10)
#   RAFT_KV_LOG_LINES      lines shown per log by logs (40)
#
# Exit status: 0 done; 1 failed (a node did not start, no leader, no cluster in DIR, ...);
# 2 a bad command line. Every command is bounded in time. A pid is signalled only if
# /proc/PID/cmdline is still `... serve --node ID DIR/cluster.toml`, never a reused pid.
# Needs bash, curl, python3 (to probe for free ports) and Linux (/proc).
set -u

prog=tools/cluster.sh
usage() {
    sed -n '/^# Usage:/,/^# Needs/{s/^# \{0,1\}//;p}' "$0"
}
die_usage() { # die_usage MESSAGE: a bad command line
    echo "$prog: $*" >&2
    echo "usage: $prog [--dir DIR] [--bin PATH] [--set KEY=VALUE]... start [N] | status | leader |" >&2
    echo "       url ID | stop | kill ID | pause ID | resume ID | restart ID | logs [ID] | clean" >&2
    echo "($prog --help says more)" >&2
    exit 2
}
die() {
    echo "$prog: $*" >&2
    exit 1
}

dir=${RAFT_KV_CLUSTER_DIR:-./cluster}
bin_opt=""
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
    ;;
status | leader | stop | clean) [ -z "$arg" ] || die_usage "$cmd takes no argument" ;;
logs) [ -z "$arg" ] || number "$arg" || die_usage "logs: ID='$arg' is not a node id" ;;
url | kill | pause | resume | restart)
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
# node_list: "ID HTTP" lines, one per [[node]] table of the file this script wrote.
node_list() {
    awk '
        function flush() { if (id != "") print id, http; id = ""; http = "" }
        /^[ \t]*\[\[node\]\]/ { flush(); in_node = 1; next }
        /^[ \t]*\[/ { flush(); in_node = 0; next }
        in_node && /^[ \t]*id[ \t]*=/ { v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t#].*/, "", v); id = v }
        in_node && /^[ \t]*http[ \t]*=/ { v = $0; sub(/^[^"]*"/, "", v); sub(/".*/, "", v); http = v }
        END { flush() }' "$cfg"
}
need_cluster() {
    [ -f "$cfg" ] || die "no cluster in $dir (no cluster.toml); start one with: $prog --dir $dir start"
    nodes=$(node_list)
    [ -n "$nodes" ] || die "$cfg lists no [[node]] table"
}
ids() { printf '%s\n' "$nodes" | awk '{ print $1 }'; }
http_of() { printf '%s\n' "$nodes" | awk -v id="$1" '$1 == id { print $2 }'; }
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
write_config() { # write_config N BASE
    local n=$1 base=$2 i s tmp=$cfg.tmp
    {
        echo "# cluster.toml - written by $prog start $n on $(date '+%Y-%m-%d %H:%M:%S'): $n raft_kv"
        echo "# nodes on loopback; node I runs as: raft_kv serve --node I $cfg"
        if [ "${#sets[@]}" -gt 0 ]; then
            echo "# from --set:"
            for s in "${sets[@]}"; do echo "$s"; done
        fi
        for ((i = 1; i <= n; i++)); do
            echo
            echo "[[node]]"
            echo "id = $i"
            echo "raft = \"127.0.0.1:$((base + i))\""
            echo "http = \"127.0.0.1:$((base + 1000 + i))\""
            echo "data_dir = \"$dir/node$i\""
        done
    } >"$tmp" && mv "$tmp" "$cfg"
}
# launch ID: starts node ID in the background, its output appended to DIR/nodeID.log.
launch() {
    local id=$1 log=$dir/node$1.log
    echo "=== $(date '+%Y-%m-%d %H:%M:%S') $prog: $bin serve --node $id $cfg" >>"$log"
    "$bin" serve --node "$id" "$cfg" </dev/null >>"$log" 2>&1 &
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
    local n=${arg:-3} id running="" base rc
    if [ -f "$cfg" ]; then
        nodes=$(node_list)
        [ -n "$nodes" ] || die "$cfg lists no [[node]] table"
        for id in $(ids); do
            [ -n "$(node_pid "$id")" ] && running="$running $id"
        done
        [ -z "$running" ] || die "nodes$running of $dir are running already (stop first, or restart ID)"
        if [ -n "$arg" ] && [ "$arg" -ne "$(ids | wc -l)" ]; then
            die "$cfg has $(ids | wc -l) nodes, not $arg (clean it first for a new cluster)"
        fi
        [ "${#sets[@]}" -eq 0 ] || die "$cfg exists: --set would not reach it (clean it first for a new cluster)"
        bin=$(resolve_bin) || exit 1
        echo "$prog: starting the cluster of $cfg again ($(ids | wc -l) nodes, same ports and data)"
    else
        bin=$(resolve_bin) || exit 1
        dir=$(mkdir_abs "$dir") || die "cannot make directory $dir"
        cfg=$dir/cluster.toml
        if ! base=$(pick_base "$n"); then
            rc=$?
            rmdir "$dir" 2>/dev/null # only if empty: made just now
            exit "$rc"
        fi
        write_config "$n" "$base" || die "cannot write $cfg"
        nodes=$(node_list)
        echo "$prog: $n node(s) in $dir (raft ports $((base + 1))..$((base + n)), http $((base + 1001))..$((base + 1000 + n)))"
    fi
    echo "$bin" >"$dir/cluster.bin"
    for id in $(ids); do launch "$id"; done
    for id in $(ids); do
        if ! wait_up "$id"; then
            echo "$prog: start failed; stopping the nodes it started" >&2
            # shellcheck disable=SC2046
            stop_nodes $(ids) >/dev/null 2>&1
            exit 1
        fi
    done
    for id in $(ids); do
        echo "node $id: pid $(node_pid "$id"), http://$(http_of "$id"), log $dir/node$id.log"
    done
}

cmd_status() {
    local id p st body f v row
    need_cluster
    printf '%-4s %-8s %-7s %-10s %6s %7s %13s %13s\n' id pid state role term leader commit_index last_applied
    for id in $(ids); do
        p=$(node_pid "$id")
        st=$(node_state "$id")
        row=()
        if [ "$st" = alive ] && body=$(get_status "$id"); then
            for f in role term leader commit_index last_applied; do
                v=$(json_field "$f" "$body")
                row+=("${v:--}")
            done
        elif [ "$st" = alive ]; then
            row=("no-answer" - - - -)
        else
            row=(- - - - -)
        fi
        printf '%-4s %-8s %-7s %-10s %6s %7s %13s %13s\n' "$id" "${p:--}" "$st" "${row[@]}"
    done
}

cmd_leader() {
    local i=0 n=$((start_timeout * 10)) id body best t
    need_cluster
    while [ "$i" -lt "$n" ]; do
        best=$(for id in $(ids); do
            [ "$(node_state "$id")" = alive ] || continue
            body=$(get_status "$id") || continue
            [ "$(json_field role "$body")" = leader ] || continue
            t=$(json_field term "$body")
            echo "${t:-0} $id"
        done | sort -n -k1,1 | tail -n 1)
        if [ -n "$best" ]; then
            id=${best#* }
            echo "$id http://$(http_of "$id")"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    die "no node said it leads within ${start_timeout} s"
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
stop) cmd_stop ;;
kill) cmd_kill ;;
pause) cmd_pause ;;
resume) cmd_resume ;;
restart) cmd_restart ;;
logs) cmd_logs ;;
clean) cmd_clean ;;
esac
