#!/usr/bin/env python3
"""timeline_synth.py - a synthetic trace and history of about N messages, in the schema `raft_kv
timeline` reads (README, "Seeing a run"), for measuring the renderer's limits: 5 nodes, a leader's
heartbeat rounds every 50 ms, a client write WRITE_MS ms after the last one committed (default
10: AppendEntries to 4 followers, replies, commits and applies on every node), a leader crash and
re-election every 20 s, a dropped message in fifty. Deterministic: the same arguments give the
same files. With WRITE_MS 200, half the messages are heartbeats and their replies.

Usage: bench/timeline_synth.py N_MESSAGES TRACE.jsonl HISTORY.jsonl [WRITE_MS]
"""
import json
import sys


def main():
    target, trace_path, hist_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    write_ms = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    out = open(trace_path, "w")
    hist = open(hist_path, "w")
    n_msgs = 0
    mid = 0
    rng = 12345

    def rand():
        nonlocal rng
        rng = (rng * 1103515245 + 12345) % (1 << 31)
        return rng

    def line(t, actor, event, msg, level="info", **kw):
        d = {"t_ms": round(t, 3), "level": level, "actor": actor, "event": event, "msg": msg}
        d.update(kw)
        out.write(json.dumps(d, separators=(",", ":")) + "\n")

    def message(t, f, to, typ, term, lat, **kw):
        nonlocal n_msgs, mid
        mid += 1
        n_msgs += 1
        i = "m%d" % mid
        base = {"dir": "send", "id": i, "from": f, "to": to, "type": typ, "term": term}
        base.update(kw)
        line(t, "node %d" % f, "msg", "-> node %d: %s" % (to, typ), "messages", **base)
        if rand() % 50 == 0:
            base["dir"], base["why"] = "drop", "lost"
            line(t + lat / 2, "sim", "msg", "drop", "messages", **base)
            return None
        base["dir"] = "recv"
        line(t + lat, "node %d" % to, "msg", "<- node %d: %s" % (f, typ), "messages", **base)
        return t + lat

    nodes = [1, 2, 3, 4, 5]
    leader, term, t = 1, 1, 0.0
    index, commit = 0, 0
    seq = {1: 0, 2: 0, 3: 0}
    line(0, "sim", "start", "synthetic run: about %d messages" % target)
    line(0, "sim", "history", "history times from 0 ms", t0_ms=0)
    line(0, "node 1", "role", "leader", role="leader", term=1)
    next_hb, next_crash, client = 0.0, 20000.0, 1
    while n_msgs < target:
        if t >= next_crash:  # the leader crashes; the next node wins an election
            line(t, "sim", "fault", "crash", fault="crash", node=leader)
            old = leader
            leader = nodes[(nodes.index(leader) + 1) % len(nodes)]
            t += 200
            line(t, "node %d" % leader, "role", "pre-candidate", role="pre-candidate", term=term)
            for n in nodes:
                if n not in (leader, old):
                    message(t, leader, n, "RequestVote", term + 1, 1.0, pre_vote=True)
            t += 2
            term += 1
            line(t, "node %d" % leader, "role", "candidate", role="candidate", term=term)
            line(t, "node %d" % leader, "term", "term", term=term)
            for n in nodes:
                if n not in (leader, old):
                    message(t, leader, n, "RequestVote", term, 1.0)
            t += 2
            line(t, "node %d" % leader, "role", "leader", role="leader", term=term)
            line(t + 100, "sim", "fault", "restart", fault="restart", node=old)
            line(t + 100, "node %d" % old, "role", "follower", role="follower", term=term)
            next_crash += 20000
            down = old
        else:
            down = None
        if t >= next_hb:
            for n in nodes:
                if n != leader:
                    r = message(t, leader, n, "AppendEntries", term, 0.8, entries=0, heartbeat=True)
                    if r is not None:
                        message(r, n, leader, "AppendEntriesReply", term, 0.8, heartbeat=True, ok=True)
            next_hb += 50
        # one client write
        c = client
        client = client % 3 + 1
        seq[c] += 1
        index += 1
        hist.write(json.dumps({"process": c, "type": "invoke", "f": "put", "key": "k%d" % index,
                               "value": "v%d" % index, "seq": seq[c], "time": int(t * 1e6)}) + "\n")
        acks = 0
        last = t
        for n in nodes:
            if n != leader:
                r = message(t + 0.1, leader, n, "AppendEntries", term, 1.0, entries=1)
                if r is not None:
                    r2 = message(r, n, leader, "AppendEntriesReply", term, 1.0, ok=True)
                    if r2 is not None:
                        acks += 1
                        last = max(last, r2)
        commit = index
        line(last, "node %d" % leader, "commit", "commit", index=commit)
        line(last, "node %d" % leader, "apply", "apply", "debug", index=index, client=c, seq=seq[c])
        line(last, "node %d" % leader, "state", "state", "messages", term=term, role="leader",
             last_index=index, commit=commit, applied=index)
        hist.write(json.dumps({"process": c, "type": "ok", "f": "put", "key": "k%d" % index,
                               "value": "v%d" % index, "result": "ok",
                               "seq": seq[c], "node": leader, "time": int((last + 0.2) * 1e6)}) + "\n")
        t = last + write_ms
    out.close()
    hist.close()


main()
