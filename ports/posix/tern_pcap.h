/* A pcap writer: the classic libpcap file format, readable by tcpdump and
 * Wireshark.
 *
 * File: a 24-byte global header (magic 0xa1b2c3d4, version 2.4, thiszone 0,
 * sigfigs 0, snaplen, LINKTYPE_ETHERNET = 1), then per frame a 16-byte
 * record header (ts_sec, ts_usec, incl_len, orig_len) and the frame bytes.
 * Fields are written little-endian; the magic tells a reader the byte order
 * and that timestamps are in microseconds.
 *
 * Timestamps come from the stack's millisecond time (the "now" the stack
 * passes to the capture hook) plus an epoch offset, so a virtual-wire run
 * gives the same file every time and a TAP run can show wall-clock times.
 *
 * Attach to any interface with tern_pcap_attach(): the stack then calls the
 * writer for every frame received on and sent by it, in order. Call with the
 * core lock held (the stack does). */
#ifndef TERN_PCAP_H
#define TERN_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "tern/netif.h"

#define TERN_PCAP_MAGIC 0xa1b2c3d4u
#define TERN_PCAP_LINKTYPE_ETHERNET 1u
#define TERN_PCAP_SNAPLEN 65535u

typedef struct tern_pcap {
    FILE *f;
    uint64_t epoch_ms;   /* added to the stack time for timestamps */
    uint32_t snaplen;    /* frames are cut to this many bytes */
    int flush_each;      /* 1: fflush after every frame (readable while running) */
    uint64_t frames;     /* records written */
    uint64_t bytes;      /* frame bytes written */
    uint64_t errors;     /* failed writes (disk full...) */
} tern_pcap_t;

/* Create path and write the global header. 0 or -1 (errno set). */
int tern_pcap_open(tern_pcap_t *pc, const char *path);
/* The same on an already open stream (a test's memory stream). */
int tern_pcap_open_stream(tern_pcap_t *pc, FILE *f);
/* One record: frame[0..len), time now_ms on the stack's clock. */
void tern_pcap_write(tern_pcap_t *pc, const uint8_t *frame, size_t len, uint32_t now_ms);
/* Hook the writer to an interface (both directions). */
void tern_pcap_attach(tern_pcap_t *pc, tern_netif_t *nif);
/* Unhook it (with the core lock held if the stack runs). */
void tern_pcap_detach(tern_pcap_t *pc, tern_netif_t *nif);
void tern_pcap_flush(tern_pcap_t *pc);
/* Flush and close; 0 or -1 if any write failed. */
int tern_pcap_close(tern_pcap_t *pc);

#endif
