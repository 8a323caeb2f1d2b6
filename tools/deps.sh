#!/usr/bin/env bash
# deps.sh - check for the Debian packages a make target needs and install the missing ones.
# Installs only when running as root with apt-get; otherwise prints the exact command and fails.
#
# Usage: tools/deps.sh GROUP...   where GROUP is build, test, bench, net, bench-net, fuzz or format.
# net: what the networked mode (raft_kv serve) needs to build, also in build and test;
# bench-net: what `make bench-net` runs beside it (etcd 3.4 from etcd-server, wrk, curl).
set -u

packages_for() {
    case "$1" in
    build) echo "gcc make pkg-config libck-dev libevent-dev libjansson-dev" ;;
    test) echo "gcc make pkg-config libck-dev libevent-dev libjansson-dev libcmocka-dev libtsan2 libasan8 libubsan1 liblsan0 python3 curl iproute2 chromium" ;;
    bench) echo "gcc make pkg-config libck-dev erlang-base" ;;
    net) echo "libevent-dev libjansson-dev" ;;
    bench-net) echo "etcd-server wrk curl" ;;
    fuzz) echo "clang libclang-rt-dev" ;;
    format) echo "clang-format" ;;
    *)
        echo "deps.sh: unknown group '$1' (expected build, test, bench, net, bench-net, fuzz or format)" >&2
        exit 2
        ;;
    esac
}

if [ "$#" -eq 0 ]; then
    echo "usage: tools/deps.sh build|test|bench|net|bench-net|fuzz|format ..." >&2
    exit 2
fi

wanted=""
for group in "$@"; do
    wanted="$wanted $(packages_for "$group")" || exit 2
done

if ! command -v dpkg-query >/dev/null 2>&1; then
    # Not Debian: we cannot ask the package manager, so check what the build really uses.
    if ! pkg-config --exists ck; then
        echo "deps.sh: Concurrency Kit not found by 'pkg-config ck'; install it (Debian: libck-dev)" >&2
        exit 1
    fi
    case " $* " in
    *" build "* | *" test "* | *" net "*)
        for lib in libevent:libevent-dev jansson:libjansson-dev; do
            if ! pkg-config --exists "${lib%%:*}"; then
                echo "deps.sh: ${lib%%:*} not found by 'pkg-config ${lib%%:*}'; install it (Debian: ${lib#*:})" >&2
                exit 1
            fi
        done
        ;;
    esac
    exit 0
fi

missing=""
for pkg in $wanted; do
    case " $missing " in *" $pkg "*) continue ;; esac
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)
    case "$status" in
    *" installed") ;;
    *) missing="$missing $pkg" ;;
    esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps.sh: installing missing packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get update -qq; then
        echo "deps.sh: 'apt-get update' failed" >&2
        exit 1
    fi
    # shellcheck disable=SC2086
    if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
        echo "deps.sh: 'apt-get install$missing' failed" >&2
        exit 1
    fi
    exit 0
fi

echo "deps.sh: missing packages:$missing" >&2
echo "deps.sh: install them with:  sudo apt-get update && sudo apt-get install -y$missing" >&2
exit 1
