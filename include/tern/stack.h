/* The stack instance and its entry points.
 *
 * All of tern's mutable state lives in one struct tern_stack the application
 * owns (usually a static variable): heap arena, ledger, network buffers,
 * interfaces, protocol state, counters. There is no other global state.
 *
 * The core is single-threaded and deterministic: it never reads a clock or a
 * random source. Drivers pass received frames to tern_input() and the main
 * loop calls tern_poll() with the current time; both return quickly.
 *
 * The locking rule (the one place it is written; docs/getting-started.md
 * repeats it): on an OS, the port's core lock (port->lock) serializes every
 * entry into the stack, and it is not recursive.
 *  - The socket calls (socket.h) and what is built on them (the services,
 *    the HTTP server, tern_dns_resolve, the compatibility layers) take the
 *    lock themselves: call them WITHOUT it, never from a callback.
 *  - Every other public call that reaches a tern_stack_t (directly or
 *    through a netif or a pcb: tern_input, tern_poll, tern_netif_*, the raw
 *    TCP/UDP/ICMP/ARP API, DHCP and the raw DNS API, the services list, the
 *    reports and counters) needs the caller to HOLD it. Callbacks from the
 *    core (raw API, service polls) already run with it held.
 * TERN_DEBUG builds check both halves on entry (TERN_CORE_LOCKED below, and
 * the socket layer's lock), through port->lock_held: a broken rule is an
 * assert_failed naming the function. A port without lock_held (no OS, one
 * main loop, no lock) is not checked, and release builds check nothing. */
#ifndef TERN_STACK_H
#define TERN_STACK_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/counters.h"
#include "tern/err.h"
#include "tern/heap.h"
#include "tern/ledger.h"
#include "tern/netbuf.h"
#include "tern/netif.h"
#include "tern/port.h"
#include "tern/arp.h"
#include "tern/ipv4.h"
#include "tern/icmp.h"
#include "tern/ipv6.h"
#include "tern/udp.h"
#include "tern/tcp.h"
#include "tern/socket.h"
#include "tern/fingerprint.h"

struct tern_stack;

/* A service with timers inside the stack (DHCP, DNS, HTTP...): tern_poll
 * calls poll with the current time; it runs what is due and returns the ms
 * until its next deadline (UINT32_MAX: none). The caller owns the struct.
 * The optional hooks keep the core free of application code: arp_input sees
 * every ARP packet that passed validation, before the cache does (DHCP's
 * RFC 5227 address check), and stop runs in tern_stack_deinit, before the
 * sockets close, and must remove the service and free what it holds.
 * An application keeps its state in its own struct (which embeds this one,
 * ctx pointing back at it) and finds it again by name with
 * tern_stack_find_service: the stack holds no pointer of any application. */
typedef struct tern_service {
    struct tern_service *next;
    const char *name; /* optional: "dhcp", "dns"... one running service per name */
    uint32_t (*poll)(struct tern_stack *stack, void *ctx, uint32_t now);
    void *ctx;
    void (*arp_input)(struct tern_stack *stack, void *ctx, struct tern_netif *nif, uint16_t op,
                      const uint8_t sha[6], tern_ip4_t spa, tern_ip4_t tpa);
    void (*stop)(struct tern_stack *stack, void *ctx);
} tern_service_t;

typedef struct tern_stack {
    const tern_port_t *port;
    tern_heap_t heap;
    tern_ledger_t ledger;
    tern_netbuf_pool_t netbufs;
    tern_netif_t *netifs;     /* interface list */
    uint32_t now;             /* time of the latest tern_input/tern_poll, ms */
    tern_arp_t arp;
    tern_ipv4_t ipv4;
    tern_icmp_t icmp;
#if TERN_IPV6
    tern_ipv6_t ipv6;         /* TERN_IPV6: static tables, sized by config.h */
#endif
    tern_udp_t udp;
    tern_tcp_t tcp;
    tern_socket_table_t sockets;
    tern_service_t *services; /* polled by tern_poll */
    tern_counters_t counters;
#if TERN_HEAP_SIZE > 0
    _Alignas(8) uint8_t heap_arena[TERN_HEAP_SIZE];
#endif
} tern_stack_t;

/* The check of the locking rule (header comment): on entry to every public
 * call that needs the core lock. Costs nothing without TERN_DEBUG. */
void tern_core_lock_missing(const tern_stack_t *stack, const char *fn);
#if TERN_DEBUG
#define TERN_CORE_LOCKED(stack) TERN_CORE_LOCKED_AT(stack, __func__)
/* The same, naming fn (a helper checking for its caller). */
#define TERN_CORE_LOCKED_AT(stack, fn)                                                                                 \
    do {                                                                                                               \
        const tern_stack_t *lk_stack_ = (stack);                                                                       \
        const tern_port_t *lk_port_ = lk_stack_ != NULL ? lk_stack_->port : NULL;                                      \
        if (lk_port_ != NULL && lk_port_->lock_held != NULL && !lk_port_->lock_held(lk_port_->ctx))                    \
            tern_core_lock_missing(lk_stack_, (fn));                                                                   \
    } while (0)
#else
#define TERN_CORE_LOCKED(stack) ((void)0)
#define TERN_CORE_LOCKED_AT(stack, fn) ((void)0)
#endif

/* Initialise everything: heap over the embedded arena, ledger, network
 * buffers, protocol state (the ARP cache is allocated here, STACK_INIT and
 * ARP_CACHE categories). port must outlive the stack. port->random32 is
 * required (TERN_ERR_INVAL without it). With TERN_HEAP_SIZE 0 the
 * application calls tern_heap_init(&stack->heap, port) and
 * tern_heap_add_region() first; init keeps that heap. */
int tern_stack_init(tern_stack_t *stack, const tern_port_t *port);
/* What the tern_stack_init macro calls: TERN_ERR_CONFIG (nothing written)
 * when the caller was compiled with another configuration than the library
 * (fingerprint.h). */
int tern_stack_init_checked(tern_stack_t *stack, const tern_port_t *port, const tern_config_view_t *view);
#define tern_stack_init(stack, port) tern_stack_init_checked((stack), (port), &TERN_CONFIG_VIEW)
/* Free everything the stack allocated; the ledger returns to empty. Takes
 * the core lock itself (it closes the sockets): call it without the lock,
 * after the stack thread stopped. */
void tern_stack_deinit(tern_stack_t *stack);

/* A received frame (zero-copy path): the stack owns nb from this call. */
void tern_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, uint32_t now);
/* A received frame in the driver's storage (copy path): copied into a
 * network buffer. TERN_ERR_NOBUFS when none is free (counted). */
int tern_input_copy(tern_stack_t *stack, tern_netif_t *nif, const void *frame, size_t len, uint32_t now);
/* An input batch (netif.h): frames passed between begin and end were
 * read together. The ACKs that the delayed-ACK rules let wait (every
 * second full segment, RFC 5681 4.2) are sent once per connection at the
 * end; those owed at once (duplicate ACKs, out-of-order data, a filled
 * gap) still go at once. Batches nest; call both with the lock held, end
 * before releasing it. */
void tern_input_batch_begin(tern_stack_t *stack);
void tern_input_batch_end(tern_stack_t *stack);

/* Run due timers (ARP aging and retries, reassembly timeouts, ...). Returns
 * milliseconds until the next deadline, at most 1000. */
uint32_t tern_poll(tern_stack_t *stack, uint32_t now);

/* Register or remove a service polled by tern_poll (core lock held). */
void tern_stack_add_service(tern_stack_t *stack, tern_service_t *svc);
void tern_stack_remove_service(tern_stack_t *stack, tern_service_t *svc);
/* The registered service of that name, or NULL (core lock held). */
tern_service_t *tern_stack_find_service(const tern_stack_t *stack, const char *name);

/* One line: heap free, minimum-ever-free, network buffers free and
 * minimum-ever-free. */
void tern_stack_report_summary(const tern_stack_t *stack, tern_writer_fn write, void *ctx);
/* The full memory report, each figure once: the static objects inside
 * tern_stack_t (heap arena, socket table, network buffers, ...; rows sum to
 * its sizeof), the heap's statistics, the buffers, the ledger's table. */
void tern_stack_report_memory(const tern_stack_t *stack, tern_writer_fn write, void *ctx);

#endif
