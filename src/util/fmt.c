/* Tiny text formatting for reports, without libc's printf (freestanding). */
#include "util/fmt.h"

#include <string.h>

unsigned fmt_u64(char *buf, uint64_t v)
{
    char tmp[21];
    unsigned n = 0;
    do {
        tmp[n++] = (char)('0' + (unsigned)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    for (unsigned i = 0; i < n; i++)
        buf[i] = tmp[n - 1u - i];
    buf[n] = '\0';
    return n;
}

void fmt_str(tern_writer_fn write, void *ctx, const char *s)
{
    write(ctx, s, (unsigned)strlen(s));
}

static void fmt_spaces(tern_writer_fn write, void *ctx, unsigned n)
{
    static const char spaces[] = "                                ";
    while (n > 0u) {
        unsigned k = n < sizeof spaces - 1u ? n : (unsigned)(sizeof spaces - 1u);
        write(ctx, spaces, k);
        n -= k;
    }
}

void fmt_uint(tern_writer_fn write, void *ctx, uint64_t v, unsigned width)
{
    char buf[21];
    unsigned n = fmt_u64(buf, v);
    if (width > n)
        fmt_spaces(write, ctx, width - n);
    write(ctx, buf, n);
}

void fmt_str_pad(tern_writer_fn write, void *ctx, const char *s, unsigned width)
{
    unsigned n = (unsigned)strlen(s);
    write(ctx, s, n);
    if (width > n)
        fmt_spaces(write, ctx, width - n);
}

void fmt_json_uint(tern_writer_fn write, void *ctx, const char *key, uint64_t v, int first)
{
    if (!first)
        write(ctx, ",", 1);
    write(ctx, "\"", 1);
    fmt_str(write, ctx, key);
    write(ctx, "\":", 2);
    fmt_uint(write, ctx, v, 0);
}
