/* Threads blocked in the socket API, counted at the port's wait (threads.h). */
#include "threads.h"

#include <stdatomic.h>
#include <time.h>
#include "tern_test.h"
#include "tern/err.h"

static atomic_int g_waiting;
static atomic_int g_waits;
static atomic_int g_timeouts;
static int (*g_orig_wait)(void *ctx, uint32_t timeout_ms);

static int counting_wait(void *ctx, uint32_t timeout_ms)
{
    atomic_fetch_add(&g_waits, 1);
    atomic_fetch_add(&g_waiting, 1);
    int r = g_orig_wait(ctx, timeout_ms);
    if (r == TERN_ERR_TIMEOUT)
        atomic_fetch_add(&g_timeouts, 1);
    atomic_fetch_sub(&g_waiting, 1);
    return r;
}

/* The same for waits on one socket (port.h wait_on). */
static int (*g_orig_wait_on)(void *ctx, const void *key, uint32_t timeout_ms);

static int counting_wait_on(void *ctx, const void *key, uint32_t timeout_ms)
{
    atomic_fetch_add(&g_waits, 1);
    atomic_fetch_add(&g_waiting, 1);
    int r = g_orig_wait_on(ctx, key, timeout_ms);
    if (r == TERN_ERR_TIMEOUT)
        atomic_fetch_add(&g_timeouts, 1);
    atomic_fetch_sub(&g_waiting, 1);
    return r;
}

void th_wrap_wait(tern_port_t *port)
{
    g_orig_wait = port->wait;
    port->wait = counting_wait;
    g_orig_wait_on = port->wait_on;
    if (port->wait_on != NULL)
        port->wait_on = counting_wait_on;
    atomic_store(&g_waiting, 0);
    atomic_store(&g_waits, 0);
    atomic_store(&g_timeouts, 0);
}

int th_waiting(void)
{
    return atomic_load(&g_waiting);
}

int th_waits(void)
{
    return atomic_load(&g_waits);
}

int th_timeouts(void)
{
    return atomic_load(&g_timeouts);
}

void th_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

void th_wait_for_waiters(int n)
{
    while (th_waiting() < n)
        th_sleep_ms(1);
}

void th_start(pthread_t *th, void *(*fn)(void *), void *arg)
{
    assert_int_equal(pthread_create(th, NULL, fn, arg), 0);
}

void th_join(pthread_t th)
{
    assert_int_equal(pthread_join(th, NULL), 0);
}
