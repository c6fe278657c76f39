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

/* Broken invariants stop the board with a report (the assert hook). */
#define TERN_DEBUG 1

#endif
