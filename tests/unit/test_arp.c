/* TERN_TEST_STATIC_VARIANT */
/* ARP (RFC 826, RFC 5227 conflicts) on hand-built frames: answers, the
 * cache policy against poisoning, malformed packets, the resolution queue,
 * retries, aging and eviction on virtual time. */
#include <string.h>
#include "frames.h"
#include "tern/err.h"

static const uint8_t NEW_MAC[6] = {0x02, 0, 0, 0, 0, 0x77};

static int setup(void **state)
{
    *state = net_fixture_new(21);
    return 0;
}

static tern_counters_t *C(net_fixture_t *f)
{
    return &f->stack.counters;
}

/* Assert captured frame i is a broadcast request from us for ip. */
static void assert_request_for(net_fixture_t *f, unsigned i, tern_ip4_t ip)
{
    uint8_t want[FRAME_MAX];
    size_t n = frame_arp_eth(want, FR_BCAST_MAC, 1, FR_OUR_MAC, FR_OUR_IP, FR_ZERO_MAC, ip);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, i, &len);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
}

static void rx_reply(net_fixture_t *f, const uint8_t mac[6], tern_ip4_t ip)
{
    uint8_t fr[FRAME_MAX];
    size_t n = frame_arp_eth(fr, FR_OUR_MAC, 2, mac, ip, FR_OUR_MAC, FR_OUR_IP);
    fx_rx(f, fr, n);
}

static void rx_request(net_fixture_t *f, const uint8_t mac[6], tern_ip4_t ip, tern_ip4_t target)
{
    uint8_t fr[FRAME_MAX];
    size_t n = frame_arp_eth(fr, FR_BCAST_MAC, 1, mac, ip, FR_ZERO_MAC, target);
    fx_rx(f, fr, n);
}

static uint16_t echo_seq(const uint8_t *frame)
{
    return (uint16_t)(frame[14 + 20 + 6] << 8 | frame[14 + 20 + 7]);
}

static void test_request_for_us_answered(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    size_t n = frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_PEER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
    /* Padded to the 60-byte Ethernet minimum, as it arrives off a wire. */
    memset(fr + n, 0, 60 - n);
    fx_rx(f, fr, 60);
    assert_int_equal(f->cn.count, 1);
    uint8_t want[FRAME_MAX];
    size_t wn = frame_arp_eth(want, FR_PEER_MAC, 2, FR_OUR_MAC, FR_OUR_IP, FR_PEER_MAC, FR_PEER_IP);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(len, wn);
    assert_memory_equal(got, want, wn);
    assert_int_equal(C(f)->arp_tx_reply, 1);
    assert_int_equal(C(f)->arp_learned, 1);
    uint8_t mac[6];
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, mac), TERN_OK);
    assert_memory_equal(mac, FR_PEER_MAC, 6);
    /* The reply reused the request's buffer: one get, for the receive. */
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_request_for_another_ignored(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    size_t n = frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_OTHER_MAC, FR_OTHER_IP, FR_ZERO_MAC, TERN_IP4(192, 0, 2, 50));
    fx_expect_drop(f, fr, n, &C(f)->arp_drop_not_for_us);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_OTHER_IP, NULL), TERN_ERR_NOROUTE);
    /* Unconfigured interface: even a request for the old address is not ours. */
    tern_netif_set_addr(&f->cn.nif, 0, 0, 0);
    n = frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_OTHER_MAC, FR_OTHER_IP, FR_ZERO_MAC, FR_OUR_IP);
    fx_expect_drop(f, fr, n, &C(f)->arp_drop_not_for_us);
    tern_netif_set_addr(&f->cn.nif, FR_OUR_IP, FR_NETMASK, FR_PEER_IP);
    capnet_clear(&f->cn);
}

static void test_malformed(void **state)
{
    net_fixture_t *f = *state;
    uint8_t arp[64], fr[FRAME_MAX];
    size_t n;
    /* Truncated at every length below 28. */
    frame_arp(arp, 1, FR_PEER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
    for (size_t len = 0; len < 28; len++) {
        n = frame_eth(fr, FR_BCAST_MAC, FR_PEER_MAC, 0x0806, arp, len);
        fx_expect_drop(f, fr, n, &C(f)->arp_drop_truncated);
    }
    struct {
        unsigned offset;
        uint8_t value;
        uint32_t *counter;
    } cases[] = {
        {1, 2, &C(f)->arp_drop_hw},         /* hardware type 2 */
        {0, 1, &C(f)->arp_drop_hw},         /* hardware type 0x0101 */
        {4, 8, &C(f)->arp_drop_hw},         /* hardware length 8 */
        {4, 0, &C(f)->arp_drop_hw},
        {2, 0x86, &C(f)->arp_drop_proto},   /* protocol type 0x8600 */
        {3, 0x06, &C(f)->arp_drop_proto},   /* 0x0806 */
        {5, 16, &C(f)->arp_drop_proto},     /* protocol length 16 */
        {5, 0, &C(f)->arp_drop_proto},
        {7, 0, &C(f)->arp_drop_op},
        {7, 3, &C(f)->arp_drop_op},         /* RARP request */
        {6, 1, &C(f)->arp_drop_op},         /* 0x0101 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame_arp(arp, 1, FR_PEER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
        arp[cases[i].offset] = cases[i].value;
        n = frame_eth(fr, FR_BCAST_MAC, FR_PEER_MAC, 0x0806, arp, 28);
        fx_expect_drop(f, fr, n, cases[i].counter);
    }
    /* Sender MACs that name no single station (the Ethernet source stays
     * valid: the lie is inside the ARP packet). */
    static const uint8_t bad_macs[][6] = {
        {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, {0x01, 0x00, 0x5E, 0, 0, 1}, {0x33, 0x33, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0}};
    for (size_t i = 0; i < 4; i++) {
        for (uint16_t op = 1; op <= 2; op++) {
            frame_arp(arp, op, bad_macs[i], FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
            n = frame_eth(fr, FR_BCAST_MAC, FR_PEER_MAC, 0x0806, arp, 28);
            fx_expect_drop(f, fr, n, &C(f)->arp_drop_sender_mac);
        }
    }
    /* Sender IPs that name no single host. 0.0.0.0 only in a probe. */
    static const tern_ip4_t bad_ips[] = {TERN_IP4(255, 255, 255, 255), FR_SUBNET_BCAST, TERN_IP4(224, 0, 0, 5),
                                         TERN_IP4(239, 1, 2, 3), TERN_IP4(127, 0, 0, 1), TERN_IP4(240, 0, 0, 1),
                                         TERN_IP4(0, 1, 2, 3)};
    for (size_t i = 0; i < sizeof bad_ips / sizeof bad_ips[0]; i++) {
        for (uint16_t op = 1; op <= 2; op++) {
            n = frame_arp_eth(fr, FR_BCAST_MAC, op, FR_OTHER_MAC, bad_ips[i], FR_ZERO_MAC, FR_OUR_IP);
            fx_expect_drop(f, fr, n, &C(f)->arp_drop_sender_ip);
        }
    }
    n = frame_arp_eth(fr, FR_OUR_MAC, 2, FR_OTHER_MAC, 0, FR_OUR_MAC, FR_OUR_IP);
    fx_expect_drop(f, fr, n, &C(f)->arp_drop_sender_ip);
    /* Our own request looped back by a switch. */
    n = frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_OUR_MAC, FR_OUR_IP, FR_ZERO_MAC, FR_PEER_IP);
    fx_expect_drop(f, fr, n, &C(f)->arp_drop_own);
    /* Nothing was learned or answered from any of it. */
    assert_int_equal(tern_arp_entry_info(&f->stack, 0, NULL), TERN_ERR_INVAL);
    assert_int_equal(C(f)->arp_tx_reply, 0);
    assert_int_equal(C(f)->arp_conflicts, 0);
}

static void test_unsolicited_reply_not_cached(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    /* Poisoning attempt: "the gateway is at OTHER_MAC", unasked. */
    size_t n = frame_arp_eth(fr, FR_OUR_MAC, 2, FR_OTHER_MAC, FR_PEER_IP, FR_OUR_MAC, FR_OUR_IP);
    fx_expect_drop(f, fr, n, &C(f)->arp_drop_unsolicited);
    n = frame_arp_eth(fr, FR_BCAST_MAC, 2, FR_OTHER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_PEER_IP);
    fx_expect_drop(f, fr, n, &C(f)->arp_drop_unsolicited);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, NULL), TERN_ERR_NOROUTE);
    /* So our next packet to the gateway asks first. */
    assert_int_equal(tern_ping_send(&f->stack, FR_REMOTE_IP, 1, 1, "x", 1), TERN_OK);
    assert_int_equal(f->cn.count, 1);
    assert_request_for(f, 0, FR_PEER_IP);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, NULL), TERN_ERR_INPROGRESS);
    /* The true answer resolves it and the ping goes to the gateway's MAC. */
    rx_reply(f, FR_PEER_MAC, FR_PEER_IP);
    assert_int_equal(f->cn.count, 2);
    size_t len;
    const uint8_t *out = capnet_frame(&f->cn, 1, &len);
    assert_memory_equal(out, FR_PEER_MAC, 6);
    assert_int_equal(out[12], 0x08);
    assert_int_equal(out[13], 0x00);
    assert_int_equal(C(f)->arp_updated, 1);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_merge_updates_existing(void **state)
{
    net_fixture_t *f = *state;
    net_fixture_learn_peer(f);
    /* Gratuitous ARP from the peer with a new MAC (NIC swap, failover):
     * not for us, but the entry exists, so RFC 826 merges it. */
    rx_request(f, NEW_MAC, FR_PEER_IP, FR_PEER_IP);
    uint8_t mac[6];
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, mac), TERN_OK);
    assert_memory_equal(mac, NEW_MAC, 6);
    assert_int_equal(f->cn.count, 0);
    /* An unasked reply for an entry we hold merges too. */
    rx_reply(f, FR_PEER_MAC, FR_PEER_IP);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, mac), TERN_OK);
    assert_memory_equal(mac, FR_PEER_MAC, 6);
    assert_int_equal(C(f)->arp_drop_unsolicited, 0);
    assert_int_equal(tern_ping_send(&f->stack, FR_PEER_IP, 1, 1, "x", 1), TERN_OK);
    assert_memory_equal(capnet_frame(&f->cn, 0, NULL), FR_PEER_MAC, 6);
}

static void test_flood_of_requests_does_not_evict(void **state)
{
    net_fixture_t *f = *state;
    net_fixture_learn_peer(f);
    for (unsigned i = 0; i < 3u * TERN_ARP_CACHE_SIZE; i++) {
        uint8_t mac[6] = {0x02, 0, 0, 1, 0, (uint8_t)i};
        rx_request(f, mac, TERN_IP4(192, 0, 2, 100 + i), FR_OUR_IP);
        capnet_clear(&f->cn);
    }
    /* Every request answered; only free slots were filled. */
    assert_int_equal(C(f)->arp_tx_reply, 3u * TERN_ARP_CACHE_SIZE + 1u);
    assert_int_equal(C(f)->arp_learned, TERN_ARP_CACHE_SIZE);
    assert_int_equal(C(f)->arp_evicted, 0);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, NULL), TERN_OK);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_conflict_detected_and_defended_once(void **state)
{
    net_fixture_t *f = *state;
    unsigned logs = f->tp.logs;
    /* Another station announces our address. */
    rx_request(f, FR_OTHER_MAC, FR_OUR_IP, FR_OUR_IP);
    assert_int_equal(C(f)->arp_conflicts, 1);
    assert_int_equal(C(f)->arp_defends, 1);
    assert_true(f->tp.logs > logs);
    tern_ip4_t ip;
    uint8_t mac[6];
    assert_int_equal(tern_arp_conflict(&f->stack, &ip, mac), 1);
    assert_int_equal(ip, FR_OUR_IP);
    assert_memory_equal(mac, FR_OTHER_MAC, 6);
    /* The defence: our own gratuitous ARP. */
    assert_int_equal(f->cn.count, 1);
    uint8_t want[FRAME_MAX];
    size_t n = frame_arp_eth(want, FR_BCAST_MAC, 1, FR_OUR_MAC, FR_OUR_IP, FR_ZERO_MAC, FR_OUR_IP);
    assert_memory_equal(capnet_frame(&f->cn, 0, NULL), want, n);
    capnet_clear(&f->cn);
    /* Within DEFEND_INTERVAL (10 s): counted, not defended again. A reply
     * claiming it is a conflict too. */
    f->now += 5000;
    rx_reply(f, FR_OTHER_MAC, FR_OUR_IP);
    assert_int_equal(C(f)->arp_conflicts, 2);
    assert_int_equal(C(f)->arp_defends, 1);
    assert_int_equal(f->cn.count, 0);
    /* The conflicting claim was never cached. */
    assert_int_equal(tern_arp_lookup(&f->stack, FR_OUR_IP, NULL), TERN_ERR_NOROUTE);
    /* After the interval, defended again. */
    f->now += 5000;
    rx_request(f, FR_OTHER_MAC, FR_OUR_IP, FR_PEER_IP);
    assert_int_equal(C(f)->arp_conflicts, 3);
    assert_int_equal(C(f)->arp_defends, 2);
    assert_int_equal(f->cn.count, 1);
    tern_arp_conflict_clear(&f->stack);
    assert_int_equal(tern_arp_conflict(&f->stack, NULL, NULL), 0);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_probe_answered_not_cached(void **state)
{
    net_fixture_t *f = *state;
    /* RFC 5227 probe for our address: sender IP 0. We answer (the prober
     * then knows the address is taken) and learn nothing. */
    rx_request(f, FR_OTHER_MAC, 0, FR_OUR_IP);
    assert_int_equal(f->cn.count, 1);
    uint8_t want[FRAME_MAX];
    size_t n = frame_arp_eth(want, FR_OTHER_MAC, 2, FR_OUR_MAC, FR_OUR_IP, FR_OTHER_MAC, 0);
    assert_memory_equal(capnet_frame(&f->cn, 0, NULL), want, n);
    assert_int_equal(C(f)->arp_learned, 0);
    assert_int_equal(C(f)->arp_conflicts, 0);
    assert_int_equal(tern_arp_entry_info(&f->stack, 0, NULL), TERN_ERR_INVAL);
    /* A probe for another address is none of our business. */
    capnet_clear(&f->cn);
    uint8_t fr[FRAME_MAX];
    n = frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_OTHER_MAC, 0, FR_ZERO_MAC, FR_OTHER_IP);
    fx_expect_drop(f, fr, n, &C(f)->arp_drop_not_for_us);
}

static void test_queue_overflow_drops_oldest(void **state)
{
    net_fixture_t *f = *state;
    const unsigned sent = TERN_ARP_QUEUE_LEN + 2u;
    for (unsigned seq = 1; seq <= sent; seq++)
        assert_int_equal(tern_ping_send(&f->stack, FR_OTHER_IP, 7, (uint16_t)seq, "data", 4), TERN_OK);
    /* One request for all of them. */
    assert_int_equal(f->cn.count, 1);
    assert_request_for(f, 0, FR_OTHER_IP);
    assert_int_equal(C(f)->arp_queued, sent);
    assert_int_equal(C(f)->arp_queue_overflow, 2);
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), f->base.netbufs_free - TERN_ARP_QUEUE_LEN);
    tern_arp_info_t info;
    assert_int_equal(tern_arp_entry_info(&f->stack, 0, &info), TERN_OK);
    assert_int_equal(info.state, TERN_ARP_PENDING);
    assert_int_equal(info.queued, TERN_ARP_QUEUE_LEN);
    /* The answer releases the newest ones, in order. */
    rx_reply(f, FR_OTHER_MAC, FR_OTHER_IP);
    assert_int_equal(f->cn.count, 1 + TERN_ARP_QUEUE_LEN);
    for (unsigned i = 0; i < TERN_ARP_QUEUE_LEN; i++) {
        const uint8_t *out = capnet_frame(&f->cn, 1 + i, NULL);
        assert_memory_equal(out, FR_OTHER_MAC, 6);
        assert_int_equal(echo_seq(out), sent - TERN_ARP_QUEUE_LEN + 1 + i);
    }
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_retry_backoff_and_give_up(void **state)
{
    net_fixture_t *f = *state;
    uint32_t t0 = f->now;
    f->stack.now = t0;
    assert_int_equal(tern_ping_send(&f->stack, FR_OTHER_IP, 1, 1, "x", 1), TERN_OK);
    assert_int_equal(f->cn.count, 1);
    uint32_t at = t0, interval = TERN_ARP_RETRY_MS;
    for (unsigned k = 1; k < TERN_ARP_MAX_RETRIES; k++) {
        uint32_t next = at + interval;
        /* Nothing before the deadline; tern_poll says how long to wait. */
        uint32_t wait = tern_poll(&f->stack, next - 1);
        assert_int_equal(wait, 1);
        assert_int_equal(f->cn.count, k);
        wait = tern_poll(&f->stack, next);
        assert_int_equal(f->cn.count, k + 1);
        assert_request_for(f, k, FR_OTHER_IP);
        interval *= 2;
        assert_int_equal(wait, interval < 1000u ? interval : 1000u);
        at = next;
    }
    assert_int_equal(C(f)->arp_tx_request, TERN_ARP_MAX_RETRIES);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_OTHER_IP, NULL), TERN_ERR_INPROGRESS);
    tern_poll(&f->stack, at + interval - 1);
    assert_int_equal(C(f)->arp_resolve_failed, 0);
    /* No answer after the last interval: give up, drop what waited. */
    assert_int_equal(tern_poll(&f->stack, at + interval), 1000);
    assert_int_equal(f->cn.count, TERN_ARP_MAX_RETRIES);
    assert_int_equal(C(f)->arp_resolve_failed, 1);
    assert_int_equal(C(f)->arp_queue_timeout, 1);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_OTHER_IP, NULL), TERN_ERR_NOROUTE);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_aging_unused_entry_expires(void **state)
{
    net_fixture_t *f = *state;
    net_fixture_learn_peer(f);
    uint32_t t0 = f->now;
    assert_true(tern_poll(&f->stack, t0 + TERN_ARP_MAX_AGE_MS - 1) >= 1);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, NULL), TERN_OK);
    tern_poll(&f->stack, t0 + TERN_ARP_MAX_AGE_MS);
    assert_int_equal(C(f)->arp_expired, 1);
    assert_int_equal(f->cn.count, 0); /* nobody used it: no refresh traffic */
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, NULL), TERN_ERR_NOROUTE);
}

static void test_aging_used_entry_refreshes(void **state)
{
    net_fixture_t *f = *state;
    net_fixture_learn_peer(f);
    uint32_t t0 = f->now;
    assert_int_equal(tern_ping_send(&f->stack, FR_PEER_IP, 1, 1, "x", 1), TERN_OK);
    capnet_clear(&f->cn);
    tern_poll(&f->stack, t0 + TERN_ARP_MAX_AGE_MS);
    assert_int_equal(C(f)->arp_refreshed, 1);
    assert_int_equal(f->cn.count, 1);
    assert_request_for(f, 0, FR_PEER_IP);
    /* Still usable while refreshing: no queueing. */
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, NULL), TERN_OK);
    assert_int_equal(tern_ping_send(&f->stack, FR_PEER_IP, 1, 2, "x", 1), TERN_OK);
    assert_int_equal(f->cn.count, 2);
    f->now = t0 + TERN_ARP_MAX_AGE_MS + 10;
    rx_reply(f, FR_PEER_MAC, FR_PEER_IP);
    tern_arp_info_t info;
    assert_int_equal(tern_arp_entry_info(&f->stack, 0, &info), TERN_OK);
    assert_int_equal(info.state, TERN_ARP_RESOLVED);
    assert_int_equal(info.age_ms, 0);

    /* Next round nobody answers: the entry goes after the retries. */
    uint32_t t1 = f->now;
    assert_int_equal(tern_ping_send(&f->stack, FR_PEER_IP, 1, 3, "x", 1), TERN_OK);
    uint32_t t = t1 + TERN_ARP_MAX_AGE_MS;
    for (unsigned i = 0; i < 40 && tern_arp_lookup(&f->stack, FR_PEER_IP, NULL) == TERN_OK; i++)
        t += tern_poll(&f->stack, t);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, NULL), TERN_ERR_NOROUTE);
    assert_int_equal(C(f)->arp_resolve_failed, 1);
    assert_int_equal(C(f)->arp_tx_request, 1 + TERN_ARP_MAX_RETRIES);
    mem_assert_baseline(&f->stack, &f->base);
}

/* Count entries in one state. */
static unsigned count_state(net_fixture_t *f, uint8_t state)
{
    tern_arp_info_t info;
    unsigned n = 0;
    for (unsigned i = 0; tern_arp_entry_info(&f->stack, i, &info) == TERN_OK; i++)
        n += info.state == state;
    return n;
}

static void test_cache_full_and_eviction(void **state)
{
    net_fixture_t *f = *state;
    /* Resolutions beyond TERN_ARP_MAX_INCOMPLETE recycle the oldest one. */
    for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++) {
        tern_poll(&f->stack, f->now += 10);
        assert_int_equal(tern_ping_send(&f->stack, TERN_IP4(192, 0, 2, 10 + i), 1, 1, "x", 1), TERN_OK);
        assert_true(count_state(f, TERN_ARP_PENDING) <= TERN_ARP_MAX_INCOMPLETE);
    }
    assert_int_equal(C(f)->arp_incomplete_evicted, TERN_ARP_CACHE_SIZE - TERN_ARP_MAX_INCOMPLETE);
    assert_int_equal(C(f)->arp_cache_full, 0);
    assert_int_equal(tern_arp_lookup(&f->stack, TERN_IP4(192, 0, 2, 10), NULL), TERN_ERR_NOROUTE);
    assert_int_equal(tern_arp_lookup(&f->stack, TERN_IP4(192, 0, 2, 10 + TERN_ARP_CACHE_SIZE - 1), NULL),
                     TERN_ERR_INPROGRESS);
    tern_arp_flush(&f->stack, NULL);
    mem_assert_baseline(&f->stack, &f->base);
    /* All resolved, none in use: the one used longest ago makes room. */
    for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++) {
        uint8_t mac[6] = {0x02, 0, 0, 2, 0, (uint8_t)i};
        f->now += 10;
        rx_request(f, mac, TERN_IP4(192, 0, 2, 10 + i), FR_OUR_IP);
    }
    capnet_clear(&f->cn);
    assert_int_equal(tern_ping_send(&f->stack, TERN_IP4(192, 0, 2, 99), 1, 1, "x", 1), TERN_OK);
    assert_int_equal(C(f)->arp_evicted, 1);
    assert_int_equal(tern_arp_lookup(&f->stack, TERN_IP4(192, 0, 2, 10), NULL), TERN_ERR_NOROUTE);
    assert_int_equal(tern_arp_lookup(&f->stack, TERN_IP4(192, 0, 2, 11), NULL), TERN_OK);
    assert_int_equal(tern_arp_lookup(&f->stack, TERN_IP4(192, 0, 2, 99), NULL), TERN_ERR_INPROGRESS);
    tern_arp_flush(&f->stack, NULL);
    mem_assert_baseline(&f->stack, &f->base);
    /* All resolved and in use: nothing may go; the packet is dropped. */
    for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++) {
        uint8_t mac[6] = {0x02, 0, 0, 2, 0, (uint8_t)i};
        rx_request(f, mac, TERN_IP4(192, 0, 2, 10 + i), FR_OUR_IP);
        assert_int_equal(tern_ping_send(&f->stack, TERN_IP4(192, 0, 2, 10 + i), 1, 1, "x", 1), TERN_OK);
    }
    capnet_clear(&f->cn);
    assert_int_equal(tern_ping_send(&f->stack, TERN_IP4(192, 0, 2, 99), 1, 1, "x", 1), TERN_ERR_NOBUFS);
    assert_int_equal(C(f)->arp_cache_full, 1);
    assert_int_equal(count_state(f, TERN_ARP_RESOLVED), TERN_ARP_CACHE_SIZE);
    /* Out of use after TERN_ARP_IN_USE_MS: evictable again. */
    tern_poll(&f->stack, f->now += TERN_ARP_IN_USE_MS);
    assert_int_equal(tern_ping_send(&f->stack, TERN_IP4(192, 0, 2, 99), 1, 1, "x", 1), TERN_OK);
    assert_int_equal(C(f)->arp_evicted, 2);
    tern_arp_flush(&f->stack, NULL);
    mem_assert_baseline(&f->stack, &f->base);
}

/* Traffic to on-link addresses that never answer (SYN-ACKs to spoofed
 * sources) must not cost a live peer its mapping: the peer's entry is in
 * use, the flood's incomplete entries recycle each other within
 * TERN_ARP_MAX_INCOMPLETE, and unused resolved entries go first. */
static void test_unverified_flood_keeps_peer_in_use(void **state)
{
    net_fixture_t *f = *state;
    net_fixture_learn_peer(f);
    assert_int_equal(tern_ping_send(&f->stack, FR_PEER_IP, 1, 1, "x", 1), TERN_OK); /* in use */
    /* Fill the rest with resolved entries nobody sends to. */
    for (unsigned i = 1; i < TERN_ARP_CACHE_SIZE; i++) {
        uint8_t mac[6] = {0x02, 0, 0, 3, 0, (uint8_t)i};
        f->now += 10;
        rx_request(f, mac, TERN_IP4(192, 0, 2, 30 + i), FR_OUR_IP);
    }
    capnet_clear(&f->cn);
    uint32_t peer_sent = 0;
    for (unsigned i = 0; i < 200u; i++) {
        f->now += 3;
        tern_poll(&f->stack, f->now);
        (void)tern_ping_send(&f->stack, TERN_IP4(192, 0, 2, 100 + i % 100u), 9, (uint16_t)i, "flood", 5);
        assert_true(count_state(f, TERN_ARP_PENDING) <= TERN_ARP_MAX_INCOMPLETE);
        assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, NULL), TERN_OK);
        if (i % 20u == 0u) {
            assert_int_equal(tern_ping_send(&f->stack, FR_PEER_IP, 1, (uint16_t)(2 + i), "x", 1), TERN_OK);
            peer_sent++;
        }
        capnet_clear(&f->cn);
    }
    assert_int_equal(count_state(f, TERN_ARP_PENDING), TERN_ARP_MAX_INCOMPLETE);
    /* The unused resolved entries made room first, then incomplete entries
     * recycled each other. */
    assert_int_equal(C(f)->arp_evicted, TERN_ARP_MAX_INCOMPLETE);
    assert_true(C(f)->arp_incomplete_evicted >= 200u - TERN_ARP_MAX_INCOMPLETE - 1u);
    assert_int_equal(C(f)->arp_cache_full, 0);
    assert_true(peer_sent > 0);
    tern_arp_flush(&f->stack, NULL);
    mem_assert_baseline(&f->stack, &f->base);
}

/* The packets waiting behind incomplete entries are bounded in total:
 * each new one beyond TERN_ARP_QUEUE_TOTAL pushes out the oldest packet
 * of the entry resolving longest, counted. */
static void test_queue_total_bound(void **state)
{
    net_fixture_t *f = *state;
    unsigned sent = 0;
    for (unsigned round = 0; round < TERN_ARP_QUEUE_LEN; round++) {
        for (unsigned i = 0; i < TERN_ARP_MAX_INCOMPLETE; i++) {
            tern_poll(&f->stack, f->now += 1);
            assert_int_equal(tern_ping_send(&f->stack, TERN_IP4(192, 0, 2, 40 + i), 1, (uint16_t)sent, "x", 1),
                             TERN_OK);
            sent++;
            unsigned total = 0;
            tern_arp_info_t info;
            for (unsigned k = 0; tern_arp_entry_info(&f->stack, k, &info) == TERN_OK; k++)
                total += info.queued;
            assert_true(total <= TERN_ARP_QUEUE_TOTAL);
            assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), f->base.netbufs_free - total);
        }
    }
    uint32_t over = sent > TERN_ARP_QUEUE_TOTAL ? sent - TERN_ARP_QUEUE_TOTAL : 0u;
    assert_int_equal(C(f)->arp_queue_evicted + C(f)->arp_queue_overflow, over);
    assert_int_equal(C(f)->arp_queued, sent);
    /* The newest entry still has its packet: the answer releases it. */
    capnet_clear(&f->cn);
    uint8_t mac[6] = {0x02, 0, 0, 4, 0, 1};
    rx_reply(f, mac, TERN_IP4(192, 0, 2, 40 + TERN_ARP_MAX_INCOMPLETE - 1));
    assert_true(f->cn.count >= 1u);
    assert_memory_equal(capnet_frame(&f->cn, 0, NULL), mac, 6);
    tern_arp_flush(&f->stack, NULL);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_report_and_info(void **state)
{
    net_fixture_t *f = *state;
    net_fixture_learn_peer(f);
    assert_int_equal(tern_ping_send(&f->stack, FR_OTHER_IP, 1, 1, "x", 1), TERN_OK);
    tern_arp_info_t a, b;
    assert_int_equal(tern_arp_entry_info(&f->stack, 0, &a), TERN_OK);
    assert_int_equal(tern_arp_entry_info(&f->stack, 1, &b), TERN_OK);
    assert_int_equal(tern_arp_entry_info(&f->stack, 2, NULL), TERN_ERR_INVAL);
    assert_int_equal(a.ip, FR_PEER_IP);
    assert_int_equal(a.state, TERN_ARP_RESOLVED);
    assert_string_equal(a.ifname, "cap0");
    assert_int_equal(b.ip, FR_OTHER_IP);
    assert_int_equal(b.state, TERN_ARP_PENDING);
    assert_int_equal(b.retries, 1);
    assert_int_equal(b.queued, 1);
    static tern_test_sink_t sink;
    tern_test_sink_reset(&sink);
    tern_arp_report_text(&f->stack, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "192.0.2.1 "));
    assert_non_null(strstr(sink.text, "02:00:00:00:00:01"));
    assert_non_null(strstr(sink.text, "resolved"));
    assert_non_null(strstr(sink.text, "192.0.2.3 "));
    assert_non_null(strstr(sink.text, "(incomplete)"));
    assert_non_null(strstr(sink.text, "pending"));
    tern_arp_flush(&f->stack, NULL);
    tern_test_sink_reset(&sink);
    tern_arp_report_text(&f->stack, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "(empty)"));
}

static void test_link_down_flushes_queue(void **state)
{
    net_fixture_t *f = *state;
    assert_int_equal(tern_ping_send(&f->stack, FR_OTHER_IP, 1, 1, "x", 1), TERN_OK);
    tern_netif_set_link(&f->cn.nif, 0);
    assert_int_equal(C(f)->arp_queue_flushed, 1);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_OTHER_IP, NULL), TERN_ERR_NOROUTE);
    mem_assert_baseline(&f->stack, &f->base);
    /* Address set while down: announced only when the link comes up. */
    capnet_clear(&f->cn);
    tern_netif_set_addr(&f->cn.nif, FR_OTHER_IP, FR_NETMASK, FR_PEER_IP);
    assert_int_equal(f->cn.count, 0);
    tern_netif_set_link(&f->cn.nif, 1);
    assert_int_equal(f->cn.count, 1);
    uint8_t want[FRAME_MAX];
    size_t n = frame_arp_eth(want, FR_BCAST_MAC, 1, FR_OUR_MAC, FR_OTHER_IP, FR_ZERO_MAC, FR_OTHER_IP);
    assert_memory_equal(capnet_frame(&f->cn, 0, NULL), want, n);
    tern_netif_set_addr(&f->cn.nif, FR_OUR_IP, FR_NETMASK, FR_PEER_IP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_for_us_answered, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_request_for_another_ignored, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unsolicited_reply_not_cached, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_merge_updates_existing, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_flood_of_requests_does_not_evict, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_conflict_detected_and_defended_once, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_probe_answered_not_cached, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_queue_overflow_drops_oldest, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_retry_backoff_and_give_up, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_aging_unused_entry_expires, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_aging_used_entry_refreshes, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cache_full_and_eviction, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unverified_flood_keeps_peer_in_use, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_queue_total_bound, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_report_and_info, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_link_down_flushes_queue, setup, net_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
