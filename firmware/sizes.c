/* Struct sizes on the Cortex-M7 target, read back with arm-none-eabi-nm:
 * each symbol's size is sizeof the type it names (scripts/size-table). */
#include "tern/stack.h"

#define TERN_SIZEOF(type) const char tern_sizeof_##type[sizeof(type)] __attribute__((used))

TERN_SIZEOF(tern_stack_t);
TERN_SIZEOF(tern_heap_t);
TERN_SIZEOF(tern_ledger_t);
TERN_SIZEOF(tern_netbuf_t);
TERN_SIZEOF(tern_netbuf_pool_t);
TERN_SIZEOF(tern_netif_t);
TERN_SIZEOF(tern_counters_t);

/* UDP and sockets: the pcb (caller's memory), the stack's socket table, and
 * the structure each open socket allocates (SOCKET, owner = its id). */
#include "socket/socket_internal.h"
TERN_SIZEOF(tern_udp_pcb_t);
TERN_SIZEOF(tern_udp_t);
TERN_SIZEOF(tern_socket_table_t);
TERN_SIZEOF(tern_socket_t);
TERN_SIZEOF(socket_tcp_block_t);

/* DHCP and DNS clients (apps/): the DHCP client's state (DHCP), the DNS
 * client, one running query and one cache entry (DNS_CACHE; the last two
 * without their names, which follow them in the same block). */
#include "../apps/dhcp/dhcp_state.h"
#include "../apps/dns/dns_state.h"
TERN_SIZEOF(tern_dhcp_t);
TERN_SIZEOF(tern_dns_t);
TERN_SIZEOF(dns_query_t);
TERN_SIZEOF(dns_cache_entry_t);

/* TCP: the stack's TCP state, one connection (SOCKET, rings aside), one
 * TIME-WAIT entry and one out-of-order descriptor (docs/tcp.md). */
#include "net/tcp_internal.h"
TERN_SIZEOF(tern_tcp_t);
TERN_SIZEOF(tern_tcp_pcb_t);
TERN_SIZEOF(tcp_tw_t);
TERN_SIZEOF(tcp_range_t);
