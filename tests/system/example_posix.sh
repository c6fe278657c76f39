#!/usr/bin/env bash
# examples/posix-echo as a user builds it: configured and built from a clean
# directory as its own CMake project (tern through add_subdirectory, the
# example's own config header, only the compiler and CMake: nothing of
# tern's tests), then run on a TAP against Linux in a namespace: UDP echo,
# the upper-casing TCP server, and the memory report on SIGUSR2.
. "$(dirname "$0")/lib/common.sh"
sys_init example
sys_require cmake cc python3
SRC=${TERN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}

# ---- build: a clean tree, as docs/getting-started.md says ----
B=$TMP/build
cmake -S "$SRC/examples/posix-echo" -B "$B" -DTERN_DIR="$SRC" >"$TMP/configure.log" 2>&1 ||
    fail "configure failed"
cmake --build "$B" -j 2 >"$TMP/build.log" 2>&1 || fail "build failed"
[ -x "$B/posix-echo" ] || fail "no posix-echo binary"
# A consumer's configuration looks for none of tern's test dependencies and
# gets the release-like core (no fault injection, no debug checks).
if grep -iE '^[^/#].*(cmocka|slirp)' "$B/CMakeCache.txt" | grep -qv '^TERN_WITH_SLIRP:BOOL=OFF$'; then
    fail "the consumer build looked for cmocka or libslirp"
fi
grep -q 'TERN_FAULT_INJECTION\|TERN_DEBUG' "$B/tern/CMakeFiles/tern_core.dir/flags.make" &&
    fail "the consumer's core has tern's test definitions"
grep -q 'TERN_USER_CONFIG=\\"echo_tern_config.h\\"' "$B/tern/CMakeFiles/tern_core.dir/flags.make" ||
    fail "the core was not compiled with the example's config header"
pass "built from a clean directory with only the compiler and CMake"

# ---- run it against Linux ----
sys_tap_ns tern0 192.0.2.1/24
LOG=$TMP/echo.log
ip netns exec "$NS" "$B/posix-echo" tern0 192.0.2.2/24 >"$LOG" 2>&1 &
DEMO_PID=$!
wait_for "$LOG" '^posix-echo: up on' 5 || fail "posix-echo did not start"

nsx python3 - <<'PY' >"$TMP/peer.log" 2>&1 || fail "echo / upper-case check failed (peer.log)"
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
for i in range(3):  # the first datagram may wait for ARP
    u.sendto(b"hello tern %d" % i, ("192.0.2.2", 7))
    try:
        data, _ = u.recvfrom(2048)
        break
    except socket.timeout:
        data = None
if data != b"hello tern %d" % i:
    sys.exit("udp echo: got %r" % (data,))
print("udp echo ok")
msg = b"the quick brown fox, 123\n" * 200
for round in range(2):  # a second client after the first closed
    t = socket.create_connection(("192.0.2.2", 8), timeout=5)
    t.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = t.recv(4096)
        if not chunk:
            break
        got += chunk
    t.close()
    if got != msg.upper():
        sys.exit("tcp upper: %d bytes back, expected %d upper-cased" % (len(got), len(msg)))
print("tcp upper ok")
PY
pass "UDP echo and the upper-casing TCP server answer Linux"

n=$(grep -c '^posix-echo: end of report' "$LOG")
kill -USR2 "$DEMO_PID"
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c '^posix-echo: end of report' "$LOG")" -gt "$n" ] && break
    sleep 0.05
done
[ "$i" -lt 100 ] || fail "no memory report within 5 s of SIGUSR2"
grep -qiE 'SOCKET' "$LOG" || fail "the memory report has no SOCKET category"
grep -qiE 'heap' "$LOG" || fail "the memory report has no heap figures"
pass "memory report on SIGUSR2"

stop_demo || fail "posix-echo exited with an error"
grep -q '^posix-echo: stopping' "$LOG" || fail "posix-echo did not stop on SIGTERM"
pass "stopped on SIGTERM"
