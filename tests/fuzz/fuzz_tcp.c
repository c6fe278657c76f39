/* libFuzzer target for TCP input in several states, not only LISTEN.
 *
 * The first input byte picks a starting state, reached with well-formed
 * segments before the fuzzer's own: LISTEN, SYN-RECEIVED, ESTABLISHED,
 * ESTABLISHED with data queued both ways, FIN-WAIT (we closed), CLOSE-WAIT
 * (the peer closed), SYN-SENT (we connect). The rest is a list of segments:
 *   flags(1) seq_delta(2) ack_delta(2) wnd(2) optlen(1) opts datalen(1) data
 * where the deltas are relative to what the connection expects (so they
 * land in and around the windows; so are SACK block edges in opts) and
 * flag bit 0x80 of a spare byte breaks the checksum. A first byte whose
 * (value / 7) is odd negotiates SACK and timestamps in the handshake. After each input the connection is aborted, timers run
 * through TIME-WAIT, and the stack must be back at its baseline (heap
 * bytes, network buffers, ledger verify). The stack is rebuilt every 512
 * inputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "fuzz_common.h"

#define FUZZ_SEED 0x9E3779B97F4A7C15ull
#define OUR_IP TERN_IP4(192, 0, 2, 2)
#define PEER_IP TERN_IP4(192, 0, 2, 1)

static tern_tcp_pcb_t *listener, *conn;
/* Every connection the application holds (accepted or opened). */
static tern_tcp_pcb_t *held[64];
static unsigned nheld;

static void hold(tern_tcp_pcb_t *pcb)
{
    if (nheld >= 64u)
        abort();
    held[nheld++] = pcb;
}

/* The last segment tern sent. */
static struct {
    int valid;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
} last;

/* fuzz_tx_hook: remember the last TCP segment sent. */
static void watch_tx(const uint8_t *f, size_t len)
{
    if (len >= 54 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 6) {
        const uint8_t *t = f + 14 + (f[14] & 0x0F) * 4;
        last.valid = 1;
        last.sport = (uint16_t)(t[0] << 8 | t[1]);
        last.dport = (uint16_t)(t[2] << 8 | t[3]);
        last.seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
        last.ack = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | (uint32_t)t[10] << 8 | t[11];
        last.flags = t[13];
    }
}

static void feed(const uint8_t *frame, size_t len)
{
    (void)tern_input_copy(&stack, &nif, frame, len, now);
}

static void send_seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                     const uint8_t *opt, size_t optlen, const uint8_t *data, size_t len, int bad_csum)
{
    uint8_t f[1514];
    optlen &= ~(size_t)3u;
    if (optlen > 40u)
        optlen = 40u;
    if (54u + optlen + len > sizeof f)
        len = sizeof f - 54u - optlen;
    uint8_t *ip = f + 14, *t = f + 34;
    size_t tl = 20u + optlen + len;
    fuzz_eth_header(f, our_mac, 0x0800);
    fuzz_ipv4_header(ip, PEER_IP, OUR_IP, 6, tl);
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)(((20u + optlen) / 4u) << 4);
    t[13] = flags;
    put16(t + 14, wnd);
    t[16] = t[17] = t[18] = t[19] = 0;
    if (optlen)
        memcpy(t + 20, opt, optlen);
    if (len)
        memcpy(t + 20 + optlen, data, len);
    uint8_t ph[12];
    put32(ph, PEER_IP);
    put32(ph + 4, OUR_IP);
    ph[8] = 0;
    ph[9] = 6;
    put16(ph + 10, (uint32_t)tl);
    put16(t + 16, csum_fold(csum_add(csum_add(0, ph, 12), t, tl)) ^ (bad_csum ? 1u : 0u));
    feed(f, 34u + tl);
}

static void on_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    (void)arg;
    (void)err;
    if (pcb == conn)
        conn = NULL;
    for (unsigned k = 0; k < nheld; k++)
        if (held[k] == pcb)
            held[k] = held[--nheld];
}
static int on_accept(void *arg, tern_tcp_pcb_t *l, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    (void)l;
    if (nheld >= 64u)
        return TERN_ERR_NOMEM; /* refused: reset */
    if (conn == NULL)
        conn = pcb;
    hold(pcb);
    return TERN_OK;
}
static void on_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    const uint8_t *span;
    int n;
    /* Read half of it: exercise both full and partial receive rings. */
    if ((n = tern_tcp_peek(pcb, &span)) > 1)
        tern_tcp_consume(pcb, (size_t)n / 2u);
}
static const tern_tcp_callbacks_t cbs = {.accept = on_accept, .readable = on_readable, .error = on_error};

/* Teach ARP the peer (a request from it to us); repeated before every
 * input, since the timers run far past the ARP entry's age. */
static void learn_peer(void)
{
    uint8_t a[42];
    fuzz_eth_header(a, our_mac, 0x0806);
    static const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};
    memcpy(a + 14, hdr, 8);
    memcpy(a + 22, peer_mac, 6);
    put32(a + 28, PEER_IP);
    memset(a + 32, 0, 6);
    put32(a + 38, OUR_IP);
    feed(a, sizeof a);
}

static void setup(void)
{
    fuzz_stack_bringup(FUZZ_SEED, OUR_IP, 0);
    fuzz_tx_hook = watch_tx;
    learn_peer();
    tern_tcp_set_timewait(&stack, 1000);
    int err;
    listener = tern_tcp_listen(&stack, 80, 4, &cbs, NULL, &err);
    if (listener == NULL)
        abort();
    baseline_used = heap_used();
}

/* From deadline to deadline (fuzz_run_for), not a second at a time. */
static void run_timers(uint32_t ms)
{
    fuzz_run_for(ms);
}

static void check_baseline(void)
{
    size_t used = heap_used();
    if (used != baseline_used || !fuzz_books_balance() ||
        (fuzz_full_check_due() && tern_ledger_verify(&stack.ledger) != TERN_OK) ||
        tern_netbuf_free_count(&stack.netbufs) != TERN_NETBUF_COUNT || tern_tcp_list(&stack, NULL, 0) != 1u) {
        fprintf(stderr, "not at baseline: heap used %zu (baseline %zu), buffers free %u, tcp rows %zu\n", used,
                baseline_used, tern_netbuf_free_count(&stack.netbufs), tern_tcp_list(&stack, NULL, 0));
        tern_tcp_info_t rows[4];
        size_t n = tern_tcp_list(&stack, rows, 4);
        for (size_t k = 0; k < n && k < 4u; k++)
            fprintf(stderr, "  %s local %u remote %u rq %u sq %u\n", tern_tcp_state_name(rows[k].state),
                    rows[k].local_port, rows[k].remote_port, rows[k].recv_queue, rows[k].send_queue);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_restart_every(512u, setup);
    if (size < 1)
        return 0;
    learn_peer();
    unsigned start = data[0] % 7u;
    /* (data[0] / 7) odd: the handshake negotiates SACK and timestamps (the
     * handshake's own segments then carry TSval 2; the fuzzer's need their
     * own timestamps option, or are dropped as RFC 7323 3.2 says). */
    int sackts = ((data[0] / 7u) & 1u) != 0u;
    data++;
    size--;
    static const uint8_t syn_plain[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 2};
    static const uint8_t syn_full[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 2};
    static const uint8_t ts_opt[12] = {1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 0};
    const uint8_t *syn_opt = sackts ? syn_full : syn_plain;
    size_t syn_optlen = sackts ? sizeof syn_full : sizeof syn_plain;
    const uint8_t *hs_opt = sackts ? ts_opt : NULL;
    size_t hs_optlen = sackts ? sizeof ts_opt : 0u;
    uint16_t sport = (uint16_t)(1024u + inputs % 30000u);
    uint32_t peer_seq = 1000u * inputs, our_next = 0;
    conn = NULL;
    nheld = 0;
    last.valid = 0;
    uint16_t dport = 80;
    if (start == 6) {
        /* SYN-SENT: we connect to the peer. */
        int err;
        conn = tern_tcp_connect(&stack, PEER_IP, 5000, &cbs, NULL, &err);
        if (conn == NULL || !last.valid)
            abort();
        hold(conn);
        dport = last.sport;
        sport = 5000;
        our_next = last.seq + 1u;
    } else if (start >= 1) {
        send_seg(sport, 80, peer_seq, 0, 0x02, 65535, syn_opt, syn_optlen, NULL, 0, 0);
        if (!last.valid || last.flags != 0x12)
            abort();
        our_next = last.seq + 1u;
        peer_seq++;
        if (start >= 2) {
            send_seg(sport, 80, peer_seq, our_next, 0x10, 65535, hs_opt, hs_optlen, NULL, 0, 0);
            if (conn == NULL)
                abort();
        }
        if (start >= 3 && conn != NULL) {
            static const uint8_t some[300] = {1};
            tern_tcp_write(conn, some, sizeof some);
            send_seg(sport, 80, peer_seq, our_next, 0x18, 65535, hs_opt, hs_optlen, some, 100, 0);
            peer_seq += 100u;
        }
        if (start == 4 && conn != NULL)
            tern_tcp_shutdown(conn);
        if (start == 5 && conn != NULL) {
            send_seg(sport, 80, peer_seq, our_next, 0x11, 65535, hs_opt, hs_optlen, NULL, 0, 0);
            peer_seq++;
        }
    }
    /* The fuzzer's segments. */
    size_t i = 0;
    while (i + 9u <= size) {
        uint8_t flags = data[i];
        int16_t dseq = (int16_t)(data[i + 1] << 8 | data[i + 2]);
        int16_t dack = (int16_t)(data[i + 3] << 8 | data[i + 4]);
        uint16_t wnd = (uint16_t)(data[i + 5] << 8 | data[i + 6]);
        size_t optlen = data[i + 7] & 0x3Fu;
        int bad = (data[i + 7] & 0x80u) != 0u;
        i += 8u;
        if (i + optlen > size)
            optlen = size - i;
        const uint8_t *opt = data + i;
        i += optlen;
        if (i >= size)
            break;
        size_t dlen = data[i++];
        if (i + dlen > size)
            dlen = size - i;
        /* SACK blocks are sequence numbers of ours: taken relative to
         * our_next, as the ACK field is, so that they land near the flight. */
        uint8_t optbuf[64];
        memcpy(optbuf, opt, optlen);
        for (size_t k = 0; k < optlen;) {
            if (optbuf[k] <= 1u) {
                k++;
                continue;
            }
            if (k + 1u >= optlen || optbuf[k + 1u] < 2u)
                break;
            if (optbuf[k] == 5u)
                for (size_t e = k + 2u; e + 4u <= k + optbuf[k + 1u] && e + 4u <= optlen; e += 4u) {
                    uint32_t v = ((uint32_t)optbuf[e] << 24 | (uint32_t)optbuf[e + 1u] << 16 |
                                  (uint32_t)optbuf[e + 2u] << 8 | optbuf[e + 3u]) + our_next;
                    optbuf[e] = (uint8_t)(v >> 24);
                    optbuf[e + 1u] = (uint8_t)(v >> 16);
                    optbuf[e + 2u] = (uint8_t)(v >> 8);
                    optbuf[e + 3u] = (uint8_t)v;
                }
            k += optbuf[k + 1u];
        }
        send_seg(sport, dport, peer_seq + (uint32_t)(int32_t)dseq, our_next + (uint32_t)(int32_t)dack,
                 (uint8_t)(flags & 0x3Fu), wnd, optbuf, optlen, data + i, dlen, bad);
        i += dlen;
        if (!(flags & 0x40u))
            peer_seq += (uint32_t)dlen; /* keep in step with what we sent */
        if (flags & 0x80u)
            run_timers(300u); /* let retransmission and delayed ACKs fire */
    }
    while (nheld > 0u)
        tern_tcp_abort(held[--nheld]);
    conn = NULL;
    /* SYN-RECEIVED leftovers retry and give up; TIME-WAIT (1 s) expires;
     * orphaned FIN-WAIT-2 waits 2 TIME-WAIT + 1 s. */
    run_timers(200000u);
    check_baseline();
    return 0;
}
