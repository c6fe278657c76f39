/* UDP (RFC 768, RFC 1122 4.1): input with every length and checksum check,
 * demultiplexing to pcbs, port unreachable for closed ports, output, and
 * ephemeral ports per RFC 6056. */
#include <string.h>
#include "net/ipv6_internal.h"
#include "net/udp_internal.h"
#include "net/wire_udp.h"

/* Which families a pcb takes (docs/sockets.md, "IPv6"): an IPv4 binding
 * IPv4 only; an IPv6 one IPv6, and IPv4 too when it is :: without
 * V6ONLY (dual stack). */
#if TERN_IPV6
static int udp_is_v6(const tern_sockaddr_t *a, uint16_t flags, int *takes_v4)
{
    int v6 = a->family == TERN_FAMILY_IP6;
    *takes_v4 = !v6 || (ip6_is_any(&a->addr6) && !(flags & TERN_UDP_F_V6ONLY));
    return v6;
}
#define UDP_TAKES_V4(p) ((p)->local.family != TERN_FAMILY_IP6 || \
                         (ip6_is_any(&(p)->local.addr6) && !((p)->flags & TERN_UDP_F_V6ONLY)))
#else
#define UDP_TAKES_V4(p) 1
#endif

void tern_udp_pcb_init(tern_udp_pcb_t *pcb, tern_udp_recv_fn recv, void *ctx)
{
    if (pcb == NULL)
        return;
    memset(pcb, 0, sizeof *pcb);
    pcb->recv = recv;
    pcb->ctx = ctx;
}

void tern_udp_set_error_fn(tern_udp_pcb_t *pcb, tern_udp_error_fn error)
{
    if (pcb != NULL)
        pcb->error = error;
}

/* Checksum over the pseudo header (RFC 768) and the datagram at udp. */
static uint16_t udp_checksum(tern_ip4_t src, tern_ip4_t dst, const uint8_t *udp, size_t len)
{
    return checksum_finish(checksum_add(checksum_pseudo(src, dst, IPV4_PROTO_UDP, len), udp, len));
}

/* ---- binding ------------------------------------------------------------- */

/* Would self, bound to (addr, port), clash with a bound pcb? Different
 * specific addresses or different interfaces never clash; two REUSEADDR
 * pcbs share. */
static int udp_port_clash(const tern_stack_t *stack, const tern_udp_pcb_t *self, const tern_sockaddr_t *local,
                          uint16_t port)
{
    tern_ip4_t addr = local->addr;
#if TERN_IPV6
    int new_v4, new_v6 = udp_is_v6(local, self->flags, &new_v4);
    if (new_v6)
        addr = 0u;
#endif
    for (const tern_udp_pcb_t *p = stack->udp.pcbs; p != NULL; p = p->next) {
        if (p == self || p->local.port != port)
            continue;
#if TERN_IPV6
        /* Families in common, then the addresses of that family. */
        int p_v4, p_v6 = udp_is_v6(&p->local, p->flags, &p_v4);
        int v6_clash = p_v6 && new_v6 &&
                       (ip6_is_any(&p->local.addr6) || ip6_is_any(&local->addr6) ||
                        ip6_equal(&p->local.addr6, &local->addr6));
        int v4_clash = p_v4 && new_v4 && (p->local.addr == 0u || addr == 0u || p->local.addr == addr);
        if (!v6_clash && !v4_clash)
            continue;
#else
        if (p->local.addr != 0u && addr != 0u && p->local.addr != addr)
            continue;
#endif
        if (p->nif != NULL && self->nif != NULL && p->nif != self->nif)
            continue;
        if (p->flags & self->flags & TERN_UDP_F_REUSEADDR)
            continue;
        return 1;
    }
    return 0;
}

/* RFC 6056 3.3.1 (algorithm 1, simple port randomization): a random start in
 * the range, then the next unused port, wrapping; 0 when all are used. An
 * ephemeral port is never shared, whatever the addresses. Ports are looked
 * at 64 at a time, one walk of the pcb list per window, so a nearly full
 * range costs 256 walks, not 16384. */
static uint16_t udp_ephemeral_port(tern_stack_t *stack)
{
    const uint32_t num = TERN_UDP_EPHEMERAL_LAST - TERN_UDP_EPHEMERAL_FIRST + 1u;
    uint32_t offset = stack->port->random32(stack->port->ctx) % num;
    for (uint32_t left = num; left > 0u;) {
        uint32_t span = num - offset < 64u ? num - offset : 64u;
        if (span > left)
            span = left;
        uint32_t first = TERN_UDP_EPHEMERAL_FIRST + offset;
        uint64_t used = 0;
        for (const tern_udp_pcb_t *p = stack->udp.pcbs; p != NULL; p = p->next) {
            if (p->local.port >= first && p->local.port < first + span)
                used |= (uint64_t)1u << (p->local.port - first);
        }
        for (uint32_t i = 0; i < span; i++) {
            if (!(used & ((uint64_t)1u << i)))
                return (uint16_t)(first + i);
        }
        left -= span;
        offset = offset + span == num ? 0u : offset + span;
    }
    return 0;
}

int tern_udp_bind(tern_stack_t *stack, tern_udp_pcb_t *pcb, const tern_sockaddr_t *local)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || pcb == NULL || local == NULL || (pcb->flags & UDP_F_LINKED_))
        return TERN_ERR_INVAL;
#if TERN_IPV6
    int family_ok = local->family == TERN_FAMILY_IP4 || local->family == TERN_FAMILY_IP6;
    if (!family_ok ||
        (local->family == TERN_FAMILY_IP6 && !ip6_is_any(&local->addr6) && !ipv6_is_ours(stack, &local->addr6)))
        return TERN_ERR_INVAL;
#else
    if (local->family != TERN_FAMILY_IP4)
        return TERN_ERR_INVAL;
#endif
    if (local->family == TERN_FAMILY_IP4 && local->addr != 0u && !ipv4_is_our_addr(stack, local->addr))
        return TERN_ERR_INVAL;
    uint16_t port = local->port;
    if (port == 0u) {
        port = udp_ephemeral_port(stack);
        if (port == 0u)
            return TERN_ERR_ADDRINUSE;
    } else if (udp_port_clash(stack, pcb, local, port)) {
        return TERN_ERR_ADDRINUSE;
    }
    pcb->local = *local;
    if (local->family != TERN_FAMILY_IP4)
        pcb->local.addr = 0u;
    pcb->local.port = port;
    pcb->flags |= UDP_F_LINKED_;
    pcb->next = stack->udp.pcbs;
    stack->udp.pcbs = pcb;
    return TERN_OK;
}

void tern_udp_unbind(tern_stack_t *stack, tern_udp_pcb_t *pcb)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || pcb == NULL || !(pcb->flags & UDP_F_LINKED_))
        return;
    for (tern_udp_pcb_t **pp = &stack->udp.pcbs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == pcb) {
            *pp = pcb->next;
            break;
        }
    }
    pcb->next = NULL;
    pcb->flags &= (uint16_t)~UDP_F_LINKED_;
#if TERN_IPV6
    mld_leave_all(stack, pcb); /* its groups go with it */
#endif
}

#if TERN_IPV6
int tern_udp_join_group(tern_stack_t *stack, tern_udp_pcb_t *pcb, const tern_ip6_t *group)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || pcb == NULL || group == NULL)
        return TERN_ERR_INVAL;
    if (!(pcb->flags & UDP_F_LINKED_) || pcb->local.family != TERN_FAMILY_IP6)
        return TERN_ERR_STATE;
    return mld_join(stack, pcb, group);
}

int tern_udp_leave_group(tern_stack_t *stack, tern_udp_pcb_t *pcb, const tern_ip6_t *group)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || pcb == NULL || group == NULL)
        return TERN_ERR_INVAL;
    return mld_leave(stack, pcb, group);
}
#endif

/* ---- input ------------------------------------------------------------- */

/* The pcb for a datagram, most specific first: connected (4) over bound to
 * the destination address (2) over bound to the interface (1). */
static tern_udp_pcb_t *udp_demux(const tern_stack_t *stack, const tern_netif_t *nif, const ipv4_rx_t *ip,
                                 uint16_t sport, uint16_t dport)
{
    int bcast = ip->dst_bcast || ip->link_bcast;
    tern_udp_pcb_t *best = NULL;
    unsigned best_score = 0;
    for (tern_udp_pcb_t *p = stack->udp.pcbs; p != NULL; p = p->next) {
        if (p->local.port != dport || p->recv == NULL || !UDP_TAKES_V4(p))
            continue;
        if (p->nif != NULL && p->nif != nif)
            continue;
        /* Broadcasts only for pcbs that asked (SO_BROADCAST), and, as on
         * BSD and Linux, not for pcbs bound to a unicast address. */
        if (bcast && (!(p->flags & TERN_UDP_F_BROADCAST) || p->local.addr != 0u))
            continue;
        if (p->local.addr != 0u && p->local.addr != ip->dst)
            continue;
        int connected = p->remote.port != 0u;
        if (connected && (p->remote.port != sport || p->remote.family != TERN_FAMILY_IP4 ||
                          (p->remote.addr != 0u && p->remote.addr != ip->src)))
            continue;
        unsigned score = 1u + (connected ? 4u : 0u) + (p->local.addr != 0u ? 2u : 0u) + (p->nif != NULL ? 1u : 0u);
        if (score > best_score) {
            best = p;
            best_score = score;
        }
    }
    return best;
}

static void udp_drop(tern_stack_t *stack, tern_netbuf_t *nb, uint32_t *counter)
{
    (*counter)++;
    tern_netbuf_release(&stack->netbufs, nb);
}

void udp_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, const ipv4_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    c->udp_rx++;
    udp_view_t udp;
    enum udp_check_result bad = udp_check(nb->data, nb->len, &udp);
    if (bad != UDP_CHECK_OK) {
        udp_drop(stack, nb, bad == UDP_CHECK_TRUNCATED ? &c->udp_drop_truncated : &c->udp_drop_len);
        return;
    }
    /* Shorter than what IP delivered: the rest is padding, trimmed. */
    if (udp.len < nb->len)
        (void)tern_netbuf_set_len(nb, udp.len);
    uint16_t sport = udp_sport(&udp);
    uint16_t dport = udp_dport(&udp);
    /* A zero checksum means the sender computed none (RFC 768). */
    int hw_checked = (nif->offload & TERN_OFFLOAD_RX_L4_CSUM) || (nb->flags & TERN_NETBUF_F_RX_CSUM_OK);
    if (udp_csum(&udp) != 0u && !hw_checked && udp_checksum(ip->src, ip->dst, udp.p, udp.len) != 0u) {
        udp_drop(stack, nb, &c->udp_drop_checksum);
        return;
    }
    tern_udp_pcb_t *pcb = udp_demux(stack, nif, ip, sport, dport);
    if (pcb == NULL) {
        c->udp_drop_no_port++;
        /* RFC 1122 4.1.3.1; icmp_send_error applies 3.2.2 (never for a
         * broadcast or multicast) and the rate limit. */
        icmp_send_error(stack, nif, udp.p, udp.len, ip, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT);
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    tern_udp_rx_info_t info;
    memset(&info, 0, sizeof info);
    info.from.addr = ip->src;
    info.from.port = sport;
    info.to = ip->dst;
    info.nif = nif;
    info.now = stack->now;
    (void)tern_netbuf_pull(nb, UDP_HDR_LEN);
    c->udp_delivered++;
    pcb->recv(stack, pcb->ctx, pcb, nb, &info);
}

void udp_icmp_error(tern_stack_t *stack, const uint8_t *msg, size_t len)
{
    /* icmp_input validated the quote; checked again, as the views promise
     * nothing about bytes they did not check. */
    icmp_view_t icmp;
    ipv4_view_t q;
    udp_view_t qudp;
    if (icmp_check(msg, len, &icmp) != 0 || icmp_quote(&icmp, &q) != 0 || ipv4_proto(&q) != IPV4_PROTO_UDP ||
        udp_check_quote(ipv4_payload(&q), ipv4_payload_len(&q), &qudp) != 0)
        return;
    tern_ip4_t qsrc = ipv4_src(&q), qdst = ipv4_dst(&q);
    uint16_t sport = udp_sport(&qudp), dport = udp_dport(&qudp);
    uint8_t type = icmp_type(&icmp), code = icmp_code(&icmp);
    int err;
    if (type == ICMP_DEST_UNREACH)
        err = (code == ICMP_UNREACH_PROTO || code == ICMP_UNREACH_PORT) ? TERN_ERR_REFUSED
              : code == ICMP_UNREACH_FRAG_NEEDED                        ? TERN_ERR_MSGSIZE
                                                                        : TERN_ERR_UNREACH;
    else if (type == ICMP_TIME_EXCEEDED || type == ICMP_PARAM_PROBLEM)
        err = TERN_ERR_UNREACH;
    else
        return; /* source quench, redirect: nothing for the application */
    /* Only a connected pcb can tell the error is its own (as BSD and Linux:
     * an unconnected socket may have sent to anyone). */
    for (tern_udp_pcb_t *p = stack->udp.pcbs; p != NULL; p = p->next) {
        if (p->local.port == sport && p->remote.port == dport && p->remote.family == TERN_FAMILY_IP4 &&
            p->remote.addr == qdst && (p->local.addr == 0u || p->local.addr == qsrc)) {
            stack->counters.udp_icmp_err_rx++;
            /* Upward through the pcb's callback, as TCP reports errors. */
            if (p->error != NULL)
                p->error(stack, p->ctx, p, err);
            return;
        }
    }
}

#if TERN_IPV6
/* The pcb for a datagram over IPv6, most specific first as udp_demux. A
 * datagram to a group reaches only a pcb that joined it (one: the most
 * specific, as for unicast). */
static tern_udp_pcb_t *udp6_demux(const tern_stack_t *stack, const ipv6_rx_t *ip, uint16_t sport, uint16_t dport)
{
    tern_udp_pcb_t *best = NULL;
    unsigned best_score = 0;
    for (tern_udp_pcb_t *p = stack->udp.pcbs; p != NULL; p = p->next) {
        if (p->local.port != dport || p->recv == NULL || p->local.family != TERN_FAMILY_IP6)
            continue;
        if (p->nif != NULL && p->nif != ip->ifs->nif)
            continue;
        if (ip->dst_mcast && !mld_is_member(stack, p, &ip->dst))
            continue;
        int bound = !ip6_is_any(&p->local.addr6);
        if (bound && !ip6_equal(&p->local.addr6, &ip->dst))
            continue;
        int connected = p->remote.port != 0u;
        if (connected && (p->remote.port != sport || p->remote.family != TERN_FAMILY_IP6 ||
                          !ip6_equal(&p->remote.addr6, &ip->src)))
            continue;
        unsigned score = 1u + (connected ? 4u : 0u) + (bound ? 2u : 0u) + (p->nif != NULL ? 1u : 0u);
        if (score > best_score) {
            best = p;
            best_score = score;
        }
    }
    return best;
}

void udp6_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    c->udp_rx++;
    c->udp6_rx++;
    udp_view_t udp;
    enum udp_check_result bad = udp_check(nb->data, nb->len, &udp);
    if (bad != UDP_CHECK_OK) {
        udp_drop(stack, nb, bad == UDP_CHECK_TRUNCATED ? &c->udp_drop_truncated : &c->udp_drop_len);
        return;
    }
    if (udp.len < nb->len)
        (void)tern_netbuf_set_len(nb, udp.len);
    /* RFC 8200 8.1: the checksum is mandatory over IPv6; a zero one is
     * dropped (RFC 6935/6936 zero-checksum tunnels are not spoken). */
    if (udp_csum(&udp) == 0u) {
        udp_drop(stack, nb, &c->udp6_drop_no_checksum);
        return;
    }
    if (checksum_finish(checksum_add(checksum_pseudo6(&ip->src, &ip->dst, IPV6_NH_UDP, udp.len), udp.p, udp.len)) !=
        0u) {
        udp_drop(stack, nb, &c->udp_drop_checksum);
        return;
    }
    uint16_t sport = udp_sport(&udp);
    uint16_t dport = udp_dport(&udp);
    tern_udp_pcb_t *pcb = udp6_demux(stack, ip, sport, dport);
    if (pcb == NULL) {
        c->udp_drop_no_port++;
        /* RFC 4443 3.1 code 4; icmpv6_send_error applies 2.4 (e) (never
         * about a packet to a group) and the rate limit. */
        icmpv6_send_error(stack, ip, (size_t)ip->hdr_len + udp.len, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, 0);
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    tern_udp_rx_info_t info;
    memset(&info, 0, sizeof info);
    info.from.family = TERN_FAMILY_IP6;
    info.from.addr6 = ip->src;
    info.from.port = sport;
    info.to6 = ip->dst;
    info.nif = ip->ifs->nif;
    info.now = stack->now;
    (void)tern_netbuf_pull(nb, UDP_HDR_LEN);
    c->udp_delivered++;
    pcb->recv(stack, pcb->ctx, pcb, nb, &info);
}

void udp6_icmp_error(tern_stack_t *stack, const uint8_t *msg, size_t len)
{
    /* type, code, 4 bytes, then the invoking packet: a fixed IPv6 header
     * naming UDP directly (a quote behind extension headers is not
     * followed) and the 8-byte UDP header. */
    if (len < ICMP6_HDR_LEN + IPV6_HDR_LEN + UDP_HDR_LEN)
        return;
    const uint8_t *q = msg + ICMP6_HDR_LEN;
    if ((q[0] >> 4) != IPV6_VERSION || q[IPV6_OFF_NEXT] != IPV6_NH_UDP)
        return;
    tern_ip6_t qsrc, qdst;
    memcpy(qsrc.b, q + IPV6_OFF_SRC, 16);
    memcpy(qdst.b, q + IPV6_OFF_DST, 16);
    udp_view_t qudp;
    if (udp_check_quote(q + IPV6_HDR_LEN, len - ICMP6_HDR_LEN - IPV6_HDR_LEN, &qudp) != 0)
        return;
    uint16_t sport = udp_sport(&qudp), dport = udp_dport(&qudp);
    uint8_t type = msg[ICMP6_OFF_TYPE], code = msg[ICMP6_OFF_CODE];
    int err;
    if (type == ICMP6_DEST_UNREACH)
        err = code == ICMP6_UNREACH_PORT ? TERN_ERR_REFUSED : TERN_ERR_UNREACH;
    else if (type == ICMP6_PACKET_TOO_BIG)
        err = TERN_ERR_MSGSIZE;
    else
        err = TERN_ERR_UNREACH; /* time exceeded, parameter problem */
    for (tern_udp_pcb_t *p = stack->udp.pcbs; p != NULL; p = p->next) {
        if (p->local.port == sport && p->remote.port == dport && p->remote.family == TERN_FAMILY_IP6 &&
            ip6_equal(&p->remote.addr6, &qdst) && p->local.family == TERN_FAMILY_IP6 &&
            (ip6_is_any(&p->local.addr6) || ip6_equal(&p->local.addr6, &qsrc))) {
            stack->counters.udp_icmp_err_rx++;
            if (p->error != NULL)
                p->error(stack, p->ctx, p, err);
            return;
        }
    }
}
#endif

/* ---- output ------------------------------------------------------------ */

tern_netbuf_t *tern_udp_netbuf_get(tern_stack_t *stack, size_t payload_len, uint32_t timeout_ms)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || payload_len > TERN_UDP_MAX_PAYLOAD)
        return NULL;
    size_t room = TERN_UDP_HEADROOM;
#if TERN_IPV6
    /* Room for the IPv6 header whenever the payload could go over IPv6:
     * the family is known only at the send. */
    if (payload_len <= TERN_UDP6_MAX_PAYLOAD)
        room = TERN_UDP6_HEADROOM;
#endif
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, room + payload_len, timeout_ms);
    if (nb != NULL)
        (void)tern_netbuf_pull(nb, room);
    return nb;
}

#if TERN_IPV6
static int udp6_send(tern_stack_t *stack, tern_udp_pcb_t *pcb, tern_netbuf_t *nb, const tern_sockaddr_t *dst)
{
    int r = TERN_ERR_INVAL;
    int linked = (pcb->flags & UDP_F_LINKED_) != 0u;
    if (dst->port == 0u || ip6_is_any(&dst->addr6) || (linked && pcb->local.family != TERN_FAMILY_IP6))
        goto drop;
    if (nb->len > TERN_UDP6_MAX_PAYLOAD) {
        r = TERN_ERR_MSGSIZE;
        goto drop;
    }
    if (nb->data < tern_netbuf_frame(nb) + TERN_UDP6_HEADROOM)
        goto drop;
    /* Route first: the source address is part of the checksum. */
    tern_ip6_t src = linked ? pcb->local.addr6 : ip6_any;
    tern_ipv6_if_t *ifs = ipv6_route(stack, &src, &dst->addr6, &src);
    if (ifs == NULL || (pcb->nif != NULL && ifs->nif != pcb->nif)) {
        stack->counters.ipv6_tx_noroute++;
        r = TERN_ERR_NOROUTE;
        goto drop;
    }
    if (!linked) {
        tern_sockaddr_t local = pcb->local;
        local.family = TERN_FAMILY_IP6;
        local.addr6 = ip6_any;
        r = tern_udp_bind(stack, pcb, &local);
        if (r != TERN_OK)
            goto drop;
    }
    (void)tern_netbuf_push(nb, UDP_HDR_LEN);
    uint8_t *p = nb->data;
    udp_write(p, pcb->local.port, dst->port, nb->len);
    /* Always in software (the offload flags speak of IPv4), never zero
     * (RFC 8200 8.1: a computed zero goes as all ones). */
    uint16_t sum = checksum_finish(checksum_add(checksum_pseudo6(&src, &dst->addr6, IPV6_NH_UDP, nb->len), p, nb->len));
    wire_wr16(p + UDP_OFF_CSUM, sum != 0u ? sum : 0xFFFFu);
    stack->counters.udp6_tx++;
    return ipv6_output(stack, ifs, nb, &src, &dst->addr6, IPV6_NH_UDP, ifs->hop_limit);
drop:
    tern_netbuf_release(&stack->netbufs, nb);
    return r;
}
#endif

static int udp_send(tern_stack_t *stack, tern_udp_pcb_t *pcb, tern_netbuf_t *nb, const tern_sockaddr_t *to)
{
    if (pcb == NULL || nb == NULL) {
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_INVAL;
    }
    if (to == NULL && pcb->remote.port == 0u) {
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_STATE;
    }
    const tern_sockaddr_t dst = to != NULL ? *to : pcb->remote;
#if TERN_IPV6
    if (dst.family == TERN_FAMILY_IP6)
        return udp6_send(stack, pcb, nb, &dst);
#endif
    /* An IPv4 destination needs a pcb that takes IPv4. */
    if (dst.family != TERN_FAMILY_IP4 || ((pcb->flags & UDP_F_LINKED_) && !UDP_TAKES_V4(pcb))) {
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_INVAL;
    }
    if (dst.port == 0u || dst.addr == 0u || nb->data < tern_netbuf_frame(nb) + TERN_UDP_HEADROOM) {
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_INVAL;
    }
    if (nb->len > TERN_UDP_MAX_PAYLOAD) {
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_MSGSIZE;
    }
    /* Route first: the source address is part of the checksum. */
    tern_netif_t *nif;
    tern_ip4_t src = pcb->local.addr;
    int unaddressed = pcb->nif != NULL && pcb->nif->addr == 0u;
    if (unaddressed) {
        nif = pcb->nif;
        if (dst.addr != IPV4_BROADCAST) {
            udp_drop(stack, nb, &stack->counters.ipv4_tx_noroute);
            return TERN_ERR_NOROUTE;
        }
    } else {
        tern_ip4_t nexthop;
        if (src == 0u && pcb->nif != NULL)
            src = pcb->nif->addr; /* restricts the route to that interface */
        nif = ipv4_route(stack, src, dst.addr, &nexthop);
        if (nif == NULL || (pcb->nif != NULL && nif != pcb->nif)) {
            udp_drop(stack, nb, &stack->counters.ipv4_tx_noroute);
            return TERN_ERR_NOROUTE;
        }
        if (src == 0u)
            src = nif->addr;
    }
    int bcast = dst.addr == IPV4_BROADCAST || dst.addr == ipv4_subnet_bcast(nif);
    if (bcast && !(pcb->flags & TERN_UDP_F_BROADCAST)) {
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_INVAL;
    }
    /* An unbound pcb gets an ephemeral port (as BSD's implicit bind). */
    if (!(pcb->flags & UDP_F_LINKED_)) {
        tern_sockaddr_t local = pcb->local;
        int r = tern_udp_bind(stack, pcb, &local);
        if (r != TERN_OK) {
            tern_netbuf_release(&stack->netbufs, nb);
            return r;
        }
    }
    (void)tern_netbuf_push(nb, UDP_HDR_LEN);
    uint8_t *p = nb->data;
    udp_write(p, pcb->local.port, dst.port, nb->len);
    if (!(nif->offload & TERN_OFFLOAD_TX_L4_CSUM)) {
        uint16_t sum = udp_checksum(src, dst.addr, p, nb->len);
        /* RFC 768: a computed zero is sent as all ones (zero means none). */
        wire_wr16(p + UDP_OFF_CSUM, sum != 0u ? sum : 0xFFFFu);
    } else {
        /* The partial sum the hardware completes (netif.h). */
        uint32_t sum = checksum_pseudo(src, dst.addr, IPV4_PROTO_UDP, nb->len);
        wire_wr16(p + UDP_OFF_CSUM, (uint16_t)~checksum_finish(sum));
    }
    /* Without an address there is no route: straight out of pcb->nif, to
     * the limited broadcast (checked above); the headroom was checked too. */
    if (unaddressed)
        return ipv4_output_via(stack, nif, nb, src, dst.addr, IPV4_PROTO_UDP, TERN_IP_DEFAULT_TTL);
    return ipv4_output(stack, nb, src, dst.addr, IPV4_PROTO_UDP, TERN_IP_DEFAULT_TTL);
}

int tern_udp_sendto(tern_stack_t *stack, tern_udp_pcb_t *pcb, tern_netbuf_t *nb, const tern_sockaddr_t *to)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL)
        return TERN_ERR_INVAL;
    int r = udp_send(stack, pcb, nb, to);
    if (r == TERN_OK)
        stack->counters.udp_tx++;
    else
        stack->counters.udp_tx_err++;
    return r;
}
