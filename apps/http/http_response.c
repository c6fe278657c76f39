/* HTTP responses: status lines, headers, error bodies, conditional GETs,
 * and file lookup in the compiled-in image. Rules: docs/http.md. */
#include <string.h>
#include "util/fmt.h"
#include "tern/http.h"

const char *tern_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* Short bodies, one line each: a person reading them in a browser knows
 * what happened, a client parsing them needs nothing. */
static const char *http_error_body(int status)
{
    switch (status) {
    case 400: return "400 Bad Request: the request is malformed\n";
    case 404: return "404 Not Found\n";
    case 405: return "405 Method Not Allowed: this server only serves GET and HEAD\n";
    case 408: return "408 Request Timeout: the request did not arrive in time\n";
    case 413: return "413 Content Too Large: this server takes no request bodies\n";
    case 414: return "414 URI Too Long\n";
    case 431: return "431 Request Header Fields Too Large\n";
    case 501: return "501 Not Implemented\n";
    case 503: return "503 Service Unavailable: too many connections, try again\n";
    case 505: return "505 HTTP Version Not Supported: use HTTP/1.1\n";
    default: return "500 Internal Server Error\n";
    }
}

void tern_http_error_response(tern_http_response_t *r, int status, int keep_alive, int head)
{
    memset(r, 0, sizeof *r);
    const char *body = http_error_body(status);
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
    r->cache_control = "no-store";
    r->body = (const uint8_t *)body;
    r->content_length = strlen(body);
    r->body_len = head ? 0u : r->content_length;
    /* After a parse error the byte stream cannot be trusted: close. 404
     * is a well-formed request and may keep the connection. */
    r->keep_alive = (uint8_t)(status == 404 && keep_alive);
    r->allow = status == 405;
}

/* ---- entity tags (RFC 9110 8.8.3, 13.1.2) ---------------------------------- */

/* Compare the opaque parts of two tags, ignoring a W/ prefix on either. */
static int http_etag_weak_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an >= 2 && a[0] == 'W' && a[1] == '/') {
        a += 2;
        an -= 2;
    }
    if (bn >= 2 && b[0] == 'W' && b[1] == '/') {
        b += 2;
        bn -= 2;
    }
    return an == bn && an >= 2 && a[0] == '"' && a[an - 1] == '"' && memcmp(a, b, an) == 0;
}

int tern_http_etag_match(const char *inm, const char *etag)
{
    if (inm == NULL || etag == NULL)
        return 0;
    size_t en = strlen(etag);
    const char *c = inm;
    for (;;) {
        while (*c == ' ' || *c == '\t' || *c == ',')
            c++;
        if (*c == '\0')
            return 0;
        if (*c == '*')
            return 1;
        /* One entity-tag: [W/] DQUOTE *etagc DQUOTE. */
        const char *b = c;
        if (c[0] == 'W' && c[1] == '/')
            c += 2;
        if (*c != '"')
            return 0; /* malformed list: no match (the full body is always safe) */
        c++;
        while (*c != '\0' && *c != '"')
            c++;
        if (*c != '"')
            return 0;
        c++;
        if (http_etag_weak_eq(b, (size_t)(c - b), etag, en))
            return 1;
    }
}

/* ---- files ------------------------------------------------------------------ */

const char *tern_http_content_type(const char *path)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"ico", "image/x-icon"},
        {"txt", "text/plain; charset=utf-8"},
    };
    const char *dot = NULL;
    for (const char *s = path; *s; s++) {
        if (*s == '.')
            dot = s + 1;
        else if (*s == '/')
            dot = NULL;
    }
    if (dot != NULL) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* strcmp of path against (prefix + suffix) without building the string. */
static int http_cmp2(const char *path, const char *prefix, size_t pn, const char *suffix)
{
    /* strncmp equal means path has at least pn bytes before its NUL. */
    int c = strncmp(path, prefix, pn);
    return c != 0 ? c : strcmp(path + pn, suffix);
}

const tern_http_file_t *tern_http_fs_find(const tern_http_fs_t *fs, const char *path)
{
    if (fs == NULL || path == NULL || path[0] != '/')
        return NULL;
    size_t pn = strlen(path);
    const char *suffix = path[pn - 1] == '/' ? "index.html" : "";
    size_t lo = 0, hi = fs->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2u;
        int c = http_cmp2(fs->files[mid].path, path, pn, suffix);
        if (c == 0)
            return &fs->files[mid];
        if (c < 0)
            lo = mid + 1u;
        else
            hi = mid;
    }
    return NULL;
}

void tern_http_file_response(tern_http_response_t *r, const tern_http_fs_t *fs, const tern_http_request_t *req)
{
    int head = req->method == TERN_HTTP_HEAD;
    const tern_http_file_t *f = tern_http_fs_find(fs, req->path);
    if (f == NULL) {
        tern_http_error_response(r, 404, req->keep_alive, head);
        return;
    }
    memset(r, 0, sizeof *r);
    int gz = f->gzip != NULL && req->accept_gzip;
    r->content_type = f->content_type;
    r->etag = gz ? f->etag_gzip : f->etag;
    r->cache_control = "no-cache"; /* revalidate every time: the ETag makes that cheap */
    r->gzip = (uint8_t)gz;
    r->vary = f->gzip != NULL;
    r->keep_alive = req->keep_alive;
    r->body = gz ? f->gzip : f->data;
    r->content_length = gz ? f->gzip_size : f->size;
    if (req->if_none_match[0] != '\0' && tern_http_etag_match(req->if_none_match, r->etag)) {
        /* 304 (RFC 9110 15.4.5): no body and no Content-Length that would
         * describe an empty one; the ETag and Vary are repeated. */
        r->status = 304;
        r->body = NULL;
        r->body_len = 0;
        r->content_length = 0;
        r->content_type = NULL;
        r->gzip = 0;
        return;
    }
    r->status = 200;
    r->body_len = head ? 0u : r->content_length;
}

/* ---- the head ----------------------------------------------------------------- */

typedef struct http_buf {
    char *p;
    size_t cap, len;
    int overflow;
} http_buf_t;

static void http_put(http_buf_t *b, const char *s, size_t n)
{
    if (b->overflow || n > b->cap - b->len) {
        b->overflow = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void http_puts(http_buf_t *b, const char *s)
{
    http_put(b, s, strlen(s));
}

static void http_putu(http_buf_t *b, uint64_t v)
{
    char d[24];
    unsigned n = fmt_u64(d, v);
    http_put(b, d, n);
}

size_t tern_http_format_head(const tern_http_response_t *r, char *buf, size_t cap)
{
    http_buf_t b = {buf, cap, 0, 0};
    int status = r->status;
    if (status < 100 || status > 999)
        status = 500;
    http_puts(&b, "HTTP/1.1 ");
    http_putu(&b, (uint64_t)status);
    http_puts(&b, " ");
    http_puts(&b, tern_http_reason(status));
    http_puts(&b, "\r\n");
    if (r->content_type) {
        http_puts(&b, "Content-Type: ");
        http_puts(&b, r->content_type);
        http_puts(&b, "\r\n");
    }
    if (status != 304) {
        http_puts(&b, "Content-Length: ");
        http_putu(&b, r->content_length);
        http_puts(&b, "\r\n");
    }
    if (r->gzip)
        http_puts(&b, "Content-Encoding: gzip\r\n");
    if (r->vary)
        http_puts(&b, "Vary: Accept-Encoding\r\n");
    if (r->etag) {
        http_puts(&b, "ETag: ");
        http_puts(&b, r->etag);
        http_puts(&b, "\r\n");
    }
    if (r->cache_control) {
        http_puts(&b, "Cache-Control: ");
        http_puts(&b, r->cache_control);
        http_puts(&b, "\r\n");
    }
    if (r->allow)
        http_puts(&b, "Allow: GET, HEAD\r\n");
    http_puts(&b, r->keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    http_puts(&b, "\r\n");
    if (b.overflow)
        return 0;
    return b.len;
}
