/* Stellaris Ethernet MAC driver: see stellaris_eth.h for the design.
 * Registers from the LM3S6965 data sheet (Ethernet Controller chapter) and
 * checked against QEMU's model of it. */
#include "stellaris_eth.h"

#include <string.h>
#include "board.h"

#define R(off) BOARD_REG(STELLARIS_ETH_BASE + (off))
#define MACRIS 0x00u /* read: raw interrupt status; write: MACIACK */
#define MACIM 0x04u
#define MACRCTL 0x08u
#define MACTCTL 0x0Cu
#define MACDATA 0x10u
#define MACIA0 0x14u
#define MACIA1 0x18u
#define MACNP 0x34u
#define MACTR 0x38u

#define INT_RX 0x01u
#define INT_TXER 0x02u
#define INT_FOV 0x08u
#define INT_RXER 0x10u
#define INT_WANTED (INT_RX | INT_TXER | INT_FOV | INT_RXER)

#define RCTL_RXEN 0x01u
#define RCTL_BADCRC 0x08u
#define RCTL_RSTFIFO 0x10u
#define TCTL_TXEN 0x01u
#define TCTL_PADEN 0x02u
#define TCTL_CRC 0x04u
#define TCTL_DUPLEX 0x08u

/* The first RX FIFO word: the frame length + 6 (the 2 length bytes and the
 * 4 FCS bytes) in its low half, then the frame. Reading the words from 2
 * bytes before the buffer's frame start lands the frame where the stack
 * wants it (IPv4 header word-aligned). */
#define RX_OFFSET 2u

static stellaris_eth_t *stellaris_dev; /* for the interrupt handler */

void stellaris_eth_read_mac(uint8_t mac[6])
{
    uint32_t lo = R(MACIA0), hi = R(MACIA1);
    mac[0] = (uint8_t)lo;
    mac[1] = (uint8_t)(lo >> 8);
    mac[2] = (uint8_t)(lo >> 16);
    mac[3] = (uint8_t)(lo >> 24);
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(hi >> 8);
}

int stellaris_eth_init(stellaris_eth_t *d, tern_netif_t *nif)
{
    memset(d, 0, sizeof *d);
    d->nif = nif;
    (void)board_rx_ring_init(&d->empty, d->empty_slot, NULL, STELLARIS_RX_RING);
    (void)board_rx_ring_init(&d->full, d->full_slot, d->full_len, STELLARIS_RX_RING);
    memcpy(d->mac, nif->mac, 6);
    R(MACIM) = 0;
    R(MACRCTL) = RCTL_RSTFIFO | RCTL_BADCRC; /* empty the RX FIFO, reject bad CRCs */
    R(MACIA0) = (uint32_t)nif->mac[0] | (uint32_t)nif->mac[1] << 8 | (uint32_t)nif->mac[2] << 16 |
                (uint32_t)nif->mac[3] << 24;
    R(MACIA1) = (uint32_t)nif->mac[4] | (uint32_t)nif->mac[5] << 8;
    R(MACTCTL) = TCTL_TXEN | TCTL_PADEN | TCTL_CRC | TCTL_DUPLEX;
    R(MACRCTL) = RCTL_RXEN | RCTL_BADCRC;
    R(MACRIS) = 0x7Fu; /* acknowledge everything pending */
    stellaris_dev = d;
    R(MACIM) = INT_WANTED;
    d->link_event = 1;
    BOARD_REG(0xE000E104u) = 1u << (STELLARIS_ETH_IRQ - 32u); /* NVIC ISER1 */
    return TERN_OK;
}

/* ---- Receive: interrupt side --------------------------------------------- */

static void rx_discard(uint32_t words)
{
    while (words-- > 0u)
        (void)R(MACDATA);
}

/* A frame for us: broadcast or our own address. tern joins no multicast
 * group, and QEMU's MAC filters nothing. */
static int rx_wanted(const stellaris_eth_t *d, uint32_t w0, uint32_t w1)
{
    uint8_t a0 = (uint8_t)(w0 >> 16), a1 = (uint8_t)(w0 >> 24);
    if (a0 == 0xFFu && a1 == 0xFFu && w1 == 0xFFFFFFFFu)
        return 1;
    return a0 == d->mac[0] && a1 == d->mac[1] && (uint8_t)w1 == d->mac[2] && (uint8_t)(w1 >> 8) == d->mac[3] &&
           (uint8_t)(w1 >> 16) == d->mac[4] && (uint8_t)(w1 >> 24) == d->mac[5];
}

static void rx_drain(stellaris_eth_t *d)
{
    uint32_t waiting = R(MACNP) & 0x3Fu;
    if (waiting > d->stats.rx_fifo_max)
        d->stats.rx_fifo_max = waiting;
    while ((R(MACNP) & 0x3Fu) != 0u) {
        if (board_rx_ring_empty(&d->empty) || board_rx_ring_full(&d->full)) {
            /* No buffer to read into: leave the frames in the FIFO and stop
             * taking RX interrupts until the main loop refills the ring. */
            d->stats.rx_stalls++;
            R(MACIM) = INT_WANTED & ~INT_RX;
            d->rx_masked = 1;
            return;
        }
        uint32_t w0 = R(MACDATA);
        uint32_t field = w0 & 0xFFFFu; /* frame + 6 */
        uint32_t words = (field + 3u) / 4u;
        if (field < 6u + 14u || field - 6u > TERN_NETBUF_FRAME_SIZE) {
            d->stats.rx_oversize++;
            rx_discard(words > 0u ? words - 1u : 0u);
            continue;
        }
        uint32_t w1 = R(MACDATA);
        if (!rx_wanted(d, w0, w1)) {
            d->stats.rx_filtered++;
            rx_discard(words - 2u);
            continue;
        }
        tern_netbuf_t *nb = board_rx_ring_pop(&d->empty, NULL);
        /* The buffer's storage holds frame offset + TERN_NETBUF_FRAME_SIZE
         * rounded up to 8: the length bytes and the FCS fit (2 + 1514 + 4). */
        volatile uint32_t *dst = (volatile uint32_t *)(void *)(tern_netbuf_frame(nb) - RX_OFFSET);
        dst[0] = w0;
        dst[1] = w1;
        for (uint32_t i = 2; i < words; i++)
            dst[i] = R(MACDATA);
        (void)board_rx_ring_push(&d->full, nb, (uint16_t)(field - 6u)); /* not full: checked above */
        d->stats.rx_frames++;
        d->stats.rx_bytes += field - 6u;
    }
}

void stellaris_eth_irq_handler(void);
void stellaris_eth_irq_handler(void)
{
    stellaris_eth_t *d = stellaris_dev;
    uint32_t sts = R(MACRIS) & INT_WANTED;
    R(MACRIS) = sts; /* MACIACK first: a frame arriving meanwhile raises RX again */
    if (d == NULL)
        return;
    d->stats.irqs++;
    board_random_stir(BOARD_REG(0xE000E018u) ^ R(MACNP)); /* SysTick's count at arrival */
    if (sts & INT_FOV)
        d->stats.rx_fifo_overruns++;
    if (sts & INT_RXER)
        d->stats.rx_errors++;
    if (sts & INT_TXER)
        d->stats.tx_errors++;
    if (!d->rx_masked)
        rx_drain(d);
}

/* ---- Receive: main loop side --------------------------------------------- */

int stellaris_eth_pending(const stellaris_eth_t *d)
{
    return !board_rx_ring_empty(&d->full) || d->link_event || d->rx_masked;
}

unsigned stellaris_eth_poll(stellaris_eth_t *d, tern_stack_t *stack, uint32_t now)
{
    unsigned n = 0;
    tern_netbuf_t *nb;
    uint16_t len;
    while ((nb = board_rx_ring_pop(&d->full, &len)) != NULL) {
        (void)tern_netbuf_set_len(nb, len);
        tern_input(stack, d->nif, nb, now);
        n++;
    }
    while (!board_rx_ring_full(&d->empty)) {
        tern_netbuf_t *fresh = tern_netif_rx_buffer_get(d->nif);
        if (fresh == NULL)
            break;
        (void)board_rx_ring_push(&d->empty, fresh, 0);
    }
    if (d->rx_masked && !board_rx_ring_empty(&d->empty)) {
        /* Buffers again: take the RX interrupt back and drain what waited. */
        uint32_t irq = board_irq_save();
        d->rx_masked = 0;
        R(MACIM) = INT_WANTED;
        rx_drain(d);
        board_irq_restore(irq);
    }
    if (d->link_event) {
        /* The PHY is not modelled in QEMU: the link is up from the start. A
         * real board reads the PHY's status over MII here. */
        d->link_event = 0;
        tern_netif_set_link(d->nif, 1);
    }
    return n;
}

/* ---- Transmit ---------------------------------------------------------------- */

static int stellaris_eth_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    stellaris_eth_t *d = nif->driver;
    int rc = TERN_OK;
    uint32_t len = nb->len;
    const uint8_t *p = nb->data;
    if (len < 14u || len > TERN_NETBUF_FRAME_SIZE) {
        d->stats.tx_errors++;
        rc = TERN_ERR_INVAL;
    } else {
        uint32_t irq = board_irq_save(); /* MACDATA is shared with the RX handler's reads */
        while (R(MACTR) & 1u) { /* the previous frame still going out (real part) */
        }
        R(MACDATA) = (len - 14u) | (uint32_t)p[0] << 16 | (uint32_t)p[1] << 24;
        uint32_t i = 2;
        if (((uintptr_t)(p + 2) & 3u) == 0u) {
            /* The usual case: the frame starts 2 bytes before a word boundary. */
            const uint32_t *w = (const uint32_t *)(const void *)(p + 2);
            for (; i + 4u <= len; i += 4u)
                R(MACDATA) = *w++;
        }
        for (; i < len; i += 4u) {
            uint32_t v = 0;
            for (uint32_t k = 0; k < 4u && i + k < len; k++)
                v |= (uint32_t)p[i + k] << (8u * k);
            R(MACDATA) = v;
        }
        R(MACTR) = 1u; /* send now (no threshold start) */
        board_irq_restore(irq);
        d->stats.tx_frames++;
        d->stats.tx_bytes += len;
    }
    if (nb->flags & TERN_NETBUF_F_RELEASE_AFTER_SEND)
        tern_netif_tx_done(nif, nb);
    return rc;
}

static void stellaris_eth_shutdown(tern_netif_t *nif)
{
    stellaris_eth_t *d = nif->driver;
    R(MACIM) = 0;
    R(MACRCTL) = 0;
    tern_netbuf_t *nb;
    while ((nb = board_rx_ring_pop(&d->empty, NULL)) != NULL)
        tern_netbuf_release(&nif->stack->netbufs, nb);
    while ((nb = board_rx_ring_pop(&d->full, NULL)) != NULL)
        tern_netbuf_release(&nif->stack->netbufs, nb);
}

const tern_netif_ops_t stellaris_eth_ops = {NULL, stellaris_eth_output, stellaris_eth_shutdown};

/* ---- Reports ------------------------------------------------------------------- */

#define STELLARIS_FIELDS(X)                                                                                  \
    X(irqs) X(rx_frames) X(rx_bytes) X(rx_filtered) X(rx_errors) X(rx_oversize) X(rx_stalls)               \
        X(rx_fifo_overruns) X(rx_fifo_max) X(tx_frames) X(tx_bytes) X(tx_errors)

void stellaris_eth_stats_json(const struct tern_stack *stack, void *arg, tern_writer_fn write, void *ctx)
{
    (void)stack;
    const stellaris_eth_t *d = arg;
    int first = 1;
    write(ctx, "{", 1);
#define X(f)                                                  \
    tern_stats_write_uint(write, ctx, #f, d->stats.f, first); \
    first = 0;
    STELLARIS_FIELDS(X)
#undef X
    write(ctx, "}", 1);
}

static void report_u32(tern_writer_fn write, void *ctx, const char *name, uint32_t v)
{
    char line[48];
    size_t n = strlen(name);
    memcpy(line, "stellaris ", 10);
    memcpy(line + 10, name, n);
    n += 10;
    line[n++] = ' ';
    char rev[10];
    size_t k = 0;
    do {
        rev[k++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (k > 0u)
        line[n++] = rev[--k];
    line[n++] = '\n';
    write(ctx, line, (unsigned)n);
}

void stellaris_eth_report_text(const stellaris_eth_t *d, tern_writer_fn write, void *ctx)
{
#define X(f) report_u32(write, ctx, #f, d->stats.f);
    STELLARIS_FIELDS(X)
#undef X
}
