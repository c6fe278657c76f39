/* Board support shared by the Cortex-M boards: SysTick, console output and
 * printf on the board's UART, random source, the painted main stack and its
 * MPU guard, fault reports, semihosting exit. See board.h. Cortex-M3 and M7
 * alike: the SysTick, MPU (PMSAv7) and fault registers are the same. */
#include "board.h"

#include <stdarg.h>
#include <string.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;
int main(void);

/* ---- Clock: SysTick at 1 kHz from the core clock ------------------------- */

#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u

static volatile uint32_t board_ms;

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    board_ms++;
}

uint32_t board_now_ms(void)
{
    return board_ms;
}

board_cpu_t board_cpu;

uint64_t board_time_ns(void)
{
    uint32_t ms = board_ms;
    uint32_t v = BOARD_REG(SYST_CVR);
    if (BOARD_REG(0xE000ED04u) & (1u << 26)) { /* ICSR.PENDSTSET: wrapped, tick not counted yet */
        v = BOARD_REG(SYST_CVR);
        ms++;
    }
    uint32_t elapsed = BOARD_SYSCLK_HZ / 1000u - 1u - v; /* core clocks into this ms */
    return (uint64_t)ms * 1000000u + (uint64_t)elapsed * (1000000000u / BOARD_SYSCLK_HZ);
}

/* ---- Console: the board's UART ------------------------------------------ */

void board_putc(char c)
{
    board_uart_putc(c);
}

void board_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            board_putc('\r');
        board_putc(s[i]);
    }
}

void board_puts(const char *s)
{
    board_write(s, strlen(s));
}

void board_writer(void *ctx, const char *text, unsigned len)
{
    (void)ctx;
    board_write(text, len);
}

int board_getc(void)
{
    return board_uart_getc();
}

static void fmt_pad(unsigned n, char c)
{
    while (n-- > 0u)
        board_putc(c);
}

static void fmt_field(const char *s, size_t len, unsigned width, int left, char padc)
{
    unsigned pad = width > len ? width - (unsigned)len : 0u;
    if (!left)
        fmt_pad(pad, padc);
    board_write(s, len);
    if (left)
        fmt_pad(pad, ' ');
}

void board_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            board_write(p, 1);
            continue;
        }
        p++;
        int left = 0;
        char padc = ' ';
        unsigned width = 0;
        if (*p == '-') {
            left = 1;
            p++;
        }
        if (*p == '0') {
            padc = '0';
            p++;
        }
        while (*p >= '0' && *p <= '9')
            width = width * 10u + (unsigned)(*p++ - '0');
        while (*p == 'l' || *p == 'z')
            p++;
        char num[12];
        size_t n = 0;
        switch (*p) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL)
                s = "(null)";
            fmt_field(s, strlen(s), width, left, ' ');
            break;
        }
        case 'c':
            num[0] = (char)va_arg(ap, int);
            fmt_field(num, 1, width, left, ' ');
            break;
        case 'd':
        case 'u':
        case 'x':
        case 'p': {
            uint32_t v;
            int neg = 0;
            if (*p == 'd') {
                int32_t d = va_arg(ap, int32_t);
                neg = d < 0;
                v = neg ? 0u - (uint32_t)d : (uint32_t)d;
            } else if (*p == 'p') {
                v = (uint32_t)(uintptr_t)va_arg(ap, void *);
            } else {
                v = va_arg(ap, uint32_t);
            }
            uint32_t base = (*p == 'x' || *p == 'p') ? 16u : 10u;
            char rev[12];
            do {
                uint32_t dgt = v % base;
                rev[n++] = (char)(dgt < 10u ? '0' + dgt : 'a' + dgt - 10u);
                v /= base;
            } while (v != 0u);
            size_t k = 0;
            if (neg)
                num[k++] = '-';
            while (n > 0u)
                num[k++] = rev[--n];
            fmt_field(num, k, width, left, padc);
            break;
        }
        case '%':
            board_putc('%');
            break;
        case '\0':
            p--;
            break;
        default:
            board_putc('%');
            board_putc(*p);
            break;
        }
    }
    va_end(ap);
}

/* ---- Random source ---------------------------------------------------------
 * Neither QEMU board has an RNG peripheral (mps2-an500, lm3s6965evb). The
 * ports seed a xoshiro128** generator from what differs between boots here
 * (a free-running counter where the board has one, SysTick's current value,
 * the MAC address) and stir in the arrival time of every received frame. That is good enough for ISNs and
 * DHCP xids on an emulator, NOT for a product: under `-icount` it is even
 * fully reproducible. A real board reads its true RNG peripheral instead
 * (STM32F7: the RNG block, 32 bits every 40 PLL48 clocks, checking its
 * SECS/CECS error flags) and returns that from random32. */

static uint32_t rng_s[4] = {0x9E3779B9u, 0x243F6A88u, 0xB7E15162u, 0x6A09E667u};

void board_random_stir(uint32_t v)
{
    rng_s[(v ^ rng_s[3]) & 3u] ^= v * 0x9E3779B1u;
}

uint32_t board_random32(void)
{
    /* xoshiro128** (Blackman and Vigna). */
    uint32_t r = rng_s[1] * 5u;
    r = ((r << 7) | (r >> 25)) * 9u;
    uint32_t t = rng_s[1] << 9;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = (rng_s[3] << 11) | (rng_s[3] >> 21);
    return r;
}

/* ---- Init --------------------------------------------------------------- */

#define SCB_SHCSR 0xE000ED24u
#define MPU_CTRL 0xE000ED94u
#define MPU_RNR 0xE000ED98u
#define MPU_RBAR 0xE000ED9Cu
#define MPU_RASR 0xE000EDA0u

void board_init(void)
{
    board_uart_init();

    BOARD_REG(SYST_RVR) = BOARD_SYSCLK_HZ / 1000u - 1u;
    BOARD_REG(SYST_CVR) = 0;
    BOARD_REG(SYST_CSR) = 0x7u; /* processor clock, interrupt, enable */

    /* The lowest 1 KB of the main stack: no access for anyone (MPU region
     * 0, AP=000, XN). An overflow faults there instead of silently
     * overwriting .bss; the default memory map stays on elsewhere. A frame
     * larger than the guard could step over it without touching it: 1 KB is
     * above the largest frame in this firmware (616 bytes, dns_parse, from
     * -fstack-usage; docs/boards.md). */
    BOARD_REG(MPU_RNR) = 0;
    BOARD_REG(MPU_RBAR) = (uint32_t)(uintptr_t)&_sstack;
    BOARD_REG(MPU_RASR) = (1u << 28) | (9u << 1) | 1u; /* XN, size 2^(9+1) = 1 KB, enable */
    BOARD_REG(MPU_CTRL) = (1u << 2) | 1u;              /* PRIVDEFENA, ENABLE */
    /* MemManage, BusFault and UsageFault get their own handlers (and names
     * in the report) instead of escalating to HardFault. */
    BOARD_REG(SCB_SHCSR) |= (1u << 16) | (1u << 17) | (1u << 18);
    __asm volatile("dsb\n isb" ::: "memory");

    board_random_stir(BOARD_REG(SYST_CVR));
}

void board_exit(int ok)
{
    /* Semihosting SYS_EXIT (0x18): ADP_Stopped_ApplicationExit ends QEMU
     * with status 0, any other reason with status 1. */
    register uint32_t r0 __asm("r0") = 0x18u;
    register uint32_t r1 __asm("r1") = ok ? 0x20026u : 0x20023u;
    __asm volatile("bkpt 0xab" ::"r"(r0), "r"(r1) : "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}

/* ---- Reset path, main stack, faults -------------------------------------- */

#define BOARD_STACK_PAINT 0xC0DEFACEu
#define BOARD_GUARD_WORDS 256u /* the MPU guard: the lowest 1 KB of the main stack */

void board_start(void)
{
    /* Code and constants stay in flash; .data has its initial values there
     * too (read-only on a real part: lm3s6965's flash at 0x0). */
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
    const uint32_t *p = &_sstack + BOARD_GUARD_WORDS; /* above the MPU guard */
    while (p < &_estack && *p == BOARD_STACK_PAINT)
        p++;
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

uint32_t board_static_ram(void)
{
    return (uint32_t)((uintptr_t)&_ebss - (uintptr_t)&_sdata);
}

void board_fault_report(const uint32_t *frame, uint32_t exc_return, uint32_t ipsr);

/* A separate small stack for the fault report: the main stack may be the
 * thing that broke (an overflow into the MPU guard). 512 bytes: the report
 * is board_printf's frames and nothing else. */
static uint32_t fault_stack[128] __attribute__((aligned(8)));
__attribute__((used)) static uint32_t *const fault_stack_top = fault_stack + 128;

/* Every fault lands here with the stacked frame (MSP or PSP, by EXC_RETURN
 * bit 2) on the fault stack. */
#define FAULT_ENTRY(name)                                                   \
    void name(void);                                                        \
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
    if ((cfsr & 0x10u) != 0u || (f >= guard - 64u && f < guard + 4u * BOARD_GUARD_WORDS + 64u))
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

/* ---- Deliberate faults (the fault-path test) ---------------------------- */

/* Unbounded on purpose: it ends in the MPU guard's MemManage fault. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static uint32_t fault_recurse(volatile uint32_t *depth)
{
    volatile uint8_t pad[64]; /* frames smaller than the guard, as real code's */
    pad[0] = (uint8_t)*depth;
    pad[63] = pad[0];
    (*depth)++;
    return fault_recurse(depth) + pad[63];
}
#pragma GCC diagnostic pop

void board_fault_trigger(const char *kind)
{
    if (strcmp(kind, "bus") == 0) {
        (void)BOARD_REG(BOARD_UNMAPPED_ADDR); /* unmapped: precise BusFault */
    } else if (strcmp(kind, "hard") == 0) {
        /* UDF with the UsageFault handler off: escalates to HardFault (FORCED). */
        BOARD_REG(SCB_SHCSR) &= ~(1u << 18);
        __asm volatile("dsb\n isb\n .short 0xde00" ::: "memory");
    } else if (strcmp(kind, "stack") == 0) {
        volatile uint32_t depth = 0;
        (void)fault_recurse(&depth);
    }
}
