#!/usr/bin/env bash
# torture_short.sh - a few seeds of `make torture` in every test run (under ThreadSanitizer
# too): nemesis, lossy network, sizes 3, 5 and 7, each ending consistent.
exec bash "$(dirname "$0")/../torture.sh" 3 1000 "${RAFT_KV_BIN:?set by test/run.sh}"
