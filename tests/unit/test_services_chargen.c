/* chargen's fill (apps/services): the bytes written span by span, from the
 * precomputed cycle, are the RFC 864 stream (tern_chargen_byte, the
 * character-by-character definition) wherever the spans start and end:
 * inside a line, on CR LF, across the end of the 7030-byte cycle, and over
 * several whole cycles at once. TERN_TEST_ONE_VARIANT */
#include <stdlib.h>
#include <string.h>
#include "tern/services.h"
#include "tern_test.h"
#include "../../apps/services/services.c"

#define TOTAL (3u * TERN_CHARGEN_CYCLE + 1234u)

static uint8_t got[TOTAL];

/* Fill got[] in spans of the given lengths (cycled), starting at start. */
static void fill_spans(uint16_t start, const size_t *lens, size_t nlens)
{
    uint16_t pos = start;
    size_t done = 0, i = 0;
    memset(got, 0, sizeof got);
    while (done < TOTAL) {
        size_t k = lens[i++ % nlens];
        if (k > TOTAL - done)
            k = TOTAL - done;
        svc_chargen_fill(got + done, k, &pos);
        done += k;
    }
    assert_int_equal(pos, (start + TOTAL) % TERN_CHARGEN_CYCLE);
}

static void check_stream(uint16_t start)
{
    for (size_t i = 0; i < TOTAL; i++)
        if (got[i] != tern_chargen_byte((uint32_t)((start + i) % TERN_CHARGEN_CYCLE)))
            fail_msg("byte %zu (stream position %zu): %u", i, start + i, got[i]);
}

static void test_chargen_reference_is_rfc864(void **state)
{
    (void)state;
    /* RFC 864's sample: the first line, then the second starts with '!'. */
    const char *l0 = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh";
    assert_int_equal(tern_chargen_byte(0), ' ');
    for (uint32_t i = 0; i < 71u; i++)
        assert_int_equal(tern_chargen_byte(1u + i), (uint8_t)l0[i]);
    assert_int_equal(tern_chargen_byte(72), '\r');
    assert_int_equal(tern_chargen_byte(73), '\n');
    assert_int_equal(tern_chargen_byte(74), '!');
    /* the cycle: line 94 starts with '~', line 95 is line 0 again */
    assert_int_equal(tern_chargen_byte(94u * 74u), '~');
    assert_int_equal(tern_chargen_byte(94u * 74u + 1u), ' ');
    assert_int_equal(TERN_CHARGEN_CYCLE, 95u * 74u);
}

static void test_chargen_fill_spans(void **state)
{
    (void)state;
    static const size_t odd[] = {1, 2, 3, 71, 72, 73, 74, 75, 1460, 7029, 7030, 7031, 999};
    static const size_t whole[] = {TOTAL};
    static const size_t mss[] = {1460};
    static const uint16_t starts[] = {0, 1, 71, 72, 73, 74, 7000, 7029};
    for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
        fill_spans(starts[s], odd, sizeof odd / sizeof odd[0]);
        check_stream(starts[s]);
        fill_spans(starts[s], whole, 1);
        check_stream(starts[s]);
        fill_spans(starts[s], mss, 1);
        check_stream(starts[s]);
    }
    /* every span length 0..200 from every start in the last lines */
    for (uint16_t st = TERN_CHARGEN_CYCLE - 150u; st < TERN_CHARGEN_CYCLE; st++) {
        for (size_t len = 0; len <= 200u; len++) {
            uint8_t buf[256];
            uint16_t pos = st;
            memset(buf, 0xEE, sizeof buf);
            svc_chargen_fill(buf, len, &pos);
            for (size_t i = 0; i < len; i++)
                assert_int_equal(buf[i], tern_chargen_byte((uint32_t)((st + i) % TERN_CHARGEN_CYCLE)));
            assert_int_equal(buf[len], 0xEE);
            assert_int_equal(pos, (st + len) % TERN_CHARGEN_CYCLE);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chargen_reference_is_rfc864),
        cmocka_unit_test(test_chargen_fill_spans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
