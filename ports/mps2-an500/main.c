/* tern on mps2-an500: the LAN9118 described for the shared application
 * (ports/cortex-m/app.c: DHCP, services, dashboard, console, main loop). */
#include "board.h"
#include "board_nic.h"
#include "lan9118.h"

static lan9118_t eth;

static int nic_init(void *drv, tern_netif_t *nif)
{
    return lan9118_init(drv, nif);
}

static unsigned nic_poll(void *drv, tern_stack_t *stack, uint32_t now)
{
    return lan9118_poll(drv, stack, now);
}

static int nic_pending(const void *drv)
{
    return lan9118_pending(drv);
}

static void nic_report(const void *drv, tern_writer_fn write, void *ctx)
{
    lan9118_report_text(drv, write, ctx);
}

int main(void)
{
    static const board_nic_t nic = {
        .name = "lan9118",
        .drv = &eth,
        .ops = &lan9118_ops,
        .read_mac = lan9118_read_mac,
        .init = nic_init,
        .poll = nic_poll,
        .pending = nic_pending,
        .report_text = nic_report,
        .stats_json = lan9118_stats_json,
        .rx_bytes = &eth.stats.rx_bytes,
        .tx_bytes = &eth.stats.tx_bytes,
    };
    board_app_main(&nic);
}
