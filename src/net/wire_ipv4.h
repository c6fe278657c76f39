/* IPv4 header view (RFC 791 3.1): field offsets, protocol numbers, the length checks and the header writer. */
#ifndef TERN_NET_WIRE_IPV4_H
#define TERN_NET_WIRE_IPV4_H

#include <stddef.h>
#include <stdint.h>
#include "tern/ipv4.h"
#include "util/wire.h"

#define IPV4_VERSION 4u
#define IPV4_HDR_LEN 20u /* without options */
#define IPV4_HDR_MAX 60u /* IHL 15 */

/* Field offsets. */
#define IPV4_OFF_VER_IHL 0u
#define IPV4_OFF_TOS 1u
#define IPV4_OFF_TOTAL_LEN 2u
#define IPV4_OFF_ID 4u
#define IPV4_OFF_FRAG 6u /* flags and fragment offset */
#define IPV4_OFF_TTL 8u
#define IPV4_OFF_PROTO 9u
#define IPV4_OFF_CSUM 10u
#define IPV4_OFF_SRC 12u
#define IPV4_OFF_DST 16u

/* Protocol numbers (IANA). */
#define IPV4_PROTO_ICMP 1u
#define IPV4_PROTO_TCP 6u
#define IPV4_PROTO_UDP 17u

#define IPV4_FLAG_DF 0x4000u
#define IPV4_FLAG_MF 0x2000u
#define IPV4_OFFSET_MASK 0x1FFFu
#define IPV4_BROADCAST TERN_IP4_BROADCAST

/* Options (RFC 791 3.1): the two single-byte kinds. */
#define IPV4_OPT_EOL 0u
#define IPV4_OPT_NOP 1u

/* A header known to be whole: hdr_len >= IPV4_HDR_LEN and len >= hdr_len
 * bytes readable at p. Made only by ipv4_check or ipv4_check_quote. */
typedef struct ipv4_view {
    const uint8_t *p;
    uint16_t hdr_len;
    uint16_t len; /* ipv4_check: the total length; a quote: the bytes present */
} ipv4_view_t;

/* Why ipv4_check refused a packet (each has its own drop counter). */
enum ipv4_check_result {
    IPV4_CHECK_OK = 0,
    IPV4_CHECK_TRUNCATED,   /* shorter than the fixed header */
    IPV4_CHECK_VERSION,     /* not version 4 */
    IPV4_CHECK_IHL,         /* header length below 20 */
    IPV4_CHECK_TOTAL_SHORT, /* total length below the header length */
    IPV4_CHECK_TOTAL_LONG,  /* total length beyond the bytes received */
};

/* The header length the IHL field gives, in bytes. The only place the IHL
 * is decoded; p[0] must be readable. */
static inline uint16_t ipv4_ihl_bytes(const uint8_t *p)
{
    return (uint16_t)((p[IPV4_OFF_VER_IHL] & 0x0Fu) * 4u);
}

static inline unsigned ipv4_version(const uint8_t *p)
{
    return (unsigned)(p[IPV4_OFF_VER_IHL] >> 4);
}

/* A received packet of len bytes at p: every length in order (RFC 791 3.1,
 * RFC 1122 3.2.1.1-2). On IPV4_CHECK_OK the view covers the total length
 * (anything after it is link padding). */
static inline enum ipv4_check_result ipv4_check(const uint8_t *p, size_t len, ipv4_view_t *v)
{
    if (len < IPV4_HDR_LEN)
        return IPV4_CHECK_TRUNCATED;
    if (ipv4_version(p) != IPV4_VERSION)
        return IPV4_CHECK_VERSION;
    uint16_t hdr_len = ipv4_ihl_bytes(p);
    if (hdr_len < IPV4_HDR_LEN)
        return IPV4_CHECK_IHL;
    uint16_t total = wire_rd16(p + IPV4_OFF_TOTAL_LEN);
    if (total < hdr_len)
        return IPV4_CHECK_TOTAL_SHORT;
    if (total > len)
        return IPV4_CHECK_TOTAL_LONG;
    v->p = p;
    v->hdr_len = hdr_len;
    v->len = total;
    return IPV4_CHECK_OK;
}

/* A header quoted in an ICMP error (RFC 792): version 4, a valid IHL, and
 * at least min_payload bytes of the original datagram after it in the len
 * bytes at p. Its total length describes the original packet, so it is not
 * checked. 0 and a view, or -1. */
static inline int ipv4_check_quote(const uint8_t *p, size_t len, size_t min_payload, ipv4_view_t *v)
{
    if (len < IPV4_HDR_LEN || ipv4_version(p) != IPV4_VERSION)
        return -1;
    uint16_t hdr_len = ipv4_ihl_bytes(p);
    if (hdr_len < IPV4_HDR_LEN || len < hdr_len + min_payload)
        return -1;
    v->p = p;
    v->hdr_len = hdr_len;
    v->len = (uint16_t)(len < 0xFFFFu ? len : 0xFFFFu);
    return 0;
}

static inline uint16_t ipv4_total_len(const ipv4_view_t *v)
{
    return wire_rd16(v->p + IPV4_OFF_TOTAL_LEN);
}

static inline uint16_t ipv4_id(const ipv4_view_t *v)
{
    return wire_rd16(v->p + IPV4_OFF_ID);
}

static inline uint16_t ipv4_frag(const ipv4_view_t *v)
{
    return wire_rd16(v->p + IPV4_OFF_FRAG);
}

static inline uint8_t ipv4_ttl(const ipv4_view_t *v)
{
    return v->p[IPV4_OFF_TTL];
}

static inline uint8_t ipv4_proto(const ipv4_view_t *v)
{
    return v->p[IPV4_OFF_PROTO];
}

static inline uint32_t ipv4_src(const ipv4_view_t *v)
{
    return wire_rd32(v->p + IPV4_OFF_SRC);
}

static inline uint32_t ipv4_dst(const ipv4_view_t *v)
{
    return wire_rd32(v->p + IPV4_OFF_DST);
}

/* The options area: hdr_len - 20 bytes (possibly none). */
static inline const uint8_t *ipv4_options(const ipv4_view_t *v)
{
    return v->p + IPV4_HDR_LEN;
}

static inline size_t ipv4_options_len(const ipv4_view_t *v)
{
    return (size_t)v->hdr_len - IPV4_HDR_LEN;
}

/* What follows the header inside the view. */
static inline const uint8_t *ipv4_payload(const ipv4_view_t *v)
{
    return v->p + v->hdr_len;
}

static inline size_t ipv4_payload_len(const ipv4_view_t *v)
{
    return (size_t)v->len - v->hdr_len;
}

/* The one writer of an IPv4 header: 20 bytes at p, no options, DF set (we
 * never fragment), checksum field zero (the caller fills it, or the
 * interface does). The identification is taken from *next_id, which
 * advances. */
static inline void ipv4_write(uint8_t *p, uint16_t total, uint16_t *next_id, uint8_t ttl, uint8_t proto,
                              uint32_t src, uint32_t dst)
{
    p[IPV4_OFF_VER_IHL] = (uint8_t)((IPV4_VERSION << 4) | (IPV4_HDR_LEN / 4u));
    p[IPV4_OFF_TOS] = 0;
    wire_wr16(p + IPV4_OFF_TOTAL_LEN, total);
    wire_wr16(p + IPV4_OFF_ID, (*next_id)++);
    wire_wr16(p + IPV4_OFF_FRAG, IPV4_FLAG_DF);
    p[IPV4_OFF_TTL] = ttl;
    p[IPV4_OFF_PROTO] = proto;
    wire_wr16(p + IPV4_OFF_CSUM, 0);
    wire_wr32(p + IPV4_OFF_SRC, src);
    wire_wr32(p + IPV4_OFF_DST, dst);
}

#endif
