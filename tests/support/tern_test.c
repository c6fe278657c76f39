#include "tern_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tern/err.h"

static uint32_t test_random32(void *ctx)
{
    return tern_test_rand((tern_test_port_t *)ctx);
}

static uint32_t test_now_ms(void *ctx)
{
    return ((tern_test_port_t *)ctx)->now;
}

static void test_log(void *ctx, int level, const char *msg)
{
    tern_test_port_t *tp = ctx;
    tp->logs++;
    if (!tp->quiet)
        fprintf(stderr, "[tern %d] %s\n", level, msg);
}

/* Unexpected internal assertions in this process, over every port (some
 * tests run stacks on several threads). Checked at exit. */
static unsigned long unexpected_asserts;

static void test_check_asserts_at_exit(void)
{
    unsigned long n = __atomic_load_n(&unexpected_asserts, __ATOMIC_SEQ_CST);
    if (n == 0)
        return;
    fprintf(stderr, "FAILED: %lu internal assertion(s) that no test expected (see \"[tern assert] "
                    "UNEXPECTED\" above); a test that provokes one on purpose says so with "
                    "tern_test_expect_asserts()\n", n);
    fflush(NULL);
    _exit(1);
}

static void test_assert_failed(void *ctx, const char *what)
{
    tern_test_port_t *tp = ctx;
    tp->asserts++;
    if (tp->asserts > tp->asserts_expected) {
        __atomic_add_fetch(&unexpected_asserts, 1ul, __ATOMIC_SEQ_CST);
        fprintf(stderr, "[tern assert] UNEXPECTED: %s\n", what);
    } else if (!tp->quiet) {
        fprintf(stderr, "[tern assert] (expected) %s\n", what);
    }
}

void tern_test_expect_asserts(tern_test_port_t *tp, unsigned n)
{
    tp->asserts_expected = tp->asserts + n;
}

void tern_test_port_init(tern_test_port_t *tp, uint64_t seed)
{
    static int registered;
    if (!__atomic_exchange_n(&registered, 1, __ATOMIC_SEQ_CST))
        atexit(test_check_asserts_at_exit);
    memset(tp, 0, sizeof *tp);
    tp->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
    tp->port.ctx = tp;
    tp->port.random32 = test_random32;
    tp->port.now_ms = test_now_ms;
    tp->port.log = test_log;
    tp->port.assert_failed = test_assert_failed;
}

uint32_t tern_test_rand(tern_test_port_t *tp)
{
    /* xorshift64* */
    uint64_t x = tp->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    tp->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

void tern_test_sink_write(void *ctx, const char *text, unsigned len)
{
    tern_test_sink_t *sink = ctx;
    size_t room = sizeof sink->text - 1 - sink->len;
    if (len > room)
        len = (unsigned)room;
    memcpy(sink->text + sink->len, text, len);
    sink->len += len;
    sink->text[sink->len] = '\0';
}

void tern_test_sink_reset(tern_test_sink_t *sink)
{
    sink->len = 0;
    sink->text[0] = '\0';
}

uint64_t tern_test_seed(uint64_t def)
{
    const char *env = getenv("TERN_TEST_SEED");
    uint64_t seed = def;
    if (env && *env)
        seed = strtoull(env, NULL, 0);
    fprintf(stderr, "seed: TERN_TEST_SEED=%llu\n", (unsigned long long)seed);
    return seed;
}
