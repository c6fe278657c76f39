/* posix-echo: a small program on tern over a Linux TAP.
 *
 *   posix-echo TAP ADDR/PREFIX      e.g. posix-echo tern0 192.0.2.2/24
 *
 * UDP port 7 echoes datagrams; TCP port 8 sends back what it receives in
 * upper case; SIGUSR2 prints the memory report; SIGTERM or SIGINT stops.
 * The start-up sequence is the one docs/getting-started.md explains. */
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "tern/socket.h"
#include "tern/stack.h"
#include "tern_posix.h"
#include "tern_tap.h"

static tern_posix_t px;        /* the port: core lock, clock, wait hooks */
static tern_stack_t *stack;    /* large (the heap arena is inside): not on a thread stack */
static tern_tap_t tap;         /* the network interface: a Linux TAP */
static tern_posix_runner_t runner; /* the stack thread: frames in, timers */

static void *udp_echo(void *arg)
{
    (void)arg;
    int s = tern_socket(stack, TERN_SOCK_DGRAM);
    tern_sockaddr_t local = {.addr = 0, .port = 7}, from;
    if (s < 0 || tern_bind(stack, s, &local) != TERN_OK) {
        fprintf(stderr, "posix-echo: UDP 7: %s\n", tern_strerror(s < 0 ? s : TERN_ERR_INVAL));
        exit(1);
    }
    char buf[1500];
    for (;;) {
        int n = tern_recvfrom(stack, s, buf, sizeof buf, 0, &from); /* blocks */
        if (n >= 0)
            (void)tern_sendto(stack, s, buf, (size_t)n, 0, &from);
    }
    return NULL;
}

static void *tcp_upper(void *arg)
{
    (void)arg;
    int l = tern_socket(stack, TERN_SOCK_STREAM);
    tern_sockaddr_t local = {.addr = 0, .port = 8}, peer;
    if (l < 0 || tern_bind(stack, l, &local) != TERN_OK || tern_listen(stack, l, 2) != TERN_OK) {
        fprintf(stderr, "posix-echo: TCP 8: cannot listen\n");
        exit(1);
    }
    char buf[512];
    for (;;) {
        int c = tern_accept(stack, l, &peer);
        if (c < 0)
            continue;
        int n;
        while ((n = tern_recv(stack, c, buf, sizeof buf, 0)) > 0) {
            for (int i = 0; i < n; i++)
                buf[i] = (char)toupper((unsigned char)buf[i]);
            if (tern_send(stack, c, buf, (size_t)n, 0) != n)
                break;
        }
        tern_close(stack, c);
    }
    return NULL;
}

static void write_stdout(void *ctx, const char *text, unsigned len)
{
    (void)ctx;
    fwrite(text, 1, len, stdout);
}

int main(int argc, char **argv)
{
    tern_ip4_t ip;
    char *slash = argc == 3 ? strchr(argv[2], '/') : NULL;
    if (slash == NULL) {
        fprintf(stderr, "usage: posix-echo TAP ADDR/PREFIX\n");
        return 2;
    }
    *slash = '\0';
    unsigned prefix = (unsigned)atoi(slash + 1);
    if (tern_ip4_from_str(argv[2], &ip) != TERN_OK || prefix < 1 || prefix > 32) {
        fprintf(stderr, "posix-echo: bad address %s/%s\n", argv[2], slash + 1);
        return 2;
    }
    /* Signals go to a signalfd: blocked before any thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, 0);

    /* 1. The port, then the stack on it. */
    stack = calloc(1, sizeof *stack);
    if (sfd < 0 || stack == NULL || tern_posix_init(&px) != TERN_OK) {
        fprintf(stderr, "posix-echo: cannot start\n");
        return 1;
    }
    int rc = tern_stack_init(stack, &px.port);
    if (rc != TERN_OK) {
        fprintf(stderr, "posix-echo: tern_stack_init: %s\n", tern_strerror(rc));
        return 1;
    }
    /* 2. The interface: open the TAP, add it, link up, address. */
    static const uint8_t mac[6] = TERN_TAP_DEFAULT_MAC;
    if (tern_tap_open(&tap, argv[1], mac) != TERN_OK) {
        perror("posix-echo: TAP (root or CAP_NET_ADMIN?)");
        return 1;
    }
    tern_posix_lock(&px); /* the core lock: direct calls into the core hold it */
    (void)tern_poll(stack, tern_posix_now_ms());
    rc = tern_netif_add(stack, &tap.netif);
    if (rc == TERN_OK) {
        tern_netif_set_link(&tap.netif, 1);
        tern_netif_set_addr(&tap.netif, ip, ~(uint32_t)0 << (32u - prefix), 0);
    }
    tern_posix_unlock(&px);
    if (rc != TERN_OK) {
        fprintf(stderr, "posix-echo: tern_netif_add: %s\n", tern_strerror(rc));
        return 1;
    }
    /* 3. The stack thread: TAP frames in, timers. */
    if (tern_posix_runner_init(&runner, &px, stack) != TERN_OK || tern_tap_runner_add(&runner, &tap) != 0 ||
        tern_posix_runner_start(&runner) != TERN_OK) {
        fprintf(stderr, "posix-echo: cannot start the stack thread\n");
        return 1;
    }
    /* 4. The application: socket calls take the core lock themselves. */
    pthread_t t1, t2;
    pthread_create(&t1, NULL, udp_echo, NULL);
    pthread_create(&t2, NULL, tcp_upper, NULL);
    printf("posix-echo: up on %s, %s/%u, UDP echo 7, TCP upper-case 8, pid %d\n", argv[1], argv[2], prefix,
           (int)getpid());
    fflush(stdout);

    for (;;) {
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
            continue;
        if (si.ssi_signo != SIGUSR2)
            break;
        tern_posix_lock(&px);
        tern_stack_report_memory(stack, write_stdout, NULL);
        tern_posix_unlock(&px);
        printf("posix-echo: end of report\n");
        fflush(stdout);
    }
    printf("posix-echo: stopping\n");
    fflush(stdout);
    _exit(0); /* the worker threads are blocked in tern calls: no orderly join here */
}
