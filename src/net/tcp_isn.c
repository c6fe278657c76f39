/* TCP initial sequence numbers and timestamp offsets: SipHash-2-4 over the 4-tuple (RFC 6528, RFC 7323 5.4). */
#include "tcp_internal.h"

/* ---- SipHash-2-4 (Aumasson and Bernstein), for RFC 6528 ISNs ------------- */

static uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64u - b));
}

#define SIPROUND                                                                                                       \
    do {                                                                                                               \
        v0 += v1;                                                                                                      \
        v1 = rotl64(v1, 13);                                                                                           \
        v1 ^= v0;                                                                                                      \
        v0 = rotl64(v0, 32);                                                                                           \
        v2 += v3;                                                                                                      \
        v3 = rotl64(v3, 16);                                                                                           \
        v3 ^= v2;                                                                                                      \
        v0 += v3;                                                                                                      \
        v3 = rotl64(v3, 21);                                                                                           \
        v3 ^= v0;                                                                                                      \
        v2 += v1;                                                                                                      \
        v1 = rotl64(v1, 17);                                                                                           \
        v1 ^= v2;                                                                                                      \
        v2 = rotl64(v2, 32);                                                                                           \
    } while (0)

static uint64_t le64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8u * i);
    return v;
}

uint64_t tcp_siphash(const uint32_t key[4], const uint8_t *msg, size_t len)
{
    uint64_t k0 = (uint64_t)key[0] | ((uint64_t)key[1] << 32);
    uint64_t k1 = (uint64_t)key[2] | ((uint64_t)key[3] << 32);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    size_t whole = len & ~(size_t)7u;
    for (size_t i = 0; i < whole; i += 8u) {
        uint64_t m = le64(msg + i, 8);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = ((uint64_t)len << 56) | le64(msg + whole, len - whole);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xffu;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 microsecond clock (250
 * ticks per ms of stack time). */
uint32_t tcp_isn(tern_stack_t *stack, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip, uint16_t rport)
{
    uint8_t m[12];
    wire_wr32(m, lip);
    wire_wr16(m + 4, lport);
    wire_wr32(m + 6, rip);
    wire_wr16(m + 10, rport);
    return (uint32_t)tcp_siphash(stack->tcp.isn_key, m, sizeof m) + stack->now * 250u;
}

/* RFC 7323 5.4: a per-connection random offset keeps TSval from telling
 * the peer our uptime or linking connections; the upper half of the ISN
 * hash (the ISN uses the lower). */
uint32_t tcp_ts_offset(tern_stack_t *stack, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip, uint16_t rport)
{
    uint8_t m[12];
    wire_wr32(m, lip);
    wire_wr16(m + 4, lport);
    wire_wr32(m + 6, rip);
    wire_wr16(m + 10, rport);
    return (uint32_t)(tcp_siphash(stack->tcp.isn_key, m, sizeof m) >> 32);
}
