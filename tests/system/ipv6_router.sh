#!/bin/bash
# System test: tern-demo --ipv6 behind a Linux router, against the Linux
# kernel: an off-link destination through the default router, fragmented
# requests from far away, and Packet Too Big from a smaller-MTU link.
#
# Two namespaces this script creates and always removes: tern-ipv6_router-PID
# (the router: the TAP to tern, radvd advertising 2001:db8:1::/64 on it,
# forwarding on) and tern-ipv6_router-PID-far (a host on 2001:db8:2::/64,
# behind a veth link of MTU 1280). Documentation prefixes only (RFC 3849),
# IPv4 192.0.2.0/24. Needs root, /dev/net/tun and radvd (exit 77 = skip).
#
# Checks: (a) SLAAC and a default router from the RA; (b) the far host pings
# tern's global address: tern answers through its default router (off-link,
# RFC 4861 5.2); (c) the far host pings with 1400 data bytes: its kernel
# fragments the request for the 1280 link (tern reassembles), tern's first
# 1448-byte reply is too big for the far link, the router sends Packet Too
# Big, tern lowers its path MTU to the far host (log line, icmp6.ptb_rx)
# and answers the next requests in fragments of at most 1280 bytes; (d)
# memory back, clean exit.
. "$(dirname "$0")/lib/common.sh"
sys_init ipv6_router
sys_require ping radvd
sys_require_demo
TERN_IP=192.0.2.2
TERN_MAC=02:74:65:72:6e:43
PREFIX=2001:db8:1
TERN_GLOBAL=$PREFIX:0:74:65ff:fe72:6e43
ROUTER_GLOBAL=$PREFIX::1
FAR_NET=2001:db8:2
FAR=$FAR_NET::2
FAR_NS=$NS-far

sys_tap_ns tern0 192.0.2.1/24
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=0"
nsx sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$NS" -6 addr add "$ROUTER_GLOBAL/64" dev "$TAP" nodad
ip netns add "$FAR_NS" || fail "cannot create namespace $FAR_NS"
sys_on_exit "ip netns pids '$FAR_NS' | xargs -r kill -KILL; ip netns del '$FAR_NS'"
ip -n "$FAR_NS" link set lo up
ip -n "$NS" link add rt0 type veth peer name far0 netns "$FAR_NS" || fail "cannot create the veth pair"
ip -n "$NS" link set rt0 mtu 1280 up
ip -n "$FAR_NS" link set far0 mtu 1280 up
ip -n "$NS" -6 addr add "$FAR_NET::1/64" dev rt0 nodad
ip -n "$FAR_NS" -6 addr add "$FAR/64" dev far0 nodad
ip -n "$FAR_NS" -6 route add default via "$FAR_NET::1" dev far0
farx() { ip netns exec "$FAR_NS" "$@"; }
echo "== setup: router $NS ($TAP: $ROUTER_GLOBAL/64; rt0: $FAR_NET::1/64, MTU 1280), far host $FAR_NS ($FAR)"

cat >"$TMP/radvd.conf" <<EOF
interface $TAP {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvLinkMTU 1500;
    prefix $PREFIX::/64 {
        AdvOnLink on;
        AdvAutonomous on;
    };
};
EOF
start_demo "$TMP/demo.log" --ipv6 --ip "$TERN_IP/24" --mac "$TERN_MAC"
wait_demo_start "$TMP/demo.log"
nsx radvd -n -C "$TMP/radvd.conf" -p "$TMP/radvd.pid" -m stderr >"$TMP/radvd.log" 2>&1 &
sys_on_exit "kill \$(cat '$TMP/radvd.pid' 2>/dev/null) 2>/dev/null"

echo "== (a) SLAAC address and default router from the router's advertisement"
wait_for "$TMP/demo.log" "ipv6: address $TERN_GLOBAL ready" 30 || fail "no SLAAC address $TERN_GLOBAL"
pass "SLAAC: $TERN_GLOBAL"

echo "== (b) the far host ($FAR, off-link) pings tern: replies go through the default router"
ok=0
for ((i = 0; i < 10; i++)); do
    farx ping -6 -n -c 1 -w 2 "$TERN_GLOBAL" >/dev/null 2>&1 && { ok=1; break; }
done
[ "$ok" = 1 ] || fail "the far host never reached $TERN_GLOBAL"
farx ping -6 -n -c 5 -w 10 -i 0.05 "$TERN_GLOBAL" >"$TMP/ping-far.log" 2>&1
grep -q ' 5 received, 0% packet loss' "$TMP/ping-far.log" || fail "off-link ping: $(grep transmitted "$TMP/ping-far.log")"
demo_report "$TMP/demo.log" && wait_for "$TMP/demo.log" "^== driver " 5 || fail "no SIGUSR2 report"
sed -n '/^== ipv6 addresses/,/^== /p' "$TMP/demo.log" | grep -E '^fe80::.* yes$' ||
    fail "the router is not in tern's neighbor cache as a router"
pass "ping -6 from $FAR: 5/5 through the default router"

echo "== (c) 1400 data bytes from the far host: reassembly, Packet Too Big, path MTU 1280"
farx ping -6 -n -c 6 -w 20 -i 0.3 -s 1400 -p a5c3 "$TERN_GLOBAL" >"$TMP/ping-ptb.log" 2>&1
cat "$TMP/ping-ptb.log"
wait_for "$TMP/demo.log" "ipv6: path MTU to $FAR now 1280" 5 || fail "tern did not lower its path MTU to $FAR"
replies=$(grep -c '^1408 bytes from' "$TMP/ping-ptb.log")
[ "$replies" -ge 4 ] || fail "only $replies of 6 large replies came back"
grep -qi 'wrong data byte' "$TMP/ping-ptb.log" && fail "wrong data in a large reply"
demo_report "$TMP/demo.log" && wait_for "$TMP/demo.log" "^== driver " 5 || fail "no SIGUSR2 report"
for c in icmp6.ptb_rx ipv6.reass_ok ipv6.frag_tx; do
    v=$(counter "$TMP/demo.log" "$c")
    [ "${v:-0}" -gt 0 ] || fail "counter $c is ${v:-missing}"
    echo "$c $v"
done
pass "path MTU to $FAR lowered to 1280 by the router's Packet Too Big; $replies/6 large replies, in fragments"

echo "== (d) memory back at the start values, clean exit"
check_memory "$TMP/demo.log" now
stop_demo
rc=$?
[ "$rc" = 0 ] || fail "tern-demo exited with $rc after SIGTERM"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "SIGTERM: exit 0, ledger empty"

echo "PASS: all checks in $(( $(date +%s) - START )) s"
