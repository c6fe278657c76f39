/* lwip-server: the benchmark applications on Debian's liblwip 2.1.3, on a
 * TAP device (tapif_ram), in one process.
 *
 *   lwip-server --tap NAME --ip A.B.C.D/LEN [--mac MAC] [--ram-budget BYTES]
 *               [--max-conns N] [--api sockets|threads|raw]
 *
 * --api sockets (the default): the applications on lwIP's sockets API
 * (apps_lwip_sock.c, one application thread on lwip_poll, as tern-server);
 * --api threads: on its sockets API with blocking sockets and a thread per
 * connection (apps_lwip_thr.c: how lwIP's users write a fast server with an
 * OS, the benchmark's fastest lwIP); --api raw: on its raw TCP API
 * (apps_lwip.c, callbacks in the stack's threads).
 *
 * Threads: lwIP's tcpip thread (timers), the TAP reader (frames in), the
 * application thread (sockets API only), and this one waiting for signals.
 * SIGUSR1 prints the counters and the memory lines ("stat ...");
 * SIGTERM/SIGINT print them and exit.
 *
 * Memory: Debian builds lwIP with MEM_LIBC_MALLOC=1 and MEMP_MEM_MALLOC=1,
 * so every byte lwIP holds (pcbs, pbufs, segments) comes from malloc. This
 * program interposes malloc and friends to count the bytes in use (usable
 * size + the 8-byte chunk header glibc puts before each block) and, with
 * --ram-budget, refuses allocations past "in use after start-up + budget":
 * the same RAM budget tern's heap gets. The application's per-connection
 * state is a table allocated at start, outside the budget; lwIP's own
 * per-socket state (struct lwip_sock, netconn, mailboxes) is inside it. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/tcpip.h"

#include "apps_lwip.h"
#include "tapif_ram.h"

/* ---- counting allocator ------------------------------------------------- */

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

#define CHUNK_HDR 8u
static atomic_size_t mem_in_use;
static atomic_size_t mem_peak;
static atomic_size_t mem_limit; /* 0: no limit */
static atomic_ulong mem_denied;

static size_t footprint(void *p)
{
    return p != NULL ? malloc_usable_size(p) + CHUNK_HDR : 0;
}

static int mem_over(size_t more)
{
    size_t limit = atomic_load_explicit(&mem_limit, memory_order_relaxed);
    if (limit != 0 && atomic_load_explicit(&mem_in_use, memory_order_relaxed) + more + CHUNK_HDR > limit) {
        atomic_fetch_add_explicit(&mem_denied, 1, memory_order_relaxed);
        return 1;
    }
    return 0;
}

static void *mem_add(void *p)
{
    if (p != NULL) {
        size_t now = atomic_fetch_add_explicit(&mem_in_use, footprint(p), memory_order_relaxed) + footprint(p);
        size_t peak = atomic_load_explicit(&mem_peak, memory_order_relaxed);
        while (now > peak && !atomic_compare_exchange_weak(&mem_peak, &peak, now)) {
        }
    }
    return p;
}

void *malloc(size_t n)
{
    if (mem_over(n)) {
        errno = ENOMEM;
        return NULL;
    }
    return mem_add(__libc_malloc(n));
}

void *calloc(size_t n, size_t m)
{
    if (m != 0 && n > SIZE_MAX / m)
        return NULL;
    if (mem_over(n * m)) {
        errno = ENOMEM;
        return NULL;
    }
    return mem_add(__libc_calloc(n, m));
}

void free(void *p)
{
    if (p == NULL)
        return;
    atomic_fetch_sub_explicit(&mem_in_use, footprint(p), memory_order_relaxed);
    __libc_free(p);
}

void *realloc(void *p, size_t n)
{
    size_t old = footprint(p);
    if (n > old && mem_over(n - old)) {
        errno = ENOMEM;
        return NULL;
    }
    void *q = __libc_realloc(p, n);
    if (q == NULL && n != 0)
        return NULL; /* p is untouched */
    atomic_fetch_sub_explicit(&mem_in_use, old, memory_order_relaxed);
    return mem_add(q);
}

void *memalign(size_t align, size_t n)
{
    if (mem_over(n + align)) {
        errno = ENOMEM;
        return NULL;
    }
    return mem_add(__libc_memalign(align, n));
}

void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p = memalign(align, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n)
{
    return memalign(4096, n);
}

void *pvalloc(size_t n)
{
    return memalign(4096, (n + 4095u) & ~(size_t)4095u);
}

/* ---- main --------------------------------------------------------------- */

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

static int parse_cidr(const char *s, uint32_t *addr_n, uint32_t *mask_n)
{
    char buf[32];
    unsigned len = 24;
    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
        char *end;
        unsigned long l = strtoul(slash + 1, &end, 10);
        if (*end != '\0' || l > 32)
            return -1;
        len = (unsigned)l;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1)
        return -1;
    *addr_n = a.s_addr;
    *mask_n = htonl(len == 0 ? 0u : 0xffffffffu << (32u - len));
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: lwip-server --tap NAME --ip A.B.C.D/LEN [--mac MAC] [--ram-budget BYTES] [--max-conns N]\n"
                    "                   [--api sockets|threads|raw]\n");
    exit(2);
}

static void print_stats(const bench_counters_t *cnt, const tapif_ram_t *tap)
{
    LOCK_TCPIP_CORE();
    bench_counters_print(cnt, stdout);
    printf("stat mem_in_use %zu\nstat mem_peak %zu\nstat mem_denied %lu\n", atomic_load(&mem_in_use),
           atomic_load(&mem_peak), atomic_load(&mem_denied));
    printf("stat tap_rx_frames %llu\nstat tap_rx_drops %llu\nstat tap_tx_frames %llu\nstat tap_tx_errors %llu\n",
           (unsigned long long)tap->rx_frames, (unsigned long long)tap->rx_drops,
           (unsigned long long)tap->tx_frames, (unsigned long long)tap->tx_errors);
    fflush(stdout);
    UNLOCK_TCPIP_CORE();
}

int main(int argc, char **argv)
{
    const char *tap_name = NULL, *ip = NULL;
    uint8_t mac[6] = {0x02, 0x6c, 0x77, 0x69, 0x70, 0x02}; /* locally administered, "lwip" */
    size_t budget = 0;
    unsigned max_conns = 65536;
    int raw_api = 0, threads_api = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--tap") == 0)
            tap_name = argv[++i];
        else if (strcmp(argv[i], "--ip") == 0)
            ip = argv[++i];
        else if (strcmp(argv[i], "--mac") == 0) {
            if (parse_mac(argv[++i], mac) < 0)
                usage();
        } else if (strcmp(argv[i], "--ram-budget") == 0)
            budget = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--max-conns") == 0)
            max_conns = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--api") == 0) {
            const char *api = argv[++i];
            if (strcmp(api, "raw") == 0)
                raw_api = 1;
            else if (strcmp(api, "threads") == 0)
                threads_api = 1;
            else if (strcmp(api, "sockets") != 0)
                usage();
        }
        else
            usage();
    }
    uint32_t addr_n, mask_n;
    if (tap_name == NULL || ip == NULL || parse_cidr(ip, &addr_n, &mask_n) < 0 || max_conns == 0)
        usage();

    /* Every thread lwIP starts inherits this mask; only sigwait sees them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    static bench_counters_t cnt;
    static tapif_ram_t tap;
    tcpip_init(NULL, NULL);
    LOCK_TCPIP_CORE();
    int rc = tapif_ram_open(&tap, tap_name, mac, addr_n, mask_n);
    if (rc == 0 && raw_api)
        rc = bench_lwip_apps_start(&cnt, max_conns);
    UNLOCK_TCPIP_CORE();
    /* lwip_* calls take the core lock themselves. */
    if (rc == 0 && threads_api)
        rc = bench_lwip_thr_apps_start(&cnt, max_conns);
    else if (rc == 0 && !raw_api)
        rc = bench_lwip_sock_apps_start(&cnt, max_conns);
    if (rc < 0)
        return 1;
    size_t base = atomic_load(&mem_in_use);
    if (budget != 0)
        atomic_store(&mem_limit, base + budget);
    atomic_store(&mem_peak, base);
    if (tapif_ram_start(&tap) < 0) {
        fprintf(stderr, "lwip-server: cannot start the TAP reader\n");
        return 1;
    }
    printf("lwip-server: lwIP %s (%s API) up on %s, %s, ram budget %zu (0 = none), %zu bytes in use at start\n",
           LWIP_VERSION_STRING, raw_api ? "raw TCP" : threads_api ? "sockets, thread per connection" : "sockets", tap_name, ip, budget, base);
    fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGUSR1) {
            print_stats(&cnt, &tap);
            continue;
        }
        bench_lwip_sock_apps_stop();
        tapif_ram_stop(&tap);
        print_stats(&cnt, &tap);
        printf("lwip-server: signal %d, stopping\n", sig);
        fflush(stdout);
        return 0; /* lwIP has no deinit; the process ends with its threads */
    }
}
