/* TCP loss recovery driven by ACKs: fast retransmit and its resends (RFC 5681, RFC 6582, RFC 6675). */
/* The windows themselves are in tcp_cc.h. */
#include "net/tcp_cc.h"
#include "net/tcp_internal.h"

/* Retransmit the first unacknowledged segment (fast retransmit, partial
 * ACK in NewReno recovery). */
void tcp_rexmit_first(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    uint32_t room = tcp_seg_room(pcb);
    uint32_t len = pcb->sbuf_len < room ? pcb->sbuf_len : room;
    /* Only what was sent: bytes beyond SND.MAX would reach the peer
     * without SND.MAX knowing, and its ACK of them would be refused as
     * acknowledging unsent data, for ever (the window-limited segment
     * before this one may have been shorter than an MSS). */
    if (len > pcb->snd_max - pcb->snd_una)
        len = pcb->snd_max - pcb->snd_una;
    uint32_t data_end = pcb->snd_una + pcb->sbuf_len;
    uint8_t fl = TCP_ACK;
    if ((pcb->flags & TF_FIN_SENT) && pcb->snd_una + len == data_end)
        fl |= TCP_FIN;
    if (len == 0u && !(fl & TCP_FIN))
        return;
    pcb->flags &= ~(uint32_t)TF_RTT; /* Karn */
    stack->counters.tcp.retransmits++;
    pcb->retransmits++;
    (void)tcp_send_segment(stack, pcb, pcb->snd_una, len, fl);
}

/* Enter loss recovery: RFC 6675 5 with a scoreboard, else RFC 6582. */
void tcp_enter_recovery(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    int sack = (pcb->flags & (TF_SACK | TF_SACK_FAIL)) == TF_SACK && pcb->sack != NULL;
    tcp_cc_on_loss(pcb, sack);
    pcb->recover = pcb->snd_max;
    pcb->flags |= TF_RECOVERY;
    stack->counters.tcp.fast_retransmits++;
    if (sack) {
        /* RFC 6675 5 (4.3): the first hole goes at once; then as pipe
         * allows. */
        stack->counters.tcp.sack_recoveries++;
        pcb->high_rxt = pcb->snd_una;
        if (!tcp_sack_rexmit_hole(stack, pcb))
            tcp_rexmit_first(stack, pcb);
    } else {
        tcp_rexmit_first(stack, pcb);
    }
    /* The mark of tcp_sack_rxt_lost (tcp_sack_rexmit_hole sets it too). */
    pcb->flags &= ~(uint32_t)TF_RTT;
    pcb->rtt_start = pcb->snd_max;
    tcp_rexmit_timer_start(pcb, stack->now);
}
