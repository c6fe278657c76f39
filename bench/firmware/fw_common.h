/* Shared by the two code-size images (bench/harness/code-size): a stack on a
 * stand-in MAC driver, as firmware/main.c. Built, not run. */
#ifndef BENCH_FW_COMMON_H
#define BENCH_FW_COMMON_H

#include <stdint.h>
#include "tern/stack.h"

static tern_stack_t stack;
static tern_netif_t eth0;

static uint32_t board_random32(void *ctx)
{
    uint32_t *s = ctx;
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* The stand-in MAC's caps: the build's default, as firmware/main.c. */
#define BOARD_ETH_CAPS TERN_NETIF_CAPS_DEFAULT

static int board_eth_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    if (BOARD_ETH_CAPS & TERN_NETIF_CAP_ZERO_COPY_TX)
        tern_netif_tx_done(nif, nb);
    (void)nif;
    (void)nb;
    return TERN_OK;
}

static const tern_netif_ops_t board_eth_ops = {NULL, board_eth_output, NULL};
static volatile uint32_t board_ms;
static volatile uint32_t rx_len;
static uint8_t rx_frame[1514];
static uint32_t rng_state = 0x12345678u;

static void board_up(void)
{
    static const tern_port_t port = {.ctx = &rng_state, .random32 = board_random32};
    if (tern_stack_init(&stack, &port) != TERN_OK)
        for (;;) {
        }
    eth0.ops = &board_eth_ops;
    eth0.mac[0] = 0x02;
    eth0.mtu = 1500;
    eth0.caps = BOARD_ETH_CAPS;
    tern_netif_add(&stack, &eth0);
    tern_netif_set_link(&eth0, 1);
}

static void board_loop_once(void)
{
    uint32_t len = rx_len;
    if (len != 0u) {
        tern_input_copy(&stack, &eth0, rx_frame, len, board_ms);
        rx_len = 0;
    }
    tern_poll(&stack, board_ms);
}

#endif
