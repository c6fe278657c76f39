/* Crafted TCP segments and a listener fixture for the tests that play the
 * TCP peer themselves (FR_PEER_IP) through the capture driver.
 *
 * tseg_frame builds a whole Ethernet + IPv4 + TCP frame and checksums it
 * with frame_checksum over the RFC 9293 3.1 pseudo header, independently of
 * the stack. tcp_fixture_t is one stack with a listener on a port; its
 * callbacks only count, so a test sees what the stack told the
 * application. */
#ifndef TERN_TEST_TCPSEG_H
#define TERN_TEST_TCPSEG_H

#include <stddef.h>
#include <stdint.h>
#include "frames.h"
#include "tern/tcp.h"

/* One segment. Ports, window and flags are taken as given (0 is a valid
 * window); only the addresses have defaults. */
typedef struct tseg {
    tern_ip4_t src, dst;    /* 0: FR_PEER_IP, FR_OUR_IP */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint16_t urp;
    const uint8_t *opt;     /* a multiple of 4 bytes */
    size_t opt_len;
    const void *data;
    size_t len;
    const uint8_t *eth_dst; /* NULL: FR_OUR_MAC (the source is FR_PEER_MAC) */
} tseg_t;

/* The whole frame into out (FRAME_MAX bytes); returns its length. */
size_t tseg_frame(uint8_t *out, const tseg_t *s);
/* Shorthand: FR_PEER_IP to FR_OUR_IP, no urgent pointer. */
size_t tseg_peer(uint8_t *out, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                 uint16_t wnd, const uint8_t *opt, size_t opt_len, const void *data, size_t len);
/* Options a peer sends, written at o; they return their length (a
 * multiple of 4). NOP NOP TS(tsval, tsecr), RFC 7323 3.2: */
size_t tseg_opt_ts(uint8_t *o, uint32_t tsval, uint32_t tsecr);
/* NOP NOP SACK with n (left, right) edge pairs, RFC 2018 3: */
size_t tseg_opt_sack(uint8_t *o, const uint32_t *blocks, unsigned n);
/* A SYN's options: MSS 1460; NOP NOP SACK-permitted if sack; the
 * timestamps of tseg_opt_ts(tsval, 0) if ts; NOP window scale if wscale is
 * not negative. At most 24 bytes. */
size_t tseg_opt_syn(uint8_t *o, int sack, int ts, uint32_t tsval, int wscale);
/* Recompute the TCP checksum of a frame after a test edited the segment
 * (the pseudo header comes from the frame's own IPv4 header). */
void tseg_fix_checksum(uint8_t *frame, size_t n);
/* The TCP header of captured frame i (asserted IPv4 + TCP); *payload, if
 * not NULL, gets the length of the data after the header. */
const uint8_t *tseg_captured(const capnet_t *cn, unsigned i, uint32_t *payload);

/* ---- a stack with a listener ------------------------------------------ */

typedef struct tcp_fixture {
    net_fixture_t *f;
    tern_tcp_pcb_t *listener;
    tern_tcp_pcb_t *conn;   /* the last accepted; NULL after its error callback */
    int accepts, readable, errors, last_err, peer_closed;
    /* Bookkeeping for the tests that track the connection by hand. */
    uint32_t snd;           /* the peer's next sequence number (our RCV.NXT) */
    uint32_t rcv;           /* our next sequence number (the peer's RCV.NXT) */
    uint32_t iss;           /* our initial sequence number */
    uint32_t tsval;         /* the peer's timestamp clock */
    uint32_t our_ts;        /* the last TSval we sent */
} tcp_fixture_t;

/* Counting callbacks; arg is the tcp_fixture_t (usable for a tern_tcp_connect
 * of the test's own too). */
extern const tern_tcp_callbacks_t tcp_fixture_cbs;

/* net_fixture_new(seed), the peer in the ARP cache, a listener on port
 * (backlog 4), then the memory baseline. Heap-allocated. */
tcp_fixture_t *tcp_fixture_new(uint64_t seed, uint16_t port);
/* Abort the connection, let half-open children and TIME-WAIT time out
 * (400 s of virtual time), assert nothing is half-open, then
 * net_fixture_free (baseline and empty ledger checked) and free. */
void tcp_fixture_free(tcp_fixture_t *t);
/* tseg_peer fed to the fixture's stack at t->f->now. */
void tcp_fixture_rx(tcp_fixture_t *t, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                    uint16_t wnd, const uint8_t *opt, size_t opt_len, const void *data, size_t len);
/* tseg_captured on the fixture's interface. */
const uint8_t *tcp_fixture_cap(const tcp_fixture_t *t, unsigned i, uint32_t *payload);

#endif
