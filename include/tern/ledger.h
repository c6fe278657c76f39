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
 * The interface is shaped for a later static-only build: a call names the
 * category at allocation and nothing else at free, so a backend of fixed
 * per-category pools can replace the heap without touching any caller. No
 * caller may assume a general-purpose heap (no reliance on realloc moving,
 * on adjacency, or on heap internals). */
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

typedef struct tern_ledger {
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
