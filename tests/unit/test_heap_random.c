/* tern_heap against a reference model: over a million mixed alloc, free and
 * realloc operations on several regions, checking after each one the
 * contents of every block touched, that no two live blocks overlap (a shadow
 * map of owners per 8-byte granule), the statistics to the byte, and at
 * intervals the whole heap (tern_heap_check), the free blocks (maximal free
 * runs of the shadow map) and the placement rule (first fit from the
 * bottom; blocks of TERN_HEAP_LARGE_BLOCK or more from the top). Seeded: TERN_TEST_SEED=n replays a
 * run. TERN_TEST_ONE_VARIANT (the heap does not depend on the variant). */
#include "tern_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/heap.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define OPS 1200000u
/* tern_heap_check after every operation for the first FULL_CHECK_OPS, then
 * every CHECK_EVERY. Under ASan each check is several times slower: the
 * first 100,000 keep the run near 35 s instead of 60 s. */
#define FULL_CHECK_OPS (UNDER_ASAN ? 100000u : 200000u)
#define CHECK_EVERY 64u
#define NREG 4
#define NSLOTS 2048
#define HDR 8u

_Static_assert(NREG <= TERN_HEAP_MAX_REGIONS, "the test uses NREG regions");

static const size_t region_len[NREG] = {32768u + 5u, 8192u, 49152u, 2048u + 3u};

typedef struct slot {
    uint8_t *p;
    size_t size;  /* requested */
    size_t gross; /* block size */
    uint32_t tag;
    uint8_t seed;
    unsigned pos; /* index in live[] */
} slot_t;

typedef struct region {
    uint8_t *base; /* malloc'd */
    uint8_t *start; /* first header: base rounded up to 8 */
    uint8_t *end;   /* end marker: (base + len) rounded down, less 8 */
    uint16_t *owner; /* per granule: slot + 1, or 0 when free */
    size_t granules;
} region_t;

typedef struct model {
    tern_test_port_t tp;
    tern_heap_t heap;
    region_t reg[NREG]; /* address order */
    slot_t slot[NSLOTS];
    unsigned live[NSLOTS];
    unsigned nlive;
    unsigned spare[NSLOTS];
    unsigned nspare;
    size_t total, used, min_free;
    uint32_t allocs, frees, failures, bad_frees;
    unsigned ops_in_place, ops_moved, first_fit_checks, failure_checks;
} model_t;

static size_t min_block(void)
{
    return (HDR + 2u * sizeof(void *) + 4u + 7u) & ~(size_t)7u;
}

static size_t gross(size_t n)
{
    size_t g = (n + HDR + 7u) & ~(size_t)7u;
    return g < min_block() ? min_block() : g;
}

static uint32_t rnd(model_t *m)
{
    return tern_test_rand(&m->tp);
}

/* Sizes skewed small, some large. */
static size_t random_size(model_t *m)
{
    uint32_t r = rnd(m) % 1000u;
    if (r < 600u)
        return 1u + rnd(m) % 64u;
    if (r < 850u)
        return 65u + rnd(m) % 448u;
    if (r < 970u)
        return 513u + rnd(m) % 3584u;
    if (r < 997u)
        return 4097u + rnd(m) % 12288u;
    return 16385u + rnd(m) % 24576u; /* only fits the largest region */
}

static uint8_t pattern(uint8_t seed, size_t i)
{
    return (uint8_t)(seed + i * 131u + (i >> 8));
}

static void fill(uint8_t *p, size_t from, size_t to, uint8_t seed)
{
    for (size_t i = from; i < to; i++)
        p[i] = pattern(seed, i);
}

static void verify(const slot_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s->p[i] != pattern(s->seed, i))
            fail_msg("block %p (%zu bytes) corrupted at byte %zu", (void *)s->p, s->size, i);
    }
}

static region_t *region_of(model_t *m, const uint8_t *h)
{
    for (int r = 0; r < NREG; r++)
        if (h >= m->reg[r].start && h < m->reg[r].end)
            return &m->reg[r];
    fail_msg("block %p outside every region", (const void *)h);
    return NULL;
}

/* Claim [h, h + g) for owner in the shadow map: every granule must be free. */
static void shadow_claim(model_t *m, const uint8_t *h, size_t g, uint16_t owner)
{
    region_t *r = region_of(m, h);
    size_t first = (size_t)(h - r->start) / 8u, n = g / 8u;
    if ((size_t)(h - r->start) % 8u != 0u || first + n > r->granules)
        fail_msg("block %p + %zu does not fit its region", (const void *)h, g);
    for (size_t i = first; i < first + n; i++) {
        if (r->owner[i] != 0u)
            fail_msg("block %p + %zu overlaps live block %u", (const void *)h, g, r->owner[i] - 1u);
        r->owner[i] = owner;
    }
}

static void shadow_release(model_t *m, const uint8_t *h, size_t g)
{
    region_t *r = region_of(m, h);
    size_t first = (size_t)(h - r->start) / 8u;
    for (size_t i = first; i < first + g / 8u; i++)
        r->owner[i] = 0;
}

/* Free runs of the shadow map: with immediate coalescing each one is exactly
 * one free block. */
static void shadow_runs(const model_t *m, size_t *count, size_t *largest)
{
    *count = 0;
    *largest = 0;
    for (int r = 0; r < NREG; r++) {
        size_t run = 0;
        for (size_t i = 0; i <= m->reg[r].granules; i++) {
            if (i < m->reg[r].granules && m->reg[r].owner[i] == 0u) {
                run++;
                continue;
            }
            if (run > 0) {
                (*count)++;
                if (run * 8u > *largest)
                    *largest = run * 8u;
            }
            run = 0;
        }
    }
}

/* First fit: the lowest-addressed free run of at least g bytes (NULL if none). */
static uint8_t *shadow_first_fit(const model_t *m, size_t g)
{
    for (int r = 0; r < NREG; r++) {
        size_t run = 0;
        for (size_t i = 0; i <= m->reg[r].granules; i++) {
            if (i < m->reg[r].granules && m->reg[r].owner[i] == 0u) {
                run++;
                continue;
            }
            if (run * 8u >= g)
                return m->reg[r].start + (i - run) * 8u;
            run = 0;
        }
    }
    return NULL;
}

/* A large block (gross >= TERN_HEAP_LARGE_BLOCK) goes to the highest free
 * run that fits, at its top, unless the rest below could not stand alone
 * as a free block (then the whole run, from its start). */
static uint8_t *shadow_top_fit(const model_t *m, size_t g)
{
    for (int r = NREG - 1; r >= 0; r--) {
        uint8_t *best = NULL;
        size_t run = 0;
        for (size_t i = 0; i <= m->reg[r].granules; i++) {
            if (i < m->reg[r].granules && m->reg[r].owner[i] == 0u) {
                run++;
                continue;
            }
            if (run * 8u >= g)
                best = run * 8u - g >= min_block() ? m->reg[r].start + i * 8u - g : m->reg[r].start + (i - run) * 8u;
            run = 0;
        }
        if (best != NULL)
            return best;
    }
    return NULL;
}

/* Where the heap must place a block of g bytes (include/tern/heap.h). */
static uint8_t *shadow_fit(const model_t *m, size_t g)
{
    if (TERN_HEAP_LARGE_BLOCK != 0u && g >= TERN_HEAP_LARGE_BLOCK)
        return shadow_top_fit(m, g);
    return shadow_first_fit(m, g);
}

static void note_free_level(model_t *m, size_t used_now)
{
    if (m->total - used_now < m->min_free)
        m->min_free = m->total - used_now;
}

static void check_stats(model_t *m)
{
    tern_heap_stats_t s;
    tern_heap_get_stats(&m->heap, &s);
    if (s.used != m->used || s.free != m->total - m->used || s.total != m->total || s.used_blocks != m->nlive ||
        s.min_free != m->min_free || s.allocs != m->allocs || s.frees != m->frees || s.failures != m->failures ||
        s.bad_frees != m->bad_frees)
        fail_msg("stats differ: used %zu/%zu blocks %zu/%u min_free %zu/%zu allocs %u/%u frees %u/%u "
                 "failures %u/%u bad %u/%u",
                 s.used, m->used, s.used_blocks, m->nlive, s.min_free, m->min_free, s.allocs, m->allocs, s.frees,
                 m->frees, s.failures, m->failures, s.bad_frees, m->bad_frees);
}

static void check_full(model_t *m)
{
    if (tern_heap_check(&m->heap) != TERN_OK)
        fail_msg("tern_heap_check failed");
    size_t runs, largest;
    shadow_runs(m, &runs, &largest);
    tern_heap_stats_t s;
    tern_heap_get_stats(&m->heap, &s);
    if (s.free_blocks != runs || s.largest_free_block != largest ||
        s.largest_alloc != (largest ? largest - HDR : 0u))
        fail_msg("free blocks %zu/%zu largest %zu/%zu", s.free_blocks, runs, s.largest_free_block, largest);
}

static void check_block(model_t *m, const slot_t *s)
{
    size_t g = tern_heap_block_size(&m->heap, s->p);
    if (g != s->gross || tern_heap_get_tag(&m->heap, s->p) != (int32_t)s->tag)
        fail_msg("block %p: size %zu/%zu tag %d/%u", (void *)s->p, g, s->gross,
                 (int)tern_heap_get_tag(&m->heap, s->p), s->tag);
}

/* The block size the heap may give for a request: gross(n) plus a rest too
 * small to stand alone; padding always fits the ledger's 8 bits. */
static void check_gross(size_t got, size_t n)
{
    if (got < gross(n) || got - gross(n) >= min_block() || got % 8u != 0u || got - n >= 256u)
        fail_msg("block of %zu bytes for a request of %zu", got, n);
}

static void op_alloc(model_t *m, int check_fit)
{
    if (m->nspare == 0)
        return;
    size_t n = random_size(m);
    uint32_t tag = rnd(m) % (TERN_HEAP_TAG_MAX + 1u);
    uint8_t *want = check_fit ? shadow_fit(m, gross(n)) : NULL;
    uint8_t *p = tern_heap_alloc(&m->heap, n, tag);
    if (p == NULL) {
        m->failures++;
        if (check_fit) {
            m->failure_checks++;
            if (want != NULL)
                fail_msg("alloc of %zu failed with a free run at %p", n, (void *)want);
        }
        return;
    }
    if ((uintptr_t)p % 8u != 0u)
        fail_msg("misaligned %p", (void *)p);
    if (check_fit) {
        m->first_fit_checks++;
        if (p - HDR != want)
            fail_msg("alloc of %zu at %p, the placement rule says %p", n, (void *)(p - HDR), (void *)want);
    }
    unsigned id = m->spare[--m->nspare];
    slot_t *s = &m->slot[id];
    s->p = p;
    s->size = n;
    s->gross = tern_heap_block_size(&m->heap, p);
    check_gross(s->gross, n);
    s->tag = tag;
    s->seed = (uint8_t)rnd(m);
    s->pos = m->nlive;
    m->live[m->nlive++] = id;
    shadow_claim(m, p - HDR, s->gross, (uint16_t)(id + 1u));
    fill(p, 0, n, s->seed);
    m->allocs++;
    m->used += s->gross;
    note_free_level(m, m->used);
}

static void drop_slot(model_t *m, unsigned id)
{
    slot_t *s = &m->slot[id];
    unsigned last = m->live[--m->nlive];
    m->live[s->pos] = last;
    m->slot[last].pos = s->pos;
    m->spare[m->nspare++] = id;
    s->p = NULL;
}

static void op_free(model_t *m, int double_free)
{
    if (m->nlive == 0)
        return;
    unsigned id = m->live[rnd(m) % m->nlive];
    slot_t *s = &m->slot[id];
    check_block(m, s);
    verify(s, s->size);
    uint8_t *p = s->p;
    if (tern_heap_free(&m->heap, p) != TERN_OK)
        fail_msg("free of live block %p refused", (void *)p);
    m->frees++;
    m->used -= s->gross;
    shadow_release(m, p - HDR, s->gross);
    drop_slot(m, id);
    if (double_free) {
        /* Right after its free the header is free or wiped: refused, and
         * reported once as an internal assertion in debug builds. */
        tern_test_expect_asserts(&m->tp, TERN_DEBUG ? 1u : 0u);
        if (tern_heap_free(&m->heap, p) != TERN_ERR_CORRUPT)
            fail_msg("double free of %p accepted", (void *)p);
        assert_int_equal(m->tp.asserts, m->tp.asserts_expected);
        m->bad_frees++;
    }
}

static void op_realloc(model_t *m)
{
    if (m->nlive == 0)
        return;
    unsigned id = m->live[rnd(m) % m->nlive];
    slot_t *s = &m->slot[id];
    check_block(m, s);
    verify(s, s->size);
    size_t n;
    uint32_t r = rnd(m) % 4u;
    if (r == 0u)
        n = random_size(m);
    else if (r == 1u) /* shrink a little */
        n = s->size > 1u ? s->size - 1u - rnd(m) % (s->size - 1u < 64u ? s->size - 1u : 64u) : 1u;
    else /* grow a little */
        n = s->size + 1u + rnd(m) % 96u;
    uint8_t *old = s->p;
    uint8_t *p = tern_heap_realloc(&m->heap, old, n);
    if (p == NULL) {
        m->failures++;
        check_block(m, s);
        verify(s, s->size);
        return;
    }
    size_t g = tern_heap_block_size(&m->heap, p);
    check_gross(g, n);
    if (p == old) {
        m->ops_in_place++;
        shadow_release(m, old - HDR, s->gross);
        shadow_claim(m, p - HDR, g, (uint16_t)(id + 1u));
        m->used = m->used - s->gross + g;
        note_free_level(m, m->used);
    } else {
        /* Moved: the new block was taken while the old one was still live. */
        m->ops_moved++;
        shadow_claim(m, p - HDR, g, (uint16_t)(id + 1u));
        shadow_release(m, old - HDR, s->gross);
        note_free_level(m, m->used + g);
        m->used = m->used - s->gross + g;
        m->allocs++;
        m->frees++;
        if (tern_heap_block_size(&m->heap, old) != 0u && old != p)
            fail_msg("old block %p still live after a move", (void *)old);
    }
    size_t keep = n < s->size ? n : s->size;
    s->p = p;
    s->gross = g;
    verify(s, keep);
    fill(p, keep, n, s->seed);
    s->size = n;
}

static void print_fragmentation(model_t *m, unsigned op)
{
    tern_heap_stats_t s;
    tern_heap_get_stats(&m->heap, &s);
    printf("after %7u ops: live %4zu used %6zu free %6zu largest free %6zu free blocks %3zu min_free %6zu "
           "failures %u\n",
           op, s.used_blocks, s.used, s.free, s.largest_free_block, s.free_blocks, s.min_free, s.failures);
}

static void test_random_against_model(void **state)
{
    (void)state;
    static model_t model;
    model_t *m = &model;
    memset(m, 0, sizeof *m);
    uint64_t seed = tern_test_seed(20240611u);
    tern_test_port_init(&m->tp, seed);
    m->tp.quiet = 1;
    tern_heap_init(&m->heap, &m->tp.port);

    /* Regions from separate allocations (addresses in no particular order),
     * two of them misaligned, added in a seed-dependent order. */
    for (int r = 0; r < NREG; r++) {
        region_t *g = &m->reg[r];
        g->base = malloc(region_len[r] + 8u);
        assert_non_null(g->base);
        uint8_t *b = g->base + (r % 2 ? 3u : 0u);
        g->start = (uint8_t *)(((uintptr_t)b + 7u) & ~(uintptr_t)7u);
        g->end = (uint8_t *)(((uintptr_t)b + region_len[r]) & ~(uintptr_t)7u) - HDR;
        g->granules = (size_t)(g->end - g->start) / 8u;
        g->owner = calloc(g->granules, sizeof *g->owner);
        assert_non_null(g->owner);
    }
    unsigned order[NREG] = {0, 1, 2, 3};
    for (int i = NREG - 1; i > 0; i--) {
        unsigned j = rnd(m) % (unsigned)(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < NREG; i++) {
        region_t *g = &m->reg[order[i]];
        uint8_t *b = g->base + (order[i] % 2 ? 3u : 0u);
        assert_int_equal(tern_heap_add_region(&m->heap, b, region_len[order[i]]), TERN_OK);
        m->total += (size_t)(g->end - g->start);
    }
    /* The model keeps regions in address order for first fit. */
    for (int i = 1; i < NREG; i++)
        for (int j = i; j > 0 && m->reg[j].start < m->reg[j - 1].start; j--) {
            region_t t = m->reg[j];
            m->reg[j] = m->reg[j - 1];
            m->reg[j - 1] = t;
        }
    m->min_free = m->total;
    for (unsigned i = 0; i < NSLOTS; i++)
        m->spare[m->nspare++] = NSLOTS - 1u - i;
    check_stats(m);
    check_full(m);

    for (unsigned op = 0; op < OPS; op++) {
        /* Phases of 40,000 ops alternate between filling and draining, so the
         * heap both runs full and goes through many fragmentation levels. */
        int filling = (op / 40000u) % 2u == 0u;
        int sampled = op < FULL_CHECK_OPS / 8u || op % CHECK_EVERY == 0u;
        uint32_t r = rnd(m) % 100u;
        if (r < (filling ? 52u : 40u))
            op_alloc(m, sampled);
        else if (r < 85u)
            op_free(m, rnd(m) % 64u == 0u);
        else
            op_realloc(m);
        check_stats(m);
        if (op < FULL_CHECK_OPS || op % CHECK_EVERY == 0u) {
            if (tern_heap_check(&m->heap) != TERN_OK)
                fail_msg("tern_heap_check failed after op %u", op);
        }
        if (sampled && op % CHECK_EVERY == 0u)
            check_full(m);
        if (op % 200000u == 0u && op > 0)
            print_fragmentation(m, op);
    }
    print_fragmentation(m, OPS);
    check_full(m);
    printf("realloc in place %u, moved %u; first-fit checks %u, failure checks %u\n", m->ops_in_place,
           m->ops_moved, m->first_fit_checks, m->failure_checks);
    assert_true(m->failures > 0);
    assert_true(m->ops_in_place > 1000 && m->ops_moved > 1000);

    /* Free everything, in random order: one free block per region. */
    while (m->nlive > 0) {
        op_free(m, 0);
        check_stats(m);
    }
    check_full(m);
    tern_heap_stats_t s;
    tern_heap_get_stats(&m->heap, &s);
    assert_int_equal(s.free, s.total);
    assert_int_equal(s.used, 0);
    assert_int_equal(s.free_blocks, NREG);
    assert_int_equal(s.used_blocks, 0);
    assert_int_equal(s.allocs, s.frees);
    size_t largest = 0;
    for (int r = 0; r < NREG; r++)
        if ((size_t)(m->reg[r].end - m->reg[r].start) > largest)
            largest = (size_t)(m->reg[r].end - m->reg[r].start);
    assert_int_equal(s.largest_free_block, largest);
    printf("ops %u, allocs %u, frees %u, failures %u, bad frees %u, min_free %zu of %zu\n", OPS, s.allocs, s.frees,
           s.failures, s.bad_frees, s.min_free, s.total);
    for (int r = 0; r < NREG; r++) {
        free(m->reg[r].base);
        free(m->reg[r].owner);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
