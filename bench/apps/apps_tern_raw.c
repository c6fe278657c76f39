/* See apps_tern.h: the benchmark applications on tern's raw TCP API.
 * Callbacks run in the stack thread with the core lock held, as apps_lwip.c
 * on lwIP's raw API. Sends copy once into the send ring (a write span and
 * memcpy for chargen, tern_tcp_write for HTTP); receives read the ring in
 * place (tern_tcp_peek/consume), as lwIP hands its pbufs over. */
#include "apps_tern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char bench_tern_api[] = "raw";

enum kind { K_DISCARD, K_CHARGEN, K_HTTP };

typedef struct rconn {
    struct rconn *next_free;
    tern_tcp_pcb_t *pcb;
    int kind;
    bench_http_scan_t scan;
    unsigned owed;
    int close_after;
    size_t chargen_off;
} rconn_t;

typedef struct rapps {
    tern_stack_t *stack;
    tern_posix_t *px;
    bench_counters_t *cnt;
    rconn_t *pool;
    rconn_t *free_list;
    tern_tcp_pcb_t *listeners[3];
    int kinds[3];
    uint8_t pattern[2u * BENCH_CHARGEN_LEN];
} rapps_t;

static rapps_t g; /* one server per process: the harness's host program */

static rconn_t *conn_get(void)
{
    rconn_t *c = g.free_list;
    if (c != NULL) {
        g.free_list = c->next_free;
        memset(c, 0, sizeof(*c));
        bench_http_init(&c->scan);
    }
    return c;
}

static void conn_put(rconn_t *c)
{
    c->next_free = g.free_list;
    g.free_list = c;
    bench_conn_down(g.cnt);
}

/* Graceful close; the handle is gone either way. */
static void conn_close(rconn_t *c)
{
    tern_tcp_pcb_t *pcb = c->pcb;
    c->pcb = NULL;
    conn_put(c);
    if (tern_tcp_close(pcb) != TERN_OK)
        tern_tcp_abort(pcb);
}

static void chargen_fill(rconn_t *c)
{
    for (;;) {
        uint8_t *span;
        int n = tern_tcp_write_span(c->pcb, &span);
        if (n <= 0)
            break;
        size_t len = (size_t)n < BENCH_CHARGEN_LEN ? (size_t)n : BENCH_CHARGEN_LEN;
        memcpy(span, g.pattern + c->chargen_off, len);
        if (tern_tcp_write_commit(c->pcb, len) < 0)
            break;
        g.cnt->tx_bytes += len;
        c->chargen_off = (c->chargen_off + len) % BENCH_CHARGEN_LEN;
    }
}

/* Queue what is owed; 1 when the connection was closed. */
static int http_flush(rconn_t *c)
{
    while (c->owed > 0) {
        int last = c->owed == 1 && c->close_after;
        const char *r = last ? bench_http_close : bench_http_keep;
        size_t len = last ? BENCH_HTTP_CLOSE_LEN : BENCH_HTTP_KEEP_LEN;
        if (tern_tcp_send_space(c->pcb) < len || tern_tcp_write(c->pcb, r, len) != (int)len)
            break;
        c->owed--;
    }
    if (c->owed == 0 && c->close_after) {
        conn_close(c); /* FIN goes after the queued response */
        return 1;
    }
    return 0;
}

static void cb_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    rconn_t *c = arg;
    if (c == NULL || c->pcb == NULL)
        return;
    const uint8_t *span;
    int n;
    while ((n = tern_tcp_peek(pcb, &span)) > 0) {
        if (c->kind == K_DISCARD) {
            g.cnt->rx_bytes += (uint64_t)n;
        } else if (c->kind == K_HTTP) {
            int close_after = 0;
            unsigned reqs = bench_http_feed(&c->scan, span, (size_t)n, &close_after);
            g.cnt->requests += reqs;
            c->owed += reqs;
            if (close_after)
                c->close_after = 1;
        }
        tern_tcp_consume(pcb, (size_t)n);
    }
    if (c->kind == K_HTTP && http_flush(c))
        return;
    if (tern_tcp_at_eof(pcb))
        conn_close(c); /* the peer's FIN: close our side too */
}

static void cb_writable(void *arg, tern_tcp_pcb_t *pcb)
{
    rconn_t *c = arg;
    (void)pcb;
    if (c == NULL || c->pcb == NULL)
        return;
    if (c->kind == K_CHARGEN)
        chargen_fill(c);
    else if (c->kind == K_HTTP)
        (void)http_flush(c);
}

static void cb_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    rconn_t *c = arg;
    (void)pcb;
    (void)err;
    if (c != NULL && c->pcb != NULL) {
        c->pcb = NULL; /* the handle is freed by the stack */
        conn_put(c);
    }
}

static const tern_tcp_callbacks_t conn_cbs = {
    .readable = cb_readable,
    .writable = cb_writable,
    .peer_closed = cb_readable,
    .error = cb_error,
};

static int cb_accept(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb)
{
    (void)listener;
    rconn_t *c = conn_get();
    if (c == NULL) {
        g.cnt->refused++;
        return TERN_ERR_NOMEM; /* the stack resets it */
    }
    c->pcb = pcb;
    c->kind = *(const int *)arg;
    bench_conn_up(g.cnt);
    tern_tcp_set_callbacks(pcb, &conn_cbs, c);
    if (c->kind == K_HTTP)
        tern_tcp_set_options(pcb, TERN_TCP_OPT_NODELAY);
    if (c->kind == K_CHARGEN)
        chargen_fill(c);
    return TERN_OK;
}

static const tern_tcp_callbacks_t listen_cbs = {.accept = cb_accept};

int bench_tern_apps_start(tern_stack_t *stack, tern_posix_t *px, bench_counters_t *cnt, const bench_tern_cfg_t *cfg)
{
    static const uint16_t ports[3] = {BENCH_PORT_DISCARD, BENCH_PORT_CHARGEN, BENCH_PORT_HTTP};
    const unsigned max_conns = 65536;
    g.stack = stack;
    g.px = px;
    g.cnt = cnt;
    bench_chargen_fill(g.pattern);
    memcpy(g.pattern + BENCH_CHARGEN_LEN, g.pattern, BENCH_CHARGEN_LEN);
    /* Application state outside tern's heap, as for lwIP: the budget
     * measures the stack. */
    g.pool = calloc(max_conns, sizeof(*g.pool));
    if (g.pool == NULL)
        return -1;
    for (unsigned i = max_conns; i-- > 0;) {
        g.pool[i].next_free = g.free_list;
        g.free_list = &g.pool[i];
    }
    int rc = 0;
    tern_posix_lock(px);
    for (int i = 0; i < 3 && rc == 0; i++) {
        int err = 0;
        g.kinds[i] = i;
        g.listeners[i] = tern_tcp_listen(stack, ports[i], cfg->backlog, &listen_cbs, &g.kinds[i], &err);
        if (g.listeners[i] == NULL) {
            fprintf(stderr, "tern apps: cannot listen on port %u: %s\n", ports[i], tern_strerror(err));
            rc = -1;
        } else if ((cfg->rcvbuf || cfg->sndbuf) &&
                   tern_tcp_set_bufsizes(g.listeners[i], cfg->rcvbuf, cfg->sndbuf) != TERN_OK) {
            fprintf(stderr, "tern apps: cannot set buffer sizes %u/%u\n", cfg->rcvbuf, cfg->sndbuf);
            rc = -1;
        }
    }
    tern_posix_unlock(px);
    return rc;
}

void bench_tern_apps_stop(void)
{
    /* Nothing runs outside the stack thread: the runner's stop ends it. */
}
