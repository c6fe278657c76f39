/* TCP TIME-WAIT: the table of closed connections' 4-tuples and its expiry (RFC 9293 3.6.1). */
#include <string.h>
#include "tcp_internal.h"

/* ---- TIME-WAIT ---------------------------------------------------------------- */

static void tcp_tw_store(tern_stack_t *stack, const tern_tcp_pcb_t *pcb)
{
    tern_tcp_t *tcp = &stack->tcp;
    struct tcp_tw *slot = NULL;
    for (unsigned i = 0; i < TERN_TCP_TIMEWAIT_MAX; i++) {
        struct tcp_tw *t = &tcp->tw[i];
        if (t->remote_port == 0u) {
            slot = t;
            break;
        }
        if (slot == NULL || SEQ_LT(t->expiry, slot->expiry))
            slot = t;
    }
    if (slot->remote_port != 0u) {
        stack->counters.tcp.timewait_evicted++;
        tcp->tw_count--;
    }
    slot->local_ip = pcb->local_ip;
    slot->remote_ip = pcb->remote_ip;
    slot->local_port = pcb->local_port;
    slot->remote_port = pcb->remote_port;
    slot->snd_nxt = pcb->snd_nxt;
    slot->rcv_nxt = pcb->rcv_nxt;
    slot->expiry = stack->now + tcp->timewait_ms;
    slot->ts_recent = (pcb->flags & TF_TS) ? pcb->ts_recent : 0u;
    tcp->tw_count++;
}

void tcp_enter_timewait(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    tcp_unhalf(stack, pcb);
    pcb->state = TERN_TCP_TIME_WAIT;
    pcb->flags &= (uint32_t)~(TF_REXMIT | TF_PERSIST | TF_ACK_DELAYED);
    if (stack->tcp.timewait_ms != 0u)
        tcp_tw_store(stack, pcb);
    if (pcb->flags & TF_APP_CLOSED) {
        tcp_pcb_free(stack, pcb);
    } else {
        /* The handle stays the application's (unread data); TIME-WAIT
         * itself lives in the table. */
        pcb->state = TERN_TCP_CLOSED;
        tcp_ooo_clear(stack, pcb);
        tcp_sack_clear(stack, pcb);
        tcp_sbuf_free(stack, pcb);
    }
}

/* Expire TIME-WAIT entries; ms until the next expiry (UINT32_MAX: none). */
uint32_t tcp_timewait_poll(tern_stack_t *stack, uint32_t now)
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

/* A segment for a TIME-WAIT entry (RFC 9293 3.10.7.4; RST ignored as RFC
 * 1337 recommends). Returns 1 when the entry took the segment; 0 when
 * there is none, or a new SYN reopens the 4-tuple (*min_iss then set). */
int tcp_input_timewait(tern_stack_t *stack, const tcp_seg_t *seg, uint32_t *min_iss, int *reopen)
{
    tern_tcp_t *tcp = &stack->tcp;
    if (tcp->tw_count == 0u)
        return 0;
    for (unsigned i = 0; i < TERN_TCP_TIMEWAIT_MAX; i++) {
        struct tcp_tw *t = &tcp->tw[i];
        if (t->remote_port != seg->sport || t->local_port != seg->dport || t->remote_ip != seg->src ||
            t->local_ip != seg->dst)
            continue;
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
        uint32_t ts[2] = {stack->now + tcp_ts_offset(stack, t->local_ip, t->local_port, t->remote_ip, t->remote_port),
                          t->ts_recent};
        tcp_send_raw_ts(stack, t->local_ip, t->local_port, t->remote_ip, t->remote_port, t->snd_nxt, t->rcv_nxt,
                        TCP_ACK, 0, t->ts_recent != 0u ? ts : NULL);
        return 1;
    }
    return 0;
}
