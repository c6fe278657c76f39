/* The two calls between ARP and the DHCP client (internal, not public API):
 * ARP sends the RFC 5227 probes DHCP asks for, and tells DHCP about every
 * valid ARP packet so that an answer for the address being checked becomes
 * a DECLINE (RFC 2131 2.2, 3.1.5). */
#ifndef TERN_DHCP_ARP_H
#define TERN_DHCP_ARP_H

#include <stdint.h>
#include "tern/stack.h"

/* src/net/arp.c: an ARP probe for ip (RFC 5227 2.1.1: a request with sender
 * IP 0.0.0.0 and target ip). TERN_OK or the send error. */
int arp_probe(tern_stack_t *stack, tern_netif_t *nif, tern_ip4_t ip);

/* apps/dhcp/dhcp.c: called by arp_input for every ARP packet that passed
 * validation, before any other handling; a no-op unless the client is
 * checking an address on nif. */
void dhcp_arp_input(tern_stack_t *stack, tern_netif_t *nif, uint16_t op, const uint8_t sha[6], tern_ip4_t spa,
                    tern_ip4_t tpa);

#endif
