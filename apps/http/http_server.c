/* The dashboard's HTTP server, an application on the sockets API: accept,
 * parse, answer from the file image or /api/stats, keep-alive, timeouts, a
 * connection limit answered with 503.
 *
 * Everything is non-blocking: tern_http_server_poll() checks the server's
 * sockets once (tern_socket_poll with timeout 0) and does what they allow,
 * so an MCU main loop calls it every turn and a thread (ports/posix:
 * demo_http.c) calls it after tern_http_server_wait(). It makes socket
 * calls, so it must never run inside a raw-API callback or a service poll
 * (docs/sockets.md): the core lock is taken by each socket call, and here
 * only around the /api/stats rendering. */
#include <string.h>
#include "tern/http.h"
#include "tern/plan.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern/stats.h"

#define HTTP_HEAD_BUF 320u
#define HTTP_STATS_PATH "/api/stats"

typedef struct http_conn {
    struct http_conn *next;
    int sock;
    uint32_t deadline;      /* header, idle or send timeout (caller's clock) */
    uint8_t sending;        /* a response is being written */
    uint8_t close_after;    /* close once the response is out */
    uint8_t idle;           /* between requests: the idle timeout applies */
    uint8_t started;        /* bytes of the current request have arrived */
    uint8_t served;         /* a response was started: the client is real */
    uint16_t head_len, head_off;
    const uint8_t *body;
    size_t body_left;
    uint8_t *doc;           /* /api/stats document being sent (ledger HTTP) */
    tern_http_parser_t parser;
    char head[HTTP_HEAD_BUF];
} http_conn_t;

/* The sizes of the server's allocations, for the planner (tern/plan.h). */
TERN_PLAN_SIZE(http_conn, sizeof(http_conn_t));
TERN_PLAN_SIZE(http_max_conns, TERN_HTTP_MAX_CONNS);
TERN_PLAN_SIZE(http_rcvbuf, TERN_HTTP_RCVBUF);
/* Static-only build: each connection's state, the /api/stats document
 * (config.h: TERN_STATIC_HTTP_DOC_BYTES), and receive rings when the
 * server's are larger than the default ones. */
TERN_STATIC_POOL_APP(http_conn, "HTTP", sizeof(http_conn_t), TERN_HTTP_MAX_CONNS);
TERN_STATIC_POOL_APP(http_doc, "HTTP", TERN_STATIC_HTTP_DOC_BYTES, TERN_STATIC_HTTP_DOCS);
#if TERN_HTTP_RCVBUF > TERN_TCP_RCVBUF
TERN_STATIC_POOL(http_rx_ring, TERN_MEM_TCP_STREAM_RX, TERN_HTTP_RCVBUF, TERN_HTTP_MAX_CONNS);
#endif

/* ---- connection lifetime ----------------------------------------------------- */

static void http_conn_free(tern_http_server_t *srv, http_conn_t *c)
{
    for (http_conn_t **p = &srv->conns; *p != NULL; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    srv->open--;
    tern_mem_free(&srv->stack->ledger, c->doc);
    tern_mem_free(&srv->stack->ledger, c);
}

/* Unread input is discarded before a graceful close: closing with unread
 * data is a reset (RFC 2525 2.17) that can destroy the response before the
 * client reads it. */
static void http_sock_close(tern_stack_t *stack, int sock)
{
    const uint8_t *span;
    int n;
    while ((n = tern_recv_span(stack, sock, &span, TERN_MSG_DONTWAIT)) > 0)
        (void)tern_recv_consume(stack, sock, (size_t)n);
    (void)tern_close(stack, sock);
}

static void http_conn_close(tern_http_server_t *srv, http_conn_t *c)
{
    http_sock_close(srv->stack, c->sock);
    http_conn_free(srv, c);
}

/* Reset at once (TERN_SO_LINGER 0): the peer stopped reading, or the
 * server stops. */
static void http_conn_abort(tern_http_server_t *srv, http_conn_t *c)
{
    (void)tern_setsockopt(srv->stack, c->sock, TERN_SO_LINGER, 0);
    (void)tern_close(srv->stack, c->sock);
    http_conn_free(srv, c);
}

/* ---- responses ------------------------------------------------------------- */

static void http_count_status(tern_http_server_t *srv, int status)
{
    if (status == 304)
        srv->stats.responses_304++;
    else if (status < 300)
        srv->stats.responses_2xx++;
    else if (status < 500)
        srv->stats.responses_4xx++;
    else
        srv->stats.responses_5xx++;
}

static int http_conn_respond(tern_http_server_t *srv, http_conn_t *c, const tern_http_response_t *r, uint32_t now)
{
    size_t n = tern_http_format_head(r, c->head, sizeof c->head);
    if (n == 0)
        return -1; /* cannot happen with our headers; treated as an error */
    c->served = 1;
    c->head_len = (uint16_t)n;
    c->head_off = 0;
    c->body = r->body;
    c->body_left = r->body_len;
    c->sending = 1;
    /* While sending, the deadline bounds a peer that stops reading. */
    c->deadline = now + srv->idle_timeout_ms;
    if (!r->keep_alive)
        c->close_after = 1;
    http_count_status(srv, r->status);
    return 0;
}

/* Byte counter and bounded copy for rendering the JSON document. */
typedef struct http_doc {
    uint8_t *buf;
    size_t cap, len;
} http_doc_t;

static void http_doc_write(void *ctx, const char *text, unsigned len)
{
    http_doc_t *d = ctx;
    if (d->buf != NULL && d->len <= d->cap && len <= d->cap - d->len)
        memcpy(d->buf + d->len, text, len);
    d->len += len;
}

static void http_core_lock(tern_stack_t *stack)
{
    if (stack->port != NULL && stack->port->lock != NULL)
        stack->port->lock(stack->port->ctx);
}

static void http_core_unlock(tern_stack_t *stack)
{
    if (stack->port != NULL && stack->port->unlock != NULL)
        stack->port->unlock(stack->port->ctx);
}

/* Render /api/stats into an exact-size buffer (HTTP, owner = the
 * connection's socket): a counting pass, then the real one, both under the
 * core lock (tern_stats_json reads the whole stack). A little slack: the
 * allocation itself changes the heap figures. */
static int http_render_stats(tern_http_server_t *srv, http_conn_t *c)
{
    tern_stack_t *stack = srv->stack;
    http_doc_t d = {NULL, 0, 0};
    int result = -1;
    http_core_lock(stack);
    tern_stats_json_ex(stack, srv->stats_extra, http_doc_write, &d);
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t cap = d.len + 64u + (attempt ? d.len : 0u);
        uint8_t *buf = tern_mem_alloc(&stack->ledger, cap, (tern_mem_category_t)srv->mem_cat, (unsigned)c->sock);
        if (buf == NULL) {
            srv->stats.nomem++;
            break;
        }
        d.buf = buf;
        d.cap = cap;
        d.len = 0;
        tern_stats_json_ex(stack, srv->stats_extra, http_doc_write, &d);
        if (d.len <= cap) {
            c->doc = buf;
            result = (int)d.len; /* a few KB: the document has a fixed shape */
            break;
        }
        tern_mem_free(&stack->ledger, buf);
    }
    http_core_unlock(stack);
    return result;
}

static void http_conn_request(tern_http_server_t *srv, http_conn_t *c, uint32_t now)
{
    const tern_http_request_t *req = &c->parser.req;
    int head = req->method == TERN_HTTP_HEAD;
    tern_http_response_t r;
    srv->stats.requests++;
    if (strcmp(req->path, HTTP_STATS_PATH) == 0) {
        int n = http_render_stats(srv, c);
        if (n < 0) {
            tern_http_error_response(&r, 503, 0, head);
        } else {
            memset(&r, 0, sizeof r);
            r.status = 200;
            r.content_type = "application/json";
            r.cache_control = "no-store";
            r.body = c->doc;
            r.content_length = (size_t)n;
            r.body_len = head ? 0u : (size_t)n;
            r.keep_alive = req->keep_alive;
        }
    } else {
        tern_http_file_response(&r, srv->fs, req);
    }
    if (http_conn_respond(srv, c, &r, now) != 0)
        c->close_after = 1;
}

/* Copy into the send ring what it takes now. 1 when the response is all
 * out, 0 when the ring is full, -1 when the connection is gone. */
static int http_send_some(tern_http_server_t *srv, http_conn_t *c, const void *data, size_t len, size_t *taken,
                          uint32_t now)
{
    int w = tern_send(srv->stack, c->sock, data, len, TERN_MSG_DONTWAIT);
    *taken = 0;
    if (w == TERN_ERR_WOULDBLOCK || w == 0)
        return 0;
    if (w < 0)
        return -1;
    *taken = (size_t)w;
    srv->stats.bytes_sent += (uint32_t)w;
    c->deadline = now + srv->idle_timeout_ms; /* progress */
    return 1;
}

static int http_conn_send(tern_http_server_t *srv, http_conn_t *c, uint32_t now)
{
    size_t w;
    while (c->head_off < c->head_len) {
        int r = http_send_some(srv, c, c->head + c->head_off, (size_t)(c->head_len - c->head_off), &w, now);
        if (r <= 0)
            return r;
        c->head_off = (uint16_t)(c->head_off + w);
    }
    while (c->body_left > 0) {
        int r = http_send_some(srv, c, c->body, c->body_left, &w, now);
        if (r <= 0)
            return r;
        c->body += w;
        c->body_left -= w;
    }
    return 1;
}

/* ---- the connection's state machine --------------------------------------- */

/* Do what the connection's socket allows now. Frees c when it closes. */
static void http_conn_run(tern_http_server_t *srv, http_conn_t *c, uint32_t now)
{
    tern_stack_t *stack = srv->stack;
    for (;;) {
        if (c->sending) {
            int done = http_conn_send(srv, c, now);
            if (done < 0) {
                http_conn_abort(srv, c);
                return;
            }
            if (done == 0)
                return; /* TERN_POLLOUT brings us back */
            c->sending = 0;
            tern_mem_free(&stack->ledger, c->doc);
            c->doc = NULL;
            if (c->close_after) {
                http_conn_close(srv, c);
                return;
            }
            tern_http_parser_init(&c->parser);
            c->started = 0;
            c->idle = 1;
            c->deadline = now + srv->idle_timeout_ms;
        }
        /* Parse straight from the receive ring (a pipelined request may be
         * waiting there already). */
        const uint8_t *span;
        int n = tern_recv_span(stack, c->sock, &span, TERN_MSG_DONTWAIT);
        if (n == TERN_ERR_WOULDBLOCK)
            return;
        if (n == 0) {
            http_conn_close(srv, c); /* the peer's FIN, no complete request pending */
            return;
        }
        if (n < 0) {
            http_conn_abort(srv, c); /* reset or another end of the connection */
            return;
        }
        if (c->idle) {
            c->idle = 0; /* a request has started: the header timeout applies */
            c->deadline = now + srv->header_timeout_ms;
        }
        c->started = 1;
        size_t used = 0;
        int rc = tern_http_parse(&c->parser, span, (size_t)n, &used);
        (void)tern_recv_consume(stack, c->sock, used);
        if (rc == TERN_HTTP_MORE)
            continue; /* the ring may hold more past the span's wrap */
        if (rc == TERN_HTTP_DONE) {
            http_conn_request(srv, c, now);
            continue;
        }
        /* A malformed request: answer and close (docs/http.md). */
        srv->stats.parse_errors++;
        tern_http_response_t r;
        tern_http_error_response(&r, rc, 0, 0);
        (void)http_conn_respond(srv, c, &r, now);
        c->close_after = 1;
    }
}

/* Over the limit (or out of memory): a 503 copied into the new socket's
 * send ring, then a graceful close. No state is kept for the connection. */
static void http_refuse(tern_http_server_t *srv, int sock)
{
    tern_http_response_t r;
    char head[HTTP_HEAD_BUF];
    tern_http_error_response(&r, 503, 0, 0);
    size_t n = tern_http_format_head(&r, head, sizeof head);
    if (n > 0 && tern_send(srv->stack, sock, head, n, TERN_MSG_DONTWAIT) == (int)n &&
        tern_send(srv->stack, sock, r.body, r.body_len, TERN_MSG_DONTWAIT) == (int)r.body_len)
        srv->stats.bytes_sent += (uint32_t)(n + r.body_len);
    http_count_status(srv, 503);
    http_sock_close(srv->stack, sock);
}

/* At the limit, the connection to give up for a new one: the oldest that
 * never completed a request (opened and silent, or a request trickling in,
 * slowloris), so such connections cannot hold the server for the header
 * timeout; connections being answered or kept alive by a real client stay.
 * NULL when every one has been served. */
static http_conn_t *http_evictable(const tern_http_server_t *srv)
{
    http_conn_t *victim = NULL;
    for (http_conn_t *c = srv->conns; c != NULL; c = c->next) /* newest first */
        if (!c->served && !c->sending)
            victim = c;
    return victim;
}

static void http_accept(tern_http_server_t *srv, uint32_t now)
{
    tern_stack_t *stack = srv->stack;
    for (;;) {
        int sock = tern_accept(stack, srv->listener, NULL);
        if (sock <= 0)
            return; /* TERN_ERR_WOULDBLOCK, or no id free: it waits in the backlog */
        (void)tern_setsockopt(stack, sock, TERN_SO_NONBLOCK, 1);
        http_conn_t *c = NULL;
        http_conn_t *victim = srv->open >= TERN_HTTP_MAX_CONNS ? http_evictable(srv) : NULL;
        if (victim != NULL) {
            srv->stats.evicted++;
            http_conn_abort(srv, victim);
        }
        if (srv->open < TERN_HTTP_MAX_CONNS) {
            c = tern_mem_zalloc(&stack->ledger, sizeof *c, (tern_mem_category_t)srv->mem_cat, (unsigned)sock);
            if (c == NULL)
                srv->stats.nomem++;
        } else {
            srv->stats.refused_busy++;
        }
        if (c == NULL) {
            http_refuse(srv, sock);
            continue;
        }
        srv->stats.accepted++;
        c->sock = sock;
        c->next = srv->conns;
        srv->conns = c;
        srv->open++;
        tern_http_parser_init(&c->parser);
        c->deadline = now + srv->header_timeout_ms;
        (void)tern_setsockopt(stack, sock, TERN_SO_TCP_NODELAY, 1); /* responses are whole: no Nagle wait */
        http_conn_run(srv, c, now); /* the request may have come with the handshake */
    }
}

/* A deadline passed (c is freed unless a 408 is still being sent). */
static void http_conn_timeout(tern_http_server_t *srv, http_conn_t *c, uint32_t now)
{
    srv->stats.timeouts++;
    if (c->sending) {
        /* No send progress for the idle timeout: the peer stopped reading
         * (a zero window held open). Reset: a graceful close would wait on
         * the same window. */
        http_conn_abort(srv, c);
    } else if (c->started) {
        /* Part of a request came, not all of it in time (slowloris): 408
         * and close (RFC 9110 15.5.9). */
        tern_http_response_t r;
        tern_http_error_response(&r, 408, 0, 0);
        if (http_conn_respond(srv, c, &r, now) != 0) {
            http_conn_close(srv, c);
            return;
        }
        c->close_after = 1;
        http_conn_run(srv, c, now); /* sends and closes, or waits for the window */
    } else {
        http_conn_close(srv, c); /* opened and unused, or idle between requests */
    }
}

/* ---- start / poll / wait / stop / stats ----------------------------------------- */

int tern_http_server_start(tern_http_server_t *srv, tern_stack_t *stack, uint16_t port, const tern_http_fs_t *fs,
                           const struct tern_stats_section *stats_extra)
{
    memset(srv, 0, sizeof *srv);
    srv->stack = stack;
    srv->fs = fs ? fs : &tern_http_fs_image;
    srv->stats_extra = stats_extra;
    srv->port = port ? port : 80u;
    srv->header_timeout_ms = TERN_HTTP_HEADER_TIMEOUT_MS;
    srv->idle_timeout_ms = TERN_HTTP_IDLE_TIMEOUT_MS;
    /* Connections and stats documents are charged to HTTP (docs/memory.md). */
    int cat = tern_ledger_register_category(&stack->ledger, "HTTP");
    if (cat < 0) {
        srv->stack = NULL;
        return cat;
    }
    srv->mem_cat = (uint8_t)cat;
    int sock = tern_socket(stack, TERN_SOCK_STREAM);
    if (sock < 0) {
        srv->stack = NULL;
        return sock;
    }
    tern_sockaddr_t local = {.addr = 0, .port = srv->port};
#if TERN_IPV6
    /* On ::, the dashboard answers over IPv6 and IPv4 (one dual-stack
     * listener, docs/network.md "IPv6"). */
    local.family = TERN_FAMILY_IP6;
    memset(&local.addr6, 0, sizeof local.addr6);
#endif
    int rc = tern_setsockopt(stack, sock, TERN_SO_NONBLOCK, 1);
    if (rc == TERN_OK) /* inherited by every connection */
        rc = tern_setsockopt(stack, sock, TERN_SO_RCVBUF, TERN_HTTP_RCVBUF);
    if (rc == TERN_OK)
        rc = tern_bind(stack, sock, &local);
    if (rc == TERN_OK)
        rc = tern_listen(stack, sock, (int)TERN_TCP_BACKLOG_MAX); /* a burst waits for the poll (docs/http.md) */
    if (rc != TERN_OK) {
        (void)tern_close(stack, sock);
        srv->stack = NULL;
        return rc;
    }
    srv->listener = sock;
    return TERN_OK;
}

void tern_http_server_set_timeouts(tern_http_server_t *srv, uint32_t header_ms, uint32_t idle_ms)
{
    if (header_ms != 0u)
        srv->header_timeout_ms = header_ms;
    if (idle_ms != 0u)
        srv->idle_timeout_ms = idle_ms;
}

/* The server's sockets for tern_socket_poll: the listener, then each
 * connection (waiting for send space while a response is out). */
static size_t http_pollset(const tern_http_server_t *srv, tern_pollfd_t *fds, http_conn_t **conns)
{
    size_t n = 0;
    fds[n++] = (tern_pollfd_t){srv->listener, TERN_POLLIN, 0};
    for (http_conn_t *c = srv->conns; c != NULL && n < 1u + TERN_HTTP_MAX_CONNS; c = c->next) {
        conns[n] = c;
        fds[n++] = (tern_pollfd_t){c->sock, (uint16_t)(c->sending ? TERN_POLLOUT : TERN_POLLIN), 0};
    }
    return n;
}

uint32_t tern_http_server_poll(tern_http_server_t *srv, uint32_t now)
{
    if (srv->stack == NULL)
        return UINT32_MAX;
    tern_pollfd_t fds[1u + TERN_HTTP_MAX_CONNS];
    http_conn_t *conns[1u + TERN_HTTP_MAX_CONNS];
    size_t n = http_pollset(srv, fds, conns);
    if (tern_socket_poll(srv->stack, fds, n, 0) > 0) {
        /* Connections first: a new one must not see the old ones' events. */
        for (size_t i = 1; i < n; i++)
            if (fds[i].revents != 0)
                http_conn_run(srv, conns[i], now);
        if (fds[0].revents & TERN_POLLIN)
            http_accept(srv, now);
    }
    uint32_t next = UINT32_MAX;
    http_conn_t *c = srv->conns;
    while (c != NULL) {
        http_conn_t *following = c->next;
        int32_t left = (int32_t)(c->deadline - now);
        if (left <= 0) {
            http_conn_timeout(srv, c, now);
            left = (int32_t)srv->idle_timeout_ms; /* a 408 still sending: its send deadline */
        }
        if ((uint32_t)left < next)
            next = (uint32_t)left;
        c = following;
    }
    return next;
}

#if TERN_OS
int tern_http_server_wait(tern_http_server_t *srv, uint32_t timeout_ms)
{
    if (srv->stack == NULL)
        return TERN_ERR_STATE;
    tern_pollfd_t fds[1u + TERN_HTTP_MAX_CONNS];
    http_conn_t *conns[1u + TERN_HTTP_MAX_CONNS];
    size_t n = http_pollset(srv, fds, conns);
    return tern_socket_poll(srv->stack, fds, n, timeout_ms);
}
#endif

void tern_http_server_stop(tern_http_server_t *srv)
{
    if (srv->stack == NULL)
        return;
    while (srv->conns != NULL)
        http_conn_abort(srv, srv->conns);
    (void)tern_close(srv->stack, srv->listener);
    srv->listener = 0;
    srv->stack = NULL;
}

void tern_http_server_stats_json(const tern_stack_t *stack, void *arg, tern_writer_fn write, void *ctx)
{
    (void)stack;
    const tern_http_server_t *srv = arg;
    const tern_http_server_stats_t *s = &srv->stats;
    write(ctx, "{", 1);
    tern_stats_write_uint(write, ctx, "port", srv->port, 1);
    tern_stats_write_uint(write, ctx, "open", srv->open, 0);
    tern_stats_write_uint(write, ctx, "max_conns", TERN_HTTP_MAX_CONNS, 0);
    tern_stats_write_uint(write, ctx, "conn_bytes", sizeof(http_conn_t), 0);
    tern_stats_write_uint(write, ctx, "listener", (uint32_t)srv->listener, 0);
    tern_stats_write_uint(write, ctx, "header_timeout_ms", srv->header_timeout_ms, 0);
    tern_stats_write_uint(write, ctx, "idle_timeout_ms", srv->idle_timeout_ms, 0);
    tern_stats_write_uint(write, ctx, "accepted", s->accepted, 0);
    tern_stats_write_uint(write, ctx, "refused_busy", s->refused_busy, 0);
    tern_stats_write_uint(write, ctx, "evicted", s->evicted, 0);
    tern_stats_write_uint(write, ctx, "requests", s->requests, 0);
    tern_stats_write_uint(write, ctx, "responses_2xx", s->responses_2xx, 0);
    tern_stats_write_uint(write, ctx, "responses_304", s->responses_304, 0);
    tern_stats_write_uint(write, ctx, "responses_4xx", s->responses_4xx, 0);
    tern_stats_write_uint(write, ctx, "responses_5xx", s->responses_5xx, 0);
    tern_stats_write_uint(write, ctx, "parse_errors", s->parse_errors, 0);
    tern_stats_write_uint(write, ctx, "timeouts", s->timeouts, 0);
    tern_stats_write_uint(write, ctx, "nomem", s->nomem, 0);
    tern_stats_write_uint(write, ctx, "bytes_sent", s->bytes_sent, 0);
    write(ctx, "}", 1);
}
