#!/bin/bash
# System test under valgrind memcheck: tern-demo on a TAP in a namespace it
# creates (tern-vg-PID, 192.0.2.0/24, removed on exit), pinged by the Linux
# kernel with every size class, pinging Linux back (all 5 answered, none
# corrupted), then stopped with SIGTERM. Passes only with zero memcheck
# errors and no leaks.
. "$(dirname "$0")/lib/common.sh"
sys_init vg
sys_require valgrind
sys_require_demo
sys_tap_ns tern0 192.0.2.1/24

ip netns exec "$NS" valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --log-file="$TMP/vg.log" \
    "$DEMO" --tap tern0 --ip 192.0.2.2/24 --ping 192.0.2.1 --count 5 --interval 100 --stay >"$TMP/demo.log" 2>&1 &
DEMO_PID=$!
for _ in $(seq 1 300); do
    grep -q '^memory (start):' "$TMP/demo.log" 2>/dev/null && break
    sleep 0.1
done
grep -q '^memory (start):' "$TMP/demo.log" || fail "demo did not start under valgrind"

lost=0
for size in 0 1 56 100 512 1000 1400 1472; do
    out=$(ip netns exec "$NS" ping -c 5 -i 0.05 -w 10 -s "$size" 192.0.2.2 2>&1)
    echo "$out" | grep -q 'wrong data byte' && fail "corrupted reply at size $size"
    echo "$out" | grep -q ' 0% packet loss' || lost=$((lost + 1))
done
[ "$lost" = 0 ] || fail "$lost ping sizes lost replies under valgrind"
echo "ok: 40 pings of 8 sizes answered under memcheck"

# tern's own 5 pings to Linux (--ping --count 5): every one answered,
# byte-exact, before the demo is stopped.
wait_for "$TMP/demo.log" '^--- 192\.0\.2\.1 ping statistics ---' 30 || fail "tern's pings to Linux did not finish"
grep -A1 '^--- 192\.0\.2\.1 ping statistics ---' "$TMP/demo.log" | tail -n 1
grep -A1 '^--- 192\.0\.2\.1 ping statistics ---' "$TMP/demo.log" |
    grep -qE '^5 transmitted, 5 received, 0% loss, 0 corrupted, 0 duplicates' ||
    fail "tern's 5 pings to Linux were not all answered intact"
echo "ok: tern's 5 pings to Linux answered under memcheck"

kill -TERM "$DEMO_PID"
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=""
grep -E 'ERROR SUMMARY' "$TMP/vg.log"
[ "$rc" = 0 ] || fail "tern-demo under valgrind exited $rc (99: memcheck errors)"
grep -q 'ERROR SUMMARY: 0 errors' "$TMP/vg.log" || fail "memcheck reported errors"
echo "ok: zero memcheck errors, no leaks"
