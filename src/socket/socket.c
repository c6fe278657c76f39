/* The sockets API over the raw UDP API (TCP plugs into the same type
 * switches later). Every public call takes the port's core lock; blocking
 * calls wait with port->wait, which releases it, and re-check. */
#include <string.h>
#include "net/udp_internal.h"
#include "net/wire.h"
#include "socket_internal.h"

/* ---- locking, lookup, waiting ------------------------------------------ */

static void sock_lock(const tern_stack_t *stack)
{
    if (stack->port->lock != NULL)
        stack->port->lock(stack->port->ctx);
}

static void sock_unlock(const tern_stack_t *stack)
{
    if (stack->port->unlock != NULL)
        stack->port->unlock(stack->port->ctx);
}

static void sock_wake(const tern_stack_t *stack)
{
    if (stack->port->wake_all != NULL)
        stack->port->wake_all(stack->port->ctx);
}

static tern_socket_t *sock_lookup(const tern_stack_t *stack, int id)
{
    if (id < 1 || id > TERN_SOCKET_MAX)
        return NULL;
    return stack->sockets.slots[id - 1];
}

static uint32_t sock_rcvtimeo(const tern_socket_t *s)
{
#if TERN_OS
    return s->rcvtimeo;
#else
    (void)s;
    return 0;
#endif
}

static uint32_t sock_sndtimeo(const tern_socket_t *s)
{
#if TERN_OS
    return s->sndtimeo;
#else
    (void)s;
    return 0;
#endif
}

/* Can this port block at all (an OS, a wait hook and a clock)? */
static int sock_can_wait(const tern_stack_t *stack)
{
#if TERN_OS
    return stack->port->wait != NULL && stack->port->now_ms != NULL;
#else
    (void)stack;
    return 0;
#endif
}

static int sock_blocking(const tern_stack_t *stack, const tern_socket_t *s, int flags)
{
    return sock_can_wait(stack) && !(flags & TERN_MSG_DONTWAIT) && !(s->flags & SOCK_F_NONBLOCK);
}

static uint32_t sock_now(const tern_stack_t *stack)
{
    return sock_can_wait(stack) ? stack->port->now_ms(stack->port->ctx) : 0u;
}

/* Wait (core lock held; port->wait releases it meanwhile) until woken or
 * the timeout (0 = none) measured from start runs out. TERN_OK: re-check
 * (*sp is the socket again); TERN_ERR_TIMEOUT; TERN_ERR_BADF when the
 * socket was closed meanwhile (its id may hold another socket by now: the
 * serial number tells). want_buffer: also woken by a released buffer. */
static int sock_wait(tern_stack_t *stack, tern_socket_t **sp, uint32_t start, uint32_t timeout, int want_buffer)
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
    (void)port->wait(port->ctx, wait_ms);
    if (want_buffer)
        stack->netbufs.waiters--;
    tern_socket_t *s = sock_lookup(stack, id);
    if (s == NULL || s->serial != serial)
        return TERN_ERR_BADF;
    *sp = s;
    return TERN_OK;
}

/* ---- the UDP input hooks (called by src/net/udp.c, lock held) ------------ */

void socket_udp_recv(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
                     const tern_udp_rx_info_t *info)
{
    (void)pcb;
    tern_socket_t *s = ctx;
    socket_udp_t *u = &s->u.udp;
    if (s->flags & SOCK_F_SHUT_RD) {
        stack->counters.udp_drop_shut_rd++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    /* The per-socket bound keeps one busy socket from draining the pool. */
    if (u->qlen >= u->qmax) {
        stack->counters.udp_drop_queue_full++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    /* The UDP header in front of data is consumed: keep the source there. */
    uint8_t *meta = nb->data - TERN_UDP_HDR_LEN;
    wire_wr32(meta, info->from.addr);
    wire_wr16(meta + 4, info->from.port);
    nb->scratch = info->to;
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    /* Hold the exact size while queued, not a full receive buffer. On
     * failure the datagram keeps its larger buffer: still correct. */
    (void)tern_netbuf_shrink(&stack->netbufs, nb, (size_t)(nb->data - tern_netbuf_frame(nb)) + nb->len);
#endif
    tern_netbuf_set_owner(&stack->netbufs, nb, s->id);
    nb->next = NULL;
    if (u->tail != NULL)
        u->tail->next = nb;
    else
        u->head = nb;
    u->tail = nb;
    u->qlen++;
    sock_wake(stack);
}

void socket_udp_error(tern_stack_t *stack, tern_udp_pcb_t *pcb, int err)
{
    if (pcb->recv != socket_udp_recv)
        return;
    tern_socket_t *s = pcb->ctx;
    s->error = err;
    sock_wake(stack);
}

/* ---- create and close ---------------------------------------------------- */

/* The free id after the one handed out last (late reuse), or 0. */
static int sock_free_id(const tern_stack_t *stack)
{
    for (unsigned i = 1; i <= TERN_SOCKET_MAX; i++) {
        unsigned id = (stack->sockets.last_id + i - 1u) % TERN_SOCKET_MAX + 1u;
        if (stack->sockets.slots[id - 1u] == NULL)
            return (int)id;
    }
    return 0;
}

int tern_socket(tern_stack_t *stack, int type)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    if (type == TERN_SOCK_STREAM)
        return TERN_ERR_NOTSUP; /* TCP sockets: the TCP work plugs in here */
    if (type != TERN_SOCK_DGRAM)
        return TERN_ERR_INVAL;
    sock_lock(stack);
    int r = TERN_ERR_NOMEM;
    int id = sock_free_id(stack);
    tern_socket_t *s = NULL;
    if (id != 0)
        s = tern_mem_zalloc(&stack->ledger, sizeof *s, TERN_MEM_SOCKET, (unsigned)id);
    if (s != NULL) {
        s->serial = ++stack->sockets.serial;
        s->id = (uint16_t)id;
        s->type = (uint8_t)type;
        tern_udp_pcb_init(&s->u.udp.pcb, socket_udp_recv, s);
        s->u.udp.qmax = TERN_UDP_RXQ_DEFAULT;
        stack->sockets.slots[id - 1] = s;
        stack->sockets.last_id = (uint16_t)id;
        r = id;
    }
    sock_unlock(stack);
    return r;
}

static void sock_udp_flush(tern_stack_t *stack, socket_udp_t *u)
{
    tern_netbuf_release_chain(&stack->netbufs, u->head);
    u->head = NULL;
    u->tail = NULL;
    u->qlen = 0;
}

/* Free everything s holds and its id (lock held). */
static void sock_free(tern_stack_t *stack, tern_socket_t *s)
{
    switch (s->type) {
    case TERN_SOCK_DGRAM:
        tern_udp_unbind(stack, &s->u.udp.pcb);
        sock_udp_flush(stack, &s->u.udp);
        break;
    default:
        break;
    }
    stack->sockets.slots[s->id - 1u] = NULL;
    tern_mem_free(&stack->ledger, s);
    /* Threads blocked on it find it gone (TERN_ERR_BADF). */
    sock_wake(stack);
}

int tern_close(tern_stack_t *stack, int sock)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    sock_lock(stack);
    tern_socket_t *s = sock_lookup(stack, sock);
    if (s != NULL)
        sock_free(stack, s);
    sock_unlock(stack);
    return s != NULL ? TERN_OK : TERN_ERR_BADF;
}

void tern_socket_close_all(tern_stack_t *stack)
{
    if (stack == NULL)
        return;
    sock_lock(stack);
    for (unsigned i = 0; i < TERN_SOCKET_MAX; i++) {
        if (stack->sockets.slots[i] != NULL)
            sock_free(stack, stack->sockets.slots[i]);
    }
    sock_unlock(stack);
}

int tern_shutdown(tern_stack_t *stack, int sock, int how)
{
    if (stack == NULL || (how != TERN_SHUT_RD && how != TERN_SHUT_WR && how != TERN_SHUT_RDWR))
        return TERN_ERR_INVAL;
    sock_lock(stack);
    int r = TERN_OK;
    tern_socket_t *s = sock_lookup(stack, sock);
    if (s == NULL) {
        r = TERN_ERR_BADF;
    } else {
        switch (s->type) {
        case TERN_SOCK_DGRAM:
            if (how != TERN_SHUT_WR) {
                s->flags |= SOCK_F_SHUT_RD;
                sock_udp_flush(stack, &s->u.udp);
            }
            if (how != TERN_SHUT_RD)
                s->flags |= SOCK_F_SHUT_WR;
            sock_wake(stack);
            break;
        default:
            r = TERN_ERR_NOTSUP;
            break;
        }
    }
    sock_unlock(stack);
    return r;
}

/* ---- addresses ------------------------------------------------------------ */

int tern_bind(tern_stack_t *stack, int sock, const tern_sockaddr_t *local)
{
    if (stack == NULL || local == NULL)
        return TERN_ERR_INVAL;
    sock_lock(stack);
    int r;
    tern_socket_t *s = sock_lookup(stack, sock);
    if (s == NULL) {
        r = TERN_ERR_BADF;
    } else {
        switch (s->type) {
        case TERN_SOCK_DGRAM:
            r = tern_udp_bind(stack, &s->u.udp.pcb, local);
            break;
        default:
            r = TERN_ERR_NOTSUP;
            break;
        }
    }
    sock_unlock(stack);
    return r;
}

int tern_connect(tern_stack_t *stack, int sock, const tern_sockaddr_t *remote)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    sock_lock(stack);
    int r = TERN_OK;
    tern_socket_t *s = sock_lookup(stack, sock);
    if (s == NULL) {
        r = TERN_ERR_BADF;
    } else {
        switch (s->type) {
        case TERN_SOCK_DGRAM: {
            tern_udp_pcb_t *pcb = &s->u.udp.pcb;
            if (remote == NULL || remote->port == 0u) {
                pcb->remote.addr = 0; /* dissolve the association */
                pcb->remote.port = 0;
                break;
            }
            if (remote->addr == 0u) {
                r = TERN_ERR_INVAL;
                break;
            }
            if (!(pcb->flags & UDP_F_LINKED_)) {
                tern_sockaddr_t local = pcb->local;
                r = tern_udp_bind(stack, pcb, &local);
            }
            if (r == TERN_OK)
                pcb->remote = *remote;
            break;
        }
        default:
            r = TERN_ERR_NOTSUP;
            break;
        }
    }
    sock_unlock(stack);
    return r;
}

static int sock_name(tern_stack_t *stack, int sock, tern_sockaddr_t *out, int peer)
{
    if (stack == NULL || out == NULL)
        return TERN_ERR_INVAL;
    sock_lock(stack);
    int r = TERN_OK;
    tern_socket_t *s = sock_lookup(stack, sock);
    if (s == NULL) {
        r = TERN_ERR_BADF;
    } else {
        switch (s->type) {
        case TERN_SOCK_DGRAM: {
            const tern_udp_pcb_t *pcb = &s->u.udp.pcb;
            if (!peer) {
                *out = pcb->local;
                if (!(pcb->flags & UDP_F_LINKED_))
                    out->port = 0;
            } else if (pcb->remote.port == 0u) {
                r = TERN_ERR_STATE;
            } else {
                *out = pcb->remote;
            }
            break;
        }
        default:
            r = TERN_ERR_NOTSUP;
            break;
        }
    }
    sock_unlock(stack);
    return r;
}

int tern_getsockname(tern_stack_t *stack, int sock, tern_sockaddr_t *local)
{
    return sock_name(stack, sock, local, 0);
}

int tern_getpeername(tern_stack_t *stack, int sock, tern_sockaddr_t *remote)
{
    return sock_name(stack, sock, remote, 1);
}

/* ---- receive ------------------------------------------------------------- */

/* One queued datagram (lock held): copied into buf (out NULL; PEEK leaves
 * it queued) or handed over as its buffer (*out). Data first, then a
 * pending error, then the shutdown state. */
static int sock_udp_take(tern_stack_t *stack, tern_socket_t *s, void *buf, size_t len, int flags,
                         tern_sockaddr_t *from, tern_netbuf_t **out)
{
    socket_udp_t *u = &s->u.udp;
    tern_netbuf_t *nb = u->head;
    if (nb == NULL) {
        if (s->error != 0) {
            int e = s->error;
            s->error = 0;
            return e;
        }
        return (s->flags & SOCK_F_SHUT_RD) ? TERN_ERR_CLOSED : TERN_ERR_WOULDBLOCK;
    }
    if (out == NULL && nb->len > len)
        return TERN_ERR_MSGSIZE; /* stays queued: retry with a larger buffer */
    if (from != NULL) {
        const uint8_t *meta = nb->data - TERN_UDP_HDR_LEN;
        from->addr = wire_rd32(meta);
        from->port = wire_rd16(meta + 4);
    }
    int n = nb->len;
    if (out == NULL) {
        if (n != 0)
            memcpy(buf, nb->data, (size_t)n);
        if (flags & TERN_MSG_PEEK)
            return n;
    }
    u->head = nb->next;
    if (u->head == NULL)
        u->tail = NULL;
    u->qlen--;
    nb->next = NULL;
    if (out != NULL) {
        /* The application's now, no longer the socket's. */
        tern_netbuf_set_owner(&stack->netbufs, nb, TERN_OWNER_STACK);
        *out = nb;
    } else {
        tern_netbuf_release(&stack->netbufs, nb);
    }
    return n;
}

static int sock_recv(tern_stack_t *stack, int sock, void *buf, size_t len, int flags, tern_sockaddr_t *from,
                     tern_netbuf_t **out)
{
    sock_lock(stack);
    int r;
    tern_socket_t *s = sock_lookup(stack, sock);
    if (s == NULL) {
        r = TERN_ERR_BADF;
    } else {
        switch (s->type) {
        case TERN_SOCK_DGRAM: {
            int blocking = sock_blocking(stack, s, flags);
            uint32_t start = sock_now(stack);
            for (;;) {
                r = sock_udp_take(stack, s, buf, len, flags, from, out);
                if (r != TERN_ERR_WOULDBLOCK || !blocking)
                    break;
                r = sock_wait(stack, &s, start, sock_rcvtimeo(s), 0);
                if (r != TERN_OK)
                    break;
            }
            break;
        }
        default:
            r = TERN_ERR_NOTSUP;
            break;
        }
    }
    sock_unlock(stack);
    return r;
}

int tern_recvfrom(tern_stack_t *stack, int sock, void *buf, size_t len, int flags, tern_sockaddr_t *from)
{
    if (stack == NULL || (buf == NULL && len != 0u))
        return TERN_ERR_INVAL;
    return sock_recv(stack, sock, buf, len, flags, from, NULL);
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
    return sock_recv(stack, sock, NULL, 0, flags, from, nb);
}

/* ---- send ---------------------------------------------------------------- */

static int sock_udp_send_check(const tern_socket_t *s, const tern_sockaddr_t *to)
{
    if (s->flags & SOCK_F_SHUT_WR)
        return TERN_ERR_CLOSED;
    if (to == NULL && s->u.udp.pcb.remote.port == 0u)
        return TERN_ERR_STATE;
    return TERN_OK;
}

/* One datagram copied from data (lock held): bytes sent or an error;
 * TERN_ERR_NOBUFS when no buffer is free now. */
static int sock_udp_send(tern_stack_t *stack, tern_socket_t *s, const void *data, size_t len,
                         const tern_sockaddr_t *to)
{
    int r = sock_udp_send_check(s, to);
    if (r != TERN_OK)
        return r;
    if (len > TERN_UDP_MAX_PAYLOAD)
        return TERN_ERR_MSGSIZE;
    tern_netbuf_t *nb = tern_udp_netbuf_get(stack, len, 0);
    if (nb == NULL)
        return TERN_ERR_NOBUFS;
    if (len != 0u)
        memcpy(nb->data, data, len);
    r = tern_udp_sendto(stack, &s->u.udp.pcb, nb, to);
    return r == TERN_OK ? (int)len : r;
}

int tern_sendto(tern_stack_t *stack, int sock, const void *data, size_t len, int flags, const tern_sockaddr_t *to)
{
    if (stack == NULL || (data == NULL && len != 0u))
        return TERN_ERR_INVAL;
    sock_lock(stack);
    int r;
    tern_socket_t *s = sock_lookup(stack, sock);
    if (s == NULL) {
        r = TERN_ERR_BADF;
    } else {
        switch (s->type) {
        case TERN_SOCK_DGRAM: {
            /* Only a missing network buffer blocks a UDP send. */
            int blocking = sock_blocking(stack, s, flags);
            uint32_t start = sock_now(stack);
            for (;;) {
                r = sock_udp_send(stack, s, data, len, to);
                if (r != TERN_ERR_NOBUFS || !blocking)
                    break;
                r = sock_wait(stack, &s, start, sock_sndtimeo(s), 1);
                if (r != TERN_OK)
                    break;
            }
            break;
        }
        default:
            r = TERN_ERR_NOTSUP;
            break;
        }
    }
    sock_unlock(stack);
    return r;
}

int tern_send(tern_stack_t *stack, int sock, const void *data, size_t len, int flags)
{
    return tern_sendto(stack, sock, data, len, flags, NULL);
}

tern_netbuf_t *tern_socket_netbuf_get(tern_stack_t *stack, size_t payload_len, uint32_t timeout_ms)
{
    if (stack == NULL)
        return NULL;
    if (!sock_can_wait(stack))
        timeout_ms = 0;
    sock_lock(stack);
    tern_netbuf_t *nb = tern_udp_netbuf_get(stack, payload_len, timeout_ms);
    sock_unlock(stack);
    return nb;
}

void tern_socket_netbuf_release(tern_stack_t *stack, tern_netbuf_t *nb)
{
    if (stack == NULL || nb == NULL)
        return;
    sock_lock(stack);
    tern_netbuf_release(&stack->netbufs, nb);
    sock_unlock(stack);
}

int tern_sendto_netbuf(tern_stack_t *stack, int sock, tern_netbuf_t *nb, int flags, const tern_sockaddr_t *to)
{
    (void)flags; /* a UDP send with its buffer in hand never blocks */
    if (stack == NULL || nb == NULL)
        return TERN_ERR_INVAL;
    sock_lock(stack);
    int r;
    tern_socket_t *s = sock_lookup(stack, sock);
    if (s == NULL) {
        tern_netbuf_release(&stack->netbufs, nb);
        r = TERN_ERR_BADF;
    } else {
        switch (s->type) {
        case TERN_SOCK_DGRAM: {
            int n = nb->len;
            r = sock_udp_send_check(s, to);
            if (r != TERN_OK) {
                tern_netbuf_release(&stack->netbufs, nb);
                break;
            }
            r = tern_udp_sendto(stack, &s->u.udp.pcb, nb, to);
            if (r == TERN_OK)
                r = n;
            break;
        }
        default:
            tern_netbuf_release(&stack->netbufs, nb);
            r = TERN_ERR_NOTSUP;
            break;
        }
    }
    sock_unlock(stack);
    return r;
}

/* ---- options --------------------------------------------------------------- */

static int sock_setopt(tern_socket_t *s, int opt, uint32_t value)
{
    uint16_t *pflags = s->type == TERN_SOCK_DGRAM ? &s->u.udp.pcb.flags : NULL;
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
    case TERN_SO_BROADCAST:
    case TERN_SO_REUSEADDR: {
        if (pflags == NULL)
            return TERN_ERR_NOTSUP;
        uint16_t bit = opt == TERN_SO_BROADCAST ? TERN_UDP_F_BROADCAST : TERN_UDP_F_REUSEADDR;
        if (value != 0u)
            *pflags |= bit;
        else
            *pflags &= (uint16_t)~bit;
        return TERN_OK;
    }
    case TERN_SO_UDP_RXQ:
        if (s->type != TERN_SOCK_DGRAM)
            return TERN_ERR_NOTSUP;
        if (value < 1u || value > TERN_NETBUF_COUNT)
            return TERN_ERR_INVAL;
        s->u.udp.qmax = (uint16_t)value;
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
    case TERN_SO_RCVBUF:
    case TERN_SO_SNDBUF:
    case TERN_SO_TCP_NODELAY:
    case TERN_SO_KEEPALIVE:
    case TERN_SO_TCP_KEEPIDLE:
    case TERN_SO_TCP_KEEPINTVL:
    case TERN_SO_TCP_KEEPCNT:
    case TERN_SO_LINGER:
        return TERN_ERR_NOTSUP; /* TCP options (stream buffers, Nagle, keep-alive) */
    default:
        return TERN_ERR_INVAL;
    }
}

static int sock_getopt(tern_socket_t *s, int opt, uint32_t *value)
{
    const uint16_t pflags = s->type == TERN_SOCK_DGRAM ? s->u.udp.pcb.flags : 0u;
    switch (opt) {
    case TERN_SO_NONBLOCK:
        *value = TERN_OS ? (s->flags & SOCK_F_NONBLOCK) != 0u : 1u;
        return TERN_OK;
    case TERN_SO_BROADCAST:
        *value = (pflags & TERN_UDP_F_BROADCAST) != 0u;
        return TERN_OK;
    case TERN_SO_REUSEADDR:
        *value = (pflags & TERN_UDP_F_REUSEADDR) != 0u;
        return TERN_OK;
    case TERN_SO_UDP_RXQ:
    case TERN_SO_RXQ_LEN:
        if (s->type != TERN_SOCK_DGRAM)
            return TERN_ERR_NOTSUP;
        *value = opt == TERN_SO_UDP_RXQ ? s->u.udp.qmax : s->u.udp.qlen;
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
#endif
    case TERN_SO_RCVBUF:
    case TERN_SO_SNDBUF:
    case TERN_SO_TCP_NODELAY:
    case TERN_SO_KEEPALIVE:
    case TERN_SO_TCP_KEEPIDLE:
    case TERN_SO_TCP_KEEPINTVL:
    case TERN_SO_TCP_KEEPCNT:
    case TERN_SO_LINGER:
        return TERN_ERR_NOTSUP;
    default:
        return TERN_ERR_INVAL;
    }
}

int tern_setsockopt(tern_stack_t *stack, int sock, int opt, uint32_t value)
{
    if (stack == NULL)
        return TERN_ERR_INVAL;
    sock_lock(stack);
    tern_socket_t *s = sock_lookup(stack, sock);
    int r = s != NULL ? sock_setopt(s, opt, value) : TERN_ERR_BADF;
    sock_unlock(stack);
    return r;
}

int tern_getsockopt(tern_stack_t *stack, int sock, int opt, uint32_t *value)
{
    if (stack == NULL || value == NULL)
        return TERN_ERR_INVAL;
    sock_lock(stack);
    tern_socket_t *s = sock_lookup(stack, sock);
    int r = s != NULL ? sock_getopt(s, opt, value) : TERN_ERR_BADF;
    sock_unlock(stack);
    return r;
}

#if TERN_OS
int tern_socket_set_blocking(tern_stack_t *stack, int sock, int blocking)
{
    return tern_setsockopt(stack, sock, TERN_SO_NONBLOCK, blocking ? 0u : 1u);
}
#endif

/* ---- poll ------------------------------------------------------------------ */

static uint16_t sock_revents(const tern_stack_t *stack, const tern_pollfd_t *fd)
{
    if (fd->sock < 0)
        return 0;
    const tern_socket_t *s = sock_lookup(stack, fd->sock);
    if (s == NULL)
        return TERN_POLLNVAL;
    uint16_t ev = 0;
    switch (s->type) {
    case TERN_SOCK_DGRAM:
        /* Readable when recv would not block: data, an error, or shut down. */
        if (s->u.udp.qlen != 0u || s->error != 0 || (s->flags & SOCK_F_SHUT_RD))
            ev |= TERN_POLLIN;
        if ((s->flags & SOCK_F_SHUT_WR) || tern_netbuf_free_count(&stack->netbufs) != 0u)
            ev |= TERN_POLLOUT;
        break;
    default:
        break;
    }
    ev &= fd->events;
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
    if (timeout_ms != 0u && !sock_can_wait(stack))
        return TERN_ERR_INVAL;
    sock_lock(stack);
    uint32_t start = sock_now(stack);
    int ready;
    for (;;) {
        ready = 0;
        int want_buffer = 0;
        for (size_t i = 0; i < n; i++) {
            fds[i].revents = sock_revents(stack, &fds[i]);
            if (fds[i].revents != 0u)
                ready++;
            else if (fds[i].events & TERN_POLLOUT)
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
        (void)stack->port->wait(stack->port->ctx, wait_ms);
        if (want_buffer)
            stack->netbufs.waiters--;
    }
    sock_unlock(stack);
    return ready;
}
