/* TERN_TEST_STATIC_VARIANT */
/* The ledger's edges on the stack's own ledger, on every variant (heap
 * backend) and on the static-only one (pool backend); issue 17, measured
 * coverage:
 *  - owner ids above TERN_OWNER_MAX are clamped, and every owner at or
 *    above TERN_LEDGER_OWNERS is booked in the shared "other" slot, which
 *    the text and JSON reports name;
 *  - a pointer that is not a live block is refused by realloc (complaint)
 *    and set_owner (TERN_ERR_INVAL), the books untouched;
 *  - an injected failure of a realloc keeps the block and counts it;
 *  - lookups with NULL arguments fail cleanly;
 *  - heap backend: a live block whose tag is not a ledger tag is refused
 *    by free (TERN_ERR_CORRUPT) and by verify;
 *  - pool backend: an arena too small or misaligned for the pools is
 *    refused; a free slot's pointer is not live; verify notices a slot
 *    header or a pool's count that disagrees with the books; the text
 *    report lists the pools.
 * Broken on purpose once: owner_slot returning the owner unclamped made
 * test_owner_other fail (the "other" figures stayed 0); ledger_table
 * skipping the pool listing made test_reports_name_other fail on the
 * static variant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/ledger.h"
#include "tern/stack.h"
#include "tern_test.h"

typedef struct fixture {
    tern_test_port_t tp;
    tern_stack_t *s;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tern_test_port_init(&f->tp, 17);
    f->tp.quiet = 1;
    f->s = malloc(sizeof *f->s);
    assert_non_null(f->s);
    assert_int_equal(tern_stack_init(f->s, &f->tp.port), TERN_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(tern_ledger_verify(&f->s->ledger), TERN_OK);
    tern_stack_deinit(f->s);
    free(f->s);
    free(f);
    return 0;
}

/* A category every backend serves with at least 64 bytes. */
#define CAT TERN_MEM_TCP_STREAM_RX

static void test_owner_other(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->s->ledger;
    size_t other = tern_ledger_owner_bytes(l, TERN_LEDGER_OWNERS);
    void *p = tern_mem_alloc(l, 64, CAT, TERN_OWNER_MAX + 7u);
    assert_non_null(p);
    /* Clamped to TERN_OWNER_MAX, booked as "other"; any id past the
     * maximum reads the same slot. */
    assert_int_equal(tern_ledger_owner_bytes(l, TERN_LEDGER_OWNERS), other + 64u);
    assert_int_equal(tern_ledger_owner_bytes(l, TERN_OWNER_MAX + 9u), other + 64u);
    assert_int_equal(tern_mem_set_owner(l, p, TERN_OWNER_MAX + 3u), TERN_OK);
    assert_int_equal(tern_ledger_owner_bytes(l, TERN_OWNER_MAX), other + 64u);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    assert_int_equal(tern_mem_set_owner(l, p, 2), TERN_OK);
    assert_int_equal(tern_ledger_owner_bytes(l, 2), 64u);
    assert_int_equal(tern_ledger_owner_bytes(l, TERN_LEDGER_OWNERS), other);
    assert_int_equal(tern_mem_free(l, p), TERN_OK);
    assert_int_equal(tern_ledger_owner_bytes(l, 2), 0u);
}

static void test_reports_name_other(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->s->ledger;
    void *p = tern_mem_alloc(l, 40, CAT, TERN_LEDGER_OWNERS + 1u);
    assert_non_null(p);
    tern_test_sink_t *sink = calloc(1, sizeof *sink);
    assert_non_null(sink);
    tern_ledger_report_text(l, tern_test_sink_write, sink);
    assert_non_null(strstr(sink->text, "owners: "));
    assert_non_null(strstr(sink->text, "other 40"));
#if TERN_STATIC_ONLY
    assert_non_null(strstr(sink->text, "pool of            slot   slots    used    peak\n"));
    assert_non_null(strstr(sink->text, "TCP_STREAM_RX"));
    assert_non_null(strstr(sink->text, "  = pools used\n"));
#else
    assert_non_null(strstr(sink->text, "  = heap used\n"));
#endif
    tern_test_sink_reset(sink);
    tern_ledger_report_json(l, tern_test_sink_write, sink);
    assert_non_null(strstr(sink->text, "{\"owner\":\"other\",\"bytes\":40}"));
    free(sink);
    assert_int_equal(tern_mem_free(l, p), TERN_OK);
}

static void test_not_live_refused(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->s->ledger;
    const tern_ledger_category_stats_t *c = tern_ledger_category(l, CAT);
    void *p = tern_mem_alloc(l, 64, CAT, 1);
    assert_non_null(p);
    size_t bytes = c->bytes;
    int not_live = 0;
    tern_test_expect_asserts(&f->tp, 1);
    assert_null(tern_mem_realloc(l, &not_live, 32));
    assert_int_equal(tern_mem_set_owner(l, &not_live, 3), TERN_ERR_INVAL);
    assert_int_equal(c->bytes, bytes);
    assert_int_equal(tern_ledger_owner_bytes(l, 3), 0u);
    /* Fault injection: the realloc fails, the block is kept and counted. */
    uint32_t fails = c->failures;
    memset(p, 0x33, 64);
    tern_ledger_fail_nth(l, 1, 0);
    assert_null(tern_mem_realloc(l, p, 48));
    tern_ledger_fail_nth(l, 0, 0);
    assert_int_equal(c->failures, fails + 1u);
    assert_int_equal(tern_mem_size(l, p), 64u);
    assert_int_equal(((uint8_t *)p)[63], 0x33);
    assert_int_equal(tern_mem_free(l, p), TERN_OK);
    /* The same injected failure on an allocation. */
    tern_ledger_fail_nth(l, 1, 0);
    assert_null(tern_mem_alloc(l, 64, CAT, 1));
    tern_ledger_fail_nth(l, 0, 0);
    assert_int_equal(c->failures, fails + 2u);
    /* A freed block is no longer live either (the heap complains too). */
    tern_test_expect_asserts(&f->tp, TERN_STATIC_ONLY ? 1u : 2u);
    assert_int_equal(tern_mem_free(l, p), TERN_ERR_CORRUPT);
    assert_int_equal(tern_mem_set_owner(l, p, 3), TERN_ERR_INVAL);
    assert_int_equal(tern_mem_size(l, p), 0u);
}

static void test_lookups_null(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(tern_ledger_find_category(NULL, "x"), TERN_ERR_NOTFOUND);
    assert_int_equal(tern_ledger_find_category(&f->s->ledger, NULL), TERN_ERR_NOTFOUND);
    assert_int_equal(tern_ledger_find_category(&f->s->ledger, "no such category"), TERN_ERR_NOTFOUND);
    assert_int_equal(tern_ledger_register_category(NULL, "x"), TERN_ERR_INVAL);
    assert_int_equal(tern_ledger_register_category(&f->s->ledger, NULL), TERN_ERR_INVAL);
    assert_null(tern_ledger_category(&f->s->ledger, TERN_MEM_CATEGORY_COUNT));
    assert_string_equal(tern_mem_category_name(TERN_MEM_CATEGORY_COUNT), "UNKNOWN");
}

#if !TERN_STATIC_ONLY
/* A live heap block whose tag names no category is not the ledger's. */
static void test_foreign_tag(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->s->ledger;
    void *p = tern_mem_alloc(l, 64, CAT, 1);
    assert_non_null(p);
    int32_t tag = tern_heap_get_tag(l->heap, p);
    assert_true(tag >= 0);
    assert_int_equal(tern_heap_set_tag(l->heap, p, 63u << 8), TERN_OK);
    tern_test_expect_asserts(&f->tp, 2);
    assert_int_equal(tern_mem_free(l, p), TERN_ERR_CORRUPT);
    assert_int_equal(tern_ledger_verify(l), TERN_ERR_CORRUPT);
    /* Put the tag back: the ledger takes the block again. */
    assert_int_equal(tern_heap_set_tag(l->heap, p, (uint32_t)tag), TERN_OK);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    assert_int_equal(tern_mem_free(l, p), TERN_OK);
}
#else
static void test_pools_init_refused(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = malloc(sizeof *l);
    assert_non_null(l);
    size_t need = tern_ledger_pool_bytes();
    uint8_t *arena = aligned_alloc(8, need + 8u);
    assert_non_null(arena);
    tern_ledger_init(l, NULL, &f->tp.port);
    tern_test_expect_asserts(&f->tp, 2);
    assert_int_equal(tern_ledger_pools_init(l, arena, need - 1u), TERN_ERR_NOMEM);
    assert_int_equal(tern_ledger_pools_init(l, arena + 4, need), TERN_ERR_NOMEM);
    assert_null(tern_ledger_pool(l, 0));
    assert_int_equal(tern_ledger_pools_init(l, arena, need), TERN_OK);
    assert_non_null(tern_ledger_pool(l, 0));
    free(arena);
    free(l);
}

static void test_pool_verify_detects(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->s->ledger;
    void *p = tern_mem_alloc(l, 64, CAT, 1);
    void *q = tern_mem_alloc(l, 64, CAT, 1);
    assert_non_null(p);
    assert_non_null(q);
    assert_int_equal(tern_mem_free(l, q), TERN_OK);
    /* q's slot is free now: not a live block. */
    tern_test_expect_asserts(&f->tp, 1);
    assert_int_equal(tern_mem_free(l, q), TERN_ERR_CORRUPT);
    /* A slot header claiming more than its slot holds. */
    uint32_t *size = (uint32_t *)(void *)((uint8_t *)p - 8);
    uint32_t saved = *size;
    *size = 0xFFFFFFu;
    tern_test_expect_asserts(&f->tp, 1);
    assert_int_equal(tern_ledger_verify(l), TERN_ERR_CORRUPT);
    /* A size the books do not have. */
    *size = saved - 1u;
    tern_test_expect_asserts(&f->tp, 1);
    assert_int_equal(tern_ledger_verify(l), TERN_ERR_CORRUPT);
    *size = saved;
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    /* A pool counting one slot more in use than it has. */
    tern_pool_t *pool = NULL;
    for (unsigned i = 0; tern_ledger_pool(l, i) != NULL; i++)
        if (tern_ledger_pool(l, i)->used != 0u)
            pool = (tern_pool_t *)(uintptr_t)tern_ledger_pool(l, i);
    assert_non_null(pool);
    pool->used++;
    tern_test_expect_asserts(&f->tp, 1);
    assert_int_equal(tern_ledger_verify(l), TERN_ERR_CORRUPT);
    pool->used--;
    /* Owner books off by one byte. */
    l->owner_bytes[1]++;
    tern_test_expect_asserts(&f->tp, 1);
    assert_int_equal(tern_ledger_verify(l), TERN_ERR_CORRUPT);
    l->owner_bytes[1]--;
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    assert_int_equal(tern_mem_free(l, p), TERN_OK);
}

/* realloc past its slot moves the block to a larger pool of the category
 * (TERN_MEM_SOCKET has several) with its bytes; a pointer inside a slot
 * but not at its start is not live. */
static void test_pool_realloc_moves(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->s->ledger;
    const tern_pool_t *small = NULL, *p;
    for (unsigned i = 0; (p = tern_ledger_pool(l, i)) != NULL; i++)
        if (p->cat == TERN_MEM_SOCKET && p->used < p->def->count && (small == NULL || p->def->size < small->def->size))
            small = p;
    assert_non_null(small);
    size_t n = small->def->size;
    uint8_t *a = tern_mem_alloc(l, n, TERN_MEM_SOCKET, 5);
    assert_non_null(a);
    memset(a, 0x6B, n);
    assert_null(tern_mem_realloc(l, a, 0));
    assert_null(tern_mem_realloc(l, NULL, 8));
    tern_test_expect_asserts(&f->tp, 2);
    assert_null(tern_mem_realloc(l, a + 4, 8));
    assert_int_equal(tern_mem_set_owner(l, a + 4, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_mem_free(l, a + 4), TERN_ERR_CORRUPT);
    uint32_t small_used = small->used;
    uint8_t *b = tern_mem_realloc(l, a, n + 1u);
    assert_non_null(b);
    assert_ptr_not_equal(b, a);
    assert_int_equal(small->used, small_used - 1u);
    assert_int_equal(tern_mem_size(l, b), n + 1u);
    assert_int_equal(b[0], 0x6B);
    assert_int_equal(b[n - 1u], 0x6B);
    assert_int_equal(tern_ledger_owner_bytes(l, 5), n + 1u);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    assert_int_equal(tern_mem_free(l, b), TERN_OK);
    assert_int_equal(tern_ledger_owner_bytes(l, 5), 0u);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_owner_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_name_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_live_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookups_null, setup, teardown),
#if !TERN_STATIC_ONLY
        cmocka_unit_test_setup_teardown(test_foreign_tag, setup, teardown),
#else
        cmocka_unit_test_setup_teardown(test_pools_init_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_verify_detects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_realloc_moves, setup, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
