/* TCP connection life cycle: init, the shared pools, allocating, moving, killing, freeing, entering TIME-WAIT. */
/* Segment input is in tcp_in.c, output in tcp_out.c, timers in tcp_timer.c, the raw API in tcp_api.c. */
#include <string.h>
#include "net/tcp_internal.h"
#include "tern/plan.h"

/* The sizes of this module's allocations, for the planner (tern/plan.h). */
TERN_PLAN_SIZE(tcp_pcb, sizeof(struct tern_tcp_pcb));
TERN_PLAN_SIZE(tcp_tw, sizeof(struct tcp_tw));
TERN_PLAN_SIZE(tcp_tw_max, TERN_TCP_TIMEWAIT_MAX);
TERN_PLAN_SIZE(tcp_range, sizeof(struct tcp_range));
TERN_PLAN_SIZE(tcp_range_count, TERN_TCP_RANGE_COUNT);
TERN_PLAN_SIZE(tcp_rcvbuf, TERN_TCP_RCVBUF);
TERN_PLAN_SIZE(tcp_sndbuf, TERN_TCP_SNDBUF);
TERN_PLAN_SIZE(tcp_ooo_per_conn, TERN_TCP_OOO_PER_CONN);
/* Static-only build (TERN_STATIC_* workload, config.h): the range pool and
 * the TIME-WAIT table once each; bare connections; receive rings. */
#if TERN_TCP_RANGE_COUNT > 0
TERN_STATIC_POOL(tcp_ranges, TERN_MEM_TCP_RANGES, sizeof(struct tcp_range) * TERN_TCP_RANGE_COUNT, 1);
#endif
TERN_STATIC_POOL(tcp_timewait, TERN_MEM_SOCKET, sizeof(struct tcp_tw) * TERN_TCP_TIMEWAIT_MAX, 1);
TERN_STATIC_POOL(tcp_pcb, TERN_MEM_SOCKET, sizeof(struct tern_tcp_pcb), TERN_STATIC_TCP_PENDING);
/* None when a board's rings all come from pools of its own sizes. */
#if TERN_STATIC_TCP_RX_RINGS > 0
TERN_STATIC_POOL(tcp_rx_ring, TERN_MEM_TCP_STREAM_RX, TERN_TCP_RCVBUF, TERN_STATIC_TCP_RX_RINGS);
#endif

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

#if TERN_DEBUG
void tcp_pcb_check_locked(const tern_tcp_pcb_t *pcb, const char *fn)
{
    TERN_CORE_LOCKED_AT(pcb != NULL ? pcb->stack : NULL, fn);
}
#endif

/* ---- demultiplexing table ---------------------------------------------------------
 * Every pcb on the list whose 4-tuple is known (a listener: its port) has a
 * slot in tcp->hash, found from its key by linear probing; removal shifts
 * the probe sequence back (no tombstones). The key is salted with the
 * stack's secret ISN key so that a peer cannot choose ports that pile
 * onto one slot. A pcb that finds no room (the table full, or linked
 * before its tuple is set) is counted in tcp->unhashed, and while any is,
 * tcp_lookup also walks the list (as it always did without the table). */

#define TCP_HASH_MASK ((uint32_t)TERN_TCP_HASH_SIZE - 1u)

static uint32_t tcp_hash_key(const tern_tcp_t *tcp, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip, uint16_t rport)
{
    uint32_t h = (rip ^ tcp->isn_key[0]) * 0x9E3779B1u;
    h ^= ((uint32_t)lport << 16 | rport) ^ tcp->isn_key[1];
    h *= 0x85EBCA6Bu;
    h ^= lip ^ (h >> 15);
    h *= 0xC2B2AE35u;
    return (h ^ (h >> 16)) & TCP_HASH_MASK;
}

/* A listener has no peer (remote port 0): keyed by its port alone. */
static uint32_t tcp_hash_home(const tern_tcp_t *tcp, const tern_tcp_pcb_t *pcb)
{
    if (pcb->remote_port == 0u)
        return tcp_hash_key(tcp, 0, pcb->local_port, 0, 0);
    return tcp_hash_key(tcp, pcb->local_ip, pcb->local_port, pcb->remote_ip, pcb->remote_port);
}

static int tcp_hash_slot(const tern_tcp_t *tcp, const tern_tcp_pcb_t *pcb, uint32_t *slot)
{
    for (uint32_t i = tcp_hash_home(tcp, pcb);; i = (i + 1u) & TCP_HASH_MASK) {
        if (tcp->hash[i] == NULL)
            return 0;
        if (tcp->hash[i] == pcb) {
            *slot = i;
            return 1;
        }
    }
}

void tcp_hash_add(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    tern_tcp_t *tcp = &stack->tcp;
    uint32_t i;
    if (tcp_hash_slot(tcp, pcb, &i))
        return;
    if (tcp->hash_used + 1u >= TERN_TCP_HASH_SIZE)
        return; /* one slot stays empty: probes end; this pcb stays unhashed */
    for (i = tcp_hash_home(tcp, pcb); tcp->hash[i] != NULL; i = (i + 1u) & TCP_HASH_MASK) {
    }
    tcp->hash[i] = pcb;
    tcp->hash_used++;
    if (tcp->unhashed != 0u)
        tcp->unhashed--;
}

/* Take pcb out (1) or say it was not in (0). */
static int tcp_hash_remove(tern_tcp_t *tcp, const tern_tcp_pcb_t *pcb)
{
    uint32_t i;
    if (!tcp_hash_slot(tcp, pcb, &i))
        return 0;
    tcp->hash[i] = NULL;
    tcp->hash_used--;
    /* Backward shift: move up every later entry of the run whose home is
     * not cyclically in (i, j]. */
    for (uint32_t j = (i + 1u) & TCP_HASH_MASK; tcp->hash[j] != NULL; j = (j + 1u) & TCP_HASH_MASK) {
        uint32_t k = tcp_hash_home(tcp, tcp->hash[j]);
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        tcp->hash[i] = tcp->hash[j];
        tcp->hash[j] = NULL;
        i = j;
    }
    return 1;
}

/* Family checks of tcp_lookup_at: l6/r6 NULL for an IPv4 segment. A
 * connection matches its own family only; an IPv4 listener takes IPv4, one
 * on :: (TF_V6) takes IPv6 and, unless TF_V6ONLY, IPv4 (RFC 4038 4.2's
 * dual-stack socket, as Linux does by default). */
#if TERN_IPV6
#define TCP_FAMILY_MATCH(c, l6, r6)                                                                          \
    ((l6) == NULL ? !((c)->flags & TF_V6)                                                                    \
                  : (((c)->flags & TF_V6) && ip6_equal(&(c)->remote_ip6, (r6)) && ip6_equal(&(c)->local_ip6, (l6))))
#define TCP_LISTENER_TAKES(c, l6) ((l6) == NULL ? !(TCP_PCB_FAM(c) & TF_V6ONLY) : ((c)->flags & TF_V6) != 0u)
#else
#define TCP_FAMILY_MATCH(c, l6, r6) 1
#define TCP_LISTENER_TAKES(c, l6) 1
#endif

static inline tern_tcp_pcb_t *tcp_lookup_at(tern_stack_t *stack, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip,
                                            uint16_t rport, const void *l6p, const void *r6p,
                                            tern_tcp_pcb_t **listener)
{
#if TERN_IPV6
    const tern_ip6_t *l6 = l6p, *r6 = r6p;
#else
    (void)l6p;
    (void)r6p;
#endif
    tern_tcp_t *tcp = &stack->tcp;
    for (uint32_t i = tcp_hash_key(tcp, lip, lport, rip, rport); tcp->hash[i] != NULL; i = (i + 1u) & TCP_HASH_MASK) {
        tern_tcp_pcb_t *c = tcp->hash[i];
        if (c->remote_port == rport && c->remote_ip == rip && c->local_port == lport && c->local_ip == lip &&
            c->state != TERN_TCP_LISTEN && c->state != TERN_TCP_CLOSED && TCP_FAMILY_MATCH(c, l6, r6))
            return c;
    }
    tern_tcp_pcb_t *l = NULL;
    for (uint32_t i = tcp_hash_key(tcp, 0, lport, 0, 0); tcp->hash[i] != NULL; i = (i + 1u) & TCP_HASH_MASK) {
        tern_tcp_pcb_t *c = tcp->hash[i];
        if (c->state == TERN_TCP_LISTEN && c->local_port == lport && TCP_LISTENER_TAKES(c, l6)) {
            l = c;
            break;
        }
    }
    if (tcp->unhashed != 0u) {
        /* Some pcb is on the list alone: the walk finds it (and files the
         * connection it finds: its tuple is final once a segment matches). */
        for (tern_tcp_pcb_t *c = tcp->pcbs; c != NULL; c = c->next) {
            if (c->local_port != lport)
                continue;
            if (c->state == TERN_TCP_LISTEN) {
                if (l == NULL && TCP_LISTENER_TAKES(c, l6))
                    l = c;
            } else if (c->remote_port == rport && c->remote_ip == rip && c->local_ip == lip &&
                       c->state != TERN_TCP_CLOSED && TCP_FAMILY_MATCH(c, l6, r6)) {
                tcp_hash_add(stack, c);
                return c;
            }
        }
    }
    if (listener != NULL)
        *listener = l;
    return NULL;
}

tern_tcp_pcb_t *tcp_lookup(tern_stack_t *stack, tern_ip4_t lip, uint16_t lport, tern_ip4_t rip, uint16_t rport,
                           tern_tcp_pcb_t **listener)
{
    return tcp_lookup_at(stack, lip, lport, rip, rport, NULL, NULL, listener);
}

#if TERN_IPV6
tern_tcp_pcb_t *tcp_lookup6(tern_stack_t *stack, const tern_ip6_t *lip, uint16_t lport, const tern_ip6_t *rip,
                            uint16_t rport, tern_tcp_pcb_t **listener)
{
    return tcp_lookup_at(stack, tcp_fold6(lip), lport, tcp_fold6(rip), rport, lip, rip, listener);
}
#endif

/* The shared pools, at the first listen or connect (as FreeRTOS+TCP does),
 * held until deinit: out-of-order descriptors (TCP_RANGES) and the
 * TIME-WAIT table (SOCKET, owner 0). */
int tcp_pools_ensure(tern_stack_t *stack)
{
    tern_tcp_t *tcp = &stack->tcp;
    if (tcp->tw != NULL)
        return TERN_OK;
#if TERN_TCP_RANGE_COUNT > 0
    tcp->range_pool = tern_mem_alloc(&stack->ledger, sizeof(struct tcp_range) * TERN_TCP_RANGE_COUNT,
                                   TERN_MEM_TCP_RANGES, TERN_OWNER_STACK);
    if (tcp->range_pool == NULL)
        return TERN_ERR_NOMEM;
    for (unsigned i = 0; i < TERN_TCP_RANGE_COUNT; i++)
        tcp->range_pool[i].next = i + 1u < TERN_TCP_RANGE_COUNT ? &tcp->range_pool[i + 1u] : NULL;
    tcp->range_free = tcp->range_pool;
    tcp->range_free_count = TERN_TCP_RANGE_COUNT;
#endif
    tcp->tw = tern_mem_zalloc(&stack->ledger, sizeof(struct tcp_tw) * TERN_TCP_TIMEWAIT_MAX, TERN_MEM_SOCKET,
                              TERN_OWNER_STACK);
    if (tcp->tw == NULL) {
        tern_mem_free(&stack->ledger, tcp->range_pool);
        tcp->range_pool = tcp->range_free = NULL;
        tcp->range_free_count = 0;
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
    tern_mem_free(&stack->ledger, tcp->range_pool);
    tern_mem_free(&stack->ledger, tcp->tw);
    tcp->range_pool = tcp->range_free = NULL;
    tcp->tw = NULL;
    memset(tcp->hash, 0, sizeof tcp->hash);
    tcp->hash_used = tcp->unhashed = 0;
}

/* ---- out-of-order descriptors ------------------------------------------------ */

struct tcp_range *tcp_range_get(tern_stack_t *stack)
{
    struct tcp_range *d = stack->tcp.range_free;
    if (d != NULL) {
        stack->tcp.range_free = d->next;
        stack->tcp.range_free_count--;
        d->next = NULL;
        uint16_t used = (uint16_t)(TERN_TCP_RANGE_COUNT - stack->tcp.range_free_count);
        if (used > stack->tcp.range_peak)
            stack->tcp.range_peak = used;
    }
    return d;
}

void tcp_range_put(tern_stack_t *stack, struct tcp_range *d)
{
    d->next = stack->tcp.range_free;
    stack->tcp.range_free = d;
    stack->tcp.range_free_count++;
}

void tcp_ooo_clear(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    while (pcb->ooo != NULL) {
        struct tcp_range *d = pcb->ooo;
        pcb->ooo = d->next;
        tcp_range_put(stack, d);
    }
    pcb->ooo_count = 0;
}

void tcp_sack_clear(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    while (pcb->sack != NULL) {
        struct tcp_range *d = pcb->sack;
        pcb->sack = d->next;
        tcp_range_put(stack, d);
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

void tcp_pcb_link(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    pcb->next = stack->tcp.pcbs;
    stack->tcp.pcbs = pcb;
    stack->tcp.unhashed++; /* until tcp_hash_add files it by its tuple */
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
    uint32_t slot;
    if (tcp_hash_slot(&stack->tcp, from, &slot))
        stack->tcp.hash[slot] = to; /* same tuple, same slot */
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

void tcp_rbuf_free(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    tern_mem_free(&stack->ledger, pcb->rbuf);
    pcb->rbuf = NULL;
    pcb->rbuf_len = 0;
    pcb->rbuf_head = 0;
}

int tcp_rbuf_alloc(tern_stack_t *stack, tern_tcp_pcb_t *pcb)
{
    pcb->rbuf = tern_mem_alloc(&stack->ledger, pcb->rbuf_size, TERN_MEM_TCP_STREAM_RX, pcb->owner);
    return pcb->rbuf != NULL ? TERN_OK : TERN_ERR_NOMEM;
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
            if (!tcp_hash_remove(tcp, pcb) && tcp->unhashed != 0u)
                tcp->unhashed--;
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
        stack->counters.tcp.timewait_evicted++;
        tcp->tw_count--;
    }
    slot->local_ip = pcb->local_ip;
    slot->remote_ip = pcb->remote_ip;
#if TERN_IPV6
    slot->v6 = TCP_PCB_V6(pcb) ? 1u : 0u;
    slot->local_ip6 = pcb->local_ip6;
    slot->remote_ip6 = pcb->remote_ip6;
#endif
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
