/* Crafted TCP segments and the listener fixture (tcpseg.h). */
#include "tcpseg.h"

#include <stdlib.h>
#include <string.h>
#include "tern/err.h"

void tseg_fix_checksum(uint8_t *frame, size_t n)
{
    uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 0x0Fu) * 4u;
    size_t tl = ((size_t)ip[2] << 8 | ip[3]) - ihl;
    assert_true(14u + ihl + tl <= n);
    uint8_t ps[FRAME_MAX + 12];
    memcpy(ps, ip + 12, 8);
    ps[8] = 0;
    ps[9] = 6;
    ps[10] = (uint8_t)(tl >> 8);
    ps[11] = (uint8_t)tl;
    uint8_t *tcp = ip + ihl;
    tcp[16] = tcp[17] = 0;
    memcpy(ps + 12, tcp, tl);
    uint16_t c = frame_checksum(ps, tl + 12);
    tcp[16] = (uint8_t)(c >> 8);
    tcp[17] = (uint8_t)c;
}

size_t tseg_frame(uint8_t *out, const tseg_t *s)
{
    uint8_t tcp[FRAME_MAX];
    size_t hl = 20u + s->opt_len;
    assert_true(s->opt_len % 4u == 0u && hl + s->len <= 1480u);
    memset(tcp, 0, hl);
    tcp[0] = (uint8_t)(s->sport >> 8);
    tcp[1] = (uint8_t)s->sport;
    tcp[2] = (uint8_t)(s->dport >> 8);
    tcp[3] = (uint8_t)s->dport;
    be32_put(tcp + 4, s->seq);
    be32_put(tcp + 8, s->ack);
    tcp[12] = (uint8_t)((hl / 4u) << 4);
    tcp[13] = s->flags;
    tcp[14] = (uint8_t)(s->wnd >> 8);
    tcp[15] = (uint8_t)s->wnd;
    tcp[18] = (uint8_t)(s->urp >> 8);
    tcp[19] = (uint8_t)s->urp;
    if (s->opt_len)
        memcpy(tcp + 20, s->opt, s->opt_len);
    if (s->len)
        memcpy(tcp + hl, s->data, s->len);
    frame_ip_t ip = {.src = s->src ? s->src : FR_PEER_IP, .dst = s->dst ? s->dst : FR_OUR_IP, .proto = 6};
    size_t n = frame_ip_eth2(out, s->eth_dst ? s->eth_dst : FR_OUR_MAC, FR_PEER_MAC, &ip, tcp, hl + s->len);
    tseg_fix_checksum(out, n);
    return n;
}

size_t tseg_peer(uint8_t *out, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                 uint16_t wnd, const uint8_t *opt, size_t opt_len, const void *data, size_t len)
{
    return tseg_frame(out, &(tseg_t){.sport = sport, .dport = dport, .seq = seq, .ack = ack, .flags = flags,
                                     .wnd = wnd, .opt = opt, .opt_len = opt_len, .data = data, .len = len});
}

size_t tseg_opt_ts(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
    o[0] = 1;
    o[1] = 1;
    o[2] = 8;
    o[3] = 10;
    be32_put(o + 4, tsval);
    be32_put(o + 8, tsecr);
    return 12;
}

size_t tseg_opt_sack(uint8_t *o, const uint32_t *blocks, unsigned n)
{
    o[0] = 1;
    o[1] = 1;
    o[2] = 5;
    o[3] = (uint8_t)(2 + 8 * n);
    for (unsigned i = 0; i < 2 * n; i++)
        be32_put(o + 4 + 4 * i, blocks[i]);
    return 4 + 8 * n;
}

size_t tseg_opt_syn(uint8_t *o, int sack, int ts, uint32_t tsval, int wscale)
{
    static const uint8_t mss[4] = {2, 4, 0x05, 0xb4}, sack_ok[4] = {1, 1, 4, 2};
    size_t n = 0;
    memcpy(o, mss, 4);
    n += 4;
    if (sack) {
        memcpy(o + n, sack_ok, 4);
        n += 4;
    }
    if (ts)
        n += tseg_opt_ts(o + n, tsval, 0);
    if (wscale >= 0) {
        o[n++] = 1;
        o[n++] = 3;
        o[n++] = 3;
        o[n++] = (uint8_t)wscale;
    }
    return n;
}

const uint8_t *tseg_captured(const capnet_t *cn, unsigned i, uint32_t *payload)
{
    assert_true(i < cn->count);
    const uint8_t *fr = capnet_frame(cn, i, NULL);
    assert_int_equal(fr[12] << 8 | fr[13], 0x0800);
    const uint8_t *ip = fr + 14;
    assert_int_equal(ip[9], 6);
    size_t ihl = (size_t)(ip[0] & 0x0Fu) * 4u;
    const uint8_t *h = ip + ihl;
    if (payload != NULL)
        *payload = (uint32_t)(((size_t)ip[2] << 8 | ip[3]) - ihl - (size_t)(h[12] >> 4) * 4u);
    return h;
}

/* ---- the listener fixture ---------------------------------------------- */

static int fx_on_accept(void *arg, tern_tcp_pcb_t *l, tern_tcp_pcb_t *pcb)
{
    tcp_fixture_t *t = arg;
    (void)l;
    t->accepts++;
    t->conn = pcb;
    return TERN_OK;
}

static void fx_on_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    ((tcp_fixture_t *)arg)->readable++;
}

static void fx_on_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    tcp_fixture_t *t = arg;
    (void)pcb;
    t->errors++;
    t->last_err = err;
    t->conn = NULL;
}

static void fx_on_peer_closed(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    ((tcp_fixture_t *)arg)->peer_closed++;
}

const tern_tcp_callbacks_t tcp_fixture_cbs = {
    .accept = fx_on_accept, .readable = fx_on_readable, .error = fx_on_error, .peer_closed = fx_on_peer_closed};

tcp_fixture_t *tcp_fixture_new(uint64_t seed, uint16_t port)
{
    tcp_fixture_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->f = net_fixture_new(seed);
    net_fixture_learn_peer(t->f);
    int err;
    t->listener = tern_tcp_listen(&t->f->stack, port, 4, &tcp_fixture_cbs, t, &err);
    assert_non_null(t->listener);
    mem_snapshot(&t->f->stack, &t->f->base);
    return t;
}

void tcp_fixture_free(tcp_fixture_t *t)
{
    if (t->conn != NULL)
        tern_tcp_abort(t->conn);
    for (int i = 0; i < 400; i++) {
        t->f->now += 1000;
        tern_poll(&t->f->stack, t->f->now);
        capnet_tx_complete(&t->f->cn);
    }
    assert_int_equal(t->f->stack.tcp.half_open, 0);
    net_fixture_free(t->f);
    free(t);
}

void tcp_fixture_rx(tcp_fixture_t *t, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                    uint16_t wnd, const uint8_t *opt, size_t opt_len, const void *data, size_t len)
{
    uint8_t fr[FRAME_MAX];
    size_t n = tseg_peer(fr, sport, dport, seq, ack, flags, wnd, opt, opt_len, data, len);
    fx_rx(t->f, fr, n);
}

const uint8_t *tcp_fixture_cap(const tcp_fixture_t *t, unsigned i, uint32_t *payload)
{
    return tseg_captured(&t->f->cn, i, payload);
}
