/* TCP opening handshake: segments for LISTEN and SYN-SENT (RFC 9293 3.10.7.2, 3.10.7.3), SYN options, our MSS. */
#include "net/tcp_cc.h"
#include "net/tcp_internal.h"

uint16_t tcp_our_mss(const tern_stack_t *stack, tern_ip4_t remote)
{
    tern_ip4_t nexthop;
    const tern_netif_t *nif = ipv4_route(stack, 0, remote, &nexthop);
    unsigned mtu = nif != NULL ? nif->mtu : 576u;
    if (mtu > TERN_NETBUF_FRAME_SIZE - ETH_HDR_LEN)
        mtu = TERN_NETBUF_FRAME_SIZE - ETH_HDR_LEN;
    return (uint16_t)(mtu > IPV4_HDR_LEN + TCP_HDR_LEN + TCP_MIN_MSS ? mtu - (IPV4_HDR_LEN + TCP_HDR_LEN) : TCP_MIN_MSS);
}

#if TERN_IPV6
uint16_t tcp_our_mss6(tern_stack_t *stack, const tern_ip6_t *remote)
{
    /* RFC 8201 / RFC 8200 8.3: the path MTU (the link's, or what a Packet
     * Too Big left; never below 1280) less 60; not above a buffer. */
    unsigned mtu = ipv6_path_mtu(stack, remote);
    if (mtu > TERN_NETBUF_FRAME_SIZE - ETH_HDR_LEN)
        mtu = TERN_NETBUF_FRAME_SIZE - ETH_HDR_LEN;
    return (uint16_t)(mtu > TCP_IP6_OVERHEAD + TCP_MIN_MSS ? mtu - TCP_IP6_OVERHEAD : TCP_MIN_MSS);
}
#endif

uint16_t tcp_pcb_our_mss(tern_stack_t *stack, const tern_tcp_pcb_t *pcb)
{
#if TERN_IPV6
    if (TCP_PCB_V6(pcb))
        return tcp_our_mss6(stack, &pcb->remote_ip6);
#endif
    return tcp_our_mss(stack, pcb->remote_ip);
}

/* Take the peer's SYN options: MSS clamped to sane bounds and our MTU,
 * window scale only when both sides offer it. */
static void tcp_take_syn_options(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tcp_seg_t *seg)
{
    uint16_t ours = tcp_pcb_our_mss(stack, pcb);
    uint16_t mss = seg->opts.mss != 0u ? seg->opts.mss : TCP_DEFAULT_MSS;
    if (mss < TCP_MIN_MSS)
        mss = TCP_MIN_MSS;
    pcb->mss = mss < ours ? mss : ours;
    if (seg->opts.sack_ok && !(pcb->flags & TF_NOSACK))
        pcb->flags |= TF_SACK;
    if (seg->opts.has_ts && !(pcb->flags & TF_NOTS)) {
        /* RFC 7323 3.2: both SYNs carried it: on every segment from now
         * on. The MSS excludes options (RFC 6691), so segments carry that
         * much less data. */
        pcb->flags |= TF_TS;
        pcb->ts_recent = seg->opts.tsval;
        pcb->mss = (uint16_t)(pcb->mss - TCP_TS_OPT_LEN);
    }
    if (seg->opts.has_wscale) {
        pcb->flags |= TF_WSCALE;
        pcb->snd_wscale = seg->opts.wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : seg->opts.wscale;
    } else {
        pcb->snd_wscale = 0;
        pcb->rcv_wscale = 0;
    }
    tcp_cc_init(pcb);
}

/* SYN-SENT (RFC 9293 3.10.7.3). */
void tcp_input_syn_sent(tern_stack_t *stack, tern_tcp_pcb_t *pcb, tcp_seg_t *seg)
{
    int ack_ok = 0;
    if (seg->flags & TCP_ACK) {
        if (SEQ_LEQ(seg->ack, pcb->iss) || SEQ_GT(seg->ack, pcb->snd_max)) {
            stack->counters.tcp.drop_bad_ack++;
            tcp_send_rst_for(stack, seg);
            return;
        }
        ack_ok = 1;
    }
    if (seg->flags & TCP_RST) {
        if (ack_ok) {
            stack->counters.tcp.rst_rx++;
            tcp_pcb_kill(stack, pcb, TERN_ERR_REFUSED);
        } else {
            stack->counters.tcp.drop_rst++;
        }
        return;
    }
    if (!(seg->flags & TCP_SYN)) {
        stack->counters.tcp.drop_state++;
        return;
    }
    pcb->irs = seg->seq;
    pcb->rcv_nxt = seg->seq + 1u;
    pcb->rcv_adv = pcb->rcv_nxt;
    tcp_take_syn_options(stack, pcb, seg);
    /* Data in a SYN is not taken (nor acknowledged): the peer sends it
     * again once established. The same holds for a FIN in a SYN. */
    if (ack_ok) {
        pcb->snd_una = seg->ack;
        pcb->state = TERN_TCP_ESTABLISHED;
        pcb->snd_wnd = seg->wnd; /* never scaled in a SYN (RFC 7323 2.2) */
        pcb->max_snd_wnd = pcb->snd_wnd;
        pcb->snd_wl1 = seg->seq;
        pcb->snd_wl2 = seg->ack;
        pcb->retries = 0;
        pcb->flags &= ~(uint32_t)TF_REXMIT;
        if (pcb->flags & TF_RTT)
            pcb->flags &= ~(uint32_t)TF_RTT;
        if (pcb->retransmits == 0u)
            tcp_rtt_sample(pcb, stack->now - pcb->t_idle);
        stack->counters.tcp.established++;
        pcb->flags |= TF_ACK_NOW;
        TCP_CALLBACK(stack, pcb, connected, pcb);
        if (PCB_GONE(pcb))
            return;
        if (pcb->flags & TF_FIN_QUEUED && pcb->state == TERN_TCP_ESTABLISHED)
            pcb->state = TERN_TCP_FIN_WAIT_1;
        tcp_output(stack, pcb);
    } else {
        /* Simultaneous open (RFC 9293 3.5, figure 8). */
        pcb->state = TERN_TCP_SYN_RECEIVED;
        pcb->snd_wnd = seg->wnd;
        (void)tcp_send_segment(stack, pcb, pcb->iss, 0, (uint8_t)(TCP_SYN | TCP_ACK));
        tcp_rexmit_timer_start(pcb, stack->now);
    }
}

/* LISTEN (RFC 9293 3.10.7.2). */
/* The half-open passive child waiting longest (of listener l, or of any
 * listener when l is NULL); NULL when there is none. */
#if TERN_TCP_SYN_COOKIES
/* Whether a child of l completed its handshake while l's accept queue was
 * full (TF_DEFERRED): the queue is full now. */
static int tcp_listener_deferred(const tern_stack_t *stack, const tern_tcp_pcb_t *l)
{
    for (const tern_tcp_pcb_t *p = stack->tcp.pcbs; p != NULL; p = p->next)
        if (p->listener == l && (p->flags & (TF_DEFERRED | TF_DEAD)) == TF_DEFERRED)
            return 1;
    return 0;
}
#else
static tern_tcp_pcb_t *tcp_oldest_half_open(tern_stack_t *stack, const tern_tcp_pcb_t *l)
{
    tern_tcp_pcb_t *oldest = NULL;
    for (tern_tcp_pcb_t *p = stack->tcp.pcbs; p != NULL; p = p->next) {
        if (!(p->flags & TF_PASSIVE_HALF) || (p->flags & (TF_DEAD | TF_DEFERRED)) || (l != NULL && p->listener != l))
            continue;
        if (oldest == NULL || (int32_t)(p->t_idle - oldest->t_idle) <= 0)
            oldest = p; /* the list is newest first: ties go to the later one */
    }
    return oldest;
}
#endif

/* A passive child of l for the peer of seg, its options taken from syn (the
 * SYN's own, or what a cookie kept of them): counted half-open, sequence
 * space started, in SYN-RECEIVED. NULL when out of memory (counted). */
static tern_tcp_pcb_t *tcp_listen_child(tern_stack_t *stack, tern_tcp_pcb_t *l, const tcp_seg_t *seg,
                                        const tcp_opts_t *syn, uint32_t irs, const uint32_t *min_iss)
{
    tern_tcp_pcb_t *pcb = tcp_pcb_new(stack, l->owner);
    if (pcb == NULL) {
        stack->counters.tcp.drop_nomem++;
        return NULL;
    }
    pcb->cbs = l->cbs;
    pcb->arg = l->arg;
    pcb->flags = (pcb->flags & ~(uint32_t)(TF_NOSACK | TF_NOTS)) | TF_PASSIVE | TF_PASSIVE_HALF |
                 (l->flags & (TF_NODELAY | TF_KEEPALIVE | TF_NOSACK | TF_NOTS));
    pcb->ka_idle = l->ka_idle;
    pcb->ka_intvl = l->ka_intvl;
    pcb->ka_count = l->ka_count;
    pcb->listener = l;
    l->pending++;
    stack->tcp.half_open++;
    pcb->local_ip = seg->dst;
    pcb->local_port = seg->dport;
    pcb->remote_ip = seg->src;
    pcb->remote_port = seg->sport;
#if TERN_IPV6
    if (TCP_SEG_V6(seg)) {
        pcb->flags |= TF_V6;
        pcb->local_ip6 = seg->dst6;
        pcb->remote_ip6 = seg->src6;
    }
#endif
    pcb->rbuf_size = l->rbuf_size;
    pcb->sbuf_size = l->sbuf_size;
    tcp_pcb_set_wscale(pcb);
    pcb->irs = irs;
    pcb->rcv_nxt = irs + 1u;
    pcb->rcv_adv = pcb->rcv_nxt;
    tcp_seg_t opts_seg = *seg;
    opts_seg.opts = *syn;
    tcp_take_syn_options(stack, pcb, &opts_seg);
    tcp_pcb_start_seq(stack, pcb, min_iss);
    pcb->snd_wnd = seg->wnd;
    pcb->state = TERN_TCP_SYN_RECEIVED;
    stack->counters.tcp.passive_opens++;
    return pcb;
}

#if TERN_TCP_SYN_COOKIES
/* The ACK of a valid cookie: the connection as the SYN would have made it,
 * our ISN the cookie, SYN-RECEIVED; the caller processes the ACK on it. */
static tern_tcp_pcb_t *tcp_cookie_child(tern_tcp_pcb_t *l, tern_stack_t *stack, const tcp_seg_t *seg,
                                        const tcp_opts_t *syn)
{
    tern_tcp_pcb_t *pcb = tcp_listen_child(stack, l, seg, syn, seg->seq - 1u, NULL);
    if (pcb == NULL)
        return NULL;
    uint32_t iss = seg->ack - 1u;
    pcb->iss = iss;
    pcb->rtt_seq = iss;
    pcb->recover = iss;
    pcb->snd_una = iss;
    pcb->snd_nxt = iss + 1u;
    pcb->snd_max = pcb->snd_nxt;
    /* The window the cookie's SYN-ACK advertised (tcp_cookie_send). */
    pcb->rcv_adv = pcb->rcv_nxt + (pcb->rbuf_size > 0xFFFFu ? 0xFFFFu : pcb->rbuf_size);
    pcb->t_idle = stack->now;
    return pcb;
}
#endif

tern_tcp_pcb_t *tcp_input_listen(tern_stack_t *stack, tern_tcp_pcb_t *l, tcp_seg_t *seg, const uint32_t *min_iss)
{
    tern_tcp_t *tcp = &stack->tcp;
    if (seg->flags & TCP_RST) {
        stack->counters.tcp.drop_rst++;
        return NULL;
    }
    if (seg->flags & TCP_ACK) {
#if TERN_TCP_SYN_COOKIES
        if (!(seg->flags & TCP_SYN)) {
            tcp_opts_t syn;
            int v = tcp_cookie_check(stack, seg, &syn);
            if (v > 0)
                return tcp_cookie_child(l, stack, seg, &syn);
            if (v < 0)
                stack->counters.tcp.syncookies_rejected++;
        }
#endif
        stack->counters.tcp.drop_state++;
        tcp_send_rst_for(stack, seg);
        return NULL;
    }
    if (!(seg->flags & TCP_SYN)) {
        stack->counters.tcp.drop_state++;
        return NULL;
    }
    /* Bounded half-open connections: a SYN flood costs at most
     * TERN_TCP_SYN_MAX structures. When full, a SYN cookie answers (RFC
     * 4987 3.6): no state, so the flood evicts no half-open connection of
     * a real peer and new peers still connect. Without cookies, the oldest
     * half-open child (of this listener when its backlog is the limit)
     * makes room, as BSD's syncache does: dropping the new SYN instead
     * would let a few spoofed SYNs lock every listener out for the whole
     * SYN-ACK retry time. The victim's peer gets nothing (its address is
     * likely spoofed); a real peer retransmits its SYN. A child whose
     * handshake completed while the accept queue was full (TF_DEFERRED) is
     * no victim: its peer is real, so with only such children the new SYN
     * is dropped, as Linux does; with cookies too (their ACK could not be
     * accepted either). */
    if (l->pending >= l->backlog || tcp->half_open >= TERN_TCP_SYN_MAX) {
#if TERN_TCP_SYN_COOKIES
        if (tcp_listener_deferred(stack, l)) {
            stack->counters.tcp.drop_syn_limit++;
            return NULL;
        }
        tcp_cookie_send(stack, l, seg);
        return NULL;
#else
        tern_tcp_pcb_t *victim = tcp_oldest_half_open(stack, l->pending >= l->backlog ? l : NULL);
        if (victim == NULL) {
            stack->counters.tcp.drop_syn_limit++;
            return NULL;
        }
        stack->counters.tcp.syn_evicted++;
        tcp_pcb_kill(stack, victim, 0);
#endif
    }
    tern_tcp_pcb_t *pcb = tcp_listen_child(stack, l, seg, &seg->opts, seg->seq, min_iss);
    if (pcb == NULL)
        return NULL;
    (void)tcp_send_segment(stack, pcb, pcb->iss, 0, (uint8_t)(TCP_SYN | TCP_ACK));
    tcp_rexmit_timer_start(pcb, stack->now);
    return NULL;
}
