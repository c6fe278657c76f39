/* IPv4 input and output (RFC 791, RFC 1122 3.2.1, 3.3.4, 3.3.6).
 * A host only: no forwarding. Optional bounded reassembly below. */
#include <string.h>
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "net/udp_internal.h"
#include "tern/plan.h"

void ipv4_init(tern_stack_t *stack)
{
    memset(&stack->ipv4, 0, sizeof stack->ipv4);
    /* A random start keeps identifications from leaking how many datagrams
     * we sent since boot (RFC 6864 discusses the field's uses). */
    stack->ipv4.next_id = (uint16_t)stack->port->random32(stack->port->ctx);
}

#if TERN_IP_REASSEMBLY
static void reass_free(tern_stack_t *stack, unsigned i);
static tern_netbuf_t *ipv4_reass_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, ipv4_rx_t *rx);
#endif

void ipv4_deinit(tern_stack_t *stack)
{
#if TERN_IP_REASSEMBLY
    for (unsigned i = 0; i < TERN_IP_REASS_MAX_DATAGRAMS; i++) {
        if (stack->ipv4.reass[i] != NULL)
            reass_free(stack, i);
    }
#else
    (void)stack;
#endif
}

tern_ip4_t ipv4_subnet_bcast(const tern_netif_t *nif)
{
    /* /31 and /32 networks have no broadcast address (RFC 3021). */
    if (nif->addr == 0u || nif->netmask >= 0xFFFFFFFEu)
        return 0;
    return nif->addr | ~nif->netmask;
}

int ipv4_is_unicast_host(tern_ip4_t ip)
{
    return tern_ip4_is_unicast_host(ip);
}

int ipv4_is_our_addr(const tern_stack_t *stack, tern_ip4_t ip)
{
    for (const tern_netif_t *nif = stack->netifs; nif != NULL; nif = nif->next) {
        if (nif->addr != 0u && nif->addr == ip)
            return 1;
    }
    return 0;
}

/* RFC 791 3.1: options are EOL, NOP, or type-length-value with a length of
 * at least 2 that stays inside the header. */
static int ipv4_options_valid(const uint8_t *opt, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t type = opt[i];
        if (type == IPV4_OPT_EOL)
            return 1; /* end of option list; the rest is padding */
        if (type == IPV4_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1u >= len)
            return 0;
        uint8_t olen = opt[i + 1u];
        if (olen < 2u || olen > len - i)
            return 0;
        i += olen;
    }
    return 1;
}

static void ipv4_drop(tern_stack_t *stack, tern_netbuf_t *nb, uint32_t *counter)
{
    (*counter)++;
    tern_netbuf_release(&stack->netbufs, nb);
}

/* Hand a complete datagram (nb->data at the IP header) to its protocol. */
static void ipv4_deliver(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, ipv4_rx_t *rx)
{
    tern_counters_t *c = &stack->counters;
    (void)tern_netbuf_pull(nb, rx->hdr_len);
    switch (rx->proto) {
    case IPV4_PROTO_ICMP:
        c->ipv4_delivered++;
        icmp_input(stack, nif, nb, rx);
        break;
    case IPV4_PROTO_TCP:
        c->ipv4_delivered++;
        tcp_input(stack, nif, nb, rx);
        break;
    case IPV4_PROTO_UDP:
        c->ipv4_delivered++;
        udp_input(stack, nif, nb, rx);
        break;
    default:
        /* RFC 1122 3.2.2.1: protocol unreachable. */
        c->ipv4_drop_proto++;
        icmp_send_error(stack, nif, nb->data, nb->len, rx, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO);
        tern_netbuf_release(&stack->netbufs, nb);
        break;
    }
}

/* Every RFC 791 / RFC 1122 check on a received header, in order; fills rx
 * and returns NULL when the packet is for us, else the drop counter. Trims
 * Ethernet padding. */
static uint32_t *ipv4_validate(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, ipv4_rx_t *rx)
{
    tern_counters_t *c = &stack->counters;
    ipv4_view_t ip;
    switch (ipv4_check(nb->data, nb->len, &ip)) {
    case IPV4_CHECK_OK:
        break;
    case IPV4_CHECK_TRUNCATED:
        return &c->ipv4_drop_truncated;
    case IPV4_CHECK_VERSION:
        return &c->ipv4_drop_version;
    case IPV4_CHECK_IHL:
        return &c->ipv4_drop_ihl;
    case IPV4_CHECK_TOTAL_SHORT:
        return &c->ipv4_drop_hdr_len;
    default:
        return &c->ipv4_drop_len;
    }
    /* Shorter than the frame: Ethernet padding (minimum frame 60 bytes). */
    if (ip.len < nb->len)
        (void)tern_netbuf_set_len(nb, ip.len);
    int hw_checked = (nif->offload & TERN_OFFLOAD_RX_IPV4_CSUM) || (nb->flags & TERN_NETBUF_F_RX_CSUM_OK);
    if (!hw_checked && checksum_inet(ip.p, ip.hdr_len) != 0u)
        return &c->ipv4_drop_checksum;
    if (ipv4_options_len(&ip) != 0u && !ipv4_options_valid(ipv4_options(&ip), ipv4_options_len(&ip)))
        return &c->ipv4_drop_options;

    rx->hdr = ip.p;
    rx->hdr_len = ip.hdr_len;
    rx->frag = ipv4_frag(&ip);
    rx->ttl = ipv4_ttl(&ip);
    rx->proto = ipv4_proto(&ip);
    rx->src = ipv4_src(&ip);
    rx->dst = ipv4_dst(&ip);
    rx->link_bcast = (nb->flags & TERN_NETBUF_F_LINK_BCAST) != 0u;
    tern_ip4_t subnet_bcast = ipv4_subnet_bcast(nif);
    rx->dst_bcast = rx->dst == IPV4_BROADCAST || (subnet_bcast != 0u && rx->dst == subnet_bcast);

    /* Strong end system (RFC 1122 3.3.4.2): the receiving interface's own
     * addresses only; no forwarding, no multicast group joined. */
    if (!rx->dst_bcast && (nif->addr == 0u || rx->dst != nif->addr))
        return &c->ipv4_drop_not_for_us;
    /* RFC 1122 3.3.6: a link broadcast must carry an IP broadcast. */
    if (rx->link_bcast && !rx->dst_bcast)
        return &c->ipv4_drop_bcast_mismatch;
    /* RFC 1122 3.2.1.3: a source names one host. 0.0.0.0 stays legal (a
     * host without an address yet, e.g. a DHCP client). */
    uint32_t src_net = rx->src >> 24;
    if (rx->src == IPV4_BROADCAST || src_net == 127u || src_net >= 224u ||
        (subnet_bcast != 0u && rx->src == subnet_bcast))
        return &c->ipv4_drop_bad_src;
    /* LAND: one of our own addresses as the source of a packet from the wire. */
    if (ipv4_is_our_addr(stack, rx->src))
        return &c->ipv4_drop_land;
    return NULL;
}

void ipv4_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb)
{
    tern_counters_t *c = &stack->counters;
    c->ipv4_rx++;
    ipv4_rx_t rx;
    uint32_t *drop = ipv4_validate(stack, nif, nb, &rx);
    if (drop != NULL) {
        ipv4_drop(stack, nb, drop);
        return;
    }
    if ((rx.frag & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) != 0u) {
#if TERN_IP_REASSEMBLY
        nb = ipv4_reass_input(stack, nif, nb, &rx);
        if (nb == NULL)
            return;
#else
        ipv4_drop(stack, nb, &c->ipv4_drop_fragment);
        return;
#endif
    }
    ipv4_deliver(stack, nif, nb, &rx);
}


/* ---- reassembly (RFC 791 3.2, RFC 815-style bookkeeping) ---------------- */
#if TERN_IP_REASSEMBLY

/* One bit per 8-byte fragment block of the budget. */
#define REASS_BLOCKS ((TERN_IP_REASS_MAX_BYTES + 7u) / 8u)
#define REASS_MAP_BYTES ((REASS_BLOCKS + 7u) / 8u)
/* Largest payload we reassemble: the byte budget. A datagram that then
 * fits one network buffer is delivered like any packet; a larger one can
 * only be an echo request (answered from the reassembly block itself). */
#define REASS_LIMIT TERN_IP_REASS_MAX_BYTES

/* Ledger block (IP_REASSEMBLY): this header, then cap payload bytes. It
 * grows with realloc as fragments extend the datagram. */
struct tern_ip_reass {
    tern_ip4_t src;
    tern_ip4_t dst;
    uint32_t deadline;
    uint16_t id;
    uint16_t total;   /* payload length, known once the last fragment came */
    uint16_t cap;     /* payload bytes allocated in data */
    uint16_t have;    /* payload bytes received (no overlaps, so no double count) */
    uint16_t max_end; /* highest fragment end seen */
    uint8_t proto;
    uint8_t hdr_len;  /* the first fragment's header length; 0 until it came */
    uint8_t link_bcast;
    uint8_t hdr[60];
    uint8_t map[REASS_MAP_BYTES];
    uint8_t data[];
};
/* For the planner (tern/plan.h): a datagram being reassembled. */
TERN_PLAN_SIZE(ip_reass, sizeof(struct tern_ip_reass));
TERN_PLAN_SIZE(ip_reassembly, TERN_IP_REASSEMBLY);
/* Static-only build: a slot per datagram, each for the whole byte budget
 * (its realloc then never moves). */
TERN_STATIC_POOL(ip_reass, TERN_MEM_IP_REASSEMBLY, sizeof(struct tern_ip_reass) + REASS_LIMIT,
                 TERN_IP_REASS_MAX_DATAGRAMS);

static void reass_free(tern_stack_t *stack, unsigned i)
{
    struct tern_ip_reass *r = stack->ipv4.reass[i];
    stack->ipv4.reass_bytes -= r->cap;
    tern_mem_free(&stack->ledger, r);
    stack->ipv4.reass[i] = NULL;
}

/* Drop datagram i and the fragment in hand, counting why. */
static tern_netbuf_t *reass_abort(tern_stack_t *stack, unsigned i, tern_netbuf_t *nb, uint32_t *counter)
{
    (*counter)++;
    reass_free(stack, i);
    tern_netbuf_release(&stack->netbufs, nb);
    return NULL;
}

static int reass_slot(tern_stack_t *stack, const ipv4_rx_t *rx)
{
    int free_slot = -1;
    unsigned oldest = 0;
    for (unsigned i = 0; i < TERN_IP_REASS_MAX_DATAGRAMS; i++) {
        const struct tern_ip_reass *r = stack->ipv4.reass[i];
        if (r == NULL) {
            if (free_slot < 0)
                free_slot = (int)i;
        } else if (r->src == rx->src && r->dst == rx->dst && r->id == wire_rd16(rx->hdr + IPV4_OFF_ID) &&
                   r->proto == rx->proto) {
            return (int)i;
        } else if (stack->ipv4.reass[oldest] == NULL ||
                   (int32_t)(r->deadline - stack->ipv4.reass[oldest]->deadline) < 0) {
            oldest = i; /* (slot 0 may be free: only a held slot is a candidate) */
        }
    }
    if (free_slot < 0) {
        /* Table full: the oldest datagram goes (a flood of first fragments
         * then costs a legitimate datagram only if it is the oldest, and
         * the table never stays blocked until a timeout). Deadlines are
         * start + a fixed timeout, so the earliest is the oldest. */
        stack->counters.ipv4_reass_evicted++;
        reass_free(stack, oldest);
        free_slot = (int)oldest;
    }
    struct tern_ip_reass *r =
        tern_mem_zalloc(&stack->ledger, sizeof *r, TERN_MEM_IP_REASSEMBLY, TERN_OWNER_STACK);
    if (r == NULL)
        return -2;
    r->src = rx->src;
    r->dst = rx->dst;
    r->id = wire_rd16(rx->hdr + IPV4_OFF_ID);
    r->proto = rx->proto;
    /* RFC 1122 3.3.2: a fixed timeout from the first fragment seen. */
    r->deadline = stack->now + TERN_IP_REASS_TIMEOUT_MS;
    stack->ipv4.reass[free_slot] = r;
    return free_slot;
}

/* Take one fragment (consumed). Returns the whole datagram, in a new buffer
 * with data at its IP header and rx rewritten to match, once complete. */
static tern_netbuf_t *ipv4_reass_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, ipv4_rx_t *rx)
{
    tern_counters_t *c = &stack->counters;
    uint32_t offset = (uint32_t)(rx->frag & IPV4_OFFSET_MASK) * 8u;
    int more = (rx->frag & IPV4_FLAG_MF) != 0u;
    uint32_t plen = (uint32_t)nb->len - rx->hdr_len;
    uint32_t end = offset + plen;
    /* RFC 791: all fragments but the last carry a multiple of 8 bytes. */
    if (more && (plen == 0u || (plen & 7u) != 0u)) {
        ipv4_drop(stack, nb, &c->ipv4_reass_bad_frag);
        return NULL;
    }
    /* Beyond 65535 bytes in all (the "ping of death"). */
    if (end + IPV4_HDR_LEN > 65535u) {
        ipv4_drop(stack, nb, &c->ipv4_reass_too_big);
        return NULL;
    }
    int slot = reass_slot(stack, rx);
    if (slot < 0) {
        ipv4_drop(stack, nb, &c->ipv4_reass_nomem);
        return NULL;
    }
    c->ipv4_frag_rx++;
    unsigned i = (unsigned)slot;
    struct tern_ip_reass *r = stack->ipv4.reass[i];
    if (end > REASS_LIMIT)
        return reass_abort(stack, i, nb, &c->ipv4_reass_too_big);
    /* The last fragment fixes the length; nothing may contradict it. */
    if (!more) {
        if ((r->total != 0u && r->total != end) || r->max_end > end)
            return reass_abort(stack, i, nb, &c->ipv4_reass_bad_frag);
        r->total = (uint16_t)end;
    } else if (r->total != 0u && end > r->total) {
        return reass_abort(stack, i, nb, &c->ipv4_reass_bad_frag);
    }
    if (end > r->cap) {
        if (stack->ipv4.reass_bytes - r->cap + end > TERN_IP_REASS_MAX_BYTES)
            return reass_abort(stack, i, nb, &c->ipv4_reass_too_big);
        struct tern_ip_reass *g = tern_mem_realloc(&stack->ledger, r, sizeof *r + end);
        if (g == NULL)
            return reass_abort(stack, i, nb, &c->ipv4_reass_nomem);
        stack->ipv4.reass_bytes += end - g->cap;
        g->cap = (uint16_t)end;
        stack->ipv4.reass[i] = r = g;
    }
    /* Overlaps (and duplicates) are refused outright: overlapping fragments
     * are how filters get evaded (RFC 1858, RFC 5722 for IPv6). */
    uint32_t first = offset / 8u, last = (end + 7u) / 8u;
    for (uint32_t b = first; b < last; b++) {
        if (r->map[b >> 3] & (1u << (b & 7u)))
            return reass_abort(stack, i, nb, &c->ipv4_reass_overlap);
    }
    for (uint32_t b = first; b < last; b++)
        r->map[b >> 3] = (uint8_t)(r->map[b >> 3] | (1u << (b & 7u)));
    if (plen != 0u)
        memcpy(r->data + offset, nb->data + rx->hdr_len, plen);
    r->have = (uint16_t)(r->have + plen);
    if (end > r->max_end)
        r->max_end = (uint16_t)end;
    if (offset == 0u) {
        r->hdr_len = (uint8_t)rx->hdr_len;
        memcpy(r->hdr, rx->hdr, rx->hdr_len);
    }
    r->link_bcast |= rx->link_bcast;
    tern_netbuf_release(&stack->netbufs, nb);
    /* Disjoint pieces inside [0, total) adding up to total cover it all. */
    if (r->total == 0u || r->hdr_len == 0u || r->have != r->total)
        return NULL;
    size_t dgram = (size_t)r->hdr_len + r->total;
    if (ETH_HDR_LEN + dgram > TERN_NETBUF_FRAME_SIZE || (r->proto == IPV4_PROTO_ICMP && dgram > nif->mtu)) {
        /* Beyond one buffer: only an echo request is of use (RFC 1122
         * 3.2.2.6 asks for replies as long as the request); it is answered
         * from this block, in fragments (so is one that fits a large
         * buffer but not one packet: the reply could not go whole). */
        if (r->proto == IPV4_PROTO_ICMP) {
            rx->hdr = r->hdr;
            rx->hdr_len = r->hdr_len;
            rx->frag = 0;
            rx->ttl = r->hdr[IPV4_OFF_TTL];
            rx->link_bcast = r->link_bcast;
            c->ipv4_reass_ok++;
            c->ipv4_delivered++;
            icmp_input_large(stack, nif, r->data, r->total, rx);
        } else {
            c->ipv4_reass_too_big++;
        }
        reass_free(stack, i);
        return NULL;
    }
    tern_netbuf_t *out = tern_netbuf_get(&stack->netbufs, ETH_HDR_LEN + dgram, 0);
    if (out == NULL) {
        c->ipv4_reass_nomem++;
        reass_free(stack, i);
        return NULL;
    }
    (void)tern_netbuf_pull(out, ETH_HDR_LEN);
    uint8_t *p = out->data;
    memcpy(p, r->hdr, r->hdr_len);
    memcpy(p + r->hdr_len, r->data, r->total);
    wire_wr16(p + IPV4_OFF_TOTAL_LEN, (uint16_t)dgram);
    wire_wr16(p + IPV4_OFF_FRAG, 0);
    wire_wr16(p + IPV4_OFF_CSUM, 0);
    wire_wr16(p + IPV4_OFF_CSUM, checksum_inet(p, r->hdr_len));
    rx->hdr = p;
    rx->hdr_len = r->hdr_len;
    rx->frag = 0;
    rx->ttl = p[IPV4_OFF_TTL];
    rx->link_bcast = r->link_bcast;
    c->ipv4_reass_ok++;
    reass_free(stack, i);
    return out;
}

static uint32_t reass_poll(tern_stack_t *stack, uint32_t now)
{
    uint32_t next = UINT32_MAX;
    for (unsigned i = 0; i < TERN_IP_REASS_MAX_DATAGRAMS; i++) {
        struct tern_ip_reass *r = stack->ipv4.reass[i];
        if (r == NULL)
            continue;
        if (!net_time_reached(now, r->deadline)) {
            if (r->deadline - now < next)
                next = r->deadline - now;
            continue;
        }
        stack->counters.ipv4_reass_timeout++;
        /* RFC 1122 3.3.2: time exceeded (code 1) if fragment zero came;
         * it quotes that fragment's header and first 8 bytes. */
        const tern_netif_t *nif = NULL;
        for (const tern_netif_t *n = stack->netifs; n != NULL; n = n->next) {
            if (n->addr != 0u && n->addr == r->dst)
                nif = n;
        }
        if (r->hdr_len != 0u && nif != NULL) {
            ipv4_rx_t rx;
            memset(&rx, 0, sizeof rx);
            rx.hdr = r->hdr;
            rx.hdr_len = r->hdr_len;
            rx.src = r->src;
            rx.dst = r->dst;
            rx.proto = r->proto;
            rx.link_bcast = r->link_bcast;
            rx.frag = IPV4_FLAG_MF;
            icmp_send_error(stack, nif, r->data, r->cap < ICMP_QUOTE_DATA ? r->cap : ICMP_QUOTE_DATA, &rx,
                            ICMP_TIME_EXCEEDED, ICMP_TIMEX_REASS);
        }
        reass_free(stack, i);
    }
    return next;
}
#endif /* TERN_IP_REASSEMBLY */

tern_netif_t *ipv4_route(const tern_stack_t *stack, tern_ip4_t src, tern_ip4_t dst, tern_ip4_t *nexthop)
{
    uint32_t net = dst >> 24;
    /* No loopback interface and no multicast: nothing to send these to. */
    if (dst == 0u || net == 127u || (net >= 224u && dst != IPV4_BROADCAST) || ipv4_is_our_addr(stack, dst))
        return NULL;
    /* Directly connected first (longest match is moot with one subnet per
     * interface), then the first interface with a default gateway. */
    for (tern_netif_t *nif = stack->netifs; nif != NULL; nif = nif->next) {
        if (nif->addr == 0u || (src != 0u && src != nif->addr))
            continue;
        if (dst == IPV4_BROADCAST || (dst & nif->netmask) == (nif->addr & nif->netmask)) {
            *nexthop = dst;
            return nif;
        }
    }
    for (tern_netif_t *nif = stack->netifs; nif != NULL; nif = nif->next) {
        if (nif->addr == 0u || nif->gateway == 0u || (src != 0u && src != nif->addr))
            continue;
        *nexthop = nif->gateway;
        return nif;
    }
    return NULL;
}

int ipv4_output_via(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, tern_ip4_t src, tern_ip4_t dst,
                    uint8_t proto, uint8_t ttl)
{
    tern_counters_t *c = &stack->counters;
    tern_ip4_t nexthop = dst;
    if (nif == NULL) {
        nif = ipv4_route(stack, src, dst, &nexthop);
        if (nif == NULL) {
            ipv4_drop(stack, nb, &c->ipv4_tx_noroute);
            return TERN_ERR_NOROUTE;
        }
    }
    if (!nif->link_up) {
        ipv4_drop(stack, nb, &c->ipv4_tx_linkdown);
        return TERN_ERR_LINKDOWN;
    }
    /* We never fragment: DF is set (RFC 1122 3.3.3 lets a host refuse).
     * A TSO packet is cut into MTU-sized ones by the driver (netif.h). */
    if ((size_t)nb->len + IPV4_HDR_LEN > nif->mtu &&
        (nb->tso_mss == 0u || !(nif->offload & TERN_OFFLOAD_TX_TSO) ||
         (size_t)nb->len + IPV4_HDR_LEN > nif->tso_max)) {
        ipv4_drop(stack, nb, &c->ipv4_tx_msgsize);
        return TERN_ERR_MSGSIZE;
    }
    if (tern_netbuf_push(nb, IPV4_HDR_LEN) != TERN_OK) {
        stack_log(stack, TERN_LOG_ERROR, "ipv4: no headroom for the IP header");
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_INVAL;
    }
    uint8_t *p = nb->data;
    /* The only IPv4 header we build. RFC 1122 3.2.1.7: never a TTL of 0. */
    ipv4_write(p, nb->len, &stack->ipv4.next_id, ttl != 0u ? ttl : (uint8_t)TERN_IP_DEFAULT_TTL, proto,
               src != 0u ? src : nif->addr, dst);
    if (!(nif->offload & TERN_OFFLOAD_TX_IPV4_CSUM))
        wire_wr16(p + IPV4_OFF_CSUM, checksum_inet(p, IPV4_HDR_LEN));
    c->ipv4_tx++;
    if (dst == IPV4_BROADCAST || dst == ipv4_subnet_bcast(nif))
        nexthop = IPV4_BROADCAST;
    return netif_output_ipv4(stack, nif, nb, nexthop);
}

#if TERN_IP_REASSEMBLY
int ipv4_output_fragments(tern_stack_t *stack, const uint8_t *payload, size_t len, tern_ip4_t src, tern_ip4_t dst,
                          uint8_t proto)
{
    tern_counters_t *c = &stack->counters;
    tern_ip4_t nexthop = dst;
    tern_netif_t *nif = ipv4_route(stack, src, dst, &nexthop);
    if (nif == NULL) {
        c->ipv4_tx_noroute++;
        return TERN_ERR_NOROUTE;
    }
    if (!nif->link_up) {
        c->ipv4_tx_linkdown++;
        return TERN_ERR_LINKDOWN;
    }
    /* RFC 791 3.2: every fragment but the last carries a multiple of 8. */
    size_t step = ((size_t)nif->mtu - IPV4_HDR_LEN) & ~(size_t)7u;
    if (nif->mtu <= IPV4_HDR_LEN + 8u || len + IPV4_HDR_LEN > 65535u) {
        c->ipv4_tx_msgsize++;
        return TERN_ERR_MSGSIZE;
    }
    /* One identification for all the fragments (RFC 791 3.2). */
    uint16_t id = stack->ipv4.next_id++;
    for (size_t off = 0; off < len;) {
        size_t n = len - off < step ? len - off : step;
        tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, ETH_HDR_LEN + IPV4_HDR_LEN + n, 0);
        if (nb == NULL)
            return TERN_ERR_NOBUFS; /* the caller counts its failed send */
        (void)tern_netbuf_pull(nb, ETH_HDR_LEN);
        uint8_t *p = nb->data;
        uint16_t frag_id = id;
        ipv4_write(p, (uint16_t)(IPV4_HDR_LEN + n), &frag_id, (uint8_t)TERN_IP_DEFAULT_TTL, proto,
                   src != 0u ? src : nif->addr, dst);
        uint16_t frag = (uint16_t)(off / 8u);
        if (off + n < len)
            frag = (uint16_t)(frag | IPV4_FLAG_MF);
        wire_wr16(p + IPV4_OFF_FRAG, frag);
        memcpy(p + IPV4_HDR_LEN, payload + off, n);
        if (!(nif->offload & TERN_OFFLOAD_TX_IPV4_CSUM))
            wire_wr16(p + IPV4_OFF_CSUM, checksum_inet(p, IPV4_HDR_LEN));
        c->ipv4_tx++;
        c->ipv4_frag_tx++;
        int rc = netif_output_ipv4(stack, nif, nb, nexthop);
        if (rc != TERN_OK)
            return rc;
        off += n;
    }
    return TERN_OK;
}
#endif

uint32_t ipv4_poll(tern_stack_t *stack, uint32_t now)
{
#if TERN_IP_REASSEMBLY
    return reass_poll(stack, now);
#else
    (void)stack;
    (void)now;
    return UINT32_MAX;
#endif
}

/* ---- address text ------------------------------------------------------ */

size_t tern_ip4_to_str(tern_ip4_t ip, char *out)
{
    size_t n = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned v = (ip >> shift) & 0xFFu;
        if (v >= 100u)
            out[n++] = (char)('0' + v / 100u);
        if (v >= 10u)
            out[n++] = (char)('0' + (v / 10u) % 10u);
        out[n++] = (char)('0' + v % 10u);
        if (shift != 0)
            out[n++] = '.';
    }
    out[n] = '\0';
    return n;
}

int tern_ip4_from_str(const char *s, tern_ip4_t *out)
{
    if (s == NULL)
        return TERN_ERR_INVAL;
    uint32_t ip = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10u + (unsigned)(*s - '0');
            s++;
            if (++digits > 3u || v > 255u)
                return TERN_ERR_INVAL;
        }
        if (digits == 0u)
            return TERN_ERR_INVAL;
        ip = (ip << 8) | v;
        if (part < 3) {
            if (*s != '.')
                return TERN_ERR_INVAL;
            s++;
        }
    }
    if (*s != '\0')
        return TERN_ERR_INVAL;
    if (out != NULL)
        *out = ip;
    return TERN_OK;
}
