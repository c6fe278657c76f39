/* libFuzzer targets for the input path. One source, one target per layer
 * (FUZZ_LAYER): the fuzzer's bytes become the layer's bytes, with valid
 * headers below it (and, when the first byte asks, a valid checksum) so
 * mutations reach deep into that layer's parser instead of dying early.
 *
 * After every input the stack's timers are run to completion and the stack
 * must be back at its baseline: every network buffer free, the heap's used
 * bytes as before, and tern_ledger_verify() clean. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"

#define FUZZ_FRAME 1
#define FUZZ_ARP 2
#define FUZZ_IPV4 3
#define FUZZ_ICMP 4

#ifndef FUZZ_LAYER
#error "define FUZZ_LAYER"
#endif

static tern_stack_t stack;
static tern_netif_t nif;
static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t now;
static size_t baseline_used;
static unsigned inputs;

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t peer_mac[6] __attribute__((unused)) = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static uint32_t fuzz_random32(void *ctx)
{
    (void)ctx;
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static void fuzz_die(void *ctx, const char *what)
{
    (void)ctx;
    fprintf(stderr, "tern assert: %s\n", what);
    abort();
}

static const tern_port_t port = {.random32 = fuzz_random32, .assert_failed = fuzz_die};

static int fuzz_output(tern_netif_t *n, tern_netbuf_t *nb)
{
#if TERN_ZERO_COPY_TX
    tern_netif_tx_done(n, nb);
#else
    (void)n;
    (void)nb;
#endif
    return TERN_OK;
}

static const tern_netif_ops_t fuzz_ops = {NULL, fuzz_output, NULL};

static size_t heap_used(void)
{
    tern_heap_stats_t s;
    tern_heap_get_stats(&stack.heap, &s);
    return s.used;
}

static void fuzz_stack_start(void)
{
    if (tern_stack_init(&stack, &port) != TERN_OK)
        abort();
    memset(&nif, 0, sizeof nif);
    nif.ops = &fuzz_ops;
    memcpy(nif.mac, our_mac, 6);
    nif.mtu = 1500;
    if (tern_netif_add(&stack, &nif) != TERN_OK)
        abort();
    tern_netif_set_link(&nif, 1);
    tern_netif_set_addr(&nif, TERN_IP4(192, 0, 2, 2), TERN_IP4(255, 255, 255, 0), TERN_IP4(192, 0, 2, 1));
    /* Let the gratuitous ARP go and settle. */
    now += 10000u;
    tern_poll(&stack, now);
    baseline_used = heap_used();
}

__attribute__((unused)) static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

__attribute__((unused)) static unsigned csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1u)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return ~sum & 0xFFFFu;
}

/* Build the frame for this layer into out; returns its length. */
static size_t fuzz_build(const uint8_t *data, size_t size, uint8_t *out, size_t cap)
{
#if FUZZ_LAYER == FUZZ_FRAME
    size_t n = size < cap ? size : cap;
    memcpy(out, data, n);
    return n;
#else
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    data++;
    size--;
    /* Ethernet: to us (or broadcast when the flag says so) from the peer. */
    memcpy(out, (flags & 0x80u) ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" : our_mac, 6);
    memcpy(out + 6, peer_mac, 6);
#if FUZZ_LAYER == FUZZ_ARP
    put16(out + 12, 0x0806);
    size_t n = size < cap - 14 ? size : cap - 14;
    memcpy(out + 14, data, n);
    return 14 + n;
#else
    put16(out + 12, 0x0800);
#if FUZZ_LAYER == FUZZ_IPV4
    size_t n = size < cap - 14 ? size : cap - 14;
    memcpy(out + 14, data, n);
    /* Fix the header checksum when asked, so the rest gets exercised. */
    if ((flags & 1u) && n >= 20) {
        size_t ihl = (size_t)(out[14] & 0x0Fu) * 4u;
        if (ihl >= 20 && ihl <= n) {
            out[24] = out[25] = 0;
            put16(out + 24, csum(out + 14, ihl));
        }
    }
    return 14 + n;
#else /* ICMP over a valid IPv4 header */
    size_t n = size < cap - 34 ? size : cap - 34;
    uint8_t *ip = out + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (unsigned)(20 + n));
    ip[8] = 64;
    ip[9] = 1;
    ip[12] = 192, ip[13] = 0, ip[14] = 2, ip[15] = 1;
    if (flags & 0x80u)
        ip[16] = 255, ip[17] = 255, ip[18] = 255, ip[19] = 255;
    else
        ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = 2;
    put16(ip + 10, csum(ip, 20));
    memcpy(ip + 20, data, n);
    if ((flags & 1u) && n >= 4) {
        ip[22] = ip[23] = 0;
        put16(ip + 22, csum(ip + 20, n));
    }
    return 34 + n;
#endif
#endif
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[TERN_NETBUF_FRAME_SIZE];
    if (inputs++ % 4096u == 0u) {
        if (inputs > 1u)
            tern_stack_deinit(&stack);
        fuzz_stack_start();
    }
    size_t len = fuzz_build(data, size, frame, sizeof frame);
    now += 1u;
    tern_input_copy(&stack, &nif, frame, len, now);
    /* Run every timer out: ARP retries, queued packets, reassembly. */
    for (int i = 0; i < 8; i++) {
        now += 20000u;
        tern_poll(&stack, now);
    }
    if (tern_netbuf_free_count(&stack.netbufs) != TERN_NETBUF_COUNT) {
        fprintf(stderr, "network buffers not back at baseline: %u free of %u\n",
                (unsigned)tern_netbuf_free_count(&stack.netbufs), (unsigned)TERN_NETBUF_COUNT);
        abort();
    }
    if (tern_ledger_verify(&stack.ledger) != TERN_OK || heap_used() != baseline_used) {
        fprintf(stderr, "ledger not back at baseline: used %zu, baseline %zu\n", heap_used(), baseline_used);
        abort();
    }
    return 0;
}
