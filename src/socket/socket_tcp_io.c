/* TCP sockets' data paths: recv, send and their zero-copy spans over the
 * connection's rings (the raw TCP API), with the waits that block them. */
#include <string.h>
#include "net/tcp_internal.h"
#include "socket/socket_internal.h"

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
        return tern_tcp_at_eof(socket_tcp_pcb(s)) ? 0 : TERN_ERR_WOULDBLOCK;
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
    const socket_tcp_t *t = &s->u.tcp;
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    if (t->state == STCP_CONNECTED && !(s->flags & SOCK_F_SHUT_RD) && tern_tcp_recv_avail(pcb) != 0u) {
        if (a->len == 0u)
            return 0;
        if (a->flags & TERN_MSG_PEEK) {
            const uint8_t *span;
            int n = tern_tcp_peek(pcb, &span);
            size_t k = (size_t)n < a->len ? (size_t)n : a->len;
            memcpy(a->buf, span, k);
            return (int)k;
        }
        socket_touch_time(stack); /* a window update may go out */
        return tern_tcp_read(pcb, a->buf, a->len > 0x7FFFFFFFu ? 0x7FFFFFFFu : a->len);
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
        int n = tern_tcp_peek(socket_tcp_pcb(s), span);
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
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    if (t->state == STCP_DEAD && pcb->rbuf != NULL) {
        /* The connection died under the span: the bytes go with the ring. */
        tcp_rbuf_free(stack, pcb);
        t->span &= (uint8_t)~STCP_SPAN_RX;
        return TERN_OK;
    }
    if (t->state != STCP_CONNECTED)
        return t->state == STCP_DEAD ? TERN_OK : TERN_ERR_STATE;
    if (s->flags & SOCK_F_SHUT_RD)
        return TERN_OK; /* dropped already */
    socket_touch_time(stack);
    int r = tern_tcp_consume(pcb, n);
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
    r = tern_tcp_write(socket_tcp_pcb(s), a->data + a->done, a->len - a->done);
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
    r = tern_tcp_write_span(socket_tcp_pcb(s), span);
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
    tern_tcp_pcb_t *pcb = socket_tcp_pcb(s);
    if (t->state == STCP_DEAD && pcb->sbuf != NULL) {
        /* The connection died under the span: the ring goes. */
        tcp_sbuf_free(stack, pcb);
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
        int room = tern_tcp_write_span(pcb, &tail);
        if (room < 0)
            return stcp_send_err(room);
        if (tail != t->tx_span && (size_t)room >= n)
            memmove(tail, t->tx_span, n);
    }
    socket_touch_time(stack);
    r = tern_tcp_write_commit(pcb, n);
    if (r >= 0)
        t->span &= (uint8_t)~STCP_SPAN_TX;
    return stcp_send_err(r);
}
