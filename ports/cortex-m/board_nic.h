/* What the shared main loop and console (ports/cortex-m) need from a
 * board's Ethernet driver: one description per board (its main.c). */
#ifndef BOARD_NIC_H
#define BOARD_NIC_H

#include <stdint.h>
#include "tern/stack.h"
#include "tern/stats.h"

typedef struct board_nic {
    const char *name; /* the driver's section in /api/stats and `counters` */
    void *drv;        /* the driver's state */
    const tern_netif_ops_t *ops;
    /* The MAC address the emulator gave the controller. */
    void (*read_mac)(uint8_t mac[6]);
    /* Reset the controller and take nif; TERN_ERR_NOTFOUND if it is absent. */
    int (*init)(void *drv, tern_netif_t *nif);
    /* Main loop: hand received frames to the stack, refill the RX ring. */
    unsigned (*poll)(void *drv, tern_stack_t *stack, uint32_t now);
    /* 1 when the interrupt handler queued work the main loop has not taken. */
    int (*pending)(const void *drv);
    void (*report_text)(const void *drv, tern_writer_fn write, void *ctx);
    tern_stats_fn stats_json;
    const uint32_t *rx_bytes, *tx_bytes; /* the driver's byte counters */
} board_nic_t;

/* The application (ports/cortex-m/app.c): DHCP or a static address, the
 * services, the HTTP dashboard and the console, from one main loop. */
int board_app_main(const board_nic_t *nic) __attribute__((noreturn));

#endif
