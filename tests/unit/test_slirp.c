/* The slirp driver, no root needed: tern on a libslirp user-mode network
 * (restricted, 10.0.2.0/24) resolves and pings slirp's gateway 10.0.2.2,
 * and a TCP connection to the host forward 127.0.0.1:PORT arrives at tern
 * as a SYN to port 80 from slirp; with the HTTP server running, a plain
 * HTTP client on the host gets the dashboard and /api/stats through it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tern/dhcp.h"
#include "tern/http.h"
#include "tern/stack.h"
#include "tern_posix.h"
#include "tern_slirp.h"
#include "tern_test.h"

typedef struct env {
    tern_posix_t px;
    tern_stack_t stack;
    tern_posix_runner_t runner;
    tern_slirp_t slirp;
    uint16_t port;
    /* Written by the stack or slirp thread under the core lock. */
    unsigned replies;
    unsigned syn_to_80;      /* TCP SYNs to port 80 received from slirp */
    unsigned answers_to_syn; /* RST or ICMP unreachable tern sent back */
    uint16_t syn_sport;
} env_t;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A port that was free a moment ago on 127.0.0.1. */
static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void on_reply(void *ctx, tern_ip4_t from, uint16_t id, uint16_t seq, const uint8_t *data, size_t len,
                     uint32_t now)
{
    env_t *e = ctx;
    (void)seq;
    (void)now;
    if (from == TERN_SLIRP_GATEWAY && id == 0x5151 && len == 4 && memcmp(data, "tern", 4) == 0)
        e->replies++;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Frame tap: TCP SYNs to port 80 coming in, and what tern says back. */
static void capture(void *ctx, const uint8_t *f, size_t len, int outbound, uint32_t now)
{
    env_t *e = ctx;
    (void)now;
    if (len < 34 || be16(f + 12) != 0x0800)
        return;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15u) * 4u;
    if (len < 14 + ihl + 20)
        return;
    const uint8_t *l4 = ip + ihl;
    if (!outbound && ip[9] == 6 && be16(l4 + 2) == 80 && (l4[13] & 0x12u) == 0x02u) {
        e->syn_to_80++;
        e->syn_sport = be16(l4);
    }
    if (outbound && e->syn_to_80 > 0) {
        if (ip[9] == 6 && be16(l4) == 80 && (l4[13] & 0x04u))
            e->answers_to_syn++; /* RST from port 80 */
        if (ip[9] == 1 && l4[0] == 3)
            e->answers_to_syn++; /* ICMP destination unreachable */
    }
}

static int setup_common(void **state, int dhcp)
{
    env_t *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(tern_posix_init(&e->px), TERN_OK);
    assert_int_equal(tern_stack_init(&e->stack, &e->px.port), TERN_OK);
    tern_slirp_config_t cfg = {0};
    int rc = TERN_ERR_ADDRINUSE;
    for (int tries = 0; tries < 5 && rc == TERN_ERR_ADDRINUSE; tries++) {
        cfg.host_port = e->port = free_port();
        rc = tern_slirp_open(&e->slirp, &e->px, &cfg);
    }
    assert_int_equal(rc, TERN_OK);
    e->slirp.netif.capture = capture;
    e->slirp.netif.capture_ctx = e;
    tern_posix_lock(&e->px);
    (void)tern_poll(&e->stack, tern_posix_now_ms());
    assert_int_equal(tern_netif_add(&e->stack, &e->slirp.netif), TERN_OK);
    tern_netif_set_link(&e->slirp.netif, 1);
    if (dhcp)
        assert_int_equal(tern_dhcp_start(&e->stack, &e->slirp.netif), TERN_OK);
    else
        tern_netif_set_addr(&e->slirp.netif, TERN_SLIRP_GUEST, TERN_SLIRP_MASK, TERN_SLIRP_GATEWAY);
    tern_ping_set_handler(&e->stack, on_reply, e);
    tern_posix_unlock(&e->px);
    assert_int_equal(tern_posix_runner_init(&e->runner, &e->px, &e->stack), TERN_OK);
    assert_int_equal(tern_posix_runner_start(&e->runner), TERN_OK);
    assert_int_equal(tern_slirp_start(&e->slirp, &e->runner), TERN_OK);
    *state = e;
    return 0;
}

static int setup(void **state)
{
    return setup_common(state, 0);
}

static int setup_dhcp(void **state)
{
    return setup_common(state, 1);
}

static int teardown(void **state)
{
    env_t *e = *state;
    tern_posix_lock(&e->px);
    if (tern_dhcp_state(&e->stack) != TERN_DHCP_STOPPED)
        tern_dhcp_stop(&e->stack);
    tern_posix_unlock(&e->px);
    tern_slirp_stop(&e->slirp);
    tern_posix_runner_stop(&e->runner);
    tern_posix_lock(&e->px);
    tern_ping_set_handler(&e->stack, NULL, NULL);
    tern_netif_remove(&e->stack, &e->slirp.netif);
    tern_posix_unlock(&e->px);
    tern_slirp_close(&e->slirp);
    tern_stack_deinit(&e->stack);
    assert_int_equal(tern_ledger_total_bytes(&e->stack.ledger), 0);
    tern_posix_destroy(&e->px);
    free(e);
    return 0;
}

/* Wait (bounded, for failure only) until *counter reaches want. */
static int wait_for(env_t *e, const unsigned *counter, unsigned want, unsigned ms)
{
    for (unsigned waited = 0; waited < ms; waited += 10u) {
        tern_posix_lock(&e->px);
        unsigned v = *counter;
        tern_posix_unlock(&e->px);
        if (v >= want)
            return 1;
        sleep_ms(10);
    }
    return 0;
}

/* The forward listens once tern has an address (bounded wait). */
static void wait_forward(env_t *e)
{
    for (unsigned waited = 0; waited < 5000u && !tern_slirp_forward_ready(&e->slirp); waited += 10u)
        sleep_ms(10);
    assert_true(tern_slirp_forward_ready(&e->slirp));
}

static void test_ping_gateway(void **state)
{
    env_t *e = *state;
    for (uint16_t seq = 0; seq < 3; seq++) {
        tern_posix_lock(&e->px);
        int rc = tern_ping_send(&e->stack, TERN_SLIRP_GATEWAY, 0x5151, seq, "tern", 4);
        tern_posix_unlock(&e->px);
        tern_posix_runner_wake(&e->runner);
        assert_true(rc == TERN_OK || rc == TERN_ERR_INPROGRESS);
        assert_true(wait_for(e, &e->replies, seq + 1u, 5000));
    }
    /* The gateway is in the ARP cache with slirp's MAC (52:55 + its IP). */
    uint8_t mac[6];
    tern_posix_lock(&e->px);
    int rc = tern_arp_lookup(&e->stack, TERN_SLIRP_GATEWAY, mac);
    tern_slirp_stats_t st;
    tern_slirp_get_stats(&e->slirp, &st);
    tern_posix_unlock(&e->px);
    assert_int_equal(rc, TERN_OK);
    static const uint8_t slirp_mac[6] = {0x52, 0x55, 10, 0, 2, 2};
    assert_memory_equal(mac, slirp_mac, 6);
    assert_true(st.rx_frames >= 4); /* the ARP reply and three echo replies */
    assert_true(st.tx_frames >= 4);
    assert_int_equal(st.rx_bad, 0);
    assert_int_equal(st.tx_dropped, 0);
}

static void test_host_forward_reaches_guest(void **state)
{
    env_t *e = *state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(e->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    wait_forward(e);
    /* slirp listens on the host port, so the host-side connect succeeds;
     * slirp then opens the connection to the guest: a SYN to port 80. */
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    tern_posix_runner_wake(&e->runner);
    assert_true(wait_for(e, &e->syn_to_80, 1, 5000));
    /* tern has no listener on port 80: it refuses (RST from TCP, or an ICMP
     * unreachable without TCP) and slirp closes the host side. */
    assert_true(wait_for(e, &e->answers_to_syn, 1, 5000));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, 10000);
    char c;
    ssize_t r = n > 0 ? recv(fd, &c, 1, 0) : -2;
    printf("host side after the guest refused: poll %d, recv %zd (%s)\n", n, r, r < 0 ? strerror(errno) : "EOF");
    close(fd);
    tern_posix_lock(&e->px);
    uint32_t tcp_seen = e->stack.counters.ipv4_delivered + e->stack.counters.ipv4_drop_proto;
    tern_posix_unlock(&e->px);
    assert_true(tcp_seen > 0);
}

/* What `make run` does: the host's HTTP client, through the forward, gets
 * the dashboard page and /api/stats from tern's server. */
static size_t http_get(uint16_t port, const char *path, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    size_t len = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            break; /* bounded for failure only */
        ssize_t r = recv(fd, out + len, cap - 1 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    out[len] = '\0';
    close(fd);
    return len;
}

/* The HTTP server's thread: wait on its sockets, then poll (apps/http is on
 * the sockets API: no core lock held here). */
static atomic_int http_stop;
static void *http_thread(void *arg)
{
    tern_http_server_t *srv = arg;
    uint32_t next = 0;
    while (!atomic_load(&http_stop)) {
        (void)tern_http_server_wait(srv, next < 100u ? next : 100u);
        next = tern_http_server_poll(srv, tern_posix_now_ms());
    }
    return NULL;
}

static void test_http_through_forward(void **state)
{
    env_t *e = *state;
    static tern_http_server_t srv;
    int rc = tern_http_server_start(&srv, &e->stack, 80, NULL, NULL);
    assert_int_equal(rc, TERN_OK);
    pthread_t th;
    atomic_store(&http_stop, 0);
    assert_int_equal(pthread_create(&th, NULL, http_thread, &srv), 0);
    wait_forward(e);
    static char buf[65536];
    size_t n = http_get(e->port, "/", buf, sizeof buf);
    const tern_http_file_t *f = tern_http_fs_find(&tern_http_fs_image, "/index.html");
    assert_true(n > f->size);
    assert_memory_equal(buf, "HTTP/1.1 200 OK\r\n", 17);
    char *body = strstr(buf, "\r\n\r\n");
    assert_non_null(body);
    assert_int_equal(n - (size_t)(body + 4 - buf), f->size);
    assert_memory_equal(body + 4, f->data, f->size);
    n = http_get(e->port, "/api/stats", buf, sizeof buf);
    assert_memory_equal(buf, "HTTP/1.1 200 OK\r\n", 17);
    assert_non_null(strstr(buf, "Content-Type: application/json\r\n"));
    body = strstr(buf, "\r\n\r\n");
    assert_non_null(body);
    assert_memory_equal(body + 4, "{\"schema\":2,", 12);
    assert_non_null(strstr(body, "\"addr\":\"10.0.2.15\""));
    printf("/api/stats through slirp: %zu bytes\n", n);
    atomic_store(&http_stop, 1);
    pthread_join(th, NULL);
    unsigned served = srv.stats.responses_2xx;
    tern_http_server_stop(&srv);
    assert_int_equal(served, 2);
}

/* tern's DHCP client gets its address from slirp's built-in server (inside
 * slirp): 10.0.2.15/24 from server 10.0.2.2, as QEMU guests get. */
static void test_dhcp_from_slirp(void **state)
{
    env_t *e = *state;
    int st = TERN_DHCP_STOPPED;
    for (unsigned waited = 0; waited < 30000u; waited += 20u) { /* bounded for failure only */
        tern_posix_lock(&e->px);
        st = tern_dhcp_state(&e->stack);
        tern_posix_unlock(&e->px);
        if (st == TERN_DHCP_BOUND)
            break;
        sleep_ms(20);
    }
    assert_int_equal(st, TERN_DHCP_BOUND);
    tern_dhcp_info_t info;
    tern_posix_lock(&e->px);
    assert_int_equal(tern_dhcp_get_info(&e->stack, &info), TERN_OK);
    tern_ip4_t addr = e->slirp.netif.addr, gw = e->slirp.netif.gateway, mask = e->slirp.netif.netmask;
    tern_posix_unlock(&e->px);
    assert_int_equal(info.addr, TERN_SLIRP_GUEST);
    assert_int_equal(info.server, TERN_SLIRP_GATEWAY);
    /* Restricted slirp offers no router (and no DNS): there is nowhere to
     * route to. 10.0.2.2 is on the link all the same. */
    assert_int_equal(info.router, 0);
    assert_int_equal(info.dns_count, 0);
    assert_int_equal(addr, TERN_SLIRP_GUEST);
    assert_int_equal(gw, 0);
    assert_int_equal(mask, TERN_SLIRP_MASK);
    /* And the leased address works: the gateway answers a ping. */
    tern_posix_lock(&e->px);
    int rc = tern_ping_send(&e->stack, TERN_SLIRP_GATEWAY, 0x5151, 0, "tern", 4);
    tern_posix_unlock(&e->px);
    tern_posix_runner_wake(&e->runner);
    assert_true(rc == TERN_OK || rc == TERN_ERR_INPROGRESS);
    assert_true(wait_for(e, &e->replies, 1, 5000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping_gateway, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_forward_reaches_guest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_through_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dhcp_from_slirp, setup_dhcp, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
