-- wrk script: POST the JSON body in $BODY (a file) to the URL wrk was given, with optional extra
-- headers in $HEADERS ("Name: value" lines separated by "|"), and print one machine-readable line
-- at the end for bench/run.sh:
--   BENCH rps=.. p50_us=.. p99_us=.. requests=.. errors=.. non2xx=.. bytes_per_req=..
local path = os.getenv("BODY") or error("BODY (path of the request body file) is not set")
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
local extra = os.getenv("HEADERS") or ""
for line in string.gmatch(extra, "[^|]+") do
  local name, value = string.match(line, "^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end

function done(summary, latency, requests)
  local e = summary.errors
  local n = summary.requests
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH rps=%.1f p50_us=%d p99_us=%d requests=%d errors=%d non2xx=%d bytes_per_req=%.0f\n",
    n / secs, latency:percentile(50), latency:percentile(99), n,
    e.connect + e.read + e.write + e.timeout, e.status,
    n > 0 and summary.bytes / n or 0))
end
