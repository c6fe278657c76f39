/* A minimal TAP network interface for Debian's liblwip (2.1.3, NO_SYS=0,
 * LWIP_TCPIP_CORE_LOCKING=1), used instead of the library's tapif.
 *
 * Why not tapif: under bulk TCP receive it corrupts its heap (frames are read
 * into PBUF_POOL chains and overflow them; valgrind shows invalid writes).
 * This one reads each frame straight into a single PBUF_RAM pbuf sized for a
 * whole frame, then feeds ethernet_input() with the core lock held, a batch
 * of frames per lock (the LOCK_TCPIP_CORE model, as tern's posix runner). */
#ifndef BENCH_TAPIF_RAM_H
#define BENCH_TAPIF_RAM_H

#include <pthread.h>
#include <stdint.h>
#include "lwip/netif.h"

typedef struct tapif_ram {
    struct netif netif;
    int fd;
    int stop_fd;          /* eventfd: wakes the reader to stop */
    pthread_t reader;
    int started;
    uint8_t mac[6];
    char ifname[16];
    /* written by the reader thread, read after it stopped */
    uint64_t rx_frames, rx_drops, tx_frames, tx_errors;
} tapif_ram_t;

/* Open TAP ifname (create if needed) and add it as the default lwIP netif
 * with addr/mask (network order), up. Call with the core lock held, after
 * tcpip_init. 0 or -1 (errno / message on stderr). */
int tapif_ram_open(tapif_ram_t *t, const char *ifname, const uint8_t mac[6], uint32_t addr_n, uint32_t mask_n);
/* Start the reader thread (without the core lock held). */
int tapif_ram_start(tapif_ram_t *t);
/* Stop and join the reader (without the core lock held); closes the fds. */
void tapif_ram_stop(tapif_ram_t *t);

#endif
