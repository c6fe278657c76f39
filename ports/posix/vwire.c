/* The virtual wire: two endpoints, a virtual clock, seeded impairments. */
#include "tern_vwire.h"

#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/stack.h"
#include "tern_gso.h"

/* A frame's bytes, shared by its copies (a duplicate delivers twice). */
typedef struct vwire_payload {
    unsigned refs;
    tern_netbuf_t *nb;   /* zero-copy TX: the sender's buffer, held */
    tern_netif_t *nif;   /* its interface, for tern_netif_tx_done() */
    const uint8_t *bytes;
    size_t len;
    uint8_t own[];       /* copy TX and test endpoints: the wire's copy */
} vwire_payload_t;

struct tern_vwire_frame {
    struct tern_vwire_frame *next;
    vwire_payload_t *p;
    uint64_t due;        /* virtual ms since the start */
    uint32_t seq;
    uint32_t bit;        /* bit to flip when corrupt */
    int from;
    int corrupt;
};

/* ---- Randomness and the trace --------------------------------------------- */

static uint64_t vwire_rand(tern_vwire_t *w)
{
    /* xorshift64*: tiny, fast, and the same sequence on every host. */
    uint64_t x = w->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static uint32_t vwire_below(tern_vwire_t *w, uint32_t n)
{
    return n ? (uint32_t)((vwire_rand(w) >> 32) % n) : 0u;
}

static int vwire_chance(tern_vwire_t *w, uint32_t ppm)
{
    return ppm != 0u && vwire_below(w, 1000000u) < ppm;
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv_bytes(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fnv_bytes(h, b, sizeof b);
}

static void vwire_event(tern_vwire_t *w, int kind, int from, const struct tern_vwire_frame *f, uint32_t len,
                        uint64_t digest)
{
    tern_vwire_event_t ev = {
        .kind = kind,
        .from = from,
        .time = (uint32_t)w->clock_ms,
        .due = f ? (uint32_t)f->due : 0u,
        .len = len,
        .seq = f ? f->seq : w->seq,
        .bit = f && f->corrupt ? f->bit : 0u,
        .digest = digest,
    };
    uint64_t h = w->hash;
    h = fnv_u64(h, (uint64_t)ev.kind);
    h = fnv_u64(h, (uint64_t)ev.from);
    h = fnv_u64(h, ev.time);
    h = fnv_u64(h, ev.due);
    h = fnv_u64(h, ev.len);
    h = fnv_u64(h, ev.seq);
    h = fnv_u64(h, ev.bit);
    h = fnv_u64(h, ev.digest);
    w->hash = h;
    if (w->trace)
        w->trace(w->trace_ctx, &ev);
}

/* ---- Payloads -------------------------------------------------------------- */

static int side_attached_nif(const tern_vwire_t *w, const tern_netif_t *nif)
{
    return nif != NULL && (w->side[0].nif == nif || w->side[1].nif == nif);
}

static void payload_put(tern_vwire_t *w, vwire_payload_t *p)
{
    if (--p->refs != 0u)
        return;
    /* Zero-copy TX: give the sender its buffer back ("TX complete"). A
     * detached sender already had everything back at shutdown. */
    if (p->nb != NULL && side_attached_nif(w, p->nif))
        tern_netif_tx_done(p->nif, p->nb);
    free(p);
}

/* ---- Sending --------------------------------------------------------------- */

static void queue_insert(tern_vwire_t *w, struct tern_vwire_frame *f)
{
    struct tern_vwire_frame **pp = &w->queue;
    /* Ordered by due time, then by sequence: ties go in sending order. */
    while (*pp != NULL && ((*pp)->due < f->due || ((*pp)->due == f->due && (*pp)->seq <= f->seq)))
        pp = &(*pp)->next;
    f->next = *pp;
    *pp = f;
    w->in_flight++;
}

/* One frame onto the wire from side `from`. p holds a reference for us. */
static void vwire_transmit(tern_vwire_t *w, int from, vwire_payload_t *p)
{
    tern_vwire_side_t *s = &w->side[from];
    const tern_vwire_params_t *pr = &s->params;
    uint32_t seq = ++w->seq;
    uint64_t digest = fnv_bytes(FNV_OFFSET, p->bytes, p->len);
    uint64_t now_us = w->clock_ms * 1000u;
    s->stats.sent++;
    s->stats.bytes += p->len;

    /* The link: a FIFO drained at the line rate. */
    uint64_t depart_us = now_us;
    if (pr->bandwidth_bps != 0u) {
        uint64_t backlog_us = s->link_free_us > now_us ? s->link_free_us - now_us : 0u;
        if (pr->queue_limit != 0u) {
            uint64_t backlog_bytes = backlog_us * pr->bandwidth_bps / 8000000u;
            if (backlog_bytes + p->len > pr->queue_limit) {
                s->stats.queue_drops++;
                vwire_event(w, TERN_VWIRE_EV_QUEUE_DROP, from, NULL, (uint32_t)p->len, digest);
                payload_put(w, p);
                return;
            }
        }
        uint64_t ser_us = ((uint64_t)p->len * 8000000u + pr->bandwidth_bps - 1u) / pr->bandwidth_bps;
        depart_us = now_us + backlog_us + ser_us;
        s->link_free_us = depart_us;
    }
    uint64_t arrive_ms = (depart_us + 999u) / 1000u;

    struct tern_vwire_frame head = {.seq = seq, .due = arrive_ms};
    vwire_event(w, TERN_VWIRE_EV_SEND, from, &head, (uint32_t)p->len, digest);

    if (vwire_chance(w, pr->loss_ppm)) {
        s->stats.lost++;
        vwire_event(w, TERN_VWIRE_EV_LOSS, from, &head, (uint32_t)p->len, digest);
        payload_put(w, p);
        return;
    }
    unsigned copies = vwire_chance(w, pr->dup_ppm) ? 2u : 1u;
    for (unsigned c = 0; c < copies; c++) {
        struct tern_vwire_frame *f = calloc(1, sizeof *f);
        if (f == NULL) {
            payload_put(w, p);
            return;
        }
        f->p = p;
        f->from = from;
        f->seq = seq;
        f->due = arrive_ms + pr->delay_ms + vwire_below(w, pr->jitter_ms + 1u);
        if (c > 0) {
            p->refs++;
            s->stats.duplicated++;
            vwire_event(w, TERN_VWIRE_EV_DUP, from, f, (uint32_t)p->len, digest);
        }
        if (vwire_chance(w, pr->reorder_ppm)) {
            f->due += pr->reorder_ms;
            s->stats.reordered++;
            vwire_event(w, TERN_VWIRE_EV_REORDER, from, f, (uint32_t)p->len, digest);
        }
        if (p->len != 0u && vwire_chance(w, pr->corrupt_ppm)) {
            f->corrupt = 1;
            f->bit = vwire_below(w, (uint32_t)p->len * 8u);
            s->stats.corrupted++;
            vwire_event(w, TERN_VWIRE_EV_CORRUPT, from, f, (uint32_t)p->len, digest);
        }
        queue_insert(w, f);
    }
}

static vwire_payload_t *payload_copy(const void *frame, size_t len)
{
    vwire_payload_t *p = malloc(sizeof *p + (len ? len : 1u));
    if (p == NULL)
        return NULL;
    p->refs = 1;
    p->nb = NULL;
    p->nif = NULL;
    memcpy(p->own, frame, len);
    p->bytes = p->own;
    p->len = len;
    return p;
}

static tern_vwire_side_t *side_of(tern_netif_t *nif)
{
    return nif->driver;
}

/* The IPv4 header's offset in a frame of nif, or -1 for a frame that is not
 * IPv4 (ARP, IPv6): the offloads are about IPv4 packets only. */
static long vwire_l3(const tern_netif_t *nif, const uint8_t *frame, size_t len)
{
    if (nif->link == TERN_LINK_IP)
        return 0;
    return len >= 14u && frame[12] == 0x08u && frame[13] == 0x00u ? 14 : -1;
}

typedef struct vwire_emit_ctx {
    tern_vwire_t *w;
    tern_vwire_side_t *s;
} vwire_emit_ctx_t;

static int vwire_emit(void *ctx, const uint8_t *frame, size_t len)
{
    vwire_emit_ctx_t *e = ctx;
    vwire_payload_t *p = payload_copy(frame, len);
    if (p == NULL)
        return TERN_ERR_NOMEM;
    e->s->stats.segmented++;
    vwire_transmit(e->w, e->s->index, p);
    return TERN_OK;
}

/* An interface with TX offloads (netif.h): the wire is its NIC. It cuts a
 * TSO packet into segments, unless the receiver takes large segments (as a
 * receiving NIC's coalescing would hand it the whole), and completes the
 * checksums left to it, on its own copy. */
static int vwire_output_offload(tern_vwire_t *w, tern_vwire_side_t *s, tern_netif_t *nif, tern_netbuf_t *nb)
{
    long l3 = vwire_l3(nif, nb->data, nb->len);
    const tern_netif_t *peer = w->side[1 - s->index].nif;
    if (l3 >= 0 && nb->tso_mss != 0u && (nif->offload & TERN_OFFLOAD_TX_TSO)) {
        s->stats.tso_packets++;
        if (peer == NULL || !(peer->offload & TERN_OFFLOAD_RX_LARGE)) {
            vwire_emit_ctx_t e = {w, s};
            int r = tern_gso_segment(nb->data, nb->len, (size_t)l3, nb->tso_mss, w->scratch, sizeof w->scratch,
                                     vwire_emit, &e);
            return r < 0 ? r : TERN_OK;
        }
    }
    vwire_payload_t *p = payload_copy(nb->data, nb->len);
    if (p == NULL)
        return TERN_ERR_NOMEM;
    if (l3 >= 0)
        (void)tern_gso_csum_finish(p->own, p->len, (size_t)l3,
                                   (nif->offload & TERN_OFFLOAD_TX_IPV4_CSUM) != 0u,
                                   (nif->offload & TERN_OFFLOAD_TX_L4_CSUM) != 0u);
    vwire_transmit(w, s->index, p);
    return TERN_OK;
}

static int vwire_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    tern_vwire_side_t *s = side_of(nif);
    tern_vwire_t *w = s->wire;
    int zero_copy = (nb->flags & TERN_NETBUF_F_RELEASE_AFTER_SEND) != 0;
    if (nb->len > TERN_NETBUF_FRAME_SIZE) {
        s->stats.oversize++;
        if (zero_copy)
            tern_netif_tx_done(nif, nb);
        return TERN_ERR_MSGSIZE;
    }
    if (nif->offload & (TERN_OFFLOAD_TX_IPV4_CSUM | TERN_OFFLOAD_TX_L4_CSUM | TERN_OFFLOAD_TX_TSO)) {
        int r = vwire_output_offload(w, s, nif, nb);
        if (zero_copy)
            tern_netif_tx_done(nif, nb);
        return r;
    }
    vwire_payload_t *p;
    if (zero_copy) {
        /* Hold the sender's buffer until delivery: the wire is its DMA. */
        p = malloc(sizeof *p);
        if (p == NULL) {
            tern_netif_tx_done(nif, nb);
            return TERN_ERR_NOMEM;
        }
        p->refs = 1;
        p->nb = nb;
        p->nif = nif;
        p->bytes = nb->data;
        p->len = nb->len;
    } else {
        /* Copy mode: the wire's own storage; the stack keeps its buffer. */
        p = payload_copy(nb->data, nb->len);
        if (p == NULL)
            return TERN_ERR_NOMEM;
    }
    vwire_transmit(w, s->index, p);
    return TERN_OK;
}

/* The interface is going away (netif.h: shutdown): its NIC drops what it
 * was sending, giving back every buffer of its stack the wire holds, and
 * nothing can reach it any more. On a two-sided wire that is every frame
 * in flight. */
static void vwire_shutdown(tern_netif_t *nif)
{
    tern_vwire_side_t *s = side_of(nif);
    tern_vwire_t *w = s->wire;
    while (w->queue != NULL) {
        struct tern_vwire_frame *f = w->queue;
        w->queue = f->next;
        w->in_flight--;
        w->side[f->from].stats.unattached++;
        vwire_event(w, TERN_VWIRE_EV_UNATTACHED, f->from, f, (uint32_t)f->p->len, 0);
        payload_put(w, f->p);
        free(f);
    }
    s->nif = NULL;
}

static const tern_netif_ops_t vwire_ops = {
    .init = NULL,
    .output = vwire_output,
    .shutdown = vwire_shutdown,
};

/* ---- Delivery -------------------------------------------------------------- */

/* To a zero-copy RX interface: into a buffer taken from its pool, as DMA. */
static void vwire_deliver_zero_copy(tern_vwire_t *w, struct tern_vwire_frame *f, tern_netif_t *nif)
{
    vwire_payload_t *p = f->p;
    tern_vwire_stats_t *st = &w->side[f->from].stats;
    tern_stack_t *stack = nif->stack;
    size_t len = p->len;
    tern_netbuf_t *nb = tern_netif_rx_buffer_get(nif);
    if (nb == NULL || nb->capacity < len) {
        if (nb != NULL)
            tern_netbuf_release(&stack->netbufs, nb);
        st->rx_nobufs++;
        vwire_event(w, TERN_VWIRE_EV_RX_NOBUF, f->from, f, (uint32_t)len, 0);
        payload_put(w, p);
        return;
    }
    uint8_t *frame = tern_netbuf_frame(nb);
    memcpy(frame, p->bytes, len);
    if (f->corrupt)
        frame[f->bit / 8u] ^= (uint8_t)(1u << (f->bit % 8u));
    nb->data = frame;
    tern_netbuf_set_len(nb, len);
    uint64_t digest = fnv_bytes(FNV_OFFSET, frame, len);
    /* The sender's buffer goes back before the receiver reacts, as a
     * TX-complete interrupt would precede the far end's processing. */
    payload_put(w, p);
    st->delivered++;
    vwire_event(w, TERN_VWIRE_EV_DELIVER, f->from, f, (uint32_t)len, digest);
    tern_input(stack, nif, nb, (uint32_t)w->clock_ms);
}

/* To a copy RX interface: tern_input_copy() from the wire's bytes. */
static void vwire_deliver_copy(tern_vwire_t *w, struct tern_vwire_frame *f, tern_netif_t *nif)
{
    vwire_payload_t *p = f->p;
    tern_vwire_stats_t *st = &w->side[f->from].stats;
    size_t len = p->len;
    const uint8_t *src = p->bytes;
    if (f->corrupt) {
        memcpy(w->scratch, p->bytes, len);
        w->scratch[f->bit / 8u] ^= (uint8_t)(1u << (f->bit % 8u));
        src = w->scratch;
    }
    uint64_t digest = fnv_bytes(FNV_OFFSET, src, len);
    st->delivered++;
    vwire_event(w, TERN_VWIRE_EV_DELIVER, f->from, f, (uint32_t)len, digest);
    if (tern_input_copy(nif->stack, nif, src, len, (uint32_t)w->clock_ms) == TERN_ERR_NOBUFS) {
        st->delivered--;
        st->rx_nobufs++;
        vwire_event(w, TERN_VWIRE_EV_RX_NOBUF, f->from, f, (uint32_t)len, 0);
    }
    payload_put(w, p);
}

static void vwire_deliver(tern_vwire_t *w, struct tern_vwire_frame *f)
{
    vwire_payload_t *p = f->p;
    int to = 1 - f->from;
    tern_vwire_side_t *dst = &w->side[to];
    tern_vwire_stats_t *st = &w->side[f->from].stats;
    uint32_t now = (uint32_t)w->clock_ms;
    size_t len = p->len;

    if (dst->nif != NULL && dst->nif->stack != NULL) {
        /* RX checksum offload: the receiving NIC verifies, and the stack
         * trusts it (netif.h), so a damaged frame stops here. */
        long l3 = vwire_l3(dst->nif, p->bytes, len);
        if ((dst->nif->offload & (TERN_OFFLOAD_RX_IPV4_CSUM | TERN_OFFLOAD_RX_L4_CSUM)) && l3 >= 0) {
            const uint8_t *b = p->bytes;
            if (f->corrupt) {
                memcpy(w->scratch, p->bytes, len);
                w->scratch[f->bit / 8u] ^= (uint8_t)(1u << (f->bit % 8u));
                b = w->scratch;
            }
            if (!tern_gso_csum_ok(b, len, (size_t)l3)) {
                st->rx_csum_drops++;
                vwire_event(w, TERN_VWIRE_EV_LOSS, f->from, f, (uint32_t)len, 0);
                payload_put(w, p);
                return;
            }
        }
        if (dst->nif->caps & TERN_NETIF_CAP_ZERO_COPY_RX)
            vwire_deliver_zero_copy(w, f, dst->nif);
        else
            vwire_deliver_copy(w, f, dst->nif);
        return;
    }
    if (dst->rx != NULL) {
        const uint8_t *src = p->bytes;
        if (f->corrupt) {
            memcpy(w->scratch, p->bytes, len);
            w->scratch[f->bit / 8u] ^= (uint8_t)(1u << (f->bit % 8u));
            src = w->scratch;
        }
        st->delivered++;
        vwire_event(w, TERN_VWIRE_EV_DELIVER, f->from, f, (uint32_t)len, fnv_bytes(FNV_OFFSET, src, len));
        dst->rx(dst->rx_ctx, to, src, len, now);
        payload_put(w, p);
        return;
    }
    st->unattached++;
    vwire_event(w, TERN_VWIRE_EV_UNATTACHED, f->from, f, (uint32_t)len, 0);
    payload_put(w, p);
}

/* Close the input batches open on either side's stack (its ACKs go now). */
static void vwire_batch_close(tern_vwire_t *w)
{
    for (int i = 0; i < 2; i++) {
        tern_vwire_side_t *s = &w->side[i];
        if (s->batch_open) {
            s->batch_open = 0;
            if (s->nif != NULL && s->nif->stack != NULL)
                tern_input_batch_end(s->nif->stack);
        }
    }
}

/* Deliver everything due by target (virtual ms since the start). With
 * batching, the frames due at one millisecond reach a stack as one batch. */
static void vwire_deliver_until(tern_vwire_t *w, uint64_t target)
{
    while (w->queue != NULL && w->queue->due <= target) {
        struct tern_vwire_frame *f = w->queue;
        w->queue = f->next;
        w->in_flight--;
        if (f->due > w->clock_ms) {
            vwire_batch_close(w);
            w->clock_ms = f->due;
        }
        tern_vwire_side_t *dst = &w->side[1 - f->from];
        if (dst->batch && !dst->batch_open && dst->nif != NULL && dst->nif->stack != NULL) {
            dst->batch_open = 1;
            tern_input_batch_begin(dst->nif->stack);
        }
        vwire_deliver(w, f);
        free(f);
    }
    vwire_batch_close(w);
    if (target > w->clock_ms)
        w->clock_ms = target;
}

/* Virtual ms since the start for a wrapping 32-bit time at or after now. */
static uint64_t vwire_target(const tern_vwire_t *w, uint32_t t)
{
    uint32_t delta = t - (uint32_t)w->clock_ms;
    if ((int32_t)delta < 0)
        delta = 0; /* time does not go back */
    return w->clock_ms + delta;
}

/* ---- Public API ------------------------------------------------------------ */

void tern_vwire_set_batch(tern_vwire_t *w, int side, int on)
{
    if (side == 0 || side == 1)
        w->side[side].batch = on != 0;
}

void tern_vwire_init(tern_vwire_t *w, uint64_t seed, const tern_vwire_params_t *params)
{
    memset(w, 0, sizeof *w);
    w->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
    w->hash = FNV_OFFSET;
    for (int i = 0; i < 2; i++) {
        w->side[i].wire = w;
        w->side[i].index = i;
        if (params)
            w->side[i].params = *params;
    }
}

void tern_vwire_set_params(tern_vwire_t *w, int side, const tern_vwire_params_t *params)
{
    if (side == 0 || side == 1) {
        tern_vwire_params_t none = {0};
        w->side[side].params = params ? *params : none;
    }
}

int tern_vwire_attach(tern_vwire_t *w, int side, struct tern_stack *stack, tern_netif_t *nif)
{
    return tern_vwire_attach_caps(w, side, stack, nif, TERN_NETIF_CAPS_DEFAULT);
}

int tern_vwire_attach_caps(tern_vwire_t *w, int side, struct tern_stack *stack, tern_netif_t *nif, uint8_t caps)
{
    if ((side != 0 && side != 1) || w->side[side].nif != NULL || w->side[side].rx != NULL)
        return TERN_ERR_INVAL;
    tern_vwire_side_t *s = &w->side[side];
    nif->ops = &vwire_ops;
    nif->driver = s;
    nif->caps = caps;
    if (nif->mtu == 0u)
        nif->mtu = 1500;
    if (nif->name[0] == '\0') {
        memcpy(nif->name, "vw", 2);
        nif->name[2] = (char)('0' + side);
        nif->name[3] = '\0';
    }
    s->nif = nif;
    int rc = tern_netif_add(stack, nif);
    if (rc != TERN_OK) {
        s->nif = NULL;
        return rc;
    }
    tern_netif_set_link(nif, 1);
    return TERN_OK;
}

void tern_vwire_attach_endpoint(tern_vwire_t *w, int side, tern_vwire_rx_fn rx, void *ctx)
{
    if (side == 0 || side == 1) {
        w->side[side].rx = rx;
        w->side[side].rx_ctx = ctx;
    }
}

int tern_vwire_send(tern_vwire_t *w, int side, const void *frame, size_t len)
{
    if (side != 0 && side != 1)
        return TERN_ERR_INVAL;
    if (len > TERN_NETBUF_FRAME_SIZE) {
        w->side[side].stats.oversize++;
        return TERN_ERR_MSGSIZE;
    }
    vwire_payload_t *p = payload_copy(frame, len);
    if (p == NULL)
        return TERN_ERR_NOMEM;
    vwire_transmit(w, side, p);
    return TERN_OK;
}

uint32_t tern_vwire_advance(tern_vwire_t *w, uint32_t now)
{
    vwire_deliver_until(w, vwire_target(w, now));
    if (w->queue != NULL)
        return (uint32_t)w->queue->due;
    return now + 1000u;
}

int tern_vwire_set_time(tern_vwire_t *w, uint32_t now)
{
    if (w->queue != NULL)
        return TERN_ERR_STATE;
    /* Link backlogs are relative to the clock: keep them. */
    for (int i = 0; i < 2; i++) {
        uint64_t now_us = w->clock_ms * 1000u;
        uint64_t backlog = w->side[i].link_free_us > now_us ? w->side[i].link_free_us - now_us : 0u;
        w->side[i].link_free_us = (uint64_t)now * 1000u + backlog;
    }
    w->clock_ms = now;
    return TERN_OK;
}

uint32_t tern_vwire_now(const tern_vwire_t *w)
{
    return (uint32_t)w->clock_ms;
}

uint32_t tern_vwire_pending(const tern_vwire_t *w)
{
    return w->in_flight;
}

uint32_t tern_vwire_run(tern_vwire_t *w, uint32_t until)
{
    uint64_t end = vwire_target(w, until);
    uint64_t poll_at[2] = {w->clock_ms, w->clock_ms};
    for (;;) {
        /* Timers of every attached stack that are due now. */
        for (int i = 0; i < 2; i++) {
            tern_netif_t *nif = w->side[i].nif;
            if (nif == NULL || nif->stack == NULL || poll_at[i] > w->clock_ms)
                continue;
            if (i == 1 && w->side[0].nif && w->side[0].nif->stack == nif->stack) {
                poll_at[1] = poll_at[0];
                continue; /* both sides on one stack: poll it once */
            }
            uint32_t d = tern_poll(nif->stack, (uint32_t)w->clock_ms);
            poll_at[i] = w->clock_ms + (d ? d : 1u);
        }
        uint64_t next = end;
        for (int i = 0; i < 2; i++)
            if (w->side[i].nif != NULL && poll_at[i] < next)
                next = poll_at[i];
        if (w->queue != NULL && w->queue->due < next)
            next = w->queue->due;
        if (next < w->clock_ms)
            next = w->clock_ms;
        vwire_deliver_until(w, next);
        if (w->clock_ms >= end && (w->queue == NULL || w->queue->due > end)) {
            int idle = 1;
            for (int i = 0; i < 2; i++)
                if (w->side[i].nif != NULL && poll_at[i] <= end)
                    idle = 0;
            if (idle)
                break;
        }
    }
    return (uint32_t)w->clock_ms;
}

uint64_t tern_vwire_trace_hash(const tern_vwire_t *w)
{
    return w->hash;
}

void tern_vwire_set_trace(tern_vwire_t *w, tern_vwire_trace_fn fn, void *ctx)
{
    w->trace = fn;
    w->trace_ctx = ctx;
}

const tern_vwire_stats_t *tern_vwire_stats(const tern_vwire_t *w, int side)
{
    return &w->side[side ? 1 : 0].stats;
}

void tern_vwire_destroy(tern_vwire_t *w)
{
    while (w->queue != NULL) {
        struct tern_vwire_frame *f = w->queue;
        w->queue = f->next;
        w->in_flight--;
        payload_put(w, f->p);
        free(f);
    }
    w->side[0].nif = NULL;
    w->side[1].nif = NULL;
    w->side[0].rx = NULL;
    w->side[1].rx = NULL;
}
