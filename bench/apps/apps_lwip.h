/* The benchmark applications (bench_apps.h) on lwIP: once on its sockets API
 * (apps_lwip_sock.c, the comparison the harness makes by default) and once
 * on its raw TCP API (apps_lwip.c), and on its sockets API with a thread
 * per blocking connection (apps_lwip_thr.c). lwip-server --api picks one. */
#ifndef BENCH_APPS_LWIP_H
#define BENCH_APPS_LWIP_H

#include "bench_apps.h"

/* Raw API. Listen on the three ports. Call with the core lock held. The per
 * connection state comes from a fixed pool of max_conns entries outside
 * lwIP's memory (the RAM budget measures the stack, not the application);
 * when the pool is empty a new connection is refused (aborted). 0 or -1. */
int bench_lwip_apps_start(bench_counters_t *cnt, unsigned max_conns);

/* Sockets API (lwip_socket, lwip_poll, lwip_recv, lwip_send, ...): listen on
 * the three ports and start the application thread. Call WITHOUT the core
 * lock (every lwip_* call takes it). The per connection state is a table of
 * max_conns entries by socket number, allocated here (call it before the
 * RAM budget is armed). 0 or -1. */
int bench_lwip_sock_apps_start(bench_counters_t *cnt, unsigned max_conns);
/* Stop and join the application thread (without the core lock). */
void bench_lwip_sock_apps_stop(void);

/* Sockets API, the fast shape (apps_lwip_thr.c): blocking sockets, one
 * accept thread per port and one thread per connection (at most
 * max_conns; more are refused). Call WITHOUT the core lock. The threads run
 * until the process exits. 0 or -1. */
int bench_lwip_thr_apps_start(bench_counters_t *cnt, unsigned max_conns);

#endif
