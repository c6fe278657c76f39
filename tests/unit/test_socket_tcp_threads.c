/* Blocking TCP sockets with real threads on the posix port (TERN_OS=1):
 * two stacks on the virtual wire, one core lock (one tern_posix_t) for
 * both, a driver thread playing the stack thread (it moves the wire to the
 * real clock and polls both stacks under the lock, as the posix runner
 * does), and application threads blocked in tern_accept, tern_connect,
 * tern_recv, tern_send (on a full send ring) and tern_socket_poll.
 *
 * No timing decides a result: the port's wait hook is wrapped to count the
 * threads inside it, and the main thread acts only once the thread under
 * test is waiting there, so the wake-up path is what is tested. Waits that a
 * wake-up should end are bounded by BOUND_MS all the same (a lost wake-up
 * fails with TERN_ERR_TIMEOUT, counted by the hook, instead of hanging).
 * SO_RCVTIMEO / SO_SNDTIMEO are checked against their lower bound on the
 * clock the socket layer uses (the port's now_ms: the wire's clock, which
 * follows the real one). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern_posix.h"
#include "threads.h"
#include "tern_test.h"
#include "wire2.h"

#define IP_NOBODY TERN_IP4(192, 0, 2, 99) /* nobody answers ARP for it */
#define PORT 8080
#define BOUND_MS 20000u

typedef struct tworld {
    tern_posix_t px;
    tern_port_t port; /* px.port with the wait hook wrapped, both stacks */
    wire2_t n;
    pthread_t driver;
    atomic_int stop;
    size_t base_a, base_b; /* ledger bytes once TCP's pools exist */
    uint16_t next_port;    /* each pair its own listening port: a closing
                              connection keeps its port busy a while */
} tworld_t;

static atomic_uint g_clock;  /* the wire's time: the port's now_ms */
/* The port's clock is the wire's: socket calls stamp the stack with it
 * (timestamps, timers), so a stack never sees time go back between a
 * socket call and the driver's next turn. It follows the real clock a
 * millisecond or so behind: a timeout measured on it is at least as long on
 * the real clock. */
static uint32_t wire_now(void *ctx)
{
    (void)ctx;
    return atomic_load(&g_clock);
}

/* The stack thread: the wire follows the real clock; every frame due is
 * delivered and both stacks' timers run, under the core lock. */
static void *driver_main(void *arg)
{
    tworld_t *w = arg;
    while (!atomic_load(&w->stop)) {
        tern_posix_lock(&w->px);
        uint32_t now = tern_posix_now_ms();
        if ((int32_t)(now - tern_vwire_now(&w->n.wire)) > 0)
            atomic_store(&g_clock, tern_vwire_run(&w->n.wire, now));
        tern_posix_unlock(&w->px);
        th_sleep_ms(1);
    }
    return NULL;
}

static size_t ledger_bytes(tworld_t *w, tern_stack_t *s)
{
    tern_posix_lock(&w->px);
    size_t n = tern_ledger_total_bytes(&s->ledger);
    tern_posix_unlock(&w->px);
    return n;
}

static int stream_socket(tern_stack_t *s)
{
    int id = tern_socket(s, TERN_SOCK_STREAM);
    assert_true(id > 0);
    assert_int_equal(tern_setsockopt(s, id, TERN_SO_RCVTIMEO, BOUND_MS), TERN_OK);
    assert_int_equal(tern_setsockopt(s, id, TERN_SO_SNDTIMEO, BOUND_MS), TERN_OK);
    return id;
}

static int listener_buf(tworld_t *w, uint16_t port, uint32_t rcvbuf)
{
    int l = stream_socket(w->n.b);
    tern_sockaddr_t local = {.addr = 0, .port = port};
    if (rcvbuf != 0u) /* the accepted connections' receive ring: fixed by the SYN */
        assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_RCVBUF, rcvbuf), TERN_OK);
    assert_int_equal(tern_bind(w->n.b, l, &local), TERN_OK);
    assert_int_equal(tern_listen(w->n.b, l, 4), TERN_OK);
    return l;
}

static int listener(tworld_t *w, uint16_t port)
{
    return listener_buf(w, port, 0);
}

/* A connected pair (a on stack A, b on stack B): a blocking connect from
 * this thread, then an accept that finds the connection queued. Ring sizes
 * 0: the defaults. */
static void make_pair_bufs(tworld_t *w, int *a, int *b, uint32_t sndbuf_a, uint32_t rcvbuf_b)
{
    uint16_t port = w->next_port++;
    int l = listener_buf(w, port, rcvbuf_b);
    *a = stream_socket(w->n.a);
    if (sndbuf_a != 0u)
        assert_int_equal(tern_setsockopt(w->n.a, *a, TERN_SO_SNDBUF, sndbuf_a), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = port};
    assert_int_equal(tern_connect(w->n.a, *a, &to), TERN_OK);
    tern_sockaddr_t from;
    *b = tern_accept(w->n.b, l, &from);
    assert_true(*b > 0);
    assert_int_equal(from.addr, W2_IP_A);
    assert_int_equal(tern_setsockopt(w->n.b, *b, TERN_SO_RCVTIMEO, BOUND_MS), TERN_OK);
    assert_int_equal(tern_setsockopt(w->n.b, *b, TERN_SO_SNDTIMEO, BOUND_MS), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
}

static void make_pair(tworld_t *w, int *a, int *b)
{
    make_pair_bufs(w, a, b, 0, 0);
}

/* The receive queue of the one socket open on stack s. */
static uint32_t recv_queue_of(tern_stack_t *s)
{
    tern_socket_info_t row[2];
    assert_int_equal(tern_socket_list(s, row, 2), 1);
    return row[0].recv_queue;
}

/* No socket open and every connection left in TIME-WAIT (which holds no
 * heap) on both stacks. */
static int is_quiet(tworld_t *w)
{
    static tern_tcp_info_t rows[64];
    if (tern_socket_list(w->n.a, NULL, 0) != 0 || tern_socket_list(w->n.b, NULL, 0) != 0)
        return 0;
    int busy = 0;
    tern_posix_lock(&w->px);
    for (int k = 0; k < 2; k++) {
        size_t n = tern_tcp_list(k ? w->n.b : w->n.a, rows, 64);
        for (size_t j = 0; j < n && j < 64u; j++)
            busy |= rows[j].state != TERN_TCP_TIME_WAIT;
        busy |= n > 64u;
    }
    tern_posix_unlock(&w->px);
    return !busy;
}

/* Bounded: a connection that never ends fails the test. */
static void wait_quiet(tworld_t *w)
{
    for (unsigned i = 0; i < BOUND_MS; i++, th_sleep_ms(1))
        if (is_quiet(w))
            return;
    fail_msg("connections still open after %u ms", BOUND_MS);
}

static int setup(void **state)
{
    tworld_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(tern_posix_init(&w->px), TERN_OK);
    w->px.log_level = TERN_LOG_ERROR;
    w->port = w->px.port;
    th_wrap_wait(&w->port);
    w->port.now_ms = wire_now;
    /* The wire on the real clock before anything is sent: no frame is in
     * flight yet. */
    tern_posix_lock(&w->px); /* attaching adds the interfaces: core calls */
    wire2_plug(&w->n, 5, NULL, &w->port, &w->port);
    tern_posix_unlock(&w->px);
    atomic_store(&g_clock, tern_posix_now_ms());
    assert_int_equal(tern_vwire_set_time(&w->n.wire, atomic_load(&g_clock)), TERN_OK);
    tern_posix_lock(&w->px);
    tern_netif_set_addr(&w->n.nif_a, W2_IP_A, W2_MASK, 0);
    tern_netif_set_addr(&w->n.nif_b, W2_IP_B, W2_MASK, 0);
    tern_posix_unlock(&w->px);
    atomic_store(&w->stop, 0);
    w->next_port = PORT + 100;
    assert_int_equal(pthread_create(&w->driver, NULL, driver_main, w), 0);
    /* One connection first: TCP's segment pool and TIME-WAIT table are
     * allocated at the first listen/connect and stay; the baseline follows. */
    int a, b;
    make_pair(w, &a, &b);
    assert_int_equal(tern_close(w->n.a, a), TERN_OK);
    assert_int_equal(tern_close(w->n.b, b), TERN_OK);
    wait_quiet(w);
    w->base_a = ledger_bytes(w, w->n.a);
    w->base_b = ledger_bytes(w, w->n.b);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    tworld_t *w = *state;
    /* The driver is stopped first, and the quiet and baseline checks come
     * once everything is freed (cmocka's failure jumps out of the check). */
    int quiet = 0;
    size_t la = 0, lb = 0;
    /* Bounded: a leak fails. (A SYN for nobody waits in ARP's queue until
     * resolution gives up, about a second: with HEAP buffers that is heap.) */
    for (unsigned i = 0; i < BOUND_MS; i++, th_sleep_ms(1)) {
        quiet = is_quiet(w);
        la = ledger_bytes(w, w->n.a);
        lb = ledger_bytes(w, w->n.b);
        if (quiet && la == w->base_a && lb == w->base_b)
            break;
    }
    atomic_store(&w->stop, 1);
    assert_int_equal(pthread_join(w->driver, NULL), 0);
    size_t base_a = w->base_a, base_b = w->base_b;
    wire2_deinit(&w->n); /* sockets closed; the teardown checks: ledger, heap, buffers */
    tern_posix_destroy(&w->px);
    free(w);
    assert_true(quiet); /* every connection ended (TIME-WAIT holds no heap) */
    assert_int_equal(la, base_a); /* memory back at its baseline before deinit */
    assert_int_equal(lb, base_b);
    return 0;
}

/* ---- a thread making one call ------------------------------------------------- */

typedef struct call {
    tworld_t *w;
    tern_stack_t *stack;
    int sock;
    int result;
    tern_sockaddr_t addr;
    uint8_t buf[256];
    const uint8_t *data; /* do_send: len bytes */
    size_t len;
    tern_pollfd_t fds[3];
    size_t nfds;
    uint32_t timeout;
    uint32_t elapsed;
    pthread_t th;
} call_t;

static void *do_accept(void *arg)
{
    call_t *c = arg;
    uint32_t t0 = wire_now(NULL);
    c->result = tern_accept(c->stack, c->sock, &c->addr);
    c->elapsed = wire_now(NULL) - t0;
    return NULL;
}

static void *do_connect(void *arg)
{
    call_t *c = arg;
    uint32_t t0 = wire_now(NULL);
    c->result = tern_connect(c->stack, c->sock, &c->addr);
    c->elapsed = wire_now(NULL) - t0;
    return NULL;
}

static void *do_recv(void *arg)
{
    call_t *c = arg;
    uint32_t t0 = wire_now(NULL);
    c->result = tern_recv(c->stack, c->sock, c->buf, sizeof c->buf, 0);
    c->elapsed = wire_now(NULL) - t0;
    return NULL;
}

static void *do_send(void *arg)
{
    call_t *c = arg;
    uint32_t t0 = wire_now(NULL);
    c->result = tern_send(c->stack, c->sock, c->data, c->len, 0);
    c->elapsed = wire_now(NULL) - t0;
    return NULL;
}

static void *do_poll(void *arg)
{
    call_t *c = arg;
    uint32_t t0 = wire_now(NULL);
    c->result = tern_socket_poll(c->stack, c->fds, c->nfds, c->timeout);
    c->elapsed = wire_now(NULL) - t0;
    return NULL;
}

/* ---- tests -------------------------------------------------------------------- */

/* accept blocks until a connection arrives; connect blocks until the
 * handshake ends; both woken, neither by a timeout. */
static void test_accept_and_connect_block(void **state)
{
    tworld_t *w = *state;
    int l = listener(w, PORT);
    call_t acc = {.w = w, .stack = w->n.b, .sock = l};
    th_start(&acc.th, do_accept, &acc);
    th_wait_for_waiters(1);
    int waits = th_waits();
    call_t con = {.w = w, .stack = w->n.a, .sock = stream_socket(w->n.a), .addr = {W2_IP_B, PORT}};
    th_start(&con.th, do_connect, &con);
    th_join(con.th);
    th_join(acc.th);
    assert_int_equal(con.result, TERN_OK);
    if (acc.result <= 0)
        fail_msg("accept: %s", tern_strerror(acc.result));
    assert_int_equal(acc.addr.addr, W2_IP_A);
    assert_int_equal(th_timeouts(), 0);
    assert_true(th_waits() > waits); /* connect waited for the handshake too */
    /* The pair works both ways. */
    assert_int_equal(tern_send(w->n.a, con.sock, "ping", 4, 0), 4);
    uint8_t buf[8];
    assert_int_equal(tern_recv(w->n.b, acc.result, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(tern_send(w->n.b, acc.result, "pong", 4, 0), 4);
    assert_int_equal(tern_recv(w->n.a, con.sock, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "pong", 4);
    assert_int_equal(th_timeouts(), 0);
    assert_int_equal(tern_close(w->n.a, con.sock), TERN_OK);
    assert_int_equal(tern_close(w->n.b, acc.result), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
}

/* recv blocks until data, then until the peer's FIN (0). */
static void test_recv_woken_by_data_and_fin(void **state)
{
    tworld_t *w = *state;
    int a, b;
    make_pair(w, &a, &b);
    call_t c = {.w = w, .stack = w->n.a, .sock = a};
    th_start(&c.th, do_recv, &c);
    th_wait_for_waiters(1);
    assert_int_equal(tern_send(w->n.b, b, "wake up", 7, 0), 7);
    th_join(c.th);
    assert_int_equal(c.result, 7);
    assert_memory_equal(c.buf, "wake up", 7);
    th_start(&c.th, do_recv, &c);
    th_wait_for_waiters(1);
    assert_int_equal(tern_shutdown(w->n.b, b, TERN_SHUT_WR), TERN_OK);
    th_join(c.th);
    assert_int_equal(c.result, 0);
    assert_int_equal(th_timeouts(), 0);
    assert_int_equal(tern_close(w->n.a, a), TERN_OK);
    assert_int_equal(tern_close(w->n.b, b), TERN_OK);
}

static uint8_t pat(size_t i)
{
    return (uint8_t)(i * 7u + (i >> 9) + 1u);
}

typedef struct bulk {
    tworld_t *w;
    tern_stack_t *stack;
    int sock;
    size_t total;
    atomic_size_t done; /* bytes sent or received so far */
    int result;         /* 0, or the first error */
    size_t bad;         /* receiver: bytes that differ */
    pthread_t th;
} bulk_t;

/* Blocking sends of a pattern, 3000 bytes a call. */
static void *do_send_all(void *arg)
{
    bulk_t *k = arg;
    uint8_t buf[3000];
    while (atomic_load(&k->done) < k->total) {
        size_t off = atomic_load(&k->done);
        size_t n = k->total - off < sizeof buf ? k->total - off : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pat(off + i);
        int r = tern_send(k->stack, k->sock, buf, n, 0);
        if (r <= 0) {
            k->result = r < 0 ? r : TERN_ERR_CLOSED;
            return NULL;
        }
        atomic_fetch_add(&k->done, (size_t)r);
    }
    return NULL;
}

/* Blocking receives to the end of the stream, every byte checked. */
static void *do_recv_all(void *arg)
{
    bulk_t *k = arg;
    uint8_t buf[2000];
    for (;;) {
        int r = tern_recv(k->stack, k->sock, buf, sizeof buf, 0);
        if (r == 0)
            return NULL;
        if (r < 0) {
            k->result = r;
            return NULL;
        }
        size_t off = atomic_load(&k->done);
        for (int i = 0; i < r; i++)
            k->bad += buf[i] != pat(off + (size_t)i);
        atomic_fetch_add(&k->done, (size_t)r);
    }
}

/* send blocks on a full send ring (the peer reads nothing: its receive ring
 * and window fill, then ours), and reading at the other end wakes it. */
static void test_send_blocks_on_full_ring(void **state)
{
    tworld_t *w = *state;
    int a, b;
    /* Small rings: the stream is 30 times what both hold together. */
    make_pair_bufs(w, &a, &b, 1024, 1024);
    bulk_t snd = {.w = w, .stack = w->n.a, .sock = a, .total = 60000};
    atomic_init(&snd.done, 0);
    assert_int_equal(pthread_create(&snd.th, NULL, do_send_all, &snd), 0);
    /* Nobody reads: B's ring fills, its window closes, then A's ring fills
     * and the sender waits for space for good. */
    for (unsigned i = 0; i < BOUND_MS && recv_queue_of(w->n.b) < 1024u; i++)
        th_sleep_ms(1);
    assert_int_equal(recv_queue_of(w->n.b), 1024);
    th_wait_for_waiters(1);
    assert_true(atomic_load(&snd.done) < snd.total);
    assert_true(atomic_load(&snd.done) <= 2048u);
    bulk_t rcv = {.w = w, .stack = w->n.b, .sock = b, .total = snd.total};
    atomic_init(&rcv.done, 0);
    assert_int_equal(pthread_create(&rcv.th, NULL, do_recv_all, &rcv), 0);
    assert_int_equal(pthread_join(snd.th, NULL), 0);
    assert_int_equal(snd.result, 0);
    assert_int_equal(atomic_load(&snd.done), snd.total);
    assert_int_equal(tern_shutdown(w->n.a, a, TERN_SHUT_WR), TERN_OK);
    assert_int_equal(pthread_join(rcv.th, NULL), 0);
    assert_int_equal(rcv.result, 0);
    assert_int_equal(atomic_load(&rcv.done), snd.total);
    assert_int_equal(rcv.bad, 0);
    assert_int_equal(th_timeouts(), 0);
    assert_int_equal(tern_close(w->n.a, a), TERN_OK);
    assert_int_equal(tern_close(w->n.b, b), TERN_OK);
}

/* poll blocks until one of its sockets is ready: data on a connection, a
 * connection for a listener; and ends at its timeout, not before. */
static void test_poll_blocks(void **state)
{
    tworld_t *w = *state;
    int a, b;
    make_pair(w, &a, &b);
    int l = listener(w, PORT + 1);
    call_t p = {.w = w, .stack = w->n.b, .nfds = 2, .timeout = BOUND_MS};
    p.fds[0] = (tern_pollfd_t){l, TERN_POLLIN, 0};
    p.fds[1] = (tern_pollfd_t){b, TERN_POLLIN, 0};
    th_start(&p.th, do_poll, &p);
    th_wait_for_waiters(1);
    assert_int_equal(tern_send(w->n.a, a, "x", 1, 0), 1);
    th_join(p.th);
    assert_int_equal(p.result, 1);
    assert_int_equal(p.fds[0].revents, 0);
    assert_int_equal(p.fds[1].revents, TERN_POLLIN);
    uint8_t buf[4];
    assert_int_equal(tern_recv(w->n.b, b, buf, sizeof buf, 0), 1);
    /* A connection for the listener (a non-blocking connect from here). */
    th_start(&p.th, do_poll, &p);
    th_wait_for_waiters(1);
    int c = stream_socket(w->n.a);
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT + 1};
    int r = tern_connect(w->n.a, c, &to);
    assert_true(r == TERN_ERR_INPROGRESS || r == TERN_OK);
    th_join(p.th);
    assert_int_equal(p.result, 1);
    assert_int_equal(p.fds[0].revents, TERN_POLLIN);
    assert_int_equal(p.fds[1].revents, 0);
    int d = tern_accept(w->n.b, l, NULL);
    assert_true(d > 0);
    /* POLLOUT of a non-blocking connect: it is connected by now. */
    tern_pollfd_t fo = {c, TERN_POLLOUT, 0};
    assert_int_equal(tern_socket_poll(w->n.a, &fo, 1, BOUND_MS), 1);
    assert_true(fo.revents & TERN_POLLOUT);
    uint32_t err = 1;
    assert_int_equal(tern_getsockopt(w->n.a, c, TERN_SO_ERROR, &err), TERN_OK);
    assert_int_equal(err, 0);
    assert_int_equal(th_timeouts(), 0);
    /* Nothing ready: 0 after the timeout, not before. */
    p.timeout = 60;
    th_start(&p.th, do_poll, &p);
    th_join(p.th);
    assert_int_equal(p.result, 0);
    assert_true(p.elapsed >= 60);
    int socks[][2] = {{0, a}, {0, c}, {1, b}, {1, d}, {1, l}};
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++)
        assert_int_equal(tern_close(socks[i][0] ? w->n.b : w->n.a, socks[i][1]), TERN_OK);
}

/* SO_RCVTIMEO bounds accept and recv, SO_SNDTIMEO bounds send on a full
 * ring and connect to nobody: each ends with TERN_ERR_TIMEOUT, not before
 * its time. */
static void test_timeouts(void **state)
{
    tworld_t *w = *state;
    int l = listener(w, PORT);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_RCVTIMEO, 50), TERN_OK);
    call_t c = {.w = w, .stack = w->n.b, .sock = l};
    th_start(&c.th, do_accept, &c);
    th_join(c.th);
    assert_int_equal(c.result, TERN_ERR_TIMEOUT);
    assert_true(c.elapsed >= 50);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);

    int a, b;
    make_pair_bufs(w, &a, &b, 1024, 1024);
    assert_int_equal(tern_setsockopt(w->n.a, a, TERN_SO_RCVTIMEO, 60), TERN_OK);
    c = (call_t){.w = w, .stack = w->n.a, .sock = a};
    th_start(&c.th, do_recv, &c);
    th_join(c.th);
    assert_int_equal(c.result, TERN_ERR_TIMEOUT);
    assert_true(c.elapsed >= 60);

    /* A blocking send of far more than both rings hold while nobody reads:
     * SO_SNDTIMEO ends it, not before its time, with what was taken (the
     * bytes taken count) or TERN_ERR_TIMEOUT when nothing was. */
    assert_int_equal(tern_setsockopt(w->n.a, a, TERN_SO_SNDTIMEO, 40), TERN_OK);
    static uint8_t big[65536];
    c = (call_t){.w = w, .stack = w->n.a, .sock = a, .data = big, .len = sizeof big};
    th_start(&c.th, do_send, &c);
    th_join(c.th);
    assert_true(c.result == TERN_ERR_TIMEOUT || (c.result > 0 && (size_t)c.result < sizeof big));
    assert_true(c.elapsed >= 40);
    assert_int_equal(tern_close(w->n.a, a), TERN_OK); /* unread data at B: B is reset by its own close */
    assert_int_equal(tern_close(w->n.b, b), TERN_OK);

    /* connect to an address nobody answers ARP for. */
    int s = stream_socket(w->n.a);
    assert_int_equal(tern_setsockopt(w->n.a, s, TERN_SO_SNDTIMEO, 80), TERN_OK);
    c = (call_t){.w = w, .stack = w->n.a, .sock = s, .addr = {IP_NOBODY, PORT}};
    th_start(&c.th, do_connect, &c);
    th_join(c.th);
    assert_int_equal(c.result, TERN_ERR_TIMEOUT);
    assert_true(c.elapsed >= 80);
    assert_int_equal(tern_close(w->n.a, s), TERN_OK);
}

/* A full socket table is TERN_ERR_MFILE, not TERN_ERR_NOMEM, and a blocking
 * accept waits for a free id (up to SO_RCVTIMEO) instead of failing at
 * once: a close in another thread wakes it with the queued connection. */
static void test_accept_table_full(void **state)
{
    tworld_t *w = *state;
    int l = listener(w, PORT);
    int fill[TERN_SOCKET_MAX];
    int n = 0;
    for (int id; (id = tern_socket(w->n.b, TERN_SOCK_DGRAM)) > 0;)
        fill[n++] = id;
    assert_int_equal(n, TERN_SOCKET_MAX - 1);
    assert_int_equal(tern_socket(w->n.b, TERN_SOCK_DGRAM), TERN_ERR_MFILE);
    int a = stream_socket(w->n.a);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(w->n.a, a, &to), TERN_OK); /* queued at the listener */

    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_NONBLOCK, 1), TERN_OK);
    assert_int_equal(tern_accept(w->n.b, l, NULL), TERN_ERR_MFILE);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_NONBLOCK, 0), TERN_OK);

    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_RCVTIMEO, 50), TERN_OK);
    call_t c = {.w = w, .stack = w->n.b, .sock = l};
    th_start(&c.th, do_accept, &c);
    th_join(c.th);
    assert_int_equal(c.result, TERN_ERR_MFILE);
    assert_true(c.elapsed >= 50);

    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_RCVTIMEO, BOUND_MS), TERN_OK);
    int timeouts = th_timeouts();
    c = (call_t){.w = w, .stack = w->n.b, .sock = l};
    th_start(&c.th, do_accept, &c);
    th_wait_for_waiters(1);
    assert_int_equal(tern_close(w->n.b, fill[--n]), TERN_OK);
    th_join(c.th);
    if (c.result <= 0)
        fail_msg("accept: %s", tern_strerror(c.result));
    assert_int_equal(c.addr.addr, W2_IP_A);
    assert_int_equal(th_timeouts(), timeouts);
    while (n > 0)
        assert_int_equal(tern_close(w->n.b, fill[--n]), TERN_OK);
    assert_int_equal(tern_close(w->n.a, a), TERN_OK);
    assert_int_equal(tern_close(w->n.b, c.result), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
}

/* A recv blocked in one thread ends when another thread closes the socket
 * (TERN_ERR_BADF), when the peer resets (TERN_ERR_RESET), or when its own
 * socket is shut down for reading (0). */
static void test_close_wakes_recv(void **state)
{
    tworld_t *w = *state;
    int a, b;
    make_pair(w, &a, &b);
    call_t c = {.w = w, .stack = w->n.a, .sock = a};
    th_start(&c.th, do_recv, &c);
    th_wait_for_waiters(1);
    assert_int_equal(tern_close(w->n.a, a), TERN_OK);
    th_join(c.th);
    assert_int_equal(c.result, TERN_ERR_BADF);
    assert_int_equal(th_timeouts(), 0);
    /* B sees A's FIN. */
    uint8_t buf[4];
    assert_int_equal(tern_recv(w->n.b, b, buf, sizeof buf, 0), 0);
    assert_int_equal(tern_close(w->n.b, b), TERN_OK);

    make_pair(w, &a, &b);
    c = (call_t){.w = w, .stack = w->n.a, .sock = a};
    th_start(&c.th, do_recv, &c);
    th_wait_for_waiters(1);
    assert_int_equal(tern_setsockopt(w->n.b, b, TERN_SO_LINGER, 0), TERN_OK);
    assert_int_equal(tern_close(w->n.b, b), TERN_OK); /* abort: RST */
    th_join(c.th);
    assert_int_equal(c.result, TERN_ERR_RESET);
    assert_int_equal(th_timeouts(), 0);
    assert_int_equal(tern_close(w->n.a, a), TERN_OK);

    make_pair(w, &a, &b);
    c = (call_t){.w = w, .stack = w->n.a, .sock = a};
    th_start(&c.th, do_recv, &c);
    th_wait_for_waiters(1);
    assert_int_equal(tern_shutdown(w->n.a, a, TERN_SHUT_RD), TERN_OK);
    th_join(c.th);
    assert_int_equal(c.result, 0);
    assert_int_equal(th_timeouts(), 0);
    assert_int_equal(tern_close(w->n.a, a), TERN_OK);
    assert_int_equal(tern_close(w->n.b, b), TERN_OK);
}

/* Four connections, each with a blocking writer thread on A and a blocking
 * reader thread on B, all at once: every byte arrives in order, no wait
 * times out (a lost wake-up would). */
#define PAIRS 4
static void test_concurrent_streams(void **state)
{
    tworld_t *w = *state;
    int a[PAIRS], b[PAIRS];
    bulk_t snd[PAIRS], rcv[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        make_pair(w, &a[i], &b[i]);
        snd[i] = (bulk_t){.w = w, .stack = w->n.a, .sock = a[i], .total = 200000u + 1000u * (size_t)i};
        rcv[i] = (bulk_t){.w = w, .stack = w->n.b, .sock = b[i], .total = snd[i].total};
        atomic_init(&snd[i].done, 0);
        atomic_init(&rcv[i].done, 0);
    }
    for (int i = 0; i < PAIRS; i++) {
        assert_int_equal(pthread_create(&rcv[i].th, NULL, do_recv_all, &rcv[i]), 0);
        assert_int_equal(pthread_create(&snd[i].th, NULL, do_send_all, &snd[i]), 0);
    }
    for (int i = 0; i < PAIRS; i++) {
        assert_int_equal(pthread_join(snd[i].th, NULL), 0);
        assert_int_equal(snd[i].result, 0);
        assert_int_equal(tern_shutdown(w->n.a, a[i], TERN_SHUT_WR), TERN_OK);
    }
    for (int i = 0; i < PAIRS; i++) {
        assert_int_equal(pthread_join(rcv[i].th, NULL), 0);
        assert_int_equal(rcv[i].result, 0);
        assert_int_equal(rcv[i].bad, 0);
        assert_int_equal(atomic_load(&rcv[i].done), snd[i].total);
    }
    assert_int_equal(th_timeouts(), 0);
    for (int i = 0; i < PAIRS; i++) {
        assert_int_equal(tern_close(w->n.a, a[i]), TERN_OK);
        assert_int_equal(tern_close(w->n.b, b[i]), TERN_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accept_and_connect_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_woken_by_data_and_fin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_blocks_on_full_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_wakes_recv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_table_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_streams, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
