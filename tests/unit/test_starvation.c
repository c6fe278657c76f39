/* TERN_TEST_STATIC_VARIANT */
/* Network-buffer and memory starvation, tern against tern on the virtual
 * wire (deterministic; virtual time). B is the stack under test; A is the
 * peer, an attacker and a well-behaved client at once. While B is starved
 * by one of
 *   - a receiver on B that never reads (A keeps sending: B's window closes),
 *   - a peer that advertises a zero window forever (A never reads what B's
 *     chargen-like service writes: B persists for ten virtual minutes),
 *   - a UDP socket on B that never drains, with the largest queue it may
 *     ask for, flooded by A,
 * B must stay responsive: ping answered, a second TCP connection (echo)
 * carries 64 KB each way byte-exact, and B's memory does not grow between
 * the first and the tenth minute (bounded), nor its free network buffers
 * sink. At the end everything is closed and the ledger is at baseline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/stack.h"
#include "tern_test.h"
#include "tern_vwire.h"
#include "wire2.h"

#define IP_A W2_IP_A
#define IP_B W2_IP_B
#define PORT_SINK 9u    /* B: accepts, never reads */
#define PORT_ECHO 7u    /* B: echo */
#define PORT_SOURCE 19u /* B: writes whenever there is room */
#define PORT_UDP 5000u  /* B: a UDP socket nobody drains */
#define ECHO_BYTES 65536u

typedef struct conn {
    struct world *w;
    tern_tcp_pcb_t *pcb;
    uint64_t sent, received, bad;
    uint64_t to_send;
    int reads;     /* 0: never read */
    int checks;    /* compare received bytes with pat() */
    int err, connected, eof;
} conn_t;

typedef struct world {
    tern_test_port_t port_a, port_b;
    wire2_t n;
    tern_tcp_pcb_t *l_sink, *l_echo, *l_source;
    conn_t srv[8];     /* B's accepted connections */
    unsigned nsrv;
    unsigned pings_sent, pings_answered;
    size_t b_ledger_base, b_heap_free_base;
    uint16_t b_bufs_base;
} world_t;

static uint8_t pat(uint64_t i)
{
    return (uint8_t)(i * 31u + (i >> 8) + 7u);
}

/* ---- B's services and A's clients on the raw API ---------------------- */

static void pump(void *arg, tern_tcp_pcb_t *pcb)
{
    conn_t *c = arg;
    if (c->reads) {
        const uint8_t *span;
        int n;
        while ((n = tern_tcp_peek(pcb, &span)) > 0) {
            if (c->checks)
                for (int i = 0; i < n; i++)
                    c->bad += span[i] != pat(c->received + (uint64_t)i);
            c->received += (uint64_t)n;
            tern_tcp_consume(pcb, (size_t)n);
        }
    }
    uint8_t *w;
    int n;
    while (c->sent < c->to_send && (n = tern_tcp_write_span(pcb, &w)) > 0) {
        uint64_t left = c->to_send - c->sent;
        size_t k = left < (uint64_t)n ? (size_t)left : (size_t)n;
        for (size_t i = 0; i < k; i++)
            w[i] = pat(c->sent + i);
        tern_tcp_write_commit(pcb, k);
        c->sent += k;
    }
    if (c->reads && tern_tcp_at_eof(pcb))
        c->eof = 1;
}

static void echo_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    conn_t *c = arg;
    const uint8_t *span;
    int n;
    while ((n = tern_tcp_peek(pcb, &span)) > 0) {
        int w = tern_tcp_write(pcb, span, (size_t)n);
        if (w <= 0)
            break;
        tern_tcp_consume(pcb, (size_t)w);
        c->received += (uint64_t)w;
        if (w < n)
            break;
    }
    if (tern_tcp_at_eof(pcb)) {
        tern_tcp_close(pcb);
        c->pcb = NULL;
        c->eof = 1;
    }
}

static void on_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    conn_t *c = arg;
    (void)pcb;
    c->err = err;
    c->pcb = NULL;
}

static void on_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    ((conn_t *)arg)->connected = 1;
    pump(arg, pcb);
}

static const tern_tcp_callbacks_t conn_cbs = {
    .connected = on_connected, .readable = pump, .writable = pump, .peer_closed = pump, .error = on_error};
static const tern_tcp_callbacks_t echo_cbs = {
    .readable = echo_pump, .writable = echo_pump, .peer_closed = echo_pump, .error = on_error};

static int on_accept(void *arg, tern_tcp_pcb_t *l, tern_tcp_pcb_t *pcb)
{
    world_t *w = arg;
    if (w->nsrv >= sizeof w->srv / sizeof w->srv[0])
        return TERN_ERR_NOMEM;
    conn_t *c = &w->srv[w->nsrv++];
    memset(c, 0, sizeof *c);
    c->w = w;
    c->pcb = pcb;
    if (l == w->l_echo) {
        tern_tcp_set_callbacks(pcb, &echo_cbs, c);
    } else {
        c->reads = 0; /* the sink never reads; the source never reads either */
        c->to_send = l == w->l_source ? UINT64_MAX : 0u;
        tern_tcp_set_callbacks(pcb, &conn_cbs, c);
        pump(c, pcb);
    }
    return TERN_OK;
}
static const tern_tcp_callbacks_t listen_cbs = {.accept = on_accept};

static void on_ping(void *ctx, tern_ip4_t from, uint16_t id, uint16_t seq, const uint8_t *data, size_t len,
                    uint32_t rtt_ms)
{
    world_t *w = ctx;
    (void)id;
    (void)seq;
    (void)data;
    (void)len;
    (void)rtt_ms;
    if (from == IP_B)
        w->pings_answered++;
}

static world_t *world_new(uint64_t seed)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    tern_test_port_init(&w->port_a, seed * 7u + 1u);
    tern_test_port_init(&w->port_b, seed * 7u + 2u);
    w->port_a.quiet = w->port_b.quiet = 1;
    wire2_init(&w->n, seed, NULL, &w->port_a.port, &w->port_b.port);
    wire2_set_timewait(&w->n, 2000);
    tern_ping_set_handler(w->n.a, on_ping, w);
    int err;
    w->l_sink = tern_tcp_listen(w->n.b, PORT_SINK, 4, &listen_cbs, w, &err);
    w->l_echo = tern_tcp_listen(w->n.b, PORT_ECHO, 4, &listen_cbs, w, &err);
    w->l_source = tern_tcp_listen(w->n.b, PORT_SOURCE, 4, &listen_cbs, w, &err);
    assert_true(w->l_sink && w->l_echo && w->l_source);
    /* A's TCP pools too, so both baselines hold them. */
    assert_non_null(tern_tcp_listen(w->n.a, 1, 1, &listen_cbs, w, &err));
    w->b_ledger_base = tern_ledger_total_bytes(&w->n.b->ledger);
    w->b_heap_free_base = wire_heap_free(w->n.b);
    w->b_bufs_base = tern_netbuf_free_count(&w->n.b->netbufs);
    return w;
}

static void world_free(world_t *w)
{
    wire2_deinit(&w->n);
    free(w);
}

static void run_for(world_t *w, uint32_t ms)
{
    uint32_t end = tern_vwire_now(&w->n.wire) + ms;
    while (tern_vwire_now(&w->n.wire) != end) {
        uint32_t t = tern_vwire_now(&w->n.wire) + 10u;
        if ((int32_t)(t - end) > 0)
            t = end;
        tern_vwire_run(&w->n.wire, t);
    }
}

/* B is responsive: 10 pings answered, and a fresh echo connection carries
 * ECHO_BYTES each way byte-exact, then closes. */
static void assert_b_responsive(world_t *w)
{
    unsigned answered = w->pings_answered;
    for (unsigned i = 0; i < 10u; i++) {
        assert_int_equal(tern_ping_send(w->n.a, IP_B, 0x5157u, (uint16_t)(w->pings_sent++), "starve", 6), TERN_OK);
        run_for(w, 50);
    }
    assert_int_equal(w->pings_answered, answered + 10u);
    conn_t c = {.w = w, .reads = 1, .checks = 1, .to_send = ECHO_BYTES};
    int err;
    c.pcb = tern_tcp_connect(w->n.a, IP_B, PORT_ECHO, &conn_cbs, &c, &err);
    assert_non_null(c.pcb);
    for (int i = 0; i < 600 && c.received < ECHO_BYTES && c.pcb != NULL; i++)
        run_for(w, 50);
    assert_non_null(c.pcb);
    assert_int_equal(c.err, 0);
    assert_int_equal(c.received, ECHO_BYTES);
    assert_int_equal(c.bad, 0);
    tern_tcp_shutdown(c.pcb);
    for (int i = 0; i < 100 && !c.eof; i++)
        run_for(w, 50);
    assert_true(c.eof);
    assert_int_equal(tern_tcp_close(c.pcb), TERN_OK);
    run_for(w, 3000); /* TIME-WAIT (2 s here) ends */
}

/* B's memory: the ledger total now, and B's free network buffers once the
 * wire is quiet are at the baseline (nothing stuck in a queue). */
static size_t b_ledger(world_t *w)
{
    assert_int_equal(tern_ledger_verify(&w->n.b->ledger), TERN_OK);
    return tern_ledger_total_bytes(&w->n.b->ledger);
}

static void assert_b_at_baseline(world_t *w)
{
    assert_int_equal(b_ledger(w), w->b_ledger_base);
    assert_int_equal(wire_heap_free(w->n.b), w->b_heap_free_base);
    assert_int_equal(tern_netbuf_free_count(&w->n.b->netbufs), w->b_bufs_base);
}

/* A receiver on B that never reads: A writes without end, B's window
 * closes and stays closed; A persists; B holds one receive ring for it and
 * no network buffer. */
static void test_starvation_tcp_receiver_never_reads(void **state)
{
    (void)state;
    world_t *w = world_new(tern_test_seed(11));
    conn_t a = {.w = w, .reads = 1, .to_send = UINT64_MAX};
    int err;
    a.pcb = tern_tcp_connect(w->n.a, IP_B, PORT_SINK, &conn_cbs, &a, &err);
    assert_non_null(a.pcb);
    run_for(w, 60000);
    assert_int_equal(w->nsrv, 1);
    conn_t *sink = &w->srv[0];
    assert_non_null(sink->pcb);
    size_t queued = tern_tcp_recv_avail(sink->pcb);
    assert_true(queued > 0);
    size_t at_1min = b_ledger(w);
    assert_int_equal(tern_netbuf_free_count(&w->n.b->netbufs), w->b_bufs_base);
    assert_b_responsive(w);
    run_for(w, 540000);
    /* Ten minutes: nothing more queued, nothing more held, A still there. */
    assert_int_equal(tern_tcp_recv_avail(sink->pcb), queued);
    assert_int_equal(b_ledger(w), at_1min);
    assert_int_equal(tern_netbuf_free_count(&w->n.b->netbufs), w->b_bufs_base);
    assert_non_null(a.pcb);
    assert_int_equal(tern_tcp_state(a.pcb), TERN_TCP_ESTABLISHED);
    const tern_tcp_stats_t *sa = tern_tcp_stats(w->n.a);
    printf("never-read receiver: %zu bytes queued at B, A sent %llu, A's zero-window probes %u in 10 min\n", queued,
           (unsigned long long)a.sent, sa->zero_window_probes);
    assert_true(sa->zero_window_probes >= 5u);
    assert_b_responsive(w);
    /* A gives up (RST); B frees the connection and its ring. */
    tern_tcp_abort(a.pcb);
    run_for(w, 1000);
    assert_null(sink->pcb);
    assert_int_equal(sink->err, TERN_ERR_RESET);
    assert_b_at_baseline(w);
    world_free(w);
}

/* A peer that advertises a zero window forever: A opens B's source service
 * and never reads. B keeps probing (RFC 9293 3.8.6.1: a zero window is not
 * a failure) with backed-off probes, holds its send ring and nothing more,
 * and serves others meanwhile. */
static void test_starvation_zero_window_forever(void **state)
{
    (void)state;
    world_t *w = world_new(tern_test_seed(12));
    conn_t a = {.w = w, .reads = 0};
    int err;
    a.pcb = tern_tcp_connect(w->n.a, IP_B, PORT_SOURCE, &conn_cbs, &a, &err);
    assert_non_null(a.pcb);
    run_for(w, 60000);
    assert_int_equal(w->nsrv, 1);
    conn_t *src = &w->srv[0];
    assert_non_null(src->pcb);
    assert_true(src->sent > 0);
    uint64_t sent_1min = src->sent;
    size_t at_1min = b_ledger(w);
    const tern_tcp_stats_t *sb = tern_tcp_stats(w->n.b);
    uint32_t probes_1min = sb->zero_window_probes;
    assert_b_responsive(w);
    run_for(w, 540000);
    assert_non_null(src->pcb);
    assert_int_equal(tern_tcp_state(src->pcb), TERN_TCP_ESTABLISHED);
    assert_int_equal(src->sent, sent_1min);
    assert_int_equal(b_ledger(w), at_1min);
    assert_int_equal(tern_netbuf_free_count(&w->n.b->netbufs), w->b_bufs_base);
    /* Probes go on, backed off: at least one a minute, at most one per
     * minimum RTO. */
    uint32_t probes = sb->zero_window_probes - probes_1min;
    printf("zero window forever: B wrote %llu bytes, then %u zero-window probes in 9 min\n",
           (unsigned long long)sent_1min, probes);
    assert_true(probes >= 9u);
    assert_true(probes <= 540000u / TERN_TCP_RTO_MIN_MS);
    assert_b_responsive(w);
    tern_tcp_abort(a.pcb);
    run_for(w, 1000);
    assert_null(src->pcb);
    assert_b_at_baseline(w);
    world_free(w);
}

/* A UDP socket on B that never drains, with the largest queue it may ask
 * for (every buffer but the reserve), flooded by A: the rest of the stack
 * must still receive (ping, TCP). */
static void udp_never_drained(uint32_t rxq)
{
    world_t *w = world_new(tern_test_seed(13));
    int s = tern_socket(w->n.b, TERN_SOCK_DGRAM);
    assert_true(s > 0);
    tern_sockaddr_t local = {.addr = 0, .port = PORT_UDP};
    assert_int_equal(tern_bind(w->n.b, s, &local), TERN_OK);
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_UDP_RXQ, rxq), TERN_OK);
    int sa = tern_socket(w->n.a, TERN_SOCK_DGRAM);
    assert_true(sa > 0);
    static uint8_t dgram[1000];
    memset(dgram, 0xD5, sizeof dgram);
    tern_sockaddr_t to = {.addr = IP_B, .port = PORT_UDP};
    unsigned sent = 0;
    for (unsigned i = 0; i < 2000u; i++) {
        if (tern_sendto(w->n.a, sa, dgram, sizeof dgram, TERN_MSG_DONTWAIT, &to) == (int)sizeof dgram)
            sent++;
        if (i % 8u == 7u)
            tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 1u);
    }
    run_for(w, 1000);
    const tern_counters_t *cb = &w->n.b->counters;
    printf("undrained UDP socket (queue %u): %u datagrams sent, %u dropped queue full, %u reserve, B buffers free %u of %u\n",
           rxq, sent, cb->udp_drop_queue_full, cb->udp_drop_rx_reserve, (unsigned)tern_netbuf_free_count(&w->n.b->netbufs),
           (unsigned)TERN_NETBUF_COUNT);
    assert_true(sent >= 1000u);
    /* Whatever reached B's UDP beyond the queue was dropped and counted
     * (B may also have had no buffer for a frame: counted by the wire). */
    const tern_vwire_stats_t *ws = tern_vwire_stats(&w->n.wire, 0);
    printf("  wire: %llu frames from A delivered, %llu found no buffer at B\n", (unsigned long long)ws->delivered,
           (unsigned long long)ws->rx_nobufs);
    assert_true(cb->udp_drop_queue_full + cb->udp_drop_rx_reserve + ws->rx_nobufs + rxq + 16u >= sent);
    size_t held = b_ledger(w);
    assert_b_responsive(w);
    /* More flooding changes nothing. */
    for (unsigned i = 0; i < 500u; i++) {
        (void)tern_sendto(w->n.a, sa, dgram, sizeof dgram, TERN_MSG_DONTWAIT, &to);
        if (i % 8u == 7u)
            tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 1u);
    }
    run_for(w, 1000);
    assert_int_equal(b_ledger(w), held);
    assert_b_responsive(w);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.a, sa), TERN_OK);
    run_for(w, 100);
    assert_b_at_baseline(w);
    world_free(w);
}

static void test_starvation_udp_default_queue_never_drained(void **state)
{
    (void)state;
    udp_never_drained(TERN_UDP_RXQ_DEFAULT);
}

static void test_starvation_udp_largest_queue_never_drained(void **state)
{
    (void)state;
    /* The largest queue a socket may ask for leaves the reserve free. */
    world_t *w = world_new(tern_test_seed(13));
    int s = tern_socket(w->n.b, TERN_SOCK_DGRAM);
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_UDP_RXQ, TERN_NETBUF_COUNT), TERN_ERR_INVAL);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    world_free(w);
    udp_never_drained(TERN_NETBUF_COUNT - TERN_NETBUF_RX_RESERVE);
}

/* Every socket at its default queue: TERN_NETBUF_COUNT / TERN_UDP_RXQ_DEFAULT
 * undrained sockets together hold as many buffers as one with the largest
 * queue. */
static void test_starvation_udp_many_sockets_never_drained(void **state)
{
    (void)state;
    world_t *w = world_new(tern_test_seed(14));
    int socks[TERN_SOCKET_MAX];
    unsigned n = TERN_NETBUF_COUNT / TERN_UDP_RXQ_DEFAULT;
    if (n > TERN_SOCKET_MAX - 1u)
        n = TERN_SOCKET_MAX - 1u;
    for (unsigned i = 0; i < n; i++) {
        socks[i] = tern_socket(w->n.b, TERN_SOCK_DGRAM);
        assert_true(socks[i] > 0);
        tern_sockaddr_t local = {.addr = 0, .port = (uint16_t)(PORT_UDP + i)};
        assert_int_equal(tern_bind(w->n.b, socks[i], &local), TERN_OK);
    }
    int sa = tern_socket(w->n.a, TERN_SOCK_DGRAM);
    static uint8_t dgram[600];
    memset(dgram, 0x6B, sizeof dgram);
    for (unsigned i = 0; i < 400u * n; i++) {
        tern_sockaddr_t to = {.addr = IP_B, .port = (uint16_t)(PORT_UDP + i % n)};
        (void)tern_sendto(w->n.a, sa, dgram, sizeof dgram, TERN_MSG_DONTWAIT, &to);
        if (i % 8u == 7u)
            tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 1u);
    }
    run_for(w, 1000);
    printf("%u undrained UDP sockets (queue %u each): B buffers free %u of %u\n", n, (unsigned)TERN_UDP_RXQ_DEFAULT,
           (unsigned)tern_netbuf_free_count(&w->n.b->netbufs), (unsigned)TERN_NETBUF_COUNT);
    assert_b_responsive(w);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(tern_close(w->n.b, socks[i]), TERN_OK);
    assert_int_equal(tern_close(w->n.a, sa), TERN_OK);
    run_for(w, 100);
    assert_b_at_baseline(w);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_starvation_tcp_receiver_never_reads),
        cmocka_unit_test(test_starvation_zero_window_forever),
        cmocka_unit_test(test_starvation_udp_default_queue_never_drained),
        cmocka_unit_test(test_starvation_udp_largest_queue_never_drained),
        cmocka_unit_test(test_starvation_udp_many_sockets_never_drained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
