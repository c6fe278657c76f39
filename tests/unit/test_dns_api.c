/* The DNS client's API outside a conversation with a server (issue 17,
 * measured coverage): every call on a stack whose client is not started,
 * a second start, the report with no server known and when stopped, a
 * lookup with no server (completes with TERN_ERR_STATE at once), the
 * query table read past its end, cancel of a pending lookup (its callback
 * never runs), the blocking form's argument checks. One stack on a capture
 * interface (frames.h); the conversations are test_dns.c's.
 * TERN_TEST_ONE_VARIANT */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern/dns.h"
#include "tern/err.h"
#include "tern_test.h"

typedef struct found {
    unsigned calls;
    int result;
} found_t;

static void on_found(tern_stack_t *stack, void *ctx, const char *name, int result, tern_ip4_t addr)
{
    found_t *f = ctx;
    (void)stack;
    (void)name;
    (void)addr;
    f->calls++;
    f->result = result;
}

static int setup(void **state)
{
    return net_fixture_setup(state, 91);
}

static int teardown(void **state)
{
    net_fixture_t *f = *state;
    tern_dns_stop(&f->stack);
    return net_fixture_teardown(state);
}

static int has(const tern_test_sink_t *sink, const char *text)
{
    return strstr(sink->text, text) != NULL;
}

/* Not started: every call is harmless and says so. */
static void test_not_started(void **state)
{
    net_fixture_t *f = *state;
    tern_stack_t *s = &f->stack;
    tern_ip4_t out[2] = {1, 1};
    assert_int_equal(tern_dns_get_servers(s, out, 2), 0);
    assert_int_equal(out[0], 1); /* untouched */
    tern_dns_query_info_t qi;
    assert_int_equal(tern_dns_query_info(s, 0, &qi), TERN_ERR_INVAL);
    assert_null(tern_dns_stats(s));
    assert_int_equal(tern_dns_cache_count(s), 0);
    tern_dns_cache_flush(s);
    found_t fd = {0, 0};
    tern_dns_cancel(s, on_found, &fd);
    tern_ip4_t a = 0;
    assert_int_equal(tern_dns_lookup(s, "example.org", &a, on_found, &fd), TERN_ERR_STATE);
    assert_int_equal(fd.calls, 0);
    static tern_test_sink_t sink;
    tern_test_sink_reset(&sink);
    tern_dns_report_text(s, tern_test_sink_write, &sink);
    assert_true(has(&sink, "dns: stopped"));
    assert_int_equal(tern_dns_start(NULL), TERN_ERR_INVAL);
#if TERN_OS
    assert_int_equal(tern_dns_resolve(NULL, "example.org", &a, 10), TERN_ERR_INVAL);
    assert_int_equal(tern_dns_resolve(s, NULL, &a, 10), TERN_ERR_INVAL);
#endif
}

/* Started with no server: the report says none, a lookup completes at once
 * with TERN_ERR_STATE; with a server, a pending lookup is listed, the
 * table read past its end is TERN_ERR_INVAL, and a cancelled lookup never
 * calls back. */
static void test_started(void **state)
{
    net_fixture_t *f = *state;
    tern_stack_t *s = &f->stack;
    assert_int_equal(tern_dns_start(s), TERN_OK);
    assert_int_equal(tern_dns_start(s), TERN_ERR_STATE); /* one client per stack */
    static tern_test_sink_t sink;
    tern_test_sink_reset(&sink);
    tern_dns_report_text(s, tern_test_sink_write, &sink);
    assert_true(has(&sink, "dns: servers none"));

    found_t fd = {0, 0};
    tern_ip4_t a = 0;
    assert_int_equal(tern_dns_lookup(s, "no-server.example", &a, on_found, &fd), TERN_ERR_STATE);
    assert_int_equal(fd.calls, 0);
    assert_int_equal(tern_dns_stats(s)->tx, 0);

    tern_ip4_t ns = FR_PEER_IP;
    assert_int_equal(tern_dns_set_servers(s, &ns, 1), TERN_OK);
    found_t fc = {0, 0};
    assert_int_equal(tern_dns_lookup(s, "pending.example", &a, on_found, &fc), TERN_ERR_INPROGRESS);
    assert_int_equal(tern_dns_stats(s)->tx, 1);
    tern_dns_query_info_t qi;
    assert_int_equal(tern_dns_query_info(s, 0, &qi), TERN_OK);
    assert_string_equal(qi.name, "pending.example");
    assert_int_equal(qi.server, FR_PEER_IP);
    assert_int_equal(qi.tries, 1);
    assert_int_equal(tern_dns_query_info(s, 0, NULL), TERN_OK);
    assert_int_equal(tern_dns_query_info(s, 1, &qi), TERN_ERR_INVAL);
    tern_dns_cancel(s, on_found, &fd); /* another context: nothing cancelled */
    assert_int_equal(tern_dns_query_info(s, 0, &qi), TERN_OK);
    tern_dns_cancel(s, on_found, &fc);
    assert_int_equal(tern_dns_query_info(s, 0, &qi), TERN_ERR_INVAL);
    tern_dns_cache_flush(s); /* empty cache: nothing to do */
    assert_int_equal(tern_dns_cache_count(s), 0);
    tern_dns_stop(s);
    assert_int_equal(fc.calls, 0); /* cancelled: never called back */
    capnet_clear(&f->cn);
}

/* The servers go away while a query waits for its answer: its retry finds
 * nobody to ask and completes it with TERN_ERR_STATE, once. */
static void test_servers_gone(void **state)
{
    net_fixture_t *f = *state;
    tern_stack_t *s = &f->stack;
    assert_int_equal(tern_dns_start(s), TERN_OK);
    tern_ip4_t ns = FR_PEER_IP;
    assert_int_equal(tern_dns_set_servers(s, &ns, 1), TERN_OK);
    found_t fd = {0, 0};
    tern_ip4_t a = 0;
    uint32_t now = f->now;
    (void)tern_poll(s, now);
    assert_int_equal(tern_dns_lookup(s, "gone.example", &a, on_found, &fd), TERN_ERR_INPROGRESS);
    (void)tern_poll(s, now);
    assert_int_equal(tern_dns_set_servers(s, NULL, 0), TERN_OK); /* back to DHCP's: none */
    for (unsigned ms = 0; ms < 20000 && fd.calls == 0; ms += 100)
        (void)tern_poll(s, now += 100);
    assert_int_equal(fd.calls, 1);
    assert_int_equal(fd.result, TERN_ERR_STATE);
    assert_int_equal(tern_dns_stats(s)->tx, 1); /* the retry sent nothing */
    assert_int_equal(tern_dns_query_info(s, 0, NULL), TERN_ERR_INVAL);
    f->now = now;
    tern_dns_stop(s);
    capnet_clear(&f->cn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_not_started, setup, teardown),
        cmocka_unit_test_setup_teardown(test_started, setup, teardown),
        cmocka_unit_test_setup_teardown(test_servers_gone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
