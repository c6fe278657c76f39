/* Big-endian field access on packet bytes. Byte by byte: never a cast of a
 * byte pointer to a wider type, so any alignment works on any target. The
 * caller checks bounds first (every parser tests len before reading). */
#ifndef TERN_UTIL_WIRE_H
#define TERN_UTIL_WIRE_H

#include <stdint.h>
#include <string.h>

static inline uint16_t wire_rd16(const uint8_t *p)
{
    return (uint16_t)(((unsigned)p[0] << 8) | (unsigned)p[1]);
}

static inline uint32_t wire_rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void wire_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void wire_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline int wire_mac_is_zero(const uint8_t *m)
{
    return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

/* Group bit: broadcast and multicast link addresses. */
static inline int wire_mac_is_group(const uint8_t *m)
{
    return (m[0] & 1u) != 0;
}

static inline int wire_mac_equal(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, 6) == 0;
}

#endif
