/* perf_vwire: a fixed TCP transfer between two tern stacks on the virtual
 * wire, for counting CPU instructions per byte under callgrind
 * (tests/perf/perf_check, docs/benchmarks.md).
 *
 *   perf_vwire [BYTES]     (default 4 MiB each way)
 *
 * Stack A (client) and stack B (server) on a tern_vwire at 1 Gbit/s with
 * 1 ms delay each way, in virtual time, one thread, fixed seeds: the same
 * binary executes the same instructions on every run. Two connections one
 * after the other: A uploads BYTES to B (B sends nothing), then B pushes
 * BYTES to A. Senders copy the application's bytes once into the send ring
 * (a write span and memcpy), receivers read spans in place and compare them
 * with the expected pattern (memcmp), as a real application would touch its
 * data once. Default windows and buffers (config.h).
 *
 * Exit 0 when every byte arrived intact, both connections ended cleanly and
 * both heaps returned to their baseline; prints "bytes_moved=N". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "tern_vwire.h"

#define IP_A TERN_IP4(192, 0, 2, 1)
#define IP_B TERN_IP4(192, 0, 2, 2)
#define MASK TERN_IP4(255, 255, 255, 0)
#define PORT_UP 5001u   /* A -> B */
#define PORT_DOWN 5002u /* B -> A */
#define PAT_LEN 8191u   /* odd period: spans rarely line up with it */

typedef struct perf_port {
    tern_port_t port;
    uint64_t rng;
} perf_port_t;

static uint32_t perf_random32(void *ctx)
{
    perf_port_t *p = ctx;
    uint64_t x = p->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    p->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint8_t pattern[2u * PAT_LEN];

typedef struct perf_conn {
    tern_tcp_pcb_t *pcb;
    uint64_t to_send, sent, expect, received;
    int shut, eof, closed, err, bad;
} perf_conn_t;

typedef struct perf_world {
    perf_port_t port_a, port_b;
    tern_stack_t *a, *b;
    tern_netif_t nif_a, nif_b;
    tern_vwire_t wire;
    perf_conn_t client, server;
    uint64_t server_sends; /* what the accepted connection sends */
    int accepted;
} perf_world_t;

static void fail(const char *what)
{
    fprintf(stderr, "perf_vwire: FAILED: %s\n", what);
    exit(1);
}

static void conn_pump(perf_conn_t *c)
{
    if (c->pcb == NULL || c->closed)
        return;
    tern_tcp_pcb_t *pcb = c->pcb;
    const uint8_t *span;
    int n;
    while ((n = tern_tcp_peek(pcb, &span)) > 0) {
        size_t off = (size_t)(c->received % PAT_LEN);
        size_t len = (size_t)n;
        /* Compare in pieces that stay inside the doubled pattern. */
        while (len > 0) {
            size_t k = len < PAT_LEN ? len : PAT_LEN;
            if (memcmp(span, pattern + off, k) != 0)
                c->bad++;
            span += k;
            len -= k;
        }
        c->received += (uint64_t)n;
        if (tern_tcp_consume(pcb, (size_t)n) != TERN_OK)
            fail("consume");
    }
    if (tern_tcp_at_eof(pcb))
        c->eof = 1;
    int st = tern_tcp_state(pcb);
    if (st != TERN_TCP_SYN_SENT && st != TERN_TCP_SYN_RECEIVED) {
        while (c->sent < c->to_send) {
            uint8_t *out;
            int r = tern_tcp_write_span(pcb, &out);
            if (r < 0)
                fail("write span");
            if (r == 0)
                break;
            uint64_t left = c->to_send - c->sent;
            size_t len = left < (uint64_t)r ? (size_t)left : (size_t)r;
            size_t done = 0;
            while (done < len) {
                size_t off = (size_t)((c->sent + done) % PAT_LEN);
                size_t k = len - done < PAT_LEN ? len - done : PAT_LEN;
                memcpy(out + done, pattern + off, k);
                done += k;
            }
            if (tern_tcp_write_commit(pcb, len) != (int)len)
                fail("write commit");
            c->sent += len;
        }
        if (c->sent == c->to_send && !c->shut) {
            c->shut = 1;
            if (tern_tcp_shutdown(pcb) != TERN_OK)
                fail("shutdown");
        }
    }
    if (c->eof && c->shut) {
        if (tern_tcp_close(pcb) != TERN_OK)
            fail("close");
        c->pcb = NULL;
        c->closed = 1;
    }
}

static void cb_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    conn_pump(arg);
}

static void cb_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    perf_conn_t *c = arg;
    (void)pcb;
    c->err = err;
    c->pcb = NULL;
    c->closed = 1;
}

static const tern_tcp_callbacks_t conn_cbs = {
    .connected = cb_pump,
    .readable = cb_pump,
    .writable = cb_pump,
    .peer_closed = cb_pump,
    .error = cb_error,
};

static int cb_accept(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb)
{
    perf_world_t *w = arg;
    (void)listener;
    if (w->accepted)
        return TERN_ERR_NOMEM; /* one connection per phase */
    w->accepted = 1;
    memset(&w->server, 0, sizeof w->server);
    w->server.pcb = pcb;
    w->server.to_send = w->server_sends;
    tern_tcp_set_callbacks(pcb, &conn_cbs, &w->server);
    conn_pump(&w->server);
    return TERN_OK;
}

static const tern_tcp_callbacks_t listen_cbs = {.accept = cb_accept};

static size_t heap_free(const tern_stack_t *s)
{
    tern_heap_stats_t st;
    tern_heap_get_stats(&s->heap, &st);
    return st.free;
}

/* One connection A -> B:port; up bytes from A, down bytes from B. */
static void phase(perf_world_t *w, uint16_t port, uint64_t up, uint64_t down)
{
    int err;
    tern_tcp_pcb_t *l = tern_tcp_listen(w->b, port, 4, &listen_cbs, w, &err);
    if (l == NULL)
        fail("listen");
    w->accepted = 0;
    w->server_sends = down;
    memset(&w->client, 0, sizeof w->client);
    w->client.to_send = up;
    w->client.pcb = tern_tcp_connect(w->a, IP_B, port, &conn_cbs, &w->client, &err);
    if (w->client.pcb == NULL)
        fail("connect");
    uint32_t start = tern_vwire_now(&w->wire);
    while (!(w->client.closed && w->accepted && w->server.closed)) {
        if (tern_vwire_now(&w->wire) - start > 600000u)
            fail("transfer did not finish in 600 s of virtual time");
        tern_vwire_run(&w->wire, tern_vwire_now(&w->wire) + 5u);
    }
    if (w->client.err != 0 || w->server.err != 0)
        fail(tern_errname(w->client.err != 0 ? w->client.err : w->server.err));
    if (w->client.bad != 0 || w->server.bad != 0)
        fail("received bytes differ from the pattern");
    if (w->server.received != up || w->client.received != down)
        fail("byte count");
    tern_tcp_close(l);
}

int main(int argc, char **argv)
{
    uint64_t bytes = 4u << 20;
    if (argc > 1)
        bytes = strtoull(argv[1], NULL, 0);
    if (bytes == 0)
        return 2;
    uint64_t x = 0x243F6A8885A308D3ull;
    for (size_t i = 0; i < PAT_LEN; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        pattern[i] = (uint8_t)(x >> 24);
    }
    memcpy(pattern + PAT_LEN, pattern, PAT_LEN);

    static perf_world_t world;
    static tern_stack_t sa, sb;
    perf_world_t *w = &world;
    w->a = &sa;
    w->b = &sb;
    w->port_a.rng = 0x1234567ull;
    w->port_b.rng = 0x89ABCDEull;
    w->port_a.port.ctx = &w->port_a;
    w->port_b.port.ctx = &w->port_b;
    w->port_a.port.random32 = perf_random32;
    w->port_b.port.random32 = perf_random32;
    if (tern_stack_init(w->a, &w->port_a.port) != TERN_OK || tern_stack_init(w->b, &w->port_b.port) != TERN_OK)
        fail("stack init");
    tern_vwire_params_t p;
    memset(&p, 0, sizeof p);
    p.delay_ms = 1;
    p.bandwidth_bps = 1000000000ull;
    tern_vwire_init(&w->wire, 42, &p);
    static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a}, mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
    memcpy(w->nif_a.mac, mac_a, 6);
    memcpy(w->nif_b.mac, mac_b, 6);
    if (tern_vwire_attach(&w->wire, 0, w->a, &w->nif_a) != TERN_OK ||
        tern_vwire_attach(&w->wire, 1, w->b, &w->nif_b) != TERN_OK)
        fail("attach");
    tern_netif_set_addr(&w->nif_a, IP_A, MASK, 0);
    tern_netif_set_addr(&w->nif_b, IP_B, MASK, 0);
    tern_vwire_run(&w->wire, 1000);
    tern_tcp_set_timewait(w->a, 1000);
    tern_tcp_set_timewait(w->b, 1000);

    /* The first connection allocates the TCP pools; warm up with a small
     * transfer so that the baseline includes them. */
    phase(w, 4999, 1000, 1000);
    tern_vwire_run(&w->wire, tern_vwire_now(&w->wire) + 5000u);
    size_t free_a = heap_free(w->a), free_b = heap_free(w->b);

    phase(w, PORT_UP, bytes, 0);
    phase(w, PORT_DOWN, 0, bytes);
    tern_vwire_run(&w->wire, tern_vwire_now(&w->wire) + 5000u); /* TIME-WAIT ends */
    if (heap_free(w->a) != free_a || heap_free(w->b) != free_b)
        fail("heap did not return to its baseline");
    if (tern_tcp_list(w->a, NULL, 0) != 0 || tern_tcp_list(w->b, NULL, 0) != 0)
        fail("connections left");

    const tern_vwire_stats_t *s0 = tern_vwire_stats(&w->wire, 0), *s1 = tern_vwire_stats(&w->wire, 1);
    printf("bytes_moved=%llu frames=%llu retransmits=%u virtual_ms=%u\n", (unsigned long long)(2u * bytes),
           (unsigned long long)(s0->sent + s1->sent),
           tern_tcp_stats(w->a)->retransmits + tern_tcp_stats(w->b)->retransmits, tern_vwire_now(&w->wire));
    tern_vwire_destroy(&w->wire);
    tern_stack_deinit(w->a);
    tern_stack_deinit(w->b);
    if (tern_ledger_total_bytes(&w->a->ledger) != 0 || tern_ledger_total_bytes(&w->b->ledger) != 0)
        fail("ledger not empty after deinit");
    return 0;
}
