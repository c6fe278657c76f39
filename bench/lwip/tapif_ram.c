/* See tapif_ram.h. */
#include "tapif_ram.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#define FRAME_MAX 1514u   /* Ethernet header + 1500, no FCS (IFF_NO_PI) */
#define RX_BATCH 32u      /* frames per core-lock acquisition */

static err_t tap_linkoutput(struct netif *netif, struct pbuf *p)
{
    tapif_ram_t *t = netif->state;
    uint8_t frame[FRAME_MAX];
    const void *data = p->payload;
    size_t len = p->len;
    if (p->next != NULL) {
        /* LWIP_NETIF_TX_SINGLE_PBUF is on in Debian's build, so this is
         * only a safety net. */
        if (p->tot_len > sizeof(frame)) {
            t->tx_errors++;
            return ERR_IF;
        }
        len = pbuf_copy_partial(p, frame, p->tot_len, 0);
        data = frame;
    }
    ssize_t n = write(t->fd, data, len);
    if (n != (ssize_t)len) {
        t->tx_errors++;
        return ERR_IF;
    }
    t->tx_frames++;
    return ERR_OK;
}

static err_t tap_netif_init(struct netif *netif)
{
    tapif_ram_t *t = netif->state;
    netif->name[0] = 't';
    netif->name[1] = 'p';
    netif->output = etharp_output;
    netif->linkoutput = tap_linkoutput;
    netif->mtu = 1500;
    netif->hwaddr_len = 6;
    memcpy(netif->hwaddr, t->mac, 6);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    return ERR_OK;
}

int tapif_ram_open(tapif_ram_t *t, const char *ifname, const uint8_t mac[6], uint32_t addr_n, uint32_t mask_n)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
        fprintf(stderr, "tapif_ram: interface name too long\n");
        return -1;
    }
    t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (t->fd < 0) {
        perror("tapif_ram: /dev/net/tun");
        return -1;
    }
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strcpy(ifr.ifr_name, ifname);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        perror("tapif_ram: TUNSETIFF");
        close(t->fd);
        return -1;
    }
    fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK);
    t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    strcpy(t->ifname, ifname);
    memcpy(t->mac, mac, 6);

    ip4_addr_t addr, mask, gw;
    ip4_addr_set_u32(&addr, addr_n);
    ip4_addr_set_u32(&mask, mask_n);
    ip4_addr_set_zero(&gw);
    if (netif_add(&t->netif, &addr, &mask, &gw, t, tap_netif_init, ethernet_input) == NULL) {
        fprintf(stderr, "tapif_ram: netif_add failed\n");
        close(t->fd);
        close(t->stop_fd);
        return -1;
    }
    netif_set_default(&t->netif);
    netif_set_up(&t->netif);
    return 0;
}

static void *tap_reader(void *arg)
{
    tapif_ram_t *t = arg;
    struct pollfd pfd[2] = {{.fd = t->fd, .events = POLLIN}, {.fd = t->stop_fd, .events = POLLIN}};
    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents)
            break;
        if (!(pfd[0].revents & POLLIN))
            continue;
        LOCK_TCPIP_CORE();
        for (unsigned i = 0; i < RX_BATCH; i++) {
            /* One PBUF_RAM pbuf per frame, sized for the largest: the frame
             * is read straight into it and it is never a chain. */
            struct pbuf *p = pbuf_alloc(PBUF_RAW, FRAME_MAX, PBUF_RAM);
            if (p == NULL) {
                uint8_t sink[FRAME_MAX];
                if (read(t->fd, sink, sizeof(sink)) <= 0)
                    break;
                t->rx_drops++; /* out of memory: the frame is lost, as on a NIC */
                continue;
            }
            ssize_t n = read(t->fd, p->payload, FRAME_MAX);
            if (n <= 0) {
                pbuf_free(p);
                break;
            }
            pbuf_realloc(p, (u16_t)n);
            t->rx_frames++;
            if (t->netif.input(p, &t->netif) != ERR_OK)
                pbuf_free(p);
        }
        UNLOCK_TCPIP_CORE();
    }
    return NULL;
}

int tapif_ram_start(tapif_ram_t *t)
{
    if (pthread_create(&t->reader, NULL, tap_reader, t) != 0)
        return -1;
    t->started = 1;
    return 0;
}

void tapif_ram_stop(tapif_ram_t *t)
{
    if (t->started) {
        uint64_t one = 1;
        if (write(t->stop_fd, &one, sizeof(one)) < 0)
            perror("tapif_ram: eventfd");
        pthread_join(t->reader, NULL);
        t->started = 0;
    }
    close(t->fd);
    close(t->stop_fd);
}
