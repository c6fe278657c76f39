/* Network buffers, both schemes (this file runs on both variants). */
#include "tern_test.h"

#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/netbuf.h"

#define ARENA_SIZE (TERN_NETBUF_COUNT * 1600u + 4096u)

typedef struct fixture {
    tern_test_port_t tp;
    tern_heap_t heap;
    tern_ledger_t ledger;
    tern_netbuf_pool_t pool;
    _Alignas(8) uint8_t arena[ARENA_SIZE];
} fixture_t;

static fixture_t *g_fixture; /* for the wait hook */

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    tern_test_port_init(&f->tp, 7);
    f->tp.quiet = 1;
    tern_heap_init(&f->heap, &f->tp.port);
    assert_int_equal(tern_heap_add_region(&f->heap, f->arena, sizeof f->arena), TERN_OK);
    tern_ledger_init(&f->ledger, &f->heap, &f->tp.port);
    assert_int_equal(tern_netbuf_pool_init(&f->pool, &f->ledger, &f->tp.port), TERN_OK);
    g_fixture = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(tern_ledger_verify(&f->ledger), TERN_OK);
    free(f);
    return 0;
}

static size_t netbuf_heap_bytes(fixture_t *f)
{
    return tern_ledger_category(&f->ledger, TERN_MEM_NETWORK_BUFFER)->bytes;
}

static void test_get_release_counts(void **state)
{
    fixture_t *f = *state;
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    assert_int_equal(tern_netbuf_free_count(&f->pool), TERN_NETBUF_COUNT);
    for (unsigned i = 0; i < TERN_NETBUF_COUNT; i++) {
        held[i] = tern_netbuf_get(&f->pool, 60 + i, 0);
        assert_non_null(held[i]);
        assert_int_equal(held[i]->len, 60 + i);
        assert_ptr_equal(held[i]->data, tern_netbuf_frame(held[i]));
        assert_true(held[i]->capacity >= 60 + i);
        assert_int_equal((uintptr_t)tern_netbuf_frame(held[i]) % 8u, 2u); /* IP header 8-aligned */
        memset(held[i]->data, (int)i, held[i]->len);
    }
    assert_int_equal(tern_netbuf_free_count(&f->pool), 0);
    assert_int_equal(tern_netbuf_min_free(&f->pool), 0);
    /* Exhaustion is a counted, normal event. */
    assert_null(tern_netbuf_get(&f->pool, 60, 0));
    assert_int_equal(f->pool.exhausted, 1);
    for (unsigned i = 0; i < TERN_NETBUF_COUNT; i++) {
        for (unsigned k = 0; k < held[i]->len; k++)
            assert_int_equal(held[i]->data[k], (uint8_t)i); /* no overlap */
        tern_netbuf_release(&f->pool, held[i]);
    }
    assert_int_equal(tern_netbuf_free_count(&f->pool), TERN_NETBUF_COUNT);
    assert_int_equal(tern_netbuf_min_free(&f->pool), 0);
    assert_int_equal(f->pool.gets, TERN_NETBUF_COUNT);
    assert_int_equal(f->pool.releases, TERN_NETBUF_COUNT);
    assert_int_equal(netbuf_heap_bytes(f), 0);
}

static void test_size_limits(void **state)
{
    fixture_t *f = *state;
    assert_null(tern_netbuf_get(&f->pool, TERN_NETBUF_FRAME_SIZE + 1u, 0));
    tern_netbuf_t *nb = tern_netbuf_get(&f->pool, TERN_NETBUF_FRAME_SIZE, 0);
    assert_non_null(nb);
    memset(nb->data, 0x5A, nb->len);
    tern_netbuf_release(&f->pool, nb);
    nb = tern_netbuf_get(&f->pool, 0, 0);
    assert_non_null(nb);
    assert_int_equal(nb->len, 0);
    tern_netbuf_release(&f->pool, nb);
}

static void test_headers_push_pull(void **state)
{
    fixture_t *f = *state;
    tern_netbuf_t *nb = tern_netbuf_get(&f->pool, 14 + 20 + 8 + 100, 0);
    assert_int_equal(tern_netbuf_pull(nb, 42), TERN_OK);
    assert_int_equal(nb->len, 100);
    assert_ptr_equal(nb->data, tern_netbuf_frame(nb) + 42);
    assert_int_equal(tern_netbuf_push(nb, 8), TERN_OK);
    assert_int_equal(tern_netbuf_push(nb, 20), TERN_OK);
    assert_int_equal(tern_netbuf_push(nb, 14), TERN_OK);
    assert_int_equal(nb->len, 142);
    assert_int_equal(tern_netbuf_push(nb, 1), TERN_ERR_INVAL); /* before the frame start */
    assert_int_equal(tern_netbuf_pull(nb, 143), TERN_ERR_INVAL);
    assert_int_equal(nb->len, 142);
    assert_int_equal(tern_netbuf_set_len(nb, 60), TERN_OK);
    assert_int_equal(nb->len, 60);
    assert_int_equal(tern_netbuf_set_len(nb, (size_t)nb->capacity + 1u), TERN_ERR_INVAL);
    tern_netbuf_release(&f->pool, nb);
}

static void test_from_frame(void **state)
{
    fixture_t *f = *state;
    tern_netbuf_t *a = tern_netbuf_get(&f->pool, 100, 0);
    tern_netbuf_t *b = tern_netbuf_get(&f->pool, 200, 0);
    assert_ptr_equal(tern_netbuf_from_frame(&f->pool, tern_netbuf_frame(a)), a);
    assert_ptr_equal(tern_netbuf_from_frame(&f->pool, tern_netbuf_frame(b)), b);
    assert_null(tern_netbuf_from_frame(&f->pool, NULL));
#if TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC
    /* Not a frame start, or a released buffer: refused. */
    assert_null(tern_netbuf_from_frame(&f->pool, tern_netbuf_frame(a) + 1));
    int local = 0;
    assert_null(tern_netbuf_from_frame(&f->pool, &local));
    uint8_t *frame_b = tern_netbuf_frame(b);
    tern_netbuf_release(&f->pool, b);
    assert_null(tern_netbuf_from_frame(&f->pool, frame_b));
#else
    tern_netbuf_release(&f->pool, b);
#endif
    tern_netbuf_release(&f->pool, a);
}

static void test_double_release_refused(void **state)
{
    fixture_t *f = *state;
    /* The two bad releases below are each reported as an internal
     * assertion in debug builds; the NULL release is not. */
    tern_test_expect_asserts(&f->tp, TERN_DEBUG ? 2u : 0u);
    tern_netbuf_t *a = tern_netbuf_get(&f->pool, 64, 0);
    tern_netbuf_release(&f->pool, a);
    tern_netbuf_release(&f->pool, a);
    assert_int_equal(f->pool.bad_releases, 1);
    tern_netbuf_t fake;
    memset(&fake, 0, sizeof fake);
    tern_netbuf_release(&f->pool, &fake);
    assert_int_equal(f->pool.bad_releases, 2);
    assert_int_equal(tern_netbuf_free_count(&f->pool), TERN_NETBUF_COUNT);
    tern_netbuf_release(&f->pool, NULL);
    assert_int_equal(f->pool.bad_releases, 2);
    assert_int_equal(f->tp.asserts, TERN_DEBUG ? 2u : 0u);
}

static void test_release_chain(void **state)
{
    fixture_t *f = *state;
    tern_netbuf_t *head = NULL;
    for (int i = 0; i < 4; i++) {
        tern_netbuf_t *nb = tern_netbuf_get(&f->pool, 100, 0);
        nb->next = head;
        head = nb;
    }
    assert_int_equal(tern_netbuf_free_count(&f->pool), TERN_NETBUF_COUNT - 4);
    tern_netbuf_release_chain(&f->pool, head);
    assert_int_equal(tern_netbuf_free_count(&f->pool), TERN_NETBUF_COUNT);
}

/* The scheme decides where storage lives: the heap is touched only by HEAP,
 * at the exact size asked; STATIC storage shows as static memory. */
static void test_scheme_memory(void **state)
{
    fixture_t *f = *state;
    const tern_ledger_category_stats_t *c = tern_ledger_category(&f->ledger, TERN_MEM_NETWORK_BUFFER);
    tern_heap_stats_t before, during;
    tern_heap_get_stats(&f->heap, &before);
    tern_netbuf_t *nb = tern_netbuf_get(&f->pool, 300, 0);
    tern_heap_get_stats(&f->heap, &during);
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    assert_int_equal(c->bytes, TERN_NETBUF_FRAME_OFFSET + 300u);
    assert_int_equal(c->static_bytes, sizeof f->pool.bufs);
    assert_true(during.used > before.used);
    assert_int_equal(nb->capacity, 300);
    /* Shrink gives the tail back to the heap. */
    assert_int_equal(tern_netbuf_pull(nb, 14), TERN_OK);
    assert_int_equal(tern_netbuf_shrink(&f->pool, nb, 100), TERN_OK);
    assert_int_equal(nb->len, 86);
    assert_int_equal(c->bytes, TERN_NETBUF_FRAME_OFFSET + 100u);
    assert_ptr_equal(tern_netbuf_from_frame(&f->pool, tern_netbuf_frame(nb)), nb);
    /* Charging a socket for the buffer shows in the owner's books. */
    tern_netbuf_set_owner(&f->pool, nb, 6);
    assert_int_equal(tern_ledger_owner_bytes(&f->ledger, 6), TERN_NETBUF_FRAME_OFFSET + 100u);
#else
    assert_int_equal(during.used, before.used);
    assert_int_equal(c->bytes, 0);
    assert_int_equal(c->static_bytes, sizeof f->pool.bufs + sizeof f->pool.storage);
    assert_int_equal(tern_netbuf_pull(nb, 14), TERN_OK);
    assert_int_equal(tern_netbuf_shrink(&f->pool, nb, 100), TERN_OK);
    assert_int_equal(nb->len, 86);
    tern_netbuf_set_owner(&f->pool, nb, 6);
    assert_int_equal(tern_ledger_owner_bytes(&f->ledger, 6), 0);
#endif
    assert_int_equal(nb->owner, 6);
    assert_int_equal(tern_netbuf_shrink(&f->pool, nb, 10), TERN_ERR_INVAL); /* below data */
    assert_int_equal(tern_ledger_verify(&f->ledger), TERN_OK);
    tern_netbuf_release(&f->pool, nb);
    assert_int_equal(c->bytes, 0);
    assert_int_equal(tern_ledger_owner_bytes(&f->ledger, 6), 0);
}

/* HEAP storage failure: the get fails cleanly and loses no descriptor. */
static void test_storage_failure(void **state)
{
    fixture_t *f = *state;
    tern_ledger_fail_nth(&f->ledger, 1, 0);
    tern_netbuf_t *nb = tern_netbuf_get(&f->pool, 100, 0);
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    assert_null(nb);
    assert_int_equal(f->pool.exhausted, 1);
    assert_int_equal(tern_netbuf_free_count(&f->pool), TERN_NETBUF_COUNT);
#else
    assert_non_null(nb); /* STATIC never asks the heap */
    tern_netbuf_release(&f->pool, nb);
#endif
    tern_ledger_fail_nth(&f->ledger, 0, 0);
    nb = tern_netbuf_get(&f->pool, 100, 0);
    assert_non_null(nb);
    tern_netbuf_release(&f->pool, nb);
}

/* Waiting: the port's wait hook stands in for another thread. */
static tern_netbuf_t *g_to_release;
static int g_waits;

static int wait_then_release(void *ctx, uint32_t timeout_ms)
{
    (void)ctx;
    (void)timeout_ms;
    g_waits++;
    if (g_waits == 2 && g_to_release) {
        tern_netbuf_release(&g_fixture->pool, g_to_release);
        g_to_release = NULL;
        return 0;
    }
    g_fixture->tp.now += 10;
    return 0;
}

static int wait_times_out(void *ctx, uint32_t timeout_ms)
{
    (void)ctx;
    g_waits++;
    g_fixture->tp.now += timeout_ms;
    return TERN_ERR_TIMEOUT;
}

static void test_blocking_get(void **state)
{
    fixture_t *f = *state;
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    for (unsigned i = 0; i < TERN_NETBUF_COUNT; i++)
        held[i] = tern_netbuf_get(&f->pool, 64, 0);
    /* No wait hook: a timeout cannot block. */
    assert_null(tern_netbuf_get(&f->pool, 64, 100));
    f->tp.port.wait = wait_then_release;
    g_waits = 0;
    g_to_release = held[3];
    tern_netbuf_t *nb = tern_netbuf_get(&f->pool, 64, 1000);
    assert_ptr_equal(nb, held[3]);
    assert_int_equal(g_waits, 2);
    assert_int_equal(f->pool.waiters, 0);
    held[3] = nb;
    f->tp.port.wait = wait_times_out;
    g_waits = 0;
    assert_null(tern_netbuf_get(&f->pool, 64, 50));
    assert_int_equal(g_waits, 1);
    f->tp.port.wait = NULL;
    for (unsigned i = 0; i < TERN_NETBUF_COUNT; i++)
        tern_netbuf_release(&f->pool, held[i]);
    assert_int_equal(tern_netbuf_free_count(&f->pool), TERN_NETBUF_COUNT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_release_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers_push_pull, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_release_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scheme_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocking_get, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
