#!/bin/bash
# System test: tern's DNS client over IPv6 (AAAA, RFC 3596; servers from
# RA RDNSS, RFC 8106, or given by hand) against dnsmasq, through
# tern-demo --ipv6 on a TAP device.
#
# Everything happens inside a network namespace this script creates
# (tern-dns6-PID) and always removes. Addresses: link-local ones and
# 2001:db8:1::/64 (the documentation prefix, RFC 3849), advertised by radvd
# inside the namespace only; IPv4 192.0.2.0/24. dnsmasq listens on
# 2001:db8:1::53 only, answers from a hosts file and forwards nothing.
# Needs root, /dev/net/tun, radvd and dnsmasq (exit 77 = skip otherwise).
#
# Checks: (a) radvd advertises the prefix with RDNSS 2001:db8:1::53: tern
# learns the server and resolves www.tern.test to its AAAA record over
# UDP/IPv6 (dnsmasq's log shows the AAAA query from tern's address), a
# name dnsmasq does not know is "not found", and a name with only an A
# record has no AAAA ("not found"); (b) the server given by hand
# (--dns 2001:db8:1::53) and the report names it as static; (c) clean exit
# with an empty ledger.
. "$(dirname "$0")/lib/common.sh"
sys_init dns6
sys_require radvd dnsmasq
sys_require_demo
LINUX_IP=192.0.2.1
TERN_MAC=02:74:65:72:6e:42
PREFIX=2001:db8:1
DNS6=$PREFIX::53
WWW6=$PREFIX::80
TERN_GLOBAL=$PREFIX:0:74:65ff:fe72:6e42

sys_tap_ns tern0 "$LINUX_IP/24"
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=0"
nsx sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$NS" -6 addr add "$DNS6/64" dev "$TAP" nodad
echo "== setup: namespace $NS, TAP $TAP with $DNS6/64 on the Linux side"

cat >"$TMP/hosts" <<EOT
$WWW6 www.tern.test
198.51.100.80 www.tern.test
198.51.100.81 v4only.tern.test
EOT
nsx dnsmasq --keep-in-foreground --no-resolv --no-hosts --addn-hosts="$TMP/hosts" --listen-address="$DNS6" \
    --bind-interfaces --except-interface=lo --port=53 --log-queries --log-facility="$TMP/dnsmasq.log" \
    --pid-file="$TMP/dnsmasq.pid" --user=root --group=root --local=/tern.test/ --domain-needed &
sys_on_exit "kill \$(cat '$TMP/dnsmasq.pid' 2>/dev/null) 2>/dev/null"
cat >"$TMP/radvd.conf" <<EOT
interface $TAP {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    prefix $PREFIX::/64 {
        AdvOnLink on;
        AdvAutonomous on;
    };
    RDNSS $DNS6 {
        AdvRDNSSLifetime 600;
    };
};
EOT
nsx radvd -n -C "$TMP/radvd.conf" -p "$TMP/radvd.pid" -m stderr >"$TMP/radvd.log" 2>&1 &
sys_on_exit "kill \$(cat '$TMP/radvd.pid' 2>/dev/null) 2>/dev/null"
for ((i = 0; i < 50; i++)); do
    [ -s "$TMP/dnsmasq.pid" ] && break
    sleep 0.1
done
[ -s "$TMP/dnsmasq.pid" ] || fail "dnsmasq did not start"

echo "== (a) the server from RA RDNSS; AAAA over UDP/IPv6"
start_demo "$TMP/demo.log" --ipv6 --mac "$TERN_MAC" --resolve6 www.tern.test --resolve6 nothere.tern.test \
    --resolve6 v4only.tern.test
wait_demo_start "$TMP/demo.log"
sys_tap_v6_ready || fail "Linux's link-local address stayed tentative"
if ! wait_for "$TMP/demo.log" "^resolve6 v4only.tern.test: " 60; then
    demo_report "$TMP/demo.log"
    sleep 1
    grep -E '^ *(udp|dns|nd|ipv6|icmp6)' "$TMP/demo.log"
    fail "the lookups did not finish"
fi
grep -E '^resolve6|^dns:|ipv6: address' "$TMP/demo.log"
grep -q "^resolve6 www.tern.test: $WWW6\$" "$TMP/demo.log" || fail "www.tern.test not resolved to $WWW6"
grep -q "^resolve6 nothere.tern.test: error no such name" "$TMP/demo.log" || fail "nothere.tern.test not 'not found'"
grep -q "^resolve6 v4only.tern.test: error no such name" "$TMP/demo.log" || fail "v4only.tern.test has no AAAA: not 'not found'"
grep -qE "^dns: servers $DNS6 \(ra\)" "$TMP/demo.log" || fail "the report does not show the RDNSS server"
grep -E 'query\[AAAA\] www.tern.test from' "$TMP/dnsmasq.log" || fail "dnsmasq saw no AAAA query"
grep -qE "query\[AAAA\] www.tern.test from ($TERN_GLOBAL|fe80::74:65ff:fe72:6e42)" "$TMP/dnsmasq.log" ||
    fail "the AAAA query did not come from tern's IPv6 address"
stop_demo || fail "tern-demo exited with an error"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "RDNSS server learnt; www.tern.test -> $WWW6 over IPv6; unknown and A-only names not found"

echo "== (b) the server by hand: --dns $DNS6"
start_demo "$TMP/demo2.log" --ipv6 --mac "$TERN_MAC" --dns "$DNS6" --resolve6 www.tern.test
wait_demo_start "$TMP/demo2.log"
wait_for "$TMP/demo2.log" "^resolve6 www.tern.test: " 40 || fail "the lookup did not finish"
grep -E '^resolve6|^dns:' "$TMP/demo2.log"
grep -q "^resolve6 www.tern.test: $WWW6\$" "$TMP/demo2.log" || fail "www.tern.test not resolved with --dns"
grep -qE "^dns: servers $DNS6 \(static\)" "$TMP/demo2.log" || fail "the report does not show the static server"
stop_demo || fail "tern-demo exited with an error"
pass "--dns $DNS6: www.tern.test -> $WWW6"
