/* netbench-client: the Linux-side load for the benchmark servers.
 *
 *   netbench-client send  HOST PORT SECONDS MAX_BYTES   bulk to a discard sink
 *   netbench-client recv  HOST PORT SECONDS MAX_BYTES   bulk from a chargen source
 *   netbench-client conns HOST PORT MAX TIMEOUT_MS       hold connections open
 *   netbench-client idle  HOST PORT N SECONDS            N idle connections meanwhile
 *
 * send: writes until SECONDS or MAX_BYTES (0 = no byte limit), then
 * shutdown(SHUT_WR) and waits for the server's FIN (the sink closes at EOF),
 * so the time covers every byte reaching the server's application, not the
 * client's socket buffer. recv: reads until SECONDS or MAX_BYTES, checking
 * the bytes against the chargen pattern. Both print
 *   bytes=N seconds=S mbit_per_s=R
 * conns: opens connections one after another (each must complete within
 * TIMEOUT_MS) until one fails or MAX are open, waits a moment, then checks
 * every one is still open (no RST, no FIN) and prints
 *   attempted=N held=H first_failure=REASON
 * idle: opens N connections (1 s each at most), prints
 *   idle_ready held=H
 * and keeps them open and silent for SECONDS (the idle-connection
 * demultiplexing benchmark: another load runs meanwhile), then resets them.
 * Exit status 0 on a completed measurement, 1 on an error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../apps/bench_apps.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int connect_to(const char *host, const char *port, int timeout_ms, const char **why)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_port = htons((uint16_t)atoi(port));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        *why = "bad-address";
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = errno == EMFILE ? "client-fd-limit" : "socket";
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        *why = errno == EADDRNOTAVAIL ? "client-ports" : "connect";
        close(fd);
        return -1;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n = poll(&p, 1, timeout_ms);
    int err = 0;
    socklen_t el = sizeof(err);
    if (n <= 0) {
        *why = "timeout";
        close(fd);
        return -1;
    }
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err != 0) {
        *why = err == ECONNREFUSED ? "refused" : err == ECONNRESET ? "reset" : "error";
        close(fd);
        return -1;
    }
    return fd;
}

static void set_blocking(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

static int bulk(int sending, const char *host, const char *port, double seconds, uint64_t max_bytes)
{
    const char *why = NULL;
    int fd = connect_to(host, port, 5000, &why);
    if (fd < 0) {
        fprintf(stderr, "netbench-client: connect %s:%s: %s\n", host, port, why);
        return 1;
    }
    set_blocking(fd);
    static uint8_t buf[1u << 16];
    static uint8_t pattern[2u * BENCH_CHARGEN_LEN];
    bench_chargen_fill(pattern);
    memcpy(pattern + BENCH_CHARGEN_LEN, pattern, BENCH_CHARGEN_LEN);
    if (sending)
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = (uint8_t)(i * 7u);
    /* A short receive timeout lets the loop look at the clock. */
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, sending ? SO_SNDTIMEO : SO_RCVTIMEO, &tv, sizeof(tv));
    uint64_t bytes = 0, bad = 0;
    size_t off = 0;
    double t0 = now_s(), end = t0 + seconds;
    int rc = 0;
    while (now_s() < end && (max_bytes == 0 || bytes < max_bytes)) {
        size_t want = sizeof(buf);
        if (max_bytes != 0 && max_bytes - bytes < want)
            want = (size_t)(max_bytes - bytes);
        ssize_t n = sending ? send(fd, buf, want, MSG_NOSIGNAL) : recv(fd, buf, want, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (n <= 0) {
            fprintf(stderr, "netbench-client: %s after %llu bytes: %s\n", sending ? "send" : "recv",
                    (unsigned long long)bytes, n == 0 ? "connection closed" : strerror(errno));
            rc = 1;
            break;
        }
        if (!sending) {
            /* The pattern is stored twice: any run of up to one period
             * compares against it contiguously. */
            for (size_t i = 0; i < (size_t)n;) {
                size_t k = (size_t)n - i < BENCH_CHARGEN_LEN ? (size_t)n - i : BENCH_CHARGEN_LEN;
                if (memcmp(buf + i, pattern + off, k) != 0)
                    bad++;
                off = (off + k) % BENCH_CHARGEN_LEN;
                i += k;
            }
        }
        bytes += (uint64_t)n;
    }
    if (sending && rc == 0) {
        /* Wait for the sink's FIN: every byte has reached its application. */
        shutdown(fd, SHUT_WR);
        tv.tv_sec = 30;
        tv.tv_usec = 0;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ssize_t n;
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
        }
        if (n < 0) {
            fprintf(stderr, "netbench-client: no FIN from the sink: %s\n", strerror(errno));
            rc = 1;
        }
    }
    double secs = now_s() - t0;
    close(fd);
    if (bad != 0) {
        fprintf(stderr, "netbench-client: %llu blocks differ from the chargen pattern\n", (unsigned long long)bad);
        rc = 1;
    }
    printf("bytes=%llu seconds=%.6f mbit_per_s=%.3f\n", (unsigned long long)bytes, secs,
           secs > 0 ? (double)bytes * 8.0 / secs / 1e6 : 0.0);
    return rc;
}

static int conns(const char *host, const char *port, unsigned max, int timeout_ms)
{
    struct rlimit rl = {.rlim_cur = max + 64u, .rlim_max = max + 64u};
    setrlimit(RLIMIT_NOFILE, &rl);
    int *fds = calloc(max ? max : 1u, sizeof(int));
    if (fds == NULL)
        return 1;
    unsigned open_n = 0, attempted = 0;
    const char *why = "max-reached";
    while (open_n < max) {
        attempted++;
        const char *w = NULL;
        int fd = connect_to(host, port, timeout_ms, &w);
        if (fd < 0) {
            why = w;
            break;
        }
        fds[open_n++] = fd;
    }
    /* A connection the server could not keep is reset soon after; give any
     * RST (or FIN) time to arrive, then count the survivors. */
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 500000000};
    nanosleep(&ts, NULL);
    unsigned held = 0;
    for (unsigned i = 0; i < open_n; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        int n = poll(&p, 1, 0);
        if (n == 0)
            held++; /* nothing to read, no error, no hang-up: still established */
    }
    printf("attempted=%u held=%u first_failure=%s\n", attempted, held, why);
    fflush(stdout);
    for (unsigned i = 0; i < open_n; i++) {
        /* RST rather than FIN: thousands of graceful closes would leave the
         * server's TIME-WAIT state behind for the next measurement. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fds[i]);
    }
    free(fds);
    return 0;
}

static int idle(const char *host, const char *port, unsigned n, double seconds)
{
    struct rlimit rl = {.rlim_cur = n + 64u, .rlim_max = n + 64u};
    setrlimit(RLIMIT_NOFILE, &rl);
    int *fds = calloc(n ? n : 1u, sizeof(int));
    if (fds == NULL)
        return 1;
    unsigned open_n = 0;
    int rc = 0;
    while (open_n < n) {
        const char *w = NULL;
        int fd = connect_to(host, port, 1000, &w);
        if (fd < 0) {
            fprintf(stderr, "idle: connection %u of %u: %s\n", open_n + 1u, n, w);
            rc = 1;
            break;
        }
        fds[open_n++] = fd;
    }
    printf("idle_ready held=%u\n", open_n);
    fflush(stdout);
    if (rc == 0) {
        struct timespec ts = {.tv_sec = (time_t)seconds,
                              .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
        nanosleep(&ts, NULL);
    }
    for (unsigned i = 0; i < open_n; i++) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fds[i]);
    }
    free(fds);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: netbench-client send|recv HOST PORT SECONDS MAX_BYTES\n"
                    "       netbench-client conns HOST PORT MAX TIMEOUT_MS\n"
                    "       netbench-client idle HOST PORT N SECONDS\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc != 6)
        return usage();
    if (strcmp(argv[1], "send") == 0 || strcmp(argv[1], "recv") == 0)
        return bulk(argv[1][0] == 's', argv[2], argv[3], atof(argv[4]), strtoull(argv[5], NULL, 10));
    if (strcmp(argv[1], "conns") == 0)
        return conns(argv[2], argv[3], (unsigned)strtoul(argv[4], NULL, 10), atoi(argv[5]));
    if (strcmp(argv[1], "idle") == 0)
        return idle(argv[2], argv[3], (unsigned)strtoul(argv[4], NULL, 10), atof(argv[5]));
    return usage();
}
