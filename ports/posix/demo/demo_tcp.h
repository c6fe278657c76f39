/* tern-demo's TCP part: echo (RFC 862), discard (RFC 863) and chargen (RFC
 * 864) servers on the raw TCP API, inside the stack, and a client mode
 * that sends a pattern to an echo server and checks what comes back. */
#ifndef TERN_DEMO_TCP_H
#define TERN_DEMO_TCP_H

#include <stdint.h>
#include "tern/stack.h"

#define DEMO_TCP_ECHO_PORT 7
#define DEMO_TCP_DISCARD_PORT 9
#define DEMO_TCP_CHARGEN_PORT 19
#define DEMO_TCP_PATTERN_LEN 251u /* byte i of a pattern stream: (i % 251) * 7 + 3 */

typedef struct demo_tcp {
    tern_stack_t *stack;
    tern_tcp_pcb_t *listeners[3];
    /* client */
    tern_tcp_pcb_t *client;
    uint64_t bytes, sent, received, mismatches;
    int done, error, connected;
    uint32_t started_ms, finished_ms;
    int wake_fd;          /* eventfd written when the client finishes (-1: none) */
    int client_active;
} demo_tcp_t;

/* Start the three servers (core lock held). */
int demo_tcp_start(demo_tcp_t *t, tern_stack_t *stack);
/* Close the servers (core lock held). */
void demo_tcp_stop(demo_tcp_t *t);
/* Client: connect to addr:port, send bytes of the pattern, half-close,
 * read everything back until EOF checking it against the pattern (core
 * lock held). t->done is set at the end. */
int demo_tcp_client_start(demo_tcp_t *t, tern_ip4_t addr, uint16_t port, uint64_t bytes);
/* Client mode from the environment: TERN_DEMO_TCP_CLIENT=ADDR:PORT:BYTES.
 * Returns 1 when started, 0 when not asked, -1 on error (core lock held). */
int demo_tcp_client_from_env(demo_tcp_t *t, int wake_fd);
/* When the client has finished: print its summary and return 0 (success)
 * or 1; -1 while it still runs (takes the core lock itself). */
struct tern_posix;
int demo_tcp_client_poll(demo_tcp_t *t, struct tern_posix *px);
/* netstat-style listing on stdout (core lock held). */
void demo_tcp_report(const tern_stack_t *stack);

#endif
