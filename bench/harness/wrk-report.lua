-- wrk script for the benchmark: one machine-readable summary line at the end.
-- BENCH_HTTP_CLOSE=1 in the environment adds "Connection: close" to every
-- request, so each request runs on a new connection (the server closes
-- after answering; wrk reconnects).
if os.getenv("BENCH_HTTP_CLOSE") == "1" then
    wrk.headers["Connection"] = "close"
end

function done(summary, latency, requests)
    local e = summary.errors
    local errors = e.connect + e.read + e.write + e.status + e.timeout
    io.write(string.format(
        "wrk_result requests=%d duration_us=%d errors=%d connect_errors=%d timeouts=%d " ..
        "p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
        summary.requests, summary.duration, errors, e.connect, e.timeout,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9), latency.max))
end
