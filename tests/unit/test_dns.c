/* TERN_TEST_STATIC_VARIANT */
/* The DNS client over the virtual wire, on virtual time, against scripted
 * servers on the wire's other side: lookups, the cache and its TTLs,
 * retries rotating over servers, timeouts, CNAME chains, the blocking and
 * the start-and-poll forms, and one test per NAME:WRECK / AMNESIA:33 bug
 * class, each a crafted hostile response that must be rejected, counted,
 * and leave the query waiting for the real answer. Allocation failures at
 * every allocation of a lookup. Memory is back at its baseline after each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern/dns.h"
#include "tern/stack.h"
#include "tern_test.h"
#include "tern_vwire.h"
#include "wire2.h"

#define OUR_IP TERN_IP4(192, 0, 2, 2)
#define NS1 TERN_IP4(192, 0, 2, 53)
#define NS2 TERN_IP4(192, 0, 2, 54)
#define NS3 TERN_IP4(192, 0, 2, 55)
#define MASK24 TERN_IP4(255, 255, 255, 0)
#define HOST_IP TERN_IP4(198, 51, 100, 10)
#define MAX_Q 256u

static const uint8_t SRV_MAC[6] = {0x02, 0x5e, 0, 0, 0, 0x35};
static const uint8_t CLI_MAC[6] = {0x02, 0x7e, 0, 0, 0, 0x02};

/* ---- a message builder ------------------------------------------------------- */

typedef struct msgb {
    uint8_t b[1400];
    size_t n;
} msgb_t;

static void mb_u8(msgb_t *m, uint32_t v)
{
    assert_true(m->n < sizeof m->b);
    m->b[m->n++] = (uint8_t)v;
}

static void mb_u16(msgb_t *m, uint32_t v)
{
    mb_u8(m, v >> 8);
    mb_u8(m, v);
}

static void mb_u32(msgb_t *m, uint32_t v)
{
    mb_u16(m, v >> 16);
    mb_u16(m, v);
}

static void mb_bytes(msgb_t *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

/* An uncompressed name ("" is the root); with ptr != 0, the labels then a
 * pointer to ptr instead of the root. */
static void mb_name_ptr(msgb_t *m, const char *dotted, uint32_t ptr)
{
    const char *s = dotted;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        mb_u8(m, (uint32_t)l);
        mb_bytes(m, s, l);
        s += l;
        if (*s == '.')
            s++;
    }
    if (ptr)
        mb_u16(m, 0xC000u | ptr);
    else
        mb_u8(m, 0);
}

static void mb_name(msgb_t *m, const char *dotted)
{
    mb_name_ptr(m, dotted, 0);
}

static void mb_rr(msgb_t *m, uint32_t type, uint32_t ttl, uint32_t rdlen)
{
    mb_u16(m, type);
    mb_u16(m, 1);
    mb_u32(m, ttl);
    mb_u16(m, rdlen);
}

/* ---- the scripted servers ---------------------------------------------------- */

typedef struct dq {
    uint32_t time;
    tern_ip4_t server;
    uint16_t sport;
    uint16_t id;
    uint16_t flags;
    uint16_t qtype, qclass, qdcount;
    char name[300];
    const uint8_t *raw; /* the query payload (valid during the respond call) */
    size_t raw_len;
} dq_t;

typedef struct world world_t;
/* Build the response to q into out (0: no response). *src and *sport
 * default to the server asked and 53. */
typedef int (*respond_fn)(world_t *w, const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport);

typedef struct zone_rec {
    const char *name;
    tern_ip4_t addr;
    uint32_t ttl;
} zone_rec_t;

struct world {
    tern_test_port_t tp;
    tern_stack_t *stack;
    tern_netif_t nif;
    tern_vwire_t wire;
    mem_snapshot_t base;
    respond_fn respond;
    unsigned silent_mask;   /* bit i: server NSi+1 answers nothing */
    unsigned servfail_mask; /* bit i: server answers SERVFAIL */
    unsigned tc_mask;       /* bit i: server answers with TC set and no records */
    const zone_rec_t *zone;
    unsigned nq;
    dq_t q[MAX_Q];
    /* callback results */
    unsigned done;
    int result;
    tern_ip4_t addr;
    char name[300];
    uint32_t done_time;
    /* blocking-port bookkeeping */
    int locks, unlocks, woken;
    int hold; /* respond() returns the hostile payload; the good one is queued by the test */
};

static const zone_rec_t default_zone[] = {
    {"host.example", HOST_IP, 300},
    {"a.example", TERN_IP4(198, 51, 100, 1), 60},
    {"b.example", TERN_IP4(198, 51, 100, 2), 60},
    {"short.example", TERN_IP4(198, 51, 100, 3), 5},
    {"zero.example", TERN_IP4(198, 51, 100, 4), 0},
    {"long.example", TERN_IP4(198, 51, 100, 5), 0x7FFFFFFFu},
    {NULL, 0, 0},
};

static unsigned server_index(tern_ip4_t s)
{
    return s == NS1 ? 0u : s == NS2 ? 1u : s == NS3 ? 2u : 3u;
}

/* Header + question copied from q, flags and counts given. */
static void mb_response_start(msgb_t *m, const dq_t *q, uint32_t flags, uint32_t ancount)
{
    m->n = 0;
    mb_u16(m, q->id);
    mb_u16(m, flags);
    mb_u16(m, 1);
    mb_u16(m, ancount);
    mb_u16(m, 0);
    mb_u16(m, 0);
    mb_name(m, q->name);
    mb_u16(m, q->qtype);
    mb_u16(m, q->qclass);
}

static int respond_zone(world_t *w, const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    unsigned i = server_index(q->server);
    if (w->silent_mask & (1u << i))
        return 0;
    if (w->servfail_mask & (1u << i)) {
        mb_response_start(out, q, 0x8182, 0);
        return 1;
    }
    if (w->tc_mask & (1u << i)) {
        mb_response_start(out, q, 0x8380, 0);
        return 1;
    }
    for (const zone_rec_t *z = w->zone; z->name; z++) {
        if (strcmp(z->name, q->name) != 0)
            continue;
        mb_response_start(out, q, 0x8180, 1);
        mb_u16(out, 0xC00C);
        mb_rr(out, 1, z->ttl, 4);
        mb_u32(out, z->addr);
        return 1;
    }
    mb_response_start(out, q, 0x8183, 0); /* NXDOMAIN */
    return 1;
}

static void send_udp(world_t *w, tern_ip4_t src, uint16_t sport, uint16_t dport, const uint8_t *payload, size_t len)
{
    wire_send_udp(&w->wire, 1, CLI_MAC, SRV_MAC, src, OUR_IP, sport, dport, payload, len);
}

static void srv_rx(void *ctx, int side, const uint8_t *f, size_t len, uint32_t now)
{
    world_t *w = ctx;
    (void)side;
    uint32_t type = be16_get(f + 12);
    if (type == 0x0806) {
        const uint8_t *a = f + 14;
        tern_ip4_t tpa = be32_get(a + 24);
        if (be16_get(a + 6) == 1 && server_index(tpa) < 3) {
            uint8_t frame[64];
            size_t fl = frame_arp_eth(frame, a + 8, 2, SRV_MAC, tpa, a + 8, be32_get(a + 14));
            assert_int_equal(tern_vwire_send(&w->wire, 1, frame, fl), TERN_OK);
        }
        return;
    }
    if (type != 0x0800)
        return;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if (ip[9] != 17)
        return;
    const uint8_t *udp = ip + ihl;
    if (be16_get(udp + 2) != 53)
        return;
    size_t ulen = be16_get(udp + 4);
    assert_true(14 + ihl + ulen <= len);
    const uint8_t *p = udp + 8;
    size_t plen = ulen - 8;
    assert_true(w->nq < MAX_Q);
    dq_t *q = &w->q[w->nq++];
    memset(q, 0, sizeof *q);
    q->time = now;
    q->server = be32_get(ip + 16);
    q->sport = (uint16_t)be16_get(udp);
    assert_true(plen >= 12);
    q->id = (uint16_t)be16_get(p);
    q->flags = (uint16_t)be16_get(p + 2);
    q->qdcount = (uint16_t)be16_get(p + 4);
    assert_int_equal(be16_get(p + 6) | be16_get(p + 8) | be16_get(p + 10), 0);
    size_t i = 12, n = 0;
    while (p[i] != 0) {
        assert_true(p[i] <= 63 && i + 1 + p[i] < plen);
        if (n)
            q->name[n++] = '.';
        memcpy(q->name + n, p + i + 1, p[i]);
        n += p[i];
        i += 1u + p[i];
    }
    q->name[n] = 0;
    i++;
    assert_int_equal(i + 4, plen);
    q->qtype = (uint16_t)be16_get(p + i);
    q->qclass = (uint16_t)be16_get(p + i + 2);
    q->raw = p;
    q->raw_len = plen;
    msgb_t *out = calloc(1, sizeof *out);
    tern_ip4_t src = q->server;
    uint16_t sport = 53;
    if (w->respond(w, q, out, &src, &sport))
        send_udp(w, src, sport, q->sport, out->b, out->n);
    q->raw = NULL;
    free(out);
}

static void on_found(tern_stack_t *stack, void *ctx, const char *name, int result, tern_ip4_t addr)
{
    world_t *w = ctx;
    w->done++;
    w->result = result;
    w->addr = addr;
    w->done_time = tern_vwire_now(&w->wire);
    strncpy(w->name, name, sizeof w->name - 1);
    (void)stack;
}

static world_t *world_new(uint64_t seed)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->stack = wire_client_new(&w->wire, seed, &w->tp, &w->nif, CLI_MAC, srv_rx, w);
    w->respond = respond_zone;
    w->zone = default_zone;
    tern_netif_set_addr(&w->nif, OUR_IP, MASK24, 0);
    tern_vwire_run(&w->wire, 100);
    mem_snapshot(w->stack, &w->base);
    assert_int_equal(tern_dns_start(w->stack), TERN_OK);
    tern_ip4_t servers[3] = {NS1, NS2, NS3};
    assert_int_equal(tern_dns_set_servers(w->stack, servers, 3), TERN_OK);
    /* Resolve the servers' MAC once so first queries do not wait on ARP. */
    for (int i = 0; i < 3; i++) {
        uint8_t ign[4] = {0};
        tern_udp_pcb_t pcb;
        tern_udp_pcb_init(&pcb, NULL, NULL);
        tern_netbuf_t *nb = tern_udp_netbuf_get(w->stack, 4, 0);
        memcpy(nb->data, ign, 4);
        tern_sockaddr_t to = {.addr = servers[i], .port = 9};
        tern_udp_sendto(w->stack, &pcb, nb, &to);
        tern_vwire_run(&w->wire, tern_vwire_now(&w->wire) + 10);
        tern_udp_unbind(w->stack, &pcb);
    }
    return w;
}

static uint32_t now_of(world_t *w)
{
    return tern_vwire_now(&w->wire);
}

static void run_for(world_t *w, uint32_t ms)
{
    tern_vwire_run(&w->wire, now_of(w) + ms);
}

static void world_free(world_t *w)
{
    tern_dns_stop(w->stack);
    run_for(w, 5000);
    mem_assert_baseline(w->stack, &w->base);
    tern_vwire_destroy(&w->wire);
    wire_stack_free(w->stack);
    free(w);
}

static int lookup(world_t *w, const char *name, tern_ip4_t *addr)
{
    return tern_dns_lookup(w->stack, name, addr, on_found, w);
}

/* Start a lookup and run until its callback (at most max_ms). */
static int resolve(world_t *w, const char *name, tern_ip4_t *addr, uint32_t max_ms)
{
    unsigned before = w->done;
    int r = lookup(w, name, addr);
    if (r != TERN_ERR_INPROGRESS)
        return r;
    uint32_t end = now_of(w) + max_ms;
    while (w->done == before && (int32_t)(now_of(w) - end) < 0)
        run_for(w, 10);
    assert_int_equal(w->done, before + 1);
    if (w->result == TERN_OK)
        *addr = w->addr;
    return w->result;
}

static const tern_ledger_category_stats_t *dns_mem(world_t *w)
{
    /* The client's registered category (registering again returns it). */
    int cat = tern_ledger_register_category(&w->stack->ledger, "DNS_CACHE");
    assert_true(cat >= TERN_MEM_APP_FIRST);
    return tern_ledger_category(&w->stack->ledger, (tern_mem_category_t)cat);
}

/* ---- lookups, cache, servers ------------------------------------------------ */

static void test_dns_lookup_a(void **state)
{
    (void)state;
    world_t *w = world_new(1);
    unsigned q0 = w->nq;
    assert_int_equal(dns_mem(w)->blocks, 1); /* the client */
    tern_ip4_t addr = 0;
    assert_int_equal(lookup(w, "Host.Example.", &addr), TERN_ERR_INPROGRESS);
    assert_int_equal(dns_mem(w)->blocks, 2); /* + the query */
    tern_dns_query_info_t qi;
    assert_int_equal(tern_dns_query_info(w->stack, 0, &qi), TERN_OK);
    assert_string_equal(qi.name, "host.example");
    assert_int_equal(qi.tries, 1);
    assert_int_equal(tern_dns_query_info(w->stack, 1, &qi), TERN_ERR_INVAL);
    run_for(w, 10);
    assert_int_equal(w->done, 1);
    assert_int_equal(w->result, TERN_OK);
    assert_int_equal(w->addr, HOST_IP);
    assert_string_equal(w->name, "host.example");
    assert_int_equal(w->nq, q0 + 1);
    dq_t *q = &w->q[q0];
    assert_int_equal(q->server, NS1);
    assert_int_equal(q->flags, 0x0100); /* standard query, recursion desired */
    assert_int_equal(q->qdcount, 1);
    assert_int_equal(q->qtype, 1);
    assert_int_equal(q->qclass, 1);
    assert_string_equal(q->name, "host.example");
    assert_true(q->sport >= 49152);
    assert_int_equal(q->id, qi.id);
    assert_int_equal(q->sport, qi.port);
    /* the query is gone, the answer cached */
    assert_int_equal(dns_mem(w)->blocks, 2);
    assert_int_equal(tern_dns_cache_count(w->stack), 1);
    addr = 0;
    assert_int_equal(lookup(w, "HOST.example", &addr), TERN_OK);
    assert_int_equal(addr, HOST_IP);
    run_for(w, 10);
    assert_int_equal(w->nq, q0 + 1); /* from the cache: nothing sent */
    const tern_dns_stats_t *s = tern_dns_stats(w->stack);
    assert_int_equal(s->queries, 1);
    assert_int_equal(s->answers, 1);
    assert_int_equal(s->cache_hits, 1);
    assert_int_equal(s->cache_misses, 1);
    tern_test_sink_t *sink = calloc(1, sizeof *sink);
    tern_dns_report_text(w->stack, tern_test_sink_write, sink);
    assert_non_null(strstr(sink->text, "dns: servers 192.0.2.53,192.0.2.54,192.0.2.55 (static)"));
    assert_non_null(strstr(sink->text, "cache 1/"));
    free(sink);
    world_free(w);
}

static void test_dns_literal_and_bad_names(void **state)
{
    (void)state;
    world_t *w = world_new(2);
    unsigned q0 = w->nq;
    tern_ip4_t addr = 0;
    assert_int_equal(lookup(w, "192.0.2.77", &addr), TERN_OK);
    assert_int_equal(addr, TERN_IP4(192, 0, 2, 77));
    char l64[80], n254[300];
    memset(l64, 'a', 64);
    strcpy(l64 + 64, ".example");
    for (int i = 0; i < 254; i++)
        n254[i] = (i % 10 == 9) ? '.' : 'b';
    n254[254] = 0;
    const char *bad[] = {"", ".", "a..b", ".a", "a b", "tab\there", "high\x80" "byte", "a...", l64, n254};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lookup(w, bad[i], &addr), TERN_ERR_INVAL);
    /* 253 characters is the longest name: accepted */
    n254[253] = 0;
    n254[252] = 'c';
    assert_int_equal(lookup(w, n254, &addr), TERN_ERR_INPROGRESS);
    run_for(w, 10);
    assert_int_equal(w->nq, q0 + 1);
    assert_int_equal(w->result, TERN_ERR_NOTFOUND);
    assert_int_equal(tern_dns_lookup(NULL, "x", &addr, NULL, NULL), TERN_ERR_INVAL);
    world_free(w);
}

static void test_dns_not_started(void **state)
{
    (void)state;
    world_t *w = world_new(3);
    tern_dns_stop(w->stack);
    tern_ip4_t addr, s = NS1;
    assert_int_equal(lookup(w, "host.example", &addr), TERN_ERR_STATE);
    assert_int_equal(tern_dns_set_servers(w->stack, &s, 1), TERN_ERR_STATE);
    assert_null(tern_dns_stats(w->stack));
    assert_int_equal(tern_dns_start(w->stack), TERN_OK);
    assert_int_equal(tern_dns_start(w->stack), TERN_ERR_STATE);
    assert_int_equal(lookup(w, "host.example", &addr), TERN_ERR_STATE); /* no servers */
    tern_ip4_t four[4] = {NS1, NS2, NS3, NS1};
    assert_int_equal(tern_dns_set_servers(w->stack, four, 4), TERN_ERR_INVAL);
    tern_ip4_t bcast = 0xFFFFFFFFu;
    assert_int_equal(tern_dns_set_servers(w->stack, &bcast, 1), TERN_ERR_INVAL);
    world_free(w);
}

/* TTL: a hit before it runs out, a new query after; TTL 0 is not cached;
 * huge TTLs are capped. The poll frees expired entries. */
static void test_dns_cache_ttl(void **state)
{
    (void)state;
    world_t *w = world_new(4);
    tern_ip4_t addr;
    assert_int_equal(resolve(w, "short.example", &addr, 100), TERN_OK);
    unsigned q0 = w->nq;
    run_for(w, 4000);
    assert_int_equal(lookup(w, "short.example", &addr), TERN_OK);
    assert_int_equal(tern_dns_cache_count(w->stack), 1);
    run_for(w, 1100);
    assert_int_equal(tern_dns_cache_count(w->stack), 0); /* the poll dropped it at its TTL */
    assert_int_equal(tern_dns_stats(w->stack)->cache_expired, 1);
    assert_int_equal(dns_mem(w)->blocks, 1);
    assert_int_equal(resolve(w, "short.example", &addr, 100), TERN_OK);
    assert_int_equal(w->nq, q0 + 1);
    /* TTL 0: answered, never cached */
    assert_int_equal(resolve(w, "zero.example", &addr, 100), TERN_OK);
    assert_int_equal(addr, TERN_IP4(198, 51, 100, 4));
    assert_int_equal(tern_dns_cache_count(w->stack), 1);
    assert_int_equal(lookup(w, "zero.example", &addr), TERN_ERR_INPROGRESS);
    run_for(w, 10);
    /* TTL 2^31-1: capped */
    assert_int_equal(resolve(w, "long.example", &addr, 100), TERN_OK);
    run_for(w, TERN_DNS_CACHE_MAX_TTL_S * 1000u - 1000u);
    assert_int_equal(lookup(w, "long.example", &addr), TERN_OK);
    run_for(w, 2000);
    assert_int_equal(lookup(w, "long.example", &addr), TERN_ERR_INPROGRESS);
    run_for(w, 10);
    tern_dns_cache_flush(w->stack);
    assert_int_equal(tern_dns_cache_count(w->stack), 0);
    world_free(w);
}

static int respond_any(world_t *w, const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)w, (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u16(out, 0xC00C);
    mb_rr(out, 1, 600, 4);
    mb_u32(out, TERN_IP4(198, 51, 100, (uint32_t)(strlen(q->name) & 0xFF)));
    return 1;
}

/* Bounded: more names than entries evicts the one closest to expiry. */
static void test_dns_cache_bounded(void **state)
{
    (void)state;
    world_t *w = world_new(5);
    w->respond = respond_any;
    char name[32];
    tern_ip4_t addr;
    for (int i = 0; i < TERN_DNS_CACHE_ENTRIES + 3; i++) {
        snprintf(name, sizeof name, "n%d.example", i);
        assert_int_equal(resolve(w, name, &addr, 100), TERN_OK);
        run_for(w, 100);
    }
    assert_int_equal(tern_dns_cache_count(w->stack), TERN_DNS_CACHE_ENTRIES);
    assert_int_equal(tern_dns_stats(w->stack)->cache_evictions, 3);
    assert_int_equal(dns_mem(w)->blocks, 1 + TERN_DNS_CACHE_ENTRIES);
    /* the oldest three went */
    unsigned before = w->nq;
    assert_int_equal(lookup(w, "n0.example", &addr), TERN_ERR_INPROGRESS);
    snprintf(name, sizeof name, "n%d.example", TERN_DNS_CACHE_ENTRIES + 2);
    assert_int_equal(lookup(w, name, &addr), TERN_OK);
    run_for(w, 10);
    assert_int_equal(w->nq, before + 1);
    world_free(w);
}

/* No answer from the first two servers: the query moves on, in order, one
 * timeout each (TERN_DNS_RETRY_MS, doubled after a round). */
static void test_dns_retries_rotate_servers(void **state)
{
    (void)state;
    world_t *w = world_new(6);
    w->silent_mask = 1u | 2u;
    unsigned q0 = w->nq;
    tern_ip4_t addr;
    assert_int_equal(resolve(w, "host.example", &addr, 10000), TERN_OK);
    assert_int_equal(addr, HOST_IP);
    assert_int_equal(w->nq, q0 + 3);
    assert_int_equal(w->q[q0].server, NS1);
    assert_int_equal(w->q[q0 + 1].server, NS2);
    assert_int_equal(w->q[q0 + 2].server, NS3);
    for (unsigned i = 1; i < 3; i++) {
        assert_int_equal(w->q[q0 + i].id, w->q[q0].id);
        assert_int_equal(w->q[q0 + i].sport, w->q[q0].sport);
        assert_int_equal(w->q[q0 + i].time - w->q[q0 + i - 1].time, TERN_DNS_RETRY_MS);
    }
    assert_int_equal(tern_dns_stats(w->stack)->retries, 2);
    world_free(w);
}

/* Nobody answers: TERN_DNS_MAX_TRIES transmissions, then TIMEOUT. */
static void test_dns_timeout(void **state)
{
    (void)state;
    world_t *w = world_new(7);
    w->silent_mask = 7;
    unsigned q0 = w->nq;
    tern_ip4_t addr;
    uint32_t t0 = now_of(w);
    assert_int_equal(resolve(w, "host.example", &addr, 60000), TERN_ERR_TIMEOUT);
    assert_int_equal(w->nq, q0 + TERN_DNS_MAX_TRIES);
    /* 1 s to each of the three servers, then 2 s for the fourth try */
    static const tern_ip4_t order[4] = {NS1, NS2, NS3, NS1};
    uint32_t total = 0;
    for (unsigned i = 0; i < TERN_DNS_MAX_TRIES; i++) {
        assert_int_equal(w->q[q0 + i].server, order[i % 4]);
        total += TERN_DNS_RETRY_MS << (i / 3);
    }
    assert_int_equal(w->done_time - t0, total);
    assert_int_equal(tern_dns_stats(w->stack)->timeouts, 1);
    assert_int_equal(dns_mem(w)->blocks, 1);
    world_free(w);
}

static void test_dns_nxdomain_and_nodata(void **state)
{
    (void)state;
    world_t *w = world_new(8);
    tern_ip4_t addr;
    assert_int_equal(resolve(w, "nope.example", &addr, 100), TERN_ERR_NOTFOUND);
    assert_int_equal(tern_dns_stats(w->stack)->nxdomain, 1);
    assert_int_equal(tern_dns_cache_count(w->stack), 0);
    world_free(w);
}

static int respond_nodata(world_t *w, const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)w, (void)src, (void)sport;
    /* NOERROR with only an AAAA and a TXT record: no address for us */
    mb_response_start(out, q, 0x8180, 2);
    mb_u16(out, 0xC00C);
    mb_u16(out, 28);
    mb_u16(out, 1);
    mb_u32(out, 60);
    mb_u16(out, 16);
    for (int i = 0; i < 16; i++)
        mb_u8(out, (uint32_t)i);
    mb_u16(out, 0xC00C);
    mb_rr(out, 16, 60, 3);
    mb_bytes(out, "\x02hi", 3);
    return 1;
}

static void test_dns_nodata(void **state)
{
    (void)state;
    world_t *w = world_new(9);
    w->respond = respond_nodata;
    tern_ip4_t addr;
    assert_int_equal(resolve(w, "v6only.example", &addr, 100), TERN_ERR_NOTFOUND);
    world_free(w);
}

/* SERVFAIL: the next server is asked at once. All failing: REFUSED. */
static void test_dns_servfail_moves_on(void **state)
{
    (void)state;
    world_t *w = world_new(10);
    w->servfail_mask = 1;
    unsigned q0 = w->nq;
    tern_ip4_t addr;
    assert_int_equal(resolve(w, "host.example", &addr, 1000), TERN_OK);
    assert_int_equal(w->nq, q0 + 2);
    assert_int_equal(w->q[q0 + 1].server, NS2);
    assert_true(w->q[q0 + 1].time - w->q[q0].time <= 2); /* no timeout waited */
    assert_int_equal(tern_dns_stats(w->stack)->server_errors, 1);
    w->servfail_mask = 7;
    assert_int_equal(resolve(w, "a.example", &addr, 10000), TERN_ERR_REFUSED);
    world_free(w);
}

/* www -> web -> host, in order and shuffled; the TTL is the chain's least. */
static int respond_cname(world_t *w, const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)w, (void)src, (void)sport;
    int shuffled = strcmp(q->name, "www2.example") == 0;
    mb_response_start(out, q, 0x8180, 3);
    size_t web_at;
    if (shuffled) {
        /* A for host first, then web -> host, then www2 -> web */
        size_t host_at = out->n;
        mb_name(out, "host.example");
        mb_rr(out, 1, 500, 4);
        mb_u32(out, HOST_IP);
        web_at = out->n;
        mb_name(out, "web.example");
        mb_rr(out, 5, 40, 2);
        mb_u16(out, 0xC000u | (uint32_t)host_at);
        mb_u16(out, 0xC00C);
        mb_rr(out, 5, 300, 2);
        mb_u16(out, 0xC000u | (uint32_t)web_at);
        return 1;
    }
    mb_u16(out, 0xC00C);
    mb_rr(out, 5, 300, 13);
    web_at = out->n;
    mb_name(out, "web.example"); /* 13 bytes */
    mb_u16(out, 0xC000u | (uint32_t)web_at);
    mb_rr(out, 5, 30, 7);
    mb_name_ptr(out, "host", (uint32_t)web_at + 4); /* host + pointer to "example" */
    mb_u16(out, 0xC000u | (uint32_t)(out->n - 7));
    mb_rr(out, 1, 500, 4);
    mb_u32(out, HOST_IP);
    return 1;
}

static void test_dns_cname_chain(void **state)
{
    (void)state;
    world_t *w = world_new(11);
    w->respond = respond_cname;
    tern_ip4_t addr = 0;
    assert_int_equal(resolve(w, "www.example", &addr, 100), TERN_OK);
    assert_int_equal(addr, HOST_IP);
    /* cached under the name asked, for the chain's smallest TTL (30 s) */
    run_for(w, 29000);
    assert_int_equal(lookup(w, "www.example", &addr), TERN_OK);
    run_for(w, 2000);
    assert_int_equal(tern_dns_cache_count(w->stack), 0);
    assert_int_equal(resolve(w, "www2.example", &addr, 100), TERN_OK);
    assert_int_equal(addr, HOST_IP);
    const tern_dns_stats_t *s = tern_dns_stats(w->stack);
    assert_int_equal(s->drop_record + s->drop_rdata + s->drop_pointer_forward + s->drop_pointer_loop, 0);
    world_free(w);
}

/* Start-and-poll (no callback): INPROGRESS until done, the result once. */
static void test_dns_start_and_poll(void **state)
{
    (void)state;
    world_t *w = world_new(12);
    w->silent_mask = 1;
    tern_ip4_t addr = 0;
    unsigned q0 = w->nq;
    assert_int_equal(tern_dns_lookup(w->stack, "host.example", &addr, NULL, NULL), TERN_ERR_INPROGRESS);
    int polls = 0, r;
    while ((r = tern_dns_lookup(w->stack, "host.example", &addr, NULL, NULL)) == TERN_ERR_INPROGRESS) {
        run_for(w, 100);
        polls++;
        assert_true(polls < 100);
    }
    assert_int_equal(r, TERN_OK);
    assert_int_equal(addr, HOST_IP);
    assert_int_equal(w->nq, q0 + 2); /* one query, retried once: polling starts nothing new */
    assert_true(polls >= 10);
    assert_int_equal(dns_mem(w)->blocks, 2); /* client + cache entry: the query is freed */
    /* an error is reported once too */
    assert_int_equal(tern_dns_lookup(w->stack, "nope.example", &addr, NULL, NULL), TERN_ERR_INPROGRESS);
    run_for(w, 1500);
    assert_int_equal(tern_dns_lookup(w->stack, "nope.example", &addr, NULL, NULL), TERN_ERR_NOTFOUND);
    /* an uncollected result is freed after TERN_DNS_RESULT_HOLD_MS */
    assert_int_equal(tern_dns_lookup(w->stack, "nope2.example", &addr, NULL, NULL), TERN_ERR_INPROGRESS);
    run_for(w, 1500);
    assert_int_equal(dns_mem(w)->blocks, 3);
    run_for(w, TERN_DNS_RESULT_HOLD_MS);
    assert_int_equal(dns_mem(w)->blocks, 2);
    world_free(w);
}

/* The blocking form on a port whose wait hook runs the wire (a stack
 * thread, simulated): it takes the lock itself, returns the address, and a
 * timeout cancels the query. */
static int bport_wait(void *ctx, uint32_t timeout_ms)
{
    world_t *w = ctx; /* tp is the first member: ctx is the world */
    assert_int_equal(w->locks, w->unlocks + 1); /* called with the lock held */
    w->woken = 0;
    uint32_t end = now_of(w) + timeout_ms;
    while (!w->woken && (int32_t)(now_of(w) - end) < 0)
        run_for(w, 10);
    return w->woken ? TERN_OK : TERN_ERR_TIMEOUT;
}

static void bport_wake(void *ctx)
{
    ((world_t *)ctx)->woken = 1;
}

static void bport_lock(void *ctx)
{
    ((world_t *)ctx)->locks++;
}

static void bport_unlock(void *ctx)
{
    ((world_t *)ctx)->unlocks++;
}

static uint32_t bport_now(void *ctx)
{
    return now_of(ctx);
}

static void test_dns_blocking_resolve(void **state)
{
    (void)state;
    world_t *w = world_new(13);
    tern_ip4_t addr = 0;
#if TERN_OS
    assert_int_equal(tern_dns_resolve(w->stack, "host.example", &addr, 1000), TERN_ERR_NOTSUP);
    w->tp.port.wait = bport_wait;
    w->tp.port.wake_all = bport_wake;
    w->tp.port.lock = bport_lock;
    w->tp.port.unlock = bport_unlock;
    w->tp.port.now_ms = bport_now;
    assert_int_equal(tern_dns_resolve(w->stack, "host.example", &addr, 5000), TERN_OK);
    assert_int_equal(addr, HOST_IP);
    assert_int_equal(w->locks, 1);
    assert_int_equal(w->unlocks, 1);
    /* cached: no wait */
    assert_int_equal(tern_dns_resolve(w->stack, "host.example", &addr, 5000), TERN_OK);
    assert_int_equal(tern_dns_resolve(w->stack, "nope.example", &addr, 5000), TERN_ERR_NOTFOUND);
    w->silent_mask = 7;
    uint32_t t0 = now_of(w);
    assert_int_equal(tern_dns_resolve(w->stack, "a.example", &addr, 1500), TERN_ERR_TIMEOUT);
    uint32_t took = now_of(w) - t0;
    assert_true(took >= 1500 && took <= 1520);
    assert_int_equal(dns_mem(w)->blocks, 2); /* client + host.example: the timed-out query is gone */
    assert_int_equal(w->locks, w->unlocks);
    /* timeout 0: until the query gives up by itself */
    assert_int_equal(tern_dns_resolve(w->stack, "b.example", &addr, 0), TERN_ERR_TIMEOUT);
    w->tp.port.wait = NULL;
    w->tp.port.lock = NULL;
    w->tp.port.unlock = NULL;
    w->tp.port.wake_all = NULL;
#else
    (void)addr;
#endif
    world_free(w);
}

static void test_dns_stop_and_cancel(void **state)
{
    (void)state;
    world_t *w = world_new(14);
    w->silent_mask = 7;
    tern_ip4_t addr;
    assert_int_equal(lookup(w, "host.example", &addr), TERN_ERR_INPROGRESS);
    assert_int_equal(tern_dns_lookup(w->stack, "a.example", &addr, NULL, NULL), TERN_ERR_INPROGRESS);
    run_for(w, 500);
    tern_dns_stop(w->stack);
    assert_int_equal(w->done, 1);
    assert_int_equal(w->result, TERN_ERR_CLOSED);
    assert_int_equal(dns_mem(w)->blocks, 0);
    assert_int_equal(tern_dns_start(w->stack), TERN_OK);
    tern_ip4_t s = NS1;
    tern_dns_set_servers(w->stack, &s, 1);
    assert_int_equal(lookup(w, "host.example", &addr), TERN_ERR_INPROGRESS);
    assert_int_equal(lookup(w, "a.example", &addr), TERN_ERR_INPROGRESS);
    tern_dns_cancel(w->stack, on_found, w);
    run_for(w, 10000);
    assert_int_equal(w->done, 1); /* no callbacks for cancelled lookups */
    assert_int_equal(dns_mem(w)->blocks, 1);
    world_free(w);
}

static void test_dns_max_queries(void **state)
{
    (void)state;
    world_t *w = world_new(15);
    w->silent_mask = 7;
    char name[32];
    tern_ip4_t addr;
    for (int i = 0; i < TERN_DNS_MAX_QUERIES; i++) {
        snprintf(name, sizeof name, "q%d.example", i);
        assert_int_equal(lookup(w, name, &addr), TERN_ERR_INPROGRESS);
    }
    assert_int_equal(lookup(w, "one-more.example", &addr), TERN_ERR_NOMEM);
    run_for(w, 20000);
    assert_int_equal(w->done, TERN_DNS_MAX_QUERIES);
    assert_int_equal(lookup(w, "one-more.example", &addr), TERN_ERR_INPROGRESS);
    world_free(w);
}

/* RFC 5452: ids and source ports are random per query, not a counter. */
static void test_dns_predictable_id_and_port(void **state)
{
    (void)state;
    world_t *w = world_new(16);
    w->respond = respond_any;
    char name[32];
    tern_ip4_t addr;
    unsigned q0 = w->nq;
    for (int i = 0; i < 64; i++) {
        snprintf(name, sizeof name, "r%d.example", i);
        assert_int_equal(resolve(w, name, &addr, 100), TERN_OK);
    }
    unsigned same_id = 0, same_port = 0, sequential = 0;
    for (unsigned i = 0; i < 64; i++) {
        const dq_t *a = &w->q[q0 + i];
        assert_true(a->sport >= 49152);
        for (unsigned j = 0; j < i; j++) {
            same_id += a->id == w->q[q0 + j].id;
            same_port += a->sport == w->q[q0 + j].sport;
        }
        if (i > 0)
            sequential += (uint16_t)(a->id - w->q[q0 + i - 1].id) == 1 ||
                          (uint16_t)(a->sport - w->q[q0 + i - 1].sport) == 1;
    }
    /* 64 draws from 2^16 (ids) and 2^14 (ports): a few collisions at most */
    assert_true(same_id <= 2);
    assert_true(same_port <= 3);
    assert_true(sequential <= 1);
    world_free(w);
}

/* ---- hostile responses: NAME:WRECK and AMNESIA:33 bug classes -------------- */

/* The hostile payload is sent first, then the good one from respond_zone:
 * the bad one must be dropped and counted on exactly one counter, and the
 * query must still complete with the good answer. */
typedef void (*hostile_fn)(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport);
static hostile_fn current_hostile;

static int respond_hostile(world_t *w, const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    msgb_t *good = calloc(1, sizeof *good);
    tern_ip4_t gsrc = *src;
    uint16_t gport = *sport;
    current_hostile(q, out, src, sport);
    send_udp(w, *src, *sport, q->sport, out->b, out->n);
    assert_true(respond_zone(w, q, good, &gsrc, &gport));
    memcpy(out, good, sizeof *out);
    *src = gsrc;
    *sport = gport;
    free(good);
    return 1;
}

static uint32_t drops_of(const tern_dns_stats_t *s)
{
    return s->drop_source + s->drop_short + s->drop_id + s->drop_not_response + s->drop_truncated +
           s->drop_question + s->drop_pointer_loop + s->drop_pointer_forward + s->drop_pointer_outside +
           s->drop_label + s->drop_name_long + s->drop_record + s->drop_rdata;
}

static void expect_rejected(hostile_fn fn, size_t counter_off, const char *what)
{
    world_t *w = world_new(17);
    w->respond = respond_hostile;
    current_hostile = fn;
    tern_ip4_t addr = 0;
    assert_int_equal(resolve(w, "host.example", &addr, 100), TERN_OK);
    assert_int_equal(addr, HOST_IP);
    const tern_dns_stats_t *s = tern_dns_stats(w->stack);
    uint32_t v;
    memcpy(&v, (const uint8_t *)s + counter_off, sizeof v);
    if (v != 1 || drops_of(s) != 1)
        fail_msg("%s: counter %u, drops %u", what, v, drops_of(s));
    assert_int_equal(s->answers, 1);
    world_free(w);
}

#define DROP(f) offsetof(tern_dns_stats_t, f)

/* The answer's owner name is a pointer to itself. */
static void h_self_pointer(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u16(out, 0xC000u | (uint32_t)out->n);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

/* A label, then a pointer back to that label: an endless name. */
static void h_label_loop(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    uint32_t at = (uint32_t)out->n;
    mb_name_ptr(out, "loop", at);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

/* The question itself loops (two names pointing at each other cannot be
 * written backwards-only; this one points into the run it is reading). */
static void h_question_loop(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 0);
    out->n = 12;
    mb_u8(out, 4);
    mb_bytes(out, "host", 4);
    mb_u16(out, 0xC00C);
    mb_u16(out, 1);
    mb_u16(out, 1);
}

static void test_dns_compression_loop(void **state)
{
    (void)state;
    expect_rejected(h_self_pointer, DROP(drop_pointer_loop), "self pointer");
    expect_rejected(h_label_loop, DROP(drop_pointer_loop), "label loop");
    expect_rejected(h_question_loop, DROP(drop_pointer_loop), "question loop");
}

/* A pointer to a later offset (the classic way to build a loop A->B->A). */
static void h_forward(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    uint32_t at = (uint32_t)out->n;
    mb_u16(out, 0xC000u | (at + 12)); /* forward, into the RDATA below */
    mb_rr(out, 1, 60, 4);
    mb_u32(out, (0xC000u | at) << 16); /* ...which points back: A -> B -> A */
}

static void test_dns_pointer_forward(void **state)
{
    (void)state;
    expect_rejected(h_forward, DROP(drop_pointer_forward), "forward pointer");
}

static void h_outside(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u16(out, 0xC000u | 0x3FFFu); /* far past the end */
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

static void h_into_header(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u16(out, 0xC004); /* the counts, read as a label */
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

/* Pointer's second byte is the last byte... missing: cut after 0xC0. */
static void h_pointer_cut(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u8(out, 0xC0);
}

static void test_dns_pointer_outside_message(void **state)
{
    (void)state;
    expect_rejected(h_outside, DROP(drop_pointer_outside), "pointer past the end");
    expect_rejected(h_into_header, DROP(drop_pointer_outside), "pointer into the header");
    expect_rejected(h_pointer_cut, DROP(drop_record), "pointer cut in half");
}

/* Label lengths 64 and 0x80 (reserved label types). */
static void h_label_64(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u8(out, 64);
    for (int i = 0; i < 64; i++)
        mb_u8(out, 'x');
    mb_u8(out, 0);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

static void h_label_80(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u8(out, 0x80);
    mb_u8(out, 0);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

static void test_dns_label_too_long(void **state)
{
    (void)state;
    expect_rejected(h_label_64, DROP(drop_label), "label 64");
    expect_rejected(h_label_80, DROP(drop_label), "label type 10");
}

/* Five 63-byte labels: 321 bytes. */
static void h_name_long(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    for (int l = 0; l < 5; l++) {
        mb_u8(out, 63);
        for (int i = 0; i < 63; i++)
            mb_u8(out, 'a' + (uint32_t)l);
    }
    mb_u8(out, 0);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

/* Short on the wire, long when expanded: each name adds a 60-byte label
 * and points back at the previous one (all pointers legal, backwards). */
static void h_name_long_compressed(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 6);
    uint32_t prev = 12; /* the question name */
    for (int r = 0; r < 6; r++) {
        uint32_t at = (uint32_t)out->n;
        mb_u8(out, 60);
        for (int i = 0; i < 60; i++)
            mb_u8(out, 'a' + (uint32_t)r);
        mb_u16(out, 0xC000u | prev);
        mb_rr(out, 16, 60, 1); /* TXT, ignored, but its owner is read */
        mb_u8(out, 0);
        prev = at;
    }
}

static void test_dns_name_too_long(void **state)
{
    (void)state;
    expect_rejected(h_name_long, DROP(drop_name_long), "321-byte name");
    expect_rejected(h_name_long_compressed, DROP(drop_name_long), "name long through pointers");
}

/* A label longer than the bytes left. */
static void h_label_past_end(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u8(out, 40);
    mb_bytes(out, "only-ten-b", 10);
}

static void test_dns_label_past_end(void **state)
{
    (void)state;
    expect_rejected(h_label_past_end, DROP(drop_record), "label past the end");
}

/* ANCOUNT 5, one record present: rejected, even though the record present
 * would answer (uIP, AMNESIA:33). */
static void h_count_lies(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 5);
    mb_u16(out, 0xC00C);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

/* QDCOUNT 0 and 2. */
static void h_qdcount_0(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 0);
    be16_put(out->b + 4, 0);
}

static void h_qdcount_2(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 0);
    be16_put(out->b + 4, 2);
}

static void test_dns_answer_count_lies(void **state)
{
    (void)state;
    expect_rejected(h_count_lies, DROP(drop_record), "ancount 5 of 1");
    expect_rejected(h_qdcount_0, DROP(drop_question), "qdcount 0");
    expect_rejected(h_qdcount_2, DROP(drop_question), "qdcount 2");
}

/* RDLENGTH past the end; an A record of 16 bytes; a CNAME whose target
 * runs past its RDATA. */
static void h_rdlength_past_end(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u16(out, 0xC00C);
    mb_rr(out, 1, 60, 200);
    mb_u32(out, 0x0A000001);
}

static void h_a_rdlength_16(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u16(out, 0xC00C);
    mb_rr(out, 1, 60, 16);
    for (int i = 0; i < 4; i++)
        mb_u32(out, 0x0A000001);
}

static void h_cname_past_rdata(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 2);
    mb_u16(out, 0xC00C);
    mb_rr(out, 5, 60, 3); /* claims 3 bytes; the name is 13 */
    mb_name(out, "web.example");
    mb_u16(out, 0xC00C);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

static void test_dns_rdlength_lies(void **state)
{
    (void)state;
    expect_rejected(h_rdlength_past_end, DROP(drop_rdata), "rdlength past the end");
    expect_rejected(h_a_rdlength_16, DROP(drop_rdata), "A record of 16 bytes");
    expect_rejected(h_cname_past_rdata, DROP(drop_record), "CNAME target past its RDATA");
}

/* A record header cut short; the question's type and class cut. */
static void h_record_cut(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u16(out, 0xC00C);
    mb_u16(out, 1);
    mb_u16(out, 1);
    mb_u16(out, 0);
}

static void h_question_cut(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 0);
    out->n -= 3;
}

static void test_dns_truncated_record(void **state)
{
    (void)state;
    expect_rejected(h_record_cut, DROP(drop_record), "record header cut");
    expect_rejected(h_question_cut, DROP(drop_record), "question cut");
}

static void h_short(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 0);
    out->n = 11;
}

static void test_dns_short_header(void **state)
{
    (void)state;
    expect_rejected(h_short, DROP(drop_short), "11 bytes");
}

static void h_wrong_id(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    be16_put(out->b, (uint16_t)(q->id + 1));
    mb_u16(out, 0xC00C);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

static void test_dns_wrong_id(void **state)
{
    (void)state;
    expect_rejected(h_wrong_id, DROP(drop_id), "id + 1");
}

static void h_other_name(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    dq_t other = *q;
    strcpy(other.name, "evil.example");
    mb_response_start(out, &other, 0x8180, 1);
    mb_u16(out, 0xC00C);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
}

static void h_other_type(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    dq_t other = *q;
    other.qtype = 28;
    mb_response_start(out, &other, 0x8180, 0);
}

static void test_dns_wrong_question(void **state)
{
    (void)state;
    expect_rejected(h_other_name, DROP(drop_question), "another name");
    expect_rejected(h_other_type, DROP(drop_question), "AAAA question");
}

static void h_other_source(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)sport;
    mb_response_start(out, q, 0x8180, 1);
    mb_u16(out, 0xC00C);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
    *src = NS3; /* a server, but not the one asked */
}

static void h_other_port(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src;
    mb_response_start(out, q, 0x8180, 1);
    mb_u16(out, 0xC00C);
    mb_rr(out, 1, 60, 4);
    mb_u32(out, 0x0A000001);
    *sport = 5353;
}

static void test_dns_wrong_source(void **state)
{
    (void)state;
    expect_rejected(h_other_source, DROP(drop_source), "other server");
    expect_rejected(h_other_port, DROP(drop_source), "source port 5353");
}

static void h_query_not_response(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x0100, 0);
}

static void h_opcode(const dq_t *q, msgb_t *out, tern_ip4_t *src, uint16_t *sport)
{
    (void)src, (void)sport;
    mb_response_start(out, q, 0x9180, 0); /* opcode 2 (STATUS) */
}

static void test_dns_not_a_response(void **state)
{
    (void)state;
    expect_rejected(h_query_not_response, DROP(drop_not_response), "QR clear");
    expect_rejected(h_opcode, DROP(drop_not_response), "opcode 2");
}

/* TC set: no answer from that response; the next server is asked at once;
 * TC from everyone ends with MSGSIZE. */
static void test_dns_tc_bit(void **state)
{
    (void)state;
    world_t *w = world_new(18);
    w->tc_mask = 1;
    unsigned q0 = w->nq;
    tern_ip4_t addr;
    assert_int_equal(resolve(w, "host.example", &addr, 1000), TERN_OK);
    assert_int_equal(w->nq, q0 + 2);
    assert_true(w->q[q0 + 1].time - w->q[q0].time <= 2);
    const tern_dns_stats_t *s = tern_dns_stats(w->stack);
    assert_int_equal(s->drop_truncated, 1);
    w->tc_mask = 7;
    assert_int_equal(resolve(w, "a.example", &addr, 1000), TERN_ERR_MSGSIZE);
    world_free(w);
}

/* Fail each allocation attempt of a lookup in turn (query, cache entry,
 * and in the HEAP variant the network buffers): a clean error or a late
 * success, never a leak. */
static void test_dns_alloc_failures(void **state)
{
    (void)state;
    world_t *w = world_new(19);
    tern_ip4_t addr;
    uint32_t a0 = tern_ledger_attempts(&w->stack->ledger);
    assert_int_equal(resolve(w, "host.example", &addr, 1000), TERN_OK);
    uint32_t attempts = tern_ledger_attempts(&w->stack->ledger) - a0;
    world_free(w);
    assert_true(attempts >= 2); /* the query and the cache entry at least */
    for (uint32_t nth = 1; nth <= attempts + 1; nth++) {
        for (int every = 0; every <= 1; every++) {
            w = world_new(19);
            tern_ledger_fail_nth(&w->stack->ledger, nth, every);
            int r = lookup(w, "host.example", &addr);
            if (r == TERN_ERR_INPROGRESS) {
                run_for(w, 10000);
                assert_int_equal(w->done, 1);
                if (!every)
                    assert_int_equal(w->result, TERN_OK);
            } else {
                assert_int_equal(r, TERN_ERR_NOMEM);
                assert_int_equal(nth, 1);
            }
            tern_ledger_fail_nth(&w->stack->ledger, 0, 0);
            world_free(w);
        }
    }
    /* tern_dns_start itself */
    w = world_new(19);
    tern_dns_stop(w->stack);
    tern_ledger_fail_nth(&w->stack->ledger, 1, 0);
    assert_int_equal(tern_dns_start(w->stack), TERN_ERR_NOMEM);
    assert_null(tern_stack_find_service(w->stack, "dns"));
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_lookup_a),
        cmocka_unit_test(test_dns_literal_and_bad_names),
        cmocka_unit_test(test_dns_not_started),
        cmocka_unit_test(test_dns_cache_ttl),
        cmocka_unit_test(test_dns_cache_bounded),
        cmocka_unit_test(test_dns_retries_rotate_servers),
        cmocka_unit_test(test_dns_timeout),
        cmocka_unit_test(test_dns_nxdomain_and_nodata),
        cmocka_unit_test(test_dns_nodata),
        cmocka_unit_test(test_dns_servfail_moves_on),
        cmocka_unit_test(test_dns_cname_chain),
        cmocka_unit_test(test_dns_start_and_poll),
        cmocka_unit_test(test_dns_blocking_resolve),
        cmocka_unit_test(test_dns_stop_and_cancel),
        cmocka_unit_test(test_dns_max_queries),
        cmocka_unit_test(test_dns_predictable_id_and_port),
        cmocka_unit_test(test_dns_compression_loop),
        cmocka_unit_test(test_dns_pointer_forward),
        cmocka_unit_test(test_dns_pointer_outside_message),
        cmocka_unit_test(test_dns_label_too_long),
        cmocka_unit_test(test_dns_name_too_long),
        cmocka_unit_test(test_dns_label_past_end),
        cmocka_unit_test(test_dns_answer_count_lies),
        cmocka_unit_test(test_dns_rdlength_lies),
        cmocka_unit_test(test_dns_truncated_record),
        cmocka_unit_test(test_dns_short_header),
        cmocka_unit_test(test_dns_wrong_id),
        cmocka_unit_test(test_dns_wrong_question),
        cmocka_unit_test(test_dns_wrong_source),
        cmocka_unit_test(test_dns_not_a_response),
        cmocka_unit_test(test_dns_tc_bit),
        cmocka_unit_test(test_dns_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
