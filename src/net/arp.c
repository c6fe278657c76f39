/* ARP (RFC 826) with RFC 5227 conflict detection and defence.
 *
 * Cache policy (docs/network.md, "ARP policy"): RFC 826's merge rule. A
 * received ARP updates an entry that already exists for its sender; only a
 * request addressed to us creates one, and only into a free slot. Replies
 * never create entries, so an unsolicited reply cannot plant a mapping. */
#include <string.h>
#include "util/fmt.h"
#include "net/net_internal.h"
#include "tern/plan.h"

/* The sizes of this module's allocations, for the planner (tern/plan.h). */
TERN_PLAN_SIZE(arp_entry, sizeof(tern_arp_entry_t));
TERN_PLAN_SIZE(arp_cache_size, TERN_ARP_CACHE_SIZE);
/* Static-only build: the cache, once. */
TERN_STATIC_POOL(arp_cache, TERN_MEM_ARP_CACHE, sizeof(tern_arp_entry_t) * TERN_ARP_CACHE_SIZE, 1);

/* RFC 5227 2.4 (b): defend an address at most once per DEFEND_INTERVAL. */
#define ARP_DEFEND_INTERVAL_MS 10000u

static const uint8_t arp_zero_mac[6] = {0, 0, 0, 0, 0, 0};

int arp_init(tern_stack_t *stack)
{
    memset(&stack->arp, 0, sizeof stack->arp);
    stack->arp.cache = tern_mem_zalloc(&stack->ledger, sizeof(tern_arp_entry_t) * TERN_ARP_CACHE_SIZE,
                                       TERN_MEM_ARP_CACHE, TERN_OWNER_STACK);
    return stack->arp.cache != NULL ? TERN_OK : TERN_ERR_NOMEM;
}

void arp_deinit(tern_stack_t *stack)
{
    if (stack->arp.cache == NULL)
        return;
    tern_arp_flush(stack, NULL);
    tern_mem_free(&stack->ledger, stack->arp.cache);
    stack->arp.cache = NULL;
}

/* Free an entry; its waiting packets are dropped and added to *dropped. */
static void arp_entry_clear(tern_stack_t *stack, tern_arp_entry_t *e, uint32_t *dropped)
{
    tern_netbuf_t *q = e->queue;
    if (dropped != NULL)
        *dropped += e->queued;
    memset(e, 0, sizeof *e);
    tern_netbuf_release_chain(&stack->netbufs, q);
}

static tern_arp_entry_t *arp_find(const tern_stack_t *stack, const tern_netif_t *nif, tern_ip4_t ip)
{
    if (stack->arp.cache == NULL)
        return NULL;
    for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++) {
        tern_arp_entry_t *e = &stack->arp.cache[i];
        if (e->state != TERN_ARP_FREE && e->ip == ip && (nif == NULL || e->nif == nif))
            return e;
    }
    return NULL;
}

static tern_arp_entry_t *arp_find_free(const tern_stack_t *stack)
{
    for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++) {
        if (stack->arp.cache[i].state == TERN_ARP_FREE)
            return &stack->arp.cache[i];
    }
    return NULL;
}

/* Use times in 1024 ms ticks: 16 bits keep the entry at 32 bytes on a
 * 32-bit target and span 18 hours, far beyond TERN_ARP_IN_USE_MS. */
#define ARP_TICK(now) ((uint16_t)((now) >> 10))

static int arp_in_use(const tern_stack_t *stack, const tern_arp_entry_t *e)
{
    return e->used && (uint16_t)(ARP_TICK(stack->now) - e->last_used) < (uint16_t)(TERN_ARP_IN_USE_MS >> 10);
}

/* a was used before b (ties: confirmed earlier). */
static int arp_used_before(const tern_arp_entry_t *a, const tern_arp_entry_t *b)
{
    int16_t d = (int16_t)(uint16_t)(a->last_used - b->last_used);
    return d != 0 ? d < 0 : (int32_t)(a->confirmed - b->confirmed) < 0;
}

/* The entry resolving longest (PENDING; REFRESHING entries still work and
 * are never counted as incomplete); NULL when none. *count gets how many. */
static tern_arp_entry_t *arp_oldest_pending(const tern_stack_t *stack, unsigned *count, int with_queue)
{
    tern_arp_entry_t *oldest = NULL;
    unsigned n = 0;
    for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++) {
        tern_arp_entry_t *c = &stack->arp.cache[i];
        if (c->state != TERN_ARP_PENDING || (with_queue && c->queue == NULL))
            continue;
        n++;
        if (oldest == NULL || (int32_t)(c->confirmed - oldest->confirmed) < 0)
            oldest = c;
    }
    if (count != NULL)
        *count = n;
    return oldest;
}

/* A slot for a new resolution. The address may be anybody's (a SYN-ACK to
 * a spoofed on-link source asks for one too), so: at TERN_ARP_MAX_INCOMPLETE
 * the oldest incomplete entry is recycled; else a free slot; else the
 * resolved entry used least recently, but never one in use (sent through
 * within TERN_ARP_IN_USE_MS): a flood of unverified addresses must not cost
 * a live peer its mapping; else the oldest incomplete entry. */
static tern_arp_entry_t *arp_take_slot(tern_stack_t *stack)
{
    unsigned pending;
    tern_arp_entry_t *oldest = arp_oldest_pending(stack, &pending, 0);
    tern_arp_entry_t *e = NULL;
    if (pending < TERN_ARP_MAX_INCOMPLETE) {
        e = arp_find_free(stack);
        if (e != NULL)
            return e;
        for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++) {
            tern_arp_entry_t *c = &stack->arp.cache[i];
            if (c->state != TERN_ARP_RESOLVED || arp_in_use(stack, c))
                continue;
            if (e == NULL || arp_used_before(c, e))
                e = c;
        }
        if (e != NULL) {
            stack->counters.arp_evicted++;
            arp_entry_clear(stack, e, NULL);
            return e;
        }
    }
    if (oldest != NULL) {
        stack->counters.arp_incomplete_evicted++;
        arp_entry_clear(stack, oldest, &stack->counters.arp_queue_evicted);
    }
    return oldest;
}

/* Make room for one more waiting packet under TERN_ARP_QUEUE_TOTAL: the
 * oldest packet of the entry resolving longest goes. */
static void arp_queue_make_room(tern_stack_t *stack)
{
    unsigned total = 0;
    for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++)
        total += stack->arp.cache[i].queued;
    if (total < TERN_ARP_QUEUE_TOTAL)
        return;
    tern_arp_entry_t *e = arp_oldest_pending(stack, NULL, 1);
    if (e == NULL)
        return;
    tern_netbuf_t *old = e->queue;
    e->queue = old->next;
    e->queued--;
    old->next = NULL;
    tern_netbuf_release(&stack->netbufs, old);
    stack->counters.arp_queue_evicted++;
}

static int arp_send(tern_stack_t *stack, tern_netif_t *nif, uint16_t op, const uint8_t eth_dst[6],
                    const uint8_t tha[6], tern_ip4_t spa, tern_ip4_t tpa)
{
    tern_netbuf_t *nb = tern_netbuf_get(&stack->netbufs, ETH_HDR_LEN + ARP_PKT_LEN, 0);
    if (nb == NULL)
        return TERN_ERR_NOBUFS;
    (void)tern_netbuf_pull(nb, ETH_HDR_LEN);
    arp_write(nb->data, op, nif->mac, spa, tha, tpa);
    return eth_output(stack, nif, nb, eth_dst, ETH_TYPE_ARP);
}

static void arp_request(tern_stack_t *stack, tern_arp_entry_t *e)
{
    if (arp_send(stack, e->nif, ARP_OP_REQUEST, eth_broadcast_mac, arp_zero_mac, e->nif->addr, e->ip) == TERN_OK)
        stack->counters.arp_tx_request++;
}

/* Send the request of the current round and schedule the next one, the
 * interval doubling each time (TERN_ARP_RETRY_MS, 2x, 4x, ...). */
static void arp_request_round(tern_stack_t *stack, tern_arp_entry_t *e)
{
    unsigned shift = e->retries < 16u ? e->retries : 16u;
    e->retries++;
    e->deadline = stack->now + ((uint32_t)TERN_ARP_RETRY_MS << shift);
    arp_request(stack, e);
}

int arp_announce(tern_stack_t *stack, tern_netif_t *nif)
{
    /* RFC 5227 2.3: an ARP request with sender and target both our address. */
    int r = arp_send(stack, nif, ARP_OP_REQUEST, eth_broadcast_mac, arp_zero_mac, nif->addr, nif->addr);
    if (r == TERN_OK)
        stack->counters.arp_tx_announce++;
    return r;
}

int tern_arp_probe(tern_stack_t *stack, tern_netif_t *nif, tern_ip4_t ip)
{
    TERN_CORE_LOCKED(stack);
    /* RFC 5227 2.1.1: sender IP all zeros, so no cache anywhere learns a
     * mapping for an address we do not hold yet. */
    int r = arp_send(stack, nif, ARP_OP_REQUEST, eth_broadcast_mac, arp_zero_mac, 0, ip);
    if (r == TERN_OK)
        stack->counters.arp_tx_request++;
    return r;
}

int arp_output(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb, tern_ip4_t nexthop)
{
    tern_arp_entry_t *e = arp_find(stack, nif, nexthop);
    if (e != NULL && (e->state == TERN_ARP_RESOLVED || e->state == TERN_ARP_REFRESHING)) {
        e->used = 1;
        e->last_used = ARP_TICK(stack->now);
        return eth_output(stack, nif, nb, e->mac, ETH_TYPE_IPV4);
    }
    nb->next = NULL;
    nb->scratch = nexthop;
    if (e == NULL) {
        e = arp_take_slot(stack);
        if (e == NULL) {
            stack->counters.arp_cache_full++;
            tern_netbuf_release(&stack->netbufs, nb);
            return TERN_ERR_NOBUFS;
        }
        e->state = TERN_ARP_PENDING;
        e->nif = nif;
        e->ip = nexthop;
        e->confirmed = stack->now;
        e->last_used = ARP_TICK(stack->now);
        arp_queue_make_room(stack);
        e->queue = nb;
        e->queued = 1;
        stack->counters.arp_queued++;
        arp_request_round(stack, e);
        return TERN_OK;
    }
    /* PENDING: wait in the queue; when full, the oldest packet goes. */
    if (e->queued >= TERN_ARP_QUEUE_LEN) {
        tern_netbuf_t *old = e->queue;
        e->queue = old->next;
        e->queued--;
        old->next = NULL;
        tern_netbuf_release(&stack->netbufs, old);
        stack->counters.arp_queue_overflow++;
    } else {
        arp_queue_make_room(stack);
    }
    tern_netbuf_t **tail = &e->queue;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = nb;
    e->queued++;
    stack->counters.arp_queued++;
    return TERN_OK;
}

/* The mapping is confirmed: resolve the entry and send what waited. */
static void arp_entry_update(tern_stack_t *stack, tern_arp_entry_t *e, const uint8_t mac[6])
{
    tern_netbuf_t *q = e->queue;
    memcpy(e->mac, mac, 6);
    e->state = TERN_ARP_RESOLVED;
    e->retries = 0;
    e->confirmed = stack->now;
    e->last_used = ARP_TICK(stack->now);
    e->deadline = stack->now + TERN_ARP_MAX_AGE_MS;
    e->used = q != NULL;
    e->queue = NULL;
    e->queued = 0;
    stack->counters.arp_updated++;
    /* Entry state is final before the first output: a driver that feeds a
     * frame straight back in (a loop wire) finds it consistent. */
    tern_netif_t *nif = e->nif;
    while (q != NULL) {
        tern_netbuf_t *next = q->next;
        q->next = NULL;
        (void)eth_output(stack, nif, q, mac, ETH_TYPE_IPV4);
        q = next;
    }
}

static void arp_conflict(tern_stack_t *stack, tern_netif_t *nif, const uint8_t sha[6])
{
    tern_arp_t *arp = &stack->arp;
    stack->counters.arp_conflicts++;
    arp->conflict = 1;
    arp->conflict_ip = nif->addr;
    memcpy(arp->conflict_mac, sha, 6);
    arp->conflict_time = stack->now;
    char msg[80];
    size_t n = 0;
    static const char a[] = "arp: address conflict: ";
    static const char b[] = " claimed by ";
    memcpy(msg, a, sizeof a - 1u);
    n += sizeof a - 1u;
    n += tern_ip4_to_str(nif->addr, msg + n);
    memcpy(msg + n, b, sizeof b - 1u);
    n += sizeof b - 1u;
    n += stack_format_mac(msg + n, sha);
    msg[n] = '\0';
    stack_log(stack, TERN_LOG_WARN, msg);
    /* RFC 5227 2.4 (b): defend once; within DEFEND_INTERVAL of the last
     * defence, keep the address without answering (the application sees the
     * flag and decides whether to give it up, 2.4 (a)). */
    if (!arp->defended || stack->now - arp->last_defend >= ARP_DEFEND_INTERVAL_MS) {
        arp->defended = 1;
        arp->last_defend = stack->now;
        if (arp_announce(stack, nif) == TERN_OK)
            stack->counters.arp_defends++;
    }
}

/* RFC 826 field checks plus our sender rules; the drop counter to bump, or
 * NULL when the packet is well formed. */
static uint32_t *arp_validate(tern_counters_t *c, const tern_netif_t *nif, const arp_view_t *arp)
{
    if (arp_htype(arp) != ARP_HTYPE_ETHERNET || arp_hlen(arp) != ARP_HLEN_ETHERNET)
        return &c->arp_drop_hw;
    if (arp_ptype(arp) != ETH_TYPE_IPV4 || arp_plen(arp) != ARP_PLEN_IPV4)
        return &c->arp_drop_proto;
    uint16_t op = arp_op(arp);
    if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
        return &c->arp_drop_op;
    const uint8_t *sha = arp_sha(arp);
    if (wire_mac_is_group(sha) || wire_mac_is_zero(sha))
        return &c->arp_drop_sender_mac;
    if (wire_mac_equal(sha, nif->mac))
        return &c->arp_drop_own;
    /* Sender 0.0.0.0 is legal only in a probe (RFC 5227 2.1.1). */
    tern_ip4_t spa = arp_spa(arp);
    int probe = spa == 0u && op == ARP_OP_REQUEST;
    if (!probe && (!ipv4_is_unicast_host(spa) || spa == ipv4_subnet_bcast(nif)))
        return &c->arp_drop_sender_ip;
    return NULL;
}

void arp_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb)
{
    tern_counters_t *c = &stack->counters;
    c->arp_rx++;
    arp_view_t arp;
    uint32_t *drop = arp_check(nb->data, nb->len, &arp) != 0 ? &c->arp_drop_truncated : arp_validate(c, nif, &arp);
    if (drop != NULL) {
        (*drop)++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    uint16_t op = arp_op(&arp);
    uint8_t sha[6];
    memcpy(sha, arp_sha(&arp), 6);
    tern_ip4_t spa = arp_spa(&arp);
    tern_ip4_t tpa = arp_tpa(&arp);
    /* Services watching ARP (a DHCP client checking an address, RFC 5227
     * 2.1.1) see every valid packet. A hook may remove its own service. */
    for (tern_service_t *svc = stack->services; svc != NULL;) {
        tern_service_t *following = svc->next;
        if (svc->arp_input != NULL)
            svc->arp_input(stack, svc->ctx, nif, op, sha, spa, tpa);
        svc = following;
    }
    int probe = spa == 0u; /* validated: only a request may have it */
    if (nif->addr != 0u && spa == nif->addr) {
        /* Someone else uses our address (RFC 5227 2.4). Never cached. */
        arp_conflict(stack, nif, sha);
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    int for_us = nif->addr != 0u && tpa == nif->addr;
    /* RFC 826 merge: refresh an entry we already hold for the sender. */
    tern_arp_entry_t *e = probe ? NULL : arp_find(stack, nif, spa);
    int merged = e != NULL;
    if (merged)
        arp_entry_update(stack, e, sha);
    if (!(for_us && op == ARP_OP_REQUEST)) {
        if (!merged) {
            if (op == ARP_OP_REPLY)
                c->arp_drop_unsolicited++;
            else
                c->arp_drop_not_for_us++;
        }
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    /* A request for us: the sender is about to talk to us, so learn it, but
     * only into a free slot: a flood of requests cannot push out entries
     * our own traffic needs. Probes are answered, never cached. */
    if (!merged && !probe) {
        e = arp_find_free(stack);
        if (e != NULL) {
            e->nif = nif;
            e->ip = spa;
            arp_entry_update(stack, e, sha);
            c->arp_learned++;
        }
    }
    /* Answer in the request's own buffer (RFC 826: swap, set the opcode). */
    (void)tern_netbuf_set_len(nb, ARP_PKT_LEN);
    arp_write(nb->data, ARP_OP_REPLY, nif->mac, nif->addr, sha, spa);
    if (eth_output(stack, nif, nb, sha, ETH_TYPE_ARP) == TERN_OK)
        c->arp_tx_reply++;
}

uint32_t arp_poll(tern_stack_t *stack, uint32_t now)
{
    uint32_t next = UINT32_MAX;
    if (stack->arp.cache == NULL)
        return next;
    tern_counters_t *c = &stack->counters;
    for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++) {
        tern_arp_entry_t *e = &stack->arp.cache[i];
        if (e->state == TERN_ARP_FREE)
            continue;
        if (net_time_reached(now, e->deadline)) {
            if (e->state == TERN_ARP_RESOLVED) {
                if (!e->used) {
                    c->arp_expired++;
                    arp_entry_clear(stack, e, NULL);
                    continue;
                }
                /* In use: keep sending with the old MAC while we re-ask. */
                c->arp_refreshed++;
                e->state = TERN_ARP_REFRESHING;
                e->retries = 0;
                arp_request_round(stack, e);
            } else if (e->retries >= TERN_ARP_MAX_RETRIES) {
                c->arp_resolve_failed++;
                arp_entry_clear(stack, e, &c->arp_queue_timeout);
                continue;
            } else {
                arp_request_round(stack, e);
            }
            if (e->state == TERN_ARP_FREE)
                continue; /* a loop-back driver answered and something flushed it */
        }
        uint32_t left = e->deadline - now;
        if (left < next)
            next = left;
    }
    return next;
}

/* RFC 1122 2.3.2.1 (higher-layer advice): a transport retransmitting
 * into silence may be sending to a wrong MAC (the peer's NIC changed, or a
 * reply was corrupted past the link's check: ARP has no checksum). Re-ask
 * with a broadcast while the old mapping stays in use; the answer updates
 * the entry (merge rule), no answer ends it as for any refresh. */
void arp_negative_advice(tern_stack_t *stack, tern_ip4_t src, tern_ip4_t dst)
{
    tern_ip4_t nexthop;
    const tern_netif_t *nif = ipv4_route(stack, src, dst, &nexthop);
    if (nif == NULL || nif->link != TERN_LINK_ETHERNET)
        return;
    tern_arp_entry_t *e = arp_find(stack, nif, nexthop);
    if (e == NULL || e->state != TERN_ARP_RESOLVED)
        return; /* pending or already re-asking */
    stack->counters.arp_refreshed++;
    e->state = TERN_ARP_REFRESHING;
    e->retries = 0;
    arp_request_round(stack, e);
}

/* ---- public ------------------------------------------------------------ */

void tern_arp_flush(tern_stack_t *stack, tern_netif_t *nif)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || stack->arp.cache == NULL)
        return;
    for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++) {
        tern_arp_entry_t *e = &stack->arp.cache[i];
        if (e->state != TERN_ARP_FREE && (nif == NULL || e->nif == nif))
            arp_entry_clear(stack, e, &stack->counters.arp_queue_flushed);
    }
}

int tern_arp_lookup(tern_stack_t *stack, tern_ip4_t ip, uint8_t mac_out[6])
{
    TERN_CORE_LOCKED(stack);
    tern_arp_entry_t *e = arp_find(stack, NULL, ip);
    if (e == NULL)
        return TERN_ERR_NOROUTE;
    if (e->state == TERN_ARP_PENDING)
        return TERN_ERR_INPROGRESS;
    if (mac_out != NULL)
        memcpy(mac_out, e->mac, 6);
    return TERN_OK;
}

int tern_arp_entry_info(const tern_stack_t *stack, unsigned n, tern_arp_info_t *out)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || stack->arp.cache == NULL)
        return TERN_ERR_INVAL;
    for (unsigned i = 0; i < TERN_ARP_CACHE_SIZE; i++) {
        const tern_arp_entry_t *e = &stack->arp.cache[i];
        if (e->state == TERN_ARP_FREE)
            continue;
        if (n-- != 0u)
            continue;
        if (out != NULL) {
            out->ip = e->ip;
            memcpy(out->mac, e->mac, 6);
            out->state = e->state;
            out->retries = e->retries;
            out->queued = e->queued;
            out->age_ms = stack->now - e->confirmed;
            out->ifname = e->nif != NULL ? e->nif->name : "";
        }
        return TERN_OK;
    }
    return TERN_ERR_INVAL;
}

void tern_arp_report_text(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    static const char *const state_names[] = {"free", "pending", "resolved", "refreshing"};
    tern_arp_info_t info;
    char buf[20];
    fmt_str(write, ctx, "address          MAC                state       age ms  tries queued  if\n");
    unsigned n = 0;
    while (tern_arp_entry_info(stack, n, &info) == TERN_OK) {
        (void)tern_ip4_to_str(info.ip, buf);
        fmt_str_pad(write, ctx, buf, 17);
        if (info.state == TERN_ARP_PENDING) {
            fmt_str_pad(write, ctx, "(incomplete)", 19);
        } else {
            (void)stack_format_mac(buf, info.mac);
            fmt_str_pad(write, ctx, buf, 19);
        }
        fmt_str_pad(write, ctx, info.state < 4u ? state_names[info.state] : "?", 10);
        fmt_uint(write, ctx, info.age_ms, 8);
        fmt_uint(write, ctx, info.retries, 7);
        fmt_uint(write, ctx, info.queued, 7);
        fmt_str(write, ctx, "  ");
        fmt_str(write, ctx, info.ifname);
        fmt_str(write, ctx, "\n");
        n++;
    }
    if (n == 0u)
        fmt_str(write, ctx, "(empty)\n");
}

int tern_arp_conflict(const tern_stack_t *stack, tern_ip4_t *ip, uint8_t mac[6])
{
    TERN_CORE_LOCKED(stack);
    if (!stack->arp.conflict)
        return 0;
    if (ip != NULL)
        *ip = stack->arp.conflict_ip;
    if (mac != NULL)
        memcpy(mac, stack->arp.conflict_mac, 6);
    return 1;
}

void tern_arp_conflict_clear(tern_stack_t *stack)
{
    TERN_CORE_LOCKED(stack);
    stack->arp.conflict = 0;
}
