/* FreeRTOS+TCP sockets API on tern's socket API (include/tern/compat/
 * freertos_tcp.h). Public API only; the stack is the compat layer's one
 * (tern_compat_set_stack, bsd_sockets.c). */
#include "tern/compat/freertos_tcp.h"

#include <string.h>
#include "tern/compat/bsd_sockets.h"
#include "tern/dns.h"
#include "tern/err.h"
#include "tern/ipv4.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define STACK tern_compat_stack()

static int id_of(Socket_t s)
{
    uintptr_t v = (uintptr_t)s;
    if (s == NULL || s == FREERTOS_INVALID_SOCKET || v > (uintptr_t)TERN_SOCKET_MAX)
        return -1;
    return (int)v;
}

static Socket_t sock_of(int id)
{
    return (Socket_t)(uintptr_t)(unsigned)id;
}

static int flags_of(BaseType_t f)
{
    return ((f & FREERTOS_MSG_PEEK) ? TERN_MSG_PEEK : 0) | ((f & FREERTOS_MSG_DONTWAIT) ? TERN_MSG_DONTWAIT : 0);
}

/* A tern error as FreeRTOS+TCP's negative errno. */
static BaseType_t frt_err(int err)
{
    switch (err) {
    case TERN_ERR_NOMEM: return -pdFREERTOS_ERRNO_ENOMEM;
    case TERN_ERR_NOBUFS: return -pdFREERTOS_ERRNO_ENOBUFS;
    case TERN_ERR_WOULDBLOCK: return -pdFREERTOS_ERRNO_EWOULDBLOCK;
    case TERN_ERR_TIMEOUT: return -pdFREERTOS_ERRNO_ETIMEDOUT;
    case TERN_ERR_STATE: return -pdFREERTOS_ERRNO_ENOTCONN;
    case TERN_ERR_BADF: return -pdFREERTOS_ERRNO_EBADF;
    case TERN_ERR_ADDRINUSE: return -pdFREERTOS_ERRNO_EADDRINUSE;
    case TERN_ERR_REFUSED: return -pdFREERTOS_ERRNO_ECONNREFUSED;
    case TERN_ERR_RESET:
    case TERN_ERR_CLOSED: return -pdFREERTOS_ERRNO_ENOTCONN;
    case TERN_ERR_NOTSUP: return -pdFREERTOS_ERRNO_EOPNOTSUPP;
    case TERN_ERR_INPROGRESS: return -pdFREERTOS_ERRNO_EINPROGRESS;
    case TERN_ERR_MFILE: return -pdFREERTOS_ERRNO_EMFILE;
    case TERN_ERR_INVAL:
    case TERN_ERR_MSGSIZE: return -pdFREERTOS_ERRNO_EINVAL;
    default: return -pdFREERTOS_ERRNO_EIO;
    }
}

static int addr_in(const struct freertos_sockaddr *a, tern_sockaddr_t *out)
{
    if (a == NULL)
        return -1;
    /* A compound literal: the family (IPv4) and any IPv6 part zeroed. */
    *out = (tern_sockaddr_t){.addr = FreeRTOS_ntohl(a->sin_addr), .port = FreeRTOS_ntohs(a->sin_port)};
    return 0;
}

static void addr_out(const tern_sockaddr_t *a, struct freertos_sockaddr *out, socklen_t *len)
{
    if (out == NULL)
        return;
    out->sin_len = (uint8_t)sizeof *out;
    out->sin_family = FREERTOS_AF_INET;
    out->sin_port = FreeRTOS_htons(a->port);
    out->sin_addr = FreeRTOS_htonl(a->addr);
    if (len != NULL)
        *len = sizeof *out;
}

uint16_t FreeRTOS_htons(uint16_t usIn)
{
    return tern_bsd_htons(usIn);
}

uint32_t FreeRTOS_htonl(uint32_t ulIn)
{
    return tern_bsd_htonl(ulIn);
}

Socket_t FreeRTOS_socket(BaseType_t xDomain, BaseType_t xType, BaseType_t xProtocol)
{
    (void)xProtocol;
    if (xDomain != FREERTOS_AF_INET || (xType != FREERTOS_SOCK_DGRAM && xType != FREERTOS_SOCK_STREAM))
        return FREERTOS_INVALID_SOCKET;
    int id = tern_socket(STACK, xType == FREERTOS_SOCK_STREAM ? TERN_SOCK_STREAM : TERN_SOCK_DGRAM);
    return id > 0 ? sock_of(id) : FREERTOS_INVALID_SOCKET;
}

BaseType_t FreeRTOS_bind(Socket_t xSocket, struct freertos_sockaddr const *pxAddress, socklen_t xAddressLength)
{
    (void)xAddressLength;
    tern_sockaddr_t a = {.addr = 0, .port = 0};
    int id = id_of(xSocket);
    if (id < 0)
        return -pdFREERTOS_ERRNO_EINVAL;
    if (pxAddress != NULL)
        (void)addr_in(pxAddress, &a);
    int rc = tern_bind(STACK, id, &a);
    return rc < 0 ? frt_err(rc) : 0;
}

BaseType_t FreeRTOS_listen(Socket_t xSocket, BaseType_t xBacklog)
{
    int id = id_of(xSocket);
    if (id < 0)
        return -pdFREERTOS_ERRNO_EINVAL;
    int rc = tern_listen(STACK, id, (int)(xBacklog > 0 && xBacklog < 1000 ? xBacklog : 1));
    return rc < 0 ? frt_err(rc) : 0;
}

Socket_t FreeRTOS_accept(Socket_t xServerSocket, struct freertos_sockaddr *pxAddress, socklen_t *pxAddressLength)
{
    tern_sockaddr_t peer;
    int id = id_of(xServerSocket);
    if (id < 0)
        return FREERTOS_INVALID_SOCKET;
    int c = tern_accept(STACK, id, &peer);
    if (c == TERN_ERR_TIMEOUT || c == TERN_ERR_WOULDBLOCK)
        return NULL;
    if (c < 0)
        return FREERTOS_INVALID_SOCKET;
    addr_out(&peer, pxAddress, pxAddressLength);
    return sock_of(c);
}

BaseType_t FreeRTOS_connect(Socket_t xClientSocket, struct freertos_sockaddr *pxAddress, socklen_t xAddressLength)
{
    (void)xAddressLength;
    tern_sockaddr_t a;
    int id = id_of(xClientSocket);
    if (id < 0 || addr_in(pxAddress, &a) < 0)
        return -pdFREERTOS_ERRNO_EINVAL;
    int rc = tern_connect(STACK, id, &a);
    if (rc == TERN_ERR_STATE)
        return -pdFREERTOS_ERRNO_EISCONN;
    return rc < 0 ? frt_err(rc) : 0;
}

BaseType_t FreeRTOS_send(Socket_t xSocket, const void *pvBuffer, size_t uxDataLength, BaseType_t xFlags)
{
    int id = id_of(xSocket);
    if (id < 0 || (xFlags & FREERTOS_ZERO_COPY))
        return -pdFREERTOS_ERRNO_EINVAL;
    int n = tern_send(STACK, id, pvBuffer, uxDataLength, flags_of(xFlags));
    if (n == TERN_ERR_TIMEOUT || n == TERN_ERR_WOULDBLOCK)
        return -pdFREERTOS_ERRNO_ENOSPC;
    return n < 0 ? frt_err(n) : n;
}

BaseType_t FreeRTOS_recv(Socket_t xSocket, void *pvBuffer, size_t uxBufferLength, BaseType_t xFlags)
{
    int id = id_of(xSocket);
    if (id < 0 || (xFlags & FREERTOS_ZERO_COPY))
        return -pdFREERTOS_ERRNO_EINVAL;
    if (uxBufferLength == 0)
        return 0;
    int n = tern_recv(STACK, id, pvBuffer, uxBufferLength, flags_of(xFlags));
    if (n == TERN_ERR_TIMEOUT || n == TERN_ERR_WOULDBLOCK)
        return 0;
    if (n == 0) /* the peer's FIN: FreeRTOS+TCP reports a closed connection */
        return -pdFREERTOS_ERRNO_ENOTCONN;
    return n < 0 ? frt_err(n) : n;
}

int32_t FreeRTOS_sendto(Socket_t xSocket, const void *pvBuffer, size_t uxTotalDataLength, BaseType_t xFlags,
                        const struct freertos_sockaddr *pxDestinationAddress, socklen_t xDestinationAddressLength)
{
    (void)xDestinationAddressLength;
    tern_sockaddr_t a;
    int id = id_of(xSocket);
    if (id < 0 || (xFlags & FREERTOS_ZERO_COPY))
        return 0;
    int n = tern_sendto(STACK, id, pvBuffer, uxTotalDataLength, flags_of(xFlags),
                        addr_in(pxDestinationAddress, &a) == 0 ? &a : NULL);
    return n < 0 ? 0 : n;
}

int32_t FreeRTOS_recvfrom(Socket_t xSocket, void *pvBuffer, size_t uxBufferLength, BaseType_t xFlags,
                          struct freertos_sockaddr *pxSourceAddress, socklen_t *pxSourceAddressLength)
{
    tern_sockaddr_t a = {.addr = 0, .port = 0};
    int id = id_of(xSocket);
    if (id < 0 || (xFlags & FREERTOS_ZERO_COPY))
        return -pdFREERTOS_ERRNO_EINVAL;
    int n = tern_recvfrom(STACK, id, pvBuffer, uxBufferLength, flags_of(xFlags), &a);
    if (n == TERN_ERR_MSGSIZE) {
        /* tern keeps a datagram too long for the buffer; FreeRTOS+TCP hands
         * over what fits and drops the rest: peek its sender, then take it
         * through the zero-copy call and copy the head. */
        tern_netbuf_t *nb;
        n = tern_recvfrom_netbuf(STACK, id, &nb, flags_of(xFlags), &a);
        if (n >= 0) {
            size_t take = nb->len < uxBufferLength ? nb->len : uxBufferLength;
            memcpy(pvBuffer, nb->data, take);
            tern_socket_netbuf_release(STACK, nb);
            n = (int)take;
        }
    }
    if (n == TERN_ERR_TIMEOUT || n == TERN_ERR_WOULDBLOCK)
        return -pdFREERTOS_ERRNO_EWOULDBLOCK;
    if (n < 0)
        return (int32_t)frt_err(n);
    addr_out(&a, pxSourceAddress, pxSourceAddressLength);
    return n;
}

BaseType_t FreeRTOS_setsockopt(Socket_t xSocket, int32_t lLevel, int32_t lOptionName, const void *pvOptionValue,
                               size_t uxOptionLength)
{
    (void)lLevel;
    int id = id_of(xSocket);
    int rc;
    if (id < 0 || pvOptionValue == NULL)
        return -pdFREERTOS_ERRNO_EINVAL;
    switch (lOptionName) {
    case FREERTOS_SO_RCVTIMEO:
    case FREERTOS_SO_SNDTIMEO: {
        TickType_t ticks;
        if (uxOptionLength < sizeof ticks)
            return -pdFREERTOS_ERRNO_EINVAL;
        memcpy(&ticks, pvOptionValue, sizeof ticks);
#if TERN_OS
        /* portMAX_DELAY: forever (tern's 0); 0 ticks: do not wait (1 ms, as
         * tern's 0 means forever); else ticks in ms, saturated. */
        uint64_t ms = (uint64_t)ticks * TERN_FREERTOS_TICK_MS;
        uint32_t v = ticks == portMAX_DELAY ? 0u : ms == 0 ? 1u : ms >= UINT32_MAX ? UINT32_MAX - 1u : (uint32_t)ms;
        rc = tern_setsockopt(STACK, id, lOptionName == FREERTOS_SO_RCVTIMEO ? TERN_SO_RCVTIMEO : TERN_SO_SNDTIMEO, v);
#else
        rc = ticks == 0 ? TERN_OK : TERN_ERR_NOTSUP; /* without an OS nothing blocks */
#endif
        break;
    }
    case FREERTOS_SO_SNDBUF:
    case FREERTOS_SO_RCVBUF:
    case FREERTOS_SO_UDP_MAX_RX_PACKETS: {
        int32_t v;
        if (uxOptionLength < sizeof v)
            return -pdFREERTOS_ERRNO_EINVAL;
        memcpy(&v, pvOptionValue, sizeof v);
        if (v <= 0)
            return -pdFREERTOS_ERRNO_EINVAL;
        int opt = lOptionName == FREERTOS_SO_SNDBUF   ? TERN_SO_SNDBUF
                  : lOptionName == FREERTOS_SO_RCVBUF ? TERN_SO_RCVBUF
                                                      : TERN_SO_UDP_RXQ;
        rc = tern_setsockopt(STACK, id, opt, (uint32_t)v);
        break;
    }
    default:
        return -pdFREERTOS_ERRNO_ENOPROTOOPT;
    }
    if (rc == TERN_ERR_NOTSUP)
        return -pdFREERTOS_ERRNO_ENOPROTOOPT;
    return rc < 0 ? frt_err(rc) : 0;
}

BaseType_t FreeRTOS_shutdown(Socket_t xSocket, BaseType_t xHow)
{
    int id = id_of(xSocket);
    if (id < 0 || xHow < FREERTOS_SHUT_RD || xHow > FREERTOS_SHUT_RDWR)
        return -pdFREERTOS_ERRNO_EINVAL;
    int how = xHow == FREERTOS_SHUT_RD ? TERN_SHUT_RD : xHow == FREERTOS_SHUT_WR ? TERN_SHUT_WR : TERN_SHUT_RDWR;
    int rc = tern_shutdown(STACK, id, how);
    return rc < 0 ? frt_err(rc) : 0;
}

BaseType_t FreeRTOS_closesocket(Socket_t xSocket)
{
    int id = id_of(xSocket);
    if (id < 0)
        return 0;
    return tern_close(STACK, id) == TERN_OK ? 1 : 0;
}

uint32_t FreeRTOS_inet_addr(const char *pcIPAddress)
{
    tern_ip4_t ip;
    if (pcIPAddress == NULL || tern_ip4_from_str(pcIPAddress, &ip) != TERN_OK)
        return 0;
    return FreeRTOS_htonl(ip);
}

uint32_t FreeRTOS_gethostbyname(const char *pcHostName)
{
    uint32_t ip = FreeRTOS_inet_addr(pcHostName);
    if (ip != 0 || pcHostName == NULL)
        return ip;
#if TERN_OS
    tern_ip4_t a;
    if (tern_dns_resolve(STACK, pcHostName, &a, 0) == TERN_OK)
        return FreeRTOS_htonl(a);
#endif
    return 0;
}

/* The heap is guarded by the memory lock when the port has one, else by
 * the core lock (port.h). */
static void heap_stats(tern_heap_stats_t *hs)
{
    struct tern_stack *st = STACK;
    memset(hs, 0, sizeof *hs);
    if (st == NULL)
        return;
    const tern_port_t *p = st->port;
    void (*lock)(void *) = p->mem_lock != NULL ? p->mem_lock : p->lock;
    void (*unlock)(void *) = p->mem_lock != NULL ? p->mem_unlock : p->unlock;
    if (lock != NULL)
        lock(p->ctx);
    tern_ledger_heap_stats(&st->ledger, hs);
    if (unlock != NULL)
        unlock(p->ctx);
}

size_t xPortGetFreeHeapSize(void)
{
    tern_heap_stats_t hs;
    heap_stats(&hs);
    return hs.free;
}

size_t xPortGetMinimumEverFreeHeapSize(void)
{
    tern_heap_stats_t hs;
    heap_stats(&hs);
    return hs.min_free;
}
