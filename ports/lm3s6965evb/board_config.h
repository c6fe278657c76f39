/* tern's configuration for the lm3s6965evb firmware (TERN_USER_CONFIG):
 * the options this board changes from include/tern/config.h, sized so the
 * worst case fits the LM3S6965's 64 KB of SRAM. The reasoning, with the
 * numbers, is in docs/boards.md ("lm3s6965evb: 64 KB of SRAM"). */
#ifndef BOARD_CONFIG_H
#define BOARD_CONFIG_H

/* A main loop, no RTOS: every socket call is non-blocking. */
#define TERN_OS 0

/* Heap arena inside struct tern_stack (.bss). Worst case at once (bytes of
 * heap, block headers included): idle 2.2 K (sockets of the listeners and
 * UDP services, TIME-WAIT and segment tables, DHCP, ARP); the three service
 * connections with full rings, 12.8 K (echo and chargen 2,048 + 2,920,
 * discard 2,048 - it never sends - and three sockets of 268); two dashboard
 * connections, 2 x 12.1 K (1,084 of parser state, a 1,024-byte receive
 * ring, a 1,460-byte send ring, an /api/stats document of up to 9.5 K with
 * every connection listed); 4 half-open connections of a SYN flood, 1 K.
 * Sum 42.7 K of 45.5 K: the rest is room for fragmentation (a document
 * needs one contiguous block). */
#define TERN_HEAP_SIZE (45u * 1024u + 512u)
/* The planner's workload (ports/cortex-m/app.c, tern-plan): documents of
 * up to 9.5 K, + 64 the server adds. */
#define BOARD_PLAN_DOC_BYTES (9728u + 64u)
/* No "plan" section in /api/stats: 2 x ~200 bytes more of documents in
 * flight is more than this heap's budget has left (make firmware prints
 * the plan instead). */
#define BOARD_STATS_PLAN 0

/* IPv4 reassembly (RFC 1122 3.3.2 MUST): one datagram at a time, up to 1,600
 * bytes of payload (anything that crossed a 1500-byte MTU somewhere), 1.7 K
 * of heap while one is in progress: taken from the 2.8 K of room above, for
 * the few seconds a fragmented datagram takes to arrive. */
#define TERN_IP_REASS_MAX_DATAGRAMS 1
#define TERN_IP_REASS_MAX_BYTES 1600u

/* Network buffers (STATIC: 1,552 bytes each in .bss). 4 sit in the
 * driver's RX ring; replies, TCP segments being built and ARP queues take
 * the others for a moment. UDP queues may hold up to 8 - 2 (the reserve). */
#define TERN_NETBUF_COUNT 8
#define TERN_NETBUF_RX_RESERVE 2

/* TCP rings: one segment each way by default (the dashboard's connections:
 * its responses are a few KB and it is polled once a second) ... */
#define TERN_TCP_RCVBUF 1460u
#define TERN_TCP_SNDBUF 1460u
/* ... and more for the services (ports/cortex-m/app.c sets them on their
 * listeners). Receive: 2,048, a full segment and a partial one, enough to
 * keep a peer's data coming. Send: 2,920, two full segments, so Linux's
 * delayed ACK (every second full segment) answers at once; with 2,048 the
 * second segment is a partial one that Nagle holds until the first is
 * acknowledged, and chargen ran at 0.7 Mbit/s instead of 76. Not 2,920 for
 * receiving too: the 2.6 K saved over three rings is room the dashboard's
 * 9.7 K documents need to find a contiguous block in the worst case. */
#define BOARD_SERVICE_RCVBUF 2048u
#define BOARD_SERVICE_SNDBUF 2920u
/* Segment descriptors for out-of-order and SACKed ranges, shared. */
#define TERN_TCP_RANGE_COUNT 16
/* Half-open (SYN-RECEIVED) connections, each a connection structure on the
 * heap while it waits; TIME-WAIT records (a table allocated once). */
#define TERN_TCP_SYN_MAX 4
#define TERN_TCP_TIMEWAIT_MAX 8
/* The demultiplexing table: a slot per connection or listener (about a
 * dozen here, half-open ones included); 16 slots cost 64 B where the
 * default 64 would cost 256 (a full table falls back to the list walk). */
#define TERN_TCP_HASH_SIZE 16

/* A dashboard request is a few hundred bytes and the parser consumes it as
 * it arrives: 1 KB of receive ring is enough. */
#define TERN_HTTP_RCVBUF 1024u

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

/* DHCP, and a static address when no server answers: after 2 DISCOVERs
 * (RFC 2131 s4.4.1 retransmission), 192.0.2.10/24 via 192.0.2.1. */
#define TERN_DHCP_FALLBACK_AFTER 2
#define TERN_DHCP_FALLBACK_ADDR 0xC000020Au
#define TERN_DHCP_FALLBACK_NETMASK 0xFFFFFF00u
#define TERN_DHCP_FALLBACK_GATEWAY 0xC0000201u

/* The static-only image (BOARD_STATIC_ONLY=ON: `make firmware` builds it
 * in build-board-lm3s6965evb-static): no heap, every category from pools
 * sized for the heap image's plan (ports/cortex-m/app.c): 4 listeners, 3
 * UDP sockets, TERN_TCP_SYN_MAX half-open connections, the 3 service
 * connections with their rings (pools stated in main.c), the 2 dashboard
 * connections and their documents. Where the heap lends the same bytes to
 * whatever is live, each kind keeps its worst case here, so the counts are
 * the plan's, not the defaults' (docs/boards.md, "The static-only image"). */
#if defined(TERN_STATIC_ONLY) && TERN_STATIC_ONLY
/* The arena holds exactly the pools (scripts/pool-table: 45,616 bytes,
 * 976 less than the heap image's arena; init fails if they grow). */
#undef TERN_HEAP_SIZE
#define TERN_HEAP_SIZE 45616u
/* 15 pools in this image (no DNS, no default-size receive ring): the
 * ledger's pool table costs 28 bytes a pool on Cortex-M (24: 252 more). */
#define TERN_STATIC_POOLS_MAX 15
/* TCP sockets: the plan's 4 listeners and 5 connections (3 service, 2
 * dashboard) and one connection closing in the background after its
 * socket. SYN-RECEIVED connections are bare connection structures,
 * TERN_TCP_SYN_MAX of them (a connection waits in a listen queue only
 * until the next main-loop pass accepts it). */
#define TERN_STATIC_TCP_CLOSING 1
#define TERN_STATIC_TCP_SOCKETS (4 + 5 + TERN_STATIC_TCP_CLOSING)
#define TERN_STATIC_TCP_PENDING TERN_TCP_SYN_MAX
#define TERN_STATIC_LISTENERS 4
#define TERN_STATIC_UDP_SOCKETS 3
/* Rings of the default sizes: no receive ring (the services' and the
 * dashboard's are pools of their own sizes, main.c), the dashboard's two
 * send rings. */
#define TERN_STATIC_TCP_RX_RINGS 0
#define TERN_STATIC_TCP_TX_RINGS 2
/* The plan's two /api/stats documents of up to BOARD_PLAN_DOC_BYTES, +
 * 384 for what only a static-only document carries: its pool rows (357
 * bytes for these 15 pools) and "static_only". */
#define TERN_STATIC_HTTP_DOCS 2
#define TERN_STATIC_HTTP_DOC_BYTES (BOARD_PLAN_DOC_BYTES + 384u)
#endif

/* Broken invariants stop the board with a report (the assert hook). */
#define TERN_DEBUG 1

#endif
