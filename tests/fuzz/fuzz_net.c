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
#include "fuzz_common.h"

#define FUZZ_SEED 0x243F6A8885A308D3ull

#define FUZZ_FRAME 1
#define FUZZ_ARP 2
#define FUZZ_IPV4 3
#define FUZZ_ICMP 4

#ifndef FUZZ_LAYER
#error "define FUZZ_LAYER"
#endif

static void fuzz_stack_start(void)
{
    fuzz_stack_bringup(FUZZ_SEED, TERN_IP4(192, 0, 2, 2), TERN_IP4(192, 0, 2, 1));
    baseline_used = heap_used();
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
    fuzz_ipv4_header(ip, TERN_IP4(192, 0, 2, 1), (flags & 0x80u) ? 0xFFFFFFFFu : TERN_IP4(192, 0, 2, 2), 1, n);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[TERN_NETBUF_FRAME_SIZE];
    fuzz_restart_every(4096u, fuzz_stack_start);
    size_t len = fuzz_build(data, size, frame, sizeof frame);
    now += 1u;
    tern_input_copy(&stack, &nif, frame, len, now);
    fuzz_settle_and_check();
    return 0;
}
