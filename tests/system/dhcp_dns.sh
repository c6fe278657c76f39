#!/bin/bash
# System test: tern's DHCP and DNS clients against dnsmasq.
#
# Everything happens inside a network namespace this script creates
# (tern-dhcp-PID) and always removes, with dnsmasq on the Linux side of a TAP
# and tern-demo on the other; addresses are from 192.0.2.0/24 (TEST-NET-1)
# and nothing leaves the machine. Needs root, /dev/net/tun and dnsmasq
# (Debian package dnsmasq-base); exits 77 (skip) without them. TERN_DEMO is
# the tern-demo binary.
#
# Checks: (a) tern-demo --dhcp gets a lease; its address matches dnsmasq's
# lease file (same MAC), its router and DNS server are the ones dnsmasq hands
# out, and Linux can ping the leased address; (b) --resolve answers through
# dnsmasq: host records, --address, a CNAME followed to its address, tern's
# own hostname (registered by dnsmasq from option 12), and NXDOMAIN for an
# unknown name; (c) the 2-minute lease renews at T1 (60 s): a unicast
# REQUEST and a second DHCPACK in dnsmasq's log, and the demo back in BOUND
# with the same address; (d) memory then is the start's but for the lease
# and DNS cache blocks (one each at most), and SIGTERM releases the lease
# (DHCPRELEASE in the log), exits 0 with an empty ledger; (e) bad command
# lines exit 2. About
# 75 seconds.
. "$(dirname "$0")/lib/common.sh"
sys_init dhcp
DNSMASQ=$(command -v dnsmasq 2>/dev/null || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || skip "dnsmasq not installed (Debian package dnsmasq-base, scripts/install-deps)"
sys_require_demo
LINUX_IP=192.0.2.1
TERN_MAC=02:74:65:72:6e:44
DNSMASQ_PID=""
sys_on_exit '[ -n "$DNSMASQ_PID" ] && kill -TERM "$DNSMASQ_PID" && wait "$DNSMASQ_PID"'
sys_on_exit '[ -s "$TMP/dnsmasq.pid" ] && kill -TERM "$(cat "$TMP/dnsmasq.pid")"'
sys_on_exit '[ "$FAILED" != 0 ] && [ -f "$TMP/leases" ] && { echo "---- leases"; cat "$TMP/leases"; }'

sys_tap_ns tern0 "$LINUX_IP/24"
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24, dnsmasq on it"

# 2m is dnsmasq's shortest lease: T1 = 60 s, T2 = 105 s.
# A simple command, not the nsx function: ip execs dnsmasq, so $! is dnsmasq
# itself; its pid file is the second way to find it at cleanup.
ip netns exec "$NS" "$DNSMASQ" --keep-in-foreground --pid-file="$TMP/dnsmasq.pid" --conf-file=/dev/null --no-resolv --no-hosts --user=root --group=root \
    --interface="$TAP" --except-interface=lo --bind-interfaces --listen-address="$LINUX_IP" \
    --dhcp-range=192.0.2.50,192.0.2.60,255.255.255.0,2m \
    --dhcp-option=option:router,"$LINUX_IP" --dhcp-option=option:dns-server,"$LINUX_IP" \
    --dhcp-leasefile="$TMP/leases" --dhcp-authoritative \
    --local=/test/ --host-record=alpha.test,192.0.2.10 --address=/beta.test/192.0.2.11 --cname=www.test,alpha.test \
    --log-dhcp --log-queries --log-facility="$TMP/dnsmasq.log" >"$TMP/dnsmasq-out.log" 2>&1 &
DNSMASQ_PID=$!
wait_for "$TMP/dnsmasq.log" 'DHCP, IP range 192\.0\.2\.50' 10 || fail "dnsmasq did not start"
kill -0 "$DNSMASQ_PID" 2>/dev/null || fail "dnsmasq exited"
[ "$(cat "$TMP/dnsmasq.pid" 2>/dev/null)" = "$DNSMASQ_PID" ] || fail "dnsmasq's pid is not \$! (cleanup would miss it)"

echo "== (a) tern-demo --dhcp gets a lease"
# A simple command: $! is the demo itself, so signals reach it.
ip netns exec "$NS" "$DEMO" --tap "$TAP" --dhcp --mac "$TERN_MAC" \
    --resolve alpha.test --resolve beta.test --resolve www.test --resolve tern --resolve nonexistent.test \
    >"$TMP/demo.log" 2>&1 &
DEMO_PID=$!
wait_for "$TMP/demo.log" '^memory \(start\):' 5 || fail "tern-demo did not start"
BOOKS0=$(ledger_books "$TMP/demo.log") || fail "no ledger report at the start"
wait_for "$TMP/demo.log" '^dhcp: bound ' 30 || fail "no lease within 30 s"
BOUND_AT=$(date +%s)
line=$(grep -m1 '^dhcp: bound ' "$TMP/demo.log")
echo "$line"
addr=$(sed -nE 's/^dhcp: bound ([0-9.]+)\/([0-9]+) .*/\1/p' <<<"$line")
prefix=$(sed -nE 's/^dhcp: bound ([0-9.]+)\/([0-9]+) .*/\2/p' <<<"$line")
router=$(sed -nE 's/.* router ([0-9.]+).*/\1/p' <<<"$line")
dns=$(sed -nE 's/.* dns ([0-9.,]+).*/\1/p' <<<"$line")
server=$(sed -nE 's/.* server ([0-9.]+).*/\1/p' <<<"$line")
lease=$(sed -nE 's/.* lease ([0-9]+)s t1 ([0-9]+) t2 ([0-9]+).*/\1 \2 \3/p' <<<"$line")
grep -E '^dhcp: (selecting|requesting|checking)' "$TMP/demo.log" | cut -c1-60
[ -n "$addr" ] || fail "cannot parse the bound line"
wait_for "$TMP/leases" " $addr " 5 || fail "no lease for $addr in dnsmasq's lease file"
read -r _ lmac lip lname _ < <(grep " $addr " "$TMP/leases")
echo "lease file: $lmac $lip $lname"
[ "$lmac" = "$TERN_MAC" ] || fail "lease file MAC $lmac, expected $TERN_MAC"
[ "$lip" = "$addr" ] || fail "lease file address $lip, tern has $addr"
[ "$lname" = "tern" ] || fail "lease file hostname '$lname', expected tern (option 12)"
[ "$prefix" = 24 ] || fail "prefix /$prefix, dnsmasq gives /24"
[ "$router" = "$LINUX_IP" ] || fail "router $router, dnsmasq gives $LINUX_IP"
[ "$dns" = "$LINUX_IP" ] || fail "DNS server $dns, dnsmasq gives $LINUX_IP"
[ "$server" = "$LINUX_IP" ] || fail "server identifier $server"
[ "$lease" = "120 60 105" ] || fail "lease/T1/T2 '$lease', expected 120 60 105"
grep -q "DHCPACK($TAP) $addr $TERN_MAC tern" "$TMP/dnsmasq.log" || fail "no DHCPACK for $addr in dnsmasq's log"
nsx ping -n -c 3 -w 5 "$addr" >"$TMP/ping.log" 2>&1 || fail "Linux cannot ping tern at $addr"
pass "lease $addr/24 for $TERN_MAC (hostname tern), router $router, dns $dns, lease 120 s (T1 60, T2 105); Linux pings it"

echo "== (b) --resolve through dnsmasq"
wait_for "$TMP/demo.log" '^resolve nonexistent\.test:' 30 || fail "resolutions did not finish"
grep -E '^resolve ' "$TMP/demo.log"
grep -qx 'resolve alpha.test: 192.0.2.10' "$TMP/demo.log" || fail "alpha.test (host record)"
grep -qx 'resolve beta.test: 192.0.2.11' "$TMP/demo.log" || fail "beta.test (--address)"
grep -qx 'resolve www.test: 192.0.2.10' "$TMP/demo.log" || fail "www.test (CNAME to alpha.test)"
grep -qx "resolve tern: $addr" "$TMP/demo.log" || fail "tern's own name (registered from DHCP option 12)"
grep -qE '^resolve nonexistent\.test: error .*\(ENOENT\)' "$TMP/demo.log" || fail "nonexistent.test: NXDOMAIN expected"
grep -qE "query\[A\] alpha\.test from $addr" "$TMP/dnsmasq.log" || fail "dnsmasq did not see tern's query"
grep -E '^dns: ' "$TMP/demo.log" | head -n 1
pass "A records, CNAME followed, DHCP-registered hostname, NXDOMAIN reported"

echo "== (c) the lease renews at T1 (60 s)"
left=$((BOUND_AT + 75 - $(date +%s)))
wait_for "$TMP/demo.log" '^dhcp: bound .* renewals 1$' "$left" || fail "no renewal within 75 s of binding"
grep -E '^dhcp: renewing' "$TMP/demo.log" | head -n 1 | cut -c1-80
grep -m1 -E '^dhcp: bound .* renewals 1$' "$TMP/demo.log" | grep -q "^dhcp: bound $addr/24 " || fail "renewed to another address"
acks=$(grep -c "DHCPACK($TAP) $addr $TERN_MAC" "$TMP/dnsmasq.log")
[ "$acks" -ge 2 ] || fail "dnsmasq logged $acks DHCPACKs, expected 2 (lease + renewal)"
# The renewal is unicast from the leased address (RFC 2131 4.4.5): dnsmasq
# logs the REQUEST with the client's address, not as a broadcast on the TAP.
grep -E "DHCPREQUEST\($TAP\) $addr $TERN_MAC" "$TMP/dnsmasq.log" | tail -n 1
[ "$(grep -c "DHCPREQUEST($TAP) $addr $TERN_MAC" "$TMP/dnsmasq.log")" -ge 2 ] || fail "no renewal REQUEST in dnsmasq's log"
nsx ping -n -c 1 -w 3 "$addr" >/dev/null 2>&1 || fail "tern unreachable after renewal"
pass "renewed at T1: $acks DHCPACKs, still $addr"

echo "== (d) SIGUSR2 report, memory, SIGTERM: release and clean exit"
kill -USR2 "$DEMO_PID"
wait_for "$TMP/demo.log" '^== dhcp and dns' 5 || fail "no DHCP/DNS section in the SIGUSR2 report"
wait_for "$TMP/demo.log" '^dns: servers 192\.0\.2\.1 \(dhcp\)' 5 || fail "DNS server not from DHCP in the report"
# Lease, five resolutions and a renewal later, memory is back at its start
# but for what a bound client holds by design: at most one DHCP block (the
# lease) and one DNS_CACHE block. Every other category, and the network
# buffers, must equal the start's.
BOOKS1=$(ledger_books "$TMP/demo.log") || fail "no ledger report in (d)"
awk 'NR == FNR { if ($2 == "bytes") start[$1] = $3 " " $5; else if ($1 == "netbufs_free") nb = $2; next }
     $1 == "netbufs_free" && $2 != nb { print "network buffers free " $2 ", " nb " at start"; bad = 1 }
     $2 != "bytes" { next }
     ($1 == "DHCP" || $1 == "DNS_CACHE") { if ($5 > 1) { print $1 ": " $5 " blocks (at most 1)"; bad = 1 }; next }
     start[$1] != $3 " " $5 { print $1 ": " $3 " bytes in " $5 " blocks, at start " start[$1]; bad = 1 }
     END { exit bad }' <(echo "$BOOKS0") <(echo "$BOOKS1") >"$TMP/books.diff" ||
    { cat "$TMP/books.diff"; fail "memory after lease, resolutions and renewal differs from the start"; }
echo "$BOOKS1" | grep -E '^(DHCP|DNS_CACHE) '
pass "memory: every category and the network buffers at their start values, DHCP and DNS_CACHE one block each at most"
kill -TERM "$DEMO_PID"
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=""
[ "$rc" = 0 ] || fail "tern-demo exited with $rc after SIGTERM"
grep -q '^dhcp: lease released' "$TMP/demo.log" || fail "no release message"
wait_for "$TMP/dnsmasq.log" "DHCPRELEASE\($TAP\) $addr $TERN_MAC" 5 || fail "dnsmasq saw no DHCPRELEASE"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "SIGTERM: DHCPRELEASE sent, exit 0, ledger empty"

echo "== (e) bad command lines: usage and exit status 2"
for args in "--tap $TAP --dhcp --ip 192.0.2.9/24" "--dhcp" "--resolve alpha.test" "--tap $TAP --dhcp --dns 300.1.1.1" \
    "--tap $TAP --dhcp --resolve"; do
    rc=0
    # shellcheck disable=SC2086 # word splitting intended
    "$DEMO" $args >"$TMP/usage.log" 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "tern-demo $args: exit $rc, expected 2"
    grep -q '^usage: tern-demo' "$TMP/usage.log" || fail "tern-demo $args: no usage text"
done
pass "5 malformed command lines refused with usage, exit 2"

echo "PASS: all checks in $(( $(date +%s) - START )) s"
