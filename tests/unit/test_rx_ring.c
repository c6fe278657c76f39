/* The Cortex-M drivers' RX hand-off ring (ports/cortex-m/rx_ring.h), on the
 * host: empty and full at the right counts, FIFO order with the lengths,
 * the wrap of the slot index and of the free-running 32-bit counters, and
 * a producer thread against a consumer thread (the interrupt handler and
 * the main loop of a board, where the handler pre-empts instead).
 * TERN_TEST_ONE_VARIANT: it uses nothing of the core. */
#include "tern_test.h"

#include <pthread.h>
#include <stdint.h>
#include "../../ports/cortex-m/rx_ring.h"

/* Stand-ins for network buffers: the ring only stores the pointers. */
static char bufs[64];
#define NB(i) ((struct tern_netbuf *)(void *)&bufs[(i) % 64u])

static void test_init_size(void **state)
{
    (void)state;
    board_rx_ring_t r;
    struct tern_netbuf *slot[8] = {0};
    assert_int_equal(board_rx_ring_init(&r, slot, NULL, 0), -1);
    assert_int_equal(board_rx_ring_init(&r, slot, NULL, 6), -1);
    assert_int_equal(board_rx_ring_init(&r, slot, NULL, 8), 0);
    assert_int_equal(board_rx_ring_init(&r, slot, NULL, 1), 0);
}

static void test_empty_full(void **state)
{
    (void)state;
    board_rx_ring_t r;
    struct tern_netbuf *slot[4] = {0};
    uint16_t len[4] = {0};
    assert_int_equal(board_rx_ring_init(&r, slot, len, 4), 0);
    assert_true(board_rx_ring_empty(&r));
    assert_false(board_rx_ring_full(&r));
    assert_null(board_rx_ring_pop(&r, NULL));
    for (unsigned i = 0; i < 4; i++) {
        assert_false(board_rx_ring_full(&r));
        assert_int_equal(board_rx_ring_push(&r, NB(i), (uint16_t)(100 + i)), 0);
        assert_int_equal(board_rx_ring_count(&r), i + 1u);
        assert_false(board_rx_ring_empty(&r));
    }
    assert_true(board_rx_ring_full(&r));
    /* Full: refused, nothing overwritten. */
    assert_int_equal(board_rx_ring_push(&r, NB(9), 999), -1);
    assert_int_equal(board_rx_ring_count(&r), 4u);
    for (unsigned i = 0; i < 4; i++) {
        uint16_t l = 0;
        assert_ptr_equal(board_rx_ring_pop(&r, &l), NB(i));
        assert_int_equal(l, 100 + i);
    }
    assert_true(board_rx_ring_empty(&r));
    assert_null(board_rx_ring_pop(&r, NULL));
}

/* Interleaved pushes and pops run the slot index round the ring many
 * times; then the same across the 2^32 wrap of the counters. */
static void run_wrap(board_rx_ring_t *r, uint32_t start)
{
    r->head = start;
    r->tail = start;
    unsigned next_in = 0, next_out = 0;
    for (unsigned round = 0; round < 1000; round++) {
        unsigned burst = 1u + round % 4u;
        for (unsigned k = 0; k < burst; k++) {
            if (board_rx_ring_push(r, NB(next_in), (uint16_t)next_in) == 0)
                next_in++;
            else
                assert_true(board_rx_ring_full(r));
        }
        unsigned take = 1u + (round * 7u) % 4u;
        for (unsigned k = 0; k < take; k++) {
            uint16_t l = 0;
            struct tern_netbuf *nb = board_rx_ring_pop(r, &l);
            if (nb == NULL) {
                assert_true(board_rx_ring_empty(r));
                assert_int_equal(next_out, next_in);
                break;
            }
            assert_ptr_equal(nb, NB(next_out));
            assert_int_equal(l, (uint16_t)next_out);
            next_out++;
        }
        assert_int_equal(board_rx_ring_count(r), next_in - next_out);
        assert_true(board_rx_ring_count(r) <= 4u);
    }
    assert_true(next_in > 1000u);
}

static void test_wrap(void **state)
{
    (void)state;
    board_rx_ring_t r;
    struct tern_netbuf *slot[4] = {0};
    uint16_t len[4] = {0};
    assert_int_equal(board_rx_ring_init(&r, slot, len, 4), 0);
    run_wrap(&r, 0);
    run_wrap(&r, UINT32_MAX - 5u); /* head and tail wrap past 0 mid-run */
}

static void test_counter_wrap_full(void **state)
{
    (void)state;
    board_rx_ring_t r;
    struct tern_netbuf *slot[2] = {0};
    assert_int_equal(board_rx_ring_init(&r, slot, NULL, 2), 0);
    r.head = r.tail = UINT32_MAX;
    assert_int_equal(board_rx_ring_push(&r, NB(1), 0), 0);
    assert_int_equal(board_rx_ring_push(&r, NB(2), 0), 0); /* head is now 1, tail UINT32_MAX */
    assert_true(board_rx_ring_full(&r));
    assert_int_equal(board_rx_ring_push(&r, NB(3), 0), -1);
    uint16_t l = 7;
    assert_ptr_equal(board_rx_ring_pop(&r, &l), NB(1));
    assert_int_equal(l, 0); /* a ring without lengths gives 0 */
    assert_ptr_equal(board_rx_ring_pop(&r, NULL), NB(2));
    assert_true(board_rx_ring_empty(&r));
}

/* One producer thread, one consumer thread, a million buffers: each comes
 * out once, in order, with its length. */
#define SPSC_N 1000000u
static board_rx_ring_t spsc;

static void *producer(void *arg)
{
    (void)arg;
    for (uint32_t i = 0; i < SPSC_N;) {
        if (board_rx_ring_push(&spsc, NB(i), (uint16_t)i) == 0)
            i++;
    }
    return NULL;
}

static void test_two_threads(void **state)
{
    (void)state;
    struct tern_netbuf *slot[8] = {0};
    uint16_t len[8] = {0};
    assert_int_equal(board_rx_ring_init(&spsc, slot, len, 8), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, producer, NULL), 0);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < SPSC_N;) {
        uint16_t l;
        struct tern_netbuf *nb = board_rx_ring_pop(&spsc, &l);
        if (nb == NULL)
            continue;
        if (nb != NB(i) || l != (uint16_t)i)
            bad++;
        i++;
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(bad, 0);
    assert_true(board_rx_ring_empty(&spsc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_size),      cmocka_unit_test(test_empty_full),
        cmocka_unit_test(test_wrap),           cmocka_unit_test(test_counter_wrap_full),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
