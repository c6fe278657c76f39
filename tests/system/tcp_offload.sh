#!/bin/bash
# System test: the TAP driver's offloads (netif.h TERN_OFFLOAD_*, IFF_VNET_HDR,
# ports/posix/tern_tap.h) in tern-demo-offload (64 KB network buffers)
# against Linux, in a namespace this script creates (tern-s1-offl-PID) and
# always removes; addresses from 192.0.2.0/24.
#
# For each of --offload none, csum,rxcsum and all: TCP echo of 1 MB
# byte-exact (SHA-256: both directions at once), TCP chargen's first 1 MB
# equal to the RFC 864 stream (tern sending), UDP echo of datagrams up to
# 1472 bytes byte-exact; then the driver's counters show what the kernel
# really did: with none no frame carried a virtio header's work; with
# checksums on, frames went out for the kernel to finish; with all, TSO
# packets larger than the MTU went out (tx_tso) and Linux handed over
# coalesced ones (rx_large). Then none again on the same (persistent) TAP:
# the features the last reader set must not stay. SIGTERM exits 0 each time.
# Input batching (tern_tap_rx, one cumulative ACK per read batch) is on in
# every case but one: all with --no-batch, where no batch may be counted.
. "$(dirname "$0")/lib/common.sh"
sys_init s1-offl
sys_require nc sha256sum
sys_require_demo
DEMO=${TERN_BUILD:-$(dirname "$TERN_DEMO")}/tern-demo-offload
[ -x "$DEMO" ] || fail "no tern-demo-offload next to tern-demo ($DEMO)"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY not installed"
TERN_IP=192.0.2.2
sys_tap_ns tern-s1-offl 192.0.2.1/24
sha() { sha256sum | cut -d' ' -f1; }

head -c 1000000 /dev/urandom >"$TMP/data"
want=$(sha <"$TMP/data")
$PY - "$TMP/cg" <<'PYEOF'
import sys
cycle = b"".join(bytes(32 + (l + c) % 95 for c in range(72)) + b"\r\n" for l in range(95))
n = 1000000
open(sys.argv[1], "wb").write((cycle * (n // len(cycle) + 1))[:n])
PYEOF
cg=$(sha <"$TMP/cg")

# field NAME LINE: the number after NAME in LINE.
field() { sed -nE "s/.*(^| )$1 ([0-9x]+).*/\2/p" <<<"$2"; }

run_case() {
    local mode=$1 extra=${2:-} got line n
    local log="$TMP/demo-$1$extra.log"
    echo "== --offload $mode $extra"
    start_demo "$log" --ip "$TERN_IP/24" --offload "$mode" $extra
    wait_demo_start "$log"
    got=$(nsx timeout 60 nc -N "$TERN_IP" 7 <"$TMP/data" | sha)
    [ "$got" = "$want" ] || fail "$mode: TCP echo: SHA-256 differs"
    got=$(nsx timeout 30 nc -d "$TERN_IP" 19 | head -c 1000000 | sha)
    [ "$got" = "$cg" ] || fail "$mode: TCP chargen differs from RFC 864's stream"
    nsx timeout 30 "$PY" - "$TERN_IP" >"$TMP/udp.log" 2>&1 <<'PYEOF' || { cat "$TMP/udp.log"; fail "$mode: UDP echo"; }
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for n in (0, 1, 100, 1000, 1472):
    d = os.urandom(n)
    s.sendto(d, (sys.argv[1], 7))
    b, _ = s.recvfrom(2048)
    if b != d:
        raise SystemExit("UDP echo of %d bytes differs" % n)
PYEOF
    n=$(grep -c '^offload ' "$log")
    demo_report "$log" || fail "$mode: no report"
    wait_for "$log" '^offload ' 5 || fail "$mode: no driver line"
    for ((i = 0; i < 40; i++)); do
        [ "$(grep -c '^offload ' "$log")" -gt "$n" ] && break
        sleep 0.05
    done
    line=$(grep '^offload ' "$log" | tail -n 1)
    BATCH=$(grep '^batch ' "$log" | tail -n 1)
    echo "$line"
    echo "$BATCH"
    stop_demo || fail "$mode: tern-demo did not exit 0"
    LINE=$line
    pass "$mode: TCP echo and chargen 1 MB exact, UDP echo exact"
}

run_case none
[ "$(field offload "$LINE")" = 0x00 ] || fail "none: offloads advertised: $LINE"
[ "$(field tx_csum "$LINE")" = 0 ] && [ "$(field tx_tso "$LINE")" = 0 ] && [ "$(field rx_large "$LINE")" = 0 ] ||
    fail "none: offload counters moved: $LINE"
pass "none: no offload used"

run_case csum,rxcsum
[ "$(field tx_csum "$LINE")" -gt 0 ] || fail "csum: no frame left its checksum to the kernel: $LINE"
[ "$(field tx_tso "$LINE")" = 0 ] && [ "$(field rx_large "$LINE")" = 0 ] || fail "csum: TSO used: $LINE"
[ "$(field rx_csum_ok "$LINE")" -gt 0 ] || fail "csum: the kernel vouched for no frame: $LINE"
pass "csum,rxcsum: checksums finished by the kernel both ways, no TSO"

run_case all
[ "$(field tx_tso "$LINE")" -gt 0 ] || fail "all: no TSO packet went out: $LINE"
[ "$(field rx_large "$LINE")" -gt 0 ] || fail "all: Linux handed over no coalesced packet: $LINE"
pass "all: TSO packets out ($(field tx_tso "$LINE")), coalesced packets in ($(field rx_large "$LINE"))"
[ "$(field batch "$BATCH")" = 1 ] && [ "$(field rx_batches "$BATCH")" -gt 0 ] || fail "all: no input batch: $BATCH"
pass "all: input batches ($(field rx_batches "$BATCH"), up to $(field rx_batch_max "$BATCH") frames)"

run_case all --no-batch
[ "$(field tx_tso "$LINE")" -gt 0 ] || fail "all --no-batch: no TSO packet went out: $LINE"
[ "$(field batch "$BATCH")" = 0 ] && [ "$(field rx_batches "$BATCH")" = 0 ] || fail "all --no-batch: batches: $BATCH"
pass "all --no-batch: one frame per input call, as before"

# The TAP keeps the kernel features the last reader asked for: a reader
# without offloads must turn them off, or Linux goes on handing it
# coalesced packets and partial checksums (this stalled both directions).
run_case none
[ "$(field rx_large "$LINE")" = 0 ] && [ "$(field rx_csum_ok "$LINE")" = 0 ] || fail "none after all: $LINE"
pass "none after all: the kernel's features were reset"
