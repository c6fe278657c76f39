/* The DNS client's state (internal): the client, a running query and a
 * cache entry, each its own ledger block (category DNS_CACHE). Here rather
 * than in dns.c so that firmware/sizes.c can report their sizes on the
 * target. */
#ifndef TERN_DNS_STATE_H
#define TERN_DNS_STATE_H

#include <stdint.h>
#include "tern/dns.h"
#include "tern/stack.h"
#include "tern/udp.h"

/* A server the client talks to: an IPv4 address, or (TERN_IPV6 builds) a
 * socket address of either family, so an IPv4-only build's query block is
 * the size it was. */
#if TERN_IPV6
typedef tern_sockaddr_t dns_server_t;
#else
typedef tern_ip4_t dns_server_t;
#endif

struct dns_query {
    struct dns_query *next;
    tern_udp_pcb_t pcb;
    tern_dns_found_fn fn;
    void *ctx;
    uint32_t deadline;          /* next transmission or give-up; held result: its end */
    dns_server_t asked[TERN_DNS_MAX_TRIES]; /* server of each transmission */
    tern_ip4_t addr;
#if TERN_IPV6
    tern_dns_found_addr_fn fn_addr; /* the family-aware callback (fn NULL then) */
    tern_ip6_t addr6;
    uint8_t family;             /* TERN_FAMILY_IP6: an AAAA query (RFC 3596) */
#endif
    int result;
    uint16_t id;
    uint8_t tries;
    uint8_t armed;              /* deadline set (queries started from the API are armed by the next poll) */
    uint8_t done;               /* completed; result held for a poller */
    uint8_t server_err;         /* a server answered with an error rcode */
    uint8_t truncated;          /* a server answered with TC */
    uint8_t wire_len;           /* bytes of the name in wire form */
    uint8_t data[];             /* wire name (lower case), then the dotted name and its NUL */
};

struct dns_cache_entry {
    struct dns_cache_entry *next;
    tern_ip4_t addr;
    uint32_t expires;           /* ms */
#if TERN_IPV6
    tern_ip6_t addr6;
    uint8_t family;             /* of the record: A or AAAA */
#endif
    char name[];                /* dotted, lower case, NUL-terminated */
};

struct tern_dns {
    tern_service_t svc;
    tern_stack_t *stack;
    struct dns_query *queries;
    struct dns_cache_entry *cache;
    tern_ip4_t servers[TERN_DNS_MAX_SERVERS];
    uint8_t nservers;
#if TERN_IPV6
    tern_ip6_t servers6[TERN_DNS_MAX_SERVERS]; /* tern_dns_set_servers6 */
    uint8_t nservers6;
#endif
    uint8_t nqueries;
    uint16_t ncache;
    uint8_t stopping;
    uint8_t mem_cat;            /* the ledger category registered as DNS_CACHE */
    tern_dns_stats_t stats;
};

typedef struct tern_dns tern_dns_t;
typedef struct dns_query dns_query_t;
typedef struct dns_cache_entry dns_cache_entry_t;

#endif
