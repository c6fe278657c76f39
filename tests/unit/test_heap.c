/* tern_heap: every function, coalescing, first fit, splitting, alignment,
 * regions, realloc, exact statistics, bad frees and corruption detection.
 * Expected figures are computed here from the layout rules in heap.h, not
 * read back from the heap. TERN_TEST_ONE_VARIANT (the heap does not depend
 * on the network buffer scheme). */
#include "tern_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/heap.h"

/* ---- the layout rules, restated independently ---------------------------- */

#define HDR 8u
#define USED 1u
#define PREV_FREE 2u
#define FREE_TAG 0xFFFFFFu

static size_t min_block(void)
{
    /* header + two free-list pointers + 4-byte footer, rounded to 8 */
    return (HDR + 2u * sizeof(void *) + 4u + 7u) & ~(size_t)7u;
}

static size_t gross(size_t n)
{
    size_t g = (n + HDR + 7u) & ~(size_t)7u;
    return g < min_block() ? min_block() : g;
}

static uint32_t rd32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void wr32(void *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* The documented check byte: CRC-8 (poly 0x07, init 0, MSB first) over the 4
 * little-endian bytes of size|USED and the 3 bytes of the tag, plus the
 * header address / 8 (64-bit addresses folded to 32 bits), mod 256. */
static uint8_t ref_check(uint32_t size_used, uint32_t tag, const void *hdr)
{
    uint8_t bytes[7] = {(uint8_t)size_used, (uint8_t)(size_used >> 8), (uint8_t)(size_used >> 16),
                        (uint8_t)(size_used >> 24), (uint8_t)tag, (uint8_t)(tag >> 8), (uint8_t)(tag >> 16)};
    uint8_t crc = 0;
    for (size_t i = 0; i < sizeof bytes; i++) {
        crc ^= bytes[i];
        for (int b = 0; b < 8; b++)
            crc = (uint8_t)((crc & 0x80u) ? ((unsigned)crc << 1) ^ 0x07u : (unsigned)crc << 1);
    }
    uint64_t a = (uint64_t)(uintptr_t)hdr >> 3;
    return (uint8_t)(crc + (uint8_t)((uint32_t)a ^ (uint32_t)(a >> 32)));
}

/* Write a header with a valid check byte (to craft corruption). */
static void craft_header(void *hdr, uint32_t size, uint32_t flags, uint32_t tag)
{
    wr32(hdr, size | flags);
    wr32((uint8_t *)hdr + 4, (tag << 8) | ref_check(size | (flags & USED), tag, hdr));
}

/* ---- fixture ------------------------------------------------------------- */

typedef struct cap_port {
    tern_port_t port;
    unsigned logs;
    unsigned asserts;
    char last[256];
} cap_port_t;

static void cap_log(void *ctx, int level, const char *msg)
{
    cap_port_t *c = ctx;
    (void)level;
    c->logs++;
    snprintf(c->last, sizeof c->last, "%s", msg);
}

static void cap_assert(void *ctx, const char *what)
{
    cap_port_t *c = ctx;
    (void)what;
    c->asserts++; /* count only: tests provoke these on purpose */
}

#define ARENA 4096u

typedef struct fixture {
    cap_port_t cap;
    tern_heap_t heap;
    uint8_t *arena; /* malloc'd: ASan sees any write outside it */
    size_t total;
} fixture_t;

static void fx_port(cap_port_t *c)
{
    memset(c, 0, sizeof *c);
    c->port.ctx = c;
    c->port.log = cap_log;
    c->port.assert_failed = cap_assert;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fx_port(&f->cap);
    f->arena = malloc(ARENA);
    assert_non_null(f->arena);
    assert_int_equal((uintptr_t)f->arena % 8u, 0);
    tern_heap_init(&f->heap, &f->cap.port);
    assert_int_equal(tern_heap_add_region(&f->heap, f->arena, ARENA), TERN_OK);
    f->total = ARENA - HDR; /* less the end marker */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    free(f->arena);
    free(f);
    return 0;
}

static tern_heap_stats_t stats(const tern_heap_t *heap)
{
    tern_heap_stats_t s;
    tern_heap_get_stats(heap, &s);
    return s;
}

/* ---- layout capture through tern_heap_walk ------------------------------- */

typedef struct blk {
    size_t off; /* header offset from base */
    size_t size;
    int used;
} blk_t;

typedef struct layout {
    const uint8_t *base;
    blk_t b[512];
    size_t n;
    uint32_t tags[512];
} layout_t;

static int layout_cb(void *ctx, void *payload, size_t size, int used, uint32_t tag)
{
    layout_t *l = ctx;
    assert_true(l->n < 512);
    l->b[l->n].off = (size_t)((uint8_t *)payload - HDR - l->base);
    l->b[l->n].size = size;
    l->b[l->n].used = used;
    l->tags[l->n] = tag;
    l->n++;
    return 0;
}

static void expect_layout(const tern_heap_t *heap, const uint8_t *base, const blk_t *want, size_t n)
{
    static layout_t l;
    memset(&l, 0, sizeof l);
    l.base = base;
    assert_int_equal(tern_heap_walk(heap, layout_cb, &l), 0);
    for (size_t i = 0; i < n && i < l.n; i++) {
        if (l.b[i].off != want[i].off || l.b[i].size != want[i].size || l.b[i].used != want[i].used)
            fail_msg("block %zu: got off %zu size %zu used %d, want off %zu size %zu used %d", i, l.b[i].off,
                     l.b[i].size, l.b[i].used, want[i].off, want[i].size, want[i].used);
    }
    assert_int_equal(l.n, n);
    assert_int_equal(tern_heap_check(heap), TERN_OK);
}

/* ---- tests --------------------------------------------------------------- */

static void test_constants(void **state)
{
    (void)state;
    assert_int_equal(TERN_HEAP_MIN_BLOCK, min_block());
    assert_int_equal(TERN_HEAP_MIN_BLOCK, sizeof(void *) == 8 ? 32 : 24);
    assert_int_equal(TERN_HEAP_HEADER, 8);
    assert_int_equal(TERN_HEAP_ALIGN, 8);
    assert_int_equal(gross(1), min_block());
    assert_int_equal(gross(24), 32);
    assert_int_equal(gross(25), 40);
    assert_int_equal(gross(100), 112);
}

static void test_init_empty(void **state)
{
    (void)state;
    tern_heap_t heap;
    memset(&heap, 0xA5, sizeof heap);
    tern_heap_init(&heap, NULL);
    tern_heap_stats_t s = stats(&heap);
    assert_int_equal(s.total, 0);
    assert_int_equal(s.free, 0);
    assert_int_equal(s.used, 0);
    assert_int_equal(s.largest_free_block, 0);
    assert_int_equal(s.largest_alloc, 0);
    assert_int_equal(s.free_blocks + s.used_blocks + s.allocs + s.frees + s.failures + s.bad_frees, 0);
    assert_int_equal(tern_heap_check(&heap), TERN_OK);
    /* No region: every allocation fails and is counted. */
    assert_null(tern_heap_alloc(&heap, 8, 1));
    assert_int_equal(stats(&heap).failures, 1);
    int x = 0;
    assert_int_equal(tern_heap_free(&heap, &x), TERN_ERR_CORRUPT);
    assert_int_equal(stats(&heap).bad_frees, 1);
    assert_int_equal(tern_heap_free(&heap, NULL), TERN_OK);
    assert_int_equal(stats(&heap).bad_frees, 1);
}

static void test_add_region(void **state)
{
    fixture_t *f = *state;
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.total, ARENA - 8);
    assert_int_equal(s.free, ARENA - 8);
    assert_int_equal(s.used, 0);
    assert_int_equal(s.min_free, ARENA - 8);
    assert_int_equal(s.largest_free_block, ARENA - 8);
    assert_int_equal(s.largest_alloc, ARENA - 16);
    assert_int_equal(s.free_blocks, 1);
    blk_t want[] = {{0, ARENA - 8, 0}};
    expect_layout(&f->heap, f->arena, want, 1);

    /* The end marker: a used block of size 0, PREV_FREE since the block
     * before it is free, tag 0, valid check. */
    uint8_t *end = f->arena + ARENA - 8;
    assert_int_equal(rd32(end), USED | PREV_FREE);
    assert_int_equal(rd32(end + 4) >> 8, 0);
    assert_int_equal(rd32(end + 4) & 0xFFu, ref_check(USED, 0, end));
    /* The free block: tag FFFFFF, footer. */
    assert_int_equal(rd32(f->arena), ARENA - 8);
    assert_int_equal(rd32(f->arena + 4) >> 8, FREE_TAG);
    assert_int_equal(rd32(f->arena + 4) & 0xFFu, ref_check(ARENA - 8, FREE_TAG, f->arena));
    assert_int_equal(rd32(f->arena + ARENA - 8 - 4), ARENA - 8);

    /* Misaligned and odd-sized: aligned inward on both ends. */
    tern_heap_t h2;
    tern_heap_init(&h2, &f->cap.port);
    uint8_t *buf = malloc(1024);
    assert_int_equal(tern_heap_add_region(&h2, buf + 3, 1000), TERN_OK);
    /* [buf+8, (buf+1003) & ~7 = buf+1000) = 992 bytes, less the end marker */
    assert_int_equal(stats(&h2).total, 992 - 8);
    assert_int_equal(tern_heap_check(&h2), TERN_OK);
    void *p = tern_heap_alloc(&h2, 1, 1);
    assert_ptr_equal(p, buf + 16);
    free(buf);

    /* Too small, overlapping, NULL, too large, no slot left. */
    tern_heap_t h3;
    tern_heap_init(&h3, NULL);
    uint8_t *big = malloc(8192);
    assert_int_equal(tern_heap_add_region(&h3, NULL, 4096), TERN_ERR_INVAL);
    assert_int_equal(tern_heap_add_region(&h3, big, min_block() + 8 - 1), TERN_ERR_INVAL);
    assert_int_equal(tern_heap_add_region(&h3, big + 7, min_block() + 8), TERN_ERR_INVAL); /* loses 7 */
    assert_int_equal(tern_heap_add_region(&h3, big, min_block() + 8), TERN_OK);
    assert_int_equal(stats(&h3).total, min_block());
    assert_int_equal(tern_heap_add_region(&h3, big, 256), TERN_ERR_INVAL);           /* same start */
    assert_int_equal(tern_heap_add_region(&h3, big + 8, 256), TERN_ERR_INVAL);       /* inside */
    assert_int_equal(tern_heap_add_region(&h3, big + min_block(), 256), TERN_ERR_INVAL); /* covers end marker */
    /* Larger than 2^31 (or wrapping the address space): refused before any
     * byte is touched, so passing a small buffer is safe. */
    assert_int_equal(tern_heap_add_region(&h3, big + 1024, (size_t)0x80000000u + 64u), TERN_ERR_INVAL);
    assert_int_equal(tern_heap_add_region(&h3, big + 1024, SIZE_MAX), TERN_ERR_INVAL);
    /* Adjacent is fine (touching the end marker's last byte). */
    assert_int_equal(tern_heap_add_region(&h3, big + min_block() + 8, 256), TERN_OK);
    unsigned used_slots = 2;
    while (used_slots < TERN_HEAP_MAX_REGIONS) {
        assert_int_equal(tern_heap_add_region(&h3, big + 1024 * used_slots, 512), TERN_OK);
        used_slots++;
    }
    assert_int_equal(tern_heap_add_region(&h3, big + 7168, 512), TERN_ERR_NOMEM);
    assert_int_equal(tern_heap_check(&h3), TERN_OK);
    assert_int_equal(stats(&h3).free_blocks, TERN_HEAP_MAX_REGIONS);
    free(big);
}

static void test_alloc_basic(void **state)
{
    fixture_t *f = *state;
    static const size_t sizes[] = {1, 8, 24, 25, 100, 7, 333};
    void *p[7];
    size_t off = 0, used = 0;
    for (unsigned i = 0; i < 7; i++) {
        p[i] = tern_heap_alloc(&f->heap, sizes[i], 100u + i);
        assert_non_null(p[i]);
        /* First fit on a fresh heap: blocks laid out back to back. */
        assert_ptr_equal(p[i], f->arena + off + HDR);
        assert_int_equal((uintptr_t)p[i] % 8u, 0);
        assert_int_equal(tern_heap_block_size(&f->heap, p[i]), gross(sizes[i]));
        assert_int_equal(tern_heap_usable_size(&f->heap, p[i]), gross(sizes[i]) - HDR);
        assert_int_equal(tern_heap_get_tag(&f->heap, p[i]), 100 + i);
        /* Header: size | USED, tag << 8 | check. */
        uint8_t *h = f->arena + off;
        assert_int_equal(rd32(h), gross(sizes[i]) | USED);
        assert_int_equal(rd32(h + 4), ((100u + i) << 8) | ref_check((uint32_t)gross(sizes[i]) | USED, 100u + i, h));
        memset(p[i], 0x5A, tern_heap_usable_size(&f->heap, p[i]));
        off += gross(sizes[i]);
        used += gross(sizes[i]);
    }
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.used, used);
    assert_int_equal(s.free, f->total - used);
    assert_int_equal(s.min_free, f->total - used);
    assert_int_equal(s.used_blocks, 7);
    assert_int_equal(s.free_blocks, 1);
    assert_int_equal(s.allocs, 7);
    assert_int_equal(s.largest_free_block, f->total - used);
    assert_int_equal(s.largest_alloc, f->total - used - HDR);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
    for (unsigned i = 0; i < 7; i++)
        assert_int_equal(tern_heap_free(&f->heap, p[i]), TERN_OK);
    s = stats(&f->heap);
    assert_int_equal(s.free, f->total);
    assert_int_equal(s.free_blocks, 1);
    assert_int_equal(s.used_blocks, 0);
    assert_int_equal(s.frees, 7);
    assert_int_equal(s.min_free, f->total - used);
    assert_int_equal(f->cap.logs, 0);
}

static void test_alloc_refusals(void **state)
{
    fixture_t *f = *state;
    assert_null(tern_heap_alloc(&f->heap, 0, 1));
    assert_int_equal(stats(&f->heap).failures, 0); /* size 0 is not counted */
    assert_null(tern_heap_alloc(&f->heap, SIZE_MAX, 1));
    assert_null(tern_heap_alloc(&f->heap, SIZE_MAX - 3, 1)); /* + header overflows */
    assert_null(tern_heap_alloc(&f->heap, SIZE_MAX - 8, 1));
    assert_null(tern_heap_alloc(&f->heap, (size_t)UINT32_MAX - 2u, 1)); /* overflows 32 bits */
    assert_null(tern_heap_alloc(&f->heap, f->total - HDR + 1, 1)); /* one byte too many */
    assert_int_equal(stats(&f->heap).failures, 5);
    /* Tag out of range: refused and logged, not a failure of the heap. */
    assert_null(tern_heap_alloc(&f->heap, 8, TERN_HEAP_TAG_MAX + 1u));
    assert_int_equal(stats(&f->heap).failures, 5);
    assert_int_equal(f->cap.logs, 1);
    assert_int_equal(stats(&f->heap).free, f->total);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);

    /* Exactly largest_alloc fits and takes everything. */
    size_t la = stats(&f->heap).largest_alloc;
    assert_int_equal(la, f->total - HDR);
    void *p = tern_heap_alloc(&f->heap, la, TERN_HEAP_TAG_MAX);
    assert_non_null(p);
    assert_int_equal(tern_heap_get_tag(&f->heap, p), TERN_HEAP_TAG_MAX);
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.free, 0);
    assert_int_equal(s.min_free, 0);
    assert_int_equal(s.free_blocks, 0);
    assert_int_equal(s.largest_free_block, 0);
    assert_int_equal(s.largest_alloc, 0);
    assert_null(tern_heap_alloc(&f->heap, 1, 1));
    assert_int_equal(stats(&f->heap).failures, 6);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, p), TERN_OK);
    assert_int_equal(stats(&f->heap).free, f->total);
}

static void test_exhaustion(void **state)
{
    fixture_t *f = *state;
    void *p[64];
    size_t n = 0;
    while ((p[n] = tern_heap_alloc(&f->heap, 100, 7)) != NULL)
        n++;
    /* Each takes gross(100); the last split leaves a free tail smaller than
     * gross(100) but at least a min block, or nothing. */
    size_t g = gross(100);
    size_t fit = f->total / g;
    size_t rest = f->total - fit * g;
    if (rest < min_block() && rest > 0) {
        /* last block absorbed the remainder */
        assert_int_equal(tern_heap_block_size(&f->heap, p[n - 1]), g + rest);
        rest = 0;
    }
    assert_int_equal(n, fit);
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.free, rest);
    assert_int_equal(s.min_free, rest);
    assert_int_equal(s.free_blocks, rest ? 1 : 0);
    assert_int_equal(s.used_blocks, n);
    if (rest >= gross(1)) {
        void *last = tern_heap_alloc(&f->heap, rest - HDR, 7);
        assert_non_null(last);
        assert_int_equal(stats(&f->heap).free, 0);
        assert_int_equal(tern_heap_free(&f->heap, last), TERN_OK);
    }
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
    for (size_t i = 0; i < n; i += 2)
        assert_int_equal(tern_heap_free(&f->heap, p[i]), TERN_OK);
    /* Half free but in holes of gross(100): 2 * 100 does not fit. */
    assert_null(tern_heap_alloc(&f->heap, 2 * g, 7));
    assert_int_equal(stats(&f->heap).failures, 2);
    assert_int_equal(stats(&f->heap).largest_free_block, (n % 2 == 1) ? g + rest : g);
    for (size_t i = 1; i < n; i += 2)
        assert_int_equal(tern_heap_free(&f->heap, p[i]), TERN_OK);
    s = stats(&f->heap);
    assert_int_equal(s.free, f->total);
    assert_int_equal(s.free_blocks, 1);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
}

/* Five blocks back to back, then the free tail. */
typedef struct five {
    void *p[5];
    size_t off[6]; /* off[5]: the tail */
    size_t g[5];
} five_t;

static void make_five(fixture_t *f, five_t *v)
{
    static const size_t sizes[5] = {24, 40, 56, 72, 24};
    size_t off = 0;
    for (int i = 0; i < 5; i++) {
        v->p[i] = tern_heap_alloc(&f->heap, sizes[i], (uint32_t)i);
        assert_non_null(v->p[i]);
        v->off[i] = off;
        v->g[i] = gross(sizes[i]);
        off += v->g[i];
    }
    v->off[5] = off;
}

static void test_coalesce_none(void **state)
{
    fixture_t *f = *state;
    five_t v;
    make_five(f, &v);
    size_t tail = f->total - v.off[5];
    assert_int_equal(tern_heap_free(&f->heap, v.p[1]), TERN_OK);
    blk_t want[] = {{v.off[0], v.g[0], 1}, {v.off[1], v.g[1], 0}, {v.off[2], v.g[2], 1},
                    {v.off[3], v.g[3], 1}, {v.off[4], v.g[4], 1}, {v.off[5], tail, 0}};
    expect_layout(&f->heap, f->arena, want, 6);
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.free_blocks, 2);
    assert_int_equal(s.free, tail + v.g[1]);
    /* The next block learned its neighbour is free; the freed block has a
     * footer and the free tag. */
    assert_int_equal(rd32(f->arena + v.off[2]) & PREV_FREE, PREV_FREE);
    assert_int_equal(rd32(f->arena + v.off[2] - 4), v.g[1]);
    assert_int_equal(rd32(f->arena + v.off[1] + 4) >> 8, FREE_TAG);
}

static void test_coalesce_prev(void **state)
{
    fixture_t *f = *state;
    five_t v;
    make_five(f, &v);
    size_t tail = f->total - v.off[5];
    assert_int_equal(tern_heap_free(&f->heap, v.p[1]), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, v.p[2]), TERN_OK); /* prev free, next used */
    blk_t want[] = {{v.off[0], v.g[0], 1}, {v.off[1], v.g[1] + v.g[2], 0}, {v.off[3], v.g[3], 1},
                    {v.off[4], v.g[4], 1}, {v.off[5], tail, 0}};
    expect_layout(&f->heap, f->arena, want, 5);
    assert_int_equal(stats(&f->heap).free_blocks, 2);
    assert_int_equal(stats(&f->heap).free, tail + v.g[1] + v.g[2]);
    /* The absorbed header is gone: a second free of it is refused. */
    assert_int_equal(tern_heap_free(&f->heap, v.p[2]), TERN_ERR_CORRUPT);
    assert_int_equal(stats(&f->heap).bad_frees, 1);
}

static void test_coalesce_next(void **state)
{
    fixture_t *f = *state;
    five_t v;
    make_five(f, &v);
    size_t tail = f->total - v.off[5];
    assert_int_equal(tern_heap_free(&f->heap, v.p[2]), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, v.p[1]), TERN_OK); /* prev used, next free */
    blk_t want[] = {{v.off[0], v.g[0], 1}, {v.off[1], v.g[1] + v.g[2], 0}, {v.off[3], v.g[3], 1},
                    {v.off[4], v.g[4], 1}, {v.off[5], tail, 0}};
    expect_layout(&f->heap, f->arena, want, 5);
    assert_int_equal(stats(&f->heap).free_blocks, 2);
    /* Into the tail as well. */
    assert_int_equal(tern_heap_free(&f->heap, v.p[4]), TERN_OK);
    blk_t want2[] = {{v.off[0], v.g[0], 1}, {v.off[1], v.g[1] + v.g[2], 0}, {v.off[3], v.g[3], 1},
                     {v.off[4], v.g[4] + tail, 0}};
    expect_layout(&f->heap, f->arena, want2, 4);
    assert_int_equal(stats(&f->heap).free_blocks, 2);
}

static void test_coalesce_both(void **state)
{
    fixture_t *f = *state;
    five_t v;
    make_five(f, &v);
    size_t tail = f->total - v.off[5];
    assert_int_equal(tern_heap_free(&f->heap, v.p[1]), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, v.p[3]), TERN_OK);
    assert_int_equal(stats(&f->heap).free_blocks, 3);
    assert_int_equal(tern_heap_free(&f->heap, v.p[2]), TERN_OK); /* both free */
    blk_t want[] = {{v.off[0], v.g[0], 1}, {v.off[1], v.g[1] + v.g[2] + v.g[3], 0}, {v.off[4], v.g[4], 1},
                    {v.off[5], tail, 0}};
    expect_layout(&f->heap, f->arena, want, 4);
    assert_int_equal(stats(&f->heap).free_blocks, 2);
    /* The first block, then the last: everything joins into one. */
    assert_int_equal(tern_heap_free(&f->heap, v.p[0]), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, v.p[4]), TERN_OK);
    blk_t one[] = {{0, f->total, 0}};
    expect_layout(&f->heap, f->arena, one, 1);
    assert_int_equal(stats(&f->heap).free, f->total);
}

static void test_first_fit(void **state)
{
    fixture_t *f = *state;
    /* Holes of 64, 256 and 128 bytes separated by used blocks. */
    void *h1 = tern_heap_alloc(&f->heap, 64 - HDR, 1);
    void *s1 = tern_heap_alloc(&f->heap, 1, 1);
    void *h2 = tern_heap_alloc(&f->heap, 256 - HDR, 1);
    void *s2 = tern_heap_alloc(&f->heap, 1, 1);
    void *h3 = tern_heap_alloc(&f->heap, 128 - HDR, 1);
    void *s3 = tern_heap_alloc(&f->heap, 1, 1);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_non_null(s3);
    assert_int_equal(tern_heap_free(&f->heap, h1), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, h2), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, h3), TERN_OK);
    assert_int_equal(stats(&f->heap).free_blocks, 4);

    /* 112 gross: the 128 hole fits best, but the 256 hole comes first. */
    void *a = tern_heap_alloc(&f->heap, 100, 2);
    assert_ptr_equal(a, h2);
    assert_int_equal(tern_heap_block_size(&f->heap, a), 112);
    assert_int_equal(stats(&f->heap).free_blocks, 4); /* 256 - 112 = 144 split off */
    /* 48 gross: the first hole; its 16-byte rest is too small to split. */
    void *b = tern_heap_alloc(&f->heap, 40, 2);
    assert_ptr_equal(b, h1);
    assert_int_equal(tern_heap_block_size(&f->heap, b), 64);
    assert_int_equal(stats(&f->heap).free_blocks, 3);
    /* 128 gross: the 144 rest of the second hole, taken whole. */
    void *c = tern_heap_alloc(&f->heap, 120, 2);
    assert_ptr_equal(c, (uint8_t *)h2 + 112);
    assert_int_equal(tern_heap_block_size(&f->heap, c), 144);
    /* Again: now the third hole. */
    void *d = tern_heap_alloc(&f->heap, 120, 2);
    assert_ptr_equal(d, h3);
    assert_int_equal(tern_heap_block_size(&f->heap, d), 128);
    assert_int_equal(stats(&f->heap).free_blocks, 1);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
}

static void test_split_rules(void **state)
{
    fixture_t *f = *state;
    size_t m = min_block();
    /* Remainder one step below a min block: taken whole. */
    void *p = tern_heap_alloc(&f->heap, f->total - HDR - (m - 8), 1);
    assert_non_null(p);
    assert_int_equal(tern_heap_block_size(&f->heap, p), f->total);
    assert_int_equal(stats(&f->heap).free_blocks, 0);
    assert_int_equal(tern_heap_free(&f->heap, p), TERN_OK);
    /* Remainder exactly a min block: split off. */
    p = tern_heap_alloc(&f->heap, f->total - HDR - m, 1);
    assert_int_equal(tern_heap_block_size(&f->heap, p), f->total - m);
    assert_int_equal(stats(&f->heap).free_blocks, 1);
    assert_int_equal(stats(&f->heap).free, m);
    assert_int_equal(stats(&f->heap).largest_alloc, m - HDR);
    void *q = tern_heap_alloc(&f->heap, m - HDR, 1);
    /* p, a large block, took the top; the min block is left at the bottom. */
    assert_ptr_equal(q, f->total - m >= TERN_HEAP_LARGE_BLOCK ? (uint8_t *)p - m : (uint8_t *)p + f->total - m);
    assert_int_equal(tern_heap_free(&f->heap, p), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, q), TERN_OK);

    /* The ledger's guarantee: gross - requested < 256 for every request and
     * every realloc, whatever the free block it came from. */
    for (size_t n = 1; n <= 600; n++) {
        void *a = tern_heap_alloc(&f->heap, n, 1);
        assert_non_null(a);
        size_t pad = tern_heap_block_size(&f->heap, a) - n;
        assert_true(pad >= HDR && pad < 256);
        assert_true(pad <= 2 * min_block() - 9); /* docs/heap.md: the bound */
        size_t shrink = n / 3 + 1, grow = n + 300;
        a = tern_heap_realloc(&f->heap, a, shrink);
        assert_true(tern_heap_block_size(&f->heap, a) - shrink < 256);
        a = tern_heap_realloc(&f->heap, a, grow);
        assert_true(tern_heap_block_size(&f->heap, a) - grow < 256);
        assert_int_equal(tern_heap_free(&f->heap, a), TERN_OK);
    }
    assert_int_equal(stats(&f->heap).free_blocks, 1);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
}

static void test_alignment(void **state)
{
    (void)state;
    uint8_t *buf = malloc(20000);
    for (size_t skew = 0; skew < 8; skew++) {
        tern_heap_t heap;
        tern_heap_init(&heap, NULL);
        assert_int_equal(tern_heap_add_region(&heap, buf + skew, 20000 - 8), TERN_OK);
        for (size_t n = 1; n < 150; n++) {
            void *p = tern_heap_alloc(&heap, n, 1);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % TERN_HEAP_ALIGN, 0);
            assert_int_equal(tern_heap_block_size(&heap, p) % 8, 0);
            memset(p, 0xEE, n);
        }
        assert_int_equal(tern_heap_check(&heap), TERN_OK);
    }
    free(buf);
}

/* Reads a free block's links: next at +8, prev at +8+sizeof(void*). */
static uint8_t *link_at(const uint8_t *h, size_t off)
{
    uint8_t *v;
    memcpy(&v, h + off, sizeof v);
    return v;
}

static void test_multi_region(void **state)
{
    (void)state;
    cap_port_t cap;
    fx_port(&cap);
    uint8_t *buf = malloc(8192);
    tern_heap_t heap;
    tern_heap_init(&heap, &cap.port);
    /* Three regions with gaps, added high, low, middle. */
    uint8_t *hi = buf + 6144, *lo = buf, *mid = buf + 3072;
    assert_int_equal(tern_heap_add_region(&heap, hi, 2048), TERN_OK);
    assert_int_equal(tern_heap_add_region(&heap, lo, 1024), TERN_OK);
    assert_int_equal(tern_heap_add_region(&heap, mid, 1536), TERN_OK);
    size_t total = (2048 - 8) + (1024 - 8) + (1536 - 8);
    tern_heap_stats_t s = stats(&heap);
    assert_int_equal(s.total, total);
    assert_int_equal(s.free, total);
    assert_int_equal(s.min_free, total);
    assert_int_equal(s.free_blocks, 3);
    assert_int_equal(s.largest_free_block, 2048 - 8);
    /* Walk in address order; the free list too, with back links. */
    blk_t want[] = {{0, 1016, 0}, {3072, 1528, 0}, {6144, 2040, 0}};
    expect_layout(&heap, buf, want, 3);
    uint8_t *head = (uint8_t *)heap.free_head;
    assert_ptr_equal(head, lo);
    assert_ptr_equal(link_at(head, 8), mid);
    assert_ptr_equal(link_at(mid, 8), hi);
    assert_null(link_at(hi, 8));
    assert_ptr_equal(link_at(hi, 8 + sizeof(void *)), mid);
    assert_ptr_equal(link_at(mid, 8 + sizeof(void *)), lo);
    assert_null(link_at(lo, 8 + sizeof(void *)));

    /* First fit starts at the lowest region. */
    void *a = tern_heap_alloc(&heap, 100, 1);
    assert_ptr_equal(a, lo + 8);
    /* Too big for the two lower regions: goes to the high one, at its top
     * (a large block: TERN_HEAP_LARGE_BLOCK). */
    void *b = tern_heap_alloc(&heap, 1600, 1);
    assert_ptr_equal(b, 1608u >= TERN_HEAP_LARGE_BLOCK ? hi + 2040 - 1608 + 8 : hi + 8);
    /* Larger than any region though the sum would hold it: refused. */
    assert_null(tern_heap_alloc(&heap, 2048, 1));
    assert_int_equal(stats(&heap).failures, 1);
    assert_int_equal(tern_heap_free(&heap, a), TERN_OK);
    assert_int_equal(tern_heap_free(&heap, b), TERN_OK);

    /* Fill everything with one size: no block crosses a region end. */
    void *p[128];
    size_t n = 0;
    while ((p[n] = tern_heap_alloc(&heap, 200, 2)) != NULL) {
        uint8_t *q = p[n];
        size_t g = tern_heap_block_size(&heap, q);
        int inside = (q >= lo + 8 && q + g - 8 <= lo + 1016) || (q >= mid + 8 && q + g - 8 <= mid + 1528) ||
                     (q >= hi + 8 && q + g - 8 <= hi + 2040);
        assert_true(inside);
        n++;
    }
    /* Per region: floor(region / 208) blocks (a rest below 32 absorbed). */
    size_t expect_n = 1016 / 208 + 1528 / 208 + 2040 / 208;
    assert_int_equal(n, expect_n);
    assert_int_equal(tern_heap_check(&heap), TERN_OK);
    for (size_t i = n; i-- > 0;)
        assert_int_equal(tern_heap_free(&heap, p[i]), TERN_OK);
    expect_layout(&heap, buf, want, 3);
    assert_int_equal(stats(&heap).free, total);
    assert_int_equal(cap.logs, 0);
    free(buf);
}

static void fill(void *p, size_t n, uint8_t seed)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed + i * 7u);
}

static int same(const void *p, size_t n, uint8_t seed)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)(seed + i * 7u))
            return 0;
    return 1;
}

static void test_realloc_shrink(void **state)
{
    fixture_t *f = *state;
    void *a = tern_heap_alloc(&f->heap, 100, 9);
    void *g = tern_heap_alloc(&f->heap, 8, 1); /* a's next is used */
    size_t tail = f->total - 112 - gross(8);
    fill(a, 100, 3);
    tern_heap_stats_t before = stats(&f->heap);

    /* Remainder 8 < min block, next used: nothing moves. */
    assert_ptr_equal(tern_heap_realloc(&f->heap, a, 90), a);
    assert_int_equal(tern_heap_block_size(&f->heap, a), 112);
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.free, before.free);
    assert_int_equal(s.free_blocks, before.free_blocks);

    /* Remainder 64 >= min block: split into a new free block. */
    assert_ptr_equal(tern_heap_realloc(&f->heap, a, 40), a);
    assert_true(same(a, 40, 3));
    assert_int_equal(tern_heap_block_size(&f->heap, a), 48);
    assert_int_equal(tern_heap_get_tag(&f->heap, a), 9);
    blk_t want[] = {{0, 48, 1}, {48, 64, 0}, {112, gross(8), 1}, {112 + gross(8), tail, 0}};
    expect_layout(&f->heap, f->arena, want, 4);
    s = stats(&f->heap);
    assert_int_equal(s.free, before.free + 64);
    assert_int_equal(s.free_blocks, 2);
    assert_int_equal(s.allocs, 2);
    assert_int_equal(s.frees, 0);

    /* Next block free: even an 8-byte tail joins it. */
    assert_ptr_equal(tern_heap_realloc(&f->heap, a, 32), a);
    blk_t want2[] = {{0, 40, 1}, {40, 72, 0}, {112, gross(8), 1}, {112 + gross(8), tail, 0}};
    expect_layout(&f->heap, f->arena, want2, 4);
    assert_int_equal(stats(&f->heap).free, before.free + 72);
    assert_int_equal(stats(&f->heap).free_blocks, 2);
    assert_true(same(a, 32, 3));
    /* Same gross size: untouched. */
    assert_ptr_equal(tern_heap_realloc(&f->heap, a, 29), a);
    assert_int_equal(tern_heap_block_size(&f->heap, a), 40);
    assert_int_equal(tern_heap_free(&f->heap, g), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, a), TERN_OK);
    assert_int_equal(stats(&f->heap).free, f->total);
    assert_int_equal(stats(&f->heap).free_blocks, 1);
}

static void test_realloc_grow_in_place(void **state)
{
    fixture_t *f = *state;
    void *a = tern_heap_alloc(&f->heap, 100, 4);
    fill(a, 100, 11);
    /* Next is the free tail: grow and split the rest. */
    assert_ptr_equal(tern_heap_realloc(&f->heap, a, 200), a);
    assert_true(same(a, 100, 11));
    assert_int_equal(tern_heap_block_size(&f->heap, a), 208);
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.free, f->total - 208);
    assert_int_equal(s.min_free, f->total - 208);
    assert_int_equal(s.allocs, 1);
    blk_t want[] = {{0, 208, 1}, {208, f->total - 208, 0}};
    expect_layout(&f->heap, f->arena, want, 2);

    /* Next free block whose rest would be below a min block: taken whole. */
    void *b = tern_heap_alloc(&f->heap, 100, 5); /* 208..320 */
    void *g = tern_heap_alloc(&f->heap, 8, 6);   /* guard */
    assert_int_equal(tern_heap_free(&f->heap, b), TERN_OK);
    /* 208 + 112 = 320; asking 296 gross (288 bytes) leaves 24 < 32. */
    assert_ptr_equal(tern_heap_realloc(&f->heap, a, 288), a);
    assert_true(same(a, 100, 11));
    assert_int_equal(tern_heap_block_size(&f->heap, a), 320);
    assert_int_equal(tern_heap_get_tag(&f->heap, a), 4);
    blk_t want2[] = {{0, 320, 1}, {320, gross(8), 1}, {320 + gross(8), f->total - 320 - gross(8), 0}};
    expect_layout(&f->heap, f->arena, want2, 3);
    s = stats(&f->heap);
    assert_int_equal(s.free_blocks, 1);
    assert_int_equal(s.free, f->total - 320 - gross(8));
    assert_int_equal(s.min_free, s.free);
    assert_int_equal(s.allocs - s.frees, s.used_blocks);
    /* The guard's PREV_FREE flag was cleared. */
    assert_int_equal(rd32((uint8_t *)g - 8) & PREV_FREE, 0);
    /* Grow by exactly the free neighbour with a split: rest = min block. */
    assert_int_equal(tern_heap_free(&f->heap, g), TERN_OK);
#if TERN_HEAP_LARGE_BLOCK
    /* Growing across TERN_HEAP_LARGE_BLOCK moves the block (a large one is
     * placed from the top): no room to move here, so it fails, a intact. */
    assert_null(tern_heap_realloc(&f->heap, a, f->total - min_block() - HDR));
    assert_true(same(a, 100, 11));
    /* Up to just below the line: in place. */
    assert_ptr_equal(tern_heap_realloc(&f->heap, a, TERN_HEAP_LARGE_BLOCK - 8u - HDR), a);
    assert_int_equal(tern_heap_block_size(&f->heap, a), TERN_HEAP_LARGE_BLOCK - 8u);
    assert_int_equal(stats(&f->heap).free, f->total - (TERN_HEAP_LARGE_BLOCK - 8u));
#else
    assert_ptr_equal(tern_heap_realloc(&f->heap, a, f->total - min_block() - HDR), a);
    assert_int_equal(stats(&f->heap).free, min_block());
#endif
    assert_int_equal(tern_heap_free(&f->heap, a), TERN_OK);
    assert_int_equal(stats(&f->heap).free, f->total);
}

/* Two ends (include/tern/heap.h): small blocks from the bottom, large ones
 * (TERN_HEAP_LARGE_BLOCK or more, gross) from the top, so small ones never
 * sit between large ones. */
static void test_two_ended(void **state)
{
    fixture_t *f = *state;
    if (TERN_HEAP_LARGE_BLOCK == 0u) /* plain first fit: the other tests */
        return;
    size_t L = TERN_HEAP_LARGE_BLOCK, M = min_block(), t = f->total;
    size_t big = L - HDR;   /* gross: exactly the line */
    size_t big1 = big + M;  /* gross L + M */
    assert_true(3u * L + M + 224u <= t);
    uint8_t *a = f->arena;
    void *s1 = tern_heap_alloc(&f->heap, 100, 1);
    void *l1 = tern_heap_alloc(&f->heap, big1, 2);
    void *s2 = tern_heap_alloc(&f->heap, 100, 3);
    void *l2 = tern_heap_alloc(&f->heap, big, 4);
    assert_ptr_equal(s1, a + HDR);
    assert_ptr_equal(s2, a + 112 + HDR);
    assert_ptr_equal(l1, a + t - (L + M) + HDR);
    assert_ptr_equal(l2, a + t - (2u * L + M) + HDR);
    blk_t want[] = {{0, 112, 1}, {112, 112, 1}, {224, t - 224 - 2u * L - M, 0}, {t - 2u * L - M, L, 1},
                    {t - L - M, L + M, 1}};
    expect_layout(&f->heap, f->arena, want, 5);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
    /* A block one step below the line is small: from the bottom. */
    void *s3 = tern_heap_alloc(&f->heap, big - 8u, 5);
    assert_ptr_equal(s3, a + 224 + HDR);
    assert_int_equal(tern_heap_free(&f->heap, s3), TERN_OK);
    /* The upper large block freed: the next large one takes its place
     * (the highest hole that fits), not the middle. */
    assert_int_equal(tern_heap_free(&f->heap, l1), TERN_OK);
    void *l3 = tern_heap_alloc(&f->heap, big1, 6);
    assert_ptr_equal(l3, l1);
    /* A hole exactly a min block too big: the block takes its top and the
     * min block stays below as a free block. */
    assert_int_equal(tern_heap_free(&f->heap, l3), TERN_OK);
    void *l4 = tern_heap_alloc(&f->heap, big, 7);
    assert_ptr_equal(l4, (uint8_t *)l1 + M);
    assert_int_equal(rd32((uint8_t *)l4 - 8) & PREV_FREE, PREV_FREE);
    assert_int_equal(stats(&f->heap).free_blocks, 2);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
    /* A rest below a min block: the whole hole, from its start. */
    assert_int_equal(tern_heap_free(&f->heap, l4), TERN_OK);
    void *l5 = tern_heap_alloc(&f->heap, big + 8u, 8);
    assert_ptr_equal(l5, l1);
    assert_int_equal(tern_heap_block_size(&f->heap, l5), L + M);
    /* Shrinking a large block frees its tail, which stands alone or joins. */
    assert_ptr_equal(tern_heap_realloc(&f->heap, l5, 100), l5);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
    /* Growing a small block across the line moves it, placed as a large
     * one: the top of the middle hole, though it could have grown in place. */
    void *m = tern_heap_realloc(&f->heap, s2, big);
    assert_ptr_equal(m, (uint8_t *)l2 - L);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, m), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, l5), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, l2), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, s1), TERN_OK);
    assert_int_equal(stats(&f->heap).free, t);
    assert_int_equal(stats(&f->heap).free_blocks, 1);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);

    /* A small block grows in place only where first fit would put the
     * grown block. A free block right below: it moves. */
    void *x = tern_heap_alloc(&f->heap, 100, 1); /* 0..112 */
    void *y = tern_heap_alloc(&f->heap, 100, 2); /* 112..224, then the free tail */
    assert_int_equal(tern_heap_free(&f->heap, x), TERN_OK);
    void *y2 = tern_heap_realloc(&f->heap, y, 150);
    assert_ptr_equal(y2, a + 224 + HDR);
    assert_int_equal(tern_heap_free(&f->heap, y2), TERN_OK);
    /* A free block lower down that fits: it moves there. */
    x = tern_heap_alloc(&f->heap, 400, 1);       /* 0..408 */
    void *g = tern_heap_alloc(&f->heap, 8, 2);   /* guard */
    y = tern_heap_alloc(&f->heap, 100, 3);
    assert_int_equal(tern_heap_free(&f->heap, x), TERN_OK);
    y2 = tern_heap_realloc(&f->heap, y, 150);
    assert_ptr_equal(y2, a + HDR);
    /* Nothing below fits: in place. */
    void *y3 = tern_heap_realloc(&f->heap, y2, 300);
    assert_ptr_equal(y3, y2);
    assert_int_equal(tern_heap_free(&f->heap, y3), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, g), TERN_OK);
    assert_int_equal(stats(&f->heap).free, t);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
}

static void test_realloc_move(void **state)
{
    fixture_t *f = *state;
    void *a = tern_heap_alloc(&f->heap, 100, 0x123456);
    void *g = tern_heap_alloc(&f->heap, 8, 1);
    fill(a, 100, 77);
    void *b = tern_heap_realloc(&f->heap, a, 300);
    assert_non_null(b);
    assert_ptr_not_equal(b, a);
    assert_ptr_equal(b, f->arena + 112 + gross(8) + HDR);
    assert_true(same(b, 100, 77));
    assert_int_equal(tern_heap_get_tag(&f->heap, b), 0x123456);
    assert_int_equal(tern_heap_block_size(&f->heap, b), gross(300));
    /* The old block is a free hole now. */
    assert_int_equal(tern_heap_block_size(&f->heap, a), 0);
    assert_int_equal(tern_heap_get_tag(&f->heap, a), -1);
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.allocs, 3);
    assert_int_equal(s.frees, 1);
    assert_int_equal(s.used_blocks, 2);
    assert_int_equal(s.free_blocks, 2);
    assert_int_equal(s.used, gross(8) + gross(300));
    assert_int_equal(s.min_free, f->total - 112 - gross(8) - gross(300));
    blk_t want[] = {{0, 112, 0}, {112, gross(8), 1}, {112 + gross(8), gross(300), 1},
                    {112 + gross(8) + gross(300), f->total - 112 - gross(8) - gross(300), 0}};
    expect_layout(&f->heap, f->arena, want, 4);
    (void)g;
}

static void test_realloc_failure_keeps_block(void **state)
{
    fixture_t *f = *state;
    void *a = tern_heap_alloc(&f->heap, 100, 42);
    void *g = tern_heap_alloc(&f->heap, f->total - 112 - 200 - HDR, 1); /* leave 200 free */
    assert_non_null(g);
    fill(a, 100, 5);
    uint8_t snapshot[ARENA];
    memcpy(snapshot, f->arena, ARENA);
    tern_heap_stats_t before = stats(&f->heap);

    assert_null(tern_heap_realloc(&f->heap, a, 1000));
    assert_null(tern_heap_realloc(&f->heap, a, SIZE_MAX));
    assert_null(tern_heap_realloc(&f->heap, a, SIZE_MAX - 4));
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.failures, before.failures + 3);
    s.failures = before.failures;
    assert_memory_equal(&s, &before, sizeof s);
    /* Not one byte of the arena changed. */
    assert_memory_equal(snapshot, f->arena, ARENA);
    assert_int_equal(tern_heap_get_tag(&f->heap, a), 42);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
}

static void test_realloc_edges(void **state)
{
    fixture_t *f = *state;
    void *p = tern_heap_realloc(&f->heap, NULL, 50);
    assert_non_null(p);
    assert_int_equal(tern_heap_get_tag(&f->heap, p), 0);
    assert_int_equal(tern_heap_block_size(&f->heap, p), gross(50));
    assert_null(tern_heap_realloc(&f->heap, NULL, 0));
    assert_int_equal(stats(&f->heap).failures, 0);
    /* Size 0 frees. */
    assert_null(tern_heap_realloc(&f->heap, p, 0));
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.frees, 1);
    assert_int_equal(s.free, f->total);
    /* A pointer that is not a block: refused and counted as a bad free. */
    assert_null(tern_heap_realloc(&f->heap, p, 10));
    assert_null(tern_heap_realloc(&f->heap, (uint8_t *)f->arena + 4, 10));
    s = stats(&f->heap);
    assert_int_equal(s.bad_frees, 2);
    assert_int_equal(s.allocs, 1);
    assert_int_equal(f->cap.logs, 2);
    assert_non_null(strstr(f->cap.last, "bad realloc"));
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
}

static void test_tags_and_sizes(void **state)
{
    fixture_t *f = *state;
    void *p = tern_heap_alloc(&f->heap, 10, 0);
    memset(p, 0, tern_heap_usable_size(&f->heap, p));
    assert_int_equal(tern_heap_get_tag(&f->heap, p), 0);
    assert_int_equal(tern_heap_set_tag(&f->heap, p, TERN_HEAP_TAG_MAX), TERN_OK);
    assert_int_equal(tern_heap_get_tag(&f->heap, p), TERN_HEAP_TAG_MAX);
    assert_int_equal(tern_heap_set_tag(&f->heap, p, 0xABCDE), TERN_OK);
    assert_int_equal(tern_heap_get_tag(&f->heap, p), 0xABCDE);
    uint8_t *h = (uint8_t *)p - 8;
    assert_int_equal(rd32(h + 4), (0xABCDEu << 8) | ref_check((uint32_t)gross(10) | USED, 0xABCDE, h));
    assert_int_equal(tern_heap_set_tag(&f->heap, p, TERN_HEAP_TAG_MAX + 1u), TERN_ERR_INVAL);
    assert_int_equal(tern_heap_get_tag(&f->heap, p), 0xABCDE);
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
    /* Non-blocks. */
    int x;
    assert_int_equal(tern_heap_get_tag(&f->heap, NULL), -1);
    assert_int_equal(tern_heap_get_tag(&f->heap, &x), -1);
    assert_int_equal(tern_heap_get_tag(&f->heap, (uint8_t *)p + 8), -1);
    assert_int_equal(tern_heap_set_tag(&f->heap, (uint8_t *)p + 8, 1), TERN_ERR_CORRUPT);
    assert_int_equal(tern_heap_block_size(&f->heap, NULL), 0);
    assert_int_equal(tern_heap_block_size(&f->heap, (uint8_t *)p + 1), 0);
    assert_int_equal(tern_heap_usable_size(&f->heap, &x), 0);
    /* The free tail's payload is not a live block. */
    assert_int_equal(tern_heap_block_size(&f->heap, (uint8_t *)p + gross(10)), 0);
    /* Lookups never count as bad frees. */
    assert_int_equal(stats(&f->heap).bad_frees, 0);
    tern_heap_free(&f->heap, p);
    assert_int_equal(tern_heap_get_tag(&f->heap, p), -1);
}

typedef struct walk_ctx {
    unsigned calls;
    unsigned stop_at;
    size_t bytes;
} walk_ctx_t;

static int walk_count(void *ctx, void *payload, size_t size, int used, uint32_t tag)
{
    walk_ctx_t *w = ctx;
    (void)payload;
    (void)used;
    (void)tag;
    w->calls++;
    w->bytes += size;
    return w->calls == w->stop_at ? 77 : 0;
}

static void test_walk(void **state)
{
    fixture_t *f = *state;
    void *a = tern_heap_alloc(&f->heap, 10, 11);
    void *b = tern_heap_alloc(&f->heap, 20, 12);
    void *c = tern_heap_alloc(&f->heap, 30, 13);
    tern_heap_free(&f->heap, b);
    static layout_t l;
    memset(&l, 0, sizeof l);
    l.base = f->arena;
    assert_int_equal(tern_heap_walk(&f->heap, layout_cb, &l), 0);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.tags[0], 11);
    assert_int_equal(l.tags[1], FREE_TAG);
    assert_int_equal(l.tags[2], 13);
    assert_int_equal(l.tags[3], FREE_TAG);
    assert_int_equal(l.b[0].used, 1);
    assert_int_equal(l.b[1].used, 0);
    walk_ctx_t w = {0, 0, 0};
    assert_int_equal(tern_heap_walk(&f->heap, walk_count, &w), 0);
    assert_int_equal(w.calls, 4);
    assert_int_equal(w.bytes, f->total); /* blocks tile the region exactly */
    walk_ctx_t w2 = {0, 2, 0};
    assert_int_equal(tern_heap_walk(&f->heap, walk_count, &w2), 77);
    assert_int_equal(w2.calls, 2);
    (void)a;
    (void)c;
}

/* A bad free must change nothing: not the arena, not the stats (but
 * bad_frees), and the heap still checks. */
static void expect_bad_free(fixture_t *f, void *p, const char *reason, int intact)
{
    uint8_t *snapshot = malloc(ARENA);
    memcpy(snapshot, f->arena, ARENA);
    tern_heap_stats_t before = stats(&f->heap);
    unsigned logs = f->cap.logs, asserts = f->cap.asserts;
    assert_int_equal(tern_heap_free(&f->heap, p), TERN_ERR_CORRUPT);
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.bad_frees, before.bad_frees + 1);
    s.bad_frees = before.bad_frees;
    assert_memory_equal(&s, &before, sizeof s);
    assert_memory_equal(snapshot, f->arena, ARENA);
    assert_int_equal(f->cap.logs, logs + 1);
    if (strstr(f->cap.last, reason) == NULL)
        fail_msg("bad free logged '%s', expected '%s'", f->cap.last, reason);
#if TERN_DEBUG
    assert_int_equal(f->cap.asserts, asserts + 1);
#else
    assert_int_equal(f->cap.asserts, asserts);
#endif
    free(snapshot);
    /* (a test that overwrote a real header checks after restoring it) */
    if (intact && tern_heap_check(&f->heap) != TERN_OK)
        fail_msg("check after bad free (%s): %s", reason, f->cap.last);
}

static void test_bad_frees(void **state)
{
    fixture_t *f = *state;
    void *a = tern_heap_alloc(&f->heap, 40, 1);
    void *b = tern_heap_alloc(&f->heap, 40, 2);
    void *c = tern_heap_alloc(&f->heap, 100, 3);
    void *d = tern_heap_alloc(&f->heap, 40, 4);
    assert_non_null(d);
    uint8_t *ha = (uint8_t *)a - 8, *hb = (uint8_t *)b - 8, *hc = (uint8_t *)c - 8;

    /* Double free of a block that stands alone as a free block. */
    assert_int_equal(tern_heap_free(&f->heap, b), TERN_OK);
    expect_bad_free(f, b, "not a used block", 1);
    /* Double free of a block that merged into its free neighbour. */
    assert_int_equal(tern_heap_free(&f->heap, a), TERN_OK);
    expect_bad_free(f, b, "not a used block", 1);
    expect_bad_free(f, a, "not a used block", 1);
    a = tern_heap_alloc(&f->heap, 40, 1);
    b = tern_heap_alloc(&f->heap, 40, 2);
    assert_ptr_equal((uint8_t *)a - 8, ha);
    assert_ptr_equal((uint8_t *)b - 8, hb);

    /* Misaligned. */
    expect_bad_free(f, (uint8_t *)c + 1, "misaligned", 1);
    expect_bad_free(f, (uint8_t *)c + 4, "misaligned", 1);
    /* Outside every region: the stack, just before the region, the end
     * marker's payload. */
    _Alignas(8) uint8_t local[16];
    expect_bad_free(f, local, "outside", 1);
    expect_bad_free(f, f->arena, "outside", 1);
    expect_bad_free(f, f->arena + ARENA, "outside", 1);
    /* Into the middle of a block, whatever its contents. */
    memset(c, 0, 100);
    expect_bad_free(f, (uint8_t *)c + 16, "not a used block", 1);
    memset(c, 0xFF, 100);
    expect_bad_free(f, (uint8_t *)c + 16, "bad block size", 1);
    /* A fake header with a wrong check byte. */
    uint8_t *fake = (uint8_t *)c + 16;
    craft_header(fake, 48, USED, 3);
    fake[4] ^= 0x01;
    expect_bad_free(f, fake + 8, "check", 1);
    /* A fake header with a valid check byte: the next block betrays it. */
    memset(c, 0, 100);
    craft_header(fake, 48, USED, 3);
    expect_bad_free(f, fake + 8, "next block", 1);
    /* A fake that claims its previous block is free: the footer does not
     * lead to a free block. */
    memset(c, 0, 100);
    craft_header(fake, 32, USED | PREV_FREE, 3);
    craft_header(fake + 32, 32, USED, 3); /* a plausible next block, inside c */
    expect_bad_free(f, fake + 8, "previous block", 1);
    memset(c, 0, 100);

    /* An overwritten header: one byte of the tag, then the size. */
    uint8_t saved[8];
    memcpy(saved, hc, 8);
    hc[5] ^= 0x40;
    expect_bad_free(f, c, "check", 0);
    memcpy(hc, saved, 8);
    wr32(hc, rd32(hc) + 8);
    expect_bad_free(f, c, "check", 0);
    memcpy(hc, saved, 8);
    wr32(hc, rd32(hc) & ~USED);
    expect_bad_free(f, c, "not a used block", 0);
    memcpy(hc, saved, 8);
    wr32(hc, rd32(hc) | 4u); /* the flag bit that is always 0 */
    expect_bad_free(f, c, "check", 0);
    memcpy(hc, saved, 8);
    /* Next block claims we are free. */
    uint8_t *hd = (uint8_t *)d - 8;
    wr32(hd, rd32(hd) | PREV_FREE);
    expect_bad_free(f, c, "next block", 0);
    wr32(hd, rd32(hd) & ~PREV_FREE);
    /* A header copied to another place: a's header over b's (same size, so
     * every structural check passes): only the address in the check byte
     * catches it, for certain within 2 KiB. */
    assert_int_equal(tern_heap_block_size(&f->heap, a), tern_heap_block_size(&f->heap, b));
    memcpy(saved, hb, 8);
    memcpy(hb, ha, 8);
    expect_bad_free(f, b, "check", 0);
    memcpy(hb, saved, 8);

    /* After all that, the real frees work. */
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, a), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, b), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, c), TERN_OK);
    assert_int_equal(tern_heap_free(&f->heap, d), TERN_OK);
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.free, f->total);
    assert_int_equal(s.free_blocks, 1);
    assert_int_equal(s.bad_frees, 19);
    /* NULL is a no-op; a heap without a port still refuses and counts. */
    assert_int_equal(tern_heap_free(&f->heap, NULL), TERN_OK);
    f->heap.port = NULL;
    assert_int_equal(tern_heap_free(&f->heap, a), TERN_ERR_CORRUPT);
    assert_int_equal(stats(&f->heap).bad_frees, 20);
}

/* Corrupt, expect tern_heap_check to fail with reason, restore, expect OK. */
static void expect_corrupt(fixture_t *f, const char *reason)
{
    unsigned logs = f->cap.logs;
    if (tern_heap_check(&f->heap) != TERN_ERR_CORRUPT)
        fail_msg("corruption not caught (expected '%s')", reason);
    assert_int_equal(f->cap.logs, logs + 1);
    if (strstr(f->cap.last, reason) == NULL)
        fail_msg("check logged '%s', expected '%s'", f->cap.last, reason);
}

static void test_check_catches_corruption(void **state)
{
    fixture_t *f = *state;
    five_t v;
    make_five(f, &v);
    tern_heap_free(&f->heap, v.p[1]);
    tern_heap_free(&f->heap, v.p[3]);
    /* used, free, used, free, used, free tail */
    uint8_t *h[6];
    for (int i = 0; i < 6; i++)
        h[i] = f->arena + v.off[i];
    uint8_t *end = f->arena + ARENA - 8;
    uint8_t saved[ARENA];
    memcpy(saved, f->arena, ARENA);
    tern_heap_t saved_heap = f->heap;
    assert_int_equal(tern_heap_check(&f->heap), TERN_OK);
#define RESTORE()                                              \
    do {                                                       \
        memcpy(f->arena, saved, ARENA);                        \
        f->heap = saved_heap;                                  \
        assert_int_equal(tern_heap_check(&f->heap), TERN_OK);  \
    } while (0)

    /* Headers. */
    h[0][5] ^= 0x01; /* tag of a used block */
    expect_corrupt(f, "check byte");
    RESTORE();
    h[1][0] ^= 0x08; /* size of a free block */
    expect_corrupt(f, "check byte");
    RESTORE();
    h[2][7] ^= 0x80; /* the check byte itself */
    expect_corrupt(f, "check byte");
    RESTORE();
    craft_header(h[2], (uint32_t)(ARENA * 2), USED | PREV_FREE, 2); /* valid check, size past the end */
    expect_corrupt(f, "size");
    RESTORE();
    craft_header(h[2], 16, USED | PREV_FREE, 2); /* below a min block */
    expect_corrupt(f, "size");
    RESTORE();
    wr32(h[2], rd32(h[2]) & ~PREV_FREE); /* PREV_FREE lost */
    expect_corrupt(f, "PREV_FREE");
    RESTORE();
    wr32(h[0], rd32(h[0]) | PREV_FREE); /* PREV_FREE on the first block */
    expect_corrupt(f, "PREV_FREE");
    RESTORE();
    craft_header(h[0], (uint32_t)v.g[0], USED, FREE_TAG); /* used with the free tag */
    expect_corrupt(f, "free tag");
    RESTORE();
    craft_header(h[1], (uint32_t)v.g[1], 0, 5); /* free without the free tag */
    expect_corrupt(f, "free tag");
    RESTORE();
    /* Two adjacent free blocks: turn block 2 into a well-formed free block. */
    craft_header(h[2], (uint32_t)v.g[2], PREV_FREE, FREE_TAG);
    wr32(h[2] + v.g[2] - 4, (uint32_t)v.g[2]);
    expect_corrupt(f, "adjacent");
    RESTORE();
    /* Footers. */
    wr32(h[1] + v.g[1] - 4, 8);
    expect_corrupt(f, "footer");
    RESTORE();
    wr32(end - 4, 0);
    expect_corrupt(f, "footer");
    RESTORE();
    /* Free list links. */
    uint8_t *bogus = h[2];
    memcpy(h[1] + 8, &bogus, sizeof bogus); /* next points at a used block */
    expect_corrupt(f, "free list");
    RESTORE();
    bogus = NULL;
    memcpy(h[3] + 8, &bogus, sizeof bogus); /* list ends early */
    expect_corrupt(f, "free list");
    RESTORE();
    bogus = h[5];
    memcpy(h[1] + 8, &bogus, sizeof bogus); /* skips block 3 */
    expect_corrupt(f, "free list");
    RESTORE();
    bogus = h[1];
    memcpy(h[5] + 8 + sizeof(void *), &bogus, sizeof bogus); /* wrong back link */
    expect_corrupt(f, "back link");
    RESTORE();
    bogus = h[5];
    memcpy(h[5] + 8, &bogus, sizeof bogus); /* a loop */
    expect_corrupt(f, "not a free block");
    RESTORE();
    f->heap.free_head = NULL;
    expect_corrupt(f, "free list");
    RESTORE();
    f->heap.free_head = (tern_heap_free_block_t *)(void *)h[3];
    expect_corrupt(f, "free list");
    RESTORE();
    /* End marker. */
    end[4] ^= 0x10;
    expect_corrupt(f, "end marker");
    RESTORE();
    craft_header(end, 0, USED | PREV_FREE, 9);
    expect_corrupt(f, "end marker");
    RESTORE();
    craft_header(end, 0, USED, 0);
    expect_corrupt(f, "PREV_FREE");
    RESTORE();
    /* Counters and regions. */
    f->heap.free += 8;
    expect_corrupt(f, "byte counters");
    RESTORE();
    f->heap.total -= 8;
    expect_corrupt(f, "byte counters");
    RESTORE();
    f->heap.free_blocks++;
    expect_corrupt(f, "block counters");
    RESTORE();
    f->heap.used_blocks--;
    expect_corrupt(f, "block counters");
    RESTORE();
    f->heap.min_free = f->heap.free + 8;
    expect_corrupt(f, "min_free");
    RESTORE();
    f->heap.allocs++;
    expect_corrupt(f, "allocs");
    RESTORE();
    f->heap.regions[0].end -= 8;
    expect_corrupt(f, "size");
    RESTORE();
    f->heap.regions[0].end = f->heap.regions[0].start;
    expect_corrupt(f, "region");
    RESTORE();
#undef RESTORE
#if TERN_DEBUG
    assert_int_equal(f->cap.asserts, 30);
#endif
}

/* The whole stats structure against a hand-computed sequence. */
static void test_stats_exact(void **state)
{
    fixture_t *f = *state;
    size_t T = f->total;
    void *a = tern_heap_alloc(&f->heap, 100, 1);  /* 112 */
    void *b = tern_heap_alloc(&f->heap, 1000, 1); /* 1008 */
    void *c = tern_heap_alloc(&f->heap, 1, 1);    /* 32 */
    tern_heap_stats_t s = stats(&f->heap);
    assert_int_equal(s.total, T);
    assert_int_equal(s.used, 112 + 1008 + 32);
    assert_int_equal(s.free, T - 1152);
    assert_int_equal(s.min_free, T - 1152);
    assert_int_equal(s.largest_free_block, T - 1152);
    assert_int_equal(s.largest_alloc, T - 1160);
    assert_int_equal(s.free_blocks, 1);
    assert_int_equal(s.used_blocks, 3);
    assert_int_equal(s.allocs, 3);
    assert_int_equal(s.frees, 0);
    tern_heap_free(&f->heap, b);
    s = stats(&f->heap);
    assert_int_equal(s.used, 144);
    assert_int_equal(s.free, T - 144);
    assert_int_equal(s.min_free, T - 1152); /* the low-water mark stays */
    assert_int_equal(s.largest_free_block, T - 1152);
    assert_int_equal(s.free_blocks, 2);
    assert_int_equal(s.used_blocks, 2);
    assert_int_equal(s.frees, 1);
    /* Fill the tail so the 1008 hole is the largest. */
    void *t = tern_heap_alloc(&f->heap, T - 1152 - 8, 1);
    s = stats(&f->heap);
    assert_int_equal(s.free, 1008);
    assert_int_equal(s.min_free, 1008);
    assert_int_equal(s.largest_free_block, 1008);
    assert_int_equal(s.largest_alloc, 1000);
    assert_int_equal(s.free_blocks, 1);
    /* a joins the 1008 hole after it: one 1120 hole. */
    tern_heap_free(&f->heap, a);
    s = stats(&f->heap);
    assert_int_equal(s.free, 1120);
    assert_int_equal(s.free_blocks, 1);
    assert_int_equal(s.largest_free_block, 1120);
    assert_int_equal(s.largest_alloc, 1112);
    assert_null(tern_heap_alloc(&f->heap, 1113, 1));
    s = stats(&f->heap);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.min_free, 1008);
    /* 1016 gross out of the hole: 104 split off, a new low-water mark. */
    void *e = tern_heap_alloc(&f->heap, 1001, 1);
    assert_ptr_equal(e, f->arena + HDR);
    assert_int_equal(tern_heap_block_size(&f->heap, e), 1016);
    s = stats(&f->heap);
    assert_int_equal(s.free, 104);
    assert_int_equal(s.min_free, 104);
    assert_int_equal(s.free_blocks, 1);
    assert_int_equal(s.largest_free_block, 104);
    assert_int_equal(s.largest_alloc, 96);
    assert_int_equal(s.allocs, 5);
    assert_int_equal(s.frees, 2);
    assert_int_equal(s.used_blocks, s.allocs - s.frees);
    assert_int_equal(s.used + s.free, s.total);
    tern_heap_free(&f->heap, c);
    tern_heap_free(&f->heap, t);
    tern_heap_free(&f->heap, e);
    s = stats(&f->heap);
    assert_int_equal(s.free, T);
    assert_int_equal(s.used, 0);
    assert_int_equal(s.min_free, 104);
    assert_int_equal(s.free_blocks, 1);
    assert_int_equal(s.largest_free_block, T);
    assert_int_equal(s.largest_alloc, T - 8);
    assert_int_equal(s.bad_frees, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_init_empty),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_multi_region),
        cmocka_unit_test_setup_teardown(test_add_region, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalesce_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalesce_prev, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalesce_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalesce_both, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_fit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realloc_shrink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realloc_grow_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_ended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realloc_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realloc_failure_keeps_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realloc_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags_and_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_catches_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_exact, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
