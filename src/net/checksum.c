/* The Internet checksum (RFC 1071): ones'-complement sum of 16-bit words.
 *
 * Words are summed in native byte order (the byte-order independence of
 * the sum, RFC 1071 2.(B), lets us swap once at the end). Three loops, by
 * what the machine offers, all with loads through memcpy (any alignment,
 * no cast of the byte pointer):
 * - SSE2 (every x86-64): 16 bytes at a time as four 32-bit lanes. One
 *   accumulator takes the lanes modulo 2^32, the other the high 16-bit
 *   halves exactly (at most 65535 blocks between folds); the low halves'
 *   exact sum is then the first minus the second shifted left by 16. Two
 *   adds and a shift per 16 bytes, no carry handling in the loop.
 * - other 64-bit machines: 64-bit words, each carry out added back at once
 *   (end-around carry, RFC 1071 2.(C)).
 * - 32-bit machines (Cortex-M): 32-bit words into a 64-bit accumulator
 *   (CHECKSUM_FORCE_SCALAR picks this one anywhere: the host's tests).
 *
 * checksum_copy is the same sum taken while the bytes are copied (one pass
 * over the payload where a copy and a checksum were two). */
#include <stdint.h>
#include <string.h>
#include "net/net_internal.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define CHECKSUM_BIG_ENDIAN 1
#else
#define CHECKSUM_BIG_ENDIAN 0
#endif

#if defined(__SSE2__) && defined(__GNUC__) && !defined(CHECKSUM_FORCE_SCALAR)
#define CHECKSUM_VEC 1
typedef uint32_t checksum_v4 __attribute__((vector_size(16)));
/* Blocks of 64 bytes between folds: the high-half accumulator gets at most
 * 4 x 0xFFFF per lane per block, so 16383 blocks stay below 2^32. */
#define CHECKSUM_VEC_BLOCKS 16383u
#if !defined(__clang__)
/* gcc 12's -fanalyzer (analyzer-shift-count-overflow) measures a shift of
 * a vector of 32-bit lanes against the vector's 2-unit lane count and
 * reports "shift by 16 >= precision 2": a false positive, the lanes are 32
 * bits wide. Off for this file only. */
#pragma GCC diagnostic ignored "-Wanalyzer-shift-count-overflow"
#endif
#else
#define CHECKSUM_VEC 0
#endif

static uint32_t checksum_fold(uint64_t acc)
{
    /* Four fixed steps take any 64-bit sum to 16 bits (end-around carry,
     * RFC 1071 2.(C)): below 2^33, 2^17 + 2^16, 2^16 + 2, then 2^16. */
    acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
    acc = (acc & 0xFFFFu) + (acc >> 16);
    acc = (acc & 0xFFFFu) + (acc >> 16);
    acc = (acc & 0xFFFFu) + (acc >> 16);
    return (uint32_t)acc;
}

/* The native-order sum of len bytes at src (not folded: below 2^50),
 * copied to dst as they are read when copy is set (a constant at each call
 * site: the compiler keeps two loops). */
#if defined(__GNUC__)
#define CHECKSUM_INLINE static inline __attribute__((always_inline))
#else
#define CHECKSUM_INLINE static inline
#endif

CHECKSUM_INLINE uint64_t checksum_run(uint8_t *dst, const uint8_t *src, size_t len, int copy)
{
    uint64_t acc = 0;
#if CHECKSUM_VEC
    while (len >= 64u) {
        size_t blocks = len / 64u;
        if (blocks > CHECKSUM_VEC_BLOCKS)
            blocks = CHECKSUM_VEC_BLOCKS;
        /* One pair of accumulators per load: with a shared one the
         * compiler sums the loads first and must copy each before its
         * shift (SSE2 shifts in place). */
        checksum_v4 all0 = {0, 0, 0, 0}, all1 = all0, all2 = all0, all3 = all0;
        checksum_v4 high0 = all0, high1 = all0, high2 = all0, high3 = all0;
        for (size_t i = 0; i < blocks; i++) {
            checksum_v4 a, b, c, d;
            memcpy(&a, src, 16);
            memcpy(&b, src + 16, 16);
            memcpy(&c, src + 32, 16);
            memcpy(&d, src + 48, 16);
            if (copy) {
                memcpy(dst, &a, 16);
                memcpy(dst + 16, &b, 16);
                memcpy(dst + 32, &c, 16);
                memcpy(dst + 48, &d, 16);
                dst += 64;
            }
            all0 += a;
            high0 += a >> 16;
            all1 += b;
            high1 += b >> 16;
            all2 += c;
            high2 += c >> 16;
            all3 += d;
            high3 += d >> 16;
            src += 64;
        }
        len -= blocks * 64u;
        if (len < 64u) {
            /* the last 16-byte pieces (at most 3) into the same sums */
            while (len >= 16u) {
                checksum_v4 a;
                memcpy(&a, src, 16);
                if (copy) {
                    memcpy(dst, &a, 16);
                    dst += 16;
                }
                all0 += a;
                high0 += a >> 16;
                src += 16;
                len -= 16u;
            }
        }
        /* all = low + (high << 16) mod 2^32, lane by lane; the high
         * halves' sum is exact (below 2^32), so the low halves' is too */
        checksum_v4 high = high0 + high1 + high2 + high3;
        checksum_v4 low = (all0 - (high0 << 16)) + (all1 - (high1 << 16));
        checksum_v4 low2 = (all2 - (high2 << 16)) + (all3 - (high3 << 16));
        for (unsigned k = 0; k < 4u; k++)
            acc += (uint64_t)low[k] + low2[k] + high[k];
    }
#elif UINTPTR_MAX > 0xFFFFFFFFu && !defined(CHECKSUM_FORCE_SCALAR)
    while (len >= 32u) {
        uint64_t a, b, c, d;
        memcpy(&a, src, 8);
        memcpy(&b, src + 8, 8);
        memcpy(&c, src + 16, 8);
        memcpy(&d, src + 24, 8);
        if (copy) {
            memcpy(dst, &a, 8);
            memcpy(dst + 8, &b, 8);
            memcpy(dst + 16, &c, 8);
            memcpy(dst + 24, &d, 8);
            dst += 32;
        }
        acc += a;
        acc += acc < a;
        acc += b;
        acc += acc < b;
        acc += c;
        acc += acc < c;
        acc += d;
        acc += acc < d;
        src += 32;
        len -= 32u;
    }
    /* Room for the 32-bit sums below: at most 2^33 after this. */
    acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
#endif
    while (len >= 16u) {
        uint32_t a, b, c, d;
        memcpy(&a, src, 4);
        memcpy(&b, src + 4, 4);
        memcpy(&c, src + 8, 4);
        memcpy(&d, src + 12, 4);
        if (copy) {
            memcpy(dst, &a, 4);
            memcpy(dst + 4, &b, 4);
            memcpy(dst + 8, &c, 4);
            memcpy(dst + 12, &d, 4);
            dst += 16;
        }
        acc += (uint64_t)a + b + c + d;
        src += 16;
        len -= 16u;
    }
    while (len >= 4u) {
        uint32_t w;
        memcpy(&w, src, 4);
        if (copy) {
            memcpy(dst, &w, 4);
            dst += 4;
        }
        acc += w;
        src += 4;
        len -= 4u;
    }
    if (len >= 2u) {
        uint16_t h;
        memcpy(&h, src, 2);
        if (copy) {
            memcpy(dst, &h, 2);
            dst += 2;
        }
        acc += h;
        src += 2;
        len -= 2u;
    }
    if (len != 0u) {
        if (copy)
            dst[0] = src[0];
        /* The odd last byte is the high half of a network-order word. */
#if CHECKSUM_BIG_ENDIAN
        acc += (uint32_t)src[0] << 8;
#else
        acc += src[0];
#endif
    }
    return acc;
}

/* Fold the native-order sum to 16 bits, in network order, added to sum. */
static uint32_t checksum_to_net(uint32_t sum, uint64_t acc)
{
    uint32_t s = checksum_fold(acc);
#if !CHECKSUM_BIG_ENDIAN
    s = ((s >> 8) | (s << 8)) & 0xFFFFu;
#endif
    return checksum_fold((uint64_t)sum + s);
}

uint32_t checksum_add(uint32_t sum, const void *data, size_t len)
{
    return checksum_to_net(sum, checksum_run(NULL, data, len, 0));
}

uint32_t checksum_copy(uint32_t sum, void *dst, const void *src, size_t len)
{
    return checksum_to_net(sum, checksum_run(dst, src, len, 1));
}

uint32_t checksum_combine(uint32_t sum, uint32_t part, size_t offset)
{
    /* A part that starts at an odd offset has its bytes in the other
     * halves of the words (RFC 1071 2.(B)): swap it. */
    if (offset & 1u)
        part = ((part >> 8) | (part << 8)) & 0xFFFFu;
    return checksum_fold((uint64_t)sum + part);
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
    /* The pseudo header's 16-bit words (in host order, as the sums above
     * return them), added without building the 12 bytes. */
    uint64_t acc = (uint64_t)(src >> 16) + (src & 0xFFFFu) + (dst >> 16) + (dst & 0xFFFFu) + proto + (uint16_t)len;
    return checksum_fold(acc);
}
