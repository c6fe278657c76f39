/* The /api/stats JSON document the dashboard reads (schema: docs/dashboard.md),
 * written from the stack's public API only. */
#include <stddef.h>
#include <string.h>
#include "util/fmt.h"
#include "tern/stack.h"
#include "tern/plan.h"
#include "tern/stats.h"

/* ---- helpers ---------------------------------------------------------------- */

void tern_stats_write_string(tern_writer_fn write, void *ctx, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    write(ctx, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        uint8_t c = (uint8_t)*s;
        if (c >= 0x20u && c != '"' && c != '\\')
            continue;
        if (s > run)
            write(ctx, run, (unsigned)(s - run));
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15u]};
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            write(ctx, esc, 2);
        } else {
            write(ctx, esc, 6);
        }
        run = s + 1;
    }
    if (s > run)
        write(ctx, run, (unsigned)(s - run));
    write(ctx, "\"", 1);
}

void tern_stats_write_uint(tern_writer_fn write, void *ctx, const char *key, uint64_t v, int first)
{
    fmt_json_uint(write, ctx, key, v, first);
}

void tern_stats_write_ip4(tern_writer_fn write, void *ctx, uint32_t addr)
{
    char buf[16];
    unsigned n = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        char d[24];
        unsigned k = fmt_u64(d, (addr >> shift) & 0xFFu);
        memcpy(buf + n, d, k);
        n += k;
        if (shift)
            buf[n++] = '.';
    }
    buf[n] = '\0';
    tern_stats_write_string(write, ctx, buf);
}

/* A socket's address as a JSON string: dotted IPv4, or RFC 5952 IPv6 text
 * for a TERN_FAMILY_IP6 one. */
static void stats_write_sockaddr(tern_writer_fn write, void *ctx, const tern_sockaddr_t *a)
{
#if TERN_IPV6
    if (a->family == TERN_FAMILY_IP6) {
        char buf[40];
        (void)tern_ip6_to_str(&a->addr6, buf);
        tern_stats_write_string(write, ctx, buf);
        return;
    }
#endif
    tern_stats_write_ip4(write, ctx, a->addr);
}

/* A TCP row's local (remote = 0) or remote address: dotted IPv4 or RFC
 * 5952 IPv6 text. */
static void stats_write_tcp_addr(tern_writer_fn write, void *ctx, const tern_tcp_info_t *r, int remote)
{
#if TERN_IPV6
    if (r->family == TERN_TCP_FAMILY_IP6) {
        char buf[40];
        (void)tern_ip6_to_str(remote ? &r->remote_addr6 : &r->local_addr6, buf);
        tern_stats_write_string(write, ctx, buf);
        return;
    }
#endif
    tern_stats_write_ip4(write, ctx, remote ? r->remote_addr : r->local_addr);
}

static void stats_mac(tern_writer_fn write, void *ctx, const uint8_t mac[6])
{
    static const char hex[] = "0123456789abcdef";
    char buf[18];
    for (size_t i = 0; i < 6u; i++) {
        buf[i * 3] = hex[mac[i] >> 4];
        buf[i * 3 + 1] = hex[mac[i] & 15u];
        buf[i * 3 + 2] = i < 5 ? ':' : '\0';
    }
    tern_stats_write_string(write, ctx, buf);
}

static void stats_key(tern_writer_fn write, void *ctx, const char *key, int first)
{
    if (!first)
        write(ctx, ",", 1);
    tern_stats_write_string(write, ctx, key);
    write(ctx, ":", 1);
}

/* ---- built-in sections ------------------------------------------------------- */

static void stats_config(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    (void)stack;
    write(ctx, "{", 1);
    fmt_json_uint(write, ctx, "heap_size", (uint64_t)(TERN_HEAP_SIZE), 1);
    /* 1: heap_size is the arena of the static-only pools, not a heap. */
    fmt_json_uint(write, ctx, "static_only", TERN_STATIC_ONLY, 0);
    fmt_json_uint(write, ctx, "netbuf_count", TERN_NETBUF_COUNT, 0);
    fmt_json_uint(write, ctx, "netbuf_frame_size", TERN_NETBUF_FRAME_SIZE, 0);
    stats_key(write, ctx, "netbuf_scheme", 0);
    tern_stats_write_string(write, ctx, TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC ? "STATIC" : "HEAP");
    fmt_json_uint(write, ctx, "arp_cache_size", TERN_ARP_CACHE_SIZE, 0);
    fmt_json_uint(write, ctx, "socket_max", TERN_SOCKET_MAX, 0);
    fmt_json_uint(write, ctx, "tcp_range_count", TERN_TCP_RANGE_COUNT, 0);
    fmt_json_uint(write, ctx, "tcp_rcvbuf", TERN_TCP_RCVBUF, 0);
    fmt_json_uint(write, ctx, "tcp_sndbuf", TERN_TCP_SNDBUF, 0);
    fmt_json_uint(write, ctx, "ledger_owners", TERN_LEDGER_OWNERS, 0);
    write(ctx, "}", 1);
}

static void stats_heap(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    tern_heap_stats_t hs;
    /* The heap is shared with threads allocating through the ledger. */
    const tern_port_t *port = stack->port;
    if (port && port->mem_lock)
        port->mem_lock(port->ctx);
    tern_ledger_heap_stats(&stack->ledger, &hs);
    if (port && port->mem_unlock)
        port->mem_unlock(port->ctx);
    tern_heap_stats_report_json(&hs, write, ctx);
}

static void stats_ledger(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    tern_ledger_report_json(&stack->ledger, write, ctx);
}

static void stats_netbufs(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    const tern_netbuf_pool_t *p = &stack->netbufs;
    uint16_t free_count = tern_netbuf_free_count(p);
    write(ctx, "{", 1);
    fmt_json_uint(write, ctx, "count", TERN_NETBUF_COUNT, 1);
    fmt_json_uint(write, ctx, "free", free_count, 0);
    fmt_json_uint(write, ctx, "in_use", (uint64_t)TERN_NETBUF_COUNT - free_count, 0);
    fmt_json_uint(write, ctx, "min_free", tern_netbuf_min_free(p), 0);
    fmt_json_uint(write, ctx, "gets", p->gets, 0);
    fmt_json_uint(write, ctx, "releases", p->releases, 0);
    fmt_json_uint(write, ctx, "exhausted", p->exhausted, 0);
    fmt_json_uint(write, ctx, "bad_releases", p->bad_releases, 0);
    stats_key(write, ctx, "scheme", 0);
    tern_stats_write_string(write, ctx, TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC ? "STATIC" : "HEAP");
    fmt_json_uint(write, ctx, "descriptor_bytes", sizeof p->bufs, 0);
    fmt_json_uint(write, ctx, "static_bytes",
                  tern_ledger_category(&stack->ledger, TERN_MEM_NETWORK_BUFFER)->static_bytes, 0);
    write(ctx, "}", 1);
}

static void stats_interfaces(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    write(ctx, "[", 1);
    int first = 1;
    for (const tern_netif_t *nif = stack->netifs; nif != NULL; nif = nif->next) {
        write(ctx, first ? "{" : ",{", first ? 1u : 2u);
        first = 0;
        stats_key(write, ctx, "name", 1);
        tern_stats_write_string(write, ctx, nif->name);
        stats_key(write, ctx, "mac", 0);
        stats_mac(write, ctx, nif->mac);
        stats_key(write, ctx, "addr", 0);
        tern_stats_write_ip4(write, ctx, nif->addr);
        stats_key(write, ctx, "netmask", 0);
        tern_stats_write_ip4(write, ctx, nif->netmask);
        stats_key(write, ctx, "gateway", 0);
        tern_stats_write_ip4(write, ctx, nif->gateway);
        fmt_json_uint(write, ctx, "mtu", nif->mtu, 0);
        fmt_json_uint(write, ctx, "link_up", nif->link_up, 0);
        stats_key(write, ctx, "link", 0);
        tern_stats_write_string(write, ctx, nif->link == TERN_LINK_IP ? "ip" : "ethernet");
        fmt_json_uint(write, ctx, "zero_copy_rx", (nif->caps & TERN_NETIF_CAP_ZERO_COPY_RX) ? 1u : 0u, 0);
        fmt_json_uint(write, ctx, "zero_copy_tx", (nif->caps & TERN_NETIF_CAP_ZERO_COPY_TX) ? 1u : 0u, 0);
        write(ctx, "}", 1);
    }
    write(ctx, "]", 1);
}

static void stats_arp(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    static const char *const states[] = {"free", "pending", "resolved", "refreshing"};
    tern_arp_info_t info;
    write(ctx, "[", 1);
    for (unsigned n = 0; tern_arp_entry_info(stack, n, &info) == TERN_OK; n++) {
        write(ctx, n ? ",{" : "{", n ? 2u : 1u);
        stats_key(write, ctx, "ip", 1);
        tern_stats_write_ip4(write, ctx, info.ip);
        stats_key(write, ctx, "mac", 0);
        stats_mac(write, ctx, info.mac);
        stats_key(write, ctx, "state", 0);
        tern_stats_write_string(write, ctx, info.state < 4u ? states[info.state] : "?");
        fmt_json_uint(write, ctx, "age_ms", info.age_ms, 0);
        fmt_json_uint(write, ctx, "retries", info.retries, 0);
        fmt_json_uint(write, ctx, "queued", info.queued, 0);
        stats_key(write, ctx, "ifname", 0);
        tern_stats_write_string(write, ctx, info.ifname ? info.ifname : "");
        write(ctx, "}", 1);
    }
    write(ctx, "]", 1);
}

static void stats_counters(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    tern_counters_report_json(stack, write, ctx);
}

/* One row per open socket: id and bytes (the ledger), and type, state,
 * addresses and queues (the socket layer's netstat row; the core lock is
 * held here, so tern_socket_info rather than tern_socket_list, which takes
 * it). */
static void stats_sockets(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    write(ctx, "[", 1);
    int first = 1;
    for (int i = 1; i <= TERN_SOCKET_MAX; i++) {
        tern_socket_info_t r;
        if (tern_socket_info(stack, i, &r) != TERN_OK)
            continue;
        unsigned id = (unsigned)i;
        write(ctx, first ? "{" : ",{", first ? 1u : 2u);
        first = 0;
        fmt_json_uint(write, ctx, "id", id, 1);
        /* Ids beyond TERN_LEDGER_OWNERS share one ledger slot: no own figure. */
        if (id < TERN_LEDGER_OWNERS)
            fmt_json_uint(write, ctx, "bytes", tern_ledger_owner_bytes(&stack->ledger, id), 0);
        stats_key(write, ctx, "type", 0);
        tern_stats_write_string(write, ctx, r.type == TERN_SOCK_STREAM ? "tcp" : "udp");
        stats_key(write, ctx, "state", 0);
        tern_stats_write_string(write, ctx, r.type == TERN_SOCK_STREAM ? tern_tcp_state_name(r.state) : "-");
        stats_key(write, ctx, "local", 0);
        stats_write_sockaddr(write, ctx, &r.local);
        fmt_json_uint(write, ctx, "local_port", r.local.port, 0);
        stats_key(write, ctx, "remote", 0);
        stats_write_sockaddr(write, ctx, &r.remote);
        fmt_json_uint(write, ctx, "remote_port", r.remote.port, 0);
        fmt_json_uint(write, ctx, "recv_queue", r.recv_queue, 0);
        fmt_json_uint(write, ctx, "send_queue", r.send_queue, 0);
        write(ctx, "}", 1);
    }
    write(ctx, "]", 1);
}

/* TCP, from its public API: the range descriptor pool, the connection
 * table (netstat, at most STATS_TCP_ROWS rows) and the statistics (from the
 * one counter list in counters.h). */
#define STATS_TCP_ROWS 8u

static const struct {
    const char *name;
    uint16_t offset;
} stats_tcp_fields[] = {
#define F_(layer, n, desc) {#n, (uint16_t)offsetof(tern_tcp_stats_t, n)},
    TERN_TCP_COUNTER_LIST(F_)
#undef F_
};

static void stats_tcp(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    write(ctx, "{", 1);
    /* The pool exists from the first listen or connect on. */
    stats_key(write, ctx, "ranges", 1);
    write(ctx, "{", 1);
    fmt_json_uint(write, ctx, "count", TERN_TCP_RANGE_COUNT, 1);
    if (stack->tcp.range_pool != NULL) {
        tern_tcp_range_usage_t seg;
        tern_tcp_range_usage(stack, &seg);
        fmt_json_uint(write, ctx, "free", seg.count - seg.in_use, 0);
        fmt_json_uint(write, ctx, "in_use", seg.in_use, 0);
        fmt_json_uint(write, ctx, "peak", seg.peak, 0);
    }
    write(ctx, "}", 1);
    fmt_json_uint(write, ctx, "half_open", stack->tcp.half_open, 0);
    fmt_json_uint(write, ctx, "timewait", stack->tcp.tw_count, 0);
    tern_tcp_info_t rows[STATS_TCP_ROWS];
    size_t total = tern_tcp_list(stack, rows, STATS_TCP_ROWS);
    fmt_json_uint(write, ctx, "connections_total", total, 0);
    stats_key(write, ctx, "connections", 0);
    write(ctx, "[", 1);
    for (size_t i = 0; i < total && i < STATS_TCP_ROWS; i++) {
        const tern_tcp_info_t *r = &rows[i];
        write(ctx, i ? ",{" : "{", i ? 2u : 1u);
        stats_key(write, ctx, "state", 1);
        tern_stats_write_string(write, ctx, tern_tcp_state_name(r->state));
        stats_key(write, ctx, "local", 0);
        stats_write_tcp_addr(write, ctx, r, 0);
        fmt_json_uint(write, ctx, "local_port", r->local_port, 0);
        stats_key(write, ctx, "remote", 0);
        stats_write_tcp_addr(write, ctx, r, 1);
        fmt_json_uint(write, ctx, "remote_port", r->remote_port, 0);
        fmt_json_uint(write, ctx, "recv_queue", r->recv_queue, 0);
        fmt_json_uint(write, ctx, "send_queue", r->send_queue, 0);
        fmt_json_uint(write, ctx, "bytes_held", r->bytes_held, 0);
        fmt_json_uint(write, ctx, "srtt_ms", r->srtt_ms, 0);
        fmt_json_uint(write, ctx, "retransmits", r->retransmits, 0);
        write(ctx, "}", 1);
    }
    write(ctx, "]", 1);
    stats_key(write, ctx, "stats", 0);
    write(ctx, "{", 1);
    const tern_tcp_stats_t *ts = tern_tcp_stats(stack);
    for (size_t i = 0; i < sizeof stats_tcp_fields / sizeof stats_tcp_fields[0]; i++) {
        uint32_t v;
        memcpy(&v, (const uint8_t *)ts + stats_tcp_fields[i].offset, sizeof v);
        fmt_json_uint(write, ctx, stats_tcp_fields[i].name, v, i == 0);
    }
    write(ctx, "}}", 2);
}

void tern_stats_plan_json(const tern_stack_t *stack, void *arg, tern_writer_fn write, void *ctx)
{
    const tern_plan_workload_t *w = arg;
    tern_plan_sizes_t sz;
    tern_plan_t p;
    (void)stack;
    (void)tern_plan_sizes_self(&sz);
    tern_plan_compute(&sz, w, &p);
    write(ctx, "{", 1);
    fmt_json_uint(write, ctx, "heap_need", p.heap_need, 1);
    fmt_json_uint(write, ctx, "margin", p.margin, 0);
    /* Planned bytes of the categories the workload uses: small, since
     * every /api/stats document carries it. */
    stats_key(write, ctx, "categories", 0);
    write(ctx, "{", 1);
    int first = 1;
    for (unsigned c = 0; c < TERN_PLAN_CAT_COUNT; c++) {
        if (p.cat[c].bytes == 0u)
            continue;
        fmt_json_uint(write, ctx, tern_plan_cat_name(c), p.cat[c].bytes, first);
        first = 0;
    }
    write(ctx, "}}", 2);
}

typedef void (*stats_builtin_fn)(const tern_stack_t *stack, tern_writer_fn write, void *ctx);

/* The document, in order. A layer adds its section with one row here. */
static const struct {
    const char *name;
    stats_builtin_fn fn;
} stats_sections[] = {
    {"config", stats_config},
    {"heap", stats_heap},
    {"ledger", stats_ledger},
    {"netbufs", stats_netbufs},
    {"interfaces", stats_interfaces},
    {"arp", stats_arp},
    {"counters", stats_counters},
    {"sockets", stats_sockets},
    {"tcp", stats_tcp},
#if TERN_IPV6
    {"ipv6", tern_ipv6_report_json}, /* addresses, neighbor counts, RDNSS servers */
#endif
};

void tern_stats_json_ex(const tern_stack_t *stack, const tern_stats_section_t *extra, tern_writer_fn write,
                        void *ctx)
{
    TERN_CORE_LOCKED(stack);
    write(ctx, "{", 1);
    fmt_json_uint(write, ctx, "schema", TERN_STATS_SCHEMA, 1);
    fmt_json_uint(write, ctx, "now_ms", stack->now, 0);
    for (size_t i = 0; i < sizeof stats_sections / sizeof stats_sections[0]; i++) {
        stats_key(write, ctx, stats_sections[i].name, 0);
        stats_sections[i].fn(stack, write, ctx);
    }
    for (const tern_stats_section_t *s = extra; s != NULL; s = s->next) {
        stats_key(write, ctx, s->name, 0);
        s->fn(stack, s->arg, write, ctx);
    }
    write(ctx, "}", 1);
}

void tern_stats_json(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    tern_stats_json_ex(stack, NULL, write, ctx);
}
