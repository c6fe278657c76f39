#!/bin/bash
# System test: a SYN flood from spoofed ON-LINK sources that never answer
# ARP (issue 17). tern-demo on a TAP in a namespace; the Linux kernel is the
# real peer.
#
# An echo transfer (port 7) is started from Linux first and runs through
# the whole test, every byte checked. Then scapy sends SPOOF_SYNS (600) SYNs
# from random addresses in 192.0.2.100-250 (nobody holds them: tern's ARP
# requests for its SYN-ACKs go unanswered) and random ports, in bursts over
# a few seconds; right after the first burst a new Linux client connects
# and echoes 64 bytes, and must succeed at once (within 2.5 s, before
# Linux's first SYN retransmission would matter twice).
# Throughout (a SIGUSR2 report every 0.3 s): tern's ARP cache keeps
# Linux's entry resolved (192.0.2.1), the incomplete entries stay within
# TERN_ARP_MAX_INCOMPLETE, half-open connections within TERN_TCP_SYN_MAX,
# heap use within the start plus (TERN_TCP_SYN_MAX + 4) connections. At the
# end: SYN cookies were sent (tcp.syncookies_sent > 0), no half-open
# connection was evicted (tcp.syn_evicted = 0: a build without cookies
# fails here), no resolved ARP entry was evicted (arp.evicted = 0), the
# transfer completed byte-exact, and memory returns to the start.
#
# Namespace tern-floodsp-PID, created and always removed; 192.0.2.0/24
# only. Needs root, /dev/net/tun, timeout and scapy for /usr/bin/python3
# (exit 77 = skip otherwise).
. "$(dirname "$0")/lib/common.sh"
sys_init floodsp
sys_require timeout
sys_require_demo
PY=/usr/bin/python3
"$PY" -c 'import scapy.all' 2>/dev/null || skip "scapy not installed for $PY (python3-scapy)"
SRC=${TERN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SPOOF_SYNS=${TERN_SPOOF_SYNS:-600}
LINUX_IP=192.0.2.1
TERN_IP=192.0.2.2
SAMPLER=""
sys_on_exit '[ -n "$SAMPLER" ] && kill "$SAMPLER"'

cfg() { sed -nE "s/^#define $1 \(?([0-9]+)u?\)?$/\1/p" "$SRC/include/tern/config.h" | head -n 1; }
syn_max=$(cfg TERN_TCP_SYN_MAX)
cache=$(cfg TERN_ARP_CACHE_SIZE)
[ -n "$syn_max" ] && [ -n "$cache" ] || fail "TERN_TCP_SYN_MAX or TERN_ARP_CACHE_SIZE not found in config.h"
max_incomplete=$(( (cache + 1) / 2 )) # TERN_ARP_MAX_INCOMPLETE's default

sys_tap_ns ternfs "$LINUX_IP/24"
echo "== setup: namespace $NS, TAP $TAP, Linux $LINUX_IP, tern $TERN_IP"
start_demo "$TMP/demo.log" --ip "$TERN_IP/24"
wait_demo_start "$TMP/demo.log"
DPID=$DEMO_PID
nsx ping -c 1 -W 2 "$TERN_IP" >/dev/null || fail "tern does not answer ping"
TERN_MAC=$(nsx ip neigh show "$TERN_IP" dev "$TAP" | awk '{print $3}')
[ -n "$TERN_MAC" ] || fail "no ARP entry for tern in the namespace"

demo_report "$TMP/demo.log" || fail "no report"
used0=$(sed -nE 's/^  used +([0-9]+)$/\1/p' "$TMP/demo.log" | tail -n 1)
[ -n "$used0" ] || fail "no heap use in the report"
ring=$(( 2 * 4380 + 512 ))
bound=$(( used0 + (syn_max + 4) * ring ))
echo "bounds: incomplete ARP entries <= $max_incomplete, half-open <= $syn_max, heap use <= $bound"

nsx "$PY" - "$TERN_IP" "$TERN_MAC" "$TAP" "$SPOOF_SYNS" "$DPID" >"$TMP/client.log" 2>&1 <<'PYEOF' &
import random, socket, sys, threading, time, os, signal
tern, tern_mac, tap, nsyn, dpid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
from scapy.all import Ether, IP, TCP, sendp, conf
conf.verb = 0
rng = random.Random(17)
BLOCK = rng.randbytes(1 << 20)
def expected(off, n):
    out = bytearray()
    while n:
        i = off % len(BLOCK)
        k = min(n, len(BLOCK) - i)
        out += BLOCK[i:i + k]
        off += k
        n -= k
    return bytes(out)
stop = threading.Event()
bulk = {"sent": 0, "rcvd": 0, "bad": 0, "err": None}
def bulk_run(s):
    def sender():
        try:
            while not stop.is_set():
                s.sendall(expected(bulk["sent"], 4096))
                bulk["sent"] += 4096
                time.sleep(0.002)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            bulk["err"] = "send: %s" % e
    t = threading.Thread(target=sender)
    t.start()
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            if b != expected(bulk["rcvd"], len(b)):
                bulk["bad"] += 1
            bulk["rcvd"] += len(b)
    except OSError as e:
        bulk["err"] = "recv: %s" % e
    t.join()
    s.close()
s = socket.create_connection((tern, 7), timeout=5)
s.settimeout(60)
tb = threading.Thread(target=bulk_run, args=(s,))
tb.start()
time.sleep(1.5)
print("bulk: %d bytes echoed before the flood" % bulk["rcvd"], flush=True)
def syns(n):
    return [Ether(dst=tern_mac, src="02:00:5e:%02x:%02x:%02x" % (rng.randrange(256), rng.randrange(256), rng.randrange(256))) /
            IP(src="192.0.2.%d" % rng.randrange(100, 251), dst=tern) /
            TCP(sport=rng.randrange(1024, 65535), dport=7, flags="S", seq=rng.randrange(1 << 32),
                options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (rng.randrange(1 << 32), 0)), ("WScale", 7)])
            for _ in range(n)]
bursts = 4
per = nsyn // bursts
status = 0
t0 = time.time()
sendp(syns(per), iface=tap)
print("flood: burst 1, %d SYNs in %.2f s" % (per, time.time() - t0), flush=True)
# A new connection from the real peer at once.
t1 = time.time()
try:
    c = socket.create_connection((tern, 7), timeout=2.5)
    c.settimeout(3)
    c.sendall(b"x" * 64)
    c.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = c.recv(4096)
        if not b:
            break
        got += b
    c.close()
    ok = got == b"x" * 64
    print("new connection during the flood: %s in %.2f s" % ("echoed" if ok else "WRONG ECHO", time.time() - t1), flush=True)
    if not ok:
        status = 1
except OSError as e:
    print("RESULT new connection during the flood failed after %.2f s: %s" % (time.time() - t1, e), flush=True)
    status = 1
for k in range(2, bursts + 1):
    sendp(syns(per), iface=tap)
    print("flood: burst %d sent (%.1f s)" % (k, time.time() - t0), flush=True)
    time.sleep(0.5)
time.sleep(1.0)
stop.set()
tb.join(60)
print("bulk: sent %d received %d mismatched chunks %d error %s" % (bulk["sent"], bulk["rcvd"], bulk["bad"], bulk["err"]), flush=True)
if bulk["err"] or bulk["bad"] or bulk["rcvd"] != bulk["sent"] or bulk["sent"] == 0:
    print("RESULT the established transfer did not complete byte-exact", flush=True)
    status = 1
sys.exit(status)
PYEOF
CLIENT=$!

# Sample tern's report while the client and the flood run.
( while kill -0 "$CLIENT" 2>/dev/null; do kill -USR2 "$DPID" 2>/dev/null || exit 0; sleep 0.3; done ) &
SAMPLER=$!
rc=0
wait "$CLIENT" || rc=$?
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
SAMPLER=""
cat "$TMP/client.log"
demo_report "$TMP/demo.log" || fail "no report after the flood"

# Every sampled report: Linux's ARP entry resolved, incomplete entries,
# half-open connections and heap use within their bounds.
awk -v bound="$bound" -v synmax="$syn_max" -v maxinc="$max_incomplete" -v peer="$LINUX_IP" '
    /^== sockets and tcp/ { half = 0; intcp = 1 }
    intcp && /^tcp SYN-RECEIVED/ { half++ }
    /^== memory/ { intcp = 0; if (half > maxh) maxh = half }
    /^  used +[0-9]+$/ { u = $2 + 0; if (u > maxu) maxu = u }
    /^== arp cache/ { inarp = 1; inc = 0; have = 0; n++; next }
    inarp && /^== / {
        inarp = 0
        if (inc > maxi) maxi = inc
        if (!have) lost++
    }
    inarp && $1 == peer && ($3 == "resolved" || $3 == "refreshing") { have = 1 }
    inarp && $3 == "pending" { inc++ }
    END {
        printf "reports: %d; Linux entry missing in %d; incomplete ARP entries at most %d (bound %d); half-open at most %d (bound %d); heap use at most %d (bound %d)\n", n, lost, maxi, maxinc, maxh, synmax, maxu, bound
        exit (n >= 5 && lost == 0 && maxi <= maxinc && maxh <= synmax && maxu <= bound) ? 0 : 1
    }' "$TMP/demo.log" || { FAILED=1; echo "FAIL: an ARP, half-open or memory bound was broken during the flood"; }

cookies=$(counter "$TMP/demo.log" tcp.syncookies_sent)
accepted=$(counter "$TMP/demo.log" tcp.syncookies_accepted)
syn_evicted=$(counter "$TMP/demo.log" tcp.syn_evicted)
arp_evicted=$(counter "$TMP/demo.log" arp.evicted)
inc_evicted=$(counter "$TMP/demo.log" arp.incomplete_evicted)
q_evicted=$(counter "$TMP/demo.log" arp.queue_evicted)
echo "counters: tcp.syncookies_sent ${cookies:-?} accepted ${accepted:-?}, tcp.syn_evicted ${syn_evicted:-?}," \
    "arp.evicted ${arp_evicted:-?}, arp.incomplete_evicted ${inc_evicted:-?}, arp.queue_evicted ${q_evicted:-?}"
[ "$rc" = 0 ] || fail "client: $(grep '^RESULT' "$TMP/client.log" | tr '\n' ' ')"
[ "$FAILED" = 0 ] || fail "bounds during the flood"
[ "${cookies:-0}" -gt 0 ] || fail "no SYN cookie sent: the flood did not fill the half-open table, or cookies are off"
[ "${syn_evicted:-1}" = 0 ] || fail "$syn_evicted half-open connections evicted by the flood"
[ "${arp_evicted:-1}" = 0 ] || fail "$arp_evicted resolved ARP entries evicted by the flood"
[ "${inc_evicted:-0}" -gt 0 ] || fail "no incomplete ARP entry recycled: the flood did not reach ARP"
pass "spoofed on-link SYN flood: transfer byte-exact, new connection at once, ARP and half-open bounded"

echo "== memory back at the start"
check_memory "$TMP/demo.log" "after the flood" 120
rc=0
stop_demo || rc=$?
[ "$rc" = 0 ] || fail "tern-demo exited with $rc"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
pass "heap back at the start; SIGTERM: exit 0, ledger empty"
echo "PASS"
