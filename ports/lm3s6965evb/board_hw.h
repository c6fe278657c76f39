/* lm3s6965evb's facts for the shared Cortex-M board code (ports/cortex-m). */
#ifndef BOARD_HW_H
#define BOARD_HW_H

#define BOARD_NAME "lm3s6965evb"
#define BOARD_DESC "Cortex-M3, 12 MHz, Stellaris MAC"
/* QEMU's Stellaris system clock at reset (RCC as reset: the 12 MHz main
 * oscillator, no PLL). SysTick counts it (CLKSOURCE = core clock). */
#define BOARD_SYSCLK_HZ 12000000u
#define BOARD_RAM_BUDGET (64u * 1024u)   /* the LM3S6965's SRAM */
#define BOARD_UNMAPPED_ADDR 0x90000000u  /* nothing there; QEMU's lm3s6965evb reads it as 0, no BusFault */

#endif
