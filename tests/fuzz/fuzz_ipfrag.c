/* libFuzzer target for IPv4 reassembly (RFC 791 section 3.2, RFC 815),
 * linked against a variant built with TERN_IP_REASSEMBLY=1 (HEAP and STATIC
 * buffers: fuzz_ipfrag and fuzz_ipfrag_static). One input is
 * one datagram cut into up to 16 fragments, all delivered before the timers
 * run, so that fragments meet in the reassembly buffer: in order, out of
 * order, overlapping, duplicated, with holes, with MF and offsets that lie.
 *
 * Input: byte 0 flags (bits 0-1: protocol ICMP/UDP/TCP/255; bit 2: make the
 * transport checksum right over the whole datagram, so a completed datagram
 * reaches the layer above; bit 3: to the broadcast address), bytes 1-2 the
 * IP identification, byte 3 the fragment count - 1 (low 4 bits), then 3
 * bytes per fragment (offset in 8-byte units; length in bytes; bit 0 force
 * MF, bit 1 clear MF, bit 2 DF, bit 3 send twice), then the datagram's
 * payload. After every input the timers run out and the stack must be back
 * at its baseline (buffers, heap, ledger), as in fuzz_net.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "fuzz_common.h"

#if !TERN_IP_REASSEMBLY
#error "fuzz_ipfrag needs the variant with TERN_IP_REASSEMBLY=1"
#endif

#define FUZZ_SEED 0x13198A2E03707344ull
#define FRAG_MAX 16u
#define DGRAM_MAX (255u * 8u + 255u)

static void fuzz_stack_start(void)
{
    fuzz_stack_bringup(FUZZ_SEED, TERN_IP4(192, 0, 2, 2), TERN_IP4(192, 0, 2, 1));
    baseline_used = heap_used();
}

static const uint8_t protos[4] = {1, 17, 6, 255};

/* Make the transport checksum of the whole datagram right (TCP and UDP
 * with the pseudo header, RFC 793 / RFC 768; ICMP over its message). */
static void fix_checksum(uint8_t proto, uint8_t *d, size_t n, tern_ip4_t src, tern_ip4_t dst)
{
    uint8_t pseudo[12];
    put32(pseudo, src);
    put32(pseudo + 4, dst);
    pseudo[8] = 0;
    pseudo[9] = proto;
    put16(pseudo + 10, (unsigned)n);
    if (proto == 1 && n >= 4) {
        d[2] = d[3] = 0;
        put16(d + 2, csum(d, n));
    } else if (proto == 17 && n >= 8) {
        put16(d + 4, (unsigned)n);
        d[6] = d[7] = 0;
        unsigned c = csum_fold(csum_add(csum_add(0, pseudo, 12), d, n));
        put16(d + 6, c ? c : 0xFFFFu);
    } else if (proto == 6 && n >= 20) {
        d[16] = d[17] = 0;
        put16(d + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), d, n)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[TERN_NETBUF_FRAME_SIZE];
    static uint8_t dgram[DGRAM_MAX];
    fuzz_restart_every(4096u, fuzz_stack_start);
    if (size < 4)
        return 0;
    uint8_t flags = data[0];
    unsigned id = (unsigned)(data[1] << 8 | data[2]);
    unsigned nfrag = (data[3] & 0x0Fu) + 1u;
    data += 4;
    size -= 4;
    if (size < nfrag * 3u)
        nfrag = (unsigned)(size / 3u);
    const uint8_t *plan = data;
    data += nfrag * 3u;
    size -= nfrag * 3u;
    size_t dlen = size < sizeof dgram ? size : sizeof dgram;
    memcpy(dgram, data, dlen);
    uint8_t proto = protos[flags & 3u];
    tern_ip4_t src = TERN_IP4(192, 0, 2, 1);
    tern_ip4_t dst = (flags & 8u) ? 0xFFFFFFFFu : TERN_IP4(192, 0, 2, 2);
    if (flags & 4u)
        fix_checksum(proto, dgram, dlen, src, dst);

    for (unsigned i = 0; i < nfrag; i++) {
        size_t off = (size_t)plan[3 * i] * 8u;
        size_t len = plan[3 * i + 1];
        uint8_t ctl = plan[3 * i + 2];
        if (off > dlen)
            off = dlen;
        if (len > dlen - off)
            len = dlen - off;
        if (34u + len > sizeof frame)
            len = sizeof frame - 34u;
        unsigned mf = off + len < dlen;
        if (ctl & 1u)
            mf = 1;
        if (ctl & 2u)
            mf = 0;
        fuzz_eth_header(frame, (flags & 8u) ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" : our_mac, 0x0800);
        uint8_t *ip = frame + 14;
        fuzz_ipv4_header(ip, src, dst, proto, len);
        put16(ip + 4, id);
        put16(ip + 6, (unsigned)((ctl & 4u) ? 0x4000u : 0u) | (mf ? 0x2000u : 0u) | (unsigned)(off / 8u));
        ip[10] = ip[11] = 0;
        put16(ip + 10, csum(ip, 20));
        memcpy(ip + 20, dgram + off, len);
        for (unsigned k = 0; k < ((ctl & 8u) ? 2u : 1u); k++) {
            now += 1u;
            tern_input_copy(&stack, &nif, frame, 34u + len, now);
        }
    }
    fuzz_settle_and_check();
    return 0;
}
