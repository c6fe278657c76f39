/* IPv6 (TERN_IPV6=1): addresses, Neighbor Discovery state and the API to
 * enable IPv6 on an interface, configure addresses and look at the state.
 * docs/network.md ("IPv6") says what is implemented and what is not yet;
 * UDP and TCP over IPv6 and the sockets' address family: docs/sockets.md.
 *
 * Memory: every table is static inside tern_stack_t, sized by config.h
 * (TERN_IPV6_*), none is on the heap; packets waiting for neighbor
 * resolution are network buffers (at most TERN_IPV6_NBR_QUEUE_LEN each). */
#ifndef TERN_IPV6_H
#define TERN_IPV6_H

#include <stdint.h>
#include "tern/config.h"
#include "tern/netif.h"
#include "tern/port.h"

/* An IPv6 address, network byte order. */
typedef struct tern_ip6 {
    uint8_t b[16];
} tern_ip6_t;

/* Address states (RFC 4862 2). */
enum tern_ip6_addr_state {
    TERN_IP6_ADDR_FREE = 0,
    TERN_IP6_ADDR_TENTATIVE = 1,  /* Duplicate Address Detection running */
    TERN_IP6_ADDR_PREFERRED = 2,
    TERN_IP6_ADDR_DEPRECATED = 3, /* preferred lifetime over, still valid */
    TERN_IP6_ADDR_DUPLICATE = 4   /* DAD found another holder: refused, not used */
};

/* Where an address came from. */
enum tern_ip6_addr_origin { TERN_IP6_ORIGIN_LINKLOCAL = 0, TERN_IP6_ORIGIN_SLAAC = 1, TERN_IP6_ORIGIN_STATIC = 2 };

/* Neighbor cache states (RFC 4861 7.3.2). */
enum tern_nd_state {
    TERN_ND_FREE = 0,
    TERN_ND_INCOMPLETE = 1,
    TERN_ND_REACHABLE = 2,
    TERN_ND_STALE = 3,
    TERN_ND_DELAY = 4,
    TERN_ND_PROBE = 5
};

/* A driver's multicast filter (optional): called with the Ethernet group
 * address (33:33:...) of every IPv6 group the interface joins (join 1) or
 * leaves (0), so a NIC that filters multicast lets solicitations in. */
typedef void (*tern_ipv6_mcast_fn)(tern_netif_t *nif, const uint8_t mac[6], int join);

#if TERN_IPV6

/* Finite lifetimes are kept as ms deadlines: longer ones are clamped to
 * this (about 24 days; routers re-advertise far more often). */
#define TERN_IP6_LIFETIME_MAX_MS 0x7FFFFFFFu

typedef struct tern_ip6_addr {
    tern_ip6_t addr;
    uint32_t preferred_until; /* deadlines (ms), unless infinite */
    uint32_t valid_until;
    uint32_t dad_deadline;    /* next DAD step while TENTATIVE */
    uint8_t state;            /* enum tern_ip6_addr_state */
    uint8_t origin;           /* enum tern_ip6_addr_origin */
    uint8_t prefix_len;
    uint8_t dad_sent;         /* solicitations sent so far */
    uint8_t infinite;         /* lifetimes 0xFFFFFFFF */
} tern_ip6_addr_t;

typedef struct tern_ip6_router {
    tern_ip6_t addr;          /* link-local (RFC 4861 6.1.2) */
    uint32_t expires;
    uint8_t used;
} tern_ip6_router_t;

typedef struct tern_ip6_prefix {
    tern_ip6_t prefix;
    uint32_t expires;
    uint8_t len;
    uint8_t used;
    uint8_t infinite;
} tern_ip6_prefix_t;

/* IPv6 on one interface. */
typedef struct tern_ipv6_if {
    tern_netif_t *nif;        /* NULL: slot unused */
    tern_ipv6_mcast_fn mcast;
    tern_ip6_addr_t addrs[TERN_IPV6_ADDR_MAX];
    tern_ip6_router_t routers[TERN_IPV6_ROUTERS];
    tern_ip6_prefix_t prefixes[TERN_IPV6_PREFIXES];
    tern_ip6_t dns[TERN_IPV6_DNS_MAX];
    uint32_t dns_expires[TERN_IPV6_DNS_MAX];
    uint8_t dns_used[TERN_IPV6_DNS_MAX];
    uint32_t reachable_ms;    /* ReachableTime (RFC 4861 6.3.2), randomised */
    uint32_t retrans_ms;      /* RetransTimer */
    uint32_t rs_deadline;     /* next router solicitation */
    uint32_t mld_deadline;    /* next MLD report */
    uint16_t mtu;             /* link MTU (RA MTU option, at most the interface's) */
    uint8_t hop_limit;        /* CurHopLimit */
    uint8_t rs_left;          /* solicitations still to send (RFC 4861 6.3.7) */
    uint8_t mld_left;         /* unsolicited reports still to send (RFC 3810 5.1) */
    uint8_t mld_query;        /* the next report answers a query (current state) */
    uint8_t ra_seen;
    uint8_t disabled;         /* the link-local address was a duplicate (RFC 4862 5.4.5) */
} tern_ipv6_if_t;

/* One neighbor cache entry (RFC 4861 5.1). */
typedef struct tern_nd_entry {
    tern_netbuf_t *queue;     /* packets waiting (INCOMPLETE), oldest first */
    tern_ipv6_if_t *ifs;
    tern_ip6_t ip;
    uint32_t deadline;        /* next solicitation, or the end of REACHABLE/DELAY */
    uint32_t updated;         /* last confirmation or change */
    uint8_t mac[6];
    uint8_t state;            /* enum tern_nd_state */
    uint8_t probes;           /* solicitations sent in this state */
    uint8_t queued;
    uint8_t is_router;
} tern_nd_entry_t;

/* A path MTU lowered by a Packet Too Big (RFC 8201 4), per destination. */
typedef struct tern_ip6_pmtu {
    tern_ip6_t dst;
    uint32_t expires;         /* back to the link MTU then (RFC 8201 5.3) */
    uint16_t mtu;             /* 0: slot unused */
} tern_ip6_pmtu_t;

#if TERN_IP_REASSEMBLY
struct tern_ip6_reass; /* one datagram being reassembled (ledger, IP_REASSEMBLY) */
#endif

/* One socket's membership of a group (RFC 3810 4: per-socket state; the
 * interface state is the union of them). */
typedef struct tern_ip6_membership {
    tern_ip6_t group;
    const void *owner;        /* the UDP pcb that joined; NULL: slot free */
} tern_ip6_membership_t;

typedef struct tern_ipv6 {
    tern_ipv6_if_t ifs[TERN_IPV6_NETIF_MAX];
    tern_nd_entry_t nbr[TERN_IPV6_NBR_CACHE_SIZE];
    tern_ip6_pmtu_t pmtu[TERN_IPV6_PMTU_CACHE];
    tern_ip6_membership_t groups[TERN_IPV6_MCAST_GROUPS];
#if TERN_IP_REASSEMBLY
    /* Its payload bytes count in stack->ipv4.reass_bytes: one budget,
     * TERN_IP_REASS_MAX_BYTES, for both families. */
    struct tern_ip6_reass *reass[TERN_IP_REASS_MAX_DATAGRAMS];
#endif
    uint32_t err_credit;      /* ICMPv6 error token bucket (RFC 4443 2.4 (f)) */
    uint32_t err_time;
    uint32_t iid_key[4];      /* RFC 7217 secret_key (TERN_IPV6_STABLE_IID) */
    uint8_t iid_key_set;      /* the application gave it, or it was drawn */
} tern_ipv6_t;

#endif /* TERN_IPV6 */

struct tern_stack;

/* One address as seen from outside. */
typedef struct tern_ip6_addr_info {
    tern_ip6_t addr;
    uint8_t prefix_len;
    uint8_t state;            /* enum tern_ip6_addr_state */
    uint8_t origin;           /* enum tern_ip6_addr_origin */
    uint32_t preferred_s;     /* seconds left; UINT32_MAX: infinite */
    uint32_t valid_s;
    const char *ifname;
} tern_ip6_addr_info_t;

typedef struct tern_nd_info {
    tern_ip6_t ip;
    uint8_t mac[6];
    uint8_t state;            /* enum tern_nd_state, never FREE */
    uint8_t is_router;
    uint8_t queued;
    const char *ifname;
} tern_nd_info_t;

/* Enable IPv6 on an interface (Ethernet links only): forms the link-local
 * address from the MAC (modified EUI-64, RFC 4291 2.5.1) or, with
 * TERN_IPV6_STABLE_IID, a stable opaque identifier (RFC 7217), starts Duplicate
 * Address Detection, joins the solicited-node group (MLDv2 report) and,
 * once the address is ours, solicits routers so SLAAC can follow. mcast
 * may be NULL. TERN_ERR_INVAL (wrong link, no slot, already on). */
int tern_ipv6_enable(struct tern_stack *stack, tern_netif_t *nif, tern_ipv6_mcast_fn mcast);
/* The RFC 7217 secret (TERN_IPV6_STABLE_IID 1): 16 bytes kept by the
 * application across boots (flash), so addresses stay the same on a given
 * network. Call before tern_ipv6_enable; without it the secret comes from
 * the port's random source at init. */
int tern_ipv6_set_iid_secret(struct tern_stack *stack, const uint8_t key[16]);
/* A static address (prefix_len 1..128), checked by DAD like the others.
 * TERN_ERR_NOMEM when the interface holds TERN_IPV6_ADDR_MAX already. */
int tern_ipv6_add_addr(struct tern_stack *stack, tern_netif_t *nif, const tern_ip6_t *addr, uint8_t prefix_len);
/* The nth address of any interface (0-based), or TERN_ERR_INVAL past the last. */
int tern_ipv6_addr_info(const struct tern_stack *stack, unsigned n, tern_ip6_addr_info_t *out);
/* The nth occupied neighbor cache entry, or TERN_ERR_INVAL. */
int tern_ipv6_nbr_info(const struct tern_stack *stack, unsigned n, tern_nd_info_t *out);
/* The nth DNS server learnt from RA RDNSS options (RFC 8106), or TERN_ERR_INVAL. */
int tern_ipv6_dns_server(const struct tern_stack *stack, unsigned n, tern_ip6_t *out);
/* RFC 5952 text (longest zero run as ::, lowercase), NUL-terminated; out
 * needs 40 bytes. Returns the length. */
unsigned tern_ip6_to_str(const tern_ip6_t *a, char *out);
/* Addresses and neighbors, one line each (the console 'ipv6' command). */
void tern_ipv6_report_text(const struct tern_stack *stack, tern_writer_fn write, void *ctx);
/* {"addrs":[{"addr":"fe80::1","prefix":64,"state":"preferred",...}],
 *  "neighbors":{"incomplete":0,...},"dns":[...]} */
void tern_ipv6_report_json(const struct tern_stack *stack, tern_writer_fn write, void *ctx);

#endif
