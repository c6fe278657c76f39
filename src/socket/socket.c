/* The sockets API: the socket table, locking, waiting, and the calls by
 * id, each through socket_call (lock, lookup, the type's function,
 * unlock; socket_udp.c over the raw UDP API, socket_tcp.c over the raw TCP
 * API). Blocking calls wait with port->wait, which releases the lock, and
 * re-check (socket_retry: the one try/wait/retry loop they share). */
#include <string.h>
#include "socket/socket_internal.h"
#include "tern/plan.h"

/* The sizes of this module's allocations, for the planner (tern/plan.h). */
TERN_PLAN_SIZE(sock_tcp, SOCKET_SIZE_TCP);
TERN_PLAN_SIZE(sock_udp, SOCKET_SIZE_UDP);
TERN_PLAN_SIZE(listen_head, offsetof(socket_listen_t, queue));
TERN_PLAN_SIZE(listen_slot, sizeof(uintptr_t));
TERN_PLAN_SIZE(socket_max, TERN_SOCKET_MAX);
TERN_PLAN_SIZE(udp_rxq_default, TERN_UDP_RXQ_DEFAULT);
/* Static-only build (config.h): TCP socket blocks (a socket's connection
 * can outlive it, TERN_STATIC_TCP_CLOSING), UDP sockets, listen queues. */
TERN_STATIC_POOL(socket_tcp, TERN_MEM_SOCKET, sizeof(struct tern_tcp_pcb) + SOCKET_SIZE_TCP, TERN_STATIC_TCP_SOCKETS);
TERN_STATIC_POOL(socket_udp, TERN_MEM_SOCKET, SOCKET_SIZE_UDP, TERN_STATIC_UDP_SOCKETS);
TERN_STATIC_POOL(socket_listen, TERN_MEM_SOCKET, offsetof(socket_listen_t, queue) + TERN_TCP_BACKLOG_MAX * sizeof(uintptr_t),
                 TERN_STATIC_LISTENERS);

/* ---- locking, lookup, waiting ------------------------------------------ */

void socket_lock(const tern_stack_t *stack)
{
#if TERN_DEBUG
    /* The other half of the locking rule (stack.h): a socket call takes the
     * lock itself, so a caller holding it would deadlock here. */
    const tern_port_t *port = stack->port;
    if (port->lock_held != NULL && port->assert_failed != NULL && port->lock_held(port->ctx))
        port->assert_failed(port->ctx, "socket call with the core lock already held (the locking rule, stack.h)");
#endif
    if (stack->port->lock != NULL)
        stack->port->lock(stack->port->ctx);
}

void socket_unlock(const tern_stack_t *stack)
{
    if (stack->port->unlock != NULL)
        stack->port->unlock(stack->port->ctx);
}

void socket_wake(const tern_stack_t *stack, const tern_socket_t *s)
{
    /* A wake-up per received segment costs when nobody listens for it; and
     * with a port that can, only the socket's own waiter is woken (port.h
     * wait_on/wake), not every blocked thread. */
    if (stack->sockets.waiters == 0u)
        return;
    if (s != NULL && stack->port->wake != NULL && stack->port->wait_on != NULL)
        stack->port->wake(stack->port->ctx, s);
    else if (stack->port->wake_all != NULL)
        stack->port->wake_all(stack->port->ctx);
}

tern_socket_t *socket_lookup(const tern_stack_t *stack, int id)
{
    if (id < 1 || id > TERN_SOCKET_MAX)
        return NULL;
    return stack->sockets.slots[id - 1];
}

uint32_t socket_rcvtimeo(const tern_socket_t *s)
{
#if TERN_OS
    return s->rcvtimeo;
#else
    (void)s;
    return 0;
#endif
}

uint32_t socket_sndtimeo(const tern_socket_t *s)
{
#if TERN_OS
    return s->sndtimeo;
#else
    (void)s;
    return 0;
#endif
}

/* Can this port block at all (an OS, a wait hook and a clock)? */
int socket_can_wait(const tern_stack_t *stack)
{
#if TERN_OS
    return stack->port->wait != NULL && stack->port->now_ms != NULL;
#else
    (void)stack;
    return 0;
#endif
}

int socket_blocking(const tern_stack_t *stack, const tern_socket_t *s, int flags)
{
    return socket_can_wait(stack) && !(flags & TERN_MSG_DONTWAIT) && !(s->flags & SOCK_F_NONBLOCK);
}

uint32_t socket_now(const tern_stack_t *stack)
{
    return socket_can_wait(stack) ? stack->port->now_ms(stack->port->ctx) : 0u;
}

void socket_touch_time(tern_stack_t *stack)
{
    /* Only forward: the stack thread may have run tern_poll with a later
     * reading of the same clock. */
    if (socket_can_wait(stack)) {
        uint32_t now = stack->port->now_ms(stack->port->ctx);
        if ((int32_t)(now - stack->now) > 0)
            stack->now = now;
    }
}

int socket_wait(tern_stack_t *stack, tern_socket_t **sp, uint32_t start, uint32_t timeout, int want_buffer)
{
    const tern_port_t *port = stack->port;
    uint32_t wait_ms = UINT32_MAX;
    if (timeout != 0u) {
        uint32_t elapsed = port->now_ms(port->ctx) - start;
        if (elapsed >= timeout)
            return TERN_ERR_TIMEOUT;
        wait_ms = timeout - elapsed;
    }
    int id = (*sp)->id;
    uint32_t serial = (*sp)->serial;
    if (want_buffer)
        stack->netbufs.waiters++;
    stack->sockets.waiters++;
    if (port->wait_on != NULL && port->wake != NULL)
        (void)port->wait_on(port->ctx, *sp, wait_ms);
    else
        (void)port->wait(port->ctx, wait_ms);
    stack->sockets.waiters--;
    if (want_buffer)
        stack->netbufs.waiters--;
    tern_socket_t *s = socket_lookup(stack, id);
    if (s == NULL || s->serial != serial)
        return TERN_ERR_BADF;
    *sp = s;
    return TERN_OK;
}

int socket_retry(tern_stack_t *stack, tern_socket_t **sp, int flags, int how, int again, socket_try_fn fn, void *arg)
{
    int blocking = socket_blocking(stack, *sp, flags);
    uint32_t start = socket_now(stack);
    for (;;) {
        int r = fn(stack, *sp, arg);
        if (r != again || !blocking)
            return r;
        uint32_t timeout = how == SOCKET_WAIT_RECV ? socket_rcvtimeo(*sp) : socket_sndtimeo(*sp);
        r = socket_wait(stack, sp, start, timeout, how == SOCKET_WAIT_BUFFER);
        if (r != TERN_OK)
            return r;
    }
}

/* ---- create and close ---------------------------------------------------- */

/* The free id after the one handed out last (late reuse), or 0. */
static int socket_free_id(const tern_stack_t *stack)
{
    for (unsigned i = 1; i <= TERN_SOCKET_MAX; i++) {
        unsigned id = (stack->sockets.last_id + i - 1u) % TERN_SOCKET_MAX + 1u;
        if (stack->sockets.slots[id - 1u] == NULL)
            return (int)id;
    }
    return 0;
}

int socket_table_full(const tern_stack_t *stack)
{
    return socket_free_id(stack) == 0;
}

tern_socket_t *socket_new(tern_stack_t *stack, int type)
{
    int id = socket_free_id(stack);
    if (id == 0)
        return NULL;
    /* Only as large as the type's part of the union; a TCP socket's block
     * starts with its connection structure. */
    size_t lead = type == TERN_SOCK_STREAM ? sizeof(struct tern_tcp_pcb) : 0u;
    size_t size = type == TERN_SOCK_STREAM ? SOCKET_SIZE_TCP : SOCKET_SIZE_UDP;
    uint8_t *block = tern_mem_zalloc(&stack->ledger, lead + size, TERN_MEM_SOCKET, (unsigned)id);
    if (block == NULL)
        return NULL;
    tern_socket_t *s = (tern_socket_t *)(void *)(block + lead);
    s->serial = ++stack->sockets.serial;
    s->id = (uint16_t)id;
    s->type = (uint8_t)type;
    stack->sockets.slots[id - 1] = s;
    stack->sockets.last_id = (uint16_t)id;
    return s;
}

void socket_release(tern_stack_t *stack, tern_socket_t *s)
{
    stack->sockets.slots[s->id - 1u] = NULL;
    if (s->type == TERN_SOCK_STREAM)
        socket_tcp_free(stack, s); /* the block goes with the connection */
    else
        tern_mem_free(&stack->ledger, s);
    /* Threads blocked on it find it gone (TERN_ERR_BADF): all woken, as
     * its memory is gone. */
    socket_wake(stack, NULL);
}

int tern_socket(tern_stack_t *stack, int type)
{
    if (stack == NULL || (type != TERN_SOCK_DGRAM && type != TERN_SOCK_STREAM))
        return TERN_ERR_INVAL;
    socket_lock(stack);
    tern_socket_t *s = socket_new(stack, type);
    if (s != NULL) {
        if (type == TERN_SOCK_STREAM)
            socket_tcp_init(stack, s);
        else
            socket_udp_init(s);
    }
    /* A full table is TERN_ERR_MFILE (EMFILE): the heap may be fine. */
    int r = s != NULL ? s->id : socket_table_full(stack) ? TERN_ERR_MFILE : TERN_ERR_NOMEM;
    socket_unlock(stack);
    return r;
}

/* ---- the calls by id ------------------------------------------------------ */

/* What a call does to a socket of each type (NULL: TERN_ERR_NOTSUP). fn may
 * wait, and then updates *sp. */
typedef int (*socket_fn)(tern_stack_t *stack, tern_socket_t **sp, void *arg);
typedef struct socket_op {
    socket_fn tcp;
    socket_fn udp;
} socket_op_t;

/* The shape every call by id shares: lock, look the socket up
 * (TERN_ERR_BADF when it is not open), run its type's function, unlock. */
static int socket_call(tern_stack_t *stack, int sock, const socket_op_t *op, void *arg)
{
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL) {
        socket_fn fn = s->type == TERN_SOCK_STREAM ? op->tcp : op->udp;
        r = fn != NULL ? fn(stack, &s, arg) : TERN_ERR_NOTSUP;
    }
    socket_unlock(stack);
    return r;
}

/* Free everything s holds and its id (lock held); never blocks. */
static void socket_free(tern_stack_t *stack, tern_socket_t *s)
{
    if (s->type != TERN_SOCK_STREAM)
        socket_udp_free(stack, s);
    socket_release(stack, s);
}

static int socket_close_any(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    (void)arg;
    /* A lingering TCP close may wait (and find the socket closed by another
     * thread meanwhile: BADF). */
    int r = (*sp)->type == TERN_SOCK_STREAM ? socket_tcp_close(stack, sp) : TERN_OK;
    if (r == TERN_OK)
        socket_free(stack, *sp);
    return r;
}

int tern_close(tern_stack_t *stack, int sock)
{
    static const socket_op_t op = {socket_close_any, socket_close_any};
    if (stack == NULL)
        return TERN_ERR_INVAL;
    return socket_call(stack, sock, &op, NULL);
}

void tern_socket_close_all(tern_stack_t *stack)
{
    if (stack == NULL)
        return;
    socket_lock(stack);
    for (unsigned i = 0; i < TERN_SOCKET_MAX; i++) {
        if (stack->sockets.slots[i] != NULL)
            socket_free(stack, stack->sockets.slots[i]);
    }
    socket_unlock(stack);
}

static int socket_tcp_shutdown_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    return socket_tcp_shutdown(stack, *sp, *(const int *)arg);
}

static int socket_udp_shutdown_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    return socket_udp_shutdown(stack, *sp, *(const int *)arg);
}

int tern_shutdown(tern_stack_t *stack, int sock, int how)
{
    static const socket_op_t op = {socket_tcp_shutdown_, socket_udp_shutdown_};
    if (stack == NULL || (how != TERN_SHUT_RD && how != TERN_SHUT_WR && how != TERN_SHUT_RDWR))
        return TERN_ERR_INVAL;
    return socket_call(stack, sock, &op, &how);
}

/* ---- addresses and connections ---------------------------------------------- */

static int socket_tcp_bind_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    return socket_tcp_bind(stack, *sp, arg);
}

static int socket_udp_bind_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    return socket_udp_bind(stack, *sp, arg);
}

int tern_bind(tern_stack_t *stack, int sock, const tern_sockaddr_t *local)
{
    static const socket_op_t op = {socket_tcp_bind_, socket_udp_bind_};
    if (stack == NULL || local == NULL)
        return TERN_ERR_INVAL;
    return socket_call(stack, sock, &op, (void *)(uintptr_t)local);
}

static int socket_tcp_listen_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    return socket_tcp_listen(stack, *sp, *(const int *)arg);
}

int tern_listen(tern_stack_t *stack, int sock, int backlog)
{
    static const socket_op_t op = {socket_tcp_listen_, NULL};
    if (stack == NULL)
        return TERN_ERR_INVAL;
    return socket_call(stack, sock, &op, &backlog);
}

static int socket_tcp_accept_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    return socket_tcp_accept(stack, sp, arg);
}

int tern_accept(tern_stack_t *stack, int sock, tern_sockaddr_t *remote)
{
    static const socket_op_t op = {socket_tcp_accept_, NULL};
    if (stack == NULL)
        return TERN_ERR_INVAL;
    return socket_call(stack, sock, &op, remote);
}

static int socket_tcp_connect_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    return socket_tcp_connect(stack, sp, arg);
}

static int socket_udp_connect_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    return socket_udp_connect(stack, *sp, arg);
}

int tern_connect(tern_stack_t *stack, int sock, const tern_sockaddr_t *remote)
{
    static const socket_op_t op = {socket_tcp_connect_, socket_udp_connect_};
    if (stack == NULL)
        return TERN_ERR_INVAL;
    return socket_call(stack, sock, &op, (void *)(uintptr_t)remote);
}

typedef struct socket_name_args {
    tern_sockaddr_t *out;
    int peer;
} socket_name_args_t;

static int socket_tcp_name_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_name_args_t *a = arg;
    (void)stack;
    return socket_tcp_name(*sp, a->out, a->peer);
}

static int socket_udp_name_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_name_args_t *a = arg;
    (void)stack;
    return socket_udp_name(*sp, a->out, a->peer);
}

static int socket_name(tern_stack_t *stack, int sock, tern_sockaddr_t *out, int peer)
{
    static const socket_op_t op = {socket_tcp_name_, socket_udp_name_};
    if (stack == NULL || out == NULL)
        return TERN_ERR_INVAL;
    socket_name_args_t a = {out, peer};
    return socket_call(stack, sock, &op, &a);
}

int tern_getsockname(tern_stack_t *stack, int sock, tern_sockaddr_t *local)
{
    return socket_name(stack, sock, local, 0);
}

int tern_getpeername(tern_stack_t *stack, int sock, tern_sockaddr_t *remote)
{
    return socket_name(stack, sock, remote, 1);
}

/* ---- receive and send -------------------------------------------------------- */

typedef struct socket_io_args {
    void *buf;               /* receive: where to; send: from where (const) */
    size_t len;
    int flags;
    tern_sockaddr_t *addr;   /* receive: from (may be NULL) */
    const tern_sockaddr_t *to;
    tern_netbuf_t **out;     /* receive as a network buffer */
} socket_io_args_t;

static int socket_tcp_recv_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_io_args_t *a = arg;
    if (a->out != NULL)
        return TERN_ERR_NOTSUP;
    int r = socket_tcp_recv(stack, sp, a->buf, a->len, a->flags);
    if (a->addr != NULL && r >= 0)
        (void)socket_tcp_name(*sp, a->addr, 1);
    return r;
}

static int socket_udp_recv_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_io_args_t *a = arg;
    return socket_udp_receive(stack, sp, a->buf, a->len, a->flags, a->addr, a->out);
}

static int socket_recv_any(tern_stack_t *stack, int sock, socket_io_args_t *a)
{
    static const socket_op_t op = {socket_tcp_recv_, socket_udp_recv_};
    return socket_call(stack, sock, &op, a);
}

int tern_recvfrom(tern_stack_t *stack, int sock, void *buf, size_t len, int flags, tern_sockaddr_t *from)
{
    if (stack == NULL || (buf == NULL && len != 0u))
        return TERN_ERR_INVAL;
    socket_io_args_t a = {buf, len, flags, from, NULL, NULL};
    return socket_recv_any(stack, sock, &a);
}

int tern_recv(tern_stack_t *stack, int sock, void *buf, size_t len, int flags)
{
    return tern_recvfrom(stack, sock, buf, len, flags, NULL);
}

int tern_recvfrom_netbuf(tern_stack_t *stack, int sock, tern_netbuf_t **nb, int flags, tern_sockaddr_t *from)
{
    if (nb != NULL)
        *nb = NULL;
    if (stack == NULL || nb == NULL || (flags & TERN_MSG_PEEK))
        return TERN_ERR_INVAL;
    socket_io_args_t a = {NULL, 0, flags, from, NULL, nb};
    return socket_recv_any(stack, sock, &a);
}

static int socket_tcp_send_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_io_args_t *a = arg;
    if (a->to != NULL)
        return TERN_ERR_STATE; /* EISCONN-like */
    return socket_tcp_send(stack, sp, a->buf, a->len, a->flags);
}

static int socket_udp_send_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_io_args_t *a = arg;
    return socket_udp_sendto(stack, sp, a->buf, a->len, a->flags, a->to);
}

int tern_sendto(tern_stack_t *stack, int sock, const void *data, size_t len, int flags, const tern_sockaddr_t *to)
{
    static const socket_op_t op = {socket_tcp_send_, socket_udp_send_};
    if (stack == NULL || (data == NULL && len != 0u))
        return TERN_ERR_INVAL;
    socket_io_args_t a = {(void *)(uintptr_t)data, len, flags, NULL, to, NULL};
    return socket_call(stack, sock, &op, &a);
}

int tern_send(tern_stack_t *stack, int sock, const void *data, size_t len, int flags)
{
    return tern_sendto(stack, sock, data, len, flags, NULL);
}

/* ---- zero copy, TCP ------------------------------------------------------------ */

typedef struct socket_span_args {
    void *span; /* const uint8_t ** (receive) or uint8_t ** (send) */
    size_t n;   /* consume / commit */
    int flags;
} socket_span_args_t;

static int socket_tcp_recv_span_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_span_args_t *a = arg;
    return socket_tcp_recv_span(stack, sp, a->span, a->flags);
}

static int socket_tcp_recv_consume_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_span_args_t *a = arg;
    return socket_tcp_recv_consume(stack, *sp, a->n);
}

static int socket_tcp_send_span_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_span_args_t *a = arg;
    return socket_tcp_send_span(stack, sp, a->span, a->flags);
}

static int socket_tcp_send_commit_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_span_args_t *a = arg;
    return socket_tcp_send_commit(stack, *sp, a->n);
}

int tern_recv_span(tern_stack_t *stack, int sock, const uint8_t **span, int flags)
{
    static const socket_op_t op = {socket_tcp_recv_span_, NULL};
    if (span != NULL)
        *span = NULL;
    if (stack == NULL || span == NULL || (flags & TERN_MSG_PEEK))
        return TERN_ERR_INVAL;
    socket_span_args_t a = {(void *)span, 0, flags};
    return socket_call(stack, sock, &op, &a);
}

int tern_recv_consume(tern_stack_t *stack, int sock, size_t n)
{
    static const socket_op_t op = {socket_tcp_recv_consume_, NULL};
    if (stack == NULL)
        return TERN_ERR_INVAL;
    socket_span_args_t a = {NULL, n, 0};
    return socket_call(stack, sock, &op, &a);
}

int tern_send_span(tern_stack_t *stack, int sock, uint8_t **span, int flags)
{
    static const socket_op_t op = {socket_tcp_send_span_, NULL};
    if (span != NULL)
        *span = NULL;
    if (stack == NULL || span == NULL)
        return TERN_ERR_INVAL;
    socket_span_args_t a = {span, 0, flags};
    return socket_call(stack, sock, &op, &a);
}

int tern_send_commit(tern_stack_t *stack, int sock, size_t n)
{
    static const socket_op_t op = {socket_tcp_send_commit_, NULL};
    if (stack == NULL)
        return TERN_ERR_INVAL;
    socket_span_args_t a = {NULL, n, 0};
    return socket_call(stack, sock, &op, &a);
}

/* ---- UDP zero copy ------------------------------------------------------------- */

tern_netbuf_t *tern_socket_netbuf_get(tern_stack_t *stack, size_t payload_len, uint32_t timeout_ms)
{
    if (stack == NULL)
        return NULL;
    if (!socket_can_wait(stack))
        timeout_ms = 0;
    socket_lock(stack);
    tern_netbuf_t *nb = tern_udp_netbuf_get(stack, payload_len, timeout_ms);
    socket_unlock(stack);
    return nb;
}

void tern_socket_netbuf_release(tern_stack_t *stack, tern_netbuf_t *nb)
{
    if (stack == NULL || nb == NULL)
        return;
    socket_lock(stack);
    tern_netbuf_release(&stack->netbufs, nb);
    socket_unlock(stack);
}

typedef struct socket_netbuf_args {
    tern_netbuf_t *nb;
    const tern_sockaddr_t *to;
    int taken;
} socket_netbuf_args_t;

static int socket_udp_send_netbuf_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    socket_netbuf_args_t *a = arg;
    a->taken = 1;
    return socket_udp_send_netbuf(stack, *sp, a->nb, a->to);
}

int tern_sendto_netbuf(tern_stack_t *stack, int sock, tern_netbuf_t *nb, int flags, const tern_sockaddr_t *to)
{
    static const socket_op_t op = {NULL, socket_udp_send_netbuf_};
    (void)flags; /* a UDP send with its buffer in hand never blocks */
    if (stack == NULL || nb == NULL)
        return TERN_ERR_INVAL;
    socket_netbuf_args_t a = {nb, to, 0};
    int r = socket_call(stack, sock, &op, &a);
    if (!a.taken) /* not an open UDP socket: the buffer is released all the same */
        tern_socket_netbuf_release(stack, nb);
    return r;
}

/* ---- options ------------------------------------------------------------------- */

/* The options every type shares; SOCKET_OPT_TYPE_ (below every error
 * code) hands the option to the type. */
#define SOCKET_OPT_TYPE_ (TERN_ERR_LAST_ - 1)

static int socket_setopt_common(tern_socket_t *s, int opt, uint32_t value)
{
    switch (opt) {
    case TERN_SO_NONBLOCK:
#if !TERN_OS
        if (value == 0u)
            return TERN_ERR_NOTSUP; /* nothing can block without an OS */
#endif
        if (value != 0u)
            s->flags |= SOCK_F_NONBLOCK;
        else
            s->flags &= (uint8_t)~SOCK_F_NONBLOCK;
        return TERN_OK;
    case TERN_SO_RCVTIMEO_:
    case TERN_SO_SNDTIMEO_:
#if TERN_OS
        if (opt == TERN_SO_RCVTIMEO_)
            s->rcvtimeo = value;
        else
            s->sndtimeo = value;
        return TERN_OK;
#else
        return TERN_ERR_NOTSUP;
#endif
    case TERN_SO_ERROR:
    case TERN_SO_TYPE:
    case TERN_SO_RXQ_LEN:
        return TERN_ERR_INVAL; /* read only */
    default:
        return SOCKET_OPT_TYPE_;
    }
}

static int socket_getopt_common(tern_socket_t *s, int opt, uint32_t *value)
{
    switch (opt) {
    case TERN_SO_NONBLOCK:
        *value = TERN_OS ? (s->flags & SOCK_F_NONBLOCK) != 0u : 1u;
        return TERN_OK;
    case TERN_SO_ERROR:
        *value = (uint32_t)s->error;
        s->error = 0;
        return TERN_OK;
    case TERN_SO_TYPE:
        *value = s->type;
        return TERN_OK;
#if TERN_OS
    case TERN_SO_RCVTIMEO_:
        *value = s->rcvtimeo;
        return TERN_OK;
    case TERN_SO_SNDTIMEO_:
        *value = s->sndtimeo;
        return TERN_OK;
#else
    case TERN_SO_RCVTIMEO_:
    case TERN_SO_SNDTIMEO_:
        return TERN_ERR_NOTSUP;
#endif
    default:
        return SOCKET_OPT_TYPE_;
    }
}

typedef struct socket_opt_args {
    int opt;
    uint32_t value; /* set */
    uint32_t *out;  /* get */
} socket_opt_args_t;

static int socket_setopt_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_opt_args_t *a = arg;
    tern_socket_t *s = *sp;
    (void)stack;
    int r = socket_setopt_common(s, a->opt, a->value);
    if (r == SOCKET_OPT_TYPE_)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_setopt(s, a->opt, a->value) : socket_udp_setopt(s, a->opt, a->value);
    return r;
}

static int socket_getopt_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_opt_args_t *a = arg;
    tern_socket_t *s = *sp;
    (void)stack;
    int r = socket_getopt_common(s, a->opt, a->out);
    if (r == SOCKET_OPT_TYPE_)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_getopt(s, a->opt, a->out) : socket_udp_getopt(s, a->opt, a->out);
    return r;
}

int tern_setsockopt(tern_stack_t *stack, int sock, int opt, uint32_t value)
{
    static const socket_op_t op = {socket_setopt_, socket_setopt_};
    if (stack == NULL)
        return TERN_ERR_INVAL;
    socket_opt_args_t a = {opt, value, NULL};
    return socket_call(stack, sock, &op, &a);
}

int tern_getsockopt(tern_stack_t *stack, int sock, int opt, uint32_t *value)
{
    static const socket_op_t op = {socket_getopt_, socket_getopt_};
    if (stack == NULL || value == NULL)
        return TERN_ERR_INVAL;
    socket_opt_args_t a = {opt, 0, value};
    return socket_call(stack, sock, &op, &a);
}

#if TERN_IPV6
typedef struct socket_group_args {
    const tern_ip6_t *group;
    int join;
} socket_group_args_t;

static int socket_udp_group_(tern_stack_t *stack, tern_socket_t **sp, void *arg)
{
    const socket_group_args_t *a = arg;
    tern_udp_pcb_t *pcb = &(*sp)->u.udp.pcb;
    return a->join ? tern_udp_join_group(stack, pcb, a->group) : tern_udp_leave_group(stack, pcb, a->group);
}

int tern_join_group(tern_stack_t *stack, int sock, const tern_ip6_t *group)
{
    static const socket_op_t op = {NULL, socket_udp_group_};
    if (stack == NULL || group == NULL)
        return TERN_ERR_INVAL;
    socket_group_args_t a = {group, 1};
    return socket_call(stack, sock, &op, &a);
}

int tern_leave_group(tern_stack_t *stack, int sock, const tern_ip6_t *group)
{
    static const socket_op_t op = {NULL, socket_udp_group_};
    if (stack == NULL || group == NULL)
        return TERN_ERR_INVAL;
    socket_group_args_t a = {group, 0};
    return socket_call(stack, sock, &op, &a);
}
#endif

#if TERN_OS
int tern_socket_set_blocking(tern_stack_t *stack, int sock, int blocking)
{
    return tern_setsockopt(stack, sock, TERN_SO_NONBLOCK, blocking ? 0u : 1u);
}
#endif
