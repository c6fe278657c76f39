/* The socket structure and the helpers shared by the socket layer's files
 * (not API). TCP adds its member to the union and its case to each type
 * switch in socket.c. */
#ifndef TERN_SOCKET_INTERNAL_H
#define TERN_SOCKET_INTERNAL_H

#include <stdint.h>
#include "tern/stack.h"
#include "tern/udp.h"

/* socket flags */
#define SOCK_F_NONBLOCK 0x01u
#define SOCK_F_SHUT_RD 0x02u
#define SOCK_F_SHUT_WR 0x04u

/* UDP part: the pcb and the receive queue. A queued datagram keeps its
 * network buffer with data/len at the payload; its source address and port
 * are written over the consumed UDP header (the 8 bytes before data), its
 * destination address goes in nb->scratch. */
typedef struct socket_udp {
    tern_udp_pcb_t pcb;
    tern_netbuf_t *head; /* oldest first, linked through next */
    tern_netbuf_t *tail;
    uint16_t qlen;       /* datagrams queued */
    uint16_t qmax;       /* TERN_SO_UDP_RXQ */
} socket_udp_t;

/* One socket: allocated at tern_socket() (SOCKET, owner = id). */
typedef struct tern_socket {
    uint32_t serial; /* tells this socket from a later one with the same id */
    uint16_t id;
    uint8_t type;    /* enum tern_socket_type */
    uint8_t flags;   /* SOCK_F_* */
    int32_t error;   /* pending error (TERN_SO_ERROR), 0 = none */
#if TERN_OS
    uint32_t rcvtimeo; /* ms, 0 = forever */
    uint32_t sndtimeo;
#endif
    union {
        socket_udp_t udp;
        /* TCP: its connection state goes here. */
    } u;
} tern_socket_t;

#endif
