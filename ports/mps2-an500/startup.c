/* Reset and exception entry for the Cortex-M7 on mps2-an500: the vector
 * table (read at 0x0, where `-kernel` loads the image) and the FPU enable;
 * the rest of the reset path (.data/.bss, the painted main stack) and the
 * fault handlers that print the fault registers on the UART and end QEMU
 * with a failure exit code are shared (ports/cortex-m/board_common.c). */
#include <stdint.h>
#include "board.h"

extern uint32_t _estack;
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SysTick_Handler(void);
void lan9118_irq_handler(void);

__attribute__((used, section(".isr_vector"))) static void (*const vectors[16 + 32])(void) = {
    [0] = (void (*)(void))(uintptr_t)&_estack,
    [1] = Reset_Handler,
    [2] = Default_Handler,     /* NMI */
    [3] = HardFault_Handler,
    [4] = MemManage_Handler,
    [5] = BusFault_Handler,
    [6] = UsageFault_Handler,
    [11] = Default_Handler,    /* SVCall */
    [12] = Default_Handler,    /* DebugMonitor */
    [14] = Default_Handler,    /* PendSV */
    [15] = SysTick_Handler,
    [16 + 13] = lan9118_irq_handler, /* IRQ 13: the Ethernet controller */
};

void Reset_Handler(void)
{
    /* The FPU first: the compiler may use it in any C code (hard-float ABI). */
    BOARD_REG(0xE000ED88u) |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
    __asm volatile("dsb\n isb" ::: "memory");
    board_start();
}
