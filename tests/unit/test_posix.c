/* The Linux port's core lock and waiting: a thread blocked in
 * tern_netbuf_get (holding the core lock, which wait releases) is woken by a
 * release from another thread; a timeout without a release returns NULL.
 * Runs on both variants: both buffer schemes block the same way. */
#include "tern_test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tern/err.h"
#include "tern/stack.h"
#include "tern_posix.h"

typedef struct shared {
    tern_posix_t px;
    tern_stack_t stack;
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    tern_netbuf_t *got;
    int waiting;
} shared_t;

static void *getter(void *arg)
{
    shared_t *s = arg;
    tern_posix_lock(&s->px);
    s->waiting = 1;
    s->got = tern_netbuf_get(&s->stack.netbufs, 100, 10000);
    tern_posix_unlock(&s->px);
    return NULL;
}

static void test_blocking_get_woken_by_release(void **state)
{
    (void)state;
    shared_t *s = calloc(1, sizeof *s);
    assert_int_equal(tern_posix_init(&s->px), TERN_OK);
    assert_int_equal(tern_stack_init(&s->stack, &s->px.port), TERN_OK);
    tern_posix_lock(&s->px);
    for (unsigned i = 0; i < TERN_NETBUF_COUNT; i++) {
        s->held[i] = tern_netbuf_get(&s->stack.netbufs, 100, 0);
        assert_non_null(s->held[i]);
    }
    tern_posix_unlock(&s->px);

    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, getter, s), 0);
    /* Wait until the getter is blocked: it then waits on the condition
     * variable with the core lock released, so we can take it. */
    for (;;) {
        tern_posix_lock(&s->px);
        int ready = s->waiting && s->stack.netbufs.waiters == 1;
        tern_posix_unlock(&s->px);
        if (ready)
            break;
        usleep(1000);
    }
    tern_posix_lock(&s->px);
    tern_netbuf_t *released = s->held[5];
    tern_netbuf_release(&s->stack.netbufs, released);
    s->held[5] = NULL;
    tern_posix_unlock(&s->px);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_ptr_equal(s->got, released);
    assert_int_equal(s->stack.netbufs.waiters, 0);

    /* Nobody releases: the wait times out. */
    tern_posix_lock(&s->px);
    assert_null(tern_netbuf_get(&s->stack.netbufs, 100, 30));
    s->held[5] = s->got;
    for (unsigned i = 0; i < TERN_NETBUF_COUNT; i++)
        tern_netbuf_release(&s->stack.netbufs, s->held[i]);
    assert_int_equal(tern_netbuf_free_count(&s->stack.netbufs), TERN_NETBUF_COUNT);
    assert_int_equal(tern_ledger_verify(&s->stack.ledger), TERN_OK);
    tern_posix_unlock(&s->px);
    tern_stack_deinit(&s->stack);
    assert_int_equal(tern_ledger_total_bytes(&s->stack.ledger), 0);
    tern_posix_destroy(&s->px);
    free(s);
}

/* Per-waiter wake-ups (port.h wait_on/wake): a wake for one key signals
 * the thread waiting on it and the keyless waiters (poll), never a thread
 * waiting on another key; wake_all wakes everyone. */
typedef struct keyed {
    tern_posix_t *px;
    const void *key;
    int waiting, go, returns, rc;
} keyed_t;

static void *keyed_waiter(void *arg)
{
    keyed_t *k = arg;
    tern_posix_lock(k->px);
    k->waiting = 1;
    while (!k->go) {
        k->rc = k->key != NULL ? k->px->port.wait_on(k->px, k->key, 10000) : k->px->port.wait(k->px, 10000);
        k->returns++; /* every return from the wait, signalled or not */
    }
    k->waiting = 2;
    tern_posix_unlock(k->px);
    return NULL;
}

static int keyed_get(keyed_t *k, const int *field)
{
    tern_posix_lock(k->px);
    int v = *field;
    tern_posix_unlock(k->px);
    return v;
}

static void test_wake_only_the_waiter(void **state)
{
    (void)state;
    tern_posix_t px;
    assert_int_equal(tern_posix_init(&px), TERN_OK);
    assert_non_null(px.port.wait_on);
    assert_non_null(px.port.wake);
    static const int key_a = 1, key_b = 2;
    keyed_t ka = {.px = &px, .key = &key_a}, kb = {.px = &px, .key = &key_b}, kp = {.px = &px, .key = NULL};
    pthread_t ta, tb, tp;
    assert_int_equal(pthread_create(&ta, NULL, keyed_waiter, &ka), 0);
    assert_int_equal(pthread_create(&tb, NULL, keyed_waiter, &kb), 0);
    assert_int_equal(pthread_create(&tp, NULL, keyed_waiter, &kp), 0);
    /* Each sets waiting under the lock and waits, releasing it: once we
     * see all three waiting, all three are inside the wait. */
    while (keyed_get(&ka, &ka.waiting) != 1 || keyed_get(&kb, &kb.waiting) != 1 || keyed_get(&kp, &kp.waiting) != 1)
        usleep(1000);
    tern_posix_lock(&px);
    ka.go = kp.go = 1;
    px.port.wake(&px, &key_a);
    tern_posix_unlock(&px);
    assert_int_equal(pthread_join(ta, NULL), 0);
    assert_int_equal(pthread_join(tp, NULL), 0);
    assert_int_equal(ka.rc, TERN_OK);
    assert_int_equal(kp.rc, TERN_OK);
    /* B was not signalled: it never returned from its wait. */
    usleep(20000);
    assert_int_equal(keyed_get(&kb, &kb.returns), 0);
    assert_int_equal(keyed_get(&kb, &kb.waiting), 1);
    tern_posix_lock(&px);
    kb.go = 1;
    px.port.wake_all(&px);
    tern_posix_unlock(&px);
    assert_int_equal(pthread_join(tb, NULL), 0);
    assert_int_equal(kb.rc, TERN_OK);
    assert_int_equal(kb.returns, 1);
    assert_null(px.waiters);
    tern_posix_destroy(&px);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocking_get_woken_by_release),
        cmocka_unit_test(test_wake_only_the_waiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
