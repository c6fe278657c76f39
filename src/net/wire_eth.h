/* Ethernet II frame view (IEEE 802.3 clause 3): field offsets, ethertypes, the length check and the header writer. */
#ifndef TERN_NET_WIRE_ETH_H
#define TERN_NET_WIRE_ETH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "util/wire.h"

#define ETH_ADDR_LEN 6u
#define ETH_HDR_LEN 14u

/* Field offsets. */
#define ETH_OFF_DST 0u
#define ETH_OFF_SRC 6u
#define ETH_OFF_TYPE 12u

/* Ethertypes (IEEE registry); values below 0x0600 are 802.3 lengths. */
#define ETH_TYPE_IPV4 0x0800u
#define ETH_TYPE_ARP 0x0806u
#define ETH_TYPE_IPV6 0x86DDu

/* A frame whose header is known to be present: every accessor stays inside
 * p[0..len). Made only by eth_check. */
typedef struct eth_view {
    const uint8_t *p;
    size_t len;
} eth_view_t;

/* 0 and a view when len bytes at p hold an Ethernet header, else -1. */
static inline int eth_check(const uint8_t *p, size_t len, eth_view_t *v)
{
    if (len < ETH_HDR_LEN)
        return -1;
    v->p = p;
    v->len = len;
    return 0;
}

static inline const uint8_t *eth_dst(const eth_view_t *v)
{
    return v->p + ETH_OFF_DST;
}

static inline const uint8_t *eth_src(const eth_view_t *v)
{
    return v->p + ETH_OFF_SRC;
}

static inline uint16_t eth_type(const eth_view_t *v)
{
    return wire_rd16(v->p + ETH_OFF_TYPE);
}

/* The one writer of an Ethernet header (ETH_HDR_LEN bytes at p). */
static inline void eth_write(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(p + ETH_OFF_DST, dst, ETH_ADDR_LEN);
    memcpy(p + ETH_OFF_SRC, src, ETH_ADDR_LEN);
    wire_wr16(p + ETH_OFF_TYPE, type);
}

#endif
