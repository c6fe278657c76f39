/* Network buffers: a descriptor plus packet storage.
 *
 * Storage layout (one buffer):
 *   [ back-pointer to descriptor (8) | pad (2) | frame: Ethernet header ... ]
 *   ^ storage                              ^ storage + TERN_NETBUF_FRAME_OFFSET
 * The back-pointer finds the descriptor from the frame pointer a DMA engine
 * used (zero-copy drivers). The 2-byte pad puts the IPv4 header, after the
 * 14-byte Ethernet header, on an 8-byte boundary.
 *
 * A buffer from tern_netbuf_get(size) has data at the frame start and len =
 * size. Layers strip headers with tern_netbuf_pull() on input; on output a
 * sender reserves room for headers with pull() and each layer prepends its
 * header with tern_netbuf_push(): no copies.
 *
 * Two schemes behind one API (TERN_NETBUF_SCHEME):
 *   STATIC  every descriptor owns TERN_NETBUF_STORAGE_SIZE bytes inside the
 *           pool; the heap is never touched.
 *   HEAP    storage is allocated from the heap at the exact size asked
 *           (category NETWORK_BUFFER) and freed on release.
 *
 * Thread safety: call with the core lock held (the stack's API does). */
#ifndef TERN_NETBUF_H
#define TERN_NETBUF_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/ledger.h"
#include "tern/port.h"

#define TERN_NETBUF_FRAME_OFFSET 10u
#define TERN_NETBUF_STORAGE_SIZE (((TERN_NETBUF_FRAME_OFFSET + TERN_NETBUF_FRAME_SIZE) + 7u) & ~7u)

/* flags */
#define TERN_NETBUF_F_IN_USE 0x0001u
/* Zero-copy TX: the driver that receives this buffer releases it when the
 * hardware has sent it (FreeRTOS+TCP's "release after send"). */
#define TERN_NETBUF_F_RELEASE_AFTER_SEND 0x0002u
/* RX: the driver verified the IPv4/TCP/UDP checksums in hardware. */
#define TERN_NETBUF_F_RX_CSUM_OK 0x0004u
/* RX: the frame was sent to a broadcast or multicast link address. */
#define TERN_NETBUF_F_LINK_BCAST 0x0008u

typedef struct tern_netbuf {
    struct tern_netbuf *next; /* queue link for whoever holds the buffer */
    uint8_t *storage;         /* NULL while free in the HEAP scheme */
    uint8_t *data;            /* first byte of the current layer */
    uint16_t len;             /* bytes from data */
    uint16_t capacity;        /* frame bytes from the frame start */
    uint16_t flags;
    uint16_t owner;           /* ledger owner of the storage (socket id; 0 = stack) */
    uint32_t scratch;         /* for the holder (e.g. next-hop address while queued on ARP) */
    uint16_t tso_mss;         /* TX: payload bytes per segment the driver cuts this packet into
                               * (netif.h, TERN_OFFLOAD_TX_TSO); 0: send as it is */
} tern_netbuf_t;

typedef struct tern_netbuf_pool {
    tern_netbuf_t bufs[TERN_NETBUF_COUNT];
    tern_netbuf_t *free_list;
    uint16_t free_count;
    uint16_t min_free;       /* lowest free_count ever */
    uint16_t waiters;        /* callers blocked in tern_netbuf_get */
    uint32_t gets;           /* successful gets */
    uint32_t releases;
    uint32_t exhausted;      /* gets that found no descriptor (or, HEAP, no storage) */
    uint32_t bad_releases;   /* releases of something that is not a buffer in use */
    tern_ledger_t *ledger;
    const tern_port_t *port;
#if TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC
    _Alignas(8) uint8_t storage[TERN_NETBUF_COUNT][TERN_NETBUF_STORAGE_SIZE];
#endif
} tern_netbuf_pool_t;

/* Set up all descriptors free. STATIC: notes the storage with the ledger as
 * static NETWORK_BUFFER memory. */
int tern_netbuf_pool_init(tern_netbuf_pool_t *pool, tern_ledger_t *ledger, const tern_port_t *port);

/* A buffer holding frame_len bytes (data = frame start, len = frame_len,
 * contents undefined). NULL when frame_len exceeds TERN_NETBUF_FRAME_SIZE or
 * none is free within timeout_ms (0: do not wait; waiting needs the port's
 * wait hook and the core lock held). Exhaustion is counted. */
tern_netbuf_t *tern_netbuf_get(tern_netbuf_pool_t *pool, size_t frame_len, uint32_t timeout_ms);

/* Return a buffer to the pool (HEAP: frees its storage) and wake waiters.
 * NULL is a no-op. A double release is refused and counted. */
void tern_netbuf_release(tern_netbuf_pool_t *pool, tern_netbuf_t *nb);

/* Release a whole queue linked through next. */
void tern_netbuf_release_chain(tern_netbuf_pool_t *pool, tern_netbuf_t *head);

/* Cut the frame to frame_len bytes from the frame start, keeping data's
 * offset; HEAP: gives the storage beyond it back to the heap (in place). */
int tern_netbuf_shrink(tern_netbuf_pool_t *pool, tern_netbuf_t *nb, size_t frame_len);

/* Charge the buffer's storage to another ledger owner (HEAP; a no-op for
 * STATIC storage, which is not on the heap). */
void tern_netbuf_set_owner(tern_netbuf_pool_t *pool, tern_netbuf_t *nb, unsigned owner);

/* The descriptor whose frame starts at frame, or NULL if frame is not the
 * frame start of a buffer in use from this pool. */
tern_netbuf_t *tern_netbuf_from_frame(tern_netbuf_pool_t *pool, const void *frame);

/* Frame start of a buffer. */
static inline uint8_t *tern_netbuf_frame(const tern_netbuf_t *nb)
{
    return nb->storage + TERN_NETBUF_FRAME_OFFSET;
}

/* Drop n bytes from the front (strip a header / reserve headroom).
 * TERN_ERR_INVAL if n > len. */
int tern_netbuf_pull(tern_netbuf_t *nb, size_t n);
/* Grow n bytes at the front (prepend a header). TERN_ERR_INVAL if that
 * would pass the frame start. */
int tern_netbuf_push(tern_netbuf_t *nb, size_t n);
/* Set len to n (n <= len, or up to the capacity left after data). */
int tern_netbuf_set_len(tern_netbuf_t *nb, size_t n);

uint16_t tern_netbuf_free_count(const tern_netbuf_pool_t *pool);
uint16_t tern_netbuf_min_free(const tern_netbuf_pool_t *pool);

#endif
