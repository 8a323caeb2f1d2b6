-- etcd.lua - wrk script for etcd 3.4's JSON gateway (grpc-gateway, /v3/), one operation per run,
-- the same keys and values as raft_kv.lua:
--   wrk ... -s bench/wrk/etcd.lua URL -- put PREFIX VALUE_BYTES
--       POST /v3/kv/put {"key": base64(PREFIX<thread>-<n>), "value": base64(value)} with a new key
--       every request (a counter per thread); 200 counts as done.
--   wrk ... -s bench/wrk/etcd.lua URL -- get PREFIX KEYS
--       POST /v3/kv/range {"key": base64(PREFIX<i>)} of keys 0..KEYS-1, written beforehand, in
--       turn from a different start per thread: linearizable, etcd's default (no
--       "serializable"). 200 with the key in "kvs" counts; 200 without it is a miss.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

bad = 0
local op, prefix, value64, bodies
local counter = 0

function init(args)
   op, prefix = args[1], args[2]
   local n = tonumber(args[3])
   if (op ~= "put" and op ~= "get") or not prefix or not n or n < 1 then
      error("usage: wrk ... -s etcd.lua URL -- put PREFIX VALUE_BYTES | get PREFIX KEYS")
   end
   wrk.headers["Content-Type"] = "application/json"
   if op == "put" then
      value64 = base64(string.rep("v", n))
   else
      bodies = {}
      for i = 0, n - 1 do
         bodies[#bodies + 1] = '{"key":"' .. base64(prefix .. i) .. '"}'
      end
      counter = (id * 7919) % n
   end
end

function request()
   counter = counter + 1
   if op == "put" then
      local key = prefix .. id .. "-" .. counter
      return wrk.format("POST", "/v3/kv/put", nil,
         '{"key":"' .. base64(key) .. '","value":"' .. value64 .. '"}')
   end
   return wrk.format("POST", "/v3/kv/range", nil, bodies[counter % #bodies + 1])
end

function response(status, headers, body)
   if status ~= 200 or (op == "get" and not body:find('"kvs"', 1, true)) then
      bad = bad + 1
   end
end
