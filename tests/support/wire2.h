/* Stacks on the virtual wire (ports/posix/tern_vwire.h), for the tests
 * that run tern against tern, or one stack against a scripted endpoint,
 * on virtual time.
 *
 * wire_stack_new is one stack on one side of a wire; wire2 is the usual
 * pair: A (side 0, 192.0.2.1) and B (side 1, 192.0.2.2) on one /24. The
 * ports are the caller's (seeds, quiet, wait hooks differ per test). */
#ifndef TERN_TEST_WIRE2_H
#define TERN_TEST_WIRE2_H

#include <stdint.h>
#include "tern/stack.h"
#include "tern_test.h"
#include "tern_vwire.h"

#define W2_IP_A TERN_IP4(192, 0, 2, 1)
#define W2_IP_B TERN_IP4(192, 0, 2, 2)
#define W2_MASK TERN_IP4(255, 255, 255, 0)

extern const uint8_t W2_MAC_A[6]; /* 02:00:00:00:00:0a */
extern const uint8_t W2_MAC_B[6]; /* 02:00:00:00:00:0b */

/* A stack (heap-allocated: it is large) initialized on port, its nif with
 * mac attached to side of wire (which the caller has initialized). */
tern_stack_t *wire_stack_new(tern_vwire_t *wire, int side, tern_netif_t *nif, const uint8_t mac[6],
                             const tern_port_t *port);
/* Deinit; then the ledger empty and consistent, no heap block in use,
 * every network buffer back; free. */
void wire_stack_free(tern_stack_t *s);

/* One stack (side 0: mac, a quiet test port seeded seed) against a
 * scripted endpoint (side 1: rx with ctx) on a wire of 1 ms delay. */
tern_stack_t *wire_client_new(tern_vwire_t *wire, uint64_t seed, tern_test_port_t *tp, tern_netif_t *nif,
                              const uint8_t mac[6], tern_vwire_rx_fn rx, void *ctx);

/* Heap bytes free and in use on s: for baselines. */
size_t wire_heap_free(const tern_stack_t *s);
size_t wire_heap_used(const tern_stack_t *s);

/* A UDP datagram (checksummed) in IPv4 and Ethernet, sent from side of
 * the wire: what a scripted server endpoint answers with. */
void wire_send_udp(tern_vwire_t *wire, int side, const uint8_t eth_dst[6], const uint8_t eth_src[6], tern_ip4_t src,
                   tern_ip4_t dst, uint16_t sport, uint16_t dport, const void *payload, size_t len);

typedef struct wire2 {
    tern_stack_t *a, *b;
    tern_netif_t nif_a, nif_b;
    tern_vwire_t wire;
} wire2_t;

/* The wire (seed, params; NULL: a perfect wire), both stacks attached and
 * addressed, then 1 s of virtual time so the announcements cross and the
 * buffers settle. */
void wire2_init(wire2_t *w, uint64_t seed, const tern_vwire_params_t *params, const tern_port_t *port_a,
                const tern_port_t *port_b);
/* The wire and both stacks attached, no address yet (for a test whose
 * scenario starts with the addresses). */
void wire2_plug(wire2_t *w, uint64_t seed, const tern_vwire_params_t *params, const tern_port_t *port_a,
                const tern_port_t *port_b);
/* wire2_plug and the addresses: wire2_init without the settling second
 * (the caller runs the wire itself). */
void wire2_attach(wire2_t *w, uint64_t seed, const tern_vwire_params_t *params, const tern_port_t *port_a,
                  const tern_port_t *port_b);
/* Close every socket left on either stack (as the applications' exit
 * would), destroy the wire (frames in flight given back), then
 * wire_stack_free both: the teardown checks (ledger empty and consistent, heap empty,
 * every network buffer back). */
void wire2_deinit(wire2_t *w);

/* TIME-WAIT on both stacks, short enough for a test to run past it. */
void wire2_set_timewait(wire2_t *w, uint32_t ms);

/* Run the wire ms of virtual time from now; the time now. */
void wire2_run(wire2_t *w, uint32_t ms);
uint32_t wire2_now(const wire2_t *w);

/* A test port on the wire's virtual time whose wait hook drives the wire
 * one millisecond at a time (calling hook after each) until a wake-up, the
 * timeout, or WIRE2_WAIT_CAP_MS: a blocking call on one thread. tp comes
 * first: the test port's hooks cast ctx to it. */
#define WIRE2_WAIT_CAP_MS 600000u /* a wait "forever" that nothing ends fails instead of hanging */
typedef struct wire2_vport {
    tern_test_port_t tp;
    wire2_t *w;
    void (*hook)(void *ctx); /* the "other thread": run on every virtual millisecond a wait passes */
    void *hook_ctx;
    int woken;
    unsigned waits;
} wire2_vport_t;

/* tern_test_port_init(seed) with the virtual-time hooks, for the stack on w. */
void wire2_vport_init(wire2_vport_t *vp, wire2_t *w, uint64_t seed);

#endif
