#!/bin/bash
# System test: tern-demo on a TAP device, against the Linux kernel.
#
# Everything happens inside a network namespace this script creates
# (tern-ping-PID) and always removes; addresses are from 192.0.2.0/24
# (TEST-NET-1), so nothing leaves the machine. Needs root and /dev/net/tun
# (exit 77 = skip otherwise). TERN_DEMO is the tern-demo binary.
#
# Checks: (a) 1000 kernel pings of sizes 0..1472 come back byte-identical,
# (b) a flood ping loses nothing, (c) arping resolves tern's MAC, (f) the
# heap and network buffers are back at their start values and SIGTERM exits
# cleanly with an empty ledger, (e) the pcap reads back with tcpdump and
# holds the echo requests and replies, (d) tern pings Linux.
. "$(dirname "$0")/lib/common.sh"
sys_init ping
sys_require ping arping tcpdump
sys_require_demo
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
TERN_MAC=02:74:65:72:6e:42

sys_tap_ns tern0 "$LINUX_IP/24"
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 on the Linux side"

start_demo "$TMP/demo.log" --ip "$TERN_IP/24" --mac "$TERN_MAC" --pcap "$TMP/tern.pcap"
wait_for "$TMP/demo.log" '^memory \(start\):' 5 || fail "tern-demo did not start"
grep -E '^tern-demo: .* up' "$TMP/demo.log"
read -r HEAP0 BUFS0 <<<"$(mem_of "$TMP/demo.log" start)"
[ -n "${BUFS0:-}" ] || fail "cannot parse the start memory summary"
echo "baseline: heap free $HEAP0, network buffers free $BUFS0"

echo "== (a) Linux pings tern 1000 times, sizes 0..1472, patterned payloads"
# 200 sizes spread over 0..1472 (0, 1472 and the small ones included), 5
# pings each; -p varies the payload pattern per size. ping prints "wrong
# data byte" for any reply that differs from its request. -w (not -W):
# otherwise ping waits only two round trips (~0.1 ms here) for the last
# reply, and a busy machine turns a late reply into a "loss".
nsx bash -c '
    for ((i = 0; i < 200; i++)); do
        size=$(( i * 1472 / 199 ))
        pat=$(printf "%02x%02x%02x" $(( (i * 37 + 1) % 256 )) $(( (i * 11 + 90) % 256 )) $(( i % 256 )))
        echo "# size $size pattern $pat"
        ping -n -c 5 -w 10 -i 0.002 -s "$size" -p "$pat" '"$TERN_IP"'
    done' >"$TMP/ping-sizes.log" 2>&1
# With -w, ping keeps sending past -c until it has -c replies, so a slow
# round (a busy machine) adds requests beyond icmp_seq 5 and replies to
# them. Count each run's replies to icmp_seq 1..5 once; the extras must
# still be byte-identical (wrong data) and answered (the capture, below).
read -r replies full biggest extra <<EOF_COUNT
$(awk '/^# size/ { run++ }
    /^[0-9]+ bytes from/ && match($0, /icmp_seq=[0-9]+ /) {
        s = substr($0, RSTART + 9, RLENGTH - 10) + 0
        if (s < 1 || s > 5) { extra++; next }
        k = run ":" s
        if (!(k in seen)) { seen[k] = 1; n[run]++; tot++; if ($1 == 1480) big++ }
    }
    END { for (r = 1; r <= run; r++) if (n[r] == 5) full++
          print tot + 0, full + 0, big + 0, extra + 0 }' "$TMP/ping-sizes.log")
EOF_COUNT
wrong=$(grep -ci 'wrong data byte' "$TMP/ping-sizes.log")
dups=$(grep -c 'DUP!' "$TMP/ping-sizes.log")
[ "$wrong" = 0 ] || fail "$wrong replies with wrong data bytes"
[ "$dups" = 0 ] || fail "$dups duplicate replies"
[ "$extra" = 0 ] || echo "note: $extra replies to requests past icmp_seq 5 (ping -w sent more while replies were slow)"
if [ "$replies" != 1000 ] || [ "$full" != 200 ]; then
    grep -B 12 -E 'transmitted, [0-4] received' "$TMP/ping-sizes.log" | head -n 60
    fail "$replies of 1000 replies ($full of 200 runs without loss)"
fi
[ "$biggest" = 5 ] || fail "expected 5 replies of 1472 data bytes, got $biggest"
pass "1000/1000 replies, 0% loss, no wrong data bytes, no duplicates, up to 1472 data bytes"

echo "== (b) flood ping (ping -f, about 3 seconds), no loss allowed"
# Calibrate the count to the machine: a short flood first, then ~3 s.
nsx ping -n -q -f -c 2000 -w 30 "$TERN_IP" >"$TMP/flood-cal.log" 2>&1
grep -q ' 2000 received, 0% packet loss' "$TMP/flood-cal.log" || fail "calibration flood lost packets: $(grep transmitted "$TMP/flood-cal.log")"
ms=$(sed -nE 's/.* time ([0-9]+)ms.*/\1/p' "$TMP/flood-cal.log")
count=$(( 3000 * 2000 / (${ms:-1} > 0 ? ${ms:-1} : 1) ))
((count < 2000)) && count=2000
((count > 150000)) && count=150000
nsx ping -n -q -f -c "$count" -w 30 "$TERN_IP" >"$TMP/flood.log" 2>&1
summary=$(grep 'transmitted' "$TMP/flood.log")
echo "$summary"
grep -q " $count received, 0% packet loss" "$TMP/flood.log" || fail "flood ping lost packets"
flood_ms=$(sed -nE 's/.* time ([0-9]+)ms.*/\1/p' "$TMP/flood.log")
pass "flood: $count/$count replies in ${flood_ms} ms ($(( count * 1000 / (${flood_ms:-1} > 0 ? ${flood_ms:-1} : 1) )) echo round trips/s)"

echo "== (c) arping resolves tern's MAC"
nsx arping -c 3 -w 5 -I "$TAP" "$TERN_IP" >"$TMP/arping.log" 2>&1
cat "$TMP/arping.log" | grep -E 'bytes from|statistics' | head -n 4
got=$(grep -ciE "bytes from $TERN_MAC \($TERN_IP\)" "$TMP/arping.log")
[ "$got" = 3 ] || fail "arping: $got of 3 replies from $TERN_MAC"
neigh=$(ip -n "$NS" neigh show "$TERN_IP" dev "$TAP")
echo "$neigh" | grep -qi "lladdr $TERN_MAC" || fail "Linux neighbour entry is '$neigh'"
pass "arping: 3/3 replies from $TERN_MAC; Linux neighbour table agrees"

echo "== (f) memory back at baseline, clean exit"
kill -USR1 "$DEMO_PID"
wait_for "$TMP/demo.log" '^memory \(now\):' 5 || fail "no memory summary after SIGUSR1"
read -r HEAP1 BUFS1 <<<"$(mem_of "$TMP/demo.log" now)"
grep -E '^memory \((start|now)\):' "$TMP/demo.log"
[ "$HEAP1" = "$HEAP0" ] || fail "heap free $HEAP1 after the tests, $HEAP0 at start"
[ "$BUFS1" = "$BUFS0" ] || fail "network buffers free $BUFS1 after the tests, $BUFS0 at start"
kill -USR2 "$DEMO_PID"
wait_for "$TMP/demo.log" '^== driver ' 5 || fail "no full report after SIGUSR2"
grep -E '^(icmp\.echo_(rx|reply_tx)|eth\.rx_nobufs|arp\.tx_reply) ' "$TMP/demo.log" | tr -s ' '
stop_demo
rc=$?
[ "$rc" = 0 ] || fail "tern-demo exited with $rc after SIGTERM"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
grep -E '^ledger check' "$TMP/demo.log"
pass "heap free $HEAP1 = $HEAP0 and buffers free $BUFS1 = $BUFS0; SIGTERM: exit 0, ledger empty"

echo "== (e) the capture reads back with tcpdump"
tcpdump -n -r "$TMP/tern.pcap" >"$TMP/tcpdump.log" 2>"$TMP/tcpdump-err.log" || fail "tcpdump -r failed: $(cat "$TMP/tcpdump-err.log")"
requests=$(grep -c "IP $LINUX_IP > $TERN_IP: ICMP echo request" "$TMP/tcpdump.log")
answers=$(grep -c "IP $TERN_IP > $LINUX_IP: ICMP echo reply" "$TMP/tcpdump.log")
arp_replies=$(grep -ci "ARP, Reply $TERN_IP is-at $TERN_MAC" "$TMP/tcpdump.log")
# Every request ping sent (ping -w may send more than -c under load) must
# be in the capture and answered.
expected=$(cat "$TMP/ping-sizes.log" "$TMP/flood-cal.log" "$TMP/flood.log" |
    sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' | awk '{ t += $1 } END { print t + 0 }')
[ "$expected" -ge $(( 1000 + 2000 + count )) ] || fail "ping sent $expected requests, fewer than $(( 1000 + 2000 + count ))"
echo "capture: $(wc -l <"$TMP/tcpdump.log") frames, $requests echo requests, $answers echo replies, $arp_replies ARP replies"
[ "$requests" = "$expected" ] && [ "$answers" = "$expected" ] || fail "expected $expected requests and replies in the capture"
[ "$arp_replies" -ge 3 ] || fail "ARP replies missing from the capture"
pass "pcap valid: $expected echo requests and $expected replies, both directions recorded"

echo "== (d) tern pings Linux (--ping $LINUX_IP --count 5), the TAP in copy mode (--copy)"
# The TAP's carrier went down when the first demo closed it and comes back
# when this one opens it; the TAP driver waits for Linux to report the
# interface running before the stack sends anything. (a)-(c) ran the TAP
# zero-copy both ways; this runs its copy paths (docs/drivers.md: caps).
start_demo "$TMP/demo-ping.log" --ip "$TERN_IP/24" --mac "$TERN_MAC" --ping "$LINUX_IP" --count 5 --interval 100 --size 1000 --pcap "$TMP/tern-ping.pcap" --copy
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=""
grep -E 'bytes from|transmitted|ledger check' "$TMP/demo-ping.log"
if [ "$rc" != 0 ]; then
    tcpdump -n -r "$TMP/tern-ping.pcap" 2>/dev/null | head -n 20
    fail "tern-demo --ping exited with $rc"
fi
grep -q ', copy RX, copy TX, ' "$TMP/demo-ping.log" || fail "--copy: the TAP is not in copy mode"
grep -q '^5 transmitted, 5 received, 0% loss, 0 corrupted' "$TMP/demo-ping.log" || fail "tern did not get 5 identical replies"
[ "$(grep -c '^1000 bytes from 192.0.2.1: icmp_seq=' "$TMP/demo-ping.log")" = 5 ] || fail "reply lines missing"
pass "tern -> Linux: 5/5 replies byte-identical, exit 0"

echo "== (d') --stay keeps running after the pings; SIGINT exits cleanly"
start_demo "$TMP/demo-stay.log" --ip "$TERN_IP/24" --mac "$TERN_MAC" --ping "$LINUX_IP" --count 2 --interval 50 --stay
wait_for "$TMP/demo-stay.log" '^2 transmitted, 2 received' 5 || fail "--stay: no ping summary"
sleep 0.2
kill -0 "$DEMO_PID" 2>/dev/null || fail "--stay: the demo exited after its pings"
kill -INT "$DEMO_PID"
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=""
[ "$rc" = 0 ] || fail "--stay: exit $rc after SIGINT"
grep -q '^tern-demo: SIGINT, stopping' "$TMP/demo-stay.log" || fail "--stay: SIGINT not seen"
grep -q '^ledger check after deinit: empty' "$TMP/demo-stay.log" || fail "--stay: ledger not empty"
pass "--stay: still running after its pings; SIGINT: exit 0, ledger empty"

echo "== bad command lines: usage and exit status 2"
for args in "--bogus" "--tap $TAP" "--tap $TAP --ip 192.0.2.300/24" "--tap $TAP --ip $TERN_IP/24 --mac 01:00:5e:00:00:01" \
    "--tap $TAP --ip $TERN_IP/24 --ping $LINUX_IP --count 0" "--slirp --tap $TAP" "--http-port 99999" "stray"; do
    rc=0
    # shellcheck disable=SC2086 # word splitting intended
    "$DEMO" $args >"$TMP/usage.log" 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "tern-demo $args: exit $rc, expected 2"
    grep -q '^usage: tern-demo' "$TMP/usage.log" || fail "tern-demo $args: no usage text"
done
pass "8 malformed command lines refused with usage, exit 2"

echo "PASS: all checks in $(( $(date +%s) - START )) s"
