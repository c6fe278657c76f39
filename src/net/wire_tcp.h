/* The TCP header on the wire (RFC 9293 3.1): named fields, flags and option kinds, a checked view, the writers. */
#ifndef TERN_NET_WIRE_TCP_H
#define TERN_NET_WIRE_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tern/err.h"
#include "util/wire.h"

/* Field offsets in the fixed header. */
#define TCP_OFF_SPORT 0u
#define TCP_OFF_DPORT 2u
#define TCP_OFF_SEQ 4u
#define TCP_OFF_ACK 8u
#define TCP_OFF_DOFF 12u  /* data offset: the upper 4 bits, in 32-bit words */
#define TCP_OFF_FLAGS 13u
#define TCP_OFF_WND 14u
#define TCP_OFF_CSUM 16u
#define TCP_OFF_URP 18u
#define TCP_HDR_LEN 20u   /* the fixed header; options follow */
#define TCP_OPT_MAX 40u   /* data offset 15: 60 bytes of header at most */
#define TCP_DOFF_SHIFT 4u

/* Flags (the low 6 bits of TCP_OFF_FLAGS; ECN's CWR and ECE are not used). */
#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_PSH 0x08u
#define TCP_ACK 0x10u
#define TCP_URG 0x20u
#define TCP_FLAGS_MASK 0x3Fu

/* Option kinds (RFC 9293 3.2, RFC 7323, RFC 2018) and their total lengths. */
#define TCP_OPT_EOL 0u
#define TCP_OPT_NOP 1u
#define TCP_OPT_MSS 2u
#define TCP_OPT_WSCALE 3u
#define TCP_OPT_SACK_PERM 4u
#define TCP_OPT_SACK 5u
#define TCP_OPT_TS 8u
#define TCP_OPTLEN_MSS 4u
#define TCP_OPTLEN_WSCALE 3u
#define TCP_OPTLEN_SACK_PERM 2u
#define TCP_OPTLEN_TS 10u
#define TCP_OPT_HDR_LEN 2u      /* kind and length; the value follows */
#define TCP_SACK_BLOCK_LEN 8u   /* left edge, right edge */
#define TCP_SACK_MAX_BLOCKS 4u  /* what 40 bytes of options hold (RFC 2018 3) */
/* A SACK option of n blocks behind two NOPs, as we send it (RFC 2018 3). */
#define TCP_SACK_OPT_SPACE(n) (2u + TCP_OPT_HDR_LEN + TCP_SACK_BLOCK_LEN * (n))

/* A received segment whose lengths were checked once (tcp_view_check):
 * every accessor below stays inside it. */
typedef struct tcp_view {
    const uint8_t *p;
    size_t len;       /* header and payload */
    unsigned hdr_len; /* TCP_HDR_LEN..60, at most len */
} tcp_view_t;

/* TERN_OK and the view; TERN_ERR_MSGSIZE when len cannot hold the fixed
 * header; TERN_ERR_INVAL when the data offset points below it or past
 * len. */
static inline int tcp_view_check(const uint8_t *p, size_t len, tcp_view_t *v)
{
    if (len < TCP_HDR_LEN)
        return TERN_ERR_MSGSIZE;
    unsigned hdr_len = (unsigned)(p[TCP_OFF_DOFF] >> TCP_DOFF_SHIFT) * 4u;
    if (hdr_len < TCP_HDR_LEN || hdr_len > len)
        return TERN_ERR_INVAL;
    v->p = p;
    v->len = len;
    v->hdr_len = hdr_len;
    return TERN_OK;
}

static inline uint16_t tcp_view_sport(const tcp_view_t *v)
{
    return wire_rd16(v->p + TCP_OFF_SPORT);
}

static inline uint16_t tcp_view_dport(const tcp_view_t *v)
{
    return wire_rd16(v->p + TCP_OFF_DPORT);
}

static inline uint32_t tcp_view_seq(const tcp_view_t *v)
{
    return wire_rd32(v->p + TCP_OFF_SEQ);
}

static inline uint32_t tcp_view_ack(const tcp_view_t *v)
{
    return wire_rd32(v->p + TCP_OFF_ACK);
}

static inline uint8_t tcp_view_flags(const tcp_view_t *v)
{
    return (uint8_t)(v->p[TCP_OFF_FLAGS] & TCP_FLAGS_MASK);
}

static inline uint16_t tcp_view_wnd(const tcp_view_t *v)
{
    return wire_rd16(v->p + TCP_OFF_WND);
}

static inline const uint8_t *tcp_view_options(const tcp_view_t *v)
{
    return v->p + TCP_HDR_LEN;
}

static inline size_t tcp_view_options_len(const tcp_view_t *v)
{
    return v->hdr_len - TCP_HDR_LEN;
}

static inline const uint8_t *tcp_view_payload(const tcp_view_t *v)
{
    return v->p + v->hdr_len;
}

static inline size_t tcp_view_payload_len(const tcp_view_t *v)
{
    return v->len - v->hdr_len;
}

/* Options parsed from a received segment. */
typedef struct tcp_opts {
    uint16_t mss;     /* 0: none */
    uint8_t wscale;   /* valid when has_wscale */
    uint8_t has_wscale;
    uint8_t sack_ok;  /* SACK-permitted (SYN only) */
    uint8_t has_ts;
    uint8_t nsack;    /* SACK blocks at sack (1..4), 0: none */
    uint32_t tsval, tsecr;
    const uint8_t *sack; /* TCP_SACK_BLOCK_LEN bytes per block, in the segment */
} tcp_opts_t;

/* Options (RFC 9293 3.2): EOL, NOP, or kind-length-value with length >= 2
 * inside the header. Malformed: 0 (also a known kind of the wrong length:
 * MSS 4, window scale 3, SACK-permitted 2, SACK 2 + 8n with n = 1..4,
 * timestamps 10). Unknown kinds are skipped. */
static inline int tcp_options_parse(const tcp_view_t *v, tcp_opts_t *out)
{
    const uint8_t *o = tcp_view_options(v);
    size_t len = tcp_view_options_len(v);
    size_t i = 0;
    memset(out, 0, sizeof *out);
    while (i < len) {
        uint8_t kind = o[i];
        if (kind == TCP_OPT_EOL)
            break;
        if (kind == TCP_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1u >= len)
            return 0;
        uint8_t olen = o[i + 1u];
        if (olen < TCP_OPT_HDR_LEN || olen > len - i)
            return 0;
        const uint8_t *val = o + i + TCP_OPT_HDR_LEN;
        if (kind == TCP_OPT_MSS) {
            if (olen != TCP_OPTLEN_MSS)
                return 0;
            out->mss = wire_rd16(val);
        } else if (kind == TCP_OPT_WSCALE) {
            if (olen != TCP_OPTLEN_WSCALE)
                return 0;
            out->has_wscale = 1;
            out->wscale = val[0];
        } else if (kind == TCP_OPT_SACK_PERM) {
            if (olen != TCP_OPTLEN_SACK_PERM)
                return 0;
            out->sack_ok = 1;
        } else if (kind == TCP_OPT_SACK) {
            /* RFC 2018 3: 1..4 blocks (40 bytes of options hold no more). */
            if (olen < TCP_OPT_HDR_LEN + TCP_SACK_BLOCK_LEN || (olen - TCP_OPT_HDR_LEN) % TCP_SACK_BLOCK_LEN != 0u)
                return 0;
            out->nsack = (uint8_t)((olen - TCP_OPT_HDR_LEN) / TCP_SACK_BLOCK_LEN);
            out->sack = val;
        } else if (kind == TCP_OPT_TS) {
            if (olen != TCP_OPTLEN_TS)
                return 0;
            out->has_ts = 1;
            out->tsval = wire_rd32(val);
            out->tsecr = wire_rd32(val + 4u);
        }
        i += olen;
    }
    return 1;
}

/* The left and right edges of SACK block i (below tcp_opts_t.nsack) of a
 * parsed option. */
static inline uint32_t tcp_opt_sack_left(const uint8_t *blocks, unsigned i)
{
    return wire_rd32(blocks + (size_t)TCP_SACK_BLOCK_LEN * i);
}

static inline uint32_t tcp_opt_sack_right(const uint8_t *blocks, unsigned i)
{
    return wire_rd32(blocks + (size_t)TCP_SACK_BLOCK_LEN * i + 4u);
}

/* ---- writers ------------------------------------------------------------- */

/* The fixed header at p (checksum and urgent pointer zero); hdr_len counts
 * the options that follow (a multiple of 4). The ACK field is zero unless
 * the ACK flag is set (RFC 9293 3.1). */
static inline void tcp_header_write(uint8_t *p, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                                    uint8_t flags, uint16_t wnd, unsigned hdr_len)
{
    wire_wr16(p + TCP_OFF_SPORT, sport);
    wire_wr16(p + TCP_OFF_DPORT, dport);
    wire_wr32(p + TCP_OFF_SEQ, seq);
    wire_wr32(p + TCP_OFF_ACK, (flags & TCP_ACK) ? ack : 0u);
    p[TCP_OFF_DOFF] = (uint8_t)((hdr_len / 4u) << TCP_DOFF_SHIFT);
    p[TCP_OFF_FLAGS] = flags;
    wire_wr16(p + TCP_OFF_WND, wnd);
    wire_wr16(p + TCP_OFF_CSUM, 0);
    wire_wr16(p + TCP_OFF_URP, 0);
}

static inline void tcp_header_set_checksum(uint8_t *p, uint16_t sum)
{
    wire_wr16(p + TCP_OFF_CSUM, sum);
}

/* Option writers: each writes at o and returns the bytes written. */
static inline unsigned tcp_opt_write_nop(uint8_t *o)
{
    o[0] = TCP_OPT_NOP;
    return 1u;
}

static inline unsigned tcp_opt_write_mss(uint8_t *o, uint16_t mss)
{
    o[0] = TCP_OPT_MSS;
    o[1] = TCP_OPTLEN_MSS;
    wire_wr16(o + TCP_OPT_HDR_LEN, mss);
    return TCP_OPTLEN_MSS;
}

static inline unsigned tcp_opt_write_wscale(uint8_t *o, uint8_t shift)
{
    o[0] = TCP_OPT_WSCALE;
    o[1] = TCP_OPTLEN_WSCALE;
    o[TCP_OPT_HDR_LEN] = shift;
    return TCP_OPTLEN_WSCALE;
}

static inline unsigned tcp_opt_write_sack_perm(uint8_t *o)
{
    o[0] = TCP_OPT_SACK_PERM;
    o[1] = TCP_OPTLEN_SACK_PERM;
    return TCP_OPTLEN_SACK_PERM;
}

/* Timestamps (RFC 7323 3.2). */
static inline unsigned tcp_opt_write_ts(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
    o[0] = TCP_OPT_TS;
    o[1] = TCP_OPTLEN_TS;
    wire_wr32(o + TCP_OPT_HDR_LEN, tsval);
    wire_wr32(o + TCP_OPT_HDR_LEN + 4u, tsecr);
    return TCP_OPTLEN_TS;
}

/* The kind and length of a SACK option of n blocks; the blocks follow
 * (tcp_opt_write_sack_block). */
static inline unsigned tcp_opt_write_sack(uint8_t *o, unsigned n)
{
    o[0] = TCP_OPT_SACK;
    o[1] = (uint8_t)(TCP_OPT_HDR_LEN + TCP_SACK_BLOCK_LEN * n);
    return TCP_OPT_HDR_LEN;
}

/* Block i of a SACK option whose blocks start at blocks. */
static inline void tcp_opt_write_sack_block(uint8_t *blocks, unsigned i, uint32_t start, uint32_t end)
{
    uint8_t *b = blocks + (size_t)TCP_SACK_BLOCK_LEN * i;
    wire_wr32(b, start);
    wire_wr32(b + 4u, end);
}

#endif
