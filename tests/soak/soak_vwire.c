/* Soak: open and close TCP connections without end, tern against tern on
 * the virtual wire, in one process (make soak; scripts/soak).
 *
 *   soak_vwire [CONNECTIONS [SECONDS]]   (or SOAK_CONNECTIONS, SOAK_SECONDS)
 *
 * Stack A opens connections to an echo service on stack B, up to 16 at a
 * time (the number in flight varies), each with 0..3000 bytes checked byte
 * for byte on the way back; one in 32 is aborted by the client right after
 * it connects, one in 32 by the server after its first bytes. A closes
 * first, so its TIME-WAIT table (short here: 200 ms) fills and evicts.
 * Every 5 % of the run it prints both heaps' fragmentation (free bytes,
 * largest free block, free blocks, minimum ever free). At the end, once
 * every connection is over, each stack's ledger must equal its ledger at
 * the start category by category, bytes and blocks, the heap the same
 * bytes in use, the same network buffers free; then deinit must leave both
 * ledgers empty. Exit 0 only then. Deterministic: SOAK_SEED replays. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tern/err.h"
#include "tern/stack.h"
#include "tern_vwire.h"

#define IP_A TERN_IP4(192, 0, 2, 1)
#define IP_B TERN_IP4(192, 0, 2, 2)
#define MASK TERN_IP4(255, 255, 255, 0)
#define PORT 7u
#define SLOTS 16u
#define MAX_PAYLOAD 3000u

typedef struct port_state {
    tern_port_t port;
    uint64_t rng;
    uint32_t now;
} port_state_t;

static uint32_t port_random(void *ctx)
{
    port_state_t *p = ctx;
    p->rng ^= p->rng << 13;
    p->rng ^= p->rng >> 7;
    p->rng ^= p->rng << 17;
    return (uint32_t)(p->rng >> 16);
}

static uint32_t port_now(void *ctx)
{
    return ((port_state_t *)ctx)->now;
}

static void port_init(port_state_t *p, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->rng = seed * 0x9E3779B97F4A7C15ull + 1u;
    p->port.ctx = p;
    p->port.random32 = port_random;
    p->port.now_ms = port_now;
}

typedef struct conn {
    struct soak *s;
    tern_tcp_pcb_t *pcb;
    uint64_t id;
    uint32_t len, sent, received;
    int busy, shut, abort_early, failed;
} conn_t;

typedef struct srv {
    tern_tcp_pcb_t *pcb;
    uint32_t echoed;
    int abort_after_first;
    int busy;
} srv_t;

typedef struct soak {
    port_state_t pa, pb;
    tern_stack_t a, b;
    tern_netif_t nif_a, nif_b;
    tern_vwire_t wire;
    tern_tcp_pcb_t *listener, *listener_a;
    conn_t c[SLOTS];
    srv_t srv[4u * SLOTS];
    uint64_t rng;
    uint64_t opened, completed, aborted_client, aborted_server, errors, mismatches, connect_fail, bytes;
} soak_t;

static uint64_t rnd(soak_t *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static uint8_t pat(uint64_t id, uint32_t i)
{
    return (uint8_t)(id * 131u + i * 7u + (i >> 8));
}

/* ---- B: echo, sometimes aborting after its first bytes ---------------- */

static void srv_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    srv_t *v = arg;
    const uint8_t *span;
    int n;
    while ((n = tern_tcp_peek(pcb, &span)) > 0) {
        int w = tern_tcp_write(pcb, span, (size_t)n);
        if (w < 0) { /* no send ring: the client sees a reset, counted there */
            tern_tcp_abort(pcb);
            v->pcb = NULL;
            v->busy = 0;
            return;
        }
        if (w == 0)
            break;
        tern_tcp_consume(pcb, (size_t)w);
        v->echoed += (uint32_t)w;
        if (v->abort_after_first) {
            tern_tcp_abort(pcb);
            v->pcb = NULL;
            v->busy = 0;
            return;
        }
        if (w < n)
            break;
    }
    if (tern_tcp_at_eof(pcb)) {
        tern_tcp_close(pcb);
        v->pcb = NULL;
        v->busy = 0;
    }
}

static void srv_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    srv_t *v = arg;
    (void)pcb;
    (void)err;
    v->pcb = NULL;
    v->busy = 0;
}

static const tern_tcp_callbacks_t srv_cbs = {
    .readable = srv_pump, .writable = srv_pump, .peer_closed = srv_pump, .error = srv_error};

static int srv_accept(void *arg, tern_tcp_pcb_t *l, tern_tcp_pcb_t *pcb)
{
    soak_t *s = arg;
    (void)l;
    for (size_t i = 0; i < sizeof s->srv / sizeof s->srv[0]; i++) {
        srv_t *v = &s->srv[i];
        if (v->busy)
            continue;
        memset(v, 0, sizeof *v);
        v->busy = 1;
        v->pcb = pcb;
        v->abort_after_first = rnd(s) % 32u == 0u;
        tern_tcp_set_callbacks(pcb, &srv_cbs, v);
        return TERN_OK;
    }
    return TERN_ERR_NOMEM;
}

static const tern_tcp_callbacks_t listen_cbs = {.accept = srv_accept};

/* ---- A: clients ---------------------------------------------------------- */

static void conn_done(conn_t *c)
{
    c->pcb = NULL;
    c->busy = 0;
}

static void cli_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    conn_t *c = arg;
    soak_t *s = c->s;
    const uint8_t *span;
    int n;
    while ((n = tern_tcp_peek(pcb, &span)) > 0) {
        for (int i = 0; i < n; i++)
            if (c->received + (uint32_t)i >= c->len || span[i] != pat(c->id, c->received + (uint32_t)i))
                c->failed = 1;
        c->received += (uint32_t)n;
        tern_tcp_consume(pcb, (size_t)n);
    }
    uint8_t *w;
    while (c->sent < c->len && (n = tern_tcp_write_span(pcb, &w)) != 0) {
        if (n < 0) { /* no send ring: never expected with the extra region */
            s->errors++;
            tern_tcp_abort(pcb);
            conn_done(c);
            return;
        }
        uint32_t k = c->len - c->sent < (uint32_t)n ? c->len - c->sent : (uint32_t)n;
        for (uint32_t i = 0; i < k; i++)
            w[i] = pat(c->id, c->sent + i);
        tern_tcp_write_commit(pcb, k);
        c->sent += k;
    }
    if (c->sent == c->len && !c->shut) {
        c->shut = 1;
        tern_tcp_shutdown(pcb);
    }
    if (tern_tcp_at_eof(pcb)) {
        if (c->failed || c->received != c->len)
            s->mismatches++;
        else
            s->completed++;
        s->bytes += c->len;
        tern_tcp_close(pcb);
        conn_done(c);
    }
}

static void cli_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    conn_t *c = arg;
    if (c->abort_early) {
        c->s->aborted_client++;
        tern_tcp_abort(pcb);
        conn_done(c);
        return;
    }
    cli_pump(arg, pcb);
}

static void cli_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    conn_t *c = arg;
    (void)pcb;
    /* The server's abort arrives as a reset: expected for those. */
    if (err == TERN_ERR_RESET)
        c->s->aborted_server++;
    else
        c->s->errors++;
    conn_done(c);
}

static const tern_tcp_callbacks_t cli_cbs = {.connected = cli_connected,
                                             .readable = cli_pump,
                                             .writable = cli_pump,
                                             .peer_closed = cli_pump,
                                             .error = cli_error};

static void open_one(soak_t *s, conn_t *c)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->id = s->opened++;
    c->len = (uint32_t)(rnd(s) % (MAX_PAYLOAD + 1u));
    c->abort_early = rnd(s) % 32u == 0u;
    int err;
    c->pcb = tern_tcp_connect(&s->a, IP_B, PORT, &cli_cbs, c, &err);
    if (c->pcb == NULL) {
        s->connect_fail++;
        return;
    }
    c->busy = 1;
}

/* ---- memory books ------------------------------------------------------ */

typedef struct books {
    size_t bytes[TERN_MEM_CATEGORY_COUNT];
    uint32_t blocks[TERN_MEM_CATEGORY_COUNT];
    size_t total, heap_used;
    uint16_t bufs_free;
} books_t;

static void books_take(const tern_stack_t *st, books_t *b)
{
    memset(b, 0, sizeof *b);
    for (int c = 0; c < TERN_MEM_CATEGORY_COUNT; c++) {
        b->bytes[c] = tern_ledger_category(&st->ledger, (tern_mem_category_t)c)->bytes;
        b->blocks[c] = tern_ledger_category(&st->ledger, (tern_mem_category_t)c)->blocks;
    }
    b->total = tern_ledger_total_bytes(&st->ledger);
    tern_heap_stats_t hs;
    tern_heap_get_stats(&st->heap, &hs);
    b->heap_used = hs.used;
    b->bufs_free = tern_netbuf_free_count(&st->netbufs);
}

static int books_compare(const char *name, const books_t *x, const books_t *y)
{
    int same = 1;
    for (int c = 0; c < TERN_MEM_CATEGORY_COUNT; c++) {
        if (x->bytes[c] != y->bytes[c] || x->blocks[c] != y->blocks[c]) {
            printf("soak: %s: category %d: %zu bytes in %u blocks at the start, %zu in %u at the end\n", name, c,
                   x->bytes[c], x->blocks[c], y->bytes[c], y->blocks[c]);
            same = 0;
        }
    }
    if (x->heap_used != y->heap_used || x->bufs_free != y->bufs_free) {
        printf("soak: %s: heap used %zu -> %zu, buffers free %u -> %u\n", name, x->heap_used, y->heap_used,
               x->bufs_free, y->bufs_free);
        same = 0;
    }
    return same;
}

static void frag_line(const char *name, const tern_stack_t *st)
{
    tern_heap_stats_t hs;
    tern_heap_get_stats(&st->heap, &hs);
    printf(" %s: free %zu largest %zu free-blocks %zu used-blocks %zu min-free %zu", name, hs.free,
           hs.largest_free_block, hs.free_blocks, hs.used_blocks, hs.min_free);
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long env_or(const char *name, int argc, char **argv, int idx, unsigned long long def)
{
    if (argc > idx)
        return strtoull(argv[idx], NULL, 10);
    const char *e = getenv(name);
    return e != NULL && *e ? strtoull(e, NULL, 10) : def;
}

int main(int argc, char **argv)
{
    unsigned long long want = env_or("SOAK_CONNECTIONS", argc, argv, 1, 1000000ull);
    unsigned long long seconds = env_or("SOAK_SECONDS", argc, argv, 2, 0ull);
    unsigned long long seed = env_or("SOAK_SEED", 0, argv, 3, 1ull);
    static soak_t s;
    s.rng = seed * 0x2545F4914F6CDD1Dull + 7u;
    port_init(&s.pa, seed * 3u + 1u);
    port_init(&s.pb, seed * 3u + 2u);
    if (tern_stack_init(&s.a, &s.pa.port) != TERN_OK || tern_stack_init(&s.b, &s.pb.port) != TERN_OK) {
        printf("soak: stack init failed\n");
        return 1;
    }
    /* Room for 16 connections with both rings on each side, as a host
     * gives the heap a second region (tern-demo does the same). */
    static uint8_t region_a[1u << 20], region_b[1u << 20];
    if (tern_heap_add_region(&s.a.heap, region_a, sizeof region_a) != TERN_OK ||
        tern_heap_add_region(&s.b.heap, region_b, sizeof region_b) != TERN_OK) {
        printf("soak: heap region refused\n");
        return 1;
    }
    tern_vwire_params_t p = {.delay_ms = 1};
    tern_vwire_init(&s.wire, seed, &p);
    static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a}, mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
    memcpy(s.nif_a.mac, mac_a, 6);
    memcpy(s.nif_b.mac, mac_b, 6);
    if (tern_vwire_attach(&s.wire, 0, &s.a, &s.nif_a) != TERN_OK ||
        tern_vwire_attach(&s.wire, 1, &s.b, &s.nif_b) != TERN_OK) {
        printf("soak: wire attach failed\n");
        return 1;
    }
    tern_netif_set_addr(&s.nif_a, IP_A, MASK, 0);
    tern_netif_set_addr(&s.nif_b, IP_B, MASK, 0);
    tern_vwire_run(&s.wire, 1000);
    tern_tcp_set_timewait(&s.a, 200);
    tern_tcp_set_timewait(&s.b, 200);
    int err;
    s.listener = tern_tcp_listen(&s.b, PORT, 16, &listen_cbs, &s, &err);
    s.listener_a = tern_tcp_listen(&s.a, 9, 1, &listen_cbs, &s, &err); /* A's TCP pools in its baseline */
    if (s.listener == NULL || s.listener_a == NULL) {
        printf("soak: listen failed\n");
        return 1;
    }
    /* ARP both ways first: the cache is part of the baseline. */
    tern_ping_send(&s.a, IP_B, 1, 1, "x", 1);
    tern_vwire_run(&s.wire, 2000);
    books_t start_a, start_b;
    books_take(&s.a, &start_a);
    books_take(&s.b, &start_b);
    printf("soak: %llu connections over the virtual wire%s (seed %llu)\n", want,
           seconds ? " or the time limit" : "", seed);
    double t0 = wall();
    unsigned long long step = want / 20u ? want / 20u : 1u, next = step;
    unsigned target = 1;
    uint32_t now = tern_vwire_now(&s.wire);
    int timed_out = 0;
    for (;;) {
        unsigned busy = 0;
        for (unsigned i = 0; i < SLOTS; i++)
            busy += s.c[i].busy != 0;
        if (s.opened < want && !timed_out) {
            if (rnd(&s) % 64u == 0u)
                target = 1u + (unsigned)(rnd(&s) % SLOTS);
            for (unsigned i = 0; i < SLOTS && busy < target && s.opened < want; i++) {
                if (!s.c[i].busy) {
                    open_one(&s, &s.c[i]);
                    busy++;
                }
            }
        } else if (busy == 0) {
            break;
        }
        now += 1u;
        tern_vwire_run(&s.wire, now);
        if (s.opened >= next) {
            next += step;
            printf("soak: %10llu opened %6.1f s virt %7u s |", (unsigned long long)s.opened, wall() - t0,
                   (unsigned)(now / 1000u));
            frag_line("A", &s.a);
            printf(" |");
            frag_line("B", &s.b);
            printf("\n");
            fflush(stdout);
            if (seconds && wall() - t0 > (double)seconds)
                timed_out = 1;
        }
    }
    /* Every connection over: let TIME-WAIT and LAST-ACK end. */
    now += 5000u;
    tern_vwire_run(&s.wire, now);
    double secs = wall() - t0;
    books_t end_a, end_b;
    books_take(&s.a, &end_a);
    books_take(&s.b, &end_b);
    const tern_tcp_stats_t *ta = tern_tcp_stats(&s.a), *tb = tern_tcp_stats(&s.b);
    printf("soak: %llu connections in %.1f s (%.0f/s), virtual %u s: %llu echoed intact (%llu bytes), %llu aborted "
           "by the client, %llu by the server, %llu mismatches, %llu other errors, %llu connects refused\n",
           (unsigned long long)s.opened, secs, (double)s.opened / (secs > 0 ? secs : 1), (unsigned)(now / 1000u),
           (unsigned long long)s.completed, (unsigned long long)s.bytes, (unsigned long long)s.aborted_client,
           (unsigned long long)s.aborted_server, (unsigned long long)s.mismatches, (unsigned long long)s.errors,
           (unsigned long long)s.connect_fail);
    printf("soak: tcp A: active opens %u established %u rst_tx %u timewait evicted %u; B: passive opens %u rst_rx %u "
           "drops no_pcb %u syn_limit %u nomem %u\n",
           ta->active_opens, ta->established, ta->rst_tx, ta->timewait_evicted, tb->passive_opens, tb->rst_rx,
           tb->drop_no_pcb, tb->drop_syn_limit, tb->drop_nomem);
    printf("soak: end |");
    frag_line("A", &s.a);
    printf(" |");
    frag_line("B", &s.b);
    printf("\n");
    int ok = s.mismatches == 0 && s.errors == 0 && s.connect_fail == 0 &&
             s.completed + s.aborted_client + s.aborted_server == s.opened;
    int same_a = books_compare("A", &start_a, &end_a), same_b = books_compare("B", &start_b, &end_b);
    int verified = tern_ledger_verify(&s.a.ledger) == TERN_OK && tern_ledger_verify(&s.b.ledger) == TERN_OK;
    printf("soak: ledger at the end vs the start: A %s (%zu bytes), B %s (%zu bytes), verify %s\n",
           same_a ? "identical" : "DIFFERENT", end_a.total, same_b ? "identical" : "DIFFERENT", end_b.total,
           verified ? "OK" : "FAILED");
    tern_tcp_close(s.listener);
    tern_tcp_close(s.listener_a);
    tern_vwire_destroy(&s.wire);
    tern_stack_deinit(&s.a);
    tern_stack_deinit(&s.b);
    int empty = tern_ledger_total_bytes(&s.a.ledger) == 0 && tern_ledger_total_bytes(&s.b.ledger) == 0;
    printf("soak: after deinit: ledgers %s\n", empty ? "empty" : "NOT EMPTY");
    int pass = ok && same_a && same_b && verified && empty;
    printf("soak: %s\n", pass ? "PASS (leaks: 0)" : "FAIL");
    return pass ? 0 : 1;
}
