# shellcheck shell=bash disable=SC2034 # variables set here are read by netbench
# Stack drivers for bench/harness/netbench. Sourced, not run.
#
# A driver NAME is a set of functions; adding a stack is adding one:
#   drv_NAME_check      exit 0 when runnable; otherwise print why (one line)
#   drv_NAME_setup      create its namespace(s) and link (once per run)
#   drv_NAME_start LOG [ARGS...]
#                       start its server program in its namespace, output to
#                       LOG; set SERVER_PID to the server process itself
#   drv_NAME_budget BYTES
#                       print the server arguments that cap the stack's RAM at
#                       BYTES (the concurrent-connections test); print
#                       nothing and return 1 when the stack has no such knob
#   drv_NAME_teardown   remove what setup created (also run from the EXIT trap)
# and two variables set by setup: CLIENT_NS_NAME (where the Linux clients
# run) and SERVER_IP_NAME (the address they connect to).
#
# Namespaces are $NS_PREFIX-PID-* (tern-bench-PID-* by default); addresses
# come from 192.0.2.0/24 (TAP stacks) and 198.51.100.0/24 (kernel veth
# pair): nothing leaves the machine.
# Needs: BUILD (the build directory), RUN_ID (unique per run), NS_PREFIX, TMP.
# SERVER_WRAP (an array, may be empty): a command every server runs under
# (valgrind for the instructions per byte).

# Every driver, in report order.
STACK_NAMES=(ternoff tern ternemb lwipfast lwip lwipraw kernel)
stack_label() {
    case $1 in
    lwipfast) echo "lwIP (sockets API, blocking, thread per connection)" ;;
    lwip) echo "lwIP (sockets API, poll loop)" ;;
    lwipraw) echo "lwIP (raw API)" ;;
    ternemb) echo "tern (embedded defaults)" ;;
    ternoff) echo "tern with TAP offloads (checksums, TSO, large receive)" ;;
    *) echo "$1" ;;
    esac
}

TAP_LINUX_IP=192.0.2.1
TAP_STACK_IP=192.0.2.2
TAP_PREFIX=24

# ---- TAP stacks: the stack is a process on a TAP; Linux is the TAP's other end.

tap_setup() { # NAME
    local ns=$NS_PREFIX-$RUN_ID-$1
    ip netns add "$ns" || return 1
    ip -n "$ns" link set lo up
    ip -n "$ns" tuntap add dev tb0 mode tap || return 1
    # No IPv6 chatter on the TAP during the measurements.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.tb0.disable_ipv6=1 2>/dev/null
    ip -n "$ns" addr add "$TAP_LINUX_IP/$TAP_PREFIX" dev tb0
    ip -n "$ns" link set tb0 up
    # Room for the concurrent-connections test on the Linux side.
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="10000 60999"
    printf -v "CLIENT_NS_$1" '%s' "$ns"
    printf -v "SERVER_IP_$1" '%s' "$TAP_STACK_IP"
}

tap_teardown() { # NAME
    ip netns del "$NS_PREFIX-$RUN_ID-$1" 2>/dev/null
    return 0
}

tap_start() { # NAME BINARY LOG [ARGS...]
    local name=$1 bin=$2 log=$3
    shift 3
    # A simple command: ip execs the server, so $! is the server itself.
    ip netns exec "$NS_PREFIX-$RUN_ID-$name" "${SERVER_WRAP[@]}" "$bin" --tap tb0 --ip "$TAP_STACK_IP/$TAP_PREFIX" "$@" >"$log" 2>&1 &
    SERVER_PID=$!
}

# ---- tern: bench/apps/tern_server.c, built as tern-server (the applications
# on tern's sockets API, apps_tern.c) and tern-server-raw (on the raw TCP
# API, apps_tern_raw.c), the same command line as lwip-server, where
# --ram-budget sizes tern's heap. Two configurations, two drivers:
#   tern      64 KB receive and send rings, as Debian's lwIP (--bufs lwip)
#   ternemb   tern's embedded defaults (TERN_TCP_RCVBUF/SNDBUF, --bufs default)
# TERN_BENCH_API=sockets|raw picks the server (default: sockets when built,
# else raw); the one used is written to the run's meta data.
tern_server_bin() {
    local api=${TERN_BENCH_API:-}
    if [ -z "$api" ]; then
        if [ -x "$BUILD/bench/tern-server" ]; then api=sockets; else api=raw; fi
    fi
    case $api in
    sockets) echo "$BUILD/bench/tern-server" ;;
    raw) echo "$BUILD/bench/tern-server-raw" ;;
    *) echo "/nonexistent/tern-server-$api" ;;
    esac
}
tern_check() {
    local bin
    bin=$(tern_server_bin)
    [ -x "$bin" ] && return 0
    echo "not built: $bin"
    return 1
}
drv_tern_check() { tern_check; }
drv_tern_setup() { tap_setup tern; }
drv_tern_teardown() { tap_teardown tern; }
drv_tern_start() { tap_start tern "$(tern_server_bin)" "$@" --bufs lwip; }
drv_tern_budget() { echo "--ram-budget $1"; }

drv_ternemb_check() { tern_check; }
drv_ternemb_setup() { tap_setup ternemb; }
drv_ternemb_teardown() { tap_teardown ternemb; }
drv_ternemb_start() { tap_start ternemb "$(tern_server_bin)" "$@" --bufs default; }
drv_ternemb_budget() { echo "--ram-budget $1"; }

# ---- ternoff: tern-server-offload (64 KB network buffers, bench/CMakeLists.txt)
# with the TAP's offloads on (--offload all: IFF_VNET_HDR, checksum offload
# both ways, TSO, large receive; ports/posix/tap.c) and 64 KB rings.
drv_ternoff_check() {
    [ -x "$BUILD/bench/tern-server-offload" ] && return 0
    echo "not built: $BUILD/bench/tern-server-offload"
    return 1
}
drv_ternoff_setup() { tap_setup ternoff; }
drv_ternoff_teardown() { tap_teardown ternoff; }
drv_ternoff_start() { tap_start ternoff "$BUILD/bench/tern-server-offload" "$@" --bufs lwip --offload all; }
drv_ternoff_budget() { echo "--ram-budget $1"; }

# ---- lwIP 2.1.3 (Debian liblwip-dev), own TAP netif, three drivers:
#   lwipfast  lwIP's sockets API as its users write a fast server with an
#             OS: blocking sockets, a thread per connection, 64 KB calls
#             (apps_lwip_thr.c): lwIP at its best, what tern is measured
#             against (with the other two, whichever is best per figure)
#   lwip      the applications on lwIP's sockets API (apps_lwip_sock.c):
#             one thread on lwip_poll, like for like with tern-server
#   lwipraw   the same on lwIP's raw TCP API (apps_lwip.c)
lwip_check() {
    [ -x "$BUILD/bench/lwip-server" ] && return 0
    echo "not built: $BUILD/bench/lwip-server needs liblwip-dev (apt-get install liblwip-dev)"
    return 1
}
drv_lwip_check() { lwip_check; }
drv_lwip_setup() { tap_setup lwip; }
drv_lwip_teardown() { tap_teardown lwip; }
drv_lwip_start() { tap_start lwip "$BUILD/bench/lwip-server" "$@" --api sockets; }
drv_lwip_budget() { echo "--ram-budget $1"; }

drv_lwipfast_check() { lwip_check; }
drv_lwipfast_setup() { tap_setup lwipfast; }
drv_lwipfast_teardown() { tap_teardown lwipfast; }
drv_lwipfast_start() { tap_start lwipfast "$BUILD/bench/lwip-server" "$@" --api threads; }
drv_lwipfast_budget() { echo "--ram-budget $1"; }

drv_lwipraw_check() { lwip_check; }
drv_lwipraw_setup() { tap_setup lwipraw; }
drv_lwipraw_teardown() { tap_teardown lwipraw; }
drv_lwipraw_start() { tap_start lwipraw "$BUILD/bench/lwip-server" "$@" --api raw; }
drv_lwipraw_budget() { echo "--ram-budget $1"; }

# ---- Linux kernel: the same applications on kernel sockets, server and
# clients in two namespaces joined by a veth pair.
KERNEL_CLIENT_IP=198.51.100.1
KERNEL_SERVER_IP=198.51.100.2

drv_kernel_check() {
    [ -x "$BUILD/bench/kernel-server" ] && return 0
    echo "not built: $BUILD/bench/kernel-server"
    return 1
}
drv_kernel_setup() {
    local c=$NS_PREFIX-$RUN_ID-kc s=$NS_PREFIX-$RUN_ID-ks
    ip netns add "$c" || return 1
    ip netns add "$s" || return 1
    ip -n "$c" link set lo up
    ip -n "$s" link set lo up
    ip -n "$c" link add tbk0 type veth peer name tbk1 netns "$s" || return 1
    ip netns exec "$c" sysctl -qw net.ipv6.conf.tbk0.disable_ipv6=1 2>/dev/null
    ip netns exec "$s" sysctl -qw net.ipv6.conf.tbk1.disable_ipv6=1 2>/dev/null
    ip -n "$c" addr add "$KERNEL_CLIENT_IP/24" dev tbk0
    ip -n "$s" addr add "$KERNEL_SERVER_IP/24" dev tbk1
    ip -n "$c" link set tbk0 up
    ip -n "$s" link set tbk1 up
    ip netns exec "$c" sysctl -qw net.ipv4.ip_local_port_range="10000 60999"
    ip netns exec "$s" sysctl -qw net.core.somaxconn=4096
    CLIENT_NS_kernel=$c
    SERVER_IP_kernel=$KERNEL_SERVER_IP
}
drv_kernel_teardown() {
    ip netns del "$NS_PREFIX-$RUN_ID-kc" 2>/dev/null
    ip netns del "$NS_PREFIX-$RUN_ID-ks" 2>/dev/null
    return 0
}
drv_kernel_start() {
    local log=$1
    shift
    ip netns exec "$NS_PREFIX-$RUN_ID-ks" "${SERVER_WRAP[@]}" "$BUILD/bench/kernel-server" --ip "$KERNEL_SERVER_IP" "$@" >"$log" 2>&1 &
    SERVER_PID=$!
}
# The kernel has no per-process knob that caps a TCP stack's RAM the way a
# heap does: the test runs to the connection cap instead (reported as such).
drv_kernel_budget() { return 1; }
