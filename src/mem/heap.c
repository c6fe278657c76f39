/* tern_heap: two-ended first fit over an address-ordered free list with
 * immediate coalescing. Layout, invariants and costs: include/tern/heap.h
 * and docs/heap.md.
 *
 * Placement invariant (the planner's fragmentation bound rests on it,
 * docs/memory.md "The fragmentation bound"): a block of gross size below
 * TERN_HEAP_LARGE_BLOCK goes to the lowest free block that fits, at its
 * bottom; a larger one to the highest free block that fits, at its top. A
 * realloc grows in place only when the old and new sizes are on the same
 * side of that line, and a small block only when first fit would put the
 * grown block where it is (no free block below it fits, the one before it
 * is used); otherwise it moves (placed as a new block).
 *
 * Block fields are read and written with memcpy at 8-aligned addresses: the
 * arena may be declared as any type, and the compiler turns each copy into a
 * single load or store. */
#include "tern/heap.h"

/* A static-only build (TERN_STATIC_ONLY) links no heap code at all: the
 * ledger serves every category from its pools. */
#if !TERN_STATIC_ONLY

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tern/err.h"

/* The layout of a free block. Only offsets are used from it. */
struct tern_heap_free_block {
    uint32_t size_flags;
    uint32_t tag_check;
    tern_heap_free_block_t *next; /* next free block, higher address */
    tern_heap_free_block_t *prev; /* previous free block, lower address */
    /* ... and the block size again in the last 4 bytes (footer) */
};

#define HEAP_USED 1u
#define HEAP_PREV_FREE 2u
#define HEAP_FLAG_MASK 7u /* bit 2 is always 0 */
#define HEAP_FREE_TAG 0xFFFFFFu
#define HEAP_END_TAG 0u
#define HEAP_HDR ((uint32_t)TERN_HEAP_HEADER)
#define HEAP_MIN ((uint32_t)TERN_HEAP_MIN_BLOCK)
/* Largest region (end marker included): sizes stay 32-bit with room to add. */
#define HEAP_REGION_MAX 0x80000000u
/* Largest request that could ever fit a region. */
#define HEAP_REQUEST_MAX (HEAP_REGION_MAX - 2u * HEAP_HDR)
#define HEAP_NEXT_OFF offsetof(struct tern_heap_free_block, next)
#define HEAP_PREV_OFF offsetof(struct tern_heap_free_block, prev)

_Static_assert(sizeof(struct tern_heap_free_block) + 4u <= TERN_HEAP_MIN_BLOCK,
               "a free block must hold its header, links and footer");
_Static_assert(TERN_HEAP_MIN_BLOCK % TERN_HEAP_ALIGN == 0u, "min block must keep alignment");
_Static_assert(TERN_HEAP_HEADER % TERN_HEAP_ALIGN == 0u, "header must keep payloads aligned");
/* The ledger stores gross - requested in 8 bits. Worst case: a 1-byte
 * request (a min block) plus an unsplit remainder (min block - 8). */
_Static_assert(2u * TERN_HEAP_MIN_BLOCK - 9u < 256u, "padding must fit 8 bits");

/* ---- raw field access ---------------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);
}

static uint8_t *rdptr(const uint8_t *p)
{
    uint8_t *v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void wrptr(uint8_t *p, uint8_t *v)
{
    memcpy(p, &v, sizeof v);
}

static uint8_t *fb_hdr(tern_heap_free_block_t *b)
{
    return (uint8_t *)(void *)b;
}

static tern_heap_free_block_t *hdr_fb(uint8_t *h)
{
    return (tern_heap_free_block_t *)(void *)h;
}

/* ---- headers ------------------------------------------------------------- */

/* CRC-8 (poly 0x07) a nibble at a time: 16 bytes of table. */
static const uint8_t crc8_nibble[16] = {0x00, 0x07, 0x0E, 0x09, 0x1C, 0x1B, 0x12, 0x15,
                                        0x38, 0x3F, 0x36, 0x31, 0x24, 0x23, 0x2A, 0x2D};

static uint8_t crc8_byte(uint8_t crc, uint32_t byte)
{
    crc = (uint8_t)(crc ^ (uint8_t)byte);
    crc = (uint8_t)((uint8_t)(crc << 4) ^ crc8_nibble[crc >> 4]);
    crc = (uint8_t)((uint8_t)(crc << 4) ^ crc8_nibble[crc >> 4]);
    return crc;
}

/* The check byte: CRC-8 of (size | USED) and the tag, plus the header address
 * in 8-byte units. The CRC catches every change of up to 8 adjacent bits of
 * size or tag; the address term catches every copy of a header to another
 * place less than 2 KiB away; anything else fails with probability 255/256.
 * PREV_FREE is left out: a neighbour flips it without rewriting the header. */
static uint8_t heap_check8(uint32_t size_used, uint32_t tag, const uint8_t *h)
{
    uint8_t crc = 0;
    crc = crc8_byte(crc, size_used);
    crc = crc8_byte(crc, size_used >> 8);
    crc = crc8_byte(crc, size_used >> 16);
    crc = crc8_byte(crc, size_used >> 24);
    crc = crc8_byte(crc, tag);
    crc = crc8_byte(crc, tag >> 8);
    crc = crc8_byte(crc, tag >> 16);
    uint64_t a = (uint64_t)(uintptr_t)h >> 3;
    uint32_t fold = (uint32_t)a ^ (uint32_t)(a >> 32);
    return (uint8_t)(crc + fold);
}

static uint32_t blk_size(const uint8_t *h)
{
    return rd32(h) & ~HEAP_FLAG_MASK;
}

static bool blk_used(const uint8_t *h)
{
    return (rd32(h) & HEAP_USED) != 0u;
}

static bool blk_prev_free(const uint8_t *h)
{
    return (rd32(h) & HEAP_PREV_FREE) != 0u;
}

static uint32_t blk_tag(const uint8_t *h)
{
    return rd32(h + 4) >> 8;
}

static bool hdr_valid(const uint8_t *h)
{
    uint32_t sf = rd32(h);
    uint32_t tc = rd32(h + 4);
    if ((sf & 4u) != 0u)
        return false;
    return heap_check8(sf & ~HEAP_PREV_FREE, tc >> 8, h) == (uint8_t)tc;
}

static void hdr_write(uint8_t *h, uint32_t size, uint32_t flags, uint32_t tag)
{
    uint32_t sf = size | flags;
    wr32(h, sf);
    wr32(h + 4, (tag << 8) | heap_check8(sf & ~HEAP_PREV_FREE, tag, h));
}

/* A header that became part of a larger block: wipe it so a stale pointer to
 * it can never pass as a live block. */
static void hdr_wipe(uint8_t *h)
{
    wr32(h, 0u);
    wr32(h + 4, 0u);
}

static void hdr_set_prev_free(uint8_t *h, bool on)
{
    uint32_t sf = rd32(h);
    wr32(h, on ? (sf | HEAP_PREV_FREE) : (sf & ~HEAP_PREV_FREE));
}

static void free_write(uint8_t *h, uint32_t size)
{
    hdr_write(h, size, 0u, HEAP_FREE_TAG);
    wr32(h + size - 4u, size);
}

static uint8_t *link_next(const uint8_t *h)
{
    return rdptr(h + HEAP_NEXT_OFF);
}

static uint8_t *link_prev(const uint8_t *h)
{
    return rdptr(h + HEAP_PREV_OFF);
}

static void set_next(uint8_t *h, uint8_t *v)
{
    wrptr(h + HEAP_NEXT_OFF, v);
}

static void set_prev(uint8_t *h, uint8_t *v)
{
    wrptr(h + HEAP_PREV_OFF, v);
}

/* ---- reporting ----------------------------------------------------------- */

static size_t msg_put(char *buf, size_t cap, size_t at, const char *s)
{
    while (*s != '\0' && at + 1u < cap)
        buf[at++] = *s++;
    buf[at] = '\0';
    return at;
}

static size_t msg_hex(char *buf, size_t cap, size_t at, uintptr_t v)
{
    char digits[2 * sizeof v + 1u];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v & 0xFu);
        digits[n++] = (char)(d < 10u ? '0' + (int)d : 'a' + (int)(d - 10u));
        v >>= 4;
    } while (v != 0u);
    at = msg_put(buf, cap, at, "0x");
    while (n > 0u && at + 1u < cap)
        buf[at++] = digits[--n];
    buf[at] = '\0';
    return at;
}

/* Log what went wrong (and trap in debug builds). */
static void heap_complain(const tern_heap_t *heap, const char *what, const char *why, const void *where)
{
    if (heap->port == NULL)
        return;
    char msg[128];
    size_t at = msg_put(msg, sizeof msg, 0, "heap: ");
    at = msg_put(msg, sizeof msg, at, what);
    at = msg_put(msg, sizeof msg, at, ": ");
    at = msg_put(msg, sizeof msg, at, why);
    at = msg_put(msg, sizeof msg, at, " at ");
    (void)msg_hex(msg, sizeof msg, at, (uintptr_t)where);
    if (heap->port->log != NULL)
        heap->port->log(heap->port->ctx, TERN_LOG_ERROR, msg);
#if TERN_DEBUG
    if (heap->port->assert_failed != NULL)
        heap->port->assert_failed(heap->port->ctx, msg);
#endif
}

/* ---- free list (address order) ------------------------------------------- */

static void list_insert(tern_heap_t *heap, uint8_t *h)
{
    uint8_t *prev = NULL;
    uint8_t *next = fb_hdr(heap->free_head);
    while (next != NULL && (uintptr_t)next < (uintptr_t)h) {
        prev = next;
        next = link_next(next);
    }
    set_next(h, next);
    set_prev(h, prev);
    if (prev != NULL)
        set_next(prev, h);
    else
        heap->free_head = hdr_fb(h);
    if (next != NULL)
        set_prev(next, h);
}

static void list_remove(tern_heap_t *heap, uint8_t *h)
{
    uint8_t *prev = link_prev(h);
    uint8_t *next = link_next(h);
    if (prev != NULL)
        set_next(prev, next);
    else
        heap->free_head = hdr_fb(next);
    if (next != NULL)
        set_prev(next, prev);
}

/* nh takes old's place in the list (no free block lies between them). old's
 * links are read first: nh's links may overlap old's header. */
static void list_replace(tern_heap_t *heap, uint8_t *old, uint8_t *nh)
{
    uint8_t *prev = link_prev(old);
    uint8_t *next = link_next(old);
    hdr_wipe(old);
    set_next(nh, next);
    set_prev(nh, prev);
    if (prev != NULL)
        set_next(prev, nh);
    else
        heap->free_head = hdr_fb(nh);
    if (next != NULL)
        set_prev(next, nh);
}

/* ---- lookup and validation ----------------------------------------------- */

static uint32_t gross_size(size_t size)
{
    size_t g = (size + HEAP_HDR + (TERN_HEAP_ALIGN - 1u)) & ~(size_t)(TERN_HEAP_ALIGN - 1u);
    return g < HEAP_MIN ? HEAP_MIN : (uint32_t)g;
}

/* The header of the live block whose payload is ptr, or NULL with the reason
 * in *why. Reads only; trusts nothing it has not checked. */
static uint8_t *heap_live_block(const tern_heap_t *heap, const void *ptr, const char **why)
{
    uintptr_t p = (uintptr_t)ptr;
    if (p % TERN_HEAP_ALIGN != 0u) {
        *why = "misaligned pointer";
        return NULL;
    }
    unsigned r;
    for (r = 0; r < heap->region_count; r++) {
        uintptr_t s = (uintptr_t)heap->regions[r].start;
        uintptr_t e = (uintptr_t)heap->regions[r].end;
        if (p >= s + HEAP_HDR && p <= e)
            break;
    }
    if (r == heap->region_count) {
        *why = "pointer outside every region";
        return NULL;
    }
    uint8_t *start = heap->regions[r].start;
    uint8_t *end = heap->regions[r].end;
    uint8_t *h = start + (p - HEAP_HDR - (uintptr_t)start);
    uint32_t sf = rd32(h);
    uint32_t size = sf & ~HEAP_FLAG_MASK;
    if ((sf & HEAP_USED) == 0u) {
        *why = "not a used block (double free?)";
        return NULL;
    }
    if (size < HEAP_MIN || size > (uintptr_t)(end - h)) {
        *why = "bad block size";
        return NULL;
    }
    if (!hdr_valid(h) || blk_tag(h) > TERN_HEAP_TAG_MAX) {
        *why = "bad header check";
        return NULL;
    }
    uint8_t *next = h + size;
    uint32_t nsize = blk_size(next);
    if (!hdr_valid(next) || blk_prev_free(next)) {
        *why = "next block disagrees";
        return NULL;
    }
    if (nsize == 0u ? (next != end || !blk_used(next)) : (nsize < HEAP_MIN || nsize > (uintptr_t)(end - next))) {
        *why = "next block disagrees";
        return NULL;
    }
    if ((sf & HEAP_PREV_FREE) != 0u) {
        uint32_t fsize = h > start ? rd32(h - 4) : 0u;
        uint8_t *prev = fsize >= HEAP_MIN && fsize % TERN_HEAP_ALIGN == 0u && fsize <= (uintptr_t)(h - start)
                            ? h - fsize : NULL;
        if (prev == NULL || rd32(prev) != fsize || !hdr_valid(prev) || blk_tag(prev) != HEAP_FREE_TAG) {
            *why = "previous block disagrees";
            return NULL;
        }
    }
    return h;
}

/* ---- core operations ----------------------------------------------------- */

static void heap_note_free(tern_heap_t *heap)
{
    if (heap->free < heap->min_free)
        heap->min_free = heap->free;
}

/* A block of gross size g is placed from the top. */
static bool heap_large(uint32_t g)
{
    return TERN_HEAP_LARGE_BLOCK != 0u && g >= TERN_HEAP_LARGE_BLOCK;
}

/* A free block below h holds need bytes: first fit would not grow h. */
static bool heap_fit_below(const tern_heap_t *heap, const uint8_t *h, uint32_t need)
{
    for (uint8_t *f = fb_hdr(heap->free_head); f != NULL && (uintptr_t)f < (uintptr_t)h; f = link_next(f))
        if (blk_size(f) >= need)
            return true;
    return false;
}

/* Turn free block h into a used block of need bytes, splitting off the rest
 * when it can stand alone as a free block (keeps padding < 256). */
static void heap_take(tern_heap_t *heap, uint8_t *h, uint32_t need, uint32_t tag)
{
    uint32_t size = blk_size(h);
    uint32_t rem = size - need;
    if (rem >= HEAP_MIN) {
        uint8_t *r = h + need;
        list_replace(heap, h, r);
        free_write(r, rem);
    } else {
        list_remove(heap, h);
        need = size;
        hdr_set_prev_free(h + size, false);
        heap->free_blocks--;
    }
    /* h was free, so its previous block is used: PREV_FREE stays clear. */
    hdr_write(h, need, HEAP_USED, tag);
    heap->free -= need;
    heap->used_blocks++;
    heap->allocs++;
    heap_note_free(heap);
}

/* The same from the top of h: the used block takes h's upper need bytes and
 * h, shorter, keeps its place in the list. Returns the used block. */
static uint8_t *heap_take_top(tern_heap_t *heap, uint8_t *h, uint32_t need, uint32_t tag)
{
    uint32_t size = blk_size(h);
    uint32_t rem = size - need;
    if (rem < HEAP_MIN) {
        heap_take(heap, h, need, tag);
        return h;
    }
    uint8_t *b = h + rem;
    free_write(h, rem);
    hdr_set_prev_free(b + need, false);
    hdr_write(b, need, HEAP_USED | HEAP_PREV_FREE, tag);
    heap->free -= need;
    heap->used_blocks++;
    heap->allocs++;
    heap_note_free(heap);
    return b;
}

/* Free a validated live block, coalescing with both neighbours. */
static void heap_release(tern_heap_t *heap, uint8_t *h)
{
    uint32_t sf = rd32(h);
    uint32_t size = sf & ~HEAP_FLAG_MASK;
    uint8_t *next = h + size;
    bool next_free = !blk_used(next);
    uint32_t nsize = blk_size(next);

    heap->free += size;
    heap->used_blocks--;
    heap->frees++;
    if ((sf & HEAP_PREV_FREE) != 0u) {
        uint8_t *prev = h - rd32(h - 4);
        uint32_t merged = blk_size(prev) + size;
        hdr_wipe(h);
        if (next_free) {
            merged += nsize;
            list_remove(heap, next);
            hdr_wipe(next);
            heap->free_blocks--;
        } else {
            hdr_set_prev_free(next, true);
        }
        free_write(prev, merged);
    } else if (next_free) {
        list_replace(heap, next, h);
        free_write(h, size + nsize);
    } else {
        free_write(h, size);
        list_insert(heap, h);
        hdr_set_prev_free(next, true);
        heap->free_blocks++;
    }
}

/* ---- public API ---------------------------------------------------------- */

void tern_heap_init(tern_heap_t *heap, const tern_port_t *port)
{
    memset(heap, 0, sizeof *heap);
    heap->port = port;
}

int tern_heap_add_region(tern_heap_t *heap, void *mem, size_t size)
{
    if (heap == NULL || mem == NULL)
        return TERN_ERR_INVAL;
    uintptr_t a = (uintptr_t)mem;
    if (size > UINTPTR_MAX - a)
        return TERN_ERR_INVAL;
    uintptr_t lo = (a + (TERN_HEAP_ALIGN - 1u)) & ~(uintptr_t)(TERN_HEAP_ALIGN - 1u);
    uintptr_t hi = (a + size) & ~(uintptr_t)(TERN_HEAP_ALIGN - 1u);
    if (hi <= lo || hi - lo < HEAP_MIN + HEAP_HDR || hi - lo > HEAP_REGION_MAX)
        return TERN_ERR_INVAL;
    for (unsigned i = 0; i < heap->region_count; i++) {
        uintptr_t s = (uintptr_t)heap->regions[i].start;
        uintptr_t e = (uintptr_t)heap->regions[i].end + HEAP_HDR;
        if (lo < e && s < hi)
            return TERN_ERR_INVAL;
    }
    if (heap->region_count >= TERN_HEAP_MAX_REGIONS)
        return TERN_ERR_NOMEM;

    uint32_t len = (uint32_t)(hi - lo);
    uint8_t *start = (uint8_t *)mem + (lo - a);
    uint8_t *end = start + len - HEAP_HDR;
    /* Keep regions in address order: walks and checks then see blocks in the
     * same order as the free list. */
    unsigned at = heap->region_count;
    while (at > 0u && (uintptr_t)heap->regions[at - 1u].start > lo) {
        heap->regions[at] = heap->regions[at - 1u];
        at--;
    }
    heap->regions[at].start = start;
    heap->regions[at].end = end;
    heap->region_count++;

    uint32_t bsize = len - HEAP_HDR;
    free_write(start, bsize);
    hdr_write(end, 0u, HEAP_USED | HEAP_PREV_FREE, HEAP_END_TAG);
    list_insert(heap, start);
    heap->free_blocks++;
    heap->total += bsize;
    heap->free += bsize;
    /* New capacity raises the low-water mark by the same amount. */
    heap->min_free += bsize;
    return TERN_OK;
}

void *tern_heap_alloc(tern_heap_t *heap, size_t size, uint32_t tag)
{
    if (size == 0u)
        return NULL;
    if (tag > TERN_HEAP_TAG_MAX) {
        heap_complain(heap, "alloc", "tag out of range", NULL);
        return NULL;
    }
    if (size > HEAP_REQUEST_MAX) {
        heap->failures++;
        return NULL;
    }
    uint32_t need = gross_size(size);
    uint8_t *h = fb_hdr(heap->free_head);
    if (heap_large(need)) {
        /* The highest free block that fits: the last fit in address order. */
        uint8_t *fit = NULL;
        for (; h != NULL; h = link_next(h))
            if (blk_size(h) >= need)
                fit = h;
        if (fit == NULL) {
            heap->failures++;
            return NULL;
        }
        return heap_take_top(heap, fit, need, tag) + HEAP_HDR;
    }
    while (h != NULL && blk_size(h) < need)
        h = link_next(h);
    if (h == NULL) {
        heap->failures++;
        return NULL;
    }
    heap_take(heap, h, need, tag);
    return h + HEAP_HDR;
}

int tern_heap_free(tern_heap_t *heap, void *ptr)
{
    if (ptr == NULL)
        return TERN_OK;
    const char *why = "";
    uint8_t *h = heap_live_block(heap, ptr, &why);
    if (h == NULL) {
        heap->bad_frees++;
        heap_complain(heap, "bad free", why, ptr);
        return TERN_ERR_CORRUPT;
    }
    heap_release(heap, h);
    return TERN_OK;
}

void *tern_heap_realloc(tern_heap_t *heap, void *ptr, size_t size)
{
    if (ptr == NULL)
        return tern_heap_alloc(heap, size, 0u);
    const char *why = "";
    uint8_t *h = heap_live_block(heap, ptr, &why);
    if (h == NULL) {
        heap->bad_frees++;
        heap_complain(heap, "bad realloc", why, ptr);
        return NULL;
    }
    if (size == 0u) {
        heap_release(heap, h);
        return NULL;
    }
    if (size > HEAP_REQUEST_MAX) {
        heap->failures++;
        return NULL;
    }
    uint32_t need = gross_size(size);
    uint32_t sf = rd32(h);
    uint32_t old = sf & ~HEAP_FLAG_MASK;
    uint32_t tag = blk_tag(h);
    uint8_t *next = h + old;
    bool next_free = !blk_used(next);
    uint32_t nsize = blk_size(next);

    if (need <= old) {
        /* Shrink in place: the tail joins a free next block, or stands alone
         * when it is big enough to. */
        uint32_t rem = old - need;
        if (rem == 0u)
            return ptr;
        uint8_t *r = h + need;
        if (next_free) {
            list_replace(heap, next, r);
            free_write(r, rem + nsize);
        } else if (rem >= HEAP_MIN) {
            free_write(r, rem);
            list_insert(heap, r);
            hdr_set_prev_free(next, true);
            heap->free_blocks++;
        } else {
            return ptr; /* remainder < min block: padding stays < 256 */
        }
        hdr_write(h, need, HEAP_USED | (sf & HEAP_PREV_FREE), tag);
        heap->free += rem;
        return ptr;
    }

    if (next_free && old + nsize >= need && heap_large(need) == heap_large(old) &&
        (heap_large(need) || ((sf & HEAP_PREV_FREE) == 0u && !heap_fit_below(heap, h, need)))) {
        /* Grow in place into the free next block: the placement rule's
         * own choice (see the top of this file). */
        uint32_t whole = old + nsize;
        uint32_t rem = whole - need;
        uint32_t grown = need;
        if (rem >= HEAP_MIN) {
            uint8_t *r = h + need;
            list_replace(heap, next, r);
            free_write(r, rem);
        } else {
            list_remove(heap, next);
            hdr_wipe(next);
            hdr_set_prev_free(h + whole, false);
            heap->free_blocks--;
            grown = whole;
        }
        hdr_write(h, grown, HEAP_USED | (sf & HEAP_PREV_FREE), tag);
        heap->free -= grown - old;
        heap_note_free(heap);
        return ptr;
    }

    /* Move. Nothing above changed the heap, so failure leaves it intact. */
    uint8_t *n = tern_heap_alloc(heap, size, tag);
    if (n == NULL)
        return NULL;
    memcpy(n, ptr, old - HEAP_HDR);
    heap_release(heap, h);
    return n;
}

size_t tern_heap_block_size(const tern_heap_t *heap, const void *ptr)
{
    const char *why = "";
    const uint8_t *h = ptr != NULL ? heap_live_block(heap, ptr, &why) : NULL;
    return h != NULL ? blk_size(h) : 0u;
}

size_t tern_heap_usable_size(const tern_heap_t *heap, const void *ptr)
{
    size_t g = tern_heap_block_size(heap, ptr);
    return g != 0u ? g - HEAP_HDR : 0u;
}

int32_t tern_heap_get_tag(const tern_heap_t *heap, const void *ptr)
{
    const char *why = "";
    const uint8_t *h = ptr != NULL ? heap_live_block(heap, ptr, &why) : NULL;
    return h != NULL ? (int32_t)blk_tag(h) : -1;
}

int tern_heap_set_tag(tern_heap_t *heap, void *ptr, uint32_t tag)
{
    if (tag > TERN_HEAP_TAG_MAX)
        return TERN_ERR_INVAL;
    const char *why = "";
    uint8_t *h = ptr != NULL ? heap_live_block(heap, ptr, &why) : NULL;
    if (h == NULL)
        return TERN_ERR_CORRUPT;
    uint32_t sf = rd32(h);
    hdr_write(h, sf & ~HEAP_FLAG_MASK, sf & HEAP_FLAG_MASK, tag);
    return TERN_OK;
}

void tern_heap_get_stats(const tern_heap_t *heap, tern_heap_stats_t *out)
{
    memset(out, 0, sizeof *out);
    size_t largest = 0;
    for (uint8_t *h = fb_hdr(heap->free_head); h != NULL; h = link_next(h)) {
        if (blk_size(h) > largest)
            largest = blk_size(h);
    }
    out->total = heap->total;
    out->free = heap->free;
    out->used = heap->total - heap->free;
    out->min_free = heap->min_free;
    out->largest_free_block = largest;
    out->largest_alloc = largest != 0u ? largest - HEAP_HDR : 0u;
    out->free_blocks = heap->free_blocks;
    out->used_blocks = heap->used_blocks;
    out->allocs = heap->allocs;
    out->frees = heap->frees;
    out->failures = heap->failures;
    out->bad_frees = heap->bad_frees;
}

/* A block's header is sound enough to step over: valid check, sane size. */
static bool walk_step_ok(const uint8_t *h, const uint8_t *end)
{
    uint32_t size = blk_size(h);
    return hdr_valid(h) && size >= HEAP_MIN && size <= (uintptr_t)(end - h);
}

int tern_heap_walk(const tern_heap_t *heap, tern_heap_walk_fn fn, void *ctx)
{
    for (unsigned r = 0; r < heap->region_count; r++) {
        uint8_t *h = heap->regions[r].start;
        uint8_t *end = heap->regions[r].end;
        while (h < end) {
            if (!walk_step_ok(h, end))
                return TERN_ERR_CORRUPT;
            uint32_t size = blk_size(h);
            int used = blk_used(h) ? 1 : 0;
            int rc = fn(ctx, h + HEAP_HDR, size, used, used ? blk_tag(h) : HEAP_FREE_TAG);
            if (rc != 0)
                return rc;
            h += size;
        }
    }
    return TERN_OK;
}

static int check_fail(const tern_heap_t *heap, const char *why, const void *where)
{
    heap_complain(heap, "check", why, where);
    return TERN_ERR_CORRUPT;
}

int tern_heap_check(const tern_heap_t *heap)
{
    if (heap->region_count > TERN_HEAP_MAX_REGIONS)
        return check_fail(heap, "region count out of range", heap);
    size_t total = 0, free = 0, free_blocks = 0, used_blocks = 0;
    uint8_t *expect = fb_hdr(heap->free_head); /* next free block the list promises */
    uint8_t *last_free = NULL;
    uintptr_t prev_region_end = 0;

    for (unsigned r = 0; r < heap->region_count; r++) {
        uint8_t *h = heap->regions[r].start;
        uint8_t *end = heap->regions[r].end;
        uintptr_t s = (uintptr_t)h, e = (uintptr_t)end;
        if (s % TERN_HEAP_ALIGN != 0u || e % TERN_HEAP_ALIGN != 0u || e <= s || e - s > HEAP_REGION_MAX)
            return check_fail(heap, "bad region bounds", h);
        if (r > 0u && s < prev_region_end)
            return check_fail(heap, "regions overlap or out of order", h);
        prev_region_end = e + HEAP_HDR;

        bool prev_free = false;
        while (h < end) {
            uint32_t size = blk_size(h);
            if (!hdr_valid(h))
                return check_fail(heap, "bad header check byte", h);
            if (size < HEAP_MIN || size > (uintptr_t)(end - h))
                return check_fail(heap, "bad block size", h);
            if (blk_prev_free(h) != prev_free)
                return check_fail(heap, "PREV_FREE flag disagrees with previous block", h);
            total += size;
            if (blk_used(h)) {
                if (blk_tag(h) > TERN_HEAP_TAG_MAX)
                    return check_fail(heap, "used block with the free tag", h);
                used_blocks++;
                prev_free = false;
            } else {
                if (blk_tag(h) != HEAP_FREE_TAG)
                    return check_fail(heap, "free block without the free tag", h);
                if (prev_free)
                    return check_fail(heap, "two adjacent free blocks", h);
                if (rd32(h + size - 4u) != size)
                    return check_fail(heap, "bad footer", h);
                if (h != expect)
                    return check_fail(heap, "free list skips or misorders a free block", h);
                if (link_prev(h) != last_free)
                    return check_fail(heap, "bad free list back link", h);
                last_free = h;
                expect = link_next(h);
                free += size;
                free_blocks++;
                prev_free = true;
            }
            h += size;
        }
        if (h != end)
            return check_fail(heap, "block chain overruns the end marker", h);
        if (!hdr_valid(end) || blk_size(end) != 0u || !blk_used(end) || blk_tag(end) != HEAP_END_TAG)
            return check_fail(heap, "bad end marker", end);
        if (blk_prev_free(end) != prev_free)
            return check_fail(heap, "PREV_FREE flag disagrees at the end marker", end);
    }
    if (expect != NULL)
        return check_fail(heap, "free list has an entry that is not a free block", expect);
    if (total != heap->total || free != heap->free)
        return check_fail(heap, "byte counters disagree with the blocks", heap);
    if (free_blocks != heap->free_blocks || used_blocks != heap->used_blocks)
        return check_fail(heap, "block counters disagree with the blocks", heap);
    if (heap->min_free > heap->free)
        return check_fail(heap, "min_free above free", heap);
    if ((uint32_t)(heap->allocs - heap->frees) != (uint32_t)heap->used_blocks)
        return check_fail(heap, "allocs - frees differs from used blocks", heap);
    return TERN_OK;
}

#else
typedef int tern_heap_not_in_static_only_builds; /* a translation unit is not empty */
#endif
