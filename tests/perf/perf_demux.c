/* perf_demux: the cost of one TCP segment's input with N idle connections
 * open, for tests/perf/demux_check (callgrind; issue #18: demultiplexing
 * must not grow with the number of connections).
 *
 *   perf_demux N
 *
 * Stacks A and B on a tern_vwire (virtual time, fixed seeds, one thread):
 * a connection A -> B:5002 is opened first, then N connections A ->
 * B:5001 that stay idle; then the first moves a fixed 256 KiB A -> B inside
 * perf_demux_measured(), the one function demux_check's callgrind run
 * collects (--toggle-collect). Its figure: tcp_input's inclusive
 * instructions per segment taken in (both stacks). Built on a
 * core with TERN_TCP_HASH_SIZE=2048 and a 1 MiB heap, so that 512
 * connections fit the table and the heap.
 * Exit 0 when the bytes arrived and every idle connection is still
 * ESTABLISHED; prints "idle=N segments=S retransmits=R" (S: the segments
 * both stacks took in during the measured transfer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "tern_vwire.h"

#define IP_A TERN_IP4(192, 0, 2, 1)
#define IP_B TERN_IP4(192, 0, 2, 2)
#define MASK TERN_IP4(255, 255, 255, 0)
#define BYTES (256u * 1024u)
#define IDLE_MAX 600u

typedef struct demux_port {
    tern_port_t port;
    uint64_t rng;
} demux_port_t;

static uint32_t demux_random32(void *ctx)
{
    demux_port_t *p = ctx;
    uint64_t x = p->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    p->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

typedef struct demux_world {
    demux_port_t port_a, port_b;
    tern_stack_t a, b;
    tern_netif_t nif_a, nif_b;
    tern_vwire_t wire;
    tern_tcp_pcb_t *idle_a[IDLE_MAX];
    unsigned idle_accepted;
    tern_tcp_pcb_t *tx, *rx;
    uint64_t sent, received;
    int tx_connected, go, shut, eof;
} demux_world_t;

static demux_world_t world;

static void fail(const char *what)
{
    fprintf(stderr, "perf_demux: FAILED: %s\n", what);
    exit(1);
}

static void tx_pump(demux_world_t *w)
{
    static const uint8_t zeros[4096];
    if (w->tx == NULL || !w->tx_connected || !w->go)
        return;
    while (w->sent < BYTES) {
        size_t n = BYTES - w->sent < sizeof zeros ? (size_t)(BYTES - w->sent) : sizeof zeros;
        int r = tern_tcp_write(w->tx, zeros, n);
        if (r <= 0)
            break;
        w->sent += (uint64_t)r;
    }
    if (w->sent == BYTES && !w->shut) {
        w->shut = 1;
        (void)tern_tcp_shutdown(w->tx);
    }
}

static void rx_pump(demux_world_t *w)
{
    const uint8_t *span;
    int n;
    if (w->rx == NULL)
        return;
    while ((n = tern_tcp_peek(w->rx, &span)) > 0) {
        w->received += (uint64_t)n;
        (void)tern_tcp_consume(w->rx, (size_t)n);
    }
    if (tern_tcp_at_eof(w->rx))
        w->eof = 1;
}

static void cb_tx(void *arg, tern_tcp_pcb_t *pcb)
{
    demux_world_t *w = arg;
    (void)pcb;
    w->tx_connected = 1;
    tx_pump(w);
}

static void cb_rx(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    rx_pump(arg);
}

static void cb_nothing(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    (void)pcb;
}

static void cb_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    (void)arg;
    (void)pcb;
    (void)err;
    fail("a connection failed");
}

static const tern_tcp_callbacks_t idle_cbs = {
    .connected = cb_nothing, .readable = cb_nothing, .writable = cb_nothing, .error = cb_error};
static const tern_tcp_callbacks_t tx_cbs = {.connected = cb_tx, .writable = cb_tx, .error = cb_error};
static const tern_tcp_callbacks_t rx_cbs = {.readable = cb_rx, .peer_closed = cb_rx, .error = cb_error};

static int accept_idle(void *arg, tern_tcp_pcb_t *l, tern_tcp_pcb_t *pcb)
{
    demux_world_t *w = arg;
    (void)l;
    tern_tcp_set_callbacks(pcb, &idle_cbs, w);
    w->idle_accepted++;
    return TERN_OK;
}

static int accept_rx(void *arg, tern_tcp_pcb_t *l, tern_tcp_pcb_t *pcb)
{
    demux_world_t *w = arg;
    (void)l;
    w->rx = pcb;
    tern_tcp_set_callbacks(pcb, &rx_cbs, w);
    return TERN_OK;
}

static const tern_tcp_callbacks_t listen_idle_cbs = {.accept = accept_idle};
static const tern_tcp_callbacks_t listen_rx_cbs = {.accept = accept_rx};

static void run_ms(demux_world_t *w, uint32_t ms)
{
    tern_vwire_run(&w->wire, tern_vwire_now(&w->wire) + ms);
}

/* The measured part: the first connection (the oldest: last on the
 * connection lists, where a list walk finds it last) moves BYTES while
 * the idle ones sit. */
__attribute__((noinline)) void perf_demux_measured(demux_world_t *w);
__attribute__((noinline)) void perf_demux_measured(demux_world_t *w)
{
    w->go = 1;
    tx_pump(w);
    uint32_t start = tern_vwire_now(&w->wire);
    while (!(w->eof && w->received == BYTES)) {
        if (tern_vwire_now(&w->wire) - start > 60000u)
            fail("transfer did not finish in 60 s of virtual time");
        run_ms(w, 1);
    }
}

int main(int argc, char **argv)
{
    unsigned idle = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 0u;
    if (idle > IDLE_MAX)
        return 2;
    demux_world_t *w = &world;
    w->port_a.rng = 0x1234567ull;
    w->port_b.rng = 0x89ABCDEull;
    w->port_a.port.ctx = &w->port_a;
    w->port_b.port.ctx = &w->port_b;
    w->port_a.port.random32 = demux_random32;
    w->port_b.port.random32 = demux_random32;
    if (tern_stack_init(&w->a, &w->port_a.port) != TERN_OK || tern_stack_init(&w->b, &w->port_b.port) != TERN_OK)
        fail("stack init");
    tern_vwire_params_t p;
    memset(&p, 0, sizeof p);
    p.delay_ms = 1;
    p.bandwidth_bps = 1000000000ull;
    tern_vwire_init(&w->wire, 42, &p);
    static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a}, mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
    memcpy(w->nif_a.mac, mac_a, 6);
    memcpy(w->nif_b.mac, mac_b, 6);
    if (tern_vwire_attach(&w->wire, 0, &w->a, &w->nif_a) != TERN_OK ||
        tern_vwire_attach(&w->wire, 1, &w->b, &w->nif_b) != TERN_OK)
        fail("attach");
    tern_netif_set_addr(&w->nif_a, IP_A, MASK, 0);
    tern_netif_set_addr(&w->nif_b, IP_B, MASK, 0);
    run_ms(w, 1000);
    int err;
    if (tern_tcp_listen(&w->b, 5001, 8, &listen_idle_cbs, w, &err) == NULL ||
        tern_tcp_listen(&w->b, 5002, 1, &listen_rx_cbs, w, &err) == NULL)
        fail("listen");
    w->tx = tern_tcp_connect(&w->a, IP_B, 5002, &tx_cbs, w, &err);
    if (w->tx == NULL)
        fail("connect");
    run_ms(w, 100);
    if (!w->tx_connected || w->rx == NULL)
        fail("the measured connection did not open");
    /* Idle connections, a few at a time (TERN_TCP_SYN_MAX half-open). */
    for (unsigned i = 0; i < idle; i++) {
        w->idle_a[i] = tern_tcp_connect(&w->a, IP_B, 5001, &idle_cbs, w, &err);
        if (w->idle_a[i] == NULL)
            fail(tern_errname(err));
        if (i % 4u == 3u)
            run_ms(w, 10);
    }
    run_ms(w, 5000); /* SYNs the ARP queue dropped go again after the initial RTO */
    if (w->idle_accepted != idle)
    {
        fprintf(stderr, "accepted %u of %u; B: passive %u est %u no_pcb %u syn_limit %u evicted %u; A: active %u est %u rst_rx %u\n",
                w->idle_accepted, idle, w->b.counters.tcp.passive_opens, w->b.counters.tcp.established,
                w->b.counters.tcp.drop_no_pcb, w->b.counters.tcp.drop_syn_limit, w->b.counters.tcp.syn_evicted,
                w->a.counters.tcp.active_opens, w->a.counters.tcp.established, w->a.counters.tcp.rst_rx);
        fail("idle connections not all accepted");
    }
    uint32_t rx0 = w->a.counters.tcp.rx + w->b.counters.tcp.rx;
    perf_demux_measured(w);
    uint32_t segs = w->a.counters.tcp.rx + w->b.counters.tcp.rx - rx0;
    for (unsigned i = 0; i < idle; i++)
        if (tern_tcp_state(w->idle_a[i]) != TERN_TCP_ESTABLISHED)
            fail("an idle connection left ESTABLISHED");
    printf("idle=%u segments=%u retransmits=%u\n", idle, segs,
           tern_tcp_stats(&w->a)->retransmits + tern_tcp_stats(&w->b)->retransmits);
    return 0;
}
