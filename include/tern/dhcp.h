/* DHCP client (RFC 2131, options RFC 2132) with an ARP check of the offered
 * address (RFC 5227) and an optional static fallback.
 *
 * One client per stack, on one interface. tern_dhcp_start() allocates the
 * client's state from the ledger (category DHCP, owner 0) and registers a
 * service; tern_poll() runs its timers. tern_dhcp_stop() frees it all.
 * State machine, timers and memory: docs/dhcp_dns.md.
 *
 * Every function here is raw API: call it with the core lock held (from the
 * stack thread, a raw-API callback, or an application thread holding the
 * port's lock). Replies are parsed as hostile input: every reply that is
 * malformed, not for us, or unexpected in the current state is dropped and
 * counted in tern_dhcp_stats_t. */
#ifndef TERN_DHCP_H
#define TERN_DHCP_H

#include <stdint.h>
#include "tern/config.h"
#include "tern/netif.h"
#include "tern/port.h"

struct tern_stack;

enum tern_dhcp_state {
    TERN_DHCP_STOPPED = 0,
    TERN_DHCP_INIT,        /* waiting (random delay, or 10 s after a DECLINE) before DISCOVER */
    TERN_DHCP_SELECTING,   /* DISCOVER sent, waiting for an OFFER */
    TERN_DHCP_REQUESTING,  /* REQUEST sent for an OFFER */
    TERN_DHCP_CHECKING,    /* ACK received: ARP-probing the address before using it */
    TERN_DHCP_BOUND,       /* address configured, lease running */
    TERN_DHCP_RENEWING,    /* past T1: REQUEST unicast to our server */
    TERN_DHCP_REBINDING,   /* past T2: REQUEST broadcast to any server */
    TERN_DHCP_FALLBACK,    /* no server answered: fallback address set, still discovering */
    TERN_DHCP_STATE_COUNT_
};

/* Why replies were dropped, and what the client did. Zeroed by start. */
typedef struct tern_dhcp_stats {
    uint32_t tx_discover;
    uint32_t tx_request;
    uint32_t tx_decline;
    uint32_t tx_release;
    uint32_t tx_err;          /* messages not sent: no buffer, no route, link down */
    uint32_t rx;              /* datagrams received on port 68 */
    uint32_t rx_offer;        /* valid OFFERs taken or seen */
    uint32_t rx_ack;
    uint32_t rx_nak;
    uint32_t drop_short;      /* shorter than the 240-byte header and cookie */
    uint32_t drop_header;     /* op not BOOTREPLY, htype not Ethernet, hlen not 6, source port not 67 */
    uint32_t drop_xid;        /* not our transaction id */
    uint32_t drop_chaddr;     /* not our hardware address */
    uint32_t drop_cookie;     /* no magic cookie */
    uint32_t drop_options;    /* options running past the packet, lengths that lie, no end option,
                                 bad overload, duplicated single-value options */
    uint32_t drop_invalid;    /* well formed but unusable: no or unknown message type, no server id,
                                 no lease in an ACK, bad address or mask */
    uint32_t drop_state;      /* a valid message we were not waiting for (wrong state or server) */
    uint32_t leases;          /* times bound (new lease, renewal or rebinding) */
    uint32_t renewals;        /* entered RENEWING */
    uint32_t rebinds;         /* entered REBINDING */
    uint32_t expiries;        /* leases that ran out: address taken down */
    uint32_t conflicts;       /* ARP probe found the offered address in use (DECLINE sent) */
    uint32_t restarts;        /* back to INIT: NAK, REQUEST unanswered, expiry, conflict */
    uint32_t fallbacks;       /* fallback address configured */
} tern_dhcp_stats_t;

/* A snapshot of the client. */
typedef struct tern_dhcp_info {
    int state;                          /* enum tern_dhcp_state */
    tern_ip4_t addr;                    /* leased (or offered, while REQUESTING/CHECKING) */
    tern_ip4_t netmask;
    tern_ip4_t router;                  /* 0: none */
    tern_ip4_t server;                  /* server identifier (option 54) */
    tern_ip4_t dns[TERN_DHCP_MAX_DNS];  /* DNS servers (option 6), valid while holding a lease */
    unsigned dns_count;
    uint32_t lease_s;                   /* lease time; 0xFFFFFFFF: infinite */
    uint32_t t1_s, t2_s;
    uint32_t elapsed_s;                 /* since the lease started (the REQUEST was sent) */
    uint32_t xid;                       /* current transaction id */
    unsigned tries;                     /* transmissions in the current state */
} tern_dhcp_info_t;

/* Called after every state change (core lock held, inside tern_poll or
 * tern_input). It may read the client (tern_dhcp_get_info) but must not stop
 * it. */
typedef void (*tern_dhcp_event_fn)(struct tern_stack *stack, void *ctx, int state);

/* Start the client on nif (registered with stack, link up or coming up).
 * The first DISCOVER goes out at the first tern_poll after a random delay
 * below TERN_DHCP_INIT_DELAY_MS. TERN_OK; TERN_ERR_STATE if a client is
 * already running; TERN_ERR_INVAL for a bad argument; TERN_ERR_NOMEM; or
 * the UDP bind error (port 68 in use). */
int tern_dhcp_start(struct tern_stack *stack, tern_netif_t *nif);
/* Stop and free the client. An address it configured (lease or fallback)
 * is taken down, since nothing will renew it. No message is sent. */
void tern_dhcp_stop(struct tern_stack *stack);
/* Give the lease back (DHCPRELEASE to the server), then stop. */
void tern_dhcp_release(struct tern_stack *stack);

/* Hostname sent in option 12 (copied, at most TERN_DHCP_HOSTNAME_MAX bytes
 * of letters, digits and '-'; "" sends none). Default TERN_DHCP_HOSTNAME.
 * TERN_ERR_STATE when not running, TERN_ERR_INVAL for a bad name. */
int tern_dhcp_set_hostname(struct tern_stack *stack, const char *name);
/* Static fallback: after `after` DISCOVERs without a usable OFFER, configure
 * addr/netmask/gateway and keep discovering (every 64 s). after 0 or addr 0
 * disables it. Defaults: TERN_DHCP_FALLBACK_*. TERN_ERR_STATE when not
 * running. */
int tern_dhcp_set_fallback(struct tern_stack *stack, tern_ip4_t addr, tern_ip4_t netmask, tern_ip4_t gateway,
                           unsigned after);
/* State-change callback (fn NULL clears). TERN_ERR_STATE when not running. */
int tern_dhcp_set_callback(struct tern_stack *stack, tern_dhcp_event_fn fn, void *ctx);

/* enum tern_dhcp_state (TERN_DHCP_STOPPED when no client runs). */
int tern_dhcp_state(const struct tern_stack *stack);
/* Lower-case name of a state ("bound"); "?" for an unknown value. */
const char *tern_dhcp_state_name(int state);
/* TERN_OK and the snapshot, or TERN_ERR_STATE when no client runs. */
int tern_dhcp_get_info(const struct tern_stack *stack, tern_dhcp_info_t *out);
/* The counters, or NULL when no client runs. */
const tern_dhcp_stats_t *tern_dhcp_stats(const struct tern_stack *stack);
/* One line: state, address/prefix, router, DNS, server, lease timers and
 * message counts ("dhcp: stopped" when no client runs). */
void tern_dhcp_report_text(const struct tern_stack *stack, tern_writer_fn write, void *ctx);

#endif
