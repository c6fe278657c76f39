/* Initial sequence numbers are not guessable (RFC 6528; AMNESIA:33 found
 * counters and clocks in uIP, picoTCP, Nut/Net, FNET).
 *
 * RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secret),
 * M a timer ticking every 4 microseconds. Measured black box, on the wire:
 * each ISN is the sequence number of a SYN-ACK answering a crafted SYN
 * (the half-open child is then reset exactly, so nothing accumulates).
 *
 * What must hold, and how it is checked:
 *  - the time part M is the same for every 4-tuple and is the 4 us clock:
 *    for one tuple, successive ISNs differ by exactly 250 per ms elapsed.
 *    So for the SAME tuple, "ISN minus the clock" is constant by design:
 *    it is what keeps a new incarnation's numbers above the old one's
 *    (RFC 9293 3.4.1). Its secrecy comes from F, which an off-path
 *    attacker learns nothing about from ISNs of other tuples.
 *  - F over neighbouring tuples (ports and addresses one apart), each
 *    probed at a different clock value and with the clock taken out, is
 *    uniformly spread: the arithmetic and XOR differences between
 *    neighbours pass a per-bit test and chi-square tests over 256 buckets,
 *    and repeat no more than chance allows.
 *  - another secret gives unrelated ISNs for the same tuples at the same
 *    times; the same secret gives the same ones (the test is deterministic).
 * The thresholds are fixed at a false-failure probability below 1e-7 per
 * run, and the same statistic rejects a counter, a bare clock and three
 * weak hashes (negative controls in this file), so the test can fail. */
#include "tern_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern/err.h"
#include "tern/stack.h"
#include "tern/tcp.h"

#define T_SYN 0x02u
#define T_RST 0x04u
#define T_ACK 0x10u
#define NPORTS 4u         /* listening ports 80..83 */
#define N 4096u           /* samples per statistic */
#define TICKS_PER_MS 250u /* RFC 6528: a 4 microsecond timer */

/* Limits. Per bit, |ones - n/2| / sqrt(n/4) <= 6: P(fail) < 2e-9 per bit,
 * 6.3e-8 over 32 bits. Chi-square with 255 degrees of freedom: the
 * Wilson-Hilferty quantile at z = 6 (about 415; P(fail) about 1e-9).
 * Repeats among N = 4096 32-bit values: expected 0.002, P(> 2) < 2e-9. */
#define Z_MAX 6.0
#define REPEATS_MAX 2u

/* Newton's square root: no libm needed. */
static double root(double x)
{
    double r = x > 1.0 ? x : 1.0;
    for (int i = 0; i < 60; i++)
        r = 0.5 * (r + x / r);
    return r;
}

static double chi2_limit(void)
{
    const double k = 255.0, z = 6.0;
    double a = 2.0 / (9.0 * k);
    double c = 1.0 - a + z * root(a);
    return k * c * c * c;
}

typedef struct spread {
    double max_z;       /* worst bit */
    double chi2_high;   /* top 8 bits, 256 buckets */
    double chi2_low;    /* low 8 bits */
    unsigned repeats;   /* values equal to another */
} spread_t;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static spread_t spread_of(const uint32_t *v, size_t n)
{
    spread_t s = {0};
    unsigned hi[256] = {0}, lo[256] = {0};
    for (unsigned b = 0; b < 32u; b++) {
        size_t ones = 0;
        for (size_t i = 0; i < n; i++)
            ones += (v[i] >> b) & 1u;
        double dev = (double)ones - (double)n / 2.0;
        double z = (dev < 0 ? -dev : dev) / root((double)n / 4.0);
        if (z > s.max_z)
            s.max_z = z;
    }
    for (size_t i = 0; i < n; i++) {
        hi[v[i] >> 24]++;
        lo[v[i] & 0xFFu]++;
    }
    double e = (double)n / 256.0;
    for (unsigned k = 0; k < 256u; k++) {
        s.chi2_high += ((double)hi[k] - e) * ((double)hi[k] - e) / e;
        s.chi2_low += ((double)lo[k] - e) * ((double)lo[k] - e) / e;
    }
    uint32_t *sorted = malloc(n * sizeof *sorted);
    assert_non_null(sorted);
    memcpy(sorted, v, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_u32);
    for (size_t i = 1; i < n; i++)
        s.repeats += sorted[i] == sorted[i - 1];
    free(sorted);
    return s;
}

static int spread_ok(const spread_t *s)
{
    double lim = chi2_limit();
    return s->max_z <= Z_MAX && s->chi2_high <= lim && s->chi2_low <= lim && s->repeats <= REPEATS_MAX;
}

/* Neighbour differences of a sequence of "secret parts" (ISN minus the
 * clock): arithmetic and XOR. Both must look uniform. */
static int neighbours_ok(const char *what, const uint32_t *f, size_t n, int verbose)
{
    uint32_t *d = malloc(n * sizeof *d), *x = malloc(n * sizeof *x);
    assert_true(d != NULL && x != NULL);
    for (size_t i = 0; i + 1 < n; i++) {
        d[i] = f[i + 1] - f[i];
        x[i] = f[i + 1] ^ f[i];
    }
    spread_t sv = spread_of(f, n), sd = spread_of(d, n - 1), sx = spread_of(x, n - 1);
    int ok = spread_ok(&sv) && spread_ok(&sd) && spread_ok(&sx);
    if (verbose)
        printf("isn %-34s values z %.2f chi2 %.0f/%.0f rep %u | diff z %.2f chi2 %.0f/%.0f rep %u | "
               "xor z %.2f chi2 %.0f/%.0f rep %u (limits z %.1f chi2 %.0f rep %u): %s\n",
               what, sv.max_z, sv.chi2_high, sv.chi2_low, sv.repeats, sd.max_z, sd.chi2_high, sd.chi2_low,
               sd.repeats, sx.max_z, sx.chi2_high, sx.chi2_low, sx.repeats, Z_MAX, chi2_limit(), REPEATS_MAX,
               ok ? "uniform" : "NOT uniform");
    free(d);
    free(x);
    return ok;
}

/* ---- probing ISNs on the wire ------------------------------------------ */

typedef struct tuple {
    tern_ip4_t rip;
    uint16_t rport;
    uint16_t lport;
} tuple_t;

static net_fixture_t *isn_stack(uint64_t seed)
{
    net_fixture_t *f = net_fixture_new(seed);
    net_fixture_learn_peer(f);
    static const tern_tcp_callbacks_t none = {0};
    for (unsigned p = 0; p < NPORTS; p++) {
        int err;
        assert_non_null(tern_tcp_listen(&f->stack, (uint16_t)(80u + p), 2, &none, NULL, &err));
    }
    /* The listeners and TCP's pools stay until deinit: part of the baseline. */
    mem_snapshot(&f->stack, &f->base);
    return f;
}

static size_t syn_frame(uint8_t *out, const tuple_t *t, uint8_t flags, uint32_t seq)
{
    uint8_t tcp[20] = {0};
    tcp[0] = (uint8_t)(t->rport >> 8);
    tcp[1] = (uint8_t)t->rport;
    tcp[2] = (uint8_t)(t->lport >> 8);
    tcp[3] = (uint8_t)t->lport;
    tcp[4] = (uint8_t)(seq >> 24);
    tcp[5] = (uint8_t)(seq >> 16);
    tcp[6] = (uint8_t)(seq >> 8);
    tcp[7] = (uint8_t)seq;
    tcp[12] = 0x50;
    tcp[13] = flags;
    tcp[14] = 0x20;
    uint8_t ps[32];
    for (int i = 0; i < 4; i++) {
        ps[i] = (uint8_t)(t->rip >> (24 - 8 * i));
        ps[4 + i] = (uint8_t)(FR_OUR_IP >> (24 - 8 * i));
    }
    ps[8] = 0;
    ps[9] = 6;
    ps[10] = 0;
    ps[11] = 20;
    memcpy(ps + 12, tcp, 20);
    uint16_t c = frame_checksum(ps, sizeof ps);
    tcp[16] = (uint8_t)(c >> 8);
    tcp[17] = (uint8_t)c;
    frame_ip_t ip = {.src = t->rip, .dst = FR_OUR_IP, .proto = 6};
    return frame_ip_eth(out, &ip, tcp, sizeof tcp);
}

/* The ISN tern chooses for tuple at time now (ms). The remote address is
 * off-link (reached through the gateway FR_PEER_IP, whose MAC is known),
 * so the SYN-ACK leaves at once. The child is then reset exactly. */
static uint32_t isn_probe(net_fixture_t *f, const tuple_t *t, uint32_t now)
{
    uint8_t fr[FRAME_MAX];
    f->now = now;
    capnet_clear(&f->cn);
    fx_rx(f, fr, syn_frame(fr, t, T_SYN, 7000));
    assert_int_equal(f->cn.count, 1);
    const uint8_t *h = capnet_frame(&f->cn, 0, NULL) + 14 + 20;
    assert_int_equal(h[13], T_SYN | T_ACK);
    uint32_t isn = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
    capnet_clear(&f->cn);
    fx_rx(f, fr, syn_frame(fr, t, T_RST, 7001));
    assert_int_equal(f->stack.tcp.half_open, 0);
    capnet_tx_complete(&f->cn);
    return isn;
}

/* Neighbouring tuples: remote port, remote address and local port step by
 * one in turn (4096 tuples in a row, each a neighbour of the last). */
static tuple_t tuple_at(size_t i)
{
    tuple_t t;
    t.rip = TERN_IP4(198, 51, 100, 0) + (tern_ip4_t)((i / 512u) % 200u) + 1u;
    t.rport = (uint16_t)(30000u + i % 512u);
    t.lport = (uint16_t)(80u + (i / 128u) % NPORTS);
    return t;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Clock values for sample i: steps of 1 ms to 10 s from a fixed seed. */
static void clock_steps(uint32_t *t, size_t n, uint64_t seed)
{
    uint32_t now = 5000;
    for (size_t i = 0; i < n; i++) {
        now += 1u + (uint32_t)(rng_next(&seed) % 10000u);
        t[i] = now;
    }
}

/* ---- the tests ----------------------------------------------------------- */

/* The same tuple over time: only the 4 us clock moves it, and it moves
 * every tuple alike (the secret part does not drift or leak over time). */
static void test_isn_same_tuple_over_time(void **state)
{
    (void)state;
    net_fixture_t *f = isn_stack(tern_test_seed(1001));
    uint64_t seed = 42;
    const size_t n = 512;
    uint32_t *t = malloc(n * sizeof *t);
    assert_non_null(t);
    clock_steps(t, n, seed);
    tuple_t a = tuple_at(0), b = tuple_at(1);
    uint32_t a0 = isn_probe(f, &a, t[0]), b0 = isn_probe(f, &b, t[0]);
    assert_int_not_equal(a0, b0);
    uint32_t prev = a0;
    for (size_t i = 1; i < n; i++) {
        uint32_t ai = isn_probe(f, &a, t[i]);
        uint32_t bi = isn_probe(f, &b, t[i]);
        /* Monotonic: above the last incarnation's (RFC 9293 3.4.1). */
        assert_true((int32_t)(ai - prev) > 0);
        assert_int_equal(ai - prev, (t[i] - t[i - 1]) * TICKS_PER_MS);
        assert_int_equal(ai - a0, bi - b0);
        prev = ai;
    }
    free(t);
    net_fixture_free(f);
}

/* Neighbouring tuples, each probed at its own clock value: the secret part
 * F = ISN - M is uniformly spread, and so are the differences between
 * neighbours. */
static void test_isn_neighbouring_tuples(void **state)
{
    (void)state;
    net_fixture_t *f = isn_stack(tern_test_seed(1002));
    uint32_t *t = malloc(N * sizeof *t), *fpart = malloc(N * sizeof *fpart);
    assert_true(t != NULL && fpart != NULL);
    clock_steps(t, N, 4242);
    for (size_t i = 0; i < N; i++) {
        tuple_t tu = tuple_at(i);
        fpart[i] = isn_probe(f, &tu, t[i]) - t[i] * TICKS_PER_MS;
    }
    assert_true(neighbours_ok("neighbouring tuples, over time", fpart, N, 1));
    /* And at one clock value (no time between the probes). */
    for (size_t i = 0; i < N; i++) {
        tuple_t tu = tuple_at(i);
        fpart[i] = isn_probe(f, &tu, t[N - 1]);
    }
    assert_true(neighbours_ok("neighbouring tuples, same instant", fpart, N, 1));
    free(t);
    free(fpart);
    net_fixture_free(f);
}

/* Another secret (another random seed at init): unrelated ISNs for the
 * same tuples at the same times. The same secret: the same ISNs. */
static void test_isn_other_secret(void **state)
{
    (void)state;
    net_fixture_t *f1 = isn_stack(tern_test_seed(1003));
    net_fixture_t *f2 = isn_stack(tern_test_seed(1003) + 1u);
    net_fixture_t *f3 = isn_stack(tern_test_seed(1003));
    uint32_t *t = malloc(N * sizeof *t), *d = malloc(N * sizeof *d);
    assert_true(t != NULL && d != NULL);
    clock_steps(t, N, 777);
    unsigned equal = 0;
    for (size_t i = 0; i < N; i++) {
        tuple_t tu = tuple_at(i);
        uint32_t x = isn_probe(f1, &tu, t[i]), y = isn_probe(f2, &tu, t[i]), z = isn_probe(f3, &tu, t[i]);
        assert_int_equal(x, z);
        d[i] = x - y; /* the clock cancels: F1 - F2 */
        equal += x == y;
    }
    assert_true(equal <= REPEATS_MAX);
    assert_true(neighbours_ok("secret A minus secret B", d, N, 1));
    for (size_t i = 0; i < N; i++) {
        tuple_t tu = tuple_at(i);
        d[i] = isn_probe(f1, &tu, t[i]) ^ isn_probe(f2, &tu, t[i]);
    }
    spread_t sx = spread_of(d, N);
    printf("isn secret A xor secret B: z %.2f chi2 %.0f/%.0f rep %u\n", sx.max_z, sx.chi2_high, sx.chi2_low,
           sx.repeats);
    assert_true(spread_ok(&sx));
    free(t);
    free(d);
    net_fixture_free(f1);
    net_fixture_free(f2);
    net_fixture_free(f3);
}

/* ---- negative controls: the same statistic rejects weak generators ---- */

static uint32_t crc32_bytes(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t weak_isn(int kind, size_t i, const tuple_t *tu, uint32_t now)
{
    uint32_t m = now * TICKS_PER_MS;
    uint8_t b[12];
    for (int k = 0; k < 4; k++) {
        b[k] = (uint8_t)(tu->rip >> (24 - 8 * k));
        b[4 + k] = (uint8_t)(FR_OUR_IP >> (24 - 8 * k));
    }
    b[8] = (uint8_t)(tu->rport >> 8);
    b[9] = (uint8_t)tu->rport;
    b[10] = (uint8_t)(tu->lport >> 8);
    b[11] = (uint8_t)tu->lport;
    switch (kind) {
    case 0: /* a global counter stepped per connection (uIP's 64000) */
        return (uint32_t)(i * 64000u);
    case 1: /* a bare clock */
        return m;
    case 2: /* a multiplicative hash of the tuple plus the clock */
        return (tu->rip ^ ((uint32_t)tu->rport << 16 | tu->lport)) * 2654435761u + m;
    case 3: /* CRC-32 of the tuple plus the clock (linear: a weak hash) */
        return crc32_bytes(b, sizeof b) + m;
    default: /* a hash cut to 16 bits, plus the clock */
        return (crc32_bytes(b, sizeof b) & 0xFFFFu) + m;
    }
}

static void test_isn_statistic_rejects_weak_generators(void **state)
{
    (void)state;
    static const char *const names[] = {"control: counter", "control: clock", "control: multiplicative hash",
                                        "control: CRC-32 + clock", "control: 16-bit hash + clock"};
    uint32_t *t = malloc(N * sizeof *t), *fpart = malloc(N * sizeof *fpart);
    assert_true(t != NULL && fpart != NULL);
    clock_steps(t, N, 4242);
    for (int kind = 0; kind < 5; kind++) {
        for (size_t i = 0; i < N; i++) {
            tuple_t tu = tuple_at(i);
            fpart[i] = weak_isn(kind, i, &tu, t[i]) - t[i] * TICKS_PER_MS;
        }
        assert_false(neighbours_ok(names[kind], fpart, N, 1));
    }
    /* And a good generator passes: SplitMix64 (a sanity check that the
     * limits are not so tight that chance fails them). */
    uint64_t s = 99;
    for (size_t i = 0; i < N; i++) {
        s += 0x9E3779B97F4A7C15ull;
        uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        fpart[i] = (uint32_t)((z ^ (z >> 31)) >> 16);
    }
    assert_true(neighbours_ok("control: SplitMix64", fpart, N, 1));
    free(t);
    free(fpart);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isn_statistic_rejects_weak_generators),
        cmocka_unit_test(test_isn_same_tuple_over_time),
        cmocka_unit_test(test_isn_neighbouring_tuples),
        cmocka_unit_test(test_isn_other_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
