/* IPv6 input and output (RFC 8200), a host only: header validation, the
 * extension header walk, addresses (RFC 4291, RFC 4862) and the public
 * IPv6 API. Neighbor Discovery is in nd.c, ICMPv6 in icmpv6.c. */
#include "net/ipv6_internal.h"

#if TERN_IPV6
#include "net/tcp_internal.h" /* tcp_siphash */
#include "util/fmt.h"

const tern_ip6_t ip6_any = {{0}};
const tern_ip6_t ip6_all_nodes = {{0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
const tern_ip6_t ip6_all_routers = {{0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
const tern_ip6_t ip6_all_mldv2 = {{0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16}};

/* RFC 4861 10: BASE_REACHABLE_TIME and RETRANS_TIMER. */
#define ND_BASE_REACHABLE_MS 30000u
#define ND_RETRANS_MS 1000u

void ip6_solicited_node(const tern_ip6_t *addr, tern_ip6_t *out)
{
    static const uint8_t head[13] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF};
    memcpy(out->b, head, sizeof head);
    memcpy(out->b + 13, addr->b + 13, 3);
}

void ip6_mcast_mac(const tern_ip6_t *group, uint8_t mac[6])
{
    mac[0] = 0x33;
    mac[1] = 0x33;
    memcpy(mac + 2, group->b + 12, 4);
}

int ip6_prefix_match(const tern_ip6_t *a, const tern_ip6_t *b, unsigned len)
{
    unsigned whole = len / 8u;
    if (memcmp(a->b, b->b, whole) != 0)
        return 0;
    unsigned rest = len % 8u;
    if (rest == 0u)
        return 1;
    uint8_t mask = (uint8_t)(0xFFu << (8u - rest));
    return ((a->b[whole] ^ b->b[whole]) & mask) == 0u;
}

uint32_t checksum_pseudo6(const tern_ip6_t *src, const tern_ip6_t *dst, uint8_t next, size_t len)
{
    uint8_t tail[8] = {0};
    wire_wr32(tail, (uint32_t)len);
    tail[7] = next;
    uint32_t sum = checksum_add(0, src->b, 16);
    sum = checksum_add(sum, dst->b, 16);
    return checksum_add(sum, tail, sizeof tail);
}

/* ---- interfaces and addresses ------------------------------------------ */

void ipv6_init(tern_stack_t *stack)
{
    memset(&stack->ipv6, 0, sizeof stack->ipv6);
    icmpv6_init(stack);
}

void ipv6_deinit(tern_stack_t *stack)
{
    nd_flush(stack, NULL);
    ipv6_frag_deinit(stack);
    memset(stack->ipv6.ifs, 0, sizeof stack->ipv6.ifs);
}

tern_ipv6_if_t *ipv6_if_of(tern_stack_t *stack, const tern_netif_t *nif)
{
    for (unsigned i = 0; i < TERN_IPV6_NETIF_MAX; i++) {
        if (nif != NULL && stack->ipv6.ifs[i].nif == nif)
            return &stack->ipv6.ifs[i];
    }
    return NULL;
}

tern_ip6_addr_t *ipv6_addr_find(tern_ipv6_if_t *ifs, const tern_ip6_t *a)
{
    for (unsigned i = 0; i < TERN_IPV6_ADDR_MAX; i++) {
        tern_ip6_addr_t *e = &ifs->addrs[i];
        if (e->state != TERN_IP6_ADDR_FREE && ip6_equal(&e->addr, a))
            return e;
    }
    return NULL;
}

int ipv6_is_our_addr(tern_ipv6_if_t *ifs, const tern_ip6_t *a)
{
    const tern_ip6_addr_t *e = ipv6_addr_find(ifs, a);
    return e != NULL && (e->state == TERN_IP6_ADDR_PREFERRED || e->state == TERN_IP6_ADDR_DEPRECATED);
}

/* Is dst a group this interface listens to: all-nodes, a group a socket
 * joined, or the solicited-node group of one of its addresses (tentative
 * ones too: DAD needs their solicitations, RFC 4862 5.4.3)? */
static int ipv6_is_our_group(const tern_stack_t *stack, tern_ipv6_if_t *ifs, const tern_ip6_t *dst)
{
    if (ip6_equal(dst, &ip6_all_nodes) || mld_is_member(stack, NULL, dst))
        return 1;
    for (unsigned i = 0; i < TERN_IPV6_ADDR_MAX; i++) {
        const tern_ip6_addr_t *e = &ifs->addrs[i];
        if (e->state == TERN_IP6_ADDR_FREE || e->state == TERN_IP6_ADDR_DUPLICATE)
            continue;
        tern_ip6_t sn;
        ip6_solicited_node(&e->addr, &sn);
        if (ip6_equal(&sn, dst))
            return 1;
    }
    return 0;
}

int ipv6_select_src(tern_ipv6_if_t *ifs, const tern_ip6_t *dst, tern_ip6_t *src)
{
    const tern_ip6_addr_t *ll = NULL, *pref = NULL, *dep = NULL;
    for (unsigned i = 0; i < TERN_IPV6_ADDR_MAX; i++) {
        const tern_ip6_addr_t *e = &ifs->addrs[i];
        if (e->state != TERN_IP6_ADDR_PREFERRED && e->state != TERN_IP6_ADDR_DEPRECATED)
            continue;
        if (ip6_is_linklocal(&e->addr)) {
            if (ll == NULL)
                ll = e;
        } else if (e->state == TERN_IP6_ADDR_PREFERRED) {
            /* RFC 6724 rule 8: the longest matching prefix wins. */
            if (pref == NULL || (ip6_prefix_match(&e->addr, dst, 64) && !ip6_prefix_match(&pref->addr, dst, 64)))
                pref = e;
        } else if (dep == NULL) {
            dep = e;
        }
    }
    /* Link-local and link-scope multicast destinations: the link-local
     * source (RFC 6724 rule 2, scope). */
    int link_scope = ip6_is_linklocal(dst) || (ip6_is_mcast(dst) && (dst->b[1] & 0x0Fu) <= 2u);
    const tern_ip6_addr_t *pick = link_scope ? ll : (pref != NULL ? pref : (dep != NULL ? dep : ll));
    if (pick == NULL)
        return -1;
    *src = pick->addr;
    return 0;
}

/* A free slot for an address on ifs, or NULL (TERN_IPV6_ADDR_MAX). */
static tern_ip6_addr_t *ipv6_addr_slot(tern_ipv6_if_t *ifs)
{
    for (unsigned i = 0; i < TERN_IPV6_ADDR_MAX; i++) {
        if (ifs->addrs[i].state == TERN_IP6_ADDR_FREE)
            return &ifs->addrs[i];
    }
    return NULL;
}

/* Add an address (tentative) and start DAD on it. */
static tern_ip6_addr_t *ipv6_addr_add(tern_stack_t *stack, tern_ipv6_if_t *ifs, const tern_ip6_t *addr,
                                      uint8_t prefix_len, uint8_t origin)
{
    tern_ip6_addr_t *a = ipv6_addr_slot(ifs);
    if (a == NULL)
        return NULL;
    memset(a, 0, sizeof *a);
    a->addr = *addr;
    a->prefix_len = prefix_len;
    a->origin = origin;
    a->infinite = 1;
    a->state = TERN_IP6_ADDR_TENTATIVE;
    stack->counters.nd_addr_added++;
    nd_dad_start(stack, ifs, a);
    return a;
}

tern_ip6_addr_t *ipv6_addr_add_slaac(tern_stack_t *stack, tern_ipv6_if_t *ifs, const tern_ip6_t *addr)
{
    return ipv6_addr_add(stack, ifs, addr, 64, TERN_IP6_ORIGIN_SLAAC);
}

/* Modified EUI-64 interface identifier from the MAC (RFC 4291 2.5.1,
 * appendix A): flip the universal/local bit, ff:fe in the middle. */
void ipv6_iid_eui64(const uint8_t mac[6], uint8_t iid[8])
{
    iid[0] = (uint8_t)(mac[0] ^ 0x02u);
    iid[1] = mac[1];
    iid[2] = mac[2];
    iid[3] = 0xFF;
    iid[4] = 0xFE;
    iid[5] = mac[3];
    iid[6] = mac[4];
    iid[7] = mac[5];
}

/* RFC 5453: identifiers reserved for subnet anycast (fdff:ffff:ffff:ff80
 * to ...ffff) and the subnet-router anycast 0 (RFC 4291 2.6.1). */
static int ipv6_iid_reserved(const uint8_t iid[8])
{
    static const uint8_t zero[8] = {0};
    static const uint8_t anycast[7] = {0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    return memcmp(iid, zero, 8) == 0 || (memcmp(iid, anycast, 7) == 0 && iid[7] >= 0x80u);
}

void ipv6_iid_stable(const uint32_t key[4], const tern_ip6_t *prefix, const uint8_t mac[6], uint8_t iid[8])
{
    /* F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key) of RFC
     * 7217 5 with SipHash-2-4 as F, the MAC as Net_Iface, no Network_ID;
     * a reserved result counts DAD_Counter up and tries again. */
    uint8_t m[15];
    memcpy(m, prefix->b, 8);
    memcpy(m + 8, mac, 6);
    m[14] = 0;
    do {
        uint64_t h = tcp_siphash(key, m, sizeof m);
        for (unsigned i = 0; i < 8u; i++)
            iid[i] = (uint8_t)(h >> (56u - 8u * i));
        m[14]++;
    } while (ipv6_iid_reserved(iid));
}

void ipv6_iid(const tern_stack_t *stack, const tern_ipv6_if_t *ifs, const tern_ip6_t *prefix, uint8_t iid[8])
{
#if TERN_IPV6_STABLE_IID
    ipv6_iid_stable(stack->ipv6.iid_key, prefix, ifs->nif->mac, iid);
#else
    (void)stack;
    (void)prefix;
    ipv6_iid_eui64(ifs->nif->mac, iid);
#endif
}

int tern_ipv6_set_iid_secret(tern_stack_t *stack, const uint8_t key[16])
{
    if (stack == NULL || key == NULL)
        return TERN_ERR_INVAL;
    for (size_t i = 0; i < 4u; i++)
        stack->ipv6.iid_key[i] = wire_rd32(key + 4u * i);
    stack->ipv6.iid_key_set = 1;
    return TERN_OK;
}

void ipv6_netif_removed(tern_stack_t *stack, tern_netif_t *nif)
{
    tern_ipv6_if_t *ifs = ipv6_if_of(stack, nif);
    if (ifs == NULL)
        return;
    nd_flush(stack, ifs);
    memset(ifs, 0, sizeof *ifs);
}

void ipv6_netif_link(tern_stack_t *stack, tern_netif_t *nif)
{
    tern_ipv6_if_t *ifs = ipv6_if_of(stack, nif);
    if (ifs == NULL)
        return;
    if (!nif->link_up) {
        nd_flush(stack, ifs);
        return;
    }
    /* Back on a link, maybe another one: check every address again and
     * ask for routers (RFC 4862 5.4, RFC 4861 6.3.7). */
    ifs->disabled = 0;
    for (unsigned i = 0; i < TERN_IPV6_ADDR_MAX; i++) {
        tern_ip6_addr_t *a = &ifs->addrs[i];
        /* A duplicate gets another chance: the holder may be on the old link. */
        if (a->state != TERN_IP6_ADDR_FREE) {
            a->state = TERN_IP6_ADDR_TENTATIVE;
            nd_dad_start(stack, ifs, a);
        }
    }
    ifs->rs_left = 3u; /* MAX_RTR_SOLICITATIONS, sent once the link-local is ours */
}

/* ---- input --------------------------------------------------------------- */

static void ipv6_drop(tern_stack_t *stack, tern_netbuf_t *nb, uint32_t *counter)
{
    (*counter)++;
    tern_netbuf_release(&stack->netbufs, nb);
}

/* Walk the options of a hop-by-hop or destination options header (RFC 8200
 * 4.2). NULL to go on, else the drop counter; *icmp_ptr and *icmp_mc set
 * when a Parameter Problem is due (offset from the fixed header). */
static uint32_t *ipv6_options(tern_stack_t *stack, const uint8_t *h, size_t len, size_t base, int *want_icmp,
                              uint32_t *icmp_ptr, int *icmp_mc)
{
    tern_counters_t *c = &stack->counters;
    size_t i = 2;
    while (i < len) {
        uint8_t type = h[i];
        if (type == IPV6_OPT_PAD1) {
            i++;
            continue;
        }
        if (i + 2u > len || (size_t)h[i + 1u] > len - i - 2u)
            return &c->ipv6_drop_option_len;
        size_t olen = 2u + h[i + 1u];
        if (type != IPV6_OPT_PADN && type != IPV6_OPT_ROUTER_ALERT) {
            switch (IPV6_OPT_ACTION(type)) {
            case IPV6_OPT_ACT_SKIP:
                break;
            case IPV6_OPT_ACT_DISCARD:
                return &c->ipv6_drop_option;
            case IPV6_OPT_ACT_ICMP:
            case IPV6_OPT_ACT_ICMP_UNICAST:
                *want_icmp = 1;
                *icmp_ptr = (uint32_t)(base + i);
                *icmp_mc = IPV6_OPT_ACTION(type) == IPV6_OPT_ACT_ICMP;
                return &c->ipv6_drop_option;
            default:
                break;
            }
        }
        i += olen;
    }
    return NULL;
}

/* Every RFC 8200 check on the fixed header, then the addresses; fills rx
 * and returns NULL when the packet is for us, else the drop counter. */
static uint32_t *ipv6_validate(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, ipv6_rx_t *rx)
{
    tern_counters_t *c = &stack->counters;
    tern_ipv6_if_t *ifs = ipv6_if_of(stack, nif);
    if (ifs == NULL || ifs->disabled)
        return &c->ipv6_drop_disabled;
    ipv6_view_t ip;
    switch (ipv6_check(nb->data, nb->len, &ip)) {
    case IPV6_CHECK_OK:
        break;
    case IPV6_CHECK_TRUNCATED:
        return &c->ipv6_drop_truncated;
    case IPV6_CHECK_VERSION:
        return &c->ipv6_drop_version;
    default:
        return &c->ipv6_drop_len;
    }
    /* Link padding after the payload goes. */
    (void)tern_netbuf_set_len(nb, IPV6_HDR_LEN + (size_t)ip.payload_len);
    rx->hdr = ip.p;
    rx->ifs = ifs;
    rx->src = ipv6_src(&ip);
    rx->dst = ipv6_dst(&ip);
    rx->hop_limit = ipv6_hop_limit(&ip);
    rx->proto = ipv6_next(&ip);
    rx->hdr_len = IPV6_HDR_LEN;
    rx->dst_mcast = ip6_is_mcast(&rx->dst) ? 1u : 0u;
    rx->link_mcast = (nb->flags & TERN_NETBUF_F_LINK_BCAST) != 0u;
    /* RFC 4291 2.7, 2.5.3: a source is never a group or the loopback; our
     * own address from the wire is a loop or a spoof (DAD's :: is fine). */
    if (ip6_is_mcast(&rx->src) || ip6_is_loopback(&rx->src) || ipv6_is_our_addr(ifs, &rx->src))
        return &c->ipv6_drop_bad_src;
    if (rx->dst_mcast) {
        if (!ipv6_is_our_group(stack, ifs, &rx->dst))
            return &c->ipv6_drop_not_for_us;
    } else {
        /* Strong host; tentative addresses take nothing (RFC 4862 5.4). */
        if (!ipv6_is_our_addr(ifs, &rx->dst))
            return &c->ipv6_drop_not_for_us;
        if (rx->link_mcast)
            return &c->ipv6_drop_mcast_mismatch;
    }
    return NULL;
}

void ipv6_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb)
{
    tern_counters_t *c = &stack->counters;
    c->ipv6_rx++;
    ipv6_rx_t rx;
    memset(&rx, 0, sizeof rx);
    uint32_t *drop = ipv6_validate(stack, nif, nb, &rx);
    if (drop != NULL) {
        ipv6_drop(stack, nb, drop);
        return;
    }
    ipv6_chain(stack, nb, nb->data, nb->len, &rx);
}

void ipv6_chain(tern_stack_t *stack, tern_netbuf_t *nb, uint8_t *p, size_t total, ipv6_rx_t *rx)
{
    tern_counters_t *c = &stack->counters;
    uint32_t *drop = NULL;
    /* The extension header chain (RFC 8200 4.1), at most
     * TERN_IPV6_EXT_HDR_MAX headers. off: where the current header starts;
     * nh_off: the field that named it (for Parameter Problem pointers). */
    size_t off = IPV6_HDR_LEN;
    size_t nh_off = IPV6_OFF_NEXT;
    uint8_t nh = p[IPV6_OFF_NEXT];
    unsigned count = 0;
    int want_icmp = 0, icmp_mc = 0;
    uint8_t icmp_code = ICMP6_PARAM_HEADER;
    uint32_t icmp_ptr = 0;
    for (;;) {
        if (nh != IPV6_NH_HOP_BY_HOP && nh != IPV6_NH_DEST_OPTS && nh != IPV6_NH_ROUTING && nh != IPV6_NH_FRAGMENT)
            break;
        if (++count > TERN_IPV6_EXT_HDR_MAX) {
            drop = &c->ipv6_drop_ext_chain;
            break;
        }
        if (nh == IPV6_NH_HOP_BY_HOP && off != IPV6_HDR_LEN) {
            /* Only right after the header: an unrecognised next header
             * anywhere else (RFC 8200 4.1, 4.3). */
            drop = &c->ipv6_drop_hbh_position;
            want_icmp = 1;
            icmp_code = ICMP6_PARAM_NEXT;
            icmp_ptr = (uint32_t)nh_off;
            break;
        }
        if (total - off < IPV6_EXT_MIN_LEN) {
            drop = &c->ipv6_drop_ext_len;
            break;
        }
        const uint8_t *h = p + off;
        size_t hlen = nh == IPV6_NH_FRAGMENT ? IPV6_FRAG_HDR_LEN : ipv6_ext_len(h);
        if (hlen > total - off) {
            drop = &c->ipv6_drop_ext_len;
            break;
        }
        if (nh == IPV6_NH_HOP_BY_HOP || nh == IPV6_NH_DEST_OPTS) {
            drop = ipv6_options(stack, h, hlen, off, &want_icmp, &icmp_ptr, &icmp_mc);
            if (drop != NULL) {
                icmp_code = ICMP6_PARAM_OPTION;
                break;
            }
        } else if (nh == IPV6_NH_ROUTING) {
            /* A host executes no routing type (RFC 8200 4.4): with segments
             * left it is an error, pointing at the type. Type 0 is treated
             * as unrecognised (RFC 5095 3). */
            if (h[IPV6_RH_OFF_SEGS_LEFT] != 0u) {
                drop = &c->ipv6_drop_routing;
                want_icmp = 1;
                icmp_code = ICMP6_PARAM_HEADER;
                icmp_ptr = (uint32_t)(off + IPV6_RH_OFF_TYPE);
                break;
            }
        } else {
            /* An atomic fragment (offset 0, M clear) is the whole packet
             * (RFC 8200 4.5, RFC 6946); others go to reassembly. A fragment
             * inside a reassembled packet is not taken apart again. */
            if ((wire_rd16(h + IPV6_FRAG_OFF_OFFSET) & (IPV6_FRAG_OFFSET_MASK | IPV6_FRAG_M)) != 0u) {
#if TERN_IP_REASSEMBLY
                if (!rx->reassembled && nb != NULL) {
                    ipv6_reass_input(stack, nb, rx, off);
                    return;
                }
#endif
                drop = &c->ipv6_drop_fragment;
                break;
            }
        }
        nh_off = off + IPV6_EXT_OFF_NEXT;
        nh = h[IPV6_EXT_OFF_NEXT];
        off += hlen;
    }
    if (drop == NULL && nh == IPV6_NH_NONE)
        drop = &c->ipv6_drop_no_next;
    /* Beyond one buffer only an echo request is of use. */
    if (drop == NULL && nb == NULL && nh != IPV6_NH_ICMPV6)
        drop = &c->ipv6_reass_too_big;
    if (drop == NULL && nh != IPV6_NH_ICMPV6 && nh != IPV6_NH_UDP && nh != IPV6_NH_TCP) {
        drop = &c->ipv6_drop_proto;
        want_icmp = 1;
        icmp_code = ICMP6_PARAM_NEXT;
        icmp_ptr = (uint32_t)nh_off;
    }
    if (drop != NULL) {
        (*drop)++;
        if (want_icmp)
            icmpv6_send_error(stack, rx, total, ICMP6_PARAM_PROBLEM, icmp_code, icmp_ptr, icmp_mc);
        if (nb != NULL)
            tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    rx->proto = nh;
    rx->hdr_len = (uint16_t)off;
    c->ipv6_delivered++;
    if (nb == NULL) {
        icmpv6_input_large(stack, p + off, total - off, rx);
        return;
    }
    (void)tern_netbuf_pull(nb, off);
    if (nh == IPV6_NH_UDP) {
        udp6_input(stack, nb, rx);
        return;
    }
    if (nh == IPV6_NH_TCP) {
        tcp6_input(stack, nb, rx);
        return;
    }
    icmpv6_input(stack, nb, rx);
}

/* ---- output ------------------------------------------------------------- */

static int ipv6_send(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_netbuf_t *nb, const tern_ip6_t *dst)
{
    tern_counters_t *c = &stack->counters;
    tern_netif_t *nif = ifs->nif;
    if (nb->len > ifs->mtu) {
        c->ipv6_tx_msgsize++;
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_MSGSIZE;
    }
    if (ip6_is_mcast(dst)) {
        uint8_t mac[6];
        ip6_mcast_mac(dst, mac);
        c->ipv6_tx++;
        return eth_output(stack, nif, nb, mac, ETH_TYPE_IPV6);
    }
    /* On-link destinations directly, others through a default router
     * (RFC 4861 5.2). */
    const tern_ip6_t *nexthop = dst;
    if (!nd_is_onlink(stack, ifs, dst)) {
        nexthop = nd_default_router(stack, ifs);
        if (nexthop == NULL) {
            c->ipv6_tx_noroute++;
            tern_netbuf_release(&stack->netbufs, nb);
            return TERN_ERR_NOROUTE;
        }
    }
    c->ipv6_tx++;
    return nd_output(stack, ifs, nb, nexthop);
}

int ipv6_output(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_netbuf_t *nb, const tern_ip6_t *src,
                const tern_ip6_t *dst, uint8_t next, uint8_t hop_limit)
{
    size_t plen = nb->len;
    if (tern_netbuf_push(nb, IPV6_HDR_LEN) != TERN_OK) {
        stack_log(stack, TERN_LOG_ERROR, "ipv6: no headroom for the IPv6 header");
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_INVAL;
    }
    ipv6_write(nb->data, (uint16_t)plen, next, hop_limit, src, dst);
    return ipv6_send(stack, ifs, nb, dst);
}

int ipv6_output_router_alert(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_netbuf_t *nb, const tern_ip6_t *src,
                             const tern_ip6_t *dst)
{
    /* Hop-by-hop header of 8 bytes: Router Alert, value 0 (MLD, RFC 2711),
     * then PadN of 0 data bytes. */
    static const uint8_t hbh_tail[6] = {IPV6_OPT_ROUTER_ALERT, 2, 0, 0, IPV6_OPT_PADN, 0};
    size_t plen = nb->len + IPV6_EXT_MIN_LEN;
    if (tern_netbuf_push(nb, IPV6_HDR_LEN + IPV6_EXT_MIN_LEN) != TERN_OK) {
        stack_log(stack, TERN_LOG_ERROR, "ipv6: no headroom for the IPv6 header");
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_INVAL;
    }
    uint8_t *h = nb->data + IPV6_HDR_LEN;
    h[IPV6_EXT_OFF_NEXT] = IPV6_NH_ICMPV6;
    h[IPV6_EXT_OFF_LEN] = 0;
    memcpy(h + 2, hbh_tail, sizeof hbh_tail);
    /* RFC 3810 5: hop limit 1. */
    ipv6_write(nb->data, (uint16_t)plen, IPV6_NH_HOP_BY_HOP, 1, src, dst);
    return ipv6_send(stack, ifs, nb, dst);
}

tern_ipv6_if_t *ipv6_route(tern_stack_t *stack, const tern_ip6_t *src, const tern_ip6_t *dst, tern_ip6_t *src_out)
{
    /* No loopback interface: our own addresses, ::1 and :: are not
     * destinations. */
    if (ip6_is_any(dst) || ip6_is_loopback(dst))
        return NULL;
    tern_ipv6_if_t *fallback = NULL;
    tern_ip6_t fallback_src = ip6_any;
    for (unsigned i = 0; i < TERN_IPV6_NETIF_MAX; i++) {
        tern_ipv6_if_t *ifs = &stack->ipv6.ifs[i];
        if (ifs->nif == NULL || ifs->disabled || ipv6_is_our_addr(ifs, dst))
            continue;
        tern_ip6_t s;
        if (!ip6_is_any(src)) {
            if (!ipv6_is_our_addr(ifs, src))
                continue; /* a given source picks its interface */
            s = *src;
        } else if (ipv6_select_src(ifs, dst, &s) != 0) {
            continue;
        }
        /* Link-scope destinations go out of the first interface (there is
         * no zone index in tern_sockaddr_t); others prefer an interface
         * where dst is on-link or that has a default router. */
        if (ip6_is_mcast(dst) || ip6_is_linklocal(dst) || nd_is_onlink(stack, ifs, dst) ||
            nd_default_router(stack, ifs) != NULL) {
            *src_out = s;
            return ifs;
        }
        if (fallback == NULL) {
            fallback = ifs;
            fallback_src = s;
        }
    }
    if (fallback != NULL)
        *src_out = fallback_src;
    return fallback;
}

int ipv6_is_ours(tern_stack_t *stack, const tern_ip6_t *a)
{
    for (unsigned i = 0; i < TERN_IPV6_NETIF_MAX; i++) {
        tern_ipv6_if_t *ifs = &stack->ipv6.ifs[i];
        if (ifs->nif != NULL && ipv6_is_our_addr(ifs, a))
            return 1;
    }
    return 0;
}

/* ---- public ------------------------------------------------------------- */

int tern_ipv6_enable(tern_stack_t *stack, tern_netif_t *nif, tern_ipv6_mcast_fn mcast)
{
    if (stack == NULL || nif == NULL || nif->stack != stack || nif->link != TERN_LINK_ETHERNET)
        return TERN_ERR_INVAL;
    if (ipv6_if_of(stack, nif) != NULL)
        return TERN_ERR_INVAL;
    tern_ipv6_if_t *ifs = NULL;
    for (unsigned i = 0; i < TERN_IPV6_NETIF_MAX && ifs == NULL; i++) {
        if (stack->ipv6.ifs[i].nif == NULL)
            ifs = &stack->ipv6.ifs[i];
    }
    if (ifs == NULL)
        return TERN_ERR_INVAL;
    memset(ifs, 0, sizeof *ifs);
    ifs->nif = nif;
    ifs->mcast = mcast;
    ifs->mtu = nif->mtu;
    ifs->hop_limit = TERN_IP_DEFAULT_TTL;
    ifs->retrans_ms = ND_RETRANS_MS;
    /* RFC 4861 6.3.2: ReachableTime uniformly in [0.5, 1.5] x the base. */
    ifs->reachable_ms = ND_BASE_REACHABLE_MS / 2u + stack->port->random32(stack->port->ctx) % ND_BASE_REACHABLE_MS;
    ifs->rs_left = 3u;
    if (mcast != NULL) {
        uint8_t mac[6];
        ip6_mcast_mac(&ip6_all_nodes, mac);
        mcast(nif, mac, 1);
    }
#if TERN_IPV6_STABLE_IID
    /* No secret from the application: one for this boot (drawn here, so
     * a build with EUI-64 identifiers takes nothing from the random source). */
    if (!stack->ipv6.iid_key_set) {
        for (unsigned i = 0; i < 4u; i++)
            stack->ipv6.iid_key[i] = stack->port->random32(stack->port->ctx);
        stack->ipv6.iid_key_set = 1;
    }
#endif
    tern_ip6_t ll = {{0xFE, 0x80}};
    ipv6_iid(stack, ifs, &ll, ll.b + 8);
    (void)ipv6_addr_add(stack, ifs, &ll, 64, TERN_IP6_ORIGIN_LINKLOCAL);
    return TERN_OK;
}

int tern_ipv6_add_addr(tern_stack_t *stack, tern_netif_t *nif, const tern_ip6_t *addr, uint8_t prefix_len)
{
    if (stack == NULL || addr == NULL || prefix_len == 0u || prefix_len > 128u || ip6_is_mcast(addr) ||
        ip6_is_any(addr) || ip6_is_loopback(addr))
        return TERN_ERR_INVAL;
    tern_ipv6_if_t *ifs = ipv6_if_of(stack, nif);
    if (ifs == NULL || ipv6_addr_find(ifs, addr) != NULL)
        return TERN_ERR_INVAL;
    return ipv6_addr_add(stack, ifs, addr, prefix_len, TERN_IP6_ORIGIN_STATIC) != NULL ? TERN_OK : TERN_ERR_NOMEM;
}

static uint32_t ipv6_left_s(uint32_t now, uint32_t until, int infinite)
{
    if (infinite)
        return UINT32_MAX;
    return net_time_reached(now, until) ? 0u : (until - now) / 1000u;
}

int tern_ipv6_addr_info(const tern_stack_t *stack, unsigned n, tern_ip6_addr_info_t *out)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    for (unsigned i = 0; i < TERN_IPV6_NETIF_MAX; i++) {
        const tern_ipv6_if_t *ifs = &stack->ipv6.ifs[i];
        if (ifs->nif == NULL)
            continue;
        for (unsigned k = 0; k < TERN_IPV6_ADDR_MAX; k++) {
            const tern_ip6_addr_t *a = &ifs->addrs[k];
            if (a->state == TERN_IP6_ADDR_FREE || n-- != 0u)
                continue;
            if (out != NULL) {
                out->addr = a->addr;
                out->prefix_len = a->prefix_len;
                out->state = a->state;
                out->origin = a->origin;
                out->preferred_s = ipv6_left_s(stack->now, a->preferred_until, a->infinite);
                out->valid_s = ipv6_left_s(stack->now, a->valid_until, a->infinite);
                out->ifname = ifs->nif->name;
            }
            return TERN_OK;
        }
    }
    return TERN_ERR_INVAL;
}

int tern_ipv6_nbr_info(const tern_stack_t *stack, unsigned n, tern_nd_info_t *out)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    for (unsigned i = 0; i < TERN_IPV6_NBR_CACHE_SIZE; i++) {
        const tern_nd_entry_t *e = &stack->ipv6.nbr[i];
        if (e->state == TERN_ND_FREE || n-- != 0u)
            continue;
        if (out != NULL) {
            out->ip = e->ip;
            memcpy(out->mac, e->mac, 6);
            out->state = e->state;
            out->is_router = e->is_router;
            out->queued = e->queued;
            out->ifname = e->ifs->nif != NULL ? e->ifs->nif->name : "";
        }
        return TERN_OK;
    }
    return TERN_ERR_INVAL;
}

int tern_ipv6_dns_server(const tern_stack_t *stack, unsigned n, tern_ip6_t *out)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    for (unsigned i = 0; i < TERN_IPV6_NETIF_MAX; i++) {
        const tern_ipv6_if_t *ifs = &stack->ipv6.ifs[i];
        for (unsigned k = 0; ifs->nif != NULL && k < TERN_IPV6_DNS_MAX; k++) {
            if (!ifs->dns_used[k] || n-- != 0u)
                continue;
            if (out != NULL)
                *out = ifs->dns[k];
            return TERN_OK;
        }
    }
    return TERN_ERR_INVAL;
}

/* The i-th 16-bit group of a. */
static unsigned ip6_group(const tern_ip6_t *a, size_t i)
{
    return (unsigned)a->b[2u * i] << 8 | a->b[2u * i + 1u];
}

unsigned tern_ip6_to_str(const tern_ip6_t *a, char *out)
{
    static const char hex[] = "0123456789abcdef";
    /* RFC 5952 4.2: the longest run of two or more zero groups becomes ::,
     * the first one on a tie. */
    size_t best = 8, best_len = 1;
    for (size_t i = 0; i < 8u;) {
        size_t j = i;
        while (j < 8u && ip6_group(a, j) == 0u)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1u;
    }
    unsigned n = 0;
    for (size_t i = 0; i < 8u; i++) {
        if (i == best) {
            out[n++] = ':';
            out[n++] = ':';
            i += best_len - 1u;
            continue;
        }
        if (i != 0u && i != best + best_len)
            out[n++] = ':';
        unsigned g = ip6_group(a, i);
        int started = 0;
        for (int s = 12; s >= 0; s -= 4) {
            unsigned d = (g >> (unsigned)s) & 0xFu;
            if (d != 0u || started || s == 0) {
                out[n++] = hex[d];
                started = 1;
            }
        }
    }
    out[n] = '\0';
    return n;
}

static const char *const addr_state_names[] = {"free", "tentative", "preferred", "deprecated", "duplicate"};
static const char *const addr_origin_names[] = {"link-local", "slaac", "static"};
static const char *const nd_state_names[] = {"free", "incomplete", "reachable", "stale", "delay", "probe"};

void tern_ipv6_report_text(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    char buf[48];
    tern_ip6_addr_info_t a;
    fmt_str(write, ctx, "address                                   state       origin      valid s\n");
    for (unsigned n = 0; tern_ipv6_addr_info(stack, n, &a) == TERN_OK; n++) {
        unsigned len = tern_ip6_to_str(&a.addr, buf);
        buf[len++] = '/';
        buf[len] = '\0';
        fmt_str(write, ctx, buf);
        fmt_uint(write, ctx, a.prefix_len, 0);
        fmt_str_pad(write, ctx, "", len + 3u < 42u ? 42u - len - 3u : 1u);
        fmt_str_pad(write, ctx, addr_state_names[a.state < 5u ? a.state : 0u], 12);
        fmt_str_pad(write, ctx, addr_origin_names[a.origin < 3u ? a.origin : 0u], 12);
        if (a.valid_s == UINT32_MAX)
            fmt_str(write, ctx, "forever");
        else
            fmt_uint(write, ctx, a.valid_s, 0);
        fmt_str(write, ctx, "\n");
    }
    tern_nd_info_t e;
    fmt_str(write, ctx, "neighbor                                  MAC                state       router\n");
    unsigned n = 0;
    for (; tern_ipv6_nbr_info(stack, n, &e) == TERN_OK; n++) {
        (void)tern_ip6_to_str(&e.ip, buf);
        fmt_str_pad(write, ctx, buf, 42);
        if (e.state == TERN_ND_INCOMPLETE) {
            fmt_str_pad(write, ctx, "(incomplete)", 19);
        } else {
            (void)stack_format_mac(buf, e.mac);
            fmt_str_pad(write, ctx, buf, 19);
        }
        fmt_str_pad(write, ctx, nd_state_names[e.state < 6u ? e.state : 0u], 12);
        fmt_str(write, ctx, e.is_router ? "yes\n" : "no\n");
    }
    if (n == 0u)
        fmt_str(write, ctx, "(no neighbors)\n");
    tern_ip6_t dns;
    for (unsigned k = 0; tern_ipv6_dns_server(stack, k, &dns) == TERN_OK; k++) {
        (void)tern_ip6_to_str(&dns, buf);
        fmt_str(write, ctx, "dns ");
        fmt_str(write, ctx, buf);
        fmt_str(write, ctx, "\n");
    }
}

static void json_str(tern_writer_fn write, void *ctx, const char *key, const char *val, int first)
{
    if (!first)
        write(ctx, ",", 1);
    write(ctx, "\"", 1);
    fmt_str(write, ctx, key);
    write(ctx, "\":\"", 3);
    fmt_str(write, ctx, val);
    write(ctx, "\"", 1);
}

void tern_ipv6_report_json(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    char buf[48];
    tern_ip6_addr_info_t a;
    fmt_str(write, ctx, "{\"addrs\":[");
    for (unsigned n = 0; tern_ipv6_addr_info(stack, n, &a) == TERN_OK; n++) {
        if (n != 0u)
            write(ctx, ",", 1);
        write(ctx, "{", 1);
        (void)tern_ip6_to_str(&a.addr, buf);
        json_str(write, ctx, "addr", buf, 1);
        fmt_json_uint(write, ctx, "prefix", a.prefix_len, 0);
        json_str(write, ctx, "state", addr_state_names[a.state < 5u ? a.state : 0u], 0);
        json_str(write, ctx, "origin", addr_origin_names[a.origin < 3u ? a.origin : 0u], 0);
        json_str(write, ctx, "if", a.ifname, 0);
        write(ctx, "}", 1);
    }
    uint32_t counts[6] = {0};
    tern_nd_info_t e;
    for (unsigned n = 0; tern_ipv6_nbr_info(stack, n, &e) == TERN_OK; n++)
        counts[e.state < 6u ? e.state : 0u]++;
    fmt_str(write, ctx, "],\"neighbors\":{");
    for (unsigned s = 1; s < 6u; s++)
        fmt_json_uint(write, ctx, nd_state_names[s], counts[s], s == 1u);
    fmt_str(write, ctx, "},\"dns\":[");
    tern_ip6_t dns;
    for (unsigned k = 0; tern_ipv6_dns_server(stack, k, &dns) == TERN_OK; k++) {
        if (k != 0u)
            write(ctx, ",", 1);
        write(ctx, "\"", 1);
        (void)tern_ip6_to_str(&dns, buf);
        fmt_str(write, ctx, buf);
        write(ctx, "\"", 1);
    }
    fmt_str(write, ctx, "]}");
}

#endif /* TERN_IPV6 */
