/* Stacks on the virtual wire (wire2.h). */
#include "wire2.h"

#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern_test.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/tcp.h"

const uint8_t W2_MAC_A[6] = {0x02, 0, 0, 0, 0, 0x0a};
const uint8_t W2_MAC_B[6] = {0x02, 0, 0, 0, 0, 0x0b};

tern_stack_t *wire_stack_new(tern_vwire_t *wire, int side, tern_netif_t *nif, const uint8_t mac[6],
                             const tern_port_t *port)
{
    tern_stack_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(tern_stack_init(s, port), TERN_OK);
    memcpy(nif->mac, mac, 6);
    assert_int_equal(tern_vwire_attach(wire, side, s, nif), TERN_OK);
    return s;
}

void wire_stack_free(tern_stack_t *s)
{
    tern_stack_deinit(s);
    assert_int_equal(tern_ledger_total_bytes(&s->ledger), 0);
    assert_int_equal(tern_ledger_overhead(&s->ledger), 0);
    assert_int_equal(tern_ledger_verify(&s->ledger), TERN_OK);
    tern_heap_stats_t st;
    tern_ledger_heap_stats(&s->ledger, &st);
    assert_int_equal(st.used_blocks, 0);
    assert_int_equal(tern_netbuf_free_count(&s->netbufs), TERN_NETBUF_COUNT);
    free(s);
}

tern_stack_t *wire_client_new(tern_vwire_t *wire, uint64_t seed, tern_test_port_t *tp, tern_netif_t *nif,
                              const uint8_t mac[6], tern_vwire_rx_fn rx, void *ctx)
{
    tern_test_port_init(tp, seed);
    tp->quiet = 1;
    tern_vwire_params_t p = {.delay_ms = 1};
    tern_vwire_init(wire, seed, &p);
    tern_stack_t *s = wire_stack_new(wire, 0, nif, mac, &tp->port);
    tern_vwire_attach_endpoint(wire, 1, rx, ctx);
    return s;
}

size_t wire_heap_free(const tern_stack_t *s)
{
    tern_heap_stats_t st;
    tern_ledger_heap_stats(&s->ledger, &st);
    return st.free;
}

size_t wire_heap_used(const tern_stack_t *s)
{
    tern_heap_stats_t st;
    tern_ledger_heap_stats(&s->ledger, &st);
    return st.used;
}

void wire_send_udp(tern_vwire_t *wire, int side, const uint8_t eth_dst[6], const uint8_t eth_src[6], tern_ip4_t src,
                   tern_ip4_t dst, uint16_t sport, uint16_t dport, const void *payload, size_t len)
{
    uint8_t udp[FRAME_MAX], frame[FRAME_MAX];
    size_t un = frame_udp(udp, src, dst, sport, dport, payload, len);
    frame_ip_t ip = {.src = src, .dst = dst, .proto = 17};
    size_t fl = frame_ip_eth2(frame, eth_dst, eth_src, &ip, udp, un);
    assert_int_equal(tern_vwire_send(wire, side, frame, fl), TERN_OK);
}

void wire2_plug(wire2_t *w, uint64_t seed, const tern_vwire_params_t *params, const tern_port_t *port_a,
                const tern_port_t *port_b)
{
    tern_vwire_init(&w->wire, seed, params);
    w->a = wire_stack_new(&w->wire, 0, &w->nif_a, W2_MAC_A, port_a);
    w->b = wire_stack_new(&w->wire, 1, &w->nif_b, W2_MAC_B, port_b);
}

void wire2_attach(wire2_t *w, uint64_t seed, const tern_vwire_params_t *params, const tern_port_t *port_a,
                  const tern_port_t *port_b)
{
    wire2_plug(w, seed, params, port_a, port_b);
    tern_netif_set_addr(&w->nif_a, W2_IP_A, W2_MASK, 0);
    tern_netif_set_addr(&w->nif_b, W2_IP_B, W2_MASK, 0);
}

void wire2_init(wire2_t *w, uint64_t seed, const tern_vwire_params_t *params, const tern_port_t *port_a,
                const tern_port_t *port_b)
{
    wire2_attach(w, seed, params, port_a, port_b);
    tern_vwire_run(&w->wire, 1000);
}

void wire2_set_timewait(wire2_t *w, uint32_t ms)
{
    tern_tcp_set_timewait(w->a, ms);
    tern_tcp_set_timewait(w->b, ms);
}

void wire2_run(wire2_t *w, uint32_t ms)
{
    tern_vwire_run(&w->wire, tern_vwire_now(&w->wire) + ms);
}

uint32_t wire2_now(const wire2_t *w)
{
    return tern_vwire_now(&w->wire);
}

static uint32_t vport_now(void *ctx)
{
    const wire2_vport_t *vp = ctx;
    return tern_vwire_now(&vp->w->wire);
}

static void vport_wake(void *ctx)
{
    wire2_vport_t *vp = ctx;
    vp->woken = 1;
}

static int vport_wait(void *ctx, uint32_t timeout_ms)
{
    wire2_vport_t *vp = ctx;
    vp->waits++;
    vp->woken = 0;
    uint32_t cap = timeout_ms < WIRE2_WAIT_CAP_MS ? timeout_ms : WIRE2_WAIT_CAP_MS;
    for (uint32_t t = 0; t < cap; t++) {
        wire2_run(vp->w, 1);
        if (vp->hook != NULL)
            vp->hook(vp->hook_ctx);
        if (vp->woken)
            return TERN_OK;
    }
    return TERN_ERR_TIMEOUT;
}

void wire2_vport_init(wire2_vport_t *vp, wire2_t *w, uint64_t seed)
{
    tern_test_port_init(&vp->tp, seed);
    vp->w = w;
    vp->tp.port.now_ms = vport_now;
    vp->tp.port.wait = vport_wait;
    vp->tp.port.wake_all = vport_wake;
}

void wire2_deinit(wire2_t *w)
{
    tern_socket_close_all(w->a);
    tern_socket_close_all(w->b);
    tern_vwire_destroy(&w->wire);
    wire_stack_free(w->a);
    wire_stack_free(w->b);
    w->a = w->b = NULL;
}
