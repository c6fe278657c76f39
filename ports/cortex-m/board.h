/* Board support shared by the Cortex-M boards (ports/cortex-m): clock,
 * console, random source, stack measurement, fault reporting and the way
 * out (semihosting exit). Each board folder supplies board_hw.h (its name,
 * core clock and RAM budget), its UART (board_uart_*), its startup vector
 * table and its Ethernet driver; everything else is here (docs/boards.md). */
#ifndef BOARD_H
#define BOARD_H

#include <stddef.h>
#include <stdint.h>
#include "board_hw.h" /* BOARD_NAME, BOARD_DESC, BOARD_SYSCLK_HZ, BOARD_RAM_BUDGET */

#define BOARD_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* Clock, UART, MPU stack guard, fault reporting on. */
void board_init(void);
/* The reset path after the board's own first steps: .data copied from
 * flash, .bss zeroed, the main stack painted, board_init, main, exit. */
void board_start(void) __attribute__((noreturn));

/* The board's UART (its board.c): set up, one byte out (waits for room), one
 * byte in or -1. */
void board_uart_init(void);
void board_uart_putc(char c);
int board_uart_getc(void);

/* Milliseconds since boot (SysTick, 1 ms), wrapping at 2^32. */
uint32_t board_now_ms(void);

/* Virtual nanoseconds since boot (SysTick: one core clock of resolution).
 * Under QEMU's -icount shift=0 one guest instruction takes 1 ns, so busy
 * time is an instruction count. Call with interrupts off. */
uint64_t board_time_ns(void);
/* Main-loop CPU accounting: time asleep in WFI, and since when counted. */
typedef struct board_cpu {
    uint64_t since_ns;
    uint64_t idle_ns;
} board_cpu_t;
extern board_cpu_t board_cpu;

/* Console (the board's UART, polled: QEMU holds back input until the
 * receive buffer is read, so nothing is lost). */
void board_putc(char c);
void board_write(const char *s, size_t len);
void board_puts(const char *s);
/* A byte from the console, or -1. */
int board_getc(void);
/* printf subset: %s %c %d %u %x %p with width, '-' and '0'; 'l' and 'z'
 * accepted (32-bit target). */
void board_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A tern_writer_fn on the UART. */
void board_writer(void *ctx, const char *text, unsigned len);

/* 32 random bits (see board.c: what a real board uses instead). */
uint32_t board_random32(void);
/* Stir an event's timing into the pool (the Ethernet ISR calls it). */
void board_random_stir(uint32_t v);

/* Main stack: size, and the most of it ever used (painted at boot). */
uint32_t board_stack_size(void);
uint32_t board_stack_high_water(void);
/* Static RAM: .data + .bss bytes (tern's heap arena is inside .bss). */
uint32_t board_static_ram(void);


/* Interrupts off/on around what the Ethernet ISR also touches. */
static inline uint32_t board_irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    return primask;
}
static inline void board_irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* End QEMU through semihosting: exit status 0 when ok, else 1. On a real
 * board: a reset (or a breakpoint with a debugger attached). */
void board_exit(int ok) __attribute__((noreturn));

/* Deliberate faults for the fault-path test (console `fault KIND`):
 * "bus" (read of the unmapped BOARD_UNMAPPED_ADDR), "hard" (undefined instruction),
 * "stack" (recursion into the MPU guard). Returns only for an unknown kind. */
void board_fault_trigger(const char *kind);

#endif
