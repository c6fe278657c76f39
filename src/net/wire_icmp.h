/* ICMP message view (RFC 792, RFC 1191): types, codes, field offsets, the length checks and the header writer. */
#ifndef TERN_NET_WIRE_ICMP_H
#define TERN_NET_WIRE_ICMP_H

#include <stddef.h>
#include <stdint.h>
#include "util/wire.h"
#include "net/wire_ipv4.h"

#define ICMP_HDR_LEN 8u
/* Largest echo payload without fragmentation: 1500 - 20 - 8. */
#define ICMP_ECHO_MAX_DATA 1472u
/* An error quotes the IP header and the first 64 bits of data (RFC 792). */
#define ICMP_QUOTE_DATA 8u

/* Types (RFC 792). */
#define ICMP_ECHO_REPLY 0u
#define ICMP_DEST_UNREACH 3u
#define ICMP_SOURCE_QUENCH 4u
#define ICMP_REDIRECT 5u
#define ICMP_ECHO 8u
#define ICMP_TIME_EXCEEDED 11u
#define ICMP_PARAM_PROBLEM 12u

/* Destination unreachable codes (RFC 792, RFC 1191). */
#define ICMP_UNREACH_NET 0u
#define ICMP_UNREACH_HOST 1u
#define ICMP_UNREACH_PROTO 2u
#define ICMP_UNREACH_PORT 3u
#define ICMP_UNREACH_FRAG_NEEDED 4u

/* Time exceeded codes. */
#define ICMP_TIMEX_TTL 0u
#define ICMP_TIMEX_REASS 1u

/* Field offsets. The last word's meaning depends on the type: identifier
 * and sequence for echo, the next-hop MTU (low half) for "fragmentation
 * needed" (RFC 1191), unused otherwise. */
#define ICMP_OFF_TYPE 0u
#define ICMP_OFF_CODE 1u
#define ICMP_OFF_CSUM 2u
#define ICMP_OFF_REST 4u
#define ICMP_OFF_ECHO_ID 4u
#define ICMP_OFF_ECHO_SEQ 6u
#define ICMP_OFF_NEXT_MTU 6u

/* An ICMP header known present: len >= ICMP_HDR_LEN readable at p. Made
 * only by icmp_check. */
typedef struct icmp_view {
    const uint8_t *p;
    size_t len;
} icmp_view_t;

static inline int icmp_type_is_error(uint8_t type)
{
    return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
           type == ICMP_TIME_EXCEEDED || type == ICMP_PARAM_PROBLEM;
}

/* 0 and a view over the len bytes at p when they hold an ICMP header, else
 * -1. The checksum is the caller's (it may be offloaded). */
static inline int icmp_check(const uint8_t *p, size_t len, icmp_view_t *v)
{
    if (len < ICMP_HDR_LEN)
        return -1;
    v->p = p;
    v->len = len;
    return 0;
}

static inline uint8_t icmp_type(const icmp_view_t *v)
{
    return v->p[ICMP_OFF_TYPE];
}

static inline uint8_t icmp_code(const icmp_view_t *v)
{
    return v->p[ICMP_OFF_CODE];
}

static inline uint32_t icmp_rest(const icmp_view_t *v)
{
    return wire_rd32(v->p + ICMP_OFF_REST);
}

static inline uint16_t icmp_echo_id(const icmp_view_t *v)
{
    return wire_rd16(v->p + ICMP_OFF_ECHO_ID);
}

static inline uint16_t icmp_echo_seq(const icmp_view_t *v)
{
    return wire_rd16(v->p + ICMP_OFF_ECHO_SEQ);
}

static inline uint16_t icmp_next_mtu(const icmp_view_t *v)
{
    return wire_rd16(v->p + ICMP_OFF_NEXT_MTU);
}

/* The message body after the 8-byte header. */
static inline const uint8_t *icmp_data(const icmp_view_t *v)
{
    return v->p + ICMP_HDR_LEN;
}

static inline size_t icmp_data_len(const icmp_view_t *v)
{
    return v->len - ICMP_HDR_LEN;
}

/* The IPv4 header an error quotes, with its 8 bytes of data (RFC 792): 0
 * and a view of it, or -1. */
static inline int icmp_quote(const icmp_view_t *v, ipv4_view_t *q)
{
    return ipv4_check_quote(icmp_data(v), icmp_data_len(v), ICMP_QUOTE_DATA, q);
}

/* The one writer of an ICMP header (8 bytes at p): the checksum field is
 * zeroed for the caller to fill once the body is in place. */
static inline void icmp_write(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest)
{
    p[ICMP_OFF_TYPE] = type;
    p[ICMP_OFF_CODE] = code;
    wire_wr16(p + ICMP_OFF_CSUM, 0);
    wire_wr32(p + ICMP_OFF_REST, rest);
}

#endif
