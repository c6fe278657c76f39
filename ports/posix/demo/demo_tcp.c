/* tern-demo's TCP services on the raw API (see demo_tcp.h). They run in the
 * stack thread, in callbacks, with the core lock held: no copies beyond
 * the rings (echo moves bytes from the receive span into the send ring). */
#include "demo_tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tern_posix.h"

static uint8_t pattern_byte(uint64_t i)
{
    return (uint8_t)((i % DEMO_TCP_PATTERN_LEN) * 7u + 3u);
}

/* ---- echo: receive span -> send ring; back-pressure closes the window ---- */

static void echo_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    const uint8_t *span;
    int n;
    while ((n = tern_tcp_peek(pcb, &span)) > 0) {
        int w = tern_tcp_write(pcb, span, (size_t)n);
        if (w <= 0)
            break;
        tern_tcp_consume(pcb, (size_t)w);
        if (w < n)
            break;
    }
    if (tern_tcp_at_eof(pcb))
        tern_tcp_close(pcb);
}

static void echo_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    (void)arg;
    (void)pcb;
    (void)err;
}

static const tern_tcp_callbacks_t echo_conn_cbs = {
    .readable = echo_pump, .writable = echo_pump, .peer_closed = echo_pump, .error = echo_error};

/* ---- discard ------------------------------------------------------------------- */

static void discard_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    const uint8_t *span;
    int n;
    while ((n = tern_tcp_peek(pcb, &span)) > 0)
        tern_tcp_consume(pcb, (size_t)n);
    if (tern_tcp_at_eof(pcb))
        tern_tcp_close(pcb);
}

static const tern_tcp_callbacks_t discard_conn_cbs = {
    .readable = discard_pump, .peer_closed = discard_pump, .error = echo_error};

/* ---- chargen: the RFC 864 rotating 72-character lines, written in place ---- */

typedef struct chargen {
    uint64_t pos; /* position in the 95 * 74-byte cycle */
} chargen_t;

static uint8_t chargen_byte(uint64_t pos)
{
    unsigned line = (unsigned)((pos / 74u) % 95u), col = (unsigned)(pos % 74u);
    if (col == 72u)
        return '\r';
    if (col == 73u)
        return '\n';
    return (uint8_t)(' ' + (line + col) % 95u);
}

static void chargen_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    chargen_t *c = arg;
    const uint8_t *rspan;
    int n;
    while ((n = tern_tcp_peek(pcb, &rspan)) > 0)
        tern_tcp_consume(pcb, (size_t)n);
    if (tern_tcp_at_eof(pcb)) {
        tern_tcp_close(pcb);
        free(c);
        return;
    }
    uint8_t *span;
    while ((n = tern_tcp_write_span(pcb, &span)) > 0) {
        for (int i = 0; i < n; i++)
            span[i] = chargen_byte(c->pos + (uint64_t)i);
        c->pos += (uint64_t)n;
        tern_tcp_write_commit(pcb, (size_t)n);
    }
}

static void chargen_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    (void)pcb;
    (void)err;
    free(arg);
}

static const tern_tcp_callbacks_t chargen_conn_cbs = {
    .readable = chargen_pump, .writable = chargen_pump, .peer_closed = chargen_pump, .error = chargen_error};

/* ---- listeners ------------------------------------------------------------------ */

static int demo_accept(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb)
{
    uintptr_t which = (uintptr_t)arg;
    (void)listener;
    if (which == DEMO_TCP_ECHO_PORT) {
        tern_tcp_set_callbacks(pcb, &echo_conn_cbs, NULL);
    } else if (which == DEMO_TCP_DISCARD_PORT) {
        tern_tcp_set_callbacks(pcb, &discard_conn_cbs, NULL);
    } else {
        chargen_t *c = calloc(1, sizeof *c);
        if (c == NULL)
            return TERN_ERR_NOMEM;
        tern_tcp_set_callbacks(pcb, &chargen_conn_cbs, c);
        chargen_pump(c, pcb);
    }
    return TERN_OK;
}

static const tern_tcp_callbacks_t listen_cbs = {.accept = demo_accept};

int demo_tcp_start(demo_tcp_t *t, tern_stack_t *stack)
{
    static const uint16_t ports[3] = {DEMO_TCP_ECHO_PORT, DEMO_TCP_DISCARD_PORT, DEMO_TCP_CHARGEN_PORT};
    memset(t, 0, sizeof *t);
    t->stack = stack;
    t->wake_fd = -1;
    /* Many concurrent connections need more than the built-in arena: the
     * host gives the heap a second region (heap_5 style), sized by
     * TERN_DEMO_TCP_HEAP (bytes, default 4 MB; 0: none). */
    const char *h = getenv("TERN_DEMO_TCP_HEAP");
    size_t extra = h != NULL ? (size_t)strtoull(h, NULL, 10) : (size_t)4u << 20;
    if (extra >= 4096u) {
        static uint8_t *region;
        if (region == NULL)
            region = malloc(extra);
        if (region == NULL || tern_heap_add_region(&stack->heap, region, extra) != TERN_OK)
            return TERN_ERR_NOMEM;
    }
    /* Ring sizes of every accepted connection: TERN_DEMO_TCP_BUF (bytes). */
    const char *b = getenv("TERN_DEMO_TCP_BUF");
    uint32_t buf = b != NULL ? (uint32_t)strtoul(b, NULL, 10) : 0u;
    for (unsigned i = 0; i < 3u; i++) {
        int err;
        t->listeners[i] = tern_tcp_listen(stack, ports[i], 16, &listen_cbs, (void *)(uintptr_t)ports[i], &err);
        if (t->listeners[i] == NULL)
            return err;
        if (buf != 0u && tern_tcp_set_bufsizes(t->listeners[i], buf, buf) != TERN_OK)
            return TERN_ERR_INVAL;
    }
    return TERN_OK;
}

void demo_tcp_stop(demo_tcp_t *t)
{
    for (unsigned i = 0; i < 3u; i++) {
        if (t->listeners[i] != NULL)
            tern_tcp_close(t->listeners[i]);
        t->listeners[i] = NULL;
    }
}

/* ---- client ---------------------------------------------------------------------- */

static void client_finish(demo_tcp_t *t)
{
    t->done = 1;
    t->finished_ms = t->stack->now;
    if (t->wake_fd >= 0) {
        uint64_t one = 1;
        ssize_t k = write(t->wake_fd, &one, sizeof one);
        (void)k;
    }
}

static void client_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    demo_tcp_t *t = arg;
    const uint8_t *rspan;
    int n;
    while ((n = tern_tcp_peek(pcb, &rspan)) > 0) {
        for (int i = 0; i < n; i++)
            if (rspan[i] != pattern_byte(t->received + (uint64_t)i))
                t->mismatches++;
        t->received += (uint64_t)n;
        tern_tcp_consume(pcb, (size_t)n);
    }
    uint8_t *span;
    while (t->sent < t->bytes && (n = tern_tcp_write_span(pcb, &span)) > 0) {
        uint64_t left = t->bytes - t->sent;
        size_t k = left < (uint64_t)n ? (size_t)left : (size_t)n;
        for (size_t i = 0; i < k; i++)
            span[i] = pattern_byte(t->sent + i);
        tern_tcp_write_commit(pcb, k);
        t->sent += k;
        if (t->sent == t->bytes)
            tern_tcp_shutdown(pcb);
    }
    if (tern_tcp_at_eof(pcb)) {
        tern_tcp_close(pcb);
        t->client = NULL;
        client_finish(t);
    }
}

static void client_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    demo_tcp_t *t = arg;
    t->connected = 1;
    if (t->bytes == 0)
        tern_tcp_shutdown(pcb);
    client_pump(arg, pcb);
}

static void client_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    demo_tcp_t *t = arg;
    (void)pcb;
    t->error = err;
    t->client = NULL;
    client_finish(t);
}

static const tern_tcp_callbacks_t client_cbs = {.connected = client_connected,
                                                .readable = client_pump,
                                                .writable = client_pump,
                                                .peer_closed = client_pump,
                                                .error = client_error};

int demo_tcp_client_start(demo_tcp_t *t, tern_ip4_t addr, uint16_t port, uint64_t bytes)
{
    int err;
    t->bytes = bytes;
    t->sent = t->received = t->mismatches = 0;
    t->done = t->error = t->connected = 0;
    t->started_ms = t->stack->now;
    t->client = tern_tcp_connect(t->stack, addr, port, &client_cbs, t, &err);
    if (t->client == NULL)
        return err;
    const char *b = getenv("TERN_DEMO_TCP_BUF");
    uint32_t buf = b != NULL ? (uint32_t)strtoul(b, NULL, 10) : 0u;
    if (buf != 0u)
        (void)tern_tcp_set_bufsizes(t->client, buf > 65535u ? 65535u : buf, buf);
    return TERN_OK;
}

void demo_tcp_report(const tern_stack_t *stack)
{
    tern_tcp_info_t rows[64];
    size_t n = tern_tcp_list(stack, rows, 64);
    printf("tcp connections: %zu\n", n);
    for (size_t i = 0; i < n && i < 64u; i++) {
        const tern_tcp_info_t *r = &rows[i];
        printf("tcp %-12s %u.%u.%u.%u:%u %u.%u.%u.%u:%u rq %u sq %u held %u\n", tern_tcp_state_name(r->state),
               (unsigned)(r->local_addr >> 24), (unsigned)(r->local_addr >> 16 & 255u),
               (unsigned)(r->local_addr >> 8 & 255u), (unsigned)(r->local_addr & 255u), r->local_port,
               (unsigned)(r->remote_addr >> 24), (unsigned)(r->remote_addr >> 16 & 255u),
               (unsigned)(r->remote_addr >> 8 & 255u), (unsigned)(r->remote_addr & 255u), r->remote_port,
               r->recv_queue, r->send_queue, r->bytes_held);
    }
    const tern_tcp_stats_t *s = tern_tcp_stats(stack);
    printf("tcp stats: rx %u tx %u retransmits %u fast %u timeouts %u rst_tx %u rst_rx %u ooo %u drops: csum %u "
           "unacceptable %u no_pcb %u syn_limit %u nomem %u\n",
           s->rx, s->tx, s->retransmits, s->fast_retransmits, s->timeouts, s->rst_tx, s->rst_rx, s->ooo_segments,
           s->drop_checksum, s->drop_unacceptable, s->drop_no_pcb, s->drop_syn_limit, s->drop_nomem);
}

int demo_tcp_client_from_env(demo_tcp_t *t, int wake_fd)
{
    const char *spec = getenv("TERN_DEMO_TCP_CLIENT");
    t->wake_fd = wake_fd;
    if (spec == NULL || *spec == '\0')
        return 0;
    char addr[32];
    unsigned port;
    unsigned long long bytes;
    const char *colon = strchr(spec, ':');
    if (colon == NULL || (size_t)(colon - spec) >= sizeof addr ||
        sscanf(colon + 1, "%u:%llu", &port, &bytes) != 2 || port == 0u || port > 65535u) {
        fprintf(stderr, "tern-demo: TERN_DEMO_TCP_CLIENT must be ADDR:PORT:BYTES\n");
        return -1;
    }
    memcpy(addr, spec, (size_t)(colon - spec));
    addr[colon - spec] = '\0';
    tern_ip4_t ip;
    if (tern_ip4_from_str(addr, &ip) != TERN_OK) {
        fprintf(stderr, "tern-demo: TERN_DEMO_TCP_CLIENT: bad address '%s'\n", addr);
        return -1;
    }
    int r = demo_tcp_client_start(t, ip, (uint16_t)port, bytes);
    if (r != TERN_OK) {
        fprintf(stderr, "tern-demo: TCP connect: %s\n", tern_strerror(r));
        return -1;
    }
    t->client_active = 1;
    printf("tern-demo: TCP client to %s:%u sending %llu bytes\n", addr, port, bytes);
    return 1;
}

int demo_tcp_client_poll(demo_tcp_t *t, struct tern_posix *px)
{
    if (!t->client_active)
        return -1;
    tern_posix_lock(px);
    int done = t->done;
    tern_posix_unlock(px);
    if (!done)
        return -1;
    t->client_active = 0;
    uint32_t ms = t->finished_ms - t->started_ms;
    printf("tcp client: sent %llu received %llu mismatches %llu error %s in %u ms (%.1f Mbit/s each way)\n",
           (unsigned long long)t->sent, (unsigned long long)t->received, (unsigned long long)t->mismatches,
           t->error ? tern_errname(t->error) : "none", ms, ms ? (double)t->sent * 8.0 / ms / 1000.0 : 0.0);
    fflush(stdout);
    return (t->error == 0 && t->mismatches == 0 && t->received == t->bytes && t->sent == t->bytes) ? 0 : 1;
}
