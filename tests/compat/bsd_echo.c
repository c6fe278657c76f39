/* Classic BSD sockets code, compiled unchanged against tern through
 * tern/compat/bsd_sockets.h: no tern name below except the include.
 *
 * TCP port 7: an echo server, one select() loop over the listener and its
 * clients. UDP port 7: echo, poll() before each recvfrom(); a datagram
 * "connect PORT" makes it connect() back to the sender's PORT, send a line
 * and close, and answer with the outcome ("connected" or "errno N NAME"). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Last: the opt-in macros rename socket(), struct timeval, fd_set ... for
 * everything after them, system headers included. */
#define TERN_COMPAT_SOCKETS 1
#define TERN_COMPAT_SOCKETS_CLOSE 1
#include "tern/compat/bsd_sockets.h"

void compat_app_start(void);

static void die(const char *what)
{
    printf("bsd: %s failed, errno %d\n", what, errno);
    fflush(stdout);
    exit(1);
}

static void *tcp_echo(void *arg)
{
    (void)arg;
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    if (srv < 0)
        die("socket");
    int one = 1;
    if (setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        die("setsockopt(SO_REUSEADDR)");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(7);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(srv, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("bind");
    if (listen(srv, 4) < 0)
        die("listen");

    int clients[FD_SETSIZE];
    int nclients = 0;
    char buf[1024];
    for (;;) {
        fd_set rfds;
        FD_ZERO(&rfds);
        FD_SET(srv, &rfds);
        int maxfd = srv;
        for (int i = 0; i < nclients; i++) {
            FD_SET(clients[i], &rfds);
            if (clients[i] > maxfd)
                maxfd = clients[i];
        }
        struct timeval tv = {5, 0};
        int n = select(maxfd + 1, &rfds, NULL, NULL, &tv);
        if (n < 0)
            die("select");
        if (FD_ISSET(srv, &rfds)) {
            struct sockaddr_in peer;
            socklen_t plen = sizeof peer;
            int c = accept(srv, (struct sockaddr *)&peer, &plen);
            if (c >= 0 && nclients < FD_SETSIZE) {
                unsigned long a = ntohl(peer.sin_addr.s_addr);
                printf("bsd: accepted %lu.%lu.%lu.%lu:%u\n", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
                       (unsigned)ntohs(peer.sin_port));
                fflush(stdout);
                clients[nclients++] = c;
            } else if (c < 0) {
                printf("bsd: accept: errno %d\n", errno);
                fflush(stdout);
            }
        }
        for (int i = 0; i < nclients; i++) {
            if (!FD_ISSET(clients[i], &rfds))
                continue;
            long got = recv(clients[i], buf, sizeof buf, 0);
            if (got > 0) {
                long off = 0;
                while (off < got) {
                    long sent = send(clients[i], buf + off, (size_t)(got - off), 0);
                    if (sent < 0)
                        break;
                    off += sent;
                }
                if (off == got)
                    continue;
            }
            close(clients[i]);
            clients[i--] = clients[--nclients];
        }
    }
    return NULL;
}

static void connect_back(int udp, const struct sockaddr_in *from, unsigned port)
{
    char reply[64];
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = *from;
    to.sin_port = htons((unsigned short)port);
    struct timeval tv = {3, 0};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(s, (struct sockaddr *)&to, sizeof to) == 0) {
        const char line[] = "hello from bsd code\n";
        send(s, line, sizeof line - 1, 0);
        shutdown(s, SHUT_WR);
        snprintf(reply, sizeof reply, "connected");
    } else {
        int e = errno;
        snprintf(reply, sizeof reply, "errno %d %s", e,
                 e == ECONNREFUSED ? "ECONNREFUSED" : e == ETIMEDOUT ? "ETIMEDOUT" : "other");
    }
    close(s);
    sendto(udp, reply, strlen(reply), 0, (const struct sockaddr *)from, sizeof *from);
}

static void *udp_echo(void *arg)
{
    (void)arg;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0)
        die("socket");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(7);
    addr.sin_addr.s_addr = INADDR_ANY;
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("bind udp");
    struct timeval tv = {0, 200000};
    if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        die("setsockopt(SO_RCVTIMEO)");
    char buf[1500];
    for (;;) {
        struct pollfd pfd = {s, POLLIN, 0};
        if (poll(&pfd, 1, 1000) <= 0 || !(pfd.revents & POLLIN))
            continue;
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        long n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &flen);
        if (n < 0) {
            if (errno != EWOULDBLOCK && errno != ETIMEDOUT)
                die("recvfrom");
            continue;
        }
        buf[n] = '\0';
        unsigned port;
        if (sscanf(buf, "connect %u", &port) == 1)
            connect_back(s, &from, port);
        else
            sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
    }
    return NULL;
}

void compat_app_start(void)
{
    pthread_t t1, t2;
    if (inet_addr("192.0.2.2") != htonl(0xc0000202u) || inet_addr("300.1.1.1") != INADDR_NONE)
        die("inet_addr");
    pthread_create(&t1, NULL, tcp_echo, NULL);
    pthread_create(&t2, NULL, udp_echo, NULL);
}
