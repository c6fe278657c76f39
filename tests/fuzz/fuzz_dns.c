/* libFuzzer target for the DNS client's response parser.
 *
 * Per input one lookup starts (the name chosen by the first byte) and the
 * rest of the input is up to three responses, each delivered as a UDP
 * datagram from the server to the query's port with valid IPv4/UDP framing:
 *
 *   [name] then repeat: [flags] [len_hi] [len_lo] [len bytes of DNS message]
 *   flags  bit 0: overwrite the id with the query's
 *          bit 1: send from port 5353 instead of 53
 *          bit 2: send from another address than the server's
 *          bit 3: let 1.5 s pass first (a retry goes to the next server)
 *          bit 4: structured: the message is the query's own header and
 *                 question (as sent, id and all) with the fuzzer's bytes
 *                 after it: [flags 2] [ANCOUNT 2] [records...], QR set
 *                 and the opcode cleared, so that every mutation lands in
 *                 the answer records instead of failing the RFC 5452
 *                 matches first
 *
 * tests/fuzz/dns.dict helps mutations build names and records. After each
 * input the lookup is cancelled and the cache flushed; the stack must then
 * be back at its baseline: every network buffer free, heap used bytes as
 * before, tern_ledger_verify() clean. A completed lookup must report an
 * address only with TERN_OK. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/dns.h"
#include "tern/stack.h"
#include "fuzz_common.h"

#define FUZZ_SEED 0xA4093822299F31D0ull

static int done, result;
/* The last query sent (fuzz_tx_hook): its question for structured replies. */
static uint8_t query[512];
static size_t query_len;

static void watch_tx(const uint8_t *f, size_t len)
{
    /* IPv4, UDP, to port 53; no IP options in what tern sends. */
    if (len >= 42u + 12u && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17 && f[36] == 0 && f[37] == 53 &&
        len - 42u <= sizeof query) {
        query_len = len - 42u;
        memcpy(query, f + 42, query_len);
    }
}
static tern_ip4_t found;
static uint32_t learned_at;

#define OUR_IP TERN_IP4(192, 0, 2, 2)
#define NS1 TERN_IP4(192, 0, 2, 53)
#define NS2 TERN_IP4(192, 0, 2, 54)

static const char *const names[] = {"host.example", "www.example.com", "a.b.c.d.e.f.example", "x",
                                    "very-long-label-abcdefghijklmnopqrstuvwxyz0123456789-abcdefghij.example" /* 63 */};

/* The servers announce themselves: ARP requests from them to us, so that
 * queries leave at once instead of waiting for resolution. */
static void learn_servers(void)
{
    uint8_t f[42];
    for (int i = 0; i < 2; i++) {
        memset(f, 0xFF, 6);
        memcpy(f + 6, peer_mac, 6);
        put16(f + 12, 0x0806);
        uint8_t *a = f + 14;
        put16(a, 1);
        put16(a + 2, 0x0800);
        a[4] = 6;
        a[5] = 4;
        put16(a + 6, 1);
        memcpy(a + 8, peer_mac, 6);
        put32(a + 14, i == 0 ? NS1 : NS2);
        memset(a + 18, 0, 6);
        put32(a + 24, OUR_IP);
        now += 1u;
        tern_input_copy(&stack, &nif, f, sizeof f, now);
    }
}

static void fuzz_stack_start(void)
{
    fuzz_stack_bringup(FUZZ_SEED, OUR_IP, 0);
    if (tern_dns_start(&stack) != TERN_OK)
        abort();
    tern_ip4_t servers[2] = {NS1, NS2};
    if (tern_dns_set_servers(&stack, servers, 2) != TERN_OK)
        abort();
    learn_servers();
    learned_at = now;
    fuzz_tx_hook = watch_tx;
    tern_poll(&stack, now);
    baseline_used = heap_used();
}

static void on_found(tern_stack_t *s, void *ctx, const char *name, int r, tern_ip4_t addr)
{
    (void)s, (void)ctx, (void)name;
    done++;
    result = r;
    found = addr;
}

static void deliver(const uint8_t *msg, size_t len, uint8_t flags)
{
    static uint8_t frame[TERN_NETBUF_FRAME_SIZE];
    static uint8_t built[TERN_NETBUF_FRAME_SIZE];
    const size_t hdr = 14 + 20 + 8;
    tern_dns_query_info_t qi;
    if (tern_dns_query_info(&stack, 0, &qi) != TERN_OK)
        return; /* completed already */
    if ((flags & 16u) && len >= 4u && query_len >= 12u && query_len + len - 4u <= sizeof built) {
        /* Structured: the query's header and question, then the records. */
        memcpy(built, query, query_len);
        built[2] = (uint8_t)((msg[0] | 0x80u) & ~0x78u); /* QR, opcode 0 */
        built[3] = msg[1];
        built[6] = msg[2];
        built[7] = msg[3];
        memcpy(built + query_len, msg + 4, len - 4u);
        msg = built;
        len = query_len + len - 4u;
    }
    if (len > sizeof frame - hdr)
        len = sizeof frame - hdr;
    uint8_t *f = frame;
    fuzz_eth_header(f, our_mac, 0x0800);
    uint8_t *ip = f + 14;
    fuzz_ipv4_header(ip, (flags & 4u) ? TERN_IP4(192, 0, 2, 99) : qi.server, OUR_IP, 17, 8 + len);
    uint8_t *udp = ip + 20;
    put16(udp, (flags & 2u) ? 5353u : 53u);
    put16(udp + 2, qi.port);
    put16(udp + 4, (unsigned)(8 + len));
    put16(udp + 6, 0); /* no checksum (RFC 768): the payload reaches the parser as is */
    uint8_t *p = udp + 8;
    memcpy(p, msg, len);
    if ((flags & 1u) && len >= 2)
        put16(p, qi.id);
    now += 1u;
    tern_input_copy(&stack, &nif, frame, hdr + len, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (inputs++ % 4096u == 0u) {
        if (inputs > 1u) {
            tern_dns_stop(&stack);
            tern_stack_deinit(&stack);
        }
        fuzz_stack_start();
    }
    if (size < 1)
        return 0;
    /* Keep the ARP entries fresh as time moves on: an input moves time by
     * at most about 9 s, so once a minute of it (a fifth of
     * TERN_ARP_MAX_AGE_MS) is enough, instead of two ARP frames through
     * the stack per input (8% of the time). */
    if (now - learned_at >= 60000u) {
        learn_servers();
        learned_at = now;
    }
    tern_poll(&stack, now);
    size_t used0 = heap_used();
    done = 0;
    query_len = 0;
    tern_ip4_t addr = 0;
    int r = tern_dns_lookup(&stack, names[data[0] % (sizeof names / sizeof names[0])], &addr, on_found, NULL);
    if (r != TERN_ERR_INPROGRESS) {
        fprintf(stderr, "lookup did not start: %d\n", r);
        abort();
    }
    data++;
    size--;
    tern_poll(&stack, now);
    for (int m = 0; m < 3 && size >= 3; m++) {
        uint8_t flags = data[0];
        size_t len = (size_t)data[1] << 8 | data[2];
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        if (flags & 8u) {
            now += 1500u;
            tern_poll(&stack, now);
        }
        deliver(data, len, flags);
        data += len;
        size -= len;
    }
    if (done > 1 || (done && result != TERN_OK && found != 0u))
        abort();
    tern_dns_cancel(&stack, on_found, NULL);
    tern_dns_cache_flush(&stack);
    fuzz_run_for(4000u);
    if (tern_netbuf_free_count(&stack.netbufs) != TERN_NETBUF_COUNT) {
        fprintf(stderr, "network buffers not back: %u of %u free\n", (unsigned)tern_netbuf_free_count(&stack.netbufs),
                (unsigned)TERN_NETBUF_COUNT);
        abort();
    }
    if (heap_used() != used0 || used0 != baseline_used || !fuzz_books_balance() ||
        (fuzz_full_check_due() && tern_ledger_verify(&stack.ledger) != TERN_OK)) {
        fprintf(stderr, "memory not back at baseline: used %zu, before %zu, baseline %zu\n", heap_used(), used0,
                baseline_used);
        abort();
    }
    return 0;
}
