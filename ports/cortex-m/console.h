/* The board's UART console: the commands of tern-demo's console (mem,
 * bufs, netstat, arp, counters, ping ADDR, help) plus the board's own
 * (memsum, dhcp, stack, fault KIND). Polled from the main loop. */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include "board_nic.h"
#include "tern/stack.h"

typedef struct console {
    tern_stack_t *stack;
    const board_nic_t *nic;
    char line[96];
    size_t len;
    uint16_t ping_seq;
} console_t;

void console_init(console_t *c, tern_stack_t *stack, const board_nic_t *nic);
/* Read what the UART holds and run complete lines. Returns 1 if it did
 * anything. */
int console_poll(console_t *c);
/* The one-line memory summary the board tests read:
 * "memsum: heap free N min N of N, netbufs free N min N of N, heap failures N, stack high-water N of N" */
void console_memsum(const tern_stack_t *s);

#endif
