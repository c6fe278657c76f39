/* The pcap writer (classic libpcap format, microsecond timestamps). */
#include "tern_pcap.h"

#include <string.h>

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void pcap_put(tern_pcap_t *pc, const void *data, size_t len)
{
    if (len != 0u && fwrite(data, 1, len, pc->f) != len)
        pc->errors++;
}

int tern_pcap_open_stream(tern_pcap_t *pc, FILE *f)
{
    memset(pc, 0, sizeof *pc);
    if (f == NULL)
        return -1;
    pc->f = f;
    pc->snaplen = TERN_PCAP_SNAPLEN;
    uint8_t h[24];
    put_le32(h, TERN_PCAP_MAGIC);
    put_le16(h + 4, 2);  /* version major */
    put_le16(h + 6, 4);  /* version minor */
    put_le32(h + 8, 0);  /* thiszone: timestamps are UTC */
    put_le32(h + 12, 0); /* sigfigs */
    put_le32(h + 16, pc->snaplen);
    put_le32(h + 20, TERN_PCAP_LINKTYPE_ETHERNET);
    pcap_put(pc, h, sizeof h);
    return pc->errors ? -1 : 0;
}

int tern_pcap_open(tern_pcap_t *pc, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        memset(pc, 0, sizeof *pc);
        return -1;
    }
    if (tern_pcap_open_stream(pc, f) != 0) {
        fclose(f);
        pc->f = NULL;
        return -1;
    }
    return 0;
}

void tern_pcap_write(tern_pcap_t *pc, const uint8_t *frame, size_t len, uint32_t now_ms)
{
    if (pc == NULL || pc->f == NULL)
        return;
    uint64_t ms = pc->epoch_ms + now_ms;
    size_t incl = len < pc->snaplen ? len : pc->snaplen;
    uint8_t h[16];
    put_le32(h, (uint32_t)(ms / 1000u));
    put_le32(h + 4, (uint32_t)(ms % 1000u) * 1000u);
    put_le32(h + 8, (uint32_t)incl);
    put_le32(h + 12, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
    pcap_put(pc, h, sizeof h);
    pcap_put(pc, frame, incl);
    pc->frames++;
    pc->bytes += incl;
    if (pc->flush_each && fflush(pc->f) != 0)
        pc->errors++;
}

static void pcap_capture(void *ctx, const uint8_t *frame, size_t len, int outbound, uint32_t now)
{
    (void)outbound; /* classic pcap records no direction */
    tern_pcap_write(ctx, frame, len, now);
}

void tern_pcap_attach(tern_pcap_t *pc, tern_netif_t *nif)
{
    nif->capture_ctx = pc;
    nif->capture = pcap_capture;
}

void tern_pcap_detach(tern_pcap_t *pc, tern_netif_t *nif)
{
    if (nif->capture_ctx == pc) {
        nif->capture = NULL;
        nif->capture_ctx = NULL;
    }
}

void tern_pcap_flush(tern_pcap_t *pc)
{
    if (pc->f && fflush(pc->f) != 0)
        pc->errors++;
}

int tern_pcap_close(tern_pcap_t *pc)
{
    if (pc->f == NULL)
        return -1;
    if (fclose(pc->f) != 0)
        pc->errors++;
    pc->f = NULL;
    return pc->errors ? -1 : 0;
}
