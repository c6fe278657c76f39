/* Ethernet II framing and the network interface contract (netif.h). */
#include <string.h>
#include "net/net_internal.h"

const uint8_t eth_broadcast_mac[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

void eth_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb)
{
    tern_counters_t *c = &stack->counters;
    c->eth_rx++;
    if (nb->len < ETH_HDR_LEN) {
        c->eth_drop_runt++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    const uint8_t *p = nb->data;
    nb->flags &= (uint16_t)~TERN_NETBUF_F_LINK_BCAST;
    if (wire_mac_is_group(p)) {
        nb->flags |= TERN_NETBUF_F_LINK_BCAST;
    } else if (!wire_mac_equal(p, nif->mac)) {
        /* A NIC in promiscuous mode or a bridge-like TAP shows us these. */
        c->eth_drop_not_for_us++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    if (wire_mac_is_group(p + 6)) {
        /* IEEE 802.3: a source address is always an individual address. */
        c->eth_drop_bad_src++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    uint16_t type = wire_rd16(p + 12);
    (void)tern_netbuf_pull(nb, ETH_HDR_LEN);
    switch (type) {
    case ETH_TYPE_IPV4:
        ipv4_input(stack, nif, nb);
        break;
    case ETH_TYPE_ARP:
        arp_input(stack, nif, nb);
        break;
    default:
        /* Includes 802.3 length fields (< 0x0600) and VLAN tags. */
        c->eth_drop_ethertype++;
        tern_netbuf_release(&stack->netbufs, nb);
        break;
    }
}

/* Hand one complete frame to the driver under the build's TX ownership rule. */
static int netif_transmit(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb)
{
    if (!nif->link_up) {
        stack->counters.eth_tx_linkdown++;
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_LINKDOWN;
    }
    if (nif->capture)
        nif->capture(nif->capture_ctx, nb->data, nb->len, 1, stack->now);
    nb->flags &= (uint16_t)~(TERN_NETBUF_F_LINK_BCAST | TERN_NETBUF_F_RX_CSUM_OK);
    nb->next = NULL;
#if TERN_ZERO_COPY_TX
    /* The driver owns the buffer from here on, success or not. */
    nb->flags |= TERN_NETBUF_F_RELEASE_AFTER_SEND;
    int r = nif->ops->output(nif, nb);
#else
    /* The driver copied the frame before returning: the buffer is ours. */
    int r = nif->ops->output(nif, nb);
    tern_netbuf_release(&stack->netbufs, nb);
#endif
    if (r != TERN_OK) {
        stack->counters.eth_tx_err++;
        return r;
    }
    stack->counters.eth_tx++;
    return TERN_OK;
}

int eth_output(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, const uint8_t dst[6], uint16_t type)
{
    if (tern_netbuf_push(nb, ETH_HDR_LEN) != TERN_OK) {
        /* A sender forgot the headroom: a bug, not a network event. */
        stack_log(stack, TERN_LOG_ERROR, "eth: no headroom for the Ethernet header");
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_INVAL;
    }
    uint8_t *p = nb->data;
    memcpy(p, dst, 6);
    memcpy(p + 6, nif->mac, 6);
    wire_wr16(p + 12, type);
    return netif_transmit(stack, nif, nb);
}

/* ---- the interface contract (netif.h) ---------------------------------- */

int tern_netif_add(tern_stack_t *stack, tern_netif_t *nif)
{
    if (stack == NULL || nif == NULL || nif->ops == NULL || nif->ops->output == NULL)
        return TERN_ERR_INVAL;
    unsigned count = 0;
    tern_netif_t **tail = &stack->netifs;
    while (*tail != NULL) {
        if (*tail == nif)
            return TERN_ERR_INVAL; /* already registered */
        count++;
        tail = &(*tail)->next;
    }
    if (nif->mtu == 0u)
        nif->mtu = 1500u;
    /* A frame must fit one network buffer. */
    if (nif->mtu > TERN_NETBUF_FRAME_SIZE - ETH_HDR_LEN)
        nif->mtu = (uint16_t)(TERN_NETBUF_FRAME_SIZE - ETH_HDR_LEN);
    nif->stack = stack;
    nif->next = NULL;
    nif->index = (uint8_t)count;
    if (nif->ops->init != NULL) {
        int r = nif->ops->init(nif);
        if (r != TERN_OK) {
            nif->stack = NULL;
            return r;
        }
    }
    *tail = nif;
    return TERN_OK;
}

void tern_netif_remove(tern_stack_t *stack, tern_netif_t *nif)
{
    if (stack == NULL || nif == NULL)
        return;
    tern_netif_t **pp = &stack->netifs;
    while (*pp != NULL && *pp != nif)
        pp = &(*pp)->next;
    if (*pp == NULL)
        return;
    *pp = nif->next;
    nif->next = NULL;
    tern_arp_flush(stack, nif);
    /* The driver gives back what it holds (tx_done, release) while it can
     * still reach the stack. */
    if (nif->ops->shutdown != NULL)
        nif->ops->shutdown(nif);
    nif->link_up = 0;
    nif->stack = NULL;
}

void tern_netif_set_addr(tern_netif_t *nif, tern_ip4_t addr, tern_ip4_t netmask, tern_ip4_t gateway)
{
    if (nif == NULL)
        return;
    tern_stack_t *stack = nif->stack;
    int changed = addr != nif->addr || netmask != nif->netmask;
    nif->addr = addr;
    nif->netmask = netmask;
    nif->gateway = gateway;
    if (stack == NULL)
        return;
    /* Mappings (and packets waiting, with their old source address) belong
     * to the old network. */
    if (changed)
        tern_arp_flush(stack, nif);
    if (addr != 0u && nif->link_up)
        (void)arp_announce(stack, nif);
}

void tern_netif_set_link(tern_netif_t *nif, int up)
{
    if (nif == NULL)
        return;
    uint8_t was = nif->link_up;
    nif->link_up = up ? 1u : 0u;
    tern_stack_t *stack = nif->stack;
    if (stack == NULL)
        return;
    if (!was && nif->link_up && nif->addr != 0u) {
        (void)arp_announce(stack, nif);
    } else if (was && !nif->link_up) {
        /* We may come back on another network: forget the neighbours. */
        tern_arp_flush(stack, nif);
    }
}

tern_netbuf_t *tern_netif_rx_buffer_get(tern_netif_t *nif)
{
    if (nif == NULL || nif->stack == NULL)
        return NULL;
    tern_stack_t *stack = nif->stack;
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, TERN_NETBUF_FRAME_SIZE, 0);
    if (nb == NULL)
        stack->counters.eth_rx_nobufs++;
    return nb;
}

void tern_netif_tx_done(tern_netif_t *nif, tern_netbuf_t *nb)
{
    if (nif == NULL || nif->stack == NULL || nb == NULL)
        return;
    tern_stack_t *stack = nif->stack;
    if (!(nb->flags & TERN_NETBUF_F_RELEASE_AFTER_SEND)) {
        /* Copy-mode TX (the stack releases) or a buffer never sent. */
        stack_log(stack, TERN_LOG_ERROR, "netif: tx_done on a buffer the driver does not own");
        return;
    }
    nb->flags &= (uint16_t)~TERN_NETBUF_F_RELEASE_AFTER_SEND;
    tern_netbuf_release(&stack->netbufs, nb);
}
