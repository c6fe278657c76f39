#!/usr/bin/env bash
# FreeRTOS+TCP application code on tern (tests/compat/freertos_echo.c,
# compiled against tern/compat/freertos_tcp.h) run on a TAP against Linux
# peers in a namespace: the accept-loop TCP echo server with a task per
# connection, the UDP echo, FreeRTOS_connect to a Linux listener and to a
# closed port (negative pdFREERTOS_ERRNO_*), the heap statistics calls, and
# FreeRTOS_gethostbyname on a dotted quad and by name (tern's DNS client
# asking dnsmasq in the namespace: a host record, and 0 for NXDOMAIN).
. "$(dirname "$0")/lib/common.sh"
sys_init compatfrt
DNSMASQ=$(command -v dnsmasq 2>/dev/null || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || skip "dnsmasq not installed (Debian package dnsmasq-base, scripts/install-deps)"
DNSMASQ_PID=""
sys_on_exit '[ -n "$DNSMASQ_PID" ] && kill -TERM "$DNSMASQ_PID" && wait "$DNSMASQ_PID"'
compat_start freertos 192.0.2.1 # the DNS server: dnsmasq on the Linux side
# DNS only (no --dhcp-range); a simple command, so $! is dnsmasq itself.
ip netns exec "$NS" "$DNSMASQ" --keep-in-foreground --pid-file="$TMP/dnsmasq.pid" --conf-file=/dev/null \
    --no-resolv --no-hosts --user=root --group=root --interface="$TAP" --except-interface=lo --bind-interfaces \
    --listen-address=192.0.2.1 --local=/test/ --host-record=alpha.test,192.0.2.10 \
    --log-queries --log-facility="$TMP/dnsmasq.log" >"$TMP/dnsmasq-out.log" 2>&1 &
DNSMASQ_PID=$!
wait_for "$TMP/dnsmasq.log" 'started, version' 10 || fail "dnsmasq did not start"

compat_peer "FreeRTOS+TCP-code checks failed" <<'PY'
got = ask(b"hello freertos udp")
if got != b"hello freertos udp":
    sys.exit("udp echo: got %r" % (got,))
print("udp echo ok")

heap0 = ask(b"heap").split()
if heap0[0] != b"heap" or not (0 < int(heap0[2]) <= int(heap0[1]) < 10**8):
    sys.exit("heap: %r" % (heap0,))
print("heap ok", heap0)

# three connections at once, a task each
conns = [socket.create_connection(T, timeout=5) for _ in range(3)]
for rnd in range(10):
    for i, s in enumerate(conns):
        msg = (b"%d" % i) * 300 + b"\n"
        s.sendall(msg)
        back = b""
        while len(back) < len(msg):
            c = s.recv(4096)
            if not c:
                sys.exit("tcp echo: closed early")
            back += c
        if back != msg:
            sys.exit("tcp echo: wrong bytes")
big = bytes(range(256)) * 80
conns[0].sendall(big)
back = b""
while len(back) < len(big):
    c = conns[0].recv(65536)
    if not c:
        break
    back += c
if back != big:
    sys.exit("tcp echo: 20 KB came back as %d bytes" % len(back))
for s in conns:
    s.shutdown(socket.SHUT_WR)
    if s.recv(10) != b"":  # the server task shuts down after our FIN
        sys.exit("tcp echo: no FIN back")
    s.close()
print("tcp echo ok")

l = socket.socket(); l.bind(("192.0.2.1", 9100)); l.listen(1); l.settimeout(5)
got = ask(b"connect 9100")
if got != b"connected":
    sys.exit("connect back: %r" % (got,))
c, _ = l.accept(); c.settimeout(5)
data = b""
while True:
    d = c.recv(100)
    if not d:
        break
    data += d
if data != b"hello from FreeRTOS+TCP code\n":
    sys.exit("connect back: received %r" % (data,))
print("connect ok")

got = ask(b"connect 9101")  # nothing listens: RST
if got != b"error -111":
    sys.exit("refused connect: %r (want -pdFREERTOS_ERRNO_ECONNREFUSED)" % (got,))
print("refused ok")

got = ask(b"resolve 198.51.100.7")
if got != b"ip 198.51.100.7":
    sys.exit("gethostbyname: %r" % (got,))
u.settimeout(10)  # by name: the resolver's own retries, if any, come first
got = ask(b"resolve alpha.test")
if got != b"ip 192.0.2.10":
    sys.exit("gethostbyname by name: %r" % (got,))
got = ask(b"resolve nonexistent.test")
if got != b"ip 0.0.0.0":
    sys.exit("gethostbyname of an unknown name: %r (want 0)" % (got,))
print("gethostbyname ok")
PY
pass "UDP echo, TCP echo (3 connection tasks), FreeRTOS_connect, -ECONNREFUSED, heap statistics, gethostbyname"
grep -q 'query\[A\] alpha\.test from 192\.0\.2\.2' "$TMP/dnsmasq.log" ||
    fail "gethostbyname did not ask dnsmasq: $(cat "$TMP/dnsmasq.log")"
pass "gethostbyname by name through dnsmasq: alpha.test 192.0.2.10, NXDOMAIN 0"
grep -q '^freertos: accepted 192\.0\.2\.1:' "$LOG" || fail "FreeRTOS_accept did not fill the peer address"
grep -q 'buffer sizes not set' "$LOG" && fail "FREERTOS_SO_RCVBUF/SNDBUF were refused"
[ "$(grep -c '^freertos: connection closed (-128)' "$LOG")" -ge 3 ] ||
    fail "FreeRTOS_recv did not report the peer's close as -pdFREERTOS_ERRNO_ENOTCONN"
pass "accept address, buffer options, close reported as -ENOTCONN"
stop_demo || fail "tern-compat-freertos exited with an error"
