/* DHCP client (RFC 2131, options RFC 2132, overload RFC 2131 4.1 and RFC
 * 3396 order) with an ARP check of the offered address (RFC 5227).
 *
 *   INIT -> SELECTING -> REQUESTING -> CHECKING -> BOUND -> RENEWING -> REBINDING
 *     ^        |  (N DISCOVERs: FALLBACK)  | conflict: DECLINE, 10 s    |  expiry
 *     +--------+---------------- NAK / REQUEST unanswered -------------+--------+
 *
 * Timers: retransmissions in milliseconds (4 s doubling to 64 s, +/-1 s,
 * RFC 2131 4.1); the lease in whole seconds counted from the time the
 * REQUEST was sent (4.4.1), advanced by every poll, so leases longer than
 * the 49-day wrap of the millisecond clock work. Details: docs/dhcp_dns.md. */
#include "tern/dhcp.h"

#include <string.h>
#include "util/fmt.h"
#include "util/time.h"
#include "util/wire.h"
#include "dhcp_state.h"
#include "tern/stack.h"
#include "tern/udp.h"
#include "tern/plan.h"

/* The size of the client's state, for the planner (tern/plan.h). */
TERN_PLAN_SIZE(dhcp_state, sizeof(struct tern_dhcp));
/* Static-only build: the client's state, once. */
TERN_STATIC_POOL_APP(dhcp_state, "DHCP", sizeof(struct tern_dhcp), 1);

#define DHCP_SERVER_PORT 67u
#define DHCP_CLIENT_PORT 68u
#define DHCP_SERVICE_NAME "dhcp" /* the client's state is this registered service's */
#define DHCP_MEM_NAME "DHCP"     /* its ledger category (docs/memory.md) */
#define DHCP_OP_REQUEST 1u
#define DHCP_OP_REPLY 2u
#define DHCP_HTYPE_ETH 1u
#define DHCP_FLAG_BROADCAST 0x8000u
#define DHCP_COOKIE 0x63825363u
#define DHCP_SNAME_OFF 44u
#define DHCP_SNAME_LEN 64u
#define DHCP_FILE_OFF 108u
#define DHCP_FILE_LEN 128u
#define DHCP_COOKIE_OFF 236u
#define DHCP_OPT_OFF 240u
#define DHCP_MIN_LEN 300u /* RFC 1542 3.2: some relays drop shorter BOOTP messages */
#define DHCP_TX_MAX (DHCP_OPT_OFF + 64u + TERN_DHCP_HOSTNAME_MAX)
#define DHCP_INFINITE 0xFFFFFFFFu

/* message types (option 53) */
#define DHCPDISCOVER 1u
#define DHCPOFFER 2u
#define DHCPREQUEST 3u
#define DHCPDECLINE 4u
#define DHCPACK 5u
#define DHCPNAK 6u
#define DHCPRELEASE 7u

/* options */
#define OPT_PAD 0u
#define OPT_MASK 1u
#define OPT_ROUTER 3u
#define OPT_DNS 6u
#define OPT_HOSTNAME 12u
#define OPT_REQ_IP 50u
#define OPT_LEASE 51u
#define OPT_OVERLOAD 52u
#define OPT_MSG_TYPE 53u
#define OPT_SERVER_ID 54u
#define OPT_PRL 55u
#define OPT_MAX_SIZE 57u
#define OPT_T1 58u
#define OPT_T2 59u
#define OPT_CLIENT_ID 61u
#define OPT_END 255u

/* RFC 2131 4.1: retransmission 4 s, doubling up to 64 s, randomized +/-1 s. */
#define DHCP_RTX_FIRST_MS 4000u
#define DHCP_RTX_MAX_MS 64000u
/* RFC 2131 3.1.5: wait at least 10 s after a DECLINE before starting over. */
#define DHCP_DECLINE_WAIT_MS 10000u
/* RFC 2131 4.4.5: RENEWING/REBINDING retransmit at half the time left, at
 * least 60 s apart. */
#define DHCP_RENEW_MIN_S 60u


/* What a reply said, after parsing. */
typedef struct dhcp_msg {
    uint32_t seen; /* single-value options present, 1 << (code & 31) */
    uint8_t type;
    uint8_t overload;
    uint8_t dns_count;
    tern_ip4_t yiaddr;
    tern_ip4_t server_id;
    tern_ip4_t netmask;
    tern_ip4_t router;
    tern_ip4_t dns[TERN_DHCP_MAX_DNS];
    uint32_t lease, t1, t2;
} dhcp_msg_t;

#define SEEN(code) ((uint32_t)1u << ((code) & 31u))

/* The running client: the stack knows it only as a registered service. */
static struct tern_dhcp *dhcp_of(const tern_stack_t *stack)
{
    /* NULL when stack is NULL, or the client is not running. */
    tern_service_t *svc = tern_stack_find_service(stack, DHCP_SERVICE_NAME);
    return svc != NULL ? (struct tern_dhcp *)svc->ctx : NULL;
}

static uint32_t dhcp_random(const struct tern_dhcp *d)
{
    const tern_port_t *port = d->stack->port;
    return port->random32(port->ctx);
}

static void dhcp_set_state(struct tern_dhcp *d, uint8_t state)
{
    d->state = state;
    d->tries = 0;
    if (d->event_fn != NULL)
        d->event_fn(d->stack, d->event_ctx, state);
}

/* ---- sending --------------------------------------------------------------- */

static size_t opt_put(uint8_t *p, size_t n, uint8_t code, const void *val, size_t len)
{
    p[n] = code;
    p[n + 1u] = (uint8_t)len;
    memcpy(p + n + 2u, val, len);
    return n + 2u + len;
}

static size_t opt_put_ip(uint8_t *p, size_t n, uint8_t code, tern_ip4_t ip)
{
    uint8_t v[4];
    wire_wr32(v, ip);
    return opt_put(p, n, code, v, 4);
}

/* Build and send one message (RFC 2131 table 5 says which fields). ciaddr
 * 0 means we hold no address: the server must then broadcast its answer,
 * since our IP layer takes no unicast to an address it does not hold. */
static int dhcp_send(struct tern_dhcp *d, uint8_t type, tern_ip4_t ciaddr, tern_ip4_t dst, uint32_t now)
{
    tern_stack_t *stack = d->stack;
    uint8_t msg[DHCP_TX_MAX];
    memset(msg, 0, sizeof msg);
    msg[0] = DHCP_OP_REQUEST;
    msg[1] = DHCP_HTYPE_ETH;
    msg[2] = 6;
    wire_wr32(msg + 4, d->xid);
    uint32_t secs = (now - d->started) / 1000u;
    wire_wr16(msg + 8, (uint16_t)(secs > 0xFFFFu ? 0xFFFFu : secs));
    if (ciaddr == 0u && (type == DHCPDISCOVER || type == DHCPREQUEST))
        wire_wr16(msg + 10, DHCP_FLAG_BROADCAST);
    wire_wr32(msg + 12, ciaddr);
    memcpy(msg + 28, d->nif->mac, 6);
    wire_wr32(msg + DHCP_COOKIE_OFF, DHCP_COOKIE);

    size_t n = DHCP_OPT_OFF;
    uint8_t t = type;
    n = opt_put(msg, n, OPT_MSG_TYPE, &t, 1);
    uint8_t cid[7] = {DHCP_HTYPE_ETH};
    memcpy(cid + 1, d->nif->mac, 6);
    n = opt_put(msg, n, OPT_CLIENT_ID, cid, sizeof cid);
    /* SELECTING REQUEST and DECLINE name the address and the server;
     * RENEWING/REBINDING REQUESTs must not (4.3.2). */
    int selecting = type == DHCPREQUEST && ciaddr == 0u;
    if (selecting || type == DHCPDECLINE)
        n = opt_put_ip(msg, n, OPT_REQ_IP, d->offered);
    if (selecting || type == DHCPDECLINE || type == DHCPRELEASE)
        n = opt_put_ip(msg, n, OPT_SERVER_ID, d->server);
    if (type == DHCPDISCOVER || type == DHCPREQUEST) {
        static const uint8_t max_size[2] = {576u >> 8, 576u & 0xFFu}; /* RFC 2132 9.10 minimum */
        n = opt_put(msg, n, OPT_MAX_SIZE, max_size, sizeof max_size);
        size_t hl = strlen(d->hostname);
        if (hl != 0u)
            n = opt_put(msg, n, OPT_HOSTNAME, d->hostname, hl);
        static const uint8_t prl[] = {OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_LEASE, OPT_SERVER_ID, OPT_T1, OPT_T2};
        n = opt_put(msg, n, OPT_PRL, prl, sizeof prl);
    }
    msg[n++] = OPT_END;
    if (n < DHCP_MIN_LEN)
        n = DHCP_MIN_LEN;

    tern_netbuf_t *nb = tern_udp_netbuf_get(stack, n, 0);
    if (nb == NULL) {
        d->stats.tx_err++;
        return TERN_ERR_NOBUFS;
    }
    memcpy(nb->data, msg, n);
    tern_sockaddr_t to = {.addr = dst, .port = DHCP_SERVER_PORT};
    int r = tern_udp_sendto(stack, &d->pcb, nb, &to);
    if (r != TERN_OK) {
        d->stats.tx_err++;
        return r;
    }
    switch (type) {
    case DHCPDISCOVER:
        d->stats.tx_discover++;
        break;
    case DHCPREQUEST:
        d->stats.tx_request++;
        break;
    case DHCPDECLINE:
        d->stats.tx_decline++;
        break;
    default:
        d->stats.tx_release++;
        break;
    }
    return TERN_OK;
}

/* The REQUEST of the current state: SELECTING-style while REQUESTING,
 * unicast to our server while RENEWING, broadcast while REBINDING. */
static void dhcp_send_request(struct tern_dhcp *d, uint32_t now)
{
    if (d->state == TERN_DHCP_REQUESTING)
        (void)dhcp_send(d, DHCPREQUEST, 0, TERN_IP4_BROADCAST, now);
    else
        (void)dhcp_send(d, DHCPREQUEST, d->offered, d->state == TERN_DHCP_RENEWING ? d->server : TERN_IP4_BROADCAST,
                        now);
}

/* Next retransmission: 4 s after the first try, doubling to 64 s, each
 * randomized by -1..+1 s (RFC 2131 4.1). tries counts the sends so far. */
static uint32_t dhcp_backoff_ms(const struct tern_dhcp *d)
{
    unsigned shift = d->tries > 0u ? d->tries - 1u : 0u;
    uint32_t base = shift >= 4u ? DHCP_RTX_MAX_MS : DHCP_RTX_FIRST_MS << shift;
    return base - 1000u + dhcp_random(d) % 2001u;
}

static void dhcp_transmit(struct tern_dhcp *d, uint8_t type, uint32_t now)
{
    if (type == DHCPREQUEST)
        dhcp_send_request(d, now);
    else
        (void)dhcp_send(d, type, 0, TERN_IP4_BROADCAST, now);
    if (d->tries < 255u)
        d->tries++;
    d->deadline = now + dhcp_backoff_ms(d);
}

/* ---- state changes ------------------------------------------------------------ */

static void dhcp_forget_lease(struct tern_dhcp *d)
{
    if (d->lease_addr) {
        tern_netif_set_addr(d->nif, 0, 0, 0);
        d->lease_addr = 0;
    }
    d->dns_count = 0;
    d->lease_s = d->t1_s = d->t2_s = 0;
    d->elapsed_s = 0;
}

/* Start over at INIT after delay_ms (a fresh exchange, a new xid). */
static void dhcp_restart(struct tern_dhcp *d, uint32_t now, uint32_t delay_ms)
{
    d->stats.restarts++;
    d->armed = 1;
    d->deadline = now + delay_ms;
    dhcp_set_state(d, TERN_DHCP_INIT);
}

/* A restart after a failure: at least 1 s, so that a server answering every
 * REQUEST with a NAK cannot make us loop at wire speed. */
static void dhcp_restart_soon(struct tern_dhcp *d, uint32_t now)
{
    dhcp_restart(d, now, 1000u + dhcp_random(d) % 1000u);
}

static void dhcp_discover_begin(struct tern_dhcp *d, uint32_t now)
{
    d->xid = dhcp_random(d);
    d->started = now;
    d->discovers = 0;
    d->offered = 0;
    d->server = 0;
    dhcp_set_state(d, d->fb_active ? TERN_DHCP_FALLBACK : TERN_DHCP_SELECTING);
    d->discovers++;
    dhcp_transmit(d, DHCPDISCOVER, now);
    if (d->fb_active)
        d->deadline = now + DHCP_RTX_MAX_MS - 1000u + dhcp_random(d) % 2001u;
}

static void dhcp_fallback(struct tern_dhcp *d)
{
    tern_netif_set_addr(d->nif, d->fb_addr, d->fb_mask, d->fb_gw);
    d->fb_active = 1;
    d->stats.fallbacks++;
}

static void dhcp_bind(struct tern_dhcp *d)
{
    tern_netif_t *nif = d->nif;
    /* The fallback (if any) gives way to the lease. */
    d->fb_active = 0;
    if (!d->lease_addr || nif->addr != d->offered || nif->netmask != d->netmask || nif->gateway != d->router)
        tern_netif_set_addr(nif, d->offered, d->netmask, d->router);
    d->lease_addr = 1;
    dhcp_set_state(d, TERN_DHCP_BOUND);
}

/* The address is in use by someone else: RFC 2131 3.1.5 DECLINE, then
 * start over no sooner than 10 s later. */
static void dhcp_decline(struct tern_dhcp *d, uint32_t now)
{
    d->stats.conflicts++;
    (void)dhcp_send(d, DHCPDECLINE, 0, TERN_IP4_BROADCAST, now);
    if (d->lease_addr && d->nif->addr == d->offered) {
        tern_netif_set_addr(d->nif, 0, 0, 0);
        d->lease_addr = 0;
    }
    d->dns_count = 0;
    dhcp_restart(d, now, DHCP_DECLINE_WAIT_MS);
}

static void dhcp_lease_clock(struct tern_dhcp *d, uint32_t now)
{
    uint32_t secs = (now - d->tick) / 1000u;
    if ((int32_t)(now - d->tick) < 0)
        return;
    d->tick += secs * 1000u;
    d->elapsed_s = d->elapsed_s + secs < d->elapsed_s ? UINT32_MAX : d->elapsed_s + secs;
}

/* RFC 2131 4.4.5: the next RENEWING/REBINDING retransmission, half the time
 * to limit away but at least 60 s. */
static void dhcp_schedule_renew(struct tern_dhcp *d, uint32_t limit)
{
    uint32_t left = limit > d->elapsed_s ? limit - d->elapsed_s : 0u;
    uint32_t wait = left / 2u > DHCP_RENEW_MIN_S ? left / 2u : DHCP_RENEW_MIN_S;
    d->next_tx_s = d->elapsed_s + wait;
}

/* Take the lease in an ACK: timers, and the options that come with it. */
static void dhcp_take_lease(struct tern_dhcp *d, const dhcp_msg_t *m, uint32_t now)
{
    uint32_t lease = m->lease;
    if (lease < TERN_DHCP_MIN_LEASE_S)
        lease = TERN_DHCP_MIN_LEASE_S;
    uint32_t t1 = lease / 2u, t2 = lease - lease / 8u; /* RFC 2131 4.4.5 defaults */
    if (lease == DHCP_INFINITE) {
        t1 = t2 = DHCP_INFINITE;
    } else {
        uint32_t g1 = (m->seen & SEEN(OPT_T1)) ? m->t1 : t1;
        uint32_t g2 = (m->seen & SEEN(OPT_T2)) ? m->t2 : t2;
        /* Use the server's values only when they make sense together and
         * would not have us renew more often than every MIN_LEASE/2. */
        if (g1 >= TERN_DHCP_MIN_LEASE_S / 2u && g1 < g2 && g2 < lease) {
            t1 = g1;
            t2 = g2;
        }
    }
    tern_ip4_t old = d->offered;
    d->offered = m->yiaddr;
    d->server = m->server_id;
    d->netmask = m->netmask;
    d->router = m->router;
    d->dns_count = m->dns_count;
    memcpy(d->dns, m->dns, sizeof d->dns);
    d->lease_s = lease;
    d->t1_s = t1;
    d->t2_s = t2;
    /* The lease runs from the first REQUEST of this exchange (4.4.1). */
    d->elapsed_s = 0;
    d->tick = d->req_first;
    dhcp_lease_clock(d, now);
    d->stats.leases++;
    int fresh = d->state == TERN_DHCP_REQUESTING || old != m->yiaddr;
    if (fresh && TERN_DHCP_ARP_PROBES > 0) {
        if (d->lease_addr && d->nif->addr == old) {
            tern_netif_set_addr(d->nif, 0, 0, 0); /* a new address: the old one is gone */
            d->lease_addr = 0;
        }
        dhcp_set_state(d, TERN_DHCP_CHECKING);
        /* RFC 5227 2.1.1: first probe after a random 0..PROBE_WAIT. */
        d->deadline = now + dhcp_random(d) % TERN_DHCP_PROBE_INTERVAL_MS;
        return;
    }
    dhcp_bind(d);
}

/* ---- parsing -------------------------------------------------------------- */

static int dhcp_mask_valid(tern_ip4_t mask)
{
    uint32_t host = ~mask;
    return mask != 0u && (host & (host + 1u)) == 0u;
}

static tern_ip4_t dhcp_classful_mask(tern_ip4_t ip)
{
    uint32_t a = ip >> 24;
    return a < 128u ? 0xFF000000u : a < 192u ? 0xFFFF0000u : 0xFFFFFF00u;
}

/* One option (code, len bytes at v): 0, or -1 when it is malformed. */
static int dhcp_option(dhcp_msg_t *m, uint8_t code, const uint8_t *v, uint8_t len, int main_area)
{
    switch (code) {
    case OPT_MSG_TYPE:
    case OPT_OVERLOAD:
        if (len != 1u || (m->seen & SEEN(code)))
            return -1;
        m->seen |= SEEN(code);
        if (code == OPT_MSG_TYPE) {
            m->type = v[0];
        } else {
            /* Only the options field may overload the others (RFC 2131 4.1). */
            if (!main_area || v[0] < 1u || v[0] > 3u)
                return -1;
            m->overload = v[0];
        }
        return 0;
    case OPT_MASK:
    case OPT_SERVER_ID:
    case OPT_LEASE:
    case OPT_T1:
    case OPT_T2: {
        if (len != 4u || (m->seen & SEEN(code)))
            return -1;
        m->seen |= SEEN(code);
        uint32_t x = wire_rd32(v);
        if (code == OPT_MASK)
            m->netmask = x;
        else if (code == OPT_SERVER_ID)
            m->server_id = x;
        else if (code == OPT_LEASE)
            m->lease = x;
        else if (code == OPT_T1)
            m->t1 = x;
        else
            m->t2 = x;
        return 0;
    }
    case OPT_ROUTER:
    case OPT_DNS:
        /* Lists of addresses; repeated instances concatenate (RFC 3396). */
        if (len == 0u || (len & 3u) != 0u)
            return -1;
        for (unsigned i = 0; i < len; i += 4u) {
            tern_ip4_t ip = wire_rd32(v + i);
            if (code == OPT_ROUTER) {
                if (m->router == 0u)
                    m->router = ip;
            } else if (tern_ip4_is_unicast_host(ip) && m->dns_count < TERN_DHCP_MAX_DNS) {
                m->dns[m->dns_count++] = ip;
            }
        }
        return 0;
    default:
        return 0; /* not asked for: skipped */
    }
}

/* An options area: TLVs up to an end option that must be there. 0 or -1. */
static int dhcp_options(dhcp_msg_t *m, const uint8_t *p, size_t len, int main_area)
{
    size_t i = 0;
    while (i < len) {
        uint8_t code = p[i];
        if (code == OPT_PAD) {
            i++;
            continue;
        }
        if (code == OPT_END)
            return 0;
        if (len - i < 2u)
            return -1; /* no room for the length */
        uint8_t olen = p[i + 1u];
        if (olen > len - i - 2u)
            return -1; /* runs past the area */
        if (dhcp_option(m, code, p + i + 2u, olen, main_area) != 0)
            return -1;
        i += 2u + olen;
    }
    return -1; /* no end option */
}

/* Every structural check on a reply, in order; NULL when it is well formed
 * and for us, else the counter to bump. Fills m. */
static uint32_t *dhcp_parse(struct tern_dhcp *d, const uint8_t *p, size_t len, const tern_udp_rx_info_t *info,
                            dhcp_msg_t *m)
{
    tern_dhcp_stats_t *s = &d->stats;
    memset(m, 0, sizeof *m);
    if (len < DHCP_OPT_OFF)
        return &s->drop_short;
    if (info->from.port != DHCP_SERVER_PORT || p[0] != DHCP_OP_REPLY || p[1] != DHCP_HTYPE_ETH || p[2] != 6u)
        return &s->drop_header;
    if (wire_rd32(p + 4) != d->xid)
        return &s->drop_xid;
    if (!wire_mac_equal(p + 28, d->nif->mac))
        return &s->drop_chaddr;
    if (wire_rd32(p + DHCP_COOKIE_OFF) != DHCP_COOKIE)
        return &s->drop_cookie;
    if (dhcp_options(m, p + DHCP_OPT_OFF, len - DHCP_OPT_OFF, 1) != 0)
        return &s->drop_options;
    /* RFC 2131 4.1: with overload, 'file' then 'sname' hold more options,
     * each ended by its own end option and bounded by its field. */
    if ((m->overload & 1u) && dhcp_options(m, p + DHCP_FILE_OFF, DHCP_FILE_LEN, 0) != 0)
        return &s->drop_options;
    if ((m->overload & 2u) && dhcp_options(m, p + DHCP_SNAME_OFF, DHCP_SNAME_LEN, 0) != 0)
        return &s->drop_options;
    m->yiaddr = wire_rd32(p + 16);
    return NULL;
}

/* Semantic checks on a well-formed message: NULL when usable. */
static uint32_t *dhcp_check(struct tern_dhcp *d, dhcp_msg_t *m)
{
    tern_dhcp_stats_t *s = &d->stats;
    if (m->type != DHCPOFFER && m->type != DHCPACK && m->type != DHCPNAK)
        return &s->drop_invalid;
    /* RFC 2131 table 3: OFFER, ACK and NAK all carry the server identifier. */
    if (!(m->seen & SEEN(OPT_SERVER_ID)) || !tern_ip4_is_unicast_host(m->server_id))
        return &s->drop_invalid;
    if (m->type == DHCPNAK)
        return NULL;
    if (!tern_ip4_is_unicast_host(m->yiaddr))
        return &s->drop_invalid;
    if (!(m->seen & SEEN(OPT_MASK)))
        m->netmask = dhcp_classful_mask(m->yiaddr);
    if (!dhcp_mask_valid(m->netmask))
        return &s->drop_invalid;
    /* Not the network or broadcast address of its own subnet (/31, /32 have
     * neither, RFC 3021). */
    tern_ip4_t host = m->yiaddr & ~m->netmask;
    if (m->netmask < 0xFFFFFFFEu && (host == 0u || host == ~m->netmask))
        return &s->drop_invalid;
    if (m->type == DHCPACK && !(m->seen & SEEN(OPT_LEASE)))
        return &s->drop_invalid; /* RFC 2131 table 3: MUST in an ACK to a REQUEST */
    /* A router off our subnet (or our own address) is unusable: ignore it. */
    if (m->router != 0u && (!tern_ip4_is_unicast_host(m->router) || m->router == m->yiaddr ||
                            (m->router & m->netmask) != (m->yiaddr & m->netmask)))
        m->router = 0;
    return NULL;
}

static void dhcp_handle(struct tern_dhcp *d, dhcp_msg_t *m, uint32_t now)
{
    tern_dhcp_stats_t *s = &d->stats;
    uint8_t st = d->state;
    switch (m->type) {
    case DHCPOFFER:
        if (st != TERN_DHCP_SELECTING && st != TERN_DHCP_FALLBACK) {
            s->drop_state++;
            return;
        }
        /* The first usable offer wins (RFC 2131 4.4.1 lets us choose). */
        s->rx_offer++;
        d->offered = m->yiaddr;
        d->server = m->server_id;
        dhcp_set_state(d, TERN_DHCP_REQUESTING);
        d->req_first = now;
        dhcp_transmit(d, DHCPREQUEST, now);
        return;
    case DHCPACK:
        /* REQUESTING and RENEWING: only our server, for the address asked.
         * REBINDING: any server may answer (4.4.5). */
        if (!((st == TERN_DHCP_REQUESTING && m->server_id == d->server && m->yiaddr == d->offered) ||
              (st == TERN_DHCP_RENEWING && m->server_id == d->server) || st == TERN_DHCP_REBINDING)) {
            s->drop_state++;
            return;
        }
        s->rx_ack++;
        dhcp_take_lease(d, m, now);
        return;
    default: /* DHCPNAK */
        if (!((st == TERN_DHCP_REQUESTING || st == TERN_DHCP_RENEWING) ? m->server_id == d->server
                                                                        : st == TERN_DHCP_REBINDING)) {
            s->drop_state++;
            return;
        }
        s->rx_nak++;
        dhcp_forget_lease(d);
        dhcp_restart_soon(d, now);
        return;
    }
}

static void dhcp_recv(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
                      const tern_udp_rx_info_t *info)
{
    struct tern_dhcp *d = ctx;
    (void)pcb;
    d->stats.rx++;
    dhcp_msg_t m;
    uint32_t *drop = dhcp_parse(d, nb->data, nb->len, info, &m);
    tern_netbuf_release(&stack->netbufs, nb);
    if (drop == NULL)
        drop = dhcp_check(d, &m);
    if (drop != NULL) {
        (*drop)++;
        return;
    }
    dhcp_handle(d, &m, info->now);
}

static void dhcp_service_stop(tern_stack_t *stack, void *ctx);

/* The service's ARP hook: every ARP packet that passed validation. */
static void dhcp_arp_input(tern_stack_t *stack, void *ctx, tern_netif_t *nif, uint16_t op, const uint8_t sha[6],
                           tern_ip4_t spa, tern_ip4_t tpa)
{
    struct tern_dhcp *d = ctx;
    (void)stack;
    (void)sha; /* arp_input already dropped our own packets */
    if (d->nif != nif || d->state != TERN_DHCP_CHECKING)
        return;
    /* RFC 5227 2.1.1: any ARP from the address, or another host's probe for
     * it, means it is taken. */
    if (spa == d->offered || (spa == 0u && op == 1u && tpa == d->offered))
        dhcp_decline(d, stack->now);
}

/* ---- timers ----------------------------------------------------------------- */

static uint32_t dhcp_ms_until(uint32_t now, uint32_t deadline)
{
    return net_time_reached(now, deadline) ? 0u : deadline - now;
}

/* Milliseconds until elapsed_s reaches target (lease clock). */
static uint32_t dhcp_ms_until_s(const struct tern_dhcp *d, uint32_t now, uint32_t target)
{
    if (target == DHCP_INFINITE)
        return UINT32_MAX;
    if (target <= d->elapsed_s)
        return 0;
    uint64_t ms = (uint64_t)(target - d->elapsed_s) * 1000u;
    uint32_t into = now - d->tick;
    ms = ms > into ? ms - into : 0u;
    return ms > 0x7FFFFFFFu ? 0x7FFFFFFFu : (uint32_t)ms;
}

static uint32_t dhcp_poll(tern_stack_t *stack, void *ctx, uint32_t now)
{
    struct tern_dhcp *d = ctx;
    (void)stack;
    uint8_t st = d->state;
    if (st >= TERN_DHCP_CHECKING && st <= TERN_DHCP_REBINDING)
        dhcp_lease_clock(d, now);
    switch (st) {
    case TERN_DHCP_INIT:
        if (!d->armed) {
            d->armed = 1;
            d->deadline = now + (TERN_DHCP_INIT_DELAY_MS > 0u ? dhcp_random(d) % TERN_DHCP_INIT_DELAY_MS : 0u);
        }
        if (net_time_reached(now, d->deadline)) {
            d->armed = 0;
            dhcp_discover_begin(d, now);
        }
        break;
    case TERN_DHCP_SELECTING:
    case TERN_DHCP_FALLBACK:
        if (!net_time_reached(now, d->deadline))
            break;
        if (st == TERN_DHCP_SELECTING && d->fb_after != 0u && d->fb_addr != 0u && d->discovers >= d->fb_after) {
            dhcp_fallback(d);
            dhcp_set_state(d, TERN_DHCP_FALLBACK);
        }
        if (d->discovers < UINT16_MAX)
            d->discovers++;
        if (d->state == TERN_DHCP_FALLBACK) {
            /* Keep looking for a server, at the slowest pace. */
            (void)dhcp_send(d, DHCPDISCOVER, 0, TERN_IP4_BROADCAST, now);
            d->deadline = now + DHCP_RTX_MAX_MS - 1000u + dhcp_random(d) % 2001u;
        } else {
            dhcp_transmit(d, DHCPDISCOVER, now);
        }
        break;
    case TERN_DHCP_REQUESTING:
        if (!net_time_reached(now, d->deadline))
            break;
        if (d->tries >= TERN_DHCP_REQUEST_TRIES) {
            dhcp_restart_soon(d, now); /* the offer went stale */
            break;
        }
        dhcp_transmit(d, DHCPREQUEST, now);
        break;
    case TERN_DHCP_CHECKING:
        if (!net_time_reached(now, d->deadline))
            break;
        if (d->tries < TERN_DHCP_ARP_PROBES) {
            (void)tern_arp_probe(stack, d->nif, d->offered);
            d->tries++;
            /* RFC 5227: PROBE_MIN..PROBE_MAX apart, ANNOUNCE_WAIT after the last. */
            d->deadline = now + (d->tries < TERN_DHCP_ARP_PROBES
                                     ? TERN_DHCP_PROBE_INTERVAL_MS + dhcp_random(d) % TERN_DHCP_PROBE_INTERVAL_MS
                                     : 2u * TERN_DHCP_PROBE_INTERVAL_MS);
            break;
        }
        dhcp_bind(d);
        break;
    case TERN_DHCP_BOUND:
        if (d->elapsed_s >= d->t1_s && d->t1_s != DHCP_INFINITE) {
            d->stats.renewals++;
            dhcp_set_state(d, TERN_DHCP_RENEWING);
            d->started = now;
            d->req_first = now;
            dhcp_send_request(d, now);
            d->tries = 1;
            dhcp_schedule_renew(d, d->t2_s);
        }
        break;
    case TERN_DHCP_RENEWING:
        if (d->elapsed_s >= d->t2_s) {
            d->stats.rebinds++;
            dhcp_set_state(d, TERN_DHCP_REBINDING);
            d->req_first = now;
            dhcp_send_request(d, now);
            d->tries = 1;
            dhcp_schedule_renew(d, d->lease_s);
        } else if (d->elapsed_s >= d->next_tx_s) {
            d->req_first = now;
            dhcp_send_request(d, now);
            d->tries++;
            dhcp_schedule_renew(d, d->t2_s);
        }
        break;
    case TERN_DHCP_REBINDING:
        if (d->elapsed_s >= d->lease_s) {
            /* RFC 2131 4.4.5: the lease is gone; stop using the address. */
            d->stats.expiries++;
            dhcp_forget_lease(d);
            dhcp_restart(d, now, 0);
        } else if (d->elapsed_s >= d->next_tx_s) {
            d->req_first = now;
            dhcp_send_request(d, now);
            d->tries++;
            dhcp_schedule_renew(d, d->lease_s);
        }
        break;
    default:
        break;
    }
    switch (d->state) {
    case TERN_DHCP_INIT:
        return d->armed ? dhcp_ms_until(now, d->deadline) : 0u;
    case TERN_DHCP_BOUND:
        return dhcp_ms_until_s(d, now, d->t1_s);
    case TERN_DHCP_RENEWING:
        return dhcp_ms_until_s(d, now, d->next_tx_s < d->t2_s ? d->next_tx_s : d->t2_s);
    case TERN_DHCP_REBINDING:
        return dhcp_ms_until_s(d, now, d->next_tx_s < d->lease_s ? d->next_tx_s : d->lease_s);
    default:
        return dhcp_ms_until(now, d->deadline);
    }
}

/* ---- public ------------------------------------------------------------------- */

/* Letters, digits and '-', at most TERN_DHCP_HOSTNAME_MAX of them. */
static int dhcp_hostname_valid(const char *name)
{
    size_t n = 0;
    while (n <= TERN_DHCP_HOSTNAME_MAX && name[n] != '\0')
        n++;
    if (n > TERN_DHCP_HOSTNAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

int tern_dhcp_start(tern_stack_t *stack, tern_netif_t *nif)
{
    TERN_CORE_LOCKED(stack);
    if (stack == NULL || nif == NULL || nif->stack != stack)
        return TERN_ERR_INVAL;
    if (dhcp_of(stack) != NULL)
        return TERN_ERR_STATE;
    int cat = tern_ledger_register_category(&stack->ledger, DHCP_MEM_NAME);
    if (cat < 0)
        return cat;
    struct tern_dhcp *d = tern_mem_zalloc(&stack->ledger, sizeof *d, (tern_mem_category_t)cat, TERN_OWNER_STACK);
    if (d == NULL)
        return TERN_ERR_NOMEM;
    d->stack = stack;
    d->nif = nif;
    tern_udp_pcb_init(&d->pcb, dhcp_recv, d);
    d->pcb.nif = nif;
    d->pcb.flags = TERN_UDP_F_BROADCAST;
    tern_sockaddr_t local = {.addr = 0, .port = DHCP_CLIENT_PORT};
    int r = tern_udp_bind(stack, &d->pcb, &local);
    if (r != TERN_OK) {
        tern_mem_free(&stack->ledger, d);
        return r;
    }
    static const char default_name[] = TERN_DHCP_HOSTNAME;
    _Static_assert(sizeof default_name <= TERN_DHCP_HOSTNAME_MAX + 1u, "TERN_DHCP_HOSTNAME too long");
    memcpy(d->hostname, default_name, sizeof default_name);
    if (!dhcp_hostname_valid(d->hostname))
        d->hostname[0] = '\0'; /* a bad default sends no name rather than a bad one */
    d->fb_addr = TERN_DHCP_FALLBACK_ADDR;
    d->fb_mask = TERN_DHCP_FALLBACK_NETMASK;
    d->fb_gw = TERN_DHCP_FALLBACK_GATEWAY;
    d->fb_after = TERN_DHCP_FALLBACK_AFTER;
    d->state = TERN_DHCP_INIT;
    d->svc.name = DHCP_SERVICE_NAME;
    d->svc.poll = dhcp_poll;
    d->svc.ctx = d;
    d->svc.arp_input = dhcp_arp_input;
    d->svc.stop = dhcp_service_stop;
    tern_stack_add_service(stack, &d->svc);
    return TERN_OK;
}

static void dhcp_service_stop(tern_stack_t *stack, void *ctx)
{
    (void)ctx;
    tern_dhcp_stop(stack);
}

void tern_dhcp_stop(tern_stack_t *stack)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dhcp *d = dhcp_of(stack);
    if (d == NULL)
        return;
    if ((d->lease_addr && d->nif->addr == d->offered) || (d->fb_active && d->nif->addr == d->fb_addr))
        tern_netif_set_addr(d->nif, 0, 0, 0);
    tern_udp_unbind(stack, &d->pcb);
    tern_stack_remove_service(stack, &d->svc);
    tern_mem_free(&stack->ledger, d);
}

void tern_dhcp_release(tern_stack_t *stack)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dhcp *d = dhcp_of(stack);
    if (d == NULL)
        return;
    if (d->state == TERN_DHCP_BOUND || d->state == TERN_DHCP_RENEWING || d->state == TERN_DHCP_REBINDING) {
        /* Unicast when the server's MAC is known (RFC 2131 4.4.6); otherwise
         * the datagram would wait for ARP and die with the address. */
        uint8_t mac[6];
        tern_ip4_t dst = tern_arp_lookup(stack, d->server, mac) == TERN_OK ? d->server : TERN_IP4_BROADCAST;
        d->xid = dhcp_random(d);
        (void)dhcp_send(d, DHCPRELEASE, d->offered, dst, stack->now);
    }
    tern_dhcp_stop(stack);
}

int tern_dhcp_set_hostname(tern_stack_t *stack, const char *name)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dhcp *d = dhcp_of(stack);
    if (d == NULL)
        return TERN_ERR_STATE;
    if (name == NULL || !dhcp_hostname_valid(name))
        return TERN_ERR_INVAL;
    memcpy(d->hostname, name, strlen(name) + 1u);
    return TERN_OK;
}

int tern_dhcp_set_fallback(tern_stack_t *stack, tern_ip4_t addr, tern_ip4_t netmask, tern_ip4_t gateway,
                           unsigned after)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dhcp *d = dhcp_of(stack);
    if (d == NULL)
        return TERN_ERR_STATE;
    if (addr != 0u && (!tern_ip4_is_unicast_host(addr) || !dhcp_mask_valid(netmask) || after > UINT16_MAX))
        return TERN_ERR_INVAL;
    d->fb_addr = addr;
    d->fb_mask = netmask;
    d->fb_gw = gateway;
    d->fb_after = (uint16_t)after;
    return TERN_OK;
}

int tern_dhcp_set_callback(tern_stack_t *stack, tern_dhcp_event_fn fn, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    struct tern_dhcp *d = dhcp_of(stack);
    if (d == NULL)
        return TERN_ERR_STATE;
    d->event_fn = fn;
    d->event_ctx = ctx;
    return TERN_OK;
}

int tern_dhcp_state(const tern_stack_t *stack)
{
    TERN_CORE_LOCKED(stack);
    const struct tern_dhcp *d = dhcp_of(stack);
    return d != NULL ? d->state : TERN_DHCP_STOPPED;
}

const char *tern_dhcp_state_name(int state)
{
    static const char *const names[TERN_DHCP_STATE_COUNT_] = {
        "stopped", "init", "selecting", "requesting", "checking", "bound", "renewing", "rebinding", "fallback"};
    return state >= 0 && state < TERN_DHCP_STATE_COUNT_ ? names[state] : "?";
}

int tern_dhcp_get_info(const tern_stack_t *stack, tern_dhcp_info_t *out)
{
    TERN_CORE_LOCKED(stack);
    const struct tern_dhcp *d = dhcp_of(stack);
    if (d == NULL || out == NULL)
        return TERN_ERR_STATE;
    memset(out, 0, sizeof *out);
    out->state = d->state;
    out->addr = d->state == TERN_DHCP_FALLBACK ? d->fb_addr : d->offered;
    out->netmask = d->state == TERN_DHCP_FALLBACK ? d->fb_mask : d->netmask;
    out->router = d->state == TERN_DHCP_FALLBACK ? d->fb_gw : d->router;
    out->server = d->server;
    out->dns_count = d->dns_count;
    memcpy(out->dns, d->dns, sizeof out->dns);
    out->lease_s = d->lease_s;
    out->t1_s = d->t1_s;
    out->t2_s = d->t2_s;
    out->elapsed_s = d->elapsed_s;
    out->xid = d->xid;
    out->tries = d->tries;
    return TERN_OK;
}

const tern_dhcp_stats_t *tern_dhcp_stats(const tern_stack_t *stack)
{
    const struct tern_dhcp *d = dhcp_of(stack);
    return d != NULL ? &d->stats : NULL;
}

static void report_ip(tern_writer_fn write, void *ctx, const char *label, tern_ip4_t ip)
{
    char buf[16];
    fmt_str(write, ctx, label);
    (void)tern_ip4_to_str(ip, buf);
    fmt_str(write, ctx, buf);
}

static unsigned mask_prefix(tern_ip4_t mask)
{
    unsigned n = 0;
    while (n < 32u && (mask & (0x80000000u >> n)))
        n++;
    return n;
}

void tern_dhcp_report_text(const tern_stack_t *stack, tern_writer_fn write, void *ctx)
{
    TERN_CORE_LOCKED(stack);
    tern_dhcp_info_t in;
    const tern_dhcp_stats_t *s = tern_dhcp_stats(stack);
    if (s == NULL || tern_dhcp_get_info(stack, &in) != TERN_OK) {
        fmt_str(write, ctx, "dhcp: stopped\n");
        return;
    }
    fmt_str(write, ctx, "dhcp: ");
    fmt_str(write, ctx, tern_dhcp_state_name(in.state));
    if (in.addr != 0u)
        report_ip(write, ctx, " ", in.addr);
    if (in.addr != 0u && in.netmask != 0u) {
        fmt_str(write, ctx, "/");
        fmt_uint(write, ctx, mask_prefix(in.netmask), 0);
    }
    if (in.router != 0u)
        report_ip(write, ctx, " router ", in.router);
    for (unsigned i = 0; i < in.dns_count; i++)
        report_ip(write, ctx, i == 0u ? " dns " : ",", in.dns[i]);
    if (in.server != 0u)
        report_ip(write, ctx, " server ", in.server);
    if (in.lease_s != 0u) {
        fmt_str(write, ctx, " lease ");
        if (in.lease_s == DHCP_INFINITE) {
            fmt_str(write, ctx, "infinite");
        } else {
            fmt_uint(write, ctx, in.lease_s, 0);
            fmt_str(write, ctx, "s t1 ");
            fmt_uint(write, ctx, in.t1_s, 0);
            fmt_str(write, ctx, " t2 ");
            fmt_uint(write, ctx, in.t2_s, 0);
            fmt_str(write, ctx, " elapsed ");
            fmt_uint(write, ctx, in.elapsed_s, 0);
        }
    }
    uint32_t dropped = s->drop_short + s->drop_header + s->drop_xid + s->drop_chaddr + s->drop_cookie +
                       s->drop_options + s->drop_invalid + s->drop_state;
    fmt_str(write, ctx, "; tx discover ");
    fmt_uint(write, ctx, s->tx_discover, 0);
    fmt_str(write, ctx, " request ");
    fmt_uint(write, ctx, s->tx_request, 0);
    fmt_str(write, ctx, " decline ");
    fmt_uint(write, ctx, s->tx_decline, 0);
    fmt_str(write, ctx, "; rx offer ");
    fmt_uint(write, ctx, s->rx_offer, 0);
    fmt_str(write, ctx, " ack ");
    fmt_uint(write, ctx, s->rx_ack, 0);
    fmt_str(write, ctx, " nak ");
    fmt_uint(write, ctx, s->rx_nak, 0);
    fmt_str(write, ctx, " dropped ");
    fmt_uint(write, ctx, dropped, 0);
    fmt_str(write, ctx, "; renewals ");
    fmt_uint(write, ctx, s->renewals, 0);
    fmt_str(write, ctx, "\n");
}
