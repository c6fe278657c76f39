/* A Linux TAP device as a tern network interface.
 *
 * /dev/net/tun with IFF_TAP | IFF_NO_PI: each read() is one Ethernet frame
 * without FCS, each write() sends one. The fd is nonblocking; the stack
 * thread (tern_posix_runner) polls it.
 *
 * The mode is the interface's caps (netif.h), TERN_NETIF_CAPS_DEFAULT unless
 * the caller changes netif.caps between tern_tap_open() and tern_netif_add():
 * RX, TERN_NETIF_CAP_ZERO_COPY_RX: read() straight into a network buffer
 *     from tern_netif_rx_buffer_get(), then tern_input(). No copy in tern.
 * RX, copy: read() into the driver's own frame buffer, then
 *     tern_input_copy() copies it into a network buffer.
 * TX: write() the frame. Zero-copy TX (the buffer carries
 *     TERN_NETBUF_F_RELEASE_AFTER_SEND): the write is the "DMA", after which
 *     the driver calls tern_netif_tx_done(). Copy TX: the write is the copy;
 *     the stack keeps and releases its buffer. */
#ifndef TERN_TAP_H
#define TERN_TAP_H

#include <stdint.h>
#include "tern/config.h"
#include "tern/netif.h"

struct tern_posix_runner;

typedef struct tern_tap_stats {
    uint64_t rx_frames;   /* frames handed to the stack */
    uint64_t rx_bytes;
    uint64_t rx_nobufs;   /* frames dropped: no network buffer */
    uint64_t rx_runts;    /* frames shorter than an Ethernet header, dropped */
    uint64_t rx_oversize; /* frames longer than a network buffer, dropped */
    uint64_t rx_errors;   /* read() failures other than EAGAIN */
    uint64_t tx_frames;   /* frames written */
    uint64_t tx_bytes;
    uint64_t tx_errors;   /* write() failures (interface down: EIO) */
    uint64_t tx_short;    /* partial writes */
    /* With offloads (tern_tap_open_offload): */
    uint64_t tx_tso;      /* TSO packets written for the kernel to cut */
    uint64_t tx_csum;     /* frames written with a checksum for the kernel to finish */
    uint64_t rx_large;    /* coalesced (GSO) packets read from the kernel */
    uint64_t rx_cut;      /* segments cut from them here (no RX_LARGE, or too large) */
    uint64_t rx_csum_ok;  /* frames the kernel vouched for (NEEDS_CSUM or DATA_VALID) */
    /* Input batches (tern_tap_rx without no_batch): */
    uint64_t rx_batches;  /* batches of at least one frame */
    uint64_t rx_batch_max; /* the most frames in one */
} tern_tap_stats_t;

typedef struct tern_tap {
    tern_netif_t netif;   /* register with tern_netif_add(stack, &tap->netif) */
    int fd;
    char ifname[16];      /* IFNAMSIZ */
    tern_tap_stats_t stats;
    unsigned vnet;        /* virtio-net header bytes on each read and write (0: none) */
    uint8_t *rx_big;      /* with a header: the read buffer for packets up to 64 KB */
    uint8_t *cut;         /* with a header: where segments are cut */
    unsigned no_batch;    /* 1: no input batch (tern_tap_rx), one ACK per two segments as before */
    uint8_t rx_frame[TERN_NETBUF_FRAME_SIZE]; /* the driver's own RX storage (copy RX) */
} tern_tap_t;

/* The default MAC: locally administered (bit 1 of the first byte), unicast,
 * "tern" in the middle bytes. */
#define TERN_TAP_DEFAULT_MAC {0x02, 0x74, 0x65, 0x72, 0x6e, 0x02}

/* Open (or create, if it does not exist) the TAP interface ifname and fill
 * tap->netif (ops, driver, mac, MTU 1500, caps, name). mac NULL: the default.
 * TERN_ERR_INVAL for a bad name, TERN_ERR_NOTSUP when /dev/net/tun cannot be
 * opened or configured (errno tells why: EPERM without CAP_NET_ADMIN). */
int tern_tap_open(tern_tap_t *tap, const char *ifname, const uint8_t mac[6]);

/* The same with offloads (netif.h TERN_OFFLOAD_*), through IFF_VNET_HDR:
 * every read and write carries a virtio_net_hdr, and TUNSETOFFLOAD tells the
 * kernel what it may hand over.
 *   TX_L4_CSUM  frames go with NEEDS_CSUM: the kernel finishes the TCP/UDP
 *               checksum (TX_IPV4_CSUM is not offered: the kernel never
 *               computes an IPv4 header checksum for a TAP's frames).
 *   TX_TSO      (implies TX_L4_CSUM) TCP packets with tso_mss go as
 *               GSO_TCPV4: the kernel cuts them (tso_max 65,535).
 *   RX_L4_CSUM  TUN_F_CSUM: frames may come with a partial checksum; each
 *               frame the kernel vouches for (NEEDS_CSUM, DATA_VALID) is
 *               marked TERN_NETBUF_F_RX_CSUM_OK, the rest are verified.
 *   RX_LARGE    TUN_F_TSO4 (and TUN_F_CSUM): the kernel may hand over
 *               coalesced TCP packets up to 64 KB in one read; they go to
 *               the stack whole as far as a network buffer holds them, else
 *               cut here into segments (so the read is still one).
 * With offloads the driver reads every frame into its own buffer and copies
 * it into a network buffer (zero-copy RX is not used). offload 0 is
 * tern_tap_open(). */
int tern_tap_open_offload(tern_tap_t *tap, const char *ifname, const uint8_t mac[6], unsigned offload);

/* Parse an offload list for tern_tap_open_offload: comma-separated "csum"
 * (TX_L4_CSUM), "tso" (TX_TSO), "rxcsum" (RX_L4_CSUM), "lro" (RX_LARGE),
 * or "all" / "none". TERN_OK, or TERN_ERR_INVAL for an unknown word. */
int tern_tap_parse_offload(const char *list, unsigned *offload);

/* Read up to budget frames that are waiting and feed them to the stack,
 * as one input batch (tern_input_batch_begin/end) unless tap->no_batch.
 * Call with the core lock held. Returns frames read. */
unsigned tern_tap_rx(tern_tap_t *tap, uint32_t now, unsigned budget);

/* Have the stack thread poll this TAP. */
int tern_tap_runner_add(struct tern_posix_runner *r, tern_tap_t *tap);

/* Close the fd. Call after tern_netif_remove() (or tern_stack_deinit()). */
void tern_tap_close(tern_tap_t *tap);

#endif
