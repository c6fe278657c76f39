/* The memory planner: the size table and the plan (include/tern/plan.h). */
#include "tern/plan.h"

#include <string.h>

/* Sizes this module knows: the heap's block rules and the configuration's
 * heap. The other modules state theirs next to their allocations. */
TERN_PLAN_SIZE(heap_header, TERN_HEAP_HEADER);
TERN_PLAN_SIZE(heap_align, TERN_HEAP_ALIGN);
TERN_PLAN_SIZE(heap_min_block, TERN_HEAP_MIN_BLOCK);
TERN_PLAN_SIZE(heap_size, TERN_HEAP_SIZE);
TERN_PLAN_SIZE(ptr, sizeof(void *));
TERN_PLAN_SIZE(heap_large, TERN_HEAP_LARGE_BLOCK);
/* Which backend the image's allocations come from (1: TERN_STATIC_ONLY
 * pools carved from the heap_size arena; 0: tern_heap): a plan says which
 * one it describes. */
TERN_PLAN_SIZE(static_only, TERN_STATIC_ONLY);

unsigned tern_plan_sizes_parse(tern_plan_sizes_t *out, const void *section, size_t n)
{
    memset(out, 0, sizeof *out);
    const uint8_t *p = section;
    unsigned matched = 0;
    for (size_t at = 0; at + sizeof(tern_plan_size_entry_t) <= n; at += sizeof(tern_plan_size_entry_t)) {
        tern_plan_size_entry_t e;
        memcpy(&e, p + at, sizeof e);
        e.name[sizeof e.name - 1u] = '\0';
#define TERN_PLAN_MATCH_(f)                \
    if (strcmp(e.name, #f) == 0) {         \
        out->f = e.value;                  \
        matched++;                         \
        continue;                          \
    }
        TERN_PLAN_SIZE_FIELDS(TERN_PLAN_MATCH_)
#undef TERN_PLAN_MATCH_
    }
    return matched;
}

#if defined(__GNUC__)
extern const tern_plan_size_entry_t __start_tern_plan[] __attribute__((weak));
extern const tern_plan_size_entry_t __stop_tern_plan[] __attribute__((weak));
#endif

unsigned tern_plan_sizes_self(tern_plan_sizes_t *out)
{
#if defined(__GNUC__)
    if (__start_tern_plan != NULL && __stop_tern_plan != NULL)
        return tern_plan_sizes_parse(out, __start_tern_plan,
                                     (size_t)((const uint8_t *)__stop_tern_plan - (const uint8_t *)__start_tern_plan));
#endif
    memset(out, 0, sizeof *out);
    return 0;
}

static const char *const plan_app_names[] = {"DHCP", "DNS_CACHE", "HTTP"};

const char *tern_plan_cat_name(unsigned cat)
{
    if (cat < TERN_MEM_APP_FIRST)
        return tern_mem_category_name((tern_mem_category_t)cat);
    if (cat < TERN_PLAN_CAT_COUNT)
        return plan_app_names[cat - TERN_MEM_APP_FIRST];
    return "?";
}

static uint64_t plan_gross(const tern_plan_sizes_t *s, uint64_t n)
{
    return TERN_PLAN_GROSS_X(n, (uint64_t)s->heap_header, (uint64_t)s->heap_align, (uint64_t)s->heap_min_block);
}

/* The side tern_heap places a block of g bytes on: 1 from the top. */
static unsigned plan_side_of(const tern_plan_sizes_t *s, uint64_t g)
{
    return s->heap_large != 0u && g >= s->heap_large ? 1u : 0u;
}

/* count blocks of g bytes (gross) on side. */
static void plan_side(const tern_plan_sizes_t *s, tern_plan_t *p, unsigned side, uint64_t count, uint64_t g)
{
    p->side_need[side] += count * (g + TERN_PLAN_SLACK_X((uint64_t)s->heap_align, (uint64_t)s->heap_min_block));
    p->side_blocks[side] += (uint32_t)count;
    if (g > p->side_largest[side])
        p->side_largest[side] = (uint32_t)g;
}

/* count blocks of n bytes each into category cat. */
static void plan_add(const tern_plan_sizes_t *s, tern_plan_t *p, unsigned cat, uint64_t count, uint64_t n)
{
    if (count == 0u || n == 0u)
        return;
    uint64_t g = plan_gross(s, n);
    tern_plan_cat_t *c = &p->cat[cat];
    c->bytes += count * n;
    c->gross += count * g;
    c->blocks += (uint32_t)count;
    if (g > c->largest)
        c->largest = (uint32_t)g;
    /* The sides for the two-ended bound (docs/memory.md). The two kinds of
     * block a realloc resizes are counted on each side they can be on: a
     * network buffer is taken at its size and only ever shrunk (a
     * zero-copy receive buffer is taken at a full frame: on the large
     * side at that size); a reassembly block grows, and a move holds the
     * old block and the new one at once: twice on each side. */
    unsigned side = plan_side_of(s, g);
    if (cat == TERN_MEM_NETWORK_BUFFER) {
        uint64_t full = plan_gross(s, (uint64_t)s->netbuf_frame_offset + s->netbuf_frame_size);
        plan_side(s, p, side, count, g);
        if (side == 0u && plan_side_of(s, full) == 1u)
            plan_side(s, p, 1u, count, full);
    } else if (cat == TERN_MEM_IP_REASSEMBLY) {
        uint64_t small = s->heap_large != 0u && g >= s->heap_large ? s->heap_large - s->heap_align : g;
        plan_side(s, p, 0u, 2u * count, small);
        if (side == 1u)
            plan_side(s, p, 1u, 2u * count, g);
    } else {
        plan_side(s, p, side, count, g);
    }
}

void tern_plan_compute(const tern_plan_sizes_t *s, const tern_plan_workload_t *w, tern_plan_t *out)
{
    memset(out, 0, sizeof *out);
    uint32_t tcp_socks = w->tcp_listeners;
    int tcp_used = w->tcp_listeners != 0u || w->tcp_raw != 0u;
    for (unsigned i = 0; i < TERN_PLAN_TCP_SHAPES; i++) {
        const tern_plan_tcp_shape_t *sh = &w->tcp[i];
        if (sh->count == 0u)
            continue;
        tcp_used = 1;
        tcp_socks += sh->count;
        if (sh->rx)
            plan_add(s, out, TERN_MEM_TCP_STREAM_RX, sh->count, sh->rcvbuf ? sh->rcvbuf : s->tcp_rcvbuf);
        if (sh->tx)
            plan_add(s, out, TERN_MEM_TCP_STREAM_TX, sh->count, sh->sndbuf ? sh->sndbuf : s->tcp_sndbuf);
    }
    /* SOCKET: TCP sockets (listeners too), listener queues, connections
     * waiting for accept and raw-API ones, UDP sockets, the TIME-WAIT table. */
    plan_add(s, out, TERN_MEM_SOCKET, tcp_socks, TERN_PLAN_TCP_SOCKET(s->tcp_pcb, s->sock_tcp));
    plan_add(s, out, TERN_MEM_SOCKET, w->tcp_listeners,
             TERN_PLAN_LISTEN_QUEUE((uint64_t)s->listen_head, (uint64_t)s->listen_slot, w->tcp_backlog ? w->tcp_backlog : 1u));
    plan_add(s, out, TERN_MEM_SOCKET, (uint64_t)w->tcp_pending + w->tcp_raw, s->tcp_pcb);
    plan_add(s, out, TERN_MEM_SOCKET, w->udp_sockets, s->sock_udp);
    if (tcp_used) {
        plan_add(s, out, TERN_MEM_SOCKET, 1u, TERN_PLAN_TIMEWAIT_TABLE((uint64_t)s->tcp_tw, s->tcp_tw_max));
        plan_add(s, out, TERN_MEM_TCP_RANGES, 1u, TERN_PLAN_RANGE_POOL((uint64_t)s->tcp_range, s->tcp_range_count));
    }
    plan_add(s, out, TERN_MEM_ARP_CACHE, 1u, TERN_PLAN_ARP_CACHE((uint64_t)s->arp_entry, s->arp_cache_size));
    /* NETWORK_BUFFER: the HEAP scheme only (STATIC storage is static). */
    if (s->netbuf_scheme == 2u && w->netbuf_bound) {
        /* The bound (TERN_PLAN_NETBUF_BOUND): netbuf_count blocks of a full frame. */
        plan_add(s, out, TERN_MEM_NETWORK_BUFFER, s->netbuf_count,
                 TERN_PLAN_NETBUF(s->netbuf_frame_offset, s->netbuf_frame_size));
    } else if (s->netbuf_scheme == 2u) {
        plan_add(s, out, TERN_MEM_NETWORK_BUFFER, w->udp_queued,
                 TERN_PLAN_NETBUF(s->netbuf_frame_offset, TERN_PLAN_UDP_FRAME(w->udp_datagram)));
        plan_add(s, out, TERN_MEM_NETWORK_BUFFER, w->netbufs,
                 TERN_PLAN_NETBUF(s->netbuf_frame_offset, w->netbuf_frame ? w->netbuf_frame : s->netbuf_frame_size));
    }
    if (s->ip_reassembly)
        plan_add(s, out, TERN_MEM_IP_REASSEMBLY, w->reass_datagrams, TERN_PLAN_REASS(s->ip_reass, w->reass_bytes));
    /* IPv6 reassembly (TERN_IPV6: ip6_reass is 0 without it); the byte
     * budget TERN_IP_REASS_MAX_BYTES is shared with IPv4's. */
    if (s->ip_reassembly && s->ip6_reass != 0u)
        plan_add(s, out, TERN_MEM_IP_REASSEMBLY, w->reass6_datagrams, TERN_PLAN_REASS6(s->ip6_reass, w->reass6_bytes));
    plan_add(s, out, TERN_MEM_APPLICATION, w->app_blocks, w->app_block_bytes);
    /* plan-none: STACK_INIT (no allocation site uses it: the stack's
     * lifelong state is static, in struct tern_stack; static_bytes). */
    if (w->dhcp)
        plan_add(s, out, TERN_PLAN_CAT_DHCP, 1u, s->dhcp_state);
    if (w->dns) {
        plan_add(s, out, TERN_PLAN_CAT_DNS_CACHE, 1u, s->dns_state);
        plan_add(s, out, TERN_PLAN_CAT_DNS_CACHE, w->dns_entries, TERN_PLAN_DNS_ENTRY(s->dns_entry, w->dns_name));
        plan_add(s, out, TERN_PLAN_CAT_DNS_CACHE, w->dns_queries, TERN_PLAN_DNS_QUERY(s->dns_query, w->dns_name));
    }
    plan_add(s, out, TERN_PLAN_CAT_HTTP, w->http_conns, s->http_conn);
    plan_add(s, out, TERN_PLAN_CAT_HTTP, w->http_docs, w->http_doc_bytes);

    for (unsigned c = 0; c < TERN_PLAN_CAT_COUNT; c++) {
        out->bytes += out->cat[c].bytes;
        out->gross += out->cat[c].gross;
        out->blocks += out->cat[c].blocks;
        if (out->cat[c].largest > out->largest)
            out->largest = out->cat[c].largest;
    }
    out->slack = out->blocks * TERN_PLAN_SLACK_X((uint64_t)s->heap_align, (uint64_t)s->heap_min_block);
    out->heap_need = out->gross + out->slack;
    /* One-ended: holds for any placement (docs/memory.md). Two-ended: each
     * side's own pigeonhole bound, the sides never interleaving while the
     * heap holds both sides' needs and margins. The smaller one counts. */
    out->margin_one_ended = TERN_PLAN_MARGIN_X(out->blocks, (uint64_t)out->largest, (uint64_t)s->heap_align);
    out->margin = out->margin_one_ended;
    if (s->heap_large != 0u) {
        for (unsigned side = 0; side < 2u; side++)
            out->side_margin[side] = TERN_PLAN_MARGIN_X((uint64_t)out->side_blocks[side],
                                                        (uint64_t)out->side_largest[side], (uint64_t)s->heap_align);
        uint64_t two = out->side_need[0] + out->side_margin[0] + out->side_need[1] + out->side_margin[1];
        if (two < out->heap_need + out->margin)
            out->margin = two - out->heap_need;
    }
    /* Robson (Knuth 2.5 ex. 43): first fit never needs more than
     * M x H_m / ln 2, M the bytes live, m the largest block in units of
     * the alignment; H_m / ln 2 <= log2(m) + 1.45 (in tenths). */
    uint64_t m = s->heap_align ? out->largest / s->heap_align : 0u, lg = 0;
    while ((1ull << (lg + 1u)) <= m)
        lg++;
    uint64_t factor10 = lg * 10u + 15u; /* log2(m) + 1.5, over-approximated */
    out->margin_robson = out->heap_need * factor10 / 10u - out->heap_need;
    out->heap_total = out->heap_need + out->margin;
    out->static_bytes = s->stack;
    out->static_netbuf = (uint64_t)s->netbuf_count * s->netbuf_desc +
                         (s->netbuf_scheme == 1u ? (uint64_t)s->netbuf_count * s->netbuf_storage : 0u);
}

/* The plan's figure compared with the heap: with or without the margin. */
static uint64_t plan_needs(const tern_plan_t *p, int with_margin)
{
    return with_margin ? p->heap_total : p->heap_need;
}

uint32_t tern_plan_fit_connections(const tern_plan_sizes_t *s, const tern_plan_workload_t *w,
                                   const tern_plan_tcp_shape_t *shape, uint64_t heap, int with_margin)
{
    tern_plan_workload_t t = *w;
    unsigned slot = TERN_PLAN_TCP_SHAPES - 1u;
    for (unsigned i = 0; i < TERN_PLAN_TCP_SHAPES; i++)
        if (t.tcp[i].count == 0u) {
            slot = i;
            break;
        }
    uint32_t lo = 0, hi = 1;
    tern_plan_t p;
    for (;;) { /* grow hi until it no longer fits */
        t.tcp[slot] = *shape;
        t.tcp[slot].count = hi;
        tern_plan_compute(s, &t, &p);
        if (plan_needs(&p, with_margin) > heap || hi >= 65536u)
            break;
        lo = hi;
        hi *= 2u;
    }
    while (hi - lo > 1u) {
        uint32_t mid = lo + (hi - lo) / 2u;
        t.tcp[slot].count = mid;
        tern_plan_compute(s, &t, &p);
        if (plan_needs(&p, with_margin) <= heap)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}
