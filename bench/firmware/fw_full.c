/* Code size, the full IPv4 feature set: DHCP for the address, DNS, a UDP
 * socket, a TCP server and a TCP client on the sockets API (socket.h) and
 * the raw TCP API, ping (ARP, IPv4, ICMP). The HTTP server and its
 * dashboard files are not in it (their size is in the per-module table). */
#include "fw_common.h"
#include "tern/dhcp.h"
#include "tern/dns.h"

static uint8_t buf[512];

int main(void)
{
    board_up();
    tern_dhcp_start(&stack, &eth0);
    tern_dns_start(&stack);
    tern_ping_send(&stack, TERN_IP4(192, 0, 2, 1), 1, 1, "tern", 4);
    int u = tern_socket(&stack, TERN_SOCK_DGRAM);
    tern_sockaddr_t any = {.addr = 0, .port = 7};
    tern_bind(&stack, u, &any);
    int l = tern_socket(&stack, TERN_SOCK_STREAM);
    tern_sockaddr_t http = {.addr = 0, .port = 80};
    tern_bind(&stack, l, &http);
    tern_listen(&stack, l, 4);
    int c = tern_socket(&stack, TERN_SOCK_STREAM);
    tern_sockaddr_t peer = {.addr = TERN_IP4(192, 0, 2, 1), .port = 9};
    tern_connect(&stack, c, &peer);
    tern_ip4_t addr;
    tern_dns_lookup(&stack, "example.org", &addr, NULL, NULL);
    for (;;) {
        board_loop_once();
        tern_sockaddr_t from;
        int n = tern_recvfrom(&stack, u, buf, sizeof buf, 0, &from);
        if (n > 0)
            tern_sendto(&stack, u, buf, (size_t)n, 0, &from);
        int s = tern_accept(&stack, l, NULL);
        if (s > 0) {
            const uint8_t *span;
            n = tern_recv_span(&stack, s, &span, 0);
            if (n > 0) {
                tern_send(&stack, s, span, (size_t)n, 0);
                tern_recv_consume(&stack, s, (size_t)n);
            }
            tern_socket_poll(&stack, NULL, 0, 0);
            tern_shutdown(&stack, s, TERN_SHUT_WR);
            tern_close(&stack, s);
        }
        n = tern_send(&stack, c, buf, 16, 0);
        n = tern_recv(&stack, c, buf, sizeof buf, 0);
        if (n == 0)
            tern_close(&stack, c);
    }
}
