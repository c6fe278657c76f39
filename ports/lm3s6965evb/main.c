/* tern on lm3s6965evb: the Stellaris MAC described for the shared application
 * (ports/cortex-m/app.c: DHCP, services, dashboard, console, main loop). */
#include "board.h"
#include "board_nic.h"
#include "stellaris_eth.h"

static stellaris_eth_t eth;

static int nic_init(void *drv, tern_netif_t *nif)
{
    return stellaris_eth_init(drv, nif);
}

static unsigned nic_poll(void *drv, tern_stack_t *stack, uint32_t now)
{
    return stellaris_eth_poll(drv, stack, now);
}

static int nic_pending(const void *drv)
{
    return stellaris_eth_pending(drv);
}

static void nic_report(const void *drv, tern_writer_fn write, void *ctx)
{
    stellaris_eth_report_text(drv, write, ctx);
}

int main(void)
{
    static const board_nic_t nic = {
        .name = "stellaris",
        .drv = &eth,
        .ops = &stellaris_eth_ops,
        .read_mac = stellaris_eth_read_mac,
        .init = nic_init,
        .poll = nic_poll,
        .pending = nic_pending,
        .report_text = nic_report,
        .stats_json = stellaris_eth_stats_json,
        .rx_bytes = &eth.stats.rx_bytes,
        .tx_bytes = &eth.stats.tx_bytes,
    };
    board_app_main(&nic);
}
