/* The benchmark applications (bench_apps.h) on lwIP's raw TCP API. */
#ifndef BENCH_APPS_LWIP_H
#define BENCH_APPS_LWIP_H

#include "bench_apps.h"

/* Listen on the three ports. Call with the core lock held. The per
 * connection state comes from a fixed pool of max_conns entries outside
 * lwIP's memory (the RAM budget measures the stack, not the application);
 * when the pool is empty a new connection is refused (aborted). 0 or -1. */
int bench_lwip_apps_start(bench_counters_t *cnt, unsigned max_conns);

#endif
