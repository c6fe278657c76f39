/* The DHCP client's state (internal): one ledger block (category DHCP)
 * from tern_dhcp_start to tern_dhcp_stop. Here rather than in dhcp.c so
 * that firmware/sizes.c can report its size on the target. */
#ifndef TERN_DHCP_STATE_H
#define TERN_DHCP_STATE_H

#include <stdint.h>
#include "tern/dhcp.h"
#include "tern/stack.h"
#include "tern/udp.h"

struct tern_dhcp {
    tern_service_t svc;
    tern_udp_pcb_t pcb;
    tern_stack_t *stack;
    tern_netif_t *nif;
    tern_dhcp_event_fn event_fn;
    void *event_ctx;
    tern_dhcp_stats_t stats;
    uint32_t xid;
    uint32_t deadline;   /* ms: next transmission or timeout (INIT..CHECKING, FALLBACK) */
    uint32_t started;    /* ms: start of this exchange (the secs field) */
    uint32_t req_first;  /* ms: first REQUEST of this exchange: the lease starts there */
    uint32_t tick;       /* ms: the lease clock has counted elapsed_s up to here */
    uint32_t elapsed_s;  /* seconds since the lease started */
    uint32_t next_tx_s;  /* RENEWING/REBINDING: next retransmission, in elapsed_s */
    uint32_t lease_s, t1_s, t2_s;
    tern_ip4_t offered;  /* the address offered, being checked, or leased */
    tern_ip4_t server;   /* server identifier */
    tern_ip4_t netmask, router;
    tern_ip4_t dns[TERN_DHCP_MAX_DNS];
    tern_ip4_t fb_addr, fb_mask, fb_gw;
    uint16_t discovers;  /* DISCOVERs sent since the last restart */
    uint16_t fb_after;
    uint8_t dns_count;
    uint8_t state;
    uint8_t tries;       /* transmissions (or probes) in this state */
    uint8_t armed;       /* INIT: deadline set */
    uint8_t lease_addr;  /* nif's address is our lease */
    uint8_t fb_active;   /* nif's address is the fallback */
    char hostname[TERN_DHCP_HOSTNAME_MAX + 1];
};

typedef struct tern_dhcp tern_dhcp_t;

#endif
