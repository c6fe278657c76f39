/* TCP SACK (RFC 2018) both ways: out-of-order ranges received, the scoreboard of ranges SACKed. */
/* Range descriptors come from the one shared pool (TERN_TCP_RANGE_COUNT,
 * TCP_RANGES):
 * - receiver: out-of-order ranges written in place in the receive ring,
 *   kept most recently extended first, reported in that order (RFC 2018 4);
 * - sender: a scoreboard of the ranges the peer SACKed, by sequence; in
 *   loss recovery holes are resent and SACKed bytes never (RFC 6675 with
 *   every hole below the highest SACK taken as lost, docs/tcp.md). */
#include <string.h>
#include "net/tcp_internal.h"

/* ---- receiver ------------------------------------------------------------ */

int tcp_ooo_add(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t start, uint32_t end)
{
    /* Ranges in the list never touch one another, so one pass merges every
     * range the new one overlaps or touches; the result goes first. */
    struct tcp_range *keep = NULL;
    struct tcp_range **pp = &pcb->ooo;
    while (*pp != NULL) {
        struct tcp_range *d = *pp;
        if (SEQ_LEQ(d->start, end) && SEQ_GEQ(d->end, start)) {
            if (SEQ_LT(d->start, start))
                start = d->start;
            if (SEQ_GT(d->end, end))
                end = d->end;
            *pp = d->next;
            if (keep == NULL) {
                keep = d;
            } else {
                tcp_range_put(stack, d);
                pcb->ooo_count--;
            }
            continue;
        }
        pp = &d->next;
    }
    if (keep == NULL) {
        if (pcb->ooo_count >= TERN_TCP_OOO_PER_CONN)
            return 0;
        keep = tcp_range_get(stack);
        if (keep == NULL)
            return 0;
        pcb->ooo_count++;
    }
    keep->start = start;
    keep->end = end;
    keep->next = pcb->ooo;
    pcb->ooo = keep;
    return 1;
}

/* Move ranges that rcv_nxt reached into the stream. Returns 1 if any was. */
int tcp_ooo_deliver(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    int any = 0;
    for (;;) {
        struct tcp_range **pp = &pcb->ooo;
        while (*pp != NULL && SEQ_GT((*pp)->start, pcb->rcv_nxt))
            pp = &(*pp)->next;
        struct tcp_range *d = *pp;
        if (d == NULL)
            return any;
        if (SEQ_GT(d->end, pcb->rcv_nxt)) {
            pcb->rbuf_len += d->end - pcb->rcv_nxt;
            pcb->rcv_nxt = d->end;
        }
        *pp = d->next;
        tcp_range_put(stack, d);
        pcb->ooo_count--;
        any = 1;
    }
}

unsigned tcp_sack_build(const tern_tcp_pcb_t *pcb, uint8_t *o, unsigned max_blocks)
{
    unsigned n = 0;
    uint8_t *blocks = o + TCP_SACK_OPT_SPACE(0);
    for (const struct tcp_range *d = pcb->ooo; d != NULL && n < max_blocks; d = d->next, n++)
        tcp_opt_write_sack_block(blocks, n, d->start, d->end);
    if (n == 0u)
        return 0;
    unsigned k = tcp_opt_write_nop(o);
    k += tcp_opt_write_nop(o + k);
    (void)tcp_opt_write_sack(o + k, n);
    return TCP_SACK_OPT_SPACE(n);
}

/* ---- sender: the scoreboard -------------------------------------------------- */

/* Record [start, end) (already validated), merged with its neighbours. */
static int tcp_sack_add(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t start, uint32_t end)
{
    struct tcp_range **pp = &pcb->sack;
    while (*pp != NULL && SEQ_LT((*pp)->end, start))
        pp = &(*pp)->next;
    struct tcp_range *d = *pp;
    if (d == NULL || SEQ_LT(end, d->start)) {
        if (pcb->sack_count >= TERN_TCP_SACK_PER_CONN)
            return 0;
        struct tcp_range *n = tcp_range_get(stack);
        if (n == NULL)
            return 0;
        n->start = start;
        n->end = end;
        n->next = d;
        *pp = n;
        pcb->sack_count++;
        return 1;
    }
    if (SEQ_LT(start, d->start))
        d->start = start;
    if (SEQ_GT(end, d->end))
        d->end = end;
    while (d->next != NULL && SEQ_LEQ(d->next->start, d->end)) {
        struct tcp_range *x = d->next;
        if (SEQ_GT(x->end, d->end))
            d->end = x->end;
        d->next = x->next;
        tcp_range_put(stack, x);
        pcb->sack_count--;
    }
    return 1;
}

void tcp_sack_input(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tcp_seg_t *seg)
{
    tern_tcp_stats_t *st = &stack->counters.tcp;
    if (!(pcb->flags & TF_SACK) || seg->opts.nsack == 0u)
        return;
    /* An old ACK overtaken by a newer one (a reordering path) carries
     * blocks below SND.UNA: they must not enter the scoreboard, which is
     * trimmed only when SND.UNA moves. Such a stale range made tcp_output
     * count negative bytes in flight and send nothing, with nothing in
     * flight to bring an ACK: the stall the "always a timer" rule hid. */
    uint32_t lo = SEQ_GT(seg->ack, pcb->snd_una) ? seg->ack : pcb->snd_una;
    for (unsigned i = 0; i < seg->opts.nsack; i++) {
        uint32_t start = tcp_opt_sack_left(seg->opts.sack, i);
        uint32_t end = tcp_opt_sack_right(seg->opts.sack, i);
        /* Only blocks inside what is outstanding, after this ACK, count;
         * nothing here is ever used as a length without this check. */
        if (SEQ_LEQ(end, start) || SEQ_LT(start, lo) || SEQ_GT(end, pcb->snd_max)) {
            int dsack = 0;
            if (i == 0u && SEQ_LT(start, end)) {
                /* RFC 2883: a first block below the ACK, or inside the
                 * second block, reports a duplicate. Ignored. */
                if (SEQ_LEQ(end, seg->ack))
                    dsack = 1;
            }
            if (dsack)
                st->sack_dsack++;
            else
                st->sack_blocks_bad++;
            continue;
        }
        if (i == 0u && seg->opts.nsack > 1u) {
            uint32_t s2 = tcp_opt_sack_left(seg->opts.sack, 1), e2 = tcp_opt_sack_right(seg->opts.sack, 1);
            if (SEQ_GEQ(start, s2) && SEQ_LEQ(end, e2) && SEQ_LT(s2, e2)) {
                st->sack_dsack++;
                continue;
            }
        }
        if (pcb->flags & TF_SACK_FAIL)
            continue; /* lost the scoreboard: NewReno until caught up */
        if (!tcp_sack_add(stack, pcb, start, end)) {
            /* No descriptor (pool empty or this connection at its limit): a
             * partial scoreboard would resend SACKed bytes as holes, so
             * drop it and recover with NewReno. */
            st->sack_no_desc++;
            tcp_sack_clear(stack, pcb);
            pcb->flags |= TF_SACK_FAIL;
            continue;
        }
        st->sack_blocks_rx++;
    }
}

void tcp_sack_trim(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    while (pcb->sack != NULL && SEQ_LEQ(pcb->sack->end, pcb->snd_una)) {
        struct tcp_range *d = pcb->sack;
        pcb->sack = d->next;
        tcp_range_put(stack, d);
        pcb->sack_count--;
    }
    if (pcb->sack != NULL && SEQ_LT(pcb->sack->start, pcb->snd_una))
        pcb->sack->start = pcb->snd_una;
    if (pcb->snd_una == pcb->snd_max)
        pcb->flags &= (uint32_t)~TF_SACK_FAIL;
}

int tcp_sack_recovery(const tern_tcp_pcb_t *pcb)
{
    return (pcb->flags & (TF_RECOVERY | TF_SACK | TF_SACK_FAIL)) == (TF_RECOVERY | TF_SACK);
}

/* RFC 6675 pipe, with IsLost() true for every hole below the highest
 * SACKed byte: what is beyond it, plus the holes resent (up to high_rxt)
 * and not yet SACKed or acknowledged. */
static uint32_t tcp_sack_pipe(const tern_tcp_pcb_t *pcb)
{
    uint32_t high = pcb->snd_una;
    for (const struct tcp_range *d = pcb->sack; d != NULL; d = d->next)
        high = d->end;
    uint32_t hr = SEQ_GT(pcb->high_rxt, pcb->snd_una) ? pcb->high_rxt : pcb->snd_una;
    if (SEQ_GT(hr, high))
        hr = high;
    uint32_t retx = hr - pcb->snd_una;
    for (const struct tcp_range *d = pcb->sack; d != NULL && SEQ_LT(d->start, hr); d = d->next)
        retx -= (SEQ_LT(d->end, hr) ? d->end : hr) - d->start;
    uint32_t beyond = SEQ_GT(pcb->snd_max, high) ? pcb->snd_max - high : 0u;
    return beyond + retx;
}

/* RFC 6675 NextSeg() rule 1: the first hole byte at or above high_rxt. */
static int tcp_sack_next_hole(const tern_tcp_pcb_t *pcb, uint32_t *seq, uint32_t *len)
{
    uint32_t cur = SEQ_GT(pcb->high_rxt, pcb->snd_una) ? pcb->high_rxt : pcb->snd_una;
    for (const struct tcp_range *d = pcb->sack; d != NULL; d = d->next) {
        if (SEQ_LT(cur, d->start)) {
            *seq = cur;
            *len = d->start - cur;
            return 1;
        }
        if (SEQ_GT(d->end, cur))
            cur = d->end;
    }
    return 0;
}

int tcp_sack_rexmit_hole(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    uint32_t seq, len;
    if (!tcp_sack_next_hole(pcb, &seq, &len))
        return 0;
    uint32_t data_end = pcb->snd_una + pcb->sbuf_len;
    if (len > tcp_seg_room(pcb))
        len = tcp_seg_room(pcb);
    if (!SEQ_LT(seq, data_end)) {
        pcb->high_rxt = seq + len; /* no data there (cannot happen: the FIN is never below a SACK) */
        return 0;
    }
    if (SEQ_GT(seq + len, data_end))
        len = data_end - seq;
    pcb->high_rxt = seq + len;
    pcb->flags &= ~(uint32_t)TF_RTT; /* Karn */
    /* With TF_RTT clear, rtt_start is the lost-retransmission mark
     * (tcp_in.c, tcp_sack_rxt_lost): what is sent after this hole. */
    pcb->rtt_start = pcb->snd_max;
    stack->counters.tcp.retransmits++;
    pcb->retransmits++;
    (void)tcp_send_segment(stack, pcb, seq, len, TCP_ACK);
    return 1;
}

/* RFC 6675 5 step (C): while cwnd - pipe >= 1 SMSS, resend holes, then
 * new data. Returns 1 if anything went out. */
int tcp_sack_output(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    int sent = 0;
    /* Bounded: each pass sends one segment or stops. */
    for (unsigned k = 0; k < 256u; k++) {
        uint32_t pipe = tcp_sack_pipe(pcb);
        if (pipe >= pcb->cwnd || pcb->cwnd - pipe < pcb->mss)
            break;
        if (tcp_sack_rexmit_hole(stack, pcb)) {
            sent = 1;
            continue;
        }
        /* Rule 2: new data, within the peer's window. */
        uint32_t data_end = pcb->snd_una + pcb->sbuf_len;
        if (SEQ_LT(pcb->snd_nxt, pcb->snd_max)) {
            /* Taken back by a closed window (tcp_output): goes again from
             * snd_nxt, past what the peer SACKed. */
            uint32_t at = pcb->snd_nxt;
            (void)tcp_sack_skip(pcb, &at);
            pcb->snd_nxt = SEQ_GT(at, pcb->snd_max) ? pcb->snd_max : at;
        }
        if (SEQ_GT(pcb->snd_nxt, data_end))
            break;
        uint32_t unsent = data_end - pcb->snd_nxt;
        uint32_t out = pcb->snd_nxt - pcb->snd_una;
        uint32_t avail = pcb->snd_wnd > out ? pcb->snd_wnd - out : 0u;
        uint32_t room = tcp_seg_room(pcb);
        uint32_t len = unsent < room ? unsent : room;
        if (len > avail)
            len = avail;
        if (SEQ_LT(pcb->snd_nxt, pcb->snd_max)) {
            uint32_t at = pcb->snd_nxt;
            uint32_t room2 = tcp_sack_skip(pcb, &at);
            if (len > room2)
                len = room2;
        }
        int fin = (pcb->flags & TF_FIN_QUEUED) && len == unsent;
        if (len == 0u && !fin)
            break;
        uint32_t seq = pcb->snd_nxt;
        uint8_t fl = (uint8_t)(TCP_ACK | (len == unsent && len != 0u ? TCP_PSH : 0u) | (fin ? TCP_FIN : 0u));
        if (tcp_send_segment(stack, pcb, seq, len, fl) != TERN_OK)
            break;
        sent = 1;
        if (SEQ_LT(seq, pcb->snd_max) && len != 0u) {
            stack->counters.tcp.retransmits++;
            pcb->retransmits++;
        }
        pcb->snd_nxt = seq + len + (fin ? 1u : 0u);
        if (SEQ_GT(pcb->snd_nxt, pcb->snd_max))
            pcb->snd_max = pcb->snd_nxt;
        if (fin) {
            pcb->flags |= TF_FIN_SENT;
            break;
        }
    }
    return sent;
}

uint32_t tcp_sack_below(const tern_tcp_pcb_t *pcb, uint32_t seq)
{
    uint32_t n = 0;
    for (const struct tcp_range *d = pcb->sack; d != NULL && SEQ_LT(d->start, seq); d = d->next)
        n += (SEQ_LT(d->end, seq) ? d->end : seq) - d->start;
    return n;
}

uint32_t tcp_sack_skip(const tern_tcp_pcb_t *pcb, uint32_t *seq)
{
    for (const struct tcp_range *d = pcb->sack; d != NULL; d = d->next) {
        if (SEQ_LEQ(d->end, *seq))
            continue;
        if (SEQ_LEQ(d->start, *seq)) {
            *seq = d->end;
            continue;
        }
        return d->start - *seq;
    }
    return UINT32_MAX;
}
