/* See apps_lwip.h: the benchmark applications on lwIP's sockets API, written
 * the way lwIP's users write a fast server with an OS (lwip-server --api
 * threads, the harness's "lwipfast" column): one blocking accept loop per
 * listening port and one thread per connection, every socket blocking,
 * reads and writes of 64 KB.
 *
 * Why this is lwIP's fastest shape (bench/results/notes.md, "Where
 * lwip-server lost its speed"): a blocking lwip_send of 64 KB that does not
 * fit waits inside netconn_write; lwIP then continues the write from its
 * sent callback (lwip_netconn_do_writemore), i.e. in the thread that
 * processes the ACK, under the core lock, as soon as the ACK frees room. A
 * non-blocking sender on lwip_poll is woken only once half the send buffer
 * is free (TCP_SNDLOWAT), then has to take the lock again per call. */
#include "apps_lwip.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "lwip/sockets.h"

#define THR_CHUNK 65536u        /* one lwip_send / lwip_recv: a whole window */
#define THR_STACK (128u * 1024u) /* per connection thread: 64 KB buffer + calls */

enum kind { K_DISCARD, K_CHARGEN, K_HTTP };

typedef struct thr_apps {
    bench_counters_t *cnt;
    unsigned max_conns;
    atomic_uint live;  /* connection threads running */
    pthread_mutex_t lock; /* the counters: several connection threads */
    int listeners[3];
    pthread_t acceptors[3];
    uint8_t pattern[BENCH_CHARGEN_BUF];
} thr_apps_t;

static thr_apps_t *g;

typedef struct thr_conn {
    int sock;
    int kind;
} thr_conn_t;

static void count(uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&g->lock);
    *field += n;
    pthread_mutex_unlock(&g->lock);
}

static void serve_discard(int s)
{
    /* On the thread's stack (mmap'd by pthread_create): application state,
     * outside lwIP's RAM budget as in the other servers. */
    uint8_t buf[THR_CHUNK];
    uint64_t total = 0;
    for (;;) {
        ssize_t n = lwip_recv(s, buf, THR_CHUNK, 0);
        if (n <= 0)
            break;
        total += (uint64_t)n;
        /* Counted in large steps: a lock per read would be the
         * application's cost, not lwIP's. */
        if (total >= (1u << 24)) {
            count(&g->cnt->rx_bytes, total);
            total = 0;
        }
    }
    count(&g->cnt->rx_bytes, total);
}

static void serve_chargen(int s)
{
    size_t off = 0;
    uint64_t total = 0;
    for (;;) {
        ssize_t n = lwip_send(s, g->pattern + off, BENCH_CHARGEN_SPAN, 0);
        if (n <= 0)
            break;
        total += (uint64_t)n;
        off = (off + (size_t)n) % BENCH_CHARGEN_LEN;
        if (total >= (1u << 24)) {
            count(&g->cnt->tx_bytes, total);
            total = 0;
        }
    }
    count(&g->cnt->tx_bytes, total);
}

static void serve_http(int s)
{
    uint8_t buf[2048];
    bench_http_scan_t scan;
    bench_http_init(&scan);
    int one = 1;
    lwip_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    for (;;) {
        ssize_t n = lwip_recv(s, buf, sizeof(buf), 0);
        if (n <= 0)
            return;
        int close_after = 0;
        unsigned reqs = bench_http_feed(&scan, buf, (size_t)n, &close_after);
        if (reqs > 0)
            count(&g->cnt->requests, reqs);
        for (unsigned i = 0; i < reqs; i++) {
            int last = i + 1u == reqs && close_after;
            const char *r = last ? bench_http_close : bench_http_keep;
            size_t len = last ? BENCH_HTTP_CLOSE_LEN : BENCH_HTTP_KEEP_LEN;
            if (lwip_send(s, r, len, 0) != (ssize_t)len)
                return;
        }
        if (close_after)
            return;
    }
}

static void *conn_thread(void *arg)
{
    thr_conn_t c = *(thr_conn_t *)arg;
    free(arg);
    if (c.kind == K_DISCARD)
        serve_discard(c.sock);
    else if (c.kind == K_CHARGEN)
        serve_chargen(c.sock);
    else
        serve_http(c.sock);
    /* Graceful (no SO_LINGER): lwIP sends the FIN after the queued bytes. */
    lwip_close(c.sock);
    pthread_mutex_lock(&g->lock);
    bench_conn_down(g->cnt);
    pthread_mutex_unlock(&g->lock);
    atomic_fetch_sub(&g->live, 1u);
    return NULL;
}

static void *accept_thread(void *arg)
{
    int kind = (int)(intptr_t)arg;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THR_STACK);
    for (;;) {
        int s = lwip_accept(g->listeners[kind], NULL, NULL);
        if (s < 0) {
            count(&g->cnt->refused, 1); /* no memory for the socket */
            continue;
        }
        thr_conn_t *c = malloc(sizeof(*c));
        if (c == NULL || atomic_load(&g->live) >= g->max_conns) {
            free(c);
            count(&g->cnt->refused, 1);
            lwip_close(s);
            continue;
        }
        c->sock = s;
        c->kind = kind;
        atomic_fetch_add(&g->live, 1u);
        pthread_mutex_lock(&g->lock);
        bench_conn_up(g->cnt);
        pthread_mutex_unlock(&g->lock);
        pthread_t t;
        if (pthread_create(&t, &attr, conn_thread, c) != 0) {
            free(c);
            lwip_close(s);
            atomic_fetch_sub(&g->live, 1u);
            pthread_mutex_lock(&g->lock);
            bench_conn_down(g->cnt);
            g->cnt->refused++;
            pthread_mutex_unlock(&g->lock);
        }
    }
    return NULL;
}

static int listen_on(uint16_t port)
{
    int s = lwip_socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
        fprintf(stderr, "lwip thread apps: lwip_socket: errno %d\n", errno);
        return -1;
    }
    struct sockaddr_in local;
    memset(&local, 0, sizeof(local));
    local.sin_family = AF_INET;
    local.sin_port = htons(port);
    local.sin_addr.s_addr = 0; /* INADDR_ANY */
    if (lwip_bind(s, (struct sockaddr *)&local, sizeof(local)) < 0 || lwip_listen(s, 255) < 0) {
        fprintf(stderr, "lwip thread apps: cannot listen on port %u: errno %d\n", port, errno);
        lwip_close(s);
        return -1;
    }
    return s;
}

int bench_lwip_thr_apps_start(bench_counters_t *cnt, unsigned max_conns)
{
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return -1;
    g->cnt = cnt;
    g->max_conns = max_conns;
    pthread_mutex_init(&g->lock, NULL);
    bench_chargen_fill_n(g->pattern, sizeof(g->pattern));
    static const uint16_t ports[3] = {BENCH_PORT_DISCARD, BENCH_PORT_CHARGEN, BENCH_PORT_HTTP};
    for (int i = 0; i < 3; i++) {
        g->listeners[i] = listen_on(ports[i]);
        if (g->listeners[i] < 0)
            return -1;
    }
    for (int i = 0; i < 3; i++)
        if (pthread_create(&g->acceptors[i], NULL, accept_thread, (void *)(intptr_t)i) != 0)
            return -1;
    return 0;
}
