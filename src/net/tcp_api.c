/* The raw TCP API (tern/tcp.h): listen, connect, read, write, close and what the application may ask. */
#include <string.h>
#include "net/tcp_internal.h"
#include "util/fmt.h"

/* Static-only build: send rings of TERN_TCP_SNDBUF (config.h). */
#if TERN_STATIC_TCP_TX_RINGS > 0
TERN_STATIC_POOL(tcp_tx_ring, TERN_MEM_TCP_STREAM_TX, TERN_TCP_SNDBUF, TERN_STATIC_TCP_TX_RINGS);
#endif

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

/* Checks and pools for a listener on port taking the families of fam
 * (TF_V6, TF_V6ONLY); TERN_OK or why not. */
static int tcp_listen_check(tern_stack_t *stack, uint16_t port, unsigned backlog, uint32_t fam)
{
    if (stack == NULL || port == 0u || backlog == 0u)
        return TERN_ERR_INVAL;
    for (const tern_tcp_pcb_t *p = stack->tcp.pcbs; p != NULL; p = p->next)
        if (p->state == TERN_TCP_LISTEN && p->local_port == port && tcp_family_overlap(TCP_PCB_FAM(p), fam))
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

static tern_tcp_pcb_t *tcp_listen_fam(tern_stack_t *stack, uint16_t port, unsigned backlog, uint32_t fam,
                                      const tern_tcp_callbacks_t *cbs, void *arg, int *err)
{
    TERN_CORE_LOCKED(stack);
    int dummy;
    if (err == NULL)
        err = &dummy;
    *err = tcp_listen_check(stack, port, backlog, fam);
    if (*err != TERN_OK)
        return NULL;
    tern_tcp_pcb_t *pcb = tcp_pcb_new(stack, TERN_OWNER_STACK);
    if (pcb == NULL) {
        *err = TERN_ERR_NOMEM;
        return NULL;
    }
    pcb->flags |= fam;
    tcp_listen_start(pcb, port, backlog);
    tcp_hash_add(stack, pcb);
    pcb->cbs = cbs;
    pcb->arg = arg;
    return pcb;
}

tern_tcp_pcb_t *tern_tcp_listen(tern_stack_t *stack, uint16_t port, unsigned backlog, const tern_tcp_callbacks_t *cbs,
                                void *arg, int *err)
{
    return tcp_listen_fam(stack, port, backlog, 0, cbs, arg, err);
}

#if TERN_IPV6
tern_tcp_pcb_t *tern_tcp_listen6(tern_stack_t *stack, uint16_t port, unsigned backlog, unsigned flags,
                                 const tern_tcp_callbacks_t *cbs, void *arg, int *err)
{
    uint32_t fam = TF_V6 | ((flags & TERN_TCP_LISTEN_V6ONLY) ? TF_V6ONLY : 0u);
    return tcp_listen_fam(stack, port, backlog, fam, cbs, arg, err);
}
#endif

int tcp_pcb_listen(tern_stack_t *stack, tern_tcp_pcb_t *pcb, uint16_t port, unsigned backlog)
{
    int err = tcp_listen_check(stack, port, backlog, TCP_PCB_FAM(pcb));
    if (err != TERN_OK)
        return err;
    tcp_listen_start(pcb, port, backlog);
    tcp_pcb_link(stack, pcb);
    tcp_hash_add(stack, pcb);
    return TERN_OK;
}

static int tcp_pick_port(tern_stack_t *stack, uint16_t *lport);

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
    return tcp_pick_port(stack, lport);
}

/* An ephemeral port for an active open (the shared cursor). */
static int tcp_pick_port(tern_stack_t *stack, uint16_t *lport)
{
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
    tcp_hash_add(stack, pcb);
    pcb->t_idle = stack->now; /* a socket's structure may be older than its open */
    pcb->mss = tcp_pcb_our_mss(stack, pcb);
    tcp_pcb_start_seq(stack, pcb, NULL);
    pcb->state = TERN_TCP_SYN_SENT;
    tcp_pcb_set_wscale(pcb);
    stack->counters.tcp.active_opens++;
    (void)tcp_send_segment(stack, pcb, pcb->iss, 0, TCP_SYN);
    tcp_rexmit_timer_start(pcb, stack->now);
}

tern_tcp_pcb_t *tern_tcp_connect(tern_stack_t *stack, tern_ip4_t addr, uint16_t port, const tern_tcp_callbacks_t *cbs,
                                 void *arg, int *err)
{
    TERN_CORE_LOCKED(stack);
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

#if TERN_IPV6
/* tcp_connect_check for an IPv6 peer: the source address ipv6_route picks. */
static int tcp_connect_check6(tern_stack_t *stack, const tern_ip6_t *addr, uint16_t port, tern_ip6_t *local,
                              uint16_t *lport)
{
    if (stack == NULL || addr == NULL || port == 0u || ip6_is_any(addr) || ip6_is_mcast(addr) ||
        ip6_is_loopback(addr))
        return TERN_ERR_INVAL;
    if (ipv6_route(stack, &ip6_any, addr, local) == NULL)
        return TERN_ERR_NOROUTE;
    if (tcp_pools_ensure(stack) != TERN_OK)
        return TERN_ERR_NOMEM;
    return tcp_pick_port(stack, lport);
}

static void tcp_connect_start6(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tern_ip6_t *local, uint16_t lport,
                               const tern_ip6_t *addr, uint16_t port)
{
    pcb->flags |= TF_V6;
    pcb->local_ip6 = *local;
    pcb->remote_ip6 = *addr;
    tcp_connect_start(stack, pcb, tcp_fold6(local), lport, tcp_fold6(addr), port);
}

tern_tcp_pcb_t *tern_tcp_connect6(tern_stack_t *stack, const tern_ip6_t *addr, uint16_t port,
                                  const tern_tcp_callbacks_t *cbs, void *arg, int *err)
{
    TERN_CORE_LOCKED(stack);
    int dummy;
    if (err == NULL)
        err = &dummy;
    tern_ip6_t local;
    uint16_t lport = 0;
    *err = tcp_connect_check6(stack, addr, port, &local, &lport);
    if (*err != TERN_OK)
        return NULL;
    tern_tcp_pcb_t *pcb = tcp_pcb_new(stack, TERN_OWNER_STACK);
    if (pcb == NULL) {
        *err = TERN_ERR_NOMEM;
        return NULL;
    }
    pcb->cbs = cbs;
    pcb->arg = arg;
    tcp_connect_start6(stack, pcb, &local, lport, addr, port);
    return pcb;
}

int tcp_pcb_connect6(tern_stack_t *stack, tern_tcp_pcb_t *pcb, const tern_ip6_t *addr, uint16_t port)
{
    tern_ip6_t local;
    uint16_t lport = 0;
    int err = tcp_connect_check6(stack, addr, port, &local, &lport);
    if (err != TERN_OK)
        return err;
    tcp_pcb_link(stack, pcb);
    tcp_connect_start6(stack, pcb, &local, lport, addr, port);
    return TERN_OK;
}
#endif

void tern_tcp_set_callbacks(tern_tcp_pcb_t *pcb, const tern_tcp_callbacks_t *cbs, void *arg)
{
    TCP_PCB_LOCKED(pcb);
    pcb->cbs = cbs;
    pcb->arg = arg;
}

void *tern_tcp_arg(const tern_tcp_pcb_t *pcb)
{
    return pcb->arg;
}

void tern_tcp_set_owner(tern_tcp_pcb_t *pcb, unsigned owner)
{
    TCP_PCB_LOCKED(pcb);
    pcb->owner = (uint16_t)owner;
}

void tern_tcp_set_options(tern_tcp_pcb_t *pcb, unsigned opts)
{
    TCP_PCB_LOCKED(pcb);
    pcb->flags = (pcb->flags & ~(uint32_t)(TF_NODELAY | TF_KEEPALIVE | TF_NOSACK | TF_NOTS)) |
                 ((opts & TERN_TCP_OPT_NODELAY) ? TF_NODELAY : 0u) | ((opts & TERN_TCP_OPT_KEEPALIVE) ? TF_KEEPALIVE : 0u) |
                 ((opts & TERN_TCP_OPT_NOSACK) || !TERN_TCP_SACK ? TF_NOSACK : 0u) |
                 ((opts & TERN_TCP_OPT_NOTS) || !TERN_TCP_TIMESTAMPS ? TF_NOTS : 0u);
    pcb->ka_probes = 0;
}

void tern_tcp_set_default_options(tern_stack_t *stack, unsigned opts)
{
    TERN_CORE_LOCKED(stack);
    stack->tcp.default_opts = (uint16_t)(opts & 0xFFFFu);
}

void tern_tcp_range_usage(const tern_stack_t *stack, tern_tcp_range_usage_t *out)
{
    TERN_CORE_LOCKED(stack);
    const tern_tcp_t *tcp = &stack->tcp;
    out->count = TERN_TCP_RANGE_COUNT;
    out->in_use = tcp->range_pool != NULL ? (unsigned)(TERN_TCP_RANGE_COUNT - tcp->range_free_count) : 0u;
    out->peak = tcp->range_peak;
}

int tern_tcp_set_keepalive(tern_tcp_pcb_t *pcb, uint32_t idle_ms, uint32_t intvl_ms, unsigned count)
{
    TCP_PCB_LOCKED(pcb);
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

/* A ring below one maximum segment (config.h, TERN_TCP_MSS_MAX_) is allowed
 * (down to 536, RFC 1122 4.2.2.6's default MSS) but slow: said once per
 * stack through the log, naming the option. */
static void tcp_warn_small_ring(tern_stack_t *stack, const char *option, uint32_t size)
{
    if (stack->tcp.small_ring_logged)
        return;
    stack->tcp.small_ring_logged = 1u;
    char msg[160], num[24];
    size_t n = 0;
    static const char a[] = " is below one maximum segment (";
    static const char b[] = "): slow transfers (Nagle meets delayed ACKs); docs/config.md, ring sizes";
    size_t len = strlen(option);
    memcpy(msg, option, len);
    n += len;
    msg[n++] = ' ';
    len = fmt_u64(num, size);
    memcpy(msg + n, num, len);
    n += len;
    memcpy(msg + n, a, sizeof a - 1u);
    n += sizeof a - 1u;
    len = fmt_u64(num, (uint64_t)TERN_TCP_MSS_MAX_);
    memcpy(msg + n, num, len);
    n += len;
    memcpy(msg + n, b, sizeof b - 1u);
    n += sizeof b - 1u;
    msg[n] = '\0';
    stack_log(stack, TERN_LOG_WARN, msg);
}

int tern_tcp_set_bufsizes(tern_tcp_pcb_t *pcb, uint32_t rcvbuf, uint32_t sndbuf)
{
    TCP_PCB_LOCKED(pcb);
    if ((rcvbuf != 0u && (rcvbuf < 536u || rcvbuf > 0x3FFFFFFFu)) || (sndbuf != 0u && (sndbuf < 536u || sndbuf > 0x3FFFFFFFu)))
        return TERN_ERR_INVAL;
    /* The receive ring only before it exists and before our window scale
     * is fixed by the SYN (a larger ring would need a larger shift). */
    if (rcvbuf != 0u && (pcb->rbuf != NULL || (pcb->state != TERN_TCP_CLOSED && pcb->state != TERN_TCP_LISTEN &&
                                              (pcb->state != TERN_TCP_SYN_SENT || (rcvbuf >> pcb->rcv_wscale) > 0xFFFFu))))
        return TERN_ERR_STATE;
    if (sndbuf != 0u && pcb->sbuf != NULL)
        return TERN_ERR_STATE;
    if (rcvbuf != 0u && (long)rcvbuf < TERN_TCP_MSS_MAX_)
        tcp_warn_small_ring(pcb->stack, "TERN_SO_RCVBUF", rcvbuf);
    if (sndbuf != 0u && (long)sndbuf < TERN_TCP_MSS_MAX_)
        tcp_warn_small_ring(pcb->stack, "TERN_SO_SNDBUF", sndbuf);
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
    TCP_PCB_LOCKED(pcb);
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
    TCP_PCB_LOCKED(pcb);
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
    TCP_PCB_LOCKED(pcb);
    int r = tcp_can_send(pcb);
    if (r != TERN_OK)
        return r;
    if (pcb->sbuf == NULL || n > pcb->sbuf_size - pcb->sbuf_len)
        return TERN_ERR_INVAL;
    return tcp_commit(pcb, n);
}

int tern_tcp_write(tern_tcp_pcb_t *pcb, const void *data, size_t len)
{
    TCP_PCB_LOCKED(pcb);
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
    TCP_PCB_LOCKED(pcb);
    return pcb->rbuf_len;
}

int tern_tcp_peek(tern_tcp_pcb_t *pcb, const uint8_t **span)
{
    TCP_PCB_LOCKED(pcb);
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
    if (SEQ_GT(edge, pcb->rcv_adv) && edge - pcb->rcv_adv >= step) {
        /* A window below one segment held the peer back (its sender SWS
         * rule): this ACK alone frees it, and if it is lost the peer waits
         * for its persist timer (200 ms or more; RFC 9293 3.8.6.1). Sent
         * twice: one frame more, at a loss rate p the stall is p^2. */
        int held = !SEQ_GT(pcb->rcv_adv, pcb->rcv_nxt) || pcb->rcv_adv - pcb->rcv_nxt < pcb->mss;
        if (!held && pcb->stack->tcp.batch != 0u) {
            /* Read inside an input batch (a callback): the window goes
             * with the batch's cumulative ACK. */
            pcb->flags |= TF_ACK_BATCH;
            pcb->stack->tcp.batch_acks = 1;
            return;
        }
        if (tcp_send_ack(pcb->stack, pcb) == TERN_OK && held)
            (void)tcp_send_ack(pcb->stack, pcb);
    }
}

int tern_tcp_consume(tern_tcp_pcb_t *pcb, size_t n)
{
    TCP_PCB_LOCKED(pcb);
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
    TCP_PCB_LOCKED(pcb);
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
    TCP_PCB_LOCKED(pcb);
    return (pcb->flags & TF_FIN_RCVD) && pcb->rbuf_len == 0u;
}

int tern_tcp_shutdown(tern_tcp_pcb_t *pcb)
{
    TCP_PCB_LOCKED(pcb);
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
        tcp_send_raw_pcb(stack, pcb, pcb->snd_nxt, 0, TCP_RST, 0);
        stack->counters.tcp.rst_tx++;
        break;
    default:
        break;
    }
    stack->counters.tcp.aborted++;
    tcp_pcb_free(stack, pcb);
}

void tern_tcp_abort(tern_tcp_pcb_t *pcb)
{
    TCP_PCB_LOCKED(pcb);
    if (pcb->flags & TF_DEAD)
        return;
    pcb->flags |= TF_APP_CLOSED;
    tcp_pcb_reset(pcb->stack, pcb);
}

int tern_tcp_close(tern_tcp_pcb_t *pcb)
{
    TCP_PCB_LOCKED(pcb);
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
    TCP_PCB_LOCKED(pcb);
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
    TERN_CORE_LOCKED(stack);
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
#if TERN_IPV6
        if (TCP_PCB_V6(p)) {
            r->family = TERN_TCP_FAMILY_IP6;
            r->local_addr6 = p->local_ip6;
            r->remote_addr6 = p->remote_ip6;
            r->local_addr = 0;
            r->remote_addr = 0;
        }
#endif
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
#if TERN_IPV6
            if (t->v6) {
                r->family = TERN_TCP_FAMILY_IP6;
                r->local_addr6 = t->local_ip6;
                r->remote_addr6 = t->remote_ip6;
                r->local_addr = 0;
                r->remote_addr = 0;
            }
#endif
        }
        n++;
    }
    return n;
}

const tern_tcp_stats_t *tern_tcp_stats(const tern_stack_t *stack)
{
    return &stack->counters.tcp;
}

void tern_tcp_set_timewait(tern_stack_t *stack, uint32_t ms)
{
    TERN_CORE_LOCKED(stack);
    stack->tcp.timewait_ms = ms;
}
