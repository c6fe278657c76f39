/* Segmentation and checksum completion in software: what a NIC does for the
 * offloads (tern_gso.h). */
#include "tern_gso.h"

#include <string.h>
#include "tern/err.h"

#define IP_PROTO_ICMP 1u
#define IP_PROTO_TCP 6u
#define IP_PROTO_UDP 17u
#define TCP_FIN 0x01u
#define TCP_PSH 0x08u
#define TCP_CWR 0x80u

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* RFC 1071: the ones' complement sum, carries deferred in 64 bits. */
static uint64_t sum_bytes(uint64_t s, const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 1u < n; i += 2u)
        s += rd16(p + i);
    if (i < n)
        s += (uint32_t)p[i] << 8;
    return s;
}

static uint16_t fold(uint64_t s)
{
    while (s >> 16)
        s = (s & 0xFFFFu) + (s >> 16);
    return (uint16_t)s;
}

/* The IPv4 header at l3: its length and the datagram's, or 0 if unusable. */
static size_t ip_parse(const uint8_t *frame, size_t len, size_t l3, size_t *ihl, size_t *total)
{
    if (len < l3 + 20u || (frame[l3] >> 4) != 4u)
        return 0;
    *ihl = (size_t)(frame[l3] & 0x0Fu) * 4u;
    *total = rd16(frame + l3 + 2u);
    if (*ihl < 20u || *total < *ihl || l3 + *total > len)
        return 0;
    return 1;
}

static uint64_t pseudo(const uint8_t *ip, size_t l4len)
{
    uint64_t s = sum_bytes(0, ip + 12, 8);
    return s + ip[9] + l4len;
}

int tern_gso_csum_complete(uint8_t *frame, size_t len, size_t start, size_t offset)
{
    if (start > len || offset + 2u > len - start)
        return TERN_ERR_INVAL;
    uint16_t c = (uint16_t)~fold(sum_bytes(0, frame + start, len - start));
    wr16(frame + start + offset, c);
    return TERN_OK;
}

/* The checksum field's offset in the L4 header, or 0 for none. */
static size_t l4_field(uint8_t proto)
{
    return proto == IP_PROTO_TCP ? 16u : proto == IP_PROTO_UDP ? 6u : proto == IP_PROTO_ICMP ? 2u : 0u;
}

int tern_gso_csum_finish(uint8_t *frame, size_t len, size_t l3, int ip, int l4)
{
    size_t ihl;
    size_t total;
    if (!ip_parse(frame, len, l3, &ihl, &total))
        return TERN_ERR_INVAL;
    uint8_t *h = frame + l3;
    if (ip) {
        wr16(h + 10, 0);
        wr16(h + 10, (uint16_t)~fold(sum_bytes(0, h, ihl)));
    }
    size_t field = l4_field(h[9]);
    if (l4 && field != 0u && ((rd16(h + 6) & 0x3FFFu) == 0u)) {
        int r = tern_gso_csum_complete(frame, l3 + total, l3 + ihl, field);
        /* RFC 768: a computed zero goes as all ones. */
        if (r == TERN_OK && h[9] == IP_PROTO_UDP && rd16(h + ihl + 6) == 0u)
            wr16(h + ihl + 6, 0xFFFFu);
        return r;
    }
    return TERN_OK;
}

int tern_gso_csum_ok(const uint8_t *frame, size_t len, size_t l3)
{
    size_t ihl;
    size_t total;
    if (!ip_parse(frame, len, l3, &ihl, &total))
        return 0;
    const uint8_t *h = frame + l3;
    if (fold(sum_bytes(0, h, ihl)) != 0xFFFFu)
        return 0;
    size_t field = l4_field(h[9]);
    size_t l4len = total - ihl;
    if (field == 0u || (rd16(h + 6) & 0x3FFFu) != 0u || l4len < field + 2u)
        return 1; /* nothing to check here (a fragment: reassembly checks) */
    if (h[9] == IP_PROTO_UDP && rd16(h + ihl + 6) == 0u)
        return 1;
    uint64_t s = sum_bytes(h[9] == IP_PROTO_ICMP ? 0u : pseudo(h, l4len), h + ihl, l4len);
    return fold(s) == 0xFFFFu;
}

int tern_gso_segment(const uint8_t *frame, size_t len, size_t l3, unsigned mss, uint8_t *out, size_t out_cap,
                     tern_gso_emit_fn emit, void *ctx)
{
    size_t ihl;
    size_t total;
    if (mss == 0u || !ip_parse(frame, len, l3, &ihl, &total) || frame[l3 + 9] != IP_PROTO_TCP)
        return TERN_ERR_INVAL;
    const uint8_t *tcp = frame + l3 + ihl;
    if (total - ihl < 20u)
        return TERN_ERR_INVAL;
    size_t thl = (size_t)(tcp[12] >> 4) * 4u;
    size_t hdr = l3 + ihl + thl;
    if (thl < 20u || ihl + thl > total)
        return TERN_ERR_INVAL;
    size_t payload = total - ihl - thl;
    if (hdr + (payload < mss ? payload : mss) > out_cap)
        return TERN_ERR_INVAL;
    uint32_t seq = rd32(tcp + 4);
    uint16_t id = rd16(frame + l3 + 4);
    uint8_t flags = tcp[13];
    int n = 0;
    size_t off = 0;
    do {
        size_t k = payload - off < mss ? payload - off : mss;
        int last = off + k >= payload;
        memcpy(out, frame, hdr);
        memcpy(out + hdr, frame + hdr + off, k);
        uint8_t *h = out + l3;
        wr16(h + 2, (uint16_t)(ihl + thl + k));
        wr16(h + 4, (uint16_t)(id + (uint16_t)n));
        uint8_t *t = h + ihl;
        wr32(t + 4, seq + (uint32_t)off);
        uint8_t f = flags;
        if (!last)
            f = (uint8_t)(f & ~(TCP_FIN | TCP_PSH));
        if (n != 0)
            f = (uint8_t)(f & ~TCP_CWR);
        t[13] = f;
        wr16(h + 10, 0);
        wr16(h + 10, (uint16_t)~fold(sum_bytes(0, h, ihl)));
        wr16(t + 16, 0);
        wr16(t + 16, (uint16_t)~fold(sum_bytes(pseudo(h, thl + k), t, thl + k)));
        int r = emit(ctx, out, hdr + k);
        if (r < 0)
            return r;
        n++;
        off += k;
    } while (off < payload);
    return n;
}
