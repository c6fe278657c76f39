/* The ledger: categories and owners for every allocation.
 *
 * Each heap block's 24-bit tag carries the bookkeeping, so the ledger needs
 * no memory per block:  owner (bits 14..23) | category (8..13) | pad (0..7),
 * where pad = gross block size - requested size (the heap keeps it < 256). */
#include "tern/ledger.h"

#include <string.h>
#include "tern/err.h"
#include "tern/plan.h"
#include "util/fmt.h"

#define TAG_PAD_MASK 0xFFu
#define TAG_CAT_SHIFT 8u
#define TAG_CAT_MASK 0x3Fu
#define TAG_OWNER_SHIFT 14u
#define TAG_OWNER_MASK 0x3FFu

_Static_assert(TERN_MEM_CATEGORY_COUNT <= TAG_CAT_MASK, "category must fit 6 bits of the tag");

#if TERN_STATIC_APP_BLOCKS > 0
/* Static-only build: the application's own blocks (config.h). */
TERN_STATIC_POOL(application, TERN_MEM_APPLICATION, TERN_STATIC_APP_BLOCK_BYTES, TERN_STATIC_APP_BLOCKS);
#endif

static const char *const category_names[TERN_MEM_APP_FIRST] = {
    [TERN_MEM_STACK_INIT] = "STACK_INIT",
    [TERN_MEM_NETWORK_BUFFER] = "NETWORK_BUFFER",
    [TERN_MEM_SOCKET] = "SOCKET",
    [TERN_MEM_TCP_STREAM_RX] = "TCP_STREAM_RX",
    [TERN_MEM_TCP_STREAM_TX] = "TCP_STREAM_TX",
    [TERN_MEM_TCP_RANGES] = "TCP_RANGES",
    [TERN_MEM_ARP_CACHE] = "ARP_CACHE",
    [TERN_MEM_IP_REASSEMBLY] = "IP_REASSEMBLY",
    [TERN_MEM_APPLICATION] = "APPLICATION",
};

#if !TERN_STATIC_ONLY
static uint32_t tag_make(unsigned cat, unsigned owner, size_t pad)
{
    return ((uint32_t)owner << TAG_OWNER_SHIFT) | ((uint32_t)cat << TAG_CAT_SHIFT) | (uint32_t)pad;
}

static unsigned tag_cat(uint32_t tag)
{
    return (tag >> TAG_CAT_SHIFT) & TAG_CAT_MASK;
}

static unsigned tag_owner(uint32_t tag)
{
    return (tag >> TAG_OWNER_SHIFT) & TAG_OWNER_MASK;
}

static size_t tag_pad(uint32_t tag)
{
    return tag & TAG_PAD_MASK;
}

#endif

static size_t owner_slot(unsigned owner)
{
    return owner < TERN_LEDGER_OWNERS ? owner : TERN_LEDGER_OWNERS;
}

static void ledger_lock(const tern_ledger_t *l)
{
    if (l->port && l->port->mem_lock)
        l->port->mem_lock(l->port->ctx);
}

static void ledger_unlock(const tern_ledger_t *l)
{
    if (l->port && l->port->mem_unlock)
        l->port->mem_unlock(l->port->ctx);
}

static void ledger_complain(const tern_ledger_t *l, const char *what)
{
    if (l->port && l->port->log)
        l->port->log(l->port->ctx, TERN_LOG_ERROR, what);
#if TERN_DEBUG
    if (l->port && l->port->assert_failed)
        l->port->assert_failed(l->port->ctx, what);
#endif
}

void tern_ledger_init(tern_ledger_t *ledger, tern_heap_t *heap, const tern_port_t *port)
{
    memset(ledger, 0, sizeof *ledger);
    ledger->heap = heap;
    ledger->port = port;
}

/* Counts the attempt and says whether fault injection refuses it. */
static int ledger_attempt_fails(tern_ledger_t *l)
{
    l->attempts++;
#if TERN_FAULT_INJECTION
    if (l->fail_at != 0u && (l->attempts == l->fail_at || (l->fail_every && l->attempts > l->fail_at)))
        return 1;
#endif
    return 0;
}

static void ledger_add(tern_ledger_t *l, unsigned cat, unsigned owner, size_t bytes, size_t pad)
{
    tern_ledger_category_stats_t *c = &l->cat[cat];
    c->bytes += bytes;
    if (c->bytes > c->peak_bytes)
        c->peak_bytes = c->bytes;
    l->owner_bytes[owner_slot(owner)] += bytes;
    l->overhead += pad;
}

static void ledger_sub(tern_ledger_t *l, unsigned cat, unsigned owner, size_t bytes, size_t pad)
{
    l->cat[cat].bytes -= bytes;
    l->owner_bytes[owner_slot(owner)] -= bytes;
    l->overhead -= pad;
}

#if !TERN_STATIC_ONLY
void *tern_mem_alloc(tern_ledger_t *ledger, size_t size, tern_mem_category_t cat, unsigned owner)
{
    if ((unsigned)cat >= TERN_MEM_CATEGORY_COUNT || size == 0u)
        return NULL;
    if (owner > TERN_OWNER_MAX)
        owner = TERN_OWNER_MAX;
    ledger_lock(ledger);
    void *p = NULL;
    if (!ledger_attempt_fails(ledger))
        p = tern_heap_alloc(ledger->heap, size, tag_make((unsigned)cat, owner, 0));
    if (p == NULL) {
        ledger->cat[cat].failures++;
        ledger_unlock(ledger);
        return NULL;
    }
    size_t pad = tern_heap_block_size(ledger->heap, p) - size;
    /* The heap guarantees pad < 256 (it splits larger remainders off). */
    tern_heap_set_tag(ledger->heap, p, tag_make((unsigned)cat, owner, pad));
    ledger->cat[cat].allocs++;
    ledger->cat[cat].blocks++;
    ledger_add(ledger, (unsigned)cat, owner, size, pad);
    ledger_unlock(ledger);
    return p;
}

int tern_mem_free(tern_ledger_t *ledger, void *ptr)
{
    if (ptr == NULL)
        return TERN_OK;
    ledger_lock(ledger);
    int32_t tag = tern_heap_get_tag(ledger->heap, ptr);
    if (tag < 0) {
        /* Let the heap refuse and count it too. */
        int err = tern_heap_free(ledger->heap, ptr);
        ledger_unlock(ledger);
        ledger_complain(ledger, "ledger: free of a pointer that is not a live block");
        return err == TERN_OK ? TERN_ERR_CORRUPT : err;
    }
    size_t gross = tern_heap_block_size(ledger->heap, ptr);
    unsigned cat = tag_cat((uint32_t)tag);
    size_t pad = tag_pad((uint32_t)tag);
    if (cat >= TERN_MEM_CATEGORY_COUNT || pad >= gross) {
        ledger_unlock(ledger);
        ledger_complain(ledger, "ledger: block tag is not a ledger tag");
        return TERN_ERR_CORRUPT;
    }
    int err = tern_heap_free(ledger->heap, ptr);
    if (err == TERN_OK) {
        ledger->cat[cat].frees++;
        ledger->cat[cat].blocks--;
        ledger_sub(ledger, cat, tag_owner((uint32_t)tag), gross - pad, pad);
    }
    ledger_unlock(ledger);
    return err;
}

void *tern_mem_realloc(tern_ledger_t *ledger, void *ptr, size_t size)
{
    if (ptr == NULL || size == 0u)
        return NULL;
    ledger_lock(ledger);
    int32_t tag = tern_heap_get_tag(ledger->heap, ptr);
    if (tag < 0) {
        ledger_unlock(ledger);
        ledger_complain(ledger, "ledger: realloc of a pointer that is not a live block");
        return NULL;
    }
    unsigned cat = tag_cat((uint32_t)tag);
    unsigned owner = tag_owner((uint32_t)tag);
    size_t old_pad = tag_pad((uint32_t)tag);
    size_t old_size = tern_heap_block_size(ledger->heap, ptr) - old_pad;
    void *p = NULL;
    if (cat < TERN_MEM_CATEGORY_COUNT && !ledger_attempt_fails(ledger))
        p = tern_heap_realloc(ledger->heap, ptr, size);
    if (p == NULL) {
        if (cat < TERN_MEM_CATEGORY_COUNT)
            ledger->cat[cat].failures++;
        ledger_unlock(ledger);
        return NULL;
    }
    size_t pad = tern_heap_block_size(ledger->heap, p) - size;
    tern_heap_set_tag(ledger->heap, p, tag_make(cat, owner, pad));
    ledger_sub(ledger, cat, owner, old_size, old_pad);
    ledger_add(ledger, cat, owner, size, pad);
    ledger_unlock(ledger);
    return p;
}

int tern_mem_set_owner(tern_ledger_t *ledger, void *ptr, unsigned owner)
{
    if (owner > TERN_OWNER_MAX)
        owner = TERN_OWNER_MAX;
    ledger_lock(ledger);
    int32_t tag = tern_heap_get_tag(ledger->heap, ptr);
    if (tag < 0) {
        ledger_unlock(ledger);
        return TERN_ERR_INVAL;
    }
    unsigned cat = tag_cat((uint32_t)tag);
    size_t pad = tag_pad((uint32_t)tag);
    size_t size = tern_heap_block_size(ledger->heap, ptr) - pad;
    ledger->owner_bytes[owner_slot(tag_owner((uint32_t)tag))] -= size;
    ledger->owner_bytes[owner_slot(owner)] += size;
    tern_heap_set_tag(ledger->heap, ptr, tag_make(cat, owner, pad));
    ledger_unlock(ledger);
    return TERN_OK;
}

size_t tern_mem_size(const tern_ledger_t *ledger, const void *ptr)
{
    int32_t tag = tern_heap_get_tag(ledger->heap, ptr);
    if (tag < 0)
        return 0;
    return tern_heap_block_size(ledger->heap, ptr) - tag_pad((uint32_t)tag);
}

#endif /* !TERN_STATIC_ONLY */

static int ledger_slot(const tern_ledger_t *ledger, const char *name, int free);

#if TERN_STATIC_ONLY
/* ---- the static-only backend: fixed pools, no heap --------------------------
 *
 * Each slot starts with an 8-byte header (so payloads stay 8-aligned): the
 * size asked for, the owner, the pool's index and a live mark. A free slot
 * links to the next free one through its payload's first word. */
#define SLOT_HEADER 8u
#define SLOT_LIVE 0xA5u

typedef struct pool_slot {
    uint32_t size;
    uint16_t owner;
    uint8_t pool;
    uint8_t live;
} pool_slot_t;
_Static_assert(sizeof(pool_slot_t) == SLOT_HEADER, "slot header is 8 bytes");
_Static_assert(TERN_STATIC_POOLS_MAX <= 255, "a slot names its pool in 8 bits");

#if defined(__GNUC__)
extern const tern_pool_def_t __start_tern_pools[] __attribute__((weak));
extern const tern_pool_def_t __stop_tern_pools[] __attribute__((weak));
#endif

static size_t pool_defs(const tern_pool_def_t **first)
{
#if defined(__GNUC__)
    if (__start_tern_pools != NULL && __stop_tern_pools != NULL) {
        *first = __start_tern_pools;
        return (size_t)(__stop_tern_pools - __start_tern_pools);
    }
#endif
    *first = NULL;
    return 0;
}

static size_t pool_stride(const tern_pool_def_t *d)
{
    return TERN_PLAN_POOL_SLOT((size_t)d->size);
}

size_t tern_ledger_pool_bytes(void)
{
    const tern_pool_def_t *d;
    size_t n = pool_defs(&d), sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += pool_stride(&d[i]) * d[i].count;
    return sum;
}

/* The category an application pool serves once its name is registered. */
static void pools_resolve(tern_ledger_t *l)
{
#if TERN_LEDGER_APP_CATEGORIES > 0
    for (unsigned i = 0; i < l->pool_count; i++) {
        tern_pool_t *p = &l->pools[i];
        if (p->def->app[0] == '\0')
            continue;
        char name[sizeof p->def->app + 1u];
        memcpy(name, p->def->app, sizeof p->def->app);
        name[sizeof p->def->app] = '\0';
        int cat = ledger_slot(l, name, 0);
        p->cat = cat >= 0 ? (uint32_t)cat : (uint32_t)TERN_MEM_CATEGORY_COUNT;
    }
#else
    (void)l;
#endif
}

int tern_ledger_pools_init(tern_ledger_t *ledger, void *arena, size_t size)
{
    const tern_pool_def_t *d;
    size_t n = pool_defs(&d);
    size_t need = tern_ledger_pool_bytes();
    ledger->arena_bytes = size;
    if (n > TERN_STATIC_POOLS_MAX || need > size || ((uintptr_t)arena & 7u) != 0u) {
        ledger_complain(ledger, "ledger: the static pools do not fit the arena (tern_ledger_pool_bytes)");
        return TERN_ERR_NOMEM;
    }
    uint8_t *at = arena;
    for (size_t i = 0; i < n; i++) {
        tern_pool_t *p = &ledger->pools[i];
        p->def = &d[i];
        p->stride = (uint32_t)pool_stride(&d[i]);
        p->base = at;
        p->cat = d[i].app[0] == '\0' && d[i].cat < TERN_MEM_CATEGORY_COUNT ? d[i].cat : TERN_MEM_CATEGORY_COUNT;
        /* The free list in address order: the first slot is taken first. */
        p->free = NULL;
        for (uint32_t k = d[i].count; k-- > 0u;) {
            uint8_t *slot = at + (size_t)k * p->stride;
            memset(slot, 0, SLOT_HEADER);
            memcpy(slot + SLOT_HEADER, &p->free, sizeof p->free);
            p->free = slot + SLOT_HEADER;
        }
        at += (size_t)p->stride * d[i].count;
    }
    ledger->pool_count = (unsigned)n;
    ledger->pool_bytes = need;
    ledger->pool_min_free = need;
    pools_resolve(ledger);
    return TERN_OK;
}

const tern_pool_t *tern_ledger_pool(const tern_ledger_t *ledger, unsigned i)
{
    return i < ledger->pool_count ? &ledger->pools[i] : NULL;
}

/* The live slot's header of ptr, or NULL. */
static pool_slot_t *slot_of(const tern_ledger_t *l, const void *ptr)
{
    uintptr_t a = (uintptr_t)ptr;
    for (unsigned i = 0; i < l->pool_count; i++) {
        const tern_pool_t *p = &l->pools[i];
        uintptr_t base = (uintptr_t)p->base + SLOT_HEADER;
        uintptr_t end = (uintptr_t)p->base + (uintptr_t)p->stride * p->def->count;
        if (a < base || a >= end)
            continue;
        if ((a - base) % p->stride != 0u)
            return NULL;
        pool_slot_t *h = (pool_slot_t *)(void *)((uint8_t *)(uintptr_t)a - SLOT_HEADER);
        return h->live == SLOT_LIVE && h->pool == i ? h : NULL;
    }
    return NULL;
}

/* The smallest pool of cat with a free slot that holds size bytes. */
static tern_pool_t *pool_pick(tern_ledger_t *l, unsigned cat, size_t size)
{
    tern_pool_t *best = NULL;
    for (unsigned i = 0; i < l->pool_count; i++) {
        tern_pool_t *p = &l->pools[i];
        if (p->cat != cat || p->def->size < size || p->free == NULL)
            continue;
        if (best == NULL || p->def->size < best->def->size)
            best = p;
    }
    return best;
}

static void *slot_take(tern_ledger_t *l, tern_pool_t *p, size_t size, unsigned owner)
{
    uint8_t *payload = p->free;
    memcpy(&p->free, payload, sizeof p->free);
    pool_slot_t *h = (pool_slot_t *)(void *)(payload - SLOT_HEADER);
    h->size = (uint32_t)size;
    h->owner = (uint16_t)owner;
    h->pool = (uint8_t)(p - l->pools);
    h->live = SLOT_LIVE;
    p->used++;
    if (p->used > p->peak)
        p->peak = p->used;
    l->pool_used += p->stride;
    if (l->pool_bytes - l->pool_used < l->pool_min_free)
        l->pool_min_free = l->pool_bytes - l->pool_used;
    return payload;
}

static void slot_give(tern_ledger_t *l, pool_slot_t *h)
{
    tern_pool_t *p = &l->pools[h->pool];
    uint8_t *payload = (uint8_t *)h + SLOT_HEADER;
    h->live = 0;
    memcpy(payload, &p->free, sizeof p->free);
    p->free = payload;
    p->used--;
    l->pool_used -= p->stride;
}

void *tern_mem_alloc(tern_ledger_t *ledger, size_t size, tern_mem_category_t cat, unsigned owner)
{
    if ((unsigned)cat >= TERN_MEM_CATEGORY_COUNT || size == 0u)
        return NULL;
    if (owner > TERN_OWNER_MAX)
        owner = TERN_OWNER_MAX;
    ledger_lock(ledger);
    tern_pool_t *p = NULL;
    if (!ledger_attempt_fails(ledger))
        p = pool_pick(ledger, (unsigned)cat, size);
    if (p == NULL) {
        /* No slot of the category holds it: the same failure as a full heap. */
        ledger->cat[cat].failures++;
        ledger_unlock(ledger);
        return NULL;
    }
    void *ptr = slot_take(ledger, p, size, owner);
    ledger->cat[cat].allocs++;
    ledger->cat[cat].blocks++;
    ledger_add(ledger, (unsigned)cat, owner, size, p->stride - size);
    ledger_unlock(ledger);
    return ptr;
}

int tern_mem_free(tern_ledger_t *ledger, void *ptr)
{
    if (ptr == NULL)
        return TERN_OK;
    ledger_lock(ledger);
    pool_slot_t *h = slot_of(ledger, ptr);
    if (h == NULL) {
        ledger_unlock(ledger);
        ledger_complain(ledger, "ledger: free of a pointer that is not a live block");
        return TERN_ERR_CORRUPT;
    }
    const tern_pool_t *p = &ledger->pools[h->pool];
    unsigned cat = p->cat;
    ledger->cat[cat].frees++;
    ledger->cat[cat].blocks--;
    ledger_sub(ledger, cat, h->owner, h->size, p->stride - h->size);
    slot_give(ledger, h);
    ledger_unlock(ledger);
    return TERN_OK;
}

void *tern_mem_realloc(tern_ledger_t *ledger, void *ptr, size_t size)
{
    if (ptr == NULL || size == 0u)
        return NULL;
    ledger_lock(ledger);
    pool_slot_t *h = slot_of(ledger, ptr);
    if (h == NULL) {
        ledger_unlock(ledger);
        ledger_complain(ledger, "ledger: realloc of a pointer that is not a live block");
        return NULL;
    }
    tern_pool_t *p = &ledger->pools[h->pool];
    unsigned cat = p->cat, owner = h->owner;
    size_t old = h->size;
    if (ledger_attempt_fails(ledger)) {
        ledger->cat[cat].failures++;
        ledger_unlock(ledger);
        return NULL;
    }
    void *out = ptr;
    tern_pool_t *to = p;
    if (size > p->def->size) {
        /* Another slot of the category that holds it; the old one is kept
         * on failure, as a heap realloc keeps its block. */
        to = pool_pick(ledger, cat, size);
        if (to == NULL) {
            ledger->cat[cat].failures++;
            ledger_unlock(ledger);
            return NULL;
        }
        out = slot_take(ledger, to, size, owner);
        memcpy(out, ptr, old);
        slot_give(ledger, h);
    } else {
        h->size = (uint32_t)size;
    }
    ledger_sub(ledger, cat, owner, old, p->stride - old);
    ledger_add(ledger, cat, owner, size, to->stride - size);
    ledger_unlock(ledger);
    return out;
}

int tern_mem_set_owner(tern_ledger_t *ledger, void *ptr, unsigned owner)
{
    if (owner > TERN_OWNER_MAX)
        owner = TERN_OWNER_MAX;
    ledger_lock(ledger);
    pool_slot_t *h = slot_of(ledger, ptr);
    if (h == NULL) {
        ledger_unlock(ledger);
        return TERN_ERR_INVAL;
    }
    ledger->owner_bytes[owner_slot(h->owner)] -= h->size;
    ledger->owner_bytes[owner_slot(owner)] += h->size;
    h->owner = (uint16_t)owner;
    ledger_unlock(ledger);
    return TERN_OK;
}

size_t tern_mem_size(const tern_ledger_t *ledger, const void *ptr)
{
    const pool_slot_t *h = slot_of(ledger, ptr);
    return h != NULL ? h->size : 0u;
}

void tern_ledger_heap_stats(const tern_ledger_t *ledger, tern_heap_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->total = ledger->pool_bytes;
    out->used = ledger->pool_used;
    out->free = ledger->pool_bytes - ledger->pool_used;
    out->min_free = ledger->pool_min_free;
    for (unsigned i = 0; i < ledger->pool_count; i++) {
        const tern_pool_t *p = &ledger->pools[i];
        size_t free_slots = p->def->count - p->used;
        out->free_blocks += free_slots;
        out->used_blocks += p->used;
        if (free_slots != 0u && p->def->size > out->largest_alloc) {
            out->largest_alloc = p->def->size;
            out->largest_free_block = p->stride;
        }
    }
    for (unsigned i = 0; i < TERN_MEM_CATEGORY_COUNT; i++) {
        out->allocs += ledger->cat[i].allocs;
        out->frees += ledger->cat[i].frees;
        out->failures += ledger->cat[i].failures;
    }
}

/* Rebuild the books from the slot headers and compare. */
int tern_ledger_verify(const tern_ledger_t *ledger)
{
    size_t bytes[TERN_MEM_CATEGORY_COUNT] = {0};
    uint32_t blocks[TERN_MEM_CATEGORY_COUNT] = {0};
    size_t owners[TERN_LEDGER_OWNERS + 1] = {0};
    size_t overhead = 0, used = 0;
    int bad = 0;
    ledger_lock(ledger);
    for (unsigned i = 0; i < ledger->pool_count && !bad; i++) {
        const tern_pool_t *p = &ledger->pools[i];
        uint32_t live = 0;
        for (uint32_t k = 0; k < p->def->count; k++) {
            const pool_slot_t *h = (const pool_slot_t *)(const void *)(p->base + (size_t)k * p->stride);
            if (h->live != SLOT_LIVE)
                continue;
            if (h->pool != i || h->size > p->def->size || p->cat >= TERN_MEM_CATEGORY_COUNT) {
                bad = 1;
                break;
            }
            live++;
            bytes[p->cat] += h->size;
            blocks[p->cat]++;
            owners[owner_slot(h->owner)] += h->size;
            overhead += p->stride - h->size;
            used += p->stride;
        }
        if (live != p->used)
            bad = 1;
    }
    ledger_unlock(ledger);
    for (unsigned i = 0; i < TERN_MEM_CATEGORY_COUNT && !bad; i++)
        bad = bytes[i] != ledger->cat[i].bytes || blocks[i] != ledger->cat[i].blocks;
    for (unsigned i = 0; i <= TERN_LEDGER_OWNERS && !bad; i++)
        bad = owners[i] != ledger->owner_bytes[i];
    if (bad || overhead != ledger->overhead || used != ledger->pool_used) {
        ledger_complain(ledger, "ledger: the books differ from the pools' slots");
        return TERN_ERR_CORRUPT;
    }
    return TERN_OK;
}

#else /* !TERN_STATIC_ONLY */

void tern_ledger_heap_stats(const tern_ledger_t *ledger, tern_heap_stats_t *out)
{
    tern_heap_get_stats(ledger->heap, out);
}

#endif /* TERN_STATIC_ONLY */

/* Either backend: zeroed memory is tern_mem_alloc plus a memset. */
void *tern_mem_zalloc(tern_ledger_t *ledger, size_t size, tern_mem_category_t cat, unsigned owner)
{
    void *p = tern_mem_alloc(ledger, size, cat, owner);
    if (p)
        memset(p, 0, size);
    return p;
}

void tern_ledger_note_static(tern_ledger_t *ledger, tern_mem_category_t cat, size_t bytes)
{
    if ((unsigned)cat < TERN_MEM_CATEGORY_COUNT)
        ledger->cat[cat].static_bytes += bytes;
}

const tern_ledger_category_stats_t *tern_ledger_category(const tern_ledger_t *ledger, tern_mem_category_t cat)
{
    if ((unsigned)cat >= TERN_MEM_CATEGORY_COUNT)
        return NULL;
    return &ledger->cat[cat];
}

size_t tern_ledger_owner_bytes(const tern_ledger_t *ledger, unsigned owner)
{
    if (owner > TERN_OWNER_MAX)
        owner = TERN_OWNER_MAX;
    return ledger->owner_bytes[owner_slot(owner)];
}

size_t tern_ledger_overhead(const tern_ledger_t *ledger)
{
    return ledger->overhead;
}

size_t tern_ledger_total_bytes(const tern_ledger_t *ledger)
{
    size_t sum = 0;
    for (unsigned i = 0; i < TERN_MEM_CATEGORY_COUNT; i++)
        sum += ledger->cat[i].bytes;
    return sum;
}

const char *tern_mem_category_name(tern_mem_category_t cat)
{
    /* Registered slots, unnamed: APP1.. (at most 32 of them). */
    static const char app_slot_names[] = "APP1\0APP2\0APP3\0APP4\0APP5\0APP6\0APP7\0APP8\0APP9\0"
                                         "APP10\0APP11\0APP12\0APP13\0APP14\0APP15\0APP16\0APP17\0APP18\0APP19\0"
                                         "APP20\0APP21\0APP22\0APP23\0APP24\0APP25\0APP26\0APP27\0APP28\0APP29\0"
                                         "APP30\0APP31\0APP32";
    if ((unsigned)cat >= TERN_MEM_CATEGORY_COUNT)
        return "UNKNOWN";
    if ((unsigned)cat < TERN_MEM_APP_FIRST)
        return category_names[cat];
    const char *n = app_slot_names;
    for (unsigned i = TERN_MEM_APP_FIRST; i < (unsigned)cat; i++)
        n += strlen(n) + 1u;
    return n;
}

const char *tern_ledger_category_label(const tern_ledger_t *ledger, tern_mem_category_t cat)
{
#if TERN_LEDGER_APP_CATEGORIES > 0
    if ((unsigned)cat >= TERN_MEM_APP_FIRST && (unsigned)cat < TERN_MEM_CATEGORY_COUNT &&
        ledger->app_names[(unsigned)cat - TERN_MEM_APP_FIRST] != NULL)
        return ledger->app_names[(unsigned)cat - TERN_MEM_APP_FIRST];
#else
    (void)ledger;
#endif
    return tern_mem_category_name(cat);
}

/* The registered slot named name, or the first free one (free: 1). */
static int ledger_slot(const tern_ledger_t *ledger, const char *name, int free)
{
#if TERN_LEDGER_APP_CATEGORIES > 0
    for (unsigned i = 0; i < TERN_LEDGER_APP_CATEGORIES; i++) {
        const char *n = ledger->app_names[i];
        if (free ? n == NULL : (n != NULL && strcmp(n, name) == 0))
            return (int)(TERN_MEM_APP_FIRST + i);
    }
#else
    (void)ledger;
    (void)name;
    (void)free;
#endif
    return -1;
}

int tern_ledger_find_category(const tern_ledger_t *ledger, const char *name)
{
    if (ledger == NULL || name == NULL)
        return TERN_ERR_NOTFOUND;
    ledger_lock(ledger);
    int cat = ledger_slot(ledger, name, 0);
    ledger_unlock(ledger);
    return cat >= 0 ? cat : TERN_ERR_NOTFOUND;
}

int tern_ledger_register_category(tern_ledger_t *ledger, const char *name)
{
    if (ledger == NULL || name == NULL)
        return TERN_ERR_INVAL;
    /* Under the memory lock: threads allocate and report concurrently. */
    ledger_lock(ledger);
    int cat = ledger_slot(ledger, name, 0);
    if (cat < 0) {
        cat = ledger_slot(ledger, name, 1);
#if TERN_LEDGER_APP_CATEGORIES > 0
        if (cat >= 0)
            ledger->app_names[(unsigned)cat - TERN_MEM_APP_FIRST] = name;
#endif
#if TERN_STATIC_ONLY
        /* The pools stated under this name serve it from now on. */
        pools_resolve(ledger);
#endif
    }
    ledger_unlock(ledger);
    return cat >= 0 ? cat : TERN_ERR_NOMEM;
}

#if !TERN_STATIC_ONLY
/* Books rebuilt from the heap's block tags. */
typedef struct ledger_rebuild {
    size_t bytes[TERN_MEM_CATEGORY_COUNT];
    uint32_t blocks[TERN_MEM_CATEGORY_COUNT];
    size_t owner_bytes[TERN_LEDGER_OWNERS + 1];
    size_t overhead;
    int bad;
} ledger_rebuild_t;

static int ledger_rebuild_block(void *ctx, void *payload, size_t gross, int used, uint32_t tag)
{
    ledger_rebuild_t *r = ctx;
    (void)payload;
    if (!used)
        return 0;
    unsigned cat = tag_cat(tag);
    size_t pad = tag_pad(tag);
    if (cat >= TERN_MEM_CATEGORY_COUNT || pad >= gross) {
        r->bad = 1;
        return 1;
    }
    r->bytes[cat] += gross - pad;
    r->blocks[cat]++;
    r->owner_bytes[owner_slot(tag_owner(tag))] += gross - pad;
    r->overhead += pad;
    return 0;
}

int tern_ledger_verify(const tern_ledger_t *ledger)
{
    ledger_rebuild_t r;
    memset(&r, 0, sizeof r);
    ledger_lock(ledger);
    int err = tern_heap_check(ledger->heap);
    if (err == TERN_OK)
        tern_heap_walk(ledger->heap, ledger_rebuild_block, &r);
    tern_heap_stats_t hs;
    tern_heap_get_stats(ledger->heap, &hs);
    ledger_unlock(ledger);
    if (err != TERN_OK || r.bad) {
        ledger_complain(ledger, "ledger: heap check failed or a block has no ledger tag");
        return TERN_ERR_CORRUPT;
    }
    size_t sum = 0;
    for (unsigned i = 0; i < TERN_MEM_CATEGORY_COUNT; i++) {
        if (r.bytes[i] != ledger->cat[i].bytes || r.blocks[i] != ledger->cat[i].blocks) {
            ledger_complain(ledger, "ledger: category books differ from the heap");
            return TERN_ERR_CORRUPT;
        }
        sum += r.bytes[i];
    }
    for (unsigned i = 0; i <= TERN_LEDGER_OWNERS; i++) {
        if (r.owner_bytes[i] != ledger->owner_bytes[i]) {
            ledger_complain(ledger, "ledger: owner books differ from the heap");
            return TERN_ERR_CORRUPT;
        }
    }
    if (r.overhead != ledger->overhead || sum + r.overhead != hs.used) {
        ledger_complain(ledger, "ledger: categories + overhead differ from heap used");
        return TERN_ERR_CORRUPT;
    }
    return TERN_OK;
}

#endif /* !TERN_STATIC_ONLY */

/* The category table and the owners line; with_static adds the static
 * column (tern_stack_report_memory lists static memory itself). Called
 * with the ledger locked. */
static void ledger_table(const tern_ledger_t *ledger, size_t heap_used, int with_static, tern_writer_fn write,
                         void *ctx)
{
    fmt_str(write, ctx, "category            bytes     peak  blocks  allocs   frees   fails");
    fmt_str(write, ctx, with_static ? "   static\n" : "\n");
    size_t total = 0;
    for (unsigned i = 0; i < TERN_MEM_CATEGORY_COUNT; i++) {
        const tern_ledger_category_stats_t *c = &ledger->cat[i];
        total += c->bytes;
        fmt_str_pad(write, ctx, tern_ledger_category_label(ledger, (tern_mem_category_t)i), 16);
        fmt_uint(write, ctx, c->bytes, 9);
        fmt_uint(write, ctx, c->peak_bytes, 9);
        fmt_uint(write, ctx, c->blocks, 8);
        fmt_uint(write, ctx, c->allocs, 8);
        fmt_uint(write, ctx, c->frees, 8);
        fmt_uint(write, ctx, c->failures, 8);
        if (with_static)
            fmt_uint(write, ctx, c->static_bytes, 9);
        fmt_str(write, ctx, "\n");
    }
    fmt_str_pad(write, ctx, TERN_STATIC_ONLY ? "(slot overhead)" : "(heap overhead)", 16);
    fmt_uint(write, ctx, ledger->overhead, 9);
    fmt_str(write, ctx, "\n");
    fmt_str_pad(write, ctx, "total", 16);
    fmt_uint(write, ctx, total + ledger->overhead, 9);
    fmt_str(write, ctx,
            total + ledger->overhead == heap_used ? (TERN_STATIC_ONLY ? "  = pools used\n" : "  = heap used\n")
                                                  : (TERN_STATIC_ONLY ? "  != pools used (BUG)\n" : "  != heap used (BUG)\n"));
#if TERN_STATIC_ONLY
    /* The pools behind the categories: slots of each size, in use, peak. */
    fmt_str(write, ctx, "pool of            slot   slots    used    peak\n");
    for (unsigned i = 0; i < ledger->pool_count; i++) {
        const tern_pool_t *p = &ledger->pools[i];
        fmt_str_pad(write, ctx,
                    p->cat < TERN_MEM_CATEGORY_COUNT ? tern_ledger_category_label(ledger, (tern_mem_category_t)p->cat)
                                                     : p->def->app,
                    16);
        fmt_uint(write, ctx, p->def->size, 7);
        fmt_uint(write, ctx, p->def->count, 8);
        fmt_uint(write, ctx, p->used, 8);
        fmt_uint(write, ctx, p->peak, 8);
        fmt_str(write, ctx, "\n");
    }
#endif
    int any = 0;
    for (unsigned i = 1; i <= TERN_LEDGER_OWNERS; i++) {
        if (ledger->owner_bytes[i] == 0u)
            continue;
        fmt_str(write, ctx, any ? ", " : "owners: ");
        if (i == TERN_LEDGER_OWNERS) {
            fmt_str(write, ctx, "other ");
        } else {
            fmt_str(write, ctx, "socket ");
            fmt_uint(write, ctx, i, 0);
            fmt_str(write, ctx, " ");
        }
        fmt_uint(write, ctx, ledger->owner_bytes[i], 0);
        any = 1;
    }
    if (any)
        fmt_str(write, ctx, "\n");
}

void tern_ledger_report_text(const tern_ledger_t *ledger, tern_writer_fn write, void *ctx)
{
    tern_heap_stats_t hs;
    ledger_lock(ledger);
    tern_ledger_heap_stats(ledger, &hs);
    fmt_str(write, ctx, TERN_STATIC_ONLY ? "pools: total " : "heap: total ");
    fmt_uint(write, ctx, hs.total, 0);
    fmt_str(write, ctx, ", used ");
    fmt_uint(write, ctx, hs.used, 0);
    fmt_str(write, ctx, ", free ");
    fmt_uint(write, ctx, hs.free, 0);
    fmt_str(write, ctx, ", min ever free ");
    fmt_uint(write, ctx, hs.min_free, 0);
    fmt_str(write, ctx, ", largest free block ");
    fmt_uint(write, ctx, hs.largest_free_block, 0);
    fmt_str(write, ctx, " (");
    fmt_uint(write, ctx, hs.free_blocks, 0);
    fmt_str(write, ctx, TERN_STATIC_ONLY ? " free slots)\n" : " free blocks)\n");
    ledger_table(ledger, hs.used, 1, write, ctx);
    ledger_unlock(ledger);
}

void tern_ledger_report_table(const tern_ledger_t *ledger, tern_writer_fn write, void *ctx)
{
    tern_heap_stats_t hs;
    ledger_lock(ledger);
    tern_ledger_heap_stats(ledger, &hs);
    ledger_table(ledger, hs.used, 0, write, ctx);
    ledger_unlock(ledger);
}

void tern_heap_stats_report_json(const tern_heap_stats_t *hs, tern_writer_fn write, void *ctx)
{
    fmt_str(write, ctx, "{");
    fmt_json_uint(write, ctx, "total", hs->total, 1);
    fmt_json_uint(write, ctx, "used", hs->used, 0);
    fmt_json_uint(write, ctx, "free", hs->free, 0);
    fmt_json_uint(write, ctx, "min_free", hs->min_free, 0);
    fmt_json_uint(write, ctx, "largest_free_block", hs->largest_free_block, 0);
    fmt_json_uint(write, ctx, "largest_alloc", hs->largest_alloc, 0);
    fmt_json_uint(write, ctx, "free_blocks", hs->free_blocks, 0);
    fmt_json_uint(write, ctx, "used_blocks", hs->used_blocks, 0);
    fmt_json_uint(write, ctx, "allocs", hs->allocs, 0);
    fmt_json_uint(write, ctx, "frees", hs->frees, 0);
    fmt_json_uint(write, ctx, "failures", hs->failures, 0);
    fmt_json_uint(write, ctx, "bad_frees", hs->bad_frees, 0);
    fmt_str(write, ctx, "}");
}

void tern_ledger_report_json(const tern_ledger_t *ledger, tern_writer_fn write, void *ctx)
{
    tern_heap_stats_t hs;
    ledger_lock(ledger);
    tern_ledger_heap_stats(ledger, &hs);
    fmt_str(write, ctx, "{\"heap\":");
    tern_heap_stats_report_json(&hs, write, ctx);
    fmt_str(write, ctx, ",");
    fmt_json_uint(write, ctx, "overhead", ledger->overhead, 1);
    fmt_str(write, ctx, ",\"categories\":[");
    for (unsigned i = 0; i < TERN_MEM_CATEGORY_COUNT; i++) {
        const tern_ledger_category_stats_t *c = &ledger->cat[i];
        fmt_str(write, ctx, i ? ",{\"name\":\"" : "{\"name\":\"");
        fmt_str(write, ctx, tern_ledger_category_label(ledger, (tern_mem_category_t)i));
        fmt_str(write, ctx, "\"");
        fmt_json_uint(write, ctx, "bytes", c->bytes, 0);
        fmt_json_uint(write, ctx, "peak", c->peak_bytes, 0);
        fmt_json_uint(write, ctx, "blocks", c->blocks, 0);
        fmt_json_uint(write, ctx, "allocs", c->allocs, 0);
        fmt_json_uint(write, ctx, "frees", c->frees, 0);
        fmt_json_uint(write, ctx, "failures", c->failures, 0);
        fmt_json_uint(write, ctx, "static", c->static_bytes, 0);
        fmt_str(write, ctx, "}");
    }
    fmt_str(write, ctx, "],\"owners\":[");
    int first = 1;
    for (unsigned i = 0; i <= TERN_LEDGER_OWNERS; i++) {
        if (ledger->owner_bytes[i] == 0u)
            continue;
        fmt_str(write, ctx, first ? "{" : ",{");
        if (i == TERN_LEDGER_OWNERS)
            fmt_str(write, ctx, "\"owner\":\"other\"");
        else
            fmt_json_uint(write, ctx, "owner", i, 1);
        fmt_json_uint(write, ctx, "bytes", ledger->owner_bytes[i], 0);
        fmt_str(write, ctx, "}");
        first = 0;
    }
    fmt_str(write, ctx, "]");
#if TERN_STATIC_ONLY
    /* The pools behind the categories, compact (every /api/stats document
     * carries them): [category, slot size, slots, in use, peak]. */
    fmt_str(write, ctx, ",\"pools\":[");
    for (unsigned i = 0; i < ledger->pool_count; i++) {
        const tern_pool_t *p = &ledger->pools[i];
        char app[sizeof p->def->app + 1u];
        memcpy(app, p->def->app, sizeof p->def->app);
        app[sizeof p->def->app] = '\0';
        fmt_str(write, ctx, i ? ",[\"" : "[\"");
        fmt_str(write, ctx,
                p->cat < TERN_MEM_CATEGORY_COUNT ? tern_ledger_category_label(ledger, (tern_mem_category_t)p->cat) : app);
        fmt_str(write, ctx, "\",");
        fmt_uint(write, ctx, p->def->size, 0);
        fmt_str(write, ctx, ",");
        fmt_uint(write, ctx, p->def->count, 0);
        fmt_str(write, ctx, ",");
        fmt_uint(write, ctx, p->used, 0);
        fmt_str(write, ctx, ",");
        fmt_uint(write, ctx, p->peak, 0);
        fmt_str(write, ctx, "]");
    }
    fmt_str(write, ctx, "]");
#endif
    fmt_str(write, ctx, "}");
    ledger_unlock(ledger);
}

#if TERN_FAULT_INJECTION
void tern_ledger_fail_nth(tern_ledger_t *ledger, uint32_t nth, int every)
{
    ledger->fail_at = nth == 0u ? 0u : ledger->attempts + nth;
    ledger->fail_every = every ? 1u : 0u;
}
#endif

uint32_t tern_ledger_attempts(const tern_ledger_t *ledger)
{
    return ledger->attempts;
}
