/* The stack instance: init/deinit, the input and timer entry points, the
 * counters and the summary reports. */
#include "tern/stack.h"

#include <stddef.h>
#include <string.h>
#include "net/net_internal.h"
#if TERN_IPV6
#include "net/ipv6_internal.h"
#endif
#include "net/tcp_internal.h"
#include "util/fmt.h"
#include "tern/plan.h"

/* The static part of a stack, for the planner (tern/plan.h). */
TERN_PLAN_SIZE(stack, sizeof(tern_stack_t));

/* The library's side of the fingerprint (fingerprint.h): the names as one
 * string of NUL-terminated names, the values as this library sees them. */
#define TERN_CONFIG_NAME_(x) #x "\0"
static const char config_names[] = TERN_CONFIG_ITEMS(TERN_CONFIG_NAME_);
static const uint32_t config_values[] = {TERN_CONFIG_ITEMS(TERN_CONFIG_VALUE_)};
#define CONFIG_COUNT (sizeof config_values / sizeof config_values[0])

const char *tern_config_diff(const tern_config_view_t *view)
{
    if (view == NULL || view->count != CONFIG_COUNT || view->values == NULL)
        return "count";
    const char *name = config_names;
    for (size_t i = 0; i < CONFIG_COUNT; i++) {
        if (view->values[i] != config_values[i])
            return name;
        name += strlen(name) + 1u;
    }
    return NULL;
}

uint32_t tern_config_value(const char *name)
{
    const char *n = config_names;
    for (size_t i = 0; name != NULL && i < CONFIG_COUNT; i++) {
        if (strcmp(n, name) == 0)
            return config_values[i];
        n += strlen(n) + 1u;
    }
    return 0;
}

static size_t config_append(char *msg, size_t n, size_t cap, const char *s)
{
    while (*s != '\0' && n + 1u < cap)
        msg[n++] = *s++;
    return n;
}

/* "tern_stack_init: configuration differs from the library's: TERN_SOCKET_MAX
 * is 8 in the application, 16 in the library (...)" through port->log. */
static void config_log_mismatch(const tern_port_t *port, const tern_config_view_t *view, const char *name)
{
    if (port->log == NULL)
        return;
    char msg[224], num[24];
    size_t n = config_append(msg, 0, sizeof msg, "tern_stack_init: configuration differs from the library's: ");
    n = config_append(msg, n, sizeof msg, name);
    const char *names = config_names;
    for (size_t i = 0; view != NULL && view->count == CONFIG_COUNT && view->values != NULL && i < CONFIG_COUNT;
         i++) {
        if (names == name) {
            n = config_append(msg, n, sizeof msg, " is ");
            num[fmt_u64(num, view->values[i])] = '\0';
            n = config_append(msg, n, sizeof msg, num);
            n = config_append(msg, n, sizeof msg, " in the application, ");
            num[fmt_u64(num, config_values[i])] = '\0';
            n = config_append(msg, n, sizeof msg, num);
            n = config_append(msg, n, sizeof msg, " in the library");
            break;
        }
        names += strlen(names) + 1u;
    }
    n = config_append(msg, n, sizeof msg, " (build both with the same TERN_USER_CONFIG)");
    msg[n] = '\0';
    port->log(port->ctx, TERN_LOG_ERROR, msg);
}

void tern_core_lock_missing(const tern_stack_t *stack, const char *fn)
{
    const tern_port_t *port = stack->port;
    if (port == NULL || port->assert_failed == NULL)
        return;
    char msg[128];
    size_t n = config_append(msg, 0, sizeof msg, fn != NULL ? fn : "?");
    n = config_append(msg, n, sizeof msg, ": called without the core lock (the locking rule, stack.h)");
    msg[n] = '\0';
    port->assert_failed(port->ctx, msg);
}

int tern_stack_init_checked(tern_stack_t *stack, const tern_port_t *port, const tern_config_view_t *view)
{
    if (stack == NULL || port == NULL || port->random32 == NULL)
        return TERN_ERR_INVAL;
    /* Before any write: the caller's tern_stack_t may be smaller than ours. */
    const char *differs = tern_config_diff(view);
    if (differs != NULL) {
        config_log_mismatch(port, view, differs);
        return TERN_ERR_CONFIG;
    }
#if TERN_STATIC_ONLY
    /* No heap: the ledger carves its pools out of the arena. */
    memset(stack, 0, offsetof(tern_stack_t, heap_arena));
    stack->port = port;
    tern_ledger_init(&stack->ledger, NULL, port);
    int r = tern_ledger_pools_init(&stack->ledger, stack->heap_arena, sizeof stack->heap_arena);
    if (r != TERN_OK)
        return r;
#elif TERN_HEAP_SIZE > 0
    /* Everything but the arena, which the heap formats itself. */
    memset(stack, 0, offsetof(tern_stack_t, heap_arena));
    stack->port = port;
    tern_heap_init(&stack->heap, port);
    int r = tern_heap_add_region(&stack->heap, stack->heap_arena, sizeof stack->heap_arena);
    if (r != TERN_OK)
        return r;
#else
    /* The application initialised stack->heap and added its regions. */
    tern_heap_t heap = stack->heap;
    memset(stack, 0, sizeof *stack);
    stack->heap = heap;
    stack->port = port;
    int r;
#endif
#if !TERN_STATIC_ONLY
    tern_ledger_init(&stack->ledger, &stack->heap, port);
#endif
    r = tern_netbuf_pool_init(&stack->netbufs, &stack->ledger, port);
    if (r != TERN_OK)
        return r;
    r = arp_init(stack);
    if (r != TERN_OK)
        return r;
    ipv4_init(stack);
    icmp_init(stack);
#if TERN_IPV6
    ipv6_init(stack);
#endif
    r = tcp_init(stack);
    if (r != TERN_OK)
        return r;
    return TERN_OK;
}

static void stack_lock(const tern_stack_t *stack)
{
    if (stack->port != NULL && stack->port->lock != NULL)
        stack->port->lock(stack->port->ctx);
}

static void stack_unlock(const tern_stack_t *stack)
{
    if (stack->port != NULL && stack->port->unlock != NULL)
        stack->port->unlock(stack->port->ctx);
}

/* Takes the core lock itself, like a socket call (the sockets close through
 * the socket layer, which locks): the caller must not hold it. */
void tern_stack_deinit(tern_stack_t *stack)
{
    if (stack == NULL)
        return;
    /* Services first (DHCP, DNS, ...): they hold heap memory and bound UDP
     * pcbs. Each stop removes its service from the list. */
    stack_lock(stack);
    while (stack->services != NULL) {
        tern_service_t *svc = stack->services;
        if (svc->stop != NULL)
            svc->stop(stack, svc->ctx);
        if (stack->services == svc)
            tern_stack_remove_service(stack, svc);
    }
    stack_unlock(stack);
    tern_socket_close_all(stack);
    stack_lock(stack);
    while (stack->netifs != NULL)
        tern_netif_remove(stack, stack->netifs);
    tcp_deinit(stack);
#if TERN_IPV6
    ipv6_deinit(stack);
#endif
    ipv4_deinit(stack);
    arp_deinit(stack);
    stack->icmp.ping_fn = NULL;
    stack_unlock(stack);
}

uint32_t tern_poll(tern_stack_t *stack, uint32_t now)
{
    TERN_CORE_LOCKED(stack);
    stack->now = now;
    uint32_t next = 1000u;
    /* Reassembly first: a timeout may send an ICMP error that starts an ARP
     * resolution, whose deadline the ARP pass then counts. */
    uint32_t t = ipv4_poll(stack, now);
    if (t < next)
        next = t;
    t = arp_poll(stack, now);
    if (t < next)
        next = t;
#if TERN_IPV6
    t = ipv6_poll(stack, now);
    if (t < next)
        next = t;
#endif
    t = tcp_poll(stack, now);
    if (t < next)
        next = t;
    for (tern_service_t *svc = stack->services; svc != NULL;) {
        /* A service may remove itself while polled. */
        tern_service_t *following = svc->next;
        t = svc->poll(stack, svc->ctx, now);
        if (t < next)
            next = t;
        svc = following;
    }
    return next;
}

void tern_stack_add_service(tern_stack_t *stack, tern_service_t *svc)
{
    TERN_CORE_LOCKED(stack);
    for (tern_service_t *s = stack->services; s != NULL; s = s->next)
        if (s == svc)
            return;
    svc->next = stack->services;
    stack->services = svc;
}

void tern_stack_remove_service(tern_stack_t *stack, tern_service_t *svc)
{
    TERN_CORE_LOCKED(stack);
    for (tern_service_t **p = &stack->services; *p != NULL; p = &(*p)->next) {
        if (*p == svc) {
            *p = svc->next;
            svc->next = NULL;
            return;
        }
    }
}

tern_service_t *tern_stack_find_service(const tern_stack_t *stack, const char *name)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || name == NULL)
        return NULL;
    for (tern_service_t *s = stack->services; s != NULL; s = s->next)
        if (s->name != NULL && strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* ---- counters ---------------------------------------------------------- */

/* Generated from TERN_COUNTER_LIST and TERN_TCP_COUNTER_LIST (the tcp
 * member of the one store): the reports never repeat a list. */
static const struct {
    const char *layer;
    const char *name;
    uint16_t offset;
} counter_table[] = {
#define COUNTER_ENTRY_(layer, name, desc) {#layer, #name, (uint16_t)offsetof(tern_counters_t, layer##_##name)},
    TERN_COUNTER_LIST(COUNTER_ENTRY_)
#undef COUNTER_ENTRY_
#define COUNTER_TCP_ENTRY_(layer, name, desc)                                                                          \
    {#layer, #name, (uint16_t)(offsetof(tern_counters_t, tcp) + offsetof(tern_tcp_stats_t, name))},
        TERN_TCP_COUNTER_LIST(COUNTER_TCP_ENTRY_)
#undef COUNTER_TCP_ENTRY_
};

#define COUNTER_COUNT (sizeof counter_table / sizeof counter_table[0])
_Static_assert(sizeof(tern_counters_t) == COUNTER_COUNT * sizeof(uint32_t), "counters are all uint32_t");

static uint32_t counter_value(const tern_stack_t *stack, size_t i)
{
    uint32_t v;
    memcpy(&v, (const uint8_t *)&stack->counters + counter_table[i].offset, sizeof v);
    return v;
}

const tern_counters_t *tern_stack_counters(const tern_stack_t *stack)
{
    return &stack->counters;
}

void tern_counters_report_text(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    for (size_t i = 0; i < COUNTER_COUNT; i++) {
        unsigned n = (unsigned)(strlen(counter_table[i].layer) + 1u + strlen(counter_table[i].name));
        fmt_str(write, ctx, counter_table[i].layer);
        write(ctx, ".", 1);
        fmt_str(write, ctx, counter_table[i].name);
        /* Values right-aligned at column 42, and never touching the name. */
        fmt_uint(write, ctx, counter_value(stack, i), n < 31u ? 42u - n : 11u);
        write(ctx, "\n", 1);
    }
}

void tern_counters_report_json(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    const char *layer = NULL;
    write(ctx, "{", 1);
    for (size_t i = 0; i < COUNTER_COUNT; i++) {
        int first = 0;
        if (layer == NULL || strcmp(layer, counter_table[i].layer) != 0) {
            if (layer != NULL)
                write(ctx, "},", 2);
            layer = counter_table[i].layer;
            write(ctx, "\"", 1);
            fmt_str(write, ctx, layer);
            write(ctx, "\":{", 3);
            first = 1;
        }
        fmt_json_uint(write, ctx, counter_table[i].name, counter_value(stack, i), first);
    }
    if (layer != NULL)
        write(ctx, "}", 1);
    write(ctx, "}", 1);
}

/* ---- memory reports ---------------------------------------------------- */

void tern_stack_report_summary(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    tern_heap_stats_t hs;
    tern_ledger_heap_stats(&stack->ledger, &hs);
    fmt_str(write, ctx, "heap free ");
    fmt_uint(write, ctx, hs.free, 0);
    fmt_str(write, ctx, " min ");
    fmt_uint(write, ctx, hs.min_free, 0);
    fmt_str(write, ctx, " of ");
    fmt_uint(write, ctx, hs.total, 0);
    fmt_str(write, ctx, ", netbufs free ");
    fmt_uint(write, ctx, tern_netbuf_free_count(&stack->netbufs), 0);
    fmt_str(write, ctx, " min ");
    fmt_uint(write, ctx, tern_netbuf_min_free(&stack->netbufs), 0);
    fmt_str(write, ctx, " of ");
    fmt_uint(write, ctx, TERN_NETBUF_COUNT, 0);
    fmt_str(write, ctx, "\n");
}

/* One row of the static section: "  label   formula   bytes". */
static void static_row(tern_writer_fn write, void *ctx, const char *label, const char *formula, size_t bytes)
{
    fmt_str(write, ctx, "  ");
    fmt_str_pad(write, ctx, label, 16);
    fmt_str_pad(write, ctx, formula, 36);
    fmt_uint(write, ctx, bytes, 9);
    fmt_str(write, ctx, "\n");
}

/* "N x S" (+ " + T" when tail is nonzero) into buf, NUL-terminated. */
static void count_times(char *buf, size_t cap, size_t n, size_t size, size_t tail)
{
    char num[24];
    size_t k = 0;
    num[fmt_u64(num, n)] = '\0';
    k = config_append(buf, k, cap, num);
    k = config_append(buf, k, cap, " x ");
    num[fmt_u64(num, size)] = '\0';
    k = config_append(buf, k, cap, num);
    if (tail != 0u) {
        k = config_append(buf, k, cap, " + ");
        num[fmt_u64(num, tail)] = '\0';
        k = config_append(buf, k, cap, num);
    }
    buf[k] = '\0';
}

/* Everything inside tern_stack_t, reserved at build time (the linker or the
 * application's allocation places it): the objects an option sizes, then
 * the rest, summing to sizeof(tern_stack_t). */
static void report_static(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    char f[48];
    size_t listed = 0;
    fmt_str(write, ctx, "static (inside tern_stack_t)    formula                                 bytes\n");
#if TERN_HEAP_SIZE > 0
    static_row(write, ctx, TERN_STATIC_ONLY ? "pool arena" : "heap arena", "TERN_HEAP_SIZE", sizeof stack->heap_arena);
    listed += sizeof stack->heap_arena;
#endif
    /* The sockets themselves are heap blocks (SOCKET); the table holds a
     * slot per id. */
    count_times(f, sizeof f, TERN_SOCKET_MAX, sizeof stack->sockets.slots / TERN_SOCKET_MAX,
                sizeof stack->sockets - sizeof stack->sockets.slots);
    static_row(write, ctx, "socket table", f, sizeof stack->sockets);
    listed += sizeof stack->sockets;
#if TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC
    count_times(f, sizeof f, TERN_NETBUF_COUNT, sizeof stack->netbufs.bufs[0] + sizeof stack->netbufs.storage[0],
                sizeof stack->netbufs - sizeof stack->netbufs.bufs - sizeof stack->netbufs.storage);
#else
    count_times(f, sizeof f, TERN_NETBUF_COUNT, sizeof stack->netbufs.bufs[0],
                sizeof stack->netbufs - sizeof stack->netbufs.bufs);
#endif
    static_row(write, ctx, "network buffers", f, sizeof stack->netbufs);
    listed += sizeof stack->netbufs;
    size_t proto = sizeof stack->arp + sizeof stack->ipv4 + sizeof stack->icmp + sizeof stack->udp + sizeof stack->tcp;
    static_row(write, ctx, "protocol state", "arp ipv4 icmp udp tcp (caches: heap)", proto);
    listed += proto;
    static_row(write, ctx, "counters", "", sizeof stack->counters);
    listed += sizeof stack->counters;
    static_row(write, ctx, "heap and ledger", "their books", sizeof stack->heap + sizeof stack->ledger);
    listed += sizeof stack->heap + sizeof stack->ledger;
    static_row(write, ctx, "other", "pointers, time, padding", sizeof *stack - listed);
    static_row(write, ctx, "tern_stack_t", "sizeof, all of the above", sizeof *stack);
    /* Static memory an application noted for its own category. */
    for (unsigned i = 0; i < TERN_MEM_CATEGORY_COUNT; i++) {
        const tern_ledger_category_stats_t *c = tern_ledger_category(&stack->ledger, (tern_mem_category_t)i);
        if (i != TERN_MEM_NETWORK_BUFFER && c != NULL && c->static_bytes != 0u)
            static_row(write, ctx, tern_ledger_category_label(&stack->ledger, (tern_mem_category_t)i),
                       "outside tern_stack_t (noted)", c->static_bytes);
    }
}

/* Static objects, then the heap's figures, the buffers and the ledger's
 * table, each figure once. */
void tern_stack_report_memory(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    report_static(stack, write, ctx);
    tern_heap_stats_t hs;
    tern_ledger_heap_stats(&stack->ledger, &hs);
    static const char *const names[] = {"total", "used", "free", "min_free", "largest_free_block", "largest_alloc",
                                        "free_blocks", "used_blocks", "allocs", "frees", "failures", "bad_frees"};
    const size_t values[] = {hs.total, hs.used, hs.free, hs.min_free, hs.largest_free_block, hs.largest_alloc,
                             hs.free_blocks, hs.used_blocks, hs.allocs, hs.frees, hs.failures, hs.bad_frees};
    fmt_str(write, ctx, TERN_STATIC_ONLY ? "pools:\n" : "heap:\n");
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        fmt_str(write, ctx, "  ");
        fmt_str_pad(write, ctx, names[i], 20);
        fmt_uint(write, ctx, values[i], 10);
        fmt_str(write, ctx, "\n");
    }
    fmt_str(write, ctx, "netbufs free ");
    fmt_uint(write, ctx, tern_netbuf_free_count(&stack->netbufs), 0);
    fmt_str(write, ctx, " min ");
    fmt_uint(write, ctx, tern_netbuf_min_free(&stack->netbufs), 0);
    fmt_str(write, ctx, " of ");
    fmt_uint(write, ctx, TERN_NETBUF_COUNT, 0);
    fmt_str(write, ctx, "\n");
    tern_ledger_report_table(&stack->ledger, write, ctx);
}
