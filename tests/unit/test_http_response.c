/* HTTP responses and the compiled-in file image: heads byte for byte, error
 * bodies, ETags and 304, gzip selection, HEAD, and the image against the
 * files in apps/http/www. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/http.h"
#include "tern_test.h"

static size_t head_of(const tern_http_response_t *r, char *buf, size_t cap)
{
    size_t n = tern_http_format_head(r, buf, cap);
    if (n < cap)
        buf[n] = '\0';
    return n;
}

static void test_format_head_exact(void **state)
{
    (void)state;
    tern_http_response_t r;
    memset(&r, 0, sizeof r);
    r.status = 200;
    r.content_type = "text/css; charset=utf-8";
    r.etag = "\"0011223344556677-gz\"";
    r.cache_control = "no-cache";
    r.content_length = 1234;
    r.gzip = 1;
    r.vary = 1;
    r.keep_alive = 1;
    char buf[512];
    size_t n = head_of(&r, buf, sizeof buf);
    const char *want = "HTTP/1.1 200 OK\r\n"
                       "Content-Type: text/css; charset=utf-8\r\n"
                       "Content-Length: 1234\r\n"
                       "Content-Encoding: gzip\r\n"
                       "Vary: Accept-Encoding\r\n"
                       "ETag: \"0011223344556677-gz\"\r\n"
                       "Cache-Control: no-cache\r\n"
                       "Connection: keep-alive\r\n"
                       "\r\n";
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    /* Too small a buffer: 0, and nothing written past its end. */
    for (size_t cap = 0; cap < n; cap++) {
        memset(buf, 'Z', sizeof buf);
        assert_int_equal(tern_http_format_head(&r, buf, cap), 0);
        for (size_t i = cap; i < sizeof buf; i++)
            assert_int_equal(buf[i], 'Z');
    }
    assert_int_equal(tern_http_format_head(&r, buf, n), n); /* exactly enough */
}

static void test_error_responses(void **state)
{
    (void)state;
    static const int codes[] = {400, 404, 405, 408, 413, 414, 431, 500, 501, 503, 505};
    char buf[512];
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        tern_http_response_t r;
        tern_http_error_response(&r, codes[i], 1, 0);
        assert_int_equal(r.status, codes[i]);
        assert_int_equal(r.body_len, r.content_length);
        assert_int_equal(r.content_length, strlen((const char *)r.body));
        char code[8];
        snprintf(code, sizeof code, "%d", codes[i]);
        assert_memory_equal(r.body, code, 3); /* the body says the code */
        assert_int_equal(r.keep_alive, codes[i] == 404); /* only a 404 keeps the connection */
        head_of(&r, buf, sizeof buf);
        char line[96];
        snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", codes[i], tern_http_reason(codes[i]));
        assert_memory_equal(buf, line, strlen(line));
        assert_non_null(strstr(buf, codes[i] == 404 ? "Connection: keep-alive\r\n" : "Connection: close\r\n"));
        assert_true((strstr(buf, "Allow: GET, HEAD\r\n") != NULL) == (codes[i] == 405));
        assert_string_not_equal(tern_http_reason(codes[i]), "Unknown");
        /* HEAD: the same Content-Length, no body bytes. */
        tern_http_response_t h;
        tern_http_error_response(&h, codes[i], 0, 1);
        assert_int_equal(h.body_len, 0);
        assert_int_equal(h.content_length, r.content_length);
        assert_int_equal(h.keep_alive, 0);
    }
    assert_string_equal(tern_http_reason(299), "Unknown");
}

static void test_etag_match(void **state)
{
    (void)state;
    const char *tag = "\"abc\"";
    assert_true(tern_http_etag_match("\"abc\"", tag));
    assert_true(tern_http_etag_match("W/\"abc\"", tag)); /* weak comparison */
    assert_true(tern_http_etag_match("\"x\", \"abc\"", tag));
    assert_true(tern_http_etag_match("\"x\",W/\"abc\"", tag));
    assert_true(tern_http_etag_match("*", tag));
    assert_false(tern_http_etag_match("\"abcd\"", tag));
    assert_false(tern_http_etag_match("\"ab\"", tag));
    assert_false(tern_http_etag_match("abc", tag));
    assert_false(tern_http_etag_match("\"abc", tag));
    assert_false(tern_http_etag_match("", tag));
    assert_false(tern_http_etag_match("\"x\", garbage, \"abc\"", tag)); /* malformed list: no match */
    assert_true(tern_http_etag_match("W/\"abc\"", "W/\"abc\""));
    assert_false(tern_http_etag_match(NULL, tag));
}

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(tern_http_content_type("/index.html"), "text/html; charset=utf-8");
    assert_string_equal(tern_http_content_type("/a/style.css"), "text/css; charset=utf-8");
    assert_string_equal(tern_http_content_type("/app.js"), "text/javascript; charset=utf-8");
    assert_string_equal(tern_http_content_type("/api/x.json"), "application/json");
    assert_string_equal(tern_http_content_type("/logo.svg"), "image/svg+xml");
    assert_string_equal(tern_http_content_type("/p.png"), "image/png");
    assert_string_equal(tern_http_content_type("/favicon.ico"), "image/x-icon");
    assert_string_equal(tern_http_content_type("/robots.txt"), "text/plain; charset=utf-8");
    assert_string_equal(tern_http_content_type("/x.tar.gz"), "application/octet-stream");
    assert_string_equal(tern_http_content_type("/noext"), "application/octet-stream");
    assert_string_equal(tern_http_content_type("/dir.html/file"), "application/octet-stream");
    assert_string_equal(tern_http_content_type("/x.HTML"), "application/octet-stream");
}

/* A fixed little image, independent of apps/http/www. */
static const uint8_t d_a[] = "body of a";
static const uint8_t d_idx[] = "index";
static const uint8_t g_idx[] = {0x1f, 0x8b, 0x08, 0x00};
static const tern_http_file_t fixed_files[] = {
    {"/a.txt", "text/plain; charset=utf-8", "\"aaaa\"", NULL, d_a, NULL, 9, 0},
    {"/index.html", "text/html; charset=utf-8", "\"iiii\"", "\"iiii-gz\"", d_idx, g_idx, 5, 4},
    {"/sub/index.html", "text/html; charset=utf-8", "\"ssss\"", NULL, d_idx, NULL, 5, 0},
};
static const tern_http_fs_t fixed = {fixed_files, 3};

static tern_http_request_t request(const char *path, int method, int gzip, const char *inm)
{
    tern_http_request_t q;
    memset(&q, 0, sizeof q);
    snprintf(q.path, sizeof q.path, "%s", path);
    snprintf(q.if_none_match, sizeof q.if_none_match, "%s", inm ? inm : "");
    q.method = (uint8_t)method;
    q.accept_gzip = (uint8_t)gzip;
    q.keep_alive = 1;
    q.version_minor = 1;
    return q;
}

static void test_fs_find(void **state)
{
    (void)state;
    assert_ptr_equal(tern_http_fs_find(&fixed, "/"), &fixed_files[1]);
    assert_ptr_equal(tern_http_fs_find(&fixed, "/index.html"), &fixed_files[1]);
    assert_ptr_equal(tern_http_fs_find(&fixed, "/a.txt"), &fixed_files[0]);
    assert_ptr_equal(tern_http_fs_find(&fixed, "/sub/"), &fixed_files[2]);
    assert_null(tern_http_fs_find(&fixed, "/sub"));
    assert_null(tern_http_fs_find(&fixed, "/a.tx"));
    assert_null(tern_http_fs_find(&fixed, "/a.txtx"));
    assert_null(tern_http_fs_find(&fixed, "/zzz"));
    assert_null(tern_http_fs_find(&fixed, "/0"));
    assert_null(tern_http_fs_find(&fixed, "a.txt"));
    assert_null(tern_http_fs_find(&fixed, ""));
    assert_null(tern_http_fs_find(NULL, "/"));
    const tern_http_fs_t empty = {NULL, 0};
    assert_null(tern_http_fs_find(&empty, "/"));
}

static void test_file_response(void **state)
{
    (void)state;
    tern_http_response_t r;
    char buf[512];
    tern_http_request_t q = request("/", TERN_HTTP_GET, 0, NULL);
    tern_http_file_response(&r, &fixed, &q);
    assert_int_equal(r.status, 200);
    assert_ptr_equal(r.body, d_idx);
    assert_int_equal(r.body_len, 5);
    assert_int_equal(r.content_length, 5);
    assert_string_equal(r.etag, "\"iiii\"");
    assert_int_equal(r.gzip, 0);
    assert_int_equal(r.vary, 1);
    assert_int_equal(r.keep_alive, 1);
    /* The client takes gzip: the gzip variant, its own ETag. */
    q = request("/", TERN_HTTP_GET, 1, NULL);
    tern_http_file_response(&r, &fixed, &q);
    assert_ptr_equal(r.body, g_idx);
    assert_int_equal(r.content_length, 4);
    assert_int_equal(r.gzip, 1);
    assert_string_equal(r.etag, "\"iiii-gz\"");
    head_of(&r, buf, sizeof buf);
    assert_non_null(strstr(buf, "Content-Encoding: gzip\r\n"));
    /* No gzip variant: identity even when gzip is accepted, no Vary. */
    q = request("/a.txt", TERN_HTTP_GET, 1, NULL);
    tern_http_file_response(&r, &fixed, &q);
    assert_ptr_equal(r.body, d_a);
    assert_int_equal(r.gzip, 0);
    assert_int_equal(r.vary, 0);
    /* HEAD: same head, no body bytes. */
    q = request("/a.txt", TERN_HTTP_HEAD, 0, NULL);
    tern_http_file_response(&r, &fixed, &q);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    assert_int_equal(r.content_length, 9);
    /* 304 for a matching tag, of the variant that would be sent. */
    q = request("/", TERN_HTTP_GET, 0, "W/\"iiii\"");
    tern_http_file_response(&r, &fixed, &q);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body_len, 0);
    assert_string_equal(r.etag, "\"iiii\"");
    head_of(&r, buf, sizeof buf);
    assert_null(strstr(buf, "Content-Length"));
    assert_non_null(strstr(buf, "ETag: \"iiii\"\r\n"));
    assert_memory_equal(buf, "HTTP/1.1 304 Not Modified\r\n", 27);
    q = request("/", TERN_HTTP_GET, 1, "\"iiii\""); /* identity tag, gzip wanted: full body */
    tern_http_file_response(&r, &fixed, &q);
    assert_int_equal(r.status, 200);
    q = request("/", TERN_HTTP_GET, 1, "\"x\", \"iiii-gz\"");
    tern_http_file_response(&r, &fixed, &q);
    assert_int_equal(r.status, 304);
    q = request("/a.txt", TERN_HTTP_HEAD, 0, "*");
    tern_http_file_response(&r, &fixed, &q);
    assert_int_equal(r.status, 304);
    /* Missing file: 404 that may keep the connection; HEAD without body. */
    q = request("/missing", TERN_HTTP_GET, 0, NULL);
    tern_http_file_response(&r, &fixed, &q);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.keep_alive, 1);
    assert_true(r.body_len > 0);
    q = request("/missing", TERN_HTTP_HEAD, 0, NULL);
    tern_http_file_response(&r, &fixed, &q);
    assert_int_equal(r.body_len, 0);
}

/* ---- the generated image ---------------------------------------------------- */

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* apps/http/www from this file's path (CMake compiles it by absolute path). */
static void www_path(char *out, size_t cap, const char *rel)
{
    const char *me = __FILE__;
    const char *cut = strstr(me, "tests/unit/test_http_response.c");
    assert_non_null(cut);
    snprintf(out, cap, "%.*sapps/http/www%s", (int)(cut - me), me, rel);
}

static void test_generated_image(void **state)
{
    (void)state;
    const tern_http_fs_t *fs = &tern_http_fs_image;
    assert_true(fs->count >= 3); /* index.html, app.js, style.css at least */
    assert_non_null(tern_http_fs_find(fs, "/"));
    assert_non_null(tern_http_fs_find(fs, "/app.js"));
    assert_non_null(tern_http_fs_find(fs, "/style.css"));
    assert_ptr_equal(tern_http_fs_find(fs, "/"), tern_http_fs_find(fs, "/index.html"));
    for (size_t i = 0; i < fs->count; i++) {
        const tern_http_file_t *f = &fs->files[i];
        if (i > 0)
            assert_true(strcmp(fs->files[i - 1].path, f->path) < 0); /* sorted, unique */
        assert_ptr_equal(tern_http_fs_find(fs, f->path), f);
        assert_string_equal(f->content_type, tern_http_content_type(f->path));
        /* ETag: quoted 16 hex digits; unique. */
        assert_int_equal(strlen(f->etag), 18);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(fs->files[j].etag, f->etag);
        /* Same bytes as the file on disk. */
        char path[1024];
        www_path(path, sizeof path, f->path);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        uint8_t *disk = malloc(f->size + 1u);
        assert_non_null(disk);
        size_t got = fread(disk, 1, f->size + 1u, fp);
        fclose(fp);
        assert_int_equal(got, f->size);
        assert_memory_equal(disk, f->data, f->size);
        free(disk);
        if (f->gzip != NULL) {
            /* Smaller, a gzip member, and its trailer (CRC-32 and length of
             * the original, RFC 1952) matches the identity bytes. */
            assert_true(f->gzip_size < f->size);
            assert_true(f->gzip_size >= 18);
            assert_int_equal(f->gzip[0], 0x1f);
            assert_int_equal(f->gzip[1], 0x8b);
            assert_int_equal(f->gzip[2], 8);
            assert_int_equal(le32(f->gzip + f->gzip_size - 8), crc32_ieee(f->data, f->size));
            assert_int_equal(le32(f->gzip + f->gzip_size - 4), f->size);
            assert_non_null(f->etag_gzip);
            assert_string_not_equal(f->etag_gzip, f->etag);
        } else {
            assert_null(f->etag_gzip);
            assert_int_equal(f->gzip_size, 0);
        }
    }
    /* The dashboard's text files compress: they must have a gzip variant. */
    const tern_http_file_t *js = tern_http_fs_find(fs, "/app.js");
    assert_non_null(js->gzip);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_head_exact),
        cmocka_unit_test(test_error_responses),
        cmocka_unit_test(test_etag_match),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_fs_find),
        cmocka_unit_test(test_file_response),
        cmocka_unit_test(test_generated_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
