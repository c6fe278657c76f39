#!/bin/bash
# System test: tern's TCP against the Linux kernel's, over a TAP device.
#
# Everything runs inside a network namespace this script creates
# (tern-s1-tcp-PID) and always removes; addresses are from 192.0.2.0/24.
# Needs root and /dev/net/tun (exit 77 = skip otherwise). TERN_DEMO is
# tern-demo, which serves echo (7), discard (9) and chargen (19) through the
# sockets API (apps/services, a thread of its own).
#
# Checks: (a) echo of a short line; (b) 100 MB through echo (100 MB each
# way at once), SHA-256 compared; (c) chargen's RFC 864 stream matches a
# locally generated one; discard takes 20 MB; (d) 64 echo clients of 512 KB
# started at once against a service bounded to a few connections: the ones
# beyond the bound are refused at once (RST) and retry, every one ends
# intact; (e) a closed port answers RST
# (connection refused at once); (f) 5% random loss each way (nftables,
# since this kernel may lack netem) on a 4 MB echo; (g) tern as the client:
# 50 MB to a Linux echo server and back, checked byte for byte by tern;
# (h) memory back at its start value, ledger empty after SIGTERM. tern-demo
# prints the services' counters at exit.
set -u

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, TAP devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip nc socat sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (scripts/install-deps)"
done
DEMO=${TERN_DEMO:-}
if [ -z "$DEMO" ] || [ ! -x "$DEMO" ]; then
    echo "FAIL: TERN_DEMO must name the tern-demo binary (got '${DEMO}')"
    exit 1
fi
PY=/usr/bin/python3

NS=tern-s1-tcp-$$
TAP=tern-s1-tap
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
TMP=$(mktemp -d /tmp/tern-tcp.XXXXXX)
DEMO_PID=""
FAILED=0

cleanup() {
    if [ -n "$DEMO_PID" ]; then
        kill -KILL "$DEMO_PID" 2>/dev/null
        wait "$DEMO_PID" 2>/dev/null
    fi
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    if [ "$FAILED" != 0 ]; then
        for f in "$TMP"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 30 lines)"
            tail -n 30 "$f"
        done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    FAILED=1
    exit 1
}
pass() { echo "ok: $*"; }
nsx() { ip netns exec "$NS" "$@"; }

wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

heap_of() {
    grep -E "^memory \($2\):" "$1" | tail -n 1 | sed -nE 's/.*heap free ([0-9]+) min.*netbufs free ([0-9]+) min.*/\1 \2/p'
}

start_demo() {
    local log=$1
    shift
    ip netns exec "$NS" "$DEMO" --tap "$TAP" --ip "$TERN_IP/24" "$@" >"$log" 2>&1 &
    DEMO_PID=$!
    wait_for "$log" '^memory \(start\):' 5 || fail "tern-demo did not start"
}

stop_demo() {
    kill -TERM "$DEMO_PID" 2>/dev/null
    local rc=0
    wait "$DEMO_PID" || rc=$?
    DEMO_PID=""
    return $rc
}

# Memory now (SIGUSR1) equals memory at start, within a few seconds (the
# last connections may still be closing).
check_memory() {
    local log=$1 i h0 b0 h1 b1
    read -r h0 b0 <<<"$(heap_of "$log" start)"
    for ((i = 0; i < 50; i++)); do
        kill -USR1 "$DEMO_PID"
        sleep 0.1
        read -r h1 b1 <<<"$(heap_of "$log" now)"
        [ "$h1" = "$h0" ] && [ "$b1" = "$b0" ] && return 0
    done
    fail "memory: heap free $h1 buffers $b1 now, $h0 $b0 at start"
}

sha() { sha256sum | cut -d' ' -f1; }

START=$(date +%s)
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 on the Linux side"
ip netns add "$NS" || fail "cannot create namespace $NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev "$TAP" mode tap || fail "cannot create TAP $TAP"
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null
ip -n "$NS" addr add "$LINUX_IP/24" dev "$TAP"
ip -n "$NS" link set "$TAP" up


# 64 KB rings (window scaling in use) for the bulk tests, in a 16 MB second
# heap region.
start_demo "$TMP/demo.log" --tcp-buf 65536 --tcp-heap 16000000
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

echo "== (d) 64 echo clients at once against a bounded service, 512 KB each"
head -c 524288 /dev/urandom >"$TMP/half"
want=$(sha <"$TMP/half")
# A refused client (reset right after the handshake: nothing echoed) tries
# again after a short pause; each records how many tries it needed.
client() {
    local i=$1 t
    for ((t = 1; t <= 400; t++)); do
        if [ "$(nsx timeout 60 nc -N "$TERN_IP" 7 <"$TMP/half" 2>/dev/null | sha)" = "$want" ]; then
            echo "$t" >"$TMP/c$i.tries"
            return 0
        fi
        sleep 0.05
    done
    echo 0 >"$TMP/c$i.tries"
}
pids=()
for i in $(seq 1 64); do
    client "$i" &
    pids+=($!)
done
wait "${pids[@]}"
ok=0
retried=0
for i in $(seq 1 64); do
    t=$(cat "$TMP/c$i.tries")
    [ "$t" != 0 ] && ok=$((ok + 1))
    [ "$t" -gt 1 ] 2>/dev/null && retried=$((retried + 1))
done
[ "$ok" = 64 ] || fail "$ok of 64 echo clients got their 512 KB back intact"
[ "$retried" -gt 0 ] || fail "no client was refused: the connection bound did not hold"
pass "64/64 clients echoed intact; $retried of them refused at first (the bound) and retried"

echo "== (e) closed port: RST, refused at once"
out=$(nsx timeout 5 nc -z -v "$TERN_IP" 4242 2>&1)
echo "$out" | grep -qi refused || fail "closed port: '$out'"
pass "port 4242: connection refused"

echo "== memory back at the start value"
check_memory "$TMP/demo.log"
pass "heap and network buffers back at their start values"

echo "== (f) 5% random loss each way (nftables), 4 MB echo"
if command -v nft >/dev/null 2>&1 && nsx nft add table inet terntcp 2>/dev/null; then
    nsx nft add chain inet terntcp out '{ type filter hook output priority 0; }'
    nsx nft add rule inet terntcp out oifname "$TAP" numgen random mod 100 '<' 5 drop
    nsx nft add chain inet terntcp in '{ type filter hook input priority 0; }'
    nsx nft add rule inet terntcp in iifname "$TAP" numgen random mod 100 '<' 5 drop
    head -c 4000000 /dev/urandom >"$TMP/lossy"
    want=$(sha <"$TMP/lossy")
    t0=$(date +%s%N)
    got=$(nsx timeout 180 nc -N "$TERN_IP" 7 <"$TMP/lossy" | sha)
    t1=$(date +%s%N)
    [ "$got" = "$want" ] || fail "lossy echo: SHA-256 differs"
    nsx nft delete table inet terntcp
    pass "4 MB echoed through 5% loss each way in $(( (t1 - t0) / 1000000 )) ms, SHA-256 equal"
else
    echo "skipped: nft not available (apt-get install nftables)"
fi
kill -USR2 "$DEMO_PID"
wait_for "$TMP/demo.log" '^tcp stats' 5 && grep -E '^tcp stats' "$TMP/demo.log" | tail -n 1
check_memory "$TMP/demo.log"
stop_demo || fail "tern-demo exited with an error after SIGTERM"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "memory at baseline; SIGTERM: exit 0, ledger empty"

echo "== (g) tern as the client: 50 MB to a Linux echo server and back"
nsx socat TCP-LISTEN:7777,bind="$LINUX_IP",reuseaddr EXEC:cat >"$TMP/socat.log" 2>&1 &
sleep 0.3
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

echo "PASS: all checks in $(( $(date +%s) - START )) s"
