/* TCP (RFC 9293) and the raw TCP API.
 *
 * The raw API runs inside the stack with the core lock held (from a
 * callback, a service, or an application thread holding the lock), in the
 * style of lwIP's raw API. A connection is a tern_tcp_pcb_t handle:
 *
 *   listener = tern_tcp_listen(stack, port, backlog, &cbs, arg, &err)
 *   pcb      = tern_tcp_connect(stack, addr, port, &cbs, arg, &err)
 *   tern_tcp_write / tern_tcp_write_span + tern_tcp_write_commit
 *   tern_tcp_read  / tern_tcp_peek + tern_tcp_consume
 *   tern_tcp_shutdown (half-close), tern_tcp_close (graceful), tern_tcp_abort (RST)
 *
 * Handle lifetime: the handle is the application's until it calls
 * tern_tcp_close() or tern_tcp_abort(), or the error callback runs; after
 * any of these the handle must not be used again (close continues the
 * graceful shutdown in the background and frees everything itself).
 *
 * Memory (docs/tcp.md): the connection structure (SOCKET category, owner
 * given at creation, default 0) is allocated at creation; the receive ring
 * (TCP_STREAM_RX) at the first byte received, the send ring (TCP_STREAM_TX)
 * at the first write; the range descriptor pool (TCP_RANGES) and the
 * TIME-WAIT table (SOCKET, owner 0) once, at the first listen or connect. */
#ifndef TERN_TCP_H
#define TERN_TCP_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/counters.h"
#include "tern/netif.h"
#if TERN_IPV6
#include "tern/ipv6.h"
#endif

struct tern_stack;
struct tern_tcp_pcb;
typedef struct tern_tcp_pcb tern_tcp_pcb_t;

/* Connection states (RFC 9293 3.3.2). */
enum tern_tcp_state {
    TERN_TCP_CLOSED = 0,
    TERN_TCP_LISTEN,
    TERN_TCP_SYN_SENT,
    TERN_TCP_SYN_RECEIVED,
    TERN_TCP_ESTABLISHED,
    TERN_TCP_FIN_WAIT_1,
    TERN_TCP_FIN_WAIT_2,
    TERN_TCP_CLOSE_WAIT,
    TERN_TCP_CLOSING,
    TERN_TCP_LAST_ACK,
    TERN_TCP_TIME_WAIT
};

/* Callbacks; any may be NULL. They run with the core lock held, from inside
 * tern_input/tern_poll or an API call, and may call the API on the same
 * connection (write, read, close, abort). */
typedef struct tern_tcp_callbacks {
    /* Listener: a new connection reached ESTABLISHED. Return TERN_OK to take
     * it (set its callbacks with tern_tcp_set_callbacks), TERN_ERR_WOULDBLOCK
     * for "not now" (the handshake's ACK is dropped and the connection stays
     * in SYN-RECEIVED: the SYN-ACK retransmission or the peer's next segment
     * offers it again, within the SYN-ACK retries), or another error to
     * refuse it (it is reset). NULL accept: every connection is refused. */
    int (*accept)(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb);
    /* Active open completed. */
    void (*connected)(void *arg, tern_tcp_pcb_t *pcb);
    /* New bytes in the receive stream. */
    void (*readable)(void *arg, tern_tcp_pcb_t *pcb);
    /* Send space freed (acknowledged data left the send ring). */
    void (*writable)(void *arg, tern_tcp_pcb_t *pcb);
    /* The peer sent FIN: no more bytes will come after those queued. */
    void (*peer_closed)(void *arg, tern_tcp_pcb_t *pcb);
    /* The connection died: TERN_ERR_RESET, TERN_ERR_TIMEOUT, TERN_ERR_REFUSED,
     * TERN_ERR_NOMEM. The handle is freed when this returns. */
    void (*error)(void *arg, tern_tcp_pcb_t *pcb, int err);
} tern_tcp_callbacks_t;

/* Per-connection options. */
#define TERN_TCP_OPT_NODELAY 0x01u   /* no Nagle: send small segments at once */
#define TERN_TCP_OPT_KEEPALIVE 0x02u /* keep-alive probes (TERN_TCP_KEEPIDLE_MS...) */
/* Offer no SACK (RFC 2018) / no timestamps (RFC 7323) in the SYN or SYN-ACK.
 * They act on the handshake only: set them on a listener (its children
 * inherit them) or for every new connection with tern_tcp_set_default_options. */
#define TERN_TCP_OPT_NOSACK 0x04u
#define TERN_TCP_OPT_NOTS 0x08u

/* One row of tern_tcp_list (netstat). */
typedef struct tern_tcp_info {
    uint8_t state;        /* enum tern_tcp_state */
    tern_ip4_t local_addr;
    uint16_t local_port;
    tern_ip4_t remote_addr;
    uint16_t remote_port;
    uint32_t recv_queue;  /* bytes received, not yet read */
    uint32_t send_queue;  /* bytes written, not yet acknowledged */
    uint32_t bytes_held;  /* heap bytes: structure and both rings */
    uint32_t cwnd;
    uint32_t srtt_ms;
    uint32_t retransmits;
#if TERN_IPV6
    uint8_t family;       /* TERN_TCP_FAMILY_IP4 (0): the addresses above; IP6: these */
    tern_ip6_t local_addr6;
    tern_ip6_t remote_addr6;
#endif
} tern_tcp_info_t;
#define TERN_TCP_FAMILY_IP4 0u
#define TERN_TCP_FAMILY_IP6 1u

struct tcp_range;
struct tcp_tw;

/* TCP state in struct tern_stack. */
typedef struct tern_tcp {
    tern_tcp_pcb_t *pcbs;      /* every connection and listener */
    tern_tcp_pcb_t *hash[TERN_TCP_HASH_SIZE]; /* demultiplexing: the list's pcbs by 4-tuple (listeners
                                               * by port), open addressing (tcp_conn.c) */
    tern_tcp_pcb_t *dead;      /* closed while a callback ran; freed after it */
    struct tcp_range *range_pool; /* TERN_TCP_RANGE_COUNT descriptors (TCP_RANGES): out-of-order
                                   * ranges received and SACKed ranges sent, from one pool */
    struct tcp_range *range_free;
    struct tcp_tw *tw;         /* TERN_TCP_TIMEWAIT_MAX entries (SOCKET, owner 0) */
    uint32_t isn_key[4];       /* SipHash key for RFC 6528 ISNs */
    uint32_t cookie_key[2][4]; /* SYN cookie keys: [0] of period cookie_epoch, [1] of the one before */
    uint32_t cookie_epoch;     /* now / TERN_TCP_SYN_COOKIE_PERIOD_MS when [0] was drawn */
    uint32_t cookie_sent;      /* time the last cookie went out */
    uint8_t cookie_keys;       /* keys drawn: 0 none yet, 1 only [0], 2 both */
    uint8_t batch;             /* input batch depth (tern_input_batch_begin); in padding */
    uint8_t batch_acks;        /* a connection has TF_ACK_BATCH set */
    uint32_t challenge_time;   /* RFC 5961 rate limit window start */
    uint32_t timewait_ms;      /* TIME-WAIT length (default TERN_TCP_TIMEWAIT_MS) */
    uint16_t challenge_count;
    uint16_t next_port;        /* ephemeral port cursor */
    uint16_t half_open;        /* connections in SYN-RECEIVED */
    uint16_t busy;             /* callback depth: frees are deferred */
    uint16_t range_free_count;
    uint16_t tw_count;
    uint16_t range_peak;       /* most descriptors ever in use at once */
    uint16_t default_opts;     /* TERN_TCP_OPT_* every new connection starts with */
    uint16_t small_ring_logged; /* a ring below one segment was warned about (once) */
    uint32_t hash_used;        /* pcbs in hash */
    uint32_t unhashed;         /* pcbs on the list not in hash: lookups walk the list while any */
} tern_tcp_t;

/* Listen on port (0.0.0.0); at most backlog connections half-open at once
 * (and TERN_TCP_SYN_MAX over the whole stack). NULL on error (*err). */
tern_tcp_pcb_t *tern_tcp_listen(struct tern_stack *stack, uint16_t port, unsigned backlog,
                                const tern_tcp_callbacks_t *cbs, void *arg, int *err);
/* Active open to addr:port from an ephemeral port. The handle is returned at
 * once (TERN_ERR_INPROGRESS semantics); connected or error follows. */
tern_tcp_pcb_t *tern_tcp_connect(struct tern_stack *stack, tern_ip4_t addr, uint16_t port,
                                 const tern_tcp_callbacks_t *cbs, void *arg, int *err);
#if TERN_IPV6
/* TCP over IPv6 (docs/network.md, "IPv6"). A listener on :: for port: it
 * takes IPv6 and also IPv4 connections (the dual-stack default, as Linux's
 * bindv6only=0), or IPv6 only with TERN_TCP_LISTEN_V6ONLY, which lets an
 * IPv4 listener (tern_tcp_listen) share the port. */
#define TERN_TCP_LISTEN_V6ONLY 0x01u
tern_tcp_pcb_t *tern_tcp_listen6(struct tern_stack *stack, uint16_t port, unsigned backlog, unsigned flags,
                                 const tern_tcp_callbacks_t *cbs, void *arg, int *err);
/* Active open to [addr]:port (unicast, not ours), from the source address
 * the route picks (RFC 6724 as ipv6.c does it) and an ephemeral port. MSS:
 * the path MTU less 60 (RFC 8201). */
tern_tcp_pcb_t *tern_tcp_connect6(struct tern_stack *stack, const tern_ip6_t *addr, uint16_t port,
                                  const tern_tcp_callbacks_t *cbs, void *arg, int *err);
#endif
void tern_tcp_set_callbacks(tern_tcp_pcb_t *pcb, const tern_tcp_callbacks_t *cbs, void *arg);
void *tern_tcp_arg(const tern_tcp_pcb_t *pcb);
/* Ledger owner of the connection's memory (a socket id), from now on. */
void tern_tcp_set_owner(tern_tcp_pcb_t *pcb, unsigned owner);
/* TERN_TCP_OPT_* bits. */
void tern_tcp_set_options(tern_tcp_pcb_t *pcb, unsigned opts);
/* Keep-alive timing (RFC 1122 4.2.3.6) for this connection (a listener passes
 * it to its children): the first probe after idle_ms without a segment from
 * the peer, then one every intvl_ms; after count unanswered probes the
 * connection dies with TERN_ERR_TIMEOUT. Defaults TERN_TCP_KEEPIDLE_MS,
 * TERN_TCP_KEEPINTVL_MS, TERN_TCP_KEEPCNT. Probing itself is switched on by
 * TERN_TCP_OPT_KEEPALIVE. TERN_ERR_INVAL for 0 or out-of-range values. */
int tern_tcp_set_keepalive(tern_tcp_pcb_t *pcb, uint32_t idle_ms, uint32_t intvl_ms, unsigned count);
/* Ring sizes (bytes, 0 = keep); only before the ring exists. */
int tern_tcp_set_bufsizes(tern_tcp_pcb_t *pcb, uint32_t rcvbuf, uint32_t sndbuf);

/* Copy up to len bytes into the send stream; returns bytes taken (0 when
 * full), or an error (TERN_ERR_STATE after shutdown, TERN_ERR_NOMEM when the
 * ring cannot be allocated). Transmission starts at once. */
int tern_tcp_write(tern_tcp_pcb_t *pcb, const void *data, size_t len);
/* Zero-copy write: a contiguous writable span of the send ring (length
 * returned, 0 when full); fill it, then commit n <= length bytes. */
int tern_tcp_write_span(tern_tcp_pcb_t *pcb, uint8_t **span);
int tern_tcp_write_commit(tern_tcp_pcb_t *pcb, size_t n);
/* Bytes the send ring can take now. */
size_t tern_tcp_send_space(const tern_tcp_pcb_t *pcb);
/* Copy out up to len received bytes; returns the count (0: nothing now). */
int tern_tcp_read(tern_tcp_pcb_t *pcb, void *buf, size_t len);
/* Zero-copy read: a contiguous readable span (length returned); consume
 * n <= length bytes when done with them. */
int tern_tcp_peek(tern_tcp_pcb_t *pcb, const uint8_t **span);
int tern_tcp_consume(tern_tcp_pcb_t *pcb, size_t n);
size_t tern_tcp_recv_avail(const tern_tcp_pcb_t *pcb);
/* Has the peer closed its side and every byte been read? */
int tern_tcp_at_eof(const tern_tcp_pcb_t *pcb);
/* Half-close: TERN_SHUT_WR-like; FIN after the queued bytes. */
int tern_tcp_shutdown(tern_tcp_pcb_t *pcb);
/* Graceful close; the handle is gone. Unread received data makes it an
 * abort (RFC 9293 3.10.4 / RFC 2525 2.17). */
int tern_tcp_close(tern_tcp_pcb_t *pcb);
/* Reset the connection at once; the handle is gone, no error callback. */
void tern_tcp_abort(tern_tcp_pcb_t *pcb);
int tern_tcp_state(const tern_tcp_pcb_t *pcb);
const char *tern_tcp_state_name(int state);

/* Fill up to max rows (connections, listeners, TIME-WAIT entries); returns
 * the total number of rows (which may exceed max). */
size_t tern_tcp_list(const struct tern_stack *stack, tern_tcp_info_t *rows, size_t max);
const tern_tcp_stats_t *tern_tcp_stats(const struct tern_stack *stack);
/* The range descriptor pool (out-of-order ranges and SACK scoreboards):
 * size, descriptors in use now and the most ever in use at once (0 until
 * the pool exists, at the first listen or connect). */
typedef struct tern_tcp_range_usage {
    unsigned count, in_use, peak;
} tern_tcp_range_usage_t;
void tern_tcp_range_usage(const struct tern_stack *stack, tern_tcp_range_usage_t *out);
/* TERN_TCP_OPT_* bits every connection created from now on (connect,
 * listen) starts with; 0 by default. */
void tern_tcp_set_default_options(struct tern_stack *stack, unsigned opts);
/* Change the TIME-WAIT length (ms) for entries created from now on. */
void tern_tcp_set_timewait(struct tern_stack *stack, uint32_t ms);

#endif
