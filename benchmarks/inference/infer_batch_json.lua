-- wrk script: a batch of digits per request, JSON, POST /v1/infer.
--
--   wrk -t2 -c4 -d10s --latency -s infer_batch_json.lua http://127.0.0.1:PORT/v1/infer
--
-- Body: `{"model":"digits","inputs":[[64 ints 0..16], ...]}`, the same for every request (the
-- server does not cache: each request is parsed and computed). With AIVM_BODY_FILE set, the
-- body is that file (make_bodies.py's batch-1024.json: the data set's real digits); without
-- it, AIVM_ITEMS (default 1024) items of pseudo-random pixels 0..16 (fixed seed) are made here.
-- done() prints one `RESULT key=value ...` line; `items` is counted from the body.

local function make_body()
   local path = os.getenv("AIVM_BODY_FILE")
   if path and path ~= "" then
      local f = assert(io.open(path, "rb"), "cannot open AIVM_BODY_FILE " .. path)
      local body = f:read("*a")
      f:close()
      return body
   end
   local model = os.getenv("AIVM_MODEL") or "digits"
   local items = tonumber(os.getenv("AIVM_ITEMS") or "1024")
   math.randomseed(2)
   local rows = {}
   for i = 1, items do
      local px = {}
      for j = 1, 64 do px[j] = math.random(0, 16) end
      rows[i] = "[" .. table.concat(px, ",") .. "]"
   end
   return '{"model":"' .. model .. '","inputs":[' .. table.concat(rows, ",") .. "]}"
end

wrk.method = "POST"
wrk.body = make_body()
wrk.headers["Content-Type"] = "application/json"

-- Items = the rows of `inputs`: every "[" but the one that opens the list.
local _, brackets = string.gsub(wrk.body, "%[", "")
local ITEMS = brackets - 1

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local rps = summary.requests / seconds
   local e = summary.errors
   io.write(string.format(
      "RESULT scenario=%s threads=%s connections=%s items=%d requests=%d seconds=%.3f " ..
      "requests_per_second=%.1f inferences_per_second=%.0f p50_ms=%.3f p90_ms=%.3f " ..
      "p99_ms=%.3f max_ms=%.3f mean_ms=%.3f bytes_read=%d errors_connect=%d errors_read=%d " ..
      "errors_write=%d errors_timeout=%d errors_status=%d\n",
      os.getenv("AIVM_SCENARIO") or "batch-json", os.getenv("AIVM_WRK_THREADS") or "?",
      os.getenv("AIVM_WRK_CONNECTIONS") or "?", ITEMS, summary.requests, seconds, rps,
      rps * ITEMS, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000, summary.bytes,
      e.connect, e.read, e.write, e.timeout, e.status))
end
