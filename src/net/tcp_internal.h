/* TCP internals shared by the tcp_*.c files (not API). */
#ifndef TERN_TCP_INTERNAL_H
#define TERN_TCP_INTERNAL_H

#include <stdint.h>
#include "net/net_internal.h"
#include "tern/tcp.h"
#include "net/wire_tcp.h"
#if TERN_IPV6
#include "net/ipv6_internal.h"
#endif

/* Headroom of a TCP segment buffer: Ethernet + IPv4. */
#define TCP_HEADROOM (ETH_HDR_LEN + IPV4_HDR_LEN)
#if TERN_IPV6
/* Ethernet + IPv6: the fixed header only (no extension headers on ours). */
#define TCP_HEADROOM6 (ETH_HDR_LEN + IPV6_HDR_LEN)
#define TCP_IP6_OVERHEAD (IPV6_HDR_LEN + TCP_HDR_LEN) /* RFC 8200 8.3: MSS = path MTU - 60 */
#endif
/* Our SYN options, at most: MSS (4), SACK-permitted + timestamps (2 + 10),
 * NOP + window scale (1 + 3) = 20 bytes. */
#define TCP_SYN_OPT_MAX 20u
#define TCP_TS_OPT_LEN (2u + TCP_OPTLEN_TS) /* NOP NOP kind len TSval TSecr (RFC 7323 appendix A) */
#define TCP_TS_VALID_MS 2073600000u /* RFC 7323 5.5: TS.Recent goes stale after 24 days idle */
#define TCP_DEFAULT_MSS 536u  /* RFC 9293 3.7.1 when the peer sends none */
#define TCP_MIN_MSS 64u       /* smaller advertised MSS values are clamped up */
#define TCP_MAX_WSCALE 14u    /* RFC 7323 2.3 */

/* Sequence space arithmetic (RFC 9293 3.4), modulo 2^32. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/* pcb flags */
#define TF_ACK_NOW 0x0001u     /* send an ACK at the end of input processing */
#define TF_ACK_DELAYED 0x0002u /* an ACK is owed; the delack timer runs */
#define TF_FIN_QUEUED 0x0004u  /* the application shut down its side */
#define TF_FIN_SENT 0x0008u    /* our FIN has been sent (seq fin_seq) */
#define TF_FIN_RCVD 0x0010u    /* the peer's FIN was taken in order */
#define TF_REXMIT 0x0020u      /* the retransmission timer runs */
#define TF_PERSIST 0x0040u     /* the persist timer runs (zero window) */
#define TF_RECOVERY 0x0080u    /* in NewReno fast recovery */
#define TF_WSCALE 0x0100u      /* both sides sent window scale */
#define TF_APP_CLOSED 0x0200u  /* the handle is released: free when done */
#define TF_RTT 0x0400u         /* timing one segment (rtt_seq, rtt_start) */
#define TF_DEAD 0x0800u        /* closed; freed once no callback runs */
#define TF_ACCEPTED 0x1000u    /* the listener's accept took it */
#define TF_KEEPALIVE 0x2000u   /* keep-alive probing enabled */
#define TF_NODELAY 0x4000u     /* Nagle off */
#define TF_PASSIVE 0x8000u     /* created by a listener */
#define TF_PASSIVE_HALF 0x10000u /* counted in half_open and the listener's pending */
#define TF_SACK 0x20000u       /* SACK permitted both ways (RFC 2018) */
#define TF_TS 0x40000u         /* timestamps on every segment (RFC 7323) */
#define TF_NOSACK 0x80000u     /* policy: do not offer SACK */
#define TF_NOTS 0x100000u      /* policy: do not offer timestamps */
#define TF_SACK_FAIL 0x200000u /* scoreboard lost (no descriptor): NewReno until caught up */
#define TF_HELD 0x400000u      /* the structure heads a socket's block: while the handle is
                                * held, a death unlinks it instead of freeing it */
#define TF_DEFERRED 0x800000u  /* passive child whose handshake completed while the accept
                                * queue was full: a proven peer, not evicted by new SYNs */
/* What the retransmission timer (TF_REXMIT, t_rexmit) stands for when it is
 * not the RTO (RFC 8985 RACK-TLP, docs/tcp.md): */
#define TF_TLP 0x1000000u      /* a tail loss probe timeout (PTO, RFC 8985 7.2) */
#define TF_RACK 0x2000000u     /* a reordering window: SACKed data above a hole (RFC 8985 6.2) */
#define TF_TLP_OUT 0x4000000u  /* a probe was sent; no other until SND.UNA advances */
/* IPv6 (TERN_IPV6 builds): the addresses are local_ip6/remote_ip6, and
 * local_ip/remote_ip hold their 32-bit folds (tcp_fold6) for the hash. */
#define TF_V6 0x8000000u
#define TF_V6ONLY 0x10000000u  /* a listener on :: that takes no IPv4 (TERN_SO_V6ONLY) */
#define TF_ACK_BATCH 0x20000000u /* an ACK owed at the end of the input batch (tcp_batch_end) */
/* RFC 8985 7.2 WCDelAckT: the longest a peer may delay the ACK of one segment. */
#define TCP_TLP_DELACK_MS 200u

/* A range descriptor [start, end), from the shared pool
 * (TERN_TCP_RANGE_COUNT): on a receive ring an out-of-order range written in
 * place (pcb->ooo, most recently extended first, as RFC 2018 4 reports
 * them), on a send ring a range the peer SACKed (pcb->sack, by sequence). */
struct tcp_range {
    struct tcp_range *next;
    uint32_t start;
    uint32_t end;
};

/* A TIME-WAIT entry: what answering a retransmitted FIN and refusing old
 * duplicates needs (RFC 9293 3.6.1), far less than a connection. */
struct tcp_tw {
    tern_ip4_t local_ip;
    tern_ip4_t remote_ip;
    uint16_t local_port;
    uint16_t remote_port; /* 0: the entry is free */
    uint32_t snd_nxt;
    uint32_t rcv_nxt;
    uint32_t expiry;
    uint32_t ts_recent; /* the peer's last timestamp (RFC 6191); 0: none */
#if TERN_IPV6
    tern_ip6_t local_ip6, remote_ip6; /* v6: local_ip/remote_ip are their folds */
    uint8_t v6;
#endif
};

struct tern_tcp_pcb {
    tern_tcp_pcb_t *next;
    tern_stack_t *stack;
    /* A listener never has a listener: its own fields share the storage. */
    union {
        tern_tcp_pcb_t *listener;      /* passive child: who accepts it (NULL once that is gone) */
        struct {
            uint16_t backlog;          /* listener: half-open children allowed */
            uint16_t pending;          /* listener: children half-open now */
        };
    };
    const tern_tcp_callbacks_t *cbs;
    void *arg;
    uint8_t *rbuf;                     /* receive ring (TCP_STREAM_RX), lazily */
    uint8_t *sbuf;                     /* send ring (TCP_STREAM_TX), lazily */
    struct tcp_range *ooo;               /* out-of-order ranges received, most recent first */
    struct tcp_range *sack;              /* SACK scoreboard: ranges the peer holds, by sequence */
    tern_ip4_t local_ip;
    tern_ip4_t remote_ip;
    uint16_t local_port;
    uint16_t remote_port;
    uint32_t rbuf_size, rbuf_head, rbuf_len; /* unread bytes at rbuf_head */
    uint32_t sbuf_size, sbuf_head, sbuf_len; /* bytes from snd_una at sbuf_head */
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_max; /* snd_max: highest sequence sent */
    uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    uint32_t rcv_nxt, rcv_adv;         /* rcv_adv: right edge we advertised */
    uint32_t cwnd, ssthresh, recover;
    uint32_t rtt_seq, rtt_start;
    uint32_t srtt8;                    /* smoothed RTT in 1/8 ms (RFC 6298) */
    uint32_t rttvar4;                  /* RTT variance in 1/4 ms */
    uint32_t rto;                      /* ms */
    uint32_t t_rexmit;                 /* retransmit / persist / SYN deadline */
    uint32_t t_delack;
    uint32_t t_idle;                   /* last segment received (keep-alive) */
    uint32_t retransmits;
    uint32_t ka_idle;                  /* keep-alive: idle ms before the first probe */
    uint32_t ka_intvl;                 /* ms between probes */
    uint32_t ts_recent;                /* RFC 7323 TS.Recent */
    uint32_t ts_off;                   /* added to the clock for our TSval (RFC 7323 5.4) */
    uint32_t last_ack_sent;            /* RFC 7323 Last.ACK.sent */
    uint32_t high_rxt;                 /* SACK recovery: holes resent up to here (RFC 6675 HighRxt) */
    uint32_t flags;                    /* TF_* */
    uint16_t mss;                      /* send MSS (peer's, clamped to our MTU) */
    uint16_t owner;                    /* ledger owner of every block */
    uint8_t state;
    uint8_t snd_wscale;                /* the peer's shift (applied to its windows) */
    uint8_t rcv_wscale;                /* our shift */
    uint8_t retries;                   /* consecutive timeouts */
    uint8_t dupacks;
    uint8_t ooo_count;
    uint8_t ka_probes;
    uint8_t ka_count;                  /* unanswered probes before the connection dies */
    uint8_t full_segs;                 /* full-sized segments not yet ACKed */
    uint8_t sack_count;                /* descriptors in the scoreboard */
    int8_t soft_err;                   /* ICMP soft error, reported at timeout (RFC 1122 4.2.3.9) */
#if TERN_IPV6
    tern_ip6_t local_ip6;              /* TF_V6 only */
    tern_ip6_t remote_ip6;
#endif
};

typedef struct tcp_range tcp_range_t;
typedef struct tcp_tw tcp_tw_t;

/* The connection structure: 208 bytes on a 32-bit target (docs/tcp.md;
 * firmware/sizes.c reports the exact size). With its socket it must fit the
 * 256-byte budget of an idle connection (socket_internal.h checks that). */
#if UINTPTR_MAX == 0xFFFFFFFFu && !TERN_IPV6
_Static_assert(sizeof(struct tern_tcp_pcb) <= 208u, "a TCP connection must stay within 208 bytes on 32-bit targets");
_Static_assert(sizeof(struct tcp_tw) == 28u, "TIME-WAIT entries are 28 bytes");
#elif UINTPTR_MAX == 0xFFFFFFFFu
/* Dual-stack: the two IPv6 addresses on top (docs/tcp.md). */
_Static_assert(sizeof(struct tern_tcp_pcb) <= 240u, "dual-stack TCP connections must fit 240 bytes on 32-bit targets");
#endif

/* A parsed segment. */
typedef struct tcp_seg {
    tern_ip4_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t wnd;
    uint8_t flags;
    const uint8_t *data;
    uint32_t len;     /* payload bytes */
    uint32_t idle;    /* ms since the connection's previous segment */
    tcp_opts_t opts;
#if TERN_IPV6
    uint8_t v6;            /* src/dst are the folds of src6/dst6 */
    tern_ip6_t src6, dst6;
#endif
} tcp_seg_t;

#if TERN_IPV6
/* An IPv6 address in 32 bits, for the demultiplexing hash and as the
 * stand-in of local_ip/remote_ip; equality is always checked in full. */
static inline tern_ip4_t tcp_fold6(const tern_ip6_t *a)
{
    return wire_rd32(a->b) ^ wire_rd32(a->b + 4) ^ wire_rd32(a->b + 8) ^ wire_rd32(a->b + 12);
}
#define TCP_PCB_V6(pcb) (((pcb)->flags & TF_V6) != 0u)
/* The family bits a listener or binding of pcb stands for (TF_V6ONLY
 * means something on :: only). */
#define TCP_PCB_FAM(pcb) (((pcb)->flags & TF_V6) ? (pcb)->flags & (TF_V6 | TF_V6ONLY) : 0u)
#define TCP_SEG_V6(seg) ((seg)->v6 != 0u)
#else
#define TCP_PCB_V6(pcb) 0
#define TCP_SEG_V6(seg) 0
#define TCP_PCB_FAM(pcb) 0u
#endif

/* Do two bindings of one port (TCP_PCB_FAM bits) take a family in common?
 * An IPv4 one and a TF_V6ONLY one can share the port (as on Linux); any
 * other pair cannot. */
static inline int tcp_family_overlap(uint32_t a, uint32_t b)
{
#if TERN_IPV6
    int a4 = (a & TF_V6ONLY) == 0u, a6 = (a & TF_V6) != 0u;
    int b4 = (b & TF_V6ONLY) == 0u, b6 = (b & TF_V6) != 0u;
    return (a4 && b4) || (a6 && b6);
#else
    (void)a;
    (void)b;
    return 1;
#endif
}

/* ---- tcp_conn.c ---------------------------------------------------------- */
int tcp_init(tern_stack_t *stack);
void tcp_deinit(tern_stack_t *stack);
/* The shared pools (out-of-order descriptors, TIME-WAIT table), at the
 * first listen or connect; TERN_OK or TERN_ERR_NOMEM. */
int tcp_pools_ensure(tern_stack_t *stack);
/* Put pcb on the stack's connection list. */
void tcp_pcb_link(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* File a linked pcb in the demultiplexing table once its 4-tuple (a
 * listener: its port) is final; no room: it stays found by the list walk. */
void tcp_hash_add(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* The connection for a 4-tuple (not CLOSED); when there is none, a
 * listener on the port in *listener (NULL if none). */
tern_tcp_pcb_t *tcp_lookup(tern_stack_t *stack, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip, uint16_t rport,
                           tern_tcp_pcb_t **listener);
#if TERN_IPV6
/* The same for an IPv6 4-tuple: only TF_V6 connections match; a listener
 * with TF_V6 (on ::) takes it. tcp_lookup skips both TF_V6 connections
 * and TF_V6ONLY listeners. */
tern_tcp_pcb_t *tcp_lookup6(tern_stack_t *stack, const tern_ip6_t *lip, uint16_t lport, const tern_ip6_t *rip,
                            uint16_t rport, tern_tcp_pcb_t **listener);
/* tern_tcp_connect6 on a caller's structure (as tcp_pcb_connect). */
int tcp_pcb_connect6(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tern_ip6_t *addr, uint16_t port);
#endif
tern_tcp_pcb_t *tcp_pcb_new(tern_stack_t *stack, unsigned owner);
/* A closed, unlinked connection in memory the caller allocated (zeroed):
 * the defaults of tcp_pcb_new. The socket layer's structure (TF_HELD). */
void tcp_pcb_init(tern_stack_t *stack, tern_tcp_pcb_t *pcb, unsigned owner);
/* tern_tcp_connect / tern_tcp_listen on such a structure (linked on
 * success; untouched and unlinked on error). */
int tcp_pcb_connect(tern_stack_t *stack, tern_tcp_pcb_t *pcb, tern_ip4_t addr, uint16_t port);
int tcp_pcb_listen(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint16_t port, unsigned backlog);
/* Move a live connection into memory the caller allocated (*to, at least
 * sizeof *to): the list and the rings follow; from is freed. */
void tcp_pcb_move(tern_stack_t *stack, tern_tcp_pcb_t *from, tern_tcp_pcb_t *to);
/* Reset a connection whose handle stays held (RST as tern_tcp_abort, no
 * callback; a TF_HELD structure is only unlinked). */
void tcp_pcb_reset(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Free an unlinked structure and its rings now (a TF_HELD one at its
 * socket's close). */
void tcp_pcb_destroy(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Unlink and free now, or at the end of the callback in progress. */
void tcp_pcb_free(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* The connection is over: report err (0: none) to the application unless
 * it released the handle, and free it. */
void tcp_pcb_kill(tern_stack_t *stack, tern_tcp_pcb_t *pcb, int err);
/* A passive child stops counting as half-open: give back its slot. */
void tcp_unhalf(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Free connections closed while callbacks ran (when none runs now). */
void tcp_reap(tern_stack_t *stack);
void tcp_ooo_clear(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Descriptors from the shared pool (NULL when empty; the peak is kept). */
struct tcp_range *tcp_range_get(tern_stack_t *stack);
void tcp_range_put(tern_stack_t *stack, struct tcp_range *d);
/* Our window scale (RFC 7323 2.3): the smallest shift that fits the
 * receive ring's size in 16 bits. */
static inline void tcp_pcb_set_wscale(tern_tcp_pcb_t *pcb)
{
    while (pcb->rcv_wscale < TCP_MAX_WSCALE && (pcb->rbuf_size >> pcb->rcv_wscale) > 0xFFFFu)
        pcb->rcv_wscale++;
}
/* Enter TIME-WAIT (RFC 9293 3.6.1): the 4-tuple moves to the TIME-WAIT
 * table (its segments: tcp_in.c; its expiry: tcp_timer.c) and the
 * connection is freed. */
void tcp_enter_timewait(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Free the send ring (nothing more will be sent from it). */
void tcp_sbuf_free(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Free the receive ring (its unread bytes go with it). */
void tcp_rbuf_free(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Allocate the receive ring; TERN_ERR_NOMEM. */
int tcp_rbuf_alloc(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* The receive window we can offer now (bytes). */
static inline uint32_t tcp_rcv_space(const tern_tcp_pcb_t *pcb)
{
    return pcb->rbuf_size - pcb->rbuf_len;
}
/* Give the scoreboard's descriptors back. */
void tcp_sack_clear(tern_stack_t *stack, tern_tcp_pcb_t *pcb);

/* ---- tcp_isn.c ----------------------------------------------------------- */
uint64_t tcp_siphash(const uint32_t key[4], const uint8_t *msg, size_t len);
/* Per-connection timestamp offset (RFC 7323 5.4), from the ISN key. */
uint32_t tcp_ts_offset(const tern_stack_t *stack, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip, uint16_t rport);
/* The same for the 4-tuple of seg as we answer it (ours: its destination). */
uint32_t tcp_ts_offset_seg(const tern_stack_t *stack, const tcp_seg_t *seg);
#if TERN_IPV6
uint32_t tcp_ts_offset6(const tern_stack_t *stack, const tern_ip6_t *lip, uint16_t lport, const tern_ip6_t *rip,
                        uint16_t rport);
#endif
/* The sequence space of a connection whose 4-tuple is set: its ISS (RFC
 * 6528; above *min_iss when not NULL), timestamp offset (one hash for both),
 * SND.UNA, SND.NXT and SND.MAX past the SYN, recover. */
void tcp_pcb_start_seq(const tern_stack_t *stack, tern_tcp_pcb_t *pcb, const uint32_t *min_iss);

/* ---- tcp_cookie.c -------------------------------------------------------- */
/* The MSS class of a peer's MSS (0..7) and back. */
unsigned tcp_cookie_mss_index(uint16_t mss);
uint16_t tcp_cookie_mss_value(unsigned index);
/* Answer seg (a SYN to listener l) with a cookie SYN-ACK, keeping nothing. */
void tcp_cookie_send(tern_stack_t *stack, const tern_tcp_pcb_t *l, const tcp_seg_t *seg);
/* An ACK to a listener: 1 when it returns a valid cookie (*syn gets the
 * options the SYN had, as far as the cookie kept them), -1 when cookies are
 * in use and it does not, 0 when no cookie went out lately. */
int tcp_cookie_check(tern_stack_t *stack, const tcp_seg_t *seg, tcp_opts_t *syn);
/* After the cookie's ACK went through SYN-RECEIVED processing: count it,
 * or free the child when the listener could not accept it. */
void tcp_cookie_settle(tern_stack_t *stack, tern_tcp_pcb_t *pcb);

/* ---- tcp_timer.c --------------------------------------------------------- */
/* Run the timers that are due; ms until the next deadline (UINT32_MAX: none). */
uint32_t tcp_poll(tern_stack_t *stack, uint32_t now);
/* The driver's input batch ended (tern_input_batch_end): the ACKs that
 * waited for it (TF_ACK_BATCH) go now, one per connection. */
void tcp_batch_end(tern_stack_t *stack);
/* RFC 6298 2: a round-trip time measurement m (ms) updates the RTO. */
void tcp_rtt_sample(tern_tcp_pcb_t *pcb, uint32_t m);
/* Lower *next to the ms from now until deadline (0 when reached). */
static inline void tcp_min_deadline(uint32_t *next, uint32_t now, uint32_t deadline)
{
    uint32_t d = net_time_reached(now, deadline) ? 0u : deadline - now;
    if (d < *next)
        *next = d;
}

/* ---- tcp_out.c ----------------------------------------------------------- */
/* Send what the windows, Nagle and the state allow, plus owed ACKs. */
void tcp_output(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* One segment: len stream bytes from seq (taken from the send ring), with
 * flags; SYN segments carry our options. TERN_OK or an error. */
int tcp_send_segment(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t seq, uint32_t len, uint8_t flags);
int tcp_send_ack(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* A RST (or other bare segment) not tied to a connection. */
void tcp_send_raw(tern_stack_t *stack, tern_ip4_t src, uint16_t sport, tern_ip4_t dst, uint16_t dport, uint32_t seq,
                  uint32_t ack, uint8_t flags, uint16_t wnd);
/* The same with a timestamps option when ts is not NULL ({TSval, TSecr}). */
void tcp_send_raw_ts(tern_stack_t *stack, tern_ip4_t src, uint16_t sport, tern_ip4_t dst, uint16_t dport,
                     uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const uint32_t *ts);
#if TERN_IPV6
/* tcp_send_raw_ts over IPv6. */
void tcp_send_raw6(tern_stack_t *stack, const tern_ip6_t *src, uint16_t sport, const tern_ip6_t *dst, uint16_t dport,
                   uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const uint32_t *ts);
#endif
/* A bare segment on pcb's 4-tuple (either family). */
void tcp_send_raw_pcb(tern_stack_t *stack, const tern_tcp_pcb_t *pcb, uint32_t seq, uint32_t ack, uint8_t flags,
                      uint16_t wnd);
/* RFC 9293 3.10.7.1: the reset answering seg. */
void tcp_send_rst_for(tern_stack_t *stack, const tcp_seg_t *seg);
/* A SYN-ACK with no connection behind it (a SYN cookie's). */
typedef struct tcp_synack {
    uint32_t iss;
    uint32_t ts[2];   /* TSval, TSecr when has_ts */
    uint16_t wnd;     /* unscaled (RFC 7323 2.2) */
    int8_t wscale;    /* our shift, -1: no window scale option */
    uint8_t sack;     /* SACK-permitted */
    uint8_t has_ts;
} tcp_synack_t;
void tcp_send_synack(tern_stack_t *stack, const tcp_seg_t *syn, const tcp_synack_t *sa);
void tcp_rexmit_timer_start(tern_tcp_pcb_t *pcb, uint32_t now);
/* Flight size: sent and not acknowledged (bytes of sequence space). */
uint32_t tcp_flight(const tern_tcp_pcb_t *pcb);
/* Payload bytes a segment may carry now: the MSS less the SACK blocks we
 * owe (the timestamp is already out of pcb->mss). */
uint32_t tcp_seg_room(const tern_tcp_pcb_t *pcb);
/* In loss recovery with a usable SACK scoreboard (RFC 6675)? */
int tcp_sack_recovery(const tern_tcp_pcb_t *pcb);
/* Our TSval now. */
uint32_t tcp_ts_now(const tern_stack_t *stack, const tern_tcp_pcb_t *pcb);

/* ---- tcp_sack.c ------------------------------------------------------------ */
/* Receiver: hold [start, end) out of order (merged; first in the list). 0
 * when no descriptor is free (the bytes are then not kept). */
int tcp_ooo_add(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t start, uint32_t end);
/* Move out-of-order ranges that rcv_nxt reached into the stream; 1 if any. */
int tcp_ooo_deliver(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Write a SACK option (NOP NOP kind len blocks) of at most max_blocks of
 * our out-of-order ranges at o; returns its length (0: none held). */
unsigned tcp_sack_build(const tern_tcp_pcb_t *pcb, uint8_t *o, unsigned max_blocks);
/* Sender: validate and record the SACK blocks of seg (an ACK). */
void tcp_sack_input(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tcp_seg_t *seg);
/* Drop scoreboard ranges below snd_una. */
void tcp_sack_trim(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Resend the next hole (RFC 6675 NextSeg rule 1); 1 if one went out. */
int tcp_sack_rexmit_hole(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* SACK loss recovery transmission (RFC 6675 5 (C)); 1 if anything was sent. */
int tcp_sack_output(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Go-back retransmission: move *seq past SACKed bytes; returns how many
 * bytes from there are not SACKed (UINT32_MAX: all). */
uint32_t tcp_sack_skip(const tern_tcp_pcb_t *pcb, uint32_t *seq);
/* SACKed bytes below seq (out of the flight: the peer holds them). */
uint32_t tcp_sack_below(const tern_tcp_pcb_t *pcb, uint32_t seq);
/* RFC 6675 IsLost(SND.UNA + 1) on the scoreboard: more than DupThresh - 1
 * segments' worth SACKed above it, or DupThresh discontiguous SACKed
 * ranges. Inline: asked on every ACK while data is in flight. */
static inline int tcp_sack_is_lost(const tern_tcp_pcb_t *pcb)
{
    if ((pcb->flags & (TF_SACK | TF_SACK_FAIL)) != TF_SACK || pcb->sack == NULL)
        return 0;
    uint32_t bytes = 0;
    unsigned ranges = 0;
    for (const struct tcp_range *d = pcb->sack; d != NULL; d = d->next) {
        bytes += d->end - d->start;
        ranges++;
    }
    return ranges >= 3u || bytes > 2u * pcb->mss;
}

/* ---- tcp_in.c ------------------------------------------------------------ */
void tcp_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, const ipv4_rx_t *ip);
/* An ICMP error quoting one of our segments (RFC 5927); q is the quoted
 * IPv4 header, qlen bytes of it and what follows (at least 8 of TCP). */
void tcp_icmp_error(tern_stack_t *stack, uint8_t type, uint8_t code, uint16_t mtu, const uint8_t *q, size_t qlen);

/* ---- tcp_open.c ---------------------------------------------------------- */
/* The MSS we advertise on nif-less paths (route lookup) */
uint16_t tcp_our_mss(const tern_stack_t *stack, tern_ip4_t remote);
/* The MSS for pcb's path, either family (IPv6: path MTU - 60, RFC 8201). */
uint16_t tcp_pcb_our_mss(tern_stack_t *stack, const tern_tcp_pcb_t *pcb);
#if TERN_IPV6
uint16_t tcp_our_mss6(tern_stack_t *stack, const tern_ip6_t *remote);
#endif
/* RFC 9293 3.10.7.3: a segment for a connection in SYN-SENT. */
void tcp_input_syn_sent(tern_stack_t *stack, tern_tcp_pcb_t *pcb, tcp_seg_t *seg);
/* RFC 9293 3.10.7.2: a segment for listener l; min_iss: the ISN must be
 * above it (a 4-tuple reopened from TIME-WAIT), or NULL. */
/* LISTEN; the connection a SYN cookie's ACK recreated (in SYN-RECEIVED, for
 * the caller to process seg on), else NULL. */
tern_tcp_pcb_t *tcp_input_listen(tern_stack_t *stack, tern_tcp_pcb_t *l, tcp_seg_t *seg, const uint32_t *min_iss);

/* ---- tcp_recovery.c ------------------------------------------------------ */
/* Retransmit the first unacknowledged segment (fast retransmit, NewReno
 * partial ACK). */
void tcp_rexmit_first(tern_stack_t *stack, tern_tcp_pcb_t *pcb);
/* Enter loss recovery: RFC 6675 5 with a scoreboard, else RFC 6582. */
void tcp_enter_recovery(tern_stack_t *stack, tern_tcp_pcb_t *pcb);

/* The connection died during a callback (its memory waits for tcp_reap). */
#define PCB_GONE(pcb) (((pcb)->flags & TF_DEAD) != 0u)

/* Callback helpers: run with the busy count raised so frees are deferred. */
#define TCP_CALLBACK(stack, pcb, fn, ...)                                      \
    do {                                                                       \
        if ((pcb)->cbs != NULL && (pcb)->cbs->fn != NULL &&                    \
            !((pcb)->flags & (TF_APP_CLOSED | TF_DEAD))) {                     \
            (stack)->tcp.busy++;                                               \
            (pcb)->cbs->fn((pcb)->arg, __VA_ARGS__);                           \
            (stack)->tcp.busy--;                                               \
        }                                                                      \
    } while (0)

/* The locking rule's check (include/tern/stack.h) for the calls that take a
 * pcb; a NULL pcb passes (the call's own argument check answers it). Out
 * of line so that the static analyzers do not read its NULL test as "pcb
 * may be NULL" in every caller. */
#if TERN_DEBUG
void tcp_pcb_check_locked(const tern_tcp_pcb_t *pcb, const char *fn);
#define TCP_PCB_LOCKED(pcb) tcp_pcb_check_locked((pcb), __func__)
#else
#define TCP_PCB_LOCKED(pcb) ((void)0)
#endif

#endif
