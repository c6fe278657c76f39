#!/bin/bash
# System test: the classic services (apps/services: echo 7, discard 9,
# chargen 19 on TCP and UDP, on the sockets API) in tern-demo on a TAP
# device, against Linux clients, in a namespace this script creates
# (tern-s1-svc-PID) and always removes; addresses from 192.0.2.0/24.
#
# Checks: TCP echo of 4 MB byte-exact (SHA-256); TCP discard takes 4 MB and
# sends nothing back (a closed port, the control, is refused); TCP chargen's
# first 2 MB equal the RFC 864 stream; UDP echo of 200 datagrams of
# 0..1472 bytes, each byte-identical; UDP discard answers nothing, not even
# port unreachable (which the closed-port control gets); UDP chargen answers each datagram with 0..512
# bytes of the RFC 864 lines; memory back at its start values; SIGTERM
# exits 0 with an empty ledger.
. "$(dirname "$0")/lib/common.sh"
sys_init s1-svc
sys_require nc sha256sum
sys_require_demo
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY not installed"
TERN_IP=192.0.2.2
sys_tap_ns tern-s1-svc 192.0.2.1/24
start_demo "$TMP/demo.log" --ip "$TERN_IP/24"
wait_for "$TMP/demo.log" '^memory \(start\):' 5 || fail "tern-demo did not start"
sha() { sha256sum | cut -d' ' -f1; }

echo "== TCP echo, 4 MB"
head -c 4000000 /dev/urandom >"$TMP/data"
want=$(sha <"$TMP/data")
got=$(nsx timeout 60 nc -N "$TERN_IP" 7 <"$TMP/data" | sha)
[ "$got" = "$want" ] || fail "TCP echo: SHA-256 differs"
pass "TCP echo: 4 MB back, SHA-256 equal"

echo "== TCP discard, 4 MB"
# The connection must succeed, take all 4 MB and close cleanly with nothing
# back; the same client against a closed port (10) must report the refusal,
# so that a discard service that is not there cannot pass as a silent one.
nsx timeout 60 "$PY" - "$TERN_IP" "$TMP/data" >"$TMP/discard.log" 2>&1 <<'PYEOF' || { cat "$TMP/discard.log"; fail "TCP discard"; }
import socket, sys
addr, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
def discard(port):
    s = socket.create_connection((addr, port), timeout=10)
    s.settimeout(30)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    back = 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        back += len(b)
    s.close()
    return back
back = discard(9)
if back:
    raise SystemExit("TCP discard sent %d bytes back" % back)
try:
    discard(10)
    raise SystemExit("control: a connection to closed port 10 did not fail")
except ConnectionRefusedError:
    pass
print("discard: %d bytes sent, connection closed cleanly, 0 back; closed port 10 refused" % len(data))
PYEOF
cat "$TMP/discard.log"
pass "TCP discard: 4 MB taken, nothing back (a closed port is refused)"

echo "== TCP chargen, 2 MB against RFC 864"
$PY - "$TMP/cg" <<'PYEOF'
import sys
cycle = b"".join(bytes(32 + (l + c) % 95 for c in range(72)) + b"\r\n" for l in range(95))
n = 2000000
open(sys.argv[1], "wb").write((cycle * (n // len(cycle) + 1))[:n])
PYEOF
got=$(nsx timeout 30 nc -d "$TERN_IP" 19 | head -c 2000000 | sha)
[ "$got" = "$(sha <"$TMP/cg")" ] || fail "TCP chargen differs from RFC 864's stream"
pass "TCP chargen: 2 MB equal to the RFC 864 pattern"

echo "== UDP echo, discard, chargen"
nsx "$PY" - "$TERN_IP" >"$TMP/udp.log" 2>&1 <<'PYEOF' || { cat "$TMP/udp.log"; fail "UDP services"; }
import os, socket, sys
addr = sys.argv[1]
cycle = b"".join(bytes(32 + (l + c) % 95 for c in range(72)) + b"\r\n" for l in range(95))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
for i in range(200):
    d = os.urandom(i * 1472 // 199)
    s.sendto(d, (addr, 7))
    got, src = s.recvfrom(2000)
    assert got == d and src == (addr, 7), f"echo {i}: {len(got)} bytes"
# Discard must stay silent, on a connected socket: a closed port there
# would show as ICMP port unreachable (ConnectionRefusedError), which the
# control on port 10 must see, so the silence means a service took it.
def udp_silent(port):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.connect((addr, port))
    c.settimeout(1.0)
    c.send(b"x" * 100)
    try:
        got = c.recv(2000)
        raise SystemExit("UDP port %d answered %d bytes" % (port, len(got)))
    except socket.timeout:
        return True
    except ConnectionRefusedError:
        return False
    finally:
        c.close()
assert udp_silent(9), "UDP discard: port unreachable (no discard service)"
assert not udp_silent(10), "control: closed UDP port 10 gave no port unreachable"
s.settimeout(2.0)
lens = []
for i in range(50):
    s.sendto(b"?", (addr, 19))
    got, src = s.recvfrom(2000)
    assert src == (addr, 19) and len(got) <= 512, len(got)
    assert len(got) == 0 or got in cycle + cycle, "not a piece of the RFC 864 stream"
    lens.append(len(got))
assert len(set(lens)) > 5, "chargen lengths do not vary"
print(f"udp: 200 echoes exact, discard silent (closed port 10: port unreachable), 50 chargen answers of {min(lens)}..{max(lens)} bytes")
PYEOF
cat "$TMP/udp.log"
pass "UDP echo, discard and chargen"

check_memory "$TMP/demo.log" "after the services"
stop_demo || fail "tern-demo exited with an error after SIGTERM"
grep -E '^services:|^udp echo:' "$TMP/demo.log"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "SIGTERM: exit 0, ledger empty"
echo "PASS: all checks in $(( $(date +%s) - START )) s"
