/* TERN_TEST_ONE_VARIANT */
/* The HTTP server's start when it cannot start (apps/http/http_server.c;
 * issue 17, measured coverage): the port taken by another server, no
 * socket left, no application memory category left. Each returns the
 * error of the call that failed, leaves no socket open and no memory
 * held, and the server stays stopped: poll says it has nothing to wait
 * for, wait says TERN_ERR_STATE, stop is harmless.
 * Broken on purpose once: tern_http_server_start without the tern_close of
 * its socket when bind failed made test_port_taken fail (a socket left). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/http.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern_test.h"

static tern_stack_t *stack_new(tern_test_port_t *tp, uint64_t seed)
{
    tern_test_port_init(tp, seed);
    tp->quiet = 1;
    tern_stack_t *s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(tern_stack_init(s, &tp->port), TERN_OK);
    return s;
}

static unsigned sockets_open(tern_stack_t *s)
{
    return (unsigned)tern_socket_list(s, NULL, 0);
}

static void assert_stopped(tern_http_server_t *srv)
{
    assert_int_equal(tern_http_server_poll(srv, 0), UINT32_MAX);
    assert_int_equal(tern_http_server_wait(srv, 0), TERN_ERR_STATE);
    tern_http_server_stop(srv);
}

static void test_port_taken(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_stack_t *s = stack_new(&tp, 21);
    tern_http_server_t *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(tern_http_server_start(a, s, 8080, NULL, NULL), TERN_OK);
    unsigned open = sockets_open(s);
    assert_int_equal(open, 1);
    size_t bytes = tern_ledger_total_bytes(&s->ledger);
    assert_int_equal(tern_http_server_start(b, s, 8080, NULL, NULL), TERN_ERR_ADDRINUSE);
    assert_int_equal(sockets_open(s), open);
    assert_int_equal(tern_ledger_total_bytes(&s->ledger), bytes);
    assert_stopped(b);
    tern_http_server_stop(a);
    assert_int_equal(sockets_open(s), 0);
    free(a);
    free(b);
    tern_stack_deinit(s);
    free(s);
}

static void test_no_socket_left(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_stack_t *s = stack_new(&tp, 22);
    int socks[TERN_SOCKET_MAX];
    unsigned n = 0;
    int r;
    while ((r = tern_socket(s, TERN_SOCK_DGRAM)) > 0)
        socks[n++] = r;
    assert_true(n > 0u);
    tern_http_server_t *srv = calloc(1, sizeof *srv);
    assert_non_null(srv);
    assert_int_equal(tern_http_server_start(srv, s, 0, NULL, NULL), r);
    assert_true(r < 0);
    assert_stopped(srv);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(tern_close(s, socks[i]), TERN_OK);
    /* With sockets back it starts (port 0: 80). */
    assert_int_equal(tern_http_server_start(srv, s, 0, NULL, NULL), TERN_OK);
    assert_int_equal(srv->port, 80);
    tern_http_server_stop(srv);
    free(srv);
    tern_stack_deinit(s);
    free(s);
}

static void test_no_category_left(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_stack_t *s = stack_new(&tp, 23);
    static char names[64][8];
    unsigned k = 0;
    int r;
    do {
        snprintf(names[k], sizeof names[k], "app%u", k);
        r = tern_ledger_register_category(&s->ledger, names[k]);
        k++;
    } while (r >= 0 && k < 64u);
    assert_int_equal(r, TERN_ERR_NOMEM);
    tern_http_server_t *srv = calloc(1, sizeof *srv);
    assert_non_null(srv);
    assert_int_equal(tern_http_server_start(srv, s, 8081, NULL, NULL), TERN_ERR_NOMEM);
    assert_int_equal(sockets_open(s), 0);
    assert_stopped(srv);
    free(srv);
    tern_stack_deinit(s);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_taken),
        cmocka_unit_test(test_no_socket_left),
        cmocka_unit_test(test_no_category_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
