/* TCP congestion control: every change of cwnd and ssthresh, NewReno (RFC 5681, RFC 6582, with RFC 6675's SACK window). */
#include "tcp_internal.h"

/* The other files only report events (declared in tcp_internal.h); what
 * the windows do with them is decided here alone, so another algorithm is
 * another implementation of these functions. Loss recovery itself (what is
 * resent, recover, the timers) stays in tcp_recovery.c and tcp_in.c. */

/* RFC 5681 3.1: ssthresh "arbitrarily high" (1 << 32 - 1). */
#define TCP_CC_SSTHRESH_INIT 0xFFFFFFFFu

/* RFC 5681 3.1 equation (4): half the flight, at least two segments. */
static uint32_t tcp_cc_half_flight(const tern_tcp_pcb_t *pcb)
{
    uint32_t half = tcp_flight(pcb) / 2u;
    return half > 2u * pcb->mss ? half : 2u * pcb->mss;
}

void tcp_cc_init(tern_tcp_pcb_t *pcb)
{
    /* RFC 5681 3.1: initial window. */
    pcb->cwnd = pcb->mss > 2190u ? 2u * pcb->mss : (pcb->mss > 1095u ? 3u * pcb->mss : 4u * pcb->mss);
    pcb->ssthresh = TCP_CC_SSTHRESH_INIT;
}

void tcp_cc_on_ack(tern_tcp_pcb_t *pcb, uint32_t acked)
{
    if (pcb->cwnd < pcb->ssthresh) {
        pcb->cwnd += acked < pcb->mss ? acked : pcb->mss; /* slow start (RFC 5681 3.1, L = 1 SMSS) */
    } else {
        uint32_t inc = (uint32_t)pcb->mss * pcb->mss / (pcb->cwnd != 0u ? pcb->cwnd : 1u);
        pcb->cwnd += inc != 0u ? inc : 1u; /* congestion avoidance (RFC 5681 3.1 equation 3) */
    }
}

void tcp_cc_on_loss(tern_tcp_pcb_t *pcb, int sack)
{
    pcb->ssthresh = tcp_cc_half_flight(pcb);
    /* RFC 6675 5 (4.3): with a scoreboard cwnd = ssthresh and pipe rules;
     * else RFC 5681 3.2 step 3: inflated by the three segments that left. */
    pcb->cwnd = sack ? pcb->ssthresh : pcb->ssthresh + 3u * pcb->mss;
}

void tcp_cc_on_dupack(tern_tcp_pcb_t *pcb)
{
    pcb->cwnd += pcb->mss; /* RFC 5681 3.2 step 4: another segment left */
}

void tcp_cc_on_partial_ack(tern_tcp_pcb_t *pcb, uint32_t acked)
{
    /* RFC 6582 3.2 (partial acknowledgments): deflate by what was
     * acknowledged, add back one SMSS when that was at least one. */
    pcb->cwnd = pcb->cwnd > acked ? pcb->cwnd - acked : 0u;
    if (acked >= pcb->mss)
        pcb->cwnd += pcb->mss;
}

void tcp_cc_on_recovery_end(tern_tcp_pcb_t *pcb)
{
    /* Full acknowledgment. RFC 6675 leaves cwnd at ssthresh. RFC 6582 3.2
     * step 3 (1): min(ssthresh, max(FlightSize, SMSS) + SMSS); never one
     * segment, which a single loss could only end with the RTO (no
     * duplicate ACKs). */
    int sack = tcp_sack_recovery(pcb);
    uint32_t f = tcp_flight(pcb);
    f = (f > pcb->mss ? f : pcb->mss) + pcb->mss;
    if (!sack)
        pcb->cwnd = pcb->ssthresh < f ? pcb->ssthresh : f;
    else if (pcb->cwnd > pcb->ssthresh)
        pcb->cwnd = pcb->ssthresh;
}

void tcp_cc_on_rto(tern_tcp_pcb_t *pcb)
{
    /* RFC 5681 3.1 equation (4) and the loss window of one segment. */
    pcb->ssthresh = tcp_cc_half_flight(pcb);
    pcb->cwnd = pcb->mss;
}

void tcp_cc_on_mss_change(tern_tcp_pcb_t *pcb)
{
    /* A smaller MSS after an ICMP "fragmentation needed" is not congestion
     * (RFC 1191 6.4): only keep cwnd at one segment at least. */
    if (pcb->cwnd < pcb->mss)
        pcb->cwnd = pcb->mss;
}
