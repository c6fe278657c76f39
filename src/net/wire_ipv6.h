/* IPv6 header view (RFC 8200 3, 4): field offsets, next-header numbers,
 * the extension header and option layouts, the length check and the header
 * writer. Addresses stay in network byte order (tern_ip6_t). */
#ifndef TERN_NET_WIRE_IPV6_H
#define TERN_NET_WIRE_IPV6_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tern/ipv6.h"
#include "util/wire.h"

#define IPV6_VERSION 6u
#define IPV6_HDR_LEN 40u
/* Every link carrying IPv6 has at least this MTU (RFC 8200 5). */
#define IPV6_MIN_MTU 1280u

/* Field offsets of the fixed header. */
#define IPV6_OFF_VER_TC_FLOW 0u
#define IPV6_OFF_PAYLOAD_LEN 4u
#define IPV6_OFF_NEXT 6u
#define IPV6_OFF_HOP_LIMIT 7u
#define IPV6_OFF_SRC 8u
#define IPV6_OFF_DST 24u

/* Next header values (IANA). */
#define IPV6_NH_HOP_BY_HOP 0u
#define IPV6_NH_TCP 6u
#define IPV6_NH_UDP 17u
#define IPV6_NH_ROUTING 43u
#define IPV6_NH_FRAGMENT 44u
#define IPV6_NH_ICMPV6 58u
#define IPV6_NH_NONE 59u
#define IPV6_NH_DEST_OPTS 60u

/* Extension headers (RFC 8200 4.3-4.6): next header, then the length in
 * 8-octet units not counting the first 8 (hop-by-hop, destination options,
 * routing); the fragment header is always 8 bytes. */
#define IPV6_EXT_OFF_NEXT 0u
#define IPV6_EXT_OFF_LEN 1u
#define IPV6_EXT_MIN_LEN 8u
#define IPV6_RH_OFF_TYPE 2u
#define IPV6_RH_OFF_SEGS_LEFT 3u
#define IPV6_FRAG_OFF_OFFSET 2u /* 13-bit offset, 2 reserved bits, M flag */
#define IPV6_FRAG_HDR_LEN 8u
#define IPV6_FRAG_OFFSET_MASK 0xFFF8u
#define IPV6_FRAG_M 0x0001u

/* Options of hop-by-hop and destination options headers (RFC 8200 4.2). */
#define IPV6_OPT_PAD1 0u
#define IPV6_OPT_PADN 1u
#define IPV6_OPT_ROUTER_ALERT 5u /* RFC 2711, hop-by-hop */
/* The two high bits of an unrecognised option's type say what to do. */
#define IPV6_OPT_ACTION(type) ((unsigned)(type) >> 6)
#define IPV6_OPT_ACT_SKIP 0u
#define IPV6_OPT_ACT_DISCARD 1u
#define IPV6_OPT_ACT_ICMP 2u         /* discard, Parameter Problem even to multicast */
#define IPV6_OPT_ACT_ICMP_UNICAST 3u /* discard, Parameter Problem unless multicast */

/* A fixed header known whole, and its payload inside the frame. Made only
 * by ipv6_check. */
typedef struct ipv6_view {
    const uint8_t *p;
    uint16_t payload_len;
} ipv6_view_t;

enum ipv6_check_result {
    IPV6_CHECK_OK = 0,
    IPV6_CHECK_TRUNCATED, /* shorter than 40 bytes */
    IPV6_CHECK_VERSION,   /* not version 6 */
    IPV6_CHECK_LEN,       /* payload length beyond the bytes received */
};

static inline unsigned ipv6_version(const uint8_t *p)
{
    return (unsigned)(p[IPV6_OFF_VER_TC_FLOW] >> 4);
}

/* A received packet of len bytes at p (RFC 8200 3). Bytes after the
 * payload length are link padding. A payload length of 0 (a jumbogram,
 * RFC 2675, which we do not support) leaves an empty payload. */
static inline enum ipv6_check_result ipv6_check(const uint8_t *p, size_t len, ipv6_view_t *v)
{
    if (len < IPV6_HDR_LEN)
        return IPV6_CHECK_TRUNCATED;
    if (ipv6_version(p) != IPV6_VERSION)
        return IPV6_CHECK_VERSION;
    uint16_t plen = wire_rd16(p + IPV6_OFF_PAYLOAD_LEN);
    if ((size_t)plen > len - IPV6_HDR_LEN)
        return IPV6_CHECK_LEN;
    v->p = p;
    v->payload_len = plen;
    return IPV6_CHECK_OK;
}

static inline uint8_t ipv6_next(const ipv6_view_t *v)
{
    return v->p[IPV6_OFF_NEXT];
}

static inline uint8_t ipv6_hop_limit(const ipv6_view_t *v)
{
    return v->p[IPV6_OFF_HOP_LIMIT];
}

static inline tern_ip6_t ipv6_src(const ipv6_view_t *v)
{
    tern_ip6_t a;
    memcpy(a.b, v->p + IPV6_OFF_SRC, 16);
    return a;
}

static inline tern_ip6_t ipv6_dst(const ipv6_view_t *v)
{
    tern_ip6_t a;
    memcpy(a.b, v->p + IPV6_OFF_DST, 16);
    return a;
}

/* The length of the extension header at p (hop-by-hop, routing or
 * destination options), in bytes; p[1] must be readable. */
static inline size_t ipv6_ext_len(const uint8_t *p)
{
    return ((size_t)p[IPV6_EXT_OFF_LEN] + 1u) * 8u;
}

/* The one writer of an IPv6 header: 40 bytes at p, traffic class and flow
 * label zero. */
static inline void ipv6_write(uint8_t *p, uint16_t payload_len, uint8_t next, uint8_t hop_limit,
                              const tern_ip6_t *src, const tern_ip6_t *dst)
{
    wire_wr32(p + IPV6_OFF_VER_TC_FLOW, (uint32_t)IPV6_VERSION << 28);
    wire_wr16(p + IPV6_OFF_PAYLOAD_LEN, payload_len);
    p[IPV6_OFF_NEXT] = next;
    p[IPV6_OFF_HOP_LIMIT] = hop_limit;
    memcpy(p + IPV6_OFF_SRC, src->b, 16);
    memcpy(p + IPV6_OFF_DST, dst->b, 16);
}

#endif
