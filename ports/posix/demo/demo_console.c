/* The demo's console: the seed's "console readout", done properly. Each
 * command takes the core lock around the stack calls it makes. */
#include "demo_console.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tern/err.h"

static void console_write(void *ctx, const char *text, unsigned len)
{
    (void)ctx;
    fwrite(text, 1, len, stdout);
}

static void console_ping_reply(void *ctx, tern_ip4_t from, uint16_t id, uint16_t seq, const uint8_t *data,
                               size_t len, uint32_t now)
{
    (void)ctx, (void)id, (void)data, (void)now;
    char a[16];
    tern_ip4_to_str(from, a);
    printf("ping: %zu bytes from %s: seq=%u\n", len, a, (unsigned)seq);
    fflush(stdout);
}

void demo_console_init(demo_console_t *c, tern_posix_t *px, tern_stack_t *stack, tern_posix_runner_t *runner,
                       int own_ping)
{
    memset(c, 0, sizeof *c);
    c->px = px;
    c->stack = stack;
    c->runner = runner;
    c->fd = STDIN_FILENO;
    if (own_ping) {
        tern_posix_lock(px);
        tern_ping_set_handler(stack, console_ping_reply, c);
        tern_posix_unlock(px);
        c->ping_handler = 1;
    }
}

int demo_console_fd(const demo_console_t *c)
{
    return c->fd;
}

static void console_help(void)
{
    printf("commands:\n"
           "  mem        heap statistics and the ledger: who holds which bytes\n"
           "  bufs       network buffers: free, minimum ever free, exhausted\n"
           "  netstat    TCP connections and listeners, sockets\n"
           "  arp        the ARP cache\n"
           "  counters   per-layer counters (received, sent, dropped by reason)\n"
           "  ping ADDR  send one echo request\n"
           "  help       this list\n"
           "  quit       stop tern-demo\n");
}

static void console_bufs(const tern_stack_t *s)
{
    const tern_netbuf_pool_t *p = &s->netbufs;
    printf("network buffers (%s scheme): %u of %u free, minimum ever free %u, gets %u, releases %u, "
           "exhausted %u\n",
           TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC ? "STATIC" : "HEAP", (unsigned)p->free_count,
           (unsigned)TERN_NETBUF_COUNT, (unsigned)p->min_free, (unsigned)p->gets, (unsigned)p->releases,
           (unsigned)p->exhausted);
}

static void console_netstat(const tern_stack_t *s)
{
    tern_tcp_info_t rows[32];
    size_t n = tern_tcp_list(s, rows, sizeof rows / sizeof rows[0]);
    printf("%-12s %-22s %-22s %8s %8s %8s\n", "tcp state", "local", "remote", "recv-q", "send-q", "held");
    for (size_t i = 0; i < n && i < sizeof rows / sizeof rows[0]; i++) {
        char la[40], ra[40], l[48], r[48];
        const char *o = "", *c = "";
#if TERN_IPV6
        if (rows[i].family == TERN_TCP_FAMILY_IP6) {
            (void)tern_ip6_to_str(&rows[i].local_addr6, la);
            (void)tern_ip6_to_str(&rows[i].remote_addr6, ra);
            o = "[";
            c = "]";
        } else
#endif
        {
            tern_ip4_to_str(rows[i].local_addr, la);
            tern_ip4_to_str(rows[i].remote_addr, ra);
        }
        snprintf(l, sizeof l, "%s%s%s:%u", o, la, c, (unsigned)rows[i].local_port);
        snprintf(r, sizeof r, "%s%s%s:%u", o, ra, c, (unsigned)rows[i].remote_port);
        printf("%-12s %-22s %-22s %8u %8u %8u\n", tern_tcp_state_name(rows[i].state), l, r,
               (unsigned)rows[i].recv_queue, (unsigned)rows[i].send_queue, (unsigned)rows[i].bytes_held);
    }
    if (n > sizeof rows / sizeof rows[0])
        printf("(%zu more)\n", n - sizeof rows / sizeof rows[0]);
    unsigned open = 0;
    for (unsigned id = 1; id <= TERN_SOCKET_MAX; id++) {
        if (s->sockets.slots[id - 1] == NULL)
            continue;
        if (open++ == 0)
            printf("sockets:\n");
        printf("  socket %u holds %zu bytes\n", id, tern_ledger_owner_bytes(&s->ledger, id));
    }
    if (open == 0)
        printf("sockets: none open\n");
}

static void console_run(demo_console_t *c, char *cmd)
{
    while (*cmd == ' ' || *cmd == '\t')
        cmd++;
    size_t n = strlen(cmd);
    while (n > 0 && (cmd[n - 1] == ' ' || cmd[n - 1] == '\t' || cmd[n - 1] == '\r'))
        cmd[--n] = '\0';
    if (n == 0)
        return;
    tern_stack_t *s = c->stack;
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "?") == 0) {
        console_help();
    } else if (strcmp(cmd, "quit") == 0 || strcmp(cmd, "exit") == 0) {
        c->quit = 1;
    } else if (strcmp(cmd, "mem") == 0) {
        tern_posix_lock(c->px);
        tern_stack_report_memory(s, console_write, NULL);
        tern_posix_unlock(c->px);
    } else if (strcmp(cmd, "bufs") == 0) {
        tern_posix_lock(c->px);
        console_bufs(s);
        tern_posix_unlock(c->px);
    } else if (strcmp(cmd, "netstat") == 0) {
        tern_posix_lock(c->px);
        console_netstat(s);
        tern_posix_unlock(c->px);
    } else if (strcmp(cmd, "arp") == 0) {
        tern_posix_lock(c->px);
        tern_arp_report_text(s, console_write, NULL);
        tern_posix_unlock(c->px);
    } else if (strcmp(cmd, "counters") == 0) {
        tern_posix_lock(c->px);
        tern_counters_report_text(s, console_write, NULL);
        tern_posix_unlock(c->px);
    } else if (strncmp(cmd, "ping ", 5) == 0) {
        tern_ip4_t dst;
        if (tern_ip4_from_str(cmd + 5, &dst) != TERN_OK) {
            printf("ping: '%s' is not an IPv4 address\n", cmd + 5);
        } else if (!c->ping_handler) {
            printf("ping: the demo's --ping mode owns the replies; not available here\n");
        } else {
            tern_posix_lock(c->px);
            int r = tern_ping_send(s, dst, 0x7e57, c->ping_seq++, "tern console ping", 17);
            tern_posix_unlock(c->px);
            if (c->runner)
                tern_posix_runner_wake(c->runner);
            if (r != TERN_OK)
                printf("ping: %s\n", tern_strerror(r));
        }
    } else {
        printf("unknown command '%s' (help lists them)\n", cmd);
    }
    fflush(stdout);
}

int demo_console_readable(demo_console_t *c)
{
    if (c->fd < 0)
        return c->quit;
    char buf[256];
    ssize_t r = read(c->fd, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        c->fd = -1; /* end of input: keep running, stop reading */
        return c->quit;
    }
    for (ssize_t i = 0; i < r && !c->quit; i++) {
        if (buf[i] == '\n') {
            c->line[c->len] = '\0';
            console_run(c, c->line);
            c->len = 0;
        } else if (c->len + 1 < sizeof c->line) {
            c->line[c->len++] = buf[i];
        }
    }
    return c->quit;
}

void demo_console_done(demo_console_t *c)
{
    if (c->ping_handler) {
        tern_posix_lock(c->px);
        tern_ping_set_handler(c->stack, NULL, NULL);
        tern_posix_unlock(c->px);
        c->ping_handler = 0;
    }
}
