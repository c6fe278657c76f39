/* tern-server (and tern-server-raw): the benchmark applications on tern, on
 * a TAP device, in one process. The same command line as lwip-server:
 *
 *   tern-server --tap NAME --ip A.B.C.D/LEN [--mac MAC] [--ram-budget BYTES]
 *               [--bufs lwip|default] [--backlog N] [--offload LIST]
 *
 * --ram-budget sizes tern's heap (the bench core is built with
 *   TERN_HEAP_SIZE=0: the heap is one region of exactly that many bytes,
 *   headers and all). Without it the heap is 128 MB (512 idle connections
 *   with 64 KB rings each way fit: the idle-connection benchmark), so that memory never
 *   limits the throughput and HTTP runs.
 * --bufs lwip (the default): 64 KB receive and send rings per connection,
 *   as Debian's lwIP (TCP_WND = TCP_SND_BUF = 0xFFFF, window scaling);
 *   --bufs default: tern's embedded defaults (TERN_TCP_RCVBUF/SNDBUF).
 * --offload LIST: the TAP's offloads (tern_tap_open_offload: csum, tso,
 *   rxcsum, lro, all, none; default none). TSO and large receive move
 *   segments up to the core's TERN_NETBUF_FRAME_SIZE: tern-server-offload
 *   is built with 64 KB buffers for them (bench/CMakeLists.txt).
 *
 * Threads: the stack thread (tern_posix_runner: TAP frames in, timers),
 * the application thread of the sockets version (apps_tern.c; the raw
 * version runs in the stack thread's callbacks), and this one waiting for
 * signals. SIGUSR1 prints the counters and memory lines ("stat ..."),
 * SIGTERM/SIGINT print them and exit. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps_tern.h"
#include "tern/stack.h"
#include "tern_posix.h"
#include "tern_tap.h"

#define BENCH_DEFAULT_HEAP (128u * 1024u * 1024u)
#define BENCH_LWIP_BUF 65535u /* lwIP's TCP_WND and TCP_SND_BUF (0xFFFF) */

static void usage(void)
{
    fprintf(stderr, "usage: tern-server --tap NAME --ip A.B.C.D/LEN [--mac MAC] [--ram-budget BYTES] "
                    "[--bufs lwip|default] [--backlog N] [--offload LIST]\n");
    exit(2);
}

static void print_stats(tern_posix_t *px, tern_stack_t *stack, tern_tap_t *tap, const bench_counters_t *cnt)
{
    tern_posix_lock(px);
    tern_heap_stats_t hs;
    tern_heap_get_stats(&stack->heap, &hs);
    const tern_tcp_stats_t *ts = tern_tcp_stats(stack);
    bench_counters_print(cnt, stdout);
    printf("stat mem_in_use %zu\nstat mem_peak %zu\nstat mem_total %zu\nstat mem_denied %u\n", hs.used,
           hs.total - hs.min_free, hs.total, hs.failures);
    printf("stat ledger_bytes %zu\n", tern_ledger_total_bytes(&stack->ledger));
    printf("stat tcp_established %u\nstat tcp_retransmits %u\nstat tcp_timewait_evicted %u\nstat tcp_drop_nomem %u\n"
           "stat tcp_drop_syn_limit %u\nstat tcp_rst_tx %u\n",
           ts->established, ts->retransmits, ts->timewait_evicted, ts->drop_nomem, ts->drop_syn_limit, ts->rst_tx);
    printf("stat tap_rx_frames %llu\nstat tap_rx_drops %llu\nstat tap_tx_frames %llu\nstat tap_tx_errors %llu\n",
           (unsigned long long)tap->stats.rx_frames, (unsigned long long)tap->stats.rx_nobufs,
           (unsigned long long)tap->stats.tx_frames, (unsigned long long)tap->stats.tx_errors);
    printf("stat tap_offload 0x%02x\nstat tap_tx_tso %llu\nstat tap_tx_csum %llu\nstat tap_rx_large %llu\n"
           "stat tap_rx_cut %llu\nstat tap_rx_csum_ok %llu\n",
           (unsigned)tap->netif.offload, (unsigned long long)tap->stats.tx_tso,
           (unsigned long long)tap->stats.tx_csum, (unsigned long long)tap->stats.rx_large,
           (unsigned long long)tap->stats.rx_cut, (unsigned long long)tap->stats.rx_csum_ok);
    fflush(stdout);
    tern_posix_unlock(px);
}

int main(int argc, char **argv)
{
    const char *tap_name = NULL, *ip = NULL;
    uint8_t mac[6] = TERN_TAP_DEFAULT_MAC;
    size_t budget = 0;
    bench_tern_cfg_t cfg = {BENCH_LWIP_BUF, BENCH_LWIP_BUF, 255};
    const char *bufs = "lwip";
    unsigned offload = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--tap") == 0) {
            tap_name = argv[++i];
        } else if (strcmp(argv[i], "--ip") == 0) {
            ip = argv[++i];
        } else if (strcmp(argv[i], "--mac") == 0) {
            if (tern_posix_parse_mac(argv[++i], mac) < 0)
                usage();
        } else if (strcmp(argv[i], "--ram-budget") == 0) {
            budget = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--backlog") == 0) {
            cfg.backlog = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--offload") == 0) {
            if (tern_tap_parse_offload(argv[++i], &offload) != TERN_OK)
                usage();
        } else if (strcmp(argv[i], "--bufs") == 0) {
            bufs = argv[++i];
            if (strcmp(bufs, "lwip") == 0)
                cfg.rcvbuf = cfg.sndbuf = BENCH_LWIP_BUF;
            else if (strcmp(bufs, "default") == 0)
                cfg.rcvbuf = cfg.sndbuf = 0;
            else
                usage();
        } else {
            usage();
        }
    }
    uint32_t addr;
    unsigned prefix;
    if (tap_name == NULL || ip == NULL || tern_posix_parse_ip4(ip, &addr, &prefix) < 0)
        usage();

    /* Every thread started below inherits this mask; only sigwait sees them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    static tern_posix_t px;
    static tern_tap_t tap;
    static tern_posix_runner_t runner;
    static bench_counters_t cnt;
    tern_stack_t *stack = calloc(1, sizeof(*stack));
    size_t heap_size = budget != 0 ? budget : BENCH_DEFAULT_HEAP;
    void *arena = aligned_alloc(8, (heap_size + 7u) & ~(size_t)7u);
    if (stack == NULL || arena == NULL || tern_posix_init(&px) != TERN_OK) {
        fprintf(stderr, "tern-server: out of memory\n");
        return 1;
    }
#if TERN_HEAP_SIZE == 0
    tern_heap_init(&stack->heap, &px.port);
    if (tern_heap_add_region(&stack->heap, arena, heap_size) != TERN_OK) {
        fprintf(stderr, "tern-server: heap of %zu bytes refused\n", heap_size);
        return 1;
    }
#else
    if (budget != 0)
        fprintf(stderr, "tern-server: built with TERN_HEAP_SIZE=%u: --ram-budget ignored\n", (unsigned)TERN_HEAP_SIZE);
#endif
    int rc = tern_stack_init(stack, &px.port);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern-server: tern_stack_init: %s\n", tern_strerror(rc));
        return 1;
    }
    rc = tern_tap_open_offload(&tap, tap_name, mac, offload);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern-server: cannot open TAP %s: %s\n", tap_name, strerror(errno));
        return 1;
    }
    tern_posix_lock(&px);
    (void)tern_poll(stack, tern_posix_now_ms());
    rc = tern_netif_add(stack, &tap.netif);
    if (rc == TERN_OK) {
        uint32_t mask = prefix ? ~(uint32_t)0 << (32u - prefix) : 0u;
        tern_netif_set_link(&tap.netif, 1);
        tern_netif_set_addr(&tap.netif, addr, mask, 0);
    }
    tern_posix_unlock(&px);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern-server: tern_netif_add: %s\n", tern_strerror(rc));
        return 1;
    }
    if (tern_posix_runner_init(&runner, &px, stack) != TERN_OK || tern_tap_runner_add(&runner, &tap) != TERN_OK ||
        tern_posix_runner_start(&runner) != TERN_OK) {
        fprintf(stderr, "tern-server: cannot start the stack thread\n");
        return 1;
    }
    if (bench_tern_apps_start(stack, &px, &cnt, &cfg) < 0)
        return 1;
    tern_heap_stats_t hs;
    tern_posix_lock(&px);
    tern_heap_get_stats(&stack->heap, &hs);
    tern_posix_unlock(&px);
    printf("tern-server: %s API up on %s, %s, rings %s (%u/%u; 0 = TERN_TCP_RCVBUF/SNDBUF %u/%u), heap %zu bytes "
           "(%zu in use at start), ram budget %zu (0 = none), offloads 0x%02x, frames of %u bytes\n",
           bench_tern_api, tap_name, ip, bufs, cfg.rcvbuf, cfg.sndbuf, (unsigned)TERN_TCP_RCVBUF,
           (unsigned)TERN_TCP_SNDBUF, hs.total, hs.used, budget, (unsigned)tap.netif.offload,
           (unsigned)TERN_NETBUF_FRAME_SIZE);
    fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGUSR1) {
            print_stats(&px, stack, &tap, &cnt);
            continue;
        }
        bench_tern_apps_stop();
        tern_posix_runner_stop(&runner);
        print_stats(&px, stack, &tap, &cnt);
        printf("tern-server: signal %d, stopping\n", sig);
        fflush(stdout);
        return 0; /* the process ends with its state */
    }
}
