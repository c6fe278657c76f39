#!/bin/bash
# System test: Duplicate Address Detection (RFC 4862 5.4) against a second
# Linux host on the same link.
#
# Two network namespaces this script creates and always removes: the
# router (tern-dad6-PID: a bridge with tern-demo's TAP and one end of a
# veth pair, radvd advertising 2001:db8:1::/64) and a second host
# (tern-dad6h-PID: the other veth end). Addresses: link-local ones and
# 2001:db8:1::/64 (the documentation prefix, RFC 3849); IPv4
# 192.0.2.0/24. The bridge keeps MLD snooping on, so tern's DAD probes
# reach the second host only through the solicited-node groups both sides
# report. Needs root, /dev/net/tun and radvd (exit 77 = skip otherwise).
#
# The second host already holds (nodad) the SLAAC address tern will form
# (modified EUI-64 of tern's MAC) and 2001:db8:1::5, a static address tern
# is given (--ip6). Checks: tern logs both as duplicates and refuses them
# (state "duplicate" in its report, never "ready", nd.dad_conflicts 2), and
# its other addresses, the link-local one and a second static address
# 2001:db8:1::6, answer the second host's pings.
. "$(dirname "$0")/lib/common.sh"
sys_init dad6
sys_require ping radvd
sys_require_demo
TERN_MAC=02:74:65:72:6e:44
TERN_LL=fe80::74:65ff:fe72:6e44            # modified EUI-64 of TERN_MAC
PREFIX=2001:db8:1
TERN_GLOBAL=$PREFIX:0:74:65ff:fe72:6e44    # what SLAAC forms (RFC 5952 text)
STATIC_DUP=$PREFIX::5
STATIC_OK=$PREFIX::6
HOST_ADDR=$PREFIX::2
NS2=tern-${TERN_NS_TAG:+$TERN_NS_TAG-}dad6h-$$

sys_tap_ns tern0 192.0.2.1/24
ip netns add "$NS2" || fail "cannot create namespace $NS2"
sys_on_exit "ip netns del '$NS2' 2>/dev/null"
# The bridge: the TAP and a veth end in the router namespace.
ip -n "$NS" addr flush dev "$TAP"
ip -n "$NS" link add br0 type bridge
ip -n "$NS" link set "$TAP" master br0
ip -n "$NS" link add vrt type veth peer name vhost netns "$NS2"
ip -n "$NS" link set vrt master br0
nsx sysctl -qw net.ipv6.conf.br0.disable_ipv6=0
nsx sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$NS" link set vrt up
ip -n "$NS" link set br0 up
ip -n "$NS" -6 addr add "$PREFIX::1/64" dev br0 nodad
ip -n "$NS2" link set lo up
ip -n "$NS2" link set vhost up
ip -n "$NS2" -6 addr add "$HOST_ADDR/64" dev vhost nodad
ip -n "$NS2" -6 addr add "$TERN_GLOBAL/64" dev vhost nodad
ip -n "$NS2" -6 addr add "$STATIC_DUP/64" dev vhost nodad
echo "== setup: bridge br0 in $NS (TAP $TAP, veth to $NS2); $NS2 holds $TERN_GLOBAL and $STATIC_DUP"
cat >"$TMP/radvd.conf" <<EOT
interface br0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    prefix $PREFIX::/64 {
        AdvOnLink on;
        AdvAutonomous on;
    };
};
EOT
nsx radvd -n -C "$TMP/radvd.conf" -p "$TMP/radvd.pid" -m stderr >"$TMP/radvd.log" 2>&1 &
sys_on_exit "kill \$(cat '$TMP/radvd.pid' 2>/dev/null) 2>/dev/null"
# The second host's link-local address out of DAD first: its MLD reports
# then tell the bridge where its groups are.
for ((i = 0; i < 100; i++)); do
    ip -n "$NS2" -6 addr show dev vhost | grep -q tentative || break
    sleep 0.1
done

start_demo "$TMP/demo.log" --ipv6 --mac "$TERN_MAC" --ip6 "$STATIC_DUP/64" --ip6 "$STATIC_OK/64"
wait_demo_start "$TMP/demo.log"
wait_for "$TMP/demo.log" "duplicate address detected, refusing $STATIC_DUP" 20 ||
    fail "tern did not detect the static duplicate $STATIC_DUP"
wait_for "$TMP/demo.log" "duplicate address detected, refusing $TERN_GLOBAL" 30 ||
    fail "tern did not detect the SLAAC duplicate $TERN_GLOBAL"
wait_for "$TMP/demo.log" "ipv6: address $STATIC_OK ready" 10 || fail "no $STATIC_OK"
wait_for "$TMP/demo.log" "ipv6: address $TERN_LL ready" 10 || fail "no link-local address"
grep -E 'ipv6: ' "$TMP/demo.log"
grep -qE "ipv6: address ($TERN_GLOBAL|$STATIC_DUP) ready" "$TMP/demo.log" && fail "tern took a duplicate address anyway"
pass "tern logged and refused both duplicates ($TERN_GLOBAL from SLAAC, $STATIC_DUP static)"

echo "== the other addresses still answer the second host"
ip netns exec "$NS2" ping -6 -n -c 3 -w 10 -i 0.2 "$STATIC_OK" >"$TMP/ping-ok.log" 2>&1
grep -q ' 3 received, 0% packet loss' "$TMP/ping-ok.log" || fail "ping $STATIC_OK: $(grep transmitted "$TMP/ping-ok.log")"
ip netns exec "$NS2" ping -6 -n -c 3 -w 10 -i 0.2 "$TERN_LL%vhost" >"$TMP/ping-ll.log" 2>&1
grep -q ' 3 received, 0% packet loss' "$TMP/ping-ll.log" || fail "ping $TERN_LL: $(grep transmitted "$TMP/ping-ll.log")"
pass "$STATIC_OK and $TERN_LL answer the second host"

demo_report "$TMP/demo.log" && wait_for "$TMP/demo.log" "^== driver " 5 || fail "no SIGUSR2 report"
grep -qE "^$TERN_GLOBAL/64 +duplicate" "$TMP/demo.log" || fail "the report does not show $TERN_GLOBAL as duplicate"
grep -qE "^$STATIC_DUP/64 +duplicate" "$TMP/demo.log" || fail "the report does not show $STATIC_DUP as duplicate"
grep -qE "^($TERN_GLOBAL|$STATIC_DUP)/64 +(preferred|deprecated|tentative)" "$TMP/demo.log" &&
    fail "the report lists a duplicate as usable"
[ "$(counter "$TMP/demo.log" nd.dad_conflicts)" = 2 ] || fail "nd.dad_conflicts is $(counter "$TMP/demo.log" nd.dad_conflicts), not 2"
stop_demo || fail "tern-demo exited with an error"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "report: both duplicate, nd.dad_conflicts 2; clean exit"
