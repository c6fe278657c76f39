/* The sockets API: the socket table, locking, waiting, and each call's
 * switch on the socket type (socket_udp.c over the raw UDP API,
 * socket_tcp.c over the raw TCP API). Every public call takes the port's
 * core lock; blocking calls wait with port->wait, which releases it, and
 * re-check (socket_retry: the one lock/try/wait/retry loop they share). */
#include <string.h>
#include "socket_internal.h"

/* ---- locking, lookup, waiting ------------------------------------------ */

void socket_lock(const tern_stack_t *stack)
{
    if (stack->port->lock != NULL)
        stack->port->lock(stack->port->ctx);
}

void socket_unlock(const tern_stack_t *stack)
{
    if (stack->port->unlock != NULL)
        stack->port->unlock(stack->port->ctx);
}

void socket_wake(const tern_stack_t *stack)
{
    /* A broadcast per received segment costs when nobody listens for it. */
    if (stack->sockets.waiters != 0u && stack->port->wake_all != NULL)
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
static int socket_can_wait(const tern_stack_t *stack)
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

tern_socket_t *socket_new(tern_stack_t *stack, int type)
{
    int id = socket_free_id(stack);
    if (id == 0)
        return NULL;
    /* Only as large as the type's part of the union. */
    size_t size = type == TERN_SOCK_STREAM ? SOCKET_SIZE_TCP : SOCKET_SIZE_UDP;
    tern_socket_t *s = tern_mem_zalloc(&stack->ledger, size, TERN_MEM_SOCKET, (unsigned)id);
    if (s == NULL)
        return NULL;
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
    tern_mem_free(&stack->ledger, s);
    /* Threads blocked on it find it gone (TERN_ERR_BADF). */
    socket_wake(stack);
}

int tern_socket(tern_stack_t *stack, int type)
{
    if (stack == NULL || (type != TERN_SOCK_DGRAM && type != TERN_SOCK_STREAM))
        return TERN_ERR_INVAL;
    socket_lock(stack);
    tern_socket_t *s = socket_new(stack, type);
    if (s != NULL) {
        if (type == TERN_SOCK_STREAM)
            socket_tcp_init(s);
        else
            socket_udp_init(s);
    }
    socket_unlock(stack);
    return s != NULL ? s->id : TERN_ERR_NOMEM;
}

/* Free everything s holds and its id (lock held); never blocks. */
static void socket_free(tern_stack_t *stack, tern_socket_t *s)
{
    if (s->type == TERN_SOCK_STREAM)
        socket_tcp_free(stack, s);
    else
        socket_udp_free(stack, s);
    socket_release(stack, s);
}

int tern_close(tern_stack_t *stack, int sock)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL) {
        r = TERN_OK;
        /* A lingering TCP close may wait (and find the socket closed by
         * another thread meanwhile: BADF). */
        if (s->type == TERN_SOCK_STREAM)
            r = socket_tcp_close(stack, &s);
        if (r == TERN_OK)
            socket_free(stack, s);
    }
    socket_unlock(stack);
    return r;
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

int tern_shutdown(tern_stack_t *stack, int sock, int how)
{
    if (stack == NULL || (how != TERN_SHUT_RD && how != TERN_SHUT_WR && how != TERN_SHUT_RDWR))
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_shutdown(stack, s, how) : socket_udp_shutdown(stack, s, how);
    socket_unlock(stack);
    return r;
}

/* ---- addresses and connections ---------------------------------------------- */

int tern_bind(tern_stack_t *stack, int sock, const tern_sockaddr_t *local)
{
    if (stack == NULL || local == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_bind(stack, s, local) : socket_udp_bind(stack, s, local);
    socket_unlock(stack);
    return r;
}

int tern_listen(tern_stack_t *stack, int sock, int backlog)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_listen(stack, s, backlog) : TERN_ERR_NOTSUP;
    socket_unlock(stack);
    return r;
}

int tern_accept(tern_stack_t *stack, int sock, tern_sockaddr_t *remote)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_accept(stack, &s, remote) : TERN_ERR_NOTSUP;
    socket_unlock(stack);
    return r;
}

int tern_connect(tern_stack_t *stack, int sock, const tern_sockaddr_t *remote)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_connect(stack, &s, remote) : socket_udp_connect(stack, s, remote);
    socket_unlock(stack);
    return r;
}

static int socket_name(tern_stack_t *stack, int sock, tern_sockaddr_t *out, int peer)
{
    if (stack == NULL || out == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    const tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_name(s, out, peer) : socket_udp_name(s, out, peer);
    socket_unlock(stack);
    return r;
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

static int socket_recv_any(tern_stack_t *stack, int sock, void *buf, size_t len, int flags, tern_sockaddr_t *from,
                           tern_netbuf_t **out)
{
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL) {
        if (s->type == TERN_SOCK_STREAM) {
            r = out != NULL ? TERN_ERR_NOTSUP : socket_tcp_recv(stack, &s, buf, len, flags);
            if (from != NULL && r >= 0)
                (void)socket_tcp_name(s, from, 1);
        } else {
            r = socket_udp_receive(stack, &s, buf, len, flags, from, out);
        }
    }
    socket_unlock(stack);
    return r;
}

int tern_recvfrom(tern_stack_t *stack, int sock, void *buf, size_t len, int flags, tern_sockaddr_t *from)
{
    if (stack == NULL || (buf == NULL && len != 0u))
        return TERN_ERR_INVAL;
    return socket_recv_any(stack, sock, buf, len, flags, from, NULL);
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
    return socket_recv_any(stack, sock, NULL, 0, flags, from, nb);
}

int tern_sendto(tern_stack_t *stack, int sock, const void *data, size_t len, int flags, const tern_sockaddr_t *to)
{
    if (stack == NULL || (data == NULL && len != 0u))
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL) {
        if (s->type == TERN_SOCK_STREAM)
            r = to != NULL ? TERN_ERR_STATE : socket_tcp_send(stack, &s, data, len, flags); /* EISCONN-like */
        else
            r = socket_udp_sendto(stack, &s, data, len, flags, to);
    }
    socket_unlock(stack);
    return r;
}

int tern_send(tern_stack_t *stack, int sock, const void *data, size_t len, int flags)
{
    return tern_sendto(stack, sock, data, len, flags, NULL);
}

/* ---- zero copy, TCP ------------------------------------------------------------ */

int tern_recv_span(tern_stack_t *stack, int sock, const uint8_t **span, int flags)
{
    if (span != NULL)
        *span = NULL;
    if (stack == NULL || span == NULL || (flags & TERN_MSG_PEEK))
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_recv_span(stack, &s, span, flags) : TERN_ERR_NOTSUP;
    socket_unlock(stack);
    return r;
}

int tern_recv_consume(tern_stack_t *stack, int sock, size_t n)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_recv_consume(stack, s, n) : TERN_ERR_NOTSUP;
    socket_unlock(stack);
    return r;
}

int tern_send_span(tern_stack_t *stack, int sock, uint8_t **span, int flags)
{
    if (span != NULL)
        *span = NULL;
    if (stack == NULL || span == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_send_span(stack, &s, span, flags) : TERN_ERR_NOTSUP;
    socket_unlock(stack);
    return r;
}

int tern_send_commit(tern_stack_t *stack, int sock, size_t n)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r = TERN_ERR_BADF;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s != NULL)
        r = s->type == TERN_SOCK_STREAM ? socket_tcp_send_commit(stack, s, n) : TERN_ERR_NOTSUP;
    socket_unlock(stack);
    return r;
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

int tern_sendto_netbuf(tern_stack_t *stack, int sock, tern_netbuf_t *nb, int flags, const tern_sockaddr_t *to)
{
    (void)flags; /* a UDP send with its buffer in hand never blocks */
    if (stack == NULL || nb == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    int r;
    tern_socket_t *s = socket_lookup(stack, sock);
    if (s == NULL || s->type != TERN_SOCK_DGRAM) {
        tern_netbuf_release(&stack->netbufs, nb);
        r = s == NULL ? TERN_ERR_BADF : TERN_ERR_NOTSUP;
    } else {
        r = socket_udp_send_netbuf(stack, s, nb, to);
    }
    socket_unlock(stack);
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

int tern_setsockopt(tern_stack_t *stack, int sock, int opt, uint32_t value)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    tern_socket_t *s = socket_lookup(stack, sock);
    int r = TERN_ERR_BADF;
    if (s != NULL) {
        r = socket_setopt_common(s, opt, value);
        if (r == SOCKET_OPT_TYPE_)
            r = s->type == TERN_SOCK_STREAM ? socket_tcp_setopt(stack, s, opt, value) : socket_udp_setopt(s, opt, value);
    }
    socket_unlock(stack);
    return r;
}

int tern_getsockopt(tern_stack_t *stack, int sock, int opt, uint32_t *value)
{
    if (stack == NULL || value == NULL)
        return TERN_ERR_INVAL;
    socket_lock(stack);
    tern_socket_t *s = socket_lookup(stack, sock);
    int r = TERN_ERR_BADF;
    if (s != NULL) {
        r = socket_getopt_common(s, opt, value);
        if (r == SOCKET_OPT_TYPE_)
            r = s->type == TERN_SOCK_STREAM ? socket_tcp_getopt(s, opt, value) : socket_udp_getopt(s, opt, value);
    }
    socket_unlock(stack);
    return r;
}

#if TERN_OS
int tern_socket_set_blocking(tern_stack_t *stack, int sock, int blocking)
{
    return tern_setsockopt(stack, sock, TERN_SO_NONBLOCK, blocking ? 0u : 1u);
}
#endif

/* ---- poll ------------------------------------------------------------------ */

static uint16_t socket_revents(const tern_stack_t *stack, const tern_pollfd_t *fd)
{
    if (fd->sock < 0)
        return 0;
    const tern_socket_t *s = socket_lookup(stack, fd->sock);
    if (s == NULL)
        return TERN_POLLNVAL;
    uint16_t ev = s->type == TERN_SOCK_STREAM ? socket_tcp_revents(s) : socket_udp_revents(stack, s);
    uint16_t always = TERN_POLLERR | TERN_POLLHUP;
    ev &= (uint16_t)(fd->events | always);
    if (s->error != 0)
        ev |= TERN_POLLERR;
    if ((s->flags & (SOCK_F_SHUT_RD | SOCK_F_SHUT_WR)) == (SOCK_F_SHUT_RD | SOCK_F_SHUT_WR))
        ev |= TERN_POLLHUP;
    return ev;
}

int tern_socket_poll(tern_stack_t *stack, tern_pollfd_t *fds, size_t n, uint32_t timeout_ms)
{
    if (stack == NULL || (fds == NULL && n != 0u))
        return TERN_ERR_INVAL;
    if (timeout_ms != 0u && !socket_can_wait(stack))
        return TERN_ERR_INVAL;
    socket_lock(stack);
    uint32_t start = socket_now(stack);
    int ready;
    for (;;) {
        ready = 0;
        int want_buffer = 0;
        for (size_t i = 0; i < n; i++) {
            fds[i].revents = socket_revents(stack, &fds[i]);
            if (fds[i].revents != 0u)
                ready++;
            else if ((fds[i].events & TERN_POLLOUT) && fds[i].sock > 0 &&
                     stack->sockets.slots[fds[i].sock - 1]->type == TERN_SOCK_DGRAM)
                want_buffer = 1;
        }
        if (ready != 0 || timeout_ms == 0u)
            break;
        uint32_t wait_ms = UINT32_MAX;
        if (timeout_ms != UINT32_MAX) {
            uint32_t elapsed = stack->port->now_ms(stack->port->ctx) - start;
            if (elapsed >= timeout_ms)
                break;
            wait_ms = timeout_ms - elapsed;
        }
        if (want_buffer)
            stack->netbufs.waiters++;
        stack->sockets.waiters++;
        (void)stack->port->wait(stack->port->ctx, wait_ms);
        stack->sockets.waiters--;
        if (want_buffer)
            stack->netbufs.waiters--;
    }
    socket_unlock(stack);
    return ready;
}

/* ---- netstat ----------------------------------------------------------------- */

void socket_row(const tern_stack_t *stack, const tern_socket_t *s, tern_socket_info_t *row)
{
    memset(row, 0, sizeof *row);
    row->id = s->id;
    row->type = s->type;
    if (s->type == TERN_SOCK_STREAM)
        socket_tcp_info(s, row);
    else
        socket_udp_info(s, row);
    /* Ids beyond the ledger's owner slots share one: no own figure. */
    row->bytes_held = s->id < TERN_LEDGER_OWNERS ? (uint32_t)tern_ledger_owner_bytes(&stack->ledger, s->id) : 0u;
}

size_t tern_socket_list(const tern_stack_t *stack, tern_socket_info_t *rows, size_t max)
{
    if (stack == NULL)
        return 0;
    socket_lock(stack);
    size_t n = 0;
    for (unsigned i = 0; i < TERN_SOCKET_MAX; i++) {
        const tern_socket_t *s = stack->sockets.slots[i];
        if (s == NULL)
            continue;
        if (rows != NULL && n < max)
            socket_row(stack, s, &rows[n]);
        n++;
    }
    socket_unlock(stack);
    return n;
}
