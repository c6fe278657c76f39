/* Logging through the port and MAC text: utilities every layer may use.
 * A leaf: it needs only the public headers, and nothing of tern includes
 * anything below it. */
#ifndef TERN_UTIL_LOG_H
#define TERN_UTIL_LOG_H

#include <stddef.h>
#include <stdint.h>
#include "tern/stack.h"

/* Pass msg to the port's log hook, if it has one (level: TERN_LOG_*). */
void stack_log(const tern_stack_t *stack, int level, const char *msg);
/* "aa:bb:cc:dd:ee:ff" into out (18 bytes); returns 17. */
size_t stack_format_mac(char *out, const uint8_t mac[6]);

#endif
