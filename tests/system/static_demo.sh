#!/bin/bash
# System test: tern-demo-static (the static-only variant, TERN_STATIC_ONLY:
# no heap code linked, every allocation from fixed pools; docs/memory.md
# "Static-only build") on a TAP against the Linux kernel, in a namespace
# this script creates (tern-sdemo-PID) and always removes; addresses from
# 192.0.2.0/24. A short run (seconds):
#   (a) no tern_heap_* symbol in the binary (nm): the pools serve everything;
#   (b) Linux pings tern (small and full-size), every reply intact;
#   (c) TCP echo of 256 KB byte-exact (SHA-256);
#   (d) /api/stats says static_only 1 and carries the pool rows, with the
#       TCP rings' pools used at their peak and no failed allocation;
#   (e) the pools and network buffers are back at their start values, and
#       SIGTERM exits 0 with an empty ledger.
. "$(dirname "$0")/lib/common.sh"
sys_init sdemo
sys_require ping nc sha256sum curl nm
sys_require_demo
DEMO=${TERN_BUILD:-$(dirname "$TERN_DEMO")}/tern-demo-static
[ -x "$DEMO" ] || fail "no tern-demo-static next to tern-demo ($DEMO)"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY not installed"
TERN_IP=192.0.2.2

echo "== (a) the binary links no heap code"
heap=$(nm "$DEMO" | awk '$NF ~ /^tern_heap_/ { print $NF }' | sort -u | tr '\n' ' ')
[ -z "$heap" ] || fail "tern_heap_* symbols in tern-demo-static: $heap"
pass "no tern_heap_* symbol in tern-demo-static"

sys_tap_ns tern0 192.0.2.1/24
start_demo "$TMP/demo.log" --ip "$TERN_IP/24"
wait_demo_start "$TMP/demo.log"
grep -E '^memory \(start\):' "$TMP/demo.log"

echo "== (b) ping"
nsx ping -n -c 20 -i 0.01 -w 10 -s 56 "$TERN_IP" >"$TMP/ping.log" 2>&1 || { cat "$TMP/ping.log"; fail "ping 56"; }
nsx ping -n -c 20 -i 0.01 -w 10 -s 1472 "$TERN_IP" >>"$TMP/ping.log" 2>&1 || { cat "$TMP/ping.log"; fail "ping 1472"; }
! grep -q "wrong data" "$TMP/ping.log" || fail "a ping reply's payload differs"
pass "ping: 20 x 56 and 20 x 1472 bytes answered, payload intact"

echo "== (c) TCP echo"
head -c 262144 /dev/urandom >"$TMP/data"
want=$(sha256sum <"$TMP/data" | cut -d' ' -f1)
got=$(nsx timeout 30 nc -N "$TERN_IP" 7 <"$TMP/data" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "TCP echo: SHA-256 differs"
pass "TCP echo: 256 KB each way, SHA-256 equal"

echo "== (d) /api/stats"
nsx timeout 10 curl -sf "http://$TERN_IP/api/stats" -o "$TMP/stats.json" || fail "GET /api/stats"
"$PY" - "$TMP/stats.json" <<'PYEOF' || fail "/api/stats"
import json, sys
d = json.load(open(sys.argv[1]))
if d["config"].get("static_only") != 1:
    raise SystemExit("config.static_only is %r, want 1" % d["config"].get("static_only"))
pools = d["ledger"].get("pools")
if not pools:
    raise SystemExit("no pool rows in ledger.pools")
cats = {}
for name, slot, slots, used, peak in pools:
    if used > slots or peak > slots or used > peak:
        raise SystemExit("pool %s/%d: used %d peak %d of %d" % (name, slot, used, peak, slots))
    cats.setdefault(name, []).append(peak)
for c in ("SOCKET", "TCP_STREAM_RX", "TCP_STREAM_TX", "ARP_CACHE", "HTTP"):
    if c not in cats:
        raise SystemExit("no pool for %s: %s" % (c, sorted(cats)))
    if max(cats[c]) == 0:
        raise SystemExit("the %s pools were never used" % c)
fails = {c["name"]: c["failures"] for c in d["ledger"]["categories"] if c["failures"]}
if fails:
    raise SystemExit("failed allocations: %s" % fails)
print("ok: /api/stats: static_only 1, %d pools over %d categories, no failed allocation" % (len(pools), len(cats)))
PYEOF

echo "== (e) memory back, clean exit"
check_memory "$TMP/demo.log" "after ping, echo and /api/stats" 5
stop_demo || fail "tern-demo-static did not exit 0 on SIGTERM"
grep -E "^ledger check.* after deinit: empty" "$TMP/demo.log" || {
    tail -n 20 "$TMP/demo.log"
    fail "the ledger is not empty after deinit"
}
pass "SIGTERM: exit 0, ledger empty"
echo "PASS static_demo ($(($(date +%s) - START)) s)"
