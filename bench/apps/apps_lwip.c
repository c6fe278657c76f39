/* See apps_lwip.h. Raw API callbacks: they run in the tcpip thread or in
 * the TAP reader, always with the core lock held.
 *
 * Sends copy (TCP_WRITE_FLAG_COPY) as the kernel's send() does and tern's
 * write does: every stack copies the application's bytes once into its own
 * send buffer. */
#include "apps_lwip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/tcp.h"

enum kind { K_DISCARD, K_CHARGEN, K_HTTP };

typedef struct lconn {
    struct lconn *next_free;
    struct tcp_pcb *pcb;
    int kind;
    bench_http_scan_t scan;
    unsigned owed;
    int close_after;
    size_t chargen_off;
} lconn_t;

static bench_counters_t *counters;
static lconn_t *pool;
static lconn_t *free_list;
static uint8_t pattern[2u * BENCH_CHARGEN_LEN];

static lconn_t *conn_get(void)
{
    lconn_t *c = free_list;
    if (c != NULL) {
        free_list = c->next_free;
        memset(c, 0, sizeof(*c));
        bench_http_init(&c->scan);
    }
    return c;
}

static void conn_put(lconn_t *c)
{
    c->next_free = free_list;
    free_list = c;
    bench_conn_down(counters);
}

static void conn_detach(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
}

/* Close gracefully; on failure (no memory for the FIN) reset instead.
 * Returns what a recv callback must return. */
static err_t conn_close(lconn_t *c)
{
    struct tcp_pcb *pcb = c->pcb;
    conn_detach(pcb);
    conn_put(c);
    if (tcp_close(pcb) != ERR_OK) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    return ERR_OK;
}

static void conn_err(void *arg, err_t err)
{
    (void)err;
    if (arg != NULL)
        conn_put(arg); /* the pcb is already freed */
}

static void chargen_fill(lconn_t *c)
{
    for (;;) {
        u16_t space = tcp_sndbuf(c->pcb);
        if (space == 0)
            break;
        u16_t n = space < BENCH_CHARGEN_LEN ? space : (u16_t)BENCH_CHARGEN_LEN;
        if (tcp_write(c->pcb, pattern + c->chargen_off, n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break; /* segment queue full: the sent callback resumes */
        counters->tx_bytes += n;
        c->chargen_off = (c->chargen_off + n) % BENCH_CHARGEN_LEN;
    }
    tcp_output(c->pcb);
}

/* Queue what is owed; returns what a callback must return. */
static err_t http_flush(lconn_t *c)
{
    while (c->owed > 0) {
        int last = c->owed == 1 && c->close_after;
        const char *r = last ? bench_http_close : bench_http_keep;
        u16_t len = (u16_t)(last ? BENCH_HTTP_CLOSE_LEN : BENCH_HTTP_KEEP_LEN);
        if (tcp_sndbuf(c->pcb) < len || tcp_write(c->pcb, r, len, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        c->owed--;
    }
    tcp_output(c->pcb);
    if (c->owed == 0 && c->close_after)
        return conn_close(c); /* FIN goes after the queued response */
    return ERR_OK;
}

static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    lconn_t *c = arg;
    if (c == NULL)
        return ERR_OK;
    if (c->kind == K_CHARGEN)
        chargen_fill(c);
    else if (c->kind == K_HTTP)
        return http_flush(c);
    return ERR_OK;
}

static err_t conn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    lconn_t *c = arg;
    (void)err;
    if (c == NULL) {
        if (p != NULL) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (p == NULL)
        return conn_close(c); /* peer's FIN: close our side too */
    u16_t total = p->tot_len;
    if (c->kind == K_DISCARD) {
        counters->rx_bytes += total;
    } else if (c->kind == K_HTTP) {
        int close_after = 0;
        unsigned reqs = 0;
        for (struct pbuf *q = p; q != NULL; q = q->next)
            reqs += bench_http_feed(&c->scan, q->payload, q->len, &close_after);
        counters->requests += reqs;
        c->owed += reqs;
        if (close_after)
            c->close_after = 1;
    }
    tcp_recved(pcb, total);
    pbuf_free(p);
    if (c->kind == K_HTTP)
        return http_flush(c);
    return ERR_OK;
}

static err_t conn_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    lconn_t *c = conn_get();
    if (c == NULL) {
        counters->refused++;
        return ERR_MEM; /* lwIP aborts the connection */
    }
    c->pcb = pcb;
    c->kind = (int)(intptr_t)arg;
    bench_conn_up(counters);
    tcp_arg(pcb, c);
    tcp_recv(pcb, conn_recv);
    tcp_sent(pcb, conn_sent);
    tcp_err(pcb, conn_err);
    if (c->kind == K_HTTP)
        tcp_nagle_disable(pcb);
    if (c->kind == K_CHARGEN)
        chargen_fill(c);
    return ERR_OK;
}

static int listen_on(u16_t port, int kind)
{
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb == NULL || tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
        fprintf(stderr, "lwip apps: cannot bind port %u\n", port);
        return -1;
    }
    struct tcp_pcb *l = tcp_listen_with_backlog(pcb, 255);
    if (l == NULL) {
        fprintf(stderr, "lwip apps: cannot listen on port %u\n", port);
        return -1;
    }
    tcp_arg(l, (void *)(intptr_t)kind);
    tcp_accept(l, conn_accept);
    return 0;
}

int bench_lwip_apps_start(bench_counters_t *cnt, unsigned max_conns)
{
    counters = cnt;
    bench_chargen_fill(pattern);
    memcpy(pattern + BENCH_CHARGEN_LEN, pattern, BENCH_CHARGEN_LEN);
    pool = calloc(max_conns, sizeof(*pool));
    if (pool == NULL)
        return -1;
    for (unsigned i = max_conns; i-- > 0;) {
        pool[i].next_free = free_list;
        free_list = &pool[i];
    }
    if (listen_on(BENCH_PORT_DISCARD, K_DISCARD) < 0 || listen_on(BENCH_PORT_CHARGEN, K_CHARGEN) < 0 ||
        listen_on(BENCH_PORT_HTTP, K_HTTP) < 0)
        return -1;
    return 0;
}
