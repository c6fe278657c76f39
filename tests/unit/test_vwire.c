/* TERN_TEST_STATIC_VARIANT */
/* The virtual wire itself, with test endpoints on both sides: each
 * impairment, the statistics, the clock, and determinism. */
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern_test.h"
#include "tern_vwire.h"

#define MAX_RX 8192

typedef struct rx_log {
    unsigned n;
    uint32_t time[MAX_RX];
    uint32_t len[MAX_RX];
    uint32_t tag[MAX_RX];    /* first 4 bytes of the frame: the sender's number */
    uint8_t first[1514];     /* bytes of the first frame received */
    uint64_t digest;         /* FNV over every frame received, in order */
} rx_log_t;

static void rx_collect(void *ctx, int side, const uint8_t *frame, size_t len, uint32_t now)
{
    rx_log_t *log = ctx;
    (void)side;
    if (log->n == 0)
        memcpy(log->first, frame, len);
    if (log->n < MAX_RX) {
        log->time[log->n] = now;
        log->len[log->n] = (uint32_t)len;
        log->tag[log->n] = len >= 4 ? (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 |
                                          (uint32_t)frame[2] << 8 | frame[3]
                                    : 0xFFFFFFFFu;
    }
    for (size_t i = 0; i < len; i++) {
        log->digest ^= frame[i];
        log->digest *= 0x100000001b3ull;
    }
    log->n++;
}

/* A frame of len bytes numbered tag: the number in the first 4 bytes, then a
 * pattern. */
static void make_frame(uint8_t *buf, size_t len, uint32_t tag)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 13u + tag);
    if (len >= 4) {
        buf[0] = (uint8_t)(tag >> 24);
        buf[1] = (uint8_t)(tag >> 16);
        buf[2] = (uint8_t)(tag >> 8);
        buf[3] = (uint8_t)tag;
    }
}

typedef struct rig {
    tern_vwire_t wire;
    rx_log_t rx[2];
} rig_t;

static rig_t *rig_new(uint64_t seed, const tern_vwire_params_t *p)
{
    rig_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->rx[0].digest = r->rx[1].digest = 0xcbf29ce484222325ull;
    tern_vwire_init(&r->wire, seed, p);
    tern_vwire_attach_endpoint(&r->wire, 0, rx_collect, &r->rx[0]);
    tern_vwire_attach_endpoint(&r->wire, 1, rx_collect, &r->rx[1]);
    return r;
}

static void rig_free(rig_t *r)
{
    tern_vwire_destroy(&r->wire);
    free(r);
}

/* Send n frames of len bytes from side 0, one every gap ms, then let
 * everything arrive. */
static void send_many(rig_t *r, unsigned n, size_t len, uint32_t gap)
{
    uint8_t buf[1514];
    uint32_t t = tern_vwire_now(&r->wire);
    for (unsigned i = 0; i < n; i++) {
        make_frame(buf, len, i);
        assert_int_equal(tern_vwire_send(&r->wire, 0, buf, len), TERN_OK);
        t += gap;
        tern_vwire_advance(&r->wire, t);
    }
    tern_vwire_advance(&r->wire, t + 100000u);
    assert_int_equal(tern_vwire_pending(&r->wire), 0);
}

static void test_perfect_wire_delivers_on_time(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.delay_ms = 5};
    rig_t *r = rig_new(1, &p);
    uint8_t buf[100];
    make_frame(buf, sizeof buf, 42);
    assert_int_equal(tern_vwire_send(&r->wire, 0, buf, sizeof buf), TERN_OK);
    assert_int_equal(tern_vwire_pending(&r->wire), 1);
    /* Not due yet: advance says when it will be. */
    assert_int_equal(tern_vwire_advance(&r->wire, 4), 5);
    assert_int_equal(r->rx[1].n, 0);
    assert_int_equal(tern_vwire_advance(&r->wire, 5), 1005); /* idle: now + 1000 */
    assert_int_equal(r->rx[1].n, 1);
    assert_int_equal(r->rx[0].n, 0); /* nothing echoes back */
    assert_int_equal(r->rx[1].time[0], 5);
    assert_int_equal(r->rx[1].len[0], sizeof buf);
    assert_memory_equal(r->rx[1].first, buf, sizeof buf);
    const tern_vwire_stats_t *s = tern_vwire_stats(&r->wire, 0);
    assert_int_equal(s->sent, 1);
    assert_int_equal(s->bytes, sizeof buf);
    assert_int_equal(s->delivered, 1);
    assert_int_equal(s->lost + s->duplicated + s->corrupted + s->reordered + s->queue_drops, 0);
    assert_int_equal(tern_vwire_stats(&r->wire, 1)->sent, 0);

    /* The other direction, independently. */
    assert_int_equal(tern_vwire_send(&r->wire, 1, buf, 10), TERN_OK);
    tern_vwire_advance(&r->wire, 10);
    assert_int_equal(r->rx[0].n, 1);
    assert_int_equal(r->rx[0].time[0], 10);
    assert_memory_equal(r->rx[0].first, buf, 10);
    rig_free(r);
}

static void test_in_order_without_impairments(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.delay_ms = 3};
    rig_t *r = rig_new(7, &p);
    send_many(r, 500, 64, 0); /* all at once: ties keep sending order */
    assert_int_equal(r->rx[1].n, 500);
    for (unsigned i = 0; i < 500; i++)
        assert_int_equal(r->rx[1].tag[i], i);
    rig_free(r);
}

static void test_zero_length_and_oversize(void **state)
{
    (void)state;
    rig_t *r = rig_new(1, NULL);
    uint8_t big[1515] = {0};
    assert_int_equal(tern_vwire_send(&r->wire, 0, big, sizeof big), TERN_ERR_MSGSIZE);
    assert_int_equal(tern_vwire_stats(&r->wire, 0)->oversize, 1);
    assert_int_equal(tern_vwire_send(&r->wire, 0, big, 1514), TERN_OK);
    assert_int_equal(tern_vwire_send(&r->wire, 0, big, 0), TERN_OK);
    assert_int_equal(tern_vwire_send(&r->wire, 2, big, 10), TERN_ERR_INVAL);
    tern_vwire_advance(&r->wire, 0);
    assert_int_equal(r->rx[1].n, 2);
    assert_int_equal(r->rx[1].len[0], 1514);
    assert_int_equal(r->rx[1].len[1], 0);
    rig_free(r);
}

static void test_loss(void **state)
{
    (void)state;
    uint64_t seed = tern_test_seed(11);
    tern_vwire_params_t all = {.loss_ppm = 1000000};
    rig_t *r = rig_new(seed, &all);
    send_many(r, 200, 60, 1);
    assert_int_equal(r->rx[1].n, 0);
    assert_int_equal(tern_vwire_stats(&r->wire, 0)->lost, 200);
    assert_int_equal(tern_vwire_stats(&r->wire, 0)->delivered, 0);
    rig_free(r);

    /* 25%: 4000 frames, expect 1000 lost, sd 27; accept +-7 sd. */
    tern_vwire_params_t quarter = {.loss_ppm = 250000};
    r = rig_new(seed, &quarter);
    send_many(r, 4000, 60, 1);
    const tern_vwire_stats_t *s = tern_vwire_stats(&r->wire, 0);
    assert_in_range(s->lost, 810, 1190);
    assert_int_equal(s->lost + s->delivered, 4000);
    assert_int_equal(r->rx[1].n, s->delivered);
    /* Survivors arrive in order, none twice. */
    for (unsigned i = 1; i < r->rx[1].n; i++)
        assert_true(r->rx[1].tag[i] > r->rx[1].tag[i - 1]);
    rig_free(r);
}

static void test_duplication(void **state)
{
    (void)state;
    tern_vwire_params_t always = {.dup_ppm = 1000000, .delay_ms = 1};
    rig_t *r = rig_new(3, &always);
    send_many(r, 100, 80, 1);
    assert_int_equal(r->rx[1].n, 200);
    assert_int_equal(tern_vwire_stats(&r->wire, 0)->duplicated, 100);
    assert_int_equal(tern_vwire_stats(&r->wire, 0)->delivered, 200);
    /* Both copies of frame i, next to each other (no jitter). */
    for (unsigned i = 0; i < 100; i++) {
        assert_int_equal(r->rx[1].tag[2 * i], i);
        assert_int_equal(r->rx[1].tag[2 * i + 1], i);
    }
    rig_free(r);

    tern_vwire_params_t some = {.dup_ppm = 200000};
    r = rig_new(tern_test_seed(5), &some);
    send_many(r, 2000, 80, 1);
    const tern_vwire_stats_t *s = tern_vwire_stats(&r->wire, 0);
    assert_in_range(s->duplicated, 280, 520); /* 400 expected, sd 18 */
    assert_int_equal(r->rx[1].n, 2000 + s->duplicated);
    rig_free(r);
}

static int popcount8(uint8_t v)
{
    int n = 0;
    while (v) {
        n += v & 1u;
        v >>= 1;
    }
    return n;
}

/* Endpoint that checks each frame against the pattern and counts flipped bits. */
typedef struct flip_check {
    unsigned frames;
    unsigned one_bit;   /* frames differing in exactly one bit */
    unsigned intact;
    unsigned other;
} flip_check_t;

static void rx_flips(void *ctx, int side, const uint8_t *frame, size_t len, uint32_t now)
{
    flip_check_t *fc = ctx;
    uint8_t expect[1514];
    (void)side;
    (void)now;
    make_frame(expect, len, 0); /* every frame of this test is frame 0 */
    int bits = 0;
    for (size_t i = 0; i < len; i++)
        bits += popcount8((uint8_t)(frame[i] ^ expect[i]));
    fc->frames++;
    if (bits == 0)
        fc->intact++;
    else if (bits == 1)
        fc->one_bit++;
    else
        fc->other++;
}

static void test_corruption(void **state)
{
    (void)state;
    tern_vwire_params_t always = {.corrupt_ppm = 1000000};
    tern_vwire_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    flip_check_t fc = {0};
    tern_vwire_init(w, tern_test_seed(9), &always);
    tern_vwire_attach_endpoint(w, 1, rx_flips, &fc);
    uint8_t buf[200];
    make_frame(buf, sizeof buf, 0);
    for (uint32_t i = 0; i < 200; i++) {
        assert_int_equal(tern_vwire_send(w, 0, buf, sizeof buf), TERN_OK);
        tern_vwire_advance(w, i + 1u);
    }
    assert_int_equal(fc.frames, 200);
    assert_int_equal(fc.one_bit, 200);
    assert_int_equal(tern_vwire_stats(w, 0)->corrupted, 200);
    tern_vwire_destroy(w);

    tern_vwire_params_t none = {0};
    memset(&fc, 0, sizeof fc);
    tern_vwire_init(w, 9, &none);
    tern_vwire_attach_endpoint(w, 1, rx_flips, &fc);
    for (uint32_t i = 0; i < 50; i++)
        tern_vwire_send(w, 0, buf, sizeof buf);
    tern_vwire_advance(w, 1);
    assert_int_equal(fc.intact, 50);
    tern_vwire_destroy(w);
    free(w);
}

static void test_delay_and_jitter(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.delay_ms = 10, .jitter_ms = 5};
    rig_t *r = rig_new(tern_test_seed(21), &p);
    uint8_t buf[64];
    uint32_t sent_at[1000];
    for (uint32_t i = 0; i < 1000; i++) {
        make_frame(buf, sizeof buf, i);
        sent_at[i] = tern_vwire_now(&r->wire);
        tern_vwire_send(&r->wire, 0, buf, sizeof buf);
        tern_vwire_advance(&r->wire, sent_at[i] + 2u);
    }
    tern_vwire_advance(&r->wire, 5000);
    assert_int_equal(r->rx[1].n, 1000);
    uint32_t lo = UINT32_MAX, hi = 0;
    unsigned inversions = 0;
    for (unsigned k = 0; k < 1000; k++) {
        uint32_t d = r->rx[1].time[k] - sent_at[r->rx[1].tag[k]];
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        if (k > 0 && r->rx[1].tag[k] < r->rx[1].tag[k - 1])
            inversions++;
    }
    assert_int_equal(lo, 10);
    assert_int_equal(hi, 15);
    assert_true(inversions > 0); /* jitter larger than the gap reorders */
    rig_free(r);
}

static void test_reorder(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.delay_ms = 1, .reorder_ppm = 200000, .reorder_ms = 50};
    rig_t *r = rig_new(tern_test_seed(33), &p);
    send_many(r, 500, 64, 1);
    assert_int_equal(r->rx[1].n, 500);
    const tern_vwire_stats_t *s = tern_vwire_stats(&r->wire, 0);
    assert_in_range(s->reordered, 50, 150); /* 100 expected */
    /* Exactly the held-back frames arrive late: count frames that arrive
     * after a higher-numbered one, each counted once. */
    unsigned late = 0;
    uint32_t max_tag = 0;
    for (unsigned k = 0; k < 500; k++) {
        if (k > 0 && r->rx[1].tag[k] < max_tag)
            late++;
        if (r->rx[1].tag[k] > max_tag)
            max_tag = r->rx[1].tag[k];
    }
    assert_true(late > 0);
    assert_true(late <= s->reordered);
    /* Every frame still arrives exactly once. */
    uint8_t seen[500] = {0};
    for (unsigned k = 0; k < 500; k++) {
        assert_true(r->rx[1].tag[k] < 500);
        assert_int_equal(seen[r->rx[1].tag[k]], 0);
        seen[r->rx[1].tag[k]] = 1;
    }
    rig_free(r);
}

static void test_bandwidth_and_queue(void **state)
{
    (void)state;
    /* 1 Mbit/s: a 1250-byte frame occupies the link for exactly 10 ms. */
    tern_vwire_params_t p = {.bandwidth_bps = 1000000};
    rig_t *r = rig_new(1, &p);
    uint8_t buf[1250];
    for (uint32_t i = 0; i < 5; i++) {
        make_frame(buf, sizeof buf, i);
        tern_vwire_send(&r->wire, 0, buf, sizeof buf);
    }
    assert_int_equal(tern_vwire_advance(&r->wire, 0), 10);
    tern_vwire_advance(&r->wire, 100);
    assert_int_equal(r->rx[1].n, 5);
    for (unsigned k = 0; k < 5; k++) {
        assert_int_equal(r->rx[1].time[k], 10u * (k + 1u));
        assert_int_equal(r->rx[1].tag[k], k);
    }
    /* Small frames: 125 bytes = 1 ms each; the propagation delay adds on. */
    rig_free(r);
    tern_vwire_params_t q = {.bandwidth_bps = 1000000, .queue_limit = 3000, .delay_ms = 7};
    r = rig_new(1, &q);
    for (uint32_t i = 0; i < 5; i++) {
        make_frame(buf, sizeof buf, i);
        tern_vwire_send(&r->wire, 0, buf, sizeof buf);
    }
    /* Backlog 0 + 1250 fits, 1250 + 1250 fits, 2500 + 1250 > 3000: dropped. */
    const tern_vwire_stats_t *s = tern_vwire_stats(&r->wire, 0);
    assert_int_equal(s->queue_drops, 3);
    tern_vwire_advance(&r->wire, 10); /* the first has left the queue */
    make_frame(buf, sizeof buf, 9);
    tern_vwire_send(&r->wire, 0, buf, sizeof buf); /* backlog 1250 + 1250 fits */
    assert_int_equal(s->queue_drops, 3);
    tern_vwire_advance(&r->wire, 1000);
    assert_int_equal(r->rx[1].n, 3);
    assert_int_equal(r->rx[1].time[0], 17);
    assert_int_equal(r->rx[1].time[1], 27);
    assert_int_equal(r->rx[1].time[2], 37);
    assert_int_equal(r->rx[1].tag[2], 9);
    rig_free(r);
}

static void test_unattached_side(void **state)
{
    (void)state;
    tern_vwire_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    tern_vwire_init(w, 1, NULL);
    uint8_t buf[60] = {1};
    tern_vwire_send(w, 0, buf, sizeof buf);
    tern_vwire_advance(w, 1);
    assert_int_equal(tern_vwire_stats(w, 0)->unattached, 1);
    assert_int_equal(tern_vwire_stats(w, 0)->delivered, 0);
    /* Destroy with frames in flight frees them (ASan checks). */
    tern_vwire_params_t slow = {.delay_ms = 100};
    tern_vwire_set_params(w, 0, &slow);
    tern_vwire_send(w, 0, buf, sizeof buf);
    tern_vwire_send(w, 0, buf, sizeof buf);
    assert_int_equal(tern_vwire_pending(w), 2);
    tern_vwire_destroy(w);
    assert_int_equal(tern_vwire_pending(w), 0);
    free(w);
}

static void test_clock_wraps(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.delay_ms = 32};
    rig_t *r = rig_new(1, &p);
    /* A jump of 2^31 ms or more cannot be told from going back: set it. */
    assert_int_equal(tern_vwire_set_time(&r->wire, 0xFFFFFFF0u), TERN_OK);
    assert_int_equal(tern_vwire_now(&r->wire), 0xFFFFFFF0u);
    uint8_t buf[60] = {0};
    tern_vwire_send(&r->wire, 0, buf, sizeof buf);
    assert_int_equal(tern_vwire_advance(&r->wire, 0xFFFFFFFFu), 0x10u);
    assert_int_equal(r->rx[1].n, 0);
    tern_vwire_advance(&r->wire, 0x10u);
    assert_int_equal(r->rx[1].n, 1);
    assert_int_equal(r->rx[1].time[0], 0x10u);
    /* Time never goes back: an earlier time is "now". */
    tern_vwire_advance(&r->wire, 5);
    assert_int_equal(tern_vwire_now(&r->wire), 0x10u);
    rig_free(r);
}

/* Determinism: the whole event sequence, not just the totals. */
typedef struct ev_log {
    unsigned n;
    tern_vwire_event_t ev[20000];
} ev_log_t;

static void ev_collect(void *ctx, const tern_vwire_event_t *ev)
{
    ev_log_t *log = ctx;
    if (log->n < 20000)
        log->ev[log->n] = *ev;
    log->n++;
}

static uint64_t chaos_run(uint64_t seed, ev_log_t *log, rx_log_t out[2])
{
    tern_vwire_params_t p = {.loss_ppm = 100000, .dup_ppm = 50000, .reorder_ppm = 50000, .reorder_ms = 20,
                             .corrupt_ppm = 50000, .delay_ms = 3, .jitter_ms = 4, .bandwidth_bps = 5000000,
                             .queue_limit = 4000};
    rig_t *r = rig_new(seed, &p);
    if (log)
        tern_vwire_set_trace(&r->wire, ev_collect, log);
    uint8_t buf[1514];
    for (uint32_t i = 0; i < 1500; i++) {
        size_t len = 60u + (i * 97u) % 1455u;
        make_frame(buf, len, i);
        tern_vwire_send(&r->wire, (int)(i % 3u == 0u), buf, len);
        tern_vwire_advance(&r->wire, i / 2u);
    }
    tern_vwire_advance(&r->wire, 100000);
    uint64_t h = tern_vwire_trace_hash(&r->wire);
    if (out)
        memcpy(out, r->rx, sizeof r->rx);
    rig_free(r);
    return h;
}

static void test_determinism(void **state)
{
    (void)state;
    uint64_t seed = tern_test_seed(0xC0FFEE);
    ev_log_t *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    rx_log_t *ra = calloc(2, sizeof *ra), *rb = calloc(2, sizeof *rb);
    assert_true(a && b && ra && rb);
    uint64_t h1 = chaos_run(seed, a, ra);
    uint64_t h2 = chaos_run(seed, b, rb);
    assert_true(h1 == h2);
    assert_int_equal(a->n, b->n);
    assert_true(a->n > 2500 && a->n <= 20000);
    int kinds[16] = {0};
    for (unsigned i = 0; i < a->n; i++) {
        assert_int_equal(a->ev[i].kind, b->ev[i].kind);
        assert_int_equal(a->ev[i].from, b->ev[i].from);
        assert_int_equal(a->ev[i].time, b->ev[i].time);
        assert_int_equal(a->ev[i].due, b->ev[i].due);
        assert_int_equal(a->ev[i].len, b->ev[i].len);
        assert_int_equal(a->ev[i].seq, b->ev[i].seq);
        assert_int_equal(a->ev[i].bit, b->ev[i].bit);
        assert_true(a->ev[i].digest == b->ev[i].digest);
        kinds[a->ev[i].kind & 15]++;
    }
    /* Every impairment actually happened in this scenario. */
    assert_true(kinds[TERN_VWIRE_EV_LOSS] > 0 && kinds[TERN_VWIRE_EV_DUP] > 0);
    assert_true(kinds[TERN_VWIRE_EV_REORDER] > 0 && kinds[TERN_VWIRE_EV_CORRUPT] > 0);
    assert_true(kinds[TERN_VWIRE_EV_QUEUE_DROP] > 0 && kinds[TERN_VWIRE_EV_DELIVER] > 0);
    for (int s = 0; s < 2; s++) {
        assert_int_equal(ra[s].n, rb[s].n);
        assert_true(ra[s].digest == rb[s].digest);
        assert_memory_equal(ra[s].time, rb[s].time, sizeof ra[s].time);
    }
    /* Another seed: another sequence. */
    uint64_t h3 = chaos_run(seed + 1u, NULL, NULL);
    assert_true(h3 != h1);
    free(a);
    free(b);
    free(ra);
    free(rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perfect_wire_delivers_on_time),
        cmocka_unit_test(test_in_order_without_impairments),
        cmocka_unit_test(test_zero_length_and_oversize),
        cmocka_unit_test(test_loss),
        cmocka_unit_test(test_duplication),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_delay_and_jitter),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_bandwidth_and_queue),
        cmocka_unit_test(test_unattached_side),
        cmocka_unit_test(test_clock_wraps),
        cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
