#!/bin/bash
# System test: tern-demo --ipv6 on a TAP device, against the Linux kernel.
#
# Everything happens inside a network namespace this script creates
# (tern-ipv6_ping-PID) and always removes. IPv6 addresses: link-local ones
# and 2001:db8:1::/64 (the documentation prefix, RFC 3849), advertised by
# radvd inside the namespace only; IPv4 192.0.2.0/24. Needs root,
# /dev/net/tun and radvd (exit 77 = skip otherwise).
#
# Checks: (a) tern forms its link-local address (EUI-64) and Linux pings it;
# (b) radvd advertises 2001:db8:1::/64 with RDNSS: tern forms its SLAAC
# address and learns the DNS server, Linux pings the SLAAC address at sizes
# up to 1452 data bytes (a 1500-byte packet), byte-identical, and IPv4 ping
# still works next to it; (c) memory back at the start values, clean exit
# with an empty ledger; (d) DAD: Linux already holds the address tern would
# form: tern refuses it and says so, its link-local address still works.
# Between (b) and (c): a stepped sweep of sizes to 1452, pings beyond the MTU
# (Linux fragments them: tern reassembles and answers in fragments, RFC 8200
# 4.5) and an adaptive flood with a bounded count, every reply required.
. "$(dirname "$0")/lib/common.sh"
sys_init ipv6_ping
sys_require ping radvd
sys_require_demo
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
TERN_MAC=02:74:65:72:6e:42
TERN_LL=fe80::74:65ff:fe72:6e42           # modified EUI-64 of TERN_MAC
PREFIX=2001:db8:1
TERN_GLOBAL=$PREFIX:0:74:65ff:fe72:6e42   # RFC 5952 text, as tern logs it
LINUX_GLOBAL=$PREFIX::1
DNS6=$PREFIX::53

sys_tap_ns tern0 "$LINUX_IP/24"
# sys_tap_ns turns IPv6 off on the TAP; this test wants it, and radvd
# wants the namespace to be a router.
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=0"
nsx sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$NS" -6 addr add "$LINUX_GLOBAL/64" dev "$TAP" nodad
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 and $LINUX_GLOBAL/64 on the Linux side"

# Linux's link-local address leaves DAD a second after the carrier is up.
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
grep -E '^tern-demo: .* up' "$TMP/demo.log"

echo "== (a) the link-local address, and Linux pings it"
wait_for "$TMP/demo.log" "ipv6: address $TERN_LL ready" 10 || fail "no link-local address $TERN_LL"
grep -E 'ipv6: address' "$TMP/demo.log"
linux_ll_ready || fail "Linux's link-local address stayed tentative"
nsx ping -6 -n -c 5 -w 10 -i 0.05 "$TERN_LL%$TAP" >"$TMP/ping-ll.log" 2>&1
grep -q ' 5 received, 0% packet loss' "$TMP/ping-ll.log" || fail "ping -6 $TERN_LL%$TAP: $(grep transmitted "$TMP/ping-ll.log")"
neigh=$(ip -n "$NS" -6 neigh show "$TERN_LL" dev "$TAP")
echo "$neigh" | grep -qi "lladdr $TERN_MAC" || fail "Linux neighbour entry is '$neigh'"
pass "ping -6 $TERN_LL%$TAP: 5/5, Linux resolved it to $TERN_MAC by Neighbor Discovery"

echo "== (b) radvd advertises $PREFIX::/64 with RDNSS; SLAAC; Linux pings the SLAAC address"
cat >"$TMP/radvd.conf" <<EOF
interface $TAP {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvLinkMTU 1500;
    prefix $PREFIX::/64 {
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    };
    RDNSS $DNS6 {
        AdvRDNSSLifetime 600;
    };
};
EOF
nsx radvd -n -C "$TMP/radvd.conf" -p "$TMP/radvd.pid" -m stderr >"$TMP/radvd.log" 2>&1 &
sys_on_exit "kill \$(cat '$TMP/radvd.pid' 2>/dev/null) 2>/dev/null"
wait_for "$TMP/demo.log" "ipv6: address $TERN_GLOBAL ready" 20 || fail "no SLAAC address $TERN_GLOBAL"
pass "SLAAC: $TERN_GLOBAL formed from the advertised prefix (after DAD)"
nsx bash -c '
    for size in 0 1 56 100 512 1000 1232 1400 1451 1452; do
        pat=$(printf "%02x%02x" $(( size % 256 )) $(( (size * 7 + 3) % 256 )))
        echo "# size $size pattern $pat"
        ping -6 -n -c 3 -w 10 -i 0.02 -s "$size" -p "$pat" '"$TERN_GLOBAL"'
    done' >"$TMP/ping-sizes.log" 2>&1
replies=$(grep -cE '^[0-9]+ bytes from' "$TMP/ping-sizes.log")
wrong=$(grep -ci 'wrong data byte' "$TMP/ping-sizes.log")
dups=$(grep -c 'DUP!' "$TMP/ping-sizes.log")
biggest=$(grep -c '^1460 bytes from' "$TMP/ping-sizes.log")
[ "$wrong" = 0 ] || fail "$wrong replies with wrong data bytes"
[ "$dups" = 0 ] || fail "$dups duplicate replies"
[ "$replies" = 30 ] || fail "$replies of 30 replies"
[ "$biggest" = 3 ] || fail "expected 3 replies of 1452 data bytes, got $biggest"
pass "ping -6 $TERN_GLOBAL: 30/30 replies at 10 sizes up to 1452 data bytes, byte-identical"
nsx bash -c '
    for ((size = 0; size <= 1452; size += 44)); do
        ping -6 -n -q -c 1 -w 5 -s "$size" '"$TERN_GLOBAL"' | grep -q " 1 received" || echo "lost $size"
    done' >"$TMP/ping-sweep.log" 2>&1
if [ -s "$TMP/ping-sweep.log" ]; then fail "sweep: $(tr '\n' ' ' <"$TMP/ping-sweep.log")"; fi
pass "ping -6 $TERN_GLOBAL: every 44th size from 0 to 1452 answered"

echo "== fragmented echo requests (beyond the 1500-byte MTU): reassembly, replies in fragments"
nsx bash -c '
    for size in 1453 2000 4000 8000 12000; do
        pat=$(printf "%02x%02x" $(( size % 256 )) $(( (size * 7 + 3) % 256 )))
        echo "# size $size pattern $pat"
        ping -6 -n -c 3 -w 10 -i 0.05 -s "$size" -p "$pat" '"$TERN_GLOBAL"'
    done' >"$TMP/ping-frag.log" 2>&1
replies=$(grep -cE '^[0-9]+ bytes from' "$TMP/ping-frag.log")
wrong=$(grep -ci 'wrong data byte' "$TMP/ping-frag.log")
[ "$wrong" = 0 ] || fail "$wrong fragmented replies with wrong data bytes"
[ "$replies" = 15 ] || fail "$replies of 15 replies to fragmented requests"
[ "$(grep -c '^12008 bytes from' "$TMP/ping-frag.log")" = 3 ] || fail "no 12000-byte replies"
pass "ping -6 -s 1453..12000: 15/15 replies, byte-identical (reassembled, answered in fragments)"

echo "== adaptive flood: 1000 requests, each sent when the last is answered, every reply waited for"
nsx ping -6 -n -q -A -c 1000 -w 60 "$TERN_GLOBAL" >"$TMP/flood6.log" 2>&1
grep -q ' 1000 received, 0% packet loss' "$TMP/flood6.log" || fail "flood: $(grep transmitted "$TMP/flood6.log")"
pass "ping -6 -A -c 1000: $(grep transmitted "$TMP/flood6.log")"

nsx ping -n -c 3 -w 5 -i 0.05 "$TERN_IP" >"$TMP/ping4.log" 2>&1
grep -q ' 3 received, 0% packet loss' "$TMP/ping4.log" || fail "IPv4 ping next to IPv6 failed"
pass "IPv4 still answers next to IPv6 (dual stack)"
demo_report "$TMP/demo.log" && wait_for "$TMP/demo.log" "^== driver " 5 || fail "no SIGUSR2 report"
sed -n '/^== ipv6 addresses/,/^== /p' "$TMP/demo.log" | tail -n +2 | grep -v '^== '
grep -qE "^dns $DNS6\$" "$TMP/demo.log" || fail "RDNSS server $DNS6 not in the report"
grep -qE "^$TERN_GLOBAL/64 +preferred +slaac" "$TMP/demo.log" || fail "SLAAC address not preferred in the report"
for c in icmp6.echo_reply_tx nd.ra_rx nd.na_tx nd.mld_tx ipv6.reass_ok ipv6.frag_tx; do
    v=$(counter "$TMP/demo.log" "$c")
    [ "${v:-0}" -gt 0 ] || fail "counter $c is ${v:-missing}"
    echo "$c $v"
done
pass "report: SLAAC address preferred, DNS server $DNS6 from RDNSS, counters moving"

echo "== (c) memory back at the start values, clean exit"
check_memory "$TMP/demo.log" now
stop_demo
rc=$?
[ "$rc" = 0 ] || fail "tern-demo exited with $rc after SIGTERM"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "SIGTERM: exit 0, ledger empty"

echo "== (d) DAD: Linux already holds $TERN_GLOBAL; tern refuses it and says so"
ip -n "$NS" -6 addr add "$TERN_GLOBAL/128" dev "$TAP" nodad
start_demo "$TMP/demo-dad.log" --ipv6 --mac "$TERN_MAC"
wait_demo_start "$TMP/demo-dad.log"
wait_for "$TMP/demo-dad.log" "duplicate address detected, refusing $TERN_GLOBAL" 20 ||
    fail "tern did not detect that Linux holds $TERN_GLOBAL"
wait_for "$TMP/demo-dad.log" "ipv6: address $TERN_LL ready" 10 || fail "no link-local address in the DAD run"
grep -E 'ipv6: ' "$TMP/demo-dad.log"
grep -q "ipv6: address $TERN_GLOBAL ready" "$TMP/demo-dad.log" && fail "tern took $TERN_GLOBAL anyway"
nsx ping -6 -n -c 3 -w 10 -i 0.05 "$TERN_LL%$TAP" >"$TMP/ping-ll2.log" 2>&1
grep -q ' 3 received, 0% packet loss' "$TMP/ping-ll2.log" || fail "link-local ping after the DAD conflict failed"
demo_report "$TMP/demo-dad.log" && wait_for "$TMP/demo-dad.log" "^== driver " 5 || fail "no SIGUSR2 report"
grep -qE "^$TERN_GLOBAL/64 +duplicate" "$TMP/demo-dad.log" || fail "the report does not show the address as duplicate"
[ "$(counter "$TMP/demo-dad.log" nd.dad_conflicts)" -ge 1 ] || fail "nd.dad_conflicts not counted"
stop_demo || fail "tern-demo exited with an error after the DAD test"
pass "tern logged the duplicate, refused $TERN_GLOBAL (report: duplicate), link-local still answers"

echo "PASS: all checks in $(( $(date +%s) - START )) s"
