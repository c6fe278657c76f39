#!/bin/bash
# System test: tern's TCP against the Linux kernel's, over a TAP device.
#
# Everything runs inside a network namespace this script creates
# (tern-s1-tcp-PID) and always removes; addresses are from 192.0.2.0/24.
# Needs root and /dev/net/tun (exit 77 = skip otherwise). TERN_DEMO is
# tern-demo, which serves echo (7), discard (9) and chargen (19) through the
# sockets API (apps/services, a thread of its own); its build (tern_core_demo
# in CMakeLists.txt) has room for 128 sockets and 64 connections per service.
#
# Checks: (a) echo of a short line; (b) 100 MB through echo (100 MB each
# way at once), SHA-256 compared; (c) chargen's RFC 864 stream matches a
# locally generated one; discard takes 20 MB; (d) 64 Linux echo clients
# established AT THE SAME TIME (--tcp-conns 64): each holds its connection
# until all 64 are up, which tern's own socket listing (SIGUSR2) and ss in
# the namespace both confirm; a 65th is refused (reset) meanwhile; then all
# 64 move 512 KB each way at once, each checked by SHA-256; (e) a closed
# port answers RST (connection refused at once); (f) 5% random loss each
# way (nftables, since this kernel may lack netem) on a 4 MB echo, the drop
# rules' counters showing loss both ways (no nft: a failure unless
# TERN_ALLOW_SKIP names system.tcp.f); (g) tern
# as the client: 50 MB to a Linux echo server and back, checked byte for
# byte by tern; (g2) tern as the client on 64 connections at once (sockets
# API, --tcp-client with --tcp-conns 64) against a Linux echo server that
# echoes nothing until all 64 are established (tern's listing and ss
# confirm it), 512 KB each way on each, SHA-256 of every stream checked by
# the server and every byte by tern; (h) memory back at its start value
# after each part, ledger empty after SIGTERM. tern-demo prints the
# services' counters at exit.
. "$(dirname "$0")/lib/common.sh"
sys_init s1-tcp
sys_require nc socat sha256sum
sys_require_demo
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY not installed"
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
CONNS=64

sha() { sha256sum | cut -d' ' -f1; }

# tern's established TCP sockets with local (l) or remote (r) port $3, from a
# fresh SIGUSR2 report in log $1.
tern_established() {
    local log=$1 side=$2 port=$3
    demo_report "$log" || fail "no report after SIGUSR2"
    awk -v side="$side" -v port="$port" '
        /^sockets: / { n = 0 }
        /^socket +[0-9]+ tcp ESTABLISHED / {
            split(side == "l" ? $5 : $6, a, ":")
            if (a[2] == port) n++
        }
        END { print n + 0 }' "$log"
}
# Linux's established connections with the peer's port $1 (dport) or ours
# (sport), as ss counts them in the namespace.
ss_established() {
    nsx ss -Htn state established "( $1 = :$2 )" | wc -l
}
# Wait up to $2 seconds for file $1.
wait_file() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        [ -e "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

sys_tap_ns tern-s1-tap "$LINUX_IP/24"
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 on the Linux side"

# 64 KB rings (window scaling in use) for the bulk tests, in a 16 MB second
# heap region.
# 64 connections per service for (d).
start_demo "$TMP/demo.log" --ip "$TERN_IP/24" --tcp-buf 65536 --tcp-heap 16000000 --tcp-conns $CONNS
wait_demo_start "$TMP/demo.log"
grep -E '^tern-demo: echo' "$TMP/demo.log"

echo "== (a) echo a line"
got=$(printf 'hello, tern\n' | nsx timeout 10 nc -N "$TERN_IP" 7)
[ "$got" = "hello, tern" ] || fail "echo returned '$got'"
pass "echo: line returned intact"

echo "== (b) 100 MB through echo (100 MB each way), SHA-256"
head -c 100000000 /dev/urandom >"$TMP/big"
want=$(sha <"$TMP/big")
t0=$(date +%s%N)
got=$(nsx timeout 120 nc -N "$TERN_IP" 7 <"$TMP/big" | sha)
t1=$(date +%s%N)
[ "$got" = "$want" ] || fail "100 MB echo: SHA-256 differs"
ms=$(( (t1 - t0) / 1000000 ))
pass "100 MB echoed in $ms ms ($(( 100000000 * 8 / (ms > 0 ? ms : 1) / 1000 )) Mbit/s each way), SHA-256 equal"
rm -f "$TMP/big"

echo "== (c) chargen (RFC 864) and discard"
$PY - "$TMP/chargen" <<'PYEOF'
import sys
lines = []
for l in range(95):
    lines.append(bytes(32 + (l + c) % 95 for c in range(72)) + b"\r\n")
cycle = b"".join(lines)
n = 20000000
with open(sys.argv[1], "wb") as f:
    f.write((cycle * (n // len(cycle) + 1))[:n])
PYEOF
want=$(sha <"$TMP/chargen")
got=$(nsx timeout 60 nc -d "$TERN_IP" 19 | head -c 20000000 | sha)
[ "$got" = "$want" ] || fail "chargen stream differs from RFC 864's"
head -c 20000000 /dev/zero | nsx timeout 60 nc -N "$TERN_IP" 9 || fail "discard: nc failed"
pass "chargen: 20 MB identical to the RFC 864 pattern; discard took 20 MB"

echo "== (d) $CONNS echo clients established at once, then 512 KB each way on each, SHA-256"
# One Python process: $CONNS threads connect at once; a connection counts
# as up once a 16-byte hello came back (accepted by the service, not just
# queued or refused: those beyond the listen backlog or the half-open bound
# are reset and retry). With all up, a 65th must be refused, then the script
# checks both stacks' tables (the clients hold their connections meanwhile)
# and releases them: each sends 512 KB of its own random bytes and reads
# everything back.
nsx "$PY" - "$TERN_IP" "$CONNS" 524288 "$TMP/d.up" "$TMP/d.go" >"$TMP/d-clients.log" 2>&1 <<'PYEOF' &
import hashlib, os, socket, sys, threading, time
ip, n, size, upfile, gofile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
socks, tries, errors = [None] * n, [0] * n, []

def hello_echoed(s, hello):
    try:
        s.sendall(hello)
        got = b""
        while len(got) < len(hello):
            d = s.recv(len(hello) - len(got))
            if not d:
                return False
            got += d
        return got == hello
    except (ConnectionResetError, BrokenPipeError):
        return False

def open_one(i):
    hello = b"hello %10d\n" % i
    while tries[i] < 400:
        tries[i] += 1
        try:
            s = socket.create_connection((ip, 7), timeout=30)
            s.settimeout(60)
            if hello_echoed(s, hello):
                socks[i] = s
                return
            s.close()
        except OSError as e:
            if tries[i] == 400:
                errors.append("connection %d: %s" % (i, e))
        time.sleep(0.05)

ts = [threading.Thread(target=open_one, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join()
up = sum(1 for s in socks if s is not None)
print("up: %d of %d connections echoing at once; %d needed more than one try (%d tries in all)"
      % (up, n, sum(1 for k in tries if k > 1), sum(tries)), flush=True)
if up != n:
    print("errors:", errors[:4])
    sys.exit(1)
# One more than the service's bound: accepted and reset at once, nothing echoed.
try:  # reset right after the handshake (or during it): refused either way
    s = socket.create_connection((ip, 7), timeout=30)
    s.settimeout(30)
    served = hello_echoed(s, b"one too many   \n")
    s.close()
except OSError:
    served = False
if served:
    print("FAIL: connection %d was served beyond the bound of %d" % (n + 1, n))
    sys.exit(1)
print("connection %d: refused while %d are open" % (n + 1, n), flush=True)
open(upfile, "w").write("%d\n" % up)
for _ in range(1200):
    if os.path.exists(gofile):
        break
    time.sleep(0.05)
else:
    print("FAIL: no go from the script")
    sys.exit(1)
result = [None] * n
def transfer(i):
    s = socks[i]
    data = os.urandom(size)
    def sender():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=sender)
    t.start()
    h, got = hashlib.sha256(), 0
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            h.update(d)
            got += len(d)
    except OSError as e:
        result[i] = "error %s after %d bytes" % (e, got)
    t.join()
    s.close()
    if result[i] is None:
        result[i] = "ok" if h.digest() == hashlib.sha256(data).digest() else "SHA-256 differs (%d bytes back)" % got
t0 = time.time()
ts = [threading.Thread(target=transfer, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join()
bad = [(i, r) for i, r in enumerate(result) if r != "ok"]
print("transfer: %d of %d connections echoed %d bytes intact (SHA-256) in %.1f s"
      % (n - len(bad), n, size, time.time() - t0))
for i, r in bad[:8]:
    print("FAIL: connection %d: %s" % (i, r))
sys.exit(1 if bad else 0)
PYEOF
clients=$!
wait_file "$TMP/d.up" 180 || { wait "$clients"; cat "$TMP/d-clients.log"; fail "the $CONNS clients did not all get up"; }
t_est=$(tern_established "$TMP/demo.log" l 7)
l_est=$(ss_established dport 7)
echo "established now: tern's socket listing $t_est on port 7, Linux's ss $l_est to port 7"
[ "$t_est" = "$CONNS" ] || { touch "$TMP/d.go"; fail "tern lists $t_est established echo sockets, not $CONNS"; }
[ "$l_est" = "$CONNS" ] || { touch "$TMP/d.go"; fail "ss lists $l_est established connections to port 7, not $CONNS"; }
touch "$TMP/d.go"
rc=0
wait "$clients" || rc=$?
cat "$TMP/d-clients.log"
[ "$rc" = 0 ] || fail "the $CONNS concurrent echo clients"
pass "$CONNS connections established at the same time (tern and Linux agree), a 65th refused; 512 KB each way on each, SHA-256 equal"

echo "== (e) closed port: RST, refused at once"
out=$(nsx timeout 5 nc -z -v "$TERN_IP" 4242 2>&1)
echo "$out" | grep -qi refused || fail "closed port: '$out'"
pass "port 4242: connection refused"

check_memory "$TMP/demo.log" "memory after (a)-(e)" 10

echo "== (f) 5% random loss each way (nftables), 4 MB echo"
# Without nft this part cannot run: a failure unless TERN_ALLOW_SKIP names
# system.tcp.f. Every nft command is checked, and the rules' counters must
# show drops both ways, so a rule that never matched cannot pass as loss.
if ! command -v nft >/dev/null 2>&1; then
    sys_allowed_skip system.tcp.f || fail "(f) needs nft (apt-get install nftables), or TERN_ALLOW_SKIP=system.tcp.f"
    # A passing test with a part not run: scripts/test-summary lists this line.
    echo "SKIP-PART: system.tcp.f: nft not installed (allowed by TERN_ALLOW_SKIP)"
else
    nsx nft add table inet terntcp || fail "(f) nft add table"
    nsx nft add chain inet terntcp out '{ type filter hook output priority 0; }' || fail "(f) nft add chain out"
    nsx nft add rule inet terntcp out oifname "$TAP" numgen random mod 100 '<' 5 counter drop ||
        fail "(f) nft add rule out"
    nsx nft add chain inet terntcp in '{ type filter hook input priority 0; }' || fail "(f) nft add chain in"
    nsx nft add rule inet terntcp in iifname "$TAP" numgen random mod 100 '<' 5 counter drop ||
        fail "(f) nft add rule in"
    head -c 4000000 /dev/urandom >"$TMP/lossy"
    want=$(sha <"$TMP/lossy")
    t0=$(date +%s%N)
    got=$(nsx timeout 180 nc -N "$TERN_IP" 7 <"$TMP/lossy" | sha)
    t1=$(date +%s%N)
    [ "$got" = "$want" ] || fail "lossy echo: SHA-256 differs"
    # "counter packets N bytes M drop", output chain first.
    read -r drop_out drop_in <<<"$(nsx nft list table inet terntcp |
        sed -nE 's/.*counter packets ([0-9]+) bytes.*/\1/p' | tr '\n' ' ')"
    nsx nft delete table inet terntcp || fail "(f) nft delete table"
    [ "${drop_out:-0}" -gt 0 ] && [ "${drop_in:-0}" -gt 0 ] ||
        fail "(f) no loss happened: the drop rules matched ${drop_out:-?} packets out, ${drop_in:-?} in"
    pass "4 MB echoed through 5% loss each way ($drop_out packets dropped toward tern, $drop_in from it) in $(( (t1 - t0) / 1000000 )) ms, SHA-256 equal"
fi
demo_report "$TMP/demo.log" && grep -E '^tcp stats' "$TMP/demo.log" | tail -n 1
check_memory "$TMP/demo.log" "memory after (f)" 10
stop_demo || fail "tern-demo exited with an error after SIGTERM"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "memory at baseline; SIGTERM: exit 0, ledger empty"

echo "== (g) tern as the client: 50 MB to a Linux echo server and back"
nsx socat TCP-LISTEN:7777,bind="$LINUX_IP",reuseaddr EXEC:cat >"$TMP/socat.log" 2>&1 &
# Until socat listens (up to 10 s), not a fixed pause.
for ((i = 0; i < 100; i++)); do
    [ -n "$(nsx ss -Hltn "( sport = :7777 )")" ] && break
    sleep 0.1
done
[ "$i" -lt 100 ] || fail "(g) socat is not listening on $LINUX_IP:7777 after 10 s"
# A watchdog: a stalled transfer would otherwise end only with the
# retransmission give-up (minutes).
ip netns exec "$NS" timeout 120 "$DEMO" --tap "$TAP" --ip "$TERN_IP/24" --tcp-buf 65536 \
    --tcp-client "$LINUX_IP:7777:50000000" >"$TMP/client.log" 2>&1 &
DEMO_PID=$!
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=""
grep -E '^tcp client' "$TMP/client.log"
[ "$rc" = 0 ] || fail "tern client exited with $rc"
grep -qE '^tcp client: sent 50000000 received 50000000 mismatches 0 error none' "$TMP/client.log" ||
    fail "tern client did not get its 50 MB back intact"
grep -q '^ledger check after deinit: empty' "$TMP/client.log" || fail "client: ledger not empty after deinit"
pass "tern -> Linux echo: 50 MB each way, checked byte for byte, ledger empty"

echo "== (g2) tern as the client: $CONNS connections at once (sockets API), 512 KB each way on each"
# The server accepts every connection and echoes nothing until all are
# established; then each stream's SHA-256 must be one of the $CONNS
# patterns tern sends (connection c: byte i is ((i + 37 c) % 251) * 7 + 3),
# each once.
nsx "$PY" - "$LINUX_IP" 7778 "$CONNS" 524288 "$TMP/g.up" "$TMP/g.go" >"$TMP/g-server.log" 2>&1 <<'PYEOF' &
import hashlib, os, socket, sys, threading, time
ip, port, n, size, upfile, gofile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
base = bytes(((k % 251) * 7 + 3) & 0xFF for k in range(251))
def pattern(c):
    o = (37 * c) % 251
    cyc = base[o:] + base[:o]
    return (cyc * (size // 251 + 1))[:size]
want = sorted(hashlib.sha256(pattern(c)).hexdigest() for c in range(n))
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((ip, port))
srv.listen(256)
srv.settimeout(60)
open(upfile + ".listening", "w").close()
conns = []
try:
    while len(conns) < n:
        c, _ = srv.accept()
        c.settimeout(60)
        conns.append(c)
except socket.timeout:
    print("FAIL: %d of %d connections within 60 s" % (len(conns), n))
    sys.exit(1)
print("up: %d connections established, nothing echoed yet" % len(conns), flush=True)
open(upfile, "w").close()
for _ in range(1200):
    if os.path.exists(gofile):
        break
    time.sleep(0.05)
got = [None] * n
def echo(i):
    c, h, k = conns[i], hashlib.sha256(), 0
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            h.update(d)
            k += len(d)
            c.sendall(d)
        c.shutdown(socket.SHUT_WR)
        got[i] = h.hexdigest()
    except OSError as e:
        got[i] = "error %s after %d bytes" % (e, k)
    c.close()
ts = [threading.Thread(target=echo, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join()
ok = sorted(got) == want
print("server: %d streams; SHA-256 of each is one of tern's %d patterns, each once: %s" % (n, n, "yes" if ok else "NO"))
sys.exit(0 if ok else 1)
PYEOF
server=$!
wait_file "$TMP/g.up.listening" 10 || fail "the Linux echo server did not start"
start_demo "$TMP/clients.log" --ip "$TERN_IP/24" --tcp-heap 16000000 --tcp-conns $CONNS --stay \
    --tcp-client "$LINUX_IP:7778:524288"
wait_demo_start "$TMP/clients.log"
wait_file "$TMP/g.up" 90 || { touch "$TMP/g.go"; cat "$TMP/g-server.log"; fail "the server did not see $CONNS connections"; }
t_est=$(tern_established "$TMP/clients.log" r 7778)
l_est=$(ss_established sport 7778)
echo "established now: tern's socket listing $t_est to port 7778, Linux's ss $l_est on port 7778"
touch "$TMP/g.go"
[ "$t_est" = "$CONNS" ] || fail "tern lists $t_est established client sockets, not $CONNS"
[ "$l_est" = "$CONNS" ] || fail "ss lists $l_est established connections on port 7778, not $CONNS"
rc=0
wait "$server" || rc=$?
cat "$TMP/g-server.log"
[ "$rc" = 0 ] || fail "the Linux echo server"
wait_for "$TMP/clients.log" '^tcp client: sent' 60 || fail "the tern client did not finish"
grep -E '^tcp client' "$TMP/clients.log"
grep -qE "^tcp client: $CONNS connections, $CONNS established at once at most, $CONNS whole" "$TMP/clients.log" ||
    fail "the tern client: not every connection whole, or not all at once"
grep -qE "^tcp client: sent $((CONNS * 524288)) received $((CONNS * 524288)) mismatches 0 error none" \
    "$TMP/clients.log" || fail "the tern client did not get every byte back intact"
check_memory "$TMP/clients.log" "memory after (g2)" 10
stop_demo || fail "tern-demo (client) exited with an error after SIGTERM"
grep -q '^ledger check after deinit: empty' "$TMP/clients.log" || fail "client: ledger not empty after deinit"
pass "tern -> Linux echo: $CONNS connections at once, 512 KB each way on each, SHA-256 and byte checks, memory at baseline, ledger empty"

echo "PASS: all checks in $(( $(date +%s) - START )) s"
