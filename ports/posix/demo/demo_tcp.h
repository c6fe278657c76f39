/* tern-demo's TCP part: the classic services (apps/services: echo 7,
 * discard 9, chargen 19 on TCP and UDP, on the sockets API) run by a thread
 * of their own, and a client mode (--tcp-client) on the raw API that sends
 * a pattern to an echo server and checks what comes back. */
#ifndef TERN_DEMO_TCP_H
#define TERN_DEMO_TCP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "tern/stack.h"
#include "tern_posix.h"
#include "tern/services.h"

#define DEMO_TCP_PATTERN_LEN 251u /* byte i of a pattern stream: (i % 251) * 7 + 3 */

/* --tcp-* options */
typedef struct demo_tcp_opts {
    uint32_t buf;          /* --tcp-buf: ring sizes of services' connections and the client (0: default) */
    uint64_t heap;         /* --tcp-heap: a second heap region (bytes; default 4 MB, 0: none) */
    int heap_set;
    unsigned conns;        /* --tcp-conns: TCP connections per service (0: TERN_SOCKET_SERVICE_CONNS) */
    int have_client;       /* --tcp-client ADDR:PORT:BYTES */
    tern_ip4_t client_addr;
    uint16_t client_port;
    uint64_t client_bytes;
} demo_tcp_opts_t;

typedef struct demo_tcp {
    tern_stack_t *stack;
    /* services */
    tern_services_t svc;
    pthread_t thread;
    atomic_int stop;
    int running;
    /* client */
    tern_tcp_pcb_t *client;
    uint32_t client_buf;
    uint64_t bytes, sent, received, mismatches;
    int done, error, connected;
    uint32_t started_ms, finished_ms;
    int wake_fd;          /* eventfd written when the client finishes (-1: none) */
    int client_active;
} demo_tcp_t;

/* Parse a --tcp-* option (name without dashes); 1 taken, 0 not ours, -1 bad. */
int demo_tcp_option(demo_tcp_opts_t *o, const char *name, const char *arg);
/* The heap region, then the services and their thread (core lock NOT held). */
int demo_tcp_start(demo_tcp_t *t, tern_stack_t *stack, tern_posix_t *px, const demo_tcp_opts_t *o);
/* Stop the thread and close the services (core lock NOT held). */
void demo_tcp_stop(demo_tcp_t *t);
/* The client, when --tcp-client asked for it (core lock held): 1 started,
 * 0 not asked, -1 error. */
int demo_tcp_client_start(demo_tcp_t *t, const demo_tcp_opts_t *o, int wake_fd);
/* When the client has finished: print its summary and return 0 (success)
 * or 1; -1 while it still runs (takes the core lock itself). */
int demo_tcp_client_poll(demo_tcp_t *t, tern_posix_t *px);
/* netstat-style listing on stdout (core lock NOT held: takes it through the
 * socket calls; the raw TCP list under the lock). */
void demo_tcp_report(demo_tcp_t *t, tern_posix_t *px);

#endif
