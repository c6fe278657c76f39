# Shared helpers for tests/system/*.sh (sourced; ctest runs only the
# scripts directly in tests/system/).
#
#   . "$(dirname "$0")/lib/common.sh"
#   sys_init NAME            # root + /dev/net/tun or skip; TMP, NS=tern-NAME-PID
#                            # (tern-TAG-NAME-PID with TERN_NS_TAG=TAG set)
#   sys_require TOOL...      # skip when a tool is missing
#   sys_allowed_skip NAME    # TERN_ALLOW_SKIP names NAME (a part that may skip)
#   sys_require_demo         # DEMO=$TERN_DEMO or fail
#   sys_tap_ns [TAP] [IP]    # namespace NS with a TAP (default tern0, 192.0.2.1/24)
#   start_demo LOG ARGS...   # tern-demo --tap in NS; DEMO_PID
#   wait_demo_start LOG      # until its start summary, or fail
#   stop_demo                # SIGTERM, wait, return its exit status
#   sys_on_exit 'command'    # extra cleanup, run before the namespace goes
#   mem_of LOG TAG, counter LOG NAME, check_memory LOG TAG [SECONDS]
#   demo_report LOG          # a fresh SIGUSR2 report (waits for it; 1 if none)
#   ledger_books LOG         # the memory books from a fresh SIGUSR2 report
#                            # (1 if none came: callers must fail)
#
# Everything a test starts is killed (every process left in the namespace
# too) and its namespace removed on exit (trap), and the logs in $TMP are
# printed when the test failed.
set -u

skip() {
    echo "SKIP: $*"
    exit 77
}
# sys_allowed_skip NAME: true when TERN_ALLOW_SKIP (space-separated names
# or shell patterns, as scripts/test-summary reads it) names NAME; for a
# part of a test that cannot run (NAME like system.tcp.f), which is
# otherwise a failure.
sys_allowed_skip() {
    local - pat
    set -f # the patterns are matched against NAME, not expanded to files
    for pat in ${TERN_ALLOW_SKIP:-}; do
        # shellcheck disable=SC2053
        [[ "$1" == $pat ]] && return 0
    done
    return 1
}
fail() {
    echo "FAIL: $*"
    FAILED=1
    exit 1
}
pass() { echo "ok: $*"; }
nsx() { ip netns exec "$NS" "$@"; }

FAILED=0
DEMO_PID=""
SYS_EXIT_HOOKS=()

sys_on_exit() { SYS_EXIT_HOOKS+=("$1"); }

sys_cleanup() {
    local hook f
    if [ -n "$DEMO_PID" ]; then
        kill -KILL "$DEMO_PID" 2>/dev/null
        wait "$DEMO_PID" 2>/dev/null
    fi
    for hook in "${SYS_EXIT_HOOKS[@]}"; do
        eval "$hook" 2>/dev/null
    done
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    if [ "$FAILED" != 0 ]; then
        for f in "$TMP"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 40 lines)"
            tail -n 40 "$f"
        done
    fi
    rm -rf "$TMP"
}

# sys_init NAME: checks shared by every test, then the namespace name and a
# temporary directory removed on exit.
sys_init() {
    [ "$(id -u)" = 0 ] || skip "needs root (network namespaces, TAP devices)"
    [ -c /dev/net/tun ] || skip "no /dev/net/tun"
    sys_require ip
    NS=tern-${TERN_NS_TAG:+$TERN_NS_TAG-}$1-$$
    TMP=$(mktemp -d "/tmp/tern-$1.XXXXXX")
    START=$(date +%s)
    trap sys_cleanup EXIT
}

sys_require() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (scripts/install-deps)"
    done
}

sys_require_demo() {
    DEMO=${TERN_DEMO:-}
    if [ -z "$DEMO" ] || [ ! -x "$DEMO" ]; then
        echo "FAIL: TERN_DEMO must name the tern-demo binary (got '${DEMO}')"
        exit 1
    fi
}

# sys_tap_ns [TAP] [LINUX_IP/PREFIX]: the namespace with one TAP device, the
# Linux end addressed, IPv6 off (no router solicitations in captures).
sys_tap_ns() {
    TAP=${1:-tern0}
    local addr=${2:-192.0.2.1/24}
    ip netns add "$NS" || fail "cannot create namespace $NS"
    ip -n "$NS" link set lo up
    ip -n "$NS" tuntap add dev "$TAP" mode tap || fail "cannot create TAP $TAP"
    nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null
    ip -n "$NS" addr add "$addr" dev "$TAP"
    ip -n "$NS" link set "$TAP" up
}

# Wait up to $3 seconds for a line matching regex $2 in file $1.
wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# start_demo LOG ARGS...: tern-demo on $TAP in the namespace. A simple
# command, not nsx: the background job execs ip, which execs the demo, so
# $! is the demo itself and signals reach it.
start_demo() {
    local log=$1
    shift
    ip netns exec "$NS" "$DEMO" --tap "$TAP" "$@" >"$log" 2>&1 &
    DEMO_PID=$!
}

wait_demo_start() {
    wait_for "$1" '^memory \(start\):' 5 || fail "tern-demo did not start"
}

stop_demo() {
    kill -TERM "$DEMO_PID" 2>/dev/null
    local rc=0
    wait "$DEMO_PID" || rc=$?
    DEMO_PID=""
    return $rc
}

# "memory (TAG): heap free N min N of N, netbufs free N min N of N" -> "N N"
# (heap free, netbufs free) from the last such line in $1.
mem_of() {
    grep -E "^memory \($2\):" "$1" | tail -n 1 |
        sed -nE 's/.*heap free ([0-9]+) min [0-9]+ of [0-9]+, netbufs free ([0-9]+) min.*/\1 \2/p'
}

# counter LOG NAME: a counter's value from the demo's SIGUSR2 report.
counter() {
    grep -E "^$2 +[0-9]+$" "$1" | tail -n 1 | awk '{ print $2 }'
}

# check_memory LOG TAG [SECONDS]: ask the demo for its summary (SIGUSR1) and
# compare heap free and network buffers free with the start values; with
# SECONDS, ask again until they match or SECONDS passed (the last
# connections may still be closing). A summary that does not arrive within
# 5 s fails: an older one must not stand in for it.
check_memory() {
    local log=$1 tag=$2 secs=${3:-0} heap0 bufs0 heap1 bufs1 n i end
    read -r heap0 bufs0 <<<"$(mem_of "$log" start)"
    end=$(($(date +%s) + secs))
    while :; do
        n=$(grep -c '^memory (now):' "$log")
        kill -USR1 "$DEMO_PID" || fail "$tag: cannot signal tern-demo (pid $DEMO_PID): is it still running?"
        for ((i = 0; i < 100; i++)); do
            [ "$(grep -c '^memory (now):' "$log")" -gt "$n" ] && break
            sleep 0.05
        done
        [ "$i" -lt 100 ] || fail "$tag: no memory summary within 5 s of SIGUSR1"
        read -r heap1 bufs1 <<<"$(mem_of "$log" now)"
        [ "${heap1:-}" = "${heap0:-}" ] && [ "${bufs1:-}" = "${bufs0:-}" ] && break
        [ "$(date +%s)" -lt "$end" ] || break
        sleep 0.1
    done
    [ -n "${heap0:-}" ] && [ -n "${heap1:-}" ] || fail "$tag: cannot parse the memory summaries"
    [ "$heap1" = "$heap0" ] || fail "$tag: heap free $heap1 after, $heap0 at start"
    [ "$bufs1" = "$bufs0" ] || fail "$tag: network buffers free $bufs1 after, $bufs0 at start"
    pass "$tag: heap free $heap1 = $heap0, network buffers free $bufs1 = $bufs0"
}

# demo_report LOG: a fresh full report (SIGUSR2); returns once its counters
# section has started (the sockets, tcp and memory sections are complete),
# 1 when none arrived within 5 s.
demo_report() {
    local log=$1 n i
    n=$(grep -c '^== counters' "$log")
    kill -USR2 "$DEMO_PID" || return 1
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c '^== counters' "$log")" -gt "$n" ] && return 0
        sleep 0.05
    done
    return 1
}

# ledger_books LOG: the memory books from a fresh SIGUSR2 report: every
# ledger category's bytes and blocks, the heap overhead, the owners line,
# heap used and network buffers free (peaks and minimums are history, left
# out). The report allocates nothing and opens no connection. Returns 1,
# printing nothing, when no report arrived (callers: BOOKS=$(ledger_books
# LOG) || fail ...), so that an old report cannot stand in for it.
ledger_books() {
    local log=$1
    demo_report "$log" || { echo "no report within 5 s of SIGUSR2" >&2; return 1; }
    awk '/^== memory/ { block = ""; on = 1; next }
         /^== counters/ { on = 0; last = block; next }
         on && /^ +used +[0-9]+$/ { block = block "heap_used " $2 "\n" }
         on && /netbufs free/ { sub(/.*netbufs free /, ""); sub(/ min.*/, ""); block = block "netbufs_free " $0 "\n" }
         on && /^[A-Z_]+ +[0-9]+ +[0-9]+ +[0-9]+ / { block = block $1 " bytes " $2 " blocks " $4 "\n" }
         on && /^\(heap overhead\)/ { block = block "overhead " $3 "\n" }
         on && /^owners:/ { block = block $0 "\n" }
         END { printf "%s", last }' "$log"
}

# ---- The compatibility-layer tests (compat_bsd.sh, compat_freertos.sh) ----

# compat_start NAME [ARGS...]: tern-compat-NAME (tests/compat/, the
# existing-style code under test) on TAP tern0 with 192.0.2.2/24, Linux on
# the namespace side with 192.0.2.1/24; ARGS follow the address on its
# command line. Sets PROG, LOG (its output) and DEMO_PID (stop_demo).
compat_start() {
    local name=$1
    shift
    sys_require python3
    PROG=${TERN_BUILD:-build}/tern-compat-$name
    [ -x "$PROG" ] || fail "no $PROG (cmake --build: target tern-compat-$name)"
    sys_tap_ns tern0 192.0.2.1/24
    LOG=$TMP/app.log
    # A simple command: $! is the program itself, so signals reach it.
    ip netns exec "$NS" "$PROG" tern0 192.0.2.2/24 "$@" >"$LOG" 2>&1 &
    DEMO_PID=$!
    wait_for "$LOG" '^compat: up on' 5 || fail "tern-compat-$name did not start"
}

# compat_peer WHAT < python: run the Linux peer's Python checks (stdin) in
# the namespace after a common preamble: T, the program's UDP echo port,
# and ask(msg), which sends msg there and returns the answer (None after
# three tries: the first datagram may wait for ARP). On failure prints the
# peer's and the program's output and fails with WHAT.
compat_peer() {
    local what=$1
    { cat <<'PY'
import socket, sys
T = ("192.0.2.2", 7)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("192.0.2.1", 0))
u.settimeout(2)
def ask(msg):
    for i in range(3):
        u.sendto(msg, T)
        try:
            return u.recvfrom(2048)[0]
        except socket.timeout:
            pass
    return None
PY
      cat; } | nsx python3 - >"$TMP/peer.log" 2>&1 || { cat "$TMP/peer.log" "$LOG"; fail "$what"; }
}

# sys_radvd6 PREFIX [MTU]: radvd in the namespace advertising PREFIX::/64
# (on-link, autonomous) on $TAP with the link MTU (default 1500), IPv6 on
# and forwarding on (radvd wants a router); stopped at exit. The caller
# waits for tern's SLAAC address ("ipv6: address ... ready").
sys_radvd6() {
    local prefix=$1 mtu=${2:-1500}
    nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=0"
    nsx sysctl -qw net.ipv6.conf.all.forwarding=1
    cat >"$TMP/radvd.conf" <<RADVD
interface $TAP {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvLinkMTU $mtu;
    prefix $prefix::/64 {
        AdvOnLink on;
        AdvAutonomous on;
    };
};
RADVD
    nsx radvd -n -C "$TMP/radvd.conf" -p "$TMP/radvd.pid" -m stderr >"$TMP/radvd.log" 2>&1 &
    sys_on_exit "kill \$(cat '$TMP/radvd.pid' 2>/dev/null) 2>/dev/null"
}

# sys_tap_v6_ready: IPv6 on the namespace's TAP (sys_tap_ns turns it off),
# then wait until Linux's link-local address has left DAD (a second after
# the carrier is up: call it once tern-demo holds the TAP). Returns 1 if it
# stayed tentative.
sys_tap_v6_ready() {
    local i
    nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=0"
    for ((i = 0; i < 100; i++)); do
        ip -n "$NS" -6 addr show dev "$TAP" scope link | grep -q 'inet6 fe80' &&
            ! ip -n "$NS" -6 addr show dev "$TAP" | grep -q tentative && return 0
        sleep 0.1
    done
    return 1
}
