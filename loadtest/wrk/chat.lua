-- wrk script: POST an OpenAI chat completion; BENCH_STREAM=1 asks for a stream.
-- At the end prints one machine-readable line:
--   RESULT requests=<n> rps=<r> p50_us=<> p99_us=<> p999_us=<> errors=<n> non2xx=<n>
local stream = os.getenv("BENCH_STREAM") == "1"
local close = os.getenv("BENCH_CLOSE") == "1"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-team"] = "bench"
wrk.headers["x-project"] = "loadtest"
wrk.headers["x-mock-prompt-tokens"] = "1500"
wrk.headers["x-mock-completion-tokens"] = "400"
wrk.headers["x-mock-chunks"] = os.getenv("BENCH_CHUNKS") or "8"
if close then wrk.headers["Connection"] = "close" end
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the quarterly report in three bullet points."}]' ..
  (stream and ',"stream":true' or '') .. '}'

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d rps=%.1f p50_us=%d p99_us=%d p999_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    errors, summary.errors.status))
end
