/* tern-demo's TCP part (see demo_tcp.h): the services' thread, and the
 * checking client on the raw API (callbacks in the stack thread). */
#include "demo_tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "tern_posix.h"

/* Rows of the raw TCP listing in a report: every socket's connection,
 * listeners' queues, TIME-WAIT entries. */
#define DEMO_TCP_ROWS (2u * TERN_SOCKET_MAX + TERN_TCP_TIMEWAIT_MAX)

static uint8_t pattern_byte(uint64_t i)
{
    return (uint8_t)((i % DEMO_TCP_PATTERN_LEN) * 7u + 3u);
}

/* ---- options ------------------------------------------------------------------ */

int demo_tcp_option(demo_tcp_opts_t *o, const char *name, const char *arg)
{
    char *end = NULL;
    if (strcmp(name, "tcp-buf") == 0 || strcmp(name, "tcp-heap") == 0 || strcmp(name, "tcp-conns") == 0) {
        unsigned long long v = strtoull(arg, &end, 10);
        if (end == arg || *end != '\0')
            return -1;
        if (name[4] == 'b') {
            if (v != 0u && (v < 536u || v > 0x3FFFFFFFu))
                return -1;
            o->buf = (uint32_t)v;
        } else if (name[4] == 'h') {
            o->heap = v;
            o->heap_set = 1;
        } else {
            if (v < 1u || v > TERN_SOCKET_SERVICE_CONNS)
                return -1;
            o->conns = (unsigned)v;
        }
        return 1;
    }
    if (strcmp(name, "tcp-client") != 0)
        return 0;
    /* ADDR:PORT:BYTES */
    char addr[48];
    unsigned port;
    unsigned long long bytes;
#if TERN_IPV6
    /* [ADDR6]:PORT:BYTES: TCP over IPv6. */
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - arg - 1) >= sizeof addr ||
            sscanf(close + 2, "%u:%llu", &port, &bytes) != 2 || port == 0u || port > 65535u)
            return -1;
        memcpy(addr, arg + 1, (size_t)(close - arg - 1));
        addr[close - arg - 1] = '\0';
        if (inet_pton(AF_INET6, addr, o->client_addr6.b) != 1)
            return -1;
        o->client_v6 = 1;
        o->client_port = (uint16_t)port;
        o->client_bytes = bytes;
        o->have_client = 1;
        return 1;
    }
#endif
    const char *colon = strchr(arg, ':');
    if (colon == NULL || (size_t)(colon - arg) >= sizeof addr || sscanf(colon + 1, "%u:%llu", &port, &bytes) != 2 ||
        port == 0u || port > 65535u)
        return -1;
    memcpy(addr, arg, (size_t)(colon - arg));
    addr[colon - arg] = '\0';
    if (tern_ip4_from_str(addr, &o->client_addr) != TERN_OK)
        return -1;
    o->client_port = (uint16_t)port;
    o->client_bytes = bytes;
    o->have_client = 1;
    return 1;
}

/* ---- the services' thread ---------------------------------------------------------- */

static void *services_main(void *arg)
{
    demo_tcp_t *t = arg;
    /* Blocks in tern_socket_poll until a socket is ready; the timeout only
     * bounds how long a stop request waits. */
    while (!atomic_load(&t->stop)) {
        int r = tern_services_poll(&t->svc, 100);
        if (r < 0) {
            fprintf(stderr, "tern-demo: services: %s\n", tern_strerror(r));
            break;
        }
    }
    return NULL;
}

int demo_tcp_start(demo_tcp_t *t, tern_stack_t *stack, tern_posix_t *px, const demo_tcp_opts_t *o)
{
    memset(t, 0, sizeof *t);
    t->stack = stack;
    t->wake_fd = -1;
    t->client_buf = o->buf;
    atomic_init(&t->stop, 0);
    /* Many concurrent connections with large rings need more than the
     * built-in arena: the host gives the heap a second region (heap_5
     * style), --tcp-heap bytes (default 4 MB; 0: none). */
#if TERN_STATIC_ONLY
    (void)px; /* tern-demo-static: no heap to grow, the pools are fixed */
#else
    size_t extra = o->heap_set ? (size_t)o->heap : (size_t)4u << 20;
    if (extra >= 4096u) {
        static uint8_t *region;
        if (region == NULL)
            region = malloc(extra);
        if (region == NULL)
            return TERN_ERR_NOMEM;
        tern_posix_lock(px);
        int r = tern_heap_add_region(&stack->heap, region, extra);
        tern_posix_unlock(px);
        if (r != TERN_OK)
            return r;
    }
#endif
    /* Per service: --tcp-conns, else config.h's default (the demo's build
     * allows up to 64, the default keeps the services small). */
    unsigned conns = o->conns != 0u ? o->conns : DEMO_TCP_CONNS_DEFAULT;
    if (conns > TERN_SOCKET_SERVICE_CONNS)
        conns = TERN_SOCKET_SERVICE_CONNS;
    tern_services_cfg_t cfg = {TERN_SERVICE_ALL, conns, o->buf, o->buf, 0};
    int r = tern_services_start(&t->svc, stack, &cfg);
    if (r != TERN_OK)
        return r;
    if (pthread_create(&t->thread, NULL, services_main, t) != 0) {
        tern_services_stop(&t->svc);
        return TERN_ERR_NOMEM;
    }
    t->running = 1;
    return TERN_OK;
}

static void client_join(demo_tcp_t *t);

void demo_tcp_stop(demo_tcp_t *t)
{
    if (!t->running)
        return;
    atomic_store(&t->stop, 1);
    client_join(t); /* a client still running closes its sockets and ends */
    pthread_join(t->thread, NULL);
    t->running = 0;
    const tern_services_stats_t *st = &t->svc.stats;
    printf("services: tcp accepted %u refused %u closed %u errors %u in %llu out %llu; udp in %u out %u\n",
           st->accepted, st->refused, st->closed, st->errors, (unsigned long long)st->tcp_in,
           (unsigned long long)st->tcp_out, st->udp_in, st->udp_out);
    printf("udp echo: %u datagrams echoed, %u errors\n", st->udp_echoed, st->udp_echo_errors);
    tern_services_stop(&t->svc);
}

void demo_tcp_report(demo_tcp_t *t, tern_posix_t *px)
{
    tern_socket_info_t srows[TERN_SOCKET_MAX];
    size_t ns = tern_socket_list(t->stack, srows, TERN_SOCKET_MAX);
    printf("sockets: %zu\n", ns);
    for (size_t i = 0; i < ns && i < TERN_SOCKET_MAX; i++) {
        const tern_socket_info_t *r = &srows[i];
        char l[40], rm[40];
        (void)tern_posix_ip4_str(r->local.addr, l);
        (void)tern_posix_ip4_str(r->remote.addr, rm);
#if TERN_IPV6
        /* IPv6 sockets in RFC 5952 text, [addr]:port. */
        if (r->local.family == TERN_FAMILY_IP6)
            (void)tern_ip6_to_str(&r->local.addr6, l);
        if (r->remote.family == TERN_FAMILY_IP6)
            (void)tern_ip6_to_str(&r->remote.addr6, rm);
#endif
        int l6 = r->local.family != TERN_FAMILY_IP4, r6 = r->remote.family != TERN_FAMILY_IP4;
        printf("socket %2d %s %-12s %s%s%s:%u %s%s%s:%u rq %u sq %u held %u\n", r->id,
               r->type == TERN_SOCK_STREAM ? "tcp" : "udp",
               r->type == TERN_SOCK_STREAM ? tern_tcp_state_name(r->state) : "-", l6 ? "[" : "", l, l6 ? "]" : "",
               r->local.port, r6 ? "[" : "", rm, r6 ? "]" : "", r->remote.port, r->recv_queue, r->send_queue,
               r->bytes_held);
    }
    tern_posix_lock(px);
    const tern_stack_t *stack = t->stack;
    static tern_tcp_info_t rows[DEMO_TCP_ROWS]; /* under the core lock: one report at a time */
    size_t n = tern_tcp_list(stack, rows, DEMO_TCP_ROWS);
    printf("tcp connections: %zu\n", n);
    for (size_t i = 0; i < n && i < DEMO_TCP_ROWS; i++) {
        const tern_tcp_info_t *r = &rows[i];
        char l[48], rm[48];
        int v6 = 0;
#if TERN_IPV6
        if (r->family == TERN_TCP_FAMILY_IP6) {
            v6 = 1;
            (void)tern_ip6_to_str(&r->local_addr6, l);
            (void)tern_ip6_to_str(&r->remote_addr6, rm);
        }
#endif
        if (!v6) {
            (void)tern_posix_ip4_str(r->local_addr, l);
            (void)tern_posix_ip4_str(r->remote_addr, rm);
        }
        printf("tcp %-12s %s%s%s:%u %s%s%s:%u rq %u sq %u held %u\n", tern_tcp_state_name(r->state), v6 ? "[" : "",
               l, v6 ? "]" : "", r->local_port, v6 ? "[" : "", rm, v6 ? "]" : "", r->remote_port, r->recv_queue,
               r->send_queue, r->bytes_held);
    }
    const tern_tcp_stats_t *s = tern_tcp_stats(stack);
    printf("tcp stats: rx %u tx %u retransmits %u fast %u timeouts %u rst_tx %u rst_rx %u ooo %u drops: csum %u "
           "unacceptable %u no_pcb %u syn_limit %u nomem %u\n",
           s->rx, s->tx, s->retransmits, s->fast_retransmits, s->timeouts, s->rst_tx, s->rst_rx, s->ooo_segments,
           s->drop_checksum, s->drop_unacceptable, s->drop_no_pcb, s->drop_syn_limit, s->drop_nomem);
    tern_posix_unlock(px);
}

/* ---- client (sockets API, a thread of its own) ------------------------------------ */

enum { DEMO_CC_CONNECTING = 1, DEMO_CC_OPEN, DEMO_CC_DONE };

static uint8_t pattern_at(unsigned conn, uint64_t i)
{
    return pattern_byte(i + 37u * (uint64_t)conn);
}

static void cconn_end(demo_tcp_t *t, demo_tcp_cconn_t *c, int err)
{
    if (c->state == DEMO_CC_OPEN)
        t->open_now--;
    if (err != 0 && c->error == 0)
        c->error = err;
    if (c->sock > 0)
        (void)tern_close(t->stack, c->sock);
    c->sock = 0;
    c->state = DEMO_CC_DONE;
}

/* Read what is there (checked byte for byte), then write what fits. */
static void cconn_pump(demo_tcp_t *t, unsigned idx)
{
    demo_tcp_cconn_t *c = &t->conns[idx];
    uint8_t buf[16384];
    for (;;) {
        int n = tern_recv(t->stack, c->sock, buf, sizeof buf, TERN_MSG_DONTWAIT);
        if (n == TERN_ERR_WOULDBLOCK)
            break;
        if (n < 0) {
            cconn_end(t, c, n);
            return;
        }
        if (n == 0) { /* the server's FIN: done, whole or not (the summary tells) */
            cconn_end(t, c, c->received == t->bytes && c->sent == t->bytes ? 0 : TERN_ERR_CLOSED);
            return;
        }
        for (int i = 0; i < n; i++)
            if (buf[i] != pattern_at(idx, c->received + (uint64_t)i))
                c->mismatches++;
        c->received += (uint64_t)n;
    }
    while (c->sent < t->bytes) {
        uint64_t left = t->bytes - c->sent;
        size_t k = left < sizeof buf ? (size_t)left : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = pattern_at(idx, c->sent + i);
        int n = tern_send(t->stack, c->sock, buf, k, TERN_MSG_DONTWAIT);
        if (n == TERN_ERR_WOULDBLOCK)
            break;
        if (n <= 0) {
            cconn_end(t, c, n < 0 ? n : TERN_ERR_CLOSED);
            return;
        }
        c->sent += (uint64_t)n;
    }
    if (c->sent == t->bytes && !c->shut) {
        int r = tern_shutdown(t->stack, c->sock, TERN_SHUT_WR);
        if (r != TERN_OK) {
            cconn_end(t, c, r);
            return;
        }
        c->shut = 1;
    }
}

static void *client_main(void *arg)
{
    demo_tcp_t *t = arg;
    tern_pollfd_t fds[DEMO_TCP_CLIENT_MAX];
    unsigned idx[DEMO_TCP_CLIENT_MAX];
    for (;;) {
        unsigned n = 0;
        for (unsigned i = 0; i < t->nconns; i++) {
            demo_tcp_cconn_t *c = &t->conns[i];
            if (c->state == DEMO_CC_DONE)
                continue;
            uint16_t ev = c->state == DEMO_CC_CONNECTING ? TERN_POLLOUT : TERN_POLLIN;
            if (c->state == DEMO_CC_OPEN && c->sent < t->bytes)
                ev |= TERN_POLLOUT;
            fds[n] = (tern_pollfd_t){c->sock, ev, 0};
            idx[n++] = i;
        }
        if (n == 0 || atomic_load(&t->stop))
            break;
        /* The timeout only bounds how long a stop request waits. */
        int r = tern_socket_poll(t->stack, fds, n, 200);
        if (r < 0) {
            t->setup_error = r;
            break;
        }
        for (unsigned k = 0; k < n; k++) {
            demo_tcp_cconn_t *c = &t->conns[idx[k]];
            if (fds[k].revents == 0)
                continue;
            if (c->state == DEMO_CC_CONNECTING) {
                uint32_t err = 0;
                int g = tern_getsockopt(t->stack, c->sock, TERN_SO_ERROR, &err);
                if (g != TERN_OK || err != 0u) {
                    cconn_end(t, c, g != TERN_OK ? g : (int)(int32_t)err);
                    continue;
                }
                c->state = DEMO_CC_OPEN;
                if (++t->open_now > t->open_max)
                    t->open_max = t->open_now;
            }
            cconn_pump(t, idx[k]);
        }
    }
    for (unsigned i = 0; i < t->nconns; i++) /* stopped early: close what is left */
        if (t->conns[i].state != DEMO_CC_DONE)
            cconn_end(t, &t->conns[i], TERN_ERR_CLOSED);
    t->finished_ms = tern_posix_now_ms();
    atomic_store(&t->client_done, 1);
    if (t->wake_fd >= 0) {
        uint64_t one = 1;
        ssize_t k = write(t->wake_fd, &one, sizeof one);
        (void)k;
    }
    return NULL;
}

int demo_tcp_client_start(demo_tcp_t *t, const demo_tcp_opts_t *o, int wake_fd, tern_posix_runner_t *runner)
{
    t->wake_fd = wake_fd;
    if (!o->have_client)
        return 0;
    t->bytes = o->client_bytes;
    t->nconns = o->conns != 0u ? o->conns : 1u;
    t->open_now = t->open_max = 0;
    t->setup_error = 0;
    t->client_to = (tern_sockaddr_t){.addr = o->client_addr, .port = o->client_port};
    atomic_init(&t->client_done, 0);
    t->started_ms = tern_posix_now_ms();
    char ab[48];
    (void)tern_posix_ip4_str(o->client_addr, ab);
#if TERN_IPV6
    if (o->client_v6) {
        t->client_to.family = TERN_FAMILY_IP6;
        t->client_to.addr6 = o->client_addr6;
        ab[0] = '[';
        unsigned k = tern_ip6_to_str(&o->client_addr6, ab + 1);
        ab[1 + k] = ']';
        ab[2 + k] = '\0';
    }
#endif
    printf("tern-demo: TCP client to %s:%u, %u connection%s at once, each sending %llu bytes\n", ab,
           (unsigned)o->client_port, t->nconns, t->nconns == 1u ? "" : "s", (unsigned long long)o->client_bytes);
    /* Every connection is opened (non-blocking) before any data moves. */
    for (unsigned i = 0; i < t->nconns; i++) {
        demo_tcp_cconn_t *c = &t->conns[i];
        memset(c, 0, sizeof *c);
        c->state = DEMO_CC_CONNECTING;
        int s = tern_socket(t->stack, TERN_SOCK_STREAM);
        int r = s;
        if (s > 0) {
            c->sock = s;
            r = tern_setsockopt(t->stack, s, TERN_SO_NONBLOCK, 1);
            if (r == TERN_OK && t->client_buf != 0u)
                r = tern_setsockopt(t->stack, s, TERN_SO_RCVBUF, t->client_buf);
            if (r == TERN_OK && t->client_buf != 0u)
                r = tern_setsockopt(t->stack, s, TERN_SO_SNDBUF, t->client_buf);
            if (r == TERN_OK) {
                r = tern_connect(t->stack, s, &t->client_to);
                /* IPv6: no usable source address until DAD (and SLAAC for
                 * a global peer) is done, a few seconds after the start. */
                for (unsigned w = 0; r == TERN_ERR_NOROUTE && t->client_to.family == TERN_FAMILY_IP6 && w < 300u; w++) {
                    usleep(50000);
                    r = tern_connect(t->stack, s, &t->client_to);
                }
                if (r == TERN_ERR_INPROGRESS)
                    r = TERN_OK;
            }
        }
        if (r != TERN_OK) {
            fprintf(stderr, "tern-demo: TCP client connection %u: %s\n", i, tern_strerror(r));
            c->error = r;
            for (unsigned j = 0; j <= i; j++)
                if (t->conns[j].sock > 0) {
                    (void)tern_close(t->stack, t->conns[j].sock);
                    t->conns[j].sock = 0;
                }
            return -1;
        }
    }
    /* The SYNs armed retransmission timers: let the stack thread see them. */
    tern_posix_runner_wake(runner);
    if (pthread_create(&t->client_thread, NULL, client_main, t) != 0) {
        for (unsigned i = 0; i < t->nconns; i++)
            (void)tern_close(t->stack, t->conns[i].sock);
        return -1;
    }
    t->client_active = 1;
    return 1;
}

/* Join the client's thread (stopping it first when stop is set). */
static void client_join(demo_tcp_t *t)
{
    if (!t->client_active)
        return;
    pthread_join(t->client_thread, NULL);
    t->client_active = 0;
}

int demo_tcp_client_poll(demo_tcp_t *t)
{
    if (!t->client_active || !atomic_load(&t->client_done))
        return -1;
    client_join(t);
    uint32_t ms = t->finished_ms - t->started_ms;
    uint64_t sent = 0, received = 0, mismatches = 0;
    unsigned whole = 0;
    int first_err = t->setup_error;
    for (unsigned i = 0; i < t->nconns; i++) {
        const demo_tcp_cconn_t *c = &t->conns[i];
        sent += c->sent;
        received += c->received;
        mismatches += c->mismatches;
        if (c->error == 0 && c->mismatches == 0 && c->sent == t->bytes && c->received == t->bytes)
            whole++;
        else if (first_err == 0)
            first_err = c->error != 0 ? c->error : TERN_ERR_CLOSED;
        if (t->nconns > 1u && (c->error != 0 || c->mismatches != 0 || c->received != t->bytes))
            printf("tcp client connection %u: sent %llu received %llu mismatches %llu error %s\n", i,
                   (unsigned long long)c->sent, (unsigned long long)c->received,
                   (unsigned long long)c->mismatches, c->error ? tern_errname(c->error) : "none");
    }
    printf("tcp client: %u connections, %u established at once at most, %u whole\n", t->nconns, t->open_max, whole);
    printf("tcp client: sent %llu received %llu mismatches %llu error %s in %u ms (%.1f Mbit/s each way)\n",
           (unsigned long long)sent, (unsigned long long)received, (unsigned long long)mismatches,
           first_err ? tern_errname(first_err) : "none", ms, ms ? (double)sent * 8.0 / ms / 1000.0 : 0.0);
    fflush(stdout);
    return whole == t->nconns ? 0 : 1;
}
