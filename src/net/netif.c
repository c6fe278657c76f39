/* Network interfaces: the driver contract (netif.h), input and transmit, and
 * the dispatch to each interface's link type (Ethernet, bare IP). */
#include <string.h>
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#if TERN_IPV6
#include "net/ipv6_internal.h"
#endif

/* ---- input ------------------------------------------------------------- */

void tern_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, uint32_t now)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || nb == NULL)
        return;
    if (nif == NULL || nif->stack != stack) {
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    stack->now = now;
    if (nif->capture)
        nif->capture(nif->capture_ctx, nb->data, nb->len, 0, now);
    /* A bare-IP link has no header (and the fresh buffer no link flags). */
    if (nif->link == TERN_LINK_IP)
        ipv4_input(stack, nif, nb);
    else
        eth_input(stack, nif, nb);
}

int tern_input_copy(tern_stack_t *stack, tern_netif_t *nif, const void *frame, size_t len, uint32_t now)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || nif == NULL || nif->stack != stack || (frame == NULL && len != 0u))
        return TERN_ERR_INVAL;
    stack->now = now;
    if (len > TERN_NETBUF_FRAME_SIZE) {
        if (nif->capture)
            nif->capture(nif->capture_ctx, frame, len, 0, now);
        stack->counters.eth_rx++;
        stack->counters.eth_drop_oversize++;
        return TERN_ERR_MSGSIZE;
    }
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, len, 0);
    if (nb == NULL) {
        stack->counters.eth_rx_nobufs++;
        return TERN_ERR_NOBUFS;
    }
    if (len != 0u)
        memcpy(nb->data, frame, len);
    tern_input(stack, nif, nb, now);
    return TERN_OK;
}

void tern_input_batch_begin(tern_stack_t *stack)
{
    TERN_CORE_LOCKED(stack);
    if (stack != NULL && stack->tcp.batch != UINT8_MAX)
        stack->tcp.batch++;
}

void tern_input_batch_end(tern_stack_t *stack)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || stack->tcp.batch == 0u)
        return;
    if (--stack->tcp.batch == 0u)
        tcp_batch_end(stack);
}

/* ---- output ------------------------------------------------------------ */

int netif_transmit(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb)
{
    if (!nif->link_up) {
        stack->counters.eth_tx_linkdown++;
        tern_netbuf_release(&stack->netbufs, nb);
        return TERN_ERR_LINKDOWN;
    }
    if (nif->capture)
        nif->capture(nif->capture_ctx, nb->data, nb->len, 1, stack->now);
    /* Zero-copy: the driver owns the buffer from the call on, success or
     * not. Copy: the driver copied the frame before returning; it is ours. */
    unsigned zero_copy = nif->caps & TERN_NETIF_CAP_ZERO_COPY_TX;
    nb->flags &= (uint16_t)~(TERN_NETBUF_F_LINK_BCAST | TERN_NETBUF_F_RX_CSUM_OK);
    if (zero_copy)
        nb->flags |= TERN_NETBUF_F_RELEASE_AFTER_SEND;
    nb->next = NULL;
    int r = nif->ops->output(nif, nb);
    if (!zero_copy)
        tern_netbuf_release(&stack->netbufs, nb);
    if (r != TERN_OK) {
        stack->counters.eth_tx_err++;
        return r;
    }
    stack->counters.eth_tx++;
    return TERN_OK;
}

/* ---- the interface contract (netif.h) ---------------------------------- */

int tern_netif_add(tern_stack_t *stack, tern_netif_t *nif)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || nif == NULL || nif->ops == NULL || nif->ops->output == NULL)
        return TERN_ERR_INVAL;
    if (nif->link > TERN_LINK_IP)
        return TERN_ERR_INVAL;
    unsigned count = 0;
    tern_netif_t **tail = &stack->netifs;
    while (*tail != NULL) {
        if (*tail == nif)
            return TERN_ERR_INVAL; /* already registered */
        count++;
        tail = &(*tail)->next;
    }
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    /* Heap buffers are cut to each frame's size from a heap planned for
     * MTU-sized frames: a 64 KB TSO segment or coalesced receive would
     * take a block the plan has no room for and fail unpredictably under
     * load. Refused here, so the driver registers without them. */
    if (nif->offload & (TERN_OFFLOAD_TX_TSO | TERN_OFFLOAD_RX_LARGE))
        return TERN_ERR_NOTSUP;
#endif
    if (nif->mtu == 0u)
        nif->mtu = 1500u;
    /* A frame must fit one network buffer, with room for an Ethernet header
     * whatever the link (TCP's MSS assumes it too). */
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
    TERN_CORE_LOCKED(stack);
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
#if TERN_IPV6
    ipv6_netif_removed(stack, nif);
#endif
    /* The driver gives back what it holds (tx_done, release) while it can
     * still reach the stack. */
    if (nif->ops->shutdown != NULL)
        nif->ops->shutdown(nif);
    nif->link_up = 0;
    nif->stack = NULL;
}

void tern_netif_set_addr(tern_netif_t *nif, tern_ip4_t addr, tern_ip4_t netmask, tern_ip4_t gateway)
{
    TERN_CORE_LOCKED(nif != NULL ? nif->stack : NULL);
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
    if (addr != 0u && nif->link_up && nif->link == TERN_LINK_ETHERNET)
        (void)arp_announce(stack, nif);
}

void tern_netif_set_link(tern_netif_t *nif, int up)
{
    TERN_CORE_LOCKED(nif != NULL ? nif->stack : NULL);
    if (nif == NULL)
        return;
    uint8_t was = nif->link_up;
    nif->link_up = up ? 1u : 0u;
    tern_stack_t *stack = nif->stack;
    if (stack == NULL)
        return;
    if (!was && nif->link_up && nif->addr != 0u) {
        if (nif->link == TERN_LINK_ETHERNET)
            (void)arp_announce(stack, nif);
    } else if (was && !nif->link_up) {
        /* We may come back on another network: forget the neighbours. */
        tern_arp_flush(stack, nif);
    }
#if TERN_IPV6
    if (was != nif->link_up)
        ipv6_netif_link(stack, nif);
#endif
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
    /* Release clears the flag with the others. */
    tern_netbuf_release(&stack->netbufs, nb);
}
