/* Network buffers at the edges test_netbuf.c leaves out (src/mem/netbuf.c;
 * issue 17, measured coverage), on both buffer schemes:
 *  - a blocking get whose wait hook wakes without a buffer (a spurious
 *    wake-up) until the time is up: NULL after the full timeout, the
 *    exhaustion counted, no waiter left;
 *  - shrink, set_owner and from_frame refuse a descriptor that is not in
 *    use or not the pool's; shrink refuses a length below the data offset
 *    or above the capacity; with HEAP storage a shrink whose realloc fails
 *    leaves the buffer as it was (TERN_ERR_NOMEM);
 *  - set_owner clamps the owner id.
 * Broken on purpose once: tern_netbuf_set_owner without its in-use check
 * failed test_refusals (a released buffer's owner changed). */
#include "tern_test.h"

#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/ledger.h"
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
static int g_waits;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tern_test_port_init(&f->tp, 8);
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
    assert_int_equal(tern_netbuf_free_count(&f->pool), TERN_NETBUF_COUNT);
    assert_int_equal(tern_ledger_verify(&f->ledger), TERN_OK);
    free(f);
    return 0;
}

/* Woken (not timed out) with nothing released, 30 ms later each time. */
static int wait_spurious(void *ctx, uint32_t timeout_ms)
{
    (void)ctx;
    (void)timeout_ms;
    g_waits++;
    assert_int_equal(g_fixture->pool.waiters, 1);
    g_fixture->tp.now += 30;
    return TERN_OK;
}

static void test_spurious_wakeups_time_out(void **state)
{
    fixture_t *f = *state;
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    for (unsigned i = 0; i < TERN_NETBUF_COUNT; i++)
        assert_non_null(held[i] = tern_netbuf_get(&f->pool, 64, 0));
    uint32_t ex = f->pool.exhausted;
    f->tp.port.wait = wait_spurious;
    g_waits = 0;
    uint32_t t0 = f->tp.now;
    assert_null(tern_netbuf_get(&f->pool, 64, 100));
    f->tp.port.wait = NULL;
    assert_int_equal(g_waits, 4); /* 30, 60, 90, 120 ms: past 100 */
    assert_true(f->tp.now - t0 >= 100u);
    assert_int_equal(f->pool.waiters, 0);
    assert_int_equal(f->pool.exhausted, ex + 1u);
    for (unsigned i = 0; i < TERN_NETBUF_COUNT; i++)
        tern_netbuf_release(&f->pool, held[i]);
}

static void test_refusals(void **state)
{
    fixture_t *f = *state;
    tern_netbuf_t *nb = tern_netbuf_get(&f->pool, 200, 0);
    assert_non_null(nb);
    tern_netbuf_t fake;
    memset(&fake, 0, sizeof fake);
    /* Not the pool's descriptor, or not in use. */
    assert_int_equal(tern_netbuf_shrink(&f->pool, &fake, 10), TERN_ERR_INVAL);
    assert_int_equal(tern_netbuf_shrink(&f->pool, (tern_netbuf_t *)(void *)((uint8_t *)nb + 1), 10), TERN_ERR_INVAL);
    /* Lengths: below the data's offset, above the capacity. */
    assert_int_equal(tern_netbuf_pull(nb, 14), TERN_OK);
    assert_int_equal(tern_netbuf_shrink(&f->pool, nb, 13), TERN_ERR_INVAL);
    assert_int_equal(tern_netbuf_shrink(&f->pool, nb, (size_t)nb->capacity + 1u), TERN_ERR_INVAL);
    assert_int_equal(nb->len, 186);
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    /* The realloc of a shrink fails: nothing changes. */
    uint16_t cap = nb->capacity;
    tern_ledger_fail_nth(&f->ledger, 1, 0);
    assert_int_equal(tern_netbuf_shrink(&f->pool, nb, 100), TERN_ERR_NOMEM);
    tern_ledger_fail_nth(&f->ledger, 0, 0);
    assert_int_equal(nb->capacity, cap);
    assert_int_equal(nb->len, 186);
#endif
    assert_int_equal(tern_netbuf_shrink(&f->pool, nb, 100), TERN_OK);
    assert_int_equal(nb->len, 86);
    /* Owner: clamped; a buffer not in use keeps its owner. */
    tern_netbuf_set_owner(&f->pool, nb, TERN_OWNER_MAX + 50u);
    assert_int_equal(nb->owner, TERN_OWNER_MAX);
    tern_netbuf_set_owner(&f->pool, nb, 4);
    assert_int_equal(nb->owner, 4);
    const uint8_t *frame = tern_netbuf_frame(nb);
    assert_ptr_equal(tern_netbuf_from_frame(&f->pool, frame), nb);
    assert_null(tern_netbuf_from_frame(&f->pool, frame + 8));
    assert_null(tern_netbuf_from_frame(&f->pool, (const void *)(uintptr_t)8u));
    tern_netbuf_release(&f->pool, nb);
    tern_netbuf_set_owner(&f->pool, nb, 9);
    assert_int_equal(nb->owner, 4);
    tern_netbuf_set_owner(&f->pool, &fake, 9);
    assert_int_equal(fake.owner, 0);
    assert_int_equal(tern_netbuf_shrink(&f->pool, nb, 50), TERN_ERR_INVAL);
    assert_null(tern_netbuf_from_frame(&f->pool, frame));
    /* Releasing a foreign descriptor is refused and counted. */
    uint32_t bad = f->pool.bad_releases;
    tern_test_expect_asserts(&f->tp, 1);
    tern_netbuf_release(&f->pool, &fake);
    assert_int_equal(f->pool.bad_releases, bad + 1u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_spurious_wakeups_time_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
