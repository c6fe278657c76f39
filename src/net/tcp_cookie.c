/* TCP SYN cookies (RFC 4987 3.6): a listener whose backlog or the stack's
 * half-open table is full answers a SYN without keeping state; the ISN of
 * its SYN-ACK carries what the connection needs, and the ACK that returns
 * it (ack - 1) recreates the connection.
 *
 * The ISN: bits 31..29 the index of the peer's MSS in tcp_cookie_mss_tab,
 * bits 28..0 a SipHash-2-4 of the 4-tuple, the peer's ISN, the period
 * number and the MSS index under the period's key (so the MSS bits cannot
 * be changed either). Window scale and SACK-permitted do not fit
 * there: as Linux does, they ride in the low 6 bits of our TSval, which the
 * ACK echoes in TSecr (bits 0..3 the peer's shift, 0xF none; bit 4 SACK).
 * A SYN without timestamps therefore gets a SYN-ACK without window scale or
 * SACK (docs/network.md says what that costs).
 *
 * Keys: drawn from the port's random source when the first cookie is
 * needed, replaced every TERN_TCP_SYN_COOKIE_PERIOD_MS (checked when a
 * cookie is made or checked: the core has no timer of its own for it). A
 * cookie is accepted under the current key or the one before, so for one
 * to two periods; after that its key is gone and a replay fails. */
#include <string.h>
#include "net/tcp_internal.h"

#define COOKIE_HASH_MASK 0x1FFFFFFFu
#define COOKIE_MSS_SHIFT 29u
#define COOKIE_WS_NONE 0xFu
#define COOKIE_SACK 0x10u
#define COOKIE_TS_MASK 0x3Fu

/* MSS classes (3 bits): common Ethernet, tunnel and IPv6-path values. A
 * peer gets the largest class not above what it sent. */
static const uint16_t tcp_cookie_mss_tab[8] = {64, 256, 536, 1024, 1220, 1380, 1440, 1460};

unsigned tcp_cookie_mss_index(uint16_t mss)
{
    unsigned i = 7;
    while (i > 0u && tcp_cookie_mss_tab[i] > mss)
        i--;
    return i;
}

uint16_t tcp_cookie_mss_value(unsigned index)
{
    return tcp_cookie_mss_tab[index & 7u];
}

/* Bring the keys up to the current period. */
static void tcp_cookie_keys_update(tern_stack_t *stack)
{
    tern_tcp_t *tcp = &stack->tcp;
    uint32_t epoch = stack->now / TERN_TCP_SYN_COOKIE_PERIOD_MS;
    if (tcp->cookie_keys != 0u && epoch == tcp->cookie_epoch)
        return;
    if (tcp->cookie_keys != 0u && epoch == tcp->cookie_epoch + 1u) {
        memcpy(tcp->cookie_key[1], tcp->cookie_key[0], sizeof tcp->cookie_key[1]);
        tcp->cookie_keys = 2;
    } else {
        /* First use, or idle for more than a period: no older key is valid. */
        memset(tcp->cookie_key[1], 0, sizeof tcp->cookie_key[1]);
        tcp->cookie_keys = 1;
    }
    for (unsigned i = 0; i < 4u; i++)
        tcp->cookie_key[0][i] = stack->port->random32(stack->port->ctx);
    tcp->cookie_epoch = epoch;
}

static uint32_t tcp_cookie_hash(const uint32_t key[4], const tcp_seg_t *seg, uint32_t peer_isn, uint32_t epoch,
                                unsigned mss_index)
{
#if TERN_IPV6
    /* Over IPv6 the full addresses (45 bytes), so that no two peers share
     * a cookie through their folds. */
    if (TCP_SEG_V6(seg)) {
        uint8_t m6[45];
        memcpy(m6, seg->dst6.b, 16);
        wire_wr16(m6 + 16, seg->dport);
        memcpy(m6 + 18, seg->src6.b, 16);
        wire_wr16(m6 + 34, seg->sport);
        wire_wr32(m6 + 36, peer_isn);
        wire_wr32(m6 + 40, epoch);
        m6[44] = (uint8_t)mss_index;
        return (uint32_t)tcp_siphash(key, m6, sizeof m6) & COOKIE_HASH_MASK;
    }
#endif
    uint8_t m[21];
    wire_wr32(m, seg->dst);
    wire_wr16(m + 4, seg->dport);
    wire_wr32(m + 6, seg->src);
    wire_wr16(m + 10, seg->sport);
    wire_wr32(m + 12, peer_isn);
    wire_wr32(m + 16, epoch);
    m[20] = (uint8_t)mss_index;
    return (uint32_t)tcp_siphash(key, m, sizeof m) & COOKIE_HASH_MASK;
}

void tcp_cookie_send(tern_stack_t *stack, const tern_tcp_pcb_t *l, const tcp_seg_t *seg)
{
    tern_tcp_t *tcp = &stack->tcp;
    tcp_cookie_keys_update(stack);
    uint16_t mss = seg->opts.mss != 0u ? seg->opts.mss : TCP_DEFAULT_MSS;
    unsigned idx = tcp_cookie_mss_index(mss);
    uint32_t iss = ((uint32_t)idx << COOKIE_MSS_SHIFT) | tcp_cookie_hash(tcp->cookie_key[0], seg, seg->seq,
                                                                        tcp->cookie_epoch, idx);
    tcp_synack_t sa = {.iss = iss, .wnd = l->rbuf_size > 0xFFFFu ? 0xFFFFu : (uint16_t)l->rbuf_size};
    if (seg->opts.has_ts && !(l->flags & TF_NOTS)) {
        uint32_t ws = COOKIE_WS_NONE;
        if (seg->opts.has_wscale) {
            ws = seg->opts.wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : seg->opts.wscale;
            uint8_t shift = 0;
            while (shift < TCP_MAX_WSCALE && (l->rbuf_size >> shift) > 0xFFFFu)
                shift++;
            sa.wscale = (int8_t)shift;
        } else {
            sa.wscale = -1;
        }
        sa.sack = seg->opts.sack_ok && !(l->flags & TF_NOSACK);
        uint32_t now = stack->now + tcp_ts_offset_seg(stack, seg);
        /* Our clock with its low bits replaced, never ahead of it, so the
         * connection's later TSvals do not go backwards. */
        uint32_t tsval = (now & ~COOKIE_TS_MASK) | ws | (sa.sack ? COOKIE_SACK : 0u);
        if ((int32_t)(tsval - now) > 0)
            tsval -= COOKIE_TS_MASK + 1u;
        sa.has_ts = 1;
        sa.ts[0] = tsval;
        sa.ts[1] = seg->opts.tsval;
    } else {
        sa.wscale = -1;
    }
    tcp->cookie_sent = stack->now;
    stack->counters.tcp.syncookies_sent++;
    tcp_send_synack(stack, seg, &sa);
}

int tcp_cookie_check(tern_stack_t *stack, const tcp_seg_t *seg, tcp_opts_t *syn)
{
    tern_tcp_t *tcp = &stack->tcp;
    /* Only while cookies are being sent (RFC 4987 3.6): otherwise an ACK
     * to a listener is what it always was, and a blind forger gets no
     * oracle. */
    if (tcp->cookie_keys == 0u || stack->now - tcp->cookie_sent >= 2u * TERN_TCP_SYN_COOKIE_PERIOD_MS)
        return 0;
    tcp_cookie_keys_update(stack);
    uint32_t cookie = seg->ack - 1u;
    uint32_t peer_isn = seg->seq - 1u;
    uint32_t h = cookie & COOKIE_HASH_MASK;
    unsigned idx = cookie >> COOKIE_MSS_SHIFT;
    int ok = h == tcp_cookie_hash(tcp->cookie_key[0], seg, peer_isn, tcp->cookie_epoch, idx);
    if (!ok && tcp->cookie_keys == 2u)
        ok = h == tcp_cookie_hash(tcp->cookie_key[1], seg, peer_isn, tcp->cookie_epoch - 1u, idx);
    if (!ok)
        return -1;
    memset(syn, 0, sizeof *syn);
    syn->mss = tcp_cookie_mss_value(idx);
    if (seg->opts.has_ts) {
        uint32_t tsnow = stack->now + tcp_ts_offset_seg(stack, seg);
        uint32_t bits = seg->opts.tsecr & COOKIE_TS_MASK;
        uint32_t ws = bits & 0xFu;
        /* An echo from the future or with bits we never set is not ours. */
        if ((int32_t)(tsnow - seg->opts.tsecr) < 0 || (bits & ~(COOKIE_SACK | 0xFu)) != 0u ||
            (ws != COOKIE_WS_NONE && ws > TCP_MAX_WSCALE))
            return -1;
        syn->has_ts = 1;
        syn->tsval = seg->opts.tsval;
        syn->sack_ok = (bits & COOKIE_SACK) != 0u;
        if (ws != COOKIE_WS_NONE) {
            syn->has_wscale = 1;
            syn->wscale = (uint8_t)ws;
        }
    }
    return 1;
}

void tcp_cookie_settle(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    if (PCB_GONE(pcb))
        return;
    if (pcb->state == TERN_TCP_SYN_RECEIVED) {
        /* The listener could not take it: no state stays behind (the peer
         * retransmits, and its ACK carries the cookie again). */
        stack->counters.tcp.syncookies_no_room++;
        tcp_pcb_kill(stack, pcb, 0);
        return;
    }
    stack->counters.tcp.syncookies_accepted++;
}
