/* tern-demo's TCP part: the classic services (apps/services: echo 7,
 * discard 9, chargen 19 on TCP and UDP, on the sockets API) run by a thread
 * of their own, and a client mode (--tcp-client) on the sockets API, in a
 * thread of its own too: --tcp-conns connections at once, each sending a
 * pattern to an echo server and checking what comes back byte for byte.
 *
 * tern-demo links tern_core_demo (top-level CMakeLists.txt): TERN_SOCKET_MAX
 * 128 and TERN_SOCKET_SERVICE_CONNS 64, so 64 connections per service or
 * 64 client connections fit at once. */
#ifndef TERN_DEMO_TCP_H
#define TERN_DEMO_TCP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "tern/stack.h"
#include "tern_posix.h"
#include "tern/services.h"

#define DEMO_TCP_PATTERN_LEN 251u /* byte i of connection c's stream: ((i + 37 c) % 251) * 7 + 3 */
#define DEMO_TCP_CONNS_DEFAULT 2u /* --tcp-conns when not given (config.h's default) */
#define DEMO_TCP_CLIENT_MAX TERN_SOCKET_SERVICE_CONNS

/* --tcp-* options */
typedef struct demo_tcp_opts {
    uint32_t buf;          /* --tcp-buf: ring sizes of services' connections and the client (0: default) */
    uint64_t heap;         /* --tcp-heap: a second heap region (bytes; default 4 MB, 0: none) */
    int heap_set;
    unsigned conns;        /* --tcp-conns: TCP connections per service, and the client's connections
                              (0: not given: services DEMO_TCP_CONNS_DEFAULT, client 1) */
    int have_client;       /* --tcp-client ADDR:PORT:BYTES or [ADDR6]:PORT:BYTES */
    tern_ip4_t client_addr;
#if TERN_IPV6
    int client_v6;
    tern_ip6_t client_addr6;
#endif
    uint16_t client_port;
    uint64_t client_bytes;
} demo_tcp_opts_t;

/* One connection of the client. */
typedef struct demo_tcp_cconn {
    int sock;              /* 0: closed */
    int state;             /* DEMO_CC_* (demo_tcp.c) */
    int error;             /* the tern_err_t that ended it, 0 */
    int shut;              /* our FIN queued */
    uint64_t sent, received, mismatches;
} demo_tcp_cconn_t;

typedef struct demo_tcp {
    tern_stack_t *stack;
    /* services */
    tern_services_t svc;
    pthread_t thread;
    atomic_int stop;
    int running;
    /* client: its own thread on the sockets API */
    tern_sockaddr_t client_to;
    uint32_t client_buf;
    unsigned nconns;
    demo_tcp_cconn_t conns[DEMO_TCP_CLIENT_MAX];
    uint64_t bytes;        /* per connection */
    unsigned open_now, open_max; /* established at once: now, at most */
    int setup_error;
    uint32_t started_ms, finished_ms;
    pthread_t client_thread;
    atomic_int client_done;
    int wake_fd;          /* eventfd written when the client finishes (-1: none) */
    int client_active;
} demo_tcp_t;

/* Parse a --tcp-* option (name without dashes); 1 taken, 0 not ours, -1 bad. */
int demo_tcp_option(demo_tcp_opts_t *o, const char *name, const char *arg);
/* The heap region, then the services and their thread (core lock NOT held). */
int demo_tcp_start(demo_tcp_t *t, tern_stack_t *stack, tern_posix_t *px, const demo_tcp_opts_t *o);
/* Stop the thread and close the services (core lock NOT held). */
void demo_tcp_stop(demo_tcp_t *t);
/* The client's thread, when --tcp-client asked for it (core lock NOT held):
 * 1 started, 0 not asked, -1 error. */
int demo_tcp_client_start(demo_tcp_t *t, const demo_tcp_opts_t *o, int wake_fd, tern_posix_runner_t *runner);
/* When the client has finished: join its thread, print its summary and
 * return 0 (success) or 1; -1 while it still runs. */
int demo_tcp_client_poll(demo_tcp_t *t);
/* netstat-style listing on stdout (core lock NOT held: takes it through the
 * socket calls; the raw TCP list under the lock). */
void demo_tcp_report(demo_tcp_t *t, tern_posix_t *px);

#endif
