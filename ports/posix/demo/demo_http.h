/* tern-demo's HTTP part: the dashboard server (apps/http, on the sockets
 * API) in a thread of its own that waits on the server's sockets and calls
 * tern_http_server_poll(), in TAP mode on tern's port 80 (so it can be
 * loaded and stressed from a network namespace: tests/system/http_*.sh)
 * and in slirp mode behind the host forward.
 *
 * TERN_DEMO_HTTP_TIMEOUTS=HEADER_MS:IDLE_MS shortens the server's request
 * header and idle timeouts (tests; 0 keeps the built-in value). */
#ifndef TERN_DEMO_HTTP_H
#define TERN_DEMO_HTTP_H

#include <pthread.h>
#include <stdatomic.h>
#include "tern/http.h"
#include "tern/stats.h"

struct tern_posix;

typedef struct demo_http {
    tern_http_server_t srv;
    tern_stats_section_t section; /* "http" in /api/stats, then the caller's sections */
    pthread_t thread;
    atomic_int stop;
    int started;
} demo_http_t;

/* Start the server on port 80 and its thread; no lock held. extra: more
 * /api/stats sections after "http" (may be NULL). Prints one line. */
int demo_http_start_ex(demo_http_t *h, tern_stack_t *stack, const tern_stats_section_t *extra);
/* The same without extra sections (TAP mode). px is unused: kept for the
 * call in tern_demo.c. */
int demo_http_start(demo_http_t *h, tern_stack_t *stack, struct tern_posix *px);
/* Stop the thread, then the server (open connections are reset); no lock
 * held. Prints the server's figures. Idempotent. */
void demo_http_stop(demo_http_t *h);

#endif
