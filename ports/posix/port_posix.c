/* The Linux port: pthread locks, a condition variable per waiting thread,
 * getrandom(), CLOCK_MONOTONIC, stderr logging, and the stack thread. */
#include "tern_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "tern/err.h"
#include "tern/stack.h"

/* ---- Clock and randomness ------------------------------------------------ */

uint64_t tern_posix_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint32_t tern_posix_now_ms(void)
{
    return (uint32_t)(tern_posix_now_us() / 1000u);
}

static uint32_t posix_now_ms(void *ctx)
{
    (void)ctx;
    return tern_posix_now_ms();
}

static uint32_t posix_random32(void *ctx)
{
    (void)ctx;
    uint32_t v;
    for (;;) {
        ssize_t n = getrandom(&v, sizeof v, 0);
        if (n == (ssize_t)sizeof v)
            return v;
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    /* No getrandom (old kernel): the port contract wants a good source, so
     * /dev/urandom or nothing. */
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, &v, sizeof v);
        close(fd);
        if (n == (ssize_t)sizeof v)
            return v;
    }
    fprintf(stderr, "tern: no random source (getrandom and /dev/urandom failed)\n");
    abort();
}

/* ---- Locks and waiting ---------------------------------------------------- */

static void posix_lock(void *ctx)
{
    tern_posix_lock(ctx);
}

static void posix_unlock(void *ctx)
{
    tern_posix_unlock(ctx);
}

/* A token per thread: the address of a thread-local byte. Compared, never
 * dereferenced; atomic, so a thread that does not hold the lock reads it
 * without a race. */
static _Thread_local char thread_token;

static uintptr_t posix_self(void)
{
    return (uintptr_t)&thread_token;
}

static int posix_lock_held(void *ctx)
{
    tern_posix_t *px = ctx;
    return atomic_load(&px->owner) == posix_self();
}

static void posix_mem_lock(void *ctx)
{
    tern_posix_t *px = ctx;
    if (pthread_mutex_lock(&px->mem) != 0)
        abort();
}

static void posix_mem_unlock(void *ctx)
{
    tern_posix_t *px = ctx;
    if (pthread_mutex_unlock(&px->mem) != 0)
        abort();
}

/* One blocked thread: its own condition variable, so that a wake for one
 * socket signals its waiter alone (port.h wait_on/wake), not a broadcast
 * that every blocked thread wakes up for to find nothing to do. */
struct posix_waiter {
    pthread_cond_t cond;
    const void *key; /* NULL: woken by every wake (poll, buffer waits) */
    struct posix_waiter *next;
};

/* Called with the core lock held; pthread_cond_timedwait releases it while
 * waiting and retakes it before returning (port.h). The waiter list is
 * guarded by the core lock too. */
static int posix_wait_on(void *ctx, const void *key, uint32_t timeout_ms)
{
    tern_posix_t *px = ctx;
    struct posix_waiter w = {.key = key, .next = px->waiters};
    /* Timeouts measured on the monotonic clock: a wall-clock step must not
     * stretch or cut a blocking call. */
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&w.cond, &ca) != 0)
        abort();
    pthread_condattr_destroy(&ca);
    px->waiters = &w;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(timeout_ms / 1000u);
    ts.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    atomic_store(&px->owner, (uintptr_t)0); /* the wait releases core */
    int r = pthread_cond_timedwait(&w.cond, &px->core, &ts);
    atomic_store(&px->owner, posix_self());
    struct posix_waiter **pp = &px->waiters;
    while (*pp != &w)
        pp = &(*pp)->next;
    *pp = w.next;
    pthread_cond_destroy(&w.cond);
    if (r == ETIMEDOUT)
        return TERN_ERR_TIMEOUT;
    if (r != 0)
        abort();
    return TERN_OK;
}

static int posix_wait(void *ctx, uint32_t timeout_ms)
{
    return posix_wait_on(ctx, NULL, timeout_ms);
}

static void posix_wake_all(void *ctx)
{
    tern_posix_t *px = ctx;
    for (struct posix_waiter *w = px->waiters; w != NULL; w = w->next)
        pthread_cond_signal(&w->cond);
}

static void posix_wake(void *ctx, const void *key)
{
    tern_posix_t *px = ctx;
    for (struct posix_waiter *w = px->waiters; w != NULL; w = w->next)
        if (w->key == key || w->key == NULL)
            pthread_cond_signal(&w->cond);
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void posix_log(void *ctx, int level, const char *msg)
{
    tern_posix_t *px = ctx;
    atomic_fetch_add(&px->log_lines, 1u);
    if (level > px->log_level)
        return;
    const char *name = (level >= 0 && level <= TERN_LOG_DEBUG) ? level_names[level] : "?";
    /* One fprintf per line: stdio locks the stream, so lines from different
     * threads do not interleave. */
    fprintf(stderr, "[%s %s] %s\n", px->log_prefix ? px->log_prefix : "tern", name, msg);
}

static void posix_assert_failed(void *ctx, const char *what)
{
    tern_posix_t *px = ctx;
    atomic_fetch_add(&px->asserts, 1u);
    fprintf(stderr, "[%s assert] %s\n", px->log_prefix ? px->log_prefix : "tern", what);
    abort();
}

int tern_posix_init(tern_posix_t *px)
{
    memset(px, 0, sizeof *px);
    if (pthread_mutex_init(&px->core, NULL) != 0)
        return TERN_ERR_NOMEM;
    if (pthread_mutex_init(&px->mem, NULL) != 0) {
        pthread_mutex_destroy(&px->core);
        return TERN_ERR_NOMEM;
    }
    px->log_level = TERN_LOG_INFO;
    px->log_prefix = "tern";
    atomic_init(&px->log_lines, 0u);
    atomic_init(&px->asserts, 0u);
    atomic_init(&px->owner, (uintptr_t)0);
    px->port.ctx = px;
    px->port.random32 = posix_random32;
    px->port.now_ms = posix_now_ms;
    px->port.lock = posix_lock;
    px->port.unlock = posix_unlock;
    px->port.lock_held = posix_lock_held;
    px->port.mem_lock = posix_mem_lock;
    px->port.mem_unlock = posix_mem_unlock;
    px->port.wait = posix_wait;
    px->port.wake_all = posix_wake_all;
    px->port.wait_on = posix_wait_on;
    px->port.wake = posix_wake;
    px->port.log = posix_log;
    px->port.assert_failed = posix_assert_failed;
    return TERN_OK;
}

void tern_posix_destroy(tern_posix_t *px)
{
    pthread_mutex_destroy(&px->mem);
    pthread_mutex_destroy(&px->core);
}

void tern_posix_lock(tern_posix_t *px)
{
    if (pthread_mutex_lock(&px->core) != 0)
        abort();
    atomic_store(&px->owner, posix_self());
}

void tern_posix_unlock(tern_posix_t *px)
{
    atomic_store(&px->owner, (uintptr_t)0);
    if (pthread_mutex_unlock(&px->core) != 0)
        abort();
}

/* ---- The stack thread ----------------------------------------------------- */

int tern_posix_runner_init(tern_posix_runner_t *r, tern_posix_t *px, struct tern_stack *stack)
{
    memset(r, 0, sizeof *r);
    r->px = px;
    r->stack = stack;
    atomic_init(&r->stop, 0);
    atomic_init(&r->loops, 0u);
    atomic_init(&r->wakeups, 0u);
    r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->wake_fd < 0)
        return TERN_ERR_NOMEM;
    return TERN_OK;
}

int tern_posix_runner_add_fd(tern_posix_runner_t *r, int fd, tern_posix_readable_fn fn, void *ctx)
{
    if (fd < 0 || fn == NULL || r->started)
        return TERN_ERR_INVAL;
    if (r->sources >= TERN_POSIX_MAX_SOURCES)
        return TERN_ERR_NOMEM;
    r->src[r->sources].fd = fd;
    r->src[r->sources].fn = fn;
    r->src[r->sources].ctx = ctx;
    r->sources++;
    return TERN_OK;
}

void tern_posix_runner_set_tick(tern_posix_runner_t *r, tern_posix_tick_fn fn, void *ctx)
{
    r->tick = fn;
    r->tick_ctx = ctx;
}

void tern_posix_runner_wake(tern_posix_runner_t *r)
{
    uint64_t one = 1;
    /* write() is async-signal-safe; a full counter (EAGAIN) still wakes. */
    ssize_t n = write(r->wake_fd, &one, sizeof one);
    (void)n;
    atomic_fetch_add(&r->wakeups, 1u);
}

static void *runner_main(void *arg)
{
    tern_posix_runner_t *r = arg;
    struct pollfd pfd[TERN_POSIX_MAX_SOURCES + 1];
    for (unsigned i = 0; i < r->sources; i++) {
        pfd[i].fd = r->src[i].fd;
        pfd[i].events = POLLIN;
    }
    pfd[r->sources].fd = r->wake_fd;
    pfd[r->sources].events = POLLIN;

    while (!atomic_load(&r->stop)) {
        tern_posix_lock(r->px);
        uint32_t now = tern_posix_now_ms();
        uint32_t timeout = tern_poll(r->stack, now);
        if (r->tick)
            r->tick(r->tick_ctx, now);
        tern_posix_unlock(r->px);

        for (unsigned i = 0; i <= r->sources; i++)
            pfd[i].revents = 0;
        int n = poll(pfd, r->sources + 1u, timeout > 1000u ? 1000 : (int)timeout);
        atomic_fetch_add(&r->loops, 1u);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "tern: stack thread: poll: %s\n", strerror(errno));
            break;
        }
        if (pfd[r->sources].revents & POLLIN) {
            uint64_t v;
            ssize_t k = read(r->wake_fd, &v, sizeof v);
            (void)k;
        }
        for (unsigned i = 0; i < r->sources; i++) {
            if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) {
                /* Each readable source is handled under one lock hold with a
                 * bounded budget, so application threads get the lock between
                 * bursts. */
                tern_posix_lock(r->px);
                r->src[i].fn(r->src[i].ctx, tern_posix_now_ms());
                tern_posix_unlock(r->px);
            }
        }
    }
    return NULL;
}

int tern_posix_runner_start(tern_posix_runner_t *r)
{
    if (r->started)
        return TERN_ERR_STATE;
    atomic_store(&r->stop, 0);
    if (pthread_create(&r->thread, NULL, runner_main, r) != 0)
        return TERN_ERR_NOMEM;
    r->started = 1;
    return TERN_OK;
}

void tern_posix_runner_stop(tern_posix_runner_t *r)
{
    if (r->started) {
        atomic_store(&r->stop, 1);
        tern_posix_runner_wake(r);
        pthread_join(r->thread, NULL);
        r->started = 0;
    }
    if (r->wake_fd >= 0) {
        close(r->wake_fd);
        r->wake_fd = -1;
    }
}

/* ---- Small parsers shared by the demo and tests ---------------------------- */

/* Decimal 0..max from s, advancing *s; -1 if none or too large. */
static long parse_dec(const char **s, long max)
{
    const char *p = *s;
    long v = 0;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > max)
            return -1;
        p++;
    }
    *s = p;
    return v;
}

int tern_posix_parse_ip4(const char *s, uint32_t *addr, unsigned *prefix)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        long v = parse_dec(&s, 255);
        if (v < 0)
            return -1;
        a = (a << 8) | (uint32_t)v;
        if (i < 3) {
            if (*s != '.')
                return -1;
            s++;
        }
    }
    unsigned len = 32;
    if (*s == '/' && prefix != NULL) {
        s++;
        long v = parse_dec(&s, 32);
        if (v < 0)
            return -1;
        len = (unsigned)v;
    }
    if (*s != '\0')
        return -1;
    *addr = a;
    if (prefix)
        *prefix = len;
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int tern_posix_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t m[6];
    for (int i = 0; i < 6; i++) {
        int hi = hex_digit(s[0]);
        int lo = hi < 0 ? -1 : hex_digit(s[1]);
        if (lo < 0)
            return -1;
        m[i] = (uint8_t)(hi * 16 + lo);
        s += 2;
        if (i < 5) {
            if (*s != ':' && *s != '-')
                return -1;
            s++;
        }
    }
    if (*s != '\0')
        return -1;
    memcpy(mac, m, 6);
    return 0;
}

const char *tern_posix_ip4_str(uint32_t addr, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)(addr >> 16) & 255u,
             (unsigned)(addr >> 8) & 255u, (unsigned)addr & 255u);
    return buf;
}

void tern_posix_write_file(void *ctx, const char *text, unsigned len)
{
    fwrite(text, 1, len, ctx);
}
