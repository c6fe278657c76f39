/* The HTTP request parser: every limit, every malformed case, and the same
 * result whatever the chunking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/http.h"
#include "tern_test.h"

/* Parse text in chunks of chunk bytes (0: all at once). The same parser
 * state must come out of every chunking, so each case runs whole, byte by
 * byte and in 7-byte pieces and the results are compared. */
static int parse_chunked(tern_http_parser_t *p, const char *text, size_t len, size_t chunk, size_t *used)
{
    tern_http_parser_init(p);
    size_t off = 0;
    int rc = TERN_HTTP_MORE;
    if (chunk == 0)
        chunk = len ? len : 1;
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        /* Each piece in its own exact-size heap block: ASan sees any read past it. */
        uint8_t *piece = malloc(n);
        assert_non_null(piece);
        memcpy(piece, text + off, n);
        size_t c = 0;
        rc = tern_http_parse(p, piece, n, &c);
        free(piece);
        assert_true(c <= n);
        off += c;
        if (rc != TERN_HTTP_MORE)
            break;
        assert_int_equal(c, n); /* MORE means every byte was taken */
    }
    *used = off;
    return rc;
}

static tern_http_parser_t parser; /* big: not on the stack */

static int parse_len(const char *text, size_t len, size_t *used)
{
    static tern_http_parser_t a, b;
    size_t ua, ub, u;
    int r = parse_chunked(&parser, text, len, 0, &u);
    int ra = parse_chunked(&a, text, len, 1, &ua);
    int rb = parse_chunked(&b, text, len, 7, &ub);
    assert_int_equal(r, ra);
    assert_int_equal(r, rb);
    assert_int_equal(u, ua);
    assert_int_equal(u, ub);
    if (r == TERN_HTTP_DONE) {
        assert_memory_equal(&parser.req, &a.req, sizeof parser.req);
        assert_memory_equal(&parser.req, &b.req, sizeof parser.req);
    }
    if (used)
        *used = u;
    return r;
}

static int parse(const char *text)
{
    return parse_len(text, strlen(text), NULL);
}

/* A string of n copies of c (static buffer, NUL-terminated). */
static char *fill(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

static void test_simple_get(void **state)
{
    (void)state;
    size_t used;
    const char *req = "GET /index.html HTTP/1.1\r\nHost: 10.0.2.15\r\nUser-Agent: test\r\n\r\n";
    assert_int_equal(parse_len(req, strlen(req), &used), TERN_HTTP_DONE);
    assert_int_equal(used, strlen(req));
    assert_int_equal(parser.req.method, TERN_HTTP_GET);
    assert_string_equal(parser.req.path, "/index.html");
    assert_string_equal(parser.req.host, "10.0.2.15");
    assert_string_equal(parser.req.query, "");
    assert_int_equal(parser.req.has_query, 0);
    assert_int_equal(parser.req.version_minor, 1);
    assert_int_equal(parser.req.keep_alive, 1);
    assert_int_equal(parser.req.accept_gzip, 0);
    assert_int_equal(parser.req.content_length, 0);
    /* A result sticks: the next call consumes nothing and says it again. */
    size_t c = 99;
    assert_int_equal(tern_http_parse(&parser, (const uint8_t *)"GET", 3, &c), TERN_HTTP_DONE);
    assert_int_equal(c, 0);
}

static void test_incomplete(void **state)
{
    (void)state;
    assert_int_equal(parse(""), TERN_HTTP_MORE);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n"), TERN_HTTP_MORE);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n\r"), TERN_HTTP_MORE);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab"), TERN_HTTP_MORE);
    /* NULL data with length 0 is allowed. */
    tern_http_parser_init(&parser);
    size_t c = 5;
    assert_int_equal(tern_http_parse(&parser, NULL, 0, &c), TERN_HTTP_MORE);
    assert_int_equal(c, 0);
}

static void test_head_and_versions(void **state)
{
    (void)state;
    assert_int_equal(parse("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"), TERN_HTTP_DONE);
    assert_int_equal(parser.req.method, TERN_HTTP_HEAD);
    /* HTTP/1.0: no Host needed, closes by default, keep-alive on request. */
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n"), TERN_HTTP_DONE);
    assert_int_equal(parser.req.version_minor, 0);
    assert_int_equal(parser.req.keep_alive, 0);
    assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), TERN_HTTP_DONE);
    assert_int_equal(parser.req.keep_alive, 1);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n"), TERN_HTTP_DONE);
    assert_int_equal(parser.req.keep_alive, 0);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: CLOSE\r\n\r\n"),
                     TERN_HTTP_DONE);
    assert_int_equal(parser.req.keep_alive, 0);
    /* 1.x above 1.1 is served as 1.1 (RFC 9110 2.5); another major is 505. */
    assert_int_equal(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), TERN_HTTP_DONE);
    assert_int_equal(parser.req.version_minor, 1);
    assert_int_equal(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    assert_int_equal(parse("GET / HTTP/0.9\r\n\r\n"), 505);
    assert_int_equal(parse("GET / HTTP/1\r\n\r\n"), 400);
    assert_int_equal(parse("GET / http/1.1\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1x\r\n\r\n"), 400);
    assert_int_equal(parse("GET /\r\n\r\n"), 400); /* HTTP/0.9 style */
    assert_int_equal(parse("GET / HTTP/11.1\r\n\r\n"), 400);
}

static void test_methods(void **state)
{
    (void)state;
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n"), 405);
    assert_int_equal(parser.req.keep_alive, 0);
    assert_int_equal(parse("PUT / HTTP/1.1\r\n"), 405);
    assert_int_equal(parse("DELETE / HTTP/1.1\r\n"), 405);
    assert_int_equal(parse("OPTIONS * HTTP/1.1\r\n"), 405);
    assert_int_equal(parse("CONNECT a:80 HTTP/1.1\r\n"), 405);
    assert_int_equal(parse("get / HTTP/1.1\r\n"), 501); /* methods are case-sensitive */
    assert_int_equal(parse("BREW / HTTP/1.1\r\n"), 501);
    assert_int_equal(parse("G@T / HTTP/1.1\r\n"), 400);
    assert_int_equal(parse(" GET / HTTP/1.1\r\n"), 400);
    assert_int_equal(parse("GET  / HTTP/1.1\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1 \r\n"), 400);
    assert_int_equal(parse("GET / extra HTTP/1.1\r\n"), 400);
    assert_int_equal(parse("GET\t/ HTTP/1.1\r\n"), 400);
}

static void test_paths(void **state)
{
    (void)state;
    assert_int_equal(parse("GET /a%20b/c%2Ed?x=1&y=%41 HTTP/1.1\r\nHost: a\r\n\r\n"), TERN_HTTP_DONE);
    assert_string_equal(parser.req.path, "/a b/c.d");
    assert_string_equal(parser.req.query, "x=1&y=%41"); /* the query stays raw */
    assert_int_equal(parser.req.has_query, 1);
    assert_int_equal(parse("GET /? HTTP/1.1\r\nHost: a\r\n\r\n"), TERN_HTTP_DONE);
    assert_int_equal(parser.req.has_query, 1);
    assert_string_equal(parser.req.query, "");
    assert_int_equal(parse("GET /x/ HTTP/1.1\r\nHost: a\r\n\r\n"), TERN_HTTP_DONE);
    assert_string_equal(parser.req.path, "/x/");
    assert_int_equal(parse("GET /...x/..a HTTP/1.1\r\nHost: a\r\n\r\n"), TERN_HTTP_DONE); /* not traversal */
    /* Traversal, however spelled. */
    static const char *const bad[] = {
        "/..", "/../etc/passwd", "/a/../../b", "/a/..", "/.", "/a/./b", "/%2e%2e/x", "/%2E%2e", "/a%2f..%2fb",
        "/.%2e/", "/a%2F%2E%2E", "/a%00b", "/a%0ab", "/a%7f", "/%", "/%4", "/%zz", "/%g0", "/a\\b", "/a%5cb",
        "/a#frag", "a", "*", "", "/a\xc3\xa9", "/a?b#c", "/a?b\x80",
    };
    char line[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(line, sizeof line, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", bad[i]);
        if (parse(line) != 400)
            fail_msg("path '%s' not refused with 400 (got %d)", bad[i], parse(line));
    }
    /* Percent-encoded UTF-8 decodes to its bytes. */
    assert_int_equal(parse("GET /caf%C3%A9 HTTP/1.1\r\nHost: a\r\n\r\n"), TERN_HTTP_DONE);
    assert_string_equal(parser.req.path, "/caf\xc3\xa9");
}

static void test_absolute_form(void **state)
{
    (void)state;
    assert_int_equal(parse("GET http://example.test/x?q HTTP/1.1\r\n\r\n"), TERN_HTTP_DONE);
    assert_string_equal(parser.req.host, "example.test");
    assert_string_equal(parser.req.path, "/x");
    assert_string_equal(parser.req.query, "q");
    /* The authority wins over Host (RFC 9112 3.2.2). */
    assert_int_equal(parse("GET HTTP://h:8080 HTTP/1.1\r\nHost: other\r\n\r\n"), TERN_HTTP_DONE);
    assert_string_equal(parser.req.host, "h:8080");
    assert_string_equal(parser.req.path, "/");
    assert_int_equal(parse("GET http://h?z HTTP/1.1\r\n\r\n"), TERN_HTTP_DONE);
    assert_string_equal(parser.req.path, "/");
    assert_string_equal(parser.req.query, "z");
    assert_int_equal(parse("GET http:///x HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(parse("GET http://u@h/x HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(parse("GET ftp://h/x HTTP/1.1\r\n\r\n"), 400);
}

static void test_request_line_limit(void **state)
{
    (void)state;
    static char line[TERN_HTTP_HEADERS_MAX + 64], path[TERN_HTTP_HEADERS_MAX];
    /* "GET " + path + " HTTP/1.1" exactly at the limit: the path is at most
     * TERN_HTTP_PATH_MAX, so use the query to reach the line limit. */
    size_t fixed = strlen("GET /? HTTP/1.1");
    size_t q = TERN_HTTP_REQUEST_LINE_MAX - fixed;
    if (q <= TERN_HTTP_QUERY_MAX) {
        snprintf(line, sizeof line, "GET /?%s HTTP/1.1\r\nHost: a\r\n\r\n", fill(path, 'q', q));
        assert_int_equal(parse(line), TERN_HTTP_DONE);
    }
    /* One byte over the line limit: 414, whatever the part that is long. */
    snprintf(line, sizeof line, "GET /%s HTTP/1.1\r\nHost: a\r\n\r\n",
             fill(path, 'p', TERN_HTTP_REQUEST_LINE_MAX - strlen("GET / HTTP/1.1") + 1));
    assert_int_equal(parse(line), 414);
    assert_int_equal(parser.req.keep_alive, 0);
    /* A line that never ends is cut at the limit. */
    assert_int_equal(parse(fill(path, 'G', TERN_HTTP_REQUEST_LINE_MAX + 10)), 414);
}

static void test_path_query_limits(void **state)
{
    (void)state;
    static char line[1024], part[512];
    if (TERN_HTTP_PATH_MAX + 20 < TERN_HTTP_REQUEST_LINE_MAX) {
        snprintf(line, sizeof line, "GET /%s HTTP/1.1\r\nHost: a\r\n\r\n", fill(part, 'p', TERN_HTTP_PATH_MAX - 1));
        assert_int_equal(parse(line), TERN_HTTP_DONE);
        assert_int_equal(strlen(parser.req.path), TERN_HTTP_PATH_MAX);
        snprintf(line, sizeof line, "GET /%s HTTP/1.1\r\nHost: a\r\n\r\n", fill(part, 'p', TERN_HTTP_PATH_MAX));
        assert_int_equal(parse(line), 414);
    }
    if (TERN_HTTP_QUERY_MAX + 20 < TERN_HTTP_REQUEST_LINE_MAX) {
        snprintf(line, sizeof line, "GET /?%s HTTP/1.1\r\nHost: a\r\n\r\n", fill(part, 'q', TERN_HTTP_QUERY_MAX));
        assert_int_equal(parse(line), TERN_HTTP_DONE);
        assert_int_equal(strlen(parser.req.query), TERN_HTTP_QUERY_MAX);
        snprintf(line, sizeof line, "GET /?%s HTTP/1.1\r\nHost: a\r\n\r\n", fill(part, 'q', TERN_HTTP_QUERY_MAX + 1));
        assert_int_equal(parse(line), 414);
    }
}

static void test_header_line_limit(void **state)
{
    (void)state;
    static char line[TERN_HTTP_HEADERS_MAX + 256], val[TERN_HTTP_HEADERS_MAX];
    size_t fixed = strlen("Accept-Encoding: ");
    /* An interpreted header exactly at the limit is read... */
    snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: %s\r\n\r\n",
             fill(val, 'x', TERN_HTTP_HEADER_LINE_MAX - fixed));
    assert_int_equal(parse(line), TERN_HTTP_DONE);
    /* ...one byte more is 431. */
    snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: %s\r\n\r\n",
             fill(val, 'x', TERN_HTTP_HEADER_LINE_MAX - fixed + 1));
    assert_int_equal(parse(line), 431);
    /* A header name longer than the line buffer: 431. */
    snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\n%s: v\r\n\r\n",
             fill(val, 'N', TERN_HTTP_HEADER_LINE_MAX + 5));
    assert_int_equal(parse(line), 431);
    /* A long header the server does not read (a big cookie) is skipped
     * without being stored, and the fields after it still count. */
    snprintf(line, sizeof line, "GET / HTTP/1.1\r\nCookie: %s\r\nHost: after\r\nAccept-Encoding: gzip\r\n\r\n",
             fill(val, 'c', TERN_HTTP_HEADER_LINE_MAX * 3));
    if (strlen(line) <= TERN_HTTP_HEADERS_MAX) {
        assert_int_equal(parse(line), TERN_HTTP_DONE);
        assert_string_equal(parser.req.host, "after");
        assert_int_equal(parser.req.accept_gzip, 1);
    }
    /* The skipped part is still checked: a NUL or a bare CR inside is 400. */
    snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\nCookie: %s\rx\r\n\r\n",
             fill(val, 'c', TERN_HTTP_HEADER_LINE_MAX + 10));
    assert_int_equal(parse(line), 400);
    size_t n = (size_t)snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\nCookie: %s",
                                fill(val, 'c', TERN_HTTP_HEADER_LINE_MAX + 10));
    memcpy(line + n, "\0x\r\n\r\n", 6);
    assert_int_equal(parse_len(line, n + 6, NULL), 400);
    /* An over-long line with a malformed name is 400, not skipped. */
    snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\nBad Name: %s\r\n\r\n",
             fill(val, 'c', TERN_HTTP_HEADER_LINE_MAX + 10));
    assert_int_equal(parse(line), 400);
}

static void test_total_header_limit(void **state)
{
    (void)state;
    static char line[TERN_HTTP_HEADERS_MAX * 2];
    size_t n = (size_t)snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\n");
    /* Fill with short unread headers until the head is exactly at the limit. */
    unsigned count = 1;
    while (n + 40 < TERN_HTTP_HEADERS_MAX && count < TERN_HTTP_HEADER_COUNT_MAX - 1) {
        n += (size_t)snprintf(line + n, sizeof line - n, "X-%u: %s\r\n", count, "aaaaaaaaaaaaaaaaaaaaa");
        count++;
    }
    size_t pad = TERN_HTTP_HEADERS_MAX - n - strlen("X-pad: \r\n\r\n");
    char *p = line + n;
    n += (size_t)snprintf(p, sizeof line - n, "X-pad: ");
    memset(line + n, 'z', pad);
    n += pad;
    memcpy(line + n, "\r\n\r\n", 5);
    n += 4;
    assert_int_equal(n, TERN_HTTP_HEADERS_MAX);
    assert_int_equal(parse_len(line, n, NULL), TERN_HTTP_DONE);
    /* One byte more anywhere: 431. */
    memmove(line + n - 4 + 1, line + n - 4, 5);
    line[n - 4] = 'z';
    assert_int_equal(parse_len(line, n + 1, NULL), 431);
}

static void test_header_count_limit(void **state)
{
    (void)state;
    static char line[TERN_HTTP_HEADER_COUNT_MAX * 16 + 128];
    size_t n = (size_t)snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (unsigned i = 1; i < TERN_HTTP_HEADER_COUNT_MAX; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, "X%u: v\r\n", i);
    snprintf(line + n, sizeof line - n, "\r\n");
    if (strlen(line) <= TERN_HTTP_HEADERS_MAX)
        assert_int_equal(parse(line), TERN_HTTP_DONE); /* exactly the maximum */
    snprintf(line + n, sizeof line - n, "Xlast: v\r\n\r\n");
    if (strlen(line) <= TERN_HTTP_HEADERS_MAX)
        assert_int_equal(parse(line), 431);
}

static void test_host(void **state)
{
    (void)state;
    static char line[512], host[256];
    assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n"), 400);                          /* missing */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);      /* twice */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n"), TERN_HTTP_DONE); /* empty: allowed */
    assert_int_equal(parse("GET / HTTP/1.1\r\nhOsT:   127.0.0.1:8080  \r\n\r\n"), TERN_HTTP_DONE);
    assert_string_equal(parser.req.host, "127.0.0.1:8080");
    if (TERN_HTTP_HOST_MAX + 40 < TERN_HTTP_HEADER_LINE_MAX) {
        snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", fill(host, 'h', TERN_HTTP_HOST_MAX));
        assert_int_equal(parse(line), TERN_HTTP_DONE);
        snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", fill(host, 'h', TERN_HTTP_HOST_MAX + 1));
        assert_int_equal(parse(line), 400);
    }
}

static void test_content_length(void **state)
{
    (void)state;
    static char line[TERN_HTTP_BODY_MAX + 256];
    size_t used;
    /* A small body is read and dropped; the next request starts after it. */
    const char *req = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET";
    assert_int_equal(parse_len(req, strlen(req), &used), TERN_HTTP_DONE);
    assert_int_equal(used, strlen(req) - 3);
    assert_int_equal(parser.req.content_length, 5);
    snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: %u\r\n\r\n", TERN_HTTP_BODY_MAX);
    size_t n = strlen(line);
    memset(line + n, 'b', TERN_HTTP_BODY_MAX);
    assert_int_equal(parse_len(line, n + TERN_HTTP_BODY_MAX, &used), TERN_HTTP_DONE);
    assert_int_equal(used, n + TERN_HTTP_BODY_MAX);
    snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: %u\r\n\r\n", TERN_HTTP_BODY_MAX + 1);
    assert_int_equal(parse(line), 413);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999999\r\n\r\n"), 413);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), TERN_HTTP_DONE);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab"),
                     TERN_HTTP_DONE);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), 400);
    /* Request bodies in a transfer coding are not taken. */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
}

static void test_malformed_headers(void **state)
{
    (void)state;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n"), 400); /* space before colon */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n: empty name\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX\x01: b\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n"), TERN_HTTP_DONE); /* HT is fine */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n"), TERN_HTTP_DONE); /* obs-text */
    static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
    assert_int_equal(parse_len(nul, sizeof nul - 1, NULL), 400);
    static const char nul2[] = "GET /\0 HTTP/1.1\r\n\r\n";
    assert_int_equal(parse_len(nul2, sizeof nul2 - 1, NULL), 400);
}

static void test_line_endings(void **state)
{
    (void)state;
    /* Bare LF is tolerated everywhere (RFC 9112 2.2 MAY). */
    assert_int_equal(parse("GET / HTTP/1.1\nHost: a\n\n"), TERN_HTTP_DONE);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\n\r\n"), TERN_HTTP_DONE);
    /* A bare CR is not (RFC 9112 2.2). */
    assert_int_equal(parse("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\r\n"), 400);
    /* Up to two empty lines before the request line are ignored. */
    assert_int_equal(parse("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), TERN_HTTP_DONE);
    assert_int_equal(parse("\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), TERN_HTTP_DONE);
    assert_int_equal(parse("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

static void test_pipelining(void **state)
{
    (void)state;
    const char *two = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nHEAD /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    size_t used;
    assert_int_equal(parse_len(two, strlen(two), &used), TERN_HTTP_DONE);
    assert_string_equal(parser.req.path, "/a");
    assert_int_equal(used, strlen("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"));
    /* Restart for the next request on the same connection. */
    size_t used2;
    assert_int_equal(parse_len(two + used, strlen(two + used), &used2), TERN_HTTP_DONE);
    assert_string_equal(parser.req.path, "/b");
    assert_int_equal(parser.req.method, TERN_HTTP_HEAD);
    assert_int_equal(parser.req.keep_alive, 0);
    assert_int_equal(used + used2, strlen(two));
}

static void test_conditional_and_encoding(void **state)
{
    (void)state;
    static char line[1024], tag[512];
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"abc\", W/\"d\"\r\n\r\n"), TERN_HTTP_DONE);
    assert_string_equal(parser.req.if_none_match, "\"abc\", W/\"d\"");
    if (TERN_HTTP_ETAG_MAX + 40 < TERN_HTTP_HEADER_LINE_MAX) {
        snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: %s\r\n\r\n",
                 fill(tag, 'e', TERN_HTTP_ETAG_MAX + 1));
        assert_int_equal(parse(line), TERN_HTTP_DONE);
        assert_string_equal(parser.req.if_none_match, ""); /* too long: ignored */
    }
    static const struct {
        const char *value;
        int gzip;
    } ae[] = {
        {"gzip", 1}, {"gzip, deflate, br", 1}, {"deflate", 0}, {"GZIP", 1}, {"x-gzip", 1}, {"gzip;q=0", 0},
        {"gzip; q=0.000", 0}, {"gzip;q=0.5", 1}, {"gzip;q=1.0", 1}, {"*", 1}, {"*;q=0", 0},
        {"identity, *;q=0.1", 1}, {"gzip;q=0, *", 0}, {"br;q=1, gzip;q=0.001", 1}, {"", 0}, {",,,", 0},
        {"gzipx", 0}, {"gzip;level=9", 1},
    };
    for (size_t i = 0; i < sizeof ae / sizeof ae[0]; i++) {
        snprintf(line, sizeof line, "GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: %s\r\n\r\n", ae[i].value);
        assert_int_equal(parse(line), TERN_HTTP_DONE);
        if (parser.req.accept_gzip != ae[i].gzip)
            fail_msg("Accept-Encoding '%s': gzip %d, expected %d", ae[i].value, parser.req.accept_gzip, ae[i].gzip);
    }
}

/* Random garbage and mutated requests: never crash, never read past the
 * input (ASan), always a result from the documented set. */
static void test_random_inputs(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_test_port_init(&tp, tern_test_seed(7));
    static const char base[] = "GET /index.html?x=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
                               "Accept-Encoding: gzip\r\nIf-None-Match: \"x\"\r\nContent-Length: 2\r\n\r\nab";
    static const char alphabet[] = "GET /%.?:\r\n \tHTTP1.0aZ\"*,;=\x80\x01";
    static char buf[512];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = sizeof base - 1;
        memcpy(buf, base, n);
        unsigned muts = 1 + tern_test_rand(&tp) % 6;
        for (unsigned m = 0; m < muts; m++) {
            size_t at = tern_test_rand(&tp) % n;
            switch (tern_test_rand(&tp) % 3) {
            case 0:
                buf[at] = alphabet[tern_test_rand(&tp) % (sizeof alphabet - 1)];
                break;
            case 1:
                if (n < sizeof buf - 1) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = alphabet[tern_test_rand(&tp) % (sizeof alphabet - 1)];
                    n++;
                }
                break;
            default:
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
                break;
            }
        }
        size_t used;
        int r = parse_len(buf, n, &used);
        assert_true(used <= n);
        switch (r) {
        case TERN_HTTP_MORE:
            assert_int_equal(used, n);
            break;
        case TERN_HTTP_DONE:
            assert_true(parser.req.method == TERN_HTTP_GET || parser.req.method == TERN_HTTP_HEAD);
            assert_int_equal(parser.req.path[0], '/');
            assert_null(strstr(parser.req.path, "/../"));
            assert_true(strlen(parser.req.path) <= TERN_HTTP_PATH_MAX);
            break;
        case 400: case 405: case 413: case 414: case 431: case 501: case 505:
            assert_int_equal(parser.req.keep_alive, 0);
            break;
        default:
            fail_msg("unexpected result %d", r);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_head_and_versions),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_absolute_form),
        cmocka_unit_test(test_request_line_limit),
        cmocka_unit_test(test_path_query_limits),
        cmocka_unit_test(test_header_line_limit),
        cmocka_unit_test(test_total_header_limit),
        cmocka_unit_test(test_header_count_limit),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_malformed_headers),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_conditional_and_encoding),
        cmocka_unit_test(test_random_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
