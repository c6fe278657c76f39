/* libFuzzer target for the HTTP request parser.
 *
 * Input: byte 0 picks the chunk size (1..64), the rest is the byte stream of
 * one connection. The stream is fed in chunks, each copied to the start of a
 * heap block whose bytes after the chunk are poisoned, so ASan reports any
 * read past a chunk. Checked:
 *   - the parser allocates nothing (malloc hooks count calls while it runs);
 *   - chunked parsing gives the same results as parsing each request whole;
 *   - a complete request has a GET/HEAD method, a path that starts with '/',
 *     has no NUL inside and no "." or ".." segment, within the limits;
 *   - every other result is one of the documented status codes. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <sanitizer/allocator_interface.h>
#include <sanitizer/asan_interface.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tern/http.h"
#define FUZZ_NO_STACK
#include "fuzz_common.h"

static volatile int in_parser;
static volatile unsigned long parser_allocs;

static void fuzz_malloc_hook(const volatile void *ptr, size_t size)
{
    (void)ptr;
    (void)size;
    if (in_parser)
        parser_allocs++;
}

static void fuzz_free_hook(const volatile void *ptr)
{
    (void)ptr;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    __sanitizer_install_malloc_and_free_hooks(fuzz_malloc_hook, fuzz_free_hook);
    return 0;
}

static int guarded_parse(tern_http_parser_t *p, const uint8_t *d, size_t n, size_t *used)
{
    in_parser = 1;
    int rc = tern_http_parse(p, d, n, used);
    in_parser = 0;
    if (parser_allocs != 0)
        abort(); /* the parser must never allocate */
    if (*used > n)
        abort();
    return rc;
}

static void check_result(const tern_http_parser_t *p, int rc)
{
    switch (rc) {
    case TERN_HTTP_MORE:
        return;
    case TERN_HTTP_DONE: {
        const tern_http_request_t *r = &p->req;
        size_t n = strnlen(r->path, sizeof r->path);
        if ((r->method != TERN_HTTP_GET && r->method != TERN_HTTP_HEAD) || n == 0 || n > TERN_HTTP_PATH_MAX ||
            r->path[0] != '/')
            abort();
        size_t seg = 1;
        for (size_t i = 1; i <= n; i++) {
            if (i == n || r->path[i] == '/') {
                size_t len = i - seg;
                if ((len == 1 && r->path[seg] == '.') || (len == 2 && r->path[seg] == '.' && r->path[seg + 1] == '.'))
                    abort();
                seg = i + 1;
            }
            if (i < n && (r->path[i] == '\\' || (uint8_t)r->path[i] < 0x20u))
                abort();
        }
        if (strnlen(r->query, sizeof r->query) > TERN_HTTP_QUERY_MAX ||
            strnlen(r->host, sizeof r->host) > TERN_HTTP_HOST_MAX || r->content_length > TERN_HTTP_BODY_MAX)
            abort();
        return;
    }
    case 400: case 405: case 413: case 414: case 431: case 501: case 505:
        if (p->req.keep_alive)
            abort();
        return;
    default:
        abort();
    }
}

/* One heap block for every chunk: the chunk is copied to its start and the
 * bytes after it are poisoned, so a read past the chunk is reported as it
 * was with a block of the chunk's own size (before the start: the block's
 * left redzone), without a malloc and free per chunk (a 1-byte chunk size
 * made them most of this target's time). */
#define CHUNK_MAX 64u
static uint8_t *chunk_block;

static uint8_t *chunk_fill(const uint8_t *src, size_t n)
{
    if (chunk_block == NULL && (chunk_block = malloc(CHUNK_MAX)) == NULL)
        abort();
    ASAN_UNPOISON_MEMORY_REGION(chunk_block, CHUNK_MAX);
    memcpy(chunk_block, src, n);
    ASAN_POISON_MEMORY_REGION(chunk_block + n, CHUNK_MAX - n);
    return chunk_block;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tern_http_parser_t chunked, whole;
    if (size < 1)
        return 0;
    size_t chunk = (size_t)(data[0] % CHUNK_MAX) + 1u;
    const uint8_t *stream = data + 1;
    size_t len = size - 1;
    size_t off = 0;
    for (int req = 0; req < 8 && off <= len; req++) {
        /* Chunked. */
        tern_http_parser_init(&chunked);
        size_t pos = off;
        int rc = TERN_HTTP_MORE;
        while (pos < len) {
            size_t n = len - pos < chunk ? len - pos : chunk;
            uint8_t *piece = chunk_fill(stream + pos, n);
            size_t used = 0;
            rc = guarded_parse(&chunked, piece, n, &used);
            pos += used;
            if (rc != TERN_HTTP_MORE)
                break;
            if (used != n)
                abort();
        }
        check_result(&chunked, rc);
        /* Whole, from an exact-size copy of the rest of the stream. */
        tern_http_parser_init(&whole);
        size_t rest = len - off, used = 0;
        uint8_t *copy = malloc(rest ? rest : 1);
        if (copy == NULL)
            abort();
        memcpy(copy, stream + off, rest);
        int rw = guarded_parse(&whole, copy, rest, &used);
        free(copy);
        if (rw != rc || off + used != pos)
            abort();
        if (rc == TERN_HTTP_DONE && memcmp(&whole.req, &chunked.req, sizeof whole.req) != 0)
            abort();
        if (rc != TERN_HTTP_DONE || pos == off)
            break;
        off = pos; /* the next pipelined request */
    }
    return 0;
}
