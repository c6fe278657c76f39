/* bench_heap: tern_heap against glibc malloc on the same seeded trace.
 *
 * The trace is generated once (TERN_BENCH_SEED, TERN_BENCH_OPS) and replayed
 * on both allocators: twice each, once untimed per operation for the rate,
 * once with clock_gettime(CLOCK_MONOTONIC) around every operation for the
 * worst case. Then the exact per-block overhead (host and 32-bit target) and
 * tern_heap's fragmentation at the end of the trace. Output: markdown. */
#include <gnu/libc-version.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include "tern/err.h"
#include "tern/heap.h"

#define SLOTS 2048u
#define NREG 4u
#define REGION (1024u * 1024u)
#define HIST_NS 100000u

enum { OP_ALLOC, OP_FREE, OP_REALLOC, OP_KINDS };

typedef struct op {
    uint32_t size;
    uint16_t slot;
    uint8_t kind; /* an empty slot (after a failed alloc) turns it into an alloc */
} op_t;

typedef struct result {
    double seconds;    /* untimed replay */
    uint64_t worst_ns[OP_KINDS];
    uint32_t hist[OP_KINDS][HIST_NS]; /* per-op times, 1 ns buckets (last: above) */
    uint64_t count[OP_KINDS];
    uint64_t failures;
} result_t;

static uint64_t rng_state;

static uint32_t rnd(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

/* The unit test's distribution: mostly small, a few large. */
static uint32_t random_size(void)
{
    uint32_t r = rnd() % 1000u;
    if (r < 600u)
        return 1u + rnd() % 64u;
    if (r < 850u)
        return 65u + rnd() % 448u;
    if (r < 970u)
        return 513u + rnd() % 3584u;
    if (r < 997u)
        return 4097u + rnd() % 12288u;
    return 16385u + rnd() % 24576u;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The allocator under test. */
typedef struct alloc_if {
    void *(*alloc)(void *ctx, size_t n);
    void (*free)(void *ctx, void *p);
    void *(*realloc)(void *ctx, void *p, size_t n);
    void *ctx;
} alloc_if_t;

static void *t_alloc(void *ctx, size_t n)
{
    return tern_heap_alloc(ctx, n, 1);
}
static void t_free(void *ctx, void *p)
{
    if (tern_heap_free(ctx, p) != TERN_OK)
        abort();
}
static void *t_realloc(void *ctx, void *p, size_t n)
{
    return tern_heap_realloc(ctx, p, n);
}
static void *g_alloc(void *ctx, size_t n)
{
    (void)ctx;
    return malloc(n);
}
static void g_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}
static void *g_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return realloc(p, n);
}

/* Replay the trace. Each block gets its first and last byte written, the
 * same for both allocators. */
static void replay(const alloc_if_t *a, const op_t *trace, size_t n, int timed, result_t *res)
{
    static void *slot[SLOTS];
    memset(slot, 0, sizeof slot);
    uint64_t start = now_ns();
    for (size_t i = 0; i < n; i++) {
        const op_t *o = &trace[i];
        void *p = slot[o->slot];
        int kind = p == NULL ? OP_ALLOC : o->kind;
        uint64_t t0 = timed ? now_ns() : 0;
        void *q;
        switch (kind) {
        case OP_ALLOC:
            q = a->alloc(a->ctx, o->size);
            break;
        case OP_FREE:
            a->free(a->ctx, p);
            q = NULL;
            break;
        default:
            q = a->realloc(a->ctx, p, o->size);
            break;
        }
        if (timed) {
            uint64_t dt = now_ns() - t0;
            if (dt > res->worst_ns[kind])
                res->worst_ns[kind] = dt;
            res->count[kind]++;
            res->hist[kind][dt < HIST_NS ? dt : HIST_NS - 1u]++;
        }
        if (kind == OP_FREE) {
            slot[o->slot] = NULL;
        } else if (q == NULL) {
            res->failures++; /* a failed realloc keeps the old block */
        } else {
            slot[o->slot] = q;
            ((volatile uint8_t *)q)[0] = (uint8_t)i;
            ((volatile uint8_t *)q)[o->size - 1u] = (uint8_t)i;
        }
    }
    if (!timed)
        res->seconds = (double)(now_ns() - start) / 1e9;
    for (unsigned s = 0; s < SLOTS; s++)
        if (slot[s] != NULL && !timed)
            a->free(a->ctx, slot[s]);
}

/* Time under which a fraction q of the operations of a kind completed. */
static uint64_t percentile(const result_t *r, int kind, double q)
{
    uint64_t want = (uint64_t)((double)r->count[kind] * q), seen = 0;
    for (uint32_t i = 0; i < HIST_NS; i++) {
        seen += r->hist[kind][i];
        if (seen > want)
            return i;
    }
    return HIST_NS;
}

static void speed_row(const char *name, double rate, const result_t *t, uint64_t failures)
{
    printf("| %s | %.0f |", name, rate);
    for (int k = 0; k < OP_KINDS; k++)
        printf(" %" PRIu64 " / %" PRIu64 " / %" PRIu64 " |", percentile(t, k, 0.5), percentile(t, k, 0.9999),
               t->worst_ns[k]);
    printf(" %" PRIu64 " |\n", failures);
}

static size_t gross_for(size_t n, size_t min_block)
{
    size_t g = (n + TERN_HEAP_HEADER + TERN_HEAP_ALIGN - 1u) & ~(size_t)(TERN_HEAP_ALIGN - 1u);
    return g < min_block ? min_block : g;
}

static void machine(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c != NULL) {
                    snprintf(model, sizeof model, "%s", c + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    uname(&u);
    printf("Machine: %s, %s %s %s, glibc %s.\n", model, u.sysname, u.release, u.machine,
           gnu_get_libc_version());
}

int main(void)
{
    const char *env = getenv("TERN_BENCH_SEED");
    uint64_t seed = env != NULL ? strtoull(env, NULL, 0) : 12345u;
    env = getenv("TERN_BENCH_OPS");
    size_t nops = env != NULL ? (size_t)strtoull(env, NULL, 0) : 4000000u;
    rng_state = seed ? seed : 1u;

    /* The trace: each op picks a slot; an empty slot allocates, a full one
     * frees (70%) or reallocs (30%: half a new size, half a small change). */
    op_t *trace = malloc(nops * sizeof *trace);
    static uint32_t cur[SLOTS];
    if (trace == NULL)
        return 1;
    for (size_t i = 0; i < nops; i++) {
        op_t *o = &trace[i];
        o->slot = (uint16_t)(rnd() % SLOTS);
        uint32_t r = rnd() % 100u;
        o->kind = cur[o->slot] == 0u ? OP_ALLOC : r < 70u ? OP_FREE : OP_REALLOC;
        if (o->kind != OP_REALLOC || rnd() % 2u == 0u) {
            o->size = random_size();
        } else {
            uint32_t d = 1u + rnd() % 64u;
            o->size = rnd() % 2u ? cur[o->slot] + d : (cur[o->slot] > d ? cur[o->slot] - d : 1u);
        }
        /* Follow the slot as the replay will (assuming no failure). */
        cur[o->slot] = o->kind == OP_FREE ? 0u : o->size;
    }

    tern_heap_t heap;
    uint8_t *arena = malloc((size_t)NREG * REGION);
    if (arena == NULL)
        return 1;
    memset(arena, 0, (size_t)NREG * REGION); /* fault the pages in before timing */
    alloc_if_t tif = {t_alloc, t_free, t_realloc, &heap};
    alloc_if_t gif = {g_alloc, g_free, g_realloc, NULL};
    static result_t tr, gr, tt, gt;

    /* Untimed replays (rate), each after a warm-up run. */
    tern_heap_init(&heap, NULL);
    for (unsigned r = 0; r < NREG; r++)
        tern_heap_add_region(&heap, arena + (size_t)r * REGION, REGION);
    replay(&tif, trace, nops, 0, &tr);
    tern_heap_init(&heap, NULL);
    for (unsigned r = 0; r < NREG; r++)
        tern_heap_add_region(&heap, arena + (size_t)r * REGION, REGION);
    memset(&tr, 0, sizeof tr);
    replay(&tif, trace, nops, 0, &tr);
    replay(&gif, trace, nops, 0, &gr);
    memset(&gr, 0, sizeof gr);
    replay(&gif, trace, nops, 0, &gr);

    /* Timed replays (worst case); tern's heap is left as the trace ends. */
    tern_heap_init(&heap, NULL);
    for (unsigned r = 0; r < NREG; r++)
        tern_heap_add_region(&heap, arena + (size_t)r * REGION, REGION);
    replay(&tif, trace, nops, 1, &tt);
    tern_heap_stats_t s;
    tern_heap_get_stats(&heap, &s);
    int check = tern_heap_check(&heap);
    replay(&gif, trace, nops, 1, &gt);

    printf("# tern_heap benchmark\n\n");
    machine();
    printf("Trace: %zu operations, seed %" PRIu64 ", %u slots, sizes 1..40960 skewed small "
           "(60%% <= 64 B, 25%% <= 512 B, 12%% <= 4 KiB, 3%% larger); tern_heap over %u regions of %u KiB.\n\n",
           nops, seed, SLOTS, NREG, REGION / 1024u);

    printf("## Speed\n\n");
    printf("| allocator | ops/s | alloc ns (median / 99.99%% / worst) | free ns | realloc ns | failed |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    speed_row("tern_heap", (double)nops / tr.seconds, &tt, tr.failures);
    speed_row("glibc malloc", (double)nops / gr.seconds, &gt, gr.failures);
    printf("\nOperations: %" PRIu64 " alloc, %" PRIu64 " free, %" PRIu64 " realloc. ops/s is from a replay "
           "without clock reads; the times are from a second replay with clock_gettime(CLOCK_MONOTONIC) "
           "around each operation (about 20 ns of that is the clock itself). Worst times are single "
           "observations on a shared, non-isolated machine and include preemption.\n\n",
           tt.count[OP_ALLOC], tt.count[OP_FREE], tt.count[OP_REALLOC]);

    printf("## Per-block overhead (exact)\n\n");
    printf("Header %u bytes, payload alignment %u, minimum block %zu bytes on this host (64-bit pointers) and "
           "24 bytes on a 32-bit target (Cortex-M).\n\n",
           TERN_HEAP_HEADER, TERN_HEAP_ALIGN, (size_t)TERN_HEAP_MIN_BLOCK);
    printf("| request (B) | block on host | overhead on host | block on Cortex-M | overhead on Cortex-M | "
           "glibc chunk (usable + 8) |\n|---:|---:|---:|---:|---:|---:|\n");
    static const size_t req[] = {1, 8, 12, 16, 24, 32, 40, 64, 100, 128, 256, 1000, 1460, 1514, 4096};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        void *p = malloc(req[i]);
        size_t gch = malloc_usable_size(p) + 8u;
        free(p);
        size_t h = gross_for(req[i], TERN_HEAP_MIN_BLOCK), m = gross_for(req[i], 24u);
        printf("| %zu | %zu | %zu | %zu | %zu | %zu |\n", req[i], h, h - req[i], m, m - req[i], gch);
    }
    /* Mean over the trace's allocation sizes. */
    double sum_h = 0, sum_m = 0, sum_g = 0, sum_n = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < nops; i++) {
        if (trace[i].kind == OP_FREE)
            continue;
        size_t n = trace[i].size;
        sum_n += (double)n;
        sum_h += (double)(gross_for(n, TERN_HEAP_MIN_BLOCK) - n);
        sum_m += (double)(gross_for(n, 24u) - n);
        size_t g = n + 8u < 32u ? 32u : (n + 8u + 15u) & ~(size_t)15u; /* glibc x86-64 chunk */
        sum_g += (double)(g - n);
        cnt++;
    }
    printf("\nMean over the trace's %zu requests (mean request %.1f B): overhead %.2f B on the host, "
           "%.2f B on Cortex-M, %.2f B for glibc's chunks (64-bit).\n\n",
           cnt, sum_n / (double)cnt, sum_h / (double)cnt, sum_m / (double)cnt, sum_g / (double)cnt);

    printf("## tern_heap at the end of the trace\n\n");
    printf("| total | used | free | min_free | largest free block | free blocks | used blocks | check |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---|\n");
    printf("| %zu | %zu | %zu | %zu | %zu | %zu | %zu | %s |\n", s.total, s.used, s.free, s.min_free,
           s.largest_free_block, s.free_blocks, s.used_blocks, check == TERN_OK ? "ok" : "CORRUPT");
    printf("\nLargest free block / free = %.1f%% (100%% means no fragmentation).\n",
           s.free ? 100.0 * (double)s.largest_free_block / (double)s.free : 100.0);
    free(trace);
    free(arena);
    return check == TERN_OK ? 0 : 1;
}
