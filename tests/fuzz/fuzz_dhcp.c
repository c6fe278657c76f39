/* libFuzzer target for the DHCP client's reply parser and state machine.
 *
 * Per input the client starts on a fresh interface and sends its DISCOVER;
 * the input is then up to four server replies, each delivered as a UDP
 * datagram 67 -> 68 (broadcast) with valid IPv4/UDP framing around it:
 *
 *   repeat: [flags] [advance] [len_hi] [len_lo] [len bytes of DHCP message]
 *   flags   bit 0: overwrite the xid with the client's current one
 *           bit 1: overwrite chaddr with our MAC
 *           bit 2: overwrite the magic cookie with the right one
 *           bit 3: deliver from source port 68 instead of 67
 *   advance time moved forward before the reply: advance^2 * 64 ms (up to
 *           about 69 minutes: ARP probing, T1, T2 and expiry are reachable;
 *           at most 256 s while the client only retransmits, advance_reply)
 *
 * With the patch bits a mutated OFFER followed by a mutated ACK walks the
 * whole state machine. After each input the client is stopped and the stack
 * must be back at its baseline: interface unconfigured, every network buffer
 * free, heap used bytes as before, tern_ledger_verify() clean. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/dhcp.h"
#include "tern/stack.h"
#include "fuzz_common.h"

#define FUZZ_SEED 0x13198A2E03707344ull


static void fuzz_stack_start(void)
{
    fuzz_stack_bringup(FUZZ_SEED, 0, 0);
    baseline_used = heap_used();
}

/* Advance time from deadline to deadline (fuzz_run_for), as a main loop
 * sleeping until tern_poll's next deadline would. */
static void advance(uint32_t ms)
{
    fuzz_run_for(ms);
}

/* A reply's time jump. Waiting for a reply (INIT, SELECTING, REQUESTING)
 * the client only retransmits: DISCOVER's interval reaches its 64 s ceiling
 * after 60 s (RFC 2131 4.1), REQUESTING gives up after
 * TERN_DHCP_REQUEST_TRIES sends (60 s by default) and starts over, so past
 * DHCP_WAIT_CAP_MS more time only repeats the same sends: a 69 minute jump
 * there was about 65 DISCOVERs, most of this target's time per input. From
 * CHECKING on the whole jump is taken (T1, T2 and expiry). */
#define DHCP_WAIT_CAP_MS 256000u

static void advance_reply(uint32_t ms)
{
    int st = tern_dhcp_state(&stack);
    if ((st == TERN_DHCP_INIT || st == TERN_DHCP_SELECTING || st == TERN_DHCP_REQUESTING) && ms > DHCP_WAIT_CAP_MS)
        ms = DHCP_WAIT_CAP_MS;
    advance(ms);
}

static void deliver(const uint8_t *msg, size_t len, uint8_t flags)
{
    static uint8_t frame[TERN_NETBUF_FRAME_SIZE];
    const size_t hdr = 14 + 20 + 8;
    if (len > sizeof frame - hdr)
        len = sizeof frame - hdr;
    uint8_t *f = frame;
    static const uint8_t bcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    fuzz_eth_header(f, bcast, 0x0800);
    uint8_t *ip = f + 14;
    fuzz_ipv4_header(ip, TERN_IP4(192, 0, 2, 1), 0xFFFFFFFFu, 17, 8 + len);
    uint8_t *udp = ip + 20;
    put16(udp, (flags & 8u) ? 68u : 67u);
    put16(udp + 2, 68);
    put16(udp + 4, (unsigned)(8 + len));
    put16(udp + 6, 0); /* no checksum (RFC 768): the payload reaches the parser as is */
    uint8_t *p = udp + 8;
    memcpy(p, msg, len);
    tern_dhcp_info_t in;
    if (tern_dhcp_get_info(&stack, &in) == TERN_OK) {
        if ((flags & 1u) && len >= 8)
            p[4] = (uint8_t)(in.xid >> 24), p[5] = (uint8_t)(in.xid >> 16), p[6] = (uint8_t)(in.xid >> 8),
            p[7] = (uint8_t)in.xid;
        if ((flags & 2u) && len >= 34)
            memcpy(p + 28, our_mac, 6);
        if ((flags & 4u) && len >= 240)
            p[236] = 0x63, p[237] = 0x82, p[238] = 0x53, p[239] = 0x63;
    }
    now += 1u;
    tern_input_copy(&stack, &nif, frame, hdr + len, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_restart_every(4096u, fuzz_stack_start);
    if (tern_dhcp_start(&stack, &nif) != TERN_OK)
        abort();
    advance(2000u); /* armed at the first poll, sent within TERN_DHCP_INIT_DELAY_MS */
    if (tern_dhcp_state(&stack) != TERN_DHCP_SELECTING)
        abort();
    for (int m = 0; m < 4 && size >= 4; m++) {
        uint8_t flags = data[0];
        uint32_t adv = (uint32_t)data[1] * data[1] * 64u;
        size_t len = (size_t)data[2] << 8 | data[3];
        data += 4;
        size -= 4;
        if (len > size)
            len = size;
        advance_reply(adv);
        deliver(data, len, flags);
        data += len;
        size -= len;
    }
    advance(8000u); /* past the ARP probes: an ACK ends BOUND */
    tern_dhcp_stop(&stack);
    advance(20000u); /* ARP gives up on anything queued */
    if (nif.addr != 0u) {
        fprintf(stderr, "interface still configured after stop\n");
        abort();
    }
    if (tern_netbuf_free_count(&stack.netbufs) != TERN_NETBUF_COUNT) {
        fprintf(stderr, "network buffers not back: %u of %u free\n", (unsigned)tern_netbuf_free_count(&stack.netbufs),
                (unsigned)TERN_NETBUF_COUNT);
        abort();
    }
    if (heap_used() != baseline_used || !fuzz_books_balance() ||
        (fuzz_full_check_due() && tern_ledger_verify(&stack.ledger) != TERN_OK)) {
        fprintf(stderr, "memory not back at baseline: used %zu, baseline %zu\n", heap_used(), baseline_used);
        abort();
    }
    return 0;
}
