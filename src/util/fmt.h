/* Tiny text formatting for reports, without libc's printf (freestanding). */
#ifndef TERN_FMT_H
#define TERN_FMT_H

#include <stddef.h>
#include <stdint.h>
#include "tern/port.h"

/* Write a NUL-terminated string. */
void fmt_str(tern_writer_fn write, void *ctx, const char *s);
/* Write an unsigned decimal, right-aligned in width columns (0: no padding). */
void fmt_uint(tern_writer_fn write, void *ctx, uint64_t v, unsigned width);
/* Write a string left-aligned in width columns. */
void fmt_str_pad(tern_writer_fn write, void *ctx, const char *s, unsigned width);
/* Write "key":value for JSON (with a leading comma unless first). */
void fmt_json_uint(tern_writer_fn write, void *ctx, const char *key, uint64_t v, int first);
/* Decimal digits of v into buf (at least 21 bytes); returns the length. */
unsigned fmt_u64(char *buf, uint64_t v);

#endif
