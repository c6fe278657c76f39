/* The classic small services on the sockets API: echo (RFC 862, port 7),
 * discard (RFC 863, port 9) and chargen (RFC 864, port 19), each on TCP and
 * UDP. Portable core code on the non-blocking sockets API: one call,
 * tern_services_poll(), does whatever is ready, so it runs from an MCU main
 * loop (timeout 0) or from a thread of its own (a timeout: it blocks in
 * tern_socket_poll). It is not a stack service (tern_service_t): it calls
 * socket functions, which take the core lock.
 *
 * At most tcp_conns TCP connections per service at once (at most
 * TERN_SOCKET_SERVICE_CONNS); one more is accepted and reset at once, so a
 * client learns quickly. Each listener's backlog is tcp_conns (at least 4),
 * so that many clients may connect at one instant. Socket ids used: one listener and one UDP socket
 * per service started, plus the connections. */
#ifndef TERN_SERVICES_H
#define TERN_SERVICES_H

#include <stdint.h>
#include "tern/stack.h"

#define TERN_SERVICE_ECHO 0x01u
#define TERN_SERVICE_DISCARD 0x02u
#define TERN_SERVICE_CHARGEN 0x04u
#define TERN_SERVICE_ALL 0x07u
#define TERN_SERVICES_COUNT 3u
#define TERN_CHARGEN_CYCLE (95u * 74u) /* RFC 864: 95 lines of 72 characters and CR LF */

typedef struct tern_services_cfg {
    unsigned which;     /* TERN_SERVICE_* bits */
    unsigned tcp_conns; /* per service, 1..TERN_SOCKET_SERVICE_CONNS (0: the maximum) */
    uint32_t rcvbuf;    /* TCP ring sizes of the connections (0: default) */
    uint32_t sndbuf;
    uint16_t port_base; /* 0: the well-known ports; else base + 7, 9, 19 (tests) */
} tern_services_cfg_t;

typedef struct tern_services_stats {
    uint32_t accepted, refused, closed, errors;
    uint32_t udp_in, udp_out;
    uint32_t udp_echoed, udp_echo_errors; /* UDP echo alone */
    uint64_t tcp_in, tcp_out; /* bytes */
} tern_services_stats_t;

typedef struct tern_services_conn {
    int sock;     /* 0: free */
    uint16_t pos; /* chargen: position in the RFC 864 cycle */
    uint8_t out_blocked; /* echo: waiting for send space */
    uint8_t unused_;
} tern_services_conn_t;

typedef struct tern_services {
    struct tern_stack *stack;
    tern_services_cfg_t cfg;
    int listen[TERN_SERVICES_COUNT]; /* 0: not started */
    int udp[TERN_SERVICES_COUNT];
    tern_services_conn_t conns[TERN_SERVICES_COUNT][TERN_SOCKET_SERVICE_CONNS];
    uint32_t rng;     /* UDP chargen lengths */
    uint16_t udp_pos; /* UDP chargen: where the next datagram starts */
    tern_services_stats_t stats;
} tern_services_t;

/* Open the sockets (the caller must not hold the core lock). TERN_OK, or the
 * first error (everything opened so far is closed again). */
int tern_services_start(tern_services_t *sv, struct tern_stack *stack, const tern_services_cfg_t *cfg);
/* Serve what is ready, waiting up to timeout_ms for something (0: look
 * once; a TERN_OS=0 build must pass 0). Returns the number of sockets that
 * had work, 0 when none, or an error from tern_socket_poll. */
int tern_services_poll(tern_services_t *sv, uint32_t timeout_ms);
/* Close every socket (open connections are reset). */
void tern_services_stop(tern_services_t *sv);
/* Byte pos of the RFC 864 stream. */
uint8_t tern_chargen_byte(uint32_t pos);

#endif
