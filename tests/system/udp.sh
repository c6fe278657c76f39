#!/bin/bash
# System test: UDP through tern-demo on a TAP device, against the Linux kernel.
#
# Everything happens inside a network namespace this script creates
# (tern-udp-PID) and always removes; addresses are from 192.0.2.0/24
# (TEST-NET-1), so nothing leaves the machine. Needs root and /dev/net/tun
# (exit 77 = skip otherwise). TERN_DEMO is the tern-demo binary; the Linux
# side is tests/system/udp_peer.py run with /usr/bin/python3.
#
# Checks: (a) Linux sends 3000 datagrams of sizes 0..1472 to tern's echo
# service (port 7, RFC 862), one at a time, and 2000 more four at a time;
# every echo is byte-identical; (b) a datagram to a closed port comes back as
# ICMP port unreachable (ECONNREFUSED on a connected Linux socket); (c) heap
# and network buffers are back at their start values, the counters agree,
# SIGTERM exits cleanly with an empty ledger; (d) tern sends 2000 datagrams
# of sizes 0..1472 to a Linux echo server (--udp-send) and gets every one
# back byte-identical, memory again back at its start values.
set -u

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, TAP devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null 2>&1 || skip "ip not installed (scripts/install-deps)"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY not installed"
DEMO=${TERN_DEMO:-}
if [ -z "$DEMO" ] || [ ! -x "$DEMO" ]; then
    echo "FAIL: TERN_DEMO must name the tern-demo binary (got '${DEMO}')"
    exit 1
fi
HERE=$(cd "$(dirname "$0")" && pwd)
PEER="$HERE/udp_peer.py"

NS=tern-udp-$$
TAP=tern0
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
TMP=$(mktemp -d /tmp/tern-udp.XXXXXX)
DEMO_PID=""
ECHO_PID=""
FAILED=0

cleanup() {
    for pid in "$DEMO_PID" "$ECHO_PID"; do
        if [ -n "$pid" ]; then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    ip netns del "$NS" 2>/dev/null
    if [ "$FAILED" != 0 ]; then
        for f in "$TMP"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 40 lines)"
            tail -n 40 "$f"
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

# "heap free N min N of N, netbufs free N min N of N" -> "N N" from the last
# summary line tagged $2 in $1.
mem_of() {
    grep -E "^memory \($2\):" "$1" | tail -n 1 |
        sed -nE 's/.*heap free ([0-9]+) min [0-9]+ of [0-9]+, netbufs free ([0-9]+) min.*/\1 \2/p'
}

# Counter value: counter LOG NAME (from the SIGUSR2 report).
counter() {
    grep -E "^$2 +[0-9]+$" "$1" | tail -n 1 | awk '{ print $2 }'
}

start_demo() {
    local log=$1
    shift
    ip netns exec "$NS" "$DEMO" --tap "$TAP" --ip "$TERN_IP/24" "$@" >"$log" 2>&1 &
    DEMO_PID=$!
}

stop_demo() {
    kill -TERM "$DEMO_PID" 2>/dev/null
    local rc=0
    wait "$DEMO_PID" || rc=$?
    DEMO_PID=""
    return $rc
}

# Ask for the summary (SIGUSR1) and compare with the start values.
check_memory() {
    local log=$1 tag=$2 heap0 bufs0 heap1 bufs1 n
    read -r heap0 bufs0 <<<"$(mem_of "$log" start)"
    n=$(grep -c '^memory (now):' "$log")
    kill -USR1 "$DEMO_PID"
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c '^memory (now):' "$log")" -gt "$n" ] && break
        sleep 0.05
    done
    read -r heap1 bufs1 <<<"$(mem_of "$log" now)"
    [ -n "${heap0:-}" ] && [ -n "${heap1:-}" ] || fail "$tag: cannot parse the memory summaries"
    [ "$heap1" = "$heap0" ] || fail "$tag: heap free $heap1 after, $heap0 at start"
    [ "$bufs1" = "$bufs0" ] || fail "$tag: network buffers free $bufs1 after, $bufs0 at start"
    pass "$tag: heap free $heap1 = $heap0, network buffers free $bufs1 = $bufs0"
}

START=$(date +%s)
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 on the Linux side"
ip netns add "$NS" || fail "cannot create namespace $NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev "$TAP" mode tap || fail "cannot create TAP $TAP"
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null
ip -n "$NS" addr add "$LINUX_IP/24" dev "$TAP"
ip -n "$NS" link set "$TAP" up

start_demo "$TMP/demo.log"
wait_for "$TMP/demo.log" '^memory \(start\):' 5 || fail "tern-demo did not start"
grep -qE '^tern-demo: UDP echo service on port 7' "$TMP/demo.log" || fail "no UDP echo service"
grep -E '^memory \(start\)' "$TMP/demo.log"

echo "== (a) Linux -> tern echo (port 7): 3000 datagrams one at a time, 2000 four at a time"
nsx "$PY" "$PEER" client "$TERN_IP" 7 3000 1 >"$TMP/client1.log" 2>&1
rc=$?
cat "$TMP/client1.log"
[ "$rc" = 0 ] || fail "stop-and-wait run failed"
grep -q '3000/3000 echoed byte-identical, 0 corrupted' "$TMP/client1.log" || fail "not every echo was identical"
nsx "$PY" "$PEER" client "$TERN_IP" 7 2000 4 >"$TMP/client4.log" 2>&1
rc=$?
cat "$TMP/client4.log"
[ "$rc" = 0 ] || fail "windowed run failed"
grep -q '2000/2000 echoed byte-identical, 0 corrupted' "$TMP/client4.log" || fail "not every echo was identical"
pass "5000/5000 echoes byte-identical, sizes 0..1472"

echo "== (b) a closed port answers ICMP port unreachable"
nsx "$PY" "$PEER" refused "$TERN_IP" 9 >"$TMP/refused.log" 2>&1 || { cat "$TMP/refused.log"; fail "no port unreachable"; }
cat "$TMP/refused.log"
pass "port unreachable reaches the Linux socket as ECONNREFUSED"

echo "== (c) memory back at baseline, counters, clean exit"
check_memory "$TMP/demo.log" "echo service"
kill -USR2 "$DEMO_PID"
wait_for "$TMP/demo.log" '^== driver ' 5 || fail "no full report after SIGUSR2"
grep -E '^udp\.' "$TMP/demo.log" | tr -s ' '
rx=$(counter "$TMP/demo.log" udp.rx)
delivered=$(counter "$TMP/demo.log" udp.delivered)
tx=$(counter "$TMP/demo.log" udp.tx)
noport=$(counter "$TMP/demo.log" udp.drop_no_port)
[ "${noport:-x}" = 1 ] || fail "udp.drop_no_port is ${noport:-missing}, expected 1 (the closed-port probe)"
[ "${rx:-0}" -ge 5000 ] && [ "$delivered" -ge 5000 ] && [ "$tx" = "$delivered" ] ||
    fail "udp counters: rx $rx delivered $delivered tx $tx"
for c in drop_truncated drop_len drop_checksum; do
    [ "$(counter "$TMP/demo.log" "udp.$c")" = 0 ] || fail "udp.$c is not 0"
done
stop_demo
rc=$?
[ "$rc" = 0 ] || fail "tern-demo exited with $rc after SIGTERM"
grep -E '^udp echo:|^ledger check' "$TMP/demo.log"
grep -qE "^udp echo: $tx datagrams echoed, 0 errors" "$TMP/demo.log" || fail "echo thread totals"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "udp.rx $rx, delivered $delivered, echoed $tx, no malformed input; SIGTERM: exit 0, ledger empty"

echo "== (d) tern -> Linux echo: --udp-send $LINUX_IP:7777 --count 2000"
ip netns exec "$NS" "$PY" "$PEER" echo "$LINUX_IP" 7777 >"$TMP/linux-echo.log" 2>&1 &
ECHO_PID=$!
wait_for "$TMP/linux-echo.log" '^echo: listening' 5 || fail "Linux echo server did not start"
start_demo "$TMP/demo-send.log" --udp-send "$LINUX_IP:7777" --count 2000 --stay
wait_for "$TMP/demo-send.log" '^--- udp-send' 120 || fail "--udp-send did not finish"
sleep 0.2
grep -A1 -E '^--- udp-send' "$TMP/demo-send.log"
grep -qE '^2000 sent, 2000 echoed, 0 corrupted' "$TMP/demo-send.log" || fail "tern did not get 2000 identical echoes"
check_memory "$TMP/demo-send.log" "after --udp-send"
stop_demo
rc=$?
[ "$rc" = 0 ] || fail "tern-demo --udp-send exited with $rc"
grep -q '^ledger check after deinit: empty' "$TMP/demo-send.log" || fail "ledger not empty after deinit"
kill -TERM "$ECHO_PID"
wait "$ECHO_PID"
ECHO_PID=""
cat "$TMP/linux-echo.log" | tail -n 1
n=$(sed -nE 's/^echo: ([0-9]+) datagrams echoed/\1/p' "$TMP/linux-echo.log")
[ "${n:-0}" -ge 2000 ] || fail "the Linux echo server saw ${n:-0} datagrams"
pass "tern -> Linux: 2000/2000 echoes byte-identical; exit 0, ledger empty"

echo "== bad --udp-send values: usage and exit status 2"
for args in "--udp-send $LINUX_IP" "--tap $TAP --ip $TERN_IP/24 --udp-send $LINUX_IP:0" \
    "--tap $TAP --ip $TERN_IP/24 --udp-send $LINUX_IP:70000" "--tap $TAP --ip $TERN_IP/24 --udp-send :7" \
    "--tap $TAP --ip $TERN_IP/24 --udp-send $LINUX_IP:7 --ping $LINUX_IP"; do
    rc=0
    # shellcheck disable=SC2086 # word splitting intended
    "$DEMO" $args >"$TMP/usage.log" 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "tern-demo $args: exit $rc, expected 2"
done
pass "5 malformed --udp-send command lines refused, exit 2"

echo "PASS: all checks in $(( $(date +%s) - START )) s"
