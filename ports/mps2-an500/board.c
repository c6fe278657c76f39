/* mps2-an500 board support: SysTick, CMSDK UART console, random source,
 * MPU stack guard, semihosting exit. See board.h. */
#include "board.h"

#include <stdarg.h>
#include <string.h>

extern uint32_t _sstack;

/* ---- Clock: SysTick at 1 kHz from the 25 MHz core clock ----------------- */

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
    uint32_t elapsed = BOARD_SYSCLK_HZ / 1000u - 1u - v; /* ticks of 40 ns into this ms */
    return (uint64_t)ms * 1000000u + (uint64_t)elapsed * (1000000000u / BOARD_SYSCLK_HZ);
}

/* ---- Console: CMSDK APB UART0 ----------------------------------------- */

#define UART0 0x40004000u
#define UART_DATA (UART0 + 0x00u)
#define UART_STATE (UART0 + 0x04u) /* bit 0 TX full, bit 1 RX full */
#define UART_CTRL (UART0 + 0x08u)  /* bit 0 TX enable, bit 1 RX enable */
#define UART_BAUDDIV (UART0 + 0x10u)

void board_putc(char c)
{
    while (BOARD_REG(UART_STATE) & 1u) {
    }
    BOARD_REG(UART_DATA) = (uint8_t)c;
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
    if ((BOARD_REG(UART_STATE) & 2u) == 0u)
        return -1;
    return (int)(BOARD_REG(UART_DATA) & 0xFFu);
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
 * QEMU's mps2-an500 has no RNG peripheral. This port seeds a xorshift128+
 * generator from what differs between boots here (the LAN9118's free-running
 * 25 MHz counter, SysTick's current value, the MAC address) and stirs in the
 * arrival time of every received frame. That is good enough for ISNs and
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
    BOARD_REG(UART_BAUDDIV) = BOARD_SYSCLK_HZ / 115200u;
    BOARD_REG(UART_CTRL) = 0x3u; /* TX and RX enabled, no interrupts */

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

    board_random_stir(BOARD_REG(0xA000009Cu)); /* LAN9118 FREE_RUN */
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
        (void)BOARD_REG(0x90000000u); /* unmapped: precise BusFault */
    } else if (strcmp(kind, "hard") == 0) {
        /* UDF with the UsageFault handler off: escalates to HardFault (FORCED). */
        BOARD_REG(SCB_SHCSR) &= ~(1u << 18);
        __asm volatile("dsb\n isb\n .short 0xde00" ::: "memory");
    } else if (strcmp(kind, "stack") == 0) {
        volatile uint32_t depth = 0;
        (void)fault_recurse(&depth);
    }
}
