/* The configuration fingerprint: what a caller compiled against tern
 * agrees on with the library it links (included by stack.h).
 *
 * The options of config.h and the sizes of the public structures differ
 * between a library and an application compiled with different
 * TERN_USER_CONFIG headers or definitions, and the result (the two sides
 * disagreeing on the layout of tern_stack_t) is silent memory corruption.
 * tern_stack_init() is therefore a macro: it passes the values the caller's
 * translation unit sees to tern_stack_init_checked(), which compares them
 * with the library's own, writes nothing into the stack when they differ,
 * and returns TERN_ERR_CONFIG after logging the first option that differs
 * (port->log). tern_config_diff() names it for the application. */
#ifndef TERN_FINGERPRINT_H
#define TERN_FINGERPRINT_H
#include <stdint.h>

/* Every option of config.h with a numeric value (TERN_DHCP_HOSTNAME is a
 * string and changes no layout), then the sizes of the public structures.
 * Appending keeps older callers' prefixes comparable; the count is checked. */
#define TERN_CONFIG_ITEMS(X) \
    X(TERN_HEAP_SIZE) \
    X(TERN_HEAP_MAX_REGIONS) \
    X(TERN_STATIC_ONLY) \
    X(TERN_STATIC_POOLS_MAX) \
    X(TERN_LEDGER_OWNERS) \
    X(TERN_LEDGER_APP_CATEGORIES) \
    X(TERN_FAULT_INJECTION) \
    X(TERN_DEBUG) \
    X(TERN_NETBUF_SCHEME) \
    X(TERN_NETBUF_COUNT) \
    X(TERN_NETBUF_FRAME_SIZE) \
    X(TERN_ZERO_COPY_RX) \
    X(TERN_ZERO_COPY_TX) \
    X(TERN_ARP_CACHE_SIZE) \
    X(TERN_ARP_QUEUE_LEN) \
    X(TERN_ARP_MAX_AGE_MS) \
    X(TERN_ARP_MAX_RETRIES) \
    X(TERN_ARP_RETRY_MS) \
    X(TERN_IP_DEFAULT_TTL) \
    X(TERN_IP_REASSEMBLY) \
    X(TERN_IP_REASS_MAX_DATAGRAMS) \
    X(TERN_IP_REASS_MAX_BYTES) \
    X(TERN_IP_REASS_TIMEOUT_MS) \
    X(TERN_ICMP_ERROR_RATE) \
    X(TERN_ICMP_ECHO_BROADCAST) \
    X(TERN_OS) \
    X(TERN_SOCKET_MAX) \
    X(TERN_NETBUF_RX_RESERVE) \
    X(TERN_UDP_RXQ_DEFAULT) \
    X(TERN_TCP_BACKLOG_MAX) \
    X(TERN_SOCKET_SERVICE_CONNS) \
    X(TERN_DHCP_HOSTNAME_MAX) \
    X(TERN_DHCP_MAX_DNS) \
    X(TERN_DHCP_INIT_DELAY_MS) \
    X(TERN_DHCP_REQUEST_TRIES) \
    X(TERN_DHCP_ARP_PROBES) \
    X(TERN_DHCP_PROBE_INTERVAL_MS) \
    X(TERN_DHCP_MIN_LEASE_S) \
    X(TERN_DHCP_FALLBACK_AFTER) \
    X(TERN_DHCP_FALLBACK_ADDR) \
    X(TERN_DHCP_FALLBACK_NETMASK) \
    X(TERN_DHCP_FALLBACK_GATEWAY) \
    X(TERN_DNS_MAX_SERVERS) \
    X(TERN_DNS_CACHE_ENTRIES) \
    X(TERN_DNS_CACHE_MAX_TTL_S) \
    X(TERN_DNS_MAX_QUERIES) \
    X(TERN_DNS_RETRY_MS) \
    X(TERN_DNS_MAX_TRIES) \
    X(TERN_DNS_RESULT_HOLD_MS) \
    X(TERN_TCP_RCVBUF) \
    X(TERN_TCP_SNDBUF) \
    X(TERN_TCP_RANGE_COUNT) \
    X(TERN_TCP_OOO_PER_CONN) \
    X(TERN_TCP_SACK_PER_CONN) \
    X(TERN_TCP_SACK) \
    X(TERN_TCP_TIMESTAMPS) \
    X(TERN_TCP_PMTU_MIN) \
    X(TERN_TCP_TIMEWAIT_MAX) \
    X(TERN_TCP_TIMEWAIT_MS) \
    X(TERN_TCP_SYN_MAX) \
    X(TERN_TCP_RTO_MIN_MS) \
    X(TERN_TCP_RTO_MAX_MS) \
    X(TERN_TCP_RTO_INIT_MS) \
    X(TERN_TCP_MAX_RETRIES) \
    X(TERN_TCP_SYN_RETRIES) \
    X(TERN_TCP_SYNACK_RETRIES) \
    X(TERN_TCP_DELACK_MS) \
    X(TERN_TCP_KEEPIDLE_MS) \
    X(TERN_TCP_KEEPINTVL_MS) \
    X(TERN_TCP_KEEPCNT) \
    X(TERN_TCP_CHALLENGE_ACK_LIMIT) \
    X(TERN_HTTP_REQUEST_LINE_MAX) \
    X(TERN_HTTP_HEADER_LINE_MAX) \
    X(TERN_HTTP_HEADERS_MAX) \
    X(TERN_HTTP_HEADER_COUNT_MAX) \
    X(TERN_HTTP_PATH_MAX) \
    X(TERN_HTTP_QUERY_MAX) \
    X(TERN_HTTP_HOST_MAX) \
    X(TERN_HTTP_ETAG_MAX) \
    X(TERN_HTTP_BODY_MAX) \
    X(TERN_HTTP_MAX_CONNS) \
    X(TERN_HTTP_HEADER_TIMEOUT_MS) \
    X(TERN_HTTP_IDLE_TIMEOUT_MS) \
    X(TERN_HTTP_RCVBUF) \
    X(TERN_ARP_MAX_INCOMPLETE) \
    X(TERN_ARP_QUEUE_TOTAL) \
    X(TERN_ARP_IN_USE_MS) \
    X(TERN_TCP_SYN_COOKIES) \
    X(TERN_TCP_SYN_COOKIE_PERIOD_MS) \
    X(TERN_IPV6) \
    X(TERN_IPV6_NETIF_MAX) \
    X(TERN_IPV6_ADDR_MAX) \
    X(TERN_IPV6_NBR_CACHE_SIZE) \
    X(TERN_IPV6_NBR_QUEUE_LEN) \
    X(TERN_IPV6_ROUTERS) \
    X(TERN_IPV6_PREFIXES) \
    X(TERN_IPV6_DNS_MAX) \
    X(TERN_IPV6_EXT_HDR_MAX) \
    X(TERN_IPV6_DAD_TRANSMITS) \
    X(TERN_IPV6_STABLE_IID) \
    X(TERN_IPV6_PMTU_CACHE) \
    X(TERN_IPV6_PMTU_AGE_MS) \
    X(sizeof(void *)) \
    X(sizeof(tern_stack_t)) \
    X(sizeof(tern_netif_t)) \
    X(sizeof(tern_netbuf_t)) \
    X(sizeof(tern_socket_table_t)) \
    X(sizeof(tern_port_t)) \
    X(sizeof(tern_sockaddr_t))

#define TERN_CONFIG_VALUE_(x) (uint32_t)(x),
#define TERN_CONFIG_COUNT_(x) +1

/* The caller's view: count values in TERN_CONFIG_ITEMS order. */
typedef struct tern_config_view {
    uint32_t count;
    const uint32_t *values;
} tern_config_view_t;

/* The view of the translation unit that expands it. */
#define TERN_CONFIG_VIEW \
    ((const tern_config_view_t){(uint32_t)(0 TERN_CONFIG_ITEMS(TERN_CONFIG_COUNT_)), \
                                (const uint32_t[]){TERN_CONFIG_ITEMS(TERN_CONFIG_VALUE_)}})

/* NULL when view matches the library's configuration, else the name of the
 * first item that differs ("TERN_SOCKET_MAX", "sizeof(tern_stack_t)", or
 * "count" for a header from another tern version). */
const char *tern_config_diff(const tern_config_view_t *view);
/* The value of that item in the library (0 for an unknown name). */
uint32_t tern_config_value(const char *name);

#endif
