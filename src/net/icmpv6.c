/* ICMPv6 (RFC 4443): echo, errors out with the 2.4 (e) restrictions and a
 * token-bucket rate limit (2.4 (f)), errors in counted, and the dispatch to
 * Neighbor Discovery and MLD (nd.c). */
#include "net/ipv6_internal.h"

#if TERN_IPV6

/* The same bucket as IPv4's (icmp.c): TERN_ICMP_ERROR_RATE per second,
 * a burst of one second's worth, on the stack's time. */
#define ICMP6_CREDIT_COST 1000u
#define ICMP6_CREDIT_MAX ((uint32_t)TERN_ICMP_ERROR_RATE * ICMP6_CREDIT_COST)

void icmpv6_init(tern_stack_t *stack)
{
    stack->ipv6.err_credit = ICMP6_CREDIT_MAX;
    stack->ipv6.err_time = stack->now;
}

void icmpv6_set_checksum(tern_netbuf_t *nb, const tern_ip6_t *src, const tern_ip6_t *dst)
{
    /* Always in software: the offload flags speak of IPv4 only. */
    uint8_t *p = nb->data;
    wire_wr16(p + ICMP6_OFF_CSUM, 0);
    uint32_t sum = checksum_pseudo6(src, dst, IPV6_NH_ICMPV6, nb->len);
    wire_wr16(p + ICMP6_OFF_CSUM, checksum_finish(checksum_add(sum, p, nb->len)));
}

/* Is the packet (pkt_len bytes from its fixed header) an ICMPv6 error or a
 * redirect? The extension headers are walked (bounded) to the upper layer,
 * so an error behind a destination options header is recognised too. */
static int icmpv6_is_error_packet(const uint8_t *pkt, size_t pkt_len)
{
    size_t off = IPV6_HDR_LEN;
    uint8_t nh = pkt[IPV6_OFF_NEXT];
    for (unsigned n = 0; n < TERN_IPV6_EXT_HDR_MAX && pkt_len - off >= IPV6_EXT_MIN_LEN; n++) {
        size_t hlen;
        if (nh == IPV6_NH_HOP_BY_HOP || nh == IPV6_NH_DEST_OPTS || nh == IPV6_NH_ROUTING)
            hlen = ipv6_ext_len(pkt + off);
        else if (nh == IPV6_NH_FRAGMENT)
            hlen = IPV6_FRAG_HDR_LEN;
        else
            break;
        if (hlen > pkt_len - off)
            return 0;
        nh = pkt[off + IPV6_EXT_OFF_NEXT];
        off += hlen;
    }
    return nh == IPV6_NH_ICMPV6 && off < pkt_len && (icmp6_type_is_error(pkt[off]) || pkt[off] == ICMP6_ND_REDIRECT);
}

static int icmpv6_rate_allow(tern_stack_t *stack)
{
    tern_ipv6_t *v6 = &stack->ipv6;
    uint32_t elapsed = stack->now - v6->err_time;
    v6->err_time = stack->now;
    if (elapsed > 1000u)
        elapsed = 1000u;
    v6->err_credit += elapsed * (uint32_t)TERN_ICMP_ERROR_RATE;
    if (v6->err_credit > ICMP6_CREDIT_MAX)
        v6->err_credit = ICMP6_CREDIT_MAX;
    if (v6->err_credit < ICMP6_CREDIT_COST)
        return 0;
    v6->err_credit -= ICMP6_CREDIT_COST;
    return 1;
}

void icmpv6_send_error(tern_stack_t *stack, const ipv6_rx_t *ip, size_t pkt_len, uint8_t type, uint8_t code,
                       uint32_t pointer, int allow_mcast)
{
    tern_counters_t *c = &stack->counters;
    const uint8_t *pkt = ip->hdr;
    /* RFC 4443 2.4 (e): never about an ICMPv6 error or a redirect, never
     * about a packet to a group (IPv6 or link) except Packet Too Big and
     * Parameter Problem code 2 for an option of action 10, never to a
     * source that does not name one host. */
    if (icmpv6_is_error_packet(pkt, pkt_len) || ((ip->dst_mcast || ip->link_mcast) && !allow_mcast) || ip6_is_any(&ip->src) ||
        ip6_is_mcast(&ip->src)) {
        c->icmp6_err_suppressed++;
        return;
    }
    if (!icmpv6_rate_allow(stack)) {
        c->icmp6_err_rate_limited++;
        return;
    }
    size_t quote = pkt_len < ICMP6_ERR_MAX_QUOTE ? pkt_len : ICMP6_ERR_MAX_QUOTE;
    tern_ip6_t src;
    /* From the address it was sent to when that is ours, else ours for the
     * source's scope. */
    if (!ip->dst_mcast && ipv6_is_our_addr(ip->ifs, &ip->dst))
        src = ip->dst;
    else if (ipv6_select_src(ip->ifs, &ip->src, &src) != 0) {
        c->icmp6_tx_err++;
        return;
    }
    tern_netbuf_t *out = tern_netbuf_get(&stack->netbufs, IPV6_HEADROOM + ICMP6_HDR_LEN + quote, 0);
    if (out == NULL) {
        c->icmp6_tx_err++;
        return;
    }
    (void)tern_netbuf_pull(out, IPV6_HEADROOM);
    icmp6_write(out->data, type, code, pointer);
    memcpy(out->data + ICMP6_HDR_LEN, pkt, quote);
    icmpv6_set_checksum(out, &src, &ip->src);
    if (ipv6_output(stack, ip->ifs, out, &src, &ip->src, IPV6_NH_ICMPV6, ip->ifs->hop_limit) == TERN_OK) {
        c->icmp6_tx++;
        c->icmp6_err_tx++;
    } else {
        c->icmp6_tx_err++;
    }
}

/* Answer an echo request in its own buffer (RFC 4443 4.2): same
 * identifier, sequence and data. */
static void icmpv6_echo_reply(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    c->icmp6_echo_rx++;
#if !TERN_ICMP_ECHO_BROADCAST
    /* RFC 4443 4.2 lets a node answer a group; off by default like IPv4
     * broadcast echo (amplification). */
    if (ip->dst_mcast) {
        c->icmp6_drop_mcast_echo++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
#endif
    /* From the address asked, or ours for the sender's scope (a group). */
    tern_ip6_t src = ip->dst;
    if (ip->dst_mcast && ipv6_select_src(ip->ifs, &ip->src, &src) != 0) {
        c->icmp6_tx_err++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    icmp6_write(nb->data, ICMP6_ECHO_REPLY, 0, wire_rd32(nb->data + ICMP6_OFF_REST));
    icmpv6_set_checksum(nb, &src, &ip->src);
    int rc;
    if (IPV6_HDR_LEN + nb->len > ipv6_path_mtu(stack, &ip->src)) {
        /* A Packet Too Big lowered the path below the request's size: the
         * reply goes in fragments (RFC 8201 4 leaves that to the source). */
        rc = ipv6_output_fragments(stack, ip->ifs, nb->data, nb->len, &src, &ip->src, IPV6_NH_ICMPV6,
                                   ip->ifs->hop_limit);
        tern_netbuf_release(&stack->netbufs, nb);
    } else {
        rc = ipv6_output(stack, ip->ifs, nb, &src, &ip->src, IPV6_NH_ICMPV6, ip->ifs->hop_limit);
    }
    if (rc == TERN_OK) {
        c->icmp6_tx++;
        c->icmp6_echo_reply_tx++;
    } else {
        c->icmp6_tx_err++;
    }
}

void icmpv6_input_large(tern_stack_t *stack, uint8_t *msg, size_t len, const ipv6_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    c->icmp6_rx++;
    if (len < ICMP6_HDR_LEN) {
        c->icmp6_drop_truncated++;
        return;
    }
    if (checksum_finish(checksum_add(checksum_pseudo6(&ip->src, &ip->dst, IPV6_NH_ICMPV6, len), msg, len)) != 0u) {
        c->icmp6_drop_checksum++;
        return;
    }
    if (msg[ICMP6_OFF_TYPE] != ICMP6_ECHO_REQUEST) {
        c->icmp6_drop_type++;
        return;
    }
    c->icmp6_echo_rx++;
    if (ip->dst_mcast) {
        c->icmp6_drop_mcast_echo++;
        return;
    }
    /* RFC 4443 4.2: the whole data back, so in fragments. */
    icmp6_write(msg, ICMP6_ECHO_REPLY, 0, wire_rd32(msg + ICMP6_OFF_REST));
    wire_wr16(msg + ICMP6_OFF_CSUM, 0);
    uint32_t sum = checksum_pseudo6(&ip->dst, &ip->src, IPV6_NH_ICMPV6, len);
    wire_wr16(msg + ICMP6_OFF_CSUM, checksum_finish(checksum_add(sum, msg, len)));
    if (ipv6_output_fragments(stack, ip->ifs, msg, len, &ip->dst, &ip->src, IPV6_NH_ICMPV6, ip->ifs->hop_limit) ==
        TERN_OK) {
        c->icmp6_tx++;
        c->icmp6_echo_reply_tx++;
    } else {
        c->icmp6_tx_err++;
    }
}

/* A Packet Too Big (RFC 4443 3.2) about a packet we sent: lower the path
 * MTU to its destination (RFC 8201 4). The quoted packet must come from one
 * of our addresses; anything else is dropped and counted. */
static void icmpv6_packet_too_big(tern_stack_t *stack, const tern_netbuf_t *nb, const ipv6_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    const uint8_t *q = nb->data + ICMP6_HDR_LEN;
    if (nb->len < ICMP6_HDR_LEN + IPV6_HDR_LEN || ipv6_version(q) != IPV6_VERSION) {
        c->icmp6_drop_ptb++;
        return;
    }
    tern_ip6_t qsrc, qdst;
    memcpy(qsrc.b, q + IPV6_OFF_SRC, 16);
    memcpy(qdst.b, q + IPV6_OFF_DST, 16);
    if (!ipv6_is_our_addr(ip->ifs, &qsrc)) {
        c->icmp6_drop_ptb++;
        return;
    }
    int lowered = ipv6_pmtu_update(stack, &qdst, wire_rd32(nb->data + ICMP6_OFF_REST));
    /* A connection to qdst may not have heard yet of a path MTU an
     * earlier message lowered: TCP compares with its own MSS (RFC 8201 5.2). */
    tcp6_icmp_error(stack, nb->data, nb->len);
    if (!lowered) {
        c->icmp6_drop_ptb++;
        return;
    }
    c->icmp6_ptb_rx++;
}

void icmpv6_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    c->icmp6_rx++;
    uint32_t *drop = NULL;
    if (nb->len < ICMP6_HDR_LEN) {
        drop = &c->icmp6_drop_truncated;
    } else if (checksum_finish(checksum_add(checksum_pseudo6(&ip->src, &ip->dst, IPV6_NH_ICMPV6, nb->len),
                                            nb->data, nb->len)) != 0u) {
        /* RFC 4443 2.3: the checksum covers the pseudo-header, always. */
        drop = &c->icmp6_drop_checksum;
    } else {
        uint8_t type = nb->data[ICMP6_OFF_TYPE];
        switch (type) {
        case ICMP6_ECHO_REQUEST:
            icmpv6_echo_reply(stack, nb, ip);
            return;
        case ICMP6_ECHO_REPLY:
            c->icmp6_echo_reply_rx++;
            break;
        case ICMP6_ND_RS:
        case ICMP6_ND_RA:
        case ICMP6_ND_NS:
        case ICMP6_ND_NA:
        case ICMP6_ND_REDIRECT:
        case ICMP6_MLD_QUERY:
            /* RFC 6980 5: fragmented ND is ignored (it would slip past
             * RA-Guard); MLD too, it has no reason to be fragmented. */
            if (ip->reassembled) {
                drop = &c->icmp6_drop_frag_nd;
                break;
            }
            if (type == ICMP6_MLD_QUERY)
                mld_input(stack, nb, ip);
            else
                nd_input(stack, nb, ip, type);
            return;
        case ICMP6_PACKET_TOO_BIG:
            c->icmp6_err_rx++;
            icmpv6_packet_too_big(stack, nb, ip);
            break;
        default:
            /* Errors go to the socket whose datagram they quote (2.4
             * (a)); unknown informational messages are dropped (2.4 (b)). */
            if (icmp6_type_is_error(type)) {
                c->icmp6_err_rx++;
                udp6_icmp_error(stack, nb->data, nb->len);
                tcp6_icmp_error(stack, nb->data, nb->len);
            } else
                drop = &c->icmp6_drop_type;
            break;
        }
    }
    if (drop != NULL)
        (*drop)++;
    tern_netbuf_release(&stack->netbufs, nb);
}

#endif /* TERN_IPV6 */
