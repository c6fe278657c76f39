/* The socket structure and the helpers shared by the socket layer's files
 * (not API): socket.c (table, locking, waiting, the calls by id through
 * one lock/lookup/type-dispatch helper, options, poll, netstat),
 * socket_udp.c and socket_tcp.c. */
#ifndef TERN_SOCKET_INTERNAL_H
#define TERN_SOCKET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "tern/stack.h"
#include "tern/udp.h"
#include "net/tcp_internal.h"

/* socket flags */
#define SOCK_F_NONBLOCK 0x01u
#define SOCK_F_SHUT_RD 0x02u
#define SOCK_F_SHUT_WR 0x04u

/* UDP part: the pcb and the receive queue. A queued datagram keeps its
 * network buffer with data/len at the payload; its source address and port
 * are written over the consumed UDP header (the 8 bytes before data), its
 * destination address goes in nb->scratch. */
typedef struct socket_udp {
    tern_udp_pcb_t pcb;
    tern_netbuf_t *head; /* oldest first, linked through next */
    tern_netbuf_t *tail;
    uint16_t qlen;       /* datagrams queued */
    uint16_t qmax;       /* TERN_SO_UDP_RXQ */
} socket_udp_t;

/* TCP socket states (the connection's own state is tern_tcp_state(pcb)). */
enum socket_tcp_state {
    STCP_NEW = 0,    /* created, maybe bound (pcb->local_port); the pcb is not linked */
    STCP_LISTEN,     /* listening: the pcb is the listener */
    STCP_CONNECTING, /* SYN sent */
    STCP_CONNECTED,  /* established at some point; pcb may be CLOSED (both FINs done) */
    STCP_DEAD        /* the connection died (reset, timeout, refused): the pcb is unlinked, err says why */
};

/* zero-copy spans handed out and not yet consumed / committed */
#define STCP_SPAN_RX 0x01u
#define STCP_SPAN_TX 0x02u

/* A listener's queue (allocated at tern_listen, SOCKET, owner = its id): a
 * ring of backlog established connections waiting for tern_accept. */
typedef struct socket_listen {
    uint8_t backlog, qhead, qlen;
    tern_tcp_pcb_t *queue[]; /* backlog slots */
} socket_listen_t;

/* TCP part. The connection structure (struct tern_tcp_pcb) sits right
 * before the socket in the same block (socket_tcp_pcb), from tern_socket()
 * to the end of the connection: options go straight into it, and its rings
 * stay there while a zero-copy span of them is out, even after it died. */
typedef struct socket_tcp {
    union {
        uint8_t *tx_span;        /* connection: the send span handed out (the ring may restart at 0 under it) */
        socket_listen_t *listen; /* listener */
    };
    uint32_t linger;             /* ms, UINT32_MAX = off */
    int8_t err;                  /* why it died (STCP_DEAD), a tern_err_t */
    uint8_t state;               /* enum socket_tcp_state */
    uint8_t span;                /* STCP_SPAN_* */
} socket_tcp_t;

/* One socket: allocated at tern_socket() (SOCKET, owner = id), only as
 * large as its type needs (the union's member for that type); a TCP
 * socket's block starts with its connection structure. */
typedef struct tern_socket {
    uint32_t serial; /* tells this socket from a later one with the same id */
    uint16_t id;
    uint8_t type;    /* enum tern_socket_type */
    uint8_t flags;   /* SOCK_F_* */
    int32_t error;   /* pending error (TERN_SO_ERROR), 0 = none */
#if TERN_OS
    uint32_t rcvtimeo; /* ms, 0 = forever */
    uint32_t sndtimeo;
#endif
    union {
        socket_udp_t udp;
        socket_tcp_t tcp;
    } u;
} tern_socket_t;

#define SOCKET_SIZE_UDP (offsetof(tern_socket_t, u) + sizeof(socket_udp_t))
#define SOCKET_SIZE_TCP (offsetof(tern_socket_t, u) + sizeof(socket_tcp_t))
/* A TCP socket's one block: the connection, then the socket (pointer
 * alignment: sizeof a struct with pointers keeps it). */
#define SOCKET_TCP_BLOCK (sizeof(struct tern_tcp_pcb) + SOCKET_SIZE_TCP)
/* Its size as a type, for the firmware size table (firmware/sizes.c). */
typedef char socket_tcp_block_t[SOCKET_TCP_BLOCK];
/* Its gross cost on the heap (tern/heap.h: round to 8, plus the header). */
#define SOCKET_TCP_BLOCK_GROSS \
    (((SOCKET_TCP_BLOCK + TERN_HEAP_ALIGN - 1u) & ~(size_t)(TERN_HEAP_ALIGN - 1u)) + TERN_HEAP_HEADER)
/* Issue #5: an idle established connection on the sockets API, rings
 * aside and heap header included, costs at most 256 bytes on a 32-bit
 * target (232 + 8 with TERN_OS=1: 240 + 8). */
#if UINTPTR_MAX == 0xFFFFFFFFu && !TERN_IPV6
_Static_assert(SOCKET_TCP_BLOCK_GROSS <= 256u, "an idle TCP socket (connection + socket + heap header) must fit 256 bytes");
#elif UINTPTR_MAX == 0xFFFFFFFFu
/* Dual-stack: the connection's two IPv6 addresses on top. */
_Static_assert(SOCKET_TCP_BLOCK_GROSS <= 288u, "an idle dual-stack TCP socket must fit 288 bytes");
#endif

static inline tern_tcp_pcb_t *socket_tcp_pcb(const tern_socket_t *s)
{
    return (tern_tcp_pcb_t *)(void *)((uintptr_t)(const void *)s - sizeof(struct tern_tcp_pcb));
}

/* ---- socket.c: shared by the type files ---------------------------------- */
void socket_lock(const tern_stack_t *stack);
void socket_unlock(const tern_stack_t *stack);
/* Wake blocked threads, when there are any (lock held). */
/* Wake the threads blocked on s (and those in poll or waiting for a
 * buffer); s NULL: every blocked thread. */
void socket_wake(const tern_stack_t *stack, const tern_socket_t *s);
tern_socket_t *socket_lookup(const tern_stack_t *stack, int id);
/* A new socket structure of type with a free id, in the table (lock held),
 * zeroed (a TCP socket's connection structure too, not yet initialized);
 * NULL: no id or no memory. */
tern_socket_t *socket_new(tern_stack_t *stack, int type);
/* Every id in use (socket_new fails for that, not for memory). */
int socket_table_full(const tern_stack_t *stack);
/* Take it out of the table and free the structure (lock held); a TCP
 * socket's block goes with its connection (socket_tcp_free). */
void socket_release(tern_stack_t *stack, tern_socket_t *s);
/* Can this call block (an OS, a wait hook, and neither DONTWAIT nor NONBLOCK)? */
int socket_blocking(const tern_stack_t *stack, const tern_socket_t *s, int flags);
/* With an OS clock: bring stack->now up to it, so that timers armed and RTTs
 * timed from an application thread start from the present. */
void socket_touch_time(tern_stack_t *stack);

/* The lock/lookup/try/wait/retry shape of every call that may block: try
 * runs with the lock held; while it returns `again` and the call may block,
 * wait (up to the socket's receive or send timeout, measured from the
 * first try) and retry. *sp is updated after each wait (TERN_ERR_BADF when
 * the socket was closed meanwhile). */
typedef int (*socket_try_fn)(tern_stack_t *stack, tern_socket_t *s, void *arg);
enum { SOCKET_WAIT_RECV = 0, SOCKET_WAIT_SEND = 1, SOCKET_WAIT_BUFFER = 2 };
int socket_retry(tern_stack_t *stack, tern_socket_t **sp, int flags, int how, int again, socket_try_fn fn, void *arg);
/* Wait once: TERN_OK (re-check), TERN_ERR_TIMEOUT, TERN_ERR_BADF. */
int socket_wait(tern_stack_t *stack, tern_socket_t **sp, uint32_t start, uint32_t timeout, int want_buffer);
uint32_t socket_now(const tern_stack_t *stack);
/* Can this port block at all (an OS, a wait hook and a clock)? */
int socket_can_wait(const tern_stack_t *stack);
/* One netstat row (lock held: /api/stats calls it from the stack thread). */
void socket_row(const tern_stack_t *stack, const tern_socket_t *s, tern_socket_info_t *row);
uint32_t socket_rcvtimeo(const tern_socket_t *s);
uint32_t socket_sndtimeo(const tern_socket_t *s);

/* ---- socket_udp.c ----------------------------------------------------------- */
void socket_udp_init(tern_socket_t *s);
void socket_udp_free(tern_stack_t *stack, tern_socket_t *s);
int socket_udp_bind(tern_stack_t *stack, tern_socket_t *s, const tern_sockaddr_t *local);
int socket_udp_connect(tern_stack_t *stack, tern_socket_t *s, const tern_sockaddr_t *remote);
int socket_udp_shutdown(tern_stack_t *stack, tern_socket_t *s, int how);
int socket_udp_name(const tern_socket_t *s, tern_sockaddr_t *out, int peer);
int socket_udp_receive(tern_stack_t *stack, tern_socket_t **sp, void *buf, size_t len, int flags,
                       tern_sockaddr_t *from, tern_netbuf_t **out);
int socket_udp_sendto(tern_stack_t *stack, tern_socket_t **sp, const void *data, size_t len, int flags,
                      const tern_sockaddr_t *to);
int socket_udp_send_netbuf(tern_stack_t *stack, tern_socket_t *s, tern_netbuf_t *nb, const tern_sockaddr_t *to);
int socket_udp_setopt(tern_socket_t *s, int opt, uint32_t value);
int socket_udp_getopt(const tern_socket_t *s, int opt, uint32_t *value);
uint16_t socket_udp_revents(const tern_stack_t *stack, const tern_socket_t *s);
void socket_udp_info(const tern_socket_t *s, tern_socket_info_t *row);

/* ---- socket_tcp.c ----------------------------------------------------------- */
void socket_tcp_init(tern_stack_t *stack, tern_socket_t *s);
void socket_tcp_free(tern_stack_t *stack, tern_socket_t *s);
int socket_tcp_close(tern_stack_t *stack, tern_socket_t **sp);
int socket_tcp_bind(tern_stack_t *stack, tern_socket_t *s, const tern_sockaddr_t *local);
int socket_tcp_listen(tern_stack_t *stack, tern_socket_t *s, int backlog);
int socket_tcp_accept(tern_stack_t *stack, tern_socket_t **sp, tern_sockaddr_t *remote);
int socket_tcp_connect(tern_stack_t *stack, tern_socket_t **sp, const tern_sockaddr_t *remote);
int socket_tcp_shutdown(tern_stack_t *stack, tern_socket_t *s, int how);
int socket_tcp_name(const tern_socket_t *s, tern_sockaddr_t *out, int peer);
int socket_tcp_recv(tern_stack_t *stack, tern_socket_t **sp, void *buf, size_t len, int flags);
int socket_tcp_send(tern_stack_t *stack, tern_socket_t **sp, const void *data, size_t len, int flags);
int socket_tcp_recv_span(tern_stack_t *stack, tern_socket_t **sp, const uint8_t **span, int flags);
int socket_tcp_recv_consume(tern_stack_t *stack, tern_socket_t *s, size_t n);
int socket_tcp_send_span(tern_stack_t *stack, tern_socket_t **sp, uint8_t **span, int flags);
int socket_tcp_send_commit(tern_stack_t *stack, tern_socket_t *s, size_t n);
int socket_tcp_setopt(tern_socket_t *s, int opt, uint32_t value);
int socket_tcp_getopt(const tern_socket_t *s, int opt, uint32_t *value);
uint16_t socket_tcp_revents(const tern_socket_t *s);
void socket_tcp_info(const tern_socket_t *s, tern_socket_info_t *row);

#endif
