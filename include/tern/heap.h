/* tern_heap: the stack's one source of dynamic memory.
 *
 * Two-ended first fit over an address-ordered free list (blocks below
 * TERN_HEAP_LARGE_BLOCK from the bottom, larger ones from the top), immediate
 * coalescing with both neighbours, 8-byte aligned payloads, an 8-byte block header on every target.
 * Spans up to TERN_HEAP_MAX_REGIONS arenas the application provides.
 *
 * Block layout (sizes in bytes, all blocks a multiple of 8):
 *   header  u32 size_flags  gross block size | USED (bit 0) | PREV_FREE (bit 1)
 *           u32 tag_check   24-bit owner tag << 8 | 8-bit check of header+address
 *   payload ...             (free blocks: next/prev free pointers, and the
 *                            block size repeated in the last 4 bytes as a footer)
 * Each region ends with an 8-byte end marker (a used block of size 0).
 *
 * Costs: an allocation of n bytes takes round_up(n + 8, 8) bytes, at least
 * TERN_HEAP_MIN_BLOCK (24 on 32-bit targets, 32 on 64-bit hosts).
 * Time: alloc walks the free list once (O(F), F = free blocks; a large
 * block walks all of it); free is O(1)
 * when a neighbour is free and O(F) otherwise (address-ordered insert);
 * realloc is O(1) in place (O(F) when a shrink leaves a free tail with no
 * free neighbour to join), O(F) + copy when it moves; stats is O(F).
 * Adding a region raises min_free by its size; walks do not report the end
 * markers, and report free blocks with tag 0xFFFFFF.
 *
 * Not thread-safe by itself: the ledger serializes every call through the
 * port's mem_lock. Direct users outside the ledger must do the same. */
#ifndef TERN_HEAP_H
#define TERN_HEAP_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/port.h"

#define TERN_HEAP_ALIGN 8u
#define TERN_HEAP_HEADER 8u
#define TERN_HEAP_MIN_BLOCK \
    ((TERN_HEAP_HEADER + 2u * sizeof(void *) + 4u + TERN_HEAP_ALIGN - 1u) & ~(size_t)(TERN_HEAP_ALIGN - 1u))
/* Blocks of at least this many bytes (gross) are placed from the top of the
 * arena (the highest free block that fits, its upper end), smaller ones
 * from the bottom (first fit): small long-lived blocks then never sit
 * between the large ones, which bounds fragmentation far tighter
 * (docs/memory.md, "The fragmentation bound"). 0: every block from the
 * bottom (plain first fit). */
#ifndef TERN_HEAP_LARGE_BLOCK
#define TERN_HEAP_LARGE_BLOCK 1024u
#endif
/* Largest tag a used block can carry (0xFFFFFF marks free blocks). */
#define TERN_HEAP_TAG_MAX 0xFFFFFEu

typedef struct tern_heap_free_block tern_heap_free_block_t;

typedef struct tern_heap_stats {
    size_t total;              /* bytes managed: regions less alignment and end markers */
    size_t used;               /* total - free: gross bytes of used blocks, headers included */
    size_t free;               /* bytes in free blocks, their headers included */
    size_t min_free;           /* lowest value free has ever had */
    size_t largest_free_block; /* gross size of the largest free block */
    size_t largest_alloc;      /* largest size tern_heap_alloc can satisfy now */
    size_t free_blocks;        /* number of free blocks */
    size_t used_blocks;        /* number of live allocations */
    uint32_t allocs;           /* successful allocations (realloc that moves counts one) */
    uint32_t frees;            /* successful frees */
    uint32_t failures;         /* allocations that found no block */
    uint32_t bad_frees;        /* frees/reallocs of pointers that are not live blocks */
} tern_heap_stats_t;

typedef struct tern_heap {
    tern_heap_free_block_t *free_head; /* lowest address first */
    struct {
        uint8_t *start; /* first block header */
        uint8_t *end;   /* the end marker's header */
    } regions[TERN_HEAP_MAX_REGIONS];
    unsigned region_count;
    size_t total;
    size_t free;
    size_t min_free;
    size_t free_blocks;
    size_t used_blocks;
    uint32_t allocs;
    uint32_t frees;
    uint32_t failures;
    uint32_t bad_frees;
    const tern_port_t *port; /* for log and assert hooks; may be NULL */
} tern_heap_t;

/* Start an empty heap. port may be NULL. */
void tern_heap_init(tern_heap_t *heap, const tern_port_t *port);

/* Add an arena. It is aligned inward to 8 bytes; it must not overlap another.
 * Returns TERN_OK, TERN_ERR_INVAL (too small, overlapping, too large for 32-bit
 * sizes) or TERN_ERR_NOMEM (no region slot left). */
int tern_heap_add_region(tern_heap_t *heap, void *mem, size_t size);

/* Allocate size bytes (8-aligned) carrying tag (0..TERN_HEAP_TAG_MAX).
 * NULL when size is 0 (not counted) or no block fits (counted in failures). */
void *tern_heap_alloc(tern_heap_t *heap, size_t size, uint32_t tag);

/* Free a block. NULL is a no-op returning TERN_OK. A pointer that is not a
 * live block (double free, foreign pointer, corrupted header) is refused with
 * TERN_ERR_CORRUPT, counted in bad_frees, logged, and the heap is untouched. */
int tern_heap_free(tern_heap_t *heap, void *ptr);

/* Resize keeping the tag and contents; in place when possible. NULL ptr
 * allocates; size 0 frees and returns NULL. On failure returns NULL and the
 * old block is unchanged. */
void *tern_heap_realloc(tern_heap_t *heap, void *ptr, size_t size);

/* Gross bytes of a live block (header and padding included); 0 if ptr is not
 * a live block. */
size_t tern_heap_block_size(const tern_heap_t *heap, const void *ptr);
/* Usable bytes of a live block; 0 if not a live block. */
size_t tern_heap_usable_size(const tern_heap_t *heap, const void *ptr);

/* Read or change a live block's tag. get returns -1 for a non-block. */
int32_t tern_heap_get_tag(const tern_heap_t *heap, const void *ptr);
int tern_heap_set_tag(tern_heap_t *heap, void *ptr, uint32_t tag);

/* Exact statistics (O(F) for the largest free block). */
void tern_heap_get_stats(const tern_heap_t *heap, tern_heap_stats_t *out);

/* Walk every block of every region, calling fn for each (payload pointer,
 * gross size, used flag, tag). Stops early and returns fn's value if it is
 * non-zero. */
typedef int (*tern_heap_walk_fn)(void *ctx, void *payload, size_t gross, int used, uint32_t tag);
int tern_heap_walk(const tern_heap_t *heap, tern_heap_walk_fn fn, void *ctx);

/* Verify every invariant: headers and check bytes, block chains reaching each
 * end marker, footers, PREV_FREE flags, no two adjacent free blocks, free list
 * in strictly increasing address order with consistent back links and made of
 * exactly the free blocks, and the byte and block counters. TERN_OK or
 * TERN_ERR_CORRUPT (logged with the reason). */
int tern_heap_check(const tern_heap_t *heap);

#endif
