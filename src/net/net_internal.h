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

#define ETH_HDR_LEN 14u
#define ETH_TYPE_IPV4 0x0800u
#define ETH_TYPE_ARP 0x0806u

#define ARP_PKT_LEN 28u

#define IPV4_HDR_LEN 20u
#define IPV4_PROTO_ICMP 1u
#define IPV4_PROTO_TCP 6u
#define IPV4_PROTO_UDP 17u
#define IPV4_FLAG_DF 0x4000u
#define IPV4_FLAG_MF 0x2000u
#define IPV4_OFFSET_MASK 0x1FFFu
#define IPV4_BROADCAST TERN_IP4_BROADCAST

#define ICMP_HDR_LEN 8u
/* Largest echo payload without fragmentation: 1500 - 20 - 8. */
#define ICMP_ECHO_MAX_DATA 1472u

extern const uint8_t eth_broadcast_mac[6];

/* ---- checksum.c: the Internet checksum (RFC 1071) ---------------------- */

/* Add len bytes to a running ones'-complement sum (returned folded to 16
 * bits). Every chunk but the last must have an even length. */
uint32_t checksum_add(uint32_t sum, const void *data, size_t len);
/* The checksum field value for a running sum. */
uint16_t checksum_finish(uint32_t sum);
/* Checksum of one buffer; verifying a buffer that contains its checksum
 * field yields 0 when it is correct. */
uint16_t checksum_inet(const void *data, size_t len);
/* The running sum of the IPv4 pseudo header that UDP (RFC 768) and TCP
 * (RFC 9293 3.1) put under their checksums; len is the L4 length. */
uint32_t checksum_pseudo(tern_ip4_t src, tern_ip4_t dst, uint8_t proto, size_t len);

/* ---- ethernet.c -------------------------------------------------------- */

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
 * send it. src 0: the interface's address. */
int ipv4_output(tern_stack_t *stack, tern_netbuf_t *nb, tern_ip4_t src, tern_ip4_t dst, uint8_t proto, uint8_t ttl);
/* Reassembly timeouts; ms to the next deadline or UINT32_MAX. */
uint32_t ipv4_poll(tern_stack_t *stack, uint32_t now);
/* The subnet-directed broadcast of nif, or 0 when it has none. */
tern_ip4_t ipv4_subnet_bcast(const tern_netif_t *nif);
/* Does ip name a single host? (tern_ip4_is_unicast_host, include/tern/ipv4.h) */
int ipv4_is_unicast_host(tern_ip4_t ip);
/* Is ip the address of one of our interfaces? */
int ipv4_is_our_addr(const tern_stack_t *stack, tern_ip4_t ip);

/* ---- icmp.c ------------------------------------------------------------ */

void icmp_init(tern_stack_t *stack);
void icmp_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, const ipv4_rx_t *ip);
/* Send an ICMP error about a received packet (header in ip->hdr, its data
 * at data, len bytes of it available) unless RFC 1122 3.2.2 forbids it or
 * the rate limit says no. Nothing passed in is kept. */
void icmp_send_error(tern_stack_t *stack, const tern_netif_t *nif, const uint8_t *data, size_t len,
                     const ipv4_rx_t *ip, uint8_t type, uint8_t code);

#endif
