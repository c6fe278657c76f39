/* Frame builders, the capture interface and memory baselines for tests. */
#include "frames.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"

const uint8_t FR_OUR_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
const uint8_t FR_PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t FR_OTHER_MAC[6] = {0x02, 0, 0, 0, 0, 0x03};
const uint8_t FR_BCAST_MAC[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
const uint8_t FR_ZERO_MAC[6] = {0, 0, 0, 0, 0, 0};

void be16_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void be32_put(uint8_t *p, uint32_t v)
{
    be16_put(p, v >> 16);
    be16_put(p + 2, v);
}

uint32_t be16_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

uint32_t be32_get(const uint8_t *p)
{
    return be16_get(p) << 16 | be16_get(p + 2);
}

/* The textbook RFC 1071 loop: 16-bit words, end-around carry. */
uint16_t frame_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

size_t frame_eth(uint8_t *out, const uint8_t dst[6], const uint8_t src[6], uint16_t type, const void *payload,
                 size_t len)
{
    memcpy(out, dst, 6);
    memcpy(out + 6, src, 6);
    be16_put(out + 12, type);
    if (len)
        memmove(out + 14, payload, len);
    return 14 + len;
}

size_t frame_arp(uint8_t *out, uint16_t op, const uint8_t sha[6], tern_ip4_t spa, const uint8_t tha[6], tern_ip4_t tpa)
{
    be16_put(out, 1);
    be16_put(out + 2, 0x0800);
    out[4] = 6;
    out[5] = 4;
    be16_put(out + 6, op);
    memcpy(out + 8, sha, 6);
    be32_put(out + 14, spa);
    memcpy(out + 18, tha, 6);
    be32_put(out + 24, tpa);
    return 28;
}

size_t frame_arp_eth(uint8_t *out, const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6], tern_ip4_t spa,
                     const uint8_t tha[6], tern_ip4_t tpa)
{
    uint8_t arp[28];
    frame_arp(arp, op, sha, spa, tha, tpa);
    return frame_eth(out, eth_dst, sha, 0x0806, arp, sizeof arp);
}

size_t frame_ipv4(uint8_t *out, const frame_ip_t *ip, const void *payload, size_t len)
{
    size_t hl = 20 + ip->opt_len;
    out[0] = (uint8_t)(0x40 | (hl / 4));
    out[1] = ip->tos;
    be16_put(out + 2, (uint16_t)(hl + len));
    be16_put(out + 4, ip->id);
    be16_put(out + 6, ip->frag);
    out[8] = ip->ttl ? ip->ttl : 64;
    out[9] = ip->proto;
    be16_put(out + 10, 0);
    be32_put(out + 12, ip->src);
    be32_put(out + 16, ip->dst);
    if (ip->opt_len)
        memcpy(out + 20, ip->options, ip->opt_len);
    be16_put(out + 10, frame_checksum(out, hl));
    if (len)
        memmove(out + hl, payload, len);
    return hl + len;
}

size_t frame_icmp(uint8_t *out, uint8_t type, uint8_t code, uint32_t rest, const void *data, size_t len)
{
    out[0] = type;
    out[1] = code;
    be16_put(out + 2, 0);
    be32_put(out + 4, rest);
    if (len)
        memmove(out + 8, data, len);
    be16_put(out + 2, frame_checksum(out, 8 + len));
    return 8 + len;
}

size_t frame_udp(uint8_t *out, tern_ip4_t src, tern_ip4_t dst, uint16_t sport, uint16_t dport, const void *data,
                 size_t len)
{
    uint8_t ph[12 + FRAME_MAX];
    assert_true(8 + len <= FRAME_MAX);
    if (len)
        memmove(out + 8, data, len);
    be16_put(out, sport);
    be16_put(out + 2, dport);
    be16_put(out + 4, (uint32_t)(8 + len));
    be16_put(out + 6, 0);
    be32_put(ph, src);
    be32_put(ph + 4, dst);
    ph[8] = 0;
    ph[9] = 17;
    be16_put(ph + 10, (uint32_t)(8 + len));
    memcpy(ph + 12, out, 8 + len);
    uint16_t sum = frame_checksum(ph, 12 + 8 + len);
    be16_put(out + 6, sum ? sum : 0xFFFF); /* RFC 768: a computed 0 goes as all ones */
    return 8 + len;
}

size_t frame_ip_eth2(uint8_t *out, const uint8_t eth_dst[6], const uint8_t eth_src[6], const frame_ip_t *ip,
                     const void *payload, size_t len)
{
    uint8_t tmp[FRAME_MAX];
    size_t n = frame_ipv4(tmp, ip, payload, len);
    return frame_eth(out, eth_dst, eth_src, 0x0800, tmp, n);
}

size_t frame_ip_eth(uint8_t *out, const frame_ip_t *ip, const void *payload, size_t len)
{
    return frame_ip_eth2(out, FR_OUR_MAC, FR_PEER_MAC, ip, payload, len);
}

size_t frame_echo(uint8_t *out, tern_ip4_t src, tern_ip4_t dst, uint8_t type, uint16_t id, uint16_t seq,
                  const void *data, size_t len)
{
    uint8_t icmp[FRAME_MAX];
    size_t n = frame_icmp(icmp, type, 0, (uint32_t)id << 16 | seq, data, len);
    frame_ip_t ip = {.src = src, .dst = dst, .proto = 1, .id = 0x1234};
    return frame_ip_eth(out, &ip, icmp, n);
}

/* ---- capture interface ------------------------------------------------- */

static int capnet_init_hook(tern_netif_t *nif)
{
    capnet_t *cn = nif->driver;
    cn->inits++;
    return TERN_OK;
}

static int capnet_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    capnet_t *cn = nif->driver;
    cn->total++;
    if (cn->count < CAPNET_MAX_FRAMES && nb->len <= FRAME_MAX) {
        memcpy(cn->frame[cn->count], nb->data, nb->len);
        cn->len[cn->count] = nb->len;
        cn->count++;
    }
    int flagged = (nb->flags & TERN_NETBUF_F_RELEASE_AFTER_SEND) != 0;
    if (nif->caps & TERN_NETIF_CAP_ZERO_COPY_TX) {
        if (!flagged)
            cn->bad_ownership++;
        /* We own it now, whatever we return. */
        if (cn->hold && cn->output_result == TERN_OK && cn->held_count < TERN_NETBUF_COUNT)
            cn->held[cn->held_count++] = nb;
        else
            tern_netif_tx_done(nif, nb);
    } else if (flagged) {
        cn->bad_ownership++;
    }
    return cn->output_result;
}

static void capnet_shutdown(tern_netif_t *nif)
{
    capnet_t *cn = nif->driver;
    cn->shutdowns++;
    capnet_tx_complete(cn);
}

static const tern_netif_ops_t capnet_ops = {capnet_init_hook, capnet_output, capnet_shutdown};

static void capnet_capture(void *ctx, const uint8_t *frame, size_t len, int outbound, uint32_t now)
{
    capnet_t *cn = ctx;
    (void)frame;
    (void)now;
    if (outbound) {
        cn->captured_tx++;
        cn->captured_tx_bytes += len;
    } else {
        cn->captured_rx++;
    }
}

void capnet_setup(capnet_t *cn, tern_stack_t *stack, const char *name, const uint8_t mac[6])
{
    capnet_setup_caps(cn, stack, name, mac, TERN_NETIF_CAPS_DEFAULT, TERN_LINK_ETHERNET);
}

void capnet_setup_caps(capnet_t *cn, tern_stack_t *stack, const char *name, const uint8_t mac[6], uint8_t caps,
                       uint8_t link)
{
    memset(&cn->nif, 0, sizeof cn->nif);
    cn->stack = stack;
    cn->count = 0;
    cn->total = 0;
    cn->output_result = TERN_OK;
    cn->hold = 0;
    cn->held_count = 0;
    cn->captured_rx = cn->captured_tx = 0;
    cn->captured_tx_bytes = 0;
    cn->inits = cn->shutdowns = 0;
    cn->bad_ownership = 0;
    cn->nif.ops = &capnet_ops;
    cn->nif.driver = cn;
    memcpy(cn->nif.mac, mac, 6);
    cn->nif.mtu = 1500;
    cn->nif.caps = caps;
    cn->nif.link = link;
    snprintf(cn->nif.name, sizeof cn->nif.name, "%s", name);
    cn->nif.capture = capnet_capture;
    cn->nif.capture_ctx = cn;
    assert_int_equal(tern_netif_add(stack, &cn->nif), TERN_OK);
    assert_int_equal(cn->inits, 1);
}

void capnet_up(capnet_t *cn, tern_ip4_t addr, tern_ip4_t mask, tern_ip4_t gw)
{
    tern_netif_set_link(&cn->nif, 1);
    tern_netif_set_addr(&cn->nif, addr, mask, gw);
}

void capnet_rx(capnet_t *cn, const void *frame, size_t len, uint32_t now)
{
    if (!(cn->nif.caps & TERN_NETIF_CAP_ZERO_COPY_RX)) {
        assert_int_equal(tern_input_copy(cn->stack, &cn->nif, frame, len, now), TERN_OK);
        return;
    }
    tern_netbuf_t *nb = tern_netif_rx_buffer_get(&cn->nif);
    assert_non_null(nb);
    assert_true(len <= nb->capacity);
    if (len)
        memcpy(nb->data, frame, len);
    nb->len = (uint16_t)len;
    tern_input(cn->stack, &cn->nif, nb, now);
}

const uint8_t *capnet_frame(const capnet_t *cn, unsigned i, size_t *len)
{
    assert_true(i < cn->count);
    if (len)
        *len = cn->len[i];
    return cn->frame[i];
}

void capnet_clear(capnet_t *cn)
{
    cn->count = 0;
}

void capnet_tx_complete(capnet_t *cn)
{
    unsigned n = cn->held_count;
    cn->held_count = 0;
    for (unsigned i = 0; i < n; i++)
        tern_netif_tx_done(&cn->nif, cn->held[i]);
}

/* ---- memory ------------------------------------------------------------ */

void mem_snapshot(const tern_stack_t *stack, mem_snapshot_t *out)
{
    tern_heap_stats_t hs;
    tern_ledger_heap_stats(&stack->ledger, &hs);
    out->ledger_bytes = tern_ledger_total_bytes(&stack->ledger);
    out->heap_used = hs.used;
    out->netbufs_free = tern_netbuf_free_count(&stack->netbufs);
    out->bad_releases = stack->netbufs.bad_releases;
}

void mem_assert_baseline(const tern_stack_t *stack, const mem_snapshot_t *base)
{
    mem_snapshot_t now;
#if !TERN_STATIC_ONLY
#if !TERN_STATIC_ONLY
    assert_int_equal(tern_heap_check(&stack->heap), TERN_OK);
#endif
#endif
    assert_int_equal(tern_ledger_verify(&stack->ledger), TERN_OK);
    mem_snapshot(stack, &now);
    assert_int_equal(now.ledger_bytes, base->ledger_bytes);
    assert_int_equal(now.heap_used, base->heap_used);
    assert_int_equal(now.netbufs_free, base->netbufs_free);
    assert_int_equal(now.bad_releases, 0);
}

/* ---- fixture ----------------------------------------------------------- */

net_fixture_t *net_fixture_new(uint64_t seed)
{
    net_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tern_test_port_init(&f->tp, seed);
    f->tp.quiet = 1;
    f->now = 1000;
    assert_int_equal(tern_stack_init(&f->stack, &f->tp.port), TERN_OK);
    /* The only allocation of a fresh stack: the ARP cache. */
    assert_int_equal(tern_ledger_category(&f->stack.ledger, TERN_MEM_ARP_CACHE)->bytes,
                     sizeof(tern_arp_entry_t) * TERN_ARP_CACHE_SIZE);
    capnet_setup(&f->cn, &f->stack, "cap0", FR_OUR_MAC);
    f->stack.now = f->now;
    capnet_up(&f->cn, FR_OUR_IP, FR_NETMASK, FR_PEER_IP);
    capnet_clear(&f->cn);
    /* Tests count from zero (the gratuitous ARP above is not theirs). */
    memset(&f->stack.counters, 0, sizeof f->stack.counters);
    mem_snapshot(&f->stack, &f->base);
    return f;
}

int net_fixture_setup(void **state, uint64_t seed)
{
    net_fixture_t *f = net_fixture_new(seed);
    net_fixture_learn_peer(f);
    mem_snapshot(&f->stack, &f->base);
    *state = f;
    return 0;
}

int net_fixture_teardown(void **state)
{
    net_fixture_free(*state);
    return 0;
}

void net_fixture_free(net_fixture_t *f)
{
    capnet_tx_complete(&f->cn);
    mem_assert_baseline(&f->stack, &f->base);
    assert_int_equal(f->cn.bad_ownership, 0);
    tern_stack_deinit(&f->stack);
    assert_int_equal(f->cn.shutdowns, 1);
    assert_int_equal(tern_ledger_total_bytes(&f->stack.ledger), 0);
    assert_int_equal(tern_ledger_verify(&f->stack.ledger), TERN_OK);
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), TERN_NETBUF_COUNT);
    assert_int_equal(f->tp.asserts, 0);
    free(f);
}

void fx_rx(net_fixture_t *f, const void *frame, size_t len)
{
    capnet_rx(&f->cn, frame, len, f->now);
}

void net_fixture_learn_peer(net_fixture_t *f)
{
    uint8_t fr[FRAME_MAX];
    size_t n = frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_PEER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
    fx_rx(f, fr, n);
    uint8_t mac[6];
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, mac), TERN_OK);
    assert_memory_equal(mac, FR_PEER_MAC, 6);
    capnet_clear(&f->cn);
}

void fx_expect_drop(net_fixture_t *f, const void *frame, size_t len, const uint32_t *counter)
{
    uint32_t before = *counter;
    uint32_t drops = counters_drops(&f->stack.counters);
    unsigned sent = f->cn.total;
    fx_rx(f, frame, len);
    assert_int_equal(*counter, before + 1);
    assert_int_equal(counters_drops(&f->stack.counters), drops + 1);
    assert_int_equal(f->cn.total, sent);
    mem_assert_baseline(&f->stack, &f->base);
}

uint32_t counters_drops(const tern_counters_t *c)
{
    uint32_t sum = 0;
#define DROP_SUM_(layer, name, desc) \
    if (strncmp(#name, "drop", 4) == 0) \
        sum += c->layer##_##name;
    TERN_COUNTER_LIST(DROP_SUM_)
#undef DROP_SUM_
    return sum;
}
