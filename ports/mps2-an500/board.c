/* mps2-an500's own board support: the CMSDK APB UART0 console. The rest
 * (SysTick, printf, random source, MPU stack guard, faults, semihosting
 * exit) is shared: ports/cortex-m/board_common.c. */
#include "board.h"

/* ---- Console: CMSDK APB UART0 ----------------------------------------- */

#define UART0 0x40004000u
#define UART_DATA (UART0 + 0x00u)
#define UART_STATE (UART0 + 0x04u) /* bit 0 TX full, bit 1 RX full */
#define UART_CTRL (UART0 + 0x08u)  /* bit 0 TX enable, bit 1 RX enable */
#define UART_BAUDDIV (UART0 + 0x10u)

void board_uart_init(void)
{
    BOARD_REG(UART_BAUDDIV) = BOARD_SYSCLK_HZ / 115200u;
    BOARD_REG(UART_CTRL) = 0x3u; /* TX and RX enabled, no interrupts */
    board_random_stir(BOARD_REG(0xA000009Cu)); /* LAN9118 FREE_RUN: differs between boots */
}

void board_uart_putc(char c)
{
    while (BOARD_REG(UART_STATE) & 1u) {
    }
    BOARD_REG(UART_DATA) = (uint8_t)c;
}

int board_uart_getc(void)
{
    if ((BOARD_REG(UART_STATE) & 2u) == 0u)
        return -1;
    return (int)(BOARD_REG(UART_DATA) & 0xFFu);
}
