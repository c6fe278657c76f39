/* Start-up for the compatibility-layer test programs on the posix port:
 *
 *   PROGRAM TAP ADDR/PREFIX [DNS-SERVER]
 *
 * brings the stack up on a Linux TAP (as examples/posix-echo does), with
 * tern's DNS client asking DNS-SERVER when given (FreeRTOS_gethostbyname,
 * as FreeRTOS+TCP's ipconfigUSE_DNS with a configured server), hands
 * it to the compat layer (tern_compat_set_stack), calls compat_app_start()
 * (the code under test, written against the BSD or FreeRTOS+TCP names) and
 * runs until SIGTERM/SIGINT. tests/system/compat_*.sh drive it. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "tern/compat/bsd_sockets.h"
#include "tern/dns.h"
#include "tern/stack.h"
#include "tern_posix.h"
#include "tern_tap.h"

void compat_app_start(void);

static tern_posix_t px;
static tern_stack_t *stack;
static tern_tap_t tap;
static tern_posix_runner_t runner;

int main(int argc, char **argv)
{
    tern_ip4_t ip, dns = 0;
    char *slash = argc == 3 || argc == 4 ? strchr(argv[2], '/') : NULL;
    if (slash == NULL) {
        fprintf(stderr, "usage: %s TAP ADDR/PREFIX [DNS-SERVER]\n", argv[0]);
        return 2;
    }
    *slash = '\0';
    unsigned prefix = (unsigned)atoi(slash + 1);
    if (tern_ip4_from_str(argv[2], &ip) != TERN_OK || prefix < 1 || prefix > 32 ||
        (argc == 4 && tern_ip4_from_str(argv[3], &dns) != TERN_OK))
        return 2;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, 0);
    stack = calloc(1, sizeof *stack);
    if (sfd < 0 || stack == NULL || tern_posix_init(&px) != TERN_OK || tern_stack_init(stack, &px.port) != TERN_OK)
        return 1;
    static const uint8_t mac[6] = TERN_TAP_DEFAULT_MAC;
    if (tern_tap_open(&tap, argv[1], mac) != TERN_OK) {
        perror("TAP");
        return 1;
    }
    tern_posix_lock(&px);
    (void)tern_poll(stack, tern_posix_now_ms());
    int rc = tern_netif_add(stack, &tap.netif);
    if (rc == TERN_OK) {
        tern_netif_set_link(&tap.netif, 1);
        tern_netif_set_addr(&tap.netif, ip, ~(uint32_t)0 << (32u - prefix), 0);
    }
    if (rc == TERN_OK && dns != 0) {
        rc = tern_dns_start(stack);
        if (rc == TERN_OK)
            rc = tern_dns_set_servers(stack, &dns, 1);
    }
    tern_posix_unlock(&px);
    if (rc != TERN_OK || tern_posix_runner_init(&runner, &px, stack) != TERN_OK ||
        tern_tap_runner_add(&runner, &tap) != 0 || tern_posix_runner_start(&runner) != TERN_OK)
        return 1;
    tern_compat_set_stack(stack);
    compat_app_start();
    printf("compat: up on %s %s/%u\n", argv[1], argv[2], prefix);
    fflush(stdout);
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
        ;
    printf("compat: stopping\n");
    fflush(stdout);
    _exit(0);
}
