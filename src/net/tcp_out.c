/* TCP output: segments built from the send ring, windows, Nagle, sender SWS avoidance, retransmission timer start. */
/* Straight from the send ring into a network buffer: one copy, one checksum
 * pass over bytes still in cache. */
#include <string.h>
#include "net/tcp_internal.h"

uint32_t tcp_ts_now(const tern_stack_t *stack, const tern_tcp_pcb_t *pcb)
{
    return stack->now + pcb->ts_off; /* a 1 ms clock (RFC 7323 5.4: 1 ms..1 s per tick) */
}

uint32_t tcp_seg_room(const tern_tcp_pcb_t *pcb)
{
    /* RFC 2018 4: while out-of-order data is held every ACK should carry
     * SACK blocks, data segments included: they give up that much payload
     * (as Linux does), or a peer whose data is always answered by ours
     * would never see a block. */
    uint32_t room = pcb->mss;
    if ((pcb->flags & TF_SACK) && pcb->ooo != NULL) {
        unsigned cap = (pcb->flags & TF_TS) ? 3u : 4u;
        unsigned n = pcb->ooo_count < cap ? pcb->ooo_count : cap;
        uint32_t opt = TCP_SACK_OPT_SPACE(n);
        room = room > opt + TCP_MIN_MSS ? room - opt : TCP_MIN_MSS;
    }
    return room;
}

uint32_t tcp_flight(const tern_tcp_pcb_t *pcb)
{
    return pcb->snd_nxt - pcb->snd_una;
}

void tcp_rexmit_timer_start(tern_tcp_pcb_t *pcb, uint32_t now)
{
    pcb->flags |= TF_REXMIT;
    pcb->flags &= ~(uint32_t)(TF_PERSIST | TF_TLP | TF_RACK);
    uint32_t t = pcb->rto;
    /* RFC 8985: with an RTT measured, data in flight and no timeout under
     * way, the timer is first a shorter one: a reordering window when the
     * peer SACKed data above a hole, outside recovery (6.2: the hole is lost
     * once the window passes), else a tail loss probe (7.2: PTO = 2 SRTT,
     * plus a delayed ACK's worth when one segment is in flight). Small
     * windows rarely collect three duplicate ACKs; these spare them the
     * RTO. Neither ever runs later than the RTO would. */
    if (pcb->srtt8 != 0u && pcb->retries == 0u && pcb->snd_una != pcb->snd_max && !(pcb->flags & TF_FIN_SENT) &&
        (pcb->state == TERN_TCP_ESTABLISHED || pcb->state == TERN_TCP_CLOSE_WAIT)) {
        uint32_t srtt = pcb->srtt8 >> 3;
        uint32_t e;
        uint32_t f;
        if (!(pcb->flags & TF_RECOVERY) && pcb->sack != NULL && SEQ_GEQ(pcb->snd_una, pcb->recover)) {
            e = srtt / 4u + 1u; /* RFC 8985 6.2.4: reo_wnd = min_RTT / 4 (SRTT here) */
            f = TF_RACK;
        } else if (!(pcb->flags & TF_TLP_OUT)) {
            /* Also in recovery (a probe for a lost retransmission,
             * tcp_tlp_timeout), where the peer holds a hole and so ACKs at
             * once (RFC 5681 4.2): no delayed ACK to wait for there. */
            e = 2u * srtt + 2u;
            if (pcb->snd_max - pcb->snd_una <= pcb->mss && !(pcb->flags & TF_RECOVERY))
                e += TCP_TLP_DELACK_MS;
            f = TF_TLP;
        } else {
            e = t;
            f = 0;
        }
        if (e < t) {
            t = e;
            pcb->flags |= f;
        }
    }
    pcb->t_rexmit = now + t;
}

/* NOP NOP timestamps (RFC 7323 appendix A layout) at o: TCP_TS_OPT_LEN. */
static unsigned tcp_put_ts(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
    unsigned n = tcp_opt_write_nop(o);
    n += tcp_opt_write_nop(o + n);
    return n + tcp_opt_write_ts(o + n, tsval, tsecr);
}

/* Checksum (unless nif offloads it) and send. The first sum_len bytes of
 * the segment are summed here; the rest, if any, was summed while it was
 * copied in (payload_sum: checksum_copy's, starting at offset sum_len). */
static void tcp_sum_and_send(tern_stack_t *stack, tern_netbuf_t *nb, const tern_netif_t *nif, tern_ip4_t src,
                             tern_ip4_t dst, size_t sum_len, uint32_t payload_sum, int *result)
{
    if (nif == NULL || !(nif->offload & TERN_OFFLOAD_TX_L4_CSUM)) {
        uint32_t sum = checksum_pseudo(src != 0u ? src : (nif != NULL ? nif->addr : 0u), dst, IPV4_PROTO_TCP, nb->len);
        sum = checksum_add(sum, nb->data, sum_len);
        sum = checksum_combine(sum, payload_sum, sum_len);
        tcp_header_set_checksum(nb->data, checksum_finish(sum));
    } else {
        /* The partial sum the hardware completes (netif.h). */
        uint32_t sum = checksum_pseudo(src != 0u ? src : nif->addr, dst, IPV4_PROTO_TCP, nb->len);
        tcp_header_set_checksum(nb->data, (uint16_t)~checksum_finish(sum));
    }
    stack->counters.tcp.tx++;
    *result = ipv4_output(stack, nb, src, dst, IPV4_PROTO_TCP, TERN_IP_DEFAULT_TTL);
}

static void tcp_finish_and_send(tern_stack_t *stack, tern_netbuf_t *nb, tern_ip4_t src, tern_ip4_t dst, int *result)
{
    tern_ip4_t nexthop;
    const tern_netif_t *nif = ipv4_route(stack, src, dst, &nexthop);
    tcp_sum_and_send(stack, nb, nif, src, dst, nb->len, 0, result);
}

void tcp_send_raw_ts(tern_stack_t *stack, tern_ip4_t src, uint16_t sport, tern_ip4_t dst, uint16_t dport,
                     uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const uint32_t *ts)
{
    unsigned hl = TCP_HDR_LEN + (ts != NULL ? TCP_TS_OPT_LEN : 0u);
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, TCP_HEADROOM + hl, 0);
    if (nb == NULL)
        return;
    (void)tern_netbuf_pull(nb, TCP_HEADROOM);
    tcp_header_write(nb->data, sport, dport, seq, ack, flags, wnd, hl);
    if (ts != NULL)
        (void)tcp_put_ts(nb->data + TCP_HDR_LEN, ts[0], ts[1]);
    int r;
    tcp_finish_and_send(stack, nb, src, dst, &r);
}

void tcp_send_raw(tern_stack_t *stack, tern_ip4_t src, uint16_t sport, tern_ip4_t dst, uint16_t dport, uint32_t seq,
                  uint32_t ack, uint8_t flags, uint16_t wnd)
{
    tcp_send_raw_ts(stack, src, sport, dst, dport, seq, ack, flags, wnd, NULL);
}

#if TERN_IPV6
/* Checksum (always here: the IPv6 pseudo-header of RFC 8200 8.1; the
 * offload convention of netif.h is IPv4's) and send over IPv6 from the
 * source address ipv6_route picks for src (:: or ours). sum_len and
 * payload_sum as tcp_sum_and_send. Consumes nb. */
static void tcp6_sum_and_send(tern_stack_t *stack, tern_netbuf_t *nb, const tern_ip6_t *src, const tern_ip6_t *dst,
                              size_t sum_len, uint32_t payload_sum, int *result)
{
    tern_ip6_t s;
    tern_ipv6_if_t *ifs = ipv6_route(stack, src, dst, &s);
    if (ifs == NULL) {
        stack->counters.ipv6_tx_noroute++;
        tern_netbuf_release(&stack->netbufs, nb);
        *result = TERN_ERR_NOROUTE;
        return;
    }
    uint32_t sum = checksum_pseudo6(&s, dst, IPV6_NH_TCP, nb->len);
    sum = checksum_add(sum, nb->data, sum_len);
    sum = checksum_combine(sum, payload_sum, sum_len);
    tcp_header_set_checksum(nb->data, checksum_finish(sum));
    stack->counters.tcp.tx++;
    *result = ipv6_output(stack, ifs, nb, &s, dst, IPV6_NH_TCP, ifs->hop_limit);
}

void tcp_send_raw6(tern_stack_t *stack, const tern_ip6_t *src, uint16_t sport, const tern_ip6_t *dst, uint16_t dport,
                   uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const uint32_t *ts)
{
    unsigned hl = TCP_HDR_LEN + (ts != NULL ? TCP_TS_OPT_LEN : 0u);
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, TCP_HEADROOM6 + hl, 0);
    if (nb == NULL)
        return;
    (void)tern_netbuf_pull(nb, TCP_HEADROOM6);
    tcp_header_write(nb->data, sport, dport, seq, ack, flags, wnd, hl);
    if (ts != NULL)
        (void)tcp_put_ts(nb->data + TCP_HDR_LEN, ts[0], ts[1]);
    int r;
    tcp6_sum_and_send(stack, nb, src, dst, nb->len, 0, &r);
}
#endif

void tcp_send_raw_pcb(tern_stack_t *stack, const tern_tcp_pcb_t *pcb, uint32_t seq, uint32_t ack, uint8_t flags,
                      uint16_t wnd)
{
#if TERN_IPV6
    if (TCP_PCB_V6(pcb)) {
        tcp_send_raw6(stack, &pcb->local_ip6, pcb->local_port, &pcb->remote_ip6, pcb->remote_port, seq, ack, flags,
                      wnd, NULL);
        return;
    }
#endif
    tcp_send_raw(stack, pcb->local_ip, pcb->local_port, pcb->remote_ip, pcb->remote_port, seq, ack, flags, wnd);
}

/* A bare segment answering seg, in its family. */
static void tcp_send_reply(tern_stack_t *stack, const tcp_seg_t *seg, uint32_t seq, uint32_t ack, uint8_t flags)
{
#if TERN_IPV6
    if (TCP_SEG_V6(seg)) {
        tcp_send_raw6(stack, &seg->dst6, seg->dport, &seg->src6, seg->sport, seq, ack, flags, 0, NULL);
        return;
    }
#endif
    tcp_send_raw(stack, seg->dst, seg->dport, seg->src, seg->sport, seq, ack, flags, 0);
}

void tcp_send_rst_for(tern_stack_t *stack, const tcp_seg_t *seg)
{
    if (seg->flags & TCP_RST)
        return;
    stack->counters.tcp.rst_tx++;
    if (seg->flags & TCP_ACK) {
        tcp_send_reply(stack, seg, seg->ack, 0, TCP_RST);
    } else {
        uint32_t seglen = seg->len + ((seg->flags & TCP_SYN) ? 1u : 0u) + ((seg->flags & TCP_FIN) ? 1u : 0u);
        tcp_send_reply(stack, seg, 0, seg->seq + seglen, (uint8_t)(TCP_RST | TCP_ACK));
    }
}

void tcp_send_synack(tern_stack_t *stack, const tcp_seg_t *syn, const tcp_synack_t *sa)
{
    /* The layout of tcp_build_options for a SYN-ACK. */
    uint8_t o[TCP_OPT_MAX];
#if TERN_IPV6
    unsigned n = tcp_opt_write_mss(o, TCP_SEG_V6(syn) ? tcp_our_mss6(stack, &syn->src6) : tcp_our_mss(stack, syn->src));
#else
    unsigned n = tcp_opt_write_mss(o, tcp_our_mss(stack, syn->src));
#endif
    if (sa->has_ts) {
        if (sa->sack) {
            n += tcp_opt_write_sack_perm(o + n);
        } else {
            n += tcp_opt_write_nop(o + n);
            n += tcp_opt_write_nop(o + n);
        }
        n += tcp_opt_write_ts(o + n, sa->ts[0], sa->ts[1]);
    } else if (sa->sack) {
        n += tcp_opt_write_nop(o + n);
        n += tcp_opt_write_nop(o + n);
        n += tcp_opt_write_sack_perm(o + n);
    }
    if (sa->wscale >= 0) {
        n += tcp_opt_write_nop(o + n);
        n += tcp_opt_write_wscale(o + n, (uint8_t)sa->wscale);
    }
    unsigned hl = TCP_HDR_LEN + n;
#if TERN_IPV6
    unsigned room = TCP_SEG_V6(syn) ? TCP_HEADROOM6 : TCP_HEADROOM;
#else
    unsigned room = TCP_HEADROOM;
#endif
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, room + hl, 0);
    if (nb == NULL)
        return; /* the peer retransmits its SYN */
    (void)tern_netbuf_pull(nb, room);
    tcp_header_write(nb->data, syn->dport, syn->sport, sa->iss, syn->seq + 1u, (uint8_t)(TCP_SYN | TCP_ACK), sa->wnd,
                     hl);
    memcpy(nb->data + TCP_HDR_LEN, o, n);
    int r;
#if TERN_IPV6
    if (TCP_SEG_V6(syn)) {
        tcp6_sum_and_send(stack, nb, &syn->dst6, &syn->src6, nb->len, 0, &r);
        return;
    }
#endif
    tcp_finish_and_send(stack, nb, syn->dst, syn->src, &r);
}

/* The window field for a segment to send now; records the right edge. */
static uint16_t tcp_window_to_send(tern_tcp_pcb_t *pcb, int syn)
{
    uint32_t space = tcp_rcv_space(pcb);
    if (pcb->flags & (TF_FIN_RCVD | TF_APP_CLOSED))
        space = pcb->rbuf_size; /* nothing more will be stored */
    uint32_t edge = pcb->rcv_nxt + space;
    if (!syn) {
        uint32_t step = pcb->rbuf_size / 2u < pcb->mss ? pcb->rbuf_size / 2u : pcb->mss;
        /* Never shrink (RFC 9293 3.8.6.2.2); open only by a useful amount. */
        if (SEQ_LT(edge, pcb->rcv_adv) || edge - pcb->rcv_adv < step)
            edge = SEQ_GT(pcb->rcv_adv, pcb->rcv_nxt) ? pcb->rcv_adv : pcb->rcv_nxt + (space >= step ? space : 0u);
    }
    uint32_t wnd = edge - pcb->rcv_nxt;
    unsigned shift = syn ? 0u : pcb->rcv_wscale;
    uint32_t field = wnd >> shift;
    if (field > 0xFFFFu)
        field = 0xFFFFu;
    uint32_t adv = pcb->rcv_nxt + (field << shift);
    if (SEQ_GT(adv, pcb->rcv_adv))
        pcb->rcv_adv = adv;
    return (uint16_t)field;
}


/* Our options for a segment of len bytes into o (at most TCP_OPT_MAX);
 * returns their length, a multiple of 4. */
static unsigned tcp_build_options(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint8_t *o, int syn, uint32_t len)
{
    unsigned n = 0;
    if (syn) {
        /* In SYN-SENT our policy decides; in a SYN-ACK only what the
         * peer's SYN offered (RFC 2018 2, RFC 7323 2.2 and 3.2). */
        int sent = pcb->state == TERN_TCP_SYN_SENT;
        int sack = sent ? !(pcb->flags & TF_NOSACK) : (pcb->flags & TF_SACK) != 0u;
        int ts = sent ? !(pcb->flags & TF_NOTS) : (pcb->flags & TF_TS) != 0u;
        /* MSS (RFC 9293 3.7.1). */
        n = tcp_opt_write_mss(o, tcp_pcb_our_mss(stack, pcb));
        if (ts) {
            /* SACK-permitted in the place of the timestamps' two NOPs. */
            if (sack) {
                n += tcp_opt_write_sack_perm(o + n);
            } else {
                n += tcp_opt_write_nop(o + n);
                n += tcp_opt_write_nop(o + n);
            }
            n += tcp_opt_write_ts(o + n, tcp_ts_now(stack, pcb), sent ? 0u : pcb->ts_recent);
        } else if (sack) {
            n += tcp_opt_write_nop(o + n);
            n += tcp_opt_write_nop(o + n);
            n += tcp_opt_write_sack_perm(o + n);
        }
        /* Window scale (RFC 7323 2.2), in a SYN-ACK only when the peer's SYN
         * carried one. */
        if (sent || (pcb->flags & TF_WSCALE)) {
            n += tcp_opt_write_nop(o + n);
            n += tcp_opt_write_wscale(o + n, pcb->rcv_wscale);
        }
        return n;
    }
    if (pcb->flags & TF_TS)
        n = tcp_put_ts(o, tcp_ts_now(stack, pcb), pcb->ts_recent);
    if ((pcb->flags & TF_SACK) && pcb->ooo != NULL && pcb->mss >= len + TCP_SACK_OPT_SPACE(1)) {
        /* RFC 2018 3: as many blocks as fit, 3 next to a timestamp, 4
         * alone; on a data segment only in the room the MSS leaves (the
         * MSS is counted without the timestamp, which it already excludes). */
        unsigned max = (pcb->mss - len - TCP_SACK_OPT_SPACE(0)) / TCP_SACK_BLOCK_LEN;
        unsigned cap = (pcb->flags & TF_TS) ? 3u : 4u;
        unsigned k = tcp_sack_build(pcb, o + n, max < cap ? max : cap);
        if (k != 0u)
            stack->counters.tcp.sack_tx++;
        n += k;
    }
    return n;
}

int tcp_send_segment(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t seq, uint32_t len, uint8_t flags)
{
    int syn = (flags & TCP_SYN) != 0;
    uint8_t opts[TCP_OPT_MAX];
    unsigned optlen = tcp_build_options(stack, pcb, opts, syn, len);
    unsigned hdr_len = TCP_HDR_LEN + optlen;
#if TERN_IPV6
    unsigned room = TCP_PCB_V6(pcb) ? TCP_HEADROOM6 : TCP_HEADROOM;
#else
    const unsigned room = TCP_HEADROOM;
#endif
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, room + hdr_len + len, 0);
    if (nb == NULL) {
        /* Not fatal: the retransmission timer or the next ACK retries. */
        if (!(pcb->flags & (TF_REXMIT | TF_PERSIST)))
            tcp_rexmit_timer_start(pcb, stack->now);
        return TERN_ERR_NOBUFS;
    }
    (void)tern_netbuf_pull(nb, room);
    uint8_t *p = nb->data;
    if (pcb->state != TERN_TCP_SYN_SENT || syn == 0)
        flags |= TCP_ACK;
    if (pcb->state == TERN_TCP_SYN_SENT && syn)
        flags = TCP_SYN;
    tcp_header_write(p, pcb->local_port, pcb->remote_port, seq, pcb->rcv_nxt, flags, tcp_window_to_send(pcb, syn),
                     hdr_len);
    if (optlen != 0u)
        memcpy(p + TCP_HDR_LEN, opts, optlen);
    if (flags & TCP_ACK)
        pcb->last_ack_sent = pcb->rcv_nxt;
    /* The route first: without checksum offload, and where it is the
     * cheaper way (CHECKSUM_COPY_FUSED), the payload is summed as it is
     * copied out of the send ring (one pass over it, not two). */
    tern_ip4_t nexthop;
#if TERN_IPV6
    /* IPv6: no interface here (tcp6_sum_and_send routes), software sums. */
    const tern_netif_t *nif = TCP_PCB_V6(pcb) ? NULL : ipv4_route(stack, pcb->local_ip, pcb->remote_ip, &nexthop);
#else
    const tern_netif_t *nif = ipv4_route(stack, pcb->local_ip, pcb->remote_ip, &nexthop);
#endif
    int fused = CHECKSUM_COPY_FUSED && (nif == NULL || !(nif->offload & TERN_OFFLOAD_TX_L4_CSUM));
    uint32_t psum = 0;
    if (len != 0u) {
        uint32_t off = pcb->sbuf_head + (seq - pcb->snd_una);
        if (off >= pcb->sbuf_size)
            off -= pcb->sbuf_size;
        uint32_t first = pcb->sbuf_size - off < len ? pcb->sbuf_size - off : len;
        if (fused) {
            psum = checksum_copy(0, p + hdr_len, pcb->sbuf + off, first);
            if (first < len)
                psum = checksum_combine(psum, checksum_copy(0, p + hdr_len + first, pcb->sbuf, len - first), first);
        } else {
            memcpy(p + hdr_len, pcb->sbuf + off, first);
            if (first < len)
                memcpy(p + hdr_len + first, pcb->sbuf, len - first);
        }
    }
    /* Larger than a segment: TSO (tcp_tso_room), the driver cuts it. */
    uint32_t smss = tcp_seg_room(pcb);
    if (len > smss)
        nb->tso_mss = (uint16_t)smss;
    pcb->flags &= ~(uint32_t)(TF_ACK_NOW | TF_ACK_DELAYED | TF_ACK_BATCH);
    pcb->full_segs = 0;
    int r;
#if TERN_IPV6
    if (TCP_PCB_V6(pcb)) {
        tcp6_sum_and_send(stack, nb, &pcb->local_ip6, &pcb->remote_ip6, fused ? hdr_len : nb->len, psum, &r);
        return r;
    }
#endif
    tcp_sum_and_send(stack, nb, nif, pcb->local_ip, pcb->remote_ip, fused ? hdr_len : nb->len, psum, &r);
    return r;
}

int tcp_send_ack(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    /* snd_max, not snd_nxt: during go-back retransmission the peer has
     * seen sequence numbers up to snd_max, and an ACK below its rcv_nxt
     * would be unacceptable to it (BSD does the same). But with its window
     * closed the peer accepts only SEG.SEQ = RCV.NXT (RFC 9293 3.10.7.4),
     * which is what it last acknowledged: snd_una. Anything else is
     * dropped unread, ACK field and all, and both sides can stall. */
    uint32_t seq = pcb->snd_wnd == 0u ? pcb->snd_una : pcb->snd_max;
    return tcp_send_segment(stack, pcb, seq, 0, TCP_ACK);
}

void tcp_batch_end(tern_stack_t *stack)
{
    if (!stack->tcp.batch_acks)
        return;
    stack->tcp.batch_acks = 0;
    stack->tcp.busy++;
    for (tern_tcp_pcb_t *pcb = stack->tcp.pcbs; pcb != NULL; pcb = pcb->next) {
        if (!(pcb->flags & TF_ACK_BATCH))
            continue;
        pcb->flags &= ~(uint32_t)TF_ACK_BATCH;
        if (!(pcb->flags & TF_DEAD) && pcb->state != TERN_TCP_CLOSED && pcb->state != TERN_TCP_TIME_WAIT)
            (void)tcp_send_ack(stack, pcb);
    }
    stack->tcp.busy--;
    tcp_reap(stack);
}

/* TSO (netif.h, TERN_OFFLOAD_TX_TSO): the most payload one send may
 * carry, a multiple of smss. Just smss when the route's interface cannot
 * cut segments, while out-of-order data is held (SACK blocks ride on
 * segments of one MSS, RFC 2018 4), or when a network buffer holds no
 * more. Each segment the driver cuts is one the peer sees as ours. */
static uint32_t tcp_tso_room(const tern_stack_t *stack, const tern_tcp_pcb_t *pcb, uint32_t smss)
{
    const tern_netif_t *n = stack->netifs;
    while (n != NULL && !(n->offload & TERN_OFFLOAD_TX_TSO))
        n = n->next;
    if (n == NULL || pcb->ooo != NULL || TCP_PCB_V6(pcb))
        return smss; /* TSO is IPv4's (netif.h) */
    tern_ip4_t nexthop;
    const tern_netif_t *nif = ipv4_route(stack, pcb->local_ip, pcb->remote_ip, &nexthop);
    const unsigned need = TERN_OFFLOAD_TX_TSO | TERN_OFFLOAD_TX_L4_CSUM;
    if (nif == NULL || (nif->offload & need) != need)
        return smss;
    uint32_t max = nif->tso_max;
    if (max > TERN_NETBUF_FRAME_SIZE - ETH_HDR_LEN)
        max = TERN_NETBUF_FRAME_SIZE - ETH_HDR_LEN;
    uint32_t hdr = IPV4_HDR_LEN + TCP_HDR_LEN + ((pcb->flags & TF_TS) ? TCP_TS_OPT_LEN : 0u);
    if (max < hdr + 2u * smss)
        return smss;
    return (max - hdr) / smss * smss;
}

static int tcp_state_sends_data(int state)
{
    switch (state) {
    case TERN_TCP_ESTABLISHED:
    case TERN_TCP_CLOSE_WAIT:
    case TERN_TCP_FIN_WAIT_1:
    case TERN_TCP_CLOSING:
    case TERN_TCP_LAST_ACK:
        return 1;
    default:
        return 0;
    }
}

void tcp_output(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    int sent = 0;
    if (tcp_state_sends_data(pcb->state)) {
        /* The peer closed its window with our data beyond it: take that data
         * back as unsent (BSD does the same) so the persist timer probes
         * and it goes again when the window opens. */
        if (pcb->snd_wnd == 0u && SEQ_GT(pcb->snd_nxt, pcb->snd_una) && !(pcb->flags & TF_FIN_SENT)) {
            pcb->snd_nxt = pcb->snd_una;
        }
        /* Loss recovery with a scoreboard: holes first, by pipe (RFC 6675). */
        if (tcp_sack_recovery(pcb) && pcb->snd_wnd != 0u) {
            sent = tcp_sack_output(stack, pcb);
            if (!(pcb->flags & TF_REXMIT) && pcb->snd_una != pcb->snd_max)
                tcp_rexmit_timer_start(pcb, stack->now);
        }
        for (; !tcp_sack_recovery(pcb) || pcb->snd_wnd == 0u;) {
            uint32_t data_end = pcb->snd_una + pcb->sbuf_len;
            if (SEQ_GT(pcb->snd_nxt, data_end))
                break; /* FIN already sent */
            uint32_t unsent = data_end - pcb->snd_nxt;
            uint32_t cwnd = pcb->cwnd;
            /* Limited transmit (RFC 3042): the first two duplicate ACKs
             * each let one new segment out, so that small windows still
             * collect the three duplicates fast retransmit needs. */
            if (pcb->dupacks != 0u && pcb->dupacks < 3u && !(pcb->flags & TF_RECOVERY))
                cwnd += (uint32_t)pcb->dupacks * pcb->mss;
            uint32_t flight = tcp_flight(pcb);
            /* The peer's window counts from SND.UNA; cwnd counts what is in
             * the network, and bytes a go-back skipped as SACKed are not. */
            uint32_t below = pcb->sack != NULL ? tcp_sack_below(pcb, pcb->snd_nxt) : 0u;
            uint32_t in_net = flight > below ? flight - below : 0u;
            uint32_t avail = pcb->snd_wnd > flight ? pcb->snd_wnd - flight : 0u;
            uint32_t smss = tcp_seg_room(pcb);
            /* cwnd counts segments (as Linux does): any room lets a full
             * one go. Cutting a segment to an odd cwnd remainder leaves
             * short segments and flights of one, and a flight of one
             * that is lost gets no duplicate ACK: only the RTO ends it. */
            uint32_t cavail = cwnd > in_net ? cwnd - in_net : 0u;
            if (cavail != 0u && cavail < smss)
                cavail = smss;
            if (cavail < avail)
                avail = cavail;
            uint32_t burst = unsent > smss ? tcp_tso_room(stack, pcb, smss) : smss;
            uint32_t len = unsent < burst ? unsent : burst;
            if (len > avail)
                len = avail;
            /* TSO: whole segments, but for the tail of the data. */
            if (len > smss && len < unsent)
                len -= len % smss;
            if (pcb->sack != NULL && SEQ_LT(pcb->snd_nxt, pcb->snd_max)) {
                /* Go-back after a timeout: skip what the peer SACKed since. */
                uint32_t at = pcb->snd_nxt;
                uint32_t room = tcp_sack_skip(pcb, &at);
                if (at != pcb->snd_nxt) {
                    pcb->snd_nxt = SEQ_GT(at, pcb->snd_max) ? pcb->snd_max : at;
                    continue;
                }
                if (len > room)
                    len = room;
            }
            int fin = (pcb->flags & TF_FIN_QUEUED) && len == unsent;
            if (len == 0u && !fin)
                break;
            /* Retransmissions (below snd_max) always go: holding them back
             * for a small window would stall the connection. */
            if (len < smss && !fin && SEQ_GEQ(pcb->snd_nxt, pcb->snd_max)) {
                if (len < unsent) {
                    /* RFC 1122 4.2.3.4: window-limited; wait for a bigger
                     * window unless it is half the largest seen, or nothing
                     * is in flight (no ACK would come to reopen it). */
                    if (len < pcb->max_snd_wnd / 2u && flight != 0u)
                        break;
                } else if (flight != 0u && !(pcb->flags & TF_NODELAY)) {
                    break; /* Nagle (RFC 896) */
                }
            }
            uint8_t fl = (uint8_t)(TCP_ACK | (len == unsent && len != 0u ? TCP_PSH : 0u) | (fin ? TCP_FIN : 0u));
            uint32_t seq = pcb->snd_nxt;
            if (tcp_send_segment(stack, pcb, seq, len, fl) != TERN_OK && len == 0u && !fin)
                break;
            sent = 1;
            pcb->snd_nxt = seq + len + (fin ? 1u : 0u);
            if (fin)
                pcb->flags |= TF_FIN_SENT;
            if (SEQ_GT(pcb->snd_nxt, pcb->snd_max)) {
                if (!(pcb->flags & (TF_RTT | TF_TS)) && SEQ_GEQ(seq, pcb->snd_max)) {
                    pcb->flags |= TF_RTT;
                    pcb->rtt_seq = seq;
                    pcb->rtt_start = stack->now;
                }
                pcb->snd_max = pcb->snd_nxt;
            } else if (len != 0u) {
                stack->counters.tcp.retransmits++;
                pcb->retransmits++;
            }
            if (!(pcb->flags & TF_REXMIT))
                tcp_rexmit_timer_start(pcb, stack->now);
            if (fin)
                break;
        }
        uint32_t data_end = pcb->snd_una + pcb->sbuf_len;
        /* Zero window with data waiting and nothing in flight: persist. */
        if (pcb->snd_wnd == 0u && SEQ_LT(pcb->snd_nxt, data_end) && pcb->snd_nxt == pcb->snd_una &&
            !(pcb->flags & TF_PERSIST)) {
            pcb->flags &= ~(uint32_t)TF_REXMIT;
            pcb->flags |= TF_PERSIST;
            pcb->t_rexmit = stack->now + pcb->rto;
        }
        /* Data outstanding or waiting must always have a timer: anything
         * else would wait for the peer forever. The one path known to need
         * this (stale SACK ranges below SND.UNA from a reordered old ACK,
         * so nothing was sent with nothing in flight) is closed in
         * tcp_sack_input; this stays as the backstop. */
        if (!(pcb->flags & (TF_REXMIT | TF_PERSIST)) &&
            (pcb->snd_una != pcb->snd_max || SEQ_LT(pcb->snd_nxt, data_end)))
            tcp_rexmit_timer_start(pcb, stack->now);
    }
    if (!sent && (pcb->flags & TF_ACK_NOW))
        (void)tcp_send_ack(stack, pcb);
}
