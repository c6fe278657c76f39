/* libFuzzer targets for the IPv6 input path (the dual-stack variant,
 * tern_core_heapbufs). One source, one target per part (FUZZ_V6):
 *   chain: the bytes after a valid fixed header (extension header chains,
 *          options, the upper layer), payload length right; with flag
 *          0x20 the bytes are a list of headers the target links itself
 *          (fuzz_chain: next header and length fields always consistent);
 *   icmp:  an ICMPv6 message under a valid header, checksum fixed when the
 *          first byte asks, to our link-local address or a group;
 *   nd:    a Neighbor Discovery message (RS, RA, NS, NA, redirect: the type
 *          from the first byte) with hop limit 255, code 0 and a valid
 *          checksum, so the fuzzer's bytes reach the options walk;
 *   frag:  one message (the tail of the input, an ICMPv6 checksum fixed
 *          when asked) cut into up to 8 fragments as the input says (raw
 *          offset/M fields, lengths, identifications): in-order, reordered,
 *          overlapping, short, past the budget; reassembly and the replies
 *          (in fragments beyond a buffer) run on whatever completes.
 * The stack has IPv6 enabled on its interface with its link-local address
 * out of DAD. After every input the timers run to completion and the stack
 * must be back at its baseline (fuzz_settle_and_check, as for IPv4). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "fuzz_common.h"

#if !TERN_IPV6
#error "fuzz_ipv6 needs the dual-stack variant (TERN_IPV6=1)"
#endif

#define FUZZ_SEED 0x13198A2E03707344ull
#define FUZZ_V6_CHAIN 1
#define FUZZ_V6_ICMP 2
#define FUZZ_V6_ND 3
#define FUZZ_V6_FRAG 4

#ifndef FUZZ_V6
#error "define FUZZ_V6"
#endif

/* fe80::ff:fe00:2 (EUI-64 of our_mac) and the peer's fe80::1. */
static const uint8_t our_ll[16] = {0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE, 0, 0, 2};
static const uint8_t peer_ll[16] = {0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t all_nodes[16] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t our_sn[16] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0, 0, 2};

static void fuzz_stack_start(void)
{
    fuzz_stack_bringup(FUZZ_SEED, TERN_IP4(192, 0, 2, 2), TERN_IP4(192, 0, 2, 1));
    if (tern_ipv6_enable(&stack, &nif, NULL) != TERN_OK)
        abort();
    for (int i = 0; i < 4; i++) {
        now += 1000u;
        tern_poll(&stack, now);
    }
    baseline_used = heap_used();
}

/* Ethernet + IPv6 header from the peer to dst; the payload is at out + 54. */
static void v6_header(uint8_t *out, const uint8_t dst[16], uint8_t next, uint8_t hop, size_t plen)
{
    uint8_t mac[6] = {0x33, 0x33, dst[12], dst[13], dst[14], dst[15]};
    fuzz_eth_header(out, dst[0] == 0xFF ? mac : our_mac, 0x86DD);
    uint8_t *ip = out + 14;
    memset(ip, 0, 40);
    ip[0] = 0x60;
    put16(ip + 4, (unsigned)plen);
    ip[6] = next;
    ip[7] = hop;
    memcpy(ip + 8, peer_ll, 16);
    memcpy(ip + 24, dst, 16);
}

/* The ICMPv6 checksum of the message at out + 54 (pseudo-header). */
static FUZZ_UNUSED void v6_icmp_checksum(uint8_t *out, size_t mlen)
{
    uint8_t *m = out + 54;
    uint8_t tail[8] = {0, 0, 0, 0, 0, 0, 0, 58};
    put32(tail, (uint32_t)mlen);
    m[2] = m[3] = 0;
    uint32_t sum = csum_add(0, out + 14 + 8, 32);
    sum = csum_add(sum, tail, 8);
    put16(m + 2, csum_fold(csum_add(sum, m, mlen)));
}

#if FUZZ_V6 == FUZZ_V6_CHAIN
/* Structured chain: repeat [kind] [len] [len bytes]. kind & 7 picks the
 * header (hop-by-hop, destination options, routing, fragment, or the upper
 * layer: ICMPv6, no next header, UDP, TCP); an extension header's body is
 * padded with zeros to a multiple of 8 bytes and its length field set to
 * match, a fragment header is 8 bytes; the first upper layer (or the end of
 * the input) ends the chain, its bytes the rest of the input. Every next
 * header field names the header after it, so mutations of the option
 * contents and the chain's order get past the walk's framing checks. */
static size_t fuzz_chain(const uint8_t *data, size_t size, uint8_t *p, size_t cap, uint8_t *first)
{
    static const uint8_t kinds[8] = {0, 60, 43, 44, 58, 59, 17, 6};
    uint8_t *prev_next = first; /* the next header field to fill in */
    size_t n = 0;
    while (size >= 2u) {
        uint8_t kind = kinds[data[0] & 7u];
        size_t len = data[1];
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        *prev_next = kind;
        if (kind == 58 || kind == 59 || kind == 17 || kind == 6) {
            /* Upper layer: everything left. */
            len = size < cap - n ? size : cap - n;
            memcpy(p + n, data, len);
            return n + len;
        }
        size_t hlen = kind == 44 ? 8u : ((len + 2u + 7u) / 8u) * 8u;
        if (hlen > 2048u || n + hlen > cap)
            break;
        memset(p + n, 0, hlen);
        size_t body = len < hlen - 2u ? len : hlen - 2u;
        memcpy(p + n + 2, data, body);
        if (kind != 44)
            p[n + 1] = (uint8_t)(hlen / 8u - 1u);
        prev_next = p + n;
        n += hlen;
        data += len;
        size -= len;
    }
    *prev_next = 59; /* no next header */
    return n;
}
#endif

static size_t fuzz_build(const uint8_t *data, size_t size, uint8_t *out, size_t cap)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    data++;
    size--;
    size_t n = size < cap - 54 ? size : cap - 54;
    const uint8_t *dst = (flags & 0x80u) ? all_nodes : (flags & 0x40u) ? our_sn : our_ll;
#if FUZZ_V6 == FUZZ_V6_CHAIN
    /* Next header: one of the extension headers, ICMPv6 or anything. */
    static const uint8_t firsts[8] = {0, 60, 43, 44, 58, 59, 17, 6};
    if (flags & 0x20u) {
        uint8_t first = 59;
        size_t m = fuzz_chain(data, size, out + 54, cap - 54, &first);
        v6_header(out, dst, first, 64, m);
        return 54 + m;
    }
    v6_header(out, dst, firsts[flags & 7u], 64, n);
    memcpy(out + 54, data, n);
    return 54 + n;
#elif FUZZ_V6 == FUZZ_V6_ICMP
    v6_header(out, dst, 58, (flags & 2u) ? 255 : 64, n);
    memcpy(out + 54, data, n);
    if ((flags & 1u) && n >= 4)
        v6_icmp_checksum(out, n);
    return 54 + n;
#else
    static const uint8_t types[5] = {133, 134, 135, 136, 137};
    if (n < 4)
        return 0;
    v6_header(out, dst, 58, 255, n);
    memcpy(out + 54, data, n);
    out[54] = types[(flags & 0x3Fu) % 5u];
    out[55] = 0;
    /* NS/NA at our address half the time, so the target matches. */
    if ((flags & 0x20u) && (out[54] == 135 || out[54] == 136) && n >= 24)
        memcpy(out + 54 + 8, our_ll, 16);
    v6_icmp_checksum(out, n);
    return 54 + n;
#endif
}

#if FUZZ_V6 == FUZZ_V6_FRAG
/* flags (bits 0-1: the fragments' next header 58, 60, 17 or 44; bit 7:
 * fix the ICMPv6 checksum), a count k (1..8), k records of 5 bytes (the
 * raw offset/M field, a length, an identification), then the message. */
/* The message's bytes from off on, zeros past its end: one copy, not a
 * compare per byte (that was a third of this target's time). */
static FUZZ_HELPER void frag_payload(uint8_t *dst, const uint8_t *msg, size_t msize, size_t off, size_t len)
{
    size_t have = off < msize ? msize - off : 0u;
    if (have > len)
        have = len;
    if (have > 0u)
        memcpy(dst, msg + off, have);
    memset(dst + have, 0, len - have);
}

static void fuzz_frag(const uint8_t *data, size_t size)
{
    static uint8_t frame[TERN_NETBUF_FRAME_SIZE];
    static uint8_t msg[8192];
    static const uint8_t nexts[4] = {58, 60, 17, 44};
    if (size < 2)
        return;
    uint8_t flags = data[0];
    size_t k = (size_t)(data[1] & 7u) + 1u;
    if (size < 2 + 5 * k)
        return;
    const uint8_t *rec = data + 2;
    size_t mlen = size - 2 - 5 * k;
    if (mlen > sizeof msg)
        mlen = sizeof msg;
    memcpy(msg, data + 2 + 5 * k, mlen);
    memset(msg + mlen, 0, sizeof msg - mlen);
    uint8_t next = nexts[flags & 3u];
    if ((flags & 0x80u) && next == 58 && mlen >= 4) {
        /* The message's checksum over its whole length (pseudo-header with
         * the peer's and our link-local addresses). */
        uint8_t tail[8] = {0, 0, 0, 0, 0, 0, 0, 58};
        put32(tail, (uint32_t)mlen);
        msg[2] = msg[3] = 0;
        uint32_t sum = csum_add(0, peer_ll, 16);
        sum = csum_add(sum, our_ll, 16);
        sum = csum_add(sum, tail, 8);
        put16(msg + 2, csum_fold(csum_add(sum, msg, mlen)));
    }
    for (size_t i = 0; i < k; i++, rec += 5) {
        unsigned field = (unsigned)rec[0] << 8 | rec[1];
        size_t off = field & 0xFFF8u;
        size_t len = (size_t)rec[2] << 8 | rec[3];
        if (len > sizeof frame - 62)
            len = sizeof frame - 62;
        v6_header(frame, our_ll, 44, 64, 8 + len);
        uint8_t *f = frame + 54;
        f[0] = next;
        f[1] = 0;
        put16(f + 2, field);
        put32(f + 4, 0x1000u + (rec[4] & 3u));
        frag_payload(f + 8, msg, sizeof msg, off, len);
        now += 1u;
        tern_input_copy(&stack, &nif, frame, 62 + len, now);
    }
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#if FUZZ_V6 == FUZZ_V6_FRAG
    fuzz_restart_every(4096u, fuzz_stack_start);
    fuzz_frag(data, size);
    fuzz_settle_and_check();
    return 0;
#endif
    static uint8_t frame[TERN_NETBUF_FRAME_SIZE];
    fuzz_restart_every(4096u, fuzz_stack_start);
    size_t len = fuzz_build(data, size, frame, sizeof frame);
    now += 1u;
    tern_input_copy(&stack, &nif, frame, len, now);
    fuzz_settle_and_check();
    return 0;
}
