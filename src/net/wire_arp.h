/* ARP packet view for Ethernet/IPv4 (RFC 826): field offsets, opcodes, the length check and the packet writer. */
#ifndef TERN_NET_WIRE_ARP_H
#define TERN_NET_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "util/wire.h"
#include "net/wire_eth.h"

/* The only form we speak: Ethernet hardware (6-byte) and IPv4 (4-byte)
 * addresses, 28 bytes in all. */
#define ARP_PKT_LEN 28u
#define ARP_HTYPE_ETHERNET 1u
#define ARP_HLEN_ETHERNET 6u
#define ARP_PLEN_IPV4 4u

/* Opcodes (RFC 826). */
#define ARP_OP_REQUEST 1u
#define ARP_OP_REPLY 2u

/* Field offsets. */
#define ARP_OFF_HTYPE 0u
#define ARP_OFF_PTYPE 2u
#define ARP_OFF_HLEN 4u
#define ARP_OFF_PLEN 5u
#define ARP_OFF_OP 6u
#define ARP_OFF_SHA 8u
#define ARP_OFF_SPA 14u
#define ARP_OFF_THA 18u
#define ARP_OFF_TPA 24u

/* ARP_PKT_LEN bytes known present. Made only by arp_check. */
typedef struct arp_view {
    const uint8_t *p;
} arp_view_t;

/* 0 and a view when len bytes at p can hold an Ethernet/IPv4 ARP packet,
 * else -1. The format fields are the caller's to judge (arp_is_eth_ipv4). */
static inline int arp_check(const uint8_t *p, size_t len, arp_view_t *v)
{
    if (len < ARP_PKT_LEN)
        return -1;
    v->p = p;
    return 0;
}

static inline uint16_t arp_htype(const arp_view_t *v)
{
    return wire_rd16(v->p + ARP_OFF_HTYPE);
}

static inline uint16_t arp_ptype(const arp_view_t *v)
{
    return wire_rd16(v->p + ARP_OFF_PTYPE);
}

static inline uint8_t arp_hlen(const arp_view_t *v)
{
    return v->p[ARP_OFF_HLEN];
}

static inline uint8_t arp_plen(const arp_view_t *v)
{
    return v->p[ARP_OFF_PLEN];
}

static inline uint16_t arp_op(const arp_view_t *v)
{
    return wire_rd16(v->p + ARP_OFF_OP);
}

static inline const uint8_t *arp_sha(const arp_view_t *v)
{
    return v->p + ARP_OFF_SHA;
}

static inline uint32_t arp_spa(const arp_view_t *v)
{
    return wire_rd32(v->p + ARP_OFF_SPA);
}

static inline const uint8_t *arp_tha(const arp_view_t *v)
{
    return v->p + ARP_OFF_THA;
}

static inline uint32_t arp_tpa(const arp_view_t *v)
{
    return wire_rd32(v->p + ARP_OFF_TPA);
}

/* The one writer of an ARP packet (ARP_PKT_LEN bytes at p); sha and tha
 * must not point into p (copy them out first). */
static inline void arp_write(uint8_t *p, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
                             uint32_t tpa)
{
    wire_wr16(p + ARP_OFF_HTYPE, ARP_HTYPE_ETHERNET);
    wire_wr16(p + ARP_OFF_PTYPE, ETH_TYPE_IPV4);
    p[ARP_OFF_HLEN] = ARP_HLEN_ETHERNET;
    p[ARP_OFF_PLEN] = ARP_PLEN_IPV4;
    wire_wr16(p + ARP_OFF_OP, op);
    memcpy(p + ARP_OFF_SHA, sha, ETH_ADDR_LEN);
    wire_wr32(p + ARP_OFF_SPA, spa);
    memcpy(p + ARP_OFF_THA, tha, ETH_ADDR_LEN);
    wire_wr32(p + ARP_OFF_TPA, tpa);
}

#endif
