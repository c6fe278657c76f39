/* Driver for the SMSC LAN9118/LAN9220 Ethernet controller (QEMU `lan9118`
 * on mps2-an500: 0xA0000000, IRQ 13).
 *
 * The LAN9118 is a FIFO controller: frames sit in its on-chip RX FIFO
 * (about 10.5 KB, 176 status entries) and the CPU reads them out word by
 * word; there is no DMA and no checksum offload. So:
 *
 *   RX  the interrupt handler reads each frame out of the RX FIFO straight
 *       into an empty network buffer the main loop handed the driver ahead
 *       of time (tern_netif_rx_buffer_get), and queues it; the main loop
 *       gives queued buffers to tern_input(). One copy (the FIFO read, which
 *       no driver for this chip can avoid), no second copy through driver
 *       storage, and nothing but the FIFO read runs in the interrupt. This
 *       is the shape of a DMA driver's RX ring, with the CPU as the DMA.
 *       When the driver holds no empty buffer, the handler leaves frames in
 *       the FIFO (it is the chip's own backlog) and masks the RX interrupt
 *       until the main loop has refilled the ring.
 *   TX  output() writes the frame from the network buffer into the TX FIFO
 *       and the controller sends it when the last word is written. The
 *       buffer is done with when output() returns: in TERN_ZERO_COPY_TX
 *       builds (RELEASE_AFTER_SEND) the driver calls tern_netif_tx_done() at
 *       once, otherwise the stack releases it. A DMA "zero-copy" TX mode
 *       gains nothing here: the CPU copies every word either way.
 *
 * RX works the same in both TERN_ZERO_COPY_RX settings (it uses the
 * zero-copy entry points, which exist in both); tern_input_copy() would only
 * add a copy through driver storage.
 *
 * Counters: see lan9118_stats_t; they also appear in /api/stats ("lan9118")
 * and in the console's `counters`. */
#ifndef LAN9118_H
#define LAN9118_H

#include <stdint.h>
#include "tern/stack.h"
#include "tern/stats.h"
#include "rx_ring.h"

#define LAN9118_BASE 0xA0000000u
#define LAN9118_IRQ 13u
#define LAN9118_RX_RING 8u /* network buffers held for the interrupt handler (a power of two) */

typedef struct lan9118_stats {
    uint32_t irqs;
    uint32_t rx_frames, rx_bytes;
    uint32_t rx_errors;      /* status error summary (CRC, length, collision...) */
    uint32_t rx_oversize;    /* longer than a network buffer: dropped */
    uint32_t rx_stalls;      /* times the handler found no empty buffer (frames wait in the FIFO) */
    uint32_t rx_fifo_drops;  /* frames the chip dropped: RX_DROP and RX-dropped interrupts */
    uint32_t rx_fifo_max;    /* most frames ever waiting in the RX FIFO at one interrupt */
    uint32_t tx_frames, tx_bytes;
    uint32_t tx_fifo_full;   /* output() refused: no room in the TX FIFO */
    uint32_t tx_errors;      /* TX status error summary, TX errors and overruns */
    uint32_t link_changes;
} lan9118_stats_t;

typedef struct lan9118 {
    tern_netif_t *nif;
    /* The RX hand-off (ports/cortex-m/rx_ring.h): empty buffers the main
     * loop pushes and the handler pops; filled ones with their frame
     * lengths the handler pushes and the main loop pops. */
    board_rx_ring_t empty, full;
    tern_netbuf_t *empty_slot[LAN9118_RX_RING];
    tern_netbuf_t *full_slot[LAN9118_RX_RING];
    uint16_t full_len[LAN9118_RX_RING];
    volatile uint8_t rx_masked;  /* the handler masked RX for want of buffers */
    volatile uint8_t link_event; /* the PHY interrupted: read the link state */
    uint16_t tx_tag;
    lan9118_stats_t stats;
} lan9118_t;

/* Probe and reset the chip, set its MAC address from nif->mac, and return
 * the netif ops. TERN_ERR_NOTFOUND when the chip does not answer. */
int lan9118_init(lan9118_t *d, tern_netif_t *nif);
extern const tern_netif_ops_t lan9118_ops;
/* Main loop: hand received frames to the stack, refill the RX ring, follow
 * the link. Returns the number of frames handed over. */
unsigned lan9118_poll(lan9118_t *d, tern_stack_t *stack, uint32_t now);
/* 1 when the handler has queued frames the main loop has not taken yet. */
int lan9118_pending(const lan9118_t *d);
/* The MAC address QEMU gave the chip (its EEPROM), or the reset default. */
void lan9118_read_mac(uint8_t mac[6]);
/* A tern_stats_fn: the counters as a JSON object (arg: the driver). */
void lan9118_stats_json(const struct tern_stack *stack, void *arg, tern_writer_fn write, void *ctx);
/* The counters as text lines. */
void lan9118_report_text(const lan9118_t *d, tern_writer_fn write, void *ctx);

#endif
