/* Ledger: categories, owners, overhead, verification, reports, fault
 * injection, and a randomized run against a model of the books.
 * TERN_TEST_ONE_VARIANT (the ledger does not depend on the variant). */
#include "tern_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/ledger.h"

#define ARENA_SIZE (64u * 1024u)
/* The ledger reports each complaint as an internal assertion in debug
 * builds (src/mem/ledger.c, ledger_complain). */
#define LEDGER_COMPLAINT_ASSERTS (TERN_DEBUG ? 1u : 0u)

typedef struct fixture {
    tern_test_port_t tp;
    tern_heap_t heap;
    tern_ledger_t ledger;
    _Alignas(8) uint8_t arena[ARENA_SIZE];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    tern_test_port_init(&f->tp, 1);
    f->tp.quiet = 1;
    tern_heap_init(&f->heap, &f->tp.port);
    assert_int_equal(tern_heap_add_region(&f->heap, f->arena, sizeof f->arena), TERN_OK);
    tern_ledger_init(&f->ledger, &f->heap, &f->tp.port);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static size_t heap_used(const tern_heap_t *heap)
{
    tern_heap_stats_t s;
    tern_heap_get_stats(heap, &s);
    return s.used;
}

static void test_alloc_free_books(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->ledger;
    void *a = tern_mem_alloc(l, 100, TERN_MEM_SOCKET, 5);
    void *b = tern_mem_alloc(l, 13, TERN_MEM_SOCKET, 5);
    void *c = tern_mem_alloc(l, 1000, TERN_MEM_ARP_CACHE, 0);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal((uintptr_t)a % 8u, 0);
    const tern_ledger_category_stats_t *s = tern_ledger_category(l, TERN_MEM_SOCKET);
    assert_int_equal(s->bytes, 113);
    assert_int_equal(s->blocks, 2);
    assert_int_equal(s->allocs, 2);
    assert_int_equal(tern_ledger_owner_bytes(l, 5), 113);
    assert_int_equal(tern_ledger_owner_bytes(l, 0), 1000);
    assert_int_equal(tern_mem_size(l, b), 13);
    /* Overhead is exactly the heap's gross sizes less the requests. */
    size_t gross = tern_heap_block_size(&f->heap, a) + tern_heap_block_size(&f->heap, b) +
                   tern_heap_block_size(&f->heap, c);
    assert_int_equal(tern_ledger_overhead(l), gross - 1113);
    assert_int_equal(tern_ledger_total_bytes(l) + tern_ledger_overhead(l), heap_used(&f->heap));
    assert_int_equal(tern_ledger_verify(l), TERN_OK);

    assert_int_equal(tern_mem_free(l, a), TERN_OK);
    assert_int_equal(s->bytes, 13);
    assert_int_equal(s->peak_bytes, 113);
    assert_int_equal(s->frees, 1);
    assert_int_equal(tern_ledger_owner_bytes(l, 5), 13);
    assert_int_equal(tern_mem_free(l, b), TERN_OK);
    assert_int_equal(tern_mem_free(l, c), TERN_OK);
    assert_int_equal(tern_ledger_total_bytes(l), 0);
    assert_int_equal(tern_ledger_overhead(l), 0);
    assert_int_equal(heap_used(&f->heap), 0);
    assert_int_equal(tern_mem_free(l, NULL), TERN_OK);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
}

static void test_zalloc_and_invalid(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->ledger;
    uint8_t *p = tern_mem_zalloc(l, 64, TERN_MEM_APPLICATION, 1);
    assert_non_null(p);
    for (int i = 0; i < 64; i++)
        assert_int_equal(p[i], 0);
    assert_null(tern_mem_alloc(l, 0, TERN_MEM_SOCKET, 1));
    assert_null(tern_mem_alloc(l, 8, TERN_MEM_CATEGORY_COUNT, 1));
    assert_null(tern_ledger_category(l, TERN_MEM_CATEGORY_COUNT));
    assert_string_equal(tern_mem_category_name(TERN_MEM_CATEGORY_COUNT), "UNKNOWN");
    assert_string_equal(tern_mem_category_name(TERN_MEM_TCP_RANGES), "TCP_RANGES");
    /* Heap exhaustion is a counted failure, not a crash. */
    assert_null(tern_mem_alloc(l, ARENA_SIZE * 2u, TERN_MEM_APPLICATION, 0));
    assert_int_equal(tern_ledger_category(l, TERN_MEM_APPLICATION)->failures, 1);
    tern_mem_free(l, p);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
}

static void test_owners(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->ledger;
    void *a = tern_mem_alloc(l, 40, TERN_MEM_NETWORK_BUFFER, 0);
    void *big = tern_mem_alloc(l, 24, TERN_MEM_SOCKET, TERN_LEDGER_OWNERS + 7u);
    assert_int_equal(tern_mem_set_owner(l, a, 3), TERN_OK);
    assert_int_equal(tern_ledger_owner_bytes(l, 0), 0);
    assert_int_equal(tern_ledger_owner_bytes(l, 3), 40);
    /* Owners past the table share the "other" slot. */
    assert_int_equal(tern_ledger_owner_bytes(l, TERN_LEDGER_OWNERS + 100u), 24);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    int dummy;
    assert_int_equal(tern_mem_set_owner(l, &dummy, 3), TERN_ERR_INVAL);
    tern_mem_free(l, a);
    tern_mem_free(l, big);
    assert_int_equal(tern_ledger_owner_bytes(l, 3), 0);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
}

static void test_realloc_keeps_category(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->ledger;
    uint8_t *p = tern_mem_alloc(l, 10, TERN_MEM_TCP_STREAM_RX, 2);
    memset(p, 0xAB, 10);
    void *blocker = tern_mem_alloc(l, 10, TERN_MEM_SOCKET, 2);
    uint8_t *q = tern_mem_realloc(l, p, 3000); /* must move past blocker */
    assert_non_null(q);
    for (int i = 0; i < 10; i++)
        assert_int_equal(q[i], 0xAB);
    assert_int_equal(tern_ledger_category(l, TERN_MEM_TCP_STREAM_RX)->bytes, 3000);
    assert_int_equal(tern_ledger_owner_bytes(l, 2), 3010);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    q = tern_mem_realloc(l, q, 5);
    assert_int_equal(tern_ledger_category(l, TERN_MEM_TCP_STREAM_RX)->bytes, 5);
    assert_int_equal(tern_ledger_category(l, TERN_MEM_TCP_STREAM_RX)->peak_bytes, 3000);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    /* A failing realloc leaves the block and the books as they were. */
    assert_null(tern_mem_realloc(l, q, ARENA_SIZE * 4u));
    assert_int_equal(tern_ledger_category(l, TERN_MEM_TCP_STREAM_RX)->bytes, 5);
    assert_int_equal(tern_ledger_category(l, TERN_MEM_TCP_STREAM_RX)->failures, 1);
    assert_null(tern_mem_realloc(l, NULL, 5));
    assert_null(tern_mem_realloc(l, q, 0));
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    tern_mem_free(l, q);
    tern_mem_free(l, blocker);
    assert_int_equal(heap_used(&f->heap), 0);
}

static void test_bad_free_refused(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->ledger;
    /* The three bad frees below: each reported by the heap and by the ledger. */
    tern_test_expect_asserts(&f->tp, LEDGER_COMPLAINT_ASSERTS * 6u);
    uint8_t *p = tern_mem_alloc(l, 32, TERN_MEM_SOCKET, 1);
    size_t before = tern_ledger_total_bytes(l);
    assert_int_equal(tern_mem_free(l, p + 8), TERN_ERR_CORRUPT);
    int local;
    assert_int_equal(tern_mem_free(l, &local), TERN_ERR_CORRUPT);
    assert_int_equal(tern_ledger_total_bytes(l), before);
    assert_int_equal(tern_mem_free(l, p), TERN_OK);
    assert_int_equal(tern_mem_free(l, p), TERN_ERR_CORRUPT); /* double free */
    assert_int_equal(tern_ledger_category(l, TERN_MEM_SOCKET)->frees, 1);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    assert_int_equal(f->tp.asserts, LEDGER_COMPLAINT_ASSERTS * 6u);
}

/* tern_ledger_verify must catch every kind of disagreement between the
 * books and the heap: each total it cross-checks is corrupted in turn (and
 * restored), and each corruption must be reported. Moves that keep the
 * grand total (bytes from one category or owner to another) must be caught
 * too, so the check cannot be a mere sum. */
static void expect_corrupt(fixture_t *f, const char *what)
{
    unsigned before = f->tp.asserts;
    tern_test_expect_asserts(&f->tp, LEDGER_COMPLAINT_ASSERTS);
    if (tern_ledger_verify(&f->ledger) != TERN_ERR_CORRUPT)
        fail_msg("tern_ledger_verify missed: %s", what);
    assert_int_equal(f->tp.asserts - before, LEDGER_COMPLAINT_ASSERTS);
}

static void test_verify_detects_corruption(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->ledger;
    void *a = tern_mem_alloc(l, 100, TERN_MEM_SOCKET, 5);
    void *b = tern_mem_alloc(l, 40, TERN_MEM_ARP_CACHE, 0);
    void *c = tern_mem_alloc(l, 24, TERN_MEM_APPLICATION, TERN_LEDGER_OWNERS + 3u); /* the overflow slot */
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    tern_ledger_category_stats_t *sock = &l->cat[TERN_MEM_SOCKET];
    tern_ledger_category_stats_t *arp = &l->cat[TERN_MEM_ARP_CACHE];

    sock->bytes++;
    expect_corrupt(f, "a category's bytes");
    sock->bytes--;
    sock->blocks++;
    expect_corrupt(f, "a category's block count");
    sock->blocks--;
    sock->bytes += 8;
    arp->bytes -= 8;
    expect_corrupt(f, "bytes moved between categories (same total)");
    sock->bytes -= 8;
    arp->bytes += 8;
    l->owner_bytes[5]++;
    expect_corrupt(f, "an owner's bytes");
    l->owner_bytes[5]--;
    l->owner_bytes[5] -= 8;
    l->owner_bytes[0] += 8;
    expect_corrupt(f, "bytes moved between owners (same total)");
    l->owner_bytes[5] += 8;
    l->owner_bytes[0] -= 8;
    l->owner_bytes[TERN_LEDGER_OWNERS]--;
    expect_corrupt(f, "the overflow owner slot's bytes");
    l->owner_bytes[TERN_LEDGER_OWNERS]++;
    l->overhead += 8;
    expect_corrupt(f, "the overhead");
    l->overhead -= 8;
    assert_int_equal(tern_ledger_verify(l), TERN_OK);

    /* A heap block the books do not know: a valid-looking tag (category 0,
     * owner 0, no padding), then one that is no ledger tag at all. */
    void *stray = tern_heap_alloc(&f->heap, 16, 0);
    assert_non_null(stray);
    expect_corrupt(f, "a heap block missing from the books");
    assert_int_equal(tern_heap_free(&f->heap, stray), TERN_OK);
    stray = tern_heap_alloc(&f->heap, 16, 0x3Fu << 8);
    assert_non_null(stray);
    expect_corrupt(f, "a heap block with no ledger tag");
    assert_int_equal(tern_heap_free(&f->heap, stray), TERN_OK);

    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    tern_mem_free(l, a);
    tern_mem_free(l, b);
    tern_mem_free(l, c);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    assert_int_equal(heap_used(&f->heap), 0);
}

static void test_fault_injection(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->ledger;
    uint32_t start = tern_ledger_attempts(l);
    tern_ledger_fail_nth(l, 2, 0);
    void *a = tern_mem_alloc(l, 8, TERN_MEM_SOCKET, 1);
    void *b = tern_mem_alloc(l, 8, TERN_MEM_SOCKET, 1);
    void *c = tern_mem_alloc(l, 8, TERN_MEM_SOCKET, 1);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    assert_int_equal(tern_ledger_attempts(l) - start, 3);
    assert_int_equal(tern_ledger_category(l, TERN_MEM_SOCKET)->failures, 1);
    tern_ledger_fail_nth(l, 1, 1);
    assert_null(tern_mem_alloc(l, 8, TERN_MEM_APPLICATION, 0));
    assert_null(tern_mem_alloc(l, 8, TERN_MEM_APPLICATION, 0));
    assert_null(tern_mem_realloc(l, a, 100));
    tern_ledger_fail_nth(l, 0, 0);
    void *d = tern_mem_alloc(l, 8, TERN_MEM_APPLICATION, 0);
    assert_non_null(d);
    tern_mem_free(l, a);
    tern_mem_free(l, c);
    tern_mem_free(l, d);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    assert_int_equal(heap_used(&f->heap), 0);
}

static void test_reports(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->ledger;
    static tern_test_sink_t sink;
    tern_ledger_note_static(l, TERN_MEM_NETWORK_BUFFER, 24576);
    void *a = tern_mem_alloc(l, 300, TERN_MEM_ARP_CACHE, 0);
    void *b = tern_mem_alloc(l, 77, TERN_MEM_SOCKET, 4);
    tern_test_sink_reset(&sink);
    tern_ledger_report_text(l, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "ARP_CACHE"));
    assert_non_null(strstr(sink.text, "= heap used"));
    assert_non_null(strstr(sink.text, "socket 4 77"));
    assert_non_null(strstr(sink.text, "24576"));
    assert_null(strstr(sink.text, "BUG"));
    tern_test_sink_reset(&sink);
    tern_ledger_report_json(l, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "{\"name\":\"ARP_CACHE\",\"bytes\":300,"));
    assert_non_null(strstr(sink.text, "{\"owner\":4,\"bytes\":77}"));
    assert_non_null(strstr(sink.text, "\"static\":24576"));
    int depth = 0;
    for (const char *p = sink.text; *p; p++) {
        depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
        assert_true(depth >= 0);
    }
    assert_int_equal(depth, 0);
    tern_mem_free(l, a);
    tern_mem_free(l, b);
}

/* Applications name their categories at run time: one slot per name, the
 * same slot again for the same name, the reports show the name, and a full
 * table says so instead of sharing a slot. */
static void test_registered_categories(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->ledger;
    static tern_test_sink_t sink;
    assert_int_equal(tern_ledger_find_category(l, "SENSOR"), TERN_ERR_NOTFOUND);
    assert_string_equal(tern_ledger_category_label(l, TERN_MEM_APP_FIRST), "APP1");
    int cats[TERN_LEDGER_APP_CATEGORIES];
    static const char *const names[] = {"SENSOR", "LOGGER", "MQTT", "EXTRA"};
    _Static_assert(TERN_LEDGER_APP_CATEGORIES < sizeof names / sizeof names[0], "one name to spare");
    for (unsigned i = 0; i < TERN_LEDGER_APP_CATEGORIES; i++) {
        cats[i] = tern_ledger_register_category(l, names[i]);
        assert_int_equal(cats[i], TERN_MEM_APP_FIRST + (int)i);
        assert_int_equal(tern_ledger_register_category(l, names[i]), cats[i]);
        assert_int_equal(tern_ledger_find_category(l, names[i]), cats[i]);
        assert_string_equal(tern_ledger_category_label(l, (tern_mem_category_t)cats[i]), names[i]);
    }
    assert_int_equal(tern_ledger_register_category(l, names[TERN_LEDGER_APP_CATEGORIES]), TERN_ERR_NOMEM);
    assert_int_equal(tern_ledger_register_category(l, NULL), TERN_ERR_INVAL);
    /* The built-in names are not registered ones. */
    assert_string_equal(tern_ledger_category_label(l, TERN_MEM_ARP_CACHE), "ARP_CACHE");
    assert_int_equal(tern_ledger_find_category(l, "ARP_CACHE"), TERN_ERR_NOTFOUND);
    void *p = tern_mem_alloc(l, 40, (tern_mem_category_t)cats[0], 0);
    assert_non_null(p);
    assert_int_equal(tern_ledger_category(l, (tern_mem_category_t)cats[0])->bytes, 40);
    tern_test_sink_reset(&sink);
    tern_ledger_report_json(l, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "{\"name\":\"SENSOR\",\"bytes\":40,"));
    tern_test_sink_reset(&sink);
    tern_ledger_report_text(l, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "SENSOR"));
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    tern_mem_free(l, p);
}

/* A model of the books, rebuilt independently from what the test did. */
typedef struct live {
    void *p;
    size_t size;
    unsigned cat;
    unsigned owner;
} live_t;

static void test_random_against_model(void **state)
{
    fixture_t *f = *state;
    tern_ledger_t *l = &f->ledger;
    enum { MAX_LIVE = 256 };
    static live_t live[MAX_LIVE];
    size_t n = 0;
    tern_test_port_t rng;
    tern_test_port_init(&rng, tern_test_seed(12345));
    const int ops = 1000000; /* issue: a million mixed operations with the ledger sums checked */
    for (int i = 0; i < ops; i++) {
        uint32_t r = tern_test_rand(&rng);
        unsigned op = r % 8u;
        if ((op < 4u && n < MAX_LIVE) || n == 0) {
            size_t size = 1u + tern_test_rand(&rng) % ((r & 0x100u) ? 2000u : 64u);
            unsigned cat = tern_test_rand(&rng) % TERN_MEM_CATEGORY_COUNT;
            unsigned owner = tern_test_rand(&rng) % (TERN_LEDGER_OWNERS + 4u);
            void *p = tern_mem_alloc(l, size, (tern_mem_category_t)cat, owner);
            if (p)
                live[n++] = (live_t){p, size, cat, owner};
        } else if (op < 6u) {
            size_t k = tern_test_rand(&rng) % n;
            assert_int_equal(tern_mem_free(l, live[k].p), TERN_OK);
            live[k] = live[--n];
        } else if (op == 6u) {
            size_t k = tern_test_rand(&rng) % n;
            size_t size = 1u + tern_test_rand(&rng) % 1500u;
            void *p = tern_mem_realloc(l, live[k].p, size);
            if (p) {
                live[k].p = p;
                live[k].size = size;
            }
        } else {
            size_t k = tern_test_rand(&rng) % n;
            unsigned owner = tern_test_rand(&rng) % (TERN_LEDGER_OWNERS + 4u);
            assert_int_equal(tern_mem_set_owner(l, live[k].p, owner), TERN_OK);
            live[k].owner = owner;
        }
        if (i % 97 == 0 || i == ops - 1) {
            size_t bytes[TERN_MEM_CATEGORY_COUNT] = {0};
            size_t owners[TERN_LEDGER_OWNERS + 1] = {0};
            size_t total = 0;
            for (size_t k = 0; k < n; k++) {
                bytes[live[k].cat] += live[k].size;
                owners[live[k].owner < TERN_LEDGER_OWNERS ? live[k].owner : TERN_LEDGER_OWNERS] += live[k].size;
                total += live[k].size;
            }
            for (unsigned c = 0; c < TERN_MEM_CATEGORY_COUNT; c++)
                assert_int_equal(tern_ledger_category(l, (tern_mem_category_t)c)->bytes, bytes[c]);
            for (unsigned o = 0; o <= TERN_LEDGER_OWNERS; o++)
                assert_int_equal(tern_ledger_owner_bytes(l, o), owners[o]);
            assert_int_equal(tern_ledger_total_bytes(l), total);
            assert_int_equal(total + tern_ledger_overhead(l), heap_used(&f->heap));
            assert_int_equal(tern_ledger_verify(l), TERN_OK);
        }
    }
    while (n > 0)
        assert_int_equal(tern_mem_free(l, live[--n].p), TERN_OK);
    assert_int_equal(heap_used(&f->heap), 0);
    assert_int_equal(tern_ledger_overhead(l), 0);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alloc_free_books, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zalloc_and_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owners, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realloc_keeps_category, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_free_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_detects_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_injection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registered_categories, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_against_model, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
