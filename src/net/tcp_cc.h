/* TCP congestion control: every change of cwnd and ssthresh, NewReno (RFC 5681, RFC 6582, with RFC 6675's SACK window). */
#ifndef TERN_TCP_CC_H
#define TERN_TCP_CC_H

#include "net/tcp_internal.h"

/* The other files only report events (the tcp_cc_* functions below); what
 * the windows do with them is decided here alone, so another algorithm is
 * another implementation of these functions. Loss recovery itself (what is
 * resent, recover, the timers) stays in tcp_recovery.c and tcp_in.c.
 * Inline: each event has one caller, and calls across files would cost
 * code size on the targets (no LTO) and instructions per segment. */

/* RFC 5681 3.1: ssthresh "arbitrarily high" (1 << 32 - 1). */
#define TCP_CC_SSTHRESH_INIT 0xFFFFFFFFu

/* RFC 5681 3.1 equation (4): half the flight, at least two segments. */
static inline uint32_t tcp_cc_half_flight(const tern_tcp_pcb_t *pcb)
{
    uint32_t half = tcp_flight(pcb) / 2u;
    return half > 2u * pcb->mss ? half : 2u * pcb->mss;
}

/* ---- the events ---------------------------------------------------------- */

/* The handshake is done and the MSS known: initial window (RFC 5681 3.1). */
static inline void tcp_cc_init(tern_tcp_pcb_t *pcb)
{
    /* RFC 5681 3.1: initial window. */
    pcb->cwnd = pcb->mss > 2190u ? 2u * pcb->mss : (pcb->mss > 1095u ? 3u * pcb->mss : 4u * pcb->mss);
    pcb->ssthresh = TCP_CC_SSTHRESH_INIT;
}

/* acked bytes of new data acknowledged outside loss recovery. */
static inline void tcp_cc_on_ack(tern_tcp_pcb_t *pcb, uint32_t acked)
{
    if (pcb->cwnd < pcb->ssthresh) {
        pcb->cwnd += acked < pcb->mss ? acked : pcb->mss; /* slow start (RFC 5681 3.1, L = 1 SMSS) */
    } else {
        uint32_t inc = (uint32_t)pcb->mss * pcb->mss / (pcb->cwnd != 0u ? pcb->cwnd : 1u);
        pcb->cwnd += inc != 0u ? inc : 1u; /* congestion avoidance (RFC 5681 3.1 equation 3) */
    }
}

/* Loss recovery starts (three duplicate ACKs or SACKed data above a hole);
 * sack: with a usable scoreboard (RFC 6675). Called before the resend. */
static inline void tcp_cc_on_loss(tern_tcp_pcb_t *pcb, int sack)
{
    pcb->ssthresh = tcp_cc_half_flight(pcb);
    /* RFC 6675 5 (4.3): with a scoreboard cwnd = ssthresh and pipe rules;
     * else RFC 5681 3.2 step 3: inflated by the three segments that left. */
    pcb->cwnd = sack ? pcb->ssthresh : pcb->ssthresh + 3u * pcb->mss;
}

/* A further duplicate ACK in NewReno recovery (no scoreboard). */
static inline void tcp_cc_on_dupack(tern_tcp_pcb_t *pcb)
{
    pcb->cwnd += pcb->mss; /* RFC 5681 3.2 step 4: another segment left */
}

/* A partial ACK (acked bytes) in NewReno recovery. */
static inline void tcp_cc_on_partial_ack(tern_tcp_pcb_t *pcb, uint32_t acked)
{
    /* RFC 6582 3.2 (partial acknowledgments): deflate by what was
     * acknowledged, add back one SMSS when that was at least one. */
    pcb->cwnd = pcb->cwnd > acked ? pcb->cwnd - acked : 0u;
    if (acked >= pcb->mss)
        pcb->cwnd += pcb->mss;
}

/* A full ACK ends loss recovery (called while still flagged in it). */
static inline void tcp_cc_on_recovery_end(tern_tcp_pcb_t *pcb)
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

/* The retransmission timer expired (before the go-back). */
static inline void tcp_cc_on_rto(tern_tcp_pcb_t *pcb)
{
    /* RFC 5681 3.1 equation (4) and the loss window of one segment. */
    pcb->ssthresh = tcp_cc_half_flight(pcb);
    pcb->cwnd = pcb->mss;
}

/* The path MTU shrank pcb->mss (not congestion). */
static inline void tcp_cc_on_mss_change(tern_tcp_pcb_t *pcb)
{
    /* A smaller MSS after an ICMP "fragmentation needed" is not congestion
     * (RFC 1191 6.4): only keep cwnd at one segment at least. */
    if (pcb->cwnd < pcb->mss)
        pcb->cwnd = pcb->mss;
}

#endif
