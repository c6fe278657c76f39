/* TERN_TEST_STATIC_VARIANT */
/* Connection bookkeeping at its failure points (src/net/tcp_conn.c; issue
 * 17, measured coverage):
 *  - the first listen allocates the shared pools (out-of-order ranges,
 *    TIME-WAIT table): each allocation of tern_tcp_listen failing in turn
 *    returns NULL with TERN_ERR_NOMEM; a pool failing gives back the one
 *    made before it, and the next listen succeeds;
 *  - an application that aborts the connection inside its error callback:
 *    one callback, the structure freed once, memory back at the baseline.
 * Broken on purpose once: tcp_pools_ensure not freeing the range pool when
 * the TIME-WAIT table fails made test_listen_pools_fail fail (the ledger
 * kept the bytes). */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"

#define PEER_PORT 8081u

static void test_listen_pools_fail(void **state)
{
    (void)state;
    net_fixture_t *f = net_fixture_new(181);
    size_t base = tern_ledger_total_bytes(&f->stack.ledger);
    unsigned failed = 0;
    tern_tcp_pcb_t *l = NULL;
    for (uint32_t k = 1; k < 10u && l == NULL; k++) {
        int err = 0;
        tern_ledger_fail_nth(&f->stack.ledger, k, 0);
        l = tern_tcp_listen(&f->stack, 80, 4, NULL, NULL, &err);
        tern_ledger_fail_nth(&f->stack.ledger, 0, 0);
        if (l == NULL) {
            assert_int_equal(err, TERN_ERR_NOMEM);
            /* The pools are all or nothing; once made they are kept (until
             * deinit) when the listener's own structure fails after them. */
            if (k <= 2u)
                assert_int_equal(tern_ledger_total_bytes(&f->stack.ledger), base);
            assert_int_equal(tern_ledger_verify(&f->stack.ledger), TERN_OK);
            failed++;
        }
    }
    assert_non_null(l);
    assert_int_equal(failed, 3u); /* range pool, TIME-WAIT table, the listener */
    assert_true(tern_ledger_total_bytes(&f->stack.ledger) > base);
    tern_tcp_abort(l);
    assert_int_equal(tern_tcp_close(l), TERN_ERR_STATE);
    f->now += 1000;
    tern_poll(&f->stack, f->now);
    mem_snapshot(&f->stack, &f->base);
    net_fixture_free(f);
}

typedef struct app {
    int errors, last_err;
} app_t;

static void on_error_abort(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    app_t *a = arg;
    a->errors++;
    a->last_err = err;
    tern_tcp_abort(pcb); /* already dying: nothing more happens */
}

static const tern_tcp_callbacks_t abort_cbs = {.error = on_error_abort};

static void test_abort_in_error_callback(void **state)
{
    (void)state;
    tcp_fixture_t *t = tcp_fixture_new(182, 80);
    app_t a = {0};
    int err = 0;
    capnet_clear(&t->f->cn);
    tern_tcp_pcb_t *pcb = tern_tcp_connect(&t->f->stack, FR_PEER_IP, PEER_PORT, &abort_cbs, &a, &err);
    assert_non_null(pcb);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    uint32_t iss = be32_get(h + 4);
    uint16_t lport = (uint16_t)be16_get(h);
    capnet_clear(&t->f->cn);
    tcp_fixture_rx(t, PEER_PORT, lport, 0, iss + 1u, TCP_RST | TCP_ACK, 0, NULL, 0, NULL, 0);
    assert_int_equal(a.errors, 1);
    assert_int_equal(a.last_err, TERN_ERR_REFUSED);
    assert_int_equal(t->f->cn.count, 0); /* the abort sends no reset for a refused connection */
    tcp_fixture_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_pools_fail),
        cmocka_unit_test(test_abort_in_error_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
