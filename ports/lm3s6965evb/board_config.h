/* tern's configuration for the lm3s6965evb firmware (TERN_USER_CONFIG):
 * the options this board changes from include/tern/config.h, sized so the
 * worst case fits the LM3S6965's 64 KB of SRAM. The reasoning, with the
 * numbers, is in docs/boards.md ("lm3s6965evb: 64 KB"). */
#ifndef BOARD_CONFIG_H
#define BOARD_CONFIG_H

/* A main loop, no RTOS: every socket call is non-blocking. */
#define TERN_OS 0

/* Heap arena inside struct tern_stack (.bss). Worst case the services and
 * the dashboard can reach at once: 3 service connections with full rings
 * (3 x 6,104), 2 dashboard connections (2 x 8,616: parser state, a receive
 * ring of 1,460, a send ring, an /api/stats document), the listeners and UDP
 * sockets, DHCP, ARP, TCP segment descriptors: 38,624 of 40,960. */
#define TERN_HEAP_SIZE (40u * 1024u)

/* Network buffers (STATIC: 1,552 bytes each in .bss). 4 sit in the
 * driver's RX ring; the rest carry replies, TCP segments while they are
 * built, ARP queues and UDP datagrams (at most 10 - 4 reserve queued). */
#define TERN_NETBUF_COUNT 10

/* TCP rings: 2 segments each way (2 x 1,460). One segment per window would
 * halve throughput against a delayed-ACK peer; a third would cost 1,460 x 2
 * x 5 connections that the 64 KB part does not have. */
#define TERN_TCP_RCVBUF 2920u
#define TERN_TCP_SNDBUF 2920u
/* Segment descriptors for out-of-order and SACKed ranges, shared. */
#define TERN_TCP_SEG_COUNT 16
/* SYN-RECEIVED and TIME-WAIT entries (no rings, small records). */
#define TERN_TCP_SYN_MAX 4
#define TERN_TCP_TIMEWAIT_MAX 8

/* One TCP connection per service (echo, discard, chargen); a second is
 * accepted and reset at once. Two dashboard connections; a third is
 * answered 503. */
#define TERN_SOCKET_SERVICE_CONNS 1
#define TERN_HTTP_MAX_CONNS 2u

/* Sockets: 3 services x (listener + UDP + 1 connection + 1 being refused)
 * + HTTP (listener + 2 connections + 1 being refused) + 2 spare. */
#define TERN_SOCKET_MAX 18
#define TERN_LEDGER_OWNERS 24
#define TERN_ARP_CACHE_SIZE 4

/* DHCP, and a static address when no server answers (RFC 2131 s4.4.1
 * retries first). 192.0.2.10/24: the address the board tests' host side
 * and QEMU's user network can both reach. */
#define TERN_DHCP_FALLBACK_AFTER 4
#define TERN_DHCP_FALLBACK_ADDR 0xC000020Au
#define TERN_DHCP_FALLBACK_NETMASK 0xFFFFFF00u
#define TERN_DHCP_FALLBACK_GATEWAY 0xC0000201u

/* Broken invariants stop the board with a report (the assert hook). */
#define TERN_DEBUG 1

#endif
