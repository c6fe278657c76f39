/* TERN_TEST_STATIC_VARIANT */
/* TCP, tern against tern on the virtual wire (deterministic simulation).
 *
 * For many seeds: transfers in both directions at once under loss,
 * duplication, reordering, corruption, delay and small windows; byte-for-
 * byte checks; every connection must end; memory returns to its baseline.
 * One side uses the copying API, the other the zero-copy spans. A failing
 * seed prints itself: replay with TERN_TEST_SEED=N (one seed) and scale
 * the sweep with TERN_TCP_SEEDS=N. In TERN_IPV6 builds a sweep of seeds
 * also runs over IPv6 (link-local addresses, a dual-stack listener). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "tern_test.h"
#include "wire2.h"
#include "tcpseg.h"
#if TERN_IPV6
#include "net/ipv6_internal.h"
#endif

#define PORT 5001u
#define MAX_CONNS 64

static uint64_t g_seed; /* printed on failure */
#if TERN_IPV6
static int g_v6; /* the scenarios run over IPv6 */
#endif
/* Totals over a sweep: proof that the impairments exercised recovery. */
static tern_tcp_stats_t g_total;

static void add_stats(const tern_stack_t *s)
{
    const tern_tcp_stats_t *t = tern_tcp_stats(s);
    g_total.retransmits += t->retransmits;
    g_total.fast_retransmits += t->fast_retransmits;
    g_total.timeouts += t->timeouts;
    g_total.ooo_segments += t->ooo_segments;
    g_total.drop_checksum += t->drop_checksum;
    g_total.dup_segments += t->dup_segments;
    g_total.established += t->established;
    g_total.sack_tx += t->sack_tx;
    g_total.sack_blocks_rx += t->sack_blocks_rx;
    g_total.sack_recoveries += t->sack_recoveries;
    g_total.ts_rtt_samples += t->ts_rtt_samples;
    g_total.drop_paws += t->drop_paws;
    g_total.sack_no_desc += t->sack_no_desc;
    g_total.ooo_no_desc += t->ooo_no_desc;
    g_total.drop_no_ts += t->drop_no_ts;
}

#define CHECK(cond)                                                                                 \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            fprintf(stderr, "FAILED seed %llu: %s (%s:%d); replay with TERN_TEST_SEED=%llu\n",      \
                    (unsigned long long)g_seed, #cond, __FILE__, __LINE__, (unsigned long long)g_seed); \
            fail();                                                                                 \
        }                                                                                           \
    } while (0)

/* Stream byte i of stream id s: position-dependent so that a lost, doubled
 * or misplaced byte shows. */
static uint8_t pat(uint32_t s, uint64_t i)
{
    uint64_t x = i * 0x9E3779B97F4A7C15ull + s * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (uint8_t)(x ^ (x >> 17) ^ (i >> 11));
}

typedef struct app_conn {
    struct world *w;
    tern_tcp_pcb_t *pcb;
    int side;           /* 0: A (client, copying API), 1: B (server, zero-copy API) */
    uint32_t tx_id, rx_id;
    uint64_t to_send, sent, expect, received;
    int shut, eof, closed, err, connected, bad;
    int abort_at;       /* abort after receiving this many bytes (0: never) */
} app_conn_t;

typedef struct world {
    tern_test_port_t port_a, port_b;
    wire2_t n;
    tern_tcp_pcb_t *listener, *listener_a;
    app_conn_t conns[2 * MAX_CONNS];
    unsigned nconns;
    uint64_t server_send; /* bytes each server connection sends */
    uint64_t client_send;
    uint32_t srv_rcvbuf, srv_sndbuf;
    int errors;           /* error callbacks */
    size_t heap_a, heap_b;
} world_t;

static void app_pump(app_conn_t *c);

static void cb_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    app_pump(arg);
}
static void cb_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    app_conn_t *c = arg;
    (void)pcb;
    c->err = err;
    c->pcb = NULL;
    c->closed = 1;
    c->w->errors++;
}
static void cb_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    app_conn_t *c = arg;
    (void)pcb;
    c->connected = 1;
    app_pump(c);
}

static const tern_tcp_callbacks_t conn_cbs = {
    .connected = cb_connected,
    .readable = cb_readable,
    .writable = cb_readable,
    .peer_closed = cb_readable,
    .error = cb_error,
};

static void app_pump(app_conn_t *c)
{
    if (c->pcb == NULL || c->closed)
        return;
    tern_tcp_pcb_t *pcb = c->pcb;
    int st = tern_tcp_state(pcb);
    /* receive */
    if (c->side == 0) {
        uint8_t buf[3000];
        int n;
        while ((n = tern_tcp_read(pcb, buf, sizeof buf)) > 0) {
            for (int i = 0; i < n; i++)
                if (buf[i] != pat(c->rx_id, c->received + (uint64_t)i))
                    c->bad++;
            c->received += (uint64_t)n;
        }
    } else {
        const uint8_t *span;
        int n;
        while ((n = tern_tcp_peek(pcb, &span)) > 0) {
            for (int i = 0; i < n; i++)
                if (span[i] != pat(c->rx_id, c->received + (uint64_t)i))
                    c->bad++;
            c->received += (uint64_t)n;
            CHECK(tern_tcp_consume(pcb, (size_t)n) == TERN_OK);
        }
    }
    if (c->abort_at != 0 && c->received >= (uint64_t)c->abort_at) {
        tern_tcp_abort(pcb);
        c->pcb = NULL;
        c->closed = 1;
        return;
    }
    if (tern_tcp_at_eof(pcb))
        c->eof = 1;
    /* send */
    if (st != TERN_TCP_SYN_SENT && st != TERN_TCP_SYN_RECEIVED) {
        while (c->sent < c->to_send) {
            uint64_t left = c->to_send - c->sent;
            if (c->side == 0) {
                uint8_t buf[2000];
                size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
                for (size_t i = 0; i < n; i++)
                    buf[i] = pat(c->tx_id, c->sent + i);
                int r = tern_tcp_write(pcb, buf, n);
                if (r < 0) {
                    /* e.g. no memory for the send ring (fault injection) */
                    c->err = r;
                    tern_tcp_abort(pcb);
                    c->pcb = NULL;
                    c->closed = 1;
                    return;
                }
                if (r == 0)
                    break;
                c->sent += (uint64_t)r;
            } else {
                uint8_t *span;
                int r = tern_tcp_write_span(pcb, &span);
                if (r < 0) {
                    c->err = r;
                    tern_tcp_abort(pcb);
                    c->pcb = NULL;
                    c->closed = 1;
                    return;
                }
                if (r == 0)
                    break;
                size_t n = left < (uint64_t)r ? (size_t)left : (size_t)r;
                for (size_t i = 0; i < n; i++)
                    span[i] = pat(c->tx_id, c->sent + i);
                CHECK(tern_tcp_write_commit(pcb, n) == (int)n);
                c->sent += n;
            }
        }
        if (c->sent == c->to_send && !c->shut) {
            c->shut = 1;
            CHECK(tern_tcp_shutdown(pcb) == TERN_OK);
        }
    }
    if (c->eof && c->shut) {
        CHECK(tern_tcp_close(pcb) == TERN_OK);
        c->pcb = NULL;
        c->closed = 1;
    }
}

static int cb_accept(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb)
{
    world_t *w = arg;
    (void)listener;
    if (w->nconns >= 2 * MAX_CONNS)
        return TERN_ERR_NOMEM;
    app_conn_t *c = &w->conns[w->nconns++];
    memset(c, 0, sizeof *c);
    c->w = w;
    c->pcb = pcb;
    c->side = 1;
    c->connected = 1;
    c->tx_id = 8; /* every server stream is stream 8, every client stream 7 */
    c->rx_id = 7;
    c->to_send = w->server_send;
    tern_tcp_set_callbacks(pcb, &conn_cbs, c);
    return TERN_OK;
}

static const tern_tcp_callbacks_t listen_cbs = {.accept = cb_accept};

static world_t *world_new(uint64_t seed, const tern_vwire_params_t *p)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    tern_test_port_init(&w->port_a, seed * 3u + 1u);
    tern_test_port_init(&w->port_b, seed * 3u + 2u);
    w->port_a.quiet = w->port_b.quiet = 1;
    wire2_init(&w->n, seed, NULL, &w->port_a.port, &w->port_b.port);
    wire2_set_timewait(&w->n, 3000);
    int err;
#if TERN_IPV6
    if (g_v6) {
        CHECK(tern_ipv6_enable(w->n.a, &w->n.nif_a, NULL) == TERN_OK);
        CHECK(tern_ipv6_enable(w->n.b, &w->n.nif_b, NULL) == TERN_OK);
        wire2_run(&w->n, 3000); /* DAD on both */
        w->listener = tern_tcp_listen6(w->n.b, PORT, 16, 0, &listen_cbs, w, &err);
    } else
#endif
        w->listener = tern_tcp_listen(w->n.b, PORT, 16, &listen_cbs, w, &err);
    assert_non_null(w->listener);
    /* A listener on A too, so that both stacks hold their TCP pools
     * (allocated at the first listen/connect) in the baseline. */
    w->listener_a = tern_tcp_listen(w->n.a, 9, 1, &listen_cbs, w, &err);
    assert_non_null(w->listener_a);
    w->heap_a = wire_heap_free(w->n.a);
    w->heap_b = wire_heap_free(w->n.b);
    if (p != NULL) {
        tern_vwire_set_params(&w->n.wire, 0, p);
        tern_vwire_set_params(&w->n.wire, 1, p);
    }
    return w;
}

static void world_free(world_t *w)
{
    tern_tcp_close(w->listener);
    tern_tcp_close(w->listener_a);
    wire2_deinit(&w->n);
    free(w);
}

static app_conn_t *client_open(world_t *w, uint64_t send, uint64_t expect, uint32_t rcvbuf, uint32_t sndbuf)
{
    CHECK(w->nconns < 2 * MAX_CONNS);
    app_conn_t *c = &w->conns[w->nconns++];
    memset(c, 0, sizeof *c);
    c->w = w;
    c->side = 0;
    c->to_send = send;
    c->expect = expect;
    c->tx_id = 7;
    c->rx_id = 8;
    int err;
#if TERN_IPV6
    if (g_v6) {
        tern_ip6_t ll_b;
        memset(&ll_b, 0, sizeof ll_b);
        ll_b.b[0] = 0xFE;
        ll_b.b[1] = 0x80;
        ipv6_iid_eui64(W2_MAC_B, ll_b.b + 8);
        c->pcb = tern_tcp_connect6(w->n.a, &ll_b, PORT, &conn_cbs, c, &err);
    } else
#endif
        c->pcb = tern_tcp_connect(w->n.a, W2_IP_B, PORT, &conn_cbs, c, &err);
    if (c->pcb == NULL) {
        c->err = err;
        c->closed = 1;
        return c;
    }
    if (rcvbuf || sndbuf)
        CHECK(tern_tcp_set_bufsizes(c->pcb, rcvbuf, sndbuf) == TERN_OK);
    return c;
}

/* Run until every connection is closed (or virtual time runs out). */
static void run_until_done(world_t *w, uint32_t limit_ms)
{
    uint32_t start = tern_vwire_now(&w->n.wire);
    for (;;) {
        int open = 0;
        for (unsigned i = 0; i < w->nconns; i++)
            if (!w->conns[i].closed)
                open++;
        if (open == 0)
            break;
        uint32_t now = tern_vwire_now(&w->n.wire);
        if (now - start > limit_ms) {
            for (unsigned i = 0; i < w->nconns; i++) {
                app_conn_t *c = &w->conns[i];
                if (!c->closed)
                    fprintf(stderr, "conn %u side %d state %s sent %llu/%llu received %llu eof %d shut %d\n", i,
                            c->side, c->pcb ? tern_tcp_state_name(tern_tcp_state(c->pcb)) : "-",
                            (unsigned long long)c->sent, (unsigned long long)c->to_send,
                            (unsigned long long)c->received, c->eof, c->shut);
            }
            CHECK(!"connections did not finish in time");
        }
        tern_vwire_run(&w->n.wire, now + 20u);
    }
}

/* After TIME-WAIT and every timer: nothing held but the baseline. */
static void settle_and_check(world_t *w)
{
    tern_vwire_params_t clean;
    memset(&clean, 0, sizeof clean);
    tern_vwire_set_params(&w->n.wire, 0, &clean);
    tern_vwire_set_params(&w->n.wire, 1, &clean);
    /* Orphaned FIN-WAIT-2 waits up to 2 TIME-WAIT + 1 s. */
    tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 12000u);
    CHECK(tern_tcp_list(w->n.a, NULL, 0) == 1); /* the listener */
    CHECK(tern_tcp_list(w->n.b, NULL, 0) == 1);
    CHECK(tern_vwire_pending(&w->n.wire) == 0);
    CHECK(tern_ledger_verify(&w->n.a->ledger) == TERN_OK);
    CHECK(tern_ledger_verify(&w->n.b->ledger) == TERN_OK);
    CHECK(wire_heap_free(w->n.a) == w->heap_a);
    CHECK(wire_heap_free(w->n.b) == w->heap_b);
    CHECK(tern_netbuf_free_count(&w->n.a->netbufs) == TERN_NETBUF_COUNT);
    CHECK(tern_netbuf_free_count(&w->n.b->netbufs) == TERN_NETBUF_COUNT);
    CHECK(w->n.a->netbufs.bad_releases + w->n.b->netbufs.bad_releases == 0);
    CHECK(w->n.a->tcp.range_free_count == TERN_TCP_RANGE_COUNT);
    CHECK(w->n.b->tcp.range_free_count == TERN_TCP_RANGE_COUNT);
    CHECK(w->n.a->tcp.half_open == 0 && w->n.b->tcp.half_open == 0);
}

static void check_conns(world_t *w, int expect_errors)
{
    unsigned clients = 0, servers = 0;
    for (unsigned i = 0; i < w->nconns; i++) {
        app_conn_t *c = &w->conns[i];
        CHECK(c->closed);
        CHECK(c->bad == 0);
        if (expect_errors)
            continue;
        if (c->err != 0)
            fprintf(stderr, "connection %u (side %d): %s after sending %llu and receiving %llu\n", i, c->side,
                    tern_errname(c->err), (unsigned long long)c->sent, (unsigned long long)c->received);
        CHECK(c->err == 0);
        CHECK(c->sent == c->to_send);
        if (c->side == 0) {
            clients++;
            CHECK(c->received == w->server_send);
        } else {
            servers++;
            CHECK(c->received == w->client_send);
        }
    }
    if (!expect_errors)
        CHECK(clients == servers);
}

/* Which TCP options a seed negotiates: 0 SACK and timestamps, 1 timestamps
 * only (A offers no SACK), 2 SACK only (B offers no timestamps), 3 neither.
 * TERN_TCP_OPTS=N forces one mode for every seed. */
static unsigned opt_mode(uint64_t seed)
{
    const char *e = getenv("TERN_TCP_OPTS");
    return e != NULL ? (unsigned)strtoul(e, NULL, 10) % 4u : (unsigned)(seed % 4u);
}

static void set_opt_mode(world_t *w, unsigned mode)
{
    static const unsigned a_opts[4] = {0, TERN_TCP_OPT_NOSACK, 0, TERN_TCP_OPT_NOSACK | TERN_TCP_OPT_NOTS};
    static const unsigned b_opts[4] = {0, 0, TERN_TCP_OPT_NOTS, TERN_TCP_OPT_NOSACK | TERN_TCP_OPT_NOTS};
    tern_tcp_set_default_options(w->n.a, a_opts[mode]);
    tern_tcp_set_options(w->listener, b_opts[mode]);
}

/* One scenario for a seed. */
static void scenario(uint64_t seed, uint64_t size_a, uint64_t size_b, unsigned nconn, int impair)
{
    g_seed = seed;
    tern_test_port_t rng;
    tern_test_port_init(&rng, seed ^ 0xABCDEFull);
    tern_vwire_params_t p;
    memset(&p, 0, sizeof p);
    if (impair) {
        p.loss_ppm = tern_test_rand(&rng) % 40000u;
        p.dup_ppm = tern_test_rand(&rng) % 20000u;
        p.reorder_ppm = tern_test_rand(&rng) % 30000u;
        p.reorder_ms = 1u + tern_test_rand(&rng) % 8u;
        p.corrupt_ppm = tern_test_rand(&rng) % 10000u;
        p.delay_ms = tern_test_rand(&rng) % 5u;
        p.jitter_ms = tern_test_rand(&rng) % 3u;
    }
    world_t *w = world_new(seed, &p);
    w->client_send = size_a;
    w->server_send = size_b;
    set_opt_mode(w, opt_mode(seed));
    uint32_t small = (tern_test_rand(&rng) % 4u == 0u) ? 536u + tern_test_rand(&rng) % 2000u : 0u;
    if (small != 0u)
        CHECK(tern_tcp_set_bufsizes(w->listener, small, 536u + tern_test_rand(&rng) % 3000u) == TERN_OK);
    for (unsigned i = 0; i < nconn; i++) {
        uint32_t rb = (tern_test_rand(&rng) % 3u == 0u) ? 536u + tern_test_rand(&rng) % 3000u : 0u;
        client_open(w, size_a, size_b, rb, 0);
    }
    uint32_t start = tern_vwire_now(&w->n.wire);
    while (tern_vwire_now(&w->n.wire) - start < 600000u) {
        int open = 0;
        for (unsigned i = 0; i < w->nconns; i++)
            if (!w->conns[i].closed)
                open++;
        if (open == 0 && w->nconns >= 2u * nconn)
            break;
        tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 10u);
        for (unsigned i = 0; i < w->nconns; i++)
            app_pump(&w->conns[i]);
    }
    run_until_done(w, 1000u);
    check_conns(w, 0);
    settle_and_check(w);
    add_stats(w->n.a);
    add_stats(w->n.b);
    world_free(w);
}

/* Allocation failure at every attempt of a connection's life, on either
 * side, once or from then on: every connection still ends (completing, or
 * with an error to the application), and memory returns to its baseline. */
static void fault_run(uint64_t seed, int side, uint32_t nth, int every, uint32_t *attempts)
{
    g_seed = seed * 100000u + (uint64_t)side * 10000u + nth * 2u + (uint64_t)every;
    world_t *w = world_new(seed, NULL);
    w->client_send = 20000;
    w->server_send = 15000;
    tern_ledger_t *l = side == 0 ? &w->n.a->ledger : &w->n.b->ledger;
    uint32_t a0 = tern_ledger_attempts(l);
    if (nth != 0u)
        tern_ledger_fail_nth(l, nth, every);
    client_open(w, w->client_send, w->server_send, 0, 0);
    uint32_t start = tern_vwire_now(&w->n.wire);
    for (;;) {
        int open = 0;
        for (unsigned i = 0; i < w->nconns; i++)
            if (!w->conns[i].closed)
                open++;
        if (open == 0 && tern_tcp_list(w->n.a, NULL, 0) == 1 && tern_tcp_list(w->n.b, NULL, 0) == 1)
            break;
        uint32_t elapsed = tern_vwire_now(&w->n.wire) - start;
        if (every && elapsed > 600000u) {
            /* A side that can allocate nothing more cannot even send a
             * reset: its peer may wait forever, as with a crashed host
             * (keep-alive is off). The application gives up. */
            for (unsigned i = 0; i < w->nconns; i++) {
                app_conn_t *c = &w->conns[i];
                if (!c->closed && c->pcb != NULL) {
                    tern_tcp_abort(c->pcb);
                    c->pcb = NULL;
                    c->closed = 1;
                    c->err = TERN_ERR_TIMEOUT;
                }
            }
        }
        CHECK(elapsed < 900000u);
        tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 50u);
        for (unsigned i = 0; i < w->nconns; i++)
            app_pump(&w->conns[i]);
    }
    if (attempts != NULL)
        *attempts = tern_ledger_attempts(l) - a0;
    tern_ledger_fail_nth(l, 0, 0);
    int failed = 0;
    for (unsigned i = 0; i < w->nconns; i++) {
        app_conn_t *c = &w->conns[i];
        CHECK(c->bad == 0);
        if (c->err != 0)
            failed = 1;
        else if (c->side == 0)
            CHECK(c->received == w->server_send || failed);
    }
    if (nth == 0u)
        CHECK(!failed && w->nconns == 2u);
    settle_and_check(w);
    world_free(w);
}

static void test_fault_injection(void **state)
{
    (void)state;
    for (int side = 0; side < 2; side++) {
        uint32_t total = 0;
        fault_run(7, side, 0, 0, &total);
        CHECK(total >= 3u); /* structure, and both rings at least */
        for (uint32_t k = 1; k <= total; k++) {
            fault_run(7, side, k, 0, NULL);
            fault_run(7, side, k, 1, NULL);
        }
        print_message("side %c: %u allocation attempts in a connection's life, each failed once and from then on\n",
                      side == 0 ? 'A' : 'B', total);
    }
}

/* Many short connections, eight at a time, on an impaired wire: the
 * TIME-WAIT table overflows (recycled, counted) and memory returns. */
static void test_many_short_connections(void **state)
{
    (void)state;
    g_seed = 4242;
    tern_vwire_params_t p;
    memset(&p, 0, sizeof p);
    p.loss_ppm = 10000;
    p.reorder_ppm = 10000;
    p.reorder_ms = 3;
    p.delay_ms = 1;
    world_t *w = world_new(g_seed, &p);
    w->client_send = 300;
    w->server_send = 700;
    /* Eight at once in the 48 KB test heap: 1 KB rings (with the default
     * 4380-byte rings the sixth connection would be reset for memory). */
    CHECK(tern_tcp_set_bufsizes(w->listener, 1024, 1024) == TERN_OK);
    unsigned total = 0;
    for (unsigned round = 0; round < 125; round++) {
        w->nconns = 0;
        for (unsigned i = 0; i < 8; i++)
            client_open(w, w->client_send, w->server_send, 1024, 1024);
        total += 8;
        run_until_done(w, 600000u);
        check_conns(w, 0);
    }
    CHECK(tern_tcp_stats(w->n.a)->established >= total);
    CHECK(tern_tcp_stats(w->n.a)->timewait_evicted + tern_tcp_stats(w->n.b)->timewait_evicted > 0u);
    print_message("%u short connections, %u TIME-WAIT entries recycled early\n", total,
                  tern_tcp_stats(w->n.a)->timewait_evicted + tern_tcp_stats(w->n.b)->timewait_evicted);
    settle_and_check(w);
    world_free(w);
}

/* A client resets in the middle of a transfer: the server hears
 * TERN_ERR_RESET, nothing leaks. */
static void test_rst_during_transfer(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        g_seed = seed;
        tern_vwire_params_t p;
        memset(&p, 0, sizeof p);
        p.loss_ppm = 20000;
        p.delay_ms = 2;
        world_t *w = world_new(seed, &p);
        w->client_send = 100000;
        w->server_send = 200000;
        app_conn_t *c = client_open(w, w->client_send, w->server_send, 0, 0);
        c->abort_at = (int)(5000u + seed * 3000u);
        run_until_done(w, 600000u);
        CHECK(w->nconns == 2u);
        app_conn_t *srv = &w->conns[1];
        CHECK(srv->err == TERN_ERR_RESET);
        CHECK(srv->bad == 0 && w->conns[0].bad == 0);
        settle_and_check(w);
        world_free(w);
    }
}

/* A SYN flood from spoofed on-link sources (they never answer ARP) at B
 * while two transfers run and six more clients connect: every transfer
 * completes byte for byte, B keeps A's ARP entry, its incomplete entries,
 * half-open connections and memory stay bounded, and nothing a real
 * connection held is evicted (new clients get in through SYN cookies). */
static void test_syn_flood_with_real_connections(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        g_seed = seed;
        tern_vwire_params_t p;
        memset(&p, 0, sizeof p);
        p.loss_ppm = 5000;
        p.delay_ms = 1;
        world_t *w = world_new(seed, &p);
        w->client_send = 40000;
        w->server_send = 60000;
        set_opt_mode(w, (unsigned)seed % 4u);
        client_open(w, w->client_send, w->server_send, 0, 0);
        client_open(w, w->client_send, w->server_send, 0, 0);
        tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 100u);
        CHECK(w->nconns == 4u); /* both established, accepted */
        tern_test_port_t rng;
        tern_test_port_init(&rng, seed ^ 0x5EEDull);
        size_t peak = 0;
        unsigned opened = 0;
        for (unsigned tick = 0; tick < 1500u; tick++) {
            for (unsigned k = 0; k < 2u; k++) {
                uint8_t fr[FRAME_MAX];
                size_t n = tseg_frame(fr, &(tseg_t){.src = TERN_IP4(192, 0, 2, 100 + tern_test_rand(&rng) % 100u),
                                                    .dst = W2_IP_B,
                                                    .sport = (uint16_t)(1024u + tern_test_rand(&rng) % 60000u),
                                                    .dport = PORT,
                                                    .seq = tern_test_rand(&rng),
                                                    .flags = 0x02, /* SYN */
                                                    .wnd = 8192,
                                                    .eth_dst = W2_MAC_B});
                CHECK(tern_vwire_send(&w->n.wire, 0, fr, n) == TERN_OK);
            }
            if (tick % 200u == 100u && opened < 6u) {
                client_open(w, w->client_send, w->server_send, 0, 0);
                opened++;
            }
            tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 2u);
            for (unsigned i = 0; i < w->nconns; i++)
                app_pump(&w->conns[i]);
            CHECK(tern_arp_lookup(w->n.b, W2_IP_A, NULL) == TERN_OK);
            unsigned pending = 0;
            tern_arp_info_t info;
            for (unsigned i = 0; tern_arp_entry_info(w->n.b, i, &info) == TERN_OK; i++)
                pending += info.state == TERN_ARP_PENDING;
            CHECK(pending <= TERN_ARP_MAX_INCOMPLETE);
            CHECK(w->n.b->tcp.half_open <= TERN_TCP_SYN_MAX);
            size_t used = wire_heap_used(w->n.b);
            if (used > peak)
                peak = used;
        }
        run_until_done(w, 600000u);
        CHECK(w->nconns == 2u * 8u);
        check_conns(w, 0);
        const tern_tcp_stats_t *ts = tern_tcp_stats(w->n.b);
        CHECK(ts->syncookies_sent > 0u);
        CHECK(ts->syn_evicted == 0u);
        CHECK(w->n.b->counters.arp_evicted == 0u);
        print_message("seed %llu: %u cookies sent, %u accepted, %u incomplete ARP entries recycled, heap peak %zu\n",
                      (unsigned long long)seed, ts->syncookies_sent, ts->syncookies_accepted,
                      w->n.b->counters.arp_incomplete_evicted, peak);
        /* The flood's half-open children give up after their retries. */
        tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 120000u);
        settle_and_check(w);
        world_free(w);
    }
}

static unsigned seed_count(unsigned def)
{
    const char *e = getenv("TERN_TCP_SEEDS");
    return e != NULL ? (unsigned)strtoul(e, NULL, 10) : def;
}

static void test_clean_transfer(void **state)
{
    (void)state;
    scenario(1, 100000, 50000, 1, 0);
}

static void test_many_seeds(void **state)
{
    (void)state;
    const char *one = getenv("TERN_TEST_SEED");
    if (one != NULL) {
        uint64_t s = strtoull(one, NULL, 10);
        scenario(s, 20000u + s % 50000u, 10000u + (s * 7u) % 40000u, 1u + (unsigned)(s % 3u), 1);
        return;
    }
    unsigned n = seed_count(200);
    memset(&g_total, 0, sizeof g_total);
    for (unsigned s = 1; s <= n; s++)
        scenario(s, 20000u + s % 50000u, 10000u + (s * 7u) % 40000u, 1u + s % 3u, 1);
    print_message("%u seeds: %u connections, %u retransmits (%u fast, %u timeouts), %u out-of-order, %u bad "
                  "checksums, %u duplicates\n",
                  n, g_total.established, g_total.retransmits, g_total.fast_retransmits, g_total.timeouts,
                  g_total.ooo_segments, g_total.drop_checksum, g_total.dup_segments);
    print_message("  SACK: %u ACKs with blocks, %u blocks taken, %u SACK recoveries; timestamps: %u RTT samples, "
                  "%u PAWS drops, %u without\n",
                  g_total.sack_tx, g_total.sack_blocks_rx, g_total.sack_recoveries, g_total.ts_rtt_samples,
                  g_total.drop_paws, g_total.drop_no_ts);
    if (n >= 50u) {
        assert_true(g_total.fast_retransmits > 0u && g_total.timeouts > 0u && g_total.ooo_segments > 0u);
        assert_true(g_total.drop_checksum > 0u && g_total.dup_segments > 0u);
    }
}

#if TERN_IPV6
/* The seeds over IPv6: the same impairments, checks and baselines. */
static void test_seeds_ipv6(void **state)
{
    (void)state;
    unsigned n = seed_count(200) / 4u;
    g_v6 = 1;
    memset(&g_total, 0, sizeof g_total);
    for (unsigned s = 1; s <= n; s++)
        scenario(5000u + s, 20000u + s % 50000u, 10000u + (s * 7u) % 40000u, 1u + s % 3u, 1);
    scenario(6000u, 1u << 20, 1u << 20, 1, 1);
    g_v6 = 0;
    print_message("%u IPv6 seeds: %u connections, %u retransmits, %u out-of-order, %u bad checksums\n", n + 1u,
                  g_total.established, g_total.retransmits, g_total.ooo_segments, g_total.drop_checksum);
    assert_true(g_total.established >= 2u * n);
}
#endif

static void test_megabyte_both_ways(void **state)
{
    (void)state;
    for (uint64_t s = 1000; s < 1004; s++)
        scenario(s, 1u << 20, 1u << 20, 1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_transfer),
        cmocka_unit_test(test_many_seeds),
        cmocka_unit_test(test_megabyte_both_ways),
        cmocka_unit_test(test_fault_injection),
        cmocka_unit_test(test_many_short_connections),
        cmocka_unit_test(test_rst_during_transfer),
        cmocka_unit_test(test_syn_flood_with_real_connections),
#if TERN_IPV6
        cmocka_unit_test(test_seeds_ipv6),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
