/* See apps_lwip.h: the benchmark applications on lwIP's sockets API.
 *
 * Structured as apps_tern.c (tern's sockets API) so that the two compare
 * like for like: one application thread, every socket non-blocking,
 * lwip_poll() waits on the listeners and the connections, and each ready
 * socket is served until it would block. With Debian's build
 * (LWIP_TCPIP_CORE_LOCKING=1) every lwip_* call takes the core lock itself;
 * received segments are queued to the socket's mailbox by the TAP reader
 * (under the same lock) and lwip_recv copies them out, then frees the pbufs.
 *
 * Sends copy once into lwIP's send buffer (lwip_send -> tcp_write with
 * TCP_WRITE_FLAG_COPY), as tern_send copies into its ring. Receives copy once
 * out of the pbufs into the application's buffer: the sockets API has no
 * way to read in place (tern's server reads its ring in place with
 * tern_recv_span); that copy is part of what lwIP's sockets API costs. */
#include "apps_lwip.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "lwip/sockets.h"

enum kind { K_DISCARD, K_CHARGEN, K_HTTP };

#define RX_CHUNK 65536u /* one lwip_recv: up to a whole window */

typedef struct lsconn {
    int sock; /* -1: free slot */
    int kind;
    bench_http_scan_t scan;
    unsigned owed;
    int close_after;
    size_t chargen_off;
} lsconn_t;

typedef struct lsapps {
    bench_counters_t *cnt;
    int listeners[3];
    unsigned nconns;        /* entries in conns and fds beyond the listeners */
    unsigned hi;            /* 1 + the highest slot in use: the poll loop stops there */
    lsconn_t *conns;        /* by socket number - LWIP_SOCKET_OFFSET */
    struct pollfd *fds;     /* 3 + nconns */
    pthread_t thread;
    int started;
    atomic_int stop;
    uint8_t pattern[BENCH_CHARGEN_BUF];
    uint8_t rx[RX_CHUNK];
} lsapps_t;

static lsapps_t *g; /* one server per process: the harness's host program */

static void conn_close(lsconn_t *c)
{
    /* Graceful (no SO_LINGER): lwIP sends the FIN after the queued bytes. */
    (void)lwip_close(c->sock);
    c->sock = -1;
    while (g->hi > 0 && g->conns[g->hi - 1].sock < 0)
        g->hi--;
    bench_conn_down(g->cnt);
}

static int would_block(void)
{
    return errno == EWOULDBLOCK || errno == EAGAIN;
}

/* Read what is there; 1 when the connection ended (closed here). */
static int conn_read(lsconn_t *c)
{
    for (;;) {
        ssize_t n = lwip_recv(c->sock, g->rx, sizeof(g->rx), MSG_DONTWAIT);
        if (n < 0 && would_block())
            return 0;
        if (n <= 0) { /* 0: the peer's FIN; < 0: reset or error */
            conn_close(c);
            return 1;
        }
        if (c->kind == K_DISCARD) {
            g->cnt->rx_bytes += (uint64_t)n;
        } else if (c->kind == K_HTTP) {
            int close_after = 0;
            unsigned reqs = bench_http_feed(&c->scan, g->rx, (size_t)n, &close_after);
            g->cnt->requests += reqs;
            c->owed += reqs;
            if (close_after)
                c->close_after = 1;
        }
        /* A short read emptied the socket: do not pay for one more call
         * that would only say EWOULDBLOCK (poll reports the next data). */
        if ((size_t)n < sizeof(g->rx))
            return 0;
    }
}

/* Write what fits; 1 when the connection ended (closed here). */
static int conn_write(lsconn_t *c)
{
    if (c->kind == K_CHARGEN) {
        for (;;) {
            ssize_t n = lwip_send(c->sock, g->pattern + c->chargen_off, BENCH_CHARGEN_SPAN, MSG_DONTWAIT);
            if ((n < 0 && would_block()) || n == 0)
                return 0;
            if (n < 0) {
                conn_close(c);
                return 1;
            }
            g->cnt->tx_bytes += (uint64_t)n;
            c->chargen_off = (c->chargen_off + (size_t)n) % BENCH_CHARGEN_LEN;
        }
    }
    if (c->kind == K_HTTP) {
        while (c->owed > 0) {
            int last = c->owed == 1 && c->close_after;
            const char *r = last ? bench_http_close : bench_http_keep;
            size_t len = last ? BENCH_HTTP_CLOSE_LEN : BENCH_HTTP_KEEP_LEN;
            ssize_t n = lwip_send(c->sock, r, len, MSG_DONTWAIT);
            if (n < 0 && would_block())
                return 0;
            if (n != (ssize_t)len) {
                /* A response is never split: the send buffer is 64 KB and
                 * POLLOUT means it has room (TCP_SNDLOWAT). */
                conn_close(c);
                return 1;
            }
            c->owed--;
        }
        if (c->close_after) {
            conn_close(c);
            return 1;
        }
    }
    return 0;
}

static void accept_all(int listener, int kind)
{
    for (;;) {
        int s = lwip_accept(listener, NULL, NULL);
        if (s < 0) {
            if (!would_block())
                g->cnt->refused++; /* no memory for the socket */
            return;
        }
        int slot = s - LWIP_SOCKET_OFFSET;
        if (slot < 0 || (unsigned)slot >= g->nconns) {
            /* More sockets than the table holds: refused, as lwip-server
             * --max-conns does on the raw API. */
            g->cnt->refused++;
            lwip_close(s);
            continue;
        }
        lsconn_t *c = &g->conns[slot];
        memset(c, 0, sizeof(*c));
        bench_http_init(&c->scan);
        c->sock = s;
        c->kind = kind;
        if ((unsigned)slot >= g->hi)
            g->hi = (unsigned)slot + 1u;
        bench_conn_up(g->cnt);
        int one = 1;
        lwip_ioctl(s, FIONBIO, &one);
        if (kind == K_HTTP)
            lwip_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (kind == K_CHARGEN)
            (void)conn_write(c);
    }
}

static void *apps_thread(void *arg)
{
    (void)arg;
    while (!atomic_load(&g->stop)) {
        nfds_t n = 0;
        for (int i = 0; i < 3; i++) {
            g->fds[n].fd = g->listeners[i];
            g->fds[n].events = POLLIN;
            g->fds[n].revents = 0;
            n++;
        }
        for (unsigned i = 0; i < g->hi; i++) {
            lsconn_t *c = &g->conns[i];
            if (c->sock < 0)
                continue;
            short ev = POLLIN;
            if (c->kind == K_CHARGEN || (c->kind == K_HTTP && c->owed > 0))
                ev |= POLLOUT;
            g->fds[n].fd = c->sock;
            g->fds[n].events = ev;
            g->fds[n].revents = 0;
            n++;
        }
        /* A bounded wait: the stop flag is looked at ten times a second. */
        int r = lwip_poll(g->fds, n, 100);
        if (r <= 0)
            continue;
        for (nfds_t i = 0; i < n; i++) {
            short rev = g->fds[i].revents;
            if (rev == 0)
                continue;
            if (i < 3) {
                accept_all(g->listeners[i], (int)i);
                continue;
            }
            lsconn_t *c = &g->conns[g->fds[i].fd - LWIP_SOCKET_OFFSET];
            if (c->sock < 0)
                continue;
            if (rev & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) {
                if (conn_read(c))
                    continue;
            }
            if ((rev & POLLOUT) || (c->kind == K_HTTP && c->owed > 0))
                (void)conn_write(c);
        }
    }
    return NULL;
}

static int listen_on(uint16_t port)
{
    int s = lwip_socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
        fprintf(stderr, "lwip sockets apps: lwip_socket: errno %d\n", errno);
        return -1;
    }
    struct sockaddr_in local;
    memset(&local, 0, sizeof(local));
    local.sin_family = AF_INET;
    local.sin_port = htons(port);
    local.sin_addr.s_addr = 0; /* INADDR_ANY */
    int one = 1;
    /* The same backlog as the raw version (tcp_listen_with_backlog 255). */
    if (lwip_bind(s, (struct sockaddr *)&local, sizeof(local)) < 0 || lwip_listen(s, 255) < 0 ||
        lwip_ioctl(s, FIONBIO, &one) < 0) {
        fprintf(stderr, "lwip sockets apps: cannot listen on port %u: errno %d\n", port, errno);
        lwip_close(s);
        return -1;
    }
    return s;
}

int bench_lwip_sock_apps_start(bench_counters_t *cnt, unsigned max_conns)
{
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return -1;
    g->cnt = cnt;
    /* Socket numbers start at LWIP_SOCKET_OFFSET and are reused lowest
     * first; the three listeners take the first ones. */
    g->nconns = max_conns + 3u;
    g->conns = calloc(g->nconns, sizeof(*g->conns));
    g->fds = calloc(g->nconns + 3u, sizeof(*g->fds));
    if (g->conns == NULL || g->fds == NULL)
        return -1;
    for (unsigned i = 0; i < g->nconns; i++)
        g->conns[i].sock = -1;
    bench_chargen_fill_n(g->pattern, sizeof(g->pattern));
    static const uint16_t ports[3] = {BENCH_PORT_DISCARD, BENCH_PORT_CHARGEN, BENCH_PORT_HTTP};
    for (int i = 0; i < 3; i++) {
        g->listeners[i] = listen_on(ports[i]);
        if (g->listeners[i] < 0)
            return -1;
    }
    if (pthread_create(&g->thread, NULL, apps_thread, NULL) != 0)
        return -1;
    g->started = 1;
    return 0;
}

void bench_lwip_sock_apps_stop(void)
{
    if (g == NULL || !g->started)
        return;
    atomic_store(&g->stop, 1);
    pthread_join(g->thread, NULL);
    g->started = 0;
}
