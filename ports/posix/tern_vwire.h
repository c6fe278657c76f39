/* The virtual wire: two endpoints in one process on a virtual clock.
 *
 * Side 0 and side 1 are each either a tern interface (a stack's netif whose
 * driver is the wire) or a test endpoint (a callback that receives frames
 * and tern_vwire_send() to transmit). Nothing reads a real clock: the test
 * moves time with tern_vwire_advance(), which delivers every frame due by
 * then, in order, and says when the next one is due.
 *
 * Impairments, per direction, drawn from one seeded generator in a fixed
 * order, so the same seed and the same inputs give the same event sequence
 * (tern_vwire_trace_hash() and the trace callback prove it):
 *   bandwidth   serialization delay: a frame occupies the link for
 *               len * 8 / bandwidth seconds; frames wait for the link in a
 *               FIFO of queue_limit bytes, beyond which they are dropped
 *   loss        the frame vanishes on the wire
 *   corrupt     one random bit of the delivered copy is flipped
 *   duplicate   a second copy is delivered, with its own delay draw
 *   delay       fixed delay_ms plus a uniform 0..jitter_ms (jitter alone can
 *               reorder, as with netem)
 *   reorder     the frame is held back reorder_ms extra, so later frames
 *               overtake it
 *
 * Buffers, by each interface's caps (netif.h; tern_vwire_attach_caps), so
 * the two sides may differ. Zero-copy TX (the stack's buffer carries
 * TERN_NETBUF_F_RELEASE_AFTER_SEND): the wire holds the sender's network
 * buffer itself until delivery (or loss), then the sender's buffer is
 * released with tern_netif_tx_done(). Copy TX: the wire copies the frame
 * into its own (malloc) storage at send time and the stack releases its
 * buffer. Zero-copy RX: the receiver's driver takes a buffer with
 * tern_netif_rx_buffer_get() and the frame is copied in (the DMA); copy RX:
 * tern_input_copy(). A frame the receiver cannot take (pool empty) is
 * dropped and counted in rx_nobufs.
 *
 * Offloads, by each interface's offload bits (netif.h, set before attaching):
 * the wire plays the NIC, so the simulation never depends on a kernel.
 * TX_IPV4_CSUM / TX_L4_CSUM: it completes the checksums on its copy (the
 * frames on the wire are always right). TX_TSO: it cuts a packet with
 * tso_mss into segments (tern_gso_segment), unless the other side has
 * RX_LARGE, which then gets the packet whole, as coalesced. RX_IPV4_CSUM /
 * RX_L4_CSUM on the receiver: the wire verifies and drops a frame with a bad
 * checksum (rx_csum_drops), since the stack no longer does.
 *
 * Not thread-safe: one thread drives the wire and both stacks. */
#ifndef TERN_VWIRE_H
#define TERN_VWIRE_H

#include <stddef.h>
#include <stdint.h>
#include "tern/netif.h"

struct tern_stack;

typedef struct tern_vwire_params {
    uint32_t loss_ppm;      /* probability of loss, parts per million */
    uint32_t dup_ppm;       /* probability of a duplicate */
    uint32_t reorder_ppm;   /* probability a frame is held back */
    uint32_t reorder_ms;    /* how long it is held back */
    uint32_t corrupt_ppm;   /* probability of one flipped bit */
    uint32_t delay_ms;      /* propagation delay */
    uint32_t jitter_ms;     /* extra uniform 0..jitter_ms */
    uint64_t bandwidth_bps; /* 0: infinite (no serialization delay) */
    uint32_t queue_limit;   /* bytes waiting for the link; 0: unlimited */
} tern_vwire_params_t;

typedef struct tern_vwire_stats {
    uint64_t sent;          /* frames offered by this side */
    uint64_t bytes;         /* their bytes */
    uint64_t delivered;     /* copies handed to the other side */
    uint64_t lost;
    uint64_t duplicated;
    uint64_t corrupted;
    uint64_t reordered;
    uint64_t queue_drops;   /* link queue full */
    uint64_t oversize;      /* larger than a frame can be, refused */
    uint64_t rx_nobufs;     /* the receiver had no buffer */
    uint64_t unattached;    /* nobody on the other side, or dropped when a side detached */
    uint64_t tso_packets;   /* TSO packets this side's interface handed over */
    uint64_t segmented;     /* segments the wire cut from them */
    uint64_t rx_csum_drops; /* bad checksums the receiving side's RX offload refused */
} tern_vwire_stats_t;

enum tern_vwire_event_kind {
    TERN_VWIRE_EV_SEND = 1,
    TERN_VWIRE_EV_LOSS,
    TERN_VWIRE_EV_QUEUE_DROP,
    TERN_VWIRE_EV_DUP,
    TERN_VWIRE_EV_CORRUPT,
    TERN_VWIRE_EV_REORDER,
    TERN_VWIRE_EV_DELIVER,
    TERN_VWIRE_EV_RX_NOBUF,
    TERN_VWIRE_EV_UNATTACHED,
};

typedef struct tern_vwire_event {
    int kind;               /* enum tern_vwire_event_kind */
    int from;               /* sending side */
    uint32_t time;          /* virtual ms */
    uint32_t due;           /* SEND/DUP/REORDER: when it will arrive */
    uint32_t len;
    uint32_t seq;           /* frame number on the wire */
    uint32_t bit;           /* CORRUPT: the bit flipped */
    uint64_t digest;        /* FNV-1a of the frame bytes as delivered or sent */
} tern_vwire_event_t;

typedef void (*tern_vwire_trace_fn)(void *ctx, const tern_vwire_event_t *ev);
/* A test endpoint's receive callback. */
typedef void (*tern_vwire_rx_fn)(void *ctx, int side, const uint8_t *frame, size_t len, uint32_t now);

struct tern_vwire_frame;
struct tern_vwire;

typedef struct tern_vwire_side {
    struct tern_vwire *wire;
    int index;
    tern_netif_t *nif;          /* stack endpoint, or NULL */
    tern_vwire_rx_fn rx;        /* test endpoint, or NULL */
    void *rx_ctx;
    tern_vwire_params_t params; /* impairments of frames sent by this side */
    uint64_t link_free_us;      /* when this side's link finishes its queue */
    uint8_t batch;              /* deliver to this side in input batches (tern_vwire_set_batch) */
    uint8_t batch_open;         /* a batch is open on its stack */
    tern_vwire_stats_t stats;
} tern_vwire_side_t;

typedef struct tern_vwire {
    tern_vwire_side_t side[2];
    struct tern_vwire_frame *queue; /* in flight, by (due, seq) */
    uint64_t clock_ms;              /* virtual time since the start */
    uint64_t rng;
    uint64_t hash;                  /* running FNV-1a over every event */
    uint32_t seq;
    uint32_t in_flight;
    tern_vwire_trace_fn trace;
    void *trace_ctx;
    uint8_t scratch[TERN_NETBUF_FRAME_SIZE]; /* a corrupted copy, copy-RX path */
} tern_vwire_t;

/* Start a wire at virtual time 0 with the same impairments both ways
 * (params NULL: a perfect wire). */
void tern_vwire_init(tern_vwire_t *w, uint64_t seed, const tern_vwire_params_t *params);
/* Input batching (stack.h tern_input_batch_begin/end) for frames delivered
 * to side's stack: the frames due at one virtual millisecond go to it as
 * one batch, as a driver that drains its queue per wake-up passes them.
 * Off by default. */
void tern_vwire_set_batch(tern_vwire_t *w, int side, int on);
/* Change one direction's impairments (frames sent by side). */
void tern_vwire_set_params(tern_vwire_t *w, int side, const tern_vwire_params_t *params);

/* Make nif the wire's side: fills nif->ops and nif->driver (and mtu 1500 and
 * a name if unset; the caller sets the MAC), registers it with
 * tern_netif_add(stack, nif) and sets the link up. Returns the add result.
 * tern_netif_remove() (or tern_stack_deinit()) detaches it again, and every
 * buffer of that stack the wire holds is given back. */
int tern_vwire_attach(tern_vwire_t *w, int side, struct tern_stack *stack, tern_netif_t *nif);
/* The same with the interface's caps (TERN_NETIF_CAP_*) given; plain
 * tern_vwire_attach uses TERN_NETIF_CAPS_DEFAULT, the build's mode. */
int tern_vwire_attach_caps(tern_vwire_t *w, int side, struct tern_stack *stack, tern_netif_t *nif, uint8_t caps);
/* Make side a test endpoint receiving through rx. */
void tern_vwire_attach_endpoint(tern_vwire_t *w, int side, tern_vwire_rx_fn rx, void *ctx);
/* Transmit a frame from a test endpoint (copied). TERN_OK or
 * TERN_ERR_MSGSIZE (longer than TERN_NETBUF_FRAME_SIZE). */
int tern_vwire_send(tern_vwire_t *w, int side, const void *frame, size_t len);

/* Move virtual time to now (ms, wrapping like the stack's time; it must not
 * go back) delivering every frame due by then, each at its own due time.
 * Returns the time the next frame is due, or now + 1000 when none is. */
uint32_t tern_vwire_advance(tern_vwire_t *w, uint32_t now);
/* Set the virtual time (e.g. to the stack's start time) while nothing is in
 * flight: TERN_OK, or TERN_ERR_STATE. */
int tern_vwire_set_time(tern_vwire_t *w, uint32_t now);
/* The wire's current virtual time. */
uint32_t tern_vwire_now(const tern_vwire_t *w);
/* Frames in flight. */
uint32_t tern_vwire_pending(const tern_vwire_t *w);

/* Drive the wire and every attached stack until virtual time until: deliver
 * frames and call tern_poll() on each stack whenever it is due. Returns the
 * time reached (until). */
uint32_t tern_vwire_run(tern_vwire_t *w, uint32_t until);

/* Hash of every event so far (kind, time, side, length, frame digest). */
uint64_t tern_vwire_trace_hash(const tern_vwire_t *w);
void tern_vwire_set_trace(tern_vwire_t *w, tern_vwire_trace_fn fn, void *ctx);
const tern_vwire_stats_t *tern_vwire_stats(const tern_vwire_t *w, int side);

/* Drop everything in flight (giving held buffers back) and detach. Call
 * before the stacks are deinitialised, or after: frames are released to a
 * stack only while its side is attached. */
void tern_vwire_destroy(tern_vwire_t *w);

#endif
