/* The slirp driver: a libslirp user-mode network as a tern interface. */
#include "tern_slirp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <slirp/libslirp.h>
#include "tern/err.h"
#include "tern/stack.h"
#include "tern_posix.h"

#define SLIRP_ETH_HEADER 14u

struct tern_slirp_timer {
    struct tern_slirp_timer *next;
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
};

static int64_t slirp_clock_ns(void *opaque)
{
    (void)opaque;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void slirp_kick(tern_slirp_t *s)
{
    uint64_t one = 1;
    ssize_t n = write(s->wake_fd, &one, sizeof one);
    (void)n; /* a full counter still wakes the thread */
}

/* ---- tern -> slirp ------------------------------------------------------------ */

/* ops->output, core lock held: queue a copy for the slirp thread. */
static int slirp_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    tern_slirp_t *s = nif->driver;
    int rc = TERN_OK;
    pthread_mutex_lock(&s->txq_lock);
    if (nb->len > TERN_NETBUF_FRAME_SIZE || s->txq == NULL) {
        rc = TERN_ERR_MSGSIZE;
    } else if (s->txq_count == TERN_SLIRP_TXQ) {
        s->stats.tx_dropped++;
        rc = TERN_ERR_NOBUFS; /* lost, as on a congested wire */
    } else {
        unsigned slot = (s->txq_head + s->txq_count) % TERN_SLIRP_TXQ;
        memcpy(s->txq[slot], nb->data, nb->len);
        s->txq_len[slot] = nb->len;
        s->txq_count++;
    }
    pthread_mutex_unlock(&s->txq_lock);
    if (rc == TERN_OK)
        slirp_kick(s);
    /* Zero-copy TX: the copy above was the "DMA"; the buffer is done. */
    if (nb->flags & TERN_NETBUF_F_RELEASE_AFTER_SEND)
        tern_netif_tx_done(nif, nb);
    return rc;
}

static const tern_netif_ops_t slirp_ops = {
    .init = NULL,
    .output = slirp_output,
    .shutdown = NULL, /* holds no network buffer between calls */
};

/* Slirp thread: hand every queued frame to slirp. The frame is copied out
 * of the queue first so that slirp_input (which may call send_packet, which
 * takes the core lock, under which tern may queue more) runs unlocked. */
static void slirp_drain(tern_slirp_t *s, uint8_t *frame)
{
    for (;;) {
        pthread_mutex_lock(&s->txq_lock);
        if (s->txq_count == 0) {
            pthread_mutex_unlock(&s->txq_lock);
            return;
        }
        unsigned slot = s->txq_head;
        uint16_t len = s->txq_len[slot];
        memcpy(frame, s->txq[slot], len);
        s->txq_head = (slot + 1u) % TERN_SLIRP_TXQ;
        s->txq_count--;
        s->stats.tx_frames++;
        s->stats.tx_bytes += len;
        pthread_mutex_unlock(&s->txq_lock);
        slirp_input(s->slirp, frame, (int)len);
    }
}

/* ---- slirp -> tern ------------------------------------------------------------ */

static ssize_t slirp_send_packet(const void *buf, size_t len, void *opaque)
{
    tern_slirp_t *s = opaque;
    tern_stack_t *stack = s->netif.stack;
    if (stack == NULL)
        return (ssize_t)len; /* not attached: the wire goes nowhere */
    tern_posix_lock(s->px);
    uint32_t now = tern_posix_now_ms();
    if (len < SLIRP_ETH_HEADER || len > TERN_NETBUF_FRAME_SIZE) {
        s->stats.rx_bad++;
    } else if (s->netif.caps & TERN_NETIF_CAP_ZERO_COPY_RX) {
        tern_netbuf_t *nb = tern_netif_rx_buffer_get(&s->netif);
        if (nb == NULL) {
            s->stats.rx_nobufs++;
        } else {
            memcpy(tern_netbuf_frame(nb), buf, len);
            nb->data = tern_netbuf_frame(nb);
            tern_netbuf_set_len(nb, len);
            s->stats.rx_frames++;
            s->stats.rx_bytes += len;
            tern_input(stack, &s->netif, nb, now);
        }
    } else {
        if (tern_input_copy(stack, &s->netif, buf, len, now) == TERN_ERR_NOBUFS) {
            s->stats.rx_nobufs++;
        } else {
            s->stats.rx_frames++;
            s->stats.rx_bytes += len;
        }
    }
    tern_posix_unlock(s->px);
    if (s->runner)
        tern_posix_runner_wake(s->runner); /* tern may have armed a timer */
    return (ssize_t)len;
}

static void slirp_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "[slirp] guest error: %s\n", msg);
}

static void *slirp_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    tern_slirp_t *s = opaque;
    struct tern_slirp_timer *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = s->timers;
    s->timers = t;
    return t;
}

static void slirp_timer_free(void *timer, void *opaque)
{
    tern_slirp_t *s = opaque;
    for (struct tern_slirp_timer **p = &s->timers; *p != NULL; p = &(*p)->next) {
        if (*p == timer) {
            *p = (*p)->next;
            free(timer);
            return;
        }
    }
}

static void slirp_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    ((struct tern_slirp_timer *)timer)->expire_ms = expire_ms;
}

static void slirp_register_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque; /* the poll set is rebuilt every turn by slirp_pollfds_fill */
}

static void slirp_notify(void *opaque)
{
    slirp_kick(opaque);
}

static const SlirpCb slirp_callbacks = {
    .send_packet = slirp_send_packet,
    .guest_error = slirp_guest_error,
    .clock_get_ns = slirp_clock_ns,
    .timer_new = slirp_timer_new,
    .timer_free = slirp_timer_free,
    .timer_mod = slirp_timer_mod,
    .register_poll_fd = slirp_register_fd,
    .unregister_poll_fd = slirp_register_fd,
    .notify = slirp_notify,
};

/* ---- the slirp thread ------------------------------------------------------------ */

static int slirp_add_poll(int fd, int events, void *opaque)
{
    tern_slirp_t *s = opaque;
    if (s->npfds == s->cap_pfds) {
        unsigned cap = s->cap_pfds ? s->cap_pfds * 2u : 16u;
        struct pollfd *p = realloc(s->pfds, cap * sizeof *p);
        if (p == NULL)
            return -1; /* slirp then never sees this fd ready this turn */
        s->pfds = p;
        s->cap_pfds = cap;
    }
    short ev = 0;
    if (events & SLIRP_POLL_IN)
        ev |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= POLLPRI;
    s->pfds[s->npfds].fd = fd;
    s->pfds[s->npfds].events = ev;
    s->pfds[s->npfds].revents = 0;
    return (int)s->npfds++;
}

static int slirp_get_revents(int idx, void *opaque)
{
    tern_slirp_t *s = opaque;
    if (idx < 0 || (unsigned)idx >= s->npfds)
        return 0;
    short r = s->pfds[idx].revents;
    int ev = 0;
    if (r & POLLIN)
        ev |= SLIRP_POLL_IN;
    if (r & POLLOUT)
        ev |= SLIRP_POLL_OUT;
    if (r & POLLPRI)
        ev |= SLIRP_POLL_PRI;
    if (r & (POLLERR | POLLNVAL))
        ev |= SLIRP_POLL_ERR;
    if (r & POLLHUP)
        ev |= SLIRP_POLL_HUP;
    return ev;
}

/* Is 127.0.0.1:port free to listen on? Checked at open so a taken port is
 * reported at once, although the forward itself is added later. */
static int slirp_port_free(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {htonl(TERN_IP4(127, 0, 0, 1))}};
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    int e = errno;
    close(fd);
    errno = e;
    return ok;
}

/* libslirp closes a host-forward listener for good when a forwarded
 * connection finds no guest (tern still waiting for its DHCP lease), so the
 * forward is added only once tern has an address. Slirp thread. */
static void slirp_forward_when_ready(tern_slirp_t *s)
{
    if (s->host_port == 0 || atomic_load(&s->fwd_added))
        return;
    tern_posix_lock(s->px);
    tern_ip4_t addr = s->netif.addr;
    tern_posix_unlock(s->px);
    if (addr == 0)
        return;
    struct in_addr host = {htonl(TERN_IP4(127, 0, 0, 1))}, guest = {htonl(addr)};
    if (slirp_add_hostfwd(s->slirp, 0, host, s->host_port, guest, s->guest_port) == 0)
        atomic_store(&s->fwd_added, 1);
    else
        s->host_port = 0; /* taken since open: give up quietly, the banner said the port */
}

static void *slirp_thread(void *arg)
{
    tern_slirp_t *s = arg;
    static _Thread_local uint8_t frame[TERN_NETBUF_FRAME_SIZE];
    while (!atomic_load(&s->stop)) {
        slirp_forward_when_ready(s);
        slirp_drain(s, frame);
        /* Timeout: the nearest slirp timer, at most 1 s. */
        int64_t now_ms = slirp_clock_ns(NULL) / 1000000;
        uint32_t timeout = 1000;
        for (struct tern_slirp_timer *t = s->timers; t != NULL; t = t->next) {
            if (t->expire_ms < 0)
                continue;
            int64_t left = t->expire_ms - now_ms;
            if (left < 0)
                left = 0;
            if ((uint64_t)left < timeout)
                timeout = (uint32_t)left;
        }
        s->npfds = 0;
        slirp_add_poll(s->wake_fd, SLIRP_POLL_IN, s);
        slirp_pollfds_fill(s->slirp, &timeout, slirp_add_poll, s);
        int rc = poll(s->pfds, s->npfds, (int)timeout);
        if (rc < 0 && errno != EINTR)
            rc = -1;
        if (rc > 0 && (s->pfds[0].revents & POLLIN)) {
            uint64_t v;
            ssize_t n = read(s->wake_fd, &v, sizeof v);
            (void)n;
        }
        slirp_pollfds_poll(s->slirp, rc < 0, slirp_get_revents, s);
        /* Expired timers; a callback may re-arm or free timers, so restart
         * the walk after each one. */
        now_ms = slirp_clock_ns(NULL) / 1000000;
        for (int fired = 1; fired;) {
            fired = 0;
            for (struct tern_slirp_timer *t = s->timers; t != NULL; t = t->next) {
                if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
                    t->expire_ms = -1;
                    t->cb(t->cb_opaque);
                    fired = 1;
                    break;
                }
            }
        }
    }
    slirp_drain(s, frame); /* frames queued before the stop: give them to slirp */
    return NULL;
}

/* ---- open / start / stop / close ----------------------------------------------------- */

int tern_slirp_open(tern_slirp_t *s, struct tern_posix *px, const tern_slirp_config_t *cfg)
{
    static const uint8_t default_mac[6] = TERN_SLIRP_DEFAULT_MAC;
    memset(s, 0, sizeof *s);
    s->wake_fd = -1;
    s->px = px;
    s->host_port = cfg ? cfg->host_port : 0;
    s->guest_port = cfg && cfg->guest_port ? cfg->guest_port : 80;
    if (pthread_mutex_init(&s->txq_lock, NULL) != 0)
        return TERN_ERR_NOMEM;
    s->txq_lock_ok = 1;
    s->txq = calloc(TERN_SLIRP_TXQ, sizeof *s->txq);
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->txq == NULL || s->wake_fd < 0) {
        tern_slirp_close(s);
        return TERN_ERR_NOMEM;
    }

    SlirpConfig c;
    memset(&c, 0, sizeof c);
    c.version = 4;
    c.restricted = 1;      /* the guest reaches slirp's own addresses only */
    c.in_enabled = true;
    c.vnetwork.s_addr = htonl(TERN_SLIRP_NET);
    c.vnetmask.s_addr = htonl(TERN_SLIRP_MASK);
    c.vhost.s_addr = htonl(TERN_SLIRP_GATEWAY);
    c.in6_enabled = false;
    c.vhostname = "tern";
    c.vdhcp_start.s_addr = htonl(TERN_SLIRP_GUEST);
    c.vnameserver.s_addr = htonl(TERN_IP4(10, 0, 2, 3));
    c.disable_dns = true;  /* no forwarding of DNS queries to the host's resolver */
    c.disable_dhcp = false; /* slirp's DHCP server, inside slirp only */
    c.disable_host_loopback = true;
    s->slirp = slirp_new(&c, &slirp_callbacks, s);
    if (s->slirp == NULL) {
        tern_slirp_close(s);
        return TERN_ERR_NOTSUP;
    }
    if (s->host_port != 0 && !slirp_port_free(s->host_port)) {
        int e = errno;
        tern_slirp_close(s);
        errno = e;
        return TERN_ERR_ADDRINUSE;
    }

    tern_netif_t *nif = &s->netif;
    nif->ops = &slirp_ops;
    nif->driver = s;
    memcpy(nif->mac, cfg && cfg->mac ? cfg->mac : default_mac, 6);
    nif->mtu = 1500;
    nif->offload = 0;
    nif->caps = TERN_NETIF_CAPS_DEFAULT;
    nif->link = TERN_LINK_ETHERNET;
    memcpy(nif->name, "slirp0", 7);
    return TERN_OK;
}

int tern_slirp_start(tern_slirp_t *s, struct tern_posix_runner *runner)
{
    if (s->slirp == NULL || s->started)
        return TERN_ERR_STATE;
    s->runner = runner;
    atomic_store(&s->stop, 0);
    if (pthread_create(&s->thread, NULL, slirp_thread, s) != 0)
        return TERN_ERR_NOMEM;
    s->started = 1;
    return TERN_OK;
}

void tern_slirp_stop(tern_slirp_t *s)
{
    if (!s->started)
        return;
    atomic_store(&s->stop, 1);
    slirp_kick(s);
    pthread_join(s->thread, NULL);
    s->started = 0;
}

void tern_slirp_close(tern_slirp_t *s)
{
    tern_slirp_stop(s);
    if (s->slirp != NULL) {
        slirp_cleanup(s->slirp); /* frees its timers through timer_free */
        s->slirp = NULL;
    }
    while (s->timers != NULL) {
        struct tern_slirp_timer *t = s->timers;
        s->timers = t->next;
        free(t);
    }
    free(s->pfds);
    s->pfds = NULL;
    s->npfds = s->cap_pfds = 0;
    free(s->txq);
    s->txq = NULL;
    if (s->wake_fd >= 0) {
        close(s->wake_fd);
        s->wake_fd = -1;
    }
    if (s->txq_lock_ok) {
        pthread_mutex_destroy(&s->txq_lock);
        s->txq_lock_ok = 0;
    }
}

int tern_slirp_forward_ready(tern_slirp_t *s)
{
    return atomic_load(&s->fwd_added);
}

void tern_slirp_get_stats(tern_slirp_t *s, tern_slirp_stats_t *out)
{
    pthread_mutex_lock(&s->txq_lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->txq_lock);
}
