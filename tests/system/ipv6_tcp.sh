#!/bin/bash
# System test: TCP over IPv6 through tern-demo --ipv6 on a TAP device,
# against the Linux kernel.
#
# Two namespaces this script creates and always removes: tern-ipv6_tcp-PID
# (Linux on tern's link and its router: radvd advertising 2001:db8:1::/64,
# forwarding on) and tern-ipv6_tcp-PID-far (a host on 2001:db8:2::/64 behind
# a veth link of MTU 1280 whose route advertises MSS 1440, so that tern's
# full-sized segments meet the small link at the router). Documentation
# prefixes only (RFC 3849), IPv4 192.0.2.0/24. Needs root, /dev/net/tun,
# radvd, nc, socat, curl (exit 77 = skip otherwise).
#
# Checks: (a) tern's SLAAC address; (b) 100 MB through the echo service
# over IPv6 (100 MB each way), SHA-256 equal, and the same listener still
# answers over IPv4 (dual stack); (c) chargen (RFC 864 pattern) and discard,
# 20 MB each, over IPv6; (d) curl -6 of the dashboard and /api/stats, whose
# connection rows show the IPv6 peer; (e) the far host echoes 8 MB through
# the router: tern's 1500-byte packets draw Packet Too Big from the 1280
# link, tern lowers the connection's MSS (tcp.icmp_pmtu) and the transfer
# completes byte-exact; (f) memory back, clean exit; (g) tern as the client:
# 20 MB each way to a Linux echo server (socat) over IPv6, checked byte for
# byte.
. "$(dirname "$0")/lib/common.sh"
sys_init ipv6_tcp
sys_require radvd nc socat curl sha256sum
sys_require_demo
TERN_IP=192.0.2.2
TERN_MAC=02:74:65:72:6e:44
PREFIX=2001:db8:1
TERN_GLOBAL=$PREFIX:0:74:65ff:fe72:6e44 # RFC 5952 text, as tern logs it
ROUTER_GLOBAL=$PREFIX::1
FAR_NET=2001:db8:2
FAR=$FAR_NET::2
FAR_NS=$NS-far
BIG=${TERN_IPV6_TCP_BYTES:-100000000}

sha() { sha256sum | cut -d' ' -f1; }

sys_tap_ns tern0 192.0.2.1/24
ip -n "$NS" -6 addr add "$ROUTER_GLOBAL/64" dev "$TAP" nodad 2>/dev/null
ip netns add "$FAR_NS" || fail "cannot create namespace $FAR_NS"
sys_on_exit "ip netns pids '$FAR_NS' | xargs -r kill -KILL; ip netns del '$FAR_NS'"
ip -n "$FAR_NS" link set lo up
ip -n "$NS" link add rt0 type veth peer name far0 netns "$FAR_NS" || fail "cannot create the veth pair"
ip -n "$NS" link set rt0 mtu 1280 up
ip -n "$FAR_NS" link set far0 mtu 1280 up
ip -n "$NS" -6 addr add "$FAR_NET::1/64" dev rt0 nodad
ip -n "$FAR_NS" -6 addr add "$FAR/64" dev far0 nodad
# advmss 1440: the far host offers tern the MSS of a 1500-byte path.
ip -n "$FAR_NS" -6 route add default via "$FAR_NET::1" dev far0 advmss 1440
farx() { ip netns exec "$FAR_NS" "$@"; }
sys_radvd6 "$PREFIX"
ip -n "$NS" -6 addr add "$ROUTER_GLOBAL/64" dev "$TAP" nodad 2>/dev/null
echo "== setup: $NS ($TAP: $ROUTER_GLOBAL/64; rt0: $FAR_NET::1/64, MTU 1280), far host $FAR_NS ($FAR)"

start_demo "$TMP/demo.log" --ipv6 --ip "$TERN_IP/24" --mac "$TERN_MAC" --tcp-buf 65536 --tcp-heap 16000000
wait_demo_start "$TMP/demo.log"

echo "== (a) SLAAC"
wait_for "$TMP/demo.log" "ipv6: address $TERN_GLOBAL ready" 30 || fail "no SLAAC address $TERN_GLOBAL"
pass "SLAAC: $TERN_GLOBAL"

echo "== (b) $BIG bytes through echo over IPv6 ($BIG each way), SHA-256; IPv4 on the same listener"
got=$(printf 'hello, tern6\n' | nsx timeout 10 nc -6 -N "$TERN_GLOBAL" 7)
[ "$got" = "hello, tern6" ] || fail "echo over IPv6 returned '$got'"
head -c "$BIG" /dev/urandom >"$TMP/big"
want=$(sha <"$TMP/big")
t0=$(date +%s%N)
got=$(nsx timeout 120 nc -6 -N "$TERN_GLOBAL" 7 <"$TMP/big" | sha)
t1=$(date +%s%N)
[ "$got" = "$want" ] || fail "IPv6 echo: SHA-256 differs"
ms=$(((t1 - t0) / 1000000))
rm -f "$TMP/big"
got=$(printf 'hello, tern4\n' | nsx timeout 10 nc -4 -N "$TERN_IP" 7)
[ "$got" = "hello, tern4" ] || fail "echo over IPv4 returned '$got'"
pass "$BIG bytes echoed over IPv6 in $ms ms ($((BIG * 8 / (ms > 0 ? ms : 1) / 1000)) Mbit/s each way), SHA-256 equal; IPv4 echo from the same :: listener"

echo "== (c) chargen (RFC 864) and discard over IPv6, 20 MB each"
python3 - "$TMP/chargen" <<'PYEOF'
import sys
lines = []
for l in range(95):
    lines.append(bytes(32 + (l + c) % 95 for c in range(72)) + b"\r\n")
cycle = b"".join(lines)
n = 20000000
with open(sys.argv[1], "wb") as f:
    f.write((cycle * (n // len(cycle) + 1))[:n])
PYEOF
want=$(sha <"$TMP/chargen")
got=$(nsx timeout 60 nc -6 -d "$TERN_GLOBAL" 19 | head -c 20000000 | sha)
[ "$got" = "$want" ] || fail "chargen over IPv6 differs from RFC 864's pattern"
head -c 20000000 /dev/zero | nsx timeout 60 nc -6 -N "$TERN_GLOBAL" 9 || fail "discard over IPv6: nc failed"
pass "chargen: 20 MB identical to the RFC 864 pattern; discard took 20 MB"

echo "== (d) the dashboard and /api/stats over IPv6 (curl -6 -g)"
code=$(nsx curl -6 -g -s -o "$TMP/index.html" -w '%{http_code}' --max-time 10 "http://[$TERN_GLOBAL]/")
[ "$code" = 200 ] || fail "GET / over IPv6: HTTP $code"
grep -qi '<html' "$TMP/index.html" || fail "GET / over IPv6: not the dashboard"
code=$(nsx curl -6 -g -s -o "$TMP/stats.json" -w '%{http_code}' --max-time 10 "http://[$TERN_GLOBAL]/api/stats")
[ "$code" = 200 ] || fail "GET /api/stats over IPv6: HTTP $code"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/stats.json" || fail "/api/stats is not JSON"
grep -q "\"$ROUTER_GLOBAL\"" "$TMP/stats.json" || fail "/api/stats shows no connection from $ROUTER_GLOBAL"
pass "dashboard and /api/stats over IPv6; the request's own connection listed with its IPv6 peer"

echo "== (e) the far host through the 1280 link: Packet Too Big lowers tern's MSS, 8 MB echoed"
ok=0
for ((i = 0; i < 10; i++)); do
    farx ping -6 -n -c 1 -w 2 "$TERN_GLOBAL" >/dev/null 2>&1 && { ok=1; break; }
done
[ "$ok" = 1 ] || fail "the far host never reached $TERN_GLOBAL"
head -c 8000000 /dev/urandom >"$TMP/far"
want=$(sha <"$TMP/far")
got=$(farx timeout 60 nc -6 -N "$TERN_GLOBAL" 7 <"$TMP/far" | sha)
[ "$got" = "$want" ] || fail "echo from the far host: SHA-256 differs"
rm -f "$TMP/far"
wait_for "$TMP/demo.log" "ipv6: path MTU to $FAR now 1280" 5 || fail "tern did not lower its path MTU to $FAR"
demo_report "$TMP/demo.log" && wait_for "$TMP/demo.log" "^== driver " 5 || fail "no SIGUSR2 report"
pmtu=$(counter "$TMP/demo.log" tcp.icmp_pmtu)
[ "${pmtu:-0}" -ge 1 ] || fail "tcp.icmp_pmtu is ${pmtu:-missing}"
pass "Packet Too Big from the router: path MTU 1280, tcp.icmp_pmtu $pmtu, 8 MB echoed byte-exact"

echo "== (f) counters, memory back at the start values, clean exit"
for c in tcp.drop_checksum ipv6.drop_proto; do
    v=$(counter "$TMP/demo.log" "$c")
    [ "${v:-0}" = 0 ] || fail "$c is $v"
done
check_memory "$TMP/demo.log" now 10
stop_demo
rc=$?
[ "$rc" = 0 ] || fail "tern-demo exited with $rc after SIGTERM"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "no checksum drops; SIGTERM: exit 0, ledger empty"

echo "== (g) tern as the client: 20 MB to a Linux echo server over IPv6 and back"
nsx socat "TCP6-LISTEN:7777,bind=[$ROUTER_GLOBAL],reuseaddr" EXEC:cat >"$TMP/socat.log" 2>&1 &
for ((i = 0; i < 100; i++)); do
    [ -n "$(nsx ss -Hltn "( sport = :7777 )")" ] && break
    sleep 0.1
done
[ "$i" -lt 100 ] || fail "(g) socat is not listening on [$ROUTER_GLOBAL]:7777 after 10 s"
ip netns exec "$NS" timeout 120 "$DEMO" --tap "$TAP" --ipv6 --ip "$TERN_IP/24" --mac "$TERN_MAC" --tcp-buf 65536 \
    --tcp-client "[$ROUTER_GLOBAL]:7777:20000000" >"$TMP/client.log" 2>&1 &
DEMO_PID=$!
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=""
grep -E '^tcp client|TCP client' "$TMP/client.log"
[ "$rc" = 0 ] || { tail -20 "$TMP/client.log"; fail "tern client exited with $rc"; }
grep -qE '^tcp client: sent 20000000 received 20000000 mismatches 0 error none' "$TMP/client.log" ||
    fail "tern client did not get its 20 MB back intact"
grep -q '^ledger check after deinit: empty' "$TMP/client.log" || fail "client: ledger not empty after deinit"
pass "tern -> Linux echo over IPv6: 20 MB each way, checked byte for byte, ledger empty"

echo "PASS: all checks in $(($(date +%s) - START)) s"
