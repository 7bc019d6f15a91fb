-- wrk script for bench/backend.sh: method, body, tokens and Accept come from the environment;
-- done() prints one machine-readable RESULT line.
-- BENCH_TOKENS is one user's token, or several (comma-separated) to spread the requests over
-- those users, one after the other.
-- BENCH_CONVERSATIONS (optional, one per token): each user's conversation id, put where the
-- body says {conversation}, so every turn continues that user's conversation as the UI does.
-- BENCH_KEY_PREFIX (optional): send an Idempotency-Key on every request, as the UI does on
-- every create and chat turn; keys are the prefix, the wrk thread and a counter, never reused.
local tokens = {}
for t in string.gmatch(os.getenv("BENCH_TOKENS"), "[^,]+") do
  tokens[#tokens + 1] = "Bearer " .. t
end
local convs = {}
for c in string.gmatch(os.getenv("BENCH_CONVERSATIONS") or "", "[^,]+") do
  convs[#convs + 1] = c
end
if #convs > 0 and #convs ~= #tokens then
  error("BENCH_CONVERSATIONS needs one conversation per token")
end
local key_prefix = os.getenv("BENCH_KEY_PREFIX") or ""
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.headers["Authorization"] = tokens[1]
local accept = os.getenv("BENCH_ACCEPT")
if accept and accept ~= "" then
  wrk.headers["Accept"] = accept
end
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

-- setup runs in wrk's main Lua state once per thread: it numbers the threads for the keys.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

if #tokens > 1 or #convs > 0 or key_prefix ~= "" then
  local n = 0
  request = function()
    n = n + 1
    local i = n % #tokens + 1
    wrk.headers["Authorization"] = tokens[i]
    if key_prefix ~= "" then
      wrk.headers["Idempotency-Key"] = key_prefix .. "-" .. thread_no .. "-" .. n
    end
    if #convs > 0 then
      return wrk.format(nil, nil, nil, (string.gsub(body, "{conversation}", convs[i])))
    end
    return wrk.format()
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
