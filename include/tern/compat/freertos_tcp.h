/* The FreeRTOS+TCP sockets API on tern, for moving an application written
 * for FreeRTOS+TCP without rewriting its network code. Written from that
 * API's public documentation (names, argument order, return conventions).
 *
 * The calls work on the stack given to tern_compat_set_stack() (also in
 * tern/compat/bsd_sockets.h). A Socket_t is a tern socket id in a pointer.
 * Timeouts are TickType_t ticks of TERN_FREERTOS_TICK_MS milliseconds
 * (default 1: configTICK_RATE_HZ 1000); portMAX_DELAY waits forever.
 * Errors follow FreeRTOS+TCP: negative pdFREERTOS_ERRNO_* values where the
 * API returns a BaseType_t status, FREERTOS_INVALID_SOCKET, NULL or 0 where
 * it does so. Blocking needs TERN_OS=1. docs/compat.md has the table of
 * what is supported.
 *
 * With the FreeRTOS kernel's FreeRTOS.h included first, its BaseType_t,
 * TickType_t and pd* names are used; otherwise this header defines them. */
#ifndef TERN_COMPAT_FREERTOS_TCP_H
#define TERN_COMPAT_FREERTOS_TCP_H

#include <stddef.h>
#include <stdint.h>
#include "tern/config.h"

struct tern_stack;
void tern_compat_set_stack(struct tern_stack *stack);

#ifndef TERN_FREERTOS_TICK_MS
#define TERN_FREERTOS_TICK_MS 1u
#endif

#ifndef INC_FREERTOS_H
typedef long BaseType_t;
typedef unsigned long UBaseType_t;
typedef uint32_t TickType_t;
#define pdFALSE ((BaseType_t)0)
#define pdTRUE ((BaseType_t)1)
#define pdPASS pdTRUE
#define pdFAIL pdFALSE
#define portMAX_DELAY ((TickType_t)0xffffffffu)
#define portTICK_PERIOD_MS ((TickType_t)TERN_FREERTOS_TICK_MS)
#define pdMS_TO_TICKS(ms) ((TickType_t)((uint32_t)(ms) / TERN_FREERTOS_TICK_MS))
#endif

typedef uint32_t socklen_t; /* the same type as glibc's, so both may be seen */
typedef struct tern_freertos_socket *Socket_t;
#define FREERTOS_INVALID_SOCKET ((Socket_t)(uintptr_t)~0u)

/* Addresses: port and address in network order, as in FreeRTOS+TCP. */
struct freertos_sockaddr {
    uint8_t sin_len;
    uint8_t sin_family;
    uint16_t sin_port;
    uint32_t sin_addr;
};

#define FREERTOS_AF_INET 2
#define FREERTOS_SOCK_DGRAM 2
#define FREERTOS_SOCK_STREAM 1
#define FREERTOS_IPPROTO_UDP 17
#define FREERTOS_IPPROTO_TCP 6
#define FREERTOS_SOCK_DEPENDENT_PROTO 0

/* Flags for send/recv. FREERTOS_ZERO_COPY is not supported (EINVAL). */
#define FREERTOS_ZERO_COPY 1
#define FREERTOS_MSG_PEEK 4
#define FREERTOS_MSG_DONTWAIT 16

/* Options (level ignored, as FreeRTOS+TCP does). Timeouts: TickType_t;
 * buffer sizes: int32_t bytes, TCP, before the connection has its rings. */
#define FREERTOS_SO_RCVTIMEO 0
#define FREERTOS_SO_SNDTIMEO 1
#define FREERTOS_SO_SNDBUF 4
#define FREERTOS_SO_RCVBUF 5
#define FREERTOS_SO_UDP_MAX_RX_PACKETS 16

#define FREERTOS_SHUT_RD 0
#define FREERTOS_SHUT_WR 1
#define FREERTOS_SHUT_RDWR 2

/* Error numbers (returned negated). */
#define pdFREERTOS_ERRNO_NONE 0
#define pdFREERTOS_ERRNO_ENOENT 2
#define pdFREERTOS_ERRNO_EINTR 4
#define pdFREERTOS_ERRNO_EIO 5
#define pdFREERTOS_ERRNO_EBADF 9
#define pdFREERTOS_ERRNO_EAGAIN 11
#define pdFREERTOS_ERRNO_EWOULDBLOCK 11
#define pdFREERTOS_ERRNO_ENOMEM 12
#define pdFREERTOS_ERRNO_EINVAL 22
#define pdFREERTOS_ERRNO_EMFILE 24
#define pdFREERTOS_ERRNO_ENOSPC 28
#define pdFREERTOS_ERRNO_EOPNOTSUPP 95
#define pdFREERTOS_ERRNO_ENOBUFS 105
#define pdFREERTOS_ERRNO_ENOPROTOOPT 109
#define pdFREERTOS_ERRNO_ECONNREFUSED 111 /* tern: a connect answered by RST (newlib's number) */
#define pdFREERTOS_ERRNO_EADDRINUSE 112
#define pdFREERTOS_ERRNO_ETIMEDOUT 116
#define pdFREERTOS_ERRNO_EINPROGRESS 119
#define pdFREERTOS_ERRNO_EALREADY 120
#define pdFREERTOS_ERRNO_EISCONN 127
#define pdFREERTOS_ERRNO_ENOTCONN 128

/* FREERTOS_INVALID_SOCKET when no socket could be made. */
Socket_t FreeRTOS_socket(BaseType_t xDomain, BaseType_t xType, BaseType_t xProtocol);
/* 0, or -pdFREERTOS_ERRNO_EADDRINUSE / -EINVAL. pxAddress NULL: any port. */
BaseType_t FreeRTOS_bind(Socket_t xSocket, struct freertos_sockaddr const *pxAddress, socklen_t xAddressLength);
BaseType_t FreeRTOS_listen(Socket_t xSocket, BaseType_t xBacklog);
/* The new socket; NULL when the receive timeout passed; FREERTOS_INVALID_SOCKET
 * when xServerSocket is not listening (or no socket could be made). */
Socket_t FreeRTOS_accept(Socket_t xServerSocket, struct freertos_sockaddr *pxAddress, socklen_t *pxAddressLength);
/* 0 once connected (waits up to the send timeout); -pdFREERTOS_ERRNO_*. */
BaseType_t FreeRTOS_connect(Socket_t xClientSocket, struct freertos_sockaddr *pxAddress, socklen_t xAddressLength);
/* Bytes queued; -pdFREERTOS_ERRNO_ENOSPC when the send timeout passed with
 * nothing queued, -ENOTCONN when not connected (or closed), -EINVAL. */
BaseType_t FreeRTOS_send(Socket_t xSocket, const void *pvBuffer, size_t uxDataLength, BaseType_t xFlags);
/* Bytes received; 0 when the receive timeout passed; -pdFREERTOS_ERRNO_ENOTCONN
 * when the peer closed (or reset) the connection, -EINVAL. */
BaseType_t FreeRTOS_recv(Socket_t xSocket, void *pvBuffer, size_t uxBufferLength, BaseType_t xFlags);
/* UDP: bytes sent, 0 when not sent. */
int32_t FreeRTOS_sendto(Socket_t xSocket, const void *pvBuffer, size_t uxTotalDataLength, BaseType_t xFlags,
                        const struct freertos_sockaddr *pxDestinationAddress, socklen_t xDestinationAddressLength);
/* UDP: bytes received (a datagram longer than the buffer is cut, as
 * FreeRTOS+TCP copies what fits); -pdFREERTOS_ERRNO_EWOULDBLOCK when the
 * receive timeout passed. */
int32_t FreeRTOS_recvfrom(Socket_t xSocket, void *pvBuffer, size_t uxBufferLength, BaseType_t xFlags,
                          struct freertos_sockaddr *pxSourceAddress, socklen_t *pxSourceAddressLength);
/* 0, or -pdFREERTOS_ERRNO_ENOPROTOOPT (unsupported option), -EINVAL. */
BaseType_t FreeRTOS_setsockopt(Socket_t xSocket, int32_t lLevel, int32_t lOptionName, const void *pvOptionValue,
                               size_t uxOptionLength);
BaseType_t FreeRTOS_shutdown(Socket_t xSocket, BaseType_t xHow);
/* 1 when closed, 0 when xSocket was not a socket. */
BaseType_t FreeRTOS_closesocket(Socket_t xSocket);

/* Dotted quad in network order; 0 when malformed. */
uint32_t FreeRTOS_inet_addr(const char *pcIPAddress);
/* Dotted quads directly; names through tern's DNS client (apps/dns, which
 * the application starts with tern_dns_start). Network order; 0 when not
 * found. Blocks (TERN_OS=1). */
uint32_t FreeRTOS_gethostbyname(const char *pcHostName);

uint16_t FreeRTOS_htons(uint16_t usIn);
uint32_t FreeRTOS_htonl(uint32_t ulIn);
#define FreeRTOS_ntohs(x) FreeRTOS_htons(x)
#define FreeRTOS_ntohl(x) FreeRTOS_htonl(x)
#define FreeRTOS_inet_addr_quick(a, b, c, d) \
    FreeRTOS_htonl(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

/* heap_4/heap_5's statistics, from tern's heap (the stack's arena: every
 * network allocation is in it). */
size_t xPortGetFreeHeapSize(void);
size_t xPortGetMinimumEverFreeHeapSize(void);

#endif
