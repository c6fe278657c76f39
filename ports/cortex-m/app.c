/* tern on a Cortex-M board: DHCP (or a static address), ping, echo/
 * discard/chargen on TCP and UDP, the HTTP dashboard with /api/stats, and
 * the UART console, all from one main loop. The Ethernet interrupt moves
 * frames into network buffers; everything else runs here. Shared by the
 * boards (ports/mps2-an500, ports/lm3s6965evb): each one's main.c describes
 * its driver (board_nic_t) and calls board_app_main.
 *
 * Build options (CMake cache, the board's CMakeLists.txt):
 *   BOARD_STATIC_IP=A.B.C.D   static address /24 instead of DHCP
 *   BOARD_FAULT_ON_BOOT=KIND  bus, hard or stack fault after boot (tests) */
#include <string.h>
#include "board.h"
#include "console.h"
#include "board_nic.h"
#include "tern/dhcp.h"
#include "tern/http.h"
#include "tern/plan.h"
#include "tern/services.h"
#include "tern/stack.h"
#include "tern/stats.h"

_Static_assert(TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC,
               "the board drivers read whole FIFO words into the buffers' fixed storage (STATIC scheme)");

static tern_stack_t stack;
static tern_netif_t eth0;
static tern_services_t services;
static tern_http_server_t http;
static tern_stats_section_t sec_http, sec_eth, sec_plan;

#ifndef BOARD_SERVICE_RCVBUF
#define BOARD_PLAN_SVC_RCVBUF 0u /* the defaults */
#define BOARD_PLAN_SVC_SNDBUF 0u
#else
#define BOARD_PLAN_SVC_RCVBUF BOARD_SERVICE_RCVBUF
#define BOARD_PLAN_SVC_SNDBUF BOARD_SERVICE_SNDBUF
#endif
/* The largest /api/stats document the plan allows for (every connection
 * listed, + 64 the server adds): a workload figure, measured on the boards
 * (docs/boards.md); and the service connections busy at once. */
#ifndef BOARD_PLAN_DOC_BYTES
#define BOARD_PLAN_DOC_BYTES 10240u
#endif
/* 1: /api/stats carries the plan (the dashboard's "planned" column). */
#ifndef BOARD_STATS_PLAN
#define BOARD_STATS_PLAN 1
#endif
#ifndef BOARD_PLAN_SVC_CONNS
#define BOARD_PLAN_SVC_CONNS (3u * TERN_SOCKET_SERVICE_CONNS)
#endif
/* This application's worst case, for the dashboard's "planned" column
 * (tern_stats_plan_json) and `make firmware`'s plan (tern-plan --elf reads
 * it from the image's tern_plan_workload section): the three services, each with a
 * listener and a UDP socket, BOARD_PLAN_SVC_CONNS connections with full
 * rings; the dashboard's listener and TERN_HTTP_MAX_CONNS connections
 * each sending a document; TERN_TCP_SYN_MAX connections half-open; DHCP. */
__attribute__((used, section("tern_plan_workload"))) static const tern_plan_workload_t board_plan = {
    .tcp_listeners = 4,
    .tcp_backlog = TERN_TCP_BACKLOG_MAX,
    .tcp_pending = TERN_TCP_SYN_MAX,
    .tcp = {{BOARD_PLAN_SVC_CONNS, BOARD_PLAN_SVC_RCVBUF, BOARD_PLAN_SVC_SNDBUF, 1, 1},
            {TERN_HTTP_MAX_CONNS, TERN_HTTP_RCVBUF, 0, 1, 1}},
    .udp_sockets = 3,
    .dhcp = 1,
    .http_conns = TERN_HTTP_MAX_CONNS,
    .http_docs = TERN_HTTP_MAX_CONNS,
    .http_doc_bytes = BOARD_PLAN_DOC_BYTES,
};
static console_t console;

static uint32_t port_random32(void *ctx)
{
    (void)ctx;
    return board_random32();
}

static uint32_t port_now_ms(void *ctx)
{
    (void)ctx;
    return board_now_ms();
}

static void port_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    board_printf("tern %s: %s\n", names[(unsigned)level & 3u], msg);
}

static void port_assert_failed(void *ctx, const char *what)
{
    (void)ctx;
    board_printf("*** FAULT: tern assertion failed: %s\n", what);
    board_exit(0);
}

static const tern_port_t port = {
    .random32 = port_random32,
    .now_ms = port_now_ms,
    .log = port_log,
    .assert_failed = port_assert_failed,
};

static void on_dhcp(struct tern_stack *s, void *ctx, int state)
{
    (void)ctx;
    (void)s;
    char a[16];
    if (state == TERN_DHCP_BOUND) {
        tern_ip4_to_str(eth0.addr, a);
        board_printf("board: address %s (dhcp)\n", a);
    } else if (state == TERN_DHCP_FALLBACK) {
        /* No server answered (TERN_DHCP_FALLBACK_AFTER discovers): the
         * configured static address, while DHCP keeps asking. */
        tern_ip4_to_str(eth0.addr, a);
        board_printf("board: address %s (static fallback: no DHCP server answered)\n", a);
    }
}

int board_app_main(const board_nic_t *nic)
{
    board_printf("\ntern on " BOARD_NAME " (" BOARD_DESC "): RAM budget %u KB\n", (unsigned)(BOARD_RAM_BUDGET / 1024u));
    uint8_t mac[6];
    nic->read_mac(mac); /* QEMU's mac= option */
    for (unsigned i = 0; i < 6; i++)
        board_random_stir((uint32_t)mac[i] << (8u * (i & 3u)));
    if (tern_stack_init(&stack, &port) != TERN_OK) {
        board_puts("*** FAULT: tern_stack_init failed\n");
        board_exit(0);
    }
    memcpy(eth0.mac, mac, 6);
    eth0.ops = nic->ops;
    eth0.driver = nic->drv;
    eth0.mtu = 1500;
    memcpy(eth0.name, "eth0", 5);
    if (nic->init(nic->drv, &eth0) != TERN_OK) {
        board_printf("*** FAULT: no %s Ethernet controller\n", nic->name);
        board_exit(0);
    }
    if (tern_netif_add(&stack, &eth0) != TERN_OK) {
        board_puts("*** FAULT: tern_netif_add failed\n");
        board_exit(0);
    }
    (void)nic->poll(nic->drv, &stack, board_now_ms()); /* link state, RX ring */
#ifdef BOARD_STATIC_IP
    tern_ip4_t ip;
    (void)tern_ip4_from_str(BOARD_STATIC_IP, &ip);
    tern_netif_set_addr(&eth0, ip, TERN_IP4(255, 255, 255, 0), (ip & 0xFFFFFF00u) | 1u);
    board_printf("board: address %s (static)\n", BOARD_STATIC_IP);
#else
    if (tern_dhcp_start(&stack, &eth0) == TERN_OK)
        (void)tern_dhcp_set_callback(&stack, on_dhcp, NULL);
    board_puts("board: DHCP client started\n");
#endif
    tern_services_cfg_t scfg = {.which = TERN_SERVICE_ALL};
#ifdef BOARD_SERVICE_RCVBUF
    /* The services' rings, apart from the stack-wide default the dashboard
     * uses (board_config.h says why). */
    scfg.rcvbuf = BOARD_SERVICE_RCVBUF;
    scfg.sndbuf = BOARD_SERVICE_SNDBUF;
#endif
    int rc = tern_services_start(&services, &stack, &scfg);
    sec_plan = (tern_stats_section_t){NULL, "plan", tern_stats_plan_json, (void *)(uintptr_t)&board_plan};
    sec_eth = (tern_stats_section_t){BOARD_STATS_PLAN ? &sec_plan : NULL, nic->name, nic->stats_json, nic->drv};
    sec_http = (tern_stats_section_t){&sec_eth, "http", tern_http_server_stats_json, &http};
    int rc2 = tern_http_server_start(&http, &stack, 80, NULL, &sec_http);
    board_printf("board: services %s, HTTP dashboard on port 80 %s\n", rc == TERN_OK ? "on 7 9 19" : "FAILED",
                 rc2 == TERN_OK ? "up" : "FAILED");
    console_init(&console, &stack, nic);
    console_memsum(&stack);
    /* The plan of this image's workload, once (it also keeps the planner's
     * size table and the workload in the image for tern-plan --elf). */
    tern_plan_sizes_t psz;
    tern_plan_t plan;
    (void)tern_plan_sizes_self(&psz);
    tern_plan_compute(&psz, &board_plan, &plan);
    board_printf("board: planned worst case %u bytes of heap in use (tern-plan --elf for the table)\n",
                 (unsigned)plan.heap_need);
    board_printf("board: main stack high-water %u of %u bytes, static RAM %u of %u\n",
                 (unsigned)board_stack_high_water(), (unsigned)board_stack_size(), (unsigned)board_static_ram(),
                 (unsigned)BOARD_RAM_BUDGET);
#ifdef BOARD_FAULT_ON_BOOT
    board_fault_trigger(BOARD_FAULT_ON_BOOT);
#endif
    board_puts("tern> ");

    uint32_t next_poll = 0;
    for (;;) {
        uint32_t now = board_now_ms();
        int busy = nic->poll(nic->drv, &stack, now) != 0u;
        if ((int32_t)(now - next_poll) >= 0 || busy) {
            uint32_t wait = tern_poll(&stack, now);
            next_poll = now + (wait < 10u ? wait : 10u);
        }
        busy |= tern_services_poll(&services, 0) > 0;
        uint32_t hwait = tern_http_server_poll(&http, now);
        (void)hwait;
        busy |= console_poll(&console);
        if (!busy) {
            /* Sleep until the next interrupt (SysTick at the latest, 1 ms):
             * checked with interrupts off, so a frame that arrives between
             * the check and the WFI still wakes it. */
            uint32_t irq = board_irq_save();
            if (!nic->pending(nic->drv)) {
                uint64_t t0 = board_time_ns();
                __asm volatile("wfi");
                board_cpu.idle_ns += board_time_ns() - t0; /* the waking handler runs after this: busy */
            }
            board_irq_restore(irq);
        }
    }
}
