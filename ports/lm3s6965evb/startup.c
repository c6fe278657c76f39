/* Reset and exception entry for the Cortex-M3 on lm3s6965evb: the vector
 * table at 0x0 (flash, where `-kernel` loads the image). No FPU to enable;
 * the reset path and fault handlers are shared (ports/cortex-m). */
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
void stellaris_eth_irq_handler(void);

__attribute__((used, section(".isr_vector"))) static void (*const vectors[16 + 43])(void) = {
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
    [16 + 42] = stellaris_eth_irq_handler, /* IRQ 42: the Ethernet MAC */
};

void Reset_Handler(void)
{
    board_start();
}
