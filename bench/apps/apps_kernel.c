/* kernel-server: the benchmark applications (bench_apps.h) on Linux kernel
 * sockets, the ceiling the other stacks are compared with.
 *
 * One thread, epoll, non-blocking sockets; the same structure as the
 * single-threaded servers on the other stacks. Usage:
 *   kernel-server [--ip A.B.C.D] [--max-conns N]
 * Stops on SIGTERM/SIGINT; SIGUSR1 prints the counters ("stat ..."). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench_apps.h"

enum kind { K_DISCARD, K_CHARGEN, K_HTTP, K_LISTEN, K_SIGNAL };

typedef struct conn {
    int fd;
    int kind;
    bench_http_scan_t scan;
    unsigned owed;       /* responses not yet sent completely */
    size_t off;          /* bytes of the current response sent */
    int close_after;     /* close once owed reaches 0 */
    size_t chargen_off;  /* position in the pattern */
} conn_t;

/* Whole pattern periods back to back: one send() of CHARGEN_SEND bytes from
 * any offset inside the first period stays in the buffer. */
#define CHARGEN_SEND (9u * BENCH_CHARGEN_LEN)
static uint8_t pattern[10u * BENCH_CHARGEN_LEN];

static int listen_on(struct in_addr ip, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = ip};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void conn_free(int ep, conn_t *c, bench_counters_t *cnt)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
    bench_conn_down(cnt);
}

/* Send what is owed; 0 when done or blocked, -1 when the connection died. */
static int http_flush(conn_t *c)
{
    while (c->owed > 0) {
        const char *r = (c->owed == 1 && c->close_after) ? bench_http_close : bench_http_keep;
        size_t len = (r == bench_http_close) ? BENCH_HTTP_CLOSE_LEN : BENCH_HTTP_KEEP_LEN;
        ssize_t n = send(c->fd, r + c->off, len - c->off, MSG_NOSIGNAL);
        if (n < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        c->off += (size_t)n;
        if (c->off == len) {
            c->off = 0;
            c->owed--;
        }
    }
    return 0;
}

/* Handle readiness; returns 1 to keep the connection, 0 to close it. */
static int conn_event(conn_t *c, uint32_t ev, bench_counters_t *cnt, int ep)
{
    static uint8_t buf[65536];
    if (c->kind == K_CHARGEN) {
        if (ev & (EPOLLERR | EPOLLHUP))
            return 0;
        for (;;) {
            ssize_t n = send(c->fd, pattern + c->chargen_off, CHARGEN_SEND, MSG_NOSIGNAL);
            if (n < 0)
                return errno == EAGAIN || errno == EWOULDBLOCK;
            cnt->tx_bytes += (uint64_t)n;
            c->chargen_off = (c->chargen_off + (size_t)n) % BENCH_CHARGEN_LEN;
        }
    }
    if (ev & EPOLLIN || ev & (EPOLLERR | EPOLLHUP)) {
        for (;;) {
            ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
            if (n == 0)
                return 0; /* EOF: our side closes too */
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                return 0;
            }
            if (c->kind == K_DISCARD) {
                cnt->rx_bytes += (uint64_t)n;
            } else {
                int close_after = 0;
                unsigned reqs = bench_http_feed(&c->scan, buf, (size_t)n, &close_after);
                cnt->requests += reqs;
                c->owed += reqs;
                if (close_after)
                    c->close_after = 1;
            }
        }
    }
    if (c->kind == K_HTTP) {
        if (http_flush(c) < 0)
            return 0;
        if (c->owed == 0 && c->close_after)
            return 0;
        struct epoll_event e = {.events = EPOLLIN | (c->owed ? EPOLLOUT : 0u), .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
    }
    return 1;
}

int main(int argc, char **argv)
{
    struct in_addr ip = {.s_addr = htonl(INADDR_ANY)};
    unsigned long max_conns = 100000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ip") == 0 && i + 1 < argc && inet_pton(AF_INET, argv[i + 1], &ip) == 1) {
            i++;
        } else if (strcmp(argv[i], "--max-conns") == 0 && i + 1 < argc) {
            max_conns = strtoul(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: kernel-server [--ip A.B.C.D] [--max-conns N]\n");
            return 2;
        }
    }
    struct rlimit rl = {.rlim_cur = max_conns + 64, .rlim_max = max_conns + 64};
    setrlimit(RLIMIT_NOFILE, &rl); /* best effort: held connections are fds */
    bench_chargen_fill(pattern);
    for (unsigned k = 1; k < 10u; k++)
        memcpy(pattern + k * BENCH_CHARGEN_LEN, pattern, BENCH_CHARGEN_LEN);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || ep < 0) {
        perror("kernel-server: signalfd/epoll");
        return 1;
    }
    static conn_t sig_conn, listeners[3];
    sig_conn.fd = sfd;
    sig_conn.kind = K_SIGNAL;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &sig_conn};
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e);
    static const uint16_t ports[3] = {BENCH_PORT_DISCARD, BENCH_PORT_CHARGEN, BENCH_PORT_HTTP};
    static const int kinds[3] = {K_DISCARD, K_CHARGEN, K_HTTP};
    for (int i = 0; i < 3; i++) {
        listeners[i].fd = listen_on(ip, ports[i]);
        if (listeners[i].fd < 0) {
            fprintf(stderr, "kernel-server: cannot listen on port %u: %s\n", ports[i], strerror(errno));
            return 1;
        }
        listeners[i].kind = K_LISTEN;
        listeners[i].chargen_off = (size_t)kinds[i]; /* the kind its connections get */
        e.data.ptr = &listeners[i];
        epoll_ctl(ep, EPOLL_CTL_ADD, listeners[i].fd, &e);
    }
    printf("kernel-server: listening on %s ports %u %u %u\n", inet_ntoa(ip), ports[0], ports[1], ports[2]);
    fflush(stdout);

    bench_counters_t cnt = {0};
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("kernel-server: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->kind == K_SIGNAL) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                    bench_counters_print(&cnt, stdout);
                    if (si.ssi_signo != SIGUSR1) {
                        printf("kernel-server: signal %u, stopping\n", si.ssi_signo);
                        return 0;
                    }
                }
                continue;
            }
            if (c->kind == K_LISTEN) {
                for (;;) {
                    int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) {
                        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                            cnt.refused++;
                        break;
                    }
                    conn_t *nc = calloc(1, sizeof(*nc));
                    if (nc == NULL || cnt.current >= max_conns) {
                        free(nc);
                        close(fd);
                        cnt.refused++;
                        continue;
                    }
                    nc->fd = fd;
                    nc->kind = (int)c->chargen_off;
                    bench_http_init(&nc->scan);
                    int one = 1;
                    if (nc->kind == K_HTTP)
                        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct epoll_event ne = {.events = nc->kind == K_CHARGEN ? EPOLLOUT : EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ne);
                    bench_conn_up(&cnt);
                }
                continue;
            }
            if (!conn_event(c, evs[i].events, &cnt, ep))
                conn_free(ep, c, &cnt);
        }
    }
}
