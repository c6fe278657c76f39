/* lm3s6965evb's own board support: the PL011 UART0 console at 0x4000C000.
 * The rest (SysTick, printf, random source, MPU stack guard, faults,
 * semihosting exit) is shared: ports/cortex-m/board_common.c. */
#include "board.h"

#define UART0 0x4000C000u
#define UART_DR (UART0 + 0x00u)
#define UART_FR (UART0 + 0x18u) /* bit 4 RXFE (receive empty), bit 5 TXFF (transmit full) */
#define UART_IBRD (UART0 + 0x24u)
#define UART_FBRD (UART0 + 0x28u)
#define UART_LCRH (UART0 + 0x2Cu)
#define UART_CR (UART0 + 0x30u)

void board_uart_init(void)
{
    BOARD_REG(UART_CR) = 0; /* off while it is set up (PL011 TRM) */
    /* 115200 baud from the system clock: divisor = clock / (16 * baud),
     * its fraction in 64ths (QEMU ignores the rate; a real part needs it). */
    uint32_t div64 = (BOARD_SYSCLK_HZ * 4u) / 115200u;
    BOARD_REG(UART_IBRD) = div64 >> 6;
    BOARD_REG(UART_FBRD) = div64 & 63u;
    BOARD_REG(UART_LCRH) = (3u << 5) | (1u << 4); /* 8 bits, FIFOs on */
    BOARD_REG(UART_CR) = (1u << 9) | (1u << 8) | 1u; /* RXE, TXE, UARTEN */
}

void board_uart_putc(char c)
{
    while (BOARD_REG(UART_FR) & (1u << 5)) {
    }
    BOARD_REG(UART_DR) = (uint8_t)c;
}

int board_uart_getc(void)
{
    if (BOARD_REG(UART_FR) & (1u << 4))
        return -1;
    return (int)(BOARD_REG(UART_DR) & 0xFFu);
}
