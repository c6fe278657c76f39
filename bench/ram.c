/* RAM per connection and for the reference HTTP scenario, from the ledger,
 * converted to the Cortex-M7 build's struct sizes (bench/run writes this
 * program's output to results/ram.md; docs/benchmarks.md).
 *
 * Two tern stacks on the virtual wire (one process, virtual time): the
 * server S at the default configuration (config.h: 48 KB heap, 4380-byte
 * rings), the clients on C. Measured on S's heap, gross (headers and
 * padding included), as differences from a baseline taken after a first
 * connection has allocated the TCP pools:
 *   1. an idle established connection: raw TCP API (the connection
 *      structure) and sockets API (the connection and the socket in one
 *      block);
 *   2. a connection at full transfer both ways with the default windows
 *      (both rings allocated);
 *   3. tern's HTTP server (apps/http, the dashboard) with 4 clients loading
 *      "/" at once, again and again: the peak of S's heap, and what was
 *      held at that moment by category.
 *
 * Conversion to Cortex-M7: the heap puts an 8-byte header on every block
 * and rounds payloads to 8 on every target, so a block costs
 * round8(size) + 8 on both; only the structures' sizes differ. They are
 * read from the firmware build (scripts/size-table, firmware/sizes.c:
 * TERN_FW_BUILD, default build-fw next to the sources) and each host
 * structure is replaced by its Cortex-M size; rings and buffers are the same
 * bytes on both. Where a structure has no Cortex-M size in that table the
 * host size is kept and the line says so (an upper bound: pointers are 8
 * bytes on the host, 4 on Cortex-M). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/http.h"
#include "tern/stack.h"
#include "tern_vwire.h"
#include "net/tcp_internal.h"
#include "socket/socket_internal.h"

#ifndef TERN_SRC_DIR
#define TERN_SRC_DIR "."
#endif

#define IP_S TERN_IP4(192, 0, 2, 2)
#define IP_C TERN_IP4(192, 0, 2, 1)
#define MASK TERN_IP4(255, 255, 255, 0)

typedef struct ram_port {
    tern_port_t port;
    uint64_t rng;
} ram_port_t;

static uint32_t ram_random32(void *ctx)
{
    ram_port_t *p = ctx;
    uint64_t x = p->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    p->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

typedef struct world {
    ram_port_t ps, pc;
    tern_stack_t s, c;
    tern_netif_t ns, nc;
    tern_vwire_t wire;
} world_t;

static void die(const char *what)
{
    fprintf(stderr, "bench_ram: %s\n", what);
    exit(1);
}

static void run(world_t *w, uint32_t ms)
{
    tern_vwire_run(&w->wire, tern_vwire_now(&w->wire) + ms);
}

static world_t *world_new(void)
{
    world_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        die("out of memory");
    w->ps.rng = 21;
    w->pc.rng = 22;
    w->ps.port.ctx = &w->ps;
    w->pc.port.ctx = &w->pc;
    w->ps.port.random32 = ram_random32;
    w->pc.port.random32 = ram_random32;
    if (tern_stack_init(&w->s, &w->ps.port) != TERN_OK || tern_stack_init(&w->c, &w->pc.port) != TERN_OK)
        die("stack init");
    tern_vwire_params_t p;
    memset(&p, 0, sizeof p);
    p.delay_ms = 1;
    p.bandwidth_bps = 100000000ull;
    tern_vwire_init(&w->wire, 7, &p);
    static const uint8_t ms[6] = {0x02, 0, 0, 0, 0, 0x0a}, mc[6] = {0x02, 0, 0, 0, 0, 0x0b};
    memcpy(w->ns.mac, ms, 6);
    memcpy(w->nc.mac, mc, 6);
    if (tern_vwire_attach(&w->wire, 0, &w->s, &w->ns) != TERN_OK ||
        tern_vwire_attach(&w->wire, 1, &w->c, &w->nc) != TERN_OK)
        die("attach");
    tern_netif_set_addr(&w->ns, IP_S, MASK, 0);
    tern_netif_set_addr(&w->nc, IP_C, MASK, 0);
    tern_tcp_set_timewait(&w->s, 1000);
    tern_tcp_set_timewait(&w->c, 1000);
    run(w, 100);
    return w;
}

static void world_free(world_t *w)
{
    tern_vwire_destroy(&w->wire);
    tern_stack_deinit(&w->s);
    tern_stack_deinit(&w->c);
    free(w);
}

/* ---- snapshots of S's memory ------------------------------------------------ */

typedef struct snap {
    size_t used; /* heap gross bytes in use */
    size_t bytes[TERN_MEM_CATEGORY_COUNT];
    uint32_t blocks[TERN_MEM_CATEGORY_COUNT];
} snap_t;

static void snap_take(const tern_stack_t *st, snap_t *out)
{
    tern_heap_stats_t hs;
    tern_heap_get_stats(&st->heap, &hs);
    out->used = hs.used;
    for (int i = 0; i < TERN_MEM_CATEGORY_COUNT; i++) {
        const tern_ledger_category_stats_t *c = tern_ledger_category(&st->ledger, (tern_mem_category_t)i);
        out->bytes[i] = c->bytes;
        out->blocks[i] = c->blocks;
    }
}

/* ---- Cortex-M7 sizes ---------------------------------------------------------- */

typedef struct m7 {
    int have;
    long pcb, socket, tw, range, stack;
    long tcp_block; /* a TCP socket's one block: connection + socket (0: not in the table) */
} m7_t;

static m7_t m7;

static void m7_load(void)
{
    const char *fw = getenv("TERN_FW_BUILD");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/scripts/size-table %s 2>/dev/null", TERN_SRC_DIR,
             fw && *fw ? fw : TERN_SRC_DIR "/build-fw");
    FILE *f = popen(cmd, "r");
    if (f == NULL)
        return;
    char line[256];
    int in_sizes = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "== struct sizes"))
            in_sizes = 1;
        char name[128];
        long v;
        if (!in_sizes || sscanf(line, "%127s %ld", name, &v) != 2)
            continue;
        if (strcmp(name, "tern_tcp_pcb_t") == 0)
            m7.pcb = v;
        else if (strcmp(name, "tern_socket_t") == 0)
            m7.socket = v;
        else if (strcmp(name, "tcp_tw_t") == 0)
            m7.tw = v;
        else if (strcmp(name, "tcp_range_t") == 0)
            m7.range = v;
        else if (strcmp(name, "tern_stack_t") == 0)
            m7.stack = v;
        else if (strcmp(name, "socket_tcp_block_t") == 0)
            m7.tcp_block = v;
    }
    pclose(f);
    m7.have = m7.pcb > 0 && m7.socket > 0 && m7.tw > 0 && m7.range > 0;
}

static long gross(long size)
{
    return ((size + 7) / 8) * 8 + 8;
}

/* The SOCKET category at Cortex-M sizes, from its host bytes b in k blocks:
 * the TIME-WAIT table (one block), bare connections (raw API, or waiting
 * for tern_accept), TCP sockets (connection + socket, one block each) and
 * at most one listener's queue (a header and a pointer per backlog slot).
 * -1 when no such mix gives exactly b. */
static long m7_socket_category(long b, long k)
{
    long tw_host = (long)(TERN_TCP_TIMEWAIT_MAX * sizeof(tcp_tw_t));
    long pcb = (long)sizeof(tern_tcp_pcb_t), blk = (long)SOCKET_TCP_BLOCK;
    long m7_blk = m7.tcp_block ? m7.tcp_block : m7.pcb + (long)SOCKET_SIZE_TCP;
    long q_head = (long)offsetof(socket_listen_t, queue), q_slot = (long)sizeof(void *);
    for (long queues = 0; queues <= 1; queues++) {
        for (long x = 0; x <= k - 1 - queues; x++) {
            long y = k - 1 - queues - x;
            long rest = b - tw_host - x * pcb - y * blk;
            if (queues == 0 ? rest != 0 : (rest <= q_head || (rest - q_head) % q_slot != 0))
                continue;
            long slots = queues ? (rest - q_head) / q_slot : 0;
            return gross(TERN_TCP_TIMEWAIT_MAX * m7.tw) + x * gross(m7.pcb) + y * gross(m7_blk) +
                   (queues ? gross(4 + 4 * slots) : 0); /* 3 bytes + padding, then 4-byte pointers */
        }
    }
    return -1;
}

/* ---- 1 and 2: connections ------------------------------------------------------- */

typedef struct cl {
    tern_tcp_pcb_t *pcb;
    int send; /* keep the send ring full */
    uint64_t got;
} cl_t;

static uint8_t junk[4096];

static void cl_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    cl_t *c = arg;
    uint8_t buf[2048];
    int n;
    while ((n = tern_tcp_read(pcb, buf, sizeof buf)) > 0)
        c->got += (uint64_t)n;
    while (c->send && tern_tcp_write(pcb, junk, sizeof junk) > 0) {
    }
}

static const tern_tcp_callbacks_t cl_cbs = {.connected = cl_pump, .readable = cl_pump, .writable = cl_pump};

/* Server side, raw API: accept and (in transfer mode) keep both directions
 * busy without reading (the receive ring fills) or while reading. */
typedef struct srv {
    int send, read;
    tern_tcp_pcb_t *conns[8];
    unsigned n;
} srv_t;

static void srv_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    srv_t *s = arg;
    uint8_t buf[512]; /* reads slowly: a little per event */
    if (s->read)
        (void)tern_tcp_read(pcb, buf, sizeof buf);
    while (s->send && tern_tcp_write(pcb, junk, sizeof junk) > 0) {
    }
}

static const tern_tcp_callbacks_t srv_cbs = {.readable = srv_pump, .writable = srv_pump};

static int srv_accept(void *arg, tern_tcp_pcb_t *l, tern_tcp_pcb_t *pcb)
{
    srv_t *s = arg;
    (void)l;
    if (s->n >= 8)
        return TERN_ERR_NOMEM;
    s->conns[s->n++] = pcb;
    tern_tcp_set_callbacks(pcb, &srv_cbs, s);
    srv_pump(s, pcb);
    return TERN_OK;
}

static const tern_tcp_callbacks_t srv_listen_cbs = {.accept = srv_accept};

static void print_conn_line(const char *what, const snap_t *a, const snap_t *b, unsigned n, long m7_extra_blocks_socket)
{
    long host = (long)(b->used - a->used) / (long)n;
    long sock_b = (long)(b->bytes[TERN_MEM_SOCKET] - a->bytes[TERN_MEM_SOCKET]) / (long)n;
    long sock_k = (long)(b->blocks[TERN_MEM_SOCKET] - a->blocks[TERN_MEM_SOCKET]) / (long)n;
    long rx = (long)(b->bytes[TERN_MEM_TCP_STREAM_RX] - a->bytes[TERN_MEM_TCP_STREAM_RX]) / (long)n;
    long tx = (long)(b->bytes[TERN_MEM_TCP_STREAM_TX] - a->bytes[TERN_MEM_TCP_STREAM_TX]) / (long)n;
    /* A TCP socket is one block: its connection, then its part of the
     * socket union (SOCKET_SIZE_TCP). */
    long expect = (long)sizeof(tern_tcp_pcb_t) + (m7_extra_blocks_socket ? (long)SOCKET_SIZE_TCP : 0);
    const char *exact = sock_b == expect ? "" : "host SOCKET bytes are not the structures alone: conversion approximate";
    if (!m7.have) {
        printf("| %s | %ld | - (no firmware build) | SOCKET %ld B in %ld blocks, rings %ld + %ld |\n", what, host, sock_b,
               sock_k, rx, tx);
        return;
    }
    /* Without the block's Cortex-M size, the host's socket part stands in
     * (an upper bound: pointers are 8 bytes there). */
    long m7_sock = m7.tcp_block ? m7.tcp_block - m7.pcb : (long)SOCKET_SIZE_TCP;
    long m7_struct = gross(m7.pcb + (m7_extra_blocks_socket ? m7_sock : 0));
    long m7_rings = (rx ? gross(rx) : 0) + (tx ? gross(tx) : 0);
    printf("| %s | %ld | **%ld** (structures %ld%s%s) | SOCKET %ld B in %ld blocks, rings %ld + %ld B |\n", what,
           host, m7_struct + m7_rings, m7_struct, m7_rings ? ", rings " : "", m7_rings ? "counted" : "", sock_b, sock_k,
           rx, tx);
    if (*exact)
        printf("|  |  | %s |  |\n", exact);
    else if (m7_extra_blocks_socket && !m7.tcp_block)
        printf("|  |  | one block: the connection and the socket's TCP part at its host size (%zu bytes; "
               "socket_tcp_block_t is not in the firmware size table): an upper bound |  |\n",
               (size_t)SOCKET_SIZE_TCP);
    else if (m7_extra_blocks_socket)
        printf("|  |  | one block: connection %ld + socket %ld bytes on Cortex-M |  |\n", m7.pcb, m7_sock);
}

static void measure_conns(void)
{
    world_t *w = world_new();
    srv_t srv;
    memset(&srv, 0, sizeof srv);
    int err;
    tern_tcp_pcb_t *l = tern_tcp_listen(&w->s, 5001, 8, &srv_listen_cbs, &srv, &err);
    if (l == NULL)
        die("listen");
    /* Warm-up: the first connection allocates the TCP pools (segment
     * descriptors, TIME-WAIT table); they belong to the baseline. */
    cl_t warm = {0};
    warm.pcb = tern_tcp_connect(&w->c, IP_S, 5001, &cl_cbs, &warm, &err);
    run(w, 100);
    tern_tcp_abort(warm.pcb);
    run(w, 3000);
    srv.n = 0;
    snap_t base, idle, busy;
    snap_take(&w->s, &base);

    enum { N = 4 };
    cl_t cls[N];
    memset(cls, 0, sizeof cls);
    for (int i = 0; i < N; i++)
        cls[i].pcb = tern_tcp_connect(&w->c, IP_S, 5001, &cl_cbs, &cls[i], &err);
    run(w, 200);
    if (srv.n != N)
        die("connections not established");
    snap_take(&w->s, &idle);

    /* Full transfer both ways with the default windows. */
    srv.send = 1;
    srv.read = 1;
    for (int i = 0; i < N; i++) {
        cls[i].send = 1;
        cl_pump(&cls[i], cls[i].pcb);
        srv_pump(&srv, srv.conns[i]);
    }
    run(w, 500);
    snap_take(&w->s, &busy);

    printf("| connection | host (x86-64) bytes | Cortex-M7 bytes | composition (host) |\n");
    printf("|---|---:|---:|---|\n");
    print_conn_line("idle established, raw TCP API", &base, &idle, N, 0);
    print_conn_line("full transfer both ways, default windows (4380-byte rings), raw TCP API", &base, &busy, N, 0);
    for (int i = 0; i < N; i++)
        tern_tcp_abort(cls[i].pcb);
    run(w, 2000);
    tern_tcp_close(l);
    run(w, 2000);
    world_free(w);
}

/* Sockets API on S: one idle established connection is one block, the
 * connection and its socket. */
static void measure_socket_conn(void)
{
    world_t *w = world_new();
    int ls = tern_socket(&w->s, TERN_SOCK_STREAM);
    tern_sockaddr_t local = {.addr = 0, .port = 5002};
    if (ls < 0 || tern_bind(&w->s, ls, &local) != TERN_OK || tern_listen(&w->s, ls, 4) != TERN_OK ||
        tern_setsockopt(&w->s, ls, TERN_SO_NONBLOCK, 1) != TERN_OK)
        die("socket listen");
    int err;
    cl_t warm = {0};
    warm.pcb = tern_tcp_connect(&w->c, IP_S, 5002, &cl_cbs, &warm, &err);
    run(w, 100);
    int ws = tern_accept(&w->s, ls, NULL);
    if (ws < 0)
        die("accept (warm-up)");
    tern_setsockopt(&w->s, ws, TERN_SO_LINGER, 0);
    tern_close(&w->s, ws);
    run(w, 3000);
    snap_t base, idle;
    snap_take(&w->s, &base);
    enum { N = 4 };
    cl_t cls[N];
    int ids[N];
    memset(cls, 0, sizeof cls);
    for (int i = 0; i < N; i++)
        cls[i].pcb = tern_tcp_connect(&w->c, IP_S, 5002, &cl_cbs, &cls[i], &err);
    run(w, 200);
    for (int i = 0; i < N; i++) {
        ids[i] = tern_accept(&w->s, ls, NULL);
        if (ids[i] < 0)
            die("accept");
    }
    snap_take(&w->s, &idle);
    print_conn_line("idle established, sockets API (accepted socket)", &base, &idle, N, 1);
    for (int i = 0; i < N; i++) {
        tern_setsockopt(&w->s, ids[i], TERN_SO_LINGER, 0);
        tern_close(&w->s, ids[i]);
    }
    tern_close(&w->s, ls);
    run(w, 3000);
    world_free(w);
}

/* ---- 3: HTTP server, 4 clients -------------------------------------------------- */

typedef struct hcl {
    tern_tcp_pcb_t *pcb;
    uint64_t got;
    int done;
} hcl_t;

static const char http_req[] = "GET / HTTP/1.1\r\nHost: tern\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n";

static void hcl_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    (void)tern_tcp_write(pcb, http_req, sizeof http_req - 1);
}

static void hcl_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    hcl_t *c = arg;
    uint8_t buf[2048];
    int n;
    while ((n = tern_tcp_read(pcb, buf, sizeof buf)) > 0)
        c->got += (uint64_t)n;
    if (tern_tcp_at_eof(pcb) && !c->done) {
        c->done = 1;
        c->pcb = NULL;
        tern_tcp_close(pcb);
    }
}

static void hcl_error(void *arg, tern_tcp_pcb_t *pcb, int e)
{
    hcl_t *c = arg;
    (void)pcb;
    (void)e;
    c->pcb = NULL;
    c->done = 1;
}

static const tern_tcp_callbacks_t hcl_cbs = {
    .connected = hcl_connected, .readable = hcl_readable, .peer_closed = hcl_readable, .error = hcl_error};

static void measure_http(void)
{
    world_t *w = world_new();
    static tern_http_server_t hs;
    if (tern_http_server_start(&hs, &w->s, 80, NULL, NULL) != TERN_OK)
        die("http start");
    snap_t start;
    snap_take(&w->s, &start);
    size_t peak = start.used;
    snap_t at_peak = start;
    uint64_t bytes = 0;
    unsigned rounds = 0, complete = 0;
    for (; rounds < 10; rounds++) {
        hcl_t cls[4];
        memset(cls, 0, sizeof cls);
        int err;
        for (int i = 0; i < 4; i++)
            cls[i].pcb = tern_tcp_connect(&w->c, IP_S, 80, &hcl_cbs, &cls[i], &err);
        for (int t = 0; t < 5000; t++) {
            run(w, 1);
            (void)tern_http_server_poll(&hs, tern_vwire_now(&w->wire)); /* the server is on the sockets API */
            snap_t now;
            snap_take(&w->s, &now);
            if (now.used > peak) {
                peak = now.used;
                at_peak = now;
            }
            int done = 1;
            for (int i = 0; i < 4; i++)
                done &= cls[i].done;
            if (done)
                break;
        }
        for (int i = 0; i < 4; i++) {
            bytes += cls[i].got;
            if (cls[i].done && cls[i].got > 0)
                complete++;
            if (cls[i].pcb != NULL)
                tern_tcp_abort(cls[i].pcb);
        }
        for (int t = 0; t < 50; t++) {
            run(w, 1);
            (void)tern_http_server_poll(&hs, tern_vwire_now(&w->wire));
        }
    }
    tern_heap_stats_t hst;
    tern_heap_get_stats(&w->s.heap, &hst);
    printf("\n### HTTP server (apps/http, the dashboard) with 4 concurrent clients, default configuration\n\n");
    printf("%u rounds of 4 clients loading \"/\" at once (gzip, Connection: close): %u responses, %llu bytes. "
           "Heap peak (gross, the whole stack): **%zu bytes on the host** of a %zu-byte heap (minimum ever free %zu; "
           "before the first request %zu).\n\n",
           rounds, complete, (unsigned long long)bytes, peak, hst.total, hst.min_free, start.used);
    printf("| category at the peak | host bytes (requested) | blocks | Cortex-M7 gross |\n|---|---:|---:|---:|\n");
    long m7_total = 0, host_total = 0;
    for (int i = 0; i < TERN_MEM_CATEGORY_COUNT; i++) {
        if (at_peak.blocks[i] == 0)
            continue;
        long b = (long)at_peak.bytes[i], k = (long)at_peak.blocks[i];
        long host_gross = b + 8 * k; /* approximate: padding not shown per block */
        long m7g = -1;
        const char *note = "";
        if (i == TERN_MEM_SOCKET && m7.have) {
            m7g = m7_socket_category(b, k);
            note = m7g >= 0 ? " (sockets, connections, a listener's queue, the TIME-WAIT table, at Cortex-M sizes)"
                            : " (composition not recognised: host size kept)";
        } else if (i == TERN_MEM_TCP_RANGES && m7.have && k == 1) {
            m7g = gross(TERN_TCP_RANGE_COUNT * m7.range);
        } else if (i == TERN_MEM_TCP_STREAM_RX || i == TERN_MEM_TCP_STREAM_TX || i == TERN_MEM_NETWORK_BUFFER) {
            m7g = host_gross; /* bytes, the same on both */
        } else {
            note = " (host size kept: an upper bound)";
        }
        if (m7g < 0)
            m7g = host_gross;
        m7_total += m7g;
        host_total += host_gross;
        printf("| %s%s | %ld | %ld | %ld |\n", tern_mem_category_name((tern_mem_category_t)i), note, b, k, m7g);
    }
    printf("| **total** |  |  | **%ld** (host %ld) |\n\n", m7_total, host_total);
    if (m7.stack > 0)
        printf("Static RAM beside the heap, Cortex-M7: tern_stack_t is %ld bytes (the %u-byte heap arena and %u network "
               "buffers of %u bytes included), from firmware/sizes.c. The peak above lives inside that heap.\n",
               m7.stack, (unsigned)TERN_HEAP_SIZE, (unsigned)TERN_NETBUF_COUNT, (unsigned)TERN_NETBUF_FRAME_SIZE);
    tern_http_server_stop(&hs);
    run(w, 2000);
    world_free(w);
}

int main(void)
{
    m7_load();
    printf("# RAM per connection and for the HTTP reference scenario\n\n");
    printf("Generated by `bench/run` (bench/ram.c): tern's ledger on a stack at the default configuration "
           "(TERN_HEAP_SIZE %u, rings TERN_TCP_RCVBUF/SNDBUF %u/%u), on the virtual wire; gross heap bytes "
           "(8-byte header and rounding to 8 included) per connection, as differences from a baseline taken after "
           "the TCP pools exist. Cortex-M7: each structure at its size in the firmware build (scripts/size-table: "
           "tern_tcp_pcb_t %ld, tern_socket_t %ld, tcp_tw_t %ld, tcp_range_t %ld bytes), rings unchanged.%s\n\n",
           (unsigned)TERN_HEAP_SIZE, (unsigned)TERN_TCP_RCVBUF, (unsigned)TERN_TCP_SNDBUF, m7.pcb, m7.socket, m7.tw,
           m7.range, m7.have ? "" : " **No firmware build found (make firmware, or TERN_FW_BUILD=DIR): host figures only.**");
    measure_conns();
    measure_socket_conn();
    printf("\nTarget: an idle established connection at most 256 bytes on Cortex-M, stream buffers aside.\n");
    measure_http();
    return 0;
}
