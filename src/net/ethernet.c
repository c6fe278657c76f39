/* Ethernet II framing: the TERN_LINK_ETHERNET link type (netif.c dispatches). */
#include <string.h>
#include "net/net_internal.h"
#if TERN_IPV6
#include "net/ipv6_internal.h"
#endif

const uint8_t eth_broadcast_mac[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

void eth_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb)
{
    tern_counters_t *c = &stack->counters;
    c->eth_rx++;
    eth_view_t eth;
    if (eth_check(nb->data, nb->len, &eth) != 0) {
        c->eth_drop_runt++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    nb->flags &= (uint16_t)~TERN_NETBUF_F_LINK_BCAST;
    if (wire_mac_is_group(eth_dst(&eth))) {
        nb->flags |= TERN_NETBUF_F_LINK_BCAST;
    } else if (!wire_mac_equal(eth_dst(&eth), nif->mac)) {
        /* A NIC in promiscuous mode or a bridge-like TAP shows us these. */
        c->eth_drop_not_for_us++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    if (wire_mac_is_group(eth_src(&eth))) {
        /* IEEE 802.3: a source address is always an individual address. */
        c->eth_drop_bad_src++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    uint16_t type = eth_type(&eth);
    (void)tern_netbuf_pull(nb, ETH_HDR_LEN);
    switch (type) {
    case ETH_TYPE_IPV4:
        ipv4_input(stack, nif, nb);
        break;
    case ETH_TYPE_ARP:
        arp_input(stack, nif, nb);
        break;
#if TERN_IPV6
    case ETH_TYPE_IPV6:
        ipv6_input(stack, nif, nb);
        break;
#endif
    default:
        /* Includes 802.3 length fields (< 0x0600) and VLAN tags. */
        c->eth_drop_ethertype++;
        tern_netbuf_release(&stack->netbufs, nb);
        break;
    }
}

int eth_output(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, const uint8_t dst[6], uint16_t type)
{
    if (tern_netbuf_push(nb, ETH_HDR_LEN) != TERN_OK) {
        /* A sender forgot the headroom: a bug, not a network event. */
        stack_log(stack, TERN_LOG_ERROR, "eth: no headroom for the Ethernet header");
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_INVAL;
    }
    eth_write(nb->data, dst, nif->mac, type);
    return netif_transmit(stack, nif, nb);
}
