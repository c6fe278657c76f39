/* A user-mode network (libslirp, as QEMU's -netdev user) as a tern interface.
 *
 * No root, no TAP: the frames tern sends go into a libslirp instance, which
 * plays the LAN QEMU guests see: 10.0.2.0/24, slirp and its DHCP server at
 * 10.0.2.2 (slirp's built-in DHCP hands out 10.0.2.15 first). It runs in
 * restricted mode with its DNS forwarder off, so nothing tern sends can
 * leave the machine; the only way in is a host forward: connections to
 * 127.0.0.1:HOSTPORT on the host become connections to the guest's port
 * (80 by default).
 *
 * Threads: libslirp is not thread-safe, so one thread of the driver's own
 * runs it (its fds, its timers). Frames from tern (ops->output, called with
 * the core lock held) are copied into a queue that thread drains; frames
 * from slirp are handed to tern under the core lock (tern_input with a
 * network buffer on zero-copy RX builds, tern_input_copy otherwise), then
 * the posix runner is woken so that tern recomputes its timers.
 *
 * Lifetime: tern_slirp_open, tern_netif_add(stack, &s->netif),
 * tern_slirp_start; at the end tern_slirp_stop (joins the thread), then
 * tern_netif_remove, then tern_slirp_close. */
#ifndef TERN_SLIRP_H
#define TERN_SLIRP_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/netif.h"

struct tern_posix;
struct tern_posix_runner;

/* slirp's defaults (QEMU's): its DHCP server leases TERN_SLIRP_GUEST (in
 * restricted mode without a router option); a static fallback uses these. */
#define TERN_SLIRP_NET TERN_IP4(10, 0, 2, 0)
#define TERN_SLIRP_MASK TERN_IP4(255, 255, 255, 0)
#define TERN_SLIRP_GATEWAY TERN_IP4(10, 0, 2, 2)
#define TERN_SLIRP_GUEST TERN_IP4(10, 0, 2, 15)
#define TERN_SLIRP_DEFAULT_MAC {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

/* Frames queued from tern to slirp at most (host memory, not tern's). */
#define TERN_SLIRP_TXQ 64u

typedef struct tern_slirp_config {
    uint16_t host_port;   /* forward 127.0.0.1:host_port -> guest; 0: no forward */
    uint16_t guest_port;  /* 0: 80 */
    const uint8_t *mac;   /* the guest's MAC; NULL: TERN_SLIRP_DEFAULT_MAC */
} tern_slirp_config_t;

typedef struct tern_slirp_stats {
    uint64_t rx_frames;   /* frames slirp sent that tern took */
    uint64_t rx_bytes;
    uint64_t rx_nobufs;   /* dropped: no network buffer */
    uint64_t rx_bad;      /* dropped: shorter than an Ethernet header or longer than a buffer */
    uint64_t tx_frames;   /* frames handed to slirp */
    uint64_t tx_bytes;
    uint64_t tx_dropped;  /* dropped: queue full (slirp thread behind) */
} tern_slirp_stats_t;

struct tern_slirp_timer;

typedef struct tern_slirp {
    tern_netif_t netif;              /* register with tern_netif_add */
    struct tern_posix *px;           /* core lock taken around tern_input */
    struct tern_posix_runner *runner; /* woken after input; may be NULL */
    void *slirp;                     /* the Slirp instance */
    uint16_t host_port;
    uint16_t guest_port;
    atomic_int fwd_added;  /* the host forward is listening (added once tern has an address) */
    int wake_fd;                     /* eventfd: frames queued, notify, stop */
    pthread_t thread;
    int started;
    atomic_int stop;
    pthread_mutex_t txq_lock;
    int txq_lock_ok;                 /* txq_lock initialised */
    uint8_t (*txq)[TERN_NETBUF_FRAME_SIZE]; /* TERN_SLIRP_TXQ frames */
    uint16_t txq_len[TERN_SLIRP_TXQ];
    unsigned txq_head, txq_count;
    struct tern_slirp_timer *timers;
    struct pollfd *pfds;             /* the slirp thread's poll set */
    unsigned npfds, cap_pfds;
    tern_slirp_stats_t stats;        /* rx_*: under the core lock; tx_*: under txq_lock */
} tern_slirp_t;

/* Create the slirp instance and the host forward, fill s->netif (ops,
 * driver, MAC, MTU 1500, name "slirp0"). px is the port whose core lock the
 * stack uses. TERN_ERR_ADDRINUSE when the host port cannot be bound,
 * TERN_ERR_NOMEM, TERN_ERR_NOTSUP (slirp refused to start). */
int tern_slirp_open(tern_slirp_t *s, struct tern_posix *px, const tern_slirp_config_t *cfg);
/* Start the slirp thread (after tern_netif_add). runner may be NULL. */
int tern_slirp_start(tern_slirp_t *s, struct tern_posix_runner *runner);
/* Stop and join the slirp thread (idempotent). Call without the core lock. */
void tern_slirp_stop(tern_slirp_t *s);
/* Free slirp and the queue (after tern_netif_remove). */
void tern_slirp_close(tern_slirp_t *s);
/* A copy of the statistics. Call with the core lock held. */
/* 1 once the host forward listens: libslirp drops a forward for good when a
 * connection finds no guest, so it is added only after tern has an address
 * (DHCP bound or static). */
int tern_slirp_forward_ready(tern_slirp_t *s);
void tern_slirp_get_stats(tern_slirp_t *s, tern_slirp_stats_t *out);

#endif
