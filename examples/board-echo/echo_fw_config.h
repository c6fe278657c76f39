/* board-echo's tern options (TERN_USER_CONFIG; include/tern/config.h has
 * every option with its default, docs/config.md its RAM cost). */
#ifndef ECHO_FW_CONFIG_H
#define ECHO_FW_CONFIG_H

#define TERN_OS 0                    /* a main loop, no RTOS: non-blocking sockets */
#define TERN_HEAP_SIZE (24u * 1024u) /* DHCP, ARP, two TCP connections' rings */
#define TERN_NETBUF_COUNT 16         /* 8 in the LAN9118 driver's RX ring */
#define TERN_SOCKET_MAX 4            /* the listener and up to 3 connections */
#define TERN_LEDGER_OWNERS 5         /* socket ids 1..4 each their own row */

#endif
