/* The ledger: every allocation in tern goes through here, with a category
 * (what it is for) and an owner (which socket holds it, 0 for the stack).
 *
 * It answers "who holds which bytes" exactly: per category bytes now, peak,
 * live blocks, allocations, frees and failures; per owner bytes now; and the
 * heap's per-block overhead as its own line, so that
 *     sum over categories of bytes + overhead == heap used bytes
 * holds at every moment (tern_ledger_verify() proves it by walking the heap).
 *
 * Bookkeeping costs no memory per block: category, owner and the padding the
 * heap added are packed into the heap block's 24-bit tag.
 *
 * A call names the category at allocation and nothing else at free, so the
 * static-only build (TERN_STATIC_ONLY) replaces the heap with fixed
 * per-category pools without touching any caller: there, a slot header
 * holds what the tag holds. No caller may assume a general-purpose heap (no
 * reliance on realloc moving, on adjacency, or on heap internals). */
#ifndef TERN_LEDGER_H
#define TERN_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/heap.h"
#include "tern/port.h"

/* What memory is for. Each part of the stack has its own; applications
 * (apps/, or the user's) register theirs by name at run time in the
 * TERN_LEDGER_APP_CATEGORIES slots after TERN_MEM_APP_FIRST, so the core
 * names none of them. */
typedef enum tern_mem_category {
    TERN_MEM_STACK_INIT = 0,   /* allocated once at stack init, held for its life */
    TERN_MEM_NETWORK_BUFFER,   /* packet storage (HEAP scheme) */
    TERN_MEM_SOCKET,           /* socket and connection structures */
    TERN_MEM_TCP_STREAM_RX,    /* TCP receive stream buffers */
    TERN_MEM_TCP_STREAM_TX,    /* TCP send stream buffers */
    TERN_MEM_TCP_RANGES,       /* TCP range descriptors: out-of-order and SACKed ranges */
    TERN_MEM_ARP_CACHE,        /* ARP cache entries */
    TERN_MEM_IP_REASSEMBLY,    /* IPv4 fragment reassembly buffers */
    TERN_MEM_APPLICATION,      /* the application's own use of tern_mem_alloc */
    TERN_MEM_APP_FIRST,        /* first registered category (tern_ledger_register_category) */
    TERN_MEM_CATEGORY_COUNT = TERN_MEM_APP_FIRST + TERN_LEDGER_APP_CATEGORIES
} tern_mem_category_t;

/* Owner 0 is the stack itself; sockets are 1..; ids at or above
 * TERN_LEDGER_OWNERS share the last slot ("other"). At most 1023. */
#define TERN_OWNER_STACK 0u
#define TERN_OWNER_MAX 1023u

typedef struct tern_ledger_category_stats {
    size_t bytes;        /* requested bytes now held */
    size_t peak_bytes;   /* highest value bytes has had */
    size_t static_bytes; /* memory reserved at build time for this category (not heap) */
    uint32_t blocks;     /* live allocations */
    uint32_t allocs;     /* successful allocations */
    uint32_t frees;      /* frees */
    uint32_t failures;   /* allocations refused (heap full or injected) */
} tern_ledger_category_stats_t;

/* ---- static-only pools (TERN_STATIC_ONLY 1) ------------------------------ */

/* One pool: count slots of size bytes for a category, stated where the
 * allocation is made with TERN_STATIC_POOL and collected by the linker in
 * the "tern_pools" section (32 bytes each). A registered application
 * category names its pools by its registered name (TERN_STATIC_POOL_APP). */
typedef struct tern_pool_def {
    char app[16];   /* registered category's name; "" for a built-in category */
    uint32_t cat;   /* built-in category (TERN_MEM_CATEGORY_COUNT when app names it) */
    uint32_t size;  /* the largest request a slot holds */
    uint32_t count; /* slots */
    uint32_t spare;
} tern_pool_def_t;

#if TERN_STATIC_ONLY && defined(__GNUC__)
#define TERN_POOL_CAT_(a, b) a##b
#define TERN_POOL_CAT(a, b) TERN_POOL_CAT_(a, b)
#define TERN_STATIC_POOL_DEF_(name, app, cat, size, count)                                                     \
    __attribute__((used, section("tern_pools"), aligned(4))) static const tern_pool_def_t TERN_POOL_CAT(        \
        tern_pool_, name) = {app, (uint32_t)(cat), (uint32_t)(size), (uint32_t)(count), 0u}
/* A pool of count slots of size bytes for the built-in category cat. */
#define TERN_STATIC_POOL(name, cat, size, count) TERN_STATIC_POOL_DEF_(name, "", cat, size, count)
/* The same for the application category registered as app ("HTTP"). */
#define TERN_STATIC_POOL_APP(name, app, size, count) \
    TERN_STATIC_POOL_DEF_(name, app, TERN_MEM_CATEGORY_COUNT, size, count)
#else
#define TERN_STATIC_POOL(name, cat, size, count) _Static_assert(1, #name)
#define TERN_STATIC_POOL_APP(name, app, size, count) _Static_assert(1, #name)
#endif

/* A pool's state: its slots in the arena and their use. */
typedef struct tern_pool {
    const tern_pool_def_t *def;
    uint8_t *base;   /* first slot */
    void *free;      /* free slots, linked through their first word */
    uint32_t stride; /* slot header (8) + size rounded up to 8 */
    uint32_t used;   /* slots in use now */
    uint32_t peak;   /* most slots ever in use */
    uint32_t cat;    /* the category it serves; TERN_MEM_CATEGORY_COUNT: an app name not registered yet */
} tern_pool_t;

typedef struct tern_ledger {
#if TERN_STATIC_ONLY
    tern_pool_t pools[TERN_STATIC_POOLS_MAX];
    unsigned pool_count;
    size_t pool_bytes;    /* arena bytes the pools take (slots and headers) */
    size_t arena_bytes;   /* the arena they were carved from */
    size_t pool_used;     /* bytes of slots in use (header + slot) */
    size_t pool_min_free; /* lowest value pool_bytes - pool_used has had */
#endif
    tern_heap_t *heap;
    const tern_port_t *port;
    tern_ledger_category_stats_t cat[TERN_MEM_CATEGORY_COUNT];
#if TERN_LEDGER_APP_CATEGORIES > 0
    const char *app_names[TERN_LEDGER_APP_CATEGORIES]; /* registered names; NULL: free slot */
#endif
    size_t owner_bytes[TERN_LEDGER_OWNERS + 1]; /* last slot: owners >= TERN_LEDGER_OWNERS */
    size_t overhead;     /* header and padding bytes of live blocks */
    uint32_t attempts;   /* allocation attempts since init (for failure sweeps) */
#if TERN_FAULT_INJECTION
    uint32_t fail_at;    /* attempt number that fails; 0: none */
    uint32_t fail_every; /* 1: every attempt from fail_at on fails */
#endif
} tern_ledger_t;

void tern_ledger_init(tern_ledger_t *ledger, tern_heap_t *heap, const tern_port_t *port);
#if TERN_STATIC_ONLY
/* Carve every pool of the image (the "tern_pools" section) out of arena:
 * TERN_OK, or TERN_ERR_NOMEM when they need more than size bytes (logged
 * with the figure) or more than TERN_STATIC_POOLS_MAX pools. */
int tern_ledger_pools_init(tern_ledger_t *ledger, void *arena, size_t size);
/* The arena bytes the image's pools need (slots and slot headers). */
size_t tern_ledger_pool_bytes(void);
/* Pool i's state (NULL past the last). */
const tern_pool_t *tern_ledger_pool(const tern_ledger_t *ledger, unsigned i);
/* No tern_heap_ symbol in a static-only image: the same function under its
 * pool name. */
#define tern_heap_stats_report_json tern_pool_stats_report_json
#endif
/* The memory's figures as the heap's statistics: the heap's, or with
 * TERN_STATIC_ONLY the pools' (total: their arena bytes; used: slots in
 * use; largest_alloc: the largest free slot). The caller holds the memory
 * lock as for the heap. */
void tern_ledger_heap_stats(const tern_ledger_t *ledger, tern_heap_stats_t *out);

/* Allocate size bytes (8-aligned) for cat, held by owner. NULL on failure
 * (counted in the category's failures). */
void *tern_mem_alloc(tern_ledger_t *ledger, size_t size, tern_mem_category_t cat, unsigned owner);
/* The same, zero-filled. */
void *tern_mem_zalloc(tern_ledger_t *ledger, size_t size, tern_mem_category_t cat, unsigned owner);
/* Free; NULL is a no-op. A pointer that is not a live block is refused
 * (TERN_ERR_CORRUPT) and the books are untouched. */
int tern_mem_free(tern_ledger_t *ledger, void *ptr);
/* Resize keeping category and owner; NULL on failure with the old block
 * unchanged. NULL ptr allocates nothing: use tern_mem_alloc. */
void *tern_mem_realloc(tern_ledger_t *ledger, void *ptr, size_t size);
/* Move a live block to another owner (a datagram queued on a socket). */
int tern_mem_set_owner(tern_ledger_t *ledger, void *ptr, unsigned owner);
/* Requested size of a live block (0 if not a block). */
size_t tern_mem_size(const tern_ledger_t *ledger, const void *ptr);

/* Record memory reserved statically for a category (shown, not summed into
 * the heap). Called by init code, e.g. STATIC network-buffer storage. */
void tern_ledger_note_static(tern_ledger_t *ledger, tern_mem_category_t cat, size_t bytes);

const tern_ledger_category_stats_t *tern_ledger_category(const tern_ledger_t *ledger, tern_mem_category_t cat);
size_t tern_ledger_owner_bytes(const tern_ledger_t *ledger, unsigned owner);
size_t tern_ledger_overhead(const tern_ledger_t *ledger);
/* Sum of bytes over categories (requested, overhead excluded). */
size_t tern_ledger_total_bytes(const tern_ledger_t *ledger);
/* The name of a built-in category ("ARP_CACHE"); registered slots are
 * "APP1".. here: tern_ledger_category_label gives their registered name. */
const char *tern_mem_category_name(tern_mem_category_t cat);
/* The name reports show: the registered name of an application's category,
 * else tern_mem_category_name. */
const char *tern_ledger_category_label(const tern_ledger_t *ledger, tern_mem_category_t cat);
/* An application's category, by name (a string that outlives the stack,
 * upper case by convention): the one already registered under that name,
 * else the first free slot, named from now on until the stack ends. Returns
 * the category, or TERN_ERR_NOMEM when all TERN_LEDGER_APP_CATEGORIES slots
 * carry other names. */
int tern_ledger_register_category(tern_ledger_t *ledger, const char *name);
/* The category registered under name, or TERN_ERR_NOTFOUND. */
int tern_ledger_find_category(const tern_ledger_t *ledger, const char *name);

/* Walk the heap, rebuild every per-category and per-owner figure from the
 * block tags, compare with the books, and check categories + overhead equal
 * heap used. TERN_OK or TERN_ERR_CORRUPT. */
int tern_ledger_verify(const tern_ledger_t *ledger);

/* Human-readable table and a JSON object, through a writer. */
void tern_ledger_report_text(const tern_ledger_t *ledger, tern_writer_fn write, void *ctx);
void tern_ledger_report_json(const tern_ledger_t *ledger, tern_writer_fn write, void *ctx);
/* The text report's category table and owners alone: no heap line and no
 * static column (tern_stack_report_memory prints those once itself). */
void tern_ledger_report_table(const tern_ledger_t *ledger, tern_writer_fn write, void *ctx);
/* A heap's statistics as one JSON object (the ledger report and /api/stats
 * both use it). */
void tern_heap_stats_report_json(const tern_heap_stats_t *hs, tern_writer_fn write, void *ctx);

#if TERN_FAULT_INJECTION
/* Make the nth allocation attempt from now fail (1 = the next one); 0 turns
 * injection off. With every != 0, that one and all later attempts fail. */
void tern_ledger_fail_nth(tern_ledger_t *ledger, uint32_t nth, int every);
#endif
/* Allocation attempts since init: run a scenario once, read this, then fail
 * each attempt in turn. */
uint32_t tern_ledger_attempts(const tern_ledger_t *ledger);

#endif
