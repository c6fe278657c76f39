/* TCP (RFC 9293) and the raw TCP API. Placeholder: the TCP work fills it. */
#ifndef TERN_TCP_H
#define TERN_TCP_H

#include <stdint.h>

struct tern_tcp_pcb;

/* TCP state in struct tern_stack. */
typedef struct tern_tcp {
    struct tern_tcp_pcb *pcbs;
} tern_tcp_t;

#endif
