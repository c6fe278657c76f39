/* tern-demo's DHCP and DNS part: see demo_dhcp_dns.h. */
#include "demo_dhcp_dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tern/dhcp.h"
#include "tern/dns.h"
#include "tern_posix.h"

#define DEMO_RESOLVE_TIMEOUT_MS 10000u

static void write_stdout(void *ctx, const char *text, unsigned len)
{
    (void)ctx;
    fwrite(text, 1, len, stdout);
}

int demo_dd_option(demo_dd_opts_t *o, const char *name, const char *arg)
{
    if (strcmp(name, "dhcp") == 0) {
        o->dhcp = 1;
        return 1;
    }
    if (strcmp(name, "dns") == 0) {
        uint32_t a;
#if TERN_IPV6
        if (arg != NULL && strchr(arg, ':') != NULL) {
            if (inet_pton(AF_INET6, arg, o->dns6) != 1)
                return -1;
            o->have_dns6 = 1;
            return 1;
        }
#endif
        if (arg == NULL || tern_posix_parse_ip4(arg, &a, NULL) != 0 || a == 0u)
            return -1;
        o->dns = a;
        return 1;
    }
    if (strcmp(name, "resolve") == 0 || strcmp(name, "resolve6") == 0) {
        if (arg == NULL || arg[0] == '\0' || strlen(arg) > TERN_DNS_NAME_MAX + 1u ||
            o->nresolve >= DEMO_DD_MAX_RESOLVE)
            return -1;
#if !TERN_IPV6
        if (name[7] == '6')
            return -1; /* AAAA needs TERN_IPV6 */
#endif
        o->resolve6[o->nresolve] = name[7] == '6';
        o->resolve[o->nresolve++] = arg;
        return 1;
    }
    return 0;
}

int demo_dd_wanted(const demo_dd_opts_t *o)
{
    return o->dhcp || o->dns != 0u || o->have_dns6 || o->nresolve != 0u;
}

/* DHCP state changes: stack thread, core lock held. */
static void dd_dhcp_event(tern_stack_t *stack, void *ctx, int state)
{
    demo_dd_t *dd = ctx;
    tern_dhcp_report_text(stack, write_stdout, NULL); /* "dhcp: STATE ..." */
    fflush(stdout);
    if (state == TERN_DHCP_BOUND || state == TERN_DHCP_FALLBACK) {
        atomic_store(&dd->bound, 1);
        uint64_t one = 1;
        ssize_t n = write(dd->wake_fd, &one, sizeof one);
        (void)n;
    }
}

int demo_dd_start(demo_dd_t *dd, const demo_dd_opts_t *o, tern_stack_t *stack, struct tern_posix *px,
                  tern_netif_t *nif, int wake_fd)
{
    memset(dd, 0, sizeof *dd);
    dd->opts = *o;
    dd->stack = stack;
    dd->px = px;
    dd->wake_fd = wake_fd;
    atomic_init(&dd->bound, o->dhcp ? 0 : 1);
    atomic_init(&dd->resolved, 0);
    if (!demo_dd_wanted(o))
        return TERN_OK;
    int r = TERN_OK;
    if (o->dns != 0u || o->have_dns6 || o->nresolve != 0u || o->dhcp) {
        r = tern_dns_start(stack);
        if (r == TERN_OK && o->dns != 0u)
            r = tern_dns_set_servers(stack, &o->dns, 1);
#if TERN_IPV6
        if (r == TERN_OK && o->have_dns6) {
            tern_ip6_t s6;
            memcpy(s6.b, o->dns6, 16);
            r = tern_dns_set_servers6(stack, &s6, 1);
        }
#endif
    }
    if (r == TERN_OK && o->dhcp) {
        r = tern_dhcp_start(stack, nif);
        if (r == TERN_OK)
            r = tern_dhcp_set_callback(stack, dd_dhcp_event, dd);
    }
    dd->started = r == TERN_OK;
    if (dd->started && !o->dhcp && o->nresolve != 0u) {
        /* Nothing to wait for: wake the main loop so demo_dd_poll starts
         * the resolver now rather than at the next unrelated event. */
        uint64_t one = 1;
        ssize_t n = write(wake_fd, &one, sizeof one);
        (void)n;
    }
    return r;
}

/* The application thread: blocking lookups, one after the other. */
static void *dd_resolve_main(void *arg)
{
    demo_dd_t *dd = arg;
    char buf[16];
    for (unsigned i = 0; i < dd->opts.nresolve; i++) {
#if TERN_IPV6
        if (dd->opts.resolve6[i]) {
            tern_sockaddr_t sa;
            int r = TERN_ERR_STATE;
            /* No server yet: the RA with RDNSS may still be on its way. */
            for (unsigned t = 0; t < 40u && r == TERN_ERR_STATE; t++) {
                r = tern_dns_resolve_addr(dd->stack, dd->opts.resolve[i], TERN_FAMILY_IP6, &sa,
                                          DEMO_RESOLVE_TIMEOUT_MS);
                if (r == TERN_ERR_STATE)
                    nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 500000000L}, NULL);
            }
            char b6[40];
            if (r == TERN_OK) {
                (void)tern_ip6_to_str(&sa.addr6, b6);
                printf("resolve6 %s: %s\n", dd->opts.resolve[i], b6);
            } else {
                printf("resolve6 %s: error %s (%s)\n", dd->opts.resolve[i], tern_strerror(r), tern_errname(r));
            }
            fflush(stdout);
            continue;
        }
#endif
        tern_ip4_t addr = 0;
        int r = tern_dns_resolve(dd->stack, dd->opts.resolve[i], &addr, DEMO_RESOLVE_TIMEOUT_MS);
        if (r == TERN_OK)
            printf("resolve %s: %s\n", dd->opts.resolve[i], tern_posix_ip4_str(addr, buf));
        else
            printf("resolve %s: error %s (%s)\n", dd->opts.resolve[i], tern_strerror(r), tern_errname(r));
        fflush(stdout);
    }
    tern_posix_lock(dd->px);
    tern_dns_report_text(dd->stack, write_stdout, NULL);
    tern_posix_unlock(dd->px);
    fflush(stdout);
    atomic_store(&dd->resolved, 1);
    return NULL;
}

void demo_dd_poll(demo_dd_t *dd)
{
    if (!dd->started || dd->resolving || dd->opts.nresolve == 0u || !atomic_load(&dd->bound))
        return;
    if (pthread_create(&dd->thread, NULL, dd_resolve_main, dd) != 0) {
        fprintf(stderr, "tern-demo: cannot start the resolver thread\n");
        dd->opts.nresolve = 0;
        return;
    }
    dd->resolving = 1;
}

void demo_dd_stop(demo_dd_t *dd)
{
    if (dd->resolving) {
        pthread_join(dd->thread, NULL);
        dd->resolving = 0;
    }
    if (!dd->started)
        return;
    tern_posix_lock(dd->px);
    if (tern_dhcp_state(dd->stack) != TERN_DHCP_STOPPED) {
        tern_dhcp_set_callback(dd->stack, NULL, NULL);
        tern_dhcp_report_text(dd->stack, write_stdout, NULL);
        tern_dhcp_release(dd->stack);
        printf("dhcp: lease released, client stopped\n");
    }
    tern_dns_stop(dd->stack);
    tern_posix_unlock(dd->px);
    fflush(stdout);
    dd->started = 0;
}

void demo_dd_report(const tern_stack_t *stack)
{
    tern_dhcp_report_text(stack, write_stdout, NULL);
    tern_dns_report_text(stack, write_stdout, NULL);
}
