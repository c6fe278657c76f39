/* The BSD sockets and FreeRTOS+TCP compatibility layers (apps/compat) on a
 * stack over a capture interface: byte order and address helpers, option
 * translation, errno / pdFREERTOS_ERRNO mapping, an exhausted socket table
 * as EMFILE, select's fd_set, the heap statistics calls. The traffic tests
 * against Linux are tests/system/compat_*.sh. TERN_TEST_ONE_VARIANT */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern/err.h"

#define TERN_COMPAT_SOCKETS 1
#include "tern/compat/bsd_sockets.h"
#include "tern/compat/freertos_tcp.h"

static int setup(void **state)
{
    net_fixture_t *f = net_fixture_new(41);
    tern_compat_set_stack(&f->stack);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    tern_compat_set_stack(NULL);
    return net_fixture_teardown(state);
}

static void test_byte_order_and_addresses(void **state)
{
    (void)state;
    const uint8_t *b;
    uint16_t s = htons(0x1234);
    uint32_t l = htonl(0x0a0b0c0du);
    b = (const uint8_t *)&s;
    assert_int_equal(b[0], 0x12);
    assert_int_equal(b[1], 0x34);
    b = (const uint8_t *)&l;
    assert_int_equal(b[0], 0x0a);
    assert_int_equal(b[3], 0x0d);
    assert_int_equal(ntohs(htons(7)), 7);
    assert_int_equal(ntohl(htonl(0xc0000201u)), 0xc0000201u);
    assert_int_equal(inet_addr("192.0.2.1"), htonl(0xc0000201u));
    assert_int_equal(inet_addr("192.0.2"), INADDR_NONE);
    assert_int_equal(inet_addr("256.0.0.1"), INADDR_NONE);
    assert_int_equal(FreeRTOS_inet_addr("203.0.113.9"), FreeRTOS_inet_addr_quick(203, 0, 113, 9));
    assert_int_equal(FreeRTOS_inet_addr("x"), 0);
    assert_int_equal(FreeRTOS_gethostbyname("198.51.100.1"), FreeRTOS_inet_addr("198.51.100.1"));
}

static void test_errno_mapping(void **state)
{
    (void)state;
    assert_int_equal(tern_compat_errno_of(TERN_ERR_MFILE), EMFILE);
    assert_int_equal(tern_compat_errno_of(TERN_ERR_NOMEM), ENOMEM);
    assert_int_equal(tern_compat_errno_of(TERN_ERR_WOULDBLOCK), EWOULDBLOCK);
    assert_int_equal(tern_compat_errno_of(TERN_ERR_TIMEOUT), ETIMEDOUT);
    assert_int_equal(tern_compat_errno_of(TERN_ERR_RESET), ECONNRESET);
    assert_int_equal(tern_compat_errno_of(TERN_ERR_REFUSED), ECONNREFUSED);
    assert_int_equal(tern_compat_errno_of(TERN_ERR_ADDRINUSE), EADDRINUSE);
    assert_int_equal(tern_compat_errno_of(TERN_ERR_INPROGRESS), EINPROGRESS);
    assert_int_equal(tern_compat_errno_of(TERN_OK), 0);
    /* every tern error maps to something other than 0 */
    for (int e = -1; e >= TERN_ERR_LAST_; e--)
        assert_int_not_equal(tern_compat_errno_of(e), 0);
}

/* BSD calls on UDP: bind, options through timeval, errno on failures. */
static void test_bsd_udp_calls(void **state)
{
    net_fixture_t *f = *state;
    assert_int_equal(socket(AF_INET + 1, SOCK_DGRAM, 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s > 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(5000);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    assert_int_equal(getsockname(s, (struct sockaddr *)&got, &len), 0);
    assert_int_equal(len, sizeof got);
    assert_int_equal(ntohs(got.sin_port), 5000);
    assert_int_equal(got.sin_family, AF_INET);

    int t = socket(AF_INET, SOCK_DGRAM, 0);
    assert_int_equal(bind(t, (struct sockaddr *)&a, sizeof a), -1);
    assert_int_equal(errno, EADDRINUSE);
    assert_int_equal(closesocket(t), 0);

    struct timeval tv = {1, 500000}, back;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    len = sizeof back;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &back, &len), 0);
    assert_int_equal(back.tv_sec, 1);
    assert_int_equal(back.tv_usec, 500000);
    int type = 0;
    len = sizeof type;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len), 0);
    assert_int_equal(type, SOCK_DGRAM);
    assert_int_equal(setsockopt(s, SOL_SOCKET, 0x7777, &type, sizeof type), -1);
    assert_int_equal(errno, EINVAL);

    char buf[16];
    assert_int_equal(recv(s, buf, sizeof buf, MSG_DONTWAIT), -1);
    assert_int_equal(errno, EWOULDBLOCK);

    /* select with nothing ready and a zero timeout: 0, sets cleared */
    fd_set r;
    FD_ZERO(&r);
    FD_SET(s, &r);
    assert_true(FD_ISSET(s, &r));
    struct timeval zero = {0, 0};
    assert_int_equal(select(s + 1, &r, NULL, NULL, &zero), 0);
    assert_false(FD_ISSET(s, &r));
    fd_set w;
    FD_ZERO(&w);
    FD_SET(s, &w);
    assert_int_equal(select(s + 1, NULL, &w, NULL, &zero), 1); /* a network buffer is free */
    assert_true(FD_ISSET(s, &w));
    struct pollfd p = {s, POLLIN | POLLOUT, 0};
    assert_int_equal(poll(&p, 1, 0), 1);
    assert_int_equal(p.revents, POLLOUT);
    assert_int_equal(closesocket(s), 0);
    assert_int_equal(closesocket(s), -1);
    assert_int_equal(errno, EBADF);
    (void)f;
}

/* An exhausted socket table is EMFILE (BSD) and FREERTOS_INVALID_SOCKET. */
static void test_socket_table_full(void **state)
{
    (void)state;
    int ids[TERN_SOCKET_MAX];
    for (int i = 0; i < TERN_SOCKET_MAX; i++) {
        ids[i] = socket(AF_INET, SOCK_DGRAM, 0);
        assert_true(ids[i] > 0);
    }
    assert_int_equal(socket(AF_INET, SOCK_STREAM, 0), -1);
    assert_int_equal(errno, EMFILE);
    assert_ptr_equal(FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_DGRAM, FREERTOS_IPPROTO_UDP),
                     FREERTOS_INVALID_SOCKET);
    for (int i = 0; i < TERN_SOCKET_MAX; i++)
        assert_int_equal(closesocket(ids[i]), 0);
}

static void test_freertos_calls(void **state)
{
    net_fixture_t *f = *state;
    tern_heap_stats_t hs;
    Socket_t s = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_DGRAM, FREERTOS_IPPROTO_UDP);
    assert_ptr_not_equal(s, FREERTOS_INVALID_SOCKET);
    tern_heap_get_stats(&f->stack.heap, &hs);
    assert_int_equal(xPortGetFreeHeapSize(), hs.free);
    assert_int_equal(xPortGetMinimumEverFreeHeapSize(), hs.min_free);
    assert_true(xPortGetMinimumEverFreeHeapSize() <= xPortGetFreeHeapSize());

    struct freertos_sockaddr a = {0};
    a.sin_port = FreeRTOS_htons(6000);
    assert_int_equal(FreeRTOS_bind(s, &a, sizeof a), 0);
    Socket_t t = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_DGRAM, FREERTOS_IPPROTO_UDP);
    assert_int_equal(FreeRTOS_bind(t, &a, sizeof a), -pdFREERTOS_ERRNO_EADDRINUSE);
    assert_int_equal(FreeRTOS_closesocket(t), 1);
    assert_int_equal(FreeRTOS_closesocket(FREERTOS_INVALID_SOCKET), 0);

    int32_t q = 4;
    assert_int_equal(FreeRTOS_setsockopt(s, 0, FREERTOS_SO_UDP_MAX_RX_PACKETS, &q, sizeof q), 0);
    assert_int_equal(FreeRTOS_setsockopt(s, 0, 99, &q, sizeof q), -pdFREERTOS_ERRNO_ENOPROTOOPT);
    char buf[8];
    struct freertos_sockaddr from;
    socklen_t len = sizeof from;
    assert_int_equal(FreeRTOS_recvfrom(s, buf, sizeof buf, FREERTOS_MSG_DONTWAIT, &from, &len),
                     -pdFREERTOS_ERRNO_EWOULDBLOCK);
    assert_int_equal(FreeRTOS_recvfrom(s, buf, sizeof buf, FREERTOS_ZERO_COPY, &from, &len),
                     -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_listen(s, 1), -pdFREERTOS_ERRNO_EOPNOTSUPP);
    assert_int_equal(FreeRTOS_closesocket(s), 1);

    Socket_t l = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_STREAM, FREERTOS_IPPROTO_TCP);
    int32_t sz = 2048;
    assert_int_equal(FreeRTOS_setsockopt(l, 0, FREERTOS_SO_RCVBUF, &sz, sizeof sz), 0);
    assert_int_equal(FreeRTOS_setsockopt(l, 0, FREERTOS_SO_SNDBUF, &sz, sizeof sz), 0);
    assert_int_equal(FreeRTOS_send(l, "x", 1, 0), -pdFREERTOS_ERRNO_ENOTCONN);
    assert_ptr_equal(FreeRTOS_accept(l, NULL, NULL), FREERTOS_INVALID_SOCKET); /* not listening */
    assert_int_equal(FreeRTOS_closesocket(l), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_byte_order_and_addresses, setup, teardown),
        cmocka_unit_test(test_errno_mapping),
        cmocka_unit_test_setup_teardown(test_bsd_udp_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_table_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freertos_calls, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
