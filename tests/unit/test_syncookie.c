/* TERN_TEST_STATIC_VARIANT */
/* SYN cookies (RFC 4987) on crafted segments: the MSS classes, window scale
 * and SACK-permitted through the timestamp, the validity window, forged and
 * replayed cookies, and a flood that must not cost a real peer its
 * half-open connection. The listener's backlog (4) is filled first so every
 * later SYN gets a cookie. */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"

#define LPORT 80
#define BACKLOG 4u

typedef struct synack {
    uint32_t seq, ack;
    uint16_t mss;
    int wscale;  /* -1: none */
    int sack, ts;
    uint32_t tsval;
} synack_t;

static int setup(void **state)
{
    *state = tcp_fixture_new(77, LPORT);
    return 0;
}

static int teardown(void **state)
{
    tcp_fixture_free(*state);
    return 0;
}

static void rx(tcp_fixture_t *t, const tseg_t *s)
{
    uint8_t fr[FRAME_MAX];
    size_t n = tseg_frame(fr, s);
    fx_rx(t->f, fr, n);
}

/* The last TCP frame sent, parsed; 0 when none. */
static int last_synack(tcp_fixture_t *t, synack_t *out)
{
    for (unsigned i = t->f->cn.count; i-- > 0;) {
        const uint8_t *fr = capnet_frame(&t->f->cn, i, NULL);
        if ((fr[12] << 8 | fr[13]) != 0x0800)
            continue;
        const uint8_t *h = tcp_fixture_cap(t, i, NULL);
        if (h[13] != (TCP_SYN | TCP_ACK))
            return 0;
        memset(out, 0, sizeof *out);
        out->wscale = -1;
        out->seq = be32_get(h + 4);
        out->ack = be32_get(h + 8);
        unsigned hl = (unsigned)(h[12] >> 4) * 4u;
        for (unsigned o = 20; o < hl;) {
            uint8_t kind = h[o];
            if (kind == 0)
                break;
            if (kind == 1) {
                o++;
                continue;
            }
            if (kind == 2)
                out->mss = (uint16_t)be16_get(h + o + 2);
            else if (kind == 3)
                out->wscale = h[o + 2];
            else if (kind == 4)
                out->sack = 1;
            else if (kind == 8) {
                out->ts = 1;
                out->tsval = be32_get(h + o + 2);
            }
            o += h[o + 1];
        }
        return 1;
    }
    return 0;
}

/* BACKLOG half-open children from FR_PEER_IP ports 5000.. */
static void fill_backlog(tcp_fixture_t *t)
{
    for (unsigned i = 0; i < BACKLOG; i++)
        rx(t, &(tseg_t){.sport = (uint16_t)(5000u + i), .dport = LPORT, .seq = 7000u * i, .flags = TCP_SYN,
                        .wnd = 1000});
    assert_int_equal(t->f->stack.tcp.half_open, BACKLOG);
    assert_int_equal(tern_tcp_stats(&t->f->stack)->syncookies_sent, 0);
    capnet_clear(&t->f->cn);
}

/* A SYN from sport with the given options; its cookie SYN-ACK. */
static synack_t cookie_syn(tcp_fixture_t *t, uint16_t sport, uint32_t isn, uint16_t mss, int sack, int ts, int ws)
{
    uint8_t o[24];
    size_t n = tseg_opt_syn(o, sack, ts, 4242u, ws);
    o[2] = (uint8_t)(mss >> 8);
    o[3] = (uint8_t)mss;
    uint32_t sent = tern_tcp_stats(&t->f->stack)->syncookies_sent;
    capnet_clear(&t->f->cn);
    rx(t, &(tseg_t){.sport = sport, .dport = LPORT, .seq = isn, .flags = TCP_SYN, .wnd = 2000, .opt = o,
                    .opt_len = n});
    assert_int_equal(tern_tcp_stats(&t->f->stack)->syncookies_sent, sent + 1u);
    assert_int_equal(t->f->stack.tcp.half_open, BACKLOG); /* no state kept */
    synack_t sa;
    assert_true(last_synack(t, &sa));
    assert_int_equal(sa.ack, isn + 1u);
    capnet_clear(&t->f->cn);
    return sa;
}

/* The handshake's ACK for a cookie (echoing tsecr when not 0). */
static void cookie_ack(tcp_fixture_t *t, uint16_t sport, uint32_t isn, uint32_t cookie, uint32_t tsecr)
{
    uint8_t o[12];
    size_t n = tsecr != 0u ? tseg_opt_ts(o, 4243u, tsecr) : 0u;
    rx(t, &(tseg_t){.sport = sport, .dport = LPORT, .seq = isn + 1u, .ack = cookie + 1u, .flags = TCP_ACK,
                    .wnd = 3000, .opt = n != 0u ? o : NULL, .opt_len = n});
}

static void abort_conn(tcp_fixture_t *t)
{
    tern_tcp_abort(t->conn);
    t->conn = NULL;
    capnet_clear(&t->f->cn);
}

/* Each MSS class survives the round trip, as do window scale and SACK
 * through the timestamp; a value between classes rounds down. */
static void test_mss_classes_round_trip(void **state)
{
    tcp_fixture_t *t = *state;
    fill_backlog(t);
    uint16_t ours = tcp_our_mss(&t->f->stack, FR_PEER_IP);
    for (unsigned i = 0; i < 8u; i++) {
        uint16_t cls = tcp_cookie_mss_value(i);
        assert_int_equal(tcp_cookie_mss_index(cls), i);
        if (i < 7u)
            assert_int_equal(tcp_cookie_mss_index((uint16_t)(tcp_cookie_mss_value(i + 1u) - 1u)), i);
        for (unsigned v = 0; v < 2u; v++) {
            uint16_t sent_mss = v == 0u ? cls : (uint16_t)(cls + 1u);
            if (i == 7u && v == 1u)
                sent_mss = 9000;
            uint16_t sport = (uint16_t)(6000u + i * 2u + v);
            uint32_t isn = 100000u * (i + 1u) + v;
            int ws = (int)((i + v) % 15u);
            synack_t sa = cookie_syn(t, sport, isn, sent_mss, (int)(i & 1u), 1, ws);
            assert_int_equal(sa.seq >> 29, i);
            assert_true(sa.ts);
            assert_int_equal(sa.sack, (int)(i & 1u));
            assert_true(sa.wscale >= 0);
            uint32_t acc = tern_tcp_stats(&t->f->stack)->syncookies_accepted;
            int accepts = t->accepts;
            cookie_ack(t, sport, isn, sa.seq, sa.tsval);
            assert_int_equal(tern_tcp_stats(&t->f->stack)->syncookies_accepted, acc + 1u);
            assert_int_equal(t->accepts, accepts + 1);
            assert_non_null(t->conn);
            assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
            uint16_t want = cls < ours ? cls : ours;
            want = (uint16_t)(want < TCP_MIN_MSS ? TCP_MIN_MSS : want);
            assert_int_equal(t->conn->mss, want - TCP_TS_OPT_LEN);
            assert_true(t->conn->flags & TF_TS);
            assert_int_equal((t->conn->flags & TF_SACK) != 0u, (int)(i & 1u));
            assert_true(t->conn->flags & TF_WSCALE);
            assert_int_equal(t->conn->snd_wscale, ws);
            assert_int_equal(t->conn->snd_wnd, 3000u << ws);
            assert_int_equal(t->conn->iss, sa.seq);
            abort_conn(t);
        }
    }
    assert_int_equal(tern_tcp_stats(&t->f->stack)->syncookies_rejected, 0);
}

/* Without timestamps the cookie keeps only the MSS: the SYN-ACK offers no
 * window scale and no SACK, and the connection has neither. */
static void test_no_timestamps_loses_wscale_and_sack(void **state)
{
    tcp_fixture_t *t = *state;
    fill_backlog(t);
    synack_t sa = cookie_syn(t, 6100, 555, 1460, 1, 0, 7);
    assert_int_equal(sa.ts, 0);
    assert_int_equal(sa.sack, 0);
    assert_int_equal(sa.wscale, -1);
    cookie_ack(t, 6100, 555, sa.seq, 0);
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    assert_false(t->conn->flags & (TF_TS | TF_SACK | TF_WSCALE));
    assert_int_equal(t->conn->snd_wnd, 3000);
    abort_conn(t);
}

/* Valid through the next period, rejected after it (the key is gone); a
 * cookie replayed after the keys rotated is rejected too. */
static void test_validity_window_and_replay(void **state)
{
    tcp_fixture_t *t = *state;
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    fill_backlog(t);
    /* Sent, accepted one period later. */
    synack_t a = cookie_syn(t, 6200, 1000, 1460, 0, 0, -1);
    t->f->now += TERN_TCP_SYN_COOKIE_PERIOD_MS;
    tern_poll(&t->f->stack, t->f->now);
    cookie_ack(t, 6200, 1000, a.seq, 0);
    assert_int_equal(s->syncookies_accepted, 1);
    abort_conn(t);
    /* Replayed two periods after it was made: rejected, reset. */
    t->f->now += TERN_TCP_SYN_COOKIE_PERIOD_MS;
    tern_poll(&t->f->stack, t->f->now);
    (void)cookie_syn(t, 6201, 2000, 1460, 0, 0, -1); /* cookies in use now */
    uint32_t rst = s->rst_tx;
    cookie_ack(t, 6200, 1000, a.seq, 0);
    assert_int_equal(s->syncookies_accepted, 1);
    assert_int_equal(s->syncookies_rejected, 1);
    assert_int_equal(s->rst_tx, rst + 1u);
    assert_null(t->conn);
    /* Expired without ever being used: the same. */
    synack_t b = cookie_syn(t, 6202, 3000, 1460, 0, 0, -1);
    t->f->now += 2u * TERN_TCP_SYN_COOKIE_PERIOD_MS;
    tern_poll(&t->f->stack, t->f->now);
    (void)cookie_syn(t, 6203, 4000, 1460, 0, 0, -1);
    cookie_ack(t, 6202, 3000, b.seq, 0);
    assert_int_equal(s->syncookies_rejected, 2);
    assert_null(t->conn);
    assert_int_equal(t->f->stack.tcp.half_open, BACKLOG);
}

/* A cookie changed anywhere, or returned by another 4-tuple or with another
 * peer ISN, is rejected with a reset and opens nothing. */
static void test_forged_cookies_rejected(void **state)
{
    tcp_fixture_t *t = *state;
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    fill_backlog(t);
    synack_t a = cookie_syn(t, 6300, 9000, 1460, 1, 1, 3);
    struct {
        uint16_t sport;
        uint32_t isn, cookie, tsecr;
    } bad[] = {
        {6300, 9000, a.seq ^ 1u, a.tsval},          /* hash bit */
        {6300, 9000, a.seq ^ 0x10000000u, a.tsval}, /* hash bit, high */
        {6300, 9000, a.seq ^ 0x20000000u, a.tsval}, /* MSS class */
        {6301, 9000, a.seq, a.tsval},               /* another port */
        {6300, 9001, a.seq, a.tsval},               /* another peer ISN */
        {6300, 9000, a.seq, a.tsval | 0x20u},       /* option bits we never set */
        {6300, 9000, a.seq, a.tsval + 100000u},     /* an echo from the future */
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t rst = s->rst_tx;
        cookie_ack(t, bad[i].sport, bad[i].isn, bad[i].cookie, bad[i].tsecr);
        assert_int_equal(s->syncookies_rejected, i + 1u);
        assert_int_equal(s->rst_tx, rst + 1u);
        assert_int_equal(t->accepts, 0);
        assert_int_equal(t->f->stack.tcp.half_open, BACKLOG);
        capnet_clear(&t->f->cn);
    }
    /* Random guesses. */
    for (uint32_t g = 1; g <= 500u; g++)
        cookie_ack(t, 6300, 9000, a.seq + g * 7919u, a.tsval);
    assert_int_equal(t->accepts, 0);
    /* The real one still works. */
    cookie_ack(t, 6300, 9000, a.seq, a.tsval);
    assert_int_equal(t->accepts, 1);
    assert_int_equal(s->syncookies_accepted, 1);
    abort_conn(t);
}

/* Below the limits no cookie is sent; with none sent lately an ACK to the
 * listener is an ordinary stray ACK (reset, not counted as a cookie). */
static void test_cookies_only_when_full(void **state)
{
    tcp_fixture_t *t = *state;
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    rx(t, &(tseg_t){.sport = 6400, .dport = LPORT, .seq = 1, .flags = TCP_SYN, .wnd = 1000});
    assert_int_equal(t->f->stack.tcp.half_open, 1);
    assert_int_equal(s->syncookies_sent, 0);
    cookie_ack(t, 6401, 1, 12345, 0);
    assert_int_equal(s->syncookies_rejected, 0);
    assert_int_equal(s->rst_tx, 1);
}

/* A flood of spoofed on-link SYNs while a real peer's handshake is half
 * done: its half-open connection stays and completes, a second real peer
 * connects during the flood through a cookie, and the flood costs no
 * memory beyond the half-open table. */
static void test_flood_keeps_real_half_open(void **state)
{
    tcp_fixture_t *t = *state;
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    rx(t, &(tseg_t){.sport = 6500, .dport = LPORT, .seq = 50000, .flags = TCP_SYN, .wnd = 1000});
    synack_t real;
    assert_true(last_synack(t, &real));
    capnet_clear(&t->f->cn);
    for (unsigned i = 0; i < 300u; i++) {
        rx(t, &(tseg_t){.src = TERN_IP4(192, 0, 2, 100 + i % 100u), .sport = (uint16_t)(20000u + i), .dport = LPORT,
                        .seq = i * 31337u, .flags = TCP_SYN, .wnd = 1000});
        t->f->now += 5;
        tern_poll(&t->f->stack, t->f->now);
        capnet_tx_complete(&t->f->cn);
        capnet_clear(&t->f->cn);
        assert_true(t->f->stack.tcp.half_open <= BACKLOG);
    }
    assert_int_equal(s->syn_evicted, 0);
    assert_true(s->syncookies_sent >= 300u - BACKLOG);
    assert_int_equal(tern_ledger_category(&t->f->stack.ledger, TERN_MEM_SOCKET)->blocks, 2u + BACKLOG);
    /* The first real peer completes its handshake. */
    rx(t, &(tseg_t){.sport = 6500, .dport = LPORT, .seq = 50001, .ack = real.seq + 1u, .flags = TCP_ACK, .wnd = 1000});
    assert_int_equal(t->accepts, 1);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    tern_tcp_pcb_t *first = t->conn;
    /* A second real peer connects during the flood: through a cookie. */
    rx(t, &(tseg_t){.sport = 6501, .dport = LPORT, .seq = 60000, .flags = TCP_SYN, .wnd = 1000});
    synack_t second;
    assert_true(last_synack(t, &second));
    cookie_ack(t, 6501, 60000, second.seq, 0);
    assert_int_equal(t->accepts, 2);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    tern_tcp_abort(first);
    abort_conn(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mss_classes_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_timestamps_loses_wscale_and_sack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validity_window_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_cookies_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookies_only_when_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_keeps_real_half_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
