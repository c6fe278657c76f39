/* The Linux host port: a tern_port_t on pthreads, and a stack thread.
 *
 * Locking model (lwIP's LOCK_TCPIP_CORE): one core mutex serializes every
 * entry into the stack. The stack thread takes it around tern_input() and
 * tern_poll(); application threads take it around each API call with
 * tern_posix_lock()/tern_posix_unlock(). A second, short-held mutex guards
 * the heap and ledger. Blocking API calls wait on a condition variable
 * paired with the core mutex, so waiting releases the core lock. */
#ifndef TERN_POSIX_H
#define TERN_POSIX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "tern/port.h"

struct tern_stack;

typedef struct tern_posix {
    tern_port_t port;        /* hand &px->port to tern_stack_init() */
    pthread_mutex_t core;    /* the core lock */
    pthread_mutex_t mem;     /* the memory lock */
    struct posix_waiter *waiters; /* threads in wait/wait_on, each on its own condition
                                   * variable (paired with core): wake signals only
                                   * the ones it is for */
    int log_level;           /* lines above this level are not printed (default INFO) */
    const char *log_prefix;  /* printed before each log line (default "tern") */
    atomic_ulong log_lines;  /* lines logged, printed or not */
    atomic_ulong asserts;    /* assert_failed calls */
    atomic_uintptr_t owner;  /* a token of the thread holding core, 0: none (port.lock_held) */
} tern_posix_t;

/* Fill the port table and create the mutexes. */
int tern_posix_init(tern_posix_t *px);
void tern_posix_destroy(tern_posix_t *px);

/* The core lock, for application threads around API calls. */
void tern_posix_lock(tern_posix_t *px);
void tern_posix_unlock(tern_posix_t *px);

/* CLOCK_MONOTONIC in milliseconds (wrapping) and microseconds. */
uint32_t tern_posix_now_ms(void);
uint64_t tern_posix_now_us(void);

/* ---- The stack thread ---------------------------------------------------- */

#define TERN_POSIX_MAX_SOURCES 4

/* Called with the core lock held when fd is readable: read what is there
 * (a bounded number of frames) and feed the stack. */
typedef void (*tern_posix_readable_fn)(void *ctx, uint32_t now);
/* Called with the core lock held on every loop turn (after tern_poll). */
typedef void (*tern_posix_tick_fn)(void *ctx, uint32_t now);

typedef struct tern_posix_runner {
    tern_posix_t *px;
    struct tern_stack *stack;
    struct {
        int fd;
        tern_posix_readable_fn fn;
        void *ctx;
    } src[TERN_POSIX_MAX_SOURCES];
    unsigned sources;
    tern_posix_tick_fn tick;
    void *tick_ctx;
    int wake_fd;             /* eventfd: tern_posix_runner_wake() */
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_ulong loops;      /* loop turns (poll() returns) */
    atomic_ulong wakeups;    /* explicit wakes */
} tern_posix_runner_t;

/* Set up a runner for stack (not started). */
int tern_posix_runner_init(tern_posix_runner_t *r, tern_posix_t *px, struct tern_stack *stack);
/* Watch fd for reading (before start). TERN_ERR_NOMEM when full. */
int tern_posix_runner_add_fd(tern_posix_runner_t *r, int fd, tern_posix_readable_fn fn, void *ctx);
void tern_posix_runner_set_tick(tern_posix_runner_t *r, tern_posix_tick_fn fn, void *ctx);
/* Start the stack thread: poll the fds with tern_poll()'s timeout. */
int tern_posix_runner_start(tern_posix_runner_t *r);
/* Make the thread recompute its timeout now (after an API call that armed a
 * timer). Safe from any thread and from signal context. */
void tern_posix_runner_wake(tern_posix_runner_t *r);
/* Stop and join the thread (idempotent); frees the eventfd. Call without
 * the core lock held. */
void tern_posix_runner_stop(tern_posix_runner_t *r);

/* Parse "a.b.c.d" into a host-order address; 0 on success, -1 if malformed.
 * With prefix non-NULL, also accepts "a.b.c.d/len" (len 0..32; 32 if absent). */
int tern_posix_parse_ip4(const char *s, uint32_t *addr, unsigned *prefix);
/* Parse "aa:bb:cc:dd:ee:ff"; 0 on success, -1 if malformed. */
int tern_posix_parse_mac(const char *s, uint8_t mac[6]);
/* Format a host-order address into buf (16 bytes at least). */
const char *tern_posix_ip4_str(uint32_t addr, char buf[16]);

/* A tern_writer_fn writing to a FILE * (ctx). */
void tern_posix_write_file(void *ctx, const char *text, unsigned len);

#endif
