/* What every stack-level fuzz target shares: a deterministic port (xorshift
 * random source with a per-target seed, assertions abort so libFuzzer sees
 * them), a netif whose output drops frames, one stack brought up on it, and
 * the frame-building helpers. Each target is one translation unit, so the
 * state here is that target's own. */
#ifndef TERN_FUZZ_COMMON_H
#define TERN_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"

#define FUZZ_UNUSED __attribute__((unused))

static tern_stack_t stack;
static tern_netif_t nif;
static uint64_t fuzz_rng;
static uint32_t now;
static size_t baseline_used;
static unsigned inputs;

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t peer_mac[6] FUZZ_UNUSED = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static uint32_t fuzz_random32(void *ctx)
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
    if (tern_netif_add(&stack, &nif) != TERN_OK)
        abort();
    tern_netif_set_link(&nif, 1);
    if (addr != 0)
        tern_netif_set_addr(&nif, addr, TERN_IP4(255, 255, 255, 0), gw);
    now += addr != 0 ? 10000u : 1000u;
    tern_poll(&stack, now);
}

static FUZZ_UNUSED void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static FUZZ_UNUSED void put32(uint8_t *p, uint32_t v)
{
    put16(p, (unsigned)(v >> 16));
    put16(p + 2, (unsigned)(v & 0xFFFFu));
}

/* RFC 1071 checksum of a header built by the target (not the stack's code,
 * so a bug there cannot hide itself). */
static FUZZ_UNUSED unsigned csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1u)
        sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return ~sum & 0xFFFFu;
}

#endif
