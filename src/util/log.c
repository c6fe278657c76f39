/* Logging through the port and MAC text (the leaf utilities of util/log.h). */
#include "util/log.h"

void stack_log(const tern_stack_t *stack, int level, const char *msg)
{
    if (stack->port != NULL && stack->port->log != NULL)
        stack->port->log(stack->port->ctx, level, msg);
}

size_t stack_format_mac(char *out, const uint8_t mac[6])
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (unsigned i = 0; i < 6u; i++) {
        if (i != 0u)
            out[n++] = ':';
        out[n++] = hex[mac[i] >> 4];
        out[n++] = hex[mac[i] & 0x0Fu];
    }
    out[n] = '\0';
    return n;
}
