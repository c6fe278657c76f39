/* /api/stats: one JSON document with everything the dashboard shows.
 *
 * tern_stats_json() writes, through a writer, a single JSON object:
 * time, build configuration, heap, the ledger (categories and owners),
 * network buffers, interfaces, the ARP cache, every protocol counter, and
 * the "sockets" and "tcp" sections. The schema is in docs/dashboard.md.
 *
 * Call it with the core lock held (from a raw-API callback, a service poll,
 * or a thread holding the port's lock): it reads live stack state. It
 * allocates nothing; the document is streamed in small writes.
 *
 * Extension points:
 *   - A layer of the stack (sockets, TCP) adds a built-in section by giving
 *     apps/http/http_stats.c (part of the HTTP application) one row in its
 *     section table: a name and a function writing one JSON value, from the
 *     layer's public API (see stats_sections[] there).
 *   - An application or driver adds its own sections at run time with a
 *     list of tern_stats_section_t passed to tern_stats_json_ex() (the HTTP
 *     server's own figures, a driver's statistics). */
#ifndef TERN_STATS_H
#define TERN_STATS_H

#include "tern/port.h"

struct tern_stack;

/* Version of the document's schema: bumped when a field changes meaning or
 * disappears (adding fields does not bump it). */
#define TERN_STATS_SCHEMA 2

/* Writes one complete JSON value (object, array, number...) for a section. */
typedef void (*tern_stats_fn)(const struct tern_stack *stack, void *arg, tern_writer_fn write, void *ctx);

/* An extra section, owned by the caller: "name": value, after the built-in
 * ones. name must be a plain JSON key (no quotes or backslashes) and must
 * not repeat a built-in section's name. */
typedef struct tern_stats_section {
    const struct tern_stats_section *next;
    const char *name;
    tern_stats_fn fn;
    void *arg;
} tern_stats_section_t;

void tern_stats_json(const struct tern_stack *stack, tern_writer_fn write, void *ctx);
void tern_stats_json_ex(const struct tern_stack *stack, const tern_stats_section_t *extra, tern_writer_fn write,
                        void *ctx);

/* The "plan" section (issue #16): the planner's worst case per category
 * for this build and the workload arg (a const tern_plan_workload_t *, the
 * application's), beside the ledger's live figures on the dashboard. Add
 * it as an extra section: {next, "plan", tern_stats_plan_json, &workload}. */
void tern_stats_plan_json(const struct tern_stack *stack, void *arg, tern_writer_fn write, void *ctx);

/* Helpers for section writers: a JSON string (escaped), "key":unsigned, and
 * an IPv4 address as a dotted string. */
void tern_stats_write_string(tern_writer_fn write, void *ctx, const char *s);
void tern_stats_write_uint(tern_writer_fn write, void *ctx, const char *key, uint64_t v, int first);
void tern_stats_write_ip4(tern_writer_fn write, void *ctx, uint32_t addr);

#endif
