/* What a NIC does for the offloads of netif.h, in software, for the host
 * drivers: the TAP driver (frames the kernel hands over coalesced or with a
 * partial checksum) and the virtual wire (which plays the hardware, so that
 * the simulation never depends on a kernel cutting segments).
 *
 * Frames are IPv4 packets at l3 bytes into the frame (14 after an Ethernet
 * header, 0 on a bare-IP link). Every parse is bounds-checked; a frame that
 * is not what it should be is refused (TERN_ERR_INVAL), never read past. */
#ifndef TERN_GSO_H
#define TERN_GSO_H

#include <stddef.h>
#include <stdint.h>

/* Complete a partial checksum (virtio-net NEEDS_CSUM): the 16-bit field at
 * start + offset holds the pseudo-header sum (or 0); sum from start to the
 * end of the frame and store the complement there. */
int tern_gso_csum_complete(uint8_t *frame, size_t len, size_t start, size_t offset);

/* Finish the checksums of an IPv4 frame as hardware would: the IPv4 header
 * checksum when ip is set, the TCP/UDP/ICMP one when l4 is set (its field
 * holding the partial sum of netif.h's TERN_OFFLOAD_TX_L4_CSUM). */
int tern_gso_csum_finish(uint8_t *frame, size_t len, size_t l3, int ip, int l4);

/* 1 when the IPv4 header checksum and the TCP/UDP/ICMP checksum of the frame
 * are right (a UDP checksum of 0 is "none"), 0 otherwise. */
int tern_gso_csum_ok(const uint8_t *frame, size_t len, size_t l3);

/* Cut a TCP/IPv4 frame into segments of at most mss payload bytes (netif.h,
 * TERN_OFFLOAD_TX_TSO: headers copied, sequence numbers advanced, IP
 * identification incremented, PSH and FIN on the last segment only, CWR on
 * the first only, every checksum computed) and hand each to emit. A frame
 * whose payload fits one segment is emitted once, checksums computed.
 * Each segment is built in out (out_cap bytes: headers plus mss at least).
 * Returns the number emitted, TERN_ERR_INVAL for a frame that is not TCP
 * over IPv4 (or an mss of 0), or the first error emit returned. */
typedef int (*tern_gso_emit_fn)(void *ctx, const uint8_t *frame, size_t len);
int tern_gso_segment(const uint8_t *frame, size_t len, size_t l3, unsigned mss, uint8_t *out, size_t out_cap,
                     tern_gso_emit_fn emit, void *ctx);

#endif
