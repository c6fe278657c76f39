/* Driver for the Stellaris Ethernet MAC of the LM3S6965 (QEMU
 * `stellaris_enet` on lm3s6965evb: 0x40048000, IRQ 42).
 *
 * Like the LAN9118 (ports/mps2-an500/lan9118.h) a FIFO controller with no
 * DMA: the CPU reads each received frame out of the MACDATA register word by
 * word and writes each frame to send into the same register. So the same
 * shape:
 *
 *   RX  the interrupt handler reads frames straight into empty network
 *       buffers the main loop handed it ahead of time, and queues them; the
 *       main loop gives them to tern_input(). With no empty buffer it leaves
 *       frames in the FIFO (the chip's own backlog: 2 KB on the real part,
 *       31 frames in QEMU) and masks the RX interrupt until the main loop
 *       has refilled the ring.
 *       The MAC has no multicast filter in QEMU (every frame on the wire
 *       arrives): the handler looks at the destination in the first two
 *       FIFO words and drains a frame for another station or an unjoined
 *       multicast group without taking a buffer (rx_filtered). tern joins
 *       no multicast group, so only broadcast and our own address pass.
 *   TX  output() writes the frame into the TX FIFO (the first word carries
 *       the payload length, frame length - 14, and the first two destination
 *       bytes) and starts it with TR=1 (the threshold register's reset value
 *       disables threshold start). The buffer is free when output() returns.
 *
 * Counters: stellaris_eth_stats_t; also in /api/stats ("stellaris") and the
 * console's `counters`. */
#ifndef STELLARIS_ETH_H
#define STELLARIS_ETH_H

#include <stdint.h>
#include "tern/stack.h"
#include "tern/stats.h"
#include "rx_ring.h"

#define STELLARIS_ETH_BASE 0x40048000u
#define STELLARIS_ETH_IRQ 42u
#define STELLARIS_RX_RING 4u /* network buffers held for the interrupt handler (a power of two) */

typedef struct stellaris_eth_stats {
    uint32_t irqs;
    uint32_t rx_frames, rx_bytes;
    uint32_t rx_filtered;      /* for another station or a multicast group: drained unread */
    uint32_t rx_errors;        /* RXER interrupts (CRC, length) */
    uint32_t rx_oversize;      /* longer than a network buffer, or shorter than a header */
    uint32_t rx_stalls;        /* times the handler found no empty buffer (frames wait in the FIFO) */
    uint32_t rx_fifo_overruns; /* FOV interrupts: the FIFO had no room, a frame was lost */
    uint32_t rx_fifo_max;      /* most frames ever waiting in the FIFO at one interrupt */
    uint32_t tx_frames, tx_bytes;
    uint32_t tx_errors;        /* refused frames and TXER interrupts */
} stellaris_eth_stats_t;

typedef struct stellaris_eth {
    tern_netif_t *nif;
    uint8_t mac[6];
    /* The RX hand-off (ports/cortex-m/rx_ring.h): empty buffers the main
     * loop pushes and the handler pops; filled ones with their frame
     * lengths the handler pushes and the main loop pops. */
    board_rx_ring_t empty, full;
    tern_netbuf_t *empty_slot[STELLARIS_RX_RING];
    tern_netbuf_t *full_slot[STELLARIS_RX_RING];
    uint16_t full_len[STELLARIS_RX_RING];
    volatile uint8_t rx_masked;  /* the handler masked RX for want of buffers */
    volatile uint8_t link_event; /* the link state is to be reported (no PHY model: once, up) */
    stellaris_eth_stats_t stats;
} stellaris_eth_t;

int stellaris_eth_init(stellaris_eth_t *d, tern_netif_t *nif);
extern const tern_netif_ops_t stellaris_eth_ops;
unsigned stellaris_eth_poll(stellaris_eth_t *d, tern_stack_t *stack, uint32_t now);
int stellaris_eth_pending(const stellaris_eth_t *d);
/* The MAC address QEMU gave the controller (IA0/IA1). */
void stellaris_eth_read_mac(uint8_t mac[6]);
void stellaris_eth_stats_json(const struct tern_stack *stack, void *arg, tern_writer_fn write, void *ctx);
void stellaris_eth_report_text(const stellaris_eth_t *d, tern_writer_fn write, void *ctx);

#endif
