/* TCP sockets over the raw TCP API (tcp.h). The raw callbacks (stack
 * thread, core lock held) record what happened in the socket and wake
 * waiters; the calls (application threads, taking the lock) read and write
 * the connection's rings through the raw API. docs/sockets.md has the
 * contract, the listener's queue and the memory. */
#include <string.h>
#include "net/tcp_internal.h"
#include "socket_internal.h"

/* ---- what the raw API does not give (yet): read from the connection ------
 * These few lines reach into struct tern_tcp_pcb; docs/sockets.md lists the
 * raw-API calls that would replace them. */

/* Charge the connection's structure and existing rings to owner (the raw
 * tern_tcp_set_owner only changes the owner of later allocations). */
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

static void stcp_addrs(const tern_tcp_pcb_t *pcb, tern_sockaddr_t *local, tern_sockaddr_t *remote)
{
    if (local != NULL) {
        local->addr = pcb->local_ip;
        local->port = pcb->local_port;
    }
    if (remote != NULL) {
        remote->addr = pcb->remote_ip;
        remote->port = pcb->remote_port;
    }
}

/* The connection dies while the application holds a span of one of its
 * rings: keep that ring (charged to the socket already) until the span is
 * consumed / committed or the socket closed, so that the application never
 * touches freed memory. */
static void stcp_keep_spans(socket_tcp_t *t, tern_tcp_pcb_t *pcb)
{
    if ((t->span & STCP_SPAN_RX) && pcb->rbuf != NULL) {
        t->held_rx = pcb->rbuf;
        pcb->rbuf = NULL;
        pcb->rbuf_len = 0;
    }
    if ((t->span & STCP_SPAN_TX) && pcb->sbuf != NULL) {
        t->held_tx = pcb->sbuf;
        pcb->sbuf = NULL;
        pcb->sbuf_len = 0;
    }
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
    socket_wake(stcp_stack(pcb));
}

static void stcp_on_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    const tern_socket_t *s = arg;
    /* Shut down for reading: bytes are dropped as they come. */
    if (s->flags & SOCK_F_SHUT_RD) {
        (void)tern_tcp_consume(pcb, tern_tcp_recv_avail(pcb));
        return;
    }
    socket_wake(stcp_stack(pcb));
}

static void stcp_on_writable(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    if (stcp_space_ok(pcb))
        socket_wake(stcp_stack(pcb));
}

static void stcp_on_peer_closed(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    socket_wake(stcp_stack(pcb));
}

/* The connection died (reset, timeout, refused, no memory): the handle is
 * freed when this returns. */
static void stcp_on_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    tern_socket_t *s = arg;
    socket_tcp_t *t = &s->u.tcp;
    stcp_keep_spans(t, pcb);
    t->pcb = NULL;
    t->state = STCP_DEAD;
    t->err = (int8_t)err;
    s->error = err;
    socket_wake(stcp_stack(pcb));
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

static void stcp_queue_remove(socket_tcp_t *t, const tern_tcp_pcb_t *pcb)
{
    for (unsigned i = 0; i < t->qlen; i++) {
        unsigned at = (t->qhead + i) % t->backlog;
        if (t->queue[at] != pcb)
            continue;
        for (unsigned j = i; j + 1u < t->qlen; j++)
            t->queue[(t->qhead + j) % t->backlog] = t->queue[(t->qhead + j + 1u) % t->backlog];
        t->qlen--;
        return;
    }
}

/* A connection waiting for tern_accept died: it leaves the queue. */
static void stcp_on_pending_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    tern_socket_t *s = arg;
    (void)err;
    stcp_queue_remove(&s->u.tcp, pcb);
}

static const tern_tcp_callbacks_t stcp_listen_cbs = {.accept = stcp_on_accept};
static const tern_tcp_callbacks_t stcp_pending_cbs = {.error = stcp_on_pending_error};

/* A connection reached ESTABLISHED: queue it for tern_accept; with the
 * queue full it is refused (reset). It stays charged to the listener. */
static int stcp_on_accept(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb)
{
    tern_socket_t *s = arg;
    socket_tcp_t *t = &s->u.tcp;
    (void)listener;
    if (t->qlen >= t->backlog)
        return TERN_ERR_NOMEM;
    t->queue[(t->qhead + t->qlen) % t->backlog] = pcb;
    t->qlen++;
    tern_tcp_set_callbacks(pcb, &stcp_pending_cbs, s);
    socket_wake(stcp_stack(pcb));
    return TERN_OK;
}

/* ---- life cycle -------------------------------------------------------------- */

void socket_tcp_init(tern_socket_t *s)
{
    socket_tcp_t *t = &s->u.tcp;
    t->rcvbuf = TERN_TCP_RCVBUF;
    t->sndbuf = TERN_TCP_SNDBUF;
    t->ka_idle = TERN_TCP_KEEPIDLE_MS;
    t->ka_intvl = TERN_TCP_KEEPINTVL_MS;
    t->ka_cnt = TERN_TCP_KEEPCNT;
    t->linger = UINT32_MAX;
    t->state = STCP_NEW;
}

/* The socket's options onto a new pcb (listener or active open). */
static void stcp_apply(socket_tcp_t *t, tern_tcp_pcb_t *pcb)
{
    tern_tcp_set_options(pcb, t->opts);
    (void)tern_tcp_set_keepalive(pcb, t->ka_idle, t->ka_intvl, t->ka_cnt);
    (void)tern_tcp_set_bufsizes(pcb, 0, t->sndbuf);
    if (tern_tcp_set_bufsizes(pcb, t->rcvbuf, 0) != TERN_OK) {
        /* An active open fixed its window scale in the SYN already (the
         * raw connect takes no ring size): the largest ring that scale can
         * announce. */
        uint32_t most = (uint32_t)0xFFFFu << pcb->rcv_wscale;
        if (tern_tcp_set_bufsizes(pcb, most, 0) == TERN_OK)
            t->rcvbuf = most;
        else
            t->rcvbuf = pcb->rbuf_size;
    }
}

void socket_tcp_free(tern_stack_t *stack, tern_socket_t *s)
{
    socket_tcp_t *t = &s->u.tcp;
    tern_mem_free(&stack->ledger, t->held_rx);
    tern_mem_free(&stack->ledger, t->held_tx);
    t->held_rx = t->held_tx = NULL;
    if (t->state == STCP_LISTEN) {
        /* Connections nobody accepted are reset. */
        while (t->qlen != 0u) {
            tern_tcp_pcb_t *pcb = t->queue[t->qhead];
            t->qhead = (uint8_t)((t->qhead + 1u) % t->backlog);
            t->qlen--;
            tern_tcp_abort(pcb);
        }
        (void)tern_tcp_close(t->pcb);
        tern_mem_free(&stack->ledger, t->queue);
        t->queue = NULL;
    } else if (t->pcb != NULL) {
        if (t->linger == 0u) {
            tern_tcp_abort(t->pcb);
        } else {
            /* Closing in the background: the stack's from now on, so that
             * a new socket with this id starts with nothing. */
            stcp_charge(t->pcb, TERN_OWNER_STACK);
            (void)tern_tcp_close(t->pcb);
        }
    }
    t->pcb = NULL;
}

/* TERN_SO_LINGER N: wait (up to N ms) until the queued bytes and the FIN
 * are acknowledged; if they are not, the close aborts. Lock held. */
int socket_tcp_close(tern_stack_t *stack, tern_socket_t **sp)
{
    tern_socket_t *s = *sp;
    socket_tcp_t *t = &s->u.tcp;
    if (t->state != STCP_CONNECTED || t->pcb == NULL || t->linger == 0u || t->linger == UINT32_MAX ||
        !socket_blocking(stack, s, 0) || tern_tcp_recv_avail(t->pcb) != 0u)
        return TERN_OK;
    socket_touch_time(stack);
    (void)tern_tcp_shutdown(t->pcb);
    s->flags |= SOCK_F_SHUT_WR;
    uint32_t start = socket_now(stack);
    while (t->pcb != NULL && !stcp_fin_acked(t->pcb)) {
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

static int stcp_port_taken(const tern_stack_t *stack, uint16_t port)
{
    for (const tern_tcp_pcb_t *p = stack->tcp.pcbs; p != NULL; p = p->next)
        if (p->local_port == port)
            return 1;
    for (unsigned i = 0; i < TERN_SOCKET_MAX; i++) {
        const tern_socket_t *o = stack->sockets.slots[i];
        if (o != NULL && o->type == TERN_SOCK_STREAM && o->u.tcp.local_port == port)
            return 1;
    }
    return 0;
}

int socket_tcp_bind(tern_stack_t *stack, tern_socket_t *s, const tern_sockaddr_t *local)
{
    socket_tcp_t *t = &s->u.tcp;
    if (t->state != STCP_NEW || t->local_port != 0u)
        return TERN_ERR_INVAL;
    if (local->addr != 0u) {
        const tern_netif_t *nif = stack->netifs;
        while (nif != NULL && nif->addr != local->addr)
            nif = nif->next;
        if (nif == NULL)
            return TERN_ERR_INVAL;
    }
    if (local->port != 0u && stcp_port_taken(stack, local->port))
        return TERN_ERR_ADDRINUSE;
    t->local_port = local->port;
    return TERN_OK;
}

int socket_tcp_listen(tern_stack_t *stack, tern_socket_t *s, int backlog)
{
    socket_tcp_t *t = &s->u.tcp;
    if (t->state == STCP_LISTEN)
        return TERN_OK;
    if (t->state != STCP_NEW)
        return TERN_ERR_STATE;
    unsigned bl = backlog < 1 ? 1u : backlog > TERN_TCP_BACKLOG_MAX ? TERN_TCP_BACKLOG_MAX : (unsigned)backlog;
    /* A ring of pointers to waiting connections (uintptr_t-sized slots). */
    tern_tcp_pcb_t **queue = tern_mem_alloc(&stack->ledger, bl * sizeof(uintptr_t), TERN_MEM_SOCKET, s->id);
    if (queue == NULL)
        return TERN_ERR_NOMEM;
    uint16_t port = t->local_port;
    /* Unbound: an ephemeral port (RFC 6056 algorithm 1, a random start). */
    uint32_t start = stack->port->random32(stack->port->ctx);
    for (unsigned i = 0; port == 0u && i < 16384u; i++) {
        uint16_t cand = (uint16_t)(49152u + (start + i) % 16384u);
        if (!stcp_port_taken(stack, cand))
            port = cand;
    }
    int err = TERN_ERR_ADDRINUSE;
    tern_tcp_pcb_t *pcb = port != 0u ? tern_tcp_listen(stack, port, bl, &stcp_listen_cbs, s, &err) : NULL;
    if (pcb == NULL) {
        tern_mem_free(&stack->ledger, queue);
        return err;
    }
    stcp_charge(pcb, s->id);
    stcp_apply(t, pcb);
    t->pcb = pcb;
    t->queue = queue;
    t->backlog = (uint8_t)bl;
    t->qhead = t->qlen = 0;
    t->local_port = port;
    t->state = STCP_LISTEN;
    return TERN_OK;
}

typedef struct stcp_accept_args {
    tern_sockaddr_t *remote;
} stcp_accept_args_t;

static int stcp_try_accept(tern_stack_t *stack, tern_socket_t *s, void *arg)
{
    const stcp_accept_args_t *a = arg;
    socket_tcp_t *t = &s->u.tcp;
    if (t->state != STCP_LISTEN)
        return TERN_ERR_STATE;
    if (t->qlen == 0u)
        return TERN_ERR_WOULDBLOCK;
    tern_socket_t *c = socket_new(stack, TERN_SOCK_STREAM);
    if (c == NULL)
        return TERN_ERR_NOMEM; /* the connection stays queued */
    tern_tcp_pcb_t *pcb = t->queue[t->qhead];
    t->qhead = (uint8_t)((t->qhead + 1u) % t->backlog);
    t->qlen--;
    socket_tcp_t *ct = &c->u.tcp;
    /* The listener's options (the pcb inherited its ring sizes, Nagle and
     * keep-alive settings already). */
    *ct = *t;
    ct->queue = NULL;
    ct->held_rx = ct->held_tx = NULL;
    ct->backlog = ct->qhead = ct->qlen = 0;
    ct->span = 0;
    ct->pcb = pcb;
    ct->state = STCP_CONNECTED;
    ct->local_port = 0;
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
    return socket_retry(stack, sp, 0, SOCKET_WAIT_RECV, TERN_ERR_WOULDBLOCK, stcp_try_accept, &a);
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
        if (t->pcb != NULL)
            tern_tcp_abort(t->pcb);
        t->pcb = NULL;
        t->state = STCP_DEAD;
        t->err = TERN_ERR_TIMEOUT;
    }
    return r;
}

int socket_tcp_connect(tern_stack_t *stack, tern_socket_t **sp, const tern_sockaddr_t *remote)
{
    tern_socket_t *s = *sp;
    socket_tcp_t *t = &s->u.tcp;
    if (remote == NULL || remote->addr == 0u || remote->port == 0u)
        return TERN_ERR_INVAL;
    if (t->state == STCP_CONNECTING) /* a non-blocking connect under way */
        return socket_blocking(stack, s, 0) ? stcp_connect_wait(stack, sp) : TERN_ERR_INPROGRESS;
    if (t->state != STCP_NEW)
        return TERN_ERR_STATE; /* EISCONN, listening, or dead */
    if (t->local_port != 0u)
        return TERN_ERR_NOTSUP;
    socket_touch_time(stack);
    int err;
    tern_tcp_pcb_t *pcb = tern_tcp_connect(stack, remote->addr, remote->port, &stcp_conn_cbs, s, &err);
    if (pcb == NULL)
        return err;
    stcp_charge(pcb, s->id);
    stcp_apply(t, pcb);
    t->pcb = pcb;
    t->state = STCP_CONNECTING;
    return socket_blocking(stack, s, 0) ? stcp_connect_wait(stack, sp) : TERN_ERR_INPROGRESS;
}

int socket_tcp_name(const tern_socket_t *s, tern_sockaddr_t *out, int peer)
{
    const socket_tcp_t *t = &s->u.tcp;
    if (peer) {
        if (t->pcb == NULL || t->state == STCP_LISTEN)
            return TERN_ERR_STATE;
        stcp_addrs(t->pcb, NULL, out);
        return TERN_OK;
    }
    if (t->pcb != NULL && t->state != STCP_LISTEN) {
        stcp_addrs(t->pcb, out, NULL);
    } else {
        out->addr = 0;
        out->port = t->local_port;
    }
    return TERN_OK;
}

int socket_tcp_shutdown(tern_stack_t *stack, tern_socket_t *s, int how)
{
    socket_tcp_t *t = &s->u.tcp;
    if (t->state == STCP_NEW || t->state == STCP_LISTEN)
        return TERN_ERR_STATE;
    socket_touch_time(stack);
    if (how != TERN_SHUT_WR) {
        s->flags |= SOCK_F_SHUT_RD;
        t->span &= (uint8_t)~STCP_SPAN_RX;
        if (t->pcb != NULL)
            (void)tern_tcp_consume(t->pcb, tern_tcp_recv_avail(t->pcb));
    }
    if (how != TERN_SHUT_RD) {
        s->flags |= SOCK_F_SHUT_WR;
        t->span &= (uint8_t)~STCP_SPAN_TX;
        if (t->pcb != NULL)
            (void)tern_tcp_shutdown(t->pcb);
    }
    socket_wake(stack);
    return TERN_OK;
}

/* ---- receive ------------------------------------------------------------------ */

/* Where a receive stands when the ring has nothing (lock held): 0 at the
 * end of the stream, an error, or TERN_ERR_WOULDBLOCK. */
static int stcp_recv_state(tern_socket_t *s)
{
    socket_tcp_t *t = &s->u.tcp;
    if (s->flags & SOCK_F_SHUT_RD)
        return 0;
    switch (t->state) {
    case STCP_CONNECTING:
        return TERN_ERR_WOULDBLOCK;
    case STCP_CONNECTED:
        return tern_tcp_at_eof(t->pcb) ? 0 : TERN_ERR_WOULDBLOCK;
    case STCP_DEAD:
        s->error = 0; /* reported by this call */
        return t->err;
    default:
        return TERN_ERR_STATE;
    }
}

typedef struct stcp_recv_args {
    uint8_t *buf;
    size_t len;
    int flags;
} stcp_recv_args_t;

static int stcp_try_recv(tern_stack_t *stack, tern_socket_t *s, void *arg)
{
    const stcp_recv_args_t *a = arg;
    socket_tcp_t *t = &s->u.tcp;
    if (t->state == STCP_CONNECTED && !(s->flags & SOCK_F_SHUT_RD) && tern_tcp_recv_avail(t->pcb) != 0u) {
        if (a->len == 0u)
            return 0;
        if (a->flags & TERN_MSG_PEEK) {
            const uint8_t *span;
            int n = tern_tcp_peek(t->pcb, &span);
            size_t k = (size_t)n < a->len ? (size_t)n : a->len;
            memcpy(a->buf, span, k);
            return (int)k;
        }
        socket_touch_time(stack); /* a window update may go out */
        return tern_tcp_read(t->pcb, a->buf, a->len > 0x7FFFFFFFu ? 0x7FFFFFFFu : a->len);
    }
    return stcp_recv_state(s);
}

int socket_tcp_recv(tern_stack_t *stack, tern_socket_t **sp, void *buf, size_t len, int flags)
{
    stcp_recv_args_t a = {buf, len, flags};
    return socket_retry(stack, sp, flags, SOCKET_WAIT_RECV, TERN_ERR_WOULDBLOCK, stcp_try_recv, &a);
}

static int stcp_try_recv_span(tern_stack_t *stack, tern_socket_t *s, void *arg)
{
    (void)stack;
    const uint8_t **span = arg;
    socket_tcp_t *t = &s->u.tcp;
    if (t->state == STCP_CONNECTED && !(s->flags & SOCK_F_SHUT_RD)) {
        int n = tern_tcp_peek(t->pcb, span);
        if (n > 0) {
            t->span |= STCP_SPAN_RX;
            return n;
        }
    }
    return stcp_recv_state(s);
}

int socket_tcp_recv_span(tern_stack_t *stack, tern_socket_t **sp, const uint8_t **span, int flags)
{
    return socket_retry(stack, sp, flags, SOCKET_WAIT_RECV, TERN_ERR_WOULDBLOCK, stcp_try_recv_span, (void *)span);
}

int socket_tcp_recv_consume(tern_stack_t *stack, tern_socket_t *s, size_t n)
{
    socket_tcp_t *t = &s->u.tcp;
    if (t->held_rx != NULL) {
        /* The connection died under the span: the bytes go with the ring. */
        tern_mem_free(&stack->ledger, t->held_rx);
        t->held_rx = NULL;
        t->span &= (uint8_t)~STCP_SPAN_RX;
        return TERN_OK;
    }
    if (t->state != STCP_CONNECTED)
        return t->state == STCP_DEAD ? TERN_OK : TERN_ERR_STATE;
    if (s->flags & SOCK_F_SHUT_RD)
        return TERN_OK; /* dropped already */
    socket_touch_time(stack);
    int r = tern_tcp_consume(t->pcb, n);
    if (r == TERN_OK)
        t->span &= (uint8_t)~STCP_SPAN_RX;
    return r;
}

/* ---- send --------------------------------------------------------------------- */

/* Can bytes go into the send stream now? TERN_OK or why not. */
static int stcp_send_state(tern_socket_t *s)
{
    socket_tcp_t *t = &s->u.tcp;
    if (s->flags & SOCK_F_SHUT_WR)
        return TERN_ERR_CLOSED;
    switch (t->state) {
    case STCP_CONNECTING:
    case STCP_CONNECTED:
        return TERN_OK;
    case STCP_DEAD:
        s->error = 0; /* reported by this call */
        return t->err;
    default:
        return TERN_ERR_STATE;
    }
}

/* The raw API says STATE after its FIN: a closed stream for the socket. */
static int stcp_send_err(int r)
{
    return r == TERN_ERR_STATE ? TERN_ERR_CLOSED : r;
}

typedef struct stcp_send_args {
    const uint8_t *data;
    size_t len;
    size_t done;
} stcp_send_args_t;

static int stcp_try_send(tern_stack_t *stack, tern_socket_t *s, void *arg)
{
    stcp_send_args_t *a = arg;
    int r = stcp_send_state(s);
    if (r != TERN_OK)
        return r;
    socket_touch_time(stack);
    r = tern_tcp_write(s->u.tcp.pcb, a->data + a->done, a->len - a->done);
    if (r < 0)
        return stcp_send_err(r);
    a->done += (size_t)r;
    return a->done < a->len ? TERN_ERR_WOULDBLOCK : TERN_OK;
}

int socket_tcp_send(tern_stack_t *stack, tern_socket_t **sp, const void *data, size_t len, int flags)
{
    stcp_send_args_t a = {data, len > 0x7FFFFFFFu ? 0x7FFFFFFFu : len, 0};
    int r = socket_retry(stack, sp, flags, SOCKET_WAIT_SEND, TERN_ERR_WOULDBLOCK, stcp_try_send, &a);
    /* Bytes taken count even when the wait then ran out or failed; the
     * error shows on the next call. */
    if (a.done != 0u && r != TERN_ERR_BADF)
        return (int)a.done;
    return r;
}

static int stcp_try_send_span(tern_stack_t *stack, tern_socket_t *s, void *arg)
{
    (void)stack;
    uint8_t **span = arg;
    int r = stcp_send_state(s);
    if (r != TERN_OK)
        return r;
    r = tern_tcp_write_span(s->u.tcp.pcb, span);
    if (r < 0)
        return stcp_send_err(r);
    if (r == 0)
        return TERN_ERR_WOULDBLOCK;
    s->u.tcp.span |= STCP_SPAN_TX;
    s->u.tcp.tx_span = *span;
    return r;
}

int socket_tcp_send_span(tern_stack_t *stack, tern_socket_t **sp, uint8_t **span, int flags)
{
    return socket_retry(stack, sp, flags, SOCKET_WAIT_SEND, TERN_ERR_WOULDBLOCK, stcp_try_send_span, span);
}

int socket_tcp_send_commit(tern_stack_t *stack, tern_socket_t *s, size_t n)
{
    socket_tcp_t *t = &s->u.tcp;
    if (t->held_tx != NULL) {
        tern_mem_free(&stack->ledger, t->held_tx);
        t->held_tx = NULL;
        t->span &= (uint8_t)~STCP_SPAN_TX;
        return t->err;
    }
    int r = stcp_send_state(s);
    if (r != TERN_OK)
        return r;
    if (n > 0x7FFFFFFFu)
        return TERN_ERR_INVAL;
    if ((t->span & STCP_SPAN_TX) && n != 0u) {
        /* Everything sent was acknowledged while the application filled
         * the span: the raw ring restarted at offset 0 (an empty ring
         * keeps its spans long). The bytes move to where the tail is now;
         * the whole ring is free then, so they fit. */
        uint8_t *tail;
        int room = tern_tcp_write_span(t->pcb, &tail);
        if (room < 0)
            return stcp_send_err(room);
        if (tail != t->tx_span && (size_t)room >= n)
            memmove(tail, t->tx_span, n);
    }
    socket_touch_time(stack);
    r = tern_tcp_write_commit(t->pcb, n);
    if (r >= 0)
        t->span &= (uint8_t)~STCP_SPAN_TX;
    return stcp_send_err(r);
}

/* ---- options, poll, netstat ------------------------------------------------------ */

int socket_tcp_setopt(tern_stack_t *stack, tern_socket_t *s, int opt, uint32_t value)
{
    (void)stack;
    socket_tcp_t *t = &s->u.tcp;
    tern_tcp_pcb_t *pcb = t->pcb;
    switch (opt) {
    case TERN_SO_RCVBUF:
    case TERN_SO_SNDBUF: {
        if (value < 536u || value > 0x3FFFFFFFu)
            return TERN_ERR_INVAL;
        int rcv = opt == TERN_SO_RCVBUF;
        if (pcb != NULL) {
            int r = tern_tcp_set_bufsizes(pcb, rcv ? value : 0u, rcv ? 0u : value);
            if (r != TERN_OK)
                return r;
        } else if (t->state == STCP_DEAD) {
            return TERN_ERR_STATE;
        }
        if (rcv)
            t->rcvbuf = value;
        else
            t->sndbuf = value;
        return TERN_OK;
    }
    case TERN_SO_TCP_NODELAY:
    case TERN_SO_KEEPALIVE: {
        uint8_t bit = opt == TERN_SO_TCP_NODELAY ? TERN_TCP_OPT_NODELAY : TERN_TCP_OPT_KEEPALIVE;
        if (value != 0u)
            t->opts |= bit;
        else
            t->opts &= (uint8_t)~bit;
        if (pcb != NULL)
            tern_tcp_set_options(pcb, t->opts);
        return TERN_OK;
    }
    case TERN_SO_TCP_KEEPIDLE:
    case TERN_SO_TCP_KEEPINTVL:
    case TERN_SO_TCP_KEEPCNT: {
        /* tern_tcp_set_keepalive's ranges (tcp.h). */
        if ((opt == TERN_SO_TCP_KEEPIDLE && (value == 0u || value > 0x3FFFFFFFu)) ||
            (opt == TERN_SO_TCP_KEEPINTVL && (value == 0u || value > 0x00FFFFFFu)) ||
            (opt == TERN_SO_TCP_KEEPCNT && (value == 0u || value > 32u)))
            return TERN_ERR_INVAL;
        if (opt == TERN_SO_TCP_KEEPIDLE)
            t->ka_idle = value;
        else if (opt == TERN_SO_TCP_KEEPINTVL)
            t->ka_intvl = value;
        else
            t->ka_cnt = (uint8_t)value;
        if (pcb != NULL)
            return tern_tcp_set_keepalive(pcb, t->ka_idle, t->ka_intvl, t->ka_cnt);
        return TERN_OK;
    }
    case TERN_SO_LINGER:
#if !TERN_OS
        if (value != 0u && value != UINT32_MAX)
            return TERN_ERR_NOTSUP; /* a lingering close blocks */
#endif
        t->linger = value;
        return TERN_OK;
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
    const socket_tcp_t *t = &s->u.tcp;
    switch (opt) {
    case TERN_SO_RCVBUF:
        *value = t->rcvbuf;
        return TERN_OK;
    case TERN_SO_SNDBUF:
        *value = t->sndbuf;
        return TERN_OK;
    case TERN_SO_TCP_NODELAY:
        *value = (t->opts & TERN_TCP_OPT_NODELAY) != 0u;
        return TERN_OK;
    case TERN_SO_KEEPALIVE:
        *value = (t->opts & TERN_TCP_OPT_KEEPALIVE) != 0u;
        return TERN_OK;
    case TERN_SO_TCP_KEEPIDLE:
        *value = t->ka_idle;
        return TERN_OK;
    case TERN_SO_TCP_KEEPINTVL:
        *value = t->ka_intvl;
        return TERN_OK;
    case TERN_SO_TCP_KEEPCNT:
        *value = t->ka_cnt;
        return TERN_OK;
    case TERN_SO_LINGER:
        *value = t->linger;
        return TERN_OK;
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
    const tern_tcp_pcb_t *pcb = t->pcb;
    uint16_t ev = 0;
    switch (t->state) {
    case STCP_NEW:
        return TERN_POLLHUP; /* as Linux: neither connected nor listening */
    case STCP_LISTEN:
        return t->qlen != 0u ? TERN_POLLIN : 0u;
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
    row->state = TERN_TCP_CLOSED;
    row->local.port = t->local_port;
    if (t->pcb == NULL)
        return;
    row->state = (uint8_t)tern_tcp_state(t->pcb);
    if (t->state == STCP_LISTEN)
        return;
    stcp_addrs(t->pcb, &row->local, &row->remote);
    row->recv_queue = (uint32_t)tern_tcp_recv_avail(t->pcb);
    row->send_queue = stcp_unacked(t->pcb);
}
