-- load.lua — wrk script: cycles through the queries in $KB_QUERIES (one a
-- line), percent-encoded, into $LOAD_PREFIX .. query .. $LOAD_SUFFIX
-- (default: kb's /api/search).
local queries = {}
local prefix = os.getenv("LOAD_PREFIX") or "/api/search?q="
local suffix = os.getenv("LOAD_SUFFIX") or ""
local function encode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
-- LOAD_PLAIN=1: the query's syntax characters (quotes, parentheses,
-- backslashes, column colons, | ` < > * = ~, a leading - or +) become
-- spaces, for an engine whose query
-- syntax would reject them (Groonga answers those with an error, which is
-- cheap and would flatter its rate)
local plain = os.getenv("LOAD_PLAIN") == "1"
for line in io.lines(os.getenv("KB_QUERIES")) do
  if plain then
    line = line:gsub("[\"%(%)\\:|'`<>%*=~]", " "):gsub("^[-+]", " "):gsub(" [-+]", " ")
  end
  if #line > 0 then table.insert(queries, prefix .. encode(line) .. suffix) end
end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", queries[(i % #queries) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("requests_per_s=%.0f mean_ms=%.2f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency.mean / 1000,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
