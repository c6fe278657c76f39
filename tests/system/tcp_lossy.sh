#!/bin/bash
# System test: tern's TCP loss recovery (SACK, RFC 2018 / RFC 6675;
# timestamps, RFC 7323) against the Linux kernel over a TAP device, on a
# path with random loss, reordering and queueing delay.
#
# Runs inside a network namespace it creates (tern-t2-lossy-PID) and always
# removes; addresses from 192.0.2.0/24. Needs root and /dev/net/tun (exit
# 77 = skip otherwise), nft (nftables) for the loss. TERN_DEMO is tern-demo
# (echo service on port 7).
#
# The path. This kernel has no netem (nor prio/sfq/fq qdiscs), so:
# - loss: nftables drops TCP_LOSSY_PCT % (default 5) of the frames each way
#   (output hook for Linux -> tern, input hook for tern -> Linux). Only the
#   tern -> Linux drops are real losses: a drop in the output hook is
#   reported to the sending Linux socket as a local error and the kernel
#   sends the segment again at once, so Linux -> tern sees delay, not holes
#   (tern's receiver SACKs the reordering below instead). Real loss that way
#   needs a forwarding namespace between the two (not done);
# - reordering and delay, Linux -> tern only (egress of the TAP): htb with
#   a fast class and a slow class (TCP_LOSSY_SLOW_MBIT, default 5 Mbit/s,
#   a 20-packet pfifo); nftables sends TCP_LOSSY_REORDER_PCT % (default 10)
#   of the frames, at random, to the slow class (meta priority 1:2), where
#   they wait behind one another and are overtaken by the fast class:
#   reordered and delayed by milliseconds to tens of milliseconds. Not
#   possible here: a fixed added delay for every frame, and any shaping of
#   tern -> Linux (no ifb for ingress shaping). Both directions still lose.
#   GSO is off on the TAP (gso_max_segs 1) so that drops hit single frames.
#
# Checks, each an echo (each way at once), SHA-256 compared: (a) clean
# path, TCP_LOSSY_MB megabytes (default 100); (b) and (c) TCP_LOSSY_LOSSY_MB
# (default 10; see below): (b) lossy path, SACK and
# timestamps negotiated; (c) lossy path with the kernel's SACK off
# (net.ipv4.tcp_sack=0 in the namespace: neither side uses it); memory back
# at its start value and an empty ledger at exit. Prints the throughput of
# each run and tern's SACK counters.
set -u

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, TAP devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip nc sha256sum nft tc; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (scripts/install-deps)"
done
DEMO=${TERN_DEMO:-}
if [ -z "$DEMO" ] || [ ! -x "$DEMO" ]; then
    echo "FAIL: TERN_DEMO must name the tern-demo binary (got '${DEMO}')"
    exit 1
fi

MB=${TCP_LOSSY_MB:-100}
# The lossy runs: 100 MB at the ~2 Mbit/s this path allows takes about 7
# minutes per run, so ctest uses 10 MB; TCP_LOSSY_LOSSY_MB=100 for the full size.
LMB=${TCP_LOSSY_LOSSY_MB:-10}
LOSS=${TCP_LOSSY_PCT:-5}
REORDER=${TCP_LOSSY_REORDER_PCT:-10}
SLOW=${TCP_LOSSY_SLOW_MBIT:-5}
NS=tern-t2-lossy-$$
TAP=tern-t2-tap
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
TMP=$(mktemp -d /tmp/tern-t2-lossy.XXXXXX)
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
            echo "---- $f (last 40 lines)"
            tail -n 40 "$f"
        done
    fi
    [ -n "${TCP_LOSSY_KEEP:-}" ] && cp "$TMP/demo.log" /tmp/t2-lossy-demo.log; rm -rf "$TMP"
}
trap cleanup EXIT
trap "exit 1" INT TERM

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

check_memory() {
    local log=$1 i h0 b0 h1 b1
    read -r h0 b0 <<<"$(heap_of "$log" start)"
    for ((i = 0; i < 100; i++)); do
        kill -USR1 "$DEMO_PID"
        sleep 0.1
        read -r h1 b1 <<<"$(heap_of "$log" now)"
        [ "$h1" = "$h0" ] && [ "$b1" = "$b0" ] && return 0
    done
    fail "memory: heap free $h1 buffers $b1 now, $h0 $b0 at start"
}

# tern's TCP counter NAME from the latest full report (SIGUSR2).
counter() {
    grep -E "^tcp\.$1 " "$TMP/demo.log" | tail -n 1 | awk '{print $2}'
}
report() {
    local n
    n=$(grep -c '^== counters' "$TMP/demo.log")
    kill -USR2 "$DEMO_PID"
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c '^== counters' "$TMP/demo.log")" -gt "$n" ] && break
        sleep 0.05
    done
    sleep 0.2
}

sha() { sha256sum | cut -d' ' -f1; }

# Echo the first $2 MB of the data file; sets MBITS (each way).
echo_run() {
    local label=$1 mb=$2 t0 t1 got want ms
    want=$(head -c $((mb * 1000000)) "$TMP/data" | sha)
    t0=$(date +%s%N)
    got=$(head -c $((mb * 1000000)) "$TMP/data" | nsx timeout 1800 nc -N "$TERN_IP" 7 | sha)
    t1=$(date +%s%N)
    [ "$got" = "$want" ] || fail "$label: SHA-256 of the echo differs"
    ms=$(((t1 - t0) / 1000000))
    MBITS=$(awk -v b="$mb" -v ms="$ms" 'BEGIN { printf "%.1f", b * 8000 / (ms > 0 ? ms : 1) }')
    pass "$label: $mb MB each way in $ms ms, $MBITS Mbit/s each way, SHA-256 equal"
}

lossy_on() {
    nsx nft add table inet ternt2 || fail "nft table"
    nsx nft add chain inet ternt2 out '{ type filter hook output priority 0; }'
    nsx nft add rule inet ternt2 out oifname "$TAP" numgen random mod 100 '<' "$LOSS" drop
    nsx nft add rule inet ternt2 out oifname "$TAP" numgen random mod 100 '<' "$REORDER" meta priority set 1:2
    nsx nft add chain inet ternt2 in '{ type filter hook input priority 0; }'
    nsx nft add rule inet ternt2 in iifname "$TAP" numgen random mod 100 '<' "$LOSS" drop
    nsx tc qdisc add dev "$TAP" root handle 1: htb default 1 || fail "tc htb"
    nsx tc class add dev "$TAP" parent 1: classid 1:1 htb rate 10gbit
    nsx tc class add dev "$TAP" parent 1: classid 1:2 htb rate "${SLOW}mbit" ceil "${SLOW}mbit" burst 3000 cburst 3000
    nsx tc qdisc add dev "$TAP" parent 1:2 handle 20: pfifo limit 20
}
lossy_off() {
    nsx nft delete table inet ternt2
    nsx tc qdisc del dev "$TAP" root
}

START=$(date +%s)
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 on the Linux side"
ip netns add "$NS" || fail "cannot create namespace $NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev "$TAP" mode tap || fail "cannot create TAP $TAP"
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null
ip -n "$NS" addr add "$LINUX_IP/24" dev "$TAP"
# One frame per packet through the netfilter hooks: with GSO the output
# hook sees 64 KB bursts, and dropping one loses a whole flight's tail
# (never a hole a receiver could SACK). ethtool is not needed for this.
ip -n "$NS" link set dev "$TAP" gso_max_segs 1 gso_max_size 1514 || fail "cannot turn GSO off on $TAP"
ip -n "$NS" link set "$TAP" up
nsx sysctl -qw net.ipv4.tcp_sack=1 net.ipv4.tcp_timestamps="${TCP_LOSSY_TS:-1}"

ip netns exec "$NS" "$DEMO" --tap "$TAP" --ip "$TERN_IP/24" --tcp-buf 65536 --tcp-heap 16000000 >"$TMP/demo.log" 2>&1 &
DEMO_PID=$!
wait_for "$TMP/demo.log" '^memory \(start\):' 5 || fail "tern-demo did not start"
head -c $(((MB > LMB ? MB : LMB) * 1000000)) /dev/urandom >"$TMP/data"

echo "== (a) clean path: $MB MB echo"
echo_run "clean" "$MB"
CLEAN=$MBITS

echo "== (b) ${LOSS}% loss each way, ${REORDER}% reordered through a ${SLOW} Mbit/s queue; SACK and timestamps on"
report
r0=$(counter sack_recoveries)
b0=$(counter sack_blocks_rx)
s0=$(counter sack_tx)
lossy_on
echo_run "lossy, SACK on" "$LMB"
SACK_ON=$MBITS
report
rec=$(($(counter sack_recoveries) - r0))
blk=$(($(counter sack_blocks_rx) - b0))
stx=$(($(counter sack_tx) - s0))
echo "   tern: $rec SACK recoveries, $blk SACK blocks taken, $stx ACKs with SACK blocks, $(counter drop_paws) PAWS drops"
[ "$rec" -gt 0 ] && [ "$blk" -gt 0 ] || fail "tern's sender did not recover with SACK on the lossy path"
[ "$REORDER" = 0 ] || [ "$stx" -gt 0 ] || fail "tern's receiver sent no SACK block on a reordering path"

echo "== (c) the same path with SACK off (the kernel's net.ipv4.tcp_sack=0)"
nsx sysctl -qw net.ipv4.tcp_sack=0
report
r0=$(counter sack_recoveries)
echo_run "lossy, SACK off" "$LMB"
SACK_OFF=$MBITS
report
[ "$(counter sack_recoveries)" = "$r0" ] || fail "SACK used though the kernel did not offer it"
lossy_off
nsx sysctl -qw net.ipv4.tcp_sack=1

echo "== memory back at the start value; clean exit"
check_memory "$TMP/demo.log"
kill -TERM "$DEMO_PID"
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=""
[ "$rc" = 0 ] || fail "tern-demo exited with $rc"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "memory at baseline; SIGTERM: exit 0, ledger empty"

echo "throughput (Mbit/s each way): clean ($MB MB) $CLEAN; ${LOSS}% loss + ${REORDER}% reordering ($LMB MB): SACK on $SACK_ON, SACK off $SACK_OFF"
echo "PASS: all checks in $(($(date +%s) - START)) s"
