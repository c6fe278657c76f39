/* Millisecond deadlines across the wrap of the 32-bit clock (a leaf). */
#ifndef TERN_UTIL_TIME_H
#define TERN_UTIL_TIME_H

#include <stdint.h>

/* Time comparison across the 2^32 ms wrap: is deadline reached at now? */
static inline int net_time_reached(uint32_t now, uint32_t deadline)
{
    return (int32_t)(now - deadline) >= 0;
}

#endif
