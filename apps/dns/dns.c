/* DNS client (RFC 1035): A lookups over UDP, a bounded TTL cache, retries
 * rotating over the servers, and a response parser that treats every byte
 * as hostile (the NAME:WRECK and AMNESIA:33 bug classes: docs/dhcp_dns.md).
 *
 * Memory (all DNS_CACHE, owner 0): the client struct from start to stop;
 * one block per running query (its UDP pcb and its name), freed when it
 * completes; one block per cache entry, freed at its TTL or on eviction. */
#include "tern/dns.h"

#include <string.h>
#include "util/fmt.h"
#include "util/time.h"
#include "util/wire.h"
#include "tern/dhcp.h"
#include "tern/ipv6.h"
#include "tern/stack.h"
#include "tern/udp.h"
#include "dns_state.h"
#include "tern/plan.h"

/* The sizes of the client's allocations, for the planner (tern/plan.h). */
TERN_PLAN_SIZE(dns_state, sizeof(struct tern_dns));
TERN_PLAN_SIZE(dns_query, sizeof(struct dns_query));
TERN_PLAN_SIZE(dns_entry, sizeof(struct dns_cache_entry));
/* Static-only build: the state, the queries in flight and the cache, each
 * slot for the longest name (tern/plan.h's formulas). */
TERN_STATIC_POOL_APP(dns_state, "DNS_CACHE", sizeof(struct tern_dns), 1);
TERN_STATIC_POOL_APP(dns_query, "DNS_CACHE", TERN_PLAN_DNS_QUERY(sizeof(struct dns_query), (size_t)TERN_DNS_NAME_MAX),
                     TERN_DNS_MAX_QUERIES);
#if TERN_DNS_CACHE_ENTRIES > 0
TERN_STATIC_POOL_APP(dns_entry, "DNS_CACHE", TERN_PLAN_DNS_ENTRY(sizeof(struct dns_cache_entry), TERN_DNS_NAME_MAX),
                     TERN_DNS_CACHE_ENTRIES);
#endif

#define DNS_PORT 53u
#define DNS_SERVICE_NAME "dns" /* the client's state is this registered service's */
#define DNS_MEM_NAME "DNS_CACHE" /* its ledger category (docs/memory.md) */
#define DNS_HDR_LEN 12u
#define DNS_WIRE_MAX 255u       /* RFC 1035 2.3.4: a name on the wire */
#define DNS_LABEL_MAX 63u
#define DNS_TYPE_A 1u
#define DNS_TYPE_CNAME 5u
#define DNS_TYPE_AAAA 28u       /* RFC 3596 2.1 */
#define DNS_CLASS_IN 1u
#define DNS_FLAG_QR 0x8000u
#define DNS_FLAG_TC 0x0200u
#define DNS_FLAG_RD 0x0100u
#define DNS_RCODE_NXDOMAIN 3u
#define DNS_CNAME_MAX 8u        /* CNAME links followed in one response */
#define DNS_JUMPS_MAX 128u      /* compression pointers followed in one name */

/* Why a name could not be read (each has its counter). */
enum dns_name_err { NAME_OK = 0, NAME_TRUNC, NAME_LOOP, NAME_FORWARD, NAME_OUTSIDE, NAME_LABEL, NAME_LONG };

/* The running client: the stack knows it only as a registered service. */
static struct tern_dns *dns_of(const tern_stack_t *stack)
{
    /* NULL when stack is NULL, or the client is not running. */
    tern_service_t *svc = tern_stack_find_service(stack, DNS_SERVICE_NAME);
    return svc != NULL ? (struct tern_dns *)svc->ctx : NULL;
}

static uint8_t dns_lower_byte(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/* ---- names ---------------------------------------------------------------- */

/* Check a dotted name and write its wire form (lower case) into wire:
 * returns the wire length, or 0 when the name is unusable. One trailing dot
 * is allowed; empty labels, labels over 63 bytes, names over 253 characters
 * and bytes outside printable ASCII are not. */
static size_t dns_name_encode(const char *name, uint8_t wire[DNS_WIRE_MAX], size_t *dotted_len)
{
    size_t len = 0;
    while (len <= TERN_DNS_NAME_MAX + 1u && name[len] != '\0')
        len++;
    if (len > 0u && name[len - 1u] == '.')
        len--;
    if (len == 0u || len > TERN_DNS_NAME_MAX)
        return 0;
    size_t n = 0, label = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            size_t l = i - label;
            if (l == 0u || l > DNS_LABEL_MAX)
                return 0;
            wire[n++] = (uint8_t)l;
            for (size_t k = label; k < i; k++)
                wire[n++] = dns_lower_byte((uint8_t)name[k]);
            label = i + 1u;
            continue;
        }
        uint8_t c = (uint8_t)name[i];
        if (c <= 0x20u || c >= 0x7Fu)
            return 0;
    }
    wire[n++] = 0;
    *dotted_len = len;
    return n; /* at most 253 + 2 = 255 */
}

/* Read the possibly compressed name at *pos (RFC 1035 4.1.4) into out as an
 * uncompressed wire name in lower case (out_len bytes, at most 255), and
 * move *pos past the name as it sits there. Every pointer must go strictly
 * backwards, to before the run of labels being read, so the walk always
 * ends; it may not land in the header or past the end. Nothing is read
 * before its bounds check. */
static enum dns_name_err dns_name_read(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out, size_t *out_len)
{
    size_t p = *pos;
    size_t limit = p; /* a pointer must land below this */
    size_t end = 0;   /* where the name ends in place: after the first pointer */
    size_t n = 0;
    unsigned jumps = 0;
    for (;;) {
        if (p >= len)
            return NAME_TRUNC;
        uint8_t c = msg[p];
        if ((c & 0xC0u) == 0xC0u) {
            if (len - p < 2u)
                return NAME_TRUNC;
            size_t target = ((size_t)(c & 0x3Fu) << 8) | msg[p + 1u];
            if (end == 0u)
                end = p + 2u;
            if (target < DNS_HDR_LEN || target >= len)
                return NAME_OUTSIDE;
            if (target > p)
                return NAME_FORWARD;
            if (target >= limit || ++jumps > DNS_JUMPS_MAX)
                return NAME_LOOP;
            limit = target;
            p = target;
            continue;
        }
        if (c > DNS_LABEL_MAX)
            return NAME_LABEL; /* 01 and 10 prefixes: extended/reserved label types */
        if (c == 0u) {
            out[n++] = 0;
            p++;
            break;
        }
        if (len - p - 1u < c)
            return NAME_TRUNC; /* the label runs past the end */
        if (n + 1u + c + 1u > DNS_WIRE_MAX)
            return NAME_LONG;  /* with the root byte still to come */
        out[n++] = c;
        for (size_t k = 0; k < c; k++)
            out[n++] = dns_lower_byte(msg[p + 1u + k]);
        p += 1u + c;
    }
    *pos = end != 0u ? end : p;
    *out_len = n;
    return NAME_OK;
}

static uint32_t *dns_name_counter(tern_dns_stats_t *s, enum dns_name_err e)
{
    switch (e) {
    case NAME_LOOP:
        return &s->drop_pointer_loop;
    case NAME_FORWARD:
        return &s->drop_pointer_forward;
    case NAME_OUTSIDE:
        return &s->drop_pointer_outside;
    case NAME_LABEL:
        return &s->drop_label;
    case NAME_LONG:
        return &s->drop_name_long;
    default:
        return &s->drop_record;
    }
}

/* ---- the cache ---------------------------------------------------------------- */

static void dns_cache_remove(struct tern_dns *dns, struct dns_cache_entry **pp)
{
    struct dns_cache_entry *e = *pp;
    *pp = e->next;
    dns->ncache--;
    tern_mem_free(&dns->stack->ledger, e);
}

/* The record type a query asks for: AAAA for TERN_FAMILY_IP6. */
static uint16_t dns_qtype(unsigned family)
{
#if TERN_IPV6
    if (family == TERN_FAMILY_IP6)
        return DNS_TYPE_AAAA;
#endif
    (void)family;
    return DNS_TYPE_A;
}

static unsigned dns_entry_family(const struct dns_cache_entry *e)
{
#if TERN_IPV6
    return e->family;
#else
    (void)e;
    return TERN_FAMILY_IP4;
#endif
}

static unsigned dns_query_family(const struct dns_query *q)
{
#if TERN_IPV6
    return q->family;
#else
    (void)q;
    return TERN_FAMILY_IP4;
#endif
}

static struct dns_cache_entry *dns_cache_find(struct tern_dns *dns, const char *name, unsigned family, uint32_t now)
{
    for (struct dns_cache_entry **pp = &dns->cache; *pp != NULL; pp = &(*pp)->next) {
        struct dns_cache_entry *e = *pp;
        if (dns_entry_family(e) != family || strcmp(e->name, name) != 0)
            continue;
        if (net_time_reached(now, e->expires)) {
            dns->stats.cache_expired++;
            dns_cache_remove(dns, pp);
            return NULL;
        }
        return e;
    }
    return NULL;
}

static const char *dns_query_name(const struct dns_query *q);

/* Cache q's answer (addr, or q->addr6 for an AAAA query). */
static void dns_cache_put(struct tern_dns *dns, const struct dns_query *q, tern_ip4_t addr, uint32_t ttl_s,
                          uint32_t now)
{
    const char *name = dns_query_name(q);
    /* RFC 1035 3.2.1: a zero TTL is for this transaction only. */
    if (ttl_s == 0u || TERN_DNS_CACHE_ENTRIES == 0)
        return;
    if (ttl_s > TERN_DNS_CACHE_MAX_TTL_S)
        ttl_s = TERN_DNS_CACHE_MAX_TTL_S;
    uint32_t expires = now + ttl_s * 1000u;
    struct dns_cache_entry *e = dns_cache_find(dns, name, dns_query_family(q), now);
    if (e != NULL) {
        e->addr = addr;
#if TERN_IPV6
        e->addr6 = q->addr6;
#endif
        e->expires = expires;
        return;
    }
    if (dns->ncache >= TERN_DNS_CACHE_ENTRIES && dns->cache != NULL) {
        /* Full: the entry closest to expiry makes room. */
        struct dns_cache_entry **victim = &dns->cache;
        for (struct dns_cache_entry **pp = &dns->cache; *pp != NULL; pp = &(*pp)->next)
            if ((int32_t)((*pp)->expires - (*victim)->expires) < 0)
                victim = pp;
        dns->stats.cache_evictions++;
        dns_cache_remove(dns, victim);
    }
    size_t nl = strlen(name) + 1u;
    e = tern_mem_alloc(&dns->stack->ledger, sizeof *e + nl, (tern_mem_category_t)dns->mem_cat, TERN_OWNER_STACK);
    if (e == NULL) {
        dns->stats.nomem++;
        return;
    }
    e->addr = addr;
#if TERN_IPV6
    e->addr6 = q->addr6;
    e->family = q->family;
#endif
    e->expires = expires;
    memcpy(e->name, name, nl);
    e->next = dns->cache;
    dns->cache = e;
    dns->ncache++;
}

/* ---- queries --------------------------------------------------------------------- */

static const char *dns_query_name(const struct dns_query *q)
{
    return (const char *)q->data + q->wire_len;
}

static unsigned dns_servers(const struct tern_dns *dns, tern_ip4_t *out, unsigned max)
{
    if (dns->nservers != 0u) {
        unsigned n = dns->nservers < max ? dns->nservers : max;
        memcpy(out, dns->servers, n * sizeof *out);
        return dns->nservers;
    }
    tern_dhcp_info_t in;
    if (tern_dhcp_get_info(dns->stack, &in) != TERN_OK || in.state < TERN_DHCP_BOUND ||
        in.state > TERN_DHCP_REBINDING)
        return 0;
    unsigned n = in.dns_count < max ? in.dns_count : max;
    memcpy(out, in.dns, n * sizeof *out);
    return in.dns_count;
}

#if TERN_IPV6
static int dns_ip6_usable(const tern_ip6_t *a)
{
    static const tern_ip6_t any = {{0}};
    return memcmp(a, &any, sizeof any) != 0 && a->b[0] != 0xFFu;
}

/* The IPv6 servers: static when either list was set by hand, else RDNSS. */
static unsigned dns_servers6(const struct tern_dns *dns, tern_ip6_t *out, unsigned max)
{
    if (dns->nservers != 0u || dns->nservers6 != 0u) {
        unsigned n = dns->nservers6 < max ? dns->nservers6 : max;
        memcpy(out, dns->servers6, n * sizeof *out);
        return n;
    }
    unsigned n = 0;
    tern_ip6_t a;
    while (n < max && tern_ipv6_dns_server(dns->stack, n, &a) == TERN_OK)
        out[n++] = a;
    return n;
}
#endif

/* Every server a query rotates over: IPv4 first (at most max). */
static unsigned dns_servers_all(const struct tern_dns *dns, dns_server_t *out, unsigned max)
{
#if TERN_IPV6
    tern_ip4_t v4[TERN_DNS_MAX_SERVERS];
    unsigned n4 = dns_servers(dns, v4, TERN_DNS_MAX_SERVERS);
    if (n4 > TERN_DNS_MAX_SERVERS)
        n4 = TERN_DNS_MAX_SERVERS;
    unsigned n = 0;
    for (unsigned i = 0; i < n4 && n < max; i++)
        out[n++] = (tern_sockaddr_t){.addr = v4[i], .port = DNS_PORT, .family = TERN_FAMILY_IP4};
    tern_ip6_t v6[TERN_DNS_MAX_SERVERS];
    unsigned n6 = dns_servers6(dns, v6, TERN_DNS_MAX_SERVERS);
    for (unsigned i = 0; i < n6 && n < max; i++)
        out[n++] = (tern_sockaddr_t){.addr6 = v6[i], .port = DNS_PORT, .family = TERN_FAMILY_IP6};
    return n;
#else
    unsigned n = dns_servers(dns, out, max);
    return n < max ? n : max;
#endif
}

/* A datagram from `from` answers a transmission to server. */
static int dns_server_is(const dns_server_t *server, const tern_sockaddr_t *from)
{
#if TERN_IPV6
    if (server->family != from->family)
        return 0;
    if (server->family == TERN_FAMILY_IP6)
        return memcmp(&server->addr6, &from->addr6, sizeof server->addr6) == 0;
    return server->addr == from->addr;
#else
    return *server == from->addr;
#endif
}

/* A callback is set (else the result waits for a poller). */
static int dns_has_cb(const struct dns_query *q)
{
#if TERN_IPV6
    if (q->fn_addr != NULL)
        return 1;
#endif
    return q->fn != NULL;
}

static void dns_query_free(struct tern_dns *dns, struct dns_query *q)
{
    for (struct dns_query **pp = &dns->queries; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    }
    tern_udp_unbind(dns->stack, &q->pcb);
    dns->nqueries--;
    tern_mem_free(&dns->stack->ledger, q);
}

/* The query is over. With a callback it is freed after the call; without,
 * its result waits for the poller. Returns 1 when the client may have
 * changed under the caller (a callback ran). */
static int dns_complete(struct tern_dns *dns, struct dns_query *q, int result, tern_ip4_t addr, uint32_t now)
{
    tern_stack_t *stack = dns->stack;
    tern_dns_stats_t *s = &dns->stats;
    if (result == TERN_OK)
        s->answers++;
    else if (result == TERN_ERR_NOTFOUND)
        s->nxdomain++;
    else if (result == TERN_ERR_TIMEOUT)
        s->timeouts++;
    tern_udp_unbind(stack, &q->pcb); /* nothing more to hear */
    if (!dns_has_cb(q)) {
        q->done = 1;
        q->result = result;
        q->addr = addr;
        q->armed = 1;
        q->deadline = now + TERN_DNS_RESULT_HOLD_MS;
        return 0;
    }
    tern_dns_found_fn fn = q->fn;
    void *ctx = q->ctx;
    /* Unlinked before the call: the callback may start lookups or stop the
     * client; the name stays valid until the block is freed below. */
    for (struct dns_query **pp = &dns->queries; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    }
    dns->nqueries--;
#if TERN_IPV6
    if (q->fn_addr != NULL) {
        tern_sockaddr_t sa = {.addr = addr, .port = 0, .family = q->family};
        if (q->family == TERN_FAMILY_IP6) {
            sa.addr = 0;
            sa.addr6 = q->addr6;
        }
        q->fn_addr(stack, ctx, dns_query_name(q), result, result == TERN_OK ? &sa : NULL);
    } else
#endif
        fn(stack, ctx, dns_query_name(q), result, addr);
    tern_mem_free(&stack->ledger, q);
    if (stack->port->wake_all != NULL)
        stack->port->wake_all(stack->port->ctx);
    return 1;
}

static uint32_t dns_try_timeout(const struct dns_query *q, unsigned nservers)
{
    unsigned round = nservers != 0u ? (q->tries > 0u ? q->tries - 1u : 0u) / nservers : 0u;
    return TERN_DNS_RETRY_MS << (round < 3u ? round : 3u);
}

/* Send the next transmission of q: the next server in turn. Returns 1 when
 * the query completed instead (no server left). */
static int dns_transmit(struct tern_dns *dns, struct dns_query *q, uint32_t now, int armed)
{
    tern_stack_t *stack = dns->stack;
    dns_server_t servers[2u * TERN_DNS_MAX_SERVERS];
    unsigned n = dns_servers_all(dns, servers, 2u * TERN_DNS_MAX_SERVERS);
    if (n == 0u)
        return dns_complete(dns, q, TERN_ERR_STATE, 0, now);
    dns_server_t server = servers[q->tries % n];
    q->asked[q->tries] = server;
    q->tries++;
    q->armed = (uint8_t)armed;
    q->deadline = now + dns_try_timeout(q, n);
    size_t len = DNS_HDR_LEN + q->wire_len + 4u;
    tern_netbuf_t *nb = tern_udp_netbuf_get(stack, len, 0);
    if (nb == NULL) {
        dns->stats.tx_err++;
        return 0; /* the timer retries */
    }
    uint8_t *p = nb->data;
    memset(p, 0, DNS_HDR_LEN);
    wire_wr16(p, q->id);
    wire_wr16(p + 2, DNS_FLAG_RD);
    wire_wr16(p + 4, 1); /* QDCOUNT */
    memcpy(p + DNS_HDR_LEN, q->data, q->wire_len);
    wire_wr16(p + DNS_HDR_LEN + q->wire_len, dns_qtype(dns_query_family(q)));
    wire_wr16(p + DNS_HDR_LEN + q->wire_len + 2u, DNS_CLASS_IN);
#if TERN_IPV6
    tern_sockaddr_t to = server;
#else
    tern_sockaddr_t to = {.addr = server, .port = DNS_PORT};
#endif
    if (tern_udp_sendto(stack, &q->pcb, nb, &to) != TERN_OK) {
        dns->stats.tx_err++;
        return 0;
    }
    dns->stats.tx++;
    return 0;
}

/* This try failed at once (the server refused, or cut its answer): ask the
 * next server now, or end the query when no try is left. */
static void dns_retry_now(struct tern_dns *dns, struct dns_query *q, uint32_t now)
{
    if (q->tries >= TERN_DNS_MAX_TRIES) {
        (void)dns_complete(dns, q, q->truncated ? TERN_ERR_MSGSIZE : TERN_ERR_REFUSED, 0, now);
        return;
    }
    dns->stats.retries++;
    (void)dns_transmit(dns, q, now, 1);
}

/* ---- responses ---------------------------------------------------------------------- */

enum dns_verdict { DNS_DROP = 0, DNS_ANSWER, DNS_NOTFOUND, DNS_SERVER_ERROR, DNS_TRUNCATED };

/* Everything after the question: ANCOUNT records, each checked for bounds
 * before use. The A (or AAAA) record for the query name, following CNAMEs,
 * gives *addr (or addr6: 16 bytes) and *ttl (the smallest TTL along the
 * chain). Records of the other address type are skipped. scratch: 255
 * bytes. */
static enum dns_verdict dns_parse_answers(tern_dns_stats_t *s, const struct dns_query *q, const uint8_t *msg,
                                          size_t len, size_t start, unsigned ancount, tern_ip4_t *addr,
                                          uint8_t *addr6, uint32_t *ttl, uint8_t *scratch)
{
    const uint16_t want = dns_qtype(dns_query_family(q));
    const uint16_t want_len = want == DNS_TYPE_A ? 4u : 16u;
    uint8_t name[DNS_WIRE_MAX]; /* the name whose address we want */
    size_t name_len = q->wire_len, owner_len = 0;
    memcpy(name, q->data, name_len);
    uint32_t chain_ttl = UINT32_MAX;
    /* Pass 0 validates every record; later passes follow the chain, one
     * CNAME link per pass at most, so order in the message does not matter
     * and a CNAME loop ends at DNS_CNAME_MAX links. */
    for (unsigned pass = 0; pass <= DNS_CNAME_MAX + 1u; pass++) {
        size_t pos = start;
        int moved = 0;
        for (unsigned i = 0; i < ancount; i++) {
            enum dns_name_err e = dns_name_read(msg, len, &pos, scratch, &owner_len);
            if (e != NAME_OK) {
                (*dns_name_counter(s, e))++;
                return DNS_DROP;
            }
            if (len - pos < 10u) {
                s->drop_record++; /* the count promised more than is there */
                return DNS_DROP;
            }
            uint16_t type = wire_rd16(msg + pos), cls = wire_rd16(msg + pos + 2u);
            uint32_t rttl = wire_rd32(msg + pos + 4u);
            uint16_t rdlen = wire_rd16(msg + pos + 8u);
            pos += 10u;
            if (rdlen > len - pos) {
                s->drop_rdata++;
                return DNS_DROP;
            }
            size_t rdata = pos;
            pos += rdlen;
            if (rttl > 0x7FFFFFFFu)
                rttl = 0; /* RFC 2181 8: the top bit set means zero */
            if (cls != DNS_CLASS_IN || (type != want && type != DNS_TYPE_CNAME))
                continue;
            if (type == want && rdlen != want_len) {
                s->drop_rdata++;
                return DNS_DROP;
            }
            int match = pass != 0u && !moved && owner_len == name_len && memcmp(scratch, name, name_len) == 0;
            if (type == DNS_TYPE_CNAME) {
                /* The target must lie within the RDATA (its pointers may
                 * still reach back into the message). Read into name when
                 * we follow it, else just check it. */
                size_t tp = rdata, target_len = 0;
                e = dns_name_read(msg, rdata + rdlen, &tp, match ? name : scratch, &target_len);
                if (e != NAME_OK) {
                    (*dns_name_counter(s, e))++;
                    return DNS_DROP;
                }
                if (match) {
                    name_len = target_len;
                    moved = 1;
                    if (rttl < chain_ttl)
                        chain_ttl = rttl;
                }
                continue;
            }
            if (match) {
                if (want == DNS_TYPE_A)
                    *addr = wire_rd32(msg + rdata);
                else
                    memcpy(addr6, msg + rdata, 16u);
                *ttl = rttl < chain_ttl ? rttl : chain_ttl;
                return DNS_ANSWER;
            }
        }
        if (pass > 0u && !moved)
            break; /* the chain ends without an address */
    }
    return DNS_NOTFOUND;
}

static enum dns_verdict dns_parse(tern_dns_stats_t *s, const struct dns_query *q, const uint8_t *msg, size_t len,
                                  const tern_udp_rx_info_t *info, tern_ip4_t *addr, uint8_t *addr6, uint32_t *ttl)
{
    /* RFC 5452 9.1: source address and port, id and question must all match. */
    int asked = 0;
    for (unsigned i = 0; i < q->tries && i < TERN_DNS_MAX_TRIES; i++)
        if (dns_server_is(&q->asked[i], &info->from))
            asked = 1;
    if (!asked || info->from.port != DNS_PORT) {
        s->drop_source++;
        return DNS_DROP;
    }
    if (len < DNS_HDR_LEN) {
        s->drop_short++;
        return DNS_DROP;
    }
    if (wire_rd16(msg) != q->id) {
        s->drop_id++;
        return DNS_DROP;
    }
    uint16_t flags = wire_rd16(msg + 2);
    if (!(flags & DNS_FLAG_QR) || ((flags >> 11) & 0x0Fu) != 0u) {
        s->drop_not_response++;
        return DNS_DROP;
    }
    if (wire_rd16(msg + 4) != 1u) {
        s->drop_question++;
        return DNS_DROP;
    }
    size_t pos = DNS_HDR_LEN;
    uint8_t qname[DNS_WIRE_MAX];
    size_t qlen = 0;
    enum dns_name_err e = dns_name_read(msg, len, &pos, qname, &qlen);
    if (e != NAME_OK) {
        (*dns_name_counter(s, e))++;
        return DNS_DROP;
    }
    if (len - pos < 4u) {
        s->drop_record++;
        return DNS_DROP;
    }
    if (qlen != q->wire_len || memcmp(qname, q->data, qlen) != 0 ||
        wire_rd16(msg + pos) != dns_qtype(dns_query_family(q)) ||
        wire_rd16(msg + pos + 2u) != DNS_CLASS_IN) {
        s->drop_question++;
        return DNS_DROP;
    }
    pos += 4u;
    if (flags & DNS_FLAG_TC) {
        /* No TCP fallback: a cut answer is no answer (RFC 1035 4.2.1). */
        s->drop_truncated++;
        return DNS_TRUNCATED;
    }
    unsigned rcode = flags & 0x0Fu;
    if (rcode == DNS_RCODE_NXDOMAIN)
        return DNS_NOTFOUND;
    if (rcode != 0u) {
        s->server_errors++;
        return DNS_SERVER_ERROR;
    }
    return dns_parse_answers(s, q, msg, len, pos, wire_rd16(msg + 6), addr, addr6, ttl, qname);
}

static void dns_recv(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
                     const tern_udp_rx_info_t *info)
{
    struct dns_query *q = ctx;
    struct tern_dns *dns = dns_of(stack);
    (void)pcb;
    tern_ip4_t addr = 0;
    uint8_t addr6[16] = {0};
    uint32_t ttl = 0;
    enum dns_verdict v = DNS_DROP;
    if (dns != NULL && !q->done) {
        dns->stats.rx++;
        v = dns_parse(&dns->stats, q, nb->data, nb->len, info, &addr, addr6, &ttl);
    }
    tern_netbuf_release(&stack->netbufs, nb);
    switch (v) {
    case DNS_ANSWER:
#if TERN_IPV6
        memcpy(q->addr6.b, addr6, sizeof addr6);
#endif
        dns_cache_put(dns, q, addr, ttl, info->now);
        (void)dns_complete(dns, q, TERN_OK, addr, info->now);
        break;
    case DNS_NOTFOUND:
        (void)dns_complete(dns, q, TERN_ERR_NOTFOUND, 0, info->now);
        break;
    case DNS_SERVER_ERROR:
        q->server_err = 1;
        dns_retry_now(dns, q, info->now);
        break;
    case DNS_TRUNCATED:
        q->truncated = 1;
        dns_retry_now(dns, q, info->now);
        break;
    default:
        break; /* keep waiting for the real answer */
    }
}

/* ---- the service ------------------------------------------------------------------ */

static uint32_t dns_poll(tern_stack_t *stack, void *ctx, uint32_t now)
{
    struct tern_dns *dns = ctx;
    uint32_t next = UINT32_MAX;
again:
    for (struct dns_query *q = dns->queries; q != NULL; q = q->next) {
        if (!q->armed) {
            q->armed = 1;
            q->deadline = now + dns_try_timeout(q, 1);
        }
        if (!net_time_reached(now, q->deadline)) {
            if (q->deadline - now < next)
                next = q->deadline - now;
            continue;
        }
        if (q->done) {
            dns_query_free(dns, q); /* nobody collected the result */
            goto again;
        }
        int ended;
        if (q->tries >= TERN_DNS_MAX_TRIES) {
            int r = q->truncated ? TERN_ERR_MSGSIZE : q->server_err ? TERN_ERR_REFUSED : TERN_ERR_TIMEOUT;
            ended = dns_complete(dns, q, r, 0, now);
        } else {
            dns->stats.retries++;
            ended = dns_transmit(dns, q, now, 1);
        }
        if (ended && dns_of(stack) != dns)
            return UINT32_MAX; /* a callback stopped the client */
        goto again; /* the list may have changed */
    }
    for (struct dns_cache_entry **pp = &dns->cache; *pp != NULL;) {
        struct dns_cache_entry *e = *pp;
        if (net_time_reached(now, e->expires)) {
            dns->stats.cache_expired++;
            dns_cache_remove(dns, pp);
            continue;
        }
        if (e->expires - now < next)
            next = e->expires - now;
        pp = &e->next;
    }
    return next;
}

/* ---- public ------------------------------------------------------------------------ */

static void dns_service_stop(tern_stack_t *stack, void *ctx);

int tern_dns_start(tern_stack_t *stack)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL)
        return TERN_ERR_INVAL;
    if (dns_of(stack) != NULL)
        return TERN_ERR_STATE; /* one client per stack */
    int cat = tern_ledger_register_category(&stack->ledger, DNS_MEM_NAME);
    if (cat < 0)
        return cat;
    struct tern_dns *dns = tern_mem_zalloc(&stack->ledger, sizeof *dns, (tern_mem_category_t)cat, TERN_OWNER_STACK);
    if (dns == NULL)
        return TERN_ERR_NOMEM;
    dns->mem_cat = (uint8_t)cat;
    dns->stack = stack;
    dns->svc.name = DNS_SERVICE_NAME;
    dns->svc.poll = dns_poll;
    dns->svc.ctx = dns;
    dns->svc.stop = dns_service_stop;
    tern_stack_add_service(stack, &dns->svc);
    return TERN_OK;
}

static void dns_service_stop(tern_stack_t *stack, void *ctx)
{
    (void)ctx;
    tern_dns_stop(stack);
}

void tern_dns_stop(tern_stack_t *stack)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dns *dns = dns_of(stack);
    if (dns == NULL)
        return;
    dns->stopping = 1;
    /* Waiters hear TERN_ERR_CLOSED; their callbacks can start nothing new
     * (lookups say TERN_ERR_STATE while stopping). */
    while (dns->queries != NULL) {
        struct dns_query *q = dns->queries;
        if (q->done || !dns_has_cb(q))
            dns_query_free(dns, q);
        else
            (void)dns_complete(dns, q, TERN_ERR_CLOSED, 0, stack->now);
    }
    tern_dns_cache_flush(stack);
    /* Unregistered last: the flush above still finds the client by name. */
    tern_stack_remove_service(stack, &dns->svc);
    tern_mem_free(&stack->ledger, dns);
}

int tern_dns_set_servers(tern_stack_t *stack, const tern_ip4_t *servers, unsigned n)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dns *dns = dns_of(stack);
    if (dns == NULL)
        return TERN_ERR_STATE;
    if (n > TERN_DNS_MAX_SERVERS || (n != 0u && servers == NULL))
        return TERN_ERR_INVAL;
    for (unsigned i = 0; i < n; i++)
        if (!tern_ip4_is_unicast_host(servers[i]))
            return TERN_ERR_INVAL;
    if (n != 0u)
        memcpy(dns->servers, servers, n * sizeof *servers);
    dns->nservers = (uint8_t)n;
    return TERN_OK;
}

unsigned tern_dns_get_servers(const tern_stack_t *stack, tern_ip4_t *out, unsigned max)
{
    TERN_CORE_LOCKED(stack);
    const struct tern_dns *dns = dns_of(stack);
    if (dns == NULL)
        return 0;
    tern_ip4_t all[TERN_DNS_MAX_SERVERS > TERN_DHCP_MAX_DNS ? TERN_DNS_MAX_SERVERS : TERN_DHCP_MAX_DNS];
    unsigned n = dns_servers(dns, all, sizeof all / sizeof all[0]);
    if (out != NULL)
        memcpy(out, all, (n < max ? n : max) * sizeof *out);
    return n;
}

/* Where a lookup's result goes: fn (IPv4 form) or fn_addr (either
 * family), and for an immediate or polled result *addr / *addr6. */
typedef struct dns_req {
    unsigned family;
    tern_ip4_t *addr;
#if TERN_IPV6
    tern_ip6_t *addr6;
    tern_dns_found_addr_fn fn_addr;
#endif
    tern_dns_found_fn fn;
    void *ctx;
} dns_req_t;

static void dns_req_give(const dns_req_t *r, tern_ip4_t addr, const tern_ip6_t *addr6)
{
    if (r->addr != NULL)
        *r->addr = addr;
#if TERN_IPV6
    if (r->addr6 != NULL && addr6 != NULL)
        *r->addr6 = *addr6;
#else
    (void)addr6;
#endif
}

static int dns_lookup(tern_stack_t *stack, const char *name, const dns_req_t *req)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || name == NULL)
        return TERN_ERR_INVAL;
    struct tern_dns *dns = dns_of(stack);
    if (dns == NULL || dns->stopping)
        return TERN_ERR_STATE;
    int has_cb = req->fn != NULL;
#if TERN_IPV6
    has_cb = has_cb || req->fn_addr != NULL;
#endif
    tern_ip4_t literal;
    if (req->family == TERN_FAMILY_IP4 && tern_ip4_from_str(name, &literal) == TERN_OK) {
        dns_req_give(req, literal, NULL);
        return TERN_OK;
    }
    for (size_t i = 0; name[i] != '\0'; i++)
        if (name[i] == ':')
            return TERN_ERR_INVAL; /* an IPv6 literal: not a name */
    uint8_t wire[DNS_WIRE_MAX];
    size_t dotted = 0;
    size_t wire_len = dns_name_encode(name, wire, &dotted);
    if (wire_len == 0u)
        return TERN_ERR_INVAL;
    /* Names are kept as bytes (lower case ASCII, validated above): no
     * sign conversions on char. */
    uint8_t lower_b[TERN_DNS_NAME_MAX + 1u];
    for (size_t i = 0; i < dotted; i++)
        lower_b[i] = dns_lower_byte((uint8_t)name[i]);
    lower_b[dotted] = 0;
    const char *lower = (const char *)lower_b;
    if (!has_cb) {
        /* Start-and-poll: the running (or finished) query for this name. */
        for (struct dns_query *q = dns->queries; q != NULL; q = q->next) {
            if (dns_has_cb(q) || dns_query_family(q) != req->family || strcmp(dns_query_name(q), lower) != 0)
                continue;
            if (!q->done)
                return TERN_ERR_INPROGRESS;
            int r = q->result;
            if (r == TERN_OK) {
#if TERN_IPV6
                dns_req_give(req, q->addr, &q->addr6);
#else
                dns_req_give(req, q->addr, NULL);
#endif
            }
            dns_query_free(dns, q);
            return r;
        }
    }
    struct dns_cache_entry *e = dns_cache_find(dns, lower, req->family, stack->now);
    if (e != NULL) {
        dns->stats.cache_hits++;
#if TERN_IPV6
        dns_req_give(req, e->addr, &e->addr6);
#else
        dns_req_give(req, e->addr, NULL);
#endif
        return TERN_OK;
    }
    dns_server_t servers[2u * TERN_DNS_MAX_SERVERS];
    if (dns_servers_all(dns, servers, 2u * TERN_DNS_MAX_SERVERS) == 0u)
        return TERN_ERR_STATE;
    dns->stats.cache_misses++;
    if (dns->nqueries >= TERN_DNS_MAX_QUERIES) {
        dns->stats.nomem++;
        return TERN_ERR_NOMEM;
    }
    struct dns_query *q = tern_mem_zalloc(&stack->ledger, sizeof *q + wire_len + dotted + 1u,
                                          (tern_mem_category_t)dns->mem_cat, TERN_OWNER_STACK);
    if (q == NULL) {
        dns->stats.nomem++;
        return TERN_ERR_NOMEM;
    }
    memcpy(q->data, wire, wire_len);
    memcpy(q->data + wire_len, lower, dotted + 1u);
    q->wire_len = (uint8_t)wire_len;
    q->fn = req->fn;
    q->ctx = req->ctx;
#if TERN_IPV6
    q->fn_addr = req->fn_addr;
    q->family = (uint8_t)req->family;
#endif
    /* RFC 5452: a random id and a fresh random source port per query. */
    q->id = (uint16_t)stack->port->random32(stack->port->ctx);
    tern_udp_pcb_init(&q->pcb, dns_recv, q);
#if TERN_IPV6
    /* :: takes answers over both families (dual-stack pcb). */
    tern_sockaddr_t local = {.addr = 0, .port = 0, .family = TERN_FAMILY_IP6};
#else
    tern_sockaddr_t local = {.addr = 0, .port = 0};
#endif
    int r = tern_udp_bind(stack, &q->pcb, &local);
    if (r != TERN_OK) {
        tern_mem_free(&stack->ledger, q);
        return r;
    }
    q->next = dns->queries;
    dns->queries = q;
    dns->nqueries++;
    dns->stats.queries++;
    /* The first try goes now; its timer starts at the next poll, which has
     * the current time (stack->now may be a poll interval old here). */
    (void)dns_transmit(dns, q, stack->now, 0);
    return TERN_ERR_INPROGRESS;
}

int tern_dns_lookup(tern_stack_t *stack, const char *name, tern_ip4_t *addr, tern_dns_found_fn fn, void *ctx)
{
    dns_req_t req = {.family = TERN_FAMILY_IP4, .addr = addr, .fn = fn, .ctx = ctx};
    return dns_lookup(stack, name, &req);
}

#if TERN_IPV6
int tern_dns_lookup_addr(tern_stack_t *stack, const char *name, uint8_t family, tern_sockaddr_t *addr,
                         tern_dns_found_addr_fn fn, void *ctx)
{
    if (family != TERN_FAMILY_IP4 && family != TERN_FAMILY_IP6)
        return TERN_ERR_INVAL;
    tern_ip4_t a4 = 0;
    tern_ip6_t a6;
    memset(&a6, 0, sizeof a6);
    dns_req_t req = {.family = family, .addr = &a4, .addr6 = &a6, .fn_addr = fn, .ctx = ctx};
    int r = dns_lookup(stack, name, &req);
    if (r == TERN_OK && addr != NULL) {
        memset(addr, 0, sizeof *addr);
        addr->family = family;
        if (family == TERN_FAMILY_IP6)
            addr->addr6 = a6;
        else
            addr->addr = a4;
    }
    return r;
}

void tern_dns_cancel_addr(tern_stack_t *stack, tern_dns_found_addr_fn fn, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dns *dns = dns_of(stack);
    if (dns == NULL || fn == NULL)
        return;
    for (struct dns_query *q = dns->queries; q != NULL;) {
        struct dns_query *next = q->next;
        if (q->fn_addr == fn && q->ctx == ctx)
            dns_query_free(dns, q);
        q = next;
    }
}

int tern_dns_set_servers6(tern_stack_t *stack, const tern_ip6_t *servers, unsigned n)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dns *dns = dns_of(stack);
    if (dns == NULL)
        return TERN_ERR_STATE;
    if (n > TERN_DNS_MAX_SERVERS || (n != 0u && servers == NULL))
        return TERN_ERR_INVAL;
    for (unsigned i = 0; i < n; i++)
        if (!dns_ip6_usable(&servers[i]))
            return TERN_ERR_INVAL;
    if (n != 0u)
        memcpy(dns->servers6, servers, n * sizeof *servers);
    dns->nservers6 = (uint8_t)n;
    return TERN_OK;
}

unsigned tern_dns_get_servers6(const tern_stack_t *stack, tern_ip6_t *out, unsigned max)
{
    TERN_CORE_LOCKED(stack);
    const struct tern_dns *dns = dns_of(stack);
    if (dns == NULL)
        return 0;
    tern_ip6_t all[TERN_DNS_MAX_SERVERS];
    unsigned n = dns_servers6(dns, all, TERN_DNS_MAX_SERVERS);
    if (out != NULL)
        memcpy(out, all, (n < max ? n : max) * sizeof *out);
    return n;
}
#endif

void tern_dns_cancel(tern_stack_t *stack, tern_dns_found_fn fn, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dns *dns = dns_of(stack);
    if (dns == NULL)
        return;
    for (struct dns_query *q = dns->queries; q != NULL;) {
        struct dns_query *next = q->next;
        if (q->fn == fn && q->ctx == ctx)
            dns_query_free(dns, q);
        q = next;
    }
}

#if TERN_OS
typedef struct dns_waiter {
    int done;
    int result;
    tern_ip4_t addr;
#if TERN_IPV6
    tern_sockaddr_t sa;
#endif
} dns_waiter_t;

static void dns_resolve_done(tern_stack_t *stack, void *ctx, const char *name, int result, tern_ip4_t addr)
{
    dns_waiter_t *w = ctx;
    (void)stack;
    (void)name;
    w->done = 1;
    w->result = result;
    w->addr = addr;
}

/* Wait (core lock held; port->wait drops it) until w is done or timeout_ms
 * (0: no limit) passes. */
static void dns_wait(const tern_port_t *port, const dns_waiter_t *w, uint32_t timeout_ms)
{
    uint32_t start = port->now_ms != NULL ? port->now_ms(port->ctx) : 0u;
    uint32_t waited = 0;
    while (!w->done) {
        /* Wake at least once a second: a stopped client or a lost
         * wake-up costs at most that. */
        uint32_t slice = 1000u;
        if (timeout_ms != 0u) {
            if (waited >= timeout_ms)
                break;
            if (timeout_ms - waited < slice)
                slice = timeout_ms - waited;
        }
        (void)port->wait(port->ctx, slice);
        waited = port->now_ms != NULL ? port->now_ms(port->ctx) - start : waited + slice;
    }
}

int tern_dns_resolve(tern_stack_t *stack, const char *name, tern_ip4_t *addr, uint32_t timeout_ms)
{
    if (stack == NULL || name == NULL)
        return TERN_ERR_INVAL;
    const tern_port_t *port = stack->port;
    if (port->wait == NULL)
        return TERN_ERR_NOTSUP;
    if (port->lock != NULL)
        port->lock(port->ctx);
    dns_waiter_t w;
    memset(&w, 0, sizeof w);
    tern_ip4_t a = 0;
    int r = tern_dns_lookup(stack, name, &a, dns_resolve_done, &w);
    if (r == TERN_ERR_INPROGRESS) {
        dns_wait(port, &w, timeout_ms);
        if (w.done) {
            r = w.result;
            a = w.addr;
        } else {
            tern_dns_cancel(stack, dns_resolve_done, &w);
            r = TERN_ERR_TIMEOUT;
        }
    }
    if (r == TERN_OK && addr != NULL)
        *addr = a;
    if (port->unlock != NULL)
        port->unlock(port->ctx);
    return r;
}

#if TERN_IPV6
static void dns_resolve_addr_done(tern_stack_t *stack, void *ctx, const char *name, int result,
                                  const tern_sockaddr_t *addr)
{
    dns_waiter_t *w = ctx;
    (void)stack;
    (void)name;
    w->done = 1;
    w->result = result;
    if (addr != NULL)
        w->sa = *addr;
}

int tern_dns_resolve_addr(tern_stack_t *stack, const char *name, uint8_t family, tern_sockaddr_t *addr,
                          uint32_t timeout_ms)
{
    if (stack == NULL || name == NULL)
        return TERN_ERR_INVAL;
    const tern_port_t *port = stack->port;
    if (port->wait == NULL)
        return TERN_ERR_NOTSUP;
    if (port->lock != NULL)
        port->lock(port->ctx);
    dns_waiter_t w;
    memset(&w, 0, sizeof w);
    tern_sockaddr_t a;
    memset(&a, 0, sizeof a);
    int r = tern_dns_lookup_addr(stack, name, family, &a, dns_resolve_addr_done, &w);
    if (r == TERN_ERR_INPROGRESS) {
        dns_wait(port, &w, timeout_ms);
        if (w.done) {
            r = w.result;
            a = w.sa;
        } else {
            tern_dns_cancel_addr(stack, dns_resolve_addr_done, &w);
            r = TERN_ERR_TIMEOUT;
        }
    }
    if (r == TERN_OK && addr != NULL)
        *addr = a;
    if (port->unlock != NULL)
        port->unlock(port->ctx);
    return r;
}
#endif
#endif

void tern_dns_cache_flush(tern_stack_t *stack)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dns *dns = dns_of(stack);
    if (dns == NULL)
        return;
    while (dns->cache != NULL)
        dns_cache_remove(dns, &dns->cache);
}

unsigned tern_dns_cache_count(const tern_stack_t *stack)
{
    TERN_CORE_LOCKED(stack);
    const struct tern_dns *dns = dns_of(stack);
    return dns != NULL ? dns->ncache : 0u;
}

int tern_dns_query_info(const tern_stack_t *stack, unsigned n, tern_dns_query_info_t *out)
{
    TERN_CORE_LOCKED(stack);
    const struct tern_dns *dns = dns_of(stack);
    if (dns == NULL)
        return TERN_ERR_INVAL;
    for (const struct dns_query *q = dns->queries; q != NULL; q = q->next) {
        if (n-- != 0u)
            continue;
        if (out != NULL) {
            out->name = dns_query_name(q);
            out->id = q->id;
            out->port = q->pcb.local.port;
#if TERN_IPV6
            memset(&out->server_addr, 0, sizeof out->server_addr);
            if (q->tries > 0u)
                out->server_addr = q->asked[q->tries - 1u];
            out->server = out->server_addr.family == TERN_FAMILY_IP4 ? out->server_addr.addr : 0u;
            out->family = q->family;
#else
            out->server = q->tries > 0u ? q->asked[q->tries - 1u] : 0u;
#endif
            out->tries = q->tries;
            out->done = q->done;
        }
        return TERN_OK;
    }
    return TERN_ERR_INVAL;
}

const tern_dns_stats_t *tern_dns_stats(const tern_stack_t *stack)
{
    const struct tern_dns *dns = dns_of(stack);
    return dns != NULL ? &dns->stats : NULL;
}

void tern_dns_report_text(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    const struct tern_dns *dns = dns_of(stack);
    if (dns == NULL) {
        fmt_str(write, ctx, "dns: stopped\n");
        return;
    }
    const tern_dns_stats_t *s = &dns->stats;
    tern_ip4_t servers[TERN_DNS_MAX_SERVERS > TERN_DHCP_MAX_DNS ? TERN_DNS_MAX_SERVERS : TERN_DHCP_MAX_DNS];
    unsigned n = dns_servers(dns, servers, sizeof servers / sizeof servers[0]);
    if (n > sizeof servers / sizeof servers[0])
        n = sizeof servers / sizeof servers[0];
    fmt_str(write, ctx, "dns: servers");
    for (unsigned i = 0; i < n; i++) {
        char buf[16];
        (void)tern_ip4_to_str(servers[i], buf);
        fmt_str(write, ctx, i == 0u ? " " : ",");
        fmt_str(write, ctx, buf);
    }
#if TERN_IPV6
    tern_ip6_t s6[TERN_DNS_MAX_SERVERS];
    unsigned n6 = dns_servers6(dns, s6, TERN_DNS_MAX_SERVERS);
    for (unsigned i = 0; i < n6; i++) {
        char buf[40];
        (void)tern_ip6_to_str(&s6[i], buf);
        fmt_str(write, ctx, n + i == 0u ? " " : ",");
        fmt_str(write, ctx, buf);
    }
    int manual = dns->nservers != 0u || dns->nservers6 != 0u;
    unsigned n4 = n;
    n += n6;
#else
    int manual = dns->nservers != 0u;
#endif
    if (n == 0u)
        fmt_str(write, ctx, " none");
#if TERN_IPV6
    fmt_str(write, ctx, manual ? " (static)" : n6 == 0u ? (n4 != 0u ? " (dhcp)" : "") : n4 != 0u ? " (dhcp/ra)" : " (ra)");
#else
    fmt_str(write, ctx, manual ? " (static)" : n != 0u ? " (dhcp)" : "");
#endif
    uint32_t dropped = s->drop_source + s->drop_short + s->drop_id + s->drop_not_response + s->drop_truncated +
                       s->drop_question + s->drop_pointer_loop + s->drop_pointer_forward + s->drop_pointer_outside +
                       s->drop_label + s->drop_name_long + s->drop_record + s->drop_rdata;
    fmt_str(write, ctx, "; queries ");
    fmt_uint(write, ctx, s->queries, 0);
    fmt_str(write, ctx, " running ");
    fmt_uint(write, ctx, dns->nqueries, 0);
    fmt_str(write, ctx, " answered ");
    fmt_uint(write, ctx, s->answers, 0);
    fmt_str(write, ctx, " nxdomain ");
    fmt_uint(write, ctx, s->nxdomain, 0);
    fmt_str(write, ctx, " timeouts ");
    fmt_uint(write, ctx, s->timeouts, 0);
    fmt_str(write, ctx, " retries ");
    fmt_uint(write, ctx, s->retries, 0);
    fmt_str(write, ctx, "; cache ");
    fmt_uint(write, ctx, dns->ncache, 0);
    fmt_str(write, ctx, "/");
    fmt_uint(write, ctx, TERN_DNS_CACHE_ENTRIES, 0);
    fmt_str(write, ctx, " hits ");
    fmt_uint(write, ctx, s->cache_hits, 0);
    fmt_str(write, ctx, " misses ");
    fmt_uint(write, ctx, s->cache_misses, 0);
    fmt_str(write, ctx, "; dropped ");
    fmt_uint(write, ctx, dropped, 0);
    fmt_str(write, ctx, "\n");
}
