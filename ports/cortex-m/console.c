/* The board's console (see console.h). The commands mirror tern-demo's
 * (ports/posix/demo/demo_console.c) on the board's UART writer; the stack
 * calls are the same, only the output path differs (no stdio here). */
#include "console.h"

#include <string.h>
#include "board.h"
#include "tern/dhcp.h"
#include "tern/err.h"

static void console_ping_reply(void *ctx, tern_ip4_t from, uint16_t id, uint16_t seq, const uint8_t *data,
                               size_t len, uint32_t now)
{
    (void)ctx, (void)id, (void)data, (void)now;
    char a[16];
    tern_ip4_to_str(from, a);
    board_printf("ping: %u bytes from %s: seq=%u\n", (unsigned)len, a, (unsigned)seq);
}

void console_init(console_t *c, tern_stack_t *stack, const board_nic_t *nic)
{
    memset(c, 0, sizeof *c);
    c->stack = stack;
    c->nic = nic;
    tern_ping_set_handler(stack, console_ping_reply, c);
}

static void console_help(void)
{
    board_puts("commands:\n"
               "  mem        heap statistics and the ledger: who holds which bytes\n"
               "  memsum     one line: heap, network buffers, failed allocations, main stack\n"
               "  bufs       network buffers: free, minimum ever free, exhausted\n"
               "  netstat    TCP connections and listeners, sockets\n"
               "  arp        the ARP cache\n"
               "  counters   per-layer counters and the Ethernet driver's\n"
               "  dhcp       the DHCP client's state and lease\n"
               "  ping ADDR  send one echo request\n"
               "  stack      main stack high-water mark and static RAM\n"
               "  cpu [reset] busy and idle virtual time (-icount shift=0: busy ns = instructions)\n"
               "  fault KIND bus, hard or stack: fault on purpose (tests the fault report)\n"
               "  help       this list\n");
}

static void console_bufs(const tern_stack_t *s)
{
    const tern_netbuf_pool_t *p = &s->netbufs;
    board_printf("network buffers (%s scheme): %u of %u free, minimum ever free %u, gets %u, releases %u, "
                 "exhausted %u\n",
                 TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC ? "STATIC" : "HEAP", (unsigned)p->free_count,
                 (unsigned)TERN_NETBUF_COUNT, (unsigned)p->min_free, (unsigned)p->gets, (unsigned)p->releases,
                 (unsigned)p->exhausted);
}

static void console_endpoint(char *out, tern_ip4_t a, uint16_t port)
{
    size_t n = tern_ip4_to_str(a, out);
    out[n++] = ':';
    char rev[6];
    size_t k = 0;
    do {
        rev[k++] = (char)('0' + port % 10u);
        port /= 10u;
    } while (port != 0u);
    while (k > 0u)
        out[n++] = rev[--k];
    out[n] = '\0';
}

static void console_netstat(const tern_stack_t *s)
{
    tern_tcp_info_t rows[16];
    size_t n = tern_tcp_list(s, rows, sizeof rows / sizeof rows[0]);
    board_printf("%-12s %-22s %-22s %8s %8s %8s\n", "tcp state", "local", "remote", "recv-q", "send-q", "held");
    for (size_t i = 0; i < n && i < sizeof rows / sizeof rows[0]; i++) {
        char l[24], r[24];
        console_endpoint(l, rows[i].local_addr, rows[i].local_port);
        console_endpoint(r, rows[i].remote_addr, rows[i].remote_port);
        board_printf("%-12s %-22s %-22s %8u %8u %8u\n", tern_tcp_state_name(rows[i].state), l, r,
                     (unsigned)rows[i].recv_queue, (unsigned)rows[i].send_queue, (unsigned)rows[i].bytes_held);
    }
    if (n > sizeof rows / sizeof rows[0])
        board_printf("(%u more)\n", (unsigned)(n - sizeof rows / sizeof rows[0]));
    unsigned open = 0;
    for (unsigned id = 1; id <= TERN_SOCKET_MAX; id++) {
        if (s->sockets.slots[id - 1] == NULL)
            continue;
        if (open++ == 0)
            board_puts("sockets:\n");
        board_printf("  socket %u holds %u bytes\n", id, (unsigned)tern_ledger_owner_bytes(&s->ledger, id));
    }
    if (open == 0)
        board_puts("sockets: none open\n");
}

static void console_stack(void)
{
    board_printf("board: main stack high-water %u of %u bytes, static RAM (.data+.bss) %u of %u bytes, "
                 "tern heap %u bytes (in .bss)\n",
                 (unsigned)board_stack_high_water(), (unsigned)board_stack_size(), (unsigned)board_static_ram(),
                 (unsigned)BOARD_RAM_BUDGET, (unsigned)TERN_HEAP_SIZE);
}

void console_memsum(const tern_stack_t *s)
{
    tern_heap_stats_t hs;
    tern_ledger_heap_stats(&s->ledger, &hs);
    board_printf("memsum: heap free %u min %u of %u, netbufs free %u min %u of %u, heap failures %u, "
                 "stack high-water %u of %u\n",
                 (unsigned)hs.free, (unsigned)hs.min_free, (unsigned)hs.total,
                 (unsigned)tern_netbuf_free_count(&s->netbufs), (unsigned)tern_netbuf_min_free(&s->netbufs),
                 (unsigned)TERN_NETBUF_COUNT, (unsigned)hs.failures, (unsigned)board_stack_high_water(),
                 (unsigned)board_stack_size());
}

static void console_run(console_t *c, char *cmd)
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
    } else if (strcmp(cmd, "mem") == 0) {
        tern_stack_report_memory(s, board_writer, NULL);
        console_stack();
    } else if (strcmp(cmd, "memsum") == 0) {
        console_memsum(s);
    } else if (strcmp(cmd, "bufs") == 0) {
        console_bufs(s);
    } else if (strcmp(cmd, "netstat") == 0) {
        console_netstat(s);
    } else if (strcmp(cmd, "arp") == 0) {
        tern_arp_report_text(s, board_writer, NULL);
    } else if (strcmp(cmd, "counters") == 0) {
        tern_counters_report_text(s, board_writer, NULL);
        c->nic->report_text(c->nic->drv, board_writer, NULL);
    } else if (strcmp(cmd, "dhcp") == 0) {
        tern_dhcp_report_text(s, board_writer, NULL);
    } else if (strcmp(cmd, "stack") == 0) {
        console_stack();
    } else if (strcmp(cmd, "cpu") == 0 || strcmp(cmd, "cpu reset") == 0) {
        uint32_t irq = board_irq_save();
        uint64_t now = board_time_ns();
        board_irq_restore(irq);
        if (cmd[3] != '\0') {
            board_cpu.since_ns = now;
            board_cpu.idle_ns = 0;
        }
        uint64_t total = now - board_cpu.since_ns, busy = total - board_cpu.idle_ns;
        /* Printed in microseconds and their ns remainder: the printf here is 32-bit. */
        board_printf("cpu: busy %u.%03u us, idle %u.%03u us, eth rx %u tx %u bytes\n", (unsigned)(busy / 1000u),
                     (unsigned)(busy % 1000u), (unsigned)(board_cpu.idle_ns / 1000u),
                     (unsigned)(board_cpu.idle_ns % 1000u), (unsigned)*c->nic->rx_bytes,
                     (unsigned)*c->nic->tx_bytes);
    } else if (strncmp(cmd, "fault ", 6) == 0) {
        board_fault_trigger(cmd + 6);
        board_printf("fault: '%s' is not bus, hard or stack\n", cmd + 6);
    } else if (strncmp(cmd, "ping ", 5) == 0) {
        tern_ip4_t dst;
        if (tern_ip4_from_str(cmd + 5, &dst) != TERN_OK) {
            board_printf("ping: '%s' is not an IPv4 address\n", cmd + 5);
        } else {
            int r = tern_ping_send(s, dst, 0x7e57, c->ping_seq++, "tern console ping", 17);
            if (r != TERN_OK)
                board_printf("ping: %s\n", tern_strerror(r));
        }
    } else {
        board_printf("unknown command '%s' (help lists them)\n", cmd);
    }
}

int console_poll(console_t *c)
{
    int did = 0;
    for (int ch = board_getc(); ch >= 0; ch = board_getc()) {
        did = 1;
        if (ch == '\r' || ch == '\n') {
            board_puts("\n");
            c->line[c->len] = '\0';
            console_run(c, c->line);
            c->len = 0;
            board_puts("tern> ");
        } else if (ch == 0x7F || ch == 0x08) {
            if (c->len > 0) {
                c->len--;
                board_puts("\b \b");
            }
        } else if (c->len + 1 < sizeof c->line && ch >= 0x20) {
            c->line[c->len++] = (char)ch;
            board_putc((char)ch); /* echo: the terminal is raw */
        }
    }
    return did;
}
