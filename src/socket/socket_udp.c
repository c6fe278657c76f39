/* UDP sockets over the raw UDP API: a bounded receive queue of the network
 * buffers datagrams arrived in, charged to the socket (docs/sockets.md). */
#include <string.h>
#include "net/ipv6_internal.h"
#include "net/udp_internal.h"
#include "util/wire.h"
#include "socket/socket_internal.h"

/* ---- the UDP callbacks this layer registers (run by src/net/udp.c, lock held) */

static void socket_udp_recv(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
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
    /* The per-socket bound keeps one busy socket from draining the pool;
     * the reserve keeps all of them together from doing it. */
    if (u->qlen >= u->qmax) {
        stack->counters.udp_drop_queue_full++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    if (tern_netbuf_free_count(&stack->netbufs) < TERN_NETBUF_RX_RESERVE) {
        stack->counters.udp_drop_rx_reserve++;
        tern_netbuf_release(&stack->netbufs, nb);
        return;
    }
    /* The UDP header in front of data is consumed: keep the source there
     * (an IPv6 source in the 16 bytes before it, inside the consumed IPv6
     * header). */
    uint8_t *meta = nb->data - TERN_UDP_HDR_LEN;
    wire_wr32(meta, info->from.addr);
    wire_wr16(meta + 4, info->from.port);
    meta[6] = info->from.family;
#if TERN_IPV6
    if (info->from.family == TERN_FAMILY_IP6)
        memcpy(meta - 16, info->from.addr6.b, 16);
#endif
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
    socket_wake(stack, s);
}

/* An ICMP error about a datagram the socket sent: its pending error. */
static void socket_udp_error(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, int err)
{
    (void)pcb;
    tern_socket_t *s = ctx;
    s->error = err;
    socket_wake(stack, s);
}

/* ---- life cycle ---------------------------------------------------------------- */

void socket_udp_init(tern_socket_t *s)
{
    tern_udp_pcb_init(&s->u.udp.pcb, socket_udp_recv, s);
    tern_udp_set_error_fn(&s->u.udp.pcb, socket_udp_error);
    s->u.udp.qmax = TERN_UDP_RXQ_DEFAULT;
}

static void socket_udp_flush(tern_stack_t *stack, socket_udp_t *u)
{
    tern_netbuf_release_chain(&stack->netbufs, u->head);
    u->head = NULL;
    u->tail = NULL;
    u->qlen = 0;
}

void socket_udp_free(tern_stack_t *stack, tern_socket_t *s)
{
    tern_udp_unbind(stack, &s->u.udp.pcb);
    socket_udp_flush(stack, &s->u.udp);
}

int socket_udp_shutdown(tern_stack_t *stack, tern_socket_t *s, int how)
{
    if (how != TERN_SHUT_WR) {
        s->flags |= SOCK_F_SHUT_RD;
        socket_udp_flush(stack, &s->u.udp);
    }
    if (how != TERN_SHUT_RD)
        s->flags |= SOCK_F_SHUT_WR;
    socket_wake(stack, s);
    return TERN_OK;
}

/* ---- addresses ------------------------------------------------------------ */

int socket_udp_bind(tern_stack_t *stack, tern_socket_t *s, const tern_sockaddr_t *local)
{
    return tern_udp_bind(stack, &s->u.udp.pcb, local);
}

int socket_udp_connect(tern_stack_t *stack, tern_socket_t *s, const tern_sockaddr_t *remote)
{
    tern_udp_pcb_t *pcb = &s->u.udp.pcb;
    if (remote == NULL || remote->port == 0u) {
        memset(&pcb->remote, 0, sizeof pcb->remote); /* dissolve the association */
        return TERN_OK;
    }
#if TERN_IPV6
    if (remote->family == TERN_FAMILY_IP6) {
        if (ip6_is_any(&remote->addr6))
            return TERN_ERR_INVAL;
        /* Unbound: bind to :: first (the family of the peer). */
        int r = TERN_OK;
        if (!(pcb->flags & UDP_F_LINKED_)) {
            tern_sockaddr_t local = pcb->local;
            local.family = TERN_FAMILY_IP6;
            local.addr6 = ip6_any;
            r = tern_udp_bind(stack, pcb, &local);
        } else if (pcb->local.family != TERN_FAMILY_IP6) {
            r = TERN_ERR_INVAL;
        }
        if (r == TERN_OK)
            pcb->remote = *remote;
        return r;
    }
#endif
    if (remote->family != TERN_FAMILY_IP4 || remote->addr == 0u)
        return TERN_ERR_INVAL;
    int r = TERN_OK;
    if (!(pcb->flags & UDP_F_LINKED_)) {
        tern_sockaddr_t local = pcb->local;
        r = tern_udp_bind(stack, pcb, &local);
    }
    if (r == TERN_OK)
        pcb->remote = *remote;
    return r;
}

int socket_udp_name(const tern_socket_t *s, tern_sockaddr_t *out, int peer)
{
    const tern_udp_pcb_t *pcb = &s->u.udp.pcb;
    if (!peer) {
        *out = pcb->local;
        if (!(pcb->flags & UDP_F_LINKED_))
            out->port = 0;
        return TERN_OK;
    }
    if (pcb->remote.port == 0u)
        return TERN_ERR_STATE;
    *out = pcb->remote;
    return TERN_OK;
}

/* ---- receive ------------------------------------------------------------- */

typedef struct udp_recv_args {
    void *buf;
    size_t len;
    int flags;
    tern_sockaddr_t *from;
    tern_netbuf_t **out;
} udp_recv_args_t;

/* One queued datagram (lock held): copied into buf (out NULL; PEEK leaves
 * it queued) or handed over as its buffer (*out). Data first, then a
 * pending error, then the shutdown state. */
static int socket_udp_take(tern_stack_t *stack, tern_socket_t *s, void *arg)
{
    const udp_recv_args_t *a = arg;
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
    if (a->out == NULL && nb->len > a->len)
        return TERN_ERR_MSGSIZE; /* stays queued: retry with a larger buffer */
    if (a->from != NULL) {
        const uint8_t *meta = nb->data - TERN_UDP_HDR_LEN;
        memset(a->from, 0, sizeof *a->from);
        a->from->addr = wire_rd32(meta);
        a->from->port = wire_rd16(meta + 4);
        a->from->family = meta[6];
#if TERN_IPV6
        if (a->from->family == TERN_FAMILY_IP6)
            memcpy(a->from->addr6.b, meta - 16, 16);
#endif
    }
    int n = nb->len;
    if (a->out == NULL) {
        if (n != 0)
            memcpy(a->buf, nb->data, (size_t)n);
        if (a->flags & TERN_MSG_PEEK)
            return n;
    }
    u->head = nb->next;
    if (u->head == NULL)
        u->tail = NULL;
    u->qlen--;
    nb->next = NULL;
    if (a->out != NULL) {
        /* The application's now, no longer the socket's. */
        tern_netbuf_set_owner(&stack->netbufs, nb, TERN_OWNER_STACK);
        *a->out = nb;
    } else {
        tern_netbuf_release(&stack->netbufs, nb);
    }
    return n;
}

int socket_udp_receive(tern_stack_t *stack, tern_socket_t **sp, void *buf, size_t len, int flags,
                       tern_sockaddr_t *from, tern_netbuf_t **out)
{
    udp_recv_args_t a = {buf, len, flags, from, out};
    return socket_retry(stack, sp, flags, SOCKET_WAIT_RECV, TERN_ERR_WOULDBLOCK, socket_udp_take, &a);
}

/* ---- send ---------------------------------------------------------------- */

static int socket_udp_send_check(const tern_socket_t *s, const tern_sockaddr_t *to)
{
    if (s->flags & SOCK_F_SHUT_WR)
        return TERN_ERR_CLOSED;
    if (to == NULL && s->u.udp.pcb.remote.port == 0u)
        return TERN_ERR_STATE;
    return TERN_OK;
}

typedef struct udp_send_args {
    const void *data;
    size_t len;
    const tern_sockaddr_t *to;
} udp_send_args_t;

/* One datagram copied from data (lock held): bytes sent or an error;
 * TERN_ERR_NOBUFS when no buffer is free now. */
static int socket_udp_send_once(tern_stack_t *stack, tern_socket_t *s, void *arg)
{
    const udp_send_args_t *a = arg;
    int r = socket_udp_send_check(s, a->to);
    if (r != TERN_OK)
        return r;
    if (a->len > TERN_UDP_MAX_PAYLOAD)
        return TERN_ERR_MSGSIZE;
    tern_netbuf_t *nb = tern_udp_netbuf_get(stack, a->len, 0);
    if (nb == NULL)
        return TERN_ERR_NOBUFS;
    if (a->len != 0u)
        memcpy(nb->data, a->data, a->len);
    r = tern_udp_sendto(stack, &s->u.udp.pcb, nb, a->to);
    return r == TERN_OK ? (int)a->len : r;
}

int socket_udp_sendto(tern_stack_t *stack, tern_socket_t **sp, const void *data, size_t len, int flags,
                      const tern_sockaddr_t *to)
{
    /* Only a missing network buffer blocks a UDP send. */
    udp_send_args_t a = {data, len, to};
    return socket_retry(stack, sp, flags, SOCKET_WAIT_BUFFER, TERN_ERR_NOBUFS, socket_udp_send_once, &a);
}

int socket_udp_send_netbuf(tern_stack_t *stack, tern_socket_t *s, tern_netbuf_t *nb, const tern_sockaddr_t *to)
{
    int n = nb->len;
    int r = socket_udp_send_check(s, to);
    if (r != TERN_OK) {
        tern_netbuf_release(&stack->netbufs, nb);
        return r;
    }
    r = tern_udp_sendto(stack, &s->u.udp.pcb, nb, to);
    return r == TERN_OK ? n : r;
}

/* ---- options, poll, netstat ---------------------------------------------------- */

int socket_udp_setopt(tern_socket_t *s, int opt, uint32_t value)
{
    uint16_t *pflags = &s->u.udp.pcb.flags;
    switch (opt) {
#if TERN_IPV6
    case TERN_SO_V6ONLY:
#endif
    case TERN_SO_BROADCAST:
    case TERN_SO_REUSEADDR: {
        /* V6ONLY before bind: it decides what the binding takes. */
        if (opt != TERN_SO_BROADCAST && opt != TERN_SO_REUSEADDR && (*pflags & UDP_F_LINKED_))
            return TERN_ERR_STATE;
        uint16_t bit = opt == TERN_SO_BROADCAST ? TERN_UDP_F_BROADCAST
                       : opt == TERN_SO_REUSEADDR ? TERN_UDP_F_REUSEADDR
                                                  : TERN_UDP_F_V6ONLY;
        if (value != 0u)
            *pflags |= bit;
        else
            *pflags &= (uint16_t)~bit;
        return TERN_OK;
    }
    case TERN_SO_UDP_RXQ:
        if (value < 1u || value > TERN_NETBUF_COUNT - TERN_NETBUF_RX_RESERVE)
            return TERN_ERR_INVAL;
        s->u.udp.qmax = (uint16_t)value;
        return TERN_OK;
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

int socket_udp_getopt(const tern_socket_t *s, int opt, uint32_t *value)
{
    const uint16_t pflags = s->u.udp.pcb.flags;
    switch (opt) {
    case TERN_SO_BROADCAST:
        *value = (pflags & TERN_UDP_F_BROADCAST) != 0u;
        return TERN_OK;
    case TERN_SO_REUSEADDR:
        *value = (pflags & TERN_UDP_F_REUSEADDR) != 0u;
        return TERN_OK;
#if TERN_IPV6
    case TERN_SO_V6ONLY:
        *value = (pflags & TERN_UDP_F_V6ONLY) != 0u;
        return TERN_OK;
#endif
    case TERN_SO_UDP_RXQ:
        *value = s->u.udp.qmax;
        return TERN_OK;
    case TERN_SO_RXQ_LEN:
        *value = s->u.udp.qlen;
        return TERN_OK;
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

uint16_t socket_udp_revents(const tern_stack_t *stack, const tern_socket_t *s)
{
    uint16_t ev = 0;
    /* Readable when recv would not block: data, an error, or shut down. */
    if (s->u.udp.qlen != 0u || s->error != 0 || (s->flags & SOCK_F_SHUT_RD))
        ev |= TERN_POLLIN;
    if ((s->flags & SOCK_F_SHUT_WR) || tern_netbuf_free_count(&stack->netbufs) != 0u)
        ev |= TERN_POLLOUT;
    return ev;
}

void socket_udp_info(const tern_socket_t *s, tern_socket_info_t *row)
{
    (void)socket_udp_name(s, &row->local, 0);
    row->remote = s->u.udp.pcb.remote;
    row->recv_queue = s->u.udp.qlen;
}
