/* tern configuration: every option with its default and its RAM cost.
 *
 * An application overrides options in its own header and builds with
 * -DTERN_USER_CONFIG='"my_tern_config.h"' (the way lwipopts.h and
 * FreeRTOSIPConfig.h work). Each option below is only defined when the user
 * header has not defined it. docs/config.md lists the RAM cost of each. */
#ifndef TERN_CONFIG_H
#define TERN_CONFIG_H

#ifdef TERN_USER_CONFIG
#include TERN_USER_CONFIG
#endif

/* ---- Memory core ------------------------------------------------------ */

/* Bytes of the heap arena embedded in struct tern_stack (0: the application
 * supplies every region with tern_heap_add_region()). RAM: exactly this. */
#ifndef TERN_HEAP_SIZE
#define TERN_HEAP_SIZE (48u * 1024u)
#endif

/* Most heap regions (arenas) one heap can span, like FreeRTOS heap_5.
 * RAM: 8 bytes each (16 on a 64-bit host). */
#ifndef TERN_HEAP_MAX_REGIONS
#define TERN_HEAP_MAX_REGIONS 4
#endif

/* Owners (socket ids) the ledger keeps a per-owner byte count for; owner ids
 * at or above this are summed in one "other" slot. RAM: 4 bytes each. */
#ifndef TERN_LEDGER_OWNERS
#define TERN_LEDGER_OWNERS 32
#endif

/* 1: the ledger can be told to fail the Nth allocation (test builds). RAM: 16
 * bytes. Off in production builds. */
#ifndef TERN_FAULT_INJECTION
#define TERN_FAULT_INJECTION 0
#endif

/* 1: debug build. Heap corruption and bad frees trap in tern_port's assert
 * hook in addition to being counted and logged. */
#ifndef TERN_DEBUG
#define TERN_DEBUG 0
#endif

/* ---- Network buffers --------------------------------------------------- */

#define TERN_OWNER_LIMIT_ 1023 /* ledger owner ids are 10 bits */

#define TERN_NETBUF_STATIC 1 /* fixed storage per descriptor, never the heap */
#define TERN_NETBUF_HEAP 2   /* storage from tern_heap at the exact size asked */

/* Which scheme backs network buffers. */
#ifndef TERN_NETBUF_SCHEME
#define TERN_NETBUF_SCHEME TERN_NETBUF_STATIC
#endif

/* Number of network buffer descriptors. RAM: sizeof(tern_netbuf_t) each
 * (24 bytes on Cortex-M), plus TERN_NETBUF_STORAGE_SIZE each for STATIC. */
#ifndef TERN_NETBUF_COUNT
#define TERN_NETBUF_COUNT 16
#endif

/* Largest frame a buffer holds: Ethernet header + MTU, no FCS. */
#ifndef TERN_NETBUF_FRAME_SIZE
#define TERN_NETBUF_FRAME_SIZE 1514u
#endif

/* ---- Link layer --------------------------------------------------------- */

/* 1: drivers receive straight into network buffers handed to them ahead of
 * time (DMA targets); 0: the driver copies each frame into a buffer. */
#ifndef TERN_ZERO_COPY_RX
#define TERN_ZERO_COPY_RX 1
#endif

/* 1: the stack hands the network buffer itself to the driver, which releases
 * it when the hardware is done; 0: the driver copies and the stack releases. */
#ifndef TERN_ZERO_COPY_TX
#define TERN_ZERO_COPY_TX 1
#endif

/* ---- ARP ---------------------------------------------------------------- */

/* ARP cache entries, allocated at init (category ARP_CACHE). */
#ifndef TERN_ARP_CACHE_SIZE
#define TERN_ARP_CACHE_SIZE 8
#endif
/* Packets held per entry while its address resolves (network buffers). */
#ifndef TERN_ARP_QUEUE_LEN
#define TERN_ARP_QUEUE_LEN 2
#endif
/* A resolved entry is refreshed (re-requested) after this age. */
#ifndef TERN_ARP_MAX_AGE_MS
#define TERN_ARP_MAX_AGE_MS 300000u
#endif
/* Requests sent for one address before giving up; the interval doubles. */
#ifndef TERN_ARP_MAX_RETRIES
#define TERN_ARP_MAX_RETRIES 4
#endif
#ifndef TERN_ARP_RETRY_MS
#define TERN_ARP_RETRY_MS 250u
#endif

/* ---- IPv4 / ICMP -------------------------------------------------------- */

#ifndef TERN_IP_DEFAULT_TTL
#define TERN_IP_DEFAULT_TTL 64
#endif
/* 1: reassemble IPv4 fragments (bounded by the options below); 0: drop them. */
#ifndef TERN_IP_REASSEMBLY
#define TERN_IP_REASSEMBLY 0
#endif
#ifndef TERN_IP_REASS_MAX_DATAGRAMS
#define TERN_IP_REASS_MAX_DATAGRAMS 2
#endif
#ifndef TERN_IP_REASS_MAX_BYTES
#define TERN_IP_REASS_MAX_BYTES 4096u
#endif
#ifndef TERN_IP_REASS_TIMEOUT_MS
#define TERN_IP_REASS_TIMEOUT_MS 15000u
#endif
/* ICMP error messages sent per second at most (token bucket). */
#ifndef TERN_ICMP_ERROR_RATE
#define TERN_ICMP_ERROR_RATE 10
#endif
/* 1: answer echo requests sent to a broadcast address (RFC 1122 3.2.2.6 MAY). */
#ifndef TERN_ICMP_ECHO_BROADCAST
#define TERN_ICMP_ECHO_BROADCAST 0
#endif

/* ---- UDP and sockets ----------------------------------------------------- */

/* 1: an OS is present (threads, the port's wait hook): socket calls may
 * block with timeouts. 0: a main loop; every call is non-blocking. */
#ifndef TERN_OS
#define TERN_OS 1
#endif
/* Sockets open at once. RAM: one pointer each in the stack, plus each open
 * socket's structure on the heap (SOCKET). Ids are 1..TERN_SOCKET_MAX. */
#ifndef TERN_SOCKET_MAX
#define TERN_SOCKET_MAX 16
#endif
/* Datagrams a UDP socket queues before dropping (ipconfigUDP_MAX_RX_PACKETS):
 * each holds one network buffer. */
#ifndef TERN_UDP_RXQ_DEFAULT
#define TERN_UDP_RXQ_DEFAULT 4
#endif

/* ---- DHCP and DNS ---------------------------------------------------------- */

/* ---- TCP ------------------------------------------------------------------ */

/* ---- Checks of impossible combinations --------------------------------- */

_Static_assert(TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC || TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP,
               "TERN_NETBUF_SCHEME must be TERN_NETBUF_STATIC or TERN_NETBUF_HEAP");
_Static_assert(TERN_NETBUF_COUNT >= 2 && TERN_NETBUF_COUNT <= 65535,
               "TERN_NETBUF_COUNT must be 2..65535: one RX and one TX buffer at least");
_Static_assert(TERN_NETBUF_FRAME_SIZE >= 64 && TERN_NETBUF_FRAME_SIZE <= 65535,
               "TERN_NETBUF_FRAME_SIZE must hold a minimum Ethernet frame and fit 16 bits");
_Static_assert(TERN_HEAP_MAX_REGIONS >= 1, "TERN_HEAP_MAX_REGIONS must be at least 1");
_Static_assert(TERN_LEDGER_OWNERS >= 1 && TERN_LEDGER_OWNERS <= 1023,
               "TERN_LEDGER_OWNERS must be 1..1023 (owner ids are 10 bits)");
_Static_assert(TERN_SOCKET_MAX >= 1 && TERN_SOCKET_MAX < TERN_OWNER_LIMIT_,
               "TERN_SOCKET_MAX must be 1..1022: socket ids are ledger owners");
_Static_assert(TERN_ARP_CACHE_SIZE >= 1 && TERN_ARP_QUEUE_LEN >= 1,
               "ARP needs at least one cache entry and one queued packet per entry");

#endif
