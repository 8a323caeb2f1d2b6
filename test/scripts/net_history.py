#!/usr/bin/env python3
"""net_history.py - concurrent HTTP clients of a raft_kv serve cluster that record their history
in ../shared/history-format.md, for the linearizability checker (raft_kv --check-history).

Usage: net_history.py [--check RAFT_KV] OUT.jsonl SECONDS URL [URL...]
Each of CLIENTS threads runs one operation at a time (put, get or delete of a small key set),
each with its own exactly-once session (client_id, seq), against the node it believes leads.
A reply of 200/404/409 is ok with its result; 307 and 503 before anything was sent to a leader
are retried; a broken connection or 504 after a write may have been applied, so the operation is
retried with the same (client_id, seq) until its deadline and then recorded as info. Timestamps
come from one monotonic clock (time.monotonic_ns) shared by the threads.
With --check, the history is then checked with RAFT_KV --check-history, whose verdict is printed.
Exit status: 0 done (and linearizable); 1 no operation completed; 2 the checker did not find
the history linearizable.
"""
import http.client
import json
import random
import subprocess
import sys
import threading
import time
import urllib.parse

CLIENTS = 5
KEYS = ["a", "b", "c", "d"]
OP_DEADLINE_S = 8.0


def main():
    args = sys.argv[1:]
    checker = None
    if args[:1] == ["--check"]:
        checker, args = args[1], args[2:]
    out_path, seconds, urls = args[0], float(args[1]), args[2:]
    hosts = [urllib.parse.urlparse(u).netloc for u in urls]
    lock = threading.Lock()
    out = open(out_path, "w")
    stop_at = time.monotonic() + seconds
    counts = {"ok": 0, "info": 0, "fail": 0}

    def record(event):
        event["time"] = time.monotonic_ns()
        with lock:
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
            out.flush()
            if event["type"] in counts:
                counts[event["type"]] += 1

    def client(process):
        rng = random.Random(process)
        client_id = 1000 + process
        seq = 0
        node = rng.randrange(len(hosts))
        n = 0
        while time.monotonic() < stop_at:
            f = rng.choice(["put", "put", "get", "get", "delete"])
            key = rng.choice(KEYS)
            n += 1
            value = "v%d.%d" % (process, n)
            seq += 1
            inv = {"process": process, "type": "invoke", "f": f, "key": key}
            if f == "put":
                inv["value"] = value
            record(dict(inv))
            path = "/kv/" + urllib.parse.quote(key, safe="")
            if f != "get":
                path += "?client_id=%d&seq=%d" % (client_id, seq)
            method = {"put": "PUT", "get": "GET", "delete": "DELETE"}[f]
            deadline = time.monotonic() + OP_DEADLINE_S
            maybe = False  # the request may have been applied
            done = None
            while time.monotonic() < deadline:
                try:
                    c = http.client.HTTPConnection(hosts[node], timeout=3)
                    c.request(method, path, body=value if f == "put" else None)
                    r = c.getresponse()
                    body = r.read()
                    c.close()
                except (OSError, http.client.HTTPException):
                    maybe = maybe or f != "get"
                    node = rng.randrange(len(hosts))
                    time.sleep(0.05)
                    continue
                try:
                    doc = json.loads(body or b"{}")
                except ValueError:
                    doc = {}
                if r.status in (200, 404, 409) and "result" in doc:
                    done = doc
                    break
                if r.status == 307:
                    loc = urllib.parse.urlparse(r.getheader("Location", ""))
                    node = hosts.index(loc.netloc) if loc.netloc in hosts else rng.randrange(len(hosts))
                    continue
                if r.status == 504:
                    maybe = maybe or f != "get"
                node = rng.randrange(len(hosts))
                time.sleep(0.05)
            end = dict(inv)
            if done is not None:
                end["type"] = "ok"
                end["result"] = done["result"]
                if f == "get":
                    end.pop("value", None)
                    if done["result"] == "found":
                        end["value"] = done.get("value", "")
            elif maybe or f == "get":
                end["type"] = "info"
                end["error"] = "timeout"
            else:
                end["type"] = "fail"
                end["error"] = "no_leader"
            record(end)

    threads = [threading.Thread(target=client, args=(p,)) for p in range(1, CLIENTS + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.close()
    print("history: %d ok, %d info, %d fail" % (counts["ok"], counts["info"], counts["fail"]))
    if counts["ok"] == 0:
        return 1
    if checker is not None:
        done = subprocess.run([checker, "--check-history", out_path], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        print(done.stdout, end="")
        if done.returncode != 0:
            print("the checker exited %d" % done.returncode)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
