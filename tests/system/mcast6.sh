#!/bin/bash
# System test: a tern socket in an IPv6 multicast group (tern_join_group,
# MLDv2 reports, RFC 3810) and a Linux sender to the group.
#
# Two network namespaces this script creates and always removes: a bridge
# (tern-mcast6-PID: tern-demo's TAP and a veth end, MLD snooping on) and a
# Linux host (tern-mcast6h-PID: the other veth end). Addresses: link-local
# ones only, groups ff02::db8:1 and ff02::db8:2. Needs root, /dev/net/tun,
# python3 and the bridge tool (exit 77 = skip otherwise).
#
# Checks: (a) tern-demo --join6 ff02::db8:1 (its UDP echo socket joins):
# the bridge learns the group on tern's port from tern's MLDv2 report
# (bridge mdb); (b) the Linux host sends to ff02::db8:1 port 7 and gets the
# echo back from tern's link-local address; (c) to ff02::db8:2, which tern
# did not join, no echo (ipv6.drop_not_for_us counts it when the frame
# reaches tern); (d) clean exit with an empty ledger.
. "$(dirname "$0")/lib/common.sh"
sys_init mcast6
sys_require bridge
sys_require_demo
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY not installed"
TERN_MAC=02:74:65:72:6e:46
TERN_LL=fe80::74:65ff:fe72:6e46
GROUP=ff02::db8:1
OTHER=ff02::db8:2
NS2=tern-${TERN_NS_TAG:+$TERN_NS_TAG-}mcast6h-$$

sys_tap_ns tern0 192.0.2.1/24
ip netns add "$NS2" || fail "cannot create namespace $NS2"
sys_on_exit "ip netns del '$NS2' 2>/dev/null"
ip -n "$NS" addr flush dev "$TAP"
ip -n "$NS" link add br0 type bridge mcast_snooping 1
ip -n "$NS" link set "$TAP" master br0
ip -n "$NS" link add vrt type veth peer name vhost netns "$NS2"
ip -n "$NS" link set vrt master br0
ip -n "$NS" link set vrt up
ip -n "$NS" link set br0 up
ip -n "$NS2" link set lo up
ip -n "$NS2" link set vhost up
echo "== setup: bridge br0 in $NS (TAP $TAP, veth to $NS2)"

start_demo "$TMP/demo.log" --ipv6 --mac "$TERN_MAC" --join6 "$GROUP"
wait_demo_start "$TMP/demo.log"
grep -q "^tern-demo: UDP echo joined $GROUP" "$TMP/demo.log" || fail "the echo socket did not join $GROUP"
wait_for "$TMP/demo.log" "ipv6: address $TERN_LL ready" 10 || fail "no link-local address"
for ((i = 0; i < 100; i++)); do
    ip -n "$NS2" -6 addr show dev vhost | grep -q 'inet6 fe80' &&
        ! ip -n "$NS2" -6 addr show dev vhost | grep -q tentative && break
    sleep 0.1
done

echo "== (a) the bridge learns $GROUP on $TAP from tern's MLDv2 report"
for ((i = 0; i < 100; i++)); do
    bridge -n "$NS" mdb show 2>/dev/null | grep -q "port $TAP grp $GROUP" && break
    sleep 0.1
done
bridge -n "$NS" mdb show
bridge -n "$NS" mdb show | grep -q "port $TAP grp $GROUP" || fail "the bridge did not learn $GROUP on $TAP"
pass "bridge mdb: $GROUP on $TAP"

echo "== (b), (c) a Linux sender to the group and to another group"
cat >"$TMP/send.py" <<'EOT'
import socket, sys
group, ifname = sys.argv[1], sys.argv[2]
idx = socket.if_nametoindex(ifname)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
s.settimeout(1.0)
got = 0
for i in range(5):
    msg = b"tern multicast %d" % i
    s.sendto(msg, (group, 7, 0, idx))
    try:
        data, peer = s.recvfrom(2048)
        if data == msg:
            got += 1
            print("echo from", peer[0])
    except socket.timeout:
        pass
print("echoed", got)
EOT
ip netns exec "$NS2" "$PY" "$TMP/send.py" "$GROUP" vhost >"$TMP/send1.log" 2>&1
cat "$TMP/send1.log"
grep -q '^echoed 5$' "$TMP/send1.log" || fail "not every datagram to $GROUP was echoed"
grep -q "^echo from $TERN_LL" "$TMP/send1.log" || fail "the echo did not come from $TERN_LL"
pass "5 datagrams to $GROUP port 7 echoed by tern from $TERN_LL"
ip netns exec "$NS2" "$PY" "$TMP/send.py" "$OTHER" vhost >"$TMP/send2.log" 2>&1
cat "$TMP/send2.log"
grep -q '^echoed 0$' "$TMP/send2.log" || fail "tern answered on $OTHER, which it did not join"
pass "nothing echoed to $OTHER (not joined)"

stop_demo || fail "tern-demo exited with an error"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "clean exit, ledger empty"
