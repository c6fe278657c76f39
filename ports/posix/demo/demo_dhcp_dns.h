/* tern-demo's DHCP and DNS part (TAP mode): --dhcp configures the interface
 * from a DHCP server and prints every state change; --dns ADDR sets a DNS
 * server by hand; --resolve NAME (repeatable) resolves names once the
 * interface has an address, from an application thread with the blocking
 * tern_dns_resolve(). TERN_IPV6 builds: --dns takes an IPv6 address too,
 * and --resolve6 NAME asks for the AAAA record (tern_dns_resolve_addr),
 * waiting up to 20 s for a server (an RA's RDNSS). */
#ifndef TERN_DEMO_DHCP_DNS_H
#define TERN_DEMO_DHCP_DNS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "tern/stack.h"

#define DEMO_DD_MAX_RESOLVE 16

typedef struct demo_dd_opts {
    int dhcp;                                  /* --dhcp */
    uint32_t dns;                              /* --dns ADDR (0: from DHCP) */
    const char *resolve[DEMO_DD_MAX_RESOLVE];  /* --resolve NAME */
    uint8_t resolve6[DEMO_DD_MAX_RESOLVE];     /* 1: --resolve6 NAME (AAAA) */
    unsigned nresolve;
    int have_dns6;                             /* --dns with an IPv6 address */
    uint8_t dns6[16];
} demo_dd_opts_t;

struct tern_posix;

typedef struct demo_dd {
    demo_dd_opts_t opts;
    tern_stack_t *stack;
    struct tern_posix *px;
    int wake_fd;            /* eventfd the main loop polls: written on DHCP events */
    atomic_int bound;       /* the interface has an address to resolve from */
    int started;            /* DNS (and DHCP) started */
    int resolving;          /* resolver thread started */
    atomic_int resolved;    /* resolver thread finished */
    pthread_t thread;
} demo_dd_t;

/* Parse one of --dhcp, --dns, --resolve, --resolve6 (name without dashes, arg or
 * NULL): 1 if it is one of ours and valid, 0 if not ours, -1 if invalid. */
int demo_dd_option(demo_dd_opts_t *o, const char *name, const char *arg);
/* Does the command line ask for anything of ours? */
int demo_dd_wanted(const demo_dd_opts_t *o);
/* Start DNS (when --dns or --resolve) and DHCP (when --dhcp) on nif; core
 * lock held. */
int demo_dd_start(demo_dd_t *dd, const demo_dd_opts_t *o, tern_stack_t *stack, struct tern_posix *px,
                  tern_netif_t *nif, int wake_fd);
/* From the main loop, no lock held: once the interface has an address,
 * start resolving the --resolve names (each printed as it completes). */
void demo_dd_poll(demo_dd_t *dd);
/* Join the resolver and stop DHCP (releasing the lease) and DNS; takes the
 * core lock itself. */
void demo_dd_stop(demo_dd_t *dd);
/* The DHCP and DNS report lines (core lock held). */
void demo_dd_report(const tern_stack_t *stack);

#endif
