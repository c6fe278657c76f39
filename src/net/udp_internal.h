/* UDP internals shared with IPv4 and ICMP (not API). */
#ifndef TERN_UDP_INTERNAL_H
#define TERN_UDP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "net/net_internal.h"
#include "tern/udp.h"

/* pcb flag kept by the UDP layer: linked in stack->udp.pcbs. */
#define UDP_F_LINKED_ 0x8000u

/* A datagram from IPv4 (nb->data at the UDP header, trimmed to the IP total
 * length). Consumes nb. */
void udp_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, const ipv4_rx_t *ip);

/* An ICMP error received about a UDP datagram we sent: msg/len is the whole
 * ICMP message (type, code, unused word, then the quoted IP header and at
 * least 8 bytes of its data, already validated by icmp_input). The connected
 * pcb whose datagram it quotes is told through its error callback (RFC 1122
 * 4.1.3.3). */
void udp_icmp_error(tern_stack_t *stack, const uint8_t *msg, size_t len);

#endif
