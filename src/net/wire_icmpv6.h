/* ICMPv6 message view (RFC 4443), Neighbor Discovery messages and options
 * (RFC 4861 4, RFC 8106 5.1) and MLDv2 (RFC 3810 5): types, codes, field
 * offsets, the checks and the writers. */
#ifndef TERN_NET_WIRE_ICMPV6_H
#define TERN_NET_WIRE_ICMPV6_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "util/wire.h"
#include "net/wire_ipv6.h"

#define ICMP6_HDR_LEN 8u

/* Types (RFC 4443 2.1, RFC 4861 4, RFC 3810 5). Below 128: errors. */
#define ICMP6_DEST_UNREACH 1u
#define ICMP6_PACKET_TOO_BIG 2u
#define ICMP6_TIME_EXCEEDED 3u
#define ICMP6_PARAM_PROBLEM 4u
#define ICMP6_ECHO_REQUEST 128u
#define ICMP6_ECHO_REPLY 129u
#define ICMP6_MLD_QUERY 130u
#define ICMP6_MLD1_REPORT 131u
#define ICMP6_MLD1_DONE 132u
#define ICMP6_ND_RS 133u
#define ICMP6_ND_RA 134u
#define ICMP6_ND_NS 135u
#define ICMP6_ND_NA 136u
#define ICMP6_ND_REDIRECT 137u
#define ICMP6_MLD2_REPORT 143u

/* Parameter Problem codes (RFC 4443 3.4). */
#define ICMP6_PARAM_HEADER 0u  /* erroneous header field */
#define ICMP6_PARAM_NEXT 1u    /* unrecognized next header */
#define ICMP6_PARAM_OPTION 2u  /* unrecognized IPv6 option */
#define ICMP6_PARAM_CHAIN 3u   /* first fragment without the whole header chain (RFC 7112) */
#define ICMP6_TIMEX_REASS 1u   /* time exceeded: fragment reassembly */

#define ICMP6_OFF_TYPE 0u
#define ICMP6_OFF_CODE 1u
#define ICMP6_OFF_CSUM 2u
#define ICMP6_OFF_REST 4u /* echo id/seq, MTU, pointer, or reserved */

/* An error carries as much of the invoking packet as fits the minimum
 * MTU (RFC 4443 2.4 (c)). */
#define ICMP6_ERR_MAX_QUOTE (IPV6_MIN_MTU - IPV6_HDR_LEN - ICMP6_HDR_LEN)

/* Destination Unreachable codes (RFC 4443 3.1) the upper layers use. */
#define ICMP6_UNREACH_NOROUTE 0u
#define ICMP6_UNREACH_ADMIN 1u
#define ICMP6_UNREACH_ADDR 3u
#define ICMP6_UNREACH_PORT 4u

static inline int icmp6_type_is_error(uint8_t type)
{
    return type < 128u;
}

/* ---- Neighbor Discovery (RFC 4861 4) ---------------------------------- */

#define ND_HOP_LIMIT 255u
/* Fixed part lengths (ICMP header included). */
#define ND_RS_LEN 8u
#define ND_RA_LEN 16u
#define ND_NS_LEN 24u
#define ND_NA_LEN 24u
#define ND_REDIRECT_LEN 40u
/* RA: current hop limit, flags, router lifetime (s), reachable time (ms),
 * retrans timer (ms). */
#define ND_RA_OFF_HOP_LIMIT 4u
#define ND_RA_OFF_FLAGS 5u
#define ND_RA_OFF_LIFETIME 6u
#define ND_RA_OFF_REACHABLE 8u
#define ND_RA_OFF_RETRANS 12u
/* NS, NA: the target address after 4 bytes (reserved, or NA flags). */
#define ND_OFF_TARGET 8u
#define ND_NA_FLAG_ROUTER 0x80u
#define ND_NA_FLAG_SOLICITED 0x40u
#define ND_NA_FLAG_OVERRIDE 0x20u

/* Options: type, length in units of 8 octets (0 is invalid), value. */
#define ND_OPT_SLLA 1u
#define ND_OPT_TLLA 2u
#define ND_OPT_PREFIX 3u
#define ND_OPT_REDIRECTED 4u
#define ND_OPT_MTU 5u
#define ND_OPT_RDNSS 25u /* RFC 8106 5.1 */
#define ND_OPT_LLA_LEN 8u /* Ethernet: 2 + 6 */
/* Prefix information (RFC 4861 4.6.2), 32 bytes. */
#define ND_PI_LEN 32u
#define ND_PI_OFF_PREFIX_LEN 2u
#define ND_PI_OFF_FLAGS 3u
#define ND_PI_OFF_VALID 4u
#define ND_PI_OFF_PREFERRED 8u
#define ND_PI_OFF_PREFIX 16u
#define ND_PI_FLAG_ONLINK 0x80u
#define ND_PI_FLAG_AUTO 0x40u
/* MTU (4.6.4), 8 bytes; RDNSS (RFC 8106 5.1): lifetime at 4, addresses
 * from 8. */
#define ND_MTU_OFF_MTU 4u
#define ND_RDNSS_OFF_LIFETIME 4u
#define ND_RDNSS_OFF_ADDRS 8u

/* One option, known to lie whole inside the message. */
typedef struct nd_opt {
    const uint8_t *p;
    size_t len; /* bytes, >= 8 */
} nd_opt_t;

/* Walk the options area (p, len): 1 and the next option in *o, advancing
 * *off; 0 at the end; -1 when an option has length 0 or runs past the
 * message (RFC 4861 4.6: the whole message is then dropped). */
static inline int nd_opt_next(const uint8_t *p, size_t len, size_t *off, nd_opt_t *o)
{
    if (*off >= len)
        return 0;
    if (len - *off < 2u)
        return -1;
    size_t olen = (size_t)p[*off + 1u] * 8u;
    if (olen == 0u || olen > len - *off)
        return -1;
    o->p = p + *off;
    o->len = olen;
    *off += olen;
    return 1;
}

/* 0 when every option of the area is well formed, else -1. */
static inline int nd_opts_valid(const uint8_t *p, size_t len)
{
    size_t off = 0;
    nd_opt_t o;
    int r;
    while ((r = nd_opt_next(p, len, &off, &o)) == 1)
        ;
    return r;
}

/* Write a link-layer address option (SLLA or TLLA) for an Ethernet MAC. */
static inline void nd_opt_write_lla(uint8_t *p, uint8_t type, const uint8_t mac[6])
{
    p[0] = type;
    p[1] = 1;
    memcpy(p + 2, mac, 6);
}

/* ---- MLDv2 (RFC 3810 5.2) ------------------------------------------------ */

#define MLD2_REPORT_HDR_LEN 8u /* type, code, checksum, reserved, record count */
#define MLD2_RECORD_LEN 20u    /* a record with no sources and no aux data */
#define MLD2_MODE_IS_EXCLUDE 2u
#define MLD2_CHANGE_TO_INCLUDE 3u /* with no sources: leaving the group (RFC 3810 6.1) */
#define MLD2_CHANGE_TO_EXCLUDE 4u
#define MLD_QUERY_MIN_LEN 24u

/* The one writer of an ICMPv6 header: the checksum field zeroed for the
 * caller to fill once the body and the addresses are known. */
static inline void icmp6_write(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest)
{
    p[ICMP6_OFF_TYPE] = type;
    p[ICMP6_OFF_CODE] = code;
    wire_wr16(p + ICMP6_OFF_CSUM, 0);
    wire_wr32(p + ICMP6_OFF_REST, rest);
}

#endif
