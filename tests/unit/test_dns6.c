/* TERN_TEST_IPV6_VARIANT */
/* The DNS client's IPv6 half (RFC 3596), two stacks on the virtual wire:
 * A runs the client with B's link-local address as its server
 * (tern_dns_set_servers6), B answers on [::]:53 with crafted responses.
 * AAAA answers (callback, start-and-poll and the cache, kept apart from A
 * records), an A lookup over the IPv6 server, CNAME chains, answers of the
 * wrong type (NODATA), AAAA records of the wrong length, truncated records,
 * a question of the wrong type and a reply from the wrong address, each
 * rejected and counted with the query still waiting. Memory back at its
 * baseline after each. */
#include <stdlib.h>
#include <string.h>
#include "net/ipv6_internal.h"
#include "tern/dns.h"
#include "tern/err.h"
#include "tern/stack.h"
#include "tern/udp.h"
#include "tern_test.h"
#include "wire2.h"

#if !TERN_IPV6
#error "test_dns6 runs on the dual-stack variant (TERN_TEST_IPV6_VARIANT, tests/CMakeLists.txt)"
#endif

/* 2001:db8::a:1 (documentation prefix, RFC 3849) */
static const uint8_t ADDR6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 1};
#define ADDR4 TERN_IP4(198, 51, 100, 7)

enum mode {
    M_AAAA,         /* one AAAA record for the name */
    M_BOTH,         /* an A record first, then the AAAA */
    M_CNAME,        /* AAAA of the alias first, then the CNAME to it */
    M_ONLY_A,       /* an A record only: NODATA for AAAA */
    M_AAAA_LEN4,    /* an AAAA record with 4 bytes of data */
    M_TRUNC_RECORD, /* ANCOUNT 1, the record cut after its name */
    M_QTYPE_A,      /* the question echoed with type A */
    M_SILENT        /* no answer */
};

typedef struct world {
    tern_test_port_t pa, pb;
    wire2_t w;
    tern_ip6_t ll_a, ll_b;
    tern_udp_pcb_t srv;
    enum mode mode;
    unsigned queries;     /* seen by the server */
    uint16_t last_qtype;
    /* the client's callback */
    int done, result;
    tern_sockaddr_t got;
    char name[64];
} world_t;

static void link_local(const uint8_t mac[6], tern_ip6_t *out)
{
    memset(out, 0, sizeof *out);
    out->b[0] = 0xFE;
    out->b[1] = 0x80;
    ipv6_iid_eui64(mac, out->b + 8);
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* An answer record owned by the name at offset 12 (a pointer). */
static size_t rr(uint8_t *p, unsigned type, uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
    p[0] = 0xC0;
    p[1] = 12;
    put16(p + 2, type);
    put16(p + 4, 1);
    put16(p + 6, ttl >> 16);
    put16(p + 8, ttl & 0xFFFFu);
    put16(p + 10, (unsigned)rdlen);
    memcpy(p + 12, rdata, rdlen);
    return 12u + rdlen;
}

static void srv_recv(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
                     const tern_udp_rx_info_t *info)
{
    world_t *x = ctx;
    uint8_t q[300], out[600];
    size_t qn = nb->len < sizeof q ? nb->len : sizeof q;
    memcpy(q, nb->data, qn);
    tern_netbuf_release(&stack->netbufs, nb);
    x->queries++;
    assert_true(qn > 12u + 5u);
    size_t qend = qn; /* the question: the whole query (no EDNS) */
    x->last_qtype = (uint16_t)((q[qend - 4u] << 8) | q[qend - 3u]);
    if (x->mode == M_SILENT)
        return;
    memcpy(out, q, qend);
    put16(out + 2, 0x8180u); /* QR, RD, RA */
    size_t n = qend;
    unsigned an = 0;
    uint8_t a4[4] = {198, 51, 100, 7};
    switch (x->mode) {
    case M_AAAA:
        n += rr(out + n, 28, 300, ADDR6, 16);
        an = 1;
        break;
    case M_BOTH:
        n += rr(out + n, 1, 300, a4, 4);
        n += rr(out + n, 28, 300, ADDR6, 16);
        an = 2;
        break;
    case M_CNAME: {
        /* "alias" + pointer to the query name's second label would be
         * fancy; a plain name is enough: alias.example. */
        static const uint8_t alias[] = {5, 'a', 'l', 'i', 'a', 's', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
        size_t alias_at = n + 12u; /* the CNAME's RDATA comes first */
        n += rr(out + n, 5, 600, alias, sizeof alias);
        /* then the AAAA owned by the alias (a pointer to the RDATA) */
        uint8_t *p = out + n;
        p[0] = (uint8_t)(0xC0u | (alias_at >> 8));
        p[1] = (uint8_t)alias_at;
        put16(p + 2, 28);
        put16(p + 4, 1);
        put16(p + 6, 0);
        put16(p + 8, 120);
        put16(p + 10, 16);
        memcpy(p + 12, ADDR6, 16);
        n += 28u;
        an = 2;
        break;
    }
    case M_ONLY_A:
        n += rr(out + n, 1, 300, a4, 4);
        an = 1;
        break;
    case M_AAAA_LEN4:
        n += rr(out + n, 28, 300, a4, 4);
        an = 1;
        break;
    case M_TRUNC_RECORD:
        n += rr(out + n, 28, 300, ADDR6, 16) - 20u; /* name, type, class and 2 bytes of TTL */
        an = 1;
        break;
    case M_QTYPE_A:
        put16(out + qend - 4u, 1);
        n += rr(out + n, 28, 300, ADDR6, 16);
        an = 1;
        break;
    default:
        break;
    }
    put16(out + 6, an);
    tern_netbuf_t *r = tern_udp_netbuf_get(stack, n, 0);
    assert_non_null(r);
    memcpy(r->data, out, n);
    assert_int_equal(tern_udp_sendto(stack, pcb, r, &info->from), TERN_OK);
}

static void on_found(tern_stack_t *stack, void *ctx, const char *name, int result, const tern_sockaddr_t *addr)
{
    world_t *x = ctx;
    (void)stack;
    x->done = 1;
    x->result = result;
    strncpy(x->name, name, sizeof x->name - 1u);
    if (addr != NULL)
        x->got = *addr;
    else
        memset(&x->got, 0, sizeof x->got);
}

static world_t *world_new(uint64_t seed)
{
    world_t *x = calloc(1, sizeof *x);
    assert_non_null(x);
    tern_test_port_init(&x->pa, seed * 3u + 1u);
    tern_test_port_init(&x->pb, seed * 3u + 2u);
    wire2_init(&x->w, seed, NULL, &x->pa.port, &x->pb.port);
    assert_int_equal(tern_ipv6_enable(x->w.a, &x->w.nif_a, NULL), TERN_OK);
    assert_int_equal(tern_ipv6_enable(x->w.b, &x->w.nif_b, NULL), TERN_OK);
    wire2_run(&x->w, 3000);
    link_local(W2_MAC_A, &x->ll_a);
    link_local(W2_MAC_B, &x->ll_b);
    tern_udp_pcb_init(&x->srv, srv_recv, x);
    tern_sockaddr_t any = {.addr = 0, .port = 53, .family = TERN_FAMILY_IP6};
    assert_int_equal(tern_udp_bind(x->w.b, &x->srv, &any), TERN_OK);
    assert_int_equal(tern_dns_start(x->w.a), TERN_OK);
    assert_int_equal(tern_dns_set_servers6(x->w.a, &x->ll_b, 1), TERN_OK);
    return x;
}

static void world_free(world_t *x)
{
    tern_dns_stop(x->w.a);
    tern_udp_unbind(x->w.b, &x->srv);
    wire2_deinit(&x->w);
    free(x);
}

static int lookup6(world_t *x, const char *name, uint8_t family)
{
    x->done = 0;
    x->result = 1;
    tern_sockaddr_t sa;
    int r = tern_dns_lookup_addr(x->w.a, name, family, &sa, on_found, x);
    if (r == TERN_OK) {
        x->done = 1;
        x->result = r;
        x->got = sa;
        return r;
    }
    assert_int_equal(r, TERN_ERR_INPROGRESS);
    for (unsigned i = 0; i < 200 && !x->done; i++)
        wire2_run(&x->w, 100);
    assert_true(x->done);
    return x->result;
}

/* An AAAA answer through the callback, then from the cache; the cache
 * entry does not answer an A lookup, which asks again (type A, over IPv6). */
static void test_dns6_aaaa_and_cache(void **state)
{
    (void)state;
    world_t *x = world_new(21);
    tern_stack_t *a = x->w.a;
    size_t base = tern_ledger_total_bytes(&a->ledger);
    x->mode = M_AAAA;
    assert_int_equal(lookup6(x, "Host.Example", TERN_FAMILY_IP6), TERN_OK);
    assert_int_equal(x->got.family, TERN_FAMILY_IP6);
    assert_memory_equal(x->got.addr6.b, ADDR6, 16);
    assert_string_equal(x->name, "host.example");
    assert_int_equal(x->last_qtype, 28);
    assert_int_equal(x->queries, 1);
    const tern_dns_stats_t *s = tern_dns_stats(a);
    assert_int_equal(s->answers, 1);
    /* cached */
    assert_int_equal(lookup6(x, "host.example", TERN_FAMILY_IP6), TERN_OK);
    assert_memory_equal(x->got.addr6.b, ADDR6, 16);
    assert_int_equal(x->queries, 1);
    assert_int_equal(s->cache_hits, 1);
    /* An A lookup is another question (the server answers both records). */
    x->mode = M_BOTH;
    tern_ip4_t v4 = 0;
    assert_int_equal(tern_dns_lookup(a, "host.example", &v4, NULL, NULL), TERN_ERR_INPROGRESS);
    assert_int_equal(x->queries, 0u + 1u); /* sent on the next wire run */
    for (unsigned i = 0; i < 10; i++)
        wire2_run(&x->w, 50);
    assert_int_equal(x->last_qtype, 1);
    assert_int_equal(tern_dns_lookup(a, "host.example", &v4, NULL, NULL), TERN_OK);
    assert_int_equal(v4, ADDR4);
    assert_int_equal(tern_dns_cache_count(a), 2);
    /* The family-aware form of an A lookup: from the cache now. */
    assert_int_equal(lookup6(x, "host.example", TERN_FAMILY_IP4), TERN_OK);
    assert_int_equal(x->got.family, TERN_FAMILY_IP4);
    assert_int_equal(x->got.addr, ADDR4);
    /* The query went to B's link-local address. */
    assert_true(a->counters.udp6_rx >= 2u);
    tern_dns_cache_flush(a);
    assert_int_equal(tern_ledger_total_bytes(&a->ledger), base);
    world_free(x);
}

/* Start-and-poll with family IP6; the A record before the AAAA is skipped. */
static void test_dns6_poll_and_both_types(void **state)
{
    (void)state;
    world_t *x = world_new(22);
    tern_stack_t *a = x->w.a;
    x->mode = M_BOTH;
    tern_sockaddr_t sa;
    memset(&sa, 0, sizeof sa);
    assert_int_equal(tern_dns_lookup_addr(a, "poll.example", TERN_FAMILY_IP6, &sa, NULL, NULL), TERN_ERR_INPROGRESS);
    /* the same name asked for A is another query */
    tern_dns_query_info_t qi;
    assert_int_equal(tern_dns_query_info(a, 0, &qi), TERN_OK);
    assert_int_equal(qi.family, TERN_FAMILY_IP6);
    assert_int_equal(qi.server_addr.family, TERN_FAMILY_IP6);
    assert_memory_equal(qi.server_addr.addr6.b, x->ll_b.b, 16);
    assert_int_equal(qi.server, 0);
    int r = TERN_ERR_INPROGRESS;
    for (unsigned i = 0; i < 50 && r == TERN_ERR_INPROGRESS; i++) {
        wire2_run(&x->w, 50);
        r = tern_dns_lookup_addr(a, "poll.example", TERN_FAMILY_IP6, &sa, NULL, NULL);
    }
    assert_int_equal(r, TERN_OK);
    assert_int_equal(sa.family, TERN_FAMILY_IP6);
    assert_memory_equal(sa.addr6.b, ADDR6, 16);
    assert_int_equal(tern_dns_query_info(a, 0, &qi), TERN_ERR_INVAL); /* collected and freed */
    world_free(x);
}

/* A CNAME chain: the AAAA of the alias, listed before the CNAME. */
static void test_dns6_cname(void **state)
{
    (void)state;
    world_t *x = world_new(23);
    x->mode = M_CNAME;
    assert_int_equal(lookup6(x, "www.example", TERN_FAMILY_IP6), TERN_OK);
    assert_memory_equal(x->got.addr6.b, ADDR6, 16);
    world_free(x);
}

/* Only an A record for an AAAA question: the name has no IPv6 address. */
static void test_dns6_wrong_type_is_nodata(void **state)
{
    (void)state;
    world_t *x = world_new(24);
    x->mode = M_ONLY_A;
    assert_int_equal(lookup6(x, "v4only.example", TERN_FAMILY_IP6), TERN_ERR_NOTFOUND);
    assert_int_equal(tern_dns_stats(x->w.a)->nxdomain, 1);
    assert_int_equal(tern_dns_cache_count(x->w.a), 0);
    world_free(x);
}

/* Hostile answers: each dropped and counted, the query left waiting (it
 * times out: the server only ever sends the bad one). */
static void expect_dropped(enum mode m, size_t counter_off)
{
    world_t *x = world_new(30u + (unsigned)m);
    x->mode = m;
    const tern_dns_stats_t *s = tern_dns_stats(x->w.a);
    assert_int_equal(lookup6(x, "bad.example", TERN_FAMILY_IP6), TERN_ERR_TIMEOUT);
    uint32_t count;
    memcpy(&count, (const uint8_t *)s + counter_off, sizeof count);
    assert_int_equal(count, TERN_DNS_MAX_TRIES);
    assert_int_equal(s->answers, 0);
    assert_int_equal(x->queries, TERN_DNS_MAX_TRIES);
    world_free(x);
}

static void test_dns6_aaaa_wrong_length(void **state)
{
    (void)state;
    expect_dropped(M_AAAA_LEN4, offsetof(tern_dns_stats_t, drop_rdata));
}

static void test_dns6_truncated_record(void **state)
{
    (void)state;
    expect_dropped(M_TRUNC_RECORD, offsetof(tern_dns_stats_t, drop_record));
}

static void test_dns6_question_type(void **state)
{
    (void)state;
    expect_dropped(M_QTYPE_A, offsetof(tern_dns_stats_t, drop_question));
}

/* A reply from an address we did not ask (B's other address: none, so the
 * server is moved): dropped as drop_source. Also the API's arguments. */
static void test_dns6_source_and_args(void **state)
{
    (void)state;
    world_t *x = world_new(40);
    tern_stack_t *a = x->w.a;
    /* Ask a server that does not exist on the link; B's answer would come
     * from another address. Here: B answers for ll_b, but the client asked
     * fe80::99 first (never resolved), then B. */
    tern_ip6_t servers[2];
    memset(servers, 0, sizeof servers);
    servers[0].b[0] = 0xFE;
    servers[0].b[1] = 0x80;
    servers[0].b[15] = 0x99;
    servers[1] = x->ll_b;
    assert_int_equal(tern_dns_set_servers6(a, servers, 2), TERN_OK);
    tern_ip6_t got[3];
    assert_int_equal(tern_dns_get_servers6(a, got, 3), 2);
    assert_memory_equal(got[1].b, x->ll_b.b, 16);
    x->mode = M_AAAA;
    assert_int_equal(lookup6(x, "two.example", TERN_FAMILY_IP6), TERN_OK); /* the second try reached B */
    assert_int_equal(tern_dns_stats(a)->retries, 1);
    /* Arguments. */
    tern_sockaddr_t sa;
    assert_int_equal(tern_dns_lookup_addr(a, "x.example", 7, &sa, on_found, x), TERN_ERR_INVAL);
    assert_int_equal(tern_dns_lookup_addr(a, "2001:db8::1", TERN_FAMILY_IP6, &sa, on_found, x), TERN_ERR_INVAL);
    assert_int_equal(tern_dns_lookup_addr(a, "192.0.2.9", TERN_FAMILY_IP4, &sa, NULL, NULL), TERN_OK);
    assert_int_equal(sa.family, TERN_FAMILY_IP4);
    assert_int_equal(sa.addr, TERN_IP4(192, 0, 2, 9));
    tern_ip6_t bad = ip6_any;
    assert_int_equal(tern_dns_set_servers6(a, &bad, 1), TERN_ERR_INVAL);
    bad = ip6_all_nodes;
    assert_int_equal(tern_dns_set_servers6(a, &bad, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_dns_set_servers6(a, servers, TERN_DNS_MAX_SERVERS + 1u), TERN_ERR_INVAL);
    /* Cancel: the callback is not called. */
    x->done = 0;
    assert_int_equal(tern_dns_lookup_addr(a, "cancel.example", TERN_FAMILY_IP6, &sa, on_found, x),
                     TERN_ERR_INPROGRESS);
    tern_dns_cancel_addr(a, on_found, x);
    wire2_run(&x->w, 3000);
    assert_false(x->done);
    /* n 0 clears them: no server left. */
    assert_int_equal(tern_dns_set_servers6(a, NULL, 0), TERN_OK);
    assert_int_equal(tern_dns_lookup_addr(a, "none.example", TERN_FAMILY_IP6, &sa, on_found, x), TERN_ERR_STATE);
    world_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns6_aaaa_and_cache),     cmocka_unit_test(test_dns6_poll_and_both_types),
        cmocka_unit_test(test_dns6_cname),              cmocka_unit_test(test_dns6_wrong_type_is_nodata),
        cmocka_unit_test(test_dns6_aaaa_wrong_length),  cmocka_unit_test(test_dns6_truncated_record),
        cmocka_unit_test(test_dns6_question_type),      cmocka_unit_test(test_dns6_source_and_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
