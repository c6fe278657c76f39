#!/bin/bash
# System test: tern's TCP loss recovery (SACK, RFC 2018 / RFC 6675;
# timestamps, RFC 7323) against the Linux kernel, through a router that
# loses and reorders for real in both directions.
#
# Namespaces it creates and always removes (tern-l3-{a,r,b}-PID); addresses
# from 198.51.100.0/24, 192.0.2.0/24 and 203.0.113.0/24 only. Needs root,
# /dev/net/tun, nft and tc (exit 77 = skip otherwise). TERN_DEMO is tern-demo
# (echo service on port 7).
#
# The path:
#
#   ns A (Linux client)            ns R (router, ip_forward)           tern-demo
#   a0 198.51.100.1  ---veth---  ra 198.51.100.254
#                                  TAP 192.0.2.254  ---------------  192.0.2.2 (gw .254)
#   ns B (Linux reference)
#   b0 203.0.113.2   ---veth---  rb 203.0.113.254
#
# - loss: nftables in R's forward chain drops TCP_LOSSY_PCT % (default 5)
#   of the forwarded frames at random (numgen random), each way. The
#   senders (Linux in A or B, tern) learn nothing locally: these are real
#   holes, seen only through the receiver's ACKs and SACKs.
# - reordering and queueing delay: on each of R's egress devices (ra, the
#   TAP, rb) an htb with a fast class (1:1, the default) and a slow class
#   (1:2, TCP_LOSSY_SLOW_MBIT, default 50 Mbit/s, a TCP_LOSSY_SLOW_QLEN
#   packet pfifo, default 50). The forward chain sends TCP_LOSSY_REORDER_PCT
#   % (default 10) of the surviving frames to the slow class (meta priority
#   1:2): they queue behind one another and are overtaken by the fast
#   class, so they arrive late and out of order. The slow class must carry
#   REORDER % of the throughput: if it cannot, its pfifo overflows and adds
#   loss of its own (the htb drops are printed after each run).
# - not possible on this kernel (no netem): a fixed added delay on every
#   frame, duplication, corruption. The path's base RTT is that of veth and
#   TAP (tens of microseconds), so every stall is measured in RTOs, not
#   RTTs; the minimum RTO (200 ms both sides) is what loss costs.
# - GSO is limited to one segment on the Linux ends (gso_max_segs 1) so
#   that each drop removes one frame, not a 64 KB burst.
#
# Runs, each an echo (both ways at once, nc against tern's echo service or
# a Python echo server on the kernel's TCP in B), SHA-256 compared: (a) clean path, TCP_LOSSY_MB megabytes
# (default 100); (b) the lossy path, SACK and timestamps, TCP_LOSSY_LOSSY_MB
# (default 100) with tern, then the same with the kernel in B (the
# reference, same path, same rules); (c) the lossy path with the kernel's
# SACK off (neither side uses it), TCP_LOSSY_NOSACK_MB (default 10). Memory
# back at its start value and an empty ledger at exit. Prints the
# throughput of each run, tern's SACK and retransmission counters (and,
# for the lossy SACK run, the Linux client's RTOs, probes and recoveries
# from nstat), and what
# the router dropped and delayed (and any frame the TAP's queue dropped
# because tern-demo was not scheduled in time on a loaded machine).
# 60-90 s on the 2-core machine (100 MB through 5% loss each way, idle:
# ~15 s for tern, ~12 s for Linux). TCP_LOSSY_PCAP=FILE: tcpdump of the
# lossy tern run on the TAP in R (headers only).
set -u

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, TAP devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip nc sha256sum nft tc /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (scripts/install-deps)"
done
DEMO=${TERN_DEMO:-}
if [ -z "$DEMO" ] || [ ! -x "$DEMO" ]; then
    echo "FAIL: TERN_DEMO must name the tern-demo binary (got '${DEMO}')"
    exit 1
fi

MB=${TCP_LOSSY_MB:-100}
LMB=${TCP_LOSSY_LOSSY_MB:-100}
NMB=${TCP_LOSSY_NOSACK_MB:-10}
LOSS=${TCP_LOSSY_PCT:-5}
REORDER=${TCP_LOSSY_REORDER_PCT:-10}
SLOW=${TCP_LOSSY_SLOW_MBIT:-50}
SLOWQ=${TCP_LOSSY_SLOW_QLEN:-50}
# tern-demo's ring size each way (TCP_LOSSY_BUF; 4380 is the default of
# TERN_TCP_RCVBUF/SNDBUF, three segments: the small-window case).
TBUF=${TCP_LOSSY_BUF:-65536}
# Each transfer's time limit (s, TCP_LOSSY_TIMEOUT): a stall fails the test
# rather than hanging make test (ctest gives the whole script 900 s).
TLIMIT=${TCP_LOSSY_TIMEOUT:-240}
NSA=tern-l3-a-$$
NSR=tern-l3-r-$$
NSB=tern-l3-b-$$
TAP=tern-l3-tap
A_IP=198.51.100.1
RA_IP=198.51.100.254
RT_IP=192.0.2.254
TERN_IP=192.0.2.2
RB_IP=203.0.113.254
B_IP=203.0.113.2
TMP=$(mktemp -d /tmp/tern-l3-lossy.XXXXXX)
DEMO_PID=""
FAILED=0

cleanup() {
    local ns
    if [ -n "$DEMO_PID" ]; then
        kill -KILL "$DEMO_PID" 2>/dev/null
        wait "$DEMO_PID" 2>/dev/null
    fi
    for ns in "$NSA" "$NSB" "$NSR"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    if [ "$FAILED" != 0 ]; then
        for f in "$TMP"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 40 lines)"
            tail -n 40 "$f"
        done
    fi
    [ -n "${TCP_LOSSY_KEEP:-}" ] && cp "$TMP/demo.log" /tmp/l3-lossy-demo.log
    rm -rf "$TMP"
}
trap cleanup EXIT
trap "exit 1" INT TERM

fail() {
    echo "FAIL: $*"
    FAILED=1
    exit 1
}
pass() { echo "ok: $*"; }
nsa() { ip netns exec "$NSA" "$@"; }
nsr() { ip netns exec "$NSR" "$@"; }
nsb() { ip netns exec "$NSB" "$@"; }

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

# Each attempt waits (up to 5 s) for its own fresh summary: an older one
# must not stand in for it.
check_memory() {
    local log=$1 i j n h0 b0 h1 b1
    read -r h0 b0 <<<"$(heap_of "$log" start)"
    [ -n "$h0" ] || fail "memory: no start summary"
    for ((i = 0; i < 100; i++)); do
        n=$(grep -c '^memory (now):' "$log")
        kill -USR1 "$DEMO_PID" || fail "memory: cannot signal tern-demo"
        for ((j = 0; j < 100; j++)); do
            [ "$(grep -c '^memory (now):' "$log")" -gt "$n" ] && break
            sleep 0.05
        done
        [ "$j" -lt 100 ] || fail "memory: no summary within 5 s of SIGUSR1"
        read -r h1 b1 <<<"$(heap_of "$log" now)"
        [ "$h1" = "$h0" ] && [ "$b1" = "$b0" ] && return 0
        sleep 0.1
    done
    fail "memory: heap free $h1 buffers $b1 now, $h0 $b0 at start"
}

# tern's TCP counter NAME from the counters section of the latest full
# report (SIGUSR2) only; report() has checked that every one is there.
counter() {
    awk '/^== counters/ { c = "" } /^tcp\./ { c = c $0 "\n" } END { printf "%s", c }' "$TMP/demo.log" |
        awk -v k="tcp.$1" '$1 == k { print $2 }'
}
COUNTERS="sack_recoveries sack_rxt_lost fast_retransmits timeouts tlp_probes rack_recoveries retransmits sack_blocks_rx sack_tx ooo_segments ooo_no_desc sack_no_desc"
# A fresh full report, complete (the section after the counters has
# started) within 5 s, with every counter this test reads; otherwise fail:
# a missing counter must not read as 0 (the SACK-off check wants 0).
report() {
    local n i c
    n=$(grep -c '^== arp cache' "$TMP/demo.log")
    kill -USR2 "$DEMO_PID" || fail "cannot signal tern-demo"
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c '^== arp cache' "$TMP/demo.log")" -gt "$n" ] && break
        sleep 0.05
    done
    [ "$i" -lt 100 ] || fail "no report within 5 s of SIGUSR2"
    for c in $COUNTERS drop_paws; do
        [[ "$(counter "$c")" =~ ^[0-9]+$ ]] || fail "counter tcp.$c missing from tern-demo's report"
    done
}
declare -A C0
snap() {
    local c
    report
    for c in $COUNTERS; do C0[$c]=$(counter "$c"); done
}
delta() { echo $(($(counter "$1") - ${C0[$1]})); }

sha() { sha256sum | cut -d' ' -f1; }

# Echo the first $3 MB of the data file through $2 (address); sets MBITS.
echo_run() {
    local label=$1 addr=$2 mb=$3 t0 t1 got want ms
    want=$(head -c $((mb * 1000000)) "$TMP/data" | sha)
    t0=$(date +%s%N)
    got=$(head -c $((mb * 1000000)) "$TMP/data" | nsa timeout "$TLIMIT" nc -N "$addr" 7 | sha)
    t1=$(date +%s%N)
    [ "$got" = "$want" ] || fail "$label: SHA-256 of the echo differs (or the transfer took over $TLIMIT s)"
    ms=$(((t1 - t0) / 1000000))
    MBITS=$(awk -v b="$mb" -v ms="$ms" 'BEGIN { printf "%.1f", b * 8000 / (ms > 0 ? ms : 1) }')
    pass "$label: $mb MB each way in $ms ms, $MBITS Mbit/s each way, SHA-256 equal"
}

# Frames the router dropped or reordered, summed over its rules and htb.
nft_counts() {
    nsr nft list chain inet ternl3 l3fw 2>/dev/null | awk '/drop/ { for (i = 1; i < NF; i++) if ($i == "packets") d += $(i + 1) }
        /priority set/ { for (i = 1; i < NF; i++) if ($i == "packets") r += $(i + 1) }
        END { printf "%d %d\n", d, r }'
}
htb_drops() {
    local dev n=0 d
    for dev in ra "$TAP" rb; do
        d=$(nsr tc -s qdisc show dev "$dev" 2>/dev/null | awk '/^qdisc pfifo 20:/ { p = 1 } p && /dropped/ { gsub(",", ""); for (i = 1; i < NF; i++) if ($i == "dropped") { print $(i + 1); exit } }')
        n=$((n + ${d:-0}))
    done
    echo "$n"
}
# Frames the TAP dropped towards tern (its queue full: tern-demo not
# scheduled in time on a loaded machine), a loss the rules did not make.
tap_drops() {
    nsr ip -s link show dev "$TAP" | awk '/TX:/ { getline; print $4; exit }'
}
path_report() {
    local d r
    read -r d r <<<"$(nft_counts)"
    echo "   router: $((d - ND0)) frames dropped by the loss rule, $((r - NR0)) sent through the slow class," \
        "$(($(htb_drops) - HD0)) dropped by its queue, $(($(tap_drops) - TD0)) by the TAP's queue to tern"
}
path_mark() {
    read -r ND0 NR0 <<<"$(nft_counts)"
    HD0=$(htb_drops)
    TD0=$(tap_drops)
}
ND0=0
NR0=0
HD0=0
TD0=0

# The Linux client's own loss recovery (ns A) during a run: its RTOs,
# probes and recoveries, which tern's ACKs and window drive.
LINUX_KEYS="TcpExtTCPTimeouts TcpExtTCPLossProbes TcpExtTCPSackRecovery TcpExtTCPLostRetransmit TcpExtTCPDSACKRecv TcpExtTCPSACKReorder TcpExtTCPWinProbe TcpExtTCPTSReorder"
declare -A L0
linux_counts() { nsa nstat -asz 2>/dev/null | awk '{ print $1, $2 }'; }
linux_mark() {
    local k v
    while read -r k v; do L0[$k]=$v; done <<<"$(linux_counts)"
}
linux_report() {
    local k v out=""
    command -v nstat >/dev/null 2>&1 || return 0
    while read -r k v; do
        [[ " $LINUX_KEYS " == *" $k "* ]] && out="$out ${k#TcpExt} $((v - ${L0[$k]:-0}))"
    done <<<"$(linux_counts)"
    echo "   Linux client:$out"
}

lossy_on() {
    local dev
    nsr nft add table inet ternl3 || fail "nft table"
    nsr nft add chain inet ternl3 l3fw '{ type filter hook forward priority 0; }'
    nsr nft add rule inet ternl3 l3fw meta l4proto tcp numgen random mod 100 '<' "$LOSS" counter drop
    nsr nft add rule inet ternl3 l3fw meta l4proto tcp numgen random mod 100 '<' "$REORDER" counter meta priority set 1:2
    for dev in ra "$TAP" rb; do
        nsr tc qdisc add dev "$dev" root handle 1: htb default 1 || fail "tc htb on $dev"
        nsr tc class add dev "$dev" parent 1: classid 1:1 htb rate 10gbit quantum 60000
        nsr tc class add dev "$dev" parent 1: classid 1:2 htb rate "${SLOW}mbit" ceil "${SLOW}mbit" burst 3000 cburst 3000 quantum 1514
        nsr tc qdisc add dev "$dev" parent 1:2 handle 20: pfifo limit "$SLOWQ"
    done
    path_mark
}
lossy_off() {
    local dev
    nsr nft delete table inet ternl3
    for dev in ra "$TAP" rb; do nsr tc qdisc del dev "$dev" root; done
}

START=$(date +%s)
echo "== setup: A $A_IP -> router R -> tern $TERN_IP (TAP $TAP) and Linux B $B_IP"
for ns in "$NSA" "$NSR" "$NSB"; do
    ip netns add "$ns" || fail "cannot create namespace $ns"
    ip -n "$ns" link set lo up
done
ip -n "$NSR" link add ra type veth peer name a0 netns "$NSA" || fail "veth R-A"
ip -n "$NSR" link add rb type veth peer name b0 netns "$NSB" || fail "veth R-B"
ip -n "$NSR" tuntap add dev "$TAP" mode tap || fail "cannot create TAP $TAP"
nsr sysctl -qw "net.ipv6.conf.all.disable_ipv6=1" net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0
for ns in "$NSA" "$NSB"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
ip -n "$NSR" addr add "$RA_IP/24" dev ra
ip -n "$NSR" addr add "$RT_IP/24" dev "$TAP"
ip -n "$NSR" addr add "$RB_IP/24" dev rb
ip -n "$NSA" addr add "$A_IP/24" dev a0
ip -n "$NSB" addr add "$B_IP/24" dev b0
# One frame per packet: with GSO a drop in R would remove a 64 KB burst.
ip -n "$NSA" link set dev a0 gso_max_segs 1 gso_max_size 1514 || fail "cannot turn GSO off on a0"
ip -n "$NSB" link set dev b0 gso_max_segs 1 gso_max_size 1514 || fail "cannot turn GSO off on b0"
for dev in ra rb "$TAP"; do ip -n "$NSR" link set "$dev" up; done
ip -n "$NSA" link set a0 up
ip -n "$NSB" link set b0 up
ip -n "$NSA" route add default via "$RA_IP"
ip -n "$NSB" route add default via "$RB_IP"
for ns in "$NSA" "$NSB"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_sack=1 net.ipv4.tcp_timestamps="${TCP_LOSSY_TS:-1}"
done

ip netns exec "$NSR" "$DEMO" --tap "$TAP" --ip "$TERN_IP/24" --gw "$RT_IP" --tcp-buf "$TBUF" --tcp-heap 16000000 \
    >"$TMP/demo.log" 2>&1 &
DEMO_PID=$!
wait_for "$TMP/demo.log" '^memory \(start\):' 5 || fail "tern-demo did not start"
# The reference echo server: the kernel's TCP, a thread per connection.
cat >"$TMP/echo.py" <<'PYEOF'
import socket, threading
def serve(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.shutdown(socket.SHUT_WR)
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7))
s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PYEOF
nsb /usr/bin/python3 "$TMP/echo.py" >"$TMP/echo.log" 2>&1 &
top=$MB
[ "$LMB" -gt "$top" ] && top=$LMB
[ "$NMB" -gt "$top" ] && top=$NMB
head -c $((top * 1000000)) /dev/urandom >"$TMP/data"
for ((i = 0; i < 50; i++)); do
    nsa nc -z -w 1 "$B_IP" 7 2>/dev/null && nsa ping -c 1 -W 1 "$TERN_IP" >/dev/null 2>&1 && break
    sleep 0.1
done

echo "== (a) clean path: $MB MB echo"
echo_run "clean, tern" "$TERN_IP" "$MB"
CLEAN=$MBITS
echo_run "clean, Linux reference" "$B_IP" "$MB"
CLEAN_REF=$MBITS

echo "== (b) ${LOSS}% loss each way, ${REORDER}% reordered through a ${SLOW} Mbit/s queue; SACK and timestamps on"
snap
linux_mark
lossy_on
# TCP_LOSSY_PCAP=FILE: headers of this run as tern sees them (the TAP in R).
if [ -n "${TCP_LOSSY_PCAP:-}" ]; then
    ip netns exec "$NSR" tcpdump -i "$TAP" -s 96 -w "$TCP_LOSSY_PCAP" tcp port 7 >"$TMP/tcpdump.log" 2>&1 &
    TCPDUMP_PID=$!
    sleep 1
fi
echo_run "lossy, SACK on, tern" "$TERN_IP" "$LMB"
if [ -n "${TCP_LOSSY_PCAP:-}" ]; then
    sleep 0.5
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID"
fi
SACK_ON=$MBITS
path_report
report
echo -n "   tern:"
for c in $COUNTERS; do echo -n " $c $(delta "$c")"; done
echo
echo "   tern: $(counter drop_paws) PAWS drops in all"
linux_report
[ "$(delta sack_recoveries)" -gt 0 ] && [ "$(delta sack_blocks_rx)" -gt 0 ] ||
    fail "tern's sender did not recover with SACK on the lossy path"
[ "$(delta sack_tx)" -gt 0 ] || fail "tern's receiver sent no SACK block on a lossy path"
# RACK-TLP (docs/tcp.md): losses the duplicate-ACK rules cannot see (a lost
# tail, a hole with fewer than three SACKed segments above it) are found
# by a probe or the reordering window; at 5% loss both kinds occur.
[ $(($(delta tlp_probes) + $(delta rack_recoveries))) -gt 0 ] ||
    fail "no tail loss probe and no RACK recovery on the lossy path"
path_mark
echo_run "lossy, SACK on, Linux reference" "$B_IP" "$LMB"
SACK_REF=$MBITS
path_report

echo "== (c) the same path with SACK off (the kernel's net.ipv4.tcp_sack=0)"
nsa sysctl -qw net.ipv4.tcp_sack=0
snap
path_mark
echo_run "lossy, SACK off, tern" "$TERN_IP" "$NMB"
SACK_OFF=$MBITS
path_report
report
echo -n "   tern:"
for c in $COUNTERS; do echo -n " $c $(delta "$c")"; done
echo
[ "$(delta sack_recoveries)" = 0 ] || fail "SACK used though the kernel did not offer it"
lossy_off
nsa sysctl -qw net.ipv4.tcp_sack=1

echo "== memory back at the start value; clean exit"
check_memory "$TMP/demo.log"
kill -TERM "$DEMO_PID"
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=""
[ "$rc" = 0 ] || fail "tern-demo exited with $rc"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "memory at baseline; SIGTERM: exit 0, ledger empty"

echo "throughput (Mbit/s each way): clean ($MB MB) tern $CLEAN, Linux $CLEAN_REF;" \
    "${LOSS}% loss + ${REORDER}% reordering ($LMB MB): tern $SACK_ON, Linux $SACK_REF; SACK off ($NMB MB): tern $SACK_OFF"
echo "PASS: all checks in $(($(date +%s) - START)) s"
