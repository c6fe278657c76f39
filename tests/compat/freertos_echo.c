/* FreeRTOS+TCP application code, in the style of that API's documentation
 * examples, compiled against tern/compat/freertos_tcp.h. Tasks are threads
 * here (xTaskCreate's stand-in); the network code is as it would be on
 * FreeRTOS.
 *
 * TCP port 7: echo server, one task per connection (listen/accept loop,
 * recv with a timeout, graceful shutdown). UDP port 7: echo with
 * FreeRTOS_recvfrom/FreeRTOS_sendto; commands "connect PORT" (connect back
 * to the sender, send a line, answer "connected" or "error -N"), "heap"
 * (answer xPortGetFreeHeapSize and xPortGetMinimumEverFreeHeapSize) and
 * "resolve NAME" (FreeRTOS_gethostbyname). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/compat/freertos_tcp.h"

void compat_app_start(void);

#define ECHO_PORT 7
#define SHUTDOWN_DELAY pdMS_TO_TICKS(5000)

static void task_create(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    pthread_create(&t, NULL, fn, arg);
    pthread_detach(t);
}

static void *prvServerConnectionInstance(void *pvParameters)
{
    Socket_t xConnectedSocket = (Socket_t)pvParameters;
    static const TickType_t xReceiveTimeOut = pdMS_TO_TICKS(5000);
    static const TickType_t xSendTimeOut = pdMS_TO_TICKS(5000);
    char cRxedData[512];
    BaseType_t lBytes, lSent, lTotalSent;

    FreeRTOS_setsockopt(xConnectedSocket, 0, FREERTOS_SO_RCVTIMEO, &xReceiveTimeOut, sizeof xReceiveTimeOut);
    FreeRTOS_setsockopt(xConnectedSocket, 0, FREERTOS_SO_SNDTIMEO, &xSendTimeOut, sizeof xSendTimeOut);
    for (;;) {
        lBytes = FreeRTOS_recv(xConnectedSocket, cRxedData, sizeof cRxedData, 0);
        if (lBytes > 0) {
            lSent = 0;
            lTotalSent = 0;
            while (lSent >= 0 && lTotalSent < lBytes) {
                lSent = FreeRTOS_send(xConnectedSocket, cRxedData + lTotalSent, (size_t)(lBytes - lTotalSent), 0);
                lTotalSent += lSent;
            }
            if (lSent < 0)
                break;
        } else if (lBytes < 0) {
            break; /* the peer closed: -pdFREERTOS_ERRNO_ENOTCONN */
        }
        /* 0: timeout, keep waiting */
    }
    printf("freertos: connection closed (%ld)\n", (long)lBytes);
    fflush(stdout);
    FreeRTOS_shutdown(xConnectedSocket, FREERTOS_SHUT_RDWR);
    TickType_t waited = 0;
    while (FreeRTOS_recv(xConnectedSocket, cRxedData, sizeof cRxedData, 0) >= 0 && waited < SHUTDOWN_DELAY)
        waited += xReceiveTimeOut;
    FreeRTOS_closesocket(xConnectedSocket);
    return NULL;
}

static void *vCreateTCPServerSocket(void *pvParameters)
{
    struct freertos_sockaddr xClient, xBindAddress;
    Socket_t xListeningSocket, xConnectedSocket;
    socklen_t xSize = sizeof xClient;
    static const TickType_t xReceiveTimeOut = portMAX_DELAY;
    const BaseType_t xBacklog = 4;
    int32_t lBuf = 2048;
    (void)pvParameters;

    xListeningSocket = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_STREAM, FREERTOS_IPPROTO_TCP);
    if (xListeningSocket == FREERTOS_INVALID_SOCKET) {
        printf("freertos: FreeRTOS_socket failed\n");
        exit(1);
    }
    FreeRTOS_setsockopt(xListeningSocket, 0, FREERTOS_SO_RCVTIMEO, &xReceiveTimeOut, sizeof xReceiveTimeOut);
    if (FreeRTOS_setsockopt(xListeningSocket, 0, FREERTOS_SO_RCVBUF, &lBuf, sizeof lBuf) != 0 ||
        FreeRTOS_setsockopt(xListeningSocket, 0, FREERTOS_SO_SNDBUF, &lBuf, sizeof lBuf) != 0)
        printf("freertos: buffer sizes not set\n");
    memset(&xBindAddress, 0, sizeof xBindAddress);
    xBindAddress.sin_port = FreeRTOS_htons(ECHO_PORT);
    if (FreeRTOS_bind(xListeningSocket, &xBindAddress, sizeof xBindAddress) != 0 ||
        FreeRTOS_listen(xListeningSocket, xBacklog) != 0) {
        printf("freertos: bind/listen failed\n");
        exit(1);
    }
    for (;;) {
        xConnectedSocket = FreeRTOS_accept(xListeningSocket, &xClient, &xSize);
        if (xConnectedSocket == NULL || xConnectedSocket == FREERTOS_INVALID_SOCKET)
            continue;
        uint32_t a = FreeRTOS_ntohl(xClient.sin_addr);
        printf("freertos: accepted %u.%u.%u.%u:%u\n", (unsigned)(a >> 24), (unsigned)(a >> 16) & 255u,
               (unsigned)(a >> 8) & 255u, (unsigned)a & 255u, (unsigned)FreeRTOS_ntohs(xClient.sin_port));
        fflush(stdout);
        task_create(prvServerConnectionInstance, (void *)xConnectedSocket);
    }
    return NULL;
}

static void prvConnectBack(Socket_t xUDP, struct freertos_sockaddr *pxFrom, unsigned port, char *reply, size_t len)
{
    struct freertos_sockaddr xRemoteAddress = *pxFrom;
    static const TickType_t xTimeOut = pdMS_TO_TICKS(3000);
    Socket_t xSocket = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_STREAM, FREERTOS_IPPROTO_TCP);
    (void)xUDP;
    FreeRTOS_setsockopt(xSocket, 0, FREERTOS_SO_SNDTIMEO, &xTimeOut, sizeof xTimeOut);
    xRemoteAddress.sin_port = FreeRTOS_htons((uint16_t)port);
    BaseType_t rc = FreeRTOS_connect(xSocket, &xRemoteAddress, sizeof xRemoteAddress);
    if (rc == 0) {
        static const char line[] = "hello from FreeRTOS+TCP code\n";
        FreeRTOS_send(xSocket, line, sizeof line - 1, 0);
        FreeRTOS_shutdown(xSocket, FREERTOS_SHUT_RDWR);
        snprintf(reply, len, "connected");
    } else {
        snprintf(reply, len, "error %ld", (long)rc);
    }
    FreeRTOS_closesocket(xSocket);
}

static void *vUDPEchoTask(void *pvParameters)
{
    struct freertos_sockaddr xBindAddress, xSourceAddress;
    socklen_t xAddressLength = sizeof xSourceAddress;
    char cBuffer[1472];
    char cReply[96];
    static const TickType_t xTimeOut = pdMS_TO_TICKS(500);
    (void)pvParameters;

    Socket_t xSocket = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_DGRAM, FREERTOS_IPPROTO_UDP);
    if (xSocket == FREERTOS_INVALID_SOCKET)
        exit(1);
    FreeRTOS_setsockopt(xSocket, 0, FREERTOS_SO_RCVTIMEO, &xTimeOut, sizeof xTimeOut);
    xBindAddress.sin_port = FreeRTOS_htons(ECHO_PORT);
    xBindAddress.sin_addr = FreeRTOS_inet_addr("0.0.0.0");
    if (FreeRTOS_bind(xSocket, &xBindAddress, sizeof xBindAddress) != 0)
        exit(1);
    for (;;) {
        int32_t lBytes = FreeRTOS_recvfrom(xSocket, cBuffer, sizeof cBuffer - 1, 0, &xSourceAddress, &xAddressLength);
        if (lBytes == -pdFREERTOS_ERRNO_EWOULDBLOCK)
            continue;
        if (lBytes < 0) {
            printf("freertos: recvfrom %ld\n", (long)lBytes);
            exit(1);
        }
        cBuffer[lBytes] = '\0';
        unsigned port;
        char name[64];
        if (sscanf(cBuffer, "connect %u", &port) == 1) {
            prvConnectBack(xSocket, &xSourceAddress, port, cReply, sizeof cReply);
        } else if (strcmp(cBuffer, "heap") == 0) {
            snprintf(cReply, sizeof cReply, "heap %zu %zu", xPortGetFreeHeapSize(), xPortGetMinimumEverFreeHeapSize());
        } else if (sscanf(cBuffer, "resolve %63s", name) == 1) {
            uint32_t ip = FreeRTOS_ntohl(FreeRTOS_gethostbyname(name));
            snprintf(cReply, sizeof cReply, "ip %u.%u.%u.%u", (unsigned)(ip >> 24), (unsigned)(ip >> 16) & 255u,
                     (unsigned)(ip >> 8) & 255u, (unsigned)ip & 255u);
        } else {
            FreeRTOS_sendto(xSocket, cBuffer, (size_t)lBytes, 0, &xSourceAddress, xAddressLength);
            continue;
        }
        FreeRTOS_sendto(xSocket, cReply, strlen(cReply), 0, &xSourceAddress, xAddressLength);
    }
    return NULL;
}

void compat_app_start(void)
{
    if (FreeRTOS_inet_addr("192.0.2.2") != FreeRTOS_inet_addr_quick(192, 0, 2, 2) ||
        FreeRTOS_inet_addr("1.2.3") != 0 || FreeRTOS_htons(0x1234) == 0x1234 /* little-endian host */) {
        printf("freertos: address helpers wrong\n");
        exit(1);
    }
    task_create(vCreateTCPServerSocket, NULL);
    task_create(vUDPEchoTask, NULL);
}
