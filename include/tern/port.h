/* The port: everything tern needs from its environment, passed in.
 *
 * The core never reads a clock, a random source or an OS object itself; a
 * port fills this table (ports/posix for Linux, or a bare-metal main loop) and
 * hands it to tern_stack_init(). Any hook may be NULL where noted. */
#ifndef TERN_PORT_H
#define TERN_PORT_H

#include <stdint.h>

enum tern_log_level { TERN_LOG_ERROR = 0, TERN_LOG_WARN = 1, TERN_LOG_INFO = 2, TERN_LOG_DEBUG = 3 };

typedef struct tern_port {
    void *ctx; /* passed back to every hook */

    /* 32 random bits from a good source (ISNs, ports, DHCP xids). Required. */
    uint32_t (*random32)(void *ctx);

    /* Milliseconds from an arbitrary start, wrapping at 2^32. Used only by
     * blocking API calls to measure their timeouts; the core takes time as
     * an argument. NULL in a no-OS build. */
    uint32_t (*now_ms)(void *ctx);

    /* Core lock (recursive not required). Application threads take it around
     * every API call; NULL in single-threaded builds. */
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    /* Nonzero when the calling thread holds the core lock. Only TERN_DEBUG
     * builds call it, to check the locking rule (stack.h) on entry to every
     * call that needs the lock. NULL: not checked (no lock, one loop). */
    int (*lock_held)(void *ctx);

    /* Memory lock around heap and ledger operations, short-held. NULL in
     * single-threaded builds. */
    void (*mem_lock)(void *ctx);
    void (*mem_unlock)(void *ctx);

    /* Condition-variable style waiting: called with the core lock held,
     * releases it while waiting, retakes it before returning. Returns 0 when
     * woken (the caller re-checks its condition) or TERN_ERR_TIMEOUT. NULL in
     * a no-OS build: blocking calls are then not available. */
    int (*wait)(void *ctx, uint32_t timeout_ms);
    /* Wake every waiter; called with the core lock held after any change a
     * waiter may be waiting for (buffer released, data arrived). May be NULL. */
    void (*wake_all)(void *ctx);
    /* Optional, both or neither: wait as a waiter for key (a socket), and
     * wake only the waiters for key and those waiting without one (wait:
     * poll, buffers), so a segment for one socket wakes one thread, not
     * every blocked one. NULL: wait and wake_all are used. */
    int (*wait_on)(void *ctx, const void *key, uint32_t timeout_ms);
    void (*wake)(void *ctx, const void *key);

    /* A log line (no trailing newline). May be NULL. */
    void (*log)(void *ctx, int level, const char *msg);

    /* Called on a broken invariant in TERN_DEBUG builds (abort, breakpoint).
     * May be NULL. */
    void (*assert_failed)(void *ctx, const char *what);
} tern_port_t;

/* A sink for text reports (ledger table, JSON, counters): a UART, a log, a
 * socket. Writes len bytes; return value ignored. */
typedef void (*tern_writer_fn)(void *ctx, const char *text, unsigned len);

#endif
