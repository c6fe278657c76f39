/* tern-demo's TCP part (see demo_tcp.h): the services' thread, and the
 * checking client on the raw API (callbacks in the stack thread). */
#include "demo_tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tern_posix.h"

static uint8_t pattern_byte(uint64_t i)
{
    return (uint8_t)((i % DEMO_TCP_PATTERN_LEN) * 7u + 3u);
}

/* ---- options ------------------------------------------------------------------ */

int demo_tcp_option(demo_tcp_opts_t *o, const char *name, const char *arg)
{
    char *end = NULL;
    if (strcmp(name, "tcp-buf") == 0 || strcmp(name, "tcp-heap") == 0 || strcmp(name, "tcp-conns") == 0) {
        unsigned long long v = strtoull(arg, &end, 10);
        if (end == arg || *end != '\0')
            return -1;
        if (name[4] == 'b') {
            if (v != 0u && (v < 536u || v > 0x3FFFFFFFu))
                return -1;
            o->buf = (uint32_t)v;
        } else if (name[4] == 'h') {
            o->heap = v;
            o->heap_set = 1;
        } else {
            if (v < 1u || v > TERN_SOCKET_SERVICE_CONNS)
                return -1;
            o->conns = (unsigned)v;
        }
        return 1;
    }
    if (strcmp(name, "tcp-client") != 0)
        return 0;
    /* ADDR:PORT:BYTES */
    char addr[32];
    unsigned port;
    unsigned long long bytes;
    const char *colon = strchr(arg, ':');
    if (colon == NULL || (size_t)(colon - arg) >= sizeof addr || sscanf(colon + 1, "%u:%llu", &port, &bytes) != 2 ||
        port == 0u || port > 65535u)
        return -1;
    memcpy(addr, arg, (size_t)(colon - arg));
    addr[colon - arg] = '\0';
    if (tern_ip4_from_str(addr, &o->client_addr) != TERN_OK)
        return -1;
    o->client_port = (uint16_t)port;
    o->client_bytes = bytes;
    o->have_client = 1;
    return 1;
}

/* ---- the services' thread ---------------------------------------------------------- */

static void *services_main(void *arg)
{
    demo_tcp_t *t = arg;
    /* Blocks in tern_socket_poll until a socket is ready; the timeout only
     * bounds how long a stop request waits. */
    while (!atomic_load(&t->stop)) {
        int r = tern_services_poll(&t->svc, 100);
        if (r < 0) {
            fprintf(stderr, "tern-demo: services: %s\n", tern_strerror(r));
            break;
        }
    }
    return NULL;
}

int demo_tcp_start(demo_tcp_t *t, tern_stack_t *stack, tern_posix_t *px, const demo_tcp_opts_t *o)
{
    memset(t, 0, sizeof *t);
    t->stack = stack;
    t->wake_fd = -1;
    t->client_buf = o->buf;
    atomic_init(&t->stop, 0);
    /* Many concurrent connections with large rings need more than the
     * built-in arena: the host gives the heap a second region (heap_5
     * style), --tcp-heap bytes (default 4 MB; 0: none). */
    size_t extra = o->heap_set ? (size_t)o->heap : (size_t)4u << 20;
    if (extra >= 4096u) {
        static uint8_t *region;
        if (region == NULL)
            region = malloc(extra);
        if (region == NULL)
            return TERN_ERR_NOMEM;
        tern_posix_lock(px);
        int r = tern_heap_add_region(&stack->heap, region, extra);
        tern_posix_unlock(px);
        if (r != TERN_OK)
            return r;
    }
    tern_services_cfg_t cfg = {TERN_SERVICE_ALL, o->conns, o->buf, o->buf, 0};
    int r = tern_services_start(&t->svc, stack, &cfg);
    if (r != TERN_OK)
        return r;
    if (pthread_create(&t->thread, NULL, services_main, t) != 0) {
        tern_services_stop(&t->svc);
        return TERN_ERR_NOMEM;
    }
    t->running = 1;
    return TERN_OK;
}

void demo_tcp_stop(demo_tcp_t *t)
{
    if (!t->running)
        return;
    atomic_store(&t->stop, 1);
    pthread_join(t->thread, NULL);
    t->running = 0;
    const tern_services_stats_t *st = &t->svc.stats;
    printf("services: tcp accepted %u refused %u closed %u errors %u in %llu out %llu; udp in %u out %u\n",
           st->accepted, st->refused, st->closed, st->errors, (unsigned long long)st->tcp_in,
           (unsigned long long)st->tcp_out, st->udp_in, st->udp_out);
    printf("udp echo: %u datagrams echoed, %u errors\n", st->udp_echoed, st->udp_echo_errors);
    tern_services_stop(&t->svc);
}

void demo_tcp_report(demo_tcp_t *t, tern_posix_t *px)
{
    tern_socket_info_t srows[TERN_SOCKET_MAX];
    size_t ns = tern_socket_list(t->stack, srows, TERN_SOCKET_MAX);
    printf("sockets: %zu\n", ns);
    for (size_t i = 0; i < ns && i < TERN_SOCKET_MAX; i++) {
        const tern_socket_info_t *r = &srows[i];
        char l[16], rm[16];
        printf("socket %2d %s %-12s %s:%u %s:%u rq %u sq %u held %u\n", r->id,
               r->type == TERN_SOCK_STREAM ? "tcp" : "udp",
               r->type == TERN_SOCK_STREAM ? tern_tcp_state_name(r->state) : "-", tern_posix_ip4_str(r->local.addr, l),
               r->local.port, tern_posix_ip4_str(r->remote.addr, rm), r->remote.port, r->recv_queue, r->send_queue,
               r->bytes_held);
    }
    tern_posix_lock(px);
    const tern_stack_t *stack = t->stack;
    tern_tcp_info_t rows[64];
    size_t n = tern_tcp_list(stack, rows, 64);
    printf("tcp connections: %zu\n", n);
    for (size_t i = 0; i < n && i < 64u; i++) {
        const tern_tcp_info_t *r = &rows[i];
        char l[16], rm[16];
        printf("tcp %-12s %s:%u %s:%u rq %u sq %u held %u\n", tern_tcp_state_name(r->state),
               tern_posix_ip4_str(r->local_addr, l), r->local_port, tern_posix_ip4_str(r->remote_addr, rm),
               r->remote_port, r->recv_queue, r->send_queue, r->bytes_held);
    }
    const tern_tcp_stats_t *s = tern_tcp_stats(stack);
    printf("tcp stats: rx %u tx %u retransmits %u fast %u timeouts %u rst_tx %u rst_rx %u ooo %u drops: csum %u "
           "unacceptable %u no_pcb %u syn_limit %u nomem %u\n",
           s->rx, s->tx, s->retransmits, s->fast_retransmits, s->timeouts, s->rst_tx, s->rst_rx, s->ooo_segments,
           s->drop_checksum, s->drop_unacceptable, s->drop_no_pcb, s->drop_syn_limit, s->drop_nomem);
    tern_posix_unlock(px);
}

/* ---- client ---------------------------------------------------------------------- */

static void client_finish(demo_tcp_t *t)
{
    t->done = 1;
    t->finished_ms = t->stack->now;
    if (t->wake_fd >= 0) {
        uint64_t one = 1;
        ssize_t k = write(t->wake_fd, &one, sizeof one);
        (void)k;
    }
}

static void client_pump(void *arg, tern_tcp_pcb_t *pcb)
{
    demo_tcp_t *t = arg;
    const uint8_t *rspan;
    int n;
    while ((n = tern_tcp_peek(pcb, &rspan)) > 0) {
        for (int i = 0; i < n; i++)
            if (rspan[i] != pattern_byte(t->received + (uint64_t)i))
                t->mismatches++;
        t->received += (uint64_t)n;
        tern_tcp_consume(pcb, (size_t)n);
    }
    uint8_t *span;
    while (t->sent < t->bytes && (n = tern_tcp_write_span(pcb, &span)) > 0) {
        uint64_t left = t->bytes - t->sent;
        size_t k = left < (uint64_t)n ? (size_t)left : (size_t)n;
        for (size_t i = 0; i < k; i++)
            span[i] = pattern_byte(t->sent + i);
        tern_tcp_write_commit(pcb, k);
        t->sent += k;
        if (t->sent == t->bytes)
            tern_tcp_shutdown(pcb);
    }
    if (tern_tcp_at_eof(pcb)) {
        tern_tcp_close(pcb);
        t->client = NULL;
        client_finish(t);
    }
}

static void client_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    demo_tcp_t *t = arg;
    t->connected = 1;
    if (t->bytes == 0)
        tern_tcp_shutdown(pcb);
    client_pump(arg, pcb);
}

static void client_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    demo_tcp_t *t = arg;
    (void)pcb;
    t->error = err;
    t->client = NULL;
    client_finish(t);
}

static const tern_tcp_callbacks_t client_cbs = {.connected = client_connected,
                                                .readable = client_pump,
                                                .writable = client_pump,
                                                .peer_closed = client_pump,
                                                .error = client_error};


int demo_tcp_client_start(demo_tcp_t *t, const demo_tcp_opts_t *o, int wake_fd)
{
    t->wake_fd = wake_fd;
    if (!o->have_client)
        return 0;
    int err;
    t->bytes = o->client_bytes;
    t->sent = t->received = t->mismatches = 0;
    t->done = t->error = t->connected = 0;
    t->started_ms = t->stack->now;
    t->client = tern_tcp_connect(t->stack, o->client_addr, o->client_port, &client_cbs, t, &err);
    if (t->client == NULL) {
        fprintf(stderr, "tern-demo: TCP connect: %s\n", tern_strerror(err));
        return -1;
    }
    if (t->client_buf != 0u)
        (void)tern_tcp_set_bufsizes(t->client, t->client_buf > 65535u ? 65535u : t->client_buf, t->client_buf);
    t->client_active = 1;
    char ab[16];
    printf("tern-demo: TCP client to %s:%u sending %llu bytes\n", tern_posix_ip4_str(o->client_addr, ab),
           (unsigned)o->client_port, (unsigned long long)o->client_bytes);
    return 1;
}

int demo_tcp_client_poll(demo_tcp_t *t, struct tern_posix *px)
{
    if (!t->client_active)
        return -1;
    tern_posix_lock(px);
    int done = t->done;
    tern_posix_unlock(px);
    if (!done)
        return -1;
    t->client_active = 0;
    uint32_t ms = t->finished_ms - t->started_ms;
    printf("tcp client: sent %llu received %llu mismatches %llu error %s in %u ms (%.1f Mbit/s each way)\n",
           (unsigned long long)t->sent, (unsigned long long)t->received, (unsigned long long)t->mismatches,
           t->error ? tern_errname(t->error) : "none", ms, ms ? (double)t->sent * 8.0 / ms / 1000.0 : 0.0);
    fflush(stdout);
    return (t->error == 0 && t->mismatches == 0 && t->received == t->bytes && t->sent == t->bytes) ? 0 : 1;
}
