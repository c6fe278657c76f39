/* tern sockets: one API for UDP and TCP.
 *
 * Sockets are small integers (1..TERN_SOCKET_MAX); the id is also the
 * socket's owner in the ledger, so "what does socket 5 hold" is
 * tern_ledger_owner_bytes(&stack->ledger, 5). Its structure is allocated at
 * tern_socket() (category SOCKET, owner = the id): for TCP one block that
 * holds the connection structure too (240 bytes with its heap header on
 * Cortex-M, all an idle established connection costs); datagrams waiting
 * in its queue and its stream rings are charged to it too; tern_close()
 * frees all of it (a TCP connection closing gracefully in the background
 * keeps its block, charged to the stack, owner 0, and frees it when it
 * ends). docs/memory.md has the life cycle.
 *
 * TCP sockets sit on the raw TCP API (tcp.h): the raw callbacks, run by the
 * stack with the core lock held, update the socket and wake waiters; the
 * calls below take the lock. Connections waiting for tern_accept are the
 * listener's (its id in the ledger) until accepted.
 *
 * Threads: every call takes the port's core lock itself; application threads
 * call it directly (core locking, as lwIP's LOCK_TCPIP_CORE), while the
 * stack thread runs tern_input/tern_poll under the same lock. Never call a
 * socket function from inside a raw-API callback or a service poll: those
 * run with the core lock held already (the lock is not recursive).
 *
 * Blocking: with TERN_OS=1 a socket blocks by default, bounded by its
 * TERN_SO_RCVTIMEO / TERN_SO_SNDTIMEO (0 = forever), and TERN_MSG_DONTWAIT or
 * TERN_SO_NONBLOCK make a call non-blocking. A port without a wait hook
 * cannot block: calls then fail with TERN_ERR_WOULDBLOCK instead. With
 * TERN_OS=0 (no OS, main loop) every call is non-blocking, and the
 * blocking-only names (TERN_SO_RCVTIMEO, TERN_SO_SNDTIMEO,
 * tern_socket_set_blocking) are compile-time errors that say so: use
 * tern_socket_poll() with a zero timeout from the main loop.
 *
 * Errors are negative tern_err_t values (err.h gives the errno names); no
 * call crashes on a bad id, a closed socket or a wrong state. See
 * docs/sockets.md. */
#ifndef TERN_SOCKET_H
#define TERN_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/netbuf.h"
#include "tern/ipv6.h"
#include "tern/netif.h"

struct tern_stack;
struct tern_tcp_pcb;

/* Address families of tern_sockaddr_t. TERN_FAMILY_IP4 is 0, so every
 * IPv4 initializer written before the family existed ({.addr, .port}, a
 * zeroed struct) still means IPv4. */
#define TERN_FAMILY_IP4 0u
#define TERN_FAMILY_IP6 1u

/* A socket address. IPv4: family TERN_FAMILY_IP4, addr (host order), port.
 * IPv6 (TERN_IPV6 builds): family TERN_FAMILY_IP6, addr6 (network order),
 * port; addr is unused. The family byte sits in the padding after port, so
 * an IPv4-only build's sockaddr (and every pcb and socket holding one) is
 * the size it was (8 bytes); addr6 exists only with TERN_IPV6.
 *
 * Binding (docs/sockets.md, "IPv6"): TERN_FAMILY_IP4 with addr 0 takes IPv4
 * only; TERN_FAMILY_IP6 with :: takes IPv6 and IPv4 (a dual-stack socket)
 * unless TERN_SO_V6ONLY is set; a specific address takes its family only.
 * IPv4 peers of a dual-stack socket are reported as TERN_FAMILY_IP4 addresses
 * (not as v4-mapped ::ffff:a.b.c.d). */
typedef struct tern_sockaddr {
    tern_ip4_t addr; /* host order; 0 = any */
    uint16_t port;   /* host order; 0 = any / ephemeral */
    uint8_t family;  /* TERN_FAMILY_IP4 (0) or TERN_FAMILY_IP6 */
#if TERN_IPV6
    tern_ip6_t addr6; /* TERN_FAMILY_IP6: network order; :: = any */
#endif
} tern_sockaddr_t;

enum tern_socket_type { TERN_SOCK_DGRAM = 1, TERN_SOCK_STREAM = 2 };

/* flags for send and receive calls */
#define TERN_MSG_DONTWAIT 0x01 /* this call does not block */
#define TERN_MSG_PEEK 0x02     /* receive without removing (not with the netbuf variant) */

/* shutdown directions */
enum tern_shutdown_how { TERN_SHUT_RD = 0, TERN_SHUT_WR = 1, TERN_SHUT_RDWR = 2 };

/* Socket options: value is a uint32_t (0/1 for switches, counts, ms).
 * Fixed numbers: the same in every build. */
enum tern_sockopt {
    TERN_SO_NONBLOCK = 1,    /* every call non-blocking (TERN_OS=0: always 1) */
    TERN_SO_BROADCAST = 2,   /* UDP: may send to and receive broadcasts */
    TERN_SO_REUSEADDR = 3,   /* UDP: share the port with other REUSEADDR sockets (set before bind) */
    TERN_SO_RCVBUF = 4,      /* TCP: receive ring bytes (536..; before the ring exists) */
    TERN_SO_SNDBUF = 5,      /* TCP: send ring bytes */
    TERN_SO_UDP_RXQ = 6,     /* UDP: datagrams queued at most, 1..TERN_NETBUF_COUNT
                                (ipconfigUDP_MAX_RX_PACKETS; default TERN_UDP_RXQ_DEFAULT) */
    TERN_SO_ERROR = 7,       /* read only: pending error (negative tern_err_t as int32), cleared by reading */
    TERN_SO_TYPE = 8,        /* read only: TERN_SOCK_DGRAM or TERN_SOCK_STREAM */
    TERN_SO_RCVTIMEO_ = 9,   /* use TERN_SO_RCVTIMEO: ms, 0 = forever (TERN_OS=1 only) */
    TERN_SO_SNDTIMEO_ = 10,  /* use TERN_SO_SNDTIMEO */
    TERN_SO_TCP_NODELAY = 11, /* 1: Nagle off */
    TERN_SO_KEEPALIVE = 12,   /* 1: keep-alive probes */
    TERN_SO_TCP_KEEPIDLE = 13, /* ms idle before the first probe */
    TERN_SO_TCP_KEEPINTVL = 14, /* ms between probes */
    TERN_SO_TCP_KEEPCNT = 15,  /* unanswered probes before the connection dies (1..32) */
    TERN_SO_LINGER = 16,     /* TCP close: ms, UINT32_MAX = off (default), 0 = abort with RST */
    TERN_SO_RXQ_LEN = 17,    /* read only, UDP: datagrams queued now */
    TERN_SO_V6ONLY = 18      /* 1: a socket bound to :: takes IPv6 only (set before bind; TERN_IPV6 builds) */
};

/* A compile-time error usable where an expression is expected: a C11
 * _Static_assert inside a struct declared in sizeof. Its message names the
 * problem; the expression would otherwise be the int 0. */
#define TERN_COMPILE_ERROR_(msg) ((int)(sizeof(struct { _Static_assert(0, msg); int tern_unused_; }) * 0u))

#if TERN_OS
#define TERN_SO_RCVTIMEO TERN_SO_RCVTIMEO_
#define TERN_SO_SNDTIMEO TERN_SO_SNDTIMEO_
#else
#define TERN_SO_RCVTIMEO \
    TERN_COMPILE_ERROR_("TERN_SO_RCVTIMEO needs TERN_OS=1: without an OS sockets never block; use tern_socket_poll() with timeout 0 from the main loop")
#define TERN_SO_SNDTIMEO \
    TERN_COMPILE_ERROR_("TERN_SO_SNDTIMEO needs TERN_OS=1: without an OS sockets never block; use tern_socket_poll() with timeout 0 from the main loop")
#endif

struct tern_socket;
/* The stack's socket table: a slot per id (the structures are on the heap),
 * the id handed out last (ids are reused as late as possible) and a serial
 * number telling a socket from a later one with the same id (a blocked call
 * whose socket is closed under it returns TERN_ERR_BADF). */
typedef struct tern_socket_table {
    struct tern_socket *slots[TERN_SOCKET_MAX];
    uint32_t serial;
    uint16_t last_id;
    uint16_t waiters; /* threads waiting in a socket call: wake only when some wait */
} tern_socket_table_t;

/* A new socket of type TERN_SOCK_DGRAM or TERN_SOCK_STREAM: its id (> 0),
 * or TERN_ERR_MFILE (every id in use), TERN_ERR_NOMEM (no heap for its
 * structure), TERN_ERR_INVAL. */
int tern_socket(struct tern_stack *stack, int type);
/* Bind (port 0: ephemeral). TERN_ERR_INVAL when bound already or addr not
 * ours, TERN_ERR_ADDRINUSE. TCP: the port a later tern_listen uses (a
 * listener takes connections to any of our addresses). */
int tern_bind(struct tern_stack *stack, int sock, const tern_sockaddr_t *local);
/* TCP: listen on the bound port (an ephemeral one when unbound). backlog:
 * established connections waiting for tern_accept, clamped to
 * 1..TERN_TCP_BACKLOG_MAX; one more is reset. TERN_OK, TERN_ERR_STATE (not a
 * new socket), TERN_ERR_ADDRINUSE, TERN_ERR_NOMEM, TERN_ERR_NOTSUP (UDP). */
int tern_listen(struct tern_stack *stack, int sock, int backlog);
/* TCP: the next established connection as a new socket (its id), its peer
 * in *remote (may be NULL). Blocks up to TERN_SO_RCVTIMEO (TERN_ERR_TIMEOUT);
 * non-blocking: TERN_ERR_WOULDBLOCK. With a connection queued and every
 * socket id in use, TERN_ERR_MFILE: at once when non-blocking, else after
 * waiting up to TERN_SO_RCVTIMEO for a close to free an id. TERN_ERR_NOMEM
 * when no heap is free for the new socket (the connection stays queued in
 * both cases), TERN_ERR_STATE when not listening. */
int tern_accept(struct tern_stack *stack, int sock, tern_sockaddr_t *remote);
/* UDP: set the default destination and receive only from it (binds an
 * ephemeral port first when unbound). remote->port 0 (or NULL) disconnects.
 * TCP: open a connection from an ephemeral port. Blocking: waits for
 * ESTABLISHED up to TERN_SO_SNDTIMEO: TERN_OK, TERN_ERR_REFUSED,
 * TERN_ERR_TIMEOUT, TERN_ERR_RESET. Non-blocking: TERN_ERR_INPROGRESS; the
 * end is TERN_POLLOUT, the result in TERN_SO_ERROR (0 = connected).
 * TERN_ERR_STATE when connected or listening, TERN_ERR_NOTSUP when bound to
 * a port (the raw API picks the port of an active open). */
int tern_connect(struct tern_stack *stack, int sock, const tern_sockaddr_t *remote);
/* Bytes sent (a whole datagram for UDP: at most TERN_UDP_MAX_PAYLOAD), or an
 * error. Blocks only for a network buffer (TERN_SO_SNDTIMEO). An unbound UDP
 * socket is bound to an ephemeral port. to NULL: the connected peer
 * (TERN_ERR_STATE when not connected). */
int tern_sendto(struct tern_stack *stack, int sock, const void *data, size_t len, int flags,
                const tern_sockaddr_t *to);
int tern_send(struct tern_stack *stack, int sock, const void *data, size_t len, int flags);
/* Bytes received, or an error. UDP: one datagram; a buffer too small for it
 * gives TERN_ERR_MSGSIZE and leaves the datagram queued. After
 * tern_shutdown(RD) (or RDWR) and with the queue empty: TERN_ERR_CLOSED.
 * TCP: bytes read (> 0), 0 at the end of the stream (the peer's FIN and
 * everything before it read, or shut down for reading),
 * TERN_ERR_WOULDBLOCK, TERN_ERR_TIMEOUT, TERN_ERR_RESET (or the error that
 * ended the connection). TERN_MSG_PEEK returns bytes without taking them
 * (at most one contiguous piece of the ring). */
int tern_recvfrom(struct tern_stack *stack, int sock, void *buf, size_t len, int flags, tern_sockaddr_t *from);
int tern_recv(struct tern_stack *stack, int sock, void *buf, size_t len, int flags);
/* RD: queued datagrams are dropped, later ones too, and receivers (blocked
 * ones included) get TERN_ERR_CLOSED. WR: sends fail with TERN_ERR_CLOSED.
 * The socket keeps its id and port until tern_close().
 * TCP: WR sends FIN after the queued bytes (half-close); RD drops unread
 * and later bytes, receives return 0. TERN_ERR_STATE when not connected. */
int tern_shutdown(struct tern_stack *stack, int sock, int how);
/* Frees everything the socket held (queued datagrams included); threads
 * blocked on it return TERN_ERR_BADF.
 * TCP, TERN_SO_LINGER off (default): the graceful close continues in the
 * background (FIN after the queued bytes) and the call returns at once; the
 * connection frees its memory when it ends (TIME-WAIT costs a 28-byte table
 * entry). TERN_SO_LINGER 0: abort with RST. TERN_SO_LINGER N ms (TERN_OS=1,
 * blocking socket): wait until the queued bytes and the FIN are
 * acknowledged or N ms passed, then abort if not. Unread received bytes at
 * close: RST (RFC 2525 2.17). A listener resets the connections waiting in
 * its queue. */
int tern_close(struct tern_stack *stack, int sock);
/* Close every open socket (tern_stack_deinit calls it). */
void tern_socket_close_all(struct tern_stack *stack);
int tern_setsockopt(struct tern_stack *stack, int sock, int opt, uint32_t value);
#if TERN_IPV6
/* IPv6 multicast (UDP sockets bound to :: or the group): join a group of
 * link scope or wider on every IPv6 interface (MLDv2 reports, RFC 3810,
 * and the driver's filter hook) so datagrams to it and the socket's port
 * arrive; leave it again (closing the socket leaves too). At most
 * TERN_IPV6_MCAST_GROUPS memberships per stack (TERN_ERR_NOMEM); a
 * datagram to a group goes to one member socket, the most specific. Errors:
 * TERN_ERR_STATE (not bound to IPv6), TERN_ERR_INVAL (not such a group;
 * leave: not a member), TERN_ERR_ADDRINUSE (joined already), TERN_ERR_NOTSUP
 * (a TCP socket). (RFC 3493's IPV6_JOIN_GROUP takes an interface index:
 * tern joins on every IPv6 interface, of which there is one in practice.) */
int tern_join_group(struct tern_stack *stack, int sock, const tern_ip6_t *group);
int tern_leave_group(struct tern_stack *stack, int sock, const tern_ip6_t *group);
#endif
int tern_getsockopt(struct tern_stack *stack, int sock, int opt, uint32_t *value);
int tern_getsockname(struct tern_stack *stack, int sock, tern_sockaddr_t *local);
/* TERN_ERR_STATE when not connected. */
int tern_getpeername(struct tern_stack *stack, int sock, tern_sockaddr_t *remote);

#if TERN_OS
/* Blocking (1) or non-blocking (0) mode: the same as TERN_SO_NONBLOCK = !blocking. */
int tern_socket_set_blocking(struct tern_stack *stack, int sock, int blocking);
#else
#define tern_socket_set_blocking(stack, sock, blocking) \
    ((void)(stack), (void)(sock), (void)(blocking), TERN_COMPILE_ERROR_("tern_socket_set_blocking needs TERN_OS=1: without an OS sockets never block; use tern_socket_poll() with timeout 0 from the main loop"))
#endif

/* Wait on several sockets at once. */
#define TERN_POLLIN 0x01   /* UDP: a datagram is queued; TCP: bytes or EOF to read, a connection to accept;
                              or a pending error / shutdown makes recv return */
#define TERN_POLLOUT 0x04  /* UDP: a network buffer is free; TCP: a quarter of the send ring is free (or a
                              non-blocking connect finished) */
#define TERN_POLLERR 0x08  /* a pending error (TERN_SO_ERROR) */
#define TERN_POLLHUP 0x10  /* shut down / closed in both directions, or reset */
#define TERN_POLLNVAL 0x20 /* not an open socket */
typedef struct tern_pollfd {
    int sock;        /* a negative id is ignored (revents 0) */
    uint16_t events; /* TERN_POLLIN | TERN_POLLOUT; ERR, HUP and NVAL are always reported */
    uint16_t revents;
} tern_pollfd_t;
/* Number of entries with revents set, 0 on timeout, or an error. timeout_ms
 * 0 checks once; UINT32_MAX waits forever. With TERN_OS=0 (or a port
 * without a wait hook) timeout_ms must be 0 (TERN_ERR_INVAL). */
int tern_socket_poll(struct tern_stack *stack, tern_pollfd_t *fds, size_t n, uint32_t timeout_ms);

/* Zero copy (UDP). Receive a datagram as the network buffer it arrived in:
 * nb->data/len is the payload; release it with tern_socket_netbuf_release()
 * or send it with tern_sendto_netbuf(). Send from a buffer obtained with
 * tern_socket_netbuf_get() (headroom for all headers reserved, data/len =
 * payload area; shorten with tern_netbuf_set_len): the stack takes it,
 * whatever the result. Return values as the copying calls. */
int tern_recvfrom_netbuf(struct tern_stack *stack, int sock, tern_netbuf_t **nb, int flags, tern_sockaddr_t *from);
/* NULL when payload_len > TERN_UDP_MAX_PAYLOAD or no buffer came within
 * timeout_ms (0: no wait; TERN_OS=0 never waits). */
tern_netbuf_t *tern_socket_netbuf_get(struct tern_stack *stack, size_t payload_len, uint32_t timeout_ms);
int tern_sendto_netbuf(struct tern_stack *stack, int sock, tern_netbuf_t *nb, int flags, const tern_sockaddr_t *to);
void tern_socket_netbuf_release(struct tern_stack *stack, tern_netbuf_t *nb);

/* Zero copy (TCP). tern_recv_span: a contiguous span of the receive stream
 * (*span, its length > 0), 0 at the end of the stream, or an error as
 * tern_recv (blocks like it); the bytes stay until tern_recv_consume(n <=
 * length). tern_send_span: a contiguous span of free send-ring space (its
 * length > 0) or an error as tern_send (blocks like it for space); fill it,
 * then tern_send_commit(n <= length). The stack never moves or frees a span
 * handed out (not even when the connection is reset meanwhile) until it is
 * consumed or committed, the socket shut down that way, or closed. */
int tern_recv_span(struct tern_stack *stack, int sock, const uint8_t **span, int flags);
int tern_recv_consume(struct tern_stack *stack, int sock, size_t n);
int tern_send_span(struct tern_stack *stack, int sock, uint8_t **span, int flags);
int tern_send_commit(struct tern_stack *stack, int sock, size_t n);

/* netstat: one row per open socket, UDP and TCP. Listeners' connections not
 * yet accepted and TIME-WAIT entries are in tern_tcp_list (tcp.h). */
typedef struct tern_socket_info {
    int id;
    uint8_t type;          /* enum tern_socket_type */
    uint8_t state;         /* enum tern_tcp_state for TCP (CLOSED when not connected or dead), 0 for UDP */
    tern_sockaddr_t local, remote;
    uint32_t recv_queue;   /* TCP: bytes received not read; UDP: datagrams queued */
    uint32_t send_queue;   /* TCP: bytes written not acknowledged; UDP: 0 */
    uint32_t bytes_held;   /* ledger bytes owned by this socket id */
} tern_socket_info_t;
/* Fill up to max rows (rows may be NULL with max 0), by id; returns the
 * number of open sockets (which may exceed max). Takes the core lock. */
size_t tern_socket_list(const struct tern_stack *stack, tern_socket_info_t *rows, size_t max);
/* The row of socket id for a caller already holding the core lock (a raw-API
 * callback, a service poll, the stats document): TERN_OK, or TERN_ERR_BADF
 * when no socket of that id is open. */
int tern_socket_info(const struct tern_stack *stack, int id, tern_socket_info_t *row);

#endif
