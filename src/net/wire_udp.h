/* UDP header view (RFC 768): field offsets, the length checks and the header writer. */
#ifndef TERN_NET_WIRE_UDP_H
#define TERN_NET_WIRE_UDP_H

#include <stddef.h>
#include <stdint.h>
#include "tern/udp.h"
#include "util/wire.h"

#define UDP_HDR_LEN TERN_UDP_HDR_LEN

/* Field offsets. */
#define UDP_OFF_SPORT 0u
#define UDP_OFF_DPORT 2u
#define UDP_OFF_LEN 4u
#define UDP_OFF_CSUM 6u

/* A datagram known whole: len (the UDP length field, >= 8) bytes readable
 * at p. A quoted header (udp_check_quote) has len 8. */
typedef struct udp_view {
    const uint8_t *p;
    uint16_t len;
} udp_view_t;

/* Why udp_check refused a datagram (each has its own drop counter). */
enum udp_check_result {
    UDP_CHECK_OK = 0,
    UDP_CHECK_TRUNCATED, /* shorter than the header */
    UDP_CHECK_LEN,       /* length field below 8 or beyond the bytes received */
};

/* A received datagram of len bytes at p (RFC 768: the length covers header
 * and data and is never trusted beyond what IP delivered). On UDP_CHECK_OK
 * the view covers the length field's bytes; anything after is padding. */
static inline enum udp_check_result udp_check(const uint8_t *p, size_t len, udp_view_t *v)
{
    if (len < UDP_HDR_LEN)
        return UDP_CHECK_TRUNCATED;
    uint16_t ulen = wire_rd16(p + UDP_OFF_LEN);
    if (ulen < UDP_HDR_LEN || ulen > len)
        return UDP_CHECK_LEN;
    v->p = p;
    v->len = ulen;
    return UDP_CHECK_OK;
}

/* The header of a datagram quoted in an ICMP error: only its 8 bytes are
 * there, and its length field describes the original. 0 or -1. */
static inline int udp_check_quote(const uint8_t *p, size_t len, udp_view_t *v)
{
    if (len < UDP_HDR_LEN)
        return -1;
    v->p = p;
    v->len = UDP_HDR_LEN;
    return 0;
}

static inline uint16_t udp_sport(const udp_view_t *v)
{
    return wire_rd16(v->p + UDP_OFF_SPORT);
}

static inline uint16_t udp_dport(const udp_view_t *v)
{
    return wire_rd16(v->p + UDP_OFF_DPORT);
}

static inline uint16_t udp_csum(const udp_view_t *v)
{
    return wire_rd16(v->p + UDP_OFF_CSUM);
}

static inline const uint8_t *udp_payload(const udp_view_t *v)
{
    return v->p + UDP_HDR_LEN;
}

static inline size_t udp_payload_len(const udp_view_t *v)
{
    return (size_t)v->len - UDP_HDR_LEN;
}

/* The one writer of a UDP header (8 bytes at p); checksum zero ("none")
 * until the caller fills it. */
static inline void udp_write(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t len)
{
    wire_wr16(p + UDP_OFF_SPORT, sport);
    wire_wr16(p + UDP_OFF_DPORT, dport);
    wire_wr16(p + UDP_OFF_LEN, len);
    wire_wr16(p + UDP_OFF_CSUM, 0);
}

#endif
