/* The hand-off of network buffers between an Ethernet driver's interrupt
 * handler and the main loop (ports/mps2-an500/lan9118.c,
 * ports/lm3s6965evb/stellaris_eth.c). A driver without DMA keeps two:
 *
 *   empty  buffers the main loop took from tern (tern_netif_rx_buffer_get)
 *          ahead of time: the main loop pushes, the handler pops one per
 *          frame it reads out of the MAC's FIFO;
 *   full   those buffers filled, with their frame lengths: the handler
 *          pushes, the main loop pops and gives them to tern_input().
 *
 * Each ring is single-producer, single-consumer and lock-free: the producer
 * alone writes head, the consumer alone writes tail, both are free-running
 * counters (head - tail is the count, also across the 2^32 wrap) and a slot
 * is head or tail modulo the size, a power of two. The driver sizes a ring
 * by the storage it passes to board_rx_ring_init().
 *
 * Ordering: a push writes the slot and then publishes it by writing head; a
 * pop reads the slot and then frees it by writing tail. The barrier between
 * the two keeps the compiler (and a core that reorders stores, or another
 * bus master) from making the index visible before the slot. On a
 * single-core Cortex-M the handler sees the main loop's accesses in program
 * order, so only the compiler needs holding back; DMB (ARMv7-M ARM, A3.7.3)
 * costs a few cycles and keeps the ring right where another master reads
 * memory. No interrupt masking is needed for the ring itself: the handler
 * runs to completion, and neither side writes the other's index. What does
 * need it is the driver's own "RX masked for want of buffers" state: the
 * main loop clears it, unmasks the MAC's interrupt and drains the FIFO with
 * interrupts off, so a handler cannot run between the three.
 *
 * Plain C (no board header): tests/unit/test_rx_ring.c runs it on the host. */
#ifndef BOARD_RX_RING_H
#define BOARD_RX_RING_H

#include <stddef.h>
#include <stdint.h>

struct tern_netbuf;

#if defined(__arm__)
#define BOARD_RX_RING_BARRIER() __asm volatile("dmb" ::: "memory")
#else
#define BOARD_RX_RING_BARRIER() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

typedef struct board_rx_ring {
    struct tern_netbuf **slot;
    uint16_t *len;          /* frame lengths (the full ring), or NULL */
    uint32_t mask;          /* size - 1 */
    volatile uint32_t head; /* written by the producer only */
    volatile uint32_t tail; /* written by the consumer only */
} board_rx_ring_t;

/* size: the slots in slot[] (and len[] when not NULL), a power of two.
 * Returns 0, or -1 when size is not a power of two. */
static inline int board_rx_ring_init(board_rx_ring_t *r, struct tern_netbuf **slot, uint16_t *len, uint32_t size)
{
    if (size == 0u || (size & (size - 1u)) != 0u)
        return -1;
    r->slot = slot;
    r->len = len;
    r->mask = size - 1u;
    r->head = 0;
    r->tail = 0;
    return 0;
}

static inline uint32_t board_rx_ring_count(const board_rx_ring_t *r)
{
    return r->head - r->tail;
}

static inline int board_rx_ring_empty(const board_rx_ring_t *r)
{
    return r->head == r->tail;
}

static inline int board_rx_ring_full(const board_rx_ring_t *r)
{
    return r->head - r->tail > r->mask;
}

/* Producer: queue nb (and its frame length). 0, or -1 when full. */
static inline int board_rx_ring_push(board_rx_ring_t *r, struct tern_netbuf *nb, uint16_t len)
{
    uint32_t head = r->head;
    if (head - r->tail > r->mask)
        return -1;
    r->slot[head & r->mask] = nb;
    if (r->len != NULL)
        r->len[head & r->mask] = len;
    BOARD_RX_RING_BARRIER(); /* the slot before the index that publishes it */
    r->head = head + 1u;
    return 0;
}

/* Consumer: the oldest buffer (its length in *len when len is not NULL),
 * or NULL when empty. */
static inline struct tern_netbuf *board_rx_ring_pop(board_rx_ring_t *r, uint16_t *len)
{
    uint32_t tail = r->tail;
    if (tail == r->head)
        return NULL;
    BOARD_RX_RING_BARRIER(); /* the index before the slot it published */
    struct tern_netbuf *nb = r->slot[tail & r->mask];
    if (len != NULL)
        *len = r->len != NULL ? r->len[tail & r->mask] : 0u;
    BOARD_RX_RING_BARRIER(); /* the slot read before it is handed back */
    r->tail = tail + 1u;
    return nb;
}

#endif
