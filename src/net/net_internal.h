/* Internal interfaces between the link and network layers (not public API).
 *
 * Ownership rule for every *_input function: it consumes the buffer (passes
 * it on, keeps it, or releases it). Every *_output function consumes it too,
 * on success and on error. */
#ifndef TERN_NET_INTERNAL_H
#define TERN_NET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "tern/stack.h"
#include "util/log.h"  /* stack_log, stack_format_mac */
#include "util/time.h" /* net_time_reached */
#include "util/wire.h"
/* Packet views: field offsets, constants, checks and writers per header. */
#include "net/wire_arp.h"
#include "net/wire_eth.h"
#include "net/wire_icmp.h"
#include "net/wire_ipv4.h"

extern const uint8_t eth_broadcast_mac[6];

/* ---- checksum.c: the Internet checksum (RFC 1071) ---------------------- */

/* Add len bytes to a running ones'-complement sum (returned folded to 16
 * bits). Every chunk but the last must have an even length. */
uint32_t checksum_add(uint32_t sum, const void *data, size_t len);
/* Whether TCP sums its payload while copying it out of the send ring
 * (checksum_copy) rather than memcpy then checksum_add. Under callgrind on
 * x86-64 the two passes cost fewer instructions (perf_vwire: 4.25 against
 * 4.32 per byte moved: libc's memcpy moves 32 bytes an instruction), so
 * the host keeps them; where memcpy is word by word (Cortex-M) the fused
 * loop saves the second load of every word (not yet measured on a board). */
#if defined(__SSE2__) && !defined(CHECKSUM_FORCE_SCALAR)
#define CHECKSUM_COPY_FUSED 0
#else
#define CHECKSUM_COPY_FUSED 1
#endif
/* checksum_add over len bytes at src while copying them to dst (one pass
 * where a copy and a sum were two; the areas must not overlap). */
uint32_t checksum_copy(uint32_t sum, void *dst, const void *src, size_t len);
/* Add part, the checksum_add(0, ...) of a chunk that starts offset bytes
 * into the summed data (any offset: an odd one swaps part's bytes). */
uint32_t checksum_combine(uint32_t sum, uint32_t part, size_t offset);
/* The checksum field value for a running sum. */
uint16_t checksum_finish(uint32_t sum);
/* Checksum of one buffer; verifying a buffer that contains its checksum
 * field yields 0 when it is correct. */
uint16_t checksum_inet(const void *data, size_t len);
/* The running sum of the IPv4 pseudo header that UDP (RFC 768) and TCP
 * (RFC 9293 3.1) put under their checksums; len is the L4 length. */
uint32_t checksum_pseudo(tern_ip4_t src, tern_ip4_t dst, uint8_t proto, size_t len);

/* ---- netif.c: interfaces and their link types ------------------------- */

/* Hand one complete frame to the driver under the interface's TX ownership
 * rule (caps) and count it. */
int netif_transmit(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb);

/* ---- ethernet.c: the TERN_LINK_ETHERNET link type --------------------- */

void eth_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb);
/* Prepend an Ethernet header (needs 14 bytes of headroom) and transmit. */
int eth_output(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, const uint8_t dst[6], uint16_t type);

/* ---- arp.c ------------------------------------------------------------- */

int arp_init(tern_stack_t *stack);
void arp_deinit(tern_stack_t *stack);
void arp_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb);
/* Send an IPv4 packet (data = IP header) to nexthop on nif: at once when
 * resolved, else queued while a request is out. TERN_OK when sent or queued. */
int arp_output(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, tern_ip4_t nexthop);
/* Gratuitous ARP announcing nif's address (RFC 5227 2.3). */
int arp_announce(tern_stack_t *stack, tern_netif_t *nif);
/* Negative advice from a transport (RFC 1122 2.3.2.1): the path from src
 * to dst may be dead; re-confirm the next hop's resolved ARP entry. */
void arp_negative_advice(tern_stack_t *stack, tern_ip4_t src, tern_ip4_t dst);

/* ---- netif: IPv4 out through the interface's link type ----------------- */

/* Send an IPv4 packet (data = IP header) on nif to nexthop through its link
 * type: on Ethernet, to the broadcast MAC when nexthop is IPV4_BROADCAST (any
 * broadcast destination), else through ARP; on a bare-IP link, as is. Inline:
 * it sits on every packet's path (tests/perf). */
static inline int netif_output_ipv4(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, tern_ip4_t nexthop)
{
    if (nif->link == TERN_LINK_IP)
        return netif_transmit(stack, nif, nb);
    if (nexthop == IPV4_BROADCAST)
        return eth_output(stack, nif, nb, eth_broadcast_mac, ETH_TYPE_IPV4);
    return arp_output(stack, nif, nb, nexthop);
}
/* Retries, give-ups and aging; returns ms to the next ARP deadline
 * (UINT32_MAX when there is none). */
uint32_t arp_poll(tern_stack_t *stack, uint32_t now);

/* ---- ipv4.c ------------------------------------------------------------ */

/* What IPv4 input learned about a delivered packet. nb->data is then the
 * payload; hdr points at the IP header, still inside the buffer. */
typedef struct ipv4_rx {
    const uint8_t *hdr;
    tern_ip4_t src;
    tern_ip4_t dst;
    uint16_t hdr_len;
    uint16_t frag;      /* flags and offset field as received */
    uint8_t proto;
    uint8_t ttl;
    uint8_t dst_bcast;  /* limited or subnet-directed broadcast */
    uint8_t link_bcast; /* arrived in a link-layer broadcast/multicast */
} ipv4_rx_t;

void ipv4_init(tern_stack_t *stack);
void ipv4_deinit(tern_stack_t *stack);
void ipv4_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb);
/* Interface and next hop for dst (from src when src != 0), or NULL. */
tern_netif_t *ipv4_route(const tern_stack_t *stack, tern_ip4_t src, tern_ip4_t dst, tern_ip4_t *nexthop);
/* Prepend the IPv4 header to nb (data = payload, 34 bytes of headroom) and
 * send it on nif, or where ipv4_route says when nif is NULL. With nif
 * given, dst is on its link (a DHCP client's broadcast before it has an
 * address, when there is no route). src 0: the interface's address. */
int ipv4_output_via(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, tern_ip4_t src, tern_ip4_t dst,
                    uint8_t proto, uint8_t ttl);
/* The same, routed. */
static inline int ipv4_output(tern_stack_t *stack, tern_netbuf_t *nb, tern_ip4_t src, tern_ip4_t dst, uint8_t proto,
                              uint8_t ttl)
{
    return ipv4_output_via(stack, NULL, nb, src, dst, proto, ttl);
}
/* Reassembly timeouts; ms to the next deadline or UINT32_MAX. */
uint32_t ipv4_poll(tern_stack_t *stack, uint32_t now);
#if TERN_IP_REASSEMBLY
/* Send payload (len bytes, beyond the MTU) to dst as fragments of one
 * datagram, each copied into its own buffer (RFC 791 3.2). Only echo
 * replies to reassembled requests use it: everything else tern sends fits
 * the MTU with DF set. */
int ipv4_output_fragments(tern_stack_t *stack, const uint8_t *payload, size_t len, tern_ip4_t src, tern_ip4_t dst,
                          uint8_t proto);
#endif
/* The subnet-directed broadcast of nif, or 0 when it has none. */
tern_ip4_t ipv4_subnet_bcast(const tern_netif_t *nif);
/* Does ip name a single host? (tern_ip4_is_unicast_host, include/tern/ipv4.h) */
int ipv4_is_unicast_host(tern_ip4_t ip);
/* Is ip the address of one of our interfaces? */
int ipv4_is_our_addr(const tern_stack_t *stack, tern_ip4_t ip);

/* ---- icmp.c ------------------------------------------------------------ */

void icmp_init(tern_stack_t *stack);
void icmp_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, const ipv4_rx_t *ip);
#if TERN_IP_REASSEMBLY
/* A reassembled ICMP message too large for one buffer (msg, len bytes, in
 * the reassembly block): an echo request is answered in place, in
 * fragments; anything else is dropped. */
void icmp_input_large(tern_stack_t *stack, const tern_netif_t *nif, uint8_t *msg, size_t len, const ipv4_rx_t *ip);
#endif
/* Send an ICMP error about a received packet (header in ip->hdr, its data
 * at data, len bytes of it available) unless RFC 1122 3.2.2 forbids it or
 * the rate limit says no. Nothing passed in is kept. */
void icmp_send_error(tern_stack_t *stack, const tern_netif_t *nif, const uint8_t *data, size_t len,
                     const ipv4_rx_t *ip, uint8_t type, uint8_t code);

#endif
