/* Code size, minimal TCP-only server: a static address, a TCP echo server
 * on the raw API (tcp.h), nothing else used. With -ffunction-sections and
 * --gc-sections the linker keeps only what this reaches: ARP, IPv4, ICMP
 * (echo replies and errors are the stack's own), TCP, the heap and the
 * ledger, and whatever the stack's input path references (UDP's input,
 * which the IPv4 demultiplexer calls). No configuration option leaves a
 * module out of the core; this is what the linker can drop. */
#include "fw_common.h"

static void echo_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    const uint8_t *span;
    int n;
    while ((n = tern_tcp_peek(pcb, &span)) > 0) {
        int w = tern_tcp_write(pcb, span, (size_t)n);
        if (w <= 0)
            break;
        tern_tcp_consume(pcb, (size_t)w);
    }
    if (tern_tcp_at_eof(pcb))
        tern_tcp_close(pcb);
}

static const tern_tcp_callbacks_t echo_cbs = {.readable = echo_readable, .writable = echo_readable,
                                              .peer_closed = echo_readable};

static int echo_accept(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    (void)listener;
    tern_tcp_set_callbacks(pcb, &echo_cbs, NULL);
    return TERN_OK;
}

static const tern_tcp_callbacks_t listen_cbs = {.accept = echo_accept};

int main(void)
{
    board_up();
    tern_netif_set_addr(&eth0, TERN_IP4(192, 0, 2, 2), TERN_IP4(255, 255, 255, 0), TERN_IP4(192, 0, 2, 1));
    int err;
    if (tern_tcp_listen(&stack, 7, 4, &listen_cbs, NULL, &err) == NULL)
        for (;;) {
        }
    for (;;)
        board_loop_once();
}
