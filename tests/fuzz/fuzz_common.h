/* What every fuzz target shares: the libFuzzer entry points and, for the
 * stack-level targets, a deterministic port (xorshift random source with a
 * per-target seed, assertions abort so libFuzzer sees them), a netif whose
 * output drops frames (a target may watch it through fuzz_tx_hook), one
 * stack brought up on it, and the frame-building helpers. Each target is
 * one translation unit, so the state here is that target's own. A target
 * with no stack (a parser alone) defines FUZZ_NO_STACK first. */
#ifndef TERN_FUZZ_COMMON_H
#define TERN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_UNUSED __attribute__((unused))
/* The target's own frame building (byte order, checksums, headers): no
 * coverage instrumentation, so its loops and compares neither feed
 * libFuzzer's feature maps (they say nothing about the code under test)
 * nor cost a trace-cmp call per byte (4% of fuzz_tcp's time). */
#define FUZZ_HELPER __attribute__((unused, no_sanitize("coverage")))

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_NO_STACK
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#if TERN_IPV6
#include "net/ipv6_internal.h"
#endif

static tern_stack_t stack;
static tern_netif_t nif;
static uint64_t fuzz_rng;
static uint32_t now;
static size_t baseline_used;
static unsigned inputs;

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t peer_mac[6] FUZZ_UNUSED = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static FUZZ_HELPER uint32_t fuzz_random32(void *ctx)
{
    (void)ctx;
    fuzz_rng ^= fuzz_rng >> 12;
    fuzz_rng ^= fuzz_rng << 25;
    fuzz_rng ^= fuzz_rng >> 27;
    return (uint32_t)((fuzz_rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static void fuzz_die(void *ctx, const char *what)
{
    (void)ctx;
    fprintf(stderr, "tern assert: %s\n", what);
    abort();
}

static const tern_port_t fuzz_port = {.random32 = fuzz_random32, .assert_failed = fuzz_die};

/* Sees every frame the stack sends, if set. */
static void (*fuzz_tx_hook)(const uint8_t *frame, size_t len);

static int fuzz_output(tern_netif_t *n, tern_netbuf_t *nb)
{
    if (fuzz_tx_hook != NULL)
        fuzz_tx_hook(nb->data, nb->len);
    if (nb->flags & TERN_NETBUF_F_RELEASE_AFTER_SEND)
        tern_netif_tx_done(n, nb);
    return TERN_OK;
}

static const tern_netif_ops_t fuzz_ops = {NULL, fuzz_output, NULL};

static size_t heap_used(void)
{
    tern_heap_stats_t s;
    tern_heap_get_stats(&stack.heap, &s);
    return s.used;
}

/* A fresh stack with the netif up; addr 0 leaves it unconfigured (DHCP).
 * Time moves 10 s so the gratuitous ARP goes and settles. */
static void fuzz_stack_bringup(uint64_t seed, tern_ip4_t addr, tern_ip4_t gw)
{
    fuzz_rng = seed;
    if (tern_stack_init(&stack, &fuzz_port) != TERN_OK)
        abort();
    memset(&nif, 0, sizeof nif);
    nif.ops = &fuzz_ops;
    memcpy(nif.mac, our_mac, 6);
    nif.mtu = 1500;
    nif.caps = TERN_NETIF_CAPS_DEFAULT;
    if (tern_netif_add(&stack, &nif) != TERN_OK)
        abort();
    tern_netif_set_link(&nif, 1);
    if (addr != 0)
        tern_netif_set_addr(&nif, addr, TERN_IP4(255, 255, 255, 0), gw);
    now += addr != 0 ? 10000u : 1000u;
    tern_poll(&stack, now);
}

/* (Re)build the stack with start() at the first input and every `every`
 * inputs after it, so that a long run does not hang on one stack's history. */
static FUZZ_UNUSED void fuzz_restart_every(unsigned every, void (*start)(void))
{
    if (inputs++ % every == 0u) {
        if (inputs > 1u)
            tern_stack_deinit(&stack);
        start();
    }
}

/* tern_poll at `now`, returning the exact ms to the next deadline
 * (UINT32_MAX: none). tern_poll caps its answer at 1 s, a main loop's
 * heartbeat; ticking a fuzz input through minutes of timers a second at a
 * time was most of the cost of fuzz_dhcp and fuzz_tcp. When the cap hides
 * the answer, each part is asked again in tern_poll's order (keep the two
 * lists alike): at the same time nothing is left due, so the second calls
 * only report their deadlines. */
static FUZZ_UNUSED uint32_t fuzz_poll(void)
{
    uint32_t next = tern_poll(&stack, now);
    if (next < 1000u)
        return next;
    uint32_t t;
    next = ipv4_poll(&stack, now);
    if ((t = arp_poll(&stack, now)) < next)
        next = t;
#if TERN_IPV6
    if ((t = ipv6_poll(&stack, now)) < next)
        next = t;
#endif
    if ((t = tcp_poll(&stack, now)) < next)
        next = t;
    for (tern_service_t *svc = stack.services; svc != NULL;) {
        tern_service_t *following = svc->next;
        if ((t = svc->poll(&stack, svc->ctx, now)) < next)
            next = t;
        svc = following;
    }
    return next;
}

/* Let ms pass, polling at every deadline on the way (not every second)
 * and once at the end. */
static FUZZ_UNUSED void fuzz_run_for(uint32_t ms)
{
    uint32_t end = now + ms;
    for (;;) {
        uint32_t next = fuzz_poll();
        uint32_t left = end - now;
        if (left == 0u)
            return;
        if (next == 0u)
            next = 1u;
        now += next < left ? next : left;
    }
}

/* Full books check (a walk of every heap block) on every FUZZ_VERIFY_EVERY-th
 * input and on an input run alone (a reproducer: the first input always
 * gets it); the cheap checks run after every input. A corruption the walk
 * finds may come from any of the inputs since the last walk: rerun the
 * crash directory's recent inputs with FUZZ_VERIFY_EVERY=1. */
#ifndef FUZZ_VERIFY_EVERY_DEFAULT
#define FUZZ_VERIFY_EVERY_DEFAULT 16u
#endif
static unsigned fuzz_verify_every;

static FUZZ_UNUSED int fuzz_full_check_due(void)
{
    if (fuzz_verify_every == 0u) {
        const char *e = getenv("FUZZ_VERIFY_EVERY");
        fuzz_verify_every = e != NULL && atoi(e) > 0 ? (unsigned)atoi(e) : FUZZ_VERIFY_EVERY_DEFAULT;
    }
    return inputs % fuzz_verify_every == 1u % fuzz_verify_every;
}

/* The ledger's own totals against the heap: O(categories), every input. */
static FUZZ_UNUSED int fuzz_books_balance(void)
{
    size_t sum = stack.ledger.overhead;
    for (unsigned i = 0; i < TERN_MEM_CATEGORY_COUNT; i++)
        sum += stack.ledger.cat[i].bytes;
    return sum == heap_used();
}

/* After an input: let 160 s of timers run (ARP retries, queued packets,
 * reassembly expiry), then require every network buffer back and the books
 * at their baseline; anything else stops the fuzzer. */
static FUZZ_UNUSED void fuzz_settle_and_check(void)
{
    fuzz_run_for(160000u);
    if (tern_netbuf_free_count(&stack.netbufs) != TERN_NETBUF_COUNT) {
        fprintf(stderr, "network buffers not back at baseline: %u free of %u\n",
                (unsigned)tern_netbuf_free_count(&stack.netbufs), (unsigned)TERN_NETBUF_COUNT);
        abort();
    }
    if (heap_used() != baseline_used || !fuzz_books_balance() ||
        (fuzz_full_check_due() && tern_ledger_verify(&stack.ledger) != TERN_OK)) {
        fprintf(stderr, "ledger not back at baseline: used %zu, baseline %zu\n", heap_used(), baseline_used);
        abort();
    }
}

static FUZZ_HELPER void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static FUZZ_HELPER void put32(uint8_t *p, uint32_t v)
{
    put16(p, (unsigned)(v >> 16));
    put16(p + 2, (unsigned)(v & 0xFFFFu));
}

/* RFC 1071 sums over headers built by the target (not the stack's code, so
 * a bug there cannot hide itself): csum_add accumulates 16-bit words (a
 * pseudo header, then the segment), csum_fold finishes. */
static FUZZ_HELPER uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1u)
        sum += (uint32_t)(p[len - 1] << 8);
    return sum;
}

static FUZZ_HELPER unsigned csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return ~sum & 0xFFFFu;
}

static FUZZ_HELPER unsigned csum(const uint8_t *p, size_t len)
{
    return csum_fold(csum_add(0, p, len));
}

/* Ethernet header from the peer: dst, peer_mac, type. */
static FUZZ_HELPER void fuzz_eth_header(uint8_t *f, const uint8_t dst[6], unsigned type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, peer_mac, 6);
    put16(f + 12, type);
}

/* A 20-byte IPv4 header (TTL 64, no options) with its checksum. */
static FUZZ_HELPER void fuzz_ipv4_header(uint8_t *ip, tern_ip4_t src, tern_ip4_t dst, uint8_t proto, size_t payload)
{
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (unsigned)(20 + payload));
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum(ip, 20));
}

#endif /* FUZZ_NO_STACK */

#endif
