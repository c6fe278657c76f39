/* tern on lm3s6965evb: the Stellaris MAC described for the shared application
 * (ports/cortex-m/app.c: DHCP, services, dashboard, console, main loop). */
#include "board.h"
#include "board_nic.h"
#include "stellaris_eth.h"
#include "tern/plan.h"
/* The planner's compile-time form needs the real structures (their sizes
 * come from this build, never typed by hand). */
#include "net/tcp_internal.h"
#include "socket/socket_internal.h"

/* The core's share of this board's worst case (board_config.h) fits its
 * heap, fragmentation margin aside, checked by the compiler with the
 * planner's formulas (include/tern/plan.h): 4 listeners (3 services and
 * the dashboard) with full queues, 3 UDP service sockets, every socket
 * slot left holding a TCP connection, TERN_TCP_SYN_MAX half-open
 * connections, the service rings (BOARD_SERVICE_*) for 3 connections and
 * the dashboard's for 2, the TIME-WAIT table, the range pool, the ARP
 * cache. The applications' share (DHCP, the dashboard's state and
 * documents) and the fragmentation margin: `make firmware` prints the
 * whole plan (tern-plan --elf). */
#define BOARD_PLAN_TCP_SOCKETS (TERN_SOCKET_MAX - 3u)
#define BOARD_PLAN_CORE                                                                                          \
    (BOARD_PLAN_TCP_SOCKETS * TERN_PLAN_BLOCK(TERN_PLAN_TCP_SOCKET(sizeof(struct tern_tcp_pcb), SOCKET_SIZE_TCP)) + \
     3u * TERN_PLAN_BLOCK(SOCKET_SIZE_UDP) +                                                                     \
     4u * TERN_PLAN_BLOCK(TERN_PLAN_LISTEN_QUEUE(offsetof(socket_listen_t, queue), sizeof(uintptr_t),             \
                                                 TERN_TCP_BACKLOG_MAX)) +                                        \
     TERN_TCP_SYN_MAX * TERN_PLAN_BLOCK(sizeof(struct tern_tcp_pcb)) +                                           \
     3u * (TERN_PLAN_BLOCK(BOARD_SERVICE_RCVBUF) + TERN_PLAN_BLOCK(BOARD_SERVICE_SNDBUF)) +                      \
     2u * (TERN_PLAN_BLOCK(TERN_HTTP_RCVBUF) + TERN_PLAN_BLOCK(TERN_TCP_SNDBUF)) +                               \
     TERN_PLAN_BLOCK(TERN_PLAN_TIMEWAIT_TABLE(sizeof(struct tcp_tw), TERN_TCP_TIMEWAIT_MAX)) +                   \
     TERN_PLAN_BLOCK(TERN_PLAN_RANGE_POOL(sizeof(struct tcp_range), TERN_TCP_RANGE_COUNT)) +                     \
     TERN_PLAN_BLOCK(TERN_PLAN_ARP_CACHE(sizeof(tern_arp_entry_t), TERN_ARP_CACHE_SIZE)))
_Static_assert(TERN_PLAN_HEAP_FITS(BOARD_PLAN_CORE), "the core's worst case does not fit TERN_HEAP_SIZE");

/* The static-only image (BOARD_STATIC_ONLY): the rings the services set
 * on their listeners (BOARD_SERVICE_*) and the dashboard's receive rings
 * (TERN_HTTP_RCVBUF, smaller than the default one) come from pools of
 * their own size, one slot per connection of the plan; nothing otherwise.
 * Send rings for echo and chargen only: a send ring is taken on the first
 * write (tcp_sbuf_ensure) and discard never writes, so the plan's third
 * one (its shape says rx and tx for every service) is never asked for;
 * the 2,928 bytes it would reserve are what lets the image fit 64 KB. */
TERN_STATIC_POOL(board_svc_rx, TERN_MEM_TCP_STREAM_RX, BOARD_SERVICE_RCVBUF, 3u * TERN_SOCKET_SERVICE_CONNS);
TERN_STATIC_POOL(board_svc_tx, TERN_MEM_TCP_STREAM_TX, BOARD_SERVICE_SNDBUF, 2u * TERN_SOCKET_SERVICE_CONNS);
TERN_STATIC_POOL(board_http_rx, TERN_MEM_TCP_STREAM_RX, TERN_HTTP_RCVBUF, TERN_HTTP_MAX_CONNS);

static stellaris_eth_t eth;

static int nic_init(void *drv, tern_netif_t *nif)
{
    return stellaris_eth_init(drv, nif);
}

static unsigned nic_poll(void *drv, tern_stack_t *stack, uint32_t now)
{
    return stellaris_eth_poll(drv, stack, now);
}

static int nic_pending(const void *drv)
{
    return stellaris_eth_pending(drv);
}

static void nic_report(const void *drv, tern_writer_fn write, void *ctx)
{
    stellaris_eth_report_text(drv, write, ctx);
}

int main(void)
{
    static const board_nic_t nic = {
        .name = "stellaris",
        .drv = &eth,
        .ops = &stellaris_eth_ops,
        .read_mac = stellaris_eth_read_mac,
        .init = nic_init,
        .poll = nic_poll,
        .pending = nic_pending,
        .report_text = nic_report,
        .stats_json = stellaris_eth_stats_json,
        .rx_bytes = &eth.stats.rx_bytes,
        .tx_bytes = &eth.stats.tx_bytes,
    };
    board_app_main(&nic);
}
