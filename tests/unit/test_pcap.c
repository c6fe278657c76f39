/* The pcap writer: the file format byte for byte, and capture of both
 * directions through an interface's capture hook. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tern/stack.h"
#include "tern_pcap.h"
#include "tern_test.h"
#include "wire2.h"

static const uint8_t global_header[24] = {
    0xd4, 0xc3, 0xb2, 0xa1, /* magic 0xa1b2c3d4, little-endian: microseconds */
    0x02, 0x00, 0x04, 0x00, /* version 2.4 */
    0x00, 0x00, 0x00, 0x00, /* thiszone */
    0x00, 0x00, 0x00, 0x00, /* sigfigs */
    0xff, 0xff, 0x00, 0x00, /* snaplen 65535 */
    0x01, 0x00, 0x00, 0x00, /* LINKTYPE_ETHERNET */
};

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 3u + seed);
}

/* Read a whole file. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void test_format_byte_for_byte(void **state)
{
    (void)state;
    char path[] = "/tmp/tern-test-pcap-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);

    tern_pcap_t pc;
    assert_int_equal(tern_pcap_open(&pc, path), 0);
    uint8_t f1[60], f2[1514], f3[200];
    fill(f1, sizeof f1, 1);
    fill(f2, sizeof f2, 2);
    fill(f3, sizeof f3, 3);
    tern_pcap_write(&pc, f1, sizeof f1, 1234);            /* 1.234 s */
    tern_pcap_write(&pc, f2, sizeof f2, 4000000001u);     /* 4000000.001 s */
    pc.epoch_ms = 1700000000123ull;                      /* a wall-clock epoch */
    pc.snaplen = 100;                                    /* cut long frames */
    tern_pcap_write(&pc, f3, sizeof f3, 877);
    tern_pcap_write(&pc, f1, 0, 0);                      /* an empty record */
    assert_int_equal(pc.frames, 4);
    assert_int_equal(pc.errors, 0);
    assert_int_equal(tern_pcap_close(&pc), 0);

    size_t len;
    uint8_t *got = slurp(path, &len);
    unlink(path);

    uint8_t want[24 + 16 + 60 + 16 + 1514 + 16 + 100 + 16];
    size_t n = 0;
    memcpy(want + n, global_header, 24);
    n += 24;
    static const uint8_t r1[16] = {0x01, 0, 0, 0, 0x10, 0x92, 0x03, 0x00, 60, 0, 0, 0, 60, 0, 0, 0};
    memcpy(want + n, r1, 16);
    n += 16;
    memcpy(want + n, f1, 60);
    n += 60;
    /* 1234 ms = 1 s, 234000 us (0x00039210) above; 4000000 = 0x003d0900 s, 1000 us = 0x3e8 */
    static const uint8_t r2[16] = {0x00, 0x09, 0x3d, 0x00, 0xe8, 0x03, 0, 0, 0xea, 0x05, 0, 0, 0xea, 0x05, 0, 0};
    memcpy(want + n, r2, 16);
    n += 16;
    memcpy(want + n, f2, 1514);
    n += 1514;
    /* 1700000000123 + 877 ms = 1700000001 s (0x6553f101), 0 us; incl 100, orig 200 */
    static const uint8_t r3[16] = {0x01, 0xf1, 0x53, 0x65, 0, 0, 0, 0, 100, 0, 0, 0, 200, 0, 0, 0};
    memcpy(want + n, r3, 16);
    n += 16;
    memcpy(want + n, f3, 100);
    n += 100;
    /* 1700000000123 ms = 1700000000 s (0x6553f100), 123000 us (0x0001e078) */
    static const uint8_t r4[16] = {0x00, 0xf1, 0x53, 0x65, 0x78, 0xe0, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(want + n, r4, 16);
    n += 16;
    assert_int_equal(n, sizeof want);
    assert_int_equal(len, sizeof want);
    assert_memory_equal(got, want, sizeof want);
    free(got);
}

static void test_open_failure_and_stream(void **state)
{
    (void)state;
    tern_pcap_t pc;
    assert_int_equal(tern_pcap_open(&pc, "/nonexistent-dir-tern/x.pcap"), -1);
    tern_pcap_write(&pc, global_header, 10, 0); /* no file: ignored, no crash */
    assert_int_equal(pc.frames, 0);

    /* Any stream works; a memory stream shows the header is written at once. */
    char *mem = NULL;
    size_t memlen = 0;
    FILE *f = open_memstream(&mem, &memlen);
    assert_non_null(f);
    assert_int_equal(tern_pcap_open_stream(&pc, f), 0);
    tern_pcap_flush(&pc);
    assert_int_equal(memlen, 24);
    assert_memory_equal(mem, global_header, 24);
    assert_int_equal(tern_pcap_close(&pc), 0);
    free(mem);
}

/* ---- capture through the stack ---------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void on_reply(void *ctx, tern_ip4_t from, uint16_t id, uint16_t seq, const uint8_t *data, size_t len,
                     uint32_t now)
{
    (void)from;
    (void)id;
    (void)seq;
    (void)data;
    (void)len;
    (void)now;
    (*(unsigned *)ctx)++;
}

static void test_capture_both_directions(void **state)
{
    (void)state;
    tern_test_port_t pa, pb;
    tern_test_port_init(&pa, 1);
    tern_test_port_init(&pb, 2);
    wire2_t *n = calloc(1, sizeof *n);
    assert_non_null(n);
    tern_vwire_params_t p = {.delay_ms = 3};
    wire2_plug(n, 1, &p, &pa.port, &pb.port);
    tern_vwire_t *w = &n->wire;
    tern_stack_t *a = n->a;
    /* The clock at 5 s: the records must carry the stack's time (checked below). */
    assert_int_equal(tern_vwire_set_time(w, 5000), TERN_OK);
    tern_poll(a, 5000);
    tern_poll(n->b, 5000);

    char *mem = NULL;
    size_t memlen = 0;
    FILE *f = open_memstream(&mem, &memlen);
    tern_pcap_t pc;
    assert_int_equal(tern_pcap_open_stream(&pc, f), 0);
    tern_pcap_attach(&pc, &n->nif_a);

    tern_netif_set_addr(&n->nif_a, W2_IP_A, W2_MASK, 0);
    tern_netif_set_addr(&n->nif_b, W2_IP_B, W2_MASK, 0);
    unsigned replies = 0;
    tern_ping_set_handler(a, on_reply, &replies);
    uint8_t data[100];
    fill(data, sizeof data, 9);
    for (uint16_t seq = 0; seq < 3; seq++) {
        assert_int_equal(tern_ping_send(a, W2_IP_B, 7, seq, data, sizeof data), TERN_OK);
        tern_vwire_run(w, tern_vwire_now(w) + 100u);
    }
    assert_int_equal(replies, 3);
    tern_pcap_detach(&pc, &n->nif_a);
    assert_null(n->nif_a.capture);
    tern_pcap_flush(&pc);

    /* Walk the records: what A sent and what it received, in time order. */
    assert_true(memlen > 24);
    assert_memory_equal(mem, global_header, 24);
    const tern_counters_t *c = tern_stack_counters(a);
    size_t off = 24;
    unsigned frames = 0, out_frames = 0, in_frames = 0, requests = 0, answers = 0, arp = 0;
    uint64_t last_us = 0;
    while (off < memlen) {
        assert_true(off + 16 <= memlen);
        const uint8_t *h = (const uint8_t *)mem + off;
        uint32_t incl = rd32(h + 8), orig = rd32(h + 12);
        uint64_t t_us = (uint64_t)rd32(h) * 1000000u + rd32(h + 4);
        assert_int_equal(incl, orig);
        assert_true(rd32(h + 4) < 1000000u);
        assert_true(t_us >= last_us); /* in order */
        assert_true(t_us >= 5000000u); /* stamped with the stack's time */
        last_us = t_us;
        assert_true(off + 16 + incl <= memlen);
        const uint8_t *fr = h + 16;
        assert_true(incl >= 14);
        if (memcmp(fr + 6, W2_MAC_A, 6) == 0)
            out_frames++;
        else if (memcmp(fr + 6, W2_MAC_B, 6) == 0)
            in_frames++;
        if (fr[12] == 0x08 && fr[13] == 0x06)
            arp++;
        if (fr[12] == 0x08 && fr[13] == 0x00 && incl >= 34 + 8 && fr[23] == 1) {
            if (fr[34] == 8 && memcmp(fr + 6, W2_MAC_A, 6) == 0) {
                requests++;
                assert_int_equal(incl, 14 + 20 + 8 + sizeof data);
                assert_memory_equal(fr + 42, data, sizeof data);
            }
            if (fr[34] == 0 && memcmp(fr + 6, W2_MAC_B, 6) == 0) {
                answers++;
                assert_memory_equal(fr + 42, data, sizeof data);
            }
        }
        off += 16 + incl;
        frames++;
    }
    assert_int_equal(off, memlen);
    assert_int_equal(requests, 3);
    assert_int_equal(answers, 3);
    assert_true(arp >= 2); /* A's request and B's reply at least */
    /* Every frame A sent or received is there, and nothing else. */
    assert_int_equal(out_frames, c->eth_tx);
    assert_int_equal(in_frames, c->eth_rx);
    assert_int_equal(frames, c->eth_tx + c->eth_rx);
    assert_int_equal(pc.frames, frames);

    assert_int_equal(tern_pcap_close(&pc), 0);
    free(mem);
    wire2_deinit(n);
    free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_byte_for_byte),
        cmocka_unit_test(test_open_failure_and_stream),
        cmocka_unit_test(test_capture_both_directions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
