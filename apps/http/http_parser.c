/* Incremental HTTP/1.1 request parser (RFC 9112), hostile-input safe.
 *
 * One line is buffered at a time (the request line or a header line the
 * server interprets); every other header line is checked byte by byte and
 * skipped without being stored. Each byte is looked at once, only within the
 * chunk given. Every limit is a TERN_HTTP_* option; nothing grows with the
 * input. Rules and limits: docs/http.md. */
#include <string.h>
#include "tern/http.h"

enum {
    ST_REQLINE = 0, /* collecting the request line */
    ST_HEADER,      /* collecting a header line */
    ST_SKIP,        /* skipping the rest of a header line we do not interpret */
    ST_BODY,        /* discarding Content-Length body bytes */
    ST_END          /* status holds the result */
};

#define F_CR 0x01u         /* the previous byte was CR */
#define F_HOST 0x02u       /* Host seen */
#define F_CLEN 0x04u       /* Content-Length seen */
#define F_TE 0x08u         /* Transfer-Encoding seen */
#define F_CLOSE 0x10u      /* Connection: close */
#define F_KEEPALIVE 0x20u  /* Connection: keep-alive */
#define F_CLEN_BIG 0x40u   /* Content-Length beyond TERN_HTTP_BODY_MAX */
#define F_ABS_HOST 0x80u   /* host came from an absolute-form target */

/* Empty lines tolerated before the request line (RFC 9112 2.2: at least one). */
#define MAX_LEADING_EMPTY_LINES 2u

void tern_http_parser_init(tern_http_parser_t *p)
{
    memset(p, 0, sizeof *p);
    p->state = ST_REQLINE;
}

/* ---- character classes --------------------------------------------------- */

/* tchar (RFC 9110 5.6.2). */
static int http_is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static uint8_t http_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32u) : c;
}

/* Case-insensitive compare of n bytes of s with the lowercase literal lit. */
static int http_ieq(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n != k)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (http_lower((uint8_t)s[i]) != (uint8_t)lit[i])
            return 0;
    }
    return 1;
}

static int http_hex(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = http_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int http_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* ---- request line (RFC 9112 3) -------------------------------------------- */

/* Method: GET and HEAD are served; methods the server knows but refuses
 * get 405 (with Allow), anything else 501 (RFC 9110 9.1). */
static int http_method(tern_http_request_t *req, const char *m, size_t n)
{
    static const char *const refused[] = {"POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    if (n == 3 && memcmp(m, "GET", 3) == 0) {
        req->method = TERN_HTTP_GET;
        return 0;
    }
    if (n == 4 && memcmp(m, "HEAD", 4) == 0) {
        req->method = TERN_HTTP_HEAD;
        return 0;
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (n == strlen(refused[i]) && memcmp(m, refused[i], n) == 0)
            return 405;
    }
    return 501; /* methods are case-sensitive (RFC 9110 9.1): "get" is unknown */
}

/* "HTTP/1.1": 1.x is served as 1.1 or 1.0 (RFC 9110 2.5); another major 505. */
static int http_version(tern_http_request_t *req, const char *v, size_t n)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' ||
        v[7] > '9')
        return 400;
    if (v[5] != '1')
        return 505;
    req->version_minor = (uint8_t)(v[7] == '0' ? 0u : 1u);
    return 0;
}

/* Percent-decode the path; reject NUL, controls, backslash, and "." or ".."
 * segments (no way out of the file image, whatever the server behind). */
static int http_path(tern_http_request_t *req, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '%') {
            if (n - i < 3)
                return 400;
            int hi = http_hex((uint8_t)s[i + 1]), lo = http_hex((uint8_t)s[i + 2]);
            if (hi < 0 || lo < 0)
                return 400;
            c = (uint8_t)(hi * 16 + lo);
            i += 2;
            if (c < 0x20u || c == 0x7Fu)
                return 400; /* NUL and controls, encoded or not */
        } else if (c <= 0x20u || c >= 0x7Fu || c == '#') {
            return 400; /* raw bytes outside the URI grammar; no fragments (RFC 9112 3.2) */
        }
        if (c == '\\')
            return 400;
        if (o >= TERN_HTTP_PATH_MAX)
            return 414;
        req->path[o++] = (char)c;
    }
    req->path[o] = '\0';
    /* Segments between slashes; path[0] is '/'. */
    size_t seg = 1;
    for (size_t i = 1; i <= o; i++) {
        if (i == o || req->path[i] == '/') {
            size_t len = i - seg;
            if ((len == 1 && req->path[seg] == '.') ||
                (len == 2 && req->path[seg] == '.' && req->path[seg + 1] == '.'))
                return 400;
            seg = i + 1;
        }
    }
    return 0;
}

static int http_host_value(tern_http_request_t *req, const char *s, size_t n)
{
    if (n > TERN_HTTP_HOST_MAX)
        return 400;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c <= 0x20u || c >= 0x7Fu || c == '/' || c == '?' || c == '#' || c == '@')
            return 400;
    }
    memcpy(req->host, s, n);
    req->host[n] = '\0';
    return 0;
}

/* origin-form "/path?query" or absolute-form "http://host/path?query"
 * (RFC 9112 3.2); the asterisk and authority forms belong to OPTIONS and
 * CONNECT, refused before this. */
static int http_target(tern_http_parser_t *p, const char *t, size_t n)
{
    tern_http_request_t *req = &p->req;
    if (n >= 7 && http_ieq(t, 7, "http://")) {
        size_t a = 7, e = 7;
        while (e < n && t[e] != '/' && t[e] != '?')
            e++;
        if (e == a)
            return 400;
        int rc = http_host_value(req, t + a, e - a);
        if (rc)
            return rc;
        p->flags |= F_ABS_HOST;
        t += e;
        n -= e;
        if (n == 0 || t[0] == '?') {
            /* "http://host" or "http://host?q": the path is "/" (RFC 9112 3.2.2). */
            req->path[0] = '/';
            req->path[1] = '\0';
            if (n == 0)
                return 0;
            goto query;
        }
    } else if (n == 0 || t[0] != '/') {
        return 400;
    }
    {
        size_t q = 0;
        while (q < n && t[q] != '?')
            q++;
        int rc = http_path(req, t, q);
        if (rc)
            return rc;
        t += q;
        n -= q;
        if (n == 0)
            return 0;
    }
query:
    /* t[0] == '?' */
    t++;
    n--;
    req->has_query = 1;
    if (n > TERN_HTTP_QUERY_MAX)
        return 414;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)t[i];
        if (c <= 0x20u || c >= 0x7Fu || c == '#')
            return 400;
    }
    memcpy(req->query, t, n);
    req->query[n] = '\0';
    return 0;
}

/* METHOD SP request-target SP HTTP-version, single spaces (RFC 9112 3). */
static int http_request_line(tern_http_parser_t *p, const char *l, size_t n)
{
    size_t sp1 = 0;
    while (sp1 < n && l[sp1] != ' ')
        sp1++;
    if (sp1 == 0 || sp1 == n)
        return 400;
    size_t sp2 = sp1 + 1;
    while (sp2 < n && l[sp2] != ' ')
        sp2++;
    if (sp2 == n || sp2 == sp1 + 1)
        return 400;
    for (size_t i = 0; i < sp1; i++) {
        if (!http_is_tchar((uint8_t)l[i]))
            return 400;
    }
    for (size_t i = sp2 + 1; i < n; i++) {
        if (l[i] == ' ' || l[i] == '\t')
            return 400; /* a third space */
    }
    int rc = http_version(&p->req, l + sp2 + 1, n - sp2 - 1);
    if (rc)
        return rc;
    rc = http_method(&p->req, l, sp1);
    if (rc)
        return rc;
    return http_target(p, l + sp1 + 1, sp2 - sp1 - 1);
}

/* ---- header fields (RFC 9112 5, RFC 9110 5) --------------------------------- */

/* Length of the field name (up to the colon), or 0 when the line has no
 * valid "name:" start (no colon, empty name, a non-token byte, or
 * whitespace before the colon: RFC 9112 5.1 says reject with 400). */
static size_t http_field_name(const char *l, size_t n)
{
    size_t i = 0;
    while (i < n && l[i] != ':') {
        if (!http_is_tchar((uint8_t)l[i]))
            return 0;
        i++;
    }
    return i < n ? i : 0;
}

/* Headers whose value the server reads: these are buffered whole. */
static int http_field_interesting(const char *name, size_t n)
{
    return http_ieq(name, n, "host") || http_ieq(name, n, "connection") || http_ieq(name, n, "content-length") ||
           http_ieq(name, n, "transfer-encoding") || http_ieq(name, n, "if-none-match") ||
           http_ieq(name, n, "accept-encoding");
}

/* The next comma-separated element of a list value (RFC 9110 5.6.1):
 * [*s, *s + *n) on return, OWS trimmed. Returns 0 at the end. */
static int http_list_next(const char **cur, const char *end, const char **s, size_t *n)
{
    const char *c = *cur;
    while (c < end && (http_is_ows(*c) || *c == ','))
        c++;
    if (c >= end)
        return 0;
    const char *b = c;
    while (c < end && *c != ',')
        c++;
    const char *e = c;
    while (e > b && http_is_ows(e[-1]))
        e--;
    *s = b;
    *n = (size_t)(e - b);
    *cur = c;
    return 1;
}

/* q=0 (any of "0", "0.", "0.0", "0.00", "0.000") refuses a coding (RFC 9110 12.4.2). */
static int http_q_is_zero(const char *s, size_t n)
{
    if (n == 0 || s[0] != '0')
        return 0;
    if (n == 1)
        return 1;
    if (s[1] != '.')
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] != '0')
            return 0;
    }
    return 1;
}

static void http_accept_encoding(tern_http_request_t *req, const char *v, size_t n)
{
    const char *cur = v, *end = v + n, *e;
    size_t len;
    int gzip = -1, star = -1; /* -1 not listed, 0 refused, 1 accepted */
    while (http_list_next(&cur, end, &e, &len)) {
        size_t k = 0;
        while (k < len && e[k] != ';' && !http_is_ows(e[k]))
            k++;
        int ok = 1;
        /* Parameters: only q matters. */
        for (size_t i = k; i < len; i++) {
            if (e[i] != ';')
                continue;
            size_t j = i + 1;
            while (j < len && http_is_ows(e[j]))
                j++;
            if (len - j >= 2 && (e[j] == 'q' || e[j] == 'Q') && e[j + 1] == '=') {
                size_t qs = j + 2, qe = qs;
                while (qe < len && e[qe] != ';' && !http_is_ows(e[qe]))
                    qe++;
                if (http_q_is_zero(e + qs, qe - qs))
                    ok = 0;
            }
        }
        if (http_ieq(e, k, "gzip") || http_ieq(e, k, "x-gzip"))
            gzip = ok;
        else if (k == 1 && e[0] == '*')
            star = ok;
    }
    req->accept_gzip = (uint8_t)(gzip >= 0 ? gzip == 1 : star == 1);
}

/* Content-Length: 1*DIGIT; every copy the same (RFC 9110 8.6, RFC 9112 6.3). */
static int http_content_length(tern_http_parser_t *p, const char *v, size_t n)
{
    if (n == 0)
        return 400;
    uint32_t val = 0;
    int big = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 400;
        if (!big) {
            val = val * 10u + (uint32_t)(v[i] - '0');
            if (val > TERN_HTTP_BODY_MAX)
                big = 1; /* saturate: the exact value no longer matters */
        }
    }
    if (p->flags & F_CLEN) {
        if (big != ((p->flags & F_CLEN_BIG) != 0) || (!big && val != p->req.content_length))
            return 400;
        return 0;
    }
    p->flags |= F_CLEN;
    if (big)
        p->flags |= F_CLEN_BIG;
    else
        p->req.content_length = val;
    return 0;
}

static int http_header_line(tern_http_parser_t *p, const char *l, size_t n)
{
    if (http_is_ows(l[0]))
        return 400; /* obsolete line folding (RFC 9112 5.2: reject) */
    size_t nl = http_field_name(l, n);
    if (nl == 0)
        return 400;
    const char *v = l + nl + 1;
    size_t vn = n - nl - 1;
    while (vn > 0 && http_is_ows(v[0])) {
        v++;
        vn--;
    }
    while (vn > 0 && http_is_ows(v[vn - 1]))
        vn--;
    tern_http_request_t *req = &p->req;
    if (http_ieq(l, nl, "host")) {
        if (p->flags & F_HOST)
            return 400; /* more than one Host (RFC 9112 3.2) */
        p->flags |= F_HOST;
        if (p->flags & F_ABS_HOST)
            return 0; /* the absolute-form authority wins (RFC 9112 3.2.2) */
        if (vn == 0)
            return 0; /* empty Host: allowed, nothing to keep */
        return http_host_value(req, v, vn);
    }
    if (http_ieq(l, nl, "content-length"))
        return http_content_length(p, v, vn);
    if (http_ieq(l, nl, "transfer-encoding")) {
        p->flags |= F_TE;
        return 0;
    }
    if (http_ieq(l, nl, "connection")) {
        const char *cur = v, *e;
        size_t len;
        while (http_list_next(&cur, v + vn, &e, &len)) {
            if (http_ieq(e, len, "close"))
                p->flags |= F_CLOSE;
            else if (http_ieq(e, len, "keep-alive"))
                p->flags |= F_KEEPALIVE;
        }
        return 0;
    }
    if (http_ieq(l, nl, "if-none-match")) {
        /* Too long to be one of ours: keep nothing, the file is sent whole. */
        if (vn <= TERN_HTTP_ETAG_MAX) {
            memcpy(req->if_none_match, v, vn);
            req->if_none_match[vn] = '\0';
        } else {
            req->if_none_match[0] = '\0';
        }
        return 0;
    }
    if (http_ieq(l, nl, "accept-encoding"))
        http_accept_encoding(req, v, vn);
    return 0;
}

/* The empty line: the head is complete. */
static int http_head_done(tern_http_parser_t *p)
{
    tern_http_request_t *req = &p->req;
    if (req->version_minor == 1 && !(p->flags & (F_HOST | F_ABS_HOST)))
        return 400; /* HTTP/1.1 needs Host (RFC 9112 3.2) */
    if (p->flags & F_TE)
        return 501; /* no request bodies, so no transfer codings (RFC 9112 6.1) */
    if (p->flags & F_CLEN_BIG)
        return 413;
    if (p->flags & F_CLOSE)
        req->keep_alive = 0;
    else
        req->keep_alive = req->version_minor == 1 ? 1u : (uint8_t)((p->flags & F_KEEPALIVE) != 0);
    p->body_left = req->content_length;
    return 0;
}

/* A complete line in p->line. Returns a status (nonzero) to stop. */
static int http_line(tern_http_parser_t *p)
{
    const char *l = p->line;
    size_t n = p->line_len;
    p->line_len = 0;
    if (p->state == ST_REQLINE) {
        if (n == 0)
            return ++p->empty_lines > MAX_LEADING_EMPTY_LINES ? 400 : 0;
        int rc = http_request_line(p, l, n);
        if (rc)
            return rc;
        p->state = ST_HEADER;
        return 0;
    }
    if (n == 0) {
        int rc = http_head_done(p);
        if (rc)
            return rc;
        p->state = ST_BODY;
        return 0;
    }
    if (++p->headers > TERN_HTTP_HEADER_COUNT_MAX)
        return 431;
    return http_header_line(p, l, n);
}

/* A header line outgrew the buffer: skip the rest if its value does not
 * matter, else 431. */
static int http_line_overflow(tern_http_parser_t *p)
{
    if (p->state == ST_REQLINE)
        return 414;
    if (http_is_ows(p->line[0]))
        return 400;
    size_t nl = http_field_name(p->line, p->line_len);
    if (nl == 0) {
        /* No colon yet: the name alone fills the buffer (or is malformed). */
        for (size_t i = 0; i < p->line_len; i++) {
            if (p->line[i] == ':' || !http_is_tchar((uint8_t)p->line[i]))
                return 400;
        }
        return 431;
    }
    if (http_field_interesting(p->line, nl))
        return 431;
    if (++p->headers > TERN_HTTP_HEADER_COUNT_MAX)
        return 431;
    p->line_len = 0;
    p->state = ST_SKIP;
    return 0;
}

int tern_http_parse(tern_http_parser_t *p, const uint8_t *data, size_t len, size_t *consumed)
{
    size_t i = 0;
    int rc = 0;
    if (p->state == ST_END) {
        if (consumed)
            *consumed = 0;
        return p->status;
    }
    while (i < len) {
        if (p->state == ST_BODY) {
            size_t take = len - i < p->body_left ? len - i : p->body_left;
            i += take;
            p->body_left -= (uint32_t)take;
            if (p->body_left == 0) {
                rc = TERN_HTTP_DONE;
                break;
            }
            continue;
        }
        uint8_t c = data[i++];
        if (++p->header_bytes > TERN_HTTP_HEADERS_MAX) {
            rc = p->state == ST_REQLINE ? 414 : 431;
            break;
        }
        if (p->flags & F_CR) {
            p->flags &= (uint8_t)~F_CR;
            if (c != '\n') {
                rc = 400; /* a bare CR (RFC 9112 2.2) */
                break;
            }
        }
        if (c == '\r') {
            p->flags |= F_CR;
            continue;
        }
        if (c == '\n') {
            /* CRLF, or a bare LF: tolerated (RFC 9112 2.2 MAY). */
            if (p->state == ST_SKIP) {
                p->state = ST_HEADER;
                continue;
            }
            rc = http_line(p);
            if (rc)
                break;
            if (p->state == ST_BODY && p->body_left == 0) {
                rc = TERN_HTTP_DONE;
                break;
            }
            continue;
        }
        /* NUL and controls other than HT are never valid in a head; HT only
         * in header lines. obs-text (>= 0x80) is let through to the checks of
         * each field. */
        if ((c < 0x20u && !(c == '\t' && p->state != ST_REQLINE)) || c == 0x7Fu) {
            rc = 400;
            break;
        }
        if (p->state == ST_SKIP)
            continue;
        size_t limit = TERN_HTTP_HEADER_LINE_MAX;
        if (p->state == ST_REQLINE)
            limit = TERN_HTTP_REQUEST_LINE_MAX;
        if (p->line_len >= limit) {
            rc = http_line_overflow(p);
            if (rc)
                break;
            continue; /* now skipping: this byte is part of the skipped value */
        }
        p->line[p->line_len++] = (char)c;
    }
    if (consumed)
        *consumed = i;
    if (rc) {
        if (rc != TERN_HTTP_DONE)
            p->req.keep_alive = 0;
        p->status = (int16_t)rc;
        p->state = ST_END;
    }
    return rc;
}
