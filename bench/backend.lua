-- wrk script for bench/backend.sh: method, body, tokens and Accept come from the environment;
-- done() prints one machine-readable RESULT line.
-- BENCH_TOKENS is one user's token, or several (comma-separated) to spread the requests over
-- those users, one after the other.
local tokens = {}
for t in string.gmatch(os.getenv("BENCH_TOKENS"), "[^,]+") do
  tokens[#tokens + 1] = "Bearer " .. t
end
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.headers["Authorization"] = tokens[1]
if #tokens > 1 then
  local n = 0
  request = function()
    n = n + 1
    wrk.headers["Authorization"] = tokens[n % #tokens + 1]
    return wrk.format()
  end
end
local accept = os.getenv("BENCH_ACCEPT")
if accept and accept ~= "" then
  wrk.headers["Accept"] = accept
end
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
