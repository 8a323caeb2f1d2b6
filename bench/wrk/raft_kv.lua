-- raft_kv.lua - wrk script for raft_kv's client API (../shared/http-api.md), one operation per run
-- (bench/net.sh runs it against the leader):
--   wrk ... -s bench/wrk/raft_kv.lua URL -- put PREFIX VALUE_BYTES
--       PUT /kv/PREFIX<thread>-<n> with a new key every request (a counter per thread), the body
--       VALUE_BYTES bytes; only 200 {"result":"ok"} counts as done (409: the key existed).
--   wrk ... -s bench/wrk/raft_kv.lua URL -- get PREFIX KEYS
--       GET /kv/PREFIX<i> (linearizable, the default) of keys 0..KEYS-1, written beforehand, in
--       turn from a different start per thread; only 200 counts (404: not found).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

bad = 0
local op, prefix, value, paths
local counter = 0

function init(args)
   op, prefix = args[1], args[2]
   local n = tonumber(args[3])
   if (op ~= "put" and op ~= "get") or not prefix or not n or n < 1 then
      error("usage: wrk ... -s raft_kv.lua URL -- put PREFIX VALUE_BYTES | get PREFIX KEYS")
   end
   if op == "put" then
      value = string.rep("v", n)
   else
      paths = {}
      for i = 0, n - 1 do
         paths[#paths + 1] = "/kv/" .. prefix .. i
      end
      counter = (id * 7919) % n
   end
end

function request()
   counter = counter + 1
   if op == "put" then
      return wrk.format("PUT", "/kv/" .. prefix .. id .. "-" .. counter, nil, value)
   end
   return wrk.format("GET", paths[counter % #paths + 1])
end

function response(status, headers, body)
   if status ~= 200 then
      bad = bad + 1
   end
end
