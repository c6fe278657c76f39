/* A bare-metal Cortex-M7 image that links the whole core: a stack on a
 * driver that would sit on the MAC's DMA rings. It is built (and measured)
 * in every `make test`, not run: there is no board or emulator here yet. */
#include <stdint.h>
#include "tern/stack.h"

static tern_stack_t stack;
static tern_netif_t eth0;

/* xorshift32 seeded from a hardware source on a real board (RNG peripheral). */
static uint32_t board_random32(void *ctx)
{
    uint32_t *s = ctx;
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* What this MAC can do, a constant of the driver (netif.h: caps). The two
 * images take the build's default so that they measure both modes: zero-copy
 * TX in firmware_tern_core, copy in firmware_tern_core_heapbufs. */
#define BOARD_ETH_CAPS TERN_NETIF_CAPS_DEFAULT

/* Stand-in for the MAC: a real zero-copy driver queues the frame on a DMA
 * descriptor and calls tern_netif_tx_done() from its TX-complete interrupt;
 * a copy driver writes it to the FIFO and returns. */
static int board_eth_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    if (BOARD_ETH_CAPS & TERN_NETIF_CAP_ZERO_COPY_TX)
        tern_netif_tx_done(nif, nb);
    (void)nif;
    (void)nb;
    return TERN_OK;
}

static const tern_netif_ops_t board_eth_ops = {NULL, board_eth_output, NULL};

static volatile uint32_t board_ms; /* a SysTick handler advances this */
static volatile uint32_t rx_len;   /* set by the RX interrupt in a real port */
static uint8_t rx_frame[1514];
static uint32_t rng_state = 0x12345678u;

int main(void)
{
    static const tern_port_t port = {.ctx = &rng_state, .random32 = board_random32};
    if (tern_stack_init(&stack, &port) != TERN_OK)
        for (;;) {
        }
    eth0.ops = &board_eth_ops;
    eth0.mac[0] = 0x02;
    eth0.mtu = 1500;
    eth0.offload = TERN_OFFLOAD_RX_IPV4_CSUM | TERN_OFFLOAD_RX_L4_CSUM;
    /* RX below goes through tern_input_copy() whatever the caps say. */
    eth0.caps = BOARD_ETH_CAPS;
    tern_netif_add(&stack, &eth0);
    tern_netif_set_link(&eth0, 1);
    tern_netif_set_addr(&eth0, TERN_IP4(192, 0, 2, 2), TERN_IP4(255, 255, 255, 0), TERN_IP4(192, 0, 2, 1));
    tern_ping_send(&stack, TERN_IP4(192, 0, 2, 1), 1, 1, "tern", 4);
    for (;;) {
        uint32_t len = rx_len;
        if (len != 0u) {
            tern_input_copy(&stack, &eth0, rx_frame, len, board_ms);
            rx_len = 0;
        }
        tern_poll(&stack, board_ms);
    }
}
