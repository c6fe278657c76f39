/* TCP timers (tcp_poll) and the RTO estimate they run on (RFC 6298). */
/* Retransmission, persist, delayed ACK, keep-alive, orphaned FIN-WAIT-2 and
 * TIME-WAIT expiry. */
#include <string.h>
#include "net/tcp_cc.h"
#include "net/tcp_internal.h"

/* ---- timers ------------------------------------------------------------------------ */

/* RFC 1122 4.2.3.5: R1 "SHOULD correspond to at least 3 retransmissions". */
#define TCP_R1 3u

static void tcp_rto_backoff(tern_tcp_pcb_t *pcb)
{
    pcb->rto = pcb->rto * 2u > TERN_TCP_RTO_MAX_MS ? TERN_TCP_RTO_MAX_MS : pcb->rto * 2u;
}

/* RFC 6298 5.4-5.6 and RFC 5681 3.1 (loss window). */
static void tcp_rexmit_timeout(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t now)
{
    unsigned limit = pcb->state == TERN_TCP_SYN_SENT ? TERN_TCP_SYN_RETRIES
                     : pcb->state == TERN_TCP_SYN_RECEIVED
                         ? ((pcb->flags & TF_PASSIVE) ? TERN_TCP_SYNACK_RETRIES : TERN_TCP_SYN_RETRIES)
                         : TERN_TCP_MAX_RETRIES;
    stack->counters.tcp.timeouts++;
    if (pcb->retries >= limit) {
        /* RFC 1122 4.2.3.9: a soft ICMP error explains the timeout. */
        tcp_pcb_kill(stack, pcb, pcb->soft_err != 0 ? pcb->soft_err : TERN_ERR_TIMEOUT);
        return;
    }
    pcb->retries++;
    tcp_rto_backoff(pcb);
    /* RFC 1122 4.2.3.5: at R1 transmissions of one segment, negative
     * advice to IP; on a LAN a wrong cached MAC is the dead path that
     * ARP can repair (2.3.2.1) before R2 ends the connection. */
    if (pcb->retries >= TCP_R1 && !TCP_PCB_V6(pcb))
        arp_negative_advice(stack, pcb->local_ip, pcb->remote_ip);
    pcb->flags &= (uint32_t)~(TF_RTT | TF_RECOVERY | TF_TLP_OUT); /* Karn: no sample from a retransmission */
    pcb->dupacks = 0;
    if (pcb->state == TERN_TCP_SYN_SENT || pcb->state == TERN_TCP_SYN_RECEIVED) {
        uint8_t fl = pcb->state == TERN_TCP_SYN_SENT ? TCP_SYN : (uint8_t)(TCP_SYN | TCP_ACK);
        stack->counters.tcp.retransmits++;
        pcb->retransmits++;
        (void)tcp_send_segment(stack, pcb, pcb->iss, 0, fl);
        tcp_rexmit_timer_start(pcb, now);
        return;
    }
    tcp_cc_on_rto(pcb);
    pcb->recover = pcb->snd_max;
    pcb->snd_nxt = pcb->snd_una; /* go back: resend from the first unacknowledged byte */
    /* RFC 2018 8: the receiver may have reneged: forget what it SACKed.
     * The ACKs of the go-back carry fresh blocks, and tcp_output skips
     * what they report. */
    tcp_sack_clear(stack, pcb);
    pcb->flags &= (uint32_t)~TF_SACK_FAIL;
    pcb->flags &= (uint32_t)~TF_REXMIT;
    stack->counters.tcp.retransmits++;
    pcb->retransmits++;
    tcp_output(stack, pcb);
    if (!(pcb->flags & (TF_REXMIT | TF_PERSIST)) && pcb->snd_una != pcb->snd_max)
        tcp_rexmit_timer_start(pcb, now);
}

/* RFC 8985 7.3: the probe timeout passed with no ACK. Send one segment
 * that makes the peer acknowledge: new data if the peer's window takes it
 * (cwnd does not limit a probe), else the last segment again. Then the
 * RTO as usual. One probe per tail (TF_TLP_OUT until SND.UNA moves). */
static void tcp_tlp_timeout(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t now)
{
    pcb->flags &= ~(uint32_t)(TF_TLP | TF_RACK);
    if (pcb->flags & TF_FIN_SENT) {
        /* Our FIN left after the PTO was set: its sequence number is no
         * data byte to probe with. The plain RTO from here. */
        pcb->t_rexmit = now + pcb->rto;
        return;
    }
    pcb->flags |= TF_TLP_OUT;
    stack->counters.tcp.tlp_probes++;
    if (pcb->flags & TF_RECOVERY) {
        /* In recovery, 2 SRTT and SND.UNA has not moved (SACKs alone do
         * not restart the timer): what was resent is lost as well (the
         * verdict RFC 8985 6.2 reaches with per-segment send times, which
         * we do not keep). Walk the holes again from SND.UNA and resend
         * the first; cwnd is not cut again (the same loss episode). Then
         * the RTO. */
        pcb->high_rxt = pcb->snd_una;
        if (!tcp_sack_recovery(pcb) || !tcp_sack_rexmit_hole(stack, pcb))
            tcp_rexmit_first(stack, pcb);
        pcb->flags |= TF_REXMIT;
        pcb->t_rexmit = now + pcb->rto;
        return;
    }
    uint32_t data_end = pcb->snd_una + pcb->sbuf_len;
    uint32_t flight = tcp_flight(pcb);
    uint32_t room = tcp_seg_room(pcb);
    uint32_t wnd = pcb->snd_wnd > flight ? pcb->snd_wnd - flight : 0u;
    if (pcb->snd_nxt == pcb->snd_max && SEQ_LT(pcb->snd_max, data_end) && wnd >= room) {
        uint32_t len = data_end - pcb->snd_max < room ? data_end - pcb->snd_max : room;
        uint32_t seq = pcb->snd_max;
        if (tcp_send_segment(stack, pcb, seq, len, TCP_ACK) == TERN_OK) {
            pcb->snd_nxt = pcb->snd_max = seq + len;
        }
    } else {
        uint32_t len = pcb->snd_max - pcb->snd_una < room ? pcb->snd_max - pcb->snd_una : room;
        pcb->flags &= ~(uint32_t)TF_RTT; /* Karn */
        stack->counters.tcp.retransmits++;
        pcb->retransmits++;
        (void)tcp_send_segment(stack, pcb, pcb->snd_max - len, len, TCP_ACK);
    }
    pcb->flags &= ~(uint32_t)(TF_TLP | TF_RACK);
    pcb->flags |= TF_REXMIT;
    pcb->t_rexmit = now + pcb->rto;
}

/* RFC 8985 6.2: the reordering window passed with SACKed data still above
 * the first hole: it was not reordering, the hole is lost. Recovery starts
 * as on three duplicate ACKs (tcp_enter_recovery resends the first hole).
 * The simplification (docs/tcp.md): no per-segment send times, so only the
 * holes below the highest SACKed byte count, sent before it. */
static void tcp_rack_timeout(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t now)
{
    pcb->flags &= ~(uint32_t)(TF_TLP | TF_RACK);
    if (pcb->sack != NULL && !(pcb->flags & TF_RECOVERY) && SEQ_GEQ(pcb->snd_una, pcb->recover)) {
        stack->counters.tcp.rack_recoveries++;
        tcp_enter_recovery(stack, pcb);
        tcp_output(stack, pcb);
    } else {
        /* Nothing to do after all: the plain RTO from here (never the
         * short timer again, which could postpone the RTO for ever). */
        pcb->t_rexmit = now + pcb->rto;
    }
}

/* RFC 9293 3.8.6.1: probe a zero window with one byte beyond it. */
static void tcp_persist_timeout(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t now)
{
    stack->counters.tcp.zero_window_probes++;
    if (pcb->snd_wnd == 0u && pcb->sbuf_len > 0u) {
        uint32_t len = pcb->sbuf_len > pcb->snd_nxt - pcb->snd_una ? 1u : 0u;
        if (len != 0u && pcb->snd_nxt == pcb->snd_una) {
            (void)tcp_send_segment(stack, pcb, pcb->snd_una, 1, TCP_ACK);
            if (SEQ_GT(pcb->snd_una + 1u, pcb->snd_max))
                pcb->snd_max = pcb->snd_una + 1u;
        } else {
            (void)tcp_send_ack(stack, pcb);
        }
        tcp_rto_backoff(pcb);
        pcb->t_rexmit = now + pcb->rto;
        return;
    }
    pcb->flags &= (uint32_t)~TF_PERSIST;
    tcp_output(stack, pcb);
}

/* Expire TIME-WAIT entries; ms until the next expiry (UINT32_MAX: none). */
static uint32_t tcp_timewait_poll(tern_stack_t *stack, uint32_t now)
{
    uint32_t next = UINT32_MAX;
    tern_tcp_t *tcp = &stack->tcp;
    if (tcp->tw_count == 0u)
        return next;
    for (unsigned i = 0; i < TERN_TCP_TIMEWAIT_MAX; i++) {
        struct tcp_tw *t = &tcp->tw[i];
        if (t->remote_port == 0u)
            continue;
        if (net_time_reached(now, t->expiry)) {
            memset(t, 0, sizeof *t);
            tcp->tw_count--;
        } else {
            tcp_min_deadline(&next, now, t->expiry);
        }
    }
    return next;
}

uint32_t tcp_poll(tern_stack_t *stack, uint32_t now)
{
    uint32_t next = tcp_timewait_poll(stack, now);
    stack->tcp.busy++;
    for (tern_tcp_pcb_t *pcb = stack->tcp.pcbs; pcb != NULL; pcb = pcb->next) {
        if (pcb->flags & TF_DEAD)
            continue;
        if ((pcb->flags & TF_ACK_DELAYED) && net_time_reached(now, pcb->t_delack))
            (void)tcp_send_ack(stack, pcb);
        if ((pcb->flags & TF_REXMIT) && net_time_reached(now, pcb->t_rexmit)) {
            if (pcb->flags & TF_RACK)
                tcp_rack_timeout(stack, pcb, now);
            else if (pcb->flags & TF_TLP)
                tcp_tlp_timeout(stack, pcb, now);
            else
                tcp_rexmit_timeout(stack, pcb, now);
        }
        else if ((pcb->flags & TF_PERSIST) && net_time_reached(now, pcb->t_rexmit))
            tcp_persist_timeout(stack, pcb, now);
        if (pcb->flags & TF_DEAD)
            continue;
        if ((pcb->flags & TF_KEEPALIVE) && pcb->state == TERN_TCP_ESTABLISHED) {
            uint32_t due = pcb->t_idle + pcb->ka_idle + (uint32_t)pcb->ka_probes * pcb->ka_intvl;
            if (net_time_reached(now, due)) {
                if (pcb->ka_probes >= pcb->ka_count) {
                    tcp_pcb_kill(stack, pcb, TERN_ERR_TIMEOUT);
                    continue;
                }
                pcb->ka_probes++;
                stack->counters.tcp.keepalive_probes++;
                /* RFC 9293 3.8.4: SEG.SEQ = SND.NXT - 1, no data; with its
                 * timestamp (RFC 7323 3.2: on every non-RST segment). */
                (void)tcp_send_segment(stack, pcb, pcb->snd_nxt - 1u, 0, TCP_ACK);
                due += pcb->ka_intvl;
            }
            tcp_min_deadline(&next, now, due);
        }
        /* An orphaned FIN-WAIT-2 (handle closed) does not wait forever. */
        if (pcb->state == TERN_TCP_FIN_WAIT_2 && (pcb->flags & TF_APP_CLOSED)) {
            uint32_t due = pcb->t_idle + 2u * stack->tcp.timewait_ms + 1000u;
            if (net_time_reached(now, due)) {
                tcp_pcb_kill(stack, pcb, 0);
                continue;
            }
            tcp_min_deadline(&next, now, due);
        }
        if (pcb->flags & TF_ACK_DELAYED)
            tcp_min_deadline(&next, now, pcb->t_delack);
        if (pcb->flags & (TF_REXMIT | TF_PERSIST))
            tcp_min_deadline(&next, now, pcb->t_rexmit);
    }
    stack->tcp.busy--;
    tcp_reap(stack);
    return next;
}

/* RFC 6298 2: a round-trip time measurement m (ms) updates SRTT, RTTVAR and the RTO. */
void tcp_rtt_sample(tern_tcp_pcb_t *pcb, uint32_t m)
{
    /* RFC 6298 2.2, 2.3 in fixed point: srtt8 = 8 SRTT, rttvar4 = 4 RTTVAR. */
    if (pcb->srtt8 == 0u) {
        pcb->srtt8 = (m << 3) | 1u; /* | 1: "measured" even for m == 0 */
        pcb->rttvar4 = m << 1;
    } else {
        int32_t delta = (int32_t)m - (int32_t)(pcb->srtt8 >> 3);
        pcb->srtt8 = (uint32_t)((int32_t)pcb->srtt8 + delta);
        uint32_t ad = (uint32_t)(delta < 0 ? -delta : delta);
        pcb->rttvar4 = pcb->rttvar4 - (pcb->rttvar4 >> 2) + ad;
    }
    uint32_t rto = (pcb->srtt8 >> 3) + (pcb->rttvar4 > 1u ? pcb->rttvar4 : 1u);
    if (rto < TERN_TCP_RTO_MIN_MS)
        rto = TERN_TCP_RTO_MIN_MS;
    if (rto > TERN_TCP_RTO_MAX_MS)
        rto = TERN_TCP_RTO_MAX_MS;
    pcb->rto = rto;
}
