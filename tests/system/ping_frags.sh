#!/bin/bash
# System test: IPv4 reassembly (RFC 1122 3.3.2) in tern-demo against the
# Linux kernel, on a TAP in a namespace this script creates (tern-frags-PID)
# and always removes; 192.0.2.0/24 only. Needs root, /dev/net/tun and scapy
# under /usr/bin/python3 (exit 77 = skip otherwise).
#
# Checks: (a) Linux's own fragmented pings (ping -s 3000 and -s 5000; Linux
# sends the fragments in order) are all answered with the request's data;
# (b) echo requests of 3000 and 5000 bytes cut by scapy into 1000-byte
# fragments and sent in order, reversed and middle first are answered (the
# reply, itself in fragments, reassembled by scapy: type 0, same id, seq and
# data); overlapping fragments are not (counted as reass_overlap); (c)
# tern's counters agree (reass_ok, frag_tx, nothing timed out or evicted)
# and the heap and buffers are back at their start values; SIGTERM exits
# cleanly with an empty ledger.
. "$(dirname "$0")/lib/common.sh"
sys_init frags
sys_require ping tcpdump
sys_require_demo
PY=/usr/bin/python3
"$PY" -c 'import scapy.all' 2>/dev/null || skip "scapy not installed for $PY"
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
TERN_MAC=02:74:65:72:6e:46

sys_tap_ns ternfr0 "$LINUX_IP/24"
echo "== setup: namespace $NS, TAP $TAP with $LINUX_IP/24 on the Linux side"
start_demo "$TMP/demo.log" --ip "$TERN_IP/24" --mac "$TERN_MAC"
wait_demo_start "$TMP/demo.log"
nsx ping -n -c 1 -w 5 "$TERN_IP" >/dev/null || fail "tern does not answer an ordinary ping"

echo "== (a) Linux pings tern with 3000 and 5000 data bytes (fragmented by Linux, in order)"
for size in 3000 5000; do
    nsx ping -n -c 5 -w 10 -i 0.05 -s "$size" -p a55a0f "$TERN_IP" >"$TMP/ping-$size.log" 2>&1
    tail -n 2 "$TMP/ping-$size.log"
    grep -qi 'wrong data byte' "$TMP/ping-$size.log" && fail "ping -s $size: wrong data bytes in a reply"
    grep -q ' 5 received, 0% packet loss' "$TMP/ping-$size.log" || fail "ping -s $size: not all 5 answered"
    [ "$(grep -c "^$((size + 8)) bytes from $TERN_IP" "$TMP/ping-$size.log")" = 5 ] ||
        fail "ping -s $size: replies not $((size + 8)) bytes"
done
pass "ping -s 3000 and -s 5000: 5/5 replies each, data identical"

echo "== (b) crafted fragment orders (scapy): in order, reversed, middle first; overlapping"
nsx "$PY" - "$TAP" "$LINUX_IP" "$TERN_IP" "$TERN_MAC" >"$TMP/scapy.log" 2>&1 <<'PY' || { cat "$TMP/scapy.log"; fail "crafted fragment orders"; }
import sys, time
from scapy.all import (ICMP, IP, AsyncSniffer, Ether, Raw, conf, defragment, fragment, get_if_hwaddr,
                       sendp)
conf.verb = 0
tap, lip, tip, tmac = sys.argv[1:5]
smac = get_if_hwaddr(tap)
orders = {
    "in order": lambda f: f,
    "reversed": lambda f: f[::-1],
    "middle first": lambda f: f[len(f) // 2:] + f[:len(f) // 2],
}
sniffer = AsyncSniffer(iface=tap, filter="ip src %s" % tip, store=True)
sniffer.start()
time.sleep(1.0)
sent = {}
seq = 0
for size in (3000, 5000):
    for name, order in orders.items():
        seq += 1
        data = bytes((i * 13 + seq) & 0xFF for i in range(size))
        pkt = IP(src=lip, dst=tip, id=0x4100 + seq) / ICMP(type=8, id=0x7E57, seq=seq) / Raw(data)
        frags = fragment(pkt, fragsize=1000)
        assert len(frags) >= 4, len(frags)
        for fr in order(frags):
            sendp(Ether(src=smac, dst=tmac) / fr, iface=tap)
        sent[seq] = (size, name, data)
        time.sleep(0.3)
# Overlap: the second fragment starts 8 bytes inside the first (RFC 1858
# evasion); the datagram must be dropped, not answered.
seq += 1
data = bytes(2000)
pkt = IP(src=lip, dst=tip, id=0x4200) / ICMP(type=8, id=0x7E57, seq=seq) / Raw(data)
raw = bytes(pkt[ICMP])
first = IP(src=lip, dst=tip, id=0x4200, proto=1, flags="MF", frag=0) / Raw(raw[:1000])
second = IP(src=lip, dst=tip, id=0x4200, proto=1, frag=(1000 - 8) // 8) / Raw(raw[1000 - 8:])
for fr in (first, second):
    sendp(Ether(src=smac, dst=tmac) / fr, iface=tap)
overlap_seq = seq
time.sleep(1.5)
sniffer.stop()
got = {}
frags_seen = 0
packets = [p for p in sniffer.results if IP in p]
frags_seen = sum(1 for p in packets if p[IP].flags.MF or p[IP].frag)
for p in defragment(packets):
    if IP in p and ICMP in p and p[ICMP].type == 0 and p[ICMP].id == 0x7E57:
        got[p[ICMP].seq] = bytes(p[ICMP].payload)
ok = True
for s, (size, name, data) in sent.items():
    reply = got.get(s)
    if reply is None:
        print("FAIL: %d bytes %s: no reply" % (size, name))
        ok = False
    elif reply != data:
        print("FAIL: %d bytes %s: reply data differs (%d bytes)" % (size, name, len(reply)))
        ok = False
    else:
        print("ok: %d bytes, fragments %s: answered, data identical" % (size, name))
if overlap_seq in got:
    print("FAIL: the overlapping datagram was answered")
    ok = False
print("reply fragments seen: %d" % frags_seen)
if frags_seen < 2 * len(sent):
    print("FAIL: replies were not fragmented")
    ok = False
sys.exit(0 if ok else 1)
PY
cat "$TMP/scapy.log"
pass "crafted orders answered (6 datagrams of 3000 and 5000 bytes), the overlapping one dropped"

echo "== (c) counters and memory"
demo_report "$TMP/demo.log" || fail "no report after SIGUSR2"
grep -E '^ipv4\.(frag_rx|frag_tx|reass_[a-z_]+) ' "$TMP/demo.log" | tail -n 9 | tr -s ' '
ok=$(counter "$TMP/demo.log" ipv4.reass_ok)
ftx=$(counter "$TMP/demo.log" ipv4.frag_tx)
ovl=$(counter "$TMP/demo.log" ipv4.reass_overlap)
tmo=$(counter "$TMP/demo.log" ipv4.reass_timeout)
ev=$(counter "$TMP/demo.log" ipv4.reass_evicted)
# 10 from (a), 6 from (b).
[ "${ok:-0}" -ge 16 ] || fail "reass_ok ${ok:-?}, expected at least 16"
[ "${ftx:-0}" -ge 32 ] || fail "frag_tx ${ftx:-?}, expected at least 32"
[ "${ovl:-0}" -ge 1 ] || fail "reass_overlap ${ovl:-?}, expected 1"
[ "${tmo:-1}" = 0 ] && [ "${ev:-1}" = 0 ] || fail "reass_timeout ${tmo:-?}, reass_evicted ${ev:-?}: expected 0"
pass "reass_ok $ok, frag_tx $ftx, reass_overlap $ovl, no timeouts or evictions"
check_memory "$TMP/demo.log" "after the fragments"
stop_demo || fail "tern-demo exited with $? after SIGTERM"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "SIGTERM: exit 0, ledger empty"
echo "PASS: all checks in $(( $(date +%s) - START )) s"
