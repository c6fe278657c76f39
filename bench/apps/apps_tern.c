/* See apps_tern.h: the benchmark applications on tern's sockets API.
 *
 * One application thread, as kernel-server's epoll loop: every socket is
 * non-blocking, tern_socket_poll() waits on the listeners and the
 * connections, and each ready socket is served until it would block. Socket
 * calls take the core lock themselves (core locking; the stack thread runs
 * the TAP and the timers under the same lock).
 *
 * Sends copy once into the send ring, as the other servers do
 * (tern_send). Receives read the ring in place
 * (tern_recv_span/tern_recv_consume), as lwIP hands its pbufs over. */
#include "apps_tern.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char bench_tern_api[] = "sockets";

enum kind { K_DISCARD, K_CHARGEN, K_HTTP };

typedef struct sconn {
    int sock; /* 0: free slot */
    int kind;
    bench_http_scan_t scan;
    unsigned owed;
    int close_after;
    size_t chargen_off;
} sconn_t;

typedef struct sapps {
    tern_stack_t *stack;
    bench_counters_t *cnt;
    bench_tern_cfg_t cfg;
    int listeners[3];
    sconn_t conns[TERN_SOCKET_MAX + 1]; /* by socket id */
    int hi; /* the highest id in use: the poll loop stops there */
    tern_pollfd_t fds[TERN_SOCKET_MAX + 3];
    pthread_t thread;
    int started;
    atomic_int stop;
    uint8_t pattern[BENCH_CHARGEN_BUF];
} sapps_t;

static sapps_t *g; /* one server per process: the harness's host program */

static void conn_close(sconn_t *c)
{
    /* Graceful: the FIN follows the queued bytes in the background. */
    (void)tern_close(g->stack, c->sock);
    c->sock = 0;
    while (g->hi > 0 && g->conns[g->hi].sock == 0)
        g->hi--;
    bench_conn_down(g->cnt);
}

/* Read what is there; 1 when the connection ended (closed here). */
static int conn_read(sconn_t *c)
{
    for (;;) {
        const uint8_t *span;
        int n = tern_recv_span(g->stack, c->sock, &span, TERN_MSG_DONTWAIT);
        if (n == TERN_ERR_WOULDBLOCK)
            return 0;
        if (n <= 0) { /* 0: the peer's FIN, everything read; < 0: reset or error */
            conn_close(c);
            return 1;
        }
        if (c->kind == K_DISCARD) {
            g->cnt->rx_bytes += (uint64_t)n;
        } else if (c->kind == K_HTTP) {
            int close_after = 0;
            unsigned reqs = bench_http_feed(&c->scan, span, (size_t)n, &close_after);
            g->cnt->requests += reqs;
            c->owed += reqs;
            if (close_after)
                c->close_after = 1;
        }
        if (tern_recv_consume(g->stack, c->sock, (size_t)n) != TERN_OK) {
            conn_close(c);
            return 1;
        }
    }
}

/* Write what fits; 1 when the connection ended (closed here). */
static int conn_write(sconn_t *c)
{
    if (c->kind == K_CHARGEN) {
        /* tern_send, not a send span: a span held across the unlock can
         * go stale when the ACK path empties the ring and rewinds it
         * (reported; see docs/benchmarks.md). Either way one copy. */
        for (;;) {
            int n = tern_send(g->stack, c->sock, g->pattern + c->chargen_off, BENCH_CHARGEN_SPAN, TERN_MSG_DONTWAIT);
            if (n == TERN_ERR_WOULDBLOCK || n == 0)
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
            int n = tern_send(g->stack, c->sock, r, len, TERN_MSG_DONTWAIT);
            if (n == TERN_ERR_WOULDBLOCK)
                return 0;
            if (n != (int)len) {
                /* A response is never split here: the ring takes 4 KB at
                 * least, and POLLOUT means a quarter of it is free. */
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
        int s = tern_accept(g->stack, listener, NULL);
        if (s == TERN_ERR_WOULDBLOCK)
            return;
        if (s < 0) {
            g->cnt->refused++; /* no id or no memory: it stays queued, or is reset */
            return;
        }
        if (s > TERN_SOCKET_MAX) { /* cannot happen: ids are 1..TERN_SOCKET_MAX */
            tern_close(g->stack, s);
            continue;
        }
        sconn_t *c = &g->conns[s];
        memset(c, 0, sizeof(*c));
        bench_http_init(&c->scan);
        c->sock = s;
        c->kind = kind;
        if (s > g->hi)
            g->hi = s;
        bench_conn_up(g->cnt);
        tern_setsockopt(g->stack, s, TERN_SO_NONBLOCK, 1);
        if (kind == K_HTTP)
            tern_setsockopt(g->stack, s, TERN_SO_TCP_NODELAY, 1);
        if (kind == K_CHARGEN)
            (void)conn_write(c);
    }
}

static void *apps_thread(void *arg)
{
    (void)arg;
    while (!atomic_load(&g->stop)) {
        size_t n = 0;
        for (int i = 0; i < 3; i++) {
            g->fds[n].sock = g->listeners[i];
            g->fds[n].events = TERN_POLLIN;
            g->fds[n].revents = 0;
            n++;
        }
        for (int s = 1; s <= g->hi; s++) {
            sconn_t *c = &g->conns[s];
            if (c->sock == 0)
                continue;
            uint16_t ev = TERN_POLLIN;
            if (c->kind == K_CHARGEN || (c->kind == K_HTTP && c->owed > 0))
                ev |= TERN_POLLOUT;
            g->fds[n].sock = s;
            g->fds[n].events = ev;
            g->fds[n].revents = 0;
            n++;
        }
        /* A bounded wait: the stop flag is looked at ten times a second. */
        int r = tern_socket_poll(g->stack, g->fds, n, 100);
        if (r <= 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            uint16_t rev = g->fds[i].revents;
            if (rev == 0)
                continue;
            if (i < 3) {
                accept_all(g->listeners[i], (int)i);
                continue;
            }
            sconn_t *c = &g->conns[g->fds[i].sock];
            if (c->sock == 0)
                continue;
            if (rev & (TERN_POLLIN | TERN_POLLERR | TERN_POLLHUP | TERN_POLLNVAL)) {
                if (conn_read(c))
                    continue;
            }
            if (rev & TERN_POLLOUT || (c->kind == K_HTTP && c->owed > 0))
                (void)conn_write(c);
        }
    }
    return NULL;
}

static int listen_on(uint16_t port)
{
    int s = tern_socket(g->stack, TERN_SOCK_STREAM);
    if (s < 0) {
        fprintf(stderr, "tern apps: tern_socket: %s\n", tern_strerror(s));
        return s;
    }
    tern_sockaddr_t local = {.addr = 0, .port = port};
    int rc = tern_bind(g->stack, s, &local);
    /* Ring sizes before any connection exists: accepted ones inherit them. */
    if (rc == TERN_OK && g->cfg.rcvbuf != 0)
        rc = tern_setsockopt(g->stack, s, TERN_SO_RCVBUF, g->cfg.rcvbuf);
    if (rc == TERN_OK && g->cfg.sndbuf != 0)
        rc = tern_setsockopt(g->stack, s, TERN_SO_SNDBUF, g->cfg.sndbuf);
    if (rc == TERN_OK)
        rc = tern_listen(g->stack, s, (int)g->cfg.backlog);
    if (rc == TERN_OK)
        rc = tern_setsockopt(g->stack, s, TERN_SO_NONBLOCK, 1);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern apps: cannot listen on port %u: %s\n", port, tern_strerror(rc));
        return rc;
    }
    return s;
}

int bench_tern_apps_start(tern_stack_t *stack, tern_posix_t *px, bench_counters_t *cnt, const bench_tern_cfg_t *cfg)
{
    (void)px; /* socket calls take the core lock themselves */
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return -1;
    g->stack = stack;
    g->cnt = cnt;
    g->cfg = *cfg;
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

void bench_tern_apps_stop(void)
{
    if (g == NULL || !g->started)
        return;
    atomic_store(&g->stop, 1);
    pthread_join(g->thread, NULL);
    g->started = 0;
}
