/* TCP sockets over the raw TCP API (tcp.h). The raw callbacks (stack
 * thread, core lock held) record what happened in the socket and wake
 * waiters; the calls (application threads, taking the lock) read and write
 * the connection's rings through the raw API. docs/sockets.md has the
 * contract, the listener's queue and the memory. */
#include <string.h>
#include "net/tcp_internal.h"
#include "socket/socket_internal.h"

/* ---- what the raw API does not give (yet): read from the connection ------
 * These few lines reach into struct tern_tcp_pcb; docs/sockets.md lists the
 * raw-API calls that would replace them. */

/* Charge the connection's block (structure and socket) and existing rings
 * to owner (the raw tern_tcp_set_owner only changes the owner of later
 * allocations). */
static void stcp_charge(tern_tcp_pcb_t *pcb, unsigned owner)
{
    tern_ledger_t *ledger = &pcb->stack->ledger;
    tern_tcp_set_owner(pcb, owner);
    (void)tern_mem_set_owner(ledger, pcb, owner);
    if (pcb->rbuf != NULL)
        (void)tern_mem_set_owner(ledger, pcb->rbuf, owner);
    if (pcb->sbuf != NULL)
        (void)tern_mem_set_owner(ledger, pcb->sbuf, owner);
}

static tern_stack_t *stcp_stack(const tern_tcp_pcb_t *pcb)
{
    return pcb->stack;
}

/* The peer's FIN has been taken (everything it sent is in the ring). */
static int stcp_peer_fin(const tern_tcp_pcb_t *pcb)
{
    return (pcb->flags & TF_FIN_RCVD) != 0u;
}

/* Our FIN and every byte before it are acknowledged. */
static int stcp_fin_acked(const tern_tcp_pcb_t *pcb)
{
    int st = tern_tcp_state(pcb);
    return st == TERN_TCP_FIN_WAIT_2 || st == TERN_TCP_TIME_WAIT || st == TERN_TCP_CLOSED;
}

static uint32_t stcp_unacked(const tern_tcp_pcb_t *pcb)
{
    return pcb->sbuf_len;
}

static uint32_t stcp_sndbuf(const tern_tcp_pcb_t *pcb)
{
    return pcb->sbuf_size;
}

/* The TERN_TCP_OPT_* bits the connection has now. */
static unsigned stcp_opts(const tern_tcp_pcb_t *pcb)
{
    return ((pcb->flags & TF_NODELAY) ? TERN_TCP_OPT_NODELAY : 0u) |
           ((pcb->flags & TF_KEEPALIVE) ? TERN_TCP_OPT_KEEPALIVE : 0u) |
           ((pcb->flags & TF_NOSACK) ? TERN_TCP_OPT_NOSACK : 0u) | ((pcb->flags & TF_NOTS) ? TERN_TCP_OPT_NOTS : 0u);
}

static void stcp_addrs(const tern_tcp_pcb_t *pcb, tern_sockaddr_t *local, tern_sockaddr_t *remote)
{
    if (local != NULL) {
        memset(local, 0, sizeof *local);
        local->addr = pcb->local_ip;
        local->port = pcb->local_port;
#if TERN_IPV6
        if (TCP_PCB_V6(pcb)) {
            local->family = TERN_FAMILY_IP6;
            local->addr = 0;
            local->addr6 = pcb->local_ip6;
        }
#endif
    }
    if (remote != NULL) {
        memset(remote, 0, sizeof *remote);
        remote->addr = pcb->remote_ip;
        remote->port = pcb->remote_port;
#if TERN_IPV6
        if (TCP_PCB_V6(pcb)) {
            remote->family = TERN_FAMILY_IP6;
            remote->addr = 0;
            remote->addr6 = pcb->remote_ip6;
        }
#endif
    }
}

/* Is the connection in the stack's list (listening, opening, or
 * established at some point and not dead)? NEW and DEAD ones are not. */
static int stcp_linked(const socket_tcp_t *t)
{
    return t->state == STCP_LISTEN || t->state == STCP_CONNECTING || t->state == STCP_CONNECTED;
}

/* The connection died: its rings go, except one the application holds a
 * span of, which stays (charged to the socket) until the span is consumed
 * / committed or the socket closed, so that the application never touches
 * freed memory. */
static void stcp_drop_rings(tern_stack_t *stack, const socket_tcp_t *t, tern_tcp_pcb_t *pcb)
{
    if (!(t->span & STCP_SPAN_RX))
        tcp_rbuf_free(stack, pcb);
    pcb->rbuf_len = 0;
    if (!(t->span & STCP_SPAN_TX))
        tcp_sbuf_free(stack, pcb);
    pcb->sbuf_len = 0;
}

/* The socket's connection is over for it: state DEAD with err. */
static void stcp_dead(tern_tcp_pcb_t *pcb, socket_tcp_t *t, int err)
{
    stcp_drop_rings(stcp_stack(pcb), t, pcb);
    t->state = STCP_DEAD;
    t->err = (int8_t)err;
}

/* ---- wake-up rules ---------------------------------------------------------- */

/* Worth a sender's wake-up (and TERN_POLLOUT): a quarter of the ring free,
 * so that a bulk sender moves large pieces per lock round trip instead of
 * a segment per acknowledgment. */
static int stcp_space_ok(const tern_tcp_pcb_t *pcb)
{
    size_t space = tern_tcp_send_space(pcb);
    return space != 0u && space >= stcp_sndbuf(pcb) / 4u;
}

/* ---- callbacks of a connection (arg: its socket) ------------------------------ */

static void stcp_on_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    tern_socket_t *s = arg;
    if (s->u.tcp.state == STCP_CONNECTING)
        s->u.tcp.state = STCP_CONNECTED;
    socket_wake(stcp_stack(pcb), s);
}

static void stcp_on_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    const tern_socket_t *s = arg;
    /* Shut down for reading: bytes are dropped as they come. */
    if (s->flags & SOCK_F_SHUT_RD) {
        (void)tern_tcp_consume(pcb, tern_tcp_recv_avail(pcb));
        return;
    }
    socket_wake(stcp_stack(pcb), s);
}

static void stcp_on_writable(void *arg, tern_tcp_pcb_t *pcb)
{
    if (stcp_space_ok(pcb))
        socket_wake(stcp_stack(pcb), arg);
}

static void stcp_on_peer_closed(void *arg, tern_tcp_pcb_t *pcb)
{
    socket_wake(stcp_stack(pcb), arg);
}

/* The connection died (reset, timeout, refused, no memory): it is
 * unlinked when this returns, its structure stays the socket's (TF_HELD). */
static void stcp_on_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    tern_socket_t *s = arg;
    stcp_dead(pcb, &s->u.tcp, err);
    s->error = err;
    socket_wake(stcp_stack(pcb), s);
}

static const tern_tcp_callbacks_t stcp_conn_cbs = {
    .connected = stcp_on_connected,
    .readable = stcp_on_readable,
    .writable = stcp_on_writable,
    .peer_closed = stcp_on_peer_closed,
    .error = stcp_on_error,
};

/* ---- a listener's queue (arg: the listener's socket) --------------------------- */

static int stcp_on_accept(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb);

static void stcp_queue_remove(socket_listen_t *l, const tern_tcp_pcb_t *pcb)
{
    for (unsigned i = 0; i < l->qlen; i++) {
        unsigned at = (l->qhead + i) % l->backlog;
        if (l->queue[at] != pcb)
            continue;
        for (unsigned j = i; j + 1u < l->qlen; j++)
            l->queue[(l->qhead + j) % l->backlog] = l->queue[(l->qhead + j + 1u) % l->backlog];
        l->qlen--;
        return;
    }
}

/* The oldest waiting connection, out of the queue. */
static tern_tcp_pcb_t *stcp_queue_pop(socket_listen_t *l)
{
    tern_tcp_pcb_t *pcb = l->queue[l->qhead];
    l->qhead = (uint8_t)((l->qhead + 1u) % l->backlog);
    l->qlen--;
    return pcb;
}

/* A connection waiting for tern_accept died: it leaves the queue. */
static void stcp_on_pending_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    tern_socket_t *s = arg;
    (void)err;
    stcp_queue_remove(s->u.tcp.listen, pcb);
}

static const tern_tcp_callbacks_t stcp_listen_cbs = {.accept = stcp_on_accept};
static const tern_tcp_callbacks_t stcp_pending_cbs = {.error = stcp_on_pending_error};

/* A connection reached ESTABLISHED: queue it for tern_accept. With the
 * queue full, WOULDBLOCK: TCP drops the handshake's ACK and retries later
 * (tcp.accept_deferred). It stays charged to the listener. */
static int stcp_on_accept(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb)
{
    tern_socket_t *s = arg;
    socket_listen_t *l = s->u.tcp.listen;
    (void)listener;
    if (l->qlen >= l->backlog)
        return TERN_ERR_WOULDBLOCK;
    l->queue[(l->qhead + l->qlen) % l->backlog] = pcb;
    l->qlen++;
    tern_tcp_set_callbacks(pcb, &stcp_pending_cbs, s);
    socket_wake(stcp_stack(pcb), s);
    return TERN_OK;
}

/* ---- life cycle -------------------------------------------------------------- */

void socket_tcp_init(tern_stack_t *stack, tern_socket_t *s)
{
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    tcp_pcb_init(stack, pcb, s->id);
    /* A socket starts from no options, whatever the stack's raw default. */
    tern_tcp_set_options(pcb, 0);
    pcb->flags |= TF_HELD;
    tern_tcp_set_callbacks(pcb, &stcp_conn_cbs, s);
    s->u.tcp.linger = UINT32_MAX;
    s->u.tcp.state = STCP_NEW;
}

/* The socket is closed (out of the table already): the block goes now,
 * or with the connection when it closes in the background. */
void socket_tcp_free(tern_stack_t *stack, tern_socket_t *s)
{
    socket_tcp_t *t = &s->u.tcp;
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    if (t->state == STCP_LISTEN) {
        /* Connections nobody accepted are reset. */
        socket_listen_t *l = t->listen;
        while (l->qlen != 0u)
            tern_tcp_abort(stcp_queue_pop(l));
        tern_mem_free(&stack->ledger, l);
        t->listen = NULL;
        (void)tern_tcp_close(pcb); /* frees the block */
    } else if (!stcp_linked(t)) {
        tcp_pcb_destroy(stack, pcb); /* never linked, or dead: rings a span kept too */
    } else if (t->linger == 0u) {
        tern_tcp_abort(pcb);
    } else {
        /* Closing in the background: the stack's from now on, so that a
         * new socket with this id starts with nothing. */
        stcp_charge(pcb, TERN_OWNER_STACK);
        (void)tern_tcp_close(pcb);
    }
}

/* TERN_SO_LINGER N: wait (up to N ms) until the queued bytes and the FIN
 * are acknowledged; if they are not, the close aborts. Lock held. */
int socket_tcp_close(tern_stack_t *stack, tern_socket_t **sp)
{
    tern_socket_t *s = *sp;
    socket_tcp_t *t = &s->u.tcp;
    if (t->state != STCP_CONNECTED || t->linger == 0u || t->linger == UINT32_MAX || !socket_blocking(stack, s, 0) ||
        tern_tcp_recv_avail(socket_tcp_pcb(s)) != 0u)
        return TERN_OK;
    socket_touch_time(stack);
    (void)tern_tcp_shutdown(socket_tcp_pcb(s));
    s->flags |= SOCK_F_SHUT_WR;
    uint32_t start = socket_now(stack);
    while (stcp_linked(t) && !stcp_fin_acked(socket_tcp_pcb(s))) {
        uint32_t elapsed = socket_now(stack) - start;
        if (elapsed >= t->linger) {
            t->linger = 0; /* ran out: abort */
            break;
        }
        /* The FIN's acknowledgment wakes nobody: look again every 10 ms. */
        uint32_t left = t->linger - elapsed;
        int r = socket_wait(stack, sp, socket_now(stack), left < 10u ? left : 10u, 0);
        if (r == TERN_ERR_BADF)
            return r;
        s = *sp;
        t = &s->u.tcp;
    }
    return TERN_OK;
}

/* ---- addresses, listen, accept, connect ----------------------------------------- */

/* Is port in use by a binding whose families overlap fam (TCP_PCB_FAM
 * bits: an IPv4 binding and an IPv6-only one may share a port)? */
static int stcp_port_taken(const tern_stack_t *stack, uint16_t port, uint32_t fam)
{
    for (const tern_tcp_pcb_t *p = stack->tcp.pcbs; p != NULL; p = p->next)
        if (p->local_port == port && tcp_family_overlap(TCP_PCB_FAM(p), fam))
            return 1;
    /* Bound sockets not listening yet. */
    for (unsigned i = 0; i < TERN_SOCKET_MAX; i++) {
        const tern_socket_t *o = stack->sockets.slots[i];
        if (o != NULL && o->type == TERN_SOCK_STREAM && o->u.tcp.state == STCP_NEW &&
            socket_tcp_pcb(o)->local_port == port && tcp_family_overlap(TCP_PCB_FAM(socket_tcp_pcb(o)), fam))
            return 1;
    }
    return 0;
}

int socket_tcp_bind(tern_stack_t *stack, tern_socket_t *s, const tern_sockaddr_t *local)
{
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    if (s->u.tcp.state != STCP_NEW || pcb->local_port != 0u)
        return TERN_ERR_INVAL;
#if TERN_IPV6
    if (local->family == TERN_FAMILY_IP6) {
        /* :: or one of ours; like an IPv4 binding, a listener then takes
         * any local address of its families. */
        if (!ip6_is_any(&local->addr6) && !ipv6_is_ours(stack, &local->addr6))
            return TERN_ERR_INVAL;
        uint32_t fam = TF_V6 | (pcb->flags & TF_V6ONLY);
        if (local->port != 0u && stcp_port_taken(stack, local->port, fam))
            return TERN_ERR_ADDRINUSE;
        pcb->flags |= TF_V6;
        pcb->local_port = local->port;
        return TERN_OK;
    }
#endif
    if (local->family != TERN_FAMILY_IP4)
        return TERN_ERR_NOTSUP;
    if (local->addr != 0u) {
        const tern_netif_t *nif = stack->netifs;
        while (nif != NULL && nif->addr != local->addr)
            nif = nif->next;
        if (nif == NULL)
            return TERN_ERR_INVAL;
    }
    if (local->port != 0u && stcp_port_taken(stack, local->port, 0u))
        return TERN_ERR_ADDRINUSE;
    pcb->local_port = local->port;
    return TERN_OK;
}

int socket_tcp_listen(tern_stack_t *stack, tern_socket_t *s, int backlog)
{
    socket_tcp_t *t = &s->u.tcp;
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    if (t->state == STCP_LISTEN)
        return TERN_OK;
    if (t->state != STCP_NEW)
        return TERN_ERR_STATE;
    unsigned bl = backlog < 1 ? 1u : backlog > TERN_TCP_BACKLOG_MAX ? TERN_TCP_BACKLOG_MAX : (unsigned)backlog;
    /* The header and a pointer-sized (uintptr_t) slot per backlog entry. */
    socket_listen_t *l = tern_mem_zalloc(&stack->ledger, offsetof(socket_listen_t, queue) + bl * sizeof(uintptr_t),
                                         TERN_MEM_SOCKET, s->id);
    if (l == NULL)
        return TERN_ERR_NOMEM;
    uint16_t port = pcb->local_port;
    /* Unbound: an ephemeral port (RFC 6056 algorithm 1, a random start). */
    uint32_t start = stack->port->random32(stack->port->ctx);
    for (unsigned i = 0; port == 0u && i < 16384u; i++) {
        uint16_t cand = (uint16_t)(49152u + (start + i) % 16384u);
        if (!stcp_port_taken(stack, cand, TCP_PCB_FAM(pcb)))
            port = cand;
    }
    int err = port != 0u ? tcp_pcb_listen(stack, pcb, port, bl) : TERN_ERR_ADDRINUSE;
    if (err != TERN_OK) {
        tern_mem_free(&stack->ledger, l);
        return err;
    }
    tern_tcp_set_callbacks(pcb, &stcp_listen_cbs, s);
    l->backlog = (uint8_t)bl;
    t->listen = l;
    t->state = STCP_LISTEN;
    return TERN_OK;
}

typedef struct stcp_accept_args {
    tern_sockaddr_t *remote;
} stcp_accept_args_t;

static int stcp_try_accept(tern_stack_t *stack, tern_socket_t *s, void *arg)
{
    const stcp_accept_args_t *a = arg;
    const socket_tcp_t *t = &s->u.tcp;
    if (t->state != STCP_LISTEN)
        return TERN_ERR_STATE;
    if (t->listen->qlen == 0u)
        return TERN_ERR_WOULDBLOCK;
    if (socket_table_full(stack))
        return TERN_ERR_MFILE; /* the connection stays queued until an id frees */
    tern_socket_t *c = socket_new(stack, TERN_SOCK_STREAM);
    if (c == NULL)
        return TERN_ERR_NOMEM; /* the connection stays queued */
    /* The connection moves into the new socket's block (it inherited the
     * listener's ring sizes, Nagle and keep-alive settings already). */
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(c);
    tcp_pcb_move(stack, stcp_queue_pop(t->listen), pcb);
    pcb->flags |= TF_HELD;
    socket_tcp_t *ct = &c->u.tcp;
    ct->linger = t->linger;
    ct->state = STCP_CONNECTED;
#if TERN_OS
    c->rcvtimeo = s->rcvtimeo;
    c->sndtimeo = s->sndtimeo;
#endif
    tern_tcp_set_callbacks(pcb, &stcp_conn_cbs, c);
    stcp_charge(pcb, c->id);
    if (a->remote != NULL)
        stcp_addrs(pcb, NULL, a->remote);
    return c->id;
}

int socket_tcp_accept(tern_stack_t *stack, tern_socket_t **sp, tern_sockaddr_t *remote)
{
    stcp_accept_args_t a = {remote};
    /* socket_retry with two reasons to wait: nothing queued, or a
     * connection queued and no free id (a close elsewhere frees one and
     * wakes waiters). A blocking accept waits for either up to
     * TERN_SO_RCVTIMEO; a full table that outlasts it is TERN_ERR_MFILE. */
    int blocking = socket_blocking(stack, *sp, 0);
    uint32_t start = socket_now(stack);
    for (;;) {
        int r = stcp_try_accept(stack, *sp, &a);
        if ((r != TERN_ERR_WOULDBLOCK && r != TERN_ERR_MFILE) || !blocking)
            return r;
        int w = socket_wait(stack, sp, start, socket_rcvtimeo(*sp), 0);
        if (w != TERN_OK)
            return w == TERN_ERR_TIMEOUT && r == TERN_ERR_MFILE ? TERN_ERR_MFILE : w;
    }
}

static int stcp_try_connected(tern_stack_t *stack, tern_socket_t *s, void *arg)
{
    (void)stack;
    (void)arg;
    switch (s->u.tcp.state) {
    case STCP_CONNECTING:
        return TERN_ERR_INPROGRESS;
    case STCP_CONNECTED:
        return TERN_OK;
    default:
        s->error = 0; /* reported by this call */
        return s->u.tcp.err;
    }
}

/* Wait for the end of the handshake (blocking connect). */
static int stcp_connect_wait(tern_stack_t *stack, tern_socket_t **sp)
{
    int r = socket_retry(stack, sp, 0, SOCKET_WAIT_SEND, TERN_ERR_INPROGRESS, stcp_try_connected, NULL);
    if (r == TERN_ERR_TIMEOUT) {
        socket_tcp_t *t = &(*sp)->u.tcp;
        tern_tcp_pcb_t *pcb = socket_tcp_pcb(*sp);
        if (stcp_linked(t))
            tcp_pcb_reset(stack, pcb);
        stcp_dead(pcb, t, TERN_ERR_TIMEOUT);
    }
    return r;
}

int socket_tcp_connect(tern_stack_t *stack, tern_socket_t **sp, const tern_sockaddr_t *remote)
{
    tern_socket_t *s = *sp;
    socket_tcp_t *t = &s->u.tcp;
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
#if TERN_IPV6
    int v6 = remote != NULL && remote->family == TERN_FAMILY_IP6;
    if (remote == NULL || (v6 ? ip6_is_any(&remote->addr6) : remote->addr == 0u) || remote->port == 0u ||
        (remote->family != TERN_FAMILY_IP4 && !v6))
        return remote != NULL && remote->family != TERN_FAMILY_IP4 && !v6 ? TERN_ERR_NOTSUP : TERN_ERR_INVAL;
#else
    if (remote == NULL || remote->addr == 0u || remote->port == 0u)
        return remote != NULL && remote->family != TERN_FAMILY_IP4 ? TERN_ERR_NOTSUP : TERN_ERR_INVAL;
#endif
    if (t->state == STCP_CONNECTING) /* a non-blocking connect under way */
        return socket_blocking(stack, s, 0) ? stcp_connect_wait(stack, sp) : TERN_ERR_INPROGRESS;
    if (t->state != STCP_NEW)
        return TERN_ERR_STATE; /* EISCONN, listening, or dead */
    if (pcb->local_port != 0u)
        return TERN_ERR_NOTSUP;
    socket_touch_time(stack);
    t->state = STCP_CONNECTING; /* before the SYN: an answer may come at once */
#if TERN_IPV6
    int err = v6 ? tcp_pcb_connect6(stack, pcb, &remote->addr6, remote->port)
                 : tcp_pcb_connect(stack, pcb, remote->addr, remote->port);
#else
    int err = tcp_pcb_connect(stack, pcb, remote->addr, remote->port);
#endif
    if (err != TERN_OK) {
        t->state = STCP_NEW;
        return err;
    }
    return socket_blocking(stack, s, 0) ? stcp_connect_wait(stack, sp) : TERN_ERR_INPROGRESS;
}

int socket_tcp_name(const tern_socket_t *s, tern_sockaddr_t *out, int peer)
{
    const socket_tcp_t *t = &s->u.tcp;
    const tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    if (peer) {
        if (t->state != STCP_CONNECTING && t->state != STCP_CONNECTED)
            return TERN_ERR_STATE;
        stcp_addrs(pcb, NULL, out);
        return TERN_OK;
    }
    if (t->state == STCP_CONNECTING || t->state == STCP_CONNECTED) {
        stcp_addrs(pcb, out, NULL);
    } else {
        /* bound or listening: the port, any address; dead: nothing */
        memset(out, 0, sizeof *out);
        out->port = t->state == STCP_DEAD ? 0u : pcb->local_port;
#if TERN_IPV6
        if (TCP_PCB_V6(pcb) && t->state != STCP_DEAD)
            out->family = TERN_FAMILY_IP6; /* :: */
#endif
    }
    return TERN_OK;
}

int socket_tcp_shutdown(tern_stack_t *stack, tern_socket_t *s, int how)
{
    socket_tcp_t *t = &s->u.tcp;
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    if (t->state == STCP_NEW || t->state == STCP_LISTEN)
        return TERN_ERR_STATE;
    socket_touch_time(stack);
    if (how != TERN_SHUT_WR) {
        s->flags |= SOCK_F_SHUT_RD;
        t->span &= (uint8_t)~STCP_SPAN_RX;
        if (stcp_linked(t))
            (void)tern_tcp_consume(pcb, tern_tcp_recv_avail(pcb));
    }
    if (how != TERN_SHUT_RD) {
        s->flags |= SOCK_F_SHUT_WR;
        t->span &= (uint8_t)~STCP_SPAN_TX;
        if (stcp_linked(t))
            (void)tern_tcp_shutdown(pcb);
    }
    socket_wake(stack, s);
    return TERN_OK;
}

/* ---- options, poll, netstat ------------------------------------------------------ */

int socket_tcp_setopt(tern_socket_t *s, int opt, uint32_t value)
{
    socket_tcp_t *t = &s->u.tcp;
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    switch (opt) {
    case TERN_SO_RCVBUF:
    case TERN_SO_SNDBUF: {
        if (value < 536u || value > 0x3FFFFFFFu)
            return TERN_ERR_INVAL;
        if (t->state == STCP_DEAD)
            return TERN_ERR_STATE;
        int rcv = opt == TERN_SO_RCVBUF;
        return tern_tcp_set_bufsizes(pcb, rcv ? value : 0u, rcv ? 0u : value);
    }
    case TERN_SO_TCP_NODELAY:
    case TERN_SO_KEEPALIVE: {
        unsigned bit = opt == TERN_SO_TCP_NODELAY ? TERN_TCP_OPT_NODELAY : TERN_TCP_OPT_KEEPALIVE;
        unsigned opts = stcp_opts(pcb);
        tern_tcp_set_options(pcb, value != 0u ? opts | bit : opts & ~bit);
        return TERN_OK;
    }
    case TERN_SO_TCP_KEEPIDLE:
        return tern_tcp_set_keepalive(pcb, value, pcb->ka_intvl, pcb->ka_count);
    case TERN_SO_TCP_KEEPINTVL:
        return tern_tcp_set_keepalive(pcb, pcb->ka_idle, value, pcb->ka_count);
    case TERN_SO_TCP_KEEPCNT:
        return tern_tcp_set_keepalive(pcb, pcb->ka_idle, pcb->ka_intvl, value);
    case TERN_SO_LINGER:
#if !TERN_OS
        if (value != 0u && value != UINT32_MAX)
            return TERN_ERR_NOTSUP; /* a lingering close blocks */
#endif
        t->linger = value;
        return TERN_OK;
#if TERN_IPV6
    case TERN_SO_V6ONLY:
        /* Before bind (and listen): it decides what the binding takes. */
        if (t->state != STCP_NEW || pcb->local_port != 0u)
            return TERN_ERR_STATE;
        if (value != 0u)
            pcb->flags |= TF_V6ONLY;
        else
            pcb->flags &= ~(uint32_t)TF_V6ONLY;
        return TERN_OK;
#endif
    case TERN_SO_BROADCAST:
    case TERN_SO_REUSEADDR:
    case TERN_SO_UDP_RXQ:
        return TERN_ERR_NOTSUP;
    default:
        return TERN_ERR_INVAL;
    }
}

int socket_tcp_getopt(const tern_socket_t *s, int opt, uint32_t *value)
{
    const tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    switch (opt) {
    case TERN_SO_RCVBUF:
        *value = pcb->rbuf_size;
        return TERN_OK;
    case TERN_SO_SNDBUF:
        *value = pcb->sbuf_size;
        return TERN_OK;
    case TERN_SO_TCP_NODELAY:
        *value = (pcb->flags & TF_NODELAY) != 0u;
        return TERN_OK;
    case TERN_SO_KEEPALIVE:
        *value = (pcb->flags & TF_KEEPALIVE) != 0u;
        return TERN_OK;
    case TERN_SO_TCP_KEEPIDLE:
        *value = pcb->ka_idle;
        return TERN_OK;
    case TERN_SO_TCP_KEEPINTVL:
        *value = pcb->ka_intvl;
        return TERN_OK;
    case TERN_SO_TCP_KEEPCNT:
        *value = pcb->ka_count;
        return TERN_OK;
    case TERN_SO_LINGER:
        *value = s->u.tcp.linger;
        return TERN_OK;
#if TERN_IPV6
    case TERN_SO_V6ONLY:
        *value = (pcb->flags & TF_V6ONLY) != 0u;
        return TERN_OK;
#endif
    case TERN_SO_BROADCAST:
    case TERN_SO_REUSEADDR:
    case TERN_SO_UDP_RXQ:
    case TERN_SO_RXQ_LEN:
        return TERN_ERR_NOTSUP;
    default:
        return TERN_ERR_INVAL;
    }
}

uint16_t socket_tcp_revents(const tern_socket_t *s)
{
    const socket_tcp_t *t = &s->u.tcp;
    const tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    uint16_t ev = 0;
    switch (t->state) {
    case STCP_NEW:
        return TERN_POLLHUP; /* as Linux: neither connected nor listening */
    case STCP_LISTEN:
        return t->listen->qlen != 0u ? TERN_POLLIN : 0u;
    case STCP_CONNECTING:
        return 0;
    case STCP_DEAD:
        return TERN_POLLIN | TERN_POLLOUT | TERN_POLLHUP;
    default:
        break;
    }
    if (tern_tcp_recv_avail(pcb) != 0u || tern_tcp_at_eof(pcb) || (s->flags & SOCK_F_SHUT_RD))
        ev |= TERN_POLLIN;
    if ((s->flags & SOCK_F_SHUT_WR) || stcp_space_ok(pcb))
        ev |= TERN_POLLOUT;
    if ((s->flags & SOCK_F_SHUT_WR) && stcp_peer_fin(pcb))
        ev |= TERN_POLLHUP;
    return ev;
}

void socket_tcp_info(const tern_socket_t *s, tern_socket_info_t *row)
{
    const socket_tcp_t *t = &s->u.tcp;
    const tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    row->state = TERN_TCP_CLOSED;
    if (!stcp_linked(t)) {
        row->local.port = t->state == STCP_NEW ? pcb->local_port : 0u; /* bound / dead */
        return;
    }
    row->state = (uint8_t)tern_tcp_state(pcb);
    row->local.port = pcb->local_port;
    if (t->state == STCP_LISTEN)
        return;
    stcp_addrs(pcb, &row->local, &row->remote);
    row->recv_queue = (uint32_t)tern_tcp_recv_avail(pcb);
    row->send_queue = stcp_unacked(pcb);
}
