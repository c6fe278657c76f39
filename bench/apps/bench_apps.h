/* The benchmark applications, shared by every stack's server program.
 *
 * Three services, written once per stack and API (apps_kernel.c; lwIP's
 * sockets API apps_lwip_sock.c and raw API apps_lwip.c; tern's sockets API
 * apps_tern.c and raw API apps_tern_raw.c) on top of what is here, so that
 * each stack serves byte-identical traffic:
 *   discard (port 9, RFC 863)   read and drop everything; close on EOF
 *   chargen (port 19, RFC 864)  send a fixed pattern until the peer leaves
 *   http    (port 80)           a fixed small page for every request;
 *                               keep-alive unless "Connection: close"
 * Header-only (static functions) so each server compiles it with its own
 * flags; host code, not part of the core. */
#ifndef BENCH_APPS_H
#define BENCH_APPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BENCH_PORT_DISCARD 9
#define BENCH_PORT_CHARGEN 19
#define BENCH_PORT_HTTP 80

/* The chargen pattern: RFC 864's rotating 72-character lines of printable
 * ASCII, precomputed over a whole number of lines (95 line starts, so the
 * pattern repeats exactly after BENCH_CHARGEN_LEN bytes). */
#define BENCH_CHARGEN_LINE 74u /* 72 characters + CR LF */
#define BENCH_CHARGEN_LEN (95u * BENCH_CHARGEN_LINE)

/* What the chargen servers hand their stack per send call: a whole 64 KB
 * window (as a blocking writer with a thread per connection does), not one
 * 7030-byte cycle. Each call's sub-MSS remainder (7030 = 4 x 1448 + 1238)
 * otherwise leaves a short PSH segment whenever it goes out with nothing
 * in flight, and Linux acknowledges each one at once (bench/results/
 * notes.md, the ACK ratio). Pattern buffers are BENCH_CHARGEN_BUF bytes:
 * any offset in the cycle starts a contiguous span of this length. */
#define BENCH_CHARGEN_SPAN 65536u
#define BENCH_CHARGEN_BUF (BENCH_CHARGEN_SPAN + BENCH_CHARGEN_LEN)

static inline void bench_chargen_fill(uint8_t *buf)
{
    for (unsigned line = 0; line < 95u; line++) {
        uint8_t *p = buf + line * BENCH_CHARGEN_LINE;
        for (unsigned i = 0; i < 72u; i++)
            p[i] = (uint8_t)(' ' + (line + i) % 95u);
        p[72] = '\r';
        p[73] = '\n';
    }
}

/* The cycle, then repeated up to len bytes (len >= one cycle). */
static inline void bench_chargen_fill_n(uint8_t *buf, size_t len)
{
    bench_chargen_fill(buf);
    for (size_t i = BENCH_CHARGEN_LEN; i < len; i++)
        buf[i] = buf[i - BENCH_CHARGEN_LEN];
}

/* The page: 128 bytes of body, the same from every stack. */
#define BENCH_HTTP_BODY                                                      \
    "<!doctype html><title>tern bench</title><p>A fixed small page from th" \
    "e benchmark HTTP responder. Same bytes on every stack.</p>\n"
#define BENCH_HTTP_HEAD "HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/html\r\nContent-Length: "
#define BENCH_HTTP_KEEP                                                            \
    BENCH_HTTP_HEAD "128\r\n\r\n" BENCH_HTTP_BODY
#define BENCH_HTTP_CLOSE                                                           \
    BENCH_HTTP_HEAD "128\r\nConnection: close\r\n\r\n" BENCH_HTTP_BODY

static const char bench_http_keep[] = BENCH_HTTP_KEEP;
static const char bench_http_close[] = BENCH_HTTP_CLOSE;
#define BENCH_HTTP_KEEP_LEN (sizeof(bench_http_keep) - 1u)
#define BENCH_HTTP_CLOSE_LEN (sizeof(bench_http_close) - 1u)
_Static_assert(sizeof(BENCH_HTTP_BODY) - 1u == 128u, "Content-Length says 128");

/* Request scanner: counts requests (a header block ends at CR LF CR LF) and
 * notices a "Connection: close" header, across any split of the bytes.
 * Any request gets the page (the method and path are not looked at);
 * bodies are not supported (GET only). */
typedef struct bench_http_scan {
    uint8_t crlf;      /* how much of "\r\n\r\n" has been seen */
    uint8_t line_pos;  /* position in the current header line (capped) */
    uint8_t match;     /* the line still matches "connection: close" so far */
    uint8_t close;     /* this request asked for close */
} bench_http_scan_t;

#define BENCH_HTTP_CONN_CLOSE "connection: close"

static inline char bench_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Feed len bytes; returns complete requests found. *close_after is set
 * when one of them asked for Connection: close (answer it, then close). */
static inline unsigned bench_http_feed(bench_http_scan_t *s, const uint8_t *data, size_t len, int *close_after)
{
    static const char want[] = BENCH_HTTP_CONN_CLOSE;
    unsigned done = 0;
    for (size_t i = 0; i < len; i++) {
        char c = (char)data[i];
        if (c == '\r' || c == '\n') {
            if (s->match && s->line_pos == sizeof(want) - 1u)
                s->close = 1;
            s->line_pos = 0;
            s->match = 1;
            static const char end[] = "\r\n\r\n";
            s->crlf = (c == end[s->crlf]) ? (uint8_t)(s->crlf + 1u) : (c == '\r' ? 1u : 0u);
            if (s->crlf == 4u) {
                done++;
                if (s->close)
                    *close_after = 1;
                s->crlf = 0;
                s->close = 0;
            }
            continue;
        }
        s->crlf = 0;
        if (s->line_pos < sizeof(want) - 1u) {
            if (bench_lower(c) != want[s->line_pos])
                s->match = 0;
        } else if (c != ' ' && c != '\t') {
            s->match = 0; /* "connection: closed" or more tokens: not ours */
        }
        if (s->line_pos < 255u)
            s->line_pos++;
    }
    return done;
}

static inline void bench_http_init(bench_http_scan_t *s)
{
    memset(s, 0, sizeof(*s));
    s->match = 1;
}

/* Counters every server prints as "stat NAME VALUE" lines (the harness reads
 * them): on SIGUSR1 and at exit. */
typedef struct bench_counters {
    uint64_t accepted;   /* connections accepted */
    uint64_t current;    /* established now */
    uint64_t peak;       /* most established at once */
    uint64_t refused;    /* accept failures and resets for lack of memory */
    uint64_t rx_bytes;   /* discard */
    uint64_t tx_bytes;   /* chargen */
    uint64_t requests;   /* http */
} bench_counters_t;

static inline void bench_conn_up(bench_counters_t *c)
{
    c->accepted++;
    c->current++;
    if (c->current > c->peak)
        c->peak = c->current;
}

static inline void bench_conn_down(bench_counters_t *c)
{
    if (c->current > 0)
        c->current--;
}

static inline void bench_counters_print(const bench_counters_t *c, FILE *f)
{
    fprintf(f,
            "stat accepted %llu\nstat current %llu\nstat peak %llu\nstat refused %llu\n"
            "stat rx_bytes %llu\nstat tx_bytes %llu\nstat requests %llu\n",
            (unsigned long long)c->accepted, (unsigned long long)c->current, (unsigned long long)c->peak,
            (unsigned long long)c->refused, (unsigned long long)c->rx_bytes, (unsigned long long)c->tx_bytes,
            (unsigned long long)c->requests);
    fflush(f);
}

#endif
