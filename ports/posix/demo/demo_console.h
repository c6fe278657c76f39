/* The demo's console on stdin: mem, netstat, bufs, arp, counters, ping ADDR,
 * help, quit. One line per command; output on stdout. */
#ifndef DEMO_CONSOLE_H
#define DEMO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include "tern/stack.h"
#include "tern_posix.h"

typedef struct demo_console {
    tern_posix_t *px;
    tern_stack_t *stack;
    tern_posix_runner_t *runner; /* woken after commands that send */
    int fd;                      /* stdin; -1 once it is closed */
    char line[256];
    size_t len;
    int quit;                    /* 'quit' was typed */
    uint16_t ping_seq;
    int ping_handler;            /* 1: the console owns the ping handler */
} demo_console_t;

/* Set up on stdin. own_ping: the console may install the ping handler (the
 * demo's --ping mode owns it otherwise). */
void demo_console_init(demo_console_t *c, tern_posix_t *px, tern_stack_t *stack, tern_posix_runner_t *runner,
                       int own_ping);
/* The fd to poll for reading, or -1 (stdin closed: nothing more to read). */
int demo_console_fd(const demo_console_t *c);
/* Read what is there and run complete lines. Returns 1 once 'quit' is read. */
int demo_console_readable(demo_console_t *c);
void demo_console_done(demo_console_t *c);

#endif
