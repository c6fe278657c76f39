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
/* Destroy the wire (frames in flight given back), then wire_stack_free
 * both. */
void wire2_deinit(wire2_t *w);

#endif
