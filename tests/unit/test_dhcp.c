/* TERN_TEST_STATIC_VARIANT */
/* The DHCP client over the virtual wire, on virtual time, against a
 * scripted server on the wire's other side: the full exchange, lost,
 * duplicated and malformed replies, NAK, renewing at T1, rebinding at T2,
 * expiry, DECLINE on an ARP conflict, the static fallback, and allocation
 * failures at every allocation of an exchange. Memory is back at its
 * baseline after each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern/dhcp.h"
#include "tern/dns.h"
#include "tern/stack.h"
#include "tern_test.h"
#include "tern_vwire.h"
#include "wire2.h"

#define SRV_IP TERN_IP4(192, 0, 2, 1)
#define OFFER_IP TERN_IP4(192, 0, 2, 50)
#define OFFER_IP2 TERN_IP4(192, 0, 2, 51)
#define MASK24 TERN_IP4(255, 255, 255, 0)
#define DNS1 TERN_IP4(192, 0, 2, 53)
#define DNS2 TERN_IP4(192, 0, 2, 54)
#define FB_IP TERN_IP4(192, 0, 2, 200)
#define MAX_LOG 128u

static const uint8_t SRV_MAC[6] = {0x02, 0x5e, 0, 0, 0, 0x01};
static const uint8_t CLI_MAC[6] = {0x02, 0x7e, 0, 0, 0, 0x02};
static const uint8_t OTHER_MAC[6] = {0x02, 0x6f, 0, 0, 0, 0x03};

/* One message the client sent, as the server saw it. */
typedef struct seen_msg {
    uint8_t type;
    uint32_t time;
    uint32_t xid;
    uint32_t secs;
    uint32_t flags;
    tern_ip4_t ciaddr, reqip, srvid, ip_src, ip_dst;
    int has_reqip, has_srvid, has_prl, has_cid;
    char hostname[64];
    uint8_t eth_dst[6];
} seen_msg_t;

typedef struct dsrv dsrv_t;
/* Change a reply before it goes out (payload bytes, length). */
typedef void (*mangle_fn)(dsrv_t *s, uint8_t *p, size_t *len, uint8_t type);

struct dsrv {
    tern_vwire_t *wire;
    tern_ip4_t offer_ip;
    tern_ip4_t mask, router;
    tern_ip4_t dns[2];
    unsigned ndns;
    uint32_t lease, t1, t2;     /* t1/t2 0: not sent */
    int no_mask;
    unsigned ignore_discovers;  /* drop this many DISCOVERs first */
    unsigned ignore_requests;   /* drop this many REQUESTs first */
    unsigned nak_requests;      /* NAK this many REQUESTs (after the ignored ones) */
    int ignore_renewals;        /* no answer to REQUESTs with ciaddr set */
    int ignore_rebinds;         /* no answer to broadcast REQUESTs with ciaddr set */
    int silent;                 /* answer nothing at all */
    int dup;                    /* every reply twice */
    tern_ip4_t conflict_ip;     /* answer ARP probes for it as OTHER_MAC */
    mangle_fn mangle;
    unsigned mangle_count;      /* replies left to mangle */
    unsigned n;
    seen_msg_t msg[MAX_LOG];
    unsigned probes;
    uint32_t probe_time[16];
    tern_ip4_t probe_target[16];
    unsigned arp_answers;
};

static seen_msg_t *last_of(dsrv_t *s, uint8_t type)
{
    for (unsigned i = s->n; i > 0; i--)
        if (s->msg[i - 1].type == type)
            return &s->msg[i - 1];
    return NULL;
}

static unsigned count_of(const dsrv_t *s, uint8_t type)
{
    unsigned c = 0;
    for (unsigned i = 0; i < s->n; i++)
        c += s->msg[i].type == type;
    return c;
}

/* Build a reply payload into out; returns its length. */
static size_t reply_payload(dsrv_t *s, uint8_t *out, uint8_t type, uint32_t xid, const uint8_t chaddr[6],
                            tern_ip4_t yiaddr)
{
    memset(out, 0, 600);
    out[0] = 2;
    out[1] = 1;
    out[2] = 6;
    be32_put(out + 4, xid);
    be16_put(out + 10, 0x8000);
    be32_put(out + 16, yiaddr);
    be32_put(out + 20, SRV_IP);
    memcpy(out + 28, chaddr, 6);
    be32_put(out + 236, 0x63825363u);
    size_t n = 240;
    out[n++] = 53;
    out[n++] = 1;
    out[n++] = type;
    out[n++] = 54;
    out[n++] = 4;
    be32_put(out + n, SRV_IP);
    n += 4;
    if (type != 6) {
        out[n++] = 51;
        out[n++] = 4;
        be32_put(out + n, s->lease);
        n += 4;
        if (!s->no_mask) {
            out[n++] = 1;
            out[n++] = 4;
            be32_put(out + n, s->mask);
            n += 4;
        }
        if (s->router) {
            out[n++] = 3;
            out[n++] = 4;
            be32_put(out + n, s->router);
            n += 4;
        }
        if (s->ndns) {
            out[n++] = 6;
            out[n++] = (uint8_t)(4 * s->ndns);
            for (unsigned i = 0; i < s->ndns; i++, n += 4)
                be32_put(out + n, s->dns[i]);
        }
        if (s->t1) {
            out[n++] = 58;
            out[n++] = 4;
            be32_put(out + n, s->t1);
            n += 4;
        }
        if (s->t2) {
            out[n++] = 59;
            out[n++] = 4;
            be32_put(out + n, s->t2);
            n += 4;
        }
    }
    out[n++] = 255;
    while (n < 300)
        out[n++] = 0;
    return n;
}

/* A UDP payload (sport -> dport) sent from the server side of the wire. */
static void srv_send_udp(dsrv_t *s, const uint8_t eth_dst[6], tern_ip4_t src, tern_ip4_t dst, uint16_t sport,
                         uint16_t dport, const uint8_t *payload, size_t len)
{
    wire_send_udp(s->wire, 1, eth_dst, SRV_MAC, src, dst, sport, dport, payload, len);
}

static void srv_reply(dsrv_t *s, const seen_msg_t *m, const uint8_t chaddr[6], uint8_t type, tern_ip4_t yiaddr)
{
    uint8_t p[600];
    size_t len = reply_payload(s, p, type, m->xid, chaddr, yiaddr);
    if (s->mangle != NULL && s->mangle_count > 0) {
        s->mangle_count--;
        s->mangle(s, p, &len, type);
    }
    /* RFC 2131 4.1: broadcast when the client has no address or asked for
     * it; else unicast to ciaddr. */
    int bcast = m->ciaddr == 0 || (m->flags & 0x8000u);
    for (int k = 0; k < (s->dup ? 2 : 1); k++)
        srv_send_udp(s, bcast ? FR_BCAST_MAC : chaddr, SRV_IP, bcast ? 0xFFFFFFFFu : m->ciaddr, 67, 68, p, len);
}

static void srv_arp(dsrv_t *s, const uint8_t *a, uint32_t now)
{
    uint32_t op = be16_get(a + 6);
    tern_ip4_t spa = be32_get(a + 14), tpa = be32_get(a + 24);
    uint8_t frame[64];
    if (op != 1)
        return;
    if (spa == 0) {
        if (s->probes < 16) {
            s->probe_time[s->probes] = now;
            s->probe_target[s->probes] = tpa;
        }
        s->probes++;
        if (s->conflict_ip != 0 && tpa == s->conflict_ip) {
            /* RFC 5227 2.1.1: the owner answers the probe. */
            size_t fl = frame_arp_eth(frame, a + 8, 2, OTHER_MAC, tpa, a + 8, 0);
            assert_int_equal(tern_vwire_send(s->wire, 1, frame, fl), TERN_OK);
            s->arp_answers++;
        }
        return;
    }
    if (tpa == SRV_IP) {
        size_t fl = frame_arp_eth(frame, a + 8, 2, SRV_MAC, SRV_IP, a + 8, spa);
        assert_int_equal(tern_vwire_send(s->wire, 1, frame, fl), TERN_OK);
        s->arp_answers++;
    }
}

static void srv_rx(void *ctx, int side, const uint8_t *f, size_t len, uint32_t now)
{
    dsrv_t *s = ctx;
    (void)side;
    assert_true(len >= 14);
    uint32_t type = be16_get(f + 12);
    if (type == 0x0806) {
        assert_true(len >= 42);
        srv_arp(s, f + 14, now);
        return;
    }
    assert_int_equal(type, 0x0800);
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    assert_int_equal(frame_checksum(ip, ihl), 0);
    if (ip[9] != 17)
        return;
    const uint8_t *udp = ip + ihl;
    size_t ulen = be16_get(udp + 4);
    assert_true(14 + ihl + ulen <= len);
    if (be16_get(udp + 2) != 67)
        return;
    assert_int_equal(be16_get(udp), 68);
    const uint8_t *p = udp + 8;
    size_t plen = ulen - 8;
    assert_true(plen >= 300); /* RFC 1542 minimum */
    assert_int_equal(p[0], 1);
    assert_int_equal(be32_get(p + 236), 0x63825363u);
    assert_memory_equal(p + 28, CLI_MAC, 6);
    assert_true(s->n < MAX_LOG);
    seen_msg_t *m = &s->msg[s->n++];
    memset(m, 0, sizeof *m);
    m->time = now;
    m->xid = be32_get(p + 4);
    m->secs = be16_get(p + 8);
    m->flags = be16_get(p + 10);
    m->ciaddr = be32_get(p + 12);
    m->ip_src = be32_get(ip + 12);
    m->ip_dst = be32_get(ip + 16);
    memcpy(m->eth_dst, f, 6);
    int ended = 0;
    for (size_t i = 240; i < plen;) {
        uint8_t code = p[i];
        if (code == 0) {
            i++;
            continue;
        }
        if (code == 255) {
            ended = 1;
            break;
        }
        uint8_t ol = p[i + 1];
        assert_true(i + 2 + ol <= plen);
        const uint8_t *v = p + i + 2;
        switch (code) {
        case 53:
            m->type = v[0];
            break;
        case 50:
            m->reqip = be32_get(v);
            m->has_reqip = 1;
            break;
        case 54:
            m->srvid = be32_get(v);
            m->has_srvid = 1;
            break;
        case 55:
            m->has_prl = 1;
            break;
        case 61:
            m->has_cid = ol == 7 && v[0] == 1 && memcmp(v + 1, CLI_MAC, 6) == 0;
            break;
        case 12:
            memcpy(m->hostname, v, ol);
            m->hostname[ol] = 0;
            break;
        default:
            break;
        }
        i += 2u + ol;
    }
    assert_true(ended);
    if (s->silent)
        return;
    switch (m->type) {
    case 1: /* DISCOVER */
        if (s->ignore_discovers > 0) {
            s->ignore_discovers--;
            return;
        }
        srv_reply(s, m, p + 28, 2, s->offer_ip);
        return;
    case 3: /* REQUEST */
        if (m->ciaddr != 0 && ((s->ignore_renewals && m->ip_dst != 0xFFFFFFFFu) ||
                               (s->ignore_rebinds && m->ip_dst == 0xFFFFFFFFu)))
            return;
        if (s->ignore_requests > 0) {
            s->ignore_requests--;
            return;
        }
        if (s->nak_requests > 0) {
            s->nak_requests--;
            srv_reply(s, m, p + 28, 6, 0);
            return;
        }
        srv_reply(s, m, p + 28, 5, m->ciaddr ? m->ciaddr : m->reqip);
        return;
    default:
        return; /* DECLINE, RELEASE: noted */
    }
}

/* ---- the world: one stack, one wire, one server --------------------------- */

typedef struct world {
    tern_test_port_t tp;
    tern_stack_t *stack;
    tern_netif_t nif;
    tern_vwire_t wire;
    dsrv_t srv;
    mem_snapshot_t base;
    int states[64];
    unsigned nstates;
} world_t;

static void on_state(tern_stack_t *stack, void *ctx, int state)
{
    world_t *w = ctx;
    (void)stack;
    if (w->nstates < 64)
        w->states[w->nstates] = state;
    w->nstates++;
}

static world_t *world_new(uint64_t seed)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->stack = wire_client_new(&w->wire, seed, &w->tp, &w->nif, CLI_MAC, srv_rx, &w->srv);
    dsrv_t *s = &w->srv;
    s->wire = &w->wire;
    s->offer_ip = OFFER_IP;
    s->mask = MASK24;
    s->router = SRV_IP;
    s->dns[0] = DNS1;
    s->dns[1] = DNS2;
    s->ndns = 2;
    s->lease = 3600;
    tern_vwire_run(&w->wire, 100);
    mem_snapshot(w->stack, &w->base);
    return w;
}

static void world_start(world_t *w)
{
    assert_int_equal(tern_dhcp_start(w->stack, &w->nif), TERN_OK);
    assert_int_equal(tern_dhcp_set_callback(w->stack, on_state, w), TERN_OK);
}

static uint32_t now_of(world_t *w)
{
    return tern_vwire_now(&w->wire);
}

static void run_for(world_t *w, uint32_t ms)
{
    tern_vwire_run(&w->wire, now_of(w) + ms);
}

/* Run in 50 ms steps until the client is in state, at most max_ms. */
static int run_until_state(world_t *w, int state, uint32_t max_ms)
{
    uint32_t end = now_of(w) + max_ms;
    while (tern_dhcp_state(w->stack) != state) {
        if ((int32_t)(now_of(w) - end) >= 0)
            return 0;
        tern_vwire_run(&w->wire, now_of(w) + 50);
    }
    return 1;
}

/* Run in 10 ms steps until the client has renewed (or rebound) n times in
 * all and is BOUND again, at most max_ms. */
static int run_until_renewed(world_t *w, uint32_t n, int rebind, uint32_t max_ms)
{
    uint32_t end = now_of(w) + max_ms;
    for (;;) {
        const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
        if ((rebind ? st->rebinds : st->renewals) >= n && tern_dhcp_state(w->stack) == TERN_DHCP_BOUND)
            return 1;
        if ((int32_t)(now_of(w) - end) >= 0)
            return 0;
        tern_vwire_run(&w->wire, now_of(w) + 10);
    }
}

static void world_free(world_t *w)
{
    tern_dhcp_stop(w->stack);
    tern_dns_stop(w->stack);
    run_for(w, 5000); /* frames in flight land, ARP gives up */
    mem_assert_baseline(w->stack, &w->base);
    tern_vwire_destroy(&w->wire);
    wire_stack_free(w->stack);
    free(w);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_dhcp_full_exchange(void **state)
{
    (void)state;
    world_t *w = world_new(1);
    /* The category the client registers (registering first returns the same). */
    int dhcp_cat = tern_ledger_register_category(&w->stack->ledger, "DHCP");
    assert_true(dhcp_cat >= TERN_MEM_APP_FIRST);
    const tern_ledger_category_stats_t *cat = tern_ledger_category(&w->stack->ledger, (tern_mem_category_t)dhcp_cat);
    world_start(w);
    assert_int_equal(cat->blocks, 1);
    assert_int_equal(tern_dhcp_state(w->stack), TERN_DHCP_INIT);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    dsrv_t *s = &w->srv;
    /* DISCOVER then REQUEST, one xid, broadcast from 0.0.0.0 */
    assert_int_equal(s->n, 2);
    seen_msg_t *d = &s->msg[0], *r = &s->msg[1];
    assert_int_equal(d->type, 1);
    assert_true(d->time < 100 + 1000 + 2); /* within TERN_DHCP_INIT_DELAY_MS of the start */
    assert_int_equal(r->type, 3);
    assert_int_equal(d->xid, r->xid);
    for (int i = 0; i < 2; i++) {
        seen_msg_t *m = &s->msg[i];
        assert_int_equal(m->ip_src, 0);
        assert_int_equal(m->ip_dst, 0xFFFFFFFFu);
        assert_memory_equal(m->eth_dst, FR_BCAST_MAC, 6);
        assert_int_equal(m->flags, 0x8000);
        assert_int_equal(m->ciaddr, 0);
        assert_string_equal(m->hostname, TERN_DHCP_HOSTNAME);
        assert_true(m->has_prl && m->has_cid);
    }
    assert_false(d->has_reqip || d->has_srvid);
    assert_true(r->has_reqip && r->has_srvid);
    assert_int_equal(r->reqip, OFFER_IP);
    assert_int_equal(r->srvid, SRV_IP);
    /* RFC 5227: probes for the address from 0.0.0.0 before using it */
    assert_int_equal(s->probes, TERN_DHCP_ARP_PROBES);
    for (unsigned i = 0; i < s->probes; i++)
        assert_int_equal(s->probe_target[i], OFFER_IP);
    for (unsigned i = 1; i < s->probes; i++) {
        uint32_t gap = s->probe_time[i] - s->probe_time[i - 1];
        assert_true(gap >= TERN_DHCP_PROBE_INTERVAL_MS && gap <= 2 * TERN_DHCP_PROBE_INTERVAL_MS + 1);
    }
    assert_true(s->probe_time[0] >= r->time);
    /* configured */
    assert_int_equal(w->nif.addr, OFFER_IP);
    assert_int_equal(w->nif.netmask, MASK24);
    assert_int_equal(w->nif.gateway, SRV_IP);
    tern_dhcp_info_t in;
    assert_int_equal(tern_dhcp_get_info(w->stack, &in), TERN_OK);
    assert_int_equal(in.state, TERN_DHCP_BOUND);
    assert_int_equal(in.addr, OFFER_IP);
    assert_int_equal(in.server, SRV_IP);
    assert_int_equal(in.dns_count, 2);
    assert_int_equal(in.dns[0], DNS1);
    assert_int_equal(in.dns[1], DNS2);
    assert_int_equal(in.lease_s, 3600);
    assert_int_equal(in.t1_s, 1800);
    assert_int_equal(in.t2_s, 3150);
    /* states in order */
    static const int expect[] = {TERN_DHCP_SELECTING, TERN_DHCP_REQUESTING, TERN_DHCP_CHECKING, TERN_DHCP_BOUND};
    assert_int_equal(w->nstates, 4);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(w->states[i], expect[i]);
    const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
    assert_int_equal(st->tx_discover, 1);
    assert_int_equal(st->tx_request, 1);
    assert_int_equal(st->rx_offer, 1);
    assert_int_equal(st->rx_ack, 1);
    assert_int_equal(st->leases, 1);
    assert_int_equal(st->drop_short + st->drop_header + st->drop_xid + st->drop_chaddr + st->drop_cookie +
                         st->drop_options + st->drop_invalid + st->drop_state,
                     0);
    tern_test_sink_t *sink = calloc(1, sizeof *sink);
    tern_dhcp_report_text(w->stack, tern_test_sink_write, sink);
    assert_non_null(strstr(sink->text, "dhcp: bound 192.0.2.50/24 router 192.0.2.1 dns 192.0.2.53,192.0.2.54 "
                                       "server 192.0.2.1 lease 3600s t1 1800 t2 3150"));
    free(sink);
    /* a second start is refused; stop takes the address down and frees */
    assert_int_equal(tern_dhcp_start(w->stack, &w->nif), TERN_ERR_STATE);
    tern_dhcp_stop(w->stack);
    assert_int_equal(w->nif.addr, 0);
    assert_int_equal(cat->blocks, 0);
    assert_int_equal(tern_dhcp_state(w->stack), TERN_DHCP_STOPPED);
    assert_null(tern_dhcp_stats(w->stack));
    world_free(w);
}

static void test_dhcp_bad_arguments(void **state)
{
    (void)state;
    world_t *w = world_new(2);
    tern_netif_t stray = {0};
    assert_int_equal(tern_dhcp_start(w->stack, &stray), TERN_ERR_INVAL);
    assert_int_equal(tern_dhcp_start(NULL, &w->nif), TERN_ERR_INVAL);
    assert_int_equal(tern_dhcp_set_hostname(w->stack, "x"), TERN_ERR_STATE);
    assert_int_equal(tern_dhcp_get_info(w->stack, &(tern_dhcp_info_t){0}), TERN_ERR_STATE);
    world_start(w);
    assert_int_equal(tern_dhcp_set_hostname(w->stack, "has space"), TERN_ERR_INVAL);
    assert_int_equal(tern_dhcp_set_hostname(w->stack, "a-very-long-hostname-that-is-over-the-limit"),
                     TERN_ERR_INVAL);
    assert_int_equal(tern_dhcp_set_hostname(w->stack, "sensor-7"), TERN_OK);
    assert_int_equal(tern_dhcp_set_fallback(w->stack, TERN_IP4(224, 0, 0, 1), MASK24, 0, 3), TERN_ERR_INVAL);
    assert_int_equal(tern_dhcp_set_fallback(w->stack, FB_IP, TERN_IP4(255, 0, 255, 0), 0, 3), TERN_ERR_INVAL);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    assert_string_equal(w->srv.msg[0].hostname, "sensor-7");
    assert_string_equal(tern_dhcp_state_name(TERN_DHCP_REBINDING), "rebinding");
    assert_string_equal(tern_dhcp_state_name(99), "?");
    world_free(w);
}

/* RFC 2131 4.1: 4 s, 8 s, 16 s, 32 s, 64 s, 64 s ... each +/-1 s, same xid. */
static void test_dhcp_retransmission_backoff(void **state)
{
    (void)state;
    world_t *w = world_new(3);
    w->srv.ignore_discovers = 6;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 300000));
    dsrv_t *s = &w->srv;
    assert_int_equal(count_of(s, 1), 7);
    static const uint32_t base[] = {4000, 8000, 16000, 32000, 64000, 64000};
    for (unsigned i = 1; i < 7; i++) {
        uint32_t gap = s->msg[i].time - s->msg[i - 1].time;
        assert_true(gap + 1000 >= base[i - 1] && gap <= base[i - 1] + 1000 + 1);
        assert_int_equal(s->msg[i].xid, s->msg[0].xid);
        /* secs: time since the exchange began (RFC 2131 table 5) */
        assert_int_equal(s->msg[i].secs, (s->msg[i].time - s->msg[0].time) / 1000);
    }
    assert_int_equal(w->nif.addr, OFFER_IP);
    world_free(w);
}

/* REQUESTs unanswered: retransmitted, then the exchange starts over. */
static void test_dhcp_request_lost(void **state)
{
    (void)state;
    world_t *w = world_new(4);
    w->srv.ignore_requests = 2;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 40000));
    assert_int_equal(count_of(&w->srv, 3), 3);
    assert_int_equal(count_of(&w->srv, 1), 1);
    assert_int_equal(tern_dhcp_stats(w->stack)->restarts, 0);
    world_free(w);

    w = world_new(5);
    w->srv.ignore_requests = TERN_DHCP_REQUEST_TRIES;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 120000));
    dsrv_t *s = &w->srv;
    assert_int_equal(count_of(s, 3), TERN_DHCP_REQUEST_TRIES + 1);
    assert_int_equal(count_of(s, 1), 2);
    assert_int_not_equal(last_of(s, 1)->xid, s->msg[0].xid); /* a new exchange, a new xid */
    assert_int_equal(tern_dhcp_stats(w->stack)->restarts, 1);
    world_free(w);
}

static void test_dhcp_lossy_wire(void **state)
{
    (void)state;
    uint64_t seed = tern_test_seed(6);
    for (uint64_t k = 0; k < 8; k++) {
        world_t *w = world_new(seed + k);
        tern_vwire_params_t p = {.delay_ms = 1, .jitter_ms = 3, .loss_ppm = 300000, .dup_ppm = 200000};
        tern_vwire_set_params(&w->wire, 0, &p);
        tern_vwire_set_params(&w->wire, 1, &p);
        world_start(w);
        assert_true(run_until_state(w, TERN_DHCP_BOUND, 600000));
        assert_int_equal(w->nif.addr, OFFER_IP);
        world_free(w);
    }
}

/* Every reply twice: the copies are dropped as unexpected, nothing else. */
static void test_dhcp_duplicated_replies(void **state)
{
    (void)state;
    world_t *w = world_new(7);
    w->srv.dup = 1;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
    assert_int_equal(st->rx_offer, 1);
    assert_int_equal(st->rx_ack, 1);
    assert_int_equal(st->drop_state, 2);
    assert_int_equal(count_of(&w->srv, 3), 1);
    world_free(w);
}

/* ---- malformed replies: each dropped and counted once ---------------------- */

typedef struct bad_case {
    const char *what;
    mangle_fn fn;
    size_t counter; /* offsetof in tern_dhcp_stats_t */
} bad_case_t;

/* Offset of option code in the reply's options, or 0. */
static size_t opt_at(const uint8_t *p, size_t len, uint8_t code)
{
    for (size_t i = 240; i + 1 < len && p[i] != 255;) {
        if (p[i] == 0) {
            i++;
            continue;
        }
        if (p[i] == code)
            return i;
        i += 2u + p[i + 1];
    }
    return 0;
}

static void m_short(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)p, (void)t;
    *len = 239;
}
static void m_op(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)len, (void)t;
    p[0] = 1;
}
static void m_htype(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)len, (void)t;
    p[1] = 6;
}
static void m_hlen(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)len, (void)t;
    p[2] = 16;
}
static void m_xid(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)len, (void)t;
    p[7] ^= 1;
}
static void m_chaddr(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)len, (void)t;
    p[33] ^= 0x10;
}
static void m_cookie(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)len, (void)t;
    p[239] = 0x64;
}
/* The last option's length points past the end of the datagram. */
static void m_opt_past_end(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    size_t at = opt_at(p, *len, 6);
    p[at + 1] = 200;
    *len = at + 2 + 8;
}
/* A length byte that lies: the message type claims 2 bytes. */
static void m_type_len(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    p[opt_at(p, *len, 53) + 1] = 2;
}
/* Options stop without an end option (the datagram ends first). */
static void m_no_end(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    size_t at = opt_at(p, *len, 6);
    *len = at + 2 + p[at + 1];
}
/* Only padding after the options, no end. */
static void m_pad_no_end(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    for (size_t i = 240; i < *len; i++)
        if (p[i] == 255)
            p[i] = 0;
}
/* The length byte itself is the datagram's last byte. */
static void m_len_missing(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    size_t at = opt_at(p, *len, 6);
    *len = at + 1;
}
static void m_dup_type(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    size_t at = opt_at(p, *len, 54); /* overwrite the server id with a second type */
    p[at] = 53;
    p[at + 1] = 4;
}
/* Overload says 'file' holds options, but 'file' has no end option. */
static void m_overload_no_end(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    size_t at = opt_at(p, *len, 6);
    p[at] = 52;
    p[at + 1] = 1;
    p[at + 2] = 1;
    p[at + 3] = 255;
    memset(p + 108, 0, 128);
    p[108] = 12;
    p[109] = 120; /* runs to the end of 'file' and past it */
}
/* Overload 2 ('sname' holds options) whose options run past 'sname'. */
static void m_overload_sname_no_end(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    size_t at = opt_at(p, *len, 6);
    p[at] = 52;
    p[at + 1] = 1;
    p[at + 2] = 2;
    p[at + 3] = 255;
    memset(p + 44, 0, 64);
    p[44] = 12;
    p[45] = 70; /* runs past the end of 'sname' */
}

static void m_overload_value(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    size_t at = opt_at(p, *len, 6);
    p[at] = 52;
    p[at + 1] = 1;
    p[at + 2] = 7;
    p[at + 3] = 255;
}
static void m_no_server_id(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    p[opt_at(p, *len, 54)] = 200; /* an unknown option now */
}
static void m_no_type(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    p[opt_at(p, *len, 53)] = 201;
}
static void m_type_discover(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    p[opt_at(p, *len, 53) + 2] = 1;
}
static void m_yiaddr_bcast(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)len, (void)t;
    be32_put(p + 16, TERN_IP4(192, 0, 2, 255));
}
static void m_yiaddr_zero(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)len, (void)t;
    be32_put(p + 16, 0);
}
static void m_yiaddr_loopback(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)len, (void)t;
    be32_put(p + 16, TERN_IP4(127, 0, 0, 1));
}
static void m_mask(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    be32_put(p + opt_at(p, *len, 1) + 2, TERN_IP4(255, 0, 255, 0));
}
static void m_lease_len(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    p[opt_at(p, *len, 51) + 1] = 3;
}
static void m_dns_len(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s, (void)t;
    p[opt_at(p, *len, 6) + 1] = 7;
}

#define STAT(f) offsetof(tern_dhcp_stats_t, f)

static const bad_case_t bad_offers[] = {
    {"shorter than 240 bytes", m_short, STAT(drop_short)},
    {"op BOOTREQUEST", m_op, STAT(drop_header)},
    {"htype not Ethernet", m_htype, STAT(drop_header)},
    {"hlen 16", m_hlen, STAT(drop_header)},
    {"wrong xid", m_xid, STAT(drop_xid)},
    {"wrong chaddr", m_chaddr, STAT(drop_chaddr)},
    {"bad cookie", m_cookie, STAT(drop_cookie)},
    {"option past the end", m_opt_past_end, STAT(drop_options)},
    {"message type length 2", m_type_len, STAT(drop_options)},
    {"no end option", m_no_end, STAT(drop_options)},
    {"padding, no end option", m_pad_no_end, STAT(drop_options)},
    {"length byte missing", m_len_missing, STAT(drop_options)},
    {"message type twice", m_dup_type, STAT(drop_options)},
    {"overload: file without end", m_overload_no_end, STAT(drop_options)},
    {"overload: sname without end", m_overload_sname_no_end, STAT(drop_options)},
    {"overload value 7", m_overload_value, STAT(drop_options)},
    {"lease length 3", m_lease_len, STAT(drop_options)},
    {"dns length 7", m_dns_len, STAT(drop_options)},
    {"no server id", m_no_server_id, STAT(drop_invalid)},
    {"no message type", m_no_type, STAT(drop_invalid)},
    {"message type DISCOVER", m_type_discover, STAT(drop_invalid)},
    {"yiaddr subnet broadcast", m_yiaddr_bcast, STAT(drop_invalid)},
    {"yiaddr 0", m_yiaddr_zero, STAT(drop_invalid)},
    {"yiaddr loopback", m_yiaddr_loopback, STAT(drop_invalid)},
    {"mask not contiguous", m_mask, STAT(drop_invalid)},
};

static uint32_t stat_at(const tern_dhcp_stats_t *st, size_t off)
{
    uint32_t v;
    memcpy(&v, (const uint8_t *)st + off, sizeof v);
    return v;
}

static uint32_t drops_total(const tern_dhcp_stats_t *st)
{
    return st->drop_short + st->drop_header + st->drop_xid + st->drop_chaddr + st->drop_cookie + st->drop_options +
           st->drop_invalid + st->drop_state;
}

static void test_dhcp_malformed_offers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_offers / sizeof bad_offers[0]; i++) {
        const bad_case_t *c = &bad_offers[i];
        world_t *w = world_new(100 + i);
        w->srv.mangle = c->fn;
        w->srv.mangle_count = 1;
        world_start(w);
        /* The first DISCOVER's reply is mangled: nothing happens. */
        assert_true(run_until_state(w, TERN_DHCP_SELECTING, 2000));
        run_for(w, 2500);
        const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
        if (stat_at(st, c->counter) != 1 || drops_total(st) != 1 || tern_dhcp_state(w->stack) != TERN_DHCP_SELECTING)
            fail_msg("%s: counter %u, drops %u, state %s", c->what, stat_at(st, c->counter), drops_total(st),
                     tern_dhcp_state_name(tern_dhcp_state(w->stack)));
        assert_int_equal(st->rx, 1);
        /* The retransmission gets a good offer: the exchange completes. */
        assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
        assert_int_equal(w->nif.addr, OFFER_IP);
        world_free(w);
    }
}

static void m_ack_no_lease(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s;
    if (t == 5)
        p[opt_at(p, *len, 51)] = 202;
}

/* An ACK without a lease time is unusable (RFC 2131 table 3). */
static void test_dhcp_ack_without_lease(void **state)
{
    (void)state;
    world_t *w = world_new(8);
    w->srv.mangle = m_ack_no_lease;
    w->srv.mangle_count = 2; /* the OFFER (untouched) and the first ACK */
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 30000));
    const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
    assert_int_equal(st->drop_invalid, 1);
    assert_int_equal(count_of(&w->srv, 3), 2);
    world_free(w);
}

/* Option overload (52): the message type and server id live in 'file'
 * and the lease in 'sname': parsed, bounded by their fields. */
static void m_overload_good(dsrv_t *s, uint8_t *p, size_t *len, uint8_t t)
{
    (void)s;
    size_t at = opt_at(p, *len, 53);
    memset(p + 240, 0, *len - 240);
    p[240] = 52;
    p[241] = 1;
    p[242] = 3;
    p[243] = 1; /* mask in options */
    p[244] = 4;
    be32_put(p + 245, MASK24);
    p[249] = 255;
    (void)at;
    memset(p + 44, 0, 64 + 128);
    uint8_t *f = p + 108;
    f[0] = 53, f[1] = 1, f[2] = t;
    f[3] = 54, f[4] = 4;
    be32_put(f + 5, SRV_IP);
    f[9] = 255;
    uint8_t *sn = p + 44;
    sn[0] = 51, sn[1] = 4;
    be32_put(sn + 2, 600);
    sn[6] = 255;
}

static void test_dhcp_option_overload(void **state)
{
    (void)state;
    world_t *w = world_new(9);
    w->srv.mangle = m_overload_good;
    w->srv.mangle_count = 2;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    tern_dhcp_info_t in;
    tern_dhcp_get_info(w->stack, &in);
    assert_int_equal(in.lease_s, 600);
    assert_int_equal(in.netmask, MASK24);
    assert_int_equal(in.router, 0);
    assert_int_equal(drops_total(tern_dhcp_stats(w->stack)), 0);
    world_free(w);
}

/* A reply from the wrong source port or for another client, mid-exchange. */
static void test_dhcp_foreign_replies(void **state)
{
    (void)state;
    world_t *w = world_new(10);
    w->srv.silent = 1;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_SELECTING, 2000));
    dsrv_t *s = &w->srv;
    uint8_t p[600];
    size_t len = reply_payload(s, p, 2, s->msg[0].xid, CLI_MAC, OFFER_IP);
    srv_send_udp(s, FR_BCAST_MAC, SRV_IP, 0xFFFFFFFFu, 68, 68, p, len); /* source port 68 */
    run_for(w, 10);
    const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
    assert_int_equal(st->drop_header, 1);
    /* An ACK while SELECTING is not for this state. */
    len = reply_payload(s, p, 5, s->msg[0].xid, CLI_MAC, OFFER_IP);
    srv_send_udp(s, FR_BCAST_MAC, SRV_IP, 0xFFFFFFFFu, 67, 68, p, len);
    run_for(w, 10);
    assert_int_equal(st->drop_state, 1);
    assert_int_equal(tern_dhcp_state(w->stack), TERN_DHCP_SELECTING);
    assert_int_equal(w->nif.addr, 0);
    world_free(w);
}

/* NAK while REQUESTING: start over (new xid) and succeed the second time. */
static void test_dhcp_nak_restarts(void **state)
{
    (void)state;
    world_t *w = world_new(11);
    w->srv.nak_requests = 1;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 30000));
    dsrv_t *s = &w->srv;
    assert_int_equal(count_of(s, 1), 2);
    assert_int_equal(count_of(s, 3), 2);
    seen_msg_t *first = &s->msg[0], *second = last_of(s, 1);
    assert_int_not_equal(first->xid, second->xid);
    assert_true(second->time - s->msg[1].time >= 1000); /* not at wire speed */
    const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
    assert_int_equal(st->rx_nak, 1);
    assert_int_equal(st->restarts, 1);
    assert_int_equal(w->nif.addr, OFFER_IP);
    world_free(w);
}

/* Bound with lease 120 s, T1 60, T2 105: renewal at T1 is unicast to the
 * server from our address, names no server, and restarts the lease. */
static void test_dhcp_renewing_at_t1(void **state)
{
    (void)state;
    world_t *w = world_new(12);
    w->srv.lease = 120;
    w->srv.t1 = 60;
    w->srv.t2 = 105;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    dsrv_t *s = &w->srv;
    uint32_t req_time = s->msg[1].time; /* the lease runs from here */
    assert_true(run_until_renewed(w, 1, 0, 70000));
    seen_msg_t *r = last_of(s, 3);
    assert_int_equal(count_of(s, 3), 2);
    /* sent at T1 (the lease clock counts whole seconds; polls run at least once a second) */
    assert_true(r->time - req_time >= 60000 && r->time - req_time <= 61000);
    assert_int_equal(r->ciaddr, OFFER_IP);
    assert_int_equal(r->ip_src, OFFER_IP);
    assert_int_equal(r->ip_dst, SRV_IP);
    assert_memory_equal(r->eth_dst, SRV_MAC, 6); /* resolved by ARP */
    assert_false(r->has_reqip || r->has_srvid);
    assert_int_equal(r->flags & 0x8000u, 0);
    const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
    assert_int_equal(st->renewals, 1);
    assert_int_equal(st->leases, 2);
    tern_dhcp_info_t in;
    tern_dhcp_get_info(w->stack, &in);
    assert_true(in.elapsed_s <= 1);
    assert_int_equal(w->nif.addr, OFFER_IP);
    /* and again 60 s later */
    assert_true(run_until_renewed(w, 2, 0, 61000));
    assert_int_equal(st->renewals, 2);
    /* no new ARP probes on renewal: the address did not change */
    assert_int_equal(s->probes, TERN_DHCP_ARP_PROBES);
    world_free(w);
}

/* The server ignores renewals: at T2 the REQUEST is broadcast (any server
 * may answer); an answer to it rebinds. */
static void test_dhcp_rebinding_at_t2(void **state)
{
    (void)state;
    world_t *w = world_new(13);
    w->srv.lease = 120;
    w->srv.t1 = 60;
    w->srv.t2 = 105;
    w->srv.ignore_renewals = 1;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    dsrv_t *s = &w->srv;
    uint32_t req_time = s->msg[1].time;
    assert_true(run_until_renewed(w, 1, 1, 120000));
    seen_msg_t *r = last_of(s, 3);
    assert_true(r->time - req_time >= 105000 && r->time - req_time <= 106000);
    assert_int_equal(r->ip_dst, 0xFFFFFFFFu);
    assert_int_equal(r->ip_src, OFFER_IP);
    assert_int_equal(r->ciaddr, OFFER_IP);
    assert_false(r->has_reqip || r->has_srvid);
    /* RENEWING retransmits no sooner than 60 s (RFC 2131 4.4.5): T1 -> T2 is
     * 45 s, so one unicast REQUEST only. */
    unsigned unicast = 0;
    for (unsigned i = 0; i < s->n; i++)
        unicast += s->msg[i].type == 3 && s->msg[i].ip_dst == SRV_IP;
    assert_int_equal(unicast, 1);
    const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
    assert_int_equal(st->renewals, 1);
    assert_int_equal(st->rebinds, 1);
    assert_int_equal(w->nif.addr, OFFER_IP);
    world_free(w);
}

/* Nobody answers after the first lease: at expiry the address goes and
 * the client starts over. */
static void test_dhcp_expiry_takes_address_down(void **state)
{
    (void)state;
    world_t *w = world_new(14);
    w->srv.lease = 120;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    dsrv_t *s = &w->srv;
    uint32_t req_time = s->msg[1].time;
    tern_dhcp_info_t in;
    tern_dhcp_get_info(w->stack, &in);
    assert_int_equal(in.t1_s, 60); /* defaults: 0.5 and 0.875 of the lease */
    assert_int_equal(in.t2_s, 105);
    s->silent = 1;
    assert_true(run_until_state(w, TERN_DHCP_REBINDING, 120000));
    assert_int_equal(w->nif.addr, OFFER_IP);
    assert_true(run_until_state(w, TERN_DHCP_SELECTING, 20000));
    assert_int_equal(w->nif.addr, 0);
    assert_int_equal(w->nif.gateway, 0);
    seen_msg_t *d = last_of(s, 1);
    assert_true(d->time - req_time >= 120000 && d->time - req_time <= 121000);
    const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
    assert_int_equal(st->expiries, 1);
    tern_dhcp_get_info(w->stack, &in);
    assert_int_equal(in.dns_count, 0);
    /* the server comes back: a fresh lease */
    s->silent = 0;
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 30000));
    assert_int_equal(w->nif.addr, OFFER_IP);
    world_free(w);
}

/* RFC 2131 4.4.5 / RFC 5227: a tiny lease is raised to the minimum; an
 * infinite lease never renews. */
static void test_dhcp_lease_limits(void **state)
{
    (void)state;
    world_t *w = world_new(15);
    w->srv.lease = 5;
    w->srv.t1 = 1;
    w->srv.t2 = 2;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    tern_dhcp_info_t in;
    tern_dhcp_get_info(w->stack, &in);
    /* raised to the minimum, and T1/T2 that would renew every second are
     * replaced by the defaults */
    assert_int_equal(in.lease_s, TERN_DHCP_MIN_LEASE_S);
    assert_int_equal(in.t1_s, TERN_DHCP_MIN_LEASE_S / 2);
    assert_int_equal(in.t2_s, TERN_DHCP_MIN_LEASE_S - TERN_DHCP_MIN_LEASE_S / 8);
    world_free(w);

    w = world_new(16);
    w->srv.lease = 0xFFFFFFFFu;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    unsigned before = w->srv.n;
    run_for(w, 3u * 3600u * 1000u);
    assert_int_equal(tern_dhcp_state(w->stack), TERN_DHCP_BOUND);
    assert_int_equal(w->srv.n, before);
    tern_dhcp_get_info(w->stack, &in);
    assert_int_equal(in.t1_s, 0xFFFFFFFFu);
    world_free(w);
}

/* Another host answers the ARP probe for the offered address: DECLINE,
 * wait 10 s, start over; the next offer is a free address. */
static void test_dhcp_decline_on_arp_conflict(void **state)
{
    (void)state;
    world_t *w = world_new(17);
    dsrv_t *s = &w->srv;
    s->conflict_ip = OFFER_IP;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_CHECKING, 20000));
    assert_true(run_until_state(w, TERN_DHCP_INIT, 5000));
    seen_msg_t *dec = last_of(s, 4);
    assert_non_null(dec);
    assert_int_equal(dec->reqip, OFFER_IP);
    assert_true(dec->has_reqip && dec->has_srvid);
    assert_int_equal(dec->srvid, SRV_IP);
    assert_int_equal(dec->ciaddr, 0);
    assert_int_equal(dec->ip_dst, 0xFFFFFFFFu);
    assert_int_equal(dec->xid, s->msg[0].xid);
    assert_int_equal(w->nif.addr, 0); /* never configured */
    const tern_dhcp_stats_t *st = tern_dhcp_stats(w->stack);
    assert_int_equal(st->conflicts, 1);
    assert_int_equal(st->tx_decline, 1);
    s->offer_ip = OFFER_IP2;
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 30000));
    seen_msg_t *again = &s->msg[3];
    assert_int_equal(again->type, 1);
    assert_true(again->time - dec->time >= 10000); /* RFC 2131 3.1.5 */
    assert_int_not_equal(again->xid, dec->xid);
    assert_int_equal(w->nif.addr, OFFER_IP2);
    world_free(w);
}

/* A probe from another host for the same address also means conflict
 * (RFC 5227 2.1.1). */
static void test_dhcp_conflict_simultaneous_probe(void **state)
{
    (void)state;
    world_t *w = world_new(18);
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_CHECKING, 20000));
    uint8_t frame[64];
    size_t fl = frame_arp_eth(frame, FR_BCAST_MAC, 1, OTHER_MAC, 0, FR_ZERO_MAC, OFFER_IP);
    tern_vwire_send(&w->wire, 1, frame, fl);
    run_for(w, 10);
    assert_int_equal(tern_dhcp_state(w->stack), TERN_DHCP_INIT);
    assert_int_equal(tern_dhcp_stats(w->stack)->conflicts, 1);
    /* a probe for some other address is not a conflict */
    world_free(w);
    w = world_new(19);
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_CHECKING, 20000));
    fl = frame_arp_eth(frame, FR_BCAST_MAC, 1, OTHER_MAC, 0, FR_ZERO_MAC, OFFER_IP2);
    tern_vwire_send(&w->wire, 1, frame, fl);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 10000));
    assert_int_equal(tern_dhcp_stats(w->stack)->conflicts, 0);
    world_free(w);
}

/* No server: after 3 DISCOVERs the fallback address; DISCOVERs go on
 * every 64 s; a server appearing later wins. */
static void test_dhcp_fallback(void **state)
{
    (void)state;
    world_t *w = world_new(20);
    dsrv_t *s = &w->srv;
    s->silent = 1;
    world_start(w);
    assert_int_equal(tern_dhcp_set_fallback(w->stack, FB_IP, MASK24, SRV_IP, 3), TERN_OK);
    assert_true(run_until_state(w, TERN_DHCP_FALLBACK, 60000));
    /* three unanswered, and the first of the slow ones sent as the
     * fallback starts */
    assert_int_equal(count_of(s, 1), 4);
    assert_int_equal(w->nif.addr, FB_IP);
    assert_int_equal(w->nif.netmask, MASK24);
    assert_int_equal(w->nif.gateway, SRV_IP);
    /* 4 + 8 + 16 s after the first DISCOVER (+/- 1 s each) */
    uint32_t t = now_of(w) - s->msg[0].time;
    assert_true(t >= 25000 && t <= 31100);
    assert_int_equal(tern_dhcp_stats(w->stack)->fallbacks, 1);
    tern_dhcp_info_t in;
    tern_dhcp_get_info(w->stack, &in);
    assert_int_equal(in.addr, FB_IP);
    run_for(w, 200000);
    unsigned n = count_of(s, 1);
    assert_true(n >= 4 + 2 && n <= 4 + 4); /* one every 63..65 s */
    assert_int_equal(tern_dhcp_state(w->stack), TERN_DHCP_FALLBACK);
    /* while on the fallback address, DISCOVERs go from it, still broadcast */
    seen_msg_t *d = last_of(s, 1);
    assert_int_equal(d->ip_dst, 0xFFFFFFFFu);
    assert_int_equal(d->flags, 0x8000);
    s->silent = 0;
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 80000));
    assert_int_equal(w->nif.addr, OFFER_IP);
    /* stop takes the leased address down */
    tern_dhcp_stop(w->stack);
    assert_int_equal(w->nif.addr, 0);
    world_free(w);
}

/* DNS servers learned from DHCP reach the DNS client; static ones win. */
static void test_dhcp_dns_servers_to_dns_client(void **state)
{
    (void)state;
    world_t *w = world_new(21);
    assert_int_equal(tern_dns_start(w->stack), TERN_OK);
    tern_ip4_t got[4];
    assert_int_equal(tern_dns_get_servers(w->stack, got, 4), 0);
    tern_ip4_t addr;
    assert_int_equal(tern_dns_lookup(w->stack, "example.net", &addr, NULL, NULL), TERN_ERR_STATE);
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    assert_int_equal(tern_dns_get_servers(w->stack, got, 4), 2);
    assert_int_equal(got[0], DNS1);
    assert_int_equal(got[1], DNS2);
    tern_ip4_t mine = TERN_IP4(192, 0, 2, 99);
    assert_int_equal(tern_dns_set_servers(w->stack, &mine, 1), TERN_OK);
    assert_int_equal(tern_dns_get_servers(w->stack, got, 4), 1);
    assert_int_equal(got[0], mine);
    assert_int_equal(tern_dns_set_servers(w->stack, NULL, 0), TERN_OK);
    assert_int_equal(tern_dns_get_servers(w->stack, got, 4), 2);
    tern_dhcp_stop(w->stack);
    assert_int_equal(tern_dns_get_servers(w->stack, got, 4), 0);
    world_free(w);
}

/* RELEASE: to the server (unicast once its MAC is known), then stopped. */
static void test_dhcp_release(void **state)
{
    (void)state;
    world_t *w = world_new(22);
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    tern_dhcp_release(w->stack);
    assert_int_equal(tern_dhcp_state(w->stack), TERN_DHCP_STOPPED);
    assert_int_equal(w->nif.addr, 0);
    run_for(w, 100);
    seen_msg_t *r = last_of(&w->srv, 7);
    assert_non_null(r);
    assert_int_equal(r->ciaddr, OFFER_IP);
    assert_int_equal(r->srvid, SRV_IP);
    world_free(w);
}

/* ---- issue 17 (measured coverage): the paths the tests above leave out -------- */

static void dummy_recv(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
                       const tern_udp_rx_info_t *info)
{
    (void)ctx;
    (void)pcb;
    (void)info;
    tern_netbuf_release(&stack->netbufs, nb);
}

/* Every call on a stack without a DHCP client answers STATE or does
 * nothing; the report says "stopped"; a second start is refused; port 68
 * taken by someone else makes start fail with nothing allocated. */
static void test_dhcp_calls_when_stopped(void **state)
{
    (void)state;
    world_t *w = world_new(31);
    assert_int_equal(tern_dhcp_set_fallback(w->stack, FB_IP, MASK24, 0, 3), TERN_ERR_STATE);
    assert_int_equal(tern_dhcp_set_callback(w->stack, on_state, w), TERN_ERR_STATE);
    tern_dhcp_release(w->stack); /* nothing to release */
    tern_dhcp_stop(w->stack);    /* nothing to stop */
    tern_test_sink_t *sink = calloc(1, sizeof *sink);
    assert_non_null(sink);
    tern_dhcp_report_text(w->stack, tern_test_sink_write, sink);
    assert_string_equal(sink->text, "dhcp: stopped\n");
    free(sink);

    tern_udp_pcb_t squatter;
    tern_udp_pcb_init(&squatter, dummy_recv, NULL);
    tern_sockaddr_t local = {.addr = 0, .port = 68};
    assert_int_equal(tern_udp_bind(w->stack, &squatter, &local), TERN_OK);
    assert_int_equal(tern_dhcp_start(w->stack, &w->nif), TERN_ERR_ADDRINUSE);
    assert_null(tern_dhcp_stats(w->stack));
    tern_udp_unbind(w->stack, &squatter);

    world_start(w);
    assert_int_equal(tern_dhcp_start(w->stack, &w->nif), TERN_ERR_STATE);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    world_free(w);
}

/* No subnet mask option (it is optional, RFC 2132 3.3): the classful mask
 * of the address, /24 for 192.0.2.50. */
static void test_dhcp_no_mask_is_classful(void **state)
{
    (void)state;
    world_t *w = world_new(32);
    w->srv.no_mask = 1;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    assert_int_equal(w->nif.addr, OFFER_IP);
    assert_int_equal(w->nif.netmask, MASK24);
    world_free(w);
}

/* RFC 2131 4.4.5: while RENEWING and REBINDING without an answer, the
 * client asks again after half the time left until T2 (then until the
 * lease ends), never sooner than 60 s: unicast REQUESTs between T1 and T2,
 * broadcast ones between T2 and the end of the lease. */
static void test_dhcp_renew_and_rebind_retransmit(void **state)
{
    (void)state;
    world_t *w = world_new(33);
    dsrv_t *s = &w->srv;
    s->lease = 1200; /* T1 600 s, T2 1050 s */
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    uint32_t t0 = s->msg[1].time; /* the lease runs from the REQUEST */
    unsigned n0 = s->n;
    s->silent = 1;
    assert_true(run_until_state(w, TERN_DHCP_SELECTING, 1300000));
    unsigned renew = 0, rebind = 0;
    uint32_t last[2] = {0, 0}; /* the last REQUEST of each phase */
    for (unsigned i = n0; i < s->n && i < MAX_LOG; i++) {
        const seen_msg_t *m = &s->msg[i];
        if (m->type != 3)
            continue;
        uint32_t at = m->time - t0;
        assert_int_equal(m->ciaddr, OFFER_IP);
        int phase = m->ip_dst != SRV_IP;
        if (last[phase] != 0u)
            assert_true(at - last[phase] >= 60000u);
        last[phase] = at;
        if (!phase) {
            assert_true(at >= 600000u && at < 1050000u);
            renew++;
        } else {
            assert_int_equal(m->ip_dst, TERN_IP4_BROADCAST);
            assert_true(at >= 1050000u && at < 1200000u);
            rebind++;
        }
    }
    assert_true(renew >= 3);
    assert_true(rebind >= 2);
    assert_int_equal(tern_dhcp_stats(w->stack)->expiries, 1);
    assert_int_equal(w->nif.addr, 0);
    world_free(w);
}

/* Fail each allocation attempt of a whole exchange in turn (DHCP state,
 * and in the HEAP variant every network buffer): start fails cleanly or
 * the exchange recovers by retransmission; nothing leaks. */
static void test_dhcp_alloc_failures(void **state)
{
    (void)state;
    world_t *w = world_new(23);
    uint32_t a0 = tern_ledger_attempts(&w->stack->ledger);
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    tern_dhcp_stop(w->stack);
    uint32_t attempts = tern_ledger_attempts(&w->stack->ledger) - a0;
    world_free(w);
    assert_true(attempts >= 1);
    for (uint32_t nth = 1; nth <= attempts + 1; nth++) {
        for (int every = 0; every <= 1; every++) {
            w = world_new(23);
            tern_ledger_fail_nth(&w->stack->ledger, nth, every);
            int r = tern_dhcp_start(w->stack, &w->nif);
            if (nth == 1) {
                assert_int_equal(r, TERN_ERR_NOMEM);
                assert_null(tern_stack_find_service(w->stack, "dhcp"));
            } else {
                assert_int_equal(r, TERN_OK);
                int bound = run_until_state(w, TERN_DHCP_BOUND, 120000);
                if (!every)
                    assert_true(bound);
            }
            tern_ledger_fail_nth(&w->stack->ledger, 0, 0);
            world_free(w);
        }
    }
}

/* A router off the offered subnet is ignored (no gateway), and an
 * infinite lease (0xFFFFFFFF, RFC 2131 3.3) is reported as such and never
 * renewed. */
static void test_dhcp_router_off_subnet_infinite_lease(void **state)
{
    (void)state;
    world_t *w = world_new(41);
    w->srv.router = TERN_IP4(198, 51, 100, 1);
    w->srv.lease = 0xFFFFFFFFu;
    world_start(w);
    assert_true(run_until_state(w, TERN_DHCP_BOUND, 20000));
    tern_dhcp_info_t in;
    tern_dhcp_get_info(w->stack, &in);
    assert_int_equal(in.router, 0);
    assert_int_equal(in.addr, OFFER_IP);
    assert_int_equal(w->nif.gateway, 0);
    tern_test_sink_t *sink = calloc(1, sizeof *sink);
    assert_non_null(sink);
    tern_dhcp_report_text(w->stack, tern_test_sink_write, sink);
    assert_non_null(strstr(sink->text, " lease infinite"));
    free(sink);
    run_for(w, 3u * 3600u * 1000u);
    assert_int_equal(tern_dhcp_stats(w->stack)->renewals, 0);
    assert_int_equal(tern_dhcp_state(w->stack), TERN_DHCP_BOUND);
    world_free(w);
}

/* No application memory category left: start fails with the ledger's
 * error and leaves nothing behind. */
static void test_dhcp_no_category(void **state)
{
    (void)state;
    world_t *w = world_new(42);
    static char names[64][8];
    unsigned k = 0;
    int r;
    do {
        snprintf(names[k], sizeof names[k], "c%u", k);
        r = tern_ledger_register_category(&w->stack->ledger, names[k]);
        k++;
    } while (r >= 0 && k < 64u);
    assert_int_equal(r, TERN_ERR_NOMEM);
    assert_int_equal(tern_dhcp_start(w->stack, &w->nif), TERN_ERR_NOMEM);
    assert_int_equal(tern_dhcp_state(w->stack), TERN_DHCP_STOPPED);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dhcp_full_exchange),
        cmocka_unit_test(test_dhcp_bad_arguments),
        cmocka_unit_test(test_dhcp_retransmission_backoff),
        cmocka_unit_test(test_dhcp_request_lost),
        cmocka_unit_test(test_dhcp_lossy_wire),
        cmocka_unit_test(test_dhcp_duplicated_replies),
        cmocka_unit_test(test_dhcp_malformed_offers),
        cmocka_unit_test(test_dhcp_ack_without_lease),
        cmocka_unit_test(test_dhcp_option_overload),
        cmocka_unit_test(test_dhcp_foreign_replies),
        cmocka_unit_test(test_dhcp_nak_restarts),
        cmocka_unit_test(test_dhcp_renewing_at_t1),
        cmocka_unit_test(test_dhcp_rebinding_at_t2),
        cmocka_unit_test(test_dhcp_expiry_takes_address_down),
        cmocka_unit_test(test_dhcp_lease_limits),
        cmocka_unit_test(test_dhcp_decline_on_arp_conflict),
        cmocka_unit_test(test_dhcp_conflict_simultaneous_probe),
        cmocka_unit_test(test_dhcp_fallback),
        cmocka_unit_test(test_dhcp_dns_servers_to_dns_client),
        cmocka_unit_test(test_dhcp_release),
        cmocka_unit_test(test_dhcp_alloc_failures),
        cmocka_unit_test(test_dhcp_calls_when_stopped),
        cmocka_unit_test(test_dhcp_no_mask_is_classful),
        cmocka_unit_test(test_dhcp_renew_and_rebind_retransmit),
        cmocka_unit_test(test_dhcp_router_off_subnet_infinite_lease),
        cmocka_unit_test(test_dhcp_no_category),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
