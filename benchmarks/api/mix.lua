-- a mixed workload for wrk: each request is drawn at random from the calls a generated file defines
-- (WRK_CALLS names it); a GraphQL error in a 200 answer counts as an error, as the asyncio client counts it
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  dofile(os.getenv("WRK_CALLS"))
  prepared = {}
  for i, c in ipairs(calls) do
    prepared[i] = wrk.format(c.method, c.path, c.headers, c.body)
  end
  math.randomseed(7 + id)
  sent = {}
  for i = 1, #calls do sent[i] = 0 end
  graphql_errors = 0
end

function request()
  local i = math.random(#prepared)
  sent[i] = sent[i] + 1
  return prepared[i]
end

function response(status, headers, body)
  if status == 200 and body and string.find(body, '"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
  end
end

function done(summary, latency, requests)
  local per_call, errors = {}, 0
  for _, t in ipairs(threads) do
    errors = errors + t:get("graphql_errors")
    local s = t:get("sent")
    for i, n in pairs(s) do per_call[i] = (per_call[i] or 0) + n end
  end
  local e = summary.errors
  local parts = {}
  for i, n in pairs(per_call) do table.insert(parts, string.format('"%d": %d', i, n)) end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non_200": %d, "socket_errors": %d, '
    .. '"graphql_errors": %d, "sent": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout, errors, table.concat(parts, ", ")))
end
