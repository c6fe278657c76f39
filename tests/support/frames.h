/* Hand-built frames and a capture interface for the network-layer tests.
 *
 * Builders write into the caller's buffer and return the length. They fill
 * checksums with an independent textbook RFC 1071 routine (frame_checksum),
 * so the stack's own checksum code is checked, not trusted. Tests break
 * frames afterwards by editing bytes.
 *
 * capnet is a driver whose output records every frame sent, following its
 * interface's TX rule (caps): zero-copy, it releases with tern_netif_tx_done
 * (at once, or later when told to hold); copy mode, it copies and returns.
 * Its rx helper feeds frames the way a driver of that RX mode does
 * (rx_buffer_get + tern_input, or tern_input_copy). capnet_setup uses the
 * build's default caps (TERN_NETIF_CAPS_DEFAULT) and an Ethernet link. */
#ifndef TERN_TEST_FRAMES_H
#define TERN_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include "tern/stack.h"
#include "tern_test.h"

#define FRAME_MAX 1600u
#define CAPNET_MAX_FRAMES 48u

/* The test network (192.0.2.0/24, RFC 5737). */
extern const uint8_t FR_OUR_MAC[6];   /* 02:00:00:00:00:02 */
extern const uint8_t FR_PEER_MAC[6];  /* 02:00:00:00:00:01, the gateway */
extern const uint8_t FR_OTHER_MAC[6]; /* 02:00:00:00:00:03 */
extern const uint8_t FR_BCAST_MAC[6];
extern const uint8_t FR_ZERO_MAC[6];
#define FR_OUR_IP TERN_IP4(192, 0, 2, 2)
#define FR_PEER_IP TERN_IP4(192, 0, 2, 1)
#define FR_OTHER_IP TERN_IP4(192, 0, 2, 3)
#define FR_NETMASK TERN_IP4(255, 255, 255, 0)
#define FR_SUBNET_BCAST TERN_IP4(192, 0, 2, 255)
#define FR_REMOTE_IP TERN_IP4(198, 51, 100, 7) /* off-link: via the gateway */

/* ---- builders ---------------------------------------------------------- */

/* Big-endian fields; the 16-bit ones take and give the low 16 bits of a
 * uint32_t so callers need no casts. */
void be16_put(uint8_t *p, uint32_t v);
void be32_put(uint8_t *p, uint32_t v);
uint32_t be16_get(const uint8_t *p);
uint32_t be32_get(const uint8_t *p);

uint16_t frame_checksum(const void *data, size_t len);

size_t frame_eth(uint8_t *out, const uint8_t dst[6], const uint8_t src[6], uint16_t type, const void *payload,
                 size_t len);
/* The 28-byte ARP packet. */
size_t frame_arp(uint8_t *out, uint16_t op, const uint8_t sha[6], tern_ip4_t spa, const uint8_t tha[6], tern_ip4_t tpa);
/* A whole ARP frame; the Ethernet source is sha. */
size_t frame_arp_eth(uint8_t *out, const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6], tern_ip4_t spa,
                     const uint8_t tha[6], tern_ip4_t tpa);

typedef struct frame_ip {
    tern_ip4_t src;
    tern_ip4_t dst;
    uint8_t proto;
    uint8_t ttl;      /* 0: 64 */
    uint8_t tos;
    uint16_t id;
    uint16_t frag;    /* flags and offset */
    const uint8_t *options;
    size_t opt_len;   /* multiple of 4 */
} frame_ip_t;
/* IPv4 header (with checksum) and payload. */
size_t frame_ipv4(uint8_t *out, const frame_ip_t *ip, const void *payload, size_t len);
/* ICMP message with checksum; rest is the second 32-bit word. */
size_t frame_icmp(uint8_t *out, uint8_t type, uint8_t code, uint32_t rest, const void *data, size_t len);
/* UDP header and data (data may already sit at out + 8) with the checksum
 * over the RFC 768 pseudo header; returns 8 + len. */
size_t frame_udp(uint8_t *out, tern_ip4_t src, tern_ip4_t dst, uint16_t sport, uint16_t dport, const void *data,
                 size_t len);
/* Whole Ethernet + IPv4 frame around payload (dst MAC FR_OUR_MAC, src
 * FR_PEER_MAC unless changed with the eth variant). */
size_t frame_ip_eth(uint8_t *out, const frame_ip_t *ip, const void *payload, size_t len);
size_t frame_ip_eth2(uint8_t *out, const uint8_t eth_dst[6], const uint8_t eth_src[6], const frame_ip_t *ip,
                     const void *payload, size_t len);
/* Whole echo request/reply frame from FR_PEER (MAC, src) to us. */
size_t frame_echo(uint8_t *out, tern_ip4_t src, tern_ip4_t dst, uint8_t type, uint16_t id, uint16_t seq,
                  const void *data, size_t len);

/* ---- the capture interface --------------------------------------------- */

typedef struct capnet {
    tern_netif_t nif;
    tern_stack_t *stack;
    unsigned count;                  /* frames recorded since capnet_clear */
    unsigned total;                  /* frames output since setup */
    size_t len[CAPNET_MAX_FRAMES];
    uint8_t frame[CAPNET_MAX_FRAMES][FRAME_MAX];
    int output_result;               /* what output returns (TERN_OK by default) */
    int hold;                        /* zero-copy TX: keep buffers until capnet_tx_complete */
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    unsigned held_count;
    unsigned captured_rx, captured_tx; /* capture hook calls */
    size_t captured_tx_bytes;
    unsigned inits, shutdowns;
    unsigned bad_ownership;          /* output got a buffer flagged against its interface's rule */
} capnet_t;

/* Register with the stack (link down, no address). */
void capnet_setup(capnet_t *cn, tern_stack_t *stack, const char *name, const uint8_t mac[6]);
/* The same with the interface's caps (TERN_NETIF_CAP_*) and link type. */
void capnet_setup_caps(capnet_t *cn, tern_stack_t *stack, const char *name, const uint8_t mac[6], uint8_t caps,
                       uint8_t link);
/* Link up and the address set; the gratuitous ARP is recorded. */
void capnet_up(capnet_t *cn, tern_ip4_t addr, tern_ip4_t mask, tern_ip4_t gw);
/* Feed one received frame in as this build's drivers do. */
void capnet_rx(capnet_t *cn, const void *frame, size_t len, uint32_t now);
const uint8_t *capnet_frame(const capnet_t *cn, unsigned i, size_t *len);
void capnet_clear(capnet_t *cn);
/* Zero-copy: tell the stack the held buffers are sent. */
void capnet_tx_complete(capnet_t *cn);

/* ---- memory baseline --------------------------------------------------- */

typedef struct mem_snapshot {
    size_t ledger_bytes;
    size_t heap_used;
    uint16_t netbufs_free;
    uint32_t bad_releases;
} mem_snapshot_t;

void mem_snapshot(const tern_stack_t *stack, mem_snapshot_t *out);
/* Ledger and heap verify, and the same bytes and free buffers as base. */
void mem_assert_baseline(const tern_stack_t *stack, const mem_snapshot_t *base);

/* ---- a stack on one capture interface ---------------------------------- */

typedef struct net_fixture {
    tern_test_port_t tp;
    tern_stack_t stack;
    capnet_t cn;
    mem_snapshot_t base;
    uint32_t now;
} net_fixture_t;

/* Stack up at FR_OUR_IP/24, gateway FR_PEER_IP, frames and counters
 * cleared, baseline taken. Heap-allocated (the stack is large). */
net_fixture_t *net_fixture_new(uint64_t seed);
/* cmocka setup and teardown bodies: a fixture (seed) with the peer in the
 * ARP cache, baseline taken after, in *state; and its free. */
int net_fixture_setup(void **state, uint64_t seed);
int net_fixture_teardown(void **state);
/* Baseline check, deinit, ledger back to empty, free. */
void net_fixture_free(net_fixture_t *f);
/* Put FR_PEER_IP -> FR_PEER_MAC in the ARP cache (a request from the peer
 * to us; our reply is cleared). */
void net_fixture_learn_peer(net_fixture_t *f);
/* Shorthand: feed a frame at f->now. */
void fx_rx(net_fixture_t *f, const void *frame, size_t len);

/* Feed a frame and assert it was dropped: counted once in *counter, one
 * drop over all layers, nothing sent, memory back at the baseline. */
void fx_expect_drop(net_fixture_t *f, const void *frame, size_t len, const uint32_t *counter);

/* Sum of all drop counters of every layer (a malformed packet adds one). */
uint32_t counters_drops(const tern_counters_t *c);

#endif
