/* LAN9118 driver: see lan9118.h for the design (RX into network buffers
 * from the interrupt, TX from network buffers into the FIFO). Register
 * offsets and bits from the LAN9118 datasheet (SMSC, rev. 1.5); only the
 * documented MAC CSRs are touched (QEMU aborts on others). */
#include "lan9118.h"

#include <string.h>
#include "board.h"

#define R(off) BOARD_REG(LAN9118_BASE + (off))
#define RX_DATA_FIFO 0x00u
#define TX_DATA_FIFO 0x20u
#define RX_STATUS_FIFO 0x40u
#define TX_STATUS_FIFO 0x48u
#define ID_REV 0x50u
#define IRQ_CFG 0x54u
#define INT_STS 0x58u
#define INT_EN 0x5Cu
#define BYTE_TEST 0x64u
#define FIFO_INT 0x68u
#define RX_CFG 0x6Cu
#define TX_CFG 0x70u
#define HW_CFG 0x74u
#define RX_FIFO_INF 0x7Cu
#define TX_FIFO_INF 0x80u
#define FREE_RUN 0x9Cu
#define RX_DROP 0xA0u
#define MAC_CSR_CMD 0xA4u
#define MAC_CSR_DATA 0xA8u

/* INT_STS / INT_EN */
#define INT_PHY (1u << 18)
#define INT_TXSO (1u << 16)
#define INT_RXE (1u << 14)
#define INT_TXE (1u << 13)
#define INT_RXDF (1u << 6)
#define INT_RSFL (1u << 3)
#define INT_WANTED (INT_PHY | INT_TXSO | INT_RXE | INT_TXE | INT_RXDF | INT_RSFL)

/* MAC CSRs (indirect, through MAC_CSR_CMD/DATA) */
#define MAC_CR 1u
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u
#define MAC_MII_ACC 6u
#define MAC_MII_DATA 7u
#define MAC_CR_FDPX (1u << 20)
#define MAC_CR_TXEN (1u << 3)
#define MAC_CR_RXEN (1u << 2)

/* PHY registers (internal PHY, address 1) */
#define PHY_BSR 1u
#define PHY_ISR 29u
#define PHY_IMR 30u
#define PHY_BSR_LINK (1u << 2)
#define PHY_INT_LINK_DOWN 0x10u
#define PHY_INT_ANEG_DONE 0x40u

/* The RX data offset: 2 bytes before the frame in the first FIFO word, so
 * a word-aligned read lands the frame at the buffer's frame start (which is
 * 2 bytes past an 8-byte boundary: the IPv4 header ends up aligned). */
#define RX_OFFSET 2u

static lan9118_t *lan9118_dev; /* for the interrupt handler */

static uint32_t mac_csr_read(uint32_t idx)
{
    R(MAC_CSR_CMD) = (1u << 31) | (1u << 30) | idx;
    while (R(MAC_CSR_CMD) & (1u << 31)) {
    }
    return R(MAC_CSR_DATA);
}

static void mac_csr_write(uint32_t idx, uint32_t v)
{
    R(MAC_CSR_DATA) = v;
    R(MAC_CSR_CMD) = (1u << 31) | idx;
    while (R(MAC_CSR_CMD) & (1u << 31)) {
    }
}

static uint32_t phy_read(uint32_t reg)
{
    mac_csr_write(MAC_MII_ACC, (1u << 11) | (reg << 6) | 1u);
    while (mac_csr_read(MAC_MII_ACC) & 1u) {
    }
    return mac_csr_read(MAC_MII_DATA) & 0xFFFFu;
}

static void phy_write(uint32_t reg, uint32_t v)
{
    mac_csr_write(MAC_MII_DATA, v);
    mac_csr_write(MAC_MII_ACC, (1u << 11) | (reg << 6) | 2u | 1u);
    while (mac_csr_read(MAC_MII_ACC) & 1u) {
    }
}

void lan9118_read_mac(uint8_t mac[6])
{
    uint32_t lo = mac_csr_read(MAC_ADDRL), hi = mac_csr_read(MAC_ADDRH);
    mac[0] = (uint8_t)lo;
    mac[1] = (uint8_t)(lo >> 8);
    mac[2] = (uint8_t)(lo >> 16);
    mac[3] = (uint8_t)(lo >> 24);
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(hi >> 8);
}

int lan9118_init(lan9118_t *d, tern_netif_t *nif)
{
    memset(d, 0, sizeof *d);
    d->nif = nif;
    (void)board_rx_ring_init(&d->empty, d->empty_slot, NULL, LAN9118_RX_RING);
    (void)board_rx_ring_init(&d->full, d->full_slot, d->full_len, LAN9118_RX_RING);
    if (R(BYTE_TEST) != 0x87654321u || (R(ID_REV) >> 16) != 0x0118u)
        return TERN_ERR_NOTFOUND;
    R(HW_CFG) = 1u; /* soft reset */
    while (R(HW_CFG) & 1u) {
    }
    mac_csr_write(MAC_ADDRL, (uint32_t)nif->mac[0] | (uint32_t)nif->mac[1] << 8 | (uint32_t)nif->mac[2] << 16 |
                                 (uint32_t)nif->mac[3] << 24);
    mac_csr_write(MAC_ADDRH, (uint32_t)nif->mac[4] | (uint32_t)nif->mac[5] << 8);
    /* Own address and broadcast only (the reset value is promiscuous). */
    mac_csr_write(MAC_CR, MAC_CR_FDPX | MAC_CR_TXEN | MAC_CR_RXEN);
    R(TX_CFG) = (1u << 2) | (1u << 1); /* TXSAO: no need to drain TX status; TX_ON */
    R(RX_CFG) = RX_OFFSET << 8;
    R(FIFO_INT) = 0x48000000u;         /* RX status level 0: interrupt per frame */
    phy_write(PHY_IMR, PHY_INT_LINK_DOWN | PHY_INT_ANEG_DONE);
    (void)phy_read(PHY_ISR);
    R(INT_STS) = 0xFFFFFFFFu;
    R(INT_EN) = INT_WANTED;
    /* Active-high push-pull: otherwise the line idles asserted. */
    R(IRQ_CFG) = (1u << 8) | (1u << 4) | 1u;
    lan9118_dev = d;
    d->link_event = 1;
    BOARD_REG(0xE000E100u) = 1u << LAN9118_IRQ; /* NVIC ISER0 */
    return TERN_OK;
}

/* ---- Receive: interrupt side --------------------------------------------- */

static void rx_discard(uint32_t words)
{
    while (words-- > 0u)
        (void)R(RX_DATA_FIFO);
}

static void rx_drain(lan9118_t *d)
{
    uint32_t waiting = (R(RX_FIFO_INF) >> 16) & 0xFFu;
    if (waiting > d->stats.rx_fifo_max)
        d->stats.rx_fifo_max = waiting;
    while (((R(RX_FIFO_INF) >> 16) & 0xFFu) != 0u) {
        if (board_rx_ring_empty(&d->empty) || board_rx_ring_full(&d->full)) {
            /* No buffer to read into: leave the frames in the FIFO and stop
             * taking RX interrupts until the main loop refills the ring. */
            d->stats.rx_stalls++;
            R(INT_EN) = INT_WANTED & ~INT_RSFL;
            d->rx_masked = 1;
            return;
        }
        uint32_t status = R(RX_STATUS_FIFO);
        uint32_t len = (status >> 16) & 0x3FFFu; /* with the 4-byte FCS */
        uint32_t words = (RX_OFFSET + len + 3u) / 4u;
        if (status & (1u << 15)) { /* error summary */
            d->stats.rx_errors++;
            rx_discard(words);
            continue;
        }
        if (len < 14u + 4u || len - 4u > TERN_NETBUF_FRAME_SIZE) {
            d->stats.rx_oversize++;
            rx_discard(words);
            continue;
        }
        tern_netbuf_t *nb = board_rx_ring_pop(&d->empty, NULL);
        /* The buffer's storage holds frame offset + TERN_NETBUF_FRAME_SIZE
         * rounded up to 8: the offset word and the FCS fit (1514 + 2 + 4). */
        volatile uint32_t *dst = (volatile uint32_t *)(void *)(tern_netbuf_frame(nb) - RX_OFFSET);
        for (uint32_t i = 0; i < words; i++)
            dst[i] = R(RX_DATA_FIFO);
        (void)board_rx_ring_push(&d->full, nb, (uint16_t)(len - 4u)); /* not full: checked above */
        d->stats.rx_frames++;
        d->stats.rx_bytes += len - 4u;
    }
}

void lan9118_irq_handler(void);
void lan9118_irq_handler(void)
{
    lan9118_t *d = lan9118_dev;
    uint32_t sts = R(INT_STS) & (INT_WANTED | INT_RSFL);
    R(INT_STS) = sts; /* clear first: a frame arriving meanwhile raises it again */
    if (d == NULL)
        return;
    d->stats.irqs++;
    board_random_stir(R(FREE_RUN));
    if (sts & INT_RXDF)
        d->stats.rx_fifo_drops++;
    if (sts & (INT_TXE | INT_TXSO | INT_RXE))
        d->stats.tx_errors += (sts & (INT_TXE | INT_TXSO)) ? 1u : 0u;
    if (sts & INT_RXE)
        d->stats.rx_errors++;
    if (sts & INT_PHY)
        d->link_event = 1;
    if (!d->rx_masked)
        rx_drain(d);
}

/* ---- Receive: main loop side --------------------------------------------- */

int lan9118_pending(const lan9118_t *d)
{
    return !board_rx_ring_empty(&d->full) || d->link_event || d->rx_masked;
}

unsigned lan9118_poll(lan9118_t *d, tern_stack_t *stack, uint32_t now)
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
        R(INT_EN) = INT_WANTED;
        rx_drain(d);
        board_irq_restore(irq);
    }
    if (d->link_event) {
        d->link_event = 0;
        (void)phy_read(PHY_ISR); /* clears the PHY's interrupt */
        int up = (phy_read(PHY_BSR) & PHY_BSR_LINK) != 0u;
        if (up != (int)d->nif->link_up) {
            d->stats.link_changes++;
            tern_netif_set_link(d->nif, up);
        }
    }
    return n;
}

/* ---- Transmit ---------------------------------------------------------------- */

static int lan9118_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    lan9118_t *d = nif->driver;
    int rc = TERN_OK;
    uint32_t len = nb->len;
    uintptr_t start = (uintptr_t)nb->data;
    uint32_t off = (uint32_t)(start & 3u);
    uint32_t words = (off + len + 3u) / 4u;
    if (len == 0u || len > TERN_NETBUF_FRAME_SIZE) {
        d->stats.tx_errors++;
        rc = TERN_ERR_INVAL;
    } else if ((R(TX_FIFO_INF) & 0xFFFFu) < words * 4u + 8u) {
        d->stats.tx_fifo_full++;
        rc = TERN_ERR_NOBUFS;
    } else {
        uint32_t irq = board_irq_save(); /* MMIO sequence shared with nobody, but keep it whole */
        /* Command A: first and last segment, data start offset, size. */
        R(TX_DATA_FIFO) = (1u << 13) | (1u << 12) | (off << 16) | len;
        /* Command B: a packet tag, the frame length. */
        R(TX_DATA_FIFO) = ((uint32_t)d->tx_tag++ << 16) | len;
        const uint32_t *src = (const uint32_t *)(start & ~(uintptr_t)3u);
        for (uint32_t i = 0; i < words; i++)
            R(TX_DATA_FIFO) = src[i];
        board_irq_restore(irq);
        d->stats.tx_frames++;
        d->stats.tx_bytes += len;
    }
    /* The frame is in the FIFO (or refused): the buffer is free either way. */
    if (nb->flags & TERN_NETBUF_F_RELEASE_AFTER_SEND)
        tern_netif_tx_done(nif, nb);
    return rc;
}

static void lan9118_shutdown(tern_netif_t *nif)
{
    lan9118_t *d = nif->driver;
    R(INT_EN) = 0;
    tern_netbuf_t *nb;
    while ((nb = board_rx_ring_pop(&d->empty, NULL)) != NULL)
        tern_netbuf_release(&nif->stack->netbufs, nb);
    while ((nb = board_rx_ring_pop(&d->full, NULL)) != NULL)
        tern_netbuf_release(&nif->stack->netbufs, nb);
}

const tern_netif_ops_t lan9118_ops = {NULL, lan9118_output, lan9118_shutdown};

/* ---- Reports ------------------------------------------------------------------- */

#define LAN9118_FIELDS(X)                                                                                     \
    X(irqs) X(rx_frames) X(rx_bytes) X(rx_errors) X(rx_oversize) X(rx_stalls) X(rx_fifo_drops) X(rx_fifo_max) \
        X(tx_frames) X(tx_bytes) X(tx_fifo_full) X(tx_errors) X(link_changes)

void lan9118_stats_json(const struct tern_stack *stack, void *arg, tern_writer_fn write, void *ctx)
{
    (void)stack;
    const lan9118_t *d = arg;
    int first = 1;
    write(ctx, "{", 1);
#define X(f)                                                      \
    tern_stats_write_uint(write, ctx, #f, d->stats.f, first); \
    first = 0;
    LAN9118_FIELDS(X)
#undef X
    write(ctx, "}", 1);
}

static void report_u32(tern_writer_fn write, void *ctx, const char *name, uint32_t v)
{
    char line[48];
    size_t n = strlen(name);
    memcpy(line, "lan9118 ", 8);
    memcpy(line + 8, name, n);
    n += 8;
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

void lan9118_report_text(const lan9118_t *d, tern_writer_fn write, void *ctx)
{
#define X(f) report_u32(write, ctx, #f, d->stats.f);
    LAN9118_FIELDS(X)
#undef X
    report_u32(write, ctx, "rx_drop_register", R(RX_DROP));
}
