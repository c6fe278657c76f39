/* DNS client (RFC 1035): A-record lookups (and AAAA, RFC 3596, in TERN_IPV6
 * builds: below) over UDP with a bounded cache.
 *
 * tern_dns_start() allocates the client (category DNS_CACHE, owner 0) and
 * registers a service whose poll runs retries and cache expiry. Each query
 * and each cache entry is a ledger block of its own (DNS_CACHE), allocated
 * when the query starts / the answer is cached and freed when it completes /
 * expires or is evicted; at most TERN_DNS_MAX_QUERIES and
 * TERN_DNS_CACHE_ENTRIES exist at once. Sizes: docs/dhcp_dns.md.
 *
 * Servers: those given with tern_dns_set_servers(), else those the DHCP
 * client learned (option 6) while it holds a lease. A query tries them in
 * turn (TERN_DNS_MAX_TRIES transmissions, the timeout doubling each round),
 * from a fresh random source port with a random id (RFC 5452).
 *
 * Responses are hostile input: compression pointers that loop, point
 * forward or outside the message, labels over 63 bytes, names over 255,
 * counts that lie, truncated records, a wrong id, question or source, and
 * the TC bit are each rejected without reading out of bounds and counted in
 * tern_dns_stats_t. A rejected response leaves the query waiting for the
 * real one. CNAME chains are followed within one response.
 *
 * Results: TERN_OK with the address; TERN_ERR_NOTFOUND when the name does not
 * exist or has no A record (NXDOMAIN, NODATA); TERN_ERR_TIMEOUT when no
 * server answered; TERN_ERR_REFUSED when every answer was SERVFAIL/REFUSED;
 * TERN_ERR_MSGSIZE when the answer was truncated (no TCP fallback);
 * TERN_ERR_CLOSED when the client stopped first.
 *
 * Every function but tern_dns_resolve() is raw API: call it with the core
 * lock held. tern_dns_resolve() takes the lock itself and blocks. */
#ifndef TERN_DNS_H
#define TERN_DNS_H

#include <stdint.h>
#include "tern/config.h"
#include "tern/netif.h"
#include "tern/port.h"
#include "tern/socket.h"

struct tern_stack;

/* Longest name in dotted form (RFC 1035 2.3.4: 255 bytes on the wire). */
#define TERN_DNS_NAME_MAX 253u

typedef struct tern_dns_stats {
    uint32_t queries;          /* lookups that needed the network */
    uint32_t tx;               /* query datagrams sent (retries included) */
    uint32_t tx_err;           /* not sent: no buffer, no route */
    uint32_t retries;          /* retransmissions after a timeout */
    uint32_t rx;               /* datagrams received on a query's port */
    uint32_t answers;          /* lookups answered with an address */
    uint32_t nxdomain;         /* lookups answered "no such name" or "no address" */
    uint32_t timeouts;         /* lookups that ran out of tries */
    uint32_t server_errors;    /* SERVFAIL/REFUSED/other rcode responses */
    uint32_t cache_hits;
    uint32_t cache_misses;
    uint32_t cache_evictions;  /* entries dropped for a new one (cache full) */
    uint32_t cache_expired;    /* entries dropped at their TTL */
    uint32_t nomem;            /* queries or cache entries not allocated */
    uint32_t drop_source;      /* not from a server this query was sent to, or not port 53 */
    uint32_t drop_short;       /* shorter than the 12-byte header */
    uint32_t drop_id;          /* wrong transaction id */
    uint32_t drop_not_response;/* QR clear, or opcode not QUERY */
    uint32_t drop_truncated;   /* TC set: the server cut the answer */
    uint32_t drop_question;    /* QDCOUNT not 1, or not our name, type or class */
    uint32_t drop_pointer_loop;    /* compression pointer into the name being read (a loop) */
    uint32_t drop_pointer_forward; /* compression pointer to a later offset */
    uint32_t drop_pointer_outside; /* compression pointer into the header or past the end */
    uint32_t drop_label;       /* label length over 63 (reserved label types 01/10) */
    uint32_t drop_name_long;   /* name over 255 bytes */
    uint32_t drop_record;      /* name or record running past the end: counts that lie */
    uint32_t drop_rdata;       /* RDLENGTH past the end, or an A record not 4 bytes */
} tern_dns_stats_t;

/* Completion of a lookup: result TERN_OK with addr, or an error (above).
 * name is the name asked for, valid during the call. Called with the core
 * lock held; the callback may start new lookups. */
typedef void (*tern_dns_found_fn)(struct tern_stack *stack, void *ctx, const char *name, int result,
                                  tern_ip4_t addr);

/* Start the client. TERN_ERR_STATE if already started, TERN_ERR_NOMEM. */
int tern_dns_start(struct tern_stack *stack);
/* Free everything; pending lookups complete with TERN_ERR_CLOSED. */
void tern_dns_stop(struct tern_stack *stack);

/* Use these servers (copied, at most TERN_DNS_MAX_SERVERS; n 0 goes back
 * to the DHCP-learned ones). TERN_ERR_STATE when not started,
 * TERN_ERR_INVAL for a bad address or too many. */
int tern_dns_set_servers(struct tern_stack *stack, const tern_ip4_t *servers, unsigned n);
/* The servers a query would use now (static, else from DHCP); returns the
 * count (0 when not started), fills at most max. */
unsigned tern_dns_get_servers(const struct tern_stack *stack, tern_ip4_t *out, unsigned max);

/* Non-blocking lookup of name's IPv4 address.
 *   TERN_OK               *addr set: name is a dotted quad, or cached
 *   TERN_ERR_INPROGRESS   a query runs; fn (if not NULL) is called once
 *                         when it completes
 *   TERN_ERR_INVAL        bad name (empty label, label over 63, name over
 *                         253, a byte outside printable ASCII)
 *   TERN_ERR_STATE        not started, or no server known
 *   TERN_ERR_NOMEM        no memory for the query, or TERN_DNS_MAX_QUERIES
 *                         already running
 * Start-and-poll (no OS, no callback): call with fn NULL again and again. The
 * first call starts a query; later calls for the same name return
 * TERN_ERR_INPROGRESS while it runs, then its result once (TERN_OK with
 * *addr, or its error), after which the query is freed. An uncollected
 * result is freed TERN_DNS_RESULT_HOLD_MS after completion. */
int tern_dns_lookup(struct tern_stack *stack, const char *name, tern_ip4_t *addr, tern_dns_found_fn fn, void *ctx);
/* Cancel every pending lookup with this callback and context (fn is not
 * called for them). */
void tern_dns_cancel(struct tern_stack *stack, tern_dns_found_fn fn, void *ctx);

#if TERN_OS
/* Blocking lookup for threads: takes the core lock (port->lock) itself and
 * waits with port->wait. timeout_ms 0: until the query completes (it always
 * does, after TERN_DNS_MAX_TRIES). Results as above, or TERN_ERR_TIMEOUT;
 * TERN_ERR_NOTSUP when the port has no wait hook. */
int tern_dns_resolve(struct tern_stack *stack, const char *name, tern_ip4_t *addr, uint32_t timeout_ms);
#endif

#if TERN_IPV6
/* IPv6 (TERN_IPV6 builds): AAAA lookups (RFC 3596) and servers reached
 * over IPv6. The servers a query rotates over are the IPv4 ones (above)
 * followed by the IPv6 ones: those given with tern_dns_set_servers6 when
 * either list was set by hand, else the DHCP ones and those learnt from
 * Router Advertisements (RDNSS, RFC 8106). Either record type may be asked
 * of a server of either family. Queries in flight and cache entries share
 * the bounds above (TERN_DNS_MAX_QUERIES, TERN_DNS_CACHE_ENTRIES). */

/* Completion of a family-aware lookup: addr (family, addr or addr6, port
 * 0) is valid during the call when result is TERN_OK, else NULL. */
typedef void (*tern_dns_found_addr_fn)(struct tern_stack *stack, void *ctx, const char *name, int result,
                                       const tern_sockaddr_t *addr);

/* Static IPv6 servers (copied, at most TERN_DNS_MAX_SERVERS; n 0 clears
 * them). TERN_ERR_STATE when not started, TERN_ERR_INVAL for ::, a group
 * or too many. */
int tern_dns_set_servers6(struct tern_stack *stack, const tern_ip6_t *servers, unsigned n);
/* The IPv6 servers a query would use now (static, else RDNSS): the count,
 * at most max filled. */
unsigned tern_dns_get_servers6(const struct tern_stack *stack, tern_ip6_t *out, unsigned max);

/* tern_dns_lookup for either family: family TERN_FAMILY_IP4 asks for an A
 * record, TERN_FAMILY_IP6 for an AAAA record; *addr gets the family and the
 * address (port 0). Results and the start-and-poll form as
 * tern_dns_lookup; a dotted quad is answered at once for TERN_FAMILY_IP4,
 * and a name holding ':' (an IPv6 literal: not parsed) is TERN_ERR_INVAL.
 * TERN_ERR_INVAL for another family. tern_dns_lookup is this with
 * TERN_FAMILY_IP4. */
int tern_dns_lookup_addr(struct tern_stack *stack, const char *name, uint8_t family, tern_sockaddr_t *addr,
                         tern_dns_found_addr_fn fn, void *ctx);
/* Cancel every pending family-aware lookup with this callback and context. */
void tern_dns_cancel_addr(struct tern_stack *stack, tern_dns_found_addr_fn fn, void *ctx);
#if TERN_OS
/* Blocking form of tern_dns_lookup_addr (as tern_dns_resolve). */
int tern_dns_resolve_addr(struct tern_stack *stack, const char *name, uint8_t family, tern_sockaddr_t *addr,
                          uint32_t timeout_ms);
#endif
#endif /* TERN_IPV6 */

/* Drop every cache entry. */
void tern_dns_cache_flush(struct tern_stack *stack);
/* Number of cache entries (0 when not started). */
unsigned tern_dns_cache_count(const struct tern_stack *stack);

/* A pending query as seen from outside (console, tests, fuzzing). */
typedef struct tern_dns_query_info {
    const char *name;
    uint16_t id;         /* transaction id on the wire */
    uint16_t port;       /* our source port */
    tern_ip4_t server;   /* server of the latest transmission (0: none, or over IPv6) */
#if TERN_IPV6
    tern_sockaddr_t server_addr; /* the same, either family */
    uint8_t family;      /* TERN_FAMILY_IP6: an AAAA query */
#endif
    unsigned tries;      /* transmissions so far */
    int done;            /* completed, result held for a poller */
} tern_dns_query_info_t;
/* The nth pending query (0-based): TERN_OK, or TERN_ERR_INVAL past the last. */
int tern_dns_query_info(const struct tern_stack *stack, unsigned n, tern_dns_query_info_t *out);

/* The counters, or NULL when not started. */
const tern_dns_stats_t *tern_dns_stats(const struct tern_stack *stack);
/* One line: servers, queries, cache use and drops ("dns: stopped"). */
void tern_dns_report_text(const struct tern_stack *stack, tern_writer_fn write, void *ctx);

#endif
