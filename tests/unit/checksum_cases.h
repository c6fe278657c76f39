/* The checksum cases shared by test_checksum.c (the library's checksum.c:
 * on x86-64 its SSE2 loop) and test_checksum_scalar.c (checksum.c compiled
 * in with CHECKSUM_FORCE_SCALAR: the loop the Cortex-M builds use). Each
 * sum is compared with a byte-by-byte reference (RFC 1071 4.1's loop):
 * every source and destination alignment, every length 0..140, and large
 * lengths (past the SSE2 loop's fold block), for checksum_add,
 * checksum_copy (which must also copy exactly len bytes and nothing else)
 * and checksum_combine at even and odd split points. */
#include <stdlib.h>
#include <string.h>
#include "tern_test.h"

/* RFC 1071 4.1, in network order, folded; returns the value checksum_add
 * returns (a 16-bit running sum). */
static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t acc = sum;
    for (size_t i = 0; i + 1 < len; i += 2)
        acc += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1u)
        acc += (uint32_t)p[len - 1] << 8;
    while (acc >> 16)
        acc = (acc & 0xFFFFu) + (acc >> 16);
    return (uint32_t)acc;
}

/* Ones'-complement sums equal: 0 and 0xFFFF are the same number. */
static int same_sum(uint32_t a, uint32_t b)
{
    return a == b || (a == 0xFFFFu && b == 0u) || (a == 0u && b == 0xFFFFu);
}

#define BIG (3u << 20) /* past CHECKSUM_VEC_BLOCKS x 64 bytes */

static uint8_t *src_buf, *dst_buf;

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

static int setup(void **state)
{
    (void)state;
    src_buf = malloc(BIG + 64u);
    dst_buf = malloc(BIG + 64u);
    return src_buf == NULL || dst_buf == NULL;
}

static int teardown(void **state)
{
    (void)state;
    free(src_buf);
    free(dst_buf);
    return 0;
}

static void check_one(size_t soff, size_t doff, size_t len, uint32_t start)
{
    const uint8_t *s = src_buf + soff;
    uint8_t *d = dst_buf + doff;
    uint32_t want = ref_sum(start, s, len);
    uint32_t got = checksum_add(start, s, len);
    if (!same_sum(got, want))
        fail_msg("checksum_add len %zu at +%zu: %04x, want %04x", len, soff, got, want);
    memset(dst_buf, 0xA5, doff + len + 16u);
    got = checksum_copy(start, d, s, len);
    if (!same_sum(got, want))
        fail_msg("checksum_copy len %zu at +%zu -> +%zu: %04x, want %04x", len, soff, doff, got, want);
    if (memcmp(d, s, len) != 0)
        fail_msg("checksum_copy len %zu at +%zu -> +%zu: bytes differ", len, soff, doff);
    for (size_t i = 0; i < doff; i++)
        assert_int_equal(dst_buf[i], 0xA5);
    for (size_t i = 0; i < 16u; i++)
        assert_int_equal(d[len + i], 0xA5);
}

static void test_checksum_every_alignment_and_length(void **state)
{
    (void)state;
    fill(src_buf, 4096, 7u);
    for (size_t len = 0; len <= 140u; len++)
        for (size_t soff = 0; soff < 16u; soff++)
            for (size_t doff = 0; doff < 16u; doff += 3u)
                check_one(soff, doff, len, (uint32_t)(len * 977u) & 0xFFFFu);
    /* segment sizes and the block boundaries of the vector loop */
    static const size_t lens[] = {1448, 1460, 1500, 4095, 4096, 65535};
    fill(src_buf, 70000u, 11u);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        for (size_t soff = 0; soff < 8u; soff++)
            check_one(soff, 7u - soff, lens[i], 0);
    /* all ones: the sums that most often carry */
    memset(src_buf, 0xFF, 70000u);
    for (size_t len = 0; len <= 300u; len++)
        check_one(len & 7u, 3u, len, 0xFFFFu);
    check_one(1, 0, 65535u, 0xFFFFu);
}

static void test_checksum_large(void **state)
{
    (void)state;
    memset(src_buf, 0xFF, BIG + 64u);
    check_one(0, 0, BIG, 0);
    check_one(3, 1, BIG - 5u, 0x1234u);
    fill(src_buf, BIG + 64u, 3u);
    check_one(0, 0, BIG, 0);
    check_one(5, 2, BIG - 7u, 0xFFFFu);
}

static void test_checksum_combine_split(void **state)
{
    (void)state;
    fill(src_buf, 4096, 5u);
    for (size_t len = 0; len <= 100u; len++) {
        for (size_t cut = 0; cut <= len; cut++) {
            uint32_t want = ref_sum(0, src_buf, len);
            /* the way tcp_send_segment sums a payload that wraps the ring */
            uint32_t a = checksum_copy(0, dst_buf, src_buf, cut);
            uint32_t b = checksum_copy(0, dst_buf + cut, src_buf + cut, len - cut);
            uint32_t got = checksum_combine(a, b, cut);
            if (!same_sum(got, want))
                fail_msg("combine len %zu cut %zu: %04x, want %04x", len, cut, got, want);
            got = checksum_combine(checksum_add(0, src_buf, cut), checksum_add(0, src_buf + cut, len - cut), cut);
            if (!same_sum(got, want))
                fail_msg("combine (add) len %zu cut %zu: %04x, want %04x", len, cut, got, want);
        }
    }
}

static void test_checksum_pseudo_header(void **state)
{
    (void)state;
    uint8_t ph[12] = {192, 0, 2, 1, 198, 51, 100, 200, 0, 6, 0x05, 0xDC};
    assert_true(same_sum(checksum_pseudo(TERN_IP4(192, 0, 2, 1), TERN_IP4(198, 51, 100, 200), 6, 1500),
                         ref_sum(0, ph, sizeof ph)));
    uint8_t ph2[12] = {255, 255, 255, 255, 255, 255, 255, 255, 0, 17, 0xFF, 0xFF};
    assert_true(same_sum(checksum_pseudo(0xFFFFFFFFu, 0xFFFFFFFFu, 17, 65535), ref_sum(0, ph2, sizeof ph2)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_every_alignment_and_length),
        cmocka_unit_test(test_checksum_large),
        cmocka_unit_test(test_checksum_combine_split),
        cmocka_unit_test(test_checksum_pseudo_header),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
