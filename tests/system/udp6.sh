#!/bin/bash
# System test: UDP over IPv6 through tern-demo --ipv6 on a TAP device,
# against the Linux kernel.
#
# Everything happens inside a network namespace this script creates
# (tern-udp6-PID) and always removes. Addresses: link-local ones and a
# static 2001:db8:2::/64 pair on the Linux side only (the documentation
# prefix, RFC 3849; tern forms nothing in it: link-local is enough on one
# link), IPv4 192.0.2.0/24. Needs root and /dev/net/tun (exit 77 = skip
# otherwise). The Linux side is tests/system/udp_peer.py (an address with a
# colon makes it speak IPv6).
#
# Checks: (a) Linux sends 2000 datagrams of sizes 0..1452 to tern's echo
# service (port 7) over IPv6 link-local, one at a time, and 1000 more four
# at a time: every echo byte-identical; (b) the same service still answers
# over IPv4 (the socket is bound to ::, dual stack); (c) a datagram to a
# closed port comes back as ICMPv6 port unreachable (ECONNREFUSED on a
# connected Linux socket); (d) counters agree (udp6.rx, no checksum drops),
# memory back at its start values, SIGTERM exits cleanly with an empty
# ledger.
. "$(dirname "$0")/lib/common.sh"
sys_init udp6
sys_require_demo
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY not installed"
HERE=$(cd "$(dirname "$0")" && pwd)
PEER="$HERE/udp_peer.py"
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
TERN_MAC=02:74:65:72:6e:42
TERN_LL=fe80::74:65ff:fe72:6e42 # modified EUI-64 of TERN_MAC

sys_tap_ns tern0 "$LINUX_IP/24"
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=0"
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 and IPv6 link-local on the Linux side"

linux_ll_ready() {
    local i
    for ((i = 0; i < 100; i++)); do
        ip -n "$NS" -6 addr show dev "$TAP" scope link | grep -q 'inet6 fe80' &&
            ! ip -n "$NS" -6 addr show dev "$TAP" | grep -q tentative && return 0
        sleep 0.1
    done
    return 1
}

start_demo "$TMP/demo.log" --ipv6 --ip "$TERN_IP/24" --mac "$TERN_MAC"
wait_demo_start "$TMP/demo.log"
grep -qE '^tern-demo: UDP echo service on port 7' "$TMP/demo.log" || fail "no UDP echo service"
wait_for "$TMP/demo.log" "ipv6: address $TERN_LL ready" 10 || fail "no link-local address $TERN_LL"
linux_ll_ready || fail "Linux's link-local address stayed tentative"
grep -E '^memory \(start\)' "$TMP/demo.log"

echo "== (a) Linux -> tern echo over IPv6: 2000 datagrams one at a time, 1000 four at a time"
nsx "$PY" "$PEER" client "$TERN_LL%$TAP" 7 2000 1 >"$TMP/client1.log" 2>&1
rc=$?
cat "$TMP/client1.log"
[ "$rc" = 0 ] || fail "stop-and-wait run failed"
grep -q '2000/2000 echoed byte-identical, 0 corrupted' "$TMP/client1.log" || fail "not every echo was identical"
grep -q 'sizes 0..1452' "$TMP/client1.log" || fail "sizes did not reach 1452"
nsx "$PY" "$PEER" client "$TERN_LL%$TAP" 7 1000 4 >"$TMP/client4.log" 2>&1
rc=$?
cat "$TMP/client4.log"
[ "$rc" = 0 ] || fail "windowed run failed"
grep -q '1000/1000 echoed byte-identical, 0 corrupted' "$TMP/client4.log" || fail "not every echo was identical"
pass "3000/3000 IPv6 echoes byte-identical, sizes 0..1452"

echo "== (b) the same service over IPv4 (dual-stack socket)"
nsx "$PY" "$PEER" client "$TERN_IP" 7 300 1 >"$TMP/client-v4.log" 2>&1 || { cat "$TMP/client-v4.log"; fail "IPv4 echo failed"; }
cat "$TMP/client-v4.log"
grep -q '300/300 echoed byte-identical, 0 corrupted' "$TMP/client-v4.log" || fail "not every IPv4 echo was identical"
pass "300/300 IPv4 echoes from the same :: socket"

echo "== (c) a closed port answers ICMPv6 port unreachable"
nsx "$PY" "$PEER" refused "$TERN_LL%$TAP" 4242 >"$TMP/refused.log" 2>&1 || { cat "$TMP/refused.log"; fail "no port unreachable"; }
cat "$TMP/refused.log"
pass "ICMPv6 port unreachable reaches the Linux socket as ECONNREFUSED"

echo "== (d) counters, memory back at baseline, clean exit"
check_memory "$TMP/demo.log" now
demo_report "$TMP/demo.log" && wait_for "$TMP/demo.log" '^== driver ' 5 || fail "no SIGUSR2 report"
grep -E '^udp6?\.' "$TMP/demo.log" | tr -s ' '
rx6=$(counter "$TMP/demo.log" udp6.rx)
tx6=$(counter "$TMP/demo.log" udp6.tx)
[ "${rx6:-0}" -ge 3001 ] || fail "udp6.rx is ${rx6:-missing}, expected at least 3001"
[ "${tx6:-0}" -ge 3000 ] || fail "udp6.tx is ${tx6:-missing}, expected at least 3000"
for c in udp.drop_checksum udp6.drop_no_checksum udp.drop_len udp.drop_truncated; do
    [ "$(counter "$TMP/demo.log" "$c")" = 0 ] || fail "$c is not 0"
done
[ "$(counter "$TMP/demo.log" udp.drop_no_port)" = 1 ] || fail "udp.drop_no_port is not 1 (the closed-port probe)"
stop_demo
rc=$?
[ "$rc" = 0 ] || fail "tern-demo exited with $rc after SIGTERM"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "udp6.rx $rx6, udp6.tx $tx6, no checksum drops; SIGTERM: exit 0, ledger empty"

echo "PASS: all checks in $(( $(date +%s) - START )) s"
