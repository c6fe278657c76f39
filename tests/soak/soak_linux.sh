#!/bin/bash
# Soak against the Linux kernel: SOAK_LINUX_CONNECTIONS (default 20000) TCP
# echo connections from Linux to tern-demo on a TAP, one after another,
# each with 0..2000 random bytes checked on the way back. Linux closes
# first (its TIME-WAIT), so it takes its source addresses in turn from four
# of its own and the full port range. Every 5 % the demo's heap
# fragmentation is printed (SIGUSR2 report). At the end the ledger table
# (bytes and blocks per category) must equal the one at the start, the heap
# free bytes the same, and after SIGTERM the ledger empty.
#
# Namespace tern-r5-soak-PID, created and always removed; 192.0.2.0/24.
# Needs root and /dev/net/tun (exit 77 = skip). TERN_DEMO: tern-demo.
set -u
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, TAP devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
DEMO=${TERN_DEMO:-}
[ -n "$DEMO" ] && [ -x "$DEMO" ] || { echo "FAIL: TERN_DEMO must name tern-demo"; exit 1; }
PY=/usr/bin/python3
N=${SOAK_LINUX_CONNECTIONS:-20000}
LIMIT=${SOAK_SECONDS:-0}
NS=tern-r5-soak-$$
TAP=ternr5s
TMP=$(mktemp -d /tmp/tern-r5-soak.XXXXXX)
DEMO_PID=""
cleanup() {
    [ -n "$DEMO_PID" ] && kill -KILL "$DEMO_PID" 2>/dev/null && wait "$DEMO_PID" 2>/dev/null
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -n 20 "$TMP/demo.log"; exit 1; }
nsx() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" || fail "cannot create $NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev "$TAP" mode tap || fail "no TAP"
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null
nsx sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
for a in 1 3 4 5; do ip -n "$NS" addr add "192.0.2.$a/24" dev "$TAP"; done
ip -n "$NS" link set "$TAP" up
ip netns exec "$NS" "$DEMO" --tap "$TAP" --ip 192.0.2.2/24 >"$TMP/demo.log" 2>&1 &
DEMO_PID=$!
for _ in $(seq 100); do grep -q '^memory (start):' "$TMP/demo.log" && break; sleep 0.05; done
grep -q '^memory (start):' "$TMP/demo.log" || fail "tern-demo did not start"
# Signals go to the demo itself (the pid it prints).
DPID=$(sed -nE 's/^tern-demo: .* pid ([0-9]+)$/\1/p' "$TMP/demo.log" | head -n 1)
[ -n "$DPID" ] || fail "no pid in the demo's output"

# The ledger table (category, bytes, blocks) from the latest SIGUSR2 report.
ledger_table() {
    awk '/^== memory/{t=""} /^[A-Z_]+ +[0-9]+ +[0-9]+ +[0-9]+ /{t=t $1" "$2" "$4"\n"} END{printf "%s", t}' "$TMP/demo.log"
}
report() {
    local before
    before=$(grep -c '^== counters' "$TMP/demo.log")
    kill -USR2 "$DPID"
    for _ in $(seq 100); do
        [ "$(grep -c '^== counters' "$TMP/demo.log")" -gt "$before" ] && return 0
        sleep 0.02
    done
    return 1
}
# Warm up the ARP cache from every source address (part of the baseline).
for a in 1 3 4 5; do nsx ping -c 1 -W 1 -I "192.0.2.$a" 192.0.2.2 >/dev/null; done
report || fail "no report"
ledger_table >"$TMP/ledger.start"
heap0=$(grep -E '^memory \(start\)' "$TMP/demo.log" | sed -nE 's/.*heap free ([0-9]+) .*/\1/p')

nsx "$PY" - "$N" "$DPID" "$TMP/demo.log" "$LIMIT" <<'PYEOF' || fail "client failed"
import os, random, re, signal, socket, sys, time
n, pid, log, limit = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
rng = random.Random(7)
srcs = ["192.0.2.1", "192.0.2.3", "192.0.2.4", "192.0.2.5"]
pat = re.compile(r"^heap: total (\d+), used (\d+), free (\d+), min ever free (\d+), largest free block (\d+) \((\d+) free blocks\)")
def frag():
    with open(log) as f:
        lines = f.read().splitlines()
    marks = sum(1 for l in lines if l.startswith("== counters"))
    os.kill(pid, signal.SIGUSR2)
    for _ in range(200):
        with open(log) as f:
            lines = f.read().splitlines()
        if sum(1 for l in lines if l.startswith("== counters")) > marks:
            break
        time.sleep(0.01)
    for l in reversed(lines):
        m = pat.match(l)
        if m:
            return m.groups()
    return None
t0 = time.time(); ok = bad = errors = 0; step = max(1, n // 20)
for i in range(n):
    if limit and time.time() - t0 > limit:
        break
    data = rng.randbytes(rng.randint(0, 2000))
    try:
        s = socket.create_connection(("192.0.2.2", 7), timeout=10, source_address=(srcs[i % 4], 0))
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
        if got == data:
            ok += 1
        else:
            bad += 1
    except OSError as e:
        errors += 1
        if errors <= 5:
            print("connection %d: %s" % (i, e))
    if (i + 1) % step == 0:
        g = frag()
        el = time.time() - t0
        if g:
            print("soak-linux: %7d connections %6.1f s (%5.0f/s) | heap used %s free %s min-free %s largest %s free-blocks %s"
                  % (i + 1, el, (i + 1) / el, g[1], g[2], g[3], g[4], g[5]), flush=True)
el = time.time() - t0
print("soak-linux: %d connections in %.1f s (%.0f/s): %d echoed intact, %d mismatched, %d errors"
      % (ok + bad + errors, el, (ok + bad + errors) / el, ok, bad, errors))
sys.exit(0 if bad == 0 and errors == 0 and ok > 0 else 1)
PYEOF

# Connections still in LAST-ACK may take a moment.
for _ in $(seq 100); do
    kill -USR1 "$DPID"; sleep 0.1
    heap1=$(grep -E '^memory \(now\)' "$TMP/demo.log" | tail -n 1 | sed -nE 's/.*heap free ([0-9]+) .*/\1/p')
    [ "$heap1" = "$heap0" ] && break
done
[ "$heap1" = "$heap0" ] || fail "heap free $heap1 at the end, $heap0 at the start"
report || fail "no report"
ledger_table >"$TMP/ledger.end"
if ! diff "$TMP/ledger.start" "$TMP/ledger.end" >"$TMP/ledger.diff"; then
    cat "$TMP/ledger.diff"
    fail "ledger differs from the start"
fi
echo "soak-linux: ledger identical to the start ($(wc -l <"$TMP/ledger.end") categories, bytes and blocks); heap free $heap1 = start"
grep -E '^tcp stats' "$TMP/demo.log" | tail -n 1
kill -TERM "$DPID"; rc=0; wait "$DEMO_PID" || rc=$?; DEMO_PID=""
[ "$rc" = 0 ] || fail "tern-demo exited $rc"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
echo "PASS: soak against Linux, leaks: 0"
