/* The stack instance and its entry points.
 *
 * All of tern's mutable state lives in one struct tern_stack the application
 * owns (usually a static variable): heap arena, ledger, network buffers,
 * interfaces, protocol state, counters. There is no other global state.
 *
 * The core is single-threaded and deterministic: it never reads a clock or a
 * random source. Drivers pass received frames to tern_input() and the main
 * loop calls tern_poll() with the current time; both return quickly. On an
 * OS, application threads call the API under the port's core lock. */
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
    tern_counters_t counters;
#if TERN_HEAP_SIZE > 0
    _Alignas(8) uint8_t heap_arena[TERN_HEAP_SIZE];
#endif
} tern_stack_t;

/* Initialise everything: heap over the embedded arena, ledger, network
 * buffers, protocol state (the ARP cache is allocated here, STACK_INIT and
 * ARP_CACHE categories). port must outlive the stack. */
int tern_stack_init(tern_stack_t *stack, const tern_port_t *port);
/* Free everything the stack allocated; the ledger returns to empty. */
void tern_stack_deinit(tern_stack_t *stack);

/* A received frame (zero-copy path): the stack owns nb from this call. */
void tern_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, uint32_t now);
/* A received frame in the driver's storage (copy path): copied into a
 * network buffer. TERN_ERR_NOBUFS when none is free (counted). */
int tern_input_copy(tern_stack_t *stack, tern_netif_t *nif, const void *frame, size_t len, uint32_t now);

/* Run due timers (ARP aging and retries, reassembly timeouts, ...). Returns
 * milliseconds until the next deadline, at most 1000. */
uint32_t tern_poll(tern_stack_t *stack, uint32_t now);

/* One line: heap free, minimum-ever-free, network buffers free and
 * minimum-ever-free. */
void tern_stack_report_summary(const tern_stack_t *stack, tern_writer_fn write, void *ctx);
/* The full memory report: heap statistics and the ledger table. */
void tern_stack_report_memory(const tern_stack_t *stack, tern_writer_fn write, void *ctx);

#endif
