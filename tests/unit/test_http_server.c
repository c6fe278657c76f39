/* TERN_TEST_STATIC_VARIANT */
/* The HTTP server (on the sockets API) against a raw-API TCP client, tern
 * against tern on the virtual wire: files, /api/stats, keep-alive and
 * pipelining, 304, HEAD, malformed requests, the connection limit (503),
 * header, idle and send timeouts, stop, and memory back to zero. The
 * server is driven as from an MCU main loop: tern_http_server_poll() with
 * the wire's clock after every millisecond of virtual time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/http.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern/stats.h"
#include "tern_test.h"
#include "tern_vwire.h"
#include "wire2.h"

#define IP_A W2_IP_A /* the server */
#define IP_B W2_IP_B /* the client */

typedef struct client {
    tern_tcp_pcb_t *pcb;
    const char *request; /* sent once connected */
    size_t request_len;
    char rx[65536];
    size_t rx_len;
    int connected, peer_closed, error;
} client_t;

typedef struct world {
    tern_test_port_t pa, pb;
    wire2_t n;
    tern_http_server_t srv;
    tern_stats_section_t http_section;
} world_t;

static void cl_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    client_t *c = arg;
    int n;
    while ((n = tern_tcp_read(pcb, c->rx + c->rx_len, sizeof c->rx - 1 - c->rx_len)) > 0)
        c->rx_len += (size_t)n;
    c->rx[c->rx_len] = '\0';
}

static void cl_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    client_t *c = arg;
    c->connected = 1;
    if (c->request_len > 0)
        assert_int_equal(tern_tcp_write(pcb, c->request, c->request_len), (int)c->request_len);
}

static void cl_peer_closed(void *arg, tern_tcp_pcb_t *pcb)
{
    client_t *c = arg;
    cl_readable(arg, pcb);
    c->peer_closed = 1;
}

static void cl_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    (void)pcb;
    client_t *c = arg;
    c->error = err;
    c->pcb = NULL;
}

static const tern_tcp_callbacks_t client_cbs = {
    .connected = cl_connected,
    .readable = cl_readable,
    .peer_closed = cl_peer_closed,
    .error = cl_error,
};

static void run(world_t *w, uint32_t ms)
{
    uint32_t end = tern_vwire_now(&w->n.wire) + ms;
    while ((int32_t)(end - tern_vwire_now(&w->n.wire)) > 0) {
        uint32_t t = tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 1u);
        if (w->srv.stack != NULL)
            (void)tern_http_server_poll(&w->srv, t);
    }
}

static world_t *world_new(void)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    tern_test_port_init(&w->pa, 11);
    tern_test_port_init(&w->pb, 12);
    w->pa.quiet = w->pb.quiet = 1;
    wire2_init(&w->n, 5, NULL, &w->pa.port, &w->pb.port);
    tern_tcp_set_timewait(w->n.a, 1000);
    tern_tcp_set_timewait(w->n.b, 1000);
    w->http_section.name = "http";
    w->http_section.fn = tern_http_server_stats_json;
    w->http_section.arg = &w->srv;
    assert_int_equal(tern_http_server_start(&w->srv, w->n.a, 80, NULL, &w->http_section), TERN_OK);
    return w;
}

/* The server's ledger category, registered by tern_http_server_start. */
static const tern_ledger_category_stats_t *http_mem(world_t *w)
{
    int cat = tern_ledger_find_category(&w->n.a->ledger, "HTTP");
    assert_true(cat >= TERN_MEM_APP_FIRST);
    return tern_ledger_category(&w->n.a->ledger, (tern_mem_category_t)cat);
}

static void world_free(world_t *w)
{
    tern_http_server_stop(&w->srv);
    run(w, 2000);
    const tern_ledger_category_stats_t *h = http_mem(w);
    assert_int_equal(h->bytes, 0);
    assert_int_equal(h->blocks, 0);
    wire2_deinit(&w->n);
    free(w);
}

static client_t *client_open(world_t *w, const char *request)
{
    client_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->request = request;
    c->request_len = request ? strlen(request) : 0;
    int err = 0;
    c->pcb = tern_tcp_connect(w->n.b, IP_A, 80, &client_cbs, c, &err);
    assert_non_null(c->pcb);
    return c;
}

static void client_close(world_t *w, client_t *c)
{
    if (c->pcb != NULL)
        tern_tcp_close(c->pcb);
    run(w, 50);
    free(c);
}

/* One response at *off in the client's stream: status, headers, body. */
typedef struct resp {
    int status;
    const char *head;
    size_t head_len;
    const char *body;
    size_t body_len;
} resp_t;

static int next_response(const client_t *c, size_t *off, int head_only, resp_t *r)
{
    const char *s = c->rx + *off;
    const char *end = strstr(s, "\r\n\r\n");
    if (end == NULL)
        return -1;
    memset(r, 0, sizeof *r);
    if (sscanf(s, "HTTP/1.1 %d ", &r->status) != 1)
        return -1;
    r->head = s;
    r->head_len = (size_t)(end + 4 - s);
    size_t clen = 0;
    const char *cl = strstr(s, "Content-Length: ");
    if (cl != NULL && cl < end)
        clen = strtoul(cl + 16, NULL, 10);
    if (head_only || r->status == 304)
        clen = 0;
    r->body = end + 4;
    r->body_len = clen;
    if (*off + r->head_len + clen > c->rx_len)
        return -1;
    *off += r->head_len + clen;
    return 0;
}

/* The next response, asserted complete and with this status. */
static void expect_response(const client_t *c, size_t *off, int head_only, resp_t *r, int status)
{
    assert_int_equal(next_response(c, off, head_only, r), 0);
    assert_int_equal(r->status, status);
}

static int has_header(const resp_t *r, const char *line)
{
    const char *p = strstr(r->head, line);
    return p != NULL && p < r->head + r->head_len;
}

static void test_get_index_and_close(void **state)
{
    (void)state;
    world_t *w = world_new();
    client_t *c = client_open(w, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    run(w, 500);
    assert_true(c->peer_closed); /* the server closed after the response */
    size_t off = 0;
    resp_t r;
    expect_response(c, &off, 0, &r, 200);
    const tern_http_file_t *f = tern_http_fs_find(&tern_http_fs_image, "/index.html");
    assert_int_equal(r.body_len, f->size);
    assert_memory_equal(r.body, f->data, f->size);
    assert_true(has_header(&r, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_true(has_header(&r, "Connection: close\r\n"));
    assert_int_equal(off, c->rx_len); /* nothing after the response */
    assert_int_equal(w->srv.open, 0);
    assert_int_equal(w->srv.stats.responses_2xx, 1);
    client_close(w, c);
    world_free(w);
}

static void test_keepalive_pipelined(void **state)
{
    (void)state;
    world_t *w = world_new();
    const tern_http_file_t *css = tern_http_fs_find(&tern_http_fs_image, "/style.css");
    const tern_http_file_t *js = tern_http_fs_find(&tern_http_fs_image, "/app.js");
    static char req[1024];
    snprintf(req, sizeof req,
             "GET /style.css HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
             "HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n"
             "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /api/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             js->etag);
    client_t *c = client_open(w, req);
    run(w, 2000);
    assert_true(c->peer_closed);
    size_t off = 0;
    resp_t r;
    /* 1: the gzip variant of style.css. */
    expect_response(c, &off, 0, &r, 200);
    assert_true(has_header(&r, "Content-Encoding: gzip\r\n"));
    assert_int_equal(r.body_len, css->gzip_size);
    assert_memory_equal(r.body, css->gzip, css->gzip_size);
    assert_true(has_header(&r, "Connection: keep-alive\r\n"));
    /* 2: HEAD: the identity length, no body. */
    expect_response(c, &off, 1, &r, 200);
    char cl[64];
    snprintf(cl, sizeof cl, "Content-Length: %u\r\n", js->size);
    assert_true(has_header(&r, cl));
    /* 3: 304 for the matching ETag. */
    expect_response(c, &off, 0, &r, 304);
    /* 4: 404, the connection stays. */
    expect_response(c, &off, 0, &r, 404);
    /* 5: /api/stats, JSON with the server's own section, then close. */
    expect_response(c, &off, 0, &r, 200);
    assert_true(has_header(&r, "Content-Type: application/json\r\n"));
    assert_true(has_header(&r, "Cache-Control: no-store\r\n"));
    assert_true(has_header(&r, "Connection: close\r\n"));
    assert_true(r.body_len > 100);
    assert_memory_equal(r.body, "{\"schema\":2,", 12);
    assert_int_equal(r.body[r.body_len - 1], '}');
    char *body = strndup(r.body, r.body_len);
    assert_non_null(strstr(body, "\"http\":{\"port\":80,\"open\":1,"));
    assert_non_null(strstr(body, "\"name\":\"HTTP\",\"bytes\":")); /* the ledger row of the server itself */
    free(body);
    assert_int_equal(off, c->rx_len);
    assert_int_equal(w->srv.stats.requests, 5);
    assert_int_equal(w->srv.stats.accepted, 1);
    assert_int_equal(w->srv.stats.responses_304, 1);
    assert_int_equal(w->srv.stats.responses_4xx, 1);
    client_close(w, c);
    world_free(w);
}

/* The request in one-byte writes, spread over time: still one response. */
static void test_request_in_pieces(void **state)
{
    (void)state;
    world_t *w = world_new();
    client_t *c = client_open(w, NULL);
    run(w, 100);
    assert_true(c->connected);
    const char *req = "GET /app.js HTTP/1.0\r\n\r\n";
    for (size_t i = 0; req[i]; i++) {
        assert_int_equal(tern_tcp_write(c->pcb, req + i, 1), 1);
        run(w, 20);
    }
    run(w, 1000);
    size_t off = 0;
    resp_t r;
    expect_response(c, &off, 0, &r, 200);
    assert_true(has_header(&r, "Connection: close\r\n")); /* HTTP/1.0 default */
    assert_true(c->peer_closed);
    client_close(w, c);
    world_free(w);
}

static void test_malformed_closes(void **state)
{
    (void)state;
    world_t *w = world_new();
    client_t *c = client_open(w, "GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    run(w, 1000);
    size_t off = 0;
    resp_t r;
    expect_response(c, &off, 0, &r, 400);
    assert_true(has_header(&r, "Connection: close\r\n"));
    assert_int_equal(off, c->rx_len); /* the second request is not served */
    assert_true(c->peer_closed || c->error != 0);
    assert_int_equal(w->srv.stats.parse_errors, 1);
    client_t *p = client_open(w, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    run(w, 1000);
    off = 0;
    expect_response(p, &off, 0, &r, 405);
    assert_true(has_header(&r, "Allow: GET, HEAD\r\n"));
    client_close(w, c);
    client_close(w, p);
    world_free(w);
}

/* TERN_HTTP_MAX_CONNS silent connections: one more gets 503 at once; the
 * silent ones are closed by the header timeout. */
/* At the limit with every connection served (kept alive by real clients),
 * one more gets a 503; the idle timeout closes them. */
static void test_limit_and_timeouts(void **state)
{
    (void)state;
    world_t *w = world_new();
    client_t *c[TERN_HTTP_MAX_CONNS + 1];
    for (unsigned i = 0; i < TERN_HTTP_MAX_CONNS; i++)
        c[i] = client_open(w, "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    run(w, 3000); /* SYNs beyond the ARP queue (TERN_ARP_QUEUE_LEN) come back by retransmission */
    assert_int_equal(w->srv.open, TERN_HTTP_MAX_CONNS);
    const tern_ledger_category_stats_t *h = http_mem(w);
    assert_int_equal(h->blocks, TERN_HTTP_MAX_CONNS); /* one structure per connection */
    resp_t r;
    for (unsigned i = 0; i < TERN_HTTP_MAX_CONNS; i++) {
        size_t o = 0;
        expect_response(c[i], &o, 0, &r, 200);
    }
    client_t *extra = client_open(w, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    run(w, 500);
    size_t off = 0;
    expect_response(extra, &off, 0, &r, 503);
    assert_true(extra->peer_closed || extra->error != 0);
    assert_int_equal(w->srv.stats.refused_busy, 1);
    assert_int_equal(w->srv.stats.evicted, 0);
    assert_int_equal(w->srv.open, TERN_HTTP_MAX_CONNS);
    /* Not yet timed out... */
    run(w, TERN_HTTP_IDLE_TIMEOUT_MS / 2);
    assert_int_equal(w->srv.open, TERN_HTTP_MAX_CONNS);
    /* ...then closed. */
    run(w, TERN_HTTP_IDLE_TIMEOUT_MS);
    assert_int_equal(w->srv.open, 0);
    assert_int_equal(w->srv.stats.timeouts, TERN_HTTP_MAX_CONNS);
    for (unsigned i = 0; i < TERN_HTTP_MAX_CONNS; i++) {
        assert_true(c[i]->peer_closed || c[i]->error != 0);
        client_close(w, c[i]);
    }
    assert_int_equal(h->bytes, 0);
    client_close(w, extra);
    world_free(w);
}

/* A flood of connections that never complete a request (silent, or a
 * request trickling in, slowloris) holds every slot: a real client is
 * still served at once, each time evicting the oldest of them, and a
 * served client is never evicted. */
static void test_flood_of_unfinished_requests(void **state)
{
    (void)state;
    world_t *w = world_new();
    client_t *flood[TERN_HTTP_MAX_CONNS + 8];
    unsigned nflood = 0;
    for (unsigned i = 0; i < TERN_HTTP_MAX_CONNS; i++)
        flood[nflood++] = client_open(w, i % 2u ? "GET / HTTP/1.1\r\nHost:" : NULL);
    run(w, 3000);
    assert_int_equal(w->srv.open, TERN_HTTP_MAX_CONNS);
    client_t *kept = NULL;
    for (unsigned round = 0; round < 6u; round++) {
        client_t *real = client_open(w, "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
        run(w, 500);
        size_t off = 0;
        resp_t r;
        expect_response(real, &off, 0, &r, 200);
        assert_true(w->srv.stats.evicted >= round + 1u); /* the flood evicts its own too */
        assert_int_equal(w->srv.stats.refused_busy, 0);
        assert_true(w->srv.open <= TERN_HTTP_MAX_CONNS);
        if (round == 0u) {
            kept = real; /* stays open, kept alive: never a victim */
        } else {
            client_close(w, real);
            run(w, 200);
        }
        /* The flood opens another. */
        flood[nflood++] = client_open(w, round % 2u ? "GET / HTTP/1.1\r\nHost:" : NULL);
        run(w, 300);
    }
    assert_false(kept->peer_closed || kept->error != 0);
    /* The oldest flood connections were the ones reset. */
    assert_true(flood[0]->error != 0 || flood[0]->peer_closed);
    for (unsigned i = 0; i < nflood; i++)
        client_close(w, flood[i]);
    client_close(w, kept);
    run(w, TERN_HTTP_IDLE_TIMEOUT_MS + 1000);
    assert_int_equal(w->srv.open, 0);
    assert_int_equal(http_mem(w)->bytes, 0);
    world_free(w);
}

/* A keep-alive connection left idle is closed by the idle timeout. */
static void test_idle_timeout(void **state)
{
    (void)state;
    world_t *w = world_new();
    client_t *c = client_open(w, "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    run(w, 500);
    size_t off = 0;
    resp_t r;
    expect_response(c, &off, 0, &r, 200);
    assert_int_equal(w->srv.open, 1);
    assert_false(c->peer_closed);
    run(w, TERN_HTTP_IDLE_TIMEOUT_MS + 1000);
    assert_int_equal(w->srv.open, 0);
    assert_true(c->peer_closed);
    assert_int_equal(w->srv.stats.timeouts, 1);
    client_close(w, c);
    world_free(w);
}

/* Part of a request, then silence (slowloris): 408 and close once the
 * header timeout (shortened at run time) expires; a connection opened and
 * never used is closed without a response. */
static void test_partial_request_408(void **state)
{
    (void)state;
    world_t *w = world_new();
    tern_http_server_set_timeouts(&w->srv, 700, 0);
    assert_int_equal(w->srv.header_timeout_ms, 700);
    assert_int_equal(w->srv.idle_timeout_ms, TERN_HTTP_IDLE_TIMEOUT_MS); /* 0 keeps it */
    client_t *c = client_open(w, "GET / HTTP/1.1\r\nHost: x\r\n"); /* no empty line */
    client_t *u = client_open(w, NULL);
    run(w, 400);
    assert_int_equal(w->srv.open, 2);
    assert_int_equal(c->rx_len, 0);
    run(w, 1000);
    size_t off = 0;
    resp_t r;
    expect_response(c, &off, 0, &r, 408);
    assert_true(has_header(&r, "Connection: close\r\n"));
    assert_int_equal(off, c->rx_len);
    assert_true(c->peer_closed);
    assert_int_equal(u->rx_len, 0); /* unused: closed without a word */
    assert_true(u->peer_closed);
    assert_int_equal(w->srv.open, 0);
    assert_int_equal(w->srv.stats.timeouts, 2);
    assert_int_equal(w->srv.stats.responses_4xx, 1);
    assert_int_equal(http_mem(w)->bytes, 0);
    client_close(w, c);
    client_close(w, u);
    world_free(w);
}

/* A client that asks for a large file and never reads: the server's sends
 * stop at the zero window; after the idle timeout without progress the
 * connection is reset and its memory returned. */
static void stall_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    client_t *c = arg;
    c->connected = 1;
    assert_int_equal(tern_tcp_write(pcb, c->request, c->request_len), (int)c->request_len);
}

static const tern_tcp_callbacks_t stall_cbs = {
    .connected = stall_connected,
    .error = cl_error,
};

static void test_stalled_reader_reset(void **state)
{
    (void)state;
    world_t *w = world_new();
    tern_http_server_set_timeouts(&w->srv, 0, 2000);
    const tern_http_file_t *js = tern_http_fs_find(&tern_http_fs_image, "/app.js");
    assert_true(js->size > 2u * TERN_TCP_RCVBUF + 1024u); /* cannot fit the client's ring and the server's */
    client_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->request = "GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n";
    c->request_len = strlen(c->request);
    int err = 0;
    c->pcb = tern_tcp_connect(w->n.b, IP_A, 80, &stall_cbs, c, &err);
    assert_non_null(c->pcb);
    run(w, 1000);
    assert_int_equal(w->srv.open, 1); /* stuck sending, not yet timed out */
    assert_true(w->srv.stats.bytes_sent < js->size);
    run(w, 5000);
    assert_int_equal(w->srv.open, 0);
    assert_int_equal(w->srv.stats.timeouts, 1);
    assert_int_equal(http_mem(w)->bytes, 0);
    run(w, 200);
    assert_int_not_equal(c->error, 0); /* the reset reached the client */
    client_close(w, c);
    world_free(w);
}

/* Stop with connections open (one mid-request): everything is freed. */
static void test_stop_with_open_connections(void **state)
{
    (void)state;
    world_t *w = world_new();
    client_t *a = client_open(w, "GET / HTTP/1.1\r\nHost: x\r\n");
    client_t *b = client_open(w, NULL);
    run(w, 200);
    assert_int_equal(w->srv.open, 2);
    assert_true(http_mem(w)->bytes > 0);
    tern_http_server_stop(&w->srv);
    assert_int_equal(http_mem(w)->bytes, 0);
    run(w, 200);
    assert_true(a->error != 0 || a->peer_closed); /* reset */
    client_close(w, a);
    client_close(w, b);
    world_free(w); /* stops again: idempotent */
}

/* Every allocation of a full exchange (the server's socket and its rings,
 * the connection state, the /api/stats document, and the client's side)
 * fails in turn, until an exchange runs with no allocation left to fail:
 * no leak, no crash, the server recovers. */
static uint32_t ledger_failures(const tern_ledger_t *l)
{
    uint32_t n = 0;
    for (int c = 0; c < TERN_MEM_CATEGORY_COUNT; c++)
        n += tern_ledger_category(l, (tern_mem_category_t)c)->failures;
    return n;
}

static void test_allocation_failures(void **state)
{
    (void)state;
    uint32_t nth;
    for (nth = 1; nth <= 64; nth++) {
        world_t *w = world_new();
        tern_ledger_fail_nth(&w->n.a->ledger, nth, 0);
        client_t *c = client_open(w, "GET /api/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        run(w, 2000);
        run(w, TERN_HTTP_HEADER_TIMEOUT_MS + 1000);
        assert_int_equal(w->srv.open, 0);
        int failed = ledger_failures(&w->n.a->ledger) != 0;
        client_close(w, c);
        tern_ledger_fail_nth(&w->n.a->ledger, 0, 0);
        /* A later client is served whatever failed before. */
        client_t *d = client_open(w, "GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        run(w, 1000);
        size_t off = 0;
        resp_t r;
        expect_response(d, &off, 0, &r, 200);
        client_close(w, d);
        world_free(w);
        if (!failed)
            break; /* the exchange needed fewer than nth allocations: all were failed once */
    }
    assert_true(nth > 4 && nth <= 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_index_and_close),
        cmocka_unit_test(test_keepalive_pipelined),
        cmocka_unit_test(test_request_in_pieces),
        cmocka_unit_test(test_malformed_closes),
        cmocka_unit_test(test_limit_and_timeouts),
        cmocka_unit_test(test_flood_of_unfinished_requests),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_partial_request_408),
        cmocka_unit_test(test_stalled_reader_reset),
        cmocka_unit_test(test_stop_with_open_connections),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
