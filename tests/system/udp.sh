#!/bin/bash
# System test: UDP through tern-demo on a TAP device, against the Linux kernel.
#
# Everything happens inside a network namespace this script creates
# (tern-udp-PID) and always removes; addresses are from 192.0.2.0/24
# (TEST-NET-1), so nothing leaves the machine. Needs root and /dev/net/tun
# (exit 77 = skip otherwise). TERN_DEMO is the tern-demo binary; the Linux
# side is tests/system/udp_peer.py run with /usr/bin/python3.
#
# Checks: (a) Linux sends 3000 datagrams of sizes 0..1472 to tern's echo
# service (port 7, RFC 862), one at a time, and 2000 more four at a time;
# every echo is byte-identical; (b) a datagram to a closed port comes back as
# ICMP port unreachable (ECONNREFUSED on a connected Linux socket); (c) heap
# and network buffers are back at their start values, the counters agree,
# SIGTERM exits cleanly with an empty ledger; (d) tern sends 2000 datagrams
# of sizes 0..1472 to a Linux echo server (--udp-send) and gets every one
# back byte-identical, memory again back at its start values.
. "$(dirname "$0")/lib/common.sh"
sys_init udp
sys_require_demo
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY not installed"
HERE=$(cd "$(dirname "$0")" && pwd)
PEER="$HERE/udp_peer.py"
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
ECHO_PID=""
sys_on_exit '[ -n "$ECHO_PID" ] && kill -KILL "$ECHO_PID" && wait "$ECHO_PID"'

sys_tap_ns tern0 "$LINUX_IP/24"
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 on the Linux side"

start_demo "$TMP/demo.log" --ip "$TERN_IP/24"
wait_for "$TMP/demo.log" '^memory \(start\):' 5 || fail "tern-demo did not start"
grep -qE '^tern-demo: UDP echo service on port 7' "$TMP/demo.log" || fail "no UDP echo service"
grep -E '^memory \(start\)' "$TMP/demo.log"

echo "== (a) Linux -> tern echo (port 7): 3000 datagrams one at a time, 2000 four at a time"
nsx "$PY" "$PEER" client "$TERN_IP" 7 3000 1 >"$TMP/client1.log" 2>&1
rc=$?
cat "$TMP/client1.log"
[ "$rc" = 0 ] || fail "stop-and-wait run failed"
grep -q '3000/3000 echoed byte-identical, 0 corrupted' "$TMP/client1.log" || fail "not every echo was identical"
nsx "$PY" "$PEER" client "$TERN_IP" 7 2000 4 >"$TMP/client4.log" 2>&1
rc=$?
cat "$TMP/client4.log"
[ "$rc" = 0 ] || fail "windowed run failed"
grep -q '2000/2000 echoed byte-identical, 0 corrupted' "$TMP/client4.log" || fail "not every echo was identical"
pass "5000/5000 echoes byte-identical, sizes 0..1472"

echo "== (b) a closed port answers ICMP port unreachable"
nsx "$PY" "$PEER" refused "$TERN_IP" 4242 >"$TMP/refused.log" 2>&1 || { cat "$TMP/refused.log"; fail "no port unreachable"; }
cat "$TMP/refused.log"
pass "port unreachable reaches the Linux socket as ECONNREFUSED"

echo "== (c) memory back at baseline, counters, clean exit"
check_memory "$TMP/demo.log" "echo service"
kill -USR2 "$DEMO_PID"
wait_for "$TMP/demo.log" '^== driver ' 5 || fail "no full report after SIGUSR2"
grep -E '^udp\.' "$TMP/demo.log" | tr -s ' '
rx=$(counter "$TMP/demo.log" udp.rx)
delivered=$(counter "$TMP/demo.log" udp.delivered)
tx=$(counter "$TMP/demo.log" udp.tx)
noport=$(counter "$TMP/demo.log" udp.drop_no_port)
[ "${noport:-x}" = 1 ] || fail "udp.drop_no_port is ${noport:-missing}, expected 1 (the closed-port probe)"
[ "${rx:-0}" -ge 5000 ] && [ "$delivered" -ge 5000 ] && [ "$tx" = "$delivered" ] ||
    fail "udp counters: rx $rx delivered $delivered tx $tx"
for c in drop_truncated drop_len drop_checksum; do
    [ "$(counter "$TMP/demo.log" "udp.$c")" = 0 ] || fail "udp.$c is not 0"
done
stop_demo
rc=$?
[ "$rc" = 0 ] || fail "tern-demo exited with $rc after SIGTERM"
grep -E '^udp echo:|^ledger check' "$TMP/demo.log"
grep -qE "^udp echo: $tx datagrams echoed, 0 errors" "$TMP/demo.log" || fail "echo thread totals"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "udp.rx $rx, delivered $delivered, echoed $tx, no malformed input; SIGTERM: exit 0, ledger empty"

echo "== (d) tern -> Linux echo: --udp-send $LINUX_IP:7777 --count 2000"
ip netns exec "$NS" "$PY" "$PEER" echo "$LINUX_IP" 7777 >"$TMP/linux-echo.log" 2>&1 &
ECHO_PID=$!
wait_for "$TMP/linux-echo.log" '^echo: listening' 5 || fail "Linux echo server did not start"
start_demo "$TMP/demo-send.log" --ip "$TERN_IP/24" --udp-send "$LINUX_IP:7777" --count 2000 --stay
wait_for "$TMP/demo-send.log" '^--- udp-send' 120 || fail "--udp-send did not finish"
sleep 0.2
grep -A1 -E '^--- udp-send' "$TMP/demo-send.log"
grep -qE '^2000 sent, 2000 echoed, 0 corrupted' "$TMP/demo-send.log" || fail "tern did not get 2000 identical echoes"
check_memory "$TMP/demo-send.log" "after --udp-send"
stop_demo
rc=$?
[ "$rc" = 0 ] || fail "tern-demo --udp-send exited with $rc"
grep -q '^ledger check after deinit: empty' "$TMP/demo-send.log" || fail "ledger not empty after deinit"
kill -TERM "$ECHO_PID"
wait "$ECHO_PID"
ECHO_PID=""
cat "$TMP/linux-echo.log" | tail -n 1
n=$(sed -nE 's/^echo: ([0-9]+) datagrams echoed/\1/p' "$TMP/linux-echo.log")
[ "${n:-0}" -ge 2000 ] || fail "the Linux echo server saw ${n:-0} datagrams"
pass "tern -> Linux: 2000/2000 echoes byte-identical; exit 0, ledger empty"

echo "== bad --udp-send values: usage and exit status 2"
for args in "--udp-send $LINUX_IP" "--tap $TAP --ip $TERN_IP/24 --udp-send $LINUX_IP:0" \
    "--tap $TAP --ip $TERN_IP/24 --udp-send $LINUX_IP:70000" "--tap $TAP --ip $TERN_IP/24 --udp-send :7" \
    "--tap $TAP --ip $TERN_IP/24 --udp-send $LINUX_IP:7 --ping $LINUX_IP"; do
    rc=0
    # shellcheck disable=SC2086 # word splitting intended
    "$DEMO" $args >"$TMP/usage.log" 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "tern-demo $args: exit $rc, expected 2"
done
pass "5 malformed --udp-send command lines refused, exit 2"

echo "PASS: all checks in $(( $(date +%s) - START )) s"
