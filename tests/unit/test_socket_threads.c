/* The blocking socket API with real threads on the posix port (TERN_OS=1):
 * application threads block in recvfrom, poll and sendto while the test's
 * main thread plays the stack thread, feeding frames under the core lock.
 *
 * No timing decides a result: the port's wait hook is wrapped to count
 * waiters, and the main thread acts only once a thread is inside wait (so
 * the wake-up path is what is tested, not a lucky ordering). Timeouts are
 * checked against their lower bound on the same clock the stack uses.
 * Waits that a wake-up should end are bounded by BOUND_MS all the same, so
 * a lost wake-up fails the test with TERN_ERR_TIMEOUT instead of hanging it
 * (one test keeps a truly unbounded wait). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "frames.h"
#include "tern/err.h"
#include "tern_posix.h"
#include "threads.h"

typedef struct tworld {
    tern_posix_t px;
    tern_port_t port; /* px.port with the wait hook wrapped */
    tern_stack_t *stack;
    capnet_t *cn;
} tworld_t;

#define BOUND_MS 10000u

static int setup(void **state)
{
    tworld_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(tern_posix_init(&w->px), TERN_OK);
    w->px.log_level = TERN_LOG_ERROR;
    w->port = w->px.port;
    th_wrap_wait(&w->port);
    w->stack = calloc(1, sizeof *w->stack);
    w->cn = calloc(1, sizeof *w->cn);
    assert_true(w->stack && w->cn);
    assert_int_equal(tern_stack_init(w->stack, &w->port), TERN_OK);
    tern_posix_lock(&w->px);
    capnet_setup(w->cn, w->stack, "cap0", FR_OUR_MAC);
    capnet_up(w->cn, FR_OUR_IP, FR_NETMASK, FR_PEER_IP);
    uint8_t fr[FRAME_MAX];
    size_t n = frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_PEER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
    capnet_rx(w->cn, fr, n, tern_posix_now_ms());
    capnet_clear(w->cn);
    tern_posix_unlock(&w->px);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    tworld_t *w = *state;
    tern_socket_close_all(w->stack);
    tern_stack_deinit(w->stack);
    assert_int_equal(tern_ledger_total_bytes(&w->stack->ledger), 0);
    assert_int_equal(tern_ledger_verify(&w->stack->ledger), TERN_OK);
    assert_int_equal(tern_netbuf_free_count(&w->stack->netbufs), TERN_NETBUF_COUNT);
    free(w->cn);
    free(w->stack);
    tern_posix_destroy(&w->px);
    free(w);
    return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* A datagram from the peer arrives (the stack thread's job: under the lock). */
static void deliver(tworld_t *w, uint16_t sport, uint16_t dport, const void *data, size_t len)
{
    uint8_t udp[FRAME_MAX], fr[FRAME_MAX];
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (uint16_t)(8 + len));
    put16(udp + 6, 0); /* no checksum: allowed, and not what this test is about */
    memcpy(udp + 8, data, len);
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 17};
    size_t n = frame_ip_eth(fr, &ip, udp, 8 + len);
    tern_posix_lock(&w->px);
    capnet_rx(w->cn, fr, n, tern_posix_now_ms());
    tern_posix_unlock(&w->px);
}

static int bound_socket(tworld_t *w, uint16_t port)
{
    int s = tern_socket(w->stack, TERN_SOCK_DGRAM);
    assert_true(s > 0);
    tern_sockaddr_t l = {.addr = 0, .port = port};
    assert_int_equal(tern_bind(w->stack, s, &l), TERN_OK);
    return s;
}

/* ---- a thread making one call --------------------------------------------- */

typedef struct call {
    tworld_t *w;
    int sock;
    int result;
    uint8_t buf[64];
    tern_sockaddr_t from;
    tern_pollfd_t fds[3];
    size_t nfds;
    uint32_t timeout;
    uint32_t elapsed;
    pthread_t th;
} call_t;

static void *do_recv(void *arg)
{
    call_t *c = arg;
    uint32_t t0 = tern_posix_now_ms();
    c->result = tern_recvfrom(c->w->stack, c->sock, c->buf, sizeof c->buf, 0, &c->from);
    c->elapsed = tern_posix_now_ms() - t0;
    return NULL;
}

static void *do_poll(void *arg)
{
    call_t *c = arg;
    uint32_t t0 = tern_posix_now_ms();
    c->result = tern_socket_poll(c->w->stack, c->fds, c->nfds, c->timeout);
    c->elapsed = tern_posix_now_ms() - t0;
    return NULL;
}

static void *do_send(void *arg)
{
    call_t *c = arg;
    tern_sockaddr_t to = {.addr = FR_PEER_IP, .port = 9};
    uint32_t t0 = tern_posix_now_ms();
    c->result = tern_sendto(c->w->stack, c->sock, "blocked send", 12, 0, &to);
    c->elapsed = tern_posix_now_ms() - t0;
    return NULL;
}

/* ---- tests ------------------------------------------------------------------ */

/* The one unbounded wait (RCVTIMEO 0 = forever). */
static void test_recv_woken_by_data(void **state)
{
    tworld_t *w = *state;
    int s = bound_socket(w, 7000);
    call_t c = {.w = w, .sock = s};
    th_start(&c.th, do_recv, &c);
    th_wait_for_waiters(1);
    deliver(w, 4321, 7000, "wake up", 7);
    th_join(c.th);
    assert_int_equal(c.result, 7);
    assert_int_equal(th_timeouts(), 0);
    assert_memory_equal(c.buf, "wake up", 7);
    assert_int_equal(c.from.addr, FR_PEER_IP);
    assert_int_equal(c.from.port, 4321);
    assert_true(th_waits() >= 1);
    assert_int_equal(tern_close(w->stack, s), TERN_OK);
}

static void test_recv_timeouts(void **state)
{
    tworld_t *w = *state;
    int s = bound_socket(w, 7000);
    assert_int_equal(tern_setsockopt(w->stack, s, TERN_SO_RCVTIMEO, 60), TERN_OK);
    call_t c = {.w = w, .sock = s};
    th_start(&c.th, do_recv, &c);
    th_join(c.th);
    assert_int_equal(c.result, TERN_ERR_TIMEOUT);
    assert_true(c.elapsed >= 60);
    /* Non-blocking forms return at once without waiting. */
    int waits = th_waits();
    uint8_t buf[8];
    assert_int_equal(tern_recv(w->stack, s, buf, sizeof buf, TERN_MSG_DONTWAIT), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_setsockopt(w->stack, s, TERN_SO_NONBLOCK, 1), TERN_OK);
    assert_int_equal(tern_recv(w->stack, s, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);
    assert_int_equal(th_waits(), waits);
    /* Data already queued: no wait either. */
    assert_int_equal(tern_socket_set_blocking(w->stack, s, 1), TERN_OK);
    deliver(w, 1, 7000, "ready", 5);
    assert_int_equal(tern_recv(w->stack, s, buf, sizeof buf, 0), 5);
    assert_int_equal(th_waits(), waits);
    assert_int_equal(tern_close(w->stack, s), TERN_OK);
}

static void test_poll_several(void **state)
{
    tworld_t *w = *state;
    int a = bound_socket(w, 7001), b = bound_socket(w, 7002), c3 = bound_socket(w, 7003);
    call_t c = {.w = w, .nfds = 3, .timeout = BOUND_MS};
    c.fds[0] = (tern_pollfd_t){a, TERN_POLLIN, 0};
    c.fds[1] = (tern_pollfd_t){b, TERN_POLLIN, 0};
    c.fds[2] = (tern_pollfd_t){c3, TERN_POLLIN, 0};
    th_start(&c.th, do_poll, &c);
    th_wait_for_waiters(1);
    deliver(w, 1, 7002, "for b", 5);
    th_join(c.th);
    assert_int_equal(th_timeouts(), 0);
    assert_int_equal(c.result, 1);
    assert_int_equal(c.fds[0].revents, 0);
    assert_int_equal(c.fds[1].revents, TERN_POLLIN);
    assert_int_equal(c.fds[2].revents, 0);
    /* A timeout with nothing ready: 0, not before the time. */
    uint8_t buf[8];
    assert_int_equal(tern_recv(w->stack, b, buf, sizeof buf, 0), 5);
    c.timeout = 50;
    th_start(&c.th, do_poll, &c);
    th_join(c.th);
    assert_int_equal(c.result, 0);
    assert_true(c.elapsed >= 50);
    /* Closing a polled socket from another thread ends the wait. */
    c.timeout = BOUND_MS;
    th_start(&c.th, do_poll, &c);
    th_wait_for_waiters(1);
    int timeouts = th_timeouts();
    assert_int_equal(tern_close(w->stack, c3), TERN_OK);
    th_join(c.th);
    assert_int_equal(th_timeouts(), timeouts);
    assert_int_equal(c.result, 1);
    assert_int_equal(c.fds[2].revents, TERN_POLLNVAL);
    tern_socket_close_all(w->stack);
}

static void test_close_and_shutdown_wake(void **state)
{
    tworld_t *w = *state;
    /* Fill every other id so the closed socket's id is reused at once: the
     * woken thread must still see its own socket gone. */
    int s = bound_socket(w, 7000);
    assert_int_equal(tern_setsockopt(w->stack, s, TERN_SO_RCVTIMEO, BOUND_MS), TERN_OK);
    int others[TERN_SOCKET_MAX];
    int n = 0, id;
    while ((id = tern_socket(w->stack, TERN_SOCK_DGRAM)) > 0)
        others[n++] = id;
    assert_int_equal(n, TERN_SOCKET_MAX - 1);
    call_t c = {.w = w, .sock = s};
    th_start(&c.th, do_recv, &c);
    th_wait_for_waiters(1);
    assert_int_equal(tern_close(w->stack, s), TERN_OK);
    assert_int_equal(tern_socket(w->stack, TERN_SOCK_DGRAM), s);
    /* Bounded too: a thread that took it for its own would time out. */
    assert_int_equal(tern_setsockopt(w->stack, s, TERN_SO_RCVTIMEO, BOUND_MS), TERN_OK);
    th_join(c.th);
    assert_int_equal(c.result, TERN_ERR_BADF);
    assert_int_equal(th_timeouts(), 0);
    assert_int_equal(tern_close(w->stack, s), TERN_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(tern_close(w->stack, others[i]), TERN_OK);
    /* Shutdown for reading wakes a blocked reader with CLOSED. */
    s = bound_socket(w, 7000);
    assert_int_equal(tern_setsockopt(w->stack, s, TERN_SO_RCVTIMEO, BOUND_MS), TERN_OK);
    c.sock = s;
    th_start(&c.th, do_recv, &c);
    th_wait_for_waiters(1);
    assert_int_equal(tern_shutdown(w->stack, s, TERN_SHUT_RD), TERN_OK);
    th_join(c.th);
    assert_int_equal(c.result, TERN_ERR_CLOSED);
    assert_int_equal(th_timeouts(), 0);
    assert_int_equal(tern_close(w->stack, s), TERN_OK);
}

static void test_send_waits_for_a_buffer(void **state)
{
    tworld_t *w = *state;
    int s = bound_socket(w, 7000);
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    unsigned k = 0;
    tern_posix_lock(&w->px);
    while (k < TERN_NETBUF_COUNT && (held[k] = tern_netbuf_get(&w->stack->netbufs, 64, 0)) != NULL)
        k++;
    tern_posix_unlock(&w->px);
    assert_int_equal(k, TERN_NETBUF_COUNT);
    /* Bounded by SNDTIMEO. */
    assert_int_equal(tern_setsockopt(w->stack, s, TERN_SO_SNDTIMEO, 40), TERN_OK);
    call_t c = {.w = w, .sock = s};
    th_start(&c.th, do_send, &c);
    th_join(c.th);
    assert_int_equal(c.result, TERN_ERR_TIMEOUT);
    assert_true(c.elapsed >= 40);
    /* A released buffer lets it through. */
    assert_int_equal(tern_setsockopt(w->stack, s, TERN_SO_SNDTIMEO, BOUND_MS), TERN_OK);
    int timeouts = th_timeouts();
    th_start(&c.th, do_send, &c);
    th_wait_for_waiters(1);
    tern_posix_lock(&w->px);
    capnet_clear(w->cn);
    tern_netbuf_release(&w->stack->netbufs, held[--k]);
    tern_posix_unlock(&w->px);
    th_join(c.th);
    assert_int_equal(c.result, 12);
    assert_int_equal(th_timeouts(), timeouts); /* woken by the release */
    assert_int_equal(w->cn->count, 1);
    assert_memory_equal(capnet_frame(w->cn, 0, NULL) + 42, "blocked send", 12);
    /* POLLOUT waits for a buffer the same way. */
    tern_posix_lock(&w->px);
    held[k] = tern_netbuf_get(&w->stack->netbufs, 64, 0);
    assert_non_null(held[k]);
    k++;
    tern_posix_unlock(&w->px);
    call_t p = {.w = w, .nfds = 1, .timeout = BOUND_MS};
    p.fds[0] = (tern_pollfd_t){s, TERN_POLLOUT, 0};
    th_start(&p.th, do_poll, &p);
    th_wait_for_waiters(1);
    tern_posix_lock(&w->px);
    tern_netbuf_release(&w->stack->netbufs, held[--k]);
    tern_posix_unlock(&w->px);
    th_join(p.th);
    assert_int_equal(p.result, 1);
    assert_int_equal(p.fds[0].revents, TERN_POLLOUT);
    assert_int_equal(th_timeouts(), timeouts);
    tern_posix_lock(&w->px);
    while (k > 0)
        tern_netbuf_release(&w->stack->netbufs, held[--k]);
    tern_posix_unlock(&w->px);
    assert_int_equal(tern_close(w->stack, s), TERN_OK);
}

/* Two reader threads, blocking, while the main thread delivers datagrams to
 * both sockets as fast as it can: every datagram is either read intact and
 * in order or counted as a queue-full drop. */
typedef struct reader {
    tworld_t *w;
    int sock;
    unsigned got, bad, last;
    pthread_t th;
} reader_t;

static void *do_read_all(void *arg)
{
    reader_t *r = arg;
    uint8_t buf[64];
    r->last = 0;
    for (;;) {
        int n = tern_recv(r->w->stack, r->sock, buf, sizeof buf, 0);
        if (n == TERN_ERR_CLOSED || n == TERN_ERR_TIMEOUT) {
            r->bad += n == TERN_ERR_TIMEOUT; /* the shutdown's wake-up was lost */
            return NULL;
        }
        if (n != 8) {
            r->bad++;
            continue;
        }
        unsigned seq = (unsigned)buf[0] << 24 | (unsigned)buf[1] << 16 | (unsigned)buf[2] << 8 | buf[3];
        if (seq <= r->last || memcmp(buf + 4, "data", 4) != 0)
            r->bad++;
        r->last = seq;
        r->got++;
    }
}

static void test_concurrent_readers(void **state)
{
    tworld_t *w = *state;
    reader_t r[2] = {{.w = w}, {.w = w}};
    r[0].sock = bound_socket(w, 7100);
    r[1].sock = bound_socket(w, 7101);
    for (int i = 0; i < 2; i++)
        assert_int_equal(tern_setsockopt(w->stack, r[i].sock, TERN_SO_RCVTIMEO, BOUND_MS), TERN_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&r[i].th, NULL, do_read_all, &r[i]), 0);
    const unsigned count = 2000;
    for (unsigned seq = 1; seq <= count; seq++) {
        uint8_t d[8] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq, 'd', 'a', 't', 'a'};
        deliver(w, 1, (uint16_t)(7100 + seq % 2), d, sizeof d);
        if (seq % 64 == 0)
            th_sleep_ms(1); /* let the readers catch up now and then */
    }
    /* Wait until both are idle in recv with an empty queue, then end them. */
    uint32_t q0 = 1, q1 = 1;
    while (q0 != 0 || q1 != 0 || th_waiting() < 2) {
        th_sleep_ms(1);
        assert_int_equal(tern_getsockopt(w->stack, r[0].sock, TERN_SO_RXQ_LEN, &q0), TERN_OK);
        assert_int_equal(tern_getsockopt(w->stack, r[1].sock, TERN_SO_RXQ_LEN, &q1), TERN_OK);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(tern_shutdown(w->stack, r[i].sock, TERN_SHUT_RD), TERN_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(r[i].th, NULL), 0);
    const tern_counters_t *cnt = tern_stack_counters(w->stack);
    assert_int_equal(r[0].bad + r[1].bad, 0);
    assert_int_equal(r[0].got + r[1].got + cnt->udp_drop_queue_full, count);
    assert_true(r[0].got > 0 && r[1].got > 0);
    print_message("concurrent readers: %u + %u read, %u dropped (queue full)\n", r[0].got, r[1].got,
                  (unsigned)cnt->udp_drop_queue_full);
    tern_socket_close_all(w->stack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recv_woken_by_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll_several, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_and_shutdown_wake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_waits_for_a_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_readers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
