/* The benchmark applications (bench_apps.h) on tern.
 *
 * Two implementations of the same interface, one linked into each server:
 *   apps_tern.c      tern's sockets API (include/tern/socket.h): one
 *                    application thread, non-blocking sockets and
 *                    tern_socket_poll, as kernel-server does with epoll
 *                    (tern-server)
 *   apps_tern_raw.c  tern's raw TCP API (include/tern/tcp.h): callbacks in
 *                    the stack thread, as apps_lwip.c on lwIP's raw API
 *                    (tern-server-raw)
 * Host code (bench/), not part of the core. */
#ifndef BENCH_APPS_TERN_H
#define BENCH_APPS_TERN_H

#include <stdint.h>
#include "bench_apps.h"
#include "tern/stack.h"
#include "tern_posix.h"

typedef struct bench_tern_cfg {
    uint32_t rcvbuf, sndbuf; /* stream ring sizes per connection (0: tern's defaults) */
    unsigned backlog;        /* listen backlog */
} bench_tern_cfg_t;

/* Listen on the three ports and start serving. Call without the core lock.
 * 0 or -1 (printed why). */
int bench_tern_apps_start(tern_stack_t *stack, tern_posix_t *px, bench_counters_t *cnt, const bench_tern_cfg_t *cfg);
/* Stop serving (joins the application thread, if any). */
void bench_tern_apps_stop(void);
/* Which API this server uses: "sockets" or "raw". */
extern const char bench_tern_api[];

#endif
