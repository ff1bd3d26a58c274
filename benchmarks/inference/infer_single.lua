-- wrk script: one digit per request, JSON, POST /v1/infer.
--
--   wrk -t2 -c8 -d10s --latency -s infer_single.lua http://127.0.0.1:PORT/v1/infer
--
-- Bodies: `{"model":"digits","input":[64 ints 0..16]}`. With AIVM_BODY_FILE set to a file
-- of such bodies, one per line (make_bodies.py's single.jsonl: the data set's real digits),
-- the requests cycle through its lines; without it, 256 bodies of pseudo-random pixels 0..16
-- (fixed seed) are made here. AIVM_MODEL names the model of the made bodies (default digits).
-- Each wrk thread formats all its requests once in init(); request() only hands them out.
-- done() prints one `RESULT key=value ...` line (see the end of this file).

local ITEMS = 1

local function load_bodies()
   local path = os.getenv("AIVM_BODY_FILE")
   local bodies = {}
   if path and path ~= "" then
      local f = assert(io.open(path, "rb"), "cannot open AIVM_BODY_FILE " .. path)
      for line in f:lines() do
         if line ~= "" then bodies[#bodies + 1] = line end
      end
      f:close()
      assert(#bodies > 0, "no bodies in " .. path)
      return bodies
   end
   local model = os.getenv("AIVM_MODEL") or "digits"
   math.randomseed(1)
   for i = 1, 256 do
      local px = {}
      for j = 1, 64 do px[j] = math.random(0, 16) end
      bodies[i] = '{"model":"' .. model .. '","input":[' .. table.concat(px, ",") .. ']}'
   end
   return bodies
end

local requests_ = {}
local next_ = 1

function init(args)
   local bodies = load_bodies()
   -- Each thread starts at a different place (`offset`, set by setup() below), so the threads
   -- do not send the same sequence.
   next_ = (offset or 0) % #bodies + 1
   for i, body in ipairs(bodies) do
      local headers = { ["Content-Type"] = "application/json" }
      requests_[i] = wrk.format("POST", nil, headers, body)
   end
end

local thread_count = 0
function setup(thread) -- in wrk's main Lua state, once per thread before its init()
   thread:set("offset", thread_count * 97)
   thread_count = thread_count + 1
end

function request()
   local r = requests_[next_]
   next_ = next_ + 1
   if next_ > #requests_ then next_ = 1 end
   return r
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local rps = summary.requests / seconds
   local e = summary.errors
   io.write(string.format(
      "RESULT scenario=%s threads=%s connections=%s items=%d requests=%d seconds=%.3f " ..
      "requests_per_second=%.1f inferences_per_second=%.0f p50_ms=%.3f p90_ms=%.3f " ..
      "p99_ms=%.3f max_ms=%.3f mean_ms=%.3f bytes_read=%d errors_connect=%d errors_read=%d " ..
      "errors_write=%d errors_timeout=%d errors_status=%d\n",
      os.getenv("AIVM_SCENARIO") or "single-json", os.getenv("AIVM_WRK_THREADS") or "?",
      os.getenv("AIVM_WRK_CONNECTIONS") or "?", ITEMS, summary.requests, seconds, rps,
      rps * ITEMS, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000, summary.bytes,
      e.connect, e.read, e.write, e.timeout, e.status))
end
