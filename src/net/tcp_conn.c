/* TCP connections: life cycle, the raw API, timers, TIME-WAIT table, ISNs.
 * Segment input is in tcp_in.c and segment output in tcp_out.c. */
#include <string.h>
#include "net/tcp_internal.h"

/* ---- SipHash-2-4 (Aumasson and Bernstein), for RFC 6528 ISNs ------------- */

static uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64u - b));
}

#define SIPROUND                                                                                                       \
    do {                                                                                                               \
        v0 += v1;                                                                                                      \
        v1 = rotl64(v1, 13);                                                                                           \
        v1 ^= v0;                                                                                                      \
        v0 = rotl64(v0, 32);                                                                                           \
        v2 += v3;                                                                                                      \
        v3 = rotl64(v3, 16);                                                                                           \
        v3 ^= v2;                                                                                                      \
        v0 += v3;                                                                                                      \
        v3 = rotl64(v3, 21);                                                                                           \
        v3 ^= v0;                                                                                                      \
        v2 += v1;                                                                                                      \
        v1 = rotl64(v1, 17);                                                                                           \
        v1 ^= v2;                                                                                                      \
        v2 = rotl64(v2, 32);                                                                                           \
    } while (0)

static uint64_t le64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8u * i);
    return v;
}

uint64_t tcp_siphash(const uint32_t key[4], const uint8_t *msg, size_t len)
{
    uint64_t k0 = (uint64_t)key[0] | ((uint64_t)key[1] << 32);
    uint64_t k1 = (uint64_t)key[2] | ((uint64_t)key[3] << 32);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    size_t whole = len & ~(size_t)7u;
    for (size_t i = 0; i < whole; i += 8u) {
        uint64_t m = le64(msg + i, 8);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = ((uint64_t)len << 56) | le64(msg + whole, len - whole);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xffu;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 microsecond clock (250
 * ticks per ms of stack time). */
uint32_t tcp_isn(tern_stack_t *stack, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip, uint16_t rport)
{
    uint8_t m[12];
    wire_wr32(m, lip);
    wire_wr16(m + 4, lport);
    wire_wr32(m + 6, rip);
    wire_wr16(m + 10, rport);
    return (uint32_t)tcp_siphash(stack->tcp.isn_key, m, sizeof m) + stack->now * 250u;
}

/* RFC 7323 5.4: a per-connection random offset keeps TSval from telling
 * the peer our uptime or linking connections; the upper half of the ISN
 * hash (the ISN uses the lower). */
uint32_t tcp_ts_offset(tern_stack_t *stack, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip, uint16_t rport)
{
    uint8_t m[12];
    wire_wr32(m, lip);
    wire_wr16(m + 4, lport);
    wire_wr32(m + 6, rip);
    wire_wr16(m + 10, rport);
    return (uint32_t)(tcp_siphash(stack->tcp.isn_key, m, sizeof m) >> 32);
}

/* ---- init ------------------------------------------------------------------ */

int tcp_init(tern_stack_t *stack)
{
    tern_tcp_t *tcp = &stack->tcp;
    memset(tcp, 0, sizeof *tcp);
    for (unsigned i = 0; i < 4u; i++)
        tcp->isn_key[i] = stack->port->random32(stack->port->ctx);
    tcp->next_port = (uint16_t)(49152u + stack->port->random32(stack->port->ctx) % 16384u);
    tcp->timewait_ms = TERN_TCP_TIMEWAIT_MS;
    tcp->challenge_time = stack->now;
    return TERN_OK;
}

/* The shared pools, at the first listen or connect (as FreeRTOS+TCP does),
 * held until deinit: out-of-order descriptors (TCP_SEGMENTS) and the
 * TIME-WAIT table (SOCKET, owner 0). */
static int tcp_pools_ensure(tern_stack_t *stack)
{
    tern_tcp_t *tcp = &stack->tcp;
    if (tcp->tw != NULL)
        return TERN_OK;
#if TERN_TCP_SEG_COUNT > 0
    tcp->ooo_pool = tern_mem_alloc(&stack->ledger, sizeof(struct tcp_ooo) * TERN_TCP_SEG_COUNT,
                                   TERN_MEM_TCP_SEGMENTS, TERN_OWNER_STACK);
    if (tcp->ooo_pool == NULL)
        return TERN_ERR_NOMEM;
    for (unsigned i = 0; i < TERN_TCP_SEG_COUNT; i++)
        tcp->ooo_pool[i].next = i + 1u < TERN_TCP_SEG_COUNT ? &tcp->ooo_pool[i + 1u] : NULL;
    tcp->ooo_free = tcp->ooo_pool;
    tcp->ooo_free_count = TERN_TCP_SEG_COUNT;
#endif
    tcp->tw = tern_mem_zalloc(&stack->ledger, sizeof(struct tcp_tw) * TERN_TCP_TIMEWAIT_MAX, TERN_MEM_SOCKET,
                              TERN_OWNER_STACK);
    if (tcp->tw == NULL) {
        tern_mem_free(&stack->ledger, tcp->ooo_pool);
        tcp->ooo_pool = tcp->ooo_free = NULL;
        tcp->ooo_free_count = 0;
        return TERN_ERR_NOMEM;
    }
    return TERN_OK;
}

void tcp_pcb_destroy(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    tcp_ooo_clear(stack, pcb);
    tcp_sack_clear(stack, pcb);
    tern_mem_free(&stack->ledger, pcb->rbuf);
    tern_mem_free(&stack->ledger, pcb->sbuf);
    tern_mem_free(&stack->ledger, pcb);
}

void tcp_deinit(tern_stack_t *stack)
{
    tern_tcp_t *tcp = &stack->tcp;
    while (tcp->pcbs != NULL) {
        tern_tcp_pcb_t *p = tcp->pcbs;
        tcp->pcbs = p->next;
        tcp_pcb_destroy(stack, p);
    }
    while (tcp->dead != NULL) {
        tern_tcp_pcb_t *p = tcp->dead;
        tcp->dead = p->next;
        tcp_pcb_destroy(stack, p);
    }
    tern_mem_free(&stack->ledger, tcp->ooo_pool);
    tern_mem_free(&stack->ledger, tcp->tw);
    tcp->ooo_pool = tcp->ooo_free = NULL;
    tcp->tw = NULL;
}

/* ---- out-of-order descriptors ------------------------------------------------ */

struct tcp_ooo *tcp_ooo_get(tern_stack_t *stack)
{
    struct tcp_ooo *d = stack->tcp.ooo_free;
    if (d != NULL) {
        stack->tcp.ooo_free = d->next;
        stack->tcp.ooo_free_count--;
        d->next = NULL;
        uint16_t used = (uint16_t)(TERN_TCP_SEG_COUNT - stack->tcp.ooo_free_count);
        if (used > stack->tcp.seg_peak)
            stack->tcp.seg_peak = used;
    }
    return d;
}

void tcp_ooo_put(tern_stack_t *stack, struct tcp_ooo *d)
{
    d->next = stack->tcp.ooo_free;
    stack->tcp.ooo_free = d;
    stack->tcp.ooo_free_count++;
}

void tcp_ooo_clear(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    while (pcb->ooo != NULL) {
        struct tcp_ooo *d = pcb->ooo;
        pcb->ooo = d->next;
        tcp_ooo_put(stack, d);
    }
    pcb->ooo_count = 0;
}

void tcp_sack_clear(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    while (pcb->sack != NULL) {
        struct tcp_ooo *d = pcb->sack;
        pcb->sack = d->next;
        tcp_ooo_put(stack, d);
    }
    pcb->sack_count = 0;
}

/* ---- connection structures ------------------------------------------------------ */

void tcp_pcb_init(tern_stack_t *stack, tern_tcp_pcb_t *pcb, unsigned owner)
{
    pcb->owner = (uint16_t)owner;
    pcb->stack = stack;
    pcb->rbuf_size = TERN_TCP_RCVBUF;
    pcb->sbuf_size = TERN_TCP_SNDBUF;
    pcb->rto = TERN_TCP_RTO_INIT_MS;
    pcb->mss = TCP_DEFAULT_MSS;
    pcb->t_idle = stack->now;
    pcb->ka_idle = TERN_TCP_KEEPIDLE_MS;
    pcb->ka_intvl = TERN_TCP_KEEPINTVL_MS;
    pcb->ka_count = TERN_TCP_KEEPCNT;
    tern_tcp_set_options(pcb, stack->tcp.default_opts);
}

static void tcp_pcb_link(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    pcb->next = stack->tcp.pcbs;
    stack->tcp.pcbs = pcb;
}

tern_tcp_pcb_t *tcp_pcb_new(tern_stack_t *stack, unsigned owner)
{
    tern_tcp_pcb_t *pcb = tern_mem_zalloc(&stack->ledger, sizeof *pcb, TERN_MEM_SOCKET, owner);
    if (pcb == NULL)
        return NULL;
    tcp_pcb_init(stack, pcb, owner);
    tcp_pcb_link(stack, pcb);
    return pcb;
}

void tcp_pcb_move(tern_stack_t *stack, tern_tcp_pcb_t *from, tern_tcp_pcb_t *to)
{
    memcpy(to, from, sizeof *to);
    for (tern_tcp_pcb_t **pp = &stack->tcp.pcbs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == from) {
            *pp = to;
            break;
        }
    }
    /* A listener's children point at it. */
    if (to->state == TERN_TCP_LISTEN)
        for (tern_tcp_pcb_t *p = stack->tcp.pcbs; p != NULL; p = p->next)
            if (p->state != TERN_TCP_LISTEN && p->listener == from)
                p->listener = to;
    tern_mem_free(&stack->ledger, from);
}

void tcp_sbuf_free(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    tern_mem_free(&stack->ledger, pcb->sbuf);
    pcb->sbuf = NULL;
    pcb->sbuf_len = 0;
    pcb->sbuf_head = 0;
}

int tcp_rbuf_alloc(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    pcb->rbuf = tern_mem_alloc(&stack->ledger, pcb->rbuf_size, TERN_MEM_TCP_STREAM_RX, pcb->owner);
    return pcb->rbuf != NULL ? TERN_OK : TERN_ERR_NOMEM;
}

uint32_t tcp_rcv_space(const tern_tcp_pcb_t *pcb)
{
    return pcb->rbuf_size - pcb->rbuf_len;
}

/* A passive child stops counting as half-open (accepted by its listener,
 * reset or freed). TF_PASSIVE_HALF alone says whether it counts: a child
 * keeps it while its listener's accept callback decides. */
void tcp_unhalf(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    if (pcb->flags & TF_PASSIVE_HALF) {
        pcb->flags &= (uint32_t)~TF_PASSIVE_HALF;
        stack->tcp.half_open--;
        if (pcb->listener != NULL)
            pcb->listener->pending--;
    }
}

void tcp_pcb_free(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    tern_tcp_t *tcp = &stack->tcp;
    tcp_unhalf(stack, pcb);
    if (pcb->state == TERN_TCP_LISTEN) {
        for (tern_tcp_pcb_t *p = tcp->pcbs; p != NULL; p = p->next)
            if (p->state != TERN_TCP_LISTEN && p->listener == pcb)
                p->listener = NULL;
    }
    for (tern_tcp_pcb_t **pp = &tcp->pcbs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == pcb) {
            *pp = pcb->next; /* pcb->next stays: a list walk in progress goes on from it */
            break;
        }
    }
    pcb->state = TERN_TCP_CLOSED;
    pcb->flags |= TF_DEAD;
    if ((pcb->flags & TF_HELD) && !(pcb->flags & TF_APP_CLOSED)) {
        /* Part of a socket's block, which the socket frees at its close;
         * the socket's error callback freed the rings it does not hold a
         * span of. Timers stop (it is off the list anyway). */
        pcb->flags &= (uint32_t)~(TF_REXMIT | TF_PERSIST | TF_ACK_DELAYED | TF_ACK_NOW);
        tcp_ooo_clear(stack, pcb);
        tcp_sack_clear(stack, pcb);
        return;
    }
    if (tcp->busy != 0u) {
        /* A callback is running and its caller may still look at pcb. */
        pcb->next = tcp->dead;
        tcp->dead = pcb;
        return;
    }
    tcp_pcb_destroy(stack, pcb);
}

/* Free what was closed while callbacks ran. */
void tcp_reap(tern_stack_t *stack)
{
    if (stack->tcp.busy != 0u)
        return;
    while (stack->tcp.dead != NULL) {
        tern_tcp_pcb_t *p = stack->tcp.dead;
        stack->tcp.dead = p->next;
        tcp_pcb_destroy(stack, p);
    }
}

void tcp_pcb_kill(tern_stack_t *stack, tern_tcp_pcb_t *pcb, int err)
{
    if (pcb->flags & TF_DEAD)
        return;
    tcp_unhalf(stack, pcb);
    /* A passive child nobody accepted yet: the application never saw it. */
    int visible = !(pcb->flags & TF_PASSIVE) || (pcb->flags & TF_ACCEPTED);
    if (err != 0 && visible)
        TCP_CALLBACK(stack, pcb, error, pcb, err);
    if (pcb->flags & TF_DEAD)
        return;
    if (err == 0 && visible && !(pcb->flags & TF_APP_CLOSED)) {
        /* Finished cleanly but the handle is still the application's: keep
         * the structure (unread bytes stay readable) until it closes. */
        pcb->state = TERN_TCP_CLOSED;
        pcb->flags &= (uint32_t)~(TF_REXMIT | TF_PERSIST | TF_ACK_DELAYED | TF_ACK_NOW);
        tcp_ooo_clear(stack, pcb);
        tcp_sack_clear(stack, pcb);
        tcp_sbuf_free(stack, pcb);
        return;
    }
    tcp_pcb_free(stack, pcb);
}

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

/* ---- timers ------------------------------------------------------------------------ */

static void tcp_min_deadline(uint32_t *next, uint32_t now, uint32_t deadline)
{
    uint32_t d = net_time_reached(now, deadline) ? 0u : deadline - now;
    if (d < *next)
        *next = d;
}

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
    stack->tcp.stats.timeouts++;
    if (pcb->retries >= limit) {
        /* RFC 1122 4.2.3.9: a soft ICMP error explains the timeout. */
        tcp_pcb_kill(stack, pcb, pcb->soft_err != 0 ? pcb->soft_err : TERN_ERR_TIMEOUT);
        return;
    }
    pcb->retries++;
    tcp_rto_backoff(pcb);
    pcb->flags &= (uint32_t)~(TF_RTT | TF_RECOVERY); /* Karn: no sample from a retransmission */
    pcb->dupacks = 0;
    if (pcb->state == TERN_TCP_SYN_SENT || pcb->state == TERN_TCP_SYN_RECEIVED) {
        uint8_t fl = pcb->state == TERN_TCP_SYN_SENT ? TCP_SYN : (uint8_t)(TCP_SYN | TCP_ACK);
        stack->tcp.stats.retransmits++;
        pcb->retransmits++;
        (void)tcp_send_segment(stack, pcb, pcb->iss, 0, fl);
        tcp_rexmit_timer_start(pcb, now);
        return;
    }
    uint32_t flight = tcp_flight(pcb);
    uint32_t half = flight / 2u;
    pcb->ssthresh = half > 2u * pcb->mss ? half : 2u * pcb->mss;
    pcb->cwnd = pcb->mss;
    pcb->recover = pcb->snd_max;
    pcb->snd_nxt = pcb->snd_una; /* go back: resend from the first unacknowledged byte */
    /* RFC 2018 8: the receiver may have reneged: forget what it SACKed.
     * The ACKs of the go-back carry fresh blocks, and tcp_output skips
     * what they report. */
    tcp_sack_clear(stack, pcb);
    pcb->flags &= (uint32_t)~TF_SACK_FAIL;
    pcb->flags &= (uint32_t)~TF_REXMIT;
    stack->tcp.stats.retransmits++;
    pcb->retransmits++;
    tcp_output(stack, pcb);
    if (!(pcb->flags & (TF_REXMIT | TF_PERSIST)) && pcb->snd_una != pcb->snd_max)
        tcp_rexmit_timer_start(pcb, now);
}

/* RFC 9293 3.8.6.1: probe a zero window with one byte beyond it. */
static void tcp_persist_timeout(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint32_t now)
{
    stack->tcp.stats.zero_window_probes++;
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
        if ((pcb->flags & TF_REXMIT) && net_time_reached(now, pcb->t_rexmit))
            tcp_rexmit_timeout(stack, pcb, now);
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
                stack->tcp.stats.keepalive_probes++;
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

/* ---- the raw API ------------------------------------------------------------------- */

static int tcp_port_in_use(const tern_stack_t *stack, uint16_t port)
{
    for (const tern_tcp_pcb_t *p = stack->tcp.pcbs; p != NULL; p = p->next)
        if (p->local_port == port)
            return 1;
    for (unsigned i = 0; stack->tcp.tw != NULL && i < TERN_TCP_TIMEWAIT_MAX; i++)
        if (stack->tcp.tw[i].remote_port != 0u && stack->tcp.tw[i].local_port == port)
            return 1;
    return 0;
}

/* Checks and pools for a listener on port; TERN_OK or why not. */
static int tcp_listen_check(tern_stack_t *stack, uint16_t port, unsigned backlog)
{
    if (stack == NULL || port == 0u || backlog == 0u)
        return TERN_ERR_INVAL;
    for (const tern_tcp_pcb_t *p = stack->tcp.pcbs; p != NULL; p = p->next)
        if (p->state == TERN_TCP_LISTEN && p->local_port == port)
            return TERN_ERR_ADDRINUSE;
    return tcp_pools_ensure(stack);
}

static void tcp_listen_start(tern_tcp_pcb_t *pcb, uint16_t port, unsigned backlog)
{
    pcb->state = TERN_TCP_LISTEN;
    pcb->local_port = port;
    pcb->backlog = (uint16_t)(backlog > 0xFFFFu ? 0xFFFFu : backlog);
    pcb->pending = 0;
}

tern_tcp_pcb_t *tern_tcp_listen(tern_stack_t *stack, uint16_t port, unsigned backlog, const tern_tcp_callbacks_t *cbs,
                                void *arg, int *err)
{
    int dummy;
    if (err == NULL)
        err = &dummy;
    *err = tcp_listen_check(stack, port, backlog);
    if (*err != TERN_OK)
        return NULL;
    tern_tcp_pcb_t *pcb = tcp_pcb_new(stack, TERN_OWNER_STACK);
    if (pcb == NULL) {
        *err = TERN_ERR_NOMEM;
        return NULL;
    }
    tcp_listen_start(pcb, port, backlog);
    pcb->cbs = cbs;
    pcb->arg = arg;
    return pcb;
}

int tcp_pcb_listen(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint16_t port, unsigned backlog)
{
    int err = tcp_listen_check(stack, port, backlog);
    if (err != TERN_OK)
        return err;
    tcp_listen_start(pcb, port, backlog);
    tcp_pcb_link(stack, pcb);
    return TERN_OK;
}

/* Checks, pools, route and an ephemeral port for an active open to
 * addr:port; TERN_OK or why not. */
static int tcp_connect_check(tern_stack_t *stack, tern_ip4_t addr, uint16_t port, tern_ip4_t *local, uint16_t *lport)
{
    if (stack == NULL || port == 0u || !ipv4_is_unicast_host(addr))
        return TERN_ERR_INVAL;
    tern_ip4_t nexthop;
    const tern_netif_t *nif = ipv4_route(stack, 0, addr, &nexthop);
    if (nif == NULL)
        return TERN_ERR_NOROUTE;
    if (tcp_pools_ensure(stack) != TERN_OK)
        return TERN_ERR_NOMEM;
    *local = nif->addr;
    for (unsigned tries = 0; tries < 16384u; tries++) {
        uint16_t cand = stack->tcp.next_port;
        stack->tcp.next_port = cand >= 65535u ? 49152u : (uint16_t)(cand + 1u);
        if (!tcp_port_in_use(stack, cand)) {
            *lport = cand;
            return TERN_OK;
        }
    }
    return TERN_ERR_ADDRINUSE;
}

/* The SYN goes out (pcb linked already). */
static void tcp_connect_start(tern_stack_t *stack, tern_tcp_pcb_t *pcb, tern_ip4_t local, uint16_t lport,
                              tern_ip4_t addr, uint16_t port)
{
    pcb->local_ip = local;
    pcb->local_port = lport;
    pcb->remote_ip = addr;
    pcb->remote_port = port;
    pcb->t_idle = stack->now; /* a socket's structure may be older than its open */
    pcb->mss = tcp_our_mss(stack, addr);
    pcb->iss = tcp_isn(stack, pcb->local_ip, lport, addr, port);
    pcb->ts_off = tcp_ts_offset(stack, pcb->local_ip, lport, addr, port);
    pcb->rtt_seq = pcb->iss;
    pcb->snd_una = pcb->iss;
    pcb->snd_nxt = pcb->iss + 1u;
    pcb->snd_max = pcb->snd_nxt;
    pcb->state = TERN_TCP_SYN_SENT;
    /* Our window scale: the smallest shift that fits the ring in 16 bits. */
    while (pcb->rcv_wscale < TCP_MAX_WSCALE && (pcb->rbuf_size >> pcb->rcv_wscale) > 0xFFFFu)
        pcb->rcv_wscale++;
    stack->tcp.stats.active_opens++;
    (void)tcp_send_segment(stack, pcb, pcb->iss, 0, TCP_SYN);
    tcp_rexmit_timer_start(pcb, stack->now);
}

tern_tcp_pcb_t *tern_tcp_connect(tern_stack_t *stack, tern_ip4_t addr, uint16_t port, const tern_tcp_callbacks_t *cbs,
                                 void *arg, int *err)
{
    int dummy;
    if (err == NULL)
        err = &dummy;
    tern_ip4_t local = 0;
    uint16_t lport = 0;
    *err = tcp_connect_check(stack, addr, port, &local, &lport);
    if (*err != TERN_OK)
        return NULL;
    tern_tcp_pcb_t *pcb = tcp_pcb_new(stack, TERN_OWNER_STACK);
    if (pcb == NULL) {
        *err = TERN_ERR_NOMEM;
        return NULL;
    }
    pcb->cbs = cbs;
    pcb->arg = arg;
    tcp_connect_start(stack, pcb, local, lport, addr, port);
    return pcb;
}

int tcp_pcb_connect(tern_stack_t *stack, tern_tcp_pcb_t *pcb, tern_ip4_t addr, uint16_t port)
{
    tern_ip4_t local = 0;
    uint16_t lport = 0;
    int err = tcp_connect_check(stack, addr, port, &local, &lport);
    if (err != TERN_OK)
        return err;
    tcp_pcb_link(stack, pcb);
    tcp_connect_start(stack, pcb, local, lport, addr, port);
    return TERN_OK;
}

void tern_tcp_set_callbacks(tern_tcp_pcb_t *pcb, const tern_tcp_callbacks_t *cbs, void *arg)
{
    pcb->cbs = cbs;
    pcb->arg = arg;
}

void *tern_tcp_arg(const tern_tcp_pcb_t *pcb)
{
    return pcb->arg;
}

void tern_tcp_set_owner(tern_tcp_pcb_t *pcb, unsigned owner)
{
    pcb->owner = (uint16_t)owner;
}

void tern_tcp_set_options(tern_tcp_pcb_t *pcb, unsigned opts)
{
    pcb->flags = (pcb->flags & ~(uint32_t)(TF_NODELAY | TF_KEEPALIVE | TF_NOSACK | TF_NOTS)) |
                 ((opts & TERN_TCP_OPT_NODELAY) ? TF_NODELAY : 0u) | ((opts & TERN_TCP_OPT_KEEPALIVE) ? TF_KEEPALIVE : 0u) |
                 ((opts & TERN_TCP_OPT_NOSACK) || !TERN_TCP_SACK ? TF_NOSACK : 0u) |
                 ((opts & TERN_TCP_OPT_NOTS) || !TERN_TCP_TIMESTAMPS ? TF_NOTS : 0u);
    pcb->ka_probes = 0;
}

void tern_tcp_set_default_options(tern_stack_t *stack, unsigned opts)
{
    stack->tcp.default_opts = (uint16_t)(opts & 0xFFFFu);
}

void tern_tcp_seg_usage(const tern_stack_t *stack, tern_tcp_seg_usage_t *out)
{
    const tern_tcp_t *tcp = &stack->tcp;
    out->count = TERN_TCP_SEG_COUNT;
    out->in_use = tcp->ooo_pool != NULL ? (unsigned)(TERN_TCP_SEG_COUNT - tcp->ooo_free_count) : 0u;
    out->peak = tcp->seg_peak;
}

int tern_tcp_set_keepalive(tern_tcp_pcb_t *pcb, uint32_t idle_ms, uint32_t intvl_ms, unsigned count)
{
    /* Bounded so that idle + count * interval cannot wrap the 32-bit clock's
     * half range (about 24 days). */
    if (idle_ms == 0u || idle_ms > 0x3FFFFFFFu || intvl_ms == 0u || intvl_ms > 0x00FFFFFFu || count == 0u ||
        count > 32u)
        return TERN_ERR_INVAL;
    pcb->ka_idle = idle_ms;
    pcb->ka_intvl = intvl_ms;
    pcb->ka_count = (uint8_t)count;
    pcb->ka_probes = 0;
    return TERN_OK;
}

int tern_tcp_set_bufsizes(tern_tcp_pcb_t *pcb, uint32_t rcvbuf, uint32_t sndbuf)
{
    if ((rcvbuf != 0u && (rcvbuf < 536u || rcvbuf > 0x3FFFFFFFu)) || (sndbuf != 0u && (sndbuf < 536u || sndbuf > 0x3FFFFFFFu)))
        return TERN_ERR_INVAL;
    /* The receive ring only before it exists and before our window scale
     * is fixed by the SYN (a larger ring would need a larger shift). */
    if (rcvbuf != 0u && (pcb->rbuf != NULL || (pcb->state != TERN_TCP_CLOSED && pcb->state != TERN_TCP_LISTEN &&
                                              (pcb->state != TERN_TCP_SYN_SENT || (rcvbuf >> pcb->rcv_wscale) > 0xFFFFu))))
        return TERN_ERR_STATE;
    if (sndbuf != 0u && pcb->sbuf != NULL)
        return TERN_ERR_STATE;
    if (rcvbuf != 0u)
        pcb->rbuf_size = rcvbuf;
    if (sndbuf != 0u)
        pcb->sbuf_size = sndbuf;
    return TERN_OK;
}

static int tcp_can_send(const tern_tcp_pcb_t *pcb)
{
    if (pcb->flags & (TF_FIN_QUEUED | TF_APP_CLOSED | TF_DEAD))
        return TERN_ERR_STATE;
    switch (pcb->state) {
    case TERN_TCP_SYN_SENT:
    case TERN_TCP_SYN_RECEIVED:
    case TERN_TCP_ESTABLISHED:
    case TERN_TCP_CLOSE_WAIT:
        return TERN_OK;
    default:
        return TERN_ERR_CLOSED;
    }
}

size_t tern_tcp_send_space(const tern_tcp_pcb_t *pcb)
{
    if (tcp_can_send(pcb) != TERN_OK)
        return 0;
    return pcb->sbuf_size - pcb->sbuf_len;
}

static int tcp_sbuf_ensure(tern_tcp_pcb_t *pcb)
{
    if (pcb->sbuf != NULL)
        return TERN_OK;
    pcb->sbuf = tern_mem_alloc(&pcb->stack->ledger, pcb->sbuf_size, TERN_MEM_TCP_STREAM_TX, pcb->owner);
    return pcb->sbuf != NULL ? TERN_OK : TERN_ERR_NOMEM;
}

int tern_tcp_write_span(tern_tcp_pcb_t *pcb, uint8_t **span)
{
    int r = tcp_can_send(pcb);
    if (r == TERN_OK)
        r = tcp_sbuf_ensure(pcb);
    if (r != TERN_OK)
        return r;
    uint32_t tail = pcb->sbuf_head + pcb->sbuf_len;
    if (tail >= pcb->sbuf_size)
        tail -= pcb->sbuf_size;
    uint32_t free_bytes = pcb->sbuf_size - pcb->sbuf_len;
    uint32_t contig = pcb->sbuf_size - tail;
    *span = pcb->sbuf + tail;
    return (int)(free_bytes < contig ? free_bytes : contig);
}

static int tcp_commit(tern_tcp_pcb_t *pcb, size_t n)
{
    pcb->sbuf_len += (uint32_t)n;
    if (n != 0u && pcb->state != TERN_TCP_SYN_SENT && pcb->state != TERN_TCP_SYN_RECEIVED)
        tcp_output(pcb->stack, pcb);
    return (int)n;
}

int tern_tcp_write_commit(tern_tcp_pcb_t *pcb, size_t n)
{
    int r = tcp_can_send(pcb);
    if (r != TERN_OK)
        return r;
    if (pcb->sbuf == NULL || n > pcb->sbuf_size - pcb->sbuf_len)
        return TERN_ERR_INVAL;
    return tcp_commit(pcb, n);
}

int tern_tcp_write(tern_tcp_pcb_t *pcb, const void *data, size_t len)
{
    int r = tcp_can_send(pcb);
    if (r == TERN_OK && len != 0u)
        r = tcp_sbuf_ensure(pcb);
    if (r != TERN_OK)
        return r;
    const uint8_t *src = data;
    size_t done = 0;
    if (len > 0x7FFFFFFFu)
        len = 0x7FFFFFFFu;
    while (done < len && pcb->sbuf_len < pcb->sbuf_size) {
        uint32_t tail = pcb->sbuf_head + pcb->sbuf_len;
        if (tail >= pcb->sbuf_size)
            tail -= pcb->sbuf_size;
        size_t contig = tail >= pcb->sbuf_head ? pcb->sbuf_size - tail : pcb->sbuf_head - tail;
        size_t n = len - done < contig ? len - done : contig;
        memcpy(pcb->sbuf + tail, src + done, n);
        pcb->sbuf_len += (uint32_t)n;
        done += n;
    }
    pcb->sbuf_len -= (uint32_t)done;
    return tcp_commit(pcb, done);
}

size_t tern_tcp_recv_avail(const tern_tcp_pcb_t *pcb)
{
    return pcb->rbuf_len;
}

int tern_tcp_peek(tern_tcp_pcb_t *pcb, const uint8_t **span)
{
    if (pcb->rbuf == NULL || pcb->rbuf_len == 0u) {
        *span = NULL;
        return 0;
    }
    uint32_t contig = pcb->rbuf_size - pcb->rbuf_head;
    *span = pcb->rbuf + pcb->rbuf_head;
    return (int)(pcb->rbuf_len < contig ? pcb->rbuf_len : contig);
}

/* RFC 1122 4.2.3.3 (receiver SWS avoidance): announce a window opening only
 * once it is worth a segment or half the buffer. */
static void tcp_window_update(tern_tcp_pcb_t *pcb)
{
    switch (pcb->state) {
    case TERN_TCP_ESTABLISHED:
    case TERN_TCP_FIN_WAIT_1:
    case TERN_TCP_FIN_WAIT_2:
        break;
    default:
        return;
    }
    uint32_t edge = pcb->rcv_nxt + tcp_rcv_space(pcb);
    uint32_t step = pcb->rbuf_size / 2u < pcb->mss ? pcb->rbuf_size / 2u : pcb->mss;
    if (SEQ_GT(edge, pcb->rcv_adv) && edge - pcb->rcv_adv >= step)
        (void)tcp_send_ack(pcb->stack, pcb);
}

int tern_tcp_consume(tern_tcp_pcb_t *pcb, size_t n)
{
    if (n > pcb->rbuf_len)
        return TERN_ERR_INVAL;
    pcb->rbuf_head += (uint32_t)n;
    if (pcb->rbuf_head >= pcb->rbuf_size)
        pcb->rbuf_head -= pcb->rbuf_size;
    pcb->rbuf_len -= (uint32_t)n;
    if (pcb->rbuf_len == 0u && pcb->ooo == NULL)
        pcb->rbuf_head = 0; /* keeps spans long (out-of-order bytes sit relative to it) */
    if (n != 0u)
        tcp_window_update(pcb);
    return TERN_OK;
}

int tern_tcp_read(tern_tcp_pcb_t *pcb, void *buf, size_t len)
{
    uint8_t *dst = buf;
    size_t done = 0;
    while (done < len) {
        const uint8_t *span;
        int n = tern_tcp_peek(pcb, &span);
        if (n <= 0)
            break;
        size_t k = (size_t)n < len - done ? (size_t)n : len - done;
        memcpy(dst + done, span, k);
        done += k;
        pcb->rbuf_head += (uint32_t)k;
        if (pcb->rbuf_head >= pcb->rbuf_size)
            pcb->rbuf_head -= pcb->rbuf_size;
        pcb->rbuf_len -= (uint32_t)k;
    }
    if (pcb->rbuf_len == 0u && pcb->ooo == NULL)
        pcb->rbuf_head = 0;
    if (done != 0u)
        tcp_window_update(pcb);
    return (int)done;
}

int tern_tcp_at_eof(const tern_tcp_pcb_t *pcb)
{
    return (pcb->flags & TF_FIN_RCVD) && pcb->rbuf_len == 0u;
}

int tern_tcp_shutdown(tern_tcp_pcb_t *pcb)
{
    if (pcb->flags & (TF_FIN_QUEUED | TF_DEAD | TF_APP_CLOSED))
        return TERN_OK;
    switch (pcb->state) {
    case TERN_TCP_ESTABLISHED:
    case TERN_TCP_SYN_RECEIVED:
        pcb->state = TERN_TCP_FIN_WAIT_1;
        break;
    case TERN_TCP_CLOSE_WAIT:
        pcb->state = TERN_TCP_LAST_ACK;
        break;
    case TERN_TCP_SYN_SENT:
        /* Nothing was sent: the connection just ends. */
        pcb->flags |= TF_FIN_QUEUED;
        return TERN_OK;
    default:
        return TERN_ERR_CLOSED;
    }
    pcb->flags |= TF_FIN_QUEUED;
    tcp_output(pcb->stack, pcb);
    return TERN_OK;
}

void tcp_pcb_reset(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    if (pcb->flags & TF_DEAD)
        return;
    switch (pcb->state) {
    case TERN_TCP_SYN_RECEIVED:
    case TERN_TCP_ESTABLISHED:
    case TERN_TCP_FIN_WAIT_1:
    case TERN_TCP_FIN_WAIT_2:
    case TERN_TCP_CLOSE_WAIT:
    case TERN_TCP_CLOSING:
    case TERN_TCP_LAST_ACK:
        /* RFC 9293 3.10.5: <SEQ=SND.NXT><CTL=RST>. */
        tcp_send_raw(stack, pcb->local_ip, pcb->local_port, pcb->remote_ip, pcb->remote_port, pcb->snd_nxt, 0,
                     TCP_RST, 0);
        stack->tcp.stats.rst_tx++;
        break;
    default:
        break;
    }
    stack->tcp.stats.aborted++;
    tcp_pcb_free(stack, pcb);
}

void tern_tcp_abort(tern_tcp_pcb_t *pcb)
{
    if (pcb->flags & TF_DEAD)
        return;
    pcb->flags |= TF_APP_CLOSED;
    tcp_pcb_reset(pcb->stack, pcb);
}

int tern_tcp_close(tern_tcp_pcb_t *pcb)
{
    tern_stack_t *stack = pcb->stack;
    if (pcb->flags & (TF_DEAD | TF_APP_CLOSED))
        return TERN_ERR_STATE;
    /* RFC 9293 3.10.4 / RFC 2525 2.17: closing with unread data resets. */
    if (pcb->rbuf_len != 0u && pcb->state != TERN_TCP_CLOSED) {
        tern_tcp_abort(pcb);
        return TERN_OK;
    }
    switch (pcb->state) {
    case TERN_TCP_CLOSED:
    case TERN_TCP_LISTEN:
    case TERN_TCP_SYN_SENT:
    case TERN_TCP_TIME_WAIT:
        pcb->flags |= TF_APP_CLOSED;
        tcp_pcb_free(stack, pcb);
        return TERN_OK;
    default:
        break;
    }
    (void)tern_tcp_shutdown(pcb);
    pcb->flags |= TF_APP_CLOSED;
    return TERN_OK;
}

int tern_tcp_state(const tern_tcp_pcb_t *pcb)
{
    return pcb->state;
}

const char *tern_tcp_state_name(int state)
{
    static const char *const names[] = {"CLOSED",     "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
                                        "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                                        "CLOSING",    "LAST-ACK",   "TIME-WAIT"};
    if (state < 0 || (size_t)state >= sizeof names / sizeof names[0])
        return "?";
    return names[state];
}

size_t tern_tcp_list(const tern_stack_t *stack, tern_tcp_info_t *rows, size_t max)
{
    size_t n = 0;
    for (const tern_tcp_pcb_t *p = stack->tcp.pcbs; p != NULL; p = p->next, n++) {
        if (n >= max || rows == NULL)
            continue;
        tern_tcp_info_t *r = &rows[n];
        memset(r, 0, sizeof *r);
        r->state = p->state;
        r->local_addr = p->local_ip;
        r->local_port = p->local_port;
        r->remote_addr = p->remote_ip;
        r->remote_port = p->remote_port;
        r->recv_queue = p->rbuf_len;
        r->send_queue = p->sbuf_len;
        r->bytes_held = (uint32_t)(tern_mem_size(&stack->ledger, p) + tern_mem_size(&stack->ledger, p->rbuf) +
                                   tern_mem_size(&stack->ledger, p->sbuf));
        r->cwnd = p->cwnd;
        r->srtt_ms = p->srtt8 / 8u;
        r->retransmits = p->retransmits;
    }
    for (unsigned i = 0; stack->tcp.tw != NULL && i < TERN_TCP_TIMEWAIT_MAX; i++) {
        const struct tcp_tw *t = &stack->tcp.tw[i];
        if (t->remote_port == 0u)
            continue;
        if (n < max && rows != NULL) {
            tern_tcp_info_t *r = &rows[n];
            memset(r, 0, sizeof *r);
            r->state = TERN_TCP_TIME_WAIT;
            r->local_addr = t->local_ip;
            r->local_port = t->local_port;
            r->remote_addr = t->remote_ip;
            r->remote_port = t->remote_port;
        }
        n++;
    }
    return n;
}

const tern_tcp_stats_t *tern_tcp_stats(const tern_stack_t *stack)
{
    return &stack->tcp.stats;
}

void tern_tcp_set_timewait(tern_stack_t *stack, uint32_t ms)
{
    stack->tcp.timewait_ms = ms;
}
