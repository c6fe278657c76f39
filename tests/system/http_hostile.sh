#!/bin/bash
# System test: hostile requests against the dashboard's HTTP server, from
# Linux sockets (/usr/bin/python3) in a network namespace.
#
# tern-demo runs on a TAP device in a namespace this script creates
# (tern-h4-host-PID) and always removes; addresses from 192.0.2.0/24. Needs
# root and /dev/net/tun (exit 77 = skip). The server's timeouts are
# shortened through TERN_DEMO_HTTP_TIMEOUTS (header 2 s, idle 3 s) so the
# slow cases take seconds.
#
# Every case opens its own connection and must get the status listed and
# then the end of the stream (the server closes), or only the close:
#   oversized request line 414; an interpreted header line over its limit
#   431; a request head over TERN_HTTP_HEADERS_MAX 431 (many lines, or one
#   skipped line); too many header fields 431; bare LF line ends accepted
#   (RFC 9112 2.2) and served 200 with keep-alive; a bare CR 400; a head
#   never finished (no empty line, or no line end at all) 408 at the header
#   timeout; methods: POST 405 with Allow, an unknown token 501 (RFC 9110
#   15.6.2), lowercase get 501, a non-token 400; versions: HTTP/2.0 and
#   HTTP/0.9 505, malformed (HTTP/1, HTTPS/1.1, none) 400; GET with a
#   Content-Length claiming more body than sent: 408 at the header timeout;
#   claiming less: 200, then the rest parsed as the next request: 400; a
#   Content-Length over TERN_HTTP_BODY_MAX 413; bytes trickled one per
#   second: 408 and closed at the header timeout, long before the request
#   could end; connections opened and never used: closed without a byte at
#   the header timeout, while a new client is served meanwhile; an idle
#   keep-alive connection closed without a byte at the idle timeout; a
#   client that asks for a large file and never reads: reset when sending
#   has made no progress for the idle timeout; binary garbage (a TLS
#   ClientHello, NULs, 40 random blobs): a 4xx/5xx status and a close.
# Afterwards the ledger (every category and owner), heap used and network
# buffers free equal the baseline taken before, the server's counters agree
# (parse errors, timeouts), and tern-demo exits with an empty ledger.
. "$(dirname "$0")/lib/common.sh"
sys_init h4-host
sys_require curl
sys_require_demo
PY=/usr/bin/python3
[ -x "$PY" ] || skip "/usr/bin/python3 not installed"
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
URL=http://$TERN_IP
HEADER_MS=2000
IDLE_MS=3000
LOG=$TMP/demo.log

books() { ledger_books "$LOG"; }

sys_tap_ns tern-h4-h "$LINUX_IP/24"
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 on the Linux side"
# The shortened timeouts reach the demo through its environment.
export TERN_DEMO_HTTP_TIMEOUTS=$HEADER_MS:$IDLE_MS
start_demo "$LOG" --ip "$TERN_IP/24"
wait_for "$LOG" '^memory \(start\):' 5 || fail "tern-demo did not start"
grep -q "HTTP dashboard on port 80 (header timeout $HEADER_MS ms, idle timeout $IDLE_MS ms" "$LOG" ||
    fail "the shortened timeouts were not taken"
nsx curl -fs --max-time 5 -o "$TMP/stats0.json" "$URL/api/stats" || fail "GET /api/stats"
sleep 0.5
BASE=$(books) || fail "no ledger report at the start"
[ -n "$BASE" ] && echo "$BASE" | grep -q '^HTTP bytes' || fail "cannot read the ledger from the SIGUSR2 report"

nsx "$PY" - "$TERN_IP" "$HEADER_MS" "$IDLE_MS" "$TMP/stats0.json" >"$TMP/cases.log" 2>&1 <<'PY'
import json, random, socket, sys, threading, time
ip, header_ms, idle_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
limit = json.load(open(sys.argv[4]))["http"]["max_conns"]
HDR, IDLE = header_ms / 1000.0, idle_ms / 1000.0
WAIT = HDR + IDLE + 10  # generous: a case that hangs longer than this fails
failures = []
expected_parse_errors = 0
expected_timeouts = 0

def connect(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(WAIT)
    s.connect((ip, 80))
    return s

def read_all(s):
    """Everything until the end of the stream; (bytes, how it ended)."""
    buf = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return buf, "fin"
            buf += d
    except ConnectionResetError:
        return buf, "reset"
    except socket.timeout:
        return buf, "hang"

def statuses(buf):
    """Status codes of the complete responses in buf, in order."""
    out = []
    while buf.startswith(b"HTTP/1.1 "):
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if not sep:
            break
        out.append(int(head.split()[1]))
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.lower() == b"content-length":
                n = int(v)
        buf = rest[n:]
    return out

def case(name, data, want, pace=None):
    """Send data (whole, or one byte every pace seconds), read to the end:
    want is the list of statuses expected, then the close."""
    s = connect()
    t0 = time.monotonic()
    sent = 0
    try:
        if pace is None:
            s.sendall(data)
            sent = len(data)
        else:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                sent += 1
                time.sleep(pace)
                s.setblocking(False)
                try:
                    peek = s.recv(1, socket.MSG_PEEK)
                except BlockingIOError:
                    peek = None
                except ConnectionResetError:
                    peek = b""
                s.settimeout(WAIT)
                if peek is not None:
                    break  # the server answered (or closed): stop trickling
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server refused and closed while we were still sending
    buf, end = read_all(s)
    s.close()
    got = statuses(buf)
    dt = time.monotonic() - t0
    ok = got == want and end != "hang"
    print("%-4s %-58s -> %s then %s (%.1f s, %d of %d bytes sent)" %
          ("ok" if ok else "FAIL", name, got or "nothing", end, dt, sent, len(data)))
    if not ok:
        failures.append("%s: want %s and a close, got %s then %s; first bytes %r" % (name, want, got, end, buf[:120]))
    return got, end, sent, dt

def run_parallel(cases):
    ts = [threading.Thread(target=case, args=c) for c in cases]
    for t in ts:
        t.start()
    for t in ts:
        t.join()

R = b"\r\nHost: tern\r\n\r\n"
# ---- sizes (limits in docs/http.md) ----
case("request line of 300 bytes", b"GET /" + b"a" * 300 + b" HTTP/1.1" + R, [414])
case("Accept-Encoding line of 300 bytes", b"GET / HTTP/1.1\r\nHost: t\r\nAccept-Encoding: " + b"x" * 300 + b"\r\n\r\n", [431])
case("50 header lines of 200 bytes (> 8192)", b"GET / HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 190) for i in range(50)) + b"\r\n", [431])
case("one Cookie line of 9000 bytes", b"GET / HTTP/1.1\r\nHost: t\r\nCookie: " + b"c" * 9000 + b"\r\n\r\n", [431])
case("65 header fields", b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-A: 1\r\n" * 64 + b"\r\n", [431])
case("64 header fields (the limit)", b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + b"X-A: 1\r\n" * 62 + b"\r\n", [200])
expected_parse_errors += 5
# ---- line ends ----
case("bare LF line ends (tolerated), then a close request",
     b"GET /style.css HTTP/1.1\nHost: t\n\nGET / HTTP/1.1\nHost: t\nConnection: close\n\n", [200, 200])
case("bare CR", b"GET / HTTP/1.1\rHost: t\r\n\r\n", [400])
expected_parse_errors += 1
# ---- methods and versions ----
case("POST", b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", [405])
case("unknown method BREW", b"BREW / HTTP/1.1" + R, [501])
case("lowercase get", b"get / HTTP/1.1" + R, [501])
case("non-token method G(T", b"G(T / HTTP/1.1" + R, [400])
case("HTTP/2.0", b"GET / HTTP/2.0" + R, [505])
case("HTTP/0.9", b"GET / HTTP/0.9" + R, [505])
case("HTTP/1", b"GET / HTTP/1" + R, [400])
case("HTTPS/1.1", b"GET / HTTPS/1.1" + R, [400])
case("no version", b"GET /\r\n\r\n", [400])
expected_parse_errors += 9
# ---- bodies on GET ----
case("Content-Length 5, body of 5 + a bad request",
     b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhelloGARBAGE\r\n\r\n", [200, 400])
case("Content-Length 5000 (over the body limit)", b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + b"b" * 100, [413])
expected_parse_errors += 2
# ---- never finished: the header timeout answers 408 (three at once) ----
run_parallel([
    ("head without its empty line", b"GET / HTTP/1.1\r\nHost: t\r\n", [408]),
    ("request line without a line end", b"GET / HTTP/1.1", [408]),
    ("Content-Length 100, 10 body bytes sent", b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789", [408]),
])
expected_timeouts += 3
# ---- trickled one byte per second ----
got, end, sent, dt = case("trickle, one byte per second", b"GET /index.html HTTP/1.1\r\nHost: tern\r\n\r\n", [408], pace=1.0)
expected_timeouts += 1
if sent >= 40:
    failures.append("trickle: the whole request was sent (%d bytes) before the server gave up" % sent)
# ---- opened and never used; a new client is served meanwhile ----
idle = [connect() for _ in range(limit - 1)]
t0 = time.monotonic()
s = connect()
s.sendall(b"GET /api/stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
buf, end = read_all(s)
s.close()
if statuses(buf) != [200] or end != "fin":
    failures.append("a new client beside %d unused connections: %s %s" % (limit - 1, statuses(buf), end))
for c in idle:
    buf, end = read_all(c)
    c.close()
    if buf or end != "fin":
        failures.append("unused connection: got %r then %s" % (buf[:60], end))
print("ok   %d connections opened and never used: closed without a byte after %.1f s; a new client served meanwhile"
      % (limit - 1, time.monotonic() - t0))
expected_timeouts += limit - 1
# ---- idle keep-alive ----
s = connect()
s.sendall(b"GET /style.css HTTP/1.1\r\nHost: t\r\n\r\n")
t0 = time.monotonic()
buf, end = read_all(s)
s.close()
if statuses(buf) != [200] or end != "fin":
    failures.append("idle keep-alive: %s then %s" % (statuses(buf), end))
print("ok   idle keep-alive connection: 200, then closed without a byte after %.1f s" % (time.monotonic() - t0))
expected_timeouts += 1
# ---- a reader that stops: reset once sending makes no progress ----
s = connect(rcvbuf=1024)
s.sendall(b"GET /app.js HTTP/1.1\r\nHost: t\r\n\r\n")
time.sleep(IDLE + HDR + 1)
buf, end = read_all(s)
s.close()
n = 0
head, _, body = buf.partition(b"\r\n\r\n")
for line in head.split(b"\r\n")[1:]:
    if line.lower().startswith(b"content-length:"):
        n = int(line.split(b":")[1])
if not buf.startswith(b"HTTP/1.1 200 ") or end != "reset" or len(body) >= n:
    failures.append("stalled reader: %r, %d of %d body bytes, then %s" % (buf[:40], len(body), n, end))
print("ok   a client that stops reading: %d of %d body bytes, then %s" % (len(body), n, end))
expected_timeouts += 1
# ---- binary garbage ----
bad = (400, 408, 413, 414, 431, 501, 505)
def garbage(name, data):
    s = connect()
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    buf, end = read_all(s)
    s.close()
    st = statuses(buf)
    if end == "hang" or not (st == [] or (len(st) == 1 and st[0] in bad)):
        failures.append("%s: %s then %s, first bytes %r" % (name, st, end, buf[:80]))
    return st, end
garbage("TLS ClientHello", bytes.fromhex("16030100a5010000a10303") + bytes(range(32)) + b"\x00" * 100)
garbage("NUL bytes", b"\x00" * 512)
rng = random.Random(6)
tally = {}
for i in range(40):
    st, end = garbage("random blob %d" % i, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))))
    k = "%s+%s" % (st[0] if st else "-", end)
    tally[k] = tally.get(k, 0) + 1
print("ok   binary garbage: TLS, NULs and 40 random blobs; answers %s" % tally)
with open(sys.argv[4] + ".expect", "w") as f:
    f.write("%d %d\n" % (expected_parse_errors, expected_timeouts))
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
PY
rc=$?
cat "$TMP/cases.log"
[ $rc = 0 ] || fail "hostile cases"
pass "every hostile case got its status or a close"

# Memory: back at the baseline once the last connections are gone.
for ((i = 0; i < 60; i++)); do
    NOW=$(books) || fail "no ledger report"
    [ "$NOW" = "$BASE" ] && break
    sleep 0.5
done
if [ "$NOW" != "$BASE" ]; then
    diff <(echo "$BASE") <(echo "$NOW")
    fail "the ledger is not back at its baseline"
fi
pass "ledger (every category and owner), heap used and network buffers free equal the baseline"

# The server's own counters agree with what the cases provoked (the
# garbage blobs add parse errors: at least).
nsx curl -fs --max-time 5 -o "$TMP/stats1.json" "$URL/api/stats" || fail "GET /api/stats afterwards"
"$PY" - "$TMP/stats0.json" "$TMP/stats1.json" "$TMP/stats0.json.expect" <<'PY' || fail "server counters"
import json, sys
a = json.load(open(sys.argv[1]))["http"]
b = json.load(open(sys.argv[2]))["http"]
pe, to = (int(x) for x in open(sys.argv[3]).read().split())
d = {k: b[k] - a[k] for k in ("parse_errors", "timeouts", "refused_busy", "nomem", "responses_5xx")}
print("server counters during the cases: %s" % d)
assert d["parse_errors"] >= pe, (d, pe)
assert d["timeouts"] == to, (d, to)
assert d["refused_busy"] == 0 and d["nomem"] == 0, d
assert b["open"] == 1, b  # only the request reading this
PY
rc=0
stop_demo || rc=$?
[ "$rc" = 0 ] || fail "tern-demo exit status $rc"
grep -q "ledger check after deinit: empty" "$LOG" || fail "ledger not empty after deinit"
pass "tern-demo exit 0, ledger empty after deinit"
echo "PASS"
