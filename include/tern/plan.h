/* The memory planner (issue #16): the heap bytes of a configuration and a
 * workload, per ledger category, before the board is flashed.
 *
 * One source of truth in three forms:
 *  - the TERN_PLAN_* macros below: each allocation kind's bytes, written
 *    once, as constant expressions of the struct sizes and the TERN_*
 *    configuration (a firmware build can _Static_assert its worst case fits
 *    its heap: ports/lm3s6965evb/main.c);
 *  - tern_plan_compute(): the same macros over a size table and a workload,
 *    for tern-plan, the /api/stats "planned" column and the scenario tests;
 *  - the size table itself: every module that allocates states the sizes
 *    its allocations use with TERN_PLAN_SIZE() in the "tern_plan" section of
 *    the image, so the host tool reads a board's real sizes out of its ELF
 *    (no size is typed by hand).
 *
 * Bytes per category are the sums of the sizes asked for: exactly what the
 * ledger's bytes and peak columns count. Heap figures add what tern_heap
 * adds to each block (docs/heap.md): the 8-byte header, rounding to 8, the
 * minimum block, and at most TERN_HEAP_MIN_BLOCK - 8 of remainder a block
 * may absorb when splitting it off would leave less than a minimum block.
 * The fragmentation margin on top: docs/memory.md ("Planner"). */
#ifndef TERN_PLAN_H
#define TERN_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/heap.h"
#include "tern/ledger.h"

/* ---- the formulas (constant expressions) --------------------------------- */

/* The heap block of a request of n bytes, exactly as tern_heap sizes it
 * (gross_size in src/mem/heap.c): header, rounded up to the alignment, at
 * least a minimum block. */
#define TERN_PLAN_GROSS_X(n, hdr, align, minb) \
    ((n) == 0u ? 0u : (((n) + (hdr) + (align)-1u) / (align) * (align)) < (minb) ? (minb) \
                                                                     : (((n) + (hdr) + (align)-1u) / (align) * (align)))
#define TERN_PLAN_GROSS(n) TERN_PLAN_GROSS_X((size_t)(n), TERN_HEAP_HEADER, TERN_HEAP_ALIGN, TERN_HEAP_MIN_BLOCK)
/* At most this much more per block: an unsplit remainder (< a min block). */
#define TERN_PLAN_SLACK_X(align, minb) ((minb) - (align))

/* A block as the plan counts it: its gross size and the remainder it may
 * absorb. */
#define TERN_PLAN_BLOCK(n) (TERN_PLAN_GROSS(n) + TERN_PLAN_SLACK_X(TERN_HEAP_ALIGN, TERN_HEAP_MIN_BLOCK))
/* The fragmentation margin for blocks live at once, the largest of
 * largest_gross bytes: (blocks - 1) x (largest - align). Why it suffices
 * (a pigeonhole argument over the holes between live blocks, which
 * coalescing keeps at most one more than the live blocks): docs/memory.md.
 * It holds for any placement; tern_heap's two ends allow a smaller one,
 * this formula per side (tern_plan_compute, side_margin). */
#define TERN_PLAN_MARGIN_X(blocks, largest_gross, align) \
    ((blocks) > 1u ? ((blocks)-1u) * ((largest_gross) - (align)) : 0u)
#define TERN_PLAN_MARGIN(blocks, largest_gross) TERN_PLAN_MARGIN_X(blocks, largest_gross, TERN_HEAP_ALIGN)
/* The bytes the heap arena hands out (its end marker takes a header). */
#define TERN_PLAN_HEAP_USABLE(arena) ((arena)-TERN_HEAP_HEADER)
/* need (a sum of TERN_PLAN_BLOCK terms) fits the configured heap; with the
 * fragmentation margin too. */
#define TERN_PLAN_HEAP_FITS(need) ((need) <= TERN_PLAN_HEAP_USABLE(TERN_HEAP_SIZE))
#define TERN_PLAN_HEAP_FITS_FRAGMENTED(need, blocks, largest_gross) \
    ((need) + TERN_PLAN_MARGIN(blocks, largest_gross) <= TERN_PLAN_HEAP_USABLE(TERN_HEAP_SIZE))

/* SOCKET: a TCP socket (connection structure + socket part, one block). */
#define TERN_PLAN_TCP_SOCKET(pcb, sock_tcp) ((pcb) + (sock_tcp))
/* SOCKET: a listener's accept queue. */
#define TERN_PLAN_LISTEN_QUEUE(head, slot, backlog) ((head) + (slot) * (backlog))
/* SOCKET: the TIME-WAIT table, once with the first listen or connect. */
#define TERN_PLAN_TIMEWAIT_TABLE(tw, max) ((tw) * (max))
/* TCP_RANGES: the descriptor pool, once with the first listen or connect. */
#define TERN_PLAN_RANGE_POOL(range, count) ((range) * (count))
/* ARP_CACHE: at stack init. */
#define TERN_PLAN_ARP_CACHE(entry, count) ((entry) * (count))
/* NETWORK_BUFFER (HEAP scheme): one buffer holding a frame of len bytes. */
#define TERN_PLAN_NETBUF(frame_offset, len) ((frame_offset) + (len))
/* The frame of a UDP datagram of len payload bytes (Ethernet, IPv4, UDP). */
#define TERN_PLAN_UDP_FRAME(len) (14u + 20u + 8u + (len))
/* IP_REASSEMBLY: one datagram of payload bytes being reassembled. */
#define TERN_PLAN_REASS(reass, payload) ((reass) + (payload))
/* IP_REASSEMBLY, IPv6 (TERN_IPV6): one datagram of payload bytes (the
 * fragmentable part); reass6 is the block's fixed part, the reassembly
 * state and fragment zero's fixed header (src/net/ipv6_frag.c). */
#define TERN_PLAN_REASS6(reass6, payload) ((reass6) + (payload))
/* NETWORK_BUFFER, HEAP scheme: the upper bound whatever the traffic. A
 * buffer's storage is one block of at most a full frame (taken at its
 * size, only ever shrunk), and at most count buffers exist (the
 * descriptors are static), so every queue that holds buffers (driver
 * rings, UDP receive queues, ARP queues, segments being sent) is bounded
 * by count blocks of a full frame together. */
#define TERN_PLAN_NETBUF_BOUND(frame_offset, frame_size, count) ((count) * TERN_PLAN_NETBUF(frame_offset, frame_size))
/* DNS_CACHE: a cache entry for a name of len characters; a query. */
#define TERN_PLAN_DNS_ENTRY(entry, len) ((entry) + (len) + 1u)
#define TERN_PLAN_DNS_QUERY(query, len) ((query) + 2u * (len) + 3u)

/* Static-only build (TERN_STATIC_ONLY): the arena bytes of a pool of count
 * slots for requests of at most size bytes: each slot an 8-byte header and
 * the size rounded up to 8 (src/mem/ledger.c carves them this way). */
#define TERN_PLAN_POOL_SLOT(size) (8u + ((size) + 7u) / 8u * 8u)
#define TERN_PLAN_POOL_BYTES(size, count) ((count) * TERN_PLAN_POOL_SLOT(size))

/* ---- the size table -------------------------------------------------------- */

/* One named size, 32 bytes, in the "tern_plan" section (a C identifier, so
 * GNU ld and lld provide __start_tern_plan / __stop_tern_plan, and keep the
 * section under --gc-sections while tern_plan_sizes_self() is linked: an
 * image that never calls it has no table for tern-plan --elf). */
typedef struct tern_plan_size_entry {
    char name[28];
    uint32_t value;
} tern_plan_size_entry_t;

#if defined(__GNUC__)
#define TERN_PLAN_SIZE_CAT_(a, b) a##b
#define TERN_PLAN_SIZE_CAT(a, b) TERN_PLAN_SIZE_CAT_(a, b)
/* State a size the module's allocations use: TERN_PLAN_SIZE(tcp_pcb, sizeof(struct tern_tcp_pcb)). */
#define TERN_PLAN_SIZE(name, value)                                                                                \
    __attribute__((used, section("tern_plan"), aligned(4))) static const tern_plan_size_entry_t TERN_PLAN_SIZE_CAT( \
        tern_plan_size_, name) = {#name, (uint32_t)(value)}
#else
#define TERN_PLAN_SIZE(name, value) _Static_assert(1, #name)
#endif

/* The sizes a plan uses (every field named as in the table). */
#define TERN_PLAN_SIZE_FIELDS(X)                                                                                  \
    X(heap_header) X(heap_align) X(heap_min_block) X(heap_size) X(ptr) X(stack) X(tcp_pcb) X(sock_tcp) X(sock_udp) \
    X(listen_head) X(listen_slot) X(tcp_tw) X(tcp_tw_max) X(tcp_range) X(tcp_range_count) X(tcp_rcvbuf)             \
    X(tcp_sndbuf) X(tcp_ooo_per_conn) X(arp_entry) X(arp_cache_size) X(ip_reass) X(ip_reassembly) X(netbuf_desc)   \
    X(netbuf_count) X(netbuf_scheme) X(netbuf_storage) X(netbuf_frame_offset) X(netbuf_frame_size) X(socket_max)  \
    X(udp_rxq_default) X(dhcp_state) X(dns_state) X(dns_query) X(dns_entry) X(http_conn) X(http_max_conns)         \
    X(http_rcvbuf)                                                                                                  \
    X(heap_large) X(static_only) X(ip6_reass)

typedef struct tern_plan_sizes {
#define TERN_PLAN_FIELD_(f) uint32_t f;
    TERN_PLAN_SIZE_FIELDS(TERN_PLAN_FIELD_)
#undef TERN_PLAN_FIELD_
} tern_plan_sizes_t;

/* Fill out from n bytes of a "tern_plan" section (entries by name; an
 * unknown name is skipped, a missing one stays 0). Returns the number of
 * entries matched. */
unsigned tern_plan_sizes_parse(tern_plan_sizes_t *out, const void *section, size_t n);
/* The sizes of the image this code runs in. */
unsigned tern_plan_sizes_self(tern_plan_sizes_t *out);

/* ---- the workload ------------------------------------------------------------ */

#define TERN_PLAN_TCP_SHAPES 4

/* Connections of one shape: count of them, with rings of rcvbuf / sndbuf
 * bytes, each ring allocated (rx / tx 1: data moved that way) or not. */
typedef struct tern_plan_tcp_shape {
    uint32_t count;
    uint32_t rcvbuf, sndbuf;
    uint8_t rx, tx;
} tern_plan_tcp_shape_t;

typedef struct tern_plan_workload {
    uint32_t tcp_listeners;        /* sockets API listeners ... */
    uint32_t tcp_backlog;          /* ... and their backlog (each) */
    uint32_t tcp_pending;          /* connections waiting for tern_accept or in SYN-RECEIVED */
    uint32_t tcp_raw;              /* raw-API connections (tern_tcp_connect / listen) */
    tern_plan_tcp_shape_t tcp[TERN_PLAN_TCP_SHAPES]; /* sockets API connections */
    uint32_t udp_sockets;
    uint32_t udp_queued;           /* datagrams queued at once, all sockets (HEAP scheme: buffers) ... */
    uint32_t udp_datagram;         /* ... of this payload size */
    uint32_t netbufs;              /* other buffers held at once (HEAP scheme) ... */
    uint32_t netbuf_frame;         /* ... of this frame size (0: the largest frame) */
    uint32_t reass_datagrams, reass_bytes;
    uint32_t dhcp;                 /* 1: the DHCP client runs */
    uint32_t dns;                  /* 1: the DNS client runs ... */
    uint32_t dns_entries, dns_queries, dns_name; /* ... its cache, queries in flight, name length */
    uint32_t http_conns;           /* HTTP server connections ... */
    uint32_t http_docs, http_doc_bytes; /* ... and /api/stats documents being sent */
    uint32_t app_blocks, app_block_bytes; /* the application's own tern_mem_alloc */
    uint32_t reass6_datagrams, reass6_bytes; /* IPv6 datagrams being reassembled, each of this payload */
    uint32_t netbuf_bound;         /* 1 (HEAP scheme): every buffer a full frame (TERN_PLAN_NETBUF_BOUND),
                                    * instead of udp_queued and netbufs */
} tern_plan_workload_t;

/* ---- the plan ------------------------------------------------------------------ */

/* The planner's categories: the ledger's built-in ones and the three
 * registered by the applications (by name, as they register). */
enum {
    TERN_PLAN_CAT_DHCP = TERN_MEM_APP_FIRST,
    TERN_PLAN_CAT_DNS_CACHE,
    TERN_PLAN_CAT_HTTP,
    TERN_PLAN_CAT_COUNT
};

typedef struct tern_plan_cat {
    uint64_t bytes;  /* sum of the sizes asked for: the ledger's peak, exactly */
    uint64_t gross;  /* their heap blocks (header, rounding, min block) */
    uint32_t blocks; /* blocks live at the worst case */
    uint32_t largest; /* the largest block (gross) */
} tern_plan_cat_t;

typedef struct tern_plan {
    tern_plan_cat_t cat[TERN_PLAN_CAT_COUNT];
    uint64_t bytes, gross, blocks;
    uint64_t slack;       /* blocks x (min block - 8): remainders blocks may absorb */
    uint64_t heap_need;   /* gross + slack: the most the heap can have in use */
    uint64_t margin;      /* fragmentation margin on top (docs/memory.md) */
    uint64_t margin_robson; /* Robson's first-fit bound, for comparison */
    uint64_t heap_total;  /* heap_need + margin: a heap this large never fails the workload */
    uint64_t static_bytes; /* struct tern_stack (arena included) */
    uint64_t static_netbuf; /* of which network buffers (descriptors, STATIC storage) */
    uint32_t largest;
    /* The two-ended bound (tern_heap places blocks of heap_large bytes or
     * more from the top): per side (0 small, 1 large) the most it holds
     * (gross + remainders), its blocks, its largest block and its margin.
     * margin = min(the one-ended bound, the two sides' sum) over heap_need. */
    uint64_t side_need[2];
    uint32_t side_blocks[2], side_largest[2];
    uint64_t side_margin[2];
    uint64_t margin_one_ended; /* (blocks - 1) x (largest - align): any placement */
} tern_plan_t;

/* The name of a planner category (the ledger's names, DHCP, DNS_CACHE, HTTP). */
const char *tern_plan_cat_name(unsigned cat);

/* The plan of workload w with the sizes s. */
void tern_plan_compute(const tern_plan_sizes_t *s, const tern_plan_workload_t *w, tern_plan_t *out);

/* The most connections of shape (in w's first free tcp[] slot) whose plan
 * fits heap bytes: heap_total <= heap (with_margin 1) or heap_need <= heap. */
uint32_t tern_plan_fit_connections(const tern_plan_sizes_t *s, const tern_plan_workload_t *w,
                                   const tern_plan_tcp_shape_t *shape, uint64_t heap, int with_margin);

#endif
