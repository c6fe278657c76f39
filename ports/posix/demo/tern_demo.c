/* tern-demo: the stack on a Linux TAP device, or two stacks on a virtual
 * wire when no TAP is given (no root needed).
 *
 *   tern-demo --tap IFNAME --ip 192.0.2.2/24 [--gw ADDR] [--mac MAC]
 *             [--pcap FILE] [--ping ADDR [--count N] [--interval MS]
 *             [--size BYTES] [--stay]] [--udp-send ADDR:PORT [--count N] [--stay]]
 *             [--tcp-client ADDR:PORT:BYTES] [--tcp-buf BYTES] [--tcp-heap BYTES] [--tcp-conns N]
 *   tern-demo --demo-wire [--count N] [--interval MS] [--size BYTES] [--seed N] [--pcap FILE]
 *   tern-demo [--slirp] [--http-port PORT] [--mac MAC] [--pcap FILE] [--ping 10.0.2.2 [--count N] [--stay]]
 *
 * Without --tap the default is --slirp: tern on a libslirp user-mode network
 * (restricted, no root), 127.0.0.1:PORT (default 8080) forwarded to its port 80.
 *
 * TAP mode always runs echo (7), discard (9) and chargen (19) on TCP and UDP
 * (apps/services, on the sockets API, in a thread of their own). --udp-send
 * sends N datagrams of sizes 0..1472 to an echo server and checks each echo;
 * --tcp-client sends BYTES to a TCP echo server and checks them coming back,
 * on --tcp-conns connections at once (sockets API, a thread of its own);
 * ADDR may be [IPV6] (TCP over IPv6).
 *
 * Signals (TAP mode): SIGUSR1 prints the one-line memory summary, SIGUSR2
 * the full memory report, counters, ARP cache and driver statistics;
 * SIGINT/SIGTERM stop the stack, deinitialise it and check the ledger is
 * empty. Exit status: 0 success, 1 failure (lost or corrupted ping reply,
 * ledger not empty), 2 usage error. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "tern/stack.h"
#include "tern/stats.h"
#include "tern/http.h"
#include "tern/dhcp.h"
#include "tern_pcap.h"
#include "tern_slirp.h"
#include "demo_console.h"
#include "tern_posix.h"
#include "tern_tap.h"
#include "tern_vwire.h"
#include "demo_tcp.h"
#include "demo_dhcp_dns.h"
#include "demo_http.h"

#define DEMO_MAX_COUNT 1000000u
#define DEMO_MAX_PING_SIZE 1472u /* 1500 - 20 (IPv4) - 8 (ICMP): no fragmentation */
#define DEMO_UDP_MAX 1472u        /* 1500 - 20 (IPv4) - 8 (UDP) */
#define DEMO_UDP_DEFAULT_COUNT 1000u

typedef struct demo_opts {
    const char *tap;
    const char *pcap;
    uint32_t ip;
    unsigned prefix;
    uint32_t gw;
    uint8_t mac[6];
    int have_ip, have_mac, have_ping, have_udp_send, stay;
    int ipv6; /* --ipv6: link-local and SLAAC addresses (TERN_IPV6 builds) */
    unsigned nip6;           /* --ip6 ADDR/LEN: static IPv6 addresses (at most 2) */
    uint8_t ip6[2][16];
    uint8_t ip6_len[2];
    int have_join6;          /* --join6 GROUP: the UDP echo socket joins it */
    uint8_t join6[16];
    int copy;            /* --copy: the TAP interface copies both ways (caps 0) */
    unsigned offload;    /* --offload LIST: the TAP's offloads (tern_tap_open_offload) */
    int no_batch;        /* --no-batch: one frame per input call (tern_tap_t no_batch) */
    uint32_t ping_dst;
    uint32_t udp_dst;
    uint16_t udp_port;
    unsigned count;      /* 0: the mode's default */
    unsigned interval_ms;
    unsigned size;
    uint64_t seed;
    int slirp, demo_wire; /* --slirp (the default without --tap), --demo-wire */
    uint16_t http_port;   /* --http-port: host side of the slirp forward to port 80 */
    demo_dd_opts_t dd;    /* --dhcp, --dns, --resolve (demo_dhcp_dns.c) */
    demo_tcp_opts_t tcp;  /* --tcp-* (demo_tcp.c) */
} demo_opts_t;

/* ---- Ping bookkeeping (both modes) ------------------------------------------ */

typedef struct demo_ping {
    uint32_t dst;
    uint16_t id;
    unsigned count;
    unsigned size;
    unsigned sent;       /* requests handed to the stack */
    unsigned received;   /* distinct sequence numbers answered */
    unsigned corrupt;    /* replies whose data differed */
    unsigned dups;
    uint8_t *answered;   /* per sequence number */
    uint64_t *sent_us;   /* send time per sequence number (TAP mode) */
    uint32_t *sent_ms;   /* virtual send time (wire mode) */
    double rtt_min, rtt_max, rtt_sum;
    int virtual_time;
    int wake_fd;         /* eventfd poked when the last reply arrives; -1 none */
} demo_ping_t;

/* The payload of request seq: bytes that differ per position and per
 * sequence number, so a reply for the wrong request or a shifted byte shows. */
static void ping_fill(uint8_t *buf, unsigned size, uint16_t seq)
{
    for (unsigned i = 0; i < size; i++)
        buf[i] = (uint8_t)(i * 31u + seq * 7u + 0x5Au);
}

static int ping_init(demo_ping_t *pg, uint32_t dst, unsigned count, unsigned size, int virtual_time)
{
    memset(pg, 0, sizeof *pg);
    pg->dst = dst;
    pg->id = (uint16_t)(getpid() & 0xFFFF);
    pg->count = count;
    pg->size = size;
    pg->virtual_time = virtual_time;
    pg->wake_fd = -1;
    pg->answered = calloc(count, 1);
    pg->sent_us = calloc(count, sizeof *pg->sent_us);
    pg->sent_ms = calloc(count, sizeof *pg->sent_ms);
    return pg->answered && pg->sent_us && pg->sent_ms ? 0 : -1;
}

static void ping_free(demo_ping_t *pg)
{
    free(pg->answered);
    free(pg->sent_us);
    free(pg->sent_ms);
}

/* Echo reply handler: runs in the stack thread with the core lock held. */
static void ping_reply(void *ctx, tern_ip4_t from, uint16_t id, uint16_t seq, const uint8_t *data, size_t len,
                       uint32_t now)
{
    demo_ping_t *pg = ctx;
    char ipbuf[16];
    if (id != pg->id || from != pg->dst || seq >= pg->count || seq >= pg->sent)
        return; /* not ours */
    uint8_t expect[DEMO_MAX_PING_SIZE];
    ping_fill(expect, pg->size, seq);
    int ok = len == pg->size && memcmp(data, expect, len) == 0;
    double rtt = pg->virtual_time ? (double)(uint32_t)(now - pg->sent_ms[seq])
                                  : (double)(tern_posix_now_us() - pg->sent_us[seq]) / 1000.0;
    int dup = pg->answered[seq] != 0;
    printf("%zu bytes from %s: icmp_seq=%u time=%.3f ms%s%s\n", len, tern_posix_ip4_str(from, ipbuf),
           (unsigned)seq, rtt, dup ? " (DUP!)" : "", ok ? "" : " DATA DIFFERS");
    if (!ok)
        pg->corrupt++;
    if (dup) {
        pg->dups++;
        return;
    }
    pg->answered[seq] = 1;
    pg->received++;
    if (pg->received == 1 || rtt < pg->rtt_min)
        pg->rtt_min = rtt;
    if (rtt > pg->rtt_max)
        pg->rtt_max = rtt;
    pg->rtt_sum += rtt;
    if (pg->received == pg->count && pg->wake_fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(pg->wake_fd, &one, sizeof one);
        (void)n;
    }
}

/* Send request number pg->sent. The stack must be held by the caller. */
static void ping_send_next(demo_ping_t *pg, tern_stack_t *stack, uint32_t now_ms)
{
    uint8_t buf[DEMO_MAX_PING_SIZE];
    uint16_t seq = (uint16_t)pg->sent;
    ping_fill(buf, pg->size, seq);
    pg->sent_us[seq] = tern_posix_now_us();
    pg->sent_ms[seq] = now_ms;
    pg->sent++;
    int rc = tern_ping_send(stack, pg->dst, pg->id, seq, buf, pg->size);
    if (rc != TERN_OK)
        printf("ping: icmp_seq=%u not sent: %s (%s)\n", (unsigned)seq, tern_strerror(rc), tern_errname(rc));
}

/* Summary; returns 0 when every request got exactly its bytes back. */
static int ping_summary(const demo_ping_t *pg)
{
    char ipbuf[16];
    unsigned lost = pg->sent - pg->received;
    printf("--- %s ping statistics ---\n", tern_posix_ip4_str(pg->dst, ipbuf));
    printf("%u transmitted, %u received, %u%% loss, %u corrupted, %u duplicates", pg->sent, pg->received,
           pg->sent ? lost * 100u / pg->sent : 0u, pg->corrupt, pg->dups);
    if (pg->received)
        printf(", rtt min/avg/max = %.3f/%.3f/%.3f ms", pg->rtt_min, pg->rtt_sum / pg->received, pg->rtt_max);
    printf("\n");
    return pg->sent == pg->count && pg->received == pg->count && pg->corrupt == 0 ? 0 : 1;
}

/* ---- Reports ----------------------------------------------------------------- */

static void write_out(void *ctx, const char *text, unsigned len)
{
    (void)ctx;
    fwrite(text, 1, len, stdout);
}

static void print_summary(const tern_stack_t *stack, const char *when)
{
    printf("memory (%s): ", when);
    tern_stack_report_summary(stack, write_out, NULL); /* ends with a newline */
    fflush(stdout);
}

/* After tern_stack_deinit: the ledger must hold nothing. Returns 0 if so. */
static int check_ledger_empty(const tern_stack_t *stack, const char *name)
{
    size_t bytes = tern_ledger_total_bytes(&stack->ledger);
    uint32_t blocks = 0;
    for (int c = 0; c < TERN_MEM_CATEGORY_COUNT; c++)
        blocks += tern_ledger_category(&stack->ledger, (tern_mem_category_t)c)->blocks;
    size_t overhead = tern_ledger_overhead(&stack->ledger);
    /* The books must also agree with a walk of the heap. */
    int verified = tern_ledger_verify(&stack->ledger) == TERN_OK;
    int empty = bytes == 0 && blocks == 0 && overhead == 0 && verified;
    printf("ledger check%s%s after deinit: %s (%zu bytes in %u blocks, overhead %zu, verify %s)\n",
           name ? " " : "", name ? name : "", empty ? "empty" : "NOT EMPTY", bytes, (unsigned)blocks, overhead,
           verified ? "OK" : "FAILED");
    return empty ? 0 : 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tern-demo --tap IFNAME --ip ADDR[/LEN] [--gw ADDR] [--mac MAC] [--pcap FILE] [--copy]\n"
            "                 [--offload csum,tso,rxcsum,lro|all|none] [--no-batch]\n"
            "                 [--ping ADDR [--count N] [--interval MS] [--size BYTES] [--stay]]\n"
            "                 [--udp-send ADDR:PORT [--count N] [--stay]]\n"
            "                 [--tcp-client ADDR:PORT:BYTES [--stay]] [--tcp-buf BYTES] [--tcp-heap BYTES] [--tcp-conns N]\n"
            "                 [--ipv6 [--ip6 ADDR6/LEN]...]\n"
            "       tern-demo --tap IFNAME --dhcp [--dns ADDR] [--resolve NAME]... [other --tap options]\n"
            "       tern-demo --demo-wire [--count N] [--interval MS] [--size BYTES] [--seed N] [--pcap FILE]\n"
            "       tern-demo [--slirp] [--http-port PORT] [--mac MAC] [--pcap FILE] [--ping 10.0.2.2 [--count N] [--stay]]\n"
            "\n"
            "With --tap: run tern on an existing (or new) Linux TAP interface; it answers ARP\n"
            "and ping. --ping sends N echo requests and exits 0 only if all replies come back\n"
            "byte-identical (--stay keeps running afterwards). --copy: the TAP interface copies\n"
            "frames both ways instead of zero-copy (its caps, docs/drivers.md). echo (7),\n"
            "discard (9) and chargen (19) always run on TCP and UDP (--tcp-conns N\n"
            "connections per service at once, default 2, at most 64; --tcp-buf BYTES rings,\n"
            "--tcp-heap BYTES a second heap region, default 4 MB); --tcp-client\n"
            "ADDR:PORT:BYTES (or [IPV6]:PORT:BYTES) sends BYTES to an echo server and checks them back, on\n"
            "--tcp-conns connections at once (default 1);\n"
            "--udp-send sends N datagrams (sizes 0..1472, default 1000)\n"
            "to an echo server and exits 0 only if every echo is byte-identical. SIGUSR1 prints the memory\n"
            "summary, SIGUSR2 the full memory report and counters; SIGINT/SIGTERM exit.\n"
            "Without --tap (or with --slirp): tern on a user-mode network (libslirp, restricted:\n"
            "nothing leaves the machine), 10.0.2.15/24 from slirp's DHCP server, and the dashboard\n"
            "on 127.0.0.1:PORT (--http-port, default 8080), forwarded to tern's port 80. No root.\n"
            "--demo-wire: two stacks on a virtual wire with a little loss, no root needed.\n"
            "--dhcp: get the address from a DHCP server (each state change is printed);\n"
            "--dns ADDR: a DNS server by hand (else the one DHCP gives); --resolve NAME\n"
            "(repeatable): resolve once there is an address and print 'resolve NAME: ADDR'.\n"
            "With --ipv6: --dns also takes an IPv6 address (else RA RDNSS), --resolve6 NAME\n"
            "asks for the AAAA record and prints 'resolve6 NAME: ADDR6'.\n"
            "--ipv6 (with --tap, alone or next to --ip/--dhcp): IPv6 too, a link-local address\n"
            "from the MAC and SLAAC addresses from router advertisements; it answers ping6.\n"
            "Each address is logged when ready (or refused as a duplicate). --ip6 ADDR/LEN\n"
            "(with --ipv6, at most twice): a static IPv6 address, DAD-checked too. --join6 GROUP:\n"
            "the UDP echo socket joins the IPv6 group (MLDv2 reports).\n");
}

/* ---- TAP mode ----------------------------------------------------------------- */

typedef struct demo_tap {
    tern_posix_t px;
    tern_stack_t *stack;
    tern_tap_t tap;
    tern_posix_runner_t runner;
    tern_pcap_t pcap;
    int have_pcap;
} demo_tap_t;

/* ---- UDP client, on the sockets API (the echo service is apps/services) ---- */

/* The client: stop-and-wait, each datagram's bytes depending on its number
 * and position, retransmitted after a second without its echo. */
typedef struct demo_udp_send {
    tern_stack_t *stack;
    tern_posix_runner_t *runner;
    int sock;
    uint32_t dst;
    uint16_t port;
    unsigned count;
    unsigned sent, echoed, corrupt, stale, retransmits, failed;
    uint64_t elapsed_us;
    atomic_int done;
    atomic_int stop;
    int wake_fd;
    pthread_t thread;
} demo_udp_send_t;

static size_t udp_send_size(const demo_udp_send_t *u, unsigned i)
{
    /* Sizes spread over 0..1472, both ends included. */
    return u->count > 1 ? (size_t)i * DEMO_UDP_MAX / (u->count - 1u) : 0u;
}

static void udp_send_fill(uint8_t *buf, size_t len, unsigned i)
{
    for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)(k * 29u + i * 17u + (k >> 8) + 0x33u);
}

static void *udp_send_main(void *arg)
{
    demo_udp_send_t *u = arg;
    static uint8_t out[DEMO_UDP_MAX], in[DEMO_UDP_MAX];
    uint64_t t0 = tern_posix_now_us();
    for (unsigned i = 0; i < u->count && !atomic_load(&u->stop); i++) {
        size_t len = udp_send_size(u, i);
        udp_send_fill(out, len, i);
        int ok = 0;
        for (int attempt = 0; attempt < 4 && !ok && !atomic_load(&u->stop); attempt++) {
            if (attempt > 0)
                u->retransmits++;
            int r = tern_send(u->stack, u->sock, out, len, 0);
            /* A first send may have armed an ARP timer. */
            tern_posix_runner_wake(u->runner);
            if (r != (int)len) {
                printf("udp-send: datagram %u not sent: %s (%s)\n", i, tern_strerror(r), tern_errname(r));
                continue;
            }
            if (attempt == 0)
                u->sent++;
            for (;;) {
                int n = tern_recv(u->stack, u->sock, in, sizeof in, 0);
                if (n < 0)
                    break; /* timeout (retransmit), or stopped */
                if ((size_t)n == len && memcmp(in, out, len) == 0) {
                    ok = 1;
                    break;
                }
                /* Another datagram's echo (a late one after a retransmit) or
                 * damage: tell them apart by content. */
                int known = 0;
                for (unsigned k = i >= 3 ? i - 3 : 0; k < i && !known; k++) {
                    size_t kl = udp_send_size(u, k);
                    udp_send_fill(out, kl, k);
                    known = (size_t)n == kl && memcmp(in, out, kl) == 0;
                }
                udp_send_fill(out, len, i);
                if (known) {
                    u->stale++;
                } else {
                    u->corrupt++;
                    printf("udp-send: datagram %u: echo of %d bytes differs\n", i, n);
                }
            }
        }
        if (ok)
            u->echoed++;
        else
            u->failed++;
    }
    u->elapsed_us = tern_posix_now_us() - t0;
    atomic_store(&u->done, 1);
    uint64_t one = 1;
    ssize_t k = write(u->wake_fd, &one, sizeof one);
    (void)k;
    return NULL;
}

static int udp_send_start(demo_udp_send_t *u, tern_stack_t *stack, tern_posix_runner_t *runner,
                          const demo_opts_t *o, int wake_fd)
{
    memset(u, 0, sizeof *u);
    u->stack = stack;
    u->runner = runner;
    u->dst = o->udp_dst;
    u->port = o->udp_port;
    u->count = o->count ? o->count : DEMO_UDP_DEFAULT_COUNT;
    u->wake_fd = wake_fd;
    atomic_init(&u->done, 0);
    atomic_init(&u->stop, 0);
    u->sock = tern_socket(stack, TERN_SOCK_DGRAM);
    if (u->sock < 0)
        return u->sock;
    tern_sockaddr_t peer = {.addr = u->dst, .port = u->port};
    int r = tern_connect(stack, u->sock, &peer);
    if (r == TERN_OK)
        r = tern_setsockopt(stack, u->sock, TERN_SO_RCVTIMEO, 1000);
    if (r == TERN_OK && pthread_create(&u->thread, NULL, udp_send_main, u) != 0)
        r = TERN_ERR_NOMEM;
    if (r != TERN_OK)
        tern_close(stack, u->sock);
    return r;
}

/* Join the client (stopping it first if it is still running); returns 0
 * when every datagram came back byte-identical. */
static int udp_send_finish(demo_udp_send_t *u)
{
    if (!atomic_load(&u->done)) {
        atomic_store(&u->stop, 1);
        tern_shutdown(u->stack, u->sock, TERN_SHUT_RDWR);
    }
    pthread_join(u->thread, NULL);
    tern_close(u->stack, u->sock);
    char ipbuf[16];
    printf("--- udp-send to %s:%u ---\n", tern_posix_ip4_str(u->dst, ipbuf), (unsigned)u->port);
    printf("%u sent, %u echoed, %u corrupted, %u retransmitted, %u late duplicates, %u failed, %.1f ms\n",
           u->sent, u->echoed, u->corrupt, u->retransmits, u->stale, u->failed, (double)u->elapsed_us / 1000.0);
    return u->echoed == u->count && u->corrupt == 0 ? 0 : 1;
}

static void print_full_report(demo_tap_t *d, demo_tcp_t *t)
{
    /* The socket list takes the core lock itself. */
    printf("== sockets and tcp\n");
    demo_tcp_report(t, &d->px);
    tern_posix_lock(&d->px);
    printf("== memory\n");
    tern_stack_report_memory(d->stack, write_out, NULL);
    printf("== counters\n");
    tern_counters_report_text(d->stack, write_out, NULL);
    printf("== arp cache\n");
    tern_arp_report_text(d->stack, write_out, NULL);
#if TERN_IPV6
    printf("== ipv6 addresses and neighbors\n");
    tern_ipv6_report_text(d->stack, write_out, NULL);
#endif
    printf("== dhcp and dns\n");
    demo_dd_report(d->stack);
    const tern_tap_stats_t *s = &d->tap.stats;
    printf("== driver %s\n", d->tap.ifname);
    printf("rx_frames %llu rx_bytes %llu rx_nobufs %llu rx_runts %llu rx_oversize %llu rx_errors %llu\n",
           (unsigned long long)s->rx_frames, (unsigned long long)s->rx_bytes, (unsigned long long)s->rx_nobufs,
           (unsigned long long)s->rx_runts, (unsigned long long)s->rx_oversize, (unsigned long long)s->rx_errors);
    printf("tx_frames %llu tx_bytes %llu tx_errors %llu tx_short %llu\n", (unsigned long long)s->tx_frames,
           (unsigned long long)s->tx_bytes, (unsigned long long)s->tx_errors, (unsigned long long)s->tx_short);
    printf("offload 0x%02x tx_tso %llu tx_csum %llu rx_large %llu rx_cut %llu rx_csum_ok %llu\n",
           (unsigned)d->tap.netif.offload, (unsigned long long)s->tx_tso, (unsigned long long)s->tx_csum,
           (unsigned long long)s->rx_large, (unsigned long long)s->rx_cut, (unsigned long long)s->rx_csum_ok);
    printf("batch %u rx_batches %llu rx_batch_max %llu\n", d->tap.no_batch ? 0u : 1u,
           (unsigned long long)s->rx_batches, (unsigned long long)s->rx_batch_max);
    if (d->have_pcap)
        printf("pcap frames %llu errors %llu\n", (unsigned long long)d->pcap.frames,
               (unsigned long long)d->pcap.errors);
    fflush(stdout);
    tern_posix_unlock(&d->px);
}

static int run_tap(const demo_opts_t *o)
{
    static demo_tap_t d;
    char ipbuf[16];
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGUSR2);
    /* Blocked before any thread exists, so only the signalfd sees them. */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (sfd < 0 || efd < 0) {
        perror("tern-demo: signalfd/eventfd");
        return 1;
    }

    if (tern_posix_init(&d.px) != TERN_OK) {
        fprintf(stderr, "tern-demo: cannot create locks\n");
        return 1;
    }
    d.stack = calloc(1, sizeof *d.stack);
    if (d.stack == NULL) {
        fprintf(stderr, "tern-demo: out of memory\n");
        return 1;
    }
    int rc = tern_stack_init(d.stack, &d.px.port);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern-demo: tern_stack_init: %s\n", tern_strerror(rc));
        return 1;
    }
    static const uint8_t default_mac[6] = TERN_TAP_DEFAULT_MAC;
    rc = tern_tap_open_offload(&d.tap, o->tap, o->have_mac ? o->mac : default_mac, o->offload);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern-demo: cannot open TAP %s: %s (%s)\n", o->tap, strerror(errno),
                errno == EPERM ? "run as root or with CAP_NET_ADMIN" : "is /dev/net/tun there?");
        tern_stack_deinit(d.stack);
        return 1;
    }
    if (o->copy)
        d.tap.netif.caps = 0; /* before tern_netif_add, as the contract asks */
    d.tap.no_batch = o->no_batch ? 1u : 0u;
    if (o->pcap) {
        if (tern_pcap_open(&d.pcap, o->pcap) != 0) {
            fprintf(stderr, "tern-demo: cannot create %s: %s\n", o->pcap, strerror(errno));
            tern_tap_close(&d.tap);
            tern_stack_deinit(d.stack);
            return 1;
        }
        /* Wall-clock timestamps in the capture; flushed per frame so the
         * file can be read while the demo runs. */
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        uint64_t wall_ms = (uint64_t)rt.tv_sec * 1000u + (uint64_t)rt.tv_nsec / 1000000u;
        d.pcap.epoch_ms = wall_ms - tern_posix_now_ms();
        d.pcap.flush_each = 1;
        d.have_pcap = 1;
        tern_pcap_attach(&d.pcap, &d.tap.netif);
    }

    demo_ping_t pg;
    int have_ping = o->have_ping;
    if (have_ping) {
        if (ping_init(&pg, o->ping_dst, o->count ? o->count : 4u, o->size, 0) != 0) {
            fprintf(stderr, "tern-demo: out of memory\n");
            return 1;
        }
        pg.wake_fd = efd;
    }

    tern_posix_lock(&d.px);
    /* Give the stack the time first: the announcement below is stamped
     * (and captured) with it. */
    (void)tern_poll(d.stack, tern_posix_now_ms());
    rc = tern_netif_add(d.stack, &d.tap.netif);
    if (rc == TERN_OK) {
        uint32_t mask = o->prefix ? ~(uint32_t)0 << (32u - o->prefix) : 0u;
        tern_netif_set_link(&d.tap.netif, 1);
        tern_netif_set_addr(&d.tap.netif, o->ip, mask, o->gw);
#if TERN_IPV6
        /* Link-local address, DAD, then SLAAC from router advertisements. */
        if (o->ipv6)
            rc = tern_ipv6_enable(d.stack, &d.tap.netif, NULL);
        for (unsigned i = 0; rc == TERN_OK && i < o->nip6; i++) {
            tern_ip6_t a6;
            memcpy(a6.b, o->ip6[i], 16);
            rc = tern_ipv6_add_addr(d.stack, &d.tap.netif, &a6, o->ip6_len[i]);
        }
#endif
        if (have_ping)
            tern_ping_set_handler(d.stack, ping_reply, &pg);
    }
    tern_posix_unlock(&d.px);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern-demo: tern_netif_add: %s\n", tern_strerror(rc));
        return 1;
    }
    const uint8_t *m = d.tap.netif.mac;
    printf("tern-demo: %s up, mac %02x:%02x:%02x:%02x:%02x:%02x, ip %s/%u, %s RX, %s TX, pid %d\n", d.tap.ifname,
           m[0], m[1], m[2], m[3], m[4], m[5], tern_posix_ip4_str(o->ip, ipbuf), o->prefix,
           (d.tap.netif.caps & TERN_NETIF_CAP_ZERO_COPY_RX) ? "zero-copy" : "copy",
           (d.tap.netif.caps & TERN_NETIF_CAP_ZERO_COPY_TX) ? "zero-copy" : "copy", (int)getpid());

    if (tern_posix_runner_init(&d.runner, &d.px, d.stack) != TERN_OK || tern_tap_runner_add(&d.runner, &d.tap) ||
        tern_posix_runner_start(&d.runner) != TERN_OK) {
        fprintf(stderr, "tern-demo: cannot start the stack thread\n");
        return 1;
    }
    /* ---- services (apps/services via demo_tcp.c): echo 7, discard 9,
     * chargen 19 on TCP and UDP; before the start summary, their sockets
     * are part of the baseline. --tcp-client also runs a checked client. ---- */
    static demo_tcp_t dtcp;
    rc = demo_tcp_start(&dtcp, d.stack, &d.px, &o->tcp);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern-demo: services: %s\n", tern_strerror(rc));
        return 1;
    }
    printf("tern-demo: echo, discard and chargen on TCP and UDP ports 7, 9, 19 (%u TCP connections each)\n",
           dtcp.svc.cfg.tcp_conns);
    printf("tern-demo: UDP echo service on port 7\n");
#if TERN_IPV6
    if (o->have_join6) {
        tern_ip6_t g;
        char gs[40];
        memcpy(g.b, o->join6, 16);
        (void)tern_ip6_to_str(&g, gs);
        rc = tern_join_group(d.stack, dtcp.svc.udp[0], &g); /* services: echo is index 0 */
        if (rc != TERN_OK) {
            fprintf(stderr, "tern-demo: --join6 %s: %s\n", gs, tern_strerror(rc));
            return 1;
        }
        printf("tern-demo: UDP echo joined %s\n", gs);
    }
#endif
    /* ---- end TCP ---- */
    static demo_http_t dhttp; /* the dashboard on port 80 (demo_http.c) */
    if (demo_http_start(&dhttp, d.stack, &d.px) != TERN_OK)
        return 1;
    tern_posix_lock(&d.px);
    print_summary(d.stack, "start");
    tern_posix_unlock(&d.px);

    int status = 0;
    int pinging = have_ping;
    demo_udp_send_t usend;
    int udp_sending = o->have_udp_send;
    if (udp_sending) {
        rc = udp_send_start(&usend, d.stack, &d.runner, o, efd);
        if (rc != TERN_OK) {
            fprintf(stderr, "tern-demo: --udp-send: %s\n", tern_strerror(rc));
            status = 1;
            udp_sending = 0;
        }
    }
    int udp_sender_started = udp_sending;
    /* ---- TCP client (after the start summary: it is not part of the baseline) ---- */
    int tcp_client = demo_tcp_client_start(&dtcp, &o->tcp, efd, &d.runner);
    if (tcp_client < 0) {
        status = 1;
        tcp_client = 0;
    }
    /* ---- end TCP ---- */
    /* ---- DHCP and DNS (demo_dhcp_dns.c): after the start summary, like
     * any client the application starts ---- */
    static demo_dd_t dd;
    tern_posix_lock(&d.px);
    rc = demo_dd_start(&dd, &o->dd, d.stack, &d.px, &d.tap.netif, efd);
    tern_posix_unlock(&d.px);
    tern_posix_runner_wake(&d.runner);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern-demo: DHCP/DNS: %s\n", tern_strerror(rc));
        status = 1;
    } else if (o->dd.dhcp) {
        printf("tern-demo: DHCP client started on %s\n", d.tap.ifname);
    }
    /* ---- end DHCP and DNS ---- */
    uint64_t next_us = tern_posix_now_us();
    uint64_t final_us = 0; /* after the last request: when to stop waiting */
    for (;;) {
        int timeout = -1;
        if (pinging) {
            uint64_t now = tern_posix_now_us();
            uint64_t due = pg.sent < pg.count ? next_us : final_us;
            timeout = due > now ? (int)((due - now + 999u) / 1000u) : 0;
        }
        struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN}, {.fd = efd, .events = POLLIN}};
        int n = poll(pfd, 2, timeout);
        if (n < 0 && errno != EINTR) {
            perror("tern-demo: poll");
            status = 1;
            break;
        }
        if (n > 0 && (pfd[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGUSR1) {
                    tern_posix_lock(&d.px);
                    print_summary(d.stack, "now");
                    tern_posix_unlock(&d.px);
                } else if (si.ssi_signo == SIGUSR2) {
                    print_full_report(&d, &dtcp);
                } else {
                    printf("tern-demo: %s, stopping\n", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                    if (pinging || udp_sending)
                        status = 1; /* interrupted before every reply came */
                    break;
                }
            }
        }
        if (n > 0 && (pfd[1].revents & POLLIN)) {
            uint64_t v;
            ssize_t k = read(efd, &v, sizeof v);
            (void)k;
        }
        demo_dd_poll(&dd); /* DHCP and DNS: resolve once there is an address */
        if (udp_sending && atomic_load(&usend.done)) {
            udp_sending = 0;
            udp_sender_started = 0;
            if (udp_send_finish(&usend) != 0)
                status = 1;
            fflush(stdout);
            if (!o->stay && !pinging)
                break;
        }
        /* ---- TCP client ---- */
        if (tcp_client) {
            int tr = demo_tcp_client_poll(&dtcp);
            if (tr >= 0) {
                tcp_client = 0;
                status |= tr;
                if (!o->stay && !pinging && !udp_sending)
                    break;
            }
        }
        /* ---- end TCP ---- */
        if (!pinging)
            continue;
        uint64_t now = tern_posix_now_us();
        tern_posix_lock(&d.px);
        if (pg.sent < pg.count && now >= next_us) {
            ping_send_next(&pg, d.stack, tern_posix_now_ms());
            next_us += (uint64_t)o->interval_ms * 1000u;
            if (pg.sent == pg.count)
                final_us = now + 2000000u; /* wait 2 s for the last replies */
        }
        int done = pg.sent == pg.count && (pg.received == pg.count || now >= final_us);
        tern_posix_unlock(&d.px);
        /* The request may have armed an ARP timer: let the stack thread
         * recompute its poll timeout. */
        tern_posix_runner_wake(&d.runner);
        if (done) {
            tern_posix_lock(&d.px);
            status = ping_summary(&pg);
            tern_posix_unlock(&d.px);
            pinging = 0;
            fflush(stdout);
            if (!o->stay && !udp_sending)
                break;
        }
    }

    if (udp_sender_started && udp_send_finish(&usend) != 0)
        status = 1;
    demo_dd_stop(&dd); /* DHCP and DNS: the resolver, the lease, the clients */
    demo_http_stop(&dhttp);
    demo_tcp_stop(&dtcp); /* the services: their thread, then every socket */
    tern_posix_runner_stop(&d.runner);
    /* Only this thread is left, but the rule is the rule (stack.h): the
     * debug build checks it. */
    tern_posix_lock(&d.px);
    print_summary(d.stack, "exit");
    if (have_ping)
        tern_ping_set_handler(d.stack, NULL, NULL);
    tern_netif_remove(d.stack, &d.tap.netif);
    tern_posix_unlock(&d.px);
    tern_tap_close(&d.tap);
    if (d.have_pcap) {
        printf("pcap: %llu frames written to %s\n", (unsigned long long)d.pcap.frames, o->pcap);
        if (tern_pcap_close(&d.pcap) != 0) {
            fprintf(stderr, "tern-demo: writing %s failed\n", o->pcap);
            status = 1;
        }
    }
    tern_stack_deinit(d.stack);
    if (check_ledger_empty(d.stack, NULL) != 0)
        status = 1;
    if (have_ping)
        ping_free(&pg);
    free(d.stack);
    tern_posix_destroy(&d.px);
    close(sfd);
    close(efd);
    printf("tern-demo: exit %d\n", status);
    return status;
}

/* ---- Virtual-wire mode ------------------------------------------------------- */

/* A single-threaded port on the wire's virtual clock: no locks, no waiting,
 * random numbers from a seeded generator, so every run prints the same. */
typedef struct sim_port {
    tern_port_t port;
    uint64_t rng;
    const tern_vwire_t *wire;
} sim_port_t;

static uint32_t sim_random32(void *ctx)
{
    sim_port_t *sp = ctx;
    uint64_t x = sp->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    sp->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint32_t sim_now_ms(void *ctx)
{
    sim_port_t *sp = ctx;
    return tern_vwire_now(sp->wire);
}

static void sim_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    if (level <= TERN_LOG_WARN)
        fprintf(stderr, "[tern %s] %s\n", level == TERN_LOG_ERROR ? "error" : "warn", msg);
}

static void sim_assert(void *ctx, const char *what)
{
    (void)ctx;
    fprintf(stderr, "[tern assert] %s\n", what);
    abort();
}

static void sim_port_init(sim_port_t *sp, uint64_t seed, const tern_vwire_t *wire)
{
    memset(sp, 0, sizeof *sp);
    sp->rng = seed ? seed : 1u;
    sp->wire = wire;
    sp->port.ctx = sp;
    sp->port.random32 = sim_random32;
    sp->port.now_ms = sim_now_ms;
    sp->port.log = sim_log;
    sp->port.assert_failed = sim_assert;
}

static void print_wire_stats(const tern_vwire_t *w, int side, const char *name)
{
    const tern_vwire_stats_t *s = tern_vwire_stats(w, side);
    printf("wire %s: sent %llu, delivered %llu, lost %llu, duplicated %llu, reordered %llu, corrupted %llu, "
           "receiver without buffer %llu\n",
           name, (unsigned long long)s->sent, (unsigned long long)s->delivered, (unsigned long long)s->lost,
           (unsigned long long)s->duplicated, (unsigned long long)s->reordered, (unsigned long long)s->corrupted,
           (unsigned long long)s->rx_nobufs);
}

static int run_wire(const demo_opts_t *o)
{
    static tern_vwire_t wire;
    static sim_port_t port_a, port_b;
    static tern_netif_t nif_a, nif_b;
    static tern_pcap_t pcap;
    const uint32_t ip_a = TERN_IP4(192, 0, 2, 1), ip_b = TERN_IP4(192, 0, 2, 2);
    const uint32_t mask = TERN_IP4(255, 255, 255, 0);
    tern_vwire_params_t params = {
        .loss_ppm = 50000, /* 5% loss each way */
        .delay_ms = 2,
        .jitter_ms = 1,
        .bandwidth_bps = 10000000, /* 10 Mbit/s */
    };
    int status = 0;

    printf("tern-demo: no --tap given, so this is the self-contained demonstration:\n"
           "two tern stacks, A (192.0.2.1) and B (192.0.2.2), joined by a virtual wire\n"
           "(10 Mbit/s, 2-3 ms delay, 5%% loss each way, seed %llu) on a virtual clock.\n"
           "A resolves B with ARP and pings it; B answers. Lost requests or replies\n"
           "show as missing icmp_seq lines. Times are virtual milliseconds.\n\n",
           (unsigned long long)o->seed);

    tern_vwire_init(&wire, o->seed, &params);
    sim_port_init(&port_a, o->seed * 2u + 1u, &wire);
    sim_port_init(&port_b, o->seed * 2u + 2u, &wire);
    tern_stack_t *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    if (a == NULL || b == NULL || tern_stack_init(a, &port_a.port) != TERN_OK ||
        tern_stack_init(b, &port_b.port) != TERN_OK) {
        fprintf(stderr, "tern-demo: cannot initialise the stacks\n");
        return 1;
    }
    static const uint8_t mac_a[6] = {0x02, 0x74, 0x65, 0x72, 0x6e, 0x0a};
    static const uint8_t mac_b[6] = {0x02, 0x74, 0x65, 0x72, 0x6e, 0x0b};
    memcpy(nif_a.mac, mac_a, 6);
    memcpy(nif_b.mac, mac_b, 6);
    if (tern_vwire_attach(&wire, 0, a, &nif_a) != TERN_OK || tern_vwire_attach(&wire, 1, b, &nif_b) != TERN_OK) {
        fprintf(stderr, "tern-demo: cannot attach the stacks to the wire\n");
        return 1;
    }
    if (o->pcap) {
        if (tern_pcap_open(&pcap, o->pcap) != 0) {
            fprintf(stderr, "tern-demo: cannot create %s: %s\n", o->pcap, strerror(errno));
            return 1;
        }
        tern_pcap_attach(&pcap, &nif_a);
    }
    tern_netif_set_addr(&nif_a, ip_a, mask, 0);
    tern_netif_set_addr(&nif_b, ip_b, mask, 0);
    tern_vwire_run(&wire, 10); /* the gratuitous ARPs cross */

    printf("== stack A memory before\n");
    tern_stack_report_memory(a, write_out, NULL);
    printf("== stack B memory before\n");
    tern_stack_report_memory(b, write_out, NULL);
    printf("\n");

    demo_ping_t pg;
    unsigned count = o->count ? o->count : 10u;
    if (ping_init(&pg, ip_b, count, o->size, 1) != 0) {
        fprintf(stderr, "tern-demo: out of memory\n");
        return 1;
    }
    pg.id = 0x7465; /* fixed: the output is the same on every run */
    tern_ping_set_handler(a, ping_reply, &pg);
    printf("PING 192.0.2.2 from 192.0.2.1: %u data bytes, %u requests every %u ms\n", o->size, count,
           o->interval_ms);
    uint32_t t = tern_vwire_now(&wire);
    for (unsigned i = 0; i < count; i++) {
        ping_send_next(&pg, a, t);
        t += o->interval_ms;
        tern_vwire_run(&wire, t);
    }
    tern_vwire_run(&wire, t + 2000u); /* the last replies, ARP retries */
    if (pg.corrupt != 0 || pg.received == 0)
        status = 1;
    (void)ping_summary(&pg);
    print_wire_stats(&wire, 0, "A->B");
    print_wire_stats(&wire, 1, "B->A");
    printf("\n== stack A memory after\n");
    tern_stack_report_memory(a, write_out, NULL);
    printf("== stack B memory after\n");
    tern_stack_report_memory(b, write_out, NULL);
    printf("== stack A ARP cache\n");
    tern_arp_report_text(a, write_out, NULL);
    int va = tern_ledger_verify(&a->ledger), vb = tern_ledger_verify(&b->ledger);
    printf("ledger verify: A %s, B %s\n", va == TERN_OK ? "OK" : "CORRUPT", vb == TERN_OK ? "OK" : "CORRUPT");
    if (va != TERN_OK || vb != TERN_OK)
        status = 1;
    printf("wire trace hash %016llx (same seed, same hash)\n", (unsigned long long)tern_vwire_trace_hash(&wire));

    tern_ping_set_handler(a, NULL, NULL);
    tern_netif_remove(a, &nif_a);
    tern_netif_remove(b, &nif_b);
    tern_vwire_destroy(&wire);
    if (o->pcap) {
        printf("pcap: %llu frames written to %s\n", (unsigned long long)pcap.frames, o->pcap);
        if (tern_pcap_close(&pcap) != 0)
            status = 1;
    }
    tern_stack_deinit(a);
    tern_stack_deinit(b);
    if (check_ledger_empty(a, "A") != 0 || check_ledger_empty(b, "B") != 0)
        status = 1;
    ping_free(&pg);
    free(a);
    free(b);
    printf("tern-demo: exit %d\n", status);
    return status;
}

/* ---- Slirp mode (user-mode network, no root) ---------------------------------- */

/* tern on a libslirp network as QEMU's -netdev user: 10.0.2.15/24 (static
 * until tern has a DHCP client), gateway 10.0.2.2, and the host forward
 * 127.0.0.1:HTTP_PORT -> 10.0.2.15:80 where tern serves the dashboard.
 * Restricted: nothing tern sends leaves the machine. */
/* The driver's figures as an extra /api/stats section ("slirp"). */
static void slirp_stats_json(const tern_stack_t *stack, void *arg, tern_writer_fn write, void *ctx)
{
    (void)stack;
    tern_slirp_stats_t st;
    tern_slirp_get_stats(arg, &st);
    write(ctx, "{", 1);
    tern_stats_write_uint(write, ctx, "rx_frames", st.rx_frames, 1);
    tern_stats_write_uint(write, ctx, "rx_bytes", st.rx_bytes, 0);
    tern_stats_write_uint(write, ctx, "rx_nobufs", st.rx_nobufs, 0);
    tern_stats_write_uint(write, ctx, "rx_bad", st.rx_bad, 0);
    tern_stats_write_uint(write, ctx, "tx_frames", st.tx_frames, 0);
    tern_stats_write_uint(write, ctx, "tx_bytes", st.tx_bytes, 0);
    tern_stats_write_uint(write, ctx, "tx_dropped", st.tx_dropped, 0);
    write(ctx, "}", 1);
}

/* DHCP state changes in slirp mode (stack thread, core lock held). */
static void slirp_dhcp_event(tern_stack_t *stack, void *ctx, int state)
{
    (void)ctx;
    (void)state;
    tern_dhcp_report_text(stack, write_out, NULL); /* "dhcp: STATE ..." */
    fflush(stdout);
}

static void slirp_print_report(tern_posix_t *px, tern_stack_t *stack, tern_slirp_t *s,
                               const tern_stats_section_t *extra)
{
    tern_posix_lock(px);
    printf("== memory\n");
    tern_stack_report_memory(stack, write_out, NULL);
    printf("== counters\n");
    tern_counters_report_text(stack, write_out, NULL);
    printf("== arp cache\n");
    tern_arp_report_text(stack, write_out, NULL);
    tern_slirp_stats_t st;
    tern_slirp_get_stats(s, &st);
    printf("== driver slirp0\nrx_frames %llu rx_bytes %llu rx_nobufs %llu rx_bad %llu tx_frames %llu tx_bytes %llu "
           "tx_dropped %llu\n",
           (unsigned long long)st.rx_frames, (unsigned long long)st.rx_bytes, (unsigned long long)st.rx_nobufs,
           (unsigned long long)st.rx_bad, (unsigned long long)st.tx_frames, (unsigned long long)st.tx_bytes,
           (unsigned long long)st.tx_dropped);
    printf("== /api/stats\n");
    tern_stats_json_ex(stack, extra, write_out, NULL);
    printf("\n");
    fflush(stdout);
    tern_posix_unlock(px);
}

static int run_slirp(const demo_opts_t *o)
{
    static tern_posix_t px;
    static tern_slirp_t sl;
    static tern_posix_runner_t runner;
    static tern_pcap_t pcap;
    static demo_http_t http; /* the dashboard (demo_http.c) */
    static tern_stats_section_t sec_slirp;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before any thread: only the signalfd sees them */
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    if (sfd < 0 || tern_posix_init(&px) != TERN_OK) {
        perror("tern-demo: signalfd/locks");
        return 1;
    }
    tern_stack_t *stack = calloc(1, sizeof *stack);
    if (stack == NULL || tern_stack_init(stack, &px.port) != TERN_OK) {
        fprintf(stderr, "tern-demo: cannot initialise the stack\n");
        return 1;
    }
    tern_slirp_config_t cfg = {.host_port = o->http_port, .guest_port = 80, .mac = o->have_mac ? o->mac : NULL};
    int rc = tern_slirp_open(&sl, &px, &cfg);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern-demo: slirp: %s%s%s\n", tern_strerror(rc),
                rc == TERN_ERR_ADDRINUSE ? ": cannot listen on 127.0.0.1:" : "",
                rc == TERN_ERR_ADDRINUSE ? "the --http-port (in use?)" : "");
        tern_stack_deinit(stack);
        return 1;
    }
    if (o->pcap) {
        if (tern_pcap_open(&pcap, o->pcap) != 0) {
            fprintf(stderr, "tern-demo: cannot create %s: %s\n", o->pcap, strerror(errno));
            return 1;
        }
        pcap.flush_each = 1;
        tern_pcap_attach(&pcap, &sl.netif);
    }
    demo_ping_t pg;
    int pinging = o->have_ping;
    if (pinging && ping_init(&pg, o->ping_dst, o->count ? o->count : 4u, o->size, 0) != 0)
        return 1;
    tern_posix_lock(&px);
    (void)tern_poll(stack, tern_posix_now_ms());
    rc = tern_netif_add(stack, &sl.netif);
    if (rc == TERN_OK) {
        tern_netif_set_link(&sl.netif, 1);
        /* The address from slirp's DHCP server (10.0.2.15); the same address
         * statically if it does not answer two DISCOVERs. */
        rc = tern_dhcp_start(stack, &sl.netif);
        if (rc == TERN_OK)
            rc = tern_dhcp_set_fallback(stack, TERN_SLIRP_GUEST, TERN_SLIRP_MASK, TERN_SLIRP_GATEWAY, 2);
        if (rc == TERN_OK)
            rc = tern_dhcp_set_callback(stack, slirp_dhcp_event, NULL);
        if (pinging)
            tern_ping_set_handler(stack, ping_reply, &pg);
        /* The dashboard: /api/stats gets the server's and the driver's figures too. */
        sec_slirp = (tern_stats_section_t){NULL, "slirp", slirp_stats_json, &sl};
    }
    tern_posix_unlock(&px);
    if (rc != TERN_OK || tern_posix_runner_init(&runner, &px, stack) != TERN_OK ||
        tern_posix_runner_start(&runner) != TERN_OK || tern_slirp_start(&sl, &runner) != TERN_OK) {
        fprintf(stderr, "tern-demo: cannot start the slirp network\n");
        return 1;
    }
    if (demo_http_start_ex(&http, stack, &sec_slirp) != TERN_OK) /* socket calls: no lock held */
        return 1;
    printf("tern-demo: slirp0 up (user-mode network, restricted: nothing leaves this machine)\n"
           "  tern's DHCP client asks slirp's DHCP server for 10.0.2.15/24 (static if none answers)\n"
           "  host forward 127.0.0.1:%u -> 10.0.2.15:80, pid %d\n"
           "  dashboard: http://127.0.0.1:%u/ (tern's HTTP server on its port 80)\n"
           "  SIGUSR1: memory summary; SIGUSR2: full report and the /api/stats JSON; Ctrl-C: exit\n",
           (unsigned)o->http_port, (int)getpid(), (unsigned)o->http_port);
    tern_posix_lock(&px);
    print_summary(stack, "start");
    tern_posix_unlock(&px);

    int status = 0;
    demo_console_t con;
    demo_console_init(&con, &px, stack, &runner, !pinging);
    printf("console: type help for commands (mem, bufs, netstat, arp, counters, ping ADDR, quit)\n");
    fflush(stdout);
    uint64_t next_us = tern_posix_now_us(), final_us = 0;
    for (;;) {
        int timeout = -1;
        if (pinging) {
            uint64_t now = tern_posix_now_us();
            uint64_t due = pg.sent < pg.count ? next_us : final_us;
            timeout = due > now ? (int)((due - now + 999u) / 1000u) : 0;
            if (timeout > 100)
                timeout = 100; /* replies arrive in other threads: look again soon */
        }
        struct pollfd pfds[2] = {{.fd = sfd, .events = POLLIN}, {.fd = demo_console_fd(&con), .events = POLLIN}};
        int n = poll(pfds, demo_console_fd(&con) >= 0 ? 2 : 1, timeout);
        if (n > 0 && demo_console_fd(&con) >= 0 && (pfds[1].revents & (POLLIN | POLLHUP))) {
            if (demo_console_readable(&con)) {
                printf("tern-demo: quit, stopping\n");
                break;
            }
        }
        struct pollfd pfd = pfds[0];
        if (n > 0 && pfd.revents) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGUSR1) {
                    tern_posix_lock(&px);
                    print_summary(stack, "now");
                    tern_posix_unlock(&px);
                } else if (si.ssi_signo == SIGUSR2) {
                    slirp_print_report(&px, stack, &sl, &http.section);
                } else {
                    printf("tern-demo: %s, stopping\n", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                    if (pinging)
                        status = 1;
                    break;
                }
            }
        }
        if (!pinging)
            continue;
        uint64_t now = tern_posix_now_us();
        tern_posix_lock(&px);
        if (pg.sent < pg.count && sl.netif.addr == 0) {
            next_us = now; /* no address yet: wait for DHCP (or its fallback) */
        } else if (pg.sent < pg.count && now >= next_us) {
            ping_send_next(&pg, stack, tern_posix_now_ms());
            next_us += (uint64_t)o->interval_ms * 1000u;
            if (pg.sent == pg.count)
                final_us = now + 2000000u;
        }
        int done = pg.sent == pg.count && (pg.received == pg.count || now >= final_us);
        tern_posix_unlock(&px);
        tern_posix_runner_wake(&runner);
        if (done) {
            tern_posix_lock(&px);
            status = ping_summary(&pg);
            tern_posix_unlock(&px);
            pinging = 0;
            if (!o->stay)
                break;
        }
    }

    demo_console_done(&con);
    demo_http_stop(&http); /* prints the server's figures */
    tern_slirp_stop(&sl);
    tern_posix_runner_stop(&runner);
    tern_posix_lock(&px); /* only this thread is left, but the rule holds (stack.h) */
    tern_dhcp_stop(stack);
    print_summary(stack, "exit");
    if (o->have_ping)
        tern_ping_set_handler(stack, NULL, NULL);
    tern_netif_remove(stack, &sl.netif);
    tern_posix_unlock(&px);
    if (o->have_ping)
        ping_free(&pg);
    tern_slirp_close(&sl);
    if (o->pcap && tern_pcap_close(&pcap) != 0)
        status = 1;
    tern_stack_deinit(stack);
    if (check_ledger_empty(stack, NULL) != 0)
        status = 1;
    free(stack);
    tern_posix_destroy(&px);
    close(sfd);
    printf("tern-demo: exit %d\n", status);
    return status;
}

/* ---- Options ------------------------------------------------------------------ */

/* Unsigned decimal in [lo, hi]; -1 if malformed. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Say why the command line is refused: "tern-demo: what 'arg'". -1. */
static int opt_error(const char *what, const char *arg)
{
    if (arg != NULL)
        fprintf(stderr, "tern-demo: %s '%s'\n", what, arg);
    else
        fprintf(stderr, "tern-demo: %s\n", what);
    return -1;
}

/* "bad value for --NAME 'ARG'". */
static int opt_bad_value(const struct option *opt, const char *arg)
{
    fprintf(stderr, "tern-demo: bad value for --%s: '%s'\n", opt->name, arg);
    return -1;
}

static int parse_opts(int argc, char **argv, demo_opts_t *o)
{
    enum { OPT_TAP = 256, OPT_COPY, OPT_OFFLOAD, OPT_NO_BATCH, OPT_IP, OPT_GW, OPT_MAC, OPT_PCAP, OPT_PING, OPT_COUNT, OPT_INTERVAL, OPT_SIZE,
           OPT_STAY, OPT_SEED, OPT_UDP_SEND,
           OPT_SLIRP, OPT_DEMO_WIRE, OPT_HTTP_PORT,
           OPT_DHCP, OPT_DNS, OPT_RESOLVE, OPT_RESOLVE6 /* demo_dhcp_dns.c */,
           OPT_TCP_CLIENT, OPT_TCP_BUF, OPT_TCP_HEAP, OPT_TCP_CONNS /* demo_tcp.c */, OPT_IPV6,
           OPT_IP6, OPT_JOIN6 };
    static const struct option longopts[] = {
        {"tap", required_argument, NULL, OPT_TAP},
        {"copy", no_argument, NULL, OPT_COPY},
        {"offload", required_argument, NULL, OPT_OFFLOAD},
        {"no-batch", no_argument, NULL, OPT_NO_BATCH},
        {"ip", required_argument, NULL, OPT_IP},
        {"gw", required_argument, NULL, OPT_GW},
        {"mac", required_argument, NULL, OPT_MAC},
        {"pcap", required_argument, NULL, OPT_PCAP},
        {"ping", required_argument, NULL, OPT_PING},
        {"count", required_argument, NULL, OPT_COUNT},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"size", required_argument, NULL, OPT_SIZE},
        {"stay", no_argument, NULL, OPT_STAY},
        {"seed", required_argument, NULL, OPT_SEED},
        {"udp-send", required_argument, NULL, OPT_UDP_SEND},
        {"slirp", no_argument, NULL, OPT_SLIRP},
        {"demo-wire", no_argument, NULL, OPT_DEMO_WIRE},
        {"http-port", required_argument, NULL, OPT_HTTP_PORT},
        {"dhcp", no_argument, NULL, OPT_DHCP},
        {"dns", required_argument, NULL, OPT_DNS},
        {"resolve", required_argument, NULL, OPT_RESOLVE},
        {"resolve6", required_argument, NULL, OPT_RESOLVE6},
        {"tcp-client", required_argument, NULL, OPT_TCP_CLIENT},
        {"tcp-buf", required_argument, NULL, OPT_TCP_BUF},
        {"tcp-heap", required_argument, NULL, OPT_TCP_HEAP},
        {"tcp-conns", required_argument, NULL, OPT_TCP_CONNS},
        {"ipv6", no_argument, NULL, OPT_IPV6},
        {"ip6", required_argument, NULL, OPT_IP6},
        {"join6", required_argument, NULL, OPT_JOIN6},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->interval_ms = 1000;
    o->size = 56;
    o->seed = 1;
    o->http_port = 8080;
    opterr = 0; /* our own message */
    int c, idx = -1;
    unsigned long v;
    while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
        if (c >= OPT_TAP) {
            for (idx = 0; longopts[idx].val != c; idx++) {
            }
        }
        switch (c) {
        case OPT_TAP:
            if (optarg[0] == '\0' || strlen(optarg) >= 16)
                return opt_bad_value(&longopts[idx], optarg);
            o->tap = optarg;
            break;
        case OPT_IP:
            if (tern_posix_parse_ip4(optarg, &o->ip, &o->prefix) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            if (strchr(optarg, '/') == NULL)
                o->prefix = 24;
            o->have_ip = 1;
            break;
        case OPT_GW:
            if (tern_posix_parse_ip4(optarg, &o->gw, NULL) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            break;
        case OPT_MAC:
            if (tern_posix_parse_mac(optarg, o->mac) != 0 || (o->mac[0] & 1u))
                return opt_bad_value(&longopts[idx], optarg); /* not unicast: cannot be ours */
            o->have_mac = 1;
            break;
        case OPT_PCAP:
            if (optarg[0] == '\0')
                return opt_bad_value(&longopts[idx], optarg);
            o->pcap = optarg;
            break;
        case OPT_PING:
            if (tern_posix_parse_ip4(optarg, &o->ping_dst, NULL) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            o->have_ping = 1;
            break;
        case OPT_COUNT:
            if (parse_uint(optarg, 1, DEMO_MAX_COUNT, &v) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            o->count = (unsigned)v;
            break;
        case OPT_INTERVAL:
            if (parse_uint(optarg, 1, 3600000, &v) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            o->interval_ms = (unsigned)v;
            break;
        case OPT_SIZE:
            if (parse_uint(optarg, 0, DEMO_MAX_PING_SIZE, &v) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            o->size = (unsigned)v;
            break;
        case OPT_STAY:
            o->stay = 1;
            break;
        case OPT_COPY:
            o->copy = 1;
            break;
        case OPT_NO_BATCH:
            o->no_batch = 1;
            break;
        case OPT_OFFLOAD:
            if (tern_tap_parse_offload(optarg, &o->offload) != TERN_OK)
                return opt_error("--offload takes csum, tso, rxcsum, lro, all or none (comma-separated)", NULL);
            break;
        case OPT_UDP_SEND: {
            /* ADDR:PORT, port 1..65535 */
            char host[16];
            const char *colon = strchr(optarg, ':');
            size_t hl = colon ? (size_t)(colon - optarg) : 0u;
            if (colon == NULL || hl == 0u || hl >= sizeof host || parse_uint(colon + 1, 1, 65535, &v) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            memcpy(host, optarg, hl);
            host[hl] = '\0';
            if (tern_posix_parse_ip4(host, &o->udp_dst, NULL) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            o->udp_port = (uint16_t)v;
            o->have_udp_send = 1;
            break;
        }
        case OPT_SEED:
            if (parse_uint(optarg, 0, 0xFFFFFFFFul, &v) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            o->seed = v;
            break;
        case OPT_SLIRP: /* slirp block */
            o->slirp = 1;
            break;
        case OPT_DEMO_WIRE:
            o->demo_wire = 1;
            break;
        case OPT_HTTP_PORT:
            if (parse_uint(optarg, 1, 65535, &v) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            o->http_port = (uint16_t)v;
            break;
        case OPT_DHCP: /* DHCP and DNS: demo_dhcp_dns.c */
        case OPT_DNS:
        case OPT_RESOLVE:
        case OPT_RESOLVE6:
            if (demo_dd_option(&o->dd, longopts[idx].name, optarg) != 1)
                return opt_bad_value(&longopts[idx], optarg ? optarg : "");
            break;
        case OPT_TCP_CLIENT: /* demo_tcp.c */
        case OPT_TCP_BUF:
        case OPT_TCP_HEAP:
        case OPT_TCP_CONNS:
            if (demo_tcp_option(&o->tcp, longopts[idx].name, optarg) != 1)
                return opt_bad_value(&longopts[idx], optarg);
            break;
        case OPT_IP6: { /* ADDR/LEN, DAD-checked like the others (repeatable: 2) */
            char buf[64];
            const char *slash = strchr(optarg, '/');
            size_t n = slash != NULL ? (size_t)(slash - optarg) : 0u;
            if (o->nip6 >= 2u || n == 0u || n >= sizeof buf || parse_uint(slash + 1, 1, 128, &v) != 0)
                return opt_bad_value(&longopts[idx], optarg);
            memcpy(buf, optarg, n);
            buf[n] = '\0';
            if (inet_pton(AF_INET6, buf, o->ip6[o->nip6]) != 1)
                return opt_bad_value(&longopts[idx], optarg);
            o->ip6_len[o->nip6++] = (uint8_t)v;
            break;
        }
        case OPT_JOIN6:
            if (inet_pton(AF_INET6, optarg, o->join6) != 1 || o->join6[0] != 0xFF)
                return opt_bad_value(&longopts[idx], optarg);
            o->have_join6 = 1;
            break;
        case OPT_IPV6:
#if !TERN_IPV6
            return opt_error("--ipv6: this tern-demo was built without TERN_IPV6", NULL);
#endif
            o->ipv6 = 1;
            break;
        case 'h':
            return 1;
        default:
            return opt_error("unknown option or missing value:", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return opt_error("unexpected argument", argv[optind]);
    if ((o->tap != NULL) + o->slirp + o->demo_wire > 1)
        return opt_error("--tap, --slirp and --demo-wire are separate modes: pick one", NULL);
    if (o->tap && o->dd.dhcp && o->have_ip)
        return opt_error("--dhcp and --ip are two ways to get an address: pick one", NULL);
    if (!o->tap && demo_dd_wanted(&o->dd))
        return opt_error("--dhcp, --dns and --resolve need --tap", NULL);
    if ((o->nip6 != 0u || o->have_join6) && !o->ipv6)
        return opt_error("--ip6 and --join6 need --ipv6", NULL);
    if (o->tap) {
        if ((!o->have_ip || o->ip == 0) && !o->dd.dhcp && !o->ipv6)
            return opt_error("--tap needs --ip ADDR[/LEN] (or --dhcp, or --ipv6)", NULL);
    } else if (o->ipv6) {
        return opt_error("--ipv6 needs --tap", NULL);
    } else if (o->demo_wire && (o->have_ip || o->gw || o->have_mac || o->have_ping || o->have_udp_send || o->stay)) {
        return opt_error("--ip, --gw, --mac, --ping, --udp-send and --stay need --tap", NULL);
    } else if (!o->demo_wire && (o->have_ip || o->gw || o->have_udp_send)) {
        return opt_error("--slirp (the default without --tap) gets 10.0.2.15/24 by DHCP: --ip, --gw and --udp-send need --tap", NULL);
    }
    if (o->stay && !o->have_ping && !o->have_udp_send && !o->tcp.have_client)
        return opt_error("--stay only makes sense with --ping, --udp-send or --tcp-client", NULL);
    if (o->have_ping && o->have_udp_send)
        return opt_error("--ping and --udp-send cannot be combined (--count is for one of them)", NULL);
    return 0;
}

int main(int argc, char **argv)
{
    demo_opts_t o;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int r = parse_opts(argc, argv, &o);
    if (r > 0) {
        usage(stdout);
        return 0;
    }
    if (r < 0) {
        usage(stderr);
        return 2;
    }
    return o.tap ? run_tap(&o) : o.demo_wire ? run_wire(&o) : run_slirp(&o);
}
