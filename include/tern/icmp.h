/* ICMP (RFC 792, RFC 1122 3.2.2): echo both ways, destination unreachable
 * out (rate limited by a token bucket), errors in validated and counted. */
#ifndef TERN_ICMP_H
#define TERN_ICMP_H

#include <stddef.h>
#include <stdint.h>
#include "tern/netif.h"

/* Called for every valid echo reply received; data is the echo payload
 * (after id and seq), valid only during the call. */
typedef void (*tern_ping_reply_fn)(void *ctx, tern_ip4_t from, uint16_t id, uint16_t seq, const uint8_t *data,
                                   size_t len, uint32_t now);

typedef struct tern_icmp {
    tern_ping_reply_fn ping_fn;
    void *ping_ctx;
    /* Error token bucket: credit in units of 1/TERN_ICMP_ERROR_RATE ms; one
     * error costs 1000 units, each ms earns TERN_ICMP_ERROR_RATE units. */
    uint32_t credit;
    uint32_t credit_time; /* stack time of the last refill */
} tern_icmp_t;

struct tern_stack;

/* Set (or clear, fn NULL) the echo reply handler. */
void tern_ping_set_handler(struct tern_stack *stack, tern_ping_reply_fn fn, void *ctx);

/* Send an echo request with len bytes of data. TERN_OK when sent or queued
 * for ARP resolution; TERN_ERR_NOROUTE, TERN_ERR_NOBUFS,
 * TERN_ERR_MSGSIZE (len > 1472: no fragmentation), TERN_ERR_LINKDOWN, or the
 * driver's error. */
int tern_ping_send(struct tern_stack *stack, tern_ip4_t dst, uint16_t id, uint16_t seq, const void *data, size_t len);

#endif
