/* UDP (RFC 768) and the raw UDP API.
 *
 * The raw API runs inside the stack with the core lock held: from a receive
 * callback, a tern_service_t poll function, or an application thread that
 * holds the lock (the socket layer, DHCP and DNS are built on it). It never
 * blocks except in tern_udp_netbuf_get() with a non-zero timeout.
 *
 * A pcb (protocol control block) is the caller's memory: embedded in a
 * socket or in a client's state. The UDP layer only links it into the
 * stack's list while it is bound, and never frees it: call
 * tern_udp_unbind() before the memory goes away.
 *
 * Input demultiplexing (docs/sockets.md): among bound pcbs whose local port
 * is the destination port, the most specific wins: connected (remote set and
 * matching) over bound to the destination address over wildcard; an
 * interface-bound pcb only sees its interface. Broadcasts reach only pcbs
 * with TERN_UDP_F_BROADCAST. A datagram for no pcb is answered with ICMP
 * port unreachable (not for broadcasts, RFC 1122 4.1.3.1) and counted.
 *
 * Never call the socket API from inside a receive callback: the callback
 * runs with the core lock held, and every socket call takes that lock. */
#ifndef TERN_UDP_H
#define TERN_UDP_H

#include <stddef.h>
#include <stdint.h>
#include "tern/netbuf.h"
#include "tern/netif.h"
#include "tern/socket.h"

struct tern_stack;

#define TERN_UDP_HDR_LEN 8u
/* Headroom a UDP payload needs in front of it: Ethernet + IPv4 + UDP. */
#define TERN_UDP_HEADROOM (14u + 20u + TERN_UDP_HDR_LEN)
/* Largest payload a network buffer can carry (1472 for 1514-byte frames):
 * we never fragment. */
#define TERN_UDP_MAX_PAYLOAD (TERN_NETBUF_FRAME_SIZE - TERN_UDP_HEADROOM)
#if TERN_IPV6
/* The same over IPv6 (40-byte header): 1452. tern_udp_netbuf_get reserves
 * this headroom for every payload up to TERN_UDP6_MAX_PAYLOAD, so any
 * buffer it hands out can go to either family. */
#define TERN_UDP6_HEADROOM (14u + 40u + TERN_UDP_HDR_LEN)
#define TERN_UDP6_MAX_PAYLOAD (TERN_NETBUF_FRAME_SIZE - TERN_UDP6_HEADROOM)
#endif

/* Ephemeral ports (RFC 6335 8.1.2 dynamic range), chosen per RFC 6056. */
#define TERN_UDP_EPHEMERAL_FIRST 49152u
#define TERN_UDP_EPHEMERAL_LAST 65535u

/* pcb flags */
#define TERN_UDP_F_BROADCAST 0x0001u /* may send to and receive broadcasts */
#define TERN_UDP_F_REUSEADDR 0x0002u /* may share its port with other REUSEADDR pcbs */
#define TERN_UDP_F_V6ONLY 0x0004u    /* bound to ::, takes IPv6 only (TERN_SO_V6ONLY) */

typedef struct tern_udp_pcb tern_udp_pcb_t;

typedef struct tern_udp_rx_info {
    tern_sockaddr_t from; /* source address and port */
    tern_ip4_t to;        /* destination address (ours or a broadcast); 0 over IPv6 */
#if TERN_IPV6
    tern_ip6_t to6;       /* over IPv6 (from.family TERN_FAMILY_IP6): the destination */
#endif
    tern_netif_t *nif;    /* the receiving interface */
    uint32_t now;         /* stack time of arrival */
} tern_udp_rx_info_t;

/* Called from the input path with the datagram: nb->data/len is the UDP
 * payload. The callee owns nb: release it with
 * tern_netbuf_release(&stack->netbufs, nb) or keep it. */
typedef void (*tern_udp_recv_fn)(struct tern_stack *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
                                 const tern_udp_rx_info_t *info);

/* Called from the input path when an ICMP error arrives about a datagram
 * this pcb sent; only connected pcbs are told (RFC 1122 4.1.3.3; an
 * unconnected pcb cannot know the datagram was its own). err is
 * TERN_ERR_REFUSED (port or protocol unreachable), TERN_ERR_MSGSIZE
 * (fragmentation needed) or TERN_ERR_UNREACH (any other unreachable, time
 * exceeded, parameter problem). The socket layer records it as the
 * socket's pending error. */
typedef void (*tern_udp_error_fn)(struct tern_stack *stack, void *ctx, tern_udp_pcb_t *pcb, int err);

struct tern_udp_pcb {
    struct tern_udp_pcb *next;
    tern_sockaddr_t local;  /* addr 0 = any */
    tern_sockaddr_t remote; /* port 0 = not connected: accept from anyone */
    uint16_t flags;         /* TERN_UDP_F_* */
    tern_netif_t *nif;      /* non-NULL: send and receive only on this interface (DHCP before it has an
                               address: source 0.0.0.0) */
    tern_udp_recv_fn recv;
    tern_udp_error_fn error; /* NULL: ICMP errors are only counted */
    void *ctx;
};

/* UDP state in struct tern_stack. */
typedef struct tern_udp {
    tern_udp_pcb_t *pcbs; /* bound pcbs, most recently bound first */
} tern_udp_t;

/* Zero the pcb and set its callback (recv must not be NULL to receive). */
void tern_udp_pcb_init(tern_udp_pcb_t *pcb, tern_udp_recv_fn recv, void *ctx);

/* Set (or clear, with NULL) the ICMP error callback; it gets the ctx given
 * to tern_udp_pcb_init. */
void tern_udp_set_error_fn(tern_udp_pcb_t *pcb, tern_udp_error_fn error);

/* Bind to local and link the pcb. local->addr 0 binds every address, else
 * it must be one of our addresses (TERN_ERR_INVAL). TERN_FAMILY_IP6: ::
 * binds every IPv6 address and, without TERN_UDP_F_V6ONLY, every IPv4 one
 * too; a specific IPv6 address must be ours. Port 0: an ephemeral port
 * (49152..65535) chosen per RFC 6056 algorithm 1 (random start from
 * port->random32, then the next free one). TERN_ERR_ADDRINUSE when the port
 * is taken (or every ephemeral port is), TERN_ERR_INVAL when the pcb is
 * bound already. */
int tern_udp_bind(struct tern_stack *stack, tern_udp_pcb_t *pcb, const tern_sockaddr_t *local);

/* Unlink the pcb (no-op when not bound). Safe from the pcb's own callback.
 * Its IPv6 group memberships are dropped. */
void tern_udp_unbind(struct tern_stack *stack, tern_udp_pcb_t *pcb);

#if TERN_IPV6
/* Join an IPv6 multicast group (link scope or wider) on every IPv6
 * interface: MLDv2 reports (RFC 3810) and the driver's filter hook for the
 * first member; datagrams to the group and the pcb's port then reach this
 * pcb (the most specific member when several joined). The pcb must be
 * bound to IPv6 (:: or the group): TERN_ERR_STATE otherwise;
 * TERN_ERR_INVAL for a unicast or interface-local address,
 * TERN_ERR_ADDRINUSE when joined already, TERN_ERR_NOMEM when
 * TERN_IPV6_MCAST_GROUPS memberships exist. */
int tern_udp_join_group(struct tern_stack *stack, tern_udp_pcb_t *pcb, const tern_ip6_t *group);
/* Leave it (a leave report when the last member goes). TERN_ERR_INVAL
 * when the pcb is not a member. */
int tern_udp_leave_group(struct tern_stack *stack, tern_udp_pcb_t *pcb, const tern_ip6_t *group);
#endif

/* A buffer for payload_len bytes with the headroom for Ethernet + IPv4 +
 * UDP reserved: data/len = payload area. NULL when payload_len exceeds
 * TERN_UDP_MAX_PAYLOAD or no buffer is free within timeout_ms (0: no wait;
 * waiting needs the port's wait hook). */
tern_netbuf_t *tern_udp_netbuf_get(struct tern_stack *stack, size_t payload_len, uint32_t timeout_ms);

/* Send nb->data/len as one datagram to `to` (NULL: pcb->remote). The stack
 * takes nb whatever the result. An unbound pcb is bound to an ephemeral port
 * first (to :: when `to` is IPv6, so it then takes both families). IPv6
 * destinations need a pcb bound to :: or to an IPv6 address; IPv4 ones a
 * pcb taking IPv4 (TERN_ERR_INVAL otherwise). Over IPv6 the checksum is
 * always computed in software (the offload flags speak of IPv4). Source: pcb->local.addr if set, else the outgoing interface's
 * address (0.0.0.0 allowed only when pcb->nif is set: then only to
 * 255.255.255.255). Broadcast destinations need TERN_UDP_F_BROADCAST.
 * Returns TERN_OK (sent, or queued for ARP), TERN_ERR_INVAL (bad arguments,
 * port 0, broadcast without the flag, too little headroom), TERN_ERR_STATE
 * (to NULL on an unconnected pcb), TERN_ERR_MSGSIZE (over the MTU),
 * TERN_ERR_NOROUTE, TERN_ERR_LINKDOWN, TERN_ERR_ADDRINUSE (no ephemeral port
 * left) or the driver's error. */
int tern_udp_sendto(struct tern_stack *stack, tern_udp_pcb_t *pcb, tern_netbuf_t *nb, const tern_sockaddr_t *to);

#endif
