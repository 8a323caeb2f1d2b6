-- report.lua - the part of bench/net.sh's wrk scripts that is the same for every target: each
-- thread gets an id (1, 2, ...) before its init(), counts the answers that are not what the
-- operation must return in `bad` (the target script's response() decides), and done() prints one
-- line that bench/net.sh parses:
--   bench_net_result requests=N duration_us=N req_per_s=X p50_us=N p99_us=N max_us=N
--     connect=N read=N write=N timeout=N status=N bad=N
-- (connect..timeout: wrk's socket errors; status: answers >= 400, wrk's "Non-2xx or 3xx";
-- bad: answers the script refused, a 3xx included, which wrk alone would count as success).
-- Loaded with dofile() by raft_kv.lua and etcd.lua, from their own directory.

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local bad = 0
   for _, t in ipairs(threads) do
      bad = bad + (t:get("bad") or 0)
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "bench_net_result requests=%d duration_us=%d req_per_s=%.1f p50_us=%d p99_us=%d max_us=%d"
         .. " connect=%d read=%d write=%d timeout=%d status=%d bad=%d\n",
      summary.requests, summary.duration, secs > 0 and summary.requests / secs or 0,
      latency:percentile(50), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.timeout, e.status, bad))
end

-- Standard base64 (RFC 4648, with padding) of a byte string: etcd's JSON gateway takes keys and
-- values that way.
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local digit = {}
for i = 1, 64 do
   digit[i - 1] = alphabet:sub(i, i)
end

function base64(s)
   local out = {}
   for i = 1, #s, 3 do
      local a, b, c = s:byte(i, i + 2)
      local n = a * 65536 + (b or 0) * 256 + (c or 0)
      out[#out + 1] = digit[math.floor(n / 262144) % 64] .. digit[math.floor(n / 4096) % 64]
         .. (b and digit[math.floor(n / 64) % 64] or "=") .. (c and digit[n % 64] or "=")
   end
   return table.concat(out)
end
