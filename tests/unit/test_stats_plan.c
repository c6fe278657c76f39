/* The "plan" section of /api/stats (tern_stats_plan_json, apps/http): the
 * planner's figures for the workload it is given, as the planner computes
 * them from this build's own size table: heap_need, margin, and one member
 * per category the workload uses, none for the others (issue 17, measured
 * coverage). Both buffer variants: the HEAP one plans IP reassembly too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/plan.h"
#include "tern/stack.h"
#include "tern/stats.h"
#include "tern_test.h"

static tern_test_sink_t sink;

/* "key":value in the document, value as a decimal. */
static int has_member(const char *key, uint64_t v)
{
    char want[96];
    (void)snprintf(want, sizeof want, "\"%s\":%llu", key, (unsigned long long)v);
    return strstr(sink.text, want) != NULL;
}

static void test_plan_section(void **state)
{
    (void)state;
    tern_plan_workload_t w;
    memset(&w, 0, sizeof w);
    w.udp_sockets = 2;
    w.udp_queued = 3;
    w.udp_datagram = 512;
    w.reass_datagrams = 2;
    w.reass_bytes = 3000;
    w.dns = 1;
    w.dns_entries = 4;
    w.dns_queries = 1;
    w.dns_name = 40;
    w.app_blocks = 1;
    w.app_block_bytes = 100;

    tern_plan_sizes_t sz;
    assert_true(tern_plan_sizes_self(&sz) > 0); /* the build's own table is linked in */
    tern_plan_t p;
    tern_plan_compute(&sz, &w, &p);
    assert_true(p.heap_need > 0);

    tern_test_sink_reset(&sink);
    tern_stats_plan_json(NULL, &w, tern_test_sink_write, &sink);
    assert_int_equal(sink.text[0], '{');
    assert_int_equal(sink.text[sink.len - 1], '}');
    assert_true(has_member("heap_need", p.heap_need));
    assert_true(has_member("margin", p.margin));
    unsigned listed = 0;
    for (unsigned c = 0; c < TERN_PLAN_CAT_COUNT; c++) {
        char key[64];
        (void)snprintf(key, sizeof key, "\"%s\":", tern_plan_cat_name(c));
        if (p.cat[c].bytes == 0) {
            assert_null(strstr(sink.text, key)); /* unused categories are left out */
            continue;
        }
        assert_true(has_member(tern_plan_cat_name(c), p.cat[c].bytes));
        listed++;
    }
    assert_true(listed >= 2); /* the DNS client's and the application's at least */
    assert_true(p.cat[TERN_PLAN_CAT_DNS_CACHE].bytes > 0);
    assert_true(p.cat[TERN_MEM_APPLICATION].bytes >= 100);
    /* reassembly is planned where the build reassembles, and only there */
    if (sz.ip_reassembly)
        assert_true(p.cat[TERN_MEM_IP_REASSEMBLY].bytes >= 2u * 3000u);
    else
        assert_int_equal(p.cat[TERN_MEM_IP_REASSEMBLY].bytes, 0);
    assert_string_equal(tern_plan_cat_name(TERN_PLAN_CAT_COUNT), "?");
    assert_string_equal(tern_plan_cat_name(TERN_PLAN_CAT_DNS_CACHE), "DNS_CACHE");

    /* an empty workload: only what every stack holds, fewer bytes */
    tern_plan_t p0;
    memset(&w, 0, sizeof w);
    tern_plan_compute(&sz, &w, &p0);
    tern_test_sink_reset(&sink);
    tern_stats_plan_json(NULL, &w, tern_test_sink_write, &sink);
    assert_true(has_member("heap_need", p0.heap_need));
    assert_true(p0.heap_need < p.heap_need);
    assert_null(strstr(sink.text, "\"DNS_CACHE\":"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
