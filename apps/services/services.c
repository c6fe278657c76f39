/* echo (RFC 862), discard (RFC 863), chargen (RFC 864) on TCP and UDP, on
 * the non-blocking sockets API (services.h). */
#include <string.h>
#include "tern/services.h"

enum { SVC_ECHO = 0, SVC_DISCARD = 1, SVC_CHARGEN = 2 };
static const uint16_t svc_ports[TERN_SERVICES_COUNT] = {7, 9, 19};

/* Connections' sockets plus listeners and UDP sockets, for one poll. */
#define SVC_FDS (TERN_SERVICES_COUNT * (2u + TERN_SOCKET_SERVICE_CONNS))
/* Datagrams handled per UDP socket per poll: a flood cannot starve TCP. */
#define SVC_UDP_BURST 16u
#define SVC_UDP_CHARGEN_MAX 512u
/* Listen backlog floor: a refused extra connection still completes its
 * handshake and gets its RST from svc_accept. */
#define SVC_BACKLOG_MIN 4u

uint8_t tern_chargen_byte(uint32_t pos)
{
    /* Line l is 72 characters from the printable ASCII set (95 of them),
     * starting one further than line l-1, then CR LF (RFC 864). */
    uint32_t line = (pos / 74u) % 95u, col = pos % 74u;
    if (col == 72u)
        return '\r';
    if (col == 73u)
        return '\n';
    return (uint8_t)(' ' + (line + col) % 95u);
}

/* The whole RFC 864 cycle, built by the compiler: line l (0..94) is the 72
 * printable characters starting at ' ' + l (wrapping after '~'), then CR
 * LF. A span is filled with one memcpy per piece of the cycle it covers
 * (one, or two when it wraps), not a division per byte. 7030 bytes of
 * read-only data. */
#define SVC_CG_C(l, c) (uint8_t)(' ' + ((l) + (c)) % 95u)
#define SVC_CG_C8(l, c)                                                                                            \
    SVC_CG_C(l, c), SVC_CG_C(l, (c) + 1u), SVC_CG_C(l, (c) + 2u), SVC_CG_C(l, (c) + 3u), SVC_CG_C(l, (c) + 4u),      \
        SVC_CG_C(l, (c) + 5u), SVC_CG_C(l, (c) + 6u), SVC_CG_C(l, (c) + 7u)
#define SVC_CG_LINE(l)                                                                                             \
    SVC_CG_C8(l, 0u), SVC_CG_C8(l, 8u), SVC_CG_C8(l, 16u), SVC_CG_C8(l, 24u), SVC_CG_C8(l, 32u),                   \
        SVC_CG_C8(l, 40u), SVC_CG_C8(l, 48u), SVC_CG_C8(l, 56u), SVC_CG_C8(l, 64u), '\r', '\n'
#define SVC_CG_L5(l)                                                                                               \
    SVC_CG_LINE(l), SVC_CG_LINE((l) + 1u), SVC_CG_LINE((l) + 2u), SVC_CG_LINE((l) + 3u), SVC_CG_LINE((l) + 4u)
static const uint8_t svc_chargen_cycle[TERN_CHARGEN_CYCLE] = {
    SVC_CG_L5(0u),  SVC_CG_L5(5u),  SVC_CG_L5(10u), SVC_CG_L5(15u), SVC_CG_L5(20u), SVC_CG_L5(25u), SVC_CG_L5(30u),
    SVC_CG_L5(35u), SVC_CG_L5(40u), SVC_CG_L5(45u), SVC_CG_L5(50u), SVC_CG_L5(55u), SVC_CG_L5(60u), SVC_CG_L5(65u),
    SVC_CG_L5(70u), SVC_CG_L5(75u), SVC_CG_L5(80u), SVC_CG_L5(85u), SVC_CG_L5(90u),
};

static void svc_chargen_fill(uint8_t *p, size_t n, uint16_t *pos)
{
    const size_t cycle = (size_t)TERN_CHARGEN_CYCLE;
    size_t at = *pos;
    while (n > 0u) {
        size_t k = cycle - at;
        if (k > n)
            k = n;
        memcpy(p, svc_chargen_cycle + at, k);
        p += k;
        n -= k;
        at += k;
        if (at == cycle)
            at = 0;
    }
    *pos = (uint16_t)at;
}

static uint32_t svc_rand(tern_services_t *sv)
{
    /* xorshift32, seeded from the port: lengths need no more */
    uint32_t x = sv->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    sv->rng = x;
    return x;
}

/* ---- start and stop ------------------------------------------------------ */

void tern_services_stop(tern_services_t *sv)
{
    if (sv == NULL || sv->stack == NULL)
        return;
    for (unsigned k = 0; k < TERN_SERVICES_COUNT; k++) {
        for (unsigned i = 0; i < TERN_SOCKET_SERVICE_CONNS; i++) {
            if (sv->conns[k][i].sock > 0) {
                (void)tern_setsockopt(sv->stack, sv->conns[k][i].sock, TERN_SO_LINGER, 0);
                (void)tern_close(sv->stack, sv->conns[k][i].sock);
            }
            sv->conns[k][i].sock = 0;
        }
        if (sv->listen[k] > 0)
            (void)tern_close(sv->stack, sv->listen[k]);
        if (sv->udp[k] > 0)
            (void)tern_close(sv->stack, sv->udp[k]);
        sv->listen[k] = sv->udp[k] = 0;
    }
}

static int svc_open(tern_services_t *sv, unsigned k)
{
    tern_stack_t *stack = sv->stack;
    uint16_t port = (uint16_t)(sv->cfg.port_base + svc_ports[k]);
    tern_sockaddr_t local = {.addr = 0, .port = port};
#if TERN_IPV6
    /* Bound to ::, every service takes IPv6 and IPv4 (dual stack, one
     * socket per service and protocol); replies go back in the family the
     * peer used. */
    local.family = TERN_FAMILY_IP6;
    memset(&local.addr6, 0, sizeof local.addr6);
#endif
    int l = tern_socket(stack, TERN_SOCK_STREAM);
    if (l < 0)
        return l;
    sv->listen[k] = l;
    int r = tern_setsockopt(stack, l, TERN_SO_NONBLOCK, 1);
    if (r == TERN_OK && sv->cfg.rcvbuf != 0u)
        r = tern_setsockopt(stack, l, TERN_SO_RCVBUF, sv->cfg.rcvbuf);
    if (r == TERN_OK && sv->cfg.sndbuf != 0u)
        r = tern_setsockopt(stack, l, TERN_SO_SNDBUF, sv->cfg.sndbuf);
    if (r == TERN_OK)
        r = tern_bind(stack, l, &local);
    /* Room for every connection the service takes to be mid-handshake at
     * once: with a smaller backlog, a burst of tcp_conns SYNs makes TCP
     * evict the oldest half-open children (tcp.syn_evicted), whose peers
     * already hold our SYN-ACK and are reset when their ACK comes. */
    unsigned backlog = sv->cfg.tcp_conns < SVC_BACKLOG_MIN ? SVC_BACKLOG_MIN : sv->cfg.tcp_conns;
    if (r == TERN_OK)
        r = tern_listen(stack, l, (int)backlog);
    if (r != TERN_OK)
        return r;
    int u = tern_socket(stack, TERN_SOCK_DGRAM);
    if (u < 0)
        return u;
    sv->udp[k] = u;
    r = tern_setsockopt(stack, u, TERN_SO_NONBLOCK, 1);
    if (r == TERN_OK)
        r = tern_bind(stack, u, &local);
    return r;
}

int tern_services_start(tern_services_t *sv, tern_stack_t *stack, const tern_services_cfg_t *cfg)
{
    if (sv == NULL || stack == NULL || cfg == NULL)
        return TERN_ERR_INVAL;
    memset(sv, 0, sizeof *sv);
    sv->stack = stack;
    sv->cfg = *cfg;
    if (sv->cfg.tcp_conns == 0u || sv->cfg.tcp_conns > TERN_SOCKET_SERVICE_CONNS)
        sv->cfg.tcp_conns = TERN_SOCKET_SERVICE_CONNS;
    sv->rng = stack->port->random32(stack->port->ctx) | 1u;
    for (unsigned k = 0; k < TERN_SERVICES_COUNT; k++) {
        if (!(cfg->which & (1u << k)))
            continue;
        int r = svc_open(sv, k);
        if (r != TERN_OK) {
            tern_services_stop(sv);
            return r;
        }
    }
    return TERN_OK;
}

/* ---- TCP ------------------------------------------------------------------ */

static void svc_close(tern_services_t *sv, tern_services_conn_t *c, int abort)
{
    if (abort)
        (void)tern_setsockopt(sv->stack, c->sock, TERN_SO_LINGER, 0);
    (void)tern_close(sv->stack, c->sock);
    c->sock = 0;
    sv->stats.closed++;
}

static void svc_accept(tern_services_t *sv, unsigned k)
{
    for (;;) {
        int s = tern_accept(sv->stack, sv->listen[k], NULL);
        if (s < 0) {
            if (s != TERN_ERR_WOULDBLOCK)
                sv->stats.errors++;
            return;
        }
        tern_services_conn_t *slot = NULL;
        for (unsigned i = 0; i < sv->cfg.tcp_conns && slot == NULL; i++)
            if (sv->conns[k][i].sock == 0)
                slot = &sv->conns[k][i];
        if (slot == NULL) {
            /* Over the bound: refused at once with RST. */
            (void)tern_setsockopt(sv->stack, s, TERN_SO_LINGER, 0);
            (void)tern_close(sv->stack, s);
            sv->stats.refused++;
            continue;
        }
        (void)tern_setsockopt(sv->stack, s, TERN_SO_NONBLOCK, 1);
        memset(slot, 0, sizeof *slot);
        slot->sock = s;
        sv->stats.accepted++;
    }
}

/* Read everything there is; 1 at the end of the stream (or an error: then
 * *err), 0 when it would block. echo: each span goes to the send ring;
 * what does not fit waits (out_blocked) with the rest unconsumed. */
static int svc_tcp_input(tern_services_t *sv, tern_services_conn_t *c, int echo, int *err)
{
    tern_stack_t *stack = sv->stack;
    for (;;) {
        const uint8_t *span;
        int n = tern_recv_span(stack, c->sock, &span, TERN_MSG_DONTWAIT);
        if (n == TERN_ERR_WOULDBLOCK)
            return 0;
        if (n <= 0) {
            *err = n;
            return 1;
        }
        int take = n;
        if (echo) {
            take = tern_send(stack, c->sock, span, (size_t)n, TERN_MSG_DONTWAIT);
            if (take == TERN_ERR_WOULDBLOCK)
                take = 0;
            if (take < 0) {
                *err = take;
                return 1;
            }
            sv->stats.tcp_out += (uint64_t)take;
        }
        sv->stats.tcp_in += (uint64_t)take;
        (void)tern_recv_consume(stack, c->sock, (size_t)take);
        if (take < n) {
            c->out_blocked = 1;
            return 0;
        }
        c->out_blocked = 0;
    }
}

static void svc_chargen_output(tern_services_t *sv, tern_services_conn_t *c)
{
    for (;;) {
        uint8_t *span;
        int n = tern_send_span(sv->stack, c->sock, &span, TERN_MSG_DONTWAIT);
        if (n <= 0)
            return; /* full (an error shows on the input side) */
        svc_chargen_fill(span, (size_t)n, &c->pos);
        if (tern_send_commit(sv->stack, c->sock, (size_t)n) < 0)
            return;
        sv->stats.tcp_out += (uint64_t)n;
    }
}

static void svc_tcp_conn(tern_services_t *sv, unsigned k, tern_services_conn_t *c, uint16_t revents)
{
    int err = 0, end;
    if (k == SVC_CHARGEN && (revents & TERN_POLLOUT))
        svc_chargen_output(sv, c);
    /* discard and chargen throw input away (RFC 863, RFC 864) */
    end = svc_tcp_input(sv, c, k == SVC_ECHO, &err);
    if (end) {
        if (err != 0)
            sv->stats.errors++;
        /* At the end of the peer's stream: FIN after what is queued. An
         * error: the connection is gone, reset what is left. */
        svc_close(sv, c, err != 0);
    }
}

/* ---- UDP -------------------------------------------------------------------- */

static void svc_udp(tern_services_t *sv, unsigned k)
{
    tern_stack_t *stack = sv->stack;
    for (unsigned i = 0; i < SVC_UDP_BURST; i++) {
        tern_netbuf_t *nb;
        tern_sockaddr_t from;
        int n = tern_recvfrom_netbuf(stack, sv->udp[k], &nb, TERN_MSG_DONTWAIT, &from);
        if (n < 0)
            return;
        sv->stats.udp_in++;
        if (k == SVC_ECHO) {
            /* The datagram's own buffer goes back: no copy. */
            if (tern_sendto_netbuf(stack, sv->udp[k], nb, 0, &from) >= 0) {
                sv->stats.udp_out++;
                sv->stats.udp_echoed++;
            } else {
                sv->stats.udp_echo_errors++;
            }
            continue;
        }
        tern_socket_netbuf_release(stack, nb);
        if (k != SVC_CHARGEN)
            continue;
        /* RFC 864: answer each datagram with 0..512 characters. */
        size_t len = svc_rand(sv) % (SVC_UDP_CHARGEN_MAX + 1u);
        tern_netbuf_t *out = tern_socket_netbuf_get(stack, len, 0);
        if (out == NULL)
            continue;
        svc_chargen_fill(out->data, len, &sv->udp_pos);
        if (tern_sendto_netbuf(stack, sv->udp[k], out, 0, &from) >= 0)
            sv->stats.udp_out++;
    }
}

/* ---- poll -------------------------------------------------------------------- */

int tern_services_poll(tern_services_t *sv, uint32_t timeout_ms)
{
    if (sv == NULL || sv->stack == NULL)
        return TERN_ERR_INVAL;
    tern_pollfd_t fds[SVC_FDS];
    tern_services_conn_t *owner[SVC_FDS];
    uint8_t kind[SVC_FDS];
    size_t n = 0;
    for (unsigned k = 0; k < TERN_SERVICES_COUNT; k++) {
        if (sv->listen[k] <= 0)
            continue;
        fds[n] = (tern_pollfd_t){sv->listen[k], TERN_POLLIN, 0};
        owner[n] = NULL;
        kind[n++] = (uint8_t)k;
        fds[n] = (tern_pollfd_t){sv->udp[k], TERN_POLLIN, 0};
        owner[n] = NULL;
        kind[n++] = (uint8_t)(k | 0x80u);
        for (unsigned i = 0; i < sv->cfg.tcp_conns; i++) {
            tern_services_conn_t *c = &sv->conns[k][i];
            if (c->sock == 0)
                continue;
            uint16_t ev = TERN_POLLIN;
            if (k == SVC_CHARGEN)
                ev |= TERN_POLLOUT;
            else if (k == SVC_ECHO && c->out_blocked)
                ev = TERN_POLLOUT; /* bytes wait for send space */
            fds[n] = (tern_pollfd_t){c->sock, ev, 0};
            owner[n] = c;
            kind[n++] = (uint8_t)k;
        }
    }
    int ready = tern_socket_poll(sv->stack, fds, n, timeout_ms);
    if (ready <= 0)
        return ready;
    for (size_t i = 0; i < n; i++) {
        if (fds[i].revents == 0u)
            continue;
        unsigned k = kind[i] & 0x7Fu;
        if (owner[i] != NULL) {
            if (owner[i]->sock == fds[i].sock)
                svc_tcp_conn(sv, k, owner[i], fds[i].revents);
        } else if (kind[i] & 0x80u) {
            svc_udp(sv, k);
        } else {
            svc_accept(sv, k);
        }
    }
    return ready;
}
