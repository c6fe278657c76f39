/* Protocol counters: per layer, frames/packets received, sent and dropped by
 * reason. Every dropped input increments exactly one drop_* (or a named
 * error) counter, so a test or an operator can tell why a packet vanished.
 *
 * Two lists (TERN_COUNTER_LIST, and TERN_TCP_COUNTER_LIST for TCP's own
 * struct) generate one store, the text report and the JSON report: adding
 * a counter is one line here. RAM: 4 bytes per counter (~150). */
#ifndef TERN_COUNTERS_H
#define TERN_COUNTERS_H

#include <stdint.h>
#include "tern/config.h"
#include "tern/port.h"

/* X(layer, name, description) */
#define TERN_COUNTER_LIST(X)                                                                     \
    X(eth, rx, "frames received from drivers")                                                   \
    X(eth, tx, "frames handed to drivers and accepted")                                          \
    X(eth, tx_err, "frames a driver refused")                                                    \
    X(eth, tx_linkdown, "frames not sent: link down")                                            \
    X(eth, rx_nobufs, "frames lost: no network buffer to receive into")                         \
    X(eth, drop_oversize, "frames longer than a network buffer")                                 \
    X(eth, drop_runt, "frames shorter than the 14-byte Ethernet header")                         \
    X(eth, drop_not_for_us, "unicast frames to another MAC")                                     \
    X(eth, drop_bad_src, "frames from a broadcast/multicast source MAC")                         \
    X(eth, drop_ethertype, "frames of an ethertype we do not speak")                             \
    X(arp, rx, "ARP packets received")                                                           \
    X(arp, tx_request, "requests sent (resolution and refresh)")                                 \
    X(arp, tx_reply, "replies sent")                                                             \
    X(arp, tx_announce, "gratuitous ARPs sent (address set, link up, defence)")                 \
    X(arp, drop_truncated, "shorter than 28 bytes")                                              \
    X(arp, drop_hw, "hardware type not Ethernet or length not 6")                               \
    X(arp, drop_proto, "protocol type not IPv4 or length not 4")                                \
    X(arp, drop_op, "opcode neither request nor reply")                                          \
    X(arp, drop_sender_mac, "sender MAC broadcast, multicast or zero")                           \
    X(arp, drop_sender_ip, "sender IP broadcast, multicast, loopback or zero (not a probe)")     \
    X(arp, drop_own, "our own packets looped back")                                              \
    X(arp, drop_unsolicited, "replies for an address we neither hold nor resolve")               \
    X(arp, drop_not_for_us, "requests for another address, nothing to merge")                   \
    X(arp, conflicts, "packets claiming one of our addresses (RFC 5227)")                       \
    X(arp, defends, "gratuitous ARPs sent to defend an address")                                \
    X(arp, learned, "entries created from requests to us")                                       \
    X(arp, updated, "entries resolved or refreshed from received ARP")                           \
    X(arp, cache_full, "packets dropped: no entry free or evictable")                            \
    X(arp, evicted, "resolved entries recycled for a new address")                               \
    X(arp, incomplete_evicted, "resolving entries recycled at TERN_ARP_MAX_INCOMPLETE")          \
    X(arp, queue_evicted, "queued packets dropped: TERN_ARP_QUEUE_TOTAL or entry recycled")     \
    X(arp, queued, "packets queued waiting for resolution")                                      \
    X(arp, queue_overflow, "queued packets dropped (oldest) when the queue was full")           \
    X(arp, queue_timeout, "queued packets dropped when resolution failed")                       \
    X(arp, queue_flushed, "queued packets dropped: interface down or removed")                   \
    X(arp, resolve_failed, "resolutions given up after TERN_ARP_MAX_RETRIES")                   \
    X(arp, expired, "unused entries removed at TERN_ARP_MAX_AGE_MS")                             \
    X(arp, refreshed, "in-use entries re-requested at TERN_ARP_MAX_AGE_MS")                      \
    X(ipv4, rx, "packets received")                                                              \
    X(ipv4, delivered, "packets delivered to ICMP or another protocol")                          \
    X(ipv4, tx, "packets sent or queued for resolution")                                         \
    X(ipv4, drop_truncated, "shorter than 20 bytes")                                             \
    X(ipv4, drop_version, "version not 4")                                                       \
    X(ipv4, drop_ihl, "IHL below 5")                                                             \
    X(ipv4, drop_hdr_len, "header longer than the total length")                                 \
    X(ipv4, drop_len, "total length beyond the frame")                                           \
    X(ipv4, drop_checksum, "bad header checksum")                                                \
    X(ipv4, drop_options, "malformed options")                                                   \
    X(ipv4, drop_not_for_us, "destination not ours (no forwarding)")                             \
    X(ipv4, drop_bcast_mismatch, "link broadcast carrying an IP unicast (RFC 1122 3.3.6)")      \
    X(ipv4, drop_bad_src, "source broadcast, multicast, loopback or class E")                    \
    X(ipv4, drop_land, "source is our own address")                                              \
    X(ipv4, drop_fragment, "fragments (reassembly off)")                                         \
    X(ipv4, drop_proto, "unknown protocol")                                                      \
    X(ipv4, tx_noroute, "sends refused: no route")                                               \
    X(ipv4, tx_msgsize, "sends refused: larger than the MTU")                                    \
    X(ipv4, tx_linkdown, "sends refused: link down")                                             \
    X(ipv4, frag_rx, "fragments accepted for reassembly")                                        \
    X(ipv4, frag_tx, "fragments sent (echo replies to reassembled requests)")                    \
    X(ipv4, reass_ok, "datagrams reassembled")                                                   \
    X(ipv4, reass_timeout, "datagrams dropped at TERN_IP_REASS_TIMEOUT_MS")                      \
    X(ipv4, reass_overlap, "datagrams dropped for overlapping fragments")                        \
    X(ipv4, reass_too_big, "datagrams dropped: beyond 65535, the byte budget or a buffer")      \
    X(ipv4, reass_bad_frag, "fragments dropped: length not a multiple of 8 or inconsistent")    \
    X(ipv4, reass_evicted, "datagrams dropped, oldest first, for a new one: all slots busy")     \
    X(ipv4, reass_nomem, "datagrams dropped: no memory")                                         \
    X(icmp, rx, "messages received")                                                             \
    X(icmp, tx, "messages sent")                                                                 \
    X(icmp, echo_rx, "echo requests received")                                                   \
    X(icmp, echo_reply_tx, "echo replies sent")                                                  \
    X(icmp, echo_tx, "echo requests sent (tern_ping_send)")                                      \
    X(icmp, echo_reply_rx, "echo replies received")                                              \
    X(icmp, err_rx, "error messages received and validated")                                     \
    X(icmp, err_tx, "error messages sent")                                                       \
    X(icmp, tx_err, "messages that could not be sent")                                           \
    X(icmp, drop_truncated, "shorter than 8 bytes")                                              \
    X(icmp, drop_checksum, "bad checksum")                                                       \
    X(icmp, drop_type, "types we do not handle")                                                 \
    X(icmp, drop_bcast_echo, "echo requests to a broadcast address")                            \
    X(icmp, drop_bad_src, "echo requests from a source that is not a unicast host")              \
    X(icmp, drop_quote, "errors quoting a truncated or invalid header")                          \
    X(icmp, err_suppressed, "errors not sent (RFC 1122 3.2.2 rules)")                            \
    X(icmp, err_rate_limited, "errors not sent: rate limit")                                     \
    X(udp, rx, "datagrams received from IPv4")                                                   \
    X(udp, delivered, "datagrams handed to a pcb (raw API or socket)")                          \
    X(udp, tx, "datagrams sent or queued for resolution")                                        \
    X(udp, tx_err, "sends refused (arguments, route, size, link, buffers)")                     \
    X(udp, icmp_err_rx, "ICMP errors about our datagrams handed to a socket")                   \
    X(udp, drop_truncated, "shorter than the 8-byte header")                                     \
    X(udp, drop_len, "length field below 8 or beyond the IP payload")                           \
    X(udp, drop_checksum, "bad checksum")                                                        \
    X(udp, drop_no_port, "no pcb for the port (port unreachable sent unless broadcast)")        \
    X(udp, drop_queue_full, "socket receive queue full (TERN_SO_UDP_RXQ)")                     \
    X(udp, drop_rx_reserve, "queueing would take one of the reserved buffers (TERN_NETBUF_RX_RESERVE)") \
    X(udp, drop_shut_rd, "socket shut down for reading")                                         \
    TERN_IPV6_COUNTER_LIST_(X)

/* The IPv6 layers (TERN_IPV6=1 only: an IPv4-only build carries none). */
#if TERN_IPV6
#define TERN_IPV6_COUNTER_LIST_(X)                                                               \
    X(ipv6, rx, "packets received")                                                              \
    X(ipv6, delivered, "packets delivered to ICMPv6 or another protocol")                       \
    X(ipv6, tx, "packets sent or queued for neighbor resolution")                               \
    X(ipv6, tx_noroute, "sends refused: no source address, no on-link route, no router")        \
    X(ipv6, tx_msgsize, "sends refused: larger than the link MTU")                              \
    X(ipv6, drop_truncated, "shorter than the 40-byte header")                                   \
    X(ipv6, drop_version, "version not 6")                                                       \
    X(ipv6, drop_len, "payload length beyond the frame")                                         \
    X(ipv6, drop_disabled, "IPv6 not enabled on the interface (or its link-local was a duplicate)") \
    X(ipv6, drop_bad_src, "source multicast, loopback or our own address")                      \
    X(ipv6, drop_not_for_us, "destination not ours (no forwarding), or still tentative")        \
    X(ipv6, drop_mcast_mismatch, "link multicast carrying an IPv6 unicast destination")         \
    X(ipv6, drop_ext_chain, "more than TERN_IPV6_EXT_HDR_MAX extension headers")               \
    X(ipv6, drop_ext_len, "an extension header running past the payload")                       \
    X(ipv6, drop_hbh_position, "hop-by-hop options not right after the header (RFC 8200 4.1)") \
    X(ipv6, drop_option, "an unrecognised option whose action bits say discard (RFC 8200 4.2)") \
    X(ipv6, drop_option_len, "a malformed option (length past its header)")                    \
    X(ipv6, drop_routing, "routing header with segments left (type 0: RFC 5095)")              \
    X(ipv6, drop_fragment, "fragments when TERN_IP_REASSEMBLY is 0, or inside a reassembled packet") \
    X(ipv6, frag_rx, "fragments taken into reassembly")                                          \
    X(ipv6, frag_tx, "fragments sent (echo replies beyond the path MTU)")                       \
    X(ipv6, reass_ok, "datagrams reassembled")                                                   \
    X(ipv6, reass_timeout, "datagrams dropped at TERN_IP_REASS_TIMEOUT_MS")                     \
    X(ipv6, reass_overlap, "fragments overlapping another: the datagram dropped (RFC 5722)")   \
    X(ipv6, reass_bad_frag, "fragments not a multiple of 8, past 65535, or against the length") \
    X(ipv6, reass_chain, "first fragments without the whole header chain (RFC 7112)")          \
    X(ipv6, reass_too_big, "datagrams beyond the reassembly budget or one buffer (not echo)")  \
    X(ipv6, reass_nomem, "fragments dropped: no memory for reassembly")                         \
    X(ipv6, reass_evicted, "datagrams dropped to make room for a new one (table full)")        \
    X(ipv6, drop_no_next, "next header 59: nothing to deliver")                                  \
    X(ipv6, drop_proto, "upper-layer protocol not spoken over IPv6")                            \
    X(icmp6, rx, "messages received")                                                            \
    X(icmp6, tx, "messages sent")                                                                \
    X(icmp6, tx_err, "messages that could not be sent")                                          \
    X(icmp6, echo_rx, "echo requests received")                                                  \
    X(icmp6, echo_reply_tx, "echo replies sent")                                                 \
    X(icmp6, echo_reply_rx, "echo replies received")                                             \
    X(icmp6, err_rx, "error messages received")                                                  \
    X(icmp6, err_tx, "error messages sent")                                                      \
    X(icmp6, err_suppressed, "errors not sent (RFC 4443 2.4 (e))")                              \
    X(icmp6, err_rate_limited, "errors not sent: rate limit (RFC 4443 2.4 (f))")               \
    X(icmp6, drop_truncated, "shorter than the 8-byte header or its type's fixed part")         \
    X(icmp6, drop_checksum, "bad checksum")                                                      \
    X(icmp6, drop_mcast_echo, "echo requests to a multicast group (TERN_ICMP_ECHO_BROADCAST 0)") \
    X(icmp6, drop_type, "informational types we do not handle (RFC 4443 2.4 (b))")             \
    X(icmp6, ptb_rx, "Packet Too Big messages that lowered a path MTU (RFC 8201)")            \
    X(icmp6, drop_ptb, "Packet Too Big not about a packet of ours, or not lowering the MTU")   \
    X(icmp6, drop_frag_nd, "fragmented Neighbor Discovery or MLD messages (RFC 6980)")         \
    X(nd, ns_rx, "neighbor solicitations received and valid")                                    \
    X(nd, na_rx, "neighbor advertisements received and valid")                                   \
    X(nd, ra_rx, "router advertisements received and valid")                                     \
    X(nd, ns_tx, "neighbor solicitations sent (resolution, probes, DAD)")                       \
    X(nd, na_tx, "neighbor advertisements sent")                                                 \
    X(nd, rs_tx, "router solicitations sent")                                                    \
    X(nd, drop_hop_limit, "ND messages with a hop limit other than 255")                        \
    X(nd, drop_code, "ND messages with a code other than 0")                                     \
    X(nd, drop_len, "ND messages shorter than their fixed part")                                 \
    X(nd, drop_opt_len, "ND messages with an option of length 0 or past the end")              \
    X(nd, drop_invalid, "ND messages breaking another RFC 4861 validity rule")                  \
    X(nd, drop_rs, "router solicitations (a host ignores them, RFC 4861 6.2.6)")               \
    X(nd, drop_redirect, "redirects (ignored: docs/network.md)")                                \
    X(nd, drop_na_unsolicited, "advertisements for no entry of ours")                           \
    X(nd, cache_full, "packets dropped: no neighbor entry free or evictable")                  \
    X(nd, queued, "packets queued waiting for resolution")                                       \
    X(nd, queue_overflow, "queued packets dropped (oldest) when the queue was full")           \
    X(nd, resolve_failed, "resolutions and probes given up (packets dropped)")                 \
    X(nd, dad_conflicts, "addresses refused: Duplicate Address Detection saw another holder")  \
    X(nd, addr_added, "addresses configured (link-local, SLAAC, static)")                       \
    X(nd, addr_expired, "addresses removed at the end of their valid lifetime")                 \
    X(nd, prefix_ignored, "RA prefix options ignored (link-local, lifetimes, length)")         \
    X(nd, mld_tx, "MLDv2 reports sent")                                                          \
    X(nd, mld_query_rx, "MLD queries received")                                                  \
    X(udp6, rx, "datagrams received from IPv6 (also counted in udp.rx)")                        \
    X(udp6, tx, "datagrams sent over IPv6 (also counted in udp.tx)")                            \
    X(udp6, drop_no_checksum, "zero checksum: mandatory over IPv6 (RFC 8200 8.1)")
#else
#define TERN_IPV6_COUNTER_LIST_(X)
#endif

/* TCP counters: X(layer, name, description). They generate tern_tcp_stats_t
 * (below: the tcp member of tern_counters_t, read with tern_tcp_stats) and
 * the "tcp" layer of the counter reports. Every dropped segment increments
 * exactly one drop_* counter. */
#define TERN_TCP_COUNTER_LIST(X)                                                                 \
    X(tcp, rx, "segments received (IPv4 and IPv6)")                                             \
    X(tcp, tx, "segments sent")                                                                  \
    X(tcp, retransmits, "segments sent again (timeouts, fast and SACK retransmits, go-back)")   \
    X(tcp, fast_retransmits, "loss recoveries entered on duplicate ACKs or SACK")               \
    X(tcp, timeouts, "retransmission timer expiries")                                            \
    X(tcp, tlp_probes, "tail loss probes sent (RFC 8985 7)")                                     \
    X(tcp, rack_recoveries, "loss recoveries entered when the reordering window passed (RACK)")  \
    X(tcp, rst_tx, "resets sent")                                                                \
    X(tcp, rst_rx, "resets that reset a connection")                                             \
    X(tcp, challenge_acks, "RFC 5961 challenge ACKs sent")                                       \
    X(tcp, challenge_acks_limited, "challenge ACKs not sent: rate limit")                       \
    X(tcp, active_opens, "connections opened by tern_tcp_connect")                              \
    X(tcp, passive_opens, "SYNs that created a half-open connection")                           \
    X(tcp, established, "connections that reached ESTABLISHED")                                 \
    X(tcp, accept_deferred, "handshake ACKs dropped: the listener's accept queue was full")      \
    X(tcp, aborted, "connections reset by the application")                                     \
    X(tcp, timewait_evicted, "TIME-WAIT entries recycled early (table full)")                   \
    X(tcp, syn_evicted, "half-open connections dropped to make room for a new SYN")             \
    X(tcp, syncookies_sent, "SYN-ACKs with a cookie (RFC 4987): half-open table or backlog full")  \
    X(tcp, syncookies_accepted, "connections opened by the ACK of a valid cookie")              \
    X(tcp, syncookies_rejected, "ACKs to a listener with no valid cookie (forged, expired)")     \
    X(tcp, syncookies_no_room, "valid cookie ACKs dropped: the accept queue was full")          \
    X(tcp, ooo_segments, "segments received out of order")                                       \
    X(tcp, ooo_no_desc, "out-of-order bytes dropped: no segment descriptor")                    \
    X(tcp, dup_segments, "segments entirely below RCV.NXT")                                      \
    X(tcp, zero_window_probes, "persist timer expiries (zero-window probes)")                   \
    X(tcp, keepalive_probes, "keep-alive probes sent")                                           \
    X(tcp, drop_truncated, "dropped: shorter than 20 bytes")                                     \
    X(tcp, drop_checksum, "dropped: bad checksum")                                               \
    X(tcp, drop_offset, "dropped: data offset below 5 or beyond the segment")                   \
    X(tcp, drop_options, "dropped: malformed options")                                           \
    X(tcp, drop_bcast, "dropped: to a broadcast (IPv6: multicast) address")                     \
    X(tcp, drop_no_pcb, "dropped: no connection or listener (reset sent)")                      \
    X(tcp, drop_unacceptable, "dropped: outside the receive window (RFC 9293 3.10.7.4)")        \
    X(tcp, drop_bad_ack, "dropped: ACK of unsent data or too old (RFC 5961 5.2)")              \
    X(tcp, drop_rst, "dropped: reset not exactly at RCV.NXT, or in LISTEN/SYN-SENT")           \
    X(tcp, drop_syn_limit, "dropped: SYN beyond the backlog or TERN_TCP_SYN_MAX")              \
    X(tcp, drop_nomem, "dropped: no memory (SYN, receive ring)")                                \
    X(tcp, drop_state, "dropped: flags not valid in the state")                                 \
    X(tcp, drop_window, "dropped: data beyond the window")                                       \
    X(tcp, drop_paws, "dropped: timestamp older than TS.Recent (RFC 7323 5 PAWS)")             \
    X(tcp, drop_no_ts, "dropped: no timestamp on a timestamp connection (RFC 7323 3.2)")       \
    X(tcp, sack_tx, "ACKs sent carrying SACK blocks")                                             \
    X(tcp, sack_blocks_rx, "SACK blocks received and recorded")                                  \
    X(tcp, sack_blocks_bad, "SACK blocks ignored: outside SND.UNA..SND.MAX or empty")           \
    X(tcp, sack_dsack, "D-SACK blocks ignored (RFC 2883)")                                       \
    X(tcp, sack_no_desc, "SACK scoreboards dropped: no descriptor (NewReno until recovered)")   \
    X(tcp, sack_recoveries, "loss recoveries driven by the SACK scoreboard (RFC 6675)")         \
    X(tcp, sack_rxt_lost, "SACK recovery: holes resent again, a retransmission was lost")       \
    X(tcp, ts_rtt_samples, "RTT samples taken from timestamp echoes (RFC 7323 4)")             \
    X(tcp, timewait_reuse, "TIME-WAIT entries given up for a new SYN (RFC 6191)")               \
    X(tcp, icmp_hard, "ICMP unreachables that ended a connection in SYN-SENT")                  \
    X(tcp, icmp_soft, "ICMP errors kept as soft errors (reported at timeout)")                 \
    X(tcp, icmp_pmtu, "fragmentation needed / Packet Too Big that lowered a connection's MSS")  \
    X(tcp, icmp_quench, "source quench messages ignored (RFC 6633)")                            \
    X(tcp, icmp_no_match, "ICMP errors ignored: no connection or sequence outside the flight")

/* TCP statistics (docs/tcp.md), one uint32_t per entry of
 * TERN_TCP_COUNTER_LIST: the "tcp" layer of tern_counters_t, which
 * tern_tcp_stats (tern/tcp.h) points into. Every dropped segment
 * increments exactly one drop_* field. */
typedef struct tern_tcp_stats {
#define TERN_TCP_STATS_FIELD_(layer, name, desc) uint32_t name;
    TERN_TCP_COUNTER_LIST(TERN_TCP_STATS_FIELD_)
#undef TERN_TCP_STATS_FIELD_
} tern_tcp_stats_t;

/* Every counter of the stack, in one store (stack->counters). */
typedef struct tern_counters {
#define TERN_COUNTER_FIELD_(layer, name, desc) uint32_t layer##_##name;
    TERN_COUNTER_LIST(TERN_COUNTER_FIELD_)
#undef TERN_COUNTER_FIELD_
    tern_tcp_stats_t tcp; /* TERN_TCP_COUNTER_LIST */
} tern_counters_t;

struct tern_stack;

/* The live counters (read-only view). */
const tern_counters_t *tern_stack_counters(const struct tern_stack *stack);
/* "layer.name value" lines, one per counter. */
void tern_counters_report_text(const struct tern_stack *stack, tern_writer_fn write, void *ctx);
/* {"eth":{"rx":1,...},"arp":{...},"ipv4":{...},"icmp":{...}} */
void tern_counters_report_json(const struct tern_stack *stack, tern_writer_fn write, void *ctx);

#endif
