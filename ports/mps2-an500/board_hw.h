/* mps2-an500's facts for the shared Cortex-M board code (ports/cortex-m). */
#ifndef BOARD_HW_H
#define BOARD_HW_H

#define BOARD_NAME "mps2-an500"
#define BOARD_DESC "Cortex-M7, 25 MHz, LAN9118"
#define BOARD_SYSCLK_HZ 25000000u            /* AN500: 25 MHz */
#define BOARD_RAM_BUDGET (320u * 1024u)      /* the STM32F746's RAM */
#define BOARD_UNMAPPED_ADDR 0x90000000u      /* nothing there: a read is a BusFault */

#endif
