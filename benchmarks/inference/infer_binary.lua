-- wrk script: a batch of digits per request, raw bytes, POST /v1/infer/binary?model=digits.
--
--   wrk -t2 -c4 -d10s --latency -s infer_binary.lua \
--       'http://127.0.0.1:PORT/v1/infer/binary?model=digits'
--
-- Body: items x 64 bytes, one pixel 0..16 per byte (Content-Type application/octet-stream),
-- the same for every request. With AIVM_BODY_FILE set, the body is that file (make_bodies.py's
-- batch-4096.bin: the data set's real digits); without it, AIVM_ITEMS (default 4096) items of
-- pseudo-random pixels 0..16 (fixed seed) are made here. The answer is items x 10 i32 (LE).
-- done() prints one `RESULT key=value ...` line; `items` = body bytes / 64.

local INPUT_LEN = 64

local function make_body()
   local path = os.getenv("AIVM_BODY_FILE")
   if path and path ~= "" then
      local f = assert(io.open(path, "rb"), "cannot open AIVM_BODY_FILE " .. path)
      local body = f:read("*a")
      f:close()
      return body
   end
   local items = tonumber(os.getenv("AIVM_ITEMS") or "4096")
   math.randomseed(3)
   local bytes = {}
   for i = 1, items * INPUT_LEN do bytes[i] = string.char(math.random(0, 16)) end
   return table.concat(bytes)
end

wrk.method = "POST"
wrk.body = make_body()
wrk.headers["Content-Type"] = "application/octet-stream"
assert(#wrk.body % INPUT_LEN == 0, "the body is not a whole number of 64-byte items")
local ITEMS = #wrk.body / INPUT_LEN

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local rps = summary.requests / seconds
   local e = summary.errors
   io.write(string.format(
      "RESULT scenario=%s threads=%s connections=%s items=%d requests=%d seconds=%.3f " ..
      "requests_per_second=%.1f inferences_per_second=%.0f p50_ms=%.3f p90_ms=%.3f " ..
      "p99_ms=%.3f max_ms=%.3f mean_ms=%.3f bytes_read=%d errors_connect=%d errors_read=%d " ..
      "errors_write=%d errors_timeout=%d errors_status=%d\n",
      os.getenv("AIVM_SCENARIO") or "batch-binary", os.getenv("AIVM_WRK_THREADS") or "?",
      os.getenv("AIVM_WRK_CONNECTIONS") or "?", ITEMS, summary.requests, seconds, rps,
      rps * ITEMS, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000, summary.bytes,
      e.connect, e.read, e.write, e.timeout, e.status))
end
