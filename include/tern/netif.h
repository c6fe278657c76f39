/* The network interface (driver) contract.
 *
 * A driver fills a tern_netif_ops_t, sets caps and link, and registers with
 * tern_netif_add(). Copy or zero-copy is a property of each interface (caps),
 * not of the build: one firmware can run a DMA MAC and a FIFO MAC side by side,
 * and a driver is written once.
 *
 * Receive:
 *   TERN_NETIF_CAP_ZERO_COPY_RX  the driver takes empty buffers ahead of time
 *                        with tern_netif_rx_buffer_get() (DMA targets), and
 *                        hands a filled one to tern_input(); the stack owns it
 *                        from then on. No copy.
 *   without it           the driver receives into its own storage and calls
 *                        tern_input_copy(), which copies into a network
 *                        buffer. One copy.
 * Transmit (ops->output gets a buffer whose data..data+len is the whole frame):
 *   TERN_NETIF_CAP_ZERO_COPY_TX  the buffer carries
 *                        TERN_NETBUF_F_RELEASE_AFTER_SEND; the driver owns it
 *                        from the call on, success or not, and calls
 *                        tern_netif_tx_done() when the hardware has sent it.
 *                        No copy.
 *   without it           the driver copies the frame into its own storage
 *                        before returning; the stack keeps and releases the
 *                        buffer. One copy.
 *
 * Link type (link): what a frame is. TERN_LINK_ETHERNET (0, the default):
 * Ethernet II frames, next hops resolved with ARP. TERN_LINK_IP: bare IPv4
 * packets with no link header and no neighbour resolution (a TUN, SLIP, or
 * PPP once negotiated); mac is unused.
 *
 * Offloads: a driver sets bits in offload; each is off unless advertised,
 * and the stack then skips the matching work:
 *   TX_IPV4_CSUM  the IPv4 header checksum field is left 0 for the hardware.
 *   TX_L4_CSUM    the TCP/UDP checksum field holds the folded (not
 *                 complemented) pseudo-header sum, the partial sum of the
 *                 virtio-net convention (NEEDS_CSUM: the hardware sums from
 *                 the L4 header to the end and stores the complement at
 *                 offset 16 for TCP, 6 for UDP); ICMP's field is left 0.
 *   TX_TSO        TCP may hand over one IPv4 packet of up to tso_max bytes
 *                 (IP header included; needs TX_L4_CSUM) larger than the
 *                 MTU, with nb->tso_mss set: the driver (or its hardware)
 *                 cuts the payload into tso_mss-byte segments, each with
 *                 the headers copied, the sequence number advanced, the IP
 *                 identification incremented, PSH and FIN on the last one
 *                 only, and every checksum computed. Buffers without
 *                 tso_mss are sent as they are.
 *   RX_IPV4_CSUM, RX_L4_CSUM  the hardware's verdict is trusted: nothing is
 *                 verified or dropped for a checksum (a buffer can say the
 *                 same for itself with TERN_NETBUF_F_RX_CSUM_OK).
 *   RX_LARGE      the driver may hand over a TCP segment larger than the
 *                 MTU (coalesced by the hardware or the host kernel), up to
 *                 the network buffer size; without it a driver that gets
 *                 one cuts it into MTU-sized segments first.
 * A segment larger than a network buffer (TERN_NETBUF_FRAME_SIZE) is never
 * built or accepted: with 1514-byte buffers TSO and large receive change
 * nothing. With the HEAP buffer scheme (config.h) tern_netif_add refuses
 * TX_TSO and RX_LARGE (TERN_ERR_NOTSUP): its buffers come from a heap
 * planned for MTU-sized frames.
 *
 * Batching: a driver that reads several frames per wake-up (a ring, a
 * queue it drains until empty) brackets them with tern_input_batch_begin()
 * and tern_input_batch_end() (stack.h) under one lock hold: the stack then
 * sends one cumulative ACK per connection for the batch instead of one per
 * two segments. A driver that passes one frame at a time needs neither. */
#ifndef TERN_NETIF_H
#define TERN_NETIF_H

#include <stddef.h>
#include <stdint.h>
#include "tern/netbuf.h"

/* IPv4 addresses are host-order integers inside the stack. */
typedef uint32_t tern_ip4_t;
#define TERN_IP4(a, b, c, d) \
    ((tern_ip4_t)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d)))

#define TERN_OFFLOAD_TX_IPV4_CSUM 0x01u
#define TERN_OFFLOAD_TX_L4_CSUM 0x02u /* TCP, UDP and ICMP */
#define TERN_OFFLOAD_RX_IPV4_CSUM 0x10u
#define TERN_OFFLOAD_RX_L4_CSUM 0x20u
#define TERN_OFFLOAD_TX_TSO 0x04u      /* TCP segmentation (IPv4) */
#define TERN_OFFLOAD_RX_LARGE 0x40u    /* coalesced TCP segments above the MTU */

/* caps: how the driver moves frames (see above). */
#define TERN_NETIF_CAP_ZERO_COPY_RX 0x01u
#define TERN_NETIF_CAP_ZERO_COPY_TX 0x02u
/* The caps the host drivers (ports/posix) and the tests give an interface
 * unless told otherwise: the build's TERN_ZERO_COPY_RX/TX (config.h), so each
 * test variant runs the drivers in its own mode. The core never reads it. */
#define TERN_NETIF_CAPS_DEFAULT                                 \
    ((TERN_ZERO_COPY_RX ? TERN_NETIF_CAP_ZERO_COPY_RX : 0u) | \
     (TERN_ZERO_COPY_TX ? TERN_NETIF_CAP_ZERO_COPY_TX : 0u))

/* link: the framing of the interface's frames. */
#define TERN_LINK_ETHERNET 0u /* Ethernet II, ARP */
#define TERN_LINK_IP 1u       /* bare IPv4 packets, no link header */

struct tern_stack;
typedef struct tern_netif tern_netif_t;

typedef struct tern_netif_ops {
    /* Bring the hardware up (called from tern_netif_add). May be NULL. */
    int (*init)(tern_netif_t *nif);
    /* Send one frame; see the ownership rules above. Returns TERN_OK or an
     * error (the frame is then counted as a TX error). */
    int (*output)(tern_netif_t *nif, tern_netbuf_t *nb);
    /* Stop the hardware and give back every buffer it holds. May be NULL. */
    void (*shutdown)(tern_netif_t *nif);
} tern_netif_ops_t;

struct tern_netif {
    const tern_netif_ops_t *ops;
    void *driver;               /* the driver's own state */
    struct tern_stack *stack;
    struct tern_netif *next;    /* the stack's interface list */
    uint8_t mac[6];
    uint16_t mtu;               /* IP MTU, 1500 for Ethernet */
    uint8_t link_up;
    uint8_t offload;            /* TERN_OFFLOAD_* */
    uint8_t caps;               /* TERN_NETIF_CAP_* */
    uint8_t link;               /* TERN_LINK_* */
    uint8_t index;
    char name[9];
    uint16_t tso_max;           /* TX_TSO: largest IP packet the driver cuts */
    tern_ip4_t addr;            /* 0 while unconfigured */
    tern_ip4_t netmask;
    tern_ip4_t gateway;         /* 0: no default route */
    /* Optional frame tap (a pcap writer): the stack calls it with every frame
     * received on (outbound 0) or sent by (outbound 1) this interface. */
    void (*capture)(void *ctx, const uint8_t *frame, size_t len, int outbound, uint32_t now);
    void *capture_ctx;
};

/* Register an interface with the stack and call its init. The caller fills
 * ops, driver, mac, mtu, offload (and tso_max), caps, link and name first. TERN_ERR_INVAL
 * for an unknown link type. */
int tern_netif_add(struct tern_stack *stack, tern_netif_t *nif);
/* Remove it: shuts the driver down and drops every packet queued for it. */
void tern_netif_remove(struct tern_stack *stack, tern_netif_t *nif);
/* Set the IPv4 address (0 to unconfigure); on Ethernet, announces it with a
 * gratuitous ARP when the link is up. */
void tern_netif_set_addr(tern_netif_t *nif, tern_ip4_t addr, tern_ip4_t netmask, tern_ip4_t gateway);
void tern_netif_set_link(tern_netif_t *nif, int up);

/* For zero-copy RX interfaces: an empty full-size buffer to receive into, or
 * NULL when the pool is empty (counted). */
tern_netbuf_t *tern_netif_rx_buffer_get(tern_netif_t *nif);
/* For zero-copy TX interfaces: the hardware is done with this buffer. */
void tern_netif_tx_done(tern_netif_t *nif, tern_netbuf_t *nb);

#endif
