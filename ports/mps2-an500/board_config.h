/* tern's configuration for the mps2-an500 firmware (TERN_USER_CONFIG):
 * the options this board changes from include/tern/config.h, sized for the
 * STM32F746's 320 KB of RAM (the RAM map is in docs/boards.md). */
#ifndef BOARD_CONFIG_H
#define BOARD_CONFIG_H

/* A main loop, no RTOS: every socket call is non-blocking. */
#define TERN_OS 0

/* Heap arena inside struct tern_stack (.bss): TCP rings of 8 echo
 * connections at once (about 9 KB each), 4 dashboard connections and their
 * /api/stats documents, DHCP, the ARP cache. */
#define TERN_HEAP_SIZE (144u * 1024u)
/* The planner's workload (ports/cortex-m/app.c, tern-plan): the 8 echo
 * connections with full rings the heap is sized for. */
#define BOARD_PLAN_SVC_CONNS 8u

/* Network buffers (STATIC: 1528 bytes each in .bss). 8 sit in the LAN9118
 * driver's RX ring, the rest carry TCP segments, ARP queues and replies. */
#define TERN_NETBUF_COUNT 28

/* Sockets: 3 services x (listener + UDP + 8 connections) + HTTP (listener
 * + 4 connections) + a few spare. Socket ids are ledger owners. */
#define TERN_SOCKET_MAX 40
#define TERN_LEDGER_OWNERS 48
#define TERN_SOCKET_SERVICE_CONNS 8

/* The static-only image (BOARD_STATIC_ONLY=ON: `make firmware` builds it
 * in build-board-static): no heap, every category from pools sized for
 * the same workload as the plan (ports/cortex-m/app.c): 8 service and 4
 * dashboard connections with full default rings, 4 listeners, 3 UDP
 * sockets, half-open connections, 4 /api/stats documents. The arena holds
 * exactly the pools (tern_ledger_pool_bytes(); init fails if they grow). */
#if defined(TERN_STATIC_ONLY) && TERN_STATIC_ONLY
#undef TERN_HEAP_SIZE
#define TERN_HEAP_SIZE (171u * 1024u)
#define TERN_STATIC_TCP_RX_RINGS 12
#define TERN_STATIC_TCP_TX_RINGS 12
#define TERN_STATIC_TCP_CLOSING 4
#define TERN_STATIC_LISTENERS 4
#define TERN_STATIC_UDP_SOCKETS 3
#define TERN_STATIC_HTTP_DOCS 4
#define TERN_STATIC_HTTP_DOC_BYTES 10240u
#endif

/* Broken invariants stop the board with a report (the assert hook). */
#define TERN_DEBUG 1

#endif
