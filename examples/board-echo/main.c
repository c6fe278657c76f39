/* board-echo: a small firmware on tern for QEMU's mps2-an500 (Cortex-M7,
 * LAN9118). DHCP for the address, then a TCP echo server on port 7 (two
 * clients at once), from one main loop: the start-up sequence
 * docs/getting-started.md explains ("Start-up sequence on bare metal").
 * The UART prints the address and each connection. */
#include <string.h>
#include "board.h"   /* ports/cortex-m: clock, UART output, random source */
#include "lan9118.h" /* ports/mps2-an500: the Ethernet driver */
#include "tern/dhcp.h"
#include "tern/socket.h"
#include "tern/stack.h"

static tern_stack_t stack; /* the heap arena is inside: a static object */
static tern_netif_t eth0;
static lan9118_t eth;

static uint32_t port_random32(void *ctx)
{
    (void)ctx;
    return board_random32();
}

static uint32_t port_now_ms(void *ctx)
{
    (void)ctx;
    return board_now_ms();
}

static void port_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    (void)level;
    board_printf("tern: %s\n", msg);
}

static void port_assert_failed(void *ctx, const char *what)
{
    (void)ctx;
    board_printf("board-echo: tern assertion failed: %s\n", what);
    board_exit(0);
}

static const tern_port_t port = {
    .random32 = port_random32,
    .now_ms = port_now_ms,
    .log = port_log,
    .assert_failed = port_assert_failed,
};

static void on_dhcp(struct tern_stack *s, void *ctx, int state)
{
    (void)s;
    (void)ctx;
    if (state == TERN_DHCP_BOUND) {
        char a[16];
        tern_ip4_to_str(eth0.addr, a);
        board_printf("board-echo: address %s, TCP echo on port 7\n", a);
    }
}

/* The echo service: a listener and up to two clients, each moved along by
 * the main loop without blocking. A client's bytes wait in a small buffer
 * while the send ring is full. */
#define CLIENTS 2
static struct client {
    int sock; /* -1: free */
    uint8_t buf[512];
    size_t len, off;
} clients[CLIENTS];
static int listener = -1;

static void echo_start(void)
{
    for (unsigned i = 0; i < CLIENTS; i++)
        clients[i].sock = -1;
    tern_sockaddr_t local = {.addr = 0, .port = 7};
    listener = tern_socket(&stack, TERN_SOCK_STREAM);
    if (listener < 0 || tern_bind(&stack, listener, &local) != TERN_OK ||
        tern_listen(&stack, listener, CLIENTS) != TERN_OK) {
        board_puts("board-echo: cannot listen on port 7\n");
        board_exit(0);
    }
}

static int echo_poll(void)
{
    int busy = 0;
    tern_sockaddr_t peer;
    int c = tern_accept(&stack, listener, &peer);
    if (c >= 0) {
        unsigned i = 0;
        while (i < CLIENTS && clients[i].sock >= 0)
            i++;
        if (i == CLIENTS) {
            tern_close(&stack, c); /* full: the client sees the connection end */
        } else {
            clients[i].sock = c;
            clients[i].len = clients[i].off = 0;
            board_printf("board-echo: client %u connected\n", i);
        }
        busy = 1;
    }
    for (unsigned i = 0; i < CLIENTS; i++) {
        struct client *k = &clients[i];
        if (k->sock < 0)
            continue;
        if (k->len == 0) {
            int n = tern_recv(&stack, k->sock, k->buf, sizeof k->buf, 0);
            if (n > 0) {
                k->len = (size_t)n;
                k->off = 0;
            } else if (n == 0 || n != TERN_ERR_WOULDBLOCK) {
                /* The peer closed (or the connection failed): done. */
                tern_close(&stack, k->sock);
                k->sock = -1;
                board_printf("board-echo: client %u closed\n", i);
                busy = 1;
                continue;
            }
        }
        if (k->len > 0) {
            int n = tern_send(&stack, k->sock, k->buf + k->off, k->len - k->off, 0);
            if (n > 0) {
                k->off += (size_t)n;
                if (k->off == k->len)
                    k->len = 0;
                busy = 1;
            } else if (n != TERN_ERR_WOULDBLOCK) {
                tern_close(&stack, k->sock);
                k->sock = -1;
            }
        }
    }
    return busy;
}

int main(void)
{
    board_puts("\nboard-echo: tern on mps2-an500\n");
    /* 1. The stack, on this board's port functions. */
    if (tern_stack_init(&stack, &port) != TERN_OK) {
        board_puts("board-echo: tern_stack_init failed\n");
        board_exit(0);
    }
    /* 2. The interface: the driver's MAC address, ops, MTU, name. */
    lan9118_read_mac(eth0.mac);
    for (unsigned i = 0; i < 6; i++)
        board_random_stir(eth0.mac[i]);
    eth0.ops = &lan9118_ops;
    eth0.driver = &eth;
    eth0.mtu = 1500;
    memcpy(eth0.name, "eth0", 5);
    if (lan9118_init(&eth, &eth0) != TERN_OK || tern_netif_add(&stack, &eth0) != TERN_OK) {
        board_puts("board-echo: no Ethernet\n");
        board_exit(0);
    }
    (void)lan9118_poll(&eth, &stack, board_now_ms()); /* link state, RX ring filled */
    /* 3. An address from DHCP, and the service. */
    if (tern_dhcp_start(&stack, &eth0) == TERN_OK)
        (void)tern_dhcp_set_callback(&stack, on_dhcp, NULL);
    echo_start();
    /* 4. The main loop: frames in, timers, the service; sleep when idle. */
    uint32_t next_poll = 0;
    for (;;) {
        uint32_t now = board_now_ms();
        int busy = lan9118_poll(&eth, &stack, now) != 0u;
        if ((int32_t)(now - next_poll) >= 0 || busy) {
            uint32_t wait = tern_poll(&stack, now);
            next_poll = now + (wait < 10u ? wait : 10u);
        }
        busy |= echo_poll();
        if (!busy) {
            /* Interrupts off around the check, so a frame arriving between
             * it and the WFI still wakes the core (SysTick does, each ms). */
            uint32_t irq = board_irq_save();
            if (!lan9118_pending(&eth))
                __asm volatile("wfi");
            board_irq_restore(irq);
        }
    }
}
