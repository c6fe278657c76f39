/* Socket readiness and listing: tern_socket_poll and the netstat rows
 * (tern_socket_info, tern_socket_list) over the socket table. */
#include <string.h>
#include "socket/socket_internal.h"

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

int tern_socket_info(const tern_stack_t *stack, int id, tern_socket_info_t *row)
{
    if (stack == NULL || row == NULL || id < 1 || id > TERN_SOCKET_MAX || stack->sockets.slots[id - 1] == NULL)
        return TERN_ERR_BADF;
    socket_row(stack, stack->sockets.slots[id - 1], row);
    return TERN_OK;
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
