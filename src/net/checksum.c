/* The Internet checksum (RFC 1071): ones'-complement sum of 16-bit words.
 *
 * Words are loaded 32 bits at a time with memcpy (one unaligned load on
 * Cortex-M7 and x86, any alignment, no cast of the byte pointer; 64 bits on
 * 64-bit machines) and summed in native byte order into a 64-bit
 * accumulator; the byte-order independence of the sum (RFC 1071 2.(B))
 * lets us swap once at the end. */
#include <stdint.h>
#include <string.h>
#include "net/net_internal.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define CHECKSUM_BIG_ENDIAN 1
#else
#define CHECKSUM_BIG_ENDIAN 0
#endif

static uint32_t checksum_fold(uint64_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xFFFFu) + (acc >> 16);
    return (uint32_t)acc;
}

uint32_t checksum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t acc = 0;
    uint32_t w;
#if UINTPTR_MAX > 0xFFFFFFFFu
    /* 64-bit machines: 64-bit words, each carry out added back at once
     * (end-around carry, RFC 1071 2.(C)): half the loads and adds. The
     * 32-bit path below (the firmware's) is unchanged. */
    while (len >= 32u) {
        uint64_t a, b, c, d;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        memcpy(&c, p + 16, 8);
        memcpy(&d, p + 24, 8);
        acc += a;
        acc += acc < a;
        acc += b;
        acc += acc < b;
        acc += c;
        acc += acc < c;
        acc += d;
        acc += acc < d;
        p += 32;
        len -= 32u;
    }
    /* Room for the 32-bit sums below: at most 2^33 after this. */
    acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
#endif
    while (len >= 16u) {
        uint32_t a, b, c, d;
        memcpy(&a, p, 4);
        memcpy(&b, p + 4, 4);
        memcpy(&c, p + 8, 4);
        memcpy(&d, p + 12, 4);
        acc += (uint64_t)a + b + c + d;
        p += 16;
        len -= 16u;
    }
    while (len >= 4u) {
        memcpy(&w, p, 4);
        acc += w;
        p += 4;
        len -= 4u;
    }
    if (len >= 2u) {
        uint16_t h;
        memcpy(&h, p, 2);
        acc += h;
        p += 2;
        len -= 2u;
    }
    if (len != 0u) {
        /* The odd last byte is the high half of a network-order word. */
#if CHECKSUM_BIG_ENDIAN
        acc += (uint32_t)p[0] << 8;
#else
        acc += p[0];
#endif
    }
    uint32_t s = checksum_fold(acc);
#if !CHECKSUM_BIG_ENDIAN
    s = ((s >> 8) | (s << 8)) & 0xFFFFu;
#endif
    return checksum_fold((uint64_t)sum + s);
}

uint16_t checksum_finish(uint32_t sum)
{
    return (uint16_t)~checksum_fold(sum);
}

uint16_t checksum_inet(const void *data, size_t len)
{
    return checksum_finish(checksum_add(0, data, len));
}

uint32_t checksum_pseudo(tern_ip4_t src, tern_ip4_t dst, uint8_t proto, size_t len)
{
    uint8_t ph[12];
    wire_wr32(ph, src);
    wire_wr32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    wire_wr16(ph + 10, (uint16_t)len);
    return checksum_add(0, ph, sizeof ph);
}
