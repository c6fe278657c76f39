/* tern sockets: one API for UDP now and TCP next.
 *
 * Sockets are small integers (1..TERN_SOCKET_MAX); the id is also the
 * socket's owner in the ledger, so "what does socket 5 hold" is
 * tern_ledger_owner_bytes(&stack->ledger, 5).
 *
 * Threads: every call takes the port's core lock itself; application threads
 * call it directly (core locking, as lwIP's LOCK_TCPIP_CORE), while the stack
 * thread runs tern_input/tern_poll under the same lock.
 *
 * Blocking: with TERN_OS=1 a socket blocks by default, bounded by its
 * TERN_SO_RCVTIMEO / TERN_SO_SNDTIMEO (0 = forever), and TERN_MSG_DONTWAIT or
 * TERN_SO_NONBLOCK make a call non-blocking. With TERN_OS=0 (no OS, main
 * loop) every call is non-blocking, TERN_SO_RCVTIMEO/SNDTIMEO do not exist,
 * and tern_socket_set_blocking() is a compile-time error: use
 * tern_socket_poll() with a zero timeout from the main loop.
 *
 * Errors are negative tern_err_t values; see err.h for the errno names. */
#ifndef TERN_SOCKET_H
#define TERN_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/netbuf.h"
#include "tern/netif.h"

struct tern_stack;

typedef struct tern_sockaddr {
    tern_ip4_t addr; /* host order; 0 = any */
    uint16_t port;   /* host order; 0 = any / ephemeral */
} tern_sockaddr_t;

enum tern_socket_type { TERN_SOCK_DGRAM = 1, TERN_SOCK_STREAM = 2 };

/* flags for send and receive calls */
#define TERN_MSG_DONTWAIT 0x01 /* this call does not block */
#define TERN_MSG_PEEK 0x02     /* receive without removing */

/* shutdown directions */
enum tern_shutdown_how { TERN_SHUT_RD = 0, TERN_SHUT_WR = 1, TERN_SHUT_RDWR = 2 };

/* Socket options: value is an int (uint32_t for sizes and times). */
enum tern_sockopt {
    TERN_SO_NONBLOCK = 1, /* every call non-blocking */
    TERN_SO_BROADCAST,    /* UDP: may send to and receive broadcasts */
    TERN_SO_REUSEADDR,
    TERN_SO_RCVBUF,       /* bytes (TCP stream buffer) */
    TERN_SO_SNDBUF,
    TERN_SO_UDP_RXQ,      /* UDP: datagrams queued at most (ipconfigUDP_MAX_RX_PACKETS) */
    TERN_SO_ERROR,        /* read only: pending error, cleared by reading */
    TERN_SO_TYPE,         /* read only */
#if TERN_OS
    TERN_SO_RCVTIMEO, /* ms, 0 = forever */
    TERN_SO_SNDTIMEO,
#endif
    TERN_TCP_NODELAY,
    TERN_SO_KEEPALIVE,
    TERN_TCP_KEEPIDLE,
    TERN_TCP_KEEPINTVL,
    TERN_TCP_KEEPCNT,
    TERN_SO_LINGER
};

struct tern_socket;
/* The stack's socket table (a slot per id; structures on the heap). */
typedef struct tern_socket_table {
    struct tern_socket *slots[TERN_SOCKET_MAX];
} tern_socket_table_t;

int tern_socket(struct tern_stack *stack, int type);
int tern_bind(struct tern_stack *stack, int sock, const tern_sockaddr_t *local);
int tern_connect(struct tern_stack *stack, int sock, const tern_sockaddr_t *remote);
/* Bytes sent (a whole datagram for UDP), or an error. */
int tern_sendto(struct tern_stack *stack, int sock, const void *data, size_t len, int flags,
                const tern_sockaddr_t *to);
int tern_send(struct tern_stack *stack, int sock, const void *data, size_t len, int flags);
/* Bytes received, or an error. UDP: one datagram; a buffer too small for it
 * gives TERN_ERR_MSGSIZE and leaves the datagram queued. */
int tern_recvfrom(struct tern_stack *stack, int sock, void *buf, size_t len, int flags, tern_sockaddr_t *from);
int tern_recv(struct tern_stack *stack, int sock, void *buf, size_t len, int flags);
int tern_shutdown(struct tern_stack *stack, int sock, int how);
/* Frees everything the socket held (queued datagrams included). */
int tern_close(struct tern_stack *stack, int sock);
int tern_setsockopt(struct tern_stack *stack, int sock, int opt, uint32_t value);
int tern_getsockopt(struct tern_stack *stack, int sock, int opt, uint32_t *value);
int tern_getsockname(struct tern_stack *stack, int sock, tern_sockaddr_t *local);
int tern_getpeername(struct tern_stack *stack, int sock, tern_sockaddr_t *remote);

/* Wait on several sockets at once. */
#define TERN_POLLIN 0x01
#define TERN_POLLOUT 0x04
#define TERN_POLLERR 0x08
#define TERN_POLLHUP 0x10
typedef struct tern_pollfd {
    int sock;
    uint16_t events;
    uint16_t revents;
} tern_pollfd_t;
/* Number of sockets with revents set, 0 on timeout, or an error. With
 * TERN_OS=0 timeout_ms must be 0. */
int tern_socket_poll(struct tern_stack *stack, tern_pollfd_t *fds, size_t n, uint32_t timeout_ms);

/* Zero copy (UDP). Receive a datagram as the network buffer it arrived in:
 * nb->data/len is the payload; release it with tern_socket_netbuf_release().
 * Send from a buffer obtained with tern_socket_netbuf_get() (headroom for
 * all headers reserved, data/len = payload area): the stack takes it. */
int tern_recvfrom_netbuf(struct tern_stack *stack, int sock, tern_netbuf_t **nb, int flags, tern_sockaddr_t *from);
tern_netbuf_t *tern_socket_netbuf_get(struct tern_stack *stack, size_t payload_len, uint32_t timeout_ms);
int tern_sendto_netbuf(struct tern_stack *stack, int sock, tern_netbuf_t *nb, int flags, const tern_sockaddr_t *to);
void tern_socket_netbuf_release(struct tern_stack *stack, tern_netbuf_t *nb);

#if !TERN_OS
#define tern_socket_set_blocking(stack, sock) \
    _Static_assert(0, "blocking sockets need TERN_OS=1; use tern_socket_poll() from the main loop")
#endif

#endif
