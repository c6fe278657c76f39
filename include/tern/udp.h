/* UDP (RFC 768) and the raw UDP API. Placeholder: the UDP work fills it. */
#ifndef TERN_UDP_H
#define TERN_UDP_H

#include <stdint.h>
#include "tern/socket.h"

struct tern_udp_pcb;

/* UDP state in struct tern_stack. */
typedef struct tern_udp {
    struct tern_udp_pcb *pcbs; /* bound pcbs */
} tern_udp_t;

#endif
