/* IPv4 (RFC 791, RFC 1122 3.2.1): one header in, one header out, no
 * forwarding, optional bounded reassembly (TERN_IP_REASSEMBLY).
 * Routing: docs/network.md. */
#ifndef TERN_IPV4_H
#define TERN_IPV4_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/netif.h"

#if TERN_IP_REASSEMBLY
_Static_assert(TERN_IP_REASS_MAX_DATAGRAMS >= 1 && TERN_IP_REASS_MAX_DATAGRAMS <= 255,
               "TERN_IP_REASS_MAX_DATAGRAMS must be 1..255");
_Static_assert(TERN_IP_REASS_MAX_BYTES >= 16u && TERN_IP_REASS_MAX_BYTES <= 65535u,
               "TERN_IP_REASS_MAX_BYTES must be 16..65535");
struct tern_ip_reass; /* one datagram being reassembled (ledger, IP_REASSEMBLY) */
#endif

typedef struct tern_ipv4 {
    uint16_t next_id;  /* identification of the next datagram; random start */
#if TERN_IP_REASSEMBLY
    uint32_t reass_bytes; /* payload bytes held by all datagrams in reassembly (IPv6 ones too: one budget) */
    struct tern_ip_reass *reass[TERN_IP_REASS_MAX_DATAGRAMS];
#endif
} tern_ipv4_t;

/* The limited broadcast address (RFC 919). */
#define TERN_IP4_BROADCAST 0xFFFFFFFFu

/* Does ip name a single host (not 0, loopback, multicast, class E or the
 * limited broadcast)? 0/8 "this network", 127/8 loopback, 224/4 multicast
 * and 240/4 reserved (RFC 1122 3.2.1.3, RFC 5735). The subnet-directed
 * broadcast depends on the interface and is checked separately. */
static inline int tern_ip4_is_unicast_host(tern_ip4_t ip)
{
    uint32_t a = ip >> 24;
    return a != 0u && a != 127u && a < 224u;
}

/* Dotted quad of ip into out (at least 16 bytes, NUL-terminated); returns
 * the length. */
size_t tern_ip4_to_str(tern_ip4_t ip, char *out);
/* Parse a dotted quad ("192.0.2.1"); TERN_OK or TERN_ERR_INVAL. */
int tern_ip4_from_str(const char *s, tern_ip4_t *out);

#endif
