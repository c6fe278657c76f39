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
        tcp->stats.timewait_evicted++;
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
