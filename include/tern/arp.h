/* ARP (RFC 826) for IPv4 over Ethernet: the cache, resolution and the
 * console view of it. Policy (cache poisoning, conflicts): docs/network.md.
 *
 * The cache is TERN_ARP_CACHE_SIZE entries allocated at stack init from the
 * ledger (category ARP_CACHE, owner 0). An entry resolving an address holds
 * up to TERN_ARP_QUEUE_LEN network buffers waiting for the answer. */
#ifndef TERN_ARP_H
#define TERN_ARP_H

#include <stdint.h>
#include "tern/netif.h"
#include "tern/port.h"

enum tern_arp_state {
    TERN_ARP_FREE = 0,
    TERN_ARP_PENDING = 1,    /* request sent, no answer yet; packets may wait */
    TERN_ARP_RESOLVED = 2,   /* usable until the deadline */
    TERN_ARP_REFRESHING = 3  /* aged but in use: still usable, re-requested */
};

typedef struct tern_arp_entry {
    tern_netbuf_t *queue;   /* packets waiting (PENDING), oldest first */
    tern_netif_t *nif;
    tern_ip4_t ip;
    uint32_t deadline;      /* next request (PENDING/REFRESHING) or end of life (RESOLVED) */
    uint32_t confirmed;     /* time the mapping was last confirmed (or first requested) */
    uint8_t mac[6];
    uint16_t last_used;     /* when a packet last went through (or confirmed), in 1024 ms ticks */
    uint8_t state;          /* enum tern_arp_state */
    uint8_t retries;        /* requests sent in this resolution round */
    uint8_t queued;         /* buffers in queue */
    uint8_t used;           /* sent through since last confirmed (refresh it at expiry) */
} tern_arp_entry_t;

typedef struct tern_arp {
    tern_arp_entry_t *cache;  /* TERN_ARP_CACHE_SIZE entries (ledger, ARP_CACHE) */
    uint32_t last_defend;     /* time of the last defence (RFC 5227 2.4 (b)) */
    uint8_t defended;         /* last_defend is meaningful */
    uint8_t conflict;         /* 1 once a conflict is seen, until cleared */
    uint8_t conflict_mac[6];  /* who claimed our address last */
    tern_ip4_t conflict_ip;
    uint32_t conflict_time;
} tern_arp_t;

/* One cache entry as seen from outside (the console 'arp' command). */
typedef struct tern_arp_info {
    tern_ip4_t ip;
    uint8_t mac[6];          /* zero while PENDING */
    uint8_t state;           /* enum tern_arp_state, never FREE */
    uint8_t retries;
    uint8_t queued;
    uint32_t age_ms;         /* since confirmed (PENDING: since first request) */
    const char *ifname;
} tern_arp_info_t;

struct tern_stack;

/* TERN_OK and the MAC if ip is resolved (RESOLVED or REFRESHING);
 * TERN_ERR_INPROGRESS while it is being resolved; TERN_ERR_NOROUTE if it is
 * not in the cache. Does not start a resolution. */
int tern_arp_lookup(struct tern_stack *stack, tern_ip4_t ip, uint8_t mac_out[6]);

/* The nth occupied entry (0-based, cache order): TERN_OK, or TERN_ERR_INVAL
 * past the last one. */
int tern_arp_entry_info(const struct tern_stack *stack, unsigned n, tern_arp_info_t *out);

/* One line per occupied entry: address, MAC, state, age, interface. */
void tern_arp_report_text(const struct tern_stack *stack, tern_writer_fn write, void *ctx);

/* 1 if another host claimed one of our addresses since the last clear, with
 * the address and its MAC (either pointer may be NULL); 0 otherwise. The
 * count of such packets is in the arp.conflicts counter. */
int tern_arp_conflict(const struct tern_stack *stack, tern_ip4_t *ip, uint8_t mac[6]);
void tern_arp_conflict_clear(struct tern_stack *stack);

/* Drop every entry (and queued packet) of nif, or of all interfaces when nif
 * is NULL. */
void tern_arp_flush(struct tern_stack *stack, tern_netif_t *nif);

/* An ARP probe for ip (RFC 5227 2.1.1: a request with sender IP 0.0.0.0 and
 * target ip), as a DHCP client sends before using an offered address.
 * TERN_OK or the send error. Core lock held. */
int tern_arp_probe(struct tern_stack *stack, tern_netif_t *nif, tern_ip4_t ip);

#endif
