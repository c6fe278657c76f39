/* TCP input: parsing, demultiplexing, the synchronized states step by step (RFC 9293 3.10.7.4), TIME-WAIT. */
/* With RFC 5961 reset/SYN/ACK hardening and ACK processing; the handshake
 * is in tcp_open.c, loss recovery in tcp_recovery.c. Received bytes are
 * copied once, from the network buffer into their place in the receive ring
 * (in order or not). */
#include <string.h>
#include "net/tcp_cc.h"
#include "net/tcp_internal.h"

/* RFC 5961 7: challenge ACKs, rate-limited stack-wide. */
static void tcp_challenge_ack(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    tern_tcp_t *tcp = &stack->tcp;
    if (stack->now - tcp->challenge_time >= 1000u) {
        tcp->challenge_time = stack->now;
        tcp->challenge_count = 0;
    }
    if (tcp->challenge_count >= TERN_TCP_CHALLENGE_ACK_LIMIT) {
        stack->counters.tcp.challenge_acks_limited++;
        return;
    }
    tcp->challenge_count++;
    stack->counters.tcp.challenge_acks++;
    (void)tcp_send_ack(stack, pcb);
}

/* Lost retransmission detection in SACK recovery (the rule of RFC 8985's
 * RACK, by sequence instead of time, as Linux did before RACK): holes are
 * resent in order, and pcb->rtt_start marks SND.MAX at the last of them
 * (the field is free during recovery: Karn's rule has stopped RTT timing,
 * TF_RTT is clear). Once the peer SACKs data sent after that mark, every
 * resent hole it still lacks was lost again: walk the holes from SND.UNA
 * once more instead of waiting for the RTO. Reordering can make this
 * spurious; it costs a duplicate, never a stall. */
static void tcp_sack_rxt_lost(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    if ((pcb->flags & TF_RTT) || !SEQ_GT(pcb->high_rxt, pcb->snd_una) || pcb->sack == NULL)
        return;
    uint32_t high = pcb->snd_una;
    for (const struct tcp_range *d = pcb->sack; d != NULL; d = d->next)
        high = d->end;
    if (!SEQ_GT(high, pcb->rtt_start))
        return;
    /* Is any byte below high_rxt still a hole? */
    uint32_t cur = pcb->snd_una;
    for (const struct tcp_range *d = pcb->sack; d != NULL && SEQ_LT(cur, pcb->high_rxt); d = d->next) {
        if (SEQ_LT(cur, d->start)) {
            stack->counters.tcp.sack_rxt_lost++;
            pcb->high_rxt = pcb->snd_una;
            pcb->rtt_start = pcb->snd_max; /* once per round */
            return;
        }
        cur = d->end;
    }
}

/* ACK processing for synchronized states (RFC 9293 3.10.7.4 fifth step,
 * RFC 5681, RFC 6582). Returns 0 to drop the segment. */
static int tcp_process_ack(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tcp_seg_t *seg)
{
    uint32_t ack = seg->ack;
    if (SEQ_GT(ack, pcb->snd_max)) {
        /* Acknowledges something never sent: ACK and drop. */
        stack->counters.tcp.drop_bad_ack++;
        (void)tcp_send_ack(stack, pcb);
        return 0;
    }
    if (SEQ_LT(ack, pcb->snd_una - pcb->max_snd_wnd)) {
        /* RFC 5961 5.2: too old to be a real ACK. */
        stack->counters.tcp.drop_bad_ack++;
        tcp_challenge_ack(stack, pcb);
        return 0;
    }
    uint32_t wnd = (uint32_t)seg->wnd << pcb->snd_wscale;
    tcp_sack_input(stack, pcb, seg);
    if (SEQ_GT(ack, pcb->snd_una)) {
        uint32_t acked = ack - pcb->snd_una;
        uint32_t data_acked = acked < pcb->sbuf_len ? acked : pcb->sbuf_len;
        pcb->sbuf_head += data_acked;
        if (pcb->sbuf_head >= pcb->sbuf_size)
            pcb->sbuf_head -= pcb->sbuf_size;
        pcb->sbuf_len -= data_acked;
        if (pcb->sbuf_len == 0u)
            pcb->sbuf_head = 0;
        pcb->snd_una = ack;
        if (SEQ_LT(pcb->snd_nxt, ack))
            pcb->snd_nxt = ack;
        tcp_sack_trim(stack, pcb);
        if (pcb->flags & TF_TS) {
            /* RFC 7323 4.1: TSecr of an ACK of new data times the segment
             * that caused it, retransmitted or not (the echo says which
             * transmission it was, so Karn's exclusion is not needed). One
             * sample per flight, as without timestamps, so RTTVAR keeps
             * RFC 6298's weight (RFC 7323 appendix G). */
            uint32_t m = tcp_ts_now(stack, pcb) - seg->opts.tsecr;
            if (seg->opts.tsecr != 0u && SEQ_GT(ack, pcb->rtt_seq) && m <= TERN_TCP_RTO_MAX_MS) {
                tcp_rtt_sample(pcb, m);
                stack->counters.tcp.ts_rtt_samples++;
                pcb->rtt_seq = pcb->snd_max;
            }
        } else if ((pcb->flags & TF_RTT) && SEQ_GT(ack, pcb->rtt_seq)) {
            pcb->flags &= ~(uint32_t)TF_RTT;
            tcp_rtt_sample(pcb, stack->now - pcb->rtt_start);
        }
        pcb->retries = 0;
        pcb->soft_err = 0; /* progress: an earlier ICMP error is stale */
        pcb->flags &= ~(uint32_t)TF_TLP_OUT; /* the tail moved: a new probe may go */
        if (pcb->flags & TF_RECOVERY) {
            if (SEQ_GEQ(ack, pcb->recover)) {
                /* Full acknowledgment: recovery is over. */
                tcp_cc_on_recovery_end(pcb);
                pcb->flags &= ~(uint32_t)(TF_RECOVERY | TF_SACK_FAIL);
            } else if (tcp_sack_recovery(pcb)) {
                /* RFC 6675: cwnd stays; tcp_output resends the next holes
                 * as pipe allows. */
                tcp_rexmit_timer_start(pcb, stack->now);
            } else {
                /* Partial acknowledgment: resend the next hole, deflate. */
                tcp_rexmit_first(stack, pcb);
                tcp_cc_on_partial_ack(pcb, acked);
                tcp_rexmit_timer_start(pcb, stack->now);
            }
        } else {
            tcp_cc_on_ack(pcb, acked);
        }
        pcb->dupacks = 0;
        if (pcb->snd_una == pcb->snd_max)
            pcb->flags &= ~(uint32_t)TF_REXMIT;
        else if (!(pcb->flags & TF_RECOVERY))
            tcp_rexmit_timer_start(pcb, stack->now);
        if (data_acked != 0u)
            TCP_CALLBACK(stack, pcb, writable, pcb);
        if (PCB_GONE(pcb))
            return 0;
    } else if (ack == pcb->snd_una && seg->len == 0u && !(seg->flags & (TCP_SYN | TCP_FIN)) &&
               pcb->snd_una != pcb->snd_max && wnd == pcb->snd_wnd) {
        /* RFC 5681 2: a duplicate ACK. */
        if (pcb->dupacks < 255u)
            pcb->dupacks++;
        if (pcb->dupacks >= 3u && !(pcb->flags & TF_RECOVERY) && SEQ_GEQ(ack, pcb->recover))
            tcp_enter_recovery(stack, pcb);
        else if (pcb->dupacks > 3u && (pcb->flags & TF_RECOVERY) && !tcp_sack_recovery(pcb))
            tcp_cc_on_dupack(pcb);
    }
    if (!(pcb->flags & TF_RECOVERY)) {
        /* RFC 6675 5: with a scoreboard, IsLost(SND.UNA + 1) starts
         * recovery on any ACK, not only on a pure duplicate: on a
         * connection with data both ways the peer's ACKs ride on its data
         * (and its window moves), so they never count as duplicates, and
         * waiting for three would mean waiting for the RTO. Not before
         * SND.UNA reaches recover (RFC 6582 3.2: after a timeout the
         * go-back's ACKs must not start a second reduction). */
        if (SEQ_GEQ(ack, pcb->recover) && pcb->snd_una != pcb->snd_max && tcp_sack_is_lost(pcb))
            tcp_enter_recovery(stack, pcb);
        /* A hole below SACKed data, too few above it for IsLost: the
         * reordering window starts (RACK, tcp_rexmit_timer_start), once. */
        else if (pcb->sack != NULL && (pcb->flags & (TF_REXMIT | TF_RACK)) == TF_REXMIT)
            tcp_rexmit_timer_start(pcb, stack->now);
    } else if (tcp_sack_recovery(pcb)) {
        tcp_sack_rxt_lost(stack, pcb);
    }
    /* Window update (RFC 9293 3.10.7.4: SND.WL1/WL2 rule). */
    if (SEQ_LT(pcb->snd_wl1, seg->seq) || (pcb->snd_wl1 == seg->seq && SEQ_LEQ(pcb->snd_wl2, ack))) {
        pcb->snd_wnd = wnd;
        pcb->snd_wl1 = seg->seq;
        pcb->snd_wl2 = ack;
        if (wnd > pcb->max_snd_wnd)
            pcb->max_snd_wnd = wnd;
        if (wnd != 0u && (pcb->flags & TF_PERSIST)) {
            pcb->flags &= ~(uint32_t)TF_PERSIST;
            pcb->rto = pcb->srtt8 != 0u ? pcb->rto : TERN_TCP_RTO_INIT_MS;
        }
    }
    return 1;
}

/* Copy len bytes to ring position (rbuf_head + rbuf_len + off). */
static void tcp_ring_put(tern_tcp_pcb_t *pcb, uint32_t off, const uint8_t *data, uint32_t len)
{
    uint32_t pos = pcb->rbuf_head + pcb->rbuf_len + off;
    while (pos >= pcb->rbuf_size)
        pos -= pcb->rbuf_size;
    uint32_t first = pcb->rbuf_size - pos < len ? pcb->rbuf_size - pos : len;
    memcpy(pcb->rbuf + pos, data, first);
    if (first < len)
        memcpy(pcb->rbuf, data + first, len - first);
}

/* Data and FIN (RFC 9293 3.10.7.4 seventh and eighth steps). The segment
 * is already trimmed to start at or after rcv_nxt. */
static void tcp_process_data(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tcp_seg_t *seg, uint32_t seq,
                             const uint8_t *data, uint32_t len, int fin)
{
    int delivered = 0;
    int got_fin = 0;
    int receiving = pcb->state == TERN_TCP_ESTABLISHED || pcb->state == TERN_TCP_FIN_WAIT_1 ||
                    pcb->state == TERN_TCP_FIN_WAIT_2;
    if (!receiving)
        return; /* the peer's FIN came already: nothing more is taken */
    uint32_t off = seq - pcb->rcv_nxt;
    if (len != 0u && (pcb->flags & TF_APP_CLOSED)) {
        /* Nobody will read: take in-order bytes without storing them. */
        if (off == 0u) {
            pcb->rcv_nxt += len;
            pcb->flags |= TF_ACK_NOW;
        } else {
            fin = 0;
        }
        len = 0;
        off = seq - pcb->rcv_nxt;
    }
    if (len != 0u) {
        uint32_t space = tcp_rcv_space(pcb);
        if (off >= space) {
            len = 0;
            fin = 0;
        } else if (len > space - off) {
            len = space - off;
            fin = 0;
        }
    }
    if (len != 0u && pcb->rbuf == NULL && tcp_rbuf_alloc(stack, pcb) != TERN_OK) {
        /* No receive ring: the connection cannot go on. Reset it so the
         * peer learns at once, and tell the application. */
        stack->counters.tcp.drop_nomem++;
        stack->counters.tcp.rst_tx++;
        tcp_send_raw_pcb(stack, pcb, pcb->snd_max, 0, TCP_RST, 0);
        tcp_pcb_kill(stack, pcb, TERN_ERR_NOMEM);
        return;
    }
    if (len != 0u && off == 0u) {
        tcp_ring_put(pcb, 0, data, len);
        pcb->rbuf_len += len;
        pcb->rcv_nxt += len;
        delivered = 1;
        int filled_gap = pcb->ooo != NULL;
        (void)tcp_ooo_deliver(stack, pcb);
        /* RFC 5681 4.2 / RFC 1122 4.2.3.2: ACK at once when filling a
         * gap, else every second segment or after the delayed-ACK timer.
         * A coalesced segment of two MSS or more (large receive) is two.
         * Inside a driver's input batch the every-second-segment ACK waits
         * for the batch end: one cumulative ACK for the frames read
         * together, as for a coalesced segment (the batch ends before the
         * driver returns, well within the delayed-ACK bound). */
        if (filled_gap) {
            pcb->flags |= TF_ACK_NOW;
        } else if (len >= 2u * pcb->mss || ++pcb->full_segs >= 2u) {
            if (stack->tcp.batch != 0u) {
                pcb->flags |= TF_ACK_BATCH;
                stack->tcp.batch_acks = 1;
            } else {
                pcb->flags |= TF_ACK_NOW;
            }
        } else if (!(pcb->flags & TF_ACK_DELAYED)) {
            pcb->flags |= TF_ACK_DELAYED;
            pcb->t_delack = stack->now + TERN_TCP_DELACK_MS;
        }
    } else if (len != 0u) {
        stack->counters.tcp.ooo_segments++;
        if (tcp_ooo_add(stack, pcb, seq, seq + len))
            tcp_ring_put(pcb, off, data, len);
        else
            stack->counters.tcp.ooo_no_desc++;
        pcb->flags |= TF_ACK_NOW; /* a duplicate ACK tells the sender */
        fin = 0;
    } else if (off != 0u) {
        fin = 0;
    }
    if (fin && seq + len == pcb->rcv_nxt) {
        pcb->rcv_nxt++;
        pcb->flags |= TF_FIN_RCVD | TF_ACK_NOW;
        got_fin = 1;
        switch (pcb->state) {
        case TERN_TCP_ESTABLISHED:
            pcb->state = TERN_TCP_CLOSE_WAIT;
            break;
        case TERN_TCP_FIN_WAIT_1:
            pcb->state = TERN_TCP_CLOSING; /* our FIN is not acknowledged yet */
            break;
        default:
            /* FIN-WAIT-2 goes to TIME-WAIT after the ACK goes out; other
             * states keep theirs. */
            break;
        }
    }
    (void)seg;
    if (delivered)
        TCP_CALLBACK(stack, pcb, readable, pcb);
    if (got_fin && !PCB_GONE(pcb))
        TCP_CALLBACK(stack, pcb, peer_closed, pcb);
}

/* A duplicate ACK overtaken by a later one carries an older timestamp; it
 * holds no data for PAWS to protect, and dropping it would starve fast
 * retransmit on a reordering path. Let it through when it changes nothing
 * but the duplicate count and is younger than an RTO (as Linux does). */
static int tcp_disordered_ack(const tern_tcp_pcb_t *pcb, const tcp_seg_t *seg)
{
    return seg->len == 0u && (seg->flags & (TCP_SYN | TCP_FIN | TCP_ACK)) == TCP_ACK && seg->seq == pcb->rcv_nxt &&
           seg->ack == pcb->snd_una && ((uint32_t)seg->wnd << pcb->snd_wscale) == pcb->snd_wnd &&
           pcb->ts_recent - seg->opts.tsval <= pcb->rto;
}

/* ---- synchronized states and SYN-RECEIVED: RFC 9293 3.10.7.4, one function
 * per step. Each returns 1 when the next step goes on, 0 when the segment is
 * consumed (dropped, answered, or its connection is gone). */

/* Before the first step: the peer's SYN again. In SYN-RECEIVED a bare
 * retransmitted SYN means it did not see our SYN-ACK: send that again.
 * Otherwise (a SYN-ACK crossing ours in a simultaneous open, or a
 * duplicate) trim the SYN, as BSD does, so that the rest of the segment is
 * judged on its own. A retransmitted SYN means the peer has not seen our
 * ACK of it (lost, or dropped while its accept queue was full): answer it,
 * or a peer in SYN-RECEIVED waits for data that a silent client never
 * sends (RFC 9293 3.10.7.4: a SYN in a synchronized state is answered by
 * an ACK; RFC 5961 4.2). */
static int tcp_sync_repeated_syn(tern_stack_t *stack, tern_tcp_pcb_t *pcb, tcp_seg_t *seg)
{
    if (!(seg->flags & TCP_SYN) || seg->seq != pcb->irs)
        return 1;
    if (pcb->state == TERN_TCP_SYN_RECEIVED && !(seg->flags & TCP_ACK)) {
        (void)tcp_send_segment(stack, pcb, pcb->iss, 0, (uint8_t)(TCP_SYN | TCP_ACK));
        return 0;
    }
    seg->flags &= (uint8_t)~TCP_SYN;
    seg->seq++;
    if (pcb->state != TERN_TCP_SYN_SENT && pcb->state != TERN_TCP_SYN_RECEIVED)
        pcb->flags |= TF_ACK_NOW;
    return 1;
}

/* First step: check the sequence number (RFC 9293 3.10.7.4, four cases),
 * after PAWS (RFC 7323 5.3 R1) and keeping TS.Recent (R3). *len is the
 * payload to take: 0 for a zero-window probe. */
static int tcp_sync_check_seq(tern_stack_t *stack, tern_tcp_pcb_t *pcb, tcp_seg_t *seg, uint32_t *len)
{
    uint32_t seq = seg->seq;
    uint32_t seglen = seg->len + ((seg->flags & TCP_SYN) ? 1u : 0u) + ((seg->flags & TCP_FIN) ? 1u : 0u);
    uint32_t wnd = pcb->rcv_adv - pcb->rcv_nxt;
    if (SEQ_LT(pcb->rcv_adv, pcb->rcv_nxt))
        wnd = 0;
    if (pcb->flags & TF_TS) {
        if (!seg->opts.has_ts) {
            /* RFC 7323 3.2: after negotiation every non-RST segment carries
             * one; "SHOULD silently drop" the others. */
            if (!(seg->flags & TCP_RST)) {
                stack->counters.tcp.drop_no_ts++;
                return 0;
            }
        } else if (!(seg->flags & TCP_RST) && seg->idle < TCP_TS_VALID_MS &&
                   SEQ_LT(seg->opts.tsval, pcb->ts_recent) && !tcp_disordered_ack(pcb, seg)) {
            /* RFC 7323 5.3 R1 (PAWS): an old duplicate; ACK and drop. */
            stack->counters.tcp.drop_paws++;
            (void)tcp_send_ack(stack, pcb);
            return 0;
        }
    }
    int ok;
    if (seglen == 0u)
        /* The right edge itself is accepted for a bare ACK (as BSD and
         * Linux do, beyond RFC 9293's strict "<"): a peer that filled our
         * window sends its ACKs at SND.NXT = our right edge, and while one
         * of its segments is missing here they would all be dropped and
         * our own recovery would wait for the RTO. */
        ok = wnd == 0u ? seq == pcb->rcv_nxt : (SEQ_GEQ(seq, pcb->rcv_nxt) && SEQ_LEQ(seq, pcb->rcv_nxt + wnd));
    else if (wnd == 0u)
        ok = 0;
    else
        ok = (SEQ_GEQ(seq, pcb->rcv_nxt) && SEQ_LT(seq, pcb->rcv_nxt + wnd)) ||
             (SEQ_GEQ(seq + seglen - 1u, pcb->rcv_nxt) && SEQ_LT(seq + seglen - 1u, pcb->rcv_nxt + wnd));
    /* A zero window still takes ACKs and RSTs at rcv_nxt, and a zero-window
     * probe's data is refused but its ACK processed. */
    if (!ok && wnd == 0u && seq == pcb->rcv_nxt && (seg->flags & TCP_ACK) && !(seg->flags & TCP_RST)) {
        ok = 1;
        *len = 0;
        seg->flags &= (uint8_t)~(TCP_FIN | TCP_SYN);
        pcb->flags |= TF_ACK_NOW;
    }
    if (!ok) {
        stack->counters.tcp.drop_unacceptable++;
        if (!(seg->flags & TCP_RST)) {
            if (SEQ_LT(seq, pcb->rcv_nxt))
                stack->counters.tcp.dup_segments++;
            (void)tcp_send_ack(stack, pcb);
        }
        return 0;
    }
    /* RFC 7323 4.3 / 5.3 R3: keep the timestamp to echo. SEQ <= Last.ACK.sent
     * makes it the earliest unacknowledged segment's under delayed ACKs. */
    if ((pcb->flags & TF_TS) && seg->opts.has_ts &&
        (SEQ_GEQ(seg->opts.tsval, pcb->ts_recent) || seg->idle >= TCP_TS_VALID_MS) &&
        SEQ_LEQ(seq, pcb->last_ack_sent))
        pcb->ts_recent = seg->opts.tsval;
    return 1;
}

/* Second step: the RST bit (RFC 5961 3.2: an exact match only, else a
 * challenge ACK). */
static int tcp_sync_check_rst(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tcp_seg_t *seg)
{
    if (!(seg->flags & TCP_RST))
        return 1;
    if (seg->seq != pcb->rcv_nxt) {
        stack->counters.tcp.drop_rst++;
        tcp_challenge_ack(stack, pcb);
        return 0;
    }
    stack->counters.tcp.rst_rx++;
    int err = TERN_ERR_RESET;
    if (pcb->state == TERN_TCP_SYN_RECEIVED && (pcb->flags & TF_PASSIVE))
        err = 0; /* back to LISTEN: the child just goes away */
    else if (pcb->state == TERN_TCP_SYN_RECEIVED)
        err = TERN_ERR_REFUSED;
    if (err == 0)
        tcp_pcb_free(stack, pcb);
    else
        tcp_pcb_kill(stack, pcb, (pcb->state == TERN_TCP_CLOSING || pcb->state == TERN_TCP_LAST_ACK) ? 0 : err);
    return 0;
}

/* Third step (security and compartment) does not apply: no IP security
 * options are used (RFC 9293 3.10.7.4 leaves it to those that do). */

/* Fourth step: a SYN in a synchronized state gets a challenge ACK (RFC
 * 5961 4.2). */
static int tcp_sync_check_syn(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tcp_seg_t *seg)
{
    if (!(seg->flags & TCP_SYN))
        return 1;
    stack->counters.tcp.drop_state++;
    tcp_challenge_ack(stack, pcb);
    return 0;
}

/* Fifth step in SYN-RECEIVED: an acceptable ACK establishes the
 * connection; a passive child's listener then accepts it (or not yet). */
static int tcp_sync_synrcvd_ack(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tcp_seg_t *seg)
{
    tern_tcp_t *tcp = &stack->tcp;
    if (SEQ_LEQ(seg->ack, pcb->snd_una) || SEQ_GT(seg->ack, pcb->snd_max)) {
        stack->counters.tcp.drop_bad_ack++;
        tcp_send_rst_for(stack, seg);
        return 0;
    }
    int passive = (pcb->flags & TF_PASSIVE) != 0u;
    tern_tcp_pcb_t *listener = pcb->listener;
    uint32_t old_flags = pcb->flags;
    uint8_t old_retries = pcb->retries;
    pcb->state = TERN_TCP_ESTABLISHED;
    pcb->snd_una = pcb->iss + 1u; /* the SYN is acknowledged */
    pcb->snd_wnd = (uint32_t)seg->wnd << pcb->snd_wscale;
    pcb->max_snd_wnd = pcb->snd_wnd;
    pcb->snd_wl1 = seg->seq;
    pcb->snd_wl2 = seg->ack;
    pcb->retries = 0;
    pcb->flags &= ~(uint32_t)(TF_REXMIT | TF_DEFERRED);
    if (passive) {
        int r = TERN_ERR_REFUSED;
        if (listener != NULL && listener->cbs != NULL && listener->cbs->accept != NULL &&
            !(listener->flags & (TF_DEAD | TF_APP_CLOSED))) {
            tcp->busy++;
            r = listener->cbs->accept(listener->arg, listener, pcb);
            tcp->busy--;
        }
        if (PCB_GONE(pcb))
            return 0;
        if (r == TERN_ERR_WOULDBLOCK) {
            /* The listener cannot take it now (accept queue full): drop
             * this ACK and stay in SYN-RECEIVED, so the SYN-ACK
             * retransmission or the peer's next segment tries again,
             * as Linux does with tcp_abort_on_overflow off, rather than
             * reset a connection the peer already counts as open. The
             * SYN-ACK retries still bound how long it waits. */
            pcb->state = TERN_TCP_SYN_RECEIVED;
            pcb->snd_una = pcb->iss;
            pcb->retries = old_retries;
            pcb->flags = old_flags | TF_DEFERRED;
            stack->counters.tcp.accept_deferred++;
            return 0;
        }
        tcp_unhalf(stack, pcb); /* counted half-open until the listener decided */
        if (r != TERN_OK) {
            tern_tcp_abort(pcb);
            return 0;
        }
        pcb->flags |= TF_ACCEPTED;
    }
    stack->counters.tcp.established++;
    if (!passive) {
        TCP_CALLBACK(stack, pcb, connected, pcb);
        if (PCB_GONE(pcb))
            return 0;
    }
    return 1; /* the ACK may carry data or FIN too */
}

/* Fifth step: the ACK field (RFC 9293 3.10.7.4), and the state changes
 * an ACK of our FIN makes. *fin_acked: everything we send is
 * acknowledged, FIN included. */
static int tcp_sync_check_ack(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tcp_seg_t *seg, int *fin_acked)
{
    if (!(seg->flags & TCP_ACK)) {
        stack->counters.tcp.drop_state++;
        return 0;
    }
    if (pcb->state == TERN_TCP_SYN_RECEIVED && !tcp_sync_synrcvd_ack(stack, pcb, seg))
        return 0;
    if (!tcp_process_ack(stack, pcb, seg))
        return 0;
    *fin_acked = (pcb->flags & TF_FIN_SENT) && pcb->snd_una == pcb->snd_max && pcb->sbuf_len == 0u;
    switch (pcb->state) {
    case TERN_TCP_FIN_WAIT_1:
        if (*fin_acked) {
            pcb->state = TERN_TCP_FIN_WAIT_2;
            /* Everything we will ever send is acknowledged: the send ring
             * goes now, not when the peer closes (a peer may keep its side
             * open for long, and a burst of such connections would hold
             * a ring each). No span can be out: shutdown ended them. */
            tcp_sbuf_free(stack, pcb);
        }
        break;
    case TERN_TCP_CLOSING:
        if (*fin_acked) {
            tcp_enter_timewait(stack, pcb);
            return 0;
        }
        break;
    case TERN_TCP_LAST_ACK:
        if (*fin_acked) {
            tcp_pcb_kill(stack, pcb, 0);
            return 0;
        }
        break;
    default:
        break;
    }
    return 1;
}

/* Sixth step: URG is ignored; urgent data is delivered inline (RFC 6093). */

/* Seventh step: the segment text, trimmed of what we already have; a FIN
 * is handed on with it (tcp_process_data takes it in sequence, the eighth
 * step's state change). len: payload to take (tcp_sync_check_seq). */
static int tcp_sync_text(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tcp_seg_t *seg, uint32_t len)
{
    uint32_t seq = seg->seq;
    const uint8_t *data = seg->data;
    int fin = (seg->flags & TCP_FIN) != 0u;
    if (SEQ_LT(seq, pcb->rcv_nxt)) {
        uint32_t dup = pcb->rcv_nxt - seq;
        if (dup >= len) {
            if (dup > len)
                fin = 0; /* the FIN was taken before */
            len = 0;
            seq = pcb->rcv_nxt;
            if (seg->len != 0u)
                pcb->flags |= TF_ACK_NOW;
        } else {
            data += dup;
            len -= dup;
            seq = pcb->rcv_nxt;
        }
    }
    if (len != 0u || fin) {
        tcp_process_data(stack, pcb, seg, seq, data, len, fin);
        if (PCB_GONE(pcb))
            return 0;
    }
    return 1;
}

/* Eighth step, the rest: FIN-WAIT-2 with the peer's FIN, or CLOSING with
 * ours acknowledged, goes to TIME-WAIT. */
static int tcp_sync_fin(tern_stack_t *stack, tern_tcp_pcb_t *pcb, int fin_acked)
{
    if (pcb->state == TERN_TCP_FIN_WAIT_2 && (pcb->flags & TF_FIN_RCVD)) {
        (void)tcp_send_ack(stack, pcb);
        tcp_enter_timewait(stack, pcb);
        return 0;
    }
    if (pcb->state == TERN_TCP_CLOSING && fin_acked) {
        tcp_enter_timewait(stack, pcb);
        return 0;
    }
    return 1;
}

/* Segments for a connection in a synchronized state or SYN-RECEIVED, step
 * by step; then whatever output is due. */
static void tcp_input_sync(tern_stack_t *stack, tern_tcp_pcb_t *pcb, tcp_seg_t *seg)
{
    uint32_t len = seg->len;
    int fin_acked = 0;
    if (tcp_sync_repeated_syn(stack, pcb, seg) && tcp_sync_check_seq(stack, pcb, seg, &len) &&
        tcp_sync_check_rst(stack, pcb, seg) && tcp_sync_check_syn(stack, pcb, seg) &&
        tcp_sync_check_ack(stack, pcb, seg, &fin_acked) && tcp_sync_text(stack, pcb, seg, len) &&
        tcp_sync_fin(stack, pcb, fin_acked))
        tcp_output(stack, pcb);
}

/* A segment for a TIME-WAIT entry (RFC 9293 3.10.7.4; RST ignored as RFC
 * 1337 recommends). Returns 1 when the entry took the segment; 0 when
 * there is none, or a new SYN reopens the 4-tuple (*min_iss then set). */
static int tcp_input_timewait(tern_stack_t *stack, const tcp_seg_t *seg, uint32_t *min_iss, int *reopen)
{
    tern_tcp_t *tcp = &stack->tcp;
    if (tcp->tw_count == 0u)
        return 0;
    for (unsigned i = 0; i < TERN_TCP_TIMEWAIT_MAX; i++) {
        struct tcp_tw *t = &tcp->tw[i];
        if (t->remote_port != seg->sport || t->local_port != seg->dport || t->remote_ip != seg->src ||
            t->local_ip != seg->dst)
            continue;
#if TERN_IPV6
        if (t->v6 != seg->v6 ||
            (t->v6 && (!ip6_equal(&t->remote_ip6, &seg->src6) || !ip6_equal(&t->local_ip6, &seg->dst6))))
            continue;
#endif
        if (seg->flags & TCP_RST)
            return 1;
        if ((seg->flags & TCP_SYN) && !(seg->flags & TCP_ACK)) {
            /* A new incarnation (RFC 6191 2): when both carry timestamps, a
             * newer TSval (whatever the sequence number); else a sequence
             * number above the old RCV.NXT (RFC 1122 4.2.2.13). */
            int newer;
            if (t->ts_recent != 0u && seg->opts.has_ts && seg->opts.tsval != t->ts_recent)
                newer = SEQ_GT(seg->opts.tsval, t->ts_recent);
            else
                newer = SEQ_GT(seg->seq, t->rcv_nxt);
            if (newer) {
                /* Free the entry and let a listener take the SYN. */
                *min_iss = t->snd_nxt;
                *reopen = 1;
                memset(t, 0, sizeof *t);
                tcp->tw_count--;
                stack->counters.tcp.timewait_reuse++;
                return 0;
            }
        }
        uint32_t seglen = seg->len + ((seg->flags & TCP_FIN) ? 1u : 0u);
        if ((seg->flags & TCP_FIN) && seg->seq + seglen == t->rcv_nxt) {
            t->expiry = stack->now + tcp->timewait_ms; /* a retransmitted FIN: restart 2 MSL */
        } else if (seg->seq == t->rcv_nxt && seglen == 0u) {
            return 1; /* an acceptable bare ACK: nothing to answer */
        }
        /* Retransmitted FIN, or unacceptable: ACK (RFC 9293 3.10.7.4), with
         * a timestamp when the connection used them (RFC 7323 3.2). */
        uint32_t ts[2] = {stack->now + tcp_ts_offset_seg(stack, seg), t->ts_recent};
#if TERN_IPV6
        if (t->v6) {
            tcp_send_raw6(stack, &t->local_ip6, t->local_port, &t->remote_ip6, t->remote_port, t->snd_nxt, t->rcv_nxt,
                          TCP_ACK, 0, t->ts_recent != 0u ? ts : NULL);
            return 1;
        }
#endif
        tcp_send_raw_ts(stack, t->local_ip, t->local_port, t->remote_ip, t->remote_port, t->snd_nxt, t->rcv_nxt,
                        TCP_ACK, 0, t->ts_recent != 0u ? ts : NULL);
        return 1;
    }
    return 0;
}

/* A checked segment (v: its view; seg: addresses set) of either family:
 * options, demultiplexing and the state machine. Consumes nb. */
static void tcp_input_seg(tern_stack_t *stack, tern_netbuf_t *nb, const tcp_view_t *v, tcp_seg_t *seg)
{
    tern_tcp_t *tcp = &stack->tcp;
    uint32_t *drop = NULL;
    if (!tcp_options_parse(v, &seg->opts)) {
        drop = &stack->counters.tcp.drop_options;
        goto out;
    }
    seg->sport = tcp_view_sport(v);
    seg->dport = tcp_view_dport(v);
    seg->seq = tcp_view_seq(v);
    seg->ack = tcp_view_ack(v);
    seg->flags = tcp_view_flags(v);
    seg->wnd = tcp_view_wnd(v);
    seg->data = tcp_view_payload(v);
    seg->len = (uint32_t)tcp_view_payload_len(v);
    seg->idle = 0;
    if (seg->sport == 0u || seg->dport == 0u) {
        drop = &stack->counters.tcp.drop_no_pcb;
        goto out;
    }

    tern_tcp_pcb_t *listener = NULL;
#if TERN_IPV6
    tern_tcp_pcb_t *pcb = TCP_SEG_V6(seg)
                              ? tcp_lookup6(stack, &seg->dst6, seg->dport, &seg->src6, seg->sport, &listener)
                              : tcp_lookup(stack, seg->dst, seg->dport, seg->src, seg->sport, &listener);
#else
    tern_tcp_pcb_t *pcb = tcp_lookup(stack, seg->dst, seg->dport, seg->src, seg->sport, &listener);
#endif
    uint32_t min_iss = 0;
    int reopen = 0;
    tcp->busy++;
    if (pcb != NULL) {
        seg->idle = stack->now - pcb->t_idle;
        pcb->t_idle = stack->now;
        pcb->ka_probes = 0;
        if (pcb->state == TERN_TCP_SYN_SENT)
            tcp_input_syn_sent(stack, pcb, seg);
        else
            tcp_input_sync(stack, pcb, seg);
    } else if (tcp_input_timewait(stack, seg, &min_iss, &reopen)) {
        /* answered by the TIME-WAIT entry */
    } else if (listener != NULL) {
        tern_tcp_pcb_t *child = tcp_input_listen(stack, listener, seg, reopen ? &min_iss : NULL);
        if (child != NULL) {
            /* A SYN cookie's ACK: the handshake completes as it would have. */
            tcp_input_sync(stack, child, seg);
            tcp_cookie_settle(stack, child);
        }
    } else {
        /* RFC 9293 3.10.7.1: CLOSED answers with a reset. */
        stack->counters.tcp.drop_no_pcb++;
        tcp_send_rst_for(stack, seg);
    }
    tcp->busy--;
    tern_netbuf_release(&stack->netbufs, nb);
    tcp_reap(stack);
    return;
out:
    (*drop)++;
    tern_netbuf_release(&stack->netbufs, nb);
}

void tcp_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, const ipv4_rx_t *ip)
{
    stack->counters.tcp.rx++;
    const uint8_t *p = nb->data;
    size_t n = nb->len;
    uint32_t *drop = NULL;
    tcp_seg_t seg;
    if (ip->dst_bcast || ip->link_bcast) {
        drop = &stack->counters.tcp.drop_bcast;
        goto out;
    }
    tcp_view_t v;
    int bad = tcp_view_check(p, n, &v);
    if (bad != TERN_OK) {
        drop = bad == TERN_ERR_MSGSIZE ? &stack->counters.tcp.drop_truncated : &stack->counters.tcp.drop_offset;
        goto out;
    }
    int hw = (nif->offload & TERN_OFFLOAD_RX_L4_CSUM) || (nb->flags & TERN_NETBUF_F_RX_CSUM_OK);
    if (!hw) {
        if (checksum_finish(checksum_add(checksum_pseudo(ip->src, ip->dst, IPV4_PROTO_TCP, n), p, n)) != 0u) {
            drop = &stack->counters.tcp.drop_checksum;
            goto out;
        }
    }
    seg.src = ip->src;
    seg.dst = ip->dst;
#if TERN_IPV6
    seg.v6 = 0;
#endif
    tcp_input_seg(stack, nb, &v, &seg);
    return;
out:
    (*drop)++;
    tern_netbuf_release(&stack->netbufs, nb);
}

#if TERN_IPV6
void tcp6_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip)
{
    stack->counters.tcp.rx++;
    const uint8_t *p = nb->data;
    size_t n = nb->len;
    uint32_t *drop = NULL;
    tcp_seg_t seg;
    /* TCP is unicast (RFC 9293 3.9.1, as IPv4's broadcast rule). */
    if (ip->dst_mcast || ip->link_mcast) {
        drop = &stack->counters.tcp.drop_bcast;
        goto out;
    }
    tcp_view_t v;
    int bad = tcp_view_check(p, n, &v);
    if (bad != TERN_OK) {
        drop = bad == TERN_ERR_MSGSIZE ? &stack->counters.tcp.drop_truncated : &stack->counters.tcp.drop_offset;
        goto out;
    }
    /* RFC 8200 8.1: the pseudo-header with both addresses, the upper-layer
     * length and next header 6; verified in software unless the driver
     * vouched for this frame (a TAP's partial checksums, netbuf.h). */
    if (!(nb->flags & TERN_NETBUF_F_RX_CSUM_OK) &&
        checksum_finish(checksum_add(checksum_pseudo6(&ip->src, &ip->dst, IPV6_NH_TCP, n), p, n)) != 0u) {
        drop = &stack->counters.tcp.drop_checksum;
        goto out;
    }
    seg.v6 = 1;
    seg.src6 = ip->src;
    seg.dst6 = ip->dst;
    seg.src = tcp_fold6(&ip->src);
    seg.dst = tcp_fold6(&ip->dst);
    tcp_input_seg(stack, nb, &v, &seg);
    return;
out:
    (*drop)++;
    tern_netbuf_release(&stack->netbufs, nb);
}
#endif

/* A smaller path MTU left room for mss bytes (below pcb->mss). */
static void tcp_pmtu_lower(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t mss)
{
    tern_tcp_t *tcp = &stack->tcp;
    stack->counters.tcp.icmp_pmtu++;
    pcb->mss = (uint16_t)mss;
    /* Not congestion (RFC 1191 6.4): resend what is in flight in the
     * smaller segments, without touching cwnd beyond its floor. */
    tcp_cc_on_mss_change(pcb);
    if (pcb->snd_nxt != pcb->snd_una && !(pcb->flags & TF_FIN_SENT)) {
        pcb->snd_nxt = pcb->snd_una;
        pcb->flags &= ~(uint32_t)TF_RTT; /* Karn */
        tcp->busy++;
        tcp_output(stack, pcb);
        tcp->busy--;
        tcp_reap(stack);
    }
}

/* ICMP errors about our segments (RFC 1122 4.2.3.9, RFC 5927). q: the
 * quoted IPv4 header and at least 8 bytes of TCP (icmp.c checked). */
void tcp_icmp_error(tern_stack_t *stack, uint8_t type, uint8_t code, uint16_t mtu, const uint8_t *q, size_t qlen)
{
    tern_tcp_t *tcp = &stack->tcp;
    ipv4_view_t quote;
    /* The quoted header and 8 bytes: ports and sequence number (RFC 792). */
    if (ipv4_check_quote(q, qlen, ICMP_QUOTE_DATA, &quote) != 0)
        return;
    if (type == 4u) {
        stack->counters.tcp.icmp_quench++; /* RFC 6633: ignored */
        return;
    }
    if (type != 3u && type != 11u && type != 12u)
        return; /* redirects are IP's business */
    const uint8_t *t = ipv4_payload(&quote);
    tern_ip4_t src = ipv4_src(&quote), dst = ipv4_dst(&quote);
    uint32_t seq = wire_rd32(t + TCP_OFF_SEQ);
    tern_tcp_pcb_t *pcb = tcp_lookup(stack, src, wire_rd16(t + TCP_OFF_SPORT), dst, wire_rd16(t + TCP_OFF_DPORT), NULL);
    /* RFC 5927 4.1: only for a connection, and about a sequence number in
     * flight; anything else may be forged blind. */
    if (pcb == NULL || (pcb->flags & TF_DEAD) || SEQ_LT(seq, pcb->snd_una) || SEQ_GEQ(seq, pcb->snd_max)) {
        stack->counters.tcp.icmp_no_match++;
        return;
    }
    if (type == 3u && code == 4u) {
        /* RFC 1191: fragmentation needed. The next-hop MTU must be smaller
         * than the packet quoted (RFC 5927 7.2); not below the floor. */
        uint16_t qtotal = ipv4_total_len(&quote);
        if (pcb->state == TERN_TCP_SYN_SENT || mtu >= qtotal || mtu < 68u) {
            stack->counters.tcp.icmp_no_match++;
            return;
        }
        uint32_t pmtu = mtu < TERN_TCP_PMTU_MIN ? TERN_TCP_PMTU_MIN : mtu;
        uint32_t mss = pmtu - (IPV4_HDR_LEN + TCP_HDR_LEN) - ((pcb->flags & TF_TS) ? TCP_TS_OPT_LEN : 0u);
        if (mss >= pcb->mss) {
            stack->counters.tcp.icmp_no_match++;
            return;
        }
        tcp_pmtu_lower(stack, pcb, mss);
        return;
    }
    if (type == 3u && (code == 2u || code == 3u) && pcb->state == TERN_TCP_SYN_SENT) {
        /* Protocol or port unreachable answering our SYN: nobody is there
         * (RFC 1122 4.2.3.9 hard error; RFC 5927 keeps it for SYN-SENT). */
        stack->counters.tcp.icmp_hard++;
        tcp->busy++;
        tcp_pcb_kill(stack, pcb, code == 3u ? TERN_ERR_REFUSED : TERN_ERR_UNREACH);
        tcp->busy--;
        tcp_reap(stack);
        return;
    }
    /* Soft: remembered, reported if the connection times out. */
    stack->counters.tcp.icmp_soft++;
    pcb->soft_err = (int8_t)TERN_ERR_UNREACH;
}

#if TERN_IPV6
/* ICMPv6 errors about our segments: the same rules over RFC 4443's types
 * (RFC 5927; RFC 8201 for Packet Too Big, whose path MTU ipv6_pmtu_update
 * has already taken). Our segments carry no extension headers, so the
 * quoted fixed header is followed by TCP. */
void tcp6_icmp_error(tern_stack_t *stack, const uint8_t *msg, size_t len)
{
    tern_tcp_t *tcp = &stack->tcp;
    if (len < ICMP6_HDR_LEN + IPV6_HDR_LEN + 8u)
        return;
    const uint8_t *q = msg + ICMP6_HDR_LEN;
    if ((q[0] >> 4) != IPV6_VERSION || q[IPV6_OFF_NEXT] != IPV6_NH_TCP)
        return;
    uint8_t type = msg[ICMP6_OFF_TYPE], code = msg[ICMP6_OFF_CODE];
    tern_ip6_t qsrc, qdst;
    memcpy(qsrc.b, q + IPV6_OFF_SRC, 16);
    memcpy(qdst.b, q + IPV6_OFF_DST, 16);
    const uint8_t *t = q + IPV6_HDR_LEN;
    uint32_t seq = wire_rd32(t + TCP_OFF_SEQ);
    tern_tcp_pcb_t *pcb = tcp_lookup6(stack, &qsrc, wire_rd16(t + TCP_OFF_SPORT), &qdst, wire_rd16(t + TCP_OFF_DPORT),
                                      NULL);
    /* RFC 5927 4.1: a connection's, about a sequence number in flight. */
    if (pcb == NULL || (pcb->flags & TF_DEAD) || SEQ_LT(seq, pcb->snd_una) || SEQ_GEQ(seq, pcb->snd_max)) {
        stack->counters.tcp.icmp_no_match++;
        return;
    }
    if (type == ICMP6_PACKET_TOO_BIG) {
        /* RFC 8201 5.2: the MSS follows the path MTU (never below
         * 1280 - 60: ipv6_path_mtu keeps the floor); never up. */
        uint32_t mss = tcp_our_mss6(stack, &qdst) - ((pcb->flags & TF_TS) ? TCP_TS_OPT_LEN : 0u);
        if (pcb->state == TERN_TCP_SYN_SENT || mss >= pcb->mss) {
            stack->counters.tcp.icmp_no_match++;
            return;
        }
        tcp_pmtu_lower(stack, pcb, mss);
        return;
    }
    if (type == ICMP6_DEST_UNREACH && code == ICMP6_UNREACH_PORT && pcb->state == TERN_TCP_SYN_SENT) {
        /* Port unreachable answering our SYN: hard (RFC 5927 as IPv4). */
        stack->counters.tcp.icmp_hard++;
        tcp->busy++;
        tcp_pcb_kill(stack, pcb, TERN_ERR_REFUSED);
        tcp->busy--;
        tcp_reap(stack);
        return;
    }
    stack->counters.tcp.icmp_soft++;
    pcb->soft_err = (int8_t)TERN_ERR_UNREACH;
}
#endif
