/* The TAP driver: Linux /dev/net/tun in TAP mode as a tern interface. */
#include "tern_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tern/err.h"
#include "tern/stack.h"
#include "tern_posix.h"

#define TAP_ETH_HEADER 14u

static int tap_init(tern_netif_t *nif)
{
    tern_tap_t *tap = nif->driver;
    return tap->fd >= 0 ? TERN_OK : TERN_ERR_STATE;
}

static int tap_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    tern_tap_t *tap = nif->driver;
    int rc = TERN_OK;
    ssize_t w;
    do {
        w = write(tap->fd, nb->data, nb->len);
    } while (w < 0 && errno == EINTR);
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
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, n);
    /* Attaches to an existing TAP (ip tuntap add ...) or creates a
     * non-persistent one that disappears when the fd is closed. */
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return TERN_ERR_NOTSUP;
    }
    tap->fd = fd;
    memcpy(tap->ifname, ifr.ifr_name, sizeof tap->ifname - 1u);
    tap_wait_running(tap->ifname);

    tern_netif_t *nif = &tap->netif;
    nif->ops = &tap_ops;
    nif->driver = tap;
    memcpy(nif->mac, mac ? mac : default_mac, 6);
    nif->mtu = 1500;
    nif->offload = 0; /* the kernel hands over frames with real checksums */
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

unsigned tern_tap_rx(tern_tap_t *tap, uint32_t now, unsigned budget)
{
    tern_stack_t *stack = tap->netif.stack;
    unsigned frames = 0;
    if (stack == NULL || tap->fd < 0)
        return 0;
    int zero_copy = (tap->netif.caps & TERN_NETIF_CAP_ZERO_COPY_RX) != 0;
    while (frames < budget) {
        int r = zero_copy ? tap_rx_zero_copy(tap, stack, now) : tap_rx_copy(tap, stack, now);
        if (r == TAP_RX_STOP)
            break;
        if (r == TAP_RX_FRAME)
            frames++;
    }
    return frames;
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
}
