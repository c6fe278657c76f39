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

/* 1: static-only build (issue #16): no heap code at all. Every ledger
 * category is served from fixed pools of slots whose sizes and counts are
 * compile-time constants, stated next to each allocation site with
 * TERN_STATIC_POOL (tern/ledger.h) from the planner's formulas and the
 * TERN_STATIC_* workload below. The pools are carved at init out of the
 * TERN_HEAP_SIZE arena (tern_stack_init fails with TERN_ERR_NOMEM when
 * they do not fit; tern_ledger_pool_bytes() gives the figure). A request no
 * slot of its category can hold fails like a failed heap allocation and is
 * counted in the category's failures. docs/memory.md, "Static-only build". */
#ifndef TERN_STATIC_ONLY
#define TERN_STATIC_ONLY 0
#endif

/* The static-only build's workload: how many of each kind its pools hold
 * (the counts the planner's workload names; TERN_STATIC_ONLY 1 only, no
 * RAM otherwise). Slot sizes come from the structures and the options. */
/* TCP connections that outlive their socket at once (graceful close in the
 * background): socket blocks beyond TERN_SOCKET_MAX. */
#ifndef TERN_STATIC_TCP_CLOSING
#define TERN_STATIC_TCP_CLOSING 2
#endif
/* Bare connection structures: passive connections before tern_accept and
 * raw-API connections (tern_tcp_connect / tern_tcp_listen). */
#ifndef TERN_STATIC_TCP_PENDING
#define TERN_STATIC_TCP_PENDING (TERN_TCP_SYN_MAX + TERN_TCP_BACKLOG_MAX)
#endif
/* TCP socket blocks (listeners and connections, each with its connection
 * structure): by default every socket id plus those outliving their
 * socket; a board whose workload names fewer sets its own. */
#ifndef TERN_STATIC_TCP_SOCKETS
#define TERN_STATIC_TCP_SOCKETS (TERN_SOCKET_MAX + TERN_STATIC_TCP_CLOSING)
#endif
/* UDP sockets (a UDP socket may also take a free TCP socket's slot). */
#ifndef TERN_STATIC_UDP_SOCKETS
#define TERN_STATIC_UDP_SOCKETS 4
#endif
/* Listeners (sockets API), each queue of TERN_TCP_BACKLOG_MAX. */
#ifndef TERN_STATIC_LISTENERS
#define TERN_STATIC_LISTENERS 4
#endif
/* Receive and send rings of TERN_TCP_RCVBUF / TERN_TCP_SNDBUF (a ring set
 * larger with an option needs a pool of its size: TERN_STATIC_POOL). */
#ifndef TERN_STATIC_TCP_RX_RINGS
#define TERN_STATIC_TCP_RX_RINGS (TERN_SOCKET_MAX + TERN_STATIC_TCP_CLOSING)
#endif
#ifndef TERN_STATIC_TCP_TX_RINGS
#define TERN_STATIC_TCP_TX_RINGS (TERN_SOCKET_MAX + TERN_STATIC_TCP_CLOSING)
#endif
/* The application's own tern_mem_alloc (APPLICATION): blocks of at most
 * this many bytes. */
#ifndef TERN_STATIC_APP_BLOCKS
#define TERN_STATIC_APP_BLOCKS 0
#endif
#ifndef TERN_STATIC_APP_BLOCK_BYTES
#define TERN_STATIC_APP_BLOCK_BYTES 256u
#endif
/* The HTTP server's /api/stats documents being sent at once, each at most
 * this many bytes (the document is about 4 KB on the boards). */
#ifndef TERN_STATIC_HTTP_DOCS
#define TERN_STATIC_HTTP_DOCS 1
#endif
#ifndef TERN_STATIC_HTTP_DOC_BYTES
#define TERN_STATIC_HTTP_DOC_BYTES 8192u
#endif
/* Most pools a ledger manages (each module states its own). RAM: 24 bytes
 * each on Cortex-M, in the ledger. */
#ifndef TERN_STATIC_POOLS_MAX
#define TERN_STATIC_POOLS_MAX 24
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

/* Ledger categories applications register by name (DHCP, DNS_CACHE and HTTP
 * for the bundled ones, tern_ledger_register_category). RAM: 32 bytes each
 * on Cortex-M (the figures and the name). */
#ifndef TERN_LEDGER_APP_CATEGORIES
#define TERN_LEDGER_APP_CATEGORIES 3
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

/* Copy or zero-copy is chosen per interface (netif.h: caps). These two only
 * pick the default caps (TERN_NETIF_CAPS_DEFAULT) the host drivers in
 * ports/posix and the tests give an interface, so that each test variant
 * runs them in its own mode; the core does not read them.
 *
 * 1: drivers receive straight into network buffers handed to them ahead of
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
/* Entries resolving (INCOMPLETE) at once. Traffic to unverified addresses
 * (SYN-ACKs to spoofed on-link sources) creates them: at the bound the
 * oldest one is recycled, so they never take the other slots. */
#ifndef TERN_ARP_MAX_INCOMPLETE
#define TERN_ARP_MAX_INCOMPLETE ((TERN_ARP_CACHE_SIZE + 1) / 2)
#endif
/* Packets waiting for resolution over all entries together (network
 * buffers); at the bound the oldest packet of the oldest entry goes. */
#ifndef TERN_ARP_QUEUE_TOTAL
#define TERN_ARP_QUEUE_TOTAL TERN_ARP_MAX_INCOMPLETE
#endif
/* A resolved entry sent through within this time is in use: a new
 * resolution never evicts it (1024 ms granularity, at most 18 hours). */
#ifndef TERN_ARP_IN_USE_MS
#define TERN_ARP_IN_USE_MS 30000u
#endif

/* ---- IPv4 / ICMP -------------------------------------------------------- */

#ifndef TERN_IP_DEFAULT_TTL
#define TERN_IP_DEFAULT_TTL 64
#endif
/* 1: reassemble IPv4 fragments (bounded by the options below; RFC 1122
 * 3.3.2 says a host MUST); 0: drop them. Heap (IP_REASSEMBLY): at most
 * TERN_IP_REASS_MAX_BYTES of payload in all plus 88 bytes and a
 * bitmap of TERN_IP_REASS_MAX_BYTES / 64 bytes per datagram in progress. */
#ifndef TERN_IP_REASSEMBLY
#define TERN_IP_REASSEMBLY 1
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

/* ---- IPv6 (docs/network.md, "IPv6") -------------------------------------- */

/* 1: IPv6 next to IPv4 (ICMPv6, Neighbor Discovery, SLAAC, MLDv2 reports);
 * 0: an IPv4-only stack, none of the code or state below is built. RAM with
 * the defaults below, in tern_stack_t: about 1 KB (the tables are static,
 * sized here, not on the heap: docs/memory.md). */
#ifndef TERN_IPV6
#define TERN_IPV6 0
#endif
/* Interfaces IPv6 can be enabled on (tern_ipv6_enable). */
#ifndef TERN_IPV6_NETIF_MAX
#define TERN_IPV6_NETIF_MAX 1
#endif
/* Addresses per interface: the link-local one, SLAAC and static ones. */
#ifndef TERN_IPV6_ADDR_MAX
#define TERN_IPV6_ADDR_MAX 4
#endif
/* Neighbor cache entries (RFC 4861 5.1), and the packets each may hold
 * while its address resolves (network buffers). */
#ifndef TERN_IPV6_NBR_CACHE_SIZE
#define TERN_IPV6_NBR_CACHE_SIZE 8
#endif
#ifndef TERN_IPV6_NBR_QUEUE_LEN
#define TERN_IPV6_NBR_QUEUE_LEN 2
#endif
/* Default routers and on-link prefixes remembered per interface. */
#ifndef TERN_IPV6_ROUTERS
#define TERN_IPV6_ROUTERS 2
#endif
#ifndef TERN_IPV6_PREFIXES
#define TERN_IPV6_PREFIXES 4
#endif
/* DNS servers kept from RA RDNSS options (RFC 8106) per interface. */
#ifndef TERN_IPV6_DNS_MAX
#define TERN_IPV6_DNS_MAX 2
#endif
/* Multicast group memberships of sockets (tern_join_group,
 * tern_udp_join_group): one entry per socket and group, stack-wide (every
 * IPv6 interface joins). RAM: 20 bytes each (32-bit) in tern_ipv6_t. */
#ifndef TERN_IPV6_MCAST_GROUPS
#define TERN_IPV6_MCAST_GROUPS 4
#endif
/* Extension headers walked per packet before it is dropped. */
#ifndef TERN_IPV6_EXT_HDR_MAX
#define TERN_IPV6_EXT_HDR_MAX 8
#endif
/* Neighbor solicitations sent for Duplicate Address Detection (RFC 4862
 * DupAddrDetectTransmits). */
#ifndef TERN_IPV6_DAD_TRANSMITS
#define TERN_IPV6_DAD_TRANSMITS 1
#endif
/* Destinations whose path MTU a Packet Too Big lowered (RFC 8201), and
 * how long such an estimate lasts before the link MTU is tried again
 * (RFC 8201 5.3: at least 5 minutes, 10 recommended). The oldest entry
 * makes room for a new one. 24 bytes each, in tern_stack_t. */
/* Interface identifiers of the link-local and SLAAC addresses: 0, modified
 * EUI-64 from the MAC (RFC 4291 2.5.1: predictable, the same on every
 * network, so the device can be tracked); 1, stable opaque identifiers
 * (RFC 7217, which RFC 8064 recommends): a SipHash-2-4 of the prefix and
 * the MAC under a secret (tern_ipv6_set_iid_secret, else the port's random
 * source at init: then stable only until the next boot). 0 by default so
 * addresses are predictable in tests and on a bench; a product on a
 * public network should set 1 with a secret kept in flash. */
#ifndef TERN_IPV6_STABLE_IID
#define TERN_IPV6_STABLE_IID 0
#endif
#ifndef TERN_IPV6_PMTU_CACHE
#define TERN_IPV6_PMTU_CACHE 4
#endif
#ifndef TERN_IPV6_PMTU_AGE_MS
#define TERN_IPV6_PMTU_AGE_MS 600000u
#endif

/* ---- UDP and sockets ----------------------------------------------------- */
/* (docs/sockets.md has the memory model.) */

/* 1: an OS is present (threads, the port's wait hook): socket calls may
 * block with timeouts. 0: a main loop; every call is non-blocking and the
 * blocking-only names (TERN_SO_RCVTIMEO, TERN_SO_SNDTIMEO,
 * tern_socket_set_blocking) are compile-time errors. RAM: 8 bytes per open
 * socket for the two timeouts when 1. */
#ifndef TERN_OS
#define TERN_OS 1
#endif
/* Sockets open at once. RAM: one pointer each in the stack plus 8 bytes,
 * and each open socket's structure on the heap (SOCKET, owner = its id).
 * Cortex-M: a UDP socket is 60 bytes (68 with TERN_OS=1), 72 (80) with the
 * heap's block header; a TCP socket is 232 (240), its connection in the same
 * block, 240 (248) on the heap. Ids are 1..TERN_SOCKET_MAX. */
#ifndef TERN_SOCKET_MAX
#define TERN_SOCKET_MAX 16
#endif
/* Network buffers that datagrams waiting in socket queues may never take:
 * a queued datagram is dropped (udp.drop_rx_reserve) when fewer than this
 * many buffers would stay free, so sockets nobody drains cannot starve ARP,
 * ping, TCP and the other sockets. RAM: none. */
#ifndef TERN_NETBUF_RX_RESERVE
#define TERN_NETBUF_RX_RESERVE 4
#endif
_Static_assert(TERN_NETBUF_RX_RESERVE >= 1 && TERN_NETBUF_RX_RESERVE < TERN_NETBUF_COUNT,
               "TERN_NETBUF_RX_RESERVE must leave at least one buffer for socket queues");
/* Datagrams a UDP socket queues before dropping (ipconfigUDP_MAX_RX_PACKETS;
 * per socket with TERN_SO_UDP_RXQ, 1..TERN_NETBUF_COUNT - TERN_NETBUF_RX_RESERVE). RAM: none of its
 * own; each queued datagram holds one network buffer (STATIC: a whole
 * buffer; HEAP: cut to 10 + headers + payload bytes while queued). */
#ifndef TERN_UDP_RXQ_DEFAULT
#define TERN_UDP_RXQ_DEFAULT 4
#endif
/* TCP sockets: most established connections a listener holds for
 * tern_accept (tern_listen's backlog is clamped to 1..this). RAM: the
 * listener's queue, one pointer per backlog slot (SOCKET, owner = the
 * listener's id, allocated by tern_listen); each waiting connection holds
 * its structure (188 bytes of heap on Cortex-M) and, once the peer sends,
 * its receive ring, charged to the listener until accepted. */
#ifndef TERN_TCP_BACKLOG_MAX
#define TERN_TCP_BACKLOG_MAX 8
#endif
/* The classic services (apps/services: echo, discard, chargen on TCP and
 * UDP): TCP connections served at once per service; one more is accepted
 * and reset at once. RAM: 8 bytes per slot in tern_services_t, and each
 * connection a socket id, its socket (80 bytes of heap on Cortex-M), its
 * connection structure and rings. */
#ifndef TERN_SOCKET_SERVICE_CONNS
#define TERN_SOCKET_SERVICE_CONNS 2
#endif
_Static_assert(TERN_OS == 0 || TERN_OS == 1, "TERN_OS must be 0 (main loop) or 1 (threads)");
_Static_assert(TERN_TCP_BACKLOG_MAX >= 1 && TERN_TCP_BACKLOG_MAX <= 255, "TERN_TCP_BACKLOG_MAX must be 1..255");
_Static_assert(TERN_SOCKET_SERVICE_CONNS >= 1 && TERN_SOCKET_SERVICE_CONNS <= 64,
               "TERN_SOCKET_SERVICE_CONNS must be 1..64");
_Static_assert(TERN_UDP_RXQ_DEFAULT >= 1 && TERN_UDP_RXQ_DEFAULT <= TERN_NETBUF_COUNT,
               "TERN_UDP_RXQ_DEFAULT must be 1..TERN_NETBUF_COUNT: a queue cannot hold more buffers than exist");

/* ---- DHCP and DNS ---------------------------------------------------------- */

/* DHCP client (include/tern/dhcp.h). Its state is one ledger block (DHCP)
 * from tern_dhcp_start to tern_dhcp_stop: 280 bytes on Cortex-M with these
 * defaults (288 of heap with the block header; docs/dhcp_dns.md); nothing
 * when unused. */

/* Hostname sent in option 12 ("" sends none). RAM: TERN_DHCP_HOSTNAME_MAX + 1
 * bytes in the client state. */
#ifndef TERN_DHCP_HOSTNAME
#define TERN_DHCP_HOSTNAME "tern"
#endif
#ifndef TERN_DHCP_HOSTNAME_MAX
#define TERN_DHCP_HOSTNAME_MAX 32
#endif
/* DNS servers kept from option 6. RAM: 4 bytes each in the client state. */
#ifndef TERN_DHCP_MAX_DNS
#define TERN_DHCP_MAX_DNS 2
#endif
/* The first DISCOVER waits a random time below this (RFC 2131 4.4.1 asks 1 to
 * 10 s, so that devices powered on together do not all ask at once). */
#ifndef TERN_DHCP_INIT_DELAY_MS
#define TERN_DHCP_INIT_DELAY_MS 1000u
#endif
/* REQUESTs sent for one OFFER (4, 8, 16 s apart, RFC 2131 4.1) before
 * starting over with a DISCOVER. */
#ifndef TERN_DHCP_REQUEST_TRIES
#define TERN_DHCP_REQUEST_TRIES 4
#endif
/* ARP probes of the offered address before using it (RFC 5227 2.1.1; 0 skips
 * the check), spaced 1 to 2 intervals apart, then 2 intervals of waiting. */
#ifndef TERN_DHCP_ARP_PROBES
#define TERN_DHCP_ARP_PROBES 3
#endif
#ifndef TERN_DHCP_PROBE_INTERVAL_MS
#define TERN_DHCP_PROBE_INTERVAL_MS 1000u
#endif
/* Shortest lease accepted: a shorter one is treated as this long, so a
 * hostile or broken server cannot make the client renew in a tight loop. */
#ifndef TERN_DHCP_MIN_LEASE_S
#define TERN_DHCP_MIN_LEASE_S 60u
#endif
/* Static fallback: after TERN_DHCP_FALLBACK_AFTER DISCOVERs without an OFFER
 * configure this address (0: no fallback); tern_dhcp_set_fallback() changes
 * it at run time. Use TERN_IP4(a, b, c, d). RAM: none (kept in the state). */
#ifndef TERN_DHCP_FALLBACK_AFTER
#define TERN_DHCP_FALLBACK_AFTER 0
#endif
#ifndef TERN_DHCP_FALLBACK_ADDR
#define TERN_DHCP_FALLBACK_ADDR 0u
#endif
#ifndef TERN_DHCP_FALLBACK_NETMASK
#define TERN_DHCP_FALLBACK_NETMASK 0u
#endif
#ifndef TERN_DHCP_FALLBACK_GATEWAY
#define TERN_DHCP_FALLBACK_GATEWAY 0u
#endif

/* DNS client (include/tern/dns.h). The client is one ledger block
 * (DNS_CACHE), 152 bytes on Cortex-M with these defaults, from
 * tern_dns_start to tern_dns_stop; queries and cache entries are blocks of
 * their own, allocated on use (sizes in docs/dhcp_dns.md). */

/* Servers set with tern_dns_set_servers. RAM: 4 bytes each. */
#ifndef TERN_DNS_MAX_SERVERS
#define TERN_DNS_MAX_SERVERS 3
#endif
/* Cache entries at most, allocated when an answer arrives, freed at their
 * TTL or when evicted. RAM: 12 + name length + 1 bytes each (+ the heap's
 * 8-byte header, rounded to 8: 40 bytes for "host.example"). */
#ifndef TERN_DNS_CACHE_ENTRIES
#define TERN_DNS_CACHE_ENTRIES 8
#endif
/* TTLs are capped to this (seconds); TTL 0 answers are not cached. */
#ifndef TERN_DNS_CACHE_MAX_TTL_S
#define TERN_DNS_CACHE_MAX_TTL_S 3600u
#endif
/* Lookups running at once. RAM: 84 bytes + 2 x name length + 3 each (120
 * of heap for "host.example"), allocated when the lookup starts, freed
 * when it completes. */
#ifndef TERN_DNS_MAX_QUERIES
#define TERN_DNS_MAX_QUERIES 4
#endif
/* First retransmission timeout; it doubles after each round over the
 * servers (RFC 1035 4.2.1 leaves the policy to the resolver). */
#ifndef TERN_DNS_RETRY_MS
#define TERN_DNS_RETRY_MS 1000u
#endif
/* Transmissions of one query, over all servers. */
#ifndef TERN_DNS_MAX_TRIES
#define TERN_DNS_MAX_TRIES 4
#endif
/* A start-and-poll result nobody collected is freed after this. */
#ifndef TERN_DNS_RESULT_HOLD_MS
#define TERN_DNS_RESULT_HOLD_MS 10000u
#endif

_Static_assert(TERN_DHCP_MAX_DNS >= 1 && TERN_DHCP_MAX_DNS <= 16, "TERN_DHCP_MAX_DNS must be 1..16");
_Static_assert(TERN_DHCP_HOSTNAME_MAX >= 1 && TERN_DHCP_HOSTNAME_MAX <= 63,
               "TERN_DHCP_HOSTNAME_MAX must be 1..63 (one DNS label)");
_Static_assert(TERN_DHCP_REQUEST_TRIES >= 1 && TERN_DHCP_REQUEST_TRIES <= 16, "TERN_DHCP_REQUEST_TRIES must be 1..16");
_Static_assert(TERN_DHCP_ARP_PROBES >= 0 && TERN_DHCP_ARP_PROBES <= 16, "TERN_DHCP_ARP_PROBES must be 0..16");
_Static_assert(TERN_DHCP_PROBE_INTERVAL_MS >= 1u && TERN_DHCP_PROBE_INTERVAL_MS <= 60000u,
               "TERN_DHCP_PROBE_INTERVAL_MS must be 1..60000");
_Static_assert(TERN_DHCP_MIN_LEASE_S >= 10u, "TERN_DHCP_MIN_LEASE_S must be at least 10");
_Static_assert(TERN_DNS_MAX_SERVERS >= 1 && TERN_DNS_MAX_SERVERS <= 8, "TERN_DNS_MAX_SERVERS must be 1..8");
_Static_assert(TERN_DNS_CACHE_ENTRIES >= 0 && TERN_DNS_CACHE_ENTRIES <= 1024, "TERN_DNS_CACHE_ENTRIES must be 0..1024");
_Static_assert(TERN_DNS_CACHE_MAX_TTL_S <= 86400u, "TERN_DNS_CACHE_MAX_TTL_S must be at most one day (ms timers)");
_Static_assert(TERN_DNS_MAX_QUERIES >= 1 && TERN_DNS_MAX_QUERIES <= 64, "TERN_DNS_MAX_QUERIES must be 1..64");
_Static_assert(TERN_DNS_MAX_TRIES >= 1 && TERN_DNS_MAX_TRIES <= 16, "TERN_DNS_MAX_TRIES must be 1..16");
_Static_assert(TERN_DNS_RETRY_MS >= 10u && TERN_DNS_RETRY_MS <= 60000u, "TERN_DNS_RETRY_MS must be 10..60000");

/* ---- TCP ------------------------------------------------------------------ */

/* Receive and send ring sizes of a connection (per-connection override with
 * tern_tcp_set_bufsizes). RAM: each connection holds at most these bytes
 * (TCP_STREAM_RX / TCP_STREAM_TX), allocated at the first byte received /
 * written and freed at close. The advertised window never exceeds the free
 * receive space. */
#ifndef TERN_TCP_RCVBUF
#define TERN_TCP_RCVBUF 4380u
#endif
#ifndef TERN_TCP_SNDBUF
#define TERN_TCP_SNDBUF 4380u
#endif
/* Range descriptors shared by all connections, allocated at the
 * first listen or connect (TCP_RANGES): each holds one out-of-order range
 * of a receive ring or one SACKed range of a send ring (the sender's SACK
 * scoreboard, RFC 6675). RAM: 12 bytes each (16 on a 64-bit host). Empty
 * pool: out-of-order data is dropped and comes back by retransmission, and
 * a sender that cannot record a SACK block recovers with NewReno. */
#ifdef TERN_TCP_SEG_COUNT
#error "TERN_TCP_SEG_COUNT is now TERN_TCP_RANGE_COUNT (the pool, its ledger category TCP_RANGES and tern_tcp_range_usage share the name)"
#endif
#ifndef TERN_TCP_RANGE_COUNT
#define TERN_TCP_RANGE_COUNT 32
#endif
/* Most out-of-order ranges one connection may hold (fairness). */
#ifndef TERN_TCP_OOO_PER_CONN
#define TERN_TCP_OOO_PER_CONN 8
#endif
/* Most SACKed ranges one connection's scoreboard may hold (a peer cannot
 * drain the shared pool with scattered SACK blocks). */
#ifndef TERN_TCP_SACK_PER_CONN
#define TERN_TCP_SACK_PER_CONN 8
#endif
/* SACK (RFC 2018) and timestamps (RFC 7323) offered in SYNs; 0: never
 * offered nor accepted. Per connection: TERN_TCP_OPT_NOSACK / _NOTS. */
#ifndef TERN_TCP_SACK
#define TERN_TCP_SACK 1
#endif
#ifndef TERN_TCP_TIMESTAMPS
#define TERN_TCP_TIMESTAMPS 1
#endif
/* Lowest path MTU an ICMP fragmentation-needed message may set (RFC 1191;
 * bounds the MSS a forged message can force: 552 - 40 = 512 bytes). */
#ifndef TERN_TCP_PMTU_MIN
#define TERN_TCP_PMTU_MIN 552u
#endif
/* TIME-WAIT table entries, allocated at the first listen or connect
 * (SOCKET, owner 0). RAM: 28 bytes each. When full the oldest entry is
 * recycled. */
#ifndef TERN_TCP_TIMEWAIT_MAX
#define TERN_TCP_TIMEWAIT_MAX 16
#endif
/* Slots of the table that finds a TCP connection by its 4-tuple and a
 * listener by its port (open addressing, a power of two; static in struct
 * tern_stack, shown in the ledger's SOCKET static column). RAM: one
 * pointer each. Connections beyond size - 1 still work, found by walking
 * the connection list as without the table. */
#ifndef TERN_TCP_HASH_SIZE
#define TERN_TCP_HASH_SIZE 64
#endif
/* TIME-WAIT length (2 MSL; RFC 9293 uses MSL = 2 min, small stacks less). */
#ifndef TERN_TCP_TIMEWAIT_MS
#define TERN_TCP_TIMEWAIT_MS 30000u
#endif
/* Connections half-open (SYN-RECEIVED) at once over the whole stack. RAM:
 * bounds SYN-flood memory to this many connection structures. */
#ifndef TERN_TCP_SYN_MAX
#define TERN_TCP_SYN_MAX 8
#endif
/* SYN cookies (RFC 4987): when a listener's backlog or TERN_TCP_SYN_MAX is
 * full, answer a SYN with a SYN-ACK whose ISN encodes the connection
 * instead of keeping state (0: evict the oldest half-open child instead). */
#ifndef TERN_TCP_SYN_COOKIES
#define TERN_TCP_SYN_COOKIES 1
#endif
/* The cookie key changes every period; a cookie is valid in the period it
 * was sent and the next (so for one to two periods). */
#ifndef TERN_TCP_SYN_COOKIE_PERIOD_MS
#define TERN_TCP_SYN_COOKIE_PERIOD_MS 30000u
#endif
/* Retransmission timeout bounds and initial value (RFC 6298 2.1, 2.4). */
#ifndef TERN_TCP_RTO_MIN_MS
#define TERN_TCP_RTO_MIN_MS 200u
#endif
#ifndef TERN_TCP_RTO_MAX_MS
#define TERN_TCP_RTO_MAX_MS 60000u
#endif
#ifndef TERN_TCP_RTO_INIT_MS
#define TERN_TCP_RTO_INIT_MS 1000u
#endif
/* Retransmissions of one segment before the connection is aborted with
 * TERN_ERR_TIMEOUT (SYNs: TERN_TCP_SYN_RETRIES). */
#ifndef TERN_TCP_MAX_RETRIES
#define TERN_TCP_MAX_RETRIES 12
#endif
#ifndef TERN_TCP_SYN_RETRIES
#define TERN_TCP_SYN_RETRIES 6
#endif
/* SYN-ACK retransmissions of a half-open passive connection before it is
 * dropped: 3 (1 + 2 + 4 + 8 s = 15 s) keeps a SYN flood's entries short-lived
 * (Linux: tcp_synack_retries 5). */
#ifndef TERN_TCP_SYNACK_RETRIES
#define TERN_TCP_SYNACK_RETRIES 3
#endif
/* Delayed ACK timer (RFC 1122 4.2.3.2: under 500 ms; every 2nd full segment
 * is acknowledged at once). */
#ifndef TERN_TCP_DELACK_MS
#define TERN_TCP_DELACK_MS 40u
#endif
/* Keep-alive: idle time, probe interval, probes before giving up. */
#ifndef TERN_TCP_KEEPIDLE_MS
#define TERN_TCP_KEEPIDLE_MS 7200000u
#endif
#ifndef TERN_TCP_KEEPINTVL_MS
#define TERN_TCP_KEEPINTVL_MS 75000u
#endif
#ifndef TERN_TCP_KEEPCNT
#define TERN_TCP_KEEPCNT 9
#endif
/* RFC 5961 challenge ACKs sent per second at most (stack-wide). */
#ifndef TERN_TCP_CHALLENGE_ACK_LIMIT
#define TERN_TCP_CHALLENGE_ACK_LIMIT 10
#endif

/* ---- HTTP (apps/http: the dashboard server) -------------------------------
 * Parser limits. The parser state (struct tern_http_parser) is the RAM cost
 * per connection: the line buffer (the larger of the two line limits) plus
 * the request fields (path, query, host, If-None-Match) plus ~24 bytes; with
 * the defaults 608 bytes on Cortex-M. Limits without a RAM cost are counters. */

/* Longest request line; a longer one is answered 414. RAM: line buffer. */
#ifndef TERN_HTTP_REQUEST_LINE_MAX
#define TERN_HTTP_REQUEST_LINE_MAX 256u
#endif
/* Longest header line the server interprets (Host, Connection,
 * Content-Length, Transfer-Encoding, If-None-Match, Accept-Encoding); longer:
 * 431. Other header lines are skipped unbuffered. RAM: line buffer. */
#ifndef TERN_HTTP_HEADER_LINE_MAX
#define TERN_HTTP_HEADER_LINE_MAX 256u
#endif
/* Bytes of the whole request head (request line and headers); more: 431. No RAM. */
#ifndef TERN_HTTP_HEADERS_MAX
#define TERN_HTTP_HEADERS_MAX 8192u
#endif
/* Header fields in one request; more: 431. No RAM. */
#ifndef TERN_HTTP_HEADER_COUNT_MAX
#define TERN_HTTP_HEADER_COUNT_MAX 64u
#endif
/* Longest decoded path (414 beyond) and query (414). RAM: each + 1 byte. */
#ifndef TERN_HTTP_PATH_MAX
#define TERN_HTTP_PATH_MAX 128u
#endif
#ifndef TERN_HTTP_QUERY_MAX
#define TERN_HTTP_QUERY_MAX 64u
#endif
/* Longest Host value (400 beyond) and If-None-Match value kept (a longer one
 * is ignored: it cannot match our ETags). RAM: each + 1 byte. */
#ifndef TERN_HTTP_HOST_MAX
#define TERN_HTTP_HOST_MAX 64u
#endif
#ifndef TERN_HTTP_ETAG_MAX
#define TERN_HTTP_ETAG_MAX 64u
#endif
/* Request body bytes (Content-Length) read and discarded; more: 413. The
 * server takes no bodies. No RAM. */
#ifndef TERN_HTTP_BODY_MAX
#define TERN_HTTP_BODY_MAX 1024u
#endif
/* Server: connections served at once; one more is answered 503 and closed.
 * RAM: each open connection holds one structure on the heap (HTTP, about
 * 1 KB with the defaults: the parser, a head buffer and bookkeeping), and a
 * /api/stats response its JSON document (about 4 KB) while it is sent. */
#ifndef TERN_HTTP_MAX_CONNS
#define TERN_HTTP_MAX_CONNS 4u
#endif
/* A request must arrive whole within this after the connection opens or the
 * previous response ends (slow-loris bound); then the connection is closed. */
#ifndef TERN_HTTP_HEADER_TIMEOUT_MS
#define TERN_HTTP_HEADER_TIMEOUT_MS 10000u
#endif
/* A keep-alive connection with no request in progress is closed after this. */
#ifndef TERN_HTTP_IDLE_TIMEOUT_MS
#define TERN_HTTP_IDLE_TIMEOUT_MS 15000u
#endif
/* Receive ring of each HTTP connection (TERN_SO_RCVBUF on the listener):
 * the parser consumes requests as they arrive, so one MSS is plenty. RAM:
 * this many bytes per connection once a request arrives (TCP_STREAM_RX);
 * the default TCP ring (TERN_TCP_RCVBUF) would cost 2.9 KB more. */
#ifndef TERN_HTTP_RCVBUF
#define TERN_HTTP_RCVBUF 1460u
#endif

/* ---- Checks of impossible combinations --------------------------------- */

_Static_assert(TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC || TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP,
               "TERN_NETBUF_SCHEME must be TERN_NETBUF_STATIC or TERN_NETBUF_HEAP");
_Static_assert(TERN_NETBUF_COUNT >= 2 && TERN_NETBUF_COUNT <= 65535,
               "TERN_NETBUF_COUNT must be 2..65535: one RX and one TX buffer at least");
_Static_assert(TERN_NETBUF_FRAME_SIZE >= 64 && TERN_NETBUF_FRAME_SIZE <= 65535,
               "TERN_NETBUF_FRAME_SIZE must hold a minimum Ethernet frame and fit 16 bits");
_Static_assert(TERN_HEAP_MAX_REGIONS >= 1, "TERN_HEAP_MAX_REGIONS must be at least 1");
_Static_assert(TERN_LEDGER_APP_CATEGORIES >= 0 && TERN_LEDGER_APP_CATEGORIES <= 32,
               "TERN_LEDGER_APP_CATEGORIES must be 0..32");
_Static_assert(TERN_LEDGER_OWNERS >= 1 && TERN_LEDGER_OWNERS <= 1023,
               "TERN_LEDGER_OWNERS must be 1..1023 (owner ids are 10 bits)");
_Static_assert(TERN_SOCKET_MAX >= 1 && TERN_SOCKET_MAX < TERN_OWNER_LIMIT_,
               "TERN_SOCKET_MAX must be 1..1022: socket ids are ledger owners");
_Static_assert(TERN_TCP_RCVBUF >= 536u && TERN_TCP_RCVBUF <= 0x3FFFFFFFu && TERN_TCP_SNDBUF >= 536u &&
                   TERN_TCP_SNDBUF <= 0x3FFFFFFFu,
               "TCP ring sizes must be 536 bytes..1 GB");
/* One maximum segment of the largest frame this build carries (Ethernet
 * and IPv4 + TCP headers off: 1460 by default). A ring smaller than that
 * never holds a full segment: Nagle and the peer's delayed ACK then meet on
 * every write (the issue #20 measurement: 60 times slower). Run-time ring
 * sizes are checked too: tern_tcp_set_bufsizes logs once (docs/config.md,
 * "How big should my rings be"). */
#define TERN_TCP_MSS_MAX_ ((long)TERN_NETBUF_FRAME_SIZE - 54L)
_Static_assert((long)TERN_TCP_RCVBUF >= TERN_TCP_MSS_MAX_,
               "TERN_TCP_RCVBUF is smaller than one maximum segment (TERN_NETBUF_FRAME_SIZE - 54, 1460 by default); "
               "see docs/config.md, How big should my rings be");
_Static_assert((long)TERN_TCP_SNDBUF >= TERN_TCP_MSS_MAX_,
               "TERN_TCP_SNDBUF is smaller than one maximum segment (TERN_NETBUF_FRAME_SIZE - 54, 1460 by default); "
               "see docs/config.md, How big should my rings be");
_Static_assert(TERN_TCP_RANGE_COUNT >= 0 && TERN_TCP_RANGE_COUNT <= 65535 && TERN_TCP_TIMEWAIT_MAX >= 1 &&
                   TERN_TCP_SYN_MAX >= 1,
               "TCP pools: 0..65535 range descriptors, at least one TIME-WAIT entry and one half-open slot");
_Static_assert((TERN_TCP_SYN_COOKIES == 0 || TERN_TCP_SYN_COOKIES == 1) && TERN_TCP_SYN_COOKIE_PERIOD_MS >= 1000u &&
                   TERN_TCP_SYN_COOKIE_PERIOD_MS <= 600000u,
               "TERN_TCP_SYN_COOKIES is 0 or 1, the cookie period 1..600 s");
_Static_assert(TERN_TCP_HASH_SIZE >= 2 && TERN_TCP_HASH_SIZE <= 65536 &&
                   (TERN_TCP_HASH_SIZE & (TERN_TCP_HASH_SIZE - 1)) == 0,
               "TERN_TCP_HASH_SIZE must be a power of two, 2..65536");
_Static_assert(TERN_TCP_SACK_PER_CONN >= 1 && TERN_TCP_SACK_PER_CONN <= 255 && TERN_TCP_OOO_PER_CONN >= 1 &&
                   TERN_TCP_OOO_PER_CONN <= 255,
               "TCP per-connection descriptor limits must be 1..255");
_Static_assert(TERN_TCP_PMTU_MIN >= 68u + 40u && TERN_TCP_PMTU_MIN <= 1500u, "TERN_TCP_PMTU_MIN must be 108..1500");
_Static_assert(TERN_ARP_CACHE_SIZE >= 1 && TERN_ARP_QUEUE_LEN >= 1,
               "ARP needs at least one cache entry and one queued packet per entry");
_Static_assert(TERN_ARP_MAX_INCOMPLETE >= 1 && TERN_ARP_MAX_INCOMPLETE <= TERN_ARP_CACHE_SIZE &&
                   TERN_ARP_QUEUE_TOTAL >= 1 && TERN_ARP_QUEUE_TOTAL <= 255,
               "TERN_ARP_MAX_INCOMPLETE must be 1..TERN_ARP_CACHE_SIZE, TERN_ARP_QUEUE_TOTAL 1..255");
_Static_assert(TERN_ARP_IN_USE_MS >= 1024u && TERN_ARP_IN_USE_MS <= 64800000u,
               "TERN_ARP_IN_USE_MS must be 1024 ms..18 h (1024 ms ticks in 16 bits)");

_Static_assert(!TERN_STATIC_ONLY || TERN_HEAP_SIZE > 0,
               "TERN_STATIC_ONLY carves its pools out of the TERN_HEAP_SIZE arena: it cannot be 0");

_Static_assert(TERN_HTTP_REQUEST_LINE_MAX >= 16u && TERN_HTTP_REQUEST_LINE_MAX <= 32767u &&
                   TERN_HTTP_HEADER_LINE_MAX >= 16u && TERN_HTTP_HEADER_LINE_MAX <= 32767u &&
                   TERN_HTTP_PATH_MAX >= 1u && TERN_HTTP_HEADER_COUNT_MAX <= 255u &&
                   TERN_HTTP_HEADERS_MAX <= 0x7FFFFFFFu,
               "HTTP limits: line limits 16..32767, path at least 1, at most 255 header fields");

#endif
