#!/bin/bash
# System test: the dashboard's HTTP server under load from a real client
# (wrk), at its connection limit and beyond.
#
# tern-demo runs on a TAP device in a network namespace this script creates
# (tern-h4-load-PID) and always removes; addresses from 192.0.2.0/24. Needs
# root and /dev/net/tun, wrk and /usr/bin/python3 (exit 77 = skip).
#
# The limit is read from /api/stats (http.max_conns = TERN_HTTP_MAX_CONNS).
# (a) wrk, keep-alive, exactly the limit of connections, on / and on
#     /api/stats: requests served, zero socket errors, zero non-2xx.
# (b) Beyond the limit, checked one connection at a time: with the limit
#     held by keep-alive clients, each extra connection gets "503" and the
#     end of the stream (the server answers at accept time, before reading,
#     and closes: FIN, no reset), the held clients are still served.
# (c) wrk at 2x and 4x the limit with a generous --timeout: zero timeouts
#     (nobody left hanging), the refusals are 503s (non-2xx), and requests
#     are served (2xx) all along. wrk's read/write errors are reported, not
#     failed: a burst of more connections than the listen backlog
#     (TERN_TCP_BACKLOG_MAX) waiting for the server's next poll has its
#     handshake's final ACK dropped and is accepted later (tcp.accept_deferred),
#     or its SYN evicted or dropped; wrk sees resets from those.
# (d) wrk with "Connection: close": a new connection per request, zero
#     errors, zero non-2xx.
# (e) Afterwards the ledger (bytes and blocks of every category, heap
#     overhead, bytes of every owner), heap used and network buffers free
#     are byte for byte what they were before the load (the demo's SIGUSR2
#     report, which allocates nothing and opens no connection), and the
#     demo exits with an empty ledger.
. "$(dirname "$0")/lib/common.sh"
sys_init h4-load
sys_require curl wrk
sys_require_demo
PY=/usr/bin/python3
[ -x "$PY" ] || skip "/usr/bin/python3 not installed"
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
URL=http://$TERN_IP
LOG=$TMP/demo.log

books() { ledger_books "$LOG"; }

# wrk's figures: requests, 2xx, non-2xx and socket errors by kind.
wrk_run() {
    local name=$1
    shift
    nsx wrk "$@" >"$TMP/$name.log" 2>&1 || fail "$name: wrk failed"
    "$PY" - "$TMP/$name.log" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"(\d+) requests in", t)
req = int(m.group(1)) if m else -1
m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
non2 = int(m.group(1)) if m else 0
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
c, r, w, to = (int(x) for x in m.groups()) if m else (0, 0, 0, 0)
print(req, req - non2, non2, c, r, w, to)
PY
}

sys_tap_ns tern-h4-l "$LINUX_IP/24"
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 on the Linux side"
start_demo "$LOG" --ip "$TERN_IP/24"
wait_for "$LOG" '^memory \(start\):' 5 || fail "tern-demo did not start"
grep -q "HTTP dashboard on port 80" "$LOG" || fail "tern-demo serves no dashboard in TAP mode"

# Warm up: the first connection allocates TCP's segment pool and TIME-WAIT
# table, which stay (docs/memory.md); the baseline is taken after it.
nsx curl -fs --max-time 5 -o "$TMP/stats.json" "$URL/api/stats" || fail "GET /api/stats"
nsx curl -fs --max-time 5 -o /dev/null "$URL/" || fail "GET /"
MAX=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"]["max_conns"])' "$TMP/stats.json")
[ -n "$MAX" ] && [ "$MAX" -ge 1 ] || fail "no http.max_conns in /api/stats"
echo "== the server's connection limit: $MAX"
sleep 1
BASE=$(books) || fail "no ledger report at the start"
[ -n "$BASE" ] && echo "$BASE" | grep -q '^HTTP bytes' || fail "cannot read the ledger from the SIGUSR2 report"

# ---- (a) at the limit, keep-alive ----
for path in / /api/stats; do
    read -r req ok non2 ce re we to <<<"$(wrk_run "at-limit${path//\//-}" -t1 -c "$MAX" -d 4s --timeout 10s "$URL$path")"
    [ "$req" -gt 0 ] || fail "(a) $path: no requests completed"
    [ "$non2" = 0 ] || fail "(a) $path: $non2 non-2xx responses at the limit"
    [ "$ce$re$we$to" = 0000 ] || fail "(a) $path: socket errors connect $ce read $re write $we timeout $to"
    pass "(a) $MAX keep-alive connections on $path: $req requests in 4 s, all 2xx, no socket errors"
done

# ---- (b) beyond the limit, one connection at a time ----
nsx "$PY" - "$TERN_IP" "$MAX" <<'PY' || fail "(b) refusal beyond the limit"
import socket, sys, time
ip, limit = sys.argv[1], int(sys.argv[2])

def connect():
    s = socket.create_connection((ip, 80), timeout=10)
    s.settimeout(10)
    return s

def request(s, path="/style.css"):
    s.sendall(("GET %s HTTP/1.1\r\nHost: tern\r\n\r\n" % path).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        assert d, "closed before a response"
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(body) < n:
        d = s.recv(4096)
        assert d, "closed in the body"
        body += d
    return int(head.split()[1])

held = [connect() for _ in range(limit)]
for s in held:
    assert request(s) == 200
for k in range(2 * limit):
    s = connect()
    t0 = time.monotonic()
    buf = b""
    while True:  # read to the end of the stream: a 503 and a FIN
        d = s.recv(4096)
        if not d:
            break
        buf += d
    dt = time.monotonic() - t0
    assert buf.startswith(b"HTTP/1.1 503 "), buf[:80]
    assert b"Connection: close\r\n" in buf, buf
    s.close()
    if k == 0:
        print("refused connection: %r... then end of stream after %.1f ms" % (buf.split(b"\r\n")[0], dt * 1000))
for s in held:
    assert request(s, "/api/stats") == 200  # the connections within the limit are still served
    s.close()
print("ok: %d connections beyond the limit got 503 and a FIN; the %d held connections still served" % (2 * limit, limit))
PY
pass "(b) beyond the limit: 503 and close, held connections served"

# ---- (c) 2x and 4x the limit with wrk ----
for mult in 2 4; do
    c=$((MAX * mult))
    read -r req ok non2 ce re we to <<<"$(wrk_run "beyond-$mult" -t1 -c "$c" -d 4s --timeout 10s "$URL/")"
    [ "$to" = 0 ] || fail "(c) ${mult}x: $to clients timed out (left hanging)"
    [ "$ok" -gt 0 ] || fail "(c) ${mult}x: no 2xx responses"
    [ "$non2" -gt 0 ] || fail "(c) ${mult}x: no refusals with $c connections for a limit of $MAX"
    [ "$ce" = 0 ] || fail "(c) ${mult}x: $ce connect errors"
    pass "(c) $c connections (${mult}x the limit): $ok served, $non2 refused with 503, socket errors read $re write $we, timeouts 0"
done

# ---- (d) a new connection per request ----
# First let (c)'s overflow drain: connections whose handshake completed
# while the accept queue was full wait in SYN-RECEIVED (their final ACK
# dropped, tcp.accept_deferred, as Linux does) and are accepted later, when
# wrk has already closed them; each holds an HTTP slot until its client's
# retransmitted FIN arrives (seconds, after backoff). (d) starts with no
# HTTP connection open, so its 503s would be its own.
for ((i = 0; i < 60; i++)); do
    books | grep -q '^HTTP bytes 0 blocks 0' && break
    sleep 0.5
done
read -r req ok non2 ce re we to <<<"$(wrk_run close -t1 -c "$MAX" -d 4s --timeout 10s -H 'Connection: close' "$URL/")"
[ "$req" -gt 0 ] || fail "(d) no requests completed"
[ "$non2" = 0 ] || fail "(d) $non2 non-2xx responses"
[ "$ce$re$we$to" = 0000 ] || fail "(d) socket errors connect $ce read $re write $we timeout $to"
pass "(d) Connection: close, $MAX at a time: $req requests (one connection each), all 2xx, no socket errors"

# ---- (e) memory back at its baseline ----
for ((i = 0; i < 60; i++)); do
    NOW=$(books) || fail "no ledger report"
    [ "$NOW" = "$BASE" ] && break
    sleep 0.5 # the last connections may still be closing
done
if [ "$NOW" != "$BASE" ]; then
    diff <(echo "$BASE") <(echo "$NOW")
    fail "(e) the ledger is not back at its baseline"
fi
pass "(e) ledger (every category and owner), heap used and network buffers free equal the baseline: $(echo "$BASE" | tr '\n' ' ' | grep -oE 'HTTP bytes [0-9]+ blocks [0-9]+|heap_used [0-9]+|netbufs_free [0-9]+' | tr '\n' ',')"
grep -E '^(tcp|http)' "$LOG" >/dev/null
rc=0
stop_demo || rc=$?
grep -E '^http: ' "$LOG"
[ "$rc" = 0 ] || fail "tern-demo exit status $rc"
grep -q "ledger check after deinit: empty" "$LOG" || fail "ledger not empty after deinit"
pass "tern-demo exit 0, ledger empty after deinit"
echo "PASS"
