/* Neighbor Discovery for a host (RFC 4861): the neighbor cache and its
 * states, NS/NA, RS/RA with the default router and prefix lists, SLAAC
 * and Duplicate Address Detection (RFC 4862), RDNSS (RFC 8106) and the
 * MLDv2 reports for our solicited-node groups (RFC 3810).
 *
 * Redirects are validated and ignored (docs/network.md): a host may keep
 * using its default router, and ignoring them closes a spoofing path. */
#include "net/ipv6_internal.h"

#if TERN_IPV6
#include "util/fmt.h"

/* RFC 4861 10 constants. */
#define ND_MAX_SOLICIT 3u
/* Our bound on an advertised RetransTimer (RFC 4861 sets none). */
#define ND_RETRANS_MAX_MS 10000u
#define ND_DELAY_FIRST_PROBE_MS 5000u
#define ND_RTR_SOLICITATION_INTERVAL_MS 4000u
#define ND_MAX_RTR_SOLICITATION_DELAY_MS 1000u
/* RFC 4862 5.5.3 (e): the two hours below which a lifetime is not cut. */
#define SLAAC_TWO_HOURS_MS 7200000u
/* RFC 3810 9.11: unsolicited reports are repeated within this interval. */
#define MLD_UNSOLICITED_INTERVAL_MS 1000u
#define MLD_ROBUSTNESS 2u

static uint32_t nd_rand(tern_stack_t *stack, uint32_t below)
{
    return below == 0u ? 0u : stack->port->random32(stack->port->ctx) % below;
}

/* Seconds from the wire to a ms deadline, clamped (tern/ipv6.h). */
static uint32_t nd_deadline(uint32_t now, uint32_t seconds)
{
    uint64_t ms = (uint64_t)seconds * 1000u;
    if (ms > TERN_IP6_LIFETIME_MAX_MS)
        ms = TERN_IP6_LIFETIME_MAX_MS;
    return now + (uint32_t)ms;
}

static void nd_log_addr(tern_stack_t *stack, int level, const char *what, const tern_ip6_t *a, const char *tail)
{
    char msg[112];
    size_t n = strlen(what);
    memcpy(msg, what, n);
    n += tern_ip6_to_str(a, msg + n);
    size_t t = strlen(tail);
    if (t > sizeof msg - 1u - n)
        t = sizeof msg - 1u - n;
    memcpy(msg + n, tail, t);
    msg[n + t] = '\0';
    stack_log(stack, level, msg);
}

/* ---- the neighbor cache ------------------------------------------------- */

static tern_nd_entry_t *nd_find(tern_stack_t *stack, const tern_ipv6_if_t *ifs, const tern_ip6_t *ip)
{
    for (unsigned i = 0; i < TERN_IPV6_NBR_CACHE_SIZE; i++) {
        tern_nd_entry_t *e = &stack->ipv6.nbr[i];
        if (e->state != TERN_ND_FREE && e->ifs == ifs && ip6_equal(&e->ip, ip))
            return e;
    }
    return NULL;
}

static void nd_entry_clear(tern_stack_t *stack, tern_nd_entry_t *e)
{
    tern_netbuf_t *q = e->queue;
    memset(e, 0, sizeof *e);
    tern_netbuf_release_chain(&stack->netbufs, q);
}

/* A slot for a new entry: a free one, else the entry changed longest ago
 * among those not resolving (their queues would be lost). */
static tern_nd_entry_t *nd_take_slot(tern_stack_t *stack)
{
    tern_nd_entry_t *victim = NULL;
    for (unsigned i = 0; i < TERN_IPV6_NBR_CACHE_SIZE; i++) {
        tern_nd_entry_t *e = &stack->ipv6.nbr[i];
        if (e->state == TERN_ND_FREE)
            return e;
        if (e->state == TERN_ND_INCOMPLETE)
            continue;
        if (victim == NULL || (int32_t)(e->updated - victim->updated) < 0)
            victim = e;
    }
    if (victim != NULL)
        nd_entry_clear(stack, victim);
    return victim;
}

void nd_flush(tern_stack_t *stack, tern_ipv6_if_t *ifs)
{
    for (unsigned i = 0; i < TERN_IPV6_NBR_CACHE_SIZE; i++) {
        tern_nd_entry_t *e = &stack->ipv6.nbr[i];
        if (e->state != TERN_ND_FREE && (ifs == NULL || e->ifs == ifs))
            nd_entry_clear(stack, e);
    }
}

/* Put the IPv6 header on nb (data = ICMPv6 message, checksum filled) and
 * send it to mac, or to the group's MAC when mac is NULL. ND messages
 * always carry hop limit 255 (RFC 4861 6.1, 7.1). */
static int nd_xmit(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_netbuf_t *nb, const tern_ip6_t *src,
                   const tern_ip6_t *dst, const uint8_t *mac)
{
    size_t plen = nb->len;
    (void)tern_netbuf_push(nb, IPV6_HDR_LEN); /* every builder here leaves IPV6_HEADROOM */
    ipv6_write(nb->data, (uint16_t)plen, IPV6_NH_ICMPV6, ND_HOP_LIMIT, src, dst);
    uint8_t group[6];
    if (mac == NULL) {
        ip6_mcast_mac(dst, group);
        mac = group;
    }
    stack->counters.ipv6_tx++;
    return eth_output(stack, ifs->nif, nb, mac, ETH_TYPE_IPV6);
}

/* A neighbor solicitation for target: multicast to its solicited-node group
 * (mac NULL) or unicast to mac. From :: for DAD (no SLLA, RFC 4862 5.4.2),
 * else from our address for the target's scope with our SLLA. */
static void nd_send_ns(tern_stack_t *stack, tern_ipv6_if_t *ifs, const tern_ip6_t *target, const uint8_t *mac,
                       int dad)
{
    tern_ip6_t src = ip6_any, dst;
    if (!dad && ipv6_select_src(ifs, target, &src) != 0)
        return; /* no usable address yet */
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, IPV6_HEADROOM + ND_NS_LEN + ND_OPT_LLA_LEN, 0);
    if (nb == NULL)
        return;
    (void)tern_netbuf_pull(nb, IPV6_HEADROOM);
    size_t len = ND_NS_LEN;
    icmp6_write(nb->data, ICMP6_ND_NS, 0, 0);
    memcpy(nb->data + ND_OFF_TARGET, target->b, 16);
    if (!dad) {
        nd_opt_write_lla(nb->data + len, ND_OPT_SLLA, ifs->nif->mac);
        len += ND_OPT_LLA_LEN;
    }
    (void)tern_netbuf_set_len(nb, len);
    if (mac == NULL)
        ip6_solicited_node(target, &dst);
    else
        dst = *target;
    icmpv6_set_checksum(nb, &src, &dst);
    if (nd_xmit(stack, ifs, nb, &src, &dst, mac) == TERN_OK)
        stack->counters.nd_ns_tx++;
}

/* A neighbor advertisement for our address target, with our TLLA. */
static void nd_send_na(tern_stack_t *stack, tern_ipv6_if_t *ifs, const tern_ip6_t *target, const tern_ip6_t *dst,
                       uint8_t flags)
{
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, IPV6_HEADROOM + ND_NA_LEN + ND_OPT_LLA_LEN, 0);
    if (nb == NULL)
        return;
    (void)tern_netbuf_pull(nb, IPV6_HEADROOM);
    icmp6_write(nb->data, ICMP6_ND_NA, 0, (uint32_t)flags << 24);
    memcpy(nb->data + ND_OFF_TARGET, target->b, 16);
    nd_opt_write_lla(nb->data + ND_NA_LEN, ND_OPT_TLLA, ifs->nif->mac);
    icmpv6_set_checksum(nb, target, dst);
    int r;
    if (ip6_is_mcast(dst)) {
        r = nd_xmit(stack, ifs, nb, target, dst, NULL);
    } else {
        /* Solicited: through the cache (the solicitation's SLLA is there). */
        size_t plen = nb->len;
        (void)tern_netbuf_push(nb, IPV6_HDR_LEN);
        ipv6_write(nb->data, (uint16_t)plen, IPV6_NH_ICMPV6, ND_HOP_LIMIT, target, dst);
        stack->counters.ipv6_tx++;
        r = nd_output(stack, ifs, nb, dst);
    }
    if (r == TERN_OK)
        stack->counters.nd_na_tx++;
}

static void nd_send_rs(tern_stack_t *stack, tern_ipv6_if_t *ifs)
{
    tern_ip6_t src;
    if (ipv6_select_src(ifs, &ip6_all_routers, &src) != 0)
        return;
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, IPV6_HEADROOM + ND_RS_LEN + ND_OPT_LLA_LEN, 0);
    if (nb == NULL)
        return;
    (void)tern_netbuf_pull(nb, IPV6_HEADROOM);
    icmp6_write(nb->data, ICMP6_ND_RS, 0, 0);
    nd_opt_write_lla(nb->data + ND_RS_LEN, ND_OPT_SLLA, ifs->nif->mac);
    icmpv6_set_checksum(nb, &src, &ip6_all_routers);
    if (nd_xmit(stack, ifs, nb, &src, &ip6_all_routers, NULL) == TERN_OK)
        stack->counters.nd_rs_tx++;
}

/* The entry learnt its link-layer address: record it, move to state and
 * send what waited. */
static void nd_entry_set(tern_stack_t *stack, tern_nd_entry_t *e, const uint8_t mac[6], uint8_t state)
{
    memcpy(e->mac, mac, 6);
    e->state = state;
    e->probes = 0;
    e->updated = stack->now;
    e->deadline = stack->now + e->ifs->reachable_ms;
    tern_netbuf_t *q = e->queue;
    e->queue = NULL;
    e->queued = 0;
    tern_ipv6_if_t *ifs = e->ifs;
    while (q != NULL) {
        tern_netbuf_t *next = q->next;
        q->next = NULL;
        (void)eth_output(stack, ifs->nif, q, mac, ETH_TYPE_IPV6);
        q = next;
    }
}

int nd_output(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_netbuf_t *nb, const tern_ip6_t *nexthop)
{
    tern_counters_t *c = &stack->counters;
    tern_nd_entry_t *e = nd_find(stack, ifs, nexthop);
    if (e != NULL && e->state != TERN_ND_INCOMPLETE) {
        /* RFC 4861 7.3.3: sending to a STALE entry starts the DELAY timer. */
        if (e->state == TERN_ND_STALE) {
            e->state = TERN_ND_DELAY;
            e->deadline = stack->now + ND_DELAY_FIRST_PROBE_MS;
        }
        return eth_output(stack, ifs->nif, nb, e->mac, ETH_TYPE_IPV6);
    }
    nb->next = NULL;
    if (e == NULL) {
        e = nd_take_slot(stack);
        if (e == NULL) {
            c->nd_cache_full++;
            tern_netbuf_release(&stack->netbufs, nb);
            return TERN_ERR_NOBUFS;
        }
        e->state = TERN_ND_INCOMPLETE;
        e->ifs = ifs;
        e->ip = *nexthop;
        e->updated = stack->now;
        e->queue = nb;
        e->queued = 1;
        c->nd_queued++;
        e->probes = 1;
        e->deadline = stack->now + ifs->retrans_ms;
        nd_send_ns(stack, ifs, nexthop, NULL, 0);
        return TERN_OK;
    }
    if (e->queued >= TERN_IPV6_NBR_QUEUE_LEN) {
        tern_netbuf_t *old = e->queue;
        e->queue = old->next;
        e->queued--;
        old->next = NULL;
        tern_netbuf_release(&stack->netbufs, old);
        c->nd_queue_overflow++;
    }
    tern_netbuf_t **tail = &e->queue;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = nb;
    e->queued++;
    c->nd_queued++;
    return TERN_OK;
}

/* A link-layer address from an NS or RA source option (RFC 4861 7.2.3,
 * 6.3.4): create the entry STALE, or make it STALE when the address
 * changed; an INCOMPLETE entry is resolved by it. */
static tern_nd_entry_t *nd_learn(tern_stack_t *stack, tern_ipv6_if_t *ifs, const tern_ip6_t *ip, const uint8_t mac[6])
{
    tern_nd_entry_t *e = nd_find(stack, ifs, ip);
    if (e == NULL) {
        e = nd_take_slot(stack);
        if (e == NULL)
            return NULL;
        e->ifs = ifs;
        e->ip = *ip;
        nd_entry_set(stack, e, mac, TERN_ND_STALE);
    } else if (e->state == TERN_ND_INCOMPLETE || !wire_mac_equal(e->mac, mac)) {
        nd_entry_set(stack, e, mac, TERN_ND_STALE);
    }
    return e;
}

int nd_is_onlink(tern_stack_t *stack, tern_ipv6_if_t *ifs, const tern_ip6_t *dst)
{
    if (ip6_is_linklocal(dst))
        return 1;
    for (unsigned i = 0; i < TERN_IPV6_PREFIXES; i++) {
        const tern_ip6_prefix_t *p = &ifs->prefixes[i];
        if (p->used && ip6_prefix_match(&p->prefix, dst, p->len))
            return 1;
    }
    /* Static addresses carry their prefix as on-link. */
    for (unsigned i = 0; i < TERN_IPV6_ADDR_MAX; i++) {
        const tern_ip6_addr_t *a = &ifs->addrs[i];
        if (a->origin == TERN_IP6_ORIGIN_STATIC && (a->state == TERN_IP6_ADDR_PREFERRED ||
                                                    a->state == TERN_IP6_ADDR_DEPRECATED) &&
            ip6_prefix_match(&a->addr, dst, a->prefix_len))
            return 1;
    }
    (void)stack;
    return 0;
}

const tern_ip6_t *nd_default_router(tern_stack_t *stack, tern_ipv6_if_t *ifs)
{
    /* RFC 4861 6.3.6: a router known reachable first, else round-robin is
     * allowed; we take the first in the list. */
    const tern_ip6_t *any = NULL;
    for (unsigned i = 0; i < TERN_IPV6_ROUTERS; i++) {
        const tern_ip6_router_t *r = &ifs->routers[i];
        if (!r->used)
            continue;
        const tern_nd_entry_t *e = nd_find(stack, ifs, &r->addr);
        if (e != NULL && e->state != TERN_ND_INCOMPLETE)
            return &r->addr;
        if (any == NULL)
            any = &r->addr;
    }
    return any;
}

/* ---- DAD and addresses ----------------------------------------------------- */

void mld_schedule(tern_stack_t *stack, tern_ipv6_if_t *ifs)
{
    ifs->mld_left = MLD_ROBUSTNESS;
    ifs->mld_query = 0;
    ifs->mld_deadline = stack->now;
}

void nd_dad_start(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_ip6_addr_t *a)
{
    /* Join the solicited-node group first (RFC 4862 5.4.2), then wait a
     * random delay before the first solicitation. */
    if (ifs->mcast != NULL) {
        tern_ip6_t sn;
        uint8_t mac[6];
        ip6_solicited_node(&a->addr, &sn);
        ip6_mcast_mac(&sn, mac);
        ifs->mcast(ifs->nif, mac, 1);
    }
    mld_schedule(stack, ifs);
    a->state = TERN_IP6_ADDR_TENTATIVE;
    a->dad_sent = 0;
    a->dad_deadline = stack->now + 1u + nd_rand(stack, ND_MAX_RTR_SOLICITATION_DELAY_MS);
}

/* Another node holds a (RFC 4862 5.4.5): refuse it and say so. A
 * duplicate link-local address stops IPv6 on the interface. */
static void nd_dad_failed(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_ip6_addr_t *a)
{
    stack->counters.nd_dad_conflicts++;
    a->state = TERN_IP6_ADDR_DUPLICATE;
    nd_log_addr(stack, TERN_LOG_WARN, "ipv6: duplicate address detected, refusing ", &a->addr, "");
    if (a->origin == TERN_IP6_ORIGIN_LINKLOCAL) {
        ifs->disabled = 1;
        stack_log(stack, TERN_LOG_WARN, "ipv6: link-local address is a duplicate: IPv6 off on this interface");
    }
}

static void nd_addr_ready(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_ip6_addr_t *a)
{
    a->state = (!a->infinite && net_time_reached(stack->now, a->preferred_until)) ? TERN_IP6_ADDR_DEPRECATED
                                                                                 : TERN_IP6_ADDR_PREFERRED;
    nd_log_addr(stack, TERN_LOG_INFO, "ipv6: address ", &a->addr, " ready");
    if (a->origin == TERN_IP6_ORIGIN_LINKLOCAL) {
        /* Now reports and solicitations have a source (RFC 3810 5.2.13,
         * RFC 4861 6.3.7). */
        mld_schedule(stack, ifs);
        if (ifs->rs_left != 0u)
            ifs->rs_deadline = stack->now + nd_rand(stack, ND_MAX_RTR_SOLICITATION_DELAY_MS);
    }
    /* RFC 4861 7.2.6 would advertise it; a SLAAC host need not. */
}

static void nd_addr_remove(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_ip6_addr_t *a)
{
    nd_log_addr(stack, TERN_LOG_INFO, "ipv6: address ", &a->addr, " expired");
    stack->counters.nd_addr_expired++;
    if (ifs->mcast != NULL) {
        tern_ip6_t sn;
        uint8_t mac[6];
        ip6_solicited_node(&a->addr, &sn);
        ip6_mcast_mac(&sn, mac);
        ifs->mcast(ifs->nif, mac, 0);
    }
    memset(a, 0, sizeof *a);
    mld_schedule(stack, ifs);
}

/* ---- MLDv2 ------------------------------------------------------------------ */

/* One MLDv2 report with a record of the given type per group. */
static void mld_send_records(tern_stack_t *stack, tern_ipv6_if_t *ifs, const tern_ip6_t *groups, unsigned n,
                             uint8_t type)
{
    if (n == 0u)
        return;
    size_t len = MLD2_REPORT_HDR_LEN + n * MLD2_RECORD_LEN;
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, IPV6_HEADROOM + IPV6_EXT_MIN_LEN + len, 0);
    if (nb == NULL)
        return;
    (void)tern_netbuf_pull(nb, IPV6_HEADROOM + IPV6_EXT_MIN_LEN);
    icmp6_write(nb->data, ICMP6_MLD2_REPORT, 0, n);
    uint8_t *r = nb->data + MLD2_REPORT_HDR_LEN;
    for (unsigned k = 0; k < n; k++, r += MLD2_RECORD_LEN) {
        r[0] = type;
        r[1] = 0;          /* aux data length */
        wire_wr16(r + 2, 0); /* sources */
        memcpy(r + 4, groups[k].b, 16);
    }
    /* From the link-local address once it is ours, :: before (5.2.13). */
    tern_ip6_t src = ip6_any;
    for (unsigned i = 0; i < TERN_IPV6_ADDR_MAX; i++) {
        const tern_ip6_addr_t *a = &ifs->addrs[i];
        if (a->origin == TERN_IP6_ORIGIN_LINKLOCAL && a->state == TERN_IP6_ADDR_PREFERRED)
            src = a->addr;
    }
    icmpv6_set_checksum(nb, &src, &ip6_all_mldv2);
    if (ipv6_output_router_alert(stack, ifs, nb, &src, &ip6_all_mldv2) == TERN_OK)
        stack->counters.nd_mld_tx++;
}

static void mld_add_group(tern_ip6_t *groups, unsigned *n, const tern_ip6_t *g)
{
    for (unsigned k = 0; k < *n; k++)
        if (ip6_equal(&groups[k], g))
            return;
    groups[(*n)++] = *g;
}

static void mld_send_report(tern_stack_t *stack, tern_ipv6_if_t *ifs)
{
    /* One record per group (deduplicated): the solicited-node groups of our
     * addresses and the groups sockets joined; ff02::1 is never reported
     * (RFC 3810 6). */
    tern_ip6_t groups[TERN_IPV6_ADDR_MAX + TERN_IPV6_MCAST_GROUPS];
    unsigned n = 0;
    for (unsigned i = 0; i < TERN_IPV6_ADDR_MAX; i++) {
        const tern_ip6_addr_t *a = &ifs->addrs[i];
        if (a->state == TERN_IP6_ADDR_FREE || a->state == TERN_IP6_ADDR_DUPLICATE)
            continue;
        tern_ip6_t sn;
        ip6_solicited_node(&a->addr, &sn);
        mld_add_group(groups, &n, &sn);
    }
    for (unsigned i = 0; i < TERN_IPV6_MCAST_GROUPS; i++) {
        const tern_ip6_membership_t *m = &stack->ipv6.groups[i];
        if (m->owner != NULL && !ip6_equal(&m->group, &ip6_all_nodes))
            mld_add_group(groups, &n, &m->group);
    }
    mld_send_records(stack, ifs, groups, n, ifs->mld_query ? MLD2_MODE_IS_EXCLUDE : MLD2_CHANGE_TO_EXCLUDE);
}

/* ---- socket memberships ------------------------------------------------------- */

int mld_is_member(const tern_stack_t *stack, const void *owner, const tern_ip6_t *group)
{
    for (unsigned i = 0; i < TERN_IPV6_MCAST_GROUPS; i++) {
        const tern_ip6_membership_t *m = &stack->ipv6.groups[i];
        if (m->owner != NULL && (owner == NULL || m->owner == owner) && ip6_equal(&m->group, group))
            return 1;
    }
    return 0;
}

/* Does ifs still listen to a group with this Ethernet address (another
 * group mapping to the same 33:33:xx:xx:xx:xx)? */
static int mld_mac_in_use(const tern_stack_t *stack, const tern_ipv6_if_t *ifs, const uint8_t mac[6])
{
    uint8_t m[6];
    ip6_mcast_mac(&ip6_all_nodes, m);
    if (memcmp(m, mac, 6) == 0)
        return 1;
    for (unsigned i = 0; i < TERN_IPV6_ADDR_MAX; i++) {
        const tern_ip6_addr_t *a = &ifs->addrs[i];
        if (a->state == TERN_IP6_ADDR_FREE)
            continue;
        tern_ip6_t sn;
        ip6_solicited_node(&a->addr, &sn);
        ip6_mcast_mac(&sn, m);
        if (memcmp(m, mac, 6) == 0)
            return 1;
    }
    for (unsigned i = 0; i < TERN_IPV6_MCAST_GROUPS; i++) {
        const tern_ip6_membership_t *g = &stack->ipv6.groups[i];
        if (g->owner == NULL)
            continue;
        ip6_mcast_mac(&g->group, m);
        if (memcmp(m, mac, 6) == 0)
            return 1;
    }
    return 0;
}

int mld_join(tern_stack_t *stack, const void *owner, const tern_ip6_t *group)
{
    /* Interface-local (1) and reserved (0) scopes never reach the wire. */
    if (owner == NULL || !ip6_is_mcast(group) || (group->b[1] & 0x0Fu) < 2u)
        return TERN_ERR_INVAL;
    if (mld_is_member(stack, owner, group))
        return TERN_ERR_ADDRINUSE;
    tern_ip6_membership_t *slot = NULL;
    for (unsigned i = 0; i < TERN_IPV6_MCAST_GROUPS && slot == NULL; i++)
        if (stack->ipv6.groups[i].owner == NULL)
            slot = &stack->ipv6.groups[i];
    if (slot == NULL)
        return TERN_ERR_NOMEM;
    int first = !mld_is_member(stack, NULL, group);
    uint8_t mac[6];
    ip6_mcast_mac(group, mac);
    /* The filter hook before the membership exists: the MAC is new only
     * if nothing else uses it. */
    for (unsigned i = 0; first && i < TERN_IPV6_NETIF_MAX; i++) {
        tern_ipv6_if_t *ifs = &stack->ipv6.ifs[i];
        if (ifs->nif != NULL && ifs->mcast != NULL && !mld_mac_in_use(stack, ifs, mac))
            ifs->mcast(ifs->nif, mac, 1);
    }
    slot->group = *group;
    slot->owner = owner;
    /* RFC 3810 6.1: a state change, reported Robustness Variable times. */
    for (unsigned i = 0; first && i < TERN_IPV6_NETIF_MAX; i++) {
        tern_ipv6_if_t *ifs = &stack->ipv6.ifs[i];
        if (ifs->nif != NULL && !ifs->disabled)
            mld_schedule(stack, ifs);
    }
    return TERN_OK;
}

int mld_leave(tern_stack_t *stack, const void *owner, const tern_ip6_t *group)
{
    tern_ip6_membership_t *slot = NULL;
    for (unsigned i = 0; i < TERN_IPV6_MCAST_GROUPS && slot == NULL; i++) {
        tern_ip6_membership_t *m = &stack->ipv6.groups[i];
        if (owner != NULL && m->owner == owner && ip6_equal(&m->group, group))
            slot = m;
    }
    if (slot == NULL)
        return TERN_ERR_INVAL;
    memset(slot, 0, sizeof *slot);
    if (mld_is_member(stack, NULL, group))
        return TERN_OK; /* another socket still listens */
    uint8_t mac[6];
    ip6_mcast_mac(group, mac);
    for (unsigned i = 0; i < TERN_IPV6_NETIF_MAX; i++) {
        tern_ipv6_if_t *ifs = &stack->ipv6.ifs[i];
        if (ifs->nif == NULL)
            continue;
        /* A leave (TO_IN with no sources), sent once at once: the router's
         * last-listener queries, which we no longer answer for the group,
         * cover a lost one (RFC 3810 6.1 would repeat it). A solicited-node
         * group we still need stays reported. */
        int still_ours = 0;
        for (unsigned k = 0; k < TERN_IPV6_ADDR_MAX; k++) {
            const tern_ip6_addr_t *a = &ifs->addrs[k];
            tern_ip6_t sn;
            ip6_solicited_node(&a->addr, &sn);
            if (a->state != TERN_IP6_ADDR_FREE && a->state != TERN_IP6_ADDR_DUPLICATE && ip6_equal(&sn, group))
                still_ours = 1;
        }
        if (!ifs->disabled && !still_ours && !ip6_equal(group, &ip6_all_nodes))
            mld_send_records(stack, ifs, group, 1, MLD2_CHANGE_TO_INCLUDE);
        if (ifs->mcast != NULL && !mld_mac_in_use(stack, ifs, mac))
            ifs->mcast(ifs->nif, mac, 0);
    }
    return TERN_OK;
}

void mld_leave_all(tern_stack_t *stack, const void *owner)
{
    for (unsigned i = 0; i < TERN_IPV6_MCAST_GROUPS; i++) {
        tern_ip6_membership_t *m = &stack->ipv6.groups[i];
        if (owner != NULL && m->owner == owner) {
            tern_ip6_t g = m->group;
            (void)mld_leave(stack, owner, &g);
        }
    }
}

void mld_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    tern_ipv6_if_t *ifs = ip->ifs;
    /* RFC 3810 5.1.14: queries come from a link-local source. MLDv1 and v2
     * queries both are at least 24 bytes. */
    if (nb->len < MLD_QUERY_MIN_LEN) {
        c->icmp6_drop_truncated++;
    } else if (!ip6_is_linklocal(&ip->src)) {
        c->nd_drop_invalid++;
    } else {
        c->nd_mld_query_rx++;
        /* Answer with our current state after a random part of the
         * maximum response delay (RFC 3810 6.2; codes below 32768 are ms). */
        uint32_t max_ms = wire_rd16(nb->data + 4);
        if (max_ms >= 32768u)
            max_ms = 32768u;
        ifs->mld_left = 1;
        ifs->mld_query = 1;
        ifs->mld_deadline = stack->now + nd_rand(stack, max_ms);
    }
    tern_netbuf_release(&stack->netbufs, nb);
}

/* ---- ND input ---------------------------------------------------------------- */

/* The source or target link-layer address option, or NULL. *bad set when
 * one has the wrong length for Ethernet. */
static const uint8_t *nd_find_lla(const uint8_t *opts, size_t len, uint8_t type, int *bad)
{
    size_t off = 0;
    nd_opt_t o;
    while (nd_opt_next(opts, len, &off, &o) == 1) {
        if (o.p[0] != type)
            continue;
        if (o.len != ND_OPT_LLA_LEN) {
            *bad = 1;
            return NULL;
        }
        return o.p + 2;
    }
    return NULL;
}

static void nd_ns_input(tern_stack_t *stack, const uint8_t *m, size_t len, const ipv6_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    tern_ipv6_if_t *ifs = ip->ifs;
    tern_ip6_t target;
    memcpy(target.b, m + ND_OFF_TARGET, 16);
    int bad = 0;
    const uint8_t *slla = nd_find_lla(m + ND_NS_LEN, len - ND_NS_LEN, ND_OPT_SLLA, &bad);
    int dad = ip6_is_any(&ip->src);
    tern_ip6_t sn;
    ip6_solicited_node(&target, &sn);
    /* RFC 4861 7.1.1. */
    if (bad || ip6_is_mcast(&target) || (dad && (slla != NULL || !ip6_equal(&ip->dst, &sn)))) {
        c->nd_drop_invalid++;
        return;
    }
    tern_ip6_addr_t *a = ipv6_addr_find(ifs, &target);
    if (a == NULL || a->state == TERN_IP6_ADDR_DUPLICATE) {
        c->nd_drop_invalid++; /* not one of ours (a solicited-node group collision) */
        return;
    }
    c->nd_ns_rx++;
    if (a->state == TERN_IP6_ADDR_TENTATIVE) {
        /* Another node doing DAD for the same address: a duplicate. A
         * resolution for a tentative address is ignored (RFC 4862 5.4.3). */
        if (dad)
            nd_dad_failed(stack, ifs, a);
        return;
    }
    if (dad) {
        /* RFC 4861 7.2.4: to all nodes, not solicited, override. */
        nd_send_na(stack, ifs, &target, &ip6_all_nodes, ND_NA_FLAG_OVERRIDE);
        return;
    }
    if (slla != NULL)
        (void)nd_learn(stack, ifs, &ip->src, slla);
    nd_send_na(stack, ifs, &target, &ip->src, ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE);
}

static void nd_router_forget(tern_ipv6_if_t *ifs, const tern_ip6_t *addr)
{
    for (unsigned i = 0; i < TERN_IPV6_ROUTERS; i++) {
        if (ifs->routers[i].used && ip6_equal(&ifs->routers[i].addr, addr))
            ifs->routers[i].used = 0;
    }
}

static void nd_na_input(tern_stack_t *stack, const uint8_t *m, size_t len, const ipv6_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    tern_ipv6_if_t *ifs = ip->ifs;
    tern_ip6_t target;
    memcpy(target.b, m + ND_OFF_TARGET, 16);
    uint8_t flags = m[ICMP6_OFF_REST];
    int bad = 0;
    const uint8_t *tlla = nd_find_lla(m + ND_NA_LEN, len - ND_NA_LEN, ND_OPT_TLLA, &bad);
    /* RFC 4861 7.1.2. */
    if (bad || ip6_is_mcast(&target) || (ip->dst_mcast && (flags & ND_NA_FLAG_SOLICITED))) {
        c->nd_drop_invalid++;
        return;
    }
    c->nd_na_rx++;
    tern_ip6_addr_t *a = ipv6_addr_find(ifs, &target);
    if (a != NULL) {
        /* RFC 4862 5.4.4: an advertisement for a tentative address means
         * it is taken. For one we hold, someone else claims it: say so. */
        if (a->state == TERN_IP6_ADDR_TENTATIVE)
            nd_dad_failed(stack, ifs, a);
        else if (a->state != TERN_IP6_ADDR_DUPLICATE)
            nd_log_addr(stack, TERN_LOG_WARN, "ipv6: another node advertises our address ", &target, "");
        return;
    }
    tern_nd_entry_t *e = nd_find(stack, ifs, &target);
    if (e == NULL) {
        c->nd_drop_na_unsolicited++; /* 7.2.5: no entry, nothing to do */
        return;
    }
    int solicited = (flags & ND_NA_FLAG_SOLICITED) != 0u;
    int override = (flags & ND_NA_FLAG_OVERRIDE) != 0u;
    uint8_t was_router = e->is_router;
    if (e->state == TERN_ND_INCOMPLETE) {
        if (tlla == NULL)
            return;
        e->is_router = (flags & ND_NA_FLAG_ROUTER) != 0u;
        nd_entry_set(stack, e, tlla, solicited ? TERN_ND_REACHABLE : TERN_ND_STALE);
    } else {
        int differs = tlla != NULL && !wire_mac_equal(tlla, e->mac);
        if (!override && differs) {
            /* 7.2.5: keep the address, but doubt it. */
            if (e->state == TERN_ND_REACHABLE) {
                e->state = TERN_ND_STALE;
                e->updated = stack->now;
            }
            return;
        }
        if (differs)
            memcpy(e->mac, tlla, 6);
        if (solicited) {
            e->state = TERN_ND_REACHABLE;
            e->probes = 0;
            e->deadline = stack->now + ifs->reachable_ms;
        } else if (differs) {
            e->state = TERN_ND_STALE;
        }
        e->updated = stack->now;
        e->is_router = (flags & ND_NA_FLAG_ROUTER) != 0u;
    }
    if (was_router && !e->is_router)
        nd_router_forget(ifs, &target);
}

/* Prefix information (RFC 4861 6.3.4 on-link, RFC 4862 5.5.3 autonomous). */
static void nd_prefix_input(tern_stack_t *stack, tern_ipv6_if_t *ifs, const uint8_t *o)
{
    tern_counters_t *c = &stack->counters;
    uint8_t plen = o[ND_PI_OFF_PREFIX_LEN];
    uint8_t flags = o[ND_PI_OFF_FLAGS];
    uint32_t valid = wire_rd32(o + ND_PI_OFF_VALID);
    uint32_t preferred = wire_rd32(o + ND_PI_OFF_PREFERRED);
    tern_ip6_t prefix;
    memcpy(prefix.b, o + ND_PI_OFF_PREFIX, 16);
    if (plen > 128u || ip6_is_linklocal(&prefix) || ip6_is_mcast(&prefix)) {
        c->nd_prefix_ignored++;
        return;
    }
    uint32_t now = stack->now;
    if (flags & ND_PI_FLAG_ONLINK) {
        tern_ip6_prefix_t *p = NULL, *free_slot = NULL;
        for (unsigned i = 0; i < TERN_IPV6_PREFIXES; i++) {
            tern_ip6_prefix_t *q = &ifs->prefixes[i];
            if (q->used && q->len == plen && ip6_prefix_match(&q->prefix, &prefix, plen))
                p = q;
            else if (!q->used && free_slot == NULL)
                free_slot = q;
        }
        if (p == NULL && valid != 0u && free_slot != NULL) {
            p = free_slot;
            p->used = 1;
            p->prefix = prefix;
            p->len = plen;
        }
        if (p != NULL) {
            if (valid == 0u)
                p->used = 0;
            p->infinite = valid == 0xFFFFFFFFu;
            p->expires = nd_deadline(now, valid);
        }
    }
    if (!(flags & ND_PI_FLAG_AUTO))
        return;
    /* 5.5.3 (c), (d): preferred within valid; a 64-bit interface identifier
     * needs a /64 (RFC 4291 2.5.1). */
    if (preferred > valid || plen != 64u) {
        c->nd_prefix_ignored++;
        return;
    }
    tern_ip6_t addr = prefix;
    ipv6_iid(stack, ifs, &prefix, addr.b + 8);
    tern_ip6_addr_t *a = ipv6_addr_find(ifs, &addr);
    if (a == NULL) {
        if (valid == 0u)
            return;
        a = ipv6_addr_add_slaac(stack, ifs, &addr);
        if (a == NULL) {
            c->nd_prefix_ignored++; /* TERN_IPV6_ADDR_MAX reached */
            return;
        }
        a->infinite = valid == 0xFFFFFFFFu;
        a->valid_until = nd_deadline(now, valid);
        a->preferred_until = nd_deadline(now, preferred);
        return;
    }
    if (a->origin != TERN_IP6_ORIGIN_SLAAC || a->state == TERN_IP6_ADDR_DUPLICATE)
        return;
    a->preferred_until = nd_deadline(now, preferred);
    if (a->state == TERN_IP6_ADDR_DEPRECATED && preferred != 0u)
        a->state = TERN_IP6_ADDR_PREFERRED;
    /* 5.5.3 (e): an advertised valid lifetime only shortens ours below two
     * hours if it is longer than what remains (spoofed RAs cannot kill
     * addresses quickly). */
    uint32_t remaining = a->infinite ? UINT32_MAX
                                     : (net_time_reached(now, a->valid_until) ? 0u : a->valid_until - now);
    uint64_t valid_ms = (uint64_t)valid * 1000u;
    if (valid == 0xFFFFFFFFu) {
        a->infinite = 1;
    } else if (valid_ms > SLAAC_TWO_HOURS_MS || valid_ms > remaining) {
        a->infinite = 0;
        a->valid_until = nd_deadline(now, valid);
    } else if (remaining > SLAAC_TWO_HOURS_MS) {
        a->infinite = 0;
        a->valid_until = now + SLAAC_TWO_HOURS_MS;
    }
    if (!a->infinite && valid != 0xFFFFFFFFu && preferred == 0xFFFFFFFFu)
        a->preferred_until = a->valid_until;
}

static void nd_rdnss_input(tern_stack_t *stack, tern_ipv6_if_t *ifs, const nd_opt_t *o)
{
    /* RFC 8106 5.1: length 3 + 2 per further address, so odd and >= 3. */
    if (o->len < 24u || ((o->len / 8u) & 1u) == 0u) {
        stack->counters.nd_drop_invalid++;
        return;
    }
    uint32_t lifetime = wire_rd32(o->p + ND_RDNSS_OFF_LIFETIME);
    for (size_t off = ND_RDNSS_OFF_ADDRS; off + 16u <= o->len; off += 16u) {
        tern_ip6_t a;
        memcpy(a.b, o->p + off, 16);
        int slot = -1;
        for (unsigned k = 0; k < TERN_IPV6_DNS_MAX; k++) {
            if (ifs->dns_used[k] && ip6_equal(&ifs->dns[k], &a)) {
                slot = (int)k;
                break;
            }
            if (!ifs->dns_used[k] && slot < 0)
                slot = (int)k;
        }
        if (slot < 0)
            continue;
        if (lifetime == 0u) {
            if (ifs->dns_used[slot] && ip6_equal(&ifs->dns[slot], &a))
                ifs->dns_used[slot] = 0;
            continue;
        }
        ifs->dns[slot] = a;
        ifs->dns_used[slot] = 1;
        ifs->dns_expires[slot] = lifetime == 0xFFFFFFFFu ? 0u : nd_deadline(stack->now, lifetime);
    }
}

static void nd_ra_input(tern_stack_t *stack, const uint8_t *m, size_t len, const ipv6_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    tern_ipv6_if_t *ifs = ip->ifs;
    int bad = 0;
    const uint8_t *opts = m + ND_RA_LEN;
    size_t olen = len - ND_RA_LEN;
    const uint8_t *slla = nd_find_lla(opts, olen, ND_OPT_SLLA, &bad);
    /* RFC 4861 6.1.2: from a link-local address. */
    if (bad || !ip6_is_linklocal(&ip->src)) {
        c->nd_drop_invalid++;
        return;
    }
    c->nd_ra_rx++;
    ifs->ra_seen = 1;
    ifs->rs_left = 0;
    if (m[ND_RA_OFF_HOP_LIMIT] != 0u)
        ifs->hop_limit = m[ND_RA_OFF_HOP_LIMIT];
    uint32_t reach = wire_rd32(m + ND_RA_OFF_REACHABLE);
    if (reach != 0u && reach <= 3600000u)
        ifs->reachable_ms = reach / 2u + nd_rand(stack, reach);
    /* RetransTimer paces solicitations, and with them how long packets wait
     * for an address: at most ND_RETRANS_MAX_MS (a router's 60 s would hold
     * network buffers for three minutes; the fuzzer found it). */
    uint32_t retrans = wire_rd32(m + ND_RA_OFF_RETRANS);
    if (retrans != 0u)
        ifs->retrans_ms = retrans < ND_RETRANS_MAX_MS ? retrans : ND_RETRANS_MAX_MS;
    uint16_t lifetime = wire_rd16(m + ND_RA_OFF_LIFETIME);
    tern_ip6_router_t *r = NULL, *free_slot = NULL;
    for (unsigned i = 0; i < TERN_IPV6_ROUTERS; i++) {
        tern_ip6_router_t *q = &ifs->routers[i];
        if (q->used && ip6_equal(&q->addr, &ip->src))
            r = q;
        else if (!q->used && free_slot == NULL)
            free_slot = q;
    }
    if (lifetime == 0u) {
        if (r != NULL)
            r->used = 0;
    } else {
        if (r == NULL && free_slot != NULL) {
            r = free_slot;
            r->used = 1;
            r->addr = ip->src;
        }
        if (r != NULL)
            r->expires = stack->now + (uint32_t)lifetime * 1000u;
    }
    if (slla != NULL) {
        tern_nd_entry_t *e = nd_learn(stack, ifs, &ip->src, slla);
        if (e != NULL)
            e->is_router = 1;
    }
    size_t off = 0;
    nd_opt_t o;
    while (nd_opt_next(opts, olen, &off, &o) == 1) {
        switch (o.p[0]) {
        case ND_OPT_MTU: {
            uint32_t mtu = o.len == 8u ? wire_rd32(o.p + ND_MTU_OFF_MTU) : 0u;
            if (mtu >= IPV6_MIN_MTU && mtu <= ifs->nif->mtu)
                ifs->mtu = (uint16_t)mtu;
            break;
        }
        case ND_OPT_PREFIX:
            if (o.len == ND_PI_LEN)
                nd_prefix_input(stack, ifs, o.p);
            else
                c->nd_prefix_ignored++;
            break;
        case ND_OPT_RDNSS:
            nd_rdnss_input(stack, ifs, &o);
            break;
        default:
            break; /* 4.6: unknown options are skipped */
        }
    }
}

/* The checks every ND message gets (RFC 4861 6.1, 7.1, 8.1): from this
 * link (hop limit 255), code 0, the fixed part present, every option of a
 * non-zero length inside the message. 0, or -1 with the drop counted. */
static int nd_validate(tern_counters_t *c, const uint8_t *m, size_t len, const ipv6_rx_t *ip, uint8_t type)
{
    size_t fixed = type == ICMP6_ND_RS ? ND_RS_LEN
                   : type == ICMP6_ND_RA ? ND_RA_LEN
                   : type == ICMP6_ND_REDIRECT ? ND_REDIRECT_LEN
                                               : ND_NS_LEN; /* NS and NA */
    if (ip->hop_limit != ND_HOP_LIMIT)
        c->nd_drop_hop_limit++;
    else if (m[ICMP6_OFF_CODE] != 0u)
        c->nd_drop_code++;
    else if (len < fixed)
        c->nd_drop_len++;
    else if (nd_opts_valid(m + fixed, len - fixed) != 0)
        c->nd_drop_opt_len++;
    else if (type == ICMP6_ND_RS)
        c->nd_drop_rs++; /* a host ignores them (6.2.6 is for routers) */
    else if (type == ICMP6_ND_REDIRECT)
        c->nd_drop_redirect++;
    else
        return 0;
    return -1;
}

void nd_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip, uint8_t type)
{
    const uint8_t *m = nb->data;
    size_t len = nb->len;
    if (nd_validate(&stack->counters, m, len, ip, type) == 0) {
        if (type == ICMP6_ND_NS)
            nd_ns_input(stack, m, len, ip);
        else if (type == ICMP6_ND_NA)
            nd_na_input(stack, m, len, ip);
        else
            nd_ra_input(stack, m, len, ip);
    }
    tern_netbuf_release(&stack->netbufs, nb);
}

/* ---- timers ---------------------------------------------------------------- */

static uint32_t nd_left(uint32_t now, uint32_t deadline, uint32_t next)
{
    uint32_t left = net_time_reached(now, deadline) ? 0u : deadline - now;
    return left < next ? left : next;
}

static uint32_t nd_poll_cache(tern_stack_t *stack, uint32_t now, uint32_t next)
{
    tern_counters_t *c = &stack->counters;
    for (unsigned i = 0; i < TERN_IPV6_NBR_CACHE_SIZE; i++) {
        tern_nd_entry_t *e = &stack->ipv6.nbr[i];
        if (e->state == TERN_ND_FREE || e->state == TERN_ND_STALE)
            continue; /* STALE has no timer (7.3.3) */
        if (net_time_reached(now, e->deadline)) {
            switch (e->state) {
            case TERN_ND_INCOMPLETE:
            case TERN_ND_PROBE:
                /* MAX_MULTICAST_SOLICIT and MAX_UNICAST_SOLICIT are both 3. */
                if (e->probes >= ND_MAX_SOLICIT) {
                    /* 7.3.3: unreachable; its packets go (counted). */
                    c->nd_resolve_failed++;
                    nd_entry_clear(stack, e);
                    continue;
                }
                e->probes++;
                e->deadline = now + e->ifs->retrans_ms;
                nd_send_ns(stack, e->ifs, &e->ip, e->state == TERN_ND_PROBE ? e->mac : NULL, 0);
                break;
            case TERN_ND_REACHABLE:
                e->state = TERN_ND_STALE;
                e->updated = now;
                continue;
            case TERN_ND_DELAY:
                e->state = TERN_ND_PROBE;
                e->probes = 1;
                e->deadline = now + e->ifs->retrans_ms;
                nd_send_ns(stack, e->ifs, &e->ip, e->mac, 0);
                break;
            default:
                break;
            }
            if (e->state == TERN_ND_FREE)
                continue;
        }
        next = nd_left(now, e->deadline, next);
    }
    return next;
}

static uint32_t nd_poll_if(tern_stack_t *stack, tern_ipv6_if_t *ifs, uint32_t now, uint32_t next)
{
    if (!ifs->nif->link_up || ifs->disabled)
        return next;
    /* MLD first: DAD solicitations follow the report of their group. */
    if (ifs->mld_left != 0u) {
        if (net_time_reached(now, ifs->mld_deadline)) {
            mld_send_report(stack, ifs);
            ifs->mld_left--;
            ifs->mld_query = 0;
            ifs->mld_deadline = now + 1u + nd_rand(stack, MLD_UNSOLICITED_INTERVAL_MS);
        }
        if (ifs->mld_left != 0u)
            next = nd_left(now, ifs->mld_deadline, next);
    }
    for (unsigned i = 0; i < TERN_IPV6_ADDR_MAX; i++) {
        tern_ip6_addr_t *a = &ifs->addrs[i];
        if (a->state == TERN_IP6_ADDR_FREE || a->state == TERN_IP6_ADDR_DUPLICATE)
            continue;
        if (!a->infinite && net_time_reached(now, a->valid_until)) {
            nd_addr_remove(stack, ifs, a);
            continue;
        }
        if (a->state == TERN_IP6_ADDR_TENTATIVE) {
            if (net_time_reached(now, a->dad_deadline)) {
                if (a->dad_sent < TERN_IPV6_DAD_TRANSMITS) {
                    a->dad_sent++;
                    a->dad_deadline = now + ifs->retrans_ms;
                    nd_send_ns(stack, ifs, &a->addr, NULL, 1);
                } else {
                    nd_addr_ready(stack, ifs, a);
                }
            }
            if (a->state == TERN_IP6_ADDR_TENTATIVE)
                next = nd_left(now, a->dad_deadline, next);
        } else if (a->state == TERN_IP6_ADDR_PREFERRED && !a->infinite) {
            if (net_time_reached(now, a->preferred_until))
                a->state = TERN_IP6_ADDR_DEPRECATED;
            else
                next = nd_left(now, a->preferred_until, next);
        }
        if (a->state != TERN_IP6_ADDR_FREE && !a->infinite)
            next = nd_left(now, a->valid_until, next);
    }
    for (unsigned i = 0; i < TERN_IPV6_ROUTERS; i++) {
        tern_ip6_router_t *r = &ifs->routers[i];
        if (r->used && net_time_reached(now, r->expires))
            r->used = 0;
        else if (r->used)
            next = nd_left(now, r->expires, next);
    }
    for (unsigned i = 0; i < TERN_IPV6_PREFIXES; i++) {
        tern_ip6_prefix_t *p = &ifs->prefixes[i];
        if (p->used && !p->infinite && net_time_reached(now, p->expires))
            p->used = 0;
        else if (p->used && !p->infinite)
            next = nd_left(now, p->expires, next);
    }
    for (unsigned k = 0; k < TERN_IPV6_DNS_MAX; k++) {
        if (ifs->dns_used[k] && ifs->dns_expires[k] != 0u && net_time_reached(now, ifs->dns_expires[k]))
            ifs->dns_used[k] = 0;
    }
    /* Router solicitations once the link-local address is ours (6.3.7). */
    tern_ip6_t ll;
    if (ifs->rs_left != 0u && ipv6_select_src(ifs, &ip6_all_routers, &ll) == 0) {
        if (net_time_reached(now, ifs->rs_deadline)) {
            nd_send_rs(stack, ifs);
            ifs->rs_left--;
            ifs->rs_deadline = now + ND_RTR_SOLICITATION_INTERVAL_MS;
        }
        if (ifs->rs_left != 0u)
            next = nd_left(now, ifs->rs_deadline, next);
    }
    return next;
}

uint32_t ipv6_poll(tern_stack_t *stack, uint32_t now)
{
    uint32_t next = UINT32_MAX;
    for (unsigned i = 0; i < TERN_IPV6_NETIF_MAX; i++) {
        if (stack->ipv6.ifs[i].nif != NULL)
            next = nd_poll_if(stack, &stack->ipv6.ifs[i], now, next);
    }
    next = nd_poll_cache(stack, now, next);
    uint32_t t = ipv6_frag_poll(stack, now);
    return t < next ? t : next;
}

#endif /* TERN_IPV6 */
