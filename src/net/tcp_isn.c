/* TCP initial sequence numbers and timestamp offsets: SipHash-2-4 over the 4-tuple (RFC 6528, RFC 7323 5.4). */
#include <string.h>
#include "net/tcp_internal.h"

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

/* F(4-tuple, secret) of RFC 6528: SipHash of the 4-tuple under the key. */
static uint64_t tcp_tuple_hash(const tern_stack_t *stack, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip,
                               uint16_t rport)
{
    uint8_t m[12];
    wire_wr32(m, lip);
    wire_wr16(m + 4, lport);
    wire_wr32(m + 6, rip);
    wire_wr16(m + 10, rport);
    return tcp_siphash(stack->tcp.isn_key, m, sizeof m);
}

#if TERN_IPV6
/* The same over an IPv6 4-tuple (36 bytes). */
static uint64_t tcp_tuple_hash6(const tern_stack_t *stack, const tern_ip6_t *lip, uint16_t lport,
                                const tern_ip6_t *rip, uint16_t rport)
{
    uint8_t m[36];
    memcpy(m, lip->b, 16);
    wire_wr16(m + 16, lport);
    memcpy(m + 18, rip->b, 16);
    wire_wr16(m + 34, rport);
    return tcp_siphash(stack->tcp.isn_key, m, sizeof m);
}

uint32_t tcp_ts_offset6(const tern_stack_t *stack, const tern_ip6_t *lip, uint16_t lport, const tern_ip6_t *rip,
                        uint16_t rport)
{
    return (uint32_t)(tcp_tuple_hash6(stack, lip, lport, rip, rport) >> 32);
}
#endif

uint32_t tcp_ts_offset_seg(const tern_stack_t *stack, const tcp_seg_t *seg)
{
#if TERN_IPV6
    if (TCP_SEG_V6(seg))
        return tcp_ts_offset6(stack, &seg->dst6, seg->dport, &seg->src6, seg->sport);
#endif
    return tcp_ts_offset(stack, seg->dst, seg->dport, seg->src, seg->sport);
}

/* RFC 7323 5.4: a per-connection random offset keeps TSval from telling
 * the peer our uptime or linking connections; the upper half of the
 * 4-tuple's hash (the ISN uses the lower). */
uint32_t tcp_ts_offset(const tern_stack_t *stack, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip, uint16_t rport)
{
    return (uint32_t)(tcp_tuple_hash(stack, lip, lport, rip, rport) >> 32);
}

void tcp_pcb_start_seq(const tern_stack_t *stack, tern_tcp_pcb_t *pcb, const uint32_t *min_iss)
{
#if TERN_IPV6
    uint64_t h = TCP_PCB_V6(pcb)
                     ? tcp_tuple_hash6(stack, &pcb->local_ip6, pcb->local_port, &pcb->remote_ip6, pcb->remote_port)
                     : tcp_tuple_hash(stack, pcb->local_ip, pcb->local_port, pcb->remote_ip, pcb->remote_port);
#else
    uint64_t h = tcp_tuple_hash(stack, pcb->local_ip, pcb->local_port, pcb->remote_ip, pcb->remote_port);
#endif
    /* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 microsecond clock (250
     * ticks per ms of stack time). */
    pcb->iss = (uint32_t)h + stack->now * 250u;
    /* Reopened from TIME-WAIT: start above the old incarnation's sequence
     * space, so its old duplicates cannot land in ours (RFC 1122 4.2.2.13;
     * 128000 as BSD). */
    if (min_iss != NULL && SEQ_LEQ(pcb->iss, *min_iss))
        pcb->iss = *min_iss + 128000u;
    pcb->ts_off = (uint32_t)(h >> 32);
    pcb->rtt_seq = pcb->iss;
    /* RFC 6582 3.2 step 2 compares ACKs with recover: start it at the ISS,
     * not 0, or half of all ISNs would find every ACK "below" it. */
    pcb->recover = pcb->iss;
    pcb->snd_una = pcb->iss;
    pcb->snd_nxt = pcb->iss + 1u; /* the SYN */
    pcb->snd_max = pcb->snd_nxt;
}
