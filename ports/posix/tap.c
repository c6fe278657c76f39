/* The TAP driver: Linux /dev/net/tun in TAP mode as a tern interface. */
#include "tern_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "tern/err.h"
#include "tern/stack.h"
#include "tern_gso.h"
#include "tern_posix.h"

#define TAP_ETH_HEADER 14u
/* The virtio-net header with num_buffers (TUNSETVNETHDRSZ 12), host order:
 * a TAP's header is little-endian unless TUNSETVNETBE, as on x86 and ARM. */
#define TAP_VNET_HDR 12u
/* The largest packet the kernel hands over coalesced: 64 KB plus headers. */
#define TAP_RX_BIG (65536u + TAP_ETH_HEADER + 64u)

static int tap_init(tern_netif_t *nif)
{
    tern_tap_t *tap = nif->driver;
    return tap->fd >= 0 ? TERN_OK : TERN_ERR_STATE;
}

/* The virtio-net header for a frame going out (IFF_VNET_HDR): what the
 * kernel finishes for it, by the stack's offload marks (netif.h). */
static void tap_vnet_tx(tern_tap_t *tap, const tern_netbuf_t *nb, struct virtio_net_hdr *h)
{
    memset(h, 0, sizeof *h);
    const uint8_t *f = nb->data;
    size_t len = nb->len;
    if (!(tap->netif.offload & TERN_OFFLOAD_TX_L4_CSUM) || len < TAP_ETH_HEADER + 20u || f[12] != 0x08u ||
        f[13] != 0x00u)
        return;
    const uint8_t *ip = f + TAP_ETH_HEADER;
    size_t ihl = (size_t)(ip[0] & 0x0Fu) * 4u;
    if ((ip[6] & 0x3Fu) != 0u || ip[7] != 0u || ihl < 20u || TAP_ETH_HEADER + ihl + 8u > len)
        return; /* a fragment: its checksum was computed whole */
    uint16_t off = ip[9] == 6u ? 16u : ip[9] == 17u ? 6u : ip[9] == 1u ? 2u : 0u;
    if (off == 0u)
        return;
    h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h->csum_start = (uint16_t)(TAP_ETH_HEADER + ihl);
    h->csum_offset = off;
    tap->stats.tx_csum++;
    if (nb->tso_mss != 0u && ip[9] == 6u && TAP_ETH_HEADER + ihl + 20u <= len) {
        size_t thl = (size_t)(f[TAP_ETH_HEADER + ihl + 12u] >> 4) * 4u;
        h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        h->gso_size = nb->tso_mss;
        h->hdr_len = (uint16_t)(TAP_ETH_HEADER + ihl + thl);
        tap->stats.tx_tso++;
    }
}

static int tap_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    tern_tap_t *tap = nif->driver;
    int rc = TERN_OK;
    ssize_t w;
    size_t hdr = 0;
    if (tap->vnet != 0u) {
        uint8_t vh[TAP_VNET_HDR] = {0};
        struct virtio_net_hdr h;
        tap_vnet_tx(tap, nb, &h);
        memcpy(vh, &h, sizeof h);
        struct iovec iov[2] = {{vh, sizeof vh}, {nb->data, nb->len}};
        hdr = sizeof vh;
        do {
            w = writev(tap->fd, iov, 2);
        } while (w < 0 && errno == EINTR);
    } else {
        do {
            w = write(tap->fd, nb->data, nb->len);
        } while (w < 0 && errno == EINTR);
    }
    if (w >= 0)
        w -= (ssize_t)hdr;
    if (w < 0) {
        tap->stats.tx_errors++;
        /* EIO: the Linux side of the interface is down. EAGAIN: its queue is
         * full. Either way the frame is lost, as on a wire. */
        rc = errno == EIO ? TERN_ERR_LINKDOWN : TERN_ERR_NOBUFS;
    } else if ((size_t)w != nb->len) {
        tap->stats.tx_short++;
        rc = TERN_ERR_MSGSIZE;
    } else {
        tap->stats.tx_frames++;
        tap->stats.tx_bytes += (uint64_t)w;
    }
    /* Zero-copy TX: the write() was the hardware reading the buffer; it is
     * done with it now, success or not (netif.h: the driver owns it). */
    if (nb->flags & TERN_NETBUF_F_RELEASE_AFTER_SEND)
        tern_netif_tx_done(nif, nb);
    return rc;
}

static const tern_netif_ops_t tap_ops = {
    .init = tap_init,
    .output = tap_output,
    .shutdown = NULL, /* holds no buffer between calls */
};

/* Attaching the fd turns the carrier on, but Linux only starts passing
 * frames once its link-event worker has processed that (it may wait up to a
 * second: linkwatch rate-limits events). Frames sent before are dropped, so
 * wait (bounded) until the kernel reports the interface running. An
 * interface that is administratively down is not waited for. */
static void tap_wait_running(const char *ifname)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return;
    struct ifreq ifr;
    for (int i = 0; i < 300; i++) {
        memset(&ifr, 0, sizeof ifr);
        memcpy(ifr.ifr_name, ifname, strlen(ifname));
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP))
            break;
        if (ifr.ifr_flags & IFF_RUNNING) {
            /* The worker sets the flag just before it activates the queue. */
            struct timespec settle = {0, 5000000L};
            nanosleep(&settle, NULL);
            break;
        }
        struct timespec tick = {0, 5000000L};
        nanosleep(&tick, NULL);
    }
    close(s);
}

int tern_tap_open(tern_tap_t *tap, const char *ifname, const uint8_t mac[6])
{
    return tern_tap_open_offload(tap, ifname, mac, 0);
}

int tern_tap_open_offload(tern_tap_t *tap, const char *ifname, const uint8_t mac[6], unsigned offload)
{
    static const uint8_t default_mac[6] = TERN_TAP_DEFAULT_MAC;
    memset(tap, 0, sizeof *tap);
    tap->fd = -1;
    size_t n = ifname ? strlen(ifname) : 0;
    if (n == 0 || n >= IFNAMSIZ)
        return TERN_ERR_INVAL;

    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return TERN_ERR_NOTSUP;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    offload &= TERN_OFFLOAD_TX_L4_CSUM | TERN_OFFLOAD_TX_TSO | TERN_OFFLOAD_RX_L4_CSUM | TERN_OFFLOAD_RX_LARGE;
    if (offload & TERN_OFFLOAD_TX_TSO)
        offload |= TERN_OFFLOAD_TX_L4_CSUM;
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (offload != 0u ? IFF_VNET_HDR : 0));
    memcpy(ifr.ifr_name, ifname, n);
    /* Attaches to an existing TAP (ip tuntap add ...) or creates a
     * non-persistent one that disappears when the fd is closed. */
    int hdrsz = TAP_VNET_HDR;
    /* What the kernel may hand us: partial checksums, coalesced TCP. */
    unsigned tun_f = 0;
    if (offload & (TERN_OFFLOAD_RX_L4_CSUM | TERN_OFFLOAD_RX_LARGE))
        tun_f |= TUN_F_CSUM;
    if (offload & TERN_OFFLOAD_RX_LARGE)
        tun_f |= TUN_F_TSO4;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
        (offload != 0u && (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0 || ioctl(fd, TUNSETOFFLOAD, tun_f) < 0))) {
        int e = errno;
        close(fd);
        errno = e;
        return TERN_ERR_NOTSUP;
    }
    /* Without offloads, say so too: a persistent TAP keeps the features
     * the last reader set, and the kernel would go on handing over
     * coalesced packets and partial checksums that a reader without the
     * virtio header cannot tell apart. */
    if (offload == 0u)
        (void)ioctl(fd, TUNSETOFFLOAD, 0u);
    if (offload != 0u) {
        tap->rx_big = malloc(TAP_RX_BIG);
        tap->cut = malloc(TERN_NETBUF_FRAME_SIZE);
        if (tap->rx_big == NULL || tap->cut == NULL) {
            free(tap->rx_big);
            free(tap->cut);
            tap->rx_big = tap->cut = NULL;
            close(fd);
            errno = ENOMEM;
            return TERN_ERR_NOMEM;
        }
        tap->vnet = TAP_VNET_HDR;
    }
    tap->fd = fd;
    memcpy(tap->ifname, ifr.ifr_name, sizeof tap->ifname - 1u);
    tap_wait_running(tap->ifname);

    tern_netif_t *nif = &tap->netif;
    nif->ops = &tap_ops;
    nif->driver = tap;
    memcpy(nif->mac, mac ? mac : default_mac, 6);
    nif->mtu = 1500;
    /* RX checksums are vouched for frame by frame (TERN_NETBUF_F_RX_CSUM_OK),
     * never for the whole interface: the kernel does not verify forwarded
     * frames. */
    nif->offload = (uint8_t)(offload & (TERN_OFFLOAD_TX_L4_CSUM | TERN_OFFLOAD_TX_TSO | TERN_OFFLOAD_RX_LARGE));
    nif->tso_max = (offload & TERN_OFFLOAD_TX_TSO) ? 65535u : 0u;
    nif->caps = TERN_NETIF_CAPS_DEFAULT;
    nif->link = TERN_LINK_ETHERNET;
    size_t k = strlen(tap->ifname);
    if (k > sizeof nif->name - 1u)
        k = sizeof nif->name - 1u;
    memcpy(nif->name, tap->ifname, k);
    nif->name[k] = '\0';
    return TERN_OK;
}

/* Read and discard one frame (no buffer to put it in). Returns read()'s
 * result. Reading a frame into a short buffer drops the rest of it. */
static ssize_t tap_discard(tern_tap_t *tap)
{
    uint8_t scrap[64];
    ssize_t r;
    do {
        r = read(tap->fd, scrap, sizeof scrap);
    } while (r < 0 && errno == EINTR);
    return r;
}

/* One frame read from the fd. TAP_RX_STOP: nothing more to read now (or a
 * read error); TAP_RX_SKIP: a frame was read and dropped; TAP_RX_FRAME: a
 * frame went to the stack (or was read and found no buffer, copy RX). */
enum { TAP_RX_STOP, TAP_RX_SKIP, TAP_RX_FRAME };

/* Zero-copy RX: read() straight into a network buffer, the "DMA". */
static int tap_rx_zero_copy(tern_tap_t *tap, tern_stack_t *stack, uint32_t now)
{
    tern_netbuf_t *nb = tern_netif_rx_buffer_get(&tap->netif);
    if (nb == NULL) {
        /* Pool empty: the frame must still leave the kernel queue, or
         * poll() reports the fd readable forever. */
        if (tap_discard(tap) < 0)
            return TAP_RX_STOP;
        tap->stats.rx_nobufs++;
        return TAP_RX_SKIP;
    }
    uint8_t *frame = tern_netbuf_frame(nb);
    size_t room = nb->capacity < TERN_NETBUF_FRAME_SIZE ? nb->capacity : TERN_NETBUF_FRAME_SIZE;
    ssize_t r;
    do {
        r = read(tap->fd, frame, room);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        tern_netbuf_release(&stack->netbufs, nb);
        if (errno != EAGAIN)
            tap->stats.rx_errors++;
        return TAP_RX_STOP;
    }
    /* tun returns the whole frame's length even when it truncated it. */
    if ((size_t)r < TAP_ETH_HEADER || (size_t)r > room) {
        tern_netbuf_release(&stack->netbufs, nb);
        if ((size_t)r < TAP_ETH_HEADER)
            tap->stats.rx_runts++;
        else
            tap->stats.rx_oversize++;
        return TAP_RX_SKIP;
    }
    nb->data = frame;
    tern_netbuf_set_len(nb, (size_t)r);
    tap->stats.rx_frames++;
    tap->stats.rx_bytes += (uint64_t)r;
    tern_input(stack, &tap->netif, nb, now);
    return TAP_RX_FRAME;
}

/* Copy RX: read() into the driver's own frame, then tern_input_copy(). */
static int tap_rx_copy(tern_tap_t *tap, tern_stack_t *stack, uint32_t now)
{
    ssize_t r;
    do {
        r = read(tap->fd, tap->rx_frame, sizeof tap->rx_frame);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno != EAGAIN)
            tap->stats.rx_errors++;
        return TAP_RX_STOP;
    }
    if ((size_t)r < TAP_ETH_HEADER || (size_t)r > sizeof tap->rx_frame) {
        if ((size_t)r < TAP_ETH_HEADER)
            tap->stats.rx_runts++;
        else
            tap->stats.rx_oversize++;
        return TAP_RX_SKIP;
    }
    if (tern_input_copy(stack, &tap->netif, tap->rx_frame, (size_t)r, now) == TERN_ERR_NOBUFS) {
        tap->stats.rx_nobufs++;
        return TAP_RX_FRAME;
    }
    tap->stats.rx_frames++;
    tap->stats.rx_bytes += (uint64_t)r;
    return TAP_RX_FRAME;
}

/* With a virtio-net header: a frame of ours into a network buffer. */
static int tap_deliver(tern_tap_t *tap, tern_stack_t *stack, const uint8_t *frame, size_t len, int csum_ok,
                       uint32_t now)
{
    if (len > TERN_NETBUF_FRAME_SIZE) {
        tap->stats.rx_oversize++;
        return TAP_RX_SKIP;
    }
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, len, 0);
    if (nb == NULL) {
        tap->stats.rx_nobufs++;
        return TAP_RX_FRAME;
    }
    memcpy(nb->data, frame, len);
    if (csum_ok) {
        nb->flags |= TERN_NETBUF_F_RX_CSUM_OK;
        tap->stats.rx_csum_ok++;
    }
    tap->stats.rx_frames++;
    tap->stats.rx_bytes += (uint64_t)len;
    tern_input(stack, &tap->netif, nb, now);
    return TAP_RX_FRAME;
}

typedef struct tap_cut_ctx {
    tern_tap_t *tap;
    tern_stack_t *stack;
    uint32_t now;
} tap_cut_ctx_t;

static int tap_cut_emit(void *ctx, const uint8_t *frame, size_t len)
{
    tap_cut_ctx_t *c = ctx;
    c->tap->stats.rx_cut++;
    (void)tap_deliver(c->tap, c->stack, frame, len, 1, c->now);
    return TERN_OK;
}

/* IFF_VNET_HDR: one read of the header and the frame (up to 64 KB when
 * the kernel coalesced TCP segments, RX_LARGE). */
static int tap_rx_vnet(tern_tap_t *tap, tern_stack_t *stack, uint32_t now)
{
    uint8_t vh[TAP_VNET_HDR];
    struct iovec iov[2] = {{vh, sizeof vh}, {tap->rx_big, TAP_RX_BIG}};
    ssize_t r;
    do {
        r = readv(tap->fd, iov, 2);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno != EAGAIN)
            tap->stats.rx_errors++;
        return TAP_RX_STOP;
    }
    if ((size_t)r < sizeof vh + TAP_ETH_HEADER || (size_t)r > sizeof vh + TAP_RX_BIG) {
        tap->stats.rx_runts++;
        return TAP_RX_SKIP;
    }
    struct virtio_net_hdr h;
    memcpy(&h, vh, sizeof h);
    size_t len = (size_t)r - sizeof vh;
    int ok = (h.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) != 0;
    if ((h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_NONE)
        return tap_deliver(tap, stack, tap->rx_big, len, ok, now);
    /* Coalesced TCP (only TCPv4 is asked for): whole if the stack takes
     * large segments and a buffer holds it, else cut into pieces as large
     * as allowed, whole segments each (the read stays one). */
    tap->stats.rx_large++;
    if ((tap->netif.offload & TERN_OFFLOAD_RX_LARGE) && len <= TERN_NETBUF_FRAME_SIZE) {
        /* Its checksum is partial (NEEDS_CSUM): the data came from this
         * host's own stack. */
        return tap_deliver(tap, stack, tap->rx_big, len, 1, now);
    }
    unsigned mss = h.gso_size;
    size_t room = (tap->netif.offload & TERN_OFFLOAD_RX_LARGE) ? TERN_NETBUF_FRAME_SIZE
                                                               : (size_t)tap->netif.mtu + TAP_ETH_HEADER;
    size_t hdrs = h.hdr_len > TAP_ETH_HEADER ? h.hdr_len : TAP_ETH_HEADER + 40u;
    if (mss != 0u && room > hdrs + mss)
        mss = (unsigned)((room - hdrs) / mss * mss);
    tap_cut_ctx_t c = {tap, stack, now};
    if (tern_gso_segment(tap->rx_big, len, TAP_ETH_HEADER, mss, tap->cut, TERN_NETBUF_FRAME_SIZE, tap_cut_emit, &c) <
        0)
        tap->stats.rx_oversize++;
    return TAP_RX_FRAME;
}

unsigned tern_tap_rx(tern_tap_t *tap, uint32_t now, unsigned budget)
{
    tern_stack_t *stack = tap->netif.stack;
    unsigned frames = 0;
    if (stack == NULL || tap->fd < 0)
        return 0;
    int zero_copy = (tap->netif.caps & TERN_NETIF_CAP_ZERO_COPY_RX) != 0;
    /* Every frame that is ready, up to the budget, as one input batch (one
     * cumulative ACK per connection at its end, stack.h). The read that
     * ends it with EAGAIN is the kernel's only "queue empty": a TAP has no
     * FIONREAD and poll() would cost the same system call. */
    if (!tap->no_batch)
        tern_input_batch_begin(stack);
    while (frames < budget) {
        int r = tap->vnet != 0u ? tap_rx_vnet(tap, stack, now)
                : zero_copy     ? tap_rx_zero_copy(tap, stack, now)
                                : tap_rx_copy(tap, stack, now);
        if (r == TAP_RX_STOP)
            break;
        if (r == TAP_RX_FRAME)
            frames++;
    }
    if (!tap->no_batch) {
        tern_input_batch_end(stack);
        if (frames != 0u)
            tap->stats.rx_batches++;
        if (frames > tap->stats.rx_batch_max)
            tap->stats.rx_batch_max = frames;
    }
    return frames;
}

int tern_tap_parse_offload(const char *list, unsigned *offload)
{
    static const struct {
        const char *name;
        unsigned bits;
    } words[] = {
        {"none", 0u},
        {"csum", TERN_OFFLOAD_TX_L4_CSUM},
        {"tso", TERN_OFFLOAD_TX_TSO | TERN_OFFLOAD_TX_L4_CSUM},
        {"rxcsum", TERN_OFFLOAD_RX_L4_CSUM},
        {"lro", TERN_OFFLOAD_RX_LARGE},
        {"all", TERN_OFFLOAD_TX_L4_CSUM | TERN_OFFLOAD_TX_TSO | TERN_OFFLOAD_RX_L4_CSUM | TERN_OFFLOAD_RX_LARGE},
    };
    unsigned bits = 0;
    const char *p = list;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        size_t i = 0;
        while (i < sizeof words / sizeof words[0] && (strlen(words[i].name) != n || strncmp(words[i].name, p, n) != 0))
            i++;
        if (i == sizeof words / sizeof words[0])
            return TERN_ERR_INVAL;
        bits |= words[i].bits;
        p = end != NULL ? end + 1 : NULL;
    }
    *offload = bits;
    return TERN_OK;
}

static void tap_readable(void *ctx, uint32_t now)
{
    /* A bounded burst per lock hold: application threads get the core lock
     * between bursts even under a flood. */
    tern_tap_rx(ctx, now, 32);
}

int tern_tap_runner_add(struct tern_posix_runner *r, tern_tap_t *tap)
{
    return tern_posix_runner_add_fd(r, tap->fd, tap_readable, tap);
}

void tern_tap_close(tern_tap_t *tap)
{
    if (tap->fd >= 0) {
        close(tap->fd);
        tap->fd = -1;
    }
    free(tap->rx_big);
    free(tap->cut);
    tap->rx_big = tap->cut = NULL;
    tap->vnet = 0;
}
