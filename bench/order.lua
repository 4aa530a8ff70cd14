-- wrk script: place orders through the public API, one user per connection.
--
-- Run with as many threads as connections (wrk -t N -c N), so each thread
-- owns one connection and one user: wallets are locked per user, and sharing
-- a user between connections would serialise them on its row lock.
-- BENCH_TOKENS_FILE holds one bearer token per line; there must be at least
-- as many as threads. done() prints one machine-readable WRK_RESULT line.

local body = '{"items":[{"sku":"COFFEE-1KG","quantity":1},{"sku":"FILTER-100","quantity":2}]}'
local tokens = {}
local threads = 0

local function load_tokens()
  local path = os.getenv("BENCH_TOKENS_FILE")
  if path == nil then
    error("BENCH_TOKENS_FILE is not set")
  end
  for line in io.lines(path) do
    if line ~= "" then
      table.insert(tokens, line)
    end
  end
end

function setup(thread)
  if #tokens == 0 then
    load_tokens()
  end
  threads = threads + 1
  if threads > #tokens then
    error(string.format("%d threads but only %d tokens", threads, #tokens))
  end
  thread:set("token", tokens[threads])
end

function init(args)
  request_bytes = wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

function request()
  return request_bytes
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d seconds=%.3f tps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
