/* IPv6 fragments and path MTU: bounded reassembly (RFC 8200 4.5, RFC 5722,
 * RFC 7112), fragmentation of our own echo replies, and the per-destination
 * path MTU that Packet Too Big lowers (RFC 8201). The reassembly design is
 * IPv4's (ipv4.c): a small table of ledger blocks grown as fragments come,
 * one bit per 8-byte block, the oldest datagram evicted when it is full;
 * the byte budget TERN_IP_REASS_MAX_BYTES is shared with IPv4. */
#include "net/ipv6_internal.h"

#if TERN_IPV6
#include "tern/plan.h"
#include "util/fmt.h"

/* ---- path MTU (RFC 8201) ------------------------------------------------ */

static tern_ip6_pmtu_t *pmtu_find(tern_stack_t *stack, const tern_ip6_t *dst)
{
    for (unsigned i = 0; i < TERN_IPV6_PMTU_CACHE; i++) {
        tern_ip6_pmtu_t *e = &stack->ipv6.pmtu[i];
        if (e->mtu != 0u && ip6_equal(&e->dst, dst))
            return e;
    }
    return NULL;
}

uint16_t ipv6_path_mtu(tern_stack_t *stack, const tern_ip6_t *dst)
{
    /* The link MTU of the (first) IPv6 interface: TERN_IPV6_NETIF_MAX is 1
     * by default, and a host sends everything through it. */
    uint16_t mtu = IPV6_MIN_MTU;
    for (unsigned i = 0; i < TERN_IPV6_NETIF_MAX; i++) {
        if (stack->ipv6.ifs[i].nif != NULL) {
            mtu = stack->ipv6.ifs[i].mtu;
            break;
        }
    }
    const tern_ip6_pmtu_t *e = dst != NULL ? pmtu_find(stack, dst) : NULL;
    if (e != NULL && e->mtu < mtu)
        mtu = e->mtu;
    return mtu < IPV6_MIN_MTU ? (uint16_t)IPV6_MIN_MTU : mtu;
}

int ipv6_pmtu_update(tern_stack_t *stack, const tern_ip6_t *dst, uint32_t mtu)
{
    /* RFC 8201 4: never below the IPv6 minimum (a smaller figure only
     * means the link behind is tunnelled), never up from a PTB. */
    if (mtu < IPV6_MIN_MTU)
        mtu = IPV6_MIN_MTU;
    if (mtu >= ipv6_path_mtu(stack, dst))
        return 0;
    tern_ip6_pmtu_t *e = pmtu_find(stack, dst);
    for (unsigned i = 0; e == NULL && i < TERN_IPV6_PMTU_CACHE; i++) {
        if (stack->ipv6.pmtu[i].mtu == 0u)
            e = &stack->ipv6.pmtu[i];
    }
    if (e == NULL) {
        /* Full: the entry closest to its end makes room. */
        e = &stack->ipv6.pmtu[0];
        for (unsigned i = 1; i < TERN_IPV6_PMTU_CACHE; i++) {
            if ((int32_t)(stack->ipv6.pmtu[i].expires - e->expires) < 0)
                e = &stack->ipv6.pmtu[i];
        }
    }
    e->dst = *dst;
    e->mtu = (uint16_t)mtu;
    /* RFC 8201 5.3: try the larger MTU again after a while. */
    e->expires = stack->now + TERN_IPV6_PMTU_AGE_MS;
    char msg[96];
    unsigned n = 0;
    static const char head[] = "ipv6: path MTU to ";
    memcpy(msg, head, sizeof head - 1u);
    n += (unsigned)(sizeof head - 1u);
    n += tern_ip6_to_str(dst, msg + n);
    static const char mid[] = " now ";
    memcpy(msg + n, mid, sizeof mid - 1u);
    n += (unsigned)(sizeof mid - 1u);
    n += fmt_u64(msg + n, mtu);
    msg[n] = '\0';
    stack_log(stack, TERN_LOG_INFO, msg);
    return 1;
}

static uint32_t pmtu_poll(tern_stack_t *stack, uint32_t now, uint32_t next)
{
    for (unsigned i = 0; i < TERN_IPV6_PMTU_CACHE; i++) {
        tern_ip6_pmtu_t *e = &stack->ipv6.pmtu[i];
        if (e->mtu == 0u)
            continue;
        if (net_time_reached(now, e->expires))
            e->mtu = 0;
        else if (e->expires - now < next)
            next = e->expires - now;
    }
    return next;
}

/* ---- fragmentation (RFC 8200 4.5) --------------------------------------- */

int ipv6_output_fragments(tern_stack_t *stack, tern_ipv6_if_t *ifs, const uint8_t *payload, size_t len,
                          const tern_ip6_t *src, const tern_ip6_t *dst, uint8_t next, uint8_t hop_limit)
{
    tern_counters_t *c = &stack->counters;
    size_t mtu = ipv6_path_mtu(stack, dst);
    if (mtu > ifs->mtu)
        mtu = ifs->mtu;
    /* Every fragment but the last a multiple of 8 bytes. */
    size_t chunk = (mtu - IPV6_HDR_LEN - IPV6_FRAG_HDR_LEN) & ~(size_t)7u;
    if (len == 0u || len > 65535u - IPV6_FRAG_HDR_LEN || chunk == 0u)
        return TERN_ERR_MSGSIZE;
    /* RFC 7739: identifications that cannot be predicted. */
    uint32_t id = stack->port->random32(stack->port->ctx);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        tern_netbuf_t *b = tern_netbuf_get(&stack->netbufs, IPV6_HEADROOM + IPV6_FRAG_HDR_LEN + n, 0);
        if (b == NULL)
            return TERN_ERR_NOMEM;
        (void)tern_netbuf_pull(b, IPV6_HEADROOM);
        uint8_t *f = b->data;
        f[IPV6_EXT_OFF_NEXT] = next;
        f[1] = 0;
        wire_wr16(f + IPV6_FRAG_OFF_OFFSET, (uint16_t)(off | (off + n < len ? IPV6_FRAG_M : 0u)));
        wire_wr32(f + 4, id);
        memcpy(f + IPV6_FRAG_HDR_LEN, payload + off, n);
        int rc = ipv6_output(stack, ifs, b, src, dst, IPV6_NH_FRAGMENT, hop_limit);
        if (rc != TERN_OK)
            return rc;
        c->ipv6_frag_tx++;
    }
    return TERN_OK;
}

/* ---- reassembly (RFC 8200 4.5) ------------------------------------------ */
#if TERN_IP_REASSEMBLY

#define REASS_BLOCKS ((TERN_IP_REASS_MAX_BYTES + 7u) / 8u)
#define REASS_MAP_BYTES ((REASS_BLOCKS + 7u) / 8u)
/* Bytes of fragment zero's data a Time Exceeded quotes. */
#define REASS_QUOTE 64u

/* Ledger block (IP_REASSEMBLY): this header, then the fixed header of
 * fragment zero and cap bytes of the fragmentable part, so a datagram too
 * large for one buffer is one contiguous packet in place. Extension
 * headers in front of the fragment header were processed with every
 * fragment (a host has nothing more to do with them) and are not kept. */
struct tern_ip6_reass {
    tern_ip6_t src;
    tern_ip6_t dst;
    tern_ipv6_if_t *ifs;
    uint32_t id;
    uint32_t deadline;
    uint16_t total;   /* fragmentable part length, known once the last fragment came */
    uint16_t cap;     /* bytes allocated after the fixed header */
    uint16_t have;    /* bytes received (no overlaps, so no double count) */
    uint16_t max_end; /* highest fragment end seen */
    uint8_t next;     /* next header of the fragmentable part (fragment zero's) */
    uint8_t first;    /* fragment zero came: its fixed header is in pkt */
    uint8_t dead;     /* an overlap was seen: every fragment of it goes (RFC 5722) */
    uint8_t link_mcast;
    uint8_t map[REASS_MAP_BYTES];
    uint8_t pkt[];
};

/* For the planner (tern/plan.h, TERN_PLAN_REASS6): a datagram's block is
 * this fixed part and then its fragmentable part. Static-only build: one
 * slot per datagram in progress holding the whole byte budget (a
 * datagram's realloc stays in its slot), as IPv4's (ipv4.c). */
TERN_PLAN_SIZE(ip6_reass, sizeof(struct tern_ip6_reass) + IPV6_HDR_LEN);
TERN_STATIC_POOL(ip6_reass, TERN_MEM_IP_REASSEMBLY, sizeof(struct tern_ip6_reass) + IPV6_HDR_LEN + TERN_IP_REASS_MAX_BYTES,
                 TERN_IP_REASS_MAX_DATAGRAMS);

static void reass_free(tern_stack_t *stack, unsigned i)
{
    struct tern_ip6_reass *r = stack->ipv6.reass[i];
    stack->ipv4.reass_bytes -= r->cap;
    tern_mem_free(&stack->ledger, r);
    stack->ipv6.reass[i] = NULL;
}

static void reass_drop(tern_stack_t *stack, tern_netbuf_t *nb, uint32_t *counter)
{
    (*counter)++;
    tern_netbuf_release(&stack->netbufs, nb);
}

/* Drop datagram i and the fragment in hand, counting why. */
static void reass_abort(tern_stack_t *stack, unsigned i, tern_netbuf_t *nb, uint32_t *counter)
{
    reass_free(stack, i);
    reass_drop(stack, nb, counter);
}

/* A fragment refused with a Parameter Problem to its source. */
static void reass_reject(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *rx, uint32_t *counter,
                         uint8_t code, size_t pointer)
{
    icmpv6_send_error(stack, rx, nb->len, ICMP6_PARAM_PROBLEM, code, (uint32_t)pointer, 0);
    reass_drop(stack, nb, counter);
}

/* Does fragment zero carry the whole header chain (RFC 7112 5, RFC 8200
 * 4.5): every extension header after the fragment header, then the
 * upper-layer header? nh is the fragment header's next header, off where
 * it points. Overlong chains pass here: the walk drops them later. */
static int reass_chain_complete(const uint8_t *p, size_t total, size_t off, uint8_t nh)
{
    for (unsigned n = 0; n < TERN_IPV6_EXT_HDR_MAX; n++) {
        if (nh != IPV6_NH_HOP_BY_HOP && nh != IPV6_NH_DEST_OPTS && nh != IPV6_NH_ROUTING && nh != IPV6_NH_FRAGMENT)
            break;
        if (total - off < IPV6_EXT_MIN_LEN)
            return 0;
        size_t hlen = nh == IPV6_NH_FRAGMENT ? IPV6_FRAG_HDR_LEN : ipv6_ext_len(p + off);
        if (hlen > total - off)
            return 0;
        nh = p[off + IPV6_EXT_OFF_NEXT];
        off += hlen;
    }
    /* The upper-layer header's fixed part: TCP 20, UDP 8, ICMPv6 type,
     * code and checksum. */
    size_t need = nh == IPV6_NH_TCP ? 20u : nh == IPV6_NH_UDP ? 8u : nh == IPV6_NH_ICMPV6 ? 4u : 0u;
    return total - off >= need;
}

static int reass_slot(tern_stack_t *stack, const ipv6_rx_t *rx, uint32_t id)
{
    int free_slot = -1;
    unsigned oldest = 0;
    for (unsigned i = 0; i < TERN_IP_REASS_MAX_DATAGRAMS; i++) {
        const struct tern_ip6_reass *r = stack->ipv6.reass[i];
        if (r == NULL) {
            if (free_slot < 0)
                free_slot = (int)i;
        } else if (r->id == id && ip6_equal(&r->src, &rx->src) && ip6_equal(&r->dst, &rx->dst)) {
            return (int)i;
        } else if (stack->ipv6.reass[oldest] == NULL ||
                   (int32_t)(r->deadline - stack->ipv6.reass[oldest]->deadline) < 0) {
            oldest = i;
        }
    }
    if (free_slot < 0) {
        /* Full: the oldest datagram goes, as for IPv4 (docs/network.md). */
        stack->counters.ipv6_reass_evicted++;
        reass_free(stack, oldest);
        free_slot = (int)oldest;
    }
    struct tern_ip6_reass *r =
        tern_mem_zalloc(&stack->ledger, sizeof *r + IPV6_HDR_LEN, TERN_MEM_IP_REASSEMBLY, TERN_OWNER_STACK);
    if (r == NULL)
        return -1;
    r->src = rx->src;
    r->dst = rx->dst;
    r->ifs = rx->ifs;
    r->id = id;
    /* RFC 8200 4.5 allows 60 s from the first fragment; the IPv4 timeout
     * is shorter and frees the memory sooner. */
    r->deadline = stack->now + TERN_IP_REASS_TIMEOUT_MS;
    stack->ipv6.reass[free_slot] = r;
    return free_slot;
}

void ipv6_reass_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *rx, size_t frag_off)
{
    tern_counters_t *c = &stack->counters;
    const uint8_t *p = nb->data;
    const uint8_t *fh = p + frag_off;
    uint16_t fo = wire_rd16(fh + IPV6_FRAG_OFF_OFFSET);
    uint32_t offset = fo & IPV6_FRAG_OFFSET_MASK;
    int more = (fo & IPV6_FRAG_M) != 0u;
    size_t start = frag_off + IPV6_FRAG_HDR_LEN;
    uint32_t plen = (uint32_t)(nb->len - start);
    uint32_t end = offset + plen;
    /* RFC 8200 4.5: all but the last fragment carry a multiple of 8 bytes
     * (Parameter Problem at the payload length), and no datagram grows
     * past 65535 bytes of payload (at the fragment offset). */
    if (more && (plen == 0u || (plen & 7u) != 0u)) {
        reass_reject(stack, nb, rx, &c->ipv6_reass_bad_frag, ICMP6_PARAM_HEADER, IPV6_OFF_PAYLOAD_LEN);
        return;
    }
    if (frag_off - IPV6_HDR_LEN + end > 65535u) {
        reass_reject(stack, nb, rx, &c->ipv6_reass_bad_frag, ICMP6_PARAM_HEADER, frag_off + IPV6_FRAG_OFF_OFFSET);
        return;
    }
    /* RFC 7112: fragment zero holds the whole header chain, or the
     * datagram cannot be filtered; code 3, pointer 0 (RFC 8200 4.5). */
    if (offset == 0u && !reass_chain_complete(p, nb->len, start, fh[IPV6_EXT_OFF_NEXT])) {
        reass_reject(stack, nb, rx, &c->ipv6_reass_chain, ICMP6_PARAM_CHAIN, 0);
        return;
    }
    int slot = reass_slot(stack, rx, wire_rd32(fh + 4));
    if (slot < 0) {
        reass_drop(stack, nb, &c->ipv6_reass_nomem);
        return;
    }
    c->ipv6_frag_rx++;
    unsigned i = (unsigned)slot;
    struct tern_ip6_reass *r = stack->ipv6.reass[i];
    if (r->dead) {
        /* RFC 5722 3: the fragments of a datagram with an overlap that
         * are still to come are dropped too, silently. */
        reass_drop(stack, nb, &c->ipv6_reass_overlap);
        return;
    }
    if (end > TERN_IP_REASS_MAX_BYTES) {
        reass_abort(stack, i, nb, &c->ipv6_reass_too_big);
        return;
    }
    /* The last fragment fixes the length; nothing may contradict it. */
    if ((!more && ((r->total != 0u && r->total != end) || r->max_end > end)) ||
        (more && r->total != 0u && end > r->total)) {
        reass_abort(stack, i, nb, &c->ipv6_reass_bad_frag);
        return;
    }
    if (!more)
        r->total = (uint16_t)end;
    if (end > r->cap) {
        if (stack->ipv4.reass_bytes - r->cap + end > TERN_IP_REASS_MAX_BYTES) {
            reass_abort(stack, i, nb, &c->ipv6_reass_too_big);
            return;
        }
        struct tern_ip6_reass *g = tern_mem_realloc(&stack->ledger, r, sizeof *r + IPV6_HDR_LEN + end);
        if (g == NULL) {
            reass_abort(stack, i, nb, &c->ipv6_reass_nomem);
            return;
        }
        stack->ipv4.reass_bytes += end - g->cap;
        g->cap = (uint16_t)end;
        stack->ipv6.reass[i] = r = g;
    }
    /* RFC 5722: an overlap (an exact duplicate too) drops the datagram,
     * silently; its entry stays, empty, to drop the rest of it. */
    uint32_t first = offset / 8u, last = (end + 7u) / 8u;
    for (uint32_t b = first; b < last; b++) {
        if (r->map[b >> 3] & (1u << (b & 7u))) {
            struct tern_ip6_reass *g = tern_mem_realloc(&stack->ledger, r, sizeof *r + IPV6_HDR_LEN);
            if (g != NULL)
                stack->ipv6.reass[i] = r = g;
            stack->ipv4.reass_bytes -= r->cap;
            r->cap = 0;
            r->dead = 1;
            reass_drop(stack, nb, &c->ipv6_reass_overlap);
            return;
        }
    }
    for (uint32_t b = first; b < last; b++)
        r->map[b >> 3] = (uint8_t)(r->map[b >> 3] | (1u << (b & 7u)));
    if (plen != 0u)
        memcpy(r->pkt + IPV6_HDR_LEN + offset, p + start, plen);
    r->have = (uint16_t)(r->have + plen);
    if (end > r->max_end)
        r->max_end = (uint16_t)end;
    if (offset == 0u) {
        r->first = 1;
        r->next = fh[IPV6_EXT_OFF_NEXT];
        memcpy(r->pkt, p, IPV6_HDR_LEN);
    }
    r->link_mcast |= rx->link_mcast;
    tern_netbuf_release(&stack->netbufs, nb);
    /* Disjoint pieces inside [0, total) adding up to total cover it all. */
    if (r->total == 0u || !r->first || r->have != r->total)
        return;
    c->ipv6_reass_ok++;
    /* The whole packet: fragment zero's fixed header, its next header the
     * fragment header's, then the fragmentable part. */
    wire_wr16(r->pkt + IPV6_OFF_PAYLOAD_LEN, r->total);
    r->pkt[IPV6_OFF_NEXT] = r->next;
    size_t len = IPV6_HDR_LEN + (size_t)r->total;
    ipv6_rx_t whole = *rx;
    whole.reassembled = 1;
    whole.link_mcast = r->link_mcast;
    whole.hop_limit = r->pkt[IPV6_OFF_HOP_LIMIT];
    if (ETH_HDR_LEN + len > TERN_NETBUF_FRAME_SIZE) {
        /* Beyond one buffer: processed in place (an echo request only). */
        whole.hdr = r->pkt;
        ipv6_chain(stack, NULL, r->pkt, len, &whole);
        reass_free(stack, i);
        return;
    }
    tern_netbuf_t *out = tern_netbuf_get(&stack->netbufs, ETH_HDR_LEN + len, 0);
    if (out == NULL) {
        c->ipv6_reass_nomem++;
        reass_free(stack, i);
        return;
    }
    (void)tern_netbuf_pull(out, ETH_HDR_LEN);
    memcpy(out->data, r->pkt, len);
    reass_free(stack, i);
    whole.hdr = out->data;
    ipv6_chain(stack, out, out->data, len, &whole);
}

/* RFC 8200 4.5: time up; Time Exceeded (code 1) to the source if fragment
 * zero came, quoting it (its fixed header, a fragment header rebuilt from
 * what was kept, and the start of its data). */
static void reass_expire(tern_stack_t *stack, const struct tern_ip6_reass *r)
{
    stack->counters.ipv6_reass_timeout++;
    if (!r->first || r->dead || r->ifs->nif == NULL)
        return;
    /* Only bytes received: the block's tail may never have been written. */
    size_t dlen = 0;
    while (dlen < REASS_QUOTE && dlen < r->cap && (r->map[dlen / 64u] & (1u << ((dlen / 8u) & 7u))) != 0u)
        dlen += 8u;
    if (dlen > r->cap)
        dlen = r->cap;
    uint8_t q[IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN + REASS_QUOTE];
    memcpy(q, r->pkt, IPV6_HDR_LEN);
    q[IPV6_OFF_NEXT] = IPV6_NH_FRAGMENT;
    wire_wr16(q + IPV6_OFF_PAYLOAD_LEN, (uint16_t)(IPV6_FRAG_HDR_LEN + dlen));
    uint8_t *f = q + IPV6_HDR_LEN;
    f[IPV6_EXT_OFF_NEXT] = r->next;
    f[1] = 0;
    wire_wr16(f + IPV6_FRAG_OFF_OFFSET, IPV6_FRAG_M);
    wire_wr32(f + 4, r->id);
    memcpy(f + IPV6_FRAG_HDR_LEN, r->pkt + IPV6_HDR_LEN, dlen);
    ipv6_rx_t rx;
    memset(&rx, 0, sizeof rx);
    rx.hdr = q;
    rx.ifs = r->ifs;
    rx.src = r->src;
    rx.dst = r->dst;
    rx.dst_mcast = ip6_is_mcast(&r->dst) ? 1u : 0u;
    rx.link_mcast = r->link_mcast;
    icmpv6_send_error(stack, &rx, IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN + dlen, ICMP6_TIME_EXCEEDED, ICMP6_TIMEX_REASS, 0,
                      0);
}

static uint32_t reass_poll(tern_stack_t *stack, uint32_t now, uint32_t next)
{
    for (unsigned i = 0; i < TERN_IP_REASS_MAX_DATAGRAMS; i++) {
        struct tern_ip6_reass *r = stack->ipv6.reass[i];
        if (r == NULL)
            continue;
        if (!net_time_reached(now, r->deadline)) {
            if (r->deadline - now < next)
                next = r->deadline - now;
            continue;
        }
        reass_expire(stack, r);
        reass_free(stack, i);
    }
    return next;
}
#endif /* TERN_IP_REASSEMBLY */

void ipv6_frag_deinit(tern_stack_t *stack)
{
#if TERN_IP_REASSEMBLY
    for (unsigned i = 0; i < TERN_IP_REASS_MAX_DATAGRAMS; i++) {
        if (stack->ipv6.reass[i] != NULL)
            reass_free(stack, i);
    }
#endif
    memset(stack->ipv6.pmtu, 0, sizeof stack->ipv6.pmtu);
}

uint32_t ipv6_frag_poll(tern_stack_t *stack, uint32_t now)
{
    uint32_t next = pmtu_poll(stack, now, UINT32_MAX);
#if TERN_IP_REASSEMBLY
    next = reass_poll(stack, now, next);
#endif
    return next;
}

#endif /* TERN_IPV6 */
