/* The dashboard's HTTP server on the raw TCP API: accept, parse, answer
 * from the file image or /api/stats, keep-alive, timeouts, a connection
 * limit answered with 503. Runs inside the stack with the core lock held. */
#include <string.h>
#include "tern/http.h"
#include "tern/stack.h"
#include "tern/stats.h"
#include "tern/tcp.h"

#define HTTP_HEAD_BUF 320u
#define HTTP_STATS_PATH "/api/stats"

typedef struct http_conn {
    struct http_conn *next;
    tern_http_server_t *srv;
    tern_tcp_pcb_t *pcb;
    uint32_t deadline;      /* header or idle timeout (stack time) */
    uint8_t sending;        /* a response is being written */
    uint8_t close_after;    /* close once the response is out */
    uint8_t peer_done;      /* the peer sent FIN */
    uint8_t idle;           /* between requests: the idle timeout applies */
    uint16_t head_len, head_off;
    const uint8_t *body;
    size_t body_left;
    uint8_t *doc;           /* /api/stats document being sent (ledger HTTP) */
    tern_http_parser_t parser;
    char head[HTTP_HEAD_BUF];
} http_conn_t;

static void http_conn_run(http_conn_t *c);

/* ---- connection lifetime ----------------------------------------------------- */

static void http_conn_free(http_conn_t *c)
{
    tern_http_server_t *srv = c->srv;
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

/* Close gracefully: unread input is discarded first, since closing with
 * unread data turns into a reset (RFC 9293 3.10.4) that can destroy the
 * response before the client reads it. */
static void http_conn_close(http_conn_t *c)
{
    tern_tcp_pcb_t *pcb = c->pcb;
    size_t n = tern_tcp_recv_avail(pcb);
    if (n > 0)
        tern_tcp_consume(pcb, n);
    tern_tcp_set_callbacks(pcb, NULL, NULL);
    tern_tcp_close(pcb);
    http_conn_free(c);
}

static void http_conn_abort(http_conn_t *c)
{
    tern_tcp_set_callbacks(c->pcb, NULL, NULL);
    tern_tcp_abort(c->pcb);
    http_conn_free(c);
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

static int http_conn_respond(http_conn_t *c, const tern_http_response_t *r)
{
    size_t n = tern_http_format_head(r, c->head, sizeof c->head);
    if (n == 0)
        return -1; /* cannot happen with our headers; treated as an error */
    c->head_len = (uint16_t)n;
    c->head_off = 0;
    c->body = r->body;
    c->body_left = r->body_len;
    c->sending = 1;
    if (!r->keep_alive)
        c->close_after = 1;
    http_count_status(c->srv, r->status);
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

/* Render /api/stats into an exact-size buffer: a counting pass, then the
 * real one (a little slack: the allocation itself changes heap figures). */
static int http_render_stats(http_conn_t *c)
{
    tern_http_server_t *srv = c->srv;
    http_doc_t d = {NULL, 0, 0};
    tern_stats_json_ex(srv->stack, srv->stats_extra, http_doc_write, &d);
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t cap = d.len + 64u + (attempt ? d.len : 0u);
        uint8_t *buf = tern_mem_alloc(&srv->stack->ledger, cap, TERN_MEM_HTTP, TERN_OWNER_STACK);
        if (buf == NULL) {
            srv->stats.nomem++;
            return -1;
        }
        d.buf = buf;
        d.cap = cap;
        d.len = 0;
        tern_stats_json_ex(srv->stack, srv->stats_extra, http_doc_write, &d);
        if (d.len <= cap) {
            c->doc = buf;
            c->body = buf;
            c->body_left = d.len;
            return (int)d.len; /* a few KB: the document has a fixed shape */
        }
        tern_mem_free(&srv->stack->ledger, buf);
    }
    return -1;
}

static void http_conn_request(http_conn_t *c)
{
    const tern_http_request_t *req = &c->parser.req;
    int head = req->method == TERN_HTTP_HEAD;
    tern_http_response_t r;
    c->srv->stats.requests++;
    if (strcmp(req->path, HTTP_STATS_PATH) == 0) {
        int n = http_render_stats(c);
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
        tern_http_file_response(&r, c->srv->fs, req);
    }
    if (http_conn_respond(c, &r) != 0)
        c->close_after = 1;
}

/* Write what the send ring takes. Returns 1 when the response is all out. */
static int http_conn_send(http_conn_t *c)
{
    while (c->head_off < c->head_len) {
        int w = tern_tcp_write(c->pcb, c->head + c->head_off, (size_t)(c->head_len - c->head_off));
        if (w < 0)
            return -1;
        if (w == 0)
            return 0;
        c->head_off = (uint16_t)(c->head_off + (unsigned)w);
        c->srv->stats.bytes_sent += (uint32_t)w;
    }
    while (c->body_left > 0) {
        int w = tern_tcp_write(c->pcb, c->body, c->body_left);
        if (w < 0)
            return -1;
        if (w == 0)
            return 0;
        c->body += w;
        c->body_left -= (size_t)w;
        c->srv->stats.bytes_sent += (uint32_t)w;
    }
    return 1;
}

/* ---- the connection's state machine --------------------------------------- */

static void http_conn_run(http_conn_t *c)
{
    tern_http_server_t *srv = c->srv;
    for (;;) {
        if (c->sending) {
            int done = http_conn_send(c);
            if (done < 0) {
                http_conn_abort(c);
                return;
            }
            if (done == 0)
                return; /* the writable callback brings us back */
            c->sending = 0;
            tern_mem_free(&srv->stack->ledger, c->doc);
            c->doc = NULL;
            if (c->close_after || c->peer_done) {
                http_conn_close(c);
                return;
            }
            tern_http_parser_init(&c->parser);
            c->idle = 1;
            c->deadline = srv->stack->now + TERN_HTTP_IDLE_TIMEOUT_MS;
        }
        /* Parse what has arrived (a pipelined request may be waiting). */
        const uint8_t *span;
        int n = tern_tcp_peek(c->pcb, &span);
        if (n <= 0) {
            if (c->peer_done) {
                http_conn_close(c); /* FIN with no (complete) request pending */
                return;
            }
            return;
        }
        if (c->idle) {
            c->idle = 0; /* a request has started: the header timeout applies */
            c->deadline = srv->stack->now + TERN_HTTP_HEADER_TIMEOUT_MS;
        }
        size_t used = 0;
        int rc = tern_http_parse(&c->parser, span, (size_t)n, &used);
        tern_tcp_consume(c->pcb, used);
        if (rc == TERN_HTTP_MORE)
            continue; /* the ring may hold more past the span's wrap */
        if (rc == TERN_HTTP_DONE) {
            http_conn_request(c);
            continue;
        }
        /* A malformed request: answer and close (docs/http.md). */
        srv->stats.parse_errors++;
        tern_http_response_t r;
        tern_http_error_response(&r, rc, 0, 0);
        http_conn_respond(c, &r);
        c->close_after = 1;
    }
}

/* ---- TCP callbacks ---------------------------------------------------------- */

static void http_cb_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    http_conn_run(arg);
}

static void http_cb_writable(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    http_conn_t *c = arg;
    if (c->sending)
        http_conn_run(c);
}

static void http_cb_peer_closed(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    http_conn_t *c = arg;
    c->peer_done = 1;
    if (!c->sending)
        http_conn_run(c);
}

static void http_cb_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    (void)pcb;
    (void)err;
    http_conn_free(arg); /* the handle is gone with this callback */
}

static const tern_tcp_callbacks_t http_conn_cbs = {
    .readable = http_cb_readable,
    .writable = http_cb_writable,
    .peer_closed = http_cb_peer_closed,
    .error = http_cb_error,
};

/* Over the limit (or out of memory): a 503 written straight into the send
 * ring, then a graceful close. No state is kept for the connection. */
static void http_refuse(tern_http_server_t *srv, tern_tcp_pcb_t *pcb)
{
    tern_http_response_t r;
    char head[HTTP_HEAD_BUF];
    tern_http_error_response(&r, 503, 0, 0);
    size_t n = tern_http_format_head(&r, head, sizeof head);
    if (n > 0 && tern_tcp_write(pcb, head, n) == (int)n && tern_tcp_write(pcb, r.body, r.body_len) == (int)r.body_len)
        srv->stats.bytes_sent += (uint32_t)(n + r.body_len);
    http_count_status(srv, 503);
    size_t avail = tern_tcp_recv_avail(pcb);
    if (avail > 0)
        tern_tcp_consume(pcb, avail);
    tern_tcp_set_callbacks(pcb, NULL, NULL);
    tern_tcp_close(pcb);
}

static int http_cb_accept(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb)
{
    (void)listener;
    tern_http_server_t *srv = arg;
    http_conn_t *c = NULL;
    if (srv->open < TERN_HTTP_MAX_CONNS) {
        c = tern_mem_zalloc(&srv->stack->ledger, sizeof *c, TERN_MEM_HTTP, TERN_OWNER_STACK);
        if (c == NULL)
            srv->stats.nomem++;
    } else {
        srv->stats.refused_busy++;
    }
    if (c == NULL) {
        http_refuse(srv, pcb);
        return TERN_OK; /* taken: and closed by us */
    }
    srv->stats.accepted++;
    c->srv = srv;
    c->pcb = pcb;
    c->next = srv->conns;
    srv->conns = c;
    srv->open++;
    tern_http_parser_init(&c->parser);
    c->deadline = srv->stack->now + TERN_HTTP_HEADER_TIMEOUT_MS;
    tern_tcp_set_options(pcb, TERN_TCP_OPT_NODELAY); /* responses are whole: no Nagle wait */
    tern_tcp_set_callbacks(pcb, &http_conn_cbs, c);
    if (tern_tcp_recv_avail(pcb) > 0)
        http_conn_run(c); /* the request came with the handshake */
    return TERN_OK;
}

static const tern_tcp_callbacks_t http_listen_cbs = {
    .accept = http_cb_accept,
};

/* ---- timers ------------------------------------------------------------------ */

static uint32_t http_service_poll(tern_stack_t *stack, void *ctx, uint32_t now)
{
    (void)stack;
    tern_http_server_t *srv = ctx;
    uint32_t next = UINT32_MAX;
    http_conn_t *c = srv->conns;
    while (c != NULL) {
        http_conn_t *following = c->next;
        int32_t left = (int32_t)(c->deadline - now);
        if (!c->sending && left <= 0) {
            srv->stats.timeouts++;
            http_conn_close(c);
        } else if (!c->sending && (uint32_t)left < next) {
            next = (uint32_t)left;
        }
        c = following;
    }
    return next;
}

/* ---- start / stop / stats ------------------------------------------------------ */

int tern_http_server_start(tern_http_server_t *srv, tern_stack_t *stack, uint16_t port, const tern_http_fs_t *fs,
                           const struct tern_stats_section *stats_extra)
{
    memset(srv, 0, sizeof *srv);
    srv->stack = stack;
    srv->fs = fs ? fs : &tern_http_fs_image;
    srv->stats_extra = stats_extra;
    srv->port = port ? port : 80u;
    int err = TERN_OK;
    srv->listener = tern_tcp_listen(stack, srv->port, TERN_HTTP_MAX_CONNS, &http_listen_cbs, srv, &err);
    if (srv->listener == NULL)
        return err != TERN_OK ? err : TERN_ERR_NOMEM;
    srv->service.poll = http_service_poll;
    srv->service.ctx = srv;
    tern_stack_add_service(stack, &srv->service);
    return TERN_OK;
}

void tern_http_server_stop(tern_http_server_t *srv)
{
    if (srv->stack == NULL)
        return;
    tern_stack_remove_service(srv->stack, &srv->service);
    if (srv->listener != NULL) {
        tern_tcp_close(srv->listener);
        srv->listener = NULL;
    }
    while (srv->conns != NULL)
        http_conn_abort(srv->conns);
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
    tern_stats_write_uint(write, ctx, "accepted", s->accepted, 0);
    tern_stats_write_uint(write, ctx, "refused_busy", s->refused_busy, 0);
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
