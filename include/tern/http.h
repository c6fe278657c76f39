/* HTTP/1.1 for the dashboard server: an incremental request parser, the
 * response rules and the read-only file image compiled into the binary.
 *
 * The parser (RFC 9112) takes the request in chunks as they arrive and keeps
 * a small fixed state (struct tern_http_parser: its size is the RAM cost per
 * connection, set by the TERN_HTTP_* options in config.h). It never
 * allocates, never reads past the chunk it is given, and turns every
 * malformed or oversized request into the status code to answer with.
 * docs/http.md lists the limits and the rules.
 *
 * Everything here is freestanding: no OS, no libc I/O, no allocation. */
#ifndef TERN_HTTP_H
#define TERN_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"
#include "tern/port.h"
#include "tern/stack.h" /* tern_service_t */

/* ---- Request parser ------------------------------------------------------ */

enum tern_http_method { TERN_HTTP_METHOD_NONE = 0, TERN_HTTP_GET = 1, TERN_HTTP_HEAD = 2 };

/* What the parser took from one request. Strings are NUL-terminated. */
typedef struct tern_http_request {
    char path[TERN_HTTP_PATH_MAX + 1];   /* percent-decoded, starts with '/' */
    char query[TERN_HTTP_QUERY_MAX + 1]; /* raw (not decoded), without the '?' */
    char host[TERN_HTTP_HOST_MAX + 1];   /* Host header (or the absolute-form authority) */
    char if_none_match[TERN_HTTP_ETAG_MAX + 1]; /* raw header value; empty if absent or too long */
    uint32_t content_length;  /* body bytes the parser skipped (<= TERN_HTTP_BODY_MAX) */
    uint8_t method;           /* enum tern_http_method */
    uint8_t version_minor;    /* HTTP/1.x: 0 or 1 */
    uint8_t keep_alive;       /* 1: the connection may serve another request */
    uint8_t accept_gzip;      /* Accept-Encoding allows gzip */
    uint8_t has_query;        /* a '?' was present */
} tern_http_request_t;

/* Parser results (tern_http_parse): 0 while more bytes are needed,
 * TERN_HTTP_DONE for a complete, valid request, else the HTTP status code to
 * answer with (400, 405, 413, 414, 431, 501, 505) before closing. */
#define TERN_HTTP_MORE 0
#define TERN_HTTP_DONE 200

/* The larger of the two line limits: one line is held at a time. */
#define TERN_HTTP_LINE_BUF_ \
    (TERN_HTTP_REQUEST_LINE_MAX > TERN_HTTP_HEADER_LINE_MAX ? TERN_HTTP_REQUEST_LINE_MAX : TERN_HTTP_HEADER_LINE_MAX)

typedef struct tern_http_parser {
    tern_http_request_t req;
    uint32_t header_bytes;    /* bytes of the head so far (request line included) */
    uint32_t body_left;       /* body bytes still to skip */
    uint16_t line_len;        /* bytes in line[] */
    uint8_t state;
    uint8_t headers;          /* header fields seen */
    uint8_t empty_lines;      /* empty lines before the request line */
    uint8_t flags;            /* header seen bits (Host, Content-Length, Connection) */
    int16_t status;           /* the result once decided */
    char line[TERN_HTTP_LINE_BUF_];
} tern_http_parser_t;

/* Start (or restart, for the next request on a keep-alive connection). */
void tern_http_parser_init(tern_http_parser_t *p);

/* Feed len bytes. *consumed (may be NULL) tells how many belong to this
 * request: after TERN_HTTP_DONE the rest is the next (pipelined) request.
 * Once a result is returned, further calls return it again and consume
 * nothing. data may be NULL when len is 0. */
int tern_http_parse(tern_http_parser_t *p, const uint8_t *data, size_t len, size_t *consumed);

/* ---- Files: the image generated from apps/http/www ----------------------- */

typedef struct tern_http_file {
    const char *path;          /* "/index.html"; the table is sorted by path (strcmp) */
    const char *content_type;  /* with charset for text types */
    const char *etag;          /* quoted strong ETag of the identity body: "\"0123abcd...\"" */
    const char *etag_gzip;     /* the gzip variant's ETag (NULL when there is none) */
    const uint8_t *data;
    const uint8_t *gzip;       /* gzip variant (NULL when gzip is not smaller) */
    uint32_t size;
    uint32_t gzip_size;
} tern_http_file_t;

typedef struct tern_http_fs {
    const tern_http_file_t *files;
    size_t count;
} tern_http_fs_t;

/* The image built from apps/http/www (scripts/gen-fsimage at build time). */
extern const tern_http_fs_t tern_http_fs_image;

/* The file for a decoded path ("/" and any path ending in '/' get
 * "index.html" appended), or NULL. Binary search. */
const tern_http_file_t *tern_http_fs_find(const tern_http_fs_t *fs, const char *path);

/* Content-Type for a path by its extension (html, css, js, json, svg, png,
 * ico, txt; anything else application/octet-stream). */
const char *tern_http_content_type(const char *path);

/* ---- Responses ------------------------------------------------------------ */

/* A response ready to send: the head (tern_http_format_head) followed by
 * body_len bytes of body (0 for HEAD and 304: Content-Length still tells
 * the size a GET would get, RFC 9110 8.6). */
typedef struct tern_http_response {
    int status;
    const char *content_type;  /* NULL: no Content-Type */
    const char *etag;          /* NULL: no ETag */
    const char *cache_control; /* NULL: none */
    const uint8_t *body;
    size_t body_len;           /* bytes to send after the head */
    size_t content_length;     /* the Content-Length header value */
    uint8_t gzip;              /* Content-Encoding: gzip */
    uint8_t vary;              /* Vary: Accept-Encoding (a gzip variant exists) */
    uint8_t keep_alive;        /* Connection: keep-alive, else close */
    uint8_t allow;             /* send "Allow: GET, HEAD" (405) */
} tern_http_response_t;

/* Reason phrase ("Not Found"); "Unknown" for codes not listed. */
const char *tern_http_reason(int status);

/* A short text/plain error response for status (400, 404, 405, 408, 413,
 * 414, 431, 500, 501, 503, 505). Errors from the parser always close the
 * connection (keep_alive is forced to 0 for them). head: no body bytes. */
void tern_http_error_response(tern_http_response_t *r, int status, int keep_alive, int head);

/* The response to a valid request for a file of fs: 404 when there is
 * none, 304 when If-None-Match matches its ETag (weak comparison, RFC 9110
 * 13.1.2), else 200 with the gzip variant when the client accepts gzip. */
void tern_http_file_response(tern_http_response_t *r, const tern_http_fs_t *fs, const tern_http_request_t *req);

/* 1 when an If-None-Match value matches etag ("*", or any tag in the list by
 * weak comparison). */
int tern_http_etag_match(const char *if_none_match, const char *etag);

/* Write the status line and headers (ending with the empty line) into buf.
 * Returns the length, or 0 when cap is too small (nothing usable written). */
size_t tern_http_format_head(const tern_http_response_t *r, char *buf, size_t cap);

/* ---- Server (an application on the sockets API) ----------------------------------
 *
 * Serves the file image and /api/stats (tern_stats_json) on a TCP port,
 * on non-blocking sockets: tern_http_server_poll() does whatever the
 * server's sockets allow now and returns, so an MCU main loop calls it every
 * turn (it polls with timeout 0) and an OS thread calls it after
 * tern_http_server_wait(). It makes socket calls: call it from an
 * application thread or the main loop, never from a raw-API callback or a
 * stack service (docs/sockets.md). Time comes from the caller (ms, any
 * start, wrapping), as for tern_poll.
 *
 * Memory (docs/http.md, docs/memory.md): the listener and one socket per
 * connection (SOCKET, TCP_STREAM_RX/TX, owner = the socket id), plus per
 * connection its state (sizeof(http_conn_t): parser and head buffer) and,
 * while one is sent, the /api/stats document: ledger category HTTP, owner =
 * the connection's socket id. */

struct tern_stack;
struct tern_stats_section;
struct http_conn;

typedef struct tern_http_server_stats {
    uint32_t accepted;       /* connections taken */
    uint32_t refused_busy;   /* connections answered 503: TERN_HTTP_MAX_CONNS open */
    uint32_t requests;       /* complete requests parsed */
    uint32_t responses_2xx, responses_304, responses_4xx, responses_5xx;
    uint32_t parse_errors;   /* requests refused by the parser (4xx/5xx, then closed) */
    uint32_t timeouts;       /* connections closed by the header, idle or send timeout */
    uint32_t nomem;          /* connections or documents refused: no memory */
    uint32_t bytes_sent;     /* head and body bytes handed to TCP */
    uint32_t evicted;        /* connections reset at the limit: none had completed a request */
} tern_http_server_stats_t;

typedef struct tern_http_server {
    struct tern_stack *stack;
    int listener;             /* socket id */
    const tern_http_fs_t *fs;
    const struct tern_stats_section *stats_extra; /* extra /api/stats sections, may be NULL */
    struct http_conn *conns;  /* open connections */
    unsigned open;            /* connections in conns */
    uint16_t port;
    uint8_t mem_cat;          /* the ledger category registered as HTTP */
    uint32_t header_timeout_ms; /* TERN_HTTP_HEADER_TIMEOUT_MS unless set (tern_http_server_set_timeouts) */
    uint32_t idle_timeout_ms;   /* TERN_HTTP_IDLE_TIMEOUT_MS unless set; also bounds a send without progress */
    tern_http_server_stats_t stats;
} tern_http_server_t;

/* Listen on port (0: 80) and serve fs (NULL: tern_http_fs_image); extra
 * /api/stats sections may be NULL. Core lock NOT held (socket calls).
 * TERN_OK, or the error of tern_socket/tern_bind/tern_listen
 * (TERN_ERR_ADDRINUSE, TERN_ERR_NOMEM). */
int tern_http_server_start(tern_http_server_t *srv, struct tern_stack *stack, uint16_t port,
                           const tern_http_fs_t *fs, const struct tern_stats_section *stats_extra);
/* Do whatever is ready: accept (503 beyond TERN_HTTP_MAX_CONNS), read and
 * parse, send, close; expire timeouts against now (ms). Never blocks.
 * Returns the ms until the next deadline (UINT32_MAX: none): call again by
 * then at the latest, or as soon as a socket has work. */
uint32_t tern_http_server_poll(tern_http_server_t *srv, uint32_t now);
#if TERN_OS
/* Block until one of the server's sockets has work or timeout_ms passed
 * (tern_socket_poll): > 0 work, 0 timeout, or an error. */
int tern_http_server_wait(tern_http_server_t *srv, uint32_t timeout_ms);
#endif
/* Change the header and idle timeouts at run time (0 keeps a value), for
 * connections whose current request or idle period starts afterwards. */
void tern_http_server_set_timeouts(tern_http_server_t *srv, uint32_t header_ms, uint32_t idle_ms);
/* Reset every open connection and close the listener; frees everything.
 * Core lock NOT held. Idempotent. */
void tern_http_server_stop(tern_http_server_t *srv);
/* The server's figures as a JSON object (a tern_stats_fn for an extra
 * /api/stats section named "http"; arg is the server). Written under the
 * core lock while the server's thread may be counting: each figure is read
 * once, the set is not a snapshot. */
void tern_http_server_stats_json(const struct tern_stack *stack, void *arg, tern_writer_fn write, void *ctx);

#endif
