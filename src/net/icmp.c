/* ICMP (RFC 792, RFC 1122 3.2.2): echo in both directions, errors out with
 * the RFC 1122 restrictions and a token-bucket rate limit, errors in
 * validated and handed to UDP and TCP. */
#include <string.h>
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "net/udp_internal.h"

/* One error costs ICMP_CREDIT_COST; each ms earns TERN_ICMP_ERROR_RATE, so
 * the sustained rate is TERN_ICMP_ERROR_RATE per second and the bucket
 * holds one second's worth (the burst). */
#define ICMP_CREDIT_COST 1000u
#define ICMP_CREDIT_MAX ((uint32_t)TERN_ICMP_ERROR_RATE * ICMP_CREDIT_COST)

void icmp_init(tern_stack_t *stack)
{
    memset(&stack->icmp, 0, sizeof stack->icmp);
    stack->icmp.credit = ICMP_CREDIT_MAX;
    stack->icmp.credit_time = stack->now;
}

/* Fill the checksum of the ICMP message at nb->data unless the interface
 * that will send it computes it (TERN_OFFLOAD_TX_L4_CSUM). */
static void icmp_set_checksum(tern_stack_t *stack, tern_netbuf_t *nb, tern_ip4_t src, tern_ip4_t dst)
{
    uint8_t *p = nb->data;
    tern_ip4_t nexthop;
    const tern_netif_t *out = ipv4_route(stack, src, dst, &nexthop);
    wire_wr16(p + ICMP_OFF_CSUM, 0);
    if (out == NULL || !(out->offload & TERN_OFFLOAD_TX_L4_CSUM))
        wire_wr16(p + ICMP_OFF_CSUM, checksum_inet(p, nb->len));
}

static int icmp_rate_allow(tern_stack_t *stack)
{
    tern_icmp_t *icmp = &stack->icmp;
    uint32_t elapsed = stack->now - icmp->credit_time;
    icmp->credit_time = stack->now;
    /* A full refill takes one second: no need to count further (and the
     * product cannot overflow). */
    if (elapsed > 1000u)
        elapsed = 1000u;
    icmp->credit += elapsed * (uint32_t)TERN_ICMP_ERROR_RATE;
    if (icmp->credit > ICMP_CREDIT_MAX)
        icmp->credit = ICMP_CREDIT_MAX;
    if (icmp->credit < ICMP_CREDIT_COST)
        return 0;
    icmp->credit -= ICMP_CREDIT_COST;
    return 1;
}

void icmp_send_error(tern_stack_t *stack, const tern_netif_t *nif, const uint8_t *data, size_t len,
                     const ipv4_rx_t *ip, uint8_t type, uint8_t code)
{
    tern_counters_t *c = &stack->counters;
    /* RFC 1122 3.2.2: never about an ICMP error, a broadcast or multicast
     * (IP or link), a fragment other than the first, or a source that does
     * not name one host. */
    int about_icmp_error = ip->proto == IPV4_PROTO_ICMP && (len == 0u || icmp_type_is_error(data[ICMP_OFF_TYPE]));
    if (about_icmp_error || ip->dst_bcast || ip->link_bcast || (ip->frag & IPV4_OFFSET_MASK) != 0u ||
        !ipv4_is_unicast_host(ip->src) || ip->src == ipv4_subnet_bcast(nif)) {
        c->icmp_err_suppressed++;
        return;
    }
    if (!icmp_rate_allow(stack)) {
        c->icmp_err_rate_limited++;
        return;
    }
    /* RFC 792: the IP header and the first 64 bits of its data. */
    size_t data_len = len < ICMP_QUOTE_DATA ? len : ICMP_QUOTE_DATA;
    size_t msg_len = ICMP_HDR_LEN + ip->hdr_len + data_len;
    tern_netbuf_t *out = tern_netbuf_get(&stack->netbufs, ETH_HDR_LEN + IPV4_HDR_LEN + msg_len, 0);
    if (out == NULL) {
        c->icmp_tx_err++;
        return;
    }
    (void)tern_netbuf_pull(out, ETH_HDR_LEN + IPV4_HDR_LEN);
    uint8_t *p = out->data;
    icmp_write(p, type, code, 0); /* the last word is unused in the errors we send */
    memcpy(p + ICMP_HDR_LEN, ip->hdr, ip->hdr_len);
    if (data_len != 0u)
        memcpy(p + ICMP_HDR_LEN + ip->hdr_len, data, data_len);
    /* From the address the packet was sent to: it was one of ours (not a
     * broadcast, checked above). */
    icmp_set_checksum(stack, out, ip->dst, ip->src);
    if (ipv4_output(stack, out, ip->dst, ip->src, IPV4_PROTO_ICMP, TERN_IP_DEFAULT_TTL) == TERN_OK) {
        c->icmp_tx++;
        c->icmp_err_tx++;
    } else {
        c->icmp_tx_err++;
    }
}

/* Answer an echo request in its own buffer: same identifier, sequence and
 * data, type 0 (RFC 792), addresses swapped by ipv4_output. */
static void icmp_echo_reply(tern_stack_t *stack, tern_netbuf_t *nb, const ipv4_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    c->icmp_echo_rx++;
#if !TERN_ICMP_ECHO_BROADCAST
    /* RFC 1122 3.2.2.6: answering broadcasts is a MAY; off by default (smurf
     * amplification). */
    if (ip->dst_bcast || ip->link_bcast) {
        c->icmp_drop_bcast_echo++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
#endif
    if (!ipv4_is_unicast_host(ip->src)) {
        c->icmp_drop_bad_src++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    /* Identifier and sequence stay as the request had them. */
    icmp_write(nb->data, ICMP_ECHO_REPLY, 0, wire_rd32(nb->data + ICMP_OFF_REST));
    /* A broadcast request is answered from our unicast address (RFC 1122
     * 3.2.2.6); 0 lets ipv4_output pick the interface's. */
    tern_ip4_t src = ip->dst_bcast ? 0u : ip->dst;
    icmp_set_checksum(stack, nb, src, ip->src);
    if (ipv4_output(stack, nb, src, ip->src, IPV4_PROTO_ICMP, TERN_IP_DEFAULT_TTL) == TERN_OK) {
        c->icmp_tx++;
        c->icmp_echo_reply_tx++;
    } else {
        c->icmp_tx_err++;
    }
}

void icmp_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, const ipv4_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    c->icmp_rx++;
    icmp_view_t icmp;
    ipv4_view_t quote;
    uint32_t *drop = NULL;
    int hw_checked = (nif->offload & TERN_OFFLOAD_RX_L4_CSUM) || (nb->flags & TERN_NETBUF_F_RX_CSUM_OK);
    if (icmp_check(nb->data, nb->len, &icmp) != 0) {
        drop = &c->icmp_drop_truncated;
    } else if (!hw_checked && checksum_inet(icmp.p, icmp.len) != 0u) {
        drop = &c->icmp_drop_checksum;
    } else if (icmp_type(&icmp) == ICMP_ECHO) {
        icmp_echo_reply(stack, nb, ip);
        return;
    } else if (icmp_type(&icmp) == ICMP_ECHO_REPLY) {
        c->icmp_echo_reply_rx++;
        if (stack->icmp.ping_fn != NULL)
            stack->icmp.ping_fn(stack->icmp.ping_ctx, ip->src, icmp_echo_id(&icmp), icmp_echo_seq(&icmp),
                                icmp_data(&icmp), icmp_data_len(&icmp), stack->now);
    } else if (icmp_type_is_error(icmp_type(&icmp))) {
        /* An error must quote an IPv4 header and 8 bytes of its data. */
        if (icmp_quote(&icmp, &quote) != 0)
            drop = &c->icmp_drop_quote;
        else {
            c->icmp_err_rx++;
            /* RFC 1122 4.1.3.3: UDP passes ICMP errors up to the socket. */
            if (ipv4_proto(&quote) == IPV4_PROTO_UDP)
                udp_icmp_error(stack, icmp.p, icmp.len);
            /* RFC 1122 4.2.3.9 / RFC 5927: TCP validates against its
             * connections (quoted header and sequence number). */
            else if (ipv4_proto(&quote) == IPV4_PROTO_TCP)
                tcp_icmp_error(stack, icmp_type(&icmp), icmp_code(&icmp), icmp_next_mtu(&icmp), quote.p,
                               quote.len);
        }
    } else {
        drop = &c->icmp_drop_type;
    }
    if (drop != NULL)
        (*drop)++;
    tern_netbuf_release(&stack->netbufs, nb);
}

#if TERN_IP_REASSEMBLY
void icmp_input_large(tern_stack_t *stack, const tern_netif_t *nif, uint8_t *msg, size_t len, const ipv4_rx_t *ip)
{
    tern_counters_t *c = &stack->counters;
    c->icmp_rx++;
    icmp_view_t icmp;
    (void)nif; /* reassembled in software: no hardware checksum to trust */
    if (icmp_check(msg, len, &icmp) != 0) {
        c->icmp_drop_truncated++;
        return;
    }
    if (checksum_inet(icmp.p, icmp.len) != 0u) {
        c->icmp_drop_checksum++;
        return;
    }
    /* Only an echo request is expected this large; anything else (we
     * never send echo requests beyond the MTU) is dropped. */
    if (icmp_type(&icmp) != ICMP_ECHO) {
        c->icmp_drop_type++;
        return;
    }
    c->icmp_echo_rx++;
    /* The same refusals as icmp_echo_reply (smurf, sources that are not a
     * host); broadcast echo stays unanswered here even with
     * TERN_ICMP_ECHO_BROADCAST: a fragmented broadcast ping is an attack. */
    if (ip->dst_bcast || ip->link_bcast) {
        c->icmp_drop_bcast_echo++;
        return;
    }
    if (!ipv4_is_unicast_host(ip->src)) {
        c->icmp_drop_bad_src++;
        return;
    }
    icmp_write(msg, ICMP_ECHO_REPLY, 0, wire_rd32(msg + ICMP_OFF_REST));
    wire_wr16(msg + ICMP_OFF_CSUM, checksum_inet(msg, len));
    if (ipv4_output_fragments(stack, msg, len, ip->dst, ip->src, IPV4_PROTO_ICMP) == TERN_OK) {
        c->icmp_tx++;
        c->icmp_echo_reply_tx++;
    } else {
        c->icmp_tx_err++;
    }
}
#endif

/* ---- public ------------------------------------------------------------ */

void tern_ping_set_handler(tern_stack_t *stack, tern_ping_reply_fn fn, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    stack->icmp.ping_fn = fn;
    stack->icmp.ping_ctx = ctx;
}

int tern_ping_send(tern_stack_t *stack, tern_ip4_t dst, uint16_t id, uint16_t seq, const void *data, size_t len)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || (data == NULL && len != 0u))
        return TERN_ERR_INVAL;
    if (len > ICMP_ECHO_MAX_DATA)
        return TERN_ERR_MSGSIZE;
    tern_counters_t *c = &stack->counters;
    tern_ip4_t nexthop;
    tern_netif_t *nif = ipv4_route(stack, 0, dst, &nexthop);
    if (nif == NULL) {
        c->ipv4_tx_noroute++;
        return TERN_ERR_NOROUTE;
    }
    if (!nif->link_up) {
        c->ipv4_tx_linkdown++;
        return TERN_ERR_LINKDOWN;
    }
    if (len + IPV4_HDR_LEN + ICMP_HDR_LEN > nif->mtu) {
        c->ipv4_tx_msgsize++;
        return TERN_ERR_MSGSIZE;
    }
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, ETH_HDR_LEN + IPV4_HDR_LEN + ICMP_HDR_LEN + len, 0);
    if (nb == NULL) {
        c->icmp_tx_err++;
        return TERN_ERR_NOBUFS;
    }
    (void)tern_netbuf_pull(nb, ETH_HDR_LEN + IPV4_HDR_LEN);
    uint8_t *p = nb->data;
    icmp_write(p, ICMP_ECHO, 0, ((uint32_t)id << 16) | seq);
    if (len != 0u)
        memcpy(p + ICMP_HDR_LEN, data, len);
    icmp_set_checksum(stack, nb, 0, dst);
    int r = ipv4_output(stack, nb, 0, dst, IPV4_PROTO_ICMP, TERN_IP_DEFAULT_TTL);
    if (r == TERN_OK) {
        c->icmp_tx++;
        c->icmp_echo_tx++;
    } else {
        c->icmp_tx_err++;
    }
    return r;
}
