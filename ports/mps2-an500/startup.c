/* Reset and exception entry for the Cortex-M7 on mps2-an500: the vector
 * table (read at 0x0, where `-kernel` loads the image), .data/.bss set-up,
 * the painted main stack, and fault handlers that print the fault registers
 * on the UART and end QEMU with a failure exit code. */
#include <stdint.h>
#include <string.h>
#include "board.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;
int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SysTick_Handler(void);
void lan9118_irq_handler(void);
void board_fault_report(const uint32_t *frame, uint32_t exc_return, uint32_t ipsr);

#define BOARD_STACK_PAINT 0xC0DEFACEu

/* A separate small stack for the fault report: the main stack may be the
 * thing that broke (an overflow into the MPU guard). */
static uint32_t fault_stack[256] __attribute__((aligned(8)));

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
    memcpy(&_sdata, &_sidata, (size_t)((uintptr_t)&_edata - (uintptr_t)&_sdata));
    memset(&_sbss, 0, (size_t)((uintptr_t)&_ebss - (uintptr_t)&_sbss));
    /* Paint the main stack below the current frame, so the high-water
     * mark can be read back (board_stack_high_water). */
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (volatile uint32_t *p = &_sstack; (uintptr_t)p < sp - 64u; p++)
        *p = BOARD_STACK_PAINT;
    board_init();
    int rc = main();
    board_exit(rc == 0);
}

uint32_t board_stack_size(void)
{
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_sstack);
}

uint32_t board_stack_high_water(void)
{
    const uint32_t *p = &_sstack + 256; /* above the 1 KB MPU guard */
    while (p < &_estack && *p == BOARD_STACK_PAINT)
        p++;
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

uint32_t board_static_ram(void)
{
    return (uint32_t)((uintptr_t)&_ebss - (uintptr_t)&_sdata);
}

/* Every fault lands here with the stacked frame (MSP or PSP, by EXC_RETURN
 * bit 2) on the fault stack. */
#define FAULT_ENTRY(name)                                                   \
    __attribute__((naked)) void name(void)                                  \
    {                                                                       \
        __asm volatile("tst lr, #4\n"                                       \
                       "ite eq\n"                                           \
                       "mrseq r0, msp\n"                                    \
                       "mrsne r0, psp\n"                                    \
                       "mov r1, lr\n"                                       \
                       "mrs r2, ipsr\n"                                     \
                       "ldr r3, =fault_stack_top\n"                         \
                       "ldr sp, [r3]\n"                                     \
                       "b board_fault_report\n");                           \
    }

__attribute__((used)) static uint32_t *const fault_stack_top = fault_stack + 256;
FAULT_ENTRY(HardFault_Handler)
FAULT_ENTRY(MemManage_Handler)
FAULT_ENTRY(BusFault_Handler)
FAULT_ENTRY(UsageFault_Handler)
FAULT_ENTRY(Default_Handler)

static const char *fault_name(uint32_t ipsr)
{
    switch (ipsr & 0x1FFu) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    default: return "unexpected exception";
    }
}

void board_fault_report(const uint32_t *frame, uint32_t exc_return, uint32_t ipsr)
{
    /* The guard region may hold the frame: open the MPU to read it. */
    BOARD_REG(0xE000ED94u) = 0;
    __asm volatile("dsb\n isb" ::: "memory");
    uint32_t cfsr = BOARD_REG(0xE000ED28u), hfsr = BOARD_REG(0xE000ED2Cu);
    uint32_t mmfar = BOARD_REG(0xE000ED34u), bfar = BOARD_REG(0xE000ED38u);
    board_printf("\r\n*** FAULT: %s (exception %u)\r\n", fault_name(ipsr), (unsigned)(ipsr & 0x1FFu));
    uint32_t f = (uint32_t)(uintptr_t)frame;
    uint32_t guard = (uint32_t)(uintptr_t)&_sstack;
    if ((cfsr & 0x10u) != 0u || (f >= guard - 64u && f < guard + 1024u + 64u))
        board_printf("*** stack overflow: the main stack reached its MPU guard at 0x%08x\r\n", (unsigned)guard);
    if ((cfsr & 0x1010u) != 0u) /* MSTKERR, BSTKERR: the frame below was never written */
        board_puts("  (exception entry could not stack the frame: r0-xpsr below are not the faulting state)\r\n");
    board_printf("  r0  %08x  r1  %08x  r2  %08x  r3 %08x\r\n", (unsigned)frame[0], (unsigned)frame[1],
                 (unsigned)frame[2], (unsigned)frame[3]);
    board_printf("  r12 %08x  lr  %08x  pc  %08x  xpsr %08x\r\n", (unsigned)frame[4], (unsigned)frame[5],
                 (unsigned)frame[6], (unsigned)frame[7]);
    board_printf("  sp  %08x  exc_return %08x\r\n", (unsigned)f, (unsigned)exc_return);
    board_printf("  CFSR %08x  HFSR %08x  MMFAR %08x  BFAR %08x\r\n", (unsigned)cfsr, (unsigned)hfsr,
                 (unsigned)mmfar, (unsigned)bfar);
    board_printf("*** FAULT: halting (QEMU exit status 1)\r\n");
    board_exit(0);
}
